/* tests/test_report_plot.c - report/plot: gnuplot output files, and the plots built from a
 * small synthetic results database with hand-computed points.
 *
 * These tests need gnuplot (Debian gnuplot-nox, installed by setup.sh); without it the
 * first test fails and says so.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "report/plot.h"
#include "sim/recorder.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char tmpdir[256];

static void out_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

/* The whole file (NUL-terminated), its size in *len; NULL if it cannot be read. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = buf != NULL ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    if (buf == NULL || got != (size_t)n) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

/* Checks the file at path is a non-empty SVG or PNG (by its extension); returns it. */
static char *check_file(const char *path, size_t *len)
{
    char *buf = slurp(path, len);
    assert_non_null(buf);
    assert_true(*len > 100);
    if (strstr(path, ".png") != NULL) {
        assert_memory_equal(buf, png_sig, sizeof(png_sig));
    } else {
        assert_true(strncmp(buf, "<?xml", 5) == 0 || strncmp(buf, "<svg", 4) == 0);
        assert_non_null(strstr(buf, "</svg>"));
    }
    return buf;
}

static void write_ok(const struct report_plot *plots, size_t n, const char *path)
{
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = report_plot_write_many(plots, n, path, &d);
    if (rc != SIM_OK)
        fail_msg("report_plot_write_many(%s) = %d: %s", path, rc, d.text);
}

static void sample_plot(struct report_plot *p, enum report_plot_kind kind, const char *name)
{
    report_plot_init(p, kind, "A plot", "time (s)", "value");
    int s = report_plot_add_series(p, name);
    assert_int_equal(s, 0);
    for (int i = 0; i <= 10; i++)
        assert_int_equal(report_plot_add_point(p, 0, i, kind == REPORT_PLOT_CDF ? i / 10.0 : i * i),
                         SIM_OK);
    s = report_plot_add_series(p, "second");
    assert_int_equal(s, 1);
    assert_int_equal(report_plot_add_point(p, 1, 2.0, 0.5), SIM_OK);
    assert_int_equal(report_plot_add_point(p, 1, 4.0, 1.0), SIM_OK);
}

/* ---- gnuplot is there ---- */
static void test_gnuplot_is_installed(void **state)
{
    (void)state;
    if (system("gnuplot --version >/dev/null 2>&1") != 0)
        fail_msg("gnuplot is not installed: install the Debian package gnuplot-nox "
                 "(./setup.sh does); the plot tests need it");
}

/* ---- each kind gives a valid SVG and PNG file ---- */
static void test_each_kind_svg_and_png(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum report_plot_kind kind;
        const char *file;
    } cases[] = {
        {"step CDF as SVG", REPORT_PLOT_CDF, "cdf.svg"},
        {"step CDF as PNG", REPORT_PLOT_CDF, "cdf.png"},
        {"lines as SVG", REPORT_PLOT_LINES, "lines.svg"},
        {"lines as PNG", REPORT_PLOT_LINES, "lines.png"},
        {"lines with points as SVG", REPORT_PLOT_LINESPOINTS, "lp.svg"},
        {"lines with points as PNG", REPORT_PLOT_LINESPOINTS, "lp.png"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct report_plot p;
        sample_plot(&p, cases[i].kind, "first");
        char path[512];
        out_path(path, sizeof(path), cases[i].file);
        write_ok(&p, 1, path);
        size_t len = 0;
        free(check_file(path, &len));
        report_plot_fini(&p);
    }
}

/* ---- the same plot gives the same bytes (no timestamp in the file) ---- */
static void test_output_is_deterministic(void **state)
{
    (void)state;
    static const char *const files[][2] = {{"d1.svg", "d2.svg"}, {"d1.png", "d2.png"}};
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        struct report_plot p;
        sample_plot(&p, REPORT_PLOT_LINES, "first");
        char a[512], b[512];
        out_path(a, sizeof(a), files[i][0]);
        out_path(b, sizeof(b), files[i][1]);
        write_ok(&p, 1, a);
        write_ok(&p, 1, b);
        size_t la = 0, lb = 0;
        char *x = check_file(a, &la), *y = check_file(b, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(x, y, la);
        free(x);
        free(y);
        report_plot_fini(&p);
    }
}

