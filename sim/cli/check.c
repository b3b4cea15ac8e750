/* sim/cli/check.c - `dfusim check SCENARIO... --baseline DIR`: run each scenario, compare
 * chosen metrics (report/baseline.h) and the results' fingerprint (report/fingerprint.h)
 * with DIR/NAME.csv, print a table, optionally JUnit XML; exit 1 on a regression. */
#include "report/baseline.h"
#include "report/completeness.h"
#include "report/fingerprint.h"
#include "report/summary.h"
#include "report/table.h"
#include "sim/cli/cli_int.h"
#include "sim/error.h"
#include "sim/scenario.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char check_usage[] =
    "Usage: dfusim check SCENARIO... --baseline DIR [--update] [--junit FILE] [OPTIONS]\n"
    "\n"
    "Run each scenario and compare its metrics with the baseline DIR/NAME.csv (NAME from the\n"
    "scenario): devices updated and failed, upload kB/s, end-to-end time, downtime (swap),\n"
    "erases per upgrade, t50/t90/t100, per sweep point and device group; and the results'\n"
    "fingerprint (a SHA-256 over the recorded results), which shows any change of behaviour,\n"
    "even inside the tolerances. Tolerances: the scenario's check.tolerances, else the\n"
    "baseline's rel_tol/abs_tol columns. README.md, section \"Use in your CI\".\n"
    "\n"
    "Options:\n"
    "  -b, --baseline DIR     the baselines (required)\n"
    "  -u, --update           write the baselines from this run instead of comparing\n"
    "  -J, --junit FILE       also write JUnit XML: one testcase per metric and fingerprint\n"
    "  -s, --set KEY=VALUE    override a scenario value in every run (as dfusim run)\n"
    "      --ignore-fingerprint  report a changed fingerprint but do not fail on it\n"
    "  -k, --keep             keep the runs' databases (their directory is printed)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit codes: 0 no regression, 1 a metric got worse beyond its tolerance, a row is new or\n"
    "gone, or the fingerprint changed; 2 bad usage or input (a missing or corrupt baseline,\n"
    "a bad scenario); 3 internal failure.\n";

struct check_options {
    const char *baseline, *junit;
    const char **sets;
    size_t n_sets;
    bool update, keep, ignore_fingerprint;
};

/* One compared metric, for the table and JUnit. */
struct check_case {
    char scenario[72]; /* a copy: the scenario is freed before JUnit is written */
    char name[256];
    char base[32], now[32], change[32], verdict[24];
    bool failed;
};

struct check_results {
    size_t n, cap;
    struct check_case *cases;
    size_t n_failed;
};

static struct check_case *add_case(struct check_results *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        struct check_case *c = realloc(r->cases, cap * sizeof(*c));
        if (c == NULL)
            return NULL;
        r->cases = c;
        r->cap = cap;
    }
    memset(&r->cases[r->n], 0, sizeof(r->cases[0]));
    return &r->cases[r->n++];
}

