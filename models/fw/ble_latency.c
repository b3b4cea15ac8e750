/* models/fw/ble_latency.c - nRF Desktop BLE latency module.
 * Behaviour of nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/ble_latency.c
 * (set_conn_latency, low_latency_check_fn, security_timeout_fn,
 * update_llpm_conn_latency_lock, the ble_peer / conn_params / config / ble_smp / power
 * event handlers). */
#include "models/fw/ble_latency.h"

#include <assert.h>
#include <stddef.h>

#include "sim/error.h"

#define SEC_NS 1000000000LL

struct fw_ble_latency_cfg fw_ble_latency_cfg_default(void)
{
    return (struct fw_ble_latency_cfg){
        .pref_latency = 99,              /* nrf_desktop Kconfig.ble BT_PERIPHERAL_PREF_LATENCY */
        .pref_interval = 6,              /* BT_PERIPHERAL_PREF_MIN/MAX_INT: 7.5 ms */
        .pref_timeout = 400,             /* BT_PERIPHERAL_PREF_TIMEOUT: 4 s */
        .check_period = 5 * SEC_NS,      /* ble_latency.c LOW_LATENCY_CHECK_PERIOD_MS 5000 */
        .security_timeout = 10 * SEC_NS, /* DESKTOP_BLE_SECURITY_FAIL_TIMEOUT_S default 10 */
        .low_latency_lock = false,
        .pm_events = true,
    };
}

void fw_ble_latency_init(struct fw_ble_latency *l, const struct fw_ble_latency_cfg *cfg,
                         const struct fw_ble_latency_ctx *cx)
{
    *l = (struct fw_ble_latency){.cfg = *cfg, .cx = cx, .state = FW_BLE_LATENCY_ST_DISCONNECTED};
}

static void cancel(struct fw_ble_latency *l, struct fw_record_timer *t, int id)
{
    if (t->armed)
        l->cx->timer_cancel(l->cx->env, id);
    t->armed = false;
}

static void arm(struct fw_ble_latency *l, struct fw_record_timer *t, int id, int64_t at)
{
    t->gen = l->cx->timer_arm(l->cx->env, id, at);
    t->armed = true;
}

void fw_ble_latency_fini(struct fw_ble_latency *l)
{
    cancel(l, &l->check, FW_BLE_LATENCY_TIMER_CHECK);
    cancel(l, &l->security, FW_BLE_LATENCY_TIMER_SECURITY);
    l->flags = 0;
    l->state = FW_BLE_LATENCY_ST_DISCONNECTED;
}

static void emit(const struct fw_ble_latency *l, enum fw_record_kind kind, int in, int32_t a,
                 int32_t b, int64_t now)
{
    struct fw_record r = {.at = now,
                          .a = a,
                          .b = b,
                          .module = FW_RECORD_MOD_BLE_LATENCY,
                          .kind = (uint8_t)kind,
                          .state = l->state,
                          .input = (uint8_t)in};
    l->cx->emit(l->cx->env, &r);
}

static int unexpected(struct fw_ble_latency *l, int in, int64_t now)
{
    l->n_unexpected++;
    emit(l, FW_RECORD_UNEXPECTED, in, 0, 0, now);
    return 0;
}

/* One parameter request through the link; returns its result. */
static int request(struct fw_ble_latency *l, const struct fw_event_conn_params *p, int in,
                   int64_t now)
{
    int r = l->cx->conn_param_update(l->cx->env, p, now);
    l->n_requests++;
    emit(l, FW_RECORD_CONN_PARAM, in, p->latency, r, now);
    return r;
}

/* set_conn_latency(low). */
static int set_latency(struct fw_ble_latency *l, bool low, int in, int64_t now)
{
    struct fw_event_conn_params cur;
    l->cx->conn_params_get(l->cx->env, &cur);
    uint16_t target = low ? 0 : l->cfg.pref_latency;
    if (cur.latency == target)
        return 0;
    uint16_t interval =
        (l->flags & FW_BLE_LATENCY_IS_LLPM) ? l->cfg.pref_interval : cur.interval_max;
    struct fw_event_conn_params p = {interval, interval, target, cur.timeout};
    int r = request(l, &p, in, now);
    if (r < 0)
        return r;
    if (r == 0 || r == FW_BLE_LATENCY_EALREADY) {
        if (low)
            l->flags |= FW_BLE_LATENCY_ENABLED;
        else
            l->flags &= (uint8_t)~FW_BLE_LATENCY_ENABLED;
    }
    return 0;
}

