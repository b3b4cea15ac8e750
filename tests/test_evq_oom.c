/* tests/test_evq_oom.c - the event queue (sim/evq.h) when memory runs out: creation fails
 * cleanly, a push that needs to grow and cannot returns SIM_ENOMEM with the queue
 * unchanged, and a push after a pop never allocates, whatever the times (the bucket chunk
 * pool is reserved for every pending key, sim/evq.c).
 *
 * Out-of-memory is injected by compiling sim/evq.c into this test with calloc, realloc and
 * aligned_alloc renamed to functions that fail on demand. The test defines every sim_evq_*
 * symbol, so the linker never takes evq.o from the static library for this executable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void *oom_calloc(size_t k, size_t n);
static void *oom_realloc(void *p, size_t n);
static void *oom_aligned_alloc(size_t align, size_t n);
#define calloc        oom_calloc
#define realloc       oom_realloc
#define aligned_alloc oom_aligned_alloc
#include "sim/evq.c"
#undef calloc
#undef realloc
#undef aligned_alloc

static int oom_fail_in = -1; /* fail the allocation this many calls from now; -1: never */
static bool oom_always;      /* fail every allocation */
static unsigned oom_calls;

static bool oom_fail(void)
{
    oom_calls++;
    return oom_always || (oom_fail_in >= 0 && oom_fail_in-- == 0);
}

static void *oom_calloc(size_t k, size_t n)
{
    return oom_fail() ? NULL : calloc(k, n);
}

static void *oom_realloc(void *p, size_t n)
{
    return oom_fail() ? NULL : realloc(p, n);
}

static void *oom_aligned_alloc(size_t align, size_t n)
{
    return oom_fail() ? NULL : aligned_alloc(align, n);
}

static void oom_reset(void)
{
    oom_fail_in = -1;
    oom_always = false;
    oom_calls = 0;
}

static uint64_t xs_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Pops everything and checks (at, seq) strictly increases; returns how many popped. */
static size_t drain_in_order(struct sim_evq *q)
{
    struct sim_event prev = {.at = INT64_MIN}, ev;
    size_t n = 0;
    bool first = true;
    while (sim_evq_pop(q, &ev)) {
        if (!first && (ev.at < prev.at || (ev.at == prev.at && ev.seq <= prev.seq)))
            fail_msg("pop %zu: (%lld, %llu) after (%lld, %llu)", n, (long long)ev.at,
                     (unsigned long long)ev.seq, (long long)prev.at, (unsigned long long)prev.seq);
        assert_int_equal(ev.target, (uint32_t)ev.arg); /* the body travelled with its key */
        prev = ev;
        first = false;
        n++;
    }
    return n;
}

/* ---- sim_evq_new returns NULL, and frees what it took, whichever allocation fails ---- */
static void test_new_fails_cleanly_at_every_allocation(void **state)
{
    (void)state;
    oom_reset();
    struct sim_evq *q = sim_evq_new(1000);
    assert_non_null(q);
    unsigned calls = oom_calls;
    sim_evq_free(q);
    assert_true(calls >= 2);
    for (unsigned i = 0; i < calls; i++) {
        oom_reset();
        oom_fail_in = (int)i;
        assert_null(sim_evq_new(1000)); /* ASan reports anything left behind */
    }
    oom_reset();
}

/* ---- a push into a full queue whose arrays cannot grow returns SIM_ENOMEM, and the
 * queue, its size and its sequence counter are as before; later pushes succeed ---- */
static void test_failed_growth_leaves_queue_unchanged(void **state)
{
    (void)state;
    oom_reset();
    struct sim_evq *q = sim_evq_new(64);
    assert_non_null(q);
    uint64_t x = 0x3c6ef372fe94f82bu;
    for (uint32_t i = 0; i < 64; i++) {
        struct sim_event ev = {.at = (int64_t)(xs_next(&x) % 50), .target = i, .arg = i};
        assert_int_equal(sim_evq_push(q, &ev), 0);
    }
    struct sim_event ev;
    assert_true(sim_evq_pop(q, &ev)); /* a vacant root or a partly used run, as in a run */
    ev.at += 3;
    assert_int_equal(sim_evq_push(q, &ev), 0);
    for (unsigned i = 0; i < 5; i++) {
        oom_reset();
        oom_fail_in = (int)i;
        struct sim_event more = {.at = 7, .target = 1000 + i, .arg = 1000 + i};
        assert_int_equal(sim_evq_push(q, &more), SIM_ENOMEM);
        assert_int_equal(sim_evq_size(q), 64);
        assert_int_equal(sim_evq_next_seq(q), 65);
        more.seq = sim_evq_next_seq(q) - 1; /* an old seq: push_seq fails alike */
        oom_reset();
        oom_fail_in = (int)i;
        assert_int_equal(sim_evq_push_seq(q, &more), SIM_ENOMEM);
        assert_int_equal(sim_evq_size(q), 64);
    }
    oom_reset();
    struct sim_event more = {.at = 7, .target = 2000, .arg = 2000};
    assert_int_equal(sim_evq_push(q, &more), 0);
    assert_int_equal(drain_in_order(q), 65);
    sim_evq_free(q);
    oom_reset();
}

