/* report/plot_db.c - the three plots, built from a results database.
 *
 * Each query returns rows (series key, value[, y]) ordered by key; collect() gathers one
 * key's rows and hands them to a per-plot flush function that adds the series. Only
 * complete runs count (an interrupted run's fleet looks slower than it is).
 */
#include "report/plot.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PARAM "client.window"

/* Devices of complete runs with their group; "K" is replaced by the series key. */
#define FROM_DEVICES                                                                               \
    " FROM devices d JOIN device_groups g ON g.run_id = d.run_id AND g.group_id = d.group_id"      \
    " JOIN runs r ON r.run_id = d.run_id AND r.status = 'complete'"
#define FROM_ATTEMPTS                                                                              \
    " FROM dfu_attempts a JOIN devices d ON d.run_id = a.run_id AND d.device_id = a.device_id"     \
    " JOIN device_groups g ON g.run_id = d.run_id AND g.group_id = d.group_id"                     \
    " JOIN runs r ON r.run_id = d.run_id AND r.status = 'complete'"

struct rows {
    size_t n, cap, n_null; /* n values (x, y); n_null rows whose value was NULL */
    double *x, *y;
};

typedef int (*flush_fn)(struct report_plot *out, const char *key, const struct rows *rows,
                        void *ctx);

static const char *key_column(enum report_plot_by by)
{
    return by == REPORT_PLOT_BY_GROUP ? "g.name" : "g.bootloader";
}

static const char *key_noun(enum report_plot_by by)
{
    return by == REPORT_PLOT_BY_GROUP ? "device groups" : "bootloader modes";
}

static int rows_push(struct rows *r, double x, double y)
{
    if (r->n == r->cap) {
        size_t cap = r->cap != 0 ? r->cap * 2 : 256;
        double *nx = realloc(r->x, cap * sizeof(*nx));
        if (nx == NULL)
            return SIM_ENOMEM;
        r->x = nx;
        double *ny = realloc(r->y, cap * sizeof(*ny));
        if (ny == NULL)
            return SIM_ENOMEM;
        r->y = ny;
        r->cap = cap;
    }
    r->x[r->n] = x;
    r->y[r->n] = y;
    r->n++;
    return SIM_OK;
}

static int db_error(sqlite3 *db, struct sim_diag *diag)
{
    sim_diag_add(diag, "plot: reading the results database: %s", sqlite3_errmsg(db));
    return SIM_EFORMAT;
}

/* A whole-string number; run_params values are text. */
static int parse_number(const char *s, double *v)
{
    if (s == NULL || s[0] == '\0')
        return SIM_EFORMAT;
    char *end = NULL;
    *v = strtod(s, &end);
    return *end == '\0' && isfinite(*v) ? SIM_OK : SIM_EFORMAT;
}

static int flush(struct report_plot *out, const char *key, struct rows *rows, flush_fn fn,
                 void *ctx, enum report_plot_by by, struct sim_diag *diag)
{
    if (out->n_series >= REPORT_PLOT_MAX_SERIES) {
        sim_diag_add(diag, "plot '%s': more than %d %s: too many series for one plot", out->title,
                     REPORT_PLOT_MAX_SERIES, key_noun(by));
        return SIM_ERANGE;
    }
    int rc = fn(out, key, rows, ctx);
    rows->n = 0;
    rows->n_null = 0;
    return rc;
}

/* Run sql (param, when not NULL, bound to ?1) and flush each key's rows. Columns: 0 the
 * key (text), 1 x (number or NULL), 2 y when present. */
static int collect(sqlite3 *db, const char *sql, const char *param, struct report_plot *out,
                   flush_fn fn, void *ctx, enum report_plot_by by, struct sim_diag *diag)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(db, diag);
    if (param != NULL)
        sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
    struct rows rows = {0};
    char key[REPORT_PLOT_TEXT_CAP] = "";
    int have_key = 0, rc = SIM_OK, step = SQLITE_DONE;
    while (rc == SIM_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        if (k == NULL)
            k = "";
        if (have_key && strncmp(k, key, sizeof(key) - 1) != 0)
            rc = flush(out, key, &rows, fn, ctx, by, diag);
        if (rc != SIM_OK)
            break;
        snprintf(key, sizeof(key), "%s", k);
        have_key = 1;
        if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
            rows.n_null++;
            continue;
        }
        double x = 0.0;
        const char *xs = (const char *)sqlite3_column_text(st, 1);
        if (parse_number(xs, &x) != SIM_OK) {
            sim_diag_add(diag, "plot '%s': '%s' is not a number%s%s", out->title,
                         xs != NULL ? xs : "", param != NULL ? " in run_params " : "",
                         param != NULL ? param : "");
            rc = SIM_EFORMAT;
            break;
        }
        double y = sqlite3_column_count(st) > 2 ? sqlite3_column_double(st, 2) : 0.0;
        rc = rows_push(&rows, x, y);
    }
    if (rc == SIM_OK && step != SQLITE_DONE)
        rc = db_error(db, diag);
    if (rc == SIM_OK && have_key)
        rc = flush(out, key, &rows, fn, ctx, by, diag);
    sqlite3_finalize(st);
    free(rows.x);
    free(rows.y);
    return rc;
}

