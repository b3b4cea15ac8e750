/* models/fleet/device.h - one simulated device and the host that updates it: board
 * (flash map + chips) + MCUboot slots + SMP server (os_mgmt, img_mgmt) + net_buf pool + an
 * SMP transport + nRF Desktop / CAF firmware modules, and on the other end one DFU client
 * (models/client/dfu.h). The transport is one of two (fleet_device_cfg.transport):
 *   BLE:  the SMP BLE transport and the peripheral end of a BLE link (models/ble), with a
 *         central running the client;
 *   UART: the SMP serial transport (models/smp/serial.h) over a UART (models/uart), with a
 *         host (a PC) running the client through its serial port.
 *
 * The device owns no clock and no engine: every timer of every model inside it is a slot
 * (enum fleet_device_timer) that it arms through struct fleet_device_ctx, and the owner
 * (models/fleet/world.c) maps each slot to a sim_engine_timer and calls
 * fleet_device_timer() when it fires. Records leave through the same context; the device
 * never talks to the recorder (CONTRIBUTING.md rule 8).
 *
 * Device states (enum fleet_device_state):
 *
 *   OFF --fleet_device_power_on / MCUboot boots (radio off)--> BOOT
 *   OFF --POWER timer (power back after a power-loss fault) / MCUboot boots--> BOOT
 *   APP, BOOT --power-loss fault (POWER timer, or a cut upload write)--> OFF
 *   BOOT --MCUboot's swap cut by a power-loss fault--> OFF
 *   BOOT --a bad image's crash reboot runs the crashing image again--> DEAD (bricked)
 *   BOOT --BOOT timer at MCUboot end + app_boot_ns, an image runs / modules init,
 *          main READY, advertise (BLE) or serial transport up (UART)--> APP
 *   BOOT --BOOT timer, nothing bootable--> DEAD
 *   APP --os_mgmt reset timer (250 ms after the reset response), config-channel reboot,
 *         fleet_device_reset / link peer_lost, RAM state lost, MCUboot boots--> BOOT
 *   APP (BLE): advertising while the link is DISCONNECTED; a central that asked to connect
 *        gets CONNECT_IND adv_ns after advertising began (or after it asked)
 *   DEAD: terminal; every input is counted in n_unexpected
 *
 *   (the host-side slots, the client's and the two-sources host's FLEET_T_CC_HOST, may be
 *   armed in any state: the host is not the device)
 *   OFF, BOOT, DEAD: no device-side timer is armed but BOOT (in BOOT) and POWER; the SMP transport
 *                    is disconnected; the MCUboot slots see no BLE activity
 *   APP:             the modules the configuration enables are initialised, or parked
 *                    (nothing runs in them; rebuilt when an input needs them: "Session
 *                    state on demand" below)
 *
 * UART (assumptions, README "Simplifications"): there is no advertising and no connection.
 * The host's serial port stays open across device resets; the client's SMP session is
 * what comes and goes: a device reset flushes the UART (uart_link_flush: bytes on the
 * wire are lost) and ends the session (the client gets DISCONNECTED right after MCUboot
 * starts, as the tools' separate `reset` and `image list` runs see it), and the client's
 * (re)connect is answered with CONNECTED as soon as the device's application runs (at
 * once if it already does): no enumeration or port-open delay. Frames that reach a device
 * in BOOT are lost. ble_latency and the BLE link keys do not apply (not initialised), the
 * flash never sees the BLE slowdown. The client's packet limit is the serial host's
 * (struct fleet_serial_host): CONNECTED carries att_mtu = packet_max + 3, because the
 * client builds packets of at most att_mtu - 3, and packet_max also caps a buf_size learnt
 * from MCUmgr parameters (client profile packet_cap).
 *
 * Flash time: a packet's effects (flash operations, upload state) are applied when the
 * net_buf worker takes it, and its responses leave when the worker's busy time (CPU per
 * request + the flash time those operations measured, BLE slowdown included while the link
 * is up) ends. The net_buf model allows this: it asks for the flash cost when the packet is
 * taken (smp_netbuf_ctx.flash_cost).
 */
