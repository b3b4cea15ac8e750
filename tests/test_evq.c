/* tests/test_evq.c - the future event set (sim/evq.h): order, FIFO ties, growth, renumbering,
 * a 10^6-event comparison against a reference qsort by (time, seq), a randomized mix of
 * every operation against a sorted reference, and the hold model's order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/engine.h"
#include "sim/error.h"
#include "sim/evq.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_CASE     8

static struct sim_event ev_at(int64_t at, uint32_t target)
{
    return (struct sim_event){.at = at,
                              .arg = (uint64_t)target * 3u,
                              .target = target,
                              .timer = SIM_TIMER_NONE,
                              .gen = target ^ 0x5a5au,
                              .kind = (uint16_t)(target & 0xffu)};
}

/* Reference record: what the queue must give back, in (at, seq) order. */
struct ref {
    int64_t at;
    uint64_t seq;
    uint32_t target;
};

static int cmp_ref(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Pops one event and checks every field against the reference. */
static void expect_pop(struct sim_evq *q, const struct ref *want)
{
    struct sim_event got;
    assert_true(sim_evq_pop(q, &got));
    assert_int_equal(got.at, want->at);
    assert_int_equal(got.seq, want->seq);
    assert_int_equal(got.target, want->target);
    assert_int_equal(got.arg, (uint64_t)want->target * 3u);
    assert_int_equal(got.timer, SIM_TIMER_NONE);
    assert_int_equal(got.gen, want->target ^ 0x5a5au);
    assert_int_equal(got.kind, want->target & 0xffu);
}

/* ---- events pop in time order; equal times pop first in, first out ---- */
static const struct {
    const char *name;
    size_t n;
    int64_t at[MAX_CASE];
    uint32_t want_target[MAX_CASE]; /* target i was pushed i-th */
} order_cases[] = {
    {"ascending input pops unchanged", 4, {1, 2, 3, 4}, {0, 1, 2, 3}},
    {"descending input pops reversed", 4, {4, 3, 2, 1}, {3, 2, 1, 0}},
    {"equal times pop in push order", 5, {7, 7, 7, 7, 7}, {0, 1, 2, 3, 4}},
    {"ties keep push order among other times", 6, {5, 1, 5, 1, 3, 5}, {1, 3, 4, 0, 2, 5}},
    {"negative and extreme times order as signed",
     5,
     {0, -3, INT64_MAX, INT64_MIN, 5},
     {3, 1, 0, 4, 2}},
    {"single event", 1, {42}, {0}},
};

static void test_order_by_time_then_fifo(void **state)
{
    (void)state;
    for (size_t c = 0; c < ARRAY_LEN(order_cases); c++) {
        print_message("case: %s\n", order_cases[c].name);
        struct sim_evq *q = sim_evq_new(0);
        assert_non_null(q);
        for (size_t i = 0; i < order_cases[c].n; i++) {
            struct sim_event ev = ev_at(order_cases[c].at[i], (uint32_t)i);
            ev.seq = 999; /* ignored: the queue stamps its own sequence */
            assert_int_equal(sim_evq_push(q, &ev), 0);
        }
        assert_int_equal(sim_evq_size(q), order_cases[c].n);
        for (size_t i = 0; i < order_cases[c].n; i++) {
            uint32_t t = order_cases[c].want_target[i];
            struct ref want = {order_cases[c].at[t], t, t};
            expect_pop(q, &want);
        }
        struct sim_event none = {.at = -1};
        assert_false(sim_evq_pop(q, &none));
        assert_int_equal(none.at, -1); /* untouched when empty */
        sim_evq_free(q);
    }
}

/* ---- peek shows the earliest event without removing it ---- */
static void test_peek_does_not_remove(void **state)
{
    (void)state;
    struct sim_evq *q = sim_evq_new(0);
    assert_non_null(q);
    struct sim_event ev;
    assert_false(sim_evq_peek(q, &ev));
    assert_int_equal(sim_evq_peek_at(q), SIM_TIME_MAX);

    ev = ev_at(30, 0);
    assert_int_equal(sim_evq_push(q, &ev), 0);
    ev = ev_at(10, 1);
    assert_int_equal(sim_evq_push(q, &ev), 0);
    ev = ev_at(20, 2);
    assert_int_equal(sim_evq_push(q, &ev), 0);
    for (int rep = 0; rep < 2; rep++) {
        assert_true(sim_evq_peek(q, &ev));
        assert_int_equal(ev.at, 10);
        assert_int_equal(ev.target, 1);
        assert_int_equal(sim_evq_peek_at(q), 10);
    }
    assert_int_equal(sim_evq_size(q), 3);
    /* After a pop the root is refilled lazily; peek must still see the next event. */
    assert_true(sim_evq_pop(q, &ev));
    assert_int_equal(sim_evq_peek_at(q), 20);
    assert_true(sim_evq_peek(q, &ev));
    assert_int_equal(ev.target, 2);
    assert_int_equal(ev.seq, 2);
    assert_int_equal(sim_evq_size(q), 2);
    sim_evq_free(q);
}

/* ---- a queue created with no capacity grows by doubling and keeps its order ---- */
static void test_grows_from_default_capacity(void **state)
{
    (void)state;
    enum { N = 5000 };
    struct sim_evq *q = sim_evq_new(0);
    assert_non_null(q);
    for (uint32_t i = 0; i < N; i++) {
        struct sim_event ev = ev_at((int64_t)(N - i) / 2, i); /* pairs of equal times */
        assert_int_equal(sim_evq_push(q, &ev), 0);
    }
    assert_int_equal(sim_evq_size(q), N);
    assert_int_equal(sim_evq_next_seq(q), N);
    struct ref prev = {INT64_MIN, 0, 0};
    for (uint32_t i = 0; i < N; i++) {
        struct sim_event ev;
        assert_true(sim_evq_pop(q, &ev));
        struct ref cur = {ev.at, ev.seq, ev.target};
        assert_true(cmp_ref(&prev, &cur) < 0);
        assert_int_equal(ev.seq, ev.target); /* seq is the push index */
        prev = cur;
    }
    assert_int_equal(sim_evq_size(q), 0);
    sim_evq_free(q);
}

/* ---- interleaved pushes and pops (each pop leaves the root to the next push) match a
 * reference kept sorted by (time, seq) ---- */
static void test_interleaved_push_pop_matches_reference(void **state)
{
    (void)state;
    enum { OPS = 20000 };
    struct ref *pend = malloc(OPS * sizeof(*pend));
    assert_non_null(pend);
    size_t n_pend = 0;
    uint64_t seq = 0;
    int64_t now = 0;
    struct sim_evq *q = sim_evq_new(4);
    assert_non_null(q);
    srand(7);
    for (int op = 0; op < OPS; op++) {
        /* Pushes outnumber pops 3:2 so the queue both grows and drains. */
        if (n_pend > 0 && rand() % 5 < 2) {
            expect_pop(q, &pend[0]);
            now = pend[0].at;
            memmove(pend, pend + 1, (n_pend - 1) * sizeof(*pend));
            n_pend--;
            continue;
        }
        int64_t at = now + rand() % 50;
        uint32_t target = (uint32_t)seq;
        struct sim_event ev = ev_at(at, target);
        assert_int_equal(sim_evq_push(q, &ev), 0);
        /* Insert keeping pend sorted by (at, seq). */
        struct ref r = {at, seq++, target};
        size_t j = n_pend++;
        for (; j > 0 && cmp_ref(&pend[j - 1], &r) > 0; j--)
            pend[j] = pend[j - 1];
        pend[j] = r;
        assert_int_equal(sim_evq_size(q), n_pend);
    }
    for (size_t i = 0; i < n_pend; i++)
        expect_pop(q, &pend[i]);
    assert_int_equal(sim_evq_size(q), 0);
    sim_evq_free(q);
    free(pend);
}

/* ---- 10^6 random events (fixed seed, many duplicate times) pop in exactly the order of
 * a reference qsort by (time, seq) ---- */
static void test_million_random_events_match_qsort(void **state)
{
    (void)state;
    enum { N = 1000000, TIMES = 1000 }; /* ~1000 events share each time */
    struct ref *ref = malloc(N * sizeof(*ref));
    assert_non_null(ref);
    struct sim_evq *q = sim_evq_new(0);
    assert_non_null(q);
    uint64_t x = 0x9e3779b97f4a7c15u; /* xorshift64: same sequence on every libc */
    for (uint32_t i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t at = (int64_t)(x % TIMES) - TIMES / 2;
        struct sim_event ev = ev_at(at, i);
        assert_int_equal(sim_evq_push(q, &ev), 0);
        ref[i] = (struct ref){at, i, i};
    }
    qsort(ref, N, sizeof(*ref), cmp_ref);
    for (uint32_t i = 0; i < N; i++) {
        struct sim_event ev;
        /* One check per event keeps the test fast; fields are checked in detail above. */
        if (!sim_evq_pop(q, &ev) || ev.at != ref[i].at || ev.seq != ref[i].seq ||
            ev.target != ref[i].target)
            fail_msg("pop %u: got (%lld, %llu), want (%lld, %llu)", i, (long long)ev.at,
                     (unsigned long long)ev.seq, (long long)ref[i].at,
                     (unsigned long long)ref[i].seq);
    }
    assert_int_equal(sim_evq_size(q), 0);
    sim_evq_free(q);
    free(ref);
}

/* ---- trim: a queue with pending events is left alone; an empty one gives back its
 * arrays and afterwards orders events exactly as before, its seq numbering continued ---- */
static void test_trim_keeps_order_and_numbering(void **state)
{
    (void)state;
    enum { N = 3000, ROUNDS = 3 };
    struct ref *ref = malloc(N * sizeof(*ref));
    assert_non_null(ref);
    struct sim_evq *q = sim_evq_new(0);
    assert_non_null(q);
    uint64_t x = 0x2545f4914f6cdd1du, seq = 0;
    int64_t base = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (uint32_t i = 0; i < N; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            /* near and far times (every level), some equal */
            int64_t at = base + (int64_t)(x % 64 == 0 ? x % ((uint64_t)1 << 45) : x % 5000);
            struct sim_event ev = ev_at(at, i);
            assert_int_equal(sim_evq_push(q, &ev), 0);
            ref[i] = (struct ref){at, seq++, i};
            if (i == N / 2)
                sim_evq_trim(q); /* pending events: nothing changes */
        }
        assert_int_equal(sim_evq_size(q), N);
        qsort(ref, N, sizeof(*ref), cmp_ref);
        for (uint32_t i = 0; i < N; i++)
            expect_pop(q, &ref[i]);
        assert_int_equal(sim_evq_size(q), 0);
        sim_evq_trim(q);
        sim_evq_trim(q); /* twice is harmless */
        assert_int_equal(sim_evq_size(q), 0);
        assert_int_equal(sim_evq_peek_at(q), SIM_TIME_MAX);
        assert_int_equal(sim_evq_next_seq(q), seq);
        struct sim_event none;
        assert_false(sim_evq_pop(q, &none));
        base = ref[N - 1].at; /* the next round starts where this one ended */
    }
    sim_evq_renumber(q); /* on a trimmed queue: the numbering restarts at 0 */
    assert_int_equal(sim_evq_next_seq(q), 0);
    sim_evq_free(q);
    free(ref);
}