/* max of one numeric column (0 when no row or NULL). */
static int query_max(sqlite3 *db, const char *sql, double *max, struct sim_diag *diag)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(db, diag);
    int step = sqlite3_step(st);
    *max = step == SQLITE_ROW ? sqlite3_column_double(st, 0) : 0.0;
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? SIM_OK : db_error(db, diag);
}

struct time_unit {
    double ns; /* nanoseconds per unit */
    const char *name;
};

/* Seconds below 2 minutes, minutes below 2 hours, then hours. */
static struct time_unit pick_unit(double max_ns)
{
    if (max_ns >= 7200e9)
        return (struct time_unit){3600e9, "h"};
    if (max_ns >= 120e9)
        return (struct time_unit){60e9, "min"};
    return (struct time_unit){1e9, "s"};
}

/* ---- CDF of per-device DFU time ------------------------------------------------- */

static int flush_cdf(struct report_plot *out, const char *key, const struct rows *rows, void *ctx)
{
    const struct time_unit *u = ctx;
    for (size_t i = 0; i < rows->n; i++)
        rows->x[i] /= u->ns;
    int si = report_plot_add_cdf(out, key, rows->x, rows->n);
    return si < 0 ? si : SIM_OK;
}

static int finish(struct report_plot *out, int rc, const char *empty_why, struct sim_diag *diag)
{
    if (rc == SIM_OK && out->n_series == 0) {
        sim_diag_add(diag, "plot '%s': nothing to plot: %s", out->title, empty_why);
        rc = SIM_ENOENT;
    }
    if (rc != SIM_OK)
        report_plot_fini(out);
    return rc;
}

int report_plot_from_dfu_time(sqlite3 *db, enum report_plot_by by, struct report_plot *out,
                              struct sim_diag *diag)
{
    const char *title = "Per-device DFU time";
    report_plot_init(out, REPORT_PLOT_CDF, title, NULL, "fraction of updated devices");
    double max = 0.0;
    int rc = query_max(
        db, "SELECT max(a.end_ns - a.start_ns)" FROM_ATTEMPTS " WHERE a.outcome = 'updated'", &max,
        diag);
    if (rc != SIM_OK)
        return finish(out, rc, NULL, diag);
    struct time_unit u = pick_unit(max);
    snprintf(out->xlabel, sizeof(out->xlabel), "DFU time, first request to confirmed (%s)", u.name);
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT %s, a.end_ns - a.start_ns" FROM_ATTEMPTS
             " WHERE a.outcome = 'updated' ORDER BY 1, 2",
             key_column(by));
    rc = collect(db, sql, NULL, out, flush_cdf, &u, by, diag);
    return finish(out, rc,
                  "no updated DFU attempt in a complete run (dfu_attempts needs record "
                  "level 'attempts')",
                  diag);
}

/* ---- fleet progress ----------------------------------------------------------------- */

struct progress_ctx {
    struct time_unit u;
    double end; /* where every curve ends, in u */
};

/* A staircase drawn as lines: at each update time the curve rises vertically, thinned to
 * at most 2000 rises as report_plot_add_cdf does. rows holds the updated times, sorted;
 * n_null devices never updated. */
