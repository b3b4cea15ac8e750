/* models/flash/map.c - built-in board flash maps and the image-size limit per mode.
 *
 * Partition sources:
 *   nRF52840: zephyrproject-rtos/zephyr: dts/common/nordic/nrf52840_partition.dtsi
 *             (MCUboot 48 KiB @0, slots 472 KiB @0xC000 and @0x82000, storage 32 KiB
 *             @0xF8000). Used for the RAK4631 too (assumption: same SoC, same defaults).
 *   nRF52840 DK with external secondary: assumption, the same primary with slot 1 at the
 *             start of the MX25R64.
 *   nRF5340:  assumption matching the nRF Connect SDK partition manager (MCUboot 64 KiB,
 *             slots 464 KiB = 0x74000, the slot size the test images in tests/data/mcuboot/
 *             were signed for); Zephyr's own nrf5340_cpuapp_partition.dtsi is the TF-M layout
 *             (256 KiB secure + 192 KiB non-secure slots).
 *   nRF54L15: zephyrproject-rtos/zephyr: dts/vendor/nordic/nrf54l15_partition.dtsi
 *             (MCUboot 64 KiB, slots 664 KiB @0x10000 and @0xB6000, storage 36 KiB).
 *   RAK3172:  zephyrproject-rtos/zephyr: boards/rakwireless/rak3172/rak3172.dts (MCUboot
 *             32 KiB, slots 108 KiB, storage 8 KiB; offsets assumed contiguous).
 *   RAK11720: zephyrproject-rtos/zephyr: boards/rakwireless/rak11720/rak11720.dts (MCUboot
 *             48 KiB at 0xC000, slots 0x72000 = 456 KiB; slot offsets assumed contiguous).
 *   nRF52 DK (nRF52832): zephyrproject-rtos/zephyr: boards/nordic/nrf52dk/nrf52dk_nrf52832.dts
 *             (MCUboot 48 KiB @0, slots 220 KiB = 0x37000 @0xC000 and @0x43000, storage
 *             24 KiB @0x7A000).
 *   NUCLEO-F429ZI: zephyrproject-rtos/zephyr: boards/st/nucleo_f429zi/nucleo_f429zi.dts
 *             (MCUboot 32 KiB @0 in 16 KiB sectors, slots 256 KiB @0x20000 and @0x60000,
 *             scratch 128 KiB @0xA0000, all three in 128 KiB sectors): its own scratch.
 *   nRF54L15 DK with external secondary: assumption, the nRF54L15 DK primary with slot 1
 *             at the start of the MX25R64 that the board wires to SPI (spi00).
 * Scratch: none of these layouts but the NUCLEO-F429ZI's has a scratch partition. Swap-scratch
 * builds must add one; we take one sector at the start of the storage partition
 * (assumption).
 */
#include "models/flash/map.h"

#include <stdbool.h>
#include <string.h>

#define KIB 1024u
#define AREA(chip_, off_, size_)                                                                   \
    {                                                                                              \
        .chip = (chip_), .off = (off_), .size = (size_)                                            \
    }

