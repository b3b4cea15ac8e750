/* report/fingerprint.h - a SHA-256 over the results of a dfusim database, like OMNeT++'s
 * fingerprints (omnetpp/omnetpp: doc/src/manual/ch-testing.tex): two databases with the same
 * simulated results have the same fingerprint, whatever the wall clock, the paths, the
 * version string or the order rows were written in.
 *
 * What goes in, table by table in this order (FINGERPRINT_TABLES in fingerprint.c):
 *  - runs: run_id, scenario_name, seed, replication, sweep_point, record_level, status,
 *    status_detail, sim_end_ns. Left out: scenario_path, scenario_text, scenario_sha256
 *    (a comment in the file is no result), dfusim_version, schema_version, model,
 *    started_at, ended_at (wall clock) and events (the engine's bookkeeping: a refactoring
 *    that schedules differently but simulates the same keeps the fingerprint).
 *  - run_params without the keys check.* (tolerances are not results).
 *  - every column of device_groups, gateways, sessions, devices, dfu_attempts, chunks,
 *    swaps, lock_changes, waves, device_wear, flash_wear.
 *  - not meta (timestamps) and no view.
 * Rows are sorted by every hashed column in column order (the primary key comes first in
 * each table, so this is primary-key order, and it also orders tables without one).
 * Canonical text per table: "#TABLE COL,COL,...\n", then per row its values joined by ','
 * and ended by '\n': NULL "N", integer "i" and decimal, real "r" and %.17g, text "t",
 * its byte length, ':' and the bytes, blob the same with "b". */
#ifndef REPORT_FINGERPRINT_H
#define REPORT_FINGERPRINT_H

#include <stddef.h>

#define REPORT_FINGERPRINT_HEX 65 /* 64 lowercase hex digits and a NUL */

/* Fingerprint of the database at path into hex. Returns 0, REPORT_ENOENT (cannot open),
 * REPORT_EFORMAT (a table or column is missing), REPORT_EIO or REPORT_ENOMEM
 * (report/summary.h codes); err (if n > 0) then says why, naming the file. */
int report_fingerprint(const char *path, char hex[REPORT_FINGERPRINT_HEX], char *err, size_t n);

#endif /* REPORT_FINGERPRINT_H */
