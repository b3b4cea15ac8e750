/* tests/test_fleet_gateway.c - one gateway or phone (models/fleet/gateway.h), driven by a
 * fake world that records connects, leaves, timers and session records and plays the
 * engine's timer; and the assignment of devices to gateways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "models/fleet/gateway.h"
#include "sim/error.h"
#include "sim/rng.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SEC          1000000000LL
#define MIN          (60 * SEC)
#define HOUR         (60 * MIN)
#define DAY          (24 * HOUR)
#define MAX_LOG      4096
#define MAX_GW       2
#define MAX_DEV      64

/* ---- fake world ------------------------------------------------------------------------ */

enum where { NOWHERE, QUEUED, ACTIVE };

struct call {
    uint32_t gw, dev;
    int64_t at;
};

struct fake {
    struct fleet_gateway g[MAX_GW];
    struct fleet_gateway_ctx cx;
    /* timers, per gateway */
    int64_t timer_at[MAX_GW];
    uint32_t gen[MAX_GW];
    bool armed[MAX_GW];
    /* logs */
    struct call connects[MAX_LOG], leaves[MAX_LOG];
    size_t n_connects, n_leaves;
    struct fleet_gateway_session *sessions; /* MAX_SESS */
    size_t n_sessions, max_sessions;
    size_t n_unexpected;
    /* the driver's mirror of where each device is (gateway 0 only) */
    uint8_t where[MAX_DEV];
    bool mirror;
};

static void f_connect(void *env, uint32_t gw, uint32_t dev, int64_t now)
{
    struct fake *f = env;
    /* the limit holds at this instant too, inside the step */
    assert_true(f->g[gw].n_active <= f->g[gw].cfg.links);
    assert_int_equal(fleet_gateway_state_get(&f->g[gw]), FLEET_GATEWAY_ST_PRESENT);
    if (f->n_connects < MAX_LOG)
        f->connects[f->n_connects] = (struct call){gw, dev, now};
    f->n_connects++;
    if (f->mirror) {
        assert_int_equal(f->where[dev], QUEUED); /* only a waiting device connects */
        f->where[dev] = ACTIVE;
    }
}

static void f_leave(void *env, uint32_t gw, uint32_t dev, int64_t now)
{
    struct fake *f = env;
    if (f->n_leaves < MAX_LOG)
        f->leaves[f->n_leaves] = (struct call){gw, dev, now};
    f->n_leaves++;
    if (f->mirror) {
        assert_int_equal(f->where[dev], ACTIVE);
        f->where[dev] = QUEUED;
    }
}

static uint32_t f_arm(void *env, uint32_t gw, int64_t at)
{
    struct fake *f = env;
    f->timer_at[gw] = at;
    f->armed[gw] = true;
    return ++f->gen[gw];
}

static void f_session(void *env, const struct fleet_gateway_session *s)
{
    struct fake *f = env;
    if (f->n_sessions < f->max_sessions)
        f->sessions[f->n_sessions] = *s;
    f->n_sessions++;
}

static void f_unexpected(void *env, uint32_t gw, int state, int input, int64_t now)
{
    (void)gw, (void)state, (void)input, (void)now;
    ((struct fake *)env)->n_unexpected++;
}

static struct fake *fake_new(size_t max_sessions)
{
    struct fake *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->sessions = calloc(max_sessions ? max_sessions : 1, sizeof(*f->sessions));
    assert_non_null(f->sessions);
    f->max_sessions = max_sessions;
    f->cx = (struct fleet_gateway_ctx){.env = f,
                                       .connect = f_connect,
                                       .leave = f_leave,
                                       .timer_arm = f_arm,
                                       .emit_session = f_session,
                                       .unexpected = f_unexpected};
    return f;
}

static void fake_free(struct fake *f, int n_gw)
{
    for (int i = 0; i < n_gw; i++)
        fleet_gateway_fini(&f->g[i]);
    free(f->sessions);
    free(f);
}

static void gw_init(struct fake *f, uint32_t i, const struct fleet_gateway_cfg *cfg, uint64_t seed,
                    uint64_t entity)
{
    assert_int_equal(fleet_gateway_init(&f->g[i], cfg, i, seed, entity, &f->cx, NULL), 0);
}

static void step(struct fake *f, uint32_t i, enum fleet_gateway_input in, uint32_t x, int64_t now)
{
    assert_int_equal(
        fleet_gateway_step(&f->g[i], in, in == FLEET_GATEWAY_IN_START ? NULL : &x, now), 0);
}

/* Fire gateway i's armed timer; returns its time. */
static int64_t fire(struct fake *f, uint32_t i)
{
    assert_true(f->armed[i]);
    f->armed[i] = false;
    int64_t at = f->timer_at[i];
    step(f, i, FLEET_GATEWAY_IN_TIMER, f->gen[i], at);
    return at;
}

static struct fleet_gateway_cfg cfg_always(uint32_t links)
{
    return (struct fleet_gateway_cfg){.links = links, .availability = FLEET_GATEWAY_ALWAYS};
}