/* ---- renumbering (done by push when the 40-bit seq runs out) keeps the order ---- */
static void test_renumber_keeps_order(void **state)
{
    (void)state;
    static const int64_t at[] = {9, 3, 9, 3, 1, 9};
    struct sim_evq *q = sim_evq_new(0);
    assert_non_null(q);
    for (uint32_t i = 0; i < ARRAY_LEN(at); i++) {
        struct sim_event ev = ev_at(at[i], i);
        assert_int_equal(sim_evq_push(q, &ev), 0);
    }
    struct sim_event ev;
    assert_true(sim_evq_pop(q, &ev)); /* leaves the root vacant: renumber must cope */
    assert_int_equal(ev.target, 4);
    sim_evq_renumber(q);
    assert_int_equal(sim_evq_next_seq(q), 5);
    ev = ev_at(3, 6); /* after renumbering it is the newest of the time-3 events */
    assert_int_equal(sim_evq_push(q, &ev), 0);
    static const uint32_t want_after[] = {1, 3, 6, 0, 2, 5};
    static const uint64_t want_seq[] = {0, 1, 5, 2, 3, 4};
    for (size_t i = 0; i < ARRAY_LEN(want_after); i++) {
        assert_true(sim_evq_pop(q, &ev));
        assert_int_equal(ev.target, want_after[i]);
        assert_int_equal(ev.seq, want_seq[i]);
    }
    sim_evq_renumber(q); /* empty queue with a vacant root */
    assert_int_equal(sim_evq_next_seq(q), 0);
    ev = ev_at(1, 7);
    assert_int_equal(sim_evq_push(q, &ev), 0);
    assert_true(sim_evq_pop(q, &ev));
    assert_int_equal(ev.target, 7);
    assert_int_equal(ev.seq, 0);
    sim_evq_free(q);
}

