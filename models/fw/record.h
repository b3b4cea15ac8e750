/* models/fw/record.h - what the firmware modules report, and their shared timer slot.
 *
 * Every module of models/fw/ acts through a narrow context whose emit() takes one of
 * these records; the device assembly maps them to the recorder (a FW_RECORD_LOCK becomes
 * a struct recorder_lock) or counts them. Header only: plain data and two inline helpers.
 */
#ifndef MODELS_FW_RECORD_H
#define MODELS_FW_RECORD_H

#include <stdbool.h>
#include <stdint.h>

/* Which module emitted a record. */
enum fw_record_module {
    FW_RECORD_MOD_EVENT_BUS,
    FW_RECORD_MOD_DFU_LOCK,
    FW_RECORD_MOD_DFU_MCUMGR,
    FW_RECORD_MOD_BLE_SMP,
    FW_RECORD_MOD_BLE_LATENCY,
    FW_RECORD_MOD_CC_DFU
};

/* What happened. a and b are kind-specific, listed per kind. */
enum fw_record_kind {
    FW_RECORD_UNEXPECTED,   /* input not expected in state: state, input set; nothing changed */
    FW_RECORD_LOCK,         /* DFU lock owner changed: owner = new owner, NULL = released */
    FW_RECORD_REJECT,       /* SMP command refused: a = SMP rc, b = (group << 8) | id */
    FW_RECORD_CONFIRM,      /* running image self-confirmed at boot: a = confirm() result */
    FW_RECORD_UPLOAD_RESET, /* img_mgmt upload state reset because the lock changed owner */
    FW_RECORD_TRANSFER,     /* ble_smp_transfer_event submitted */
    FW_RECORD_CONN_PARAM,   /* connection parameter request: a = latency, b = request result */
    FW_RECORD_DISCONNECT,   /* disconnect requested: a = HCI reason */
    FW_RECORD_ERASE_START,  /* background erase (re)started: a = first page offset */
    FW_RECORD_ERASE_DEFER,  /* background erase postponed by user activity: a = delay ms */
    FW_RECORD_ERASE_END,    /* background erase ended: a = 0 slot clean, else flash error */
    FW_RECORD_DFU_START,    /* config-channel DFU active: a = offset, b = image length */
    FW_RECORD_DFU_END,      /* config-channel DFU terminated: a = offset reached */
    FW_RECORD_UPGRADE,      /* boot_request_upgrade(): a = permanent (0 = test) */
    FW_RECORD_REBOOT        /* reboot requested: a = delay ms */
};

struct fw_record {
    int64_t at;        /* ns of simulated time */
    const char *owner; /* FW_RECORD_LOCK: owner name (static string) or NULL */
    int32_t a, b;      /* kind-specific */
    uint8_t module;    /* enum fw_record_module */
    uint8_t kind;      /* enum fw_record_kind */
    uint8_t state;     /* module state when the input arrived */
    uint8_t input;     /* module input being handled */
};

typedef void (*fw_record_emit_fn)(void *env, const struct fw_record *r);

/* A timer slot inside a module. Arming returns a generation (CONTRIBUTING.md rule 2: lazy
 * cancel); the timer input carries the generation it was armed with, and an input whose
 * generation is not the live one is stale: the module counts it and does nothing. */
struct fw_record_timer {
    uint32_t gen; /* generation returned by the last arm */
    bool armed;   /* armed and not yet fired or cancelled */
};

/* True if a timer input carrying gen is the live arming of t. */
static inline bool fw_record_timer_live(const struct fw_record_timer *t, uint32_t gen)
{
    return t->armed && t->gen == gen;
}

#endif /* MODELS_FW_RECORD_H */
