/* tests/test_smp_netbuf.c - net_buf pool and the in-order SMP worker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "models/smp/netbuf.h"
#include "models/smp/os_mgmt.h"
#include "sim/error.h"

#define US(x) ((int64_t)(x)*1000LL)

struct fake {
    int64_t armed_at;
    size_t n_arms;
    int64_t flash;
    size_t n_processed;
    uint8_t seqs[16];
    bool had_rsp[16];
    int64_t at[16];
    struct smp_netbuf *nb;
};

static int f_arm(void *env, int64_t at)
{
    struct fake *f = env;
    f->armed_at = at;
    f->n_arms++;
    return 0;
}

static int64_t f_flash(void *env, const uint8_t *p, size_t n)
{
    (void)p;
    (void)n;
    return ((struct fake *)env)->flash;
}

static int f_process(void *env, const uint8_t *p, size_t n, uint8_t *rsp, size_t cap, int64_t now)
{
    struct fake *f = env;
    assert_true(n >= 8);
    assert_true(f->n_processed < 16);
    f->seqs[f->n_processed] = p[6];
    f->had_rsp[f->n_processed] = rsp != NULL;
    f->at[f->n_processed] = now;
    f->n_processed++;
    if (rsp)
        assert_int_equal(cap, smp_netbuf_buf_size(f->nb));
    return 0;
}

static const uint8_t *req(uint8_t seq)
{
    static uint8_t r[8];
    const uint8_t h[8] = {0x08, 0, 0, 0, 0, 0, seq, 0};
    memcpy(r, h, 8);
    return r;
}

/* Run the worker until idle, firing the timer at the armed time. */
static void drain(struct fake *f, const struct smp_netbuf_ctx *cx)
{
    while (smp_netbuf_busy(f->nb)) {
        assert_int_equal(smp_netbuf_timer(f->nb, f->armed_at, cx), 0);
        smp_netbuf_check(f->nb);
    }
}

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/transport/src/smp.c @main
 * (4 buffers: one request processing + its response + 2 waiting; a window of
 * buf_count - 1 = 3 fits, a 4th outstanding request is dropped). */
static void test_burst_beyond_the_pool_is_dropped_and_order_is_kept(void **state)
{
    (void)state;
    struct smp_netbuf_cfg cfg = smp_netbuf_cfg_default();
    cfg.cpu_per_request = US(100);
    struct fake f = {.flash = US(50)};
    f.nb = smp_netbuf_new(&cfg);
    assert_non_null(f.nb);
    struct smp_netbuf_ctx cx = {&f, f_arm, f_flash, f_process};
    bool dropped[5];
    for (uint8_t i = 0; i < 5; i++) {
        assert_int_equal(smp_netbuf_rx(f.nb, req(i), 8, 1, US(10), &cx, &dropped[i]), 0);
        smp_netbuf_check(f.nb);
    }
    assert_false(dropped[0] || dropped[1] || dropped[2]);
    assert_true(dropped[3] && dropped[4]);
    assert_int_equal(smp_netbuf_n_dropped(f.nb), 2);
    assert_int_equal(smp_netbuf_n_free(f.nb), 0);
    assert_int_equal(smp_netbuf_n_queued(f.nb), 2);
    assert_true(f.armed_at == US(10) + US(150)); /* one request of CPU + flash */
    drain(&f, &cx);
    assert_int_equal(f.n_processed, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(f.seqs[i], i);
        assert_true(f.had_rsp[i]);
        assert_true(f.at[i] == US(10) + (int64_t)(i + 1) * US(150));
    }
    assert_int_equal(smp_netbuf_n_free(f.nb), 4);
    smp_netbuf_free(f.nb);
}

static void test_cost_counts_every_request_in_the_packet(void **state)
{
    (void)state;
    struct smp_netbuf_cfg cfg = smp_netbuf_cfg_default();
    cfg.cpu_per_request = US(100);
    struct fake f = {0};
    f.nb = smp_netbuf_new(&cfg);
    struct smp_netbuf_ctx cx = {&f, f_arm, NULL, f_process};
    uint8_t pkt[26] = {0x08, 0, 0, 2, 0, 0,    1, 0, 0xbf, 0xff, 0x08, 0, 0,
                       0,    0, 0, 2, 0, 0x08, 0, 0, 0,    0,    0,    3, 0};
    bool dropped;
    assert_int_equal(smp_netbuf_rx(f.nb, pkt, sizeof(pkt), 1, 0, &cx, &dropped), 0);
    assert_true(f.armed_at == US(300));
    smp_netbuf_free(f.nb);
}

