/* models/uart/link.c - full-duplex UART byte timing (see link.h). */
#include "models/uart/link.h"

#include <stdlib.h>
#include <string.h>

#include "sim/error.h"

void uart_link_cfg_default(struct uart_link_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->baud = 115200;
    c->queue_bytes = 65536;
    c->data_bits = 8;
    c->parity_bits = 0;
    c->stop_bits = 1;
}

int uart_link_cfg_check(const struct uart_link_cfg *c)
{
    if (c->baud == 0 || c->queue_bytes == 0)
        return SIM_ERANGE;
    if (c->data_bits < 5 || c->data_bits > 9 || c->parity_bits > 1 || c->stop_bits < 1 ||
        c->stop_bits > 2)
        return SIM_ERANGE;
    return 0;
}

unsigned uart_link_bits_per_byte(const struct uart_link_cfg *c)
{
    return 1u + c->data_bits + c->parity_bits + c->stop_bits;
}

int64_t uart_link_wire_ns(const struct uart_link_cfg *c, size_t n)
{
    if (c->baud == 0)
        return 0;
    /* n * bits * 1e9 fits in 64 bits for n < 1.4e9 at 12 bits per byte. */
    return (int64_t)((uint64_t)n * uart_link_bits_per_byte(c) * 1000000000u / c->baud);
}

static void wire_clear(struct uart_link_wire *w)
{
    w->head = w->n = 0;
    w->bytes_first = w->bytes_end = 0;
}

static void wire_free(struct uart_link_wire *w)
{
    free(w->bytes);
    free(w->chunks);
    w->bytes = NULL;
    w->chunks = NULL;
    w->bytes_cap = w->chunks_cap = 0;
    wire_clear(w);
}

/* Free the storage of wires emptied by uart_link_flush(), once no deliver() that may hold
 * a pointer into it is running (a flush from inside deliver is finished by the
 * uart_link_timer() that called it). A wire that took data since keeps its storage. */
static void release_storage(struct uart_link *l)
{
    if (!l->release_pending || l->cb_depth > 0)
        return;
    l->release_pending = false;
    for (int d = 0; d < UART_LINK_DIR_COUNT; d++)
        if (l->w[d].head == l->w[d].n)
            wire_free(&l->w[d]);
}

int uart_link_init(struct uart_link *l, const struct uart_link_cfg *cfg)
{
    memset(l, 0, sizeof(*l));
    l->cfg = *cfg;
    l->timer_at = -1;
    return uart_link_cfg_check(cfg);
}

void uart_link_fini(struct uart_link *l)
{
    for (int d = 0; d < UART_LINK_DIR_COUNT; d++) {
        wire_free(&l->w[d]);
        l->w[d].busy_until = 0;
    }
}

/* Room for n bytes and one chunk; moving live data first, so failure changes nothing.
 * The byte buffer starts at 256 and doubles on demand, capped at `limit` (queue_bytes,
 * which uart_link_send() has already checked the live bytes against), so steady traffic
 * allocates nothing once a burst's size has been seen. */
static int wire_reserve(struct uart_link_wire *w, size_t n, size_t limit)
{
    if (w->bytes_end + n > w->bytes_cap && w->bytes_first > 0) {
        uint32_t shift = w->bytes_first;
        memmove(w->bytes, w->bytes + shift, w->bytes_end - shift);
        for (uint32_t i = w->head; i < w->n; i++)
            w->chunks[i].off -= shift;
        w->bytes_end -= shift;
        w->bytes_first = 0;
    }
    if (w->bytes_end + n > w->bytes_cap) {
        size_t need = w->bytes_end + n;
        size_t cap = w->bytes_cap ? w->bytes_cap : 256;
        while (cap < need)
            cap *= 2;
        if (cap > limit)
            cap = need > limit ? need : limit;
        uint8_t *b = realloc(w->bytes, cap);
        if (!b)
            return SIM_ENOMEM;
        w->bytes = b;
        w->bytes_cap = (uint32_t)cap;
    }
    if (w->n + 1 > w->chunks_cap && w->head > 0) {
        memmove(w->chunks, w->chunks + w->head, (w->n - w->head) * sizeof(*w->chunks));
        w->n -= w->head;
        w->head = 0;
    }
    if (w->n + 1 > w->chunks_cap) {
        size_t cap = w->chunks_cap ? 2 * (size_t)w->chunks_cap : 8;
        struct uart_link_chunk *c = realloc(w->chunks, cap * sizeof(*c));
        if (!c)
            return SIM_ENOMEM;
        w->chunks = c;
        w->chunks_cap = (uint32_t)cap;
    }
    return 0;
}

