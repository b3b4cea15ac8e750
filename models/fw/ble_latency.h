/* models/fw/ble_latency.h - nRF Desktop BLE latency: keeps peripheral latency at 0 while
 * SMP DFU or config-channel traffic flows, and raises it back 5-10 s after the last
 * transfer event, never before the link is secured.
 *
 * Mirrors nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/ble_latency.c (the
 * revision without HID SCI support, CONFIG_DESKTOP_BLE_LATENCY_HID_SCI_ENABLE), with
 * defaults from applications/nrf_desktop/Kconfig.ble. Upstream keeps the flags and the active
 * connection in file-scope statics and asserts CONFIG_BT_MAX_CONN == 1; here they live in
 * struct fw_ble_latency, one per device (still one connection per device). The two
 * k_work_delayable items are timers FW_BLE_LATENCY_TIMER_CHECK and _SECURITY.
 * Connection-parameter requests go out through the context; the BLE link model applies
 * them and reports the result back as IN_PARAMS (ble_peer_conn_params_event, updated).
 *
 *   DISCONNECTED --CONNECTED / LOCKED if low_latency_lock; request {6, 6, 0, pref
 *                  timeout}; arm security timer (10 s)--> CONNECTED
 *   CONNECTED --SECURED / IS_SECURED, cancel security timer--> SECURED
 *   CONNECTED --security timer / disconnect(0x13 remote user terminated)--> CONNECTED
 *   CONNECTED|SECURED --DISCONNECTED / clear all flags, cancel both timers--> DISCONNECTED
 *   CONNECTED|SECURED --TRANSFER (config_event, ble_smp_transfer_event) / ENABLED:
 *                        set REQUIRED; else request latency 0--> same
 *   CONNECTED|SECURED --PARAMS updated / IS_LLPM from the interval; latency 0: ENABLED,
 *                       clear REQUIRED, (re)arm check; else clear ENABLED, cancel check;
 *                       then the lock rule--> same
 *   CONNECTED|SECURED --check timer / not SECURED: re-arm 5 s; REQUIRED: clear it,
 *                       re-arm 5 s; else request pref latency--> same
 *   any --POWER_DOWN (pm_events) / clear LOCKED, lock rule; WAKE_UP / set LOCKED, rule
 *   DISCONNECTED --TRANSFER--> DISCONNECTED, ignored (no connection)
 *   any --PARAMS not updated (the peer's request, not the link's)--> same, ignored
 *   stale timer inputs are counted; every other pair is recorded FW_RECORD_UNEXPECTED
 *
 * Request (set_conn_latency): skip if the link's latency already equals the target
 * (0 or pref_latency); interval = the link's interval (pref_interval when IS_LLPM);
 * request {interval, interval, target, link timeout}; on 0 or EALREADY set (target 0)
 * or clear ENABLED at once, before the link confirms.
 * Lock rule (update_llpm_conn_latency_lock, with low_latency_lock): LOCKED on an LLPM
 * link forces latency 0 and cancels the check; otherwise an ENABLED link without a
 * pending check gets one (the else branch is *unverified*: without it an unlocked LLPM
 * link would keep latency 0 until the next transfer).
 *
 *   DISCONNECTED: no timer armed; no flag but LOCKED
 *   CONNECTED:    !IS_SECURED; security timer armed unless a disconnect was requested
 *   SECURED:      IS_SECURED; security timer not armed
 *   always:       check timer armed => ENABLED
 */
#ifndef MODELS_FW_BLE_LATENCY_H
#define MODELS_FW_BLE_LATENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "models/fw/event.h"
#include "models/fw/event_bus.h"
#include "models/fw/record.h"

/* Flags (ble_latency.c latency_state bits, pre-SCI numbering). */
#define FW_BLE_LATENCY_ENABLED  (1u << 0) /* LOW_LATENCY_ENABLED */
#define FW_BLE_LATENCY_REQUIRED (1u << 1) /* LOW_LATENCY_REQUIRED: keep-alive */
#define FW_BLE_LATENCY_LOCKED   (1u << 2) /* LOW_LATENCY_LOCKED */
#define FW_BLE_LATENCY_IS_LLPM  (1u << 3)
#define FW_BLE_LATENCY_SECURED  (1u << 4) /* IS_SECURED */

/* REG_CONN_INTERVAL_LLPM_MASK (ble_latency.c). An interval is LLPM when all mask bits
 * are set: our reading; a plain bit test would also match 1M intervals >= 0x0400. */
#define FW_BLE_LATENCY_LLPM_MASK            0x0d00
#define FW_BLE_LATENCY_HCI_REMOTE_USER_TERM 0x13 /* BT_HCI_ERR_REMOTE_USER_TERM_CONN */

/* conn_param_update() results besides 0 (bt_conn_le_param_update). */
#define FW_BLE_LATENCY_EALREADY 1 /* -EALREADY: same parameters already requested */
#define FW_BLE_LATENCY_EFAIL    2 /* any other refusal: flags unchanged */

