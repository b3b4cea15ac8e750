/* sim/evq.c - the future event set: a radix heap over time grains, above a small sorted
 * bottom.
 *
 * Keys. Every pending event has one 16-byte key, compared as one unsigned 128-bit integer:
 *   bits 127..64  u = at with its sign bit flipped (so signed order == unsigned order)
 *   bits  63..24  seq (40 bits)
 *   bits  23..0   slot of the event's body
 * The body (arg, target, timer, gen, kind) stays in body[slot] while the event is pending;
 * only keys move. free_slot[] is a LIFO stack of unused slots, so a pop followed by a push
 * (the common case in a simulation step) reuses a body slot that is still in cache.
 *
 * Grains. Time is cut into grains of 2^g ns; a key's grain is u >> g. g is chosen from the
 * mean time between the keys that reach the bottom, so that a grain holds about
 * EVQ_PER_GRAIN of them (estimate(): re-estimated every max(n, EVQ_EST_MIN) keys, changed
 * only by a factor of 4 or more; changing it moves every key, O(n), so O(1) per key).
 *
 * Structure: a radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, "Faster algorithms for the
 * shortest path problem", J. ACM 37(2), 1990) on grains, with a 2^EVQ_BITS0-way lowest
 * digit and 2^EVQ_BITS-way digits above it. `last` is the last grain in the bottom. Keys live
 * in one of two tiers:
 *   bottom   every key whose grain is <= last. Pops come from here. Usually a sorted run
 *            key[lo..lo+heap_n) (pop = take the first); a run that a push would have to
 *            shift or compact by more than EVQ_SORTED_MAX keys (many equal times, or a push
 *            far before last) is kept as a 4-ary heap in key[0..heap_n) instead.
 *   buckets  every key whose grain c is > last, in the bucket of the highest digit in which
 *            c differs from last (c ^ last) and of c's value of that digit: level 0 (the
 *            low EVQ_BITS0 bits) has one bucket per grain, level L > 0 one per value of
 *            digit L. Unsorted. A push costs a shift, an xor, a count of leading zeros and
 *            an append, whatever the time gap. Bucket index order is time order: a lower
 *            level shares more high digits with last, and within a level the digit decides.
 * When the bottom runs empty, the first non-empty bucket is found by a bitmap search
 * (summary word, then bitmap word). A level 0 bucket is one grain: the grains of its bitmap
 * word move into the bottom in index order, which is time order, until EVQ_BATCH keys have
 * moved (take_grains); only the keys of one grain (one or two, usually) need a sort, and a
 * level 0 bucket keeps its first key in first[], so most grains never take a chunk. A bucket
 * of level L > 0 with at most EVQ_RANK_MAX keys moves into the bottom too (rank-sorted
 * without branches, on 64-bit (offset in the bucket, seq) integers when the bucket is
 * narrower than 2^23 ns, else as 128-bit keys); a fuller one is spread over the levels
 * below L relative to its own start, and the search repeats. Each key therefore moves at
 * most once per level: in the hold model once at 10^3 pending and about twice at 10^6.
 * Pushes and spreads append to a few hot bucket tails, so the cost at 10^6 pending is
 * mostly streaming, not a cache miss per key; a spread from level 1 prefetches the bodies
 * of a big queue, which are read a few hundred pops later. The order is the keys' order
 * exactly, whatever the tier: FIFO among equal times follows from seq, including pushes
 * with an old seq (sim_evq_push_seq) and pushes before last (both go to the bottom, which
 * orders full keys).
 *
 * Bucket storage. A bucket is a list of chunks of EVQ_CHUNK keys from one pool; only its
 * head chunk is partly filled. At most min(n, EVQ_NB) buckets are non-empty, so the keys
 * need at most cap/EVQ_CHUNK + min(cap, EVQ_NB) + 1 chunks (a spread frees each source chunk
 * before re-adding its keys): the pool has that many plus two, reserved when the queue
 * grows, so a push with n < cap and every pop never allocate (sim/evq.h).
 *
 * Memory: 16 (key array) + 24 (body) + 4 (free slot) + about 16.5 (chunk pool) bytes per
 * slot of capacity, plus 110 KiB of bucket descriptors and level 0 first keys and 0.7 KiB
 * of bitmaps per queue. (The ladder queue before it took about 78 bytes per slot.) An
 * empty queue can give back all but the bitmaps (sim_evq_trim).
 *
 * Invariants:
 *  1. sorted: key[lo..lo+heap_n) holds the bottom in ascending order. Otherwise positions
 *     0..heap_n-1 hold it in 4-ary heap order, or 1..heap_n while `hole` (position 0 is
 *     then vacant, see 4). Every other position up to cap + EVQ_TAIL - 1 holds KEY_NONE
 *     (so a sorted run moved to position 0 is a heap), and a node's four children can be
 *     read without a bounds check, and a prefetch of its grandchildren stays inside the
 *     allocation. The four children of position p are 4p+1..4p+4; key points EVQ_PAD
 *     entries into a 64-byte aligned block, so every group of four children fills one
 *     cache line.
 *  2. n > 0 implies heap_n > 0 (a pop that empties the bottom refills it), so peek reads the
 *     bottom alone. Every bottom key's grain is <= last < every bucket key's grain, and
 *     every bucket key is in the bucket its grain ^ last names. bits[] and summary[] mark
 *     exactly the non-empty buckets. When n == 0, last is UINT64_MAX and the next push
 *     (into the bottom) sets it to its own grain.
 *  3. Each pending event owns exactly the body slot named in its key; free_slot holds every
 *     other slot below cap. seq is unique and below SIM_EVQ_SEQ_LIMIT, so keys are unique,
 *     never equal KEY_NONE, and (at, seq) is a total order with FIFO among equal times.
 *  4. Deferred root (heap bottom only): pop takes the root and leaves the hole there; the
 *     next push into the heap fills it with one sift-down, and the next pop first refills it
 *     from the last key.
 *
 * Limits: 2^24 pending events (slot bits); seq has 40 bits and is renumbered, keeping the
 * order, when it runs out (once per 1.1e12 pushes, O(n log n)).
 */
