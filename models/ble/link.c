/* models/ble/link.c - one BLE connection: connection events computed at their anchors.
 *
 * Link-layer acknowledgement follows the 1-bit SN/NESN scheme (Core Vol 6 Part B §4.5.9):
 * each direction has at most one unacknowledged fragment. The
 * receiver takes a fragment when its PDU arrives intact (a second copy is a duplicate and
 * ignored); the sender learns of it from the next PDU it receives intact from the other
 * side, and only then moves to the next fragment. So in one exchange the peripheral's
 * answer acknowledges the central's PDU, and the central's next PDU acknowledges the
 * peripheral's answer. Two CRC errors in a row at either side close the event
 * (Core Vol 6 Part B §4.5.6; zephyrproject-rtos/zephyr:
 * subsys/bluetooth/controller/ll_sw/nordic/lll/lll_conn.c, crc_expire = 2).
 */
#include "models/ble/link.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim/error.h"

/* Connection parameter units and ranges (Core Vol 6 Part B §4.5.2, Vol 4 Part E §7.8.12;
 * TI SWRU271, "Connection Parameters"). */
#define INTERVAL_UNIT_NS 1250000LL    /* 1.25 ms */
#define INTERVAL_MIN_NS  7500000LL    /* 7.5 ms */
#define INTERVAL_MAX_NS  4000000000LL /* 4 s */
#define LATENCY_MAX      499
#define TIMEOUT_UNIT_NS  10000000LL    /* 10 ms */
#define TIMEOUT_MIN_NS   100000000LL   /* 100 ms */
#define TIMEOUT_MAX_NS   32000000000LL /* 32 s */

#define SDU_OVERHEAD (BLE_LINK_L2CAP_HDR + BLE_LINK_ATT_HDR)

/* ---- arithmetic on the anchor grid (divisor > 0) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return -floor_div(-a, b);
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

int64_t ble_link_anchor_get(const struct ble_link *l, int64_t k)
{
    int64_t at = l->ref_anchor + (k - l->ref_k) * l->cfg.interval_ns;
    if (!l->upd.pending || k < l->upd.instant)
        return at;
    int64_t at_instant = l->ref_anchor + (l->upd.instant - l->ref_k) * l->cfg.interval_ns;
    return at_instant + (k - l->upd.instant) * l->upd.interval_ns;
}

/* The grid segment that holds time t: (reference anchor, its event, interval). */
static void segment(const struct ble_link *l, int64_t t, int64_t *ref, int64_t *k0, int64_t *iv)
{
    *ref = l->ref_anchor;
    *k0 = l->ref_k;
    *iv = l->cfg.interval_ns;
    if (!l->upd.pending)
        return;
    int64_t at_instant = ble_link_anchor_get(l, l->upd.instant);
    if (t < at_instant)
        return;
    *ref = at_instant;
    *k0 = l->upd.instant;
    *iv = l->upd.interval_ns;
}

/* First event whose anchor is at or after t. */
static int64_t k_ceil(const struct ble_link *l, int64_t t)
{
    int64_t ref, k0, iv;
    segment(l, t, &ref, &k0, &iv);
    return k0 + ceil_div(t - ref, iv);
}

/* Last event whose anchor is at or before t. */
static int64_t k_floor(const struct ble_link *l, int64_t t)
{
    int64_t ref, k0, iv;
    segment(l, t, &ref, &k0, &iv);
    return k0 + floor_div(t - ref, iv);
}

/* ---- configuration ---- */

void ble_link_cfg_default(struct ble_link_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->interval_ns = 7500000LL;
    c->timeout_ns = 4000000000LL;
    c->ce_guard_ns = 150000LL;
    c->connect_delay_ns = 1250000LL;
    c->reconnect_ns = 1000000000LL;
    c->queue_bytes = 32768;
    c->latency = 0;
    c->mtu = 498;
    c->dle = 251;
    c->max_pdus_per_event = 6;
    c->setup_events = 8;
    c->update_instant_events = 6;
    c->phy = BLE_PHY_2M;
    c->encrypted = true;
    c->md_keeps_awake = true;
    c->loss.model = BLE_LOSS_NONE;
}

int ble_link_params_check(int64_t interval_ns, uint16_t latency, int64_t timeout_ns)
{
    if (interval_ns < INTERVAL_MIN_NS || interval_ns > INTERVAL_MAX_NS ||
        interval_ns % INTERVAL_UNIT_NS != 0)
        return SIM_ERANGE;
    if (latency > LATENCY_MAX)
        return SIM_ERANGE;
    if (timeout_ns < TIMEOUT_MIN_NS || timeout_ns > TIMEOUT_MAX_NS ||
        timeout_ns % TIMEOUT_UNIT_NS != 0)
        return SIM_ERANGE;
    if (timeout_ns <= (1 + (int64_t)latency) * interval_ns * 2)
        return SIM_ERANGE;
    return 0;
}

int ble_link_cfg_check(const struct ble_link_cfg *c)
{
    int rc = ble_link_params_check(c->interval_ns, c->latency, c->timeout_ns);
    if (rc != 0)
        return rc;
    if (c->mtu < BLE_LINK_ATT_MTU_MIN || c->mtu > BLE_LINK_ATT_MTU_MAX)
        return SIM_ERANGE;
    if (c->dle < BLE_PHY_PAYLOAD_MIN || c->dle > BLE_PHY_PAYLOAD_MAX)
        return SIM_ERANGE;
    if ((int)c->phy < 0 || c->phy >= BLE_PHY_COUNT)
        return SIM_ERANGE;
    if (c->max_pdus_per_event < 1 || c->update_instant_events < 1)
        return SIM_ERANGE;
    if (c->ce_guard_ns < 0 || c->connect_delay_ns < 0 || c->queue_bytes < c->mtu)
        return SIM_ERANGE;
    return ble_loss_cfg_check(&c->loss);
}

