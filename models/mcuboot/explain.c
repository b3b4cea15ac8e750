/* models/mcuboot/explain.c - per-mode cost of one upgrade on a board (see explain.h). */
#include "models/mcuboot/explain.h"

#include "models/mcuboot/compat.h"
#include "models/mcuboot/swap.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

/* Trailer fields without a status area (magic, image_ok, copy_done, swap_info, swap_size):
 * what direct-xip with revert needs at the end of a slot (imgtool --pad). */
#define XIP_TRAILER_INFO 48u

const char *mcuboot_explain_mode_name(enum mcuboot_explain_mode m)
{
    static const char *const names[MCUBOOT_EXPLAIN_MODE_COUNT] = {
        "overwrite-only", "swap-scratch",      "swap-move", "swap-offset",
        "direct-xip",     "direct-xip-revert", "ram-load"};
    return (unsigned)m < MCUBOOT_EXPLAIN_MODE_COUNT ? names[m] : "?";
}

const char *mcuboot_explain_mode_doc(enum mcuboot_explain_mode m)
{
    /* The Kconfig choice of each mode: mcu-tools/mcuboot boot/zephyr/Kconfig, "MCUboot
     * mode" (BOOT_UPGRADE_ONLY, BOOT_SWAP_USING_SCRATCH, BOOT_SWAP_USING_MOVE,
     * BOOT_SWAP_USING_OFFSET, BOOT_DIRECT_XIP with BOOT_DIRECT_XIP_REVERT, BOOT_RAM_LOAD). */
    static const char *const docs[MCUBOOT_EXPLAIN_MODE_COUNT] = {
        "CONFIG_BOOT_UPGRADE_ONLY: the secondary is copied over the primary; no revert",
        "CONFIG_BOOT_SWAP_USING_SCRATCH: slots swapped sector by sector through a scratch area",
        "CONFIG_BOOT_SWAP_USING_MOVE: the primary moves up one sector, then sectors swap",
        "CONFIG_BOOT_SWAP_USING_OFFSET: the upload starts one sector in; each sector moves once",
        "CONFIG_BOOT_DIRECT_XIP: the newest valid slot runs in place; no copy, no revert",
        "CONFIG_BOOT_DIRECT_XIP_REVERT: direct-xip, and an unconfirmed image is given up",
        "CONFIG_BOOT_RAM_LOAD: the newest valid slot is copied to RAM and runs there"};
    return (unsigned)m < MCUBOOT_EXPLAIN_MODE_COUNT ? docs[m] : "?";
}

void mcuboot_explain_params_default(struct mcuboot_explain_params *p)
{
    p->hash_rate = 1e6;
    p->t_sig = MCUBOOT_EXPLAIN_T_SIG_DEFAULT;
    p->validate_primary = true;
    p->corner = FLASH_CHIP_MAX;
}

int64_t mcuboot_explain_validation_ns(double hash_rate, int64_t t_sig, uint64_t bytes,
                                      uint32_t n_images)
{
    int64_t sig = t_sig * (int64_t)n_images;
    if (!(hash_rate > 0))
        return sig;
    return (int64_t)((double)bytes * 1e9 / hash_rate + 0.5) + sig;
}

int64_t mcuboot_explain_validate_ns(const struct mcuboot_explain_params *p, uint64_t size)
{
    return mcuboot_explain_validation_ns(p->hash_rate, p->t_sig, size, 1);
}

/* Erase cycles of the most-worn sector: the upload's erase of the secondary (image sectors
 * from `first`, plus the trailer sectors) and every erase of the plan. */
