/* report/summary.c - database -> one row per (sweep point, group); definitions in summary.h. */
#include "report/summary.h"

#include "report/stats.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define C REPORT_KIND_COUNT
#define S REPORT_KIND_SECONDS
#define O REPORT_KIND_OTHER
const struct report_metric_def report_metrics[REPORT_METRIC_COUNT] = {
    [REPORT_DEVICES] = {"devices", "devices", 1, C},
    [REPORT_UPDATED] = {"updated", "updated", 1, C},
    [REPORT_FAILED] = {"failed", "failed", 1, C},
    [REPORT_REVERTED] = {"reverted", "reverted", 1, C},
    [REPORT_TTU_MEAN] = {"time_to_updated_s_mean", "time to updated, per device, mean", 2, S},
    [REPORT_TTU_MEDIAN] = {"time_to_updated_s_median", "time to updated, per device, median", 2, S},
    [REPORT_TTU_P95] = {"time_to_updated_s_p95", "time to updated, per device, p95", 2, S},
    [REPORT_ATTEMPTS_MEAN] = {"attempts_per_device", "attempts per device", 2, O},
    [REPORT_DOWNTIME_MEAN] = {"downtime_s_mean", "downtime per device, mean", 3, S},
    [REPORT_DOWNTIME_P95] = {"downtime_s_p95", "downtime per device, p95", 3, S},
    [REPORT_SENT_KB] = {"bytes_sent_kB_per_device", "kB sent per device", 1, O},
    [REPORT_RESENT_KB] = {"bytes_resent_kB_per_device", "kB resent per device", 1, O},
    [REPORT_RETRIES] = {"retried_requests_per_device", "retried requests per device", 2, O},
    [REPORT_GOODPUT_MEAN] = {"goodput_kBps_mean", "goodput kB/s per upload, mean", 2, O},
    [REPORT_GOODPUT_MEDIAN] = {"goodput_kBps_median", "goodput kB/s per upload, median", 2, O},
    [REPORT_GOODPUT_P5] = {"goodput_kBps_p5", "goodput kB/s per upload, p5", 2, O},
    [REPORT_GOODPUT_P95] = {"goodput_kBps_p95", "goodput kB/s per upload, p95", 2, O},
    [REPORT_ATTEMPT_MEAN] = {"attempt_s_mean", "successful attempt, mean", 2, S},
    [REPORT_SWAP_MEAN] = {"swap_s_mean", "swap (MCUboot), mean", 2, S},
    [REPORT_FIRST_CHUNK_MAX] = {"first_chunk_s_max", "first chunk's response, longest", 2, S, true},
    [REPORT_ERASES_PRIMARY] = {"erases_primary_per_upgrade", "erases/upgrade primary", 1, O},
    [REPORT_ERASES_SECONDARY] = {"erases_secondary_per_upgrade", "erases/upgrade secondary", 1, O},
    [REPORT_T50] = {"t50_s", "50 % of fleet updated at", 1, S},
    [REPORT_T90] = {"t90_s", "90 % of fleet updated at", 1, S},
    [REPORT_T95] = {"t95_s", "95 % of fleet updated at", 1, S},
    [REPORT_T100] = {"t100_s", "100 % of fleet updated at", 1, S},
};
#undef C
#undef S
#undef O

/* One value per row, for (run_id ?1, group_id ?2). */
static const char sql_goodput[] =
    "SELECT (a.image_bytes / 1000.0) / ((a.upload_end_ns - a.upload_start_ns) / 1e9)"
    " FROM dfu_attempts a JOIN devices d ON d.run_id = a.run_id AND d.device_id = a.device_id"
    " WHERE a.run_id = ?1 AND d.group_id = ?2 AND a.image_bytes > 0"
    " AND a.upload_start_ns IS NOT NULL AND a.upload_end_ns > a.upload_start_ns";
static const char sql_attempt[] =
    "SELECT (a.end_ns - a.start_ns) / 1e9"
    " FROM dfu_attempts a JOIN devices d ON d.run_id = a.run_id AND d.device_id = a.device_id"
    " WHERE a.run_id = ?1 AND d.group_id = ?2 AND a.outcome = 'updated'";
static const char sql_swap[] =
    "SELECT (s.end_ns - s.start_ns) / 1e9 FROM swaps s"
    " JOIN devices d ON d.run_id = s.run_id AND d.device_id = s.device_id"
    " WHERE s.run_id = ?1 AND d.group_id = ?2 AND s.outcome = 'swapped'"
    " AND s.end_ns IS NOT NULL";
