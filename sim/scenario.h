/* sim/scenario.h - YAML scenario file -> validated, plain-data config.
 *
 * The loader parses YAML with libyaml, applies command-line overrides (--set key=value),
 * converts units ("7.5ms", "384KiB", "2%") and checks every key against a schema table.
 * Every problem is reported as
 *     FILE:LINE:COLUMN: key.path: what is wrong (what is allowed)
 * into a caller-supplied struct sim_diag; all problems of a file are reported, not just
 * the first. The schema table is also the scenario reference (README "Scenario reference").
 *
 * Key paths in messages name list elements by index: devices[1].board (the group name may
 * be missing or wrong in the very element being reported). A problem that has no key, such
 * as an empty file, shows "-" as the path. Problems in a --set argument are located as
 * --set:N:COLUMN, N counting the arguments from 1, and name the key as it was typed.
 * Messages come sorted by position (the file first), at most 20, then a count of the rest.
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include "sim/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How much the recorder writes (CONTRIBUTING.md rule 8). */
enum scenario_record { SCENARIO_RECORD_SUMMARY, SCENARIO_RECORD_ATTEMPTS, SCENARIO_RECORD_CHUNKS };

/* Board: its flash map and chips. Names and order match models/flash/map.h
 * (enum flash_map_board); tests/test_cli.c checks that each name resolves there. */
enum scenario_board {
    SCENARIO_BOARD_RAK4631,        /* nRF52840 */
    SCENARIO_BOARD_NRF52840DK,     /* nRF52840, both slots internal */
    SCENARIO_BOARD_NRF52840DK_EXT, /* nRF52840, secondary slot on the MX25R64 QSPI flash */
    SCENARIO_BOARD_NRF5340DK,      /* nRF5340 application core */
    SCENARIO_BOARD_NRF54L15DK,     /* nRF54L15 RRAM */
    SCENARIO_BOARD_RAK3172,        /* STM32WLE5 */
    SCENARIO_BOARD_RAK11720,       /* Apollo3 Blue */
    SCENARIO_BOARD_COUNT
};

/* MCUboot upgrade mode. */
enum scenario_bootloader {
    SCENARIO_BOOT_OVERWRITE_ONLY,
    SCENARIO_BOOT_SWAP_SCRATCH,
    SCENARIO_BOOT_SWAP_MOVE,
    SCENARIO_BOOT_SWAP_OFFSET,
    SCENARIO_BOOT_DIRECT_XIP,
    SCENARIO_BOOT_DIRECT_XIP_REVERT,
    SCENARIO_BOOT_RAM_LOAD,
    SCENARIO_BOOT_COUNT
};

/* MCUboot image version: major.minor.revision+build. */
struct scenario_version {
    uint8_t major, minor;
    uint16_t revision;
    uint32_t build;
};

/* Where a key's value sits in the files that were loaded: for messages written after
 * loading by a layer that knows more (the firmware check of models/fleet). src is the
 * scenario path or "--set"; it lives as long as the struct scenario. line 0: unknown. */
struct scenario_pos {
    const char *src;
    unsigned line, col;
};

/* A per-device parameter given as a distribution (README "Distributions"): the text as
 * written, e.g. "beta(2, 50)" or "normal(2%, 1%) in [0%, 20%]", and where it sits. The
 * loader checks only its shape (a distribution name of models/fleet/population.h's grammar,
 * balanced parentheses, an optional "in [LO, HI]"); models/fleet parses it with
 * fleet_population_parse and reports problems at `at`. text NULL: a plain value was given
 * and sits in the key's own numeric field (which is 0 while text is set). */
struct scenario_dist {
    char *text;
    struct scenario_pos at;
};

struct scenario_image {
    uint64_t size; /* bytes */
    struct scenario_version version;
    struct scenario_version installed; /* what the devices run at power-on (same size) */
    struct scenario_pos at;            /* the image map */
};

/* SMP module of the firmware: nRF Desktop dfu_mcumgr, CAF ble_smp, or both (a build the
 * nRF Connect SDK refuses; kept so that the check can say so). */
enum scenario_smp { SCENARIO_SMP_DFU_MCUMGR, SCENARIO_SMP_BLE_SMP, SCENARIO_SMP_BOTH };

