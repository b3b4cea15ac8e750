/* models/mcuboot/compat.c - MCUboot's slot compatibility checks and image size limit per
 * mode on a board's flash map (see compat.h). */
#include "models/mcuboot/compat.h"

#include "models/mcuboot/trailer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sector sizes of an area, in order; caller frees *out. */
static int sectors_of(const struct flash_map_area *a, const struct flash_chip *c, uint32_t **out,
                      uint32_t *n, struct sim_diag *d)
{
    uint32_t cap = 0, k = 0;
    for (uint64_t o = a->off; o < (uint64_t)a->off + a->size; cap++) {
        uint32_t s = flash_chip_sector_at(c, (uint32_t)o, NULL);
        if (s == 0) {
            sim_diag_add(d, "%s: area 0x%x+0x%x lies outside the %s", c->name, a->off, a->size,
                         c->name);
            return SIM_EINVAL;
        }
        o += s;
    }
    uint32_t *v = malloc((cap ? cap : 1) * sizeof(*v));
    if (v == NULL)
        return SIM_ENOMEM;
    for (uint64_t o = a->off; k < cap; k++) {
        v[k] = flash_chip_sector_at(c, (uint32_t)o, NULL);
        o += v[k];
    }
    *out = v;
    *n = cap;
    return 0;
}

