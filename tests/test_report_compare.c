/* tests/test_report_compare.c - report/compare: Welch's t-test against hand-computed t,
 * degrees of freedom and p (closed forms of Student's t for df 1 and 2, and gnuplot's
 * regularised incomplete beta, independent of GSL, for other df); the selection syntax;
 * the default pairs; two synthetic databases compared row by row; dfusim compare's output,
 * CSV and exit codes.
 *
 * Reference formulas (report/compare.h): va = sa^2/na, vb = sb^2/nb, t = (mb - ma) /
 * sqrt(va + vb), df = (va + vb)^2 / (va^2/(na - 1) + vb^2/(nb - 1)), p = 2 Q(|t|; df).
 * Closed forms: df = 1: p = 1 - 2 atan(|t|) / pi; df = 2: p = 1 - |t| / sqrt(t^2 + 2).
 * Any df: p = I_{df/(df + t^2)}(df/2, 1/2), computed with gnuplot
 *   gnuplot -e 'nu=...; t=...; print ibeta(nu/2, 0.5, nu/(nu + t*t))'. */
#include "report/compare.h"
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

#define SRC          DFUSIM_SOURCE_DIR
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char db1[256], db2[256], db_one[256];

static void near(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.15g, want %.15g", got, want);
}

/* ---- Welch's t-test, table-driven ---- */
static const struct welch_case {
    const char *name;
    double ma, sa;
    size_t na;
    double mb, sb;
    size_t nb;
    double t, df, p;
    enum report_verdict verdict;
    bool exact;
} welch_cases[] = {
    /* A = {10, 12}, B = {13, 15}: sd sqrt 2 each, va = vb = 1, t = 3 / sqrt 2 =
     * 2.12132034; df = 4 / (1 + 1) = 2; p = 1 - t / sqrt(4.5 + 2) = 0.16794971;
     * t(0.975, 2) = 4.3027 > t: not significant. */
    {"equal spreads, n = 2 each: df = 2, not significant", 11, M_SQRT2, 2, 14, M_SQRT2, 2,
     2.1213203435596424, 2, 0.1679497056621564, REPORT_VERDICT_NO, false},
    /* B = {20, 22}: t = 10 / sqrt 2 = 7.07106781, df 2, p = 1 - t / sqrt 52 = 0.01941932. */
    {"equal spreads, n = 2 each: df = 2, significant", 11, M_SQRT2, 2, 21, M_SQRT2, 2,
     7.0710678118654755, 2, 0.01941932430907989, REPORT_VERDICT_YES, false},
    {"B below A: t negative, same p", 21, M_SQRT2, 2, 11, M_SQRT2, 2, -7.0710678118654755, 2,
     0.01941932430907989, REPORT_VERDICT_YES, false},
    /* A = {10, 12} (va = 1), B = {20, 20, 20} (vb = 0): t = 9 / 1 = 9, df = 1 / (1 / 1) = 1
     * (all from A's side), p = 1 - 2 atan(9) / pi = 0.07044657: a large t that one degree of
     * freedom cannot carry, t(0.975, 1) = 12.706. */
    {"one side without spread: df = n - 1 of the other, df = 1 not significant", 11, M_SQRT2, 2, 20,
     0, 3, 9, 1, 0.07044657495455453, REPORT_VERDICT_NO, false},
    /* A = {30, 31, 32} (mean 31, sd 1, va = 1/3), B = {20, 20}: t = -11 / sqrt(1/3) =
     * -19.0525589, df = 2, p = 1 - 19.0525589 / sqrt(363 + 2) = 0.00274349. */
    {"one side without spread: df = 2, significant", 31, 1, 3, 20, 0, 2, -19.05255888325765, 2,
     0.002743489394425924, REPORT_VERDICT_YES, false},
    /* A = {10, 12, 14} (va = 4/3), B = {16, 20} (vb = 8/2 = 4): t = 6 / sqrt(16/3) =
     * 2.59807621, df = (16/3)^2 / ((4/3)^2/2 + 4^2/1) = (256/9) / (152/9) = 1.68421053;
     * gnuplot: p = ibeta(0.84210526, 0.5, 1.68421/(1.68421 + 6.75)) = 0.144366204815734. */
    {"unequal n and spreads: fractional df", 12, 2, 3, 18, 2 * M_SQRT2, 2, 2.598076211353316,
     512.0 / 304, 0.144366204815734, REPORT_VERDICT_NO, false},
    {"one replication on a side: no test", 11, M_SQRT2, 2, 14, NAN, 1, NAN, NAN, NAN,
     REPORT_VERDICT_FEW_RUNS, false},
    {"no replication at all: no test", 11, NAN, 1, 14, NAN, 1, NAN, NAN, NAN,
     REPORT_VERDICT_FEW_RUNS, false},
    {"a missing value: no test", NAN, NAN, 3, 14, 1, 3, NAN, NAN, NAN, REPORT_VERDICT_MISSING,
     false},
    {"no spread on either side, same value: not significant", 4, 0, 3, 4, 0, 2, 0, NAN, 1,
     REPORT_VERDICT_NO, false},
    {"no spread on either side, different values: exact", 4, 0, 3, 5, 0, 2, INFINITY, NAN, 0,
     REPORT_VERDICT_YES, true},
};

