/* tests/db_compare.h - one value read from a results database, and two databases compared
 * table by table with the wall-clock columns (runs.started_at, runs.ended_at) left out:
 * what "the same database" means for determinism (same seed twice, -j 1 against -j N,
 * --mpi on R ranks). Header-only because each test is its own executable; include it after
 * <cmocka.h>. */
#ifndef TESTS_DB_COMPARE_H
#define TESTS_DB_COMPARE_H

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* The first column of the first row sql gives on the database at db_path, as text ("NULL"
 * when none); a static buffer, valid until the next call. */
static inline const char *query(const char *db_path, const char *sql)
{
    static char value[4096];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        snprintf(value, sizeof(value), "%s", (const char *)sqlite3_column_text(st, 0));
    else
        snprintf(value, sizeof(value), "NULL");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return value;
}

/* Compares every table of two databases, all columns but the wall-clock ones. Returns the
 * number of tables that differ. */
static inline int count_differing_tables(const char *a, const char *b)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(a, &db), SQLITE_OK);
    char sql[16384]; /* room for four column lists of 2 KiB */
    snprintf(sql, sizeof(sql), "ATTACH '%s' AS other", b);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *tables = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "select name from main.sqlite_master where type ="
                                        " 'table' order by name",
                                        -1, &tables, NULL),
                     SQLITE_OK);
    int differing = 0, n_tables = 0;
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(tables, 0);
        char cols[2048] = "";
        sqlite3_stmt *info = NULL;
        snprintf(sql, sizeof(sql), "select name from pragma_table_info('%s')", t);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &info, NULL), SQLITE_OK);
        while (sqlite3_step(info) == SQLITE_ROW) {
            const char *c = (const char *)sqlite3_column_text(info, 0);
            if (strcmp(c, "started_at") == 0 || strcmp(c, "ended_at") == 0)
                continue; /* wall clock */
            size_t used = strlen(cols);
            snprintf(cols + used, sizeof(cols) - used, "%s\"%s\"", used ? "," : "", c);
        }
        sqlite3_finalize(info);
        snprintf(sql, sizeof(sql),
                 "select (select count(*) from (select %s from main.\"%s\" except select %s"
                 " from other.\"%s\")) + (select count(*) from (select %s from other.\"%s\""
                 " except select %s from main.\"%s\")) + abs((select count(*) from"
                 " main.\"%s\") - (select count(*) from other.\"%s\"))",
                 cols, t, cols, t, cols, t, cols, t, t, t);
        sqlite3_stmt *diff = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &diff, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(diff), SQLITE_ROW);
        differing += sqlite3_column_int64(diff, 0) != 0;
        sqlite3_finalize(diff);
        n_tables++;
    }
    sqlite3_finalize(tables);
    sqlite3_close(db);
    assert_true(n_tables >= 10);
    return differing;
}

#endif /* TESTS_DB_COMPARE_H */