#include "sim/evq.h"

#include <stdlib.h>
#include <string.h>

#include "sim/error.h"

#define EVQ_D          4 /* children per heap node */
#define EVQ_PAD        3 /* makes child groups (physical 4p+4..4p+7) line-aligned */
#define EVQ_SLOT_BITS  24
#define SEQ_BITS       40 /* seq < SIM_EVQ_SEQ_LIMIT < 2^40 */
#define EVQ_SLOT_MASK  ((1u << EVQ_SLOT_BITS) - 1u)
#define EVQ_MAX_CAP    ((size_t)1 << EVQ_SLOT_BITS)
#define EVQ_MIN_CAP    64
#define EVQ_TAIL       (EVQ_D * EVQ_D) /* sentinels after cap: children and prefetch reach */
#define KEY_NONE       (~(evq_key)0)
#define EVQ_CHUNK      8  /* keys per chunk of a bucket (two cache lines) */
#define EVQ_RANK_MAX   24 /* a bucket of at most this many keys moves to the bottom, sorted */
#define EVQ_SORTED_MAX 32 /* a sorted bottom this far from in order becomes a heap */
#define EVQ_BITS       8  /* bits per radix digit */
#define EVQ_BITS0      12 /* bits of the level 0 digit: grains per level 0 block */
#define EVQ_FAN0       (1u << EVQ_BITS0)
#define EVQ_FAN        (1u << EVQ_BITS) /* buckets per level above 0 */
#define EVQ_LEVELS     (1 + (64 - EVQ_BITS0 + EVQ_BITS - 1) / EVQ_BITS) /* digits of 64 bits */
#define EVQ_NB         (EVQ_FAN0 + (EVQ_LEVELS - 1) * EVQ_FAN)          /* buckets */
#define EVQ_WORDS      ((EVQ_NB + 63) / 64)                             /* bitmap words */
#define EVQ_SWORDS     ((EVQ_WORDS + 63) / 64)                          /* summary words */
#define EVQ_PER_GRAIN  2    /* keys per grain aimed at (estimate) */
#define EVQ_BATCH      16   /* keys moved to the bottom from level 0 at a time, at least */
#define EVQ_EST_MIN    4096 /* keys between grain estimates, at least */
#define EVQ_G_MAX      48   /* grains of at most 2^48 ns (78 h) */
#define EVQ_BIG_BYTES  ((size_t)1 << 20) /* bodies beyond this (an L2) are prefetched */
#define CHUNK_NONE     UINT32_MAX

/* GCC and Clang on 64-bit targets; one compare and a cmov pick the smaller key. */
__extension__ typedef unsigned __int128 evq_key;

struct evq_body {
    uint64_t arg;
    uint32_t target;
    uint32_t timer;
    uint32_t gen;
    uint16_t kind;
};

/* An unsorted bag of keys: a list of chunks, the head chunk holding the last
 * ((count - 1) % EVQ_CHUNK) + 1 keys added, every other chunk full. */
struct evq_bucket {
    uint32_t head; /* newest chunk; read only while the chain holds keys (evq_levels) */
    uint32_t count;
};

/* The buckets. A bucket's head is read only while its chain holds keys (chain_push starts
 * a chain without reading it), so the table needs no initialisation beyond calloc's
 * zeros. */
struct evq_levels {
    evq_key first[EVQ_FAN0]; /* first key of each level 0 bucket */
    struct evq_bucket bucket[EVQ_NB];
};

struct sim_evq {
    evq_key *key;  /* heap position 0; EVQ_PAD entries into key_mem */
    void *key_mem; /* 64-byte aligned allocation behind key */
    size_t heap_n; /* keys in the bottom tier (heap or sorted run) */
    bool hole;     /* invariant 4 */
    bool sorted;   /* the bottom is the sorted run key[lo..lo+heap_n), not a heap */
    size_t lo;
    uint64_t last; /* invariant 2, in grains */
    unsigned g;    /* a grain is 2^g ns */

