/* report/plot_db.c - the figure of `dfusim report --plot`, built from a results database
 * and its report_summary.
 *
 * A curve never pools different conditions: it is one device group (or the groups that
 * share board and bootloader mode, --by mode) at one sweep point. Sweep points are those of
 * report_summary (runs whose run_params are equal except `seed`); the runs of each point are
 * listed in a temporary table (plot_run_point) by the same rule, checked against the
 * summary's count. Only complete runs count (an interrupted run's fleet looks slower than
 * it is).
 */
#include "report/plot.h"
#include "report/summary.h"

#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sweep panel's metric, with its 95 % CI across replications, from report_summary.
 * The one place that names it: change this line when the metric is renamed. */
#define SWEEP_METRIC REPORT_GOODPUT_MEAN

/* Per-device time to updated in ns, for device row d (report/summary.h): from the device's
 * first attempt start to when it runs the new image for good; NULL when it never did. */
#define DEVICE_DFU_NS              "(d.updated_ns - d.first_start_ns)"
/* When device d was updated, in ns from its run's first attempt start (0 without attempts),
 * as report_summary's t50..t100; NULL if it never was. */
#define DEVICE_UPDATED_SINCE_T0_NS "(d.updated_ns - coalesce(pr.t0, 0))"

/* The complete runs and their sweep point (0-based), as report/summary.c numbers them:
 * points in the order of their first run_id. */
static const char sql_run_points[] =
    "CREATE TEMP TABLE plot_run_point AS"
    " WITH p AS (SELECT r.run_id, coalesce((SELECT group_concat(q.key || '=' || q.value,"
    " char(10)) FROM (SELECT key, value FROM run_params WHERE run_id = r.run_id"
    " AND key <> 'seed' ORDER BY key) q), '') AS params"
    " FROM runs r WHERE r.status = 'complete'),"
    " f AS (SELECT params, min(run_id) AS first FROM p GROUP BY params)"
    " SELECT p.run_id AS run_id, (SELECT count(*) FROM f f2 WHERE f2.first < f.first) AS point,"
    " (SELECT min(a.start_ns) FROM dfu_attempts a WHERE a.run_id = p.run_id) AS t0"
    " FROM p JOIN f ON f.params = p.params";

/* Devices of the shown runs with their group; ?1 the point (-1: all), ?2 group name,
 * ?3 board, ?4 bootloader (NULL: any). */
#define FROM_DEVICES                                                                               \
    " FROM devices d JOIN device_groups g ON g.run_id = d.run_id AND g.group_id = d.group_id"      \
    " JOIN plot_run_point pr ON pr.run_id = d.run_id"                                              \
    " WHERE (?1 < 0 OR pr.point = ?1) AND (?2 IS NULL OR g.name = ?2)"                             \
    " AND (?3 IS NULL OR g.board = ?3) AND (?4 IS NULL OR g.bootloader = ?4)"

#define CAP REPORT_PLOT_TEXT_CAP

/* One curve's selection: a group, or a (board, mode) with the groups in it. */
struct key {
    char group[CAP]; /* by group: its name; by mode: "" */
    char board[CAP], mode[CAP];
    size_t n_groups;
    bool by_mode;  /* a group named by its board and mode (the sweep panel under --by mode) */
    size_t n_same; /* then: groups with that board and mode */
};

/* Keys [first, first + n) of one panel; board: all of one board, named by the title. */
struct chunk {
    size_t first, n;
    bool board;
    size_t part, n_parts; /* a board's keys split over n_parts panels */
};

struct builder {
    sqlite3 *db;
    const struct report_summary *s;
    const struct report_plot_options *o;
    struct report_figure *fig;
    struct sim_diag *diag;
    long first_point, last_point; /* 0-based, inclusive */
};

static int db_error(sqlite3 *db, struct sim_diag *diag)
{
    sim_diag_add(diag, "plot: reading the results database: %s", sqlite3_errmsg(db));
    return SIM_EFORMAT;
}

