/* models/ble/link.h - one BLE connection between a central (phone or gateway, DFU client)
 * and a peripheral (the device, SMP server): connection events, PHY/DLE/MTU, per-PDU loss
 * with link-layer retransmission, supervision timeout, parameter updates.
 *
 * Carries ATT payloads (SDUs) as they are: a Write Without Response from the central or a
 * notification from the peripheral, of at most ATT_MTU - 3 bytes each. Each SDU becomes
 * one L2CAP PDU (4-byte L2CAP header + 3-byte ATT header + SDU) cut into LL PDUs of at most
 * `dle` octets (Core Vol 6 Part B §2.4). Sources per field: struct ble_link_cfg below.
 *
 * Fast path (CONTRIBUTING.md rule 7): idle connection intervals cost nothing. A connection
 * event is simulated only when data is queued, on the anchor grid anchor + k * interval,
 * and computed whole at its anchor: exchange after exchange (central PDU, T_IFS,
 * peripheral PDU, T_IFS), loss drawn per PDU, until neither side has more data (MD = 0),
 * the central's packet cap, the event length (next anchor - guard; the first exchange
 * always happens), or two CRC errors in a row. The peripheral learns that its last PDU
 * arrived from the central's next PDU, so the ack of a final notification fragment (and
 * its `sent` callback) comes at the next event, which the peripheral wakes for. The
 * upcalls an event causes (deliver, sent) are made later, each at its own time, from the
 * timer input, so every callback runs with now == its time. Each is one timer input, but
 * not necessarily one engine event: when nothing else is due before it, the engine runs
 * the input right after the one that armed it, as a continuation (sim/engine.h), so a
 * connection event and the upcalls that follow it with nothing in between cost one engine
 * event, in the same order and at the same times.
 *
 * States (enum ble_link_state) and the inputs that move them:
 *
 *   DISCONNECTED --connect()--> SETUP --timer at ready--> CONNECTED   (note CONNECTED)
 *   CONNECTED --timer: supervision expired--> RECONNECT_WAIT (cfg.reconnect_ns >= 0)
 *                                          or DISCONNECTED          (note DISCONNECTED 0x08)
 *   RECONNECT_WAIT --timer at reconnect time--> SETUP
 *   CONNECTED --peer_lost()--> PEER_LOST --timer at now + timeout--> DISCONNECTED (0x08)
 *   any but DISCONNECTED --disconnect()--> DISCONNECTED             (note DISCONNECTED)
 *   CONNECTED --timer at an anchor with data queued--> CONNECTED    (one connection event)
 *   CONNECTED --timer at the update instant--> CONNECTED            (note PARAMS_UPDATED)
 *   send() and update() outside CONNECTED return BLE_LINK_NOT_CONNECTED (data for the
 *   caller); any other pair not drawn is counted in stats.n_unexpected and changes nothing.
 *
 * Invariants: in DISCONNECTED, SETUP and RECONNECT_WAIT both queues are empty and no
 * update is pending. Per direction, acked <= received <= acked + 1, delivered <= received,
 * sent_cb <= acked, first <= min(acked, delivered, sent_cb); 1 <= ce_share <= 64. Checked by
 * ble_link_check().
 *
 * Simplifications (each a documented limit, not hidden): every loss is a CRC error (the
 * receiver still answers; a sync loss that ends the event at once is not separate); idle
 * events (nobody has data) are assumed received, so only links carrying data time out;
 * data queued while an event is being computed waits for the next event; control PDUs
 * (LL_CONNECTION_UPDATE_IND, MTU/DLE/PHY exchanges) cost connection events, not air time.
 *
 * One radio, K links (ble_link_set_ce_share): a gateway or phone with K links active at
 * the same interval has one radio, so its links' connection events take turns. With share
 * n, an event may last at most (next anchor - ce_guard - anchor) / n (integer ns), so
 * exchanges per event = floor(CE_length / exchange time) (derived from phy.h) shrink
 * about n times; n = 1 is the single-link rule above, to the nanosecond. Assumed: equal
 * round-robin slots, each link on its own anchor grid, every link busy; the SoftDevice's
 * event-length scheduling (S140 event length per link, extension into idle time) is only
 * approximated by that static split (S140 v7.3.0 API documentation: up to 20 links). The
 * first exchange of an event still always happens, so with very many links at a short
 * interval a link gets one exchange per event and the shared total is overstated.
 */
