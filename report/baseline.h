/* report/baseline.h - the baseline files of `dfusim check`: per scenario one CSV,
 * DIR/NAME.csv, that records chosen metrics of report/summary.h with their tolerances, the
 * results' fingerprint (report/fingerprint.h) and the settings the baseline was made with,
 * and the comparison against it.
 *
 * Format 2 (README "Use in your CI"): the header row "point,group,metric,value,rel_tol,
 * abs_tol"; then setting rows, whose point and group are empty and whose metric names the
 * setting:
 *     ,,format,2,,                  this format
 *     ,,dfusim_version,0.1.0,,      the program that wrote it (information only)
 *     ,,scenario_sha256,HEX,,       SHA-256 of the scenario file's bytes (= runs.scenario_sha256)
 *     ,,seed,1,,                    the scenario's seed after the overrides
 *     ,,set,KEY=VALUE,,             one row per --set override (and --seed), in order
 * then one row per sweep point, device group and metric in summary order, then one row
 * ",,fingerprint,HEX,,". value is %.10g, empty for NAN (not reached); rel_tol is a fraction
 * of the baseline value (0.05 = 5 %), abs_tol is in the metric's unit. No row spans lines.
 * Format 1 (dfusim before issue 12) is the same without setting rows; it is read with
 * format = 1 and no recorded settings. */
#ifndef REPORT_BASELINE_H
#define REPORT_BASELINE_H

#include "report/fingerprint.h"
#include "report/summary.h"
#include "sim/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#define REPORT_BASELINE_FORMAT 2 /* what report_baseline_write writes */

/* The settings a baseline is made with: what must match for a comparison to mean
 * anything. Strings are borrowed (the caller's) when writing, owned by the baseline when
 * loaded. */
struct report_baseline_settings {
    const char *version;                          /* dfusim version */
    char scenario_sha256[REPORT_FINGERPRINT_HEX]; /* of the scenario file's bytes */
    uint64_t seed;                                /* after the overrides */
    size_t n_sets;
    const char *const *sets; /* "KEY=VALUE", in the order given */
};

struct report_baseline {
    int format; /* 1 (no settings recorded) or 2 */
    char fingerprint[REPORT_FINGERPRINT_HEX];
    char version[64];
    struct report_baseline_settings settings; /* format 2; strings point into the baseline */
    size_t n_rows;
    struct report_baseline_row *rows;
    char **sets; /* owned storage behind settings.sets */
};

/* Reads path. Returns 0; SIM_ENOENT (no such file), SIM_EFORMAT (d gets "FILE:LINE: what is
 * wrong"), SIM_EIO or SIM_ENOMEM. On failure b is empty. Free with report_baseline_fini. */
int report_baseline_load(const char *path, struct report_baseline *b, struct sim_diag *d);
void report_baseline_fini(struct report_baseline *b);

/* Writes, in format 2, the settings, s's metrics with the tolerances
 * tol[REPORT_CHECK_N_METRICS][2] (rel, abs) and the fingerprint to path (replaced).
 * Returns 0, SIM_EINVAL (an override with a line break: it cannot be one CSV row) or
 * SIM_EIO; d says why. */
int report_baseline_write(const char *path, const struct report_summary *s, const double (*tol)[2],
                          const struct report_baseline_settings *set, const char *fingerprint,
                          struct sim_diag *d);

/* SHA-256 of n bytes at p as 64 lowercase hex digits, as runs.scenario_sha256 holds it.
 * Returns 0 or SIM_ENOMEM (libcrypto failed). */
int report_baseline_sha256(const void *p, size_t n, char hex[REPORT_FINGERPRINT_HEX]);

/* What differs between the baseline's settings and now's (REPORT_SETTINGS_* bits; 0 when
 * they are the same). Each difference adds one line to d naming the setting, the
 * baseline's value and now's. Overrides are compared as ordered lists. A format 1
 * baseline gives REPORT_SETTINGS_UNKNOWN only. */
enum report_settings_diff {
    REPORT_SETTINGS_UNKNOWN = 1u << 0,  /* format 1: nothing recorded */
    REPORT_SETTINGS_SETS = 1u << 1,     /* the --set overrides */
    REPORT_SETTINGS_SEED = 1u << 2,     /* the seed */
    REPORT_SETTINGS_SCENARIO = 1u << 3, /* the scenario file's bytes */
    REPORT_SETTINGS_VERSION = 1u << 4,  /* the dfusim version (information only) */
};
unsigned report_baseline_settings_diff(const struct report_baseline *b,
                                       const struct report_baseline_settings *now,
                                       struct sim_diag *d);

/* The allowed worsening for a baseline value: max(rel_tol * |base|, abs_tol); NAN when
 * base is NAN (then any reached value is better). */
double report_check_allowed(double base, double rel_tol, double abs_tol);

enum report_verdict { REPORT_SAME, REPORT_BETTER, REPORT_WITHIN, REPORT_WORSE };

/* The verdict for a metric that went from base to now with the given tolerances: SAME when
 * equal (both NAN included), BETTER, WITHIN (worse, inside max(rel_tol*|base|, abs_tol)),
 * WORSE beyond it. */
enum report_verdict report_check_compare(int metric, double base, double now, double rel_tol,
                                         double abs_tol);

#endif /* REPORT_BASELINE_H */
