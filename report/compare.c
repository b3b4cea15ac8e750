/* report/compare.c - Welch's t-test, row selection, pairing and output; see compare.h. */
#include "report/compare.h"
#include "report/json_out.h"

#include "report/csv_out.h"
#include "report/table.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void report_welch_test(double mean_a, double sd_a, size_t n_a, double mean_b, double sd_b,
                       size_t n_b, struct report_welch *w)
{
    *w = (struct report_welch){.t = NAN, .df = NAN, .p = NAN};
    if (!isfinite(mean_a) || !isfinite(mean_b)) {
        w->verdict = REPORT_VERDICT_MISSING;
        return;
    }
    if (n_a < 2 || n_b < 2 || !isfinite(sd_a) || !isfinite(sd_b)) {
        w->verdict = REPORT_VERDICT_FEW_RUNS;
        return;
    }
    double diff = mean_b - mean_a;
    double va = sd_a * sd_a / (double)n_a, vb = sd_b * sd_b / (double)n_b;
    if (va + vb == 0) {
        /* Every replication gave the same value on both sides (counts, deterministic
         * wear): t is 0/0 or infinite, and the difference is exact. */
        w->t = diff == 0 ? 0 : copysign(INFINITY, diff);
        w->p = diff == 0 ? 1 : 0;
        w->exact = diff != 0;
        w->verdict = diff == 0 ? REPORT_VERDICT_NO : REPORT_VERDICT_YES;
        return;
    }
    w->t = diff / sqrt(va + vb);
    w->df = (va + vb) * (va + vb) / (va * va / (double)(n_a - 1) + vb * vb / (double)(n_b - 1));
    w->p = 2 * gsl_cdf_tdist_Q(fabs(w->t), w->df);
    /* The verdict from the critical value rather than p < 0.05, so that a p rounding
     * near 0.05 cannot disagree with t(0.975, df). */
    w->verdict =
        fabs(w->t) > gsl_cdf_tdist_Pinv(0.975, w->df) ? REPORT_VERDICT_YES : REPORT_VERDICT_NO;
}

void report_compare_rows(const struct report_row *a, const struct report_row *b,
                         struct report_delta d[REPORT_METRIC_COUNT])
{
    for (int m = 0; m < REPORT_METRIC_COUNT; m++) {
        double ma = a->mean[m], mb = b->mean[m];
        d[m].diff = isfinite(ma) && isfinite(mb) ? mb - ma : NAN;
        if (!isfinite(d[m].diff))
            d[m].change_pct = NAN;
        else if (ma == 0)
            d[m].change_pct = mb == 0 ? 0 : NAN;
        else
            d[m].change_pct = 100 * d[m].diff / fabs(ma);
        report_welch_test(ma, a->sd[m], a->n_runs, mb, b->sd[m], b->n_runs, &d[m].w);
    }
}

/* ---- selection ---- */

static const char *const select_keys[] = {"group=", "point=", "bootloader="};
#define N_SELECT_KEYS (sizeof(select_keys) / sizeof(select_keys[0]))

