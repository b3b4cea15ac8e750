/* models/fw/cc_dfu.c - nRF Desktop config-channel DFU.
 * Behaviour of nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu.c
 * (background_erase_handler, handle_dfu_start/data/sync/reboot, background_store_handler,
 * dfu_timeout_handler, terminate_dfu, dfu_lock_owner_changed); the DFU lock is
 * applications/nrf_desktop/src/util/dfu_lock.c. */
#include "models/fw/cc_dfu.h"

#include <assert.h>
#include <stddef.h>

#include "sim/error.h"

#define MS_NS  1000000LL
#define SEC_NS 1000000000LL

struct fw_cc_dfu_cfg fw_cc_dfu_cfg_default(void)
{
    return (struct fw_cc_dfu_cfg){
        .slot_size = 0,
        .page_size = 4096,
        .sync_buf_size = 128 * 4,
        .store_chunk = 16,
        .timeout = 5 * SEC_NS,
        .store_period = 5 * MS_NS,
        .busy_backoff = 15 * SEC_NS,
        .reboot_delay = 250 * MS_NS,
        .direct_xip = false,
    };
}

static void owner_changed(void *env, const struct fw_dfu_lock_owner *new_owner, int64_t now)
{
    struct fw_cc_dfu *d = env;
    int err = fw_cc_dfu_step(d, FW_CC_DFU_IN_OWNER_CHANGED, new_owner, now);
    if (err < 0 && d->fault == 0)
        d->fault = err;
}

void fw_cc_dfu_init(struct fw_cc_dfu *d, const struct fw_cc_dfu_cfg *cfg,
                    const struct fw_cc_dfu_ctx *cx, struct fw_dfu_lock *lock)
{
    *d = (struct fw_cc_dfu){.cfg = *cfg, .cx = cx, .lock = lock, .state = FW_CC_DFU_BOOT};
    d->owner = (struct fw_dfu_lock_owner){FW_CC_DFU_OWNER, owner_changed, d};
}

static void cancel(struct fw_cc_dfu *d, int id)
{
    if (d->t[id].armed)
        d->cx->timer_cancel(d->cx->env, id);
    d->t[id].armed = false;
}

static void arm(struct fw_cc_dfu *d, int id, int64_t at)
{
    d->t[id].gen = d->cx->timer_arm(d->cx->env, id, at);
    d->t[id].armed = true;
}

void fw_cc_dfu_fini(struct fw_cc_dfu *d)
{
    for (int i = 0; i < FW_CC_DFU_TIMER_COUNT; i++)
        cancel(d, i);
    d->state = FW_CC_DFU_BOOT;
}

const char *fw_cc_dfu_state_name(enum fw_cc_dfu_state s)
{
    static const char *const names[] = {"boot", "idle", "erasing", "active"};
    return (unsigned)s < FW_CC_DFU_STATE_COUNT ? names[s] : "?";
}

static void emit(const struct fw_cc_dfu *d, enum fw_record_kind kind, int in, int32_t a, int32_t b,
                 int64_t now)
{
    struct fw_record r = {.at = now,
                          .a = a,
                          .b = b,
                          .module = FW_RECORD_MOD_CC_DFU,
                          .kind = (uint8_t)kind,
                          .state = d->state,
                          .input = (uint8_t)in};
    d->cx->emit(d->cx->env, &r);
}

static int unexpected(struct fw_cc_dfu *d, int in, int64_t now)
{
    d->n_unexpected++;
    emit(d, FW_RECORD_UNEXPECTED, in, 0, 0, now);
    return 0;
}

static bool lock_ours(const struct fw_cc_dfu *d)
{
    return d->lock == NULL || fw_dfu_lock_owner_get(d->lock) == &d->owner;
}

/* 0 claimed (or no lock), FW_DFU_LOCK_EPERM, or a sim_err. */
static int claim(struct fw_cc_dfu *d, int64_t now)
{
    return d->lock == NULL ? 0 : fw_dfu_lock_claim(d->lock, &d->owner, now);
}

static int release(struct fw_cc_dfu *d, int64_t now)
{
    if (d->lock == NULL || d->reboot_pending)
        return 0;
    int err = fw_dfu_lock_release(d->lock, &d->owner, now);
    return err < 0 ? err : 0; /* EPERM: not ours, nothing to release */
}

