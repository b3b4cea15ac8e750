/* models/fleet/world.c - devices on the engine, records to the recorder. */
#include "models/fleet/world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/fleet/world_int.h"
#include "sim/error.h"

void world_fail(struct fleet_world *w, int rc)
{
    if (w->err == 0 && rc != 0)
        w->err = rc;
    if (rc != 0)
        sim_engine_stop(w->run_e != NULL ? w->run_e : w->e);
}

struct sim_engine *world_dev_engine(const struct fleet_world *w, uint32_t dev)
{
    return w->blocks[w->timers[dev].block].e;
}

struct sim_engine *world_gw_engine(const struct fleet_world *w, uint32_t gw)
{
    return w->blocks[w->dp.gw_block != NULL ? w->dp.gw_block[gw] : 0].e;
}

/* ---- the device context --------------------------------------------------------------- */

/* Engine timers on demand (world_int.h, struct slot_timers). A timer given back may still
 * have its cancelled arming's entry queued; the engine drops that entry, or moves it to the
 * next arming of the same timer, whichever slot of whichever device takes it next
 * (sim/engine.c, invariants 3 and 4): every arming still runs at its own (time, seq), so
 * which engine timer a slot holds changes nothing in the order of events. */
static void timer_give_back(struct world_block *b, uint32_t *id)
{
    /* cap_free_timers >= every timer made (timer_take grows it first), so this fits */
    b->free_timers[b->n_free_timers++] = *id;
    *id = SIM_TIMER_NONE;
}

static int timer_take(struct world_block *b, uint32_t *id)
{
    if (b->n_free_timers > 0) {
        *id = b->free_timers[--b->n_free_timers];
        return 0;
    }
    if (b->n_timers_made == b->cap_free_timers) {
        uint32_t cap = b->cap_free_timers ? 2 * b->cap_free_timers : 64;
        uint32_t *f = realloc(b->free_timers, (size_t)cap * sizeof(*f));
        if (f == NULL)
            return SIM_ENOMEM;
        b->free_timers = f;
        b->cap_free_timers = cap;
    }
    int rc = sim_engine_timer_new(b->e, id);
    if (rc == 0)
        b->n_timers_made++;
    return rc;
}

static int w_arm(void *env, uint32_t dev, int slot, uint32_t gen, int64_t at)
{
    struct fleet_world *w = env;
    struct slot_timers *st = &w->timers[dev];
    struct world_block *b = &w->blocks[st->block];
    uint32_t *id = &st->id[slot];
    bool fresh = *id == SIM_TIMER_NONE;
    int rc = fresh ? timer_take(b, id) : 0;
    if (rc == 0)
        rc = sim_engine_timer_arm(b->e, *id, at, (uint16_t)w->kind, dev,
                                  ((uint64_t)(uint32_t)slot << 32) | gen);
    if (rc != 0) {
        if (fresh && *id != SIM_TIMER_NONE)
            timer_give_back(b, id);
        world_fail(w, rc);
    }
    return rc;
}

static void w_cancel(void *env, uint32_t dev, int slot)
{
    struct fleet_world *w = env;
    struct slot_timers *st = &w->timers[dev];
    struct world_block *b = &w->blocks[st->block];
    uint32_t *id = &st->id[slot];
    if (*id == SIM_TIMER_NONE)
        return;
    sim_engine_timer_cancel(b->e, *id);
    timer_give_back(b, id);
}

static void w_attempt(void *env, uint32_t dev, struct recorder_attempt *a)
{
    struct fleet_world *w = env;
    w->n_attempts++;
    a->device_id = dev;
    a->gateway_id = dispatch_gateway_of(w, dev);
    if (w->rec != NULL)
        world_fail(w, recorder_attempt_emit(w->rec, a));
    dispatch_attempt_ended(w, dev, a->end_ns);
}

static void w_chunk(void *env, uint32_t dev, const struct recorder_chunk *c)
{
    struct fleet_world *w = env;
    struct recorder_chunk k = *c;
    k.device_id = dev;
    if (w->rec != NULL)
        world_fail(w, recorder_chunk_emit(w->rec, &k));
}

static void w_swap(void *env, uint32_t dev, struct recorder_swap *s)
{
    struct fleet_world *w = env;
    s->device_id = dev;
    w->n_swaps++;
    if (w->rec != NULL)
        world_fail(w, recorder_swap_emit(w->rec, s));
}