/* update_llpm_conn_latency_lock. */
static int lock_rule(struct fw_ble_latency *l, int in, int64_t now)
{
    if (!l->cfg.low_latency_lock || l->state == FW_BLE_LATENCY_ST_DISCONNECTED)
        return 0;
    if ((l->flags & FW_BLE_LATENCY_LOCKED) && (l->flags & FW_BLE_LATENCY_IS_LLPM)) {
        cancel(l, &l->check, FW_BLE_LATENCY_TIMER_CHECK);
        return set_latency(l, true, in, now);
    }
    if ((l->flags & FW_BLE_LATENCY_ENABLED) && !l->check.armed) /* *unverified* branch */
        arm(l, &l->check, FW_BLE_LATENCY_TIMER_CHECK, now + l->cfg.check_period);
    return 0;
}

static int on_connected(struct fw_ble_latency *l, int64_t now)
{
    l->flags = l->cfg.low_latency_lock ? FW_BLE_LATENCY_LOCKED : 0;
    l->disconnect_requested = false;
    l->state = FW_BLE_LATENCY_ST_CONNECTED;
    struct fw_event_conn_params p = {l->cfg.pref_interval, l->cfg.pref_interval, 0,
                                     l->cfg.pref_timeout};
    int r = request(l, &p, FW_BLE_LATENCY_IN_CONNECTED, now);
    arm(l, &l->security, FW_BLE_LATENCY_TIMER_SECURITY, now + l->cfg.security_timeout);
    return r < 0 ? r : 0;
}

static int on_disconnected(struct fw_ble_latency *l)
{
    l->flags = 0;
    cancel(l, &l->check, FW_BLE_LATENCY_TIMER_CHECK);
    cancel(l, &l->security, FW_BLE_LATENCY_TIMER_SECURITY);
    l->disconnect_requested = false;
    l->state = FW_BLE_LATENCY_ST_DISCONNECTED;
    return 0;
}

static int on_transfer(struct fw_ble_latency *l, int64_t now)
{
    if (l->flags & FW_BLE_LATENCY_ENABLED) {
        l->flags |= FW_BLE_LATENCY_REQUIRED;
        return 0;
    }
    return set_latency(l, true, FW_BLE_LATENCY_IN_TRANSFER, now);
}

static int on_params(struct fw_ble_latency *l, const struct fw_event *ev, int64_t now)
{
    if (ev->type != FW_EVENT_BLE_CONN_PARAMS)
        return SIM_EINVAL;
    if (!ev->u.conn_params.updated)
        return 0; /* the peer's request, not the link's new parameters */
    const struct fw_event_conn_params *p = &ev->u.conn_params.p;
    if ((p->interval_min & FW_BLE_LATENCY_LLPM_MASK) == FW_BLE_LATENCY_LLPM_MASK)
        l->flags |= FW_BLE_LATENCY_IS_LLPM;
    else
        l->flags &= (uint8_t)~FW_BLE_LATENCY_IS_LLPM;
    if (p->latency == 0) {
        l->flags |= FW_BLE_LATENCY_ENABLED;
        l->flags &= (uint8_t)~FW_BLE_LATENCY_REQUIRED;
        arm(l, &l->check, FW_BLE_LATENCY_TIMER_CHECK, now + l->cfg.check_period);
    } else {
        l->flags &= (uint8_t)~FW_BLE_LATENCY_ENABLED;
        cancel(l, &l->check, FW_BLE_LATENCY_TIMER_CHECK);
    }
    return lock_rule(l, FW_BLE_LATENCY_IN_PARAMS, now);
}

/* low_latency_check_fn. */
static int on_check(struct fw_ble_latency *l, uint32_t gen, int64_t now)
{
    if (!fw_record_timer_live(&l->check, gen)) {
        l->n_stale++;
        return 0;
    }
    l->check.armed = false;
    if (!(l->flags & FW_BLE_LATENCY_SECURED)) {
        /* ble_latency.c: latency stays low until the link is secured, so that pairing
         * and the security procedure are not slowed down by a sleeping peripheral. */
        arm(l, &l->check, FW_BLE_LATENCY_TIMER_CHECK, now + l->cfg.check_period);
        return 0;
    }
    if (l->flags & FW_BLE_LATENCY_REQUIRED) {
        l->flags &= (uint8_t)~FW_BLE_LATENCY_REQUIRED;
        arm(l, &l->check, FW_BLE_LATENCY_TIMER_CHECK, now + l->cfg.check_period);
        return 0;
    }
    return set_latency(l, false, FW_BLE_LATENCY_IN_CHECK, now);
}

