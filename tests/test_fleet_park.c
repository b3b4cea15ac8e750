/* tests/test_fleet_park.c - session state on demand (models/fleet/device.c, struct
 * fleet_app): an idle device's application state is parked (given back to the world's
 * spares list) and rebuilt when a session needs it, with the same results as a device that
 * kept it. Checked on behaviour (attempts, stats, slots) and on allocation counts, never
 * on bytes or time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "models/fleet/world.h"
#include "sim/engine.h"
#include "sim/error.h"

#include "tests/fleet_rig.h"

#define KIB        1024u
#define IMAGE_SIZE (256u * KIB)
#define FACTORY    0u
#define UPDATE     1u
#define SEC(x)     ((int64_t)(x)*1000000000LL)

/* n nRF52840 DK devices (swap-move), Device Manager (Android) started by the test
 * (start_ns < 0), a 256 KiB update over a 248 KiB factory image. */
static void rig_up(struct rig *r, uint32_t n, bool parking)
{
    struct sim_diag d;
    sim_diag_init(&d);
    r->e = sim_engine_new(0);
    assert_non_null(r->e);
    r->w = fleet_world_new(r->e, NULL, 42);
    assert_non_null(r->w);
    fleet_world_parking_set(r->w, parking);
    uint32_t idx;
    const struct mcuboot_image_version v1 = {1, 0, 0, 0}, v2 = {2, 0, 0, 0};
    assert_int_equal(fleet_world_image_add(r->w, IMAGE_SIZE - 8 * KIB, &v1, &idx, &d), 0);
    assert_int_equal(fleet_world_image_add(r->w, IMAGE_SIZE, &v2, &idx, &d), 0);
    struct fleet_group_cfg g = {
        .name = "g", .board = FLASH_MAP_NRF52840DK, .mode = MCUBOOT_SLOTS_SWAP_MOVE, .count = n};
    fleet_device_cfg_default(&g.dev);
    g.dev.factory_image = FACTORY;
    g.dev.update_image = UPDATE;
    g.dev.client.swap_wait = SEC(10);
    g.dev.start_ns = -1;
    uint32_t first;
    assert_int_equal(fleet_world_group_add(r->w, &g, &first, &d), 0);
    assert_int_equal(first, 0);
    assert_int_equal(fleet_world_start(r->w), 0);
}

/* ------------------------------------------------------------------------------------
 * An idle fleet holds no session part: each device's application starts, its modules see
 * the start's events, and it parks in the same engine event; the parts are built one at
 * a time, so the whole fleet allocated one.
 * ------------------------------------------------------------------------------------ */
static void idle_fleet_holds_no_session_parts(void **state)
{
    (void)state;
    enum { N = 64 };
    struct rig r;
    rig_up(&r, N, true);
    rig_run(&r, SEC(10));
    for (uint32_t i = 0; i < N; i++) {
        struct fleet_device *dev = fleet_world_device(r.w, i);
        assert_int_equal(fleet_device_state_get(dev), FLEET_DEV_APP);
        assert_true(fleet_device_parked(dev));
    }
    struct fleet_device_spares_stats st = fleet_world_spares_stats(r.w);
    assert_int_equal(st.n_live, 0);
    assert_int_equal(st.n_made, 1);
    assert_int_equal(st.n_free, 1);
    assert_int_equal(st.n_parks, N);
    assert_int_equal(st.n_unparks, 0);
    assert_int_equal(st.n_kept, 0);
    rig_down(&r);
}

/* What a run leaves that a parked device could change: every attempt and the stats. */
struct outcome {
    uint32_t n;
    struct recorder_attempt a[4];
    int32_t smp_rc[4];
    char error[4][96];
    struct fleet_device_stats st;
    int8_t active;
    bool confirmed;
    struct fleet_device_spares_stats sp;
    bool parked_between, parked_after_update, parked_at_end;
};

/* Session 1 starts at 30 s and the host leaves mid-upload (33 s); session 2 resumes the
 * upload (img_mgmt kept its offset across the disconnect) and updates; session 3, after
 * the device sat updated and idle on its connected link, lists the images again. */
