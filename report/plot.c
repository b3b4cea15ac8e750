/* report/plot.c - plot data, the gnuplot script that draws it, and the subprocess.
 *
 * Why gnuplot as a subprocess: it is one Debian package (gnuplot-nox), its svg and
 * pngcairo terminals write files without timestamps, and a script with inline data
 * blocks ($dN << EOD) keeps the interface to it a plain text file we can test.
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
    copy_text(p->title, title);
    copy_text(p->xlabel, xlabel);
    copy_text(p->ylabel, ylabel);
}

void report_plot_fini(struct report_plot *p)
{
    for (size_t i = 0; i < p->n_series; i++) {
        free(p->series[i].x);
        free(p->series[i].y);
    }
    enum report_plot_kind kind = p->kind;
    memset(p, 0, sizeof(*p));
    p->kind = kind;
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

int report_plot_add_point(struct report_plot *p, size_t si, double x, double y)
{
    if (si >= p->n_series || !isfinite(x) || !isfinite(y))
        return SIM_EINVAL;
    struct report_plot_series *s = &p->series[si];
    if (s->n_points == s->cap) {
        size_t cap = s->cap != 0 ? s->cap * 2 : 64;
        double *nx = realloc(s->x, cap * sizeof(*nx));
        if (nx == NULL)
            return SIM_ENOMEM;
        s->x = nx;
        double *ny = realloc(s->y, cap * sizeof(*ny));
        if (ny == NULL)
            return SIM_ENOMEM; /* x grew, which changes no point: the plot is unchanged */
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n_points] = x;
    s->y[s->n_points] = y;
    s->n_points++;
    return SIM_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A CDF or progress curve of a large fleet keeps at most this many steps: a step is drawn
 * where the fraction passes the next 1/STEPS (and at the last sample), so y is off by less
 * than 1/STEPS anywhere, and an SVG of 100,000 devices stays small. */
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
    memset(s, 0, sizeof(*s));
}

int report_plot_add_cdf(struct report_plot *p, const char *name, const double *samples, size_t n)
{
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
            rc = report_plot_add_point(p, (size_t)si, v[i - 1], (double)i / (double)n);
    }
    free(v);
    if (rc != SIM_OK) {
        if (si >= 0)
            drop_last_series(p);
        return rc;
    }
    return si;
}

/* ---- the gnuplot script ---------------------------------------------------------- */

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

static const char *const kind_style[REPORT_PLOT_KIND_COUNT] = {
    [REPORT_PLOT_CDF] = "steps lw 2",
    [REPORT_PLOT_LINES] = "lines lw 2",
    [REPORT_PLOT_LINESPOINTS] = "linespoints lw 2 pt 7 ps 0.8",
};

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

static void put_plot(FILE *f, const struct report_plot *p, size_t k)
{
    for (size_t i = 0; i < p->n_series; i++) {
        const struct report_plot_series *s = &p->series[i];
        fprintf(f, "$d%zu_%zu << EOD\n", k, i);
        for (size_t j = 0; j < s->n_points; j++)
            fprintf(f, "%.17g %.17g\n", s->x[j], s->y[j]);
        fputs("EOD\n", f);
    }
    fputs("set title ", f);
    put_quoted(f, p->title);
    fputs("\nset xlabel ", f);
    put_quoted(f, p->xlabel);
    fputs("\nset ylabel ", f);
    put_quoted(f, p->ylabel);
    fputs("\nset grid\nset key outside right top\nset autoscale x\n", f);
    fputs(p->kind == REPORT_PLOT_CDF ? "set yrange [0:1]\n" : "set autoscale y\n", f);
    fputs("plot", f);
    for (size_t i = 0; i < p->n_series; i++) {
        fprintf(f, "%s $d%zu_%zu using 1:2 with %s title ", i > 0 ? "," : "", k, i,
                kind_style[p->kind]);
        put_quoted(f, p->series[i].name);
    }
    fputs("\n", f);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *tmp_dir(void)
{
    const char *t = getenv("TMPDIR");
    return t != NULL && t[0] != '\0' ? t : "/tmp";
}

/* Write the script for plots into a new temporary file (its name in path). */
static int write_script(char *path, size_t cap, const struct report_plot *plots, size_t n_plots,
                        const char *terminal, const char *out, struct sim_diag *diag)
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
    /* 500 px per plot; "noenhanced" so that _ ^ { } @ in names are shown as typed. */
    fprintf(f,
            "set encoding utf8\nset terminal %s size 900,%zu noenhanced font 'sans,11' "
            "background '#ffffff'\nset output ",
            terminal, 500 * n_plots);
    put_quoted(f, out);
    fputs("\n", f);
    if (n_plots > 1)
        fprintf(f, "set multiplot layout %zu,1\n", n_plots);
    for (size_t k = 0; k < n_plots; k++)
        put_plot(f, &plots[k], k);
    if (n_plots > 1)
        fputs("unset multiplot\n", f);
    fputs("set output\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        sim_diag_add(diag, "plot: cannot write %s: %s", path, strerror(errno));
        return SIM_EIO;
    }
    return SIM_OK;
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

/* Run `gnuplot -d script`, stdout and stderr into err_fd. */
static int run_gnuplot(const char *script, int err_fd, struct sim_diag *diag)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return SIM_ENOMEM;
    int rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, err_fd, 1);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    pid_t pid = 0;
    char *argv[] = {"gnuplot", "-d", (char *)script, NULL};
    if (rc == 0)
        rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
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

int report_plot_write_many(const struct report_plot *plots, size_t n_plots, const char *path,
                           struct sim_diag *diag)
{
    const char *terminal = NULL;
    if (ends_with(path, ".svg"))
        terminal = "svg";
    else if (ends_with(path, ".png"))
        terminal = "pngcairo";
    if (terminal == NULL) {
        sim_diag_add(diag, "%s: unknown plot format: the file name must end in .svg or .png", path);
        return SIM_EINVAL;
    }
    for (const unsigned char *c = (const unsigned char *)path; *c != '\0'; c++) {
        if (*c < 0x20) {
            sim_diag_add(diag, "plot: the output file name holds a control character");
            return SIM_EINVAL;
        }
    }
    if (n_plots == 0) {
        sim_diag_add(diag, "%s: no plot to draw", path);
        return SIM_EINVAL;
    }
    for (size_t k = 0; k < n_plots; k++) {
        int rc = check_plot(&plots[k], k, diag);
        if (rc != SIM_OK)
            return rc;
    }

    char script[4096], errs[4096];
    int err_fd = -1;
    int rc = write_script(script, sizeof(script), plots, n_plots, terminal, path, diag);
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
    return report_plot_write_many(p, 1, path, diag);
}
