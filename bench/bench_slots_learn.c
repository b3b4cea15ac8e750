/* bench/bench_slots_learn.c - memory of slots that keep uploaded bytes (models/mcuboot/slots.h,
 * struct mcuboot_slots_learner), per device, at fleet scale.
 *
 * N devices (nRF52840 DK, swap-move) start on a factory image. Then:
 *   1. every device uploads, one after the other, a build the run does not name (the first
 *      device learns it; the others match the learned entry);
 *   2. M devices upload the first half of another unknown build at the same time (none has
 *      finished, so each keeps the pages that differ from what it equals: here all of them).
 * Heap in use (mallinfo2) is read after set-up and after each phase, and printed per device.
 *
 * Usage: bench_slots_learn [-n N] [-m M] [-s IMAGE_KIB]   (defaults 100000, 1000, 64)
 */
#include "models/flash/map.h"
#include "models/mcuboot/slots.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK 4096u

/* Bytes in use: the heap's and those of large blocks glibc maps on their own. */
static size_t heap(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* Upload bytes [0, stop) of a file of len bytes into the secondary, as img_mgmt writes. */
static void upload(struct mcuboot_slots *s, const uint8_t *file, uint32_t len, uint32_t stop)
{
    struct smp_img_slots b = mcuboot_slots_bind(s);
    (void)b.ops->erase_upload(b.env, 1, len);
    for (uint32_t off = 0; off < stop; off += CHUNK) {
        uint32_t n = len - off < CHUNK ? len - off : CHUNK;
        (void)b.ops->write(b.env, 1, off, file + off, n, off + n == len);
    }
}

static uint8_t *synth_bytes(uint32_t size, uint8_t major, struct mcuboot_slots_image *e)
{
    const struct mcuboot_image_version v = {major, 0, 0, 0};
    struct sim_diag d;
    sim_diag_init(&d);
    memset(e, 0, sizeof(*e));
    if (mcuboot_image_synth(size, &v, &e->img, &d) != 0)
        return NULL;
    uint8_t *bytes = malloc(e->img.file_size);
    if (bytes != NULL)
        (void)mcuboot_image_bytes(&e->img, NULL, 0, bytes, e->img.file_size);
    e->file = bytes;
    return bytes;
}

int main(int argc, char **argv)
{
    unsigned long n = 100000, m = 1000, kib = 64;
    int opt;
    while ((opt = getopt(argc, argv, "n:m:s:")) != -1) {
        if (opt == 'n')
            n = strtoul(optarg, NULL, 10);
        else if (opt == 'm')
            m = strtoul(optarg, NULL, 10);
        else if (opt == 's')
            kib = strtoul(optarg, NULL, 10);
        else {
            fprintf(stderr, "usage: bench_slots_learn [-n N] [-m M] [-s IMAGE_KIB]\n");
            return 2;
        }
    }
    if (m > n || n == 0 || kib == 0 || kib > 400) {
        fprintf(stderr, "bench_slots_learn: need 0 < M <= N and 0 < IMAGE_KIB <= 400\n");
        return 2;
    }
    static struct mcuboot_slots_image table[MCUBOOT_SLOTS_MAX_IMAGES];
    struct mcuboot_slots_image unknown1, unknown2;
    uint32_t size = (uint32_t)kib * 1024u;
    uint8_t *factory = synth_bytes(size, 1, &table[0]);
    uint8_t *u1 = synth_bytes(size, 3, &unknown1), *u2 = synth_bytes(size, 4, &unknown2);
    struct flash_map map;
    struct mcuboot_slots_cfg cfg;
    struct mcuboot_slots_learner learn = {.images = table, .n = 1, .cap = MCUBOOT_SLOTS_MAX_IMAGES};
    struct sim_diag d;
    sim_diag_init(&d);
    if (factory == NULL || u1 == NULL || u2 == NULL ||
        flash_map_board(FLASH_MAP_NRF52840DK, &map) ||
        mcuboot_slots_cfg_init(&cfg, MCUBOOT_SLOTS_SWAP_MOVE, &map, table, 1, &d) != 0) {
        fprintf(stderr, "bench_slots_learn: set-up failed: %s\n", d.text);
        return 3;
    }
    cfg.learn = &learn;
    size_t h0 = heap();
    struct mcuboot_slots *devs = calloc(n, sizeof(*devs));
    for (unsigned long i = 0; devs != NULL && i < n; i++)
        if (mcuboot_slots_init(&devs[i], &cfg, NULL, 0, NULL) != 0 ||
            mcuboot_slots_install(&devs[i], 0, 0, true) != 0)
            return 3;
    size_t h1 = heap();
    for (unsigned long i = 0; i < n; i++)
        upload(&devs[i], u1, unknown1.img.file_size, unknown1.img.file_size);
    size_t h2 = heap();
    unsigned long held = 0;
    for (unsigned long i = 0; i < n; i++)
        held += mcuboot_slots_image_in(&devs[i], 1) == 1;
    for (unsigned long i = 0; i < m; i++)
        upload(&devs[i], u2, unknown2.img.file_size, unknown2.img.file_size / 2);
    size_t h3 = heap();
    printf("devices %lu, image %lu KiB, learned images %u, devices holding the first %lu\n", n, kib,
           learn.n - 1, held);
    printf("slot state per device (struct + sector tags): %.0f B\n", (double)(h1 - h0) / (double)n);
    printf("phase 1, every device uploads one unknown build in turn: %+.1f B per device "
           "(%zu B in all, the learned copy included)\n",
           (double)(h2 - h1) / (double)n, h2 - h1);
    printf("phase 2, %lu devices half-way through another unknown build at once: %+.0f B per "
           "uploading device\n",
           m, (double)(h3 - h2) / (double)m);
    for (unsigned long i = 0; i < n; i++)
        mcuboot_slots_fini(&devs[i]);
    free(devs);
    mcuboot_slots_learner_fini(&learn);
    free(factory);
    free(u1);
    free(u2);
    return held == n ? 0 : 1;
}
