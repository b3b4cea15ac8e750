/* models/fleet/gateway.c - one gateway or phone (states, inputs and invariants in
 * gateway.h), and the assignment of devices to gateways. */
#include "models/fleet/gateway.h"

#include <assert.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Largest draw turned into a time: 10^18 ns is 31 years, past any horizon; keeps llround
 * and now + x far from overflow. */
#define MAX_DRAW_NS 1e18

/* ---- configuration ----------------------------------------------------------------- */

static void bad(struct sim_diag *d, int *rc, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void bad(struct sim_diag *d, int *rc, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sim_diag_addv(d, fmt, ap);
    va_end(ap);
    if (*rc == 0)
        *rc = code;
}

static void validate_dwell(const struct fleet_gateway_cfg *c, struct sim_diag *d, int *rc)
{
    if (!c->dwell) {
        bad(d, rc, SIM_EINVAL,
            "gateway: dwell is missing; a phone (sessions) needs a session length, e.g. "
            "dwell: 5min or dwell: exponential(5min)");
        return;
    }
    if (fleet_population_validate(c->dwell, d) != 0) {
        bad(d, rc, SIM_ERANGE, "gateway: dwell is not a valid distribution (see above)");
        return;
    }
    double lo, hi;
    fleet_population_support(c->dwell, &lo, &hi);
    if (!(lo >= 0.0))
        bad(d, rc, SIM_ERANGE,
            "gateway: dwell can draw %g ns; a session length is >= 0: bound it, e.g. "
            "normal(5min, 2min) in [0s, 1h]",
            lo);
}

int fleet_gateway_cfg_validate(const struct fleet_gateway_cfg *c, struct sim_diag *d)
{
    int rc = 0;
    if (!c)
        return SIM_EINVAL;
    if (c->links < 1 || c->links > FLEET_GATEWAY_MAX_LINKS)
        bad(d, &rc, SIM_ERANGE,
            "gateway: links is %u; give 1 to 20 (S140 allows at most 20 concurrent links)",
            c->links);
    if (c->availability > FLEET_GATEWAY_SESSIONS) {
        bad(d, &rc, SIM_EINVAL, "gateway: availability %u is unknown; use always or sessions",
            (unsigned)c->availability);
        return rc;
    }
    if (c->availability == FLEET_GATEWAY_ALWAYS)
        return rc;
    if (c->arrival_mean <= 0)
        bad(d, &rc, SIM_ERANGE,
            "gateway: arrival_mean is %lld ns; a phone's mean time between sessions must be "
            "> 0, e.g. 1h",
            (long long)c->arrival_mean);
    validate_dwell(c, d, &rc);
    return rc;
}

/* ---- lifetime ---------------------------------------------------------------------- */

int fleet_gateway_init(struct fleet_gateway *g, const struct fleet_gateway_cfg *cfg, uint32_t id,
                       uint64_t seed, uint64_t entity, const struct fleet_gateway_ctx *cx,
                       struct sim_diag *diag)
{
    memset(g, 0, sizeof(*g));
    g->cfg = *cfg;
    g->cx = cx;
    g->id = id;
    g->timer_at = -1;
    g->state = FLEET_GATEWAY_ST_IDLE;
    sim_rng_init(&g->gap_rng, seed, entity, FLEET_GATEWAY_RNG_GAP);
    sim_rng_init(&g->dwell_rng, seed, entity, FLEET_GATEWAY_RNG_DWELL);
    return fleet_gateway_cfg_validate(cfg, diag);
}

void fleet_gateway_fini(struct fleet_gateway *g)
{
    free(g->q);
    g->q = NULL;
    g->q_cap = g->q_n = g->q_head = 0;
}

/* ---- the queue (a ring) and the active set ----------------------------------------- */

static uint32_t q_at(const struct fleet_gateway *g, uint32_t k)
{
    return g->q[(g->q_head + k) % g->q_cap];
}

/* Make room for `need` ids, linearising the ring. Returns 0 or SIM_ENOMEM (unchanged). */
static int q_reserve(struct fleet_gateway *g, uint32_t need)
{
    if (need <= g->q_cap)
        return 0;
    uint32_t cap = g->q_cap ? g->q_cap : 8;
    while (cap < need) {
        if (cap > UINT32_MAX / 2)
            return SIM_ENOMEM;
        cap *= 2;
    }
    uint32_t *q = malloc((size_t)cap * sizeof(*q));
    if (!q)
        return SIM_ENOMEM;
    for (uint32_t k = 0; k < g->q_n; k++)
        q[k] = q_at(g, k);
    free(g->q);
    g->q = q;
    g->q_cap = cap;
    g->q_head = 0;
    return 0;
}

static void q_push_back(struct fleet_gateway *g, uint32_t dev)
{
    assert(g->q_n < g->q_cap);
    g->q[(g->q_head + g->q_n) % g->q_cap] = dev;
    g->q_n++;
}

static void q_push_front(struct fleet_gateway *g, uint32_t dev)
{
    assert(g->q_n < g->q_cap);
    g->q_head = (g->q_head + g->q_cap - 1) % g->q_cap;
    g->q[g->q_head] = dev;
    g->q_n++;
}

static uint32_t q_pop_front(struct fleet_gateway *g)
{
    uint32_t dev = g->q[g->q_head];
    g->q_head = (g->q_head + 1) % g->q_cap;
    g->q_n--;
    return dev;
}

/* Position of dev in the queue, or -1. O(queue). */
static int64_t q_find(const struct fleet_gateway *g, uint32_t dev)
{
    for (uint32_t k = 0; k < g->q_n; k++)
        if (q_at(g, k) == dev)
            return k;
    return -1;
}

/* Remove the k-th queued id, keeping the others in order. */
static void q_remove(struct fleet_gateway *g, uint32_t k)
{
    for (uint32_t i = k; i + 1 < g->q_n; i++)
        g->q[(g->q_head + i) % g->q_cap] = q_at(g, i + 1);
    g->q_n--;
}

static int a_find(const struct fleet_gateway *g, uint32_t dev)
{
    for (uint32_t k = 0; k < g->n_active; k++)
        if (g->active[k] == dev)
            return (int)k;
    return -1;
}

static void a_remove(struct fleet_gateway *g, int k)
{
    memmove(&g->active[k], &g->active[k + 1], (g->n_active - (uint32_t)k - 1) * sizeof(uint32_t));
    g->n_active--;
}

static void sync_stats(struct fleet_gateway *g)
{
    g->st.present = g->state == FLEET_GATEWAY_ST_PRESENT;
    g->st.active = g->n_active;
    g->st.queued = g->q_n;
    if (g->n_active > g->st.max_active)
        g->st.max_active = g->n_active;
}

/* ---- actions ------------------------------------------------------------------------- */

static void connect_dev(struct fleet_gateway *g, uint32_t dev, int64_t now)
{
    assert(g->n_active < g->cfg.links);
    g->active[g->n_active++] = dev;
    g->st.connects++;
    g->cur.connected++;
    sync_stats(g); /* max_active sees every instant, not only the end of a step */
    g->cx->connect(g->cx->env, g->id, dev, now);
}

/* Connect queued devices from the front while present and a link is free. */
static void fill(struct fleet_gateway *g, int64_t now)
{
    while (g->state == FLEET_GATEWAY_ST_PRESENT && g->n_active < g->cfg.links && g->q_n > 0)
        connect_dev(g, q_pop_front(g), now);
}

static void arm(struct fleet_gateway *g, int64_t at)
{
    g->timer_at = at;
    g->timer_gen = g->cx->timer_arm(g->cx->env, g->id, at);
}

static int64_t to_ns(double x)
{
    if (!(x > 0.0))
        return 0; /* also NaN: never a time in the past */
    return (int64_t)llround(x < MAX_DRAW_NS ? x : MAX_DRAW_NS);
}

/* The next session starts an Exp(arrival_mean) gap after now (Poisson arrivals). A phone
 * nobody waits for is dormant: no arrival is armed until a REQUEST comes, which then draws
 * the gap from its own time. Exponential gaps are memoryless, so the time from a request
 * to the next arrival has the same distribution either way, and a run whose devices are
 * all done ends instead of simulating visits forever. */
static void arm_arrival(struct fleet_gateway *g, int64_t now)
{
    if (g->q_n == 0)
        return;
    gsl_rng view;
    double gap = gsl_ran_exponential(sim_rng_gsl(&g->gap_rng, &view), (double)g->cfg.arrival_mean);
    arm(g, now + to_ns(gap));
}

static void arrive(struct fleet_gateway *g, int64_t now)
{
    g->state = FLEET_GATEWAY_ST_PRESENT;
    g->cur =
        (struct fleet_gateway_session){.gateway = g->id, .index = g->st.sessions, .start_ns = now};
    g->st.sessions++;
    if (g->cfg.availability == FLEET_GATEWAY_SESSIONS)
        arm(g, now + to_ns(fleet_population_draw_rng(g->cfg.dwell, &g->dwell_rng)));
    fill(g, now);
}

/* The phone leaves: active devices leave in connect order and go back to the queue front
 * in that order (pushed from the last, so the first connected is served first again). */
static void depart(struct fleet_gateway *g, int64_t now)
{
    g->state = FLEET_GATEWAY_ST_ABSENT;
    uint32_t n = g->n_active;
    for (uint32_t k = 0; k < n; k++) {
        g->st.leaves++;
        g->cx->leave(g->cx->env, g->id, g->active[k], now);
    }
    for (uint32_t k = n; k-- > 0;)
        q_push_front(g, g->active[k]); /* invariant 6: room is reserved */
    g->n_active = 0;
    g->cur.end_ns = now;
    g->cur.left = n;
    if (g->cx->emit_session)
        g->cx->emit_session(g->cx->env, &g->cur);
    arm_arrival(g, now);
}

static void unexpected(struct fleet_gateway *g, enum fleet_gateway_input in, int64_t now)
{
    g->st.n_unexpected++;
    if (g->cx->unexpected)
        g->cx->unexpected(g->cx->env, g->id, g->state, (int)in, now);
}

/* ---- inputs -------------------------------------------------------------------------- */

static int on_start(struct fleet_gateway *g, int64_t now)
{
    if (g->state != FLEET_GATEWAY_ST_IDLE) {
        unexpected(g, FLEET_GATEWAY_IN_START, now);
        return 0;
    }
    if (g->cfg.availability == FLEET_GATEWAY_ALWAYS) {
        arrive(g, now);
        return 0;
    }
    g->state = FLEET_GATEWAY_ST_ABSENT;
    arm_arrival(g, now);
    return 0;
}

static int on_request(struct fleet_gateway *g, uint32_t dev, int64_t now)
{
    if (a_find(g, dev) >= 0 || q_find(g, dev) >= 0) {
        unexpected(g, FLEET_GATEWAY_IN_REQUEST, now); /* the world asked twice */
        return 0;
    }
    int rc = q_reserve(g, g->q_n + g->n_active + 1); /* invariant 6 */
    if (rc)
        return rc;
    q_push_back(g, dev);
    if (g->state == FLEET_GATEWAY_ST_ABSENT && g->timer_at < 0)
        arm_arrival(g, now); /* a dormant phone wakes */
    fill(g, now); /* present with a free link: the queue was empty, so dev goes at once */
    return 0;
}

static int on_done(struct fleet_gateway *g, uint32_t dev, int64_t now)
{
    int k = a_find(g, dev);
    if (k < 0) {
        g->st.n_late++; /* it left or was cancelled before its client reported */
        return 0;
    }
    a_remove(g, k);
    g->st.served++;
    g->cur.served++;
    fill(g, now);
    return 0;
}

static int on_cancel(struct fleet_gateway *g, uint32_t dev, int64_t now)
{
    int k = a_find(g, dev);
    if (k >= 0) {
        a_remove(g, k);
        g->st.cancels++;
        fill(g, now);
        return 0;
    }
    int64_t qk = q_find(g, dev);
    if (qk < 0) {
        g->st.n_late++;
        return 0;
    }
    q_remove(g, (uint32_t)qk);
    g->st.cancels++;
    return 0;
}

static int on_timer(struct fleet_gateway *g, uint32_t gen, int64_t now)
{
    if (g->timer_at < 0 || gen != g->timer_gen) {
        g->st.n_stale++;
        return 0;
    }
    g->timer_at = -1;
    if (g->state == FLEET_GATEWAY_ST_ABSENT)
        arrive(g, now);
    else if (g->state == FLEET_GATEWAY_ST_PRESENT)
        depart(g, now);
    else
        unexpected(g, FLEET_GATEWAY_IN_TIMER, now); /* IDLE arms nothing: unreachable */
    return 0;
}

int fleet_gateway_step(struct fleet_gateway *g, enum fleet_gateway_input in, const void *arg,
                       int64_t now)
{
    if (!g || (unsigned)in >= FLEET_GATEWAY_INPUT_COUNT)
        return SIM_EINVAL;
    if (in != FLEET_GATEWAY_IN_START && !arg)
        return SIM_EINVAL;
    uint32_t x = arg ? *(const uint32_t *)arg : 0;
    int rc = 0;
    switch (in) {
    case FLEET_GATEWAY_IN_START:
        rc = on_start(g, now);
        break;
    case FLEET_GATEWAY_IN_REQUEST:
        rc = on_request(g, x, now);
        break;
    case FLEET_GATEWAY_IN_DONE:
        rc = on_done(g, x, now);
        break;
    case FLEET_GATEWAY_IN_CANCEL:
        rc = on_cancel(g, x, now);
        break;
    case FLEET_GATEWAY_IN_TIMER:
        rc = on_timer(g, x, now);
        break;
    case FLEET_GATEWAY_INPUT_COUNT:
        return SIM_EINVAL;
    }
    sync_stats(g);
    fleet_gateway_check(g);
    return rc;
}

/* ---- accessors ----------------------------------------------------------------------- */

uint32_t fleet_gateway_active_at(const struct fleet_gateway *g, uint32_t k)
{
    return k < g->n_active ? g->active[k] : FLEET_GATEWAY_NONE;
}

uint32_t fleet_gateway_queued_at(const struct fleet_gateway *g, uint32_t k)
{
    return k < g->q_n ? q_at(g, k) : FLEET_GATEWAY_NONE;
}

const char *fleet_gateway_state_name(enum fleet_gateway_state s)
{
    static const char *const names[] = {"idle", "absent", "present"};
    return (unsigned)s < FLEET_GATEWAY_STATE_COUNT ? names[s] : "?";
}

/* ---- invariants ---------------------------------------------------------------------- */

/* Devices checked pairwise for invariant 4 only up to this many (O(n^2) in debug). */
#define FULL_CHECK_MAX 256u

void fleet_gateway_check(const struct fleet_gateway *g)
{
#ifndef NDEBUG
    assert(g->n_active <= g->cfg.links && g->cfg.links <= FLEET_GATEWAY_MAX_LINKS); /* 1 */
    if (g->state != FLEET_GATEWAY_ST_PRESENT)
        assert(g->n_active == 0); /* 2 */
    else
        assert(g->n_active == g->cfg.links || g->q_n == 0); /* 3 */
    if (g->state == FLEET_GATEWAY_ST_IDLE || g->cfg.availability == FLEET_GATEWAY_ALWAYS)
        assert(g->timer_at < 0); /* 5 */
    else if (g->state == FLEET_GATEWAY_ST_PRESENT || g->q_n > 0)
        assert(g->timer_at >= 0);
    assert(g->q_n + g->n_active <= g->q_cap || (g->q_cap == 0 && g->n_active == 0)); /* 6 */
    assert(g->st.active == g->n_active && g->st.queued == g->q_n);
    assert(g->st.max_active >= g->n_active);
    uint32_t n = g->q_n + g->n_active;
    if (n > FULL_CHECK_MAX)
        return;
    for (uint32_t i = 0; i < n; i++) { /* 4: all ids distinct */
        uint32_t a = i < g->n_active ? g->active[i] : q_at(g, i - g->n_active);
        for (uint32_t j = i + 1; j < n; j++)
            assert(a != (j < g->n_active ? g->active[j] : q_at(g, j - g->n_active)));
    }
#else
    (void)g;
#endif
}

/* ---- assignment ---------------------------------------------------------------------- */

uint32_t fleet_gateway_assign(enum fleet_gateway_assignment a, uint64_t seed,
                              uint64_t device_entity, uint32_t device_index, uint32_t n_devices,
                              uint32_t n_gateways)
{
    if (n_gateways == 0 || device_index >= n_devices)
        return FLEET_GATEWAY_NONE;
    switch (a) {
    case FLEET_GATEWAY_ROUND_ROBIN:
        return device_index % n_gateways;
    case FLEET_GATEWAY_BLOCK: {
        /* The first r gateways take q + 1 devices each, the others q. */
        uint32_t q = n_devices / n_gateways, r = n_devices % n_gateways;
        uint64_t big = (uint64_t)r * (q + 1);
        if (device_index < big)
            return (uint32_t)(device_index / (q + 1));
        return (uint32_t)(r + (device_index - big) / q); /* q > 0 here: index < n_devices */
    }
    case FLEET_GATEWAY_RANDOM: {
        struct sim_rng r;
        gsl_rng view;
        sim_rng_init(&r, seed, device_entity, FLEET_GATEWAY_RNG_ASSIGN);
        return (uint32_t)gsl_rng_uniform_int(sim_rng_gsl(&r, &view), n_gateways);
    }
    case FLEET_GATEWAY_ASSIGNMENT_COUNT:
        break;
    }
    return FLEET_GATEWAY_NONE;
}

const char *fleet_gateway_assignment_name(enum fleet_gateway_assignment a)
{
    static const char *const names[] = {"round-robin", "block", "random"};
    return (unsigned)a < FLEET_GATEWAY_ASSIGNMENT_COUNT ? names[a] : "?";
}

/* ---- settings ------------------------------------------------------------------------- */

/* Order matches enum fleet_gateway_kind, _availability, _assignment. */
static const char *const gateway_kind_names[] = {"gateway", "phone", NULL};
static const char *const availability_names[] = {"always", "sessions", NULL};
static const char *const assignment_names[] = {"round-robin", "block", "random", NULL};

const struct scenario_field fleet_group_name_item = {
    .key = "group name", .type = SCENARIO_T_NAME, .size = sizeof(char *)};

static const struct scenario_field gateway_fields[] = {
    {.key = "name",
     .type = SCENARIO_T_NAME,
     SCENARIO_AT(struct fleet_gateway_settings, name),
     .flags = SCENARIO_F_REQUIRED | SCENARIO_F_UNIQUE,
     .doc = "name of the gateway kind, unique; --set addresses it as gateways.NAME.KEY"},
    {.key = "count",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct fleet_gateway_settings, count),
     .flags = SCENARIO_F_REQUIRED,
     .min = "1",
     .max = "10000000",
     .doc = "gateways (or phones) of this kind"},
    {.key = "kind",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fleet_gateway_settings, kind),
     .def = "gateway",
     .names = gateway_kind_names,
     .doc = "gateway or phone (informative)"},
    {.key = "links",
     .type = SCENARIO_T_UINT,
     .unit = "links",
     SCENARIO_AT(struct fleet_gateway_settings, links),
     .def = "1",
     .min = "1",
     .max = "20",
     .doc = "most devices one gateway updates at a time (concurrent BLE links)"},
    {.key = "availability",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fleet_gateway_settings, availability),
     .def = "always",
     .names = availability_names,
     .doc = "always present, or in sessions (a phone that comes by)"},
    {.key = "arrival",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_gateway_settings, arrival),
     .def = "1h",
     .min = "1ns",
     .when = {{"availability", SCENARIO_BIT(FLEET_GATEWAY_SESSIONS)}},
     .doc = "sessions: mean gap between sessions (Poisson arrivals)"},
    {.key = "dwell",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_gateway_settings, dwell),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct fleet_gateway_settings, dwell_dist),
     .def = "10min",
     .min = "1ns",
     .when = {{"availability", SCENARIO_BIT(FLEET_GATEWAY_SESSIONS)}},
     .doc = "sessions: how long a session lasts"},
    {.key = "serves",
     .type = SCENARIO_T_VALUES,
     SCENARIO_AT(struct fleet_gateway_settings, serves),
     .count_offset = offsetof(struct fleet_gateway_settings, n_serves),
     .item = &fleet_group_name_item,
     .flags = SCENARIO_F_UNIQUE,
     .min = "1",
     .inherit = "devices",
     .doc = "device groups this gateway kind serves; absent: every group"},
    {.key = "assignment",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fleet_gateway_settings, assignment),
     .def = "round-robin",
     .names = assignment_names,
     .doc = "how served devices are spread over the gateways of this kind"},
    {.key = "client",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct fleet_gateway_settings, client),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct fleet_gateway_settings, client.at),
     .sub = &client_dfu_settings_schema,
     .inherit = "client",
     .doc = "the gateway's DFU client; keys not given are the top-level client's"},
};

const struct scenario_schema fleet_gateway_settings_schema = {
    .noun = "gateway",
    .size = sizeof(struct fleet_gateway_settings),
    .has_pos = true,
    .pos_offset = offsetof(struct fleet_gateway_settings, pos),
    .n_fields = sizeof(gateway_fields) / sizeof(gateway_fields[0]),
    .fields = gateway_fields};
