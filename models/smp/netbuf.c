/* models/smp/netbuf.c - net_buf pool and the strictly-in-order SMP worker.
 *
 * Storage: a buffer's buf_size bytes are allocated when it leaves FREE and freed when it
 * returns, not held for the pool's life. Most of a device's buffers are FREE most of the
 * time, and freed blocks are reused by the next device's packet, so a fleet holds storage
 * for the packets in flight, not 4 x buf_size per device (bench/RESULTS.md, "Fleet
 * scale"). The RESPONSE buffer gets its storage only when process() is called. */
#include "models/smp/netbuf.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "models/smp/frame.h"
#include "sim/error.h"

struct buf {
    uint8_t *mem; /* buf_size bytes while not FREE (RESPONSE: during process()), else NULL */
    size_t len;
    uint32_t conn;
    enum smp_netbuf_state state;
};

struct smp_netbuf {
    struct smp_netbuf_cfg cfg;
    /* cfg.buf_count of each, in the same allocation (not SMP_NETBUF_MAX_COUNT: a pool of 4
     * is 190 B, not 970; bench/RESULTS.md, "Session state on demand") */
    struct buf *bufs;
    int *queue; /* FIFO of QUEUED buffers, a ring of cfg.buf_count */
    size_t q_head, q_len;
    size_t n_free;
    int busy_buf; /* PROCESSING buffer, -1 when idle */
    int rsp_buf;  /* RESPONSE buffer, -1 if none */
    int64_t done_at;
    uint64_t n_dropped;
    int err; /* SIM_ENOMEM once storage could not be allocated; returned by the next call */
};

/* Released blocks of the most recent size, kept for the next packet (LIFO, so it is still in
 * cache): a DFU takes and returns storage for every packet, and malloc of a 2.5 KB block
 * (past glibc's small-size caches) costs more than the packet's own processing. The
 * program is single-threaded; the cache is bounded and stays reachable, so no leak. */
#define BLOCK_CACHE 64
static struct {
    size_t size;
    uint32_t n;
    uint8_t *b[BLOCK_CACHE];
} blocks;

uint8_t *smp_netbuf_block_get(size_t size)
{
    if (blocks.size == size && blocks.n > 0)
        return blocks.b[--blocks.n];
    return malloc(size);
}

void smp_netbuf_block_put(uint8_t *p, size_t size)
{
    if (p == NULL)
        return;
    if (blocks.size != size) { /* another size now: drop the old ones */
        while (blocks.n > 0)
            free(blocks.b[--blocks.n]);
        blocks.size = size;
    }
    if (blocks.n < BLOCK_CACHE)
        blocks.b[blocks.n++] = p;
    else
        free(p);
}

struct smp_netbuf_cfg smp_netbuf_cfg_default(void)
{
    return (struct smp_netbuf_cfg){.buf_size = 384, .buf_count = 4, .cpu_per_request = 200000};
}

struct smp_netbuf *smp_netbuf_new(const struct smp_netbuf_cfg *cfg)
{
    if (cfg->buf_count == 0 || cfg->buf_count > SMP_NETBUF_MAX_COUNT || cfg->buf_size == 0)
        return NULL;
    size_t n = cfg->buf_count;
    struct smp_netbuf *nb = calloc(1, sizeof(*nb) + n * sizeof(*nb->bufs) + n * sizeof(*nb->queue));
    if (nb == NULL)
        return NULL;
    nb->bufs = (struct buf *)(nb + 1);
    nb->queue = (int *)(nb->bufs + n);
    nb->cfg = *cfg;
    nb->n_free = cfg->buf_count;
    nb->busy_buf = -1;
    nb->rsp_buf = -1;
    return nb;
}

void smp_netbuf_free(struct smp_netbuf *nb)
{
    if (nb == NULL)
        return;
    for (uint32_t i = 0; i < nb->cfg.buf_count; i++)
        smp_netbuf_block_put(nb->bufs[i].mem, nb->cfg.buf_size);
    free(nb);
}

/* A FREE buffer for st, with storage unless it is the RESPONSE buffer (see the top), or -1.
 * When storage cannot be allocated the buffer stays FREE, -1 is returned as if the pool
 * were empty, and nb->err makes the next enqueue or timer call fail (the run stops). */
static int take(struct smp_netbuf *nb, enum smp_netbuf_state st)
{
    for (uint32_t i = 0; i < nb->cfg.buf_count; i++) {
        if (nb->bufs[i].state != SMP_NETBUF_FREE)
            continue;
        uint8_t *mem = NULL;
        if (st != SMP_NETBUF_RESPONSE && (mem = smp_netbuf_block_get(nb->cfg.buf_size)) == NULL) {
            nb->err = SIM_ENOMEM;
            return -1;
        }
        nb->bufs[i] = (struct buf){.mem = mem, .state = st};
        nb->n_free--;
        return (int)i;
    }
    return -1;
}

