/* tests/test_ble_link.c - the BLE link: connect sequence, segmentation, throughput bound,
 * peripheral latency, loss and retransmission, CRC close, supervision timeout, parameter
 * update, fast path, determinism. The link runs against a fake context that records
 * deliveries and notes and plays the engine's timer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/ble/link.h"
#include "sim/engine.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define US           1000LL
#define MS           1000000LL
#define SEC          1000000000LL
#define MAX_DELIV    16384
#define RX_CAP       (4u << 20)

/* ---- fake context ---- */

struct fake {
    struct ble_link l;
    struct ble_link_ctx cx;
    int64_t timer_at;
    bool armed;
    uint64_t n_timer_calls;
    size_t n_deliv[2];
    int64_t deliv_at[2][MAX_DELIV];
    uint8_t *rx[2], *tx[2];
    size_t rx_len[2], tx_len[2];
    size_t n_sent[2];
    int64_t sent_at[2]; /* last sent callback */
    size_t n_notes;
    struct ble_link_note notes[32];
    bool refill[2]; /* keep this direction's queue full */
    size_t sdu_len; /* refill SDU size; 0: random 1..mtu-3 */
    uint64_t seq[2];
    struct sim_rng content;
};

static int f_arm(void *env, int64_t at)
{
    struct fake *f = env;
    f->timer_at = at;
    f->armed = true;
    return 0;
}

static void f_cancel(void *env)
{
    ((struct fake *)env)->armed = false;
}

static void f_deliver(void *env, enum ble_link_dir dir, const uint8_t *p, size_t n, int64_t at)
{
    struct fake *f = env;
    assert_true(f->n_deliv[dir] < MAX_DELIV && f->rx_len[dir] + n <= RX_CAP);
    f->deliv_at[dir][f->n_deliv[dir]++] = at;
    memcpy(f->rx[dir] + f->rx_len[dir], p, n);
    f->rx_len[dir] += n;
}

/* Queue one SDU of len bytes (0: random length) with pseudo-random content. */
static int f_send(struct fake *f, enum ble_link_dir dir, size_t len, int64_t now)
{
    uint8_t buf[BLE_LINK_ATT_MTU_MAX];
    if (len == 0)
        len = 1 + (size_t)(sim_rng_u64(&f->content) % ble_link_sdu_max(&f->l));
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)sim_rng_u64(&f->content);
    int rc = ble_link_send(&f->l, dir, buf, len, now, &f->cx);
    if (rc == 0) {
        assert_true(f->tx_len[dir] + len <= RX_CAP);
        memcpy(f->tx[dir] + f->tx_len[dir], buf, len);
        f->tx_len[dir] += len;
        f->seq[dir]++;
    }
    return rc;
}

static void f_sent(void *env, enum ble_link_dir dir, int64_t at)
{
    struct fake *f = env;
    f->n_sent[dir]++;
    f->sent_at[dir] = at;
    if (f->refill[dir])
        while (f_send(f, dir, f->sdu_len, at) == 0)
            ;
}

static void f_note(void *env, const struct ble_link_note *n)
{
    struct fake *f = env;
    assert_true(f->n_notes < ARRAY_LEN(f->notes));
    f->notes[f->n_notes++] = *n;
}

static struct fake *fake_new(const struct ble_link_cfg *cfg, uint64_t seed)
{
    struct fake *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    for (int d = 0; d < 2; d++) {
        f->rx[d] = malloc(RX_CAP);
        f->tx[d] = malloc(RX_CAP);
        assert_non_null(f->rx[d]);
        assert_non_null(f->tx[d]);
    }
    f->cx = (struct ble_link_ctx){.env = f,
                                  .timer_arm = f_arm,
                                  .timer_cancel = f_cancel,
                                  .deliver = f_deliver,
                                  .sent = f_sent,
                                  .note = f_note};
    sim_rng_init(&f->content, 99, 0, SIM_RNG_TEST);
    assert_int_equal(ble_link_init(&f->l, cfg, seed, 42), 0);
    return f;
}

static void fake_free(struct fake *f)
{
    ble_link_fini(&f->l);
    for (int d = 0; d < 2; d++) {
        free(f->rx[d]);
        free(f->tx[d]);
    }
    free(f);
}

/* Play the engine: fire the link's timer until it is later than `until`. */
static void run_until(struct fake *f, int64_t until)
{
    while (f->armed && f->timer_at <= until) {
        f->armed = false;
        f->n_timer_calls++;
        assert_int_equal(ble_link_timer(&f->l, f->timer_at, &f->cx), 0);
        ble_link_check(&f->l);
    }
}

/* Connect at 0 and run to CONNECTED; returns the ready time. */
static int64_t connect_now(struct fake *f)
{
    assert_int_equal(ble_link_connect(&f->l, 0, &f->cx), 0);
    run_until(f, 10 * SEC);
    assert_int_equal(ble_link_state_get(&f->l), BLE_LINK_CONNECTED);
    assert_true(f->n_notes >= 1 && f->notes[f->n_notes - 1].kind == BLE_LINK_NOTE_CONNECTED);
    return f->notes[f->n_notes - 1].at_ns;
}

/* ---- memory follows what is queued ---- */

/* A burst up to queue_bytes grows the downlink buffer from nothing by doubling, never past
 * queue_bytes, and every byte arrives once, in order; the buffer is kept while connected
 * (steady traffic allocates nothing) and the next burst of the same size reuses it. */
static void test_burst_grows_the_queue_and_arrives_intact_in_order(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    struct fake *f = fake_new(&cfg, 5);
    int64_t ready = connect_now(f);
    assert_null(f->l.q[BLE_LINK_C2P].bytes);
    size_t n_ok = 0;
    while (f_send(f, BLE_LINK_C2P, 495, ready) == BLE_LINK_OK)
        n_ok++;
    assert_int_equal(n_ok, 32768 / 495); /* 66 SDUs, 32670 bytes: the 67th is FULL */
    uint32_t cap = f->l.q[BLE_LINK_C2P].bytes_cap;
    assert_true(cap >= 66 * 495 && cap <= cfg.queue_bytes);
    run_until(f, ready + 10 * SEC);
    assert_int_equal(f->n_deliv[BLE_LINK_C2P], 66);
    assert_int_equal(f->rx_len[BLE_LINK_C2P], f->tx_len[BLE_LINK_C2P]);
    assert_memory_equal(f->rx[BLE_LINK_C2P], f->tx[BLE_LINK_C2P], f->tx_len[BLE_LINK_C2P]);
    const uint8_t *kept = f->l.q[BLE_LINK_C2P].bytes;
    assert_non_null(kept);
    for (int i = 0; i < 66; i++)
        assert_int_equal(f_send(f, BLE_LINK_C2P, 495, ready + 10 * SEC), BLE_LINK_OK);
    assert_ptr_equal(f->l.q[BLE_LINK_C2P].bytes, kept);
    assert_int_equal(f->l.q[BLE_LINK_C2P].bytes_cap, cap);
    run_until(f, ready + 20 * SEC);
    assert_int_equal(f->rx_len[BLE_LINK_C2P], f->tx_len[BLE_LINK_C2P]);
    assert_memory_equal(f->rx[BLE_LINK_C2P], f->tx[BLE_LINK_C2P], f->tx_len[BLE_LINK_C2P]);
    fake_free(f);
}

/* FULL comes exactly when unacknowledged bytes would pass queue_bytes, whatever the size
 * of the storage; a queue_bytes between two doublings caps the buffer at it. */
static void test_full_exactly_at_queue_bytes(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t queue_bytes;
    } c[] = {{"queue_bytes 1000: between 512 and 1024", 1000},
             {"queue_bytes 3000: between two doublings", 3000},
             {"queue_bytes 4096: a doubling exactly", 4096}};
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct ble_link_cfg cfg;
        ble_link_cfg_default(&cfg);
        cfg.queue_bytes = c[i].queue_bytes;
        struct fake *f = fake_new(&cfg, 6);
        int64_t ready = connect_now(f);
        size_t left = c[i].queue_bytes;
        while (left > 0) {
            size_t n = left < 495 ? left : 495;
            if (f_send(f, BLE_LINK_C2P, n, ready) != BLE_LINK_OK)
                fail_msg("%s: refused with %zu bytes left", c[i].name, left);
            left -= n;
        }
        if (f_send(f, BLE_LINK_C2P, 1, ready) != BLE_LINK_FULL)
            fail_msg("%s: one byte more is not FULL", c[i].name);
        if (f->l.q[BLE_LINK_C2P].bytes_cap != c[i].queue_bytes)
            fail_msg("%s: storage %u", c[i].name, (unsigned)f->l.q[BLE_LINK_C2P].bytes_cap);
        run_until(f, ready + 10 * SEC);
        assert_int_equal(f->rx_len[BLE_LINK_C2P], c[i].queue_bytes);
        assert_memory_equal(f->rx[BLE_LINK_C2P], f->tx[BLE_LINK_C2P], c[i].queue_bytes);
        fake_free(f);
    }
}