static const struct flash_map boards[FLASH_MAP_BOARD_COUNT] =
    {
        [FLASH_MAP_RAK4631] =
            {
                .board = "rak4631",
                .ble = true,
                .boot = AREA(FLASH_CHIP_NRF52840, 0x0, 48 * KIB),
                .primary = AREA(FLASH_CHIP_NRF52840, 0xC000, 472 * KIB),
                .secondary = AREA(FLASH_CHIP_NRF52840, 0x82000, 472 * KIB),
                .scratch = AREA(FLASH_CHIP_NRF52840, 0xF8000, 4 * KIB),
            },
        [FLASH_MAP_NRF52840DK] =
            {
                .board = "nrf52840dk",
                .ble = true,
                .boot = AREA(FLASH_CHIP_NRF52840, 0x0, 48 * KIB),
                .primary = AREA(FLASH_CHIP_NRF52840, 0xC000, 472 * KIB),
                .secondary = AREA(FLASH_CHIP_NRF52840, 0x82000, 472 * KIB),
                .scratch = AREA(FLASH_CHIP_NRF52840, 0xF8000, 4 * KIB),
            },
        [FLASH_MAP_NRF52840DK_EXT] =
            {
                .board = "nrf52840dk-ext",
                .ble = true,
                .boot = AREA(FLASH_CHIP_NRF52840, 0x0, 48 * KIB),
                .primary = AREA(FLASH_CHIP_NRF52840, 0xC000, 472 * KIB),
                .secondary = AREA(FLASH_CHIP_MX25R64, 0x0, 472 * KIB),
                .scratch = AREA(FLASH_CHIP_NRF52840, 0xF8000, 4 * KIB),
            },
        [FLASH_MAP_NRF5340DK] =
            {
                .board = "nrf5340dk",
                .ble = true,
                .boot = AREA(FLASH_CHIP_NRF5340, 0x0, 64 * KIB),
                .primary = AREA(FLASH_CHIP_NRF5340, 0x10000, 464 * KIB),
                .secondary = AREA(FLASH_CHIP_NRF5340, 0x84000, 464 * KIB),
                .scratch = AREA(FLASH_CHIP_NRF5340, 0xF8000, 4 * KIB),
            },
        [FLASH_MAP_NRF54L15DK] =
            {
                .board = "nrf54l15dk",
                .ble = true,
                .boot = AREA(FLASH_CHIP_NRF54L15, 0x0, 64 * KIB),
                .primary = AREA(FLASH_CHIP_NRF54L15, 0x10000, 664 * KIB),
                .secondary = AREA(FLASH_CHIP_NRF54L15, 0xB6000, 664 * KIB),
                .scratch = AREA(FLASH_CHIP_NRF54L15, 0x15C000, 4 * KIB),
            },
        [FLASH_MAP_RAK3172] =
            {
                .board = "rak3172",
                .ble = false, /* STM32WLE5: LoRa only (ST RM0461) */
                .boot = AREA(FLASH_CHIP_STM32WLE5, 0x0, 32 * KIB),
                .primary = AREA(FLASH_CHIP_STM32WLE5, 0x8000, 108 * KIB),
                .secondary = AREA(FLASH_CHIP_STM32WLE5, 0x23000, 108 * KIB),
                .scratch = AREA(FLASH_CHIP_STM32WLE5, 0x3E000, 2 * KIB),
            },
        [FLASH_MAP_RAK11720] =
            {
                .board = "rak11720",
                .ble = true,
                .boot = AREA(FLASH_CHIP_APOLLO3, 0xC000, 48 * KIB),
                .primary = AREA(FLASH_CHIP_APOLLO3, 0x18000, 456 * KIB),
                .secondary = AREA(FLASH_CHIP_APOLLO3, 0x8A000, 456 * KIB),
                .scratch = AREA(FLASH_CHIP_APOLLO3, 0xFC000, 8 * KIB),
            },
        [FLASH_MAP_NRF52DK] =
            {
                .board = "nrf52dk",
                .ble = true,
                .boot = AREA(FLASH_CHIP_NRF52832, 0x0, 48 * KIB),
                .primary = AREA(FLASH_CHIP_NRF52832, 0xC000, 220 * KIB),
                .secondary = AREA(FLASH_CHIP_NRF52832, 0x43000, 220 * KIB),
                .scratch = AREA(FLASH_CHIP_NRF52832, 0x7A000, 4 * KIB),
            },
        [FLASH_MAP_NUCLEO_F429ZI] =
            {
                .board = "nucleo_f429zi",
                .ble = false, /* STM32F429: no radio */
                .boot = AREA(FLASH_CHIP_STM32F429, 0x0, 32 * KIB),
                .primary = AREA(FLASH_CHIP_STM32F429, 0x20000, 256 * KIB),
                .secondary = AREA(FLASH_CHIP_STM32F429, 0x60000, 256 * KIB),
                .scratch = AREA(FLASH_CHIP_STM32F429, 0xA0000, 128 * KIB),
            },
        [FLASH_MAP_NRF54L15DK_EXT] =
            {
                .board = "nrf54l15dk-ext",
                .ble = true,
                .boot = AREA(FLASH_CHIP_NRF54L15, 0x0, 64 * KIB),
                .primary = AREA(FLASH_CHIP_NRF54L15, 0x10000, 664 * KIB),
                .secondary = AREA(FLASH_CHIP_MX25R64_SPI, 0x0, 664 * KIB),
                .scratch = AREA(FLASH_CHIP_NRF54L15, 0x15C000, 4 * KIB),
            },
};

