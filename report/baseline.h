/* report/baseline.h - the baseline files of `dfusim check`: per scenario one CSV,
 * DIR/NAME.csv, that records chosen metrics of report/summary.h with their tolerances and
 * the results' fingerprint (report/fingerprint.h), and the comparison against it.
 *
 * Format (README "Use in your CI"): a header row "point,group,metric,value,rel_tol,abs_tol",
 * then one row per sweep point, device group and metric in summary order, then one row
 * ",,fingerprint,HEX,," . value is %.10g, empty for NAN (not reached); rel_tol is a fraction
 * of the baseline value (0.05 = 5 %), abs_tol is in the metric's unit. No row spans lines. */
#ifndef REPORT_BASELINE_H
#define REPORT_BASELINE_H

#include "report/fingerprint.h"
#include "report/summary.h"
#include "sim/error.h"

#include <stdbool.h>
#include <stddef.h>

/* The metrics a baseline holds, and what counts as worse. Defaults: counts exact (fewer
 * updated, more failed is worse); times and erases may get 5 % worse, throughput 5 %
 * lower; NAN ("not reached", "no upload") is the worst value. */
struct report_check_metric {
    enum report_metric metric;
    bool higher_is_better;
    double rel_tol, abs_tol; /* defaults */
};
#define REPORT_CHECK_N_METRICS 10
extern const struct report_check_metric report_check_metrics[REPORT_CHECK_N_METRICS];

/* Index into report_check_metrics of the metric whose column is name, or -1. */
int report_check_metric_find(const char *name);

struct report_baseline_row {
    char *point, *group;
    int metric; /* index into report_check_metrics */
    double value, rel_tol, abs_tol;
    unsigned line; /* in the file */
    bool used;     /* matched by a current row during a comparison */
};

struct report_baseline {
    char fingerprint[REPORT_FINGERPRINT_HEX];
    size_t n_rows;
    struct report_baseline_row *rows;
};

/* Reads path. Returns 0; SIM_ENOENT (no such file), SIM_EFORMAT (d gets "FILE:LINE: what is
 * wrong"), SIM_EIO or SIM_ENOMEM. On failure b is empty. Free with report_baseline_fini. */
int report_baseline_load(const char *path, struct report_baseline *b, struct sim_diag *d);
void report_baseline_fini(struct report_baseline *b);

/* Writes s's metrics with the tolerances tol[REPORT_CHECK_N_METRICS][2] (rel, abs) and the
 * fingerprint to path (replaced). Returns 0 or SIM_EIO (d says why). */
int report_baseline_write(const char *path, const struct report_summary *s, const double (*tol)[2],
                          const char *fingerprint, struct sim_diag *d);

enum report_verdict { REPORT_SAME, REPORT_BETTER, REPORT_WITHIN, REPORT_WORSE };

/* The verdict for a metric that went from base to now with the given tolerances: SAME when
 * equal (both NAN included), BETTER, WITHIN (worse, inside max(rel_tol*|base|, abs_tol)),
 * WORSE beyond it. */
enum report_verdict report_check_compare(int metric, double base, double now, double rel_tol,
                                         double abs_tol);

#endif /* REPORT_BASELINE_H */
