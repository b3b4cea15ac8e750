/* models/mcuboot/trailer.c - MCUboot trailer layout, writes, bytes and decision table.
 * Sources per function in models/mcuboot/trailer.h. */
#include "models/mcuboot/trailer.h"

#include <string.h>

/* boot_img_magic[] as bytes (mcu-tools/mcuboot: boot/bootutil/src/bootutil_public.c). */
static const uint8_t magic8[MCUBOOT_TRAILER_MAGIC_SIZE] = {
    0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80};
/* The magic when BOOT_MAX_ALIGN > 8: u16 alignment, then these 14 bytes (docs/design.md). */
static const uint8_t magic_tail[14] = {0x2d, 0xe1, 0x5d, 0x29, 0x41, 0x0b, 0x8d,
                                       0x77, 0x67, 0x9c, 0x11, 0x0f, 0x1f, 0x8a};

/* STATE_COUNT per kind (mcu-tools/mcuboot: boot/bootutil/src/swap_priv.h, bootutil_priv.h). */
static const uint8_t state_count[MCUBOOT_TRAILER_KIND_COUNT] = {
    [MCUBOOT_TRAILER_SCRATCH] = 3, [MCUBOOT_TRAILER_MOVE] = 3, [MCUBOOT_TRAILER_OFFSET] = 2};

#define MOVE_STATE_COUNT 1u /* BOOT_STATUS_MOVE_STATE_COUNT */
#define SWAP_STATE_COUNT 2u /* BOOT_STATUS_SWAP_STATE_COUNT (swap-move) */