static struct fleet_population_dist dist_fixed(double v)
{
    struct fleet_population_dist d;
    memset(&d, 0, sizeof(d));
    d.kind = FLEET_POPULATION_FIXED;
    d.value = v;
    return d;
}

static struct fleet_population_dist dist_exp(double mean)
{
    struct fleet_population_dist d;
    memset(&d, 0, sizeof(d));
    d.kind = FLEET_POPULATION_EXPONENTIAL;
    d.mean = mean;
    return d;
}

static struct fleet_gateway_cfg cfg_sessions(uint32_t links, int64_t arrival_mean,
                                             const struct fleet_population_dist *dwell)
{
    return (struct fleet_gateway_cfg){.links = links,
                                      .availability = FLEET_GATEWAY_SESSIONS,
                                      .arrival_mean = arrival_mean,
                                      .dwell = dwell};
}

/* ---- the acceptance test: link limits hold at every instant --------------------------- */

/* Check what must hold after every step, and that the gateway and the mirror agree. */
static void check_instant(const struct fake *f, const struct fleet_gateway *g, uint32_t n_dev)
{
    const struct fleet_gateway_stats *st = fleet_gateway_stats_get(g);
    assert_true(st->active <= g->cfg.links);
    assert_true(st->max_active <= g->cfg.links);
    if (fleet_gateway_state_get(g) != FLEET_GATEWAY_ST_PRESENT)
        assert_int_equal(st->active, 0);
    else if (st->queued > 0)
        assert_int_equal(st->active, g->cfg.links); /* no idle link while a device waits */
    uint32_t n[3] = {0};
    for (uint32_t d = 0; d < n_dev; d++)
        n[f->where[d]]++;
    assert_int_equal(n[ACTIVE], st->active);
    assert_int_equal(n[QUEUED], st->queued);
    for (uint32_t k = 0; k < st->active; k++)
        assert_int_equal(f->where[fleet_gateway_active_at(g, k)], ACTIVE);
    for (uint32_t k = 0; k < st->queued; k++)
        assert_int_equal(f->where[fleet_gateway_queued_at(g, k)], QUEUED);
}

/* A randomised world: REQUEST, DONE, CANCEL (of devices in any place, so duplicates, late
 * results and late cancels occur), timers on time and stale ones, over thousands of
 * steps, for links 1 to 20, always-on and phone. */
static void test_link_limit_holds_at_every_instant(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t links;
        bool sessions;
    } c[] = {
        {"one link, always on", 1, false},  {"3 links, always on", 3, false},
        {"20 links, always on", 20, false}, {"one link, phone", 1, true},
        {"4 links, phone", 4, true},        {"20 links, phone", 20, true},
    };
    const uint32_t n_dev = 48;
    struct fleet_population_dist dwell = dist_exp(20 * MIN);
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct fake *f = fake_new(0);
        f->mirror = true;
        struct fleet_gateway_cfg cfg =
            c[i].sessions ? cfg_sessions(c[i].links, 30 * MIN, &dwell) : cfg_always(c[i].links);
        gw_init(f, 0, &cfg, 5, 77);
        struct fleet_gateway *g = &f->g[0];
        struct sim_rng r;
        sim_rng_init(&r, 11, i, SIM_RNG_TEST);
        int64_t now = 0;
        uint64_t expect_late = 0, expect_dup = 0, expect_stale = 0;
        step(f, 0, FLEET_GATEWAY_IN_START, 0, now);
        for (int s = 0; s < 20000; s++) {
            now += (int64_t)(sim_rng_u64(&r) % (3 * MIN));
            if (f->armed[0] && f->timer_at[0] <= now) {
                now = fire(f, 0);
                check_instant(f, g, n_dev);
                continue;
            }
            uint32_t d = (uint32_t)(sim_rng_u64(&r) % n_dev);
            unsigned op = (unsigned)(sim_rng_u64(&r) % 10);
            if (op < 4) {
                expect_dup += f->where[d] != NOWHERE;
                if (f->where[d] == NOWHERE)
                    f->where[d] = QUEUED; /* connect() may move it on at once */
                step(f, 0, FLEET_GATEWAY_IN_REQUEST, d, now);
            } else if (op < 8) {
                expect_late += f->where[d] != ACTIVE;
                if (f->where[d] == ACTIVE)
                    f->where[d] = NOWHERE;
                step(f, 0, FLEET_GATEWAY_IN_DONE, d, now);
            } else if (op < 9) {
                expect_late += f->where[d] == NOWHERE;
                f->where[d] = NOWHERE;
                step(f, 0, FLEET_GATEWAY_IN_CANCEL, d, now);
            } else {
                expect_stale++;
                step(f, 0, FLEET_GATEWAY_IN_TIMER, f->gen[0] - 1, now); /* an old arming */
            }
            check_instant(f, g, n_dev);
        }
        const struct fleet_gateway_stats *st = fleet_gateway_stats_get(g);
        if (st->n_late != expect_late || st->n_unexpected != expect_dup ||
            st->n_stale != expect_stale)
            fail_msg("%s: late %llu/%llu dup %llu/%llu stale %llu/%llu", c[i].name,
                     (unsigned long long)st->n_late, (unsigned long long)expect_late,
                     (unsigned long long)st->n_unexpected, (unsigned long long)expect_dup,
                     (unsigned long long)st->n_stale, (unsigned long long)expect_stale);
        assert_int_equal(f->n_unexpected, expect_dup);
        /* the driver did keep the gateway busy: every link was used at some instant */
        if (st->max_active != c[i].links)
            fail_msg("%s: max_active %u, links %u", c[i].name, st->max_active, c[i].links);
        assert_int_equal(st->connects, f->n_connects);
        assert_int_equal(st->leaves, f->n_leaves);
        if (c[i].sessions)
            assert_true(st->sessions > 100 && st->leaves > 0);
        else
            assert_true(st->sessions == 1 && st->leaves == 0);
        fake_free(f, 1);
    }
}

