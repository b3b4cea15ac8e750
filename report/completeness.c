/* report/completeness.c - planned against finished runs of a results database. */
#include "report/completeness.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static long query_long(sqlite3 *db, const char *sql, long none)
{
    sqlite3_stmt *st = NULL;
    long v = none;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

int report_completeness_read(const char *path, struct report_completeness *c, char *msg,
                             size_t msg_len)
{
    memset(c, 0, sizeof(*c));
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(msg, msg_len, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    c->runs = query_long(db, "SELECT count(*) FROM runs", -1);
    if (c->runs < 0) {
        snprintf(msg, msg_len, "%s: no runs table: not a dfusim results database", path);
        sqlite3_close(db);
        return -1;
    }
    c->planned =
        query_long(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'runs_planned'", -1);
    c->finished =
        query_long(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'runs_finished'", -1);
    c->complete = query_long(db, "SELECT count(*) FROM runs WHERE status = 'complete'", 0);
    c->interrupted = query_long(db, "SELECT count(*) FROM runs WHERE status = 'interrupted'", 0);
    c->failed = query_long(db, "SELECT count(*) FROM runs WHERE status = 'failed'", 0);
    c->running = query_long(db, "SELECT count(*) FROM runs WHERE status = 'running'", 0);
    sqlite3_close(db);
    return 0;
}

bool report_completeness_whole(const struct report_completeness *c)
{
    if (c->complete != c->runs)
        return false;
    if (c->planned >= 0 && (c->finished != c->planned || c->runs != c->planned))
        return false;
    return true;
}

void report_completeness_describe(const struct report_completeness *c, char *buf, size_t n)
{
    buf[0] = '\0';
    if (report_completeness_whole(c))
        return;
    size_t o = 0;
    if (c->planned >= 0)
        o += (size_t)snprintf(buf + o, n - o,
                              "the sweep is incomplete: %ld of %ld planned runs finished",
                              c->complete, c->planned);
    else
        o += (size_t)snprintf(buf + o, n - o, "the sweep is incomplete: %ld of %ld runs finished",
                              c->complete, c->runs);
    const struct {
        long count;
        const char *what;
    } parts[] = {
        {c->interrupted, "interrupted"},
        {c->failed, "failed"},
        {c->running, "still 'running' (the writer stopped)"},
        {c->planned > c->runs ? c->planned - c->runs : 0, "never started"},
    };
    const char *sep = " (";
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && o < n; i++) {
        if (parts[i].count <= 0)
            continue;
        o += (size_t)snprintf(buf + o, n - o, "%s%ld %s", sep, parts[i].count, parts[i].what);
        sep = ", ";
    }
    if (sep[0] == ',' && o < n)
        snprintf(buf + o, n - o, ")");
}

int report_completeness_warn(const char *path, FILE *out, FILE *err)
{
    struct report_completeness c;
    char msg[512], what[512];
    if (report_completeness_read(path, &c, msg, sizeof(msg)) != 0)
        return -1;
    if (report_completeness_whole(&c))
        return 0;
    report_completeness_describe(&c, what, sizeof(what));
    fprintf(err, "WARNING: %s: %s; the figures cover the finished runs only\n", path, what);
    if (out != NULL && out != err)
        fprintf(out, "WARNING: %s: %s; the figures cover the finished runs only\n", path, what);
    return 1;
}