static void w_lock(void *env, uint32_t dev, const struct recorder_lock *l)
{
    struct fleet_world *w = env;
    struct recorder_lock k = *l;
    k.device_id = dev;
    if (w->rec != NULL)
        world_fail(w, recorder_lock_emit(w->rec, &k));
}

static void w_outage(void *env, uint32_t dev, const struct recorder_outage *o)
{
    struct fleet_world *w = env;
    struct recorder_outage k = *o;
    k.device_id = dev;
    if (w->rec != NULL)
        world_fail(w, recorder_outage_emit(w->rec, &k));
}

static void on_timer(void *ctx, struct sim_engine *e, const struct sim_event *ev)
{
    struct fleet_world *w = ctx;
    (void)e;
    int slot = (int)(ev->arg >> 32);
    /* The engine disarmed the timer: the slot gives it back before the device may re-arm. */
    struct slot_timers *st = &w->timers[ev->target];
    uint32_t *id = &st->id[slot];
    if (*id == ev->timer)
        timer_give_back(&w->blocks[st->block], id);
    int rc = fleet_device_timer(w->devs[ev->target], slot, (uint32_t)ev->arg, ev->at);
    world_fail(w, rc);
}

/* ---- building ------------------------------------------------------------------------ */

struct fleet_world *fleet_world_new(struct sim_engine *e, struct recorder *rec, uint64_t seed)
{
    struct fleet_world *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->e = e;
    w->rec = rec;
    w->seed = seed;
    w->n_parts = 1;
    w->n_blocks = 1;
    w->blocks = calloc(1, sizeof(*w->blocks));
    if (w->blocks == NULL) {
        free(w);
        return NULL;
    }
    w->blocks[0].e = e;
    sim_diag_init(&w->diag);
    w->kind = sim_engine_kind_add(e, on_timer, w, "fleet-device");
    if (w->kind < 0) {
        free(w->blocks);
        free(w);
        return NULL;
    }
    w->spares = fleet_device_spares_new();
    if (w->spares == NULL) {
        free(w);
        return NULL;
    }
    w->cx = (struct fleet_device_ctx){w,      w_arm,  w_cancel, w_attempt, w_chunk,
                                      w_swap, w_lock, w_outage, w->spares, false};
    return w;
}

void fleet_world_free(struct fleet_world *w)
{
    if (w == NULL)
        return;
    dispatch_free(w);
    for (uint32_t i = 0; i < w->n_devs; i++)
        fleet_device_free(w->devs[i]);
    for (uint32_t g = 0; g < w->n_groups; g++) {
        flash_wear_free(w->groups[g].wear);
        free(w->groups[g].drawn);
        free(w->groups[g].dev_cfg);
    }
    for (uint32_t i = 0; i < w->n_images; i++)
        free(w->image_bytes[i]);
    mcuboot_slots_learner_fini(&w->learn);
    mcuboot_keyset_free(w->keys);
    free(w->groups);
    free(w->faults);
    free(w->devs);
    free(w->timers);
    for (uint32_t b = 0; b < w->n_blocks; b++) {
        free(w->blocks[b].free_timers);
        if (w->blocks[b].e != w->e)
            sim_engine_free(w->blocks[b].e);
    }
    free(w->blocks);
    free(w->dev_group);
    fleet_device_spares_free(w->spares);
    free(w);
}

static int image_read(void *env, uint32_t off, uint8_t *buf, size_t n)
{
    const struct mcuboot_slots_image *im = env;
    return mcuboot_image_bytes(&im->img, im->file, off, buf, n);
}

/* Room for one more image (before the groups), or SIM_ERANGE with a message. */
static int image_room(const struct fleet_world *w, struct sim_diag *d)
{
    if (w->n_images < FLEET_WORLD_MAX_IMAGES && w->n_groups == 0)
        return 0;
    sim_diag_add(d, "image: at most %d images, all added before the groups",
                 FLEET_WORLD_MAX_IMAGES);
    return SIM_ERANGE;
}

/* The image w->images[n_images] with its shared bytes (owned by w from here), for the
 * slots and the clients; returns its index. */