static void check_nan_or(double got, double want, const char *what, const char *name)
{
    if (isnan(want)) {
        if (!isnan(got))
            fail_msg("%s: %s = %.15g, want NAN", name, what, got);
        return;
    }
    if (isinf(want)) {
        if (got != want)
            fail_msg("%s: %s = %.15g, want %g", name, what, got, want);
        return;
    }
    if (!(fabs(got - want) <= 1e-9 * fmax(1, fabs(want))))
        fail_msg("%s: %s = %.15g, want %.15g", name, what, got, want);
}

static void test_welch_hand_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(welch_cases); i++) {
        const struct welch_case *c = &welch_cases[i];
        struct report_welch w;
        report_welch_test(c->ma, c->sa, c->na, c->mb, c->sb, c->nb, &w);
        check_nan_or(w.t, c->t, "t", c->name);
        check_nan_or(w.df, c->df, "df", c->name);
        check_nan_or(w.p, c->p, "p", c->name);
        if (w.verdict != c->verdict || w.exact != c->exact)
            fail_msg("%s: verdict %d exact %d", c->name, (int)w.verdict, (int)w.exact);
    }
}

/* ---- the selection syntax ---- */
static void test_select_parse(void **state)
{
    (void)state;
    struct report_select sel;
    char err[256];
    assert_int_equal(report_select_parse("group=mice,point=2", &sel, err, sizeof(err)), 0);
    assert_string_equal(sel.group, "mice");
    assert_int_equal(sel.point, 2);
    assert_null(sel.bootloader);
    report_select_fini(&sel);
    assert_int_equal(report_select_parse("bootloader=direct-xip", &sel, err, sizeof(err)), 0);
    assert_string_equal(sel.bootloader, "direct-xip");
    assert_null(sel.group);
    assert_int_equal(sel.point, 0);
    report_select_fini(&sel);
    /* a comma splits only before a known key: the group is "a,b=c" */
    assert_int_equal(report_select_parse("group=a,b=c,point=1", &sel, err, sizeof(err)), 0);
    assert_string_equal(sel.group, "a,b=c");
    assert_int_equal(sel.point, 1);
    report_select_fini(&sel);

    static const struct {
        const char *spec, *msg;
    } bad[] = {
        {"", "empty selection"},
        {"mice", "unknown item 'mice'"},
        {"colour=red,point=1", "unknown item 'colour=red'"},
        {"point=0", "not a sweep point number"},
        {"point=2x", "not a sweep point number"},
        {"point=-1", "not a sweep point number"},
        {"point=1,point=2", "point= given twice"},
        {"group=", "group= needs a value"},
        {"point=1,", "not a sweep point number"}, /* "1," is the value */
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int rc = report_select_parse(bad[i].spec, &sel, err, sizeof(err));
        if (rc != REPORT_EFORMAT || strstr(err, bad[i].msg) == NULL)
            fail_msg("'%s': rc %d, message '%s', want '%s'", bad[i].spec, rc, err, bad[i].msg);
        assert_null(sel.group); /* nothing left to free */
    }
}