/* ---- FIFO --------------------------------------------------------------------------------- */

/* Devices are served in request order; a freed link takes the queue front; a cancelled
 * queued device is skipped; a request while a link is free connects at once. */
static void test_devices_are_served_first_come_first_served(void **state)
{
    (void)state;
    struct fake *f = fake_new(0);
    struct fleet_gateway_cfg cfg = cfg_always(2);
    gw_init(f, 0, &cfg, 1, 1);
    for (uint32_t d = 0; d < 6; d++)
        step(f, 0, FLEET_GATEWAY_IN_REQUEST, 10 + d, 0); /* IDLE: all wait */
    assert_int_equal(f->n_connects, 0);
    assert_int_equal(fleet_gateway_stats_get(&f->g[0])->queued, 6);
    step(f, 0, FLEET_GATEWAY_IN_START, 0, 1 * SEC);
    step(f, 0, FLEET_GATEWAY_IN_DONE, 11, 2 * SEC);
    step(f, 0, FLEET_GATEWAY_IN_DONE, 10, 3 * SEC);
    step(f, 0, FLEET_GATEWAY_IN_CANCEL, 14, 4 * SEC); /* queued: dropped, no connect */
    step(f, 0, FLEET_GATEWAY_IN_CANCEL, 13, 5 * SEC); /* active: its link frees for 15 */
    step(f, 0, FLEET_GATEWAY_IN_DONE, 12, 6 * SEC);
    step(f, 0, FLEET_GATEWAY_IN_REQUEST, 20, 7 * SEC); /* a link is free: at once */
    static const struct call want[] = {{0, 10, 1 * SEC}, {0, 11, 1 * SEC}, {0, 12, 2 * SEC},
                                       {0, 13, 3 * SEC}, {0, 15, 5 * SEC}, {0, 20, 7 * SEC}};
    assert_int_equal(f->n_connects, ARRAY_LEN(want));
    for (size_t k = 0; k < ARRAY_LEN(want); k++) {
        assert_int_equal(f->connects[k].dev, want[k].dev);
        assert_int_equal(f->connects[k].at, want[k].at);
    }
    const struct fleet_gateway_stats *st = fleet_gateway_stats_get(&f->g[0]);
    assert_int_equal(st->served, 3);
    assert_int_equal(st->cancels, 2);
    assert_int_equal(st->active, 2);
    assert_int_equal(st->queued, 0);
    assert_false(f->armed[0]); /* always on: no timer */
    fake_free(f, 1);
}

/* ---- sessions ------------------------------------------------------------------------------ */

/* At a departure exactly the active devices get leave(), in connect order, and are served
 * first in the next session, before devices that were already waiting. Nothing connects
 * while the phone is away. */
