/* tests/test_device_fleet.c - one device (models/fleet/device.h) against a fake context that
 * records timer arms and records: no engine. The end-to-end flows are in test_e2e_dfu.c;
 * this file checks the assembly's own rules: which timer each input arms, stale
 * generations, the device states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "models/fleet/device.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MS(x)        ((int64_t)(x)*1000000LL)

/* ---- fake context ---------------------------------------------------------------------- */

struct fake {
    int64_t at[FLEET_T_COUNT]; /* armed time, -1 when not armed */
    uint32_t gen[FLEET_T_COUNT];
    unsigned n_arms[FLEET_T_COUNT];
    unsigned n_attempts, n_swaps, n_locks;
    struct recorder_outage outages[8];
    size_t n_outages;
};

static int f_arm(void *env, uint32_t dev, int slot, uint32_t gen, int64_t at)
{
    struct fake *f = env;
    (void)dev;
    f->at[slot] = at;
    f->gen[slot] = gen;
    f->n_arms[slot]++;
    return 0;
}
static void f_cancel(void *env, uint32_t dev, int slot)
{
    struct fake *f = env;
    (void)dev;
    f->at[slot] = -1;
}
static void f_attempt(void *env, uint32_t dev, struct recorder_attempt *a)
{
    (void)dev, (void)a;
    ((struct fake *)env)->n_attempts++;
}
static void f_chunk(void *env, uint32_t dev, const struct recorder_chunk *c)
{
    (void)env, (void)dev, (void)c;
}
static void f_swap(void *env, uint32_t dev, struct recorder_swap *s)
{
    (void)dev, (void)s;
    ((struct fake *)env)->n_swaps++;
}
static void f_lock(void *env, uint32_t dev, const struct recorder_lock *l)
{
    (void)dev, (void)l;
    ((struct fake *)env)->n_locks++;
}

static void f_outage(void *env, uint32_t dev, const struct recorder_outage *o)
{
    struct fake *f = env;
    (void)dev;
    if (f->n_outages < sizeof(f->outages) / sizeof(f->outages[0]))
        f->outages[f->n_outages] = *o;
    f->n_outages++;
}

static int image_read(void *env, uint32_t off, uint8_t *buf, size_t n)
{
    const struct mcuboot_slots_image *im = env;
    return mcuboot_image_bytes(&im->img, im->file, off, buf, n);
}

struct bench {
    struct fake f;
    struct fleet_device_ctx cx;
    struct mcuboot_slots_image images[2];
    struct mcuboot_slots_cfg slots;
    struct client_dfu_image cimg;
    struct fleet_device_cfg cfg;
    struct fleet_device *dev;
};

static void bench_up(struct bench *b)
{
    memset(b, 0, sizeof(*b));
    for (int i = 0; i < FLEET_T_COUNT; i++)
        b->f.at[i] = -1;
    b->cx = (struct fleet_device_ctx){&b->f,  f_arm,  f_cancel, f_attempt, f_chunk,
                                      f_swap, f_lock, f_outage, NULL,      false};
    struct sim_diag d;
    sim_diag_init(&d);
    const struct mcuboot_image_version v1 = {1, 0, 0, 0}, v2 = {2, 0, 0, 0};
    assert_int_equal(mcuboot_image_synth(64 * 1024, &v1, &b->images[0].img, &d), 0);
    assert_int_equal(mcuboot_image_synth(64 * 1024, &v2, &b->images[1].img, &d), 0);
    struct flash_map map;
    assert_int_equal(flash_map_board(FLASH_MAP_NRF52840DK, &map), 0);
    assert_int_equal(
        mcuboot_slots_cfg_init(&b->slots, MCUBOOT_SLOTS_SWAP_MOVE, &map, b->images, 2, &d), 0);
    b->cimg.size = b->images[1].img.file_size;
    memcpy(b->cimg.sha, b->images[1].img.file_sha, CLIENT_DFU_SHA_LEN);
    memcpy(b->cimg.hash, b->images[1].img.hash, CLIENT_DFU_SHA_LEN);
    b->cimg.env = &b->images[1];
    b->cimg.read = image_read;
    fleet_device_cfg_default(&b->cfg);
    b->cfg.slots = &b->slots;
    b->cfg.factory_image = 0;
    b->cfg.update_image = 1;
    b->cfg.client_image = &b->cimg;
    b->cfg.start_ns = MS(1000);
    b->dev = fleet_device_new(7, 7, &b->cfg, &b->cx, 1, NULL, 0, &d);
    if (b->dev == NULL)
        fail_msg("%s", d.text);
}

static void bench_down(struct bench *b)
{
    fleet_device_free(b->dev);
}

/* Fire slot as the engine would: at its armed time with its generation. */
static void fire(struct bench *b, int slot)
{
    assert_true(b->f.at[slot] >= 0);
    int64_t at = b->f.at[slot];
    b->f.at[slot] = -1;
    assert_int_equal(fleet_device_timer(b->dev, slot, b->f.gen[slot], at), 0);
}

/* ------------------------------------------------------------------------------------
 * Power on: MCUboot validates the factory image (64 KiB at 1 MB/s) with the radio off;
 * the application starts at its end, the client at its start time.
 * ------------------------------------------------------------------------------------ */
