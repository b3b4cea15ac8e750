/* tests/fuzz/fuzz_image.c - libFuzzer target: the MCUboot image parser and what runs on a
 * parsed image (mcuboot_image_parse, then the TLV lookups, the hash and validation with
 * and without a key), on any bytes a file or a slot could hold.
 *
 * A finding: a crash, a sanitizer report, or an abort() below (a parse that succeeds with
 * areas outside the buffer, or a validation that fails with an error code on a parsed
 * image). Seeds: tests/data/mcuboot/signed.bin and variants (tests/fuzz/seeds/fuzz_image).
 * Build and run: ./setup.sh fuzz [SECONDS] (see tests/fuzz/README.md).
 */
#include "models/mcuboot/image.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The test key of tests/data/mcuboot (ECDSA P-256), loaded once. */
static struct mcuboot_image_key *test_key(void)
{
    static struct mcuboot_image_key *key;
    static int tried;
    if (!tried) {
        tried = 1;
        struct sim_diag d;
        sim_diag_init(&d);
        if (mcuboot_image_key_load(DFUSIM_FUZZ_SOURCE_DIR "/tests/data/mcuboot/key-pub.pem", &key,
                                   &d) != 0)
            key = NULL; /* fuzz without a key */
    }
    return key;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sim_diag d;
    sim_diag_init(&d);
    struct mcuboot_image img;
    struct mcuboot_image_header h;
    (void)mcuboot_image_header_decode(data, size, "fuzz", &h, &d);
    if (mcuboot_image_parse(data, size, "fuzz", &img, &d) != 0)
        return 0;
    if (img.total_size > size || img.tlv_off > img.total_size || img.file_size != size)
        abort(); /* parsed areas must lie inside the bytes */
    uint32_t off;
    uint16_t len;
    static const uint16_t types[] = {MCUBOOT_IMAGE_TLV_KEYHASH, MCUBOOT_IMAGE_TLV_SHA256,
                                     MCUBOOT_IMAGE_TLV_ECDSA_SIG, 0x50, 0x40};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        for (int prot = 0; prot < 2; prot++)
            if (mcuboot_image_tlv_find(data, size, &img, types[i], prot, &off, &len) == 0 &&
                ((size_t)off + len > size))
                abort();
    uint8_t hash[MCUBOOT_IMAGE_HASH_SIZE];
    if (mcuboot_image_hash(data, size, &img, hash) != 0)
        abort(); /* a parsed image covers header, body and protected TLVs */
    enum mcuboot_image_verdict v;
    if (mcuboot_image_validate(data, size, &img, NULL, &v, &d) != 0)
        abort();
    if (test_key() != NULL && mcuboot_image_validate(data, size, &img, test_key(), &v, &d) != 0)
        abort();
    uint8_t head[64];
    if (mcuboot_image_bytes(&img, data, 0, head, size < sizeof(head) ? size : sizeof(head)) != 0)
        abort();
    return 0;
}
