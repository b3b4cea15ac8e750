/* sim/cli/check.c - `dfusim check SCENARIO... --baseline DIR`: run each scenario, compare
 * chosen metrics (report/baseline.h) and the results' fingerprint (report/fingerprint.h)
 * with DIR/NAME.csv, after checking that the baseline was made with the same settings;
 * print a table, optionally JUnit XML and JSON; exit 1 on a regression. */
#include "report/baseline.h"
#include "models/fleet/settings.h"
#include "report/completeness.h"
#include "report/fingerprint.h"
#include "report/fmt.h"
#include "report/json_out.h"
#include "report/summary.h"
#include "report/table.h"
#include "sim/cli/cli_int.h"
#include "sim/error.h"
#include "sim/scenario.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char check_usage[] =
    "Usage: dfusim check SCENARIO... --baseline DIR [--update] [--junit FILE] [--json FILE]\n"
    "                    [OPTIONS]\n"
    "\n"
    "Run each scenario and compare its metrics with the baseline DIR/NAME.csv (NAME from the\n"
    "scenario): devices updated and failed, upload kB/s, end-to-end time, downtime (swap),\n"
    "erases per upgrade, t50/t90/t100, per sweep point and device group; and the results'\n"
    "fingerprint (a SHA-256 over the recorded results), which shows any change of behaviour,\n"
    "even inside the tolerances. Tolerances: the scenario's check.tolerances, else the\n"
    "baseline's rel_tol/abs_tol columns; a metric may get worse by max(rel x |baseline|,\n"
    "abs), shown in the table's tolerance column. docs/ci.md.\n"
    "\n"
    "A baseline records the settings it was made with: the --set overrides (and --seed), the\n"
    "seed and the scenario file's SHA-256. Different overrides or seed are refused (exit 2):\n"
    "the numbers would not be comparable. A changed scenario file is a note, not a refusal:\n"
    "every setting is in the fingerprint, so a change that matters shows there.\n"
    "\n"
    "Options:\n"
    "  -b, --baseline DIR     the baselines (required)\n"
    "  -u, --update           write the baselines from this run (with its settings) instead\n"
    "                         of comparing\n"
    "  -J, --junit FILE       also write JUnit XML: one testsuite per scenario with its\n"
    "                         settings as properties and its wall time, one testcase per\n"
    "                         metric and fingerprint\n"
    "      --json FILE        also write the results as JSON (per scenario, point, group and\n"
    "                         metric: baseline, value, tolerance, verdict); FILE - is stdout,\n"
    "                         and the table then goes to stderr\n"
    "  -s, --set KEY=VALUE    override a scenario value in every run (as dfusim run)\n"
    "      --seed N           the same as --set seed=N\n"
    "      --allow-changed-settings  compare even when the baseline was made with other\n"
    "                         overrides or seed, or records none (an older baseline)\n"
    "      --ignore-fingerprint  report a changed fingerprint but do not fail on it\n"
    "  -k, --keep             keep the runs' databases (their directory is printed)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit codes: 0 no regression, 1 a metric got worse beyond its tolerance, a row is new or\n"
    "gone, or the fingerprint changed; 2 bad usage or input (a missing or corrupt baseline,\n"
    "a baseline made with other settings, a bad scenario); 3 internal failure.\n";

struct check_options {
    const char *baseline, *junit, *json;
    const char **sets; /* --set and --seed, in order (seed texts are in seed_args) */
    size_t n_sets;
    char **seed_args; /* owned "seed=N" strings */
    size_t n_seed_args;
    bool update, keep, ignore_fingerprint, allow_changed;
};

/* Verdicts: a metric's (report_check_compare, or a row only on one side) and the
 * fingerprint's. Table and JSON names per value. */
enum check_verdict {
    CHECK_SAME,
    CHECK_BETTER,
    CHECK_WITHIN,
    CHECK_WORSE,
    CHECK_NEW,
    CHECK_GONE,
    CHECK_FP_SAME,
    CHECK_FP_CHANGED,
};
static const char *const verdict_table[] = {
    "ok", "better", "ok (worse, within)", "WORSE", "NEW", "GONE", "same", "CHANGED"};
static const char *const verdict_json[] = {"same", "better", "within", "worse",
                                           "new",  "gone",   "same",   "changed"};

/* One compared metric or fingerprint, for the table, JUnit and JSON. */
struct check_case {
    size_t scenario;     /* index into check_results.scenarios */
    char *point, *group; /* owned; NULL for the fingerprint */
    const char *metric;  /* report_metrics[].column (static), or "fingerprint" */
    double base, now;    /* NAN: not reached, or no such row */
    double rel, abs;     /* the tolerance applied; NAN for NEW and the fingerprint */
    char fp_base[REPORT_FINGERPRINT_HEX], fp_now[REPORT_FINGERPRINT_HEX]; /* fingerprint */
    enum check_verdict verdict;
    bool failed;
    double time_s; /* wall time of the comparison */
};

