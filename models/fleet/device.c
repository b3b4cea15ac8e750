/* models/fleet/device.c - one device and its central: the wiring of every model of a DFU
 * (see device.h for the states and the timing rules). */
#include "models/fleet/device.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/client/central.h"
#include "models/flash/radio_sync.h"
#include "models/smp/dgram.h"
#include "models/smp/mgmt.h"
#include "sim/error.h"
#include "sim/rng.h"

/* Per-device buffers are grown on demand (buf_grow), from BUF_FIRST bytes by doubling, up
 * to their cap: a device pays for what its packets need (an upload response is ~20 B, an
 * image list a few hundred), not for the worst case. Growth never happens per chunk once
 * a buffer has reached the size of the largest response it carries. */
#define STAGE_CAP    8192u /* response bytes one packet may produce */
#define CLIENT_RXCAP 8192u /* notification bytes the central reassembles */
#define BUF_FIRST    256u  /* first allocation of a grown buffer, bytes */
#define BT_MS_1_25   1250000LL
#define BT_MS_10     10000000LL

/* The UART transport and its host (cfg->transport == FLEET_TRANSPORT_UART only: a BLE
 * device has none, fleet_device.serial == NULL). */
struct fleet_device_serial {
    struct uart_link uart;
    struct uart_link_ctx uart_cx;
    struct smp_serial ser;    /* the device's receiver; APP only (its net_bufs are the pool's) */
    struct smp_netbuf *hpool; /* the host's receive buffer: one packet */
    struct smp_netbuf_ctx hpool_cx;
    struct smp_serial hser; /* the host's receiver */
    uint8_t *enc;           /* one encoded response (fits a net_buf), copied at once */
    size_t enc_cap;
    uint8_t *htx; /* frames the host has still to write, in order */
    size_t htx_first, htx_len, htx_cap;
    int64_t htx_last; /* when the host wrote its last frame */
    bool host_conn;   /* the client was told CONNECTED (its session is up) */
};

/* An external client (fleet_device_ext_set; device.h "External clients"). */
#define EXT_FIFO 64 /* datagrams on their way over the BLE link at once */
struct fleet_device_ext_state {
    struct fleet_device_ext x;
    enum fleet_device_ext_link link;
    struct smp_dgram dg; /* the UDP transport's rules (MTU, one packet per datagram) */
    /* BLE: the datagrams the bridge wrote and the device has not yet taken whole: their
     * lengths in order (ok: every byte was queued), and the bytes of the first so far. */
    uint32_t fifo_len[EXT_FIFO];
    bool fifo_ok[EXT_FIFO];
    uint32_t fifo_first, fifo_n;
    uint8_t *acc;
    size_t acc_len, acc_cap;
    bool attempt_open; /* fleet_device_ext_attempt_begin: records belong to that attempt */
    uint64_t n_lost;   /* datagrams nobody took (device not answering, link down, queue full) */
};

/* Session state on demand (docs/model.md, "Memory: what a device holds between sessions").
 *
 * A device in APP holds its firmware's RAM state (SMP server and groups, net_buf pool,
 * event bus, nRF Desktop / CAF modules and their contexts: about 2.9 KiB) in a struct
 * fleet_app. Most of the time nothing runs in it: no packet, no module timer, and every
 * module in the state that the application's start (and the connection, if the link is
 * up) leaves it in. Such a device is parked: its fleet_app goes back to the world's spares
 * list, and app_unpark() rebuilds it when an input needs it (app_need(): a connection, a
 * packet, a parameter update, a disconnection, the config-channel host).
 *
 * Parking is decided by proof, not by a list of fields. app_park() rebuilds the part in
 * place (app_rebuild: app_build() as app_start() does, the connection's events if the
 * application saw one, then the bus delivers them) at now + 1 ns, quietly (quiet(): timer
 * requests, records, flash writes and link requests are not made; they happened when the
 * state was first built), and compares it byte for byte with what the device held, after
 * app_normalise() cleared what no input observes (diagnostic counters, the bus ring's
 * consumed slots, generations of unarmed timers, padding of copied structs). Equal: the
 * part is a function of what persists alone, and is freed. Otherwise the device keeps it
 * unchanged: a device mid-upload keeps img_mgmt's upload state (Zephyr keeps it across a
 * reconnect; only a reset loses it), a pending os_mgmt reset, a DFU lock held (the config
 * channel's), a module that stored the time of its last input.
 *
 * What a rebuild reads, and so what persists while parked: the configuration, MCUboot
 * slot and trailer state, the stats dfu_mcumgr's self-confirm consults, conn_id and
 * app_conn, lock_prev (the lock's last owner, whose owner_changed runs at the next claim)
 * and the link's MTU, encryption and parameters as they were when it parked (park_*: a
 * rebuild at an input that changed the link still sees them as the held state did). The
 * rest of struct fleet_device (ids, timer generations, faults, stats, attempt log, the
 * link, the client) is never in the part. A start defers the build to the bus work item
 * its events kick (start_pending), so a fleet that boots at once never holds every
 * device's part at once. UART devices and devices with an external client never park. */
struct fleet_app {
    struct smp_callbacks callbacks;
    struct smp_server srv;
    struct smp_os_mgmt os;
    struct smp_os_mgmt_ctx os_cx;
    struct smp_img_mgmt img;
    struct smp_netbuf *pool;
    struct smp_netbuf_ctx pool_cx;
    struct smp_bt bt;
    struct smp_bt_ctx bt_cx;
    struct smp_server_ctx stage_cx;
    uint8_t *stage; /* responses of the packet being processed, back to back; grown to at
                       most STAGE_CAP */
    size_t stage_len, stage_cap;
    uint32_t stage_n;
    struct fw_event_bus bus;
    struct fw_event_bus_ctx bus_cx;
    struct fw_dfu_lock lock;
    struct fw_dfu_mcumgr mcumgr;
    struct fw_dfu_mcumgr_ctx mcumgr_cx;
    struct fw_ble_smp ble_smp;
    struct fw_ble_smp_ctx ble_smp_cx;
    struct fw_ble_latency lat;
    struct fw_ble_latency_ctx lat_cx;
    struct fw_cc_dfu cc;
    struct fw_cc_dfu_ctx cc_cx;
    bool bus_kicked;
    struct fleet_app *next; /* on the spares list; last, outside the comparison */
};

/* Released session parts, reused before malloc (LIFO: the last one freed is warm). */
struct fleet_device_spares {
    struct fleet_app *free;
    uint64_t n_free, n_live, n_made;     /* on the list, in use, ever allocated */
    uint64_t n_parks, n_unparks, n_kept; /* parked, rebuilt, park refused by the check */
    bool no_park;                        /* fleet_device_spares_parking_set(false) */
};

struct fleet_device {
    uint32_t id;
    const struct fleet_device_cfg *cfg; /* not owned */
    const struct fleet_device_ctx *cx;  /* not owned */
    uint64_t seed;
    enum fleet_device_state state;
    int err; /* first simulator error raised where no caller could take it (a reboot from a
                firmware callback); fleet_device_timer() returns it */
    uint32_t gen[FLEET_T_COUNT];
    int64_t now; /* time of the input being handled (flash_cost has no now parameter) */
    /* Table index of the update: cfg->update_image, or under an external client (serve)
     * the image learned from its upload that a boot is about to start (see boot()). */
    int update_image;

    /* flash + bootloader */
    struct mcuboot_slots slots;
    struct smp_img_slots inner;       /* mcuboot_slots_bind() */
    int64_t flash_acc;                /* flash ns of the packet being processed */
    struct mcuboot_slots_radio radio; /* slots.radio: flash work in radio timeslots */

    /* The application's session part (struct fleet_app): APP only, and then only while
     * something runs in it; NULL while parked (see "Session state on demand" above). */
    struct fleet_app *app;
    uint32_t conn_id;
    bool app_conn;      /* the application saw the connection (not yet torn down) */
    uint8_t lock_prev;  /* enum lock_prev: the DFU lock's last owner, kept while parked */
    bool quiet;         /* app_rebuild() replays the start: no effect leaves the device */
    bool start_pending; /* app_start() left the build to the bus work item (FLEET_T_BUS) */
    /* What a rebuild reads from the link, as it was when the device parked: the
     * connection's ATT MTU, encryption and parameters (ble_latency asks for them). */
    uint16_t park_mtu;
    bool park_encrypted;
    struct fw_event_conn_params park_params;
    uint32_t armed; /* APP_SLOTS bits of slots armed and not yet fired or cancelled */

    /* link + central */
    struct ble_link link;
    struct ble_link_ctx link_cx;
    struct client_dfu *client;
    struct client_dfu_ctx client_cx;
    uint8_t *crx; /* the central's reassembly of notifications (BLE), grown to at most
                     CLIENT_RXCAP */
    size_t crx_len, crx_cap;
    bool connect_wanted;
    int64_t adv_since;

    struct fleet_device_serial *serial; /* UART transport only, else NULL */
    struct fleet_device_ext_state *ext; /* an external client (fleet_device_ext_set), else NULL */

    enum fleet_device_fault fault;
    /* Scenario faults (fleet_device_faults_set): shared parameters, per-device bits and
     * state; 26 bytes besides the pointer. */
    const struct fleet_device_faults *faults; /* not owned; NULL: none */
    uint64_t entity;    /* stream key of the device (random power-loss times) */
    int64_t rand_at;    /* pending random power loss (POWER timer), -1: none */
    uint32_t n_rand;    /* random loss times drawn so far (key of the next draw) */
    uint8_t fault_on;   /* FLEET_FAULTS_* that apply to this device */
    uint8_t fault_done; /* one-shot faults that fired (POWER_UPLOAD, POWER_SWAP, NEVER_CONFIRM,
                           TWO_SOURCES: its host was armed) */
    struct client_cc_host cch; /* TWO_SOURCES: the config-channel host (16 B, zero: idle) */
    struct mcuboot_slots_boot_result boot;
    struct fleet_device_stats st;
    /* The last FLEET_DEVICE_LOG attempts, a ring indexed by attempt number. Grown while
     * n_attempts < FLEET_DEVICE_LOG (entry i is attempt i then), so that most devices, which
     * make one attempt, hold one entry. */
    struct fleet_device_attempt *log;
    uint32_t log_cap;
};

static void ext_ble_rx(struct fleet_device *d, const uint8_t *p, size_t n, int64_t at);
static void ext_ble_clear(struct fleet_device *d);

/* ---- defaults ----------------------------------------------------------------------- */

int fleet_serial_host_default(enum client_dfu_kind k, struct fleet_serial_host *out)
{
    memset(out, 0, sizeof(*out));
    switch (k) {
    case CLIENT_DFU_MCUMGR_CLI:
        /* apache/mynewt-newtmgr: nmxact/nmserial/serial_xport.go: XportCfg Mtu 512 by
         * default, MtuOut = mtu x 3/4 - 13 = 371; Tx() sleeps 20 ms before
         * each continuation frame ("slower platforms ... have very small receive
         * buffers"). */
        out->packet_max = 512 * 3 / 4 - 13;
        out->frame_gap_ns = 20 * 1000000LL;
        return 0;
    case CLIENT_DFU_SMPCLIENT:
        /* intercreate/smpclient: src/smpclient/transport/serial.py: defaults
         * max_smp_encoded_frame_size 256, line_length 128, line_buffers 2;
         * max_unencoded_size = _base64_max(256) - ((_base64_cost(2 + 2) + 2) x 2 + 1)
         * = (192 - 2) - ((6 + 2 + 2) x 2 + 1) = 190 - 21 = 169. It writes every frame of
         * a packet at once. */
        out->packet_max = 169;
        out->frame_gap_ns = 0;
        return 0;
    case CLIENT_DFU_ANDROID:
    case CLIENT_DFU_IOS:
    case CLIENT_DFU_KIND_COUNT:
        break;
    }
    return SIM_EINVAL;
}

void fleet_device_cfg_default(struct fleet_device_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->mode = MCUBOOT_SLOTS_SWAP_MOVE;
    c->secondary_image = -1;
    c->smp = FLEET_SMP_DFU_MCUMGR;
    c->dfu_lock = true;
    c->ble_latency = true;
    c->reassembly = true;
    c->mcumgr_params = true;
    c->image_check = true; /* smp_img_mgmt_cfg_default */
    c->netbuf = smp_netbuf_cfg_default();
    c->netbuf.buf_size = 2475;
    c->netbuf.buf_count = 4;
    c->transport = FLEET_TRANSPORT_BLE;
    ble_link_cfg_default(&c->link);
    uart_link_cfg_default(&c->uart);
    c->client = client_dfu_cfg_default(CLIENT_DFU_ANDROID);
    c->central = CLIENT_CENTRAL_COUNT; /* none: the link and the client as given */
    c->interval_fixed = true;
    c->pref_latency = 99;
    c->app_boot_ns = 0;
    c->adv_ns = 100 * 1000000LL;
}

void fleet_device_faults_default(struct fleet_device_faults *f)
{
    *f = (struct fleet_device_faults){
        .upload_at = 0.5,
        .swap_at = 0.5,
        .mean_ns = 3600 * 1000000000LL,
        .off_ns = 1000000000LL,
        .bad_image = FLEET_BAD_IMAGE_CRASH,
        .crash_after_ns = 2 * 1000000000LL,
        .reset_after_ns = 3600 * 1000000000LL,
        .degrade_to = 0.3,
        .degrade_from_ns = 0,
        .degrade_over_ns = 600 * 1000000000LL,
        .two_sources_at_ns = 10 * 1000000000LL,
        .two_sources_report_ns = 20 * 1000000LL,
    };
}

static bool fault_on(const struct fleet_device *d, unsigned bit)
{
    return d->faults != NULL && (d->fault_on & bit) != 0;
}

static void keep_error(struct fleet_device *d, int rc)
{
    if (d->err == 0)
        d->err = rc;
}

/* Make *buf (*cap bytes) hold at least need bytes (need <= max): BUF_FIRST, doubled, capped
 * at max. Returns 0, or SIM_ENOMEM with *buf and *cap unchanged. */
static int buf_grow(uint8_t **buf, size_t *cap, size_t need, size_t max)
{
    assert(need <= max);
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : BUF_FIRST;
    while (c < need)
        c *= 2;
    if (c > max)
        c = max;
    uint8_t *p = realloc(*buf, c);
    if (p == NULL)
        return SIM_ENOMEM;
    *buf = p;
    *cap = c;
    return 0;
}

/* ---- timers ------------------------------------------------------------------------- */

/* While app_rebuild() replays a start (and the connection) for app_park() or app_unpark(),
 * nothing leaves the device: timer requests, records, flash writes and link requests
 * already happened when the state was first built, and their results are in what
 * persists. The callbacks return constants then, so a rebuild is a function of what
 * persists alone (struct fleet_app). */
static bool quiet(const struct fleet_device *d)
{
    return d->quiet;
}

static uint32_t arm(struct fleet_device *d, int slot, int64_t at)
{
    if (quiet(d))
        return 0;
    d->armed |= 1u << slot;
    uint32_t g = ++d->gen[slot];
    if (at < d->now)
        at = d->now;
    (void)d->cx->timer_arm(d->cx->env, d->id, slot, g, at);
    return g;
}

static void cancel(struct fleet_device *d, int slot)
{
    if (quiet(d))
        return;
    d->armed &= ~(1u << slot);
    d->gen[slot]++;
    d->cx->timer_cancel(d->cx->env, d->id, slot);
}

/* ---- flash: img_mgmt's slots, measured ---------------------------------------------- */

static struct fleet_device *ops_dev(void *env)
{
    return env;
}

#define INNER(d)   ((d)->inner.ops)
#define MEASURE(d) ((d)->flash_acc += mcuboot_slots_last_op_ns(&(d)->slots))

