/* models/smp/dgram.h - SMP over datagrams (UDP, and the dummy transport of Zephyr's tests).
 *
 * One datagram carries exactly one SMP packet; there is no reassembly and no framing.
 * A datagram larger than the receive MTU is lost; one larger than a net_buf, or arriving
 * when the pool is empty, is dropped. Responses leave as one datagram each.
 * Sources: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/transport/src/smp_udp.c,
 * transport/Kconfig.udp (port 1337, MTU 1500), transport/src/smp_dummy.c.
 */
#ifndef MODELS_SMP_DGRAM_H
#define MODELS_SMP_DGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/smp/netbuf.h"

#define SMP_DGRAM_UDP_PORT 1337 /* CONFIG_MCUMGR_TRANSPORT_UDP_PORT */

struct smp_dgram_cfg {
    uint32_t mtu; /* CONFIG_MCUMGR_TRANSPORT_UDP_MTU, default 1500; 0 = no limit (dummy) */
};

struct smp_dgram_cfg smp_dgram_cfg_default(void);

/* What the transport acts through. */
struct smp_dgram_ctx {
    void *env;
    /* Send one datagram; the callee copies it. Returns 0 or a negative sim_err. */
    int (*send)(void *env, uint32_t peer, const uint8_t *p, size_t n);
};

/* One per device; plain data. */
struct smp_dgram {
    struct smp_dgram_cfg cfg;
    struct smp_netbuf *pool; /* not owned */
    uint32_t peer;           /* where responses go: the last sender */
    uint64_t n_dropped;      /* datagrams lost to the MTU, the net_buf size or the pool */
};

void smp_dgram_init(struct smp_dgram *d, const struct smp_dgram_cfg *cfg, struct smp_netbuf *pool);
/* Nothing is held between datagrams; clears the peer. */
void smp_dgram_fini(struct smp_dgram *d);

/* One received datagram from peer at now. *dropped tells whether it was lost. Returns 0
 * or a negative sim_err from the pool's context. */
int smp_dgram_rx(struct smp_dgram *d, const uint8_t *p, size_t n, uint32_t peer, int64_t now,
                 const struct smp_netbuf_ctx *ncx, bool *dropped);

/* Send one response frame as one datagram to the last peer (the server's send). */
int smp_dgram_send(struct smp_dgram *d, const uint8_t *frame, size_t n,
                   const struct smp_dgram_ctx *cx);

#endif /* MODELS_SMP_DGRAM_H */
