/* models/fw/dfu_mcumgr.c - nRF Desktop MCUmgr DFU module.
 * Behaviour of nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c
 * (smp_cmd_recv, dfu_timeout_handler, dfu_lock_owner_changed, dfu_backend_init,
 * app_event_handler). */
#include "models/fw/dfu_mcumgr.h"

#include <assert.h>

#include "models/smp/mgmt.h"
#include "models/smp/os_mgmt.h"
#include "sim/error.h"

#define SEC_NS 1000000000LL

struct fw_dfu_mcumgr_cfg fw_dfu_mcumgr_cfg_default(void)
{
    return (struct fw_dfu_mcumgr_cfg){
        .version = FW_DFU_MCUMGR_VERSION_B,
        .timeout = 5 * SEC_NS, /* dfu_mcumgr.c DFU_TIMEOUT K_SECONDS(5) */
        .transport_bt = true,
        .direct_xip = false,
    };
}

static void owner_changed(void *env, const struct fw_dfu_lock_owner *new_owner, int64_t now)
{
    struct fw_dfu_mcumgr *m = env;
    (void)fw_dfu_mcumgr_step(m, FW_DFU_MCUMGR_IN_OWNER_CHANGED, new_owner, now);
}

void fw_dfu_mcumgr_init(struct fw_dfu_mcumgr *m, const struct fw_dfu_mcumgr_cfg *cfg,
                        const struct fw_dfu_mcumgr_ctx *cx, struct fw_dfu_lock *lock,
                        struct smp_callbacks *callbacks)
{
    *m = (struct fw_dfu_mcumgr){.cfg = *cfg, .cx = cx, .lock = lock, .callbacks = callbacks};
    m->owner = (struct fw_dfu_lock_owner){FW_DFU_MCUMGR_OWNER, owner_changed, m};
    m->state = FW_DFU_MCUMGR_INIT;
}

void fw_dfu_mcumgr_fini(struct fw_dfu_mcumgr *m)
{
    if (m->t.armed)
        m->cx->timer_cancel(m->cx->env, FW_DFU_MCUMGR_TIMER_DFU);
    m->t.armed = false;
    m->evt_in_flight = false;
    m->state = FW_DFU_MCUMGR_INIT;
}

const char *fw_dfu_mcumgr_state_name(enum fw_dfu_mcumgr_state s)
{
    static const char *const names[] = {"init", "idle", "active"};
    return (unsigned)s < FW_DFU_MCUMGR_STATE_COUNT ? names[s] : "?";
}

static void emit(const struct fw_dfu_mcumgr *m, enum fw_record_kind kind, int in, int32_t a,
                 int32_t b, int64_t now)
{
    struct fw_record r = {.at = now,
                          .a = a,
                          .b = b,
                          .module = FW_RECORD_MOD_DFU_MCUMGR,
                          .kind = (uint8_t)kind,
                          .state = m->state,
                          .input = (uint8_t)in};
    m->cx->emit(m->cx->env, &r);
}

static int unexpected(struct fw_dfu_mcumgr *m, int in, int64_t now)
{
    m->n_unexpected++;
    emit(m, FW_RECORD_UNEXPECTED, in, 0, 0, now);
    return 0;
}

static void arm(struct fw_dfu_mcumgr *m, int64_t now)
{
    m->t.gen = m->cx->timer_arm(m->cx->env, FW_DFU_MCUMGR_TIMER_DFU, now + m->cfg.timeout);
    m->t.armed = true;
}

static void cancel(struct fw_dfu_mcumgr *m)
{
    m->cx->timer_cancel(m->cx->env, FW_DFU_MCUMGR_TIMER_DFU);
    m->t.armed = false;
}