static void test_departure_leaves_the_active_devices_and_requeues_them_in_front(void **state)
{
    (void)state;
    struct fake *f = fake_new(16);
    struct fleet_population_dist dwell = dist_fixed((double)(10 * MIN));
    struct fleet_gateway_cfg cfg = cfg_sessions(2, HOUR, &dwell);
    gw_init(f, 0, &cfg, 3, 9);
    step(f, 0, FLEET_GATEWAY_IN_START, 0, 0);
    assert_int_equal(fleet_gateway_state_get(&f->g[0]), FLEET_GATEWAY_ST_ABSENT);
    for (uint32_t d = 0; d < 5; d++)
        step(f, 0, FLEET_GATEWAY_IN_REQUEST, d, 1 * SEC);
    assert_int_equal(f->n_connects, 0); /* absent: all wait */
    int64_t t1 = fire(f, 0);            /* arrival */
    assert_int_equal(fleet_gateway_state_get(&f->g[0]), FLEET_GATEWAY_ST_PRESENT);
    assert_int_equal(f->timer_at[0], t1 + 10 * MIN); /* departure after the dwell */
    step(f, 0, FLEET_GATEWAY_IN_DONE, 0, t1 + MIN);  /* 0 served; 2 connects */
    int64_t t2 = fire(f, 0);                         /* departure */
    assert_int_equal(t2, t1 + 10 * MIN);
    assert_int_equal(fleet_gateway_state_get(&f->g[0]), FLEET_GATEWAY_ST_ABSENT);
    assert_int_equal(f->n_leaves, 2);
    assert_int_equal(f->leaves[0].dev, 1);
    assert_int_equal(f->leaves[1].dev, 2);
    assert_int_equal(f->leaves[0].at, t2);
    static const uint32_t want_q[] = {1, 2, 3, 4};
    assert_int_equal(fleet_gateway_stats_get(&f->g[0])->queued, 4);
    for (uint32_t k = 0; k < 4; k++)
        assert_int_equal(fleet_gateway_queued_at(&f->g[0], k), want_q[k]);
    assert_int_equal(f->n_sessions, 1);
    const struct fleet_gateway_session *s = &f->sessions[0];
    assert_int_equal(s->index, 0);
    assert_int_equal(s->start_ns, t1);
    assert_int_equal(s->end_ns, t2);
    assert_int_equal(s->connected, 3);
    assert_int_equal(s->served, 1);
    assert_int_equal(s->left, 2);
    step(f, 0, FLEET_GATEWAY_IN_DONE, 1, t2 + SEC); /* the client stopped: late */
    assert_int_equal(fleet_gateway_stats_get(&f->g[0])->n_late, 1);
    int64_t t3 = fire(f, 0); /* next arrival: 1 and 2 again, first */
    assert_true(t3 >= t2);
    assert_int_equal(f->n_connects, 5);
    assert_int_equal(f->connects[3].dev, 1);
    assert_int_equal(f->connects[4].dev, 2);
    assert_int_equal(fleet_gateway_stats_get(&f->g[0])->sessions, 2);
    fake_free(f, 1);
}

/* Run gateway 0 (phone) for `horizon`; sessions land in f->sessions. */
/* One device that never finishes keeps the phone coming back (a phone nobody waits for is
 * dormant). */
static void run_phone(struct fake *f, int64_t horizon)
{
    step(f, 0, FLEET_GATEWAY_IN_START, 0, 0);
    step(f, 0, FLEET_GATEWAY_IN_REQUEST, 9, 0);
    while (f->armed[0] && f->timer_at[0] <= horizon)
        fire(f, 0);
}

/* EVIDENCE-OF: the issue: "meet devices in sessions with Poisson arrivals and a dwell
 * time". Gaps are Exp(A) and sessions last D, so sessions form a renewal process with
 * cycle mean mu = A + D and variance A^2: over T the count has mean T / mu and variance
 * T A^2 / mu^3 (renewal CLT); the gaps' sample mean is A +- A / sqrt(n). Fixed seed, 4
 * standard deviations (a false failure about once in 16,000 seeds). */
static void test_sessions_match_the_poisson_rate(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int64_t arrival, dwell;
        bool exp_dwell;
    } c[] = {
        {"30 min gaps, 10 min fixed dwell", 30 * MIN, 10 * MIN, false},
        {"2 h gaps, 5 min fixed dwell", 2 * HOUR, 5 * MIN, false},
        {"30 min gaps, exponential 10 min dwell", 30 * MIN, 10 * MIN, true},
    };
    const int64_t horizon = 1000 * DAY;
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct fake *f = fake_new(100000);
        struct fleet_population_dist dwell =
            c[i].exp_dwell ? dist_exp((double)c[i].dwell) : dist_fixed((double)c[i].dwell);
        struct fleet_gateway_cfg cfg = cfg_sessions(1, c[i].arrival, &dwell);
        gw_init(f, 0, &cfg, 42, 1234);
        run_phone(f, horizon);
        double a = (double)c[i].arrival, d = (double)c[i].dwell, mu = a + d;
        double var_d = c[i].exp_dwell ? d * d : 0.0;
        double mean_n = (double)horizon / mu;
        double sd_n = sqrt((double)horizon * (a * a + var_d) / (mu * mu * mu));
        uint32_t n = fleet_gateway_stats_get(&f->g[0])->sessions;
        if (fabs((double)n - mean_n) > 4 * sd_n)
            fail_msg("%s: %u sessions, want %.0f +- %.0f", c[i].name, n, mean_n, 4 * sd_n);
        assert_true(f->n_sessions <= f->max_sessions && f->n_sessions + 1 >= n);
        double gaps = 0, dwells = 0;
        int64_t prev_end = 0;
        for (size_t k = 0; k < f->n_sessions; k++) {
            const struct fleet_gateway_session *s = &f->sessions[k];
            assert_true(s->start_ns >= prev_end && s->end_ns >= s->start_ns);
            assert_int_equal(s->index, k);
            gaps += (double)(s->start_ns - prev_end);
            dwells += (double)(s->end_ns - s->start_ns);
            if (!c[i].exp_dwell)
                assert_int_equal(s->end_ns - s->start_ns, c[i].dwell);
            prev_end = s->end_ns;
        }
        double m = (double)f->n_sessions;
        if (fabs(gaps / m - a) > 4 * a / sqrt(m))
            fail_msg("%s: mean gap %.0f s, want %.0f s", c[i].name, gaps / m / SEC, a / SEC);
        if (c[i].exp_dwell && fabs(dwells / m - d) > 4 * d / sqrt(m))
            fail_msg("%s: mean dwell %.0f s, want %.0f s", c[i].name, dwells / m / SEC, d / SEC);
        fake_free(f, 1);
    }
}

