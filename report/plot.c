/* report/plot.c - plot data, the gnuplot script that draws it, and the subprocess.
 *
 * Why gnuplot as a subprocess: it is one Debian package (gnuplot-nox), its svg and
 * pngcairo terminals write files without timestamps (pdfcairo writes one, which we
 * overwrite), and a script with inline data blocks ($dN << EOD) keeps the interface to it
 * a plain text file we can test (report_plot_script).
 */
#include "report/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void copy_text(char *dst, const char *src)
{
    if (src == NULL)
        src = "";
    snprintf(dst, REPORT_PLOT_TEXT_CAP, "%s", src);
}

void report_plot_init(struct report_plot *p, enum report_plot_kind kind, const char *title,
                      const char *xlabel, const char *ylabel)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->xmin = NAN;
    p->xmax = NAN;
    copy_text(p->title, title);
    copy_text(p->xlabel, xlabel);
    copy_text(p->ylabel, ylabel);
}

void report_plot_fini(struct report_plot *p)
{
    for (size_t i = 0; i < p->n_series; i++) {
        free(p->series[i].x);
        free(p->series[i].y);
        free(p->series[i].err);
    }
    enum report_plot_kind kind = p->kind;
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->xmin = NAN;
    p->xmax = NAN;
}

int report_plot_add_series(struct report_plot *p, const char *name)
{
    if (p->n_series >= REPORT_PLOT_MAX_SERIES)
        return SIM_ERANGE;
    struct report_plot_series *s = &p->series[p->n_series];
    memset(s, 0, sizeof(*s));
    copy_text(s->name, name);
    return (int)p->n_series++;
}

static int grow(double **a, size_t cap)
{
    double *n = realloc(*a, cap * sizeof(*n));
    if (n == NULL)
        return SIM_ENOMEM;
    *a = n;
    return SIM_OK;
}

int report_plot_add_point_err(struct report_plot *p, size_t si, double x, double y, double err)
{
    if (si >= p->n_series || !isfinite(x) || !isfinite(y) || err < 0 || isinf(err))
        return SIM_EINVAL;
    struct report_plot_series *s = &p->series[si];
    if (s->n_points == s->cap) {
        size_t cap = s->cap != 0 ? s->cap * 2 : 64;
        /* Growing changes no point: the plot is unchanged when one of these fails. */
        if (grow(&s->x, cap) != SIM_OK || grow(&s->y, cap) != SIM_OK ||
            grow(&s->err, cap) != SIM_OK)
            return SIM_ENOMEM;
        s->cap = cap;
    }
    s->x[s->n_points] = x;
    s->y[s->n_points] = y;
    s->err[s->n_points] = err;
    s->n_points++;
    return SIM_OK;
}

int report_plot_add_point(struct report_plot *p, size_t si, double x, double y)
{
    return report_plot_add_point_err(p, si, x, y, NAN);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A CDF of a large fleet keeps at most this many steps: a step is drawn where the fraction
 * passes the next 1/STEPS (and at the last sample), so y is off by less than 1/STEPS
 * anywhere, and an SVG of 100,000 devices stays small. */
#define CURVE_STEPS 2000

static int keep_step(size_t i, size_t n, size_t *last_bucket)
{
    size_t bucket = (size_t)((double)i * CURVE_STEPS / (double)n);
    if (i != n && bucket == *last_bucket)
        return 0;
    *last_bucket = bucket;
    return 1;
}

static void drop_last_series(struct report_plot *p)
{
    struct report_plot_series *s = &p->series[--p->n_series];
    free(s->x);
    free(s->y);
    free(s->err);
    memset(s, 0, sizeof(*s));
}

int report_plot_add_cdf(struct report_plot *p, const char *name, const double *samples, size_t n,
                        size_t n_total)
{
    if (n_total < n)
        return SIM_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(samples[i]))
            return SIM_EINVAL;
    double *v = NULL;
    if (n > 0) {
        v = malloc(n * sizeof(*v));
        if (v == NULL)
            return SIM_ENOMEM;
        memcpy(v, samples, n * sizeof(*v));
        qsort(v, n, sizeof(*v), cmp_double);
    }
    int si = report_plot_add_series(p, name);
    int rc = si < 0 ? si : SIM_OK;
    if (rc == SIM_OK && n > 0)
        rc = report_plot_add_point(p, (size_t)si, v[0], 0.0);
    size_t last_bucket = 0;
    for (size_t i = 1; rc == SIM_OK && i <= n; i++) {
        /* Equal samples make one step, at the last of them. */
        if (i < n && v[i] == v[i - 1])
            continue;
        if (keep_step(i, n, &last_bucket))
            rc = report_plot_add_point(p, (size_t)si, v[i - 1], (double)i / (double)n_total);
    }
    free(v);
    if (rc != SIM_OK) {
        if (si >= 0)
            drop_last_series(p);
        return rc;
    }
    return si;
}