#ifndef MODELS_BLE_LINK_H
#define MODELS_BLE_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/ble/loss.h"
#include "models/ble/phy.h"
#include "sim/rng.h"
#include "sim/scenario/settings.h"

/* L2CAP basic header + ATT opcode and handle (Core Vol 3 Part A §3.1, Part F §3.4.5.3 and
 * §3.4.7.1): an SDU of n bytes is n + 7 bytes of LL payload. */
#define BLE_LINK_L2CAP_HDR   4u
#define BLE_LINK_ATT_HDR     3u
#define BLE_LINK_ATT_MTU_MIN 23u  /* Core Vol 3 Part F §3.2.8 */
#define BLE_LINK_ATT_MTU_MAX 517u /* Core Vol 3 Part F §3.2.9: attribute value <= 512 */

/* HCI disconnect reasons (Core Vol 1 Part F §2). */
#define BLE_LINK_REASON_TIMEOUT     0x08 /* connection (supervision) timeout */
#define BLE_LINK_REASON_REMOTE_USER 0x13 /* remote user terminated connection */
#define BLE_LINK_REASON_LOCAL_HOST  0x16 /* connection terminated by local host */

enum ble_link_dir {
    BLE_LINK_C2P = 0, /* central -> peripheral: Write Without Response (downlink) */
    BLE_LINK_P2C = 1, /* peripheral -> central: notification (uplink) */
    BLE_LINK_DIR_COUNT
};

enum ble_link_state {
    BLE_LINK_DISCONNECTED,
    BLE_LINK_SETUP,          /* connect sequence: MTU, DLE, PHY exchanges (and encryption) */
    BLE_LINK_CONNECTED,      /* data may flow */
    BLE_LINK_RECONNECT_WAIT, /* after a supervision timeout, until cfg.reconnect_ns passed */
    BLE_LINK_PEER_LOST,      /* the peripheral vanished; the central times out later */
    BLE_LINK_STATE_COUNT
};

/* Positive results of ble_link_send() and ble_link_update(): data, not C errors. */
enum ble_link_rc {
    BLE_LINK_OK = 0,
    BLE_LINK_FULL = 1,          /* queue full (like -ENOMEM from bt_gatt_notify): retry later */
    BLE_LINK_NOT_CONNECTED = 2, /* not in CONNECTED (or PEER_LOST for the central) */
    BLE_LINK_BUSY = 3           /* a parameter update is already pending */
};

/* Every assumption of the model is a field. Defaults from ble_link_cfg_default(); sources
 * in brackets. "Core" is the Bluetooth Core Specification; "nRF Desktop" is nrfconnect/sdk-nrf:
 * applications/nrf_desktop/src/modules/ble_latency.c. */
