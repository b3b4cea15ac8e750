/* models/fw/dfu_mcumgr.h - nRF Desktop MCUmgr DFU module: gates SMP DFU commands on the
 * DFU lock, times the DFU out after 5 s of silence, and feeds ble_latency with
 * ble_smp_transfer_event.
 *
 * Mirrors nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c, both
 * revisions of its history (and applications/nrf_desktop/src/modules/Kconfig.dfu_mcumgr):
 *   version A (2023): hooks MGMT_EVT_OP_IMG_MGMT_ALL and MGMT_EVT_OP_OS_MGMT_RESET; a
 *     rejected DFU_CHUNK also resets the img_mgmt upload (done by the SMP model);
 *     OS reset submits no transfer event.
 *   version B (2023-2025, current): one MGMT_EVT_OP_CMD_RECV hook; every image-group
 *     command (any id, READ or WRITE) and OS reset is DFU-relevant, others are ignored.
 * The firmware statics (dfu_timeout work, mcumgr_event_active) live in struct
 * fw_dfu_mcumgr, one per device; the k_work_delayable is timer FW_DFU_MCUMGR_TIMER_DFU.
 *
 *   INIT --main READY / confirm() unless direct_xip, register SMP hooks--> IDLE
 *   IDLE --relevant cmd, lock claimed / arm T (5 s), submit transfer event if
 *          transport_bt and none in flight--> ACTIVE
 *   IDLE --relevant cmd, lock refused / arm then cancel T, reject rc 11--> IDLE
 *   ACTIVE --relevant cmd / re-arm T, claim (already owner), maybe submit--> ACTIVE
 *   ACTIVE --T expires / release the lock--> IDLE
 *   IDLE|ACTIVE --own transfer event fully processed / evt_in_flight := false--> same
 *   IDLE --owner_changed (another owner claimed after us) / reset_upload()--> IDLE
 *   any --irrelevant cmd (other group, or not the hooked event)--> same, accepted
 *   every other (state, input) pair: recorded as FW_RECORD_UNEXPECTED, nothing changes
 *
 *   INIT:   T not armed; !evt_in_flight; the lock is not ours
 *   IDLE:   T not armed; the lock (if any) is not ours
 *   ACTIVE: T armed; the lock (if any) is ours
 *   always: evt_in_flight => transport_bt (at most one transfer event in flight)
 *
 * Without the lock (lock == NULL, CONFIG_DESKTOP_DFU_LOCK=n) nothing is ever rejected
 * and ACTIVE only means that T is armed.
 */
#ifndef MODELS_FW_DFU_MCUMGR_H
#define MODELS_FW_DFU_MCUMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/fw/dfu_lock.h"
#include "models/fw/event.h"
#include "models/fw/event_bus.h"
#include "models/fw/record.h"
#include "models/smp/callbacks.h"

enum fw_dfu_mcumgr_version {
    FW_DFU_MCUMGR_VERSION_A, /* IMG_MGMT_ALL + OS_MGMT_RESET hooks (older revision) */
    FW_DFU_MCUMGR_VERSION_B  /* CMD_RECV hook (current upstream) */
};

struct fw_dfu_mcumgr_cfg {
    enum fw_dfu_mcumgr_version version; /* default B */
    int64_t timeout;                    /* DFU_TIMEOUT, K_SECONDS(5) in dfu_mcumgr.c; ns */
    bool transport_bt; /* CONFIG_MCUMGR_TRANSPORT_BT: submit ble_smp_transfer_event */
    bool direct_xip;   /* no self-confirm: CONFIG_DESKTOP_DFU_MCUMGR_MCUBOOT_DIRECT_XIP
                        * (v2.9.0), CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP (main) */
};

/* version B, 5 s, BT transport, swap mode. */
struct fw_dfu_mcumgr_cfg fw_dfu_mcumgr_cfg_default(void);

enum fw_dfu_mcumgr_state {
    FW_DFU_MCUMGR_INIT,
    FW_DFU_MCUMGR_IDLE,
    FW_DFU_MCUMGR_ACTIVE,
    FW_DFU_MCUMGR_STATE_COUNT
};

enum fw_dfu_mcumgr_input {
    FW_DFU_MCUMGR_IN_READY,         /* module_state_event: main READY; arg NULL */
    FW_DFU_MCUMGR_IN_CMD,           /* a hook fired; arg: const struct fw_dfu_mcumgr_cmd * */
    FW_DFU_MCUMGR_IN_TIMEOUT,       /* timer T fired; arg: const uint32_t * generation */
    FW_DFU_MCUMGR_IN_TRANSFER_DONE, /* ble_smp_transfer_event at the final subscriber */
    FW_DFU_MCUMGR_IN_OWNER_CHANGED, /* lock owner_changed; arg: const fw_dfu_lock_owner * */
    FW_DFU_MCUMGR_INPUT_COUNT
};