static uint16_t min16(uint16_t a, uint16_t b)
{
    return a < b ? a : b;
}

static bool both_support(const struct ble_link_caps *a, const struct ble_link_caps *b,
                         enum ble_phy phy)
{
    if ((int)phy < 0 || phy >= BLE_PHY_COUNT)
        return false;
    return (a->phys & b->phys & (1u << phy)) != 0;
}

void ble_link_cfg_negotiate(struct ble_link_cfg *c, const struct ble_link_caps *central,
                            const struct ble_link_caps *peripheral)
{
    uint16_t mtu = min16(central->mtu, peripheral->mtu);
    uint16_t dle = min16(min16(central->dle, peripheral->dle), BLE_PHY_PAYLOAD_MAX);
    c->mtu = mtu < BLE_LINK_ATT_MTU_MIN ? BLE_LINK_ATT_MTU_MIN : mtu;
    c->dle = dle < BLE_PHY_PAYLOAD_MIN ? BLE_PHY_PAYLOAD_MIN : dle;
    if (both_support(central, peripheral, central->preferred))
        c->phy = central->preferred;
    else if (both_support(central, peripheral, peripheral->preferred))
        c->phy = peripheral->preferred;
    else if (both_support(central, peripheral, BLE_PHY_2M))
        c->phy = BLE_PHY_2M;
    else
        c->phy = BLE_PHY_1M;
}

/* ---- one direction's queue ---- */

static struct ble_link_sdu *sdu_at(struct ble_link_queue *q, uint64_t i)
{
    return &q->sdus[i - q->base];
}

static const struct ble_link_sdu *sdu_at_c(const struct ble_link_queue *q, uint64_t i)
{
    return &q->sdus[i - q->base];
}

static bool q_has(const struct ble_link_queue *q)
{
    return q->acked < q->end;
}

/* LL payload octets of the fragment the sender has to (re)send; 0 = an empty PDU. */
static unsigned q_frag_len(const struct ble_link_queue *q, unsigned dle)
{
    if (!q_has(q))
        return 0;
    unsigned rest = sdu_at_c(q, q->acked)->len + SDU_OVERHEAD - q->frag_off;
    return rest < dle ? rest : dle;
}

/* MD: the sender has data beyond the fragment it sends now. */
static bool q_more(const struct ble_link_queue *q, unsigned dle)
{
    if (!q_has(q))
        return false;
    if (q->acked + 1 < q->end)
        return true;
    return q->frag_off + q_frag_len(q, dle) < sdu_at_c(q, q->acked)->len + SDU_OVERHEAD;
}

/* Forget every SDU; keep the storage. */
static void q_clear(struct ble_link_queue *q)
{
    q->base = q->first = q->end = 0;
    q->acked = q->received = q->delivered = q->sent_cb = 0;
    q->bytes_first = q->bytes_end = 0;
    q->frag_off = 0;
    q->frag_tries = 0;
    q->peer_has = false;
}

static void q_free(struct ble_link_queue *q)
{
    free(q->bytes);
    free(q->sdus);
    q->bytes = NULL;
    q->sdus = NULL;
    q->bytes_cap = q->sdus_cap = 0;
    q_clear(q);
}

/* Storage grows on demand and only by doubling (amortised: no allocation per SDU once a
 * burst's size has been seen), from 256 B up to `limit` (cfg.queue_bytes). It can need a
 * little more than `limit`: acknowledged SDUs stay stored until their deliver and sent
 * callbacks have run (q_pop), while ble_link_send() counts only unacknowledged bytes
 * against the limit. Then the buffer grows to exactly what is needed, so the limit never
 * turns a send that fits into FULL. Storage is released when the link drops its data
 * (disconnect, peer lost: release_storage()). */
static size_t grow_cap(size_t cap, size_t first, size_t need, size_t limit)
{
    cap = cap ? cap : first;
    while (cap < need)
        cap *= 2;
    if (cap > limit)
        cap = need > limit ? need : limit;
    return cap;
}

/* Make room for n more bytes and one more SDU, bytes growing at most to `limit` unless
 * more is needed (grow_cap). Moving live data keeps the queue's meaning, so a failure
 * leaves it unchanged. */
