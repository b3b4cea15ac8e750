/* report/invariants.c - the invariants of report/invariants.h, one query each. */
#include "report/invariants.h"
#include "report/summary.h"

#include <sqlite3.h>

/* Every query returns (row, values) for the rows that break its invariant, over complete
 * runs (a cut-short run has no devices rows yet). `done` is that set of runs; `full` the
 * complete runs recorded at `attempts` or more. */
#define DONE "run_id IN (SELECT run_id FROM runs WHERE status = 'complete')"
#define FULL                                                                                       \
    "run_id IN (SELECT run_id FROM runs WHERE status = 'complete' AND record_level IN"             \
    " ('attempts', 'chunks'))"

/* A group's link setting from run_params (the effective settings of the run). */
#define PARAM(k)                                                                                   \
    "(SELECT value FROM run_params p WHERE p.run_id = g.run_id AND p.key = 'devices.' ||"          \
    " g.name || '.link." k "')"

/* Whether the record (table t, device d, time at, attempt id) is the device's attempt that
 * began last before it; an id not recorded is allowed only past the device's last recorded
 * attempt (still open when the run ended). */
#define BELONGS(t, at)                                                                             \
    "SELECT '" t " run ' || x.run_id || ' device ' || x.device_id || ' at ' || x." at ","          \
    " 'attempt_id=' || ifnull(x.attempt_id, 'NULL') || ifnull(' (attempt of device ' ||"           \
    " a.device_id || ', started ' || a.start_ns || ')', '')"                                       \
    " FROM " t " x LEFT JOIN temp.att a ON a.run_id = x.run_id"                                    \
    " AND a.attempt_id = x.attempt_id WHERE x." FULL " AND CASE"                                   \
    " WHEN x.attempt_id IS NULL THEN EXISTS (SELECT 1 FROM temp.att b WHERE"                       \
    "   b.run_id = x.run_id AND b.device_id = x.device_id AND b.start_ns <= x." at ")"             \
    " WHEN a.attempt_id IS NULL THEN EXISTS (SELECT 1 FROM temp.att b WHERE"                       \
    "   b.run_id = x.run_id AND b.device_id = x.device_id AND b.attempt_id >= x.attempt_id)"       \
    " ELSE a.device_id <> x.device_id OR a.start_ns > x." at " OR EXISTS (SELECT 1 FROM"           \
    "   temp.att b WHERE b.run_id = x.run_id AND b.device_id = x.device_id"                        \
    "   AND b.start_ns > a.start_ns AND b.start_ns < x." at ") END"

/* SQL is laid out as SQL: clang-format would break it at arbitrary words. */
/* clang-format off */

/* B/s: BLE 1M/2M, a full PDU (payload + 10 or 11 bytes of preamble, access address, header
 * and CRC) and the empty reply, each with T_IFS 150 us (Core spec v5.4, Vol 6 Part B 2.1 and
 * 4.1.1); coded PHY: its raw bit rate; UART: 8N1, base64 (3 of 4). */
static const char sql_goodput_bound[] =
    "WITH g AS (SELECT g.run_id, g.group_id, g.board,"
    "  " PARAM("phy") " AS phy,"
    "  CAST(" PARAM("dle") " AS REAL) AS dle,"
    "  CAST(" PARAM("baud") " AS REAL) AS baud,"
    "  " PARAM("transport") " AS transport"
    "  FROM device_groups g),"
    " b AS (SELECT run_id, group_id, CASE"
    "  WHEN transport = 'uart' OR (transport = 'auto' AND board = 'rak3172')"
    "   THEN baud / 10 * 0.75"
    "  WHEN phy = '1M' THEN dle / ((dle + 10) / 125000.0 + 300e-6 + 10 / 125000.0)"
    "  WHEN phy = '2M' THEN dle / ((dle + 11) / 250000.0 + 300e-6 + 11 / 250000.0)"
    "  WHEN phy = 'coded-s2' THEN 62500.0 ELSE 15625.0 END AS bound FROM g)"
    " SELECT 'dfu_attempts run ' || a.run_id || ' attempt ' || a.attempt_id,"
    "  printf('goodput %.1f B/s > bound %.1f B/s',"
    "   a.image_bytes * 1e9 / (a.upload_end_ns - a.upload_start_ns), b.bound)"
    " FROM dfu_attempts a"
    " JOIN devices d ON d.run_id = a.run_id AND d.device_id = a.device_id"
    " JOIN b ON b.run_id = d.run_id AND b.group_id = d.group_id"
    " WHERE a." DONE " AND a.image_bytes > 0 AND a.upload_end_ns > a.upload_start_ns"
    "  AND a.image_bytes * 1e9 / (a.upload_end_ns - a.upload_start_ns) > b.bound";

