/* tests/test_e2e_dfu.c - one device's whole DFU through every model: client, BLE link, SMP
 * server, firmware modules, MCUboot (models/fleet). Acceptance tests of issue 5. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "models/fleet/world.h"
#include "models/mcuboot/explain.h"
#include "sim/engine.h"
#include "sim/error.h"

#define KIB        1024u
#define IMAGE_SIZE (384u * KIB)
#define FACTORY    0u
#define UPDATE     1u
#define MS(x)      ((int64_t)(x)*1000000LL)
#define SEC(x)     ((int64_t)(x)*1000000000LL)

struct rig {
    struct sim_engine *e;
    struct fleet_world *w;
    struct fleet_device *dev;
};

/* One nRF52840 DK device with a 384 KiB update; tweak(cfg) adjusts the group first. */
static void rig_up_rec(struct rig *r, enum mcuboot_slots_mode mode,
                       void (*tweak)(struct fleet_group_cfg *g), struct recorder *rec)
{
    struct sim_diag d;
    sim_diag_init(&d);
    r->e = sim_engine_new(0);
    assert_non_null(r->e);
    r->w = fleet_world_new(r->e, rec, 42);
    assert_non_null(r->w);
    uint32_t idx;
    const struct mcuboot_image_version v1 = {1, 0, 0, 0}, v2 = {2, 0, 0, 0};
    assert_int_equal(fleet_world_image_add(r->w, IMAGE_SIZE - 8 * KIB, &v1, &idx, &d), 0);
    assert_int_equal(idx, FACTORY);
    assert_int_equal(fleet_world_image_add(r->w, IMAGE_SIZE, &v2, &idx, &d), 0);
    assert_int_equal(idx, UPDATE);
    struct fleet_group_cfg g = {
        .name = "g", .board = FLASH_MAP_NRF52840DK, .mode = mode, .count = 1};
    fleet_device_cfg_default(&g.dev);
    g.dev.factory_image = FACTORY;
    g.dev.update_image = UPDATE;
    g.dev.client.swap_wait = SEC(10);
    if (mode >= MCUBOOT_SLOTS_DIRECT_XIP)
        g.dev.smp = FLEET_SMP_DFU_MCUMGR;
    if (tweak != NULL)
        tweak(&g);
    uint32_t first;
    int rc = fleet_world_group_add(r->w, &g, &first, &d);
    if (rc != 0)
        fprintf(stderr, "%s", d.text);
    assert_int_equal(rc, 0);
    assert_int_equal(fleet_world_start(r->w), 0);
    r->dev = fleet_world_device(r->w, first);
}