/* The first upload request of each attempt (seq 0) at offset 0 that was answered. */
static const char sql_first_chunk[] =
    "SELECT (c.acked_ns - c.sent_ns) / 1e9 FROM chunks c"
    " JOIN devices d ON d.run_id = c.run_id AND d.device_id = c.device_id"
    " WHERE c.run_id = ?1 AND d.group_id = ?2 AND c.seq = 0 AND c.offset = 0"
    " AND c.acked_ns IS NOT NULL";
static const char sql_time_to_updated[] =
    "SELECT (updated_ns - first_start_ns) / 1e9 FROM devices WHERE run_id = ?1"
    " AND group_id = ?2 AND updated_ns IS NOT NULL AND first_start_ns IS NOT NULL";
/* Per DFU device, 5 columns: attempts, kB sent, downtime s, kB resent, retried requests
 * (the last two NULL when its attempts are not all recorded). The attempts are summed per
 * device once, then joined: dfu_attempts has no index by device. */
static const char sql_per_device[] =
    "SELECT d.attempts, d.bytes_sent / 1000.0, d.downtime_ns / 1e9,"
    " CASE WHEN ifnull(t.n, 0) = d.attempts THEN ifnull(t.resent, 0) / 1000.0 END,"
    " CASE WHEN ifnull(t.n, 0) = d.attempts THEN ifnull(t.retries, 0) END"
    " FROM devices d LEFT JOIN (SELECT device_id, count(*) AS n, total(bytes_resent) AS resent,"
    " total(retries) AS retries FROM dfu_attempts WHERE run_id = ?1 GROUP BY device_id) t"
    " ON t.device_id = d.device_id WHERE d.run_id = ?1 AND d.group_id = ?2"
    " AND d.first_start_ns IS NOT NULL ORDER BY d.device_id";
static const char sql_updated_at[] =
    "SELECT updated_ns FROM devices WHERE run_id = ?1 AND group_id = ?2"
    " AND updated_ns IS NOT NULL ORDER BY updated_ns";
static const char sql_counts[] =
    "SELECT count(*), total(state = 'updated'), total(state = 'failed'),"
    " total(state = 'reverted') FROM devices WHERE run_id = ?1 AND group_id = ?2";
static const char sql_swaps[] =
    "SELECT count(*) FROM swaps s JOIN devices d ON d.run_id = s.run_id"
    " AND d.device_id = s.device_id WHERE s.run_id = ?1 AND d.group_id = ?2";
static const char sql_erases[] =
    "SELECT total(w.erases) FROM device_wear w JOIN devices d ON d.run_id = w.run_id"
    " AND d.device_id = w.device_id WHERE w.run_id = ?1 AND d.group_id = ?2 AND w.area = ?3";
static const char sql_t0[] = "SELECT min(start_ns) FROM dfu_attempts WHERE run_id = ?1";

struct dvec {
    double *v;
    size_t n, cap;
};

static int dvec_push(struct dvec *d, double x)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 64;
        double *g = realloc(d->v, cap * sizeof(*g));
        if (g == NULL)
            return REPORT_ENOMEM;
        d->v = g;
        d->cap = cap;
    }
    d->v[d->n++] = x;
    return 0;
}

struct run {
    int64_t id;
    char *params; /* "key=value\n..." sorted by key, seed left out */
    size_t point;
};

struct reader {
    sqlite3 *db;
    char *err;
    size_t n_err;
    struct run *runs;
    size_t n_runs;
};

static int fail(struct reader *r, int code, const char *fmt, ...)
{
    if (r->n_err == 0)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->n_err, fmt, ap);
    va_end(ap);
    return code;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

/* Appends s to the heap string *buf (length *len). */
static int append(char **buf, size_t *len, const char *s)
{
    size_t n = strlen(s);
    char *g = realloc(*buf, *len + n + 1);
    if (g == NULL)
        return REPORT_ENOMEM;
    memcpy(g + *len, s, n + 1);
    *buf = g;
    *len += n;
    return 0;
}

static int prepare(struct reader *r, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(r->db, sql, -1, st, NULL) == SQLITE_OK)
        return 0;
    return fail(r, REPORT_EIO, "cannot read the database: %s", sqlite3_errmsg(r->db));
}

