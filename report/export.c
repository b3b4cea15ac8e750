/* report/export.c - a filtered table or view as CSV or JSON; contract in export.h. */
#include "report/export.h"
#include "report/csv_out.h"
#include "report/json_out.h"
#include "report/summary.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int known_table(sqlite3 *db, const char *table)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM sqlite_schema WHERE type IN ('table', 'view')"
                           " AND name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return REPORT_EIO;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return found < 0 ? REPORT_EIO : found > 0 ? 0 : REPORT_ENOENT;
}

int report_export_list(sqlite3 *db, FILE *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT type, name FROM sqlite_schema WHERE type IN ('table', 'view')"
                           " ORDER BY type, name",
                           -1, &st, NULL) != SQLITE_OK)
        return REPORT_EIO;
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(out, "%s %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    return 0;
}

/* One cell: integers and reals as numbers, text as text, NULL empty (CSV) or null. */
static int put_csv(sqlite3_stmt *st, int c, FILE *out)
{
    bool first = c == 0;
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_INTEGER:
        return fprintf(out, "%s%lld", first ? "" : ",", (long long)sqlite3_column_int64(st, c)) < 0
                   ? REPORT_EIO
                   : 0;
    case SQLITE_FLOAT: {
        /* the shortest of 15 or 17 digits that reads back to the same double */
        double v = sqlite3_column_double(st, c);
        char buf[32];
        snprintf(buf, sizeof(buf), "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, sizeof(buf), "%.17g", v);
        return fprintf(out, "%s%s", first ? "" : ",", buf) < 0 ? REPORT_EIO : 0;
    }
    case SQLITE_NULL:
        return first || fputc(',', out) != EOF ? 0 : REPORT_EIO;
    default:
        return report_csv_field(out, first, (const char *)sqlite3_column_text(st, c));
    }
}

static void put_json(sqlite3_stmt *st, int c, struct report_json *j)
{
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_INTEGER:
        report_json_int(j, sqlite3_column_int64(st, c));
        break;
    case SQLITE_FLOAT:
        report_json_number(j, sqlite3_column_double(st, c));
        break;
    case SQLITE_NULL:
        report_json_null(j);
        break;
    default:
        report_json_string(j, (const char *)sqlite3_column_text(st, c));
    }
}

long report_export(sqlite3 *db, const char *table, const char *columns, const char *where,
                   enum report_export_format fmt, FILE *out, char *err, size_t n)
{
    int rc = known_table(db, table);
    if (rc != 0) {
        snprintf(err, n,
                 rc == REPORT_ENOENT ? "no table or view named '%s' (dfusim export DB"
                                       " --list shows them)"
                                     : "cannot read the database (%s)",
                 rc == REPORT_ENOENT ? table : sqlite3_errmsg(db));
        return rc;
    }
    size_t len = strlen(table) + (columns ? strlen(columns) : 1) + (where ? strlen(where) : 0) + 64;
    char *sql = malloc(len);
    if (sql == NULL)
        return REPORT_ENOMEM;
    /* the table name was checked above; quoting keeps names such as v_devices as they are */
    snprintf(sql, len, "SELECT %s FROM \"%s\"%s%s", columns ? columns : "*", table,
             where ? " WHERE " : "", where ? where : "");
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    rc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
    if (rc != SQLITE_OK || (tail != NULL && tail[strspn(tail, " \t\n;")] != '\0')) {
        snprintf(err, n, "%s: %s", columns || where ? "--columns or --where" : table,
                 rc != SQLITE_OK ? sqlite3_errmsg(db) : "one expression only");
        sqlite3_finalize(st);
        free(sql);
        return REPORT_EFORMAT;
    }
    free(sql);
    int cols = sqlite3_column_count(st);
    long rows = 0;
    struct report_json j;
    int wrc = 0;
    if (fmt == REPORT_EXPORT_JSON) {
        report_json_init(&j, out);
        report_json_begin_array(&j);
    } else {
        for (int c = 0; c < cols && wrc == 0; c++)
            wrc = report_csv_field(out, c == 0, sqlite3_column_name(st, c));
        if (wrc == 0 && fputc('\n', out) == EOF)
            wrc = REPORT_EIO;
    }
    int step = SQLITE_DONE;
    while (wrc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rows++;
        if (fmt == REPORT_EXPORT_JSON) {
            report_json_begin_object(&j);
            for (int c = 0; c < cols; c++) {
                report_json_key(&j, sqlite3_column_name(st, c));
                put_json(st, c, &j);
            }
            report_json_end_object(&j);
            continue;
        }
        for (int c = 0; c < cols && wrc == 0; c++)
            wrc = put_csv(st, c, out);
        if (wrc == 0 && fputc('\n', out) == EOF)
            wrc = REPORT_EIO;
    }
    if (wrc == 0 && step != SQLITE_DONE) {
        snprintf(err, n, "%s: %s", table, sqlite3_errmsg(db));
        wrc = REPORT_EFORMAT; /* e.g. a type error in the expression, found while running */
    }
    sqlite3_finalize(st);
    if (fmt == REPORT_EXPORT_JSON) {
        report_json_end_array(&j);
        int jrc = report_json_finish(&j);
        wrc = wrc ? wrc : jrc;
    }
    if (wrc == REPORT_EIO)
        snprintf(err, n, "write failed");
    return wrc != 0 ? wrc : rows;
}