static void fmt_value(char *buf, size_t n, double v)
{
    if (isnan(v))
        snprintf(buf, n, "-");
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

/* Compares one scenario's summary with its baseline into r; returns 0 or SIM_ENOMEM. */
static int compare(const struct scenario *s, const struct report_summary *sum,
                   struct report_baseline *b, const char *fingerprint, bool ignore_fp,
                   struct check_results *r)
{
    double tol[REPORT_CHECK_N_METRICS][2];
    scenario_tolerances(s, tol);
    static const char *const verdicts[] = {"ok", "better", "ok (worse, within)", "WORSE"};
    for (size_t i = 0; i < sum->n_rows; i++) {
        const struct report_row *row = &sum->rows[i];
        for (int m = 0; m < REPORT_CHECK_N_METRICS; m++) {
            struct check_case *c = add_case(r);
            if (c == NULL)
                return SIM_ENOMEM;
            const char *col = report_metrics[report_check_metrics[m].metric].column;
            snprintf(c->scenario, sizeof(c->scenario), "%s", s->name);
            snprintf(c->name, sizeof(c->name), "%s / %s / %s", row->point, row->group, col);
            double now = row->mean[report_check_metrics[m].metric];
            fmt_value(c->now, sizeof(c->now), now);
            struct report_baseline_row *br = NULL;
            for (size_t k = 0; k < b->n_rows && br == NULL; k++)
                if (b->rows[k].metric == m && strcmp(b->rows[k].point, row->point) == 0 &&
                    strcmp(b->rows[k].group, row->group) == 0)
                    br = &b->rows[k];
            if (br == NULL) {
                snprintf(c->verdict, sizeof(c->verdict), "NEW");
                c->failed = true;
                continue;
            }
            br->used = true;
            double rel = scenario_sets(s, m) ? tol[m][0] : br->rel_tol;
            double abs = scenario_sets(s, m) ? tol[m][1] : br->abs_tol;
            enum report_verdict v = report_check_compare(m, br->value, now, rel, abs);
            fmt_value(c->base, sizeof(c->base), br->value);
            fmt_change(c->change, sizeof(c->change), br->value, now);
            snprintf(c->verdict, sizeof(c->verdict), "%s", verdicts[v]);
            c->failed = v == REPORT_WORSE;
        }
    }
    for (size_t k = 0; k < b->n_rows; k++) {
        if (b->rows[k].used)
            continue;
        struct check_case *c = add_case(r);
        if (c == NULL)
            return SIM_ENOMEM;
        snprintf(c->scenario, sizeof(c->scenario), "%s", s->name);
        snprintf(c->name, sizeof(c->name), "%s / %s / %s", b->rows[k].point, b->rows[k].group,
                 report_metrics[report_check_metrics[b->rows[k].metric].metric].column);
        fmt_value(c->base, sizeof(c->base), b->rows[k].value);
        snprintf(c->now, sizeof(c->now), "-");
        snprintf(c->verdict, sizeof(c->verdict), "GONE");
        c->failed = true;
    }
    struct check_case *c = add_case(r);
    if (c == NULL)
        return SIM_ENOMEM;
    bool same = strcmp(b->fingerprint, fingerprint) == 0;
    snprintf(c->scenario, sizeof(c->scenario), "%s", s->name);
    snprintf(c->name, sizeof(c->name), "fingerprint");
    snprintf(c->base, sizeof(c->base), "%.12s", b->fingerprint);
    snprintf(c->now, sizeof(c->now), "%.12s", fingerprint);
    snprintf(c->verdict, sizeof(c->verdict), same ? "same" : "CHANGED");
    c->failed = !same && !ignore_fp;
    return 0;
}

static void print_table(const struct check_results *r, size_t from, FILE *out)
{
    struct report_table *t = report_table_new(5);
    if (t == NULL)
        return;
    const char *head[] = {"point / group / metric", "baseline", "now", "change", "verdict"};
    report_table_add_row(t, head);
    for (size_t i = from; i < r->n; i++) {
        const struct check_case *c = &r->cases[i];
        if (strcmp(c->name, "fingerprint") == 0)
            continue;
        const char *cells[] = {c->name, c->base, c->now, c->change, c->verdict};
        report_table_add_row(t, cells);
    }
    report_table_print(t, out);
    report_table_free(t);
}

static void xml_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

static int write_junit(const struct check_results *r, const char *path, FILE *err)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(err, "dfusim check: %s: cannot write: %s\n", path, strerror(errno));
        return SIM_EXIT_USAGE;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites name=\"dfusim check\" tests=\"%zu\" failures=\"%zu\">\n", r->n,
            r->n_failed);
    fprintf(f, "<testsuite name=\"dfusim check\" tests=\"%zu\" failures=\"%zu\">\n", r->n,
            r->n_failed);
    for (size_t i = 0; i < r->n; i++) {
        const struct check_case *c = &r->cases[i];
        fputs("<testcase classname=\"", f);
        xml_escaped(f, c->scenario);
        fputs("\" name=\"", f);
        xml_escaped(f, c->name);
        fputs("\"", f);
        if (!c->failed) {
            fputs("/>\n", f);
            continue;
        }
        fprintf(f, "><failure message=\"");
        xml_escaped(f, c->verdict);
        fputs(": baseline ", f);
        xml_escaped(f, c->base);
        fputs(", now ", f);
        xml_escaped(f, c->now);
        fputs(" ", f);
        xml_escaped(f, c->change);
        fputs("\"/></testcase>\n", f);
    }
    fputs("</testsuite>\n</testsuites>\n", f);
    if (fclose(f) != 0) {
        fprintf(err, "dfusim check: %s: write failed\n", path);
        return SIM_EXIT_USAGE;
    }
    return SIM_EXIT_OK;
}