/* security_timeout_fn. */
static int on_security(struct fw_ble_latency *l, uint32_t gen, int64_t now)
{
    if (!fw_record_timer_live(&l->security, gen)) {
        l->n_stale++;
        return 0;
    }
    l->security.armed = false;
    l->disconnect_requested = true;
    emit(l, FW_RECORD_DISCONNECT, FW_BLE_LATENCY_IN_SECURITY, FW_BLE_LATENCY_HCI_REMOTE_USER_TERM,
         0, now);
    l->cx->disconnect(l->cx->env, FW_BLE_LATENCY_HCI_REMOTE_USER_TERM, now);
    return 0;
}

static int on_power(struct fw_ble_latency *l, bool wake, int64_t now)
{
    if (!l->cfg.pm_events)
        return 0;
    if (wake && l->cfg.low_latency_lock)
        l->flags |= FW_BLE_LATENCY_LOCKED;
    else if (!wake)
        l->flags &= (uint8_t)~FW_BLE_LATENCY_LOCKED;
    return lock_rule(l, wake ? FW_BLE_LATENCY_IN_WAKE_UP : FW_BLE_LATENCY_IN_POWER_DOWN, now);
}

/* Inputs handled the same way in CONNECTED and SECURED. */
static int step_linked(struct fw_ble_latency *l, enum fw_ble_latency_input in, const void *arg,
                       int64_t now)
{
    switch (in) {
    case FW_BLE_LATENCY_IN_DISCONNECTED:
        return on_disconnected(l);
    case FW_BLE_LATENCY_IN_TRANSFER:
        return on_transfer(l, now);
    case FW_BLE_LATENCY_IN_PARAMS:
        return on_params(l, arg, now);
    case FW_BLE_LATENCY_IN_CHECK:
        return on_check(l, *(const uint32_t *)arg, now);
    case FW_BLE_LATENCY_IN_SECURITY:
        return on_security(l, *(const uint32_t *)arg, now); /* stale once SECURED */
    case FW_BLE_LATENCY_IN_POWER_DOWN:
        return on_power(l, false, now);
    case FW_BLE_LATENCY_IN_WAKE_UP:
        return on_power(l, true, now);
    case FW_BLE_LATENCY_IN_CONNECTED: /* CONFIG_BT_MAX_CONN == 1 */
    case FW_BLE_LATENCY_IN_SECURED:   /* handled by the caller in CONNECTED */
    default:
        return unexpected(l, in, now);
    }
}

static int step_disconnected(struct fw_ble_latency *l, enum fw_ble_latency_input in,
                             const void *arg, int64_t now)
{
    switch (in) {
    case FW_BLE_LATENCY_IN_CONNECTED:
        return on_connected(l, now);
    case FW_BLE_LATENCY_IN_TRANSFER:
        return 0; /* no active connection: ignored */
    case FW_BLE_LATENCY_IN_CHECK:
        return on_check(l, *(const uint32_t *)arg, now); /* stale: cancelled */
    case FW_BLE_LATENCY_IN_SECURITY:
        return on_security(l, *(const uint32_t *)arg, now); /* stale: cancelled */
    case FW_BLE_LATENCY_IN_POWER_DOWN:
        return on_power(l, false, now);
    case FW_BLE_LATENCY_IN_WAKE_UP:
        return on_power(l, true, now);
    case FW_BLE_LATENCY_IN_PARAMS:
        if (!((const struct fw_event *)arg)->u.conn_params.updated)
            return 0;
        return unexpected(l, in, now);
    case FW_BLE_LATENCY_IN_SECURED:
    case FW_BLE_LATENCY_IN_DISCONNECTED:
    default:
        return unexpected(l, in, now);
    }
}