/* ---- randomized: pushes at times from several distributions (equal to now, near, far,
 * before now, the extremes), deferred pushes with a seq taken earlier (sim_evq_seq_take,
 * then sim_evq_push_seq), pops, peeks and renumbering, against a reference kept sorted by
 * (time, seq). The queue moves keys between its tiers (bottom, buckets of every level) in
 * every way this mix can reach, and must pop exactly the reference's order. ---- */
static uint64_t xs_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int64_t random_time(uint64_t *x, int64_t now)
{
    uint64_t r = xs_next(x);
    switch (r % 16) {
    case 0:
    case 1:
        return now; /* equal times: FIFO by seq */
    case 2:
        return now + (int64_t)(r >> 8) % 4;
    case 3:
        return now - (int64_t)((r >> 8) % 1000); /* before now: still ordered exactly */
    case 4:
        return (r >> 8) & 1 ? INT64_MAX - (int64_t)((r >> 9) % 3)
                            : INT64_MIN + (int64_t)((r >> 9) % 3);
    case 5:
        return now + (int64_t)((r >> 8) % ((uint64_t)1 << 50)); /* far future */
    case 6:
        return now + (int64_t)((r >> 8) % 1000000000u);
    default:
        return now + (int64_t)((r >> 8) % 100000u); /* the bulk: near future */
    }
}