#ifndef MODELS_FLEET_DEVICE_H
#define MODELS_FLEET_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/ble/link.h"
#include "models/client/cc_host.h"
#include "models/client/dfu.h"
#include "models/flash/map.h"
#include "models/flash/wear.h"
#include "models/fw/ble_latency.h"
#include "models/fw/ble_smp.h"
#include "models/fw/cc_dfu.h"
#include "models/fw/dfu_lock.h"
#include "models/fw/dfu_mcumgr.h"
#include "models/fw/event_bus.h"
#include "models/mcuboot/slots.h"
#include "models/smp/bt.h"
#include "models/smp/img_mgmt.h"
#include "models/smp/netbuf.h"
#include "models/smp/os_mgmt.h"
#include "models/smp/serial.h"
#include "models/smp/server.h"
#include "models/uart/link.h"
#include "sim/recorder.h"

/* Timer slots of one device (each is one sim_engine_timer in the world). */
enum fleet_device_timer {
    FLEET_T_BOOT,      /* MCUboot + application start done */
    FLEET_T_CONNECT,   /* the central's CONNECT_IND (UART: the client's session starts) */
    FLEET_T_LINK,      /* ble_link's one timer */
    FLEET_T_NETBUF,    /* SMP worker completion */
    FLEET_T_OS_RESET,  /* os_mgmt reset delay */
    FLEET_T_BUS,       /* event bus work item */
    FLEET_T_MCUMGR,    /* dfu_mcumgr 5 s DFU timeout */
    FLEET_T_LAT_CHECK, /* ble_latency check */
    FLEET_T_LAT_SEC,   /* ble_latency security */
    FLEET_T_CC0,       /* cc_dfu timers FLEET_T_CC0 + FW_CC_DFU_TIMER_* */
    FLEET_T_CLIENT_RSP = FLEET_T_CC0 + FW_CC_DFU_TIMER_COUNT, /* client response deadline */
    FLEET_T_CLIENT_WAIT,                                      /* client swap wait / retry delay */
    FLEET_T_START,                                            /* the client starts */
    FLEET_T_FAULT,   /* injected fault (fleet_device_fault_at) */
    FLEET_T_UART,    /* uart_link's one timer */
    FLEET_T_HOST_TX, /* the host writes its next serial frame */
    FLEET_T_POWER,   /* power fault: the power fails (random, upload cut) or comes back */
    FLEET_T_CRASH,   /* bad-image crash (watchdog reset) or never-confirm reset */
    FLEET_T_CC_HOST, /* two-sources fault: the config-channel host's next exchange */
    FLEET_T_COUNT
};

enum fleet_device_state {
    FLEET_DEV_OFF,
    FLEET_DEV_BOOT,
    FLEET_DEV_APP,
    FLEET_DEV_DEAD,
    FLEET_DEV_STATE_COUNT
};

/* SMP module of the firmware. */
enum fleet_device_smp {
    FLEET_SMP_DFU_MCUMGR, /* nRF Desktop dfu_mcumgr */
    FLEET_SMP_BLE_SMP,    /* CAF ble_smp */
    FLEET_SMP_BOTH,       /* both enabled: a build the SDK refuses (fw_config_check) */
    FLEET_SMP_NONE        /* Zephyr's MCUmgr alone (smp_svr): no module, the client confirms */
};

/* How the client reaches the device's SMP server. */
enum fleet_device_transport {
    FLEET_TRANSPORT_BLE, /* GATT write commands / notifications over the BLE link */
    FLEET_TRANSPORT_UART /* SMP serial frames (base64, CRC16) over a UART */
};

/* The host end of a serial link: what the client's serial transport does. */
struct fleet_serial_host {
    uint16_t packet_max;  /* largest SMP packet (header + CBOR) the client builds, bytes */
    int64_t frame_gap_ns; /* pause before the host writes each continuation frame, ns */
};

/* The serial transport of client kind k (upstream defaults; sources in device.c).
 * Returns 0, or SIM_EINVAL for a client without one (Device Manager Android and iOS speak
 * BLE only); *out is then zeroed. */
int fleet_serial_host_default(enum client_dfu_kind k, struct fleet_serial_host *out);

