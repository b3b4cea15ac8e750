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
#include "report/summary.h"
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

/* Whether the n bytes at buf hold the string s. */
static const char *find_bytes(const char *buf, size_t n, const char *s)
{
    size_t m = strlen(s);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(buf + i, s, m) == 0)
            return buf + i;
    return NULL;
}

static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

/* Checks the file at path is a non-empty SVG, PNG or PDF (by its extension); returns it. */
static char *check_file(const char *path, size_t *len)
{
    char *buf = slurp(path, len);
    assert_non_null(buf);
    assert_true(*len > 100);
    if (strstr(path, ".png") != NULL) {
        assert_memory_equal(buf, png_sig, sizeof(png_sig));
    } else if (strstr(path, ".pdf") != NULL) {
        assert_memory_equal(buf, "%PDF-1.", 7);
        /* The date that cairo writes is overwritten with a fixed one. */
        assert_non_null(find_bytes(buf, *len, "/CreationDate (D:19700101000000"));
        assert_non_null(find_bytes(buf, *len, "%%EOF"));
    } else {
        assert_true(strncmp(buf, "<?xml", 5) == 0 || strncmp(buf, "<svg", 4) == 0);
        assert_non_null(strstr(buf, "</svg>"));
    }
    return buf;
}

static void write_ok(const struct report_plot *plot, size_t n, const char *path)
{
    assert_int_equal(n, 1);
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = report_plot_write(plot, path, &d);
    if (rc != SIM_OK)
        fail_msg("report_plot_write(%s) = %d: %s", path, rc, d.text);
}

static void write_figure_ok(const struct report_figure *f, const char *path)
{
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = report_plot_write_figure(f, path, &d);
    if (rc != SIM_OK)
        fail_msg("report_plot_write_figure(%s) = %d: %s", path, rc, d.text);
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
        {"step CDF as PDF", REPORT_PLOT_CDF, "cdf.pdf"},
        {"lines with points as PDF", REPORT_PLOT_LINESPOINTS, "lp.pdf"},
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
    static const char *const files[][2] = {
        {"d1.svg", "d2.svg"}, {"d1.png", "d2.png"}, {"d1.pdf", "d2.pdf"}};
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        struct report_plot p;
        sample_plot(&p, REPORT_PLOT_LINES, "first");
        char a[512], b[512];
        out_path(a, sizeof(a), files[i][0]);
        out_path(b, sizeof(b), files[i][1]);
        write_ok(&p, 1, a);
        sleep(1); /* a PDF written a second later would have another date, if it were kept */
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
    static const char *const files[] = {"x.jpg", "x", "x.SVG.txt", "svg", "x.pdf.eps"};
    struct report_plot p;
    sample_plot(&p, REPORT_PLOT_LINES, "first");
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        char path[512];
        out_path(path, sizeof(path), files[i]);
        struct sim_diag d;
        sim_diag_init(&d);
        assert_int_equal(report_plot_write(&p, path, &d), SIM_EINVAL);
        assert_non_null(strstr(d.text, "must end in .svg, .png or .pdf"));
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
    assert_int_equal(report_plot_add_cdf(&p, "s", samples, ARRAY_LEN(samples), 4), 0);
    const double want_x[] = {1.0, 1.0, 2.0, 3.0}, want_y[] = {0.0, 0.25, 0.75, 1.0};
    assert_int_equal(p.series[0].n_points, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_true(p.series[0].x[i] == want_x[i]);
        assert_true(p.series[0].y[i] == want_y[i]);
    }
    const double bad[] = {1.0, NAN};
    assert_int_equal(report_plot_add_cdf(&p, "nan", bad, 2, 2), SIM_EINVAL);
    assert_int_equal(report_plot_add_cdf(&p, "short", samples, 4, 3), SIM_EINVAL);
    assert_int_equal(p.n_series, 1);
    /* Over a population of 8, 4 of which never got a value: the curve ends at 1/2. */
    assert_int_equal(report_plot_add_cdf(&p, "half", samples, ARRAY_LEN(samples), 8), 1);
    const double half_y[] = {0.0, 0.125, 0.375, 0.5};
    for (size_t i = 0; i < 4; i++) {
        assert_true(p.series[1].x[i] == want_x[i]);
        assert_true(p.series[1].y[i] == half_y[i]);
    }
    report_plot_fini(&p);
}

/* ---- the figure of dfusim report --plot, from a synthetic database ---- */

