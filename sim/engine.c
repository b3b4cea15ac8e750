/* sim/engine.c - clock, handler table, lazily cancelled timers and the run loop.
 *
 * Invariants:
 *  1. now never decreases; every pending event has at >= now (schedule rejects the past).
 *  2. Timer t is armed iff timers[t].gen is odd. Arming moves gen to the next odd value,
 *     cancelling and firing move it to the next even value. The counter wraps after 2^32
 *     changes; a wrapped generation is never compared with an old one (see 4).
 *  3. A dropped queue entry (the carrier of a cancelled timer, or an older carrier) is
 *     dropped as if it had never been scheduled: it does not advance now, call a handler
 *     or count towards progress; it is only counted in n_stale. A carrier that moves its
 *     timer's arming later (4) is not counted at all.
 *  4. Deferred re-arming. Models restart long timeouts on every packet (the 5 s DFU
 *     timeout, the client's response deadline): pushing a new event each time left about
 *     130 stale events per device in the queue (bench/RESULTS.md, "Fleet scale"). Instead a
 *     timer has at most one queue entry that matters, its carrier: the newest entry pushed
 *     for it, identified by timers[t].carrier in the event's gen field; older entries are
 *     dropped when they pop. Arming at a time >= the pending carrier's pushes nothing: it
 *     only takes the next insertion seq (sim_evq_seq_take) and stores (at, seq, ...) in the
 *     timer (exact = false). When that carrier pops, the arming is pushed again with its
 *     own (at, seq) (exact = true) and fires when that entry pops. Arming earlier than the
 *     carrier pushes a new carrier. So every arming runs at the same (at, seq) place in
 *     the order, and with the same seq numbering, as if it had been pushed when armed.
 *  5. Before the evq runs out of seq space, every deferred arming is pushed with its own
 *     key (sim_engine_renumber), so the evq's renumbering sees every arming in the queue.
 *  6. Continuations run inline. While a handler runs, an arming that would push a new
 *     carrier is held back instead: it takes its seq as usual (so its place in the order is
 *     the one it would have had), is marked held, and its id goes on the held list. When
 *     the handler returns, the earliest held arming (smallest (at, seq)) is compared with
 *     the queue's head: if every queued entry (stale ones included) comes later, it is
 *     within the run's `until`, and no stop or interrupt is pending, it is exactly the
 *     event the loop would pop next, so it fires at once, without a push and a pop (its
 *     handler runs with now = its time, holding again; counted in n_inline, not n_run).
 *     Otherwise every held arming is pushed with its own key, as if pushed when armed. So
 *     handlers run in the same (at, seq) order, with the same seq numbering, as without
 *     holding: only the queue operations (and the count of popped events) differ.
 *  7. Blocks (sim_engine_join). A block has its own clock, queue, timers, held list and
 *     stop request; its main engine's handler table, counts, progress callback and
 *     interrupt flag are its own (e->main; an engine is its own main). Nothing of the
 *     order within one engine depends on another, so a world whose parts never interact
 *     between two times may run its parts as blocks, one after the other, up to each time.
 */
#include "sim/engine.h"

#include <assert.h>
#include <stdlib.h>

#include "sim/error.h"
#include "sim/evq.h"

#define ENGINE_TIMERS_MIN 16

struct engine_kind {
    sim_handler_fn fn;
    void *ctx;
    const char *name; /* borrowed, for diagnostics */
};

/* One timer (invariants 2, 4 and 6). 48 bytes. */
struct engine_timer {
    int64_t at;         /* armed: when it fires */
    int64_t carrier_at; /* time of the pending carrier; NO_CARRIER when none is pending */
    uint64_t arg;       /* armed: the event's payload */
    uint64_t seq;       /* armed: its place among equal times (taken when armed) */
    uint32_t gen;       /* odd while armed */
    uint32_t carrier;   /* id of the newest queue entry; others are dropped when popped */
    uint32_t target;
    uint16_t kind;
    bool exact; /* armed: the carrier's key is (at, seq), so popping it fires the timer */
    bool held;  /* armed, not pushed, on the held list: pushed or fired inline (6) */
};

#define NO_CARRIER INT64_MAX

