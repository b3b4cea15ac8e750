/* models/flash/chip.c - built-in flash chip profiles and operation timing.
 *
 * Each profile names its sources (product specifications, Zephyr SoC headers, devicetrees
 * and flash drivers, vendor staff posts) and says which figures are sourced and which are
 * assumptions (FLASH_CHIP_UV_* bits, listed in models/flash/README.md). Where only a maximum is
 * published, TYP equals MAX and is marked unverified.
 */
#include "models/flash/chip.h"

#include <string.h>
#include <stdio.h>

#define KIB   1024u
#define US(x) ((int64_t)(x)*1000)
#define MS(x) ((int64_t)(x)*1000000)

static const struct flash_chip profiles[FLASH_CHIP_COUNT] = {
    /* nRF52840. tERASEPAGE 85 ms max and tWRITE 41 us per word: Nordic staff quoting the
     * product specification (DevZone 110315). 256 pages: zephyrproject-rtos/zephyr:
     * soc/nordic/nrf52/soc.h (FLASH_PAGE_MAX_CNT; the driver budgets 89.7 ms per erase).
     * Write block 4: zephyrproject-rtos/zephyr: drivers/flash/soc_flash_nrf.c.
     * Only maximum figures are published, so TYP = MAX (unverified). Endurance 10 000 is
     * the nRF5340 figure (unverified for the nRF52840). Read rate: assumption. BLE
     * slowdown 2.0: assumption (how much the radio-free time slots of
     * zephyrproject-rtos/zephyr: drivers/flash/soc_flash_nrf.c stretch flash work depends
     * on the connection interval and radio load). */
    [FLASH_CHIP_NRF52840] =
        {
            .name = "nrf52840",
            .t_erase = {MS(85), MS(85)},
            .t_prog = {US(41), US(41)},
            .t_read_kib = US(8),
            .ble_slowdown = 1.0,
            .size = 1024 * KIB,
            .sector_size = 4 * KIB,
            .write_block = 4,
            .prog_unit = 4,
            .endurance = 10000,
            .unverified = FLASH_CHIP_UV_ERASE_TYP | FLASH_CHIP_UV_PROG_TYP | FLASH_CHIP_UV_READ |
                          FLASH_CHIP_UV_BLE_SLOWDOWN | FLASH_CHIP_UV_ENDURANCE,
            .corner = FLASH_CHIP_MAX,
            .max_only = true,
            .needs_erase = true,
            .erased_val = 0xff,
        },
    /* nRF5340 application core. tERASEPAGE 87.5 ms, tWRITE 43 us per word, endurance
     * 10 000: nRF5340 Product Specification, NVMC (datasheet); the min/typ/max column is
     * uncertain, so they are used as MAX and TYP = MAX (unverified).
     * zephyrproject-rtos/zephyr: soc/nordic/nrf53/soc.h: 256 pages. */
    [FLASH_CHIP_NRF5340] =
        {
            .name = "nrf5340",
            .t_erase = {US(87500), US(87500)},
            .t_prog = {US(43), US(43)},
            .t_read_kib = US(8),
            .ble_slowdown = 1.0,
            .size = 1024 * KIB,
            .sector_size = 4 * KIB,
            .write_block = 4,
            .prog_unit = 4,
            .endurance = 10000,
            .unverified = FLASH_CHIP_UV_ERASE_TYP | FLASH_CHIP_UV_PROG_TYP | FLASH_CHIP_UV_READ |
                          FLASH_CHIP_UV_BLE_SLOWDOWN,
            .corner = FLASH_CHIP_MAX,
            .max_only = true,
            .needs_erase = true,
            .erased_val = 0xff,
        },
    /* nRF54L15 RRAM: 1524 KiB as 381 logical 4 KiB blocks, 16-byte lines
     * (zephyrproject-rtos/zephyr: drivers/flash/soc_flash_nrf_rram.c,
     * dts/vendor/nordic/nrf54l_05_10_15.dtsi). No erase needed: MCUboot's
     * boot_erase_region() is a no-op (mcu-tools/mcuboot: boot/bootutil/src/bootutil_area.c).
     * Program time: the driver's worst case is 7107 us for a 32-line (512 B) buffer, i.e.
     * 222 us per line; the per-byte time is unverified. */
    [FLASH_CHIP_NRF54L15] =
        {
            .name = "nrf54l15",
            .t_erase = {0, 0},
            .t_prog = {7107000 / 32, 7107000 / 32},
            .t_read_kib = US(8),
            .ble_slowdown = 1.0,
            .size = 1524 * KIB,
            .sector_size = 4 * KIB,
            .write_block = 16,
            .prog_unit = 16,
            .endurance = 10000,
            .unverified = FLASH_CHIP_UV_PROG_MAX | FLASH_CHIP_UV_PROG_TYP | FLASH_CHIP_UV_READ |
                          FLASH_CHIP_UV_BLE_SLOWDOWN | FLASH_CHIP_UV_ENDURANCE,
            .corner = FLASH_CHIP_MAX,
            .max_only = true,
            .needs_erase = false,
            .erased_val = 0xff,
        },
    /* STM32WLE5CC (RAK3172): 256 KiB as 128 x 2 KiB pages, 64-bit double-word writes
     * (ST RM0461). Timings are unverified (DS13105 not checked): page erase 22 ms typ /
     * 24.5 ms max, double word 82 us typ / 91 us max. No BLE radio: slowdown 1. */
    [FLASH_CHIP_STM32WLE5] =
        {
            .name = "stm32wle5",
            .t_erase = {US(24500), MS(22)},
            .t_prog = {US(91), US(82)},
            .t_read_kib = US(8),
            .ble_slowdown = 1.0,
            .size = 256 * KIB,
            .sector_size = 2 * KIB,
            .write_block = 8,
            .prog_unit = 8,
            .endurance = 10000,
            .unverified = FLASH_CHIP_UV_ERASE_MAX | FLASH_CHIP_UV_ERASE_TYP |
                          FLASH_CHIP_UV_PROG_MAX | FLASH_CHIP_UV_PROG_TYP | FLASH_CHIP_UV_READ |
                          FLASH_CHIP_UV_ENDURANCE,
            .corner = FLASH_CHIP_MAX,
            .needs_erase = true,
            .erased_val = 0xff,
        },
    /* Apollo3 Blue (RAK11720): 8 KiB erase block, 4-byte write block
     * (zephyrproject-rtos/zephyr: boards/rakwireless/rak11720/rak11720.dts). Every timing
     * figure is unverified: the values below are placeholders of the same order as the
     * other NOR-flash MCUs, to be replaced from the Apollo3 datasheet. */
    [FLASH_CHIP_APOLLO3] =
        {
            .name = "apollo3",
            .t_erase = {MS(60), MS(30)},
            .t_prog = {US(40), US(20)},
            .t_read_kib = US(8),
            .ble_slowdown = 1.0,
            .size = 1024 * KIB,
            .sector_size = 8 * KIB,
            .write_block = 4,
            .prog_unit = 4,
            .endurance = 10000,
            .unverified = FLASH_CHIP_UV_ERASE_MAX | FLASH_CHIP_UV_ERASE_TYP |
                          FLASH_CHIP_UV_PROG_MAX | FLASH_CHIP_UV_PROG_TYP | FLASH_CHIP_UV_READ |
                          FLASH_CHIP_UV_BLE_SLOWDOWN | FLASH_CHIP_UV_ENDURANCE,
            .corner = FLASH_CHIP_MAX,
            .needs_erase = true,
            .erased_val = 0xff,
        },
    /* MX25R6435F, 8 MiB QSPI NOR. 4 KiB sector erase max 240 ms: STMicroelectronics BSP
     * header mx25r6435f.h. Typical 48 ms and page program 896 us typ (max x6 = 5376 us):
     * SFDP table of the nRF52840 DK devicetree, decoded (derived). Programming is timed per
     * 256-byte page. Write block 4 (nRF QSPI word transfers): assumption. QSPI is not the
     * NVMC, so the radio does not stall it: slowdown 1 (unverified). Read at 16 MB/s
     * (32 MHz quad): assumption. Endurance 100 000: typical NOR figure, unverified. */
    [FLASH_CHIP_MX25R64] =
        {
            .name = "mx25r64",
            .t_erase = {MS(240), MS(48)},
            .t_prog = {US(5376), US(896)},
            .t_read_kib = US(64),
            .ble_slowdown = 1.0,
            .size = 8192 * KIB,
            .sector_size = 4 * KIB,
            .write_block = 4,
            .prog_unit = 256,
            .endurance = 100000,
            .unverified = FLASH_CHIP_UV_READ | FLASH_CHIP_UV_BLE_SLOWDOWN | FLASH_CHIP_UV_ENDURANCE,
            .corner = FLASH_CHIP_MAX,
            .needs_erase = true,
            .erased_val = 0xff,
        },
};

