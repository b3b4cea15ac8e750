/* report/stats.c - descriptive statistics and Student-t intervals, via GSL. */
#include "report/stats.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>

void report_stats_describe(double *x, size_t n, struct report_stats *s)
{
    s->n = n;
    if (n == 0) {
        s->mean = s->median = s->p5 = s->p95 = s->min = s->max = NAN;
        return;
    }
    gsl_sort(x, 1, n);
    s->mean = gsl_stats_mean(x, 1, n);
    s->median = report_stats_quantile_sorted(x, n, 0.5);
    s->p5 = report_stats_quantile_sorted(x, n, 0.05);
    s->p95 = report_stats_quantile_sorted(x, n, 0.95);
    s->min = x[0];
    s->max = x[n - 1];
}

double report_stats_quantile_sorted(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return NAN;
    return gsl_stats_quantile_from_sorted_data(sorted, 1, n, p);
}

double report_stats_mean(const double *x, size_t n)
{
    return n == 0 ? NAN : gsl_stats_mean(x, 1, n);
}

double report_stats_sd(const double *x, size_t n)
{
    return n < 2 ? NAN : gsl_stats_sd(x, 1, n);
}

double report_stats_ci95_half(const double *x, size_t n)
{
    if (n < 2)
        return NAN;
    double sd = gsl_stats_sd(x, 1, n);
    return gsl_cdf_tdist_Pinv(0.975, (double)(n - 1)) * sd / sqrt((double)n);
}