/* ---- odd series names: quotes, backslashes, newlines, markup, enhanced-text codes ---- */
static void test_odd_series_names(void **state)
{
    (void)state;
    struct report_plot p;
    report_plot_init(&p, REPORT_PLOT_LINESPOINTS, "it's a \"title\" <b>", "window (PDUs)", "kB/s");
    static const char *const names[] = {
        "O'Brien's \"mice\"", "back\\slash \\n", "new\nline", "<tag> & amp", "a_b^c{d}@e", "'", "",
        "naïve – ü",
    };
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        int s = report_plot_add_series(&p, names[i]);
        assert_int_equal(s, (int)i);
        assert_int_equal(report_plot_add_point(&p, (size_t)s, 1.0, (double)i), SIM_OK);
        assert_int_equal(report_plot_add_point(&p, (size_t)s, 2.0, (double)i + 1), SIM_OK);
    }
    char path[512];
    out_path(path, sizeof(path), "odd.svg");
    write_ok(&p, 1, path);
    size_t len = 0;
    char *svg = check_file(path, &len);
    /* gnuplot shows the names verbatim (XML-escaped), not as enhanced text. */
    assert_non_null(strstr(svg, "O'Brien's \"mice\""));
    assert_non_null(strstr(svg, "back\\slash \\n"));
    assert_non_null(strstr(svg, "new line"));
    assert_non_null(strstr(svg, "&lt;tag> &amp; amp"));
    assert_non_null(strstr(svg, "a_b^c{d}@e"));
    assert_non_null(strstr(svg, "naïve – ü"));
    assert_non_null(strstr(svg, "it's a \"title\" &lt;b>"));
    free(svg);
    out_path(path, sizeof(path), "odd.png");
    write_ok(&p, 1, path);
    free(check_file(path, &len));
    report_plot_fini(&p);
}

/* ---- errors: unknown extension, empty plot, bad CDF, too many series ---- */
static void test_unknown_extension_fails(void **state)
{
    (void)state;
    static const char *const files[] = {"x.pdf", "x", "x.SVG.txt", "svg"};
    struct report_plot p;
    sample_plot(&p, REPORT_PLOT_LINES, "first");
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        char path[512];
        out_path(path, sizeof(path), files[i]);
        struct sim_diag d;
        sim_diag_init(&d);
        assert_int_equal(report_plot_write(&p, path, &d), SIM_EINVAL);
        assert_non_null(strstr(d.text, "must end in .svg or .png"));
        assert_int_not_equal(access(path, F_OK), 0);
    }
    report_plot_fini(&p);
}

static void test_invalid_plots_fail(void **state)
{
    (void)state;
    char path[512];
    out_path(path, sizeof(path), "bad.svg");
    struct sim_diag d;

    struct report_plot p;
    report_plot_init(&p, REPORT_PLOT_LINES, "empty", "x", "y");
    assert_int_equal(report_plot_add_series(&p, "none"), 0);
    sim_diag_init(&d);
    assert_int_equal(report_plot_write(&p, path, &d), SIM_EINVAL);
    assert_non_null(strstr(d.text, "no data to plot"));
    report_plot_fini(&p);

    report_plot_init(&p, REPORT_PLOT_CDF, "cdf", "x", "y");
    assert_int_equal(report_plot_add_series(&p, "s"), 0);
    assert_int_equal(report_plot_add_point(&p, 0, 1.0, 0.5), SIM_OK);
    assert_int_equal(report_plot_add_point(&p, 0, 2.0, 1.5), SIM_OK); /* y above 1 */
    sim_diag_init(&d);
    assert_int_equal(report_plot_write(&p, path, &d), SIM_EINVAL);
    assert_non_null(strstr(d.text, "a CDF needs x sorted"));
    assert_int_equal(report_plot_add_point(&p, 0, INFINITY, 0.5), SIM_EINVAL);
    assert_int_equal(report_plot_add_point(&p, 3, 1.0, 0.5), SIM_EINVAL);
    report_plot_fini(&p);

    report_plot_init(&p, REPORT_PLOT_LINES, "many", "x", "y");
    for (int i = 0; i < REPORT_PLOT_MAX_SERIES; i++)
        assert_int_equal(report_plot_add_series(&p, "s"), i);
    assert_int_equal(report_plot_add_series(&p, "one too many"), SIM_ERANGE);
    report_plot_fini(&p);
}

