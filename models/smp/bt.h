/* models/smp/bt.h - SMP Bluetooth LE transport: write commands in, notifications out.
 *
 * Receives GATT Write Commands on the SMP characteristic, with or without reassembly, into
 * net_bufs of the pool (models/smp/netbuf.h), and sends responses as notifications of at
 * most ATT_MTU - 3 bytes. Link timing is not modelled here: the BLE link model receives
 * the notifications through struct smp_bt_ctx.
 * Sources: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/transport/src/smp_bt.c and
 * smp_reassembly.c; tests/subsys/mgmt/mcumgr/smp_reassembly/src/main.c.
 *
 * Reassembly context (one per transport, not per connection):
 *
 *   EMPTY --fragment >= 8 B, total fits a net_buf, buffer free, fits expected--> COLLECTING
 *         (or straight to queued if the fragment is the whole packet)
 *   COLLECTING --fragment <= remaining--> COLLECTING, or queued when remaining reaches 0
 *   COLLECTING --fragment > remaining (EOVERFLOW)--> EMPTY, partial packet dropped
 *   COLLECTING --CCC disabled, disconnect--> EMPTY, partial packet dropped
 *
 *   EMPTY:      reasm_buf == -1, expected == 0
 *   COLLECTING: reasm_buf holds a TRANSPORT net_buf, 0 < expected = bytes still missing
 */
#ifndef MODELS_SMP_BT_H
#define MODELS_SMP_BT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/smp/netbuf.h"

/* SMP service and characteristic (include/zephyr/mgmt/mcumgr/transport/smp_bt.h). */
#define SMP_BT_SVC_UUID "8D53DC1D-1DB7-4CD3-868B-8A527460AA84"
#define SMP_BT_CHR_UUID "DA2E7828-FBCE-4E01-AE9E-261174997C48"

/* ATT errors a write may earn (a Write Command gets no error response on air: the
 * client only sees a timeout; the code is recorded). */
enum smp_bt_att {
    SMP_BT_ATT_OK = 0,
    SMP_BT_ATT_INSUFFICIENT_RESOURCES = 0x11,
    SMP_BT_ATT_VALUE_NOT_ALLOWED = 0x13
};

/* Outcome of one write (smp_reassembly_collect return values, as errno names). */
enum smp_bt_rx {
    SMP_BT_RX_QUEUED,    /* a complete packet went to the work queue */
    SMP_BT_RX_PARTIAL,   /* fragment stored, more expected */
    SMP_BT_RX_ENODATA,   /* first fragment shorter than the 8-byte header */
    SMP_BT_RX_ENOSR,     /* fragment or expected total larger than a net_buf */
    SMP_BT_RX_EOVERFLOW, /* fragment longer than the bytes still expected */
    SMP_BT_RX_ENOMEM,    /* no free net_buf */
    SMP_BT_RX_NOT_CONNECTED
};

struct smp_bt_cfg {
    bool reassembly; /* CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY, default n */
};

/* What the transport acts through. */
struct smp_bt_ctx {
    void *env;
    /* Queue one notification of n <= MTU - 3 bytes on conn. Returns 0, 1 when the stack
     * has no TX buffer (-ENOMEM upstream), or a negative sim_err. */
    int (*notify)(void *env, uint32_t conn, const uint8_t *p, size_t n);
};

/* One per device, caller storage; plain data. */
struct smp_bt {
    struct smp_bt_cfg cfg;
    struct smp_netbuf *pool; /* not owned */
    uint32_t conn;           /* current connection id */
    uint16_t mtu;            /* ATT MTU */
    bool connected;
    bool subscribed; /* CCC: notifications enabled */
    int reasm_buf;   /* -1 or the net_buf being reassembled */
    uint32_t expected;
    uint64_t n_tx_dropped; /* responses dropped (not connected, not subscribed, errors) */
};

/* Minimum notification piece after -ENOMEM halving (smp_bt.c). */
#define SMP_BT_MIN_PIECE 20

void smp_bt_init(struct smp_bt *t, const struct smp_bt_cfg *cfg, struct smp_netbuf *pool);
/* Give a partially reassembled packet's net_buf back to the pool. */
void smp_bt_fini(struct smp_bt *t);

/* Link events. disconnect drops the partial packet and the connection's queued requests. */
void smp_bt_connect(struct smp_bt *t, uint32_t conn, uint16_t mtu);
void smp_bt_disconnect(struct smp_bt *t);
void smp_bt_set_mtu(struct smp_bt *t, uint16_t mtu);
/* CCC write: disabling it drops a partial packet. */
void smp_bt_subscribe(struct smp_bt *t, bool enabled);

/* One Write Command of n bytes at now. *rx says what happened, *att the ATT error the
 * write earned. Returns 0 or a negative sim_err from the pool's context. */
int smp_bt_write(struct smp_bt *t, const uint8_t *p, size_t n, int64_t now,
                 const struct smp_netbuf_ctx *ncx, enum smp_bt_rx *rx, enum smp_bt_att *att);

/* Send one response frame as notifications of MTU - 3 bytes (the server's send).
 * If the first notification finds no TX buffer, the piece size is halved (not below 20)
 * and retried; any later failure drops the rest of the response. Returns 0 (a dropped
 * response is data, counted in n_tx_dropped) or a negative sim_err. */
int smp_bt_send(struct smp_bt *t, const uint8_t *frame, size_t n, const struct smp_bt_ctx *cx);

#endif /* MODELS_SMP_BT_H */