/* Runs a query bound to (run, group[, text]) and pushes the first column of every row. */
static int query_values(struct reader *r, const char *sql, int64_t run, int64_t group,
                        const char *text, struct dvec *out)
{
    sqlite3_stmt *st;
    int rc = prepare(r, sql, &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int64(st, 2, group);
    if (text != NULL)
        sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int cols = sqlite3_column_count(st);
        for (int c = 0; c < cols && rc == 0; c++)
            rc = dvec_push(out, sqlite3_column_type(st, c) == SQLITE_NULL
                                    ? NAN
                                    : sqlite3_column_double(st, c));
        if (rc != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fail(r, REPORT_EIO, "cannot read the database: %s", sqlite3_errmsg(r->db));
    sqlite3_finalize(st);
    return rc;
}

/* Time until ceil(frac * count) devices updated, from t0; NAN if not reached. */
static double milestone(const struct dvec *updated_at, double count, double frac, double t0)
{
    double need = ceil(frac * count - 1e-9);
    if (need < 1)
        need = 1;
    if (count == 0 || need > (double)updated_at->n)
        return NAN;
    return (updated_at->v[(size_t)need - 1] - t0) / 1e9;
}

/* Column c of the n-column rows in v (row-major), into out[] (capacity v->n / n). */
static size_t column_of(const struct dvec *v, size_t n, size_t c, double *out)
{
    size_t k = 0;
    for (size_t i = c; i < v->n; i += n)
        out[k++] = v->v[i];
    return k;
}

/* The mean of x[0..n), NAN when any is NAN (not recorded) or n is 0. */
static double mean_or_nan(double *x, size_t n)
{
    struct report_stats st;
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i]))
            return NAN;
    report_stats_describe(x, n, &st);
    return st.mean;
}

/* The per-device metrics: 5 columns per DFU device (sql_per_device). */
static int device_metrics(struct reader *r, int64_t run, int64_t group,
                          double m[REPORT_METRIC_COUNT])
{
    struct dvec v = {0};
    int rc = query_values(r, sql_per_device, run, group, NULL, &v);
    double *col = rc == 0 ? malloc((v.n / 5 + 1) * sizeof(*col)) : NULL;
    if (rc == 0 && col == NULL)
        rc = REPORT_ENOMEM;
    if (rc == 0) {
        struct report_stats st;
        size_t n = column_of(&v, 5, 0, col);
        m[REPORT_ATTEMPTS_MEAN] = mean_or_nan(col, n);
        column_of(&v, 5, 1, col);
        m[REPORT_SENT_KB] = mean_or_nan(col, n);
        column_of(&v, 5, 2, col);
        report_stats_describe(col, n, &st);
        m[REPORT_DOWNTIME_MEAN] = st.mean;
        m[REPORT_DOWNTIME_P95] = st.p95;
        column_of(&v, 5, 3, col);
        m[REPORT_RESENT_KB] = mean_or_nan(col, n);
        column_of(&v, 5, 4, col);
        m[REPORT_RETRIES] = mean_or_nan(col, n);
    }
    free(col);
    free(v.v);
    return rc;
}