static bool queue_released(const struct ble_link *l, int d)
{
    const struct ble_link_queue *q = &l->q[d];
    return q->bytes == NULL && q->sdus == NULL && q->bytes_cap == 0 && q->sdus_cap == 0;
}

/* Disconnect and peer_lost() drop the data and free both queues; the link then works as
 * before: it reconnects, grows again and delivers. */
static void test_disconnect_and_peer_lost_release_queue_memory(void **state)
{
    (void)state;
    for (int lost = 0; lost < 2; lost++) {
        struct ble_link_cfg cfg;
        ble_link_cfg_default(&cfg);
        struct fake *f = fake_new(&cfg, 7);
        int64_t ready = connect_now(f);
        for (int i = 0; i < 20; i++) {
            assert_int_equal(f_send(f, BLE_LINK_C2P, 495, ready), BLE_LINK_OK);
            assert_int_equal(f_send(f, BLE_LINK_P2C, 495, ready), BLE_LINK_OK);
        }
        run_until(f, ready + 20 * MS); /* some in flight, most still queued */
        assert_false(queue_released(&f->l, BLE_LINK_C2P));
        int64_t t = ready + 20 * MS;
        if (lost) {
            assert_int_equal(ble_link_peer_lost(&f->l, t, &f->cx), 0);
            assert_true(queue_released(&f->l, BLE_LINK_C2P));
            assert_true(queue_released(&f->l, BLE_LINK_P2C));
            run_until(f, t + 10 * SEC);
            assert_int_equal(ble_link_state_get(&f->l), BLE_LINK_DISCONNECTED);
        } else {
            assert_int_equal(ble_link_disconnect(&f->l, BLE_LINK_REASON_LOCAL_HOST, t, &f->cx), 0);
        }
        assert_true(queue_released(&f->l, BLE_LINK_C2P));
        assert_true(queue_released(&f->l, BLE_LINK_P2C));
        assert_true(ble_link_stats_get(&f->l)->n_dropped[BLE_LINK_C2P] > 0);
        ble_link_check(&f->l);
        int64_t t2 = f->timer_at > t ? f->timer_at : t + 10 * SEC;
        assert_int_equal(ble_link_connect(&f->l, t2, &f->cx), 0);
        run_until(f, t2 + SEC);
        assert_int_equal(ble_link_state_get(&f->l), BLE_LINK_CONNECTED);
        size_t before = f->rx_len[BLE_LINK_C2P];
        uint8_t b[100];
        memset(b, 0xa5, sizeof(b));
        assert_int_equal(ble_link_send(&f->l, BLE_LINK_C2P, b, sizeof(b), t2 + SEC, &f->cx), 0);
        run_until(f, t2 + 2 * SEC);
        assert_int_equal(f->rx_len[BLE_LINK_C2P], before + sizeof(b));
        assert_memory_equal(f->rx[BLE_LINK_C2P] + before, b, sizeof(b));
        fake_free(f);
    }
}

/* A deliver callback that disconnects its own link still reads its bytes afterwards: the
 * storage is freed only when the callback has returned (run under ASan and valgrind). */
static bool dc_done;
static void dc_deliver(void *env, enum ble_link_dir dir, const uint8_t *p, size_t n, int64_t at)
{
    struct fake *f = env;
    if (!dc_done) {
        dc_done = true;
        assert_int_equal(ble_link_disconnect(&f->l, BLE_LINK_REASON_REMOTE_USER, at, &f->cx), 0);
        assert_false(queue_released(&f->l, dir)); /* p still points into it */
    }
    f_deliver(env, dir, p, n, at);
}

static void test_disconnect_from_inside_deliver_frees_after_the_callback(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    struct fake *f = fake_new(&cfg, 8);
    f->cx.deliver = dc_deliver;
    dc_done = false;
    int64_t ready = connect_now(f);
    for (int i = 0; i < 4; i++)
        assert_int_equal(f_send(f, BLE_LINK_C2P, 495, ready), BLE_LINK_OK);
    run_until(f, ready + SEC);
    assert_true(dc_done);
    assert_int_equal(f->n_deliv[BLE_LINK_C2P], 1);
    assert_memory_equal(f->rx[BLE_LINK_C2P], f->tx[BLE_LINK_C2P], 495);
    assert_int_equal(ble_link_state_get(&f->l), BLE_LINK_DISCONNECTED);
    assert_true(queue_released(&f->l, BLE_LINK_C2P));
    assert_true(queue_released(&f->l, BLE_LINK_P2C));
    assert_int_equal(ble_link_stats_get(&f->l)->n_dropped[BLE_LINK_C2P], 3);
    fake_free(f);
}

/* ---- connect sequence ---- */

/* EVIDENCE-OF: first anchor transmitWindowDelay 1.25 ms after CONNECT_IND (Core Vol 6
 * Part B §4.5.3); MTU/DLE/PHY exchanges take cfg.setup_events events. */
static void test_connect_sequence_costs_setup_events(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int64_t interval;
        uint16_t setup_events;
    } c[] = {{"7.5 ms, 8 setup events", 7500 * US, 8},
             {"30 ms, 3 setup events", 30 * MS, 3},
             {"no setup events: ready at the first anchor", 15 * MS, 0}};
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct ble_link_cfg cfg;
        ble_link_cfg_default(&cfg);
        cfg.interval_ns = c[i].interval;
        cfg.setup_events = c[i].setup_events;
        struct fake *f = fake_new(&cfg, 1);
        uint8_t b[4] = {1, 2, 3, 4};
        assert_int_equal(ble_link_send(&f->l, BLE_LINK_C2P, b, 4, 0, &f->cx),
                         BLE_LINK_NOT_CONNECTED);
        int64_t ready = connect_now(f);
        if (ready != 1250 * US + c[i].setup_events * c[i].interval)
            fail_msg("%s: ready at %lld", c[i].name, (long long)ready);
        assert_int_equal(f->notes[0].mtu, 498);
        assert_int_equal(ble_link_connect(&f->l, ready, &f->cx), SIM_EINVAL);
        assert_int_equal(ble_link_stats_get(&f->l)->n_unexpected, 1);
        fake_free(f);
    }
}

/* EVIDENCE-OF: Core Vol 3 Part F §3.4.2.2: ATT_MTU is the smaller of the client's and
 * server's values; Core Vol 6 Part B §4.5.10: the smaller DLE maximum is used. */