/* Runs s (loaded from path) into db with the --set arguments, through `dfusim run -q`. */
static int run_scenario(const char *path, const char *db, const struct check_options *o, FILE *err)
{
    size_t n = 5 + 2 * o->n_sets;
    char **argv = calloc(n + 1, sizeof(*argv));
    if (argv == NULL)
        return SIM_EXIT_INTERNAL;
    size_t a = 0;
    argv[a++] = (char *)"run";
    argv[a++] = (char *)path;
    argv[a++] = (char *)"-q";
    argv[a++] = (char *)"-o";
    argv[a++] = (char *)db;
    for (size_t i = 0; i < o->n_sets; i++) {
        argv[a++] = (char *)"--set";
        argv[a++] = (char *)o->sets[i];
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
    int rc = scenario_load(path, o->sets, o->n_sets, s, &d);
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

/* One scenario: run, summarise, fingerprint, then update or compare. */
static int check_one(const char *path, const char *tmp, const struct check_options *o,
                     struct check_results *r, FILE *out, FILE *err)
{
    struct scenario s;
    int code = load_scenario(path, o, &s, err);
    if (code != SIM_EXIT_OK)
        return code;
    char db[4096], base_path[4096], msg[1024], fp[REPORT_FINGERPRINT_HEX];
    if (snprintf(db, sizeof(db), "%s/%s.db", tmp, s.name) >= (int)sizeof(db) ||
        snprintf(base_path, sizeof(base_path), "%s/%s.csv", o->baseline, s.name) >=
            (int)sizeof(base_path)) {
        fprintf(err, "dfusim check: %s: path too long\n", o->baseline);
        scenario_fini(&s);
        return SIM_EXIT_USAGE;
    }
    struct report_summary *sum = NULL;
    struct report_baseline b = {0};
    struct sim_diag d;
    sim_diag_init(&d);
    code = run_scenario(path, db, o, err);
    if (code != SIM_EXIT_OK)
        goto done;
    if (report_completeness_warn(db, NULL, err) != 0) { /* every planned run, or a failure */
        fprintf(err, "dfusim check: %s: FAILED: not every planned run finished\n", s.name);
        code = SIM_EXIT_REGRESSION;
        goto done;
    }
    int rc = report_summary_load(db, NULL, &sum, msg, sizeof(msg));
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
        rc = report_baseline_write(base_path, sum, (const double(*)[2])tol, fp, &d);
        if (rc != 0) {
            fprintf(err, "dfusim check: %s", d.text);
            code = SIM_EXIT_USAGE;
        } else {
            fprintf(out, "%s: baseline written to %s (fingerprint %.12s)\n", s.name, base_path, fp);
        }
        goto done;
    }
    rc = report_baseline_load(base_path, &b, &d);
    if (rc != 0) {
        fprintf(err, "dfusim check: %s", d.text);
        if (rc == SIM_ENOENT)
            fprintf(err, "dfusim check: no baseline for %s; write one with --update\n", s.name);
        code = rc == SIM_ENOMEM ? SIM_EXIT_INTERNAL : SIM_EXIT_USAGE;
        goto done;
    }
    size_t from = r->n;
    if (compare(&s, sum, &b, fp, o->ignore_fingerprint, r) != 0) {
        code = SIM_EXIT_INTERNAL;
        goto done;
    }
    size_t failed = 0;
    for (size_t i = from; i < r->n; i++)
        failed += r->cases[i].failed;
    r->n_failed += failed;
    const struct check_case *fpc = &r->cases[r->n - 1];
    fprintf(out, "%s (%s, baseline %s)\n", s.name, path, base_path);
    print_table(r, from, out);
    if (strcmp(fpc->verdict, "same") == 0)
        fprintf(out, "fingerprint: same (%.12s)\n", fp);
    else
        fprintf(out,
                "fingerprint: CHANGED (baseline %.12s, now %.12s): the results differ from the "
                "baseline%s\n",
                b.fingerprint, fp,
                failed == (size_t)fpc->failed ? ", even though every metric is inside its tolerance"
                                              : "");
    fprintf(out, "%s: %s\n\n", s.name,
            failed == 0 ? "ok" : "REGRESSION (see WORSE/NEW/GONE/CHANGED above)");
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

static int parse_options(int argc, char **argv, struct check_options *o, FILE *out, FILE *err)
{
    static const struct option longopts[] = {
        {"baseline", required_argument, NULL, 'b'}, {"update", no_argument, NULL, 'u'},
        {"junit", required_argument, NULL, 'J'},    {"set", required_argument, NULL, 's'},
        {"keep", no_argument, NULL, 'k'},           {"ignore-fingerprint", no_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    o->sets = calloc((size_t)argc + 1, sizeof(*o->sets));
    if (o->sets == NULL)
        return SIM_EXIT_INTERNAL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":b:uJ:s:kh", longopts, NULL)) != -1) {
        if (c == 'b')
            o->baseline = optarg;
        else if (c == 'u')
            o->update = true;
        else if (c == 'J')
            o->junit = optarg;
        else if (c == 's')
            o->sets[o->n_sets++] = optarg;
        else if (c == 'k')
            o->keep = true;
        else if (c == 'I')
            o->ignore_fingerprint = true;
        else if (c == 'h') {
            fputs(check_usage, out);
            return -1;
        } else
            return cli_option_error(err, "check", c, argv);
    }
    if (o->baseline == NULL || optind == argc) {
        fprintf(err, "dfusim check: %s (see dfusim check --help)\n",
                o->baseline == NULL ? "--baseline DIR is required" : "no scenario given");
        return SIM_EXIT_USAGE;
    }
    return SIM_EXIT_OK;
}

int cli_check(int argc, char **argv, FILE *out, FILE *err)
{
    struct check_options o = {0};
    int code = parse_options(argc, argv, &o, out, err);
    if (code != SIM_EXIT_OK) {
        free(o.sets);
        return code < 0 ? SIM_EXIT_OK : code;
    }
    /* --junit must not be a scenario or a baseline (issue 13, D2). */
    if (cli_refuse_input_as_output("check", "--junit", o.junit, (const char *const *)argv + optind,
                                   (size_t)(argc - optind), o.baseline, err) != 0) {
        free(o.sets);
        return SIM_EXIT_USAGE;
    }
    const char *tmpdir = getenv("TMPDIR");
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s/dfusim-check-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (mkdtemp(tmp) == NULL) {
        fprintf(err, "dfusim check: %s: cannot create: %s\n", tmp, strerror(errno));
        free(o.sets);
        return SIM_EXIT_INTERNAL;
    }
    struct check_results r = {0};
    int first = optind;
    for (int i = first; i < argc && code == SIM_EXIT_OK; i++)
        code = check_one(argv[i], tmp, &o, &r, out, err);
    if (code == SIM_EXIT_OK && !o.update) {
        fprintf(out, "dfusim check: %zu of %zu checks failed\n", r.n_failed, r.n);
        if (o.junit != NULL)
            code = write_junit(&r, o.junit, err);
        if (code == SIM_EXIT_OK && r.n_failed > 0)
            code = SIM_EXIT_REGRESSION;
    }
    if (o.keep)
        fprintf(out, "dfusim check: the runs' databases are in %s\n", tmp);
    else
        remove_dir(tmp);
    free(r.cases);
    free(o.sets);
    return code;
}
