/* models/smp/callbacks.c - MCUmgr notification callbacks.
 * Matching and "first failure decides" follow mgmt_callback_notify() in
 * zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/mgmt/src/mgmt.c. */
#include "models/smp/callbacks.h"

#include "sim/error.h"

void smp_callbacks_init(struct smp_callbacks *c)
{
    c->n_entries = 0;
}

void smp_callbacks_fini(struct smp_callbacks *c)
{
    c->n_entries = 0;
}

int smp_callbacks_register(struct smp_callbacks *c, uint32_t events, smp_callbacks_fn fn, void *env)
{
    if (fn == NULL)
        return SIM_EINVAL;
    if (c->n_entries >= SMP_CALLBACKS_MAX)
        return SIM_ERANGE;
    c->entries[c->n_entries++] = (struct smp_callbacks_entry){events, fn, env};
    return 0;
}

/* Same event group, and every id bit of the event is in the registered mask. */
static bool matches(uint32_t registered, uint32_t event)
{
    if (registered == SMP_CALLBACKS_EVT_ALL)
        return true;
    if ((registered >> 16) != (event >> 16))
        return false;
    return (registered & event & 0xffffu) == (event & 0xffffu);
}

enum smp_callbacks_status smp_callbacks_notify(const struct smp_callbacks *c, uint32_t event,
                                               const void *data, size_t size, int64_t now,
                                               int32_t *rc, uint16_t *group)
{
    *rc = 0;
    *group = 0;
    enum smp_callbacks_status status = SMP_CALLBACKS_OK;
    if (c == NULL)
        return status;
    bool abort_more = false;
    for (size_t i = 0; i < c->n_entries && !abort_more; i++) {
        const struct smp_callbacks_entry *e = &c->entries[i];
        if (!matches(e->events, event))
            continue;
        enum smp_callbacks_status s =
            e->fn(e->env, event, status, rc, group, &abort_more, data, size, now);
        if (s != SMP_CALLBACKS_OK && status == SMP_CALLBACKS_OK)
            status = s;
    }
    return status;
}