struct ble_link_cfg {
    /* Connection interval: 7.5 ms [nRF Desktop; Core Vol 6 Part B §4.5.2: 7.5 ms - 4 s,
     * 1.25 ms units]. */
    int64_t interval_ns;
    /* Supervision timeout: 4 s [nRF Desktop; Core Vol 6 Part B §4.5.2: 100 ms - 32 s in 10
     * ms units and > (1 + latency) * interval * 2]. */
    int64_t timeout_ns;
    /* An event ends this long before the next anchor: 150 us [an assumed controller guard
     * time; value unverified]. */
    int64_t ce_guard_ns;
    /* CONNECT_IND to the first anchor: 1.25 ms [Core Vol 6 Part B §4.5.3
     * transmitWindowDelay; transmitWindowOffset 0 assumed]. */
    int64_t connect_delay_ns;
    /* After a supervision timeout, reconnect this much later; < 0: stay DISCONNECTED.
     * 1 s [unverified]. */
    int64_t reconnect_ns;
    /* SDU bytes not yet acknowledged that each direction may hold: 32768 [unverified;
     * host and controller TX buffers]. */
    uint32_t queue_bytes;
    /* Peripheral latency: 0 [Core Vol 6 Part B §4.5.2: 0-499; nRF Desktop 99 idle, 0 during
     * DFU]. */
    uint16_t latency;
    /* ATT_MTU after the exchange (the smaller of both sides'): 498 [Nordic's SMP
     * recommendation, two full 251-octet LL PDUs per write: NordicSemiconductor/
     * Android-nRF-Connect-Device-Manager: mcumgr-ble/.../McuMgrBleTransport.java]. */
    uint16_t mtu;
    /* LL max payload octets after the DLE exchange, both directions: 251 [Core Vol 6 Part B
     * §2.4]. */
    uint16_t dle;
    /* The central's cap on exchanges per event: 6 [PunchThrough article, 2016: Android about
     * 6, iOS 4; dated figures, unverified]. */
    uint16_t max_pdus_per_event;
    /* Connection events the connect sequence takes before data flows: 8 [unverified:
     * LL_PHY_UPDATE_IND's instant >= 6 events after PHY REQ/RSP in 2 events; the MTU and
     * DLE exchanges and encryption overlap with it]. */
    uint16_t setup_events;
    /* Instant of a parameter update, in events after the event that carries the
     * procedure: 6 [Core Vol 6 Part B §5.1.1: at least 6]. */
    uint16_t update_instant_events;
    /* PHY after the PHY exchange: 2M [Device Manager on Android connects on LE 2M, Nordic
     * DevZone thread 96939]. */
    enum ble_phy phy;
    /* MIC on non-empty PDUs: true [zephyrproject-rtos/zephyr:
     * subsys/mgmt/mcumgr/transport/Kconfig.bluetooth, MCUMGR_TRANSPORT_BT_AUTHEN default y]. */
    bool encrypted;
    /* A peripheral that saw MD = 1 when an event closed listens at the next event despite
     * latency: true [unverified]. */
    bool md_keeps_awake;
    /* Per-PDU loss: none [models/ble/loss.h]. */
    struct ble_loss_cfg loss;
    /* The interval the central answers a peripheral's parameter request with (the latency
     * and timeout asked are taken): 0, the request is granted as asked [models/client/
     * central.h sets it to the interval its rule gives the device's preference]. */
    int64_t central_interval_ns;
};

struct ble_link_note;

/* What the link acts through. timer_arm, timer_cancel and deliver are required; sent and
 * note may be NULL. */
struct ble_link_ctx {
    void *env;
    /* The link owns one timer: (re)arm it at at_ns (>= now); an earlier arming is replaced.
     * Returns 0 or a negative sim_err (passed back to the caller of the link). */
    int (*timer_arm)(void *env, int64_t at_ns);
    void (*timer_cancel)(void *env);
    /* An SDU arrived whole at the other side of dir, at at_ns (== now). p is valid during
     * the call only; the callee may call ble_link_send() in the other direction (a send in
     * the same direction may move p). */
    void (*deliver)(void *env, enum ble_link_dir dir, const uint8_t *p, size_t n, int64_t at_ns);
    /* The sender's link layer saw the last fragment of its oldest SDU in dir acknowledged
     * (the "sent" callback of bt_gatt_notify / number of completed packets). */
    void (*sent)(void *env, enum ble_link_dir dir, int64_t at_ns);
    /* Connection state change (to be turned into a record by the assembly). */
    void (*note)(void *env, const struct ble_link_note *n);
};

enum ble_link_note_kind {
    BLE_LINK_NOTE_CONNECTED,
    BLE_LINK_NOTE_DISCONNECTED,
    BLE_LINK_NOTE_PARAMS_UPDATED
};

struct ble_link_note {
    enum ble_link_note_kind kind;
    int64_t at_ns;
    int64_t interval_ns; /* parameters in force after the change */
    int64_t timeout_ns;
    uint16_t latency;
    uint16_t mtu;
    uint8_t reason; /* DISCONNECTED: BLE_LINK_REASON_*; otherwise 0 */
};