/* Faults a test or a scenario can inject. */
enum fleet_device_fault {
    FLEET_FAULT_LINK_DROP, /* the link drops (supervision timeout, both ends see it now) */
    FLEET_FAULT_RESET      /* the device resets (power button, watchdog) */
};

/* Settings shared by a group of devices (plain data; the world keeps it). */
struct fleet_device_cfg {
    enum mcuboot_slots_mode mode;
    const struct mcuboot_slots_cfg *slots;       /* board + mode + image table; not owned */
    uint32_t factory_image;                      /* table index in the primary at power-on */
    int32_t secondary_image;                     /* table index in the secondary at power-on, -1 */
    uint32_t update_image;                       /* table index the client uploads */
    const struct client_dfu_image *client_image; /* that image as the client sees it */
    /* firmware */
    enum fleet_device_smp smp;
    bool dfu_lock, config_channel_dfu, ble_latency, reassembly;
    bool mcumgr_params;              /* os_mgmt answers MCUmgr parameters */
    enum smp_img_mgmt_erase erase;   /* img_mgmt's first-chunk erase (0: today's, as needed) */
    bool reject_xip_mismatched_slot; /* CONFIG_MCUMGR_GRP_IMG_REJECT_DIRECT_XIP_MISMATCHED_SLOT */
    bool image_check;                /* CONFIG_IMG_ENABLE_IMAGE_CHECK */
    struct smp_netbuf_cfg netbuf;
    enum fleet_device_transport transport;
    struct ble_link_cfg link;        /* BLE: negotiated values (mtu, dle, phy) */
    struct uart_link_cfg uart;       /* UART: baud and byte format */
    struct fleet_serial_host serial; /* UART: the host's serial transport (packet_max > 0) */
    struct client_dfu_cfg client;    /* device_id is set per device */
    /* The central's host (models/client/central.h), applied to the link and the client when
     * the device is made (BLE only): central (enum client_central; CLIENT_CENTRAL_COUNT: none,
     * link and client as given), the app's priority, whether the interval is fixed rather
     * than negotiated from link.interval_ns (the device's preference), and a cap on packets
     * per event that overrides the profile's (0: the profile's). */
    uint8_t central, central_priority;
    bool interval_fixed;
    uint16_t central_packets;
    uint16_t pref_latency; /* ble_latency's preferred latency (CONFIG_BT_..._LATENCY) */
    int64_t app_boot_ns;   /* application start to advertising, ns */
    int64_t adv_ns;        /* advertising to CONNECT_IND, ns */
    int64_t start_ns;      /* the client starts at this time; < 0: only when
                                        fleet_device_client_start() is called */
};