static void power_on_boots_then_starts_the_application(void **state)
{
    (void)state;
    struct bench b;
    bench_up(&b);
    assert_int_equal(fleet_device_state_get(b.dev), FLEET_DEV_OFF);
    assert_int_equal(fleet_device_power_on(b.dev, 0), 0);
    assert_int_equal(fleet_device_state_get(b.dev), FLEET_DEV_BOOT);
    const struct fleet_device_stats *st = fleet_device_stats_get(b.dev);
    /* validation of the primary only: total_size bytes at hash_rate, one signature check */
    int64_t want = (int64_t)b.images[0].img.total_size * 1000000000LL / 1000000 + b.slots.t_sig;
    assert_true(b.f.at[FLEET_T_BOOT] >= want - 1000 && b.f.at[FLEET_T_BOOT] <= want + 1000);
    assert_int_equal(st->boot_end_ns, b.f.at[FLEET_T_BOOT]);
    assert_int_equal(b.f.at[FLEET_T_START], MS(1000));
    assert_int_equal(b.f.n_swaps, 0); /* a plain boot is no swap */
    fire(&b, FLEET_T_BOOT);
    assert_int_equal(fleet_device_state_get(b.dev), FLEET_DEV_APP);
    assert_int_equal(st->running_image, 0);
    assert_true(fleet_device_confirmed(b.dev));
    /* main READY goes through the event bus work item, at once */
    assert_int_equal(b.f.at[FLEET_T_BUS], st->boot_end_ns);
    fire(&b, FLEET_T_BUS);
    /* dfu_mcumgr claims nothing until SMP traffic: no lock record yet */
    assert_int_equal(b.f.n_locks, 0);
    fleet_device_check(b.dev);
    bench_down(&b);
}

/* ------------------------------------------------------------------------------------
 * The client's start asks for a connection: CONNECT_IND adv_ns after it (the device is
 * advertising), then the link's own timer takes over.
 * ------------------------------------------------------------------------------------ */
static void client_start_connects_after_advertising_delay(void **state)
{
    (void)state;
    struct bench b;
    bench_up(&b);
    assert_int_equal(fleet_device_power_on(b.dev, 0), 0);
    fire(&b, FLEET_T_BOOT);
    fire(&b, FLEET_T_BUS);
    fire(&b, FLEET_T_START);
    assert_int_equal(b.f.at[FLEET_T_CONNECT], MS(1000) + b.cfg.adv_ns);
    fire(&b, FLEET_T_CONNECT);
    assert_int_equal(ble_link_state_get(fleet_device_link(b.dev)), BLE_LINK_SETUP);
    assert_true(b.f.at[FLEET_T_LINK] > MS(1100));
    bench_down(&b);
}

/* ------------------------------------------------------------------------------------
 * Stale and unexpected inputs change nothing: an old generation is dropped; a device
 * timer while MCUboot runs is counted unexpected; a reset fault during BOOT too.
 * ------------------------------------------------------------------------------------ */
static void stale_and_unexpected_inputs_change_nothing(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int slot;
        bool stale;
        unsigned want_unexpected;
    } cases[] = {
        {"stale boot timer is dropped", FLEET_T_BOOT, true, 0},
        {"worker timer while MCUboot runs is unexpected", FLEET_T_NETBUF, false, 1},
        {"bus timer while MCUboot runs is unexpected", FLEET_T_BUS, false, 1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct bench b;
        bench_up(&b);
        assert_int_equal(fleet_device_power_on(b.dev, 0), 0);
        uint32_t gen = cases[i].stale ? b.f.gen[cases[i].slot] - 1 : 0;
        if (!cases[i].stale) /* a live generation for a slot nobody armed */
            gen = 0;
        assert_int_equal(fleet_device_timer(b.dev, cases[i].slot, gen, 1), 0);
        if (fleet_device_state_get(b.dev) != FLEET_DEV_BOOT ||
            fleet_device_stats_get(b.dev)->n_unexpected != cases[i].want_unexpected)
            fail_msg("%s: state %d unexpected %u", cases[i].name, fleet_device_state_get(b.dev),
                     fleet_device_stats_get(b.dev)->n_unexpected);
        bench_down(&b);
    }
    struct bench b;
    bench_up(&b);
    assert_int_equal(fleet_device_power_on(b.dev, 0), 0);
    assert_int_equal(fleet_device_fault_at(b.dev, FLEET_FAULT_RESET, 5, 0), 0);
    fire(&b, FLEET_T_FAULT);
    assert_int_equal(fleet_device_stats_get(b.dev)->n_unexpected, 1);
    assert_int_equal(fleet_device_stats_get(b.dev)->n_boots, 1);
    bench_down(&b);
}

/* ------------------------------------------------------------------------------------
 * A reset while the application runs: RAM state goes, MCUboot runs again (nothing to swap:
 * a plain boot), and the application starts again at its end.
 * ------------------------------------------------------------------------------------ */
static void reset_reboots_through_mcuboot(void **state)
{
    (void)state;
    struct bench b;
    bench_up(&b);
    assert_int_equal(fleet_device_power_on(b.dev, 0), 0);
    fire(&b, FLEET_T_BOOT);
    assert_int_equal(fleet_device_fault_at(b.dev, FLEET_FAULT_RESET, MS(2000), MS(500)), 0);
    fire(&b, FLEET_T_FAULT);
    const struct fleet_device_stats *st = fleet_device_stats_get(b.dev);
    assert_int_equal(fleet_device_state_get(b.dev), FLEET_DEV_BOOT);
    assert_int_equal(st->n_boots, 2);
    assert_int_equal(st->boot_ns, MS(2000));
    assert_int_equal(b.f.at[FLEET_T_BUS], -1); /* application timers were cancelled */
    fire(&b, FLEET_T_BOOT);
    assert_int_equal(fleet_device_state_get(b.dev), FLEET_DEV_APP);
    assert_int_equal(st->running_image, 0);
    assert_string_equal(fleet_device_outcome(b.dev), "pending");
    bench_down(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(power_on_boots_then_starts_the_application),
        cmocka_unit_test(client_start_connects_after_advertising_delay),
        cmocka_unit_test(stale_and_unexpected_inputs_change_nothing),
        cmocka_unit_test(reset_reboots_through_mcuboot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
