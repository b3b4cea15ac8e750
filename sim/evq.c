/* sim/evq.c - the future event set: a 4-ary heap of packed 128-bit keys over a slot pool.
 *
 * Layout (chosen by measurement, bench/RESULTS.md):
 *   key[]        the heap: one 16-byte key per pending event, compared as one unsigned
 *                128-bit integer:   bits 127..64  at, sign bit flipped (so signed order ==
 *                                                 unsigned order)
 *                                   bits  63..24  seq (40 bits)
 *                                   bits  23..0   slot of the event's body
 *   body[]       the rest of each event (arg, target, timer, gen, kind), by value, in a
 *                slot that does not move while the event is pending; only keys move.
 *   free_slot[]  stack of unused slots; LIFO, so a pop followed by a push (the common case
 *                in a simulation step) reuses a body slot that is still in cache.
 * The four children of logical position p are 4p+1..4p+4. key points EVQ_PAD entries into a
 * 64-byte aligned block, so every group of four children fills exactly one cache line.
 *
 * Invariants:
 *  1. Logical positions 0..n-1 hold the pending keys in heap order, or 1..n while `hole`
 *     (position 0 is then vacant, see 4). Every position after them up to
 *     cap + EVQ_TAIL - 1 holds KEY_NONE, so a node's four children can be read without a
 *     bounds check, and a prefetch of its grandchildren stays inside the allocation.
 *  2. Each pending event owns exactly the body slot named in its key; free_slot holds every
 *     other slot below cap.
 *  3. seq is unique and below SIM_EVQ_SEQ_LIMIT, so keys are unique, never equal KEY_NONE, and
 *     (at, seq) is a total order with FIFO among equal times.
 *  4. Deferred root: pop takes the root and leaves the hole there; the next push fills it
 *     with one sift-down (instead of sifting the last key down and the new one up), and the
 *     next pop first refills it from the last key. In a simulation step (pop, then the
 *     handler schedules) this saves the refill from the last key and the new key's sift-up.
 *
 * Limits: 2^24 pending events (slot bits); seq has 40 bits and is renumbered, keeping the
 * order, when it runs out (once per 1.1e12 pushes, O(n log n)).
 */
#include "sim/evq.h"

#include <stdlib.h>
#include <string.h>

#include "sim/error.h"

#define EVQ_D         4 /* children per node */
#define EVQ_PAD       3 /* makes child groups (physical 4p+4..4p+7) line-aligned */
#define EVQ_SLOT_BITS 24
#define EVQ_SLOT_MASK ((1u << EVQ_SLOT_BITS) - 1u)
#define EVQ_MAX_CAP   ((size_t)1 << EVQ_SLOT_BITS)
#define EVQ_MIN_CAP   64
#define EVQ_TAIL      (EVQ_D * EVQ_D) /* sentinels after cap: children and prefetch reach */
#define KEY_NONE      (~(evq_key)0)

/* GCC and Clang on 64-bit targets; one compare and a cmov pick the smaller key. */
__extension__ typedef unsigned __int128 evq_key;

struct evq_body {
    uint64_t arg;
    uint32_t target;
    uint32_t timer;
    uint32_t gen;
    uint16_t kind;
};

struct sim_evq {
    evq_key *key;  /* logical position 0; EVQ_PAD entries into key_mem */
    void *key_mem; /* 64-byte aligned allocation behind key */
    struct evq_body *body;
    uint32_t *free_slot;
    size_t n;   /* pending events */
    size_t cap; /* slots, and keys before the sentinel tail */
    size_t n_free;
    uint64_t next_seq;
    bool hole; /* invariant 4 */
};

static inline evq_key key_make(int64_t at, uint64_t seq, uint32_t slot)
{
    uint64_t hi = (uint64_t)at ^ ((uint64_t)1 << 63);
    return ((evq_key)hi << 64) | (seq << EVQ_SLOT_BITS) | slot;
}

static inline int64_t key_at(evq_key k)
{
    return (int64_t)((uint64_t)(k >> 64) ^ ((uint64_t)1 << 63));
}

static inline uint64_t key_seq(evq_key k)
{
    return (uint64_t)k >> EVQ_SLOT_BITS;
}

