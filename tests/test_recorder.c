/* tests/test_recorder.c - the SQLite recorder (sim/recorder): schema, levels, batching,
 * run status on every way a run can end. Each test opens the produced database with
 * SQLite and checks its rows. */
#include "sim/recorder.h"

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

#define DB_PATH "test_recorder.db"
static const char scenario_text[] = "abc"; /* SHA-256 known from FIPS 180-2 */

static const struct recorder_run run_info = {
    .scenario_name = "unit",
    .scenario_path = "unit.yaml",
    .scenario_text = scenario_text,
    .scenario_len = sizeof(scenario_text) - 1,
    .model = "test",
    .seed = 18446744073709551615ULL,
    .replication = 2,
    .level = RECORDER_ATTEMPTS,
};

static struct recorder *open_with_run(enum recorder_level level)
{
    struct recorder *rec = NULL;
    struct sim_diag diag;
    sim_diag_init(&diag);
    assert_int_equal(recorder_open(DB_PATH, &rec, &diag), 0);
    struct recorder_run info = run_info;
    info.level = level;
    int64_t run_id = 0;
    assert_int_equal(recorder_run_begin(rec, &info, &run_id), 0);
    assert_int_equal(run_id, 1);
    return rec;
}

/* Runs one query that returns a single value and returns it as text (static buffer). */
static const char *query(const char *sql)
{
    static char out[512];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(DB_PATH, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *v = sqlite3_column_text(st, 0);
    snprintf(out, sizeof(out), "%s", v ? (const char *)v : "NULL");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static const struct recorder_attempt attempt = {
    .attempt_id = 1,
    .device_id = 7,
    .gateway_id = RECORDER_NONE,
    .client = "device-manager-android",
    .start_ns = 1000,
    .connect_ns = 1500,
    .validate_ns = 1700,
    .upload_start_ns = 2000,
    .upload_end_ns = 3000,
    .test_ns = 3100,
    .reset_ns = RECORDER_NONE,
    .swap_start_ns = RECORDER_NONE,
    .swap_end_ns = RECORDER_NONE,
    .reconnect_ns = RECORDER_NONE,
    .confirm_ns = RECORDER_NONE,
    .end_ns = 4000,
    .bytes_sent = 393216,
    .bytes_resent = 4096,
    .image_bytes = 389120,
    .chunks = 800,
    .retries = 0,
    .retransmissions = 3,
    .outcome = "failed",
    .error = "rc 11",
};

/* A complete run stores its identity, the scenario's SHA-256 and status 'complete'. */
static void complete_run_has_identity_and_status(void **state)
{
    (void)state;
    struct recorder *rec = open_with_run(RECORDER_ATTEMPTS);
    assert_int_equal(recorder_param(rec, "seed", "1"), 0);
    assert_int_equal(recorder_run_end(rec, RECORDER_COMPLETE, NULL, 5000, 42), 0);
    recorder_close(rec);

    assert_string_equal(query("select status from runs"), "complete");
    assert_string_equal(query("select scenario_sha256 from runs"),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(query("select seed from runs"), "18446744073709551615");
    assert_string_equal(query("select scenario_text from runs"), "abc");
    assert_string_equal(query("select sim_end_ns || '/' || events from runs"), "5000/42");
    assert_string_equal(query("select schema_version from runs"), "5");
    assert_string_equal(query("select value from meta where key = 'schema_version'"), "5");
    assert_string_equal(query("select ended_at >= started_at from runs"), "1");
    assert_string_equal(query("select value from run_params where key = 'seed'"), "1");
}

/* NULL columns stay NULL; every value lands in its own column. */
static void attempt_row_round_trips(void **state)
{
    (void)state;
    struct recorder *rec = open_with_run(RECORDER_ATTEMPTS);
    const struct recorder_group g = {0, "g", "nrf52840dk", "swap-move", 8};
    const struct recorder_device d = {
        7, 0, RECORDER_NONE, "failed", 1, 1000, RECORDER_NONE, 393216, 0, "no accepted signature"};
    assert_int_equal(recorder_group_emit(rec, &g), 0);
    assert_int_equal(recorder_device_emit(rec, &d), 0);
    assert_int_equal(recorder_attempt_emit(rec, &attempt), 0);
    assert_int_equal(recorder_run_end(rec, RECORDER_COMPLETE, NULL, 0, 0), 0);
    recorder_close(rec);
    assert_string_equal(query("select device_id || ',' || start_ns || ',' || upload_start_ns"
                              " || ',' || upload_end_ns || ',' || end_ns || ',' || bytes_sent"
                              " || ',' || bytes_resent || ',' || image_bytes"
                              " || ',' || chunks || ',' || outcome || ',' || error"
                              " from dfu_attempts"),
                        "7,1000,2000,3000,4000,393216,4096,389120,800,failed,rc 11");
    assert_string_equal(query("select refusal from devices where device_id = 7"),
                        "no accepted signature");
    /* the view's goodput counts image bytes only: 389,120 B in 1000 ns */
    assert_string_equal(query("select printf('%.1f', goodput_kBps) from v_attempts"),
                        "389120000.0");
    assert_string_equal(query("select count(*) from dfu_attempts where gateway_id is null"
                              " and reset_ns is null and confirm_ns is null"),
                        "1");
    assert_string_equal(query("select connect_ns || ',' || validate_ns || ',' || test_ns || ','"
                              " || retransmissions || ',' || (reconnect_ns is null)"
                              " from dfu_attempts"),
                        "1500,1700,3100,3,1");
}

/* The record level filters tables: summary keeps devices but drops attempts; chunks
 * are written only at level chunks. */
static void record_level_filters_tables(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum recorder_level level;
        const char *devices, *attempts, *chunks;
    } cases[] = {
        {"summary keeps devices only", RECORDER_SUMMARY, "1", "0", "0"},
        {"attempts adds attempts", RECORDER_ATTEMPTS, "1", "1", "0"},
        {"chunks adds chunks", RECORDER_CHUNKS, "1", "1", "1"},
    };
    const struct recorder_device dev = {.device_id = 7,
                                        .gateway_id = RECORDER_NONE,
                                        .state = "updated",
                                        .attempts = 1,
                                        .updated_ns = 4000};
    const struct recorder_chunk chunk = {.attempt_id = 1,
                                         .device_id = 7,
                                         .seq = 0,
                                         .offset = 0,
                                         .len = 490,
                                         .sent_ns = 2000,
                                         .acked_ns = 2500,
                                         .rc = RECORDER_NONE};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct recorder *rec = open_with_run(cases[i].level);
        assert_int_equal(recorder_device_emit(rec, &dev), 0);
        assert_int_equal(recorder_attempt_emit(rec, &attempt), 0);
        assert_int_equal(recorder_chunk_emit(rec, &chunk), 0);
        assert_int_equal(recorder_run_end(rec, RECORDER_COMPLETE, NULL, 0, 0), 0);
        recorder_close(rec);
        if (strcmp(query("select count(*) from devices"), cases[i].devices) != 0 ||
            strcmp(query("select count(*) from dfu_attempts"), cases[i].attempts) != 0 ||
            strcmp(query("select count(*) from chunks"), cases[i].chunks) != 0)
            fail_msg("%s", cases[i].name);
    }
}

/* More rows than one batch: every row is committed, in more than one transaction. */
static void rows_beyond_one_batch_are_all_written(void **state)
{
    (void)state;
    struct recorder *rec = open_with_run(RECORDER_CHUNKS);
    struct recorder_chunk c = {
        .attempt_id = 1, .device_id = 1, .len = 244, .acked_ns = RECORDER_NONE, .rc = 0};
    for (uint32_t i = 0; i < 150000; i++) {
        c.seq = i;
        c.offset = i * 244;
        c.sent_ns = i;
        assert_int_equal(recorder_chunk_emit(rec, &c), 0);
    }
    assert_int_equal(recorder_run_end(rec, RECORDER_COMPLETE, NULL, 0, 0), 0);
    recorder_close(rec);
    assert_string_equal(query("select count(*) || ',' || sum(seq) from chunks"),
                        "150000,11249925000");
}

/* An interrupted run (SIGINT) keeps its committed rows and says 'interrupted'. */
static void interrupted_run_says_so(void **state)
{
    (void)state;
    struct recorder *rec = open_with_run(RECORDER_ATTEMPTS);
    assert_int_equal(recorder_attempt_emit(rec, &attempt), 0);
    assert_int_equal(recorder_run_end(rec, RECORDER_INTERRUPTED, "SIGINT", 123, 9), 0);
    recorder_close(rec);
    assert_string_equal(query("select status || ':' || status_detail from runs"),
                        "interrupted:SIGINT");
    assert_string_equal(query("select count(*) from dfu_attempts"), "1");
}

/* Closing with a run still open (an error path) marks it failed, never complete. */
static void close_without_end_marks_failed(void **state)
{
    (void)state;
    struct recorder *rec = open_with_run(RECORDER_ATTEMPTS);
    assert_int_equal(recorder_attempt_emit(rec, &attempt), 0);
    recorder_close(rec);
    assert_string_equal(query("select status from runs"), "failed");
}

/* A crash between records leaves status 'running': the run row is committed before any
 * record, and nothing else sets 'complete'. Simulated by reading the file while the
 * recorder is still open mid-run. */
static void mid_run_database_says_running(void **state)
{
    (void)state;
    struct recorder *rec = open_with_run(RECORDER_ATTEMPTS);
    assert_int_equal(recorder_attempt_emit(rec, &attempt), 0);
    assert_string_equal(query("select status from runs"), "running");
    recorder_close(rec);
}

/* A new database replaces an old file at the same path. */
static void open_replaces_an_existing_file(void **state)
{
    (void)state;
    /* A file that is not a results database is never deleted (issue 13, D1). */
    FILE *f = fopen(DB_PATH, "w");
    assert_non_null(f);
    fputs("not a database", f);
    fclose(f);
    struct recorder *rec = NULL;
    struct sim_diag diag;
    sim_diag_init(&diag);
    assert_int_equal(recorder_open(DB_PATH, &rec, &diag), SIM_EINVAL);
    assert_null(rec);
    assert_non_null(strstr(diag.text, "refusing to replace it"));
    char text[64] = "";
    f = fopen(DB_PATH, "r");
    assert_non_null(f);
    assert_non_null(fgets(text, sizeof(text), f));
    fclose(f);
    assert_string_equal(text, "not a database");
    /* A results database is replaced by a new, empty one. */
    unlink(DB_PATH);
    rec = open_with_run(RECORDER_SUMMARY);
    assert_int_equal(recorder_run_end(rec, RECORDER_COMPLETE, NULL, 0, 0), 0);
    recorder_close(rec);
    rec = open_with_run(RECORDER_SUMMARY);
    assert_int_equal(recorder_run_end(rec, RECORDER_COMPLETE, NULL, 0, 0), 0);
    recorder_close(rec);
    assert_string_equal(query("select count(*) from runs"), "1");
}

/* meta rows set with recorder_meta_set() replace earlier values of the key. */
static void meta_set_replaces_the_value(void **state)
{
    (void)state;
    struct recorder *rec = open_with_run(RECORDER_SUMMARY);
    assert_int_equal(recorder_run_end(rec, RECORDER_COMPLETE, NULL, 0, 0), 0);
    assert_int_equal(recorder_meta_set(rec, "runs_planned", "6"), 0);
    assert_int_equal(recorder_meta_set(rec, "runs_planned", "7"), 0);
    /* No run open and no error: recorder_error() has no text (never "not an error"). */
    assert_string_equal(recorder_error(rec), "");
    recorder_close(rec);
    assert_string_equal(query("select value from meta where key = 'runs_planned'"), "7");
    assert_string_equal(query("select count(*) from meta where key = 'schema_version'"), "1");
}

/* An unwritable path is SIM_EIO with a message naming the path. */
static void unwritable_path_is_reported(void **state)
{
    (void)state;
    struct recorder *rec = NULL;
    struct sim_diag diag;
    sim_diag_init(&diag);
    assert_int_equal(recorder_open("/nonexistent-dir/x.db", &rec, &diag), SIM_EIO);
    assert_null(rec);
    assert_non_null(strstr(diag.text, "/nonexistent-dir/x.db: cannot create"));
}

static int cleanup(void **state)
{
    (void)state;
    unlink(DB_PATH);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(complete_run_has_identity_and_status, cleanup),
        cmocka_unit_test_teardown(attempt_row_round_trips, cleanup),
        cmocka_unit_test_teardown(record_level_filters_tables, cleanup),
        cmocka_unit_test_teardown(rows_beyond_one_batch_are_all_written, cleanup),
        cmocka_unit_test_teardown(interrupted_run_says_so, cleanup),
        cmocka_unit_test_teardown(close_without_end_marks_failed, cleanup),
        cmocka_unit_test_teardown(mid_run_database_says_running, cleanup),
        cmocka_unit_test_teardown(open_replaces_an_existing_file, cleanup),
        cmocka_unit_test_teardown(meta_set_replaces_the_value, cleanup),
        cmocka_unit_test(unwritable_path_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
