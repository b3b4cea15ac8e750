/* tests/test_fleet_faults.c - injected faults at the device level (models/fleet/device.h
 * "Faults"), per fault and per MCUboot mode, through a whole world: every device must end
 * on a valid image (old or new, the one each mode and fault implies) or, where the mode
 * cannot revert, be reported bricked. Also the host-side inputs: a client started by the
 * world, a host that leaves and a new session that resumes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "models/fleet/world.h"
#include "models/smp/mgmt.h"
#include "sim/recorder.h"
#include "sim/engine.h"
#include "sim/error.h"

#define KIB        1024u
#define IMAGE_SIZE (256u * KIB)
#define FACTORY    0u
#define UPDATE     1u
#define MS(x)      ((int64_t)(x)*1000000LL)
#define SEC(x)     ((int64_t)(x)*1000000000LL)

struct rig {
    struct sim_engine *e;
    struct fleet_world *w;
    struct fleet_device *dev;
    struct fleet_device_faults f;
};

struct setup {
    enum mcuboot_slots_mode mode;
    uint32_t faults; /* FLEET_FAULTS_* */
    enum client_dfu_mode client_mode;
    uint32_t attempts;
    int64_t start_ns;
    void (*tweak)(struct fleet_device_faults *f);
    void (*dev_tweak)(struct fleet_device_cfg *c); /* firmware settings of the group */
    struct recorder *rec;                          /* NULL: no records */
};

/* One nRF52840 DK device, Device Manager (Android) with up to `attempts` attempts 5 s
 * apart, a 256 KiB update over a 248 KiB factory image, the faults of s applied. */
static void rig_up(struct rig *r, const struct setup *s)
{
    struct sim_diag d;
    sim_diag_init(&d);
    r->e = sim_engine_new(0);
    assert_non_null(r->e);
    r->w = fleet_world_new(r->e, s->rec, 42);
    assert_non_null(r->w);
    uint32_t idx;
    const struct mcuboot_image_version v1 = {1, 0, 0, 0}, v2 = {2, 0, 0, 0};
    assert_int_equal(fleet_world_image_add(r->w, IMAGE_SIZE - 8 * KIB, &v1, &idx, &d), 0);
    assert_int_equal(idx, FACTORY);
    assert_int_equal(fleet_world_image_add(r->w, IMAGE_SIZE, &v2, &idx, &d), 0);
    assert_int_equal(idx, UPDATE);
    struct fleet_group_cfg g = {
        .name = "g", .board = FLASH_MAP_NRF52840DK, .mode = s->mode, .count = 1};
    fleet_device_cfg_default(&g.dev);
    g.dev.factory_image = FACTORY;
    g.dev.update_image = UPDATE;
    g.dev.client.swap_wait = SEC(10);
    g.dev.client.mode = s->client_mode;
    g.dev.client.attempts = s->attempts ? s->attempts : 1;
    g.dev.client.retry_delay = SEC(5);
    g.dev.start_ns = s->start_ns;
    if (s->dev_tweak != NULL)
        s->dev_tweak(&g.dev);
    uint32_t first;
    int rc = fleet_world_group_add(r->w, &g, &first, &d);
    if (rc != 0)
        fprintf(stderr, "%s", d.text);
    assert_int_equal(rc, 0);
    /* devices exist from the start (powered on at 0): the faults apply from then on */
    assert_int_equal(fleet_world_start(r->w), 0);
    r->dev = fleet_world_device(r->w, first);
    fleet_device_faults_default(&r->f);
    if (s->tweak != NULL)
        s->tweak(&r->f);
    assert_int_equal(fleet_device_faults_set(r->dev, &r->f, s->faults, 0), 0);
}

static enum sim_stop rig_run(struct rig *r, int64_t until)
{
    enum sim_stop why;
    assert_int_equal(sim_engine_run(r->e, until, &why), 0);
    assert_int_equal(fleet_world_error(r->w), 0);
    return why;
}

static void rig_down(struct rig *r)
{
    fleet_world_free(r->w);
    sim_engine_free(r->e);
}

static const struct fleet_device_attempt *last_attempt(const struct fleet_device *dev)
{
    const struct fleet_device_attempt *l = NULL;
    for (uint32_t i = 0; fleet_device_attempt_get(dev, i) != NULL; i++)
        l = fleet_device_attempt_get(dev, i);
    assert_non_null(l);
    return l;
}

/* The device runs `image` from its primary (swap modes) or active slot, confirmed, in APP. */
static void assert_runs(const struct fleet_device *dev, uint32_t image)
{
    const struct fleet_device_stats *st = fleet_device_stats_get(dev);
    assert_int_equal(fleet_device_state_get(dev), FLEET_DEV_APP);
    assert_int_equal(st->running_image, (int)image);
    assert_false(st->bricked);
    const struct mcuboot_slots *sl = fleet_device_slots(dev);
    int slot = sl->cfg->mode >= MCUBOOT_SLOTS_DIRECT_XIP ? sl->active : 0;
    assert_int_equal(mcuboot_slots_image_in(sl, slot), (int)image);
    assert_true(fleet_device_confirmed(dev));
}

static const char *mode_name(enum mcuboot_slots_mode m)
{
    static const char *const n[MCUBOOT_SLOTS_MODE_COUNT] = {
        "overwrite-only", "swap-scratch",      "swap-move", "swap-offset",
        "direct-xip",     "direct-xip-revert", "ram-load",  "ram-load-revert"};
    return n[m];
}

/* ------------------------------------------------------------------------------------
 * No fault: the faults API with no bit set changes nothing (the same run as without it).
 * ------------------------------------------------------------------------------------ */
static void no_fault_updates(void **state)
{
    (void)state;
    struct rig r;
    struct setup s = {.mode = MCUBOOT_SLOTS_SWAP_MOVE};
    rig_up(&r, &s);
    assert_int_equal(rig_run(&r, SEC(600)), SIM_STOP_EMPTY);
    assert_runs(r.dev, UPDATE);
    const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
    assert_int_equal(st->n_power_losses, 0);
    assert_int_equal(st->n_crashes, 0);
    const char *o;
    assert_true(fleet_device_client_done(r.dev, &o));
    assert_string_equal(o, "updated");
    rig_down(&r);
}