/* src cut to CAP - 1 bytes (NULL: empty). */
static void copy(char *dst, const char *src)
{
    size_t n = src != NULL ? strnlen(src, CAP - 1) : 0;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The summary's label of point p ("key=value, ..." or "all"), or "" without a row. */
static const char *point_label(const struct report_summary *s, size_t p)
{
    for (size_t i = 0; i < s->n_rows; i++)
        if (s->rows[i].point_index == p)
            return s->rows[i].point;
    return "";
}

/* Replications of the shown points, smallest and largest. */
static void replications(const struct builder *b, size_t *lo, size_t *hi)
{
    *lo = SIZE_MAX;
    *hi = 0;
    for (size_t i = 0; i < b->s->n_rows; i++) {
        const struct report_row *r = &b->s->rows[i];
        if ((long)r->point_index < b->first_point || (long)r->point_index > b->last_point)
            continue;
        *lo = r->n_runs < *lo ? r->n_runs : *lo;
        *hi = r->n_runs > *hi ? r->n_runs : *hi;
    }
    if (*lo == SIZE_MAX)
        *lo = 0;
}

static void bind_key(sqlite3_stmt *st, const struct builder *b, long point, const struct key *k)
{
    sqlite3_bind_int64(st, 1, point);
    const char *group = k != NULL && k->group[0] != '\0' ? k->group : b->o->group;
    if (group != NULL)
        sqlite3_bind_text(st, 2, group, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 2);
    if (k != NULL && k->group[0] == '\0') {
        sqlite3_bind_text(st, 3, k->board, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, k->mode, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 3);
        sqlite3_bind_null(st, 4);
    }
}

/* ---- curves and panels ---------------------------------------------------------------- */

/* The curves: groups (in group_id order) that have devices in the shown runs, or their
 * (board, mode) pairs in order of first appearance. *keys is a heap array. */
static int load_keys(struct builder *b, enum report_plot_by by, struct key **keys, size_t *n)
{
    *keys = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(b->db,
                           "SELECT g.name, g.board, g.bootloader FROM device_groups g"
                           " JOIN plot_run_point pr ON pr.run_id = g.run_id"
                           " WHERE (?1 < 0 OR pr.point = ?1) AND (?2 IS NULL OR g.name = ?2)"
                           " GROUP BY g.name ORDER BY min(g.group_id), g.name",
                           -1, &st, NULL) != SQLITE_OK)
        return db_error(b->db, b->diag);
    bind_key(st, b, b->first_point == b->last_point ? b->first_point : -1, NULL);
    int rc = SIM_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *board = (const char *)sqlite3_column_text(st, 1);
        const char *mode = (const char *)sqlite3_column_text(st, 2);
        size_t i = 0;
        if (by == REPORT_PLOT_BY_MODE)
            while (i < *n && !(strcmp((*keys)[i].board, board != NULL ? board : "") == 0 &&
                               strcmp((*keys)[i].mode, mode != NULL ? mode : "") == 0))
                i++;
        else
            i = *n;
        if (i == *n) {
            struct key *g = realloc(*keys, (*n + 1) * sizeof(*g));
            if (g == NULL) {
                rc = SIM_ENOMEM;
                break;
            }
            *keys = g;
            struct key *k = &g[(*n)++];
            memset(k, 0, sizeof(*k));
            if (by == REPORT_PLOT_BY_GROUP)
                copy(k->group, name);
            copy(k->board, board);
            copy(k->mode, mode);
        }
        (*keys)[i].n_groups++;
    }
    if (rc == SIM_OK && step != SQLITE_DONE)
        rc = db_error(b->db, b->diag);
    sqlite3_finalize(st);
    if (rc != SIM_OK) {
        free(*keys);
        *keys = NULL;
        *n = 0;
    }
    return rc;
}

/* The legend text of key k; with_board: it names the board (the panel title does not). */
static void key_label(const struct key *k, bool with_board, char *buf)
{
    if (k->group[0] != '\0' && !k->by_mode) {
        copy(buf, k->group);
        return;
    }
    char extra[CAP] = "";
    if (k->by_mode && k->n_same > 1)
        snprintf(extra, sizeof(extra), ": %.200s", k->group);
    else if (!k->by_mode && k->n_groups > 1)
        snprintf(extra, sizeof(extra), " (%zu groups)", k->n_groups);
    snprintf(buf, CAP, "%.90s%s%.90s%.60s", with_board ? k->board : "", with_board ? " " : "",
             k->mode, extra);
}