static void ref_insert(struct ref *pend, size_t *n_pend, struct ref r)
{
    size_t j = (*n_pend)++;
    for (; j > 0 && cmp_ref(&pend[j - 1], &r) > 0; j--)
        pend[j] = pend[j - 1];
    pend[j] = r;
}

static void test_randomized_against_reference(void **state)
{
    (void)state;
    enum { OPS = 400000, MAX_PEND = 40000, MAX_DEFER = 64 };
    struct ref *pend = malloc(MAX_PEND * sizeof(*pend));
    struct ref deferred[MAX_DEFER];
    assert_non_null(pend);
    size_t n_pend = 0, n_def = 0;
    int64_t now = 0;
    uint64_t x = 0x2545f4914f6cdd1du;
    struct sim_evq *q = sim_evq_new(0);
    assert_non_null(q);
    for (int op = 0; op < OPS; op++) {
        uint64_t r = xs_next(&x);
        /* Phases of growth and shrinkage, so the queue sees both small and large sizes. */
        unsigned push_weight = (op / 50000) % 2 == 0 ? 6 : 4;
        if (r % 1000 == 0 || (n_pend + n_def + 1 >= MAX_PEND)) {
            /* Renumber as the engine does: deferred seqs are pushed first. */
            for (size_t i = 0; i < n_def; i++) {
                struct sim_event ev = ev_at(deferred[i].at, deferred[i].target);
                ev.seq = deferred[i].seq;
                assert_int_equal(sim_evq_push_seq(q, &ev), 0);
                ref_insert(pend, &n_pend, deferred[i]);
            }
            n_def = 0;
            sim_evq_renumber(q);
            for (size_t i = 0; i < n_pend; i++)
                pend[i].seq = i;
            assert_int_equal(sim_evq_next_seq(q), n_pend);
            if (n_pend + 1 >= MAX_PEND)
                while (n_pend > MAX_PEND / 2) {
                    expect_pop(q, &pend[0]);
                    memmove(pend, pend + 1, (n_pend - 1) * sizeof(*pend));
                    n_pend--;
                }
            continue;
        }
        unsigned kind = (unsigned)((r >> 10) % 10);
        if (kind < push_weight) {
            int64_t at = random_time(&x, now);
            uint32_t target = (uint32_t)(r >> 32);
            if ((r >> 20) % 8 == 0 && n_def < MAX_DEFER) {
                /* Take a seq now, push it later (a deferred timer arming). */
                deferred[n_def++] = (struct ref){at, sim_evq_seq_take(q), target};
                continue;
            }
            struct sim_event ev = ev_at(at, target);
            uint64_t seq = sim_evq_next_seq(q);
            assert_int_equal(sim_evq_push(q, &ev), 0);
            ref_insert(pend, &n_pend, (struct ref){at, seq, target});
        } else if (kind < push_weight + 1 && n_def > 0) {
            size_t i = (size_t)(r >> 40) % n_def;
            struct sim_event ev = ev_at(deferred[i].at, deferred[i].target);
            ev.seq = deferred[i].seq;
            assert_int_equal(sim_evq_push_seq(q, &ev), 0);
            ref_insert(pend, &n_pend, deferred[i]);
            deferred[i] = deferred[--n_def];
        } else if (n_pend > 0) {
            expect_pop(q, &pend[0]);
            if (pend[0].at > now && pend[0].at < INT64_MAX / 2)
                now = pend[0].at;
            memmove(pend, pend + 1, (n_pend - 1) * sizeof(*pend));
            n_pend--;
        }
        assert_int_equal(sim_evq_size(q), n_pend);
        assert_int_equal(sim_evq_peek_at(q), n_pend > 0 ? pend[0].at : SIM_TIME_MAX);
    }
    for (size_t i = 0; i < n_def; i++) {
        struct sim_event ev = ev_at(deferred[i].at, deferred[i].target);
        ev.seq = deferred[i].seq;
        assert_int_equal(sim_evq_push_seq(q, &ev), 0);
        ref_insert(pend, &n_pend, deferred[i]);
    }
    for (size_t i = 0; i < n_pend; i++)
        expect_pop(q, &pend[i]);
    assert_int_equal(sim_evq_size(q), 0);
    sim_evq_free(q);
    free(pend);
}