static int m_read_info(void *env, int slot, struct smp_img_slots_info *out)
{
    struct fleet_device *d = ops_dev(env);
    int rc = INNER(d)->read_info(d->inner.env, slot, out);
    MEASURE(d);
    return rc;
}
static int m_active_slot(void *env, int image)
{
    struct fleet_device *d = ops_dev(env);
    return INNER(d)->active_slot(d->inner.env, image);
}
static int m_swap_type(void *env, int image)
{
    struct fleet_device *d = ops_dev(env);
    return INNER(d)->swap_type(d->inner.env, image);
}
static int m_xip_state(void *env, int slot)
{
    struct fleet_device *d = ops_dev(env);
    return INNER(d)->xip_state(d->inner.env, slot);
}
static uint32_t m_slot_size(void *env, int slot)
{
    struct fleet_device *d = ops_dev(env);
    return INNER(d)->slot_size(d->inner.env, slot);
}
static uint32_t m_slot_addr(void *env, int slot)
{
    struct fleet_device *d = ops_dev(env);
    return INNER(d)->slot_addr(d->inner.env, slot);
}
static int m_is_empty(void *env, int slot, bool *empty)
{
    struct fleet_device *d = ops_dev(env);
    int rc = INNER(d)->is_empty(d->inner.env, slot, empty);
    MEASURE(d);
    return rc;
}
static int m_erase_slot(void *env, int slot)
{
    struct fleet_device *d = ops_dev(env);
    if (quiet(d))
        return 0;
    int rc = INNER(d)->erase_slot(d->inner.env, slot);
    MEASURE(d);
    return rc;
}
static int m_erase_upload(void *env, int slot, uint32_t size)
{
    struct fleet_device *d = ops_dev(env);
    if (quiet(d))
        return 0;
    int rc = INNER(d)->erase_upload(d->inner.env, slot, size);
    MEASURE(d);
    return rc;
}
static void upload_cut(struct fleet_device *d, int slot, uint32_t off, size_t n);
static void two_sources_arm(struct fleet_device *d, int slot);
static int m_write(void *env, int slot, uint32_t off, const uint8_t *p, size_t n, bool last)
{
    struct fleet_device *d = ops_dev(env);
    if (quiet(d))
        return 0;
    int rc = INNER(d)->write(d->inner.env, slot, off, p, n, last);
    MEASURE(d);
    if (rc == 0) {
        d->st.image_bytes += (int64_t)n;
        two_sources_arm(d, slot);
        upload_cut(d, slot, off, n);
    }
    return rc;
}
static int m_check_sha(void *env, int slot, uint32_t len, const uint8_t sha[SMP_IMG_SLOTS_HASH_LEN])
{
    struct fleet_device *d = ops_dev(env);
    int rc = INNER(d)->check_sha(d->inner.env, slot, len, sha);
    MEASURE(d);
    return rc;
}
static bool confirm_refused(const struct fleet_device *d, int slot, bool active, bool confirm);
static int m_set_next(void *env, int slot, bool active, bool confirm)
{
    struct fleet_device *d = ops_dev(env);
    if (quiet(d))
        return 0;
    if (confirm_refused(d, slot, active, confirm))
        return SMP_IMG_SLOTS_ERR_FLASH_WRITE_FAILED; /* nothing written */
    int rc = INNER(d)->set_next(d->inner.env, slot, active, confirm);
    MEASURE(d);
    return rc;
}

static const struct smp_img_slots_ops measured_ops = {
    m_read_info, m_active_slot, m_swap_type,    m_xip_state, m_slot_size, m_slot_addr,
    m_is_empty,  m_erase_slot,  m_erase_upload, m_write,     m_check_sha, m_set_next,
};

static bool is_xip(const struct fleet_device *d)
{
    return d->cfg->mode >= MCUBOOT_SLOTS_DIRECT_XIP;
}

static bool is_uart(const struct fleet_device *d)
{
    return d->cfg->transport == FLEET_TRANSPORT_UART;
}

bool fleet_device_confirmed(const struct fleet_device *d)
{
    /* Direct-XIP and RAM-load without revert have no confirmation: the newest valid image
     * runs for good (mcu-tools/mcuboot: boot/bootutil/src/loader.c picks the slot by
     * version alone). */
    if (d->cfg->mode == MCUBOOT_SLOTS_DIRECT_XIP || d->cfg->mode == MCUBOOT_SLOTS_RAM_LOAD)
        return d->st.running_image != MCUBOOT_SLOTS_NONE;
    int slot = is_xip(d) ? d->slots.active : 0;
    if (slot < 0)
        return false;
    struct mcuboot_trailer_swap_state st;
    mcuboot_trailer_state(&d->slots.trailer[slot], &st);
    return st.image_ok == MCUBOOT_TRAILER_FLAG_SET;
}

/* Note when the update image first runs confirmed. */
static void note_confirmed(struct fleet_device *d, int64_t now)
{
    if (d->st.updated_ns == RECORDER_NONE && d->state == FLEET_DEV_APP &&
        d->st.running_image == d->update_image && fleet_device_confirmed(d))
        d->st.updated_ns = now;
}

/* boot_write_img_confirmed(): image_ok of the running slot. */
static int confirm_running(struct fleet_device *d)
{
    int slot = is_xip(d) ? d->slots.active : 0;
    d->flash_acc = 0;
    int rc = measured_ops.set_next(d, slot, true, true);
    return rc;
}

/* The client as the device was made with it: its settings (the group's, the central's
 * host drawn from (seed, entity), the device id, a serial host's packet limit), the same
 * whenever they are worked out. */
static void client_cfg_of(const struct fleet_device *d, struct client_dfu_cfg *ccfg)
{
    const struct fleet_device_cfg *cfg = d->cfg;
    *ccfg = cfg->client;
    const struct client_central_profile *central =
        client_central_profile((enum client_central)cfg->central);
    if (!is_uart(d) && central != NULL)
        client_central_host(central, d->seed, d->entity, ccfg);
    ccfg->device_id = d->id;
    if (is_uart(d) && (ccfg->p.packet_cap == 0 || ccfg->p.packet_cap > cfg->serial.packet_max))
        ccfg->p.packet_cap = cfg->serial.packet_max;
}

/* The DFU client exists from its first input on (a device no host visited holds none: it
 * would be client_dfu_new's state, a function of the settings). NULL only when out of
 * memory (the error is kept: the run stops). */
static struct client_dfu *client_of(struct fleet_device *d)
{
    if (d->client == NULL) {
        struct client_dfu_cfg ccfg;
        client_cfg_of(d, &ccfg);
        d->client = client_dfu_new(&ccfg, d->cfg->client_image);
        if (d->client == NULL)
            keep_error(d, SIM_ENOMEM); /* the settings were checked by fleet_device_new */
    }
    return d->client;
}

/* Client steps and queries (a client not made yet is IDLE and not finished). */
static int client_step(struct fleet_device *d, enum client_dfu_input in, const void *arg,
                       int64_t now)
{
    struct client_dfu *c = client_of(d);
    return c != NULL ? client_dfu_step(c, in, arg, now, &d->client_cx) : SIM_ENOMEM;
}

static bool client_finished(const struct fleet_device *d)
{
    return d->client != NULL && client_dfu_finished(d->client);
}

static enum client_dfu_state client_state(const struct fleet_device *d)
{
    return d->client != NULL ? client_dfu_state_get(d->client) : CLIENT_DFU_IDLE;
}

/* ---- SMP: transport, worker, server --------------------------------------------------- */

static int stage_send(void *env, const uint8_t *frame, size_t n)
{
    struct fleet_device *d = env;
    if (quiet(d))
        return 0;
    if (d->app->stage_len + n + 4 > STAGE_CAP)
        return 0; /* a response that does not fit is lost (never with our sizes) */
    if (buf_grow(&d->app->stage, &d->app->stage_cap, d->app->stage_len + n + 4, STAGE_CAP) != 0) {
        keep_error(d, SIM_ENOMEM); /* the run stops: fleet_device_timer() returns it */
        return 0;
    }
    uint32_t len = (uint32_t)n;
    memcpy(d->app->stage + d->app->stage_len, &len, 4);
    memcpy(d->app->stage + d->app->stage_len + 4, frame, n);
    d->app->stage_len += 4 + n;
    d->app->stage_n++;
    return 0;
}

/* Erases then writes on a chip that shares the CPU with the radio, from where the packet's
 * flash work has got to: in MPSL timeslots around the link's connection events
 * (models/flash/radio_sync.h); the events a HIGH timeslot takes are skipped by the link. */
static int64_t radio_flash_ns(void *env, const struct flash_chip *c, int64_t erase_ns,
                              int64_t write_ns)
{
    struct fleet_device *d = env;
    const int64_t start = d->now + d->flash_acc;
    struct flash_sync_radio r = {0, 0, 0};
    if (!ble_link_schedule(&d->link, start, &r.anchor, &r.interval, &r.busy))
        r.interval = 0;
    if (r.busy > FLASH_SYNC_CE_RESERVED_NS) /* the extension past it yields to the timeslot */
        r.busy = FLASH_SYNC_CE_RESERVED_NS;
    const int64_t t_erase = c->t_erase[c->corner], t_prog = c->t_prog[c->corner];
    struct flash_sync_work work[2] = {
        flash_sync_work_of(t_erase, t_erase > 0 ? (uint32_t)(erase_ns / t_erase) : 0,
                           c->sync_erase_window_ns > 0 ? c->sync_erase_window_ns : t_erase),
        flash_sync_work_of(t_prog, t_prog > 0 ? (uint32_t)(write_ns / t_prog) : 0,
                           c->sync_write_window_ns),
    };
    int64_t t = start;
    for (int i = 0; i < 2; i++) {
        struct flash_sync_result res;
        flash_sync_run(&r, &work[i], t, &res);
        t = res.done;
        if (res.block_until > res.block_from)
            keep_error(d, ble_link_skip_events(&d->link, res.block_from, res.block_until, d->now,
                                               &d->link_cx));
    }
    return t - start;
}

/* The worker takes a packet: process it now, measure the flash time it costs. */
static int64_t pool_flash_cost(void *env, const uint8_t *pkt, size_t n)
{
    struct fleet_device *d = env;
    d->app->stage_len = 0;
    d->app->stage_n = 0;
    d->flash_acc = 0;
    /* The response net_buf is scratch for this call only (the responses are staged): a
     * block that the next device's packet reuses while it is still in cache. */
    uint8_t *rsp = smp_netbuf_block_get(smp_netbuf_buf_size(d->app->pool));
    if (rsp == NULL) {
        keep_error(d, SIM_ENOMEM);
        return 0;
    }
    int rc = smp_server_process(&d->app->srv, pkt, n, rsp, smp_netbuf_buf_size(d->app->pool),
                                d->now, &d->app->stage_cx, NULL);
    smp_netbuf_block_put(rsp, smp_netbuf_buf_size(d->app->pool));
    (void)rc; /* a negative sim_err here only loses the responses */
    note_confirmed(d, d->now);
    return d->flash_acc;
}

static int pool_timer_arm(void *env, int64_t at)
{
    arm(env, FLEET_T_NETBUF, at);
    return 0;
}

static int device_serial_send(struct fleet_device *d, const uint8_t *b, size_t n, int64_t now);

/* The busy period ended: the staged responses leave. */
static int pool_process(void *env, const uint8_t *pkt, size_t n, uint8_t *rsp, size_t cap,
                        int64_t now)
{
    struct fleet_device *d = env;
    (void)pkt, (void)n, (void)rsp, (void)cap;
    size_t off = 0;
    while (off < d->app->stage_len) {
        uint32_t len;
        memcpy(&len, d->app->stage + off, 4);
        if (d->ext != NULL && d->ext->link == FLEET_EXT_DIRECT) {
            d->ext->x.tx(d->ext->x.env, d->id, d->app->stage + off + 4, len, now);
        } else if (d->app_conn) {
            int rc = is_uart(d)
                         ? device_serial_send(d, d->app->stage + off + 4, len, now)
                         : smp_bt_send(&d->app->bt, d->app->stage + off + 4, len, &d->app->bt_cx);
            if (rc < 0)
                return rc;
        }
        off += 4 + len;
    }
    d->app->stage_len = 0;
    d->app->stage_n = 0;
    return 0;
}

static int bt_notify(void *env, uint32_t conn, const uint8_t *p, size_t n)
{
    struct fleet_device *d = env;
    if (quiet(d))
        return 0;
    (void)conn;
    int rc = ble_link_send(&d->link, BLE_LINK_P2C, p, n, d->now, &d->link_cx);
    if (rc == BLE_LINK_FULL)
        return 1;
    if (rc != BLE_LINK_OK) {
        d->st.n_tx_dropped++;
        return rc < 0 ? rc : 0;
    }
    return 0;
}

/* ---- firmware modules --------------------------------------------------------------- */

static int64_t record_attempt_id(const struct fleet_device *d);
static void fw_emit(void *env, const struct fw_record *r)
{
    struct fleet_device *d = env;
    bool counted = r->kind == FW_RECORD_LOCK || r->kind == FW_RECORD_REJECT ||
                   r->kind == FW_RECORD_ERASE_END || r->kind == FW_RECORD_UNEXPECTED;
    if (counted && quiet(d))
        return; /* the others are not kept: no effect */
    switch (r->kind) {
    case FW_RECORD_LOCK: {
        struct recorder_lock l = {.attempt_id = record_attempt_id(d),
                                  .device_id = d->id,
                                  .at_ns = r->at,
                                  .owner = r->owner};
        d->cx->emit_lock(d->cx->env, d->id, &l);
        break;
    }
    case FW_RECORD_REJECT:
        if (r->a == SMP_MGMT_ERR_EACCESSDENIED) {
            d->st.n_rejects++;
            d->st.last_reject_ns = r->at;
        }
        break;
    case FW_RECORD_ERASE_END:
        if (d->st.first_erase_end_ns == RECORDER_NONE)
            d->st.first_erase_end_ns = r->at;
        d->st.erase_end_ns = r->at;
        break;
    case FW_RECORD_UNEXPECTED:
        d->st.n_unexpected++;
        break;
    default:
        break;
    }
}

static void bus_kick(void *env, int64_t now)
{
    struct fleet_device *d = env;
    if (d->quiet)
        return; /* the start's kick: app_rebuild() runs the bus itself */
    if (!d->app->bus_kicked) {
        d->app->bus_kicked = true;
        arm(d, FLEET_T_BUS, now);
    }
}

static int fw_submit(void *env, const struct fw_event *ev, int64_t now)
{
    struct fleet_device *d = env;
    return fw_event_bus_submit(&d->app->bus, ev, now);
}

static uint32_t mc_arm(void *env, int timer, int64_t at)
{
    (void)timer;
    return arm(env, FLEET_T_MCUMGR, at);
}
static void mc_cancel(void *env, int timer)
{
    (void)timer;
    cancel(env, FLEET_T_MCUMGR);
}
/* fw_confirm() in a quiet rebuild: what confirm_running() returns, without writing. */
static int confirm_dry(const struct fleet_device *d)
{
    int slot = is_xip(d) ? d->slots.active : 0;
    if (confirm_refused(d, slot, true, true))
        return SMP_IMG_SLOTS_ERR_FLASH_WRITE_FAILED;
    if (slot < 0) {
        return 0;
    }
    struct mcuboot_trailer t = d->slots.trailer[slot];
    struct mcuboot_trailer_write w[3];
    size_t n_w = 0;
    int rc = mcuboot_trailer_set_confirmed(&d->slots.cfg->geom.trailer, &t, w, &n_w);
    return rc == 0 ? 0 : SMP_IMG_SLOTS_ERR_FLASH_WRITE_FAILED;
}

static int fw_confirm(void *env, int64_t now)
{
    struct fleet_device *d = env;
    if (d->quiet)
        return confirm_dry(d);
    int rc = confirm_running(d);
    note_confirmed(d, now);
    return rc;
}
static void mc_reset_upload(void *env, int64_t now)
{
    struct fleet_device *d = env;
    (void)now;
    smp_img_mgmt_reset_upload(&d->app->img);
}

