/* models/fw/event.h - the application events the firmware modules exchange, as one
 * tagged struct stored by value in the event bus queue (no malloc per event).
 *
 * Mirrors the CAF / nRF Desktop event types of nrfconnect/sdk-nrf: include/caf/events/
 * (module_state_event.h, ble_common_event.h, ble_smp_event.h, power_event.h) and
 * applications/nrf_desktop/src/events/ (config_event.h, hid_event.h). Only the fields
 * the modelled modules read are kept. Header only.
 */
#ifndef MODELS_FW_EVENT_H
#define MODELS_FW_EVENT_H

#include <stdbool.h>
#include <stdint.h>

enum fw_event_type {
    FW_EVENT_MODULE_STATE,     /* module_state_event: a module reports its state */
    FW_EVENT_BLE_PEER,         /* ble_peer_event: connection state of the peer */
    FW_EVENT_BLE_CONN_PARAMS,  /* ble_peer_conn_params_event */
    FW_EVENT_BLE_SMP_TRANSFER, /* ble_smp_transfer_event: SMP DFU traffic (no payload) */
    FW_EVENT_CONFIG,           /* config_event: configuration channel traffic */
    FW_EVENT_HID_REPORT,       /* hid_report_event: user input sent to the host */
    FW_EVENT_POWER_DOWN,       /* power_down_event */
    FW_EVENT_WAKE_UP,          /* wake_up_event */
    FW_EVENT_TYPE_COUNT
};

/* Module ids that appear in module_state_event (MODULE_ID(main), MODULE_ID(ble_state),
 * ...); only those the modelled modules check. */
enum fw_event_module {
    FW_EVENT_MOD_MAIN,
    FW_EVENT_MOD_BLE_STATE,
    FW_EVENT_MOD_BLE_SMP,
    FW_EVENT_MOD_OTHER
};

/* enum module_state (caf/events/module_state_event.h). */
enum fw_event_module_state {
    FW_EVENT_STATE_READY,
    FW_EVENT_STATE_OFF,
    FW_EVENT_STATE_STANDBY,
    FW_EVENT_STATE_ERROR
};

/* enum peer_state (caf/events/ble_common_event.h). */
enum fw_event_peer_state {
    FW_EVENT_PEER_DISCONNECTED,
    FW_EVENT_PEER_DISCONNECTING,
    FW_EVENT_PEER_CONNECTED,
    FW_EVENT_PEER_SECURED,
    FW_EVENT_PEER_CONN_FAILED
};

/* Connection parameters in Bluetooth units: interval 1.25 ms (LLPM intervals carry the
 * 0x0d00 marker, see ble_latency.h), latency in connection events, timeout 10 ms. */
struct fw_event_conn_params {
    uint16_t interval_min, interval_max, latency, timeout;
};

struct fw_event {
    enum fw_event_type type;
    union {
        struct {
            uint8_t module; /* enum fw_event_module */
            uint8_t state;  /* enum fw_event_module_state */
        } module_state;
        struct {
            uint8_t state; /* enum fw_event_peer_state */
        } peer;
        struct {
            struct fw_event_conn_params p;
            bool updated; /* true: the link applied them; false: the peer asked for them */
        } conn_params;
    } u;
};

static inline struct fw_event fw_event_module_state(enum fw_event_module m,
                                                    enum fw_event_module_state s)
{
    struct fw_event ev = {.type = FW_EVENT_MODULE_STATE};
    ev.u.module_state.module = (uint8_t)m;
    ev.u.module_state.state = (uint8_t)s;
    return ev;
}

static inline struct fw_event fw_event_peer(enum fw_event_peer_state s)
{
    struct fw_event ev = {.type = FW_EVENT_BLE_PEER};
    ev.u.peer.state = (uint8_t)s;
    return ev;
}

static inline struct fw_event fw_event_plain(enum fw_event_type t)
{
    return (struct fw_event){.type = t};
}

#endif /* MODELS_FW_EVENT_H */