struct fw_ble_latency_cfg {
    uint16_t pref_latency;    /* CONFIG_BT_PERIPHERAL_PREF_LATENCY, nRF Desktop 99 */
    uint16_t pref_interval;   /* CONFIG_BT_PERIPHERAL_PREF_MIN/MAX_INT: 6 (7.5 ms) */
    uint16_t pref_timeout;    /* CONFIG_BT_PERIPHERAL_PREF_TIMEOUT: 400 (4 s) */
    int64_t check_period;     /* LOW_LATENCY_CHECK_PERIOD: 5 s, ns */
    int64_t security_timeout; /* CONFIG_DESKTOP_BLE_SECURITY_FAIL_TIMEOUT_S: 10 s, ns */
    bool low_latency_lock;    /* CONFIG_DESKTOP_BLE_LOW_LATENCY_LOCK */
    bool pm_events;           /* CONFIG_DESKTOP_BLE_LATENCY_PM_EVENTS (y with CAF PM) */
};

/* nRF Desktop defaults as listed above; low_latency_lock off, pm_events on. */
struct fw_ble_latency_cfg fw_ble_latency_cfg_default(void);

enum fw_ble_latency_state {
    FW_BLE_LATENCY_ST_DISCONNECTED,
    FW_BLE_LATENCY_ST_CONNECTED,
    FW_BLE_LATENCY_ST_SECURED,
    FW_BLE_LATENCY_STATE_COUNT
};

enum fw_ble_latency_input {
    FW_BLE_LATENCY_IN_CONNECTED,    /* ble_peer_event CONNECTED */
    FW_BLE_LATENCY_IN_SECURED,      /* ble_peer_event SECURED */
    FW_BLE_LATENCY_IN_DISCONNECTED, /* ble_peer_event DISCONNECTED */
    FW_BLE_LATENCY_IN_TRANSFER,     /* config_event or ble_smp_transfer_event */
    FW_BLE_LATENCY_IN_PARAMS,       /* arg: const struct fw_event * (BLE_CONN_PARAMS) */
    FW_BLE_LATENCY_IN_CHECK,        /* check timer; arg: const uint32_t * generation */
    FW_BLE_LATENCY_IN_SECURITY,     /* security timer; arg: const uint32_t * generation */
    FW_BLE_LATENCY_IN_POWER_DOWN,
    FW_BLE_LATENCY_IN_WAKE_UP,
    FW_BLE_LATENCY_INPUT_COUNT
};

enum { FW_BLE_LATENCY_TIMER_CHECK = 0, FW_BLE_LATENCY_TIMER_SECURITY = 1 };

struct fw_ble_latency_ctx {
    void *env;
    uint32_t (*timer_arm)(void *env, int timer, int64_t at_ns); /* returns generation */
    void (*timer_cancel)(void *env, int timer);
    /* bt_conn_get_info: the link's current parameters (interval_min == interval_max). */
    void (*conn_params_get)(void *env, struct fw_event_conn_params *out);
    /* bt_conn_le_param_update: 0, FW_BLE_LATENCY_EALREADY, FW_BLE_LATENCY_EFAIL, or a
     * negative sim_err. The link model applies accepted requests later. */
    int (*conn_param_update)(void *env, const struct fw_event_conn_params *p, int64_t now);
    /* bt_conn_disconnect(conn, reason). */
    void (*disconnect)(void *env, uint8_t reason, int64_t now);
    void (*emit)(void *env, const struct fw_record *r);
};

/* Plain data, one per device. */
struct fw_ble_latency {
    struct fw_ble_latency_cfg cfg;
    const struct fw_ble_latency_ctx *cx; /* not owned */
    struct fw_record_timer check, security;
    uint32_t n_unexpected, n_stale, n_requests;
    int fault;     /* first sim_err a bus adapter could not return, or 0 */
    uint8_t state; /* enum fw_ble_latency_state */
    uint8_t flags; /* FW_BLE_LATENCY_* bits */
    bool disconnect_requested;
};

void fw_ble_latency_init(struct fw_ble_latency *l, const struct fw_ble_latency_cfg *cfg,
                         const struct fw_ble_latency_ctx *cx);
void fw_ble_latency_fini(struct fw_ble_latency *l);

/* One input. Returns 0 or a negative sim_err (from conn_param_update). */
int fw_ble_latency_step(struct fw_ble_latency *l, enum fw_ble_latency_input in, const void *arg,
                        int64_t now);

/* Subscribe (normal priority) to ble_peer_event, ble_peer_conn_params_event,
 * config_event, ble_smp_transfer_event, power_down_event and wake_up_event. */
int fw_ble_latency_subscribe(struct fw_ble_latency *l, struct fw_event_bus *bus);

void fw_ble_latency_check(const struct fw_ble_latency *l);

#endif /* MODELS_FW_BLE_LATENCY_H */
