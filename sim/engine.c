/* sim/engine.c - clock, handler table, lazily cancelled timers and the run loop.
 *
 * Invariants:
 *  1. now never decreases; every pending event has at >= now (schedule rejects the past).
 *  2. Timer t is armed iff gens[t] is odd. Arming moves gens[t] to the next odd value,
 *     cancelling and firing move it to the next even value, so exactly one pending event
 *     (the one carrying the current odd generation) can still fire for t. The counter
 *     wraps after 2^32 changes: a stale event is taken for live only if its timer is
 *     armed about 2^31 more times while that event is still queued (a 7.5 ms periodic
 *     timer for 186 days of simulated time behind one far-future arming); we accept that.
 *  3. A stale event is dropped as if it had never been scheduled: it does not advance now,
 *     call a handler or count towards progress; it is only counted in n_stale.
 */
#include "sim/engine.h"

#include <stdlib.h>

#include "sim/error.h"
#include "sim/evq.h"

#define ENGINE_TIMERS_MIN 16

struct engine_kind {
    sim_handler_fn fn;
    void *ctx;
    const char *name; /* borrowed, for diagnostics */
};

struct sim_engine {
    struct sim_evq *q;
    int64_t now;    /* ns */
    uint32_t *gens; /* per timer, see invariant 2 */
    size_t n_timers, cap_timers;
    uint64_t n_run, n_stale;
    volatile sig_atomic_t *interrupt; /* borrowed; NULL = never interrupted */
    sim_progress_fn progress;
    void *progress_ctx;
    uint64_t progress_every; /* 0 = off */
    uint64_t progress_left;  /* handler calls until the next progress call */
    bool stop_requested;
    size_t n_kinds;
    struct engine_kind kinds[SIM_KIND_MAX];
};

struct sim_engine *sim_engine_new(size_t capacity_hint)
{
    struct sim_engine *e = calloc(1, sizeof(*e));
    if (e == NULL)
        goto fail;
    e->q = sim_evq_new(capacity_hint);
    if (e->q == NULL)
        goto fail;
    e->cap_timers = ENGINE_TIMERS_MIN;
    e->gens = malloc(e->cap_timers * sizeof(*e->gens));
    if (e->gens == NULL)
        goto fail;
    return e;
fail:
    sim_engine_free(e);
    return NULL;
}

void sim_engine_free(struct sim_engine *e)
{
    if (e == NULL)
        return;
    free(e->gens);
    sim_evq_free(e->q);
    free(e);
}

int sim_engine_kind_add(struct sim_engine *e, sim_handler_fn fn, void *ctx, const char *name)
{
    if (fn == NULL)
        return SIM_EINVAL;
    if (e->n_kinds == SIM_KIND_MAX)
        return SIM_ERANGE;
    e->kinds[e->n_kinds] = (struct engine_kind){.fn = fn, .ctx = ctx, .name = name};
    return (int)e->n_kinds++;
}

int64_t sim_engine_now(const struct sim_engine *e)
{
    return e->now;
}

/* Shared by plain events and timer armings so both validate the same way. */
static int push_event(struct sim_engine *e, int64_t at, uint16_t kind, uint32_t target,
                      uint64_t arg, uint32_t timer, uint32_t gen)
{
    if (at < e->now || kind >= e->n_kinds)
        return SIM_EINVAL;
    struct sim_event ev = {
        .at = at, .arg = arg, .target = target, .timer = timer, .gen = gen, .kind = kind};
    return sim_evq_push(e->q, &ev);
}

int sim_engine_schedule(struct sim_engine *e, int64_t at, uint16_t kind, uint32_t target,
                        uint64_t arg)
{
    return push_event(e, at, kind, target, arg, SIM_TIMER_NONE, 0);
}