/* Faults of the scenario's `faults:` list (README "Faults"), set per device by
 * fleet_device_faults_set(): one shared struct fleet_device_faults (per group) holds the
 * parameters of every kind, and a per-device mask of FLEET_FAULTS_* bits says which kinds
 * apply to this device (the world draws membership: `groups`, `share`).
 *
 *   POWER_UPLOAD  the power fails while the SMP server writes the chunk that reaches
 *                 upload_at of the image (that write is cut: its sectors hold garbage)
 *   POWER_SWAP    copying modes: the power fails after swap_at of MCUboot's swap steps
 *                 (the first boot that copies; the next boot resumes the swap:
 *                 models/mcuboot/swap.h); no effect in direct-xip and RAM-load
 *   POWER_RANDOM  the power fails at Poisson times of mean mean_ns until the client's run
 *                 is over (client_dfu_finished); a loss during a swap cuts it at the step
 *                 its time falls in (steps timed by their flash time)
 *                 Every power loss: RAM, upload state and the link are lost; the device is
 *                 OFF for off_ns, then MCUboot boots. upload and swap fire once per device.
 *   BAD_IMAGE     CRASH: the update image is valid but its application crashes
 *                 crash_after_ns after it starts, never confirming itself (a watchdog
 *                 reset each time); when a crash's reboot runs it again (nothing can
 *                 revert: overwrite-only, a permanent swap, direct-xip / RAM-load without
 *                 revert) the device is bricked: DEAD, stats.bricked.
 *                 INVALID: the update image does not validate at boot (signature or hash):
 *                 MCUboot refuses it (mcuboot_slots_fail_validation) and keeps the old one.
 *   NEVER_CONFIRM every image state write (or self-confirm) that would confirm the update
 *                 image answers FLASH_WRITE_FAILED; reset_after_ns after it first runs
 *                 unconfirmed the device is reset once (MCUboot reverts in TEST swaps)
 *   LINK_DEGRADE  the link's per-PDU loss (Bernoulli per_good; a NONE link becomes
 *                 Bernoulli) rises linearly from the group's value at degrade_from_ns to
 *                 degrade_to at degrade_from_ns + degrade_over_ns (simulated time), and
 *                 stays there; applied at each link event (no timer of its own)
 *   TWO_SOURCES   a second DFU source: two_sources_at_ns after the SMP server first
 *                 wrote an upload chunk, a host (models/client/cc_host.h: the HID
 *                 configurator on a PC) runs the config-channel DFU of nRF Desktop
 *                 (models/fw/cc_dfu.h) for another image of the update's size, one feature
 *                 report every two_sources_report_ns, once per device. Both sides are the
 *                 firmware's: with dfu_lock the lock refuses whichever source comes second
 *                 (the host's sync answers ACTIVE_OTHER: the host stops, stats.cc_refused;
 *                 or MCUmgr's commands get rc 11); without it both write the secondary slot
 *                 (the config channel's store work marks what it writes as garbage: the
 *                 bytes of another image over the SMP image), so MCUboot's validation of the
 *                 secondary fails at the next boot (swap modes: no swap; direct-xip: the
 *                 slot is not booted) and the device keeps its old image. The host stops
 *                 for good when refused, when a checkpoint fails, and when the device
 *                 resets or loses power; it never reboots the device. Requires
 *                 cfg.config_channel_dfu (else SIM_EINVAL). The config channel's image is
 *                 no table image: a complete one is garbage to MCUboot too (README
 *                 "Simplifications").
 */
enum fleet_device_faults_bit {
    FLEET_FAULTS_POWER_UPLOAD = 1u << 0,
    FLEET_FAULTS_POWER_SWAP = 1u << 1,
    FLEET_FAULTS_POWER_RANDOM = 1u << 2,
    FLEET_FAULTS_BAD_IMAGE = 1u << 3,
    FLEET_FAULTS_NEVER_CONFIRM = 1u << 4,
    FLEET_FAULTS_LINK_DEGRADE = 1u << 5,
    FLEET_FAULTS_TWO_SOURCES = 1u << 6,
    FLEET_FAULTS_ALL = (1u << 7) - 1u
};

enum fleet_bad_image { FLEET_BAD_IMAGE_CRASH, FLEET_BAD_IMAGE_INVALID };

/* Parameters of every fault kind (plain data, shared by the devices of a group). */
struct fleet_device_faults {
    double upload_at;               /* POWER_UPLOAD: share of the image written, (0, 1]; 0.5 */
    double swap_at;                 /* POWER_SWAP: share of the swap steps done, [0, 1); 0.5 */
    int64_t mean_ns;                /* POWER_RANDOM: mean time between losses, > 0; 1 h */
    int64_t off_ns;                 /* every power loss: time without power, >= 0; 1 s */
    enum fleet_bad_image bad_image; /* CRASH */
    int64_t crash_after_ns;         /* BAD_IMAGE crash: 2 s */
    int64_t reset_after_ns;         /* NEVER_CONFIRM: 1 h */
    double degrade_to;              /* LINK_DEGRADE: final loss per PDU, [0, 1]; 0.3 */
    int64_t degrade_from_ns;        /* 0 */
    int64_t degrade_over_ns;        /* >= 0; 10 min */
    int64_t two_sources_at_ns;      /* TWO_SOURCES: after the first SMP chunk, >= 0; 10 s */
    int64_t two_sources_report_ns;  /* TWO_SOURCES: the host's pace, one HID feature-report
                                       exchange of <= 24 data bytes, > 0; 20 ms (the HID
                                       configurator's poll interval, cc_host.h) */
};