static uint32_t image_commit(struct fleet_world *w, uint8_t *bytes)
{
    struct mcuboot_slots_image *im = &w->images[w->n_images];
    w->image_bytes[w->n_images] = bytes;
    im->file = bytes;
    im->linked_slot = 0;
    struct client_dfu_image *ci = &w->client_images[w->n_images];
    ci->size = im->img.file_size;
    memcpy(ci->sha, im->img.file_sha, CLIENT_DFU_SHA_LEN);
    memcpy(ci->hash, im->img.hash, CLIENT_DFU_SHA_LEN);
    ci->env = im;
    ci->read = image_read;
    return w->n_images++;
}

int fleet_world_image_add(struct fleet_world *w, uint32_t total_size,
                          const struct mcuboot_image_version *v, uint32_t *index,
                          struct sim_diag *d)
{
    int rc = image_room(w, d);
    struct mcuboot_slots_image *im = &w->images[w->n_images];
    if (rc == 0)
        rc = mcuboot_image_synth(total_size, v, &im->img, d);
    if (rc != 0)
        return rc;
    /* Generate the shared bytes once: every chunk the clients read and every write the
     * slots compare would otherwise regenerate them (45 % of a run, bench/RESULTS.md). */
    uint8_t *bytes = malloc(im->img.file_size);
    if (bytes == NULL)
        return SIM_ENOMEM;
    (void)mcuboot_image_bytes(&im->img, NULL, 0, bytes, im->img.file_size);
    *index = image_commit(w, bytes);
    return 0;
}

int fleet_world_image_add_file(struct fleet_world *w, uint8_t *bytes, size_t len, const char *what,
                               uint32_t *index, struct sim_diag *d)
{
    int rc = image_room(w, d);
    if (rc == 0)
        rc = mcuboot_image_parse(bytes, len, what, &w->images[w->n_images].img, d);
    if (rc != 0) {
        free(bytes);
        return rc;
    }
    *index = image_commit(w, bytes);
    return 0;
}

/* The devices' MCUboot judges a learned image as it judged the scenario's files. */
static bool judge_learned(void *env, const struct mcuboot_slots_image *im, char *why, size_t cap)
{
    struct fleet_world *w = env;
    /* Without keys any intact image boots, except an encrypted one: a bootloader without
     * the private key has no MCUBOOT_ENC_IMAGES (boot_check_header_valid), as for the
     * scenario's files (setup.c image_verdict). */
    const uint32_t enc = MCUBOOT_IMAGE_F_ENCRYPTED_AES128 | MCUBOOT_IMAGE_F_ENCRYPTED_AES256;
    if (w->keys == NULL && (im->img.hdr.flags & enc) == 0)
        return true;
    struct mcuboot_img_result res;
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = mcuboot_image_check(im->file, im->img.file_size, &w->build, w->keys, &res, &d);
    if (rc == 0 && res.verdict == MCUBOOT_IMG_VALID)
        return true;
    snprintf(why, cap, "%s", rc == 0 ? res.reason : d.text);
    return false;
}

int fleet_world_image_refuse(struct fleet_world *w, uint32_t index, const char *why)
{
    return mcuboot_slots_learner_refuse(&w->learn, index, why);
}

void fleet_world_image_keys(struct fleet_world *w, struct mcuboot_keyset *keys,
                            const struct mcuboot_build *b)
{
    mcuboot_keyset_free(w->keys);
    w->keys = keys;
    w->build = *b;
    w->learn.judge = judge_learned;
    w->learn.env = w;
}

void fleet_world_image_link(struct fleet_world *w, uint32_t index, uint8_t slot)
{
    if (index < w->n_images)
        w->images[index].linked_slot = slot;
}

static int grow(struct fleet_world *w, uint32_t n)
{
    struct fleet_device **devs = realloc(w->devs, (size_t)n * sizeof(*devs));
    if (devs == NULL)
        return SIM_ENOMEM;
    w->devs = devs;
    struct slot_timers *t = realloc(w->timers, (size_t)n * sizeof(*t));
    if (t == NULL)
        return SIM_ENOMEM;
    w->timers = t;
    uint32_t *dg = realloc(w->dev_group, (size_t)n * sizeof(*dg));
    if (dg == NULL)
        return SIM_ENOMEM;
    w->dev_group = dg;
    return 0;
}

