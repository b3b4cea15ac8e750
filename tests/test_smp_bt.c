/* tests/test_smp_bt.c - SMP over BLE: reassembly, write rejection, notification chunking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "models/smp/bt.h"
#include "models/smp/os_mgmt.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fake device: pool context records processed packets, link records notifications */

struct dev {
    struct smp_netbuf *pool;
    struct smp_bt bt;
    int64_t armed_at;
    size_t n_processed;
    uint8_t processed[4][512];
    size_t processed_len[4];
    size_t n_notes;
    size_t note_len[64];
    uint8_t notes[2048];
    size_t notes_len;
    int nomem_left; /* notify answers "no TX buffer" this many times */
    bool use_server;
    struct smp_server srv;
    struct smp_os_mgmt os;
    struct smp_os_mgmt_ctx os_cx;
    struct smp_bt_ctx bt_cx;
    struct smp_server_ctx srv_cx;
};

static int d_arm(void *env, int64_t at)
{
    ((struct dev *)env)->armed_at = at;
    return 0;
}

static int d_process(void *env, const uint8_t *p, size_t n, uint8_t *rsp, size_t cap, int64_t now)
{
    struct dev *d = env;
    if (d->use_server)
        return smp_server_process(&d->srv, p, n, rsp, cap, now, &d->srv_cx, NULL);
    assert_true(d->n_processed < 4 && n <= 512);
    memcpy(d->processed[d->n_processed], p, n);
    d->processed_len[d->n_processed++] = n;
    return 0;
}

static int d_notify(void *env, uint32_t conn, const uint8_t *p, size_t n)
{
    struct dev *d = env;
    (void)conn;
    if (d->nomem_left > 0) {
        d->nomem_left--;
        return 1;
    }
    assert_true(d->n_notes < 64 && d->notes_len + n <= sizeof(d->notes));
    assert_true(n <= (size_t)d->bt.mtu - 3);
    d->note_len[d->n_notes++] = n;
    memcpy(d->notes + d->notes_len, p, n);
    d->notes_len += n;
    return 0;
}

static int d_server_send(void *env, const uint8_t *frame, size_t n)
{
    struct dev *d = env;
    return smp_bt_send(&d->bt, frame, n, &d->bt_cx);
}

static void dev_init(struct dev *d, bool reassembly, uint32_t buf_size, uint32_t count)
{
    memset(d, 0, sizeof(*d));
    struct smp_netbuf_cfg cfg = {.buf_size = buf_size, .buf_count = count, .cpu_per_request = 1};
    d->pool = smp_netbuf_new(&cfg);
    assert_non_null(d->pool);
    struct smp_bt_cfg bcfg = {.reassembly = reassembly};
    smp_bt_init(&d->bt, &bcfg, d->pool);
    smp_bt_connect(&d->bt, 7, 247);
    smp_bt_subscribe(&d->bt, true);
    d->bt_cx = (struct smp_bt_ctx){d, d_notify};
}

static void dev_fini(struct dev *d)
{
    smp_netbuf_free(d->pool);
}

static struct smp_netbuf_ctx pool_cx(struct dev *d)
{
    return (struct smp_netbuf_ctx){d, d_arm, NULL, d_process};
}

static void run_worker(struct dev *d)
{
    struct smp_netbuf_ctx cx = pool_cx(d);
    while (smp_netbuf_busy(d->pool))
        assert_int_equal(smp_netbuf_timer(d->pool, d->armed_at, &cx), 0);
}

/* ---- reassembly ------------------------------------------------------------------- */

struct frag {
    uint8_t bytes[40];
    size_t n;
    enum smp_bt_rx want_rx;
    enum smp_bt_att want_att;
};