static void test_exchanges_at_connect_settle_on_the_common_values(void **state)
{
    (void)state;
    const uint8_t all = 0x0f, no_2m = 0x0f & ~(1u << BLE_PHY_2M), only_1m = 1u << BLE_PHY_1M;
    static const struct {
        const char *name;
        struct ble_link_caps central, peripheral;
        uint16_t want_mtu, want_dle;
        enum ble_phy want_phy;
    } c[] = {
        {"Android MTU 517 with an nRF device at 498, both 2M",
         {517, 251, 0x0f, BLE_PHY_2M},
         {498, 251, 0x0f, BLE_PHY_2M},
         498,
         251,
         BLE_PHY_2M},
        {"phone at MTU 247 and DLE 251: 247 wins",
         {247, 251, 0x0f, BLE_PHY_2M},
         {498, 251, 0x0f, BLE_PHY_2M},
         247,
         251,
         BLE_PHY_2M},
        {"old phone without DLE that asks for 1M: 27 octets on 1M",
         {185, 27, 0x03, BLE_PHY_1M},
         {498, 251, 0x0f, BLE_PHY_2M},
         185,
         27,
         BLE_PHY_1M},
        {"central without a preference it shares takes the peripheral's",
         {247, 251, 0x03, BLE_PHY_CODED_S2},
         {498, 251, 0x0f, BLE_PHY_2M},
         247,
         251,
         BLE_PHY_2M},
        {"central prefers coded S8, peripheral supports it",
         {498, 251, 0x0f, BLE_PHY_CODED_S8},
         {498, 251, 0x0f, BLE_PHY_2M},
         498,
         251,
         BLE_PHY_CODED_S8},
        {"a 1M-only peripheral stays on 1M",
         {498, 251, 0x0f, BLE_PHY_2M},
         {23, 27, 0x01, BLE_PHY_1M},
         23,
         27,
         BLE_PHY_1M},
        {"an offer below 23 is raised to 23",
         {20, 20, 0x01, BLE_PHY_1M},
         {498, 251, 0x01, BLE_PHY_1M},
         23,
         27,
         BLE_PHY_1M},
    };
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct ble_link_cfg cfg;
        ble_link_cfg_default(&cfg);
        ble_link_cfg_negotiate(&cfg, &c[i].central, &c[i].peripheral);
        if (cfg.mtu != c[i].want_mtu || cfg.dle != c[i].want_dle || cfg.phy != c[i].want_phy)
            fail_msg("%s: mtu %u dle %u phy %s", c[i].name, cfg.mtu, cfg.dle,
                     ble_phy_name(cfg.phy));
        assert_int_equal(ble_link_cfg_check(&cfg), 0);
    }
    struct ble_link_caps a = {498, 251, no_2m, BLE_PHY_2M}, b = {498, 251, all, BLE_PHY_2M};
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    ble_link_cfg_negotiate(&cfg, &a, &b);
    assert_int_equal(cfg.phy, BLE_PHY_1M); /* 2M not common: falls back to 1M */
    a.phys = only_1m;
    ble_link_cfg_negotiate(&cfg, &a, &b);
    assert_int_equal(cfg.phy, BLE_PHY_1M);
}

/* ---- segmentation ---- */

/* EVIDENCE-OF: an SDU of n bytes is one L2CAP PDU of n + 4 + 3 bytes in LL PDUs of at
 * most DLE octets; at most MTU - 3 bytes per Write Command / notification. */
static void test_sdu_is_cut_into_ll_pdus_of_dle_octets(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint16_t mtu, dle;
        size_t n;
        uint64_t want_pdus;
    } c[] = {
        {"MTU 498 SDU over DLE 251 spans two full PDUs", 498, 251, 495, 2},
        {"MTU 247 SDU fills one DLE 251 PDU", 247, 251, 244, 1},
        {"MTU 23 SDU fills one 27-octet PDU", 23, 27, 20, 1},
        {"495 bytes at DLE 27: ceil(502 / 27) PDUs", 498, 27, 495, 19},
        {"one byte still costs the 7 header bytes", 498, 251, 1, 1},
    };
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct ble_link_cfg cfg;
        ble_link_cfg_default(&cfg);
        cfg.mtu = c[i].mtu;
        cfg.dle = c[i].dle;
        struct fake *f = fake_new(&cfg, 1);
        int64_t ready = connect_now(f);
        assert_int_equal(f_send(f, BLE_LINK_C2P, c[i].n, ready), 0);
        assert_int_equal(f_send(f, BLE_LINK_P2C, c[i].n, ready), 0);
        run_until(f, ready + 2 * SEC);
        const struct ble_link_stats *s = ble_link_stats_get(&f->l);
        if (s->n_pdus[BLE_LINK_C2P] != c[i].want_pdus || s->n_pdus[BLE_LINK_P2C] != c[i].want_pdus)
            fail_msg("%s: %llu/%llu PDUs", c[i].name, (unsigned long long)s->n_pdus[0],
                     (unsigned long long)s->n_pdus[1]);
        for (int d = 0; d < 2; d++) {
            assert_int_equal(f->rx_len[d], c[i].n);
            assert_memory_equal(f->rx[d], f->tx[d], c[i].n);
        }
        uint8_t big[BLE_LINK_ATT_MTU_MAX] = {0};
        assert_int_equal(
            ble_link_send(&f->l, BLE_LINK_C2P, big, (size_t)c[i].mtu - 2, ready + 2 * SEC, &f->cx),
            SIM_EINVAL);
        fake_free(f);
    }
}

/* A single small SDU with latency 0 arrives one PDU air time after the next anchor. */
static void test_single_sdu_arrives_one_air_time_after_the_anchor(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    struct fake *f = fake_new(&cfg, 1);
    int64_t ready = connect_now(f);
    int64_t t = ready + 3 * MS; /* between anchors 8 and 9 */
    assert_int_equal(f_send(f, BLE_LINK_C2P, 20, t), 0);
    run_until(f, ready + SEC);
    /* 20 + 4 + 3 = 27 octets on 2M with MIC: (2 + 4 + 2 + 27 + 4 + 3) x 4 us = 168 us */
    assert_int_equal(f->n_deliv[0], 1);
    assert_int_equal(f->deliv_at[0][0], ble_link_anchor_get(&f->l, 9) + 168 * US);
    /* the peripheral's empty answer acknowledges it: T_IFS + 44 us later */
    assert_int_equal(f->n_sent[0], 1);
    fake_free(f);
}

/* The radio taken by a flash timeslot (ble_link_skip_events): an SDU queued between anchors
 * 8 and 9 while events 9 to 11 are skipped arrives at event 12, one air time after its
 * anchor; the driver's view of the schedule (ble_link_schedule) is the next anchor, the
 * interval, and one empty exchange (2 x 44 us + T_IFS) on an idle link. */
static void test_skipped_events_carry_nothing(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    struct fake *f = fake_new(&cfg, 1);
    int64_t ready = connect_now(f);
    int64_t t = ready + 3 * MS;
    int64_t anchor, interval, busy;
    assert_true(ble_link_schedule(&f->l, t, &anchor, &interval, &busy));
    assert_int_equal(anchor, ble_link_anchor_get(&f->l, 9));
    assert_int_equal(interval, cfg.interval_ns);
    assert_int_equal(busy, 2 * 44 * US + 150 * US);
    assert_int_equal(ble_link_skip_events(&f->l, ble_link_anchor_get(&f->l, 9),
                                          ble_link_anchor_get(&f->l, 11) + 1, t, &f->cx),
                     0);
    assert_int_equal(f_send(f, BLE_LINK_C2P, 20, t), 0);
    run_until(f, ready + SEC);
    assert_int_equal(f->n_deliv[0], 1);
    assert_int_equal(f->deliv_at[0][0], ble_link_anchor_get(&f->l, 12) + 168 * US);
    fake_free(f);
}

/* The peripheral learns its notification arrived from the central's next PDU: with MD = 0
 * on both sides the event closes, so the ack (and the sent callback) comes at the next
 * event, from the central's first PDU. */
static void test_notification_is_acknowledged_at_the_next_event(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    cfg.latency = 4;
    struct fake *f = fake_new(&cfg, 1);
    int64_t ready = connect_now(f);
    int64_t t = ready + 3 * MS;
    assert_int_equal(f_send(f, BLE_LINK_P2C, 20, t), 0);
    run_until(f, ready + SEC);
    assert_int_equal(f->deliv_at[1][0], ble_link_anchor_get(&f->l, 9) + (44 + 150 + 168) * US);
    assert_int_equal(f->n_sent[1], 1);
    assert_int_equal(f->sent_at[1], ble_link_anchor_get(&f->l, 10) + 44 * US);
    assert_int_equal(ble_link_stats_get(&f->l)->n_events, 2);
    fake_free(f);
}

/* An exchange longer than the interval (Coded S8, 251 octets: 17.04 ms) is allowed as the
 * event's first; the next event is the first anchor after the previous one ended. */
static void test_overlong_exchange_pushes_the_next_event_back(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    cfg.phy = BLE_PHY_CODED_S8;
    struct fake *f = fake_new(&cfg, 1);
    int64_t ready = connect_now(f);
    assert_int_equal(f_send(f, BLE_LINK_C2P, 495, ready + MS), 0);
    run_until(f, ready + SEC);
    /* event 9: 17040 + 150 + 720 + 150 = 18060 us, so the next is event 12 (22.5 ms on) */
    assert_int_equal(f->n_deliv[0], 1);
    assert_int_equal(f->deliv_at[0][0], ble_link_anchor_get(&f->l, 12) + 17040 * US);
    fake_free(f);
}

/* ---- throughput ---- */

/* EVIDENCE-OF (derived from the PHY timing of models/ble/phy.h): exchanges per event <=
 * floor(CE length / exchange time), capped by the central; an exchange is data + T_IFS + empty +
 * T_IFS. */