/* Swaps, outages and lock changes belong to their attempt; a device's outages do not
 * overlap. */
static const char sql_attribution[] =
    BELONGS("swaps", "start_ns")
    " UNION ALL " BELONGS("outages", "down_ns")
    " UNION ALL " BELONGS("lock_changes", "at_ns")
    " UNION ALL SELECT 'outages run ' || run_id || ' device ' || device_id || ' down ' ||"
    "  down_ns, 'previous up_ns=' || prev"
    " FROM (SELECT *, lag(up_ns) OVER (PARTITION BY run_id, device_id ORDER BY down_ns)"
    "  AS prev FROM outages WHERE " DONE ") WHERE prev > down_ns";

static const struct {
    const char *name;
    const char *sql;
} checks[] = {
    {"durations not negative",
     "SELECT 'outages run ' || run_id || ' device ' || device_id || ' down ' || down_ns,"
     " 'up_ns=' || up_ns || ' < down_ns=' || down_ns FROM outages WHERE " DONE
     " AND up_ns < down_ns"
     " UNION ALL SELECT 'swaps run ' || run_id || ' device ' || device_id || ' at ' || start_ns,"
     " 'end_ns=' || end_ns || ' < start_ns=' || start_ns FROM swaps WHERE " DONE
     " AND end_ns < start_ns"
     " UNION ALL SELECT 'devices run ' || run_id || ' device ' || device_id,"
     " 'downtime_ns=' || downtime_ns FROM devices WHERE " DONE " AND downtime_ns < 0"
     " UNION ALL SELECT 'sessions run ' || run_id || ' gateway ' || gateway_id || ' session ' ||"
     " session, 'end_ns=' || end_ns || ' < start_ns=' || start_ns FROM sessions WHERE " DONE
     " AND end_ns < start_ns"},
    {"attempt times ordered",
     "SELECT 'dfu_attempts run ' || run_id || ' attempt ' || attempt_id,"
     " printf('start %d connect %s validate %s upload %s..%s test %s reset %s reconnect %s"
     " confirm %s end %d', start_ns, connect_ns, validate_ns, upload_start_ns, upload_end_ns,"
     " test_ns, reset_ns, reconnect_ns, confirm_ns, end_ns) FROM dfu_attempts WHERE " DONE
     " AND (end_ns < start_ns"
     " OR connect_ns NOT BETWEEN start_ns AND end_ns OR validate_ns NOT BETWEEN start_ns AND"
     " end_ns OR upload_start_ns NOT BETWEEN start_ns AND end_ns OR upload_end_ns NOT BETWEEN"
     " start_ns AND end_ns OR test_ns NOT BETWEEN start_ns AND end_ns OR reset_ns NOT BETWEEN"
     " start_ns AND end_ns OR reconnect_ns NOT BETWEEN start_ns AND end_ns OR confirm_ns NOT"
     " BETWEEN start_ns AND end_ns OR upload_end_ns < upload_start_ns OR reset_ns <"
     " upload_end_ns OR swap_end_ns < swap_start_ns)"},
    {"goodput within the link's physical bound", sql_goodput_bound},
    {"updated devices have their update time",
     "SELECT 'devices run ' || run_id || ' device ' || device_id, 'state=' || state ||"
     " ' first_start_ns=' || ifnull(first_start_ns, 'NULL') || ' updated_ns=' ||"
     " ifnull(updated_ns, 'NULL') FROM devices WHERE " DONE " AND ((state = 'updated' AND"
     " updated_ns IS NULL) OR (updated_ns IS NOT NULL AND (first_start_ns IS NULL OR"
     " updated_ns < first_start_ns)))"},
    {"device totals agree with attempts and outages",
     "WITH t AS (SELECT run_id, device_id, count(*) AS n, total(bytes_sent) AS sent,"
     " min(start_ns) AS first FROM temp.att GROUP BY run_id, device_id),"
     " o AS (SELECT run_id, device_id, total(up_ns - down_ns) AS down FROM outages"
     " WHERE up_ns IS NOT NULL GROUP BY run_id, device_id)"
     " SELECT 'devices run ' || d.run_id || ' device ' || d.device_id,"
     " printf('attempts %d/%d bytes_sent %d/%d downtime_ns %d/%d first_start_ns %s/%s',"
     " d.attempts, ifnull(t.n, 0), d.bytes_sent, ifnull(t.sent, 0), d.downtime_ns,"
     " ifnull(o.down, 0), d.first_start_ns, t.first)"
     " FROM devices d LEFT JOIN t ON t.run_id = d.run_id AND t.device_id = d.device_id"
     " LEFT JOIN o ON o.run_id = d.run_id AND o.device_id = d.device_id WHERE d." FULL
     " AND (d.attempts <> ifnull(t.n, 0) OR d.bytes_sent <> ifnull(t.sent, 0) OR"
     " d.downtime_ns <> ifnull(o.down, 0) OR (d.attempts > 0 AND d.first_start_ns IS NOT"
     " t.first))"
     " UNION ALL SELECT 'device_groups run ' || g.run_id || ' group ' || g.group_id,"
     " printf('count %d, devices %d', g.count, ifnull(n.n, 0)) FROM device_groups g LEFT JOIN"
     " (SELECT run_id, group_id, count(*) AS n FROM devices GROUP BY run_id, group_id) n"
     " ON n.run_id = g.run_id AND n.group_id = g.group_id WHERE g." DONE
     " AND g.count <> ifnull(n.n, 0)"},
    {"records belong to their attempt", sql_attribution},
};