/* ------------------------------------------------------------------------------------
 * power-loss during upload: the power fails as the SMP server writes the chunk that
 * reaches 50 % of the image; the attempt fails (the link is lost), the device boots its
 * old image again (nothing was pending), the client's next attempt uploads again and the
 * device ends updated. The cut write left garbage: the old image kept running meanwhile.
 * ------------------------------------------------------------------------------------ */
static void power_loss_upload_then_retry_updates(void **state)
{
    (void)state;
    static const enum mcuboot_slots_mode modes[] = {
        MCUBOOT_SLOTS_SWAP_MOVE, MCUBOOT_SLOTS_SWAP_SCRATCH, MCUBOOT_SLOTS_OVERWRITE,
        MCUBOOT_SLOTS_DIRECT_XIP_REVERT};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        struct rig r;
        struct setup s = {.mode = modes[i], .faults = FLEET_FAULTS_POWER_UPLOAD, .attempts = 3};
        fprintf(stderr, "mode %s\n", mode_name(modes[i]));
        rig_up(&r, &s);
        rig_run(&r, SEC(900));
        const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
        assert_int_equal(st->n_power_losses, 1);
        assert_int_equal(st->n_swap_cuts, 0);
        assert_true(st->n_attempts >= 2);
        const struct fleet_device_attempt *a0 = fleet_device_attempt_get(r.dev, 0);
        /* lost mid-upload: the chunk's response timeout or the drop ends it */
        assert_string_not_equal(a0->a.outcome, "updated");
        assert_int_equal(a0->a.reset_ns, RECORDER_NONE);
        assert_true(a0->a.upload_end_ns == RECORDER_NONE);
        assert_string_equal(last_attempt(r.dev)->a.outcome, "updated");
        assert_runs(r.dev, UPDATE);
        assert_int_equal(st->n_boots, 3); /* power on, after the loss, after the test reset */
        rig_down(&r);
    }
}

/* ------------------------------------------------------------------------------------
 * power-loss during the swap, every copying mode: the power fails after half of MCUboot's
 * steps; at the next boot MCUboot resumes the swap from its status (overwrite-only: copies
 * again while the secondary is intact) and the update runs.
 * EVIDENCE-OF: mcu-tools/mcuboot: swap_status_source() and swap_read_status_bytes() in
 *   boot/bootutil/src/swap_move.c, swap_offset.c; docs/design.md "Reset recovery": a swap
 *   interrupted by a reset resumes from the status area
 * ------------------------------------------------------------------------------------ */
static void power_loss_swap_resumes(void **state)
{
    (void)state;
    static const enum mcuboot_slots_mode modes[] = {
        MCUBOOT_SLOTS_OVERWRITE, MCUBOOT_SLOTS_SWAP_SCRATCH, MCUBOOT_SLOTS_SWAP_MOVE,
        MCUBOOT_SLOTS_SWAP_OFFSET};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        struct rig r;
        struct setup s = {.mode = modes[i], .faults = FLEET_FAULTS_POWER_SWAP, .attempts = 2};
        fprintf(stderr, "mode %s\n", mode_name(modes[i]));
        rig_up(&r, &s);
        rig_run(&r, SEC(900));
        const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
        assert_int_equal(st->n_power_losses, 1);
        assert_int_equal(st->n_swap_cuts, 1);
        assert_int_equal(st->n_swaps, 1); /* the resumed swap */
        assert_int_equal(st->n_boots, 3); /* power on, cut swap, resumed swap */
        assert_runs(r.dev, UPDATE);
        assert_string_equal(fleet_device_outcome(r.dev), "updated");
        /* the cut boot and the resumed one: off for 1 s between them */
        assert_true(st->swap_start_ns - st->boot_ns == 0);
        rig_down(&r);
    }
}

/* ------------------------------------------------------------------------------------
 * power-loss at random (mean 8 s, far shorter than one DFU): the device takes several
 * losses, in the application and in MCUboot, and still ends on a valid image; the losses
 * stop when the client's run is over (the engine runs dry); two runs draw the same times.
 * ------------------------------------------------------------------------------------ */
static void random_mean_8s(struct fleet_device_faults *f)
{
    f->mean_ns = SEC(8);
}

static void power_loss_random_ends_valid_and_stops(void **state)
{
    (void)state;
    static const enum mcuboot_slots_mode modes[] = {
        MCUBOOT_SLOTS_SWAP_MOVE, MCUBOOT_SLOTS_SWAP_SCRATCH, MCUBOOT_SLOTS_DIRECT_XIP_REVERT};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        uint32_t losses[2];
        int64_t end[2];
        for (int run = 0; run < 2; run++) {
            struct rig r;
            struct setup s = {.mode = modes[i],
                              .faults = FLEET_FAULTS_POWER_RANDOM,
                              .attempts = 40,
                              .tweak = random_mean_8s};
            rig_up(&r, &s);
            assert_int_equal(rig_run(&r, SEC(24 * 3600)), SIM_STOP_EMPTY);
            const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
            fprintf(stderr, "mode %s: %u power losses (%u in a swap), %u attempts, %s\n",
                    mode_name(modes[i]), st->n_power_losses, st->n_swap_cuts, st->n_attempts,
                    fleet_device_outcome(r.dev));
            assert_true(st->n_power_losses >= 2);
            assert_true(fleet_device_client_done(r.dev, NULL));
            assert_int_not_equal(fleet_device_state_get(r.dev), FLEET_DEV_DEAD);
            uint32_t img = (uint32_t)st->running_image;
            assert_true(img == FACTORY || img == UPDATE);
            assert_runs(r.dev, img);
            losses[run] = st->n_power_losses;
            end[run] = sim_engine_now(r.e);
            rig_down(&r);
        }
        assert_int_equal(losses[0], losses[1]);
        assert_int_equal(end[0], end[1]);
    }
}

/* ------------------------------------------------------------------------------------
 * bad-image crash: the new image crashes 2 s after it starts and never confirms itself.
 * Modes that revert end on the old image (swap TEST: revert swap; direct-xip-revert:
 * the other slot); modes that cannot end bricked (DEAD), a result, not a failure.
 * ------------------------------------------------------------------------------------ */
