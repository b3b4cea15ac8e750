/* models/mcuboot/swap.c - per-mode step tables, the executor and the boot of the copying
 * upgrade modes. Each builder below transcribes one MCUboot algorithm; the step order and
 * the status records follow the cited functions (mcu-tools/mcuboot main, 2d4bacc). */
#include "models/mcuboot/swap.h"

#include <stdlib.h>
#include <string.h>

static uint32_t div_up(uint64_t x, uint32_t y)
{
    return (uint32_t)((x + y - 1) / y);
}

const char *mcuboot_swap_mode_name(enum mcuboot_swap_mode m)
{
    static const char *const names[MCUBOOT_SWAP_MODE_COUNT] = {"overwrite-only", "swap-scratch",
                                                               "swap-move", "swap-offset"};
    return (unsigned)m < MCUBOOT_SWAP_MODE_COUNT ? names[m] : "?";
}

/* ---- Geometry ---- */

static int area_sectors(const struct flash_chip *c, uint32_t size, uint32_t sector,
                        const char *what, uint16_t *out, struct sim_diag *d)
{
    if (c->sector_size != sector) {
        sim_diag_add(d,
                     "%s: %s sectors of %u bytes differ from the primary's %u; non-uniform "
                     "sectors are not modelled",
                     what, c->name, c->sector_size, sector);
        return SIM_ERANGE;
    }
    if (size % sector != 0 || size / sector > MCUBOOT_SWAP_MAX_SECTORS) {
        sim_diag_add(d, "%s: %u bytes is not a whole number of sectors (or more than %u)", what,
                     size, MCUBOOT_SWAP_MAX_SECTORS);
        return SIM_EINVAL;
    }
    *out = (uint16_t)(size / sector);
    return 0;
}

int mcuboot_swap_geom_init(struct mcuboot_swap_geom *g, enum mcuboot_swap_mode mode,
                           const struct flash_chip *primary, uint32_t primary_size,
                           const struct flash_chip *secondary, uint32_t secondary_size,
                           const struct flash_chip *scratch, uint32_t scratch_size,
                           struct sim_diag *d)
{
    struct mcuboot_swap_geom t;
    static const enum mcuboot_trailer_kind kinds[MCUBOOT_SWAP_MODE_COUNT] = {
        MCUBOOT_TRAILER_SCRATCH, MCUBOOT_TRAILER_SCRATCH, MCUBOOT_TRAILER_MOVE,
        MCUBOOT_TRAILER_OFFSET};
    int rc;

    if ((unsigned)mode >= MCUBOOT_SWAP_MODE_COUNT || primary == NULL || secondary == NULL) {
        sim_diag_add(d, "swap: unknown mode or missing slot chip");
        return SIM_EINVAL;
    }
    memset(&t, 0, sizeof(t));
    t.mode = (uint8_t)mode;
    t.sector_size = primary->sector_size;
    t.chip[MCUBOOT_SWAP_PRIMARY] = *primary;
    t.chip[MCUBOOT_SWAP_SECONDARY] = *secondary;
    rc = area_sectors(primary, primary_size, t.sector_size, "primary slot",
                      &t.n_sectors[MCUBOOT_SWAP_PRIMARY], d);
    if (rc == 0)
        rc = area_sectors(secondary, secondary_size, t.sector_size, "secondary slot",
                          &t.n_sectors[MCUBOOT_SWAP_SECONDARY], d);
    if (rc == 0 && mode == MCUBOOT_SWAP_SCRATCH) {
        if (scratch == NULL || scratch_size == 0) {
            sim_diag_add(d, "swap-scratch needs a scratch area of at least one sector");
            return SIM_EINVAL;
        }
        t.chip[MCUBOOT_SWAP_SCRATCH_AREA] = *scratch;
        rc = area_sectors(scratch, scratch_size, t.sector_size, "scratch area",
                          &t.n_sectors[MCUBOOT_SWAP_SCRATCH_AREA], d);
    }
    if (rc != 0)
        return rc;
    /* BOOT_MAX_ALIGN is at least 8 and at least the write block (nRF54L RRAM: 16). */
    uint32_t w = primary->write_block;
    uint32_t align = w > 8 ? w : 8;
    rc = mcuboot_trailer_geom_init(&t.trailer, kinds[mode], primary_size, w, align,
                                   t.n_sectors[MCUBOOT_SWAP_PRIMARY], d);
    if (rc != 0)
        return rc;
    t.trailer_sectors = (uint16_t)div_up(mcuboot_trailer_size(&t.trailer), t.sector_size);
    *g = t;
    return 0;
}

/* ---- Plans ---- */

struct builder {
    struct mcuboot_swap_plan *p;
    int rc;
};

static void emit(struct builder *b, struct mcuboot_swap_step s)
{
    if (b->rc != 0)
        return;
    if (b->p->n_steps == b->p->cap) {
        size_t cap = b->p->cap ? 2 * b->p->cap : 64;
        struct mcuboot_swap_step *n = realloc(b->p->steps, cap * sizeof(*n));
        if (n == NULL) {
            b->rc = SIM_ENOMEM;
            return;
        }
        b->p->steps = n;
        b->p->cap = cap;
    }
    b->p->steps[b->p->n_steps++] = s;
}

