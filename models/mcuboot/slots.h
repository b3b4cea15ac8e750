/* models/mcuboot/slots.h - one device's MCUboot image pair as img_mgmt sees it: the
 * implementation of struct smp_img_slots_ops (models/smp/img_slots.h) over the sector model
 * of swap.h, the trailer of trailer.h and a board's flash map, plus the boot at reset.
 *
 * Image contents are shared, state is not (CONTRIBUTING.md rule 6). The caller owns one table
 * of images (struct mcuboot_slots_image: descriptor, file bytes of a real image, linkage),
 * shared by every device; a device holds, per flash sector, which sector of which table image
 * it contains (swap.h's tags), per slot the progress of the upload being written, and the
 * trailer of each area. Written bytes are compared with the table image they claim to be, at
 * that offset (mcuboot_image_bytes), and forgotten; only an upload of bytes the table does
 * not hold is kept, where it differs, until it joins the table (struct mcuboot_slots_learner).
 *
 * One image pair only: slot 0 = primary, slot 1 = secondary; any other slot number is
 * SMP_IMG_SLOTS_ERR_INVALID_SLOT (image numbers other than 0: swap type FAIL, active slot -1).
 *
 * Per-slot content (secondary in swap-offset: image offset 0 is sector 1, as img_mgmt.c
 * writes it):
 *
 *   sector tag    MEANING
 *   ERASED        erased since last written
 *   (i+1, k)      holds sector k of table image i completely, every byte matched
 *   GARBAGE       anything else: partly written, bytes of no (or the wrong) table image,
 *                 padding or trailer bytes of a padded file, a cut erase or copy
 *
 *   upload cursor  MEANING (per slot; reset by erase_upload, erase_slot, boot, install)
 *   hwm            bytes [0, hwm) of the image area were written since the last erase
 *   good           bytes [0, good) equal the bytes of every table image in cand; good <= hwm.
 *                  good < hwm: a write did not match (another image, a gap, a rewrite)
 *   cand           bit i: table image i is still a candidate; the lowest one is "the image"
 *                  of the slot once the header is written (it stops narrowing at the first
 *                  mismatch)
 *   frontier_ok    the partly written sector at hwm holds only that image's bytes
 *   Invariant: a sector is tagged with the image when every image byte of it was written
 *   in sequence with the image's bytes (so a foreign chunk spoils only the sectors it
 *   touches); a partly written sector is GARBAGE, so a boot never sees a partly uploaded
 *   image as intact.
 *
 * Answers derived from that state (Zephyr img_mgmt_read_info() in
 * zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c):
 *   read_info   header sector ERASED -> NO_IMAGE; header bytes not a table image's ->
 *               INVALID_IMAGE_HEADER_MAGIC; TLV area [hdr+img, tlv_off+tlv_size) not that
 *               image's bytes (unwritten or overwritten) -> NO_TLVS (its info magic is not
 *               there); else the image's version, flags and SHA256 TLV. A corrupted body
 *               is not seen here, as upstream: only validation at boot sees it.
 *   check_sha   0 when the first len bytes are an unbroken prefix of one table image and
 *               their SHA-256 equals sha (file_sha when len is the file size, otherwise
 *               hashed from the shared bytes); anything else (erased, mixed) -> 1.
 *   swap_type   mcuboot_trailer_swap_type() over the two slot trailers (row I in
 *               swap-offset); NONE in the non-copying modes.
 *   xip_state   read_directxip_state() (img_mgmt_state.c): magic not GOOD -> UNSET,
 *               image_ok SET -> FOREVER, copy_done SET -> REVERT, else ONCE.
 *   set_next    boot_set_next() (mcu-tools/mcuboot: boot/bootutil/src/bootutil_public.c):
 *               active && confirm -> mcuboot_trailer_set_confirmed() on that slot, else
 *               mcuboot_trailer_set_pending(permanent = confirm); a BAD magic erases the slot
 *               and answers FLASH_WRITE_FAILED.
 *   active_slot 0 in the copying modes; the slot the last boot chose in the others.
 *   Swap-offset secondary: read_info looks for the header at sector 1 (an upload) and, when
 *   that is erased, at sector 0 (where a swap leaves the previous image). Derived from
 *   mcu-tools/mcuboot: boot/bootutil/src/swap_offset.c, not transcribed from img_mgmt.
 *   erase_progressively must equal img_mgmt's flag of the same name (one Kconfig option,
 *   CONFIG_IMG_ERASE_PROGRESSIVELY, read by two models).
 *
 * Time: every operation stores the flash time it took in last_ns (mcuboot_slots_last_op_ns),
 * application side (erases and writes in radio timeslots while ble_active on a chip that
 * needs them, through s->radio; otherwise the flash of that slot, multiplied by the chip's
 * BLE slowdown while ble_active): erase per sector, write per program unit
 * (flash_chip_write_ns), read for is_empty (up to the first non-erased sector) and
 * check_sha, plus hashing at hash_rate.
 * Header and trailer reads (read_info, swap_type, xip_state) are not charged (0).
 * A boot (radio off) takes its flash work plus, per image it validates, the hash at
 * hash_rate and one signature check of t_sig: mcuboot_explain_validation_ns(), the formula
 * `dfusim explain` uses, so a boot agrees with explain's downtime. Validations: the
 * secondary before a new swap (not on resume), the primary at every boot that starts an
 * image with validate_primary, every direct-xip / RAM-load candidate tried.
 * Wear: every erase and write of an operation is counted in the optional flash_wear table
 * (a trailer write counts as one write of the slot's last sector, as swap.h does).
 *
 * Covered: all four copying modes through mcuboot_swap_boot (with power cut and resume),
 * direct-xip with and without revert and RAM-load through mcuboot_xip_boot, progressive
 * erase (CONFIG_IMG_ERASE_PROGRESSIVELY: a write erases each sector it enters; the last
 * write erases the trailer sector, flash_img_buffered_write() in zephyrproject-rtos/zephyr:
 * subsys/dfu/img_util/flash_img.c), a reset in the middle of an upload (the partly
 * written sector is garbage; the bootloader scrambles the image if it was scheduled).
 * Not covered: the trailer bytes of a padded file
 * (imgtool --pad --confirm) are not decoded into trailer state; signature checks (validity
 * at boot = every sector of the image intact; a signature check is timed, never fails);
 * validation of the primary at boot is timed, not checked beyond intactness; a cut upload
 * write (power loss in the application).
 */