/* One checked scenario: what JUnit properties and JSON say about it. */
struct check_scenario {
    char *name, *path, *baseline; /* owned */
    char sha256[REPORT_FINGERPRINT_HEX];
    uint64_t seed;
    char *notes; /* owned: settings that differ from the baseline's, one per line, or NULL */
    size_t first, n_cases, n_failed;
    double time_s; /* wall time: run, summary, fingerprint and comparison */
};

struct check_results {
    size_t n, cap;
    struct check_case *cases;
    size_t n_scenarios, cap_scenarios;
    struct check_scenario *scenarios;
    size_t n_failed;
    double time_s;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static struct check_case *add_case(struct check_results *r, size_t scenario)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        struct check_case *c = realloc(r->cases, cap * sizeof(*c));
        if (c == NULL)
            return NULL;
        r->cases = c;
        r->cap = cap;
    }
    struct check_case *c = &r->cases[r->n++];
    *c = (struct check_case){.scenario = scenario, .base = NAN, .now = NAN, .rel = NAN, .abs = NAN};
    return c;
}

static void results_fini(struct check_results *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->cases[i].point);
        free(r->cases[i].group);
    }
    for (size_t i = 0; i < r->n_scenarios; i++) {
        free(r->scenarios[i].name);
        free(r->scenarios[i].path);
        free(r->scenarios[i].baseline);
        free(r->scenarios[i].notes);
    }
    free(r->cases);
    free(r->scenarios);
}

/* A metric whose column is in seconds: "_s" ends the column or a part of it (the column
 * names carry their unit, report/summary.h). */
static bool in_seconds(const char *column)
{
    size_t n = strlen(column);
    return (n >= 2 && strcmp(column + n - 2, "_s") == 0) || strstr(column, "_s_") != NULL;
}

/* A value for the table: %.6g, "-" for NAN; a time of a minute or more also for people
 * (report/fmt.h): "1685.3 (28:05)". */
static void fmt_value(char *buf, size_t n, const char *column, double v)
{
    if (isnan(v)) {
        snprintf(buf, n, "-");
        return;
    }
    char human[32];
    if (in_seconds(column) && fabs(v) >= 60)
        snprintf(buf, n, "%.6g (%s)", v, report_fmt_duration(v, human, sizeof(human)));
    else
        snprintf(buf, n, "%.6g", v);
}

static void fmt_change(char *buf, size_t n, double base, double now)
{
    if (base == now)
        snprintf(buf, n, "0");
    else if (isnan(base) || isnan(now))
        snprintf(buf, n, isnan(base) && isnan(now) ? "" : "n/a");
    else if (base != 0)
        snprintf(buf, n, "%+.1f %%", 100.0 * (now - base) / fabs(base));
    else
        snprintf(buf, n, "%+.6g", now - base);
}

/* The tolerance applied, as the rule computes it: max(rel x |base|, abs); the term that
 * wins is shown ("5 %", "0.2 abs"), "exact" when both are 0. */
static void fmt_tolerance(char *buf, size_t n, double base, double rel, double abs)
{
    if (isnan(rel))
        snprintf(buf, n, "-");
    else if (rel == 0 && abs == 0)
        snprintf(buf, n, "exact");
    else if (rel > 0 && (isnan(base) || rel * fabs(base) >= abs))
        snprintf(buf, n, "%.4g %%", 100 * rel);
    else
        snprintf(buf, n, "%.6g abs", abs);
}

/* The tolerances for scenario s: defaults, then its check.tolerances. */
static void scenario_tolerances(const struct scenario *s, double tol[][2])
{
    for (int m = 0; m < REPORT_CHECK_N_METRICS; m++) {
        tol[m][0] = report_check_metrics[m].rel_tol;
        tol[m][1] = report_check_metrics[m].abs_tol;
    }
    for (size_t i = 0; i < s->check.n_tolerances; i++) {
        int m = report_check_metric_find(s->check.tolerances[i].metric);
        tol[m][0] = s->check.tolerances[i].rel;
        tol[m][1] = s->check.tolerances[i].abs;
    }
}

static bool scenario_sets(const struct scenario *s, int m)
{
    for (size_t i = 0; i < s->check.n_tolerances; i++)
        if (report_check_metric_find(s->check.tolerances[i].metric) == m)
            return true;
    return false;
}

static const char *check_column(int m)
{
    return report_metrics[report_check_metrics[m].metric].column;
}

/* Compares one scenario's summary with its baseline into r (cases of scenario sc);
 * returns 0 or SIM_ENOMEM. */