/* ---- figures ------------------------------------------------------------------------ */

void report_figure_init(struct report_figure *f, const char *title)
{
    f->n_panels = 0;
    f->n_cols = 1;
    copy_text(f->title, title);
}

void report_figure_fini(struct report_figure *f)
{
    for (size_t i = 0; i < f->n_panels; i++)
        report_plot_fini(&f->panels[i]);
    f->n_panels = 0;
}

struct report_plot *report_figure_add(struct report_figure *f, enum report_plot_kind kind,
                                      const char *title, const char *xlabel, const char *ylabel)
{
    if (f->n_panels >= REPORT_PLOT_MAX_PANELS)
        return NULL;
    struct report_plot *p = &f->panels[f->n_panels++];
    report_plot_init(p, kind, title, xlabel, ylabel);
    return p;
}

/* ---- the gnuplot script ---------------------------------------------------------- */

/* The style of the i-th series of a panel: colour, dash pattern and marker all differ
 * between series, so two curves that coincide (swap-move and swap-scratch often do) both
 * stay visible: the later one is dashed over the earlier one, with other markers.
 *
 * Colours: the palette of Okabe, M. and Ito, K. (2008), "Color Universal Design (CUD):
 * how to make figures and presentations that are friendly to colorblind people"
 * (jfly.uni-koeln.de/color/), eight colours that stay distinct under the common forms of
 * colour-vision deficiency. Ordered so that the faintest on white (yellow) comes last. */
static const char *const palette[REPORT_PLOT_MAX_SERIES] = {
    "#0072B2", /* blue */
    "#D55E00", /* vermillion */
    "#009E73", /* bluish green */
    "#CC79A7", /* reddish purple */
    "#E69F00", /* orange */
    "#56B4E9", /* sky blue */
    "#000000", /* black */
    "#F0E442", /* yellow */
};
/* gnuplot dash patterns (dash, gap, ... in units of the line width). */
static const char *const dashes[REPORT_PLOT_MAX_SERIES] = {
    "solid", "(10,5)", "(3,4)", "(12,4,3,4)", "(20,6)", "(6,3,2,3,2,3)", "(5,5)", "(16,4,6,4)",
};
/* gnuplot point types: filled circle, square, triangle, inverted triangle, diamond, then
 * open circle, square, triangle. */
static const int markers[REPORT_PLOT_MAX_SERIES] = {7, 5, 9, 11, 13, 6, 4, 8};