#ifndef MODELS_MCUBOOT_SLOTS_H
#define MODELS_MCUBOOT_SLOTS_H

#include "models/flash/map.h"
#include "models/flash/wear.h"
#include "models/mcuboot/image.h"
#include "models/mcuboot/swap.h"
#include "models/mcuboot/trailer.h"
#include "models/smp/img_slots.h"
#include "sim/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/scenario/settings.h"

#define MCUBOOT_SLOTS_MAX_IMAGES (MCUBOOT_SWAP_MAX_IMAGES - 1u) /* swap.h image ids 1..15 */
#define MCUBOOT_SLOTS_NONE       (-1)

/* Bootloader modes (mcu-tools/mcuboot: docs/design.md, boot/bootutil/src/). The first four are enum
 * mcuboot_swap_mode. */
enum mcuboot_slots_mode {
    MCUBOOT_SLOTS_OVERWRITE = MCUBOOT_SWAP_OVERWRITE,
    MCUBOOT_SLOTS_SWAP_SCRATCH = MCUBOOT_SWAP_SCRATCH,
    MCUBOOT_SLOTS_SWAP_MOVE = MCUBOOT_SWAP_MOVE,
    MCUBOOT_SLOTS_SWAP_OFFSET = MCUBOOT_SWAP_OFFSET,
    MCUBOOT_SLOTS_DIRECT_XIP,
    MCUBOOT_SLOTS_DIRECT_XIP_REVERT,
    MCUBOOT_SLOTS_RAM_LOAD,
    MCUBOOT_SLOTS_RAM_LOAD_REVERT,
    MCUBOOT_SLOTS_MODE_COUNT
};

/* One entry of the shared image table. Plain data; the file bytes are not owned. */
struct mcuboot_slots_image {
    struct mcuboot_image img; /* descriptor (parse or synth) */
    const uint8_t *file;      /* img.file_size bytes of a real image; NULL when synthetic */
    uint8_t linked_slot;      /* direct-xip: slot the image was linked for (0 or 1) */
    bool learned;             /* added by mcuboot_slots_learner from an upload */
};