static uint32_t lat_arm(void *env, int timer, int64_t at)
{
    return arm(env, timer == FW_BLE_LATENCY_TIMER_CHECK ? FLEET_T_LAT_CHECK : FLEET_T_LAT_SEC, at);
}
static void lat_cancel(void *env, int timer)
{
    cancel(env, timer == FW_BLE_LATENCY_TIMER_CHECK ? FLEET_T_LAT_CHECK : FLEET_T_LAT_SEC);
}
static void lat_params_get(void *env, struct fw_event_conn_params *out)
{
    struct fleet_device *d = env;
    if (d->quiet) {
        *out = d->park_params;
        return;
    }
    uint16_t iv = (uint16_t)(d->link.cfg.interval_ns / BT_MS_1_25);
    *out = (struct fw_event_conn_params){iv, iv, d->link.cfg.latency,
                                         (uint16_t)(d->link.cfg.timeout_ns / BT_MS_10)};
}
static int lat_update(void *env, const struct fw_event_conn_params *p, int64_t now)
{
    struct fleet_device *d = env;
    if (quiet(d))
        return 0;
    int rc = ble_link_update(&d->link, BLE_LINK_P2C, (int64_t)p->interval_min * BT_MS_1_25,
                             p->latency, (int64_t)p->timeout * BT_MS_10, now, &d->link_cx);
    if (rc < 0 && rc != SIM_ERANGE)
        return rc;
    /* BLE_LINK_BUSY (an update pending), NOT_CONNECTED, ERANGE: refused, flags unchanged;
     * ble_latency asks again on the next transfer event. */
    return rc == BLE_LINK_OK ? 0 : FW_BLE_LATENCY_EFAIL;
}
static void lat_disconnect(void *env, uint8_t reason, int64_t now)
{
    struct fleet_device *d = env;
    if (quiet(d))
        return;
    (void)ble_link_disconnect(&d->link, reason, now, &d->link_cx);
}

static uint32_t cc_arm(void *env, int timer, int64_t at)
{
    return arm(env, FLEET_T_CC0 + timer, at);
}
static void cc_cancel(void *env, int timer)
{
    cancel(env, FLEET_T_CC0 + timer);
}
/* The slot the config channel writes: dfu.c dfu_slot_id() returns "the slot ID that is
 * currently not in use" (nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu.c):
 * the secondary in the copying modes, the inactive slot in direct-xip. Slot numbers are
 * area numbers here (MCUBOOT_SWAP_PRIMARY 0, MCUBOOT_SWAP_SECONDARY 1). */
static int cc_slot(const struct fleet_device *d)
{
    return is_xip(d) && d->slots.active == 1 ? MCUBOOT_SWAP_PRIMARY : MCUBOOT_SWAP_SECONDARY;
}
static const struct flash_chip *cc_chip(const struct fleet_device *d)
{
    return &d->slots.cfg->geom.chip[cc_slot(d)];
}
static bool cc_clean(void *env, uint32_t off, uint32_t len)
{
    struct fleet_device *d = env;
    int a = cc_slot(d);
    uint32_t ss = d->slots.cfg->geom.sector_size;
    for (uint32_t s = off / ss; s < (off + len + ss - 1) / ss; s++)
        if (s < d->slots.cfg->geom.n_sectors[a] && d->slots.sector[a][s] != MCUBOOT_SWAP_ERASED)
            return false;
    uint32_t n = d->slots.cfg->geom.n_sectors[a];
    if ((off + len + ss - 1) / ss >= n) {
        struct mcuboot_trailer_swap_state st;
        mcuboot_trailer_state(&d->slots.trailer[a], &st);
        if (st.magic != MCUBOOT_TRAILER_MAGIC_UNSET)
            return false;
    }
    return true;
}
/* Erase [off, off + len) of the config channel's slot: the sector tags (and the trailer
 * when its sector is covered), counted as wear, timed as application-side flash work. */
static int cc_erase(void *env, uint32_t off, uint32_t len, int64_t now, int64_t *done_at)
{
    struct fleet_device *d = env;
    if (quiet(d)) {
        *done_at = now;
        return 0;
    }
    int a = cc_slot(d);
    uint32_t ss = d->slots.cfg->geom.sector_size;
    uint32_t n = d->slots.cfg->geom.n_sectors[a];
    uint32_t first = off / ss, end = (off + len + ss - 1) / ss;
    if (end > n)
        end = n;
    for (uint32_t s = first; s < end; s++)
        d->slots.sector[a][s] = MCUBOOT_SWAP_ERASED;
    if (end + d->slots.cfg->geom.trailer_sectors > n)
        mcuboot_trailer_erase(&d->slots.trailer[a]);
    if (d->slots.wear != NULL && end > first)
        (void)flash_wear_erase(d->slots.wear, d->slots.wear_dev, d->slots.wear_base[a] + first,
                               end - first);
    int64_t t = flash_chip_erase_ns(cc_chip(d), end > first ? end - first : 0);
    *done_at = now + flash_chip_app_ns(cc_chip(d), t, d->slots.ble_active);
    return 0;
}
/* The config channel stores bytes of its own image (no table image): the sectors they
 * fall in hold garbage to MCUboot, and an SMP upload in progress in that slot no longer
 * matches its hash (mcuboot_slots_foreign_write). Offsets are taken as image offsets. */
static int cc_write(void *env, uint32_t off, uint32_t len, int64_t now)
{
    struct fleet_device *d = env;
    if (quiet(d))
        return 0;
    (void)now;
    d->st.cc_bytes_written += len;
    if (len > 0)
        (void)mcuboot_slots_foreign_write(&d->slots, cc_slot(d), off, len); /* args valid */
    return 0;
}
static int cc_upgrade(void *env, bool permanent, int64_t now)
{
    struct fleet_device *d = env;
    if (quiet(d))
        return 0;
    (void)now;
    d->flash_acc = 0;
    return measured_ops.set_next(d, 1, false, permanent);
}
static int device_reboot(struct fleet_device *d, int64_t now, const char *cause);
static void cc_reboot(void *env, int64_t now)
{
    if (quiet(env))
        return;
    keep_error(env, device_reboot(env, now, "reset"));
}

/* ---- the link and the central --------------------------------------------------------- */

static int link_arm(void *env, int64_t at)
{
    arm(env, FLEET_T_LINK, at);
    return 0;
}
static void link_cancel(void *env)
{
    cancel(env, FLEET_T_LINK);
}

static void central_rx(struct fleet_device *d, const uint8_t *p, size_t n, int64_t now)
{
    if (d->crx_len + n > CLIENT_RXCAP) {
        d->crx_len = 0; /* garbage: resynchronise */
        return;
    }
    if (buf_grow(&d->crx, &d->crx_cap, d->crx_len + n, CLIENT_RXCAP) != 0) {
        keep_error(d, SIM_ENOMEM);
        return;
    }
    memcpy(d->crx + d->crx_len, p, n);
    d->crx_len += n;
    while (d->crx_len >= SMP_MGMT_HDR_SIZE) {
        size_t total = SMP_MGMT_HDR_SIZE + (((size_t)d->crx[2] << 8) | d->crx[3]);
        if (d->crx_len < total)
            return;
        struct client_dfu_rx rx = {d->crx, total};
        if (d->ext != NULL)
            d->ext->x.tx(d->ext->x.env, d->id, d->crx, total, now);
        else
            (void)client_step(d, CLIENT_DFU_IN_RX, &rx, now);
        memmove(d->crx, d->crx + total, d->crx_len - total);
        d->crx_len -= total;
    }
}

static int app_unpark(struct fleet_device *d, int64_t now);
static bool app_need(struct fleet_device *d, int64_t now);
static void link_deliver(void *env, enum ble_link_dir dir, const uint8_t *p, size_t n, int64_t at)
{
    struct fleet_device *d = env;
    d->now = at;
    if (dir == BLE_LINK_P2C) {
        central_rx(d, p, n, at);
        return;
    }
    if (!d->app_conn || !app_need(d, at))
        return;
    if (d->ext != NULL) {
        ext_ble_rx(d, p, n, at);
        return;
    }
    enum smp_bt_rx rx;
    enum smp_bt_att att;
    (void)smp_bt_write(&d->app->bt, p, n, at, &d->app->pool_cx, &rx, &att);
}

/* The application sees connection conn_id: the SMP transport's and the bus's part (also
 * replayed by app_rebuild for a parked device whose link stayed up). */
static void app_conn_events(struct fleet_device *d, int64_t now)
{
    smp_bt_connect(&d->app->bt, d->conn_id, d->quiet ? d->park_mtu : ble_link_mtu_get(&d->link));
    smp_bt_subscribe(&d->app->bt, true);
    struct fw_event c = fw_event_peer(FW_EVENT_PEER_CONNECTED);
    struct fw_event s = fw_event_peer(FW_EVENT_PEER_SECURED); /* bonded, encrypted link */
    (void)fw_event_bus_submit(&d->app->bus, &c, now);
    if (d->quiet ? d->park_encrypted : d->link.cfg.encrypted)
        (void)fw_event_bus_submit(&d->app->bus, &s, now);
}

/* A parked application's state is needed: rebuilt, or the error kept (false). */
static bool app_need(struct fleet_device *d, int64_t now)
{
    int rc = app_unpark(d, now);
    if (rc != 0)
        keep_error(d, rc);
    return d->app != NULL;
}

static void app_connected(struct fleet_device *d, int64_t now)
{
    if (!app_need(d, now))
        return;
    d->app_conn = true;
    ++d->conn_id;
    mcuboot_slots_set_ble(&d->slots, true);
    app_conn_events(d, now);
}

static void app_disconnected(struct fleet_device *d, int64_t now)
{
    if (!d->app_conn || !app_need(d, now))
        return;
    d->app_conn = false;
    if (d->app->stage_len == 0) { /* no response staged: regrown by the next session's first */
        free(d->app->stage);
        d->app->stage = NULL;
        d->app->stage_cap = 0;
    }
    smp_bt_disconnect(&d->app->bt);
    mcuboot_slots_set_ble(&d->slots, false);
    struct fw_event ev = fw_event_peer(FW_EVENT_PEER_DISCONNECTED);
    (void)fw_event_bus_submit(&d->app->bus, &ev, now);
    d->adv_since = now;
}

/* The central wants a connection: CONNECT_IND adv_ns after the device advertises. Over a
 * UART: the session starts (FLEET_T_CONNECT) at once if the application runs, else when it
 * does (app_start). */
static void want_connect(struct fleet_device *d, int64_t now)
{
    d->connect_wanted = true;
    if (is_uart(d)) {
        if (d->state == FLEET_DEV_APP && !d->serial->host_conn)
            arm(d, FLEET_T_CONNECT, now);
        return;
    }
    if (d->state != FLEET_DEV_APP || ble_link_state_get(&d->link) != BLE_LINK_DISCONNECTED)
        return;
    int64_t at = (d->adv_since > now ? d->adv_since : now) + d->cfg->adv_ns;
    arm(d, FLEET_T_CONNECT, at);
}

static void link_note(void *env, const struct ble_link_note *n)
{
    struct fleet_device *d = env;
    d->now = n->at_ns;
    switch (n->kind) {
    case BLE_LINK_NOTE_CONNECTED: {
        if (d->state == FLEET_DEV_APP)
            app_connected(d, n->at_ns);
        struct client_dfu_conn c = {n->mtu};
        if (d->ext == NULL)
            (void)client_step(d, CLIENT_DFU_IN_CONNECTED, &c, n->at_ns);
        break;
    }
    case BLE_LINK_NOTE_DISCONNECTED:
        if (d->state == FLEET_DEV_APP)
            app_disconnected(d, n->at_ns);
        d->crx_len = 0;
        free(d->crx); /* regrown by the next session's first notification */
        d->crx = NULL;
        d->crx_cap = 0;
        if (d->ext != NULL) {
            ext_ble_clear(d); /* what was on the way is lost; the bridge connects again */
            want_connect(d, n->at_ns);
            break;
        }
        (void)client_step(d, CLIENT_DFU_IN_DISCONNECTED, NULL, n->at_ns);
        if (d->connect_wanted) /* asked while the link was still going down */
            want_connect(d, n->at_ns);
        break;
    case BLE_LINK_NOTE_PARAMS_UPDATED:
        if (d->state == FLEET_DEV_APP && d->app_conn && app_need(d, n->at_ns)) {
            struct fw_event ev = {.type = FW_EVENT_BLE_CONN_PARAMS};
            uint16_t iv = (uint16_t)(n->interval_ns / BT_MS_1_25);
            ev.u.conn_params.p = (struct fw_event_conn_params){
                iv, iv, n->latency, (uint16_t)(n->timeout_ns / BT_MS_10)};
            ev.u.conn_params.updated = true;
            (void)fw_event_bus_submit(&d->app->bus, &ev, n->at_ns);
        }
        break;
    }
}

/* ---- the UART and the host ----------------------------------------------------------- */

static int uart_arm(void *env, int64_t at)
{
    arm(env, FLEET_T_UART, at);
    return 0;
}
static void uart_cancel(void *env)
{
    cancel(env, FLEET_T_UART);
}

/* A response frame: encoded, all frames at once (Zephyr's smp_uart writes them back to
 * back), device -> host. */
static int device_serial_send(struct fleet_device *d, const uint8_t *b, size_t n, int64_t now)
{
    struct fleet_device_serial *s = d->serial;
    size_t len;
    if (smp_serial_encode(b, n, s->enc, s->enc_cap, &len) != 0) {
        d->st.n_tx_dropped++; /* longer than the length field: never with our sizes */
        return 0;
    }
    int rc = uart_link_send(&s->uart, UART_LINK_D2H, s->enc, len, now, &s->uart_cx);
    if (rc == 1)
        d->st.n_tx_dropped++;
    return rc < 0 ? rc : 0;
}

/* The host's worker has no cost: a decoded response goes to the client at once. */
static int host_timer_arm(void *env, int64_t at)
{
    (void)env, (void)at;
    return 0;
}

static int host_process(void *env, const uint8_t *pkt, size_t n, uint8_t *rsp, size_t cap,
                        int64_t now)
{
    struct fleet_device *d = env;
    (void)rsp, (void)cap;
    if (!d->serial->host_conn)
        return 0;
    if (d->ext != NULL) {
        d->ext->x.tx(d->ext->x.env, d->id, pkt, n, now);
        return 0;
    }
    struct client_dfu_rx rx = {pkt, n};
    return client_step(d, CLIENT_DFU_IN_RX, &rx, now);
}

static void host_frame(struct fleet_device *d, const uint8_t *p, size_t n, int64_t at)
{
    struct fleet_device_serial *s = d->serial;
    enum smp_serial_rx rx;
    (void)smp_serial_rx_frame(&s->hser, p, n, at, &s->hpool_cx, &rx);
    /* cpu_per_request 0 and no flash cost: the worker is done at `at`. */
    for (int k = 0; k < SMP_NETBUF_MAX_COUNT && smp_netbuf_busy(s->hpool); k++)
        (void)smp_netbuf_timer(s->hpool, at, &s->hpool_cx);
}

static void device_frame(struct fleet_device *d, const uint8_t *p, size_t n, int64_t at)
{
    if (d->state != FLEET_DEV_APP || !d->app_conn) {
        d->st.n_serial_lost++; /* MCUboot runs: nobody reads the UART */
        return;
    }
    enum smp_serial_rx rx;
    (void)smp_serial_rx_frame(&d->serial->ser, p, n, at, &d->app->pool_cx, &rx);
}

/* Every send is whole frames, so a delivery splits into lines ending 0x0a. */
static void uart_deliver(void *env, enum uart_link_dir dir, const uint8_t *p, size_t n, int64_t at)
{
    struct fleet_device *d = env;
    d->now = at;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0x0a && i + 1 < n)
            continue;
        if (dir == UART_LINK_H2D)
            device_frame(d, p + start, i + 1 - start, at);
        else
            host_frame(d, p + start, i + 1 - start, at);
        start = i + 1;
    }
}

/* Write the host's queued frames at now: a start frame at once (after the frame before
 * it), a continuation frame serial.frame_gap_ns after the previous write. */
static int host_pump(struct fleet_device *d, int64_t now)
{
    struct fleet_device_serial *s = d->serial;
    while (s->htx_len > 0) {
        const uint8_t *f = s->htx + s->htx_first;
        const uint8_t *nl = memchr(f, 0x0a, s->htx_len);
        size_t k = nl != NULL ? (size_t)(nl - f) + 1 : s->htx_len;
        int64_t at = f[0] == 0x04 ? s->htx_last + d->cfg->serial.frame_gap_ns : now;
        if (at > now) {
            arm(d, FLEET_T_HOST_TX, at);
            return 0;
        }
        int rc = uart_link_send(&s->uart, UART_LINK_H2D, f, k, now, &s->uart_cx);
        if (rc < 0)
            return rc;
        if (rc == 1)
            d->st.n_tx_dropped++;
        s->htx_last = now;
        s->htx_first += k;
        s->htx_len -= k;
    }
    s->htx_first = 0;
    return 0;
}