static int q_reserve(struct ble_link_queue *q, size_t n, size_t limit)
{
    if (q->bytes_end + n > q->bytes_cap && q->bytes_first > 0) {
        uint32_t shift = q->bytes_first;
        memmove(q->bytes, q->bytes + shift, q->bytes_end - shift);
        for (uint64_t i = q->first; i < q->end; i++)
            sdu_at(q, i)->off -= shift;
        q->bytes_end -= shift;
        q->bytes_first = 0;
    }
    if (q->bytes_end + n > q->bytes_cap) {
        size_t cap = grow_cap(q->bytes_cap, 256, q->bytes_end + n, limit);
        uint8_t *b = realloc(q->bytes, cap);
        if (!b)
            return SIM_ENOMEM;
        q->bytes = b;
        q->bytes_cap = (uint32_t)cap;
    }
    if (q->end - q->base + 1 > q->sdus_cap && q->first > q->base) {
        memmove(q->sdus, sdu_at(q, q->first), (size_t)(q->end - q->first) * sizeof(*q->sdus));
        q->base = q->first;
    }
    if (q->end - q->base + 1 > q->sdus_cap) {
        size_t cap = q->sdus_cap ? 2 * (size_t)q->sdus_cap : 8;
        struct ble_link_sdu *s = realloc(q->sdus, cap * sizeof(*s));
        if (!s)
            return SIM_ENOMEM;
        q->sdus = s;
        q->sdus_cap = (uint32_t)cap;
    }
    return 0;
}

/* Bytes of SDUs not yet acknowledged to the sender (what holds TX buffers). */
static size_t q_unacked_bytes(const struct ble_link_queue *q)
{
    if (!q_has(q))
        return 0;
    return q->bytes_end - sdu_at_c(q, q->acked)->off;
}

static int q_push(struct ble_link_queue *q, const uint8_t *p, size_t n, uint32_t limit)
{
    if (q_unacked_bytes(q) + n > limit)
        return BLE_LINK_FULL;
    int rc = q_reserve(q, n, limit);
    if (rc != 0)
        return rc;
    memcpy(q->bytes + q->bytes_end, p, n);
    *sdu_at(q, q->end) =
        (struct ble_link_sdu){.off = q->bytes_end, .len = (uint16_t)n, .rx_at = -1, .ack_at = -1};
    q->bytes_end += (uint32_t)n;
    q->end++;
    return 0;
}

/* Drop SDUs that are acknowledged, delivered and reported sent. */
static void q_pop(struct ble_link_queue *q)
{
    uint64_t done = q->acked;
    if (q->delivered < done)
        done = q->delivered;
    if (q->sent_cb < done)
        done = q->sent_cb;
    while (q->first < done) {
        const struct ble_link_sdu *s = sdu_at(q, q->first);
        q->bytes_first = s->off + s->len;
        q->first++;
    }
    if (q->first == q->end) {
        q->base = q->first;
        q->bytes_first = q->bytes_end = 0;
    }
}

/* The receiver got the current fragment intact at t. */
static void q_rx(struct ble_link_queue *q, unsigned dle, int64_t t)
{
    if (q->peer_has)
        return; /* same SN again: a duplicate, acknowledged and ignored */
    q->peer_has = true;
    struct ble_link_sdu *s = sdu_at(q, q->acked);
    if (q->frag_off + q_frag_len(q, dle) == s->len + SDU_OVERHEAD) {
        s->rx_at = t;
        q->received = q->acked + 1;
    }
}

/* The sender learnt at t that the receiver holds the current fragment. */
static void q_ack(struct ble_link_queue *q, unsigned dle, int64_t t)
{
    if (!q->peer_has)
        return;
    struct ble_link_sdu *s = sdu_at(q, q->acked);
    q->frag_off += q_frag_len(q, dle);
    q->peer_has = false;
    q->frag_tries = 0;
    if (q->frag_off < s->len + SDU_OVERHEAD)
        return;
    s->ack_at = t;
    q->acked++;
    q->frag_off = 0;
}

/* Free the storage of queues emptied by drop_all(), once no callback that may hold a
 * pointer into it (deliver's p) is running: a callback that disconnects its own link
 * leaves the release to the fire_due() that called it. A queue that took data since (the
 * central sending into the void in PEER_LOST) keeps its storage until the next drop. */
static void release_storage(struct ble_link *l)
{
    if (!l->release_pending || l->cb_depth > 0)
        return;
    l->release_pending = false;
    for (int d = 0; d < BLE_LINK_DIR_COUNT; d++)
        if (l->q[d].end == l->q[d].first)
            q_free(&l->q[d]);
}

/* ---- callbacks made at their own times ---- */

/* Earliest pending callback: returns its time (INT64_MAX if none), *dir and *deliver. */
static int64_t next_callback(const struct ble_link *l, int *dir, bool *deliver)
{
    int64_t at = INT64_MAX;
    for (int pass = 0; pass < 2; pass++) { /* deliveries first on equal times */
        for (int d = 0; d < BLE_LINK_DIR_COUNT; d++) {
            const struct ble_link_queue *q = &l->q[d];
            int64_t t = INT64_MAX;
            if (pass == 0 && q->delivered < q->received)
                t = sdu_at_c(q, q->delivered)->rx_at;
            if (pass == 1 && q->sent_cb < q->acked)
                t = sdu_at_c(q, q->sent_cb)->ack_at;
            if (t < at) {
                at = t;
                *dir = d;
                *deliver = pass == 0;
            }
        }
    }
    return at;
}

/* Without a sent callback nobody hears of acknowledgements: count them as told at once, so
 * they need no timer event of their own (about a third of a transfer's events). */
static void skip_unheard_sent(struct ble_link *l, const struct ble_link_ctx *cx)
{
    if (cx->sent != NULL)
        return;
    for (int d = 0; d < BLE_LINK_DIR_COUNT; d++)
        l->q[d].sent_cb = l->q[d].acked;
}

/* Make every callback due at <= now, in time order. Counters move before each call, so a
 * callback may send, update or disconnect. */
