/* tests/test_fw_ble_smp.c - CAF ble_smp: the upload hook, one transfer event in flight,
 * no lock (nrfconnect/sdk-nrf: subsys/caf/modules/ble_smp.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "models/fw/ble_smp.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define UP           "UPSTREAM: nrfconnect/sdk-nrf: subsys/caf/modules/ble_smp.c @v2.9.0"

struct fake {
    int n_transfer, n_ready_reports, n_unexpected, submit_rc;
};

static int f_submit(void *env, const struct fw_event *ev, int64_t now)
{
    (void)now;
    struct fake *f = env;
    if (f->submit_rc != 0)
        return f->submit_rc;
    if (ev->type == FW_EVENT_BLE_SMP_TRANSFER)
        f->n_transfer++;
    else if (ev->type == FW_EVENT_MODULE_STATE &&
             ev->u.module_state.module == FW_EVENT_MOD_BLE_SMP &&
             ev->u.module_state.state == FW_EVENT_STATE_READY)
        f->n_ready_reports++;
    else
        fail_msg("unexpected submit of type %d", (int)ev->type);
    return 0;
}

static void f_emit(void *env, const struct fw_record *r)
{
    struct fake *f = env;
    if (r->kind == FW_RECORD_UNEXPECTED)
        f->n_unexpected++;
}

#define MAIN   FW_BLE_SMP_IN_MAIN_READY
#define BLE    FW_BLE_SMP_IN_BLE_STATE_READY
#define CHUNK  FW_BLE_SMP_IN_CHUNK
#define DONE   FW_BLE_SMP_IN_TRANSFER_DONE
#define INIT   FW_BLE_SMP_INIT
#define HOOKED FW_BLE_SMP_HOOKED

struct step {
    enum fw_ble_smp_input in;
    int want_state;
    bool want_active;
};

struct scase {
    const char *name;
    struct step steps[8];
    size_t n_steps;
    int want_transfer, want_reports, want_unexpected, want_hooks;
};

static const struct scase cases[] = {
    {"main READY registers the DFU_CHUNK upload hook", {{MAIN, HOOKED, false}}, 1, 0, 0, 0, 1},
    {"ble_state READY reports the module READY",
     {{MAIN, HOOKED, false}, {BLE, HOOKED, false}},
     2,
     0,
     1,
     0,
     1},
    {"ble_state READY before main READY reports READY too",
     {{BLE, INIT, false}, {MAIN, HOOKED, false}},
     2,
     0,
     1,
     0,
     1},
    {"an accepted chunk submits a transfer event",
     {{MAIN, HOOKED, false}, {CHUNK, HOOKED, true}},
     2,
     1,
     0,
     0,
     1},
    {"at most one transfer event in flight",
     {{MAIN, HOOKED, false}, {CHUNK, HOOKED, true}, {CHUNK, HOOKED, true}, {CHUNK, HOOKED, true}},
     4,
     1,
     0,
     0,
     1},
    {"the final subscriber clears the flag and the next chunk submits again",
     {{MAIN, HOOKED, false}, {CHUNK, HOOKED, true}, {DONE, HOOKED, false}, {CHUNK, HOOKED, true}},
     4,
     2,
     0,
     0,
     1},
    {"unexpected: a chunk before main READY (hook not registered)",
     {{CHUNK, INIT, false}},
     1,
     0,
     0,
     1,
     0},
    {"unexpected: a second main READY",
     {{MAIN, HOOKED, false}, {MAIN, HOOKED, false}},
     2,
     0,
     0,
     1,
     1},
    {"unexpected: a second ble_state READY (upstream asserts !initialized)",
     {{BLE, INIT, false}, {BLE, INIT, false}},
     2,
     0,
     1,
     1,
     0},
    {"unexpected: transfer done with none in flight",
     {{MAIN, HOOKED, false}, {DONE, HOOKED, false}},
     2,
     0,
     0,
     1,
     1},
};

static void run_case(const struct scase *c)
{
    struct fake f = {0};
    struct fw_ble_smp_ctx cx = {&f, f_submit, f_emit};
    struct smp_callbacks cbs;
    smp_callbacks_init(&cbs);
    struct fw_ble_smp s;
    fw_ble_smp_init(&s, &cx, &cbs);
    for (size_t i = 0; i < c->n_steps; i++) {
        int rc = fw_ble_smp_step(&s, c->steps[i].in, NULL, (int64_t)i);
        if (rc != 0 || s.state != c->steps[i].want_state ||
            s.event_active != c->steps[i].want_active) {
            print_error("case \"%s\" (%s) step %zu: rc %d state %d/%d active %d/%d\n", c->name, UP,
                        i, rc, s.state, c->steps[i].want_state, s.event_active,
                        c->steps[i].want_active);
            fail();
        }
    }
    if (f.n_transfer != c->want_transfer || f.n_ready_reports != c->want_reports ||
        f.n_unexpected != c->want_unexpected || (int)cbs.n_entries != c->want_hooks) {
        print_error(
            "case \"%s\" (%s): transfer %d/%d reports %d/%d unexpected %d/%d hooks %zu/%d\n",
            c->name, UP, f.n_transfer, c->want_transfer, f.n_ready_reports, c->want_reports,
            f.n_unexpected, c->want_unexpected, cbs.n_entries, c->want_hooks);
        fail();
    }
    fw_ble_smp_fini(&s);
}

static void test_ble_smp_transitions(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        run_case(&cases[i]);
}

/* UPSTREAM: nrfconnect/sdk-nrf: subsys/caf/modules/ble_smp.c @v2.9.0
 * (upload_confirm_cb always returns MGMT_CB_OK: no lock, nothing is refused) */