/* UPSTREAM: zephyrproject-rtos/zephyr: tests/subsys/mgmt/mcumgr/smp_reassembly/src/main.c @main */
static void test_reassembly_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t count; /* net_bufs in the pool */
        bool hold_all;  /* another user holds every buffer */
        struct frag frags[3];
        size_t n_frags;
        size_t want_processed;
        size_t want_free_after;
    } cases[] = {
        {"first fragment shorter than a header",
         4,
         false,
         {{{0x08, 0, 0, 4, 0, 0, 1}, 7, SMP_BT_RX_ENODATA, SMP_BT_ATT_VALUE_NOT_ALLOWED}},
         1,
         0,
         4},
        {"expected total larger than a net_buf",
         4,
         false,
         {{{0x08, 0, 0, 57, 0, 0, 1, 0}, 8, SMP_BT_RX_ENOSR, SMP_BT_ATT_VALUE_NOT_ALLOWED}},
         1,
         0,
         4},
        {"expected total exactly a net_buf",
         4,
         false,
         {{{0x08, 0, 0, 56, 0, 0, 1, 0}, 8, SMP_BT_RX_PARTIAL, SMP_BT_ATT_OK}},
         1,
         0,
         3},
        {"no free net_buf",
         4,
         true,
         {{{0x08, 0, 0, 0, 0, 0, 1, 0}, 8, SMP_BT_RX_ENOMEM, SMP_BT_ATT_INSUFFICIENT_RESOURCES}},
         1,
         0,
         0},
        {"first fragment longer than the packet",
         4,
         false,
         {{{0x08, 0, 0, 1, 0, 0, 1, 0, 0xa0, 0xa0},
           10,
           SMP_BT_RX_EOVERFLOW,
           SMP_BT_ATT_VALUE_NOT_ALLOWED}},
         1,
         0,
         4},
        {"later fragment overflows: partial packet dropped",
         4,
         false,
         {{{0x08, 0, 0, 4, 0, 0, 1, 0, 0xbf}, 9, SMP_BT_RX_PARTIAL, SMP_BT_ATT_OK},
          {{0xff, 0xa0, 0xa0, 0xa0}, 4, SMP_BT_RX_EOVERFLOW, SMP_BT_ATT_VALUE_NOT_ALLOWED},
          {{0xff}, 1, SMP_BT_RX_ENODATA, SMP_BT_ATT_VALUE_NOT_ALLOWED}},
         3,
         0,
         4},
        {"three fragments make one packet",
         4,
         false,
         {{{0x08, 0, 0, 6, 0, 0, 1, 0, 0xbf}, 9, SMP_BT_RX_PARTIAL, SMP_BT_ATT_OK},
          {{0x61, 'd', 0x60}, 3, SMP_BT_RX_PARTIAL, SMP_BT_ATT_OK},
          {{0x00, 0xff}, 2, SMP_BT_RX_QUEUED, SMP_BT_ATT_OK}},
         3,
         1,
         4},
        {"a header-only packet completes on its first fragment",
         4,
         false,
         {{{0x08, 0, 0, 0, 0, 0, 1, 0}, 8, SMP_BT_RX_QUEUED, SMP_BT_ATT_OK}},
         1,
         1,
         4},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct dev d;
        dev_init(&d, true, 64, cases[i].count);
        int held[8];
        size_t n_held = 0;
        while (cases[i].hold_all && (held[n_held] = smp_netbuf_alloc(d.pool)) >= 0)
            n_held++;
        struct smp_netbuf_ctx cx = pool_cx(&d);
        for (size_t k = 0; k < cases[i].n_frags; k++) {
            const struct frag *fr = &cases[i].frags[k];
            enum smp_bt_rx rx;
            enum smp_bt_att att;
            assert_int_equal(smp_bt_write(&d.bt, fr->bytes, fr->n, 0, &cx, &rx, &att), 0);
            if (rx != fr->want_rx || att != fr->want_att)
                fail_msg("%s: fragment %zu: rx %d att %#x, want rx %d att %#x", cases[i].name, k,
                         rx, att, fr->want_rx, fr->want_att);
        }
        run_worker(&d);
        if (d.n_processed != cases[i].want_processed)
            fail_msg("%s: %zu packets processed", cases[i].name, d.n_processed);
        if (smp_netbuf_n_free(d.pool) != cases[i].want_free_after)
            fail_msg("%s: %zu net_bufs free, want %zu", cases[i].name, smp_netbuf_n_free(d.pool),
                     cases[i].want_free_after);
        for (size_t k = 0; k < n_held; k++)
            smp_netbuf_release(d.pool, held[k]);
        dev_fini(&d);
    }
}

