/* models/mcuboot/swap.h - the upgrade engine of the copying modes (overwrite-only FAST,
 * swap-scratch, swap-move, swap-offset): per-mode step tables, one executor, and the boot
 * that decides, resumes after a power loss and finalises, with the time every step takes.
 *
 * A plan is the exact sequence of flash operations MCUboot performs for one swap (erase,
 * copy, trailer and status writes), built by a per-mode table builder; one engine executes
 * any plan on a sector-content model (which image sector each flash sector holds), charges
 * time from the chip profiles (radio off: MCUboot runs before the application) and resumes
 * a cut swap from the last status record in the primary trailer, redoing at most the
 * interrupted step. The algorithms of
 * mcu-tools/mcuboot (main, 2d4bacc): boot/bootutil/src/loader.c (boot_copy_image,
 * boot_perform_update), swap_scratch.c, swap_move.c, swap_offset.c, swap_misc.c.
 *
 * Boot (mcuboot_swap_boot), one call per reset:
 *
 *     status source? --yes--> resume plan(type, swap_size from the trailer) after the last
 *          |                  status record --> finalise (copy_done, image_ok)
 *          no
 *          v
 *     decision table (mcuboot_trailer_swap_type) --NONE--> boot primary
 *          | TEST / PERM / REVERT
 *          v
 *     secondary intact (validates)? --no--> erase secondary, boot primary (NONE)
 *          | yes
 *          v
 *     run plan from step 0 --> finalise --> boot primary
 *
 * Status source (swap_status_source() in swap_move.c / swap_offset.c / swap_scratch.c): in
 * swap-scratch the scratch trailer when its magic is GOOD (the swap then restarts from its
 * first step); otherwise the primary trailer when its magic is GOOD, copy_done is unset and
 * (swap-move, swap-offset) the secondary magic is not GOOD. Overwrite-only has no status: a
 * cut copy starts again from step 0 while the secondary is intact.
 *
 * Revert window: before a revert re-initialises the primary trailer, fixup_revert() marks
 * the secondary GOOD, so that a power loss in that window does not lose the request. In
 * swap-move it sets image_ok there (swap_move.c): the window turns into a PERM swap of the
 * same image (decision row III). In swap-offset it sets copy_done (swap_offset.c): the window
 * resolves through row I (REVERT), the row that exists only in swap-offset. Both run the
 * fixup only while the secondary magic is UNSET; a revert that starts with a GOOD secondary
 * skips it (the plan's first two steps), or a second power loss could erase the only copy of
 * the request. Upstream's swap-offset fixup also writes swap_info and the TLV sizes there
 * (swap_status_init()); the model writes copy_done, swap_size and magic (two trailer writes
 * less, time only).
 *
 * Modelling limits (each returns SIM_ERANGE with a message rather than a wrong answer):
 * uniform sectors of one size in all areas; swap-scratch only while the swapped region does
 * not reach the primary's trailer sectors (MCUboot then keeps status in the scratch trailer);
 * one image pair; no encryption. The swap-offset revert loop follows swap_run() and
 * boot_swap_sectors_revert() in swap_offset.c (from the top: primary[i] -> secondary[i+1],
 * secondary[i] -> primary[i], then secondary sector 0 is scrambled); upstream then also
 * scrambles the secondary trailer, which the model has already erased at that point, so the
 * model leaves that erase out (one trailer erase less per swap-offset revert, time only).
 */
#ifndef MODELS_MCUBOOT_SWAP_H
#define MODELS_MCUBOOT_SWAP_H

#include "models/flash/chip.h"
#include "models/flash/wear.h"
#include "models/mcuboot/trailer.h"
#include "sim/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mcuboot_swap_mode {
    MCUBOOT_SWAP_OVERWRITE, /* overwrite-only, the FAST variant Zephyr always selects */
    MCUBOOT_SWAP_SCRATCH,
    MCUBOOT_SWAP_MOVE,
    MCUBOOT_SWAP_OFFSET,
    MCUBOOT_SWAP_MODE_COUNT
};