static int compare(const struct scenario *s, const struct report_summary *sum,
                   struct report_baseline *b, const char *fingerprint, bool ignore_fp, size_t sc,
                   struct check_results *r)
{
    double tol[REPORT_CHECK_N_METRICS][2];
    scenario_tolerances(s, tol);
    for (size_t i = 0; i < sum->n_rows; i++) {
        const struct report_row *row = &sum->rows[i];
        for (int m = 0; m < REPORT_CHECK_N_METRICS; m++) {
            double t0 = now_s();
            struct check_case *c = add_case(r, sc);
            if (c == NULL)
                return SIM_ENOMEM;
            c->metric = check_column(m);
            c->point = strdup(row->point);
            c->group = strdup(row->group);
            if (c->point == NULL || c->group == NULL)
                return SIM_ENOMEM;
            c->now = row->mean[report_check_metrics[m].metric];
            struct report_baseline_row *br = NULL;
            for (size_t k = 0; k < b->n_rows && br == NULL; k++)
                if (b->rows[k].metric == m && strcmp(b->rows[k].point, row->point) == 0 &&
                    strcmp(b->rows[k].group, row->group) == 0)
                    br = &b->rows[k];
            if (br == NULL) {
                c->verdict = CHECK_NEW;
                c->failed = true;
                c->time_s = now_s() - t0;
                continue;
            }
            br->used = true;
            c->base = br->value;
            c->rel = scenario_sets(s, m) ? tol[m][0] : br->rel_tol;
            c->abs = scenario_sets(s, m) ? tol[m][1] : br->abs_tol;
            c->verdict =
                (enum check_verdict)report_check_compare(m, br->value, c->now, c->rel, c->abs);
            c->failed = c->verdict == CHECK_WORSE;
            c->time_s = now_s() - t0;
        }
    }
    for (size_t k = 0; k < b->n_rows; k++) {
        if (b->rows[k].used)
            continue;
        struct check_case *c = add_case(r, sc);
        if (c == NULL)
            return SIM_ENOMEM;
        c->metric = check_column(b->rows[k].metric);
        c->point = strdup(b->rows[k].point);
        c->group = strdup(b->rows[k].group);
        if (c->point == NULL || c->group == NULL)
            return SIM_ENOMEM;
        c->base = b->rows[k].value;
        c->rel = b->rows[k].rel_tol;
        c->abs = b->rows[k].abs_tol;
        c->verdict = CHECK_GONE;
        c->failed = true;
    }
    double t0 = now_s();
    struct check_case *c = add_case(r, sc);
    if (c == NULL)
        return SIM_ENOMEM;
    bool same = strcmp(b->fingerprint, fingerprint) == 0;
    c->metric = "fingerprint";
    memcpy(c->fp_base, b->fingerprint, REPORT_FINGERPRINT_HEX);
    memcpy(c->fp_now, fingerprint, REPORT_FINGERPRINT_HEX);
    c->verdict = same ? CHECK_FP_SAME : CHECK_FP_CHANGED;
    c->failed = !same && !ignore_fp;
    c->time_s = now_s() - t0;
    return 0;
}

static void print_table(const struct check_results *r, size_t from, FILE *out)
{
    static const char *const head[] = {
        "point / group / metric", "baseline", "now", "change", "tolerance", "verdict"};
    struct report_table *t = report_table_new(6);
    if (t == NULL)
        return;
    report_table_add_row(t, head);
    for (size_t i = from; i < r->n; i++) {
        const struct check_case *c = &r->cases[i];
        if (c->point == NULL)
            continue; /* the fingerprint has its own line */
        char name[512], base[64], now[64], change[32], tol[32];
        snprintf(name, sizeof(name), "%s / %s / %s", c->point, c->group, c->metric);
        fmt_value(base, sizeof(base), c->metric, c->base);
        fmt_value(now, sizeof(now), c->metric, c->now);
        if (c->verdict == CHECK_NEW)
            snprintf(base, sizeof(base), " ");
        if (c->verdict == CHECK_GONE)
            snprintf(now, sizeof(now), "-");
        fmt_change(change, sizeof(change), c->base, c->now);
        if (c->verdict == CHECK_NEW || c->verdict == CHECK_GONE)
            change[0] = '\0';
        fmt_tolerance(tol, sizeof(tol), c->base, c->rel, c->abs);
        const char *cells[] = {name, base, now, change, tol, verdict_table[c->verdict]};
        report_table_add_row(t, cells);
    }
    report_table_print(t, out);
    report_table_free(t);
}

/* XML text: the five special characters as entities; control characters XML 1.0 cannot
 * hold (all below 0x20 but tab, newline, carriage return) as '?'. */
static void xml_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else if (c == '&')
            fputs("&amp;", f);
        else if (c == '"')
            fputs("&quot;", f);
        else if (c == '\'')
            fputs("&apos;", f);
        else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            fputc('?', f);
        else
            fputc(c, f);
    }
}

static void xml_property(FILE *f, const char *name, const char *value)
{
    fputs("      <property name=\"", f);
    xml_escaped(f, name);
    fputs("\" value=\"", f);
    xml_escaped(f, value);
    fputs("\"/>\n", f);
}