static void test_saturated_throughput_is_close_to_but_never_above_the_bound(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum ble_link_dir dir;
        enum ble_phy phy;
        uint16_t mtu, dle, max_pdus;
        int64_t interval;
        unsigned want_per_event; /* exchanges per event, by hand */
    } c[] = {
        /* 2M: exchange 1064 + 150 + 44 + 150 = 1408 us; the 5th starts at 4 x 1408 = 5632,
         * ends 5632 + 1258 = 6890 <= 7500 - 150; a 6th would end at 8298. */
        {"2M DLE 251 MTU 498 7.5 ms, cap 6: 5 fit", BLE_LINK_C2P, BLE_PHY_2M, 498, 251, 6,
         7500 * US, 5},
        {"same for notifications", BLE_LINK_P2C, BLE_PHY_2M, 498, 251, 6, 7500 * US, 5},
        {"2M cap 4 packets (iOS)", BLE_LINK_C2P, BLE_PHY_2M, 498, 251, 4, 7500 * US, 4},
        /* 1M: exchange 2120 + 150 + 80 + 150 = 2500 us; the 12th ends at 11 x 2500 + 2350 =
         * 29850 <= 30 ms - 150 us, a 13th would end at 32350 */
        {"1M DLE 251 MTU 247 30 ms, cap 20: 12 fit", BLE_LINK_C2P, BLE_PHY_1M, 247, 251, 20,
         30 * MS, 12},
        /* 2M DLE 27: exchange 168 + 150 + 44 + 150 = 512 us; 7.35 ms: 14 fit (13 x 512 +
         * 362 = 7018; 14 x 512 + 362 = 7530 > 7350) */
        {"2M DLE 27 MTU 23 7.5 ms, cap 30: 14 fit", BLE_LINK_C2P, BLE_PHY_2M, 23, 27, 30, 7500 * US,
         14},
    };
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct ble_link_cfg cfg;
        ble_link_cfg_default(&cfg);
        cfg.phy = c[i].phy;
        cfg.mtu = c[i].mtu;
        cfg.dle = c[i].dle;
        cfg.max_pdus_per_event = c[i].max_pdus;
        cfg.interval_ns = c[i].interval;
        struct fake *f = fake_new(&cfg, 1);
        int64_t ready = connect_now(f);
        size_t sdu = (size_t)c[i].mtu - 3;
        f->sdu_len = sdu;
        f->refill[c[i].dir] = true;
        while (f_send(f, c[i].dir, sdu, ready) == 0)
            ;
        /* a whole number of intervals from the first data anchor (ready) */
        const int64_t span = 4 * SEC / c[i].interval * c[i].interval;
        run_until(f, ready + span - 1);
        /* Theoretical bound: per interval, the exchanges that fit, each one full LL PDU
         * carrying sdu / (sdu + 7) application bytes per octet. */
        double bound = (double)c[i].want_per_event * c[i].dle * ((double)sdu / (sdu + 7)) /
                       ((double)c[i].interval / SEC);
        /* PHY ceiling, cap or no cap: one full PDU per exchange time. */
        double ceiling = (double)c[i].dle * ((double)sdu / (sdu + 7)) /
                         ((double)ble_phy_exchange_ns(c[i].phy, c[i].dle, true) / SEC);
        double got = (double)f->rx_len[c[i].dir] / ((double)span / SEC);
        if (got > bound * 1.0001 || got > ceiling || got < bound * 0.97)
            fail_msg("%s: %.0f B/s, bound %.0f, ceiling %.0f", c[i].name, got, bound, ceiling);
        assert_memory_equal(f->rx[c[i].dir], f->tx[c[i].dir], f->rx_len[c[i].dir]);
        fake_free(f);
    }
}

/* ---- one radio shared by K links ---- */

/* Saturated downlink for `span` from the first data anchor; returns application bytes
 * delivered and, through *per_event, PDUs per simulated event (exact when every event is
 * full). */
static size_t share_run(const struct ble_link_cfg *cfg, unsigned share, int64_t span,
                        double *per_event)
{
    struct fake *f = fake_new(cfg, 1);
    assert_int_equal(ble_link_set_ce_share(&f->l, share), 0);
    assert_int_equal(ble_link_ce_share_get(&f->l), share);
    int64_t ready = connect_now(f);
    size_t sdu = (size_t)cfg->mtu - 3;
    f->sdu_len = sdu;
    f->refill[BLE_LINK_C2P] = true;
    while (f_send(f, BLE_LINK_C2P, sdu, ready) == 0)
        ;
    uint64_t ev0 = f->l.stats.n_events, pdu0 = f->l.stats.n_pdus[BLE_LINK_C2P];
    run_until(f, ready + span - 1);
    const struct ble_link_stats *st = ble_link_stats_get(&f->l);
    *per_event = (double)(st->n_pdus[BLE_LINK_C2P] - pdu0) / (double)(st->n_events - ev0);
    assert_memory_equal(f->rx[BLE_LINK_C2P], f->tx[BLE_LINK_C2P], f->rx_len[BLE_LINK_C2P]);
    size_t got = f->rx_len[BLE_LINK_C2P];
    fake_free(f);
    return got;
}

/* EVIDENCE-OF (derived from the PHY timing of models/ble/phy.h): exchanges per event <=
 * floor(CE_length / exchange time), CE_length <= interval - guard; K links of one gateway
 * (S140 v7.3.0: up to 20) share one radio's connection-event time. With share n, CE_length =
 * (interval - guard) / n, so the throughput ratio of 1 link to a 1/n share is the ratio of those
 * floors. */
static void test_ce_share_divides_event_time_and_throughput(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum ble_phy phy;
        int64_t interval;
        unsigned share;
    } c[] = {
        {"2M 30 ms, 4 links", BLE_PHY_2M, 30 * MS, 4},
        {"2M 30 ms, 3 links", BLE_PHY_2M, 30 * MS, 3},
        {"1M 50 ms, 2 links", BLE_PHY_1M, 50 * MS, 2},
        {"2M 7.5 ms, 20 links: the first exchange still happens", BLE_PHY_2M, 7500 * US, 20},
    };
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct ble_link_cfg cfg;
        ble_link_cfg_default(&cfg);
        cfg.phy = c[i].phy;
        cfg.mtu = 498;
        cfg.dle = 251;
        cfg.interval_ns = c[i].interval;
        cfg.max_pdus_per_event = 200; /* the central's cap must not bind */
        cfg.queue_bytes = 1u << 16;
        /* First principles: exchange = full PDU + T_IFS + empty PDU + T_IFS, and the last
         * exchange of an event needs no trailing T_IFS: floor((CE + T_IFS) / exchange)
         * (1M 50 ms: 49.85 ms holds 20 exchanges of 2.5 ms, the 20th ending at 49.85). */
        int64_t x = ble_phy_exchange_ns(c[i].phy, 251, true);
        int64_t ce1 = c[i].interval - cfg.ce_guard_ns;
        int64_t cen = ce1 / (int64_t)c[i].share;
        int64_t want1 = (ce1 + BLE_PHY_T_IFS_NS) / x, wantn = (cen + BLE_PHY_T_IFS_NS) / x;
        if (wantn < 1)
            wantn = 1; /* the first exchange of an event always happens */
        const int64_t span = 4 * SEC / c[i].interval * c[i].interval;
        double pe1, pen;
        size_t b1 = share_run(&cfg, 1, span, &pe1);
        size_t bn = share_run(&cfg, c[i].share, span, &pen);
        if (pe1 != (double)want1 || pen != (double)wantn)
            fail_msg("%s: %.3f and %.3f exchanges per event, want %lld and %lld", c[i].name, pe1,
                     pen, (long long)want1, (long long)wantn);
        /* Bytes: same ratio, up to the SDU cut at the end of the span (one SDU each). */
        double ratio = (double)b1 / (double)bn, want = (double)want1 / (double)wantn;
        double slack = want * 2.0 * 495.0 / (double)bn;
        if (ratio < want - slack || ratio > want + slack)
            fail_msg("%s: throughput ratio %.4f, want %.4f +- %.4f", c[i].name, ratio, want, slack);
    }
}

/* Share 1 is a link alone: the same delivery times to the nanosecond as a link that never
 * heard of sharing (the quick start's results must not move). Out-of-range shares are
 * refused and change nothing. */
