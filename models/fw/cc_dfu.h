/* models/fw/cc_dfu.h - nRF Desktop config-channel DFU: background erase of the secondary
 * slot under the DFU lock, postponed by user activity, and the start / data / sync /
 * store / reboot protocol that competes with MCUmgr for the same slot.
 *
 * Mirrors nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu.c with constants
 * from that file and applications/nrf_desktop/src/modules/Kconfig.config_channel
 * and applications/nrf_desktop/doc/dfu.rst. Upstream keeps flash area, offsets and
 * flags in file-scope statics and runs three k_work_delayable items; here everything is
 * in struct fw_cc_dfu, one per device, and the works are timers (FW_CC_DFU_TIMER_*).
 * Flash content is not carried: data and store move byte counts, and the context does
 * the flash operations (and says how long an erase takes).
 *
 *   BOOT --main READY / confirm() unless direct_xip; claim the lock (first owner);
 *          start the background erase--> ERASING
 *   ERASING --erase work, device_in_use / clear it, retry in 15 s--> ERASING
 *   ERASING --erase work, page clean / next page at once--> ERASING
 *   ERASING --erase work, page dirty / erase it, next page when the erase is done--> ERASING
 *   ERASING --erase work at slot end / clean, release the lock unless a reboot is
 *             pending--> IDLE
 *   ERASING --erase error / release the lock unless a reboot is pending--> IDLE (not clean)
 *   IDLE --start, lock claimed, slot used by the other transport / zero offsets,
 *          restart the erase--> ERASING
 *   IDLE --start(offset 0) while cur_offset != 0 / wipe, restart the erase--> ERASING
 *   IDLE --start accepted (clean; offset 0 or a matching resume) / arm timeout 5 s--> ACTIVE
 *   IDLE --start refused (short payload, lock busy, not clean, resume mismatch (releases
 *          the lock), image larger than the slot (releases the lock))--> IDLE
 *   ACTIVE --data(n > 0) / buffer min(n, free), re-arm timeout--> ACTIVE
 *   ACTIVE --data(0) / terminate--> IDLE
 *   any but BOOT --sync / start the store work if data is buffered; reply; a lock this
 *          call claimed is released unless DFU, erase or reboot is pending--> same
 *   ACTIVE --store work, device_in_use / clear it, skip one 5 ms tick--> ACTIVE
 *   ACTIVE --store work / write <= 16 B; more buffered: next tick, re-arm timeout;
 *            flushed: cur_offset += buffered; image complete: request a test upgrade
 *            (not with direct_xip) and terminate--> ACTIVE or IDLE
 *   ACTIVE --timeout (5 s) / terminate--> IDLE
 *   any but BOOT --reboot, lock claimed / reply true, reboot in 250 ms--> same, pending
 *   any but BOOT --reboot, lock busy / reply false--> same
 *   any --owner_changed / slot_used_by_other := true;  any --user activity / device_in_use
 *   terminate: close, cancel timeout and store, drop the buffer, lift the power
 *   restriction, release the lock unless a reboot is pending.
 *   stale timer inputs are counted; every other pair is recorded FW_RECORD_UNEXPECTED.
 *
 *   BOOT:    no timer armed; the lock is not ours
 *   ERASING: erase timer armed; !clean; the lock is ours; no timeout or store timer
 *   ACTIVE:  clean; timeout armed; the lock is ours; storing <=> store timer armed
 *   IDLE:    no erase, timeout or store timer; nothing buffered
 *   always:  reboot timer armed => reboot_pending => the lock is ours;
 *            store_off <= sync_off <= sync_buf_size; erase_off <= slot_size
 */
#ifndef MODELS_FW_CC_DFU_H
#define MODELS_FW_CC_DFU_H

#include <stdbool.h>
#include <stdint.h>

#include "models/fw/dfu_lock.h"
#include "models/fw/event.h"
#include "models/fw/event_bus.h"
#include "models/fw/record.h"