static void message(char *err, size_t n, const char *fmt, ...)
{
    if (n == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

/* The select_keys index that s starts with, or -1. */
static int key_at(const char *s)
{
    for (size_t k = 0; k < N_SELECT_KEYS; k++)
        if (strncmp(s, select_keys[k], strlen(select_keys[k])) == 0)
            return (int)k;
    return -1;
}

/* Where the item starting at s ends: the first comma followed by a known key, or the end. */
static const char *item_end(const char *s)
{
    for (const char *c = strchr(s, ','); c != NULL; c = strchr(c + 1, ','))
        if (key_at(c + 1) >= 0)
            return c;
    return s + strlen(s);
}

static int set_item(struct report_select *sel, int key, const char *v, size_t len, const char *spec,
                    char *err, size_t n)
{
    if (len == 0) {
        message(err, n, "'%s': %s needs a value", spec, select_keys[key]);
        return REPORT_EFORMAT;
    }
    if (key == 1) {
        char num[32];
        char *end;
        if (len >= sizeof(num))
            len = sizeof(num) - 1;
        memcpy(num, v, len);
        num[len] = '\0';
        unsigned long p = strtoul(num, &end, 10);
        if (*end != '\0' || num[0] < '1' || num[0] > '9' || p > 1000000) {
            message(err, n, "'%s': point=%s is not a sweep point number (1, 2, ...)", spec, num);
            return REPORT_EFORMAT;
        }
        sel->point = p;
        return 0;
    }
    char **dst = key == 0 ? &sel->group : &sel->bootloader;
    *dst = malloc(len + 1);
    if (*dst == NULL)
        return REPORT_ENOMEM;
    memcpy(*dst, v, len);
    (*dst)[len] = '\0';
    return 0;
}

int report_select_parse(const char *spec, struct report_select *sel, char *err, size_t n)
{
    *sel = (struct report_select){0};
    bool seen[N_SELECT_KEYS] = {false};
    int rc = 0;
    const char *s = spec;
    if (*s == '\0') {
        message(err, n, "empty selection (want e.g. group=mice,point=2)");
        return REPORT_EFORMAT;
    }
    while (rc == 0) {
        int key = key_at(s);
        if (key < 0) {
            message(err, n,
                    "'%s': unknown item '%.*s' (keys: group=NAME, point=N, bootloader=MODE)", spec,
                    (int)(item_end(s) - s), s);
            rc = REPORT_EFORMAT;
            break;
        }
        if (seen[key]) {
            message(err, n, "'%s': %s given twice", spec, select_keys[key]);
            rc = REPORT_EFORMAT;
            break;
        }
        seen[key] = true;
        const char *v = s + strlen(select_keys[key]), *end = item_end(s);
        rc = set_item(sel, key, v, (size_t)(end - v), spec, err, n);
        if (*end == '\0')
            break;
        s = end + 1;
    }
    if (rc != 0)
        report_select_fini(sel);
    return rc;
}

void report_select_fini(struct report_select *sel)
{
    free(sel->group);
    free(sel->bootloader);
    *sel = (struct report_select){0};
}

static bool matches(const struct report_row *r, const struct report_select *sel)
{
    return (sel->group == NULL || strcmp(r->group, sel->group) == 0) &&
           (sel->bootloader == NULL || strcmp(r->bootloader, sel->bootloader) == 0) &&
           (sel->point == 0 || r->point_index + 1 == sel->point);
}

/* Appends "point N group G (MODE)" of every row of s that sel matches (all when sel is NULL)
 * to err at offset o. */
static void list_rows(const struct report_summary *s, const struct report_select *sel, char *err,
                      size_t n, size_t o)
{
    for (size_t i = 0; i < s->n_rows && o + 1 < n; i++) {
        if (sel != NULL && !matches(&s->rows[i], sel))
            continue;
        int w =
            snprintf(err + o, n - o, "\n  point=%zu,group=%s (%s; %s)", s->rows[i].point_index + 1,
                     s->rows[i].group, s->rows[i].bootloader, s->rows[i].point);
        if (w < 0)
            return;
        o += (size_t)w;
    }
}

int report_select_find(const struct report_summary *s, const struct report_select *sel,
                       const char *what, size_t *row, char *err, size_t n)
{
    size_t hits = 0;
    for (size_t i = 0; i < s->n_rows; i++)
        if (matches(&s->rows[i], sel) && hits++ == 0)
            *row = i;
    if (hits == 1)
        return 0;
    if (n == 0)
        return REPORT_ENOENT;
    int w = hits == 0
                ? snprintf(err, n, "%s matches no row; the rows are:", what)
                : snprintf(err, n, "%s matches %zu rows; add point=N or group=NAME:", what, hits);
    if (w > 0 && (size_t)w < n)
        list_rows(s, hits == 0 ? NULL : sel, err, n, (size_t)w);
    return REPORT_ENOENT;
}

/* ---- pairing ---- */

static int push_pair(struct report_pair **pairs, size_t *n, const struct report_row *a,
                     const struct report_row *b)
{
    struct report_pair *g = realloc(*pairs, (*n + 1) * sizeof(*g));
    if (g == NULL)
        return REPORT_ENOMEM;
    *pairs = g;
    g[(*n)++] = (struct report_pair){a, b};
    return 0;
}

/* The baseline row for row r of point p: its first direct-xip row on r's board, else on
 * any board, else the same with direct-xip-revert; with p = SIZE_MAX of any point. NULL if
 * none. */
static const struct report_row *baseline(const struct report_summary *s, size_t p,
                                         const struct report_row *r)
{
    static const char *const modes[] = {"direct-xip", "direct-xip-revert"};
    for (size_t k = 0; k < 2; k++)
        for (int same_board = 1; same_board >= 0; same_board--)
            for (size_t i = 0; i < s->n_rows; i++)
                if ((p == SIZE_MAX || s->rows[i].point_index == p) &&
                    strcmp(s->rows[i].bootloader, modes[k]) == 0 &&
                    (!same_board || (r != NULL && r->board != NULL && s->rows[i].board != NULL &&
                                     strcmp(s->rows[i].board, r->board) == 0)))
                    return &s->rows[i];
    return NULL;
}

int report_compare_default_pairs(const struct report_summary *s, struct report_pair **pairs,
                                 size_t *n)
{
    *pairs = NULL;
    *n = 0;
    const struct report_row *any = baseline(s, SIZE_MAX, NULL);
    if (any == NULL && s->n_rows > 0)
        any = &s->rows[0];
    int rc = 0;
    for (size_t i = 0; i < s->n_rows && rc == 0; i++) {
        const struct report_row *base = baseline(s, s->rows[i].point_index, &s->rows[i]);
        if (base == NULL)
            base = any;
        if (base != &s->rows[i])
            rc = push_pair(pairs, n, base, &s->rows[i]);
    }
    if (rc != 0) {
        free(*pairs);
        *pairs = NULL;
        *n = 0;
    }
    return rc;
}

int report_compare_match_pairs(const struct report_summary *a, const struct report_summary *b,
                               struct report_pair **pairs, size_t *n, size_t *unmatched)
{
    *pairs = NULL;
    *n = 0;
    *unmatched = 0;
    int rc = 0;
    for (size_t i = 0; i < a->n_rows && rc == 0; i++) {
        const struct report_row *partner = NULL;
        for (size_t j = 0; j < b->n_rows && partner == NULL; j++)
            if (b->rows[j].point_index == a->rows[i].point_index &&
                strcmp(b->rows[j].group, a->rows[i].group) == 0)
                partner = &b->rows[j];
        if (partner == NULL)
            (*unmatched)++;
        else
            rc = push_pair(pairs, n, &a->rows[i], partner);
    }
    /* rows of b that no row of a took */
    for (size_t j = 0; j < b->n_rows && rc == 0; j++) {
        bool taken = false;
        for (size_t k = 0; k < *n && !taken; k++)
            taken = (*pairs)[k].b == &b->rows[j];
        *unmatched += !taken;
    }
    if (rc != 0) {
        free(*pairs);
        *pairs = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- output ---- */

#define CELL 96

static void format_mean(char *buf, double mean, double ci, int decimals)
{
    if (!isfinite(mean))
        snprintf(buf, CELL, "-");
    else if (isfinite(ci))
        snprintf(buf, CELL, "%.*f ±%.*f", decimals, mean, decimals, ci);
    else
        snprintf(buf, CELL, "%.*f", decimals, mean);
}

static const char *verdict_text(const struct report_welch *w)
{
    switch (w->verdict) {
    case REPORT_VERDICT_MISSING:
        return "-";
    case REPORT_VERDICT_FEW_RUNS:
        return "n/a";
    case REPORT_VERDICT_NO:
        return "no";
    case REPORT_VERDICT_YES:
        return w->exact ? "yes*" : "yes";
    }
    return "?";
}

static void describe(FILE *out, const char *side, const char *db, const struct report_row *r)
{
    fprintf(out, "%s: %s%spoint %zu (%s) group %s (%s), %zu run%s\n", side, db ? db : "",
            db ? " " : "", r->point_index + 1, r->point, r->group, r->bootloader, r->n_runs,
            r->n_runs == 1 ? "" : "s");
}

/* One table for pair p; sets *few / *exact when a verdict needs a footnote. */
static int print_pair(const struct report_pair *p, const char *db_a, const char *db_b, FILE *out,
                      bool *few, bool *exact)
{
    struct report_delta d[REPORT_METRIC_COUNT];
    report_compare_rows(p->a, p->b, d);
    struct report_table *t = report_table_new(7);
    if (t == NULL)
        return REPORT_ENOMEM;
    const char *head[] = {"metric", "A", "B", "B − A", "change", "p", "sig. 95 %"};
    int rc = report_table_add_row(t, head) == 0 ? 0 : REPORT_ENOMEM;
    for (int m = 0; m < REPORT_METRIC_COUNT && rc == 0; m++) {
        const struct report_metric_def *def = &report_metrics[m];
        char a[CELL], b[CELL], diff[CELL] = "-", change[CELL] = "-", pv[CELL] = "-";
        format_mean(a, p->a->mean[m], p->a->ci95[m], def->decimals);
        format_mean(b, p->b->mean[m], p->b->ci95[m], def->decimals);
        if (isfinite(d[m].diff))
            snprintf(diff, CELL, "%+.*f", def->decimals, d[m].diff);
        if (isfinite(d[m].change_pct))
            snprintf(change, CELL, "%+.1f %%", d[m].change_pct);
        if (isfinite(d[m].w.p))
            snprintf(pv, CELL, d[m].w.p < 0.001 ? "<0.001" : "%.3f", d[m].w.p);
        *few = *few || d[m].w.verdict == REPORT_VERDICT_FEW_RUNS;
        *exact = *exact || d[m].w.exact;
        const char *cells[] = {def->label, a, b, diff, change, pv, verdict_text(&d[m].w)};
        rc = report_table_add_row(t, cells) == 0 ? 0 : REPORT_ENOMEM;
    }
    if (rc == 0) {
        describe(out, "A", db_a, p->a);
        describe(out, "B", db_b, p->b);
        report_table_print(t, out);
    }
    report_table_free(t);
    return rc;
}

int report_compare_print(const struct report_pair *pairs, size_t n, const char *db_a,
                         const char *db_b, FILE *out)
{
    bool few = false, exact = false;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            fputc('\n', out);
        int rc = print_pair(&pairs[i], db_a, db_b, out, &few, &exact);
        if (rc != 0)
            return rc;
    }
    fputs("\nA and B: mean ±95 % CI half-width across replications; change: (B − A) / |A|;\n"
          "p: Welch's t-test, two-sided; 95 %: significant at p < 0.05.\n",
          out);
    if (few)
        fputs("n/a: fewer than 2 replications on a side, so there is no run-to-run spread to\n"
              "test the difference against; set `replications: N` (N >= 2) in the scenario.\n",
              out);
    if (exact)
        fputs("yes*: every replication gave the same value on both sides, so the difference is\n"
              "exact (t is infinite).\n",
              out);
    return 0;
}

static int side_fields(FILE *out, bool first, const char *db, const struct report_row *r)
{
    int rc = report_csv_field(out, first, db != NULL ? db : "");
    rc = rc ? rc : report_csv_number(out, (double)(r->point_index + 1));
    rc = rc ? rc : report_csv_field(out, false, r->point);
    rc = rc ? rc : report_csv_field(out, false, r->group);
    rc = rc ? rc : report_csv_field(out, false, r->bootloader);
    return rc ? rc : report_csv_number(out, (double)r->n_runs);
}

/* The verdict in CSV and JSON: "", "n/a", "yes" or "no" (no footnote marks). */
static const char *verdict_field(enum report_verdict v)
{
    return v == REPORT_VERDICT_MISSING    ? ""
           : v == REPORT_VERDICT_FEW_RUNS ? "n/a"
           : v == REPORT_VERDICT_YES      ? "yes"
                                          : "no";
}

int report_compare_write_csv(const struct report_pair *pairs, size_t n, const char *db_a,
                             const char *db_b, FILE *out)
{
    static const char *const header[] = {
        "a_db",         "a_point", "a_point_label", "a_group",       "a_bootloader",
        "a_runs",       "b_db",    "b_point",       "b_point_label", "b_group",
        "b_bootloader", "b_runs",  "metric",        "a_mean",        "a_ci95",
        "b_mean",       "b_ci95",  "diff",          "change_pct",    "t",
        "df",           "p",       "significant"};
    int rc = 0;
    for (size_t i = 0; i < sizeof(header) / sizeof(header[0]) && rc == 0; i++)
        rc = report_csv_field(out, i == 0, header[i]);
    if (rc == 0 && fputc('\n', out) == EOF)
        rc = REPORT_EIO;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct report_pair *p = &pairs[i];
        struct report_delta d[REPORT_METRIC_COUNT];
        report_compare_rows(p->a, p->b, d);
        for (int m = 0; m < REPORT_METRIC_COUNT && rc == 0; m++) {
            const struct report_welch *w = &d[m].w;
            const char *sig = verdict_field(w->verdict);
            rc = side_fields(out, true, db_a, p->a);
            rc = rc ? rc : side_fields(out, false, db_b, p->b);
            rc = rc ? rc : report_csv_field(out, false, report_metrics[m].column);
            rc = rc ? rc : report_csv_number(out, p->a->mean[m]);
            rc = rc ? rc : report_csv_number(out, p->a->ci95[m]);
            rc = rc ? rc : report_csv_number(out, p->b->mean[m]);
            rc = rc ? rc : report_csv_number(out, p->b->ci95[m]);
            rc = rc ? rc : report_csv_number(out, d[m].diff);
            rc = rc ? rc : report_csv_number(out, d[m].change_pct);
            rc = rc ? rc : report_csv_number(out, w->t);
            rc = rc ? rc : report_csv_number(out, w->df);
            rc = rc ? rc : report_csv_number(out, w->p);
            rc = rc ? rc : report_csv_field(out, false, sig);
            if (rc == 0 && fputc('\n', out) == EOF)
                rc = REPORT_EIO;
        }
    }
    return rc;
}

static void json_side(struct report_json *j, const char *key, const char *db,
                      const struct report_row *r)
{
    report_json_key(j, key);
    report_json_begin_object(j);
    report_json_key(j, "db");
    report_json_string(j, db);
    report_json_key(j, "point");
    report_json_uint(j, r->point_index + 1);
    report_json_key(j, "point_label");
    report_json_string(j, r->point);
    report_json_key(j, "group");
    report_json_string(j, r->group);
    report_json_key(j, "board");
    report_json_string(j, r->board);
    report_json_key(j, "bootloader");
    report_json_string(j, r->bootloader);
    report_json_key(j, "runs");
    report_json_uint(j, r->n_runs);
    report_json_end_object(j);
}

int report_compare_write_json(const struct report_pair *pairs, size_t n, const char *db_a,
                              const char *db_b, FILE *out)
{
    struct report_json j;
    report_json_init(&j, out);
    report_json_begin_array(&j);
    for (size_t i = 0; i < n; i++) {
        struct report_delta d[REPORT_METRIC_COUNT];
        report_compare_rows(pairs[i].a, pairs[i].b, d);
        report_json_begin_object(&j);
        json_side(&j, "a", db_a, pairs[i].a);
        json_side(&j, "b", db_b, pairs[i].b);
        report_json_key(&j, "metrics");
        report_json_begin_object(&j);
        for (int m = 0; m < REPORT_METRIC_COUNT; m++) {
            const struct report_welch *w = &d[m].w;
            const double v[] = {pairs[i].a->mean[m],
                                pairs[i].a->ci95[m],
                                pairs[i].b->mean[m],
                                pairs[i].b->ci95[m],
                                d[m].diff,
                                d[m].change_pct,
                                w->t,
                                w->df,
                                w->p};
            static const char *const names[] = {"a_mean",     "a_ci95", "b_mean", "b_ci95", "diff",
                                                "change_pct", "t",      "df",     "p"};
            report_json_key(&j, report_metrics[m].column);
            report_json_begin_object(&j);
            for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
                report_json_key(&j, names[k]);
                report_json_number(&j, v[k]);
            }
            report_json_key(&j, "significant");
            report_json_string(
                &j, w->verdict == REPORT_VERDICT_MISSING ? NULL : verdict_field(w->verdict));
            report_json_end_object(&j);
        }
        report_json_end_object(&j);
        report_json_end_object(&j);
    }
    report_json_end_array(&j);
    return report_json_finish(&j);
}