/* The defaults above (the scenario keys' defaults). */
void fleet_device_faults_default(struct fleet_device_faults *f);

/* NULL when the parameters of the kinds in `kinds` are in range, else "KEY: what is
 * allowed" with KEY the scenario key of faults[] (validate reports it; faults_set() refuses
 * the same values). */
const char *fleet_device_faults_invalid(const struct fleet_device_faults *f, uint32_t kinds);

/* Defaults: swap-move, dfu_mcumgr with lock + ble_latency, no config-channel DFU,
 * netbuf 2475 x 4, reassembly and MCUmgr parameters on, BLE with link defaults (UART
 * defaults, 115200 8N1, and a zero serial host kept for a switch to UART), Android client;
 * app_boot_ns 0 and adv_ns 100 ms (both unverified assumptions). slots and client_image
 * must be set by the caller. */
void fleet_device_cfg_default(struct fleet_device_cfg *c);

struct fleet_device;

/* What the device acts through. */
struct fleet_device_ctx {
    void *env;
    /* Arm slot for at_ns (>= now), replacing an earlier arming; gen comes back with it. */
    int (*timer_arm)(void *env, uint32_t dev, int slot, uint32_t gen, int64_t at_ns);
    void (*timer_cancel)(void *env, uint32_t dev, int slot);
    /* One attempt ended (the client's record; swap times filled from the device). */
    void (*emit_attempt)(void *env, uint32_t dev, struct recorder_attempt *a);
    void (*emit_chunk)(void *env, uint32_t dev, const struct recorder_chunk *c);
    void (*emit_swap)(void *env, uint32_t dev, struct recorder_swap *s);
    void (*emit_lock)(void *env, uint32_t dev, const struct recorder_lock *l);
    void (*emit_outage)(void *env, uint32_t dev, const struct recorder_outage *o);
    /* Where session parts come from and go back to (fleet_device_spares_new); NULL: malloc
     * and free each. Not owned; it outlives every device that uses it. */
    struct fleet_device_spares *spares;
    /* true: devices keep no attempt log (fleet_device_attempt_get returns NULL; 296 B
     * per attempt kept less); the records still go to emit_attempt. */
    bool no_attempt_log;
};

/* Session state on demand (device.c, struct fleet_app): a device whose application runs
 * but holds nothing a rebuild would not give back (no connection, no packet, no module
 * timer, no upload in progress, no lock held) is parked, its application's RAM state
 * (firmware modules, SMP server, net_buf pool: about 3 KiB) returned to a spares list
 * shared by the world's devices and rebuilt when a connection comes. Results are the
 * same as without parking; only memory changes. */
struct fleet_device_spares;
struct fleet_device_spares_stats {
    uint64_t n_free;    /* session parts on the list now */
    uint64_t n_live;    /* in use by devices now */
    uint64_t n_made;    /* ever allocated: the peak of n_live */
    uint64_t n_parks;   /* times a device parked */
    uint64_t n_unparks; /* times a parked device's part was rebuilt */
    uint64_t n_kept;    /* times the park check found state a rebuild would not give back */
};
/* Returns NULL when out of memory. */
struct fleet_device_spares *fleet_device_spares_new(void);
/* Frees the list; the devices that used it must be freed first. Accepts NULL. */
void fleet_device_spares_free(struct fleet_device_spares *sp);
struct fleet_device_spares_stats
fleet_device_spares_stats_get(const struct fleet_device_spares *sp);
/* Devices using sp park (true, the default) or keep their parts while their application
 * runs (false: the same results with more memory; tests compare the two). */
void fleet_device_spares_parking_set(struct fleet_device_spares *sp, bool on);
/* The device runs its application with its session part parked (device.c). */
bool fleet_device_parked(const struct fleet_device *dev);

/* One ended attempt as the device saw it (the client's record plus the device's swap). */
#define FLEET_DEVICE_LOG 16
struct fleet_device_attempt {
    struct recorder_attempt a; /* a.error points into error[] */
    int32_t smp_rc;            /* SMP rc that ended it, RECORDER_NONE */
    char error[96];
};

