/* tests/test_fleet_dispatch.c - the rollout controller driving real devices through the
 * world (models/fleet/dispatch.c): waves in order, the rate limit on real client starts,
 * the error threshold tripping on real failures and not before the minimum count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/fleet/world.h"
#include "sim/engine.h"
#include "sim/error.h"

#include "tests/fleet_rig.h"

#define KIB    1024u
#define SEC(x) ((int64_t)(x)*1000000000LL)
#define MIN(x) (SEC(60) * (x))

/* n_good devices that update, then n_dead whose radio loses every PDU (their client fails
 * after its connect timeout), one attempt each; a 64 KiB image keeps the test fast. */
static void rig_up(struct rig *r, uint32_t n_good, uint32_t n_dead,
                   const struct fleet_rollout_cfg *rc)
{
    struct sim_diag d;
    sim_diag_init(&d);
    r->e = sim_engine_new(0);
    r->w = fleet_world_new(r->e, NULL, 7);
    assert_non_null(r->w);
    uint32_t factory, update;
    const struct mcuboot_image_version v1 = {1, 0, 0, 0}, v2 = {2, 0, 0, 0};
    assert_int_equal(fleet_world_image_add(r->w, 64 * KIB, &v1, &factory, &d), 0);
    assert_int_equal(fleet_world_image_add(r->w, 64 * KIB, &v2, &update, &d), 0);
    const char *names[2] = {"good", "dead"};
    uint32_t counts[2] = {n_good, n_dead};
    for (int k = 0; k < 2; k++) {
        if (counts[k] == 0)
            continue;
        struct fleet_group_cfg g = {.name = names[k],
                                    .board = FLASH_MAP_NRF52840DK,
                                    .mode = MCUBOOT_SLOTS_SWAP_MOVE,
                                    .count = counts[k]};
        fleet_device_cfg_default(&g.dev);
        g.dev.factory_image = factory;
        g.dev.update_image = update;
        g.dev.client.swap_wait = SEC(10);
        g.dev.client.attempts = 1;
        if (k == 1) {
            g.dev.link.loss.model = BLE_LOSS_BERNOULLI;
            g.dev.link.loss.per_good = 1.0;
        }
        uint32_t first;
        assert_int_equal(fleet_world_group_add(r->w, &g, &first, &d), 0);
    }
    int rc2 = fleet_world_rollout_set(r->w, rc, SEC(1), &d);
    if (rc2 != 0)
        fprintf(stderr, "%s", d.text);
    assert_int_equal(rc2, 0);
    assert_int_equal(fleet_world_start(r->w), 0);
}

/* When each device's client first started (its first attempt), -1 if never. */
static int64_t first_start(struct fleet_world *w, uint32_t id)
{
    const struct fleet_device_attempt *a = fleet_device_attempt_get(fleet_world_device(w, id), 0);
    return a != NULL ? a->a.start_ns : -1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void waves_run_in_order_and_the_rate_limit_holds(void **state)
{
    (void)state;
    struct fleet_rollout_cfg c = fleet_rollout_cfg_default();
    c.n_waves = 3;
    c.waves[0] = (struct fleet_rollout_wave){FLEET_ROLLOUT_WAVE_PERCENT, 10};
    c.waves[1] = (struct fleet_rollout_wave){FLEET_ROLLOUT_WAVE_PERCENT, 50};
    c.waves[2] = (struct fleet_rollout_wave){FLEET_ROLLOUT_WAVE_PERCENT, 100};
    c.rate_max_per_min = 6;
    struct rig r;
    rig_up(&r, 40, 0, &c);
    rig_run(&r, 24LL * 3600 * SEC(1));
    const struct fleet_rollout *ro = fleet_world_rollout(r.w);
    assert_int_equal(fleet_rollout_state_get(ro), FLEET_ROLLOUT_ST_DONE);
    struct fleet_world_stats st;
    fleet_world_stats(r.w, &st);
    assert_int_equal(st.updated, 40);

    /* Wave sizes: round(10 % of 40) = 4, round(50 % of 36) = 18, then the 18 left. */
    uint32_t first, count, expect[3] = {4, 18, 18};
    for (uint32_t k = 0; k < 3; k++) {
        assert_int_equal(fleet_rollout_wave_get(ro, k, &first, &count), 0);
        assert_int_equal(count, expect[k]);
    }
    /* The rate: no 60 s span holds more than 6 client starts. */
    int64_t t[40];
    for (uint32_t i = 0; i < 40; i++) {
        t[i] = first_start(r.w, i);
        assert_true(t[i] >= SEC(1));
    }
    qsort(t, 40, sizeof(t[0]), cmp_i64);
    for (uint32_t i = 6; i < 40; i++)
        assert_true(t[i] - t[i - 6] >= MIN(1));
    rig_down(&r);
}

/* 10 good devices and 10 dead ones, one wave; errors trip above 20 % of the wave once 8
 * devices have ended. The controller must not pause before 8 have ended, and must pause
 * at the first result that makes both true. */
static void error_threshold_pauses_only_after_the_minimum(void **state)
{
    (void)state;
    struct fleet_rollout_cfg c = fleet_rollout_cfg_default();
    c.error_threshold = 0.20;
    c.error_min_executed = 8;
    c.rate_max_per_min = 2; /* spread the ends out */
    struct rig r;
    rig_up(&r, 10, 10, &c);
    /* Step the run one minute at a time and watch the controller. */
    bool paused = false;
    for (int m = 1; m <= 24 * 60 && !paused; m++) {
        rig_run(&r, MIN(m));
        struct fleet_rollout_stats s;
        fleet_rollout_stats_get(fleet_world_rollout(r.w), &s);
        uint32_t ended = s.succeeded + s.failed, dead_ended = 0;
        for (uint32_t id = 10; id < 20; id++) /* the dead group: ids 10..19 */
            dead_ended += first_start(r.w, id) >= 0 &&
                          fleet_device_attempt_get(fleet_world_device(r.w, id), 0) != NULL;
        assert_int_equal(s.errors, dead_ended); /* exactly the dead devices fail */
        if (fleet_rollout_state_get(fleet_world_rollout(r.w)) == FLEET_ROLLOUT_ST_PAUSED) {
            assert_true(ended >= 8);
            assert_true(s.errors * 100 > 20 * 20);
            paused = true;
        } else if (ended >= 8) {
            assert_true(s.errors * 100 <= 20 * 20);
        }
    }
    assert_true(paused);
    rig_down(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(waves_run_in_order_and_the_rate_limit_holds),
        cmocka_unit_test(error_threshold_pauses_only_after_the_minimum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