static void start_erase(struct fw_cc_dfu *d, int in, int64_t now)
{
    d->clean = false;
    d->erase_off = 0;
    d->state = FW_CC_DFU_ERASING;
    arm(d, FW_CC_DFU_TIMER_ERASE, now);
    emit(d, FW_RECORD_ERASE_START, in, 0, 0, now);
}

/* main READY: confirm the running image, claim the lock, start the background erase. */
static int on_ready(struct fw_cc_dfu *d, int64_t now)
{
    if (!d->cfg.direct_xip) {
        int err = d->cx->confirm(d->cx->env, now);
        if (err < 0)
            return err;
        emit(d, FW_RECORD_CONFIRM, FW_CC_DFU_IN_READY, err, 0, now);
    }
    int err = claim(d, now);
    if (err < 0)
        return err;
    if (err != 0) /* dfu.c asserts the config channel is the first owner */
        return unexpected(d, FW_CC_DFU_IN_READY, now);
    start_erase(d, FW_CC_DFU_IN_READY, now);
    return 0;
}

static void erase_end(struct fw_cc_dfu *d, int32_t result, int64_t now, int *err)
{
    emit(d, FW_RECORD_ERASE_END, FW_CC_DFU_IN_ERASE_WORK, result, (int32_t)d->erase_off, now);
    d->clean = result == 0;
    d->state = FW_CC_DFU_IDLE;
    *err = release(d, now);
}

/* background_erase_handler: one page per run. */
static int on_erase_work(struct fw_cc_dfu *d, int64_t now)
{
    d->t[FW_CC_DFU_TIMER_ERASE].armed = false;
    if (d->device_in_use) {
        d->device_in_use = false;
        d->n_defers++;
        arm(d, FW_CC_DFU_TIMER_ERASE, now + d->cfg.busy_backoff);
        emit(d, FW_RECORD_ERASE_DEFER, FW_CC_DFU_IN_ERASE_WORK,
             (int32_t)(d->cfg.busy_backoff / MS_NS), 0, now);
        return 0;
    }
    int err = 0;
    if (d->erase_off >= d->cfg.slot_size) {
        erase_end(d, 0, now, &err);
        return err;
    }
    uint32_t len = d->cfg.page_size;
    if (d->cfg.slot_size - d->erase_off < len)
        len = d->cfg.slot_size - d->erase_off;
    int64_t next = now;
    if (!d->cx->page_is_clean(d->cx->env, d->erase_off, len)) {
        int r = d->cx->erase(d->cx->env, d->erase_off, len, now, &next);
        if (r < 0)
            return r;
        if (r > 0) {
            erase_end(d, r, now, &err);
            return err;
        }
        if (next < now)
            next = now;
    }
    d->erase_off += len;
    arm(d, FW_CC_DFU_TIMER_ERASE, next);
    return 0;
}

/* terminate_dfu. */
static int terminate(struct fw_cc_dfu *d, int in, int64_t now)
{
    cancel(d, FW_CC_DFU_TIMER_TIMEOUT);
    cancel(d, FW_CC_DFU_TIMER_STORE);
    d->storing = false;
    d->sync_off = 0;
    d->store_off = 0;
    d->state = FW_CC_DFU_IDLE;
    emit(d, FW_RECORD_DFU_END, in, (int32_t)d->cur_offset, (int32_t)d->img_length, now);
    return release(d, now);
}

static int ignored(struct fw_cc_dfu *d)
{
    d->n_ignored++;
    return 0;
}

