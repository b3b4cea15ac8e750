/* models/smp/dgram.c - one SMP packet per datagram. */
#include "models/smp/dgram.h"

#include <string.h>

struct smp_dgram_cfg smp_dgram_cfg_default(void)
{
    return (struct smp_dgram_cfg){.mtu = 1500};
}

void smp_dgram_init(struct smp_dgram *d, const struct smp_dgram_cfg *cfg, struct smp_netbuf *pool)
{
    memset(d, 0, sizeof(*d));
    d->cfg = *cfg;
    d->pool = pool;
}

void smp_dgram_fini(struct smp_dgram *d)
{
    d->peer = 0;
}

int smp_dgram_rx(struct smp_dgram *d, const uint8_t *p, size_t n, uint32_t peer, int64_t now,
                 const struct smp_netbuf_ctx *ncx, bool *dropped)
{
    if (d->cfg.mtu != 0 && n > d->cfg.mtu) {
        *dropped = true;
        d->n_dropped++;
        return 0;
    }
    d->peer = peer;
    int rc = smp_netbuf_rx(d->pool, p, n, peer, now, ncx, dropped);
    if (*dropped)
        d->n_dropped++;
    return rc;
}

int smp_dgram_send(struct smp_dgram *d, const uint8_t *frame, size_t n,
                   const struct smp_dgram_ctx *cx)
{
    return cx->send(cx->env, d->peer, frame, n);
}