/* Which chips share time with a BLE radio on their own CPU, and the driver's windows.
 * nRF52840: the NVMC halts the CPU that runs the SoftDevice Controller, so nRF Connect SDK
 * synchronises through MPSL timeslots (sdk-nrf drivers/mpsl/flash_sync/flash_sync_mpsl.c):
 * 7.5 ms write windows (FLASH_SLOT_WRITE, zephyr drivers/flash/soc_flash_nrf.c), one-page
 * erase windows of FLASH_PAGE_ERASE_MAX_TIME_US = 89.7 ms (zephyr soc/nordic/nrf52/soc.h).
 * nRF54L15: the RRAM driver synchronises the same way (drivers/flash/soc_flash_nrf_rram.c),
 * 8 ms windows for a write buffer of 17 lines or more; RRAM needs no erase. nRF5340: the
 * application core's flash is not the network core's, which runs the radio, so none (NCS
 * builds that forward the sync to the network core, flash_sync_rpc_host.c, are not
 * modelled). External QSPI flash, the STM32WLE5 (no BLE) and the Apollo3: none. */
static const struct {
    int64_t write, erase;
} sync_windows[FLASH_CHIP_COUNT] = {
    [FLASH_CHIP_NRF52840] = {7500000, 89700000},
    [FLASH_CHIP_NRF54L15] = {8000000, 0},
};

