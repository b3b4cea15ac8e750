/* tests/test_result_invariants.c - the invariants of report/invariants.h hold in the results
 * of every shipped scenario (scenarios/ and its folders, the speed benchmarks in
 * scenarios/bench aside), each run to completion; and a deliberately broken row makes the
 * check fail with that row named (EVIDENCE-OF issue 12, "Attribution"). */
#include "report/invariants.h"
#include "cli_capture.h"
#include "sim/cli/cli.h"
#include "sim/error.h"

#include <glob.h>
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

static char out_text[1 << 16], err_text[1 << 16];

static int run_cli(int argc, const char **argv)
{
    return cli_capture(argc, argv, out_text, sizeof(out_text), err_text, sizeof(err_text));
}

/* Runs scenario into db; fails the test unless the run completes. */
static void run_scenario(const char *scenario, const char *db)
{
    const char *argv[] = {"dfusim", "run", scenario, "-q", "-o", db};
    int code = run_cli(6, argv);
    if (code != SIM_EXIT_OK)
        fail_msg("%s: exit %d: %s", scenario, code, err_text);
}

/* Violations in db, their lines in text. */
static long violations(const char *db_path, char *text, size_t n)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    FILE *f = fmemopen(text, n, "w");
    long bad = report_invariants_check(db, f, 20);
    fclose(f);
    sqlite3_close(db);
    return bad;
}

static void every_shipped_scenario_keeps_the_invariants(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob(SRC "/scenarios/*.yaml", 0, NULL, &g), 0);
    assert_int_equal(glob(SRC "/scenarios/*/*.yaml", GLOB_APPEND, NULL, &g), 0);
    char db[512], text[8192];
    snprintf(db, sizeof(db), "%s/test_invariants_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    size_t n = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        if (strstr(path, "/scenarios/bench/") != NULL)
            continue; /* speed runs of 10^5 devices: bench/README.md */
        run_scenario(path, db);
        long bad = violations(db, text, sizeof(text));
        print_message("%-55s %ld violations\n", path + strlen(SRC) + 1, bad);
        if (bad != 0)
            fail_msg("%s:\n%s", path, text);
        n++;
    }
    globfree(&g);
    unlink(db);
    assert_true(n >= 20); /* fleet, regression, throughput and the examples */
}

/* One corruption and the words its violation line must contain. */
static const struct {
    const char *name, *sql, *want1, *want2;
} broken[] = {
    {"an outage that ends before it begins",
     "UPDATE outages SET up_ns = down_ns - 1 WHERE rowid = 1",
     "durations not negative: outages run 1 device", "< down_ns="},
    {"an upload faster than the radio",
     "UPDATE dfu_attempts SET upload_end_ns = upload_start_ns + 1000000 WHERE rowid = 1",
     "goodput within the link's physical bound: dfu_attempts run 1 attempt", "> bound"},
    {"a swap charged to a later attempt",
     "UPDATE swaps SET attempt_id = attempt_id + 1 WHERE rowid = (SELECT s.rowid FROM swaps s"
     " JOIN devices d USING (run_id, device_id) WHERE d.attempts > 1 LIMIT 1)",
     "records belong to their attempt: swaps run 1 device", "attempt_id="},
    {"a device whose bytes do not add up",
     "UPDATE devices SET bytes_sent = bytes_sent + 1 WHERE device_id = 3",
     "device totals agree with attempts and outages: devices run 1 device 3", "bytes_sent"},
    {"attempt phases out of order",
     "UPDATE dfu_attempts SET reset_ns = upload_start_ns WHERE reset_ns IS NOT NULL AND rowid ="
     " (SELECT min(rowid) FROM dfu_attempts WHERE reset_ns IS NOT NULL)",
     "attempt times ordered: dfu_attempts run 1 attempt", "reset"},
    {"an updated device without its update time",
     "UPDATE devices SET updated_ns = NULL WHERE state = 'updated' AND device_id = 5",
     "updated devices have their update time: devices run 1 device 5", "updated_ns=NULL"},
};

