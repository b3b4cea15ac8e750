/* models/mcuboot/trailer.h - the MCUboot image trailer at the end of a slot: layout, the
 * state of one slot's trailer, the flash writes that change it, and the swap-type decision
 * table of bootutil.
 *
 * A device keeps a compact struct mcuboot_trailer per slot (raw field values, not bytes);
 * mcuboot_trailer_encode()/_decode() convert to and from real slot bytes. Each write
 * function changes the struct the way the flash write would and returns the write (offset,
 * length) so the caller can charge flash time and wear. A write to a field that is not
 * erased fails, as NOR flash would: the caller must erase first.
 * Sources: mcu-tools/mcuboot (main, 2d4bacc): boot/bootutil/src/bootutil_public.c,
 * bootutil_area.c, bootutil_priv.h, swap_move.c, swap_offset.c, swap_scratch.c, loader.c;
 * boot/bootutil/include/bootutil/bootutil_public.h; docs/design.md.
 *
 * Trailer layout, offsets from the END of the slot for BOOT_MAX_ALIGN = 8, no encryption
 * (boot_magic_off() .. boot_swap_size_off() in boot/bootutil/src/bootutil_public.c):
 *   OFFSET            SIZE        DESCRIPTION
 *   -trailer_size     status_size swap status records (layout below)
 *   -56 (offset mode) 8 (4 used)  swap-offset only: unprotected TLV sizes, u16 primary then
 *                                 u16 secondary (boot_unprotected_tlv_sizes_off())
 *   -48 (-56 offset)  8 (4 used)  swap_size, u32 little-endian: bytes being swapped
 *   -40               8 (1 used)  swap_info: bits 0-3 swap type (2 TEST, 3 PERM, 4 REVERT),
 *                                 bits 4-7 image number; 0xff erased
 *   -32               8 (1 used)  copy_done: 0x01 set, 0xff unset, anything else bad
 *   -24               8 (1 used)  image_ok: 0x01 set, 0xff unset, anything else bad
 *   -16               16          magic 77 c2 95 f3 60 d2 ef 7f 35 52 50 0f 2c b6 79 80
 *                                 (BOOT_MAX_ALIGN > 8: u16 align + 2d e1 5d 29 41 0b 8d 77
 *                                 67 9c 11 0f 1f 8a, padded to BOOT_MAX_ALIGN)
 *   trailer_size = status_size + 4 * max_align (+ max_align for swap-offset) + magic size
 *                = 48 + status_size (56 + status_size for swap-offset)  (boot_trailer_sz())
 *
 * Status area: status_size = BOOT_MAX_IMG_SECTORS * BOOT_STATUS_STATE_COUNT * write_sz
 * (boot_status_sz()); one record per (sector index idx >= 1, state >= 1), each record one
 * write of write_sz bytes whose first byte is the state number (boot_write_status()):
 *   OFFSET FROM STATUS START                                   DESCRIPTION
 *   ((idx-1)*STATE_COUNT + state-1) * w                        swap-scratch (3), offset (2)
 *   (idx-1) * w                                                swap-move, move records
 *   MAX_IMG_SECTORS*w + ((idx-1)*2 + state-1) * w              swap-move, swap records
 * (boot_status_internal_off() in swap_scratch.c, swap_move.c, swap_offset.c). Records are
 * written in increasing offset order, so the last written record is the swap's progress.
 */
#ifndef MODELS_MCUBOOT_TRAILER_H
#define MODELS_MCUBOOT_TRAILER_H

#include "sim/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MCUBOOT_TRAILER_MAGIC_SIZE    16u /* BOOT_MAGIC_SZ */
#define MCUBOOT_TRAILER_DEFAULT_ALIGN 8u  /* BOOT_MAX_ALIGN default */
#define MCUBOOT_TRAILER_SET_BYTE      0x01u
#define MCUBOOT_TRAILER_ERASED_U8     0xffu
#define MCUBOOT_TRAILER_ERASED_U16    0xffffu
#define MCUBOOT_TRAILER_ERASED_U32    0xffffffffu