static void rig_up(struct rig *r, enum mcuboot_slots_mode mode,
                   void (*tweak)(struct fleet_group_cfg *g))
{
    rig_up_rec(r, mode, tweak, NULL);
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

static void print_attempt(const struct fleet_device_attempt *l)
{
    const struct recorder_attempt *a = &l->a;
    fprintf(stderr,
            "attempt: %s (%s) rc %d start %.3f connect %.3f up %.3f..%.3f test %.3f reset %.3f "
            "reconnect %.3f confirm %.3f end %.3f sent %lld resent %lld image %lld chunks %lld "
            "retries %lld\n",
            a->outcome, a->error ? a->error : "-", (int)l->smp_rc, a->start_ns / 1e9,
            l->a.connect_ns / 1e9, a->upload_start_ns / 1e9, a->upload_end_ns / 1e9,
            l->a.test_ns / 1e9, a->reset_ns / 1e9, l->a.reconnect_ns / 1e9, a->confirm_ns / 1e9,
            a->end_ns / 1e9, (long long)a->bytes_sent, (long long)a->bytes_resent,
            (long long)a->image_bytes, (long long)a->chunks, (long long)a->retries);
}

static const struct fleet_device_attempt *last_attempt(const struct fleet_device *dev)
{
    uint32_t n = fleet_device_stats_get(dev)->n_attempts;
    assert_true(n > 0);
    const struct fleet_device_attempt *l = NULL;
    for (uint32_t i = 0; fleet_device_attempt_get(dev, i) != NULL; i++)
        l = fleet_device_attempt_get(dev, i);
    return l;
}

/* What `dfusim explain` says one upgrade of `size` bytes costs in `mode` on the nRF52840 DK,
 * with its default parameters: the slot model times hashing and signature checks alike. */
static struct mcuboot_explain_row explain(enum mcuboot_explain_mode mode, uint32_t size)
{
    struct flash_map map;
    struct mcuboot_explain_params p;
    struct mcuboot_explain_row rows[MCUBOOT_EXPLAIN_MODE_COUNT];
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(flash_map_board(FLASH_MAP_NRF52840DK, &map), 0);
    mcuboot_explain_params_default(&p);
    assert_int_equal(mcuboot_explain(&map, size, &p, rows, &d), 0);
    return rows[mode];
}

/* ------------------------------------------------------------------------------------
 * swap-move, Device Manager (Android) TEST_AND_CONFIRM: upload, test, reset, swap, reconnect,
 * confirm. The new image runs confirmed; each phase follows the previous one; MCUboot's run
 * lasts exactly what explain computes; the reset comes 250 ms after the reset request.
 * EVIDENCE-OF: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c calls
 *   boot_write_img_confirmed() when the application is READY (non-XIP builds)
 * EVIDENCE-OF: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/os_mgmt/Kconfig,
 *   CONFIG_MCUMGR_GRP_OS_RESET_MS default 250 ms (os_mgmt.c reboots after that delay)
 * ------------------------------------------------------------------------------------ */
static void swap_move_test_and_confirm_updates(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r, MCUBOOT_SLOTS_SWAP_MOVE, NULL);
    /* Once the DFU is over (and ble_latency raised the latency again) nothing is left to
     * schedule: an idle connection costs no event (CONTRIBUTING.md rule 7). */
    assert_int_equal(rig_run(&r, SEC(600)), SIM_STOP_EMPTY);
    const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
    const struct fleet_device_attempt *l = last_attempt(r.dev);
    print_attempt(l);
    assert_int_equal(st->n_attempts, 1);
    assert_int_equal(client_dfu_state_get(fleet_device_client(r.dev)), CLIENT_DFU_DONE);
    assert_string_equal(l->a.outcome, "updated");
    assert_int_equal(st->running_image, UPDATE);
    assert_true(fleet_device_confirmed(r.dev));
    assert_string_equal(fleet_device_outcome(r.dev), "updated");
    assert_int_equal(st->n_swaps, 1);
    assert_int_equal(st->last_swap_type, MCUBOOT_TRAILER_SWAP_TEST);
    /* phases in order */
    assert_true(l->a.connect_ns < l->a.upload_start_ns);
    assert_true(l->a.upload_start_ns < l->a.upload_end_ns);
    assert_true(l->a.upload_end_ns <= l->a.test_ns && l->a.test_ns <= l->a.reset_ns);
    assert_int_equal(l->a.swap_start_ns, st->swap_start_ns);
    assert_int_equal(l->a.swap_end_ns, st->swap_end_ns);
    /* the reset request reaches the device at the next connection event (<= 7.5 ms + air),
     * and os_mgmt reboots 250 ms after handling it */
    int64_t reset_lag = st->swap_start_ns - l->a.reset_ns;
    assert_true(reset_lag >= MS(250) && reset_lag <= MS(250) + MS(15));
    /* MCUboot (radio off): exactly explain's downtime for swap-move, 384 KiB, nRF52840 DK */
    struct mcuboot_explain_row row = explain(MCUBOOT_EXPLAIN_MOVE, IMAGE_SIZE);
    assert_int_equal(st->swap_end_ns - st->swap_start_ns, row.downtime_ns);
    /* no radio while MCUboot runs: reconnection only after it, advertising adv_ns later */
    assert_true(l->a.reconnect_ns >= st->swap_end_ns + MS(100));
    assert_true(l->a.reconnect_ns >= l->a.reset_ns + SEC(10)); /* the client's swap wait */
    assert_true(l->a.confirm_ns > l->a.reconnect_ns);
    /* dfu_mcumgr confirmed the image as the application started */
    assert_int_equal(st->updated_ns, st->swap_end_ns);
    /* CONTRIBUTING.md rule 7: no event per idle connection interval. The run spans about 6,900
     * intervals of 7.5 ms, 37.7 s of them with the radio off; fewer events than half of
     * them ran, all of the engine, link, SMP, firmware and client included. */
    assert_true(sim_engine_events_run(r.e) < (uint64_t)(l->a.end_ns / (MS(15) / 2) / 2));
    rig_down(&r);
}

/* The bootloader's validation timing (scenario devices[].mcuboot): with SHA-256 at 2 MB/s
 * and 50 ms per signature, MCUboot's run is exactly what explain computes with those
 * parameters, and shorter than with the defaults. */
static const struct mcuboot_timing_settings fast_boot = {
    .hash_rate = 2000000, .sig_time = MS(50), .validate_slot0 = true};

static void fast_hash(struct fleet_group_cfg *g)
{
    g->boot = &fast_boot;
}