static const struct {
    const char *name;
    enum mcuboot_slots_mode mode;
    enum client_dfu_mode client_mode;
    bool bricked;
} crash_cases[] = {
    {"swap-move test reverts", MCUBOOT_SLOTS_SWAP_MOVE, CLIENT_DFU_MODE_TEST_AND_CONFIRM, false},
    {"swap-scratch test reverts", MCUBOOT_SLOTS_SWAP_SCRATCH, CLIENT_DFU_MODE_TEST_AND_CONFIRM,
     false},
    {"swap-offset test reverts", MCUBOOT_SLOTS_SWAP_OFFSET, CLIENT_DFU_MODE_TEST_AND_CONFIRM,
     false},
    {"direct-xip-revert falls back", MCUBOOT_SLOTS_DIRECT_XIP_REVERT,
     CLIENT_DFU_MODE_TEST_AND_CONFIRM, false},
    {"swap-move confirm-only bricks", MCUBOOT_SLOTS_SWAP_MOVE, CLIENT_DFU_MODE_CONFIRM_ONLY, true},
    {"overwrite-only bricks", MCUBOOT_SLOTS_OVERWRITE, CLIENT_DFU_MODE_TEST_AND_CONFIRM, true},
    {"direct-xip bricks", MCUBOOT_SLOTS_DIRECT_XIP, CLIENT_DFU_MODE_TEST_AND_CONFIRM, true},
};

static void bad_image_crash_reverts_or_bricks(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(crash_cases) / sizeof(crash_cases[0]); i++) {
        fprintf(stderr, "case: %s\n", crash_cases[i].name);
        struct rig r;
        struct setup s = {.mode = crash_cases[i].mode,
                          .faults = FLEET_FAULTS_BAD_IMAGE,
                          .client_mode = crash_cases[i].client_mode};
        rig_up(&r, &s);
        assert_int_equal(rig_run(&r, SEC(3600)), SIM_STOP_EMPTY);
        const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
        assert_true(st->ran_update);
        assert_true(st->n_crashes >= 1);
        assert_true(fleet_device_client_done(r.dev, NULL));
        if (crash_cases[i].bricked) {
            assert_int_equal(fleet_device_state_get(r.dev), FLEET_DEV_DEAD);
            assert_true(st->bricked);
            assert_int_equal(st->n_crashes, 1); /* the second run of the image is the end */
            assert_string_equal(fleet_device_outcome(r.dev), "dead");
        } else {
            assert_runs(r.dev, FACTORY);
            assert_int_equal(st->n_crashes, 1);
            assert_int_equal(st->n_reverts, 1);
            assert_string_equal(fleet_device_outcome(r.dev), "reverted");
            /* the update never got confirmed: the client's confirm was refused */
            assert_int_equal(st->updated_ns, RECORDER_NONE);
        }
        rig_down(&r);
    }
}

/* ------------------------------------------------------------------------------------
 * bad-image invalid: the uploaded image fails MCUboot's validation. Swap modes: no swap,
 * the secondary is scrambled (erased), the old image keeps running; direct-xip-revert:
 * the slot is not booted.
 * EVIDENCE-OF: mcu-tools/mcuboot: boot/bootutil/src/loader.c, boot_validate_slot() failing
 *   erases (scrambles) the secondary
 * ------------------------------------------------------------------------------------ */
static void invalid(struct fleet_device_faults *f)
{
    f->bad_image = FLEET_BAD_IMAGE_INVALID;
}

static void bad_image_invalid_is_refused(void **state)
{
    (void)state;
    static const enum mcuboot_slots_mode modes[] = {
        MCUBOOT_SLOTS_SWAP_MOVE, MCUBOOT_SLOTS_SWAP_OFFSET, MCUBOOT_SLOTS_OVERWRITE,
        MCUBOOT_SLOTS_DIRECT_XIP_REVERT, MCUBOOT_SLOTS_DIRECT_XIP};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        fprintf(stderr, "mode %s\n", mode_name(modes[i]));
        struct rig r;
        struct setup s = {.mode = modes[i], .faults = FLEET_FAULTS_BAD_IMAGE, .tweak = invalid};
        rig_up(&r, &s);
        assert_int_equal(rig_run(&r, SEC(3600)), SIM_STOP_EMPTY);
        const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
        assert_int_equal(st->n_invalid, 1);
        assert_false(st->ran_update);
        assert_int_equal(st->n_crashes, 0);
        assert_runs(r.dev, FACTORY);
        if (modes[i] < MCUBOOT_SLOTS_DIRECT_XIP) {
            assert_int_equal(st->n_swaps, 0);
            assert_int_equal(mcuboot_slots_image_in(fleet_device_slots(r.dev), 1),
                             MCUBOOT_SLOTS_NONE);
        } else {
            assert_int_equal(fleet_device_slots(r.dev)->active, 0);
        }
        rig_down(&r);
    }
}

/* ------------------------------------------------------------------------------------
 * never-confirm: the new image runs but every confirm answers an error (the client's
 * attempt fails at its confirm); 60 s after it started the device is reset and MCUboot
 * reverts (swap TEST) or falls back (direct-xip-revert). One reset only.
 * ------------------------------------------------------------------------------------ */
static void reset_after_60s(struct fleet_device_faults *f)
{
    f->reset_after_ns = SEC(60);
}

static void never_confirm_reverts_after_reset(void **state)
{
    (void)state;
    static const enum mcuboot_slots_mode modes[] = {
        MCUBOOT_SLOTS_SWAP_MOVE, MCUBOOT_SLOTS_SWAP_SCRATCH, MCUBOOT_SLOTS_DIRECT_XIP_REVERT};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        fprintf(stderr, "mode %s\n", mode_name(modes[i]));
        struct rig r;
        struct setup s = {
            .mode = modes[i], .faults = FLEET_FAULTS_NEVER_CONFIRM, .tweak = reset_after_60s};
        rig_up(&r, &s);
        assert_int_equal(rig_run(&r, SEC(3600)), SIM_STOP_EMPTY);
        const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
        const struct fleet_device_attempt *l = last_attempt(r.dev);
        assert_string_equal(l->a.outcome, "failed");
        assert_int_not_equal(l->smp_rc, RECORDER_NONE); /* the confirm's error */
        assert_int_equal(st->n_fault_resets, 1);
        assert_true(st->ran_update);
        assert_int_equal(st->updated_ns, RECORDER_NONE);
        assert_runs(r.dev, FACTORY);
        assert_string_equal(fleet_device_outcome(r.dev), "reverted");
        /* the revert boot came 60 s after the update's application started */
        assert_int_equal(st->n_boots, 3);
        rig_down(&r);
    }
}