static int rearm(struct uart_link *l, int64_t now, const struct uart_link_ctx *cx)
{
    int64_t at = INT64_MAX;
    for (int d = 0; d < UART_LINK_DIR_COUNT; d++) {
        const struct uart_link_wire *w = &l->w[d];
        if (w->head < w->n && w->chunks[w->head].at < at)
            at = w->chunks[w->head].at;
    }
    if (at == INT64_MAX) {
        if (l->timer_at >= 0)
            cx->timer_cancel(cx->env);
        l->timer_at = -1;
        return 0;
    }
    if (at < now)
        at = now;
    if (at == l->timer_at)
        return 0;
    l->timer_at = at;
    return cx->timer_arm(cx->env, at);
}

int uart_link_send(struct uart_link *l, enum uart_link_dir dir, const uint8_t *p, size_t n,
                   int64_t now, const struct uart_link_ctx *cx)
{
    if ((int)dir < 0 || dir >= UART_LINK_DIR_COUNT || !p || n == 0)
        return SIM_EINVAL;
    struct uart_link_wire *w = &l->w[dir];
    if ((size_t)(w->bytes_end - w->bytes_first) + n > l->cfg.queue_bytes)
        return 1;
    int rc = wire_reserve(w, n, l->cfg.queue_bytes);
    if (rc != 0)
        return rc;
    int64_t start = w->busy_until > now ? w->busy_until : now;
    w->busy_until = start + uart_link_wire_ns(&l->cfg, n);
    memcpy(w->bytes + w->bytes_end, p, n);
    w->chunks[w->n++] =
        (struct uart_link_chunk){.at = w->busy_until, .off = w->bytes_end, .len = (uint32_t)n};
    w->bytes_end += (uint32_t)n;
    return rearm(l, now, cx);
}

int uart_link_flush(struct uart_link *l, int64_t now, const struct uart_link_ctx *cx)
{
    for (int d = 0; d < UART_LINK_DIR_COUNT; d++) {
        struct uart_link_wire *w = &l->w[d];
        l->stats.n_dropped[d] += w->bytes_end - w->bytes_first;
        wire_clear(w);
        w->busy_until = now;
    }
    l->release_pending = true;
    release_storage(l);
    return rearm(l, now, cx);
}

int uart_link_timer(struct uart_link *l, int64_t now, const struct uart_link_ctx *cx)
{
    l->timer_at = -1;
    l->cb_depth++;
    for (;;) {
        int best = -1;
        for (int d = 0; d < UART_LINK_DIR_COUNT; d++) {
            const struct uart_link_wire *w = &l->w[d];
            if (w->head < w->n && w->chunks[w->head].at <= now &&
                (best < 0 || w->chunks[w->head].at < l->w[best].chunks[l->w[best].head].at))
                best = d;
        }
        if (best < 0)
            break;
        struct uart_link_wire *w = &l->w[best];
        struct uart_link_chunk c = w->chunks[w->head++];
        w->bytes_first = c.off + c.len;
        l->stats.n_bytes[best] += c.len;
        if (l->observe)
            l->observe(l->observe_env, (enum uart_link_dir)best, w->bytes + c.off, c.len, c.at);
        cx->deliver(cx->env, (enum uart_link_dir)best, w->bytes + c.off, c.len, c.at);
        if (w->head == w->n && w->bytes_first == w->bytes_end)
            wire_clear(w);
    }
    l->cb_depth--;
    release_storage(l);
    return rearm(l, now, cx);
}
