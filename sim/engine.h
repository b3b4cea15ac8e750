/* sim/engine.h - the discrete-event engine: clock, future event set, timers, run loop.
 *
 * Simulated time is int64_t nanoseconds (CONTRIBUTING.md rule 1). Events are ordered by
 * (time, insertion sequence): equal times run first in, first out (rule 2). The engine
 * knows nothing about BLE or MCUboot: an event is (time, kind, target, arg), and each
 * kind is a handler that a model registered.
 *
 * Timers cancel lazily: arming or cancelling a timer bumps its generation, and a popped
 * event of a timer that was cancelled or re-armed is dropped without calling its handler.
 * Re-arming a timer to a later time pushes nothing: its pending event carries the new
 * arming and is pushed again, at the new time and in the same order, when it pops
 * (sim/engine.c, invariant 4), so a timeout restarted on every packet costs no queue entry.
 *
 * Continuations run inline (sim/engine.c, invariant 6): a timer armed by a handler whose
 * event is provably the next one to run (every queued entry comes later in (time, seq)
 * order, it is within the run's limit, no stop or interrupt is pending) fires as soon as
 * that handler returns, without a queue push and pop. Handlers run in exactly the order,
 * at exactly the times and with the same seq numbering as if it had been queued; only the
 * count of events taken from the queue (sim_engine_events_run) differs: a device's packet
 * delivered at its own time right after the connection event that carried it, with
 * nothing else in between, is one engine event with it (sim_engine_events_inline).
 */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_NS(x)    ((int64_t)(x))
#define SIM_US(x)    ((int64_t)(x)*1000LL)
#define SIM_MS(x)    ((int64_t)(x)*1000000LL)
#define SIM_SEC(x)   ((int64_t)(x)*1000000000LL)
#define SIM_TIME_MAX INT64_MAX

#define SIM_TIMER_NONE UINT32_MAX /* sim_event.timer of a plain (non-timer) event */
#define SIM_KIND_MAX   256        /* handler kinds per engine */

/* One scheduled event, as handlers see it. */
struct sim_event {
    int64_t at;      /* ns of simulated time */
    uint64_t seq;    /* insertion sequence, assigned by the engine; breaks ties FIFO */
    uint64_t arg;    /* handler-defined payload */
    uint32_t target; /* handler-defined entity index (a device, a link, ...) */
    uint32_t timer;  /* SIM_TIMER_NONE, or the timer that armed this event */
    uint32_t gen;    /* the timer's generation when armed (0 for plain events) */
    uint16_t kind;   /* handler, from sim_engine_kind_add() */
};

struct sim_engine; /* opaque: callers could break the heap invariant */

/* Called for each live event; ev->at == sim_engine_now(e). May schedule, arm, cancel
 * and request a stop. ev points into engine storage that is valid only during the call. */
typedef void (*sim_handler_fn)(void *ctx, struct sim_engine *e, const struct sim_event *ev);

/* Called every `every_events` executed events during sim_engine_run(). */
typedef void (*sim_progress_fn)(void *ctx, const struct sim_engine *e);

enum sim_stop {
    SIM_STOP_EMPTY,      /* no event left */
    SIM_STOP_LIMIT,      /* next event is past the time limit; now == limit */
    SIM_STOP_REQUESTED,  /* a handler called sim_engine_stop() */
    SIM_STOP_INTERRUPTED /* the interrupt flag became non-zero (SIGINT) */
};

/* Create an engine at time 0. capacity_hint pre-sizes the event array (0 = default).
 * Returns NULL when out of memory. */
struct sim_engine *sim_engine_new(size_t capacity_hint);
/* Free the engine and every pending event. Accepts NULL. */
void sim_engine_free(struct sim_engine *e);

/* Register a handler; returns its kind (>= 0), SIM_ERANGE past SIM_KIND_MAX,
 * SIM_EINVAL if fn is NULL, or SIM_ENOMEM (the first kind allocates the table).
 * name is kept by pointer (use a string literal) and appears in diagnostics. */
int sim_engine_kind_add(struct sim_engine *e, sim_handler_fn fn, void *ctx, const char *name);

int64_t sim_engine_now(const struct sim_engine *e);

/* Schedule a plain event. Returns 0, SIM_EINVAL if at < now or kind is unknown,
 * SIM_ENOMEM if the array cannot grow (the queue is then unchanged). */
int sim_engine_schedule(struct sim_engine *e, int64_t at, uint16_t kind, uint32_t target,
                        uint64_t arg);