/* ---- the hold model at three sizes (one pop, one push later by an exponential-like
 * increment, as bench/bench_hold.c) pops exactly in (time, seq) order ---- */
static void test_hold_model_pops_in_order(void **state)
{
    (void)state;
    static const size_t sizes[] = {10, 1000, 100000};
    for (size_t s = 0; s < ARRAY_LEN(sizes); s++) {
        struct sim_evq *q = sim_evq_new(0);
        assert_non_null(q);
        uint64_t x = 0x9e3779b97f4a7c15u + s;
        for (size_t i = 0; i < sizes[s]; i++) {
            struct sim_event ev = ev_at((int64_t)(xs_next(&x) % 1000000u), (uint32_t)i);
            assert_int_equal(sim_evq_push(q, &ev), 0);
        }
        struct sim_event prev = {.at = INT64_MIN}, ev;
        for (int i = 0; i < 1000000; i++) {
            assert_true(sim_evq_pop(q, &ev));
            if (ev.at < prev.at || (ev.at == prev.at && ev.seq <= prev.seq))
                fail_msg("size %zu, pop %d: (%lld, %llu) after (%lld, %llu)", sizes[s], i,
                         (long long)ev.at, (unsigned long long)ev.seq, (long long)prev.at,
                         (unsigned long long)prev.seq);
            prev = ev;
            /* -ln(u) * 1e6 without libm: a geometric-like draw from the leading zeros. */
            uint64_t r = xs_next(&x);
            ev.at += (int64_t)(__builtin_clzll(r | 1) * 700000 + (r % 1400000u));
            if (i % 7 == 0)
                ev.at = prev.at; /* some equal times */
            assert_int_equal(sim_evq_push(q, &ev), 0);
        }
        assert_int_equal(sim_evq_size(q), sizes[s]);
        sim_evq_free(q);
    }
}

/* ---- differential: the hold model at several sizes and time scales against a reference
 * binary heap on (at, seq). The scales make the buckets that move to the bottom narrow
 * (keys sorted by their 64-bit offset within the bucket) and wide (2^23 ns and more,
 * sorted as full keys), with runs of equal times; every popped event must be the
 * reference's, every field. ---- */
static void ref_heap_push(struct ref *h, size_t *n, struct ref r)
{
    size_t i = (*n)++;
    while (i > 0 && cmp_ref(&r, &h[(i - 1) / 2]) < 0) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = r;
}

static struct ref ref_heap_pop(struct ref *h, size_t *n)
{
    struct ref top = h[0], x = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && cmp_ref(&h[c + 1], &h[c]) < 0)
            c++;
        if (cmp_ref(&h[c], &x) >= 0)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
    return top;
}