static void boot_timing_sets_the_validation_time(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r, MCUBOOT_SLOTS_SWAP_MOVE, fast_hash);
    rig_run(&r, SEC(600));
    const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
    assert_string_equal(fleet_device_outcome(r.dev), "updated");
    struct flash_map map;
    struct mcuboot_explain_params p;
    struct mcuboot_explain_row rows[MCUBOOT_EXPLAIN_MODE_COUNT];
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(flash_map_board(FLASH_MAP_NRF52840DK, &map), 0);
    mcuboot_explain_params_default(&p);
    p.hash_rate = 2e6;
    p.t_sig = MS(50);
    assert_int_equal(mcuboot_explain(&map, IMAGE_SIZE, &p, rows, &d), 0);
    int64_t ran = st->swap_end_ns - st->swap_start_ns;
    assert_int_equal(ran, rows[MCUBOOT_EXPLAIN_MOVE].downtime_ns);
    assert_true(ran < explain(MCUBOOT_EXPLAIN_MOVE, IMAGE_SIZE).downtime_ns);
    rig_down(&r);
}

/* The flash timing (scenario devices[].flash): with the datasheet's typical column MCUboot's
 * run is explain's with --timing typical. An explicit BLE slowdown replaces the radio model
 * (models/flash/radio_sync.h) by a factor on the bare flash time: 1 is the bare time, 3 makes
 * the flash-bound upload clearly slower; the radio model lies above the bare time, since
 * timeslots only add waiting for gaps and events. */
static const struct flash_chip_settings typical_flash = {.timing = FLASH_CHIP_TYP};
static const struct flash_chip_settings bare_flash = {.timing = FLASH_CHIP_MAX,
                                                      .ble_slowdown = 1.0};
static const struct flash_chip_settings slow_radio_flash = {.timing = FLASH_CHIP_MAX,
                                                            .ble_slowdown = 3.0};

static void bare(struct fleet_group_cfg *g)
{
    g->flash = &bare_flash;
}

static void typical(struct fleet_group_cfg *g)
{
    g->flash = &typical_flash;
}

static void slow_radio(struct fleet_group_cfg *g)
{
    g->flash = &slow_radio_flash;
}

static void flash_timing_sets_swap_and_upload_times(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r, MCUBOOT_SLOTS_SWAP_MOVE, typical);
    rig_run(&r, SEC(600));
    const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
    assert_string_equal(fleet_device_outcome(r.dev), "updated");
    struct flash_map map;
    struct mcuboot_explain_params p;
    struct mcuboot_explain_row rows[MCUBOOT_EXPLAIN_MODE_COUNT];
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(flash_map_board(FLASH_MAP_NRF52840DK, &map), 0);
    mcuboot_explain_params_default(&p);
    p.corner = FLASH_CHIP_TYP;
    assert_int_equal(mcuboot_explain(&map, IMAGE_SIZE, &p, rows, &d), 0);
    assert_int_equal(st->swap_end_ns - st->swap_start_ns, rows[MCUBOOT_EXPLAIN_MOVE].downtime_ns);
    rig_down(&r);

    int64_t upload[3];
    void (*tweak[3])(struct fleet_group_cfg *) = {bare, slow_radio, NULL};
    for (int k = 0; k < 3; k++) {
        rig_up(&r, MCUBOOT_SLOTS_SWAP_MOVE, tweak[k]);
        rig_run(&r, SEC(600));
        const struct fleet_device_attempt *l = last_attempt(r.dev);
        upload[k] = l->a.upload_end_ns - l->a.upload_start_ns;
        rig_down(&r);
    }
    /* flash-bound upload: 3 x the flash share of the time, so clearly slower */
    assert_true(upload[1] > upload[0] + upload[0] / 5);
    assert_true(upload[2] > upload[0]);
}

/* ------------------------------------------------------------------------------------
 * direct-xip-revert: the update runs from the secondary slot without a copy; dfu_mcumgr
 * does not self-confirm (direct_xip), the client's confirm after reconnection does.
 * EVIDENCE-OF: mcu-tools/mcuboot: boot/bootutil/src/loader.c, docs/design.md (direct-xip):
 *   the newest valid slot boots in place
 * ------------------------------------------------------------------------------------ */
