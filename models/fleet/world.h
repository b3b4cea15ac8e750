/* models/fleet/world.h - the simulated world: shared images, device groups, the engine
 * wiring of every device timer, and the only place that talks to the recorder.
 *
 * Build order: fleet_world_new, fleet_world_image_add (every image), fleet_world_group_add
 * (every group; devices are numbered from 0 in that order), then optionally
 * fleet_world_group_dist (parameters drawn per device), fleet_world_fault_add,
 * fleet_world_gateways_add and fleet_world_rollout_set, then fleet_world_start, then
 * fleet_world_run (with a rollout epoch the devices' events are on the blocks' engines,
 * not on e: "Blocks" below), then fleet_world_finish (devices, wear and gateway rows). Or
 * all of it from a scenario with fleet_world_from_scenario (setup.c).
 *
 * Each device timer slot (models/fleet/device.h) is one sim_engine_timer, so a re-armed or
 * cancelled timer is dropped by the engine (CONTRIBUTING.md rule 2). Records: one dfu_attempts row
 * per client attempt (attempt ids in the order attempts end), chunks at level `chunks`,
 * swaps, lock changes, waves, sessions, device and flash wear, one devices row per device
 * and one gateways row per gateway at the end. Who starts which client when, once a rollout
 * or gateways exist: dispatch.c; what each device draws: draws.c.
 */
#ifndef MODELS_FLEET_WORLD_H
#define MODELS_FLEET_WORLD_H

#include <stdint.h>

#include "models/fleet/device.h"
#include "models/fleet/gateway.h"
#include "models/fleet/population.h"
#include "models/fleet/rollout.h"
#include "sim/engine.h"
#include "sim/recorder.h"
#include "sim/scenario.h"

#define FLEET_WORLD_MODEL_NAME "dfu"
#define FLEET_WORLD_MAX_IMAGES 4

/* One device group: a board, a bootloader mode and a device template. */
struct fleet_group_cfg {
    const char *name; /* kept by pointer */
    enum flash_map_board board;
    enum mcuboot_slots_mode mode;
    bool erase_progressively;
    const struct mcuboot_timing_settings *boot; /* NULL: mcuboot_slots_cfg_init's defaults */
    const struct flash_chip_settings *flash;    /* NULL: the chips' profiles as they are */
    uint32_t count;
    struct fleet_device_cfg dev; /* slots and client_image are filled in by the world */
};

/* Totals for tests and the run's progress. Times are ns. Metrics for people (goodput,
 * durations) are computed from the results database by report/summary.c, once. */
struct fleet_world_stats {
    uint64_t devices, updated, reverted, failed, pending, dead, attempts;
    uint64_t swaps;
    int64_t last_updated_ns; /* when the last device first ran the update confirmed, or 0 */
    /* rollout (rollout_state NULL without one) */
    const char *rollout_state;
    uint32_t waves_opened, started, rollout_errors;
    /* gateways */
    uint32_t gateways, gateway_sessions, gateway_max_active;
};

struct fleet_world;

/* rec may be NULL. e and rec are borrowed. Returns NULL when out of memory. */
struct fleet_world *fleet_world_new(struct sim_engine *e, struct recorder *rec, uint64_t seed);
void fleet_world_free(struct fleet_world *w); /* accepts NULL */

/* A synthetic image of total_size bytes (header + body + TLVs). Returns 0 and its index, or
 * SIM_ERANGE (too many, or too small) with a message. */
int fleet_world_image_add(struct fleet_world *w, uint32_t total_size,
                          const struct mcuboot_image_version *v, uint32_t *index,
                          struct sim_diag *d);
/* A real image (an imgtool file's bytes, len of them, named `what` in messages): parsed,
 * shared by every device and client as it is. The world owns bytes from this call on,
 * whatever it returns. Returns 0 and its index, or SIM_ERANGE / SIM_EINVAL (not an MCUboot
 * image, with the reason). */