static void fire_due(struct ble_link *l, int64_t now, const struct ble_link_ctx *cx)
{
    skip_unheard_sent(l, cx);
    l->cb_depth++;
    for (;;) {
        int d = 0;
        bool deliver = false;
        int64_t at = next_callback(l, &d, &deliver);
        if (at > now)
            break;
        struct ble_link_queue *q = &l->q[d];
        if (!deliver) {
            q->sent_cb++;
            if (cx->sent)
                cx->sent(cx->env, (enum ble_link_dir)d, at);
            continue;
        }
        const struct ble_link_sdu *s = sdu_at(q, q->delivered);
        q->delivered++;
        l->stats.n_sdus[d]++;
        l->stats.n_bytes[d] += s->len;
        cx->deliver(cx->env, (enum ble_link_dir)d, q->bytes + s->off, s->len, at);
    }
    l->cb_depth--;
    for (int d = 0; d < BLE_LINK_DIR_COUNT; d++)
        q_pop(&l->q[d]);
    release_storage(l);
}

static void note(struct ble_link *l, enum ble_link_note_kind kind, uint8_t reason, int64_t at,
                 const struct ble_link_ctx *cx)
{
    if (!cx->note)
        return;
    struct ble_link_note n = {.kind = kind,
                              .at_ns = at,
                              .interval_ns = l->cfg.interval_ns,
                              .timeout_ns = l->cfg.timeout_ns,
                              .latency = l->cfg.latency,
                              .mtu = l->cfg.mtu,
                              .reason = reason};
    cx->note(cx->env, &n);
}

/* ---- scheduling ---- */

static bool link_idle(const struct ble_link *l)
{
    return !q_has(&l->q[BLE_LINK_C2P]) && !q_has(&l->q[BLE_LINK_P2C]);
}

/* An idle peripheral listens every latency + 1 events; those idle exchanges are assumed
 * received (fast path). Account for the ones before now so supervision and the latency
 * phase stay right when data arrives. Call only on an idle link. */
static void catch_up_idle(struct ble_link *l, int64_t now)
{
    int64_t kf = k_floor(l, now - 1); /* an event at now may still carry new data */
    int64_t step = (int64_t)l->cfg.latency + 1;
    if (kf <= l->last_k)
        return;
    int64_t k = l->last_k + (kf - l->last_k) / step * step;
    if (k <= l->last_k)
        return;
    l->last_k = k;
    int64_t at = ble_link_anchor_get(l, k);
    l->last_ok[0] = max64(l->last_ok[0], at);
    l->last_ok[1] = max64(l->last_ok[1], at);
}

/* The next event at or after now worth simulating, or -1 if no data is queued. Uplink
 * data wakes the peripheral at the next event; downlink data waits for an event the
 * peripheral listens to: every latency + 1 events after the last one, or the very next
 * one if the central signalled more data (MD) when the last event closed. */
static int64_t next_event(const struct ble_link *l, int64_t now)
{
    if (link_idle(l))
        return -1;
    int64_t from = max64(now, l->busy_until);
    if (from >= l->skip_from && from < l->skip_until)
        from = l->skip_until; /* the radio is the flash driver's until then */
    /* max(k_ceil(from), last_k + 1), without k_ceil's division when the event after the
     * last one is not before from (the usual case: most calls come within an interval of
     * the last event; the division was a third of this function's time). Anchors grow
     * with k, so then k_ceil(from) <= last_k + 1. */
    int64_t k = l->last_k + 1;
    if (ble_link_anchor_get(l, k) < from)
        k = k_ceil(l, from);
    if (ble_link_anchor_get(l, k) < l->skip_until && ble_link_anchor_get(l, k) >= l->skip_from)
        k = k_ceil(l, l->skip_until);
    if (q_has(&l->q[BLE_LINK_P2C]))
        return k;
    if (l->cfg.md_keeps_awake && l->md_at_end && k == l->last_k + 1)
        return k;
    if (l->cfg.latency == 0)
        return k; /* every event is listened to (the step below is 1) */
    int64_t step = (int64_t)l->cfg.latency + 1;
    return l->last_k + ceil_div(k - l->last_k, step) * step;
}

static int64_t supervision_expiry(const struct ble_link *l)
{
    return min64(l->last_ok[0], l->last_ok[1]) + l->cfg.timeout_ns;
}

/* Arm the timer at the next thing to do, or cancel it. */
static int rearm(struct ble_link *l, int64_t now, const struct ble_link_ctx *cx)
{
    skip_unheard_sent(l, cx);
    int64_t at = INT64_MAX;
    int d = 0;
    bool deliver = false;
    switch (l->state) {
    case BLE_LINK_SETUP:
    case BLE_LINK_RECONNECT_WAIT:
    case BLE_LINK_PEER_LOST:
        at = l->state_at;
        break;
    case BLE_LINK_CONNECTED: {
        at = next_callback(l, &d, &deliver);
        if (l->upd.pending)
            at = min64(at, ble_link_anchor_get(l, l->upd.instant));
        int64_t k = next_event(l, now);
        if (k >= 0)
            at = min64(at, min64(ble_link_anchor_get(l, k), supervision_expiry(l)));
        break;
    }
    case BLE_LINK_DISCONNECTED:
    case BLE_LINK_STATE_COUNT:
        break;
    }
    if (at == INT64_MAX) {
        if (l->timer_at >= 0)
            cx->timer_cancel(cx->env);
        l->timer_at = -1;
        return 0;
    }
    at = max64(at, now);
    if (at == l->timer_at)
        return 0;
    l->timer_at = at;
    return cx->timer_arm(cx->env, at);
}