static void emit_group(struct recorder *r, uint32_t id, const char *name, const char *board,
                       const char *mode, uint32_t count)
{
    struct recorder_group g = {
        .group_id = id, .name = name, .board = board, .bootloader = mode, .count = count};
    assert_int_equal(recorder_group_emit(r, &g), SIM_OK);
}

/* A device updated at updated_s whose one attempt took dfu_s (started at updated_s -
 * dfu_s), uploading bytes in upload_s. updated_s < 0: never updated (no attempt). */
static void emit_device(struct recorder *r, uint32_t id, uint32_t group, double updated_s,
                        double dfu_s, int64_t bytes, double upload_s)
{
    const int64_t s = 1000000000;
    int64_t end = (int64_t)(updated_s * s), start = end - (int64_t)(dfu_s * s);
    struct recorder_device d = {.device_id = id,
                                .group_id = group,
                                .gateway_id = RECORDER_NONE,
                                .state = updated_s >= 0 ? "updated" : "pending",
                                .attempts = updated_s >= 0,
                                .first_start_ns = updated_s >= 0 ? start : RECORDER_NONE,
                                .updated_ns = updated_s >= 0 ? end : RECORDER_NONE,
                                .bytes_sent = updated_s >= 0 ? bytes : 0};
    assert_int_equal(recorder_device_emit(r, &d), SIM_OK);
    if (updated_s < 0)
        return;
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
                               .seed = 1 + replication,
                               .replication = replication,
                               .level = RECORDER_ATTEMPTS};
    int64_t id = 0;
    assert_int_equal(recorder_run_begin(r, &run, &id), SIM_OK);
    char seed[16];
    snprintf(seed, sizeof(seed), "%u", 1 + replication);
    assert_int_equal(recorder_param(r, "seed", seed), SIM_OK);
    assert_int_equal(recorder_param(r, "client.window", window), SIM_OK);
}

/* Three groups: mice and rats (nrf52840dk, swap-move, 2 devices each), owls (nrf5340dk,
 * swap-move, 1 device). Sweep points client.window 1 and 3, two replications each:
 *  window 1, rep 0: mice updated at 100 s (DFU 10 s), one never; rats at 50 s (20 s) and
 *                   60 s (30 s); owls at 40 s (40 s). First attempt of the run at 0 s.
 *  window 1, rep 1: mice at 20 s (20 s) and 40 s (10 s); rats at 50 s (10 s), one never;
 *                   owls at 30 s (30 s).
 *  window 3, rep 0/1: every device at 10 s (10 s), uploads of 100 kB in 2 s / 2.5 s.
 * A third run of window 1 is interrupted: its 5000 s update must not count. */
static void make_db(const char *path)
{
    struct recorder *r = NULL;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(recorder_open(path, &r, &d), SIM_OK);
    const struct {
        double at[5], dfu[5];
    } w1[2] = {
        {{100, -1, 50, 60, 40}, {10, 0, 20, 30, 40}},
        {{20, 40, 50, -1, 30}, {20, 10, 10, 0, 30}},
    };
    for (uint32_t rep = 0; rep < 2; rep++) {
        begin_run(r, rep, "1");
        emit_group(r, 0, "mice", "nrf52840dk", "swap-move", 2);
        emit_group(r, 1, "rats", "nrf52840dk", "swap-move", 2);
        emit_group(r, 2, "owls", "nrf5340dk", "swap-move", 1);
        for (uint32_t i = 0; i < 5; i++)
            emit_device(r, i, i < 2 ? 0 : i < 4 ? 1 : 2, w1[rep].at[i], w1[rep].dfu[i], 100000, 4);
        assert_int_equal(recorder_run_end(r, RECORDER_COMPLETE, NULL, 300000000000, 1), SIM_OK);
    }
    for (uint32_t rep = 0; rep < 2; rep++) {
        begin_run(r, rep, "3");
        emit_group(r, 0, "mice", "nrf52840dk", "swap-move", 2);
        emit_group(r, 1, "rats", "nrf52840dk", "swap-move", 2);
        emit_group(r, 2, "owls", "nrf5340dk", "swap-move", 1);
        for (uint32_t i = 0; i < 5; i++)
            emit_device(r, i, i < 2 ? 0 : i < 4 ? 1 : 2, 10, 10, 100000, rep == 0 ? 2 : 2.5);
        assert_int_equal(recorder_run_end(r, RECORDER_COMPLETE, NULL, 300000000000, 1), SIM_OK);
    }
    begin_run(r, 2, "1");
    emit_group(r, 0, "mice", "nrf52840dk", "swap-move", 1);
    emit_device(r, 0, 0, 5000, 1000, 1000000, 1);
    assert_int_equal(recorder_run_end(r, RECORDER_INTERRUPTED, NULL, 1, 1), SIM_OK);
    recorder_close(r);
}