static void erase(struct builder *b, uint8_t area, uint32_t sector, uint32_t n)
{
    emit(b, (struct mcuboot_swap_step){.op = MCUBOOT_SWAP_OP_ERASE,
                                       .area = area,
                                       .sector = (uint16_t)sector,
                                       .n = (uint16_t)n});
}

static void copy(struct builder *b, uint8_t src_area, uint32_t src, uint8_t area, uint32_t dst,
                 uint32_t n)
{
    emit(b, (struct mcuboot_swap_step){.op = MCUBOOT_SWAP_OP_COPY,
                                       .src_area = src_area,
                                       .src_sector = (uint16_t)src,
                                       .area = area,
                                       .sector = (uint16_t)dst,
                                       .n = (uint16_t)n});
}

static void status(struct builder *b, uint8_t op, uint32_t idx, uint8_t state)
{
    emit(b, (struct mcuboot_swap_step){.op = MCUBOOT_SWAP_OP_STATUS,
                                       .area = MCUBOOT_SWAP_PRIMARY,
                                       .status_op = op,
                                       .idx = (uint16_t)idx,
                                       .state = state});
}

static void simple(struct builder *b, uint8_t op, uint8_t area)
{
    emit(b, (struct mcuboot_swap_step){.op = op, .area = area});
}

/* Short names of the areas for the step tables. */
#define P MCUBOOT_SWAP_PRIMARY
#define S MCUBOOT_SWAP_SECONDARY
#define X MCUBOOT_SWAP_SCRATCH_AREA

/* swap_erase_trailer_sectors(primary), swap_status_init(primary), then the secondary trailer
 * erase: the first move step of swap_move.c boot_move_sector_up() and the start of
 * swap_offset.c. first_resume is the secondary erase: a status area without records resumes
 * there (boot_status_is_reset() with the primary as status source). */
static void prologue_primary_status(struct builder *b)
{
    if (b->p->type == MCUBOOT_TRAILER_SWAP_REVERT) {
        simple(b, MCUBOOT_SWAP_OP_ERASE_TRAILER, S); /* fixup_revert() */
        simple(b, MCUBOOT_SWAP_OP_FIXUP_REVERT, S);
    }
    simple(b, MCUBOOT_SWAP_OP_ERASE_TRAILER, P);
    simple(b, MCUBOOT_SWAP_OP_STATUS_INIT, P);
    b->p->first_resume = b->p->n_steps;
    simple(b, MCUBOOT_SWAP_OP_ERASE_TRAILER, S);
}

/* boot_perform_update() in loader.c: image_ok for REVERT (PERM wrote it in
 * swap_status_init() from the secondary's image_ok), then copy_done. */
static void finalise(struct builder *b)
{
    if (b->p->type == MCUBOOT_TRAILER_SWAP_REVERT)
        simple(b, MCUBOOT_SWAP_OP_IMAGE_OK, P);
    simple(b, MCUBOOT_SWAP_OP_COPY_DONE, P);
}

/* boot_copy_image() with MCUBOOT_OVERWRITE_ONLY_FAST (loader.c): erase primary sectors until
 * the image is covered, erase the primary trailer, copy, write the magic, then scramble the
 * secondary's first sector (header) and last sector (trailer). No status: first_resume 0. */
static void build_overwrite(struct builder *b, const struct mcuboot_swap_geom *g, uint32_t L)
{
    for (uint32_t s = 0; s < L; s++)
        erase(b, P, s, 1);
    simple(b, MCUBOOT_SWAP_OP_ERASE_TRAILER, P);
    for (uint32_t s = 0; s < L; s++)
        copy(b, S, s, P, s, 1);
    simple(b, MCUBOOT_SWAP_OP_MAGIC, P);
    erase(b, S, 0, 1);
    erase(b, S, g->n_sectors[S] - 1u, 1);
}

/* boot_swap_sectors() in swap_scratch.c, regions from the highest down, as many sectors per
 * region as the scratch holds. Region 1 first writes a temporary trailer to the scratch,
 * initialises the primary trailer, erases the scratch again, and erases the secondary
 * trailer after its copy. MCUboot redoes this prologue when no record was written. */
static void build_scratch(struct builder *b, const struct mcuboot_swap_geom *g, uint32_t L)
{
    uint32_t k = g->n_sectors[X];
    uint32_t idx = 1;
    for (uint32_t hi = L; hi > 0; idx++) {
        uint32_t lo = hi > k ? hi - k : 0, n = hi - lo;
        erase(b, X, 0, k);
        if (idx == 1) {
            simple(b, MCUBOOT_SWAP_OP_STATUS_INIT, X);
            simple(b, MCUBOOT_SWAP_OP_ERASE_TRAILER, P);
            simple(b, MCUBOOT_SWAP_OP_STATUS_INIT, P);
            erase(b, X, 0, k);
        }
        copy(b, S, lo, X, 0, n);
        status(b, MCUBOOT_TRAILER_OP_SWAP, idx, 1);
        erase(b, S, lo, n);
        copy(b, P, lo, S, lo, n);
        if (idx == 1)
            simple(b, MCUBOOT_SWAP_OP_ERASE_TRAILER, S);
        status(b, MCUBOOT_TRAILER_OP_SWAP, idx, 2);
        erase(b, P, lo, n);
        copy(b, X, 0, P, lo, n);
        status(b, MCUBOOT_TRAILER_OP_SWAP, idx, 3);
        hi = lo;
    }
    b->p->first_resume = 0;
    finalise(b);
}