static bool is_pow2(uint32_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

static uint32_t align_up(uint32_t x, uint32_t a)
{
    return (x + a - 1) & ~(a - 1);
}

static uint32_t align_down(uint32_t x, uint32_t a)
{
    return x & ~(a - 1);
}

static uint32_t magic_align_size(const struct mcuboot_trailer_geom *g)
{
    return align_up(MCUBOOT_TRAILER_MAGIC_SIZE, g->max_align); /* BOOT_MAGIC_ALIGN_SIZE */
}

uint32_t mcuboot_trailer_info_size(const struct mcuboot_trailer_geom *g)
{
    /* boot_trailer_info_sz(): swap_type + copy_done + image_ok + swap_size, the TLV sizes
     * for swap-offset, and the aligned magic (bootutil_area.c). */
    uint32_t n = 4 * g->max_align + magic_align_size(g);
    if (g->kind == MCUBOOT_TRAILER_OFFSET)
        n += g->max_align;
    return n;
}

uint32_t mcuboot_trailer_status_size(const struct mcuboot_trailer_geom *g)
{
    return g->max_img_sectors * g->state_count * g->write_sz;
}

uint32_t mcuboot_trailer_size(const struct mcuboot_trailer_geom *g)
{
    return mcuboot_trailer_status_size(g) + mcuboot_trailer_info_size(g);
}

int mcuboot_trailer_geom_init(struct mcuboot_trailer_geom *g, enum mcuboot_trailer_kind kind,
                              uint32_t slot_size, uint32_t write_sz, uint32_t max_align,
                              uint32_t max_img_sectors, struct sim_diag *d)
{
    struct mcuboot_trailer_geom t;

    if ((unsigned)kind >= MCUBOOT_TRAILER_KIND_COUNT) {
        sim_diag_add(d, "trailer: unknown status layout %d", (int)kind);
        return SIM_EINVAL;
    }
    if (!is_pow2(write_sz) || !is_pow2(max_align) || write_sz > max_align || max_align > 32) {
        sim_diag_add(d,
                     "trailer: write size %u and BOOT_MAX_ALIGN %u must be powers of two with "
                     "write size <= BOOT_MAX_ALIGN <= 32",
                     write_sz, max_align);
        return SIM_EINVAL;
    }
    if (max_img_sectors == 0 || max_img_sectors > UINT16_MAX) {
        sim_diag_add(d, "trailer: BOOT_MAX_IMG_SECTORS %u must be 1..65535", max_img_sectors);
        return SIM_EINVAL;
    }
    t.slot_size = slot_size;
    t.write_sz = write_sz;
    t.max_align = max_align;
    t.max_img_sectors = max_img_sectors;
    t.state_count = state_count[kind];
    t.kind = (uint8_t)kind;
    if ((uint64_t)mcuboot_trailer_size(&t) > slot_size || slot_size % max_align != 0) {
        sim_diag_add(d,
                     "trailer: a %u-byte trailer does not fit a slot of %u bytes (or the slot "
                     "is not a multiple of %u)",
                     mcuboot_trailer_size(&t), slot_size, max_align);
        return SIM_EINVAL;
    }
    *g = t;
    return 0;
}

/* Offsets as boot_magic_off() .. boot_swap_size_off() (bootutil_public.c and the
 * swap-offset variant with boot_unprotected_tlv_sizes_off()). */
uint32_t mcuboot_trailer_magic_off(const struct mcuboot_trailer_geom *g)
{
    return g->slot_size - MCUBOOT_TRAILER_MAGIC_SIZE;
}

uint32_t mcuboot_trailer_image_ok_off(const struct mcuboot_trailer_geom *g)
{
    return align_down(mcuboot_trailer_magic_off(g) - g->max_align, g->max_align);
}

uint32_t mcuboot_trailer_copy_done_off(const struct mcuboot_trailer_geom *g)
{
    return mcuboot_trailer_image_ok_off(g) - g->max_align;
}

uint32_t mcuboot_trailer_swap_info_off(const struct mcuboot_trailer_geom *g)
{
    return mcuboot_trailer_copy_done_off(g) - g->max_align;
}

uint32_t mcuboot_trailer_tlv_sizes_off(const struct mcuboot_trailer_geom *g)
{
    return mcuboot_trailer_swap_info_off(g) - g->max_align;
}

uint32_t mcuboot_trailer_swap_size_off(const struct mcuboot_trailer_geom *g)
{
    if (g->kind == MCUBOOT_TRAILER_OFFSET)
        return mcuboot_trailer_tlv_sizes_off(g) - g->max_align;
    return mcuboot_trailer_swap_info_off(g) - g->max_align;
}

uint32_t mcuboot_trailer_status_off(const struct mcuboot_trailer_geom *g)
{
    return g->slot_size - mcuboot_trailer_size(g); /* boot_status_off() */
}

/* Linear record number in offset order, or -1 when (op, idx, state) is out of range. */
static int64_t record_index(const struct mcuboot_trailer_geom *g, enum mcuboot_trailer_op op,
                            uint32_t idx, uint8_t state)
{
    if (idx < 1 || idx > g->max_img_sectors || state < 1)
        return -1;
    if (g->kind == MCUBOOT_TRAILER_MOVE) {
        if (op == MCUBOOT_TRAILER_OP_MOVE)
            return state <= MOVE_STATE_COUNT ? (int64_t)(idx - 1) * MOVE_STATE_COUNT + state - 1
                                             : -1;
        if (op != MCUBOOT_TRAILER_OP_SWAP || state > SWAP_STATE_COUNT)
            return -1;
        return (int64_t)g->max_img_sectors * MOVE_STATE_COUNT +
               (int64_t)(idx - 1) * SWAP_STATE_COUNT + state - 1;
    }
    if (op != MCUBOOT_TRAILER_OP_SWAP || state > g->state_count)
        return -1;
    return (int64_t)(idx - 1) * g->state_count + state - 1;
}

uint32_t mcuboot_trailer_record_off(const struct mcuboot_trailer_geom *g,
                                    enum mcuboot_trailer_op op, uint32_t idx, uint8_t state)
{
    int64_t k = record_index(g, op, idx, state);
    if (k < 0)
        return UINT32_MAX;
    return mcuboot_trailer_status_off(g) + (uint32_t)k * g->write_sz;
}

void mcuboot_trailer_erase(struct mcuboot_trailer *t)
{
    memset(t, 0, sizeof(*t)); /* padding too, so that erased trailers compare equal */
    t->swap_size = MCUBOOT_TRAILER_ERASED_U32;
    t->tlv_size_primary = MCUBOOT_TRAILER_ERASED_U16;
    t->tlv_size_secondary = MCUBOOT_TRAILER_ERASED_U16;
    t->status_idx = 0;
    t->status_moves = 0;
    t->status_op = 0;
    t->status_state = 0;
    t->magic = MCUBOOT_TRAILER_MAGIC_UNSET;
    t->image_ok = MCUBOOT_TRAILER_ERASED_U8;
    t->copy_done = MCUBOOT_TRAILER_ERASED_U8;
    t->swap_info = MCUBOOT_TRAILER_ERASED_U8;
}

/* boot_read_flag(): erased -> UNSET, 0x01 -> SET, anything else -> BAD. */
static uint8_t flag_decode(uint8_t raw)
{
    if (raw == MCUBOOT_TRAILER_ERASED_U8)
        return MCUBOOT_TRAILER_FLAG_UNSET;
    return raw == MCUBOOT_TRAILER_SET_BYTE ? MCUBOOT_TRAILER_FLAG_SET : MCUBOOT_TRAILER_FLAG_BAD;
}

void mcuboot_trailer_state(const struct mcuboot_trailer *t, struct mcuboot_trailer_swap_state *out)
{
    /* boot_read_swap_state(): an erased swap_info or a type above REVERT reads as NONE/0. */
    uint8_t type = t->swap_info & 0x0f;
    out->magic = t->magic;
    if (t->swap_info == MCUBOOT_TRAILER_ERASED_U8 || type > MCUBOOT_TRAILER_SWAP_REVERT) {
        out->swap_type = MCUBOOT_TRAILER_SWAP_NONE;
        out->image_num = 0;
    } else {
        out->swap_type = type;
        out->image_num = t->swap_info >> 4;
    }
    out->copy_done = flag_decode(t->copy_done);
    out->image_ok = flag_decode(t->image_ok);
}

void mcuboot_trailer_state_empty(struct mcuboot_trailer_swap_state *out)
{
    out->magic = MCUBOOT_TRAILER_MAGIC_UNSET;
    out->swap_type = MCUBOOT_TRAILER_SWAP_NONE;
    out->copy_done = MCUBOOT_TRAILER_FLAG_UNSET;
    out->image_ok = MCUBOOT_TRAILER_FLAG_UNSET;
    out->image_num = 0;
}

/* ---- Writes ---- */

static void set_write(struct mcuboot_trailer_write *w, uint32_t off, uint32_t len)
{
    if (w != NULL) {
        w->off = off;
        w->len = len;
    }
}

/* boot_write_trailer(): inlen bytes padded to the write size, at most BOOT_MAX_ALIGN. */
static uint32_t trailer_write_len(const struct mcuboot_trailer_geom *g, uint32_t inlen)
{
    return align_up(inlen, g->write_sz);
}

int mcuboot_trailer_write_magic(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                struct mcuboot_trailer_write *w)
{
    if (t->magic != MCUBOOT_TRAILER_MAGIC_UNSET)
        return SIM_EINVAL;
    t->magic = MCUBOOT_TRAILER_MAGIC_GOOD;
    set_write(w, align_down(mcuboot_trailer_magic_off(g), g->max_align), magic_align_size(g));
    return 0;
}

static int write_flag(const struct mcuboot_trailer_geom *g, uint8_t *field, uint32_t off,
                      struct mcuboot_trailer_write *w)
{
    if (*field != MCUBOOT_TRAILER_ERASED_U8)
        return SIM_EINVAL;
    *field = MCUBOOT_TRAILER_SET_BYTE;
    set_write(w, off, trailer_write_len(g, 1));
    return 0;
}

int mcuboot_trailer_write_image_ok(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                   struct mcuboot_trailer_write *w)
{
    return write_flag(g, &t->image_ok, mcuboot_trailer_image_ok_off(g), w);
}

int mcuboot_trailer_write_copy_done(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                    struct mcuboot_trailer_write *w)
{
    return write_flag(g, &t->copy_done, mcuboot_trailer_copy_done_off(g), w);
}

int mcuboot_trailer_write_swap_info(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                    uint8_t swap_type, uint8_t image_num,
                                    struct mcuboot_trailer_write *w)
{
    if (t->swap_info != MCUBOOT_TRAILER_ERASED_U8 || swap_type < MCUBOOT_TRAILER_SWAP_TEST ||
        swap_type > MCUBOOT_TRAILER_SWAP_REVERT || image_num > 15)
        return SIM_EINVAL;
    t->swap_info = (uint8_t)((image_num << 4) | swap_type); /* BOOT_SET_SWAP_INFO */
    set_write(w, mcuboot_trailer_swap_info_off(g), trailer_write_len(g, 1));
    return 0;
}

int mcuboot_trailer_write_swap_size(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                    uint32_t swap_size, struct mcuboot_trailer_write *w)
{
    if (t->swap_size != MCUBOOT_TRAILER_ERASED_U32 || swap_size == MCUBOOT_TRAILER_ERASED_U32)
        return SIM_EINVAL;
    t->swap_size = swap_size;
    set_write(w, mcuboot_trailer_swap_size_off(g), trailer_write_len(g, 4));
    return 0;
}

int mcuboot_trailer_write_tlv_sizes(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                    uint16_t primary, uint16_t secondary,
                                    struct mcuboot_trailer_write *w)
{
    if (g->kind != MCUBOOT_TRAILER_OFFSET || t->tlv_size_primary != MCUBOOT_TRAILER_ERASED_U16 ||
        t->tlv_size_secondary != MCUBOOT_TRAILER_ERASED_U16)
        return SIM_EINVAL;
    t->tlv_size_primary = primary;
    t->tlv_size_secondary = secondary;
    set_write(w, mcuboot_trailer_tlv_sizes_off(g), trailer_write_len(g, 4));
    return 0;
}

int mcuboot_trailer_write_status(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                 enum mcuboot_trailer_op op, uint32_t idx, uint8_t state,
                                 struct mcuboot_trailer_write *w)
{
    int64_t k = record_index(g, op, idx, state);
    if (k < 0)
        return SIM_EINVAL;
    if (t->status_idx != 0 &&
        k <= record_index(g, (enum mcuboot_trailer_op)t->status_op, t->status_idx, t->status_state))
        return SIM_EINVAL; /* that record (or a later one) is already programmed */
    if (op == MCUBOOT_TRAILER_OP_MOVE && idx != (uint32_t)t->status_moves + 1)
        return SIM_EINVAL; /* move records are contiguous from idx 1 */
    if (op == MCUBOOT_TRAILER_OP_MOVE)
        t->status_moves = (uint16_t)idx;
    t->status_op = (uint8_t)op;
    t->status_idx = (uint16_t)idx;
    t->status_state = state;
    set_write(w, mcuboot_trailer_status_off(g) + (uint32_t)k * g->write_sz, g->write_sz);
    return 0;
}

/* ---- Bytes ---- */

static void put_magic(const struct mcuboot_trailer_geom *g, uint8_t *p)
{
    /* p points at magic_off: the last 16 bytes of the slot. */
    if (g->max_align == MCUBOOT_TRAILER_DEFAULT_ALIGN) {
        memcpy(p, magic8, sizeof(magic8));
        return;
    }
    p[0] = (uint8_t)g->max_align;
    p[1] = (uint8_t)(g->max_align >> 8);
    memcpy(p + 2, magic_tail, sizeof(magic_tail));
}

static bool all_erased(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != MCUBOOT_TRAILER_ERASED_U8)
            return false;
    return true;
}