static void test_reassembly_dropped_by_ccc_disable_and_disconnect(void **state)
{
    (void)state;
    struct dev d;
    dev_init(&d, true, 64, 4);
    struct smp_netbuf_ctx cx = pool_cx(&d);
    const uint8_t first[] = {0x08, 0, 0, 6, 0, 0, 1, 0, 0xbf};
    enum smp_bt_rx rx;
    enum smp_bt_att att;
    assert_int_equal(smp_bt_write(&d.bt, first, sizeof(first), 0, &cx, &rx, &att), 0);
    assert_int_equal(smp_netbuf_n_free(d.pool), 3);
    smp_bt_subscribe(&d.bt, false);
    assert_int_equal(smp_netbuf_n_free(d.pool), 4);
    assert_int_equal(d.bt.reasm_buf, -1);
    /* the rest now looks like a new first fragment and is refused */
    const uint8_t rest[] = {0x61, 'd', 0x60, 0x00, 0xff};
    assert_int_equal(smp_bt_write(&d.bt, rest, sizeof(rest), 0, &cx, &rx, &att), 0);
    assert_int_equal(rx, SMP_BT_RX_ENODATA);
    assert_int_equal(smp_bt_write(&d.bt, first, sizeof(first), 0, &cx, &rx, &att), 0);
    smp_bt_disconnect(&d.bt);
    assert_int_equal(smp_netbuf_n_free(d.pool), 4);
    assert_int_equal(smp_bt_write(&d.bt, first, sizeof(first), 0, &cx, &rx, &att), 0);
    assert_int_equal(rx, SMP_BT_RX_NOT_CONNECTED);
    /* _fini gives a partial packet's buffer back */
    smp_bt_connect(&d.bt, 8, 247);
    assert_int_equal(smp_bt_write(&d.bt, first, sizeof(first), 0, &cx, &rx, &att), 0);
    assert_int_equal(smp_netbuf_n_free(d.pool), 3);
    smp_bt_fini(&d.bt);
    assert_int_equal(smp_netbuf_n_free(d.pool), 4);
    dev_fini(&d);
}

/* ---- without reassembly -------------------------------------------------------------- */

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/transport/src/smp_bt.c @main */
static void test_without_reassembly_each_write_is_a_packet(void **state)
{
    (void)state;
    struct dev d;
    dev_init(&d, false, 64, 2);
    struct smp_netbuf_ctx cx = pool_cx(&d);
    uint8_t big[65] = {0x08};
    enum smp_bt_rx rx;
    enum smp_bt_att att;
    assert_int_equal(smp_bt_write(&d.bt, big, sizeof(big), 0, &cx, &rx, &att), 0);
    assert_int_equal(rx, SMP_BT_RX_ENOSR);
    assert_int_equal(att, SMP_BT_ATT_INSUFFICIENT_RESOURCES);
    const uint8_t pkt[] = {0x08, 0, 0, 0, 0, 0, 1, 0};
    assert_int_equal(smp_bt_write(&d.bt, pkt, sizeof(pkt), 0, &cx, &rx, &att), 0);
    assert_int_equal(rx, SMP_BT_RX_QUEUED);
    /* worker busy holds both buffers: the next write finds none */
    assert_int_equal(smp_bt_write(&d.bt, pkt, sizeof(pkt), 0, &cx, &rx, &att), 0);
    assert_int_equal(rx, SMP_BT_RX_ENOMEM);
    assert_int_equal(att, SMP_BT_ATT_INSUFFICIENT_RESOURCES);
    /* a fragment is queued as it is: the server will answer it ECORRUPT */
    run_worker(&d);
    const uint8_t part[] = {0x08, 0, 0, 9, 0, 0, 2, 0, 0xbf};
    assert_int_equal(smp_bt_write(&d.bt, part, sizeof(part), 0, &cx, &rx, &att), 0);
    assert_int_equal(rx, SMP_BT_RX_QUEUED);
    run_worker(&d);
    assert_int_equal(d.n_processed, 2);
    assert_int_equal(d.processed_len[1], sizeof(part));
    dev_fini(&d);
}

/* ---- notifications ------------------------------------------------------------------- */