/* swap_run() in swap_move.c: move primary sectors L-1..0 up by one (boot_move_sector_up),
 * then for each sector: secondary -> primary, moved primary -> secondary
 * (boot_swap_sectors). */
static void build_move(struct builder *b, const struct mcuboot_swap_geom *g, uint32_t L)
{
    (void)g;
    prologue_primary_status(b);
    for (uint32_t i = L; i >= 1; i--) {
        erase(b, P, i, 1);
        copy(b, P, i - 1, P, i, 1);
        status(b, MCUBOOT_TRAILER_OP_MOVE, L - i + 1, 1);
    }
    for (uint32_t i = 1; i <= L; i++) {
        erase(b, P, i - 1, 1);
        copy(b, S, i - 1, P, i - 1, 1);
        status(b, MCUBOOT_TRAILER_OP_SWAP, i, 1);
        erase(b, S, i - 1, 1);
        copy(b, P, i, S, i - 1, 1);
        status(b, MCUBOOT_TRAILER_OP_SWAP, i, 2);
    }
    finalise(b);
}

/* swap_offset.c: the update sits at secondary sector 1. Upgrade: for i = 0..L-1, old
 * primary[i] -> secondary[i], new secondary[i+1] -> primary[i]. Revert (swap_run(),
 * boot_swap_sectors_revert()): the mirror loop from the top, then the stale secondary sector 0
 * is scrambled (upstream's trailer scramble after it is left out, see swap.h). */
static void build_offset(struct builder *b, const struct mcuboot_swap_geom *g, uint32_t L)
{
    (void)g;
    prologue_primary_status(b);
    if (b->p->type != MCUBOOT_TRAILER_SWAP_REVERT) {
        for (uint32_t i = 0; i < L; i++) {
            erase(b, S, i, 1);
            copy(b, P, i, S, i, 1);
            status(b, MCUBOOT_TRAILER_OP_SWAP, i + 1, 1);
            erase(b, P, i, 1);
            copy(b, S, i + 1, P, i, 1);
            status(b, MCUBOOT_TRAILER_OP_SWAP, i + 1, 2);
        }
    } else {
        for (uint32_t i = L; i >= 1; i--) {
            erase(b, S, i, 1);
            copy(b, P, i - 1, S, i, 1);
            status(b, MCUBOOT_TRAILER_OP_SWAP, L - i + 1, 1);
            erase(b, P, i - 1, 1);
            copy(b, S, i - 1, P, i - 1, 1);
            status(b, MCUBOOT_TRAILER_OP_SWAP, L - i + 1, 2);
        }
        erase(b, S, 0, 1);
    }
    finalise(b);
}

typedef void (*build_fn)(struct builder *b, const struct mcuboot_swap_geom *g, uint32_t L);

/* The per-mode step tables, and the room each mode needs (sectors of L it may use). */
static const struct {
    build_fn build;
    uint8_t extra_primary;   /* sectors the primary needs beyond L (swap-move: 1) */
    uint8_t extra_secondary; /* sectors the secondary needs beyond L (swap-offset: 1) */
} modes[MCUBOOT_SWAP_MODE_COUNT] = {
    [MCUBOOT_SWAP_OVERWRITE] = {build_overwrite, 0, 0},
    [MCUBOOT_SWAP_SCRATCH] = {build_scratch, 0, 0},
    [MCUBOOT_SWAP_MOVE] = {build_move, 1, 0},
    [MCUBOOT_SWAP_OFFSET] = {build_offset, 0, 1},
};

/* Sectors of an area a mode may fill: below the trailer sectors, less its extra sector. */
static uint32_t room(const struct mcuboot_swap_geom *g, int area)
{
    uint32_t extra = area == P ? modes[g->mode].extra_primary : modes[g->mode].extra_secondary;
    uint32_t used = (uint32_t)g->trailer_sectors + extra;
    return g->n_sectors[area] > used ? g->n_sectors[area] - used : 0;
}

uint32_t mcuboot_swap_max_image(const struct mcuboot_swap_geom *g)
{
    uint32_t rp = room(g, P), rs = room(g, S);
    return (rp < rs ? rp : rs) * g->sector_size;
}

void mcuboot_swap_plan_fini(struct mcuboot_swap_plan *p)
{
    free(p->steps);
    memset(p, 0, sizeof(*p));
}