/* The client's request: encoded straight into the host's queue of frames to write. */
static int host_send(struct fleet_device *d, const uint8_t *b, size_t n)
{
    struct fleet_device_serial *s = d->serial;
    size_t len = smp_serial_encoded_len(n);
    if (s->htx_first + s->htx_len + len > s->htx_cap && s->htx_first > 0) {
        memmove(s->htx, s->htx + s->htx_first, s->htx_len);
        s->htx_first = 0;
    }
    if (s->htx_len + len > s->htx_cap) {
        size_t cap = s->htx_cap ? s->htx_cap : 1024;
        while (cap < s->htx_len + len)
            cap *= 2;
        uint8_t *p = realloc(s->htx, cap);
        if (p == NULL)
            return SIM_ENOMEM;
        s->htx = p;
        s->htx_cap = cap;
    }
    if (smp_serial_encode(b, n, s->htx + s->htx_first + s->htx_len, len, &len) != 0) {
        d->st.n_tx_dropped++; /* longer than the length field: never with our sizes */
        return 0;
    }
    s->htx_len += len;
    return host_pump(d, d->now);
}

/* The client's session starts (the application runs and the client asked for it). */
static int host_connected(struct fleet_device *d, int64_t now)
{
    d->connect_wanted = false;
    d->serial->host_conn = true;
    if (d->ext != NULL)
        return 0;
    struct client_dfu_conn c = {(uint16_t)(d->cfg->serial.packet_max + 3)};
    return client_step(d, CLIENT_DFU_IN_CONNECTED, &c, now);
}

static int client_send(void *env, const uint8_t *b, size_t n)
{
    struct fleet_device *d = env;
    if (is_uart(d))
        return host_send(d, b, n);
    size_t max = ble_link_sdu_max(&d->link);
    for (size_t off = 0; off < n; off += max) {
        size_t k = n - off < max ? n - off : max;
        int rc = ble_link_send(&d->link, BLE_LINK_C2P, b + off, k, d->now, &d->link_cx);
        if (rc < 0)
            return rc;
        if (rc != BLE_LINK_OK) {
            d->st.n_tx_dropped++;
            return 0;
        }
    }
    return 0;
}

static uint32_t client_arm(void *env, int timer, int64_t at)
{
    return arm(env, timer == CLIENT_DFU_TIMER_RSP ? FLEET_T_CLIENT_RSP : FLEET_T_CLIENT_WAIT, at);
}

static void client_connect(void *env)
{
    struct fleet_device *d = env;
    want_connect(d, d->now);
}

/* Attempt ids are unique per run without a global counter: device id x 2^32 + the device's
 * attempt number n (every session of phones that come back continues the numbering, so a
 * device may make any number of attempts). Chunks and swaps carry the id of the attempt in
 * progress. */
static int64_t attempt_id_of(const struct fleet_device *d, uint32_t n)
{
    return (int64_t)d->id << 32 | n;
}

static int64_t attempt_id(const struct fleet_device *d)
{
    return attempt_id_of(d, d->st.n_attempts);
}

/* The attempt a record that happens on the device now belongs to (recorder.h): the one in
 * progress, else the last one that ended (its reset or upload led here, e.g. a swap after
 * the phone left), else none. */
static int64_t record_attempt_id(const struct fleet_device *d)
{
    if (d->ext != NULL && d->ext->attempt_open)
        return attempt_id(d);
    enum client_dfu_state s = client_state(d);
    if (s != CLIENT_DFU_IDLE && s != CLIENT_DFU_DONE && s != CLIENT_DFU_FAILED)
        return attempt_id(d);
    if (d->st.n_attempts == 0)
        return RECORDER_NONE;
    return attempt_id_of(d, d->st.n_attempts - 1);
}

static int client_start(struct fleet_device *d, int64_t now)
{
    if (d->st.first_start_ns == RECORDER_NONE)
        d->st.first_start_ns = now;
    return client_step(d, CLIENT_DFU_IN_START, NULL, now);
}

/* Make the log hold the entry of attempt n_attempts (see fleet_device.log). Entries keep
 * their contents; their error pointers are moved with them. Returns 0 or SIM_ENOMEM (the
 * log unchanged). */
static int log_slot(struct fleet_device *d)
{
    uint32_t i = d->st.n_attempts % FLEET_DEVICE_LOG;
    if (i < d->log_cap)
        return 0;
    uint32_t cap = d->log_cap ? d->log_cap * 2 : 1;
    while (cap <= i)
        cap *= 2;
    if (cap > FLEET_DEVICE_LOG)
        cap = FLEET_DEVICE_LOG;
    struct fleet_device_attempt *p = realloc(d->log, cap * sizeof(*p));
    if (p == NULL)
        return SIM_ENOMEM;
    for (uint32_t k = 0; k < d->log_cap; k++)
        if (p[k].a.error != NULL)
            p[k].a.error = p[k].error;
    memset(p + d->log_cap, 0, (cap - d->log_cap) * sizeof(*p));
    d->log = p;
    d->log_cap = cap;
    return 0;
}

static void client_emit(void *env, const struct client_dfu_record *r)
{
    struct fleet_device *d = env;
    struct recorder_attempt a = r->attempt;
    a.device_id = d->id;
    a.attempt_id = attempt_id(d);
    a.image_bytes = d->st.image_bytes - d->st.image_bytes_emitted;
    d->st.image_bytes_emitted = d->st.image_bytes;
    d->st.bytes_sent += a.bytes_sent;
    if (d->st.swap_start_ns != RECORDER_NONE && a.reset_ns != RECORDER_NONE &&
        d->st.swap_start_ns >= a.reset_ns && d->st.swap_start_ns <= a.end_ns) {
        a.swap_start_ns = d->st.swap_start_ns;
        a.swap_end_ns = d->st.swap_end_ns;
    }
    if (d->cx->no_attempt_log) { /* nobody reads it (fleet_device_ctx) */
        d->st.n_attempts++;
        d->cx->emit_attempt(d->cx->env, d->id, &a);
        return;
    }
    if (log_slot(d) != 0) {
        keep_error(d, SIM_ENOMEM); /* the run stops; the attempt is still recorded */
        d->st.n_attempts++;
        d->cx->emit_attempt(d->cx->env, d->id, &a);
        return;
    }
    struct fleet_device_attempt *l = &d->log[d->st.n_attempts % FLEET_DEVICE_LOG];
    *l = (struct fleet_device_attempt){
        .a = a,
        .smp_rc = r->smp_rc,
    };
    if (a.error != NULL) {
        snprintf(l->error, sizeof(l->error), "%s", a.error);
        l->a.error = l->error;
    }
    l->a.outcome = a.outcome; /* static strings in the client */
    d->st.n_attempts++;
    d->cx->emit_attempt(d->cx->env, d->id, &a);
}

static void client_emit_chunk(void *env, const struct recorder_chunk *c)
{
    struct fleet_device *d = env;
    struct recorder_chunk k = *c;
    k.device_id = d->id;
    k.attempt_id = attempt_id(d);
    d->cx->emit_chunk(d->cx->env, d->id, &k);
}

/* ---- application start and reset ------------------------------------------------------ */

static void os_timer_arm_fn(void *env, int64_t at);
static int os_arm(void *env, int64_t at)
{
    os_timer_arm_fn(env, at);
    return 0;
}
static void os_timer_arm_fn(void *env, int64_t at)
{
    arm(env, FLEET_T_OS_RESET, at);
}
static void os_reboot(void *env, int64_t now)
{
    if (quiet(env))
        return;
    keep_error(env, device_reboot(env, now, "reset"));
}

static enum smp_img_mgmt_mode img_mode(enum mcuboot_slots_mode m)
{
    if (m == MCUBOOT_SLOTS_DIRECT_XIP || m == MCUBOOT_SLOTS_RAM_LOAD)
        return SMP_IMG_MGMT_MODE_DIRECT_XIP;
    if (m == MCUBOOT_SLOTS_DIRECT_XIP_REVERT || m == MCUBOOT_SLOTS_RAM_LOAD_REVERT)
        return SMP_IMG_MGMT_MODE_DIRECT_XIP_REVERT;
    return SMP_IMG_MGMT_MODE_SWAP;
}

/* enum mcuboot_mode numbers the bootloader info command reports (os_mgmt.h). */
static int32_t boot_mode_number(enum mcuboot_slots_mode m)
{
    static const int32_t map[MCUBOOT_SLOTS_MODE_COUNT] = {
        [MCUBOOT_SLOTS_OVERWRITE] = SMP_OS_MGMT_BOOT_MODE_UPGRADE_ONLY,
        [MCUBOOT_SLOTS_SWAP_SCRATCH] = SMP_OS_MGMT_BOOT_MODE_SWAP_USING_SCRATCH,
        [MCUBOOT_SLOTS_SWAP_MOVE] = SMP_OS_MGMT_BOOT_MODE_SWAP_USING_MOVE,
        [MCUBOOT_SLOTS_SWAP_OFFSET] = SMP_OS_MGMT_BOOT_MODE_UNKNOWN,
        [MCUBOOT_SLOTS_DIRECT_XIP] = SMP_OS_MGMT_BOOT_MODE_DIRECT_XIP,
        [MCUBOOT_SLOTS_DIRECT_XIP_REVERT] = SMP_OS_MGMT_BOOT_MODE_DIRECT_XIP_WITH_REVERT,
        [MCUBOOT_SLOTS_RAM_LOAD] = SMP_OS_MGMT_BOOT_MODE_UNKNOWN,
        [MCUBOOT_SLOTS_RAM_LOAD_REVERT] = SMP_OS_MGMT_BOOT_MODE_UNKNOWN,
    };
    return (unsigned)m < MCUBOOT_SLOTS_MODE_COUNT ? map[m] : SMP_OS_MGMT_BOOT_MODE_UNKNOWN;
}

static void fault_app_start(struct fleet_device *d, int64_t now);
static void outage_end(struct fleet_device *d, int64_t now);

/* The DFU lock's last owner (fw_dfu_lock.previous), which decides whose owner_changed
 * runs at the next claim: kept by name while the application is parked. */
enum lock_prev { LOCK_PREV_NONE, LOCK_PREV_MCUMGR, LOCK_PREV_CC, LOCK_PREV_OTHER };

static uint8_t lock_prev_of(const struct fleet_app *a)
{
    const struct fw_dfu_lock_owner *p = a->lock.previous;
    return p == NULL               ? LOCK_PREV_NONE
           : p == &a->mcumgr.owner ? LOCK_PREV_MCUMGR
           : p == &a->cc.owner     ? LOCK_PREV_CC
                                   : LOCK_PREV_OTHER;
}

static struct fleet_app *app_alloc(struct fleet_device *d)
{
    struct fleet_device_spares *sp = d->cx->spares;
    struct fleet_app *a = NULL;
    if (sp != NULL && sp->free != NULL) {
        a = sp->free;
        sp->free = a->next;
        sp->n_free--;
    } else {
        a = malloc(sizeof(*a));
        if (a == NULL)
            return NULL;
        if (sp != NULL)
            sp->n_made++;
    }
    if (sp != NULL)
        sp->n_live++;
    return a;
}

static void app_give_back(struct fleet_device *d, struct fleet_app *a)
{
    struct fleet_device_spares *sp = d->cx->spares;
    if (sp == NULL) {
        free(a);
        return;
    }
    a->next = sp->free;
    sp->free = a;
    sp->n_free++;
    sp->n_live--;
}

/* Build the application's RAM state in d->app as its start leaves it: every module
 * initialised and subscribed, the start's events (main READY; BLE: ble_state READY)
 * submitted, the bus kicked (the first submit arms FLEET_T_BUS unless quiet). pool is the
 * net_buf pool (owned by the part from now on). Returns 0 or a negative sim_err. */
static int app_build(struct fleet_device *d, struct smp_netbuf *pool, int64_t now)
{
    const struct fleet_device_cfg *c = d->cfg;
    struct fleet_app *a = d->app;
    memset(a, 0, offsetof(struct fleet_app, next));
    a->pool = pool;
    a->pool_cx = (struct smp_netbuf_ctx){d, pool_timer_arm, pool_flash_cost, pool_process};
    a->bt_cx = (struct smp_bt_ctx){d, bt_notify};
    a->stage_cx = (struct smp_server_ctx){d, stage_send};
    a->os_cx = (struct smp_os_mgmt_ctx){d, os_arm, os_reboot};
    a->bus_cx = (struct fw_event_bus_ctx){d, bus_kick};
    a->mcumgr_cx = (struct fw_dfu_mcumgr_ctx){d,          mc_arm,          mc_cancel, fw_submit,
                                              fw_confirm, mc_reset_upload, fw_emit};
    a->ble_smp_cx = (struct fw_ble_smp_ctx){d, fw_submit, fw_emit};
    a->lat_cx = (struct fw_ble_latency_ctx){d,          lat_arm,        lat_cancel, lat_params_get,
                                            lat_update, lat_disconnect, fw_emit};
    a->cc_cx = (struct fw_cc_dfu_ctx){d,        cc_arm,   cc_cancel,  fw_confirm, cc_clean,
                                      cc_erase, cc_write, cc_upgrade, cc_reboot,  fw_emit};
    smp_callbacks_init(&a->callbacks);
    struct smp_server_cfg scfg = smp_server_cfg_default();
    smp_server_init(&a->srv, &scfg, &a->callbacks);
    struct smp_os_mgmt_cfg ocfg = smp_os_mgmt_cfg_default();
    ocfg.mcumgr_params = c->mcumgr_params;
    ocfg.buf_size = c->netbuf.buf_size;
    ocfg.buf_count = c->netbuf.buf_count;
    ocfg.bootloader_info = true;
    ocfg.boot_mode = boot_mode_number(c->mode);
    smp_os_mgmt_init(&a->os, &ocfg, &a->os_cx, &a->callbacks);
    struct smp_img_mgmt_cfg icfg = smp_img_mgmt_cfg_default();
    icfg.mode = img_mode(c->mode);
    icfg.erase_progressively = d->slots.cfg->erase_progressively;
    icfg.erase = c->erase;
    icfg.reject_xip_mismatched_slot = c->reject_xip_mismatched_slot;
    icfg.image_check = c->image_check;
    smp_img_mgmt_init(&a->img, &icfg, (struct smp_img_slots){&measured_ops, d}, &a->callbacks);
    struct smp_server_group g = smp_os_mgmt_group(&a->os);
    int rc = smp_server_group_add(&a->srv, &g);
    g = smp_img_mgmt_group(&a->img);
    if (rc == 0)
        rc = smp_server_group_add(&a->srv, &g);
    if (rc != 0)
        return rc;
    struct smp_bt_cfg bcfg = {.reassembly = c->reassembly};
    smp_bt_init(&a->bt, &bcfg, a->pool);

    fw_event_bus_init(&a->bus, &a->bus_cx);
    a->bus_kicked = false;
    fw_dfu_lock_init(&a->lock, fw_emit, d);
    struct fw_dfu_lock *lock = c->dfu_lock ? &a->lock : NULL;
    if (c->smp == FLEET_SMP_DFU_MCUMGR || c->smp == FLEET_SMP_BOTH) {
        struct fw_dfu_mcumgr_cfg mcfg = fw_dfu_mcumgr_cfg_default();
        mcfg.direct_xip = is_xip(d);
        fw_dfu_mcumgr_init(&a->mcumgr, &mcfg, &a->mcumgr_cx, lock, &a->callbacks);
        if ((rc = fw_dfu_mcumgr_subscribe(&a->mcumgr, &a->bus)) != 0)
            return rc;
    }
    if (c->smp == FLEET_SMP_BLE_SMP || c->smp == FLEET_SMP_BOTH) {
        fw_ble_smp_init(&a->ble_smp, &a->ble_smp_cx, &a->callbacks);
        if ((rc = fw_ble_smp_subscribe(&a->ble_smp, &a->bus)) != 0)
            return rc;
    }
    if (c->ble_latency && !is_uart(d)) {
        struct fw_ble_latency_cfg lcfg = fw_ble_latency_cfg_default();
        lcfg.pref_latency = c->pref_latency;
        lcfg.pref_interval = (uint16_t)(c->link.interval_ns / BT_MS_1_25);
        lcfg.pref_timeout = (uint16_t)(c->link.timeout_ns / BT_MS_10);
        fw_ble_latency_init(&a->lat, &lcfg, &a->lat_cx);
        if ((rc = fw_ble_latency_subscribe(&a->lat, &a->bus)) != 0)
            return rc;
    }
    if (c->config_channel_dfu) {
        struct fw_cc_dfu_cfg ccfg = fw_cc_dfu_cfg_default();
        ccfg.slot_size = d->slots.cfg->map.secondary.size;
        ccfg.page_size = d->slots.cfg->geom.sector_size;
        ccfg.direct_xip = is_xip(d);
        fw_cc_dfu_init(&a->cc, &ccfg, &a->cc_cx, lock);
        if ((rc = fw_cc_dfu_subscribe(&a->cc, &a->bus)) != 0)
            return rc;
    }
    /* The lock's last owner survives a park (it is RAM: a reset clears it, app_stop). */
    a->lock.previous = d->lock_prev == LOCK_PREV_MCUMGR ? &a->mcumgr.owner
                       : d->lock_prev == LOCK_PREV_CC   ? &a->cc.owner
                                                        : NULL;
    struct fw_event ready = fw_event_module_state(FW_EVENT_MOD_MAIN, FW_EVENT_STATE_READY);
    (void)fw_event_bus_submit(&a->bus, &ready, now);
    if (is_uart(d))
        return 0;
    struct fw_event ble_ready = fw_event_module_state(FW_EVENT_MOD_BLE_STATE, FW_EVENT_STATE_READY);
    (void)fw_event_bus_submit(&a->bus, &ble_ready, now);
    return 0;
}