int flash_map_board(enum flash_map_board b, struct flash_map *out)
{
    if ((unsigned)b >= FLASH_MAP_BOARD_COUNT || out == NULL)
        return SIM_EINVAL;
    *out = boards[b];
    return 0;
}

const char *const flash_map_board_names[] = {
    "rak4631",  "nrf52840dk", "nrf52840dk-ext", "nrf5340dk",      "nrf54l15dk", "rak3172",
    "rak11720", "nrf52dk",    "nucleo_f429zi",  "nrf54l15dk-ext", NULL};

int flash_map_find(const char *name, enum flash_map_board *out, struct sim_diag *d)
{
    for (int i = 0; name != NULL && i < FLASH_MAP_BOARD_COUNT; i++) {
        if (strcmp(name, boards[i].board) == 0) {
            *out = (enum flash_map_board)i;
            return 0;
        }
    }
    sim_diag_add(d,
                 "unknown board '%s' (known: rak4631, nrf52840dk, nrf52840dk-ext, nrf5340dk, "
                 "nrf54l15dk, rak3172, rak11720, nrf52dk, nucleo_f429zi, nrf54l15dk-ext)",
                 name ? name : "(null)");
    return SIM_ENOENT;
}

uint32_t flash_map_sector_size(const struct flash_map_area *a)
{
    struct flash_chip c;
    if (flash_chip_profile(a->chip, &c) != 0)
        return 0;
    return flash_chip_sector_at(&c, a->off, NULL);
}

/* True when `off` is the first byte of a sector of c, or its end. */
static bool on_boundary(const struct flash_chip *c, uint64_t off)
{
    uint32_t start;
    if (off == c->size)
        return true;
    return off < c->size && flash_chip_sector_at(c, (uint32_t)off, &start) != 0 && start == off;
}

/* True when every sector of [off, off + size) is `sector` bytes. */
static bool uniform(const struct flash_chip *c, uint32_t off, uint32_t size, uint32_t sector)
{
    for (uint64_t o = off; o < (uint64_t)off + size;) {
        uint32_t s = flash_chip_sector_at(c, (uint32_t)o, NULL);
        if (s != sector)
            return false;
        o += s;
    }
    return true;
}

uint32_t flash_map_sectors(const struct flash_map_area *a)
{
    uint32_t s = flash_map_sector_size(a);
    return s == 0 ? 0 : a->size / s;
}

