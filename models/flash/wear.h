/* models/flash/wear.h - per-device, per-sector erase and write counters for a whole fleet.
 *
 * Devices and sectors are indexes: the caller maps its flash areas (e.g. primary,
 * secondary, scratch) onto sector indexes 0..n_sectors-1. Counts are uint16 that saturate
 * at FLASH_WEAR_SATURATED. Storage (wear.c) is one byte per sector and device: two 4-bit
 * counts, 0..14 each, which is what a DFU leaves on almost every sector (an image sector
 * is erased once or twice and written a few times per update); a sector whose count would
 * pass 14 moves to an overflow table of full counts (typically the trailer sectors). 10^6
 * devices x 236 sectors = 236 MB instead of 944 MB with 4 bytes per sector. The table is
 * calloc'd, so rows of devices that never touch flash stay on the kernel's shared zero
 * page until first written.
 */
#ifndef MODELS_FLASH_WEAR_H
#define MODELS_FLASH_WEAR_H

#include <stddef.h>
#include <stdint.h>

#define FLASH_WEAR_SATURATED UINT16_MAX /* a count stops here instead of wrapping */

/* Counts of one sector of one device. */
struct flash_wear_count {
    uint16_t erases; /* erase operations that covered the sector */
    uint16_t writes; /* write operations that touched the sector (any length) */
};

struct flash_wear; /* opaque: the table's bounds are its invariant */

/* Create a zeroed table. Returns NULL when out of memory or when a dimension is 0 or the
 * product overflows size_t. */
struct flash_wear *flash_wear_new(uint32_t n_devices, uint32_t n_sectors);
/* Free the table. Accepts NULL. */
void flash_wear_free(struct flash_wear *w);

/* Count one erase (resp. write) of sectors [first, first + n) of device dev.
 * Returns 0, SIM_ERANGE (nothing counted) when dev or the sector range is out of bounds, or
 * SIM_ENOMEM when a sector passing 14 found no room in the overflow table (the sectors
 * before it are counted, it and those after it are not). */
int flash_wear_erase(struct flash_wear *w, uint32_t dev, uint32_t first, uint32_t n);
int flash_wear_write(struct flash_wear *w, uint32_t dev, uint32_t first, uint32_t n);

/* Counts of one sector; returns 0 or SIM_ERANGE (then *out is zeroed). */
int flash_wear_get(const struct flash_wear *w, uint32_t dev, uint32_t sector,
                   struct flash_wear_count *out);

/* Highest erase count over the sectors of device dev (0 for an out-of-range dev). */
uint16_t flash_wear_max_erases(const struct flash_wear *w, uint32_t dev);

/* Sum of erase (resp. write) counts of device dev over all its sectors (0 for an
 * out-of-range dev). */
uint64_t flash_wear_total_erases(const struct flash_wear *w, uint32_t dev);
uint64_t flash_wear_total_writes(const struct flash_wear *w, uint32_t dev);

/* Bytes of counter storage: the table and the overflow table (for memory reports). */
size_t flash_wear_bytes(const struct flash_wear *w);

#endif /* MODELS_FLASH_WEAR_H */