/* A gnuplot double-quoted string with \\ and \" escaped, so that every byte shows as
 * typed. (Single quotes with '' for a quote would do, but gnuplot reads a name that is one
 * quote, '''', as two empty strings.) Control characters become spaces: a newline would
 * end the command. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
        if (*c == '"' || *c == '\\')
            fputc('\\', f);
        if (*c < 0x20 || *c == 0x7f)
            fputc(' ', f);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

static int check_plot(const struct report_plot *p, size_t k, struct sim_diag *diag)
{
    if ((unsigned)p->kind >= REPORT_PLOT_KIND_COUNT) {
        sim_diag_add(diag, "plot %zu: unknown kind %d", k + 1, (int)p->kind);
        return SIM_EINVAL;
    }
    size_t total = 0;
    for (size_t i = 0; i < p->n_series; i++) {
        const struct report_plot_series *s = &p->series[i];
        total += s->n_points;
        for (size_t j = 0; p->kind == REPORT_PLOT_CDF && j < s->n_points; j++) {
            if (s->y[j] < 0.0 || s->y[j] > 1.0 || (j > 0 && s->x[j] < s->x[j - 1])) {
                sim_diag_add(diag,
                             "plot '%s', series '%s', point %zu: a CDF needs x sorted and y "
                             "in [0, 1]",
                             p->title, s->name, j + 1);
                return SIM_EINVAL;
            }
        }
    }
    if (total == 0) {
        sim_diag_add(diag, "plot '%s': no data to plot", p->title);
        return SIM_EINVAL;
    }
    return SIM_OK;
}

static bool has_err(const struct report_plot *p)
{
    for (size_t i = 0; i < p->n_series; i++)
        for (size_t j = 0; j < p->series[i].n_points; j++)
            if (!isnan(p->series[i].err[j]))
                return true;
    return false;
}

/* Integer tics from the smallest to the largest x, at most about 10 of them: a step of
 * 1, 2 or 5 times a power of ten, never below 1. */
static void put_integer_xtics(FILE *f, const struct report_plot *p)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < p->n_series; i++)
        for (size_t j = 0; j < p->series[i].n_points; j++) {
            lo = fmin(lo, p->series[i].x[j]);
            hi = fmax(hi, p->series[i].x[j]);
        }
    double step = 1;
    for (double mag = 1; (hi - lo) / step > 10; mag *= 10)
        for (int m = 0; m < 3 && (hi - lo) / step > 10; m++)
            step = mag * (double[]){2, 5, 10}[m];
    lo = floor(lo / step) * step;
    fprintf(f, "set xtics %.17g, %.17g, %.17g\nset mxtics 1\nset format x \"%%.0f\"\n", lo, step,
            hi);
    /* Half a step of room either side, so end points and their error bars are not on the
     * frame. */
    if (isnan(p->xmin) && isnan(p->xmax))
        fprintf(f, "set xrange [%.17g:%.17g]\n", lo - step / 2, hi + step / 2);
}

static void put_style(FILE *f, size_t i, size_t n_points, const char *how)
{
    /* About 8 markers per curve, on its vertices. */
    size_t every = n_points / 8 > 1 ? n_points / 8 : 1;
    fprintf(f, " with %s lw 2 lc rgb \"%s\" dt %s pt %d ps 1 pi %zu", how, palette[i], dashes[i],
            markers[i], every);
}

static void put_plot(FILE *f, const struct report_plot *p, size_t k)
{
    bool err = p->kind == REPORT_PLOT_LINESPOINTS && has_err(p);
    for (size_t i = 0; i < p->n_series; i++) {
        const struct report_plot_series *s = &p->series[i];
        fprintf(f, "$d%zu_%zu << EOD\n", k, i);
        for (size_t j = 0; j < s->n_points; j++) {
            /* A CDF is drawn as its staircase: across to the next x, then up. */
            if (p->kind == REPORT_PLOT_CDF && j > 0 && s->x[j] != s->x[j - 1])
                fprintf(f, "%.17g %.17g\n", s->x[j], s->y[j - 1]);
            fprintf(f, "%.17g %.17g", s->x[j], s->y[j]);
            if (err)
                fprintf(f, " %.17g", isnan(s->err[j]) ? 0.0 : s->err[j]);
            fputc('\n', f);
        }
        fputs("EOD\n", f);
    }
    fputs("set title ", f);
    put_quoted(f, p->title);
    fputs("\nset xlabel ", f);
    put_quoted(f, p->xlabel);
    fputs("\nset ylabel ", f);
    put_quoted(f, p->ylabel);
    fputs("\nset grid lt 1 lw 1 lc rgb \"#c8c8c8\" dt (2,4)\nset key outside right top vertical "
          "Left reverse samplen 4 spacing 1.2\n",
          f);
    fputs("set autoscale x\nset xtics autofreq\nset mxtics default\nset format x \"% h\"\n", f);
    if (!isnan(p->xmin) || !isnan(p->xmax)) {
        fputs("set xrange [", f);
        if (!isnan(p->xmin))
            fprintf(f, "%.17g", p->xmin);
        fputs(":", f);
        if (!isnan(p->xmax))
            fprintf(f, "%.17g", p->xmax);
        fputs("]\n", f);
    }
    if (p->integer_x)
        put_integer_xtics(f, p);
    if (p->kind == REPORT_PLOT_CDF)
        fputs("set yrange [0:1.02]\n", f);
    else if (p->kind == REPORT_PLOT_LINES)
        fputs("set yrange [0:102]\n", f);
    else
        fputs("set autoscale y\n", f);
    fputs("plot", f);
    for (size_t i = 0; i < p->n_series; i++) {
        fprintf(f, "%s $d%zu_%zu using %s title ", i > 0 ? "," : "", k, i, err ? "1:2:3" : "1:2");
        put_quoted(f, p->series[i].name);
        put_style(f, i, p->series[i].n_points, err ? "yerrorlines" : "linespoints");
    }
    fputs("\n", f);
}

