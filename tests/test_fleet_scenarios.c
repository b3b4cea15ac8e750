/* tests/test_fleet_scenarios.c - issue 6 acceptance through whole scenarios: every fault
 * scenario ends with every device on a valid image; a gateway never has more clients
 * running than its links at any instant; per-device draws do not depend on other groups.
 * Scenarios are the examples under scenarios/fleet/ (made smaller with overrides) and
 * inline texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "models/fleet/world.h"
#include "models/fleet/settings.h"
#include "sim/engine.h"
#include "sim/error.h"
#include "sim/recorder.h"
#include "sim/scenario.h"
#include "tests/db_compare.h"

#define SRC DFUSIM_SOURCE_DIR

struct run {
    struct scenario s;
    struct sim_engine *e;
    struct recorder *rec;
    struct fleet_world *w;
};

/* Load (a file, or text when path is NULL) with overrides, build and run to the end. */
static void run_up(struct run *r, const char *path, const char *text, const char *db,
                   const char *const *set, size_t n_set)
{
    struct sim_diag d;
    sim_diag_init(&d);
    memset(r, 0, sizeof(*r));
    int rc = path != NULL ? scenario_load(path, &fleet_settings_schema, set, n_set, &r->s, &d)
                          : scenario_load_text("inline.yaml", &fleet_settings_schema, text,
                                               strlen(text), set, n_set, &r->s, &d);
    if (rc != 0)
        fail_msg("%s", d.text);
    r->e = sim_engine_new(0);
    if (db != NULL) {
        assert_int_equal(recorder_open(db, &r->rec, &d), 0);
        struct recorder_run run = {r->s.name,
                                   path,
                                   r->s.text,
                                   r->s.text_len,
                                   "dfu",
                                   r->s.seed,
                                   0,
                                   0,
                                   (enum recorder_level)r->s.record};
        int64_t id;
        assert_int_equal(recorder_run_begin(r->rec, &run, &id), 0);
    }
    rc = fleet_world_from_scenario(&r->s, r->e, r->rec, &r->w, &d);
    if (rc != 0)
        fail_msg("%s", d.text);
    enum sim_stop why;
    assert_int_equal(sim_engine_run(r->e, r->s.until, &why), 0);
    assert_int_equal(fleet_world_error(r->w), 0);
    if (r->rec != NULL) {
        assert_int_equal(fleet_world_finish(r->w), 0);
        assert_int_equal(recorder_run_end(r->rec, RECORDER_COMPLETE, NULL, sim_engine_now(r->e),
                                          sim_engine_events_run(r->e)),
                         0);
    }
}

static void run_down(struct run *r)
{
    fleet_world_free(r->w);
    recorder_close(r->rec);
    sim_engine_free(r->e);
    scenario_fini(&r->s);
}

/* Every device runs the old (0) or the new (1) image in its application, never nothing;
 * returns how many run the new one. */
static uint32_t assert_all_on_valid_images(struct run *r)
{
    uint32_t n_new = 0;
    for (uint32_t id = 0; id < fleet_world_n_devices(r->w); id++) {
        const struct fleet_device *dv = fleet_world_device(r->w, id);
        const struct fleet_device_stats *st = fleet_device_stats_get(dv);
        if (fleet_device_state_get(dv) != FLEET_DEV_APP || st->bricked ||
            (st->running_image != 0 && st->running_image != 1))
            fail_msg("%s: device %u in state %d runs image %d (bricked %d)", r->s.name, id,
                     (int)fleet_device_state_get(dv), st->running_image, st->bricked);
        n_new += st->running_image == 1;
    }
    return n_new;
}