static int flush_progress(struct report_plot *out, const char *key, const struct rows *rows,
                          void *ctx)
{
    const struct progress_ctx *c = ctx;
    size_t total = rows->n + rows->n_null;
    int si = report_plot_add_series(out, key);
    if (si < 0)
        return si;
    double pct = 0.0;
    int rc = report_plot_add_point(out, (size_t)si, 0.0, 0.0);
    size_t last = 0;
    for (size_t i = 1; rc == SIM_OK && i <= rows->n; i++) {
        if (i < rows->n && rows->x[i] == rows->x[i - 1])
            continue;
        size_t bucket = (size_t)((double)i * 2000.0 / (double)total);
        if (i < rows->n && bucket == last)
            continue;
        last = bucket;
        double t = rows->x[i - 1] / c->u.ns;
        rc = report_plot_add_point(out, (size_t)si, t, pct);
        pct = 100.0 * (double)i / (double)total;
        if (rc == SIM_OK)
            rc = report_plot_add_point(out, (size_t)si, t, pct);
    }
    if (rc == SIM_OK)
        rc = report_plot_add_point(out, (size_t)si, c->end, pct);
    return rc;
}

int report_plot_from_progress(sqlite3 *db, enum report_plot_by by, struct report_plot *out,
                              struct sim_diag *diag)
{
    report_plot_init(out, REPORT_PLOT_LINES, "Fleet progress", NULL, "devices updated (%)");
    double max = 0.0;
    int rc = query_max(db, "SELECT max(d.updated_ns)" FROM_DEVICES, &max, diag);
    if (rc == SIM_OK && max <= 0.0) /* nobody updated: show the flat line to the end */
        rc = query_max(db, "SELECT max(r.sim_end_ns) FROM runs r WHERE r.status = 'complete'", &max,
                       diag);
    if (rc != SIM_OK)
        return finish(out, rc, NULL, diag);
    struct progress_ctx c = {.u = pick_unit(max)};
    c.end = max / c.u.ns;
    snprintf(out->xlabel, sizeof(out->xlabel), "simulated time (%s)", c.u.name);
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT %s, d.updated_ns" FROM_DEVICES " ORDER BY 1, d.updated_ns IS NULL, 2",
             key_column(by));
    rc = collect(db, sql, NULL, out, flush_progress, &c, by, diag);
    return finish(out, rc, "no device in a complete run", diag);
}

/* ---- throughput against a swept parameter --------------------------------------------- */

/* rows: x the parameter's value (sorted), y one attempt's throughput; one point per x,
 * the mean over its attempts. */
static int flush_throughput(struct report_plot *out, const char *key, const struct rows *rows,
                            void *ctx)
{
    (void)ctx;
    if (rows->n == 0)
        return SIM_OK;
    int si = report_plot_add_series(out, key);
    if (si < 0)
        return si;
    int rc = SIM_OK;
    for (size_t i = 0; rc == SIM_OK && i < rows->n;) {
        size_t j = i;
        double sum = 0.0;
        for (; j < rows->n && rows->x[j] == rows->x[i]; j++)
            sum += rows->y[j];
        rc = report_plot_add_point(out, (size_t)si, rows->x[i], sum / (double)(j - i));
        i = j;
    }
    return rc;
}

int report_plot_from_throughput(sqlite3 *db, const char *param, enum report_plot_by by,
                                struct report_plot *out, struct sim_diag *diag)
{
    if (param == NULL)
        param = DEFAULT_PARAM;
    report_plot_init(out, REPORT_PLOT_LINESPOINTS, "Upload throughput", param,
                     "mean upload throughput (kB/s)");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM run_params WHERE key = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return finish(out, db_error(db, diag), NULL, diag);
    sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (found < 0)
        return finish(out, db_error(db, diag), NULL, diag);
    if (found == 0) {
        sim_diag_add(diag, "plot '%s': no run sets '%s' (run_params): nothing to plot against",
                     out->title, param);
        return finish(out, SIM_ENOENT, NULL, diag);
    }
    /* kB/s = bytes / (ns / 1e9) / 1000 = bytes * 1e6 / ns */
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT %s, p.value, a.image_bytes * 1e6 / (a.upload_end_ns - "
             "a.upload_start_ns)" FROM_ATTEMPTS
             " JOIN run_params p ON p.run_id = a.run_id AND p.key = ?1"
             " WHERE a.outcome = 'updated' AND a.image_bytes > 0"
             " AND a.upload_end_ns > a.upload_start_ns ORDER BY 1, CAST(p.value AS REAL)",
             key_column(by));
    int rc = collect(db, sql, param, out, flush_throughput, NULL, by, diag);
    return finish(out, rc, "no updated DFU attempt with an upload in a complete run", diag);
}
