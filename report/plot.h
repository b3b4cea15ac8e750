/* report/plot.h - plots of dfusim results, drawn by gnuplot run as a subprocess.
 *
 * A plot (one panel) is plain data: title, axis labels with units, up to
 * REPORT_PLOT_MAX_SERIES named series of (x, y[, ±err]) points. A figure is a title and
 * panels laid out on a grid; report_plot_write_figure() turns it into an SVG, PNG or PDF
 * file through gnuplot (Debian package gnuplot-nox), and report_plot_script() writes the
 * gnuplot script itself (what the tests read). report_plot_build() makes the figure of
 * `dfusim report --plot` from a results database (README, "dfusim report").
 */
#ifndef REPORT_PLOT_H
#define REPORT_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sim/error.h"

struct sqlite3;
struct report_summary;

/* One colour per series of a panel, never repeated: the palette has this many colours
 * (plot.c), so a panel holds at most this many series. */
#define REPORT_PLOT_MAX_SERIES 8
#define REPORT_PLOT_TEXT_CAP   256 /* bytes of a title, label or series name, NUL included */
#define REPORT_PLOT_MAX_PANELS 64  /* panels of one figure */

enum report_plot_kind {
    REPORT_PLOT_CDF,         /* step CDF: x non-decreasing, y in [0, 1] */
    REPORT_PLOT_LINES,       /* lines, e.g. fleet progress (% updated against time) */
    REPORT_PLOT_LINESPOINTS, /* lines with points (and error bars when given) */
    REPORT_PLOT_KIND_COUNT
};

struct report_plot_series {
    char name[REPORT_PLOT_TEXT_CAP]; /* any bytes; shown verbatim (no enhanced text) */
    size_t n_points, cap;
    double *x, *y, *err; /* heap arrays of n_points, owned by the plot; err NAN: no bar */
};

/* Plain data; every field may be read. Change it through the functions below, except the
 * layout fields, which may be set directly. */
struct report_plot {
    enum report_plot_kind kind;
    char title[REPORT_PLOT_TEXT_CAP];
    char xlabel[REPORT_PLOT_TEXT_CAP]; /* with the unit, e.g. "DFU time (s)" */
    char ylabel[REPORT_PLOT_TEXT_CAP];
    bool integer_x;    /* x values are integers: tics only at integers */
    double xmin, xmax; /* x range; NAN: gnuplot chooses */
    bool new_row;      /* in a figure, this panel starts a new row of the grid */
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
/* The same with an error bar y ± err (err NAN: none; else finite and >= 0). */
int report_plot_add_point_err(struct report_plot *p, size_t s, double x, double y, double err);
/* Add a series that is the empirical CDF of samples (n values, any order, not kept) over a
 * population of n_total >= n (the others never reach a value: the curve ends at
 * n / n_total): (min, 0), then (x_i, i / n_total) for the sorted x_1..x_n. Returns the
 * index or a negative code (SIM_EINVAL for a non-finite sample or n_total < n); on failure
 * the plot is unchanged. */
int report_plot_add_cdf(struct report_plot *p, const char *name, const double *samples, size_t n,
                        size_t n_total);

/* A figure: a title over panels laid out row by row on a grid of n_cols columns. */
struct report_figure {
    char title[REPORT_PLOT_TEXT_CAP];
    size_t n_cols; /* 1 ... */
    size_t n_panels;
    struct report_plot panels[REPORT_PLOT_MAX_PANELS];
};

/* Empty figure (no panels, one column) with title; allocates nothing. */
void report_figure_init(struct report_figure *f, const char *title);
/* Frees every panel; f is then empty. */
void report_figure_fini(struct report_figure *f);
/* The next panel, initialised like report_plot_init; NULL when the figure is full. */
struct report_plot *report_figure_add(struct report_figure *f, enum report_plot_kind kind,
                                      const char *title, const char *xlabel, const char *ylabel);

/* Output formats, chosen by the file name's extension. */
enum report_plot_format { REPORT_PLOT_SVG, REPORT_PLOT_PNG, REPORT_PLOT_PDF };
/* The format of path (".svg", ".png", ".pdf"), or SIM_EINVAL. */
int report_plot_format_of(const char *path, enum report_plot_format *fmt);

/* Check the figure (SIM_EINVAL with a message for an empty figure, a panel without a point
 * or a CDF that breaks its rule), then write the gnuplot script that draws it into out as
 * format fmt into the file output. Every series gets its own colour (Okabe-Ito), dash
 * pattern and point marker within its panel, so curves that coincide stay visible. */
int report_plot_script(const struct report_figure *f, enum report_plot_format fmt,
                       const char *output, FILE *out, struct sim_diag *diag);

/* Draw the figure into path (.svg, .png or .pdf; else SIM_EINVAL). Runs `gnuplot -d` (no
 * init files) on a temporary script with the data inline; SIM_ENOENT if gnuplot is not
 * installed, SIM_EIO if it fails (its stderr goes into diag, and a partial output file is
 * removed). The output holds no timestamp (gnuplot runs with SOURCE_DATE_EPOCH=0, which
 * cairo's PDF writer uses for its CreationDate): the same figure gives the same bytes with
 * the same gnuplot and cairo. */
int report_plot_write_figure(const struct report_figure *f, const char *path,
                             struct sim_diag *diag);
/* One plot alone, as a figure of one panel titled by the plot. */
int report_plot_write(const struct report_plot *p, const char *path, struct sim_diag *diag);

/* ---- the figure of `dfusim report --plot` (plot_db.c) ------------------------------- */

/* What one curve stands for: a device group, or the groups that share board and bootloader
 * mode (the legend then says how many groups a curve holds). */
enum report_plot_by { REPORT_PLOT_BY_GROUP, REPORT_PLOT_BY_MODE };

enum {
    REPORT_PANEL_CDF = 1u << 0,      /* CDF of per-device DFU time */
    REPORT_PANEL_PROGRESS = 1u << 1, /* fleet progress */
    REPORT_PANEL_SWEEP = 1u << 2,    /* goodput against the swept setting, ± 95 % CI */
    REPORT_PANEL_ALL = 7u,
};

struct report_plot_options {
    enum report_plot_by by;
    size_t point;      /* 0: every sweep point; else only point N (1-based, as report prints) */
    const char *group; /* only this device group, or NULL */
    unsigned panels;   /* REPORT_PANEL_* bits; the sweep panel is left out quietly when it
                          cannot be drawn unless it is the only one asked for */
};

/* Build the figure for db (open, read-only) and its summary s (report_summary_load of the
 * same file, same group). Never pools different conditions: a curve is one group (or
 * board + mode) at one sweep point, with the devices of the point's replications together
 * (CDF) or the mean across them (progress); when a panel would hold more curves than
 * colours, the figure has one panel per sweep point and, if still too many, per board.
 * The sweep panel needs exactly one swept setting with numeric values and 2+ points.
 * Errors: SIM_ENOENT nothing to plot (diag says why), SIM_EINVAL a bad option (point out
 * of range, sweep panel impossible), SIM_EFORMAT a database error, SIM_ENOMEM. On failure
 * *out is empty. */
int report_plot_build(struct sqlite3 *db, const struct report_summary *s,
                      const struct report_plot_options *o, struct report_figure *out,
                      struct sim_diag *diag);

#endif /* REPORT_PLOT_H */