/* Host-visible state byte of the sync reply (dfu.c DFU_STATE_*). */
enum fw_cc_dfu_host_state {
    FW_CC_DFU_HOST_INACTIVE = 0x00,
    FW_CC_DFU_HOST_ACTIVE_CONFIG_CHANNEL = 0x01,
    FW_CC_DFU_HOST_STORING = 0x02,
    FW_CC_DFU_HOST_CLEANING = 0x03,
    FW_CC_DFU_HOST_ACTIVE_OTHER = 0x04
};

struct fw_cc_dfu_cfg {
    uint32_t slot_size;     /* secondary slot bytes (flash map) */
    uint32_t page_size;     /* erase unit 4096 B (dfu.c) */
    uint32_t sync_buf_size; /* CONFIG_DESKTOP_CONFIG_CHANNEL_DFU_SYNC_BUFFER_SIZE 128 words
                             * x 4 = 512 B */
    uint32_t store_chunk;   /* bytes per store-work run: 16, word aligned (dfu.c) */
    int64_t timeout;        /* DFU timeout 5 s (dfu.c), ns */
    int64_t store_period;   /* store-work period 5 ms (dfu.c), ns */
    int64_t busy_backoff;   /* erase back-off while the device is in use: 15 s (dfu.c), ns */
    int64_t reboot_delay;   /* reboot delay 250 ms (dfu.c), ns */
    bool direct_xip;        /* MCUboot Direct-XIP: no self-confirm, no upgrade request */
};

/* The values above with slot_size 0 (the caller sets it from the flash map). */
struct fw_cc_dfu_cfg fw_cc_dfu_cfg_default(void);

enum fw_cc_dfu_state {
    FW_CC_DFU_BOOT,
    FW_CC_DFU_IDLE,
    FW_CC_DFU_ERASING,
    FW_CC_DFU_ACTIVE,
    FW_CC_DFU_STATE_COUNT
};

enum fw_cc_dfu_input {
    FW_CC_DFU_IN_READY,         /* main READY */
    FW_CC_DFU_IN_ERASE_WORK,    /* erase timer; arg: const uint32_t * generation */
    FW_CC_DFU_IN_ACTIVITY,      /* hid_report_event or ble_peer_event */
    FW_CC_DFU_IN_START,         /* option "start"; arg: const struct fw_cc_dfu_start * */
    FW_CC_DFU_IN_DATA,          /* option "data"; arg: const uint32_t * byte count */
    FW_CC_DFU_IN_SYNC,          /* option "sync" fetch; reply in fw_cc_dfu.sync */
    FW_CC_DFU_IN_STORE_WORK,    /* store timer; arg: const uint32_t * generation */
    FW_CC_DFU_IN_TIMEOUT,       /* DFU timeout; arg: const uint32_t * generation */
    FW_CC_DFU_IN_REBOOT,        /* option "reboot" fetch; reply in fw_cc_dfu.reboot_ok */
    FW_CC_DFU_IN_REBOOT_TIMER,  /* reboot timer; arg: const uint32_t * generation */
    FW_CC_DFU_IN_OWNER_CHANGED, /* lock owner_changed; arg: new owner */
    FW_CC_DFU_INPUT_COUNT
};

enum {
    FW_CC_DFU_TIMER_ERASE = 0,
    FW_CC_DFU_TIMER_TIMEOUT = 1,
    FW_CC_DFU_TIMER_STORE = 2,
    FW_CC_DFU_TIMER_REBOOT = 3,
    FW_CC_DFU_TIMER_COUNT
};

/* "start" payload: length, checksum, offset (u32 LE each; payload_len as received). */
struct fw_cc_dfu_start {
    uint32_t payload_len;
    uint32_t img_length, img_csum, offset;
};

/* Sync reply {state u8, img_length u32, img_csum u32, cur_offset u32, sync_buffer_size
 * u16}, little-endian on the wire. */
