/* report/summary.h - a dfusim results database read into one row per (sweep point, device
 * group): per-run metrics, then their mean and Student-t 95 % half-width across the point's
 * replications. Reads only the database (DESIGN.md rule 10).
 *
 * Definitions (README "dfusim report"):
 *  - A sweep point is the set of complete runs whose run_params are equal except `seed`;
 *    runs.replication numbers them. Runs not 'complete' are skipped and counted.
 *  - upload kB/s (kB = 1000 bytes), per attempt with an upload: bytes / (upload_end_ns -
 *    upload_start_ns); per run its mean, median, p5 and p95 (report/stats.h, type 7).
 *  - end to end s, per attempt with outcome 'updated': end_ns - start_ns.
 *  - downtime s, per swap with an end: the attempt's reset_ns (the application stops) to
 *    swaps.end_ns (MCUboot done), plus devices.<group>.firmware.app_start from run_params;
 *    a distribution there is not known per device and counts as 0 (row.app_start_dist).
 *  - erases per upgrade, primary and secondary: device_wear.erases summed over the group's
 *    devices, divided by the group's swaps (NAN without swaps, e.g. `record: summary`).
 *  - t50/t90/t99/t100 s: time until ceil(p × count) of the group's devices have
 *    devices.updated_ns, from the run's first attempt start (0 without attempts); NAN in a
 *    run where the fleet did not get there.
 * A point's value is the mean over its runs, and NAN (printed "-") when a metric is NAN in
 * any of its runs; the half-width is NAN with one run. */
#ifndef REPORT_SUMMARY_H
#define REPORT_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The schema versions this reader understands (meta.schema_version); tests check that the
 * upper one is the recorder's RECORDER_SCHEMA_VERSION. */
#define REPORT_SCHEMA_MIN 2
#define REPORT_SCHEMA_MAX 3

enum report_metric {
    REPORT_DEVICES,
    REPORT_UPDATED,
    REPORT_FAILED,
    REPORT_REVERTED,
    REPORT_UPLOAD_MEAN,
    REPORT_UPLOAD_MEDIAN,
    REPORT_UPLOAD_P5,
    REPORT_UPLOAD_P95,
    REPORT_E2E_MEAN,
    REPORT_E2E_MEDIAN,
    REPORT_E2E_P95,
    REPORT_DOWNTIME_MEAN,
    REPORT_DOWNTIME_P95,
    REPORT_ERASES_PRIMARY,
    REPORT_ERASES_SECONDARY,
    REPORT_T50,
    REPORT_T90,
    REPORT_T99,
    REPORT_T100,
    REPORT_METRIC_COUNT
};

struct report_metric_def {
    const char *column; /* CSV column with its unit, e.g. "upload_kBps_mean" */
    const char *label;  /* terminal label */
    int decimals;
};
extern const struct report_metric_def report_metrics[REPORT_METRIC_COUNT];

struct report_row {
    char *point;        /* "key=value, ..." of the params that differ between points, or "all" */
    size_t point_index; /* 0 ...: dfusim report prints it as "point <point_index + 1>" */
    char *group;        /* device group name */
    char *bootloader;   /* the group's MCUboot mode in the point's first run */
    char *board;        /* and its board */
    size_t n_runs;
    bool app_start_dist; /* app_start was a distribution: downtime counts it as 0 */
    double mean[REPORT_METRIC_COUNT], ci95[REPORT_METRIC_COUNT];
    double sd[REPORT_METRIC_COUNT]; /* sample sd across the runs; NAN as ci95 is (for compare) */
};

struct report_summary {
    size_t n_rows, n_points, n_skipped_runs;
    struct report_row *rows; /* point by point (first run_id order), groups in group_id order */
};

enum report_err {
    REPORT_OK = 0,
    REPORT_ENOMEM = -1,
    REPORT_ENOENT = -2,  /* no such file, or no such group */
    REPORT_EFORMAT = -3, /* not a dfusim database, or a schema version we do not read */
    REPORT_EIO = -4,     /* SQLite failed while reading */
};

/* Reads the database at path; only group `group` when it is not NULL. On success *out is a
 * summary the caller frees with report_summary_free(). On failure returns a REPORT_E* code,
 * *out is NULL and err (if n > 0) holds a message for people naming the file. */
int report_summary_load(const char *path, const char *group, struct report_summary **out, char *err,
                        size_t n);
void report_summary_free(struct report_summary *s); /* accepts NULL */

/* Terminal table: one column per row of s, one line per metric, "mean ±half-width". */
int report_summary_print(const struct report_summary *s, FILE *out);

/* CSV (libcsv quoting): header row point,group,bootloader,runs, then per metric its column
 * (the mean across runs) and <column>_ci95; one line per row; NAN is an empty field.
 * Returns 0 or REPORT_EIO. */
int report_summary_write_csv(const struct report_summary *s, FILE *out);

#endif /* REPORT_SUMMARY_H */
