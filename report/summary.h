/* report/summary.h - a dfusim results database read into one row per (sweep point, device
 * group): per-run metrics, then their mean and Student-t 95 % half-width across the point's
 * replications. Reads only the database (CONTRIBUTING.md rule 10). This is the one
 * implementation of every metric that `run`, `report`, `compare`, `check` and the plots
 * show; README "Metrics" is the one written definition of each.
 *
 * Definitions (kB = 1000 bytes; a "DFU device" is one whose first attempt began,
 * devices.first_start_ns not NULL):
 *  - A sweep point is the set of complete runs whose run_params are equal except `seed`;
 *    runs.replication numbers them from 1. Runs not 'complete' are skipped and counted.
 *  Per device (the headline):
 *  - time to updated s: devices.updated_ns - devices.first_start_ns, per device that runs the
 *    new image for good (updated_ns not NULL): from its first attempt's start, across every
 *    retry and phone visit, to the moment the new image first runs confirmed (or boots
 *    without a way back).
 *  - attempts per device, bytes sent kB per device (devices.bytes_sent, resends included),
 *    bytes resent kB and retried requests per device (sums of dfu_attempts.bytes_resent and
 *    .retries), downtime s per device (devices.downtime_ns: the sum of its outages, the
 *    application stopped until it ran again): over the group's DFU devices. Resent and
 *    retried are NAN when the attempts are not recorded (`record: summary`).
 *  Per attempt, per upload, per swap:
 *  - goodput kB/s, per attempt whose upload completed: dfu_attempts.image_bytes (image bytes
 *    the device wrote in that attempt; resent bytes never count twice) / (upload_end_ns -
 *    upload_start_ns); per run its mean, median, p5 and p95 (report/stats.h, type 7).
 *  - attempt s, per attempt with outcome 'updated': end_ns - start_ns.
 *  - swap s, per swap with outcome 'swapped': MCUboot's end_ns - start_ns.
 *  - first chunk s, max: the longest wait for the response to an attempt's first upload
 *    request (chunks.seq 0, offset 0): acked_ns - sent_ns over the group's attempts whose
 *    first request was answered. It holds the device's work at offset 0 (a used slot's
 *    erase, the empty check), which a client's first-chunk timeout must cover. Only
 *    `record: chunks` writes chunks; below it, and without answered first requests, NAN.
 *  - erases per upgrade, primary and secondary: device_wear.erases summed over the group's
 *    devices, divided by the group's swaps (NAN without swaps, e.g. `record: summary`).
 *  Fleet:
 *  - t50/t90/t95/t100 s: time until ceil(p × count) of the group's devices have
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
#define REPORT_SCHEMA_MIN 4
#define REPORT_SCHEMA_MAX 5

enum report_metric {
    REPORT_DEVICES,
    REPORT_UPDATED,
    REPORT_FAILED,
    REPORT_REVERTED,
    REPORT_TTU_MEAN, /* time to updated, per device */
    REPORT_TTU_MEDIAN,
    REPORT_TTU_P95,
    REPORT_ATTEMPTS_MEAN,
    REPORT_DOWNTIME_MEAN,
    REPORT_DOWNTIME_P95,
    REPORT_SENT_KB,
    REPORT_RESENT_KB,
    REPORT_RETRIES,
    REPORT_GOODPUT_MEAN,
    REPORT_GOODPUT_MEDIAN,
    REPORT_GOODPUT_P5,
    REPORT_GOODPUT_P95,
    REPORT_ATTEMPT_MEAN,
    REPORT_SWAP_MEAN,
    REPORT_FIRST_CHUNK_MAX, /* needs record: chunks */
    REPORT_ERASES_PRIMARY,
    REPORT_ERASES_SECONDARY,
    REPORT_T50,
    REPORT_T90,
    REPORT_T95,
    REPORT_T100,
    REPORT_METRIC_COUNT
};

/* How a metric reads: a count, a duration in s (shown as h:mm:ss or days when long), or
 * another quantity whose unit is in its name. */
enum report_metric_kind { REPORT_KIND_COUNT, REPORT_KIND_SECONDS, REPORT_KIND_OTHER };

struct report_metric_def {
    const char *column; /* CSV and JSON name with its unit, e.g. "goodput_kBps_mean" */
    const char *label;  /* terminal label, saying per what (device, upload, swap) */
    int decimals;
    enum report_metric_kind kind;
    bool needs_chunks; /* only a run with `record: chunks` has it (NAN otherwise) */
};
extern const struct report_metric_def report_metrics[REPORT_METRIC_COUNT];

struct report_row {
    char *point;        /* "key=value, ..." of the params that differ between points, or "all" */
    size_t point_index; /* 0 ...: every output calls it "point <point_index + 1>" */
    char **values;      /* [n_keys of the summary]: this point's value of each swept key, or
                           NULL when the point's runs do not set it */
    char *group;        /* device group name */
    char *bootloader;   /* the group's MCUboot mode in the point's first run */
    char *board;        /* and its board */
    size_t n_runs;
    double mean[REPORT_METRIC_COUNT], ci95[REPORT_METRIC_COUNT];
    double sd[REPORT_METRIC_COUNT]; /* sample sd across the runs; NAN as ci95 is (for compare) */
};

struct report_summary {
    size_t n_rows, n_points, n_skipped_runs;
    size_t n_keys;
    char **keys;             /* the swept keys: run_params that differ between points, sorted */
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

/* Tidy CSV (libcsv quoting), one line per row: point (its number, from 1), one column per
 * swept key holding the point's value, group, board, bootloader, runs, then per metric its
 * column (the mean across runs, units in the name) and <column>_ci95. Numbers are not
 * quoted; NAN and a key the point does not set are empty fields. Returns 0 or REPORT_EIO. */
int report_summary_write_csv(const struct report_summary *s, FILE *out);

/* The same rows as JSON: {"schema": 4, "rows": [{"point": 1, "swept": {KEY: VALUE, ...},
 * "group", "board", "bootloader", "runs", then every metric column and its _ci95 as a
 * number or null}]}; a swept value that reads as a number is a number. Returns 0 or a
 * REPORT_E* code. */
int report_summary_write_json(const struct report_summary *s, FILE *out);

#endif /* REPORT_SUMMARY_H */