static int check_area(const char *board, const char *what, const struct flash_map_area *a,
                      int required, struct sim_diag *d)
{
    struct flash_chip c;

    if (a->size == 0) {
        if (required)
            sim_diag_add(d, "%s: %s area is missing (size 0)", board, what);
        return required ? 1 : 0;
    }
    if (flash_chip_profile(a->chip, &c) != 0) {
        sim_diag_add(d, "%s: %s area is on an unknown chip %d", board, what, (int)a->chip);
        return 1;
    }
    if ((uint64_t)a->off + a->size > c.size) {
        sim_diag_add(d, "%s: %s area 0x%x+0x%x ends past the %u-byte %s", board, what, a->off,
                     a->size, c.size, c.name);
        return 1;
    }
    if (!on_boundary(&c, a->off) || !on_boundary(&c, (uint64_t)a->off + a->size)) {
        sim_diag_add(d, "%s: %s area 0x%x+0x%x is not aligned to %s sectors of %u bytes", board,
                     what, a->off, a->size, c.name, flash_chip_sector_at(&c, a->off, NULL));
        return 1;
    }
    /* The swap engine times every slot sector as one of the chip's sector_size. */
    if (strcmp(what, "boot") != 0 && !uniform(&c, a->off, a->size, c.sector_size)) {
        sim_diag_add(d,
                     "%s: %s area 0x%x+0x%x spans %s sectors other than %u bytes; slots in "
                     "non-uniform sectors are not modelled",
                     board, what, a->off, a->size, c.name, c.sector_size);
        return 1;
    }
    return 0;
}

static int overlap(const struct flash_map_area *a, const struct flash_map_area *b)
{
    if (a->size == 0 || b->size == 0 || a->chip != b->chip)
        return 0;
    return a->off < b->off + b->size && b->off < a->off + a->size;
}

int flash_map_check(const struct flash_map *m, struct sim_diag *d)
{
    const char *board = (m && m->board) ? m->board : "flash map";
    const struct flash_map_area *areas[4];
    static const char *const names[4] = {"boot", "primary", "secondary", "scratch"};
    int bad = 0;

    if (m == NULL) {
        sim_diag_add(d, "flash map: none given");
        return SIM_EINVAL;
    }
    areas[0] = &m->boot;
    areas[1] = &m->primary;
    areas[2] = &m->secondary;
    areas[3] = &m->scratch;
    for (int i = 0; i < 4; i++)
        bad |= check_area(board, names[i], areas[i], i == 1 || i == 2, d);
    for (int i = 0; i < 4; i++) {
        for (int j = i + 1; j < 4; j++) {
            if (overlap(areas[i], areas[j])) {
                sim_diag_add(d, "%s: %s and %s areas overlap", board, names[i], names[j]);
                bad = 1;
            }
        }
    }
    return bad ? SIM_EINVAL : 0;
}

static uint32_t sub_or_zero(uint32_t a, uint64_t b)
{
    return (uint64_t)a > b ? (uint32_t)(a - b) : 0;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

uint32_t flash_map_max_image(const struct flash_map *m, enum flash_map_extra extra,
                             uint32_t trailer_bytes)
{
    uint32_t sp = flash_map_sector_size(&m->primary);
    uint32_t ss = flash_map_sector_size(&m->secondary);
    if (sp == 0 || ss == 0)
        return 0;
    /* Trailer sectors: the trailer occupies whole sectors at the end of a slot in the
     * swap-move and swap-offset size rules (app_max_sectors() in
     * mcu-tools/mcuboot: boot/bootutil/src/swap_move.c and swap_offset.c). */
    uint64_t tp = (uint64_t)(trailer_bytes + sp - 1) / sp * sp;
    uint64_t ts = (uint64_t)(trailer_bytes + ss - 1) / ss * ss;

    switch (extra) {
    case FLASH_MAP_EXTRA_NONE:
        return min_u32(sub_or_zero(m->primary.size, trailer_bytes),
                       sub_or_zero(m->secondary.size, trailer_bytes));
    case FLASH_MAP_EXTRA_PRIMARY:
        return min_u32(sub_or_zero(m->primary.size, (uint64_t)sp + tp),
                       sub_or_zero(m->secondary.size, trailer_bytes));
    case FLASH_MAP_EXTRA_SECONDARY:
        return min_u32(sub_or_zero(m->primary.size, tp),
                       sub_or_zero(m->secondary.size, (uint64_t)ss + ts));
    }
    return 0;
}
