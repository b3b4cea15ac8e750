/* tests/test_smp_serial.c - SMP console framing: CRC16, base64 frames, round trip, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "models/smp/serial.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct dev {
    struct smp_netbuf *pool;
    struct smp_serial s;
    int64_t armed_at;
    size_t n_processed;
    uint8_t processed[600];
    size_t processed_len;
};

static int d_arm(void *env, int64_t at)
{
    ((struct dev *)env)->armed_at = at;
    return 0;
}

static int d_process(void *env, const uint8_t *p, size_t n, uint8_t *rsp, size_t cap, int64_t now)
{
    (void)rsp;
    (void)cap;
    (void)now;
    struct dev *d = env;
    assert_true(n <= sizeof(d->processed));
    memcpy(d->processed, p, n);
    d->processed_len = n;
    d->n_processed++;
    return 0;
}

static void dev_init(struct dev *d, uint32_t buf_size, uint32_t count)
{
    memset(d, 0, sizeof(*d));
    struct smp_netbuf_cfg cfg = {.buf_size = buf_size, .buf_count = count, .cpu_per_request = 1};
    d->pool = smp_netbuf_new(&cfg);
    assert_non_null(d->pool);
    smp_serial_init(&d->s, d->pool, 0);
}

/* Feed encoded bytes line by line; returns the last rx result. */
static enum smp_serial_rx feed(struct dev *d, const uint8_t *enc, size_t n)
{
    struct smp_netbuf_ctx cx = {d, d_arm, NULL, d_process};
    enum smp_serial_rx rx = SMP_SERIAL_RX_IGNORED;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (enc[i] != 0x0a)
            continue;
        assert_int_equal(smp_serial_rx_frame(&d->s, enc + start, i + 1 - start, 0, &cx, &rx), 0);
        start = i + 1;
    }
    while (smp_netbuf_busy(d->pool))
        assert_int_equal(smp_netbuf_timer(d->pool, d->armed_at, &cx), 0);
    return rx;
}

/* UPSTREAM: apache/mynewt-mcumgr: docs/smp-console.md @master (CRC: polynomial 0x1021,
 * initial value 0; the CRC-16/XMODEM check value of "123456789" is 0x31c3). */
