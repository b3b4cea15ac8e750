/* models/fw/event_bus.h - a per-device application event bus: submit, then subscribers
 * called in priority and registration order, with at most one first and one final
 * subscriber per event type.
 *
 * Mirrors nrfconnect/sdk-nrf: subsys/app_event_manager/app_event_manager.c and
 * include/app_event_manager.h. Upstream keeps one global queue and subscriber lists in
 * linker sections; here both live in struct fw_event_bus (one per device, caller
 * storage), and events are stored by value in a fixed ring instead of k_malloc'ed.
 *
 * Processing is deferred as upstream, where _event_submit() appends to a list and
 * submits a work item to the system workqueue: fw_event_bus_submit() only queues, calls
 * cx->kick once when the queue becomes non-empty (the device then schedules a call to
 * fw_event_bus_process()), and fw_event_bus_process() drains the queue in FIFO order,
 * including events submitted by subscribers while it runs.
 *
 *   IDLE --submit / queue, kick if the queue was empty--> IDLE (pending > 0)
 *   IDLE --process / deliver each event in order--> PROCESSING --queue empty--> IDLE
 *   PROCESSING --submit / queue (no kick: the running drain picks it up)--> PROCESSING
 *   PROCESSING --process (nested) / refused with SIM_EINVAL--> PROCESSING
 *
 *   IDLE:       !processing; count <= FW_EVENT_BUS_QUEUE
 *   PROCESSING: processing; subscribers are being called
 *   always:     per type, subscribers sorted by priority; at most one FIRST and one FINAL
 *
 * Delivery of one event: FIRST, EARLY, NORMAL, FINAL subscribers in turn; a subscriber
 * that returns true consumes the event and no later subscriber sees it
 * (app_event_manager.c event_processor_fn). A final subscriber that waits for "its"
 * event to be fully processed (dfu_mcumgr, ble_smp) therefore never sees a consumed one,
 * exactly as upstream.
 */
#ifndef MODELS_FW_EVENT_BUS_H
#define MODELS_FW_EVENT_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/fw/event.h"

/* APP_EVENT_SUBSCRIBE_FIRST / _EARLY / APP_EVENT_SUBSCRIBE / _FINAL. */
enum fw_event_bus_prio {
    FW_EVENT_BUS_FIRST,
    FW_EVENT_BUS_EARLY,
    FW_EVENT_BUS_NORMAL,
    FW_EVENT_BUS_FINAL
};

/* A subscriber. Returns true to consume the event. now is ns. ev is valid during the call. */
typedef bool (*fw_event_bus_fn)(void *env, const struct fw_event *ev, int64_t now);

struct fw_event_bus_ctx {
    void *env;
    /* The queue went from empty to non-empty outside processing: arrange a call to
     * fw_event_bus_process() (k_work_submit). May be NULL: the caller drains itself. */
    void (*kick)(void *env, int64_t now);
};

#define FW_EVENT_BUS_MAX_SUBS 24
#define FW_EVENT_BUS_QUEUE    16 /* events waiting; a simulator bound, not a firmware one */

struct fw_event_bus_sub {
    fw_event_bus_fn fn;
    void *env;
    uint8_t type; /* enum fw_event_type */
    uint8_t prio; /* enum fw_event_bus_prio */
};

/* Plain data, one per device. */
struct fw_event_bus {
    const struct fw_event_bus_ctx *cx;                   /* not owned */
    struct fw_event_bus_sub subs[FW_EVENT_BUS_MAX_SUBS]; /* sorted by prio, stable */
    size_t n_subs;
    struct fw_event queue[FW_EVENT_BUS_QUEUE]; /* ring */
    size_t head, count;
    uint64_t n_delivered;    /* events fully processed */
    uint64_t n_unsubscribed; /* events nobody subscribes to (delivered to no one) */
    bool processing;
};

/* cx may be NULL. Allocates nothing. */
void fw_event_bus_init(struct fw_event_bus *b, const struct fw_event_bus_ctx *cx);
/* Drop queued events and subscribers (a reboot loses RAM). */
void fw_event_bus_fini(struct fw_event_bus *b);

/* Add a subscriber for one type. Returns 0; SIM_EINVAL for a NULL fn, a bad type or
 * priority, or a second FIRST or FINAL subscriber for the type (upstream: a link-time
 * error); SIM_ERANGE when full. The bus is unchanged on failure. */
int fw_event_bus_subscribe(struct fw_event_bus *b, enum fw_event_type type,
                           enum fw_event_bus_prio prio, fw_event_bus_fn fn, void *env);

/* Queue a copy of *ev. Returns 0; SIM_EINVAL for a bad type; SIM_ERANGE when the queue
 * is full (the event is not queued: raise FW_EVENT_BUS_QUEUE). */
int fw_event_bus_submit(struct fw_event_bus *b, const struct fw_event *ev, int64_t now);

/* Deliver every queued event, FIFO, until the queue is empty. Returns the number of
 * events delivered, or SIM_EINVAL when called from inside a subscriber. */
int fw_event_bus_process(struct fw_event_bus *b, int64_t now);

/* Events waiting. */
static inline size_t fw_event_bus_pending(const struct fw_event_bus *b)
{
    return b->count;
}

/* Assert the invariants above (no-op with NDEBUG). */
void fw_event_bus_check(const struct fw_event_bus *b);

#endif /* MODELS_FW_EVENT_BUS_H */
