/* models/smp/serial.h - SMP over a serial console (UART / USB CDC): framing and timing.
 *
 * A packet travels as [length][SMP packet][CRC16] (length = packet + 2, big-endian; CRC16
 * with polynomial 0x1021, initial value 0, over the packet, big-endian), base64-encoded and
 * cut into frames of at most 127 bytes: start marker (0x06 0x09 for the first frame, 0x04
 * 0x14 for the others), base64 text, newline 0x0a.
 * Sources: zephyrproject-rtos/zephyr: doc/services/device_mgmt/smp_transport.rst,
 * subsys/mgmt/mcumgr/transport/src/serial_util.c; apache/mynewt-mcumgr: docs/smp-console.md.
 *
 * Receiver (one context per transport):
 *
 *   IDLE --start frame / allocate a net_buf, decode--> COLLECTING (or a packet, if whole)
 *   COLLECTING --continuation frame / decode--> COLLECTING, or a packet when length bytes
 *        arrived and the CRC checks
 *   COLLECTING --start frame--> the partial packet is dropped, a new one starts
 *   any --bad base64, too long, bad CRC--> IDLE, partial packet dropped
 *   IDLE --continuation frame or unknown marker--> IDLE (ignored)
 *
 *   IDLE:       buf == -1
 *   COLLECTING: buf is a TRANSPORT net_buf holding the decoded bytes after the length
 */
#ifndef MODELS_SMP_SERIAL_H
#define MODELS_SMP_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/smp/netbuf.h"

#define SMP_SERIAL_MAX_FRAME     127 /* bytes per frame, markers and newline included */
/* Raw bytes per frame: 124 base64 characters fit between marker and newline. */
#define SMP_SERIAL_RAW_PER_FRAME ((SMP_SERIAL_MAX_FRAME - 3) / 4 * 3)

/* CRC16, polynomial 0x1021, initial value crc, MSB first (CRC-16/XMODEM for crc = 0). */
uint16_t smp_serial_crc16(uint16_t crc, const uint8_t *p, size_t n);

/* Encoded size of an n-byte packet, frames included. */
size_t smp_serial_encoded_len(size_t n);

/* Encode packet p[0..n) into out[0..cap). Returns 0 and *out_len, SIM_EINVAL if n is
 * larger than 65533 (the length field), SIM_ERANGE if cap is too small (out unchanged
 * beyond cap). */
int smp_serial_encode(const uint8_t *p, size_t n, uint8_t *out, size_t cap, size_t *out_len);

/* Time to move `bytes` over a UART at `baud` with 8N1 framing (10 bits per byte), ns. */
int64_t smp_serial_wire_ns(size_t bytes, uint32_t baud);

enum smp_serial_rx {
    SMP_SERIAL_RX_PARTIAL, /* frame taken, packet incomplete */
    SMP_SERIAL_RX_QUEUED,  /* packet complete and queued for the worker */
    SMP_SERIAL_RX_IGNORED, /* unknown marker, or a continuation with no packet started */
    SMP_SERIAL_RX_ENOMEM,  /* no free net_buf for a start frame */
    SMP_SERIAL_RX_BAD,     /* bad base64, packet longer than a net_buf, or bad length */
    SMP_SERIAL_RX_CRC      /* CRC mismatch: packet dropped */
};

/* One per device; plain data. */
struct smp_serial {
    struct smp_netbuf *pool; /* not owned */
    int buf;                 /* -1 or the net_buf being filled */
    uint32_t pkt_len;        /* from the start frame: packet + CRC bytes */
    uint32_t conn;           /* tag for queued packets */
    uint32_t baud;           /* for smp_serial_wire_ns; 115200 by default */
};

/* baud 0 means 115200. */
void smp_serial_init(struct smp_serial *s, struct smp_netbuf *pool, uint32_t baud);
/* Give a partially received packet's net_buf back to the pool. */
void smp_serial_fini(struct smp_serial *s);

/* One received frame (a line; a trailing 0x0a is optional). Returns 0 or a negative
 * sim_err from the pool's context; *rx says what happened. */
int smp_serial_rx_frame(struct smp_serial *s, const uint8_t *line, size_t n, int64_t now,
                        const struct smp_netbuf_ctx *ncx, enum smp_serial_rx *rx);

#endif /* MODELS_SMP_SERIAL_H */
