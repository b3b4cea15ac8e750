/* sim/cli/calibration.c - `dfusim calibration SCENARIO...`: run each validation scenario and
 * set every published figure it lists under `measured` against what the model gives:
 * measured, simulated, ratio, verdict. A figure passes within its tolerance; one with a
 * known_gap is reported without failing, until it passes (then its known_gap must go, so
 * the list of gaps in docs/validation.md stays true). */
#include "models/fleet/settings.h"
#include "report/summary.h"
#include "sim/cli/cli_int.h"
#include "sim/error.h"
#include "sim/scenario.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char calibration_usage[] =
    "Usage: dfusim calibration SCENARIO... [--markdown FILE]\n"
    "\n"
    "Run each scenario (scenarios/validation/*.yaml) and compare the figures it lists under\n"
    "`measured` (published measurements, each with its source) with the simulated ones: one\n"
    "line per figure with the measured and simulated values, their ratio and the verdict:\n"
    "  ok          within the figure's tolerance (default 15 %)\n"
    "  known gap   outside it, for the reason the scenario gives (known_gap)\n"
    "  FAIL        outside it with no known gap\n"
    "  now ok      within it although a known gap is given: remove the known_gap\n"
    "A figure with `relative_to: GROUP` is a ratio measured on one setup (window 3 over\n"
    "window 1, say): its value and the simulated one are the metric of its group divided by\n"
    "the same metric of GROUP; the table shows it as `group / GROUP`.\n"
    "Each scenario runs at its own record level; a metric read from the chunks table\n"
    "(first_chunk_s_max) needs `record: chunks` in the scenario.\n"
    "\n"
    "Options:\n"
    "      --markdown FILE  also write the table as Markdown (docs/validation.md's table)\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit codes: 0 every figure ok or a known gap, 1 a FAIL or a 'now ok', 2 bad usage or\n"
    "input (an unknown metric or group), 3 internal failure.\n";

enum verdict { V_OK, V_KNOWN, V_FAIL, V_NOW_OK };
static const char *const verdict_text[] = {"ok", "known gap", "FAIL", "now ok"};

struct figure {
    char *file, *metric, *group, *relative_to, *source, *known_gap;
    double measured, simulated, ratio, tolerance;
    enum verdict verdict;
};

struct figures {
    size_t n, cap;
    struct figure *v;
};

static void figures_free(struct figures *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].file);
        free(f->v[i].metric);
        free(f->v[i].group);
        free(f->v[i].relative_to);
        free(f->v[i].source);
        free(f->v[i].known_gap);
    }
    free(f->v);
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static int metric_of(const char *column)
{
    for (int m = 0; m < REPORT_METRIC_COUNT; m++)
        if (strcmp(report_metrics[m].column, column) == 0)
            return m;
    return -1;
}

/* The row of group (NULL: the first row) in a summary of one sweep point. */
static const struct report_row *row_of(const struct report_summary *sum, const char *group)
{
    for (size_t i = 0; i < sum->n_rows; i++)
        if (group == NULL || strcmp(sum->rows[i].group, group) == 0)
            return &sum->rows[i];
    return NULL;
}

/* Names the scenario's figures use that the summary cannot give: 0 or SIM_EXIT_USAGE. */
static int check_names(const struct scenario *s, FILE *err)
{
    const struct fleet_settings *fs = fleet_settings_of(s);
    int code = SIM_EXIT_OK;
    if (s->n_sweep > 0 && s->n_measured > 0) {
        fprintf(err, "%s: measured: a scenario with figures has no sweep (one point)\n", s->path);
        code = SIM_EXIT_USAGE;
    }
    for (size_t i = 0; i < s->n_measured; i++) {
        const struct scenario_measured *m = &s->measured[i];
        int metric = metric_of(m->metric);
        if (metric < 0) {
            fprintf(err,
                    "%s:%u:%u: measured[%zu].metric: unknown metric \"%s\" (see dfusim "
                    "report --json for the columns)\n",
                    m->pos.src, m->pos.line, m->pos.col, i, m->metric);
            code = SIM_EXIT_USAGE;
        } else if (report_metrics[metric].needs_chunks && s->record != SCENARIO_RECORD_CHUNKS) {
            fprintf(err,
                    "%s:%u:%u: measured[%zu].metric: %s is read from the chunks table: the "
                    "scenario needs `record: chunks` (it has %s)\n",
                    m->pos.src, m->pos.line, m->pos.col, i, m->metric,
                    scenario_record_name(s->record));
            code = SIM_EXIT_USAGE;
        }
        const char *names[2] = {m->group, m->relative_to}, *keys[2] = {"group", "relative_to"};
        for (int k = 0; k < 2; k++) {
            bool found = names[k] == NULL;
            for (size_t g = 0; !found && g < fs->n_groups; g++)
                found = strcmp(fs->groups[g].name, names[k]) == 0;
            if (!found) {
                fprintf(err, "%s:%u:%u: measured[%zu].%s: %s is not a device group\n", m->pos.src,
                        m->pos.line, m->pos.col, i, keys[k], names[k]);
                code = SIM_EXIT_USAGE;
            }
        }
        if (m->relative_to != NULL &&
            strcmp(m->relative_to, m->group != NULL ? m->group : fs->groups[0].name) == 0) {
            fprintf(err,
                    "%s:%u:%u: measured[%zu].relative_to: %s is the figure's own group (a ratio "
                    "of a group to itself is 1)\n",
                    m->pos.src, m->pos.line, m->pos.col, i, m->relative_to);
            code = SIM_EXIT_USAGE;
        }
    }
    return code;
}

