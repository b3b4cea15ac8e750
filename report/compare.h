/* report/compare.h - two rows of report summaries (report/summary.h) side by side: per
 * metric A, B, B - A, the relative change and whether the difference is significant at 95 %
 * (Welch's unequal-variance t-test across the rows' replications, GSL). Used by
 * `dfusim compare`; definitions in README "dfusim compare".
 *
 * Welch's test, for means ma, mb, sample sds sa, sb and replications na, nb:
 *   va = sa^2 / na, vb = sb^2 / nb, t = (mb - ma) / sqrt(va + vb),
 *   df = (va + vb)^2 / (va^2 / (na - 1) + vb^2 / (nb - 1))   (Welch-Satterthwaite),
 *   p = 2 Q(|t|; df), Q the upper tail of Student's t (gsl_cdf_tdist_Q);
 * significant when p < 0.05, i.e. |t| > t(0.975, df) (gsl_cdf_tdist_Pinv). */
#ifndef REPORT_COMPARE_H
#define REPORT_COMPARE_H

#include "report/summary.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum report_verdict {
    REPORT_VERDICT_MISSING,  /* a value does not exist on a side (printed "-") */
    REPORT_VERDICT_FEW_RUNS, /* fewer than 2 replications on a side: no test ("n/a") */
    REPORT_VERDICT_NO,       /* not significant at 95 % (also: B - A is exactly 0) */
    REPORT_VERDICT_YES,      /* significant at 95 % */
};

struct report_welch {
    double t, df, p; /* NAN when not computed; t = 0, p = 1 when B - A = 0 */
    bool exact;      /* no spread on either side and B != A: t infinite, p = 0, df NAN */
    enum report_verdict verdict;
};

/* Welch's test of mean_b - mean_a (formulas above). A non-finite mean gives MISSING; n < 2
 * on a side gives FEW_RUNS (t, df, p NAN). Never fails. */
void report_welch_test(double mean_a, double sd_a, size_t n_a, double mean_b, double sd_b,
                       size_t n_b, struct report_welch *w);

struct report_delta {
    double diff;       /* B - A; NAN when either is missing */
    double change_pct; /* 100 (B - A) / |A|; 0 when both are 0, NAN when only A is 0 */
    struct report_welch w;
};

/* d[m] for every metric m of rows a and b. */
void report_compare_rows(const struct report_row *a, const struct report_row *b,
                         struct report_delta d[REPORT_METRIC_COUNT]);

/* A row selector, parsed from a SPEC: comma-separated key=value items, each key at most
 * once, keys
 *   group=NAME        the device group's name
 *   point=N           sweep point N as dfusim report numbers it (1 ..., runs.sweep_point + 1)
 *   bootloader=MODE   the group's MCUboot mode
 * e.g. "group=mice,point=2". A comma splits only where a known key and '=' follow it, so
 * "group=a,b,point=1" selects the group "a,b". */
struct report_select {
    char *group, *bootloader; /* NULL: any */
    size_t point;             /* 0: any */
};

/* Parses spec into *sel (the caller frees it with report_select_fini()). On bad syntax
 * returns REPORT_EFORMAT, *sel is empty and err holds a message naming the item. */
int report_select_parse(const char *spec, struct report_select *sel, char *err, size_t n);
void report_select_fini(struct report_select *sel);

/* The index of the one row of s that sel matches. REPORT_ENOENT when no row matches or
 * more than one does; err then lists the candidates (`what` names the selector, e.g.
 * "--a group=mice"). */
int report_select_find(const struct report_summary *s, const struct report_select *sel,
                       const char *what, size_t *row, char *err, size_t n);

/* One comparison: rows borrowed from their summaries, which must outlive it. */
struct report_pair {
    const struct report_row *a, *b;
};

/* The default comparisons within one database: per sweep point, the baseline row is the
 * point's first direct-xip group, else its first direct-xip-revert group, else the first
 * such row of any point; every other row is compared against it (A = baseline, B = row).
 * Without a direct-xip(-revert) row the first row is A against every other row. On success
 * *pairs (the caller frees it) holds *n >= 0 pairs; REPORT_ENOMEM otherwise. */
int report_compare_default_pairs(const struct report_summary *s, struct report_pair **pairs,
                                 size_t *n);

/* The comparisons of two databases: every row of a with the row of b of the same sweep point
 * number and group name (A from a, B from b); rows without a partner are counted in
 * *unmatched. *pairs as above. */
int report_compare_match_pairs(const struct report_summary *a, const struct report_summary *b,
                               struct report_pair **pairs, size_t *n, size_t *unmatched);

/* Terminal output: per pair, lines naming A and B (with db_a / db_b when they are not NULL),
 * then a table with one line per metric: A and B as "mean ±half-width", B - A, change %,
 * p and the 95 % verdict; footnotes explain "n/a" and exact differences. Returns 0 or
 * REPORT_ENOMEM. */
int report_compare_print(const struct report_pair *pairs, size_t n, const char *db_a,
                         const char *db_b, FILE *out);

/* CSV (libcsv quoting), one line per pair and metric after a header row:
 * a_db, a_point, a_point_label, a_group, a_bootloader, a_runs, then the same for b_, metric,
 * a_mean, a_ci95, b_mean, b_ci95, diff, change_pct, t, df, p, significant ("yes", "no",
 * "n/a" with fewer than 2 replications, empty when a value is missing); a number that does
 * not exist is empty. db_a / db_b may be NULL (empty fields). Returns 0 or REPORT_EIO. */
int report_compare_write_csv(const struct report_pair *pairs, size_t n, const char *db_a,
                             const char *db_b, FILE *out);

/* JSON: an array with one object per pair: "a" and "b" (db, point, point_label, group,
 * board, bootloader, runs) and "metrics", per metric column a_mean, a_ci95, b_mean, b_ci95,
 * diff, change_pct, t, df, p (numbers or null) and significant ("yes", "no", "n/a" or
 * null). Returns 0 or a REPORT_E* code. */
int report_compare_write_json(const struct report_pair *pairs, size_t n, const char *db_a,
                              const char *db_b, FILE *out);

#endif /* REPORT_COMPARE_H */