static void test_ce_share_one_is_todays_link_and_bad_shares_are_refused(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    cfg.loss.model = BLE_LOSS_BERNOULLI;
    cfg.loss.per_good = 0.05;
    cfg.queue_bytes = 1u << 17;
    struct fake *a = fake_new(&cfg, 7), *b = fake_new(&cfg, 7);
    assert_int_equal(ble_link_set_ce_share(&b->l, 3), 0);
    assert_int_equal(ble_link_set_ce_share(&b->l, 0), SIM_EINVAL);
    assert_int_equal(ble_link_set_ce_share(&b->l, BLE_LINK_CE_SHARE_MAX + 1), SIM_EINVAL);
    assert_int_equal(ble_link_ce_share_get(&b->l), 3);
    assert_int_equal(ble_link_set_ce_share(&b->l, 1), 0);
    struct fake *fs[2] = {a, b};
    for (int j = 0; j < 2; j++) {
        int64_t ready = connect_now(fs[j]);
        for (int k = 0; k < 200; k++)
            assert_int_equal(f_send(fs[j], BLE_LINK_C2P, 0, ready), 0);
        run_until(fs[j], ready + 5 * SEC);
    }
    assert_int_equal(a->n_deliv[BLE_LINK_C2P], 200);
    assert_int_equal(b->n_deliv[BLE_LINK_C2P], 200);
    assert_memory_equal(a->deliv_at[BLE_LINK_C2P], b->deliv_at[BLE_LINK_C2P],
                        200 * sizeof(int64_t));
    fake_free(a);
    fake_free(b);
}

/* ---- peripheral latency ---- */

/* EVIDENCE-OF: Bluetooth Core Vol 6 Part B, peripheral latency (worked example in Nordic's
 * Bluetooth LE course, academy.nordicsemi.com): an idle peripheral listens every L + 1
 * intervals, so downlink data waits up to (L + 1) x interval; uplink can go at any
 * event, and a peripheral with data to send wakes (and then hears the downlink too). */
static void test_latency_delays_downlink_until_the_peripheral_listens(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint16_t latency;
        int64_t k_send;  /* send at anchor(k_send) + offset */
        int64_t offset;  /* ns */
        bool uplink_too; /* the peripheral also has data at the same moment */
        int64_t k_want;  /* event that carries the downlink */
    } c[] = {
        /* After connect the peripheral last listened at event 7 (setup_events - 1); with
         * L = 4 it listens at 12, 17, 22, ... */
        {"L=4: just after a listened event waits L+1 intervals", 4, 12, 1, false, 17},
        {"L=4: just before a listened event goes at it", 4, 12, -1, false, 12},
        {"L=4: at the anchor itself goes at once", 4, 12, 0, false, 12},
        {"L=4: mid-way waits for the next listened event", 4, 14, 3 * MS, false, 17},
        {"L=0: the next event", 0, 12, 1, false, 13},
        {"L=4: a peripheral with data wakes at the next event", 4, 12, 1, true, 13},
        {"L=99: just after waits 100 intervals", 99, 107, 1, false, 207},
    };
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct ble_link_cfg cfg;
        ble_link_cfg_default(&cfg);
        cfg.latency = c[i].latency;
        cfg.timeout_ns = 4 * SEC; /* > (1 + 99) x 7.5 ms x 2 = 1.5 s */
        struct fake *f = fake_new(&cfg, 1);
        connect_now(f);
        int64_t t = ble_link_anchor_get(&f->l, c[i].k_send) + c[i].offset;
        run_until(f, t);
        if (c[i].uplink_too)
            assert_int_equal(f_send(f, BLE_LINK_P2C, 20, t), 0);
        assert_int_equal(f_send(f, BLE_LINK_C2P, 20, t), 0);
        run_until(f, t + 3 * SEC);
        assert_int_equal(f->n_deliv[0], 1);
        int64_t want = ble_link_anchor_get(&f->l, c[i].k_want) + 168 * US;
        if (f->deliv_at[0][0] != want)
            fail_msg("%s: delivered at %lld, want %lld (event %lld)", c[i].name,
                     (long long)f->deliv_at[0][0], (long long)want, (long long)c[i].k_want);
        int64_t delay = f->deliv_at[0][0] - t;
        assert_true(delay <= (c[i].latency + 1) * cfg.interval_ns + 168 * US);
        fake_free(f);
    }
}

/* Uplink does not wait for latency: a notification goes at the next anchor. */
static void test_uplink_ignores_latency(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    cfg.latency = 99;
    struct fake *f = fake_new(&cfg, 1);
    connect_now(f);
    int64_t t = ble_link_anchor_get(&f->l, 50) + 1;
    run_until(f, t);
    assert_int_equal(f_send(f, BLE_LINK_P2C, 20, t), 0);
    run_until(f, t + SEC);
    /* empty central PDU 44 us, T_IFS, 27-octet notification 168 us */
    assert_int_equal(f->deliv_at[1][0], ble_link_anchor_get(&f->l, 51) + (44 + 150 + 168) * US);
    fake_free(f);
}

/* ---- loss and retransmission ---- */

static void run_lossy_transfer(struct fake *f, int64_t ready, size_t n_sdus)
{
    for (size_t k = 0; k < n_sdus; k++) {
        assert_int_equal(f_send(f, BLE_LINK_C2P, 0, ready), 0);
        assert_int_equal(f_send(f, BLE_LINK_P2C, 0, ready), 0);
    }
    run_until(f, ready + 60 * SEC);
}

/* EVIDENCE-OF: Core Vol 6 Part B §4.5.9: an unacknowledged PDU is resent (SN/NESN), so what
 * arrives is intact and in order, and nothing is delivered twice. */
static void test_loss_and_retransmission_deliver_intact_bytes_in_order(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        struct ble_loss_cfg loss;
    } c[] = {
        {"bernoulli 10 %", {BLE_LOSS_BERNOULLI, 0.10, 0, 0, 0}},
        {"bernoulli 40 %", {BLE_LOSS_BERNOULLI, 0.40, 0, 0, 0}},
        {"gilbert-elliott bursts", {BLE_LOSS_GILBERT_ELLIOTT, 0.01, 0.8, 0.05, 0.2}},
    };
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct ble_link_cfg cfg;
        ble_link_cfg_default(&cfg);
        cfg.loss = c[i].loss;
        cfg.dle = 100; /* several fragments per SDU */
        struct fake *f = fake_new(&cfg, 5);
        int64_t ready = connect_now(f);
        run_lossy_transfer(f, ready, 40);
        const struct ble_link_stats *s = ble_link_stats_get(&f->l);
        if (s->n_disconnects != 0)
            fail_msg("%s: disconnected", c[i].name);
        for (int d = 0; d < 2; d++) {
            assert_int_equal(f->n_deliv[d], 40);
            assert_int_equal(f->rx_len[d], f->tx_len[d]);
            assert_memory_equal(f->rx[d], f->tx[d], f->tx_len[d]);
            assert_true(s->n_retx[d] > 0);
            for (size_t k = 1; k < f->n_deliv[d]; k++)
                assert_true(f->deliv_at[d][k] > f->deliv_at[d][k - 1]);
        }
        assert_true(s->n_lost > 0);
        fake_free(f);
    }
}

/* EVIDENCE-OF: Core Vol 6 Part B §4.5.6, Zephyr lll_conn.c crc_expire = 2: two
 * consecutive CRC errors close the connection event. With every PDU lost: the central's
 * PDU (error 1 at the peripheral), the answer (error 1 at the central), the central's
 * retransmission (error 2 at the peripheral): the event closes after 3 PDUs. */
static void test_two_crc_errors_in_a_row_close_the_event(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    cfg.loss = (struct ble_loss_cfg){BLE_LOSS_BERNOULLI, 1.0, 0, 0, 0};
    struct fake *f = fake_new(&cfg, 1);
    int64_t ready = connect_now(f);
    assert_int_equal(f_send(f, BLE_LINK_C2P, 100, ready), 0);
    run_until(f, ready + 20 * MS); /* events 8, 9 and 10 */
    const struct ble_link_stats *s = ble_link_stats_get(&f->l);
    assert_int_equal(s->n_events, 3);
    assert_int_equal(s->n_crc_close, 3);
    assert_int_equal(s->n_pdus[BLE_LINK_C2P], 6); /* 2 per event */
    assert_int_equal(s->n_retx[BLE_LINK_C2P], 5);
    assert_int_equal(s->n_lost, 9);
    assert_int_equal(f->n_deliv[0], 0);
    fake_free(f);
}

