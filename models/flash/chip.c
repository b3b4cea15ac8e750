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

/* STM32F42x/F43x with 2 MiB: two banks of 4 x 16, 1 x 64 and 7 x 128 KiB sectors (ST
 * RM0090, "Flash module organization"; zephyrproject-rtos/zephyr:
 * drivers/flash/flash_stm32f4x.c, the 24-sector layout). */
static const struct flash_chip_region stm32f4_2m_regions[] = {
    {4, 16 * KIB}, {1, 64 * KIB}, {7, 128 * KIB}, {4, 16 * KIB}, {1, 64 * KIB}, {7, 128 * KIB},
};

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
    /* nRF54L15 RRAM: 1524 KiB as 381 logical 4 KiB blocks
     * (zephyrproject-rtos/zephyr: dts/vendor/nordic/nrf54l_05_10_15.dtsi). No erase: the
     * driver has no explicit erase (flash capability no_explicit_erase; an "erase" writes
     * 0xff) and MCUboot's boot_erase_region() skips it (mcu-tools/mcuboot:
     * boot/bootutil/src/bootutil_area.c). Write granularity: 128-bit (16-byte) lines, the
     * devicetree write-block-size and the driver's WRITE_LINE_SIZE when buffering is on
     * (zephyrproject-rtos/zephyr: drivers/flash/soc_flash_nrf_rram.c). Write buffering: the
     * RRAMC has 32 line buffers (512 B; Nordic nRF54L production programming guide,
     * "Writing data with access port protection disabled", Table 2), and it commits the
     * buffer when full, on a write outside it, or on a read of a buffered line (nRF54L
     * datasheet, "Buffered RRAM write"). Zephyr enables a 1-line (16-byte) buffer by default
     * (CONFIG_NRF_RRAM_WRITE_BUFFER_SIZE=1, zephyrproject-rtos/zephyr PR 83122, for
     * endurance), so write_buffer is 16 B. Program time: the driver sizes its radio time
     * slot from the buffer, 8 ms for 17-32 lines with the note that the longest (32-line,
     * 512 B) write takes 7107 us, and 0.5/1/2/4 ms for 1/2-3/4-8/9-16 lines, which the same
     * 222 us per line fits: 7107 us / 32 = 222 us per 16-byte line is the maximum used here.
     * The product specification's per-line time was not found: MAX and TYP unverified. */
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
            .write_buffer = 16,
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
    /* nRF52832 (nRF52 DK). Page erase 89.7 ms and 4-byte word write 338 us, both maxima:
     * the SoftDevice specifications restate the product specification's NVMC timing in
     * their "Flash memory API" section (S112 SDS: nRF52832 erase up to 89.7 ms, word write
     * up to 338 us; S132 SDS rounds the erase to 90 ms; mbed-os PR 6124 quotes the same
     * 338 us as the datasheet maximum), and Zephyr budgets the same 89.7 ms per page
     * (zephyrproject-rtos/zephyr: soc/nordic/nrf52/soc.h, FLASH_PAGE_ERASE_MAX_TIME_US). The
     * product specification's own table was not retrieved. A word write is 8x the
     * nRF52840's 41 us. No partial erase: nrfx has no ERASEPAGEPARTIAL duration for the
     * nRF52832 (NordicSemiconductor/nrfx: NVMC_PAGE_ERASE_DURATION_MS), so a radio time
     * slot always erases a whole page. 512 KiB as 128 pages of 4 KiB:
     * zephyrproject-rtos/zephyr: dts/arm/nordic/nrf52832_qfaa.dtsi; write block 4:
     * drivers/flash/soc_flash_nrf.c. Only maxima: TYP = MAX (unverified). Endurance 10 000
     * and the read rate: unverified. */
    [FLASH_CHIP_NRF52832] =
        {
            .name = "nrf52832",
            .t_erase = {US(89700), US(89700)},
            .t_prog = {US(338), US(338)},
            .t_read_kib = US(8),
            .ble_slowdown = 2.0,
            .size = 512 * KIB,
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
    /* STM32F429ZI (NUCLEO-F429ZI): 2 MiB in two banks of 4 x 16 KiB, 1 x 64 KiB and
     * 7 x 128 KiB sectors (ST RM0090 "Flash module organization", as the layout table of
     * zephyrproject-rtos/zephyr: drivers/flash/flash_stm32f4x.c transcribes it). The slots
     * lie in 128 KiB sectors, so sector_size is 128 KiB and the timing is the 128 KiB
     * sector's; the small sectors hold MCUboot itself, which the model never erases.
     * Zephyr writes with the devicetree's write-block-size of 1 byte, i.e. x8 parallelism
     * (dts/arm/st/f4/stm32f4.dtsi; flash_stm32f4x.c sets PSIZE from it for programming and
     * erase). At x8 the datasheet's "Flash memory programming" table (DS8626 / DS9405
     * section 6.3.12, "Flash memory characteristics") gives tERASE128KB 2 s typical and 4 s
     * maximum, and tPROG 16 us typical and 100 us maximum per program operation (here a
     * byte); the 4 s maximum is also the devicetree's max-erase-time. The datasheet values
     * come from secondary quotes of the table (the PDF was not retrieved); the typical
     * column is unverified. Endurance 10 000 cycles: unverified. No radio on the SoC:
     * slowdown 1. */
    [FLASH_CHIP_STM32F429] =
        {
            .name = "stm32f429",
            .t_erase = {MS(4000), MS(2000)},
            .t_prog = {US(100), US(16)},
            .t_read_kib = US(8),
            .ble_slowdown = 1.0,
            .size = 2048 * KIB,
            .sector_size = 128 * KIB,
            .write_block = 1,
            .prog_unit = 1,
            .endurance = 10000,
            .unverified = FLASH_CHIP_UV_ERASE_TYP | FLASH_CHIP_UV_PROG_TYP | FLASH_CHIP_UV_READ |
                          FLASH_CHIP_UV_ENDURANCE,
            .corner = FLASH_CHIP_MAX,
            .needs_erase = true,
            .erased_val = 0xff,
            .regions = stm32f4_2m_regions,
            .n_regions = sizeof(stm32f4_2m_regions) / sizeof(stm32f4_2m_regions[0]),
        },
    /* The MX25R6435F of the nRF54L15 DK, on plain SPI (spi00, one data line) at the
     * devicetree's spi-max-frequency of 8 MHz (zephyrproject-rtos/zephyr:
     * boards/nordic/nrf54l15dk/nrf54l_05_10_15_cpuapp_common.dtsi, jedec,spi-nor). Cell
     * timing as the QSPI profile (sector erase 240 ms max / 48 ms typ, page program
     * 5376 us max / 896 us typ). The SPI bus adds the transfer, which the jedec,spi-nor
     * driver performs before it polls for the end of the program (derived): a page program
     * sends 4 bytes of command and address and 256 data bytes, 260 bytes x 8 bits / 8 MHz
     * = 260 us; a read moves 1 KiB in 8192 bits / 8 MHz = 1024 us (command bytes left
     * out); an erase command is 4 bytes, 4 us, left out (0.002 % of 240 ms). Write block 1:
     * the jedec,spi-nor driver writes bytes. Endurance 100 000: unverified. */
    [FLASH_CHIP_MX25R64_SPI] =
        {
            .name = "mx25r64-spi",
            .t_erase = {MS(240), MS(48)},
            .t_prog = {US(5376 + 260), US(896 + 260)},
            .t_read_kib = US(1024),
            .ble_slowdown = 1.0,
            .size = 8192 * KIB,
            .sector_size = 4 * KIB,
            .write_block = 1,
            .prog_unit = 256,
            .endurance = 100000,
            .unverified = FLASH_CHIP_UV_BLE_SLOWDOWN | FLASH_CHIP_UV_ENDURANCE,
            .corner = FLASH_CHIP_MAX,
            .needs_erase = true,
            .erased_val = 0xff,
        },
};