enum mcuboot_swap_area {
    MCUBOOT_SWAP_PRIMARY,
    MCUBOOT_SWAP_SECONDARY,
    MCUBOOT_SWAP_SCRATCH_AREA,
    MCUBOOT_SWAP_AREA_COUNT
};

enum mcuboot_swap_op {
    MCUBOOT_SWAP_OP_ERASE,         /* erase n sectors of area from sector */
    MCUBOOT_SWAP_OP_COPY,          /* copy n sectors src_area:src_sector -> area:sector */
    MCUBOOT_SWAP_OP_ERASE_TRAILER, /* swap_erase_trailer_sectors(area) */
    MCUBOOT_SWAP_OP_STATUS_INIT,   /* swap_status_init(area): swap_info, [image_ok], swap_size,
                                      [TLV sizes], magic */
    MCUBOOT_SWAP_OP_STATUS,        /* boot_write_status(): one record in the primary trailer */
    MCUBOOT_SWAP_OP_MAGIC,         /* boot_write_magic(area) (overwrite-only FAST) */
    MCUBOOT_SWAP_OP_IMAGE_OK,      /* swap_set_image_ok(): primary image_ok (PERM, REVERT) */
    MCUBOOT_SWAP_OP_COPY_DONE,     /* swap_set_copy_done(): primary copy_done */
    MCUBOOT_SWAP_OP_FIXUP_REVERT   /* fixup_revert(): secondary image_ok (swap-move) or
                                      copy_done (swap-offset), swap_size, magic */
};

/* One flash operation of a plan. 14 bytes. */
struct mcuboot_swap_step {
    uint16_t sector;     /* first destination sector (ERASE, COPY) */
    uint16_t src_sector; /* first source sector (COPY) */
    uint16_t n;          /* sectors (ERASE, COPY) */
    uint16_t idx;        /* status record: sector index, >= 1 (STATUS) */
    uint8_t op;          /* enum mcuboot_swap_op */
    uint8_t area;        /* enum mcuboot_swap_area: destination */
    uint8_t src_area;    /* enum mcuboot_swap_area: source (COPY) */
    uint8_t status_op;   /* status record: enum mcuboot_trailer_op (STATUS) */
    uint8_t state;       /* status record: state, >= 1 (STATUS) */
};

/* Everything a plan and its timing depend on. Plain data. */
struct mcuboot_swap_geom {
    struct flash_chip chip[MCUBOOT_SWAP_AREA_COUNT]; /* chip of each area (scratch: unused
                                                        when n_sectors[SCRATCH] == 0) */
    struct mcuboot_trailer_geom trailer;             /* of the primary slot (status lives there) */
    uint32_t sector_size;                            /* bytes; the same in every area */
    uint16_t n_sectors[MCUBOOT_SWAP_AREA_COUNT];     /* sectors per area */
    uint16_t trailer_sectors; /* sectors at the end of a slot holding its trailer */
    uint8_t mode;             /* enum mcuboot_swap_mode */
};

/* A materialised plan: the steps of one swap. mcuboot_swap_plan_build() allocates the steps,
 * mcuboot_swap_plan_fini() frees them. */
struct mcuboot_swap_plan {
    struct mcuboot_swap_step *steps;
    size_t n_steps;
    size_t cap;
    size_t first_resume; /* step to resume at when the status area holds no record yet */
    uint32_t swap_size;  /* bytes swapped (the larger image, header and TLVs included) */
    uint16_t n_img;      /* L: sectors covering swap_size */
    uint8_t type;        /* enum mcuboot_trailer_swap: TEST, PERM or REVERT */
};

/* Operation counts and time of a plan (counted from the algorithms above). */
struct mcuboot_swap_cost {
    uint32_t erases[MCUBOOT_SWAP_AREA_COUNT]; /* sector erases per area (ERASE steps) */
    uint32_t trailer_erases;                  /* sectors erased by ERASE_TRAILER steps */
    uint32_t copies;                          /* sectors copied */
    uint32_t status_writes;                   /* status records */
    uint32_t trailer_writes;                  /* magic, flags, swap_info, swap_size writes */
    uint64_t bytes_copied;
    int64_t ns; /* at the chips' selected timing corner */
};