/* The failure message of a case: "WORSE: baseline 1, now 2 (+100.0 %), tolerance 5 %". */
static void failure_text(const struct check_case *c, char *buf, size_t n)
{
    if (c->point == NULL) {
        snprintf(buf, n,
                 "CHANGED: the results differ from the baseline (fingerprint %.12s, now "
                 "%.12s)",
                 c->fp_base, c->fp_now);
        return;
    }
    char base[64], now[64], change[32], tol[32];
    fmt_value(base, sizeof(base), c->metric, c->base);
    fmt_value(now, sizeof(now), c->metric, c->now);
    fmt_change(change, sizeof(change), c->base, c->now);
    fmt_tolerance(tol, sizeof(tol), c->base, c->rel, c->abs);
    if (c->verdict == CHECK_NEW)
        snprintf(buf, n, "NEW: no baseline row, now %s", now);
    else if (c->verdict == CHECK_GONE)
        snprintf(buf, n, "GONE: baseline %s, no such row now", base);
    else
        snprintf(buf, n, "%s: baseline %s, now %s (%s), tolerance %s", verdict_table[c->verdict],
                 base, now, change, tol);
}

static void junit_suite(FILE *f, const struct check_results *r, const struct check_scenario *sc,
                        const struct check_options *o)
{
    fputs("  <testsuite name=\"", f);
    xml_escaped(f, sc->name);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.6f\">\n", sc->n_cases,
            sc->n_failed, sc->time_s);
    char seed[24];
    snprintf(seed, sizeof(seed), "%" PRIu64, sc->seed);
    fputs("    <properties>\n", f);
    xml_property(f, "scenario", sc->path);
    xml_property(f, "baseline", sc->baseline);
    xml_property(f, "dfusim_version", DFUSIM_VERSION);
    xml_property(f, "seed", seed);
    xml_property(f, "scenario_sha256", sc->sha256);
    for (size_t i = 0; i < o->n_sets; i++)
        xml_property(f, "set", o->sets[i]);
    if (sc->notes != NULL)
        xml_property(f, "settings_changed", sc->notes);
    fputs("    </properties>\n", f);
    for (size_t i = sc->first; i < sc->first + sc->n_cases; i++) {
        const struct check_case *c = &r->cases[i];
        char name[512];
        if (c->point != NULL)
            snprintf(name, sizeof(name), "%s / %s / %s", c->point, c->group, c->metric);
        else
            snprintf(name, sizeof(name), "fingerprint");
        fputs("    <testcase classname=\"", f);
        xml_escaped(f, sc->name);
        fputs("\" name=\"", f);
        xml_escaped(f, name);
        fprintf(f, "\" time=\"%.6f\"", c->time_s);
        if (!c->failed) {
            fputs("/>\n", f);
            continue;
        }
        char msg[512];
        failure_text(c, msg, sizeof(msg));
        fputs("><failure message=\"", f);
        xml_escaped(f, msg);
        fputs("\" type=\"", f);
        fputs(verdict_table[c->verdict], f);
        fputs("\"/></testcase>\n", f);
    }
    fputs("  </testsuite>\n", f);
}

static int write_junit(const struct check_results *r, const struct check_options *o, FILE *err)
{
    FILE *f = fopen(o->junit, "w");
    if (f == NULL) {
        fprintf(err, "dfusim check: %s: cannot write: %s\n", o->junit, strerror(errno));
        return SIM_EXIT_USAGE;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites name=\"dfusim check\" tests=\"%zu\" failures=\"%zu\" time=\"%.6f\">\n",
            r->n, r->n_failed, r->time_s);
    for (size_t s = 0; s < r->n_scenarios; s++)
        junit_suite(f, r, &r->scenarios[s], o);
    fputs("</testsuites>\n", f);
    if (fclose(f) != 0) {
        fprintf(err, "dfusim check: %s: write failed\n", o->junit);
        return SIM_EXIT_USAGE;
    }
    return SIM_EXIT_OK;
}

static void json_case(struct report_json *j, const struct check_case *c)
{
    report_json_begin_object(j);
    report_json_key(j, "point");
    report_json_string(j, c->point);
    report_json_key(j, "group");
    report_json_string(j, c->group);
    report_json_key(j, "metric");
    report_json_string(j, c->metric);
    report_json_key(j, "baseline");
    report_json_number(j, c->base);
    report_json_key(j, "value");
    report_json_number(j, c->now);
    report_json_key(j, "tolerance");
    if (isnan(c->rel)) {
        report_json_null(j);
    } else {
        report_json_begin_object(j);
        report_json_key(j, "rel");
        report_json_number(j, c->rel);
        report_json_key(j, "abs");
        report_json_number(j, c->abs);
        report_json_key(j, "allowed");
        report_json_number(j, report_check_allowed(c->base, c->rel, c->abs));
        report_json_end_object(j);
    }
    report_json_key(j, "verdict");
    report_json_string(j, verdict_json[c->verdict]);
    report_json_key(j, "failed");
    report_json_bool(j, c->failed);
    report_json_key(j, "time_s");
    report_json_number(j, c->time_s);
    report_json_end_object(j);
}