static int app_start(struct fleet_device *d, int64_t now)
{
    const struct fleet_device_cfg *c = d->cfg;
    d->state = FLEET_DEV_APP;
    outage_end(d, now);
    fault_app_start(d, now);
    d->lock_prev = LOCK_PREV_NONE; /* RAM was lost */
    /* An update that boots confirmed (direct-xip or RAM-load without revert, or a swap the
     * client made permanent before the reset) counts from now, not from the next request. */
    note_confirmed(d, now);
    if (!is_uart(d) && d->ext == NULL && ble_link_state_get(&d->link) != BLE_LINK_CONNECTED) {
        /* Nothing reads the application's state before the bus work item the start's
         * events kick (FLEET_T_BUS, now) unless app_need() builds it earlier
         * (app_unpark): so a fleet that boots at once never holds every device's part. */
        d->start_pending = true;
        arm(d, FLEET_T_BUS, now); /* the kick of the start's first event */
        d->adv_since = now;
        if (d->connect_wanted)
            want_connect(d, now);
        return 0;
    }
    struct smp_netbuf *pool = smp_netbuf_new(&c->netbuf);
    d->app = pool != NULL ? app_alloc(d) : NULL;
    if (d->app == NULL) {
        smp_netbuf_free(pool);
        return SIM_ENOMEM;
    }
    int rc = app_build(d, pool, now);
    if (rc != 0)
        return rc;
    if (is_uart(d)) {
        /* The serial transport is up with the application; a client that asked for a
         * session gets it now. */
        smp_serial_init(&d->serial->ser, d->app->pool, c->uart.baud);
        d->serial->ser.conn = ++d->conn_id;
        d->app_conn = true;
        if (d->connect_wanted)
            arm(d, FLEET_T_CONNECT, now);
        return 0;
    }
    d->adv_since = now;
    /* A central that reconnected on its own (after a supervision timeout) while MCUboot ran
     * is seen by the application now. */
    if (ble_link_state_get(&d->link) == BLE_LINK_CONNECTED)
        app_connected(d, now);
    else if (d->connect_wanted)
        want_connect(d, now);
    return 0;
}

/* Replay the start quietly into d->app and let the bus deliver its events, at now. */
static int app_rebuild(struct fleet_device *d, struct smp_netbuf *pool, int64_t now)
{
    d->quiet = true;
    int rc = app_build(d, pool, now);
    if (rc == 0 && d->app_conn)
        app_conn_events(d, now);
    if (rc == 0) {
        int n = fw_event_bus_process(&d->app->bus, now);
        rc = n < 0 ? n : 0;
    }
    d->app->bus_kicked = false; /* the kick belonged to the real start */
    d->quiet = false;
    return rc;
}

static void timer_normalise(struct fw_record_timer *t)
{
    struct fw_record_timer z;
    memset(&z, 0, sizeof(z)); /* padding too: memcmp reads it */
    z.armed = t->armed;
    z.gen = t->armed ? t->gen : 0; /* unarmed: nothing can fire with it (gen[] moved on) */
    memcpy(t, &z, sizeof(z));
}

/* The upload state member by member, padding zeroed. */
static void upload_normalise(struct smp_img_mgmt_upload *u)
{
    struct smp_img_mgmt_upload z;
    memset(&z, 0, sizeof(z));
    z.slot = u->slot;
    z.off = u->off;
    z.size = u->size;
    z.sha_len = u->sha_len;
    memcpy(z.sha, u->sha, sizeof(z.sha));
    memcpy(u, &z, sizeof(z));
}

/* Forget what no input can observe: diagnostic counters, the bus ring's consumed slots,
 * generations of unarmed timers, the stage buffer's storage (its bytes when empty). */
static void app_normalise(struct fleet_app *a)
{
    a->bus.n_delivered = a->bus.n_unsubscribed = 0;
    if (a->bus.count == 0) {
        a->bus.head = 0;
        memset(a->bus.queue, 0, sizeof(a->bus.queue));
    }
    a->bt.n_tx_dropped = 0;
    if (!a->bt.connected) { /* set by the next smp_bt_connect; unread until then */
        a->bt.conn = 0;
        a->bt.mtu = 0;
    }
    a->mcumgr.n_unexpected = a->mcumgr.n_stale = a->mcumgr.n_rejected = 0;
    a->mcumgr.n_transfers = 0;
    timer_normalise(&a->mcumgr.t);
    a->ble_smp.n_unexpected = a->ble_smp.n_transfers = 0;
    a->lat.n_unexpected = a->lat.n_stale = a->lat.n_requests = 0;
    timer_normalise(&a->lat.check);
    timer_normalise(&a->lat.security);
    a->cc.n_unexpected = a->cc.n_stale = a->cc.n_ignored = a->cc.n_defers = 0;
    upload_normalise(&a->img.up);
    for (int i = 0; i < FW_CC_DFU_TIMER_COUNT; i++)
        timer_normalise(&a->cc.t[i]);
    a->stage = NULL;
    a->stage_cap = 0;
    a->next = NULL;
    /* Copies of structs returned by value carry their padding from the stack: compare
     * the server's groups member by member. */
    for (size_t i = 0; i < a->srv.n_groups && i < SMP_SERVER_MAX_GROUPS; i++) {
        const struct smp_server_group *g = &a->srv.groups[i];
        struct smp_server_group z;
        memset(&z, 0, sizeof(z));
        z.handlers = g->handlers;
        z.n_handlers = g->n_handlers;
        z.translate = g->translate;
        z.state = g->state;
        z.id = g->id;
        memcpy(&a->srv.groups[i], &z, sizeof(z));
    }
}

/* Is the held part what the rebuild made? Both normalised; the modules' configurations
 * are set by their init alone (never written after it: models/smp and models/fw), so the
 * held ones equal the rebuild's, and they are taken from it: their padding comes from
 * whatever stack the by-value copies went through (-O0 builds differ there). */
static bool app_same(struct fleet_app *held, struct fleet_app *built)
{
    app_normalise(held);
    app_normalise(built);
    memcpy(&held->srv.cfg, &built->srv.cfg, sizeof(held->srv.cfg));
    memcpy(&held->os.cfg, &built->os.cfg, sizeof(held->os.cfg));
    memcpy(&held->img.cfg, &built->img.cfg, sizeof(held->img.cfg));
    memcpy(&held->bt.cfg, &built->bt.cfg, sizeof(held->bt.cfg));
    memcpy(&held->mcumgr.cfg, &built->mcumgr.cfg, sizeof(held->mcumgr.cfg));
    memcpy(&held->lat.cfg, &built->lat.cfg, sizeof(held->lat.cfg));
    memcpy(&held->cc.cfg, &built->cc.cfg, sizeof(held->cc.cfg));
    return memcmp(held, built, sizeof(*held)) == 0;
}

/* Slots whose timers belong to the application's session: none may be armed to park. */
#define APP_SLOTS                                                                                  \
    ((1u << FLEET_T_CONNECT) | (1u << FLEET_T_LINK) | (1u << FLEET_T_NETBUF) |                     \
     (1u << FLEET_T_OS_RESET) | (1u << FLEET_T_BUS) | (1u << FLEET_T_MCUMGR) |                     \
     (1u << FLEET_T_LAT_CHECK) | (1u << FLEET_T_LAT_SEC) | (1u << FLEET_T_CC0) |                   \
     (1u << (FLEET_T_CC0 + 1)) | (1u << (FLEET_T_CC0 + 2)) | (1u << (FLEET_T_CC0 + 3)) |           \
     (1u << FLEET_T_CC_HOST) | (1u << FLEET_T_UART) | (1u << FLEET_T_HOST_TX))

/* Park the application if nothing runs in it and a rebuild would give back exactly what
 * it holds (see struct fleet_app). Cheap tests first: most calls return at once. */
static void app_park(struct fleet_device *d, int64_t now)
{
    struct fleet_app *a = d->app;
    enum ble_link_state ls = ble_link_state_get(&d->link);
    if (a == NULL || d->state != FLEET_DEV_APP || is_uart(d) || d->ext != NULL ||
        d->connect_wanted || (d->armed & APP_SLOTS) != 0 || a->stage_len != 0 ||
        a->bus.count != 0 || a->bus.processing || d->cch.state != CLIENT_CC_HOST_IDLE ||
        !(ls == BLE_LINK_DISCONNECTED || (ls == BLE_LINK_CONNECTED && d->app_conn)) ||
        smp_netbuf_busy(a->pool) || smp_netbuf_n_queued(a->pool) != 0 ||
        smp_netbuf_n_free(a->pool) != d->cfg->netbuf.buf_count || d->err != 0)
        return;
    struct fleet_device_spares *sp = d->cx->spares;
    if (sp != NULL && sp->no_park)
        return;
    struct fleet_app held = *a;
    d->lock_prev = lock_prev_of(a);
    d->park_mtu = ble_link_mtu_get(&d->link);
    d->park_encrypted = d->link.cfg.encrypted;
    lat_params_get(d, &d->park_params);
    /* now + 1: a module that stored the time of its last input differs from the rebuild */
    int rc = app_rebuild(d, a->pool, now + 1);
    bool same = rc == 0;
    if (same) {
        struct fleet_app x = held, y = *a;
        same = app_same(&x, &y);
    }
    if (!same) {
        *a = held;
        if (sp != NULL)
            sp->n_kept++;
        return;
    }
    free(held.stage);
    smp_netbuf_free(held.pool);
    app_give_back(d, a);
    d->app = NULL;
    ble_link_trim(&d->link); /* its empty queues (an idle connection keeps its link) */
    if (d->crx_len == 0) {   /* the central's side of an idle link: regrown from 256 B */
        free(d->crx);
        d->crx = NULL;
        d->crx_cap = 0;
    }
    if (sp != NULL)
        sp->n_parks++;
}

/* The parked application's state is needed now: rebuild it (app_park proved it equal). */
static int app_unpark(struct fleet_device *d, int64_t now)
{
    if (d->app != NULL || d->state != FLEET_DEV_APP)
        return 0;
    struct smp_netbuf *pool = smp_netbuf_new(&d->cfg->netbuf);
    d->app = pool != NULL ? app_alloc(d) : NULL;
    if (d->app == NULL) {
        smp_netbuf_free(pool);
        return SIM_ENOMEM;
    }
    if (d->start_pending) { /* the build app_start() left: as it would have made it */
        d->start_pending = false;
        d->quiet = true; /* its one effect, the kick, is armed already */
        int rc = app_build(d, pool, now);
        d->quiet = false;
        d->app->bus_kicked = true;
        return rc;
    }
    int rc = app_rebuild(d, pool, now);
    if (d->cx->spares != NULL)
        d->cx->spares->n_unparks++;
    return rc;
}

/* RAM is lost: every application-side model goes away. */
static void app_stop(struct fleet_device *d, int64_t now)
{
    (void)now;
    static const int app_slots[] = {FLEET_T_CONNECT, FLEET_T_NETBUF,  FLEET_T_OS_RESET,
                                    FLEET_T_BUS,     FLEET_T_MCUMGR,  FLEET_T_LAT_CHECK,
                                    FLEET_T_LAT_SEC, FLEET_T_CC0,     FLEET_T_CC0 + 1,
                                    FLEET_T_CC0 + 2, FLEET_T_CC0 + 3, FLEET_T_CRASH};
    for (size_t i = 0; i < sizeof(app_slots) / sizeof(app_slots[0]); i++)
        cancel(d, app_slots[i]);
    d->app_conn = false;
    d->lock_prev = LOCK_PREV_NONE;
    d->start_pending = false;
    struct fleet_app *a = d->app;
    if (a == NULL)
        return; /* parked: nothing held */
    if (is_uart(d))
        smp_serial_fini(&d->serial->ser);
    smp_bt_fini(&a->bt);
    smp_netbuf_free(a->pool);
    smp_img_mgmt_fini(&a->img);
    smp_os_mgmt_fini(&a->os);
    smp_server_fini(&a->srv);
    smp_callbacks_fini(&a->callbacks);
    fw_event_bus_fini(&a->bus);
    fw_dfu_lock_fini(&a->lock);
    free(a->stage);
    app_give_back(d, a);
    d->app = NULL;
}

static const char *const mode_names[MCUBOOT_SLOTS_MODE_COUNT] = {
    "overwrite-only", "swap-scratch",      "swap-move", "swap-offset",
    "direct-xip",     "direct-xip-revert", "ram-load",  "ram-load-revert"};

static long boot_cut_at(struct fleet_device *d, int64_t now);
static const char fault_refusal[];
static const char *fail_validation(struct fleet_device *d, int *image);

/* An external client (serve) uploads builds the scenario does not name: the one it left in
 * the slot MCUboot will start from (the secondary in the swap modes, the other slot in
 * direct-xip and RAM load) is the update from this boot on, once the slots learned it. */
static void learned_update(struct fleet_device *d)
{
    if (d->ext == NULL)
        return;
    int slot = is_xip(d) ? 1 - d->slots.active : 1;
    int x = mcuboot_slots_image_in(&d->slots, slot);
    if (x >= 0 && d->slots.cfg->images[x].learned)
        d->update_image = x;
}