/* ------------------------------------------------------------------------------------
 * link-degrade: the loss per PDU ramps from 0 to 30 % over the first second (before the
 * client starts); the link loses PDUs (none without the fault), the LL
 * retransmits them and the DFU still completes, later than without the fault.
 * ------------------------------------------------------------------------------------ */
static void degrade_fast(struct fleet_device_faults *f)
{
    f->degrade_from_ns = SEC(0);
    f->degrade_over_ns = SEC(1);
}

static void link_degrade_loses_pdus_and_slows(void **state)
{
    (void)state;
    int64_t end[2];
    uint64_t lost[2], pdus[2];
    for (int k = 0; k < 2; k++) {
        struct rig r;
        struct setup s = {.mode = MCUBOOT_SLOTS_SWAP_MOVE,
                          .faults = k ? FLEET_FAULTS_LINK_DEGRADE : 0,
                          .tweak = degrade_fast};
        rig_up(&r, &s);
        rig_run(&r, SEC(3600));
        assert_runs(r.dev, UPDATE);
        lost[k] = fleet_device_link(r.dev)->stats.n_lost;
        pdus[k] =
            fleet_device_link(r.dev)->stats.n_pdus[0] + fleet_device_link(r.dev)->stats.n_pdus[1];
        end[k] = last_attempt(r.dev)->a.end_ns;
        fprintf(stderr, "degrade %d: %llu PDUs lost of %llu, DFU ends at %.3f s\n", k,
                (unsigned long long)lost[k], (unsigned long long)pdus[k], end[k] / 1e9);
        rig_down(&r);
    }
    assert_int_equal(lost[0], 0);
    assert_true(lost[1] > pdus[1] / 5); /* n_lost counts empty (ack) PDUs too */
    assert_true(end[1] > end[0]);
}

/* ------------------------------------------------------------------------------------
 * start_ns < 0: the client waits for fleet_device_client_start. The host leaves in the
 * middle of the upload: the attempt ends "host left", the link goes down and stays down;
 * a new session later resumes the upload where img_mgmt kept it and updates.
 * ------------------------------------------------------------------------------------ */
static void host_leaves_and_new_session_resumes(void **state)
{
    (void)state;
    struct rig r;
    struct setup s = {.mode = MCUBOOT_SLOTS_SWAP_MOVE, .start_ns = -1};
    rig_up(&r, &s);
    rig_run(&r, SEC(30));
    const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
    assert_int_equal(client_dfu_state_get(fleet_device_client(r.dev)), CLIENT_DFU_IDLE);
    assert_int_equal(st->n_attempts, 0);
    assert_false(fleet_device_client_done(r.dev, NULL));

    assert_int_equal(fleet_device_client_start(r.dev, SEC(30)), 0);
    rig_run(&r, SEC(33)); /* mid-upload */
    assert_int_equal(client_dfu_state_get(fleet_device_client(r.dev)), CLIENT_DFU_UPLOAD);
    assert_int_equal(fleet_device_host_leave(r.dev, SEC(33)), 0);
    assert_int_equal(st->n_attempts, 1);
    const struct fleet_device_attempt *a = fleet_device_attempt_get(r.dev, 0);
    assert_string_equal(a->a.outcome, "failed");
    assert_string_equal(a->a.error, "host left");
    assert_int_equal(a->a.end_ns, SEC(33));
    const char *o;
    assert_true(fleet_device_client_done(r.dev, &o));
    assert_string_equal(o, "failed");
    assert_int_equal(client_dfu_inflight_get(fleet_device_client(r.dev)), 0);
    uint64_t bytes0 = (uint64_t)a->a.bytes_sent, image0 = (uint64_t)a->a.image_bytes;
    uint32_t id0 = a->a.attempt_id; /* a is valid until the next attempt ends */

    /* nobody reconnects: the link stays down, nothing else happens */
    assert_int_equal(rig_run(&r, SEC(600)), SIM_STOP_EMPTY);
    assert_int_equal(ble_link_state_get(fleet_device_link(r.dev)), BLE_LINK_DISCONNECTED);
    assert_int_equal(st->n_attempts, 1);
    assert_int_equal(st->running_image, FACTORY);

    /* a new session resumes the upload (img_mgmt kept its offset across the disconnect) */
    int64_t t = sim_engine_now(r.e);
    assert_int_equal(fleet_device_client_start(r.dev, t), 0);
    rig_run(&r, t + SEC(600));
    assert_int_equal(st->n_attempts, 2);
    const struct fleet_device_attempt *b = fleet_device_attempt_get(r.dev, 1);
    assert_string_equal(b->a.outcome, "updated");
    assert_int_equal(b->a.attempt_id, id0 + 1);
    assert_true(bytes0 > 0);
    assert_true((uint64_t)b->a.bytes_sent < IMAGE_SIZE - bytes0 / 2);  /* resumed, not from 0 */
    assert_int_equal(image0 + (uint64_t)b->a.image_bytes, IMAGE_SIZE); /* each byte once */
    assert_true(fleet_device_client_done(r.dev, &o));
    assert_string_equal(o, "updated");
    assert_runs(r.dev, UPDATE);
    rig_down(&r);
}

/* ------------------------------------------------------------------------------------
 * Bad parameters are refused and leave the device unchanged.
 * ------------------------------------------------------------------------------------ */
static void faults_set_checks_parameters(void **state)
{
    (void)state;
    struct rig r;
    struct setup s = {.mode = MCUBOOT_SLOTS_SWAP_MOVE};
    rig_up(&r, &s);
    struct fleet_device_faults f;
    fleet_device_faults_default(&f);
    f.upload_at = 0;
    assert_int_equal(fleet_device_faults_set(r.dev, &f, FLEET_FAULTS_POWER_UPLOAD, 0), SIM_EINVAL);
    fleet_device_faults_default(&f);
    f.swap_at = 1.0;
    assert_int_equal(fleet_device_faults_set(r.dev, &f, FLEET_FAULTS_POWER_SWAP, 0), SIM_EINVAL);
    fleet_device_faults_default(&f);
    assert_int_equal(fleet_device_faults_set(r.dev, &f, 1u << 12, 0), SIM_EINVAL);
    assert_int_equal(fleet_device_faults_set(r.dev, &f, FLEET_FAULTS_TWO_SOURCES, 0), SIM_EINVAL);
    rig_run(&r, SEC(600));
    assert_runs(r.dev, UPDATE);
    rig_down(&r);
}

