/* tests/test_flash_chip.c - flash chip profiles and operation timing (models/flash/chip). */
#include "models/flash/chip.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Geometry of every profile, as its sources state it (cited per profile in
 * models/flash/chip.c). */
static const struct {
    const char *name;
    enum flash_chip_id id;
    uint32_t size, sector, write_block;
    int needs_erase;
} geometry[] = {
    {"nRF52840: 1 MiB of 4 KiB pages, 4-byte words", FLASH_CHIP_NRF52840, 1024 * 1024, 4096, 4, 1},
    {"nRF5340: 1 MiB of 4 KiB pages, 4-byte words", FLASH_CHIP_NRF5340, 1024 * 1024, 4096, 4, 1},
    {"nRF54L15: 381 logical 4 KiB blocks of RRAM, 16-byte lines, no erase", FLASH_CHIP_NRF54L15,
     381 * 4096, 4096, 16, 0},
    {"STM32WLE5: 128 pages of 2 KiB, 8-byte double words", FLASH_CHIP_STM32WLE5, 256 * 1024, 2048,
     8, 1},
    {"Apollo3: 8 KiB erase blocks, 4-byte writes", FLASH_CHIP_APOLLO3, 1024 * 1024, 8192, 4, 1},
    {"MX25R64: 8 MiB of 4 KiB sectors", FLASH_CHIP_MX25R64, 8 * 1024 * 1024, 4096, 4, 1},
    {"nRF52832: 512 KiB of 4 KiB pages, 4-byte words", FLASH_CHIP_NRF52832, 512 * 1024, 4096, 4, 1},
    {"STM32F429: 2 MiB, slots in 128 KiB sectors, byte writes", FLASH_CHIP_STM32F429, 2048 * 1024,
     128 * 1024, 1, 1},
    {"MX25R64 on SPI: 8 MiB of 4 KiB sectors, byte writes", FLASH_CHIP_MX25R64_SPI, 8 * 1024 * 1024,
     4096, 1, 1},
};

/* EVIDENCE-OF: sector sizes and write units per chip: Zephyr SoC headers, devicetrees and
 * drivers (soc/nordic/nrf52/soc.h, drivers/flash/soc_flash_nrf.c, soc_flash_nrf_rram.c,
 * boards/rakwireless/rak11720/rak11720.dts), ST RM0461, the MX25R6435F SFDP table. */
static void profiles_have_reference_geometry(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(geometry); i++) {
        struct flash_chip c;
        struct sim_diag d;
        sim_diag_init(&d);
        print_message("case: %s\n", geometry[i].name);
        assert_int_equal(flash_chip_profile(geometry[i].id, &c), 0);
        assert_int_equal(c.size, geometry[i].size);
        assert_int_equal(c.sector_size, geometry[i].sector);
        assert_int_equal(c.write_block, geometry[i].write_block);
        assert_int_equal(c.needs_erase, geometry[i].needs_erase);
        assert_int_equal(c.corner, FLASH_CHIP_MAX);
        assert_int_equal(flash_chip_check(&c, &d), 0);
        assert_int_equal(d.n_messages, 0);
    }
}

