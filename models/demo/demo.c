/* models/demo/demo.c - the pipeline-demo world (see demo.h).
 *
 * Device states:  WAITING --start--> RUNNING --end--> UPDATED | FAILED
 * Every device is WAITING or RUNNING until its events fire; a run that stops at the time
 * limit records the others as "pending" or "in-progress".
 */
#include "models/demo/demo.h"

#include "sim/rng.h"

#include <gsl/gsl_randist.h>
#include <stdlib.h>

enum demo_state { DEMO_WAITING, DEMO_RUNNING, DEMO_UPDATED, DEMO_FAILED };

static const char *const state_names[] = {
    [DEMO_WAITING] = "pending",
    [DEMO_RUNNING] = "in-progress",
    [DEMO_UPDATED] = "updated",
    [DEMO_FAILED] = "failed",
};

struct demo_device {
    struct sim_rng rng; /* keyed (seed, device id, SIM_RNG_DEMO) */
    int64_t start_ns, end_ns;
    uint32_t group;
    uint8_t state;
};

struct demo_world {
    const struct scenario *scenario;
    struct sim_engine *engine;
    struct recorder *rec;
    struct demo_device *devices;
    uint32_t n_devices;
    uint16_t kind_start, kind_end;
    uint32_t n_attempts; /* attempt ids in the order attempts end, as real models number them */
    int error;
    struct demo_stats stats;
};

static double exp_draw(struct demo_device *d, int64_t mean_ns)
{
    gsl_rng view;
    return mean_ns > 0 ? gsl_ran_exponential(sim_rng_gsl(&d->rng, &view), (double)mean_ns) : 0.0;
}

static void fail_run(struct demo_world *w, int err)
{
    if (w->error == 0)
        w->error = err;
    sim_engine_stop(w->engine);
}

static void on_start(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    struct demo_world *w = ctx;
    struct demo_device *d = &w->devices[ev->target];
    d->state = DEMO_RUNNING;
    d->start_ns = ev->at;
    w->stats.started++;
    /* At least 1 ns, so the end is strictly after the start. */
    int64_t duration = 1 + (int64_t)exp_draw(d, w->scenario->demo.mean_duration);
    int err = sim_engine_schedule(e, ev->at + duration, w->kind_end, ev->target, 0);
    if (err != 0)
        fail_run(w, err);
}

static void on_end(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    (void)e;
    struct demo_world *w = ctx;
    struct demo_device *d = &w->devices[ev->target];
    bool failed = sim_rng_uniform(&d->rng) < w->scenario->demo.failure;
    d->state = failed ? DEMO_FAILED : DEMO_UPDATED;
    d->end_ns = ev->at;
    if (failed)
        w->stats.failed++;
    else
        w->stats.updated++;
    if (w->rec == NULL)
        return;
    const struct recorder_attempt a = {
        .attempt_id = w->n_attempts++,
        .device_id = ev->target,
        .gateway_id = RECORDER_NONE,
        .client = NULL,
        .start_ns = d->start_ns,
        .upload_start_ns = d->start_ns,
        .upload_end_ns = ev->at,
        .reset_ns = RECORDER_NONE,
        .swap_start_ns = RECORDER_NONE,
        .swap_end_ns = RECORDER_NONE,
        .confirm_ns = RECORDER_NONE,
        .end_ns = ev->at,
        .bytes = (int64_t)w->scenario->image.size,
        .chunks = RECORDER_NONE,
        .retries = 0,
        .outcome = state_names[d->state],
        .error = failed ? "pipeline-demo: drawn failure" : NULL,
    };
    int err = recorder_attempt_emit(w->rec, &a);
    if (err != 0)
        fail_run(w, err);
}

int demo_world_new(const struct scenario *s, struct sim_engine *e, struct recorder *rec,
                   struct demo_world **out)
{
    *out = NULL;
    uint64_t total = 0;
    for (size_t g = 0; g < s->n_groups; g++)
        total += s->groups[g].count;
    if (total > UINT32_MAX - 1)
        return SIM_ERANGE;

    struct demo_world *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return SIM_ENOMEM;
    int err = SIM_ENOMEM;
    w->scenario = s;
    w->engine = e;
    w->rec = rec;
    w->n_devices = (uint32_t)total;
    w->stats.devices = total;
    w->devices = calloc(total ? total : 1, sizeof(*w->devices));
    if (w->devices == NULL)
        goto fail;
    int ks = sim_engine_kind_add(e, on_start, w, "demo.start");
    int ke = sim_engine_kind_add(e, on_end, w, "demo.end");
    if (ks < 0 || ke < 0) {
        err = ks < 0 ? ks : ke;
        goto fail;
    }
    w->kind_start = (uint16_t)ks;
    w->kind_end = (uint16_t)ke;

    uint32_t id = 0;
    for (size_t g = 0; g < s->n_groups; g++) {
        for (uint32_t i = 0; i < s->groups[g].count; i++, id++) {
            struct demo_device *d = &w->devices[id];
            sim_rng_init(&d->rng, s->seed, id, SIM_RNG_DEMO);
            d->group = (uint32_t)g;
            d->state = DEMO_WAITING;
            int64_t at = (int64_t)exp_draw(d, s->demo.mean_start);
            err = sim_engine_schedule(e, at, w->kind_start, id, 0);
            if (err != 0)
                goto fail;
        }
    }
    *out = w;
    return 0;
fail:
    demo_world_free(w);
    return err;
}

int demo_world_finish(struct demo_world *w)
{
    if (w->rec == NULL)
        return 0;
    for (uint32_t id = 0; id < w->n_devices; id++) {
        const struct demo_device *d = &w->devices[id];
        const struct recorder_device row = {
            .device_id = id,
            .group_id = d->group,
            .gateway_id = RECORDER_NONE,
            .state = state_names[d->state],
            .attempts = d->state == DEMO_WAITING ? 0 : 1,
            .updated_ns = d->state == DEMO_UPDATED ? d->end_ns : RECORDER_NONE,
        };
        int err = recorder_device_emit(w->rec, &row);
        if (err != 0)
            return err;
    }
    return 0;
}

int demo_world_error(const struct demo_world *w)
{
    return w->error;
}

void demo_world_stats(const struct demo_world *w, struct demo_stats *out)
{
    *out = w->stats;
}

void demo_world_free(struct demo_world *w)
{
    if (w == NULL)
        return;
    free(w->devices);
    free(w);
}