struct sim_engine {
    struct sim_evq *q;
    int64_t now; /* ns */
    struct engine_timer *timers;
    size_t n_timers, cap_timers;
    uint64_t n_run, n_stale, n_inline;
    int64_t until;  /* the running sim_engine_run()'s limit */
    bool holding;   /* a handler is running: armings are held back (invariant 6) */
    uint32_t *held; /* timers armed while holding, in arming order (some since re-armed) */
    size_t n_held, cap_held;
    volatile sig_atomic_t *interrupt; /* borrowed; NULL = never interrupted */
    sim_progress_fn progress;
    void *progress_ctx;
    uint64_t progress_every; /* 0 = off */
    uint64_t progress_left;  /* handler calls until the next progress call */
    bool stop_requested;
    /* The engine that holds the handler table, the counts, the progress callback and the
     * interrupt flag: this one, or the main engine of a block (sim_engine_join). */
    struct sim_engine *main;
    size_t n_kinds;
    struct engine_kind *kinds; /* SIM_KIND_MAX of them from the first kind; a block has none */
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
    e->timers = malloc(e->cap_timers * sizeof(*e->timers));
    if (e->timers == NULL)
        goto fail;
    e->main = e;
    return e;
fail:
    sim_engine_free(e);
    return NULL;
}

void sim_engine_free(struct sim_engine *e)
{
    if (e == NULL)
        return;
    free(e->timers);
    free(e->held);
    free(e->kinds);
    sim_evq_free(e->q);
    free(e);
}

int sim_engine_kind_add(struct sim_engine *e, sim_handler_fn fn, void *ctx, const char *name)
{
    e = e->main;
    if (fn == NULL)
        return SIM_EINVAL;
    if (e->n_kinds == SIM_KIND_MAX)
        return SIM_ERANGE;
    if (e->kinds == NULL && (e->kinds = malloc(SIM_KIND_MAX * sizeof(*e->kinds))) == NULL)
        return SIM_ENOMEM;
    e->kinds[e->n_kinds] = (struct engine_kind){.fn = fn, .ctx = ctx, .name = name};
    return (int)e->n_kinds++;
}

int64_t sim_engine_now(const struct sim_engine *e)
{
    return e->now;
}

/* Push a timer's carrier with the arming's own key (invariant 4). Returns 0 or SIM_ENOMEM
 * (nothing changed). */
static int push_carrier(struct sim_engine *e, uint32_t id)
{
    struct engine_timer *t = &e->timers[id];
    struct sim_event ev = {.at = t->at,
                           .seq = t->seq,
                           .arg = t->arg,
                           .target = t->target,
                           .timer = id,
                           .gen = t->carrier + 1,
                           .kind = t->kind};
    int rc = sim_evq_push_seq(e->q, &ev);
    if (rc != 0)
        return rc;
    t->carrier++;
    t->carrier_at = t->at;
    t->exact = true;
    t->held = false;
    return 0;
}

/* Invariant 5: give every deferred arming its own entry, then renumber. O(timers + n log n);
 * once per 1.1e12 insertions. Fails only when the queue cannot grow. */
int sim_engine_renumber(struct sim_engine *e)
{
    for (uint32_t id = 0; id < e->n_timers; id++) {
        const struct engine_timer *t = &e->timers[id];
        if ((t->gen & 1u) && !t->exact) {
            int rc = push_carrier(e, id);
            if (rc != 0)
                return rc;
        }
    }
    sim_evq_renumber(e->q);
    /* The timers' seq fields are stale now, but every armed timer is exact, so they are
     * only read again after the next arming takes a new seq. */
    return 0;
}

/* Keep the seq space open for the next take or push (invariant 5). */
static int seq_room(struct sim_engine *e)
{
    if (sim_evq_next_seq(e->q) < SIM_EVQ_SEQ_LIMIT)
        return 0;
    return sim_engine_renumber(e);
}

int sim_engine_schedule(struct sim_engine *e, int64_t at, uint16_t kind, uint32_t target,
                        uint64_t arg)
{
    if (at < e->now || kind >= e->main->n_kinds)
        return SIM_EINVAL;
    int rc = seq_room(e);
    if (rc != 0)
        return rc;
    struct sim_event ev = {
        .at = at, .arg = arg, .target = target, .timer = SIM_TIMER_NONE, .gen = 0, .kind = kind};
    return sim_evq_push(e->q, &ev);
}

int sim_engine_timer_new(struct sim_engine *e, uint32_t *id)
{
    /* SIM_TIMER_NONE must never be a valid id. */
    if (e->n_timers >= SIM_TIMER_NONE)
        return SIM_ENOMEM;
    if (e->n_timers == e->cap_timers) {
        struct engine_timer *t = realloc(e->timers, 2 * e->cap_timers * sizeof(*t));
        if (t == NULL)
            return SIM_ENOMEM;
        e->timers = t;
        e->cap_timers *= 2;
    }
    e->timers[e->n_timers] = (struct engine_timer){.carrier_at = NO_CARRIER}; /* not armed */
    *id = (uint32_t)e->n_timers++;
    return 0;
}

/* Put a timer on the held list (invariant 6). False when the list cannot grow: the caller
 * then pushes as usual. */