/* A database, its summary and the figure for options o; the caller frees them. */
struct built {
    sqlite3 *db;
    struct report_summary *s;
    struct report_figure *fig;
};

static int build_figure(const char *name, void (*make)(const char *),
                        const struct report_plot_options *o, struct built *b, struct sim_diag *d)
{
    char path[512];
    out_path(path, sizeof(path), name);
    if (access(path, F_OK) != 0)
        make(path);
    char msg[256];
    assert_int_equal(report_summary_load(path, o->group, &b->s, msg, sizeof(msg)), 0);
    assert_int_equal(sqlite3_open_v2(path, &b->db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    b->fig = malloc(sizeof(*b->fig));
    assert_non_null(b->fig);
    sim_diag_init(d);
    return report_plot_build(b->db, b->s, o, b->fig, d);
}

static void built_free(struct built *b)
{
    report_figure_fini(b->fig);
    free(b->fig);
    report_summary_free(b->s);
    sqlite3_close(b->db);
}

static void build_ok(const char *name, void (*make)(const char *),
                     const struct report_plot_options *o, struct built *b)
{
    struct sim_diag d;
    int rc = build_figure(name, make, o, b, &d);
    if (rc != SIM_OK)
        fail_msg("report_plot_build = %d: %s", rc, d.text);
}

/* The gnuplot script of a figure, in a heap string. */
static char *script_of(const struct report_figure *f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = report_plot_script(f, REPORT_PLOT_SVG, "x.svg", m, &d);
    assert_int_equal(fclose(m), 0);
    if (rc != SIM_OK)
        fail_msg("report_plot_script = %d: %s", rc, d.text);
    return buf;
}

/* The "plot ..." lines of a script: per line, its clauses; asserts no two clauses of one
 * plot share colour and dash pattern, and returns the number of clauses in all. */
static size_t check_plot_lines(const char *script, size_t *n_plots)
{
    size_t clauses = 0;
    *n_plots = 0;
    for (const char *l = script; l != NULL && *l;
         l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, "plot ", 5) != 0)
            continue;
        (*n_plots)++;
        size_t end = strcspn(l, "\n");
        char styles[REPORT_PLOT_MAX_SERIES + 1][64];
        size_t n = 0;
        for (const char *c = strstr(l, " lc rgb \""); c != NULL && c < l + end;
             c = strstr(c + 1, " lc rgb \"")) {
            const char *dt = strstr(c, " dt ");
            const char *pt = strstr(c, " pt ");
            assert_non_null(dt);
            assert_non_null(pt);
            assert_true(n <= REPORT_PLOT_MAX_SERIES);
            snprintf(styles[n], sizeof(styles[n]), "%.*s", (int)(pt - c), c);
            for (size_t k = 0; k < n; k++) {
                assert_string_not_equal(styles[k], styles[n]);
                /* and the colour alone differs too: never a repeated colour in a panel */
                assert_true(strncmp(styles[k], styles[n], 18) != 0);
            }
            n++;
        }
        clauses += n;
    }
    return clauses;
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

/* By group, every point: 3 groups x 2 points = 6 curves fit one panel per plot. */
static void test_build_by_group_all_points(void **state)
{
    (void)state;
    struct report_plot_options o = {.by = REPORT_PLOT_BY_GROUP, .panels = REPORT_PANEL_ALL};
    struct built b;
    build_ok("synth.db", make_db, &o, &b);
    const struct report_figure *f = b.fig;
    assert_non_null(strstr(f->title, "synthetic"));
    assert_non_null(strstr(f->title, "all 2 sweep points"));
    assert_non_null(strstr(f->title, "2 replications"));
    assert_int_equal(f->n_panels, 3);
    const struct report_plot *cdf = &f->panels[0], *prog = &f->panels[1], *sw = &f->panels[2];
    assert_int_equal(cdf->kind, REPORT_PLOT_CDF);
    assert_int_equal(cdf->n_series, 6);
    static const char *const names[] = {"mice, client.window=1", "mice, client.window=3",
                                        "rats, client.window=1", "rats, client.window=3",
                                        "owls, client.window=1", "owls, client.window=3"};
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(cdf->series[i].name, names[i]);
        assert_string_equal(prog->series[i].name, names[i]);
    }
    /* mice at window 1: DFU times 10 (rep 0), 20 and 10 (rep 1), one device never: 4. */
    const double cx[] = {10, 10, 20}, cy[] = {0, 0.5, 0.75};
    check_series(cdf, 0, names[0], cx, cy, 3);
    /* Its progress, mean of the two runs: each update adds 100 / 2 devices / 2 runs = 25 %
     * at 20, 40 (rep 1) and 100 s (rep 0); the curves end at the last update, 100 s. */
    assert_non_null(strstr(prog->xlabel, "(s)"));
    const double px[] = {0, 20, 20, 40, 40, 100, 100, 100}, py[] = {0, 0, 25, 25, 50, 50, 75, 75};
    check_series(prog, 0, names[0], px, py, 8);
    /* The sweep panel: x the window, y and error bars the summary's (point, group) rows. */
    assert_int_equal(sw->kind, REPORT_PLOT_LINESPOINTS);
    assert_string_equal(sw->xlabel, "client.window");
    assert_true(sw->integer_x);
    assert_int_equal(sw->n_series, 3);
    assert_string_equal(sw->series[0].name, "mice");
    for (size_t i = 0; i < b.s->n_rows; i++) {
        const struct report_row *r = &b.s->rows[i];
        size_t si = strcmp(r->group, "mice") == 0 ? 0 : strcmp(r->group, "rats") == 0 ? 1 : 2;
        assert_float_equal(sw->series[si].x[r->point_index], r->point_index == 0 ? 1 : 3, 0);
        assert_float_equal(sw->series[si].y[r->point_index], r->mean[REPORT_GOODPUT_MEAN], 1e-12);
        assert_float_equal(sw->series[si].err[r->point_index], r->ci95[REPORT_GOODPUT_MEAN], 1e-12);
    }
    /* window 3: 100 kB in 2 s and 2.5 s: means 50 and 40, so a non-zero interval. */
    assert_float_equal(sw->series[0].y[1], 45.0, 1e-9);
    assert_true(sw->series[0].err[1] > 0);

    char *script = script_of(f);
    size_t n_plots = 0;
    /* One clause per group x point in the CDF and progress, one per group in the sweep. */
    assert_int_equal(check_plot_lines(script, &n_plots), 6 + 6 + 3);
    assert_int_equal(n_plots, 3);
    assert_non_null(strstr(script, "set multiplot title \"synthetic: all 2 sweep points"));
    assert_non_null(strstr(script, "with yerrorlines"));
    assert_non_null(strstr(script, "using 1:2:3"));
    /* Integer tics on the window axis: 1, 2, 3 and nothing between. */
    assert_non_null(strstr(script, "set xtics 1, 1, 3\nset mxtics 1\n"));
    free(script);

    static const char *const files[] = {"synth.svg", "synth.png", "synth.pdf"};
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        char path[512];
        out_path(path, sizeof(path), files[i]);
        write_figure_ok(f, path);
        size_t len = 0;
        char *buf = check_file(path, &len);
        if (i == 0) {
            assert_non_null(strstr(buf, "synthetic: all 2 sweep points"));
            assert_non_null(strstr(buf, "mice, client.window=3"));
        }
        free(buf);
    }
    built_free(&b);
}

