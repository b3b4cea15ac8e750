/* tests/test_engine.c - the discrete-event engine (sim/engine.h): ordering, timers with lazy
 * cancellation, the run loop's four ways to stop, argument checks, progress cadence,
 * continuations run inline. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/engine.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LOG_CAP      64

/* What the handler saw, and what it should do at a given call (1-based, 0 = never). */
struct log {
    size_t n;
    int64_t at[LOG_CAP];
    int64_t now[LOG_CAP];
    uint32_t target[LOG_CAP];
    uint64_t arg[LOG_CAP];
    size_t stop_at_call;
    size_t interrupt_at_call;
    volatile sig_atomic_t *interrupt;
    /* Re-arm timer `rearm_timer` `rearm_left` more times, rearm_step ns later each time. */
    uint32_t rearm_timer;
    int rearm_left;
    int64_t rearm_step;
    /* At call `schedule_at_call`, schedule target `schedule_target` at now + schedule_delay. */
    size_t schedule_at_call;
    uint32_t schedule_target;
    int64_t schedule_delay;
    int kind;
};

static void record(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    struct log *l = ctx;
    assert_true(l->n < LOG_CAP);
    l->at[l->n] = ev->at;
    l->now[l->n] = sim_engine_now(e);
    l->target[l->n] = ev->target;
    l->arg[l->n] = ev->arg;
    l->n++;
    if (l->n == l->stop_at_call)
        sim_engine_stop(e);
    if (l->n == l->interrupt_at_call)
        *l->interrupt = 1;
    if (l->n == l->schedule_at_call)
        assert_int_equal(sim_engine_schedule(e, ev->at + l->schedule_delay, (uint16_t)l->kind,
                                             l->schedule_target, 0),
                         0);
    if (l->rearm_left > 0 && ev->timer == l->rearm_timer) {
        l->rearm_left--;
        assert_false(sim_engine_timer_armed(e, ev->timer)); /* a fired timer is disarmed */
        assert_int_equal(sim_engine_timer_arm(e, ev->timer, ev->at + l->rearm_step,
                                              (uint16_t)l->kind, ev->target + 1, 0),
                         0);
    }
}

/* An engine with one kind, `record`, writing to *l. */
static struct sim_engine *engine_with_log(struct log *l)
{
    struct sim_engine *e = sim_engine_new(0);
    assert_non_null(e);
    l->kind = sim_engine_kind_add(e, record, l, "record");
    assert_int_equal(l->kind, 0);
    return e;
}

static void run_expect(struct sim_engine *e, int64_t until, enum sim_stop want)
{
    enum sim_stop why = (enum sim_stop) - 1;
    assert_int_equal(sim_engine_run(e, until, &why), 0);
    assert_int_equal(why, want);
}

/* ---- events run in time order; equal times run first in, first out ---- */
static const struct {
    const char *name;
    size_t n;
    int64_t at[8];
    uint32_t want_target[8]; /* target i was scheduled i-th */
} order_cases[] = {
    {"later scheduled but earlier time runs first", 3, {30, 10, 20}, {1, 2, 0}},
    {"equal times run in scheduling order", 4, {5, 5, 5, 5}, {0, 1, 2, 3}},
    {"ties among other times keep scheduling order", 5, {2, 1, 2, 1, 0}, {4, 1, 3, 0, 2}},
};

static void test_events_run_by_time_then_fifo(void **state)
{
    (void)state;
    for (size_t c = 0; c < ARRAY_LEN(order_cases); c++) {
        print_message("case: %s\n", order_cases[c].name);
        struct log l = {0};
        struct sim_engine *e = engine_with_log(&l);
        for (size_t i = 0; i < order_cases[c].n; i++)
            assert_int_equal(sim_engine_schedule(e, order_cases[c].at[i], 0, (uint32_t)i, 100 + i),
                             0);
        assert_int_equal(sim_engine_pending(e), order_cases[c].n);
        run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY);
        assert_int_equal(l.n, order_cases[c].n);
        for (size_t i = 0; i < l.n; i++) {
            uint32_t t = order_cases[c].want_target[i];
            assert_int_equal(l.target[i], t);
            assert_int_equal(l.at[i], order_cases[c].at[t]);
            assert_int_equal(l.now[i], l.at[i]); /* the clock is at the event */
            assert_int_equal(l.arg[i], 100 + t);
        }
        assert_int_equal(sim_engine_events_run(e), order_cases[c].n);
        assert_int_equal(sim_engine_pending(e), 0);
        sim_engine_free(e);
    }
}

/* ---- an event a handler schedules for `now` runs after the events already queued for
 * `now` (FIFO holds across handler calls), and before anything later ---- */
static const struct {
    const char *name;
    int64_t delay;
    uint32_t want_target[4];
} from_handler_cases[] = {
    {"scheduled for now runs after queued equals", 0, {0, 1, 2, 9}},
    {"scheduled 1 ns later runs after all equals", 1, {0, 1, 2, 9}},
};

static void test_handler_scheduled_event_keeps_fifo(void **state)
{
    (void)state;
    for (size_t c = 0; c < ARRAY_LEN(from_handler_cases); c++) {
        print_message("case: %s\n", from_handler_cases[c].name);
        struct log l = {.schedule_at_call = 1,
                        .schedule_target = 9,
                        .schedule_delay = from_handler_cases[c].delay};
        struct sim_engine *e = engine_with_log(&l);
        for (uint32_t i = 0; i < 3; i++)
            assert_int_equal(sim_engine_schedule(e, 10, 0, i, 0), 0);
        assert_int_equal(sim_engine_schedule(e, 20, 0, 3, 0), 0);
        run_expect(e, 15, SIM_STOP_LIMIT);
        assert_int_equal(l.n, 4);
        for (size_t i = 0; i < 4; i++)
            assert_int_equal(l.target[i], from_handler_cases[c].want_target[i]);
        assert_int_equal(l.at[3], 10 + from_handler_cases[c].delay);
        assert_int_equal(sim_engine_pending(e), 1); /* the event at 20 */
        sim_engine_free(e);
    }
}