/* ------------------------------------------------------------------------------------
 * two-sources: the config-channel host (HID configurator) starts `at` after the first SMP
 * chunk and writes another image of the same size into the secondary slot.
 * ------------------------------------------------------------------------------------ */
static void cc_with_lock(struct fleet_device_cfg *c)
{
    c->config_channel_dfu = true;
    c->dfu_lock = true;
}

static void cc_without_lock(struct fleet_device_cfg *c)
{
    c->config_channel_dfu = true;
    c->dfu_lock = false;
}

static void print_cc(const char *what, const struct fleet_device *dev)
{
    const struct fleet_device_stats *st = fleet_device_stats_get(dev);
    fprintf(stderr,
            "%s: cc host %s, %.3f s .. %.3f s, %u B written, %u refused; %u rejects rc 11; "
            "%u swaps, %u invalid; device %s\n",
            what, client_cc_host_end_name(st->cc_outcome), st->cc_start_ns / 1e9,
            st->cc_end_ns / 1e9, st->cc_bytes_written, st->cc_refused, st->n_rejects, st->n_swaps,
            st->n_invalid, fleet_device_outcome(dev));
    for (uint32_t i = 0; fleet_device_attempt_get(dev, i) != NULL; i++) {
        const struct fleet_device_attempt *a = fleet_device_attempt_get(dev, i);
        fprintf(stderr, "  attempt %u: %s (%s) rc %d, upload %.3f .. %.3f s, end %.3f s\n", i,
                a->a.outcome, a->a.error ? a->a.error : "-", a->smp_rc, a->a.upload_start_ns / 1e9,
                a->a.upload_end_ns / 1e9, a->a.end_ns / 1e9);
    }
}

static void at_2s(struct fleet_device_faults *f)
{
    f->two_sources_at_ns = SEC(2);
}

static void at_10s(struct fleet_device_faults *f)
{
    f->two_sources_at_ns = SEC(10);
}

/* Run the rig with its records going into path; the database is closed on return. */
static void rig_record(struct rig *r, struct setup *s, const char *path,
                       void (*drive)(struct rig *r))
{
    struct sim_diag d;
    sim_diag_init(&d);
    struct recorder *rec = NULL;
    assert_int_equal(recorder_open(path, &rec, &d), 0);
    const struct recorder_run info = {.scenario_name = "two-sources",
                                      .scenario_path = "-",
                                      .scenario_text = "",
                                      .model = FLEET_WORLD_MODEL_NAME,
                                      .seed = 42,
                                      .level = RECORDER_ATTEMPTS};
    assert_int_equal(recorder_run_begin(rec, &info, NULL), 0);
    s->rec = rec;
    rig_up(r, s);
    drive(r);
    assert_int_equal(fleet_world_finish(r->w), 0);
    assert_int_equal(recorder_run_end(rec, RECORDER_COMPLETE, NULL, sim_engine_now(r->e),
                                      sim_engine_events_run(r->e)),
                     0);
    recorder_close(rec);
}