/* Images learned from uploads: slots keep what was written, as flash does.
 *
 * An upload whose bytes are no table image's (a client uploading a build the scenario did not
 * name, as a real tool against `dfusim serve` does) is kept by its slot while it is written:
 * the table image it started as (the longest matching one, or none) and, per 4 KiB page, the
 * bytes only where they differ from it (struct mcuboot_slots_pending). When the last chunk is
 * written, the bytes [0, hwm) are parsed as an MCUboot image (mcuboot_image_parse); if they
 * are one, they join the table once per distinct file (by file SHA-256), so every device that
 * uploads the same build shares one copy, and the slot's sectors are tagged with it: from there
 * on it is listed with its own version and hash, hashed by check_sha, swapped and booted like
 * any table image. Bytes that are not an image stay garbage, as today.
 * The table is shared by every group (cfg->images points into it); n counts its entries,
 * learned ones included, up to cap (<= MCUBOOT_SLOTS_MAX_IMAGES): an upload beyond that stays
 * garbage (read_info answers INVALID_IMAGE_HEADER_MAGIC), a documented limit.
 * judge (optional) gives the devices' MCUboot's verdict on a learned image (image.keys);
 * refusal[x] keeps its reason (for any table image), and a device fails such an image's
 * validation at boot. */
struct mcuboot_slots_learner {
    struct mcuboot_slots_image *images; /* the table; the same array as cfg->images */
    uint32_t n, cap;
    uint8_t *owned[MCUBOOT_SWAP_MAX_IMAGES]; /* bytes of learned images (index = table index) */
    /* false: refused, with MCUboot's reason in why */
    bool (*judge)(void *env, const struct mcuboot_slots_image *im, char *why, size_t cap);
    void *env;
    char *refusal[MCUBOOT_SWAP_MAX_IMAGES]; /* owned: why the devices' MCUboot refuses image
                                             * x (learned or not), or NULL: it boots intact */
};

/* Image x of the table is refused by the devices' MCUboot, for reason why (copied).
 * Returns 0, SIM_EINVAL (x out of range) or SIM_ENOMEM. */
int mcuboot_slots_learner_refuse(struct mcuboot_slots_learner *l, uint32_t x, const char *why);
/* Free the learned images' bytes and the reasons. */
void mcuboot_slots_learner_fini(struct mcuboot_slots_learner *l);

/* Configuration shared by every device of a group. Fill with mcuboot_slots_cfg_init(),
 * then override the public fields if needed. Not changed by the devices. */
struct mcuboot_slots_cfg {
    struct mcuboot_swap_geom geom;            /* chips, sectors, trailer geometry */
    struct flash_map map;                     /* slot addresses (slot_addr) */
    const struct mcuboot_slots_image *images; /* shared table; not owned */
    uint32_t n_images;                        /* <= MCUBOOT_SLOTS_MAX_IMAGES */
    uint32_t hash_rate;       /* bytes/s of SHA-256 (boot validation, check_sha); 0 = free.
                               Unverified: assumed 0.5-2 MB/s on nRF52840 */
    int64_t t_sig;            /* ns of one signature check, once per image validated at
                               boot; default MCUBOOT_EXPLAIN_T_SIG_DEFAULT (100 ms).
                               Unverified: assumed 10-300 ms by crypto backend */
    uint8_t mode;             /* enum mcuboot_slots_mode */
    bool erase_progressively; /* CONFIG_IMG_ERASE_PROGRESSIVELY (default n) */
    bool validate_primary;    /* CONFIG_BOOT_VALIDATE_SLOT0 (default y): time only */
    bool use_build;           /* MCUBOOT_VERSION_CMP_USE_BUILD_NUMBER (direct-xip) */
    struct mcuboot_slots_learner *learn; /* shared, not owned; NULL: foreign bytes are garbage */
};

/* Upload progress of one slot (see the table above). */
struct mcuboot_slots_upload {
    uint32_t hwm;
    uint32_t good;
    uint32_t erased_to; /* progressive erase: image bytes [0, erased_to) erased this upload */
    uint16_t cand;
    bool frontier_ok; /* the partly written sector at hwm holds only bytes of the image */
};

/* Where application-side erases and writes take their time when the chip shares it with
 * the radio (flash_chip.sync_write_window_ns > 0) and a BLE link is up: the device places
 * them in radio timeslots (models/flash/radio_sync.h) from the time it knows. */
struct mcuboot_slots_radio {
    void *env;
    /* Wall time of erase_ns of page erases, then write_ns of writes, on chip c. */
    int64_t (*flash_ns)(void *env, const struct flash_chip *c, int64_t erase_ns, int64_t write_ns);
};

/* The bytes of an upload that is no table image's (see mcuboot_slots_learner): pages of
 * MCUBOOT_SLOTS_PAGE bytes, each NULL while it equals the base image there (0xff beyond it). */