/* Decoded magic (BOOT_MAGIC_*, bootutil_public.h; ANY and NOTGOOD exist only in tables). */
enum mcuboot_trailer_magic {
    MCUBOOT_TRAILER_MAGIC_GOOD = 1,
    MCUBOOT_TRAILER_MAGIC_BAD = 2,
    MCUBOOT_TRAILER_MAGIC_UNSET = 3,
    MCUBOOT_TRAILER_MAGIC_ANY = 4,
    MCUBOOT_TRAILER_MAGIC_NOTGOOD = 5
};

/* Decoded flag (BOOT_FLAG_*; ANY only in tables). */
enum mcuboot_trailer_flag {
    MCUBOOT_TRAILER_FLAG_SET = 1,
    MCUBOOT_TRAILER_FLAG_BAD = 2,
    MCUBOOT_TRAILER_FLAG_UNSET = 3,
    MCUBOOT_TRAILER_FLAG_ANY = 4
};

/* BOOT_SWAP_TYPE_* (bootutil_public.h). */
enum mcuboot_trailer_swap {
    MCUBOOT_TRAILER_SWAP_NONE = 1,
    MCUBOOT_TRAILER_SWAP_TEST = 2,
    MCUBOOT_TRAILER_SWAP_PERM = 3,
    MCUBOOT_TRAILER_SWAP_REVERT = 4,
    MCUBOOT_TRAILER_SWAP_FAIL = 5,
    MCUBOOT_TRAILER_SWAP_PANIC = 0xff
};

/* Which status-area layout the upgrade mode uses. */
enum mcuboot_trailer_kind {
    MCUBOOT_TRAILER_SCRATCH, /* swap-scratch (and overwrite-only: same sizes) */
    MCUBOOT_TRAILER_MOVE,    /* swap-move: 1 move record + 2 swap records per sector */
    MCUBOOT_TRAILER_OFFSET,  /* swap-offset: 2 records per sector, extra TLV-sizes field */
    MCUBOOT_TRAILER_KIND_COUNT
};

/* Status operation of a record (BOOT_STATUS_OP_*; only swap-move has MOVE records). */
enum mcuboot_trailer_op { MCUBOOT_TRAILER_OP_MOVE = 1, MCUBOOT_TRAILER_OP_SWAP = 2 };

/* Geometry of one slot's trailer. Plain data; fill with mcuboot_trailer_geom_init(). */
struct mcuboot_trailer_geom {
    uint32_t slot_size;       /* bytes of the slot; the trailer ends there */
    uint32_t write_sz;        /* BOOT_WRITE_SZ: flash_area_align() of the slot */
    uint32_t max_align;       /* BOOT_MAX_ALIGN */
    uint32_t max_img_sectors; /* BOOT_MAX_IMG_SECTORS */
    uint8_t state_count;      /* BOOT_STATUS_STATE_COUNT: 3 scratch and move, 2 offset */
    uint8_t kind;             /* enum mcuboot_trailer_kind */
};

/* One slot's trailer as raw field values (what the flash holds). Plain data, 20 bytes.
 * Status: records are written in offset order, so the last one written (status_op,
 * status_idx, status_state) plus, for swap-move, the number of move records (which are
 * contiguous from idx 1) describe the whole status area. */
struct mcuboot_trailer {
    uint32_t swap_size;          /* MCUBOOT_TRAILER_ERASED_U32 when erased */
    uint16_t tlv_size_primary;   /* swap-offset only; ERASED_U16 when erased */
    uint16_t tlv_size_secondary; /* swap-offset only */
    uint16_t status_idx;         /* last status record written: sector index (>= 1), 0 = none */
    uint16_t status_moves;       /* swap-move: move records written (idx 1..status_moves) */
    uint8_t status_op;           /* its enum mcuboot_trailer_op */
    uint8_t status_state;        /* its state (>= 1) */
    uint8_t magic;               /* enum mcuboot_trailer_magic: GOOD, BAD or UNSET */
    uint8_t image_ok;            /* raw byte */
    uint8_t copy_done;           /* raw byte */
    uint8_t swap_info;           /* raw byte */
};

