/* tests/test_central.c - central profiles (models/client/central.h): each profile's values
 * reach the link (MTU, data length, PHY, packets per event, interval) and the client (host
 * latency), through whole scenarios; the connection priority and an explicit interval; the
 * host latency delays the next request by exactly its value; a mix of centrals is drawn per
 * device, reproducibly; window 3 against window 1 on the Android profile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/client/central.h"
#include "models/fleet/settings.h"
#include "models/fleet/world.h"
#include "models/smp/frame.h"
#include "models/smp/mgmt.h"
#include "sim/engine.h"
#include "sim/error.h"
#include "sim/scenario.h"

#define MS(x) ((int64_t)((x)*1000000.0))

struct run {
    struct scenario s;
    struct sim_engine *e;
    struct fleet_world *w;
};

static const char *const base = "name: central\n"
                                "seed: 7\n"
                                "until: 1h\n"
                                "image: { size: 64KiB, version: 2.0.0, installed: 1.0.0 }\n"
                                "client: { kind: device-manager-android }\n"
                                "devices:\n"
                                "  - { group: a, count: 1 }\n";

static void run_up(struct run *r, const char *text, const char *const *set, size_t n_set)
{
    struct sim_diag d;
    sim_diag_init(&d);
    memset(r, 0, sizeof(*r));
    if (scenario_load_text("inline.yaml", &fleet_settings_schema, text, strlen(text), set, n_set,
                           &r->s, &d) != 0)
        fail_msg("%s", d.text);
    r->e = sim_engine_new(0);
    if (fleet_world_from_scenario(&r->s, r->e, NULL, &r->w, &d) != 0)
        fail_msg("%s", d.text);
    enum sim_stop why;
    assert_int_equal(sim_engine_run(r->e, r->s.until, &why), 0);
    assert_int_equal(fleet_world_error(r->w), 0);
}

static void run_down(struct run *r)
{
    fleet_world_free(r->w);
    sim_engine_free(r->e);
    scenario_fini(&r->s);
}

static const struct ble_link_cfg *link_of(struct run *r, uint32_t id)
{
    return &fleet_device_link(fleet_world_device(r->w, id))->cfg;
}

/* Every profile on the default device (MTU 498, DLE 251, asks LE 2M and 7.5 ms) with the
 * Device Manager Android client (asks ATT MTU 498), app priority HIGH. Expected values are
 * the rules of central.h applied by hand to the table in central.c:
 *   android  MTU min(498, 517, 498) = 498; DLE 251; 6 packets; 7.5 ms -> HIGH 11.25-15 ms,
 *            nearest 11.25 ms
 *   ios      MTU min(498, 185, 498) = 185; 7 packets; 7.5 ms breaks the Apple rule -> 30 ms
 *   linux    498; 6 packets; a valid request is accepted: 7.5 ms
 *   windows  as Android's ranges: 11.25 ms
 *   macos    MTU 185; 7 packets; 15 ms whatever is asked
 * After the whole DFU: the device's own parameter requests (ble_latency) are answered with
 * the central's interval, so the values hold at the end of the run too. */