/* ---- timers: cancelled never fires; re-armed fires only at its last time ---- */
enum timer_op { ARM, CANCEL };
static const struct {
    const char *name;
    size_t n_ops;
    struct {
        enum timer_op op;
        int64_t at;
    } ops[4];
    bool want_armed;
    size_t want_fired;
    int64_t want_at;
    uint64_t want_stale;
} timer_cases[] = {
    {"armed timer fires once", 1, {{ARM, 10}}, true, 1, 10, 0},
    {"cancelled timer never fires", 2, {{ARM, 10}, {CANCEL, 0}}, false, 0, 0, 1},
    /* Re-armed later: the first event carries the arming to 50 and is not counted stale. */
    {"re-armed later fires only at the last time", 2, {{ARM, 10}, {ARM, 50}}, true, 1, 50, 0},
    {"re-armed earlier fires only at the last time",
     3,
     {{ARM, 50}, {ARM, 40}, {ARM, 20}},
     true,
     1,
     20,
     2},
    {"cancel then re-arm fires at the re-arm",
     3,
     {{ARM, 10}, {CANCEL, 0}, {ARM, 30}},
     true,
     1,
     30,
     0},
    {"cancel of an unarmed timer is harmless", 2, {{CANCEL, 0}, {CANCEL, 0}}, false, 0, 0, 0},
    {"re-armed at the same time fires once", 3, {{ARM, 10}, {ARM, 10}, {ARM, 10}}, true, 1, 10, 0},
    {"re-armed earlier then later fires at the last time",
     3,
     {{ARM, 50}, {ARM, 20}, {ARM, 60}},
     true,
     1,
     60,
     1},
};

static void test_timer_cancel_and_rearm(void **state)
{
    (void)state;
    for (size_t c = 0; c < ARRAY_LEN(timer_cases); c++) {
        print_message("case: %s\n", timer_cases[c].name);
        struct log l = {0};
        struct sim_engine *e = engine_with_log(&l);
        uint32_t t = SIM_TIMER_NONE, other = SIM_TIMER_NONE;
        assert_int_equal(sim_engine_timer_new(e, &other), 0);
        assert_int_equal(sim_engine_timer_new(e, &t), 0);
        assert_int_not_equal(t, other);
        assert_false(sim_engine_timer_armed(e, t));
        for (size_t i = 0; i < timer_cases[c].n_ops; i++) {
            if (timer_cases[c].ops[i].op == ARM)
                assert_int_equal(sim_engine_timer_arm(e, t, timer_cases[c].ops[i].at, 0, 7, 0), 0);
            else
                sim_engine_timer_cancel(e, t);
        }
        assert_int_equal(sim_engine_timer_armed(e, t), timer_cases[c].want_armed);
        assert_false(sim_engine_timer_armed(e, other)); /* timers are independent */
        run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY);
        assert_int_equal(l.n, timer_cases[c].want_fired);
        if (l.n == 1)
            assert_int_equal(l.at[0], timer_cases[c].want_at);
        assert_int_equal(sim_engine_events_stale(e), timer_cases[c].want_stale);
        assert_false(sim_engine_timer_armed(e, t)); /* a timer that fired is not armed */
        sim_engine_free(e);
    }
}

/* ---- a timer restarted 10^5 times fires exactly once, at its last time, and every
 * earlier arming is dropped as stale ---- */
static void test_timer_restarted_1e5_times_fires_once(void **state)
{
    (void)state;
    enum { N = 100000 };
    struct log l = {0};
    struct sim_engine *e = engine_with_log(&l);
    uint32_t t;
    assert_int_equal(sim_engine_timer_new(e, &t), 0);
    int64_t last = 0, lowest = INT64_MAX;
    size_t n_pushed = 0; /* armings earlier than every earlier one push an event */
    for (int64_t i = 0; i < N; i++) {
        /* Times jump around (7919 is prime to N) so stale events sit before and after. */
        last = SIM_MS(1) + (i * 7919) % N;
        if (last < lowest) {
            lowest = last;
            n_pushed++;
        }
        assert_int_equal(sim_engine_timer_arm(e, t, last, 0, (uint32_t)i, (uint64_t)i), 0);
    }
    assert_int_equal(sim_engine_pending(e), n_pushed);
    assert_true(n_pushed < 100);
    run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.at[0], last);
    assert_int_equal(l.target[0], N - 1);
    assert_int_equal(l.arg[0], N - 1);
    assert_int_equal(sim_engine_events_run(e), 1);
    assert_int_equal(sim_engine_events_stale(e), n_pushed - 1);
    assert_int_equal(sim_engine_pending(e), 0);
    /* Stale events do not move the clock: it stays at the one event that ran. */
    assert_int_equal(sim_engine_now(e), last);
    sim_engine_free(e);
}

/* ---- a timer re-armed later runs at the place in the order (and with the seq) it would
 * have had if its arming had been pushed then: the deferral is invisible ---- */
struct seq_log {
    size_t n;
    uint32_t target[8];
    uint64_t seq[8];
    int64_t now[8];
};

