/* report/baseline.c - baseline CSV files of `dfusim check` and the tolerance rule. */
#include "report/baseline.h"
#include "report/csv_out.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct report_check_metric report_check_metrics[REPORT_CHECK_N_METRICS] = {
    {REPORT_UPDATED, true, 0, 0},
    {REPORT_FAILED, false, 0, 0},
    {REPORT_TTU_MEAN, false, 0.05, 0},
    {REPORT_ATTEMPTS_MEAN, false, 0.05, 0},
    {REPORT_GOODPUT_MEAN, true, 0.05, 0},
    {REPORT_DOWNTIME_MEAN, false, 0.05, 0},
    {REPORT_ERASES_PRIMARY, false, 0.05, 0},
    {REPORT_T50, false, 0.05, 0},
    {REPORT_T90, false, 0.05, 0},
    {REPORT_T100, false, 0.05, 0},
};

static const char HEADER[] = "point,group,metric,value,rel_tol,abs_tol";

int report_check_metric_find(const char *name)
{
    for (int i = 0; i < REPORT_CHECK_N_METRICS; i++)
        if (strcmp(report_metrics[report_check_metrics[i].metric].column, name) == 0)
            return i;
    return -1;
}

enum report_verdict report_check_compare(int metric, double base, double now, double rel_tol,
                                         double abs_tol)
{
    bool hib = report_check_metrics[metric].higher_is_better;
    if (isnan(base) && isnan(now))
        return REPORT_SAME;
    if (isnan(now))
        return REPORT_WORSE; /* NAN is the worst value: not reached, no upload */
    if (isnan(base))
        return REPORT_BETTER;
    double worse_by = hib ? base - now : now - base;
    /* %.10g in the file: differences below its rounding are no change */
    double eps = 1e-9 * fmax(fabs(base), 1e-300);
    if (fabs(worse_by) <= eps)
        return REPORT_SAME;
    if (worse_by < 0)
        return REPORT_BETTER;
    double allowed = fmax(rel_tol * fabs(base), abs_tol);
    return worse_by <= allowed + eps ? REPORT_WITHIN : REPORT_WORSE;
}

void report_baseline_fini(struct report_baseline *b)
{
    for (size_t i = 0; i < b->n_rows; i++) {
        free(b->rows[i].point);
        free(b->rows[i].group);
    }
    free(b->rows);
    memset(b, 0, sizeof(*b));
}

/* One line's fields, as libcsv hands them over: at most 6 kept (n counts them all), copied
 * NUL-terminated into buf, which is at least as long as the line plus 7. */
struct split {
    char *f[6];
    int n;
    char *buf;
    size_t used;
};

static void on_field(void *s, size_t len, void *data)
{
    struct split *sp = data;
    if (sp->n++ >= 6)
        return;
    char *dst = sp->buf + sp->used;
    if (len > 0)
        memcpy(dst, s, len);
    dst[len] = '\0';
    sp->f[sp->n - 1] = dst;
    sp->used += len + 1;
}

static int no_space(unsigned char c)
{
    (void)c;
    return 0; /* spaces are data: a baseline is written without padding */
}

/* Split one CSV line (no line break inside) with libcsv in strict mode into *sp (sp->n
 * fields). Returns 0, SIM_EFORMAT on a quote error, or SIM_ENOMEM. */
static int split_line(const char *line, size_t len, struct split *sp)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return SIM_ENOMEM;
    csv_set_space_func(&p, no_space);
    bool ok = csv_parse(&p, line, len, on_field, NULL, sp) == len &&
              csv_fini(&p, on_field, NULL, sp) == 0;
    csv_free(&p);
    return ok ? 0 : SIM_EFORMAT;
}

/* A number >= 0 (or any, when signed_ok), or empty -> NAN when empty_ok. */
static bool parse_number(const char *t, bool empty_ok, bool signed_ok, double *v)
{
    if (t[0] == '\0') {
        *v = NAN;
        return empty_ok;
    }
    char *end;
    errno = 0;
    *v = strtod(t, &end);
    return errno == 0 && *end == '\0' && isfinite(*v) && (signed_ok || *v >= 0);
}

