/* tests/test_mcuboot_compat.c - MCUboot's slot compatibility checks and image size limit
 * per mode (models/mcuboot/compat), and how explain reports them. Expected values follow
 * from the rules of mcu-tools/mcuboot: boot/bootutil/src/swap_move.c, swap_offset.c and
 * swap_scratch.c (boot_slots_compatible(), app_max_size(), swap_run()). */
#include "models/mcuboot/compat.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define KIB 1024u

static struct flash_map f429(void)
{
    struct flash_map m;
    assert_int_equal(flash_map_board(FLASH_MAP_NUCLEO_F429ZI, &m), 0);
    return m;
}

/* NUCLEO-F429ZI (its devicetree): two 256 KiB slots = 2 sectors of 128 KiB each. MCUboot
 * accepts the slots for swap-move (equal counts, equal sizes), but app_max_size() is
 * 2 x 128 KiB - 128 KiB (the trailer rounded up to a sector) - 128 KiB (the move room) = 0,
 * and swap-offset likewise loses the secondary's first sector: no image fits either. */
static void stm32_devicetree_slots_hold_no_swap_move_image(void **state)
{
    (void)state;
    struct flash_map m = f429();
    struct mcuboot_compat c;
    assert_int_equal(mcuboot_compat_check(&m, MCUBOOT_EXPLAIN_MOVE, &c, NULL), 0);
    assert_true(c.compatible);
    assert_int_equal(c.sector, 128 * KIB);
    assert_int_equal(c.max_image, 0);
    assert_int_equal(mcuboot_compat_check(&m, MCUBOOT_EXPLAIN_OFFSET, &c, NULL), 0);
    assert_true(c.compatible);
    assert_int_equal(c.max_image, 0);
    /* swap-scratch: the 128 KiB scratch holds a 128 KiB sector; the limit is the slot less
     * the trailer bytes. */
    assert_int_equal(mcuboot_compat_check(&m, MCUBOOT_EXPLAIN_SCRATCH, &c, NULL), 0);
    assert_true(c.compatible);
    assert_int_equal(c.max_image, 256 * KIB - c.trailer);

    struct mcuboot_explain_params p;
    struct mcuboot_explain_row rows[MCUBOOT_EXPLAIN_MODE_COUNT];
    mcuboot_explain_params_default(&p);
    assert_int_equal(mcuboot_explain(&m, 1024, &p, rows, NULL), 0);
    assert_false(rows[MCUBOOT_EXPLAIN_MOVE].fits);
    assert_false(rows[MCUBOOT_EXPLAIN_MOVE].refused);
    assert_non_null(strstr(rows[MCUBOOT_EXPLAIN_MOVE].why, "Not enough free space"));
    assert_non_null(strstr(rows[MCUBOOT_EXPLAIN_MOVE].why, "at most 0 bytes"));
    /* In place, a 1 KiB image runs from its slot. */
    assert_true(rows[MCUBOOT_EXPLAIN_DIRECT_XIP].fits);
}

/* MCUboot's recommended swap-move layout on 128 KiB sectors: a primary of 3 sectors and a
 * secondary of 2 (one more in the primary). Largest image: min(3 x 128 - 128 - 128,
 * 2 x 128 - 128) KiB = 128 KiB. A 100 KiB image swaps: 1 sector, moved up then swapped
 * (3 sector copies: move 1, swap 2), each 128 KiB sector erase 4 s at x8. */
static void stm32_layout_with_a_spare_primary_sector_swaps(void **state)
{
    (void)state;
    struct flash_map m = f429();
    m.primary = (struct flash_map_area){FLASH_CHIP_STM32F429, 0x20000, 384 * KIB};
    m.secondary = (struct flash_map_area){FLASH_CHIP_STM32F429, 0x80000, 256 * KIB};
    m.scratch = (struct flash_map_area){FLASH_CHIP_STM32F429, 0xC0000, 128 * KIB};
    assert_int_equal(flash_map_check(&m, NULL), 0);
    struct mcuboot_compat c;
    assert_int_equal(mcuboot_compat_check(&m, MCUBOOT_EXPLAIN_MOVE, &c, NULL), 0);
    assert_true(c.compatible);
    assert_int_equal(c.max_image, 128 * KIB);
    /* swap-offset wants the extra sector in the secondary: 3 and 2 is refused. */
    assert_int_equal(mcuboot_compat_check(&m, MCUBOOT_EXPLAIN_OFFSET, &c, NULL), 0);
    assert_false(c.compatible);
    assert_non_null(strstr(c.why, "not a compatible amount of sectors"));

    struct mcuboot_explain_params p;
    struct mcuboot_explain_row rows[MCUBOOT_EXPLAIN_MODE_COUNT];
    mcuboot_explain_params_default(&p);
    assert_int_equal(mcuboot_explain(&m, 100 * KIB, &p, rows, NULL), 0);
    assert_true(rows[MCUBOOT_EXPLAIN_MOVE].fits);
    assert_int_equal(rows[MCUBOOT_EXPLAIN_MOVE].max_image, 128 * KIB);
    assert_int_equal(rows[MCUBOOT_EXPLAIN_MOVE].sector_copies, 3);
    assert_true(rows[MCUBOOT_EXPLAIN_OFFSET].refused);
    assert_false(rows[MCUBOOT_EXPLAIN_OFFSET].fits);
}