static void direct_xip_revert_updates(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r, MCUBOOT_SLOTS_DIRECT_XIP_REVERT, NULL);
    rig_run(&r, SEC(600));
    const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
    const struct fleet_device_attempt *l = last_attempt(r.dev);
    print_attempt(l);
    assert_string_equal(l->a.outcome, "updated");
    assert_string_equal(fleet_device_outcome(r.dev), "updated");
    assert_int_equal(st->running_image, UPDATE);
    assert_int_equal(fleet_device_slots(r.dev)->active, 1);
    assert_int_equal(st->last_swap_type, MCUBOOT_TRAILER_SWAP_NONE); /* nothing copied */
    struct mcuboot_explain_row row = explain(MCUBOOT_EXPLAIN_DIRECT_XIP_REVERT, IMAGE_SIZE);
    assert_int_equal(st->swap_end_ns - st->swap_start_ns, row.downtime_ns);
    /* confirmed by the client, after the reconnection, not at boot */
    assert_true(st->updated_ns > l->a.reconnect_ns && st->updated_ns <= l->a.confirm_ns);
    rig_down(&r);
}

/* ------------------------------------------------------------------------------------
 * An unconfirmed test image reverts at the next reset. CAF ble_smp does not confirm at
 * boot; TEST_ONLY uploads, tests and resets, and nobody confirms.
 * EVIDENCE-OF: mcu-tools/mcuboot: boot/bootutil/src/bootutil_public.c (boot_swap_tables[]
 *   row IV): after a TEST swap without confirm, the next reboot is a REVERT
 * ------------------------------------------------------------------------------------ */
static void caf_test_only(struct fleet_group_cfg *g)
{
    g->dev.smp = FLEET_SMP_BLE_SMP;
    g->dev.dfu_lock = false;
    g->dev.client.mode = CLIENT_DFU_MODE_TEST_ONLY;
}

static void unconfirmed_test_image_reverts(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r, MCUBOOT_SLOTS_SWAP_MOVE, caf_test_only);
    rig_run(&r, SEC(300));
    const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
    print_attempt(last_attempt(r.dev));
    assert_string_equal(last_attempt(r.dev)->a.outcome, "updated"); /* the client's view */
    assert_int_equal(st->running_image, UPDATE);
    assert_false(fleet_device_confirmed(r.dev));
    assert_int_equal(st->last_swap_type, MCUBOOT_TRAILER_SWAP_TEST);
    assert_int_equal(st->updated_ns, RECORDER_NONE);
    assert_int_equal(fleet_device_fault_at(r.dev, FLEET_FAULT_RESET, SEC(301), SEC(300)), 0);
    rig_run(&r, SEC(600));
    assert_int_equal(st->n_swaps, 2);
    assert_int_equal(st->last_swap_type, MCUBOOT_TRAILER_SWAP_REVERT);
    assert_int_equal(st->swap_start_ns, SEC(301));
    assert_int_equal(st->running_image, FACTORY);
    assert_int_equal(st->n_reverts, 1);
    assert_string_equal(fleet_device_outcome(r.dev), "reverted");
    rig_down(&r);
}

/* ------------------------------------------------------------------------------------
 * Config-channel DFU holds the DFU lock while it erases a used secondary slot in the
 * background (postponed 15 s by user activity: the connection); every image-group command
 * of dfu_mcumgr then gets rc 11 (EACCESSDENIED) until the erase ends and the lock is free.
 * EVIDENCE-OF: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c:
 *   image-group commands and reset get rc 11 while dfu_mcumgr does not own the DFU lock;
 *   applications/nrf_desktop/src/modules/dfu.c: background erase of the secondary slot
 * ------------------------------------------------------------------------------------ */
static void cc_dfu_lock(struct fleet_group_cfg *g)
{
    g->dev.config_channel_dfu = true;
    g->dev.dfu_lock = true;
    g->dev.secondary_image = FACTORY; /* a previous update left the slot used */
    g->dev.client.attempts = 30;
    g->dev.client.retry_delay = SEC(5);
}

static void lock_held_by_config_channel_gets_rc_11(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r, MCUBOOT_SLOTS_SWAP_MOVE, cc_dfu_lock);
    rig_run(&r, SEC(900));
    const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
    const struct fleet_device_attempt *first = fleet_device_attempt_get(r.dev, 0);
    for (uint32_t i = 0; fleet_device_attempt_get(r.dev, i) != NULL; i++)
        print_attempt(fleet_device_attempt_get(r.dev, i));
    assert_non_null(first);
    assert_int_equal(first->smp_rc, 11);
    assert_true(first->a.end_ns < st->first_erase_end_ns);
    /* the erase of the 94 used sectors takes at least their bare erase time (85 ms each) */
    assert_true(st->first_erase_end_ns >= 94 * MS(85));
    /* the attempt that uploaded started after the erase ended, and nothing before it did */
    const struct fleet_device_attempt *up = NULL;
    for (uint32_t i = 0; fleet_device_attempt_get(r.dev, i) != NULL; i++) {
        const struct fleet_device_attempt *l = fleet_device_attempt_get(r.dev, i);
        if (l->a.upload_end_ns != RECORDER_NONE) {
            up = l;
            break;
        }
        assert_int_equal(l->smp_rc, 11);
    }
    assert_non_null(up);
    assert_true(up->a.upload_start_ns > st->first_erase_end_ns);
    assert_string_equal(fleet_device_outcome(r.dev), "updated");
    rig_down(&r);
}

