/* models/fw/dfu_lock.h - nRF Desktop DFU lock: arbitration of the secondary slot between
 * DFU transports (config channel versus MCUmgr).
 *
 * Mirrors nrfconnect/sdk-nrf: applications/nrf_desktop/src/util/dfu_lock.c and
 * dfu_lock.h (CONFIG_DESKTOP_DFU_LOCK, util/Kconfig.dfu_lock: default y exactly when both
 * config-channel DFU and MCUmgr DFU are enabled). Upstream keeps current and previous
 * owner in file-scope statics under a mutex; here they live in struct fw_dfu_lock, one
 * per device. A module that runs without the lock holds a NULL struct fw_dfu_lock *.
 *
 *   FREE --claim(o) / current := o; previous != NULL, != o, has owner_changed:
 *          previous->owner_changed(o) (in the claimer's context)--> HELD(o)
 *   HELD(o) --claim(o)--> HELD(o), returns 0, nothing else
 *   HELD(o) --claim(p != o)--> HELD(o), returns FW_DFU_LOCK_EPERM
 *   HELD(o) --release(o) / previous := o, current := NULL--> FREE
 *   HELD(o) --release(p != o)--> HELD(o), returns FW_DFU_LOCK_EPERM
 *   FREE --release(any)--> FREE, returns FW_DFU_LOCK_EPERM
 *
 *   FREE:    current == NULL
 *   HELD(o): current == o
 *   always:  previous is never cleared, so owner_changed fires on the first claim by a
 *            *different* owner after each release; a re-claim by the owner that
 *            released last fires nothing.
 *
 * Refusals are firmware outcomes (upstream -EPERM), returned as the positive
 * FW_DFU_LOCK_EPERM; negative values are sim_err (bad arguments only).
 */
#ifndef MODELS_FW_DFU_LOCK_H
#define MODELS_FW_DFU_LOCK_H

#include <stdint.h>

#include "models/fw/record.h"

/* Upstream -EPERM, as data. */
#define FW_DFU_LOCK_EPERM 1

struct fw_dfu_lock_owner;

/* owner_changed(new_owner) (struct dfu_lock_owner). env is the owner's module. */
typedef void (*fw_dfu_lock_changed_fn)(void *env, const struct fw_dfu_lock_owner *new_owner,
                                       int64_t now);

/* struct dfu_lock_owner: lives in the owning module's per-device state. */
struct fw_dfu_lock_owner {
    const char *name;                     /* "MCUmgr", "Config channel"; static string */
    fw_dfu_lock_changed_fn owner_changed; /* NULL: not interested */
    void *env;
};

/* Plain data, one per device. */
struct fw_dfu_lock {
    const struct fw_dfu_lock_owner *current;  /* NULL: free */
    const struct fw_dfu_lock_owner *previous; /* last owner that released; never cleared */
    fw_record_emit_fn emit;                   /* lock changes (FW_RECORD_LOCK); may be NULL */
    void *emit_env;
};

/* emit may be NULL. Allocates nothing. */
void fw_dfu_lock_init(struct fw_dfu_lock *l, fw_record_emit_fn emit, void *emit_env);
void fw_dfu_lock_fini(struct fw_dfu_lock *l);

/* dfu_lock_claim(). Returns 0 (now or already owner), FW_DFU_LOCK_EPERM (another owner
 * holds it), SIM_EINVAL for a NULL owner. A successful claim of a free lock emits
 * FW_RECORD_LOCK and may call the previous owner's owner_changed before returning. */
int fw_dfu_lock_claim(struct fw_dfu_lock *l, const struct fw_dfu_lock_owner *o, int64_t now);

/* dfu_lock_release(). Returns 0, FW_DFU_LOCK_EPERM (o is not the owner), SIM_EINVAL for
 * a NULL owner. Emits FW_RECORD_LOCK with owner NULL on success. */
int fw_dfu_lock_release(struct fw_dfu_lock *l, const struct fw_dfu_lock_owner *o, int64_t now);

/* Cheap accessor: the current owner, NULL when free. */
static inline const struct fw_dfu_lock_owner *fw_dfu_lock_owner_get(const struct fw_dfu_lock *l)
{
    return l->current;
}

/* Assert the invariants above (no-op with NDEBUG). */
void fw_dfu_lock_check(const struct fw_dfu_lock *l);

#endif /* MODELS_FW_DFU_LOCK_H */