int mcuboot_swap_plan_build(struct mcuboot_swap_plan *p, const struct mcuboot_swap_geom *g,
                            enum mcuboot_trailer_swap type, uint32_t swap_size, struct sim_diag *d)
{
    const char *mode = mcuboot_swap_mode_name((enum mcuboot_swap_mode)g->mode);

    memset(p, 0, sizeof(*p));
    if (type != MCUBOOT_TRAILER_SWAP_TEST && type != MCUBOOT_TRAILER_SWAP_PERM &&
        type != MCUBOOT_TRAILER_SWAP_REVERT) {
        sim_diag_add(d, "%s: swap type %s performs no copy", mode,
                     mcuboot_trailer_swap_type_name(type));
        return SIM_EINVAL;
    }
    if (g->mode == MCUBOOT_SWAP_OVERWRITE && type == MCUBOOT_TRAILER_SWAP_REVERT) {
        sim_diag_add(d, "overwrite-only has no revert");
        return SIM_EINVAL;
    }
    uint32_t L = div_up(swap_size, g->sector_size);
    uint32_t room_p = room(g, P), room_s = room(g, S);
    if (swap_size == 0 || L > room_p || L > room_s) {
        sim_diag_add(d,
                     "%s: a %u-byte image needs %u sectors of %u bytes but the mode leaves %u "
                     "(primary) and %u (secondary) below the %u trailer sector(s)",
                     mode, swap_size, L, g->sector_size, room_p, room_s, g->trailer_sectors);
        return SIM_ERANGE;
    }
    struct builder b = {p, 0};
    p->type = (uint8_t)type;
    p->swap_size = swap_size;
    p->n_img = (uint16_t)L;
    modes[g->mode].build(&b, g, L);
    if (b.rc != 0) {
        mcuboot_swap_plan_fini(p);
        return b.rc;
    }
    return 0;
}

/* ---- Timing and cost ---- */

/* Bytes written by swap_status_init(): swap_info, image_ok (PERM), swap_size, the TLV sizes
 * (swap-offset) and the magic, each a separate write (boot_write_trailer()). */
static uint32_t init_writes(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_plan *p,
                            uint32_t len[5])
{
    uint32_t w = g->trailer.write_sz, n = 0;
    len[n++] = w;
    if (p->type == MCUBOOT_TRAILER_SWAP_PERM)
        len[n++] = w;
    len[n++] = w > 4 ? w : 4;
    if (g->mode == MCUBOOT_SWAP_OFFSET)
        len[n++] = w > 4 ? w : 4;
    len[n++] = g->trailer.max_align > 16 ? g->trailer.max_align : 16;
    return n;
}

static uint32_t trailer_erase_sectors(const struct mcuboot_swap_geom *g, uint8_t area)
{
    return area == X ? g->n_sectors[X] : g->trailer_sectors;
}

int64_t mcuboot_swap_step_ns(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_plan *p,
                             size_t i)
{
    const struct mcuboot_swap_step *s = &p->steps[i];
    const struct flash_chip *c = &g->chip[s->area];
    uint64_t bytes = (uint64_t)s->n * g->sector_size;
    uint32_t len[5];
    int64_t t = 0;

    switch ((enum mcuboot_swap_op)s->op) {
    case MCUBOOT_SWAP_OP_ERASE:
        return flash_chip_erase_ns(c, s->n);
    case MCUBOOT_SWAP_OP_COPY:
        return flash_chip_read_ns(&g->chip[s->src_area], bytes) + flash_chip_write_ns(c, bytes);
    case MCUBOOT_SWAP_OP_ERASE_TRAILER:
        return flash_chip_erase_ns(c, trailer_erase_sectors(g, s->area));
    case MCUBOOT_SWAP_OP_STATUS_INIT:
        for (uint32_t k = 0, n = init_writes(g, p, len); k < n; k++)
            t += flash_chip_write_ns(c, len[k]);
        return t;
    case MCUBOOT_SWAP_OP_MAGIC:
        return flash_chip_write_ns(c, 16);
    case MCUBOOT_SWAP_OP_FIXUP_REVERT:
        return 2 * flash_chip_write_ns(c, g->trailer.write_sz > 4 ? g->trailer.write_sz : 4) +
               flash_chip_write_ns(c, 16);
    case MCUBOOT_SWAP_OP_STATUS:
    case MCUBOOT_SWAP_OP_IMAGE_OK:
    case MCUBOOT_SWAP_OP_COPY_DONE:
        return flash_chip_write_ns(c, g->trailer.write_sz);
    }
    return 0;
}