/* handle_dfu_start. */
static int on_start(struct fw_cc_dfu *d, const struct fw_cc_dfu_start *s, int64_t now)
{
    if (s->payload_len < 12)
        return ignored(d);
    int err = claim(d, now);
    if (err < 0)
        return err;
    if (err != 0)
        return ignored(d); /* another transport holds the lock */
    if (d->slot_used_by_other) {
        d->slot_used_by_other = false;
        d->cur_offset = d->img_length = d->img_csum = 0;
        start_erase(d, FW_CC_DFU_IN_START, now); /* host retries after CLEANING */
        return 0;
    }
    if (!d->clean || d->state == FW_CC_DFU_ACTIVE)
        return ignored(d);
    if (s->offset != 0) {
        if (s->offset != d->cur_offset || s->img_length != d->img_length ||
            s->img_csum != d->img_csum) {
            d->n_ignored++;
            return release(d, now);
        }
    } else if (d->cur_offset != 0) {
        d->cur_offset = 0;
        start_erase(d, FW_CC_DFU_IN_START, now); /* wipe what the old DFU wrote */
        return 0;
    }
    if (s->img_length > d->cfg.slot_size) {
        d->n_ignored++;
        return release(d, now);
    }
    d->img_length = s->img_length;
    d->img_csum = s->img_csum;
    d->state = FW_CC_DFU_ACTIVE;
    arm(d, FW_CC_DFU_TIMER_TIMEOUT, now + d->cfg.timeout);
    emit(d, FW_RECORD_DFU_START, FW_CC_DFU_IN_START, (int32_t)d->cur_offset, (int32_t)d->img_length,
         now);
    return 0;
}

/* handle_dfu_data (ACTIVE only). */
static int on_data(struct fw_cc_dfu *d, uint32_t n, int64_t now)
{
    if (n == 0)
        return terminate(d, FW_CC_DFU_IN_DATA, now);
    uint32_t room = d->cfg.sync_buf_size - d->sync_off;
    d->sync_off += n < room ? n : room;
    arm(d, FW_CC_DFU_TIMER_TIMEOUT, now + d->cfg.timeout);
    return 0;
}

/* handle_dfu_sync. */
static int on_sync(struct fw_cc_dfu *d, int64_t now)
{
    if (d->state == FW_CC_DFU_ACTIVE && d->sync_off > 0 && !d->storing) {
        d->storing = true;
        arm(d, FW_CC_DFU_TIMER_STORE, now);
    }
    bool held = d->lock != NULL && lock_ours(d);
    int err = claim(d, now);
    if (err < 0)
        return err;
    struct fw_cc_dfu_sync_reply *r = &d->sync;
    if (err != 0)
        r->state = FW_CC_DFU_HOST_ACTIVE_OTHER;
    else if (!d->clean)
        r->state = FW_CC_DFU_HOST_CLEANING;
    else if (d->sync_off > 0)
        r->state = FW_CC_DFU_HOST_STORING;
    else if (d->state == FW_CC_DFU_ACTIVE)
        r->state = FW_CC_DFU_HOST_ACTIVE_CONFIG_CHANNEL;
    else
        r->state = FW_CC_DFU_HOST_INACTIVE;
    r->img_length = d->img_length;
    r->img_csum = d->img_csum;
    r->cur_offset = d->cur_offset;
    r->sync_buffer_size = (uint16_t)d->cfg.sync_buf_size;
    if (err == 0 && !held && d->state == FW_CC_DFU_IDLE)
        return release(d, now); /* keeps it while a reboot is pending */
    return 0;
}

/* background_store_handler. */
static int on_store_work(struct fw_cc_dfu *d, int64_t now)
{
    d->t[FW_CC_DFU_TIMER_STORE].armed = false;
    if (d->device_in_use) { /* skip one tick while the user is active */
        d->device_in_use = false;
        arm(d, FW_CC_DFU_TIMER_STORE, now + d->cfg.store_period);
        return 0;
    }
    uint32_t n = d->sync_off - d->store_off;
    if (n > d->cfg.store_chunk)
        n = d->cfg.store_chunk;
    if (n > 0) {
        int r = d->cx->write(d->cx->env, d->cur_offset + d->store_off, n, now);
        if (r < 0)
            return r;
        if (r > 0)
            return terminate(d, FW_CC_DFU_IN_STORE_WORK, now);
        d->store_off += n;
    }
    if (d->store_off < d->sync_off) {
        arm(d, FW_CC_DFU_TIMER_STORE, now + d->cfg.store_period);
        arm(d, FW_CC_DFU_TIMER_TIMEOUT, now + d->cfg.timeout);
        return 0;
    }
    d->cur_offset += d->sync_off;
    d->sync_off = 0;
    d->store_off = 0;
    d->storing = false;
    if (d->cur_offset < d->img_length)
        return 0;
    if (!d->cfg.direct_xip) {
        int r = d->cx->request_upgrade(d->cx->env, false, now); /* test swap */
        if (r < 0)
            return r;
        emit(d, FW_RECORD_UPGRADE, FW_CC_DFU_IN_STORE_WORK, 0, r, now);
    }
    return terminate(d, FW_CC_DFU_IN_STORE_WORK, now);
}