/* Observable facts, for tests, the summary and the devices table. */
struct fleet_device_stats {
    int64_t boot_ns;       /* last MCUboot run: start */
    int64_t boot_end_ns;   /* and end (swap end) */
    int64_t swap_start_ns; /* last boot that swapped or changed slot, RECORDER_NONE */
    int64_t swap_end_ns;
    int64_t updated_ns;          /* update image first ran confirmed, RECORDER_NONE */
    int64_t first_start_ns;      /* the first DFU attempt began, RECORDER_NONE */
    int64_t bytes_sent;          /* upload data bytes of every ended attempt, resends included */
    int64_t image_bytes;         /* image bytes img_mgmt wrote to a slot (all attempts) */
    int64_t image_bytes_emitted; /* image_bytes when the last attempt ended */
    int64_t downtime_ns;         /* sum of the ended outages */
    /* The open outage (application not running since down_ns), or down_ns RECORDER_NONE. */
    struct recorder_outage outage;
    int64_t erase_end_ns;       /* config-channel background erase ended (last time) */
    int64_t first_erase_end_ns; /* and the first time */
    int64_t last_reject_ns;     /* last SMP command refused rc 11 by dfu_mcumgr */
    uint32_t n_rejects;         /* commands refused rc 11 */
    uint32_t n_boots, n_swaps, n_attempts, n_reverts;
    uint32_t n_unexpected;   /* inputs that did not fit the state */
    uint32_t n_tx_dropped;   /* SDUs the link refused (UART: sends over queue_bytes) */
    uint32_t n_serial_lost;  /* UART frames that reached a device not running its app */
    uint32_t n_power_losses; /* power failures (faults), in the application or in MCUboot */
    uint32_t n_swap_cuts;    /* of them, during a swap (the next boot resumes it) */
    uint32_t n_crashes;      /* bad-image crashes (watchdog resets) */
    uint32_t n_fault_resets; /* never-confirm resets */
    uint32_t n_invalid;      /* boots that refused an image failing validation */
    const char *refusal;     /* MCUboot's reason for the last image a boot refused (image.keys:
                                the table's refusal; the bad_image fault's), or NULL */
    uint8_t last_swap_type;  /* enum mcuboot_trailer_swap of the last boot */
    int running_image;       /* table index running, MCUBOOT_SLOTS_NONE */
    bool ran_update;         /* the update image ran at least once */
    bool bricked;            /* a crashing image runs again and again: DEAD */
    /* TWO_SOURCES (the config-channel host, cc_host.h) */
    int64_t cc_start_ns;       /* the host started, RECORDER_NONE */
    int64_t cc_end_ns;         /* and ended (the "ended" signal), RECORDER_NONE */
    uint32_t cc_bytes_written; /* bytes the config channel stored into the secondary */
    uint32_t cc_refused;       /* host runs refused by the DFU lock (ACTIVE_OTHER) */
    uint8_t cc_outcome;        /* enum client_cc_host_end of the host's run */
};

/* Allocate a device with id `id` (its records) whose random streams are keyed by (seed,
 * entity): the world derives entity from the group and the index in it, so that adding a
 * group leaves what the others draw unchanged (CONTRIBUTING.md rule 3). The device counts its flash
 * wear in row wear_row of wear (its group's table: the index in the group, not id). cfg, ctx
 * and wear are kept by pointer. wear may be NULL. Returns NULL on bad configuration (UART:
 * bad uart settings, serial.packet_max 0) or no memory (message in d). */
struct fleet_device *fleet_device_new(uint32_t id, uint64_t entity,
                                      const struct fleet_device_cfg *cfg,
                                      const struct fleet_device_ctx *cx, uint64_t seed,
                                      struct flash_wear *wear, uint32_t wear_row,
                                      struct sim_diag *d);
void fleet_device_free(struct fleet_device *dev); /* accepts NULL */

/* Power on at now (MCUboot boots the factory image) and arm the client's start. */
int fleet_device_power_on(struct fleet_device *dev, int64_t now);

/* The run ends: emit the outage still open (up_ns RECORDER_NONE), if any. */
void fleet_device_finish(struct fleet_device *dev);