int fleet_world_image_add_file(struct fleet_world *w, uint8_t *bytes, size_t len, const char *what,
                               uint32_t *index, struct sim_diag *d);
/* Image `index` was linked for slot `slot` (0, or 1: a direct-xip build's secondary
 * image): MCUboot skips a ROM_FIXED image in the other slot (boot_rom_address_check). */
void fleet_world_image_link(struct fleet_world *w, uint32_t index, uint8_t slot);
/* The trusted keys (owned by w from here; NULL: none) and the build of the devices'
 * MCUboot, which judges the images devices learn from uploads (models/mcuboot/slots.h). */
void fleet_world_image_keys(struct fleet_world *w, struct mcuboot_keyset *keys,
                            const struct mcuboot_build *b);
/* The devices' MCUboot refuses image `index` for reason why (MCUboot's, copied): it fails
 * validation at every boot that needs it, and the device records why. Returns 0 or
 * SIM_EINVAL / SIM_ENOMEM. */
int fleet_world_image_refuse(struct fleet_world *w, uint32_t index, const char *why);

/* Add a group (after every image). Returns 0 and the first device id, or a negative sim_err
 * with a message (unknown board, image too large for the mode, bad settings). */
int fleet_world_group_add(struct fleet_world *w, const struct fleet_group_cfg *g, uint32_t *first,
                          struct sim_diag *d);

/* Draw parameter `param` for each device of group `group` (the order groups were added,
 * from 0) from dist, instead of using the group's value. The draws are keyed by the
 * device's stream entity (models/fleet/population.h). Parameters: LOSS_GOOD, LOSS_BAD,
 * LOSS_P_GB, LOSS_P_BG (fractions), INTERVAL (ns, rounded to the 1.25 ms grid), LATENCY
 * (rounded to a whole event count), TIMEOUT (ns, rounded to 10 ms), ADV_DELAY,
 * APP_START, CPU_PER_REQUEST, CLIENT_START (ns). A draw outside the parameter's range, or
 * link parameters that break the Bluetooth rules together, make fleet_world_start fail
 * with the device named. Returns 0, SIM_EINVAL (unknown group or parameter, bad dist)
 * or SIM_ENOMEM. */
int fleet_world_group_dist(struct fleet_world *w, uint32_t group, enum fleet_population_param param,
                           const struct fleet_population_dist *dist, struct sim_diag *d);

/* A fault (models/fleet/device.h "Faults"): the FLEET_FAULTS_* kinds in `bits`, with the
 * parameters of those kinds taken from f, for each device of the groups in `groups` (bit g:
 * the g-th group added; 0 = every group) with probability `share` (a draw keyed by the
 * device and the entry's index: the n-th call). Several entries of one kind on a group
 * share its parameters: the last entry's win. Call after every group, before
 * fleet_world_start. Returns 0, SIM_EINVAL (bad bits, share or parameters) or
 * SIM_ENOMEM. */
int fleet_world_fault_add(struct fleet_world *w, uint64_t groups, double share, uint32_t bits,
                          const struct fleet_device_faults *f, struct sim_diag *d);

/* Let a rollout controller (models/fleet/rollout.h) start the devices' clients, from
 * start_ns on, instead of each client starting at its own start time (call before
 * fleet_world_start). Devices enter the waves in a keyed random order (dispatch.c); the
 * waves go to the recorder. Returns 0, or SIM_EINVAL / SIM_ERANGE for a bad cfg (messages
 * in d). */
int fleet_world_rollout_set(struct fleet_world *w, const struct fleet_rollout_cfg *cfg,
                            int64_t start_ns, struct sim_diag *d);
/* The controller, once started; NULL without a rollout. */
const struct fleet_rollout *fleet_world_rollout(const struct fleet_world *w);

