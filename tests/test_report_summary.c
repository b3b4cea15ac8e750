/* tests/test_report_summary.c - report/summary and report/stats on a small synthetic
 * database with hand-computed values; CSV quoting read back with libcsv's parser; the SQL
 * views on a real run of scenarios/quickstart.yaml; dfusim report's exit codes. */
#include "report/stats.h"
#include "report/summary.h"
#include "cli_capture.h"
#include "sim/cli/cli.h"
#include "sim/error.h"
#include "sim/recorder.h"

#include <csv.h>
#include <math.h>
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

#define SRC    DFUSIM_SOURCE_DIR
#define ODD    "a,\"b\"\nc"       /* a group name with a comma, quotes and a newline */
#define T975_1 12.706204736174698 /* t(0.975, 1 degree of freedom) */
#define EPS    1e-9

static char db_path[256];

static void exec(sqlite3 *db, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

static void add_run(sqlite3 *db, int run, int seed, int replication, const char *status,
                    const char *bootloader)
{
    exec(db,
         "INSERT INTO runs (run_id, scenario_name, scenario_text, scenario_sha256,"
         " dfusim_version, schema_version, model, seed, replication, sweep_point, record_level,"
         " started_at, status) VALUES (%d, 't', '', '', 'x', 4, 'm', '%d', %d, 1, 'attempts',"
         " 'now', '%s')",
         run, seed, replication, status);
    exec(db,
         "INSERT INTO run_params VALUES (%d, 'seed', '%d'), (%d, 'devices.m.bootloader', '%s'),"
         " (%d, 'devices.m.firmware.app_start', '500ms')",
         run, seed, run, bootloader, run);
    exec(db,
         "INSERT INTO device_groups VALUES (%d, 0, 'm', 4, 'b', '%s'), (%d, 1, '%s', 1,"
         " 'b', 'swap-move')",
         run, bootloader, run, ODD);
}

/* Device dev of group m: first attempt at 10 s with an upload of 100,000 image bytes taking
 * upload_s from 11 s; updated at updated_s (0: it failed, attempt ends at 45 s) after a
 * 3.5 s outage and a 3 s swap. resent_kB: bytes sent again in the upload (goodput must not
 * count them). second_at > 0: the first attempt fails at 20 s and a second one, without
 * upload, starts at second_at and ends at updated_s. Wear: primary 10, secondary 5. */
static void add_device(sqlite3 *db, int run, int dev, double upload_s, double updated_s,
                       double resent_kB, double second_at)
{
    const double s = 1e9;
    bool ok = updated_s > 0;
    double end = ok ? updated_s : 45;
    char updated_ns[32] = "NULL";
    if (ok)
        snprintf(updated_ns, sizeof(updated_ns), "%.0f", updated_s * s);
    double sent = 100000 + resent_kB * 1000;
    exec(db, "INSERT INTO devices VALUES (%d, %d, 0, NULL, '%s', %d, %.0f, %s, %.0f, %.0f, NULL)",
         run, dev, ok ? "updated" : "failed", second_at > 0 ? 2 : 1, 10 * s, updated_ns, sent,
         ok ? 3.5 * s : 0);
    exec(db,
         "INSERT INTO dfu_attempts (run_id, attempt_id, device_id, start_ns, upload_start_ns,"
         " upload_end_ns, end_ns, bytes_sent, bytes_resent, image_bytes, retries, outcome)"
         " VALUES (%d, %d, %d, %.0f, %.0f, %.0f, %.0f, %.0f, %.0f, 100000, %d, '%s')",
         run, dev * 64, dev, 10 * s, 11 * s, (11 + upload_s) * s, second_at > 0 ? 20 * s : end * s,
         sent, resent_kB * 1000, resent_kB > 0 ? 3 : 0,
         ok && second_at == 0 ? "updated" : "failed");
    if (second_at > 0)
        exec(db,
             "INSERT INTO dfu_attempts (run_id, attempt_id, device_id, start_ns, end_ns,"
             " bytes_sent, bytes_resent, image_bytes, retries, outcome) VALUES (%d, %d, %d,"
             " %.0f, %.0f, 0, 0, 0, 0, 'updated')",
             run, dev * 64 + 1, dev, second_at * s, end * s);
    if (ok)
        exec(db,
             "INSERT INTO swaps VALUES (%d, %d, %d, 'swap-move', %.0f, %.0f, 0, 0, 0, 'swapped')",
             run, dev * 64, dev, (end - 5) * s, (end - 2) * s);
    exec(db,
         "INSERT INTO device_wear VALUES (%d, %d, 'primary', 10, 0, 10), (%d, %d,"
         " 'secondary', 5, 0, 5)",
         run, dev, run, dev);
}

static int make_db(void **state)
{
    (void)state;
    snprintf(db_path, sizeof(db_path), "%s/test_report_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    struct recorder *rec = NULL;
    struct sim_diag diag;
    sim_diag_init(&diag);
    assert_int_equal(recorder_open(db_path, &rec, &diag), 0);
    recorder_close(rec);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    exec(db, "BEGIN");
    /* Point A (swap-move): runs 1 and 2, seeds 1 and 2. Point B (direct-xip): run 3. Run 4
     * is still 'running' and must be left out. Group 1 (the odd name) has device 9. */
    add_run(db, 1, 1, 0, "complete", "swap-move");
    add_run(db, 2, 2, 1, "complete", "swap-move");
    add_run(db, 3, 1, 0, "complete", "direct-xip");
    add_run(db, 4, 3, 2, "running", "swap-move");
    static const double run1[4][2] = {{1, 20}, {2, 30}, {4, 40}, {5, 0}};
    static const double run2[4][2] = {{1, 20}, {1, 25}, {2, 30}, {4, 50}};
    for (int d = 0; d < 4; d++) {
        add_device(db, 1, d, run1[d][0], run1[d][1], d == 0 ? 50 : 0, 0);
        add_device(db, 2, d, run2[d][0], run2[d][1], 0, d == 3 ? 30 : 0);
        add_device(db, 3, d, 1, 20, 0, 0);
        add_device(db, 4, d, 9, 0, 0, 0);
    }
    /* First chunks (chunks.seq 0 at offset 0), answered after: run 1, devices 0-3: 1, 2, 3
     * and 4 s, so the longest is 4 s; device 1's second request waits 100 s and device 2's
     * second attempt's first request is never answered (neither counts). Run 2, device 0
     * alone: 2 s. Run 3 (direct-xip) records no chunks. */
    for (int d = 0; d < 4; d++)
        exec(db, "INSERT INTO chunks VALUES (1, %d, %d, 0, 0, 2406, 11000000000, %.0f, 0)", d * 64,
             d, (12.0 + d) * 1e9);
    exec(db, "INSERT INTO chunks VALUES (1, 64, 1, 1, 2406, 2451, 13000000000,"
             " 113000000000, 0)");
    exec(db, "INSERT INTO chunks VALUES (1, 129, 2, 0, 0, 2406, 30000000000, NULL, NULL)");
    exec(db, "INSERT INTO chunks VALUES (2, 0, 0, 0, 0, 2406, 11000000000, 13000000000, 0)");
    for (int r = 1; r <= 4; r++)
        exec(db,
             "INSERT INTO devices VALUES (%d, 9, 1, NULL, 'updated', 0, 10000000000,"
             " 60000000000, 0, 0, NULL)",
             r);
    exec(db, "COMMIT");
    sqlite3_close(db);
    return 0;
}

static int remove_db(void **state)
{
    (void)state;
    unlink(db_path);
    return 0;
}

/* ---- stats: type-7 quantiles and t half-widths, by hand ---- */
static void test_stats_hand_values(void **state)
{
    (void)state;
    /* x = 100, 20, 50, 25 -> sorted 20 25 50 100. mean 195/4 = 48.75.
     * type 7: median h = 3 * 0.5 = 1.5 -> 25 + 0.5 * 25 = 37.5;
     * p5 h = 0.15 -> 20 + 0.15 * 5 = 20.75; p95 h = 2.85 -> 50 + 0.85 * 50 = 92.5. */
    double x[] = {100, 20, 50, 25};
    struct report_stats s;
    report_stats_describe(x, 4, &s);
    assert_true(fabs(s.mean - 48.75) < EPS);
    assert_true(fabs(s.median - 37.5) < EPS);
    assert_true(fabs(s.p5 - 20.75) < EPS);
    assert_true(fabs(s.p95 - 92.5) < EPS);
    /* 1, 2, 3: sd = 1, t(0.975, 2) = 4.302652729749464, half = 4.3026527 / sqrt 3. */
    double y[] = {1, 2, 3};
    assert_true(fabs(report_stats_ci95_half(y, 3) - 4.302652729749464 / sqrt(3)) < 1e-9);
    /* one value gives no interval; no values give NAN everywhere */
    assert_true(isnan(report_stats_ci95_half(y, 1)));
    report_stats_describe(NULL, 0, &s);
    assert_true(isnan(s.mean) && isnan(s.median) && isnan(s.p95));
}

static const struct report_row *find_row(const struct report_summary *s, const char *bootloader,
                                         const char *group)
{
    for (size_t i = 0; i < s->n_rows; i++)
        if (strcmp(s->rows[i].group, group) == 0 && strstr(s->rows[i].point, bootloader) != NULL)
            return &s->rows[i];
    fail_msg("no row %s/%s", bootloader, group);
    return NULL;
}

static void near(double got, double want)
{
    if (!(fabs(got - want) < 1e-6))
        fail_msg("got %.12g, want %.12g", got, want);
}

/* ---- summary: per point, mean across replications and t half-width ---- */
static void test_summary_hand_values(void **state)
{
    (void)state;
    struct report_summary *s = NULL;
    char err[256];
    assert_int_equal(report_summary_load(db_path, NULL, &s, err, sizeof(err)), 0);
    assert_int_equal(s->n_points, 2);
    assert_int_equal(s->n_skipped_runs, 1);
    assert_int_equal(s->n_rows, 4);
    const struct report_row *a = find_row(s, "=swap-move", "m");
    assert_string_equal(a->point, "devices.m.bootloader=swap-move");
    assert_int_equal(a->n_runs, 2);
    /* Run 1 goodput kB/s 100, 50, 25, 20 (device 0 also resent 50 kB: not counted): mean
     * 48.75, median 37.5, p5 20.75, p95 92.5. Run 2: 100, 100, 50, 25 -> sorted 25 50 100
     * 100: mean 68.75, median h 1.5 -> 75, p5 h 0.15 -> 28.75, p95 h 2.85 -> 100. With two
     * runs the half-width is t(0.975, 1) * sd / sqrt 2 = t * |a - b| / 2. */
    near(a->mean[REPORT_GOODPUT_MEAN], 58.75);
    near(a->ci95[REPORT_GOODPUT_MEAN], T975_1 * 10);
    near(a->mean[REPORT_GOODPUT_MEDIAN], 56.25);
    near(a->ci95[REPORT_GOODPUT_MEDIAN], T975_1 * 18.75);
    near(a->mean[REPORT_GOODPUT_P5], 24.75);
    near(a->ci95[REPORT_GOODPUT_P5], T975_1 * 4);
    near(a->mean[REPORT_GOODPUT_P95], 96.25);
    /* updated 3 and 4, failed 1 and 0 */
    near(a->mean[REPORT_DEVICES], 4);
    near(a->ci95[REPORT_DEVICES], 0);
    near(a->mean[REPORT_UPDATED], 3.5);
    near(a->ci95[REPORT_UPDATED], T975_1 * 0.5);
    near(a->mean[REPORT_FAILED], 0.5);
    /* time to updated, per device from its first attempt (10 s): run 1 10 20 30 -> 20;
     * run 2 10 15 20 40 -> 21.25 (device 3 needed a second attempt); mean 20.625, half
     * t * 0.625. Median: 20 and 17.5. */
    near(a->mean[REPORT_TTU_MEAN], 20.625);
    near(a->ci95[REPORT_TTU_MEAN], T975_1 * 0.625);
    near(a->mean[REPORT_TTU_MEDIAN], 18.75);
    /* per successful attempt: run 1 10 20 30 -> 20; run 2 10 15 20 and 50 - 30 = 20 ->
     * 16.25: the second attempt alone looks shorter than the device's wait */
    near(a->mean[REPORT_ATTEMPT_MEAN], (20 + 16.25) / 2);
    /* attempts per device 1 and 1.25; kB sent 112.5 and 100; resent 12.5 and 0; retried
     * requests 0.75 and 0 */
    near(a->mean[REPORT_ATTEMPTS_MEAN], 1.125);
    near(a->mean[REPORT_SENT_KB], 106.25);
    near(a->mean[REPORT_RESENT_KB], 6.25);
    near(a->mean[REPORT_RETRIES], 0.375);
    /* downtime per device: run 1 3.5 3.5 3.5 0 -> 2.625, p95 3.5; run 2 3.5 */
    near(a->mean[REPORT_DOWNTIME_MEAN], (2.625 + 3.5) / 2);
    near(a->mean[REPORT_DOWNTIME_P95], 3.5);
    near(a->mean[REPORT_SWAP_MEAN], 3);
    /* longest first chunk: 4 s and 2 s */
    near(a->mean[REPORT_FIRST_CHUNK_MAX], 3);
    near(a->ci95[REPORT_FIRST_CHUNK_MAX], T975_1 * 1);
    /* erases: 4 devices x 10 primary over 3 and over 4 swaps: 13.333 and 10 */
    near(a->mean[REPORT_ERASES_PRIMARY], (40.0 / 3 + 10) / 2);
    near(a->ci95[REPORT_ERASES_PRIMARY], T975_1 * (40.0 / 3 - 10) / 2);
    near(a->mean[REPORT_ERASES_SECONDARY], (20.0 / 3 + 5) / 2);
    /* milestones from the first attempt start (10 s): t50 = 2nd update: 20 and 15 s.
     * Run 1 never gets 90 % (3 of 4), so t90, t95 and t100 are NAN for the point. */
    near(a->mean[REPORT_T50], 17.5);
    near(a->ci95[REPORT_T50], T975_1 * 2.5);
    assert_true(isnan(a->mean[REPORT_T90]) && isnan(a->mean[REPORT_T95]) &&
                isnan(a->mean[REPORT_T100]));

    const struct report_row *b = find_row(s, "=direct-xip", "m");
    assert_int_equal(b->n_runs, 1);
    near(b->mean[REPORT_GOODPUT_MEAN], 100);
    assert_true(isnan(b->ci95[REPORT_GOODPUT_MEAN])); /* one run: no interval */
    near(b->mean[REPORT_T100], 10);
    assert_true(isnan(b->mean[REPORT_FIRST_CHUNK_MAX])); /* no chunks recorded */

    const struct report_row *odd = find_row(s, "=swap-move", ODD);
    near(odd->mean[REPORT_UPDATED], 1);
    near(odd->mean[REPORT_T100], 50); /* 60 s from the run's first attempt at 10 s */
    assert_true(isnan(odd->mean[REPORT_GOODPUT_MEAN]));
    report_summary_free(s);

    assert_int_equal(report_summary_load(db_path, "m", &s, err, sizeof(err)), 0);
    assert_int_equal(s->n_rows, 2);
    report_summary_free(s);
    assert_int_equal(report_summary_load(db_path, "nope", &s, err, sizeof(err)), REPORT_ENOENT);
    assert_null(s);
    assert_non_null(strstr(err, "no device group named 'nope'"));
}

/* ---- CSV: header with units; an odd group name round-trips through libcsv ---- */
struct csv_read {
    size_t row, col;
    char fields[4][64][128]; /* rows x columns */
    size_t n_cols[4];
};

static void on_field(void *s, size_t n, void *data)
{
    struct csv_read *r = data;
    if (r->row < 4 && r->col < 64 && n < 128) {
        memcpy(r->fields[r->row][r->col], s, n);
        r->fields[r->row][r->col][n] = '\0';
    }
    r->col++;
}

static void on_row(int c, void *data)
{
    (void)c;
    struct csv_read *r = data;
    if (r->row < 4)
        r->n_cols[r->row] = r->col;
    r->row++;
    r->col = 0;
}

static void test_csv_round_trip(void **state)
{
    (void)state;
    struct report_summary *s = NULL;
    char err[256];
    assert_int_equal(report_summary_load(db_path, NULL, &s, err, sizeof(err)), 0);
    char buf[16384];
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    assert_int_equal(report_summary_write_csv(s, f), 0);
    fclose(f);
    report_summary_free(s);

    struct csv_parser p;
    assert_int_equal(csv_init(&p, CSV_STRICT), 0);
    static struct csv_read r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(csv_parse(&p, buf, strlen(buf), on_field, on_row, &r), strlen(buf));
    assert_int_equal(csv_fini(&p, on_field, on_row, &r), 0);
    csv_free(&p);
    assert_int_equal(r.row, 5); /* header + 4 rows */
    /* tidy: point number, one column per swept key, group, board, bootloader, runs */
    assert_int_equal(r.n_cols[0], 6 + 2 * REPORT_METRIC_COUNT);
    assert_int_equal(r.n_cols[1], r.n_cols[0]);
    assert_string_equal(r.fields[0][0], "point");
    assert_string_equal(r.fields[0][1], "devices.m.bootloader");
    assert_string_equal(r.fields[0][2], "group");
    assert_string_equal(r.fields[0][6], "devices");
    assert_string_equal(r.fields[0][6 + 2 * REPORT_GOODPUT_MEAN], "goodput_kBps_mean");
    assert_string_equal(r.fields[0][7 + 2 * REPORT_GOODPUT_MEAN], "goodput_kBps_mean_ci95");
    assert_string_equal(r.fields[1][0], "1");
    assert_string_equal(r.fields[1][1], "swap-move");
    assert_string_equal(r.fields[1][2], "m");
    assert_string_equal(r.fields[2][2], ODD);
    assert_string_equal(r.fields[3][0], "2");
    assert_string_equal(r.fields[3][1], "direct-xip");
    assert_string_equal(r.fields[1][5], "2"); /* runs */
    assert_string_equal(r.fields[1][6 + 2 * REPORT_GOODPUT_MEAN], "58.75");
    assert_string_equal(r.fields[2][6 + 2 * REPORT_GOODPUT_MEAN], ""); /* NAN: empty */
    /* numbers are not quoted: the raw text of the first data line starts with 1,"swap-move" */
    assert_non_null(strstr(buf, "\n1,\"swap-move\",\"m\",\"b\",\"swap-move\",2,4,0,"));
}

/* ---- errors: missing file, not a database, other schema version ---- */
static void test_load_errors(void **state)
{
    (void)state;
    struct report_summary *s = NULL;
    char err[256];
    assert_int_equal(report_summary_load("/nonexistent/x.db", NULL, &s, err, sizeof(err)),
                     REPORT_ENOENT);
    assert_non_null(strstr(err, "no such file"));
    assert_int_equal(report_summary_load(SRC "/README.md", NULL, &s, err, sizeof(err)),
                     REPORT_EFORMAT);
    assert_non_null(strstr(err, "not a dfusim results database"));
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    sqlite3_close(db);
    assert_int_equal(report_summary_load(db_path, NULL, &s, err, sizeof(err)), REPORT_EFORMAT);
    assert_non_null(strstr(err, "schema version 99"));
    assert_null(s);
    /* the reader follows the recorder: a schema bump must be looked at here too */
    assert_int_equal(REPORT_SCHEMA_MAX, RECORDER_SCHEMA_VERSION);
}

/* ---- CLI: dfusim report exit codes and output ---- */
static char out_text[1 << 16], err_text[1 << 14];

static int run_cli(int argc, const char **argv)
{
    return cli_capture(argc, argv, out_text, sizeof(out_text), err_text, sizeof(err_text));
}

static void test_cli_report(void **state)
{
    (void)state;
    char csv[300];
    snprintf(csv, sizeof(csv), "%s.csv", db_path);
    const char *ok[] = {"dfusim", "report", db_path, "--csv", csv};
    assert_int_equal(run_cli(5, ok), SIM_EXIT_OK);
    assert_non_null(strstr(out_text, "point 1: devices.m.bootloader=swap-move (2 runs)"));
    assert_non_null(strstr(out_text, "58.75 ±127.06")); /* goodput mean ± t * 10 */
    assert_non_null(strstr(out_text, "1 run not complete"));
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    char line[64] = "";
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    unlink(csv);
    assert_int_equal(strncmp(line, "\"point\",\"devices.m.bootloader\",\"group\"", 38), 0);
    /* --json -: JSON alone on stdout, read back by jq (Debian jq, an independent parser) */
    char json[300], cmd[700];
    snprintf(json, sizeof(json), "%s.json", db_path);
    const char *js[] = {"dfusim", "report", db_path, "--json", "-"};
    assert_int_equal(run_cli(5, js), SIM_EXIT_OK);
    assert_null(strstr(out_text, "mean ±95 % CI")); /* no table in the way */
    f = fopen(json, "w");
    assert_non_null(f);
    fputs(out_text, f);
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "jq -e '.schema == 5 and (.rows | length) == 4 and .rows[0].point == 1 and"
             " .rows[0].swept[\"devices.m.bootloader\"] == \"swap-move\" and"
             " .rows[0].goodput_kBps_mean == 58.75 and .rows[1].goodput_kBps_mean == null and"
             " .rows[0].time_to_updated_s_mean == 20.625' '%s' >/dev/null",
             json);
    assert_int_equal(system(cmd), 0);
    unlink(json);

    const char *help[] = {"dfusim", "report", "--help"};
    assert_int_equal(run_cli(3, help), SIM_EXIT_OK);
    assert_non_null(strstr(out_text, "Usage: dfusim report DB"));
    const char *none[] = {"dfusim", "report"};
    assert_int_equal(run_cli(2, none), SIM_EXIT_USAGE);
    const char *missing[] = {"dfusim", "report", "/nonexistent/x.db"};
    assert_int_equal(run_cli(3, missing), SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "/nonexistent/x.db: no such file"));
    const char *notdb[] = {"dfusim", "report", SRC "/README.md"};
    assert_int_equal(run_cli(3, notdb), SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "not a dfusim results database"));
    const char *badopt[] = {"dfusim", "report", db_path, "--bogus"};
    assert_int_equal(run_cli(4, badopt), SIM_EXIT_USAGE);
    const char *badcsv[] = {"dfusim", "report", db_path, "--csv", "/nonexistent/dir/x.csv"};
    assert_int_equal(run_cli(5, badcsv), SIM_EXIT_USAGE);
}