static void record_seq(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    struct seq_log *l = ctx;
    assert_true(l->n < ARRAY_LEN(l->target));
    l->target[l->n] = ev->target;
    l->seq[l->n] = ev->seq;
    l->now[l->n] = sim_engine_now(e);
    l->n++;
}

/* Timer armed at 10, a plain event at 20, the timer re-armed to 20, another plain event at
 * 20: at 20 they run plain, timer, plain. */
static struct sim_engine *deferred_setup(struct seq_log *l, uint32_t *t)
{
    struct sim_engine *e = sim_engine_new(0);
    assert_non_null(e);
    assert_int_equal(sim_engine_kind_add(e, record_seq, l, "seq"), 0);
    assert_int_equal(sim_engine_timer_new(e, t), 0);
    assert_int_equal(sim_engine_timer_arm(e, *t, 10, 0, 100, 0), 0);
    assert_int_equal(sim_engine_schedule(e, 20, 0, 1, 0), 0);
    assert_int_equal(sim_engine_timer_arm(e, *t, 20, 0, 101, 0), 0);
    assert_int_equal(sim_engine_schedule(e, 20, 0, 2, 0), 0);
    assert_int_equal(sim_engine_pending(e), 3); /* the re-arm pushed nothing */
    return e;
}

static void test_deferred_rearm_keeps_its_place_among_equal_times(void **state)
{
    (void)state;
    struct seq_log l = {0};
    uint32_t t;
    struct sim_engine *e = deferred_setup(&l, &t);
    run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY);
    static const uint32_t want_target[] = {1, 101, 2};
    static const uint64_t want_seq[] = {1, 2, 3}; /* seq 0: the first arming */
    assert_int_equal(l.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(l.target[i], want_target[i]);
        assert_int_equal(l.seq[i], want_seq[i]);
        assert_int_equal(l.now[i], 20); /* the carrier at 10 did not move the clock */
    }
    assert_int_equal(sim_engine_events_run(e), 3);
    assert_int_equal(sim_engine_events_stale(e), 0);
    sim_engine_free(e);
}

/* ---- renumbering pushes deferred armings first, so the order survives it ---- */
static void test_renumber_keeps_deferred_armings_in_order(void **state)
{
    (void)state;
    struct seq_log l = {0};
    uint32_t t;
    struct sim_engine *e = deferred_setup(&l, &t);
    assert_int_equal(sim_engine_renumber(e), 0);
    assert_int_equal(sim_engine_pending(e), 4); /* old carrier + the arming's own entry */
    assert_int_equal(sim_engine_schedule(e, 20, 0, 3, 0), 0); /* newest after renumbering */
    run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY);
    static const uint32_t want_target[] = {1, 101, 2, 3};
    static const uint64_t want_seq[] = {1, 2, 3, 4}; /* ranks: the old carrier is 0 */
    assert_int_equal(l.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(l.target[i], want_target[i]);
        assert_int_equal(l.seq[i], want_seq[i]);
    }
    assert_int_equal(sim_engine_events_stale(e), 1); /* the old carrier, dropped */
    sim_engine_free(e);
}

/* ---- a handler may re-arm the timer that just fired (a periodic check) ---- */
static void test_handler_rearms_its_timer(void **state)
{
    (void)state;
    struct log l = {.rearm_left = 3, .rearm_step = SIM_SEC(5)};
    struct sim_engine *e = engine_with_log(&l);
    assert_int_equal(sim_engine_timer_new(e, &l.rearm_timer), 0);
    assert_int_equal(sim_engine_timer_arm(e, l.rearm_timer, SIM_SEC(5), 0, 0, 0), 0);
    run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY);
    assert_int_equal(l.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(l.at[i], SIM_SEC(5) * (int64_t)(i + 1));
        assert_int_equal(l.target[i], i);
    }
    assert_int_equal(sim_engine_events_stale(e), 0);
    sim_engine_free(e);
}

/* ---- the run loop stops at the time limit with now == limit, and can be resumed ---- */
static void test_run_stops_at_limit_and_resumes(void **state)
{
    (void)state;
    struct log l = {0};
    struct sim_engine *e = engine_with_log(&l);
    static const int64_t at[] = {10, 20, 25, 30};
    for (size_t i = 0; i < ARRAY_LEN(at); i++)
        assert_int_equal(sim_engine_schedule(e, at[i], 0, (uint32_t)i, 0), 0);

    run_expect(e, 25, SIM_STOP_LIMIT); /* an event exactly at the limit runs */
    assert_int_equal(l.n, 3);
    assert_int_equal(sim_engine_now(e), 25);
    assert_int_equal(sim_engine_pending(e), 1);

    run_expect(e, 27, SIM_STOP_LIMIT); /* nothing to run: the clock still moves to the limit */
    assert_int_equal(l.n, 3);
    assert_int_equal(sim_engine_now(e), 27);

    assert_int_equal(sim_engine_run(e, 26, NULL), SIM_EINVAL); /* the past */
    assert_int_equal(sim_engine_now(e), 27);

    run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.at[3], 30);
    assert_int_equal(sim_engine_now(e), 30); /* empty: the clock stays at the last event */
    sim_engine_free(e);
}