/* ------------------------------------------------------------------------------------
 * Erase strategies against the clients' timeouts, on a secondary slot an earlier update
 * left used (the 376 KiB factory image; the update is 384 KiB = 96 sectors). The nRF52840
 * DK's secondary is 472 KiB = 118 sectors of 4 KiB.
 *
 * 1. Device Manager (Android, window 1) waits 40 s for the first chunk. Today's img_mgmt
 *    erases 96 + 1 (trailer) sectors before it answers; older mcumgr's whole-slot erase
 *    118. Everything else is the same, so the upload takes longer by the flash time of the
 *    21 extra sectors, Δ = app(118 x t_erase) − app(97 x t_erase), give or take one
 *    connection interval (the answer leaves at the next connection event).
 * 2. The Go CLI with -e (no erase command) waits 3 s for any chunk: the first chunk's
 *    erase (either strategy: 97 x 85 ms = 8.2 s before the radio's share) outlasts it and
 *    the upload fails exactly 3 s after the first chunk.
 * 3. The Go CLI by default sends image erase first; img_mgmt erases the whole slot before
 *    it answers, 118 x 85 ms = 10.03 s even without the radio: longer than the CLI's 10 s
 *    timeout, so `image upload` fails on a used slot of this size.
 * EVIDENCE-OF: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c
 *   (first chunk: img_mgmt_erase_image_data(0, len); erase command: the whole slot);
 *   zephyrproject-rtos/mcumgr @c27cf45 cmd/img_mgmt/src/img_mgmt.c (whole slot at offset
 *   0); apache/mynewt-newtmgr: nmxact/xact/image.go (ImageUpgradeCmd, runUpload 3 s),
 *   newtmgr/cli/commands.go (-t 10 s); NordicSemiconductor/Android-nRF-Connect-Device-
 *   Manager: transfer/Uploader.kt, managers/ImageManager.java (offset 0: 40 s)
 * ------------------------------------------------------------------------------------ */
static void used_slot(struct fleet_group_cfg *g)
{
    g->dev.secondary_image = FACTORY;
}

static void used_slot_whole(struct fleet_group_cfg *g)
{
    used_slot(g);
    g->dev.erase = SMP_IMG_MGMT_ERASE_WHOLE_SLOT;
}

static void used_slot_cli_noerase(struct fleet_group_cfg *g)
{
    used_slot(g);
    g->dev.client = client_dfu_cfg_default(CLIENT_DFU_MCUMGR_CLI);
    g->dev.client.erase_first = false;
}

static void used_slot_whole_cli_noerase(struct fleet_group_cfg *g)
{
    used_slot_cli_noerase(g);
    g->dev.erase = SMP_IMG_MGMT_ERASE_WHOLE_SLOT;
}

static void used_slot_cli(struct fleet_group_cfg *g)
{
    used_slot(g);
    g->dev.client = client_dfu_cfg_default(CLIENT_DFU_MCUMGR_CLI);
}