struct fw_cc_dfu_sync_reply {
    uint32_t img_length, img_csum, cur_offset;
    uint16_t sync_buffer_size; /* bytes */
    uint8_t state;             /* enum fw_cc_dfu_host_state */
};

struct fw_cc_dfu_ctx {
    void *env;
    uint32_t (*timer_arm)(void *env, int timer, int64_t at_ns); /* returns generation */
    void (*timer_cancel)(void *env, int timer);
    /* boot_write_img_confirmed(): 0 or a positive flash error (data). */
    int (*confirm)(void *env, int64_t now);
    /* Is [off, off + len) of the secondary slot erased? (dfu.c reads 8 x 512 B.) */
    bool (*page_is_clean)(void *env, uint32_t off, uint32_t len);
    /* Erase [off, off + len): 0 and *done_at (ns, >= now), a positive flash error, or a
     * negative sim_err. */
    int (*erase)(void *env, uint32_t off, uint32_t len, int64_t now, int64_t *done_at);
    /* Write len bytes at off: 0, a positive flash error, or a negative sim_err. */
    int (*write)(void *env, uint32_t off, uint32_t len, int64_t now);
    /* boot_request_upgrade(permanent): 0, positive error, negative sim_err. */
    int (*request_upgrade)(void *env, bool permanent, int64_t now);
    void (*reboot)(void *env, int64_t now); /* sys_reboot(SYS_REBOOT_WARM) */
    void (*emit)(void *env, const struct fw_record *r);
};

/* Plain data, one per device. */
struct fw_cc_dfu {
    struct fw_cc_dfu_cfg cfg;
    const struct fw_cc_dfu_ctx *cx; /* not owned */
    struct fw_dfu_lock *lock;       /* not owned; NULL: no DFU lock */
    struct fw_dfu_lock_owner owner; /* "Config channel" */
    struct fw_record_timer t[FW_CC_DFU_TIMER_COUNT];
    struct fw_cc_dfu_sync_reply sync; /* last sync reply */
    uint32_t erase_off;               /* next page of the background erase */
    uint32_t cur_offset, img_length, img_csum;
    uint32_t sync_off;  /* bytes buffered (sync_offset) */
    uint32_t store_off; /* bytes of the buffer written (store_offset) */
    uint32_t n_unexpected, n_stale, n_ignored, n_defers;
    int fault;     /* first sim_err a bus or lock adapter could not return, or 0 */
    uint8_t state; /* enum fw_cc_dfu_state */
    bool clean;    /* is_flash_area_clean */
    bool device_in_use;
    bool slot_used_by_other; /* slot_was_used_by_other_transport */
    bool storing;
    bool reboot_pending;
    bool reboot_ok; /* last reboot reply */
};

#define FW_CC_DFU_OWNER "Config channel"

/* lock may be NULL. cx is kept by pointer. Allocates nothing. */
void fw_cc_dfu_init(struct fw_cc_dfu *d, const struct fw_cc_dfu_cfg *cfg,
                    const struct fw_cc_dfu_ctx *cx, struct fw_dfu_lock *lock);
void fw_cc_dfu_fini(struct fw_cc_dfu *d);

/* One input. Returns 0 or a negative sim_err from the context; SIM_EINVAL for a bad
 * input or a missing arg. Replies to sync and reboot are left in d->sync / d->reboot_ok. */
int fw_cc_dfu_step(struct fw_cc_dfu *d, enum fw_cc_dfu_input in, const void *arg, int64_t now);

/* Subscribe to module_state_event (main READY), hid_report_event and ble_peer_event
 * (user activity). */
int fw_cc_dfu_subscribe(struct fw_cc_dfu *d, struct fw_event_bus *bus);

const char *fw_cc_dfu_state_name(enum fw_cc_dfu_state s);

void fw_cc_dfu_check(const struct fw_cc_dfu *d);

#endif /* MODELS_FW_CC_DFU_H */
