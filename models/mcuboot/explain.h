/* models/mcuboot/explain.h - what one upgrade costs in each MCUboot mode on a board: flash
 * operations, bytes moved, swap duration, downtime and wear. The data behind
 * `dfusim explain`; this library fills rows and never prints.
 *
 * Copying modes run their real plan (models/mcuboot/swap.h) on the board's chips at the
 * selected timing corner; the radio is off while MCUboot runs, so no BLE slowdown applies.
 * Validation time is size / hash_rate + t_sig (both *unverified* parameters: no published
 * figure for these chips). Downtime is reset-to-application: validation of the update, the swap,
 * and validation of the primary on every boot (CONFIG_BOOT_VALIDATE_SLOT0, default y).
 * Wear counts the upload's erase of the secondary (img_mgmt erases the image length and the
 * trailer before it answers the first chunk, zephyrproject-rtos/zephyr:
 * subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c) plus the bootloader's erases.
 */
#ifndef MODELS_MCUBOOT_EXPLAIN_H
#define MODELS_MCUBOOT_EXPLAIN_H

#include "models/flash/map.h"
#include "sim/error.h"

#include <stdbool.h>
#include <stdint.h>

enum mcuboot_explain_mode {
    MCUBOOT_EXPLAIN_OVERWRITE,
    MCUBOOT_EXPLAIN_SCRATCH,
    MCUBOOT_EXPLAIN_MOVE,
    MCUBOOT_EXPLAIN_OFFSET,
    MCUBOOT_EXPLAIN_DIRECT_XIP,
    MCUBOOT_EXPLAIN_DIRECT_XIP_REVERT,
    MCUBOOT_EXPLAIN_RAM_LOAD,
    MCUBOOT_EXPLAIN_MODE_COUNT
};

/* Default ns of one signature check (assumed 10-300 ms depending on the crypto backend;
 * unverified). Shared with the slot model (models/mcuboot/slots.h). */
#define MCUBOOT_EXPLAIN_T_SIG_DEFAULT 100000000

/* Parameters without a published figure (unverified). */
struct mcuboot_explain_params {
    double hash_rate;              /* bytes/s of SHA-256 over flash; default 1e6 (assumed
                              0.5-2 MB/s on nRF52840/nRF5340, unverified) */
    int64_t t_sig;                 /* ns of one signature check; default
                                      MCUBOOT_EXPLAIN_T_SIG_DEFAULT */
    bool validate_primary;         /* MCUBOOT_VALIDATE_PRIMARY_SLOT; default true */
    enum flash_chip_corner corner; /* timing column of every chip; default FLASH_CHIP_MAX */
};

/* One mode's cost of one upgrade of an image of the given size. */
struct mcuboot_explain_row {
    uint8_t mode;               /* enum mcuboot_explain_mode */
    bool fits;                  /* the image fits this mode's room; other fields 0 if not */
    uint32_t max_image;         /* largest image the mode allows on this map, bytes */
    uint32_t erases;            /* sectors erased by the bootloader (trailers included) */
    uint32_t sector_copies;     /* sectors copied */
    uint32_t trailer_writes;    /* status records and trailer fields written */
    uint64_t bytes_moved;       /* bytes copied between slots (RAM-load: into RAM) */
    int64_t swap_ns;            /* the bootloader's flash work */
    int64_t downtime_ns;        /* reset to application: validation + swap */
    int64_t revert_ns;          /* flash work of a revert; 0 when the mode has none */
    uint32_t max_sector_erases; /* erase cycles of the most-worn sector per upgrade,
                                   upload erase included */
    bool refused;               /* MCUboot refuses the slots for this mode
                                   (boot_slots_compatible(), models/mcuboot/compat.h) */
    char why[320];              /* when !fits: why, MCUboot's reason where it is MCUboot's
                                   (refused slots, app_max_size()), else the model's limit */
};

/* Defaults of the unverified parameters (see the struct). */
void mcuboot_explain_params_default(struct mcuboot_explain_params *p);

/* ns to validate n_images images of `bytes` bytes in all: SHA-256 at hash_rate bytes/s
 * (<= 0: not timed), rounded to the nearest ns, plus one signature check of t_sig ns per
 * image. The one formula of validation time: explain and the slot model's boot
 * (models/mcuboot/slots.h) both use it. */
int64_t mcuboot_explain_validation_ns(double hash_rate, int64_t t_sig, uint64_t bytes,
                                      uint32_t n_images);

/* ns to validate one image of `size` bytes with p's rates. */
int64_t mcuboot_explain_validate_ns(const struct mcuboot_explain_params *p, uint64_t size);

/* Fill rows[mode] for every mode. A mode whose slots MCUboot refuses gets refused, fits
 * false and MCUboot's reason in why, and is not planned. Returns 0, or SIM_EINVAL / SIM_ERANGE /
 * SIM_ENOMEM with a message (a map the swap engine cannot model, e.g. non-uniform sectors). */
int mcuboot_explain(const struct flash_map *m, uint32_t image_size,
                    const struct mcuboot_explain_params *p,
                    struct mcuboot_explain_row rows[MCUBOOT_EXPLAIN_MODE_COUNT],
                    struct sim_diag *d);

/* "overwrite-only", "swap-scratch", "swap-move", "swap-offset", "direct-xip",
 * "direct-xip-revert", "ram-load"; "?" otherwise. */
const char *mcuboot_explain_mode_name(enum mcuboot_explain_mode m);
/* One line for `dfusim list bootloaders`: the mode's Kconfig option and what it does. */
const char *mcuboot_explain_mode_doc(enum mcuboot_explain_mode m);

#endif /* MODELS_MCUBOOT_EXPLAIN_H */