/* ---- synthetic databases ----
 * Runs are sweep points of client.window (1, 2, 3); each run has group 0 "mice" (swap-move,
 * one device with one attempt) and group 1 "kbd" (direct-xip, device 1 with an attempt and
 * device 2 that failed without one). An attempt uploads v * 1000 bytes in 1 s, so the run's
 * goodput kB/s mean is v. Values per point, one per replication:
 *   point 1: mice 10, 12, 14 (mean 12, sd 2)   kbd 30, 31, 32 (mean 31, sd 1)
 *   point 2: mice 16, 20 (mean 18, sd 2 sqrt 2) kbd 20, 20 (no spread)
 *   point 3: mice 15 (one run)                 kbd 25
 * plus `offset` on every mice value. */
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

static void add_device(sqlite3 *db, int run, int dev, int group, double kbps)
{
    if (isnan(kbps)) {
        exec(db,
             "INSERT INTO devices VALUES (%d, %d, %d, NULL, 'failed', 0, NULL, NULL, 0, 0, NULL)",
             run, dev, group);
        return;
    }
    exec(db,
         "INSERT INTO devices VALUES (%d, %d, %d, NULL, 'updated', 1, 0, 30000000000, %.0f, 0, "
         "NULL)",
         run, dev, group, kbps * 1000);
    exec(db,
         "INSERT INTO dfu_attempts (run_id, attempt_id, device_id, start_ns, upload_start_ns,"
         " upload_end_ns, end_ns, bytes_sent, image_bytes, outcome) VALUES (%d, %d, %d, 0,"
         " 1000000000, 2000000000, 30000000000, %.0f, %.0f, 'updated')",
         run, dev, dev, kbps * 1000, kbps * 1000);
}

static void make_db(const char *path, double offset, int n_points, bool with_kbd)
{
    static const struct {
        int point;
        double mice, kbd;
    } runs[] = {{1, 10, 30}, {1, 12, 31}, {1, 14, 32}, {2, 16, 20}, {2, 20, 20}, {3, 15, 25}};
    unlink(path);
    struct recorder *rec = NULL;
    struct sim_diag diag;
    sim_diag_init(&diag);
    assert_int_equal(recorder_open(path, &rec, &diag), 0);
    recorder_close(rec);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec(db, "BEGIN");
    for (int i = 0; i < (int)ARRAY_LEN(runs); i++) {
        if (runs[i].point > n_points)
            continue;
        int run = i + 1;
        exec(db,
             "INSERT INTO runs (run_id, scenario_name, scenario_text, scenario_sha256,"
             " dfusim_version, schema_version, model, seed, replication, sweep_point,"
             " record_level, started_at, status) VALUES (%d, 't', '', '', 'x', 4, 'm', '%d', 1,"
             " %d, 'attempts', 'now', 'complete')",
             run, 100 + run, runs[i].point);
        exec(db, "INSERT INTO run_params VALUES (%d, 'seed', '%d'), (%d, 'client.window', '%d')",
             run, 100 + run, run, runs[i].point);
        exec(db, "INSERT INTO device_groups VALUES (%d, 0, 'mice', 1, 'b', 'swap-move')", run);
        add_device(db, run, 0, 0, runs[i].mice + offset);
        if (!with_kbd)
            continue;
        exec(db, "INSERT INTO device_groups VALUES (%d, 1, 'kbd', 2, 'b', 'direct-xip')", run);
        add_device(db, run, 1, 1, runs[i].kbd);
        add_device(db, run, 2, 1, NAN);
    }
    exec(db, "COMMIT");
    sqlite3_close(db);
}