/* EVIDENCE-OF (issue 6): the fault examples end with every device on a valid image. */
static void fault_examples_end_on_valid_images(void **state)
{
    (void)state;
    struct run r;
    static const char *const power[] = {"devices.nodes.count=40", "gateways.installers.count=4"};
    run_up(&r, SRC "/scenarios/fleet/power-loss-swap.yaml", NULL, NULL, power, 2);
    assert_int_equal(assert_all_on_valid_images(&r), 40); /* and all of them updated */
    uint32_t cut = 0, losses = 0;
    for (uint32_t id = 0; id < 40; id++) {
        cut += fleet_device_stats_get(fleet_world_device(r.w, id))->n_swap_cuts;
        losses += fleet_device_stats_get(fleet_world_device(r.w, id))->n_power_losses;
    }
    assert_true(cut >= 5 && losses > cut); /* a third cut mid-swap, plus random losses */
    run_down(&r);

    /* 300 devices: the 2 % canary wave is 6, enough for error_min_executed 5. */
    static const char *const abort_[] = {"devices.trackers.count=300"};
    run_up(&r, SRC "/scenarios/fleet/staged-rollout-abort.yaml", NULL, NULL, abort_, 1);
    assert_int_equal(assert_all_on_valid_images(&r), 0); /* the bad build reverted */
    struct fleet_rollout_stats rs;
    fleet_rollout_stats_get(fleet_world_rollout(r.w), &rs);
    assert_int_equal(fleet_rollout_state_get(fleet_world_rollout(r.w)), FLEET_ROLLOUT_ST_CANCELLED);
    assert_int_equal(rs.notified, 6); /* the canary wave only */
    assert_true(rs.errors >= 5);
    run_down(&r);

    /* Two DFU sources: the locked group updates, the lock-less one keeps the old image. */
    static const char *const lock[] = {"devices.with-lock.count=10",
                                       "devices.without-lock.count=10"};
    run_up(&r, SRC "/scenarios/fleet/lock-contention.yaml", NULL, NULL, lock, 2);
    assert_int_equal(assert_all_on_valid_images(&r), 10);
    for (uint32_t id = 0; id < 20; id++) {
        const struct fleet_device_stats *st = fleet_device_stats_get(fleet_world_device(r.w, id));
        assert_int_equal(st->running_image, id < 10 ? 1 : 0);
        assert_true(id < 10 ? st->cc_bytes_written == 0 : st->cc_bytes_written > 0);
    }
    run_down(&r);
}

/* Each fault kind on each bootloader mode that can go back: every device ends on a valid
 * image. */
static void every_fault_on_every_reverting_mode(void **state)
{
    (void)state;
    static const char *const modes[] = {"swap-move", "swap-scratch", "swap-offset",
                                        "direct-xip-revert"};
    /* Each fault, and how many of the 6 devices end on the new image: the transient ones
     * (power, a degrading link) are retried to the end; the image faults go back. -1: any
     * number, none of them confirmed (never-confirm: after its one watchdog reset, the retried
     * upgrade runs the new image in a test boot that nobody can confirm, and Device Manager
     * does not reset a device that runs our image unconfirmed: the next reset reverts it). */
    static const struct {
        const char *yaml;
        int n_new;
    } faults[] = {
        {"{ kind: power-loss, during: upload, at: 30% }", 6},
        {"{ kind: power-loss, during: swap, at: 60% }", 6},
        {"{ kind: power-loss, during: random, mean: 1min, off: 2s }", 6},
        {"{ kind: bad-image, boot: crash, crash_after: 1s }", 0},
        {"{ kind: bad-image, boot: invalid }", 0},
        {"{ kind: never-confirm, reset_after: 1min }", -1},
        {"{ kind: link-degrade, to: 20%, over: 30s }", 6},
    };
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        for (size_t f = 0; f < sizeof(faults) / sizeof(faults[0]); f++) {
            char text[2048];
            snprintf(text, sizeof(text),
                     "name: fault-%zu-%zu\nseed: 3\nuntil: 24h\nrecord: summary\n"
                     "image: { size: 96KiB, version: 2.0.0, installed: 1.0.0 }\n"
                     "client: { kind: device-manager-android, window: 3, swap_wait: 10s, "
                     "attempts: 6, retry_delay: 30s }\n"
                     "devices:\n  - group: g\n    count: 6\n    board: nrf52840dk\n"
                     "    bootloader: %s\n"
                     "gateways:\n  - { name: phone, count: 2, links: 2 }\n"
                     "faults:\n  - %s\n",
                     m, f, modes[m], faults[f].yaml);
            struct run r;
            run_up(&r, NULL, text, NULL, NULL, 0);
            uint32_t n_new = assert_all_on_valid_images(&r);
            for (uint32_t id = 0; faults[f].n_new < 0 && id < 6; id++) {
                const struct fleet_device *dv = fleet_world_device(r.w, id);
                if (fleet_device_stats_get(dv)->running_image == 1 && fleet_device_confirmed(dv))
                    fail_msg("%s with %s: device %u confirmed the new image", modes[m],
                             faults[f].yaml, id);
            }
            if (faults[f].n_new >= 0 && (int)n_new != faults[f].n_new)
                fail_msg("%s with %s: %u devices on the new image, want %d", modes[m],
                         faults[f].yaml, n_new, faults[f].n_new);
            uint32_t losses = 0, crashes = 0;
            for (uint32_t id = 0; id < 6; id++) {
                const struct fleet_device_stats *st =
                    fleet_device_stats_get(fleet_world_device(r.w, id));
                losses += st->n_power_losses;
                crashes += st->n_crashes + st->n_invalid + st->n_fault_resets + st->n_reverts;
            }
            bool xip = strcmp(modes[m], "direct-xip-revert") == 0; /* no swap to cut */
            uint32_t want = f == 2 ? 1u : f == 1 && xip ? 0u : 6u; /* random: some */
            if (f <= 2 && losses < want)
                fail_msg("%s with %s: %u power losses", modes[m], faults[f].yaml, losses);
            if (f >= 3 && f <= 5 && crashes == 0) /* the image did misbehave */
                fail_msg("%s with %s: no crash, refusal or reset", modes[m], faults[f].yaml);
            run_down(&r);
        }
    }
}

