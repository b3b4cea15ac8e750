/* tests/fleet_rig.h - a fleet world on an engine of its own, run and freed with the checks
 * every fleet test makes (the run returns 0, the world raised no error). Each test builds
 * its own world (rig_up). Header-only because each test is its own executable; include it
 * after <cmocka.h>. */
#ifndef TESTS_FLEET_RIG_H
#define TESTS_FLEET_RIG_H

#include "models/fleet/world.h"
#include "sim/engine.h"

struct rig {
    struct sim_engine *e;
    struct fleet_world *w;
};

static inline void rig_run(struct rig *r, int64_t until)
{
    enum sim_stop why;
    assert_int_equal(sim_engine_run(r->e, until, &why), 0);
    assert_int_equal(fleet_world_error(r->w), 0);
}

static inline void rig_down(struct rig *r)
{
    fleet_world_free(r->w);
    sim_engine_free(r->e);
}

#endif /* TESTS_FLEET_RIG_H */