struct ble_link_stats {
    uint64_t n_events;                      /* connection events simulated */
    uint64_t n_pdus[BLE_LINK_DIR_COUNT];    /* data PDUs sent, retransmissions included */
    uint64_t n_retx[BLE_LINK_DIR_COUNT];    /* data PDUs sent again */
    uint64_t n_lost;                        /* PDUs received with a CRC error (any kind) */
    uint64_t n_crc_close;                   /* events closed by two CRC errors in a row */
    uint64_t n_sdus[BLE_LINK_DIR_COUNT];    /* SDUs delivered */
    uint64_t n_bytes[BLE_LINK_DIR_COUNT];   /* SDU bytes delivered */
    uint64_t n_dropped[BLE_LINK_DIR_COUNT]; /* SDUs dropped undelivered at disconnect */
    uint64_t n_disconnects;
    uint64_t n_unexpected; /* inputs that did not fit the state (see the diagram) */
};

/* ---- observer (captures: docs/captures.md, sim/capture/pcap.h) ----
 *
 * What the link put on the air, for a packet capture (sim/capture/pcap.h). The link
 * computes a connection event whole at its anchor, so every PDU of an event is reported
 * then (at_ns >= the anchor, in air order). Reported: the start of each connection
 * (CONNECT_IND sent; setup and reconnect alike) and each PDU of a simulated event. Not
 * reported (the model does not compute them): the control PDUs of setup and parameter
 * updates, idle events nobody had data for, and whatever the central sends while the
 * peripheral is gone (PEER_LOST). NULL observer (the default): no call, no cost but one
 * test per PDU. */
enum ble_link_obs_kind {
    BLE_LINK_OBS_CONNECT, /* a connection starts: CONNECT_IND at at_ns */
    BLE_LINK_OBS_PDU      /* one LL data PDU (empty or carrying a fragment) */
};

struct ble_link_obs {
    enum ble_link_obs_kind kind;
    int64_t at_ns; /* CONNECT: CONNECT_IND sent; PDU: its first bit on air */
    /* CONNECT: the connection's parameters (event 0 at anchor_ns) */
    int64_t anchor_ns, interval_ns, timeout_ns;
    uint16_t latency, mtu; /* mtu: ATT_MTU the setup's exchange ends with */
    /* PDU */
    int64_t event;  /* connection event counter (0 = the first anchor after CONNECT_IND) */
    int64_t now_ns; /* the event's anchor: the observer is called at this time */
    enum ble_link_dir dir;
    bool md;        /* the sender's MD bit */
    bool lost;      /* the receiver got it with a CRC error (a sniffer still hears it) */
    bool retx;      /* this fragment was sent before (a link-layer retransmission) */
    bool encrypted; /* on air with a 4-byte MIC (cfg.encrypted, non-empty PDU) */
    enum ble_phy phy;
    /* The fragment: bytes [frag_off, frag_off + frag_len) of the L2CAP PDU made of the
     * 4-byte L2CAP header, the 3-byte ATT header (Write Command C2P, Notification P2C) and
     * the SDU. frag_len 0: an empty PDU (sdu NULL). */
    const uint8_t *sdu;
    uint16_t sdu_len, frag_off, frag_len;
};

typedef void (*ble_link_observe_fn)(void *env, const struct ble_link_obs *o);

/* One direction's SDU queue. Private to link.c; here so that a link is plain storage.
 * Indices are absolute SDU numbers; sdus[i - base] holds SDU i for base <= i < end. */
struct ble_link_sdu {
    uint32_t off;   /* into bytes */
    uint16_t len;   /* SDU bytes (ATT value), <= mtu - 3 */
    int64_t rx_at;  /* when the receiver got the last fragment (valid if index < received) */
    int64_t ack_at; /* when the sender saw it acknowledged (valid if index < acked) */
};

struct ble_link_queue {
    uint8_t *bytes;
    struct ble_link_sdu *sdus;
    uint32_t bytes_cap, bytes_first, bytes_end; /* live bytes: [bytes_first, bytes_end) */
    uint32_t sdus_cap;
    uint64_t base, first, end; /* storage base, oldest live SDU, next new SDU */
    uint64_t acked, received, delivered, sent_cb;
    uint32_t frag_off;   /* LL payload bytes of SDU `acked` already acknowledged */
    uint16_t frag_tries; /* transmissions of the current fragment */
    bool peer_has;       /* the receiver holds the current fragment; sender not yet told */
};

/* A parameter update waiting for its instant. */
struct ble_link_update {
    int64_t instant; /* connection event counter */
    int64_t interval_ns, timeout_ns;
    uint16_t latency;
    bool pending;
};

