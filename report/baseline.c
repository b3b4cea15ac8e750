/* report/baseline.c - baseline CSV files of `dfusim check` and the tolerance rule. */
#include "report/baseline.h"
#include "report/csv_out.h"

#include <csv.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/evp.h>
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

double report_check_allowed(double base, double rel_tol, double abs_tol)
{
    return isnan(base) ? NAN : fmax(rel_tol * fabs(base), abs_tol);
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
    double allowed = report_check_allowed(base, rel_tol, abs_tol);
    return worse_by <= allowed + eps ? REPORT_WITHIN : REPORT_WORSE;
}

void report_baseline_fini(struct report_baseline *b)
{
    for (size_t i = 0; i < b->n_rows; i++) {
        free(b->rows[i].point);
        free(b->rows[i].group);
    }
    free(b->rows);
    for (size_t i = 0; i < b->settings.n_sets; i++)
        free(b->sets[i]);
    free(b->sets);
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

static int add_set(struct report_baseline *b, const char *text)
{
    char **sets = realloc(b->sets, (b->settings.n_sets + 1) * sizeof(*sets));
    if (sets == NULL)
        return SIM_ENOMEM;
    b->sets = sets;
    if ((sets[b->settings.n_sets] = strdup(text)) == NULL)
        return SIM_ENOMEM;
    b->settings.n_sets++;
    b->settings.sets = (const char *const *)b->sets;
    return 0;
}

/* A setting row (",,NAME,VALUE,,"); returns 0 or SIM_EFORMAT/SIM_ENOMEM after a message. */
static int parse_setting(struct report_baseline *b, char **f, const char *path, unsigned line,
                         struct sim_diag *d)
{
    const char *name = f[2], *v = f[3];
    if (strcmp(name, "format") == 0) {
        if (strcmp(v, "2") != 0) {
            sim_diag_add(d,
                         "%s:%u: baseline format \"%.16s\" is not one this dfusim reads (1 or "
                         "2): it was written by a newer dfusim; re-run with --update",
                         path, line, v);
            return SIM_EFORMAT;
        }
        if (line != 2) {
            sim_diag_add(d, "%s:%u: the format row must follow the header", path, line);
            return SIM_EFORMAT;
        }
        b->format = 2;
        return 0;
    }
    if (b->format != 2) {
        sim_diag_add(d,
                     "%s:%u: setting \"%.64s\" without a format row (\",,format,2,,\" on line 2)",
                     path, line, name);
        return SIM_EFORMAT;
    }
    if (strcmp(name, "dfusim_version") == 0) {
        snprintf(b->version, sizeof(b->version), "%s", v);
        b->settings.version = b->version;
        return 0;
    }
    if (strcmp(name, "scenario_sha256") == 0) {
        if (!is_hex64(v)) {
            sim_diag_add(d, "%s:%u: scenario_sha256 is not 64 lowercase hex digits", path, line);
            return SIM_EFORMAT;
        }
        memcpy(b->settings.scenario_sha256, v, REPORT_FINGERPRINT_HEX);
        return 0;
    }
    if (strcmp(name, "seed") == 0) {
        char *end;
        errno = 0;
        uintmax_t seed = strtoumax(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || seed > UINT64_MAX) {
            sim_diag_add(d, "%s:%u: seed \"%.32s\" is not a whole number 0..2^64-1", path, line, v);
            return SIM_EFORMAT;
        }
        b->settings.seed = (uint64_t)seed;
        return 0;
    }
    if (strcmp(name, "set") == 0) {
        if (strchr(v, '=') == NULL) {
            sim_diag_add(d, "%s:%u: set \"%.64s\" is not KEY=VALUE", path, line, v);
            return SIM_EFORMAT;
        }
        return add_set(b, v);
    }
    sim_diag_add(d, "%s:%u: unknown setting \"%.64s\"", path, line, name);
    return SIM_EFORMAT;
}

/* One data row; returns 0 or SIM_EFORMAT/SIM_ENOMEM after a message. */
static int parse_row(struct report_baseline *b, char **f, int nf, const char *path, unsigned line,
                     struct sim_diag *d)
{
    if (nf != 6) {
        sim_diag_add(d, "%s:%u: expected 6 fields (%s), found %d", path, line, HEADER, nf);
        return SIM_EFORMAT;
    }
    if (f[0][0] == '\0' && f[1][0] == '\0' && strcmp(f[2], "fingerprint") != 0)
        return parse_setting(b, f, path, line, d);
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
    b->format = 1;
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
    if (rc == 0 && b->format == 2 &&
        (b->settings.version == NULL || b->settings.scenario_sha256[0] == '\0')) {
        sim_diag_add(d, "%s: format 2 without its %s row", path,
                     b->settings.version == NULL ? "dfusim_version" : "scenario_sha256");
        rc = SIM_EFORMAT;
    }
    free(buf);
    fclose(f);
    if (rc != 0)
        report_baseline_fini(b);
    return rc;
}

int report_baseline_write(const char *path, const struct report_summary *s, const double (*tol)[2],
                          const struct report_baseline_settings *set, const char *fingerprint,
                          struct sim_diag *d)
{
    for (size_t i = 0; i < set->n_sets; i++) {
        if (strpbrk(set->sets[i], "\r\n") != NULL) {
            sim_diag_add(d, "%s: --set %.64s: a line break cannot be recorded in a baseline", path,
                         set->sets[i]);
            return SIM_EINVAL;
        }
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        sim_diag_add(d, "%s: cannot write: %s", path, strerror(errno));
        return SIM_EIO;
    }
    fprintf(f, "%s\n", HEADER);
    fprintf(f, ",,format,%d,,\n", REPORT_BASELINE_FORMAT);
    fputs(",,dfusim_version,", f);
    report_csv_field(f, true, set->version);
    fputs(",,\n", f);
    fprintf(f, ",,scenario_sha256,%s,,\n", set->scenario_sha256);
    fprintf(f, ",,seed,%" PRIu64 ",,\n", set->seed);
    for (size_t i = 0; i < set->n_sets; i++) {
        fputs(",,set,", f);
        report_csv_field(f, true, set->sets[i]);
        fputs(",,\n", f);
    }
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

int report_baseline_sha256(const void *p, size_t n, char hex[REPORT_FINGERPRINT_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32)
        return SIM_ENOMEM;
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* The overrides as one line for a message: "--set A=1 --set B=2", or "none". */
static void sets_text(char *buf, size_t n, const struct report_baseline_settings *s)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s->n_sets && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s--set %s", i ? " " : "", s->sets[i]);
    if (s->n_sets == 0)
        snprintf(buf, n, "none");
}

unsigned report_baseline_settings_diff(const struct report_baseline *b,
                                       const struct report_baseline_settings *now,
                                       struct sim_diag *d)
{
    if (b->format < 2) {
        sim_diag_add(d, "the baseline was written by a dfusim that did not record its settings "
                        "(format 1)");
        return REPORT_SETTINGS_UNKNOWN;
    }
    const struct report_baseline_settings *was = &b->settings;
    unsigned diff = 0;
    bool same_sets = was->n_sets == now->n_sets;
    for (size_t i = 0; same_sets && i < now->n_sets; i++)
        same_sets = strcmp(was->sets[i], now->sets[i]) == 0;
    if (!same_sets) {
        char a[1024], c[1024];
        sets_text(a, sizeof(a), was);
        sets_text(c, sizeof(c), now);
        sim_diag_add(d, "overrides: the baseline was made with %s; this run has %s", a, c);
        diff |= REPORT_SETTINGS_SETS;
    }
    if (was->seed != now->seed) {
        sim_diag_add(d, "seed: the baseline's is %" PRIu64 ", this run's %" PRIu64, was->seed,
                     now->seed);
        diff |= REPORT_SETTINGS_SEED;
    }
    if (strcmp(was->scenario_sha256, now->scenario_sha256) != 0) {
        sim_diag_add(d, "scenario: the file changed since the baseline (SHA-256 %.12s, now %.12s)",
                     was->scenario_sha256, now->scenario_sha256);
        diff |= REPORT_SETTINGS_SCENARIO;
    }
    if (strcmp(was->version, now->version) != 0) {
        sim_diag_add(d, "dfusim version: the baseline's is %s, this one is %s", was->version,
                     now->version);
        diff |= REPORT_SETTINGS_VERSION;
    }
    return diff;
}
