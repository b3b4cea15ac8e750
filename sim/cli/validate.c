/* sim/cli/validate.c - `dfusim validate`: parse and check scenario files only. */
#include "models/fleet/world.h"
#include "models/fleet/settings.h"
#include "sim/cli/cli_int.h"
#include "sim/error.h"
#include "sim/scenario.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>

static const char validate_usage[] =
    "Usage: dfusim validate FILE... [--set KEY=VALUE ...]\n"
    "\n"
    "Parse and check scenario files without running them. Every problem is printed as\n"
    "FILE:LINE:COLUMN: key.path: what is wrong (what is allowed). Exit code 0 when all\n"
    "files are valid, 2 otherwise.\n"
    "\n"
    "Options:\n"
    "  -s, --set KEY=VALUE    apply an override first, as dfusim run does (repeatable)\n"
    "      --kconfig-verbose  also list each Kconfig option the simulator does not model\n"
    "  -h, --help             show this help\n"
    "\n"
    "A group with firmware.kconfig or mcuboot.kconfig gets a note per file: the settings\n"
    "its options set, those the scenario gives instead, and how many options the\n"
    "simulator does not model. Contradicting options are problems like any other, at\n"
    "FILE:LINE:COLUMN of the option.\n";

void cli_kconfig_notes(const struct scenario *s, bool verbose, FILE *out)
{
    struct sim_diag notes;
    sim_diag_init(&notes);
    (void)fleet_kconfig_describe(fleet_settings_of(s), s->path, verbose, &notes);
    if (notes.len == 0)
        return;
    fprintf(out, "%s: Kconfig:\n%s", s->path, notes.text);
    if (notes.n_dropped > 0)
        fprintf(out, "%s: %zu more Kconfig lines not shown\n", s->path, notes.n_dropped);
}

int cli_validate(int argc, char **argv, FILE *out, FILE *err)
{
    static const struct option longopts[] = {
        {"set", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {"kconfig-verbose", no_argument, NULL, 'K'},
        {NULL, 0, NULL, 0},
    };
    const char **overrides = calloc((size_t)argc + 1, sizeof(*overrides));
    if (overrides == NULL)
        return SIM_EXIT_INTERNAL;
    size_t n_overrides = 0;
    bool kconfig_verbose = false;
    int code = SIM_EXIT_OK;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":s:h", longopts, NULL)) != -1) {
        if (c == 's') {
            overrides[n_overrides++] = optarg;
            continue;
        }
        if (c == 'K') {
            kconfig_verbose = true;
            continue;
        }
        if (c == 'h') {
            fputs(validate_usage, out);
        } else {
            code = cli_option_error(err, "validate", c, argv);
        }
        goto done;
    }
    if (optind == argc) {
        fputs("dfusim validate: no scenario file given (see dfusim validate --help)\n", err);
        code = SIM_EXIT_USAGE;
        goto done;
    }
    for (int i = optind; i < argc; i++) {
        struct scenario s;
        struct sim_diag diag;
        sim_diag_init(&diag);
        if (scenario_load(argv[i], &fleet_settings_schema, overrides, n_overrides, &s, &diag) !=
            0) {
            fputs(diag.text, err);
            if (diag.n_dropped > 0)
                fprintf(err, "%s: %zu more problems not shown\n", argv[i], diag.n_dropped);
            code = SIM_EXIT_USAGE;
            continue;
        }
        /* Every sweep point, as dfusim run checks them before its first run. */
        bool bad = fleet_world_check(&s, &diag) != 0;
        for (size_t p = 1; p < s.n_points && !bad; p++) {
            struct scenario sp;
            if (scenario_load_point(s.path, &fleet_settings_schema, s.text, s.text_len, overrides,
                                    n_overrides, p, &sp, &diag) != 0) {
                bad = true;
            } else {
                bad = fleet_world_check(&sp, &diag) != 0;
                scenario_fini(&sp);
            }
            if (bad)
                fprintf(err, "%s: sweep point %zu:\n", argv[i], p);
        }
        if (cli_check_tolerance_metrics(&s, err) != SIM_EXIT_OK) /* as dfusim check does */
            bad = true;
        if (bad) {
            fputs(diag.text, err);
            code = SIM_EXIT_USAGE;
            scenario_fini(&s);
            continue;
        }
        const struct fleet_settings *fs = fleet_settings_of(&s);
        uint64_t devices = 0;
        for (size_t g = 0; g < fs->n_groups; g++)
            devices += fs->groups[g].count;
        cli_kconfig_notes(&s, kconfig_verbose, out);
        char refused[300];
        if (fleet_world_image_refused(&s, refused, sizeof(refused)))
            fprintf(out, "%s: note: the devices' MCUboot refuses image.file: %s\n", argv[i],
                    refused);
        fprintf(out, "%s: ok (%zu device group%s, %llu devices)\n", argv[i], fs->n_groups,
                fs->n_groups == 1 ? "" : "s", (unsigned long long)devices);
        scenario_fini(&s);
    }
done:
    free(overrides);
    return code;
}
