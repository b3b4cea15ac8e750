/* tests/fuzz/fuzz_smp.c - libFuzzer target: SMP frame decoding plus dispatch through the OS
 * and image groups, on any bytes a transport could deliver.
 *
 * Each input is one packet, processed twice by a fresh server so that upload state left by
 * the first pass meets the second. The first byte also picks the image-manager mode (swap,
 * direct-xip, direct-xip with revert). Every response the server sends must be one whole,
 * well-formed frame (checked in on_send); a crash, a sanitizer report or an abort() is a
 * finding. Build and run: ./setup.sh fuzz [SECONDS] (clang only; see tests/fuzz/README.md).
 */
#include "models/smp/img_mgmt.h"
#include "models/smp/os_mgmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_SIZE 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_send(void *env, const uint8_t *b, size_t n)
{
    (void)env;
    struct smp_frame_hdr h;
    size_t item;
    if (smp_frame_hdr_decode(&h, b, n) != 0 || h.len + 8u != n)
        abort(); /* a response whose header does not describe it */
    if (smp_frame_item_len(b + 8, h.len, &item) != 0 || item != h.len)
        abort(); /* a payload that is not exactly one CBOR item */
    return 0;
}

static int on_timer(void *env, int64_t at)
{
    (void)env;
    (void)at;
    return 0;
}

static void on_reboot(void *env, int64_t now)
{
    (void)env;
    (void)now;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Slots are allocated once for the whole run (libFuzzer calls this millions of times)
     * and erased before each input. */
    static struct smp_img_slots_mem mem;
    static int ready;
    if (!ready) {
        if (smp_img_slots_mem_init(&mem, 4, SLOT_SIZE, 512) != 0)
            abort();
        ready = 1;
    }
    for (int i = 0; i < 4; i++)
        memset(mem.data[i], 0xff, SLOT_SIZE);

    struct smp_server srv;
    struct smp_server_cfg scfg = smp_server_cfg_default();
    smp_server_init(&srv, &scfg, NULL);

    struct smp_os_mgmt os;
    struct smp_os_mgmt_cfg ocfg = smp_os_mgmt_cfg_default();
    ocfg.info = ocfg.bootloader_info = ocfg.mcumgr_params = ocfg.reset_hook = true;
    struct smp_os_mgmt_ctx ocx = {NULL, on_timer, on_reboot};
    smp_os_mgmt_init(&os, &ocfg, &ocx, NULL);

    struct smp_img_mgmt img;
    struct smp_img_mgmt_cfg icfg = smp_img_mgmt_cfg_default();
    icfg.n_images = 2;
    icfg.slot_info = true;
    if (size > 0)
        icfg.mode = data[0] % 3;
    smp_img_mgmt_init(&img, &icfg, smp_img_slots_mem_bind(&mem), NULL);

    struct smp_server_group g = smp_os_mgmt_group(&os);
    smp_server_group_add(&srv, &g);
    g = smp_img_mgmt_group(&img);
    smp_server_group_add(&srv, &g);

    struct smp_server_ctx cx = {NULL, on_send};
    uint8_t rsp[512];
    for (int pass = 0; pass < 2; pass++) {
        /* Sometimes no response buffer: the pool-empty path (MGMT_ERR_ENOMEM). */
        uint8_t *buf = size % 7 == 3 ? NULL : rsp;
        if (smp_server_process(&srv, data, size, buf, sizeof(rsp), 0, &cx, NULL) != 0)
            abort();
    }
    return 0;
}