static void test_crc16_check_value(void **state)
{
    (void)state;
    assert_int_equal(smp_serial_crc16(0, (const uint8_t *)"123456789", 9), 0x31c3);
    const uint8_t with_crc[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9', 0x31, 0xc3};
    assert_int_equal(smp_serial_crc16(0, with_crc, sizeof(with_crc)), 0);
}

/* Golden: a header-only request is one frame: 06 09 base64([00 0a][8 bytes][crc]) 0a. */
static void test_encode_golden_single_frame(void **state)
{
    (void)state;
    const uint8_t pkt[] = {0x08, 0, 0, 0, 0, 0, 1, 0};
    uint8_t out[64];
    size_t n = 0;
    assert_int_equal(smp_serial_encode(pkt, sizeof(pkt), out, sizeof(out), &n), 0);
    const char want[] = "\x06\x09"
                        "AAoIAAAAAAABAC3r\n";
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(out, want, n);
    assert_int_equal(smp_serial_encoded_len(sizeof(pkt)), n);
    assert_int_equal(smp_serial_encode(pkt, sizeof(pkt), out, n - 1, &n), SIM_ERANGE);
}

static void test_round_trip_and_frame_limits(void **state)
{
    (void)state;
    const size_t sizes[] = {8, 54, 89, 90, 91, 182, 183, 500};
    for (size_t t = 0; t < ARRAY_LEN(sizes); t++) {
        uint8_t pkt[600];
        for (size_t i = 0; i < sizes[t]; i++)
            pkt[i] = (uint8_t)(i * 37 + t);
        uint8_t enc[1200];
        size_t n = 0;
        assert_int_equal(smp_serial_encode(pkt, sizes[t], enc, sizeof(enc), &n), 0);
        assert_int_equal(smp_serial_encoded_len(sizes[t]), n);
        /* every frame: marker, at most 127 bytes, newline */
        size_t start = 0, frames = 0;
        for (size_t i = 0; i < n; i++) {
            if (enc[i] != 0x0a)
                continue;
            assert_true(i + 1 - start <= SMP_SERIAL_MAX_FRAME);
            assert_int_equal(enc[start], frames == 0 ? 0x06 : 0x04);
            assert_int_equal(enc[start + 1], frames == 0 ? 0x09 : 0x14);
            frames++;
            start = i + 1;
        }
        assert_int_equal(start, n);
        assert_int_equal(frames, (sizes[t] + 4 + 92) / 93);
        struct dev d;
        dev_init(&d, 600, 4);
        enum smp_serial_rx rx = feed(&d, enc, n);
        if (rx != SMP_SERIAL_RX_QUEUED || d.n_processed != 1 || d.processed_len != sizes[t] ||
            memcmp(d.processed, pkt, sizes[t]) != 0)
            fail_msg("round trip of %zu bytes failed (rx %d)", sizes[t], rx);
        assert_int_equal(smp_netbuf_n_free(d.pool), 4);
        smp_netbuf_free(d.pool);
    }
}

static void test_receive_errors(void **state)
{
    (void)state;
    uint8_t pkt[200];
    for (size_t i = 0; i < sizeof(pkt); i++)
        pkt[i] = (uint8_t)i;
    uint8_t enc[400];
    size_t n = 0;
    assert_int_equal(smp_serial_encode(pkt, sizeof(pkt), enc, sizeof(enc), &n), 0);
    size_t first_end = (size_t)((uint8_t *)memchr(enc, 0x0a, n) - enc) + 1;

    struct dev d;
    dev_init(&d, 256, 2);
    struct smp_netbuf_ctx cx = {&d, d_arm, NULL, d_process};
    enum smp_serial_rx rx;
    /* a continuation with no packet started is ignored */
    assert_int_equal(smp_serial_rx_frame(&d.s, enc + first_end, 20, 0, &cx, &rx), 0);
    assert_int_equal(rx, SMP_SERIAL_RX_IGNORED);
    const uint8_t junk[] = {'h', 'e', 'l', 'l', 'o', 0x0a};
    assert_int_equal(smp_serial_rx_frame(&d.s, junk, sizeof(junk), 0, &cx, &rx), 0);
    assert_int_equal(rx, SMP_SERIAL_RX_IGNORED);
    /* a bad character drops the packet */
    uint8_t bad[400];
    memcpy(bad, enc, n);
    bad[10] = '*';
    assert_int_equal(smp_serial_rx_frame(&d.s, bad, first_end, 0, &cx, &rx), 0);
    assert_int_equal(rx, SMP_SERIAL_RX_BAD);
    assert_int_equal(smp_netbuf_n_free(d.pool), 2);
    /* a flipped data character breaks the CRC */
    memcpy(bad, enc, n);
    bad[first_end + 10] = bad[first_end + 10] == 'A' ? 'B' : 'A';
    assert_int_equal(feed(&d, bad, n), SMP_SERIAL_RX_CRC);
    assert_int_equal(d.n_processed, 0);
    assert_int_equal(smp_netbuf_n_free(d.pool), 2);
    /* a new start frame drops the partial packet and starts over */
    assert_int_equal(smp_serial_rx_frame(&d.s, enc, first_end, 0, &cx, &rx), 0);
    assert_int_equal(rx, SMP_SERIAL_RX_PARTIAL);
    assert_int_equal(feed(&d, enc, n), SMP_SERIAL_RX_QUEUED);
    assert_int_equal(d.n_processed, 1);
    assert_int_equal(smp_netbuf_n_free(d.pool), 2);
    /* _fini gives a partial packet's buffer back */
    assert_int_equal(smp_serial_rx_frame(&d.s, enc, first_end, 0, &cx, &rx), 0);
    assert_int_equal(smp_netbuf_n_free(d.pool), 1);
    smp_serial_fini(&d.s);
    assert_int_equal(smp_netbuf_n_free(d.pool), 2);
    smp_netbuf_free(d.pool);

    /* longer than a net_buf */
    dev_init(&d, 100, 2);
    assert_int_equal(smp_serial_rx_frame(&d.s, enc, first_end, 0, &cx, &rx), 0);
    assert_int_equal(rx, SMP_SERIAL_RX_BAD);
    /* no free net_buf */
    int a = smp_netbuf_alloc(d.pool), b = smp_netbuf_alloc(d.pool);
    assert_int_equal(smp_serial_rx_frame(&d.s, enc, first_end, 0, &cx, &rx), 0);
    assert_int_equal(rx, SMP_SERIAL_RX_ENOMEM);
    smp_netbuf_release(d.pool, a);
    smp_netbuf_release(d.pool, b);
    smp_netbuf_free(d.pool);
}

static void test_wire_time(void **state)
{
    (void)state;
    /* 8N1: 10 bits per byte; one full frame at 115200 baud takes 11.02 ms */
    assert_true(smp_serial_wire_ns(127, 115200) == 11024305);
    assert_true(smp_serial_wire_ns(1000, 1000000) == 10000000);
    assert_true(smp_serial_wire_ns(10, 0) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_check_value),
        cmocka_unit_test(test_encode_golden_single_frame),
        cmocka_unit_test(test_round_trip_and_frame_limits),
        cmocka_unit_test(test_receive_errors),
        cmocka_unit_test(test_wire_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