struct scenario_netbuf {
    uint64_t size;           /* CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE, bytes */
    uint32_t count;          /* CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT */
    int64_t cpu_per_request; /* SMP worker CPU time per request, ns */
    struct scenario_dist cpu_per_request_dist;
};

/* Firmware modules and MCUmgr options of a device group. */
struct scenario_firmware {
    int smp; /* enum scenario_smp */
    bool dfu_lock, config_channel_dfu, ble_latency, reassembly, mcumgr_params, erase_progressively;
    struct scenario_netbuf netbuf;
    int64_t app_start; /* MCUboot done -> application advertising, ns */
    struct scenario_dist app_start_dist;
    struct scenario_pos at; /* the firmware map (or its group when absent) */
};

enum scenario_phy {
    SCENARIO_PHY_1M,
    SCENARIO_PHY_2M,
    SCENARIO_PHY_CODED_S2,
    SCENARIO_PHY_CODED_S8
};
enum scenario_loss_model { SCENARIO_LOSS_NONE, SCENARIO_LOSS_BERNOULLI, SCENARIO_LOSS_GE };

struct scenario_loss {
    int model;         /* enum scenario_loss_model */
    double good, bad;  /* loss per PDU in Good (Bernoulli: every PDU) and Bad */
    double p_gb, p_bg; /* transition probabilities per PDU */
    struct scenario_dist good_dist, bad_dist, p_gb_dist, p_bg_dist;
};

/* How a group's devices are reached: AUTO is resolved when the world is built (models/fleet
 * setup.c): BLE on boards with a BLE radio, UART on the RAK3172 (STM32WLE5, no radio). */
enum scenario_transport {
    SCENARIO_TRANSPORT_AUTO,
    SCENARIO_TRANSPORT_BLE,
    SCENARIO_TRANSPORT_UART
};

/* The link of a device group: the BLE link as negotiated, or a UART (transport, baud; the
 * BLE keys are then ignored). */
struct scenario_link {
    int transport; /* enum scenario_transport */
    uint32_t baud; /* UART bits per second */
    int phy;       /* enum scenario_phy */
    uint16_t mtu, dle, latency;
    int64_t interval, timeout; /* ns */
    int64_t adv_delay;         /* advertising (or the central's wish) -> CONNECT_IND, ns */
    struct scenario_dist interval_dist, latency_dist, timeout_dist, adv_delay_dist;
    struct scenario_loss loss;
    struct scenario_pos at; /* the link map (or its group when absent) */
};

enum scenario_client_kind {
    SCENARIO_CLIENT_ANDROID,
    SCENARIO_CLIENT_IOS,
    SCENARIO_CLIENT_MCUMGR_CLI,
    SCENARIO_CLIENT_SMPCLIENT
};
/* Upgrade mode; DEFAULT keeps the client's own default. */
enum scenario_client_mode {
    SCENARIO_MODE_TEST_AND_CONFIRM,
    SCENARIO_MODE_CONFIRM_ONLY,
    SCENARIO_MODE_TEST_ONLY,
    SCENARIO_MODE_NONE,
    SCENARIO_MODE_UPLOAD_ONLY,
    SCENARIO_MODE_DEFAULT
};

/* The DFU client every device's central runs. 0 in window and alignment: the client's
 * upstream default. */
struct scenario_client {
    int kind; /* enum scenario_client_kind */
    int mode; /* enum scenario_client_mode */
    uint8_t window, alignment;
    uint16_t packets_per_event; /* the central's cap on packets per connection event */
    uint32_t attempts;
    int64_t swap_wait, retry_delay, start; /* ns */
    struct scenario_dist start_dist;       /* start drawn per device */
    struct scenario_pos at;                /* the client map (or the file when absent) */
};

/* MCUboot's validation timing (both unverified: no published figure): SHA-256 over the image at
 * hash_rate bytes per second, plus one signature check of sig_time per image validated. */
struct scenario_mcuboot {
    uint64_t hash_rate; /* bytes/s */
    int64_t sig_time;   /* ns */
};

/* Flash timing of a group's board (models/flash/chip.h; sources per chip in chip.c). */
enum scenario_flash_timing { SCENARIO_FLASH_MAX, SCENARIO_FLASH_TYPICAL };
struct scenario_flash {
    int timing;             /* enum scenario_flash_timing: the datasheet column used */
    double ble_slowdown;    /* factor on application flash work while BLE is up; 0: the chip's */
    struct scenario_pos at; /* the flash map (or its group when absent) */
};