/* MCUboot runs with the radio off; the application starts when it is done. */
static int boot(struct fleet_device *d, int64_t now)
{
    struct sim_diag diag;
    sim_diag_init(&diag);
    int before = d->st.running_image;
    int8_t active_before = d->slots.active;
    mcuboot_slots_set_ble(&d->slots, false);
    /* Wear before the boot, so the swap record counts only the bootloader's own work. */
    uint64_t erases0 = 0, writes0 = 0;
    if (d->slots.wear != NULL) {
        erases0 = flash_wear_total_erases(d->slots.wear, d->slots.wear_dev);
        writes0 = flash_wear_total_writes(d->slots.wear, d->slots.wear_dev);
    }
    long cut_at = boot_cut_at(d, now);
    learned_update(d);
    int refused_image = MCUBOOT_SLOTS_NONE;
    const char *refusal = fail_validation(d, &refused_image);
    int rc = mcuboot_slots_boot(&d->slots, cut_at, &d->boot, &diag);
    if (rc != 0)
        return rc;
    bool refused = refusal != NULL && d->boot.image != refused_image;
    if (refused) {
        d->st.n_invalid++;
        d->st.refusal = refusal;
    }
    d->state = FLEET_DEV_BOOT;
    d->st.n_boots++;
    d->st.boot_ns = now;
    d->st.boot_end_ns = now + d->boot.ns;
    d->st.last_swap_type = d->boot.swap_type;
    d->st.running_image = d->boot.image;
    bool swapped = d->boot.swap_type != MCUBOOT_TRAILER_SWAP_NONE ||
                   (d->st.n_boots > 1 && d->slots.active != active_before);
    if (swapped) {
        d->st.swap_start_ns = now;
        d->st.swap_end_ns = now + d->boot.ns;
        if (d->boot.cut)
            d->st.n_swap_cuts++; /* counted as a swap (revert) when the resumed one ends */
        else
            d->st.n_swaps++;
        if (!d->boot.cut &&
            (d->boot.swap_type == MCUBOOT_TRAILER_SWAP_REVERT ||
             (d->st.ran_update && before == d->update_image && d->boot.image != d->update_image)))
            d->st.n_reverts++;
        struct recorder_swap s = {
            .attempt_id = record_attempt_id(d),
            .device_id = d->id,
            .mode = mode_names[d->cfg->mode],
            .start_ns = now,
            .end_ns = now + d->boot.ns,
            .power_loss = d->boot.cut,
            .outcome = d->boot.cut                           ? "power-loss"
                       : d->boot.image == MCUBOOT_SLOTS_NONE ? "bricked"
                       : refused && refusal != fault_refusal ? "refused"
                       : d->boot.swap_type == MCUBOOT_TRAILER_SWAP_REVERT ||
                               (before == d->update_image && d->boot.image != d->update_image)
                           ? "reverted"
                           : "swapped",
        };
        if (d->slots.wear != NULL) {
            s.sectors_erased =
                (uint32_t)(flash_wear_total_erases(d->slots.wear, d->slots.wear_dev) - erases0);
            s.sector_writes =
                (uint32_t)(flash_wear_total_writes(d->slots.wear, d->slots.wear_dev) - writes0);
        }
        d->cx->emit_swap(d->cx->env, d->id, &s);
    }
    if (d->boot.cut) { /* the power failed inside the swap: off until it comes back */
        d->state = FLEET_DEV_OFF;
        d->st.n_power_losses++;
        d->rand_at = -1;
        arm(d, FLEET_T_POWER, now + d->boot.ns + (d->faults ? d->faults->off_ns : 0));
        return 0;
    }
    if (d->boot.image == d->update_image)
        d->st.ran_update = true;
    arm(d, FLEET_T_BOOT, now + d->boot.ns + d->cfg->app_boot_ns);
    return 0;
}

/* The application stops (reset or power loss): RAM state is lost and the link notices.
 * BLE: the central by supervision timeout. UART: the bytes on the wire are lost; the
 * client's session ends with uart_session_end(). */
static int cch_step(struct fleet_device *d, enum client_cc_host_input in, int64_t now);
/* An outage of the application begins (recorder_outage); it ends in app_start(). */
static void outage_begin(struct fleet_device *d, int64_t now, const char *cause)
{
    if (d->st.outage.down_ns != RECORDER_NONE)
        return; /* still down: a loss during MCUboot's work is part of the same outage */
    d->st.outage = (struct recorder_outage){.attempt_id = record_attempt_id(d),
                                            .device_id = d->id,
                                            .cause = cause,
                                            .down_ns = now,
                                            .up_ns = RECORDER_NONE};
}

static void outage_end(struct fleet_device *d, int64_t now)
{
    if (d->st.outage.down_ns == RECORDER_NONE)
        return; /* the first boot after power-on is no outage */
    d->st.outage.up_ns = now;
    d->st.downtime_ns += now - d->st.outage.down_ns;
    d->cx->emit_outage(d->cx->env, d->id, &d->st.outage);
    d->st.outage.down_ns = RECORDER_NONE;
}

void fleet_device_finish(struct fleet_device *d)
{
    if (d->st.outage.down_ns != RECORDER_NONE)
        d->cx->emit_outage(d->cx->env, d->id, &d->st.outage); /* up_ns RECORDER_NONE */
}

/* The application stops for `cause`: the outage begins before the link drops, so it
 * belongs to the attempt that was in progress. */
static void app_down(struct fleet_device *d, int64_t now, const char *cause)
{
    outage_begin(d, now, cause);
    ext_ble_clear(d);
    enum ble_link_state ls = ble_link_state_get(&d->link);
    app_stop(d, now);
    if (d->faults != NULL) /* the config-channel host loses the device (it stops) */
        keep_error(d, cch_step(d, CLIENT_CC_HOST_IN_RESET, now));
    if (is_uart(d)) {
        (void)uart_link_flush(&d->serial->uart, now, &d->serial->uart_cx);
        return;
    }
    if (ls == BLE_LINK_CONNECTED)
        (void)ble_link_peer_lost(&d->link, now, &d->link_cx);
    else if (ls == BLE_LINK_SETUP)
        (void)ble_link_disconnect(&d->link, BLE_LINK_REASON_TIMEOUT, now, &d->link_cx);
}

/* UART: the client's session ends (the host sees the device go). */
static void uart_session_end(struct fleet_device *d, int64_t now)
{
    if (!is_uart(d) || !d->serial->host_conn)
        return;
    d->serial->host_conn = false;
    if (d->ext != NULL) {
        d->connect_wanted = true; /* the bridge's session starts again with the application */
        return;
    }
    (void)client_step(d, CLIENT_DFU_IN_DISCONNECTED, NULL, now);
}

/* UART: the wire is flushed, MCUboot starts, then the client's session ends.
 * Returns boot()'s error: the application is gone by then, so a device whose bootloader
 * model failed is DEAD (never APP without its models) and the run stops with the error. */
static int device_reboot(struct fleet_device *d, int64_t now, const char *cause)
{
    if (d->state != FLEET_DEV_APP) {
        d->st.n_unexpected++;
        return 0;
    }
    app_down(d, now, cause);
    int rc = boot(d, now);
    uart_session_end(d, now);
    if (rc != 0)
        d->state = FLEET_DEV_DEAD;
    return rc;
}

/* ---- injected faults (device.h "Faults") ---------------------------------------------- */

/* Random power-loss times: the k-th draw comes from stream (seed, entity, SIM_RNG_FAULT |
 * (0x8000 + k mod 2^15) << 16), so it depends on neither event order nor other devices;
 * the purposes below 0x8000 << 16 are left to the world (membership draws). */
static void power_schedule(struct fleet_device *d, int64_t now)
{
    d->rand_at = -1;
    if (!fault_on(d, FLEET_FAULTS_POWER_RANDOM) || client_finished(d) || d->state == FLEET_DEV_DEAD)
        return;
    struct sim_rng r;
    uint32_t k = 0x8000u + (d->n_rand++ & 0x7fffu);
    sim_rng_init(&r, d->seed, d->entity, SIM_RNG_FAULT | (k << 16));
    double dt = -(double)d->faults->mean_ns * log1p(-sim_rng_uniform(&r));
    d->rand_at = now + (dt < 9e18 ? (int64_t)dt : INT64_MAX / 2);
    arm(d, FLEET_T_POWER, d->rand_at);
}

/* POWER_SWAP (once) or a random loss due inside the swap this boot is about to run: the
 * step at which the power fails, else -1. A random loss cuts the step its time falls in
 * (steps timed by their flash time from the boot's start; validation is not counted). */
static long boot_cut_at(struct fleet_device *d, int64_t now)
{
    size_t steps;
    int64_t ns;
    if (d->faults == NULL || mcuboot_slots_boot_plan(&d->slots, &steps, &ns) != 0 || steps == 0)
        return -1;
    if (fault_on(d, FLEET_FAULTS_POWER_SWAP) && !(d->fault_done & FLEET_FAULTS_POWER_SWAP)) {
        d->fault_done |= FLEET_FAULTS_POWER_SWAP;
        long k = (long)(d->faults->swap_at * (double)steps);
        return k < (long)steps ? k : (long)steps - 1;
    }
    if (d->rand_at >= now && ns > 0 && d->rand_at - now < ns)
        return (long)((double)steps * (double)(d->rand_at - now) / (double)ns);
    return -1;
}

/* The bad_image fault's reason (its image hash or signature does not verify). */
static const char fault_refusal[] = "fault bad_image invalid: the image's hash or signature "
                                    "does not verify (bootutil_img_validate fails)";

/* Images MCUboot is about to validate that do not verify: one the devices' MCUboot refuses
 * (image.keys, the table's refusal: the update, or a build learned from an upload), or the
 * update under the bad_image fault. Swap modes: the secondary when a swap is pending;
 * direct-xip / RAM-load: any slot holding it, every candidate is validated. Each is made to
 * fail; returns the reason of the last one (its table index in *image), or NULL. */
static const char *fail_validation(struct fleet_device *d, int *image)
{
    const struct mcuboot_slots_learner *l = d->slots.cfg->learn;
    bool fault =
        fault_on(d, FLEET_FAULTS_BAD_IMAGE) && d->faults->bad_image == FLEET_BAD_IMAGE_INVALID;
    const char *why = NULL;
    for (int slot = 0; slot < 2; slot++) {
        int x = mcuboot_slots_image_in(&d->slots, slot);
        if (x < 0)
            continue;
        const char *bad = l != NULL && l->refusal[x] != NULL ? l->refusal[x]
                          : fault && x == d->update_image    ? fault_refusal
                                                             : NULL;
        if (bad == NULL)
            continue;
        if (!is_xip(d) &&
            (slot == 0 || d->inner.ops->swap_type(d->inner.env, 0) == MCUBOOT_TRAILER_SWAP_NONE))
            continue;
        if (mcuboot_slots_fail_validation(&d->slots, slot) == 0) {
            why = bad;
            *image = x;
        }
    }
    return why;
}

/* POWER_UPLOAD: the write that reaches upload_at of the image is cut by the power loss
 * (its sectors hold garbage) and the power fails at once (the POWER timer, now: the
 * worker's responses never leave). Writes to the running slot are not uploads. */
static void upload_cut(struct fleet_device *d, int slot, uint32_t off, size_t n)
{
    if (!fault_on(d, FLEET_FAULTS_POWER_UPLOAD) || (d->fault_done & FLEET_FAULTS_POWER_UPLOAD))
        return;
    int running = is_xip(d) ? d->slots.active : 0;
    double size = (double)d->cfg->client_image->size;
    if (slot == running || (double)off + (double)n < d->faults->upload_at * size)
        return;
    d->fault_done |= FLEET_FAULTS_POWER_UPLOAD;
    (void)mcuboot_slots_cut_write(&d->slots, slot, off, n);
    d->rand_at = -1; /* a pending random loss is drawn again when the power is back */
    arm(d, FLEET_T_POWER, d->now);
}

/* The power fails now: as a reset (RAM, upload state, link), then OFF until the power comes
 * back off_ns later (POWER timer). A boot in progress (BOOT) is abandoned. */
static int power_cut(struct fleet_device *d, int64_t now)
{
    if (d->state == FLEET_DEV_OFF || d->state == FLEET_DEV_DEAD) {
        d->st.n_unexpected++;
        return 0;
    }
    if (d->state == FLEET_DEV_APP)
        app_down(d, now, "power-loss");
    cancel(d, FLEET_T_BOOT);
    uart_session_end(d, now);
    mcuboot_slots_set_ble(&d->slots, false);
    d->state = FLEET_DEV_OFF;
    d->st.n_power_losses++;
    d->rand_at = -1;
    arm(d, FLEET_T_POWER, now + d->faults->off_ns);
    return 0;
}

/* The POWER timer: the power comes back (OFF) or fails (a random loss, an upload cut). */
static int on_power(struct fleet_device *d, int64_t now)
{
    if (d->state != FLEET_DEV_OFF) {
        bool random = d->rand_at >= 0;
        if (random && client_finished(d)) {
            d->rand_at = -1; /* the DFU is over: no more losses */
            return 0;
        }
        return power_cut(d, now);
    }
    power_schedule(d, now); /* before boot(): a loss inside the swap cuts it */
    int rc = boot(d, now);
    if (rc != 0)
        d->state = FLEET_DEV_DEAD;
    return rc;
}

/* confirm_refused: NEVER_CONFIRM refuses every confirmation of the update image (a state
 * write naming it, or the running image's self-confirm); a crashing BAD_IMAGE never gets
 * to confirm itself (its application crashes first), though a client may still make it
 * permanent from the other slot (confirm-only). */
static bool confirm_refused(const struct fleet_device *d, int slot, bool active, bool confirm)
{
    if (!confirm || d->faults == NULL)
        return false;
    int upd = d->update_image;
    if (fault_on(d, FLEET_FAULTS_NEVER_CONFIRM) && mcuboot_slots_image_in(&d->slots, slot) == upd)
        return true;
    return fault_on(d, FLEET_FAULTS_BAD_IMAGE) && d->faults->bad_image == FLEET_BAD_IMAGE_CRASH &&
           active && d->st.running_image == upd;
}

/* The application starts: a crashing update image crashes crash_after_ns later; a
 * never-confirmed one runs unconfirmed and is reset reset_after_ns later (once). */
static void fault_app_start(struct fleet_device *d, int64_t now)
{
    if (d->faults == NULL || d->st.running_image != d->update_image)
        return;
    if (fault_on(d, FLEET_FAULTS_BAD_IMAGE) && d->faults->bad_image == FLEET_BAD_IMAGE_CRASH)
        arm(d, FLEET_T_CRASH, now + d->faults->crash_after_ns);
    else if (fault_on(d, FLEET_FAULTS_NEVER_CONFIRM) &&
             !(d->fault_done & FLEET_FAULTS_NEVER_CONFIRM) && !fleet_device_confirmed(d))
        arm(d, FLEET_T_CRASH, now + d->faults->reset_after_ns);
}

/* The CRASH timer: a watchdog reset (bad image) or the never-confirm reset. A crash whose
 * reboot runs the crashing image again can never end: the flash no longer changes at boot
 * (nothing pending, nothing to revert), so the device is bricked (DEAD) now. */
static int on_crash(struct fleet_device *d, int64_t now)
{
    if (d->state != FLEET_DEV_APP) {
        d->st.n_unexpected++;
        return 0;
    }
    bool crash =
        fault_on(d, FLEET_FAULTS_BAD_IMAGE) && d->faults->bad_image == FLEET_BAD_IMAGE_CRASH;
    if (crash) {
        d->st.n_crashes++;
    } else {
        d->st.n_fault_resets++;
        d->fault_done |= FLEET_FAULTS_NEVER_CONFIRM;
    }
    int rc = device_reboot(d, now, crash ? "crash" : "fault-reset");
    if (rc != 0 || !crash || d->state != FLEET_DEV_BOOT || d->st.running_image != d->update_image)
        return rc;
    cancel(d, FLEET_T_BOOT);
    cancel(d, FLEET_T_POWER);
    d->rand_at = -1;
    d->state = FLEET_DEV_DEAD;
    d->st.bricked = true;
    return 0;
}

/* ---- TWO_SOURCES: the config-channel host ------------------------------------------- */

/* The host's checksum of its image: any value; it only has to differ from nothing the
 * device holds (dfu.c compares it with its own copy to allow a resume). */
#define CC_HOST_CSUM 0x2f5ac0deu

static struct client_cc_host_cfg cch_cfg(const struct fleet_device *d)
{
    struct client_cc_host_cfg c = client_cc_host_cfg_default();
    c.img_length = d->cfg->client_image->size; /* "an image of the same size" */
    c.img_csum = CC_HOST_CSUM;
    c.report_ns = d->faults->two_sources_report_ns;
    return c;
}

static void cch_arm(void *env, int64_t at)
{
    arm(env, FLEET_T_CC_HOST, at);
}
static void cch_cancel(void *env)
{
    cancel(env, FLEET_T_CC_HOST);
}

/* The config channel answers only while the application runs and dfu.c has seen READY. */
static bool cc_answers(struct fleet_device *d)
{
    if (d->state != FLEET_DEV_APP || !d->cfg->config_channel_dfu)
        return false;
    int rc = app_unpark(d, d->now);
    if (rc != 0) {
        keep_error(d, rc);
        if (d->app == NULL)
            return false;
    }
    return d->app->cc.state != FW_CC_DFU_BOOT;
}

