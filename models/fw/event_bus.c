/* models/fw/event_bus.c - per-device application event bus.
 * Delivery order and consumption follow event_processor_fn() in
 * nrfconnect/sdk-nrf: subsys/app_event_manager/app_event_manager.c. */
#include "models/fw/event_bus.h"

#include <assert.h>

#include "sim/error.h"

void fw_event_bus_init(struct fw_event_bus *b, const struct fw_event_bus_ctx *cx)
{
    *b = (struct fw_event_bus){.cx = cx};
}

void fw_event_bus_fini(struct fw_event_bus *b)
{
    b->n_subs = 0;
    b->head = 0;
    b->count = 0;
    b->processing = false;
}

int fw_event_bus_subscribe(struct fw_event_bus *b, enum fw_event_type type,
                           enum fw_event_bus_prio prio, fw_event_bus_fn fn, void *env)
{
    if (fn == NULL || (unsigned)type >= FW_EVENT_TYPE_COUNT || (unsigned)prio > FW_EVENT_BUS_FINAL)
        return SIM_EINVAL;
    if (prio == FW_EVENT_BUS_FIRST || prio == FW_EVENT_BUS_FINAL) {
        for (size_t i = 0; i < b->n_subs; i++)
            if (b->subs[i].type == type && b->subs[i].prio == prio)
                return SIM_EINVAL;
    }
    if (b->n_subs >= FW_EVENT_BUS_MAX_SUBS)
        return SIM_ERANGE;
    /* Stable insert after every subscriber of the same or a lower priority value. */
    size_t at = b->n_subs;
    while (at > 0 && b->subs[at - 1].prio > prio) {
        b->subs[at] = b->subs[at - 1];
        at--;
    }
    b->subs[at] = (struct fw_event_bus_sub){fn, env, (uint8_t)type, (uint8_t)prio};
    b->n_subs++;
    fw_event_bus_check(b);
    return 0;
}

int fw_event_bus_submit(struct fw_event_bus *b, const struct fw_event *ev, int64_t now)
{
    if ((unsigned)ev->type >= FW_EVENT_TYPE_COUNT)
        return SIM_EINVAL;
    if (b->count >= FW_EVENT_BUS_QUEUE)
        return SIM_ERANGE;
    b->queue[(b->head + b->count) % FW_EVENT_BUS_QUEUE] = *ev;
    b->count++;
    if (b->count == 1 && !b->processing && b->cx != NULL && b->cx->kick != NULL)
        b->cx->kick(b->cx->env, now);
    return 0;
}

/* Call the subscribers of ev->type in order until one consumes it. */
static void deliver(struct fw_event_bus *b, const struct fw_event *ev, int64_t now)
{
    bool any = false;
    for (size_t i = 0; i < b->n_subs; i++) {
        const struct fw_event_bus_sub *s = &b->subs[i];
        if (s->type != ev->type)
            continue;
        any = true;
        if (s->fn(s->env, ev, now))
            break;
    }
    if (!any)
        b->n_unsubscribed++;
    b->n_delivered++;
}

int fw_event_bus_process(struct fw_event_bus *b, int64_t now)
{
    if (b->processing)
        return SIM_EINVAL;
    b->processing = true;
    int n = 0;
    while (b->count > 0) {
        struct fw_event ev = b->queue[b->head]; /* copy: subscribers may submit */
        b->head = (b->head + 1) % FW_EVENT_BUS_QUEUE;
        b->count--;
        deliver(b, &ev, now);
        n++;
    }
    b->processing = false;
    fw_event_bus_check(b);
    return n;
}

void fw_event_bus_check(const struct fw_event_bus *b)
{
#ifndef NDEBUG
    assert(b->count <= FW_EVENT_BUS_QUEUE && b->head < FW_EVENT_BUS_QUEUE);
    assert(b->n_subs <= FW_EVENT_BUS_MAX_SUBS);
    for (size_t i = 0; i < b->n_subs; i++) {
        assert(i == 0 || b->subs[i - 1].prio <= b->subs[i].prio);
        for (size_t j = i + 1; j < b->n_subs; j++) {
            bool unique =
                b->subs[i].prio == FW_EVENT_BUS_FIRST || b->subs[i].prio == FW_EVENT_BUS_FINAL;
            assert(!(unique && b->subs[j].type == b->subs[i].type &&
                     b->subs[j].prio == b->subs[i].prio));
        }
    }
#else
    (void)b;
#endif
}