static void three_sessions(bool parking, struct outcome *o)
{
    struct rig r;
    rig_up(&r, 1, parking);
    struct fleet_device *dev = fleet_world_device(r.w, 0);
    rig_run(&r, SEC(30));
    assert_int_equal(fleet_device_client_start(dev, SEC(30)), 0);
    rig_run(&r, SEC(33));
    assert_int_equal(fleet_device_host_leave(dev, SEC(33)), 0);
    rig_run(&r, SEC(300));
    o->parked_between = fleet_device_parked(dev);
    assert_int_equal(fleet_device_client_start(dev, SEC(300)), 0);
    rig_run(&r, SEC(900));
    o->parked_after_update = fleet_device_parked(dev);
    assert_int_equal(fleet_device_client_start(dev, SEC(900)), 0);
    rig_run(&r, SEC(1500));
    o->parked_at_end = fleet_device_parked(dev);
    const struct fleet_device_stats *st = fleet_device_stats_get(dev);
    o->st = *st;
    o->n = st->n_attempts;
    assert_true(o->n <= 4);
    for (uint32_t i = 0; i < o->n; i++) {
        const struct fleet_device_attempt *l = fleet_device_attempt_get(dev, i);
        assert_non_null(l);
        o->a[i] = l->a;
        o->smp_rc[i] = l->smp_rc;
        snprintf(o->error[i], sizeof(o->error[i]), "%s", l->a.error ? l->a.error : "");
        o->a[i].error = NULL;
    }
    o->active = fleet_device_slots(dev)->active;
    o->confirmed = fleet_device_confirmed(dev);
    o->sp = fleet_world_spares_stats(r.w);
    rig_down(&r);
}

#define SAME(field) assert_int_equal(p->field, k->field)

/* ------------------------------------------------------------------------------------
 * A device updated over sessions with disconnects in between gives the same attempts,
 * times, bytes and device state whether it parks between sessions or keeps its state;
 * mid-upload it is not idle (img_mgmt's upload state is kept, as Zephyr keeps it across
 * a reconnect), and once updated it parks on its idle link.
 * ------------------------------------------------------------------------------------ */
static void sessions_give_the_same_results_parked_or_not(void **state)
{
    (void)state;
    static struct outcome parked, kept;
    three_sessions(true, &parked);
    three_sessions(false, &kept);
    const struct outcome *p = &parked, *k = &kept;
    assert_int_equal(p->n, 3);
    SAME(n);
    for (uint32_t i = 0; i < p->n; i++) {
        SAME(a[i].attempt_id);
        SAME(a[i].start_ns);
        SAME(a[i].connect_ns);
        SAME(a[i].validate_ns);
        SAME(a[i].upload_start_ns);
        SAME(a[i].upload_end_ns);
        SAME(a[i].test_ns);
        SAME(a[i].reset_ns);
        SAME(a[i].swap_start_ns);
        SAME(a[i].swap_end_ns);
        SAME(a[i].reconnect_ns);
        SAME(a[i].confirm_ns);
        SAME(a[i].end_ns);
        SAME(a[i].bytes_sent);
        SAME(a[i].bytes_resent);
        SAME(a[i].image_bytes);
        SAME(a[i].chunks);
        SAME(a[i].retries);
        SAME(a[i].retransmissions);
        SAME(smp_rc[i]);
        assert_string_equal(p->a[i].outcome, k->a[i].outcome);
        assert_string_equal(p->error[i], k->error[i]);
    }
    assert_string_equal(p->a[0].outcome, "failed"); /* the host left */
    assert_string_equal(p->a[1].outcome, "updated");
    assert_true(p->a[1].bytes_sent < (int64_t)IMAGE_SIZE); /* resumed, not from 0 */
    SAME(st.boot_ns);
    SAME(st.swap_start_ns);
    SAME(st.swap_end_ns);
    SAME(st.updated_ns);
    SAME(st.bytes_sent);
    SAME(st.image_bytes);
    SAME(st.n_boots);
    SAME(st.n_swaps);
    SAME(st.n_unexpected);
    SAME(st.n_rejects);
    SAME(st.running_image);
    SAME(active);
    SAME(confirmed);
    assert_true(p->confirmed);

    /* parked: not between sessions 1 and 2 (an upload in progress), after the update
     * and at the end; kept: never */
    assert_false(p->parked_between);
    assert_true(p->parked_after_update);
    assert_true(p->parked_at_end);
    assert_false(k->parked_between || k->parked_after_update || k->parked_at_end);
    /* one device: one part, rebuilt for sessions 2 and 3, released after each */
    assert_int_equal(p->sp.n_made, 1);
    assert_int_equal(p->sp.n_live, 0);
    assert_true(p->sp.n_unparks >= 2);
    assert_true(p->sp.n_parks >= 3);
    assert_true(p->sp.n_kept > 0); /* the check refused while the upload was pending */
    assert_int_equal(k->sp.n_parks, 0);
    assert_int_equal(k->sp.n_live, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idle_fleet_holds_no_session_parts),
        cmocka_unit_test(sessions_give_the_same_results_parked_or_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