int flash_chip_profile(enum flash_chip_id id, struct flash_chip *out)
{
    if ((unsigned)id >= FLASH_CHIP_COUNT || out == NULL)
        return SIM_EINVAL;
    *out = profiles[id];
    out->sync_write_window_ns = sync_windows[id].write;
    out->sync_erase_window_ns = sync_windows[id].erase;
    return 0;
}

const char *flash_chip_name(enum flash_chip_id id)
{
    if ((unsigned)id >= FLASH_CHIP_COUNT)
        return "?";
    return profiles[id].name;
}

int flash_chip_find(const char *name, enum flash_chip_id *out, struct sim_diag *d)
{
    for (int i = 0; name != NULL && i < FLASH_CHIP_COUNT; i++) {
        if (strcmp(name, profiles[i].name) == 0) {
            *out = (enum flash_chip_id)i;
            return 0;
        }
    }
    sim_diag_add(d,
                 "unknown flash chip '%s' (known: nrf52840, nrf5340, nrf54l15, stm32wle5, "
                 "apollo3, mx25r64)",
                 name ? name : "(null)");
    return SIM_ENOENT;
}

static bool is_pow2(uint32_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

int flash_chip_check(const struct flash_chip *c, struct sim_diag *d)
{
    int bad = 0;
    const char *n = (c && c->name) ? c->name : "flash chip";

    if (c == NULL) {
        sim_diag_add(d, "flash chip: no profile given");
        return SIM_EINVAL;
    }
    if (!is_pow2(c->sector_size) || !is_pow2(c->write_block) || !is_pow2(c->prog_unit)) {
        sim_diag_add(d, "%s: sector_size %u, write_block %u and prog_unit %u must be powers of 2",
                     n, c->sector_size, c->write_block, c->prog_unit);
        bad = 1;
    } else if (c->write_block > c->sector_size || c->prog_unit > c->sector_size) {
        sim_diag_add(d, "%s: write_block %u and prog_unit %u must not exceed sector_size %u", n,
                     c->write_block, c->prog_unit, c->sector_size);
        bad = 1;
    }
    if (c->size == 0 || (c->sector_size != 0 && c->size % c->sector_size != 0)) {
        sim_diag_add(d, "%s: size %u must be a non-zero multiple of sector_size %u", n, c->size,
                     c->sector_size);
        bad = 1;
    }
    for (int k = 0; k < FLASH_CHIP_CORNER_COUNT; k++) {
        if (c->t_erase[k] < 0 || c->t_prog[k] < 0) {
            sim_diag_add(d, "%s: erase and program times must be >= 0 ns", n);
            bad = 1;
            break;
        }
    }
    if (c->t_erase[FLASH_CHIP_TYP] > c->t_erase[FLASH_CHIP_MAX] ||
        c->t_prog[FLASH_CHIP_TYP] > c->t_prog[FLASH_CHIP_MAX]) {
        sim_diag_add(d, "%s: a typical time exceeds its maximum (set both, typ <= max)", n);
        bad = 1;
    }
    if (c->t_read_kib < 0) {
        sim_diag_add(d, "%s: read time must be >= 0 ns per KiB", n);
        bad = 1;
    }
    if (!(c->ble_slowdown >= 1.0)) {
        sim_diag_add(d, "%s: ble_slowdown %g must be >= 1 (1 = no slowdown)", n, c->ble_slowdown);
        bad = 1;
    }
    if ((unsigned)c->corner >= FLASH_CHIP_CORNER_COUNT) {
        sim_diag_add(d, "%s: timing corner must be max or typ", n);
        bad = 1;
    }
    return bad ? SIM_EINVAL : 0;
}

static enum flash_chip_corner corner_of(const struct flash_chip *c)
{
    return (unsigned)c->corner < FLASH_CHIP_CORNER_COUNT ? c->corner : FLASH_CHIP_MAX;
}

int64_t flash_chip_erase_ns(const struct flash_chip *c, uint32_t n_sectors)
{
    if (!c->needs_erase)
        return 0;
    return (int64_t)n_sectors * c->t_erase[corner_of(c)];
}

static uint64_t round_up(uint64_t x, uint64_t unit)
{
    return unit == 0 ? x : (x + unit - 1) / unit * unit;
}

int64_t flash_chip_write_ns(const struct flash_chip *c, uint64_t n_bytes)
{
    uint64_t bytes = round_up(n_bytes, c->write_block);
    uint64_t units = c->prog_unit ? (bytes + c->prog_unit - 1) / c->prog_unit : bytes;
    return (int64_t)units * c->t_prog[corner_of(c)];
}

int64_t flash_chip_read_ns(const struct flash_chip *c, uint64_t n_bytes)
{
    /* Rounded up to whole ns: 1 KiB granularity would hide small trailer reads. */
    return (int64_t)((n_bytes * (uint64_t)c->t_read_kib + 1023) / 1024);
}

int64_t flash_chip_copy_ns(const struct flash_chip *c, uint64_t n_bytes)
{
    return flash_chip_read_ns(c, n_bytes) + flash_chip_write_ns(c, n_bytes);
}

int64_t flash_chip_app_ns(const struct flash_chip *c, int64_t ns, bool ble_active)
{
    if (!ble_active || c->ble_slowdown <= 1.0)
        return ns;
    return (int64_t)((double)ns * c->ble_slowdown + 0.5);
}

uint32_t flash_chip_sectors_for(const struct flash_chip *c, uint64_t n_bytes)
{
    return (uint32_t)((n_bytes + c->sector_size - 1) / c->sector_size);
}

/* ---- settings ------------------------------------------------------------------------- */

/* Order matches enum flash_chip_corner. */
static const char *const flash_timing_names[] = {"max", "typical", NULL};

static const struct scenario_field flash_fields[] = {
    {.key = "timing",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct flash_chip_settings, timing),
     .def = "max",
     .names = flash_timing_names,
     .doc = "which datasheet column times erases and writes: max or typical"},
    {.key = "ble_slowdown",
     .type = SCENARIO_T_NUMBER,
     .unit = "factor",
     SCENARIO_AT(struct flash_chip_settings, ble_slowdown),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct flash_chip_settings, ble_slowdown_at),
     .def = "0",
     .min = "0",
     .max = "10",
     .doc = "a measured factor on the application's flash work while a BLE link is up, "
            "replacing the radio-timeslot model; 0: the model (nRF52840 and nRF54L15 flash in "
            "MPSL timeslots between connection events, the bare time elsewhere)"},
};

const struct scenario_schema flash_chip_settings_schema =
    SCENARIO_SCHEMA("flash timing", struct flash_chip_settings, flash_fields);

int flash_chip_settings_check(const struct flash_chip_settings *s, const char *key,
                              struct sim_diag *d)
{
    if (s->ble_slowdown == 0 || s->ble_slowdown >= 1)
        return 0;
    char at[512], k[128];
    snprintf(k, sizeof(k), "%s.ble_slowdown", key);
    scenario_pos_format(at, sizeof(at), &s->ble_slowdown_at, k);
    sim_diag_add(d,
                 "%s: %g would make flash work faster with the radio on; give 0 (the chip's "
                 "own) or a factor >= 1",
                 at, s->ble_slowdown);
    return SIM_EINVAL;
}

void flash_chip_apply_settings(struct flash_chip *c, const struct flash_chip_settings *s)
{
    c->corner = (enum flash_chip_corner)s->timing;
    if (s->ble_slowdown != 0) { /* a measured factor replaces the radio model */
        c->ble_slowdown = s->ble_slowdown;
        c->sync_write_window_ns = c->sync_erase_window_ns = 0;
    }
}
