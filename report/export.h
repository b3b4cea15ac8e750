/* report/export.h - any table or view of a results database, filtered, as tidy CSV or JSON:
 * the job OMNeT++'s `opp_scavetool export` does for its result files. One row per row of
 * the table, the columns it has (or those asked for), numbers as numbers, NULL as an empty
 * field (CSV) or null (JSON). Reads only the database (CONTRIBUTING.md rule 10). */
#ifndef REPORT_EXPORT_H
#define REPORT_EXPORT_H

#include <stdio.h>

struct sqlite3;

enum report_export_format { REPORT_EXPORT_CSV, REPORT_EXPORT_JSON };

/* Writes `SELECT columns FROM table WHERE where` of db to out. table must name a table or
 * view of the database; columns is NULL (all) or a comma-separated list of its columns;
 * where is NULL or one SQL expression over them (e.g. "group_name = 'mice' AND run_id = 2").
 * db should be opened read-only: the expression is the user's own SQL. Returns the number of
 * rows (>= 0), or a negative REPORT_E* code with a message for people in err:
 * REPORT_ENOENT for an unknown table, REPORT_EFORMAT for a bad column list or expression,
 * REPORT_EIO for a write error. */
long report_export(struct sqlite3 *db, const char *table, const char *columns, const char *where,
                   enum report_export_format fmt, FILE *out, char *err, size_t n);

/* The tables and views of db, one per line ("table dfu_attempts", "view v_devices"), for
 * messages and --list. Returns 0 or a negative REPORT_E* code. */
int report_export_list(struct sqlite3 *db, FILE *out);

#endif /* REPORT_EXPORT_H */