static void json_scenario(struct report_json *j, const struct check_results *r,
                          const struct check_scenario *sc, const struct check_options *o)
{
    report_json_begin_object(j);
    report_json_key(j, "name");
    report_json_string(j, sc->name);
    report_json_key(j, "scenario");
    report_json_string(j, sc->path);
    report_json_key(j, "baseline");
    report_json_string(j, sc->baseline);
    report_json_key(j, "seed");
    report_json_uint(j, sc->seed);
    report_json_key(j, "scenario_sha256");
    report_json_string(j, sc->sha256);
    report_json_key(j, "overrides");
    report_json_begin_array(j);
    for (size_t i = 0; i < o->n_sets; i++)
        report_json_string(j, o->sets[i]);
    report_json_end_array(j);
    report_json_key(j, "settings_changed");
    report_json_string(j, sc->notes);
    report_json_key(j, "time_s");
    report_json_number(j, sc->time_s);
    report_json_key(j, "checks");
    report_json_uint(j, sc->n_cases);
    report_json_key(j, "failed");
    report_json_uint(j, sc->n_failed);
    report_json_key(j, "verdict");
    report_json_string(j, sc->n_failed ? "regression" : "ok");
    const struct check_case *fp = NULL;
    report_json_key(j, "metrics");
    report_json_begin_array(j);
    for (size_t i = sc->first; i < sc->first + sc->n_cases; i++) {
        if (r->cases[i].point == NULL)
            fp = &r->cases[i];
        else
            json_case(j, &r->cases[i]);
    }
    report_json_end_array(j);
    report_json_key(j, "fingerprint");
    if (fp == NULL) {
        report_json_null(j);
    } else {
        report_json_begin_object(j);
        report_json_key(j, "baseline");
        report_json_string(j, fp->fp_base);
        report_json_key(j, "value");
        report_json_string(j, fp->fp_now);
        report_json_key(j, "verdict");
        report_json_string(j, verdict_json[fp->verdict]);
        report_json_key(j, "failed");
        report_json_bool(j, fp->failed);
        report_json_end_object(j);
    }
    report_json_end_object(j);
}

static int write_json(const struct check_results *r, const struct check_options *o, FILE *out,
                      FILE *err)
{
    bool to_stdout = strcmp(o->json, "-") == 0;
    FILE *f = to_stdout ? out : fopen(o->json, "w");
    if (f == NULL) {
        fprintf(err, "dfusim check: %s: cannot write: %s\n", o->json, strerror(errno));
        return SIM_EXIT_USAGE;
    }
    struct report_json j;
    report_json_init(&j, f);
    report_json_begin_object(&j);
    report_json_key(&j, "dfusim_version");
    report_json_string(&j, DFUSIM_VERSION);
    report_json_key(&j, "verdict");
    report_json_string(&j, r->n_failed ? "regression" : "ok");
    report_json_key(&j, "checks");
    report_json_uint(&j, r->n);
    report_json_key(&j, "failed");
    report_json_uint(&j, r->n_failed);
    report_json_key(&j, "time_s");
    report_json_number(&j, r->time_s);
    report_json_key(&j, "scenarios");
    report_json_begin_array(&j);
    for (size_t s = 0; s < r->n_scenarios; s++)
        json_scenario(&j, r, &r->scenarios[s], o);
    report_json_end_array(&j);
    report_json_end_object(&j);
    int rc = report_json_finish(&j);
    if (!to_stdout && fclose(f) != 0 && rc == 0)
        rc = REPORT_EIO;
    if (rc != 0) {
        fprintf(err, "dfusim check: %s: write failed\n", to_stdout ? "stdout" : o->json);
        return rc == REPORT_EIO ? SIM_EXIT_USAGE : SIM_EXIT_INTERNAL;
    }
    return SIM_EXIT_OK;
}

int cli_run_quiet(const char *path, const char *db, const char *const *sets, size_t n_sets,
                  FILE *err)
{
    size_t n = 5 + 2 * n_sets;
    char **argv = calloc(n + 1, sizeof(*argv));
    if (argv == NULL)
        return SIM_EXIT_INTERNAL;
    size_t a = 0;
    argv[a++] = (char *)"run";
    argv[a++] = (char *)path;
    argv[a++] = (char *)"-q";
    argv[a++] = (char *)"-o";
    argv[a++] = (char *)db;
    for (size_t i = 0; i < n_sets; i++) {
        argv[a++] = (char *)"--set";
        argv[a++] = (char *)sets[i];
    }
    FILE *sink = fopen("/dev/null", "w");
    int rc = cli_run((int)a, argv, sink ? sink : err, err);
    if (sink)
        fclose(sink);
    free(argv);
    return rc;
}

int cli_check_tolerance_metrics(const struct scenario *s, FILE *err)
{
    int code = SIM_EXIT_OK;
    for (size_t i = 0; i < s->check.n_tolerances; i++) {
        const struct scenario_tolerance *t = &s->check.tolerances[i];
        if (report_check_metric_find(t->metric) >= 0)
            continue;
        fprintf(err, "%s:%u:%u: check.tolerances: unknown metric \"%s\" (one of:", t->pos.src,
                t->pos.line, t->pos.col, t->metric);
        for (int m = 0; m < REPORT_CHECK_N_METRICS; m++)
            fprintf(err, " %s", report_metrics[report_check_metrics[m].metric].column);
        fprintf(err, ")\n");
        code = SIM_EXIT_USAGE;
    }
    return code;
}