/* ---- a trimmed queue allocates again at its next push: when that fails, the push
 * returns SIM_ENOMEM and the queue stays empty with its numbering; a later push works ---- */
static void test_push_after_trim_fails_cleanly(void **state)
{
    (void)state;
    oom_reset();
    struct sim_evq *q = sim_evq_new(0);
    assert_non_null(q);
    struct sim_event ev = {.at = 5, .target = 1, .arg = 1};
    assert_int_equal(sim_evq_push(q, &ev), 0);
    assert_true(sim_evq_pop(q, &ev));
    sim_evq_trim(q);
    assert_null(q->lv);
    assert_int_equal(q->cap, 0);
    for (int k = 0; k < 6; k++) { /* each allocation of the regrowth in turn */
        oom_fail_in = k;
        ev = (struct sim_event){.at = 7, .target = 2, .arg = 2};
        int rc = sim_evq_push(q, &ev);
        oom_fail_in = -1;
        if (rc == 0) {
            assert_true(k >= 5); /* the tables (kept from the second try), then 5 arrays */
            break;
        }
        assert_int_equal(rc, SIM_ENOMEM);
        assert_int_equal(sim_evq_size(q), 0);
        assert_int_equal(sim_evq_next_seq(q), 1);
    }
    assert_true(sim_evq_pop(q, &ev));
    assert_int_equal(ev.at, 7);
    assert_int_equal(ev.seq, 1);
    sim_evq_free(q);
    oom_reset();
}

/* ---- with every allocation failing, a full queue keeps working as long as each push
 * follows a pop: times equal to the popped one, near, far (every level of buckets), before
 * it and at the extremes, plain pushes and pushes with a seq taken earlier, through
 * changes of the time scale (so keys move between grains) ---- */
static void test_push_after_pop_never_allocates(void **state)
{
    (void)state;
    static const size_t sizes[] = {64, 1000, 20000};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        oom_reset();
        struct sim_evq *q = sim_evq_new(sizes[s]);
        assert_non_null(q);
        uint64_t x = 0xa54ff53a5f1d36f1u + s;
        size_t cap = q->cap;
        for (uint32_t i = 0; i < cap; i++) {
            struct sim_event ev = {.at = (int64_t)(xs_next(&x) % 1000000), .target = i, .arg = i};
            assert_int_equal(sim_evq_push(q, &ev), 0);
        }
        assert_int_equal(sim_evq_size(q), cap);
        oom_always = true;
        int64_t scale = 1000;
        for (int i = 0; i < 300000; i++) {
            if (i % 50000 == 0)
                scale = scale == 1000 ? 3 : scale == 3 ? 1000000000 : 1000;
            struct sim_event ev;
            assert_true(sim_evq_pop(q, &ev));
            uint64_t r = xs_next(&x);
            int64_t at = ev.at;
            switch (ev.at > INT64_MAX / 2 ? 0 : r % 8) { /* past an extreme: equal times */
            case 0:
                break; /* equal */
            case 1:
                at -= (int64_t)((r >> 8) % 100); /* before the popped time */
                break;
            case 2: /* far: the top levels, now and then the last representable times */
                at = (r >> 8) % 16 == 0 ? INT64_MAX - (int64_t)((r >> 12) % 5)
                                        : at + ((int64_t)1 << 40);
                break;
            default:
                at += (int64_t)((r >> 8) % (uint64_t)(4 * scale));
                break;
            }
            ev.at = at;
            if (r % 3 == 0) {
                ev.seq = sim_evq_seq_take(q);
                assert_int_equal(sim_evq_push_seq(q, &ev), 0);
            } else {
                assert_int_equal(sim_evq_push(q, &ev), 0);
            }
        }
        assert_int_equal(sim_evq_size(q), cap);
        assert_int_equal(drain_in_order(q), cap);
        oom_always = false;
        sim_evq_free(q);
    }
    oom_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_fails_cleanly_at_every_allocation),
        cmocka_unit_test(test_failed_growth_leaves_queue_unchanged),
        cmocka_unit_test(test_push_after_pop_never_allocates),
        cmocka_unit_test(test_push_after_trim_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