static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The most clients of one gateway running at one instant, from the attempt records (an
 * attempt ending at t and one starting at t do not overlap). */
static long long max_concurrent(sqlite3 *db)
{
    return query_int(db, "select max(c) from (select (select count(*) from dfu_attempts b"
                         " where b.gateway_id = a.gateway_id and b.start_ns <= a.start_ns"
                         " and b.end_ns > a.start_ns) as c from dfu_attempts a)");
}

/* EVIDENCE-OF (issue 6): gateway link limits hold at every instant. Every attempt starts
 * when its gateway grants a link and ends before the link is given to another device, so
 * at each attempt's start the attempts of its gateway that overlap it are its active
 * links. The limit is reached (the check can fail), and never exceeded. */
static void gateway_link_limits_hold_at_every_instant(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        const char *set[3];
        long long links;
    } c[] = {
        {SRC "/scenarios/fleet/gateways-20-links.yaml",
         {"devices.floor-nodes.count=120", "gateways.floor-gw.count=2",
          "gateways.floor-gw.links=7"},
         7},
        {SRC "/scenarios/fleet/phones-warehouse.yaml",
         {"devices.shelf-sensors.count=60", "gateways.staff-phones.count=3",
          "gateways.staff-phones.links=2"},
         2},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct run r;
        run_up(&r, c[i].path, NULL, "gw_limits.db", c[i].set, 3);
        run_down(&r);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open("gw_limits.db", &db), SQLITE_OK);
        assert_int_equal(max_concurrent(db), c[i].links);
        assert_true(query_int(db, "select max(max_active) from gateways") == c[i].links);
        assert_int_equal(query_int(db, "select count(*) from dfu_attempts where gateway_id is"
                                       " null"),
                         0);
        sqlite3_close(db);
        unlink("gw_limits.db");
    }
}

/* EVIDENCE-OF (issue 6, CONTRIBUTING.md rule 3): adding a group does not change what the devices
 * of the other groups draw: drawn link parameters and fault membership. */
