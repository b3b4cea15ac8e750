/* tests/test_smp_dgram.c - SMP over datagrams: one packet per datagram, MTU and pool drops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "models/smp/dgram.h"
#include "models/smp/os_mgmt.h"
#include "sim/error.h"

struct dev {
    struct smp_netbuf *pool;
    struct smp_dgram dg;
    struct smp_dgram_ctx dg_cx;
    struct smp_server srv;
    struct smp_os_mgmt os;
    struct smp_os_mgmt_ctx os_cx;
    struct smp_server_ctx srv_cx;
    int64_t armed_at;
    size_t n_sent;
    uint32_t sent_peer;
    uint8_t sent[64];
    size_t sent_len;
};

static int d_arm(void *env, int64_t at)
{
    ((struct dev *)env)->armed_at = at;
    return 0;
}

static int d_process(void *env, const uint8_t *p, size_t n, uint8_t *rsp, size_t cap, int64_t now)
{
    struct dev *d = env;
    return smp_server_process(&d->srv, p, n, rsp, cap, now, &d->srv_cx, NULL);
}

static int d_udp_send(void *env, uint32_t peer, const uint8_t *p, size_t n)
{
    struct dev *d = env;
    assert_true(n <= sizeof(d->sent));
    memcpy(d->sent, p, n);
    d->sent_len = n;
    d->sent_peer = peer;
    d->n_sent++;
    return 0;
}

static int d_server_send(void *env, const uint8_t *frame, size_t n)
{
    struct dev *d = env;
    return smp_dgram_send(&d->dg, frame, n, &d->dg_cx);
}

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

static void dev_init(struct dev *d, uint32_t mtu, uint32_t buf_size)
{
    memset(d, 0, sizeof(*d));
    struct smp_netbuf_cfg cfg = {.buf_size = buf_size, .buf_count = 2, .cpu_per_request = 5};
    d->pool = smp_netbuf_new(&cfg);
    assert_non_null(d->pool);
    struct smp_dgram_cfg dcfg = {.mtu = mtu};
    smp_dgram_init(&d->dg, &dcfg, d->pool);
    d->dg_cx = (struct smp_dgram_ctx){d, d_udp_send};
    struct smp_server_cfg scfg = smp_server_cfg_default();
    smp_server_init(&d->srv, &scfg, NULL);
    struct smp_os_mgmt_cfg ocfg = smp_os_mgmt_cfg_default();
    d->os_cx = (struct smp_os_mgmt_ctx){d, noop_arm, noop_reboot};
    smp_os_mgmt_init(&d->os, &ocfg, &d->os_cx, NULL);
    struct smp_server_group g = smp_os_mgmt_group(&d->os);
    assert_int_equal(smp_server_group_add(&d->srv, &g), 0);
    d->srv_cx = (struct smp_server_ctx){d, d_server_send};
}

static const uint8_t echo[] = {0x08, 0, 0, 5, 0, 0, 3, 0, 0xa1, 0x61, 'd', 0x61, 'x'};

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/transport/src/smp_udp.c @main */
static void test_one_packet_per_datagram_and_reply_to_sender(void **state)
{
    (void)state;
    struct dev d;
    dev_init(&d, 1500, 2048);
    struct smp_netbuf_ctx cx = {&d, d_arm, NULL, d_process};
    bool dropped;
    assert_int_equal(smp_dgram_rx(&d.dg, echo, sizeof(echo), 42, 0, &cx, &dropped), 0);
    assert_false(dropped);
    assert_int_equal(smp_netbuf_timer(d.pool, d.armed_at, &cx), 0);
    const uint8_t want[] = {0x09, 0, 0, 6, 0, 0, 3, 0, 0xbf, 0x61, 'r', 0x61, 'x', 0xff};
    assert_int_equal(d.n_sent, 1);
    assert_int_equal(d.sent_peer, 42);
    assert_int_equal(d.sent_len, sizeof(want));
    assert_memory_equal(d.sent, want, sizeof(want));
    smp_netbuf_free(d.pool);
}

static void test_datagram_drops(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t mtu, buf_size;
        size_t len;
        bool want_dropped;
    } cases[] = {
        {"larger than the UDP MTU", 10, 2048, 13, true},
        {"equal to the UDP MTU", 13, 2048, 13, false},
        {"larger than a net_buf", 1500, 12, 13, true},
        {"dummy transport has no MTU", 0, 2048, 13, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dev d;
        dev_init(&d, cases[i].mtu, cases[i].buf_size);
        struct smp_netbuf_ctx cx = {&d, d_arm, NULL, d_process};
        bool dropped;
        assert_int_equal(smp_dgram_rx(&d.dg, echo, cases[i].len, 1, 0, &cx, &dropped), 0);
        if (dropped != cases[i].want_dropped || d.dg.n_dropped != (cases[i].want_dropped ? 1u : 0u))
            fail_msg("%s: dropped %d", cases[i].name, dropped);
        smp_netbuf_free(d.pool);
    }
    /* the pool is busy with one packet and its response: the next datagram is lost */
    struct dev d;
    dev_init(&d, 1500, 2048);
    struct smp_netbuf_ctx cx = {&d, d_arm, NULL, d_process};
    bool dropped;
    assert_int_equal(smp_dgram_rx(&d.dg, echo, sizeof(echo), 1, 0, &cx, &dropped), 0);
    assert_int_equal(smp_dgram_rx(&d.dg, echo, sizeof(echo), 1, 0, &cx, &dropped), 0);
    assert_true(dropped);
    assert_int_equal(d.dg.n_dropped, 1);
    smp_netbuf_free(d.pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_packet_per_datagram_and_reply_to_sender),
        cmocka_unit_test(test_datagram_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