/* ---- supervision timeout and reconnection ---- */

/* EVIDENCE-OF: Bluetooth Core Vol 6 Part B, supervision timeout: unacknowledged data is
 * retried until the supervision timeout, which disconnects with reason 0x08 (Connection
 * Timeout); we reconnect cfg.reconnect_ns later. */
static void test_supervision_timeout_disconnects_and_reconnects(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int64_t timeout, reconnect;
    } c[] = {{"420 ms (MCUmgr conn param control), reconnect after 1 s", 420 * MS, SEC},
             {"4 s, no automatic reconnection", 4 * SEC, -1}};
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct ble_link_cfg cfg;
        ble_link_cfg_default(&cfg);
        cfg.timeout_ns = c[i].timeout;
        cfg.reconnect_ns = c[i].reconnect;
        cfg.loss = (struct ble_loss_cfg){BLE_LOSS_BERNOULLI, 1.0, 0, 0, 0};
        struct fake *f = fake_new(&cfg, 1);
        int64_t ready = connect_now(f);
        assert_int_equal(f_send(f, BLE_LINK_C2P, 100, ready + 2 * MS), 0);
        run_until(f, ready + 30 * SEC);
        /* last good reception: the peripheral's last implied listen, event 8 (ready) */
        int64_t want = ready + c[i].timeout;
        assert_true(f->n_notes >= 2);
        const struct ble_link_note *n = &f->notes[1];
        assert_int_equal(n->kind, BLE_LINK_NOTE_DISCONNECTED);
        assert_int_equal(n->reason, BLE_LINK_REASON_TIMEOUT);
        if (n->at_ns != want)
            fail_msg("%s: disconnected at %lld, want %lld", c[i].name, (long long)n->at_ns,
                     (long long)want);
        assert_int_equal(ble_link_stats_get(&f->l)->n_dropped[0], 1);
        if (c[i].reconnect < 0) {
            assert_int_equal(f->n_notes, 2);
            assert_int_equal(ble_link_state_get(&f->l), BLE_LINK_DISCONNECTED);
        } else {
            assert_int_equal(f->notes[2].kind, BLE_LINK_NOTE_CONNECTED);
            assert_int_equal(f->notes[2].at_ns,
                             want + c[i].reconnect + 1250 * US + 8 * cfg.interval_ns);
        }
        fake_free(f);
    }
}

/* An idle link never times out, however long (idle events are assumed received). */
static void test_idle_lossy_link_stays_up_and_costs_no_events(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    cfg.loss = (struct ble_loss_cfg){BLE_LOSS_BERNOULLI, 1.0, 0, 0, 0};
    struct fake *f = fake_new(&cfg, 1);
    int64_t ready = connect_now(f);
    uint64_t calls = f->n_timer_calls;
    run_until(f, ready + 3600 * SEC);
    assert_int_equal(f->n_timer_calls, calls); /* CONTRIBUTING.md rule 7: nothing scheduled */
    assert_int_equal(ble_link_state_get(&f->l), BLE_LINK_CONNECTED);
    fake_free(f);
}

/* CONTRIBUTING.md rule 7: one SDU a second costs one connection event a second, not 133. */
static void test_fast_path_schedules_events_only_for_data(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    struct fake *f = fake_new(&cfg, 1);
    int64_t ready = connect_now(f);
    for (int s = 1; s <= 10; s++) {
        run_until(f, ready + s * SEC);
        assert_int_equal(f_send(f, BLE_LINK_C2P, 20, ready + s * SEC), 0);
    }
    run_until(f, ready + 20 * SEC);
    assert_int_equal(f->n_deliv[0], 10);
    assert_int_equal(ble_link_stats_get(&f->l)->n_events, 10);
    fake_free(f);
}

/* The peripheral vanishes (reset): the central notices by supervision timeout. */
static void test_peer_lost_times_out_at_the_supervision_timeout(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    struct fake *f = fake_new(&cfg, 1);
    int64_t ready = connect_now(f);
    int64_t t = ready + 100 * MS;
    run_until(f, t);
    assert_int_equal(ble_link_peer_lost(&f->l, t, &f->cx), 0);
    assert_int_equal(f_send(f, BLE_LINK_C2P, 20, t + MS), 0); /* into the void */
    assert_int_equal(f_send(f, BLE_LINK_P2C, 20, t + MS), BLE_LINK_NOT_CONNECTED);
    run_until(f, t + 10 * SEC);
    assert_int_equal(f->n_notes, 2);
    assert_int_equal(f->notes[1].kind, BLE_LINK_NOTE_DISCONNECTED);
    assert_int_equal(f->notes[1].at_ns, t + cfg.timeout_ns);
    assert_int_equal(ble_link_state_get(&f->l), BLE_LINK_DISCONNECTED);
    assert_int_equal(f->n_deliv[0], 0);
    assert_int_equal(ble_link_disconnect(&f->l, BLE_LINK_REASON_LOCAL_HOST, t + 11 * SEC, &f->cx),
                     0);
    assert_int_equal(ble_link_stats_get(&f->l)->n_unexpected, 1);
    fake_free(f);
}

/* Explicit disconnect delivers what already arrived and drops the rest. */
static void test_disconnect_drops_undelivered_data(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    struct fake *f = fake_new(&cfg, 1);
    int64_t ready = connect_now(f);
    for (int k = 0; k < 10; k++)
        assert_int_equal(f_send(f, BLE_LINK_C2P, 495, ready), 0);
    /* event 8 carries 5 PDUs = 2 SDUs and half; the first SDU lands at
     * anchor + 1408 us + 1064 us */
    int64_t t = ble_link_anchor_get(&f->l, 8) + 1408 * US + 1064 * US;
    run_until(f, t - 1);
    assert_int_equal(ble_link_disconnect(&f->l, BLE_LINK_REASON_REMOTE_USER, t, &f->cx), 0);
    assert_int_equal(f->n_deliv[0], 1);
    assert_int_equal(ble_link_stats_get(&f->l)->n_dropped[0], 9);
    assert_int_equal(f->notes[1].reason, BLE_LINK_REASON_REMOTE_USER);
    assert_false(f->armed);
    fake_free(f);
}

/* ---- connection parameter update ---- */

/* EVIDENCE-OF: Core Vol 6 Part B §5.1.1: the instant is at least 6 events after the
 * procedure's PDU; the old parameters hold until then, the new ones from it. */
static void test_parameter_update_takes_effect_at_least_6_events_later(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum ble_link_dir initiator;
        uint16_t latency;
        int64_t k_request; /* request at anchor(k_request) + 1 */
        int64_t want_instant;
    } c[] = {
        {"peripheral asks: next event + 6", BLE_LINK_P2C, 0, 20, 21 + 6},
        {"central updates, latency 0: next event + 6", BLE_LINK_C2P, 0, 20, 21 + 6},
        /* L = 4: the peripheral listens at 7 + 5j: 22 is the next one after 20 */
        {"central updates, latency 4: next listened event + 6", BLE_LINK_C2P, 4, 20, 22 + 6},
    };
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct ble_link_cfg cfg;
        ble_link_cfg_default(&cfg);
        cfg.latency = c[i].latency;
        struct fake *f = fake_new(&cfg, 1);
        connect_now(f);
        int64_t t = ble_link_anchor_get(&f->l, c[i].k_request) + 1;
        run_until(f, t);
        assert_int_equal(ble_link_update(&f->l, c[i].initiator, 15 * MS, 0, 2 * SEC, t, &f->cx), 0);
        assert_int_equal(ble_link_update(&f->l, c[i].initiator, 15 * MS, 0, 2 * SEC, t, &f->cx),
                         BLE_LINK_BUSY);
        int64_t inst_at = 1250 * US + c[i].want_instant * 7500 * US;
        assert_int_equal(ble_link_anchor_get(&f->l, c[i].want_instant), inst_at);
        assert_int_equal(ble_link_anchor_get(&f->l, c[i].want_instant - 1), inst_at - 7500 * US);
        assert_int_equal(ble_link_anchor_get(&f->l, c[i].want_instant + 1), inst_at + 15 * MS);
        /* data queued before the instant rides the old grid; after it the new one */
        assert_int_equal(f_send(f, BLE_LINK_P2C, 20, t), 0);
        int64_t first_want = ble_link_anchor_get(&f->l, c[i].k_request + 1) + (44 + 150 + 168) * US;
        run_until(f, inst_at - 1);
        assert_int_equal(f->n_notes, 1);
        run_until(f, inst_at);
        assert_int_equal(f->n_notes, 2);
        const struct ble_link_note *n = &f->notes[1];
        assert_int_equal(n->kind, BLE_LINK_NOTE_PARAMS_UPDATED);
        if (n->at_ns != inst_at)
            fail_msg("%s: updated at %lld, want %lld", c[i].name, (long long)n->at_ns,
                     (long long)inst_at);
        assert_true(c[i].want_instant - c[i].k_request >= 6);
        assert_int_equal(n->interval_ns, 15 * MS);
        assert_int_equal(n->timeout_ns, 2 * SEC);
        assert_int_equal(f_send(f, BLE_LINK_P2C, 20, inst_at + 1), 0);
        run_until(f, inst_at + SEC);
        assert_int_equal(f->n_deliv[1], 2);
        assert_int_equal(f->deliv_at[1][0], first_want);
        assert_int_equal(f->deliv_at[1][1], inst_at + 15 * MS + (44 + 150 + 168) * US);
        fake_free(f);
    }
}