/* By mode: mice and rats share board and mode (one curve, and the legend says "2
 * groups"); owls are on another board (a curve of their own). One point: the title names
 * it and its swept value, and there is no sweep panel. */
static void test_build_by_mode_one_point(void **state)
{
    (void)state;
    struct report_plot_options o = {
        .by = REPORT_PLOT_BY_MODE, .point = 2, .panels = REPORT_PANEL_ALL};
    struct built b;
    build_ok("synth.db", make_db, &o, &b);
    assert_non_null(strstr(b.fig->title, "synthetic: point 2 of 2 (client.window=3)"));
    assert_int_equal(b.fig->n_panels, 2);
    const struct report_plot *cdf = &b.fig->panels[0];
    assert_int_equal(cdf->n_series, 2);
    assert_string_equal(cdf->series[0].name, "nrf52840dk swap-move (2 groups)");
    assert_string_equal(cdf->series[1].name, "nrf5340dk swap-move");
    /* window 3: all 8 devices of the merged groups over both runs at 10 s. */
    const double x[] = {10, 10}, y[] = {0, 1};
    check_series(cdf, 0, "nrf52840dk swap-move (2 groups)", x, y, 2);
    built_free(&b);

    /* Point 1 by mode: mice and rats together, 10, 10, 20 (mice) and 20, 30, 10 (rats) of 8
     * devices, two never updated. */
    o.point = 1;
    build_ok("synth.db", make_db, &o, &b);
    assert_non_null(strstr(b.fig->title, "point 1 of 2 (client.window=1)"));
    const double x1[] = {10, 10, 20, 30}, y1[] = {0, 3.0 / 8, 5.0 / 8, 6.0 / 8};
    check_series(&b.fig->panels[0], 0, "nrf52840dk swap-move (2 groups)", x1, y1, 4);
    built_free(&b);
}