/* Timing at the default (MAX) corner; ns values follow from the figures cited in chip.c. */
static const struct {
    const char *name;
    enum flash_chip_id id;
    uint32_t erase_sectors;
    uint64_t write_bytes;
    int64_t want_erase_ns, want_write_ns;
} timing[] = {
    /* tERASEPAGE 85 ms, tWRITE 41 us per word -> 42 ms per 4 KiB page (derived). */
    {"nRF52840 page erase 85 ms, 4 KiB write 41.984 ms", FLASH_CHIP_NRF52840, 1, 4096, 85000000,
     1024LL * 41000},
    {"nRF52840 ten pages erase 850 ms", FLASH_CHIP_NRF52840, 10, 0, 850000000, 0},
    {"nRF52840 a 1-byte write costs one whole word", FLASH_CHIP_NRF52840, 0, 1, 0, 41000},
    {"nRF52840 a 5-byte write costs two words", FLASH_CHIP_NRF52840, 0, 5, 0, 82000},
    {"nRF5340 page erase 87.5 ms, 4 KiB write 44.032 ms", FLASH_CHIP_NRF5340, 1, 4096, 87500000,
     1024LL * 43000},
    {"nRF54L15 erase costs nothing (RRAM), 512 B write is the 7107 us worst case",
     FLASH_CHIP_NRF54L15, 100, 512, 0, 32LL * (7107000 / 32)},
    {"STM32WLE5 page erase 24.5 ms, 2 KiB write 256 double words at 91 us", FLASH_CHIP_STM32WLE5, 1,
     2048, 24500000, 256LL * 91000},
    {"MX25R64 sector erase max 240 ms, 4 KiB = 16 pages at 5.376 ms", FLASH_CHIP_MX25R64, 1, 4096,
     240000000, 16LL * 5376000},
    {"MX25R64 a 4-byte status write costs one page program", FLASH_CHIP_MX25R64, 0, 4, 0, 5376000},
    /* nRF52832: tERASEPAGE 89.7 ms and tWRITE 338 us per 4-byte word (maxima restated by
     * the S112/S132 SoftDevice specifications): one page erase is 89.7 ms, one word 338 us,
     * a 4 KiB page 1024 words = 346.112 ms (derived). */
    {"nRF52832 page erase 89.7 ms", FLASH_CHIP_NRF52832, 1, 0, 89700000, 0},
    {"nRF52832 one word write 338 us", FLASH_CHIP_NRF52832, 0, 4, 0, 338000},
    {"nRF52832 4 KiB write is 1024 words at 338 us", FLASH_CHIP_NRF52832, 1, 4096, 89700000,
     1024LL * 338000},
    /* STM32F429 at x8 parallelism (write-block-size 1): tERASE128KB max 4 s, tPROG max
     * 100 us per byte; a 128 KiB sector's program is 131072 bytes x 100 us = 13.1072 s. */
    {"STM32F429 128 KiB sector erase 4 s", FLASH_CHIP_STM32F429, 1, 0, 4000000000LL, 0},
    {"STM32F429 one byte write 100 us, a word is 4 byte programs", FLASH_CHIP_STM32F429, 0, 4, 0,
     400000},
    {"STM32F429 a whole 128 KiB sector programmed byte by byte", FLASH_CHIP_STM32F429, 0,
     128 * 1024, 0, 131072LL * 100000},
    /* MX25R64 on SPI at 8 MHz: a page program is tPP max 5376 us plus 260 bytes (4 of
     * command and address, 256 of data) x 8 bits / 8 MHz = 260 us on the bus. */
    {"MX25R64 on SPI: sector erase 240 ms, page program 5376 + 260 us", FLASH_CHIP_MX25R64_SPI, 1,
     256, 240000000, 5636000},
};

static void timing_at_max_corner_follows_reference(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(timing); i++) {
        struct flash_chip c;
        print_message("case: %s\n", timing[i].name);
        assert_int_equal(flash_chip_profile(timing[i].id, &c), 0);
        assert_int_equal(flash_chip_erase_ns(&c, timing[i].erase_sectors), timing[i].want_erase_ns);
        assert_int_equal(flash_chip_write_ns(&c, timing[i].write_bytes), timing[i].want_write_ns);
    }
}

/* Selecting the typical corner changes the time where a typical figure exists. */
static void typical_corner_is_selectable(void **state)
{
    (void)state;
    struct flash_chip c;
    assert_int_equal(flash_chip_profile(FLASH_CHIP_MX25R64, &c), 0);
    c.corner = FLASH_CHIP_TYP;
    assert_int_equal(flash_chip_erase_ns(&c, 1), 48000000);
    assert_int_equal(flash_chip_write_ns(&c, 256), 896000);
    /* nRF52840 publishes only maxima: TYP = MAX and is flagged unverified. */
    assert_int_equal(flash_chip_profile(FLASH_CHIP_NRF52840, &c), 0);
    c.corner = FLASH_CHIP_TYP;
    assert_int_equal(flash_chip_erase_ns(&c, 1), 85000000);
    assert_true(c.unverified & FLASH_CHIP_UV_ERASE_TYP);
    assert_false(c.unverified & FLASH_CHIP_UV_ERASE_MAX);
}

