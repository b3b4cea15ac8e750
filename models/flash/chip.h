/* models/flash/chip.h - flash chip profiles and the time each flash operation takes.
 *
 * A profile is plain data: geometry (erase sector, write block, program unit) and timing
 * (erase per sector, program per unit, read per KiB) for the worst case (MAX, the default)
 * and the typical case (TYP). Every figure without a primary source (*unverified*) is a
 * field the caller may override; such fields are listed in `unverified` (FLASH_CHIP_UV_*
 * bits).
 * Sources: per profile in chip.c.
 */
#ifndef MODELS_FLASH_CHIP_H
#define MODELS_FLASH_CHIP_H

#include "sim/error.h"

#include <stdbool.h>
#include <stdint.h>
#include "sim/scenario/settings.h"

enum flash_chip_id {
    FLASH_CHIP_NRF52840,    /* RAK4631, nRF52840 DK: NVMC, 4 KiB pages */
    FLASH_CHIP_NRF5340,     /* application core NVMC, 4 KiB pages */
    FLASH_CHIP_NRF54L15,    /* RRAM: no erase needed, logical 4 KiB blocks */
    FLASH_CHIP_STM32WLE5,   /* RAK3172: 2 KiB pages, 64-bit double-word writes */
    FLASH_CHIP_APOLLO3,     /* RAK11720: 8 KiB pages; all timing is assumed */
    FLASH_CHIP_MX25R64,     /* MX25R6435F 8 MiB QSPI NOR on the nRF52840 DK */
    FLASH_CHIP_NRF52832,    /* nRF52 DK: NVMC, 4 KiB pages, 338 us words, no partial erase */
    FLASH_CHIP_STM32F429,   /* NUCLEO-F429ZI: 16/64/128 KiB sectors, byte writes, no radio */
    FLASH_CHIP_MX25R64_SPI, /* the same MX25R6435F on plain SPI at 8 MHz (nRF54L15 DK) */
    FLASH_CHIP_COUNT
};

/* Which column of the timing tables the timing functions use. */
enum flash_chip_corner {
    FLASH_CHIP_MAX = 0, /* datasheet / driver maximum: the default, what drivers budget */
    FLASH_CHIP_TYP = 1, /* typical */
    FLASH_CHIP_CORNER_COUNT
};

/* Bits of flash_chip.unverified: the figure is an assumption, not a sourced value. */
enum flash_chip_unverified {
    FLASH_CHIP_UV_ERASE_MAX = 1u << 0,
    FLASH_CHIP_UV_ERASE_TYP = 1u << 1,
    FLASH_CHIP_UV_PROG_MAX = 1u << 2,
    FLASH_CHIP_UV_PROG_TYP = 1u << 3,
    FLASH_CHIP_UV_READ = 1u << 4,
    FLASH_CHIP_UV_BLE_SLOWDOWN = 1u << 5,
    FLASH_CHIP_UV_ENDURANCE = 1u << 6
};

/* A run of `count` erase sectors of `size` bytes: chips whose sectors differ in size list
 * them from address 0 (STM32F4: 4 x 16 KiB, 1 x 64 KiB, then 128 KiB sectors). */
struct flash_chip_region {
    uint32_t count;
    uint32_t size;
};

/* One chip. Plain data: copy it from flash_chip_profile(), override what a scenario sets,
 * check it with flash_chip_check(). Times are int64_t ns. */
struct flash_chip {
    const char *name;                         /* "nrf52840"; static storage */
    int64_t t_erase[FLASH_CHIP_CORNER_COUNT]; /* ns per sector erase, [MAX] and [TYP] */
    int64_t t_prog[FLASH_CHIP_CORNER_COUNT];  /* ns per program unit, [MAX] and [TYP] */
    int64_t t_read_kib;                       /* ns to read 1 KiB (memory-mapped or QSPI) */
    double ble_slowdown;           /* >= 1: wall-clock factor on application-side flash work
                                     while a BLE link is active (radio time-slotting) */
    uint32_t size;                 /* bytes of the whole device */
    uint32_t sector_size;          /* erase unit in bytes (logical block on RRAM); on a chip
                                      with `regions`, the largest (the slots' sectors) */
    uint32_t write_block;          /* minimum write size and alignment (flash_area_align) */
    uint32_t prog_unit;            /* bytes per timed program operation (word, line, page) */
    uint32_t endurance;            /* erase (or write, RRAM) cycles per sector */
    uint32_t unverified;           /* FLASH_CHIP_UV_* bits */
    enum flash_chip_corner corner; /* which timing column the functions use; MAX by default */
    bool max_only;                 /* the datasheet (or driver) gives maxima only: the TYP
                                      column copies MAX, so "typical" is the maximum */
    bool needs_erase;              /* false on RRAM: MCUboot's region erase is a no-op */
    uint8_t erased_val;            /* value of an erased byte (0xff) */
    uint32_t write_buffer;         /* bytes the controller collects before it commits them
                                      (nRF54L RRAMC write buffer as Zephyr configures it);
                                      0: none */
    const struct flash_chip_region *regions; /* non-uniform sectors from address 0, static
                                                storage; NULL: all sectors are sector_size */
    uint32_t n_regions;
    /* Radio synchronisation of the application's flash work (models/flash/radio_sync.h):
     * the driver's write and erase windows, ns; 0: the chip needs none (its work runs at
     * once, times ble_slowdown while a BLE link is up). */
    int64_t sync_write_window_ns, sync_erase_window_ns;
};