static int setup(void **state)
{
    (void)state;
    snprintf(db1, sizeof(db1), "%s/test_cmp1_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    snprintf(db2, sizeof(db2), "%s/test_cmp2_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    snprintf(db_one, sizeof(db_one), "%s/test_cmp3_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    make_db(db1, 0, 3, true);
    make_db(db2, 2, 2, true);     /* mice 2 kB/s faster; no point 3 */
    make_db(db_one, 0, 1, false); /* one point, one group: nothing to compare */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(db1);
    unlink(db2);
    unlink(db_one);
    return 0;
}

static struct report_summary *load(const char *path)
{
    struct report_summary *s = NULL;
    char err[512];
    if (report_summary_load(path, NULL, &s, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    return s;
}

static size_t find(const struct report_summary *s, const char *spec)
{
    struct report_select sel;
    char err[1024];
    size_t row = SIZE_MAX;
    assert_int_equal(report_select_parse(spec, &sel, err, sizeof(err)), 0);
    int rc = report_select_find(s, &sel, spec, &row, err, sizeof(err));
    report_select_fini(&sel);
    if (rc != 0)
        fail_msg("%s", err);
    return row;
}

/* ---- rows of one database: selection, and the test on real summary rows ---- */
static void test_compare_rows_of_one_db(void **state)
{
    (void)state;
    struct report_summary *s = load(db1);
    assert_int_equal(s->n_rows, 6);
    const struct report_row *p1 = &s->rows[find(s, "group=mice,point=1")];
    const struct report_row *p2 = &s->rows[find(s, "point=2,group=mice")];
    const struct report_row *k1 = &s->rows[find(s, "bootloader=direct-xip,point=1")];
    const struct report_row *p3 = &s->rows[find(s, "group=mice,point=3")];
    assert_string_equal(p2->point, "client.window=2");
    assert_int_equal(p2->point_index, 1);
    near(p1->sd[REPORT_GOODPUT_MEAN], 2, 1e-12);
    near(p2->sd[REPORT_GOODPUT_MEAN], 2 * M_SQRT2, 1e-12);

    struct report_delta d[REPORT_METRIC_COUNT];
    /* mice point 1 against point 2: the "fractional df" case of the table above. */
    report_compare_rows(p1, p2, d);
    near(d[REPORT_GOODPUT_MEAN].diff, 6, 1e-9);
    near(d[REPORT_GOODPUT_MEAN].change_pct, 50, 1e-9); /* 6 / 12 */
    near(d[REPORT_GOODPUT_MEAN].w.t, 2.598076211353316, 1e-9);
    near(d[REPORT_GOODPUT_MEAN].w.df, 512.0 / 304, 1e-9);
    near(d[REPORT_GOODPUT_MEAN].w.p, 0.144366204815734, 1e-9);
    assert_int_equal(d[REPORT_GOODPUT_MEAN].w.verdict, REPORT_VERDICT_NO);
    /* devices: 1 in every run on both sides: B - A = 0, "no" */
    assert_int_equal(d[REPORT_DEVICES].w.verdict, REPORT_VERDICT_NO);
    near(d[REPORT_DEVICES].change_pct, 0, 0);

    /* kbd against mice, point 1: A = {30, 31, 32} (va 1/3), B = {10, 12, 14} (va 4/3):
     * t = -19 / sqrt(5/3) = -14.7173367, df = (5/3)^2 / ((1/3)^2/2 + (4/3)^2/2) =
     * (25/9) / (17/18) = 50/17 = 2.94117647; gnuplot: p = 0.000756372711300631. */
    report_compare_rows(k1, p1, d);
    near(d[REPORT_GOODPUT_MEAN].w.t, -14.717336715588184, 1e-9);
    near(d[REPORT_GOODPUT_MEAN].w.df, 50.0 / 17, 1e-9);
    near(d[REPORT_GOODPUT_MEAN].w.p, 0.000756372711300631, 1e-9);
    assert_int_equal(d[REPORT_GOODPUT_MEAN].w.verdict, REPORT_VERDICT_YES);
    near(d[REPORT_GOODPUT_MEAN].change_pct, -19.0 / 31 * 100, 1e-9);
    /* devices 2 against 1 in every run: an exact difference; failed 1 -> 0 is -100 % */
    assert_int_equal(d[REPORT_DEVICES].w.verdict, REPORT_VERDICT_YES);
    assert_true(d[REPORT_DEVICES].w.exact);
    near(d[REPORT_FAILED].change_pct, -100, 1e-9);
    /* erases per upgrade: no swaps, the value does not exist */
    assert_int_equal(d[REPORT_ERASES_PRIMARY].w.verdict, REPORT_VERDICT_MISSING);
    assert_true(isnan(d[REPORT_ERASES_PRIMARY].diff));

    /* point 3 has one run: n/a, but the difference is still there */
    report_compare_rows(p1, p3, d);
    assert_int_equal(d[REPORT_GOODPUT_MEAN].w.verdict, REPORT_VERDICT_FEW_RUNS);
    near(d[REPORT_GOODPUT_MEAN].diff, 3, 1e-9);

    /* a SPEC that selects several rows or none lists the candidates */
    struct report_select sel;
    char err[1024];
    size_t row;
    assert_int_equal(report_select_parse("group=mice", &sel, err, sizeof(err)), 0);
    assert_int_equal(report_select_find(s, &sel, "--a group=mice", &row, err, sizeof(err)),
                     REPORT_ENOENT);
    assert_non_null(strstr(err, "--a group=mice matches 3 rows"));
    assert_non_null(strstr(err, "point=3,group=mice (swap-move; client.window=3)"));
    assert_null(strstr(err, "group=kbd"));
    report_select_fini(&sel);
    assert_int_equal(report_select_parse("group=mice,point=4", &sel, err, sizeof(err)), 0);
    assert_int_equal(report_select_find(s, &sel, "x", &row, err, sizeof(err)), REPORT_ENOENT);
    assert_non_null(strstr(err, "x matches no row; the rows are:"));
    assert_non_null(strstr(err, "point=1,group=kbd (direct-xip; client.window=1)"));
    report_select_fini(&sel);
    report_summary_free(s);
}

/* ---- default pairs: each point's direct-xip row against its other rows ---- */
static void test_default_pairs(void **state)
{
    (void)state;
    struct report_summary *s = load(db1);
    struct report_pair *pairs = NULL;
    size_t n = 0;
    assert_int_equal(report_compare_default_pairs(s, &pairs, &n), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(pairs[i].a->bootloader, "direct-xip");
        assert_string_equal(pairs[i].b->group, "mice");
        assert_int_equal(pairs[i].a->point_index, i);
        assert_int_equal(pairs[i].b->point_index, i);
    }
    free(pairs);

    /* In-memory rows: point 2 has no direct-xip row, so its rows take point 1's; a
     * direct-xip-revert row is compared with the point's direct-xip row. */
    struct report_row rows[] = {
        {.point = "p1", .point_index = 0, .group = "x", .bootloader = "swap-move"},
        {.point = "p1", .point_index = 0, .group = "r", .bootloader = "direct-xip-revert"},
        {.point = "p1", .point_index = 0, .group = "d", .bootloader = "direct-xip"},
        {.point = "p2", .point_index = 1, .group = "x", .bootloader = "swap-move"},
    };
    struct report_summary mem = {.n_rows = 4, .n_points = 2, .rows = rows};
    assert_int_equal(report_compare_default_pairs(&mem, &pairs, &n), 0);
    assert_int_equal(n, 3);
    assert_ptr_equal(pairs[0].a, &rows[2]);
    assert_ptr_equal(pairs[0].b, &rows[0]);
    assert_ptr_equal(pairs[1].a, &rows[2]);
    assert_ptr_equal(pairs[1].b, &rows[1]);
    assert_ptr_equal(pairs[2].a, &rows[2]);
    assert_ptr_equal(pairs[2].b, &rows[3]);
    free(pairs);
    /* without direct-xip(-revert): the first row against every other */
    rows[1].bootloader = "ram-load";
    rows[2].bootloader = "overwrite-only";
    assert_int_equal(report_compare_default_pairs(&mem, &pairs, &n), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(pairs[i].a, &rows[0]);
        assert_ptr_equal(pairs[i].b, &rows[i + 1]);
    }
    free(pairs);
    /* Two boards: each row is compared with the direct-xip row of its own board. */
    struct report_row boards[] = {
        {.point = "p1",
         .point_index = 0,
         .group = "a-d",
         .bootloader = "direct-xip",
         .board = "nrf52840dk"},
        {.point = "p1",
         .point_index = 0,
         .group = "b-d",
         .bootloader = "direct-xip",
         .board = "nrf5340dk"},
        {.point = "p1",
         .point_index = 0,
         .group = "b-m",
         .bootloader = "swap-move",
         .board = "nrf5340dk"},
        {.point = "p1",
         .point_index = 0,
         .group = "a-m",
         .bootloader = "swap-move",
         .board = "nrf52840dk"},
    };
    struct report_summary two = {.n_rows = 4, .n_points = 1, .rows = boards};
    assert_int_equal(report_compare_default_pairs(&two, &pairs, &n), 0);
    assert_int_equal(n, 2);
    assert_ptr_equal(pairs[0].a, &boards[1]);
    assert_ptr_equal(pairs[0].b, &boards[2]);
    assert_ptr_equal(pairs[1].a, &boards[0]);
    assert_ptr_equal(pairs[1].b, &boards[3]);
    free(pairs);
    report_summary_free(s);
}

/* ---- two databases: same (point, group) rows ---- */
static void test_two_databases(void **state)
{
    (void)state;
    struct report_summary *a = load(db1), *b = load(db2);
    struct report_pair *pairs = NULL;
    size_t n = 0, unmatched = 0;
    assert_int_equal(report_compare_match_pairs(a, b, &pairs, &n, &unmatched), 0);
    assert_int_equal(n, 4);         /* points 1 and 2, mice and kbd */
    assert_int_equal(unmatched, 2); /* point 3 of db1 */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pairs[i].a->point_index, pairs[i].b->point_index);
        assert_string_equal(pairs[i].a->group, pairs[i].b->group);
    }
    /* mice point 1: {10, 12, 14} against {12, 14, 16}: va = vb = 4/3, t = 2 / sqrt(8/3) =
     * 1.22474487, df = (8/3)^2 / (2 (4/3)^2 / 2) = 4; gnuplot: p = 0.28786413407982. */
    struct report_delta d[REPORT_METRIC_COUNT];
    assert_string_equal(pairs[0].a->group, "mice");
    report_compare_rows(pairs[0].a, pairs[0].b, d);
    near(d[REPORT_GOODPUT_MEAN].w.t, 1.22474487139159, 1e-9);
    near(d[REPORT_GOODPUT_MEAN].w.df, 4, 1e-9);
    near(d[REPORT_GOODPUT_MEAN].w.p, 0.28786413407982, 1e-9);
    assert_int_equal(d[REPORT_GOODPUT_MEAN].w.verdict, REPORT_VERDICT_NO);
    /* kbd is the same in both: difference 0, "no" */
    assert_string_equal(pairs[1].a->group, "kbd");
    report_compare_rows(pairs[1].a, pairs[1].b, d);
    near(d[REPORT_GOODPUT_MEAN].diff, 0, 0);
    near(d[REPORT_GOODPUT_MEAN].w.t, 0, 0);
    assert_int_equal(d[REPORT_GOODPUT_MEAN].w.verdict, REPORT_VERDICT_NO);
    free(pairs);
    report_summary_free(a);
    report_summary_free(b);
}

/* ---- CLI ---- */
static char out_text[1 << 17], err_text[1 << 14];

static int run_cli(int argc, const char **argv)
{
    return cli_capture(argc, argv, out_text, sizeof(out_text), err_text, sizeof(err_text));
}

struct csv_read {
    size_t row, col;
    char fields[64][24][64];
};

static void on_field(void *s, size_t n, void *data)
{
    struct csv_read *r = data;
    if (r->row < 64 && r->col < 24 && n < 64) {
        memcpy(r->fields[r->row][r->col], s, n);
        r->fields[r->row][r->col][n] = '\0';
    }
    r->col++;
}

static void on_row(int c, void *data)
{
    (void)c;
    struct csv_read *r = data;
    if (r->col != 23)
        fail_msg("CSV row %zu has %zu fields", r->row, r->col);
    r->row++;
    r->col = 0;
}

static void read_csv(const char *path, struct csv_read *r)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    struct csv_parser p;
    assert_int_equal(csv_init(&p, CSV_STRICT), 0);
    memset(r, 0, sizeof(*r));
    assert_int_equal(csv_parse(&p, buf, len, on_field, on_row, r), len);
    assert_int_equal(csv_fini(&p, on_field, on_row, r), 0);
    csv_free(&p);
}

/* The line of text that starts with prefix, without its newline. */
static void line_of(const char *text, const char *prefix, char *line, size_t n)
{
    const char *p = strstr(text, prefix);
    if (p == NULL)
        fail_msg("no line '%s' in:\n%s", prefix, text);
    size_t len = strcspn(p, "\n");
    assert_true(len < n);
    memcpy(line, p, len);
    line[len] = '\0';
}

static void test_cli_compare(void **state)
{
    (void)state;
    /* default: three tables, direct-xip as A */
    const char *def[] = {"dfusim", "compare", db1};
    assert_int_equal(run_cli(3, def), SIM_EXIT_OK);
    assert_non_null(
        strstr(out_text, "A: point 1 (client.window=1) group kbd (direct-xip), 3 runs"));
    assert_non_null(strstr(out_text, "B: point 3 (client.window=3) group mice (swap-move), 1 run"));
    assert_non_null(strstr(out_text, "n/a: fewer than 2 replications on a side"));
    assert_non_null(strstr(out_text, "yes*: every replication gave the same value"));

    /* two rows picked, with CSV */
    char csv[300];
    snprintf(csv, sizeof(csv), "%s.csv", db1);
    const char *two[] = {
        "dfusim", "compare", db1, "--a", "group=mice,point=1", "--b", "point=2,group=mice",
        "--csv",  csv};
    assert_int_equal(run_cli(9, two), SIM_EXIT_OK);
    /* 12.00 ±4.97 (t(0.975, 2) 4.3027 * 2 / sqrt 3), 18.00 ±25.41 (12.706 * 2 sqrt 2 /
     * sqrt 2), +6.00, +50.0 %, p 0.144, not significant */
    char line[256], want[600];
    line_of(out_text, "goodput kB/s per upload, mean ", line, sizeof(line));
    assert_non_null(strstr(line, "12.00 ±4.97"));
    assert_non_null(strstr(line, "18.00 ±25.41"));
    assert_non_null(strstr(line, " +6.00 "));
    assert_non_null(strstr(line, " +50.0 % "));
    assert_non_null(strstr(line, " 0.144 "));
    assert_string_equal(line + strlen(line) - 3, " no");
    assert_null(strstr(out_text, "n/a:")); /* three and two runs: no footnote */
    static struct csv_read r;
    read_csv(csv, &r);
    unlink(csv);
    assert_int_equal(r.row, 1 + REPORT_METRIC_COUNT);
    assert_string_equal(r.fields[0][0], "a_db");
    assert_string_equal(r.fields[0][22], "significant");
    const char(*up)[64] = r.fields[1 + REPORT_GOODPUT_MEAN];
    assert_string_equal(up[0], ""); /* one database: no names */
    assert_string_equal(up[1], "1");
    assert_string_equal(up[2], "client.window=1");
    assert_string_equal(up[3], "mice");
    assert_string_equal(up[5], "3");
    assert_string_equal(up[7], "2");
    assert_string_equal(up[12], "goodput_kBps_mean");
    near(strtod(up[17], NULL), 6, 1e-9);
    near(strtod(up[18], NULL), 50, 1e-9);
    near(strtod(up[19], NULL), 2.598076211353316, 1e-9);
    near(strtod(up[20], NULL), 512.0 / 304, 1e-9);
    near(strtod(up[21], NULL), 0.144366204815734, 1e-9);
    assert_string_equal(up[22], "no");
    assert_string_equal(r.fields[1 + REPORT_ERASES_PRIMARY][22], ""); /* missing */
    /* the same comparison as JSON, alone on stdout, read back by jq */
    const char *js[] = {
        "dfusim", "compare", db1, "--a", "group=mice,point=1", "--b", "group=mice,point=2",
        "--json", "-"};
    assert_int_equal(run_cli(9, js), SIM_EXIT_OK);
    char jpath[300], cmd[800];
    snprintf(jpath, sizeof(jpath), "%s.json", db1);
    FILE *jf = fopen(jpath, "w");
    assert_non_null(jf);
    fputs(out_text, jf);
    fclose(jf);
    snprintf(cmd, sizeof(cmd),
             "jq -e 'length == 1 and .[0].a.point == 1 and .[0].b.point == 2 and"
             " .[0].metrics.goodput_kBps_mean.diff == 6 and"
             " .[0].metrics.goodput_kBps_mean.significant == \"no\" and"
             " .[0].metrics.erases_primary_per_upgrade.significant == null' '%s' >/dev/null",
             jpath);
    assert_int_equal(system(cmd), 0);
    unlink(jpath);
    assert_string_equal(r.fields[1 + REPORT_ERASES_PRIMARY][13], "");

    /* --a alone: that row against the five others */
    const char *one[] = {"dfusim", "compare", db1, "--a", "group=kbd,point=2"};
    assert_int_equal(run_cli(5, one), SIM_EXIT_OK);
    size_t tables = strncmp(out_text, "A: ", 3) == 0;
    for (const char *p = out_text; (p = strstr(p, "\nA: ")) != NULL; p++)
        tables++;
    assert_int_equal(tables, 5);

    /* two databases: names in the header lines and a note on the unmatched rows */
    const char *dbs[] = {"dfusim", "compare", db1, db2, "--csv", csv};
    assert_int_equal(run_cli(6, dbs), SIM_EXIT_OK);
    snprintf(want, sizeof(want), "A: %s point 1 (client.window=1) group mice (swap-move)", db1);
    assert_non_null(strstr(out_text, want));
    snprintf(want, sizeof(want), "B: %s point 1 (client.window=1) group mice (swap-move)", db2);
    assert_non_null(strstr(out_text, want));
    assert_non_null(strstr(err_text, "2 rows without a partner"));
    read_csv(csv, &r);
    unlink(csv);
    assert_int_equal(r.row, 1 + 4 * REPORT_METRIC_COUNT);
    assert_string_equal(r.fields[1][0], db1);
    assert_string_equal(r.fields[1][6], db2);
    /* two databases, one SPEC: the same row in both */
    const char *dbs1[] = {"dfusim", "compare", db1, db2, "--b", "group=mice,point=2"};
    assert_int_equal(run_cli(6, dbs1), SIM_EXIT_OK);
    assert_non_null(strstr(out_text, "+2.00 ")); /* 18 -> 20 */

    const char *help[] = {"dfusim", "compare", "--help"};
    assert_int_equal(run_cli(3, help), SIM_EXIT_OK);
    assert_non_null(strstr(out_text, "Usage: dfusim compare DB [DB2]"));
    assert_non_null(strstr(out_text, "point=N"));
}

/* ---- CLI: bad input exits 2 with a message ---- */
static void test_cli_errors(void **state)
{
    (void)state;
    const struct {
        const char *name;
        int argc;
        const char *argv[8];
        const char *msg;
    } cases[] = {
        {"no database", 2, {"dfusim", "compare"}, "no database given"},
        {"three databases", 5, {"dfusim", "compare", db1, db2, db1}, "one or two databases"},
        {"missing file", 3, {"dfusim", "compare", "/nonexistent/x.db"}, "no such file"},
        {"not a database", 3, {"dfusim", "compare", SRC "/README.md"}, "not a dfusim results"},
        {"missing second file",
         4,
         {"dfusim", "compare", db1, "/nonexistent/y.db"},
         "/nonexistent/y.db: no such file"},
        {"unknown option", 4, {"dfusim", "compare", db1, "--bogus"}, "unknown option '--bogus'"},
        {"option without value", 4, {"dfusim", "compare", db1, "--a"}, "needs a value"},
        {"bad SPEC", 5, {"dfusim", "compare", db1, "--a", "colour=red"}, "--a 'colour=red'"},
        {"ambiguous SPEC",
         7,
         {"dfusim", "compare", db1, "--a", "group=mice", "--b", "point=2"},
         "--a group=mice matches 3 rows"},
        {"SPEC without a match",
         7,
         {"dfusim", "compare", db1, "--a", "point=1,group=kbd", "--b", "point=9"},
         "--b point=9 matches no row"},
        {"SPEC not in the second database",
         6,
         {"dfusim", "compare", db1, db2, "--a", "point=3,group=mice"},
         "--b point=3,group=mice matches no row"},
        {"nothing to compare", 3, {"dfusim", "compare", db_one}, "nothing to compare"},
        {"unwritable CSV",
         5,
         {"dfusim", "compare", db1, "--csv", "/nonexistent/dir/x.csv"},
         "cannot write"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int code = run_cli(cases[i].argc, (const char **)cases[i].argv);
        if (code != SIM_EXIT_USAGE || strstr(err_text, cases[i].msg) == NULL)
            fail_msg("%s: exit %d, stderr '%s', want 2 and '%s'", cases[i].name, code, err_text,
                     cases[i].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_welch_hand_values),
        cmocka_unit_test(test_select_parse),
        cmocka_unit_test(test_compare_rows_of_one_db),
        cmocka_unit_test(test_default_pairs),
        cmocka_unit_test(test_two_databases),
        cmocka_unit_test(test_cli_compare),
        cmocka_unit_test(test_cli_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
