/* sim/cli/report.c - `dfusim report DB`: per sweep point and device group, the metrics of
 * report/summary.h with their 95 % confidence intervals, as a table and optionally CSV. */
#include "report/summary.h"
#include "sim/cli/cli_int.h"
#include "sim/error.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

static const char report_usage[] =
    "Usage: dfusim report DB [--csv FILE] [--group NAME]\n"
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

int cli_report(int argc, char **argv, FILE *out, FILE *err)
{
    static const struct option longopts[] = {
        {"csv", required_argument, NULL, 'c'},
        {"group", required_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *csv = NULL, *group = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":c:g:h", longopts, NULL)) != -1) {
        if (c == 'c') {
            csv = optarg;
        } else if (c == 'g') {
            group = optarg;
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
    char msg[1024];
    struct report_summary *s = NULL;
    int rc = report_summary_load(argv[optind], group, &s, msg, sizeof(msg));
    if (rc != 0) {
        fprintf(err, "dfusim report: %s\n", msg[0] ? msg : "cannot read the database");
        return rc == REPORT_ENOENT || rc == REPORT_EFORMAT ? SIM_EXIT_USAGE : SIM_EXIT_INTERNAL;
    }
    int code = SIM_EXIT_OK;
    if (s->n_rows == 0)
        fprintf(out, "%s: no complete run to report\n", argv[optind]);
    else if (report_summary_print(s, out) != 0)
        code = SIM_EXIT_INTERNAL;
    if (code == SIM_EXIT_OK && csv != NULL)
        code = write_csv(s, csv, err);
    report_summary_free(s);
    return code;
}
