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

static void cx_start(void *env, uint32_t index, int64_t now)
{
    struct fleet_world *w = env;
    start_client(w, w->dp.order[index], now);
}

static void cx_cancel(void *env, uint32_t index, int64_t now)
{
    struct fleet_world *w = env;
    stop_client(w, w->dp.order[index], now);
}

static void cx_rollback(void *env, int64_t now)
{
    struct fleet_world *w = env;
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
    w->dp.waves++;
    if (w->rec != NULL)
        world_fail(w, recorder_wave_emit(w->rec, wv));
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

/* A client reported the end of an attempt at ev->at: if that was its last, tell the
 * controller. */
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
    struct fleet_rollout_device_result r = {
        dp->rank[dev],
        strcmp(outcome, "updated") == 0 ? FLEET_ROLLOUT_SUCCEEDED : FLEET_ROLLOUT_FAILED,
    };
    world_fail(w, fleet_rollout_step(dp->ro, FLEET_ROLLOUT_IN_DEVICE_RESULT, &r, ev->at));
}

void dispatch_attempt_ended(struct fleet_world *w, uint32_t dev, int64_t now)
{
    struct dispatch *dp = &w->dp;
    if (dp->ro == NULL || dp->status[dev] != DISPATCH_ACTIVE)
        return;
    world_fail(w, sim_engine_schedule(w->e, now, (uint16_t)dp->check_kind, dev, dp->run[dev]));
}

/* ---- building ------------------------------------------------------------------------ */

int fleet_world_rollout_set(struct fleet_world *w, const struct fleet_rollout_cfg *cfg,
                            int64_t start_ns, struct sim_diag *d)
{
    int rc = fleet_rollout_cfg_validate(cfg, d);
    if (rc != 0)
        return rc;
    w->dp.enabled = true;
    w->dp.cfg = *cfg;
    w->dp.start_ns = start_ns;
    return 0;
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
}

const struct fleet_rollout *fleet_world_rollout(const struct fleet_world *w)
{
    return w->dp.ro;
}