static int worst_sector(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_plan *p,
                        uint32_t first, uint32_t upload_sectors, uint32_t *out)
{
    uint32_t n[MCUBOOT_SWAP_AREA_COUNT];
    uint32_t *cnt[MCUBOOT_SWAP_AREA_COUNT] = {NULL, NULL, NULL};
    int rc = 0;

    for (int a = 0; a < MCUBOOT_SWAP_AREA_COUNT; a++) {
        n[a] = g->n_sectors[a];
        cnt[a] = calloc(n[a] ? n[a] : 1, sizeof(uint32_t));
        if (cnt[a] == NULL) {
            rc = SIM_ENOMEM;
            goto out;
        }
    }
    uint32_t *sec = cnt[MCUBOOT_SWAP_SECONDARY];
    for (uint32_t k = first; k < first + upload_sectors && k < n[MCUBOOT_SWAP_SECONDARY]; k++)
        sec[k]++;
    for (uint32_t k = n[MCUBOOT_SWAP_SECONDARY] - g->trailer_sectors; k < n[MCUBOOT_SWAP_SECONDARY];
         k++)
        sec[k]++;
    for (size_t i = 0; p != NULL && i < p->n_steps; i++) {
        const struct mcuboot_swap_step *s = &p->steps[i];
        if (s->op == MCUBOOT_SWAP_OP_ERASE) {
            for (uint32_t k = 0; k < s->n; k++)
                cnt[s->area][s->sector + k]++;
        } else if (s->op == MCUBOOT_SWAP_OP_ERASE_TRAILER) {
            uint32_t t = s->area == MCUBOOT_SWAP_SCRATCH_AREA ? n[s->area] : g->trailer_sectors;
            for (uint32_t k = n[s->area] - t; k < n[s->area]; k++)
                cnt[s->area][k]++;
        }
    }
    *out = 0;
    for (int a = 0; a < MCUBOOT_SWAP_AREA_COUNT; a++)
        for (uint32_t k = 0; k < n[a]; k++)
            *out = cnt[a][k] > *out ? cnt[a][k] : *out;
out:
    for (int a = 0; a < MCUBOOT_SWAP_AREA_COUNT; a++)
        free(cnt[a]);
    return rc;
}

static int explain_copying(const struct mcuboot_swap_geom *g, uint32_t size,
                           const struct mcuboot_explain_params *p, struct mcuboot_explain_row *row)
{
    struct mcuboot_swap_plan plan, rev;
    struct mcuboot_swap_cost c, rc_cost;
    int rc;

    row->max_image = mcuboot_swap_max_image(g);
    if (size == 0 || size > row->max_image)
        return 0; /* does not fit: data, not an error */
    rc = mcuboot_swap_plan_build(&plan, g, MCUBOOT_TRAILER_SWAP_TEST, size, NULL);
    if (rc != 0)
        return rc;
    mcuboot_swap_plan_cost(g, &plan, &c);
    row->fits = true;
    for (int a = 0; a < MCUBOOT_SWAP_AREA_COUNT; a++)
        row->erases += c.erases[a];
    row->erases += c.trailer_erases;
    row->sector_copies = c.copies;
    row->trailer_writes = c.status_writes + c.trailer_writes;
    row->bytes_moved = c.bytes_copied;
    row->swap_ns = c.ns;
    row->downtime_ns = mcuboot_explain_validate_ns(p, size) + c.ns +
                       (p->validate_primary ? mcuboot_explain_validate_ns(p, size) : 0);
    uint32_t first = g->mode == MCUBOOT_SWAP_OFFSET;
    uint32_t upload = (size + g->sector_size - 1) / g->sector_size;
    rc = worst_sector(g, &plan, first, upload, &row->max_sector_erases);
    mcuboot_swap_plan_fini(&plan);
    if (rc != 0 || g->mode == MCUBOOT_SWAP_OVERWRITE)
        return rc;
    rc = mcuboot_swap_plan_build(&rev, g, MCUBOOT_TRAILER_SWAP_REVERT, size, NULL);
    if (rc != 0)
        return rc;
    mcuboot_swap_plan_cost(g, &rev, &rc_cost);
    row->revert_ns = rc_cost.ns;
    mcuboot_swap_plan_fini(&rev);
    return 0;
}

