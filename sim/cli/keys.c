/* sim/cli/keys.c - `dfusim keys [--markdown]`: the scenario reference from the tables the
 * loader binds with; `dfusim list boards|bootloaders|clients`: what a scenario can name,
 * read from the models themselves (flash maps and chips, MCUboot modes, client profiles). */
#include "models/client/dfu.h"
#include "models/fleet/settings.h"
#include "models/flash/chip.h"
#include "models/flash/map.h"
#include "models/mcuboot/explain.h"
#include "sim/cli/cli_int.h"
#include "sim/error.h"
#include "sim/scenario.h"

#include <string.h>

static const char keys_usage[] =
    "Usage: dfusim keys [--markdown]\n"
    "\n"
    "Print every scenario key with its type, default, allowed values and meaning, from the\n"
    "tables the scenario loader binds with (so it is always what dfusim accepts). With\n"
    "--markdown, the Markdown of docs/scenario-reference.md.\n";

int cli_keys(int argc, char **argv, FILE *out, FILE *err)
{
    bool markdown = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--markdown") == 0) {
            markdown = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(keys_usage, out);
            return SIM_EXIT_OK;
        } else {
            fprintf(err, "dfusim keys: unknown argument '%s' (see dfusim keys --help)\n", argv[i]);
            return SIM_EXIT_USAGE;
        }
    }
    scenario_reference_write(out, &fleet_settings_schema, markdown);
    return ferror(out) ? SIM_EXIT_INTERNAL : SIM_EXIT_OK;
}

static const char list_usage[] =
    "Usage: dfusim list boards|bootloaders|clients\n"
    "\n"
    "What a scenario can name, one line each: boards (devices[].board: flash map and chips),\n"
    "bootloaders (devices[].bootloader: MCUboot upgrade modes), clients (client.kind: DFU\n"
    "client profiles).\n";

static void list_boards(FILE *out)
{
    for (int b = 0; b < FLASH_MAP_BOARD_COUNT; b++) {
        struct flash_map m;
        struct flash_chip c, s;
        if (flash_map_board((enum flash_map_board)b, &m) != 0 ||
            flash_chip_profile(m.primary.chip, &c) != 0 ||
            flash_chip_profile(m.secondary.chip, &s) != 0)
            continue;
        fprintf(out, "%-15s %s, slots of %u KiB in %u KiB sectors", m.board, c.name,
                m.primary.size / 1024, c.sector_size / 1024);
        if (m.secondary.chip != m.primary.chip)
            fprintf(out, ", secondary slot on %s", s.name);
        fprintf(out, "%s\n", c.needs_erase ? "" : " (RRAM: no erase)");
    }
}

static void list_bootloaders(FILE *out)
{
    for (int m = 0; m < MCUBOOT_EXPLAIN_MODE_COUNT; m++)
        fprintf(out, "%-18s %s\n", mcuboot_explain_mode_name((enum mcuboot_explain_mode)m),
                mcuboot_explain_mode_doc((enum mcuboot_explain_mode)m));
}

static void list_clients(FILE *out)
{
    for (int k = 0; k < CLIENT_DFU_KIND_COUNT; k++) {
        struct client_dfu_cfg c = client_dfu_cfg_default((enum client_dfu_kind)k);
        fprintf(out, "%-23s %s\n", c.p.name, client_dfu_kind_doc((enum client_dfu_kind)k));
    }
}

int cli_list(int argc, char **argv, FILE *out, FILE *err)
{
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(list_usage, out);
        return SIM_EXIT_OK;
    }
    if (argc == 2 && strcmp(argv[1], "boards") == 0)
        list_boards(out);
    else if (argc == 2 && strcmp(argv[1], "bootloaders") == 0)
        list_bootloaders(out);
    else if (argc == 2 && strcmp(argv[1], "clients") == 0)
        list_clients(out);
    else {
        fprintf(err, "dfusim list: say what to list: boards, bootloaders or clients\n");
        return SIM_EXIT_USAGE;
    }
    return SIM_EXIT_OK;
}