/* A timer slot fired at now with the generation it was armed with. Returns 0 or a
 * negative sim_err from a model (the world stops the run). */
int fleet_device_timer(struct fleet_device *dev, int slot, uint32_t gen, int64_t now);

/* Inject a fault at at_ns (armed on FLEET_T_FAULT; one pending fault at a time). */
int fleet_device_fault_at(struct fleet_device *dev, enum fleet_device_fault f, int64_t at_ns,
                          int64_t now);

/* Set the faults of this device: f (kept by pointer, not copied; NULL = none) and the
 * FLEET_FAULTS_* kinds that apply to it. Call before fleet_device_power_on (or at any time:
 * a random power loss is then scheduled from now). Returns 0, SIM_EINVAL (a parameter out of
 * range, unknown bits, TWO_SOURCES without config_channel_dfu); the device is then
 * unchanged. */
int fleet_device_faults_set(struct fleet_device *dev, const struct fleet_device_faults *f,
                            uint32_t active, int64_t now);

/* Start a run of the DFU client now (cfg.start_ns < 0: the world, a gateway or a rollout
 * decides when). From a finished run (DONE or FAILED, see fleet_device_client_done) a new
 * run starts: attempt numbers continue, the device keeps what its SMP server kept.
 * A client already running counts as unexpected. Returns 0 or a negative sim_err. */
int fleet_device_client_start(struct fleet_device *dev, int64_t now);

/* The host (a phone walking away, a gateway's session ending) leaves now: the client's
 * attempt ends "failed" ("host left") with no retry, its timers are cancelled, and the
 * BLE link is disconnected and stays down (UART: the session ends, unsent frames are
 * dropped). Nothing reconnects until fleet_device_client_start. Returns 0 or a sim_err. */
int fleet_device_host_leave(struct fleet_device *dev, int64_t now);

/* The client's run is over (DONE, or FAILED with no attempt left); *outcome (may be NULL)
 * is then the outcome of its last attempt ("updated", "failed", "timeout"), else NULL. */
bool fleet_device_client_done(const struct fleet_device *dev, const char **outcome);

enum fleet_device_state fleet_device_state_get(const struct fleet_device *dev);
const struct fleet_device_stats *fleet_device_stats_get(const struct fleet_device *dev);
/* The image in the primary (swap modes) or the active slot (xip) is confirmed; in
 * direct-xip and RAM-load without revert, any running image is (nothing else exists). */
bool fleet_device_confirmed(const struct fleet_device *dev);
/* The DFU client (made now if no input reached it yet: a device holds none until then). */
const struct client_dfu *fleet_device_client(struct fleet_device *dev);
/* Attempts that ended, oldest first (the last FLEET_DEVICE_LOG of them); NULL past the end
 * (always NULL with cx->no_attempt_log).
 * The pointer is valid until the next attempt ends (the log grows on demand). */
const struct fleet_device_attempt *fleet_device_attempt_get(const struct fleet_device *dev,
                                                            uint32_t i);
const struct ble_link *fleet_device_link(const struct fleet_device *dev);
/* The UART link: NULL unless the transport is FLEET_TRANSPORT_UART. */
const struct uart_link *fleet_device_uart(const struct fleet_device *dev);
const struct mcuboot_slots *fleet_device_slots(const struct fleet_device *dev);
/* Hook a capture (sim/cli/capture.c) on the device's link: ble on a BLE device, uart on a
 * UART device (the other is ignored), each called with env; NULL unhooks. */
void fleet_device_observe(struct fleet_device *dev, ble_link_observe_fn ble,
                          uart_link_observe_fn uart, void *env);
/* Final state for the devices table: "updated", "reverted", "failed", "pending", "dead". */
const char *fleet_device_outcome(const struct fleet_device *dev);

/* The device's central shares its radio among n links (a gateway with n active): this
 * link's connection events get 1/n of the time (ble_link_set_ce_share). No-op over a
 * UART. Returns 0 or SIM_EINVAL (n outside 1..BLE_LINK_CE_SHARE_MAX). */
int fleet_device_ce_share(struct fleet_device *d, uint32_t n, int64_t now);