/* Split the keys into panels of at most REPORT_PLOT_MAX_SERIES: all in one when they fit,
 * else one or more panels per board (keys reordered board by board, stable). chunks needs
 * room for n entries. */
static size_t make_chunks(struct key *keys, size_t n, struct chunk *chunks)
{
    if (n <= REPORT_PLOT_MAX_SERIES) {
        chunks[0] = (struct chunk){.first = 0, .n = n, .n_parts = 1};
        return 1;
    }
    /* Stable: move each board's keys together, boards in order of first appearance. */
    for (size_t i = 0; i < n; i++) {
        size_t j = i + 1;
        while (i > 0 && j < n && strcmp(keys[j].board, keys[i - 1].board) != 0)
            j++;
        if (i > 0 && j < n && strcmp(keys[i].board, keys[i - 1].board) != 0) {
            struct key k = keys[j];
            memmove(&keys[i + 1], &keys[i], (j - i) * sizeof(*keys));
            keys[i] = k;
        }
    }
    size_t n_chunks = 0;
    for (size_t a = 0; a < n;) {
        size_t z = a;
        while (z < n && strcmp(keys[z].board, keys[a].board) == 0)
            z++;
        size_t m = z - a, parts = (m + REPORT_PLOT_MAX_SERIES - 1) / REPORT_PLOT_MAX_SERIES;
        for (size_t p = 0, at = a; p < parts; p++) {
            size_t len = m / parts + (p < m % parts);
            chunks[n_chunks++] =
                (struct chunk){.first = at, .n = len, .board = true, .part = p, .n_parts = parts};
            at += len;
        }
        a = z;
    }
    return n_chunks;
}

/* How the shown points and keys become panels: combined, one panel per chunk with a curve
 * per (key, point); else one panel per (point, chunk). */
struct layout {
    bool combined;
    size_t n_chunks;
    struct chunk *chunks;
};

static void panel_title(const struct builder *b, const struct layout *l, const char *what,
                        long point, const struct chunk *c, const struct key *keys, char *buf)
{
    char where[CAP] = "";
    if (c->board)
        snprintf(where, sizeof(where), ", %.200s%s", keys[c->first].board,
                 c->n_parts > 1 ? " (" : "");
    if (c->board && c->n_parts > 1)
        snprintf(where + strlen(where), sizeof(where) - strlen(where), "%zu/%zu)", c->part + 1,
                 c->n_parts);
    if (l->combined || b->first_point == b->last_point)
        snprintf(buf, CAP, "%.120s%.120s", what, where);
    else
        snprintf(buf, CAP, "%.60s, point %ld: %.80s%.80s", what, point + 1,
                 point_label(b->s, (size_t)point), where);
}

static void series_name(const struct builder *b, const struct layout *l, const struct key *k,
                        const struct chunk *c, size_t n_keys, long point, char *buf)
{
    char label[CAP];
    key_label(k, !c->board, label);
    if (!l->combined || b->first_point == b->last_point)
        copy(buf, label);
    else if (n_keys == 1)
        copy(buf, point_label(b->s, (size_t)point));
    else
        snprintf(buf, CAP, "%.120s, %.120s", label, point_label(b->s, (size_t)point));
}

/* Adds the panels of one kind, calling fill for each curve. */
typedef int (*fill_fn)(struct builder *b, struct report_plot *p, long point, const struct key *k,
                       const char *name, void *ctx);

