/* sim/cli/cli.c - verb dispatch, --help and --version. */
#include "sim/cli/cli.h"

#include "sim/cli/cli_int.h"
#include "sim/error.h"
#include "sim/recorder.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

static const char usage_text[] =
    "Usage: dfusim COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Simulate firmware upgrades (MCUmgr/SMP over BLE, MCUboot) across device fleets.\n"
    "\n"
    "Commands:\n"
    "  run SCENARIO        run a YAML scenario and write results to SQLite\n"
    "  validate FILE...    parse and check scenario files without running them\n"
    "  explain --board B --size S\n"
    "                      per MCUboot mode: flash operations, swap time, downtime, wear\n"
    "  report DB           per sweep point and group: per-device time to updated, attempts,\n"
    "                      downtime; goodput; wear; fleet milestones, with 95 % confidence\n"
    "                      intervals; --csv FILE, --json FILE, --plot FILE\n"
    "  compare DB [DB2]    sweep points, groups or databases side by side: differences and\n"
    "                      Welch's t-test at 95 %; --a SPEC --b SPEC pick two rows\n"
    "  check SCENARIO... --baseline DIR\n"
    "                      run and compare with baselines; exit 1 on a regression\n"
    "  calibration SCENARIO...\n"
    "                      simulated against published figures (scenarios/validation/)\n"
    "  export DB TABLE     a table or view, filtered (--where), as CSV or JSON\n"
    "  keys [--markdown]   every scenario key: type, default, allowed values, meaning\n"
    "  list WHAT           what a scenario can name: boards, bootloaders or clients\n"
    "  serve SCENARIO      the scenario's devices answer real SMP clients over UDP\n"
    "                      (127.0.0.1:1337 and up), in modelled time\n"
    "\n"
    "Options:\n"
    "  -h, --help          show this help (also: dfusim COMMAND --help)\n"
    "  -V, --version       show the version and the result-schema version\n"
    "\n"
    "Exit codes: 0 ok, 1 a check found a regression, 2 bad usage or input,\n"
    "3 internal failure, 130 interrupted (the results database says 'interrupted').\n"
    "Scenario keys, units and defaults: dfusim keys (docs/scenario-reference.md); guides:\n"
    "docs/.\n";

int cli_option_error(FILE *err, const char *verb, int c, char **argv)
{
    const char *opt = argv[optind - 1];
    if (c == ':')
        fprintf(err, "dfusim %s: option '%s' needs a value (see dfusim %s --help)\n", verb, opt,
                verb);
    else
        fprintf(err, "dfusim %s: unknown option '%s' (see dfusim %s --help)\n", verb, opt, verb);
    return SIM_EXIT_USAGE;
}

FILE *cli_output_open(const char *verb, const char *path, FILE *out, FILE *err)
{
    if (strcmp(path, "-") == 0)
        return out;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        fprintf(err, "dfusim %s: %s: cannot write: %s\n", verb, path, strerror(errno));
    return f;
}

int cli_output_close(const char *verb, const char *path, FILE *f, FILE *out, int rc, FILE *err)
{
    if ((f == out ? fflush(f) : fclose(f)) != 0 || rc != 0) {
        fprintf(err, "dfusim %s: %s: write failed\n", verb, path);
        return SIM_EXIT_USAGE;
    }
    return SIM_EXIT_OK;
}

int cli_main(int argc, char **argv, FILE *out, FILE *err)
{
    if (argc < 2) {
        fputs(usage_text, err);
        return SIM_EXIT_USAGE;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "help") == 0) {
        fputs(usage_text, out);
        return SIM_EXIT_OK;
    }
    if (strcmp(verb, "-V") == 0 || strcmp(verb, "--version") == 0) {
        fprintf(out, "dfusim %s (result schema %d)\n", DFUSIM_VERSION, RECORDER_SCHEMA_VERSION);
        return SIM_EXIT_OK;
    }
    if (strcmp(verb, "run") == 0)
        return cli_run(argc - 1, argv + 1, out, err);
    if (strcmp(verb, "validate") == 0)
        return cli_validate(argc - 1, argv + 1, out, err);
    if (strcmp(verb, "explain") == 0)
        return cli_explain(argc - 1, argv + 1, out, err);
    if (strcmp(verb, "report") == 0)
        return cli_report(argc - 1, argv + 1, out, err);
    if (strcmp(verb, "compare") == 0)
        return cli_compare(argc - 1, argv + 1, out, err);
    if (strcmp(verb, "check") == 0)
        return cli_check(argc - 1, argv + 1, out, err);
    if (strcmp(verb, "calibration") == 0)
        return cli_calibration(argc - 1, argv + 1, out, err);
    if (strcmp(verb, "export") == 0)
        return cli_export(argc - 1, argv + 1, out, err);
    if (strcmp(verb, "keys") == 0)
        return cli_keys(argc - 1, argv + 1, out, err);
    if (strcmp(verb, "list") == 0)
        return cli_list(argc - 1, argv + 1, out, err);
    if (strcmp(verb, "serve") == 0)
        return cli_serve(argc - 1, argv + 1, out, err);
    fprintf(err,
            "dfusim: unknown command '%s' (commands: run, validate, explain, report, compare, "
            "check, calibration, export, keys, list, serve; see dfusim --help)\n",
            verb);
    return SIM_EXIT_USAGE;
}
