/* tests/test_flash_map.c - board flash maps and per-mode image limits (models/flash/map). */
#include "models/flash/map.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define KIB          1024u

static void every_board_map_is_consistent(void **state)
{
    (void)state;
    for (int b = 0; b < FLASH_MAP_BOARD_COUNT; b++) {
        struct flash_map m;
        struct sim_diag d;
        sim_diag_init(&d);
        assert_int_equal(flash_map_board((enum flash_map_board)b, &m), 0);
        print_message("case: board %s\n", m.board);
        if (flash_map_check(&m, &d) != 0)
            fail_msg("%s", d.text);
        enum flash_map_board back;
        assert_int_equal(flash_map_find(m.board, &back, NULL), 0);
        assert_int_equal(back, b);
    }
}

/* EVIDENCE-OF: default partitions of zephyrproject-rtos/zephyr:
 * dts/common/nordic/nrf52840_partition.dtsi, boards/rakwireless/rak3172/rak3172.dts and
 * boards/rakwireless/rak11720/rak11720.dts (others: sources in models/flash/map.c). */
static void slot_sizes_follow_reference(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum flash_map_board b;
        uint32_t slot, sectors;
    } cases[] = {
        {"nRF52840 slots are 472 KiB = 118 pages", FLASH_MAP_NRF52840DK, 472 * KIB, 118},
        {"RAK3172 slots are 108 KiB = 54 pages of 2 KiB", FLASH_MAP_RAK3172, 108 * KIB, 54},
        {"RAK11720 slots are 456 KiB = 57 blocks of 8 KiB", FLASH_MAP_RAK11720, 456 * KIB, 57},
        {"nRF54L15 slots are 664 KiB", FLASH_MAP_NRF54L15DK, 664 * KIB, 166},
        /* boards/nordic/nrf52dk/nrf52dk_nrf52832.dts: slots 0x37000 at 0xC000 and 0x43000. */
        {"nRF52 DK slots are 220 KiB = 55 pages", FLASH_MAP_NRF52DK, 220 * KIB, 55},
        /* boards/st/nucleo_f429zi/nucleo_f429zi.dts: slots 256 KiB at 0x20000 and 0x60000. */
        {"NUCLEO-F429ZI slots are 256 KiB = 2 sectors of 128 KiB", FLASH_MAP_NUCLEO_F429ZI,
         256 * KIB, 2},
        {"nRF54L15 DK with SPI secondary keeps 664 KiB slots", FLASH_MAP_NRF54L15DK_EXT, 664 * KIB,
         166},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct flash_map m;
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(flash_map_board(cases[i].b, &m), 0);
        assert_int_equal(m.primary.size, cases[i].slot);
        assert_int_equal(m.secondary.size, cases[i].slot);
        assert_int_equal(flash_map_sectors(&m.primary), cases[i].sectors);
    }
}

/* Max image per mode (mcu-tools/mcuboot: boot/bootutil/src/swap_move.c, swap_offset.c,
 * swap_scratch.c, loader.c). nRF52840: N = 118 sectors of 4 KiB, trailer 1584 B (one
 * sector) for swap-move/scratch, 1080 B for swap-offset (boot_status_sz() and
 * boot_trailer_info_sz() in bootutil_priv.h / bootutil_area.c, w = 4, 128 sectors). */
static void max_image_reflects_the_extra_sector(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum flash_map_board b;
        enum flash_map_extra extra;
        uint32_t trailer, want;
    } cases[] = {
        {"overwrite/scratch: slot minus trailer bytes", FLASH_MAP_NRF52840DK, FLASH_MAP_EXTRA_NONE,
         1584, 472 * KIB - 1584},
        {"swap-move: (N-1)*S minus the trailer sector = 464 KiB", FLASH_MAP_NRF52840DK,
         FLASH_MAP_EXTRA_PRIMARY, 1584, 464 * KIB},
        {"swap-offset with equal slots: secondary loses sector 0 and its trailer sector",
         FLASH_MAP_NRF52840DK, FLASH_MAP_EXTRA_SECONDARY, 1080, 464 * KIB},
        {"a trailer larger than the slot leaves no room", FLASH_MAP_RAK3172, FLASH_MAP_EXTRA_NONE,
         200 * KIB, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct flash_map m;
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(flash_map_board(cases[i].b, &m), 0);
        assert_int_equal(flash_map_max_image(&m, cases[i].extra, cases[i].trailer), cases[i].want);
    }
    /* swap-offset with a secondary one sector larger (Zephyr's recommended layout). */
    struct flash_map m;
    assert_int_equal(flash_map_board(FLASH_MAP_NRF52840DK, &m), 0);
    m.secondary.size += 4 * KIB;
    assert_int_equal(flash_map_max_image(&m, FLASH_MAP_EXTRA_SECONDARY, 1080), 468 * KIB);
}