/* ---- sim_engine_stop() returns after the current event; run again to continue ---- */
static void test_stop_request_returns_after_current_event(void **state)
{
    (void)state;
    struct log l = {.stop_at_call = 2};
    struct sim_engine *e = engine_with_log(&l);
    for (uint32_t i = 0; i < 5; i++)
        assert_int_equal(sim_engine_schedule(e, 100 * (i + 1), 0, i, 0), 0);
    run_expect(e, SIM_TIME_MAX, SIM_STOP_REQUESTED);
    assert_int_equal(l.n, 2);
    assert_int_equal(sim_engine_now(e), 200);
    assert_int_equal(sim_engine_pending(e), 3);
    run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY); /* the request was consumed */
    assert_int_equal(l.n, 5);

    sim_engine_stop(e); /* requested between runs: the next run returns at once */
    assert_int_equal(sim_engine_schedule(e, 600, 0, 5, 0), 0);
    run_expect(e, SIM_TIME_MAX, SIM_STOP_REQUESTED);
    assert_int_equal(l.n, 5);
    run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY);
    assert_int_equal(l.n, 6);
    sim_engine_free(e);
}

/* ---- the interrupt flag is polled between events ---- */
static void test_interrupt_flag_stops_between_events(void **state)
{
    (void)state;
    volatile sig_atomic_t flag = 0;
    struct log l = {.interrupt_at_call = 3, .interrupt = &flag};
    struct sim_engine *e = engine_with_log(&l);
    sim_engine_set_interrupt(e, &flag);
    for (uint32_t i = 0; i < 5; i++)
        assert_int_equal(sim_engine_schedule(e, i, 0, i, 0), 0);
    run_expect(e, SIM_TIME_MAX, SIM_STOP_INTERRUPTED);
    assert_int_equal(l.n, 3);
    run_expect(e, SIM_TIME_MAX, SIM_STOP_INTERRUPTED); /* still set: nothing runs */
    assert_int_equal(l.n, 3);
    flag = 0;
    run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY);
    assert_int_equal(l.n, 5);

    flag = 1;
    sim_engine_set_interrupt(e, NULL); /* disabled: the flag is no longer read */
    assert_int_equal(sim_engine_schedule(e, 9, 0, 9, 0), 0);
    run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY);
    assert_int_equal(l.n, 6);
    sim_engine_free(e);
}

/* ---- bad arguments: the past, unknown kinds, unknown timers, too many kinds ---- */
static void ignore(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    (void)ctx;
    (void)e;
    (void)ev;
}

static void test_bad_arguments_are_rejected(void **state)
{
    (void)state;
    struct log l = {0};
    struct sim_engine *e = engine_with_log(&l);
    assert_int_equal(sim_engine_schedule(e, 100, 0, 0, 0), 0);
    run_expect(e, 100, SIM_STOP_EMPTY);
    assert_int_equal(sim_engine_now(e), 100);

    /* schedule in the past */
    assert_int_equal(sim_engine_schedule(e, 99, 0, 0, 0), SIM_EINVAL);
    assert_int_equal(sim_engine_schedule(e, INT64_MIN, 0, 0, 0), SIM_EINVAL);
    assert_int_equal(sim_engine_schedule(e, 100, 0, 0, 0), 0); /* now itself is allowed */
    /* unknown kind */
    assert_int_equal(sim_engine_schedule(e, 200, 1, 0, 0), SIM_EINVAL);
    assert_int_equal(sim_engine_schedule(e, 200, UINT16_MAX, 0, 0), SIM_EINVAL);
    assert_int_equal(sim_engine_pending(e), 1);

    uint32_t t;
    assert_int_equal(sim_engine_timer_new(e, &t), 0);
    assert_int_equal(sim_engine_timer_arm(e, t, 300, 0, 0, 0), 0);
    /* A failed re-arm leaves the earlier arming live. */
    assert_int_equal(sim_engine_timer_arm(e, t, 99, 0, 0, 0), SIM_EINVAL);
    assert_int_equal(sim_engine_timer_arm(e, t, 400, 1, 0, 0), SIM_EINVAL);
    assert_true(sim_engine_timer_armed(e, t));
    /* Unknown timer ids. */
    assert_int_equal(sim_engine_timer_arm(e, t + 1, 400, 0, 0, 0), SIM_EINVAL);
    assert_int_equal(sim_engine_timer_arm(e, SIM_TIMER_NONE, 400, 0, 0, 0), SIM_EINVAL);
    sim_engine_timer_cancel(e, t + 1);
    assert_false(sim_engine_timer_armed(e, t + 1));
    assert_int_equal(sim_engine_pending(e), 2);

    run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.at[2], 300);

    /* Kinds: SIM_KIND_MAX fit, one more does not. */
    for (int k = 1; k < SIM_KIND_MAX; k++)
        assert_int_equal(sim_engine_kind_add(e, ignore, NULL, "ignore"), k);
    assert_int_equal(sim_engine_kind_add(e, ignore, NULL, "ignore"), SIM_ERANGE);
    assert_int_equal(sim_engine_schedule(e, 500, SIM_KIND_MAX - 1, 0, 0), 0);
    sim_engine_free(e);
}

/* ---- the progress callback runs every N handler calls, and not for stale events ---- */
struct progress_log {
    size_t n;
    uint64_t at_run[16];
};

static void on_progress(void *ctx, const struct sim_engine *e)
{
    struct progress_log *p = ctx;
    assert_true(p->n < ARRAY_LEN(p->at_run));
    p->at_run[p->n++] = sim_engine_events_run(e);
}

static const struct {
    const char *name;
    uint64_t every;
    size_t n_events;
    size_t n_stale;
    size_t want_calls; /* at events_run == every, 2 * every, ... */
} progress_cases[] = {
    {"every 3 of 10 events", 3, 10, 0, 3},  {"every event", 1, 4, 0, 4},
    {"every 5 of exactly 10", 5, 10, 0, 2}, {"more than the events run", 20, 10, 0, 0},
    {"zero disables", 0, 10, 0, 0},         {"stale events do not count", 2, 4, 6, 2},
};