/* A phone with nobody waiting arms no arrival (the run can end); a request wakes it, and
 * once its queue is empty again it goes dormant after the departure. */
static void test_a_phone_nobody_waits_for_is_dormant(void **state)
{
    (void)state;
    struct fake *f = fake_new(16);
    struct fleet_population_dist dwell = dist_fixed(10 * MIN);
    struct fleet_gateway_cfg cfg = cfg_sessions(1, 30 * MIN, &dwell);
    gw_init(f, 0, &cfg, 7, 100);
    step(f, 0, FLEET_GATEWAY_IN_START, 0, 0);
    assert_false(f->armed[0]);
    step(f, 0, FLEET_GATEWAY_IN_REQUEST, 5, HOUR);
    assert_true(f->armed[0]);
    assert_true(f->timer_at[0] >= HOUR);
    int64_t arrival = fire(f, 0);
    assert_int_equal(fleet_gateway_state_get(&f->g[0]), FLEET_GATEWAY_ST_PRESENT);
    assert_int_equal(fleet_gateway_active_at(&f->g[0], 0), 5);
    step(f, 0, FLEET_GATEWAY_IN_DONE, 5, arrival + MIN);
    assert_int_equal(fire(f, 0), arrival + 10 * MIN); /* the departure */
    assert_false(f->armed[0]);
    fake_free(f, 1);
}

/* ---- determinism --------------------------------------------------------------------------- */

#define DET_N 200

/* Field by field: a record's padding bytes are unspecified. */
static bool same_session(const struct fleet_gateway_session *x,
                         const struct fleet_gateway_session *y)
{
    return x->gateway == y->gateway && x->index == y->index && x->start_ns == y->start_ns &&
           x->end_ns == y->end_ns && x->connected == y->connected && x->served == y->served &&
           x->left == y->left;
}

static void sessions_of(uint64_t seed, uint64_t entity, const struct fleet_population_dist *dw,
                        struct fleet_gateway_session *out)
{
    struct fake *f = fake_new(DET_N);
    struct fleet_gateway_cfg cfg = cfg_sessions(1, 30 * MIN, dw);
    gw_init(f, 0, &cfg, seed, entity);
    step(f, 0, FLEET_GATEWAY_IN_START, 0, 0);
    step(f, 0, FLEET_GATEWAY_IN_REQUEST, 9, 0);
    while (f->n_sessions < DET_N)
        fire(f, 0);
    memcpy(out, f->sessions, DET_N * sizeof(*out));
    fake_free(f, 1);
}

/* CONTRIBUTING.md rule 3: a gateway's sessions are a function of (seed, its entity) only. Same
 * key, same sessions; another key, others; a second gateway running in the same world,
 * its events interleaved in time order, changes nothing; another dwell distribution
 * leaves the gaps (their own stream) alone. */
static void test_sessions_depend_only_on_seed_and_gateway_entity(void **state)
{
    (void)state;
    static struct fleet_gateway_session a[DET_N], b[DET_N], other[DET_N];
    struct fleet_population_dist dwell = dist_exp(10 * MIN);
    sessions_of(7, 100, &dwell, a);
    sessions_of(7, 100, &dwell, b);
    for (size_t k = 0; k < DET_N; k++)
        assert_true(same_session(&a[k], &b[k]));
    sessions_of(7, 101, &dwell, other);
    assert_int_not_equal(a[0].start_ns, other[0].start_ns);
    sessions_of(8, 100, &dwell, other);
    assert_int_not_equal(a[0].start_ns, other[0].start_ns);

    /* two gateways in one world: 0 is entity 100 as before, 1 another phone */
    struct fake *f = fake_new(8 * DET_N); /* gateway 1 has about 3 sessions to 1 */
    struct fleet_gateway_cfg cfg0 = cfg_sessions(1, 30 * MIN, &dwell);
    struct fleet_gateway_cfg cfg1 = cfg_sessions(3, 5 * MIN, &dwell);
    gw_init(f, 0, &cfg0, 7, 100);
    gw_init(f, 1, &cfg1, 7, 555);
    step(f, 1, FLEET_GATEWAY_IN_START, 0, 0);
    step(f, 0, FLEET_GATEWAY_IN_START, 0, 0);
    step(f, 1, FLEET_GATEWAY_IN_REQUEST, 10, 0);
    step(f, 0, FLEET_GATEWAY_IN_REQUEST, 9, 0);
    size_t n0 = 0;
    while (n0 < DET_N) {
        uint32_t i = f->timer_at[1] < f->timer_at[0] ? 1 : 0;
        size_t before = f->n_sessions;
        fire(f, i);
        assert_true(f->n_sessions <= f->max_sessions);
        if (f->n_sessions > before && f->sessions[before].gateway == 0) {
            assert_true(same_session(&f->sessions[before], &a[n0]));
            n0++;
        }
    }
    fake_free(f, 2);

    /* fixed instead of exponential dwell: the gaps stay the same */
    struct fleet_population_dist fixed = dist_fixed(10 * MIN);
    sessions_of(7, 100, &fixed, other);
    int64_t prev_a = 0, prev_o = 0;
    for (size_t k = 0; k < DET_N; k++) {
        assert_int_equal(a[k].start_ns - prev_a, other[k].start_ns - prev_o);
        prev_a = a[k].end_ns;
        prev_o = other[k].end_ns;
    }
}