static int add_panels(struct builder *b, const struct layout *l, struct key *keys, size_t n_keys,
                      enum report_plot_kind kind, const char *what, const char *xlabel,
                      const char *ylabel, fill_fn fill, void *ctx)
{
    size_t n_points = (size_t)(b->last_point - b->first_point + 1);
    size_t n_panels = l->combined ? l->n_chunks : l->n_chunks * n_points;
    for (size_t q = 0; q < n_panels; q++) {
        const struct chunk *c = &l->chunks[q % l->n_chunks];
        long point = b->first_point + (long)(l->combined ? 0 : q / l->n_chunks);
        char title[CAP];
        panel_title(b, l, what, point, c, keys, title);
        struct report_plot *p = report_figure_add(b->fig, kind, title, xlabel, ylabel);
        if (p == NULL) {
            sim_diag_add(b->diag,
                         "plot: more than %d panels: choose a sweep point (--point), a group "
                         "(--group) or one panel (--panel)",
                         REPORT_PLOT_MAX_PANELS);
            return SIM_ERANGE;
        }
        p->new_row = q == 0 || (!l->combined && l->n_chunks > 1 && q % l->n_chunks == 0);
        for (size_t i = c->first; i < c->first + c->n; i++) {
            long from = l->combined ? b->first_point : point;
            long to = l->combined ? b->last_point : point;
            for (long pt = from; pt <= to; pt++) {
                char name[CAP];
                series_name(b, l, &keys[i], c, n_keys, pt, name);
                int rc = fill(b, p, pt, &keys[i], name, ctx);
                if (rc != SIM_OK)
                    return rc;
            }
        }
    }
    return SIM_OK;
}

/* max of the first column of sql bound like FROM_DEVICES over the shown points; 0 if
 * none. */
static int query_max(struct builder *b, const char *sql, double *max)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(b->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(b->db, b->diag);
    bind_key(st, b, b->first_point == b->last_point ? b->first_point : -1, NULL);
    int step = sqlite3_step(st);
    *max = step == SQLITE_ROW ? sqlite3_column_double(st, 0) : 0.0;
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? SIM_OK : db_error(b->db, b->diag);
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

/* Rows of (run_id, value or NULL) of one curve, sql bound like FROM_DEVICES. */
struct rows {
    size_t n, cap;
    long long *run;
    double *v; /* NAN for NULL */
};

static int fetch(struct builder *b, const char *sql, long point, const struct key *k,
                 struct rows *r)
{
    r->n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(b->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(b->db, b->diag);
    bind_key(st, b, point, k);
    int rc = SIM_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->n == r->cap) {
            size_t cap = r->cap ? 2 * r->cap : 256;
            long long *nr = realloc(r->run, cap * sizeof(*nr));
            if (nr != NULL)
                r->run = nr;
            double *nv = nr != NULL ? realloc(r->v, cap * sizeof(*nv)) : NULL;
            if (nv == NULL) {
                rc = SIM_ENOMEM;
                break;
            }
            r->v = nv;
            r->cap = cap;
        }
        r->run[r->n] = sqlite3_column_int64(st, 0);
        r->v[r->n] = sqlite3_column_type(st, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 1);
        r->n++;
    }
    if (rc == SIM_OK && step != SQLITE_DONE)
        rc = db_error(b->db, b->diag);
    sqlite3_finalize(st);
    return rc;
}

/* ---- CDF of per-device DFU time --------------------------------------------------------- */

struct curve_ctx {
    struct time_unit u;
    struct rows rows;
    size_t n_samples; /* over all curves */
    double end;       /* progress: where every curve ends, in u */
};

static int fill_cdf(struct builder *b, struct report_plot *p, long point, const struct key *k,
                    const char *name, void *ctx)
{
    struct curve_ctx *c = ctx;
    int rc = fetch(b, "SELECT d.run_id, " DEVICE_DFU_NS FROM_DEVICES, point, k, &c->rows);
    if (rc != SIM_OK)
        return rc;
    size_t n = 0;
    for (size_t i = 0; i < c->rows.n; i++)
        if (!isnan(c->rows.v[i]))
            c->rows.v[n++] = c->rows.v[i] / c->u.ns;
    c->n_samples += n;
    int si = report_plot_add_cdf(p, name, c->rows.v, n, c->rows.n);
    return si < 0 ? si : SIM_OK;
}

/* ---- fleet progress ------------------------------------------------------------------- */

struct event {
    double t, w;
};

static int cmp_event(const void *a, const void *b)
{
    double x = ((const struct event *)a)->t, y = ((const struct event *)b)->t;
    return (x > y) - (x < y);
}

/* The mean across the point's runs of "% of the curve's devices updated by t": each update
 * in run r adds 100 / (devices in r) / (runs) at its time. A staircase drawn as lines,
 * thinned to at most 2000 rises, to the common end of the panels. */