#define MCUBOOT_SLOTS_PAGE 4096u
struct mcuboot_slots_pending {
    int base; /* table image the upload started as, or MCUBOOT_SLOTS_NONE */
    uint32_t n_pages;
    uint8_t *page[]; /* owned */
};

/* One device. Caller storage (a flat array of devices); _init allocates the sector tags:
 * 2 bytes per sector of primary, secondary and scratch (466 B on the nRF5340 DK). */
struct mcuboot_slots {
    const struct mcuboot_slots_cfg *cfg;                 /* not owned */
    mcuboot_swap_tag_t *sector[MCUBOOT_SWAP_AREA_COUNT]; /* tags; one allocation, owned */
    struct mcuboot_trailer trailer[MCUBOOT_SWAP_AREA_COUNT];
    struct mcuboot_slots_upload up[2];
    struct mcuboot_slots_pending *pending[2]; /* per slot; NULL unless learning an upload */
    struct flash_wear *wear;                  /* optional; not owned */
    uint32_t wear_dev;
    uint32_t wear_base[MCUBOOT_SWAP_AREA_COUNT]; /* wear sector of each area's sector 0 */
    int64_t last_ns;                             /* flash time of the last operation */
    int8_t active;                               /* slot the running image executes from */
    bool ble_active;                             /* a BLE link is up: app flash slows */
    const struct mcuboot_slots_radio *radio;     /* NULL: flash work at once (x slowdown) */
};

/* What one boot did. */
struct mcuboot_slots_boot_result {
    int64_t ns; /* flash time + validation (hash + t_sig per image) (+ RAM copy) */
    int image;  /* table index of the image that runs; MCUBOOT_SLOTS_NONE if none */
    int slot;   /* slot it executes from; MCUBOOT_SLOTS_NONE if none */
    uint32_t validated_bytes;
    uint32_t validations; /* images validated (hashed and signature-checked) */
    uint8_t swap_type;    /* enum mcuboot_trailer_swap performed (swap modes), else NONE */
    uint8_t erased;       /* direct-xip / RAM-load: bit per slot erased by the boot */
    bool resumed;         /* swap modes: continued a swap cut by an earlier power loss */
    bool cut;             /* power was lost during this boot */
    bool scrambled;       /* swap modes: the secondary was invalid and erased */
    bool runs;            /* direct-xip: false when the image was linked for the other slot */
};

/* Fill a configuration for a mode on a board map: chips from the map's areas (scratch only
 * for swap-scratch), trailer geometry of the mode (the non-copying modes use the
 * swap-scratch layout), an image table of n_images (<= 15) entries (not copied; must outlive
 * the devices). hash_rate 1 MB/s, t_sig MCUBOOT_EXPLAIN_T_SIG_DEFAULT, validate_primary
 * true, the rest false.
 * Returns 0, or SIM_EINVAL / SIM_ERANGE with a message (unknown mode or chip, non-uniform
 * sectors, too many images). */
int mcuboot_slots_cfg_init(struct mcuboot_slots_cfg *c, enum mcuboot_slots_mode mode,
                           const struct flash_map *map, const struct mcuboot_slots_image *images,
                           uint32_t n_images, struct sim_diag *d);

/* Set up a device with erased slots, active slot 0. wear may be NULL (no counting);
 * wear_base gives the wear sector of sector 0 of primary, secondary and scratch (NULL when
 * wear is NULL). Returns 0, SIM_ENOMEM (s left finalised) or SIM_EINVAL (bad cfg). */
int mcuboot_slots_init(struct mcuboot_slots *s, const struct mcuboot_slots_cfg *cfg,
                       struct flash_wear *wear, uint32_t wear_dev,
                       const uint32_t wear_base[MCUBOOT_SWAP_AREA_COUNT]);
/* Free the tags. Accepts a zeroed or finalised device. */
void mcuboot_slots_fini(struct mcuboot_slots *s);

/* The interface for img_mgmt, bound to s (not owned). */
struct smp_img_slots mcuboot_slots_bind(struct mcuboot_slots *s);

/* Factory programming: slot holds table image `image` intact where an upload would put it
 * (sector 0; sector 1 for a swap-offset secondary), the rest of the slot erased, no wear,
 * no time; with confirmed its trailer has magic and image_ok (imgtool --pad --confirm),
 * else it is erased. Returns 0, or SIM_EINVAL (bad slot or image, image does not fit). */
