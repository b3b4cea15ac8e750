/* models/uart/link.h - a full-duplex UART between a host (DFU client) and a device.
 *
 * Carries bytes as they are (the SMP serial framing is models/smp/serial.h) and hands each
 * send to the other side when its last bit has arrived: each direction is one serialiser,
 * so a send starts when the previous one in that direction ends. A byte takes
 * 1 start + data + parity + stop bits (8N1: 10 bits). No loss, no flow control.
 *
 * Stateless apart from the serialisers: there is no connection; uart_link_flush() drops
 * what is on the wire (a device reset). Deliveries are made from the timer input, each at
 * its own time (now == at), so the receiver may answer from inside deliver().
 */
#ifndef MODELS_UART_LINK_H
#define MODELS_UART_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum uart_link_dir {
    UART_LINK_H2D = 0, /* host -> device (requests) */
    UART_LINK_D2H = 1, /* device -> host (responses) */
    UART_LINK_DIR_COUNT
};

/* Plain data; defaults from uart_link_cfg_default(). */
struct uart_link_cfg {
    uint32_t baud;        /* bits per second: 115200 [smp_serial_init default; Zephyr
                             console default, unverified per board] */
    uint32_t queue_bytes; /* bytes each direction may have on the wire or waiting: 65536
                             [unverified; UART driver/ring buffers] */
    uint8_t data_bits;    /* 8 */
    uint8_t parity_bits;  /* 0 (N) */
    uint8_t stop_bits;    /* 1: 8N1, 10 bits per byte (as smp_serial_wire_ns assumes) */
};

struct uart_link_ctx {
    void *env;
    /* The link owns one timer: (re)arm at at_ns; an earlier arming is replaced. Returns 0
     * or a negative sim_err, passed back to the caller. */
    int (*timer_arm)(void *env, int64_t at_ns);
    void (*timer_cancel)(void *env);
    /* n bytes arrived whole at the other side of dir at at_ns (== now); p is valid during
     * the call only (a send in the same direction from inside may move it). */
    void (*deliver)(void *env, enum uart_link_dir dir, const uint8_t *p, size_t n, int64_t at_ns);
};

/* One send on the wire or waiting. Private to link.c. */
struct uart_link_chunk {
    int64_t at; /* when the last bit arrives */
    uint32_t off, len;
};

/* One direction. Private to link.c; chunks[head..n) are pending, in time order. */
struct uart_link_wire {
    uint8_t *bytes;
    struct uart_link_chunk *chunks;
    uint32_t bytes_cap, bytes_first, bytes_end;
    uint32_t chunks_cap, head, n;
    int64_t busy_until; /* end of the last scheduled byte */
};

struct uart_link_stats {
    uint64_t n_bytes[UART_LINK_DIR_COUNT];   /* delivered */
    uint64_t n_dropped[UART_LINK_DIR_COUNT]; /* bytes dropped by uart_link_flush */
};

/* Observer (captures, sim/capture/pcap.h): called with each send as it arrives whole at
 * the other side, just before deliver (same arguments). Bytes flushed by a reset are not
 * reported. NULL (the default): no call. */
typedef void (*uart_link_observe_fn)(void *env, enum uart_link_dir dir, const uint8_t *p, size_t n,
                                     int64_t at_ns);

/* One link, caller storage; fields private to link.c. */
struct uart_link {
    struct uart_link_cfg cfg;
    bool release_pending; /* wires were flushed; free their storage when no deliver runs */
    uint8_t cb_depth;     /* uart_link_timer() calls in progress (deliver may re-enter) */
    struct uart_link_wire w[UART_LINK_DIR_COUNT];
    struct uart_link_stats stats;
    int64_t timer_at;             /* -1 when not armed */
    uart_link_observe_fn observe; /* NULL (default) or the capture's hook */
    void *observe_env;
};

/* Report each arrival to fn(env, ...) from now on; fn NULL stops it. */
static inline void uart_link_observe_set(struct uart_link *l, uart_link_observe_fn fn, void *env)
{
    l->observe = fn;
    l->observe_env = env;
}

void uart_link_cfg_default(struct uart_link_cfg *c);
/* Returns 0 or SIM_ERANGE (baud 0, data bits not 5..9, parity not 0..1, stop not 1..2,
 * queue_bytes 0). */
int uart_link_cfg_check(const struct uart_link_cfg *c);

/* Bits on the wire per byte: 1 + data + parity + stop. */
unsigned uart_link_bits_per_byte(const struct uart_link_cfg *c);
/* Time n bytes take on the wire, ns, rounded down: n * bits * 1e9 / baud. */
int64_t uart_link_wire_ns(const struct uart_link_cfg *c, size_t n);

/* Allocates nothing. Memory follows what is on the wire: each direction's byte buffer is
 * allocated on the first send (256 B) and doubles on demand up to queue_bytes; nothing is
 * freed while bytes flow, and uart_link_flush() frees both directions. Returns 0 or
 * uart_link_cfg_check()'s error (safe to _fini). */
int uart_link_init(struct uart_link *l, const struct uart_link_cfg *cfg);
void uart_link_fini(struct uart_link *l);

/* Put n >= 1 bytes on dir's wire at now (copied). They arrive at
 * max(now, end of the previous send in dir) + uart_link_wire_ns(n). Returns 0, 1 when
 * queue_bytes would be exceeded (nothing queued), SIM_EINVAL, SIM_ENOMEM, or the
 * timer_arm error. */
int uart_link_send(struct uart_link *l, enum uart_link_dir dir, const uint8_t *p, size_t n,
                   int64_t now, const struct uart_link_ctx *cx);

/* Drop everything on both wires not yet delivered at now (device reset), and free the
 * wires' storage. */
int uart_link_flush(struct uart_link *l, int64_t now, const struct uart_link_ctx *cx);

/* Timer input: deliver every send whose last bit arrived at <= now, in time order
 * (H2D first on a tie). Returns 0 or the timer_arm error. */
int uart_link_timer(struct uart_link *l, int64_t now, const struct uart_link_ctx *cx);

#endif /* MODELS_UART_LINK_H */