/* ---- the connection event ---- */

static void count_tx(struct ble_link *l, int d)
{
    struct ble_link_queue *q = &l->q[d];
    l->stats.n_pdus[d]++;
    if (++q->frag_tries > 1)
        l->stats.n_retx[d]++;
}

static bool lost(struct ble_link *l)
{
    bool x = ble_loss_step(&l->loss, &l->cfg.loss, &l->rng);
    if (x)
        l->stats.n_lost++;
    return x;
}

/* Tell the observer about the PDU sent from q's side at `at` (l->observe != NULL). */
static void observe_pdu(const struct ble_link *l, enum ble_link_dir d, int64_t k, int64_t t0,
                        int64_t at, bool md, bool was_lost)
{
    const struct ble_link_queue *q = &l->q[d];
    unsigned len = q_frag_len(q, l->cfg.dle);
    struct ble_link_obs o = {.kind = BLE_LINK_OBS_PDU,
                             .at_ns = at,
                             .event = k,
                             .now_ns = t0,
                             .dir = d,
                             .md = md,
                             .lost = was_lost,
                             .encrypted = l->cfg.encrypted && len > 0,
                             .phy = l->cfg.phy,
                             .frag_len = (uint16_t)len};
    if (len > 0) {
        const struct ble_link_sdu *s = sdu_at_c(q, q->acked);
        o.sdu = q->bytes + s->off;
        o.sdu_len = s->len;
        o.frag_off = (uint16_t)q->frag_off;
        o.retx = q->frag_tries > 1; /* count_tx ran for this transmission */
    }
    l->observe(l->observe_env, &o);
}

/* Connection event k at t0 = anchor(k), computed whole (see the header). */
static void run_event(struct ble_link *l, int64_t k, int64_t t0)
{
    struct ble_link_queue *dn = &l->q[BLE_LINK_C2P], *up = &l->q[BLE_LINK_P2C];
    const unsigned dle = l->cfg.dle;
    const enum ble_phy phy = l->cfg.phy;
    const bool enc = l->cfg.encrypted;
    const int64_t ifs = BLE_PHY_T_IFS_NS;
    /* This link's share of the radio's event time (header: One radio, K links); with
     * ce_share 1 the division is exact, so a lone link ends at next anchor - guard. */
    const int64_t end =
        t0 + (ble_link_anchor_get(l, k + 1) - l->cfg.ce_guard_ns - t0) / (int64_t)l->ce_share;
    int crc_c = 0, crc_p = 0; /* CRC errors in a row at the central, at the peripheral */
    int64_t t = t0;

    l->stats.n_events++;
    l->last_k = k;
    for (unsigned n = 0; n < l->cfg.max_pdus_per_event; n++) {
        unsigned c_len = q_frag_len(dn, dle);
        int64_t c_air = ble_phy_pdu_ns(phy, c_len, enc);
        /* The central starts an exchange only if the longest answer still fits; the
         * first exchange always happens. */
        int64_t p_room = ble_phy_pdu_ns(phy, q_has(up) ? dle : 0, enc);
        if (n > 0 && t + c_air + ifs + p_room > end)
            break;
        if (c_len > 0)
            count_tx(l, BLE_LINK_C2P);
        t += c_air;
        bool c_lost = lost(l);
        if (l->observe) /* before the peripheral's reception moves the queues */
            observe_pdu(l, BLE_LINK_C2P, k, t0, t - c_air, q_more(dn, dle), c_lost);
        if (c_lost) {
            crc_p++;
        } else {
            crc_p = 0;
            l->last_ok[1] = t;
            q_ack(up, dle, t); /* NESN of the central's PDU */
            if (c_len > 0)
                q_rx(dn, dle, t);
        }
        if (crc_p >= 2) { /* the peripheral closes the event: no answer */
            l->stats.n_crc_close++;
            break;
        }
        unsigned p_len = q_frag_len(up, dle);
        bool p_md = q_more(up, dle); /* the peripheral's MD bit */
        if (p_len > 0)
            count_tx(l, BLE_LINK_P2C);
        t += ifs + ble_phy_pdu_ns(phy, p_len, enc);
        bool p_lost = lost(l);
        if (l->observe)
            observe_pdu(l, BLE_LINK_P2C, k, t0, t - ble_phy_pdu_ns(phy, p_len, enc), p_md, p_lost);
        if (p_lost) {
            crc_c++;
        } else {
            crc_c = 0;
            l->last_ok[0] = t;
            q_ack(dn, dle, t);
            if (p_len > 0)
                q_rx(up, dle, t);
        }
        if (crc_c >= 2) {
            l->stats.n_crc_close++;
            break;
        }
        if (!q_has(dn) && !p_md) /* MD = 0 on both sides */
            break;
        t += ifs;
    }
    l->md_at_end = q_has(dn);
    l->busy_until = t;
}

/* ---- transitions ---- */