static int fill_progress(struct builder *b, struct report_plot *p, long point, const struct key *k,
                         const char *name, void *ctx)
{
    struct curve_ctx *c = ctx;
    int rc =
        fetch(b, "SELECT d.run_id, " DEVICE_UPDATED_SINCE_T0_NS FROM_DEVICES " ORDER BY d.run_id",
              point, k, &c->rows);
    if (rc != SIM_OK)
        return rc;
    const struct rows *r = &c->rows;
    size_t n_runs = 0;
    for (size_t i = 0; i < r->n; i++)
        n_runs += i == 0 || r->run[i] != r->run[i - 1];
    struct event *ev = malloc((r->n > 0 ? r->n : 1) * sizeof(*ev));
    if (ev == NULL)
        return SIM_ENOMEM;
    size_t n_ev = 0;
    for (size_t a = 0; a < r->n;) {
        size_t z = a;
        while (z < r->n && r->run[z] == r->run[a])
            z++;
        for (size_t i = a; i < z; i++)
            if (!isnan(r->v[i]))
                ev[n_ev++] =
                    (struct event){r->v[i] / c->u.ns, 100.0 / (double)(z - a) / (double)n_runs};
        a = z;
    }
    qsort(ev, n_ev, sizeof(*ev), cmp_event);
    int si = report_plot_add_series(p, name);
    rc = si < 0 ? si : report_plot_add_point(p, (size_t)si, 0.0, 0.0);
    double pct = 0.0, drawn = 0.0; /* the mean so far; the last height drawn */
    size_t last = 0;
    for (size_t i = 0; rc == SIM_OK && i < n_ev; i++) {
        pct = fmin(pct + ev[i].w, 100.0);
        size_t bucket = (size_t)(pct * 20.0); /* 2000 buckets over 100 % */
        bool end_of_t = i + 1 == n_ev || ev[i + 1].t != ev[i].t;
        if (end_of_t && (bucket != last || i + 1 == n_ev)) {
            rc = report_plot_add_point(p, (size_t)si, ev[i].t, drawn);
            if (rc == SIM_OK)
                rc = report_plot_add_point(p, (size_t)si, ev[i].t, pct);
            last = bucket;
            drawn = pct;
        }
    }
    if (rc == SIM_OK)
        rc = report_plot_add_point(p, (size_t)si, fmax(c->end, n_ev > 0 ? ev[n_ev - 1].t : 0), pct);
    free(ev);
    return rc;
}

/* ---- the sweep panel ---------------------------------------------------------------- */

/* The swept setting: every point's label is "KEY=VALUE" with one KEY and a numeric VALUE
 * (values in x, indexed by point). Otherwise SIM_ENOENT and diag says why. */
static int swept_key(const struct report_summary *s, char *key, double *x, bool *integer,
                     struct sim_diag *diag)
{
    if (s->n_points < 2) {
        sim_diag_add(diag,
                     "plot: the sweep panel needs two or more sweep points (this "
                     "database has %zu)",
                     s->n_points);
        return SIM_ENOENT;
    }
    key[0] = '\0';
    *integer = true;
    for (size_t p = 0; p < s->n_points; p++) {
        const char *l = point_label(s, p);
        const char *eq = strchr(l, '=');
        char *end = NULL;
        x[p] = eq != NULL ? strtod(eq + 1, &end) : NAN;
        if (eq == NULL || strstr(l, ", ") != NULL || end == eq + 1 || *end != '\0' ||
            !isfinite(x[p]) ||
            (key[0] != '\0' &&
             (strlen(key) != (size_t)(eq - l) || strncmp(key, l, (size_t)(eq - l)) != 0))) {
            sim_diag_add(diag,
                         "plot: the sweep panel needs one swept setting with numeric values "
                         "(point %zu is '%s')",
                         p + 1, l);
            return SIM_ENOENT;
        }
        snprintf(key, CAP, "%.*s", (int)(eq - l), l);
        *integer = *integer && x[p] == floor(x[p]) && fabs(x[p]) < 1e15;
    }
    return SIM_OK;
}

struct sweep_ctx {
    const double *x;
};