static void adding_a_group_leaves_the_draws_of_others_unchanged(void **state)
{
    (void)state;
    static const char base[] =
        "name: draws\nseed: 9\nuntil: 1s\nrecord: summary\n"
        "image: { size: 64KiB, version: 2.0.0, installed: 1.0.0 }\n"
        "devices:\n"
        "%s"
        "  - group: a\n    count: 50\n    board: nrf52840dk\n    bootloader: swap-move\n"
        "    link:\n      interval: uniform(7.5ms, 50ms)\n      timeout: 4s\n"
        "      loss: { model: bernoulli, good: \"beta(2, 30)\" }\n"
        "faults:\n  - { kind: power-loss, during: random, share: 30%%, groups: [a] }\n";
    static const char extra[] =
        "  - group: first\n    count: 17\n    board: nrf52840dk\n    bootloader: swap-move\n"
        "    link: { loss: { model: bernoulli, good: \"uniform(0%, 5%)\" } }\n";
    char t1[2048], t2[2048];
    snprintf(t1, sizeof(t1), base, "");
    snprintf(t2, sizeof(t2), base, extra);
    struct run r1, r2;
    run_up(&r1, NULL, t1, NULL, NULL, 0);
    run_up(&r2, NULL, t2, NULL, NULL, 0);
    uint32_t differ_from_first = 0, lossy = 0;
    for (uint32_t i = 0; i < 50; i++) {
        const struct ble_link *l1 = fleet_device_link(fleet_world_device(r1.w, i));
        const struct ble_link *l2 = fleet_device_link(fleet_world_device(r2.w, 17 + i));
        assert_int_equal(l1->cfg.interval_ns, l2->cfg.interval_ns);
        assert_true(l1->cfg.loss.per_good == l2->cfg.loss.per_good);
        assert_int_equal(fleet_device_stats_get(fleet_world_device(r1.w, i))->n_power_losses,
                         fleet_device_stats_get(fleet_world_device(r2.w, 17 + i))->n_power_losses);
        differ_from_first +=
            l1->cfg.interval_ns != fleet_device_link(fleet_world_device(r1.w, 0))->cfg.interval_ns;
        lossy += l1->cfg.loss.per_good > 0;
        assert_true(l1->cfg.interval_ns % 1250000 == 0 && l1->cfg.interval_ns >= 7500000);
    }
    assert_true(differ_from_first > 40 && lossy == 50); /* the draws are real draws */
    run_down(&r1);
    run_down(&r2);
}

/* Run scenario `path` (with overrides) as the CLI does a run with an epoch: layout l,
 * fleet_world_run, the rows in canonical order; into db. Returns the world's blocks. */
static uint32_t run_layout(const char *path, const char *const *set, size_t n_set,
                           const struct fleet_world_layout *l, const char *db)
{
    struct sim_diag d;
    sim_diag_init(&d);
    struct scenario s;
    if (scenario_load(path, &fleet_settings_schema, set, n_set, &s, &d) != 0)
        fail_msg("%s", d.text);
    struct sim_engine *e = sim_engine_new(0);
    struct recorder *rec;
    unlink(db);
    assert_int_equal(recorder_open(db, &rec, &d), 0);
    struct recorder_run run = {
        s.name, path, s.text, s.text_len, "dfu", s.seed, 1, 1, (enum recorder_level)s.record};
    assert_int_equal(recorder_run_begin(rec, &run, NULL), 0);
    struct fleet_world *w;
    if (fleet_world_from_scenario_layout(&s, e, rec, l, &w, &d) != 0)
        fail_msg("%s", d.text);
    assert_true(fleet_world_epoch(w) > 0);
    enum sim_stop why;
    assert_int_equal(fleet_world_run(w, s.until, NULL, &why), 0);
    assert_int_equal(fleet_world_error(w), 0);
    assert_int_equal(fleet_world_finish(w), 0);
    assert_int_equal(recorder_run_canonical(rec), 0);
    assert_int_equal(recorder_run_end(rec, RECORDER_COMPLETE, NULL, sim_engine_now(e),
                                      sim_engine_events_handled(e)),
                     0);
    uint32_t n_blocks = fleet_world_n_blocks(w);
    fleet_world_free(w);
    recorder_close(rec);
    sim_engine_free(e);
    scenario_fini(&s);
    return n_blocks;
}