/* Every figure without a primary source (unverified) carries its flag. */
/* issue 12: the chips that publish maxima only (nRF52840, nRF5340: NVMC maxima; nRF54L15:
 * the RRAM driver's worst case) are flagged max_only, their typical column equals the
 * maximum, and the chips with a typical figure of their own are not flagged. */
static void max_only_chips_are_flagged(void **state)
{
    (void)state;
    static const struct {
        enum flash_chip_id id;
        bool max_only;
    } cases[] = {
        {FLASH_CHIP_NRF52840, true},     {FLASH_CHIP_NRF5340, true},
        {FLASH_CHIP_NRF54L15, true},     {FLASH_CHIP_STM32WLE5, false},
        {FLASH_CHIP_APOLLO3, false},     {FLASH_CHIP_MX25R64, false},
        {FLASH_CHIP_NRF52832, true},     {FLASH_CHIP_STM32F429, false},
        {FLASH_CHIP_MX25R64_SPI, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct flash_chip c;
        assert_int_equal(flash_chip_profile(cases[i].id, &c), 0);
        if (c.max_only != cases[i].max_only)
            fail_msg("%s: max_only %d", c.name, c.max_only);
        bool same = c.t_erase[FLASH_CHIP_TYP] == c.t_erase[FLASH_CHIP_MAX] &&
                    c.t_prog[FLASH_CHIP_TYP] == c.t_prog[FLASH_CHIP_MAX];
        if (same != cases[i].max_only)
            fail_msg("%s: typical equals maximum: %d", c.name, same);
    }
}

static void unverified_figures_are_flagged(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum flash_chip_id id;
        uint32_t must;
    } cases[] = {
        {"STM32WLE5 timings are unverified", FLASH_CHIP_STM32WLE5,
         FLASH_CHIP_UV_ERASE_MAX | FLASH_CHIP_UV_ERASE_TYP | FLASH_CHIP_UV_PROG_MAX |
             FLASH_CHIP_UV_PROG_TYP},
        {"Apollo3 timings are unverified", FLASH_CHIP_APOLLO3,
         FLASH_CHIP_UV_ERASE_MAX | FLASH_CHIP_UV_ERASE_TYP | FLASH_CHIP_UV_PROG_MAX |
             FLASH_CHIP_UV_PROG_TYP},
        {"nRF54L15 per-byte write time is unverified", FLASH_CHIP_NRF54L15, FLASH_CHIP_UV_PROG_MAX},
        {"nRF BLE slowdown is a parameter", FLASH_CHIP_NRF52840, FLASH_CHIP_UV_BLE_SLOWDOWN},
        {"internal read time is unverified (not published)", FLASH_CHIP_NRF5340,
         FLASH_CHIP_UV_READ},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct flash_chip c;
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(flash_chip_profile(cases[i].id, &c), 0);
        assert_int_equal(c.unverified & cases[i].must, cases[i].must);
    }
}

/* Typical column of the new chips: STM32F429 tERASE128KB 2 s and tPROG 16 us at x8 (typical
 * figures flagged unverified); the SPI MX25R64's typical page program is tPP 896 us plus the
 * same 260 us on the bus, and its read is 1 KiB x 8 bits / 8 MHz = 1024 us. */
static void new_chips_typical_and_bus_time(void **state)
{
    (void)state;
    struct flash_chip c;
    assert_int_equal(flash_chip_profile(FLASH_CHIP_STM32F429, &c), 0);
    c.corner = FLASH_CHIP_TYP;
    assert_int_equal(flash_chip_erase_ns(&c, 1), 2000000000LL);
    assert_int_equal(flash_chip_write_ns(&c, 1), 16000);
    assert_true(c.unverified & FLASH_CHIP_UV_PROG_TYP);
    assert_false(c.unverified & FLASH_CHIP_UV_ERASE_MAX);
    assert_int_equal(flash_chip_profile(FLASH_CHIP_MX25R64_SPI, &c), 0);
    assert_int_equal(flash_chip_read_ns(&c, 1024), 1024000);
    c.corner = FLASH_CHIP_TYP;
    assert_int_equal(flash_chip_write_ns(&c, 256), 1156000);
    /* The QSPI profile of the same part moves a KiB 16x faster (assumed 16 MB/s). */
    struct flash_chip q;
    assert_int_equal(flash_chip_profile(FLASH_CHIP_MX25R64, &q), 0);
    assert_true(flash_chip_read_ns(&q, 1024) < flash_chip_read_ns(&c, 1024));
}