/* ---- inputs that do not fit ---------------------------------------------------------------- */

static void test_unexpected_late_and_stale_inputs_change_nothing(void **state)
{
    (void)state;
    struct fake *f = fake_new(0);
    struct fleet_gateway_cfg cfg = cfg_always(1);
    gw_init(f, 0, &cfg, 1, 1);
    struct fleet_gateway *g = &f->g[0];
    step(f, 0, FLEET_GATEWAY_IN_TIMER, 0, 0); /* IDLE: nothing armed */
    step(f, 0, FLEET_GATEWAY_IN_START, 0, 0);
    step(f, 0, FLEET_GATEWAY_IN_START, 0, 1); /* twice */
    step(f, 0, FLEET_GATEWAY_IN_REQUEST, 4, 2);
    step(f, 0, FLEET_GATEWAY_IN_REQUEST, 5, 2);
    step(f, 0, FLEET_GATEWAY_IN_REQUEST, 4, 3); /* active already */
    step(f, 0, FLEET_GATEWAY_IN_REQUEST, 5, 3); /* queued already */
    step(f, 0, FLEET_GATEWAY_IN_DONE, 5, 4);    /* queued, not active: late */
    step(f, 0, FLEET_GATEWAY_IN_CANCEL, 9, 4);  /* unknown: late */
    const struct fleet_gateway_stats *st = fleet_gateway_stats_get(g);
    assert_int_equal(st->n_unexpected, 3);
    assert_int_equal(f->n_unexpected, 3);
    assert_int_equal(st->n_late, 2);
    assert_int_equal(st->n_stale, 1);
    assert_int_equal(st->active, 1);
    assert_int_equal(st->queued, 1);
    assert_int_equal(f->n_connects, 1);
    assert_int_equal(fleet_gateway_step(g, FLEET_GATEWAY_IN_DONE, NULL, 5), SIM_EINVAL);
    assert_int_equal(fleet_gateway_step(g, FLEET_GATEWAY_INPUT_COUNT, NULL, 5), SIM_EINVAL);
    assert_int_equal(fleet_gateway_step(NULL, FLEET_GATEWAY_IN_START, NULL, 5), SIM_EINVAL);
    assert_string_equal(fleet_gateway_state_name(fleet_gateway_state_get(g)), "present");
    assert_string_equal(fleet_gateway_state_name(FLEET_GATEWAY_STATE_COUNT), "?");
    fake_free(f, 1);
}

/* ---- configuration ------------------------------------------------------------------------- */