/* ---- views on a real run of scenarios/quickstart.yaml ---- */
static void test_views_on_quickstart(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/test_report_q_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    const char *run[] = {"dfusim", "run", SRC "/scenarios/quickstart.yaml", "-q", "-o", path};
    assert_int_equal(run_cli(6, run), SIM_EXIT_OK);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    /* v_mode_summary agrees with the tables it summarises, group by group */
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT v.group_name, v.bootloader, v.devices, v.updated, g.count,"
                           " (SELECT count(*) FROM devices d WHERE d.run_id = v.run_id AND"
                           " d.group_id = g.group_id AND d.state = 'updated'),"
                           " v.goodput_kBps_mean, v.time_to_updated_s_mean, v.swap_s_mean"
                           " FROM v_mode_summary v JOIN device_groups g ON g.run_id = v.run_id"
                           " AND g.name = v.group_name ORDER BY g.group_id",
                           -1, &st, NULL),
        SQLITE_OK);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        rows++;
        assert_int_equal(sqlite3_column_int(st, 2), sqlite3_column_int(st, 4));
        assert_int_equal(sqlite3_column_int(st, 3), sqlite3_column_int(st, 5));
        assert_true(sqlite3_column_double(st, 6) > 1); /* kB/s over BLE: tens */
        assert_true(sqlite3_column_double(st, 6) < 300);
        assert_true(sqlite3_column_double(st, 7) > sqlite3_column_double(st, 8));
    }
    sqlite3_finalize(st);
    assert_int_equal(rows, 2);
    /* v_fleet_progress: the last device of each group is at 100 % */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_name, max(percent_updated), count(*)"
                                        " FROM v_fleet_progress GROUP BY group_name",
                                        -1, &st, NULL),
                     SQLITE_OK);
    rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        rows++;
        near(sqlite3_column_double(st, 1), 100);
    }
    sqlite3_finalize(st);
    assert_int_equal(rows, 2);
    /* v_attempts: one row per attempt, with its group */
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT (SELECT count(*) FROM v_attempts"
                           " WHERE group_name IS NOT NULL AND bootloader IS NOT NULL"
                           " AND goodput_kBps > 0), (SELECT count(*) FROM dfu_attempts)",
                           -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_true(sqlite3_column_int(st, 1) > 0);
    assert_int_equal(sqlite3_column_int(st, 0), sqlite3_column_int(st, 1));
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* and dfusim report reads the real database */
    const char *rep[] = {"dfusim", "report", path};
    assert_int_equal(run_cli(3, rep), SIM_EXIT_OK);
    assert_non_null(strstr(out_text, "mice"));
    assert_non_null(strstr(out_text, "direct-xip-revert"));
    /* --plot draws the plots of the real database: an SVG document, and by group a PNG */
    char svg[330], png[330];
    snprintf(svg, sizeof(svg), "%s.svg", path);
    snprintf(png, sizeof(png), "%s.png", path);
    const char *plot[] = {"dfusim", "report", path, "--plot", svg};
    assert_int_equal(run_cli(5, plot), SIM_EXIT_OK);
    const char *plot_png[] = {"dfusim", "report", path,      "--plot", png,
                              "--by",   "group",  "--point", "1"};
    assert_int_equal(run_cli(9, plot_png), SIM_EXIT_OK);
    char head[16] = "";
    FILE *f = fopen(svg, "rb");
    assert_non_null(f);
    assert_int_equal(fread(head, 1, 5, f), 5);
    fclose(f);
    assert_true(strncmp(head, "<?xml", 5) == 0 || strncmp(head, "<svg", 4) == 0);
    f = fopen(png, "rb");
    assert_non_null(f);
    assert_int_equal(fread(head, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(head, "\x89PNG\r\n\x1a\n", 8);
    const char *bad_by[] = {"dfusim", "report", path, "--plot", svg, "--by", "color"};
    assert_int_equal(run_cli(7, bad_by), SIM_EXIT_USAGE);
    const char *no_point[] = {"dfusim", "report", path, "--plot", svg, "--point", "9"};
    assert_int_equal(run_cli(7, no_point), SIM_EXIT_USAGE); /* nothing to plot there */
    unlink(svg);
    unlink(png);
    unlink(path);
    char side[320];
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_hand_values),   cmocka_unit_test(test_summary_hand_values),
        cmocka_unit_test(test_csv_round_trip),      cmocka_unit_test(test_cli_report),
        cmocka_unit_test(test_load_errors), /* last: it changes the schema version */
        cmocka_unit_test(test_views_on_quickstart),
    };
    return cmocka_run_group_tests(tests, make_db, remove_db);
}