/* --panel: one plot alone; the sweep panel asked for alone says why it cannot be drawn. */
static void test_build_one_panel(void **state)
{
    (void)state;
    struct report_plot_options o = {.by = REPORT_PLOT_BY_GROUP, .panels = REPORT_PANEL_SWEEP};
    struct built b;
    build_ok("synth.db", make_db, &o, &b);
    assert_int_equal(b.fig->n_panels, 1);
    assert_int_equal(b.fig->panels[0].kind, REPORT_PLOT_LINESPOINTS);
    built_free(&b);

    o.panels = REPORT_PANEL_PROGRESS;
    o.group = "rats";
    build_ok("synth.db", make_db, &o, &b);
    assert_int_equal(b.fig->n_panels, 1);
    assert_int_equal(b.fig->panels[0].kind, REPORT_PLOT_LINES);
    assert_int_equal(b.fig->panels[0].n_series, 2); /* rats at two points */
    assert_non_null(strstr(b.fig->title, "group rats"));
    built_free(&b);

    o.panels = REPORT_PANEL_SWEEP;
    o.group = NULL;
    o.point = 1;
    struct sim_diag d;
    assert_int_equal(build_figure("synth.db", make_db, &o, &b, &d), SIM_ENOENT);
    assert_non_null(strstr(d.text, "--point"));
    assert_int_equal(b.fig->n_panels, 0);
    built_free(&b);

    o.point = 3;
    o.panels = REPORT_PANEL_ALL;
    assert_int_equal(build_figure("synth.db", make_db, &o, &b, &d), SIM_EINVAL);
    assert_non_null(strstr(d.text, "2 sweep points"));
    built_free(&b);
}

/* Ten groups, five per board, interleaved: more than the palette, so one panel per board
 * (each with five curves, its board in the title, the legend without it). */
static void make_many(const char *path)
{
    struct recorder *r = NULL;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(recorder_open(path, &r, &d), SIM_OK);
    begin_run(r, 0, "1");
    static const char *const modes[] = {"overwrite-only", "swap-scratch", "swap-move",
                                        "swap-offset", "direct-xip"};
    for (uint32_t i = 0; i < 10; i++) {
        char name[16];
        snprintf(name, sizeof(name), "%c%u", i % 2 ? 'b' : 'a', i / 2);
        emit_group(r, i, name, i % 2 ? "nrf5340dk" : "nrf52840dk", modes[i / 2], 1);
        /* identical curves on the two boards: the style must still tell them apart */
        emit_device(r, i, i, 10 + i / 2, 10, 1000, 1);
    }
    assert_int_equal(recorder_run_end(r, RECORDER_COMPLETE, NULL, 300000000000, 1), SIM_OK);
    recorder_close(r);
}