int fleet_world_group_add(struct fleet_world *w, const struct fleet_group_cfg *gc, uint32_t *first,
                          struct sim_diag *d)
{
    struct group *gs = realloc(w->groups, (size_t)(w->n_groups + 1) * sizeof(*gs));
    if (gs == NULL)
        return SIM_ENOMEM;
    w->groups = gs;
    struct group *g = &gs[w->n_groups];
    memset(g, 0, sizeof(*g));
    fleet_device_faults_default(&g->faults);
    g->cfg = *gc;
    struct flash_map map;
    int rc = flash_map_board(gc->board, &map);
    if (rc == 0)
        rc = mcuboot_slots_cfg_init(&g->slots, gc->mode, &map, w->images, w->n_images, d);
    if (rc != 0)
        return rc;
    if (w->n_groups == 0) { /* the scenario's images are all there: learning starts */
        w->learn.images = w->images;
        w->learn.n = w->n_images;
        w->learn.cap = MCUBOOT_SLOTS_MAX_IMAGES;
    }
    g->slots.learn = &w->learn;
    g->slots.erase_progressively = gc->erase_progressively;
    if (gc->boot != NULL) {
        if (gc->boot->hash_rate == 0 || gc->boot->sig_time < 0) {
            sim_diag_add(d, "group %s: hash_rate must be > 0 and sig_time >= 0", gc->name);
            return SIM_EINVAL;
        }
        mcuboot_slots_cfg_apply_timing(&g->slots, gc->boot);
    }
    if (gc->flash != NULL) {
        if (flash_chip_settings_check(gc->flash, gc->name, d) != 0)
            return SIM_EINVAL;
        for (int a = 0; a < MCUBOOT_SWAP_AREA_COUNT; a++)
            flash_chip_apply_settings(&g->slots.geom.chip[a], gc->flash);
    }
    g->cfg.boot = NULL; /* applied; the pointers need not outlive this call */
    g->cfg.flash = NULL;
    if (gc->dev.update_image >= w->n_images || gc->dev.factory_image >= w->n_images)
        return SIM_EINVAL;
    g->n_sectors = (uint32_t)g->slots.geom.n_sectors[0] + g->slots.geom.n_sectors[1] +
                   g->slots.geom.n_sectors[2];
    g->wear = flash_wear_new(gc->count, g->n_sectors);
    if (g->wear == NULL)
        return SIM_ENOMEM;
    w->n_groups++;
    /* The group's settings live in w->groups, which may move: devices point at a copy. */
    g->cfg.dev.client_image = &w->client_images[gc->dev.update_image];
    g->first = w->n_devs;
    if ((rc = grow(w, w->n_devs + gc->count)) != 0)
        return rc;
    for (uint32_t i = 0; i < gc->count; i++) {
        uint32_t id = w->n_devs;
        for (int s = 0; s < FLEET_T_COUNT; s++)
            w->timers[id].id[s] = SIM_TIMER_NONE; /* taken when armed (w_arm) */
        w->timers[id].block = 0;                  /* until fleet_world_start makes blocks */
        w->dev_group[id] = w->n_groups - 1;
        w->devs[id] = NULL;
        w->n_devs++;
    }
    *first = g->first;
    return 0;
}

/* The random-stream entity of device `index` of a group: FNV-1a over the group's name,
 * plus the index. Keyed by name, not by position, so adding, removing or reordering groups
 * leaves what the devices of the other groups draw unchanged (CONTRIBUTING.md rule 3). Two groups
 * collide only if their 64-bit hashes lie within a group size of each other. */
uint64_t world_entity(const char *group, uint32_t index)
{
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)group; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h + index;
}

/* ---- blocks (world.h "Blocks") ------------------------------------------------------- */

int fleet_world_blocks_set(struct fleet_world *w, uint32_t devices)
{
    if (w->n_devs > 0 && w->devs[0] != NULL)
        return SIM_EINVAL; /* started */
    w->block_devices = devices;
    return 0;
}

uint32_t fleet_world_n_blocks(const struct fleet_world *w)
{
    return w->n_blocks;
}

/* Whether partition p (world.h fleet_world_partition) is this part's. */
static bool partition_local(const struct fleet_world *w, uint32_t p)
{
    return p < w->dp.n_gw ? dispatch_gw_local(w, p) : dispatch_local(w, p - w->dp.n_gw);
}