struct scenario_group {
    char *name;     /* unique among groups */
    uint32_t count; /* devices in the group */
    enum scenario_board board;
    enum scenario_bootloader bootloader;
    struct scenario_mcuboot mcuboot;
    struct scenario_flash flash;
    struct scenario_firmware firmware;
    struct scenario_link link;
};

/* ---- rollout: maps onto struct fleet_rollout_cfg (models/fleet/rollout.h), whose
 * comments give each knob's origin. The loader checks units and plain bounds;
 * fleet_rollout_cfg_validate the rest (window < 24 h, exactly one increase criterion, ...). */

/* A wave's size: a share of the devices not yet in a wave ("10%") or a count ("50"). */
struct scenario_amount {
    bool is_count;
    uint32_t count; /* is_count */
    double share;   /* !is_count: fraction 0..1 */
};

/* Failure types (error_failure_types, retry_on); AWS IoT Jobs failureType. */
enum scenario_failure {
    SCENARIO_FAILURE_FAILED,
    SCENARIO_FAILURE_REJECTED,
    SCENARIO_FAILURE_TIMED_OUT
};
enum scenario_success_action { SCENARIO_SUCCESS_NEXT, SCENARIO_SUCCESS_PAUSE };
enum scenario_error_action { SCENARIO_ERROR_PAUSE, SCENARIO_ERROR_CANCEL, SCENARIO_ERROR_ROLLBACK };
enum scenario_end_behavior { SCENARIO_END_STOP, SCENARIO_END_CANCEL };

/* Daily maintenance window. duration 0: none (always open). */
struct scenario_window {
    int64_t start, duration; /* ns after midnight (simulated time 0), ns */
    int end_behavior;        /* enum scenario_end_behavior */
};

struct scenario_rollout {
    bool present; /* the file (or a --set) has a rollout map; false: no controller, every
                   * device starts at client.start, and every other member is zero */
    size_t n_waves;
    struct scenario_amount *waves; /* 1..32 */
    double success_threshold;      /* fraction */
    int success_action;            /* enum scenario_success_action */
    double error_threshold;        /* fraction; 1 = never */
    uint32_t error_min_executed;
    bool error_of_executed;
    uint32_t error_threshold_count; /* 0 = off */
    size_t n_error_failure_types;
    int *error_failure_types;                     /* enum scenario_failure, each at most once */
    int error_action;                             /* enum scenario_error_action */
    uint32_t rate_max_per_min, rate_base_per_min; /* 0 = unlimited, 0 = no ramp */
    double rate_factor;
    uint32_t rate_increase_after_notified, rate_increase_after_succeeded;
    int64_t exec_timeout; /* ns, 0 = none */
    uint8_t retries;
    size_t n_retry_on;
    int *retry_on; /* enum scenario_failure, each at most once */
    struct scenario_window window;
    int64_t start;          /* ns: when the rollout starts */
    struct scenario_pos at; /* the rollout map */
};

/* ---- gateways: shared centrals (gateways or phones) that serve device groups. */

enum scenario_gateway_kind { SCENARIO_GATEWAY_GATEWAY, SCENARIO_GATEWAY_PHONE };
enum scenario_availability { SCENARIO_AVAIL_ALWAYS, SCENARIO_AVAIL_SESSIONS };
enum scenario_assignment {
    SCENARIO_ASSIGN_ROUND_ROBIN,
    SCENARIO_ASSIGN_BLOCK,
    SCENARIO_ASSIGN_RANDOM
};

struct scenario_gateway {
    char *name;       /* unique among gateways */
    uint32_t count;   /* gateways of this kind */
    int kind;         /* enum scenario_gateway_kind; informative */
    uint8_t links;    /* most concurrent links per gateway */
    int availability; /* enum scenario_availability */
    int64_t arrival;  /* sessions: mean gap between sessions (Poisson), ns; else 0 */
    int64_t dwell;    /* sessions: session length, ns; else 0 */
    struct scenario_dist dwell_dist;
    size_t n_serves;
    char **serves;  /* group names, each at most once; absent: every group, filled in by
                     * the loader (models/fleet setup checks that each name exists) */
    int assignment; /* enum scenario_assignment */
    struct scenario_client client; /* keys not given are the top-level client's */
    struct scenario_pos pos;       /* the list element */
};