static int add_figure(struct figures *f, const char *file, const struct scenario_measured *m,
                      double simulated)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 16;
        struct figure *v = realloc(f->v, cap * sizeof(*v));
        if (v == NULL)
            return SIM_ENOMEM;
        f->v = v;
        f->cap = cap;
    }
    struct figure *x = &f->v[f->n++];
    *x = (struct figure){.file = strdup(file),
                         .metric = strdup(m->metric),
                         .group = dup_or_null(m->group),
                         .relative_to = dup_or_null(m->relative_to),
                         .source = strdup(m->source),
                         .known_gap = dup_or_null(m->known_gap),
                         .measured = m->value,
                         .simulated = simulated,
                         .tolerance = m->tolerance};
    x->ratio = m->value != 0 ? simulated / m->value : NAN;
    bool within = isfinite(x->ratio) && fabs(x->ratio - 1) <= m->tolerance + 1e-12;
    x->verdict = within ? (m->known_gap ? V_NOW_OK : V_OK) : (m->known_gap ? V_KNOWN : V_FAIL);
    return 0;
}

/* One scenario: load, run into dir, set its figures against the summary. */
static int one(const char *path, const char *dir, struct figures *f, FILE *err)
{
    struct scenario s;
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = scenario_load(path, &fleet_settings_schema, NULL, 0, &s, &d);
    if (rc != 0) {
        fprintf(err, "%s", d.text);
        return rc == SIM_ENOMEM ? SIM_EXIT_INTERNAL : SIM_EXIT_USAGE;
    }
    int code = check_names(&s, err);
    if (code == SIM_EXIT_OK && s.n_measured == 0)
        fprintf(err, "dfusim calibration: %s lists no measured figures\n", path);
    char db[4096];
    snprintf(db, sizeof(db), "%s/run.db", dir);
    if (code == SIM_EXIT_OK && s.n_measured > 0)
        code = cli_run_quiet(path, db, NULL, 0, err);
    struct report_summary *sum = NULL;
    char msg[512];
    if (code == SIM_EXIT_OK && s.n_measured > 0 &&
        report_summary_load(db, NULL, &sum, msg, sizeof(msg)) != REPORT_OK) {
        fprintf(err, "dfusim calibration: %s\n", msg);
        code = SIM_EXIT_INTERNAL;
    }
    for (size_t i = 0; code == SIM_EXIT_OK && i < s.n_measured; i++) {
        const struct scenario_measured *m = &s.measured[i];
        const struct report_row *row = row_of(sum, m->group);
        double v = row != NULL ? row->mean[metric_of(m->metric)] : NAN;
        if (m->relative_to != NULL) {
            const struct report_row *base = row_of(sum, m->relative_to);
            double b = base != NULL ? base->mean[metric_of(m->metric)] : NAN;
            v = b != 0 ? v / b : NAN; /* NaN when either is missing: the figure fails */
        }
        if (add_figure(f, path, m, v) != 0)
            code = SIM_EXIT_INTERNAL;
    }
    report_summary_free(sum);
    unlink(db);
    scenario_fini(&s);
    return code;
}

/* The group column: the group, "group / relative_to" for a ratio, "" for the first group. */
static void group_text(const struct figure *x, char *buf, size_t cap)
{
    if (x->relative_to != NULL)
        snprintf(buf, cap, "%s / %s", x->group ? x->group : "(first)", x->relative_to);
    else
        snprintf(buf, cap, "%s", x->group ? x->group : "");
}