static void test_hold_model_matches_reference_heap(void **state)
{
    (void)state;
    static const struct {
        size_t n;
        uint64_t mean_ns; /* of the increments */
    } cases[] = {
        {1000, 1000000}, {20000, 1000000}, {20000, 1}, {1000, 4000000000u}, {50000, 50000000}};
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        size_t n_ref = 0;
        struct ref *h = malloc(cases[c].n * sizeof(*h));
        struct sim_evq *q = sim_evq_new(0);
        assert_non_null(h);
        assert_non_null(q);
        uint64_t x = 0x243f6a8885a308d3u + c;
        for (size_t i = 0; i < cases[c].n; i++) {
            struct sim_event ev =
                ev_at((int64_t)(xs_next(&x) % (cases[c].mean_ns * 8 + 1)), (uint32_t)i);
            ref_heap_push(h, &n_ref, (struct ref){ev.at, sim_evq_next_seq(q), ev.target});
            assert_int_equal(sim_evq_push(q, &ev), 0);
        }
        for (int i = 0; i < 300000; i++) {
            struct ref want = ref_heap_pop(h, &n_ref);
            expect_pop(q, &want);
            /* An exponential-like increment: leading zeros of a uniform draw, scaled. */
            uint64_t r = xs_next(&x), m = cases[c].mean_ns;
            int64_t at = want.at + (int64_t)((uint64_t)__builtin_clzll(r | 1) * m * 7 / 10 +
                                             (r >> 32) % (m * 7 / 5 + 1));
            if (i % 11 == 0)
                at = want.at; /* equal times */
            struct sim_event ev = ev_at(at, want.target);
            ref_heap_push(h, &n_ref, (struct ref){at, sim_evq_next_seq(q), want.target});
            assert_int_equal(sim_evq_push(q, &ev), 0);
        }
        while (n_ref > 0) {
            struct ref want = ref_heap_pop(h, &n_ref);
            expect_pop(q, &want);
        }
        assert_int_equal(sim_evq_size(q), 0);
        free(h);
        sim_evq_free(q);
    }
}

/* ---- differential, phases: the hold model whose mean increment changes by 10^3 and more
 * between phases (1 ns, 1 s, 1 us, 2^40 ns), so the queue re-estimates its grain in both
 * directions and moves every pending key to the new grain, mixed with equal times, pushes
 * of a seq taken earlier (sim_evq_push_seq), pushes before the last popped time, and
 * renumbering; against the reference heap, every field of every pop. ---- */
static void diff_push(struct sim_evq *q, struct ref *h, size_t *n_ref, int64_t at, uint32_t target)
{
    struct sim_event ev = ev_at(at, target);
    ref_heap_push(h, n_ref, (struct ref){at, sim_evq_next_seq(q), target});
    assert_int_equal(sim_evq_push(q, &ev), 0);
}

static void diff_renumber(struct sim_evq *q, struct ref *h, size_t n_ref)
{
    /* The reference's order is the queue's: renumber it by popping a copy in order. */
    struct ref *tmp = malloc((n_ref + 1) * sizeof(*tmp));
    assert_non_null(tmp);
    size_t n_tmp = n_ref;
    memcpy(tmp, h, n_ref * sizeof(*h));
    for (size_t i = 0; i < n_ref; i++) {
        struct ref r = ref_heap_pop(tmp, &n_tmp);
        r.seq = i;
        h[i] = r; /* sorted, hence a heap */
    }
    free(tmp);
    sim_evq_renumber(q);
    assert_int_equal(sim_evq_next_seq(q), n_ref);
}