/* One kind of gateway or phone: `count` of them, each a models/fleet/gateway.h machine
 * with cfg, serving the groups in `serves` (bit g: the g-th group added; 0 = every group),
 * the devices shared out by `assignment` in device order. Each group is served by at most
 * one kind; with `client` set, its devices run that client instead of their group's.
 * Gateways make the rollout drive the clients (the default rollout, one wave of 100 %,
 * unless fleet_world_rollout_set gave another). The links of one gateway share its radio
 * (ble_link_set_ce_share with the number active). Call after every group, before
 * fleet_world_start. Returns 0 or SIM_EINVAL / SIM_ERANGE / SIM_ENOMEM with a message. */
struct fleet_world_gateways {
    const char *name; /* kept by pointer */
    uint32_t count;
    struct fleet_gateway_cfg cfg;       /* cfg.dwell is ignored: */
    struct fleet_population_dist dwell; /* the session length, copied */
    enum fleet_gateway_assignment assignment;
    uint64_t serves;
    const struct client_dfu_cfg *client; /* copied into the groups served; NULL: theirs */
};
int fleet_world_gateways_add(struct fleet_world *w, const struct fleet_world_gateways *g,
                             struct sim_diag *d);
uint32_t fleet_world_n_gateways(const struct fleet_world *w);
const struct fleet_gateway *fleet_world_gateway(const struct fleet_world *w, uint32_t id);

/* Give every device the external client x (models/fleet/device.h "External clients")
 * instead of its own modelled client: call after the groups, before fleet_world_start,
 * without a rollout or gateways (they start and stop modelled clients). Returns 0 or
 * SIM_EINVAL. */
int fleet_world_ext_set(struct fleet_world *w, const struct fleet_device_ext *x,
                        enum fleet_device_ext_link link);

/* ---- running, and one world in parts (docs/mpi.md "One fleet across ranks") ---- */

/* A device result on its way to the rollout controller. */
struct fleet_world_result {
    int64_t at;      /* ns: when the device's client ended its last attempt */
    uint32_t index;  /* the device's rollout index */
    uint32_t result; /* enum fleet_rollout_result */
};

#define FLEET_WORLD_SYNC_ERROR 1u /* a part failed (fleet_world_error) */
#define FLEET_WORLD_SYNC_STOP  2u /* a part's engine was stopped or interrupted */
#define FLEET_WORLD_SYNC_LIMIT 4u /* a part has events left past the time limit */

/* What each part of a world gives, and what all of them together give back, at an epoch
 * time (fleet_world_run). */
struct fleet_world_sync_in {
    const struct fleet_world_result *results; /* this part's, since the last epoch time */
    uint32_t n;
    int64_t next_at; /* this part's next event, SIM_TIME_MAX when none */
    int64_t now;     /* this part's clock */
    uint32_t flags;  /* FLEET_WORLD_SYNC_* */
};
struct fleet_world_sync_out {
    struct fleet_world_result *results; /* every part's, in any order; owned by the
                                         * exchange (the world sorts them in place), valid
                                         * until its next call */
    uint32_t n;
    int64_t next_at; /* the earliest of the parts' */
    int64_t now;     /* the latest of the parts' */
    uint32_t flags;  /* the union of the parts' */
};
/* The collective of the parts of one world (every part calls it the same number of times);
 * returns 0 or a negative sim_err. NULL: the world is in one part. */
struct fleet_world_sync {
    void *ctx;
    int (*exchange)(void *ctx, const struct fleet_world_sync_in *in,
                    struct fleet_world_sync_out *out);
};