/* Loads path with the --set arguments and checks its tolerances' metric names. */
static int load_scenario(const char *path, const struct check_options *o, struct scenario *s,
                         FILE *err)
{
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = scenario_load(path, &fleet_settings_schema, o->sets, o->n_sets, s, &d);
    if (rc != 0) {
        fprintf(err, "%s", d.text);
        return rc == SIM_ENOMEM ? SIM_EXIT_INTERNAL : SIM_EXIT_USAGE;
    }
    if (cli_check_tolerance_metrics(s, err) != SIM_EXIT_OK) {
        scenario_fini(s);
        return SIM_EXIT_USAGE;
    }
    return SIM_EXIT_OK;
}

/* Each line of text, indented, to f. */
static void print_lines(FILE *f, const char *indent, const char *text)
{
    for (const char *p = text; *p != '\0';) {
        size_t n = strcspn(p, "\n");
        fprintf(f, "%s%.*s\n", indent, (int)n, p);
        p += n + (p[n] == '\n');
    }
}

/* The baseline's settings against this run's: SIM_EXIT_OK, with what differs in
 * sc->notes (printed to out as notes), or SIM_EXIT_USAGE after saying why on err. */
static int check_settings(const struct report_baseline *b,
                          const struct report_baseline_settings *now, const struct check_options *o,
                          struct check_scenario *sc, FILE *out, FILE *err)
{
    struct sim_diag d;
    sim_diag_init(&d);
    unsigned diff = report_baseline_settings_diff(b, now, &d);
    if (diff == 0)
        return SIM_EXIT_OK;
    const unsigned refuse = REPORT_SETTINGS_UNKNOWN | REPORT_SETTINGS_SETS | REPORT_SETTINGS_SEED;
    if ((diff & refuse) && !o->allow_changed) {
        fprintf(err,
                "dfusim check: %s: the baseline %s was made with other settings than this "
                "run:\n",
                sc->name, sc->baseline);
        print_lines(err, "  ", d.text);
        if (diff & REPORT_SETTINGS_UNKNOWN)
            fprintf(err, "Its numbers cannot be told apart from a run with other --set values. "
                         "Re-run with --update (with the --set options the baseline should "
                         "have), or pass --allow-changed-settings to compare anyway.\n");
        else
            fprintf(err, "The numbers would not be comparable. Run with the baseline's --set "
                         "and --seed options; or, if the new settings are meant, write a new "
                         "baseline with --update and these options; or pass "
                         "--allow-changed-settings to compare anyway.\n");
        return SIM_EXIT_USAGE;
    }
    sc->notes = strdup(d.text);
    if (sc->notes != NULL) {
        size_t n = strlen(sc->notes);
        if (n > 0 && sc->notes[n - 1] == '\n')
            sc->notes[n - 1] = '\0';
    }
    fprintf(out, "note: settings differ from the baseline's%s:\n",
            (diff & refuse) ? " (compared anyway: --allow-changed-settings)" : "");
    print_lines(out, "  ", d.text);
    if (diff & REPORT_SETTINGS_SCENARIO)
        fprintf(out,
                "  (every setting is in the fingerprint: a change that matters shows there)\n");
    return sc->notes != NULL ? SIM_EXIT_OK : SIM_EXIT_INTERNAL;
}

static struct check_scenario *add_scenario(struct check_results *r, const struct scenario *s,
                                           const char *path, const char *base_path)
{
    if (r->n_scenarios == r->cap_scenarios) {
        size_t cap = r->cap_scenarios ? 2 * r->cap_scenarios : 8;
        struct check_scenario *p = realloc(r->scenarios, cap * sizeof(*p));
        if (p == NULL)
            return NULL;
        r->scenarios = p;
        r->cap_scenarios = cap;
    }
    struct check_scenario *sc = &r->scenarios[r->n_scenarios];
    *sc = (struct check_scenario){.name = strdup(s->name),
                                  .path = strdup(path),
                                  .baseline = strdup(base_path),
                                  .seed = s->seed,
                                  .first = r->n};
    if (sc->name == NULL || sc->path == NULL || sc->baseline == NULL ||
        report_baseline_sha256(s->text, s->text_len, sc->sha256) != 0) {
        free(sc->name);
        free(sc->path);
        free(sc->baseline);
        return NULL;
    }
    r->n_scenarios++;
    return sc;
}

/* One scenario: check the baseline's settings, run, summarise, fingerprint, then update or
 * compare. */