/* What boot_read_swap_state() reports for a slot. */
struct mcuboot_trailer_swap_state {
    uint8_t magic;     /* enum mcuboot_trailer_magic */
    uint8_t swap_type; /* enum mcuboot_trailer_swap; NONE when erased or > REVERT */
    uint8_t copy_done; /* enum mcuboot_trailer_flag */
    uint8_t image_ok;  /* enum mcuboot_trailer_flag */
    uint8_t image_num;
};

/* One flash write that a trailer update performs, in bytes from the slot start. */
struct mcuboot_trailer_write {
    uint32_t off;
    uint32_t len;
};

/* Fill a geometry. write_sz and max_align must be powers of two with
 * write_sz <= max_align <= 32; max_img_sectors >= 1; the trailer must fit the slot.
 * Returns 0 or SIM_EINVAL with a message. */
int mcuboot_trailer_geom_init(struct mcuboot_trailer_geom *g, enum mcuboot_trailer_kind kind,
                              uint32_t slot_size, uint32_t write_sz, uint32_t max_align,
                              uint32_t max_img_sectors, struct sim_diag *d);

/* Sizes and offsets (bytes; offsets from the slot start). */
uint32_t mcuboot_trailer_info_size(const struct mcuboot_trailer_geom *g); /* boot_trailer_info_sz */
uint32_t mcuboot_trailer_status_size(const struct mcuboot_trailer_geom *g); /* boot_status_sz */
uint32_t mcuboot_trailer_size(const struct mcuboot_trailer_geom *g);        /* boot_trailer_sz */
uint32_t mcuboot_trailer_magic_off(const struct mcuboot_trailer_geom *g);
uint32_t mcuboot_trailer_image_ok_off(const struct mcuboot_trailer_geom *g);
uint32_t mcuboot_trailer_copy_done_off(const struct mcuboot_trailer_geom *g);
uint32_t mcuboot_trailer_swap_info_off(const struct mcuboot_trailer_geom *g);
uint32_t mcuboot_trailer_tlv_sizes_off(const struct mcuboot_trailer_geom *g); /* offset kind */
uint32_t mcuboot_trailer_swap_size_off(const struct mcuboot_trailer_geom *g);
uint32_t mcuboot_trailer_status_off(const struct mcuboot_trailer_geom *g);
/* Offset of the status record (op, idx >= 1, state >= 1); UINT32_MAX when out of range. */
uint32_t mcuboot_trailer_record_off(const struct mcuboot_trailer_geom *g,
                                    enum mcuboot_trailer_op op, uint32_t idx, uint8_t state);

/* The trailer of an erased slot. */
void mcuboot_trailer_erase(struct mcuboot_trailer *t);

/* Decode the state as boot_read_swap_state() does. */
void mcuboot_trailer_state(const struct mcuboot_trailer *t, struct mcuboot_trailer_swap_state *out);

/* The state of an unreadable secondary slot: treated as empty (boot_swap_type_multi()). */
void mcuboot_trailer_state_empty(struct mcuboot_trailer_swap_state *out);

/* ---- Writes. Each returns 0 and stores the flash write in *w (may be NULL), or
 * SIM_EINVAL (nothing changed) when the field is not erased or an argument is out of range. */

/* boot_write_magic(): max(16, max_align) bytes at ALIGN_DOWN(magic_off, max_align). */
int mcuboot_trailer_write_magic(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                struct mcuboot_trailer_write *w);
/* boot_write_image_ok() / boot_write_copy_done(): one write of ALIGN_UP(1, write_sz). */
int mcuboot_trailer_write_image_ok(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                   struct mcuboot_trailer_write *w);
int mcuboot_trailer_write_copy_done(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                    struct mcuboot_trailer_write *w);
/* boot_write_swap_info(): swap type (2..4) and image number (0..15). */
int mcuboot_trailer_write_swap_info(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                    uint8_t swap_type, uint8_t image_num,
                                    struct mcuboot_trailer_write *w);