static void add_cost(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_plan *p, size_t i,
                     struct mcuboot_swap_cost *c)
{
    const struct mcuboot_swap_step *s = &p->steps[i];
    uint32_t len[5];
    switch ((enum mcuboot_swap_op)s->op) {
    case MCUBOOT_SWAP_OP_ERASE:
        c->erases[s->area] += s->n;
        break;
    case MCUBOOT_SWAP_OP_COPY:
        c->copies += s->n;
        c->bytes_copied += (uint64_t)s->n * g->sector_size;
        break;
    case MCUBOOT_SWAP_OP_ERASE_TRAILER:
        c->trailer_erases += trailer_erase_sectors(g, s->area);
        break;
    case MCUBOOT_SWAP_OP_STATUS_INIT:
        c->trailer_writes += init_writes(g, p, len);
        break;
    case MCUBOOT_SWAP_OP_STATUS:
        c->status_writes++;
        break;
    case MCUBOOT_SWAP_OP_FIXUP_REVERT:
        c->trailer_writes += 3;
        break;
    case MCUBOOT_SWAP_OP_MAGIC:
    case MCUBOOT_SWAP_OP_IMAGE_OK:
    case MCUBOOT_SWAP_OP_COPY_DONE:
        c->trailer_writes++;
        break;
    }
    c->ns += mcuboot_swap_step_ns(g, p, i);
}

void mcuboot_swap_plan_cost(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_plan *p,
                            struct mcuboot_swap_cost *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < p->n_steps; i++)
        add_cost(g, p, i, out);
}

/* ---- Executor ---- */

static bool is_trailer_sector(const struct mcuboot_swap_geom *g, uint8_t area, uint32_t s)
{
    if (area == X)
        return s + 1 == g->n_sectors[X]; /* the scratch trailer sits in its last sector */
    return s + g->trailer_sectors >= g->n_sectors[area];
}

/* A sector erase (or a cut erase or write) also changes the trailer it holds. */
static bool trailer_erased(const struct mcuboot_trailer *t)
{
    struct mcuboot_trailer e;
    mcuboot_trailer_erase(&e);
    return t->magic == e.magic && t->image_ok == e.image_ok && t->copy_done == e.copy_done &&
           t->swap_info == e.swap_info && t->swap_size == e.swap_size && t->status_idx == 0 &&
           t->status_moves == 0 && t->tlv_size_primary == e.tlv_size_primary &&
           t->tlv_size_secondary == e.tlv_size_secondary;
}

/* Set a sector's contents; a sector erase (or a cut erase or write) also changes the trailer
 * it holds. A cut erase of a sector that is already erased leaves it erased (erasing only
 * sets bits), any other cut operation leaves garbage. */
static void touch_sector(const struct mcuboot_swap_geom *g, struct mcuboot_swap_flash *f,
                         uint8_t area, uint32_t s, mcuboot_swap_tag_t tag, bool erase_op)
{
    bool trailer = is_trailer_sector(g, area, s);
    if (tag == MCUBOOT_SWAP_GARBAGE && erase_op && f->sector[area][s] == MCUBOOT_SWAP_ERASED &&
        (!trailer || trailer_erased(&f->trailer[area])))
        return;
    f->sector[area][s] = tag;
    if (!trailer)
        return;
    mcuboot_trailer_erase(&f->trailer[area]);
    if (tag == MCUBOOT_SWAP_GARBAGE) {
        f->trailer[area].magic = MCUBOOT_TRAILER_MAGIC_BAD;
        f->trailer[area].image_ok = 0;
        f->trailer[area].copy_done = 0;
        f->trailer[area].swap_info = 0;
    }
}

static int exec_trailer(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_plan *p,
                        const struct mcuboot_swap_step *s, struct mcuboot_swap_flash *f)
{
    struct mcuboot_trailer *t = &f->trailer[s->area];
    int rc = 0;

    switch ((enum mcuboot_swap_op)s->op) {
    case MCUBOOT_SWAP_OP_STATUS_INIT:
        /* swap_status_init() in swap_misc.c: swap_info, image_ok when the secondary's is set
         * (PERM), swap_size, magic last. The TLV sizes are not modelled (0). The offsets
         * of the writes do not matter here (the scratch trailer has its own), only the
         * fields. */
        rc = mcuboot_trailer_write_swap_info(&g->trailer, t, p->type, 0, NULL);
        if (rc == 0 && p->type == MCUBOOT_TRAILER_SWAP_PERM)
            rc = mcuboot_trailer_write_image_ok(&g->trailer, t, NULL);
        if (rc == 0)
            rc = mcuboot_trailer_write_swap_size(&g->trailer, t, p->swap_size, NULL);
        if (rc == 0 && g->mode == MCUBOOT_SWAP_OFFSET)
            rc = mcuboot_trailer_write_tlv_sizes(&g->trailer, t, 0, 0, NULL);
        if (rc == 0)
            rc = mcuboot_trailer_write_magic(&g->trailer, t, NULL);
        break;
    case MCUBOOT_SWAP_OP_STATUS:
        rc = mcuboot_trailer_write_status(&g->trailer, t, (enum mcuboot_trailer_op)s->status_op,
                                          s->idx, s->state, NULL);
        break;
    case MCUBOOT_SWAP_OP_MAGIC:
        rc = mcuboot_trailer_write_magic(&g->trailer, t, NULL);
        break;
    case MCUBOOT_SWAP_OP_IMAGE_OK:
        /* swap_set_image_ok() writes only an unset flag. */
        if (t->image_ok == MCUBOOT_TRAILER_ERASED_U8)
            rc = mcuboot_trailer_write_image_ok(&g->trailer, t, NULL);
        break;
    case MCUBOOT_SWAP_OP_COPY_DONE:
        rc = mcuboot_trailer_write_copy_done(&g->trailer, t, NULL);
        break;
    case MCUBOOT_SWAP_OP_FIXUP_REVERT:
        if (g->mode == MCUBOOT_SWAP_OFFSET)
            rc = mcuboot_trailer_write_copy_done(&g->trailer, t, NULL);
        else
            rc = mcuboot_trailer_write_image_ok(&g->trailer, t, NULL);
        if (rc == 0)
            rc = mcuboot_trailer_write_swap_size(&g->trailer, t, p->swap_size, NULL);
        if (rc == 0)
            rc = mcuboot_trailer_write_magic(&g->trailer, t, NULL);
        break;
    default:
        break;
    }
    return rc == 0 ? 0 : SIM_EINTERNAL;
}