/* Which chips share time with a BLE radio on their own CPU, and the driver's windows.
 * nRF52840 and nRF52832: the NVMC halts the CPU that runs the SoftDevice Controller, so nRF
 * Connect SDK synchronises through MPSL timeslots (sdk-nrf
 * drivers/mpsl/flash_sync/flash_sync_mpsl.c): 7.5 ms write windows (FLASH_SLOT_WRITE, zephyr
 * drivers/flash/soc_flash_nrf.c), one-page erase windows of FLASH_PAGE_ERASE_MAX_TIME_US =
 * 89.7 ms (zephyr soc/nordic/nrf52/soc.h). nRF54L15: the RRAM driver synchronises the same
 * way, in windows sized by its write buffer (flash_chip_write_window_ns); RRAM needs no
 * erase. nRF5340: the application core's flash is not the network core's, which runs the
 * radio, so none (NCS builds that forward the sync to the network core,
 * flash_sync_rpc_host.c, are not modelled). External flash, the STM32s and the Apollo3:
 * none. */
static const struct {
    int64_t write, erase;
} sync_windows[FLASH_CHIP_COUNT] = {
    [FLASH_CHIP_NRF52840] = {7500000, 89700000},
    [FLASH_CHIP_NRF52832] = {7500000, 89700000},
};