/* ---- gnuplot missing or failing: a clear message ---- */
static void test_gnuplot_missing_says_install(void **state)
{
    (void)state;
    struct report_plot p;
    sample_plot(&p, REPORT_PLOT_LINES, "first");
    char path[512];
    out_path(path, sizeof(path), "nognuplot.svg");
    char *old = strdup(getenv("PATH") != NULL ? getenv("PATH") : "");
    assert_non_null(old);
    setenv("PATH", tmpdir, 1); /* a directory without gnuplot */
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = report_plot_write(&p, path, &d);
    setenv("PATH", old, 1);
    free(old);
    assert_int_equal(rc, SIM_ENOENT);
    assert_non_null(strstr(d.text, "gnuplot-nox"));
    report_plot_fini(&p);
}

static void test_gnuplot_failure_reports_its_stderr(void **state)
{
    (void)state;
    struct report_plot p;
    sample_plot(&p, REPORT_PLOT_LINES, "first");
    char path[512];
    out_path(path, sizeof(path), "no/such/dir/x.svg");
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(report_plot_write(&p, path, &d), SIM_EIO);
    assert_non_null(strstr(d.text, "gnuplot failed"));
    assert_non_null(strstr(d.text, "gnuplot: "));
    report_plot_fini(&p);
}

/* ---- report_plot_add_cdf: hand-computed steps ---- */
static void test_add_cdf_points(void **state)
{
    (void)state;
    struct report_plot p;
    report_plot_init(&p, REPORT_PLOT_CDF, "cdf", "x", "F");
    const double samples[] = {3.0, 1.0, 2.0, 2.0};
    assert_int_equal(report_plot_add_cdf(&p, "s", samples, ARRAY_LEN(samples)), 0);
    const double want_x[] = {1.0, 1.0, 2.0, 3.0}, want_y[] = {0.0, 0.25, 0.75, 1.0};
    assert_int_equal(p.series[0].n_points, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_true(p.series[0].x[i] == want_x[i]);
        assert_true(p.series[0].y[i] == want_y[i]);
    }
    const double bad[] = {1.0, NAN};
    assert_int_equal(report_plot_add_cdf(&p, "nan", bad, 2), SIM_EINVAL);
    assert_int_equal(p.n_series, 1);
    report_plot_fini(&p);
}

/* ---- plots from a synthetic database ---- */

static void emit_group(struct recorder *r, uint32_t id, const char *name, const char *mode,
                       uint32_t count)
{
    struct recorder_group g = {
        .group_id = id, .name = name, .board = "nrf52840dk", .bootloader = mode, .count = count};
    assert_int_equal(recorder_group_emit(r, &g), SIM_OK);
}

/* An updated device with one attempt: DFU time dfu_s ending at updated_s, bytes uploaded
 * in upload_s. updated_s < 0: a device that never updated (no attempt). */
static void emit_device(struct recorder *r, uint32_t id, uint32_t group, double updated_s,
                        double dfu_s, int64_t bytes, double upload_s)
{
    const int64_t s = 1000000000;
    struct recorder_device d = {.device_id = id,
                                .group_id = group,
                                .gateway_id = RECORDER_NONE,
                                .state = updated_s >= 0 ? "updated" : "pending",
                                .attempts = updated_s >= 0,
                                .updated_ns =
                                    updated_s >= 0 ? (int64_t)(updated_s * s) : RECORDER_NONE};
    assert_int_equal(recorder_device_emit(r, &d), SIM_OK);
    if (updated_s < 0)
        return;
    int64_t end = (int64_t)(updated_s * s), start = end - (int64_t)(dfu_s * s);
    struct recorder_attempt a = {.attempt_id = id * 64,
                                 .device_id = id,
                                 .gateway_id = RECORDER_NONE,
                                 .client = "smpclient",
                                 .start_ns = start,
                                 .connect_ns = RECORDER_NONE,
                                 .validate_ns = RECORDER_NONE,
                                 .upload_start_ns = start,
                                 .upload_end_ns = start + (int64_t)(upload_s * s),
                                 .test_ns = RECORDER_NONE,
                                 .reset_ns = RECORDER_NONE,
                                 .swap_start_ns = RECORDER_NONE,
                                 .swap_end_ns = RECORDER_NONE,
                                 .reconnect_ns = RECORDER_NONE,
                                 .confirm_ns = RECORDER_NONE,
                                 .end_ns = end,
                                 .bytes_sent = bytes,
                                 .image_bytes = bytes,
                                 .chunks = 1,
                                 .outcome = "updated"};
    assert_int_equal(recorder_attempt_emit(r, &a), SIM_OK);
}