static void each_profile_reaches_the_link_and_the_client(void **state)
{
    (void)state;
    static const struct {
        const char *set;
        uint16_t mtu, packets;
        int64_t interval, host_lo, host_hi;
    } want[] = {
        {"client.central=android", 498, 6, MS(11.25), MS(2), MS(15)},
        {"client.central=ios", 185, 7, MS(30), MS(2), MS(15)},
        {"client.central=linux-bluez", 498, 6, MS(7.5), MS(5), MS(20)},
        {"client.central=windows", 498, 6, MS(11.25), MS(5), MS(20)},
        {"client.central=macos", 185, 7, MS(15), MS(2), MS(15)},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct run r;
        const char *set[] = {want[i].set};
        run_up(&r, base, set, 1);
        const struct ble_link_cfg *l = link_of(&r, 0);
        print_message("%s: mtu %u dle %u packets %u interval %.2f ms phy %d\n", want[i].set, l->mtu,
                      l->dle, l->max_pdus_per_event, (double)l->interval_ns / 1e6, (int)l->phy);
        assert_int_equal(l->mtu, want[i].mtu);
        assert_int_equal(l->dle, 251);
        assert_int_equal(l->phy, BLE_PHY_2M);
        assert_int_equal(l->max_pdus_per_event, want[i].packets);
        assert_int_equal(l->interval_ns, want[i].interval);
        assert_int_equal(l->central_interval_ns, want[i].interval);
        /* the profile row that produced it carries the host latency the client draws from */
        const struct client_central_profile *p = client_central_profile((enum client_central)i);
        assert_int_equal(p->host_lo_ns, want[i].host_lo);
        assert_int_equal(p->host_hi_ns, want[i].host_hi);
        const char *outcome = NULL;
        assert_true(fleet_device_client_done(fleet_world_device(r.w, 0), &outcome));
        assert_string_equal(outcome, "updated");
        run_down(&r);
    }
}

/* Android: BALANCED 30-50 ms and LOW_POWER 100-125 ms (AOSP config.xml) give the value
 * nearest 7.5 ms, 30 and 100 ms; iOS has no priority API (30 ms whatever is asked); a
 * given devices[].link.interval is used as it is; client.packets_per_event overrides. The
 * client kind's default host: the Go CLI runs on Linux (7.5 ms accepted). */
static void priority_override_and_kind_default(void **state)
{
    (void)state;
    static const struct {
        const char *set[2];
        int64_t interval;
        uint16_t packets;
    } want[] = {
        {{"client.priority=balanced", NULL}, MS(30), 6},
        {{"client.priority=low-power", NULL}, MS(100), 6},
        {{"client.central=ios", "client.priority=low-power"}, MS(30), 7},
        {{"devices.a.link.interval=20ms", NULL}, MS(20), 6},
        {{"client.packets_per_event=3", NULL}, MS(11.25), 3},
        {{"client.kind=mcumgr-cli", NULL}, MS(7.5), 6},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct run r;
        run_up(&r, base, want[i].set, want[i].set[1] != NULL ? 2 : 1);
        assert_int_equal(link_of(&r, 0)->interval_ns, want[i].interval);
        assert_int_equal(link_of(&r, 0)->max_pdus_per_event, want[i].packets);
        run_down(&r);
    }
}

/* ---- the host latency, on one client ---------------------------------------------------- */

struct mock {
    uint8_t last[64];
    unsigned n_sent;
    int64_t rsp_at; /* armed RSP time */
    uint32_t gen;
};

static int m_send(void *env, const uint8_t *b, size_t n)
{
    struct mock *m = env;
    memcpy(m->last, b, n < sizeof m->last ? n : sizeof m->last);
    m->n_sent++;
    return 0;
}
static uint32_t m_arm(void *env, int timer, int64_t at)
{
    struct mock *m = env;
    if (timer == CLIENT_DFU_TIMER_RSP)
        m->rsp_at = at;
    return ++m->gen;
}
static void m_connect(void *env)
{
    (void)env;
}
static void m_emit(void *env, const struct client_dfu_record *r)
{
    (void)env, (void)r;
}
static int m_read(void *env, uint32_t off, uint8_t *buf, size_t n)
{
    (void)env, (void)off;
    memset(buf, 0xa5, n);
    return 0;
}

/* smpclient asks mcumgr params first; the answer (an empty map: no buf_size) is held for
 * the host latency (fixed at 5 ms here: lo = hi), then the first chunk goes out. Nothing
 * leaves before those 5 ms; the chunk leaves at exactly response + 5 ms. */