static void test_build_facets_when_groups_outnumber_colours(void **state)
{
    (void)state;
    for (int by = 0; by < 2; by++) {
        struct report_plot_options o = {.by = by ? REPORT_PLOT_BY_MODE : REPORT_PLOT_BY_GROUP,
                                        .panels = REPORT_PANEL_CDF | REPORT_PANEL_PROGRESS};
        struct built b;
        build_ok("many.db", make_many, &o, &b);
        assert_non_null(strstr(b.fig->title, "point 1 of 1 (all)"));
        assert_int_equal(b.fig->n_panels, 4);
        assert_int_equal(b.fig->n_cols, 2);
        for (size_t q = 0; q < 4; q++) {
            const struct report_plot *p = &b.fig->panels[q];
            assert_int_equal(p->n_series, 5);
            const char *board = q % 2 ? "nrf5340dk" : "nrf52840dk";
            assert_non_null(strstr(p->title, board));
            for (size_t i = 0; i < 5; i++) {
                char want[16];
                snprintf(want, sizeof(want), "%c%zu", q % 2 ? 'b' : 'a', i);
                static const char *const modes[] = {"overwrite-only", "swap-scratch", "swap-move",
                                                    "swap-offset", "direct-xip"};
                assert_string_equal(p->series[i].name, by ? modes[i] : want);
            }
        }
        assert_true(b.fig->panels[2].new_row);
        char *script = script_of(b.fig);
        size_t n_plots = 0;
        assert_int_equal(check_plot_lines(script, &n_plots), 20);
        assert_int_equal(n_plots, 4);
        free(script);
        built_free(&b);
    }
}

/* The sweep points the figure uses are the summary's, also when runs are stored out of
 * order (replications of point 2 before the rest of point 1, as with -j 2). */
static void make_shuffled(const char *path)
{
    struct recorder *r = NULL;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(recorder_open(path, &r, &d), SIM_OK);
    static const struct {
        uint32_t rep;
        const char *window;
        double at;
    } runs[] = {{0, "2", 10}, {0, "1", 20}, {1, "1", 30}, {1, "2", 40}};
    for (size_t i = 0; i < ARRAY_LEN(runs); i++) {
        begin_run(r, runs[i].rep, runs[i].window);
        emit_group(r, 0, "mice", "nrf52840dk", "swap-move", 1);
        emit_device(r, 0, 0, runs[i].at, runs[i].at, 1000, 1);
        assert_int_equal(recorder_run_end(r, RECORDER_COMPLETE, NULL, 300000000000, 1), SIM_OK);
    }
    recorder_close(r);
}

static void test_build_points_follow_the_summary(void **state)
{
    (void)state;
    for (size_t point = 1; point <= 2; point++) {
        struct report_plot_options o = {
            .by = REPORT_PLOT_BY_GROUP, .point = point, .panels = REPORT_PANEL_CDF};
        struct built b;
        build_ok("shuffled.db", make_shuffled, &o, &b);
        /* The summary's point 1 is the first run's, window 2: DFU times 10 and 40 s. */
        assert_string_equal(b.s->rows[point - 1].point,
                            point == 1 ? "client.window=2" : "client.window=1");
        assert_non_null(strstr(b.fig->title, b.s->rows[point - 1].point));
        const double x[] = {point == 1 ? 10 : 20, point == 1 ? 10 : 20, point == 1 ? 40 : 30};
        const double y[] = {0, 0.5, 1};
        check_series(&b.fig->panels[0], 0, "mice", x, y, 3);
        built_free(&b);
    }
}

/* Two identical curves get different colours, dash patterns and markers. */
static void test_identical_curves_styled_apart(void **state)
{
    (void)state;
    struct report_figure *f = malloc(sizeof(*f));
    assert_non_null(f);
    report_figure_init(f, "same");
    struct report_plot *p = report_figure_add(f, REPORT_PLOT_CDF, "cdf", "x", "y");
    const double v[] = {1, 2, 3};
    assert_int_equal(report_plot_add_cdf(p, "swap-move", v, 3, 3), 0);
    assert_int_equal(report_plot_add_cdf(p, "swap-scratch", v, 3, 3), 1);
    char *script = script_of(f);
    size_t n_plots = 0;
    assert_int_equal(check_plot_lines(script, &n_plots), 2);
    const char *a = strstr(script, "\"swap-move\" with"),
               *b = strstr(script, "\"swap-scratch\" with");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(strncmp(strstr(a, " dt "), strstr(b, " dt "), 8) != 0);
    assert_true(strncmp(strstr(a, " pt "), strstr(b, " pt "), 6) != 0);
    free(script);
    report_figure_fini(f);
    free(f);
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
        cmocka_unit_test(test_identical_curves_styled_apart),
        cmocka_unit_test(test_build_by_group_all_points),
        cmocka_unit_test(test_build_by_mode_one_point),
        cmocka_unit_test(test_build_one_panel),
        cmocka_unit_test(test_build_facets_when_groups_outnumber_colours),
        cmocka_unit_test(test_build_points_follow_the_summary),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
