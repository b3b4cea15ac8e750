/* models/mcuboot/compat.h - whether MCUboot accepts a board's slots for an upgrade mode,
 * and the largest image it then accepts: its boot_slots_compatible() and app_max_size()
 * (mcu-tools/mcuboot main, 2d4bacc: boot/bootutil/src/swap_move.c, swap_offset.c,
 * swap_scratch.c), evaluated on the sectors of the map's chips (non-uniform ones too).
 *
 * Rules, per mode (each refusal names MCUboot's own warning):
 *   swap-move:   the primary has as many sectors as the secondary or one more ("not a
 *                compatible amount of sectors"); sector i has the same size in both, and a
 *                primary's extra sector the size of its last one ("not same sector
 *                layout"). Largest image: primary - trailer sectors - one sector of move
 *                room, and secondary - trailer sectors, with sectors of the primary's first
 *                sector's size (app_max_size()); swap_run() refuses a larger one ("Not enough
 *                free space to run swap upgrade").
 *   swap-offset: the secondary has as many sectors as the primary or one more; the first
 *                n_secondary - 1 sectors are of equal size. Largest image: primary - trailer
 *                sectors, and secondary - trailer sectors - the offset sector.
 *   swap-scratch, overwrite-only: walking both slots, sectors of one slot must group into
 *                whole sectors of the other ("slots have non-compatible sectors"), every
 *                such group must fit the scratch area (swap-scratch: "not all sectors fit
 *                inside scratch"), and both slots must end together ("slots are not
 *                compatible"). Largest image: the smaller slot less the trailer bytes.
 *   direct-xip, direct-xip-revert, ram-load: no slot compatibility check (each slot runs
 *                or loads in place); largest image: the smaller slot.
 * BOOT_MAX_IMG_SECTORS is not checked: Zephyr sizes it from the slots
 * (CONFIG_BOOT_MAX_IMG_SECTORS_AUTO).
 */
#ifndef MODELS_MCUBOOT_COMPAT_H
#define MODELS_MCUBOOT_COMPAT_H

#include "models/flash/map.h"
#include "models/mcuboot/explain.h"
#include "sim/error.h"

#include <stdbool.h>
#include <stdint.h>

struct mcuboot_compat {
    bool compatible;    /* boot_slots_compatible() accepts the slots */
    uint32_t max_image; /* app_max_size(): bytes of the largest image (0 when refused) */
    uint32_t sector;    /* bytes of the primary's first sector (app_max_size()'s unit) */
    uint32_t trailer;   /* bytes of the trailer (boot_trailer_sz()) */
    char why[320];      /* when !compatible: MCUboot's warning and the numbers; "" otherwise */
};

/* Evaluate m for mode. Returns 0 (verdict in *out), or SIM_EINVAL / SIM_ENOMEM with a
 * message (an unknown chip, a slot outside its chip, a trailer larger than the slot). */
int mcuboot_compat_check(const struct flash_map *m, enum mcuboot_explain_mode mode,
                         struct mcuboot_compat *out, struct sim_diag *d);

#endif /* MODELS_MCUBOOT_COMPAT_H */