    uint64_t est_keys; /* keys that reached the bottom since est_u (grain estimate) */
    uint64_t est_due;  /* est_keys at which the grain is estimated again */
    uint64_t est_u;    /* time (u) when est_keys started counting */

    evq_key *chunk;       /* n_chunks * EVQ_CHUNK keys, 64-byte aligned */
    uint32_t *chunk_next; /* next chunk of the same bucket, or of the free list */
    size_t n_chunks;
    uint32_t free_chunk; /* head of the free list */

    struct evq_body *body;
    uint32_t *free_slot;
    size_t n;   /* pending events */
    size_t cap; /* slots */
    bool big;   /* the bodies outgrow the caches: prefetch them before their pops */
    size_t n_free;
    uint64_t next_seq;

    uint64_t summary[EVQ_SWORDS]; /* bit w % 64 of word w / 64: bits[w] != 0 */
    uint64_t bits[EVQ_WORDS];     /* bit b % 64 of word b / 64: bucket b is not empty */
    /* Allocated with the first slots and freed by sim_evq_trim: about 110 KiB that a queue
     * holding nothing need not keep (a fleet's blocks). */
    struct evq_levels *lv;
};

static inline evq_key key_make(int64_t at, uint64_t seq, uint32_t slot)
{
    uint64_t hi = (uint64_t)at ^ ((uint64_t)1 << 63);
    return ((evq_key)hi << 64) | (seq << EVQ_SLOT_BITS) | slot;
}

static inline uint64_t key_u(evq_key k)
{
    return (uint64_t)(k >> 64);
}

static inline int64_t key_at(evq_key k)
{
    return (int64_t)(key_u(k) ^ ((uint64_t)1 << 63));
}

static inline uint64_t key_seq(evq_key k)
{
    return (uint64_t)k >> EVQ_SLOT_BITS;
}

static inline uint32_t key_slot(evq_key k)
{
    return (uint32_t)k & EVQ_SLOT_MASK;
}

/* ---- the heap ---- */

/* Smallest of the four children starting at c0; returns its position and key.
 * Selecting values (not re-loading by index) keeps the dependency chain per heap level
 * to one load and two compare-and-select steps (bench/RESULTS.md, variant D4). */
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

/* Put x into vacant position i of a heap whose positions are 0..n-1 and restore order
 * below i. The next level's four child lines are prefetched while this level is compared,
 * which overlaps the cache misses of the lower levels. */