static void erase_strategies_against_client_timeouts(void **state)
{
    (void)state;
    struct flash_chip chip;
    assert_int_equal(flash_chip_profile(FLASH_CHIP_NRF52840, &chip), 0);
    const int64_t t_page = chip.t_erase[chip.corner];

    /* 1 */
    int64_t upload[2];
    void (*tweak[2])(struct fleet_group_cfg *) = {used_slot, used_slot_whole};
    for (int k = 0; k < 2; k++) {
        struct rig r;
        rig_up(&r, MCUBOOT_SLOTS_SWAP_MOVE, tweak[k]);
        rig_run(&r, SEC(600));
        const struct fleet_device_attempt *l = last_attempt(r.dev);
        print_attempt(l);
        assert_string_equal(l->a.outcome, "updated");
        assert_int_equal(l->a.retries, 0);
        upload[k] = l->a.upload_end_ns - l->a.upload_start_ns;
        rig_down(&r);
    }
    /* The 21 extra pages are erased in MPSL timeslots (models/flash/radio_sync.h): the link
     * is busy (the client's window keeps data queued), so no gap holds an 89.8 ms request
     * and each goes HIGH. A page's slot starts at the end of an event, erases for 85 ms,
     * and its reservation skips the 12 events after it; the next request (85 ms on, between
     * events) waits for the 13th, already scheduled, to end: 13 intervals per page. */
    int64_t interval = 7500000LL; /* 7.5 ms, the link default */
    int64_t delta = 21 * 13 * interval;
    if (llabs(upload[1] - upload[0] - delta) > interval)
        fail_msg("whole slot: upload %lld ns longer, want %lld +- %lld",
                 (long long)(upload[1] - upload[0]), (long long)delta, (long long)interval);

    /* 2 */
    void (*cli[2])(struct fleet_group_cfg *) = {used_slot_cli_noerase, used_slot_whole_cli_noerase};
    for (int k = 0; k < 2; k++) {
        struct rig r;
        rig_up(&r, MCUBOOT_SLOTS_SWAP_MOVE, cli[k]);
        rig_run(&r, SEC(600));
        const struct fleet_device_attempt *l = last_attempt(r.dev);
        print_attempt(l);
        assert_string_equal(l->a.outcome, "timeout");
        assert_string_equal(l->a.error, "upload chunk timed out");
        assert_int_equal(l->a.end_ns - l->a.upload_start_ns, SEC(3));
        assert_true(97 * t_page > SEC(3));
        rig_down(&r);
    }

    /* 3 */
    struct rig r;
    rig_up(&r, MCUBOOT_SLOTS_SWAP_MOVE, used_slot_cli);
    rig_run(&r, SEC(600));
    const struct fleet_device_attempt *l = last_attempt(r.dev);
    print_attempt(l);
    assert_true(118 * t_page > SEC(10));
    assert_string_equal(l->a.outcome, "timeout");
    assert_string_equal(l->a.error, "image erase timed out");
    assert_int_equal(l->a.upload_start_ns, RECORDER_NONE); /* no chunk was sent */
    assert_int_equal(l->a.chunks, 0);
    rig_down(&r);
}

/* ------------------------------------------------------------------------------------
 * The link drops mid-upload; the Go mcumgr CLI reconnects and resumes from the offset the
 * device reports (img_mgmt keeps its upload state across a disconnection), within the
 * same attempt. Restarting from 0 would send about 1.8 x the image.
 * EVIDENCE-OF: apache/mynewt-newtmgr: nmxact/xact/image.go @60b2da7 (runUpload): after a
 *   failure on a closed transport, reopen it and resume from the last acknowledged offset
 * ------------------------------------------------------------------------------------ */
static void go_cli(struct fleet_group_cfg *g)
{
    g->dev.client = client_dfu_cfg_default(CLIENT_DFU_MCUMGR_CLI);
    g->dev.client.swap_wait = SEC(60);
}

static void link_drop_mid_upload_resumes(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r, MCUBOOT_SLOTS_SWAP_MOVE, go_cli);
    assert_int_equal(fleet_device_fault_at(r.dev, FLEET_FAULT_LINK_DROP, SEC(8), 0), 0);
    rig_run(&r, SEC(900));
    const struct fleet_device_attempt *l = last_attempt(r.dev);
    print_attempt(l);
    assert_int_equal(fleet_device_stats_get(r.dev)->n_attempts, 1);
    assert_string_equal(l->a.outcome, "updated");
    assert_true(l->a.upload_start_ns < SEC(8) && l->a.upload_end_ns > SEC(8));
    assert_true(l->a.retries >= 1);
    assert_true(l->a.bytes_sent >= (int64_t)IMAGE_SIZE);
    assert_true(l->a.bytes_sent <= (int64_t)IMAGE_SIZE + 16 * 512); /* a window or so again */
    /* goodput counts each image byte once: what was sent again is resent, not image */
    assert_int_equal(l->a.image_bytes, IMAGE_SIZE);
    assert_true(l->a.bytes_resent > 0);
    assert_int_equal(l->a.bytes_sent - l->a.bytes_resent, IMAGE_SIZE);
    assert_string_equal(fleet_device_outcome(r.dev), "updated");
    rig_down(&r);
}

/* Device Manager (Android) has no reopen: the drop fails the attempt. The next attempt
 * sends offset 0 with the same "sha"; img_mgmt still holds the upload (RAM survives a
 * disconnection) and answers with its offset, so the upload resumes there.
 * UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c
 * (img_mgmt_upload: same sha at offset 0 -> reply with the current offset) */
static void android_retry(struct fleet_group_cfg *g)
{
    g->dev.client.attempts = 2;
    g->dev.client.retry_delay = SEC(2);
}

