/* tests/test_flash_wear.c - per-device, per-sector wear counters (models/flash/wear). */
#include "models/flash/wear.h"

#include "sim/error.h"

#include <setjmp.h>
#include <stdbool.h>
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

/* 20 000 devices x 240 sectors fit in 1 byte per counter pair while no count passed 14. */
static void fleet_table_is_compact(void **state)
{
    (void)state;
    struct flash_wear *w = flash_wear_new(20000, 240);
    assert_non_null(w);
    assert_true(flash_wear_bytes(w) <= 20000u * 240u + 64u);
    assert_int_equal(flash_wear_erase(w, 19999, 239, 1), 0);
    assert_int_equal(flash_wear_max_erases(w, 19999), 1);
    flash_wear_free(w);
    assert_null(flash_wear_new(0, 10));
    assert_null(flash_wear_new(10, 0));
    flash_wear_free(NULL);
}

/* Boundary of the 4-bit counts: 14 stays in the byte, the 15th erase or write moves the
 * sector to the overflow table with both its counts, and counting goes on from there. */
static void counts_past_14_move_to_the_overflow_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        unsigned erases, writes;
    } cases[] = {
        {"14 erases, 0 writes: inline", 14, 0},
        {"0 erases, 14 writes: inline", 0, 14},
        {"15 erases: overflowed, writes kept", 15, 3},
        {"15 writes: overflowed, erases kept", 2, 15},
        {"both past 14", 40, 291},
        {"a trailer's writes", 1, 1000},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct flash_wear *w = flash_wear_new(3, 5);
        assert_non_null(w);
        for (unsigned i = 0; i < cases[k].erases; i++)
            assert_int_equal(flash_wear_erase(w, 1, 2, 2), 0); /* sectors 2 and 3 */
        for (unsigned i = 0; i < cases[k].writes; i++)
            assert_int_equal(flash_wear_write(w, 1, 3, 1), 0); /* sector 3 */
        struct flash_wear_count c;
        assert_int_equal(flash_wear_get(w, 1, 3, &c), 0);
        if (c.erases != cases[k].erases || c.writes != cases[k].writes)
            fail_msg("%s: %u/%u, want %u/%u", cases[k].name, c.erases, c.writes, cases[k].erases,
                     cases[k].writes);
        assert_int_equal(flash_wear_get(w, 1, 2, &c), 0);
        assert_int_equal(c.erases, cases[k].erases);
        assert_int_equal(c.writes, 0);
        assert_int_equal(flash_wear_max_erases(w, 1), cases[k].erases);
        assert_int_equal(flash_wear_total_erases(w, 1), 2 * cases[k].erases);
        assert_int_equal(flash_wear_total_writes(w, 1), cases[k].writes);
        /* the neighbours (other sectors, other devices) are untouched */
        assert_int_equal(flash_wear_total_erases(w, 0) + flash_wear_total_erases(w, 2), 0);
        assert_int_equal(flash_wear_get(w, 1, 4, &c), 0);
        assert_int_equal(c.erases + c.writes, 0);
        flash_wear_free(w);
    }
}

/* Many overflowed sectors of many devices (the overflow table grows and rehashes) keep
 * their own counts, against a plain array of the same counts. */
static void many_overflowed_sectors_keep_their_counts(void **state)
{
    (void)state;
    enum { DEVS = 300, SECTORS = 7 };
    static uint32_t want[DEVS][SECTORS][2];
    struct flash_wear *w = flash_wear_new(DEVS, SECTORS);
    assert_non_null(w);
    uint32_t x = 12345;
    for (int i = 0; i < 40000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t dev = (x >> 8) % DEVS, s = (x >> 20) % SECTORS, n = 1 + (x >> 4) % 2;
        if (s + n > SECTORS)
            n = 1;
        bool wr = (x >> 30) & 1;
        assert_int_equal(wr ? flash_wear_write(w, dev, s, n) : flash_wear_erase(w, dev, s, n), 0);
        for (uint32_t k = s; k < s + n; k++)
            want[dev][k][wr]++;
    }
    for (uint32_t dev = 0; dev < DEVS; dev++)
        for (uint32_t s = 0; s < SECTORS; s++) {
            struct flash_wear_count c;
            assert_int_equal(flash_wear_get(w, dev, s, &c), 0);
            assert_int_equal(c.erases, want[dev][s][0]);
            assert_int_equal(c.writes, want[dev][s][1]);
        }
    flash_wear_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_are_per_device_and_per_sector),
        cmocka_unit_test(out_of_range_is_rejected_without_side_effects),
        cmocka_unit_test(counts_saturate_instead_of_wrapping),
        cmocka_unit_test(fleet_table_is_compact),
        cmocka_unit_test(counts_past_14_move_to_the_overflow_table),
        cmocka_unit_test(many_overflowed_sectors_keep_their_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
