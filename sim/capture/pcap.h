/* sim/capture/pcap.h - packet captures Wireshark reads, written with libpcap.
 *
 * One job: turn what a link put on the air (BLE link-layer PDUs, UART bytes, UDP
 * datagrams) into pcap records, with nanosecond timestamps, in time order. It knows no
 * model: callers (sim/cli/capture.c for `dfusim run --pcap`, later `dfusim serve`) pass
 * plain data. It lives in the sim layer because it is output plumbing, like the recorder;
 * libpcap writes the file (pcap_open_dead_with_tstamp_precision, pcap_dump_open,
 * pcap_dump), never our own writer. The format and every fixed choice (addresses, access
 * addresses, CRC init, channels, handles) are in docs/captures.md.
 *
 * A file holds one link type, so one kind per capture:
 *   CAP_BLE  LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR (256): a CONNECT_IND per connection, then
 *            each LL data PDU with its 10-byte pseudo-header, access address, header
 *            (LLID, NESN, SN, MD, length), payload and the real CRC-24.
 *   CAP_UART LINKTYPE_USER0 (147): an 8-byte header (direction, device id) and the bytes
 *            of one write as they arrived.
 *   CAP_UDP  LINKTYPE_RAW (101): an IPv4 or IPv6 header, a UDP header (checksums
 *            computed) and the datagram.
 *
 * Records may be handed over out of time order as long as each comes with a horizon: a
 * time no later record will precede (the BLE link reports a whole connection event at
 * its anchor). Records are held until the horizon passes them, then written sorted by
 * time, ties in arrival order. Same inputs, same bytes: nothing depends on the wall
 * clock, addresses or the process.
 *
 * The file is written to PATH.dfusim-PID.tmp and renamed over PATH by cap_close(); a run
 * that fails leaves PATH as it was.
 */
#ifndef SIM_CAPTURE_PCAP_H
#define SIM_CAPTURE_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/error.h"

enum cap_kind { CAP_BLE, CAP_UART, CAP_UDP };

/* The GATT table the BLE capture assumes (docs/captures.md): Zephyr's smp_svr with the GAP
 * service (0x0001-0x0007, with the preferred connection parameters), the GATT service
 * (0x0008-0x000f: Service Changed, its CCC, Client Supported Features, Database Hash)
 * and the SMP service from 0x0010: characteristic declaration 0x0011, value 0x0012,
 * CCC 0x0013. */
#define CAP_SMP_VALUE_HANDLE 0x0012u
#define CAP_ATT_WRITE_CMD    0x52u /* Core Vol 3 Part F §3.4.5.3 */
#define CAP_ATT_NOTIFY       0x1bu /* Core Vol 3 Part F §3.4.7.1 */
#define CAP_L2CAP_ATT_CID    0x0004u
#define CAP_BLE_ADV_AA       0x8e89bed6u /* Core Vol 6 Part B §2.1.2 */
#define CAP_BLE_ADV_CRC_INIT 0x555555u

/* LINKTYPE_USER0 header of a UART record: byte 0 the direction, bytes 1-3 zero, bytes
 * 4-7 the device id (big endian). */
#define CAP_UART_HDR 8u
#define CAP_UART_H2D 0u /* host -> device */
#define CAP_UART_D2H 1u /* device -> host */

struct cap;

/* Open a capture of `kind` to path (through path.dfusim-PID.tmp). Returns 0, SIM_EIO
 * (message in d) or SIM_ENOMEM. */
int cap_open(const char *path, enum cap_kind kind, struct cap **out, struct sim_diag *d);
/* Write what is held, close, rename over path. Returns 0 or SIM_EIO (message in d; the
 * temporary file is removed). Accepts NULL. */
int cap_close(struct cap *c, struct sim_diag *d);
/* Close without keeping the file (a failed run). Accepts NULL. */
void cap_discard(struct cap *c);
/* Records written so far. */
uint64_t cap_count(const struct cap *c);

/* ---- BLE ---- */

/* PHY codes as in the pseudo-header's flags, bits 14-15 (Coded: S2 and S8 both 2). */
enum cap_ble_phy { CAP_PHY_1M, CAP_PHY_2M, CAP_PHY_CODED_S2, CAP_PHY_CODED_S8 };

/* A connection starts: CONNECT_IND at at_ns on advertising channel 37, then an ATT
 * Exchange MTU Request (event 0) and Response (event 1) offering mtu, on phy. */
struct cap_ble_conn {
    int64_t at_ns, anchor_ns, interval_ns, timeout_ns;
    uint16_t latency, mtu;
    enum cap_ble_phy phy;
    int64_t att7_air_ns, empty_air_ns; /* air time of a 7-octet PDU and of an empty one */
};
#define CAP_BLE_T_IFS_NS 150000 /* Core Vol 6 Part B §4.1.1 */
int cap_ble_connect(struct cap *c, uint32_t dev, const struct cap_ble_conn *k);

/* One LL data PDU of connection event `event` (the fields of struct ble_link_obs). */
struct cap_ble_pdu {
    int64_t at_ns;  /* first bit on air */
    int64_t now_ns; /* horizon: no later record is earlier */
    int64_t event;
    bool from_peripheral;
    bool md, lost, encrypted;
    bool retx; /* the same fragment was sent before (keeps its SN) */
    enum cap_ble_phy phy;
    const uint8_t *sdu; /* ATT value; frag_len 0: empty PDU */
    uint16_t sdu_len, frag_off, frag_len;
};
/* Returns 0, SIM_EINVAL (no connection started for dev; a fragment out of its SDU) or
 * SIM_ENOMEM. */
int cap_ble_pdu(struct cap *c, uint32_t dev, const struct cap_ble_pdu *p);

/* The connection's identity (docs/captures.md): access address, CRC init and CSA #1 hop
 * increment of connection `conn` (0, 1, ... per device), a fixed function of (dev, conn). */
void cap_ble_conn_ids(uint32_t dev, uint32_t conn, uint32_t *aa, uint32_t *crc_init, uint8_t *hop);
/* Whether aa follows the access-address rules of Core Vol 6 Part B §2.1.2. */
bool cap_ble_aa_valid(uint32_t aa);
/* BLE CRC-24 over n bytes (PDU header and payload), shift register preset with crc_init
 * (Core Vol 6 Part B §3.1.1); out gets the three CRC bytes in air order. */
void cap_ble_crc24(uint32_t crc_init, const uint8_t *p, size_t n, uint8_t out[3]);
/* RF channel (0-39, 2402 + 2k MHz) of data channel index 0-36 or advertising 37-39. */
uint8_t cap_ble_rf_channel(uint8_t channel_index);

/* ---- UART ---- */

/* n bytes of one write arrived whole at at_ns in direction dir (CAP_UART_*). Records come
 * in time order (the link delivers so). Returns 0, SIM_EINVAL or SIM_ENOMEM. */
int cap_uart(struct cap *c, uint32_t dev, unsigned dir, const uint8_t *p, size_t n, int64_t at_ns);

/* ---- UDP ---- */

/* One datagram. Addresses are in network order: 4 bytes (ipv6 false) or 16. at_ns is
 * the timestamp as the caller means it (simulated ns since the start, or wall ns since
 * 1970); calls in time order. */
struct cap_udp {
    int64_t at_ns;
    bool ipv6;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    const uint8_t *p;
    size_t n; /* <= 65507 (IPv4) or 65527 (IPv6) */
};
/* Returns 0, SIM_EINVAL (too long) or SIM_ENOMEM. */
int cap_udp(struct cap *c, const struct cap_udp *u);

#endif /* SIM_CAPTURE_PCAP_H */