static void test_too_big_and_no_buffer_drops(void **state)
{
    (void)state;
    struct smp_netbuf_cfg cfg = {.buf_size = 64, .buf_count = 2, .cpu_per_request = 1};
    struct fake f = {0};
    f.nb = smp_netbuf_new(&cfg);
    struct smp_netbuf_ctx cx = {&f, f_arm, NULL, f_process};
    uint8_t big[65] = {0x08};
    bool dropped;
    assert_int_equal(smp_netbuf_rx(f.nb, big, sizeof(big), 1, 0, &cx, &dropped), 0);
    assert_true(dropped);
    assert_int_equal(smp_netbuf_n_free(f.nb), 2);
    /* a transport holds one buffer (reassembly); the next request takes the last one,
     * so processing starts without a response buffer: smp.c answers ENOMEM */
    int held = smp_netbuf_alloc(f.nb);
    assert_true(held >= 0);
    assert_int_equal(smp_netbuf_rx(f.nb, req(7), 8, 1, 0, &cx, &dropped), 0);
    assert_false(dropped);
    assert_int_equal(smp_netbuf_n_free(f.nb), 0);
    assert_int_equal(smp_netbuf_alloc(f.nb), -1);
    drain(&f, &cx);
    assert_int_equal(f.n_processed, 1);
    assert_false(f.had_rsp[0]);
    smp_netbuf_release(f.nb, held);
    assert_int_equal(smp_netbuf_n_free(f.nb), 2);
    smp_netbuf_free(f.nb);
}

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/transport/src/smp.c @main
 * (smp_rx_remove_invalid on disconnect). */
static void test_flush_drops_queued_packets_of_one_connection(void **state)
{
    (void)state;
    struct smp_netbuf_cfg cfg = {.buf_size = 64, .buf_count = 8, .cpu_per_request = 10};
    struct fake f = {0};
    f.nb = smp_netbuf_new(&cfg);
    struct smp_netbuf_ctx cx = {&f, f_arm, NULL, f_process};
    bool d;
    const uint32_t conns[] = {1, 1, 2, 1, 2};
    for (uint8_t i = 0; i < 5; i++)
        assert_int_equal(smp_netbuf_rx(f.nb, req(i), 8, conns[i], 0, &cx, &d), 0);
    assert_int_equal(smp_netbuf_flush(f.nb, 1), 2); /* #0 is processing: it finishes */
    smp_netbuf_check(f.nb);
    assert_int_equal(smp_netbuf_n_queued(f.nb), 2);
    drain(&f, &cx);
    assert_int_equal(f.n_processed, 3);
    assert_int_equal(f.seqs[0], 0);
    assert_int_equal(f.seqs[1], 2);
    assert_int_equal(f.seqs[2], 4);
    smp_netbuf_free(f.nb);
}

static void test_stale_timer_and_bad_config(void **state)
{
    (void)state;
    struct smp_netbuf_cfg cfg = smp_netbuf_cfg_default();
    struct fake f = {0};
    f.nb = smp_netbuf_new(&cfg);
    struct smp_netbuf_ctx cx = {&f, f_arm, NULL, f_process};
    assert_int_equal(smp_netbuf_timer(f.nb, 5, &cx), 0); /* idle */
    bool d;
    assert_int_equal(smp_netbuf_rx(f.nb, req(1), 8, 1, 0, &cx, &d), 0);
    assert_int_equal(smp_netbuf_timer(f.nb, f.armed_at - 1, &cx), 0); /* stale */
    assert_int_equal(f.n_processed, 0);
    assert_int_equal(smp_netbuf_timer(f.nb, f.armed_at, &cx), 0);
    assert_int_equal(f.n_processed, 1);
    smp_netbuf_free(f.nb);
    smp_netbuf_free(NULL);
    struct smp_netbuf_cfg bad = {.buf_size = 0, .buf_count = 4};
    assert_null(smp_netbuf_new(&bad));
    bad = (struct smp_netbuf_cfg){.buf_size = 64, .buf_count = SMP_NETBUF_MAX_COUNT + 1};
    assert_null(smp_netbuf_new(&bad));
}