int fw_ble_latency_step(struct fw_ble_latency *l, enum fw_ble_latency_input in, const void *arg,
                        int64_t now)
{
    if ((unsigned)in >= FW_BLE_LATENCY_INPUT_COUNT)
        return SIM_EINVAL;
    bool needs_arg = in == FW_BLE_LATENCY_IN_PARAMS || in == FW_BLE_LATENCY_IN_CHECK ||
                     in == FW_BLE_LATENCY_IN_SECURITY;
    if (needs_arg && arg == NULL)
        return SIM_EINVAL;
    int rc;
    switch (l->state) {
    case FW_BLE_LATENCY_ST_DISCONNECTED:
        rc = step_disconnected(l, in, arg, now);
        break;
    case FW_BLE_LATENCY_ST_CONNECTED:
        if (in == FW_BLE_LATENCY_IN_SECURED) {
            l->flags |= FW_BLE_LATENCY_SECURED;
            cancel(l, &l->security, FW_BLE_LATENCY_TIMER_SECURITY);
            l->state = FW_BLE_LATENCY_ST_SECURED;
            rc = 0;
        } else {
            rc = step_linked(l, in, arg, now);
        }
        break;
    case FW_BLE_LATENCY_ST_SECURED:
        rc = step_linked(l, in, arg, now);
        break;
    default:
        return SIM_EINTERNAL;
    }
    fw_ble_latency_check(l);
    return rc;
}

static bool on_bus(void *env, const struct fw_event *ev, int64_t now)
{
    struct fw_ble_latency *l = env;
    int in = -1;
    switch (ev->type) {
    case FW_EVENT_BLE_PEER:
        if (ev->u.peer.state == FW_EVENT_PEER_CONNECTED)
            in = FW_BLE_LATENCY_IN_CONNECTED;
        else if (ev->u.peer.state == FW_EVENT_PEER_SECURED)
            in = FW_BLE_LATENCY_IN_SECURED;
        else if (ev->u.peer.state == FW_EVENT_PEER_DISCONNECTED)
            in = FW_BLE_LATENCY_IN_DISCONNECTED;
        break;
    case FW_EVENT_BLE_CONN_PARAMS:
        in = FW_BLE_LATENCY_IN_PARAMS;
        break;
    case FW_EVENT_CONFIG:
    case FW_EVENT_BLE_SMP_TRANSFER:
        in = FW_BLE_LATENCY_IN_TRANSFER;
        break;
    case FW_EVENT_POWER_DOWN:
        in = FW_BLE_LATENCY_IN_POWER_DOWN;
        break;
    case FW_EVENT_WAKE_UP:
        in = FW_BLE_LATENCY_IN_WAKE_UP;
        break;
    default:
        break;
    }
    if (in >= 0) {
        int err = fw_ble_latency_step(l, (enum fw_ble_latency_input)in, ev, now);
        if (err < 0 && l->fault == 0)
            l->fault = err;
    }
    return false;
}

int fw_ble_latency_subscribe(struct fw_ble_latency *l, struct fw_event_bus *bus)
{
    static const enum fw_event_type types[] = {FW_EVENT_BLE_PEER,   FW_EVENT_BLE_CONN_PARAMS,
                                               FW_EVENT_CONFIG,     FW_EVENT_BLE_SMP_TRANSFER,
                                               FW_EVENT_POWER_DOWN, FW_EVENT_WAKE_UP};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        int err = fw_event_bus_subscribe(bus, types[i], FW_EVENT_BUS_NORMAL, on_bus, l);
        if (err != 0)
            return err;
    }
    return 0;
}

void fw_ble_latency_check(const struct fw_ble_latency *l)
{
#ifndef NDEBUG
    switch (l->state) {
    case FW_BLE_LATENCY_ST_DISCONNECTED:
        assert(!l->check.armed && !l->security.armed);
        assert((l->flags & ~FW_BLE_LATENCY_LOCKED) == 0);
        break;
    case FW_BLE_LATENCY_ST_CONNECTED:
        assert(!(l->flags & FW_BLE_LATENCY_SECURED));
        assert(l->security.armed || l->disconnect_requested);
        break;
    case FW_BLE_LATENCY_ST_SECURED:
        assert((l->flags & FW_BLE_LATENCY_SECURED) && !l->security.armed);
        break;
    default:
        assert(0 && "bad ble_latency state");
    }
    assert(!l->check.armed || (l->flags & FW_BLE_LATENCY_ENABLED));
#else
    (void)l;
#endif
}