static void put_back(struct smp_netbuf *nb, int buf)
{
    assert(nb->bufs[buf].state != SMP_NETBUF_FREE);
    nb->bufs[buf].state = SMP_NETBUF_FREE;
    smp_netbuf_block_put(nb->bufs[buf].mem, nb->cfg.buf_size);
    nb->bufs[buf].mem = NULL;
    nb->n_free++;
}

int smp_netbuf_alloc(struct smp_netbuf *nb)
{
    return take(nb, SMP_NETBUF_TRANSPORT);
}

void smp_netbuf_release(struct smp_netbuf *nb, int buf)
{
    assert(buf >= 0 && (uint32_t)buf < nb->cfg.buf_count);
    assert(nb->bufs[buf].state == SMP_NETBUF_TRANSPORT);
    put_back(nb, buf);
}

uint8_t *smp_netbuf_data(struct smp_netbuf *nb, int buf, size_t **len)
{
    assert(buf >= 0 && (uint32_t)buf < nb->cfg.buf_count);
    *len = &nb->bufs[buf].len;
    return nb->bufs[buf].mem;
}

/* Number of complete SMP headers in a packet: each request costs CPU time. */
static size_t n_requests(const uint8_t *p, size_t n)
{
    size_t count = 0, off = 0;
    struct smp_frame_hdr h;
    while (smp_frame_hdr_decode(&h, p + off, n - off) == 0) {
        count++;
        off += SMP_MGMT_HDR_SIZE;
        if (n - off < h.len)
            break;
        off += h.len;
    }
    return count;
}

/* Take the next queued packet, if any, and arm the completion timer. */
static int start_next(struct smp_netbuf *nb, int64_t now, const struct smp_netbuf_ctx *cx)
{
    if (nb->busy_buf >= 0 || nb->q_len == 0)
        return 0;
    int buf = nb->queue[nb->q_head];
    nb->q_head = (nb->q_head + 1) % nb->cfg.buf_count;
    nb->q_len--;
    nb->bufs[buf].state = SMP_NETBUF_PROCESSING;
    nb->busy_buf = buf;
    nb->rsp_buf = take(nb, SMP_NETBUF_RESPONSE);
    const uint8_t *p = nb->bufs[buf].mem;
    size_t n = nb->bufs[buf].len;
    int64_t cost = (int64_t)n_requests(p, n) * nb->cfg.cpu_per_request;
    if (cx->flash_cost != NULL)
        cost += cx->flash_cost(cx->env, p, n);
    nb->done_at = now + cost;
    return cx->timer_arm(cx->env, nb->done_at);
}

int smp_netbuf_enqueue(struct smp_netbuf *nb, int buf, uint32_t conn, int64_t now,
                       const struct smp_netbuf_ctx *cx)
{
    assert(buf >= 0 && (uint32_t)buf < nb->cfg.buf_count);
    assert(nb->bufs[buf].state == SMP_NETBUF_TRANSPORT);
    nb->bufs[buf].state = SMP_NETBUF_QUEUED;
    nb->bufs[buf].conn = conn;
    nb->queue[(nb->q_head + nb->q_len) % nb->cfg.buf_count] = buf;
    nb->q_len++;
    int rc = start_next(nb, now, cx);
    return nb->err != 0 ? nb->err : rc;
}

int smp_netbuf_rx(struct smp_netbuf *nb, const uint8_t *pkt, size_t n, uint32_t conn, int64_t now,
                  const struct smp_netbuf_ctx *cx, bool *dropped)
{
    *dropped = true;
    int buf = n <= nb->cfg.buf_size ? smp_netbuf_alloc(nb) : -1;
    if (buf < 0) {
        nb->n_dropped++;
        return 0;
    }
    *dropped = false;
    size_t *len;
    uint8_t *d = smp_netbuf_data(nb, buf, &len);
    if (n > 0)
        memcpy(d, pkt, n);
    *len = n;
    return smp_netbuf_enqueue(nb, buf, conn, now, cx);
}