static void link_drop_then_retry_resumes_from_device_offset(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r, MCUBOOT_SLOTS_SWAP_MOVE, android_retry);
    assert_int_equal(fleet_device_fault_at(r.dev, FLEET_FAULT_LINK_DROP, SEC(8), 0), 0);
    rig_run(&r, SEC(900));
    const struct fleet_device_attempt *a0 = fleet_device_attempt_get(r.dev, 0);
    const struct fleet_device_attempt *a1 = fleet_device_attempt_get(r.dev, 1);
    assert_non_null(a0);
    assert_non_null(a1);
    print_attempt(a0);
    print_attempt(a1);
    assert_string_equal(a0->a.outcome, "failed");
    assert_string_equal(a1->a.outcome, "updated");
    /* the two attempts together sent the image about once, not once and a half */
    assert_true(a0->a.bytes_sent + a1->a.bytes_sent <= (int64_t)IMAGE_SIZE + 4 * 2475);
    assert_true(a1->a.bytes_sent < (int64_t)IMAGE_SIZE / 2);
    /* every image byte was written once, by one of the two attempts */
    assert_int_equal(a0->a.image_bytes + a1->a.image_bytes, IMAGE_SIZE);
    assert_true(a0->a.image_bytes > 0 && a1->a.image_bytes > 0);
    assert_string_equal(fleet_device_outcome(r.dev), "updated");
    rig_down(&r);
}

/* ------------------------------------------------------------------------------------
 * Latency 99 with and without ble_latency (smpclient: stop-and-wait, one request in
 * flight). The arithmetic (Bluetooth Core Vol 6 Part B, peripheral latency): with latency
 * L a peripheral that has
 * nothing to send listens every L + 1 intervals, so a downlink packet can wait up to
 * (L + 1) x 7.5 ms = 750 ms; a peripheral with data listens at the next event. In
 * stop-and-wait, chunk n's response is a notification; the peripheral must hear its ack,
 * which rides on the central's next PDU at the next event, and chunk n + 1 (queued as the
 * response arrived) goes in that same event. So every chunk after the first finds the
 * peripheral awake: the upload phase runs at the same rate (ratio 1), and only the first
 * downlink packet after the idle connection pays, at most (L + 1) intervals.
 * ------------------------------------------------------------------------------------ */
static void lat99_on(struct fleet_group_cfg *g)
{
    g->dev.client = client_dfu_cfg_default(CLIENT_DFU_SMPCLIENT);
    g->dev.link.latency = 99;
    g->dev.ble_latency = true;
}
static void lat99_off(struct fleet_group_cfg *g)
{
    lat99_on(g);
    g->dev.ble_latency = false;
}

static void latency_99_with_and_without_ble_latency(void **state)
{
    (void)state;
    struct rig r;
    struct fleet_device_attempt on, off;
    rig_up(&r, MCUBOOT_SLOTS_SWAP_MOVE, lat99_on);
    rig_run(&r, SEC(3600));
    on = *last_attempt(r.dev);
    print_attempt(&on);
    rig_down(&r);
    rig_up(&r, MCUBOOT_SLOTS_SWAP_MOVE, lat99_off);
    rig_run(&r, SEC(3600));
    off = *last_attempt(r.dev);
    print_attempt(&off);
    rig_down(&r);
    assert_string_equal(on.a.outcome, "updated");
    assert_string_equal(off.a.outcome, "updated");
    double t_on = (double)(on.a.upload_end_ns - on.a.upload_start_ns);
    double t_off = (double)(off.a.upload_end_ns - off.a.upload_start_ns);
    double ratio = t_off / t_on; /* throughput on / throughput off */
    assert_true(ratio > 0.99 && ratio < 1.01);
    int64_t first_wait =
        (off.a.upload_start_ns - off.a.connect_ns) - (on.a.upload_start_ns - on.a.connect_ns);
    assert_true(first_wait > 0 && first_wait <= 100 * (MS(15) / 2));
}

/* ------------------------------------------------------------------------------------
 * Records (CONTRIBUTING.md rule 8) at level `chunks`: one attempt row with its phase times and
 * the device's swap, one row per chunk, the swap, the lock changes of dfu_mcumgr, flash
 * wear, and one devices row.
 * ------------------------------------------------------------------------------------ */
#define RECORDS_DB DFUSIM_BINARY_DIR "/test_e2e_dfu_records.db"

