/* models/fleet/dispatch.c - who starts which device's DFU, and when.
 *
 * Without a rollout every device's client starts by itself at its start time (the quick
 * start). With one (fleet_world_rollout_set), the rollout controller (models/fleet/
 * rollout.h) decides: start_device queues the device at its gateway or, without gateways,
 * starts its client at once; the client's final outcome goes back to the controller as a
 * DEVICE_RESULT; cancel_device (execution timeout, window end, error action) stops the
 * client, whose host goes away.
 *
 * Per device, dispatch keeps a status (IDLE, WAITING at a gateway, ACTIVE: its client runs)
 * and a run number. A client reports its end from inside a device step, so the world only
 * schedules a CHECK event for (device, run) at that instant and reads the client's state
 * when the event runs: the controller and the gateways are never entered from inside a
 * device, and a check left over from a run that was cancelled meanwhile is stale.
 *
 * Rollout order: the controller's waves take device indexes in order. Devices are ranked by
 * a keyed hash of their stream entity, so each wave is a sample across every group (a
 * canary wave of 1 % is not the first group's first devices) and adding a group does not
 * reorder the others (it interleaves its own devices).
 *
 * Rollback: the controller's ROLLING_BACK state is entered and left at once (the world
 * answers ROLLBACK_DONE at the same instant): in-progress devices were cancelled, devices
 * that already run the new image keep it (README "Simplifications").
 */
#include <stdlib.h>
#include <string.h>

#include "models/fleet/world_int.h"
#include "sim/error.h"

enum { EV_ROLLOUT_START, EV_ROLLOUT_TIMER, EV_ROLLBACK_DONE };

/* ---- the controller's context ---------------------------------------------------------- */

static void start_client(struct fleet_world *w, uint32_t dev, int64_t now)
{
    struct dispatch *dp = &w->dp;
    dp->status[dev] = DISPATCH_ACTIVE;
    world_fail(w, fleet_device_client_start(w->devs[dev], now));
}

static void stop_client(struct fleet_world *w, uint32_t dev, int64_t now)
{
    struct dispatch *dp = &w->dp;
    uint8_t was = dp->status[dev];
    dp->status[dev] = DISPATCH_IDLE; /* first: the client's last record must not CHECK */
    dp->run[dev]++;
    if (was == DISPATCH_ACTIVE)
        world_fail(w, fleet_device_host_leave(w->devs[dev], now));
}

/* One input to gateway gw; then its active links share its radio. */
static void gw_step(struct fleet_world *w, uint32_t gw, enum fleet_gateway_input in, uint32_t arg,
                    int64_t now)
{
    struct fleet_gateway *g = &w->dp.gw[gw];
    world_fail(w, fleet_gateway_step(g, in, &arg, now));
    uint32_t n = fleet_gateway_stats_get(g)->active;
    for (uint32_t k = 0; k < n; k++)
        world_fail(w, fleet_device_ce_share(w->devs[fleet_gateway_active_at(g, k)], n, now));
}

static void cx_start(void *env, uint32_t index, int64_t now)
{
    struct fleet_world *w = env;
    uint32_t dev = w->dp.order[index];
    w->dp.acted++;
    if (!dispatch_local(w, dev))
        return; /* its part starts it: every part runs the same controller */
    if (w->dp.gw_of == NULL) {
        start_client(w, dev, now);
        return;
    }
    w->dp.status[dev] = DISPATCH_WAITING;
    gw_step(w, w->dp.gw_of[dev], FLEET_GATEWAY_IN_REQUEST, dev, now);
}

static void cx_cancel(void *env, uint32_t index, int64_t now)
{
    struct fleet_world *w = env;
    uint32_t dev = w->dp.order[index];
    w->dp.acted++;
    if (!dispatch_local(w, dev))
        return;
    bool queued = w->dp.status[dev] != DISPATCH_IDLE;
    stop_client(w, dev, now);
    if (w->dp.gw_of != NULL && queued)
        gw_step(w, w->dp.gw_of[dev], FLEET_GATEWAY_IN_CANCEL, dev, now);
}

static void cx_rollback(void *env, int64_t now)
{
    struct fleet_world *w = env;
    if (w->dp.epoch > 0) {
        w->dp.rollback_due = true; /* answered at the end of the tick (dispatch_tick) */
        return;
    }
    world_fail(w, sim_engine_schedule(w->e, now, (uint16_t)w->dp.kind, EV_ROLLBACK_DONE, 0));
}