static long long query_int(const char *path, const char *fmt, ...)
{
    char sql[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* The owner of the DFU lock at t per the lock_changes records: 1 MCUmgr, 2 the config
 * channel, 0 free (or no record yet). */
static int lock_owner_at(const char *path, int64_t t)
{
    return (int)query_int(path,
                          "SELECT coalesce((SELECT CASE owner WHEN 'MCUmgr' THEN 1 WHEN '%s' "
                          "THEN 2 ELSE 0 END FROM lock_changes WHERE at_ns <= %lld ORDER BY "
                          "at_ns DESC, rowid DESC LIMIT 1), 0)",
                          FW_CC_DFU_OWNER, (long long)t);
}

static void run_dry(struct rig *r)
{
    assert_int_equal(rig_run(r, SEC(3600)), SIM_STOP_EMPTY);
}

/* ------------------------------------------------------------------------------------
 * The phone leaves right after the reset command was answered (issue 12, attribution): the
 * attempt ends "host left", the device resets 250 ms later and swaps with nobody watching.
 * The swap (direct-xip-revert: the boot of the other slot) and the outage belong to that
 * attempt, not to the next visit's. Direct-xip firmware does not confirm itself (nRF
 * Desktop's dfu_mcumgr skips its self-confirm there), so the next visit finds the new image
 * running unconfirmed: Device Manager confirms it where it runs, with no reset (UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager:
 * mcumgr-core/.../dfu/mcuboot/task/Validate.java, TEST_AND_CONFIRM: a Reset is queued only
 * when the image is pending), so it is not reverted.
 * ------------------------------------------------------------------------------------ */
static void leave_after_reset(struct rig *r)
{
    assert_int_equal(fleet_device_client_start(r->dev, SEC(1)), 0);
    int64_t t = SEC(1);
    const struct client_dfu *c = fleet_device_client(r->dev);
    while (client_dfu_state_get(c) != CLIENT_DFU_RESET && t < SEC(120)) {
        t += MS(1);
        rig_run(r, t);
    }
    assert_int_equal(client_dfu_state_get(c), CLIENT_DFU_RESET);
    /* 100 ms on, the device has taken the reset command; it reboots 250 ms after it */
    uint32_t boots = fleet_device_stats_get(r->dev)->n_boots;
    t += MS(100);
    rig_run(r, t);
    assert_int_equal(fleet_device_stats_get(r->dev)->n_boots, boots);
    assert_int_equal(fleet_device_host_leave(r->dev, t), 0);
    rig_run(r, SEC(600)); /* the swap happens; nobody confirms */
    assert_int_equal(fleet_device_stats_get(r->dev)->running_image, UPDATE);
    assert_false(fleet_device_confirmed(r->dev));
    assert_int_equal(fleet_device_client_start(r->dev, SEC(600)), 0); /* the next visit */
    run_dry(r);
}

static void phone_leaving_after_the_reset_keeps_the_swap_in_its_attempt(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/test_faults_leave_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    struct rig r;
    struct setup s = {.mode = MCUBOOT_SLOTS_DIRECT_XIP_REVERT, .start_ns = -1};
    rig_record(&r, &s, path, leave_after_reset);
    const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
    assert_int_equal(st->n_attempts, 2);
    assert_int_equal(st->n_swaps, 1); /* the upgrade; no revert */
    assert_int_equal(st->n_reverts, 0);
    assert_int_equal(st->running_image, UPDATE);
    assert_true(fleet_device_confirmed(r.dev));
    rig_down(&r);
    /* attempt 0 ended before the swap began, and the swap and its outage name it */
    assert_int_equal(query_int(path, "SELECT count(*) FROM swaps"), 1);
    assert_int_equal(query_int(path, "SELECT attempt_id FROM swaps"), 0);
    assert_int_equal(query_int(path, "SELECT attempt_id FROM outages"), 0);
    assert_true(query_int(path, "SELECT s.start_ns > a.end_ns FROM swaps s JOIN dfu_attempts a"
                                " USING (attempt_id)") == 1);
    assert_true(query_int(path, "SELECT min(up_ns - down_ns) FROM outages") > 0);
    /* the second attempt only confirms: no reset, no upload; the device is updated */
    assert_int_equal(query_int(path, "SELECT reset_ns IS NULL AND upload_start_ns IS NULL AND"
                                     " confirm_ns IS NOT NULL FROM dfu_attempts"
                                     " WHERE attempt_id = 1"),
                     1);
    assert_int_equal(query_int(path, "SELECT count(*) FROM devices WHERE state = 'updated'"
                                     " AND updated_ns >= first_start_ns"),
                     1);
    unlink(path);
}

/* ------------------------------------------------------------------------------------
 * two-sources with the DFU lock, SMP first: MCUmgr holds the lock through the upload (each
 * chunk restarts its 5 s timer), so the host's first sync is answered ACTIVE_OTHER: the
 * host stops, nothing is written by the config channel, and the SMP DFU ends updated.
 * EVIDENCE-OF: dfu_lock.c: a claim while another owner holds the lock -> -EPERM;
 *   applications/nrf_desktop/src/modules/dfu.c: sync replies ACTIVE_OTHER if the lock
 *   cannot be claimed
 * UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/util/dfu_lock.c
 * ------------------------------------------------------------------------------------ */
#define CC_DB_SMP_FIRST DFUSIM_BINARY_DIR "/test_fleet_faults_cc_smp_first.db"

static void two_sources_lock_smp_first_refuses_the_config_channel(void **state)
{
    (void)state;
    static const enum mcuboot_slots_mode modes[] = {MCUBOOT_SLOTS_SWAP_MOVE,
                                                    MCUBOOT_SLOTS_SWAP_SCRATCH};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        struct rig r;
        struct setup s = {.mode = modes[i],
                          .faults = FLEET_FAULTS_TWO_SOURCES,
                          .tweak = at_2s,
                          .dev_tweak = cc_with_lock};
        rig_record(&r, &s, CC_DB_SMP_FIRST, run_dry);
        print_cc(mode_name(modes[i]), r.dev);
        const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
        const struct fleet_device_attempt *a = fleet_device_attempt_get(r.dev, 0);
        /* the host starts 2 s after the first chunk (the upload starts with it) */
        assert_true(st->cc_start_ns > a->a.upload_start_ns + SEC(2) - MS(100));
        assert_true(st->cc_start_ns < a->a.upload_start_ns + SEC(2) + MS(200));
        assert_true(st->cc_start_ns < a->a.upload_end_ns);
        /* refused at its first sync: one exchange, no start, no byte */
        assert_int_equal(st->cc_outcome, CLIENT_CC_HOST_END_REFUSED);
        assert_int_equal(st->cc_refused, 1);
        assert_int_equal(st->cc_end_ns, st->cc_start_ns);
        assert_int_equal(st->cc_bytes_written, 0);
        /* the SMP DFU went through: swapped and running the update, confirmed (nRF Desktop
         * confirms itself at READY; the client's own confirm meets the config channel's
         * lock of the post-swap erase: rc 11; dfu.c erases the secondary after each boot
         * under the lock, dfu_mcumgr.c rejects meanwhile) */
        assert_int_equal(st->n_swaps, 1);
        assert_runs(r.dev, UPDATE);
        assert_string_equal(fleet_device_outcome(r.dev), "updated");
        /* records: MCUmgr held the lock when the host came and kept it to the upload's end;
         * the config channel's next owner record is the boot after the swap */
        assert_int_equal(lock_owner_at(CC_DB_SMP_FIRST, st->cc_start_ns), 1);
        assert_int_equal(query_int(CC_DB_SMP_FIRST,
                                   "SELECT count(*) FROM lock_changes WHERE at_ns BETWEEN %lld "
                                   "AND %lld",
                                   (long long)a->a.upload_start_ns + MS(1),
                                   (long long)a->a.upload_end_ns),
                         0);
        assert_true(query_int(CC_DB_SMP_FIRST,
                              "SELECT count(*) FROM lock_changes WHERE owner = '%s' AND at_ns "
                              ">= %lld",
                              FW_CC_DFU_OWNER, (long long)st->swap_end_ns) >= 1);
        rig_down(&r);
    }
}

/* ------------------------------------------------------------------------------------
 * two-sources with the DFU lock, config channel first: the SMP client leaves mid-upload;
 * 5 s later MCUmgr's lock lapses; the host (10 s after the first chunk) claims it with
 * its sync and start. The slot was used by MCUmgr, so dfu.c re-erases it first (CLEANING,
 * the host syncs every second), then takes the image. An SMP client that comes back meanwhile
 * gets rc 11 on its first command. The config channel stores the whole image (its test
 * swap is requested; the host does not reboot), the device keeps its old image.
 * EVIDENCE-OF: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c
 *   (DFU_TIMEOUT 5 s: the lock is released after 5 s without DFU commands) and
 *   applications/nrf_desktop/src/modules/dfu.c (owner_changed: the next config-channel
 *   start re-erases a slot MCUmgr used)
 * ------------------------------------------------------------------------------------ */
#define CC_DB_CC_FIRST DFUSIM_BINARY_DIR "/test_fleet_faults_cc_first.db"

static void leave_then_come_back(struct rig *r)
{
    rig_run(r, SEC(30));
    assert_int_equal(fleet_device_client_start(r->dev, SEC(30)), 0);
    rig_run(r, SEC(32));
    assert_int_equal(fleet_device_host_leave(r->dev, SEC(32)), 0);
    rig_run(r, SEC(50));
    assert_int_equal(fleet_device_client_start(r->dev, SEC(50)), 0);
    run_dry(r);
}

static void two_sources_lock_config_channel_first_refuses_smp(void **state)
{
    (void)state;
    struct rig r;
    struct setup s = {.mode = MCUBOOT_SLOTS_SWAP_MOVE,
                      .faults = FLEET_FAULTS_TWO_SOURCES,
                      .start_ns = -1,
                      .tweak = at_10s,
                      .dev_tweak = cc_with_lock};
    rig_record(&r, &s, CC_DB_CC_FIRST, leave_then_come_back);
    print_cc("config channel first", r.dev);
    const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
    const struct fleet_device_attempt *a0 = fleet_device_attempt_get(r.dev, 0);
    assert_string_equal(a0->a.error, "host left");
    assert_true(st->cc_start_ns > SEC(40) && st->cc_start_ns < SEC(41));
    /* the second session is refused by the lock at once */
    const struct fleet_device_attempt *a1 = fleet_device_attempt_get(r.dev, 1);
    assert_non_null(a1);
    assert_string_equal(a1->a.outcome, "failed");
    assert_int_equal(a1->smp_rc, SMP_MGMT_ERR_EACCESSDENIED);
    assert_true(a1->a.end_ns < SEC(55));
    assert_true(st->n_rejects >= 1);
    /* the config channel went through: 256 KiB, 24 B per 20 ms report and a sync per
     * 512 B: several minutes */
    assert_int_equal(st->cc_outcome, CLIENT_CC_HOST_END_DONE);
    assert_int_equal(st->cc_refused, 0);
    assert_int_equal(st->cc_bytes_written, IMAGE_SIZE);
    assert_true(st->cc_end_ns - st->cc_start_ns > SEC(300));
    /* its test swap is pending; no reset happened: the old image runs */
    struct mcuboot_trailer_swap_state ts;
    mcuboot_trailer_state(&fleet_device_slots(r.dev)->trailer[MCUBOOT_SWAP_SECONDARY], &ts);
    assert_int_equal(ts.magic, MCUBOOT_TRAILER_MAGIC_GOOD);
    assert_int_equal(st->n_boots, 1);
    assert_runs(r.dev, FACTORY);
    /* records: MCUmgr released (5 s after its last command), the config channel owned the
     * lock when the client came back and MCUmgr never got it again */
    assert_int_equal(lock_owner_at(CC_DB_CC_FIRST, st->cc_start_ns - 1), 0);
    assert_int_equal(lock_owner_at(CC_DB_CC_FIRST, SEC(50)), 2);
    assert_int_equal(query_int(CC_DB_CC_FIRST,
                               "SELECT count(*) FROM lock_changes WHERE owner = 'MCUmgr' AND "
                               "at_ns > %lld",
                               (long long)st->cc_start_ns),
                     0);
    rig_down(&r);
}

/* ------------------------------------------------------------------------------------
 * two-sources without the DFU lock: both write the secondary. The config channel's bytes
 * spoil what the SMP server wrote there (the slot holds sectors of both), so img_mgmt's
 * hash of the upload does not match: the client (Android) fails with "image digest
 * mismatch" and never tests or resets. The host goes on to its end and (swap modes)
 * requests a test swap of the mix; at the next reset MCUboot's validation refuses it:
 * no swap, the secondary is erased, the old image runs (direct-xip: slot 1 is not
 * booted). Never bricked.
 * EVIDENCE-OF: mcu-tools/mcuboot: boot/bootutil/src/loader.c, boot_validate_slot() failing
 *   erases (scrambles) the secondary
 * ------------------------------------------------------------------------------------ */
static bool sector_is(const struct fleet_device *dev, uint32_t k, uint32_t tag)
{
    return fleet_device_slots(dev)->sector[MCUBOOT_SWAP_SECONDARY][k] == tag;
}

static void two_sources_without_lock_keeps_the_old_image(void **state)
{
    (void)state;
    static const enum mcuboot_slots_mode modes[] = {
        MCUBOOT_SLOTS_SWAP_MOVE, MCUBOOT_SLOTS_SWAP_SCRATCH, MCUBOOT_SLOTS_DIRECT_XIP_REVERT};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        struct rig r;
        struct setup s = {.mode = modes[i],
                          .faults = FLEET_FAULTS_TWO_SOURCES,
                          .tweak = at_2s,
                          .dev_tweak = cc_without_lock};
        rig_up(&r, &s);
        const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
        /* just after the SMP upload: the slot holds both sources */
        rig_run(&r, SEC(10));
        const struct fleet_device_attempt *a = fleet_device_attempt_get(r.dev, 0);
        assert_non_null(a);
        assert_string_equal(a->a.outcome, "failed");
        assert_string_equal(a->a.error, "image digest mismatch");
        /* ~0.78 s per 512 B since 2.6 s (the 4 KiB sectors it wrote in: garbage) */
        assert_true(st->cc_bytes_written >= 8 * 512 && st->cc_bytes_written <= 10 * 512);
        uint32_t cc_sectors = (st->cc_bytes_written + 4 * KIB - 1) / (4 * KIB);
        for (uint32_t k = 0; k < cc_sectors; k++) /* the config channel's */
            assert_true(sector_is(r.dev, k, MCUBOOT_SWAP_GARBAGE));
        for (uint32_t k = cc_sectors; k < IMAGE_SIZE / (4 * KIB); k++) /* the SMP server's */
            assert_true(sector_is(r.dev, k, mcuboot_swap_tag(UPDATE + 1, k)));
        assert_int_equal(mcuboot_slots_image_in(fleet_device_slots(r.dev), 1), MCUBOOT_SLOTS_NONE);
        /* the host ends; a reset later (a person) boots MCUboot over the mixed slot */
        assert_int_equal(rig_run(&r, SEC(3600)), SIM_STOP_EMPTY);
        print_cc(mode_name(modes[i]), r.dev);
        assert_int_equal(st->cc_outcome, CLIENT_CC_HOST_END_DONE);
        assert_int_equal(st->cc_bytes_written, IMAGE_SIZE);
        int64_t t = sim_engine_now(r.e);
        assert_int_equal(fleet_device_fault_at(r.dev, FLEET_FAULT_RESET, t + SEC(1), t), 0);
        rig_run(&r, t + SEC(60));
        assert_int_equal(st->n_boots, 2);
        assert_int_equal(st->n_swaps, 0);
        assert_false(st->ran_update);
        assert_runs(r.dev, FACTORY);
        assert_string_not_equal(fleet_device_outcome(r.dev), "dead");
        const struct mcuboot_slots *sl = fleet_device_slots(r.dev);
        if (modes[i] < MCUBOOT_SLOTS_DIRECT_XIP) {
            /* validation failed: scrambled (erased), trailer and all */
            assert_true(sector_is(r.dev, 0, MCUBOOT_SWAP_ERASED));
            struct mcuboot_trailer_swap_state ts;
            mcuboot_trailer_state(&sl->trailer[MCUBOOT_SWAP_SECONDARY], &ts);
            assert_int_not_equal(ts.magic, MCUBOOT_TRAILER_MAGIC_GOOD);
        } else {
            assert_int_equal(sl->active, 0);
        }
        rig_down(&r);
    }
}