static bool hold(struct sim_engine *e, uint32_t id)
{
    struct engine_timer *t = &e->timers[id];
    if (t->held)
        return true; /* re-armed while held: still on the list */
    if (e->n_held == e->cap_held) {
        size_t cap = e->cap_held ? 2 * e->cap_held : 16;
        uint32_t *h = realloc(e->held, cap * sizeof(*h));
        if (h == NULL)
            return false;
        e->held = h;
        e->cap_held = cap;
    }
    e->held[e->n_held++] = id;
    t->held = true;
    return true;
}

int sim_engine_timer_arm(struct sim_engine *e, uint32_t timer, int64_t at, uint16_t kind,
                         uint32_t target, uint64_t arg)
{
    if (timer >= e->n_timers || at < e->now || kind >= e->main->n_kinds)
        return SIM_EINVAL;
    int rc = seq_room(e);
    if (rc != 0)
        return rc;
    struct engine_timer *t = &e->timers[timer];
    struct engine_timer was = *t;
    t->at = at;
    t->arg = arg;
    t->target = target;
    t->kind = kind;
    t->gen = (t->gen | 1u) + 2u * (t->gen & 1u);
    if (t->carrier_at <= at) { /* the pending carrier will push it later (invariant 4) */
        t->seq = sim_evq_seq_take(e->q);
        t->exact = false;
        t->held = false;
        return 0;
    }
    if (e->holding && hold(e, timer)) { /* pushed or fired when the handler returns (6) */
        t->seq = sim_evq_seq_take(e->q);
        t->exact = false;
        return 0;
    }
    t->seq = sim_evq_next_seq(e->q);
    rc = push_carrier(e, timer);
    if (rc != 0) {
        *t = was; /* the earlier arming, if any, stays live */
        return rc;
    }
    (void)sim_evq_seq_take(e->q); /* the seq push_carrier used */
    return 0;
}

void sim_engine_timer_cancel(struct sim_engine *e, uint32_t timer)
{
    if (timer >= e->n_timers)
        return;
    e->timers[timer].gen += e->timers[timer].gen & 1u;
}

bool sim_engine_timer_armed(const struct sim_engine *e, uint32_t timer)
{
    return timer < e->n_timers && (e->timers[timer].gen & 1u);
}

/* Decide what a popped entry is: true if ev must run now (its fields then describe the
 * timer's arming, and the timer is disarmed so the handler may re-arm it); false if it was
 * dropped (invariant 3) or pushed again later (invariant 4). */
static bool claim_event(struct sim_engine *e, struct sim_event *ev)
{
    if (ev->timer == SIM_TIMER_NONE)
        return true;
    struct engine_timer *t = &e->timers[ev->timer];
    if (ev->gen != t->carrier) {
        e->main->n_stale++; /* an older carrier */
        return false;
    }
    t->carrier_at = NO_CARRIER;
    if (!(t->gen & 1u)) {
        e->main->n_stale++; /* cancelled */
        return false;
    }
    if (!t->exact) {
        /* The pop left a free slot, so this push cannot fail. */
        int rc = push_carrier(e, ev->timer);
        (void)rc;
        return false;
    }
    ev->gen = t->gen;
    t->gen++;
    return true;
}

static void note_progress(struct sim_engine *e)
{
    if (e->progress_every == 0 || --e->progress_left > 0)
        return;
    e->progress_left = e->progress_every;
    e->progress(e->progress_ctx, e);
}

/* A queued entry that runs no handler when it pops (claim_event returns false without
 * pushing): an older carrier, or the carrier of a cancelled timer. Popping it before its
 * time changes nothing but when it leaves the queue (invariant 3). */
static bool inert(const struct sim_engine *e, const struct sim_event *ev)
{
    if (ev->timer == SIM_TIMER_NONE)
        return false;
    const struct engine_timer *t = &e->timers[ev->timer];
    return ev->gen != t->carrier || !(t->gen & 1u);
}

/* Invariant 6: if the earliest held arming is the event the loop would pop next, fire it
 * (disarm it and describe it in *ev, as claim_event does) and return true. Held entries
 * that were re-armed to the deferred case or cancelled are dropped from the list. */