static int start_setup(struct ble_link *l, int64_t now, const struct ble_link_ctx *cx)
{
    l->state = BLE_LINK_SETUP;
    l->ref_anchor = now + l->cfg.connect_delay_ns;
    l->ref_k = 0;
    l->upd.pending = false;
    l->md_at_end = false;
    l->state_at = ble_link_anchor_get(l, l->cfg.setup_events);
    if (l->observe) {
        struct ble_link_obs o = {.kind = BLE_LINK_OBS_CONNECT,
                                 .at_ns = now,
                                 .anchor_ns = l->ref_anchor,
                                 .interval_ns = l->cfg.interval_ns,
                                 .timeout_ns = l->cfg.timeout_ns,
                                 .latency = l->cfg.latency,
                                 .mtu = l->cfg.mtu,
                                 .phy = l->cfg.phy};
        l->observe(l->observe_env, &o);
    }
    return rearm(l, now, cx);
}

static void become_connected(struct ble_link *l, int64_t now, const struct ble_link_ctx *cx)
{
    l->state = BLE_LINK_CONNECTED;
    l->last_k = (int64_t)l->cfg.setup_events - 1; /* the peripheral listened during setup */
    l->last_ok[0] = l->last_ok[1] = ble_link_anchor_get(l, l->last_k);
    note(l, BLE_LINK_NOTE_CONNECTED, 0, now, cx);
}

static void drop_all(struct ble_link *l)
{
    for (int d = 0; d < BLE_LINK_DIR_COUNT; d++) {
        struct ble_link_queue *q = &l->q[d];
        l->stats.n_dropped[d] += q->end - q->delivered;
        q_clear(q);
    }
    l->upd.pending = false;
    l->md_at_end = false;
    l->release_pending = true;
    release_storage(l);
}

static int do_disconnect(struct ble_link *l, uint8_t reason, bool may_reconnect, int64_t now,
                         const struct ble_link_ctx *cx)
{
    fire_due(l, now, cx);
    if (l->state == BLE_LINK_DISCONNECTED)
        return rearm(l, now, cx); /* a callback disconnected already */
    drop_all(l);
    l->stats.n_disconnects++;
    l->state = BLE_LINK_DISCONNECTED;
    if (may_reconnect && l->cfg.reconnect_ns >= 0) {
        l->state = BLE_LINK_RECONNECT_WAIT;
        l->state_at = now + l->cfg.reconnect_ns;
    }
    note(l, BLE_LINK_NOTE_DISCONNECTED, reason, now, cx);
    return rearm(l, now, cx);
}

static void apply_update(struct ble_link *l, int64_t now, const struct ble_link_ctx *cx)
{
    if (link_idle(l))
        catch_up_idle(l, now);
    int64_t at = ble_link_anchor_get(l, l->upd.instant);
    l->ref_anchor = at;
    l->ref_k = l->upd.instant;
    l->cfg.interval_ns = l->upd.interval_ns;
    l->cfg.latency = l->upd.latency;
    l->cfg.timeout_ns = l->upd.timeout_ns;
    l->upd.pending = false;
    if (link_idle(l) && l->last_k < l->ref_k) { /* the peripheral listens at the instant */
        l->last_k = l->ref_k;
        l->last_ok[0] = max64(l->last_ok[0], at);
        l->last_ok[1] = max64(l->last_ok[1], at);
    }
    note(l, BLE_LINK_NOTE_PARAMS_UPDATED, 0, at, cx);
}

static int connected_timer(struct ble_link *l, int64_t now, const struct ble_link_ctx *cx)
{
    fire_due(l, now, cx);
    if (l->state != BLE_LINK_CONNECTED)
        return rearm(l, now, cx);
    if (l->upd.pending && ble_link_anchor_get(l, l->upd.instant) <= now)
        apply_update(l, now, cx);
    int64_t k = next_event(l, now);
    if (k >= 0 && supervision_expiry(l) <= now)
        return do_disconnect(l, BLE_LINK_REASON_TIMEOUT, true, now, cx);
    if (k >= 0 && ble_link_anchor_get(l, k) == now)
        run_event(l, k, now);
    ble_link_check(l);
    return rearm(l, now, cx);
}

/* ---- API ---- */

int ble_link_init(struct ble_link *l, const struct ble_link_cfg *cfg, uint64_t seed,
                  uint64_t entity)
{
    memset(l, 0, sizeof(*l));
    l->cfg = *cfg;
    l->state = BLE_LINK_DISCONNECTED;
    l->timer_at = -1;
    l->last_k = -1;
    l->ce_share = 1;
    sim_rng_init(&l->rng, seed, entity, SIM_RNG_LINK_LOSS);
    ble_loss_init(&l->loss);
    return ble_link_cfg_check(cfg);
}

void ble_link_trim(struct ble_link *l)
{
    if (l->cb_depth > 0)
        return;
    for (int d = 0; d < BLE_LINK_DIR_COUNT; d++) {
        struct ble_link_queue *q = &l->q[d];
        if (q->first != q->end)
            continue;
        free(q->bytes);
        free(q->sdus);
        q->bytes = NULL;
        q->sdus = NULL;
        q->bytes_cap = q->sdus_cap = 0;
        q->bytes_first = q->bytes_end = 0; /* as q_reserve's compaction leaves them */
        q->base = q->first;
    }
}

int ble_link_set_ce_share(struct ble_link *l, unsigned n_links)
{
    if (n_links < 1 || n_links > BLE_LINK_CE_SHARE_MAX)
        return SIM_EINVAL;
    l->ce_share = (uint8_t)n_links;
    return 0;
}

void ble_link_fini(struct ble_link *l)
{
    for (int d = 0; d < BLE_LINK_DIR_COUNT; d++)
        q_free(&l->q[d]);
}