static inline uint32_t key_slot(evq_key k)
{
    return (uint32_t)k & EVQ_SLOT_MASK;
}

/* Smallest of the four children starting at c0; returns its position and key.
 * Selecting values (not re-loading by index) keeps the dependency chain per heap level
 * to one load and two compare-and-select steps: the largest single gain in
 * bench/RESULTS.md (variant D4). */
static inline size_t min_child(const evq_key *key, size_t c0, evq_key *min)
{
    evq_key k0 = key[c0], k1 = key[c0 + 1], k2 = key[c0 + 2], k3 = key[c0 + 3];
    bool b01 = k1 < k0, b23 = k3 < k2;
    evq_key m01 = b01 ? k1 : k0, m23 = b23 ? k3 : k2;
    size_t i01 = c0 + b01, i23 = c0 + 2 + b23;
    bool b = m23 < m01;
    *min = b ? m23 : m01;
    return b ? i23 : i01;
}

/* Put x into the vacant root of a heap whose positions are 0..n-1 and restore order.
 * The next level's four child lines are prefetched while this level is compared, which
 * overlaps the cache misses of the lower levels. */
static void sift_down(evq_key *key, size_t n, evq_key x)
{
    size_t i = 0;
    for (;;) {
        size_t c0 = EVQ_D * i + 1;
        if (c0 >= n)
            break;
        size_t g = EVQ_D * c0 + 1;
        if (g < n) {
            __builtin_prefetch(&key[g]);
            __builtin_prefetch(&key[g + 4]);
            __builtin_prefetch(&key[g + 8]);
            __builtin_prefetch(&key[g + 12]);
        }
        evq_key m;
        size_t c = min_child(key, c0, &m);
        if (!(m < x))
            break;
        key[i] = m;
        i = c;
    }
    key[i] = x;
}

static void sift_up(evq_key *key, size_t i, evq_key x)
{
    while (i > 0) {
        size_t p = (i - 1) / EVQ_D;
        if (!(x < key[p]))
            break;
        key[i] = key[p];
        i = p;
    }
    key[i] = x;
}

/* Refill the vacant root with the last key (invariant 4). Requires hole && n > 0. */
static void fill_hole(struct sim_evq *q)
{
    evq_key x = q->key[q->n];
    q->key[q->n] = KEY_NONE;
    q->hole = false;
    sift_down(q->key, q->n, x);
}

/* Resize to cap slots. On failure the queue is unchanged (body and free_slot may have
 * grown, which is harmless) and SIM_ENOMEM is returned. Requires !hole. */
static int grow(struct sim_evq *q, size_t cap)
{
    if (cap <= q->cap || cap > EVQ_MAX_CAP)
        return SIM_ENOMEM;
    size_t bytes = (EVQ_PAD + cap + EVQ_TAIL) * sizeof(evq_key);
    void *mem = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    if (mem == NULL)
        return SIM_ENOMEM;
    struct evq_body *body = realloc(q->body, cap * sizeof(*body));
    if (body == NULL)
        goto fail;
    q->body = body;
    uint32_t *free_slot = realloc(q->free_slot, cap * sizeof(*free_slot));
    if (free_slot == NULL)
        goto fail;
    q->free_slot = free_slot;

    evq_key *key = (evq_key *)mem + EVQ_PAD;
    if (q->n > 0)
        memcpy(key, q->key, q->n * sizeof(*key));
    for (size_t i = q->n; i < cap + EVQ_TAIL; i++)
        key[i] = KEY_NONE;
    /* New slots go on the stack highest first, so they are handed out in ascending order. */
    for (size_t s = cap; s-- > q->cap;)
        q->free_slot[q->n_free++] = (uint32_t)s;
    free(q->key_mem);
    q->key_mem = mem;
    q->key = key;
    q->cap = cap;
    return 0;
fail:
    free(mem);
    return SIM_ENOMEM;
}

struct sim_evq *sim_evq_new(size_t capacity_hint)
{
    struct sim_evq *q = calloc(1, sizeof(*q));
    if (q == NULL)
        goto fail;
    size_t cap = capacity_hint < EVQ_MIN_CAP ? EVQ_MIN_CAP : capacity_hint;
    if (grow(q, cap < EVQ_MAX_CAP ? cap : EVQ_MAX_CAP) != 0)
        goto fail;
    return q;
fail:
    sim_evq_free(q);
    return NULL;
}