/* ---- faults (the team's fault model: README "Faults"). Keys that do not apply to the
 * kind (or to `during`, `boot`) are refused at load and stay 0 here. */

enum scenario_fault_kind {
    SCENARIO_FAULT_POWER_LOSS,
    SCENARIO_FAULT_BAD_IMAGE,
    SCENARIO_FAULT_NEVER_CONFIRM,
    SCENARIO_FAULT_LINK_DEGRADE,
    SCENARIO_FAULT_TWO_SOURCES
};
enum scenario_fault_during { SCENARIO_DURING_UPLOAD, SCENARIO_DURING_SWAP, SCENARIO_DURING_RANDOM };
enum scenario_fault_boot { SCENARIO_BAD_IMAGE_CRASH, SCENARIO_BAD_IMAGE_INVALID };

struct scenario_fault {
    int kind; /* enum scenario_fault_kind */
    size_t n_groups;
    char **groups; /* as scenario_gateway.serves: absent = every group, filled in */
    double share;  /* fraction of those groups' devices (a keyed draw per device) */
    /* power-loss */
    int during;   /* enum scenario_fault_during */
    double at;    /* upload, swap: fraction of the image written / of the swap steps done */
    int64_t mean; /* random: mean time between power losses, ns */
    int64_t off;  /* how long power stays off, ns */
    /* bad-image */
    int boot;            /* enum scenario_fault_boot */
    int64_t crash_after; /* crash: application start -> crash, ns */
    /* never-confirm */
    int64_t reset_after; /* failed confirm -> reset, ns */
    /* link-degrade: loss per PDU rises linearly from the group's value to `to` over
     * `over`, starting at simulated time `from` */
    double to;
    int64_t over, from;
    /* two-sources: SMP upload start -> config-channel DFU starts writing, ns; the host's
     * time per 24-byte report, ns */
    int64_t delay, report;
    struct scenario_pos pos; /* the list element */
};

/* ---- sweeps and replications (README "Sweeps and replications"). */

enum scenario_sweep_mode {
    SCENARIO_SWEEP_GRID, /* every combination; the first parameter varies slowest */
    SCENARIO_SWEEP_LIST  /* point i takes the i-th value of every parameter */
};

/* One swept parameter: a --set key path and the values it takes, as --set takes them. */
struct scenario_sweep {
    char *key;
    size_t n_values;
    char **values;
    struct scenario_pos pos; /* the list element */
};

#define SCENARIO_SWEEP_MAX_POINTS 10000u /* points of one file; runs = points x replications */

/* ---- check: tolerances of `dfusim check` (README "Use in your CI"). The loader checks
 * units and bounds; sim/cli/check.c checks the metric names and reports them at `pos`. */
struct scenario_tolerance {
    char *metric;            /* a metric column of the baseline, e.g. "goodput_kBps_mean" */
    double rel;              /* fraction of the baseline value the metric may get worse by */
    double abs;              /* in the metric's unit; the larger of the two applies */
    struct scenario_pos pos; /* the list element */
};

struct scenario_check {
    bool present;
    struct scenario_pos at;
    size_t n_tolerances;
    struct scenario_tolerance *tolerances; /* metric names unique */
};

struct scenario {
    char *path; /* file it was loaded from, as given */
    char *text; /* the file's full text (recorded with its SHA-256) */
    size_t text_len;
    char *name;
    uint64_t seed;
    int64_t until; /* ns of simulated time */
    enum scenario_record record;
    struct scenario_image image;
    struct scenario_client client;
    size_t n_groups;
    struct scenario_group *groups;
    struct scenario_rollout rollout;
    size_t n_gateways; /* 0: every device has its own always-present central */
    struct scenario_gateway *gateways;
    size_t n_faults;
    struct scenario_fault *faults;
    size_t n_overrides; /* the --set arguments that were applied, in order */
    char **overrides;
    uint32_t replications; /* runs per sweep point, 1..1000 */
    int sweep_mode;        /* enum scenario_sweep_mode */
    size_t n_sweep;        /* swept parameters; 0: no sweep */
    struct scenario_sweep *sweep;
    struct scenario_check check; /* not present: every metric at its default tolerance */
    size_t n_points;             /* sweep points (1 without a sweep) */
    size_t point;                /* the point whose values this struct holds */
};