/* Layouts boot_slots_compatible() refuses, each with MCUboot's own warning. */
static void refused_layouts_name_mcuboots_reason(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum mcuboot_explain_mode mode;
        struct flash_map_area primary, secondary, scratch;
        const char *want;
    } cases[] = {
        {"swap-move: 2 primary sectors, 4 secondary",
         MCUBOOT_EXPLAIN_MOVE,
         {FLASH_CHIP_STM32F429, 0x20000, 256 * KIB},
         {FLASH_CHIP_STM32F429, 0x60000, 512 * KIB},
         {FLASH_CHIP_STM32F429, 0xE0000, 128 * KIB},
         "not a compatible amount of sectors"},
        {"swap-move: 128 KiB primary sectors, 4 KiB secondary sectors",
         MCUBOOT_EXPLAIN_MOVE,
         {FLASH_CHIP_STM32F429, 0x20000, 256 * KIB},
         {FLASH_CHIP_MX25R64, 0x0, 256 * KIB},
         {FLASH_CHIP_STM32F429, 0xA0000, 128 * KIB},
         "not a compatible amount of sectors"},
        {"swap-move: equal counts, different sector sizes",
         MCUBOOT_EXPLAIN_MOVE,
         {FLASH_CHIP_NRF52840, 0xC000, 8 * KIB},
         {FLASH_CHIP_APOLLO3, 0x0, 16 * KIB},
         {FLASH_CHIP_NRF52840, 0xF8000, 4 * KIB},
         "not same sector layout"},
        {"swap-scratch: a 128 KiB sector does not fit a 16 KiB scratch",
         MCUBOOT_EXPLAIN_SCRATCH,
         {FLASH_CHIP_STM32F429, 0x20000, 256 * KIB},
         {FLASH_CHIP_STM32F429, 0x60000, 256 * KIB},
         {FLASH_CHIP_STM32F429, 0x4000, 16 * KIB},
         "not all sectors fit inside scratch"},
        {"swap-scratch: slots of different sizes",
         MCUBOOT_EXPLAIN_SCRATCH,
         {FLASH_CHIP_STM32F429, 0x20000, 256 * KIB},
         {FLASH_CHIP_STM32F429, 0x60000, 384 * KIB},
         {FLASH_CHIP_STM32F429, 0xC0000, 128 * KIB},
         "slots are not compatible"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct flash_map m = f429();
        struct mcuboot_compat c;
        struct mcuboot_explain_params p;
        struct mcuboot_explain_row rows[MCUBOOT_EXPLAIN_MODE_COUNT];
        print_message("case: %s\n", cases[i].name);
        m.primary = cases[i].primary;
        m.secondary = cases[i].secondary;
        m.scratch = cases[i].scratch;
        assert_int_equal(mcuboot_compat_check(&m, cases[i].mode, &c, NULL), 0);
        assert_false(c.compatible);
        assert_int_equal(c.max_image, 0);
        if (strstr(c.why, cases[i].want) == NULL)
            fail_msg("want '%s' in: %s", cases[i].want, c.why);
        mcuboot_explain_params_default(&p);
        assert_int_equal(mcuboot_explain(&m, 4 * KIB, &p, rows, NULL), 0);
        assert_true(rows[cases[i].mode].refused);
        assert_false(rows[cases[i].mode].fits);
        assert_non_null(strstr(rows[cases[i].mode].why, cases[i].want));
    }
}

/* Where the swap engine also models the mode, MCUboot's app_max_size() for swap-move and
 * swap-offset equals the engine's limit on every built-in board (two implementations of one
 * rule), and swap-scratch on 128 KiB sectors accepts sectors that group evenly: 4 KiB
 * secondary sectors in 128 KiB groups against a 128 KiB primary sector. */
static void mcuboot_limit_matches_the_engine_on_every_board(void **state)
{
    (void)state;
    for (int b = 0; b < FLASH_MAP_BOARD_COUNT; b++) {
        struct flash_map m;
        struct mcuboot_explain_params p;
        struct mcuboot_explain_row rows[MCUBOOT_EXPLAIN_MODE_COUNT];
        assert_int_equal(flash_map_board((enum flash_map_board)b, &m), 0);
        print_message("case: %s\n", m.board);
        mcuboot_explain_params_default(&p);
        assert_int_equal(mcuboot_explain(&m, 4 * KIB, &p, rows, NULL), 0);
        for (int mode = MCUBOOT_EXPLAIN_MOVE; mode <= MCUBOOT_EXPLAIN_OFFSET; mode++) {
            struct mcuboot_compat c;
            assert_int_equal(mcuboot_compat_check(&m, (enum mcuboot_explain_mode)mode, &c, NULL),
                             0);
            assert_true(c.compatible);
            assert_int_equal(c.max_image, rows[mode].max_image);
        }
    }
    struct flash_map m = f429();
    m.secondary = (struct flash_map_area){FLASH_CHIP_MX25R64, 0x0, 256 * KIB};
    struct mcuboot_compat c;
    assert_int_equal(mcuboot_compat_check(&m, MCUBOOT_EXPLAIN_SCRATCH, &c, NULL), 0);
    assert_true(c.compatible);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stm32_devicetree_slots_hold_no_swap_move_image),
        cmocka_unit_test(stm32_layout_with_a_spare_primary_sector_swaps),
        cmocka_unit_test(refused_layouts_name_mcuboots_reason),
        cmocka_unit_test(mcuboot_limit_matches_the_engine_on_every_board),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