static void test_cfg_validation_names_the_field_and_the_range(void **state)
{
    (void)state;
    struct fleet_population_dist fixed = dist_fixed(5 * MIN), neg = dist_fixed(-1);
    struct fleet_population_dist normal;
    memset(&normal, 0, sizeof(normal));
    normal.kind = FLEET_POPULATION_NORMAL;
    normal.mu = 5 * MIN;
    normal.sigma = MIN;
    struct fleet_population_dist bad_exp = dist_exp(-3);
    static const struct {
        const char *name;
        uint32_t links;
        uint8_t avail;
        int64_t arrival;
        int dwell; /* 0 NULL, 1 fixed, 2 negative, 3 unbounded normal, 4 invalid */
        int want;
        const char *msg;
    } c[] = {
        {"always on, 1 link, no dwell needed", 1, FLEET_GATEWAY_ALWAYS, 0, 0, 0, NULL},
        {"20 links is the S140 limit", 20, FLEET_GATEWAY_ALWAYS, 0, 0, 0, NULL},
        {"phone with fixed dwell", 1, FLEET_GATEWAY_SESSIONS, HOUR, 1, 0, NULL},
        {"no links", 0, FLEET_GATEWAY_ALWAYS, 0, 0, SIM_ERANGE,
         "gateway: links is 0; give 1 to 20"},
        {"21 links", 21, FLEET_GATEWAY_ALWAYS, 0, 0, SIM_ERANGE, "links is 21; give 1 to 20"},
        {"unknown availability", 1, 7, 0, 0, SIM_EINVAL, "availability 7 is unknown"},
        {"no arrival mean", 1, FLEET_GATEWAY_SESSIONS, 0, 1, SIM_ERANGE,
         "arrival_mean is 0 ns; a phone's mean time between sessions must be > 0"},
        {"no dwell", 1, FLEET_GATEWAY_SESSIONS, HOUR, 0, SIM_EINVAL, "gateway: dwell is missing"},
        {"negative dwell", 1, FLEET_GATEWAY_SESSIONS, HOUR, 2, SIM_ERANGE, "dwell can draw -1 ns"},
        {"unbounded normal dwell", 1, FLEET_GATEWAY_SESSIONS, HOUR, 3, SIM_ERANGE,
         "dwell can draw -inf ns"},
        {"invalid dwell distribution", 1, FLEET_GATEWAY_SESSIONS, HOUR, 4, SIM_ERANGE,
         "dwell is not a valid distribution"},
    };
    const struct fleet_population_dist *dw[] = {NULL, &fixed, &neg, &normal, &bad_exp};
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct fleet_gateway_cfg cfg = {.links = c[i].links,
                                        .availability = c[i].avail,
                                        .arrival_mean = c[i].arrival,
                                        .dwell = dw[c[i].dwell]};
        struct sim_diag d;
        sim_diag_init(&d);
        int rc = fleet_gateway_cfg_validate(&cfg, &d);
        if (rc != c[i].want)
            fail_msg("%s: rc %d, want %d (%s)", c[i].name, rc, c[i].want, d.text);
        if (c[i].msg && !strstr(d.text, c[i].msg))
            fail_msg("%s: message \"%s\" lacks \"%s\"", c[i].name, d.text, c[i].msg);
        if (!c[i].msg && d.n_messages != 0)
            fail_msg("%s: unexpected message \"%s\"", c[i].name, d.text);
        struct fleet_gateway g;
        struct fleet_gateway_ctx cx = {0};
        assert_int_equal(fleet_gateway_init(&g, &cfg, 0, 1, 1, &cx, NULL), c[i].want);
        fleet_gateway_fini(&g);
    }
    /* two bad fields: two messages, the first error code */
    struct fleet_gateway_cfg two = {.links = 0, .availability = FLEET_GATEWAY_SESSIONS};
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(fleet_gateway_cfg_validate(&two, &d), SIM_ERANGE);
    assert_int_equal(d.n_messages, 3);
}

/* ---- assignment ---------------------------------------------------------------------------- */

static void test_round_robin_and_block_assignment(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum fleet_gateway_assignment a;
        uint32_t n_dev, n_gw;
        uint32_t want[12];
    } c[] = {
        {"round robin 10 on 3", FLEET_GATEWAY_ROUND_ROBIN, 10, 3, {0, 1, 2, 0, 1, 2, 0, 1, 2, 0}},
        {"block 10 on 3: 4, 3, 3", FLEET_GATEWAY_BLOCK, 10, 3, {0, 0, 0, 0, 1, 1, 1, 2, 2, 2}},
        {"block 12 on 4: 3 each", FLEET_GATEWAY_BLOCK, 12, 4, {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3}},
        {"block 3 on 5: one each, two idle", FLEET_GATEWAY_BLOCK, 3, 5, {0, 1, 2}},
        {"block 7 on 1", FLEET_GATEWAY_BLOCK, 7, 1, {0, 0, 0, 0, 0, 0, 0}},
    };
    for (size_t i = 0; i < ARRAY_LEN(c); i++)
        for (uint32_t k = 0; k < c[i].n_dev; k++) {
            uint32_t got = fleet_gateway_assign(c[i].a, 1, 1000 + k, k, c[i].n_dev, c[i].n_gw);
            if (got != c[i].want[k])
                fail_msg("%s: device %u on %u, want %u", c[i].name, k, got, c[i].want[k]);
        }
    /* block over many sizes: contiguous, non-decreasing, sizes differ by at most one */
    for (uint32_t n = 1; n < 60; n++)
        for (uint32_t g = 1; g < 25; g++) {
            uint32_t size[25] = {0}, prev = 0;
            for (uint32_t k = 0; k < n; k++) {
                uint32_t x = fleet_gateway_assign(FLEET_GATEWAY_BLOCK, 0, 0, k, n, g);
                assert_true(x < g && x >= prev && x <= prev + 1);
                prev = x;
                size[x]++;
            }
            for (uint32_t x = 0; x < g; x++)
                assert_true(size[x] == n / g || size[x] == n / g + 1);
        }
    assert_int_equal(fleet_gateway_assign(FLEET_GATEWAY_BLOCK, 0, 0, 0, 5, 0), FLEET_GATEWAY_NONE);
    assert_int_equal(fleet_gateway_assign(FLEET_GATEWAY_ROUND_ROBIN, 0, 0, 5, 5, 2),
                     FLEET_GATEWAY_NONE);
    assert_int_equal(fleet_gateway_assign(FLEET_GATEWAY_ASSIGNMENT_COUNT, 0, 0, 0, 5, 2),
                     FLEET_GATEWAY_NONE);
    assert_string_equal(fleet_gateway_assignment_name(FLEET_GATEWAY_BLOCK), "block");
}

