/* report/plot.h - plots of dfusim results, drawn by gnuplot run as a subprocess.
 *
 * A plot is plain data (title, axis labels with units, up to 16 named series of (x, y)
 * points); report_plot_write() turns it into an SVG or PNG file through gnuplot
 * (Debian package gnuplot-nox). The report_plot_from_* helpers build the plots
 * from a results database (README, "Result database").
 */
#ifndef REPORT_PLOT_H
#define REPORT_PLOT_H

#include <stddef.h>

#include "sim/error.h"

struct sqlite3;

#define REPORT_PLOT_MAX_SERIES 16
#define REPORT_PLOT_TEXT_CAP   256 /* bytes of a title, label or series name, NUL included */

enum report_plot_kind {
    REPORT_PLOT_CDF,         /* step CDF: x non-decreasing, y in [0, 1] */
    REPORT_PLOT_LINES,       /* lines, e.g. fleet progress (% updated against time) */
    REPORT_PLOT_LINESPOINTS, /* lines with points, e.g. throughput against window size */
    REPORT_PLOT_KIND_COUNT
};

struct report_plot_series {
    char name[REPORT_PLOT_TEXT_CAP]; /* any bytes; shown verbatim (no enhanced text) */
    size_t n_points, cap;
    double *x, *y; /* heap arrays of n_points, owned by the plot */
};

/* Plain data; every field may be read. Change it through the functions below. */
struct report_plot {
    enum report_plot_kind kind;
    char title[REPORT_PLOT_TEXT_CAP];
    char xlabel[REPORT_PLOT_TEXT_CAP]; /* with the unit, e.g. "DFU time (s)" */
    char ylabel[REPORT_PLOT_TEXT_CAP];
    size_t n_series;
    struct report_plot_series series[REPORT_PLOT_MAX_SERIES];
};

/* Initialise an empty plot in the caller's storage; allocates nothing. Texts longer than
 * REPORT_PLOT_TEXT_CAP - 1 bytes are cut. NULL texts are empty. */
void report_plot_init(struct report_plot *p, enum report_plot_kind kind, const char *title,
                      const char *xlabel, const char *ylabel);
/* Free the points; p is then empty (n_series 0) and may be initialised again. */
void report_plot_fini(struct report_plot *p);

/* Add an empty series named name (cut to REPORT_PLOT_TEXT_CAP - 1 bytes). Returns its
 * index (>= 0), or SIM_ERANGE when the plot has REPORT_PLOT_MAX_SERIES already. */
int report_plot_add_series(struct report_plot *p, const char *name);
/* Append (x, y) to series s. SIM_EINVAL if s does not exist or x or y is not finite,
 * SIM_ENOMEM if growing fails; the plot is unchanged on failure. */
int report_plot_add_point(struct report_plot *p, size_t s, double x, double y);
/* Add a series that is the empirical CDF of samples (n values, any order, not kept):
 * (min, 0), then (x_i, i / n) for the sorted x_1..x_n. Returns the index or a negative
 * code (SIM_EINVAL for a non-finite sample); on failure the plot is unchanged. */
int report_plot_add_cdf(struct report_plot *p, const char *name, const double *samples, size_t n);

/* Draw plots[0..n_plots-1] into one file at path, stacked top to bottom (a gnuplot
 * multiplot when n_plots > 1). The format comes from the extension: ".svg" (svg
 * terminal) or ".png" (pngcairo); anything else is SIM_EINVAL. SIM_EINVAL too for an
 * empty plot (no point in any series) or a CDF whose points break its rule.
 * Runs `gnuplot -d` (no init files) on a temporary script with the data inline; SIM_ENOENT
 * if gnuplot is not installed, SIM_EIO if it fails (its stderr goes into diag, and a
 * partial output file is removed). The output holds no timestamp: the same plots give the
 * same bytes with the same gnuplot. */
int report_plot_write_many(const struct report_plot *plots, size_t n_plots, const char *path,
                           struct sim_diag *diag);
int report_plot_write(const struct report_plot *p, const char *path, struct sim_diag *diag);

/* Plots from a results database, one series per bootloader mode (device_groups.bootloader)
 * or per group name, pooled over all complete runs in db (sweep points and replications).
 * Each initialises *out (which the caller then frees with report_plot_fini); on failure
 * *out is left empty and diag says why. SIM_ERANGE for more than 16 series, SIM_ENOENT when
 * the database has nothing to plot, SIM_EFORMAT for a database error. Time axes are in s,
 * min or h, whichever suits the longest time. */
enum report_plot_by { REPORT_PLOT_BY_MODE, REPORT_PLOT_BY_GROUP };

/* CDF of per-device DFU time: end_ns - start_ns of dfu_attempts with outcome 'updated'
 * (needs record level `attempts`). */
int report_plot_from_dfu_time(struct sqlite3 *db, enum report_plot_by by, struct report_plot *out,
                              struct sim_diag *diag);
/* Fleet progress: % of the series' devices with devices.updated_ns <= t, against t. */
int report_plot_from_progress(struct sqlite3 *db, enum report_plot_by by, struct report_plot *out,
                              struct sim_diag *diag);
/* Mean upload throughput in kB/s (1 kB = 1000 B; bytes over upload_end_ns -
 * upload_start_ns of updated attempts) against the numeric value of run_params key
 * param (NULL: "client.window"), one point per value. SIM_ENOENT if no run has param. */
int report_plot_from_throughput(struct sqlite3 *db, const char *param, enum report_plot_by by,
                                struct report_plot *out, struct sim_diag *diag);

#endif /* REPORT_PLOT_H */
