/* models/smp/netbuf.h - MCUmgr's net_buf pool and its single SMP work queue.
 *
 * One pool of buf_count buffers of buf_size bytes, shared by received requests (and
 * partial reassemblies) and responses. One worker processes queued packets strictly in
 * order; while it works on a packet it holds the request buffer and one response buffer.
 * Allocation never waits: a request that finds no free buffer is dropped by its transport.
 * Source: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/transport/src/smp.c (pool, FIFO,
 * smp_handle_reqs work item, smp_rx_remove_invalid) and transport/Kconfig (defaults).
 *
 * Worker:
 *
 *   IDLE --smp_netbuf_enqueue / allocate response buffer, timer_arm(now + cost)--> BUSY
 *   BUSY --smp_netbuf_enqueue / queue the buffer--> BUSY
 *   BUSY --smp_netbuf_timer at done_at / process(), free both buffers--> IDLE, or BUSY with
 *        the next queued packet
 *   any --smp_netbuf_timer at another time (stale)--> unchanged
 *
 *   IDLE: no buffer is PROCESSING or RESPONSE, the queue is empty.
 *   BUSY: exactly one buffer is PROCESSING (busy_buf); at most one is RESPONSE (rsp_buf,
 *         -1 if the pool was empty when processing started: the packet is then answered
 *         ENOMEM, as smp.c builds the error in the request buffer).
 *   Always: every buffer is in exactly one state, and n_free counts the FREE ones.
 *
 * Simplification: the response buffer returns to the pool when process() returns, i.e.
 * once the transport has taken the frame. On BLE the firmware holds it until the last
 * notification is sent; a link model that needs that can hold a TRANSPORT buffer itself.
 * Processing happens at the end of the busy period: the packet's effects (flash writes,
 * upload state) become visible when its response leaves.
 */
#ifndef MODELS_SMP_NETBUF_H
#define MODELS_SMP_NETBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/scenario/settings.h"

/* Settings (Kconfig in Zephyr; the CPU cost is ours). */
struct smp_netbuf_cfg {
    uint32_t buf_size;       /* CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE, default 384 (2048 UDP) */
    uint32_t buf_count;      /* CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT, default 4 (2 UDP) */
    int64_t cpu_per_request; /* ns of CPU per request in a packet; *unverified*, settable */
};

struct smp_netbuf_cfg smp_netbuf_cfg_default(void);

#define SMP_NETBUF_MAX_COUNT 32

enum smp_netbuf_state {
    SMP_NETBUF_FREE,
    SMP_NETBUF_TRANSPORT,  /* held by a transport (reassembly in progress) */
    SMP_NETBUF_QUEUED,     /* complete request waiting for the worker */
    SMP_NETBUF_PROCESSING, /* the worker's current request */
    SMP_NETBUF_RESPONSE    /* the worker's response buffer */
};

struct smp_netbuf; /* opaque: the queue and the states must stay consistent */

/* What the pool acts through. */
struct smp_netbuf_ctx {
    void *env;
    /* (Re)arm the worker's completion timer for at_ns; the device calls
     * smp_netbuf_timer() when it fires. Returns 0 or a negative sim_err. */
    int (*timer_arm)(void *env, int64_t at_ns);
    /* Flash time the packet's handlers will spend, ns (erase on a first chunk, writes).
     * NULL: none. The flash model supplies it. */
    int64_t (*flash_cost)(void *env, const uint8_t *pkt, size_t n);
    /* Run the SMP server on the packet at now; rsp is the response buffer (NULL when the
     * pool was empty). Returns 0 or a negative sim_err. */
    int (*process)(void *env, const uint8_t *pkt, size_t n, uint8_t *rsp, size_t rsp_cap,
                   int64_t now);
};

/* Allocate the pool (buffer storage is allocated per buffer while it is in use, see
 * netbuf.c). Returns NULL on bad cfg (count 0 or > SMP_NETBUF_MAX_COUNT, size 0) or out of
 * memory. */
struct smp_netbuf *smp_netbuf_new(const struct smp_netbuf_cfg *cfg);
void smp_netbuf_free(struct smp_netbuf *nb); /* accepts NULL */

/* Take a free buffer for a transport: its index, or -1 if the pool is empty (or its storage
 * could not be allocated: the next smp_netbuf_enqueue or smp_netbuf_timer then returns
 * SIM_ENOMEM). */
int smp_netbuf_alloc(struct smp_netbuf *nb);
/* Return a TRANSPORT buffer to the pool (a dropped partial packet). */
void smp_netbuf_release(struct smp_netbuf *nb, int buf);
/* Storage of a TRANSPORT buffer: buf_size bytes; *len is its fill level. */
uint8_t *smp_netbuf_data(struct smp_netbuf *nb, int buf, size_t **len);

/* Queue a complete packet held in TRANSPORT buffer `buf`, tagged with the connection it
 * came on. Consumes the buffer. Starts the worker if it is idle. now in ns. Returns 0 or a
 * negative sim_err from the context (the buffer is then queued anyway). */
int smp_netbuf_enqueue(struct smp_netbuf *nb, int buf, uint32_t conn, int64_t now,
                       const struct smp_netbuf_ctx *cx);

/* Copy pkt[0..n) into a new buffer and queue it. Sets *dropped (and queues nothing) when
 * n > buf_size or no buffer is free, as a transport without reassembly drops it. */
int smp_netbuf_rx(struct smp_netbuf *nb, const uint8_t *pkt, size_t n, uint32_t conn, int64_t now,
                  const struct smp_netbuf_ctx *cx, bool *dropped);

/* The completion timer fired at now. Stale firings do nothing. */
int smp_netbuf_timer(struct smp_netbuf *nb, int64_t now, const struct smp_netbuf_ctx *cx);

/* Connection conn went away: drop its queued packets (smp_rx_remove_invalid). The packet
 * being processed finishes. Returns how many were dropped. */
size_t smp_netbuf_flush(struct smp_netbuf *nb, uint32_t conn);

/* Cheap accessors. */
size_t smp_netbuf_n_free(const struct smp_netbuf *nb);
size_t smp_netbuf_n_queued(const struct smp_netbuf *nb);
bool smp_netbuf_busy(const struct smp_netbuf *nb);
uint32_t smp_netbuf_buf_size(const struct smp_netbuf *nb);

/* Storage blocks of `size` bytes, from (and back to) a small cache of released blocks:
 * what the pool's buffers use, and a caller's scratch of the same size. get returns NULL
 * when out of memory; put accepts NULL. */
uint8_t *smp_netbuf_block_get(size_t size);
void smp_netbuf_block_put(uint8_t *p, size_t size);
uint64_t smp_netbuf_n_dropped(const struct smp_netbuf *nb); /* by smp_netbuf_rx */

/* Assert the invariants listed above (no-op with NDEBUG). */
void smp_netbuf_check(const struct smp_netbuf *nb);

/* ---- settings: devices[].firmware.netbuf (table in netbuf.c) ---- */

struct smp_netbuf_settings {
    uint64_t size;           /* CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE, bytes */
    uint32_t count;          /* CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT */
    int64_t cpu_per_request; /* SMP worker CPU time per request, ns */
    struct scenario_dist cpu_per_request_dist;
    uint64_t given; /* which keys the scenario gave (scenario_given) */
};
extern const struct scenario_schema smp_netbuf_settings_schema;

struct smp_netbuf_cfg smp_netbuf_cfg_from_settings(const struct smp_netbuf_settings *s);

#endif /* MODELS_SMP_NETBUF_H */
