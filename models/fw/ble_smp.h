/* models/fw/ble_smp.h - CAF BLE SMP module: turns accepted upload chunks into
 * ble_smp_transfer_event (at most one in flight) and reports READY. No DFU lock.
 *
 * Mirrors nrfconnect/sdk-nrf: subsys/caf/modules/ble_smp.c (upload_confirm_cb,
 * app_event_handler) and subsys/caf/modules/Kconfig.ble_smp (selects
 * CAF_BLE_SMP_TRANSFER_EVENTS; depends on MCUMGR_TRANSPORT_BT, GRP_IMG_UPLOAD_CHECK_HOOK).
 * Cannot be enabled together with nRF Desktop's dfu_mcumgr: fw_config_check() refuses it.
 * The statics (event_active, initialized) live in struct fw_ble_smp, one per device.
 *
 *   INIT --main READY / register the DFU_CHUNK hook--> HOOKED
 *   INIT|HOOKED --ble_state READY (first) / submit module_state READY--> same, reported
 *   HOOKED --DFU_CHUNK / accept; if !event_active: set it, submit transfer event--> HOOKED
 *   INIT|HOOKED --own transfer event processed (final subscriber) / clear event_active
 *   every other (state, input) pair: recorded as FW_RECORD_UNEXPECTED, nothing changes
 *   (a second main READY, a second ble_state READY: upstream asserts)
 *
 *   INIT:   !event_active
 *   HOOKED: the DFU_CHUNK hook is registered (when callbacks != NULL)
 *   always: at most one transfer event in flight (event_active)
 */
#ifndef MODELS_FW_BLE_SMP_H
#define MODELS_FW_BLE_SMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/fw/event.h"
#include "models/fw/event_bus.h"
#include "models/fw/record.h"
#include "models/smp/callbacks.h"

enum fw_ble_smp_state { FW_BLE_SMP_INIT, FW_BLE_SMP_HOOKED, FW_BLE_SMP_STATE_COUNT };

enum fw_ble_smp_input {
    FW_BLE_SMP_IN_MAIN_READY,      /* module_state_event main READY */
    FW_BLE_SMP_IN_BLE_STATE_READY, /* module_state_event ble_state READY */
    FW_BLE_SMP_IN_CHUNK,           /* MGMT_EVT_OP_IMG_MGMT_DFU_CHUNK hook */
    FW_BLE_SMP_IN_TRANSFER_DONE,   /* ble_smp_transfer_event at the final subscriber */
    FW_BLE_SMP_INPUT_COUNT
};

struct fw_ble_smp_ctx {
    void *env;
    int (*submit)(void *env, const struct fw_event *ev, int64_t now); /* 0 or sim_err */
    void (*emit)(void *env, const struct fw_record *r);
};

struct fw_ble_smp {
    const struct fw_ble_smp_ctx *cx; /* not owned */
    struct smp_callbacks *callbacks; /* not owned; NULL: hooks not configured */
    uint32_t n_unexpected, n_transfers;
    int fault;         /* first sim_err a hook adapter could not return, or 0 */
    uint8_t state;     /* enum fw_ble_smp_state */
    bool event_active; /* a transfer event is in flight */
    bool reported;     /* module READY reported (upstream `initialized`) */
};

void fw_ble_smp_init(struct fw_ble_smp *s, const struct fw_ble_smp_ctx *cx,
                     struct smp_callbacks *callbacks);
void fw_ble_smp_fini(struct fw_ble_smp *s);

/* One input (arg unused: NULL). Returns 0 or a negative sim_err (submit or registration
 * failed). The chunk hook always accepts. */
int fw_ble_smp_step(struct fw_ble_smp *s, enum fw_ble_smp_input in, const void *arg, int64_t now);

/* upload_confirm_cb, registered on SMP_CALLBACKS_EVT_IMG_DFU_CHUNK; env is the module.
 * Always returns SMP_CALLBACKS_OK. */
enum smp_callbacks_status fw_ble_smp_smp_cb(void *env, uint32_t event,
                                            enum smp_callbacks_status prev, int32_t *rc,
                                            uint16_t *group, bool *abort_more, const void *data,
                                            size_t size, int64_t now);

/* Subscribe to module_state_event and, as final subscriber, ble_smp_transfer_event. */
int fw_ble_smp_subscribe(struct fw_ble_smp *s, struct fw_event_bus *bus);

void fw_ble_smp_check(const struct fw_ble_smp *s);

#endif /* MODELS_FW_BLE_SMP_H */