static int cch_sync(void *env, struct fw_cc_dfu_sync_reply *out, int64_t now)
{
    struct fleet_device *d = env;
    if (!cc_answers(d))
        return 1;
    int rc = fw_cc_dfu_step(&d->app->cc, FW_CC_DFU_IN_SYNC, NULL, now);
    *out = d->app->cc.sync;
    return rc < 0 ? rc : 0;
}
static int cch_start(void *env, const struct fw_cc_dfu_start *st, int64_t now)
{
    struct fleet_device *d = env;
    if (!cc_answers(d))
        return 1;
    int rc = fw_cc_dfu_step(&d->app->cc, FW_CC_DFU_IN_START, st, now);
    return rc < 0 ? rc : 0;
}
static int cch_data(void *env, uint32_t n, int64_t now)
{
    struct fleet_device *d = env;
    if (!cc_answers(d))
        return 1;
    int rc = fw_cc_dfu_step(&d->app->cc, FW_CC_DFU_IN_DATA, &n, now);
    return rc < 0 ? rc : 0;
}
static void cch_ended(void *env, enum client_cc_host_end e, int64_t now)
{
    struct fleet_device *d = env;
    d->st.cc_end_ns = now;
    d->st.cc_outcome = (uint8_t)e;
    if (e == CLIENT_CC_HOST_END_REFUSED)
        d->st.cc_refused++;
}

/* One input into the host; the context lives on the stack (no per-device copy). */
static int cch_step(struct fleet_device *d, enum client_cc_host_input in, int64_t now)
{
    const struct client_cc_host_ctx cx = {d,         cch_arm,  cch_cancel, cch_sync,
                                          cch_start, cch_data, cch_ended};
    struct client_cc_host_cfg c = cch_cfg(d);
    if (in == CLIENT_CC_HOST_IN_START)
        d->st.cc_start_ns = now;
    int rc = client_cc_host_step(&d->cch, &c, in, now, &cx);
    if (rc == CLIENT_CC_HOST_UNEXPECTED) {
        d->st.n_unexpected++;
        return 0;
    }
    return rc;
}

/* The SMP server wrote its first upload chunk (writes to the running slot are not
 * uploads): the host starts two_sources_at_ns later, once per device. */
static void two_sources_arm(struct fleet_device *d, int slot)
{
    if (!fault_on(d, FLEET_FAULTS_TWO_SOURCES) || (d->fault_done & FLEET_FAULTS_TWO_SOURCES))
        return;
    if (slot == (is_xip(d) ? d->slots.active : 0))
        return;
    d->fault_done |= FLEET_FAULTS_TWO_SOURCES;
    arm(d, FLEET_T_CC_HOST, d->now + d->faults->two_sources_at_ns);
}

static int on_cc_host(struct fleet_device *d, int64_t now)
{
    if (d->faults == NULL)
        return 0; /* faults removed meanwhile */
    return cch_step(
        d, d->cch.state == CLIENT_CC_HOST_IDLE ? CLIENT_CC_HOST_IN_START : CLIENT_CC_HOST_IN_TIMER,
        now);
}

/* LINK_DEGRADE: the loss per PDU at now (applied before each link event). */
static void degrade_apply(struct fleet_device *d, int64_t now)
{
    if (!fault_on(d, FLEET_FAULTS_LINK_DEGRADE) || is_uart(d) || now < d->faults->degrade_from_ns)
        return;
    const struct fleet_device_faults *f = d->faults;
    struct ble_loss_cfg c = d->cfg->link.loss;
    double frac = 1.0;
    if (f->degrade_over_ns > 0 && now - f->degrade_from_ns < f->degrade_over_ns)
        frac = (double)(now - f->degrade_from_ns) / (double)f->degrade_over_ns;
    double base = c.model == BLE_LOSS_NONE ? 0.0 : c.per_good;
    if (c.model == BLE_LOSS_NONE)
        c.model = BLE_LOSS_BERNOULLI;
    c.per_good = base + (f->degrade_to - base) * frac;
    (void)ble_link_loss_set(&d->link, &c); /* in range: both ends are */
}

const char *fleet_device_faults_invalid(const struct fleet_device_faults *f, uint32_t kinds)
{
    const uint32_t power =
        FLEET_FAULTS_POWER_UPLOAD | FLEET_FAULTS_POWER_SWAP | FLEET_FAULTS_POWER_RANDOM;
    if ((kinds & FLEET_FAULTS_POWER_UPLOAD) && !(f->upload_at > 0 && f->upload_at <= 1))
        return "at: a power loss during the upload needs 0% < at <= 100% (at 0% no byte is "
               "written yet)";
    if ((kinds & FLEET_FAULTS_POWER_SWAP) && !(f->swap_at >= 0 && f->swap_at < 1))
        return "at: a power loss during the swap needs 0% <= at < 100% (at 100% the swap is "
               "over)";
    if ((kinds & FLEET_FAULTS_POWER_RANDOM) && f->mean_ns <= 0)
        return "mean: the mean time between power losses must be > 0";
    if ((kinds & power) && f->off_ns < 0)
        return "off: must be >= 0";
    if ((kinds & FLEET_FAULTS_BAD_IMAGE) &&
        (f->crash_after_ns < 0 || (unsigned)f->bad_image > FLEET_BAD_IMAGE_INVALID))
        return "crash_after: must be >= 0";
    if ((kinds & FLEET_FAULTS_NEVER_CONFIRM) && f->reset_after_ns < 0)
        return "reset_after: must be >= 0";
    if ((kinds & FLEET_FAULTS_LINK_DEGRADE) && !(f->degrade_to >= 0 && f->degrade_to <= 1))
        return "to: must be 0% to 100%";
    if ((kinds & FLEET_FAULTS_LINK_DEGRADE) && f->degrade_over_ns < 0)
        return "over: must be >= 0";
    if ((kinds & FLEET_FAULTS_TWO_SOURCES) && f->two_sources_at_ns < 0)
        return "delay: must be >= 0";
    if ((kinds & FLEET_FAULTS_TWO_SOURCES) && f->two_sources_report_ns <= 0)
        return "report: must be > 0";
    return NULL;
}

int fleet_device_faults_set(struct fleet_device *d, const struct fleet_device_faults *f,
                            uint32_t active, int64_t now)
{
    d->now = now;
    if (f == NULL) {
        active = 0;
    } else if ((active & ~(uint32_t)FLEET_FAULTS_ALL) != 0 ||
               ((active & FLEET_FAULTS_TWO_SOURCES) != 0 && !d->cfg->config_channel_dfu) ||
               fleet_device_faults_invalid(f, FLEET_FAULTS_ALL) != NULL) {
        return SIM_EINVAL;
    }
    d->faults = active != 0 ? f : NULL;
    d->fault_on = (uint8_t)active;
    if (d->state != FLEET_DEV_OFF && d->rand_at < 0)
        power_schedule(d, now);
    return 0;
}

int fleet_device_client_start(struct fleet_device *d, int64_t now)
{
    d->now = now;
    if (d->ext != NULL)
        return 0; /* the external client decides */
    cancel(d, FLEET_T_START);
    int rc = client_start(d, now);
    if (d->rand_at < 0 && d->state != FLEET_DEV_OFF)
        power_schedule(d, now); /* losses stopped with the previous run */
    return rc;
}

int fleet_device_host_leave(struct fleet_device *d, int64_t now)
{
    d->now = now;
    if (d->ext != NULL)
        return 0;
    d->connect_wanted = false;
    cancel(d, FLEET_T_START);
    cancel(d, FLEET_T_CONNECT);
    int rc = client_step(d, CLIENT_DFU_IN_CANCEL, NULL, now);
    cancel(d, FLEET_T_CLIENT_RSP);
    cancel(d, FLEET_T_CLIENT_WAIT);
    if (is_uart(d)) {
        struct fleet_device_serial *s = d->serial;
        s->host_conn = false;
        s->htx_first = s->htx_len = 0; /* frames the host had still to write */
        cancel(d, FLEET_T_HOST_TX);
        return rc;
    }
    d->crx_len = 0;
    if (ble_link_state_get(&d->link) != BLE_LINK_DISCONNECTED) {
        int lrc = ble_link_disconnect(&d->link, BLE_LINK_REASON_LOCAL_HOST, now, &d->link_cx);
        if (rc == 0)
            rc = lrc;
    }
    return rc;
}

bool fleet_device_client_done(const struct fleet_device *d, const char **outcome)
{
    bool done = client_finished(d);
    if (outcome != NULL)
        *outcome = done ? client_dfu_record_get(d->client)->attempt.outcome : NULL;
    return done;
}

/* ---- public ---------------------------------------------------------------------------- */

/* The UART, the host's receiver and buffers; the client's packet limit (device.h). */
static int uart_setup(struct fleet_device *d, struct client_dfu_cfg *ccfg, struct sim_diag *diag)
{
    const struct fleet_device_cfg *cfg = d->cfg;
    struct fleet_device_serial *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return SIM_ENOMEM;
    d->serial = s;
    if (cfg->serial.packet_max == 0 || uart_link_init(&s->uart, &cfg->uart) != 0) {
        sim_diag_add(diag,
                     "device %u: bad UART settings (baud > 0, 5-9 data bits, parity 0-1, 1-2 "
                     "stop bits, serial.packet_max > 0)",
                     d->id);
        return SIM_EINVAL;
    }
    s->uart_cx = (struct uart_link_ctx){d, uart_arm, uart_cancel, uart_deliver};
    struct smp_netbuf_cfg hcfg = {
        .buf_size = cfg->netbuf.buf_size + 2, .buf_count = 1, .cpu_per_request = 0};
    s->hpool = smp_netbuf_new(&hcfg);
    s->enc_cap = smp_serial_encoded_len(cfg->netbuf.buf_size); /* a response fits a net_buf */
    s->enc = malloc(s->enc_cap);
    if (s->hpool == NULL || s->enc == NULL)
        return SIM_ENOMEM;
    s->hpool_cx = (struct smp_netbuf_ctx){d, host_timer_arm, NULL, host_process};
    smp_serial_init(&s->hser, s->hpool, cfg->uart.baud);
    if (ccfg->p.packet_cap == 0 || ccfg->p.packet_cap > cfg->serial.packet_max)
        ccfg->p.packet_cap = cfg->serial.packet_max;
    return 0;
}

struct fleet_device *fleet_device_new(uint32_t id, uint64_t entity,
                                      const struct fleet_device_cfg *cfg,
                                      const struct fleet_device_ctx *cx, uint64_t seed,
                                      struct flash_wear *wear, uint32_t wear_row,
                                      struct sim_diag *diag)
{
    struct fleet_device *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->id = id;
    d->cfg = cfg;
    d->update_image = (int)cfg->update_image;
    d->cx = cx;
    d->seed = seed;
    d->entity = entity;
    d->rand_at = -1;
    d->state = FLEET_DEV_OFF;
    d->st = (struct fleet_device_stats){
        .boot_ns = RECORDER_NONE,
        .boot_end_ns = RECORDER_NONE,
        .swap_start_ns = RECORDER_NONE,
        .swap_end_ns = RECORDER_NONE,
        .updated_ns = RECORDER_NONE,
        .first_start_ns = RECORDER_NONE,
        .outage = {.down_ns = RECORDER_NONE},
        .erase_end_ns = RECORDER_NONE,
        .first_erase_end_ns = RECORDER_NONE,
        .last_reject_ns = RECORDER_NONE,
        .running_image = MCUBOOT_SLOTS_NONE,
        .cc_start_ns = RECORDER_NONE,
        .cc_end_ns = RECORDER_NONE,
    };
    uint32_t base[MCUBOOT_SWAP_AREA_COUNT] = {0, cfg->slots->geom.n_sectors[0],
                                              (uint32_t)cfg->slots->geom.n_sectors[0] +
                                                  cfg->slots->geom.n_sectors[1]};
    if (mcuboot_slots_init(&d->slots, cfg->slots, wear, wear_row, wear ? base : NULL) != 0) {
        sim_diag_add(diag, "device %u: cannot set up the MCUboot slots", id);
        goto fail;
    }
    if (mcuboot_slots_install(&d->slots, 0, cfg->factory_image, true) != 0 ||
        (cfg->secondary_image >= 0 &&
         mcuboot_slots_install(&d->slots, 1, (uint32_t)cfg->secondary_image, false) != 0)) {
        sim_diag_add(diag, "device %u: the factory image does not fit the slots", id);
        goto fail;
    }
    d->inner = mcuboot_slots_bind(&d->slots);
    d->radio = (struct mcuboot_slots_radio){d, radio_flash_ns};
    d->slots.radio = &d->radio;
    d->link_cx = (struct ble_link_ctx){d, link_arm, link_cancel, link_deliver, NULL, link_note};
    /* A UART device keeps an idle BLE link with default settings: the BLE keys are
     * ignored, and it is never connected. */
    struct ble_link_cfg lcfg = cfg->link;
    struct client_dfu_cfg ccfg = cfg->client;
    const struct client_central_profile *central =
        client_central_profile((enum client_central)cfg->central);
    if (is_uart(d)) {
        ble_link_cfg_default(&lcfg);
    } else if (central != NULL) { /* the central's host: models/client/central.h */
        client_central_link(central, (enum client_central_priority)cfg->central_priority,
                            cfg->interval_fixed, ccfg.p.att_mtu_request, cfg->central_packets,
                            &lcfg);
        client_central_host(central, seed, entity, &ccfg);
    }
    if (ble_link_init(&d->link, &lcfg, seed, entity) != 0) {
        sim_diag_add(diag, "device %u: the link settings are out of range", id);
        goto fail;
    }
    ccfg.device_id = id;
    if (is_uart(d) && uart_setup(d, &ccfg, diag) != 0)
        goto fail;
    /* Checked now, made at the client's first input (client_of), from the same settings. */
    client_cfg_of(d, &ccfg);
    d->client = client_dfu_new(&ccfg, cfg->client_image);
    if (d->client == NULL) {
        sim_diag_add(diag, "device %u: bad client settings (window, alignment, attempts)", id);
        goto fail;
    }
    client_dfu_free(d->client);
    d->client = NULL;
    d->client_cx = (struct client_dfu_ctx){
        d, client_send, client_arm, client_connect, client_emit, client_emit_chunk};
    return d;
fail:
    fleet_device_free(d);
    return NULL;
}

void fleet_device_free(struct fleet_device *d)
{
    if (d == NULL)
        return;
    struct fleet_device_serial *s = d->serial;
    if (d->app != NULL) {
        if (s != NULL)
            smp_serial_fini(&s->ser);
        smp_bt_fini(&d->app->bt);
        smp_netbuf_free(d->app->pool);
        free(d->app->stage);
        app_give_back(d, d->app);
    }
    client_dfu_free(d->client);
    ble_link_fini(&d->link);
    if (s != NULL) {
        uart_link_fini(&s->uart);
        if (s->hpool != NULL) {
            smp_serial_fini(&s->hser);
            smp_netbuf_free(s->hpool);
        }
        free(s->enc);
        free(s->htx);
        free(s);
    }
    if (d->ext != NULL) {
        free(d->ext->acc);
        free(d->ext);
    }
    mcuboot_slots_fini(&d->slots);
    free(d->crx);
    free(d->log);
    free(d);
}

int fleet_device_power_on(struct fleet_device *d, int64_t now)
{
    d->now = now;
    if (d->state != FLEET_DEV_OFF) {
        d->st.n_unexpected++;
        return 0;
    }
    if (d->cfg->start_ns >= 0 && d->ext == NULL)
        arm(d, FLEET_T_START, d->cfg->start_ns > now ? d->cfg->start_ns : now);
    power_schedule(d, now);
    return boot(d, now);
}

int fleet_device_fault_at(struct fleet_device *d, enum fleet_device_fault f, int64_t at,
                          int64_t now)
{
    d->now = now;
    d->fault = f;
    arm(d, FLEET_T_FAULT, at);
    return 0;
}

static int on_fault(struct fleet_device *d, int64_t now)
{
    switch (d->fault) {
    case FLEET_FAULT_LINK_DROP:
        if (is_uart(d)) {
            d->st.n_unexpected++; /* a UART does not drop */
            return 0;
        }
        if (ble_link_state_get(&d->link) == BLE_LINK_CONNECTED)
            return ble_link_disconnect(&d->link, BLE_LINK_REASON_TIMEOUT, now, &d->link_cx);
        return 0;
    case FLEET_FAULT_RESET:
        return device_reboot(d, now, "fault-reset");
    }
    return 0;
}