static void print_table(const struct figures *f, FILE *out)
{
    fprintf(out, "%-40s %-22s %10s %10s %6s  %s\n", "scenario / group", "metric", "measured",
            "simulated", "ratio", "verdict");
    for (size_t i = 0; i < f->n; i++) {
        const struct figure *x = &f->v[i];
        const char *base = strrchr(x->file, '/') ? strrchr(x->file, '/') + 1 : x->file;
        char who[256], group[160];
        group_text(x, group, sizeof(group));
        snprintf(who, sizeof(who), "%s%s%s", base, group[0] ? " / " : "", group);
        fprintf(out, "%-40s %-22s %10.4g %10.4g %6.2f  %s (±%.0f %%)\n", who, x->metric,
                x->measured, x->simulated, x->ratio, verdict_text[x->verdict], x->tolerance * 100);
    }
}

/* A table cell: '|' would end it. */
static void cell(FILE *f, const char *s)
{
    fputc(' ', f);
    for (; *s; s++)
        fputs(*s == '|' ? "\\|" : (char[]){*s, 0}, f);
    fputs(" |", f);
}

static int write_markdown(const struct figures *f, FILE *md)
{
    fputs("| scenario | group | metric | measured | simulated | ratio | verdict | source |\n"
          "|---|---|---|---|---|---|---|---|\n",
          md);
    for (size_t i = 0; i < f->n; i++) {
        const struct figure *x = &f->v[i];
        char num[3][32], verdict[512];
        snprintf(num[0], sizeof(num[0]), "%.4g", x->measured);
        snprintf(num[1], sizeof(num[1]), "%.4g", x->simulated);
        snprintf(num[2], sizeof(num[2]), "%.2f", x->ratio);
        snprintf(verdict, sizeof(verdict), "%s (±%.0f %%)%s%s", verdict_text[x->verdict],
                 x->tolerance * 100, x->known_gap ? ": " : "", x->known_gap ? x->known_gap : "");
        fputc('|', md);
        char file[300];
        snprintf(file, sizeof(file), "`%s`", x->file);
        cell(md, file);
        char group[160];
        group_text(x, group, sizeof(group));
        cell(md, group[0] ? group : "-");
        cell(md, x->metric);
        for (int k = 0; k < 3; k++)
            cell(md, num[k]);
        cell(md, verdict);
        cell(md, x->source);
        fputc('\n', md);
    }
    return ferror(md) ? SIM_EIO : 0;
}

int cli_calibration(int argc, char **argv, FILE *out, FILE *err)
{
    static const struct option long_opts[] = {{"markdown", required_argument, NULL, 'm'},
                                              {"help", no_argument, NULL, 'h'},
                                              {NULL, 0, NULL, 0}};
    const char *markdown = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        if (c == 'm') {
            markdown = optarg;
        } else if (c == 'h') {
            fputs(calibration_usage, out);
            return SIM_EXIT_OK;
        } else {
            return cli_option_error(err, "calibration", c, argv);
        }
    }
    if (optind >= argc) {
        fprintf(err, "dfusim calibration: give at least one scenario (see dfusim calibration "
                     "--help)\n");
        return SIM_EXIT_USAGE;
    }
    char dir[] = "/tmp/dfusim-calibration-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        fprintf(err, "dfusim calibration: cannot make a temporary folder\n");
        return SIM_EXIT_INTERNAL;
    }
    struct figures f = {0};
    int code = SIM_EXIT_OK;
    for (int i = optind; i < argc && code == SIM_EXIT_OK; i++)
        code = one(argv[i], dir, &f, err);
    rmdir(dir);
    if (code == SIM_EXIT_OK) {
        print_table(&f, out);
        for (size_t i = 0; i < f.n; i++)
            if (f.v[i].verdict == V_FAIL || f.v[i].verdict == V_NOW_OK)
                code = SIM_EXIT_REGRESSION;
    }
    if (code != SIM_EXIT_USAGE && code != SIM_EXIT_INTERNAL && markdown != NULL) {
        FILE *md = cli_output_open("calibration", markdown, out, err);
        int wrc = md != NULL ? cli_output_close("calibration", markdown, md, out,
                                                write_markdown(&f, md), err)
                             : SIM_EXIT_USAGE;
        if (wrc != SIM_EXIT_OK)
            code = wrc;
    }
    figures_free(&f);
    return code;
}