/* Write records [first, first + n) of the status area with their state numbers. */
static void put_records(const struct mcuboot_trailer_geom *g, uint8_t *slot, uint32_t first,
                        uint32_t n, uint32_t states)
{
    uint32_t start = mcuboot_trailer_status_off(g);
    for (uint32_t k = 0; k < n; k++)
        slot[start + (first + k) * g->write_sz] = (uint8_t)(k % states + 1);
}

int mcuboot_trailer_encode(const struct mcuboot_trailer_geom *g, const struct mcuboot_trailer *t,
                           uint8_t *slot, size_t len)
{
    if (slot == NULL || len != g->slot_size)
        return SIM_EINVAL;
    uint32_t start = mcuboot_trailer_status_off(g);
    memset(slot + start, MCUBOOT_TRAILER_ERASED_U8, len - start);
    if (t->magic == MCUBOOT_TRAILER_MAGIC_GOOD)
        put_magic(g, slot + mcuboot_trailer_magic_off(g));
    else if (t->magic == MCUBOOT_TRAILER_MAGIC_BAD)
        memset(slot + mcuboot_trailer_magic_off(g), 0, MCUBOOT_TRAILER_MAGIC_SIZE);
    slot[mcuboot_trailer_image_ok_off(g)] = t->image_ok;
    slot[mcuboot_trailer_copy_done_off(g)] = t->copy_done;
    slot[mcuboot_trailer_swap_info_off(g)] = t->swap_info;
    uint8_t *p = slot + mcuboot_trailer_swap_size_off(g);
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(t->swap_size >> (8 * i));
    if (g->kind == MCUBOOT_TRAILER_OFFSET) {
        /* boot_read_unprotected_tlv_sizes(): u32 = primary | secondary << 16. */
        p = slot + mcuboot_trailer_tlv_sizes_off(g);
        p[0] = (uint8_t)t->tlv_size_primary;
        p[1] = (uint8_t)(t->tlv_size_primary >> 8);
        p[2] = (uint8_t)t->tlv_size_secondary;
        p[3] = (uint8_t)(t->tlv_size_secondary >> 8);
    }
    if (g->kind == MCUBOOT_TRAILER_MOVE)
        put_records(g, slot, 0, t->status_moves, MOVE_STATE_COUNT);
    if (t->status_idx == 0 || t->status_op != MCUBOOT_TRAILER_OP_SWAP)
        return 0;
    /* Swap records 1..last, in offset order, after the move region in swap-move. */
    int64_t last = record_index(g, MCUBOOT_TRAILER_OP_SWAP, t->status_idx, t->status_state);
    if (last < 0)
        return SIM_EINVAL;
    uint32_t first = g->kind == MCUBOOT_TRAILER_MOVE ? g->max_img_sectors * MOVE_STATE_COUNT : 0;
    uint32_t states = g->kind == MCUBOOT_TRAILER_MOVE ? SWAP_STATE_COUNT : g->state_count;
    put_records(g, slot, first, (uint32_t)last - first + 1, states);
    return 0;
}