/* ---- end to end: pool + worker + server + OS group ---------------------------------- */

struct device {
    struct smp_server srv;
    struct smp_os_mgmt os;
    struct smp_os_mgmt_ctx os_cx;
    struct smp_server_ctx srv_cx;
    struct fake f;
    uint8_t out[4][128];
    size_t out_len[4];
    size_t n_out;
};

static int dev_send(void *env, const uint8_t *b, size_t n)
{
    struct device *d = env;
    assert_true(d->n_out < 4 && n <= 128);
    memcpy(d->out[d->n_out], b, n);
    d->out_len[d->n_out++] = n;
    return 0;
}

static int dev_process(void *env, const uint8_t *p, size_t n, uint8_t *rsp, size_t cap, int64_t now)
{
    struct device *d = env;
    return smp_server_process(&d->srv, p, n, rsp, cap, now, &d->srv_cx, NULL);
}

static int dev_arm(void *env, int64_t at)
{
    struct device *d = env;
    d->f.armed_at = at;
    return 0;
}

static int dev_reset_arm(void *env, int64_t at)
{
    (void)env;
    (void)at;
    return 0;
}

static void dev_reboot(void *env, int64_t now)
{
    (void)env;
    (void)now;
}

static void test_echo_through_pool_worker_and_server(void **state)
{
    (void)state;
    struct device d;
    memset(&d, 0, sizeof(d));
    struct smp_server_cfg scfg = smp_server_cfg_default();
    smp_server_init(&d.srv, &scfg, NULL);
    struct smp_os_mgmt_cfg ocfg = smp_os_mgmt_cfg_default();
    d.os_cx = (struct smp_os_mgmt_ctx){&d, dev_reset_arm, dev_reboot};
    smp_os_mgmt_init(&d.os, &ocfg, &d.os_cx, NULL);
    struct smp_server_group g = smp_os_mgmt_group(&d.os);
    assert_int_equal(smp_server_group_add(&d.srv, &g), 0);
    d.srv_cx = (struct smp_server_ctx){&d, dev_send};
    struct smp_netbuf_cfg cfg = {.buf_size = 64, .buf_count = 2, .cpu_per_request = US(20)};
    d.f.nb = smp_netbuf_new(&cfg);
    struct smp_netbuf_ctx cx = {&d, dev_arm, NULL, dev_process};
    const uint8_t echo[] = {0x0a, 0, 0, 7, 0, 0, 9, 0, 0xa1, 0x61, 'd', 0x62, 'h', 'i', 0xff};
    bool dropped;
    assert_int_equal(smp_netbuf_rx(d.f.nb, echo, sizeof(echo), 3, US(1), &cx, &dropped), 0);
    assert_int_equal(d.n_out, 0); /* nothing before the worker is done */
    assert_true(d.f.armed_at == US(21));
    assert_int_equal(smp_netbuf_timer(d.f.nb, US(21), &cx), 0);
    const uint8_t want[] = {0x0b, 0, 0, 7, 0, 0, 9, 0, 0xbf, 0x61, 'r', 0x62, 'h', 'i', 0xff};
    assert_int_equal(d.n_out, 1);
    assert_int_equal(d.out_len[0], sizeof(want));
    assert_memory_equal(d.out[0], want, sizeof(want));
    smp_netbuf_free(d.f.nb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_beyond_the_pool_is_dropped_and_order_is_kept),
        cmocka_unit_test(test_cost_counts_every_request_in_the_packet),
        cmocka_unit_test(test_too_big_and_no_buffer_drops),
        cmocka_unit_test(test_flush_drops_queued_packets_of_one_connection),
        cmocka_unit_test(test_stale_timer_and_bad_config),
        cmocka_unit_test(test_echo_through_pool_worker_and_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