/* ---- Sector-content model (caller storage) ---- */

/* What a flash sector holds, in 16 bits (a fleet keeps one per sector per device): the
 * image id (1..15) in the top 4 bits and the image's sector number below, or one of: */
typedef uint16_t mcuboot_swap_tag_t;
#define MCUBOOT_SWAP_ERASED      0u      /* an erased sector */
#define MCUBOOT_SWAP_GARBAGE     0xffffu /* a sector whose erase or write was cut */
#define MCUBOOT_SWAP_MAX_IMAGES  16u     /* image ids 1..15 */
#define MCUBOOT_SWAP_TAG_BITS    12u     /* bits of the sector number */
/* Sectors per area: 4095 (16 MiB of 4 KiB sectors, less one), so that no tag equals
 * MCUBOOT_SWAP_GARBAGE (image 15's sector 4095 would). */
#define MCUBOOT_SWAP_MAX_SECTORS ((1u << MCUBOOT_SWAP_TAG_BITS) - 1u)

/* Tag of sector s (< MCUBOOT_SWAP_MAX_SECTORS) of image id (1..15). */
static inline mcuboot_swap_tag_t mcuboot_swap_tag(uint32_t image, uint32_t sector)
{
    return (mcuboot_swap_tag_t)((image << MCUBOOT_SWAP_TAG_BITS) | sector);
}

/* The image id of a tag of sector 0 of an image, else 0. */
static inline uint32_t mcuboot_swap_tag_image0(mcuboot_swap_tag_t tag)
{
    if (tag == MCUBOOT_SWAP_ERASED || tag == MCUBOOT_SWAP_GARBAGE ||
        (tag & ((1u << MCUBOOT_SWAP_TAG_BITS) - 1u)) != 0)
        return 0;
    return (uint32_t)tag >> MCUBOOT_SWAP_TAG_BITS;
}

/* The flash of one device as the engine sees it. */
struct mcuboot_swap_flash {
    mcuboot_swap_tag_t *sector[MCUBOOT_SWAP_AREA_COUNT]; /* n_sectors tags per area; caller-owned */
    struct mcuboot_trailer trailer[MCUBOOT_SWAP_AREA_COUNT];
    uint32_t img_size[MCUBOOT_SWAP_MAX_IMAGES]; /* bytes of each image id (header + TLVs),
                                                   as its header tells; 0 = unknown */
    /* Optional wear accounting (wear == NULL: none). Sector k of area a is counter
     * wear_base[a] + k of device wear_dev. Every erase and write is charged, cut ones too;
     * a trailer field or status write is charged to the area's last sector. Not owned. */
    struct flash_wear *wear;
    uint32_t wear_dev;
    uint32_t wear_base[MCUBOOT_SWAP_AREA_COUNT];
};

/* What one boot did. */
struct mcuboot_swap_result {
    int64_t ns;               /* flash time of this boot (validation excluded) */
    size_t steps;             /* steps executed, the cut one included */
    uint8_t type;             /* enum mcuboot_trailer_swap performed (NONE if none) */
    bool resumed;             /* continued a swap cut by an earlier power loss */
    bool cut;                 /* power was lost during this boot */
    bool scrambled;           /* the secondary was invalid and was erased */
    uint32_t validated_bytes; /* bytes of the secondary hashed before a new swap (the caller
                                 adds the primary's when it validates on every boot) */
    uint32_t boot_image;      /* image id in the primary after this boot; 0 when not bootable */
    struct mcuboot_swap_cost cost;
};

/* Fill a geometry for a mode from chips, slot sizes (bytes) and the write size of the
 * primary. BOOT_MAX_IMG_SECTORS is the primary's sector count (Zephyr's
 * CONFIG_BOOT_MAX_IMG_SECTORS_AUTO). scratch_size is used by swap-scratch only.
 * Returns 0 or SIM_EINVAL / SIM_ERANGE with a message. */
int mcuboot_swap_geom_init(struct mcuboot_swap_geom *g, enum mcuboot_swap_mode mode,
                           const struct flash_chip *primary, uint32_t primary_size,
                           const struct flash_chip *secondary, uint32_t secondary_size,
                           const struct flash_chip *scratch, uint32_t scratch_size,
                           struct sim_diag *d);

