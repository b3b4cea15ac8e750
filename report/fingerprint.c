/* report/fingerprint.c - SHA-256 over the canonical dump of a results database. */
#include "report/fingerprint.h"

#include "report/summary.h"

#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* Table, then its columns (NULL: all of them, in schema order) and a filter. */
static const struct {
    const char *table, *columns, *where;
} FINGERPRINT_TABLES[] = {
    {"runs",
     "run_id, scenario_name, seed, replication, sweep_point, record_level, status, "
     "status_detail, sim_end_ns",
     NULL},
    {"run_params", NULL, "key NOT LIKE 'check.%'"},
    {"device_groups", NULL, NULL},
    {"gateways", NULL, NULL},
    {"sessions", NULL, NULL},
    {"devices", NULL, NULL},
    {"dfu_attempts", NULL, NULL},
    {"chunks", NULL, NULL},
    {"swaps", NULL, NULL},
    {"outages", NULL, NULL},
    {"lock_changes", NULL, NULL},
    {"waves", NULL, NULL},
    {"device_wear", NULL, NULL},
    {"flash_wear", NULL, NULL},
};

static int feed(EVP_MD_CTX *md, const void *p, size_t n)
{
    return EVP_DigestUpdate(md, p, n) == 1 ? 0 : REPORT_ENOMEM;
}

static int feed_str(EVP_MD_CTX *md, const char *s)
{
    return feed(md, s, strlen(s));
}

static int feed_value(EVP_MD_CTX *md, sqlite3_stmt *st, int c)
{
    char buf[64];
    int type = sqlite3_column_type(st, c);
    if (type == SQLITE_NULL)
        return feed_str(md, "N");
    if (type == SQLITE_INTEGER) {
        snprintf(buf, sizeof(buf), "i%lld", (long long)sqlite3_column_int64(st, c));
        return feed_str(md, buf);
    }
    if (type == SQLITE_FLOAT) {
        snprintf(buf, sizeof(buf), "r%.17g", sqlite3_column_double(st, c));
        return feed_str(md, buf);
    }
    const void *p =
        type == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, c) : sqlite3_column_blob(st, c);
    int len = sqlite3_column_bytes(st, c);
    snprintf(buf, sizeof(buf), "%c%d:", type == SQLITE_TEXT ? 't' : 'b', len);
    int rc = feed_str(md, buf);
    return rc != 0 || len == 0 ? rc : feed(md, p, (size_t)len);
}

/* One table: header line, then its rows sorted by every column. */
static int feed_table(EVP_MD_CTX *md, sqlite3 *db, size_t t, char *err, size_t n)
{
    char sql[1024];
    int len = snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE %s ORDER BY 1",
                       FINGERPRINT_TABLES[t].columns ? FINGERPRINT_TABLES[t].columns : "*",
                       FINGERPRINT_TABLES[t].table,
                       FINGERPRINT_TABLES[t].where ? FINGERPRINT_TABLES[t].where : "1");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto fail_format;
    int n_cols = sqlite3_column_count(st);
    sqlite3_finalize(st);
    st = NULL;
    for (int c = 2; c <= n_cols && len < (int)sizeof(sql) - 8; c++)
        len += snprintf(sql + len, sizeof(sql) - (size_t)len, ",%d", c);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto fail_format;
    int rc = feed_str(md, "#");
    rc = rc ? rc : feed_str(md, FINGERPRINT_TABLES[t].table);
    for (int c = 0; c < n_cols && rc == 0; c++) {
        rc = feed_str(md, c == 0 ? " " : ",");
        rc = rc ? rc : feed_str(md, sqlite3_column_name(st, c));
    }
    rc = rc ? rc : feed_str(md, "\n");
    int step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < n_cols && rc == 0; c++) {
            rc = c > 0 ? feed_str(md, ",") : 0;
            rc = rc ? rc : feed_value(md, st, c);
        }
        rc = rc ? rc : feed_str(md, "\n");
    }
    if (rc == 0 && step != SQLITE_DONE) {
        snprintf(err, n, "%s: reading %s: %s", sqlite3_db_filename(db, "main"),
                 FINGERPRINT_TABLES[t].table, sqlite3_errmsg(db));
        rc = REPORT_EIO;
    }
    sqlite3_finalize(st);
    return rc;

fail_format:
    snprintf(err, n, "%s: not a dfusim results database (%s: %s)", sqlite3_db_filename(db, "main"),
             FINGERPRINT_TABLES[t].table, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return REPORT_EFORMAT;
}

int report_fingerprint(const char *path, char hex[REPORT_FINGERPRINT_HEX], char *err, size_t n)
{
    char none[1];
    if (n == 0) {
        err = none;
        n = sizeof(none);
    }
    err[0] = '\0';
    hex[0] = '\0';
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, n, "%s: cannot open: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return REPORT_ENOENT;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : REPORT_ENOMEM;
    for (size_t t = 0; rc == 0 && t < sizeof(FINGERPRINT_TABLES) / sizeof(FINGERPRINT_TABLES[0]);
         t++)
        rc = feed_table(md, db, t, err, n);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (rc == 0 && (EVP_DigestFinal_ex(md, digest, &len) != 1 || len != 32))
        rc = REPORT_ENOMEM;
    if (rc == 0) {
        for (unsigned i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    } else if (rc == REPORT_ENOMEM && err[0] == '\0') {
        snprintf(err, n, "%s: out of memory while hashing", path);
    }
    EVP_MD_CTX_free(md);
    sqlite3_close(db);
    return rc;
}