static bool next_held(struct sim_engine *e, struct sim_event *ev)
{
    struct engine_timer *best = NULL;
    size_t best_i = 0, n = 0;
    for (size_t i = 0; i < e->n_held; i++) {
        uint32_t id = e->held[i];
        struct engine_timer *t = &e->timers[id];
        if (!t->held || !(t->gen & 1u)) {
            t->held = false;
            continue;
        }
        if (best == NULL || t->at < best->at || (t->at == best->at && t->seq < best->seq)) {
            best = t;
            best_i = n;
        }
        e->held[n++] = id;
    }
    e->n_held = n;
    if (best == NULL || e->stop_requested || best->at > e->until ||
        (e->main->interrupt != NULL && *e->main->interrupt != 0))
        return false;
    struct sim_event head;
    while (sim_evq_peek(e->q, &head) &&
           (head.at < best->at || (head.at == best->at && head.seq < best->seq))) {
        if (!inert(e, &head))
            return false;
        sim_evq_pop(e->q, &head); /* what the loop would do with it, only earlier */
        bool fires = claim_event(e, &head);
        assert(!fires);
        (void)fires;
    }
    uint32_t id = e->held[best_i];
    e->held[best_i] = e->held[--e->n_held];
    *ev = (struct sim_event){.at = best->at,
                             .seq = best->seq,
                             .arg = best->arg,
                             .target = best->target,
                             .timer = id,
                             .gen = best->gen,
                             .kind = best->kind};
    best->held = false;
    best->gen++;
    return true;
}

/* Push every held arming with its own key (invariant 6). Returns 0 or SIM_ENOMEM (the
 * arming that could not be pushed stays held and armed; the run reports the error). */
static int release_held(struct sim_engine *e)
{
    while (e->n_held > 0) {
        uint32_t id = e->held[e->n_held - 1];
        struct engine_timer *t = &e->timers[id];
        if (t->held && (t->gen & 1u)) {
            int rc = push_carrier(e, id);
            if (rc != 0)
                return rc;
        }
        t->held = false;
        e->n_held--;
    }
    return 0;
}

int sim_engine_run(struct sim_engine *e, int64_t until, enum sim_stop *why)
{
    if (until < e->now)
        return SIM_EINVAL;
    enum sim_stop stop = SIM_STOP_REQUESTED;
    struct sim_event ev;
    int rc = 0;
    struct sim_engine *m = e->main; /* handlers, counts, progress, interrupt */
    e->until = until;
    for (;;) {
        if (m->interrupt != NULL && *m->interrupt != 0) {
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
        if (!claim_event(e, &ev))
            continue;
        e->now = ev.at;
        e->holding = true;
        const struct engine_kind *k = &m->kinds[ev.kind];
        k->fn(k->ctx, e, &ev);
        m->n_run++;
        while (next_held(e, &ev)) { /* invariant 6 */
            e->now = ev.at;
            m->n_inline++;
            k = &m->kinds[ev.kind];
            k->fn(k->ctx, e, &ev);
        }
        e->holding = false;
        rc = release_held(e);
        if (rc != 0)
            break;
        note_progress(m);
    }
    if (why != NULL)
        *why = stop;
    return rc;
}

int sim_engine_advance(struct sim_engine *e, int64_t t)
{
    if (t < e->now || (sim_evq_size(e->q) > 0 && sim_evq_peek_at(e->q) < t))
        return SIM_EINVAL;
    e->now = t;
    return 0;
}

void sim_engine_stop(struct sim_engine *e)
{
    e->stop_requested = true;
}

void sim_engine_set_interrupt(struct sim_engine *e, volatile sig_atomic_t *flag)
{
    e->main->interrupt = flag;
}

void sim_engine_set_progress(struct sim_engine *e, sim_progress_fn fn, void *ctx,
                             uint64_t every_events)
{
    e = e->main;
    e->progress = fn;
    e->progress_ctx = ctx;
    e->progress_every = fn != NULL ? every_events : 0;
    e->progress_left = e->progress_every;
}

int64_t sim_engine_next_at(const struct sim_engine *e)
{
    return sim_evq_size(e->q) > 0 ? sim_evq_peek_at(e->q) : SIM_TIME_MAX;
}

void sim_engine_trim(struct sim_engine *e)
{
    if (!e->holding) /* not from a handler: a held arming may still be pushed */
        sim_evq_trim(e->q);
}

size_t sim_engine_pending(const struct sim_engine *e)
{
    return sim_evq_size(e->q);
}

uint64_t sim_engine_events_run(const struct sim_engine *e)
{
    return e->main->n_run;
}

uint64_t sim_engine_events_stale(const struct sim_engine *e)
{
    return e->main->n_stale;
}

uint64_t sim_engine_events_inline(const struct sim_engine *e)
{
    return e->main->n_inline;
}

uint64_t sim_engine_events_handled(const struct sim_engine *e)
{
    return e->main->n_run + e->main->n_inline;
}

int sim_engine_join(struct sim_engine *e, struct sim_engine *main)
{
    if (e == main || main->main != main || e->main != e || e->n_kinds != 0 || e->n_run != 0 ||
        e->n_inline != 0 || e->n_stale != 0)
        return SIM_EINVAL;
    e->main = main;
    return 0;
}