/* ---- External clients (dfusim serve) --------------------------------------------------
 * A device given an external client (fleet_device_ext_set, before fleet_device_power_on)
 * has no modelled DFU client: its client never starts (fleet_device_client_start and
 * fleet_device_host_leave do nothing), and SMP packets come from outside, one per
 * datagram, through fleet_device_ext_rx at a simulated time. Each response packet leaves
 * through ext->tx, called (from inside a device input) at the simulated time it reaches
 * the client's end. Datagrams follow Zephyr's UDP transport (models/smp/dgram.h): an
 * empty one or one longer than the MTU (1500) is lost, one longer than a net_buf or
 * arriving with the pool empty is dropped, the rest is one SMP packet each.
 *
 *   FLEET_EXT_LINK    the device stays behind its group's link, with a bridge host at the
 *                     far end in the place of the phone or PC. BLE: the bridge connects
 *                     adv_ns after the device advertises and again after every drop (a
 *                     reset is noticed by supervision timeout, as a phone notices it); it
 *                     writes each datagram as write commands of at most ATT MTU - 3
 *                     bytes, and the device takes the datagram as one packet once its last
 *                     byte arrived (the UDP rule above, not smp_bt's reassembly by the SMP
 *                     length field, so a malformed length cannot desynchronise the link);
 *                     responses come back as notifications, reassembled by the SMP
 *                     header's length. A datagram arriving while the link is down, or that
 *                     does not fit the link's queue, is lost. UART: each datagram is one
 *                     serial packet written by the host's serial transport (frames, frame
 *                     gap of the scenario's client), the session is up while the
 *                     application runs; a datagram outside it is lost.
 *   FLEET_EXT_DIRECT  no link: the device's own UDP transport (an Ethernet or Wi-Fi
 *                     device); a response leaves when the SMP worker is done. Datagrams
 *                     are lost while the application does not run. The BLE link stays idle.
 *
 * Attempts are the external client's, seen from the device side: whoever watches the
 * traffic (models/serve/attempts.h) says when one begins and hands the finished record in;
 * the device numbers it, fills in its swap and emits it as it does a modelled client's. */
enum fleet_device_ext_link { FLEET_EXT_LINK, FLEET_EXT_DIRECT };

struct fleet_device_ext {
    void *env;
    /* One response packet (header + CBOR) reached the client's end at at_ns; the callee
     * copies it. */
    void (*tx)(void *env, uint32_t dev, const uint8_t *p, size_t n, int64_t at_ns);
};

/* Returns 0, or SIM_EINVAL (device already on, already set, no tx) / SIM_ENOMEM. x is
 * copied. */
int fleet_device_ext_set(struct fleet_device *dev, const struct fleet_device_ext *x,
                         enum fleet_device_ext_link link);
/* One datagram p[0..n) from the external client at now (>= the device's last input).
 * Returns 0 (taken or lost: fleet_device_ext_lost counts the lost ones), SIM_EINVAL
 * without an external client, or a negative sim_err from a model. */
int fleet_device_ext_rx(struct fleet_device *dev, const uint8_t *p, size_t n, int64_t now);
/* Datagrams lost so far (every reason above). */
uint64_t fleet_device_ext_lost(const struct fleet_device *dev);
/* An attempt of the external client begins at now: swaps, locks and outages from now on
 * belong to it. */
void fleet_device_ext_attempt_begin(struct fleet_device *dev, int64_t now);
/* It ended: a (outcome, times, bytes) is recorded as the attempt's row; attempt and
 * device ids, image bytes and the swap after its reset are filled in by the device. No-op
 * without an attempt begun. */
void fleet_device_ext_attempt_end(struct fleet_device *dev, const struct recorder_attempt *a);
/* One upload chunk of the attempt in progress (ids filled in by the device). */
void fleet_device_ext_chunk(struct fleet_device *dev, const struct recorder_chunk *c);
/* The application runs the group's update image (confirmed or not). */
bool fleet_device_runs_update(const struct fleet_device *dev);

/* Assert the per-state invariants above (no-op with NDEBUG). */
void fleet_device_check(const struct fleet_device *dev);

#endif /* MODELS_FLEET_DEVICE_H */
