/* tests/test_fw_event_bus.c - per-device app_event_manager model: order, final
 * subscriber, consumption, deferred processing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "models/fw/event_bus.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Each subscriber appends "<name><type> " to a log. */
static char LOG[256];
static int KICKS;

struct sub {
    const char *name;
    bool consume;
    struct fw_event_bus *resubmit_to; /* submit a CONFIG event on the first delivery */
};

static bool on_event(void *env, const struct fw_event *ev, int64_t now)
{
    (void)now;
    struct sub *s = env;
    size_t n = strlen(LOG);
    snprintf(LOG + n, sizeof(LOG) - n, "%s%d ", s->name, (int)ev->type);
    if (s->resubmit_to != NULL) {
        struct fw_event e = fw_event_plain(FW_EVENT_CONFIG);
        struct fw_event_bus *b = s->resubmit_to;
        s->resubmit_to = NULL;
        assert_int_equal(fw_event_bus_submit(b, &e, now), 0);
        assert_int_equal(fw_event_bus_process(b, now), SIM_EINVAL); /* no nesting */
    }
    return s->consume;
}

static void kick(void *env, int64_t now)
{
    (void)env;
    (void)now;
    KICKS++;
}

static const struct fw_event_bus_ctx CX = {NULL, kick};

static void reset(struct fw_event_bus *b)
{
    LOG[0] = 0;
    KICKS = 0;
    fw_event_bus_init(b, &CX);
}

/* UPSTREAM: nrfconnect/sdk-nrf: subsys/app_event_manager/app_event_manager.c @v2.9.0
 * (subscribers run first, early, normal, final; submit defers to a work item) */
static void test_priority_then_registration_order(void **state)
{
    (void)state;
    struct fw_event_bus b;
    reset(&b);
    struct sub fin = {"F", false, NULL}, n1 = {"n", false, NULL}, n2 = {"m", false, NULL},
               early = {"e", false, NULL}, first = {"f", false, NULL};
    const int T = FW_EVENT_BLE_SMP_TRANSFER;
    assert_int_equal(fw_event_bus_subscribe(&b, T, FW_EVENT_BUS_FINAL, on_event, &fin), 0);
    assert_int_equal(fw_event_bus_subscribe(&b, T, FW_EVENT_BUS_NORMAL, on_event, &n1), 0);
    assert_int_equal(fw_event_bus_subscribe(&b, T, FW_EVENT_BUS_EARLY, on_event, &early), 0);
    assert_int_equal(fw_event_bus_subscribe(&b, T, FW_EVENT_BUS_NORMAL, on_event, &n2), 0);
    assert_int_equal(fw_event_bus_subscribe(&b, T, FW_EVENT_BUS_FIRST, on_event, &first), 0);
    struct fw_event ev = fw_event_plain(FW_EVENT_BLE_SMP_TRANSFER);
    assert_int_equal(fw_event_bus_submit(&b, &ev, 0), 0);
    assert_string_equal(LOG, ""); /* deferred */
    assert_int_equal(KICKS, 1);
    assert_int_equal(fw_event_bus_process(&b, 0), 1);
    assert_string_equal(LOG, "f3 e3 n3 m3 F3 ");
}

static void test_second_first_or_final_is_refused(void **state)
{
    (void)state;
    struct fw_event_bus b;
    reset(&b);
    struct sub s = {"s", false, NULL};
    assert_int_equal(fw_event_bus_subscribe(&b, FW_EVENT_CONFIG, FW_EVENT_BUS_FINAL, on_event, &s),
                     0);
    assert_int_equal(fw_event_bus_subscribe(&b, FW_EVENT_CONFIG, FW_EVENT_BUS_FINAL, on_event, &s),
                     SIM_EINVAL);
    assert_int_equal(
        fw_event_bus_subscribe(&b, FW_EVENT_BLE_PEER, FW_EVENT_BUS_FINAL, on_event, &s), 0);
    assert_int_equal(fw_event_bus_subscribe(&b, FW_EVENT_CONFIG, FW_EVENT_BUS_FIRST, on_event, &s),
                     0);
    assert_int_equal(fw_event_bus_subscribe(&b, FW_EVENT_CONFIG, FW_EVENT_BUS_FIRST, on_event, &s),
                     SIM_EINVAL);
    assert_int_equal(fw_event_bus_subscribe(&b, FW_EVENT_CONFIG, FW_EVENT_BUS_NORMAL, NULL, &s),
                     SIM_EINVAL);
    assert_int_equal(
        fw_event_bus_subscribe(&b, FW_EVENT_TYPE_COUNT, FW_EVENT_BUS_NORMAL, on_event, &s),
        SIM_EINVAL);
    assert_int_equal(b.n_subs, 3);
}