static void test_hook_always_accepts_through_smp_callbacks(void **state)
{
    (void)state;
    struct fake f = {0};
    struct fw_ble_smp_ctx cx = {&f, f_submit, f_emit};
    struct smp_callbacks cbs;
    smp_callbacks_init(&cbs);
    struct fw_ble_smp s;
    fw_ble_smp_init(&s, &cx, &cbs);
    assert_int_equal(fw_ble_smp_step(&s, MAIN, NULL, 0), 0);
    assert_int_equal(cbs.entries[0].events, SMP_CALLBACKS_EVT_IMG_DFU_CHUNK);
    int32_t rc = -1;
    uint16_t g;
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            smp_callbacks_notify(&cbs, SMP_CALLBACKS_EVT_IMG_DFU_CHUNK, NULL, 0, i, &rc, &g),
            SMP_CALLBACKS_OK);
    assert_int_equal(rc, 0);
    assert_int_equal(f.n_transfer, 1);
    /* Other image events do not reach it. */
    assert_int_equal(
        smp_callbacks_notify(&cbs, SMP_CALLBACKS_EVT_IMG_DFU_STARTED, NULL, 0, 4, &rc, &g),
        SMP_CALLBACKS_OK);
    assert_int_equal(f.n_transfer, 1);
}

static void test_bus_wiring_and_submit_failure(void **state)
{
    (void)state;
    struct fake f = {0};
    struct fw_ble_smp_ctx cx = {&f, f_submit, f_emit};
    struct fw_event_bus bus;
    fw_event_bus_init(&bus, NULL);
    struct fw_ble_smp s;
    fw_ble_smp_init(&s, &cx, NULL);
    assert_int_equal(fw_ble_smp_subscribe(&s, &bus), 0);
    struct fw_event ready = fw_event_module_state(FW_EVENT_MOD_MAIN, FW_EVENT_STATE_READY);
    struct fw_event bready = fw_event_module_state(FW_EVENT_MOD_BLE_STATE, FW_EVENT_STATE_READY);
    assert_int_equal(fw_event_bus_submit(&bus, &ready, 0), 0);
    assert_int_equal(fw_event_bus_submit(&bus, &bready, 0), 0);
    assert_int_equal(fw_event_bus_process(&bus, 0), 2);
    assert_int_equal(s.state, HOOKED);
    assert_int_equal(f.n_ready_reports, 1);
    assert_int_equal(fw_ble_smp_step(&s, CHUNK, NULL, 1), 0);
    struct fw_event t = fw_event_plain(FW_EVENT_BLE_SMP_TRANSFER);
    assert_int_equal(fw_event_bus_submit(&bus, &t, 1), 0);
    assert_int_equal(fw_event_bus_process(&bus, 1), 1);
    assert_false(s.event_active);
    f.submit_rc = SIM_ERANGE;
    assert_int_equal(fw_ble_smp_step(&s, CHUNK, NULL, 2), SIM_ERANGE);
    assert_false(s.event_active);
    assert_int_equal(fw_ble_smp_step(&s, FW_BLE_SMP_INPUT_COUNT, NULL, 2), SIM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ble_smp_transitions),
        cmocka_unit_test(test_hook_always_accepts_through_smp_callbacks),
        cmocka_unit_test(test_bus_wiring_and_submit_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