/* Copy the built-in profile of `id` into *out. Returns 0, or SIM_EINVAL for an unknown id
 * (then *out is unchanged). */
int flash_chip_profile(enum flash_chip_id id, struct flash_chip *out);

/* Find a profile id by name ("nrf52840", "nrf5340", "nrf54l15", "stm32wle5", "apollo3",
 * "mx25r64", "nrf52832", "stm32f429", "mx25r64-spi"; case-sensitive). Returns 0, or SIM_ENOENT with
 * a message listing the names. */
int flash_chip_find(const char *name, enum flash_chip_id *out, struct sim_diag *d);

/* Name of a built-in profile; "?" for an unknown id. */
const char *flash_chip_name(enum flash_chip_id id);

/* Check a (possibly overridden) profile: sizes non-zero, powers of two where the hardware
 * requires it, write_block divides prog_unit and sector_size, times >= 0, typ <= max,
 * ble_slowdown >= 1. Reports every problem into d. Returns 0 or SIM_EINVAL. */
int flash_chip_check(const struct flash_chip *c, struct sim_diag *d);

/* ---- Timing. Pure functions of the profile; the radio is off (MCUboot) unless stated. ---- */

/* ns to erase n sectors one by one; 0 when the chip needs no erase (RRAM). */
int64_t flash_chip_erase_ns(const struct flash_chip *c, uint32_t n_sectors);

/* ns to program n bytes: rounded up to write blocks, then to program units. */
int64_t flash_chip_write_ns(const struct flash_chip *c, uint64_t n_bytes);

/* ns to read n bytes. */
int64_t flash_chip_read_ns(const struct flash_chip *c, uint64_t n_bytes);

/* ns to copy n bytes within or between areas of this chip (read + program). */
int64_t flash_chip_copy_ns(const struct flash_chip *c, uint64_t n_bytes);

/* Wall-clock ns of application-side flash work that takes `ns` with the radio off:
 * multiplied by ble_slowdown when a BLE link is active (zephyrproject-rtos/zephyr:
 * drivers/flash/soc_flash_nrf.c runs erase and write in radio-free time slots). */
int64_t flash_chip_app_ns(const struct flash_chip *c, int64_t ns, bool ble_active);

/* The erase sector of c that holds byte `off`: its size in bytes (0 when off is past the
 * chip) and, when start != NULL, its first byte. Uniform chips: sector_size. */
uint32_t flash_chip_sector_at(const struct flash_chip *c, uint32_t off, uint32_t *start);

/* ns of the radio-synchronised time slot that Zephyr's nRF RRAM driver requests for one
 * write (zephyrproject-rtos/zephyr: drivers/flash/soc_flash_nrf_rram.c, FLASH_SLOT_WRITE):
 * sized by the write buffer in 16-byte lines, 500 us for < 2 lines up to 8 ms for 17-32
 * lines (the driver notes that the longest, 32-line write takes 7107 us). 0 for chips
 * without a write buffer. Data for the radio-aware flash timing. */
int64_t flash_chip_write_window_ns(const struct flash_chip *c);

/* Number of sectors that cover n bytes (ceil). */
uint32_t flash_chip_sectors_for(const struct flash_chip *c, uint64_t n_bytes);

/* ---- settings: devices[].flash (table in chip.c) ---- */

/* A group's flash timing: the datasheet column, and the factor on application flash work
 * while a BLE link is up (0: each chip's own, flash_chip.ble_slowdown). */
struct flash_chip_settings {
    int timing;          /* enum flash_chip_corner */
    double ble_slowdown; /* >= 1, or 0 */
    struct scenario_pos ble_slowdown_at;
    struct scenario_pos at; /* the flash map (or its group when absent) */
};
extern const struct scenario_schema flash_chip_settings_schema;

/* What the table cannot say: a slowdown below 1. key names the map ("devices[0].flash").
 * Returns 0 or SIM_EINVAL with one message at the key's position. */
int flash_chip_settings_check(const struct flash_chip_settings *s, const char *key,
                              struct sim_diag *d);
/* Time c's operations as s says: its timing column, and s's slowdown unless 0. */
void flash_chip_apply_settings(struct flash_chip *c, const struct flash_chip_settings *s);

#endif /* MODELS_FLASH_CHIP_H */