static void explain_in_place(enum mcuboot_explain_mode mode, const struct mcuboot_swap_geom *g,
                             uint32_t size, const struct mcuboot_explain_params *p,
                             struct mcuboot_explain_row *row)
{
    const struct flash_chip *sec = &g->chip[MCUBOOT_SWAP_SECONDARY];
    uint32_t slot = g->n_sectors[MCUBOOT_SWAP_PRIMARY] < g->n_sectors[MCUBOOT_SWAP_SECONDARY]
                        ? g->n_sectors[MCUBOOT_SWAP_PRIMARY]
                        : g->n_sectors[MCUBOOT_SWAP_SECONDARY];
    slot *= g->sector_size;
    row->max_image = mode == MCUBOOT_EXPLAIN_DIRECT_XIP_REVERT ? slot - XIP_TRAILER_INFO : slot;
    if (size == 0 || size > row->max_image)
        return;
    row->fits = true;
    row->downtime_ns = mcuboot_explain_validate_ns(p, size);
    /* The upload erased the image sectors and the trailer once. */
    row->max_sector_erases = 1;
    if (mode == MCUBOOT_EXPLAIN_DIRECT_XIP_REVERT) {
        /* First boot writes copy_done; a revert erases the whole slot (boot_select_or_erase). */
        row->trailer_writes = 1;
        row->downtime_ns += flash_chip_write_ns(sec, g->trailer.write_sz);
        row->revert_ns = flash_chip_erase_ns(sec, g->n_sectors[MCUBOOT_SWAP_SECONDARY]);
    }
    if (mode == MCUBOOT_EXPLAIN_RAM_LOAD) {
        /* Copied to RAM and validated there at every boot (mcu-tools/mcuboot: docs/design.md,
         * RAM loading; boot/bootutil/src/loader.c). */
        row->bytes_moved = size;
        row->downtime_ns += flash_chip_read_ns(sec, size);
    }
}

/* Why an image does not fit a mode that MCUboot accepts: MCUboot's app_max_size() (and, in
 * swap-move, swap_run()'s refusal) when the image exceeds it, else the model's own limit. */
static void why_not(struct mcuboot_explain_row *row, const struct mcuboot_compat *mc,
                    const struct mcuboot_swap_geom *g, uint32_t size)
{
    const char *mode = mcuboot_explain_mode_name((enum mcuboot_explain_mode)row->mode);
    if (row->mode > MCUBOOT_EXPLAIN_OFFSET) {
        snprintf(row->why, sizeof(row->why),
                 "%s runs the image from its slot: at most %u bytes (the smaller slot%s)", mode,
                 row->max_image,
                 row->mode == MCUBOOT_EXPLAIN_DIRECT_XIP_REVERT ? " less the trailer fields" : "");
    } else if (size > mc->max_image && row->mode == MCUBOOT_EXPLAIN_MOVE) {
        snprintf(row->why, sizeof(row->why),
                 "MCUboot allows at most %u bytes (app_max_size() in swap_move.c: of %u and %u "
                 "sectors of %u bytes, %u of them hold the %u-byte trailer and the primary keeps "
                 "one free to move into); swap_run() refuses a larger image: \"Not enough free "
                 "space to run swap upgrade\"",
                 mc->max_image, g->n_sectors[MCUBOOT_SWAP_PRIMARY],
                 g->n_sectors[MCUBOOT_SWAP_SECONDARY], mc->sector, g->trailer_sectors, mc->trailer);
    } else if (size > mc->max_image && row->mode == MCUBOOT_EXPLAIN_OFFSET) {
        snprintf(row->why, sizeof(row->why),
                 "MCUboot allows at most %u bytes (app_max_size() in swap_offset.c: of %u and "
                 "%u sectors of %u bytes, %u of them hold the %u-byte trailer and the secondary's "
                 "first is the offset)",
                 mc->max_image, g->n_sectors[MCUBOOT_SWAP_PRIMARY],
                 g->n_sectors[MCUBOOT_SWAP_SECONDARY], mc->sector, g->trailer_sectors, mc->trailer);
    } else if (size > mc->max_image) {
        snprintf(row->why, sizeof(row->why),
                 "MCUboot allows at most %u bytes (%s: the smaller slot less the %u-byte "
                 "trailer)",
                 mc->max_image, mode, mc->trailer);
    } else {
        snprintf(row->why, sizeof(row->why),
                 "MCUboot allows %u bytes, but the model's %s plan stops below the %u "
                 "trailer sector(s) of %u bytes: at most %u (models/mcuboot/README.md)",
                 mc->max_image, mode, g->trailer_sectors, g->sector_size, row->max_image);
    }
}

