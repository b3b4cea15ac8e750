/* sim/cli/compare.c - `dfusim compare DB [DB2] [--a SPEC] [--b SPEC]`: rows of report
 * summaries side by side, with differences and Welch's t-test at 95 % (report/compare.h). */
#include "report/compare.h"
#include "report/completeness.h"
#include "sim/cli/cli_int.h"
#include "sim/error.h"

#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char compare_usage[] =
    "Usage: dfusim compare DB [DB2] [--a SPEC] [--b SPEC] [--csv FILE] [--json FILE]\n"
    "\n"
    "Compare rows of dfusim report (one per sweep point and device group) side by side:\n"
    "per metric A, B, B - A, the change in %, and whether the difference is significant at\n"
    "95 % (Welch's t-test across replications; n/a with fewer than 2 replications).\n"
    "\n"
    "  dfusim compare DB             per sweep point, every group against the point's\n"
    "                                direct-xip (else direct-xip-revert) group; without one,\n"
    "                                the first row against every other row\n"
    "  dfusim compare DB --a S --b S the row S of --a (A) against the row S of --b (B); with\n"
    "                                only one of them, that row against every other row\n"
    "  dfusim compare DB1 DB2        each row of DB1 (A) against the row of DB2 (B) with the\n"
    "                                same point number and group; --a selects in DB1 and --b\n"
    "                                in DB2 (either one alone selects in both)\n"
    "\n"
    "SPEC: comma-separated items, each key at most once:\n"
    "  group=NAME       the device group\n"
    "  point=N          sweep point N as dfusim report numbers it (1, 2, ...)\n"
    "  bootloader=MODE  the group's MCUboot mode\n"
    "e.g. --a group=mice,point=1 --b group=mice,point=3. A SPEC must select exactly one row.\n"
    "\n"
    "Options:\n"
    "  -a, --a SPEC        row A\n"
    "  -b, --b SPEC        row B\n"
    "  -c, --csv FILE      also write the comparison as CSV (one line per pair and metric;\n"
    "                      point numbers and runs as numbers); - : to stdout, alone\n"
    "  -j, --json FILE     also write it as JSON (per pair, a and b, then per metric); - :\n"
    "                      to stdout, alone\n"
    "  -h, --help          show this help\n"
    "\n"
    "Definitions: docs/results.md, sections \"dfusim report\" and \"dfusim compare\".\n"
    "Exit codes: 0 ok, 2 bad usage, a database that cannot be read, a SPEC that selects\n"
    "no row or several, or nothing to compare; 3 internal failure.\n";

static int oom(FILE *err)
{
    fprintf(err, "dfusim compare: out of memory\n");
    return SIM_EXIT_INTERNAL;
}

static int load(const char *path, struct report_summary **s, FILE *err)
{
    char msg[1024];
    int rc = report_summary_load(path, NULL, s, msg, sizeof(msg));
    if (rc != 0) {
        fprintf(err, "dfusim compare: %s\n", msg[0] ? msg : "cannot read the database");
        return rc == REPORT_ENOENT || rc == REPORT_EFORMAT ? SIM_EXIT_USAGE : SIM_EXIT_INTERNAL;
    }
    if ((*s)->n_rows == 0) {
        fprintf(err, "dfusim compare: %s: no complete run to compare\n", path);
        return SIM_EXIT_USAGE;
    }
    return SIM_EXIT_OK;
}

/* The row of s that spec selects, in *row. opt ("--a") and db name it in messages. */
static int select_row(const struct report_summary *s, const char *opt, const char *spec,
                      const char *db, const struct report_row **row, FILE *err)
{
    char msg[4096], what[512];
    struct report_select sel;
    int rc = report_select_parse(spec, &sel, msg, sizeof(msg));
    if (rc == REPORT_ENOMEM)
        return oom(err);
    if (rc != 0) {
        fprintf(err, "dfusim compare: %s %s (see dfusim compare --help)\n", opt, msg);
        return SIM_EXIT_USAGE;
    }
    snprintf(what, sizeof(what), "%s: %s %s", db, opt, spec);
    size_t i = 0;
    rc = report_select_find(s, &sel, what, &i, msg, sizeof(msg));
    report_select_fini(&sel);
    if (rc != 0) {
        fprintf(err, "dfusim compare: %s\n", msg);
        return SIM_EXIT_USAGE;
    }
    *row = &s->rows[i];
    return SIM_EXIT_OK;
}

/* Pairs of one database with at most one of spec_a / spec_b: that row against every other
 * row; with neither the default pairs. */
static int one_db_pairs(const struct report_summary *s, const char *db, const char *spec_a,
                        const char *spec_b, struct report_pair **pairs, size_t *n, FILE *err)
{
    *pairs = NULL;
    *n = 0;
    if (spec_a == NULL && spec_b == NULL)
        return report_compare_default_pairs(s, pairs, n) == 0 ? SIM_EXIT_OK : oom(err);
    const struct report_row *fixed = NULL;
    int code = select_row(s, spec_a ? "--a" : "--b", spec_a ? spec_a : spec_b, db, &fixed, err);
    if (code != SIM_EXIT_OK)
        return code;
    *pairs = calloc(s->n_rows, sizeof(**pairs));
    if (*pairs == NULL)
        return oom(err);
    for (size_t i = 0; i < s->n_rows; i++) {
        if (&s->rows[i] == fixed)
            continue;
        (*pairs)[(*n)++] = spec_a ? (struct report_pair){fixed, &s->rows[i]}
                                  : (struct report_pair){&s->rows[i], fixed};
    }
    return SIM_EXIT_OK;
}

