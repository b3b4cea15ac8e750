/* sim/cli/report.c - `dfusim report DB`: per sweep point and device group, the metrics of
 * report/summary.h with their 95 % confidence intervals, as a table and optionally CSV. */
#include "report/completeness.h"
#include "report/invariants.h"
#include "report/plot.h"
#include "report/summary.h"
#include "sim/cli/cli_int.h"
#include "sim/error.h"

#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char report_usage[] =
    "Usage: dfusim report DB [--csv FILE] [--json FILE] [--group NAME]\n"
    "                        [--plot FILE [--point N] [--by mode|group] [--panel LIST]]\n"
    "       dfusim report DB --invariants\n"
    "\n"
    "Summarise a results database written by dfusim run: per sweep point (runs whose\n"
    "settings are equal except the seed, numbered from 1) and device group: devices\n"
    "updated, failed and reverted; per device, the time from its first attempt to running\n"
    "the new image for good, attempts, downtime, kB sent and resent, retried requests; per\n"
    "upload, goodput (image bytes over upload time: resent bytes never count twice); per\n"
    "successful attempt and per swap, their durations; flash erases per upgrade; when\n"
    "50/90/95/100 % of the group were updated. Long durations are shown in min or h (the\n"
    "unit is in the label); CSV and JSON keep seconds.\n"
    "Each value is the mean across the point's replications, with the half-width of its\n"
    "Student-t 95 % confidence interval when there are two or more. Definitions:\n"
    "docs/results.md, sections \"Metrics\" and \"dfusim report\".\n"
    "\n"
    "Options:\n"
    "  -c, --csv FILE      also write the rows as tidy CSV: point number, one column per\n"
    "                      swept setting, group, board, bootloader, runs, then each metric\n"
    "                      and its _ci95 (units in the names); FILE - : to stdout, alone\n"
    "  -j, --json FILE     also write the rows as JSON (the same fields); - : stdout, alone\n"
    "  -g, --group NAME    only this device group (table, CSV and plots)\n"
    "  -p, --plot FILE     also draw, into FILE (.svg, .png or .pdf, with gnuplot), under a\n"
    "                      title naming the scenario and the sweep point(s): the CDF of\n"
    "                      per-device DFU time (cdf), fleet progress, % updated against time\n"
    "                      since the run's first attempt, mean across replications\n"
    "                      (progress), and, when one numeric setting is swept, the mean\n"
    "                      goodput kB/s against it with 95 % CI error bars (sweep). A curve\n"
    "                      is one group (or board + mode) at one sweep point, never pooled;\n"
    "                      one panel per point (and per board) when they would not fit\n"
    "  -P, --point N       plot only sweep point N (as numbered above, from 1)\n"
    "  -b, --by B          what one curve stands for: mode (default; the groups with the same\n"
    "                      board and bootloader mode, the legend says how many) or group\n"
    "  -n, --panel LIST    only these plots: a comma-separated list of cdf, progress, sweep\n"
    "                      (default all; sweep is left out when it cannot be drawn, unless\n"
    "                      it is the only one asked for)\n"
    "  -I, --invariants    check the invariants of the result database instead (docs/\n"
    "                      results.md, \"Invariants\"): each violation names its table and row;\n"
    "                      exit 1 when any is broken\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit codes: 0 ok, 2 bad usage or not a readable dfusim database, 3 internal failure.\n";

/* s written by fn into path ("-": out). */
static int write_rows(const struct report_summary *s, const char *path,
                      int (*fn)(const struct report_summary *, FILE *), FILE *out, FILE *err)
{
    FILE *f = cli_output_open("report", path, out, err);
    return f == NULL ? SIM_EXIT_USAGE : cli_output_close("report", path, f, out, fn(s, f), err);
}

/* --invariants: report/invariants.h over the whole database. */
static int check_invariants(const char *db_path, FILE *out, FILE *err)
{
    sqlite3 *db = NULL;
    if (access(db_path, R_OK) != 0 ||
        sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(err, "dfusim report: %s: cannot open\n", db_path);
        sqlite3_close(db);
        return SIM_EXIT_USAGE;
    }
    long bad = report_invariants_check(db, out, 50);
    sqlite3_close(db);
    if (bad < 0) {
        fprintf(err, "dfusim report: %s: not a dfusim results database of this version\n", db_path);
        return SIM_EXIT_USAGE;
    }
    fprintf(out, "%s: %ld invariant violation%s\n", db_path, bad, bad == 1 ? "" : "s");
    return bad > 0 ? SIM_EXIT_REGRESSION : SIM_EXIT_OK;
}

/* The figure of db (its summary s) into path. */
static int write_plots(const char *db_path, const struct report_summary *s, const char *path,
                       const struct report_plot_options *o, FILE *err)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(err, "dfusim report: %s: %s\n", db_path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return SIM_EXIT_USAGE;
    }
    struct report_figure *fig = malloc(sizeof(*fig));
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = fig != NULL ? report_plot_build(db, s, o, fig, &d) : SIM_ENOMEM;
    if (rc == 0) {
        rc = report_plot_write_figure(fig, path, &d);
        report_figure_fini(fig);
    }
    free(fig);
    sqlite3_close(db);
    if (rc != 0) {
        fprintf(err, "dfusim report: %s: %s", path, d.len > 0 ? d.text : "cannot plot\n");
        return rc == SIM_ENOMEM ? SIM_EXIT_INTERNAL : SIM_EXIT_USAGE;
    }
    return SIM_EXIT_OK;
}

