/* models/mcuboot/xip.h - the boot of the non-copying modes: direct-xip (with and without
 * revert) and RAM-load. Slot choice by version, slot linkage, validation, and the revert rule
 * that gives an unconfirmed image exactly one boot.
 *
 * Nothing is copied between slots; the costs are validation (hash over the image), for
 * RAM-load a copy into RAM at every boot, and with revert a whole-slot erase. The result
 * reports them so the caller can charge time and wear. Sources: mcu-tools/mcuboot: docs/design.md
 * (direct-xip, its revert, RAM loading); (main, 2d4bacc): boot/bootutil/src/loader.c
 * (boot_load_and_validate, find_slot_with_highest_version, boot_select_or_erase,
 * boot_rom_address_check, boot_validate_slot), bootutil_loader.c (boot_compare_version).
 *
 * One boot:
 *   available = slots holding an image header
 *   loop: slot = highest version among available (a tie keeps the lower slot: primary)
 *         none -> no bootable image
 *         direct-xip, ROM_FIXED image linked for the other slot -> unavailable, loop
 *                 (boot_rom_address_check; without ROM_FIXED the image boots and crashes:
 *                 `runs` false, and with revert the next boot erases it)
 *         revert: magic not GOOD, or copy_done SET and image_ok not SET -> erase the slot,
 *                 unavailable, loop; else copy_done unset -> write copy_done
 *         RAM-load: copy the image to RAM
 *         validate: invalid -> erase the slot (the slots are equivalent), unavailable, loop
 *         boot it
 */
#ifndef MODELS_MCUBOOT_XIP_H
#define MODELS_MCUBOOT_XIP_H

#include "models/mcuboot/image.h"
#include "models/mcuboot/trailer.h"

#include <stdbool.h>
#include <stdint.h>

#define MCUBOOT_XIP_SLOTS   2
#define MCUBOOT_XIP_NO_SLOT (-1)

/* What a slot holds. Plain data. */
struct mcuboot_xip_slot {
    struct mcuboot_trailer trailer;
    struct mcuboot_image_version version;
    uint32_t image;      /* image id; 0 = no image header (erased or garbage) */
    uint32_t size;       /* image bytes: header + body + TLVs (validation, RAM copy) */
    uint8_t linked_slot; /* slot the image was linked for: 0 = zephyr/app_update.bin,
                            1 = zephyr/mcuboot_secondary_app_update.bin */
    bool rom_fixed;      /* IMAGE_F_ROM_FIXED: the header carries the slot address, so MCUboot
                            can check the linkage (imgtool --rom-fixed, Zephyr's direct-xip
                            variant builds) */
    bool valid;          /* hash (and signature) verify */
};

/* Firmware options (runtime fields, swept in one binary). */
struct mcuboot_xip_config {
    bool revert;    /* MCUBOOT_DIRECT_XIP_REVERT / MCUBOOT_RAM_LOAD_REVERT */
    bool ram_load;  /* MCUBOOT_RAM_LOAD: no linkage check, copy to RAM */
    bool use_build; /* MCUBOOT_VERSION_CMP_USE_BUILD_NUMBER */
};

/* What one boot did. */
struct mcuboot_xip_result {
    int slot;                 /* booted slot, or MCUBOOT_XIP_NO_SLOT */
    uint32_t image;           /* booted image id, 0 when none */
    uint32_t validated_bytes; /* bytes hashed this boot (every candidate that was validated) */
    uint32_t ram_bytes;       /* bytes copied to RAM this boot */
    uint8_t erased;           /* bit per slot erased this boot (a whole-slot erase each) */
    uint8_t copy_done;        /* bit per slot whose copy_done was written this boot */
    uint8_t skipped_linkage;  /* bit per slot passed over: linked for the other slot */
    bool runs;                /* the booted image runs: false when it executes in place from
                                 a slot it was not linked for (it crashes, the device resets) */
};

/* One boot over the two slots. Slots erased by the boot are updated in place (image 0,
 * trailer erased, valid false). Never fails. */
void mcuboot_xip_boot(const struct mcuboot_xip_config *c,
                      struct mcuboot_xip_slot slots[MCUBOOT_XIP_SLOTS],
                      struct mcuboot_xip_result *r);

/* img_mgmt's upload check for direct-xip: with reject_mismatched
 * (CONFIG_MCUMGR_GRP_IMG_REJECT_DIRECT_XIP_MISMATCHED_SLOT) a ROM_FIXED image whose address is
 * not the target slot's is refused at the first chunk; images without ROM_FIXED are not
 * checked (zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/, the upload
 * action's "fa_off != hdr->ih_load_addr" test). Returns true when the upload may proceed. */
bool mcuboot_xip_upload_allowed(uint8_t linked_slot, bool rom_fixed, uint8_t target_slot,
                                bool reject_mismatched);

#endif /* MODELS_MCUBOOT_XIP_H */
