/* models/smp/bt.c - SMP over Bluetooth LE: write reception, reassembly, notifications.
 * Rules: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/transport/src/smp_bt.c,
 * smp_reassembly.c. */
#include "models/smp/bt.h"

#include <string.h>

#include "models/smp/mgmt.h"
#include "sim/error.h"

void smp_bt_init(struct smp_bt *t, const struct smp_bt_cfg *cfg, struct smp_netbuf *pool)
{
    memset(t, 0, sizeof(*t));
    t->cfg = *cfg;
    t->pool = pool;
    t->mtu = 23;
    t->reasm_buf = -1;
}

static void reasm_drop(struct smp_bt *t)
{
    if (t->reasm_buf >= 0)
        smp_netbuf_release(t->pool, t->reasm_buf);
    t->reasm_buf = -1;
    t->expected = 0;
}

void smp_bt_fini(struct smp_bt *t)
{
    reasm_drop(t);
}

void smp_bt_connect(struct smp_bt *t, uint32_t conn, uint16_t mtu)
{
    t->conn = conn;
    t->mtu = mtu;
    t->connected = true;
    t->subscribed = false;
}

void smp_bt_disconnect(struct smp_bt *t)
{
    reasm_drop(t);
    (void)smp_netbuf_flush(t->pool, t->conn);
    t->connected = false;
    t->subscribed = false;
}

void smp_bt_set_mtu(struct smp_bt *t, uint16_t mtu)
{
    t->mtu = mtu;
}

void smp_bt_subscribe(struct smp_bt *t, bool enabled)
{
    t->subscribed = enabled;
    if (!enabled)
        reasm_drop(t);
}

/* Without reassembly every write is one packet in one net_buf. */
static int rx_whole(struct smp_bt *t, const uint8_t *p, size_t n, int64_t now,
                    const struct smp_netbuf_ctx *ncx, enum smp_bt_rx *rx)
{
    if (n > smp_netbuf_buf_size(t->pool)) {
        *rx = SMP_BT_RX_ENOSR;
        return 0;
    }
    int buf = smp_netbuf_alloc(t->pool);
    if (buf < 0) {
        *rx = SMP_BT_RX_ENOMEM;
        return 0;
    }
    size_t *len;
    uint8_t *d = smp_netbuf_data(t->pool, buf, &len);
    memcpy(d, p, n);
    *len = n;
    *rx = SMP_BT_RX_QUEUED;
    return smp_netbuf_enqueue(t->pool, buf, t->conn, now, ncx);
}

/* smp_reassembly_collect: the first fragment opens the context from the SMP header. */
static enum smp_bt_rx collect(struct smp_bt *t, const uint8_t *p, size_t n)
{
    uint32_t size = smp_netbuf_buf_size(t->pool);
    if (t->reasm_buf < 0) {
        if (n < SMP_MGMT_HDR_SIZE)
            return SMP_BT_RX_ENODATA;
        uint32_t expected = (uint32_t)((p[2] << 8) | p[3]) + SMP_MGMT_HDR_SIZE;
        if (expected > size || n > size)
            return SMP_BT_RX_ENOSR;
        t->reasm_buf = smp_netbuf_alloc(t->pool);
        if (t->reasm_buf < 0)
            return SMP_BT_RX_ENOMEM;
        t->expected = expected;
    }
    if (n > t->expected)
        return SMP_BT_RX_EOVERFLOW;
    size_t *len;
    uint8_t *d = smp_netbuf_data(t->pool, t->reasm_buf, &len);
    memcpy(d + *len, p, n);
    *len += n;
    t->expected -= (uint32_t)n;
    return t->expected == 0 ? SMP_BT_RX_QUEUED : SMP_BT_RX_PARTIAL;
}

int smp_bt_write(struct smp_bt *t, const uint8_t *p, size_t n, int64_t now,
                 const struct smp_netbuf_ctx *ncx, enum smp_bt_rx *rx, enum smp_bt_att *att)
{
    *att = SMP_BT_ATT_OK;
    if (!t->connected) {
        *rx = SMP_BT_RX_NOT_CONNECTED;
        return 0;
    }
    int rc = 0;
    if (!t->cfg.reassembly) {
        rc = rx_whole(t, p, n, now, ncx, rx);
        if (*rx != SMP_BT_RX_QUEUED)
            *att = SMP_BT_ATT_INSUFFICIENT_RESOURCES;
        return rc;
    }
    *rx = collect(t, p, n);
    switch (*rx) {
    case SMP_BT_RX_PARTIAL:
        return 0;
    case SMP_BT_RX_QUEUED: {
        int buf = t->reasm_buf;
        t->reasm_buf = -1;
        return smp_netbuf_enqueue(t->pool, buf, t->conn, now, ncx);
    }
    case SMP_BT_RX_ENOMEM:
        *att = SMP_BT_ATT_INSUFFICIENT_RESOURCES;
        break;
    default:
        *att = SMP_BT_ATT_VALUE_NOT_ALLOWED;
        break;
    }
    reasm_drop(t);
    return 0;
}

int smp_bt_send(struct smp_bt *t, const uint8_t *frame, size_t n, const struct smp_bt_ctx *cx)
{
    if (!t->connected || !t->subscribed || t->mtu <= 3) {
        t->n_tx_dropped++;
        return 0;
    }
    size_t piece = (size_t)t->mtu - 3;
    size_t off = 0;
    bool first = true;
    while (off < n) {
        size_t len = n - off < piece ? n - off : piece;
        int rc = cx->notify(cx->env, t->conn, frame + off, len);
        if (rc < 0)
            return rc;
        if (rc > 0 && first && piece / 2 >= SMP_BT_MIN_PIECE) {
            piece /= 2; /* first piece: halve and retry */
            continue;
        }
        if (rc > 0) {
            t->n_tx_dropped++;
            return 0;
        }
        first = false;
        off += len;
    }
    return 0;
}