static void begin_run(struct recorder *r, uint32_t replication, const char *window)
{
    struct recorder_run run = {.scenario_name = "synthetic",
                               .scenario_text = "x",
                               .scenario_len = 1,
                               .model = "fleet",
                               .seed = 1,
                               .replication = replication,
                               .level = RECORDER_ATTEMPTS};
    int64_t id = 0;
    assert_int_equal(recorder_run_begin(r, &run, &id), SIM_OK);
    assert_int_equal(recorder_param(r, "client.window", window), SIM_OK);
}

/* Run 1 (window 1): mice (swap-move) 4 devices, updated at 100 s (10 s DFU, 100 kB in 2 s
 * = 50 kB/s) and 200 s (20 s, 100 kB in 4 s = 25 kB/s), two never; group "kb's "odd""
 * (direct-xip) one device updated at 50 s (5 s, 60 kB in 2 s = 30 kB/s).
 * Run 2 (window 3): mice 1 device updated at 30 s (30 s, 100 kB in 1 s = 100 kB/s).
 * Run 3 (window 1) is interrupted, so it must not count: an update at 5000 s. */
static void make_db(const char *path)
{
    struct recorder *r = NULL;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(recorder_open(path, &r, &d), SIM_OK);
    begin_run(r, 0, "1");
    emit_group(r, 0, "mice", "swap-move", 4);
    emit_group(r, 1, "kb's \"odd\"", "direct-xip", 1);
    emit_device(r, 0, 0, 100, 10, 100000, 2);
    emit_device(r, 1, 0, 200, 20, 100000, 4);
    emit_device(r, 2, 0, -1, 0, 0, 0);
    emit_device(r, 3, 0, -1, 0, 0, 0);
    emit_device(r, 4, 1, 50, 5, 60000, 2);
    assert_int_equal(recorder_run_end(r, RECORDER_COMPLETE, NULL, 300000000000, 1), SIM_OK);
    begin_run(r, 1, "3");
    emit_group(r, 0, "mice", "swap-move", 1);
    emit_device(r, 0, 0, 30, 30, 100000, 1);
    assert_int_equal(recorder_run_end(r, RECORDER_COMPLETE, NULL, 60000000000, 1), SIM_OK);
    begin_run(r, 2, "1");
    emit_group(r, 0, "mice", "swap-move", 1);
    emit_device(r, 0, 0, 5000, 1000, 1000000, 1);
    assert_int_equal(recorder_run_end(r, RECORDER_INTERRUPTED, NULL, 1, 1), SIM_OK);
    recorder_close(r);
}