static uint32_t cx_timer_arm(void *env, int timer, int64_t at)
{
    struct fleet_world *w = env;
    struct dispatch *dp = &w->dp;
    uint32_t gen = ++dp->gen[timer];
    world_fail(w, sim_engine_timer_arm(w->e, dp->timer[timer], at, (uint16_t)dp->kind,
                                       EV_ROLLOUT_TIMER, ((uint64_t)(uint32_t)timer << 32) | gen));
    return gen;
}

static void cx_wave(void *env, const struct recorder_wave *wv)
{
    struct fleet_world *w = env;
    if (w->rec != NULL)
        world_fail(w, recorder_wave_emit(w->rec, wv));
}

/* ---- the gateways' context ---------------------------------------------------------- */

static void gx_connect(void *env, uint32_t gw, uint32_t dev, int64_t now)
{
    (void)gw;
    start_client(env, dev, now);
}

/* The phone left: the device waits at its gateway again (its queue keeps it). */
static void gx_leave(void *env, uint32_t gw, uint32_t dev, int64_t now)
{
    struct fleet_world *w = env;
    (void)gw;
    stop_client(w, dev, now);
    w->dp.status[dev] = DISPATCH_WAITING;
}

static uint32_t gx_timer_arm(void *env, uint32_t gw, int64_t at)
{
    struct fleet_world *w = env;
    struct dispatch *dp = &w->dp;
    uint32_t gen = ++dp->gw_gen;
    world_fail(w, sim_engine_timer_arm(world_gw_engine(w, gw), dp->gw_timer[gw], at,
                                       (uint16_t)dp->gw_kind, gw, gen));
    return gen;
}

static void gx_session(void *env, const struct fleet_gateway_session *s)
{
    struct fleet_world *w = env;
    if (w->rec == NULL)
        return;
    struct recorder_session r = {s->gateway,   s->index,  s->start_ns, s->end_ns,
                                 s->connected, s->served, s->left};
    world_fail(w, recorder_session_emit(w->rec, &r));
}

static void on_gateway(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    (void)e;
    gw_step(ctx, ev->target, FLEET_GATEWAY_IN_TIMER, (uint32_t)ev->arg, ev->at);
}

/* ---- events ------------------------------------------------------------------------------ */

static void on_rollout(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    struct fleet_world *w = ctx;
    struct dispatch *dp = &w->dp;
    (void)e;
    int rc = 0;
    switch (ev->target) {
    case EV_ROLLOUT_START:
        rc = fleet_rollout_step(dp->ro, FLEET_ROLLOUT_IN_START, NULL, ev->at);
        break;
    case EV_ROLLOUT_TIMER: {
        struct fleet_rollout_timer t = {(int)(ev->arg >> 32), (uint32_t)ev->arg};
        rc = fleet_rollout_step(dp->ro, FLEET_ROLLOUT_IN_TIMER, &t, ev->at);
        break;
    }
    case EV_ROLLBACK_DONE:
        rc = fleet_rollout_step(dp->ro, FLEET_ROLLOUT_IN_ROLLBACK_DONE, NULL, ev->at);
        break;
    }
    world_fail(w, rc);
}

static int pend_push(struct dispatch *dp, int64_t at, const struct fleet_rollout_device_result *r)
{
    if (dp->n_pend == dp->cap_pend) {
        uint32_t cap = dp->cap_pend ? 2 * dp->cap_pend : 64;
        struct fleet_world_result *p = realloc(dp->pend, (size_t)cap * sizeof(*p));
        if (p == NULL)
            return SIM_ENOMEM;
        dp->pend = p;
        dp->cap_pend = cap;
    }
    dp->pend[dp->n_pend++] = (struct fleet_world_result){at, r->device, r->result};
    return 0;
}

/* A client reported the end of an attempt at ev->at: if that was its last, tell the
 * controller (with an epoch: at the next epoch time). */