enum { FW_DFU_MCUMGR_TIMER_DFU = 0 };

/* A hook invocation: the SMP event id and the command it is about. */
struct fw_dfu_mcumgr_cmd {
    uint32_t event; /* SMP_CALLBACKS_EVT_* that fired */
    uint16_t group; /* enum smp_mgmt_group */
    uint8_t id;     /* command id */
};

struct fw_dfu_mcumgr_ctx {
    void *env;
    /* (Re)arm timer at absolute ns; returns the generation the timer input will carry. */
    uint32_t (*timer_arm)(void *env, int timer, int64_t at_ns);
    void (*timer_cancel)(void *env, int timer);
    /* APP_EVENT_SUBMIT. Returns 0 or a negative sim_err. */
    int (*submit)(void *env, const struct fw_event *ev, int64_t now);
    /* boot_write_img_confirmed(): 0, or a positive flash error (data, logged upstream). */
    int (*confirm)(void *env, int64_t now);
    /* img_mgmt_reset_upload() of the device's SMP image group. */
    void (*reset_upload)(void *env, int64_t now);
    void (*emit)(void *env, const struct fw_record *r);
};

/* Plain data, one per device, caller storage. */
struct fw_dfu_mcumgr {
    struct fw_dfu_mcumgr_cfg cfg;
    const struct fw_dfu_mcumgr_ctx *cx; /* not owned; kept for the hook adapters */
    struct fw_dfu_lock *lock;           /* not owned; NULL: no DFU lock */
    struct smp_callbacks *callbacks;    /* not owned; NULL: SMP hooks not configured */
    struct fw_dfu_lock_owner owner;     /* name "MCUmgr" */
    struct fw_record_timer t;           /* DFU timeout */
    uint32_t n_unexpected, n_stale, n_rejected, n_transfers;
    int fault;          /* first negative sim_err a hook adapter could not return, or 0 */
    uint8_t state;      /* enum fw_dfu_mcumgr_state */
    bool evt_in_flight; /* mcumgr_event_active */
};

/* Owner name used in lock records ("MCUmgr", dfu_mcumgr.c mcumgr_owner). */
#define FW_DFU_MCUMGR_OWNER "MCUmgr"

/* lock and callbacks may be NULL. cx is kept by pointer. Allocates nothing. */
void fw_dfu_mcumgr_init(struct fw_dfu_mcumgr *m, const struct fw_dfu_mcumgr_cfg *cfg,
                        const struct fw_dfu_mcumgr_ctx *cx, struct fw_dfu_lock *lock,
                        struct smp_callbacks *callbacks);
void fw_dfu_mcumgr_fini(struct fw_dfu_mcumgr *m);

/* One input. Returns 0, or for IN_CMD a positive SMP rc that the hook answers with
 * (SMP_MGMT_ERR_EACCESSDENIED = 11 when the lock is refused, EUNKNOWN for a spurious
 * event in version B), or a negative sim_err (submit or registration failed). */
int fw_dfu_mcumgr_step(struct fw_dfu_mcumgr *m, enum fw_dfu_mcumgr_input in, const void *arg,
                       int64_t now);

/* The hook registered with the SMP callbacks at READY (smp_cmd_recv in version B,
 * the IMG_ALL / OS_RESET hook in version A); env is the struct fw_dfu_mcumgr. Public
 * for tests and for an adapter on the SMP side. */
enum smp_callbacks_status fw_dfu_mcumgr_smp_cb(void *env, uint32_t event,
                                               enum smp_callbacks_status prev, int32_t *rc,
                                               uint16_t *group, bool *abort_more, const void *data,
                                               size_t size, int64_t now);

/* Subscribe to module_state_event and, with the BT transport, to ble_smp_transfer_event
 * as its final subscriber (APP_EVENT_SUBSCRIBE_FINAL). Returns 0 or the bus error. */
int fw_dfu_mcumgr_subscribe(struct fw_dfu_mcumgr *m, struct fw_event_bus *bus);

const char *fw_dfu_mcumgr_state_name(enum fw_dfu_mcumgr_state s);

/* Assert the per-state invariants above (no-op with NDEBUG). */
void fw_dfu_mcumgr_check(const struct fw_dfu_mcumgr *m);

#endif /* MODELS_FW_DFU_MCUMGR_H */