/* Pixels of one grid cell (the PDF uses the same numbers as points, 1/72 in). */
#define CELL_W_ONE  1000 /* one column */
#define CELL_W_MANY 820
#define CELL_H      470
#define TITLE_H     44 /* the figure's title band */

/* Row and column of every panel: row by row, a panel with new_row starting a new row.
 * Returns the number of rows. */
static size_t layout(const struct report_figure *f, size_t *row, size_t *col)
{
    size_t r = 0, c = 0;
    for (size_t k = 0; k < f->n_panels; k++) {
        if ((f->panels[k].new_row && c != 0) || c == f->n_cols) {
            r++;
            c = 0;
        }
        row[k] = r;
        col[k] = c++;
    }
    return f->n_panels > 0 ? r + 1 : 0;
}

int report_plot_format_of(const char *path, enum report_plot_format *fmt)
{
    static const struct {
        const char *ext;
        enum report_plot_format fmt;
    } exts[] = {{".svg", REPORT_PLOT_SVG}, {".png", REPORT_PLOT_PNG}, {".pdf", REPORT_PLOT_PDF}};
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t m = strlen(exts[i].ext);
        if (n >= m && strcmp(path + n - m, exts[i].ext) == 0) {
            *fmt = exts[i].fmt;
            return SIM_OK;
        }
    }
    return SIM_EINVAL;
}

int report_plot_script(const struct report_figure *fig, enum report_plot_format fmt,
                       const char *output, FILE *f, struct sim_diag *diag)
{
    if (fig->n_panels == 0) {
        sim_diag_add(diag, "%s: no plot to draw", output);
        return SIM_EINVAL;
    }
    for (size_t k = 0; k < fig->n_panels; k++) {
        int rc = check_plot(&fig->panels[k], k, diag);
        if (rc != SIM_OK)
            return rc;
    }
    size_t row[REPORT_PLOT_MAX_PANELS], col[REPORT_PLOT_MAX_PANELS];
    size_t n_rows = layout(fig, row, col);
    size_t n_cols = fig->n_cols > 0 ? fig->n_cols : 1;
    size_t cell_w = n_cols == 1 ? CELL_W_ONE : CELL_W_MANY;
    size_t w = cell_w * n_cols, h = CELL_H * n_rows + TITLE_H;
    /* "noenhanced" so that _ ^ { } @ in names are shown as typed. */
    fputs("set encoding utf8\nset terminal ", f);
    if (fmt == REPORT_PLOT_SVG)
        fprintf(f, "svg size %zu,%zu", w, h);
    else if (fmt == REPORT_PLOT_PNG)
        fprintf(f, "pngcairo size %zu,%zu", w, h);
    else
        fprintf(f, "pdfcairo size %.4gin,%.4gin", (double)w / 72, (double)h / 72);
    fputs(" noenhanced font \"sans,11\" background \"#ffffff\"\nset output ", f);
    put_quoted(f, output);
    fputs("\nset multiplot title ", f);
    put_quoted(f, fig->title);
    fputs(" font \",14\"\n", f);
    double top = 1.0 - (double)TITLE_H / (double)h;
    for (size_t k = 0; k < fig->n_panels; k++) {
        fprintf(f, "set origin %.6f,%.6f\nset size %.6f,%.6f\n", (double)col[k] / (double)n_cols,
                top * (1.0 - (double)(row[k] + 1) / (double)n_rows), 1.0 / (double)n_cols,
                top / (double)n_rows);
        put_plot(f, &fig->panels[k], k);
    }
    fputs("unset multiplot\nset output\n", f);
    return ferror(f) ? SIM_EIO : SIM_OK;
}

