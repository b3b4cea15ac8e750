/* models/fleet/world_int.h - the world's insides, shared by world.c (devices, timers,
 * records) and dispatch.c (rollout and gateways: who starts which DFU when). Not an API. */
#ifndef MODELS_FLEET_WORLD_INT_H
#define MODELS_FLEET_WORLD_INT_H

#include "models/fleet/gateway.h"
#include "models/fleet/rollout.h"
#include "models/fleet/world.h"

/* A parameter a group's devices draw each for themselves (fleet_world_group_dist). */
struct drawn {
    enum fleet_population_param param;
    struct fleet_population_dist dist;
};

struct group {
    struct fleet_group_cfg cfg;
    struct mcuboot_slots_cfg slots;
    struct flash_wear *wear;
    uint32_t first, n_sectors;
    struct drawn *drawn; /* NULL: every device uses cfg.dev */
    uint32_t n_drawn;
    struct fleet_device_cfg *dev_cfg;  /* with drawn parameters: one per device */
    struct fleet_device_faults faults; /* every fault entry's parameters for this group */
};

/* One entry of the faults list (fleet_world_fault_add). */
struct fault_entry {
    uint64_t groups; /* bit g: group g */
    double share;
    uint32_t bits; /* FLEET_FAULTS_* */
};

/* The engine timer of each slot of a device while the slot is armed, else SIM_TIMER_NONE.
 * Engine timers are shared by all devices: a slot takes one from the world's free list
 * when armed and gives it back when it fires or is cancelled (world.c, w_arm), so the
 * engine's table holds the timers armed at once, not FLEET_T_COUNT per device. */
struct slot_timers {
    uint32_t id[FLEET_T_COUNT];
    uint32_t block; /* the device's block (world.h "Blocks"), whose engine the ids are of */
};

/* One engine the world runs on, and the timers made on it that no slot holds (w_arm takes
 * the last): the caller's engine, or each block's (world.h "Blocks"). */
struct world_block {
    struct sim_engine *e; /* owned by the world when it runs in blocks */
    uint32_t *free_timers;
    uint32_t n_free_timers, cap_free_timers, n_timers_made;
};

/* Where a device stands with dispatch (dispatch.c). */
enum dispatch_status {
    DISPATCH_IDLE,    /* not asked for, or finished, or cancelled */
    DISPATCH_WAITING, /* the rollout started it; waiting for a gateway's link */
    DISPATCH_ACTIVE   /* its client runs */
};

/* One kind of gateway as added (fleet_world_gateways_add); its gateways are
 * dispatch.gw[first .. first + count). */
struct gw_kind {
    struct fleet_world_gateways cfg;
    uint32_t first;
};

struct dispatch {
    bool enabled;       /* a rollout drives the clients (fleet_world_rollout_set, or gateways) */
    bool rollout_given; /* fleet_world_rollout_set was called (else the default rollout) */
    struct fleet_rollout_cfg cfg;
    int64_t start_ns;
    struct fleet_rollout *ro;
    struct fleet_rollout_ctx cx;
    uint32_t *order; /* rollout index -> device id */
    uint32_t *rank;  /* device id -> rollout index */
    uint8_t *status; /* enum dispatch_status, per device */
    uint8_t *run;    /* per device: bumped when a client run ends or is stopped */
    int kind, check_kind;
    uint32_t timer[FLEET_ROLLOUT_TIMER_COUNT];
    uint32_t gen[FLEET_ROLLOUT_TIMER_COUNT];
    /* Gateways (none: every device has its own central) */
    struct gw_kind *kinds;
    uint32_t n_kinds;
    struct fleet_gateway *gw;
    uint32_t n_gw;
    uint32_t *gw_timer; /* engine timer per gateway */
    uint32_t *gw_of;    /* per device: its gateway, FLEET_GATEWAY_NONE */
    struct fleet_gateway_ctx gw_cx;
    int gw_kind;
    uint32_t gw_gen; /* last timer generation handed out */
    /* With a rollout epoch (rollout.h "Epochs", fleet_world_run): the controller is driven
     * at epoch times, not by engine events. */
    int64_t epoch;                   /* cfg.epoch; 0: engine events drive the controller */
    bool started;                    /* START was delivered */
    bool rollback_due;               /* ctx.rollback() was called: answered in the tick */
    uint32_t acted;                  /* starts and cancels in the current tick */
    struct fleet_world_result *pend; /* results since the last epoch time, arrival order */
    uint32_t n_pend, cap_pend;
    /* In a world split in parts (fleet_world_split): per device and per gateway, whether
     * this part runs it; NULL in a world of one part (it runs everything). */
    uint8_t *local, *gw_local;
    uint32_t *gw_block; /* per gateway: its block; NULL without blocks (world.h "Blocks") */
};