static void sift_down(evq_key *key, size_t n, size_t i, evq_key x)
{
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

/* Refill the vacant root with the last key (invariant 4). Requires hole && heap_n > 0. */
static void fill_hole(struct sim_evq *q)
{
    evq_key x = q->key[q->heap_n];
    q->key[q->heap_n] = KEY_NONE;
    q->hole = false;
    sift_down(q->key, q->heap_n, 0, x);
}

static void heap_push(struct sim_evq *q, evq_key x)
{
    if (q->hole) {
        q->hole = false;
        q->heap_n++;
        sift_down(q->key, q->heap_n, 0, x);
        return;
    }
    sift_up(q->key, q->heap_n++, x);
}

/* Move the sorted run to key[0..heap_n), where it is also a heap (invariant 1). */
static void sorted_compact(struct sim_evq *q)
{
    if (q->lo == 0)
        return;
    memmove(q->key, q->key + q->lo, q->heap_n * sizeof(*q->key));
    for (size_t i = q->heap_n; i < q->lo + q->heap_n; i++)
        q->key[i] = KEY_NONE;
    q->lo = 0;
}

/* Insert x into the sorted run. When that would move more than EVQ_SORTED_MAX keys (x far
 * from the end of a long run, or a long run against the end of the array), the run becomes
 * a heap first, so a push costs O(EVQ_SORTED_MAX + log n) at worst. Requires heap_n < cap. */
static void sorted_push(struct sim_evq *q, evq_key x)
{
    evq_key *key = q->key;
    size_t end = q->lo + q->heap_n;
    if (end == q->cap) {
        if (q->heap_n <= EVQ_SORTED_MAX) {
            sorted_compact(q);
            end = q->heap_n;
        } else {
            goto to_heap;
        }
    }
    size_t j = end, stop = q->heap_n <= EVQ_SORTED_MAX ? q->lo : end - EVQ_SORTED_MAX;
    for (; j > stop && x < key[j - 1]; j--)
        key[j] = key[j - 1];
    if (j > q->lo && x < key[j - 1]) { /* x belongs further in: undo, and use a heap */
        memmove(key + j, key + j + 1, (end - j) * sizeof(*key));
        key[end] = KEY_NONE;
        goto to_heap;
    }
    key[j] = x;
    q->heap_n++;
    return;
to_heap:
    sorted_compact(q);
    q->sorted = false;
    q->hole = false;
    heap_push(q, x);
}

/* ---- buckets ---- */

/* The bucket of a key with time u relative to base (u >= base): level L is the digit of
 * the highest bit of u ^ base (level 0 when u == base), d is u's digit L. */
static inline uint32_t bucket_of(uint64_t u, uint64_t base)
{
    uint64_t x = u ^ base;
    if (x < EVQ_FAN0)
        return (uint32_t)u & (EVQ_FAN0 - 1);
    unsigned level = 1 + (63u - (unsigned)__builtin_clzll(x) - EVQ_BITS0) / EVQ_BITS;
    unsigned shift = EVQ_BITS0 + (level - 1) * EVQ_BITS;
    return (uint32_t)(EVQ_FAN0 + (level - 1) * EVQ_FAN + ((u >> shift) & (EVQ_FAN - 1)));
}

/* The first non-empty bucket. Requires one. */
static inline uint32_t bucket_first(const struct sim_evq *q)
{
    unsigned sw = 0;
    while (q->summary[sw] == 0)
        sw++;
    unsigned w = sw * 64 + (unsigned)__builtin_ctzll(q->summary[sw]);
    return w * 64 + (uint32_t)__builtin_ctzll(q->bits[w]);
}

static inline void mark(struct sim_evq *q, uint32_t b)
{
    q->bits[b / 64] |= (uint64_t)1 << (b % 64);
    q->summary[b / 4096] |= (uint64_t)1 << (b / 64 % 64);
}

/* Append x to the chain of *bk, which holds nc keys (an empty chain's head is not read:
 * see struct evq_levels). */
static inline void chain_push(struct sim_evq *q, struct evq_bucket *bk, uint32_t nc, evq_key x)
{
    uint32_t i = nc % EVQ_CHUNK;
    if (i == 0) { /* the pool bound (header) guarantees a free chunk */
        uint32_t c = q->free_chunk;
        q->free_chunk = q->chunk_next[c];
        q->chunk_next[c] = nc == 0 ? CHUNK_NONE : bk->head;
        bk->head = c;
    }
    q->chunk[(size_t)bk->head * EVQ_CHUNK + i] = x;
}

/* Add x to bucket b. A level 0 bucket (one grain, usually one or two keys) keeps its first
 * key in first[b] and the others in its chain, so most grains never take a chunk. */
static inline void bucket_add(struct sim_evq *q, uint32_t b, evq_key x)
{
    struct evq_bucket *bk = &q->lv->bucket[b];
    if (b < EVQ_FAN0) {
        if (bk->count == 0) {
            q->lv->first[b] = x;
            mark(q, b);
        } else {
            chain_push(q, bk, bk->count - 1, x);
        }
    } else {
        if (bk->count == 0)
            mark(q, b);
        chain_push(q, bk, bk->count, x);
    }
    bk->count++;
}

/* Detach bucket b (not empty) and clear its bitmap bit; returns what it held (for level 0,
 * first[b] and a chain of count - 1 keys). */
static struct evq_bucket bucket_detach(struct sim_evq *q, uint32_t b)
{
    struct evq_bucket bk = q->lv->bucket[b];
    q->lv->bucket[b] = (struct evq_bucket){.head = CHUNK_NONE, .count = 0};
    q->bits[b / 64] &= ~((uint64_t)1 << (b % 64));
    if (q->bits[b / 64] == 0)
        q->summary[b / 4096] &= ~((uint64_t)1 << (b / 64 % 64));
    return bk;
}

/* Copy the keys of a detached chain to dst[0..count) in the order they were added, and
 * return its chunks to the pool. */
static void chain_take(struct sim_evq *q, struct evq_bucket bk, evq_key *dst)
{
    if (bk.count == 0)
        return;
    size_t end = bk.count;
    uint32_t m = (bk.count - 1) % EVQ_CHUNK + 1; /* keys in the head chunk */
    uint32_t c = bk.head;
    end -= m;
    for (uint32_t i = 0; i < m; i++)
        dst[end + i] = q->chunk[(size_t)c * EVQ_CHUNK + i];
    for (;;) {
        uint32_t next = q->chunk_next[c];
        q->chunk_next[c] = q->free_chunk;
        q->free_chunk = c;
        if (next == CHUNK_NONE)
            break;
        c = next;
        end -= EVQ_CHUNK;
        memcpy(dst + end, &q->chunk[(size_t)c * EVQ_CHUNK], EVQ_CHUNK * sizeof(*dst));
    }
}

/* Detach bucket b (not empty) and copy its keys to dst in the order they were added;
 * returns how many. */
static size_t bucket_take(struct sim_evq *q, uint32_t b, evq_key *dst)
{
    struct evq_bucket bk = bucket_detach(q, b);
    if (b >= EVQ_FAN0) {
        chain_take(q, bk, dst);
        return bk.count;
    }
    dst[0] = q->lv->first[b];
    chain_take(q, (struct evq_bucket){.head = bk.head, .count = bk.count - 1}, dst + 1);
    return bk.count;
}

/* Spread a detached bucket's keys over the buckets relative to base (grains; every key's
 * grain >= base).
 * A chunk goes back to the pool before its keys are added again, so the move needs at most
 * one chunk more than the keys occupy. From level 1 (`to_grains`), every key lands in level
 * 0 and soon reaches the bottom: in a big queue its body is prefetched now, well ahead of
 * its pop. */
static void chain_spread(struct sim_evq *q, struct evq_bucket bk, uint64_t base, bool to_grains)
{
    uint32_t m = (bk.count - 1) % EVQ_CHUNK + 1;
    for (uint32_t c = bk.head; c != CHUNK_NONE; m = EVQ_CHUNK) {
        evq_key buf[EVQ_CHUNK];
        memcpy(buf, &q->chunk[(size_t)c * EVQ_CHUNK], sizeof(buf));
        uint32_t next = q->chunk_next[c];
        if (next != CHUNK_NONE)
            __builtin_prefetch(&q->chunk[(size_t)next * EVQ_CHUNK]);
        q->chunk_next[c] = q->free_chunk;
        q->free_chunk = c;
        if (!to_grains) {
            for (uint32_t i = 0; i < m; i++)
                bucket_add(q, bucket_of(key_u(buf[i]) >> q->g, base), buf[i]);
        } else { /* from level 1: every key lands in level 0, at its grain's low digit */
            for (uint32_t i = 0; i < m; i++) {
                if (q->big)
                    __builtin_prefetch(&q->body[key_slot(buf[i])]);
                bucket_add(q, (uint32_t)(key_u(buf[i]) >> q->g) & (EVQ_FAN0 - 1), buf[i]);
            }
        }
        c = next;
    }
}

/* Sort the k keys in key[0..k) (a bucket that starts at time s and is 2^width ns wide) into
 * the bottom: a sorted run, or a heap for many equal times out of order. */
static void bottom_sort(struct sim_evq *q, size_t k, uint64_t s, unsigned width)
{
    evq_key *key = q->key;
    q->sorted = true;
    q->lo = 0;
    if (k <= EVQ_RANK_MAX && width <= 23) {
        /* Rank sort: keys are unique, so each one's count of smaller keys is its place.
         * Branch-free, unlike an insertion sort whose every key mispredicts. Within
         * the bucket, (time - s, seq) fits one 63-bit integer with the same order as the
         * keys, so a < b is the sign bit of a - b: a subtraction and a shift, which the
         * compiler vectorises (SSE2 has no 64-bit compare). */
        evq_key tmp[EVQ_RANK_MAX];
        uint64_t c[EVQ_RANK_MAX + 3];
        for (size_t j = 0; j < k; j++) {
            tmp[j] = key[j];
            c[j] = ((key_u(key[j]) - s) << SEQ_BITS) | key_seq(key[j]);
        }
        /* Pad to a multiple of 4 with a value above every key's (whose offset is below
         * 2^23), so the count runs four compares per step. */
        size_t k4 = (k + 3) & ~(size_t)3;
        for (size_t j = k; j < k4; j++)
            c[j] = INT64_MAX;
        for (size_t j = 0; j < k; j++) {
            uint64_t cj = c[j], rank = 0;
            for (size_t m = 0; m < k4; m++)
                rank += (c[m] - cj) >> 63;
            key[rank] = tmp[j];
        }
    } else if (k <= EVQ_RANK_MAX) {
        evq_key tmp[EVQ_RANK_MAX];
        memcpy(tmp, key, k * sizeof(*key));
        for (size_t j = 0; j < k; j++) {
            size_t rank = 0;
            for (size_t m = 0; m < k; m++)
                rank += tmp[m] < tmp[j];
            key[rank] = tmp[j];
        }
    } else {
        /* Equal times (level 0), usually already in seq order: insertion sort while it
         * stays cheap, else a heap. */
        size_t moved = 0;
        for (size_t j = 1; j < k && moved <= k; j++) {
            evq_key x = key[j];
            size_t m = j;
            for (; m > 0 && x < key[m - 1]; m--)
                key[m] = key[m - 1];
            key[m] = x;
            moved += j - m;
        }
        if (moved > k) {
            q->sorted = false;
            q->hole = false;
            for (size_t j = k > 1 ? (k - 2) / EVQ_D + 1 : 0; j-- > 0;)
                sift_down(key, k, j, key[j]);
        }
    }
    q->heap_n = k;
}

/* Move every key into the heap array (it has room for cap), bottom first: the bottom's
 * first key is the earliest of all. Returns how many (q->n); the buckets are then empty. */
static size_t gather(struct sim_evq *q)
{
    if (q->sorted)
        sorted_compact(q);
    else if (q->hole && q->heap_n > 0)
        fill_hole(q);
    q->hole = false;
    size_t n = q->heap_n;
    while (n < q->n)
        n += bucket_take(q, bucket_first(q), q->key + n);
    return n;
}

/* Put every key back with grains of 2^g ns: the bottom is the first grain's keys, the
 * rest go to their buckets. O(n); never allocates. Requires n > 0. */
static void regrain(struct sim_evq *q, unsigned g)
{
    size_t n = gather(q);
    q->g = g;
    q->last = key_u(q->key[0]) >> g;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        evq_key x = q->key[i];
        uint64_t c = key_u(x) >> g;
        if (c <= q->last)
            q->key[k++] = x;
        else
            bucket_add(q, bucket_of(c, q->last), x);
    }
    for (size_t i = k; i < n; i++)
        q->key[i] = KEY_NONE;
    bottom_sort(q, k, q->last << g, g);
}