static void test_responses_are_cut_into_mtu_minus_3_notifications(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint16_t mtu;
        int nomem;
        bool subscribed;
        size_t frame_len;
        size_t want_notes;
        size_t want_first;
        uint64_t want_dropped;
    } cases[] = {
        {"one notification when the frame fits", 247, 0, true, 100, 1, 100, 0},
        {"MTU 23 gives 20-byte pieces", 23, 0, true, 100, 5, 20, 0},
        {"MTU 50 gives 47-byte pieces and a tail", 50, 0, true, 100, 3, 47, 0},
        {"no TX buffer for the first piece halves the piece size", 247, 1, true, 300, 3, 122, 0},
        {"halving stops at 20 bytes: the response is dropped", 43, 2, true, 100, 0, 0, 1},
        {"not subscribed: dropped", 247, 0, false, 100, 0, 0, 1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct dev d;
        dev_init(&d, false, 512, 2);
        smp_bt_set_mtu(&d.bt, cases[i].mtu);
        smp_bt_subscribe(&d.bt, cases[i].subscribed);
        d.nomem_left = cases[i].nomem;
        uint8_t frame[300];
        for (size_t k = 0; k < sizeof(frame); k++)
            frame[k] = (uint8_t)k;
        assert_int_equal(smp_bt_send(&d.bt, frame, cases[i].frame_len, &d.bt_cx), 0);
        if (d.n_notes != cases[i].want_notes || d.bt.n_tx_dropped != cases[i].want_dropped ||
            (d.n_notes > 0 && d.note_len[0] != cases[i].want_first))
            fail_msg("%s: %zu notifications (first %zu), %llu dropped", cases[i].name, d.n_notes,
                     d.n_notes ? d.note_len[0] : 0, (unsigned long long)d.bt.n_tx_dropped);
        if (d.n_notes > 0) {
            assert_int_equal(d.notes_len, cases[i].frame_len);
            assert_memory_equal(d.notes, frame, cases[i].frame_len);
        }
        dev_fini(&d);
    }
}

/* ---- end to end ---------------------------------------------------------------------- */

static int noop_arm(void *env, int64_t at)
{
    (void)env;
    (void)at;
    return 0;
}

static void noop_reboot(void *env, int64_t now)
{
    (void)env;
    (void)now;
}

/* UPSTREAM: zephyrproject-rtos/zephyr: tests/subsys/mgmt/mcumgr/os_mgmt_echo/src/main.c @main
 * (the echo vector, written in 20-byte pieces as with ATT MTU 23 and reassembly). */
static void test_echo_vector_over_ble_with_reassembly(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x02, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x01, 0x00, 0xbf, 0x61, 0x64,
                                  0x78, 0x28, 's',  'h',  'o',  'r',  't',  ' ',  'M',  'C',  'U',
                                  'M',  'G',  'R',  ' ',  't',  'e',  's',  't',  ' ',  'a',  'p',
                                  'p',  'l',  'i',  'c',  'a',  't',  'i',  'o',  'n',  ' ',  'm',
                                  'e',  's',  's',  'a',  'g',  'e',  '.',  '.',  '.',  0xff};
    struct dev d;
    dev_init(&d, true, 384, 4);
    smp_bt_set_mtu(&d.bt, 23);
    d.use_server = true;
    struct smp_server_cfg scfg = smp_server_cfg_default();
    smp_server_init(&d.srv, &scfg, NULL);
    struct smp_os_mgmt_cfg ocfg = smp_os_mgmt_cfg_default();
    d.os_cx = (struct smp_os_mgmt_ctx){&d, noop_arm, noop_reboot};
    smp_os_mgmt_init(&d.os, &ocfg, &d.os_cx, NULL);
    struct smp_server_group g = smp_os_mgmt_group(&d.os);
    assert_int_equal(smp_server_group_add(&d.srv, &g), 0);
    d.srv_cx = (struct smp_server_ctx){&d, d_server_send};
    struct smp_netbuf_ctx cx = pool_cx(&d);
    for (size_t off = 0; off < sizeof(req); off += 20) {
        size_t n = sizeof(req) - off < 20 ? sizeof(req) - off : 20;
        enum smp_bt_rx rx;
        enum smp_bt_att att;
        assert_int_equal(smp_bt_write(&d.bt, req + off, n, 0, &cx, &rx, &att), 0);
        assert_int_equal(rx, off + n == sizeof(req) ? SMP_BT_RX_QUEUED : SMP_BT_RX_PARTIAL);
    }
    run_worker(&d);
    assert_int_equal(d.n_notes, 3); /* 54 bytes in 20 + 20 + 14 */
    assert_int_equal(d.notes_len, 54);
    assert_int_equal(d.notes[0], 0x03);
    assert_int_equal(d.notes[9], 0x61);
    assert_int_equal(d.notes[10], 0x72); /* "r" */
    assert_memory_equal(d.notes + 13, req + 13, 41);
    dev_fini(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reassembly_table),
        cmocka_unit_test(test_reassembly_dropped_by_ccc_disable_and_disconnect),
        cmocka_unit_test(test_without_reassembly_each_write_is_a_packet),
        cmocka_unit_test(test_responses_are_cut_into_mtu_minus_3_notifications),
        cmocka_unit_test(test_echo_vector_over_ble_with_reassembly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
