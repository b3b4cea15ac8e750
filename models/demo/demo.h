/* models/demo/demo.h - the pipeline-demo world: a placeholder that exercises the engine,
 * random streams, scenario and recorder end to end until the real DFU models replace it
 * (issue "One device end to end"). It models no protocol: each device starts one attempt
 * after an exponential delay, the attempt lasts an exponential time, and it fails with a
 * fixed probability. Results are labelled model = "pipeline-demo" in the database.
 */
#ifndef MODELS_DEMO_DEMO_H
#define MODELS_DEMO_DEMO_H

#include "sim/engine.h"
#include "sim/recorder.h"
#include "sim/scenario.h"

#include <stdint.h>

#define DEMO_MODEL_NAME "pipeline-demo"

struct demo_world; /* opaque: owns the device array */

struct demo_stats {
    uint64_t devices, started, updated, failed;
};

/* Build one device per scenario device (groups in order, ids from 0) and schedule each
 * start on e. rec may be NULL (nothing recorded). The world borrows s, e and rec, which
 * must outlive it. Returns 0, SIM_ENOMEM or SIM_ERANGE (too many kinds on e). */
int demo_world_new(const struct scenario *s, struct sim_engine *e, struct recorder *rec,
                   struct demo_world **out);
/* Emit one devices row per device (final state at the engine's current time).
 * Returns 0 or the first recorder error. */
int demo_world_finish(struct demo_world *w);
/* First recorder error seen by an event handler (the handler then stops the engine), 0 if
 * none. */
int demo_world_error(const struct demo_world *w);
void demo_world_stats(const struct demo_world *w, struct demo_stats *out);
void demo_world_free(struct demo_world *w);

#endif /* MODELS_DEMO_DEMO_H */