/* Choose the grain from the mean time between the keys that reached the bottom since the
 * last estimate: a grain holds about EVQ_PER_GRAIN of them, so a bucket of level 0 moves
 * to the bottom with that many keys, not one (bench/RESULTS.md). Changes the grain only by
 * a factor of 4 or more, and at most once per max(n, EVQ_EST_MIN) keys, so its O(n) cost
 * is O(1) per key. */
static void estimate(struct sim_evq *q)
{
    uint64_t now = q->last << q->g;
    if (now > q->est_u) {
        uint64_t gap = (now - q->est_u) / q->est_keys;
        uint64_t w = gap > (UINT64_MAX / EVQ_PER_GRAIN) ? UINT64_MAX : gap * EVQ_PER_GRAIN;
        unsigned g = w == 0 ? 0 : 63u - (unsigned)__builtin_clzll(w);
        if (g > EVQ_G_MAX)
            g = EVQ_G_MAX;
        if (g + 1 < q->g || g > q->g + 1)
            regrain(q, g);
    }
    q->est_keys = 0;
    q->est_u = q->last << q->g;
    q->est_due = q->n > EVQ_EST_MIN ? q->n : EVQ_EST_MIN;
}

/* Move the first grains of level 0, word w of the bitmap, into the empty bottom: bucket
 * by bucket in index order, which is time order, until it holds EVQ_BATCH keys. Only the
 * keys of one grain need sorting (usually one or two keys, in push order). A bucket of more
 * than EVQ_SORTED_MAX keys (equal times) moves alone, through bottom_sort. */