/* One connection, caller storage. Plain storage, but fields are private to link.c:
 * read them through the accessors. */
struct ble_link {
    struct ble_link_cfg cfg; /* interval/latency/timeout change with parameter updates */
    struct ble_link_queue q[BLE_LINK_DIR_COUNT];
    struct ble_link_update upd;
    struct ble_link_stats stats;
    struct sim_rng rng;
    struct ble_loss loss;
    int64_t ref_anchor; /* time of connection event ref_k; anchor(k) = ref + (k-ref_k)*int */
    int64_t ref_k;
    int64_t last_k;     /* last event the peripheral listened at (simulated or implied) */
    int64_t last_ok[2]; /* last good reception by the central [0] and the peripheral [1] */
    int64_t state_at;   /* SETUP: ready; RECONNECT_WAIT: reconnect; PEER_LOST: timeout */
    int64_t timer_at;   /* armed time, or -1 */
    int64_t busy_until; /* end of the last simulated event: the next one starts later */
    int64_t skip_from, skip_until; /* events with anchors in here are skipped (flash) */
    enum ble_link_state state;
    bool md_at_end;              /* the central still had data when the last event closed */
    bool release_pending;        /* queues were dropped; free their storage (release_storage) */
    uint8_t cb_depth;            /* fire_due() calls in progress (callbacks may re-enter) */
    uint8_t ce_share;            /* links sharing the central's radio: 1..BLE_LINK_CE_SHARE_MAX */
    ble_link_observe_fn observe; /* NULL (default) or the capture's hook */
    void *observe_env;
};

/* Fill *c with the defaults listed in struct ble_link_cfg. */
void ble_link_cfg_default(struct ble_link_cfg *c);

/* Returns 0, or SIM_ERANGE naming no field (the caller's diagnostic names the key) when a
 * value is out of its range: interval/latency/timeout as in Core Vol 6 Part B §4.5.2, mtu 23..517,
 * dle 27..251, max_pdus_per_event >= 1, times >= 0, queue_bytes >= mtu, loss probabilities in [0,
 * 1]. */
int ble_link_cfg_check(const struct ble_link_cfg *c);
/* The connection-parameter part of the check, for updates. */
int ble_link_params_check(int64_t interval_ns, uint16_t latency, int64_t timeout_ns);

/* What one side supports, for the exchanges at connect. Plain data. */
struct ble_link_caps {
    uint16_t mtu;           /* ATT_MTU it offers in the Exchange MTU request or response */
    uint16_t dle;           /* max LL payload octets it takes and sends (27..251) */
    uint8_t phys;           /* bit (1u << enum ble_phy) for each PHY it supports */
    enum ble_phy preferred; /* the PHY it asks for in LL_PHY_REQ / LL_PHY_RSP */
};

/* The outcome of the exchanges, written into c->mtu, c->dle and c->phy: ATT_MTU is the
 * smaller offer, at least 23 (Core Vol 3 Part F §3.4.2.2); DLE the smaller maximum, at
 * least 27 (Core Vol 6 Part B §4.5.10, same in both directions here); the PHY is the
 * central's preference if both support it, else the peripheral's if both do, else 2M if
 * both do, else 1M (Core Vol 6 Part B §5.1.10; how a controller picks among allowed PHYs
 * is its choice - this order is an assumption). The time the exchanges take is
 * cfg.setup_events. */
void ble_link_cfg_negotiate(struct ble_link_cfg *c, const struct ble_link_caps *central,
                            const struct ble_link_caps *peripheral);

/* Initialise a DISCONNECTED link; loss draws come from the stream (seed, entity,
 * SIM_RNG_LINK_LOSS). Allocates nothing. Memory follows what is queued: each direction's
 * byte buffer is allocated on the first send, at 256 B, and doubles when a send needs
 * room, up to cfg.queue_bytes (a little more only while acknowledged SDUs wait for their
 * callbacks); the SDU records double from 8. Nothing is freed while connected, so steady
 * traffic allocates nothing; a disconnect or peer_lost() frees both queues. Returns 0 or
 * the error of ble_link_cfg_check() (the link is then unusable but safe to _fini). */