static uint32_t sub0(uint64_t a, uint64_t b)
{
    return a > b ? (uint32_t)(a - b) : 0;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* swap-move (swap_move.c) and swap-offset (swap_offset.c): boot_slots_compatible(). */
static bool move_offset_compatible(bool move, const uint32_t *p, uint32_t np, const uint32_t *s,
                                   uint32_t ns, char *why, size_t n)
{
    const char *file = move ? "swap_move.c" : "swap_offset.c";
    const char *mode = move ? "swap-move" : "swap-offset";
    bool counts = move ? (np == ns || np == ns + 1) : (np == ns || np + 1 == ns);
    if (!counts) {
        snprintf(why, n,
                 "MCUboot refuses the slots: \"Cannot upgrade: not a compatible amount of "
                 "sectors\" (boot_slots_compatible() in %s): the primary has %u sectors and "
                 "the secondary %u; %s needs equal counts or one more in the %s",
                 file, np, ns, mode, move ? "primary" : "secondary");
        return false;
    }
    uint32_t same = move ? ns : ns - 1;
    for (uint32_t i = 0; i < same; i++) {
        if (p[i] != s[i]) {
            snprintf(why, n,
                     "MCUboot refuses the slots: \"Cannot upgrade: not same sector layout\" "
                     "(boot_slots_compatible() in %s): sector %u is %u bytes in the primary "
                     "and %u in the secondary",
                     file, i, p[i], s[i]);
            return false;
        }
    }
    if (move && np > ns && ns > 0 && p[ns] != p[ns - 1]) {
        snprintf(why, n,
                 "MCUboot refuses the slots: \"Cannot upgrade: not same sector layout\" "
                 "(boot_slots_compatible() in swap_move.c): the primary's extra sector is %u "
                 "bytes, its others %u",
                 p[ns], p[ns - 1]);
        return false;
    }
    return true;
}

/* swap-scratch and overwrite-only (swap_scratch.c): boot_slots_compatible(). */
static bool scratch_compatible(bool scratch, uint32_t scratch_sz, const uint32_t *p, uint32_t np,
                               const uint32_t *s, uint32_t ns, char *why, size_t n)
{
    uint64_t sz0 = 0, sz1 = 0, tot0 = 0, tot1 = 0;
    uint32_t i = 0, j = 0;
    int smaller = 0;
    while (i < np || j < ns) {
        if (sz0 == sz1 && i < np && j < ns) {
            sz0 += p[i++];
            sz1 += s[j++];
        } else if (sz0 < sz1 && i < np) {
            sz0 += p[i++];
            if (smaller == 2)
                goto non_compatible;
            smaller = 1;
        } else if (sz1 < sz0 && j < ns) {
            sz1 += s[j++];
            if (smaller == 1)
                goto non_compatible;
            smaller = 2;
        } else {
            break; /* one slot ended before the other: see below */
        }
        if (!scratch && (i == np || j == ns) && sz0 != sz1)
            break; /* overwrite-only copies what fits; slot sizes may differ */
        if (sz0 == sz1) {
            tot0 += sz0;
            tot1 += sz1;
            if (scratch && sz0 > scratch_sz) {
                snprintf(why, n,
                         "MCUboot refuses the slots: \"Cannot upgrade: not all sectors fit "
                         "inside scratch\" (boot_slots_compatible() in swap_scratch.c): %llu "
                         "bytes of sectors against a %u-byte scratch area",
                         (unsigned long long)sz0, scratch_sz);
                return false;
            }
            smaller = 0;
            sz0 = sz1 = 0;
        }
    }
    if (scratch && (i != np || j != ns || tot0 != tot1 || sz0 != sz1)) {
        snprintf(why, n,
                 "MCUboot refuses the slots: \"Cannot upgrade: slots are not compatible\" "
                 "(boot_slots_compatible() in swap_scratch.c): the primary (%u sectors) and "
                 "the secondary (%u) do not end on a common sector boundary with equal sizes",
                 np, ns);
        return false;
    }
    return true;
non_compatible:
    snprintf(why, n,
             "MCUboot refuses the slots: \"Cannot upgrade: slots have non-compatible sectors\" "
             "(boot_slots_compatible() in swap_scratch.c): the sector sizes of one slot are not "
             "whole multiples of the other's");
    return false;
}

int mcuboot_compat_check(const struct flash_map *m, enum mcuboot_explain_mode mode,
                         struct mcuboot_compat *out, struct sim_diag *d)
{
    struct flash_chip cp, cs;
    uint32_t *p = NULL, *s = NULL, np = 0, ns = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (flash_chip_profile(m->primary.chip, &cp) != 0 ||
        flash_chip_profile(m->secondary.chip, &cs) != 0) {
        sim_diag_add(d, "%s: slot on an unknown chip", m->board ? m->board : "flash map");
        return SIM_EINVAL;
    }
    rc = sectors_of(&m->primary, &cp, &p, &np, d);
    if (rc == 0)
        rc = sectors_of(&m->secondary, &cs, &s, &ns, d);
    if (rc != 0)
        goto out;
    out->sector = np ? p[0] : 0;
    uint32_t slot = min_u32(m->primary.size, m->secondary.size);
    if (mode > MCUBOOT_EXPLAIN_OFFSET) {
        out->compatible = true;
        out->max_image = slot;
        goto out;
    }
    /* The trailer as the swap engine sizes it (models/mcuboot/swap.c): BOOT_WRITE_SZ is the
     * primary's write block, BOOT_MAX_ALIGN at least 8. */
    static const enum mcuboot_trailer_kind kinds[] = {MCUBOOT_TRAILER_SCRATCH,
                                                      MCUBOOT_TRAILER_SCRATCH, MCUBOOT_TRAILER_MOVE,
                                                      MCUBOOT_TRAILER_OFFSET};
    struct mcuboot_trailer_geom tg;
    uint32_t w = cp.write_block, align = w > 8 ? w : 8;
    rc = mcuboot_trailer_geom_init(&tg, kinds[mode], m->primary.size, w, align, np ? np : 1, d);
    if (rc != 0)
        goto out;
    out->trailer = mcuboot_trailer_size(&tg);
    uint64_t sec = out->sector;
    uint64_t tsec = sec ? ((uint64_t)out->trailer + sec - 1) / sec * sec : 0;
    switch (mode) {
    case MCUBOOT_EXPLAIN_MOVE:
    case MCUBOOT_EXPLAIN_OFFSET: {
        bool move = mode == MCUBOOT_EXPLAIN_MOVE;
        out->compatible = move_offset_compatible(move, p, np, s, ns, out->why, sizeof(out->why));
        if (out->compatible)
            out->max_image = move ? min_u32(sub0(np * sec, tsec + sec), sub0(ns * sec, tsec))
                                  : min_u32(sub0(np * sec, tsec), sub0(ns * sec, tsec + sec));
        break;
    }
    default: {
        bool scratch = mode == MCUBOOT_EXPLAIN_SCRATCH;
        out->compatible =
            scratch_compatible(scratch, m->scratch.size, p, np, s, ns, out->why, sizeof(out->why));
        if (out->compatible)
            out->max_image = sub0(slot, out->trailer);
        break;
    }
    }
out:
    free(p);
    free(s);
    return rc;
}