static void test_phases_regrain_against_reference_heap(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        size_t n;
        uint64_t mean_ns;
        int holds;
    } phases[] = {
        {"dense: 1 ns apart, many equal times", 30000, 1, 120000},
        {"sparse: 1 s apart", 3000, 1000000000u, 60000},
        {"1 us apart, more pending", 60000, 1000, 200000},
        {"2^40 ns apart: the top levels", 2000, (uint64_t)1 << 40, 40000},
        {"back to dense", 5000, 3, 60000},
    };
    enum { MAX_N = 70000, MAX_DEFER = 32 };
    struct ref *h = malloc(MAX_N * sizeof(*h));
    struct ref deferred[MAX_DEFER];
    size_t n_ref = 0, n_def = 0;
    assert_non_null(h);
    struct sim_evq *q = sim_evq_new(0);
    assert_non_null(q);
    uint64_t x = 0x6a09e667f3bcc908u;
    int64_t now = 0;
    uint32_t target = 0;
    for (size_t p = 0; p < ARRAY_LEN(phases); p++) {
        print_message("phase: %s\n", phases[p].name);
        uint64_t m = phases[p].mean_ns;
        while (n_ref < phases[p].n)
            diff_push(q, h, &n_ref, now + (int64_t)(xs_next(&x) % (m * 4 + 1)), target++);
        while (n_ref > phases[p].n) {
            struct ref want = ref_heap_pop(h, &n_ref);
            expect_pop(q, &want);
            now = want.at;
        }
        for (int i = 0; i < phases[p].holds; i++) {
            uint64_t r = xs_next(&x);
            if (r % 5000 == 0) {
                for (size_t j = 0; j < n_def; j++) { /* as the engine: deferred first */
                    struct sim_event ev = ev_at(deferred[j].at, deferred[j].target);
                    ev.seq = deferred[j].seq;
                    assert_int_equal(sim_evq_push_seq(q, &ev), 0);
                    ref_heap_push(h, &n_ref, deferred[j]);
                }
                n_def = 0;
                diff_renumber(q, h, n_ref);
            }
            struct ref want = ref_heap_pop(h, &n_ref);
            expect_pop(q, &want);
            if (want.at > now)
                now = want.at;
            assert_int_equal(sim_evq_peek_at(q), n_ref > 0 ? h[0].at : SIM_TIME_MAX);
            int64_t at = now + (int64_t)((uint64_t)__builtin_clzll(r | 1) * m * 7 / 10 +
                                         (r >> 32) % (m * 7 / 5 + 1));
            switch (r % 13) {
            case 0:
                at = now; /* equal to the last popped time */
                break;
            case 1:
                at = now - (int64_t)((r >> 20) % (m + 1)); /* before it */
                break;
            case 2:
                if (n_def < MAX_DEFER) { /* take a seq now, push later with it */
                    deferred[n_def++] = (struct ref){at, sim_evq_seq_take(q), want.target};
                    continue;
                }
                break;
            case 3:
                if (n_def > 0) {
                    size_t j = (size_t)(r >> 40) % n_def;
                    struct sim_event ev = ev_at(deferred[j].at, deferred[j].target);
                    ev.seq = deferred[j].seq;
                    assert_int_equal(sim_evq_push_seq(q, &ev), 0);
                    ref_heap_push(h, &n_ref, deferred[j]);
                    deferred[j] = deferred[--n_def];
                }
                break;
            default:
                break;
            }
            diff_push(q, h, &n_ref, at, want.target);
        }
    }
    for (size_t j = 0; j < n_def; j++) {
        struct sim_event ev = ev_at(deferred[j].at, deferred[j].target);
        ev.seq = deferred[j].seq;
        assert_int_equal(sim_evq_push_seq(q, &ev), 0);
        ref_heap_push(h, &n_ref, deferred[j]);
    }
    while (n_ref > 0) {
        struct ref want = ref_heap_pop(h, &n_ref);
        expect_pop(q, &want);
    }
    assert_int_equal(sim_evq_size(q), 0);
    free(h);
    sim_evq_free(q);
}

/* ---- equal times in bulk: thousands of events at one time, pushed with seqs taken
 * earlier in reverse and shuffled order (so the bucket that holds them is far from seq
 * order), then more pushes at that time and before it while they pop; every gap width
 * from 1 ns to 2^62 ns after them, and times next to INT64_MAX and INT64_MIN (the top
 * digit, and a bucket whose end is past 2^64). ---- */