/* Fills m[] for one run and group. */
static int run_metrics(struct reader *r, int64_t run, int64_t group, double m[REPORT_METRIC_COUNT])
{
    struct dvec v = {0};
    struct report_stats st;
    int rc = query_values(r, sql_counts, run, group, NULL, &v);
    if (rc != 0)
        goto out;
    m[REPORT_DEVICES] = v.v[0];
    m[REPORT_UPDATED] = v.v[1];
    m[REPORT_FAILED] = v.v[2];
    m[REPORT_REVERTED] = v.v[3];

    v.n = 0;
    if ((rc = query_values(r, sql_time_to_updated, run, group, NULL, &v)) != 0)
        goto out;
    report_stats_describe(v.v, v.n, &st);
    m[REPORT_TTU_MEAN] = st.mean;
    m[REPORT_TTU_MEDIAN] = st.median;
    m[REPORT_TTU_P95] = st.p95;

    if ((rc = device_metrics(r, run, group, m)) != 0)
        goto out;

    v.n = 0;
    if ((rc = query_values(r, sql_goodput, run, group, NULL, &v)) != 0)
        goto out;
    report_stats_describe(v.v, v.n, &st);
    m[REPORT_GOODPUT_MEAN] = st.mean;
    m[REPORT_GOODPUT_MEDIAN] = st.median;
    m[REPORT_GOODPUT_P5] = st.p5;
    m[REPORT_GOODPUT_P95] = st.p95;

    v.n = 0;
    if ((rc = query_values(r, sql_attempt, run, group, NULL, &v)) != 0)
        goto out;
    report_stats_describe(v.v, v.n, &st);
    m[REPORT_ATTEMPT_MEAN] = st.mean;

    v.n = 0;
    if ((rc = query_values(r, sql_swap, run, group, NULL, &v)) != 0)
        goto out;
    report_stats_describe(v.v, v.n, &st);
    m[REPORT_SWAP_MEAN] = st.mean;

    v.n = 0;
    if ((rc = query_values(r, sql_first_chunk, run, group, NULL, &v)) != 0)
        goto out;
    m[REPORT_FIRST_CHUNK_MAX] = NAN;
    for (size_t i = 0; i < v.n; i++)
        if (isnan(m[REPORT_FIRST_CHUNK_MAX]) || v.v[i] > m[REPORT_FIRST_CHUNK_MAX])
            m[REPORT_FIRST_CHUNK_MAX] = v.v[i];

    v.n = 0;
    if ((rc = query_values(r, sql_swaps, run, group, NULL, &v)) != 0 ||
        (rc = query_values(r, sql_erases, run, group, "primary", &v)) != 0 ||
        (rc = query_values(r, sql_erases, run, group, "secondary", &v)) != 0)
        goto out;
    m[REPORT_ERASES_PRIMARY] = v.v[0] > 0 ? v.v[1] / v.v[0] : NAN;
    m[REPORT_ERASES_SECONDARY] = v.v[0] > 0 ? v.v[2] / v.v[0] : NAN;

    v.n = 0;
    if ((rc = query_values(r, sql_t0, run, group, NULL, &v)) != 0)
        goto out;
    double t0 = isnan(v.v[0]) ? 0 : v.v[0];
    v.n = 0;
    if ((rc = query_values(r, sql_updated_at, run, group, NULL, &v)) != 0)
        goto out;
    m[REPORT_T50] = milestone(&v, m[REPORT_DEVICES], 0.50, t0);
    m[REPORT_T90] = milestone(&v, m[REPORT_DEVICES], 0.90, t0);
    m[REPORT_T95] = milestone(&v, m[REPORT_DEVICES], 0.95, t0);
    m[REPORT_T100] = milestone(&v, m[REPORT_DEVICES], 1.00, t0);
out:
    free(v.v);
    return rc;
}

static int check_schema(struct reader *r, const char *path)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
                           NULL) != SQLITE_OK)
        return fail(r, REPORT_EFORMAT,
                    "%s: not a dfusim results database (%s); write one with dfusim run", path,
                    sqlite3_errmsg(r->db));
    int version = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 0)
        return fail(r, REPORT_EFORMAT, "%s: not a dfusim results database (no schema_version)",
                    path);
    if (version < REPORT_SCHEMA_MIN)
        return fail(r, REPORT_EFORMAT,
                    "%s: result schema version %d, written by an older dfusim whose upload "
                    "throughput counted resent bytes and whose records could name the wrong "
                    "attempt; this dfusim reads version %d: run the scenario again",
                    path, version, REPORT_SCHEMA_MIN);
    if (version > REPORT_SCHEMA_MAX)
        return fail(r, REPORT_EFORMAT,
                    "%s: result schema version %d, newer than this dfusim reads (%d); use the "
                    "dfusim that wrote it",
                    path, version, REPORT_SCHEMA_MAX);
    return 0;
}

/* Loads the complete runs with their params, and assigns each to a sweep point. */
static int load_runs(struct reader *r, struct report_summary *s)
{
    sqlite3_stmt *st;
    int rc = prepare(r, "SELECT run_id, status = 'complete' FROM runs ORDER BY run_id", &st);
    if (rc != 0)
        return rc;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_int(st, 1) == 0) {
            s->n_skipped_runs++;
            continue;
        }
        struct run *g = realloc(r->runs, (r->n_runs + 1) * sizeof(*g));
        if (g == NULL) {
            rc = REPORT_ENOMEM;
            break;
        }
        r->runs = g;
        r->runs[r->n_runs++] = (struct run){.id = sqlite3_column_int64(st, 0)};
    }
    sqlite3_finalize(st);
    if (rc != 0 || (rc = prepare(r,
                                 "SELECT key, value FROM run_params WHERE run_id = ?1"
                                 " AND key <> 'seed' ORDER BY key",
                                 &st)) != 0)
        return rc;
    for (size_t i = 0; i < r->n_runs && rc == 0; i++) {
        size_t len = 0;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, r->runs[i].id);
        rc = append(&r->runs[i].params, &len, "");
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
            rc = append(&r->runs[i].params, &len, (const char *)sqlite3_column_text(st, 0));
            if (rc == 0)
                rc = append(&r->runs[i].params, &len, "=");
            if (rc == 0)
                rc = append(&r->runs[i].params, &len, (const char *)sqlite3_column_text(st, 1));
            if (rc == 0)
                rc = append(&r->runs[i].params, &len, "\n");
        }
        size_t p = 0;
        while (p < i && strcmp(r->runs[p].params, r->runs[i].params) != 0)
            p++;
        r->runs[i].point = p < i ? r->runs[p].point : s->n_points++;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Whether line "key=value" of params has the same value in every point's first run. */