/* clang-format on */

/* The attempts, indexed by device in the connection's temporary database (the results
 * schema keeps no such index: the recorder would pay for it on every row). */
static const char prelude[] =
    "DROP TABLE IF EXISTS temp.att;"
    "CREATE TEMP TABLE att AS SELECT run_id, attempt_id, device_id, start_ns, bytes_sent"
    " FROM main.dfu_attempts;"
    "CREATE INDEX temp.att_id ON att (run_id, attempt_id);"
    "CREATE INDEX temp.att_dev ON att (run_id, device_id, start_ns);";

long report_invariants_check(sqlite3 *db, FILE *out, size_t max_lines)
{
    long bad = 0;
    if (sqlite3_exec(db, prelude, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(out, "cannot index the attempts: %s\n", sqlite3_errmsg(db));
        return REPORT_EIO;
    }
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, checks[i].sql, -1, &st, NULL) != SQLITE_OK) {
            fprintf(out, "%s: cannot check: %s\n", checks[i].name, sqlite3_errmsg(db));
            bad = REPORT_EIO;
            break;
        }
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if ((size_t)bad++ < max_lines)
                fprintf(out, "%s: %s: %s\n", checks[i].name, sqlite3_column_text(st, 0),
                        sqlite3_column_text(st, 1));
        }
        sqlite3_finalize(st);
        if (step != SQLITE_DONE) {
            fprintf(out, "%s: cannot check: %s\n", checks[i].name, sqlite3_errmsg(db));
            bad = REPORT_EIO;
            break;
        }
    }
    (void)sqlite3_exec(db, "DROP TABLE temp.att", NULL, NULL, NULL);
    return bad;
}