static int fill_sweep(struct builder *b, struct report_plot *p, long point, const struct key *k,
                      const char *name, void *ctx)
{
    (void)point;
    const struct sweep_ctx *c = ctx;
    int si = report_plot_add_series(p, name);
    if (si < 0)
        return si;
    for (size_t i = 0; i < b->s->n_rows; i++) {
        const struct report_row *r = &b->s->rows[i];
        if (strcmp(r->group, k->group) != 0 || !isfinite(r->mean[SWEEP_METRIC]))
            continue;
        double err = isfinite(r->ci95[SWEEP_METRIC]) ? r->ci95[SWEEP_METRIC] : NAN;
        int rc = report_plot_add_point_err(p, (size_t)si, c->x[r->point_index],
                                           r->mean[SWEEP_METRIC], err);
        if (rc != SIM_OK)
            return rc;
    }
    return SIM_OK;
}

/* The sweep panel(s): one curve per group (summary rows are per group), named by board and
 * mode under --by mode; the point is the x axis. */
static int add_sweep(struct builder *b, struct layout *l_all)
{
    double *x = calloc(b->s->n_points > 0 ? b->s->n_points : 1, sizeof(*x));
    if (x == NULL)
        return SIM_ENOMEM;
    char key[CAP];
    bool integer = false;
    int rc = swept_key(b->s, key, x, &integer, b->diag);
    struct key *keys = NULL;
    size_t n_keys = 0;
    if (rc == SIM_OK)
        rc = load_keys(b, REPORT_PLOT_BY_GROUP, &keys, &n_keys);
    struct chunk *chunks = rc == SIM_OK ? calloc(n_keys + 1, sizeof(*chunks)) : NULL;
    if (rc == SIM_OK && chunks == NULL)
        rc = SIM_ENOMEM;
    if (rc == SIM_OK) {
        struct layout l = {.combined = true, .chunks = chunks};
        l.n_chunks = make_chunks(keys, n_keys, chunks);
        char what[CAP], ylabel[CAP];
        snprintf(what, sizeof(what), "%.100s against %.100s", report_metrics[SWEEP_METRIC].label,
                 key);
        snprintf(ylabel, sizeof(ylabel), "%.150s (± 95 %% CI across replications)",
                 report_metrics[SWEEP_METRIC].label);
        size_t first = b->fig->n_panels;
        /* Legend under --by mode: board and mode, and the group when a mode has several. */
        for (size_t i = 0; b->o->by == REPORT_PLOT_BY_MODE && i < n_keys; i++) {
            keys[i].by_mode = true;
            for (size_t j = 0; j < n_keys; j++)
                keys[i].n_same += strcmp(keys[j].board, keys[i].board) == 0 &&
                                  strcmp(keys[j].mode, keys[i].mode) == 0;
        }
        long fp = b->first_point, lp = b->last_point;
        b->first_point = b->last_point = 0; /* one curve per key, not per point */
        rc = add_panels(b, &l, keys, n_keys, REPORT_PLOT_LINESPOINTS, what, key, ylabel, fill_sweep,
                        &(struct sweep_ctx){.x = x});
        b->first_point = fp;
        b->last_point = lp;
        for (size_t q = first; rc == SIM_OK && q < b->fig->n_panels; q++) {
            b->fig->panels[q].integer_x = integer;
            b->fig->panels[q].new_row = q == first;
        }
        if (l.n_chunks > l_all->n_chunks)
            l_all->n_chunks = l.n_chunks;
    }
    free(chunks);
    free(keys);
    free(x);
    return rc;
}

/* ---- the figure ------------------------------------------------------------------------ */

static int scenario_name(sqlite3 *db, char *buf, struct sim_diag *diag)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT group_concat(name, ', ') FROM (SELECT DISTINCT scenario_name"
                           " AS name FROM runs WHERE status = 'complete' ORDER BY 1)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_error(db, diag);
    int step = sqlite3_step(st);
    copy(buf, step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL);
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? SIM_OK : db_error(db, diag);
}