static void external_secondary_lives_on_the_qspi_chip(void **state)
{
    (void)state;
    struct flash_map m;
    assert_int_equal(flash_map_board(FLASH_MAP_NRF52840DK_EXT, &m), 0);
    assert_int_equal(m.primary.chip, FLASH_CHIP_NRF52840);
    assert_int_equal(m.secondary.chip, FLASH_CHIP_MX25R64);
    assert_int_equal(flash_map_check(&m, NULL), 0);
}

/* The NUCLEO-F429ZI map: MCUboot in the 16 KiB sectors, the slots and the 128 KiB scratch
 * in 128 KiB sectors, no radio; a slot moved into the small sectors is refused (the swap
 * engine times uniform sectors only), a boot area ending inside a sector is misaligned. */
static void stm32_map_respects_its_sectors(void **state)
{
    (void)state;
    struct flash_map m;
    struct sim_diag d;
    assert_int_equal(flash_map_board(FLASH_MAP_NUCLEO_F429ZI, &m), 0);
    assert_false(m.ble);
    assert_int_equal(flash_map_sector_size(&m.boot), 16 * KIB);
    assert_int_equal(flash_map_sector_size(&m.scratch), 128 * KIB);
    assert_int_equal(flash_map_check(&m, NULL), 0);
    sim_diag_init(&d);
    m.primary.off = 0x0;
    m.boot.size = 0;
    assert_int_equal(flash_map_check(&m, &d), SIM_EINVAL);
    assert_non_null(strstr(d.text, "non-uniform sectors are not modelled"));
    assert_int_equal(flash_map_board(FLASH_MAP_NUCLEO_F429ZI, &m), 0);
    sim_diag_init(&d);
    m.boot.size = 24 * KIB;
    assert_int_equal(flash_map_check(&m, &d), SIM_EINVAL);
    assert_non_null(strstr(d.text, "not aligned"));
    /* The other new boards have a radio; the nRF54L15 DK variant's secondary is on SPI. */
    assert_int_equal(flash_map_board(FLASH_MAP_NRF54L15DK_EXT, &m), 0);
    assert_true(m.ble);
    assert_int_equal(m.primary.chip, FLASH_CHIP_NRF54L15);
    assert_int_equal(m.secondary.chip, FLASH_CHIP_MX25R64_SPI);
    assert_int_equal(flash_map_board(FLASH_MAP_NRF52DK, &m), 0);
    assert_true(m.ble);
    assert_int_equal(m.primary.chip, FLASH_CHIP_NRF52832);
}

static void broken_maps_are_reported(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int what;
        const char *want;
    } cases[] = {
        {"misaligned slot", 0, "not aligned"},
        {"slot past the end of the chip", 1, "ends past"},
        {"overlapping slots", 2, "overlap"},
        {"missing secondary", 3, "missing"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct flash_map m;
        struct sim_diag d;
        sim_diag_init(&d);
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(flash_map_board(FLASH_MAP_NRF52840DK, &m), 0);
        switch (cases[i].what) {
        case 0:
            m.primary.off += 100;
            break;
        case 1:
            m.secondary.off = 0xFF000;
            break;
        case 2:
            m.secondary.off = m.primary.off + 4096;
            break;
        default:
            m.secondary.size = 0;
            break;
        }
        assert_int_equal(flash_map_check(&m, &d), SIM_EINVAL);
        assert_non_null(strstr(d.text, cases[i].want));
    }
    struct sim_diag d;
    sim_diag_init(&d);
    enum flash_map_board b;
    assert_int_equal(flash_map_find("nrf52832dk", &b, &d), SIM_ENOENT);
    assert_non_null(strstr(d.text, "unknown board"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_board_map_is_consistent),
        cmocka_unit_test(slot_sizes_follow_reference),
        cmocka_unit_test(max_image_reflects_the_extra_sector),
        cmocka_unit_test(external_secondary_lives_on_the_qspi_chip),
        cmocka_unit_test(stm32_map_respects_its_sectors),
        cmocka_unit_test(broken_maps_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
