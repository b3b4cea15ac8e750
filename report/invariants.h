/* report/invariants.h - what must hold in every dfusim results database, checked by SQL.
 *
 * Each invariant is one query over the tables of schema 4 that returns the rows breaking it;
 * a violation names the invariant, the table, the row (run and key columns) and the values
 * involved. The list, in README "Result database":
 *   1. durations are never negative: outages, swaps, devices.downtime_ns;
 *   2. each attempt's times are ordered: every phase time lies in [start_ns, end_ns], the
 *      upload ends after it starts, the reset follows the upload;
 *   3. goodput never exceeds the physical bound of the device's link: for BLE the LL
 *      payload rate of its PHY and data length (a full data PDU and the empty reply, each
 *      followed by T_IFS, back to back), for the UART the base64 payload of its baud rate;
 *   4. every updated device has its update time, after its first attempt began;
 *   5. per-device totals agree with the attempts and outages (attempts, bytes sent,
 *      downtime, first start) and per-group totals with the devices (count);
 *   6. records belong to their device's attempt: a swap, outage or lock change names an
 *      attempt of the same device that began before it, and no later attempt of that device
 *      began before it; outages of a device do not overlap.
 * Totals against attempts (5) are checked only for runs recorded at `attempts` or more.
 * Reads only the database (CONTRIBUTING.md rule 10). */
#ifndef REPORT_INVARIANTS_H
#define REPORT_INVARIANTS_H

#include <stddef.h>
#include <stdio.h>

struct sqlite3;

/* Checks every invariant over every run of db. Writes one line per violation to out (at
 * most max_lines; 0: none), e.g.
 *   "attempt times ordered: dfu_attempts run 3 attempt 192: upload_end_ns=5 < upload_start_ns=7"
 * Returns the number of violations (>= 0), or a negative REPORT_E* code when a query fails
 * (the message then goes to out). */
long report_invariants_check(struct sqlite3 *db, FILE *out, size_t max_lines);

#endif /* REPORT_INVARIANTS_H */
