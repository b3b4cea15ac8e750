/* tests/test_uart_link.c - the UART link: byte time, serialisation per direction, full
 * duplex, flush, and SMP serial frames carried unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/smp/serial.h"
#include "models/uart/link.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SEC          1000000000LL

struct fake {
    struct uart_link l;
    struct uart_link_ctx cx;
    int64_t timer_at;
    bool armed;
    size_t n_deliv[2];
    int64_t at[2][64];
    size_t len[2][64];
    uint8_t rx[2][8192];
    size_t rx_len[2];
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

static void f_deliver(void *env, enum uart_link_dir dir, const uint8_t *p, size_t n, int64_t at)
{
    struct fake *f = env;
    assert_true(f->n_deliv[dir] < 64 && f->rx_len[dir] + n <= sizeof(f->rx[dir]));
    f->at[dir][f->n_deliv[dir]] = at;
    f->len[dir][f->n_deliv[dir]++] = n;
    memcpy(f->rx[dir] + f->rx_len[dir], p, n);
    f->rx_len[dir] += n;
}

static struct fake *fake_new(uint32_t baud, uint8_t parity)
{
    struct fake *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct uart_link_cfg cfg;
    uart_link_cfg_default(&cfg);
    cfg.baud = baud;
    cfg.parity_bits = parity;
    assert_int_equal(uart_link_init(&f->l, &cfg), 0);
    f->cx = (struct uart_link_ctx){
        .env = f, .timer_arm = f_arm, .timer_cancel = f_cancel, .deliver = f_deliver};
    return f;
}

static void fake_free(struct fake *f)
{
    uart_link_fini(&f->l);
    free(f);
}

static void run_until(struct fake *f, int64_t until)
{
    while (f->armed && f->timer_at <= until) {
        f->armed = false;
        assert_int_equal(uart_link_timer(&f->l, f->timer_at, &f->cx), 0);
    }
}

/* EVIDENCE-OF: 8N1 sends 10 bits per byte (start, 8 data, stop): n bytes take
 * n x 10 / baud seconds. */
static void test_delivery_time_is_bytes_times_10_over_baud(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t baud;
        uint8_t parity;
        size_t n;
        int64_t want_ns;
    } c[] = {
        {"one byte at 115200", 115200, 0, 1, 1 * 10 * SEC / 115200},
        {"one 127-byte serial frame at 115200", 115200, 0, 127, 127 * 10 * SEC / 115200},
        {"1000 bytes at 9600", 9600, 0, 1000, 1000 * 10 * SEC / 9600},
        {"1000 bytes at 1 Mbaud", 1000000, 0, 1000, 1000 * 10 * SEC / 1000000},
        {"8E1 takes 11 bits per byte", 115200, 1, 100, 100 * 11 * SEC / 115200},
    };
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct fake *f = fake_new(c[i].baud, c[i].parity);
        uint8_t b[1000];
        for (size_t k = 0; k < c[i].n; k++)
            b[k] = (uint8_t)(k * 7);
        int64_t t0 = 123456;
        assert_int_equal(uart_link_send(&f->l, UART_LINK_H2D, b, c[i].n, t0, &f->cx), 0);
        run_until(f, 100 * SEC);
        assert_int_equal(f->n_deliv[UART_LINK_H2D], 1);
        if (f->at[0][0] - t0 != c[i].want_ns)
            fail_msg("%s: %lld ns, want %lld", c[i].name, (long long)(f->at[0][0] - t0),
                     (long long)c[i].want_ns);
        assert_memory_equal(f->rx[0], b, c[i].n);
        assert_int_equal(uart_link_wire_ns(&f->l.cfg, c[i].n), c[i].want_ns);
        fake_free(f);
    }
}

/* One serialiser per direction: a second send waits for the first; the other direction
 * runs at the same time (full duplex). */