int sim_engine_timer_new(struct sim_engine *e, uint32_t *id)
{
    /* SIM_TIMER_NONE must never be a valid id. */
    if (e->n_timers >= SIM_TIMER_NONE)
        return SIM_ENOMEM;
    if (e->n_timers == e->cap_timers) {
        uint32_t *g = realloc(e->gens, 2 * e->cap_timers * sizeof(*g));
        if (g == NULL)
            return SIM_ENOMEM;
        e->gens = g;
        e->cap_timers *= 2;
    }
    e->gens[e->n_timers] = 0; /* even: not armed */
    *id = (uint32_t)e->n_timers++;
    return 0;
}

int sim_engine_timer_arm(struct sim_engine *e, uint32_t timer, int64_t at, uint16_t kind,
                         uint32_t target, uint64_t arg)
{
    if (timer >= e->n_timers)
        return SIM_EINVAL;
    uint32_t gen = (e->gens[timer] | 1u) + 2u * (e->gens[timer] & 1u);
    int rc = push_event(e, at, kind, target, arg, timer, gen);
    if (rc != 0)
        return rc; /* the earlier arming, if any, stays live */
    e->gens[timer] = gen;
    return 0;
}

void sim_engine_timer_cancel(struct sim_engine *e, uint32_t timer)
{
    if (timer >= e->n_timers)
        return;
    e->gens[timer] += e->gens[timer] & 1u;
}

bool sim_engine_timer_armed(const struct sim_engine *e, uint32_t timer)
{
    return timer < e->n_timers && (e->gens[timer] & 1u);
}

/* True if ev must run; false if it is a stale timer arming (invariant 2). A live timer
 * event disarms its timer before the handler runs, so the handler may re-arm it. */
static bool claim_event(struct sim_engine *e, const struct sim_event *ev)
{
    if (ev->timer == SIM_TIMER_NONE)
        return true;
    if (ev->timer >= e->n_timers || ev->gen != e->gens[ev->timer])
        return false;
    e->gens[ev->timer]++;
    return true;
}

static void note_progress(struct sim_engine *e)
{
    if (e->progress_every == 0 || --e->progress_left > 0)
        return;
    e->progress_left = e->progress_every;
    e->progress(e->progress_ctx, e);
}

int sim_engine_run(struct sim_engine *e, int64_t until, enum sim_stop *why)
{
    if (until < e->now)
        return SIM_EINVAL;
    enum sim_stop stop;
    struct sim_event ev;
    for (;;) {
        if (e->interrupt != NULL && *e->interrupt != 0) {
            stop = SIM_STOP_INTERRUPTED;
            break;
        }
        if (e->stop_requested) {
            e->stop_requested = false;
            stop = SIM_STOP_REQUESTED;
            break;
        }
        if (sim_evq_size(e->q) == 0) {
            stop = SIM_STOP_EMPTY;
            break;
        }
        if (sim_evq_peek_at(e->q) > until) {
            e->now = until;
            stop = SIM_STOP_LIMIT;
            break;
        }
        sim_evq_pop(e->q, &ev);
        if (!claim_event(e, &ev)) {
            e->n_stale++;
            continue;
        }
        e->now = ev.at;
        const struct engine_kind *k = &e->kinds[ev.kind];
        k->fn(k->ctx, e, &ev);
        e->n_run++;
        note_progress(e);
    }
    if (why != NULL)
        *why = stop;
    return 0;
}

void sim_engine_stop(struct sim_engine *e)
{
    e->stop_requested = true;
}

void sim_engine_set_interrupt(struct sim_engine *e, volatile sig_atomic_t *flag)
{
    e->interrupt = flag;
}

void sim_engine_set_progress(struct sim_engine *e, sim_progress_fn fn, void *ctx,
                             uint64_t every_events)
{
    e->progress = fn;
    e->progress_ctx = ctx;
    e->progress_every = fn != NULL ? every_events : 0;
    e->progress_left = e->progress_every;
}

size_t sim_engine_pending(const struct sim_engine *e)
{
    return sim_evq_size(e->q);
}

uint64_t sim_engine_events_run(const struct sim_engine *e)
{
    return e->n_run;
}

uint64_t sim_engine_events_stale(const struct sim_engine *e)
{
    return e->n_stale;
}
