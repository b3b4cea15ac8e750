/* tests/test_report_export.c - dfusim export (report/export): any table or view of a real
 * results database (scenarios/quickstart.yaml), filtered, as tidy CSV read back with
 * libcsv and as JSON read back by jq; unknown tables and bad expressions are bad input. */
#include "report/export.h"
#include "cli_capture.h"
#include "sim/cli/cli.h"
#include "sim/error.h"

#include <csv.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define SRC DFUSIM_SOURCE_DIR

static char out_text[1 << 16], err_text[1 << 14], db_path[300];

static int run_cli(int argc, const char **argv)
{
    return cli_capture(argc, argv, out_text, sizeof(out_text), err_text, sizeof(err_text));
}

static int setup(void **state)
{
    (void)state;
    snprintf(db_path, sizeof(db_path), "%s/test_export_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    const char *run[] = {"dfusim", "run", SRC "/scenarios/quickstart.yaml", "-q", "-o", db_path};
    return run_cli(6, run) == SIM_EXIT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    unlink(db_path);
    return 0;
}

struct table {
    size_t rows, col, n_cols;
    char cell[8][8][64];
};

static void on_field(void *s, size_t n, void *data)
{
    struct table *t = data;
    if (t->rows < 8 && t->col < 8 && n < 64) {
        memcpy(t->cell[t->rows][t->col], s, n);
        t->cell[t->rows][t->col][n] = '\0';
    }
    t->col++;
}

static void on_row(int c, void *data)
{
    (void)c;
    struct table *t = data;
    t->n_cols = t->col;
    t->col = 0;
    t->rows++;
}

static void parse(const char *text, struct table *t)
{
    struct csv_parser p;
    memset(t, 0, sizeof(*t));
    assert_int_equal(csv_init(&p, CSV_STRICT), 0);
    assert_int_equal(csv_parse(&p, text, strlen(text), on_field, on_row, t), strlen(text));
    assert_int_equal(csv_fini(&p, on_field, on_row, t), 0);
    csv_free(&p);
}

/* One value of the database, as text. */
static void query(const char *sql, char *buf, size_t n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void view_filtered_to_csv(void **state)
{
    (void)state;
    const char *argv[] = {"dfusim",    "export",
                          db_path,     "v_devices",
                          "--where",   "group_name = 'mice'",
                          "--columns", "device_id,group_name,time_to_updated_s,downtime_ns"};
    assert_int_equal(run_cli(8, argv), SIM_EXIT_OK);
    struct table t;
    parse(out_text, &t);
    assert_int_equal(t.rows, 3); /* header and the two mice */
    assert_int_equal(t.n_cols, 4);
    assert_string_equal(t.cell[0][2], "time_to_updated_s");
    assert_string_equal(t.cell[1][1], "mice");
    /* the numbers are the database's, unquoted */
    char want[64];
    query("SELECT (updated_ns - first_start_ns) / 1e9 FROM devices WHERE device_id = 0", want,
          sizeof(want));
    assert_true(strtod(t.cell[1][2], NULL) == strtod(want, NULL));
    assert_non_null(strstr(out_text, "\n0,\"mice\","));
}

static void table_to_json(void **state)
{
    (void)state;
    char json[330], cmd[800];
    snprintf(json, sizeof(json), "%s.json", db_path);
    const char *argv[] = {"dfusim", "export", db_path, "dfu_attempts", "--json", "-o", json};
    assert_int_equal(run_cli(7, argv), SIM_EXIT_OK);
    snprintf(cmd, sizeof(cmd),
             "jq -e 'length == 3 and all(.[]; .image_bytes == 393216 and .error == null"
             " and (.outcome | type) == \"string\")' '%s' >/dev/null",
             json);
    assert_int_equal(system(cmd), 0);
    unlink(json);
}

static void bad_input_is_exit_2(void **state)
{
    (void)state;
    const char *nope[] = {"dfusim", "export", db_path, "nope"};
    assert_int_equal(run_cli(4, nope), SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "no table or view named 'nope'"));
    const char *expr[] = {"dfusim", "export", db_path, "devices", "--where", "bogus = 1"};
    assert_int_equal(run_cli(6, expr), SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "no such column: bogus"));
    const char *two[] = {"dfusim", "export", db_path, "devices", "--where", "1; DROP TABLE runs"};
    assert_int_equal(run_cli(6, two), SIM_EXIT_USAGE);
    const char *list[] = {"dfusim", "export", db_path, "--list"};
    assert_int_equal(run_cli(4, list), SIM_EXIT_OK);
    assert_non_null(strstr(out_text, "view v_devices\n"));
    assert_non_null(strstr(out_text, "table outages\n"));
    const char *nodb[] = {"dfusim", "export", "/nonexistent/x.db", "devices"};
    assert_int_equal(run_cli(4, nodb), SIM_EXIT_USAGE);
}

/* dfusim run --json: the per-group summary of the runs just made, the rows of report */
static void run_writes_its_summary_as_json(void **state)
{
    (void)state;
    char db[330], json[330], cmd[800];
    snprintf(db, sizeof(db), "%s.run.db", db_path);
    snprintf(json, sizeof(json), "%s.run.json", db_path);
    const char *argv[] = {"dfusim", "run", SRC "/scenarios/quickstart.yaml", "-q", "-o", db,
                          "--json", json};
    assert_int_equal(run_cli(8, argv), SIM_EXIT_OK);
    snprintf(cmd, sizeof(cmd),
             "jq -e '(.rows | map(.group)) == [\"mice\", \"keyboards\"] and"
             " all(.rows[]; .updated == .devices and .time_to_updated_s_mean > 0)' '%s'"
             " >/dev/null",
             json);
    assert_int_equal(system(cmd), 0);
    /* --json never lands on the results database or the scenario (issue 13) */
    const char *onto_db[] = {"dfusim", "run", SRC "/scenarios/quickstart.yaml", "-q", "-o", db,
                             "--json", db};
    assert_int_equal(run_cli(8, onto_db), SIM_EXIT_USAGE);
    const char *onto_yaml[] = {"dfusim", "run",    SRC "/scenarios/quickstart.yaml", "-q", "-o",
                               db,       "--json", SRC "/scenarios/quickstart.yaml"};
    assert_int_equal(run_cli(8, onto_yaml), SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "it is the input"));
    unlink(db);
    unlink(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(view_filtered_to_csv),
        cmocka_unit_test(table_to_json),
        cmocka_unit_test(bad_input_is_exit_2),
        cmocka_unit_test(run_writes_its_summary_as_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