struct fleet_world {
    struct sim_engine *e;
    struct recorder *rec;
    uint64_t seed;
    int kind;
    int err;
    struct fleet_device_ctx cx;
    struct fleet_device_spares *spares; /* owned: the devices' session parts (device.h) */
    /* The scenario's images (n_images <= FLEET_WORLD_MAX_IMAGES), then those the devices
     * learn from uploads (learn.n in all; models/mcuboot/slots.h). */
    struct mcuboot_slots_image images[MCUBOOT_SLOTS_MAX_IMAGES];
    struct client_dfu_image client_images[FLEET_WORLD_MAX_IMAGES];
    uint8_t *image_bytes[FLEET_WORLD_MAX_IMAGES]; /* owned: each image's file, generated once */
    uint32_t n_images;
    struct mcuboot_slots_learner learn;
    struct mcuboot_keyset *keys; /* owned: image.keys, to judge learned images; or NULL */
    struct mcuboot_build build;  /* the devices' MCUboot build that judges them */
    struct group *groups;
    uint32_t n_groups;
    struct fleet_device **devs;
    struct slot_timers *timers;
    /* The engines (world.h "Blocks"): blocks[0] is the caller's engine e when the world
     * runs on one; else each is a block of e. run_e: the block that runs now, or NULL. */
    struct world_block *blocks;
    uint32_t n_blocks, block_devices;
    struct sim_engine *run_e;
    uint32_t *dev_group;
    uint32_t n_devs;
    uint32_t n_attempts;
    uint64_t n_swaps;
    struct dispatch dp;
    struct fault_entry *faults;
    uint32_t n_faults;
    struct sim_diag diag; /* why fleet_world_start failed */
    /* fleet_world_ext_set: every device has this external client instead of its own */
    struct fleet_device_ext ext;
    enum fleet_device_ext_link ext_link;
    bool has_ext;
    uint32_t part, n_parts; /* fleet_world_split: this part of n_parts (0 of 1) */
};

/* world.c: the random-stream entity of the index-th member of a named set (a group's
 * device, a gateway kind's gateway). */
uint64_t world_entity(const char *name, uint32_t index);
/* world.c: keep the first error and stop the engine (rc 0: nothing). */
void world_fail(struct fleet_world *w, int rc);
/* world.c: the engine of device dev's block, of gateway gw's. */
struct sim_engine *world_dev_engine(const struct fleet_world *w, uint32_t dev);
struct sim_engine *world_gw_engine(const struct fleet_world *w, uint32_t gw);
/* world.c: run every block's events up to lim (fleet_world_run with blocks): *stop as one
 * engine's run would say it (REQUESTED or INTERRUPTED as soon as a block stops), *next_at
 * the earliest event left, *now the clock one engine would show. Returns 0 or the first
 * sim_engine_run error. */
int world_blocks_run(struct fleet_world *w, int64_t lim, enum sim_stop *stop, int64_t *next_at,
                     int64_t *now);

/* draws.c: device `index` of group g's settings with its drawn parameters (0, or
 * SIM_ERANGE with the device named in d); the fault kinds that strike device id. */
int world_draw_cfg(const struct fleet_world *w, const struct group *g, uint32_t index,
                   uint64_t entity, struct fleet_device_cfg *c, struct sim_diag *d);
uint32_t world_faults_of(const struct fleet_world *w, uint32_t id, uint64_t entity);

/* dispatch.c */
bool dispatch_enabled(const struct fleet_world *w);
/* After the devices exist, before they power on: entity[id] is each device's stream key. */
int dispatch_start(struct fleet_world *w, const uint64_t *entity);
/* A client emitted an attempt record (from inside a device step). */
void dispatch_attempt_ended(struct fleet_world *w, uint32_t dev, int64_t now);
void dispatch_free(struct fleet_world *w);
/* Before the devices are built: each device's gateway and partition, and which of them
 * this part runs (fleet_world_split). */
int dispatch_assign(struct fleet_world *w, const uint64_t *entity);
/* Whether this part runs device dev, gateway gw (always, in a world of one part). */
bool dispatch_local(const struct fleet_world *w, uint32_t dev);
bool dispatch_gw_local(const struct fleet_world *w, uint32_t gw);
/* The gateway of device dev, or RECORDER_NONE. */
int64_t dispatch_gateway_of(const struct fleet_world *w, uint32_t dev);
/* Gateway rows, at the end. */
int dispatch_finish(struct fleet_world *w);

#endif /* MODELS_FLEET_WORLD_INT_H */
