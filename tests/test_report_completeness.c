/* tests/test_report_completeness.c - report/completeness.h: a database is whole only when
 * every planned run finished and every run row is 'complete'; the description counts the
 * runs by what happened to them; a database without the meta keys (before issue 13) is
 * judged by its rows. */
#include "report/completeness.h"
#include "sim/recorder.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define DB "test_report_completeness.db"

/* A database with one run per status in statuses, and the meta keys when planned >= 0. */
static void make_db(const enum recorder_status *statuses, size_t n, long planned, long finished)
{
    unlink(DB);
    struct recorder *rec = NULL;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(recorder_open(DB, &rec, &d), 0);
    static const char text[] = "name: t\n";
    const struct recorder_run run = {"t", "t.yaml", text, sizeof(text) - 1, "dfu",
                                     1,   0,        0,    RECORDER_SUMMARY};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(recorder_run_begin(rec, &run, NULL), 0);
        assert_int_equal(recorder_run_end(rec, statuses[i], NULL, 0, 0), 0);
    }
    char v[32];
    if (planned >= 0) {
        snprintf(v, sizeof(v), "%ld", planned);
        assert_int_equal(recorder_meta_set(rec, "runs_planned", v), 0);
        snprintf(v, sizeof(v), "%ld", finished);
        assert_int_equal(recorder_meta_set(rec, "runs_finished", v), 0);
    }
    recorder_close(rec);
}

static void check(const char *want)
{
    struct report_completeness c;
    char msg[256], what[512];
    assert_int_equal(report_completeness_read(DB, &c, msg, sizeof(msg)), 0);
    report_completeness_describe(&c, what, sizeof(what));
    assert_string_equal(what, want);
    assert_int_equal(report_completeness_whole(&c), want[0] == '\0');
}

static void whole_and_cut_short_sweeps(void **state)
{
    (void)state;
    const enum recorder_status three[] = {RECORDER_COMPLETE, RECORDER_COMPLETE, RECORDER_COMPLETE};
    make_db(three, 3, 3, 3);
    check("");
    make_db(three, 3, -1, -1); /* an older database: its rows alone */
    check("");
    make_db(three, 2, 6, 2); /* 2 of 6: the rest never started */
    check("the sweep is incomplete: 2 of 6 planned runs finished (4 never started)");
    const enum recorder_status mixed[] = {RECORDER_COMPLETE, RECORDER_INTERRUPTED, RECORDER_FAILED};
    make_db(mixed, 3, 6, 1);
    check("the sweep is incomplete: 1 of 6 planned runs finished (1 interrupted, 1 failed, 3 "
          "never started)");
    make_db(mixed, 3, -1, -1);
    check("the sweep is incomplete: 1 of 3 runs finished (1 interrupted, 1 failed)");
    /* The counter and the rows must agree: a finished count short of the plan is not whole
     * even when the rows are all complete. */
    make_db(three, 3, 3, 2);
    struct report_completeness c;
    char msg[256];
    assert_int_equal(report_completeness_read(DB, &c, msg, sizeof(msg)), 0);
    assert_false(report_completeness_whole(&c));
    unlink(DB);
}

static void warn_prints_on_both_streams(void **state)
{
    (void)state;
    const enum recorder_status one[] = {RECORDER_INTERRUPTED};
    make_db(one, 1, 1, 0);
    char out_text[512] = "", err_text[512] = "";
    FILE *out = fmemopen(out_text, sizeof(out_text), "w");
    FILE *err = fmemopen(err_text, sizeof(err_text), "w");
    assert_int_equal(report_completeness_warn(DB, out, err), 1);
    fclose(out);
    fclose(err);
    const char *want = "WARNING: " DB ": the sweep is incomplete: 0 of 1 planned runs finished (1 "
                       "interrupted)";
    assert_non_null(strstr(out_text, want));
    assert_non_null(strstr(err_text, want));
    assert_int_equal(report_completeness_warn("/no/such.db", NULL, stderr), -1);
    unlink(DB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_and_cut_short_sweeps),
        cmocka_unit_test(warn_prints_on_both_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