/* ------------------------------------------------------------------------------------
 * two-sources: the host stops for good when the device resets (no retry after the boot),
 * and its writes stop with it. Also: the host runs once per device.
 * ------------------------------------------------------------------------------------ */
static void two_sources_host_stops_at_a_reset(void **state)
{
    (void)state;
    struct rig r;
    struct setup s = {.mode = MCUBOOT_SLOTS_SWAP_MOVE,
                      .faults = FLEET_FAULTS_TWO_SOURCES,
                      .tweak = at_2s,
                      .dev_tweak = cc_without_lock};
    rig_up(&r, &s);
    assert_int_equal(fleet_device_fault_at(r.dev, FLEET_FAULT_RESET, SEC(60), 0), 0);
    assert_int_equal(rig_run(&r, SEC(3600)), SIM_STOP_EMPTY);
    print_cc("reset at 60 s", r.dev);
    const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
    assert_int_equal(st->cc_outcome, CLIENT_CC_HOST_END_LOST);
    assert_int_equal(st->cc_end_ns, SEC(60));
    /* (60 - 2.6) s at ~0.78 s per 512 B: 22 reports of 20 ms, a sync (STORING: 16 B per
     * 5 ms take 160 ms), 0.3 s of sleep, a sync; stored in 16 B steps */
    assert_true(st->cc_bytes_written >= 70 * 512 && st->cc_bytes_written <= 75 * 512);
    assert_int_equal(st->cc_bytes_written % 16, 0);
    assert_int_equal(st->n_boots, 2);
    assert_runs(r.dev, FACTORY);
    rig_down(&r);
}