int ble_link_init(struct ble_link *l, const struct ble_link_cfg *cfg, uint64_t seed,
                  uint64_t entity);
/* Free the queues. Makes no callbacks. */
void ble_link_fini(struct ble_link *l);
/* Give back the storage of every queue that holds no SDU (in any state: sent, delivered
 * and their callbacks done), connected or not; the next send grows it again from 256 B.
 * Nothing else changes: counters, fragment state and timing are kept, so the link behaves
 * the same (a parked device's idle link, models/fleet/device.c). No-op inside a callback
 * of the link. Makes no callbacks. */
void ble_link_trim(struct ble_link *l);

/* Connect at now (CONNECT_IND sent): the first anchor follows cfg.connect_delay_ns later,
 * data flows cfg.setup_events events after it, at which time the timer input notes
 * CONNECTED. Only from DISCONNECTED or RECONNECT_WAIT; otherwise counted unexpected and
 * SIM_EINVAL. Returns 0 or the timer_arm error. */
int ble_link_connect(struct ble_link *l, int64_t now, const struct ble_link_ctx *cx);

/* Terminate at now with an HCI reason (device reset, client gives up). Callbacks due at
 * <= now are made first; queued and in-flight SDUs are dropped (stats.n_dropped). No
 * automatic reconnection. From DISCONNECTED: counted unexpected, returns 0. */
int ble_link_disconnect(struct ble_link *l, uint8_t reason, int64_t now,
                        const struct ble_link_ctx *cx);

/* Change the per-PDU loss from now on (a degrading channel, fault injection): the loss
 * state (Good/Bad) is kept, later draws use c. Returns 0 or SIM_ERANGE (c rejected by
 * ble_loss_cfg_check; the link is unchanged). */
int ble_link_loss_set(struct ble_link *l, const struct ble_loss_cfg *c);

/* The peripheral stops answering at now (reset, power loss, swap): its data and anything
 * in flight are dropped, and the central notices by supervision timeout at now +
 * timeout (reason 0x08), then DISCONNECTED. Only from CONNECTED; else unexpected, 0. */
int ble_link_peer_lost(struct ble_link *l, int64_t now, const struct ble_link_ctx *cx);

/* Queue one SDU of n bytes (1 <= n <= mtu - 3) from dir's sender at now; the bytes are
 * copied. Returns BLE_LINK_OK, BLE_LINK_FULL (cfg.queue_bytes would be exceeded),
 * BLE_LINK_NOT_CONNECTED (state not CONNECTED; in PEER_LOST the central's data is taken
 * and dropped later), SIM_EINVAL for a bad length, SIM_ENOMEM (queue unchanged), or the
 * timer_arm error. */
int ble_link_send(struct ble_link *l, enum ble_link_dir dir, const uint8_t *p, size_t n,
                  int64_t now, const struct ble_link_ctx *cx);

/* Start the connection parameter update procedure at now. `initiator` BLE_LINK_P2C: the
 * peripheral asks (LL_CONNECTION_PARAM_REQ, sent at the next event); BLE_LINK_C2P: the
 * central sends LL_CONNECTION_UPDATE_IND at the next event the peripheral listens to.
 * The new parameters hold from the instant, cfg.update_instant_events after that event
 * (Core Vol 6 Part B §5.1.1); the timer input notes PARAMS_UPDATED there. A peripheral's
 * request gets cfg.central_interval_ns instead of the interval asked when that is set.
 * Returns 0,
 * BLE_LINK_NOT_CONNECTED, BLE_LINK_BUSY (one pending at a time), SIM_ERANGE (bad
 * parameters), or the timer_arm error. */
int ble_link_update(struct ble_link *l, enum ble_link_dir initiator, int64_t interval_ns,
                    uint16_t latency, int64_t timeout_ns, int64_t now,
                    const struct ble_link_ctx *cx);

/* The connection events as the peripheral's flash driver sees them at now (models/flash/
 * radio_sync.h): an anchor, the interval, and the radio time an event takes: the last
 * event's while data is queued (a client streaming), one empty exchange otherwise. False
 * when not connected (no radio activity to share). */
bool ble_link_schedule(const struct ble_link *l, int64_t now, int64_t *anchor, int64_t *interval,
                       int64_t *busy);