/* The temporary run -> point table; its points must be the summary's. */
static int map_points(struct builder *b)
{
    if (sqlite3_exec(b->db, "DROP TABLE IF EXISTS temp.plot_run_point", NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(b->db, sql_run_points, NULL, NULL, NULL) != SQLITE_OK)
        return db_error(b->db, b->diag);
    double n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(b->db, "SELECT count(DISTINCT point) FROM plot_run_point", -1, &st,
                           NULL) != SQLITE_OK)
        return db_error(b->db, b->diag);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    if ((size_t)n != b->s->n_points) {
        sim_diag_add(b->diag, "plot: %zu sweep points in the database, %zu in its summary",
                     (size_t)n, b->s->n_points);
        return SIM_EFORMAT;
    }
    return SIM_OK;
}

static void figure_title(const struct builder *b, const char *scenario, char *buf)
{
    size_t lo = 0, hi = 0;
    replications(b, &lo, &hi);
    char reps[64];
    if (lo == hi)
        snprintf(reps, sizeof(reps), "%zu replication%s%s", lo, lo == 1 ? "" : "s",
                 b->first_point != b->last_point ? " each" : "");
    else
        snprintf(reps, sizeof(reps), "%zu to %zu replications", lo, hi);
    const char *group = b->o->group != NULL ? b->o->group : NULL;
    char only[CAP] = "";
    if (group != NULL)
        snprintf(only, sizeof(only), ", group %.50s", group);
    char t[1024]; /* cut to CAP by copy() */
    if (b->first_point == b->last_point)
        snprintf(t, sizeof(t), "%.200s: point %ld of %zu (%.300s), %.40s%.60s", scenario,
                 b->first_point + 1, b->s->n_points, point_label(b->s, (size_t)b->first_point),
                 reps, only);
    else
        snprintf(t, sizeof(t), "%.200s: all %zu sweep points, %.40s%.60s", scenario, b->s->n_points,
                 reps, only);
    copy(buf, t);
}