/* handle_reboot_request. */
static int on_reboot(struct fw_cc_dfu *d, int64_t now)
{
    int err = claim(d, now);
    if (err < 0)
        return err;
    d->reboot_ok = err == 0;
    if (!d->reboot_ok)
        return 0;
    d->reboot_pending = true;
    arm(d, FW_CC_DFU_TIMER_REBOOT, now + d->cfg.reboot_delay);
    emit(d, FW_RECORD_REBOOT, FW_CC_DFU_IN_REBOOT, (int32_t)(d->cfg.reboot_delay / MS_NS), 0, now);
    return 0;
}

/* Timer inputs: stale generations are counted and dropped (lazy cancel). */
static bool live(struct fw_cc_dfu *d, int id, const void *arg)
{
    if (fw_record_timer_live(&d->t[id], *(const uint32_t *)arg))
        return true;
    d->n_stale++;
    return false;
}

static int step_timer(struct fw_cc_dfu *d, enum fw_cc_dfu_input in, const void *arg, int64_t now)
{
    switch (in) {
    case FW_CC_DFU_IN_ERASE_WORK:
        return live(d, FW_CC_DFU_TIMER_ERASE, arg) ? on_erase_work(d, now) : 0;
    case FW_CC_DFU_IN_STORE_WORK:
        return live(d, FW_CC_DFU_TIMER_STORE, arg) ? on_store_work(d, now) : 0;
    case FW_CC_DFU_IN_TIMEOUT:
        return live(d, FW_CC_DFU_TIMER_TIMEOUT, arg) ? terminate(d, in, now) : 0;
    case FW_CC_DFU_IN_REBOOT_TIMER:
        if (!live(d, FW_CC_DFU_TIMER_REBOOT, arg))
            return 0;
        d->t[FW_CC_DFU_TIMER_REBOOT].armed = false;
        d->cx->reboot(d->cx->env, now);
        return 0;
    default:
        return SIM_EINTERNAL;
    }
}

/* Inputs handled alike in every state after READY. */
static int step_common(struct fw_cc_dfu *d, enum fw_cc_dfu_input in, const void *arg, int64_t now)
{
    switch (in) {
    case FW_CC_DFU_IN_ERASE_WORK:
    case FW_CC_DFU_IN_STORE_WORK:
    case FW_CC_DFU_IN_TIMEOUT:
    case FW_CC_DFU_IN_REBOOT_TIMER:
        return step_timer(d, in, arg, now);
    case FW_CC_DFU_IN_ACTIVITY:
        d->device_in_use = true;
        return 0;
    case FW_CC_DFU_IN_START:
        return on_start(d, arg, now);
    case FW_CC_DFU_IN_DATA:
        if (d->state != FW_CC_DFU_ACTIVE)
            return ignored(d); /* dfu.c answers the host with an error */
        return on_data(d, *(const uint32_t *)arg, now);
    case FW_CC_DFU_IN_SYNC:
        return on_sync(d, now);
    case FW_CC_DFU_IN_REBOOT:
        return on_reboot(d, now);
    case FW_CC_DFU_IN_OWNER_CHANGED:
        d->slot_used_by_other = true;
        return 0;
    case FW_CC_DFU_IN_READY:
    default:
        return unexpected(d, in, now);
    }
}

static int step_boot(struct fw_cc_dfu *d, enum fw_cc_dfu_input in, const void *arg, int64_t now)
{
    switch (in) {
    case FW_CC_DFU_IN_READY:
        return on_ready(d, now);
    case FW_CC_DFU_IN_ACTIVITY:
        d->device_in_use = true;
        return 0;
    case FW_CC_DFU_IN_ERASE_WORK:
    case FW_CC_DFU_IN_STORE_WORK:
    case FW_CC_DFU_IN_TIMEOUT:
    case FW_CC_DFU_IN_REBOOT_TIMER:
        return step_timer(d, in, arg, now); /* nothing armed: stale */
    default:
        return unexpected(d, in, now); /* config channel not up before READY */
    }
}

