/* sim/capture/pcap.c - packet captures written with libpcap (see pcap.h).
 *
 * Formats: LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR and LINKTYPE_USER0, LINKTYPE_RAW as the
 * tcpdump.org link-layer header types list defines them; BLE packet fields, CRC and
 * access-address rules from the Bluetooth Core Specification Vol 6 Part B §2.1, §2.3,
 * §2.4, §3.1.1 and §4.5.8.2 (CSA #1); IPv4, IPv6 and UDP checksums from RFC 791, 768,
 * 8200 and 1071.
 */
#include "sim/capture/pcap.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SNAPLEN 262144

/* Pseudo-header flags (LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR). */
#define PH_DEWHITENED 0x0001u
#define PH_DECRYPTED  0x0008u
#define PH_REF_AA     0x0010u
#define PH_PDU_ADV    (0u << 7) /* advertising or data, direction unspecified */
#define PH_PDU_C2P    (2u << 7) /* data, central to peripheral */
#define PH_PDU_P2C    (3u << 7) /* data, peripheral to central */
/* 0x0400 "CRC checked" and 0x0800 "CRC valid" are left clear on purpose: Wireshark then
 * computes the CRC itself (with the CRC init of the CONNECT_IND) and says whether it is
 * right, instead of trusting the flag. */
#define PH_PHY_SHIFT  14

#define PHDR_LEN   10u
#define DATA_CHANS 37u

/* One held record. */
struct rec {
    int64_t at;
    uint64_t seq; /* arrival order: ties keep it */
    uint8_t *bytes;
    uint32_t len;
};

/* Per device: the connection in progress and its sequence-number state. */
struct cap_dev {
    bool connected;
    uint32_t n_conn; /* connections started; the current one is n_conn - 1 */
    uint32_t aa, crc_init;
    uint8_t hop;
    /* Of the central [0] and the peripheral [1]: the SN of the last PDU sent, and of the
     * last PDU received intact (Core Vol 6 Part B §4.5.9; see ble_data). */
    uint8_t sn[2], rx_sn[2];
};

struct cap {
    enum cap_kind kind;
    pcap_t *pc;
    pcap_dumper_t *dump;
    char path[4096], tmp[4160];
    struct rec *held;
    size_t n_held, cap_held;
    uint64_t seq, n_written;
    struct cap_dev *devs; /* by device id */
    uint32_t n_devs;
    bool failed; /* out of memory while holding: the file is incomplete */
};

/* ---- writing in time order ---- */