static void test_bad_parameters_are_range_errors(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int64_t interval;
        uint16_t latency;
        int64_t timeout;
        int want;
    } c[] = {
        {"7.5 ms, 0, 420 ms is fine", 7500 * US, 0, 420 * MS, 0},
        {"interval below 7.5 ms", 6250 * US, 0, SEC, SIM_ERANGE},
        {"interval not in 1.25 ms units", 8 * MS, 0, SEC, SIM_ERANGE},
        {"interval above 4 s", 4001250 * US, 0, 32 * SEC, SIM_ERANGE},
        {"latency above 499", 7500 * US, 500, 32 * SEC, SIM_ERANGE},
        {"timeout not in 10 ms units", 7500 * US, 0, 425 * MS, SIM_ERANGE},
        {"timeout <= (1 + L) x interval x 2", 7500 * US, 99, 1500 * MS, SIM_ERANGE},
        {"timeout just above (1 + L) x interval x 2", 7500 * US, 99, 1510 * MS, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        int got = ble_link_params_check(c[i].interval, c[i].latency, c[i].timeout);
        if (got != c[i].want)
            fail_msg("%s: got %d", c[i].name, got);
    }
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    assert_int_equal(ble_link_cfg_check(&cfg), 0);
    cfg.dle = 26;
    assert_int_equal(ble_link_cfg_check(&cfg), SIM_ERANGE);
    ble_link_cfg_default(&cfg);
    cfg.mtu = 22;
    assert_int_equal(ble_link_cfg_check(&cfg), SIM_ERANGE);
    ble_link_cfg_default(&cfg);
    cfg.loss.per_good = -0.1;
    assert_int_equal(ble_link_cfg_check(&cfg), SIM_ERANGE);
}

/* ---- determinism ---- */

static void lossy_run(uint64_t seed, int64_t *first_at, int64_t *last_at, uint64_t *lost)
{
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    cfg.loss = (struct ble_loss_cfg){BLE_LOSS_GILBERT_ELLIOTT, 0.02, 0.7, 0.05, 0.3};
    struct fake *f = fake_new(&cfg, seed);
    int64_t ready = connect_now(f);
    run_lossy_transfer(f, ready, 30);
    assert_int_equal(f->n_deliv[0], 30);
    *first_at = f->deliv_at[0][0];
    *last_at = f->deliv_at[0][29] ^ f->deliv_at[1][29];
    *lost = ble_link_stats_get(&f->l)->n_lost;
    fake_free(f);
}

/* CONTRIBUTING.md rule 3: the same seed gives the same delivery times; another seed differs. */
static void test_same_seed_gives_the_same_delivery_times(void **state)
{
    (void)state;
    int64_t a1, a2, b1, b2, c1, c2;
    uint64_t la, lb, lc;
    lossy_run(11, &a1, &a2, &la);
    lossy_run(11, &b1, &b2, &lb);
    lossy_run(12, &c1, &c2, &lc);
    assert_int_equal(a1, b1);
    assert_int_equal(a2, b2);
    assert_int_equal(la, lb);
    assert_true(a2 != c2 || la != lc);
}

/* ---- under the real engine ---- */

struct eng {
    struct sim_engine *e;
    struct ble_link l;
    struct ble_link_ctx cx;
    uint32_t timer;
    uint16_t kind;
    uint8_t sent[4][495];
    size_t n_echoed;
    int64_t echo_at[4];
};

static int e_arm(void *env, int64_t at)
{
    struct eng *x = env;
    return sim_engine_timer_arm(x->e, x->timer, at, x->kind, 0, 0);
}

static void e_cancel(void *env)
{
    struct eng *x = env;
    sim_engine_timer_cancel(x->e, x->timer);
}

static void e_handler(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    struct eng *x = ctx;
    assert_int_equal(sim_engine_now(e), ev->at);
    assert_int_equal(ble_link_timer(&x->l, ev->at, &x->cx), 0);
}

/* The peripheral echoes every write as a notification, from inside deliver. */
static void e_deliver(void *env, enum ble_link_dir dir, const uint8_t *p, size_t n, int64_t at)
{
    struct eng *x = env;
    assert_int_equal(sim_engine_now(x->e), at);
    if (dir == BLE_LINK_C2P) {
        assert_int_equal(ble_link_send(&x->l, BLE_LINK_P2C, p, n, at, &x->cx), 0);
        return;
    }
    assert_true(x->n_echoed < 4 && n == 495);
    assert_memory_equal(p, x->sent[x->n_echoed], n);
    x->echo_at[x->n_echoed++] = at;
}

static void e_note(void *env, const struct ble_link_note *n)
{
    struct eng *x = env;
    if (n->kind != BLE_LINK_NOTE_CONNECTED)
        return;
    for (int k = 0; k < 4; k++) {
        memset(x->sent[k], 0x30 + k, sizeof(x->sent[k]));
        assert_int_equal(ble_link_send(&x->l, BLE_LINK_C2P, x->sent[k], 495, n->at_ns, &x->cx), 0);
    }
}

/* The link's context maps onto sim/engine.h: one engine timer, lazily cancelled. Four
 * 495-byte writes echoed back take a handful of engine events, not one per interval. */
static void test_link_runs_under_the_engine_with_one_timer(void **state)
{
    (void)state;
    struct eng *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    x->e = sim_engine_new(0);
    assert_non_null(x->e);
    int kind = sim_engine_kind_add(x->e, e_handler, x, "ble_link");
    assert_true(kind >= 0);
    x->kind = (uint16_t)kind;
    assert_int_equal(sim_engine_timer_new(x->e, &x->timer), 0);
    x->cx = (struct ble_link_ctx){.env = x,
                                  .timer_arm = e_arm,
                                  .timer_cancel = e_cancel,
                                  .deliver = e_deliver,
                                  .note = e_note};
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    assert_int_equal(ble_link_init(&x->l, &cfg, 3, 7), 0);
    assert_int_equal(ble_link_connect(&x->l, 0, &x->cx), 0);
    enum sim_stop why;
    assert_int_equal(sim_engine_run(x->e, 3600 * SEC, &why), 0);
    assert_int_equal(why, SIM_STOP_EMPTY);
    assert_int_equal(x->n_echoed, 4);
    /* 4 x 2 PDUs down (events 8 and 9: 5 + 3), then echoes up from event 9 on */
    assert_true(x->echo_at[3] < ble_link_anchor_get(&x->l, 14));
    assert_true(sim_engine_events_run(x->e) < 40);
    ble_link_fini(&x->l);
    sim_engine_free(x->e);
    free(x);
}

/* ---- on the engine: a connection event's upcalls are continuations of it (sim/engine.h):
 * one engine event, each callback at its own time with the clock there, in order, and a
 * timer a callback arms between two of them, or another entity's event, still runs
 * between them ---- */
enum { LOG_DELIVER, LOG_PROBE, LOG_OTHER };
struct on_engine {
    struct sim_engine *e;
    struct ble_link l;
    struct ble_link_ctx cx;
    uint32_t link_timer, probe_timer;
    int k_link, k_probe, k_other;
    int64_t probe_delay; /* >= 0: the first delivery arms the probe this much later */
    size_t n;
    int what[16];
    int64_t at[16];
};

static int oe_arm(void *env, int64_t at)
{
    struct on_engine *o = env;
    return sim_engine_timer_arm(o->e, o->link_timer, at, (uint16_t)o->k_link, 0, 0);
}