static void take_grains(struct sim_evq *q, unsigned w)
{
    evq_key *key = q->key;
    uint64_t word = q->bits[w];
    size_t k = 0;
    uint32_t b, taken = 0; /* the last bucket taken: last becomes its grain */
    do {
        b = w * 64 + (uint32_t)__builtin_ctzll(word);
        struct evq_bucket bk = q->lv->bucket[b];
        if (bk.count > EVQ_SORTED_MAX) {
            if (k > 0)
                break; /* it stays a bucket, so its grain must stay after last */
            taken = b;
            word &= word - 1;
            q->lv->bucket[b] = (struct evq_bucket){.head = CHUNK_NONE, .count = 0};
            key[0] = q->lv->first[b];
            chain_take(q, (struct evq_bucket){.head = bk.head, .count = bk.count - 1}, key + 1);
            bottom_sort(q, bk.count, 0, 64); /* equal grains: sorted as full keys */
            k = bk.count;
            goto done;
        }
        word &= word - 1;
        taken = b;
        key[k] = q->lv->first[b];
        if (bk.count == 1) {
            q->lv->bucket[b].count = 0;
            k++;
            continue;
        }
        q->lv->bucket[b] = (struct evq_bucket){.head = CHUNK_NONE, .count = 0};
        if (bk.count == 2) { /* the usual case after one key: a compare and two moves */
            evq_key a = key[k], c = q->chunk[(size_t)bk.head * EVQ_CHUNK];
            q->chunk_next[bk.head] = q->free_chunk;
            q->free_chunk = bk.head;
            bool swap = c < a;
            key[k] = swap ? c : a;
            key[k + 1] = swap ? a : c;
            k += 2;
            continue;
        }
        chain_take(q, (struct evq_bucket){.head = bk.head, .count = bk.count - 1}, key + k + 1);
        for (size_t j = k + 1; j < k + bk.count; j++) { /* insertion sort within the grain */
            evq_key x = key[j];
            size_t m = j;
            for (; m > k && x < key[m - 1]; m--)
                key[m] = key[m - 1];
            key[m] = x;
        }
        k += bk.count;
    } while (word != 0 && k < EVQ_BATCH);
    q->sorted = true;
    q->heap_n = k;
done:
    q->bits[w] = word;
    if (word == 0)
        q->summary[w / 64] &= ~((uint64_t)1 << (w % 64));
    q->last = (q->last & ~(uint64_t)(EVQ_FAN0 - 1)) | taken;
    q->est_keys += k;
    if (q->est_keys >= q->est_due)
        estimate(q);
}

/* Move the next keys into the empty bottom (invariant 2). Requires heap_n == 0, !hole and
 * n > 0. Never allocates. */
__attribute__((noinline)) static void refill(struct sim_evq *q)
{
    for (;;) {
        uint32_t b = bucket_first(q);
        if (b < EVQ_FAN0) {
            take_grains(q, b / 64);
            return;
        }
        unsigned level = 1 + (b - EVQ_FAN0) / EVQ_FAN;
        unsigned width = EVQ_BITS0 + (level - 1) * EVQ_BITS;
        /* The bucket's first grain: last's digits above the level, then the bucket's digit.
         * At the top level the block is 2^64 grains or more wide and its mask wraps to 0. */
        uint64_t block = ((uint64_t)1 << width) << EVQ_BITS;
        uint64_t s = (q->last & ~(block - 1)) | ((uint64_t)((b - EVQ_FAN0) % EVQ_FAN) << width);
        struct evq_bucket bk = bucket_detach(q, b);
        if (bk.count > EVQ_RANK_MAX) {
            /* Every key is in grains [s, s + 2^width): relative to s it lands below this
             * level. Keys about to reach the bottom have their bodies prefetched. */
            q->last = s;
            chain_spread(q, bk, s, level == 1);
            continue;
        }
        size_t k = bk.count;
        chain_take(q, bk, q->key);
        for (size_t j = 0; q->big && j < k; j++)
            __builtin_prefetch(&q->body[key_slot(q->key[j])]);
        bottom_sort(q, k, s << q->g, width + q->g);
        /* The last grain in the bottom: at most EVQ_RANK_MAX keys, so a sorted run. */
        q->last = key_u(q->key[k - 1]) >> q->g;
        q->est_keys += k;
        if (q->est_keys >= q->est_due)
            estimate(q);
        return;
    }
}