/* boot_write_swap_size(): ALIGN_UP(4, write_sz) bytes. */
int mcuboot_trailer_write_swap_size(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                    uint32_t swap_size, struct mcuboot_trailer_write *w);
/* boot_write_unprotected_tlv_sizes() (swap-offset only). */
int mcuboot_trailer_write_tlv_sizes(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                    uint16_t primary, uint16_t secondary,
                                    struct mcuboot_trailer_write *w);
/* boot_write_status(): the next record; must come after the last one written (records are
 * written in increasing offset order, MOVE before SWAP). */
int mcuboot_trailer_write_status(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                 enum mcuboot_trailer_op op, uint32_t idx, uint8_t state,
                                 struct mcuboot_trailer_write *w);

/* ---- Bytes ---- */

/* Write the trailer into slot (len == g->slot_size bytes; only the trailer region is
 * touched; it is first set to erased). Returns 0 or SIM_EINVAL. */
int mcuboot_trailer_encode(const struct mcuboot_trailer_geom *g, const struct mcuboot_trailer *t,
                           uint8_t *slot, size_t len);

/* Read the trailer of a slot image (len == g->slot_size). Status records are scanned as
 * boot_read_status_bytes() does: the last written record is the progress. Returns 0,
 * SIM_EINVAL for a wrong length, or SIM_EFORMAT (message) when a written record follows an
 * erased one (inconsistent status; MCUboot logs "Detected inconsistent status!"). */
int mcuboot_trailer_decode(const struct mcuboot_trailer_geom *g, const uint8_t *slot, size_t len,
                           struct mcuboot_trailer *out, struct sim_diag *d);

/* ---- Decisions ---- */

/* boot_swap_type_multi(): the first matching row of boot_swap_tables[] for a new swap;
 * swap_offset enables the swap-offset REVERT row (I). Rows, top to bottom:
 *   I   (offset) any  GOOD  any   UNSET any  SET  -> REVERT
 *   II           any  GOOD  any   UNSET any  any  -> TEST
 *   III          any  GOOD  any   SET   any  any  -> PERM
 *   IV           GOOD UNSET UNSET any   SET  any  -> REVERT
 * (columns: magic pri, magic sec, image_ok pri, image_ok sec, copy_done pri, copy_done sec)
 * No match -> NONE. Row IV's secondary magic is UNSET in the code; docs/design.md's "State IV"
 * says "any": we follow the code. */
enum mcuboot_trailer_swap
mcuboot_trailer_swap_type(const struct mcuboot_trailer_swap_state *primary,
                          const struct mcuboot_trailer_swap_state *secondary, bool swap_offset);

/* Short name ("none", "test", "perm", "revert", "fail", "panic"). */
const char *mcuboot_trailer_swap_type_name(enum mcuboot_trailer_swap t);

/* img_mgmt's state write, as boot_set_pending_multi() (secondary slot trailer):
 * magic UNSET -> write magic, image_ok when permanent, swap_info TEST/PERM; magic GOOD ->
 * nothing (already scheduled); magic BAD -> *erase_slot = true (the caller erases the whole
 * slot) and SIM_EFORMAT (BOOT_EBADIMAGE). Writes done are stored in w[0..*n_w) (up to 3). */
int mcuboot_trailer_set_pending(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                bool permanent, struct mcuboot_trailer_write w[3], size_t *n_w,
                                bool *erase_slot);

/* boot_set_confirmed_multi() on the primary slot trailer: magic UNSET or image_ok not UNSET
 * -> nothing; magic BAD -> SIM_EFORMAT (BOOT_EBADVECT); else write image_ok.
 * *n_w is 0 or 1. */
int mcuboot_trailer_set_confirmed(const struct mcuboot_trailer_geom *g, struct mcuboot_trailer *t,
                                  struct mcuboot_trailer_write *w, size_t *n_w);

#endif /* MODELS_MCUBOOT_TRAILER_H */