static void oe_cancel(void *env)
{
    struct on_engine *o = env;
    sim_engine_timer_cancel(o->e, o->link_timer);
}

static void e_log(struct on_engine *o, int what, int64_t at)
{
    assert_true(o->n < ARRAY_LEN(o->at));
    assert_int_equal(sim_engine_now(o->e), at); /* the clock is at the callback's time */
    o->what[o->n] = what;
    o->at[o->n++] = at;
}

static void oe_deliver(void *env, enum ble_link_dir dir, const uint8_t *p, size_t n, int64_t at)
{
    struct on_engine *o = env;
    (void)p, (void)n;
    assert_int_equal(dir, BLE_LINK_C2P);
    e_log(o, LOG_DELIVER, at);
    if (o->probe_delay >= 0 && o->n == 1)
        assert_int_equal(sim_engine_timer_arm(o->e, o->probe_timer, at + o->probe_delay,
                                              (uint16_t)o->k_probe, 0, 0),
                         0);
}

static void e_on_link(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    struct on_engine *o = ctx;
    (void)e;
    assert_int_equal(ble_link_timer(&o->l, ev->at, &o->cx), 0);
}

static void e_on_probe(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    (void)e;
    e_log(ctx, LOG_PROBE, ev->at);
}

static void e_on_other(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    (void)e;
    e_log(ctx, LOG_OTHER, ev->at);
}

static void test_upcalls_on_the_engine_are_continuations_at_their_own_times(void **state)
{
    (void)state;
    struct ble_link_cfg cfg;
    ble_link_cfg_default(&cfg);
    /* The times the link gives three one-PDU SDUs sent at `send` (the fake plays the timer). */
    struct fake *f = fake_new(&cfg, 5);
    assert_int_equal(ble_link_connect(&f->l, 0, &f->cx), 0);
    const int64_t send = 200 * MS;
    run_until(f, send);
    for (int i = 0; i < 3; i++)
        assert_int_equal(f_send(f, BLE_LINK_C2P, 100, send), 0);
    run_until(f, send + 50 * MS);
    assert_int_equal(f->n_deliv[BLE_LINK_C2P], 3);
    const int64_t *t = f->deliv_at[BLE_LINK_C2P];
    assert_true(t[0] < t[1] && t[1] < t[2] && t[2] - t[0] < cfg.interval_ns); /* one event */
    static const struct {
        const char *name;
        int64_t probe_delay; /* -1: none; else after the first delivery, in (t1 - t0) / 2 */
        bool other;          /* another entity's event half-way between t1 and t2 */
        size_t n;
        int want[5];       /* what ran, in order */
        uint64_t want_run; /* engine events from the send on */
        uint64_t want_inline;
    } cases[] = {
        {"three deliveries: one engine event, each at its own time",
         -1,
         false,
         3,
         {LOG_DELIVER, LOG_DELIVER, LOG_DELIVER},
         1,
         3},
        {"a timer the first delivery arms before the second runs between them",
         1,
         false,
         4,
         {LOG_DELIVER, LOG_PROBE, LOG_DELIVER, LOG_DELIVER},
         1,
         4},
        {"another entity's event between two deliveries runs between them",
         -1,
         true,
         4,
         {LOG_DELIVER, LOG_DELIVER, LOG_OTHER, LOG_DELIVER},
         3,
         2},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        print_message("case: %s\n", cases[c].name);
        struct on_engine o = {.probe_delay = cases[c].probe_delay < 0
                                                 ? -1
                                                 : (t[1] - t[0]) / 2 * cases[c].probe_delay};
        o.e = sim_engine_new(0);
        assert_non_null(o.e);
        o.k_link = sim_engine_kind_add(o.e, e_on_link, &o, "link");
        o.k_probe = sim_engine_kind_add(o.e, e_on_probe, &o, "probe");
        o.k_other = sim_engine_kind_add(o.e, e_on_other, &o, "other");
        assert_int_equal(sim_engine_timer_new(o.e, &o.link_timer), 0);
        assert_int_equal(sim_engine_timer_new(o.e, &o.probe_timer), 0);
        o.cx = (struct ble_link_ctx){
            .env = &o, .timer_arm = oe_arm, .timer_cancel = oe_cancel, .deliver = oe_deliver};
        assert_int_equal(ble_link_init(&o.l, &cfg, 5, 42), 0);
        assert_int_equal(ble_link_connect(&o.l, 0, &o.cx), 0);
        enum sim_stop why;
        assert_int_equal(sim_engine_run(o.e, send, &why), 0);
        assert_int_equal(ble_link_state_get(&o.l), BLE_LINK_CONNECTED);
        uint8_t sdu[100] = {0};
        for (int i = 0; i < 3; i++)
            assert_int_equal(ble_link_send(&o.l, BLE_LINK_C2P, sdu, sizeof(sdu), send, &o.cx), 0);
        if (cases[c].other)
            assert_int_equal(
                sim_engine_schedule(o.e, t[1] + (t[2] - t[1]) / 2, (uint16_t)o.k_other, 0, 0), 0);
        uint64_t run0 = sim_engine_events_run(o.e), inline0 = sim_engine_events_inline(o.e);
        assert_int_equal(sim_engine_run(o.e, SIM_TIME_MAX, &why), 0);
        assert_int_equal(o.n, cases[c].n);
        size_t k = 0;
        for (size_t i = 0; i < o.n; i++) {
            assert_int_equal(o.what[i], cases[c].want[i]);
            if (i > 0)
                assert_true(o.at[i] > o.at[i - 1]);
            if (o.what[i] == LOG_DELIVER)
                assert_int_equal(o.at[i], t[k++]); /* the times without the engine */
            if (o.what[i] == LOG_PROBE)
                assert_int_equal(o.at[i], t[0] + o.probe_delay);
        }
        assert_int_equal(k, 3);
        assert_int_equal(sim_engine_events_run(o.e) - run0, cases[c].want_run);
        assert_int_equal(sim_engine_events_inline(o.e) - inline0, cases[c].want_inline);
        ble_link_fini(&o.l);
        sim_engine_free(o.e);
    }
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_sequence_costs_setup_events),
        cmocka_unit_test(test_exchanges_at_connect_settle_on_the_common_values),
        cmocka_unit_test(test_sdu_is_cut_into_ll_pdus_of_dle_octets),
        cmocka_unit_test(test_single_sdu_arrives_one_air_time_after_the_anchor),
        cmocka_unit_test(test_skipped_events_carry_nothing),
        cmocka_unit_test(test_notification_is_acknowledged_at_the_next_event),
        cmocka_unit_test(test_overlong_exchange_pushes_the_next_event_back),
        cmocka_unit_test(test_saturated_throughput_is_close_to_but_never_above_the_bound),
        cmocka_unit_test(test_ce_share_divides_event_time_and_throughput),
        cmocka_unit_test(test_ce_share_one_is_todays_link_and_bad_shares_are_refused),
        cmocka_unit_test(test_latency_delays_downlink_until_the_peripheral_listens),
        cmocka_unit_test(test_uplink_ignores_latency),
        cmocka_unit_test(test_loss_and_retransmission_deliver_intact_bytes_in_order),
        cmocka_unit_test(test_two_crc_errors_in_a_row_close_the_event),
        cmocka_unit_test(test_supervision_timeout_disconnects_and_reconnects),
        cmocka_unit_test(test_idle_lossy_link_stays_up_and_costs_no_events),
        cmocka_unit_test(test_fast_path_schedules_events_only_for_data),
        cmocka_unit_test(test_peer_lost_times_out_at_the_supervision_timeout),
        cmocka_unit_test(test_disconnect_drops_undelivered_data),
        cmocka_unit_test(test_parameter_update_takes_effect_at_least_6_events_later),
        cmocka_unit_test(test_bad_parameters_are_range_errors),
        cmocka_unit_test(test_same_seed_gives_the_same_delivery_times),
        cmocka_unit_test(test_link_runs_under_the_engine_with_one_timer),
        cmocka_unit_test(test_burst_grows_the_queue_and_arrives_intact_in_order),
        cmocka_unit_test(test_full_exactly_at_queue_bytes),
        cmocka_unit_test(test_disconnect_and_peer_lost_release_queue_memory),
        cmocka_unit_test(test_disconnect_from_inside_deliver_frees_after_the_callback),
        cmocka_unit_test(test_upcalls_on_the_engine_are_continuations_at_their_own_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
