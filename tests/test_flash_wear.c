/* tests/test_flash_wear.c - per-device, per-sector wear counters (models/flash/wear). */
#include "models/flash/wear.h"

#include "sim/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void counts_are_per_device_and_per_sector(void **state)
{
    (void)state;
    struct flash_wear *w = flash_wear_new(3, 8);
    assert_non_null(w);
    assert_int_equal(flash_wear_erase(w, 1, 2, 3), 0); /* sectors 2..4 of device 1 */
    assert_int_equal(flash_wear_erase(w, 1, 4, 1), 0);
    assert_int_equal(flash_wear_write(w, 1, 4, 2), 0);
    struct flash_wear_count c;
    assert_int_equal(flash_wear_get(w, 1, 4, &c), 0);
    assert_int_equal(c.erases, 2);
    assert_int_equal(c.writes, 1);
    assert_int_equal(flash_wear_get(w, 1, 1, &c), 0);
    assert_int_equal(c.erases, 0);
    /* Other devices are untouched. */
    for (uint32_t dev = 0; dev < 3; dev += 2)
        for (uint32_t s = 0; s < 8; s++) {
            assert_int_equal(flash_wear_get(w, dev, s, &c), 0);
            assert_int_equal(c.erases + c.writes, 0);
        }
    assert_int_equal(flash_wear_max_erases(w, 1), 2);
    assert_int_equal(flash_wear_total_erases(w, 1), 4);
    flash_wear_free(w);
}

/* Boundary values: the last sector is valid, one past is not, and a rejected call counts
 * nothing. */
static void out_of_range_is_rejected_without_side_effects(void **state)
{
    (void)state;
    struct flash_wear *w = flash_wear_new(2, 4);
    assert_non_null(w);
    assert_int_equal(flash_wear_erase(w, 0, 3, 1), 0);
    assert_int_equal(flash_wear_erase(w, 0, 3, 2), SIM_ERANGE);
    assert_int_equal(flash_wear_erase(w, 2, 0, 1), SIM_ERANGE);
    assert_int_equal(flash_wear_write(w, 0, 5, 0), SIM_ERANGE);
    assert_int_equal(flash_wear_erase(w, 0, 0xFFFFFFFFu, 2), SIM_ERANGE);
    assert_int_equal(flash_wear_total_erases(w, 0), 1);
    struct flash_wear_count c = {7, 7};
    assert_int_equal(flash_wear_get(w, 0, 4, &c), SIM_ERANGE);
    assert_int_equal(c.erases, 0);
    assert_int_equal(flash_wear_max_erases(w, 9), 0);
    flash_wear_free(w);
}

static void counts_saturate_instead_of_wrapping(void **state)
{
    (void)state;
    struct flash_wear *w = flash_wear_new(1, 1);
    assert_non_null(w);
    for (uint32_t i = 0; i < FLASH_WEAR_SATURATED + 10u; i++)
        assert_int_equal(flash_wear_erase(w, 0, 0, 1), 0);
    assert_int_equal(flash_wear_max_erases(w, 0), FLASH_WEAR_SATURATED);
    flash_wear_free(w);
}

/* 20 000 devices x 240 sectors fit in 4 bytes per counter pair. */
static void fleet_table_is_compact(void **state)
{
    (void)state;
    struct flash_wear *w = flash_wear_new(20000, 240);
    assert_non_null(w);
    assert_true(flash_wear_bytes(w) <= 20000u * 240u * 4u + 64u);
    assert_int_equal(flash_wear_erase(w, 19999, 239, 1), 0);
    assert_int_equal(flash_wear_max_erases(w, 19999), 1);
    flash_wear_free(w);
    assert_null(flash_wear_new(0, 10));
    assert_null(flash_wear_new(10, 0));
    flash_wear_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_are_per_device_and_per_sector),
        cmocka_unit_test(out_of_range_is_rejected_without_side_effects),
        cmocka_unit_test(counts_saturate_instead_of_wrapping),
        cmocka_unit_test(fleet_table_is_compact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