static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void records_of_one_dfu(void **state)
{
    (void)state;
    struct sim_diag d;
    sim_diag_init(&d);
    struct recorder *rec = NULL;
    assert_int_equal(recorder_open(RECORDS_DB, &rec, &d), 0);
    const struct recorder_run info = {.scenario_name = "e2e",
                                      .scenario_path = "-",
                                      .scenario_text = "",
                                      .model = FLEET_WORLD_MODEL_NAME,
                                      .seed = 42,
                                      .level = RECORDER_CHUNKS};
    assert_int_equal(recorder_run_begin(rec, &info, NULL), 0);
    struct rig r;
    rig_up_rec(&r, MCUBOOT_SLOTS_SWAP_MOVE, NULL, rec);
    rig_run(&r, SEC(600));
    assert_int_equal(fleet_world_finish(r.w), 0);
    assert_int_equal(recorder_run_end(rec, RECORDER_COMPLETE, NULL, sim_engine_now(r.e),
                                      sim_engine_events_run(r.e)),
                     0);
    recorder_close(rec);
    rig_down(&r);

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(RECORDS_DB, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(query_int(db, "SELECT count(*) FROM dfu_attempts"), 1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM dfu_attempts WHERE outcome = 'updated'"
                                   " AND upload_start_ns < upload_end_ns AND upload_end_ns <"
                                   " reset_ns AND reset_ns < swap_start_ns AND swap_start_ns <"
                                   " swap_end_ns AND swap_end_ns < confirm_ns AND confirm_ns <="
                                   " end_ns AND bytes_sent = 393216 AND image_bytes = 393216"
                                   " AND bytes_resent = 0 AND client IS NOT NULL"),
                     1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM chunks"),
                     query_int(db, "SELECT chunks FROM dfu_attempts"));
    assert_int_equal(query_int(db, "SELECT sum(len) FROM chunks WHERE rc = 0"), 393216);
    /* Stop-and-wait (window 1) with 2475-byte packets: every chunk but the first (slot check
     * and image check) and the last (image hash) takes exactly 11 intervals of 7.5 ms. The
     * request is 5 writes = 10 PDUs, 5 exchanges per event -> events k and k + 1. The worker
     * then writes 2451 B = 613 words at 41 us in MPSL timeslots (models/flash/radio_sync.h):
     * 182 words (7.462 ms) per 7.5 ms window, so 4 windows (182, 182, 182, 67). While the
     * client waits the link's events are one empty exchange, so the 7.6 ms requests never
     * fit the gaps: each goes HIGH, starts after the next (already scheduled) event, k + 2,
     * k + 4, k + 6, k + 8, and its 7.6 ms reservation skips the event after it (k + 3, k + 5,
     * k + 7, k + 9). The response goes at the first event not skipped, k + 10; the next
     * request starts at the event after, k + 11. The response's own air time moves the ack by
     * 8 us once: past offset 65535 the CBOR "off" takes 2 bytes more (16 bits at 2 Mbit/s). */
    assert_int_equal(query_int(db, "SELECT count(*) FROM (SELECT seq, acked_ns - lag(acked_ns)"
                                   " OVER (ORDER BY seq) AS d FROM chunks) WHERE seq BETWEEN 2"
                                   " AND 159 AND abs(d - 82500000) > 8000"),
                     0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM swaps WHERE mode = 'swap-move' AND"
                                   " outcome = 'swapped'"),
                     1);
    assert_true(query_int(db, "SELECT count(*) FROM lock_changes WHERE owner = 'MCUmgr'") >= 1);
    assert_true(query_int(db, "SELECT count(*) FROM flash_wear WHERE area = 'secondary'") > 0);
    /* device_wear sums what flash_wear lists per sector. */
    assert_int_equal(query_int(db, "SELECT count(*) FROM device_wear d WHERE erases != (SELECT"
                                   " coalesce(sum(erases), 0) FROM flash_wear f WHERE"
                                   " f.device_id = d.device_id AND f.area = d.area) OR"
                                   " max_erases != (SELECT coalesce(max(erases), 0) FROM"
                                   " flash_wear f WHERE f.device_id = d.device_id AND"
                                   " f.area = d.area)"),
                     0);
    assert_true(query_int(db, "SELECT erases FROM device_wear WHERE area = 'primary'") > 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM devices WHERE state = 'updated'"), 1);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(swap_move_test_and_confirm_updates),
        cmocka_unit_test(boot_timing_sets_the_validation_time),
        cmocka_unit_test(flash_timing_sets_swap_and_upload_times),
        cmocka_unit_test(direct_xip_revert_updates),
        cmocka_unit_test(unconfirmed_test_image_reverts),
        cmocka_unit_test(lock_held_by_config_channel_gets_rc_11),
        cmocka_unit_test(erase_strategies_against_client_timeouts),
        cmocka_unit_test(link_drop_mid_upload_resumes),
        cmocka_unit_test(link_drop_then_retry_resumes_from_device_offset),
        cmocka_unit_test(latency_99_with_and_without_ble_latency),
        cmocka_unit_test(records_of_one_dfu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