int smp_netbuf_timer(struct smp_netbuf *nb, int64_t now, const struct smp_netbuf_ctx *cx)
{
    if (nb->err != 0)
        return nb->err;
    if (nb->busy_buf < 0 || now != nb->done_at)
        return 0;
    int buf = nb->busy_buf;
    uint8_t *rsp = NULL;
    if (nb->rsp_buf >= 0) {
        rsp = nb->bufs[nb->rsp_buf].mem = smp_netbuf_block_get(nb->cfg.buf_size);
        if (rsp == NULL)
            return nb->err = SIM_ENOMEM;
    }
    int rc = cx->process(cx->env, nb->bufs[buf].mem, nb->bufs[buf].len, rsp,
                         rsp ? nb->cfg.buf_size : 0, now);
    put_back(nb, buf);
    if (nb->rsp_buf >= 0)
        put_back(nb, nb->rsp_buf);
    nb->busy_buf = -1;
    nb->rsp_buf = -1;
    int rc2 = start_next(nb, now, cx);
    return rc != 0 ? rc : rc2;
}

size_t smp_netbuf_flush(struct smp_netbuf *nb, uint32_t conn)
{
    size_t kept = 0, dropped = 0;
    int keep[SMP_NETBUF_MAX_COUNT];
    for (size_t i = 0; i < nb->q_len; i++) {
        int buf = nb->queue[(nb->q_head + i) % nb->cfg.buf_count];
        if (nb->bufs[buf].conn == conn) {
            put_back(nb, buf);
            dropped++;
        } else {
            keep[kept++] = buf;
        }
    }
    nb->q_head = 0;
    nb->q_len = kept;
    memcpy(nb->queue, keep, kept * sizeof(keep[0]));
    return dropped;
}

size_t smp_netbuf_n_free(const struct smp_netbuf *nb)
{
    return nb->n_free;
}

size_t smp_netbuf_n_queued(const struct smp_netbuf *nb)
{
    return nb->q_len;
}

bool smp_netbuf_busy(const struct smp_netbuf *nb)
{
    return nb->busy_buf >= 0;
}

uint32_t smp_netbuf_buf_size(const struct smp_netbuf *nb)
{
    return nb->cfg.buf_size;
}

uint64_t smp_netbuf_n_dropped(const struct smp_netbuf *nb)
{
    return nb->n_dropped;
}

void smp_netbuf_check(const struct smp_netbuf *nb)
{
#ifndef NDEBUG
    size_t count[SMP_NETBUF_RESPONSE + 1] = {0};
    for (uint32_t i = 0; i < nb->cfg.buf_count; i++)
        count[nb->bufs[i].state]++;
    assert(count[SMP_NETBUF_FREE] == nb->n_free);
    assert(count[SMP_NETBUF_QUEUED] == nb->q_len);
    assert(count[SMP_NETBUF_PROCESSING] == (nb->busy_buf >= 0 ? 1u : 0u));
    assert(count[SMP_NETBUF_RESPONSE] == (nb->rsp_buf >= 0 ? 1u : 0u));
    assert(nb->busy_buf >= 0 || (nb->q_len == 0 && nb->rsp_buf < 0));
    if (nb->busy_buf >= 0)
        assert(nb->bufs[nb->busy_buf].state == SMP_NETBUF_PROCESSING);
#else
    (void)nb;
#endif
}

/* ---- settings ------------------------------------------------------------------------- */

static const struct scenario_field netbuf_fields[] = {
    {.key = "size",
     .type = SCENARIO_T_SIZE,
     SCENARIO_AT(struct smp_netbuf_settings, size),
     .def = "2475B",
     .min = "64B",
     .max = "4KiB",
     .doc = "MCUmgr net_buf size (CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE)",
     .source = "nrfconnect/sdk-zephyr PR #2033: smp_svr sample overlay-bt.conf "
               "(with ATT MTU 498)"},
    {.key = "count",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct smp_netbuf_settings, count),
     .def = "4",
     .min = "1",
     .max = "32",
     .doc = "MCUmgr net_bufs (CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT)",
     .source = "zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/transport/Kconfig (default 4)"},
    {.key = "cpu_per_request",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct smp_netbuf_settings, cpu_per_request),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct smp_netbuf_settings, cpu_per_request_dist),
     .def = "200us",
     .min = "0s",
     .max = "1s",
     .doc = "SMP worker CPU time per request, flash work excluded",
     .unverified = true},
};

const struct scenario_schema smp_netbuf_settings_schema =
    SCENARIO_SCHEMA_GIVEN("net_buf pool", struct smp_netbuf_settings, netbuf_fields, given);

struct smp_netbuf_cfg smp_netbuf_cfg_from_settings(const struct smp_netbuf_settings *s)
{
    return (struct smp_netbuf_cfg){
        .buf_size = (uint32_t)s->size, /* at most 4KiB */
        .buf_count = s->count,
        .cpu_per_request = s->cpu_per_request,
    };
}