/* After dispatch_assign, before any device or gateway exists: with a rollout epoch, deal
 * this part's partitions, in order, into blocks of at least `per` devices (the last may
 * have fewer; a partition is never cut), each with an engine of its own joined to w->e.
 * One block, or no epoch: the caller's engine alone, as without blocks. */
static int blocks_make(struct fleet_world *w)
{
    struct dispatch *dp = &w->dp;
    uint32_t per = w->block_devices == 0 ? FLEET_WORLD_BLOCK_DEVICES : w->block_devices;
    if (!dp->enabled || dp->cfg.epoch <= 0 || per == FLEET_WORLD_BLOCKS_OFF)
        return 0;
    uint32_t n_part = dp->n_gw + w->n_devs;
    uint32_t *block = calloc((size_t)n_part + 1, sizeof(*block)); /* per partition */
    if (block == NULL)
        return SIM_ENOMEM;
    for (uint32_t id = 0; id < w->n_devs; id++)
        if (dispatch_local(w, id))
            block[fleet_world_partition(w, id)]++; /* first its size */
    uint32_t n_blocks = 0, filled = 0;
    for (uint32_t p = 0; p < n_part; p++) {
        if (!partition_local(w, p))
            continue;
        if (filled >= per || n_blocks == 0) {
            n_blocks++;
            filled = 0;
        }
        filled += block[p];
        block[p] = n_blocks - 1; /* from here: its block */
    }
    int rc = 0;
    if (n_blocks > 1) {
        struct world_block *bs = calloc(n_blocks, sizeof(*bs));
        rc = bs == NULL ? SIM_ENOMEM : 0;
        for (uint32_t b = 0; b < n_blocks && rc == 0; b++) {
            bs[b].e = sim_engine_new(0);
            rc = bs[b].e == NULL ? SIM_ENOMEM : sim_engine_join(bs[b].e, w->e);
            if (rc == 0)
                rc = sim_engine_advance(bs[b].e, sim_engine_now(w->e));
        }
        if (rc == 0 && dp->n_gw > 0 &&
            (dp->gw_block = calloc(dp->n_gw, sizeof(*dp->gw_block))) == NULL)
            rc = SIM_ENOMEM;
        if (rc != 0) {
            for (uint32_t b = 0; bs != NULL && b < n_blocks; b++)
                sim_engine_free(bs[b].e);
            free(bs);
        } else {
            free(w->blocks); /* the caller's engine has no timers of the world's yet */
            w->blocks = bs;
            w->n_blocks = n_blocks;
            for (uint32_t id = 0; id < w->n_devs; id++)
                w->timers[id].block = block[fleet_world_partition(w, id)];
            for (uint32_t gw = 0; gw < dp->n_gw; gw++)
                dp->gw_block[gw] = block[gw];
        }
    }
    free(block);
    return rc;
}

int world_blocks_run(struct fleet_world *w, int64_t lim, enum sim_stop *stop, int64_t *next_at,
                     int64_t *now)
{
    bool run = lim >= sim_engine_now(w->e); /* else nothing is due before lim */
    *stop = SIM_STOP_EMPTY;
    *next_at = SIM_TIME_MAX;
    *now = sim_engine_now(w->e);
    for (uint32_t b = 0; b < w->n_blocks; b++) {
        struct sim_engine *e = w->blocks[b].e;
        if (run && sim_engine_next_at(e) <= lim) {
            w->run_e = e;
            int rc = sim_engine_run(e, lim, stop);
            w->run_e = NULL;
            if (rc != 0)
                return rc;
            if (*stop == SIM_STOP_REQUESTED || *stop == SIM_STOP_INTERRUPTED)
                return 0;
        }
        int64_t at = sim_engine_next_at(e);
        if (at == SIM_TIME_MAX)
            sim_engine_trim(e); /* an idle block keeps no queue arrays (sim/evq.h) */
        *next_at = at < *next_at ? at : *next_at;
        *now = sim_engine_now(e) > *now ? sim_engine_now(e) : *now;
    }
    /* one engine: LIMIT and now = lim while events are left (or when it could not run) */
    if (*next_at != SIM_TIME_MAX || !run) {
        *stop = SIM_STOP_LIMIT;
        *now = run ? lim : *now;
    }
    return 0;
}