/* EVIDENCE-OF (issue 18, deliverable 1; world.h "Blocks"): a world with a rollout epoch run
 * as blocks of partitions, each on its own engine, writes the database of one engine, every
 * table (runs.events and sim_end_ns included), whatever the block size: phones that come
 * and go (partitions of a phone and its devices) under waves, thresholds, a rate limit and
 * an execution timeout; devices without gateways (a partition each) under a rollout that
 * a bad image cancels; and the blocks of one part of a world split in two. */
static void blocks_write_the_database_of_one_engine(void **state)
{
    (void)state;
    /* a shorter execution timeout: devices time out, and the errors pause the second wave */
    static const char *const split_set[] = {"rollout.exec_timeout=40min"};
    static const char *const abort_set[] = {"devices.trackers.count=300", "rollout.epoch=30s"};
    static const struct {
        const char *name, *path;
        const char *const *set;
        size_t n_set;
        uint32_t part, n_parts, per, min_blocks;
    } cases[] = {
        {"phones, 7 devices a block", SRC "/tests/scenarios/cli/fleet-split.yaml", split_set, 1, 0,
         1, 7, 4},
        {"phones, a partition a block", SRC "/tests/scenarios/cli/fleet-split.yaml", split_set, 1,
         0, 1, 1, 6},
        {"no gateways, 16 devices a block", SRC "/scenarios/fleet/staged-rollout-abort.yaml",
         abort_set, 2, 0, 1, 16, 8},
        {"part 2 of 2, 5 devices a block", SRC "/tests/scenarios/cli/fleet-split.yaml", split_set,
         1, 1, 2, 5, 4},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("%s\n", cases[i].name);
        struct fleet_world_layout one = {cases[i].part, cases[i].n_parts, FLEET_WORLD_BLOCKS_OFF};
        struct fleet_world_layout blocks = {cases[i].part, cases[i].n_parts, cases[i].per};
        assert_int_equal(
            run_layout(cases[i].path, cases[i].set, cases[i].n_set, &one, "blocks_one.db"), 1);
        assert_true(run_layout(cases[i].path, cases[i].set, cases[i].n_set, &blocks,
                               "blocks_many.db") >= cases[i].min_blocks);
        assert_int_equal(count_differing_tables("blocks_one.db", "blocks_many.db"), 0);
        assert_string_equal(
            query("blocks_one.db", "select events || ' ' || sim_end_ns from runs"),
            query("blocks_many.db", "select events || ' ' || sim_end_ns from runs"));
    }
    /* the cases exercise what they should */
    struct fleet_world_layout one = {0, 1, FLEET_WORLD_BLOCKS_OFF};
    (void)run_layout(cases[0].path, split_set, 1, &one, "blocks_one.db");
    assert_string_equal(query("blocks_one.db", "select group_concat(action) from waves"),
                        "next,pause");
    assert_true(atoi(query("blocks_one.db", "select sum(failed) from waves")) > 0);
    assert_true(atoi(query("blocks_one.db", "select count(*) from sessions")) > 0);
    (void)run_layout(cases[2].path, abort_set, 2, &one, "blocks_one.db");
    assert_true(atoi(query("blocks_one.db", "select count(*) from waves where action = "
                                            "'cancel'")) > 0);
    assert_true(atoi(query("blocks_one.db", "select count(*) from devices where state = "
                                            "'reverted'")) > 0);
    /* automatic: a fleet of fewer than FLEET_WORLD_BLOCK_DEVICES devices is one block */
    struct fleet_world_layout automatic = {0, 1, 0};
    assert_int_equal(run_layout(cases[0].path, split_set, 1, &automatic, "blocks_many.db"), 1);
    unlink("blocks_one.db");
    unlink("blocks_many.db");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fault_examples_end_on_valid_images),
        cmocka_unit_test(every_fault_on_every_reverting_mode),
        cmocka_unit_test(gateway_link_limits_hold_at_every_instant),
        cmocka_unit_test(adding_a_group_leaves_the_draws_of_others_unchanged),
        cmocka_unit_test(blocks_write_the_database_of_one_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