/* "cdf,progress" -> REPORT_PANEL_* bits; 0 for a bad list. */
static unsigned parse_panels(const char *list)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"cdf", REPORT_PANEL_CDF},
                 {"progress", REPORT_PANEL_PROGRESS},
                 {"sweep", REPORT_PANEL_SWEEP},
                 {"all", REPORT_PANEL_ALL}};
    unsigned bits = 0;
    for (const char *p = list;; p++) {
        size_t n = strcspn(p, ",");
        size_t i = 0;
        while (i < sizeof(names) / sizeof(names[0]) &&
               !(strlen(names[i].name) == n && strncmp(names[i].name, p, n) == 0))
            i++;
        if (i == sizeof(names) / sizeof(names[0]))
            return 0;
        bits |= names[i].bit;
        p += n;
        if (*p == '\0')
            return bits;
    }
}

int cli_report(int argc, char **argv, FILE *out, FILE *err)
{
    static const struct option longopts[] = {
        {"csv", required_argument, NULL, 'c'},   {"json", required_argument, NULL, 'j'},
        {"group", required_argument, NULL, 'g'}, {"plot", required_argument, NULL, 'p'},
        {"point", required_argument, NULL, 'P'}, {"by", required_argument, NULL, 'b'},
        {"panel", required_argument, NULL, 'n'}, {"invariants", no_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *csv = NULL, *json = NULL, *group = NULL, *plot = NULL;
    bool invariants = false;
    long point = 0;
    bool by_given = false, panel_given = false;
    struct report_plot_options po = {.by = REPORT_PLOT_BY_MODE, .panels = REPORT_PANEL_ALL};
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":c:j:g:p:P:b:n:Ih", longopts, NULL)) != -1) {
        char *end;
        if (c == 'c') {
            csv = optarg;
        } else if (c == 'j') {
            json = optarg;
        } else if (c == 'I') {
            invariants = true;
        } else if (c == 'g') {
            group = optarg;
        } else if (c == 'p') {
            plot = optarg;
        } else if (c == 'P') {
            errno = 0;
            point = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg || point < 1) {
                fprintf(err,
                        "dfusim report: --point: \"%s\" is not a sweep point number (1, 2, ...)\n",
                        optarg);
                return SIM_EXIT_USAGE;
            }
        } else if (c == 'b') {
            if (strcmp(optarg, "mode") != 0 && strcmp(optarg, "group") != 0) {
                fprintf(err, "dfusim report: --by: \"%s\" is not mode or group\n", optarg);
                return SIM_EXIT_USAGE;
            }
            by_given = true;
            po.by = optarg[0] == 'g' ? REPORT_PLOT_BY_GROUP : REPORT_PLOT_BY_MODE;
        } else if (c == 'n') {
            panel_given = true;
            po.panels = parse_panels(optarg);
            if (po.panels == 0) {
                fprintf(err,
                        "dfusim report: --panel: \"%s\" is not a list of cdf, progress, sweep "
                        "(or all)\n",
                        optarg);
                return SIM_EXIT_USAGE;
            }
        } else if (c == 'h') {
            fputs(report_usage, out);
            return SIM_EXIT_OK;
        } else {
            return cli_option_error(err, "report", c, argv);
        }
    }
    if (argc - optind != 1) {
        fprintf(err, "dfusim report: %s (see dfusim report --help)\n",
                optind == argc ? "no database given" : "one database at a time");
        return SIM_EXIT_USAGE;
    }
    if (invariants)
        return check_invariants(argv[optind], out, err);
    if (plot == NULL && (point != 0 || by_given || panel_given)) {
        fprintf(err, "dfusim report: --point, --by and --panel choose what --plot FILE draws: "
                     "give --plot FILE too\n");
        return SIM_EXIT_USAGE;
    }
    const char *input = argv[optind];
    if (cli_refuse_input_as_output("report", "--csv", csv, &input, 1, NULL, err) != 0 ||
        cli_refuse_input_as_output("report", "--json", json, &input, 1, NULL, err) != 0 ||
        cli_refuse_input_as_output("report", "--plot", plot, &input, 1, NULL, err) != 0)
        return SIM_EXIT_USAGE;
    enum report_plot_format fmt;
    if (plot != NULL && report_plot_format_of(plot, &fmt) != SIM_OK) {
        fprintf(err, "dfusim report: --plot %s: the file name must end in .svg, .png or .pdf\n",
                plot);
        return SIM_EXIT_USAGE;
    }
    char msg[1024];
    struct report_summary *s = NULL;
    int rc = report_summary_load(argv[optind], group, &s, msg, sizeof(msg));
    if (rc != 0) {
        fprintf(err, "dfusim report: %s\n", msg[0] ? msg : "cannot read the database");
        return rc == REPORT_ENOENT || rc == REPORT_EFORMAT ? SIM_EXIT_USAGE : SIM_EXIT_INTERNAL;
    }
    int code = SIM_EXIT_OK;
    /* "-" puts CSV or JSON alone on stdout; the table then stays out of the way */
    bool table =
        !(csv != NULL && strcmp(csv, "-") == 0) && !(json != NULL && strcmp(json, "-") == 0);
    /* a cut-short sweep says so */
    (void)report_completeness_warn(argv[optind], table ? out : NULL, err);
    if (s->n_rows == 0)
        fprintf(table ? out : err, "%s: no complete run to report\n", argv[optind]);
    else if (table && report_summary_print(s, out) != 0)
        code = SIM_EXIT_INTERNAL;
    if (code == SIM_EXIT_OK && csv != NULL)
        code = write_rows(s, csv, report_summary_write_csv, out, err);
    if (code == SIM_EXIT_OK && json != NULL)
        code = write_rows(s, json, report_summary_write_json, out, err);
    if (code == SIM_EXIT_OK && plot != NULL) {
        po.point = (size_t)point;
        po.group = group;
        code = write_plots(argv[optind], s, plot, &po, err);
    }
    report_summary_free(s);
    return code;
}