static void a_broken_row_is_named(void **state)
{
    (void)state;
    char db[512], text[8192];
    snprintf(db, sizeof(db), "%s/test_invariants_broken_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    /* phones that leave: devices with several attempts, swaps, outages */
    run_scenario(SRC "/scenarios/fleet/phones-leave-mid-dfu.yaml", db);
    assert_int_equal(violations(db, text, sizeof(text)), 0);
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        sqlite3 *h = NULL;
        assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, broken[i].sql, NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_changes(h), 1);
        FILE *f = fmemopen(text, sizeof(text), "w");
        long bad = report_invariants_check(h, f, 20);
        fclose(f);
        assert_int_equal(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(h);
        print_message("%s:\n%s", broken[i].name, text);
        if (bad < 1 || strstr(text, broken[i].want1) == NULL ||
            strstr(text, broken[i].want2) == NULL)
            fail_msg("%s: %ld violations, want '%s' ... '%s' in:\n%s", broken[i].name, bad,
                     broken[i].want1, broken[i].want2, text);
    }
    unlink(db);
}

/* The most aggressive settings a scenario can give (fastest PHY and longest data length,
 * shortest interval, a wide window over a large net_buf pool, no packet cap, the fastest flash
 * timing and no radio slowdown) never make goodput exceed the link's physical bound; and
 * the bound is not vacuous: the fastest upload gets within a factor of 10 of it. */
static void no_upload_beats_the_physics(void **state)
{
    (void)state;
    static const char *const phys[][2] = {{"2M", "251"}, {"1M", "251"}, {"1M", "27"}};
    char yaml[512], db[512], text[8192];
    snprintf(yaml, sizeof(yaml), "%s/test_invariants_fast_%d.yaml", DFUSIM_BINARY_DIR,
             (int)getpid());
    snprintf(db, sizeof(db), "%s/test_invariants_fast_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    for (size_t i = 0; i < sizeof(phys) / sizeof(phys[0]); i++) {
        FILE *f = fopen(yaml, "w");
        assert_non_null(f);
        fprintf(f,
                "name: fast\nimage: { size: 256KiB, version: 2.0.0, installed: 1.0.0 }\n"
                "client: { kind: device-manager-android, window: 8, packets_per_event: 1000 }\n"
                "devices:\n  - group: g\n    count: 2\n    board: nrf54l15dk\n"
                "    bootloader: direct-xip-revert\n"
                "    link: { phy: %s, dle: %s, mtu: 498, interval: 7.5ms }\n"
                "    flash: { timing: typical, ble_slowdown: 1 }\n"
                "    firmware: { netbuf: { count: 12, cpu_per_request: 0s } }\n",
                phys[i][0], phys[i][1]);
        fclose(f);
        run_scenario(yaml, db);
        long bad = violations(db, text, sizeof(text));
        if (bad != 0)
            fail_msg("%s PHY, data length %s:\n%s", phys[i][0], phys[i][1], text);
        sqlite3 *h = NULL;
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(
            sqlite3_prepare_v2(h, "SELECT max(goodput_kBps) FROM v_attempts", -1, &st, NULL),
            SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        double kbps = sqlite3_column_double(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(h);
        double dle = atof(phys[i][1]), rate = phys[i][0][0] == '2' ? 250000.0 : 125000.0;
        double over = phys[i][0][0] == '2' ? 11 : 10;
        double bound = dle / ((dle + over) / rate + 300e-6 + over / rate) / 1000;
        print_message("%s PHY, data length %s: fastest goodput %.1f kB/s, bound %.1f kB/s\n",
                      phys[i][0], phys[i][1], kbps, bound);
        assert_true(kbps > 0 && kbps <= bound && kbps > bound / 10);
    }
    unlink(yaml);
    unlink(db);
}

/* dfusim report DB --invariants: exit 0 on a good database, 1 with the row named on a
 * broken one. */
static void report_invariants_exit_codes(void **state)
{
    (void)state;
    char db[512];
    snprintf(db, sizeof(db), "%s/test_invariants_cli_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    run_scenario(SRC "/scenarios/quickstart.yaml", db);
    const char *argv[] = {"dfusim", "report", db, "--invariants"};
    assert_int_equal(run_cli(4, argv), SIM_EXIT_OK);
    assert_non_null(strstr(out_text, ": 0 invariant violations"));
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(h, "UPDATE swaps SET end_ns = start_ns - 5 WHERE rowid = 1", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(run_cli(4, argv), SIM_EXIT_REGRESSION);
    assert_non_null(strstr(out_text, "durations not negative: swaps run 1 device"));
    assert_non_null(strstr(out_text, ": 1 invariant violation\n"));
    unlink(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_shipped_scenario_keeps_the_invariants),
        cmocka_unit_test(a_broken_row_is_named),
        cmocka_unit_test(report_invariants_exit_codes),
        cmocka_unit_test(no_upload_beats_the_physics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