static void test_bulk_equal_times_and_extreme_gaps(void **state)
{
    (void)state;
    enum { BURST = 3000 };
    struct ref *h = malloc(5 * BURST * sizeof(*h));
    assert_non_null(h);
    size_t n_ref = 0;
    struct sim_evq *q = sim_evq_new(0);
    assert_non_null(q);
    uint64_t x = 0xbb67ae8584caa73bu;
    /* A steady stream first, so that the grain is coarse (not 1 ns) when the burst comes. */
    int64_t now = 1000000;
    for (uint32_t i = 0; i < 2000; i++)
        diff_push(q, h, &n_ref, now + (int64_t)(xs_next(&x) % 2000000), 500000 + i);
    for (int i = 0; i < 20000; i++) {
        diff_push(q, h, &n_ref, now + (int64_t)(xs_next(&x) % 2000000), (uint32_t)i);
        struct ref want = ref_heap_pop(h, &n_ref);
        expect_pop(q, &want);
        now = want.at;
    }
    int64_t t = now + 50777; /* a few grains ahead: in a bucket, not the bottom */
    uint64_t seqs[BURST];
    for (size_t i = 0; i < BURST; i++)
        seqs[i] = sim_evq_seq_take(q);
    for (size_t i = 0; i < BURST; i++) { /* reverse, with every 7th swapped further */
        size_t j = BURST - 1 - i;
        if (i % 7 == 0 && j >= 5)
            j -= 5;
        else if (i % 7 == 5)
            j += 5;
        struct sim_event ev = ev_at(t, (uint32_t)(100000 + j));
        ev.seq = seqs[j];
        assert_int_equal(sim_evq_push_seq(q, &ev), 0);
        ref_heap_push(h, &n_ref, (struct ref){t, seqs[j], (uint32_t)(100000 + j)});
    }
    for (unsigned b = 0; b < 63; b++) /* every power-of-two gap */
        diff_push(q, h, &n_ref, t + (int64_t)(((uint64_t)1 << b) >> 1), 200000 + b);
    static const int64_t extremes[] = {INT64_MAX,     INT64_MAX - 1,   INT64_MAX,       INT64_MIN,
                                       INT64_MIN + 1, INT64_MAX - 255, INT64_MAX - 4096};
    for (size_t i = 0; i < ARRAY_LEN(extremes); i++)
        diff_push(q, h, &n_ref, extremes[i], 300000 + (uint32_t)i);
    uint32_t target = 400000;
    while (n_ref > 0) {
        struct ref want = ref_heap_pop(h, &n_ref);
        expect_pop(q, &want);
        if (want.at == t && target < 400000 + BURST) { /* pushes at the popped time, before it */
            diff_push(q, h, &n_ref, t, target++);
            int64_t before = t - 1 - (int64_t)(target % 3);
            diff_push(q, h, &n_ref, before, target++);
        }
    }
    assert_int_equal(sim_evq_size(q), 0);
    /* Empty again: the next pushes may be anywhere, before everything popped so far. */
    diff_push(q, h, &n_ref, INT64_MIN, 1);
    diff_push(q, h, &n_ref, 5, 2);
    diff_push(q, h, &n_ref, INT64_MIN, 3);
    while (n_ref > 0) {
        struct ref want = ref_heap_pop(h, &n_ref);
        expect_pop(q, &want);
    }
    free(h);
    sim_evq_free(q);
}

/* ---- regression (found by running every scenario against the previous queue): when the
 * bottom is refilled from level 0 and stops before a grain of more than 32 keys, that grain
 * stays in its bucket, so a later push at its time must queue behind its keys, not go to
 * the bottom ahead of them ---- */
static void test_full_grain_left_in_bucket_keeps_order(void **state)
{
    (void)state;
    struct ref h[64];
    size_t n_ref = 0;
    struct sim_evq *q = sim_evq_new(0);
    assert_non_null(q);
    diff_push(q, h, &n_ref, 10, 0); /* the bottom */
    diff_push(q, h, &n_ref, 20, 1); /* a grain of one key */
    for (uint32_t i = 0; i < 40; i++)
        diff_push(q, h, &n_ref, 30, 2 + i); /* a grain of 40 keys, same bitmap word */
    struct ref want = ref_heap_pop(h, &n_ref);
    expect_pop(q, &want);            /* refills: takes the grain at 20, not the one at 30 */
    diff_push(q, h, &n_ref, 30, 50); /* behind the 40 keys at 30 */
    diff_push(q, h, &n_ref, 20, 51); /* behind the key at 20 */
    while (n_ref > 0) {
        want = ref_heap_pop(h, &n_ref);
        expect_pop(q, &want);
    }
    sim_evq_free(q);
}

static void test_free_accepts_null(void **state)
{
    (void)state;
    sim_evq_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_by_time_then_fifo),
        cmocka_unit_test(test_peek_does_not_remove),
        cmocka_unit_test(test_grows_from_default_capacity),
        cmocka_unit_test(test_interleaved_push_pop_matches_reference),
        cmocka_unit_test(test_million_random_events_match_qsort),
        cmocka_unit_test(test_trim_keeps_order_and_numbering),
        cmocka_unit_test(test_renumber_keeps_order),
        cmocka_unit_test(test_randomized_against_reference),
        cmocka_unit_test(test_hold_model_pops_in_order),
        cmocka_unit_test(test_hold_model_matches_reference_heap),
        cmocka_unit_test(test_phases_regrain_against_reference_heap),
        cmocka_unit_test(test_bulk_equal_times_and_extreme_gaps),
        cmocka_unit_test(test_full_grain_left_in_bucket_keeps_order),
        cmocka_unit_test(test_free_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
