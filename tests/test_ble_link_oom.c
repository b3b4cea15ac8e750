/* tests/test_ble_link_oom.c - the BLE link when its queue cannot grow: a send that needs
 * more storage and gets none returns SIM_ENOMEM and leaves the link as it was, and the
 * data already queued still arrives intact and in order.
 *
 * Out-of-memory is injected by compiling models/ble/link.c into this test with realloc
 * renamed to oom_realloc, which fails on demand. The test defines every ble_link_* symbol,
 * so the linker never takes link.o from the static library for this executable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void *oom_realloc(void *p, size_t n);
#define realloc oom_realloc
#include "models/ble/link.c"
#undef realloc

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SEC          1000000000LL
#define RX_CAP       65536u

static int oom_fail_in = -1; /* fail the realloc this many calls from now; -1: never */
static unsigned oom_calls;

static void *oom_realloc(void *p, size_t n)
{
    oom_calls++;
    if (oom_fail_in >= 0 && oom_fail_in-- == 0)
        return NULL;
    return realloc(p, n);
}

struct fake {
    struct ble_link l;
    struct ble_link_ctx cx;
    int64_t timer_at;
    bool armed;
    uint8_t rx[RX_CAP], tx[RX_CAP];
    size_t rx_len, tx_len, n_deliv;
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
    (void)at;
    assert_int_equal(dir, BLE_LINK_C2P);
    assert_true(f->rx_len + n <= RX_CAP);
    memcpy(f->rx + f->rx_len, p, n);
    f->rx_len += n;
    f->n_deliv++;
}

static void run_until(struct fake *f, int64_t until)
{
    while (f->armed && f->timer_at <= until) {
        f->armed = false;
        assert_int_equal(ble_link_timer(&f->l, f->timer_at, &f->cx), 0);
        ble_link_check(&f->l);
    }
}

/* Send n bytes numbered from the running total; record them as sent if taken. */
static int f_send(struct fake *f, size_t n, int64_t now)
{
    uint8_t b[BLE_LINK_ATT_MTU_MAX];
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)((f->tx_len + i) * 7 + 1);
    int rc = ble_link_send(&f->l, BLE_LINK_C2P, b, n, now, &f->cx);
    if (rc == BLE_LINK_OK) {
        memcpy(f->tx + f->tx_len, b, n);
        f->tx_len += n;
    }
    return rc;
}

/* What a failed send must leave unchanged. */
struct snap {
    struct ble_link_queue q;
    int64_t timer_at;
    bool armed;
};

static struct snap snap_take(const struct fake *f)
{
    return (struct snap){.q = f->l.q[BLE_LINK_C2P], .timer_at = f->timer_at, .armed = f->armed};
}

/* EVIDENCE-OF: link.h: ble_link_send returns SIM_ENOMEM with the queue unchanged. */
static void test_failed_growth_leaves_the_link_consistent(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        unsigned n_before; /* SDUs queued first */
        size_t len;        /* bytes per SDU */
        int fail_in;       /* which realloc of the failing send fails: 0 bytes, 1 sdus */
    } c[] = {
        {"first send: no byte buffer yet", 0, 100, 0},
        {"first send: byte buffer taken, no SDU records", 0, 100, 1},
        {"byte buffer 1 KiB -> 2 KiB refused", 2, 495, 0},
        {"SDU records 16 -> 32 refused", 16, 10, 0},
        {"SDU records 8 -> 16 refused", 8, 10, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct fake *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->cx = (struct ble_link_ctx){
            .env = f, .timer_arm = f_arm, .timer_cancel = f_cancel, .deliver = f_deliver};
        struct ble_link_cfg cfg;
        ble_link_cfg_default(&cfg);
        assert_int_equal(ble_link_init(&f->l, &cfg, 1, 2), 0);
        assert_int_equal(ble_link_connect(&f->l, 0, &f->cx), 0);
        run_until(f, SEC);
        assert_int_equal(ble_link_state_get(&f->l), BLE_LINK_CONNECTED);
        int64_t now = SEC;
        for (unsigned k = 0; k < c[i].n_before; k++)
            assert_int_equal(f_send(f, c[i].len, now), BLE_LINK_OK);

        struct snap before = snap_take(f);
        oom_fail_in = c[i].fail_in;
        int rc = f_send(f, c[i].len, now);
        oom_fail_in = -1;
        if (rc != SIM_ENOMEM)
            fail_msg("%s: rc %d", c[i].name, rc);
        struct snap after = snap_take(f);
        const struct ble_link_queue *a = &after.q, *b = &before.q;
        if (a->end != b->end || a->first != b->first || a->acked != b->acked ||
            a->bytes_end != b->bytes_end || a->bytes_first != b->bytes_first ||
            after.armed != before.armed || after.timer_at != before.timer_at)
            fail_msg("%s: the failed send changed the queue", c[i].name);
        ble_link_check(&f->l);
        assert_int_equal(ble_link_pending_get(&f->l, BLE_LINK_C2P), c[i].n_before);

        /* What was queued arrives; the same send then succeeds. */
        assert_int_equal(f_send(f, c[i].len, now), BLE_LINK_OK);
        run_until(f, now + 5 * SEC);
        if (f->n_deliv != c[i].n_before + 1 || f->rx_len != f->tx_len ||
            memcmp(f->rx, f->tx, f->tx_len) != 0)
            fail_msg("%s: %zu SDUs, %zu of %zu bytes delivered", c[i].name, f->n_deliv, f->rx_len,
                     f->tx_len);
        ble_link_fini(&f->l);
        free(f);
    }
}

/* Out of memory while a long burst grows: every send either is taken or returns
 * SIM_ENOMEM, and what was taken arrives whole and in order. */
static void test_burst_with_refused_growth_delivers_what_was_taken(void **state)
{
    (void)state;
    for (int fail_at = 0; fail_at < 10; fail_at++) {
        struct fake *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->cx = (struct ble_link_ctx){
            .env = f, .timer_arm = f_arm, .timer_cancel = f_cancel, .deliver = f_deliver};
        struct ble_link_cfg cfg;
        ble_link_cfg_default(&cfg);
        assert_int_equal(ble_link_init(&f->l, &cfg, 1, 2), 0);
        assert_int_equal(ble_link_connect(&f->l, 0, &f->cx), 0);
        run_until(f, SEC);
        oom_calls = 0;
        size_t n_enomem = 0;
        for (int k = 0; k < 60; k++) {
            /* fail realloc number fail_at (a send may make two: bytes, then records) */
            if (n_enomem == 0 && oom_calls <= (unsigned)fail_at)
                oom_fail_in = fail_at - (int)oom_calls;
            int rc = f_send(f, 1 + (size_t)(k * 37) % 495, SEC);
            oom_fail_in = -1;
            assert_true(rc == BLE_LINK_OK || rc == SIM_ENOMEM);
            n_enomem += rc == SIM_ENOMEM;
            ble_link_check(&f->l);
        }
        run_until(f, 10 * SEC);
        assert_int_equal(n_enomem,
                         1); /* 10 reallocs in all: bytes 256 B to 16 KiB, records 8 to 64 */
        assert_int_equal(f->rx_len, f->tx_len);
        assert_memory_equal(f->rx, f->tx, f->tx_len);
        ble_link_fini(&f->l);
        free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_growth_leaves_the_link_consistent),
        cmocka_unit_test(test_burst_with_refused_growth_delivers_what_was_taken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
