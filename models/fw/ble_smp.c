/* models/fw/ble_smp.c - CAF BLE SMP module.
 * Behaviour of nrfconnect/sdk-nrf: subsys/caf/modules/ble_smp.c. */
#include "models/fw/ble_smp.h"

#include <assert.h>

#include "sim/error.h"

void fw_ble_smp_init(struct fw_ble_smp *s, const struct fw_ble_smp_ctx *cx,
                     struct smp_callbacks *callbacks)
{
    *s = (struct fw_ble_smp){.cx = cx, .callbacks = callbacks, .state = FW_BLE_SMP_INIT};
}

void fw_ble_smp_fini(struct fw_ble_smp *s)
{
    s->state = FW_BLE_SMP_INIT;
    s->event_active = false;
    s->reported = false;
}

static int unexpected(struct fw_ble_smp *s, int in, int64_t now)
{
    s->n_unexpected++;
    struct fw_record r = {.at = now,
                          .module = FW_RECORD_MOD_BLE_SMP,
                          .kind = FW_RECORD_UNEXPECTED,
                          .state = s->state,
                          .input = (uint8_t)in};
    s->cx->emit(s->cx->env, &r);
    return 0;
}

static int submit(struct fw_ble_smp *s, const struct fw_event *ev, int64_t now)
{
    int err = s->cx->submit(s->cx->env, ev, now);
    return err == 0 ? 0 : (err < 0 ? err : SIM_EINTERNAL);
}

/* module_set_state(MODULE_STATE_READY) on ble_state READY ("Service initialized"). */
static int on_ble_state_ready(struct fw_ble_smp *s, int64_t now)
{
    if (s->reported)
        return unexpected(s, FW_BLE_SMP_IN_BLE_STATE_READY, now); /* __ASSERT(!initialized) */
    struct fw_event ev = fw_event_module_state(FW_EVENT_MOD_BLE_SMP, FW_EVENT_STATE_READY);
    int err = submit(s, &ev, now);
    if (err == 0)
        s->reported = true;
    return err;
}

/* upload_confirm_cb: atomic_cas(&event_active, false, true) then submit. */
static int on_chunk(struct fw_ble_smp *s, int64_t now)
{
    if (s->event_active)
        return 0;
    struct fw_event ev = fw_event_plain(FW_EVENT_BLE_SMP_TRANSFER);
    int err = submit(s, &ev, now);
    if (err != 0)
        return err;
    s->event_active = true;
    s->n_transfers++;
    struct fw_record r = {.at = now,
                          .module = FW_RECORD_MOD_BLE_SMP,
                          .kind = FW_RECORD_TRANSFER,
                          .state = s->state,
                          .input = FW_BLE_SMP_IN_CHUNK};
    s->cx->emit(s->cx->env, &r);
    return 0;
}

static int on_transfer_done(struct fw_ble_smp *s, int64_t now)
{
    if (!s->event_active) /* upstream: __ASSERT_NO_MSG(atomic_cas(true, false)) */
        return unexpected(s, FW_BLE_SMP_IN_TRANSFER_DONE, now);
    s->event_active = false;
    return 0;
}

static int step_init(struct fw_ble_smp *s, enum fw_ble_smp_input in, int64_t now)
{
    switch (in) {
    case FW_BLE_SMP_IN_MAIN_READY:
        if (s->callbacks != NULL) {
            int err = smp_callbacks_register(s->callbacks, SMP_CALLBACKS_EVT_IMG_DFU_CHUNK,
                                             fw_ble_smp_smp_cb, s);
            if (err != 0)
                return err;
        }
        s->state = FW_BLE_SMP_HOOKED;
        return 0;
    case FW_BLE_SMP_IN_BLE_STATE_READY:
        return on_ble_state_ready(s, now);
    case FW_BLE_SMP_IN_TRANSFER_DONE:
        return on_transfer_done(s, now);
    case FW_BLE_SMP_IN_CHUNK: /* hook not registered yet */
    default:
        return unexpected(s, in, now);
    }
}

static int step_hooked(struct fw_ble_smp *s, enum fw_ble_smp_input in, int64_t now)
{
    switch (in) {
    case FW_BLE_SMP_IN_CHUNK:
        return on_chunk(s, now);
    case FW_BLE_SMP_IN_BLE_STATE_READY:
        return on_ble_state_ready(s, now);
    case FW_BLE_SMP_IN_TRANSFER_DONE:
        return on_transfer_done(s, now);
    case FW_BLE_SMP_IN_MAIN_READY: /* registering twice would hook every chunk twice */
    default:
        return unexpected(s, in, now);
    }
}

int fw_ble_smp_step(struct fw_ble_smp *s, enum fw_ble_smp_input in, const void *arg, int64_t now)
{
    (void)arg;
    if ((unsigned)in >= FW_BLE_SMP_INPUT_COUNT)
        return SIM_EINVAL;
    int rc;
    switch (s->state) {
    case FW_BLE_SMP_INIT:
        rc = step_init(s, in, now);
        break;
    case FW_BLE_SMP_HOOKED:
        rc = step_hooked(s, in, now);
        break;
    default:
        return SIM_EINTERNAL;
    }
    fw_ble_smp_check(s);
    return rc;
}

enum smp_callbacks_status fw_ble_smp_smp_cb(void *env, uint32_t event,
                                            enum smp_callbacks_status prev, int32_t *rc,
                                            uint16_t *group, bool *abort_more, const void *data,
                                            size_t size, int64_t now)
{
    struct fw_ble_smp *s = env;
    (void)event;
    (void)prev;
    (void)rc;
    (void)group;
    (void)abort_more;
    (void)data;
    (void)size;
    int err = fw_ble_smp_step(s, FW_BLE_SMP_IN_CHUNK, NULL, now);
    if (err < 0 && s->fault == 0)
        s->fault = err;
    return SMP_CALLBACKS_OK;
}

static bool on_bus(void *env, const struct fw_event *ev, int64_t now)
{
    struct fw_ble_smp *s = env;
    int err = 0;
    if (ev->type == FW_EVENT_BLE_SMP_TRANSFER) {
        err = fw_ble_smp_step(s, FW_BLE_SMP_IN_TRANSFER_DONE, NULL, now);
    } else if (ev->type == FW_EVENT_MODULE_STATE &&
               ev->u.module_state.state == FW_EVENT_STATE_READY) {
        if (ev->u.module_state.module == FW_EVENT_MOD_MAIN)
            err = fw_ble_smp_step(s, FW_BLE_SMP_IN_MAIN_READY, NULL, now);
        else if (ev->u.module_state.module == FW_EVENT_MOD_BLE_STATE)
            err = fw_ble_smp_step(s, FW_BLE_SMP_IN_BLE_STATE_READY, NULL, now);
    }
    if (err < 0 && s->fault == 0)
        s->fault = err;
    return false;
}

int fw_ble_smp_subscribe(struct fw_ble_smp *s, struct fw_event_bus *bus)
{
    int err = fw_event_bus_subscribe(bus, FW_EVENT_MODULE_STATE, FW_EVENT_BUS_NORMAL, on_bus, s);
    if (err == 0)
        err = fw_event_bus_subscribe(bus, FW_EVENT_BLE_SMP_TRANSFER, FW_EVENT_BUS_FINAL, on_bus, s);
    return err;
}

void fw_ble_smp_check(const struct fw_ble_smp *s)
{
#ifndef NDEBUG
    assert(s->state < FW_BLE_SMP_STATE_COUNT);
    assert(s->state == FW_BLE_SMP_HOOKED || !s->event_active);
#else
    (void)s;
#endif
}
