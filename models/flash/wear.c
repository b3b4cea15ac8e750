/* models/flash/wear.c - fleet-wide wear counters: one byte per sector and device, and an
 * overflow table of full counts for the sectors that passed 14 (wear.h). */
#include "models/flash/wear.h"

#include <stdbool.h>
#include <stdlib.h>

#include "sim/error.h"

/* A byte holds erases in its high nibble and writes in its low nibble, each 0..NIB_MAX.
 * OVERFLOWED (both nibbles 15, never a pair of counts) says the sector's counts are in the
 * overflow table. */
#define NIB_MAX    14u
#define OVERFLOWED 0xffu

/* One sector's full counts, keyed by dev x n_sectors + sector + 1 (0: an empty slot). */
struct ovf {
    uint64_t key;
    struct flash_wear_count c;
};

struct flash_wear {
    uint8_t *c; /* n_devices rows of n_sectors bytes */
    uint32_t n_devices;
    uint32_t n_sectors;
    struct ovf *ovf; /* open addressing, linear probing; cap a power of two or 0 */
    size_t n_ovf, cap_ovf;
};

struct flash_wear *flash_wear_new(uint32_t n_devices, uint32_t n_sectors)
{
    struct flash_wear *w = NULL;

    if (n_devices == 0 || n_sectors == 0)
        return NULL;
    if ((size_t)n_devices > SIZE_MAX / n_sectors)
        return NULL;
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        goto fail;
    w->c = calloc((size_t)n_devices * n_sectors, 1);
    if (w->c == NULL)
        goto fail;
    w->n_devices = n_devices;
    w->n_sectors = n_sectors;
    return w;
fail:
    free(w);
    return NULL;
}

void flash_wear_free(struct flash_wear *w)
{
    if (w == NULL)
        return;
    free(w->ovf);
    free(w->c);
    free(w);
}

static uint8_t *cell(const struct flash_wear *w, uint32_t dev, uint32_t sector)
{
    return w->c + (size_t)dev * w->n_sectors + sector;
}

static int in_range(const struct flash_wear *w, uint32_t dev, uint32_t first, uint32_t n)
{
    return dev < w->n_devices && first <= w->n_sectors && n <= w->n_sectors - first;
}

static uint64_t key_of(const struct flash_wear *w, uint32_t dev, uint32_t sector)
{
    return (uint64_t)dev * w->n_sectors + sector + 1;
}

/* The overflow slot of key: its entry, or the empty slot where it goes (cap_ovf > 0). */
static struct ovf *ovf_slot(const struct flash_wear *w, uint64_t key)
{
    size_t mask = w->cap_ovf - 1;
    size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & mask;
    while (w->ovf[i].key != 0 && w->ovf[i].key != key)
        i = (i + 1) & mask;
    return &w->ovf[i];
}

/* Room for one more entry (load <= 1/2). Returns 0 or SIM_ENOMEM (table unchanged). */
static int ovf_reserve(struct flash_wear *w)
{
    if (2 * (w->n_ovf + 1) <= w->cap_ovf)
        return 0;
    size_t cap = w->cap_ovf ? 2 * w->cap_ovf : 64;
    struct ovf *t = calloc(cap, sizeof(*t));
    if (t == NULL)
        return SIM_ENOMEM;
    struct flash_wear old = *w;
    w->ovf = t;
    w->cap_ovf = cap;
    for (size_t i = 0; i < old.cap_ovf; i++)
        if (old.ovf[i].key != 0)
            *ovf_slot(w, old.ovf[i].key) = old.ovf[i];
    free(old.ovf);
    return 0;
}

static struct flash_wear_count get(const struct flash_wear *w, uint32_t dev, uint32_t sector)
{
    uint8_t b = *cell(w, dev, sector);
    if (b != OVERFLOWED)
        return (struct flash_wear_count){(uint16_t)(b >> 4), (uint16_t)(b & 0x0f)};
    return ovf_slot(w, key_of(w, dev, sector))->c;
}

static uint16_t sat_inc(uint16_t x)
{
    return x == FLASH_WEAR_SATURATED ? x : (uint16_t)(x + 1);
}

/* Count one erase (writes == false) or write of sectors [first, first + n). A sector whose
 * count passes NIB_MAX moves to the overflow table. Returns 0, SIM_ERANGE, or SIM_ENOMEM
 * (the sectors before the failing one are counted). */
static int bump(struct flash_wear *w, uint32_t dev, uint32_t first, uint32_t n, bool writes)
{
    if (!in_range(w, dev, first, n))
        return SIM_ERANGE;
    for (uint32_t i = first; i < first + n; i++) {
        uint8_t *b = cell(w, dev, i);
        unsigned e = *b >> 4, wr = *b & 0x0fu;
        if (*b != OVERFLOWED && (writes ? wr : e) < NIB_MAX) {
            *b = (uint8_t)(writes ? *b + 1u : *b + 0x10u);
            continue;
        }
        if (*b != OVERFLOWED) {
            if (ovf_reserve(w) != 0)
                return SIM_ENOMEM;
            struct ovf *o = ovf_slot(w, key_of(w, dev, i));
            *o = (struct ovf){key_of(w, dev, i), {(uint16_t)e, (uint16_t)wr}};
            w->n_ovf++;
            *b = OVERFLOWED;
        }
        struct flash_wear_count *c = &ovf_slot(w, key_of(w, dev, i))->c;
        if (writes)
            c->writes = sat_inc(c->writes);
        else
            c->erases = sat_inc(c->erases);
    }
    return 0;
}

int flash_wear_erase(struct flash_wear *w, uint32_t dev, uint32_t first, uint32_t n)
{
    return bump(w, dev, first, n, false);
}

int flash_wear_write(struct flash_wear *w, uint32_t dev, uint32_t first, uint32_t n)
{
    return bump(w, dev, first, n, true);
}

int flash_wear_get(const struct flash_wear *w, uint32_t dev, uint32_t sector,
                   struct flash_wear_count *out)
{
    if (!in_range(w, dev, sector, 1)) {
        out->erases = 0;
        out->writes = 0;
        return SIM_ERANGE;
    }
    *out = get(w, dev, sector);
    return 0;
}

uint16_t flash_wear_max_erases(const struct flash_wear *w, uint32_t dev)
{
    uint16_t m = 0;
    if (dev >= w->n_devices)
        return 0;
    for (uint32_t i = 0; i < w->n_sectors; i++) {
        uint16_t e = get(w, dev, i).erases;
        m = e > m ? e : m;
    }
    return m;
}

/* Sum of the erase (writes == false) or write counts of one device. */
static uint64_t total(const struct flash_wear *w, uint32_t dev, bool writes)
{
    uint64_t t = 0;
    if (dev >= w->n_devices)
        return 0;
    for (uint32_t i = 0; i < w->n_sectors; i++) {
        struct flash_wear_count c = get(w, dev, i);
        t += writes ? c.writes : c.erases;
    }
    return t;
}

uint64_t flash_wear_total_erases(const struct flash_wear *w, uint32_t dev)
{
    return total(w, dev, false);
}

uint64_t flash_wear_total_writes(const struct flash_wear *w, uint32_t dev)
{
    return total(w, dev, true);
}

size_t flash_wear_bytes(const struct flash_wear *w)
{
    return sizeof(*w) + (size_t)w->n_devices * w->n_sectors + w->cap_ovf * sizeof(struct ovf);
}