/* RANDOM: a function of (seed, device entity) only, so a device keeps its gateway when
 * devices are added or renumbered; uniform over the gateways (chi-square, 9 degrees of
 * freedom: the 99.99 % quantile is 33.7). */
static void test_random_assignment_is_keyed_and_uniform(void **state)
{
    (void)state;
    const uint32_t g = 10, n = 30000;
    uint32_t count[10] = {0};
    for (uint32_t k = 0; k < n; k++) {
        uint64_t entity = 0x9e3779b97f4a7c15ull * (k + 1);
        uint32_t x = fleet_gateway_assign(FLEET_GATEWAY_RANDOM, 3, entity, k, n, g);
        assert_true(x < g);
        count[x]++;
        /* another index, another fleet size: the same gateway */
        assert_int_equal(fleet_gateway_assign(FLEET_GATEWAY_RANDOM, 3, entity, 0, 1, g), x);
    }
    double chi2 = 0, e = (double)n / g;
    for (uint32_t x = 0; x < g; x++)
        chi2 += ((double)count[x] - e) * ((double)count[x] - e) / e;
    if (chi2 > 33.7)
        fail_msg("chi-square %.1f over 10 gateways", chi2);
    /* another seed moves devices */
    uint32_t moved = 0;
    for (uint32_t k = 0; k < 100; k++)
        moved += fleet_gateway_assign(FLEET_GATEWAY_RANDOM, 3, k, 0, 1, g) !=
                 fleet_gateway_assign(FLEET_GATEWAY_RANDOM, 4, k, 0, 1, g);
    assert_true(moved > 50);
}

static void count_connect(void *env, uint32_t gw, uint32_t dev, int64_t now)
{
    (void)gw, (void)dev, (void)now;
    (*(uint64_t *)env)++;
}

static void no_leave(void *env, uint32_t gw, uint32_t dev, int64_t now)
{
    (void)env, (void)gw, (void)dev, (void)now;
    fail_msg("an always-on gateway never leaves");
}

static uint32_t no_timer(void *env, uint32_t gw, int64_t at)
{
    (void)env, (void)gw, (void)at;
    fail_msg("an always-on gateway arms no timer");
    return 0;
}

/* Memory: 10,000 gateways of 10 devices each stay small (a flat array of structs plus
 * one ring of 8 ids each once used). */
static void test_ten_thousand_gateways_are_cheap(void **state)
{
    (void)state;
    const uint32_t n_gw = 10000;
    assert_true(sizeof(struct fleet_gateway) <= 384);
    struct fleet_gateway *gs = calloc(n_gw, sizeof(*gs));
    assert_non_null(gs);
    uint64_t n_connects = 0;
    struct fleet_gateway_ctx cx = {
        .env = &n_connects, .connect = count_connect, .leave = no_leave, .timer_arm = no_timer};
    struct fleet_gateway_cfg cfg = cfg_always(4);
    for (uint32_t i = 0; i < n_gw; i++) {
        assert_int_equal(fleet_gateway_init(&gs[i], &cfg, i, 1, i, &cx, NULL), 0);
        assert_int_equal(fleet_gateway_step(&gs[i], FLEET_GATEWAY_IN_START, NULL, 0), 0);
        for (uint32_t d = 0; d < 10; d++) {
            uint32_t dev = i * 10 + d;
            assert_int_equal(fleet_gateway_step(&gs[i], FLEET_GATEWAY_IN_REQUEST, &dev, 0), 0);
        }
        assert_int_equal(gs[i].q_cap, 16); /* 10 ids held, next power of two from 8 */
    }
    assert_int_equal(n_connects, 4 * n_gw);
    for (uint32_t i = 0; i < n_gw; i++)
        fleet_gateway_fini(&gs[i]);
    free(gs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_limit_holds_at_every_instant),
        cmocka_unit_test(test_devices_are_served_first_come_first_served),
        cmocka_unit_test(test_departure_leaves_the_active_devices_and_requeues_them_in_front),
        cmocka_unit_test(test_sessions_match_the_poisson_rate),
        cmocka_unit_test(test_a_phone_nobody_waits_for_is_dormant),
        cmocka_unit_test(test_sessions_depend_only_on_seed_and_gateway_entity),
        cmocka_unit_test(test_unexpected_late_and_stale_inputs_change_nothing),
        cmocka_unit_test(test_cfg_validation_names_the_field_and_the_range),
        cmocka_unit_test(test_round_robin_and_block_assignment),
        cmocka_unit_test(test_random_assignment_is_keyed_and_uniform),
        cmocka_unit_test(test_ten_thousand_gateways_are_cheap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