void sim_evq_free(struct sim_evq *q)
{
    if (q == NULL)
        return;
    free(q->key_mem);
    free(q->body);
    free(q->free_slot);
    free(q);
}

static int cmp_key(const void *a, const void *b)
{
    evq_key x = *(const evq_key *)a, y = *(const evq_key *)b;
    return (x > y) - (x < y);
}

void sim_evq_renumber(struct sim_evq *q)
{
    if (q->hole && q->n > 0)
        fill_hole(q);
    if (q->hole) {
        q->key[0] = KEY_NONE; /* empty queue: restore invariant 1 without a hole */
        q->hole = false;
    }
    /* An ascending array is a heap, so sorting and renumbering in place keeps invariant 1. */
    qsort(q->key, q->n, sizeof(*q->key), cmp_key);
    for (size_t i = 0; i < q->n; i++)
        q->key[i] = key_make(key_at(q->key[i]), i, key_slot(q->key[i]));
    q->next_seq = q->n;
}

/* Push *ev with sequence number seq (invariant 3 is the caller's). */
static int push_key(struct sim_evq *q, const struct sim_event *ev, uint64_t seq)
{
    /* A hole means a free position and a free slot: n < cap. */
    if (!q->hole && q->n == q->cap) {
        size_t cap = 2 * q->cap < EVQ_MAX_CAP ? 2 * q->cap : EVQ_MAX_CAP;
        if (grow(q, cap) != 0)
            return SIM_ENOMEM;
    }
    uint32_t slot = q->free_slot[--q->n_free];
    q->body[slot] = (struct evq_body){
        .arg = ev->arg, .target = ev->target, .timer = ev->timer, .gen = ev->gen, .kind = ev->kind};
    evq_key x = key_make(ev->at, seq, slot);
    if (q->hole) {
        q->hole = false;
        q->n++;
        sift_down(q->key, q->n, x);
        return 0;
    }
    sift_up(q->key, q->n++, x);
    return 0;
}

int sim_evq_push(struct sim_evq *q, const struct sim_event *ev)
{
    if (q->next_seq == SIM_EVQ_SEQ_LIMIT)
        sim_evq_renumber(q);
    int rc = push_key(q, ev, q->next_seq);
    if (rc == 0)
        q->next_seq++;
    return rc;
}

uint64_t sim_evq_seq_take(struct sim_evq *q)
{
    return q->next_seq++;
}

int sim_evq_push_seq(struct sim_evq *q, const struct sim_event *ev)
{
    return push_key(q, ev, ev->seq);
}

static void copy_out(const struct sim_evq *q, evq_key k, struct sim_event *out)
{
    const struct evq_body *b = &q->body[key_slot(k)];
    *out = (struct sim_event){.at = key_at(k),
                              .seq = key_seq(k),
                              .arg = b->arg,
                              .target = b->target,
                              .timer = b->timer,
                              .gen = b->gen,
                              .kind = b->kind};
}

bool sim_evq_pop(struct sim_evq *q, struct sim_event *out)
{
    if (q->n == 0)
        return false;
    if (q->hole)
        fill_hole(q);
    evq_key top = q->key[0];
    copy_out(q, top, out);
    q->free_slot[q->n_free++] = key_slot(top);
    q->n--;
    q->hole = true;
    return true;
}

/* The earliest key; with a vacant root it is the smallest child of the root. Requires n > 0. */
static evq_key top_key(const struct sim_evq *q)
{
    if (!q->hole)
        return q->key[0];
    evq_key m;
    min_child(q->key, 1, &m);
    return m;
}

bool sim_evq_peek(const struct sim_evq *q, struct sim_event *out)
{
    if (q->n == 0)
        return false;
    copy_out(q, top_key(q), out);
    return true;
}

int64_t sim_evq_peek_at(const struct sim_evq *q)
{
    return q->n == 0 ? SIM_TIME_MAX : key_at(top_key(q));
}

size_t sim_evq_size(const struct sim_evq *q)
{
    return q->n;
}

uint64_t sim_evq_next_seq(const struct sim_evq *q)
{
    return q->next_seq;
}