static sqlite3 *open_db(const char *name)
{
    char path[512];
    out_path(path, sizeof(path), name);
    make_db(path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

static void check_series(const struct report_plot *p, size_t s, const char *name, const double *x,
                         const double *y, size_t n)
{
    assert_string_equal(p->series[s].name, name);
    assert_int_equal(p->series[s].n_points, n);
    for (size_t i = 0; i < n; i++) {
        assert_float_equal(p->series[s].x[i], x[i], 1e-9);
        assert_float_equal(p->series[s].y[i], y[i], 1e-9);
    }
}

static void test_db_dfu_time_cdf(void **state)
{
    (void)state;
    sqlite3 *db = open_db("cdf.db");
    struct report_plot p;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(report_plot_from_dfu_time(db, REPORT_PLOT_BY_MODE, &p, &d), SIM_OK);
    assert_int_equal(p.kind, REPORT_PLOT_CDF);
    assert_non_null(strstr(p.xlabel, "(s)"));
    assert_int_equal(p.n_series, 2);
    const double xx[] = {5, 5}, xy[] = {0, 1};
    check_series(&p, 0, "direct-xip", xx, xy, 2);
    const double sx[] = {10, 10, 20, 30}, sy[] = {0, 1.0 / 3, 2.0 / 3, 1};
    check_series(&p, 1, "swap-move", sx, sy, 4);
    report_plot_fini(&p);

    assert_int_equal(report_plot_from_dfu_time(db, REPORT_PLOT_BY_GROUP, &p, &d), SIM_OK);
    assert_int_equal(p.n_series, 2);
    check_series(&p, 0, "kb's \"odd\"", xx, xy, 2);
    check_series(&p, 1, "mice", sx, sy, 4);
    char path[512];
    out_path(path, sizeof(path), "db-cdf.svg");
    write_ok(&p, 1, path);
    report_plot_fini(&p);
    sqlite3_close(db);
}

static void test_db_progress(void **state)
{
    (void)state;
    sqlite3 *db = open_db("progress.db");
    struct report_plot p;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(report_plot_from_progress(db, REPORT_PLOT_BY_MODE, &p, &d), SIM_OK);
    assert_int_equal(p.kind, REPORT_PLOT_LINES);
    /* The last update is at 200 s: minutes. */
    assert_non_null(strstr(p.xlabel, "(min)"));
    const double end = 200.0 / 60;
    const double xx[] = {0, 50.0 / 60, 50.0 / 60, end}, xy[] = {0, 0, 100, 100};
    check_series(&p, 0, "direct-xip", xx, xy, 4);
    /* 5 swap-move devices in complete runs, updated at 30, 100 and 200 s. */
    const double sx[] = {0, 0.5, 0.5, 100.0 / 60, 100.0 / 60, end, end, end};
    const double sy[] = {0, 0, 20, 20, 40, 40, 60, 60};
    check_series(&p, 1, "swap-move", sx, sy, 8);
    report_plot_fini(&p);
    sqlite3_close(db);
}

static void test_db_throughput(void **state)
{
    (void)state;
    sqlite3 *db = open_db("tput.db");
    struct report_plot p;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(report_plot_from_throughput(db, NULL, REPORT_PLOT_BY_MODE, &p, &d), SIM_OK);
    assert_int_equal(p.kind, REPORT_PLOT_LINESPOINTS);
    assert_string_equal(p.xlabel, "client.window");
    const double xx[] = {1}, xy[] = {30};
    check_series(&p, 0, "direct-xip", xx, xy, 1);
    const double sx[] = {1, 3}, sy[] = {37.5, 100}; /* mean of 50 and 25; then 100 */
    check_series(&p, 1, "swap-move", sx, sy, 2);
    report_plot_fini(&p);

    sim_diag_init(&d);
    assert_int_equal(report_plot_from_throughput(db, "client.nope", REPORT_PLOT_BY_MODE, &p, &d),
                     SIM_ENOENT);
    assert_non_null(strstr(d.text, "client.nope"));
    assert_int_equal(p.n_series, 0);
    sqlite3_close(db);
}

/* ---- the three plots in one file, from the database ---- */
static void test_db_three_plots_in_one_file(void **state)
{
    (void)state;
    sqlite3 *db = open_db("three.db");
    struct report_plot p[3];
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(report_plot_from_dfu_time(db, REPORT_PLOT_BY_MODE, &p[0], &d), SIM_OK);
    assert_int_equal(report_plot_from_progress(db, REPORT_PLOT_BY_MODE, &p[1], &d), SIM_OK);
    assert_int_equal(report_plot_from_throughput(db, NULL, REPORT_PLOT_BY_MODE, &p[2], &d), SIM_OK);
    static const char *const files[] = {"three.svg", "three.png"};
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        char path[512];
        out_path(path, sizeof(path), files[i]);
        write_ok(p, 3, path);
        size_t len = 0;
        char *buf = check_file(path, &len);
        if (i == 0) {
            assert_non_null(strstr(buf, "Per-device DFU time"));
            assert_non_null(strstr(buf, "Fleet progress"));
            assert_non_null(strstr(buf, "Upload throughput"));
        }
        free(buf);
    }
    for (size_t i = 0; i < 3; i++)
        report_plot_fini(&p[i]);
    sqlite3_close(db);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/dfusim-test-plot-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gnuplot_is_installed),
        cmocka_unit_test(test_each_kind_svg_and_png),
        cmocka_unit_test(test_output_is_deterministic),
        cmocka_unit_test(test_odd_series_names),
        cmocka_unit_test(test_unknown_extension_fails),
        cmocka_unit_test(test_invalid_plots_fail),
        cmocka_unit_test(test_gnuplot_missing_says_install),
        cmocka_unit_test(test_gnuplot_failure_reports_its_stderr),
        cmocka_unit_test(test_add_cdf_points),
        cmocka_unit_test(test_db_dfu_time_cdf),
        cmocka_unit_test(test_db_progress),
        cmocka_unit_test(test_db_throughput),
        cmocka_unit_test(test_db_three_plots_in_one_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