/* main READY: dfu_backend_init(). */
static int on_ready(struct fw_dfu_mcumgr *m, int64_t now)
{
    if (!m->cfg.direct_xip) {
        int err = m->cx->confirm(m->cx->env, now);
        if (err < 0)
            return err;
        emit(m, FW_RECORD_CONFIRM, FW_DFU_MCUMGR_IN_READY, err, 0, now);
    }
    if (m->callbacks != NULL) {
        int err;
        if (m->cfg.version == FW_DFU_MCUMGR_VERSION_B) {
            err = smp_callbacks_register(m->callbacks, SMP_CALLBACKS_EVT_CMD_RECV,
                                         fw_dfu_mcumgr_smp_cb, m);
        } else {
            err = smp_callbacks_register(m->callbacks, SMP_CALLBACKS_EVT_IMG_ALL,
                                         fw_dfu_mcumgr_smp_cb, m);
            if (err == 0)
                err = smp_callbacks_register(m->callbacks, SMP_CALLBACKS_EVT_OS_RESET,
                                             fw_dfu_mcumgr_smp_cb, m);
        }
        if (err != 0)
            return err;
    }
    m->state = FW_DFU_MCUMGR_IDLE;
    return 0;
}

/* smp_cmd_is_dfu_cmd (version B) or the event mask (version A). Returns 1 relevant,
 * 0 ignored, -1 spurious (version B hook called for another event). */
static int relevance(const struct fw_dfu_mcumgr *m, const struct fw_dfu_mcumgr_cmd *c)
{
    if (m->cfg.version == FW_DFU_MCUMGR_VERSION_B) {
        if (c->event != SMP_CALLBACKS_EVT_CMD_RECV)
            return -1;
        if (c->group == SMP_MGMT_GROUP_IMAGE)
            return 1;
        return c->group == SMP_MGMT_GROUP_OS && c->id == SMP_OS_MGMT_ID_RESET;
    }
    if ((c->event >> 16) == SMP_CALLBACKS_GRP_IMG)
        return 1;
    return c->event == SMP_CALLBACKS_EVT_OS_RESET;
}

/* smp_cmd_recv body: k_work_reschedule, claim, maybe reject, maybe submit. */
static int on_cmd(struct fw_dfu_mcumgr *m, const struct fw_dfu_mcumgr_cmd *c, int64_t now)
{
    int rel = relevance(m, c);
    if (rel < 0)
        return SMP_MGMT_ERR_EUNKNOWN; /* "Spurious event in recv cb" */
    if (rel == 0)
        return 0;
    arm(m, now);
    if (m->lock != NULL) {
        int err = fw_dfu_lock_claim(m->lock, &m->owner, now);
        if (err < 0)
            return err;
        if (err == FW_DFU_LOCK_EPERM) {
            cancel(m);
            m->state = FW_DFU_MCUMGR_IDLE;
            m->n_rejected++;
            emit(m, FW_RECORD_REJECT, FW_DFU_MCUMGR_IN_CMD, SMP_MGMT_ERR_EACCESSDENIED,
                 (int32_t)((c->group << 8) | c->id), now);
            return SMP_MGMT_ERR_EACCESSDENIED;
        }
    }
    m->state = FW_DFU_MCUMGR_ACTIVE;
    /* Version A submits nothing for the OS reset hook. */
    bool reset_a =
        m->cfg.version == FW_DFU_MCUMGR_VERSION_A && c->event == SMP_CALLBACKS_EVT_OS_RESET;
    if (!m->cfg.transport_bt || reset_a || m->evt_in_flight)
        return 0;
    struct fw_event ev = fw_event_plain(FW_EVENT_BLE_SMP_TRANSFER);
    int err = m->cx->submit(m->cx->env, &ev, now);
    if (err != 0)
        return err < 0 ? err : SIM_EINTERNAL;
    m->evt_in_flight = true;
    m->n_transfers++;
    emit(m, FW_RECORD_TRANSFER, FW_DFU_MCUMGR_IN_CMD, 0, 0, now);
    return 0;
}

