/* models/flash/map.h - per-board flash maps: where MCUboot, the two image slots and the
 * scratch area live, on which chip, and how large an image each upgrade mode allows.
 *
 * Plain data, by value. Offsets and sizes are bytes within the area's chip. A board map is
 * the Zephyr/NCS default partition table (sources in map.c); a scenario may override it and
 * check it with flash_map_check().
 */
#ifndef MODELS_FLASH_MAP_H
#define MODELS_FLASH_MAP_H

#include "models/flash/chip.h"
#include "sim/error.h"

#include <stdbool.h>
#include <stdint.h>

enum flash_map_board {
    FLASH_MAP_RAK4631,        /* nRF52840 */
    FLASH_MAP_NRF52840DK,     /* nRF52840, both slots internal */
    FLASH_MAP_NRF52840DK_EXT, /* nRF52840, secondary slot on the MX25R64 QSPI flash */
    FLASH_MAP_NRF5340DK,      /* nRF5340 application core */
    FLASH_MAP_NRF54L15DK,     /* nRF54L15 RRAM */
    FLASH_MAP_RAK3172,        /* STM32WLE5 */
    FLASH_MAP_RAK11720,       /* Apollo3 Blue */
    FLASH_MAP_NRF52DK,        /* nRF52832 */
    FLASH_MAP_NUCLEO_F429ZI,  /* STM32F429ZI, 128 KiB sectors, no radio */
    FLASH_MAP_NRF54L15DK_EXT, /* nRF54L15 RRAM, secondary slot on the MX25R64 over SPI */
    FLASH_MAP_BOARD_COUNT
};

/* One partition. size == 0 means absent. */
struct flash_map_area {
    enum flash_chip_id chip;
    uint32_t off;  /* bytes from the start of the chip */
    uint32_t size; /* bytes; a whole number of the chip's sectors */
};

struct flash_map {
    const char *board;               /* "nrf52840dk"; static storage */
    struct flash_map_area boot;      /* MCUboot itself */
    struct flash_map_area primary;   /* slot 0: the running image */
    struct flash_map_area secondary; /* slot 1: the upload target */
    struct flash_map_area scratch;   /* swap-scratch only; one sector by default */
    bool ble;                        /* the SoC has a BLE radio (else: UART only) */
};

/* Where swap-move and swap-offset need their extra sector (mcu-tools/mcuboot:
 * boot/bootutil/src/swap_move.c, swap_offset.c). */
enum flash_map_extra {
    FLASH_MAP_EXTRA_NONE,     /* overwrite-only, swap-scratch, direct-xip, ram-load */
    FLASH_MAP_EXTRA_PRIMARY,  /* swap-move: one sector of the primary is the move room */
    FLASH_MAP_EXTRA_SECONDARY /* swap-offset: the upload starts at secondary sector 1 */
};

/* Copy the built-in map of a board. Returns 0 or SIM_EINVAL for an unknown board. */
int flash_map_board(enum flash_map_board b, struct flash_map *out);

/* Find a board by name ("rak4631", "nrf52840dk", "nrf52840dk-ext", "nrf5340dk",
 * "nrf54l15dk", "rak3172", "rak11720", "nrf52dk", "nucleo_f429zi", "nrf54l15dk-ext"). Returns 0 or
 * SIM_ENOENT with a message. */
int flash_map_find(const char *name, enum flash_map_board *out, struct sim_diag *d);

/* Check a map against its chips: areas inside their chip, on sector boundaries (of
 * non-uniform chips too), not overlapping on the same chip, slots present, and the slots and
 * scratch in sectors of the chip's sector_size (the swap engine's uniform sectors). Reports every
 * problem into d. Returns 0 or SIM_EINVAL. */
int flash_map_check(const struct flash_map *m, struct sim_diag *d);

/* Sectors in an area (size / sector size of its chip); 0 for an absent area. */
uint32_t flash_map_sectors(const struct flash_map_area *a);

/* Sector size in bytes of an area: the size of its first sector on its chip (the chip's
 * sector_size on uniform chips); 0 for an unknown chip or an area past the chip. */
uint32_t flash_map_sector_size(const struct flash_map_area *a);

/* Largest image (header + body + TLVs, bytes) that the map allows when the primary slot
 * carries a trailer of trailer_bytes (mcuboot_trailer_size()):
 *   NONE:      min(primary, secondary) - trailer_bytes       (loader.c, swap_scratch.c)
 *   PRIMARY:   primary - 1 sector - trailer sectors, and it must fit the secondary
 *              (swap_move.c)
 *   SECONDARY: primary - trailer sectors, and secondary - 1 sector - trailer sectors
 *              (swap_offset.c)
 * (files of mcu-tools/mcuboot: boot/bootutil/src/)
 * Returns 0 when nothing fits. */
uint32_t flash_map_max_image(const struct flash_map *m, enum flash_map_extra extra,
                             uint32_t trailer_bytes);

/* Board names as a scenario gives them (devices[].board), in enum flash_map_board order,
 * NULL-terminated; each is its map's `board`. */
extern const char *const flash_map_board_names[];

#endif /* MODELS_FLASH_MAP_H */