int flash_chip_profile(enum flash_chip_id id, struct flash_chip *out)
{
    if ((unsigned)id >= FLASH_CHIP_COUNT || out == NULL)
        return SIM_EINVAL;
    *out = profiles[id];
    out->sync_write_window_ns =
        id == FLASH_CHIP_NRF54L15 ? flash_chip_write_window_ns(out) : sync_windows[id].write;
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
                 "apollo3, mx25r64, nrf52832, stm32f429, mx25r64-spi)",
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
    if (c->n_regions > 0 && c->regions != NULL) {
        uint64_t total = 0;
        uint32_t largest = 0;
        for (uint32_t i = 0; i < c->n_regions; i++) {
            if (!is_pow2(c->regions[i].size) || c->regions[i].count == 0)
                bad = 1;
            total += (uint64_t)c->regions[i].count * c->regions[i].size;
            largest = c->regions[i].size > largest ? c->regions[i].size : largest;
        }
        if (bad || total != c->size || largest != c->sector_size) {
            sim_diag_add(d,
                         "%s: the sector regions must be powers of 2 that add up to size %u, "
                         "the largest equal to sector_size %u",
                         n, c->size, c->sector_size);
            bad = 1;
        }
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

uint32_t flash_chip_sector_at(const struct flash_chip *c, uint32_t off, uint32_t *start)
{
    if (off >= c->size || c->sector_size == 0)
        return 0;
    if (c->regions == NULL || c->n_regions == 0) {
        if (start != NULL)
            *start = off - off % c->sector_size;
        return c->sector_size;
    }
    uint64_t base = 0;
    for (uint32_t i = 0; i < c->n_regions; i++) {
        uint64_t end = base + (uint64_t)c->regions[i].count * c->regions[i].size;
        if (off < end) {
            if (start != NULL)
                *start = (uint32_t)(off - (off - base) % c->regions[i].size);
            return c->regions[i].size;
        }
        base = end;
    }
    return 0;
}

int64_t flash_chip_write_window_ns(const struct flash_chip *c)
{
    /* FLASH_SLOT_WRITE of zephyrproject-rtos/zephyr: drivers/flash/soc_flash_nrf_rram.c by
     * the write buffer's 16-byte lines. */
    uint32_t lines = c->write_buffer / 16;
    if (c->write_buffer == 0)
        return 0;
    if (lines < 2)
        return US(500);
    if (lines < 4)
        return US(1000);
    if (lines < 9)
        return US(2000);
    if (lines < 17)
        return US(4000);
    return US(8000);
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
            "replacing the radio-timeslot model; 0: the model (nRF52832, nRF52840 and nRF54L15 in "
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
