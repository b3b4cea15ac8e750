/* models/mcuboot/xip.c - direct-xip and RAM-load boot: version selection, linkage, revert.
 * The loop mirrors boot_load_and_validate() in mcu-tools/mcuboot: boot/bootutil/src/loader.c
 * (main, 2d4bacc); see models/mcuboot/xip.h. */
#include "models/mcuboot/xip.h"

#include <string.h>

/* find_slot_with_highest_version(): slots in order, the candidate changes only on a strictly
 * greater version, so a tie keeps the primary. */
static int highest(const struct mcuboot_xip_config *c, const struct mcuboot_xip_slot *s,
                   const bool avail[MCUBOOT_XIP_SLOTS])
{
    int cand = MCUBOOT_XIP_NO_SLOT;
    for (int i = 0; i < MCUBOOT_XIP_SLOTS; i++) {
        if (!avail[i])
            continue;
        if (cand == MCUBOOT_XIP_NO_SLOT ||
            mcuboot_image_version_cmp(&s[i].version, &s[cand].version, c->use_build) > 0)
            cand = i;
    }
    return cand;
}

/* flash_area_erase() of the whole slot: header and trailer gone. */
static void erase_slot(struct mcuboot_xip_slot *s)
{
    s->image = 0;
    s->size = 0;
    s->valid = false;
    s->rom_fixed = false;
    memset(&s->version, 0, sizeof(s->version));
    mcuboot_trailer_erase(&s->trailer);
}

/* boot_select_or_erase(): 0 to go on with the slot, -1 when it was erased. */
static int select_or_erase(struct mcuboot_xip_slot *s, int slot, struct mcuboot_xip_result *r)
{
    struct mcuboot_trailer_swap_state st;
    mcuboot_trailer_state(&s->trailer, &st);
    if (st.magic != MCUBOOT_TRAILER_MAGIC_GOOD ||
        (st.copy_done == MCUBOOT_TRAILER_FLAG_SET && st.image_ok != MCUBOOT_TRAILER_FLAG_SET)) {
        /* "A reboot happened without the image being confirmed at runtime or its trailer is
         * corrupted/invalid. Erase the image to prevent it from being selected again." */
        erase_slot(s);
        r->erased |= (uint8_t)(1u << slot);
        return -1;
    }
    if (st.copy_done != MCUBOOT_TRAILER_FLAG_SET && s->trailer.copy_done == 0xff) {
        /* Set copy_done: "the image has been selected to boot". A BAD copy_done cannot be
         * written again without an erase; MCUboot logs the failed write and goes on. */
        s->trailer.copy_done = MCUBOOT_TRAILER_SET_BYTE;
        r->copy_done |= (uint8_t)(1u << slot);
    }
    return 0;
}

void mcuboot_xip_boot(const struct mcuboot_xip_config *c,
                      struct mcuboot_xip_slot slots[MCUBOOT_XIP_SLOTS],
                      struct mcuboot_xip_result *r)
{
    bool avail[MCUBOOT_XIP_SLOTS];

    memset(r, 0, sizeof(*r));
    r->slot = MCUBOOT_XIP_NO_SLOT;
    for (int i = 0; i < MCUBOOT_XIP_SLOTS; i++)
        avail[i] = slots[i].image != 0;
    for (;;) {
        int a = highest(c, slots, avail);
        if (a == MCUBOOT_XIP_NO_SLOT)
            return; /* no bootable image */
        struct mcuboot_xip_slot *s = &slots[a];
        if (!c->ram_load && s->rom_fixed && s->linked_slot != a) {
            /* boot_rom_address_check(): built for another slot, skip it. */
            r->skipped_linkage |= (uint8_t)(1u << a);
            avail[a] = false;
            continue;
        }
        if (c->revert && select_or_erase(s, a, r) != 0) {
            avail[a] = false;
            continue;
        }
        if (c->ram_load)
            r->ram_bytes += s->size;
        r->validated_bytes += s->size;
        if (!s->valid) {
            /* boot_validate_slot(): with equivalent slots an invalid image is erased. */
            erase_slot(s);
            r->erased |= (uint8_t)(1u << a);
            avail[a] = false;
            continue;
        }
        r->slot = a;
        r->image = s->image;
        r->runs = c->ram_load || s->linked_slot == a;
        return;
    }
}

bool mcuboot_xip_upload_allowed(uint8_t linked_slot, bool rom_fixed, uint8_t target_slot,
                                bool reject_mismatched)
{
    return !(reject_mismatched && rom_fixed && linked_slot != target_slot);
}
