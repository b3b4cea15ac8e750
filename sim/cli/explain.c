/* sim/cli/explain.c - `dfusim explain`: what one upgrade costs in each MCUboot mode on a
 * board (flash operations, bytes moved, swap time, downtime, wear). */
#include "models/flash/chip.h"
#include "models/flash/map.h"
#include "models/mcuboot/explain.h"
#include "sim/cli/cli_int.h"
#include "sim/error.h"
#include "sim/scenario.h"

#include <getopt.h>
#include <string.h>

static const char explain_usage[] =
    "Usage: dfusim explain --board BOARD --size SIZE [OPTIONS]\n"
    "\n"
    "For each MCUboot mode, print what one upgrade of an image of SIZE costs on BOARD: the\n"
    "bootloader's erases, sector copies and trailer writes, bytes moved, swap time, downtime\n"
    "(reset to application: validation and swap), revert time, and erase cycles of the most-\n"
    "worn sector (the upload's erase included). The numbers come from running each mode's\n"
    "real step plan on the board's flash chips (models/mcuboot/README.md). Below the table,\n"
    "each mode the image does not fit says why: slots MCUboot refuses for the mode\n"
    "(boot_slots_compatible()), its largest image (app_max_size()), or the model's limit.\n"
    "\n"
    "Options:\n"
    "  -b, --board BOARD        rak4631, nrf52840dk, nrf52840dk-ext, nrf5340dk, nrf54l15dk,\n"
    "                           rak3172, rak11720, nrf52dk, nucleo_f429zi, nrf54l15dk-ext\n"
    "  -s, --size SIZE          image size: 384KiB, 1.5MiB, 131072\n"
    "      --timing CORNER      max (default: datasheet maximum) or typical; on chips whose\n"
    "                           datasheet gives maxima only, typical is the maximum (the\n"
    "                           heading says so)\n"
    "      --hash-rate SIZE     bytes hashed per second while validating (default 1MB/s =\n"
    "                           1000000; unverified: no published figure for these chips)\n"
    "      --sig-time DURATION  one signature check (default 100ms; unverified)\n"
    "      --no-validate-primary  MCUboot built without CONFIG_BOOT_VALIDATE_SLOT0\n"
    "      --markdown           a Markdown table instead of aligned text\n"
    "  -h, --help               show this help\n";

static const char *const columns[] = {
    "mode",        "fits (max KiB)", "erases",     "sector copies", "trailer writes",
    "bytes moved", "swap s",         "downtime s", "revert s",      "max erases/sector",
};
#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))

/* The heading's timing words: "max", "typical", or, where a chip of the map publishes
 * maxima only (flash_chip.max_only: its typical column copies the maximum), what typical
 * means there: "typical (= maximum: the nrf52840 datasheet gives maxima only)", or with
 * chips of both kinds "typical (nrf52840: = maximum, its datasheet gives maxima only;
 * mx25r64: typical)". */
static void timing_words(char *buf, size_t n, const struct flash_map *m, enum flash_chip_corner c)
{
    if (c == FLASH_CHIP_MAX) {
        snprintf(buf, n, "max");
        return;
    }
    const struct flash_map_area *areas[] = {&m->primary, &m->secondary};
    struct flash_chip chips[2];
    size_t n_chips = 0, n_max_only = 0;
    for (size_t i = 0; i < 2; i++) {
        struct flash_chip ch;
        if (flash_chip_profile(areas[i]->chip, &ch) != 0)
            continue;
        if (n_chips == 1 && strcmp(chips[0].name, ch.name) == 0)
            continue;
        chips[n_chips++] = ch;
        n_max_only += ch.max_only;
    }
    if (n_max_only == 0) {
        snprintf(buf, n, "typical");
    } else if (n_max_only == n_chips && n_chips == 1) {
        snprintf(buf, n, "typical (= maximum: the %s datasheet gives maxima only)", chips[0].name);
    } else {
        size_t o = (size_t)snprintf(buf, n, "typical (");
        for (size_t i = 0; i < n_chips && o < n; i++)
            o += (size_t)snprintf(buf + o, n - o, "%s%s: %s", i ? "; " : "", chips[i].name,
                                  chips[i].max_only ? "= maximum, its datasheet gives maxima only"
                                                    : "typical");
        if (o < n)
            snprintf(buf + o, n - o, ")");
    }
}

