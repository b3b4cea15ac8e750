/* sim/cli/report.c - `dfusim report DB`: per sweep point and device group, the metrics of
 * report/summary.h with their 95 % confidence intervals, as a table and optionally CSV. */
#include "report/completeness.h"
#include "report/plot.h"
#include "report/summary.h"
#include "sim/cli/cli_int.h"
#include "sim/error.h"

#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static const char report_usage[] =
    "Usage: dfusim report DB [--csv FILE] [--group NAME] [--plot FILE [--point N] [--by B]]\n"
    "\n"
    "Summarise a results database written by dfusim run: per sweep point (runs whose\n"
    "settings are equal except the seed) and device group, devices updated, failed and\n"
    "reverted; upload kB/s (mean, median, p5, p95); end-to-end time; downtime (reset, swap,\n"
    "app start); flash erases per upgrade; when 50/90/99/100 % of the group were updated.\n"
    "Each value is the mean across the point's replications, with the half-width of its\n"
    "Student-t 95 % confidence interval when there are two or more. Definitions: README.md,\n"
    "section \"dfusim report\".\n"
    "\n"
    "Options:\n"
    "  -c, --csv FILE      also write the rows as CSV (a header row; units in the names)\n"
    "  -g, --group NAME    only this device group\n"
    "  -p, --plot FILE     also draw, into FILE (.svg or .png, with gnuplot), the CDF of\n"
    "                      per-device DFU time, fleet progress (%% updated against time) and,\n"
    "                      when the runs sweep client.window, throughput against the window;\n"
    "                      one curve per bootloader mode (or group, --by group), pooled over\n"
    "                      the database's complete runs\n"
    "  -P, --point N       plot only sweep point N (as numbered above, from 1)\n"
    "  -b, --by B          mode (default) or group: what one curve stands for\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit codes: 0 ok, 2 bad usage or not a readable dfusim database, 3 internal failure.\n";

static int write_csv(const struct report_summary *s, const char *path, FILE *err)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(err, "dfusim report: %s: cannot write: %s\n", path, strerror(errno));
        return SIM_EXIT_USAGE;
    }
    int rc = report_summary_write_csv(s, f);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(err, "dfusim report: %s: write failed\n", path);
        return SIM_EXIT_USAGE;
    }
    return SIM_EXIT_OK;
}

/* The three plots of db into path; a plot without data (no client.window sweep) is left
 * out. point > 0: only the runs of that sweep point, through a temporary view that
 * shadows `runs` for this connection (SQLite resolves unqualified names in temp first). */
static int write_plots(const char *db_path, const char *path, long point, enum report_plot_by by,
                       FILE *err)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(err, "dfusim report: %s: %s\n", db_path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return SIM_EXIT_USAGE;
    }
    if (point > 0) {
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "CREATE TEMP VIEW runs AS SELECT * FROM main.runs WHERE sweep_point = %ld",
                 point - 1);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            fprintf(err, "dfusim report: --point: %s\n", sqlite3_errmsg(db));
            sqlite3_close(db);
            return SIM_EXIT_USAGE;
        }
    }
    struct report_plot plots[3];
    size_t n = 0;
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = 0;
    typedef int (*from_fn)(sqlite3 *, enum report_plot_by, struct report_plot *, struct sim_diag *);
    static const from_fn from[] = {report_plot_from_dfu_time, report_plot_from_progress};
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        rc = from[i](db, by, &plots[n], &d);
        n += rc == 0;
    }
    if (rc == 0) {
        struct sim_diag none;
        sim_diag_init(&none);
        /* Throughput against the window says something only when the window varies. */
        if (report_plot_from_throughput(db, NULL, by, &plots[n], &none) == 0) {
            bool varies = false;
            for (size_t k = 0; k < plots[n].n_series; k++)
                varies = varies || plots[n].series[k].n_points > 1;
            if (varies)
                n++;
            else
                report_plot_fini(&plots[n]);
        }
        rc = report_plot_write_many(plots, n, path, &d);
    }
    for (size_t i = 0; i < n; i++)
        report_plot_fini(&plots[i]);
    sqlite3_close(db);
    if (rc != 0) {
        fprintf(err, "dfusim report: %s: %s", path, d.len > 0 ? d.text : "cannot plot\n");
        return rc == SIM_ENOMEM ? SIM_EXIT_INTERNAL : SIM_EXIT_USAGE;
    }
    return SIM_EXIT_OK;
}

int cli_report(int argc, char **argv, FILE *out, FILE *err)
{
    static const struct option longopts[] = {
        {"csv", required_argument, NULL, 'c'},
        {"group", required_argument, NULL, 'g'},
        {"plot", required_argument, NULL, 'p'},
        {"point", required_argument, NULL, 'P'},
        {"by", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *csv = NULL, *group = NULL, *plot = NULL;
    long point = 0;
    enum report_plot_by by = REPORT_PLOT_BY_MODE;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":c:g:p:P:b:h", longopts, NULL)) != -1) {
        char *end;
        if (c == 'c') {
            csv = optarg;
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
            by = optarg[0] == 'g' ? REPORT_PLOT_BY_GROUP : REPORT_PLOT_BY_MODE;
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
    const char *input = argv[optind];
    if (cli_refuse_input_as_output("report", "--csv", csv, &input, 1, NULL, err) != 0 ||
        cli_refuse_input_as_output("report", "--plot", plot, &input, 1, NULL, err) != 0)
        return SIM_EXIT_USAGE;
    char msg[1024];
    struct report_summary *s = NULL;
    int rc = report_summary_load(argv[optind], group, &s, msg, sizeof(msg));
    if (rc != 0) {
        fprintf(err, "dfusim report: %s\n", msg[0] ? msg : "cannot read the database");
        return rc == REPORT_ENOENT || rc == REPORT_EFORMAT ? SIM_EXIT_USAGE : SIM_EXIT_INTERNAL;
    }
    int code = SIM_EXIT_OK;
    (void)report_completeness_warn(argv[optind], out, err); /* a cut-short sweep says so */
    if (s->n_rows == 0)
        fprintf(out, "%s: no complete run to report\n", argv[optind]);
    else if (report_summary_print(s, out) != 0)
        code = SIM_EXIT_INTERNAL;
    if (code == SIM_EXIT_OK && csv != NULL)
        code = write_csv(s, csv, err);
    if (code == SIM_EXIT_OK && plot != NULL)
        code = write_plots(argv[optind], plot, point, by, err);
    report_summary_free(s);
    return code;
}