/* The peripheral's radio is taken over [from, until) (a flash timeslot at HIGH priority):
 * the connection events whose anchors fall inside are skipped, as if unheard. Joins the
 * last span when they overlap, else replaces it. Returns 0 or the timer_arm error. */
int ble_link_skip_events(struct ble_link *l, int64_t from, int64_t until, int64_t now,
                         const struct ble_link_ctx *cx);

/* The timer input: make the callbacks due at <= now, then apply a due parameter update,
 * a supervision timeout, the ready/reconnect step, or run the connection event at now.
 * A call with nothing due (a stale timer) is harmless. Returns 0 or the timer_arm error. */
int ble_link_timer(struct ble_link *l, int64_t now, const struct ble_link_ctx *cx);

/* Time of connection event k on the current grid (pending update included). */
int64_t ble_link_anchor_get(const struct ble_link *l, int64_t k);

static inline enum ble_link_state ble_link_state_get(const struct ble_link *l)
{
    return l->state;
}
static inline uint16_t ble_link_mtu_get(const struct ble_link *l)
{
    return l->cfg.mtu;
}
static inline const struct ble_link_stats *ble_link_stats_get(const struct ble_link *l)
{
    return &l->stats;
}
/* Bytes an SDU may have: ATT_MTU - 3 (Core Vol 3 Part F §3.4.7.1). */
static inline size_t ble_link_sdu_max(const struct ble_link *l)
{
    return (size_t)l->cfg.mtu - BLE_LINK_ATT_HDR;
}
/* SDUs queued in dir and not yet acknowledged to their sender. */
static inline uint64_t ble_link_pending_get(const struct ble_link *l, enum ble_link_dir dir)
{
    return l->q[dir].end - l->q[dir].acked;
}

/* Most links that may share one central's radio: Zephyr CONFIG_BT_MAX_CONN's upper bound
 * (range 1-64; zephyrproject-rtos/zephyr: subsys/bluetooth/Kconfig). S140 allows 20; the
 * gateway model enforces that. */
#define BLE_LINK_CE_SHARE_MAX 64u

/* Give this link 1/n_links of its central's connection-event time from its next event
 * on (events are computed whole at their anchor; one already computed keeps its length).
 * n_links 1 (the default after ble_link_init) is a link with the radio to itself. Returns
 * 0, or SIM_EINVAL for n_links outside 1..BLE_LINK_CE_SHARE_MAX (share unchanged). Any
 * state; makes no callbacks and arms nothing (the share does not move anchors). */
int ble_link_set_ce_share(struct ble_link *l, unsigned n_links);

static inline unsigned ble_link_ce_share_get(const struct ble_link *l)
{
    return l->ce_share;
}

/* Report what goes on the air to fn(env, ...) from now on; fn NULL stops it. Any state;
 * makes no other call. */
static inline void ble_link_observe_set(struct ble_link *l, ble_link_observe_fn fn, void *env)
{
    l->observe = fn;
    l->observe_env = env;
}

/* Assert the invariants listed above (debug builds; no-op with NDEBUG). */
void ble_link_check(const struct ble_link *l);

/* ---- settings: the BLE keys of devices[].link (table in link.c) ---- */

/* The link as negotiated; interval, latency, timeout and adv_delay fixed or drawn per
 * device (the _dist text, models/fleet). */
struct ble_link_settings {
    int phy; /* enum ble_phy */
    uint16_t mtu, dle, latency;
    int64_t interval, timeout;       /* ns */
    struct scenario_pos interval_at; /* where interval was given (absent: its map's) */
    int64_t adv_delay;               /* advertising (or the central's wish) -> CONNECT_IND, ns */
    struct scenario_dist interval_dist, latency_dist, timeout_dist, adv_delay_dist;
    struct ble_loss_settings loss;
};
extern const struct scenario_schema ble_link_settings_schema;

/* The link's configuration: ble_link_cfg_default() with what s sets, and the central's
 * cap on packets per connection event (0 leaves the default; a central profile sets it). */
void ble_link_cfg_from_settings(const struct ble_link_settings *s, uint16_t packets_per_event,
                                struct ble_link_cfg *out);

#endif /* MODELS_BLE_LINK_H */