int mcuboot_slots_install(struct mcuboot_slots *s, int slot, uint32_t image, bool confirmed);

/* The table image slot holds intact (from sector 0, or the upload sector of a swap-offset
 * secondary), or MCUBOOT_SLOTS_NONE. */
int mcuboot_slots_image_in(const struct mcuboot_slots *s, int slot);

/* Fault injection. A write cut by a power loss: the sectors of image bytes [off, off + n)
 * of slot hold garbage (the write had been applied; the cut spoils it). Returns 0 or
 * SIM_EINVAL (bad slot, n 0). */
int mcuboot_slots_cut_write(struct mcuboot_slots *s, int slot, uint32_t off, size_t n);
/* A second writer (nRF Desktop's config-channel DFU) programs bytes of no table image at
 * image offsets [off, off + n) of slot, besides any upload in progress there: the sectors
 * they touch hold garbage, the upload's good prefix ends before the first of them (its hash
 * no longer matches), and the upload's partly written sector is spoilt only when touched
 * (the upload's own later sectors keep their tags). Returns 0 or SIM_EINVAL (bad slot,
 * n 0). */
int mcuboot_slots_foreign_write(struct mcuboot_slots *s, int slot, uint32_t off, size_t n);
/* Fault injection. The image slot holds intact stops validating (a signature or hash that
 * does not verify): its last sector, where the TLVs lie, is garbage from now on, so a boot
 * refuses it as MCUboot refuses an image whose check fails. The upload cursor is reset.
 * Returns 0, or SIM_EINVAL when the slot holds no intact image. */
int mcuboot_slots_fail_validation(struct mcuboot_slots *s, int slot);

/* Reset: MCUboot runs over this state (radio off, bare flash times). Swap modes:
 * mcuboot_swap_boot() on the tags and trailers (cut_at >= 0 cuts power during that step,
 * as there); the running slot stays 0. Direct-xip / RAM-load: mcuboot_xip_boot(), whose
 * erases and copy_done writes are applied here (cut_at ignored); the chosen slot becomes the
 * active one (unchanged when nothing boots). Upload cursors are reset (RAM is lost).
 * Returns 0 (result in *r), or an error of mcuboot_swap_boot() with a message. */
int mcuboot_slots_boot(struct mcuboot_slots *s, long cut_at, struct mcuboot_slots_boot_result *r,
                       struct sim_diag *d);

/* What the next boot would copy, without changing anything: the swap steps it would run
 * (0 in the non-copying modes, or when no swap is pending or the secondary fails
 * validation) and their flash time in ns (mcuboot_swap_boot_plan()). A cut_at below
 * *steps loses power inside the swap. Returns 0 or SIM_ERANGE / SIM_ENOMEM (zeros). */
int mcuboot_slots_boot_plan(const struct mcuboot_slots *s, size_t *steps, int64_t *ns);

/* Flash time (ns) of the last operation of any kind, boot included. */
static inline int64_t mcuboot_slots_last_op_ns(const struct mcuboot_slots *s)
{
    return s->last_ns;
}

/* A BLE link is (not) active: application-side flash time is multiplied by ble_slowdown. */
static inline void mcuboot_slots_set_ble(struct mcuboot_slots *s, bool active)
{
    s->ble_active = active;
}

/* ---- settings: devices[].mcuboot (table in slots.c) ---- */

/* MCUboot's validation timing (mcuboot_slots_cfg hash_rate and t_sig). */
struct mcuboot_timing_settings {
    uint64_t hash_rate;  /* bytes/s */
    int64_t sig_time;    /* ns */
    bool validate_slot0; /* CONFIG_BOOT_VALIDATE_SLOT0 */
    char *kconfig;       /* MCUboot's .config (sysbuild's mcuboot/zephyr/.config); NULL: none */
    struct scenario_pos kconfig_at;
    uint64_t given; /* which keys the scenario gave (scenario_given) */
};
extern const struct scenario_schema mcuboot_timing_settings_schema;
/* Time c's validation as s says. */
void mcuboot_slots_cfg_apply_timing(struct mcuboot_slots_cfg *c,
                                    const struct mcuboot_timing_settings *s);

/* Upgrade modes as a scenario names them (devices[].bootloader), in enum
 * mcuboot_slots_mode order up to RAM_LOAD, NULL-terminated. */
extern const char *const mcuboot_slots_mode_names[];

#endif /* MODELS_MCUBOOT_SLOTS_H */