int fleet_world_start(struct fleet_world *w)
{
    uint64_t *entity = malloc((size_t)w->n_devs * sizeof(*entity) + 1);
    if (entity == NULL)
        return SIM_ENOMEM;
    /* Groups are final now: bind each device to its group's settings. */
    for (uint32_t g = 0; g < w->n_groups; g++) {
        struct group *gr = &w->groups[g];
        gr->cfg.dev.slots = &gr->slots;
        gr->cfg.dev.mode = gr->cfg.mode;
        gr->cfg.dev.client_image = &w->client_images[gr->cfg.dev.update_image];
        if (dispatch_enabled(w))
            gr->cfg.dev.start_ns = -1; /* the rollout starts each client */
        if (gr->n_drawn > 0 && gr->dev_cfg == NULL &&
            (gr->dev_cfg = calloc(gr->cfg.count + 1, sizeof(*gr->dev_cfg))) == NULL) {
            free(entity);
            return SIM_ENOMEM;
        }
    }
    for (uint32_t id = 0; id < w->n_devs; id++) {
        const struct group *g = &w->groups[w->dev_group[id]];
        entity[id] = world_entity(g->cfg.name ? g->cfg.name : "", id - g->first);
    }
    /* Who serves whom, hence the partitions and which of them this part runs, and in
     * which blocks. */
    int rc = dispatch_assign(w, entity);
    if (rc == 0)
        rc = blocks_make(w);
    for (uint32_t id = 0; id < w->n_devs && rc == 0; id++) {
        struct group *g = &w->groups[w->dev_group[id]];
        uint32_t index = id - g->first; /* in the group: its stream key and its wear row */
        if (w->devs[id] != NULL || !dispatch_local(w, id))
            continue; /* another part builds and runs it */
        const struct fleet_device_cfg *cfg = &g->cfg.dev;
        if (g->dev_cfg != NULL) {
            if ((rc = world_draw_cfg(w, g, index, entity[id], &g->dev_cfg[index], &w->diag)) != 0)
                break;
            cfg = &g->dev_cfg[index];
        }
        w->devs[id] =
            fleet_device_new(id, entity[id], cfg, &w->cx, w->seed, g->wear, index, &w->diag);
        if (w->devs[id] == NULL)
            rc = SIM_EINVAL;
        if (w->devs[id] != NULL && w->has_ext)
            rc = fleet_device_ext_set(w->devs[id], &w->ext, w->ext_link);
        uint32_t bits = w->devs[id] != NULL && rc == 0 ? world_faults_of(w, id, entity[id]) : 0;
        if (bits != 0)
            rc = fleet_device_faults_set(w->devs[id], &g->faults, bits, sim_engine_now(w->e));
    }
    if (rc == 0)
        rc = dispatch_start(w, entity);
    free(entity);
    int64_t now = sim_engine_now(w->e);
    for (uint32_t id = 0; id < w->n_devs && rc == 0; id++)
        if (w->devs[id] != NULL)
            rc = fleet_device_power_on(w->devs[id], now);
    return rc != 0 ? rc : w->err;
}

static const char *const area_names[MCUBOOT_SWAP_AREA_COUNT] = {"primary", "secondary", "scratch"};

/* Per area of device id: one device_wear row (sums, most-erased sector) and, at `chunks`,
 * one flash_wear row per sector that was touched. */
static int wear_rows(struct fleet_world *w, uint32_t id)
{
    struct group *g = &w->groups[w->dev_group[id]];
    uint32_t dev = id - g->first;
    uint32_t sector = 0;
    int rc = 0;
    for (int a = 0; a < MCUBOOT_SWAP_AREA_COUNT && rc == 0; a++) {
        struct recorder_device_wear sum = {id, area_names[a], 0, 0, 0};
        for (uint32_t k = 0; k < g->slots.geom.n_sectors[a] && rc == 0; k++, sector++) {
            struct flash_wear_count c;
            if (flash_wear_get(g->wear, dev, sector, &c) != 0 || (c.erases == 0 && c.writes == 0))
                continue;
            sum.erases += c.erases;
            sum.writes += c.writes;
            sum.max_erases = c.erases > sum.max_erases ? c.erases : sum.max_erases;
            struct recorder_wear r = {id, area_names[a], k, c.erases, c.writes};
            rc = recorder_wear_emit(w->rec, &r);
        }
        if (rc == 0 && g->slots.geom.n_sectors[a] > 0)
            rc = recorder_device_wear_emit(w->rec, &sum);
    }
    return rc;
}