static int rec_cmp(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void write_rec(struct cap *c, const struct rec *r)
{
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    int64_t at = r->at < 0 ? 0 : r->at;
    h.ts.tv_sec = (time_t)(at / 1000000000);
    h.ts.tv_usec = (suseconds_t)(at % 1000000000); /* nanoseconds: the file is NANO */
    h.caplen = h.len = r->len;
    pcap_dump((u_char *)c->dump, &h, r->bytes);
    c->n_written++;
}

/* Write the held records at or before horizon (all with INT64_MAX), in time order. */
static void flush_until(struct cap *c, int64_t horizon)
{
    if (c->n_held == 0)
        return;
    qsort(c->held, c->n_held, sizeof(*c->held), rec_cmp);
    size_t k = 0;
    while (k < c->n_held && c->held[k].at <= horizon) {
        write_rec(c, &c->held[k]);
        free(c->held[k].bytes);
        k++;
    }
    memmove(c->held, c->held + k, (c->n_held - k) * sizeof(*c->held));
    c->n_held -= k;
}

/* Hold a copy of bytes[0..len) stamped at. */
static int hold(struct cap *c, int64_t at, const uint8_t *bytes, size_t len)
{
    if (c->n_held == c->cap_held) {
        size_t n = c->cap_held ? 2 * c->cap_held : 64;
        struct rec *r = realloc(c->held, n * sizeof(*r));
        if (r == NULL) {
            c->failed = true;
            return SIM_ENOMEM;
        }
        c->held = r;
        c->cap_held = n;
    }
    uint8_t *b = malloc(len ? len : 1);
    if (b == NULL) {
        c->failed = true;
        return SIM_ENOMEM;
    }
    memcpy(b, bytes, len);
    c->held[c->n_held++] = (struct rec){at, c->seq++, b, (uint32_t)len};
    return 0;
}

/* ---- open and close ---- */

int cap_open(const char *path, enum cap_kind kind, struct cap **out, struct sim_diag *d)
{
    *out = NULL;
    struct cap *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return SIM_ENOMEM;
    c->kind = kind;
    snprintf(c->path, sizeof(c->path), "%s", path);
    snprintf(c->tmp, sizeof(c->tmp), "%s.dfusim-%ld.tmp", path, (long)getpid());
    int dlt = kind == CAP_BLE    ? DLT_BLUETOOTH_LE_LL_WITH_PHDR
              : kind == CAP_UART ? DLT_USER0
                                 : DLT_RAW;
    c->pc = pcap_open_dead_with_tstamp_precision(dlt, SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
    if (c->pc == NULL) {
        free(c);
        return SIM_ENOMEM;
    }
    c->dump = pcap_dump_open(c->pc, c->tmp);
    if (c->dump == NULL) {
        sim_diag_add(d, "%s: cannot write the capture: %s\n", path, pcap_geterr(c->pc));
        pcap_close(c->pc);
        free(c);
        return SIM_EIO;
    }
    *out = c;
    return 0;
}

uint64_t cap_count(const struct cap *c)
{
    return c->n_written + c->n_held;
}

static void cap_free(struct cap *c)
{
    for (size_t i = 0; i < c->n_held; i++)
        free(c->held[i].bytes);
    free(c->held);
    free(c->devs);
    pcap_close(c->pc);
    free(c);
}

void cap_discard(struct cap *c)
{
    if (c == NULL)
        return;
    pcap_dump_close(c->dump);
    remove(c->tmp);
    cap_free(c);
}

int cap_close(struct cap *c, struct sim_diag *d)
{
    if (c == NULL)
        return 0;
    flush_until(c, INT64_MAX);
    int rc = 0;
    if (c->failed) {
        sim_diag_add(d, "%s: out of memory while capturing; capture not written\n", c->path);
        rc = SIM_EIO;
    } else if (pcap_dump_flush(c->dump) != 0 || ferror(pcap_dump_file(c->dump))) {
        sim_diag_add(d, "%s: cannot write the capture\n", c->path);
        rc = SIM_EIO;
    }
    pcap_dump_close(c->dump);
    if (rc == 0 && rename(c->tmp, c->path) != 0) {
        sim_diag_add(d, "%s: cannot rename the capture into place\n", c->path);
        rc = SIM_EIO;
    }
    if (rc != 0)
        remove(c->tmp);
    cap_free(c);
    return rc;
}

/* ---- BLE ---- */

static uint8_t rev8(uint8_t b)
{
    b = (uint8_t)((b & 0xf0u) >> 4 | (b & 0x0fu) << 4);
    b = (uint8_t)((b & 0xccu) >> 2 | (b & 0x33u) << 2);
    b = (uint8_t)((b & 0xaau) >> 1 | (b & 0x55u) << 1);
    return b;
}

/* Polynomial x^24 + x^10 + x^9 + x^6 + x^4 + x^3 + x + 1; bit i of the state is position
 * i of the register, data bits enter least significant first, position 23 leaves first. */
void cap_ble_crc24(uint32_t crc_init, const uint8_t *p, size_t n, uint8_t out[3])
{
    uint32_t s = crc_init & 0xffffffu;
    for (size_t i = 0; i < n; i++)
        for (unsigned b = 0; b < 8; b++) {
            uint32_t fb = ((s >> 23) ^ (p[i] >> b)) & 1u;
            s = (s << 1) & 0xffffffu;
            if (fb)
                s ^= 0x00065bu;
        }
    out[0] = rev8((uint8_t)(s >> 16));
    out[1] = rev8((uint8_t)(s >> 8));
    out[2] = rev8((uint8_t)s);
}

static unsigned popcount32(uint32_t x)
{
    unsigned n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

bool cap_ble_aa_valid(uint32_t aa)
{
    if (aa == CAP_BLE_ADV_AA || popcount32(aa ^ CAP_BLE_ADV_AA) == 1)
        return false;
    uint8_t b0 = (uint8_t)aa;
    if ((aa >> 8 & 0xff) == b0 && (aa >> 16 & 0xff) == b0 && (aa >> 24) == b0)
        return false; /* four equal octets */
    unsigned run = 1, transitions = 0;
    for (unsigned i = 1; i < 32; i++) {
        if (((aa >> i) & 1u) == ((aa >> (i - 1)) & 1u)) {
            if (++run > 6)
                return false; /* more than six equal bits in a row */
        } else {
            run = 1;
            transitions++;
        }
    }
    if (transitions > 24)
        return false;
    unsigned top = 0; /* transitions in the six most significant bits */
    for (unsigned i = 27; i < 32; i++)
        top += ((aa >> i) & 1u) != ((aa >> (i - 1)) & 1u);
    return top >= 2;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void cap_ble_conn_ids(uint32_t dev, uint32_t conn, uint32_t *aa, uint32_t *crc_init, uint8_t *hop)
{
    uint64_t x = ((uint64_t)dev << 32 | conn) ^ 0x646675736d2d6161ull; /* "dfusm-aa" */
    do
        *aa = (uint32_t)splitmix64(&x);
    while (!cap_ble_aa_valid(*aa));
    uint64_t r = splitmix64(&x);
    *crc_init = (uint32_t)(r & 0xffffffu);
    *hop = (uint8_t)(5 + (r >> 32) % 12); /* 5..16 (Core Vol 6 Part B §2.3.3.1) */
}

uint8_t cap_ble_rf_channel(uint8_t ci)
{
    if (ci == 37)
        return 0;
    if (ci == 38)
        return 12;
    if (ci == 39)
        return 39;
    return ci <= 10 ? (uint8_t)(ci + 1) : (uint8_t)(ci + 2);
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

/* Device addresses (random static, the two top bits set): the peripheral C1:DF:00:xx:xx:xx
 * and its central C2:DF:00:xx:xx:xx, xx the low 24 bits of the device id; little endian
 * as on air. */
static void addr(uint8_t *p, uint8_t top, uint32_t dev)
{
    p[0] = (uint8_t)dev;
    p[1] = (uint8_t)(dev >> 8);
    p[2] = (uint8_t)(dev >> 16);
    p[3] = 0x00;
    p[4] = 0xdf;
    p[5] = top;
}

static struct cap_dev *dev_get(struct cap *c, uint32_t dev)
{
    if (dev >= c->n_devs) {
        uint32_t n = c->n_devs ? c->n_devs : 8;
        while (n <= dev)
            n *= 2;
        struct cap_dev *v = realloc(c->devs, (size_t)n * sizeof(*v));
        if (v == NULL)
            return NULL;
        memset(v + c->n_devs, 0, (size_t)(n - c->n_devs) * sizeof(*v));
        c->devs = v;
        c->n_devs = n;
    }
    return &c->devs[dev];
}

/* Pseudo-header + access address at b; returns the offset of the PDU header. */
static size_t ble_head(uint8_t *b, uint8_t rf, uint32_t ref_aa, uint16_t flags, uint32_t aa)
{
    b[0] = rf;
    b[1] = 0; /* signal power: not valid */
    b[2] = 0; /* noise power: not valid */
    b[3] = 0; /* access address offenses: not valid */
    put32(b + 4, ref_aa);
    put16(b + 8, flags);
    put32(b + PHDR_LEN, aa);
    return PHDR_LEN + 4;
}

static int ble_mtu_exchange(struct cap *c, struct cap_dev *v, const struct cap_ble_conn *k);

int cap_ble_connect(struct cap *c, uint32_t dev, const struct cap_ble_conn *k)
{
    struct cap_dev *v = dev_get(c, dev);
    if (v == NULL)
        return SIM_ENOMEM;
    flush_until(c, k->at_ns);
    cap_ble_conn_ids(dev, v->n_conn, &v->aa, &v->crc_init, &v->hop);
    v->n_conn++;
    v->connected = true;
    v->sn[0] = v->sn[1] = 1; /* the first PDU each way has SN 0, NESN 0 */
    v->rx_sn[0] = v->rx_sn[1] = 1;

    uint8_t b[PHDR_LEN + 4 + 2 + 34 + 3];
    uint16_t flags =
        PH_DEWHITENED | PH_REF_AA | PH_PDU_ADV | (uint16_t)(CAP_PHY_1M << PH_PHY_SHIFT);
    size_t o = ble_head(b, cap_ble_rf_channel(37), CAP_BLE_ADV_AA, flags, CAP_BLE_ADV_AA);
    uint8_t *pdu = b + o;
    pdu[0] = 0x05 | 0x40 | 0x80; /* CONNECT_IND, ChSel 0 (CSA #1), TxAdd, RxAdd random */
    pdu[1] = 34;
    addr(pdu + 2, 0xc2, dev); /* InitA: the central */
    addr(pdu + 8, 0xc1, dev); /* AdvA: the device */
    uint8_t *ll = pdu + 14;   /* LLData */
    put32(ll, v->aa);
    ll[4] = (uint8_t)v->crc_init; /* CRCInit, little endian */
    ll[5] = (uint8_t)(v->crc_init >> 8);
    ll[6] = (uint8_t)(v->crc_init >> 16);
    ll[7] = 1;        /* WinSize: 1.25 ms */
    put16(ll + 8, 0); /* WinOffset: 0, the model's connect_delay is transmitWindowDelay */
    put16(ll + 10, (uint32_t)(k->interval_ns / 1250000));
    put16(ll + 12, k->latency);
    put16(ll + 14, (uint32_t)(k->timeout_ns / 10000000));
    ll[16] = ll[17] = ll[18] = ll[19] = 0xff; /* ChM: all 37 data channels */
    ll[20] = 0x1f;
    ll[21] = (uint8_t)(v->hop | 5u << 5); /* Hop, SCA 5 (31-50 ppm; not modelled) */
    cap_ble_crc24(CAP_BLE_ADV_CRC_INIT, pdu, 36, pdu + 36);
    int rc = hold(c, k->at_ns, b, sizeof(b));
    return rc != 0 ? rc : ble_mtu_exchange(c, v, k);
}

/* One data PDU of dev's connection: bytes [off, off + len) of head (hlen bytes) followed
 * by body, LLID start when off is 0 and len > 0. Moves the sequence-number state. */
static int ble_data(struct cap *c, struct cap_dev *v, int64_t at, int64_t event, bool from_p,
                    bool md, bool lost, bool retx, bool enc, enum cap_ble_phy phy,
                    const uint8_t *head, size_t hlen, const uint8_t *body, size_t off, size_t len)
{
    /* Sequence numbers as the model acknowledges: a data fragment sent again keeps its
     * SN, every other PDU (a new fragment, an empty PDU) flips it; NESN is one past the
     * SN of the last PDU received intact. The model lets a sender follow an empty PDU
     * the receiver lost with new data (a controller would first resend the empty PDU);
     * flipping SN there keeps Wireshark from taking that data for a retransmission. */
    int s = from_p ? 1 : 0, r = 1 - s;
    if (!retx)
        v->sn[s] ^= 1u;
    uint8_t sn = v->sn[s], nesn = v->rx_sn[s] ^ 1u;
    if (!lost)
        v->rx_sn[r] = sn;
    uint8_t b[PHDR_LEN + 4 + 1 + 2 + 255 + 3];
    bool coded = phy == CAP_PHY_CODED_S2 || phy == CAP_PHY_CODED_S8;
    uint16_t flags = PH_DEWHITENED | PH_REF_AA | (from_p ? PH_PDU_P2C : PH_PDU_C2P) |
                     (uint16_t)((coded ? 2u : (unsigned)phy) << PH_PHY_SHIFT);
    if (enc)
        flags |= PH_DECRYPTED;
    uint8_t ci = (uint8_t)((uint64_t)(event + 1) * v->hop % DATA_CHANS); /* CSA #1 */
    size_t o = ble_head(b, cap_ble_rf_channel(ci), v->aa, flags, v->aa);
    if (coded)
        b[o++] = phy == CAP_PHY_CODED_S8 ? 0 : 1; /* coding indicator */
    uint8_t *pdu = b + o;
    uint8_t llid = len > 0 && off == 0 ? 2 : 1;
    pdu[0] = (uint8_t)(llid | nesn << 2 | sn << 3 | (md ? 1u : 0u) << 4);
    pdu[1] = (uint8_t)len;
    for (size_t i = 0; i < len; i++) {
        size_t at_i = off + i;
        pdu[2 + i] = at_i < hlen ? head[at_i] : body[at_i - hlen];
    }
    cap_ble_crc24(v->crc_init, pdu, 2u + len, pdu + 2 + len);
    return hold(c, at, b, o + 2 + len + 3);
}

/* The setup's ATT MTU exchange: a request in event 0, the response in event 1, each
 * answered by an empty PDU T_IFS later. */
static int ble_mtu_exchange(struct cap *c, struct cap_dev *v, const struct cap_ble_conn *k)
{
    uint8_t req[7] = {3, 0, CAP_L2CAP_ATT_CID, 0, 0x02, (uint8_t)k->mtu, (uint8_t)(k->mtu >> 8)};
    uint8_t rsp[7] = {3, 0, CAP_L2CAP_ATT_CID, 0, 0x03, (uint8_t)k->mtu, (uint8_t)(k->mtu >> 8)};
    int64_t t0 = k->anchor_ns, t1 = k->anchor_ns + k->interval_ns;
    int64_t p0 = t0 + k->att7_air_ns + CAP_BLE_T_IFS_NS,
            p1 = t1 + k->empty_air_ns + CAP_BLE_T_IFS_NS;
    int rc = ble_data(c, v, t0, 0, false, false, false, false, false, k->phy, req, 7, NULL, 0, 7);
    if (rc == 0)
        rc = ble_data(c, v, p0, 0, true, false, false, false, false, k->phy, NULL, 0, NULL, 0, 0);
    if (rc == 0)
        rc = ble_data(c, v, t1, 1, false, false, false, false, false, k->phy, NULL, 0, NULL, 0, 0);
    if (rc == 0)
        rc = ble_data(c, v, p1, 1, true, false, false, false, false, k->phy, rsp, 7, NULL, 0, 7);
    return rc;
}

int cap_ble_pdu(struct cap *c, uint32_t dev, const struct cap_ble_pdu *p)
{
    struct cap_dev *v = dev < c->n_devs ? &c->devs[dev] : NULL;
    if (v == NULL || !v->connected || p->event < 0)
        return SIM_EINVAL;
    size_t l2len = (size_t)p->sdu_len + 7;
    if (p->frag_len > 0 && (p->sdu == NULL || p->frag_off + (size_t)p->frag_len > l2len))
        return SIM_EINVAL;
    flush_until(c, p->now_ns);
    uint8_t hdr[7];
    put16(hdr, (uint32_t)(p->sdu_len + 3)); /* L2CAP length: ATT opcode, handle, value */
    put16(hdr + 2, CAP_L2CAP_ATT_CID);
    hdr[4] = p->from_peripheral ? CAP_ATT_NOTIFY : CAP_ATT_WRITE_CMD;
    put16(hdr + 5, CAP_SMP_VALUE_HANDLE);
    return ble_data(c, v, p->at_ns, p->event, p->from_peripheral, p->md, p->lost,
                    p->retx && p->frag_len > 0, p->encrypted, p->phy, hdr, 7, p->sdu, p->frag_off,
                    p->frag_len);
}

/* ---- UART ---- */

int cap_uart(struct cap *c, uint32_t dev, unsigned dir, const uint8_t *p, size_t n, int64_t at_ns)
{
    if (dir > CAP_UART_D2H || n > SNAPLEN - CAP_UART_HDR)
        return SIM_EINVAL;
    flush_until(c, at_ns);
    uint8_t *b = malloc(CAP_UART_HDR + n);
    if (b == NULL) {
        c->failed = true;
        return SIM_ENOMEM;
    }
    memset(b, 0, CAP_UART_HDR);
    b[0] = (uint8_t)dir;
    b[4] = (uint8_t)(dev >> 24);
    b[5] = (uint8_t)(dev >> 16);
    b[6] = (uint8_t)(dev >> 8);
    b[7] = (uint8_t)dev;
    memcpy(b + CAP_UART_HDR, p, n);
    int rc = hold(c, at_ns, b, CAP_UART_HDR + n);
    free(b);
    return rc;
}

/* ---- UDP ---- */

/* RFC 1071 one's complement sum of n bytes added to sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1u)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int cap_udp(struct cap *c, const struct cap_udp *u)
{
    size_t ip = u->ipv6 ? 40 : 20, alen = u->ipv6 ? 16 : 4;
    size_t ulen = 8 + u->n;
    if (ip + ulen > 65535 + (u->ipv6 ? 40u : 0u) || (u->n > 0 && u->p == NULL))
        return SIM_EINVAL;
    flush_until(c, u->at_ns);
    uint8_t *b = calloc(1, ip + ulen);
    if (b == NULL) {
        c->failed = true;
        return SIM_ENOMEM;
    }
    if (u->ipv6) {
        b[0] = 0x60; /* version 6, traffic class 0, flow label 0 */
        put16be(b + 4, (uint32_t)ulen);
        b[6] = 17; /* next header: UDP */
        b[7] = 64; /* hop limit */
        memcpy(b + 8, u->src, 16);
        memcpy(b + 24, u->dst, 16);
    } else {
        b[0] = 0x45; /* version 4, 5 words */
        put16be(b + 2, (uint32_t)(ip + ulen));
        put16be(b + 6, 0x4000); /* don't fragment */
        b[8] = 64;              /* TTL */
        b[9] = 17;              /* UDP */
        memcpy(b + 12, u->src, 4);
        memcpy(b + 16, u->dst, 4);
        put16be(b + 10, csum_fold(csum_add(0, b, 20)));
    }
    uint8_t *h = b + ip;
    put16be(h, u->sport);
    put16be(h + 2, u->dport);
    put16be(h + 4, (uint32_t)ulen);
    if (u->n > 0)
        memcpy(h + 8, u->p, u->n);
    /* Pseudo-header: addresses, protocol, UDP length (RFC 768; RFC 8200 §8.1). */
    uint32_t sum = csum_add(0, u->src, alen);
    sum = csum_add(sum, u->dst, alen);
    sum += 17 + (uint32_t)(ulen & 0xffffu) + (uint32_t)(ulen >> 16);
    sum = csum_add(sum, h, ulen);
    uint16_t ck = csum_fold(sum);
    put16be(h + 6, ck == 0 ? 0xffffu : ck); /* 0 means "no checksum" */
    int rc = hold(c, u->at_ns, b, ip + ulen);
    free(b);
    return rc;
}