static void format_row(const struct mcuboot_explain_row *r, char cells[N_COLUMNS][32])
{
    snprintf(cells[0], 32, "%s", mcuboot_explain_mode_name((enum mcuboot_explain_mode)r->mode));
    if (r->refused)
        snprintf(cells[1], 32, "refused");
    else
        snprintf(cells[1], 32, "%s (%u)", r->fits ? "yes" : "no", r->max_image / 1024);
    if (!r->fits) {
        for (size_t c = 2; c < N_COLUMNS; c++)
            snprintf(cells[c], 32, "-");
        return;
    }
    snprintf(cells[2], 32, "%u", r->erases);
    snprintf(cells[3], 32, "%u", r->sector_copies);
    snprintf(cells[4], 32, "%u", r->trailer_writes);
    snprintf(cells[5], 32, "%llu", (unsigned long long)r->bytes_moved);
    snprintf(cells[6], 32, "%.2f", (double)r->swap_ns * 1e-9);
    snprintf(cells[7], 32, "%.2f", (double)r->downtime_ns * 1e-9);
    snprintf(cells[8], 32, "%.2f", (double)r->revert_ns * 1e-9);
    snprintf(cells[9], 32, "%u", r->max_sector_erases);
}

static void print_table(FILE *out, const struct mcuboot_explain_row *rows, bool markdown)
{
    static char cells[MCUBOOT_EXPLAIN_MODE_COUNT][N_COLUMNS][32];
    size_t width[N_COLUMNS];
    for (size_t c = 0; c < N_COLUMNS; c++)
        width[c] = strlen(columns[c]);
    for (int m = 0; m < MCUBOOT_EXPLAIN_MODE_COUNT; m++) {
        format_row(&rows[m], cells[m]);
        for (size_t c = 0; c < N_COLUMNS; c++)
            if (strlen(cells[m][c]) > width[c])
                width[c] = strlen(cells[m][c]);
    }
    const char *sep = markdown ? " | " : "  ";
    fputs(markdown ? "| " : "", out);
    for (size_t c = 0; c < N_COLUMNS; c++)
        fprintf(out, "%s%-*s", c ? sep : "", markdown ? 0 : (int)width[c], columns[c]);
    fputs(markdown ? " |\n|" : "\n", out);
    for (size_t c = 0; markdown && c < N_COLUMNS; c++)
        fputs("---|", out);
    fputs(markdown ? "\n" : "", out);
    for (int m = 0; m < MCUBOOT_EXPLAIN_MODE_COUNT; m++) {
        fputs(markdown ? "| " : "", out);
        for (size_t c = 0; c < N_COLUMNS; c++) {
            /* Text: names left-aligned, numbers right-aligned. */
            int w = markdown ? 0 : (int)width[c];
            fprintf(out, "%s%*s", c ? sep : "", c == 0 ? -w : w, cells[m][c]);
        }
        fputs(markdown ? " |\n" : "\n", out);
    }
}