/* ---- allocation ---- */

/* Chunks for cap slots (the bound in the header). */
static size_t chunks_for(size_t cap)
{
    return cap / EVQ_CHUNK + (cap < EVQ_NB ? cap : EVQ_NB) + 3;
}

/* Resize to cap slots. On failure the queue is unchanged (some arrays may have grown,
 * which is harmless) and SIM_ENOMEM is returned. */
static int grow(struct sim_evq *q, size_t cap)
{
    if (cap <= q->cap || cap > EVQ_MAX_CAP)
        return SIM_ENOMEM;
    if (q->lv == NULL && (q->lv = calloc(1, sizeof(*q->lv))) == NULL)
        return SIM_ENOMEM;
    size_t n_chunks = chunks_for(cap);
    size_t key_bytes = ((EVQ_PAD + cap + EVQ_TAIL) * sizeof(evq_key) + 63) & ~(size_t)63;
    void *key_mem = aligned_alloc(64, key_bytes);
    evq_key *chunk = aligned_alloc(64, n_chunks * EVQ_CHUNK * sizeof(evq_key));
    if (key_mem == NULL || chunk == NULL)
        goto fail;
    struct evq_body *body = realloc(q->body, cap * sizeof(*body));
    if (body == NULL)
        goto fail;
    q->body = body;
    uint32_t *free_slot = realloc(q->free_slot, cap * sizeof(*free_slot));
    if (free_slot == NULL)
        goto fail;
    q->free_slot = free_slot;
    uint32_t *chunk_next = realloc(q->chunk_next, n_chunks * sizeof(*chunk_next));
    if (chunk_next == NULL)
        goto fail;
    q->chunk_next = chunk_next;

    evq_key *key = (evq_key *)key_mem + EVQ_PAD;
    size_t used = q->sorted ? q->lo + q->heap_n : q->heap_n + q->hole; /* positions in use */
    if (used > 0)
        memcpy(key, q->key, used * sizeof(*key));
    for (size_t i = used; i < cap + EVQ_TAIL; i++)
        key[i] = KEY_NONE;
    if (q->n_chunks > 0)
        memcpy(chunk, q->chunk, q->n_chunks * EVQ_CHUNK * sizeof(*chunk));
    for (size_t c = n_chunks; c-- > q->n_chunks;) {
        q->chunk_next[c] = q->free_chunk;
        q->free_chunk = (uint32_t)c;
    }
    /* New slots go on the stack highest first, so they are handed out in ascending order. */
    for (size_t s = cap; s-- > q->cap;)
        q->free_slot[q->n_free++] = (uint32_t)s;
    free(q->key_mem);
    free(q->chunk);
    q->key_mem = key_mem;
    q->key = key;
    q->chunk = chunk;
    q->n_chunks = n_chunks;
    q->cap = cap;
    q->big = cap * sizeof(*body) > EVQ_BIG_BYTES;
    return 0;
fail:
    free(key_mem);
    free(chunk);
    return SIM_ENOMEM;
}

struct sim_evq *sim_evq_new(size_t capacity_hint)
{
    struct sim_evq *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return NULL;
    q->free_chunk = CHUNK_NONE;
    q->sorted = true;
    q->est_due = EVQ_EST_MIN;
    q->est_u = UINT64_MAX; /* the first estimate only starts the count */
    q->last = UINT64_MAX;  /* empty (invariant 2) */
    size_t cap = capacity_hint < EVQ_MIN_CAP ? EVQ_MIN_CAP : capacity_hint;
    if (grow(q, cap < EVQ_MAX_CAP ? cap : EVQ_MAX_CAP) != 0) {
        sim_evq_free(q);
        return NULL;
    }
    return q;
}

/* Free every array; the queue then has no slot (cap 0). */
static void arrays_free(struct sim_evq *q)
{
    free(q->key_mem);
    free(q->chunk);
    free(q->chunk_next);
    free(q->body);
    free(q->free_slot);
    free(q->lv);
    q->key_mem = NULL;
    q->key = q->chunk = NULL;
    q->chunk_next = q->free_slot = NULL;
    q->body = NULL;
    q->lv = NULL;
    q->n_chunks = q->cap = q->n_free = 0;
    q->free_chunk = CHUNK_NONE;
    q->big = false;
}