/* dfu_timeout_handler. */
static int on_timeout(struct fw_dfu_mcumgr *m, uint32_t gen, int64_t now)
{
    if (!fw_record_timer_live(&m->t, gen)) {
        m->n_stale++;
        return 0;
    }
    m->t.armed = false;
    m->state = FW_DFU_MCUMGR_IDLE;
    if (m->lock == NULL)
        return 0;
    int err = fw_dfu_lock_release(m->lock, &m->owner, now);
    return err < 0 ? err : (err == 0 ? 0 : SIM_EINTERNAL); /* upstream asserts !err */
}

/* app_event_handler, is_ble_smp_transfer_event: atomic_cas(true, false) asserted. */
static int on_transfer_done(struct fw_dfu_mcumgr *m, int64_t now)
{
    if (!m->evt_in_flight)
        return unexpected(m, FW_DFU_MCUMGR_IN_TRANSFER_DONE, now);
    m->evt_in_flight = false;
    return 0;
}

/* dfu_lock_owner_changed: img_mgmt_reset_upload(). */
static int on_owner_changed(struct fw_dfu_mcumgr *m, int64_t now)
{
    m->cx->reset_upload(m->cx->env, now);
    emit(m, FW_RECORD_UPLOAD_RESET, FW_DFU_MCUMGR_IN_OWNER_CHANGED, 0, 0, now);
    return 0;
}

static int step_init(struct fw_dfu_mcumgr *m, enum fw_dfu_mcumgr_input in, int64_t now)
{
    if (in == FW_DFU_MCUMGR_IN_READY)
        return on_ready(m, now);
    return unexpected(m, in, now); /* hooks not registered yet: nothing can fire */
}

static int step_idle(struct fw_dfu_mcumgr *m, enum fw_dfu_mcumgr_input in, const void *arg,
                     int64_t now)
{
    switch (in) {
    case FW_DFU_MCUMGR_IN_CMD:
        return on_cmd(m, arg, now);
    case FW_DFU_MCUMGR_IN_TIMEOUT:
        return on_timeout(m, *(const uint32_t *)arg, now); /* stale: T is not armed */
    case FW_DFU_MCUMGR_IN_TRANSFER_DONE:
        return on_transfer_done(m, now);
    case FW_DFU_MCUMGR_IN_OWNER_CHANGED:
        return on_owner_changed(m, now);
    case FW_DFU_MCUMGR_IN_READY:
    default:
        return unexpected(m, in, now);
    }
}

static int step_active(struct fw_dfu_mcumgr *m, enum fw_dfu_mcumgr_input in, const void *arg,
                       int64_t now)
{
    switch (in) {
    case FW_DFU_MCUMGR_IN_CMD:
        return on_cmd(m, arg, now);
    case FW_DFU_MCUMGR_IN_TIMEOUT:
        return on_timeout(m, *(const uint32_t *)arg, now);
    case FW_DFU_MCUMGR_IN_TRANSFER_DONE:
        return on_transfer_done(m, now);
    case FW_DFU_MCUMGR_IN_OWNER_CHANGED: /* we hold the lock: nobody else can claim */
    case FW_DFU_MCUMGR_IN_READY:
    default:
        return unexpected(m, in, now);
    }
}

int fw_dfu_mcumgr_step(struct fw_dfu_mcumgr *m, enum fw_dfu_mcumgr_input in, const void *arg,
                       int64_t now)
{
    if ((unsigned)in >= FW_DFU_MCUMGR_INPUT_COUNT)
        return SIM_EINVAL;
    if ((in == FW_DFU_MCUMGR_IN_CMD || in == FW_DFU_MCUMGR_IN_TIMEOUT) && arg == NULL)
        return SIM_EINVAL;
    int rc;
    switch (m->state) {
    case FW_DFU_MCUMGR_INIT:
        rc = step_init(m, in, now);
        break;
    case FW_DFU_MCUMGR_IDLE:
        rc = step_idle(m, in, arg, now);
        break;
    case FW_DFU_MCUMGR_ACTIVE:
        rc = step_active(m, in, arg, now);
        break;
    default:
        return SIM_EINTERNAL;
    }
    fw_dfu_mcumgr_check(m);
    return rc;
}