static int build(struct builder *b)
{
    int rc = map_points(b);
    char scenario[CAP];
    if (rc == SIM_OK)
        rc = scenario_name(b->db, scenario, b->diag);
    if (rc != SIM_OK)
        return rc;
    if (b->s->n_points == 0) {
        sim_diag_add(b->diag, "plot: nothing to plot: no complete run in the database");
        return SIM_ENOENT;
    }
    if (b->o->point > b->s->n_points) {
        sim_diag_add(b->diag, "plot: --point %zu: the database has %zu sweep point%s", b->o->point,
                     b->s->n_points, b->s->n_points == 1 ? "" : "s");
        return SIM_EINVAL;
    }
    b->first_point = b->o->point > 0 ? (long)b->o->point - 1 : 0;
    b->last_point = b->o->point > 0 ? (long)b->o->point - 1 : (long)b->s->n_points - 1;
    char title[CAP];
    figure_title(b, scenario, title);
    report_figure_init(b->fig, title);

    struct key *keys = NULL;
    size_t n_keys = 0;
    rc = load_keys(b, b->o->by, &keys, &n_keys);
    struct chunk *chunks = rc == SIM_OK ? calloc(n_keys + 1, sizeof(*chunks)) : NULL;
    if (rc == SIM_OK && chunks == NULL)
        rc = SIM_ENOMEM;
    struct layout l = {.chunks = chunks};
    size_t n_points = (size_t)(b->last_point - b->first_point + 1);
    if (rc == SIM_OK) {
        l.combined = n_keys * n_points <= REPORT_PLOT_MAX_SERIES;
        l.n_chunks = make_chunks(keys, n_keys, chunks);
    }
    struct curve_ctx c = {0};
    if (rc == SIM_OK && (b->o->panels & REPORT_PANEL_CDF)) {
        double max = 0, min = 0;
        rc = query_max(b, "SELECT max(" DEVICE_DFU_NS ")" FROM_DEVICES, &max);
        if (rc == SIM_OK)
            rc = query_max(b, "SELECT min(" DEVICE_DFU_NS ")" FROM_DEVICES, &min);
        c.u = pick_unit(max);
        char xlabel[CAP];
        snprintf(xlabel, sizeof(xlabel),
                 "time to updated: first attempt to the new image for good (%s)", c.u.name);
        size_t first = b->fig->n_panels;
        if (rc == SIM_OK)
            rc = add_panels(b, &l, keys, n_keys, REPORT_PLOT_CDF, "Time to updated, per device",
                            xlabel, "fraction of the devices", fill_cdf, &c);
        /* The same x range in every panel, from the fastest device to the slowest. */
        double pad = ((max - min) * 0.03 + 0.5e9) / c.u.ns;
        for (size_t q = first; q < b->fig->n_panels; q++) {
            b->fig->panels[q].xmin = fmax(0, min / c.u.ns - pad);
            b->fig->panels[q].xmax = max / c.u.ns + pad;
        }
        if (rc == SIM_OK && c.n_samples == 0) {
            sim_diag_add(b->diag,
                         "plot: no updated device with a recorded DFU attempt in the shown "
                         "runs: the DFU time CDF needs record level 'attempts' (leave it out "
                         "with --panel progress)");
            rc = SIM_ENOENT;
        }
    }
    if (rc == SIM_OK && (b->o->panels & REPORT_PANEL_PROGRESS)) {
        double max = 0;
        rc = query_max(b, "SELECT max(" DEVICE_UPDATED_SINCE_T0_NS ")" FROM_DEVICES, &max);
        if (rc == SIM_OK && max <= 0) /* nobody updated: a flat line to the end */
            rc = query_max(b,
                           "SELECT max(r.sim_end_ns) FROM runs r JOIN plot_run_point pr"
                           " ON pr.run_id = r.run_id WHERE ?1 < 0 OR pr.point = ?1",
                           &max);
        c.u = pick_unit(max);
        char xlabel[CAP];
        snprintf(xlabel, sizeof(xlabel), "time since the run's first DFU attempt (%s)", c.u.name);
        size_t first = b->fig->n_panels;
        c.end = max / c.u.ns;
        if (rc == SIM_OK)
            rc = add_panels(b, &l, keys, n_keys, REPORT_PLOT_LINES,
                            "Fleet progress (mean across replications)", xlabel,
                            "devices updated (%)", fill_progress, &c);
        for (size_t q = first; q < b->fig->n_panels; q++) {
            b->fig->panels[q].xmin = 0;
            b->fig->panels[q].xmax = c.end;
        }
    }
    if (rc == SIM_OK && (b->o->panels & REPORT_PANEL_SWEEP)) {
        struct sim_diag why;
        sim_diag_init(&why);
        struct builder sb = *b;
        sb.diag = &why;
        bool possible = b->o->point == 0;
        if (!possible)
            sim_diag_add(&why, "plot: the sweep panel shows every sweep point: leave out --point");
        rc = possible ? add_sweep(&sb, &l) : SIM_ENOENT;
        if (rc == SIM_ENOENT && b->o->panels != REPORT_PANEL_SWEEP)
            rc = SIM_OK; /* asked for with others: left out when it cannot be drawn */
        else if (rc != SIM_OK)
            sim_diag_add(b->diag, "%.*s", (int)(why.len > 0 ? why.len - 1 : 0), why.text);
    }
    /* Columns: the panels of one point side by side (one per board) or, combined, two. */
    size_t n_cols = l.combined ? (b->fig->n_panels < 2 ? 1 : 2) : l.n_chunks;
    if (!l.combined && l.n_chunks == 1)
        n_cols = n_points > 1 ? 2 : 1;
    b->fig->n_cols = n_cols > 3 ? 3 : n_cols;
    if (l.combined || l.n_chunks == 1)
        for (size_t q = 0; q < b->fig->n_panels; q++)
            b->fig->panels[q].new_row = false;
    free(c.rows.run);
    free(c.rows.v);
    free(chunks);
    free(keys);
    if (rc == SIM_OK && b->fig->n_panels == 0) {
        sim_diag_add(b->diag, "plot: no panel to draw");
        rc = SIM_ENOENT;
    }
    return rc;
}

int report_plot_build(sqlite3 *db, const struct report_summary *s,
                      const struct report_plot_options *o, struct report_figure *out,
                      struct sim_diag *diag)
{
    report_figure_init(out, "");
    struct builder b = {.db = db, .s = s, .o = o, .fig = out, .diag = diag};
    int rc = build(&b);
    sqlite3_exec(db, "DROP TABLE IF EXISTS temp.plot_run_point", NULL, NULL, NULL);
    if (rc != SIM_OK)
        report_figure_fini(out);
    return rc;
}