static void test_progress_callback_cadence(void **state)
{
    (void)state;
    for (size_t c = 0; c < ARRAY_LEN(progress_cases); c++) {
        print_message("case: %s\n", progress_cases[c].name);
        struct log l = {0};
        struct progress_log p = {0};
        struct sim_engine *e = engine_with_log(&l);
        sim_engine_set_progress(e, on_progress, &p, progress_cases[c].every);
        uint32_t t;
        assert_int_equal(sim_engine_timer_new(e, &t), 0);
        /* Earlier each time, so that every arming pushes an event (later ones would not). */
        for (size_t i = 0; i < progress_cases[c].n_stale; i++)
            assert_int_equal(
                sim_engine_timer_arm(e, t, (int64_t)(progress_cases[c].n_stale - 1 - i), 0, 0, 0),
                0);
        sim_engine_timer_cancel(e, t);
        for (size_t i = 0; i < progress_cases[c].n_events; i++)
            assert_int_equal(sim_engine_schedule(e, (int64_t)i, 0, (uint32_t)i, 0), 0);
        run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY);
        assert_int_equal(l.n, progress_cases[c].n_events);
        assert_int_equal(sim_engine_events_stale(e), progress_cases[c].n_stale);
        assert_int_equal(p.n, progress_cases[c].want_calls);
        for (size_t i = 0; i < p.n; i++)
            assert_int_equal(p.at_run[i], progress_cases[c].every * (i + 1));
        sim_engine_free(e);
    }
}

/* ---- cadence counts across runs: a run that stops mid-interval continues the count ---- */
static void test_progress_cadence_spans_runs(void **state)
{
    (void)state;
    struct log l = {0};
    struct progress_log p = {0};
    struct sim_engine *e = engine_with_log(&l);
    sim_engine_set_progress(e, on_progress, &p, 4);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(sim_engine_schedule(e, i, 0, i, 0), 0);
    run_expect(e, 2, SIM_STOP_LIMIT); /* 3 events */
    assert_int_equal(p.n, 0);
    run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY); /* 7 more: calls at 4 and 8 */
    assert_int_equal(p.n, 2);
    assert_int_equal(p.at_run[0], 4);
    assert_int_equal(p.at_run[1], 8);
    sim_engine_free(e);
}

static void test_new_sizes_and_free_accepts_null(void **state)
{
    (void)state;
    sim_engine_free(NULL);
    struct sim_engine *e = sim_engine_new(1000);
    assert_non_null(e);
    assert_int_equal(sim_engine_now(e), 0);
    assert_int_equal(sim_engine_pending(e), 0);
    enum sim_stop why = SIM_STOP_LIMIT;
    assert_int_equal(sim_engine_run(e, SIM_TIME_MAX, &why), 0);
    assert_int_equal(why, SIM_STOP_EMPTY);
    assert_int_equal(sim_engine_kind_add(e, NULL, NULL, "null"), SIM_EINVAL);
    /* Many timers: the generation table grows. */
    for (uint32_t i = 0; i < 1000; i++) {
        uint32_t t;
        assert_int_equal(sim_engine_timer_new(e, &t), 0);
        assert_int_equal(t, i);
    }
    sim_engine_free(e);
}

/* ---- continuations run inline (sim/engine.c, invariant 6): a timer armed by a handler
 * fires right after it, without a queue entry, exactly when it is the next event; the
 * order of handler calls is the queue's in every case ---- */
enum step_op { OP_END, OP_ARM, OP_CANCEL, OP_SCHEDULE, OP_STOP };
struct step {
    enum step_op op;
    int timer;  /* OP_ARM, OP_CANCEL */
    int64_t at; /* OP_ARM, OP_SCHEDULE */
    uint64_t arg;
};
#define STEPS_MAX 4
struct script {
    struct step first[STEPS_MAX]; /* what the handler does at its first call */
    uint32_t timer[3];
    int kind;
    size_t n;
    int64_t at[8];
    uint64_t arg[8];
};

static void scripted(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    struct script *s = ctx;
    assert_true(s->n < 8);
    assert_int_equal(sim_engine_now(e), ev->at);
    s->at[s->n] = ev->at;
    s->arg[s->n] = ev->arg;
    if (s->n++ > 0)
        return;
    for (const struct step *p = s->first; p->op != OP_END; p++) {
        if (p->op == OP_ARM)
            assert_int_equal(
                sim_engine_timer_arm(e, s->timer[p->timer], p->at, (uint16_t)s->kind, 0, p->arg),
                0);
        else if (p->op == OP_CANCEL)
            sim_engine_timer_cancel(e, s->timer[p->timer]);
        else if (p->op == OP_SCHEDULE)
            assert_int_equal(sim_engine_schedule(e, p->at, (uint16_t)s->kind, 0, p->arg), 0);
        else
            sim_engine_stop(e);
    }
}