/* Partitions: the units that interact. A gateway (or phone) and the devices it serves
 * share its links and its radio, so they are one partition, numbered as the gateway; a
 * device no gateway serves is a partition of its own, numbered n_gateways + its id. Each
 * device has one gateway at most (fleet_gateway_assign), so there is nothing to join.
 * Between partitions there is only the rollout controller (which, with an epoch, decides
 * from whole epochs' results: fleet_world_run) and what is shared read-only (the images,
 * the groups' settings); the records of a partition depend on nothing else, so a world
 * may run as several parts, each with some of the partitions, in as many processes.
 * Known limit: an image a device learns from an upload (models/mcuboot/slots.h) joins a
 * table shared by every device, numbered in the order the images are learned; the
 * modelled clients upload the scenario's images only.
 *
 * fleet_world_split: build and run only part `part` of n_parts (before fleet_world_start;
 * the default is part 0 of 1, everything). Part k runs the partitions whose devices come
 * in the k-th n_parts-th of the devices, counted in partition order: every part computes
 * the same split. A part builds only its devices and gateways; it records only their rows
 * (and the controller's waves, which every part computes alike). Returns 0 or SIM_EINVAL
 * (after start, with external clients, or part >= n_parts). */
int fleet_world_split(struct fleet_world *w, uint32_t part, uint32_t n_parts);
/* The partition of device dev (after fleet_world_start). */
uint32_t fleet_world_partition(const struct fleet_world *w, uint32_t dev);

/* Blocks: the parts of a world in one process. With a rollout epoch, a world (or its part,
 * fleet_world_split) runs its partitions as blocks of consecutive partitions of about
 * FLEET_WORLD_BLOCK_DEVICES devices each. Each block has an engine of its own
 * (sim_engine_join: its own clock, queue and timers; the caller's engine keeps the handler
 * table, the counts, the progress callback, the interrupt flag and the world's clock), and
 * fleet_world_run runs block after block up to each epoch time, then the controller: what
 * the ranks of an MPI job do, in one process. The blocks share the world's tables (the
 * controller, the per-device timer slots, the groups' wear tables), so a block costs its
 * engine and the timers its devices arm at once, and each block's events stay in a queue of
 * a few hundred devices, whose state stays in the cache for a whole epoch. The database is
 * the one a single engine writes (the rows are in the canonical order of an epoch run,
 * recorder_run_canonical); without an epoch there is one engine, the caller's.
 *
 * FLEET_WORLD_BLOCK_DEVICES: measured on the fleet benchmark (bench/RESULTS.md "Linear
 * scaling"). fleet_world_blocks_set: devices per block for this world (before
 * fleet_world_start): 0 for FLEET_WORLD_BLOCK_DEVICES, FLEET_WORLD_BLOCKS_OFF for one
 * engine (a --pcap capture wants the devices' events in time order). Returns 0, or
 * SIM_EINVAL after start. */
#define FLEET_WORLD_BLOCK_DEVICES 256
#define FLEET_WORLD_BLOCKS_OFF    UINT32_MAX
int fleet_world_blocks_set(struct fleet_world *w, uint32_t devices);
/* The number of engines the world runs on (1 without blocks; after fleet_world_start). */
uint32_t fleet_world_n_blocks(const struct fleet_world *w);

/* Run the started world until `until` (ns), as sim_engine_run (why: EMPTY, LIMIT,
 * REQUESTED, INTERRUPTED). Without a rollout epoch this is sim_engine_run. With one
 * (rollout.h "Epochs"): the engine runs the events before each epoch time T, the parts
 * exchange (sync) the device results that arrived, then the rollout controller acts at T,
 * before the events of T; the next T is the epoch time after the earliest event of any
 * part, or earlier when the controller has a timer due or acted (its actions make events
 * from T on, whose results count at T + epoch at the earliest: the lookahead). Every part
 * runs the same controller on the same results, so the decisions are the same in every
 * part and do not depend on how the devices are split. At the end every part's clock is
 * the latest. Returns 0, a negative sim_err from the exchange or the controller, or
 * SIM_EINTR when another part failed. */
int fleet_world_run(struct fleet_world *w, int64_t until, const struct fleet_world_sync *sync,
                    enum sim_stop *why);
/* The rollout's epoch (ns; 0: none, or no rollout). */
int64_t fleet_world_epoch(const struct fleet_world *w);