int ble_link_connect(struct ble_link *l, int64_t now, const struct ble_link_ctx *cx)
{
    if (l->state != BLE_LINK_DISCONNECTED && l->state != BLE_LINK_RECONNECT_WAIT) {
        l->stats.n_unexpected++;
        return SIM_EINVAL;
    }
    return start_setup(l, now, cx);
}

int ble_link_disconnect(struct ble_link *l, uint8_t reason, int64_t now,
                        const struct ble_link_ctx *cx)
{
    if (l->state == BLE_LINK_DISCONNECTED) {
        l->stats.n_unexpected++;
        return 0;
    }
    return do_disconnect(l, reason, false, now, cx);
}

int ble_link_loss_set(struct ble_link *l, const struct ble_loss_cfg *c)
{
    int rc = ble_loss_cfg_check(c);
    if (rc != 0)
        return rc;
    l->cfg.loss = *c;
    return 0;
}

int ble_link_peer_lost(struct ble_link *l, int64_t now, const struct ble_link_ctx *cx)
{
    if (l->state != BLE_LINK_CONNECTED) {
        l->stats.n_unexpected++;
        return 0;
    }
    fire_due(l, now, cx);
    if (l->state != BLE_LINK_CONNECTED)
        return rearm(l, now, cx);
    drop_all(l);
    l->state = BLE_LINK_PEER_LOST;
    l->state_at = now + l->cfg.timeout_ns;
    return rearm(l, now, cx);
}

int ble_link_send(struct ble_link *l, enum ble_link_dir dir, const uint8_t *p, size_t n,
                  int64_t now, const struct ble_link_ctx *cx)
{
    if ((int)dir < 0 || dir >= BLE_LINK_DIR_COUNT || !p || n == 0 || n > ble_link_sdu_max(l))
        return SIM_EINVAL;
    bool central_into_void = l->state == BLE_LINK_PEER_LOST && dir == BLE_LINK_C2P;
    if (l->state != BLE_LINK_CONNECTED && !central_into_void)
        return BLE_LINK_NOT_CONNECTED;
    if (l->state == BLE_LINK_CONNECTED && link_idle(l))
        catch_up_idle(l, now);
    int rc = q_push(&l->q[dir], p, n, l->cfg.queue_bytes);
    if (rc != 0)
        return rc;
    return rearm(l, now, cx);
}

int ble_link_update(struct ble_link *l, enum ble_link_dir initiator, int64_t interval_ns,
                    uint16_t latency, int64_t timeout_ns, int64_t now,
                    const struct ble_link_ctx *cx)
{
    if (l->state != BLE_LINK_CONNECTED)
        return BLE_LINK_NOT_CONNECTED;
    if (l->upd.pending)
        return BLE_LINK_BUSY;
    if (initiator == BLE_LINK_P2C && l->cfg.central_interval_ns > 0)
        interval_ns = l->cfg.central_interval_ns; /* the central's answer (central.h) */
    int rc = ble_link_params_check(interval_ns, latency, timeout_ns);
    if (rc != 0)
        return rc;
    if (link_idle(l))
        catch_up_idle(l, now);
    /* The event that carries the procedure's PDU: the next one for the peripheral, the
     * next one the peripheral listens to for the central. */
    int64_t k = max64(k_ceil(l, now), l->last_k + 1);
    if (initiator == BLE_LINK_C2P) {
        int64_t step = (int64_t)l->cfg.latency + 1;
        k = l->last_k + ceil_div(k - l->last_k, step) * step;
    }
    l->upd = (struct ble_link_update){.instant = k + l->cfg.update_instant_events,
                                      .interval_ns = interval_ns,
                                      .timeout_ns = timeout_ns,
                                      .latency = latency,
                                      .pending = true};
    return rearm(l, now, cx);
}

bool ble_link_schedule(const struct ble_link *l, int64_t now, int64_t *anchor, int64_t *interval,
                       int64_t *busy)
{
    if (l->state != BLE_LINK_CONNECTED)
        return false;
    int64_t k = k_ceil(l, now);
    *anchor = ble_link_anchor_get(l, k);
    *interval = ble_link_anchor_get(l, k + 1) - *anchor;
    int64_t empty = 2 * ble_phy_pdu_ns(l->cfg.phy, 0, l->cfg.encrypted) + BLE_PHY_T_IFS_NS;
    int64_t last = l->last_k >= 0 ? l->busy_until - ble_link_anchor_get(l, l->last_k) : 0;
    *busy = link_idle(l) ? empty : max64(empty, min64(last, *interval - 1));
    return true;
}

int ble_link_skip_events(struct ble_link *l, int64_t from, int64_t until, int64_t now,
                         const struct ble_link_ctx *cx)
{
    if (from <= l->skip_until && until >= l->skip_from) { /* overlaps the last span: join */
        from = min64(from, l->skip_from);
        until = max64(until, l->skip_until);
    }
    l->skip_from = from;
    l->skip_until = until;
    return l->state == BLE_LINK_CONNECTED ? rearm(l, now, cx) : 0;
}