static const struct {
    const char *name;
    struct step setup[2]; /* queued before the run, after the first event (arg 1 at 1) */
    struct step first[STEPS_MAX];
    int64_t until; /* first run; the second runs to the end */
    size_t n;
    uint64_t want_arg[4];
    int64_t want_at[4];
    uint64_t want_inline;
} continue_cases[] = {
    {"nothing queued: the armed timer runs inline, at its own time",
     {{OP_END, 0, 0, 0}},
     {{OP_ARM, 0, 30, 2}},
     SIM_TIME_MAX,
     2,
     {1, 2},
     {1, 30},
     1},
    {"an earlier queued event runs first; the timer then comes from the queue",
     {{OP_SCHEDULE, 0, 20, 9}},
     {{OP_ARM, 0, 30, 2}},
     SIM_TIME_MAX,
     3,
     {1, 9, 2},
     {1, 20, 30},
     0},
    {"an equal time queued before the arming runs first",
     {{OP_SCHEDULE, 0, 30, 9}},
     {{OP_ARM, 0, 30, 2}},
     SIM_TIME_MAX,
     3,
     {1, 9, 2},
     {1, 30, 30},
     0},
    {"an equal time scheduled after the arming runs after it",
     {{OP_END, 0, 0, 0}},
     {{OP_ARM, 0, 30, 2}, {OP_SCHEDULE, 0, 30, 9}},
     SIM_TIME_MAX,
     3,
     {1, 2, 9},
     {1, 30, 30},
     1},
    {"zero delay: runs at now, inline",
     {{OP_SCHEDULE, 0, 2, 9}},
     {{OP_ARM, 0, 1, 2}},
     SIM_TIME_MAX,
     3,
     {1, 2, 9},
     {1, 1, 2},
     1},
    {"two armings: the earliest continues, then the other, each at its own time",
     {{OP_END, 0, 0, 0}},
     {{OP_ARM, 0, 40, 3}, {OP_ARM, 1, 30, 2}},
     SIM_TIME_MAX,
     3,
     {1, 2, 3},
     {1, 30, 40},
     2},
    {"a cancelled timer's entry ahead of it does not hold it back",
     {{OP_ARM, 2, 20, 8}},
     {{OP_CANCEL, 2, 0, 0}, {OP_ARM, 0, 30, 2}},
     SIM_TIME_MAX,
     2,
     {1, 2},
     {1, 30},
     1},
    {"a timer re-armed before it fires runs once, at the new time",
     {{OP_END, 0, 0, 0}},
     {{OP_ARM, 0, 30, 2}, {OP_ARM, 0, 25, 3}},
     SIM_TIME_MAX,
     2,
     {1, 3},
     {1, 25},
     1},
    {"past the run's limit it waits for the next run",
     {{OP_END, 0, 0, 0}},
     {{OP_ARM, 0, 30, 2}},
     29,
     2,
     {1, 2},
     {1, 30},
     0},
    {"a stop request ends the run before it",
     {{OP_END, 0, 0, 0}},
     {{OP_ARM, 0, 30, 2}, {OP_STOP, 0, 0, 0}},
     SIM_TIME_MAX,
     2,
     {1, 2},
     {1, 30},
     0},
};

static void test_continuation_runs_inline_only_when_next(void **state)
{
    (void)state;
    for (size_t c = 0; c < ARRAY_LEN(continue_cases); c++) {
        print_message("case: %s\n", continue_cases[c].name);
        struct script s = {0};
        memcpy(s.first, continue_cases[c].first, sizeof(s.first));
        struct sim_engine *e = sim_engine_new(0);
        assert_non_null(e);
        s.kind = sim_engine_kind_add(e, scripted, &s, "scripted");
        for (int i = 0; i < 3; i++)
            assert_int_equal(sim_engine_timer_new(e, &s.timer[i]), 0);
        assert_int_equal(sim_engine_schedule(e, 1, (uint16_t)s.kind, 0, 1), 0);
        for (size_t i = 0; i < 2; i++) {
            const struct step *p = &continue_cases[c].setup[i];
            if (p->op == OP_SCHEDULE)
                assert_int_equal(sim_engine_schedule(e, p->at, (uint16_t)s.kind, 0, p->arg), 0);
            else if (p->op == OP_ARM)
                assert_int_equal(
                    sim_engine_timer_arm(e, s.timer[p->timer], p->at, (uint16_t)s.kind, 0, p->arg),
                    0);
            else
                break;
        }
        enum sim_stop why;
        assert_int_equal(sim_engine_run(e, continue_cases[c].until, &why), 0);
        if (continue_cases[c].until != SIM_TIME_MAX) {
            assert_int_equal(why, SIM_STOP_LIMIT);
            assert_int_equal(s.n, 1);
            assert_int_equal(sim_engine_now(e), continue_cases[c].until);
        }
        run_expect(e, SIM_TIME_MAX, SIM_STOP_EMPTY);
        assert_int_equal(s.n, continue_cases[c].n);
        for (size_t i = 0; i < s.n; i++) {
            assert_int_equal(s.arg[i], continue_cases[c].want_arg[i]);
            assert_int_equal(s.at[i], continue_cases[c].want_at[i]);
        }
        assert_int_equal(sim_engine_events_inline(e), continue_cases[c].want_inline);
        assert_int_equal(sim_engine_events_run(e) + sim_engine_events_inline(e), s.n);
        sim_engine_free(e);
    }
}

/* ---- the same: a random workload (handlers arm, re-arm and cancel timers at zero and
 * small delays, with many equal times, and schedule plain events) against a reference
 * that keeps every pending event in a list and runs the smallest (time, insertion order)
 * first; run in slices, so continuations meet the run's limit too ---- */
