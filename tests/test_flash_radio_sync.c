/* tests/test_flash_radio_sync.c - flash work in radio timeslots (models/flash/radio_sync).
 *
 * Every expectation is worked out by hand from the rules in radio_sync.h: windows of 7.5 ms
 * (writes) or one page (erases), requested as window + 100 us; NORMAL gets a gap that holds
 * the request and starts within 30 ms, else HIGH starts after the event on air or already
 * scheduled and skips the events inside its reservation.
 * UPSTREAM: nrfconnect/sdk-nrf: drivers/mpsl/flash_sync/flash_sync_mpsl.c;
 *           zephyrproject-rtos/zephyr: drivers/flash/soc_flash_nrf.c */
#include "models/flash/radio_sync.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define US(x) ((int64_t)(x)*1000LL)
#define MS(x) ((int64_t)(x)*1000000LL)

/* nRF52840 worst cases (Product Specification v1.7, NVMC electrical specification):
 * 41 us per word, 85 ms per page; the driver's erase window is 89.7 ms
 * (FLASH_PAGE_ERASE_MAX_TIME_US, zephyr soc/nordic/nrf52/soc.h). */
#define T_WORD   US(41)
#define T_PAGE   MS(85)
#define T_WINDOW US(89700)

/* A chunk of 492 bytes (123 words) with no radio: one window, the bare write time. */
static void without_a_radio_the_work_runs_at_once(void **state)
{
    (void)state;
    const struct flash_sync_radio none = {0, 0, 0};
    struct flash_sync_work w = flash_sync_work_of(T_WORD, 123, FLASH_SYNC_WRITE_WINDOW_NS);
    struct flash_sync_result r;
    flash_sync_run(&none, &w, MS(1), &r);
    assert_int_equal(r.done, MS(1) + 123 * T_WORD);
    assert_int_equal(r.slots, 1);
    assert_int_equal(r.high_slots, 0);
    assert_int_equal(r.block_from, r.block_until);
}

/* 15 ms interval, 1 ms of radio per event: a 14 ms gap holds the 7.6 ms request, so a
 * write asked for during an event waits for its end and runs at NORMAL priority; no
 * event is lost. */
static void a_write_fits_between_events(void **state)
{
    (void)state;
    const struct flash_sync_radio radio = {0, MS(15), MS(1)};
    struct flash_sync_work w = flash_sync_work_of(T_WORD, 123, FLASH_SYNC_WRITE_WINDOW_NS);
    struct flash_sync_result r;
    flash_sync_run(&radio, &w, US(500), &r);
    assert_int_equal(r.done, MS(1) + 123 * T_WORD);
    assert_int_equal(r.high_slots, 0);
    assert_int_equal(r.block_from, r.block_until);
}

/* 7.5 ms interval, 1 ms busy: the 6.5 ms gaps never hold 7.6 ms, so the request is
 * BLOCKED and goes HIGH. Asked at 2 ms, the event at 7.5 ms is already scheduled and would
 * overlap: the slot starts at its end, 8.5 ms, and the event at 15 ms (inside the 7.6 ms
 * reservation) is skipped. */
static void a_write_that_does_not_fit_takes_an_event(void **state)
{
    (void)state;
    const struct flash_sync_radio radio = {0, US(7500), MS(1)};
    struct flash_sync_work w = flash_sync_work_of(T_WORD, 123, FLASH_SYNC_WRITE_WINDOW_NS);
    struct flash_sync_result r;
    flash_sync_run(&radio, &w, MS(2), &r);
    assert_int_equal(r.done, US(8500) + 123 * T_WORD);
    assert_int_equal(r.high_slots, 1);
    assert_int_equal(r.block_from, US(8500));
    assert_int_equal(r.block_until, US(8500) + US(7600));
}

/* Two pages at 7.5 ms: page 1 goes HIGH after the event at 7.5 ms (8.5 -> 93.5 ms, the
 * events at 15 ... 97.5 ms skipped); page 2, asked at 93.5 ms, finds the next event not
 * skipped at 105 ms inside its 89.8 ms request, so it starts at 106 ms and ends at 191 ms.
 * The erase is split around the event at 105 ms. */
static void an_erase_is_split_around_connection_events(void **state)
{
    (void)state;
    const struct flash_sync_radio radio = {0, US(7500), MS(1)};
    struct flash_sync_work w = flash_sync_work_of(T_PAGE, 2, T_WINDOW);
    assert_int_equal(w.per_window, 1);
    struct flash_sync_result r;
    flash_sync_run(&radio, &w, MS(3), &r);
    assert_int_equal(r.slots, 2);
    assert_int_equal(r.high_slots, 2);
    assert_int_equal(r.done, MS(106) + T_PAGE);
    assert_int_equal(r.block_from, US(8500));
    assert_int_equal(r.block_until, MS(106) + T_WINDOW + US(100));
}

/* 100 ms interval, 2 ms busy: a 98 ms gap holds 89.8 ms, but asked at 50 ms the first such
 * gap starts at 102 ms, 52 ms later: past the 30 ms a NORMAL request may wait, so it goes
 * HIGH and starts after the event at 100 ms, the same 102 ms, skipping no event (the next
 * is at 200 ms, after the reservation). */
static void a_normal_request_waits_at_most_30ms(void **state)
{
    (void)state;
    const struct flash_sync_radio radio = {0, MS(100), MS(2)};
    struct flash_sync_work w = flash_sync_work_of(T_PAGE, 1, T_WINDOW);
    struct flash_sync_result r;
    flash_sync_run(&radio, &w, MS(50), &r);
    assert_int_equal(r.high_slots, 1);
    assert_int_equal(r.done, MS(102) + T_PAGE);
    /* asked at 5 ms instead, the gap from 5 to 100 ms holds it: NORMAL, at once */
    flash_sync_run(&radio, &w, MS(5), &r);
    assert_int_equal(r.high_slots, 0);
    assert_int_equal(r.done, MS(5) + T_PAGE);
}

/* The driver writes as many words as fit in 7.5 ms: 182 at 41 us, 22 at the nRF52832's
 * 338 us (S132 SoftDevice Specification: 4-byte write up to 338 us), so 123 words take 6
 * windows there. */
static void words_per_window_follow_the_word_time(void **state)
{
    (void)state;
    assert_int_equal(flash_sync_work_of(T_WORD, 1, FLASH_SYNC_WRITE_WINDOW_NS).per_window, 182);
    struct flash_sync_work w = flash_sync_work_of(US(338), 123, FLASH_SYNC_WRITE_WINDOW_NS);
    assert_int_equal(w.per_window, 22);
    const struct flash_sync_radio none = {0, 0, 0};
    struct flash_sync_result r;
    flash_sync_run(&none, &w, 0, &r);
    assert_int_equal(r.slots, 6);
    assert_int_equal(r.done, 123 * US(338));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(without_a_radio_the_work_runs_at_once),
        cmocka_unit_test(a_write_fits_between_events),
        cmocka_unit_test(a_write_that_does_not_fit_takes_an_event),
        cmocka_unit_test(an_erase_is_split_around_connection_events),
        cmocka_unit_test(a_normal_request_waits_at_most_30ms),
        cmocka_unit_test(words_per_window_follow_the_word_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
