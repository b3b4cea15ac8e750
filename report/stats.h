/* report/stats.h - descriptive statistics of one sample and Student-t confidence intervals.
 * Quantiles are R's type 7 (numpy's default "linear"): for sorted x[0..n-1] and p in [0, 1],
 * h = (n - 1) p, q = x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]); this is what
 * gsl_stats_quantile_from_sorted_data() computes. All functions skip nothing: callers pass
 * only finite values. An empty sample gives NAN everywhere. */
#ifndef REPORT_STATS_H
#define REPORT_STATS_H

#include <stddef.h>

struct report_stats {
    size_t n;
    double mean, median, p5, p95, min, max;
};

/* Sorts x[0..n-1] in place (gsl_sort) and fills *s. n = 0 gives n = 0 and NAN fields. */
void report_stats_describe(double *x, size_t n, struct report_stats *s);

/* Quantile p in [0, 1] of sorted data, type 7 (see above). NAN when n = 0. */
double report_stats_quantile_sorted(const double *sorted, size_t n, double p);

/* Arithmetic mean; NAN when n = 0. */
double report_stats_mean(const double *x, size_t n);

/* Sample standard deviation (n - 1 in the denominator); NAN when n < 2. */
double report_stats_sd(const double *x, size_t n);

/* Half-width of the two-sided 95 % Student-t confidence interval of the mean:
 * t(0.975, n - 1) * s / sqrt(n), s the sample standard deviation (n - 1 in the
 * denominator). NAN when n < 2: one replication gives no interval. */
double report_stats_ci95_half(const double *x, size_t n);

#endif /* REPORT_STATS_H */