static bool same_everywhere(const struct reader *r, const char *line, size_t keylen)
{
    for (size_t i = 0; i < r->n_runs; i++) {
        const char *p = r->runs[i].params;
        const char *hit = NULL;
        for (const char *l = p; *l; l = strchr(l, '\n') + 1)
            if (strncmp(l, line, keylen + 1) == 0)
                hit = l;
        if (hit == NULL || strncmp(hit, line, strcspn(line, "\n") + 1) != 0)
            return false;
    }
    return true;
}

/* "k=v, k=v" of the params of run i that differ between points, or "all". */
static char *point_label(const struct reader *r, size_t i)
{
    char *label = NULL;
    size_t len = 0;
    if (append(&label, &len, "") != 0)
        return NULL;
    for (const char *l = r->runs[i].params; *l; l = strchr(l, '\n') + 1) {
        size_t keylen = strcspn(l, "=");
        if (same_everywhere(r, l, keylen))
            continue;
        char item[1024];
        snprintf(item, sizeof(item), "%s%.*s", len ? ", " : "", (int)strcspn(l, "\n"), l);
        if (append(&label, &len, item) != 0) {
            free(label);
            return NULL;
        }
    }
    if (len == 0) {
        free(label);
        return dup_str("all");
    }
    return label;
}

/* The value of key in params ("key=value\n..."), a copy the caller frees; NULL if absent. */
static char *param_value(const char *params, const char *key)
{
    size_t n = strlen(key);
    for (const char *l = params; *l; l = strchr(l, '\n') + 1)
        if (strncmp(l, key, n) == 0 && l[n] == '=') {
            size_t len = strcspn(l + n + 1, "\n");
            char *v = malloc(len + 1);
            if (v != NULL) {
                memcpy(v, l + n + 1, len);
                v[len] = '\0';
            }
            return v;
        }
    return NULL;
}

/* s->keys: the keys of every run's params whose value is not the same in every run. */
static int swept_keys(const struct reader *r, struct report_summary *s)
{
    for (size_t i = 0; i < r->n_runs; i++) {
        for (const char *l = r->runs[i].params; *l; l = strchr(l, '\n') + 1) {
            size_t keylen = strcspn(l, "=");
            if (same_everywhere(r, l, keylen))
                continue;
            size_t k = 0;
            while (k < s->n_keys &&
                   !(strncmp(s->keys[k], l, keylen) == 0 && s->keys[k][keylen] == '\0'))
                k++;
            if (k < s->n_keys)
                continue;
            char **g = realloc(s->keys, (s->n_keys + 1) * sizeof(*g));
            if (g == NULL)
                return REPORT_ENOMEM;
            s->keys = g;
            if ((s->keys[s->n_keys] = malloc(keylen + 1)) == NULL)
                return REPORT_ENOMEM;
            memcpy(s->keys[s->n_keys], l, keylen);
            s->keys[s->n_keys++][keylen] = '\0';
        }
    }
    return 0;
}

/* The row of point p and group name: per-run metrics aggregated across the point's runs. */
static int fill_row(struct reader *r, size_t p, const char *name, struct report_row *row)
{
    double *per_run = calloc(r->n_runs * REPORT_METRIC_COUNT, sizeof(*per_run));
    if (per_run == NULL)
        return REPORT_ENOMEM;
    sqlite3_stmt *st;
    int rc = prepare(r, "SELECT group_id FROM device_groups WHERE run_id = ?1 AND name = ?2", &st);
    size_t n = 0;
    for (size_t i = 0; i < r->n_runs && rc == 0; i++) {
        if (r->runs[i].point != p)
            continue;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, r->runs[i].id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
            continue; /* same params, so never: the group is in every run of the point */
        rc = run_metrics(r, r->runs[i].id, sqlite3_column_int64(st, 0),
                         per_run + n * REPORT_METRIC_COUNT);
        n++;
    }
    sqlite3_finalize(st);
    row->n_runs = n;
    double x[n > 0 ? n : 1];
    for (int m = 0; m < REPORT_METRIC_COUNT && rc == 0; m++) {
        bool all = true;
        for (size_t i = 0; i < n; i++) {
            x[i] = per_run[i * REPORT_METRIC_COUNT + m];
            all = all && isfinite(x[i]);
        }
        row->mean[m] = all ? report_stats_mean(x, n) : NAN;
        row->ci95[m] = all ? report_stats_ci95_half(x, n) : NAN;
        row->sd[m] = all ? report_stats_sd(x, n) : NAN;
    }
    free(per_run);
    return rc;
}