/* Count the written records at the start of [first, first + n); SIM_EFORMAT when a written
 * record follows an erased one (boot_read_status_bytes(): "inconsistent status"). */
static int scan_records(const struct mcuboot_trailer_geom *g, const uint8_t *slot, uint32_t first,
                        uint32_t n, uint32_t *written, struct sim_diag *d)
{
    uint32_t start = mcuboot_trailer_status_off(g);
    bool gap = false;
    *written = 0;
    for (uint32_t k = 0; k < n; k++) {
        if (all_erased(slot + start + (first + k) * g->write_sz, g->write_sz)) {
            gap = true;
            continue;
        }
        if (gap) {
            sim_diag_add(d,
                         "trailer: inconsistent swap status: record %u is written after an "
                         "erased one",
                         first + k);
            return SIM_EFORMAT;
        }
        (*written)++;
    }
    return 0;
}

static int decode_status(const struct mcuboot_trailer_geom *g, const uint8_t *slot,
                         struct mcuboot_trailer *out, struct sim_diag *d)
{
    uint32_t first = 0, n_swap, states = g->state_count;
    int rc;

    if (g->kind == MCUBOOT_TRAILER_MOVE) {
        uint32_t moves;
        rc = scan_records(g, slot, 0, g->max_img_sectors * MOVE_STATE_COUNT, &moves, d);
        if (rc != 0)
            return rc;
        out->status_moves = (uint16_t)moves;
        if (moves > 0) {
            out->status_op = MCUBOOT_TRAILER_OP_MOVE;
            out->status_idx = (uint16_t)moves;
            out->status_state = 1;
        }
        first = g->max_img_sectors * MOVE_STATE_COUNT;
        states = SWAP_STATE_COUNT;
    }
    uint32_t n = mcuboot_trailer_status_size(g) / g->write_sz - first;
    rc = scan_records(g, slot, first, n, &n_swap, d);
    if (rc != 0 || n_swap == 0)
        return rc;
    out->status_op = MCUBOOT_TRAILER_OP_SWAP;
    out->status_idx = (uint16_t)((n_swap - 1) / states + 1);
    out->status_state = (uint8_t)((n_swap - 1) % states + 1);
    return 0;
}