static void test_sends_queue_per_direction_and_directions_overlap(void **state)
{
    (void)state;
    struct fake *f = fake_new(115200, 0);
    uint8_t b[100] = {0};
    int64_t one = 100 * 10 * SEC / 115200;
    assert_int_equal(uart_link_send(&f->l, UART_LINK_H2D, b, 100, 0, &f->cx), 0);
    assert_int_equal(uart_link_send(&f->l, UART_LINK_H2D, b, 100, 0, &f->cx), 0);
    assert_int_equal(uart_link_send(&f->l, UART_LINK_D2H, b, 100, 0, &f->cx), 0);
    /* sent after the wire went idle: starts at its own time */
    assert_int_equal(uart_link_send(&f->l, UART_LINK_D2H, b, 100, 5 * SEC, &f->cx), 0);
    run_until(f, 10 * SEC);
    assert_int_equal(f->n_deliv[0], 2);
    assert_int_equal(f->n_deliv[1], 2);
    assert_int_equal(f->at[0][0], one);
    assert_int_equal(f->at[0][1], 2 * one);
    assert_int_equal(f->at[1][0], one);
    assert_int_equal(f->at[1][1], 5 * SEC + one);
    fake_free(f);
}

static void test_flush_drops_bytes_on_the_wire(void **state)
{
    (void)state;
    struct fake *f = fake_new(115200, 0);
    uint8_t b[100] = {0};
    assert_int_equal(uart_link_send(&f->l, UART_LINK_D2H, b, 100, 0, &f->cx), 0);
    assert_int_equal(uart_link_flush(&f->l, 1000, &f->cx), 0);
    assert_false(f->armed);
    assert_int_equal(f->l.stats.n_dropped[UART_LINK_D2H], 100);
    /* the wire is free again from the flush time */
    assert_int_equal(uart_link_send(&f->l, UART_LINK_D2H, b, 10, 2000, &f->cx), 0);
    run_until(f, SEC);
    assert_int_equal(f->n_deliv[1], 1);
    assert_int_equal(f->at[1][0], 2000 + 10 * 10 * SEC / 115200);
    fake_free(f);
}

static void test_bad_input_is_rejected(void **state)
{
    (void)state;
    struct fake *f = fake_new(115200, 0);
    uint8_t b[4] = {0};
    assert_int_equal(uart_link_send(&f->l, UART_LINK_H2D, b, 0, 0, &f->cx), SIM_EINVAL);
    assert_int_equal(uart_link_send(&f->l, UART_LINK_DIR_COUNT, b, 1, 0, &f->cx), SIM_EINVAL);
    f->l.cfg.queue_bytes = 3;
    assert_int_equal(uart_link_send(&f->l, UART_LINK_H2D, b, 4, 0, &f->cx), 1);
    struct uart_link_cfg cfg;
    uart_link_cfg_default(&cfg);
    cfg.baud = 0;
    assert_int_equal(uart_link_cfg_check(&cfg), SIM_ERANGE);
    uart_link_cfg_default(&cfg);
    cfg.stop_bits = 3;
    assert_int_equal(uart_link_cfg_check(&cfg), SIM_ERANGE);
    fake_free(f);
}

/* The SMP serial framing (models/smp/serial.h) rides the link unchanged, and the link's
 * time equals smp_serial_wire_ns() for the encoded length. */
static void test_smp_serial_frames_arrive_unchanged(void **state)
{
    (void)state;
    struct fake *f = fake_new(115200, 0);
    uint8_t pkt[300], enc[1024];
    for (size_t k = 0; k < sizeof(pkt); k++)
        pkt[k] = (uint8_t)(k ^ 0x5a);
    size_t n = 0;
    assert_int_equal(smp_serial_encode(pkt, sizeof(pkt), enc, sizeof(enc), &n), 0);
    assert_int_equal(n, smp_serial_encoded_len(sizeof(pkt)));
    assert_int_equal(uart_link_send(&f->l, UART_LINK_H2D, enc, n, 0, &f->cx), 0);
    run_until(f, SEC);
    assert_int_equal(f->rx_len[0], n);
    assert_memory_equal(f->rx[0], enc, n);
    assert_int_equal(f->at[0][0], smp_serial_wire_ns(n, 115200));
    fake_free(f);
}

/* Memory follows what is on the wire: the buffer grows from nothing by doubling, never
 * past queue_bytes; 1 (full) comes exactly past queue_bytes; the bytes arrive intact. */
