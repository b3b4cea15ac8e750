/* sim/evq.c - the future event set: a ladder of time buckets over a small sorted bottom.
 *
 * Keys. Every pending event has one 16-byte key, compared as one unsigned 128-bit integer:
 *   bits 127..64  u = at with its sign bit flipped (so signed order == unsigned order)
 *   bits  63..24  seq (40 bits)
 *   bits  23..0   slot of the event's body
 * The body (arg, target, timer, gen, kind) stays in body[slot] while the event is pending;
 * only keys move. free_slot[] is a LIFO stack of unused slots, so a pop followed by a push
 * (the common case in a simulation step) reuses a body slot that is still in cache.
 *
 * Structure (a ladder queue after Tang, Goh and Thng, "Ladder queue: an O(1) priority
 * queue structure for large-scale discrete event simulation", ACM TOMACS 15(3), 2005). Keys
 * live in one of three tiers, each holding only keys later than every key of the tier
 * before it:
 *   bottom  the earliest keys: every key below lim. Pops come from here. Usually a sorted
 *           run key[lo..lo+heap_n) (pop = take the first); a bucket too large to sort
 *           cheaply (more than EVQ_SORTED_MAX keys, e.g. many equal times), or a run grown
 *           past that by pushes, is kept as a 4-ary heap in key[0..heap_n) instead.
 *   rungs   up to EVQ_RUNGS arrays of buckets; bucket i of a rung holds the keys whose u is
 *           in [start + i*2^shift, start + (i+1)*2^shift), unsorted. Rung d+1 covers exactly
 *           one bucket of rung d (the one taken last), split into finer buckets.
 *   top     one unsorted bucket of every key after the last rung's last bucket.
 * A push goes to the heap if its key is below lim, else to the bucket that covers its
 * time (one subtraction and shift per rung, from the coarsest rung down, where most keys
 * land), else to top. When the heap runs
 * empty, the next non-empty bucket of the deepest rung moves into it (rank-sorted without
 * branches up to EVQ_RANK_MAX keys, on 64-bit (offset in the bucket, seq) integers when
 * the bucket is narrower than 2^23 ns, else insertion-sorted or heapified); a
 * bucket of more than EVQ_SPLIT keys is spread over a new, finer rung instead; an exhausted
 * rung is dropped; with no rung left, top is spread over a new rung sized from its count
 * and time span (about EVQ_PER_BUCKET keys per bucket). Each key thus moves a bounded
 * number of times (at most once per rung) and the bottom stays small, so a hold costs O(1)
 * expected for the usual increment distributions; where times do not spread (many equal
 * times) the bottom is a heap and the cost that of a heap, O(log n). The order is the
 * keys' order exactly, whatever the tier: FIFO among equal times follows from seq.
 *
 * Bucket storage. A bucket is a list of chunks of EVQ_CHUNK keys from one pool; only its
 * head chunk is partly filled. Buckets in use are at most n_desc (rung descriptors) plus
 * top, so the keys need at most cap/EVQ_CHUNK + n_desc + 2 chunks (one more while a bucket
 * is moved to a finer rung): the pool has that many, reserved when the queue grows, so a
 * push with n < cap and every pop never allocate (sim/evq.h).
 *
 * Invariants:
 *  1. sorted: key[lo..lo+heap_n) holds the bottom in ascending order. Otherwise positions
 *     0..heap_n-1 hold it in 4-ary heap order, or 1..heap_n while `hole` (position 0 is
 *     then vacant, see 4). Every other position up to cap + EVQ_TAIL - 1 holds KEY_NONE
 *     (so a sorted run moved to position 0 is a heap), and a node's four children can be
 *     read without a bounds check, and a prefetch of its grandchildren stays inside the
 *     allocation. The
 *     four children of position p are 4p+1..4p+4; key points EVQ_PAD entries into a
 *     64-byte aligned block, so every group of four children fills one cache line.
 *  2. Every bottom key < lim <= every rung or top key; the rungs hold keys in their buckets'
 *     ranges only, the deepest rung's bucket cur starts at lim, and every top key is after
 *     the ranges of all rungs. n > 0 implies heap_n > 0 (pop refills), so peek reads the
 *     heap alone.
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
#define EVQ_PER_BUCKET 8  /* keys per bucket aimed at when a rung is made */
#define EVQ_SPLIT      24 /* a bucket with more keys goes to a finer rung, not the bottom */
#define EVQ_RANK_MAX   24 /* a bucket of at most this many keys is rank-sorted */
#define EVQ_SORTED_MAX 32 /* a sorted bottom larger than this becomes a heap */
#define EVQ_RUNGS      8  /* rungs at most */
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
    uint32_t head; /* CHUNK_NONE when empty */
    uint32_t count;
};