/* Charge a step to the wear table, if any: erases per sector erased, one write per sector
 * programmed (copies), one write on the area's last sector for trailer and status writes. */
static int charge_wear(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_step *s,
                       struct mcuboot_swap_flash *f)
{
    if (f->wear == NULL)
        return 0;
    uint32_t base = f->wear_base[s->area];
    uint32_t last = g->n_sectors[s->area] ? g->n_sectors[s->area] - 1u : 0;
    switch ((enum mcuboot_swap_op)s->op) {
    case MCUBOOT_SWAP_OP_ERASE:
        return flash_wear_erase(f->wear, f->wear_dev, base + s->sector, s->n);
    case MCUBOOT_SWAP_OP_COPY:
        return flash_wear_write(f->wear, f->wear_dev, base + s->sector, s->n);
    case MCUBOOT_SWAP_OP_ERASE_TRAILER: {
        uint32_t n = trailer_erase_sectors(g, s->area);
        return flash_wear_erase(f->wear, f->wear_dev, base + g->n_sectors[s->area] - n, n);
    }
    default:
        return flash_wear_write(f->wear, f->wear_dev, base + last, 1);
    }
}

int mcuboot_swap_exec(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_plan *p,
                      size_t i, struct mcuboot_swap_flash *f, bool cut)
{
    const struct mcuboot_swap_step *s = &p->steps[i];
    int rc = charge_wear(g, s, f);
    if (rc != 0)
        return rc;

    switch ((enum mcuboot_swap_op)s->op) {
    case MCUBOOT_SWAP_OP_ERASE:
        for (uint32_t k = 0; k < s->n; k++)
            touch_sector(g, f, s->area, s->sector + k,
                         cut ? MCUBOOT_SWAP_GARBAGE : MCUBOOT_SWAP_ERASED, true);
        return 0;
    case MCUBOOT_SWAP_OP_COPY:
        for (uint32_t k = 0; k < s->n; k++)
            touch_sector(g, f, s->area, s->sector + k,
                         cut ? MCUBOOT_SWAP_GARBAGE : f->sector[s->src_area][s->src_sector + k],
                         false);
        return 0;
    case MCUBOOT_SWAP_OP_ERASE_TRAILER: {
        uint32_t n = trailer_erase_sectors(g, s->area);
        for (uint32_t k = g->n_sectors[s->area] - n; k < g->n_sectors[s->area]; k++)
            touch_sector(g, f, s->area, k, cut ? MCUBOOT_SWAP_GARBAGE : MCUBOOT_SWAP_ERASED, true);
        return 0;
    }
    default:
        return cut ? 0 : exec_trailer(g, p, s, f); /* trailer writes are atomic */
    }
}

/* ---- Images in the model ---- */

uint32_t mcuboot_swap_image_at(const struct mcuboot_swap_flash *f, enum mcuboot_swap_area area,
                               uint32_t first)
{
    return mcuboot_swap_tag_image0(f->sector[area][first]);
}

bool mcuboot_swap_image_intact(const struct mcuboot_swap_geom *g,
                               const struct mcuboot_swap_flash *f, enum mcuboot_swap_area area,
                               uint32_t first, uint32_t image)
{
    if (image == 0 || image >= MCUBOOT_SWAP_MAX_IMAGES || f->img_size[image] == 0)
        return false;
    uint32_t n = div_up(f->img_size[image], g->sector_size);
    if ((uint64_t)first + n > g->n_sectors[area])
        return false;
    for (uint32_t k = 0; k < n; k++)
        if (f->sector[area][first + k] != mcuboot_swap_tag(image, k))
            return false;
    return true;
}

/* ---- Boot ---- */

static bool status_source_primary(const struct mcuboot_swap_geom *g,
                                  const struct mcuboot_swap_flash *f)
{
    const struct mcuboot_trailer *t = &f->trailer[P];
    if (g->mode == MCUBOOT_SWAP_OVERWRITE)
        return false;
    if (t->magic != MCUBOOT_TRAILER_MAGIC_GOOD || t->copy_done != MCUBOOT_TRAILER_ERASED_U8)
        return false;
    /* swap-move and swap-offset also require the secondary magic not GOOD; swap-scratch's
     * table has no such column (its secondary trailer survives until sector 1 is swapped). */
    return g->mode == MCUBOOT_SWAP_SCRATCH || f->trailer[S].magic != MCUBOOT_TRAILER_MAGIC_GOOD;
}