enum smp_callbacks_status fw_dfu_mcumgr_smp_cb(void *env, uint32_t event,
                                               enum smp_callbacks_status prev, int32_t *rc,
                                               uint16_t *group, bool *abort_more, const void *data,
                                               size_t size, int64_t now)
{
    struct fw_dfu_mcumgr *m = env;
    (void)group;
    (void)abort_more;
    struct fw_dfu_mcumgr_cmd c = {.event = event};
    if (event == SMP_CALLBACKS_EVT_CMD_RECV) {
        if (data == NULL || size != sizeof(struct smp_callbacks_cmd)) {
            c.event = 0; /* "Invalid data size in recv cb": EUNKNOWN, as a spurious event */
        } else {
            const struct smp_callbacks_cmd *cmd = data;
            c.group = cmd->group;
            c.id = cmd->id;
        }
    } else if (event == SMP_CALLBACKS_EVT_OS_RESET) {
        c.group = SMP_MGMT_GROUP_OS;
        c.id = SMP_OS_MGMT_ID_RESET;
    } else if ((event >> 16) == SMP_CALLBACKS_GRP_IMG) {
        c.group = SMP_MGMT_GROUP_IMAGE;
        c.id = 1; /* image notifications concern uploads (IMG_MGMT_ID_UPLOAD) */
    }
    int r = fw_dfu_mcumgr_step(m, FW_DFU_MCUMGR_IN_CMD, &c, now);
    if (r < 0) {
        if (m->fault == 0)
            m->fault = r;
        return SMP_CALLBACKS_OK;
    }
    if (r == 0)
        return SMP_CALLBACKS_OK;
    if (prev == SMP_CALLBACKS_OK) /* an earlier failure keeps its rc (callbacks.h) */
        *rc = r;
    return SMP_CALLBACKS_ERROR_RC;
}

static bool on_bus(void *env, const struct fw_event *ev, int64_t now)
{
    struct fw_dfu_mcumgr *m = env;
    int r = 0;
    if (ev->type == FW_EVENT_BLE_SMP_TRANSFER) {
        r = fw_dfu_mcumgr_step(m, FW_DFU_MCUMGR_IN_TRANSFER_DONE, NULL, now);
    } else if (ev->type == FW_EVENT_MODULE_STATE &&
               ev->u.module_state.module == FW_EVENT_MOD_MAIN &&
               ev->u.module_state.state == FW_EVENT_STATE_READY) {
        r = fw_dfu_mcumgr_step(m, FW_DFU_MCUMGR_IN_READY, NULL, now);
    }
    if (r < 0 && m->fault == 0)
        m->fault = r;
    return false; /* never consumes */
}

int fw_dfu_mcumgr_subscribe(struct fw_dfu_mcumgr *m, struct fw_event_bus *bus)
{
    int err = fw_event_bus_subscribe(bus, FW_EVENT_MODULE_STATE, FW_EVENT_BUS_NORMAL, on_bus, m);
    if (err == 0 && m->cfg.transport_bt)
        err = fw_event_bus_subscribe(bus, FW_EVENT_BLE_SMP_TRANSFER, FW_EVENT_BUS_FINAL, on_bus, m);
    return err;
}

void fw_dfu_mcumgr_check(const struct fw_dfu_mcumgr *m)
{
#ifndef NDEBUG
    bool ours = m->lock != NULL && fw_dfu_lock_owner_get(m->lock) == &m->owner;
    switch (m->state) {
    case FW_DFU_MCUMGR_INIT:
        assert(!m->t.armed && !m->evt_in_flight && !ours);
        break;
    case FW_DFU_MCUMGR_IDLE:
        assert(!m->t.armed && !ours);
        break;
    case FW_DFU_MCUMGR_ACTIVE:
        assert(m->t.armed && (m->lock == NULL || ours));
        break;
    default:
        assert(0 && "bad dfu_mcumgr state");
    }
    assert(!m->evt_in_flight || m->cfg.transport_bt);
#else
    (void)m;
#endif
}