struct evq_rung {
    uint64_t start; /* u of the first time in bucket 0 */
    uint32_t shift; /* buckets are 2^shift ns wide */
    uint32_t nb;    /* buckets */
    uint32_t cur;   /* buckets before cur are empty and behind lim */
    uint32_t base;  /* bucket 0 is desc[base] */
};

struct sim_evq {
    evq_key *key;  /* heap position 0; EVQ_PAD entries into key_mem */
    void *key_mem; /* 64-byte aligned allocation behind key */
    size_t heap_n; /* keys in the bottom tier (heap or sorted run) */
    bool hole;     /* invariant 4 */
    bool sorted;   /* the bottom is the sorted run key[lo..lo+heap_n), not a heap */
    size_t lo;
    evq_key lim; /* invariant 2 */

    struct evq_rung rung[EVQ_RUNGS];
    unsigned depth;            /* rungs in use, rung[depth - 1] the finest */
    struct evq_bucket *desc;   /* n_desc bucket descriptors, the rungs' in order */
    size_t n_desc, d_used;     /* descriptors, and those the rungs use */
    struct evq_bucket top;     /* keys after every rung */
    uint64_t top_min, top_max; /* u range of top's keys, when not empty */

    evq_key *chunk;       /* n_chunks * EVQ_CHUNK keys, 64-byte aligned */
    uint32_t *chunk_next; /* next chunk of the same bucket, or of the free list */
    size_t n_chunks;
    uint32_t free_chunk; /* head of the free list */

