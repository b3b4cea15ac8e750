/* sim/cli/export.c - `dfusim export DB TABLE`: a table or view, filtered, as CSV or JSON. */
#include "report/export.h"
#include "report/summary.h"
#include "sim/cli/cli_int.h"
#include "sim/error.h"

#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>

static const char export_usage[] =
    "Usage: dfusim export DB TABLE [--where EXPR] [--columns LIST] [--json] [-o FILE]\n"
    "       dfusim export DB --list\n"
    "\n"
    "Write one table or view of a results database as CSV (the default; a header row, numbers\n"
    "unquoted, NULL empty) or JSON (an array of objects), for pandas, R or a spreadsheet.\n"
    "Views: v_devices (one row per device: time_to_updated_s, attempts, downtime_s, ...),\n"
    "v_attempts (goodput_kBps, attempt_s), v_mode_summary, v_fleet_progress; tables: runs,\n"
    "run_params, devices, dfu_attempts, swaps, outages, ... (docs/results.md).\n"
    "\n"
    "Options:\n"
    "  -w, --where EXPR    keep the rows where the SQL expression holds, e.g.\n"
    "                      \"group_name = 'mice' AND run_id = 2\"\n"
    "  -c, --columns LIST  only these columns, comma-separated, in this order\n"
    "  -j, --json          JSON instead of CSV\n"
    "  -o, --output FILE   write to FILE instead of stdout\n"
    "  -l, --list          list the tables and views\n"
    "  -h, --help          show this help\n"
    "\n"
    "Example: dfusim export results/swap-vs-xip.db v_devices --columns\n"
    "  group_name,bootloader,time_to_updated_s -o devices.csv; then in Python\n"
    "  pandas.read_csv('devices.csv').groupby('bootloader').time_to_updated_s.describe()\n"
    "\n"
    "Exit codes: 0 ok, 2 bad usage, not a readable database, unknown table or bad expression.\n";

int cli_export(int argc, char **argv, FILE *out, FILE *err)
{
    static const struct option longopts[] = {
        {"where", required_argument, NULL, 'w'},
        {"columns", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        {"list", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *where = NULL, *columns = NULL, *path = NULL;
    bool json = false, list = false;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":w:c:jo:lh", longopts, NULL)) != -1) {
        if (c == 'w')
            where = optarg;
        else if (c == 'c')
            columns = optarg;
        else if (c == 'j')
            json = true;
        else if (c == 'o')
            path = optarg;
        else if (c == 'l')
            list = true;
        else if (c == 'h') {
            fputs(export_usage, out);
            return SIM_EXIT_OK;
        } else
            return cli_option_error(err, "export", c, argv);
    }
    if (argc - optind != (list ? 1 : 2)) {
        fprintf(err, "dfusim export: %s (see dfusim export --help)\n",
                list ? "--list takes the database alone" : "give a database and a table or view");
        return SIM_EXIT_USAGE;
    }
    const char *db_path = argv[optind];
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(err, "dfusim export: %s: cannot open: %s\n", db_path,
                db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return SIM_EXIT_USAGE;
    }
    int code = SIM_EXIT_OK;
    if (list) {
        if (report_export_list(db, out) != 0) {
            fprintf(err, "dfusim export: %s: not a readable database: %s\n", db_path,
                    sqlite3_errmsg(db));
            code = SIM_EXIT_USAGE;
        }
        sqlite3_close(db);
        return code;
    }
    FILE *f = path != NULL ? fopen(path, "w") : out;
    if (f == NULL) {
        fprintf(err, "dfusim export: %s: cannot write: %s\n", path, strerror(errno));
        sqlite3_close(db);
        return SIM_EXIT_USAGE;
    }
    char msg[1024] = "";
    long rows = report_export(db, argv[optind + 1], columns, where,
                              json ? REPORT_EXPORT_JSON : REPORT_EXPORT_CSV, f, msg, sizeof(msg));
    if ((path != NULL ? fclose(f) : fflush(f)) != 0 && rows >= 0) {
        rows = REPORT_EIO;
        snprintf(msg, sizeof(msg), "write failed");
    }
    if (rows < 0) {
        fprintf(err, "dfusim export: %s: %s\n", path != NULL && rows == REPORT_EIO ? path : db_path,
                msg);
        code = rows == REPORT_ENOMEM ? SIM_EXIT_INTERNAL : SIM_EXIT_USAGE;
    }
    sqlite3_close(db);
    return code;
}