static void on_check(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    struct fleet_world *w = ctx;
    struct dispatch *dp = &w->dp;
    uint32_t dev = ev->target;
    const char *outcome;
    (void)e;
    if (dp->status[dev] != DISPATCH_ACTIVE || dp->run[dev] != (uint8_t)ev->arg ||
        !fleet_device_client_done(w->devs[dev], &outcome))
        return;
    dp->status[dev] = DISPATCH_IDLE;
    dp->run[dev]++;
    if (dp->gw_of != NULL)
        gw_step(w, dp->gw_of[dev], FLEET_GATEWAY_IN_DONE, dev, ev->at);
    struct fleet_rollout_device_result r = {
        dp->rank[dev],
        strcmp(outcome, "updated") == 0 ? FLEET_ROLLOUT_SUCCEEDED : FLEET_ROLLOUT_FAILED,
    };
    if (dp->epoch > 0) {
        world_fail(w, pend_push(dp, ev->at, &r)); /* delivered at the next epoch time */
        return;
    }
    world_fail(w, fleet_rollout_step(dp->ro, FLEET_ROLLOUT_IN_DEVICE_RESULT, &r, ev->at));
}

void dispatch_attempt_ended(struct fleet_world *w, uint32_t dev, int64_t now)
{
    struct dispatch *dp = &w->dp;
    if (dp->ro == NULL || dp->status[dev] != DISPATCH_ACTIVE)
        return;
    world_fail(w, sim_engine_schedule(world_dev_engine(w, dev), now, (uint16_t)dp->check_kind, dev,
                                      dp->run[dev]));
}

/* ---- building ------------------------------------------------------------------------ */

int fleet_world_rollout_set(struct fleet_world *w, const struct fleet_rollout_cfg *cfg,
                            int64_t start_ns, struct sim_diag *d)
{
    int rc = fleet_rollout_cfg_validate(cfg, d);
    if (rc != 0)
        return rc;
    w->dp.enabled = true;
    w->dp.rollout_given = true;
    w->dp.cfg = *cfg;
    w->dp.start_ns = start_ns;
    return 0;
}

int fleet_world_gateways_add(struct fleet_world *w, const struct fleet_world_gateways *g,
                             struct sim_diag *d)
{
    struct dispatch *dp = &w->dp;
    struct fleet_gateway_cfg gc = g->cfg;
    gc.dwell = &g->dwell;
    int rc = fleet_gateway_cfg_validate(&gc, d);
    if (rc != 0)
        return rc;
    if (g->count == 0 || w->n_groups > 64) {
        sim_diag_add(d, "gateways %s: count must be >= 1 and groups at most 64", g->name);
        return SIM_ERANGE;
    }
    uint64_t serves = g->serves != 0 ? g->serves : ~0ULL;
    for (uint32_t k = 0; k < dp->n_kinds; k++) {
        uint64_t other = dp->kinds[k].cfg.serves != 0 ? dp->kinds[k].cfg.serves : ~0ULL;
        uint64_t both = serves & other & (w->n_groups < 64 ? (1ULL << w->n_groups) - 1 : ~0ULL);
        if (both != 0) {
            sim_diag_add(d,
                         "gateways %s and %s both serve group %s: a group has one kind of "
                         "gateway",
                         dp->kinds[k].cfg.name, g->name, w->groups[__builtin_ctzll(both)].cfg.name);
            return SIM_EINVAL;
        }
    }
    struct gw_kind *ks = realloc(dp->kinds, (dp->n_kinds + 1) * sizeof(*ks));
    if (ks == NULL)
        return SIM_ENOMEM;
    dp->kinds = ks;
    ks[dp->n_kinds] = (struct gw_kind){*g, dp->n_gw};
    ks[dp->n_kinds].cfg.client = NULL;
    dp->n_kinds++;
    dp->n_gw += g->count;
    for (uint32_t i = 0; i < w->n_groups; i++)
        if ((serves >> i & 1) && g->client != NULL)
            w->groups[i].cfg.dev.client = *g->client;
    if (!dp->rollout_given) {
        dp->cfg = fleet_rollout_cfg_default();
        dp->start_ns = 0;
    }
    dp->enabled = true;
    return 0;
}

uint32_t fleet_world_n_gateways(const struct fleet_world *w)
{
    return w->dp.n_gw;
}

const struct fleet_gateway *fleet_world_gateway(const struct fleet_world *w, uint32_t id)
{
    return w->dp.gw != NULL && id < w->dp.n_gw ? &w->dp.gw[id] : NULL;
}

int64_t dispatch_gateway_of(const struct fleet_world *w, uint32_t dev)
{
    if (w->dp.gw_of == NULL || w->dp.gw_of[dev] == FLEET_GATEWAY_NONE)
        return RECORDER_NONE;
    return w->dp.gw_of[dev];
}