static bool is_hex64(const char *t)
{
    if (strlen(t) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
            return false;
    return true;
}

/* One data row; returns 0 or SIM_EFORMAT/SIM_ENOMEM after a message. */
static int parse_row(struct report_baseline *b, char **f, int nf, const char *path, unsigned line,
                     struct sim_diag *d)
{
    if (nf != 6) {
        sim_diag_add(d, "%s:%u: expected 6 fields (%s), found %d", path, line, HEADER, nf);
        return SIM_EFORMAT;
    }
    if (strcmp(f[2], "fingerprint") == 0) {
        if (!is_hex64(f[3])) {
            sim_diag_add(d, "%s:%u: the fingerprint is not 64 lowercase hex digits", path, line);
            return SIM_EFORMAT;
        }
        if (b->fingerprint[0] != '\0') {
            sim_diag_add(d, "%s:%u: a second fingerprint row", path, line);
            return SIM_EFORMAT;
        }
        memcpy(b->fingerprint, f[3], REPORT_FINGERPRINT_HEX);
        return 0;
    }
    struct report_baseline_row r = {.line = line, .metric = report_check_metric_find(f[2])};
    if (r.metric < 0) {
        sim_diag_add(d, "%s:%u: unknown metric \"%.64s\"", path, line, f[2]);
        return SIM_EFORMAT;
    }
    static const char *const names[] = {"value", "rel_tol", "abs_tol"};
    double *dst[] = {&r.value, &r.rel_tol, &r.abs_tol};
    for (int k = 0; k < 3; k++) {
        if (!parse_number(f[3 + k], k == 0, k == 0, dst[k])) {
            sim_diag_add(d, "%s:%u: %s \"%.64s\" is not %s", path, line, names[k], f[3 + k],
                         k == 0 ? "a number (or empty for not reached)" : "a number >= 0");
            return SIM_EFORMAT;
        }
    }
    for (size_t i = 0; i < b->n_rows; i++) {
        const struct report_baseline_row *o = &b->rows[i];
        if (o->metric == r.metric && strcmp(o->point, f[0]) == 0 && strcmp(o->group, f[1]) == 0) {
            sim_diag_add(d, "%s:%u: duplicate of line %u", path, line, o->line);
            return SIM_EFORMAT;
        }
    }
    struct report_baseline_row *rows = realloc(b->rows, (b->n_rows + 1) * sizeof(*rows));
    if (rows == NULL)
        return SIM_ENOMEM;
    b->rows = rows;
    r.point = strdup(f[0]);
    r.group = strdup(f[1]);
    if (r.point == NULL || r.group == NULL) {
        free(r.point);
        free(r.group);
        return SIM_ENOMEM;
    }
    b->rows[b->n_rows++] = r;
    return 0;
}

int report_baseline_load(const char *path, struct report_baseline *b, struct sim_diag *d)
{
    memset(b, 0, sizeof(*b));
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        sim_diag_add(d, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? SIM_ENOENT : SIM_EIO;
    }
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned line = 0;
    int rc = 0;
    while (rc == 0 && (len = getline(&buf, &cap, f)) >= 0) {
        line++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        if ((size_t)len != strlen(buf)) {
            sim_diag_add(d, "%s:%u: a NUL byte: not a text file", path, line);
            rc = SIM_EFORMAT;
        } else if (line == 1) {
            if (strcmp(buf, HEADER) != 0) {
                sim_diag_add(d, "%s:1: expected the header \"%s\"", path, HEADER);
                rc = SIM_EFORMAT;
            }
        } else if (len > 0) {
            struct split sp = {.buf = malloc((size_t)len + 7)};
            rc = sp.buf != NULL ? split_line(buf, (size_t)len, &sp) : SIM_ENOMEM;
            if (rc == SIM_EFORMAT)
                sim_diag_add(d, "%s:%u: unbalanced quotes", path, line);
            else if (rc == 0)
                rc = parse_row(b, sp.f, sp.n > 6 ? 7 : sp.n, path, line, d);
            free(sp.buf);
        }
    }
    if (rc == 0 && ferror(f)) {
        sim_diag_add(d, "%s: read error", path);
        rc = SIM_EIO;
    }
    if (rc == 0 && line == 0) {
        sim_diag_add(d, "%s:1: empty file, expected the header \"%s\"", path, HEADER);
        rc = SIM_EFORMAT;
    }
    if (rc == 0 && b->fingerprint[0] == '\0') {
        sim_diag_add(d, "%s:%u: no fingerprint row (\",,fingerprint,HEX,,\")", path, line);
        rc = SIM_EFORMAT;
    }
    free(buf);
    fclose(f);
    if (rc != 0)
        report_baseline_fini(b);
    return rc;
}

int report_baseline_write(const char *path, const struct report_summary *s, const double (*tol)[2],
                          const char *fingerprint, struct sim_diag *d)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        sim_diag_add(d, "%s: cannot write: %s", path, strerror(errno));
        return SIM_EIO;
    }
    fprintf(f, "%s\n", HEADER);
    for (size_t i = 0; i < s->n_rows; i++) {
        const struct report_row *r = &s->rows[i];
        for (int m = 0; m < REPORT_CHECK_N_METRICS; m++) {
            report_csv_field(f, true, r->point);
            report_csv_field(f, false, r->group);
            fprintf(f, ",%s,", report_metrics[report_check_metrics[m].metric].column);
            double v = r->mean[report_check_metrics[m].metric];
            if (!isnan(v))
                fprintf(f, "%.10g", v);
            fprintf(f, ",%.10g,%.10g\n", tol[m][0], tol[m][1]);
        }
    }
    fprintf(f, ",,fingerprint,%s,,\n", fingerprint);
    if (fclose(f) != 0) {
        sim_diag_add(d, "%s: write failed", path);
        return SIM_EIO;
    }
    return 0;
}