static void test_buffer_grows_to_queue_bytes_and_refuses_beyond(void **state)
{
    (void)state;
    struct fake *f = fake_new(1000000, 0);
    f->l.cfg.queue_bytes = 3000;
    assert_null(f->l.w[UART_LINK_H2D].bytes);
    uint8_t b[500], want[3000];
    size_t sent = 0;
    for (int k = 0; k < 6; k++) {
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (uint8_t)(sent + i);
        assert_int_equal(uart_link_send(&f->l, UART_LINK_H2D, b, sizeof(b), 0, &f->cx), 0);
        memcpy(want + sent, b, sizeof(b));
        sent += sizeof(b);
        assert_true(f->l.w[UART_LINK_H2D].bytes_cap <= 3000);
    }
    assert_int_equal(f->l.w[UART_LINK_H2D].bytes_cap, 3000); /* 256 .. 2048, then capped */
    assert_int_equal(uart_link_send(&f->l, UART_LINK_H2D, b, 1, 0, &f->cx), 1);
    run_until(f, SEC);
    assert_int_equal(f->rx_len[0], sizeof(want));
    assert_memory_equal(f->rx[0], want, sizeof(want));
    /* kept while bytes flow: the same burst again reuses the buffer */
    const uint8_t *kept = f->l.w[UART_LINK_H2D].bytes;
    assert_int_equal(uart_link_send(&f->l, UART_LINK_H2D, b, sizeof(b), SEC, &f->cx), 0);
    assert_ptr_equal(f->l.w[UART_LINK_H2D].bytes, kept);
    fake_free(f);
}

static bool wire_released(const struct uart_link *l, int d)
{
    return l->w[d].bytes == NULL && l->w[d].chunks == NULL && l->w[d].bytes_cap == 0 &&
           l->w[d].chunks_cap == 0;
}

/* uart_link_flush (device reset) frees both wires; the link works as before after it. */
static void test_flush_releases_the_buffers(void **state)
{
    (void)state;
    struct fake *f = fake_new(115200, 0);
    uint8_t b[1000] = {0};
    assert_int_equal(uart_link_send(&f->l, UART_LINK_H2D, b, sizeof(b), 0, &f->cx), 0);
    assert_int_equal(uart_link_send(&f->l, UART_LINK_D2H, b, 10, 0, &f->cx), 0);
    assert_int_equal(uart_link_flush(&f->l, 1000, &f->cx), 0);
    assert_true(wire_released(&f->l, 0) && wire_released(&f->l, 1));
    assert_false(f->armed);
    uint8_t c[3] = {1, 2, 3};
    assert_int_equal(uart_link_send(&f->l, UART_LINK_H2D, c, 3, 2000, &f->cx), 0);
    run_until(f, SEC);
    assert_int_equal(f->rx_len[0], 3);
    assert_memory_equal(f->rx[0], c, 3);
    fake_free(f);
}

/* A flush from inside deliver (the device resets on a request) frees the buffers only
 * after deliver returns, so its bytes stay readable (run under ASan and valgrind). */
static void flush_deliver(void *env, enum uart_link_dir dir, const uint8_t *p, size_t n, int64_t at)
{
    struct fake *f = env;
    if (f->n_deliv[dir] == 0) {
        assert_int_equal(uart_link_flush(&f->l, at, &f->cx), 0);
        assert_false(wire_released(&f->l, dir));
    }
    f_deliver(env, dir, p, n, at);
}

static void test_flush_from_inside_deliver_frees_after_it(void **state)
{
    (void)state;
    struct fake *f = fake_new(115200, 0);
    f->cx.deliver = flush_deliver;
    uint8_t b[40];
    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(i + 1);
    assert_int_equal(uart_link_send(&f->l, UART_LINK_H2D, b, 20, 0, &f->cx), 0);
    assert_int_equal(uart_link_send(&f->l, UART_LINK_H2D, b + 20, 20, 0, &f->cx), 0);
    run_until(f, SEC);
    assert_int_equal(f->n_deliv[0], 1);
    assert_memory_equal(f->rx[0], b, 20);
    assert_int_equal(f->l.stats.n_dropped[0], 20);
    assert_true(wire_released(&f->l, 0) && wire_released(&f->l, 1));
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivery_time_is_bytes_times_10_over_baud),
        cmocka_unit_test(test_sends_queue_per_direction_and_directions_overlap),
        cmocka_unit_test(test_flush_drops_bytes_on_the_wire),
        cmocka_unit_test(test_bad_input_is_rejected),
        cmocka_unit_test(test_smp_serial_frames_arrive_unchanged),
        cmocka_unit_test(test_buffer_grows_to_queue_bytes_and_refuses_beyond),
        cmocka_unit_test(test_flush_releases_the_buffers),
        cmocka_unit_test(test_flush_from_inside_deliver_frees_after_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