int fw_cc_dfu_step(struct fw_cc_dfu *d, enum fw_cc_dfu_input in, const void *arg, int64_t now)
{
    if ((unsigned)in >= FW_CC_DFU_INPUT_COUNT)
        return SIM_EINVAL;
    bool needs_arg = in == FW_CC_DFU_IN_ERASE_WORK || in == FW_CC_DFU_IN_START ||
                     in == FW_CC_DFU_IN_DATA || in == FW_CC_DFU_IN_STORE_WORK ||
                     in == FW_CC_DFU_IN_TIMEOUT || in == FW_CC_DFU_IN_REBOOT_TIMER;
    if (needs_arg && arg == NULL)
        return SIM_EINVAL;
    int rc;
    switch (d->state) {
    case FW_CC_DFU_BOOT:
        rc = step_boot(d, in, arg, now);
        break;
    case FW_CC_DFU_IDLE:
    case FW_CC_DFU_ERASING:
    case FW_CC_DFU_ACTIVE:
        rc = step_common(d, in, arg, now);
        break;
    default:
        return SIM_EINTERNAL;
    }
    fw_cc_dfu_check(d);
    return rc;
}

static bool on_bus(void *env, const struct fw_event *ev, int64_t now)
{
    struct fw_cc_dfu *d = env;
    int err = 0;
    if (ev->type == FW_EVENT_HID_REPORT || ev->type == FW_EVENT_BLE_PEER)
        err = fw_cc_dfu_step(d, FW_CC_DFU_IN_ACTIVITY, NULL, now);
    else if (ev->type == FW_EVENT_MODULE_STATE && ev->u.module_state.module == FW_EVENT_MOD_MAIN &&
             ev->u.module_state.state == FW_EVENT_STATE_READY)
        err = fw_cc_dfu_step(d, FW_CC_DFU_IN_READY, NULL, now);
    if (err < 0 && d->fault == 0)
        d->fault = err;
    return false;
}

int fw_cc_dfu_subscribe(struct fw_cc_dfu *d, struct fw_event_bus *bus)
{
    int err = fw_event_bus_subscribe(bus, FW_EVENT_MODULE_STATE, FW_EVENT_BUS_NORMAL, on_bus, d);
    if (err == 0)
        err = fw_event_bus_subscribe(bus, FW_EVENT_HID_REPORT, FW_EVENT_BUS_NORMAL, on_bus, d);
    if (err == 0)
        err = fw_event_bus_subscribe(bus, FW_EVENT_BLE_PEER, FW_EVENT_BUS_NORMAL, on_bus, d);
    return err;
}

void fw_cc_dfu_check(const struct fw_cc_dfu *d)
{
#ifndef NDEBUG
    const struct fw_record_timer *t = d->t;
    switch (d->state) {
    case FW_CC_DFU_BOOT:
        for (int i = 0; i < FW_CC_DFU_TIMER_COUNT; i++)
            assert(!t[i].armed);
        assert(d->lock == NULL || !lock_ours(d));
        break;
    case FW_CC_DFU_ERASING:
        assert(t[FW_CC_DFU_TIMER_ERASE].armed && !d->clean && lock_ours(d));
        assert(!t[FW_CC_DFU_TIMER_TIMEOUT].armed && !t[FW_CC_DFU_TIMER_STORE].armed);
        break;
    case FW_CC_DFU_ACTIVE:
        assert(d->clean && t[FW_CC_DFU_TIMER_TIMEOUT].armed && lock_ours(d));
        assert(d->storing == t[FW_CC_DFU_TIMER_STORE].armed);
        assert(!t[FW_CC_DFU_TIMER_ERASE].armed);
        break;
    case FW_CC_DFU_IDLE:
        assert(!t[FW_CC_DFU_TIMER_ERASE].armed && !t[FW_CC_DFU_TIMER_TIMEOUT].armed);
        assert(!t[FW_CC_DFU_TIMER_STORE].armed && !d->storing && d->sync_off == 0);
        break;
    default:
        assert(0 && "bad cc_dfu state");
    }
    assert(!t[FW_CC_DFU_TIMER_REBOOT].armed || d->reboot_pending);
    assert(!d->reboot_pending || lock_ours(d));
    assert(d->store_off <= d->sync_off && d->sync_off <= d->cfg.sync_buf_size);
    assert(d->erase_off <= d->cfg.slot_size);
#else
    (void)d;
#endif
}