/* Load, override and validate. overrides are "key.path=value" strings (list elements
 * with a unique key are addressed by it: devices.mice.count=10, gateways.dock.links=8; any
 * element by index: faults[0].share=5%). On success returns 0
 * and fills *out (free with scenario_fini). On failure returns SIM_EINVAL (bad content),
 * SIM_EIO or SIM_ENOENT (file), SIM_ENOMEM; *out is left zeroed and diag says why. */
int scenario_load(const char *path, const char *const *overrides, size_t n_overrides,
                  struct scenario *out, struct sim_diag *diag);
/* Same from text in memory; `path` names it in messages. */
int scenario_load_text(const char *path, const char *text, size_t len, const char *const *overrides,
                       size_t n_overrides, struct scenario *out, struct sim_diag *diag);
void scenario_fini(struct scenario *s);

/* Sweeps: scenario_load and scenario_load_text check every sweep point (a bad key or value
 * is reported at the sweep entry, once) and return point 0, its values applied as --set
 * overrides after the real ones. scenario_load_point returns point `point` of the text
 * the first load read (s->text); it checks that point only. point >= n_points:
 * SIM_EINVAL with a message. */
int scenario_load_point(const char *path, const char *text, size_t len,
                        const char *const *overrides, size_t n_overrides, size_t point,
                        struct scenario *out, struct sim_diag *diag);
/* Index into s->sweep[param].values of the value that sweep point `point` takes. */
size_t scenario_sweep_index(const struct scenario *s, size_t point, size_t param);
/* The seed of replication r: the seed itself for r = 0 (a run without replications is
 * unchanged), else the first output of the keyed stream sim_rng_init(seed, r,
 * SIM_RNG_REPLICATION). */
uint64_t scenario_replication_seed(uint64_t seed, uint32_t r);

/* Visit every effective setting as (key path, value text), defaults included, in schema
 * order: what the recorder stores per run. List elements are named by group or name:
 * devices.mice.count, gateways.dock.links, else by index: faults[0].kind (as --set
 * addresses them). An absent rollout, keys that do not apply (a fault's keys of another
 * kind, a gateway's session keys without sessions) are not visited. A distribution is
 * visited as its text; a list of values as a flow list "[10%, 50]". Values are canonical text that --set parses
 * back to the same value: durations and sizes as an integer in the largest unit that
 * divides them exactly ("24h", "90min", "7500us", "0s"; "384KiB", "1536B"), percentages
 * with up to 15 significant digits ("0.5%"), versions with the build ("2.0.0+0"). */
typedef void (*scenario_visit_fn)(void *ctx, const char *key, const char *value);
void scenario_visit(const struct scenario *s, scenario_visit_fn fn, void *ctx);

/* Names of enum values, for messages and records. */
const char *scenario_board_name(enum scenario_board b);
const char *scenario_bootloader_name(enum scenario_bootloader b);
const char *scenario_record_name(enum scenario_record r);
const char *scenario_client_kind_name(enum scenario_client_kind k);
const char *scenario_transport_name(enum scenario_transport t);
/* The k-th distribution name the loader accepts ("fixed", "uniform", ...), NULL past the
 * last: models/fleet/population.h's grammar, in enum fleet_population_kind order. */
const char *scenario_dist_kind_name(unsigned k);

/* Unit parsers, exposed for --set and tests. Return 0 or SIM_EINVAL/SIM_ERANGE.
 * Durations: integer or decimal with ns|us|ms|s|min|h ("7.5ms"); a bare number is an error.
 * Sizes: B|KiB|MiB or a plain integer (bytes). Percentages: "2%", "0.5%" -> 0.02, 0.005. */
int scenario_parse_duration(const char *text, int64_t *ns);
int scenario_parse_size(const char *text, uint64_t *bytes);
int scenario_parse_percent(const char *text, double *fraction);

/* The scenario reference, from the tables the loader binds with: one line per key, or with
 * markdown the Markdown of docs/scenario-reference.md. */
void scenario_reference_write(FILE *out, bool markdown);

#endif /* SIM_SCENARIO_H */