/* Builds the pairs to compare from the loaded summaries (sb NULL with one database). */
static int make_pairs(const struct report_summary *sa, const struct report_summary *sb,
                      const char *db_a, const char *db_b, const char *spec_a, const char *spec_b,
                      struct report_pair **pairs, size_t *n, FILE *err)
{
    *pairs = NULL;
    *n = 0;
    if (sb == NULL && (spec_a == NULL || spec_b == NULL))
        return one_db_pairs(sa, db_a, spec_a, spec_b, pairs, n, err);
    if (spec_a == NULL && spec_b == NULL) { /* two databases, row by row */
        size_t unmatched = 0;
        if (report_compare_match_pairs(sa, sb, pairs, n, &unmatched) != 0)
            return oom(err);
        if (unmatched > 0)
            fprintf(err,
                    "dfusim compare: note: %zu row%s without a partner (same point number and "
                    "group) in the other database, left out\n",
                    unmatched, unmatched == 1 ? "" : "s");
        return SIM_EXIT_OK;
    }
    const struct report_row *a = NULL, *b = NULL;
    int code = select_row(sa, "--a", spec_a ? spec_a : spec_b, db_a, &a, err);
    if (code == SIM_EXIT_OK)
        code = select_row(sb ? sb : sa, "--b", spec_b ? spec_b : spec_a, sb ? db_b : db_a, &b, err);
    if (code != SIM_EXIT_OK)
        return code;
    *pairs = malloc(sizeof(**pairs));
    if (*pairs == NULL)
        return oom(err);
    (*pairs)[0] = (struct report_pair){a, b};
    *n = 1;
    return SIM_EXIT_OK;
}

typedef int (*compare_writer)(const struct report_pair *, size_t, const char *, const char *,
                              FILE *);

/* The comparison written by fn into path ("-": out). */
static int write_pairs(const struct report_pair *pairs, size_t n, const char *db_a,
                       const char *db_b, const char *path, compare_writer fn, FILE *out, FILE *err)
{
    FILE *f = cli_output_open("compare", path, out, err);
    return f == NULL ? SIM_EXIT_USAGE
                     : cli_output_close("compare", path, f, out, fn(pairs, n, db_a, db_b, f), err);
}

int cli_compare(int argc, char **argv, FILE *out, FILE *err)
{
    static const struct option longopts[] = {
        {"a", required_argument, NULL, 'a'},   {"b", required_argument, NULL, 'b'},
        {"csv", required_argument, NULL, 'c'}, {"json", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
    };
    const char *csv = NULL, *json = NULL, *spec_a = NULL, *spec_b = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":a:b:c:j:h", longopts, NULL)) != -1) {
        if (c == 'a') {
            spec_a = optarg;
        } else if (c == 'b') {
            spec_b = optarg;
        } else if (c == 'c') {
            csv = optarg;
        } else if (c == 'j') {
            json = optarg;
        } else if (c == 'h') {
            fputs(compare_usage, out);
            return SIM_EXIT_OK;
        } else {
            return cli_option_error(err, "compare", c, argv);
        }
    }
    int n_db = argc - optind;
    if (n_db < 1 || n_db > 2) {
        fprintf(err, "dfusim compare: %s (see dfusim compare --help)\n",
                n_db < 1 ? "no database given" : "one or two databases, not more");
        return SIM_EXIT_USAGE;
    }
    const char *db_a = argv[optind], *db_b = n_db == 2 ? argv[optind + 1] : NULL;
    const char *inputs[] = {db_a, db_b};
    if (cli_refuse_input_as_output("compare", "--csv", csv, inputs, 2, NULL, err) != 0 ||
        cli_refuse_input_as_output("compare", "--json", json, inputs, 2, NULL, err) != 0)
        return SIM_EXIT_USAGE;
    /* "-" puts CSV or JSON alone on stdout; the table then stays out of the way */
    bool table =
        !(csv != NULL && strcmp(csv, "-") == 0) && !(json != NULL && strcmp(json, "-") == 0);
    struct report_summary *sa = NULL, *sb = NULL;
    struct report_pair *pairs = NULL;
    size_t n = 0;
    int code = load(db_a, &sa, err);
    if (code == SIM_EXIT_OK && db_b != NULL)
        code = load(db_b, &sb, err);
    for (int i = 0; i < 2 && code == SIM_EXIT_OK; i++) /* a cut-short sweep says so */
        if (inputs[i] != NULL)
            (void)report_completeness_warn(inputs[i], table ? out : NULL, err);
    if (code == SIM_EXIT_OK)
        code = make_pairs(sa, sb, db_a, db_b, spec_a, spec_b, &pairs, &n, err);
    if (code == SIM_EXIT_OK && n == 0) {
        fprintf(err, "dfusim compare: %s: nothing to compare (%s)\n", db_a,
                db_b ? "no point and group in both databases" : "only one sweep point and group");
        code = SIM_EXIT_USAGE;
    }
    /* Name the databases only when there are two. */
    const char *name_a = db_b ? db_a : NULL, *name_b = db_b;
    if (code == SIM_EXIT_OK && table && report_compare_print(pairs, n, name_a, name_b, out) != 0)
        code = oom(err);
    if (code == SIM_EXIT_OK && csv != NULL)
        code = write_pairs(pairs, n, name_a, name_b, csv, report_compare_write_csv, out, err);
    if (code == SIM_EXIT_OK && json != NULL)
        code = write_pairs(pairs, n, name_a, name_b, json, report_compare_write_json, out, err);
    free(pairs);
    report_summary_free(sa);
    report_summary_free(sb);
    return code;
}