int fleet_world_finish(struct fleet_world *w)
{
    if (w->rec == NULL)
        return 0;
    for (uint32_t id = 0; id < w->n_devs; id++) {
        const struct fleet_device *dv = w->devs[id];
        if (dv == NULL)
            continue; /* another part's (fleet_world_split) */
        const struct fleet_device_stats *st = fleet_device_stats_get(dv);
        struct recorder_device r = {
            .device_id = id,
            .group_id = w->dev_group[id],
            .gateway_id = dispatch_gateway_of(w, id),
            .state = fleet_device_outcome(dv),
            .attempts = st->n_attempts,
            .first_start_ns = st->first_start_ns,
            .updated_ns = st->updated_ns,
            .bytes_sent = st->bytes_sent,
            .downtime_ns = st->downtime_ns,
            .refusal = st->refusal,
        };
        fleet_device_finish(w->devs[id]);
        int rc = recorder_device_emit(w->rec, &r);
        if (rc == 0)
            rc = wear_rows(w, id);
        if (rc != 0)
            return rc;
    }
    return dispatch_finish(w);
}

int fleet_world_ext_set(struct fleet_world *w, const struct fleet_device_ext *x,
                        enum fleet_device_ext_link link)
{
    if (x == NULL || x->tx == NULL || w->dp.enabled || w->n_devs == 0 || w->devs[0] != NULL)
        return SIM_EINVAL;
    w->ext = *x;
    w->ext_link = link;
    w->has_ext = true;
    return 0;
}

const struct sim_diag *fleet_world_diag(const struct fleet_world *w)
{
    return &w->diag;
}

int fleet_world_error(const struct fleet_world *w)
{
    return w->err;
}

void fleet_world_parking_set(struct fleet_world *w, bool on)
{
    fleet_device_spares_parking_set(w->spares, on);
}

void fleet_world_attempt_log_set(struct fleet_world *w, bool on)
{
    w->cx.no_attempt_log = !on;
}

struct fleet_device_spares_stats fleet_world_spares_stats(const struct fleet_world *w)
{
    return fleet_device_spares_stats_get(w->spares);
}

uint32_t fleet_world_n_devices(const struct fleet_world *w)
{
    return w->n_devs;
}

struct fleet_device *fleet_world_device(struct fleet_world *w, uint32_t id)
{
    return id < w->n_devs ? w->devs[id] : NULL;
}

void fleet_world_stats(const struct fleet_world *w, struct fleet_world_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->devices = w->n_devs;
    out->attempts = w->n_attempts;
    for (uint32_t id = 0; id < w->n_devs; id++) {
        if (w->devs[id] == NULL)
            continue; /* another part's */
        int64_t up = fleet_device_stats_get(w->devs[id])->updated_ns;
        if (up != RECORDER_NONE && up > out->last_updated_ns)
            out->last_updated_ns = up;
        const char *o = fleet_device_outcome(w->devs[id]);
        if (strcmp(o, "updated") == 0)
            out->updated++;
        else if (strcmp(o, "reverted") == 0)
            out->reverted++;
        else if (strcmp(o, "failed") == 0)
            out->failed++;
        else if (strcmp(o, "dead") == 0)
            out->dead++;
        else
            out->pending++;
    }
    out->swaps = w->n_swaps;
    if (w->dp.ro != NULL && w->dp.rollout_given) { /* gateways alone run a one-wave default */
        struct fleet_rollout_stats rs;
        fleet_rollout_stats_get(w->dp.ro, &rs);
        out->rollout_state = fleet_rollout_state_name(fleet_rollout_state_get(w->dp.ro));
        out->waves_opened = rs.waves_opened;
        out->started = rs.notified;
        out->rollout_errors = rs.errors;
    }
    out->gateways = w->dp.gw != NULL ? w->dp.n_gw : 0;
    for (uint32_t i = 0; i < out->gateways; i++) {
        if (!dispatch_gw_local(w, i))
            continue;
        const struct fleet_gateway_stats *gs = fleet_gateway_stats_get(&w->dp.gw[i]);
        out->gateway_sessions += gs->sessions;
        if (gs->max_active > out->gateway_max_active)
            out->gateway_max_active = gs->max_active;
    }
}