static const char *tmp_dir(void)
{
    const char *t = getenv("TMPDIR");
    return t != NULL && t[0] != '\0' ? t : "/tmp";
}

/* Write the script for the figure into a new temporary file (its name in path). */
static int write_script(char *path, size_t cap, const struct report_figure *fig,
                        enum report_plot_format fmt, const char *out, struct sim_diag *diag)
{
    snprintf(path, cap, "%s/dfusim-plot-XXXXXX", tmp_dir());
    int fd = mkstemp(path);
    if (fd < 0) {
        sim_diag_add(diag, "plot: cannot create a temporary file in %s: %s", tmp_dir(),
                     strerror(errno));
        path[0] = '\0';
        return SIM_EIO;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        sim_diag_add(diag, "plot: %s: %s", path, strerror(errno));
        return SIM_EIO;
    }
    int rc = report_plot_script(fig, fmt, out, f, diag);
    if (fclose(f) != 0 && rc == SIM_OK)
        rc = SIM_EIO;
    if (rc == SIM_EIO)
        sim_diag_add(diag, "plot: cannot write %s: %s", path, strerror(errno));
    return rc;
}

/* Append the end of gnuplot's captured output (its last 2 kB, where the error is) to
 * diag, line by line, leaving out the lines that only point at a column. */
static void report_stderr(int fd, struct sim_diag *diag)
{
    char buf[2048];
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (strspn(line, " ^\t") == strlen(line))
            continue;
        sim_diag_add(diag, "gnuplot: %s", line);
    }
}

/* environ with TZ=UTC0 (cairo writes the PDF's CreationDate in local time on some
 * systems; UTC keeps its length fixed), in a heap array the caller frees (not the
 * strings). */
static char **child_env(void)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **env = malloc((n + 2) * sizeof(*env));
    if (env == NULL)
        return NULL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "TZ=", 3) != 0)
            env[m++] = environ[i];
    env[m++] = "TZ=UTC0";
    env[m] = NULL;
    return env;
}

/* Run `gnuplot -d script`, stdout and stderr into err_fd. */
static int run_gnuplot(const char *script, int err_fd, struct sim_diag *diag)
{
    char **env = child_env();
    if (env == NULL)
        return SIM_ENOMEM;
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        free(env);
        return SIM_ENOMEM;
    }
    int rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, err_fd, 1);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    pid_t pid = 0;
    char *argv[] = {"gnuplot", "-d", (char *)script, NULL};
    if (rc == 0)
        rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    if (rc == ENOENT) {
        sim_diag_add(diag, "plot: gnuplot is not installed (or not on PATH): install the "
                           "Debian package gnuplot-nox (apt-get install gnuplot-nox)");
        return SIM_ENOENT;
    }
    if (rc != 0) {
        sim_diag_add(diag, "plot: cannot run gnuplot: %s", strerror(rc));
        return SIM_EIO;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            sim_diag_add(diag, "plot: waiting for gnuplot: %s", strerror(errno));
            return SIM_EIO;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        sim_diag_add(diag, "plot: gnuplot could not be started: install the Debian package "
                           "gnuplot-nox (apt-get install gnuplot-nox)");
        return SIM_ENOENT;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status))
            sim_diag_add(diag, "plot: gnuplot was killed by signal %d", WTERMSIG(status));
        else
            sim_diag_add(diag, "plot: gnuplot failed (exit status %d)", WEXITSTATUS(status));
        report_stderr(err_fd, diag);
        return SIM_EIO;
    }
    return SIM_OK;
}

