/* tests/test_mcuboot_explain.c - per-mode cost of one upgrade (models/mcuboot/explain). */
#include "models/mcuboot/explain.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define KIB          1024u

static void explain(enum flash_map_board b, uint32_t size, const struct mcuboot_explain_params *p,
                    struct mcuboot_explain_row rows[MCUBOOT_EXPLAIN_MODE_COUNT])
{
    struct flash_map m;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(flash_map_board(b, &m), 0);
    if (mcuboot_explain(&m, size, p, rows, &d) != 0)
        fail_msg("explain: %s", d.text);
}

/* EVIDENCE-OF: operation counts of mcu-tools/mcuboot: boot/bootutil/src/swap_scratch.c,
 * swap_move.c, swap_offset.c, loader.c; docs/design.md "Image swapping": scratch wear ratio =
 * image size / scratch size; swap_move.c: two erase cycles on the primary, one on the
 * secondary per upgrade. */
static void counts_and_wear_per_mode_on_nrf52840(void **state)
{
    (void)state;
    struct mcuboot_explain_params p;
    struct mcuboot_explain_row r[MCUBOOT_EXPLAIN_MODE_COUNT];
    mcuboot_explain_params_default(&p);
    explain(FLASH_MAP_NRF52840DK, 128 * KIB, &p, r); /* L = 32 sectors */
    static const struct {
        const char *name;
        enum mcuboot_explain_mode mode;
        uint32_t copies, erases, worst;
    } cases[] = {
        {"overwrite-only: L copies, L + trailer + 2 erases", MCUBOOT_EXPLAIN_OVERWRITE, 32, 35, 2},
        {"swap-scratch: the scratch sector takes L + 1 erases", MCUBOOT_EXPLAIN_SCRATCH, 96, 99,
         33},
        {"swap-move: 3L copies, 3L + 2 trailer erases, 2 cycles per sector", MCUBOOT_EXPLAIN_MOVE,
         96, 98, 2},
        {"swap-offset: 2L copies, 2L + 2 trailer erases", MCUBOOT_EXPLAIN_OFFSET, 64, 66, 2},
        {"direct-xip: nothing copied, the upload erased once", MCUBOOT_EXPLAIN_DIRECT_XIP, 0, 0, 1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct mcuboot_explain_row *row = &r[cases[i].mode];
        print_message("case: %s\n", cases[i].name);
        assert_true(row->fits);
        assert_int_equal(row->sector_copies, cases[i].copies);
        assert_int_equal(row->erases, cases[i].erases);
        assert_int_equal(row->max_sector_erases, cases[i].worst);
        assert_int_equal(row->bytes_moved, (uint64_t)cases[i].copies * 4096);
    }
    assert_int_equal(r[MCUBOOT_EXPLAIN_OVERWRITE].revert_ns, 0); /* no revert */
    assert_true(r[MCUBOOT_EXPLAIN_MOVE].revert_ns >= r[MCUBOOT_EXPLAIN_MOVE].swap_ns);
}

/* Downtime = validate(update) + swap + validate(primary); direct-xip = validate only;
 * RAM-load adds the copy to RAM; direct-xip-revert's revert erases the whole slot. */
static void downtime_and_revert_follow_the_parameters(void **state)
{
    (void)state;
    struct mcuboot_explain_params p;
    struct mcuboot_explain_row r[MCUBOOT_EXPLAIN_MODE_COUNT];
    mcuboot_explain_params_default(&p);
    const uint32_t size = 128 * KIB;
    explain(FLASH_MAP_NRF52840DK, size, &p, r);
    int64_t v = mcuboot_explain_validate_ns(&p, size);
    assert_int_equal(v, 131072000 + 100000000); /* 1 MB/s + 100 ms */
    assert_int_equal(r[MCUBOOT_EXPLAIN_MOVE].downtime_ns, 2 * v + r[MCUBOOT_EXPLAIN_MOVE].swap_ns);
    assert_int_equal(r[MCUBOOT_EXPLAIN_DIRECT_XIP].downtime_ns, v);
    assert_int_equal(r[MCUBOOT_EXPLAIN_DIRECT_XIP].swap_ns, 0);
    assert_int_equal(r[MCUBOOT_EXPLAIN_RAM_LOAD].downtime_ns, v + 128 * 8000); /* 8 us/KiB */
    assert_int_equal(r[MCUBOOT_EXPLAIN_DIRECT_XIP_REVERT].revert_ns, 118LL * 85000000);
    /* A faster hash, no primary re-validation: less downtime, same flash work. */
    struct mcuboot_explain_row q[MCUBOOT_EXPLAIN_MODE_COUNT];
    p.hash_rate = 2e6;
    p.validate_primary = false;
    explain(FLASH_MAP_NRF52840DK, size, &p, q);
    assert_int_equal(q[MCUBOOT_EXPLAIN_MOVE].swap_ns, r[MCUBOOT_EXPLAIN_MOVE].swap_ns);
    assert_int_equal(q[MCUBOOT_EXPLAIN_MOVE].downtime_ns,
                     65536000 + 100000000 + q[MCUBOOT_EXPLAIN_MOVE].swap_ns);
}

/* The nRF5340 slots are 464 KiB: a 464 KiB image fits only the modes without a trailer
 * (direct-xip, RAM-load); on the nRF52840 (472 KiB slots) swap-move's limit is exactly
 * 464 KiB = (N - 1) * S - trailer sector (mcu-tools/mcuboot: boot/bootutil/src/swap_move.c). */
static void limits_at_464_kib(void **state)
{
    (void)state;
    struct mcuboot_explain_params p;
    struct mcuboot_explain_row r[MCUBOOT_EXPLAIN_MODE_COUNT];
    mcuboot_explain_params_default(&p);
    explain(FLASH_MAP_NRF5340DK, 464 * KIB, &p, r);
    for (int m = 0; m < MCUBOOT_EXPLAIN_MODE_COUNT; m++) {
        bool want = m == MCUBOOT_EXPLAIN_DIRECT_XIP || m == MCUBOOT_EXPLAIN_RAM_LOAD;
        print_message("case: nrf5340dk %s\n", mcuboot_explain_mode_name(m));
        assert_int_equal(r[m].fits, want);
        if (!want)
            assert_int_equal(r[m].swap_ns, 0);
    }
    explain(FLASH_MAP_NRF52840DK, 464 * KIB, &p, r);
    assert_true(r[MCUBOOT_EXPLAIN_MOVE].fits);
    assert_int_equal(r[MCUBOOT_EXPLAIN_MOVE].max_image, 464 * KIB);
    explain(FLASH_MAP_NRF52840DK, 464 * KIB + 1, &p, r);
    assert_false(r[MCUBOOT_EXPLAIN_MOVE].fits);
    assert_string_equal(mcuboot_explain_mode_name(MCUBOOT_EXPLAIN_MODE_COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_and_wear_per_mode_on_nrf52840),
        cmocka_unit_test(downtime_and_revert_follow_the_parameters),
        cmocka_unit_test(limits_at_464_kib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