    struct evq_body *body;
    uint32_t *free_slot;
    size_t n;   /* pending events */
    size_t cap; /* slots */
    size_t n_free;
    uint64_t next_seq;
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

/* Insert x into the sorted run; a run grown past EVQ_SORTED_MAX becomes a heap. Requires
 * heap_n < cap. */
static void sorted_push(struct sim_evq *q, evq_key x)
{
    if (q->lo + q->heap_n == q->cap)
        sorted_compact(q);
    evq_key *key = q->key;
    size_t j = q->lo + q->heap_n;
    for (; j > q->lo && x < key[j - 1]; j--)
        key[j] = key[j - 1];
    key[j] = x;
    if (++q->heap_n > EVQ_SORTED_MAX) {
        sorted_compact(q);
        q->sorted = false;
        q->hole = false;
    }
}

/* ---- buckets ---- */

static inline void bucket_add(struct sim_evq *q, struct evq_bucket *b, evq_key x)
{
    uint32_t i = b->count % EVQ_CHUNK;
    if (i == 0) { /* the pool bound (header) guarantees a free chunk */
        uint32_t c = q->free_chunk;
        q->free_chunk = q->chunk_next[c];
        q->chunk_next[c] = b->head;
        b->head = c;
    }
    q->chunk[(size_t)b->head * EVQ_CHUNK + i] = x;
    b->count++;
}

/* Empty *b: copy its keys to the caller's buffer, and return its chunks to the pool. */
static size_t bucket_take(struct sim_evq *q, struct evq_bucket *b, evq_key *dst)
{
    size_t n = 0;
    uint32_t m = (b->count - 1) % EVQ_CHUNK + 1; /* keys in the head chunk */
    for (uint32_t c = b->head; c != CHUNK_NONE; m = EVQ_CHUNK) {
        uint32_t next = q->chunk_next[c];
        if (next != CHUNK_NONE)
            __builtin_prefetch(&q->chunk[(size_t)next * EVQ_CHUNK]);
        memcpy(dst + n, &q->chunk[(size_t)c * EVQ_CHUNK], m * sizeof(*dst));
        n += m;
        q->chunk_next[c] = q->free_chunk;
        q->free_chunk = c;
        c = next;
    }
    *b = (struct evq_bucket){.head = CHUNK_NONE, .count = 0};
    return n;
}

/* Spread the keys of *src over the buckets of rung r, which cover all of them; empty *src.
 * A chunk goes back to the pool before its keys are added again, so the move needs at most
 * one chunk more than the keys occupy. */
static void bucket_spread(struct sim_evq *q, struct evq_bucket *src, const struct evq_rung *r)
{
    struct evq_bucket *b = q->desc + r->base;
    uint32_t m = (src->count - 1) % EVQ_CHUNK + 1;
    for (uint32_t c = src->head; c != CHUNK_NONE; m = EVQ_CHUNK) {
        evq_key buf[EVQ_CHUNK];
        memcpy(buf, &q->chunk[(size_t)c * EVQ_CHUNK], m * sizeof(*buf));
        uint32_t next = q->chunk_next[c];
        q->chunk_next[c] = q->free_chunk;
        q->free_chunk = c;
        for (uint32_t i = 0; i < m; i++)
            bucket_add(q, &b[(key_u(buf[i]) - r->start) >> r->shift], buf[i]);
        c = next;
    }
    *src = (struct evq_bucket){.head = CHUNK_NONE, .count = 0};
}

/* Open rung `depth` with nb empty buckets. Requires depth < EVQ_RUNGS and
 * d_used + nb <= n_desc. */
static struct evq_rung *rung_open(struct sim_evq *q, uint64_t start, uint32_t shift, uint32_t nb)
{
    struct evq_rung *r = &q->rung[q->depth++];
    *r = (struct evq_rung){.start = start, .shift = shift, .nb = nb, .base = (uint32_t)q->d_used};
    for (uint32_t i = 0; i < nb; i++)
        q->desc[q->d_used + i] = (struct evq_bucket){.head = CHUNK_NONE, .count = 0};
    q->d_used += nb;
    return r;
}

/* Spread top over a new first rung of about top.count / EVQ_PER_BUCKET buckets of a
 * power-of-two width that covers top's span. Requires depth == 0 and a non-empty top. */
static void spawn_from_top(struct sim_evq *q)
{
    uint64_t span = q->top_max - q->top_min;
    size_t want = q->top.count / EVQ_PER_BUCKET;
    if (want > q->n_desc)
        want = q->n_desc;
    if (want < 2)
        want = 2;
    uint32_t shift = 0;
    while (shift < 63 && (span >> shift) >= want)
        shift++;
    /* (span >> shift) < want <= n_desc, or shift == 63 and nb <= 2 <= n_desc. */
    struct evq_rung *r = rung_open(q, q->top_min, shift, (uint32_t)(span >> shift) + 1);
    bucket_spread(q, &q->top, r);
    q->top_min = UINT64_MAX;
    q->top_max = 0;
}

/* Spread bucket i of rung r (the deepest) over a new rung 2^k times finer. Returns false,
 * changing nothing, when the bucket cannot be split (a width of 1 ns, no rung or too few
 * descriptors left). */
static bool spawn_child(struct sim_evq *q, struct evq_rung *r, uint32_t i)
{
    struct evq_bucket *src = &q->desc[r->base + i];
    size_t want = src->count / EVQ_PER_BUCKET, room = q->n_desc - q->d_used;
    if (want > room)
        want = room;
    uint32_t k = 0;
    while (k < r->shift && ((size_t)2 << k) <= want)
        k++;
    if (k == 0 || q->depth == EVQ_RUNGS)
        return false;
    struct evq_bucket b = *src;
    *src = (struct evq_bucket){.head = CHUNK_NONE, .count = 0};
    struct evq_rung *child =
        rung_open(q, r->start + ((uint64_t)i << r->shift), r->shift - k, (uint32_t)1 << k);
    bucket_spread(q, &b, child);
    return true;
}

/* Move the next keys into the empty heap (invariant 2). Requires heap_n == 0, !hole and
 * n > 0. Never allocates. */
__attribute__((noinline)) static void refill(struct sim_evq *q)
{
    for (;;) {
        if (q->depth == 0) {
            spawn_from_top(q); /* n > 0 and no rung: every key is in top */
            continue;
        }
        struct evq_rung *r = &q->rung[q->depth - 1];
        const struct evq_bucket *b = q->desc + r->base;
        while (r->cur < r->nb && b[r->cur].count == 0)
            r->cur++;
        if (r->cur == r->nb) {
            q->d_used -= r->nb;
            q->depth--;
            continue;
        }
        uint32_t i = r->cur++;
        if (b[i].count > EVQ_SPLIT && spawn_child(q, r, i))
            continue;
        evq_key *key = q->key;
        size_t k = bucket_take(q, &q->desc[r->base + i], key);
        for (size_t j = 0; j < k; j++)
            __builtin_prefetch(&q->body[key_slot(key[j])]);
        q->sorted = k <= EVQ_SORTED_MAX;
        q->lo = 0;
        if (k <= EVQ_RANK_MAX && r->shift < 64 - SEQ_BITS) {
            /* Rank sort: keys are unique, so each one's count of smaller keys is its place.
             * Branch-free, unlike an insertion sort whose every key mispredicts. Within
             * the bucket, (time - bucket start, seq) fits one 63-bit integer with the same
             * order as the keys, so a < b is the sign bit of a - b: a subtraction and a
             * shift, which the compiler vectorises (SSE2 has no 64-bit compare). */
            evq_key tmp[EVQ_RANK_MAX];
            uint64_t c[EVQ_RANK_MAX + 3];
            uint64_t bs = r->start + ((uint64_t)i << r->shift);
            for (size_t j = 0; j < k; j++) {
                tmp[j] = key[j];
                c[j] = ((key_u(key[j]) - bs) << SEQ_BITS) | key_seq(key[j]);
            }
            /* Pad to a multiple of 4 with a value above every key's (whose offset is
             * below 2^23), so the count runs four compares per step. */
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
        } else if (q->sorted) { /* insertion sort */
            for (size_t j = 1; j < k; j++) {
                evq_key x = key[j];
                size_t m = j;
                for (; m > 0 && x < key[m - 1]; m--)
                    key[m] = key[m - 1];
                key[m] = x;
            }
        } else {
            for (size_t j = k > 1 ? (k - 2) / EVQ_D + 1 : 0; j-- > 0;)
                sift_down(key, k, j, key[j]);
        }
        q->heap_n = k;
        /* lim = the end of bucket i; past 2^64 every key is below it. */
        evq_key end = (evq_key)r->start + ((evq_key)r->cur << r->shift);
        q->lim = end > UINT64_MAX ? KEY_NONE : (evq_key)end << 64;
        return;
    }
}

/* ---- allocation ---- */

/* Resize to cap slots. On failure the queue is unchanged (some arrays may have grown,
 * which is harmless) and SIM_ENOMEM is returned. */
static int grow(struct sim_evq *q, size_t cap)
{
    if (cap <= q->cap || cap > EVQ_MAX_CAP)
        return SIM_ENOMEM;
    size_t n_desc = cap / EVQ_PER_BUCKET;
    size_t n_chunks = cap / EVQ_CHUNK + n_desc + 3;
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
    struct evq_bucket *desc = realloc(q->desc, n_desc * sizeof(*desc));
    if (desc == NULL)
        goto fail;
    q->desc = desc;

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
    q->n_desc = n_desc;
    q->cap = cap;
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
    q->top = (struct evq_bucket){.head = CHUNK_NONE, .count = 0};
    q->top_min = UINT64_MAX;
    q->lim = 0; /* no key is below it: the first pushes go to top */
    size_t cap = capacity_hint < EVQ_MIN_CAP ? EVQ_MIN_CAP : capacity_hint;
    if (grow(q, cap < EVQ_MAX_CAP ? cap : EVQ_MAX_CAP) != 0) {
        sim_evq_free(q);
        return NULL;
    }
    return q;
}

void sim_evq_free(struct sim_evq *q)
{
    if (q == NULL)
        return;
    free(q->key_mem);
    free(q->chunk);
    free(q->chunk_next);
    free(q->desc);
    free(q->body);
    free(q->free_slot);
    free(q);
}

/* ---- operations ---- */

static int cmp_key(const void *a, const void *b)
{
    evq_key x = *(const evq_key *)a, y = *(const evq_key *)b;
    return (x > y) - (x < y);
}

static void top_add(struct sim_evq *q, evq_key x)
{
    uint64_t u = key_u(x);
    q->top_min = u < q->top_min ? u : q->top_min;
    q->top_max = u > q->top_max ? u : q->top_max;
    bucket_add(q, &q->top, x);
}

void sim_evq_renumber(struct sim_evq *q)
{
    /* Gather every key in the heap array (it has room for cap), sort, renumber, and put
     * them all in top again, from where the next refill spreads them. */
    if (q->sorted)
        sorted_compact(q);
    else if (q->hole && q->heap_n > 0)
        fill_hole(q);
    q->hole = false;
    q->sorted = false;
    size_t n = q->heap_n;
    for (unsigned d = 0; d < q->depth; d++) {
        const struct evq_rung *r = &q->rung[d];
        for (uint32_t i = r->cur; i < r->nb; i++)
            if (q->desc[r->base + i].count > 0)
                n += bucket_take(q, &q->desc[r->base + i], q->key + n);
    }
    if (q->top.count > 0)
        n += bucket_take(q, &q->top, q->key + n);
    q->depth = 0;
    q->d_used = 0;
    q->top_min = UINT64_MAX;
    q->top_max = 0;
    qsort(q->key, n, sizeof(*q->key), cmp_key);
    for (size_t i = 0; i < n; i++) {
        top_add(q, key_make(key_at(q->key[i]), i, key_slot(q->key[i])));
        q->key[i] = KEY_NONE;
    }
    q->heap_n = 0;
    q->lim = 0;
    q->next_seq = n;
    if (n > 0)
        refill(q);
}

/* Push *ev with sequence number seq (invariant 3 is the caller's). */
__attribute__((always_inline)) static inline int push_key(struct sim_evq *q,
                                                          const struct sim_event *ev, uint64_t seq)
{
    if (q->n == q->cap) {
        size_t cap = 2 * q->cap < EVQ_MAX_CAP ? 2 * q->cap : EVQ_MAX_CAP;
        if (grow(q, cap) != 0)
            return SIM_ENOMEM;
    }
    uint32_t slot = q->free_slot[--q->n_free];
    q->body[slot] = (struct evq_body){
        .arg = ev->arg, .target = ev->target, .timer = ev->timer, .gen = ev->gen, .kind = ev->kind};
    evq_key x = key_make(ev->at, seq, slot);
    q->n++;
    if (x < q->lim) {
        if (q->sorted)
            sorted_push(q, x);
        else
            heap_push(q, x);
        return 0;
    }
    /* From the coarsest rung down: a key past rung d's buckets is in top (every deeper rung
     * lies inside rung d), one in a bucket before cur is inside the finer rung d + 1 (bucket
     * cur - 1 was split into it, earlier ones are behind lim). Most keys land in rung 0 or
     * top, so this usually takes one step. */
    uint64_t u = key_u(x);
    unsigned d = 0;
    for (; d < q->depth; d++) {
        const struct evq_rung *r = &q->rung[d];
        uint64_t i = (u - r->start) >> r->shift;
        if (i >= r->nb)
            break;
        if (i >= r->cur || d + 1 == q->depth) {
            bucket_add(q, &q->desc[r->base + i], x);
            goto placed;
        }
    }
    top_add(q, x);
placed:
    if (q->heap_n == 0) /* the queue was empty (invariant 2) */
        refill(q);
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
    if (q->sorted) {
        evq_key x = q->key[q->lo];
        q->key[q->lo++] = KEY_NONE;
        copy_out(q, x, out);
        q->free_slot[q->n_free++] = key_slot(x);
        q->n--;
        if (--q->heap_n == 0) {
            q->lo = 0;
            if (q->n > 0)
                refill(q);
        }
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
    if (q->n > 0)
        refill(q);
    return true;
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