/* cairo 1.16 (Debian 12) writes "/CreationDate (D:YYYYMMDDHHMMSS" with the time of the
 * run and ignores SOURCE_DATE_EPOCH: overwrite the 14 digits with 19700101000000 in place
 * (same length, so the PDF's byte offsets stay right). Looks only at the file's last
 * 64 KiB, where cairo puts the document information dictionary. */
static int fix_pdf_date(const char *path, struct sim_diag *diag)
{
    static const char tag[] = "/CreationDate (D:";
    int fd = open(path, O_RDWR);
    if (fd < 0) {
        sim_diag_add(diag, "plot: %s: %s", path, strerror(errno));
        return SIM_EIO;
    }
    enum { TAIL = 65536 };
    char *buf = malloc(TAIL);
    if (buf == NULL) {
        close(fd);
        return SIM_ENOMEM;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > TAIL ? size - TAIL : 0;
    ssize_t n = pread(fd, buf, TAIL, from);
    int rc = SIM_OK;
    for (ssize_t i = 0; n > 0 && i + (ssize_t)sizeof(tag) - 1 + 14 <= n; i++) {
        if (memcmp(buf + i, tag, sizeof(tag) - 1) != 0)
            continue;
        if (pwrite(fd, "19700101000000", 14, from + i + (off_t)sizeof(tag) - 1) != 14)
            rc = SIM_EIO;
    }
    free(buf);
    if (close(fd) != 0 || rc != SIM_OK) {
        sim_diag_add(diag, "plot: %s: cannot fix the PDF's date: %s", path, strerror(errno));
        return SIM_EIO;
    }
    return SIM_OK;
}

int report_plot_write_figure(const struct report_figure *fig, const char *path,
                             struct sim_diag *diag)
{
    enum report_plot_format fmt;
    if (report_plot_format_of(path, &fmt) != SIM_OK) {
        sim_diag_add(diag, "%s: unknown plot format: the file name must end in .svg, .png or .pdf",
                     path);
        return SIM_EINVAL;
    }
    for (const unsigned char *c = (const unsigned char *)path; *c != '\0'; c++) {
        if (*c < 0x20) {
            sim_diag_add(diag, "plot: the output file name holds a control character");
            return SIM_EINVAL;
        }
    }

    char script[4096], errs[4096];
    int err_fd = -1;
    int rc = write_script(script, sizeof(script), fig, fmt, path, diag);
    if (rc != SIM_OK)
        goto out;
    snprintf(errs, sizeof(errs), "%s/dfusim-gnuplot-XXXXXX", tmp_dir());
    err_fd = mkstemp(errs);
    if (err_fd < 0) {
        sim_diag_add(diag, "plot: cannot create a temporary file in %s: %s", tmp_dir(),
                     strerror(errno));
        rc = SIM_EIO;
        goto out;
    }
    unlink(errs); /* only the open descriptor is needed */
    rc = run_gnuplot(script, err_fd, diag);
    if (rc == SIM_OK && fmt == REPORT_PLOT_PDF)
        rc = fix_pdf_date(path, diag);
    if (rc == SIM_EIO)
        unlink(path); /* no half-written plot left behind */
out:
    if (err_fd >= 0)
        close(err_fd);
    if (script[0] != '\0')
        unlink(script);
    return rc;
}

int report_plot_write(const struct report_plot *p, const char *path, struct sim_diag *diag)
{
    /* A shallow copy: the figure only borrows p's points, so it is not finied. */
    struct report_figure *fig = malloc(sizeof(*fig));
    if (fig == NULL)
        return SIM_ENOMEM;
    report_figure_init(fig, p->title);
    fig->panels[0] = *p;
    fig->n_panels = 1;
    int rc = report_plot_write_figure(fig, path, diag);
    free(fig);
    return rc;
}