static int timer_input(struct fleet_device *d, int slot, uint32_t gen, int64_t now);

int fleet_device_timer(struct fleet_device *d, int slot, uint32_t gen, int64_t now)
{
    int rc = timer_input(d, slot, gen, now);
    if (rc == 0)
        app_park(d, now);
    fleet_device_check(d);
    return rc != 0 ? rc : d->err;
}

static int timer_input(struct fleet_device *d, int slot, uint32_t gen, int64_t now)
{
    d->now = now;
    if ((unsigned)slot >= FLEET_T_COUNT || gen != d->gen[slot])
        return 0; /* stale: the engine normally drops these already */
    d->armed &= ~(1u << slot);
    switch (slot) {
    case FLEET_T_BOOT:
        if (d->state != FLEET_DEV_BOOT)
            break;
        if (d->boot.image == MCUBOOT_SLOTS_NONE) {
            d->state = FLEET_DEV_DEAD;
            return 0;
        }
        return app_start(d, now);
    case FLEET_T_CONNECT:
        if (is_uart(d))
            return d->state == FLEET_DEV_APP && !d->serial->host_conn ? host_connected(d, now) : 0;
        if (d->state == FLEET_DEV_APP && ble_link_state_get(&d->link) == BLE_LINK_DISCONNECTED) {
            d->connect_wanted = false;
            return ble_link_connect(&d->link, now, &d->link_cx);
        }
        return 0;
    case FLEET_T_LINK:
        degrade_apply(d, now);
        return ble_link_timer(&d->link, now, &d->link_cx);
    case FLEET_T_START:
        return client_start(d, now);
    case FLEET_T_CLIENT_RSP:
    case FLEET_T_CLIENT_WAIT: {
        struct client_dfu_timer t = {
            slot == FLEET_T_CLIENT_RSP ? CLIENT_DFU_TIMER_RSP : CLIENT_DFU_TIMER_WAIT, gen};
        return client_step(d, CLIENT_DFU_IN_TIMER, &t, now);
    }
    case FLEET_T_FAULT:
        return on_fault(d, now);
    case FLEET_T_UART:
        return d->serial != NULL ? uart_link_timer(&d->serial->uart, now, &d->serial->uart_cx) : 0;
    case FLEET_T_HOST_TX:
        return host_pump(d, now);
    case FLEET_T_POWER:
        return on_power(d, now);
    case FLEET_T_CRASH:
        return on_crash(d, now);
    case FLEET_T_CC_HOST:
        return on_cc_host(d, now);
    default:
        break;
    }
    if (d->state != FLEET_DEV_APP) {
        d->st.n_unexpected++;
        return 0;
    }
    int urc = app_unpark(d, now); /* never needed: a parked device has none of these armed */
    if (urc != 0)
        return urc;
    switch (slot) {
    case FLEET_T_NETBUF:
        return smp_netbuf_timer(d->app->pool, now, &d->app->pool_cx);
    case FLEET_T_OS_RESET:
        smp_os_mgmt_timer(&d->app->os, now);
        return 0;
    case FLEET_T_BUS: {
        d->app->bus_kicked = false;
        int rc = fw_event_bus_process(&d->app->bus, now);
        return rc < 0 ? rc : 0;
    }
    case FLEET_T_MCUMGR: {
        int rc = fw_dfu_mcumgr_step(&d->app->mcumgr, FW_DFU_MCUMGR_IN_TIMEOUT, &gen, now);
        return rc < 0 ? rc : 0;
    }
    case FLEET_T_LAT_CHECK:
        return fw_ble_latency_step(&d->app->lat, FW_BLE_LATENCY_IN_CHECK, &gen, now);
    case FLEET_T_LAT_SEC:
        return fw_ble_latency_step(&d->app->lat, FW_BLE_LATENCY_IN_SECURITY, &gen, now);
    default: {
        static const enum fw_cc_dfu_input cc_in[FW_CC_DFU_TIMER_COUNT] = {
            [FW_CC_DFU_TIMER_ERASE] = FW_CC_DFU_IN_ERASE_WORK,
            [FW_CC_DFU_TIMER_TIMEOUT] = FW_CC_DFU_IN_TIMEOUT,
            [FW_CC_DFU_TIMER_STORE] = FW_CC_DFU_IN_STORE_WORK,
            [FW_CC_DFU_TIMER_REBOOT] = FW_CC_DFU_IN_REBOOT_TIMER,
        };
        int k = slot - FLEET_T_CC0;
        assert(k >= 0 && k < FW_CC_DFU_TIMER_COUNT);
        return fw_cc_dfu_step(&d->app->cc, cc_in[k], &gen, now);
    }
    }
}

void fleet_device_check(const struct fleet_device *d)
{
#ifndef NDEBUG
    assert(d->state < FLEET_DEV_STATE_COUNT);
    if (d->state == FLEET_DEV_APP && d->app != NULL) {
        assert(d->app->pool != NULL);
        smp_netbuf_check(d->app->pool);
        fw_event_bus_check(&d->app->bus);
    } else if (d->state == FLEET_DEV_APP) { /* parked: nothing runs in the application */
        /* none of the application's own timers (the link's, the connect may run) */
        const uint32_t own = (1u << FLEET_T_NETBUF) | (1u << FLEET_T_OS_RESET) |
                             (1u << FLEET_T_MCUMGR) | (1u << FLEET_T_LAT_CHECK) |
                             (1u << FLEET_T_LAT_SEC) | (0xfu << FLEET_T_CC0);
        assert((d->armed & own) == 0);
        assert(d->start_pending || (d->armed & (1u << FLEET_T_BUS)) == 0);
        assert(!is_uart(d) && d->ext == NULL);
    } else {
        assert(d->app == NULL);
        assert(!d->app_conn);
        assert(!d->slots.ble_active);
    }
    if (is_uart(d)) {
        assert(!d->app_conn || d->state == FLEET_DEV_APP);
        assert(!d->slots.ble_active);
        assert(ble_link_state_get(&d->link) == BLE_LINK_DISCONNECTED);
        assert(d->serial != NULL);
        assert(d->serial->htx_first + d->serial->htx_len <= d->serial->htx_cap);
    } else {
        assert(!d->app_conn || ble_link_state_get(&d->link) == BLE_LINK_CONNECTED);
    }
    ble_link_check(&d->link);
    if (d->client != NULL)
        client_dfu_check(d->client);
    /* the two-sources host ran only where the fault applies, and its end was noted */
    assert(d->cch.state == CLIENT_CC_HOST_IDLE || (d->fault_done & FLEET_FAULTS_TWO_SOURCES));
    assert((d->cch.state == CLIENT_CC_HOST_ENDED) == (d->st.cc_end_ns != RECORDER_NONE));
    assert(d->st.cc_bytes_written == 0 || d->cfg->config_channel_dfu);
#else
    (void)d;
#endif
}

enum fleet_device_state fleet_device_state_get(const struct fleet_device *d)
{
    return d->state;
}

const struct fleet_device_stats *fleet_device_stats_get(const struct fleet_device *d)
{
    return &d->st;
}

const struct client_dfu *fleet_device_client(struct fleet_device *d)
{
    return client_of(d);
}

const struct fleet_device_attempt *fleet_device_attempt_get(const struct fleet_device *d,
                                                            uint32_t i)
{
    uint32_t n = d->st.n_attempts, first = n > FLEET_DEVICE_LOG ? n - FLEET_DEVICE_LOG : 0;
    if (first + i >= n || (first + i) % FLEET_DEVICE_LOG >= d->log_cap)
        return NULL; /* past the end, or not kept (out of memory) */
    return &d->log[(first + i) % FLEET_DEVICE_LOG];
}

const struct ble_link *fleet_device_link(const struct fleet_device *d)
{
    return &d->link;
}

const struct uart_link *fleet_device_uart(const struct fleet_device *d)
{
    return d->serial != NULL ? &d->serial->uart : NULL;
}

void fleet_device_observe(struct fleet_device *d, ble_link_observe_fn ble,
                          uart_link_observe_fn uart, void *env)
{
    if (d->serial != NULL)
        uart_link_observe_set(&d->serial->uart, uart, env);
    else
        ble_link_observe_set(&d->link, ble, env);
}

const struct mcuboot_slots *fleet_device_slots(const struct fleet_device *d)
{
    return &d->slots;
}

const char *fleet_device_outcome(const struct fleet_device *d)
{
    if (d->state == FLEET_DEV_DEAD)
        return "dead";
    if (d->st.running_image == d->update_image && fleet_device_confirmed(d))
        return "updated";
    if (d->st.ran_update && d->st.running_image != d->update_image)
        return "reverted";
    if (client_state(d) == CLIENT_DFU_FAILED)
        return "failed";
    return "pending";
}

int fleet_device_ce_share(struct fleet_device *d, uint32_t n, int64_t now)
{
    d->now = now;
    return is_uart(d) ? 0 : ble_link_set_ce_share(&d->link, n);
}

/* ---- session parts (device.h "Session state on demand") ------------------------------ */

struct fleet_device_spares *fleet_device_spares_new(void)
{
    return calloc(1, sizeof(struct fleet_device_spares));
}

void fleet_device_spares_parking_set(struct fleet_device_spares *sp, bool on)
{
    sp->no_park = !on;
}

void fleet_device_spares_free(struct fleet_device_spares *sp)
{
    if (sp == NULL)
        return;
    while (sp->free != NULL) {
        struct fleet_app *a = sp->free;
        sp->free = a->next;
        free(a);
    }
    free(sp);
}

struct fleet_device_spares_stats fleet_device_spares_stats_get(const struct fleet_device_spares *sp)
{
    return (struct fleet_device_spares_stats){sp->n_free,  sp->n_live,    sp->n_made,
                                              sp->n_parks, sp->n_unparks, sp->n_kept};
}

bool fleet_device_parked(const struct fleet_device *d)
{
    return d->state == FLEET_DEV_APP && d->app == NULL;
}

/* ---- external clients (device.h "External clients") ------------------------------------ */

#define EXT_ACC_MAX 65536u /* bytes of one datagram on its way (the MTU is at most this) */

int fleet_device_ext_set(struct fleet_device *d, const struct fleet_device_ext *x,
                         enum fleet_device_ext_link link)
{
    if (d->state != FLEET_DEV_OFF || d->ext != NULL || x == NULL || x->tx == NULL ||
        (link != FLEET_EXT_LINK && link != FLEET_EXT_DIRECT))
        return SIM_EINVAL;
    d->ext = calloc(1, sizeof(*d->ext));
    if (d->ext == NULL)
        return SIM_ENOMEM;
    d->ext->x = *x;
    d->ext->link = link;
    struct smp_dgram_cfg c = smp_dgram_cfg_default();
    smp_dgram_init(&d->ext->dg, &c, NULL);
    d->connect_wanted = link == FLEET_EXT_LINK; /* the bridge host stays connected */
    return 0;
}

/* The link went down or the device lost its RAM: the datagrams on their way are lost. */
static void ext_ble_clear(struct fleet_device *d)
{
    if (d->ext == NULL)
        return;
    d->ext->fifo_first = d->ext->fifo_n = 0;
    d->ext->acc_len = 0;
}

/* One write command of the bridge reached the device: bytes of the first datagram on its
 * way. When all of them are there, the datagram is one SMP packet, taken by the rules of
 * the UDP transport (smp_dgram_rx: MTU, net_buf size, a free buffer). */
static void ext_ble_rx(struct fleet_device *d, const uint8_t *p, size_t n, int64_t at)
{
    struct fleet_device_ext_state *x = d->ext;
    while (n > 0 && x->fifo_n > 0) {
        uint32_t want = x->fifo_len[x->fifo_first];
        size_t k = want - x->acc_len;
        if (k > n)
            k = n;
        if (buf_grow(&x->acc, &x->acc_cap, x->acc_len + k, EXT_ACC_MAX) != 0) {
            keep_error(d, SIM_ENOMEM);
            return;
        }
        memcpy(x->acc + x->acc_len, p, k);
        x->acc_len += k;
        p += k;
        n -= k;
        if (x->acc_len < want)
            return;
        bool ok = x->fifo_ok[x->fifo_first];
        x->fifo_first = (x->fifo_first + 1) % EXT_FIFO;
        x->fifo_n--;
        x->acc_len = 0;
        if (!ok) {
            x->n_lost++; /* the bridge could not queue all of it */
            continue;
        }
        bool dropped;
        x->dg.pool = d->app->pool;
        keep_error(d, smp_dgram_rx(&x->dg, x->acc, want, 0, at, &d->app->pool_cx, &dropped));
    }
}

/* The bridge writes datagram p[0..n) over the BLE link as write commands of at most
 * ATT MTU - 3 bytes. A queue that fills part way marks the datagram lost (its bytes still
 * cross the link). */
static int ext_ble_send(struct fleet_device *d, const uint8_t *p, size_t n)
{
    struct fleet_device_ext_state *x = d->ext;
    if (ble_link_state_get(&d->link) != BLE_LINK_CONNECTED || x->fifo_n == EXT_FIFO) {
        x->n_lost++;
        return 0;
    }
    size_t max = ble_link_sdu_max(&d->link), queued = 0;
    int rc = 0;
    while (queued < n) {
        size_t k = n - queued < max ? n - queued : max;
        rc = ble_link_send(&d->link, BLE_LINK_C2P, p + queued, k, d->now, &d->link_cx);
        if (rc != BLE_LINK_OK)
            break;
        queued += k;
    }
    if (queued == 0) {
        x->n_lost++;
        return rc < 0 ? rc : 0;
    }
    uint32_t i = (x->fifo_first + x->fifo_n) % EXT_FIFO;
    x->fifo_len[i] = (uint32_t)queued;
    x->fifo_ok[i] = queued == n;
    x->fifo_n++;
    return rc < 0 ? rc : 0;
}

int fleet_device_ext_rx(struct fleet_device *d, const uint8_t *p, size_t n, int64_t now)
{
    struct fleet_device_ext_state *x = d->ext;
    if (x == NULL)
        return SIM_EINVAL;
    d->now = now;
    /* An empty datagram carries no packet; a longer one than the MTU never reaches the
     * application (smp_dgram.h). The bridge applies the same rule before its link. */
    if (n == 0 || (x->dg.cfg.mtu != 0 && n > x->dg.cfg.mtu)) {
        x->n_lost++;
        return 0;
    }
    int rc = 0;
    if (x->link == FLEET_EXT_DIRECT) {
        if (d->state != FLEET_DEV_APP) {
            x->n_lost++; /* MCUboot runs, or the power is off: nobody listens */
            return 0;
        }
        bool dropped;
        x->dg.pool = d->app->pool;
        rc = smp_dgram_rx(&x->dg, p, n, 0, now, &d->app->pool_cx, &dropped);
    } else if (is_uart(d)) {
        if (d->state != FLEET_DEV_APP || !d->serial->host_conn) {
            x->n_lost++;
            return 0;
        }
        rc = host_send(d, p, n);
    } else {
        rc = ext_ble_send(d, p, n);
    }
    fleet_device_check(d);
    return rc != 0 ? rc : d->err;
}

uint64_t fleet_device_ext_lost(const struct fleet_device *d)
{
    return d->ext != NULL ? d->ext->n_lost + d->ext->dg.n_dropped : 0;
}

void fleet_device_ext_attempt_begin(struct fleet_device *d, int64_t now)
{
    if (d->ext == NULL)
        return;
    d->ext->attempt_open = true;
    if (d->st.first_start_ns == RECORDER_NONE)
        d->st.first_start_ns = now;
}

void fleet_device_ext_attempt_end(struct fleet_device *d, const struct recorder_attempt *a)
{
    if (d->ext == NULL || !d->ext->attempt_open)
        return;
    struct client_dfu_record r = {.attempt = *a, .smp_rc = RECORDER_NONE};
    client_emit(d, &r);
    d->ext->attempt_open = false;
}

void fleet_device_ext_chunk(struct fleet_device *d, const struct recorder_chunk *c)
{
    if (d->ext != NULL && d->ext->attempt_open)
        client_emit_chunk(d, c);
}

bool fleet_device_runs_update(const struct fleet_device *d)
{
    return d->state == FLEET_DEV_APP && d->st.running_image == d->update_image;
}
