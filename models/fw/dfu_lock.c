/* models/fw/dfu_lock.c - DFU lock claim/release.
 * Semantics of nrfconnect/sdk-nrf: applications/nrf_desktop/src/util/dfu_lock.c. */
#include "models/fw/dfu_lock.h"

#include <assert.h>
#include <stddef.h>

#include "sim/error.h"

enum { LOCK_IN_CLAIM, LOCK_IN_RELEASE };
enum { LOCK_FREE, LOCK_HELD };

void fw_dfu_lock_init(struct fw_dfu_lock *l, fw_record_emit_fn emit, void *emit_env)
{
    *l = (struct fw_dfu_lock){.emit = emit, .emit_env = emit_env};
}

void fw_dfu_lock_fini(struct fw_dfu_lock *l)
{
    l->current = NULL;
    l->previous = NULL;
}

static void emit_lock(const struct fw_dfu_lock *l, int input, const char *owner, int64_t now)
{
    if (l->emit == NULL)
        return;
    struct fw_record r = {.at = now,
                          .owner = owner,
                          .module = FW_RECORD_MOD_DFU_LOCK,
                          .kind = FW_RECORD_LOCK,
                          .state = owner ? LOCK_FREE : LOCK_HELD,
                          .input = (uint8_t)input};
    l->emit(l->emit_env, &r);
}

int fw_dfu_lock_claim(struct fw_dfu_lock *l, const struct fw_dfu_lock_owner *o, int64_t now)
{
    if (o == NULL)
        return SIM_EINVAL;
    if (l->current == o)
        return 0;
    if (l->current != NULL)
        return FW_DFU_LOCK_EPERM;
    l->current = o;
    emit_lock(l, LOCK_IN_CLAIM, o->name, now);
    /* dfu_lock.c: the callback runs inside the mutex, in the claimer's context. */
    const struct fw_dfu_lock_owner *prev = l->previous;
    if (prev != NULL && prev != o && prev->owner_changed != NULL)
        prev->owner_changed(prev->env, o, now);
    fw_dfu_lock_check(l);
    return 0;
}

int fw_dfu_lock_release(struct fw_dfu_lock *l, const struct fw_dfu_lock_owner *o, int64_t now)
{
    if (o == NULL)
        return SIM_EINVAL;
    if (l->current != o)
        return FW_DFU_LOCK_EPERM;
    l->previous = o;
    l->current = NULL;
    emit_lock(l, LOCK_IN_RELEASE, NULL, now);
    fw_dfu_lock_check(l);
    return 0;
}

void fw_dfu_lock_check(const struct fw_dfu_lock *l)
{
#ifndef NDEBUG
    /* The owner that released last is not the current owner unless it re-claimed. */
    assert(l->current == NULL || l->current->name != NULL);
    assert(l->previous == NULL || l->previous->name != NULL);
#else
    (void)l;
#endif
}