/* Build the plan of one swap of `type` (TEST, PERM or REVERT) moving swap_size bytes.
 * p must be zero-initialised or finalised; on failure it is left empty.
 * Returns 0, SIM_ERANGE (image does not fit the mode's room, message), SIM_EINVAL,
 * or SIM_ENOMEM. */
int mcuboot_swap_plan_build(struct mcuboot_swap_plan *p, const struct mcuboot_swap_geom *g,
                            enum mcuboot_trailer_swap type, uint32_t swap_size, struct sim_diag *d);
/* Free the steps. Accepts a zeroed plan; leaves it zeroed. */
void mcuboot_swap_plan_fini(struct mcuboot_swap_plan *p);

/* Largest swap_size (bytes) a plan accepts: whole sectors below the trailer sectors, less the
 * extra sector swap-move needs in the primary and swap-offset in the secondary. (MCUboot's
 * own limit for overwrite-only and swap-scratch is the slot less the trailer bytes; the
 * engine stops at the trailer sector, see the limits above.) */
uint32_t mcuboot_swap_max_image(const struct mcuboot_swap_geom *g);

/* ns of one step on the geometry's chips. */
int64_t mcuboot_swap_step_ns(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_plan *p,
                             size_t i);

/* Counts and time of the whole plan. */
void mcuboot_swap_plan_cost(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_plan *p,
                            struct mcuboot_swap_cost *out);

/* Apply step i to the flash model. When cut, the step's destination sectors become
 * GARBAGE (trailer and status writes are atomic: a cut write is not written).
 * Returns 0, SIM_ERANGE when the wear mapping points outside the wear table, or
 * SIM_EINTERNAL when a trailer write hits a programmed field (a plan bug). */
int mcuboot_swap_exec(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_plan *p,
                      size_t i, struct mcuboot_swap_flash *f, bool cut);

/* True when `area` holds image `image` intact from `first` (its header sector) on: what
 * hash validation would accept. */
bool mcuboot_swap_image_intact(const struct mcuboot_swap_geom *g,
                               const struct mcuboot_swap_flash *f, enum mcuboot_swap_area area,
                               uint32_t first, uint32_t image);

/* The image id whose header sector sits at `first` of `area` (0 for erased or garbage). */
uint32_t mcuboot_swap_image_at(const struct mcuboot_swap_flash *f, enum mcuboot_swap_area area,
                               uint32_t first);

/* One boot of MCUboot over the flash model, as the diagram above. cut_at >= 0 loses power
 * during the cut_at-th step this boot executes (0-based); -1 runs to the end. The plan is
 * allocated and freed within the call (boots are rare events). f is updated in place (on an
 * error, up to the failing step).
 * Returns 0 (result in *r), or SIM_ERANGE (the image does not fit the mode, or the wear
 * mapping is out of range) / SIM_ENOMEM / SIM_EINTERNAL (a plan wrote a programmed trailer
 * field: a model bug) with a message. */
int mcuboot_swap_boot(const struct mcuboot_swap_geom *g, struct mcuboot_swap_flash *f, long cut_at,
                      struct mcuboot_swap_result *r, struct sim_diag *d);

/* What the next mcuboot_swap_boot() over f would execute, without changing f: the number
 * of steps it runs (0 when it swaps nothing: no swap pending, or a secondary that fails
 * validation and is scrambled), their flash time (ns, validation excluded) and whether it
 * resumes a cut swap. Used to cut power after a given share of the steps.
 * Returns 0, or the error of mcuboot_swap_plan_build() (counts zeroed). */
int mcuboot_swap_boot_plan(const struct mcuboot_swap_geom *g, const struct mcuboot_swap_flash *f,
                           size_t *steps, int64_t *ns, bool *resume);

/* Name of a mode ("overwrite-only", "swap-scratch", "swap-move", "swap-offset"). */
const char *mcuboot_swap_mode_name(enum mcuboot_swap_mode m);

#endif /* MODELS_MCUBOOT_SWAP_H */