/* Adds the rows of point p: its first run's groups in group_id order. */
static int add_point_rows(struct reader *r, size_t p, const char *group, struct report_summary *s)
{
    size_t first = 0;
    while (r->runs[first].point != p)
        first++;
    sqlite3_stmt *st;
    int rc = prepare(r,
                     "SELECT name, bootloader, board FROM device_groups WHERE run_id = ?1"
                     " AND (?2 IS NULL OR name = ?2) ORDER BY group_id",
                     &st);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, r->runs[first].id);
    sqlite3_bind_text(st, 2, group, -1, SQLITE_STATIC);
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        struct report_row *g = realloc(s->rows, (s->n_rows + 1) * sizeof(*g));
        if (g == NULL) {
            rc = REPORT_ENOMEM;
            break;
        }
        s->rows = g;
        struct report_row *row = &s->rows[s->n_rows++];
        *row = (struct report_row){0};
        row->group = dup_str((const char *)sqlite3_column_text(st, 0));
        row->bootloader = dup_str((const char *)sqlite3_column_text(st, 1));
        row->board = dup_str((const char *)sqlite3_column_text(st, 2));
        row->point = point_label(r, first);
        row->point_index = p;
        row->values = calloc(s->n_keys + 1, sizeof(*row->values));
        for (size_t k = 0; row->values != NULL && k < s->n_keys; k++)
            row->values[k] = param_value(r->runs[first].params, s->keys[k]);
        if (row->group == NULL || row->bootloader == NULL || row->board == NULL ||
            row->point == NULL || row->values == NULL)
            rc = REPORT_ENOMEM;
        else
            rc = fill_row(r, p, row->group, row);
    }
    sqlite3_finalize(st);
    return rc;
}

int report_summary_load(const char *path, const char *group, struct report_summary **out, char *err,
                        size_t n)
{
    *out = NULL;
    struct reader r = {.err = err, .n_err = n};
    if (n > 0)
        err[0] = '\0';
    if (access(path, R_OK) != 0)
        return fail(&r, REPORT_ENOENT, "%s: no such file (or not readable)", path);
    struct report_summary *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return REPORT_ENOMEM;
    int rc;
    if (sqlite3_open_v2(path, &r.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = fail(&r, REPORT_EFORMAT, "%s: cannot open: %s", path,
                  r.db ? sqlite3_errmsg(r.db) : "out of memory");
        goto done;
    }
    if ((rc = check_schema(&r, path)) != 0 || (rc = load_runs(&r, s)) != 0 ||
        (rc = swept_keys(&r, s)) != 0)
        goto done;
    for (size_t p = 0; p < s->n_points && rc == 0; p++)
        rc = add_point_rows(&r, p, group, s);
    if (rc == 0 && group != NULL && s->n_rows == 0 && s->n_points > 0)
        rc = fail(&r, REPORT_ENOENT, "%s: no device group named '%s'", path, group);
    if (rc == REPORT_ENOMEM)
        fail(&r, rc, "out of memory");
done:
    for (size_t i = 0; i < r.n_runs; i++)
        free(r.runs[i].params);
    free(r.runs);
    sqlite3_close(r.db);
    if (rc != 0) {
        report_summary_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void report_summary_free(struct report_summary *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_rows; i++) {
        for (size_t k = 0; s->rows[i].values != NULL && k < s->n_keys; k++)
            free(s->rows[i].values[k]);
        free(s->rows[i].values);
        free(s->rows[i].point);
        free(s->rows[i].group);
        free(s->rows[i].bootloader);
        free(s->rows[i].board);
    }
    free(s->rows);
    for (size_t k = 0; k < s->n_keys; k++)
        free(s->keys[k]);
    free(s->keys);
    free(s);
}