static void host_latency_delays_the_next_request(void **state)
{
    (void)state;
    struct client_dfu_cfg cfg = client_dfu_cfg_default(CLIENT_DFU_SMPCLIENT);
    struct client_central_profile p = *client_central_profile(CLIENT_CENTRAL_LINUX_BLUEZ);
    p.host_lo_ns = p.host_hi_ns = MS(5);
    client_central_host(&p, 1, 2, &cfg);
    struct client_dfu_image img = {.size = 4096, .read = m_read};
    struct client_dfu *c = client_dfu_new(&cfg, &img);
    assert_non_null(c);
    struct mock m = {.rsp_at = -1};
    struct client_dfu_ctx cx = {&m, m_send, m_arm, m_connect, m_emit, NULL};
    struct client_dfu_conn conn = {498};
    assert_int_equal(client_dfu_step(c, CLIENT_DFU_IN_CONNECTED, &conn, 0, &cx), 0);
    assert_int_equal(client_dfu_step(c, CLIENT_DFU_IN_START, NULL, 0, &cx), 0);
    assert_int_equal(m.n_sent, 1); /* mcumgr params */
    struct smp_frame_hdr q;
    assert_int_equal(smp_frame_hdr_decode(&q, m.last, sizeof m.last), 0);
    uint8_t rsp[SMP_MGMT_HDR_SIZE + 1];
    struct smp_frame_hdr h = {.len = 1,
                              .group = q.group,
                              .op = SMP_MGMT_OP_READ_RSP,
                              .version = q.version,
                              .seq = q.seq,
                              .id = q.id};
    smp_frame_hdr_encode(&h, rsp);
    rsp[SMP_MGMT_HDR_SIZE] = 0xa0; /* {} */
    struct client_dfu_rx rx = {rsp, sizeof rsp};
    const int64_t t1 = MS(40);
    assert_int_equal(client_dfu_step(c, CLIENT_DFU_IN_RX, &rx, t1, &cx), 0);
    assert_int_equal(m.n_sent, 1); /* held */
    assert_int_equal(client_dfu_state_get(c), CLIENT_DFU_PARAMS);
    assert_int_equal(m.rsp_at, t1 + MS(5)); /* the host hands it on then */
    struct client_dfu_timer t = {CLIENT_DFU_TIMER_RSP, m.gen};
    assert_int_equal(client_dfu_step(c, CLIENT_DFU_IN_TIMER, &t, t1 + MS(5), &cx), 0);
    assert_int_equal(m.n_sent, 2); /* the first chunk, at t1 + 5 ms */
    assert_int_equal(client_dfu_state_get(c), CLIENT_DFU_UPLOAD);
    client_dfu_free(c);
}

/* ---- a mix of centrals ------------------------------------------------------------------ */

/* client.central: choice(android @ 7, ios @ 3) over 300 devices: each draws from its own
 * keyed stream, so a second run gives every device the same central, and the iOS share is
 * binomial(300, 0.3): 90 +- 3 sigma (sigma = sqrt(300 x 0.3 x 0.7) = 7.9), i.e. 66..114. An
 * iOS device is the one with the 30 ms interval and MTU 185. */
static void a_mix_is_drawn_per_device_and_reproducible(void **state)
{
    (void)state;
    static const char *const set[] = {"devices.a.count=300",
                                      "client.central=choice(android @ 7, "
                                      "ios @ 3)",
                                      "until=1s"};
    uint8_t first[300];
    for (int pass = 0; pass < 2; pass++) {
        struct run r;
        run_up(&r, base, set, 3);
        unsigned n_ios = 0;
        for (uint32_t id = 0; id < 300; id++) {
            const struct ble_link_cfg *l = link_of(&r, id);
            bool ios = l->interval_ns == MS(30);
            assert_true(ios ? l->mtu == 185 : (l->mtu == 498 && l->interval_ns == MS(11.25)));
            if (pass == 0)
                first[id] = ios;
            else
                assert_int_equal(first[id], ios);
            n_ios += ios;
        }
        print_message("iOS devices: %u of 300\n", n_ios);
        assert_true(n_ios >= 66 && n_ios <= 114);
        run_down(&r);
    }
}