/* Timers: an id into an engine-owned table of generations (4 bytes each).
 * Returns 0 and stores the id, or SIM_ENOMEM. Timers live as long as the engine. */
int sim_engine_timer_new(struct sim_engine *e, uint32_t *id);
/* (Re)arm: any earlier arming becomes stale; then schedule like sim_engine_schedule(). */
int sim_engine_timer_arm(struct sim_engine *e, uint32_t timer, int64_t at, uint16_t kind,
                         uint32_t target, uint64_t arg);
/* Make the pending arming (if any) stale. Never fails, never allocates. */
void sim_engine_timer_cancel(struct sim_engine *e, uint32_t timer);
/* True while the timer is armed and has not fired or been cancelled. */
bool sim_engine_timer_armed(const struct sim_engine *e, uint32_t timer);

/* Run events in order until the queue is empty, the next event is later than `until`
 * (then now = until), sim_engine_stop() is called, or *interrupt becomes non-zero
 * (checked between events). Stores why it stopped in *why; returns 0.
 * Can be called again to continue. Returns SIM_EINVAL, running nothing, if until < now;
 * SIM_ENOMEM if the queue could not grow to take a timer armed by a handler (the arming
 * is then lost; the run cannot go on correctly and should be abandoned). */
int sim_engine_run(struct sim_engine *e, int64_t until, enum sim_stop *why);

/* Move the clock to t between runs, when no event is queued before t (after a run up to
 * t - 1 stopped at its limit, or ran empty). For a caller that acts at t before the events
 * of t (the rollout's epochs, models/fleet/dispatch.c). Returns 0, or SIM_EINVAL (t < now,
 * or an event is queued before t; nothing changes). */
int sim_engine_advance(struct sim_engine *e, int64_t t);

/* Ask the running loop to return after the current event. Called between runs, it makes
 * the next run return at once (SIM_STOP_REQUESTED); each request stops one run. */
void sim_engine_stop(struct sim_engine *e);
/* Flag polled between events (set by a signal handler); NULL to disable. */
void sim_engine_set_interrupt(struct sim_engine *e, volatile sig_atomic_t *flag);
/* Progress callback; every_events == 0 disables it. */
void sim_engine_set_progress(struct sim_engine *e, sim_progress_fn fn, void *ctx,
                             uint64_t every_events);

/* Blocks: make e, a new engine (no kind, no event run), a block of main, which is not a
 * block itself. A block keeps its own clock, queue, timers and stop request; everything
 * else is main's: its handler kinds (sim_engine_kind_add on either adds to main's table,
 * and either's kinds are valid in both), its counts (a block's handler calls count in
 * main's sim_engine_events_*, which a block also reports), its progress callback (called
 * with main, every every_events handler calls of main and its blocks together) and its
 * interrupt flag (set_progress and set_interrupt on a block set main's). For a model whose
 * parts do not interact between known times, each part's events kept in a small queue of
 * its own (models/fleet/world.h "Blocks"). Free the blocks before main. Returns 0 or
 * SIM_EINVAL (nothing changes). */
int sim_engine_join(struct sim_engine *e, struct sim_engine *main);

/* Between runs, with nothing queued: give back the queue's arrays (sim_evq_trim; they are
 * allocated again by the next event). For a block that may stay idle for long. */
void sim_engine_trim(struct sim_engine *e);

/* Renumber the pending events' insertion sequence, keeping the order (the run loop does
 * it itself when the 40-bit space runs out; public for tests). Returns 0 or SIM_ENOMEM
 * (the order is then unchanged). */
int sim_engine_renumber(struct sim_engine *e);

size_t sim_engine_pending(const struct sim_engine *e); /* queued, stale included */
/* Time of the earliest queued event (a stale one included: waking for it costs nothing
 * wrong), or SIM_TIME_MAX when nothing is queued. For a caller that paces the engine
 * against a clock (dfusim serve). */
int64_t sim_engine_next_at(const struct sim_engine *e);
uint64_t sim_engine_events_run(const struct sim_engine *e); /* events taken from the queue */
/* Handlers called for timers fired inline right after the handler that armed them (the
 * continuations of invariant 6); events_run + events_inline = every handler call. */
uint64_t sim_engine_events_inline(const struct sim_engine *e);
/* Every handler call: events_run + events_inline. What a run records (runs.events): it
 * depends only on the model, not on what else shares the queue (ranks, partitions). */
uint64_t sim_engine_events_handled(const struct sim_engine *e);
uint64_t sim_engine_events_stale(const struct sim_engine *e); /* queue entries dropped */

#endif /* SIM_ENGINE_H */