/* The step after the last status record the primary trailer holds. */
static size_t resume_point(const struct mcuboot_swap_plan *p, const struct mcuboot_trailer *t)
{
    if (t->status_idx == 0)
        return p->first_resume;
    for (size_t i = 0; i < p->n_steps; i++) {
        const struct mcuboot_swap_step *s = &p->steps[i];
        if (s->op == MCUBOOT_SWAP_OP_STATUS && s->status_op == t->status_op &&
            s->idx == t->status_idx && s->state == t->status_state)
            return i + 1;
    }
    return p->first_resume;
}

/* boot_scramble_slot(): the whole secondary is erased (MCUBOOT_MINIMAL_SCRAMBLE not set). */
static int scramble_secondary(const struct mcuboot_swap_geom *g, struct mcuboot_swap_flash *f,
                              struct mcuboot_swap_result *r)
{
    if (f->wear != NULL) {
        int rc = flash_wear_erase(f->wear, f->wear_dev, f->wear_base[S], g->n_sectors[S]);
        if (rc != 0)
            return rc;
    }
    for (uint32_t k = 0; k < g->n_sectors[S]; k++)
        touch_sector(g, f, S, k, MCUBOOT_SWAP_ERASED, true);
    r->ns += flash_chip_erase_ns(&g->chip[S], g->n_sectors[S]);
    r->cost.erases[S] += g->n_sectors[S];
    r->scrambled = true;
    return 0;
}

/* The trailer a cut swap resumes from (with its type and size), or NULL: no swap to resume. */
static const struct mcuboot_trailer *resume_source(const struct mcuboot_swap_geom *g,
                                                   const struct mcuboot_swap_flash *f,
                                                   enum mcuboot_trailer_swap *type,
                                                   uint32_t *swap_size)
{
    const struct mcuboot_trailer *src = NULL;
    if (g->mode == MCUBOOT_SWAP_SCRATCH && f->trailer[X].magic == MCUBOOT_TRAILER_MAGIC_GOOD)
        src = &f->trailer[X];
    else if (status_source_primary(g, f))
        src = &f->trailer[P];
    if (src == NULL)
        return NULL;
    struct mcuboot_trailer_swap_state st;
    mcuboot_trailer_state(src, &st);
    if (st.swap_type == MCUBOOT_TRAILER_SWAP_NONE || src->swap_size == MCUBOOT_TRAILER_ERASED_U32)
        return NULL;
    *type = (enum mcuboot_trailer_swap)st.swap_type;
    *swap_size = src->swap_size;
    return src;
}

/* The decision table and the swap size of a new swap, without side effects: *type NONE
 * when nothing is to be done; *intact false when the secondary would fail validation (the
 * boot then scrambles it instead). */
static void new_swap(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_flash *f,
                     enum mcuboot_trailer_swap *type, uint32_t *swap_size, uint32_t *img,
                     bool *intact)
{
    struct mcuboot_trailer_swap_state ps, ss;
    mcuboot_trailer_state(&f->trailer[P], &ps);
    mcuboot_trailer_state(&f->trailer[S], &ss);
    *type = mcuboot_trailer_swap_type(&ps, &ss, g->mode == MCUBOOT_SWAP_OFFSET);
    *img = 0;
    *intact = false;
    if (*type == MCUBOOT_TRAILER_SWAP_NONE)
        return;
    /* swap-offset keeps an update at secondary sector 1, the image to revert to at 0. */
    uint32_t first = g->mode == MCUBOOT_SWAP_OFFSET && *type != MCUBOOT_TRAILER_SWAP_REVERT;
    *img = mcuboot_swap_image_at(f, S, first);
    *intact = mcuboot_swap_image_intact(g, f, S, first, *img);
    /* Overwrite-only FAST erases and copies just what the secondary image covers
     * (boot_copy_image()); a swap moves the larger of the two images (boot_swap_image()). */
    uint32_t pri = mcuboot_swap_image_at(f, P, 0);
    *swap_size = f->img_size[*img];
    if (g->mode != MCUBOOT_SWAP_OVERWRITE && mcuboot_swap_image_intact(g, f, P, 0, pri) &&
        f->img_size[pri] > *swap_size)
        *swap_size = f->img_size[pri];
}

/* Decide a new swap: the decision table, then validation of the secondary. Stores the type
 * (NONE when nothing is to be done) and the swap size. Returns 0 or a wear-table error. */
static int decide(const struct mcuboot_swap_geom *g, struct mcuboot_swap_flash *f,
                  struct mcuboot_swap_result *r, enum mcuboot_trailer_swap *type,
                  uint32_t *swap_size)
{
    uint32_t img;
    bool intact;
    new_swap(g, f, type, swap_size, &img, &intact);
    if (*type == MCUBOOT_TRAILER_SWAP_NONE)
        return 0;
    r->validated_bytes += img ? f->img_size[img] : 0;
    if (!intact) {
        /* boot_validate_slot() fails: scramble, boot the primary with NONE (loader.c). */
        *type = MCUBOOT_TRAILER_SWAP_NONE;
        *swap_size = 0;
        return scramble_secondary(g, f, r);
    }
    return 0;
}