/* UPSTREAM: nrfconnect/sdk-nrf: subsys/app_event_manager/app_event_manager.c @v2.9.0
 * (a listener returning true consumes the event: later listeners, the final one
 * included, never see it) */
static void test_consumed_event_never_reaches_final(void **state)
{
    (void)state;
    struct fw_event_bus b;
    reset(&b);
    struct sub eater = {"x", true, NULL}, fin = {"F", false, NULL};
    const int T = FW_EVENT_BLE_SMP_TRANSFER;
    assert_int_equal(fw_event_bus_subscribe(&b, T, FW_EVENT_BUS_FINAL, on_event, &fin), 0);
    assert_int_equal(fw_event_bus_subscribe(&b, T, FW_EVENT_BUS_NORMAL, on_event, &eater), 0);
    struct fw_event ev = fw_event_plain(FW_EVENT_BLE_SMP_TRANSFER);
    assert_int_equal(fw_event_bus_submit(&b, &ev, 0), 0);
    assert_int_equal(fw_event_bus_process(&b, 0), 1);
    assert_string_equal(LOG, "x3 ");
}

static void test_fifo_and_events_submitted_while_processing(void **state)
{
    (void)state;
    struct fw_event_bus b;
    reset(&b);
    struct sub peer = {"p", false, &b}, cfg = {"c", false, NULL};
    assert_int_equal(
        fw_event_bus_subscribe(&b, FW_EVENT_BLE_PEER, FW_EVENT_BUS_NORMAL, on_event, &peer), 0);
    assert_int_equal(
        fw_event_bus_subscribe(&b, FW_EVENT_CONFIG, FW_EVENT_BUS_NORMAL, on_event, &cfg), 0);
    struct fw_event e1 = fw_event_peer(FW_EVENT_PEER_CONNECTED);
    struct fw_event e2 = fw_event_plain(FW_EVENT_HID_REPORT); /* nobody subscribes */
    assert_int_equal(fw_event_bus_submit(&b, &e1, 0), 0);
    assert_int_equal(fw_event_bus_submit(&b, &e2, 0), 0);
    assert_int_equal(KICKS, 1); /* only the empty -> non-empty transition kicks */
    assert_int_equal(fw_event_bus_process(&b, 0), 3);
    assert_string_equal(LOG, "p1 c4 "); /* the resubmitted CONFIG runs after HID */
    assert_int_equal(KICKS, 1);         /* no kick from inside processing */
    assert_int_equal(b.n_unsubscribed, 1);
    assert_int_equal(fw_event_bus_pending(&b), 0);
}

static void test_full_queue_is_erange_and_unchanged(void **state)
{
    (void)state;
    struct fw_event_bus b;
    reset(&b);
    struct fw_event ev = fw_event_plain(FW_EVENT_CONFIG);
    for (int i = 0; i < FW_EVENT_BUS_QUEUE; i++)
        assert_int_equal(fw_event_bus_submit(&b, &ev, 0), 0);
    assert_int_equal(fw_event_bus_submit(&b, &ev, 0), SIM_ERANGE);
    assert_int_equal(fw_event_bus_pending(&b), FW_EVENT_BUS_QUEUE);
    struct fw_event bad = {.type = FW_EVENT_TYPE_COUNT};
    assert_int_equal(fw_event_bus_submit(&b, &bad, 0), SIM_EINVAL);
    assert_int_equal(fw_event_bus_process(&b, 0), FW_EVENT_BUS_QUEUE);
    fw_event_bus_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_then_registration_order),
        cmocka_unit_test(test_second_first_or_final_is_refused),
        cmocka_unit_test(test_consumed_event_never_reaches_final),
        cmocka_unit_test(test_fifo_and_events_submitted_while_processing),
        cmocka_unit_test(test_full_queue_is_erange_and_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