static int check_one(const char *path, const char *tmp, const struct check_options *o,
                     struct check_results *r, FILE *out, FILE *err)
{
    double t0 = now_s();
    struct scenario s;
    int code = load_scenario(path, o, &s, err);
    if (code != SIM_EXIT_OK)
        return code;
    char db[4096], base_path[4096], msg[1024], fp[REPORT_FINGERPRINT_HEX];
    struct report_summary *sum = NULL;
    struct report_baseline b = {0};
    struct sim_diag d;
    sim_diag_init(&d);
    if (snprintf(db, sizeof(db), "%s/%s.db", tmp, s.name) >= (int)sizeof(db) ||
        snprintf(base_path, sizeof(base_path), "%s/%s.csv", o->baseline, s.name) >=
            (int)sizeof(base_path)) {
        fprintf(err, "dfusim check: %s: path too long\n", o->baseline);
        code = SIM_EXIT_USAGE;
        goto done;
    }
    struct check_scenario *sc = add_scenario(r, &s, path, base_path);
    if (sc == NULL) {
        code = SIM_EXIT_INTERNAL;
        goto done;
    }
    struct report_baseline_settings now = {
        .version = DFUSIM_VERSION, .seed = s.seed, .n_sets = o->n_sets, .sets = o->sets};
    memcpy(now.scenario_sha256, sc->sha256, REPORT_FINGERPRINT_HEX);
    int rc;
    if (!o->update) { /* the baseline first: no run when it cannot be compared */
        rc = report_baseline_load(base_path, &b, &d);
        if (rc != 0) {
            fprintf(err, "dfusim check: %s", d.text);
            if (rc == SIM_ENOENT)
                fprintf(err, "dfusim check: no baseline for %s; write one with --update\n", s.name);
            code = rc == SIM_ENOMEM ? SIM_EXIT_INTERNAL : SIM_EXIT_USAGE;
            goto done;
        }
        code = check_settings(&b, &now, o, sc, out, err);
        if (code != SIM_EXIT_OK)
            goto done;
    }
    code = cli_run_quiet(path, db, o->sets, o->n_sets, err);
    if (code != SIM_EXIT_OK)
        goto done;
    if (report_completeness_warn(db, NULL, err) != 0) { /* every planned run, or a failure */
        fprintf(err, "dfusim check: %s: FAILED: not every planned run finished\n", s.name);
        code = SIM_EXIT_REGRESSION;
        goto done;
    }
    rc = report_summary_load(db, NULL, &sum, msg, sizeof(msg));
    if (rc == 0)
        rc = report_fingerprint(db, fp, msg, sizeof(msg));
    if (rc != 0) {
        fprintf(err, "dfusim check: %s\n", msg);
        code = SIM_EXIT_INTERNAL;
        goto done;
    }
    if (o->update && cli_refuse_input_as_output("check", "--update", base_path,
                                                (const char *const *)&path, 1, NULL, err) != 0) {
        code = SIM_EXIT_USAGE;
        goto done;
    }
    if (o->update) {
        double tol[REPORT_CHECK_N_METRICS][2];
        scenario_tolerances(&s, tol);
        rc = report_baseline_write(base_path, sum, (const double(*)[2])tol, &now, fp, &d);
        if (rc != 0) {
            fprintf(err, "dfusim check: %s", d.text);
            code = SIM_EXIT_USAGE;
        } else {
            fprintf(out,
                    "%s: baseline written to %s (fingerprint %.12s, seed %" PRIu64 ", %zu "
                    "override%s)\n",
                    s.name, base_path, fp, s.seed, o->n_sets, o->n_sets == 1 ? "" : "s");
        }
        goto done;
    }
    if (compare(&s, sum, &b, fp, o->ignore_fingerprint, (size_t)(sc - r->scenarios), r) != 0) {
        code = SIM_EXIT_INTERNAL;
        goto done;
    }
    sc = &r->scenarios[r->n_scenarios - 1];
    sc->n_cases = r->n - sc->first;
    for (size_t i = sc->first; i < r->n; i++)
        sc->n_failed += r->cases[i].failed;
    r->n_failed += sc->n_failed;
    sc->time_s = now_s() - t0;
    const struct check_case *fpc = &r->cases[r->n - 1];
    fprintf(out, "%s (%s, baseline %s)\n", s.name, path, base_path);
    print_table(r, sc->first, out);
    if (fpc->verdict == CHECK_FP_SAME)
        fprintf(out, "fingerprint: same (%.12s)\n", fp);
    else
        fprintf(out,
                "fingerprint: CHANGED (baseline %.12s, now %.12s): the results differ from the "
                "baseline%s\n",
                b.fingerprint, fp,
                sc->n_failed == (size_t)fpc->failed
                    ? ", even though every metric is inside its tolerance"
                    : "");
    fprintf(out, "%s: %s (%.1f s)\n\n", s.name,
            sc->n_failed == 0 ? "ok" : "REGRESSION (see WORSE/NEW/GONE/CHANGED above)", sc->time_s);
done:
    report_baseline_fini(&b);
    report_summary_free(sum);
    scenario_fini(&s);
    return code;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char p[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) < (int)sizeof(p))
            (void)unlink(p);
    }
    closedir(d);
    (void)rmdir(dir);
}

static void options_fini(struct check_options *o)
{
    for (size_t i = 0; i < o->n_seed_args; i++)
        free(o->seed_args[i]);
    free(o->seed_args);
    free(o->sets);
}