/* Step a new (not resumed) swap starts at. A revert's plan opens with fixup_revert()'s
 * writes to the secondary trailer, which MCUboot performs only while the secondary magic is
 * UNSET (fixup_revert() in swap_move.c and swap_offset.c). A revert that starts with a good
 * secondary trailer is one whose first attempt lost power after the fixup (swap-offset: row
 * I); erasing that trailer again would drop the request while the primary trailer is being
 * re-initialised, so the fixup is skipped, as upstream does. */
static size_t new_swap_start(const struct mcuboot_swap_plan *p, const struct mcuboot_swap_flash *f)
{
    if (p->type != MCUBOOT_TRAILER_SWAP_REVERT || p->n_steps < 2 ||
        p->steps[1].op != MCUBOOT_SWAP_OP_FIXUP_REVERT ||
        f->trailer[S].magic == MCUBOOT_TRAILER_MAGIC_UNSET)
        return 0;
    return 2; /* ERASE_TRAILER(S), FIXUP_REVERT(S) */
}

int mcuboot_swap_boot_plan(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_flash *f,
                           size_t *steps, int64_t *ns, bool *resume)
{
    enum mcuboot_trailer_swap type = MCUBOOT_TRAILER_SWAP_NONE;
    uint32_t swap_size = 0, img;
    bool intact = true;
    *steps = 0;
    *ns = 0;
    const struct mcuboot_trailer *src = resume_source(g, f, &type, &swap_size);
    *resume = src != NULL;
    if (src == NULL)
        new_swap(g, f, &type, &swap_size, &img, &intact);
    if (type == MCUBOOT_TRAILER_SWAP_NONE || !intact)
        return 0;
    struct mcuboot_swap_plan p;
    memset(&p, 0, sizeof(p));
    int rc = mcuboot_swap_plan_build(&p, g, type, swap_size, NULL);
    if (rc != 0)
        return rc;
    size_t start = new_swap_start(&p, f);
    if (src != NULL)
        start = src == &f->trailer[X] ? 0 : resume_point(&p, &f->trailer[P]);
    for (size_t i = start; i < p.n_steps; i++)
        *ns += mcuboot_swap_step_ns(g, &p, i);
    *steps = p.n_steps - start;
    mcuboot_swap_plan_fini(&p);
    return 0;
}

int mcuboot_swap_boot(const struct mcuboot_swap_geom *g, struct mcuboot_swap_flash *f, long cut_at,
                      struct mcuboot_swap_result *r, struct sim_diag *d)
{
    struct mcuboot_swap_plan p;
    enum mcuboot_trailer_swap type = MCUBOOT_TRAILER_SWAP_NONE;
    uint32_t swap_size = 0;
    size_t start = 0;
    int rc;

    memset(r, 0, sizeof(*r));
    memset(&p, 0, sizeof(p));
    r->type = MCUBOOT_TRAILER_SWAP_NONE;
    const struct mcuboot_trailer *src = resume_source(g, f, &type, &swap_size);
    r->resumed = src != NULL;
    if (!r->resumed) {
        rc = decide(g, f, r, &type, &swap_size);
        if (rc != 0) {
            sim_diag_add(d, "swap: wear counters: sector mapping out of range");
            return rc;
        }
    }
    if (type != MCUBOOT_TRAILER_SWAP_NONE) {
        rc = mcuboot_swap_plan_build(&p, g, type, swap_size, d);
        if (rc != 0)
            return rc;
        r->type = (uint8_t)type;
        start = r->resumed ? (src == &f->trailer[X] ? 0 : resume_point(&p, &f->trailer[P]))
                           : new_swap_start(&p, f);
        for (size_t i = start; i < p.n_steps; i++, r->steps++) {
            bool cut = cut_at >= 0 && r->steps == (size_t)cut_at;
            add_cost(g, &p, i, &r->cost);
            rc = mcuboot_swap_exec(g, &p, i, f, cut);
            if (rc != 0) {
                sim_diag_add(d, "%s: step %zu: %s",
                             mcuboot_swap_mode_name((enum mcuboot_swap_mode)g->mode), i,
                             rc == SIM_ERANGE ? "wear counters: sector mapping out of range"
                                              : "wrote a programmed trailer field (model bug)");
                mcuboot_swap_plan_fini(&p);
                return rc;
            }
            if (cut) {
                r->cut = true;
                r->steps++;
                r->ns += r->cost.ns;
                mcuboot_swap_plan_fini(&p);
                return 0;
            }
        }
        mcuboot_swap_plan_fini(&p);
    }
    r->ns += r->cost.ns;
    uint32_t img = mcuboot_swap_image_at(f, P, 0);
    r->boot_image = mcuboot_swap_image_intact(g, f, P, 0, img) ? img : 0;
    return 0;
}