/* A mix names centrals only. */
static void a_mix_of_unknown_names_is_refused(void **state)
{
    (void)state;
    static const char *const set[] = {"client.central=choice(android @ 1, symbian @ 1)"};
    struct scenario s;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(scenario_load_text("inline.yaml", &fleet_settings_schema, base, strlen(base),
                                        set, 1, &s, &d),
                     0);
    assert_int_equal(fleet_world_check(&s, &d), SIM_EINVAL);
    assert_non_null(strstr(d.text, "symbian"));
    assert_non_null(strstr(d.text, "is not a central"));
    scenario_fini(&s);
}

/* ---- window 3 against window 1 ---------------------------------------------------------- */

/* The upload goodput (image bytes over upload time) of the device of a run. */
static double goodput(struct run *r)
{
    const struct client_dfu_record *rec =
        client_dfu_record_get(fleet_device_client(fleet_world_device(r->w, 0)));
    const struct recorder_attempt *a = &rec->attempt;
    assert_true(a->upload_end_ns > a->upload_start_ns);
    return 256.0 * 1024 / 1000.0 / ((double)(a->upload_end_ns - a->upload_start_ns) / 1e9);
}

/* NordicSemiconductor/Android-nRF-Connect-Device-Manager PR #53 (2022-05-12), measured by the
 * library's author on Android, before SMP reassembly (so firmware without reassembly and
 * without MCUmgr parameters here; chunks fill ATT MTU 498 - 3): window 1 2-4 kB/s, window 3
 * 16-20 kB/s, a ratio of 4-10.
 *
 * From first principles a window of W requests can divide the time per chunk by at most W:
 * at window 1 a chunk costs one round trip T1 (request event, device work, response event,
 * host latency, next event), and with W out the round trip of each only grows (queueing at
 * the device), so goodput(W) <= W x goodput(1). Window 3 can therefore give at most 3x, and
 * the model's ratio on the Android profile lies in (1.5, 3]: at 11.25 ms (HIGH) and window 1
 * the link is idle while the device writes, so its 7.6 ms flash timeslots fit the 11 ms gaps
 * between events and cost no event (models/flash/radio_sync.h); at window 3 the link is busy,
 * every timeslot goes HIGH and takes an event, and the device's flash work in timeslots is
 * the bottleneck: the speed-up stays well under the bound. The published ratio 4-10 is above
 * the bound, so no consistent set of Android parameters can reproduce it; docs/model.md
 * ("Central profiles") says so and keeps the figure out of the calibration. This test holds
 * the model to its bound and to a clear speed-up from pipelining. */
static void window_3_against_window_1_on_android(void **state)
{
    (void)state;
    double g[2];
    static const char *const sets[2][5] = {
        {"image.size=256KiB", "devices.a.firmware.reassembly=false",
         "devices.a.firmware.mcumgr_params=false", "client.window=1", "client.mode=upload-only"},
        {"image.size=256KiB", "devices.a.firmware.reassembly=false",
         "devices.a.firmware.mcumgr_params=false", "client.window=3", "client.mode=upload-only"},
    };
    for (int i = 0; i < 2; i++) {
        struct run r;
        run_up(&r, base, sets[i], 5);
        g[i] = goodput(&r);
        run_down(&r);
    }
    print_message("android: window 1 %.1f kB/s, window 3 %.1f kB/s, ratio %.2f\n", g[0], g[1],
                  g[1] / g[0]);
    assert_true(g[1] / g[0] > 1.5);
    assert_true(g[1] / g[0] <= 3.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_profile_reaches_the_link_and_the_client),
        cmocka_unit_test(priority_override_and_kind_default),
        cmocka_unit_test(host_latency_delays_the_next_request),
        cmocka_unit_test(a_mix_is_drawn_per_device_and_reproducible),
        cmocka_unit_test(a_mix_of_unknown_names_is_refused),
        cmocka_unit_test(window_3_against_window_1_on_android),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