/* Share each kind's devices out among its gateways; start every gateway. */
static int gateways_start(struct fleet_world *w)
{
    struct dispatch *dp = &w->dp;
    dp->gw = calloc(dp->n_gw, sizeof(*dp->gw));
    dp->gw_timer = calloc(dp->n_gw, sizeof(*dp->gw_timer));
    if (dp->gw == NULL || dp->gw_timer == NULL)
        return SIM_ENOMEM;
    dp->gw_kind = sim_engine_kind_add(w->e, on_gateway, w, "gateway");
    if (dp->gw_kind < 0)
        return SIM_ENOMEM;
    dp->gw_cx = (struct fleet_gateway_ctx){w, gx_connect, gx_leave, gx_timer_arm, gx_session, NULL};
    int64_t now = sim_engine_now(w->e);
    for (uint32_t k = 0; k < dp->n_kinds; k++) {
        struct gw_kind *gk = &dp->kinds[k];
        gk->cfg.cfg.dwell = &gk->cfg.dwell; /* the kinds array moves no more */
        for (uint32_t i = 0; i < gk->cfg.count; i++) {
            uint32_t gw = gk->first + i;
            if (!dispatch_gw_local(w, gw))
                continue; /* another part runs it */
            int rc = sim_engine_timer_new(world_gw_engine(w, gw), &dp->gw_timer[gw]);
            if (rc == 0)
                rc = fleet_gateway_init(&dp->gw[gw], &gk->cfg.cfg, gw, w->seed,
                                        world_entity(gk->cfg.name, i), &dp->gw_cx, NULL);
            if (rc == 0)
                rc = fleet_gateway_step(&dp->gw[gw], FLEET_GATEWAY_IN_START, NULL, now);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int dispatch_finish(struct fleet_world *w)
{
    struct dispatch *dp = &w->dp;
    if (w->rec == NULL || dp->gw == NULL)
        return 0;
    uint32_t *devices = calloc(dp->n_gw + 1, sizeof(*devices));
    if (devices == NULL)
        return SIM_ENOMEM;
    for (uint32_t id = 0; id < w->n_devs; id++)
        if (dp->gw_of[id] != FLEET_GATEWAY_NONE)
            devices[dp->gw_of[id]]++;
    int rc = 0;
    for (uint32_t k = 0; k < dp->n_kinds && rc == 0; k++) {
        const struct gw_kind *gk = &dp->kinds[k];
        for (uint32_t i = 0; i < gk->cfg.count && rc == 0; i++) {
            uint32_t gw = gk->first + i;
            if (!dispatch_gw_local(w, gw))
                continue; /* its part writes its row */
            const struct fleet_gateway_stats *st = fleet_gateway_stats_get(&dp->gw[gw]);
            struct recorder_gateway r = {
                .gateway_id = gw,
                .name = gk->cfg.name,
                .availability =
                    gk->cfg.cfg.availability == FLEET_GATEWAY_ALWAYS ? "always" : "sessions",
                .links = gk->cfg.cfg.links,
                .devices = devices[gw],
                .sessions = st->sessions,
                .max_active = st->max_active,
                .served = st->served,
                .leaves = st->leaves,
            };
            rc = recorder_gateway_emit(w->rec, &r);
        }
    }
    free(devices);
    return rc;
}

bool dispatch_enabled(const struct fleet_world *w)
{
    return w->dp.enabled;
}

/* SplitMix64 finaliser: the rank key of a device entity. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct ranked {
    uint64_t key;
    uint32_t dev;
};

static int by_key(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->dev > y->dev) - (x->dev < y->dev);
}

int dispatch_start(struct fleet_world *w, const uint64_t *entity)
{
    struct dispatch *dp = &w->dp;
    if (!dp->enabled)
        return 0;
    uint32_t n = w->n_devs;
    dp->order = malloc((size_t)n * sizeof(*dp->order) + 1);
    dp->rank = malloc((size_t)n * sizeof(*dp->rank) + 1);
    dp->status = calloc((size_t)n + 1, 1);
    dp->run = calloc((size_t)n + 1, 1);
    struct ranked *rk = malloc((size_t)n * sizeof(*rk) + 1);
    if (dp->order == NULL || dp->rank == NULL || dp->status == NULL || dp->run == NULL ||
        rk == NULL) {
        free(rk);
        return SIM_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++)
        rk[i] = (struct ranked){mix(entity[i] ^ mix(w->seed ^ SIM_RNG_ROLLOUT)), i};
    qsort(rk, n, sizeof(*rk), by_key);
    for (uint32_t i = 0; i < n; i++) {
        dp->order[i] = rk[i].dev;
        dp->rank[rk[i].dev] = i;
    }
    free(rk);
    if (dp->n_gw > 0) {
        int rc = gateways_start(w);
        if (rc != 0)
            return rc;
    }

    dp->kind = sim_engine_kind_add(w->e, on_rollout, w, "rollout");
    dp->check_kind = sim_engine_kind_add(w->e, on_check, w, "dfu-end");
    if (dp->kind < 0 || dp->check_kind < 0)
        return SIM_ENOMEM;
    for (int t = 0; t < FLEET_ROLLOUT_TIMER_COUNT; t++) {
        int rc = sim_engine_timer_new(w->e, &dp->timer[t]);
        if (rc != 0)
            return rc;
    }
    dp->cx = (struct fleet_rollout_ctx){w,       cx_start, cx_cancel, cx_rollback, cx_timer_arm,
                                        cx_wave, NULL};
    int rc = fleet_rollout_new(&dp->cfg, n, &dp->cx, &dp->ro, NULL);
    if (rc != 0)
        return rc;
    dp->epoch = dp->cfg.epoch;
    if (dp->epoch > 0)
        return 0; /* fleet_world_run delivers START at the first epoch time from start_ns */
    int64_t now = sim_engine_now(w->e);
    return sim_engine_schedule(w->e, dp->start_ns > now ? dp->start_ns : now, (uint16_t)dp->kind,
                               EV_ROLLOUT_START, 0);
}

void dispatch_free(struct fleet_world *w)
{
    struct dispatch *dp = &w->dp;
    fleet_rollout_free(dp->ro);
    free(dp->order);
    free(dp->rank);
    free(dp->status);
    free(dp->run);
    for (uint32_t i = 0; dp->gw != NULL && i < dp->n_gw; i++)
        fleet_gateway_fini(&dp->gw[i]);
    free(dp->gw);
    free(dp->gw_timer);
    free(dp->gw_of);
    free(dp->kinds);
    free(dp->pend);
    free(dp->local);
    free(dp->gw_local);
    free(dp->gw_block);
}

const struct fleet_rollout *fleet_world_rollout(const struct fleet_world *w)
{
    return w->dp.ro;
}

/* ---- partitions (world.h fleet_world_split) ------------------------------------------ */

int fleet_world_split(struct fleet_world *w, uint32_t part, uint32_t n_parts)
{
    if (n_parts == 0 || part >= n_parts || (w->n_devs > 0 && w->devs[0] != NULL) || w->has_ext)
        return SIM_EINVAL;
    w->part = part;
    w->n_parts = n_parts;
    return 0;
}

uint32_t fleet_world_partition(const struct fleet_world *w, uint32_t dev)
{
    const struct dispatch *dp = &w->dp;
    if (dp->gw_of != NULL && dp->gw_of[dev] != FLEET_GATEWAY_NONE)
        return dp->gw_of[dev];
    return dp->n_gw + dev;
}

bool dispatch_local(const struct fleet_world *w, uint32_t dev)
{
    return w->dp.local == NULL || w->dp.local[dev];
}

bool dispatch_gw_local(const struct fleet_world *w, uint32_t gw)
{
    return w->dp.gw_local == NULL || w->dp.gw_local[gw];
}

/* Each kind's devices shared out among its gateways (fleet_gateway_assign, in device
 * order). */
static int assign_gateways(struct fleet_world *w, const uint64_t *entity)
{
    struct dispatch *dp = &w->dp;
    dp->gw_of = malloc((size_t)w->n_devs * sizeof(*dp->gw_of) + 1);
    if (dp->gw_of == NULL)
        return SIM_ENOMEM;
    for (uint32_t id = 0; id < w->n_devs; id++)
        dp->gw_of[id] = FLEET_GATEWAY_NONE;
    for (uint32_t k = 0; k < dp->n_kinds; k++) {
        const struct gw_kind *gk = &dp->kinds[k];
        uint64_t serves = gk->cfg.serves != 0 ? gk->cfg.serves : ~0ULL;
        uint32_t n_served = 0, idx = 0;
        for (uint32_t id = 0; id < w->n_devs; id++)
            n_served += (uint32_t)(serves >> w->dev_group[id] & 1);
        for (uint32_t id = 0; id < w->n_devs; id++)
            if (serves >> w->dev_group[id] & 1)
                dp->gw_of[id] =
                    gk->first + fleet_gateway_assign(gk->cfg.assignment, w->seed, entity[id], idx++,
                                                     n_served, gk->cfg.count);
    }
    return 0;
}

/* The partitions (fleet_world_partition): a gateway and the devices it serves interact
 * (they share its links and radio), and a device no gateway serves interacts with nothing
 * but the controller. Part k of n runs the partitions whose first device, counting devices
 * in partition order, falls in the k-th n-th of the devices: contiguous, about equal in
 * devices, and the same in every part. */
int dispatch_assign(struct fleet_world *w, const uint64_t *entity)
{
    struct dispatch *dp = &w->dp;
    if (dp->enabled && dp->n_gw > 0) {
        int rc = assign_gateways(w, entity);
        if (rc != 0)
            return rc;
    }
    if (w->n_parts <= 1)
        return 0;
    uint32_t n_part = dp->n_gw + w->n_devs;
    uint32_t *size = calloc((size_t)n_part + 1, sizeof(*size));
    dp->local = calloc((size_t)w->n_devs + 1, 1);
    dp->gw_local = calloc((size_t)dp->n_gw + 1, 1);
    if (size == NULL || dp->local == NULL || dp->gw_local == NULL) {
        free(size);
        return SIM_ENOMEM;
    }
    for (uint32_t id = 0; id < w->n_devs; id++)
        size[fleet_world_partition(w, id)]++;
    uint64_t before = 0;
    for (uint32_t p = 0; p < n_part; p++) {
        bool mine = before * w->n_parts / (w->n_devs ? w->n_devs : 1) == w->part;
        if (p < dp->n_gw)
            dp->gw_local[p] = mine;
        before += size[p];
        size[p] = mine; /* from here: whether partition p is this part's */
    }
    for (uint32_t id = 0; id < w->n_devs; id++)
        dp->local[id] = (uint8_t)size[fleet_world_partition(w, id)];
    free(size);
    return 0;
}

/* ---- epochs: running the world (world.h fleet_world_run) ------------------------------ */

int64_t fleet_world_epoch(const struct fleet_world *w)
{
    return w->dp.ro != NULL ? w->dp.epoch : 0;
}

static int by_arrival(const void *a, const void *b)
{
    const struct fleet_world_result *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* The first epoch time the rollout starts at. */
static int64_t start_tick(const struct dispatch *dp)
{
    return fleet_rollout_epoch_ceil(dp->epoch, dp->start_ns > 0 ? dp->start_ns : 0);
}

/* The controller at epoch time t (the engine's clock is t, no event of t has run): START
 * when due, then the results of every part (sorted here: the parts give them in any
 * order) and the timers due, then the rollback's answer. */
static int dispatch_tick(struct fleet_world *w, int64_t t, struct fleet_world_result *res,
                         uint32_t n)
{
    struct dispatch *dp = &w->dp;
    dp->acted = 0;
    int rc = 0;
    if (!dp->started && t >= start_tick(dp)) {
        dp->started = true;
        rc = fleet_rollout_step(dp->ro, FLEET_ROLLOUT_IN_START, NULL, t);
    }
    if (!dp->started)
        return rc;
    if (n > 1) /* qsort's base may not be NULL, even for no element (C11 7.22.5) */
        qsort(res, n, sizeof(*res), by_arrival);
    struct fleet_rollout_device_result *r = malloc((size_t)n * sizeof(*r) + 1);
    if (r == NULL)
        return SIM_ENOMEM;
    for (uint32_t j = 0; j < n; j++)
        r[j] = (struct fleet_rollout_device_result){res[j].index, (uint8_t)res[j].result};
    struct fleet_rollout_epoch ep = {r, n};
    int e = fleet_rollout_step(dp->ro, FLEET_ROLLOUT_IN_EPOCH, &ep, t);
    free(r);
    rc = rc ? rc : e;
    if (dp->rollback_due) {
        dp->rollback_due = false;
        e = fleet_rollout_step(dp->ro, FLEET_ROLLOUT_IN_ROLLBACK_DONE, NULL, t);
        rc = rc ? rc : e;
    }
    return rc;
}

/* The exchange of a world in one part. */
static int exchange_alone(const struct fleet_world_sync_in *in, struct fleet_world_sync_out *out)
{
    *out = (struct fleet_world_sync_out){(struct fleet_world_result *)in->results, in->n,
                                         in->next_at, in->now, in->flags};
    return 0;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Run the engine up to lim (the events before the next epoch time), then exchange. */
static int run_and_exchange(struct fleet_world *w, int64_t lim, const struct fleet_world_sync *sync,
                            enum sim_stop *stop, struct fleet_world_sync_out *out)
{
    *stop = SIM_STOP_LIMIT;
    struct fleet_world_sync_in in = {NULL, 0, 0, 0, 0};
    int rc = 0;
    if (w->n_blocks > 1) { /* the blocks one after the other (world.h "Blocks") */
        rc = world_blocks_run(w, lim, stop, &in.next_at, &in.now);
    } else {
        rc = lim >= sim_engine_now(w->e) ? sim_engine_run(w->e, lim, stop) : 0;
        in.next_at = sim_engine_next_at(w->e);
        in.now = sim_engine_now(w->e);
    }
    if (rc != 0)
        return rc;
    in.results = w->dp.pend; /* the run may have moved it */
    in.n = w->dp.n_pend;
    if (w->err != 0)
        in.flags |= FLEET_WORLD_SYNC_ERROR;
    if (*stop == SIM_STOP_REQUESTED || *stop == SIM_STOP_INTERRUPTED)
        in.flags |= FLEET_WORLD_SYNC_STOP;
    if (*stop == SIM_STOP_LIMIT && in.next_at != SIM_TIME_MAX)
        in.flags |= FLEET_WORLD_SYNC_LIMIT;
    return sync != NULL ? sync->exchange(sync->ctx, &in, out) : exchange_alone(&in, out);
}

int fleet_world_run(struct fleet_world *w, int64_t until, const struct fleet_world_sync *sync,
                    enum sim_stop *why)
{
    struct dispatch *dp = &w->dp;
    if (dp->ro == NULL || dp->epoch == 0)
        return sim_engine_run(w->e, until, why);
    /* No device result can come before the rollout starts: the first epoch time is its. */
    int64_t t = start_tick(dp);
    for (;;) {
        bool last = t > until || t == SIM_TIME_MAX;
        enum sim_stop stop;
        struct fleet_world_sync_out out;
        int rc = run_and_exchange(w, last ? until : t - 1, sync, &stop, &out);
        if (rc != 0)
            return rc;
        if (out.flags & (FLEET_WORLD_SYNC_ERROR | FLEET_WORLD_SYNC_STOP)) {
            *why = stop == SIM_STOP_INTERRUPTED ? stop : SIM_STOP_REQUESTED;
            return w->err == 0 && (out.flags & FLEET_WORLD_SYNC_ERROR) ? SIM_EINTR : 0;
        }
        if (last) {
            /* as one engine would: LIMIT (now = until) if any part has events left */
            *why = out.flags & FLEET_WORLD_SYNC_LIMIT ? SIM_STOP_LIMIT : SIM_STOP_EMPTY;
            return sim_engine_advance(w->e, out.now);
        }
        rc = sim_engine_advance(w->e, t);
        if (rc == 0)
            rc = dispatch_tick(w, t, out.results, out.n);
        dp->n_pend = 0;
        world_fail(w, rc); /* the next exchange tells the other parts, and every part stops */
        /* The next epoch time: results come from events, so the one after the earliest
         * event of any part; the controller's timers; and the controller's starts and
         * cancels of now make events from t on, whose results count at t + epoch. */
        int64_t next = out.next_at == SIM_TIME_MAX
                           ? SIM_TIME_MAX
                           : fleet_rollout_epoch_ceil(dp->epoch, out.next_at + 1);
        next = min64(next, fleet_rollout_next_due(dp->ro));
        if (!dp->started)
            next = min64(next, start_tick(dp));
        if (dp->acted > 0)
            next = min64(next, t + dp->epoch);
        if (next == SIM_TIME_MAX) {
            t = SIM_TIME_MAX; /* nothing will happen any more: one last (empty) run */
            continue;
        }
        t = next;
    }
}