void sim_evq_free(struct sim_evq *q)
{
    if (q == NULL)
        return;
    arrays_free(q);
    free(q);
}

void sim_evq_trim(struct sim_evq *q)
{
    if (q->n > 0)
        return;
    arrays_free(q); /* empty: heap_n, hole, lo and every bitmap bit are 0 (invariant 2) */
    q->sorted = true;
}

/* ---- operations ---- */

static int cmp_key(const void *a, const void *b)
{
    evq_key x = *(const evq_key *)a, y = *(const evq_key *)b;
    return (x > y) - (x < y);
}

void sim_evq_renumber(struct sim_evq *q)
{
    /* Gather every key in the heap array, sort, and renumber in place. Renumbering keeps
     * the order and the times, so the bottom keys stay first and sorted (a sorted run is
     * also a heap), and every other key goes back to the bucket its time names. */
    size_t n = gather(q);
    if (n > 0)
        qsort(q->key, n, sizeof(*q->key), cmp_key); /* (q->key is NULL after a trim) */
    for (size_t i = 0; i < n; i++)
        q->key[i] = key_make(key_at(q->key[i]), i, key_slot(q->key[i]));
    for (size_t i = q->heap_n; i < n; i++) {
        bucket_add(q, bucket_of(key_u(q->key[i]) >> q->g, q->last), q->key[i]);
        q->key[i] = KEY_NONE;
    }
    q->sorted = true;
    q->lo = 0;
    q->next_seq = n;
    if (n == 0)
        q->last = UINT64_MAX;
}

/* Double the capacity before a push into a full queue. */
__attribute__((noinline)) static int push_grow(struct sim_evq *q)
{
    size_t cap = q->cap < EVQ_MIN_CAP ? EVQ_MIN_CAP : 2 * q->cap; /* 0 after a trim */
    return grow(q, cap < EVQ_MAX_CAP ? cap : EVQ_MAX_CAP);
}

/* A push into the bottom: a key at or before last's grain, or the first of an empty queue
 * (last is then UINT64_MAX, invariant 2). Out of line: pushes usually go to buckets. */
__attribute__((noinline)) static void push_bottom(struct sim_evq *q, evq_key x)
{
    if (q->n++ == 0)
        q->last = key_u(x) >> q->g;
    q->est_keys++;
    if (q->sorted)
        sorted_push(q, x);
    else
        heap_push(q, x);
}

/* Push *ev with sequence number seq (invariant 3 is the caller's). */
__attribute__((always_inline)) static inline int push_key(struct sim_evq *q,
                                                          const struct sim_event *ev, uint64_t seq)
{
    if (__builtin_expect(q->n == q->cap, 0)) {
        int rc = push_grow(q);
        if (rc != 0)
            return rc;
    }
    uint32_t slot = q->free_slot[--q->n_free];
    q->body[slot] = (struct evq_body){
        .arg = ev->arg, .target = ev->target, .timer = ev->timer, .gen = ev->gen, .kind = ev->kind};
    evq_key x = key_make(ev->at, seq, slot);
    uint64_t c = key_u(x) >> q->g;
    if (c > q->last) {
        q->n++;
        bucket_add(q, bucket_of(c, q->last), x);
        return 0;
    }
    push_bottom(q, x);
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

/* The bottom ran empty: refill it, or reset it when the queue is empty. */
static void bottom_empty(struct sim_evq *q)
{
    q->lo = 0;
    q->hole = false;
    q->sorted = true;
    if (q->n > 0)
        refill(q);
    else
        q->last = UINT64_MAX; /* invariant 2: the next push starts the bottom */
}

/* Every pop but the common one (a sorted bottom that keeps a key). */
__attribute__((noinline)) static bool pop_slow(struct sim_evq *q, struct sim_event *out)
{
    if (q->n == 0)
        return false;
    if (q->sorted) {
        evq_key x = q->key[q->lo];
        q->key[q->lo++] = KEY_NONE;
        copy_out(q, x, out);
        q->free_slot[q->n_free++] = key_slot(x);
        q->n--;
        if (--q->heap_n == 0)
            bottom_empty(q);
        return true;
    }
    if (q->hole)
        fill_hole(q);
    evq_key top = q->key[0];
    copy_out(q, top, out);
    q->free_slot[q->n_free++] = key_slot(top);
    q->n--;
    if (--q->heap_n > 0) {
        q->hole = true;
        return true;
    }
    q->key[0] = KEY_NONE;
    bottom_empty(q);
    return true;
}

bool sim_evq_pop(struct sim_evq *q, struct sim_event *out)
{
    if (q->sorted && q->heap_n > 1) {
        evq_key x = q->key[q->lo];
        q->key[q->lo++] = KEY_NONE;
        copy_out(q, x, out);
        q->free_slot[q->n_free++] = key_slot(x);
        q->n--;
        q->heap_n--;
        return true;
    }
    return pop_slow(q, out);
}

/* The earliest key; with a vacant root it is the smallest child of the root. Requires n > 0. */
static evq_key top_key(const struct sim_evq *q)
{
    if (q->sorted)
        return q->key[q->lo];
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
