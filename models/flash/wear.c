/* models/flash/wear.c - fleet-wide wear counters in one flat calloc'd table. */
#include "models/flash/wear.h"

#include <stdbool.h>

#include "sim/error.h"

#include <stdlib.h>

struct flash_wear {
    struct flash_wear_count *c; /* n_devices rows of n_sectors counts */
    uint32_t n_devices;
    uint32_t n_sectors;
};

struct flash_wear *flash_wear_new(uint32_t n_devices, uint32_t n_sectors)
{
    struct flash_wear *w = NULL;

    if (n_devices == 0 || n_sectors == 0)
        return NULL;
    if ((size_t)n_devices > SIZE_MAX / sizeof(struct flash_wear_count) / n_sectors)
        return NULL;
    w = malloc(sizeof(*w));
    if (w == NULL)
        goto fail;
    w->c = calloc((size_t)n_devices * n_sectors, sizeof(struct flash_wear_count));
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
    free(w->c);
    free(w);
}

static struct flash_wear_count *row(const struct flash_wear *w, uint32_t dev)
{
    return w->c + (size_t)dev * w->n_sectors;
}

static int in_range(const struct flash_wear *w, uint32_t dev, uint32_t first, uint32_t n)
{
    return dev < w->n_devices && first <= w->n_sectors && n <= w->n_sectors - first;
}

static uint16_t sat_inc(uint16_t x)
{
    return x == FLASH_WEAR_SATURATED ? x : (uint16_t)(x + 1);
}

/* Count one erase (writes == false) or write of sectors [first, first + n). */
static int bump(struct flash_wear *w, uint32_t dev, uint32_t first, uint32_t n, bool writes)
{
    if (!in_range(w, dev, first, n))
        return SIM_ERANGE;
    struct flash_wear_count *r = row(w, dev);
    for (uint32_t i = first; i < first + n; i++) {
        uint16_t *count = writes ? &r[i].writes : &r[i].erases;
        *count = sat_inc(*count);
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
    *out = row(w, dev)[sector];
    return 0;
}

uint16_t flash_wear_max_erases(const struct flash_wear *w, uint32_t dev)
{
    uint16_t m = 0;
    if (dev >= w->n_devices)
        return 0;
    const struct flash_wear_count *r = row(w, dev);
    for (uint32_t i = 0; i < w->n_sectors; i++)
        m = r[i].erases > m ? r[i].erases : m;
    return m;
}

/* Sum of the erase (writes == false) or write counts of one device. */
static uint64_t total(const struct flash_wear *w, uint32_t dev, bool writes)
{
    uint64_t t = 0;
    if (dev >= w->n_devices)
        return 0;
    const struct flash_wear_count *r = row(w, dev);
    for (uint32_t i = 0; i < w->n_sectors; i++)
        t += writes ? r[i].writes : r[i].erases;
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
    return sizeof(*w) + (size_t)w->n_devices * w->n_sectors * sizeof(struct flash_wear_count);
}