/* Power every device on at the engine's current time. */
int fleet_world_start(struct fleet_world *w);
/* Why fleet_world_start failed, when it says (empty otherwise). */
const struct sim_diag *fleet_world_diag(const struct fleet_world *w);
/* Emit the devices and flash-wear rows. Returns 0 or the first recorder error. */
int fleet_world_finish(struct fleet_world *w);
/* First error a handler met (the handler then stopped the engine), 0 if none. */
int fleet_world_error(const struct fleet_world *w);

uint32_t fleet_world_n_devices(const struct fleet_world *w);
/* Session state on demand (device.h, fleet_device_spares): idle devices park their
 * session parts (on, the default) or keep them (off: the same results with more memory).
 * Call before fleet_world_start. */
void fleet_world_parking_set(struct fleet_world *w, bool on);
/* Devices keep their last attempts for fleet_device_attempt_get (on, the default of
 * fleet_world_new) or not (off: the default of fleet_world_from_scenario, whose attempts
 * are records). Call before the devices' first attempt ends. */
void fleet_world_attempt_log_set(struct fleet_world *w, bool on);
struct fleet_device_spares_stats fleet_world_spares_stats(const struct fleet_world *w);
struct fleet_device *fleet_world_device(struct fleet_world *w, uint32_t id);
void fleet_world_stats(const struct fleet_world *w, struct fleet_world_stats *out);

/* Check what the scenario loader cannot: firmware combinations the SDK refuses
 * (fw_config_check; over a UART without the MCUmgr Bluetooth transport), link.transport ble
 * on a board without a BLE radio, a BLE-only client with a group reached over a UART (after
 * resolving link.transport auto: uart on rak3172, ble elsewhere), BLE connection parameters
 * out of range (BLE groups only), images too large for a group's board and mode. Each
 * problem is one message "FILE:LINE:COL: KEY: ..." at the position of the map holding the
 * key (devices[i].firmware, devices[i].link, client, image). Returns 0 or SIM_EINVAL. */
int fleet_world_check(const struct scenario *s, struct sim_diag *d);

/* The devices' MCUboot refuses image.file (checked with image.keys as MCUboot does,
 * mcuboot_image_check): true, and the verdict and MCUboot's reason in why. False without
 * keys, for a valid image, or when the scenario does not check (fleet_world_check says). */
bool fleet_world_image_refused(const struct scenario *s, char *why, size_t n);

/* Build the world of a loaded scenario on e (every device gets its own central, or host
 * over a UART, running the scenario's client, with that client's upstream serial settings,
 * fleet_serial_host_default) and start it. Returns 0 or a negative sim_err with a message. */
int fleet_world_from_scenario(const struct scenario *s, struct sim_engine *e, struct recorder *rec,
                              struct fleet_world **out, struct sim_diag *d);
/* The same, with every device answering the external client x (fleet_world_ext_set) over
 * `link`; the scenario's rollout and gateways are left out (the external clients are the
 * hosts), its faults apply. x NULL: fleet_world_from_scenario. */
int fleet_world_from_scenario_ext(const struct scenario *s, struct sim_engine *e,
                                  struct recorder *rec, const struct fleet_device_ext *x,
                                  enum fleet_device_ext_link link, struct fleet_world **out,
                                  struct sim_diag *d);

/* How a world from a scenario is laid out over processes and engines. */
struct fleet_world_layout {
    uint32_t part, n_parts; /* fleet_world_split: part `part` of n_parts (0 of 1: all) */
    uint32_t block_devices; /* fleet_world_blocks_set: 0 automatic, FLEET_WORLD_BLOCKS_OFF */
};
/* The same, with layout l (NULL: all of it, blocks chosen automatically). */
int fleet_world_from_scenario_layout(const struct scenario *s, struct sim_engine *e,
                                     struct recorder *rec, const struct fleet_world_layout *l,
                                     struct fleet_world **out, struct sim_diag *d);

#endif /* MODELS_FLEET_WORLD_H */