/* ------------------------------------------------------------------------------------
 * Regression (found with two-sources): in direct-xip, dfu.c works on "the slot ID that is
 * currently not in use" (dfu_slot_id), so after an update that runs from slot 1 its
 * background erase wipes slot 0, never the running slot 1.
 * UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu.c dfu_slot_id()
 * ------------------------------------------------------------------------------------ */
static void direct_xip_config_channel_erases_the_slot_not_in_use(void **state)
{
    (void)state;
    struct rig r;
    struct setup s = {.mode = MCUBOOT_SLOTS_DIRECT_XIP_REVERT, .dev_tweak = cc_with_lock};
    rig_up(&r, &s);
    rig_run(&r, SEC(3600));
    const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
    const struct mcuboot_slots *sl = fleet_device_slots(r.dev);
    assert_int_equal(st->running_image, UPDATE);
    assert_int_equal(sl->active, 1);
    assert_int_equal(mcuboot_slots_image_in(sl, 1), UPDATE);
    assert_true(st->erase_end_ns > st->swap_end_ns); /* the erase after the new boot */
    assert_int_equal(mcuboot_slots_image_in(sl, 0), MCUBOOT_SLOTS_NONE);
    assert_true(sl->sector[MCUBOOT_SWAP_PRIMARY][0] == MCUBOOT_SWAP_ERASED);
    rig_down(&r);
}

/* The fault needs the config channel; its host's parameters are checked. */
static void two_sources_parameters(void **state)
{
    (void)state;
    struct rig r;
    struct setup s = {.mode = MCUBOOT_SLOTS_SWAP_MOVE, .dev_tweak = cc_with_lock};
    rig_up(&r, &s);
    struct fleet_device_faults f;
    fleet_device_faults_default(&f);
    assert_int_equal(f.two_sources_at_ns, SEC(10));
    assert_int_equal(f.two_sources_report_ns, MS(20));
    f.two_sources_report_ns = 0;
    assert_int_equal(fleet_device_faults_set(r.dev, &f, FLEET_FAULTS_TWO_SOURCES, 0), SIM_EINVAL);
    fleet_device_faults_default(&f);
    f.two_sources_at_ns = -1;
    assert_int_equal(fleet_device_faults_set(r.dev, &f, FLEET_FAULTS_TWO_SOURCES, 0), SIM_EINVAL);
    fleet_device_faults_default(&f);
    assert_int_equal(fleet_device_faults_set(r.dev, &f, FLEET_FAULTS_TWO_SOURCES, 0), 0);
    rig_down(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_fault_updates),
        cmocka_unit_test(power_loss_upload_then_retry_updates),
        cmocka_unit_test(power_loss_swap_resumes),
        cmocka_unit_test(power_loss_random_ends_valid_and_stops),
        cmocka_unit_test(bad_image_crash_reverts_or_bricks),
        cmocka_unit_test(bad_image_invalid_is_refused),
        cmocka_unit_test(never_confirm_reverts_after_reset),
        cmocka_unit_test(link_degrade_loses_pdus_and_slows),
        cmocka_unit_test(host_leaves_and_new_session_resumes),
        cmocka_unit_test(phone_leaving_after_the_reset_keeps_the_swap_in_its_attempt),
        cmocka_unit_test(faults_set_checks_parameters),
        cmocka_unit_test(two_sources_lock_smp_first_refuses_the_config_channel),
        cmocka_unit_test(two_sources_lock_config_channel_first_refuses_smp),
        cmocka_unit_test(two_sources_without_lock_keeps_the_old_image),
        cmocka_unit_test(two_sources_host_stops_at_a_reset),
        cmocka_unit_test(two_sources_parameters),
        cmocka_unit_test(direct_xip_config_channel_erases_the_slot_not_in_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