int mcuboot_trailer_decode(const struct mcuboot_trailer_geom *g, const uint8_t *slot, size_t len,
                           struct mcuboot_trailer *out, struct sim_diag *d)
{
    struct mcuboot_trailer t;
    uint8_t want[MCUBOOT_TRAILER_MAGIC_SIZE];

    if (slot == NULL || len != g->slot_size)
        return SIM_EINVAL;
    mcuboot_trailer_erase(&t);
    const uint8_t *m = slot + mcuboot_trailer_magic_off(g);
    put_magic(g, want);
    if (all_erased(m, MCUBOOT_TRAILER_MAGIC_SIZE))
        t.magic = MCUBOOT_TRAILER_MAGIC_UNSET;
    else
        t.magic = memcmp(m, want, sizeof(want)) == 0 ? MCUBOOT_TRAILER_MAGIC_GOOD
                                                     : MCUBOOT_TRAILER_MAGIC_BAD;
    t.image_ok = slot[mcuboot_trailer_image_ok_off(g)];
    t.copy_done = slot[mcuboot_trailer_copy_done_off(g)];
    t.swap_info = slot[mcuboot_trailer_swap_info_off(g)];
    const uint8_t *p = slot + mcuboot_trailer_swap_size_off(g);
    t.swap_size =
        (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    if (g->kind == MCUBOOT_TRAILER_OFFSET) {
        p = slot + mcuboot_trailer_tlv_sizes_off(g);
        t.tlv_size_primary = (uint16_t)(p[0] | (p[1] << 8));
        t.tlv_size_secondary = (uint16_t)(p[2] | (p[3] << 8));
    }
    int rc = decode_status(g, slot, &t, d);
    if (rc != 0)
        return rc;
    *out = t;
    return 0;
}

/* ---- Decision table ---- */

/* boot_swap_tables[] (mcu-tools/mcuboot: boot/bootutil/src/bootutil_public.c). The first
 * row exists only with MCUBOOT_TRAILER_SWAP_USING_OFFSET. Row IV requires the secondary magic UNSET,
 * as the code has it (docs/design.md's "State IV" table says Any). */
struct swap_row {
    uint8_t magic_pri, magic_sec;
    uint8_t image_ok_pri, image_ok_sec;
    uint8_t copy_done_pri, copy_done_sec;
    uint8_t swap_type;
    bool offset_only;
};

static const struct swap_row swap_rows[] = {
    {MCUBOOT_TRAILER_MAGIC_ANY, MCUBOOT_TRAILER_MAGIC_GOOD, MCUBOOT_TRAILER_FLAG_ANY,
     MCUBOOT_TRAILER_FLAG_UNSET, MCUBOOT_TRAILER_FLAG_ANY, MCUBOOT_TRAILER_FLAG_SET,
     MCUBOOT_TRAILER_SWAP_REVERT, true},
    {MCUBOOT_TRAILER_MAGIC_ANY, MCUBOOT_TRAILER_MAGIC_GOOD, MCUBOOT_TRAILER_FLAG_ANY,
     MCUBOOT_TRAILER_FLAG_UNSET, MCUBOOT_TRAILER_FLAG_ANY, MCUBOOT_TRAILER_FLAG_ANY,
     MCUBOOT_TRAILER_SWAP_TEST, false},
    {MCUBOOT_TRAILER_MAGIC_ANY, MCUBOOT_TRAILER_MAGIC_GOOD, MCUBOOT_TRAILER_FLAG_ANY,
     MCUBOOT_TRAILER_FLAG_SET, MCUBOOT_TRAILER_FLAG_ANY, MCUBOOT_TRAILER_FLAG_ANY,
     MCUBOOT_TRAILER_SWAP_PERM, false},
    {MCUBOOT_TRAILER_MAGIC_GOOD, MCUBOOT_TRAILER_MAGIC_UNSET, MCUBOOT_TRAILER_FLAG_UNSET,
     MCUBOOT_TRAILER_FLAG_ANY, MCUBOOT_TRAILER_FLAG_SET, MCUBOOT_TRAILER_FLAG_ANY,
     MCUBOOT_TRAILER_SWAP_REVERT, false},
};

/* boot_magic_compatible_check() */
static bool magic_ok(uint8_t tbl, uint8_t val)
{
    if (tbl == MCUBOOT_TRAILER_MAGIC_ANY)
        return true;
    if (tbl == MCUBOOT_TRAILER_MAGIC_NOTGOOD)
        return val != MCUBOOT_TRAILER_MAGIC_GOOD;
    return tbl == val;
}

static bool flag_ok(uint8_t tbl, uint8_t val)
{
    return tbl == MCUBOOT_TRAILER_FLAG_ANY || tbl == val;
}

enum mcuboot_trailer_swap
mcuboot_trailer_swap_type(const struct mcuboot_trailer_swap_state *primary,
                          const struct mcuboot_trailer_swap_state *secondary, bool swap_offset)
{
    for (size_t i = 0; i < sizeof(swap_rows) / sizeof(swap_rows[0]); i++) {
        const struct swap_row *r = &swap_rows[i];
        if (r->offset_only && !swap_offset)
            continue;
        if (magic_ok(r->magic_pri, primary->magic) && magic_ok(r->magic_sec, secondary->magic) &&
            flag_ok(r->image_ok_pri, primary->image_ok) &&
            flag_ok(r->image_ok_sec, secondary->image_ok) &&
            flag_ok(r->copy_done_pri, primary->copy_done) &&
            flag_ok(r->copy_done_sec, secondary->copy_done))
            return (enum mcuboot_trailer_swap)r->swap_type;
    }
    return MCUBOOT_TRAILER_SWAP_NONE;
}

const char *mcuboot_trailer_swap_type_name(enum mcuboot_trailer_swap t)
{
    switch (t) {
    case MCUBOOT_TRAILER_SWAP_NONE:
        return "none";
    case MCUBOOT_TRAILER_SWAP_TEST:
        return "test";
    case MCUBOOT_TRAILER_SWAP_PERM:
        return "perm";
    case MCUBOOT_TRAILER_SWAP_REVERT:
        return "revert";
    case MCUBOOT_TRAILER_SWAP_FAIL:
        return "fail";
    case MCUBOOT_TRAILER_SWAP_PANIC:
        return "panic";
    }
    return "?";
}

/* ---- img_mgmt state writes (bootutil_public.c) ---- */

int mcuboot_trailer_set_pending(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                bool permanent, struct mcuboot_trailer_write w[3], size_t *n_w,
                                bool *erase_slot)
{
    struct mcuboot_trailer next = *t;
    size_t n = 0;
    int rc;

    *n_w = 0;
    *erase_slot = false;
    if (t->magic == MCUBOOT_TRAILER_MAGIC_GOOD)
        return 0; /* swap already scheduled */
    if (t->magic == MCUBOOT_TRAILER_MAGIC_BAD) {
        *erase_slot = true; /* "The image slot is corrupt ... erase the slot" */
        return SIM_EFORMAT;
    }
    rc = mcuboot_trailer_write_magic(g, &next, &w[n++]);
    if (rc == 0 && permanent)
        rc = mcuboot_trailer_write_image_ok(g, &next, &w[n++]);
    if (rc == 0)
        rc = mcuboot_trailer_write_swap_info(
            g, &next, permanent ? MCUBOOT_TRAILER_SWAP_PERM : MCUBOOT_TRAILER_SWAP_TEST, 0,
            &w[n++]);
    if (rc != 0)
        return rc; /* a field under an unset magic was already programmed: t unchanged */
    *t = next;
    *n_w = n;
    return 0;
}

int mcuboot_trailer_set_confirmed(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                  struct mcuboot_trailer_write *w, size_t *n_w)
{
    *n_w = 0;
    if (t->magic == MCUBOOT_TRAILER_MAGIC_UNSET)
        return 0; /* already confirmed */
    if (t->magic == MCUBOOT_TRAILER_MAGIC_BAD)
        return SIM_EFORMAT; /* BOOT_EBADVECT: unexpected state */
    if (flag_decode(t->image_ok) != MCUBOOT_TRAILER_FLAG_UNSET)
        return 0; /* already confirmed (or a bad flag, which is not UNSET either) */
    int rc = mcuboot_trailer_write_image_ok(g, t, w);
    if (rc == 0)
        *n_w = 1;
    return rc;
}