#define W_TIMERS  8
#define W_PENDING 1024
#define W_CALLS   20000
struct wl_pending {
    int64_t at;
    uint64_t seq, arg;
    int timer; /* -1: plain */
};
struct workload {
    /* the engine side */
    struct sim_engine *e;
    int kind;
    uint32_t timer[W_TIMERS];
    int64_t until;
    /* the reference */
    struct wl_pending ref[W_PENDING];
    size_t n_ref;
    uint64_t ref_seq;
    /* shared */
    uint64_t next_arg;
    size_t n;
    int64_t *at;
    uint64_t *arg;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* The actions a call makes depend only on its (at, arg), so the engine and the reference
 * make the same ones when they call in the same order. arg % 8 is a chain: chains 0-3 each
 * go on through a successor (on their own timer, a continuation, or a plain event); any
 * call may also arm, re-arm or cancel one of the shared timers 4-7 or schedule a plain
 * event of chain 4-7. ref: apply to the reference. */
static void wl_ref_remove_timer(struct workload *w, int timer)
{
    for (size_t i = 0; i < w->n_ref; i++)
        if (w->ref[i].timer == timer) {
            w->ref[i] = w->ref[--w->n_ref];
            return;
        }
}

static void wl_add(struct workload *w, bool ref, int timer, int64_t at, uint64_t arg)
{
    if (!ref) {
        if (timer < 0)
            assert_int_equal(sim_engine_schedule(w->e, at, (uint16_t)w->kind, 0, arg), 0);
        else
            assert_int_equal(
                sim_engine_timer_arm(w->e, w->timer[timer], at, (uint16_t)w->kind, 0, arg), 0);
        return;
    }
    if (timer >= 0)
        wl_ref_remove_timer(w, timer);
    assert_true(w->n_ref < W_PENDING);
    w->ref[w->n_ref++] = (struct wl_pending){at, w->ref_seq++, arg, timer};
}

static void wl_act(struct workload *w, int64_t at, uint64_t arg, bool ref)
{
    static const int64_t delays[] = {0, 0, 1, 2, 3, 7, 50};
    uint64_t h = mix(arg * 0x9e3779b97f4a7c15ULL + (uint64_t)at);
    int chain = (int)(arg % 8u);
    bool more = w->next_arg < W_CALLS;
    int64_t t = at + delays[(h >> 16) % ARRAY_LEN(delays)];
    if (chain < 4 && more)
        wl_add(w, ref, (h & 1u) ? chain : -1, t, ++w->next_arg * 8u + (uint64_t)chain);
    h = mix(h);
    if (h % 3u != 0)
        return;
    int shared = 4 + (int)((h >> 8) % 4u);
    t = at + delays[(h >> 16) % ARRAY_LEN(delays)];
    switch ((h >> 24) % 4u) {
    case 0:
    case 1:
        if (more)
            wl_add(w, ref, shared, t, ++w->next_arg * 8u + (uint64_t)shared);
        break;
    case 2:
        if (ref)
            wl_ref_remove_timer(w, shared);
        else
            sim_engine_timer_cancel(w->e, w->timer[shared]);
        break;
    default:
        if (more)
            wl_add(w, ref, -1, t, ++w->next_arg * 8u + (uint64_t)shared);
        break;
    }
}

static void wl_handler(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    struct workload *w = ctx;
    assert_true(ev->at <= w->until); /* a continuation never crosses the limit */
    assert_int_equal(sim_engine_now(e), ev->at);
    assert_true(w->n < 4 * W_CALLS);
    w->at[w->n] = ev->at;
    w->arg[w->n] = ev->arg;
    w->n++;
    wl_act(w, ev->at, ev->arg, false);
}

static void test_continuations_keep_the_reference_order(void **state)
{
    (void)state;
    struct workload w = {0};
    w.at = test_malloc(4 * W_CALLS * sizeof(*w.at));
    w.arg = test_malloc(4 * W_CALLS * sizeof(*w.arg));
    w.e = sim_engine_new(0);
    assert_non_null(w.e);
    w.kind = sim_engine_kind_add(w.e, wl_handler, &w, "workload");
    for (int i = 0; i < W_TIMERS; i++)
        assert_int_equal(sim_engine_timer_new(w.e, &w.timer[i]), 0);
    /* both start from the same four plain events */
    for (uint64_t i = 0; i < 4; i++) {
        uint64_t id = ++w.next_arg * 8u + i;
        assert_int_equal(sim_engine_schedule(w.e, (int64_t)i, (uint16_t)w.kind, 0, id), 0);
        w.ref[w.n_ref++] = (struct wl_pending){(int64_t)i, w.ref_seq++, id, -1};
    }
    uint64_t engine_next_arg = w.next_arg;
    /* the engine, in slices of 997 ns */
    enum sim_stop why = SIM_STOP_LIMIT;
    for (w.until = 997; why != SIM_STOP_EMPTY; w.until += 997)
        assert_int_equal(sim_engine_run(w.e, w.until, &why), 0);
    size_t n_engine = w.n;
    /* the reference, replaying the same actions */
    w.next_arg = engine_next_arg;
    for (size_t k = 0; w.n_ref > 0; k++) {
        size_t best = 0;
        for (size_t i = 1; i < w.n_ref; i++)
            if (w.ref[i].at < w.ref[best].at ||
                (w.ref[i].at == w.ref[best].at && w.ref[i].seq < w.ref[best].seq))
                best = i;
        struct wl_pending p = w.ref[best];
        w.ref[best] = w.ref[--w.n_ref];
        assert_true(k < n_engine);
        assert_int_equal(w.at[k], p.at);
        assert_int_equal(w.arg[k], p.arg);
        wl_act(&w, p.at, p.arg, true);
        if (w.n_ref == 0)
            assert_int_equal(k + 1, n_engine);
    }
    print_message("%zu calls, %llu inline\n", n_engine,
                  (unsigned long long)sim_engine_events_inline(w.e));
    assert_true(n_engine > W_CALLS / 2);
    /* the workload is one that continuations shorten, and every call is counted once */
    assert_true(sim_engine_events_inline(w.e) > n_engine / 10);
    assert_int_equal(sim_engine_events_run(w.e) + sim_engine_events_inline(w.e), n_engine);
    sim_engine_free(w.e);
    test_free(w.at);
    test_free(w.arg);
}

/* ---- blocks (sim_engine_join): own clock, queue, timers and stop; main's kinds, counts,
 * progress and interrupt ---- */
static void test_blocks_share_kinds_counts_progress_and_interrupt(void **state)
{
    (void)state;
    struct log l = {0};
    struct progress_log p = {0};
    struct sim_engine *m = engine_with_log(&l);
    struct sim_engine *b1 = sim_engine_new(0), *b2 = sim_engine_new(0), *x = sim_engine_new(0);
    assert_non_null(b1);
    assert_non_null(b2);
    assert_non_null(x);
    assert_int_equal(sim_engine_join(b1, m), 0);
    assert_int_equal(sim_engine_join(b2, m), 0);
    /* refused: itself, a block as main, joined twice, an engine with kinds of its own */
    assert_int_equal(sim_engine_join(m, m), SIM_EINVAL);
    assert_int_equal(sim_engine_join(x, b1), SIM_EINVAL);
    assert_int_equal(sim_engine_join(b1, m), SIM_EINVAL);
    assert_int_equal(sim_engine_kind_add(x, ignore, NULL, "own"), 0);
    assert_int_equal(sim_engine_join(x, m), SIM_EINVAL);
    sim_engine_free(x);
    /* main's kinds are the blocks': kind 0 works on b1; a kind added on b2 is main's next
     * one and works on b1 and on main */
    assert_int_equal(sim_engine_schedule(b1, 10, 0, 1, 0), 0);
    assert_int_equal(sim_engine_schedule(b1, 1, 1, 1, 0), SIM_EINVAL);
    assert_int_equal(sim_engine_kind_add(b2, record, &l, "record-too"), 1);
    assert_int_equal(sim_engine_schedule(b1, 30, 1, 3, 0), 0);
    assert_int_equal(sim_engine_schedule(m, 5, 1, 9, 0), 0);
    uint32_t t;
    assert_int_equal(sim_engine_timer_new(b2, &t), 0);
    assert_int_equal(sim_engine_timer_arm(b2, t, 20, 0, 2, 0), 0);
    /* own clocks and queues: b1 up to 15 runs its event at 10 only */
    sim_engine_set_progress(b1, on_progress, &p, 2); /* main's callback */
    run_expect(b1, 15, SIM_STOP_LIMIT);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.target[0], 1);
    assert_int_equal(l.now[0], 10); /* the handler got b1, at b1's time */
    assert_int_equal(sim_engine_now(b1), 15);
    assert_int_equal(sim_engine_now(b2), 0);
    assert_int_equal(sim_engine_now(m), 0);
    assert_int_equal(sim_engine_next_at(b2), 20);
    assert_int_equal(sim_engine_next_at(m), 5);
    /* counts are main's, whichever engine reports them; progress every 2 calls of all */
    assert_int_equal(sim_engine_events_handled(m), 1);
    assert_int_equal(sim_engine_events_handled(b1), 1);
    assert_int_equal(p.n, 0);
    run_expect(b2, SIM_TIME_MAX, SIM_STOP_EMPTY);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.target[1], 2);
    assert_int_equal(sim_engine_events_handled(m), 2);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.at_run[0], 2);
    /* a stop request is the block's own; the interrupt flag is main's */
    sim_engine_stop(b1);
    run_expect(m, SIM_TIME_MAX, SIM_STOP_EMPTY);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.target[2], 9);
    volatile sig_atomic_t flag = 0;
    sim_engine_set_interrupt(b2, &flag);
    run_expect(b1, SIM_TIME_MAX, SIM_STOP_REQUESTED);
    flag = 1;
    run_expect(b1, SIM_TIME_MAX, SIM_STOP_INTERRUPTED);
    assert_int_equal(l.n, 3);
    flag = 0;
    run_expect(b1, SIM_TIME_MAX, SIM_STOP_EMPTY);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.target[3], 3);
    assert_int_equal(sim_engine_events_handled(m), 4);
    sim_engine_free(b1);
    sim_engine_free(b2);
    sim_engine_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_run_by_time_then_fifo),
        cmocka_unit_test(test_handler_scheduled_event_keeps_fifo),
        cmocka_unit_test(test_timer_cancel_and_rearm),
        cmocka_unit_test(test_timer_restarted_1e5_times_fires_once),
        cmocka_unit_test(test_deferred_rearm_keeps_its_place_among_equal_times),
        cmocka_unit_test(test_renumber_keeps_deferred_armings_in_order),
        cmocka_unit_test(test_handler_rearms_its_timer),
        cmocka_unit_test(test_run_stops_at_limit_and_resumes),
        cmocka_unit_test(test_stop_request_returns_after_current_event),
        cmocka_unit_test(test_interrupt_flag_stops_between_events),
        cmocka_unit_test(test_bad_arguments_are_rejected),
        cmocka_unit_test(test_progress_callback_cadence),
        cmocka_unit_test(test_progress_cadence_spans_runs),
        cmocka_unit_test(test_new_sizes_and_free_accepts_null),
        cmocka_unit_test(test_continuation_runs_inline_only_when_next),
        cmocka_unit_test(test_continuations_keep_the_reference_order),
        cmocka_unit_test(test_blocks_share_kinds_counts_progress_and_interrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