enum { OPT_JSON = 256, OPT_SEED, OPT_ALLOW_CHANGED };

static int parse_options(int argc, char **argv, struct check_options *o, FILE *out, FILE *err)
{
    static const struct option longopts[] = {
        {"baseline", required_argument, NULL, 'b'},
        {"update", no_argument, NULL, 'u'},
        {"junit", required_argument, NULL, 'J'},
        {"json", required_argument, NULL, OPT_JSON},
        {"set", required_argument, NULL, 's'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"keep", no_argument, NULL, 'k'},
        {"ignore-fingerprint", no_argument, NULL, 'I'},
        {"allow-changed-settings", no_argument, NULL, OPT_ALLOW_CHANGED},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    o->sets = calloc((size_t)argc + 1, sizeof(*o->sets));
    o->seed_args = calloc((size_t)argc + 1, sizeof(*o->seed_args));
    if (o->sets == NULL || o->seed_args == NULL)
        return SIM_EXIT_INTERNAL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":b:uJ:s:kh", longopts, NULL)) != -1) {
        if (c == 'b') {
            o->baseline = optarg;
        } else if (c == 'u') {
            o->update = true;
        } else if (c == 'J') {
            o->junit = optarg;
        } else if (c == OPT_JSON) {
            o->json = optarg;
        } else if (c == 's') {
            o->sets[o->n_sets++] = optarg;
        } else if (c == OPT_SEED) {
            size_t n = strlen(optarg) + 6;
            char *a = malloc(n);
            if (a == NULL)
                return SIM_EXIT_INTERNAL;
            snprintf(a, n, "seed=%s", optarg);
            o->seed_args[o->n_seed_args++] = a;
            o->sets[o->n_sets++] = a;
        } else if (c == 'k') {
            o->keep = true;
        } else if (c == 'I') {
            o->ignore_fingerprint = true;
        } else if (c == OPT_ALLOW_CHANGED) {
            o->allow_changed = true;
        } else if (c == 'h') {
            fputs(check_usage, out);
            return -1;
        } else {
            return cli_option_error(err, "check", c, argv);
        }
    }
    if (o->baseline == NULL || optind == argc) {
        fprintf(err, "dfusim check: %s (see dfusim check --help)\n",
                o->baseline == NULL ? "--baseline DIR is required" : "no scenario given");
        return SIM_EXIT_USAGE;
    }
    if (o->update && (o->json != NULL || o->junit != NULL)) {
        fprintf(err, "dfusim check: --update writes baselines and compares nothing; --junit "
                     "and --json need a comparison (leave them out with --update)\n");
        return SIM_EXIT_USAGE;
    }
    return SIM_EXIT_OK;
}

int cli_check(int argc, char **argv, FILE *out, FILE *err)
{
    struct check_options o = {0};
    int code = parse_options(argc, argv, &o, out, err);
    if (code != SIM_EXIT_OK) {
        options_fini(&o);
        return code < 0 ? SIM_EXIT_OK : code;
    }
    /* --junit and --json must not be a scenario or a baseline (issue 13, D2). */
    if (cli_refuse_input_as_output("check", "--junit", o.junit, (const char *const *)argv + optind,
                                   (size_t)(argc - optind), o.baseline, err) != 0 ||
        cli_refuse_input_as_output("check", "--json", o.json, (const char *const *)argv + optind,
                                   (size_t)(argc - optind), o.baseline, err) != 0) {
        options_fini(&o);
        return SIM_EXIT_USAGE;
    }
    /* with --json -, stdout carries the JSON alone and the table goes to stderr */
    FILE *human = o.json != NULL && strcmp(o.json, "-") == 0 ? err : out;
    const char *tmpdir = getenv("TMPDIR");
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s/dfusim-check-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (mkdtemp(tmp) == NULL) {
        fprintf(err, "dfusim check: %s: cannot create: %s\n", tmp, strerror(errno));
        options_fini(&o);
        return SIM_EXIT_INTERNAL;
    }
    double t0 = now_s();
    struct check_results r = {0};
    int first = optind;
    for (int i = first; i < argc && code == SIM_EXIT_OK; i++)
        code = check_one(argv[i], tmp, &o, &r, human, err);
    r.time_s = now_s() - t0;
    if (code == SIM_EXIT_OK && !o.update) {
        fprintf(human, "dfusim check: %zu of %zu checks failed (%.1f s)\n", r.n_failed, r.n,
                r.time_s);
        if (o.junit != NULL)
            code = write_junit(&r, &o, err);
        if (code == SIM_EXIT_OK && o.json != NULL)
            code = write_json(&r, &o, out, err);
        if (code == SIM_EXIT_OK && r.n_failed > 0)
            code = SIM_EXIT_REGRESSION;
    }
    if (o.keep)
        fprintf(human, "dfusim check: the runs' databases are in %s\n", tmp);
    else
        remove_dir(tmp);
    results_fini(&r);
    options_fini(&o);
    return code;
}