int cli_explain(int argc, char **argv, FILE *out, FILE *err)
{
    enum { OPT_TIMING = 256, OPT_HASH, OPT_SIG, OPT_NO_VALIDATE, OPT_MARKDOWN };
    static const struct option longopts[] = {
        {"board", required_argument, NULL, 'b'},
        {"size", required_argument, NULL, 's'},
        {"timing", required_argument, NULL, OPT_TIMING},
        {"hash-rate", required_argument, NULL, OPT_HASH},
        {"sig-time", required_argument, NULL, OPT_SIG},
        {"no-validate-primary", no_argument, NULL, OPT_NO_VALIDATE},
        {"markdown", no_argument, NULL, OPT_MARKDOWN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct mcuboot_explain_params params;
    mcuboot_explain_params_default(&params);
    const char *board = NULL, *size_text = NULL;
    bool markdown = false;
    uint64_t u;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":b:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            board = optarg;
            break;
        case 's':
            size_text = optarg;
            break;
        case OPT_TIMING:
            if (strcmp(optarg, "max") != 0 && strcmp(optarg, "typical") != 0) {
                fprintf(err, "dfusim explain: --timing %s: expected max or typical\n", optarg);
                return SIM_EXIT_USAGE;
            }
            params.corner = optarg[0] == 'm' ? FLASH_CHIP_MAX : FLASH_CHIP_TYP;
            break;
        case OPT_HASH:
            if (scenario_parse_size(optarg, &u) != 0 || u == 0) {
                fprintf(err,
                        "dfusim explain: --hash-rate %s: expected bytes per second, e.g. "
                        "1000000 or 512KiB\n",
                        optarg);
                return SIM_EXIT_USAGE;
            }
            params.hash_rate = (double)u;
            break;
        case OPT_SIG:
            if (scenario_parse_duration(optarg, &params.t_sig) != 0 || params.t_sig < 0) {
                fprintf(err, "dfusim explain: --sig-time %s: expected a duration, e.g. 100ms\n",
                        optarg);
                return SIM_EXIT_USAGE;
            }
            break;
        case OPT_NO_VALIDATE:
            params.validate_primary = false;
            break;
        case OPT_MARKDOWN:
            markdown = true;
            break;
        case 'h':
            fputs(explain_usage, out);
            return SIM_EXIT_OK;
        default:
            return cli_option_error(err, "explain", c, argv);
        }
    }
    if (board == NULL || size_text == NULL || optind != argc) {
        fputs("dfusim explain: needs --board BOARD and --size SIZE, and nothing else (see "
              "dfusim explain --help)\n",
              err);
        return SIM_EXIT_USAGE;
    }
    struct sim_diag diag;
    sim_diag_init(&diag);
    enum flash_map_board b;
    struct flash_map map;
    if (flash_map_find(board, &b, &diag) != 0 || flash_map_board(b, &map) != 0) {
        fprintf(err, "dfusim explain: %s", diag.text);
        return SIM_EXIT_USAGE;
    }
    if (scenario_parse_size(size_text, &u) != 0 || u == 0 || u > UINT32_MAX) {
        fprintf(err, "dfusim explain: --size %s: expected a size such as 384KiB\n", size_text);
        return SIM_EXIT_USAGE;
    }
    struct mcuboot_explain_row rows[MCUBOOT_EXPLAIN_MODE_COUNT];
    if (mcuboot_explain(&map, (uint32_t)u, &params, rows, &diag) != 0) {
        fprintf(err, "dfusim explain: %s", diag.text);
        return SIM_EXIT_USAGE;
    }
    char timing[256];
    timing_words(timing, sizeof(timing), &map, params.corner);
    fprintf(out, "%s%s, %s image, %s timing, hash %.0f B/s, signature %.0f ms\n",
            markdown ? "\n" : "", map.board, size_text, timing, params.hash_rate,
            (double)params.t_sig * 1e-6);
    if (markdown)
        fputs("\n", out);
    print_table(out, rows, markdown);
    bool first = true;
    for (int m = 0; m < MCUBOOT_EXPLAIN_MODE_COUNT; m++) {
        if (rows[m].fits || rows[m].why[0] == '\0')
            continue;
        fprintf(out, "%s%s%s: %s\n", first ? "\n" : "", markdown ? "- " : "",
                mcuboot_explain_mode_name((enum mcuboot_explain_mode)m), rows[m].why);
        first = false;
    }
    return SIM_EXIT_OK;
}