int ble_link_timer(struct ble_link *l, int64_t now, const struct ble_link_ctx *cx)
{
    l->timer_at = -1; /* this arming is used up */
    switch (l->state) {
    case BLE_LINK_CONNECTED:
        return connected_timer(l, now, cx);
    case BLE_LINK_SETUP:
        if (now >= l->state_at)
            become_connected(l, now, cx);
        return rearm(l, now, cx);
    case BLE_LINK_RECONNECT_WAIT:
        if (now >= l->state_at)
            return start_setup(l, now, cx);
        return rearm(l, now, cx);
    case BLE_LINK_PEER_LOST:
        if (now >= l->state_at)
            return do_disconnect(l, BLE_LINK_REASON_TIMEOUT, false, now, cx);
        return rearm(l, now, cx);
    case BLE_LINK_DISCONNECTED:
    case BLE_LINK_STATE_COUNT:
        break;
    }
    l->stats.n_unexpected++;
    return 0;
}

void ble_link_check(const struct ble_link *l)
{
#ifdef NDEBUG
    (void)l;
#else
    for (int d = 0; d < BLE_LINK_DIR_COUNT; d++) {
        const struct ble_link_queue *q = &l->q[d];
        assert(q->base <= q->first && q->first <= q->end);
        assert(q->acked <= q->received && q->received <= q->acked + 1);
        assert(q->received <= q->end);
        assert(q->delivered <= q->received && q->sent_cb <= q->acked);
        assert(q->first <= q->acked && q->first <= q->delivered && q->first <= q->sent_cb);
        assert(!q->peer_has || q->acked < q->end);
        if (l->state != BLE_LINK_CONNECTED && l->state != BLE_LINK_PEER_LOST)
            assert(q->end == 0);
    }
    if (l->state != BLE_LINK_CONNECTED)
        assert(!l->upd.pending);
    assert(l->ce_share >= 1 && l->ce_share <= BLE_LINK_CE_SHARE_MAX);
#endif
}

/* ---- settings ------------------------------------------------------------------------- */

/* Order matches enum ble_phy. */
static const char *const phy_names[] = {"1M", "2M", "coded-s2", "coded-s8", NULL};

static const struct scenario_field link_fields[] = {
    {.key = "phy",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct ble_link_settings, phy),
     .def = "2M",
     .names = phy_names,
     .doc = "PHY after the PHY exchange"},
    {.key = "mtu",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct ble_link_settings, mtu),
     .def = "498",
     .min = "23",
     .max = "517",
     .doc = "ATT MTU after the exchange",
     .source = "Nordic's SMP recommendation, two full 251-octet PDUs per write: "
               "NordicSemiconductor/Android-nRF-Connect-Device-Manager McuMgrBleTransport.java"},
    {.key = "dle",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct ble_link_settings, dle),
     .def = "251",
     .min = "27",
     .max = "251",
     .doc = "LL data length (octets per PDU) after the DLE exchange",
     .source = "Bluetooth Core 5.x Vol 6 Part B section 2.4 (largest LL payload)"},
    {.key = "interval",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct ble_link_settings, interval),
     .flags = SCENARIO_F_DIST | SCENARIO_F_POS,
     .dist_offset = offsetof(struct ble_link_settings, interval_dist),
     .pos_offset = offsetof(struct ble_link_settings, interval_at),
     .def = "7.5ms",
     .min = "7.5ms",
     .max = "4s",
     .doc = "connection interval, a multiple of 1.25 ms. Absent: the device asks for the default "
            "and the central's rule decides (client.central); given: used as it is",
     .source = "nrfconnect/sdk-nrf: nRF Desktop (CONFIG_BT_PERIPHERAL_PREF_MIN_INT 6)"},
    {.key = "latency",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct ble_link_settings, latency),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct ble_link_settings, latency_dist),
     .def = "0",
     .min = "0",
     .max = "499",
     .doc = "peripheral latency at connection (nRF Desktop: 99 idle; ble_latency sets 0 in DFU)"},
    {.key = "timeout",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct ble_link_settings, timeout),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct ble_link_settings, timeout_dist),
     .def = "4s",
     .min = "100ms",
     .max = "32s",
     .doc = "supervision timeout",
     .source = "nrfconnect/sdk-nrf: nRF Desktop (CONFIG_BT_PERIPHERAL_PREF_TIMEOUT 400)"},
    {.key = "adv_delay",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct ble_link_settings, adv_delay),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct ble_link_settings, adv_delay_dist),
     .def = "100ms",
     .min = "0s",
     .max = "1h",
     .doc = "from advertising (or the central asking, if later) to CONNECT_IND",
     .unverified = true},
    {.key = "loss",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct ble_link_settings, loss),
     .sub = &ble_loss_settings_schema,
     .doc = "per-PDU loss with link-layer retransmission"},
};

const struct scenario_schema ble_link_settings_schema =
    SCENARIO_SCHEMA("link", struct ble_link_settings, link_fields);

void ble_link_cfg_from_settings(const struct ble_link_settings *s, uint16_t packets_per_event,
                                struct ble_link_cfg *out)
{
    ble_link_cfg_default(out);
    out->phy = (enum ble_phy)s->phy;
    out->mtu = s->mtu;
    out->dle = s->dle;
    out->interval_ns = s->interval;
    out->latency = s->latency;
    out->timeout_ns = s->timeout;
    if (packets_per_event > 0)
        out->max_pdus_per_event = packets_per_event;
    out->loss.model = (enum ble_loss_model)s->loss.model;
    out->loss.per_good = s->loss.good;
    out->loss.per_bad = s->loss.bad;
    out->loss.p_gb = s->loss.p_gb;
    out->loss.p_bg = s->loss.p_bg;
}