int mcuboot_explain(const struct flash_map *m, uint32_t image_size,
                    const struct mcuboot_explain_params *p,
                    struct mcuboot_explain_row rows[MCUBOOT_EXPLAIN_MODE_COUNT], struct sim_diag *d)
{
    struct flash_chip cp, cs, cx;
    struct mcuboot_swap_geom g;
    int rc;

    if (flash_chip_profile(m->primary.chip, &cp) != 0 ||
        flash_chip_profile(m->secondary.chip, &cs) != 0) {
        sim_diag_add(d, "%s: slot on an unknown chip", m->board ? m->board : "flash map");
        return SIM_EINVAL;
    }
    if (flash_chip_profile(m->scratch.chip, &cx) != 0)
        cx = cp;
    cp.corner = cs.corner = cx.corner = p->corner;
    memset(rows, 0, sizeof(*rows) * MCUBOOT_EXPLAIN_MODE_COUNT);
    for (int mode = 0; mode < MCUBOOT_EXPLAIN_MODE_COUNT; mode++) {
        struct mcuboot_compat mc;
        rows[mode].mode = (uint8_t)mode;
        rc = mcuboot_compat_check(m, (enum mcuboot_explain_mode)mode, &mc, d);
        if (rc != 0)
            return rc;
        if (!mc.compatible) {
            rows[mode].refused = true;
            snprintf(rows[mode].why, sizeof(rows[mode].why), "%s", mc.why);
            continue;
        }
        /* In-place modes use the overwrite geometry for sizes and chips only. */
        enum mcuboot_swap_mode sm =
            mode <= MCUBOOT_EXPLAIN_OFFSET ? (enum mcuboot_swap_mode)mode : MCUBOOT_SWAP_OVERWRITE;
        struct sim_diag gd;
        sim_diag_init(&gd);
        rc = mcuboot_swap_geom_init(&g, sm, &cp, m->primary.size, &cs, m->secondary.size, &cx,
                                    m->scratch.size, &gd);
        if (rc == SIM_ERANGE) { /* MCUboot accepts the slots; the engine cannot plan them */
            rows[mode].max_image = mc.max_image;
            snprintf(rows[mode].why, sizeof(rows[mode].why),
                     "MCUboot accepts these slots (at most %u bytes), but the model cannot plan "
                     "them: %.*s",
                     mc.max_image, (int)strcspn(gd.text, "\n"), gd.text);
            continue;
        }
        if (rc != 0) {
            sim_diag_add(d, "%s", gd.text);
            return rc;
        }
        if (mode <= MCUBOOT_EXPLAIN_OFFSET)
            rc = explain_copying(&g, image_size, p, &rows[mode]);
        else
            explain_in_place((enum mcuboot_explain_mode)mode, &g, image_size, p, &rows[mode]);
        if (rc != 0) {
            sim_diag_add(d, "%s: %s: cannot plan the upgrade (%s)", m->board,
                         mcuboot_explain_mode_name((enum mcuboot_explain_mode)mode),
                         sim_err_str(rc));
            return rc;
        }
        if (!rows[mode].fits && image_size > 0)
            why_not(&rows[mode], &mc, &g, image_size);
    }
    return 0;
}