/* STM32F429's non-uniform sectors (RM0090: 4 x 16, 1 x 64, 7 x 128 KiB per 1 MiB bank): the
 * sector holding an address, in both banks. */
static void stm32f429_sectors_are_non_uniform(void **state)
{
    (void)state;
    static const struct {
        uint32_t off, size, start;
    } cases[] = {
        {0x0, 16 * 1024, 0x0},           {0x7FFF, 16 * 1024, 0x4000},
        {0x10000, 64 * 1024, 0x10000},   {0x1FFFF, 64 * 1024, 0x10000},
        {0x20000, 128 * 1024, 0x20000},  {0x5FFFF, 128 * 1024, 0x40000},
        {0xFFFFF, 128 * 1024, 0xE0000},  {0x100000, 16 * 1024, 0x100000},
        {0x110000, 64 * 1024, 0x110000}, {0x1FFFFF, 128 * 1024, 0x1E0000},
    };
    struct flash_chip c;
    assert_int_equal(flash_chip_profile(FLASH_CHIP_STM32F429, &c), 0);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint32_t start = 0;
        assert_int_equal(flash_chip_sector_at(&c, cases[i].off, &start), cases[i].size);
        assert_int_equal(start, cases[i].start);
    }
    assert_int_equal(flash_chip_sector_at(&c, 2048 * 1024, NULL), 0);
    /* Uniform chips: the sector size everywhere. */
    assert_int_equal(flash_chip_profile(FLASH_CHIP_NRF52832, &c), 0);
    uint32_t start = 0;
    assert_int_equal(flash_chip_sector_at(&c, 0x4321, &start), 4096);
    assert_int_equal(start, 0x4000);
    /* Regions that do not add up to the size are reported. */
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(flash_chip_profile(FLASH_CHIP_STM32F429, &c), 0);
    c.size = 1024 * 1024;
    assert_int_equal(flash_chip_check(&c, &d), SIM_EINVAL);
    assert_non_null(strstr(d.text, "sector regions"));
}

/* nRF54L15 RRAM write buffering: Zephyr's default 1-line (16 B) buffer gets a 500 us radio
 * slot per write; the driver's table grows to 8 ms for 17-32 lines, which holds the 7107 us
 * longest write (soc_flash_nrf_rram.c). Chips without a write buffer have no such window. */
static void rram_write_window_follows_the_buffer(void **state)
{
    (void)state;
    static const struct {
        uint32_t lines;
        int64_t ns;
    } cases[] = {{1, 500000},  {2, 1000000},  {3, 1000000},  {4, 2000000}, {8, 2000000},
                 {9, 4000000}, {16, 4000000}, {17, 8000000}, {32, 8000000}};
    struct flash_chip c;
    assert_int_equal(flash_chip_profile(FLASH_CHIP_NRF54L15, &c), 0);
    assert_int_equal(c.write_buffer, 16);
    assert_int_equal(flash_chip_write_window_ns(&c), 500000);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        c.write_buffer = cases[i].lines * 16;
        assert_int_equal(flash_chip_write_window_ns(&c), cases[i].ns);
        /* The buffer's worst-case commit fits its window at 7107 us / 32 per line. */
        assert_true(flash_chip_write_ns(&c, c.write_buffer) <= cases[i].ns);
    }
    assert_int_equal(flash_chip_profile(FLASH_CHIP_NRF52832, &c), 0);
    assert_int_equal(flash_chip_write_window_ns(&c), 0);
}

static void ble_slowdown_applies_only_with_active_link(void **state)
{
    (void)state;
    struct flash_chip c;
    assert_int_equal(flash_chip_profile(FLASH_CHIP_NRF52840, &c), 0);
    int64_t t = flash_chip_erase_ns(&c, 1);
    assert_int_equal(flash_chip_app_ns(&c, t, false), t);
    assert_int_equal(flash_chip_app_ns(&c, t, true), (int64_t)(t * c.ble_slowdown));
    c.ble_slowdown = 3.0;
    assert_int_equal(flash_chip_app_ns(&c, 1000, true), 3000);
    /* The RAK3172 has no BLE radio: nothing to time-slot against. */
    assert_int_equal(flash_chip_profile(FLASH_CHIP_STM32WLE5, &c), 0);
    assert_int_equal(flash_chip_app_ns(&c, 1000, true), 1000);
}

static void copy_is_read_plus_write(void **state)
{
    (void)state;
    struct flash_chip c;
    assert_int_equal(flash_chip_profile(FLASH_CHIP_NRF52840, &c), 0);
    assert_int_equal(flash_chip_read_ns(&c, 4096), 4 * c.t_read_kib);
    assert_int_equal(flash_chip_copy_ns(&c, 4096),
                     flash_chip_read_ns(&c, 4096) + flash_chip_write_ns(&c, 4096));
    assert_int_equal(flash_chip_sectors_for(&c, 0), 0);
    assert_int_equal(flash_chip_sectors_for(&c, 1), 1);
    assert_int_equal(flash_chip_sectors_for(&c, 4096), 1);
    assert_int_equal(flash_chip_sectors_for(&c, 4097), 2);
}

static void bad_overrides_are_reported(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int field;
        const char *want;
    } cases[] = {
        {"sector size not a power of two", 0, "powers of 2"},
        {"typical erase slower than maximum", 1, "typical time exceeds"},
        {"slowdown below 1", 2, "ble_slowdown"},
        {"negative program time", 3, ">= 0 ns"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct flash_chip c;
        struct sim_diag d;
        sim_diag_init(&d);
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(flash_chip_profile(FLASH_CHIP_NRF52840, &c), 0);
        switch (cases[i].field) {
        case 0:
            c.sector_size = 3000;
            break;
        case 1:
            c.t_erase[FLASH_CHIP_TYP] = c.t_erase[FLASH_CHIP_MAX] + 1;
            break;
        case 2:
            c.ble_slowdown = 0.5;
            break;
        default:
            c.t_prog[FLASH_CHIP_MAX] = -1;
            break;
        }
        assert_int_equal(flash_chip_check(&c, &d), SIM_EINVAL);
        assert_non_null(strstr(d.text, cases[i].want));
    }
}

static void names_round_trip_and_unknown_is_reported(void **state)
{
    (void)state;
    for (int i = 0; i < FLASH_CHIP_COUNT; i++) {
        enum flash_chip_id id;
        assert_int_equal(flash_chip_find(flash_chip_name((enum flash_chip_id)i), &id, NULL), 0);
        assert_int_equal(id, i);
    }
    struct sim_diag d;
    sim_diag_init(&d);
    enum flash_chip_id id = FLASH_CHIP_NRF5340;
    assert_int_equal(flash_chip_find("nrf52833", &id, &d), SIM_ENOENT);
    assert_int_equal(id, FLASH_CHIP_NRF5340);
    assert_non_null(strstr(d.text, "unknown flash chip 'nrf52833'"));
    struct flash_chip c;
    assert_int_equal(flash_chip_profile(FLASH_CHIP_COUNT, &c), SIM_EINVAL);
    assert_string_equal(flash_chip_name(FLASH_CHIP_COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(profiles_have_reference_geometry),
        cmocka_unit_test(timing_at_max_corner_follows_reference),
        cmocka_unit_test(typical_corner_is_selectable),
        cmocka_unit_test(max_only_chips_are_flagged),
        cmocka_unit_test(unverified_figures_are_flagged),
        cmocka_unit_test(new_chips_typical_and_bus_time),
        cmocka_unit_test(stm32f429_sectors_are_non_uniform),
        cmocka_unit_test(rram_write_window_follows_the_buffer),
        cmocka_unit_test(ble_slowdown_applies_only_with_active_link),
        cmocka_unit_test(copy_is_read_plus_write),
        cmocka_unit_test(bad_overrides_are_reported),
        cmocka_unit_test(names_round_trip_and_unknown_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
