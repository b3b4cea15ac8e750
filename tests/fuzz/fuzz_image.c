/* tests/fuzz/fuzz_image.c - libFuzzer target: the MCUboot image parser and what runs on a
 * parsed image (mcuboot_image_parse, then the TLV lookups, the hash and validation with
 * and without a key), and MCUboot's verdict (mcuboot_image_check) for several bootloader
 * builds, on any bytes a file or a slot could hold.
 *
 * A finding: a crash, a sanitizer report, or an abort() below (a parse that succeeds with
 * areas outside the buffer, a validation that fails with an error code on a parsed image,
 * or a check that fails with an error code or an unknown verdict for a consistent build,
 * encrypting builds included). Seeds: tests/data/mcuboot/signed.bin and variants, and two
 * imgtool-encrypted images (tests/fuzz/seeds/fuzz_image).
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

/* The same key as the trusted key set of an ECDSA P-256 build, loaded once. */
static struct mcuboot_keyset *test_keyset(void)
{
    static struct mcuboot_keyset *ks;
    static int tried;
    if (!tried) {
        tried = 1;
        ks = mcuboot_keyset_new();
        if (ks != NULL &&
            mcuboot_keyset_add_file(ks, DFUSIM_FUZZ_SOURCE_DIR "/tests/data/mcuboot/key-pub.pem",
                                    NULL) != 0) {
            mcuboot_keyset_free(ks);
            ks = NULL;
        }
    }
    return ks;
}

/* A key set for an encrypting build: a signing public key and the private key of image
 * encryption, both from tests/data/mcuboot/enc (fixed keys, so that inputs grown from the
 * encrypted seeds keep a valid tag). */
static struct mcuboot_keyset *enc_keyset(const char *sign, const char *enc)
{
    char path[512];
    struct mcuboot_keyset *ks = mcuboot_keyset_new();
    snprintf(path, sizeof(path), DFUSIM_FUZZ_SOURCE_DIR "/tests/data/mcuboot/enc/%s", sign);
    if (ks == NULL || mcuboot_keyset_add_file(ks, path, NULL) != 0)
        abort();
    snprintf(path, sizeof(path), DFUSIM_FUZZ_SOURCE_DIR "/tests/data/mcuboot/enc/%s", enc);
    if (mcuboot_keyset_set_enc_file(ks, path, NULL) != 0)
        abort();
    return ks;
}

/* Encrypting builds: ECIES-P256 (AES-128 and AES-256) and ECIES-X25519 (HMAC-SHA256 and
 * SHA-512), the decryption path of mcuboot_image_check. */
static void check_enc_builds(const uint8_t *data, size_t size)
{
    static struct mcuboot_keyset *ec, *x;
    if (ec == NULL) {
        ec = enc_keyset("sign-ec256-pub.pem", "enc-ec256-priv.pem");
        x = enc_keyset("sign-ed25519-pub.pem", "enc-x25519-priv.pem");
    }
    const struct mcuboot_build builds[] = {
        {.sig = MCUBOOT_SIG_EC256, .enc_images = true},
        {.sig = MCUBOOT_SIG_EC256, .enc_images = true, .aes256 = true, .tlv_allow_list = true},
        {.sig = MCUBOOT_SIG_ED25519, .enc_images = true},
        {.sig = MCUBOOT_SIG_ED25519, .enc_images = true, .hmac_sha512 = true, .slot_size = 0x4000},
    };
    for (size_t i = 0; i < sizeof(builds) / sizeof(builds[0]); i++) {
        struct mcuboot_img_result r;
        if (mcuboot_image_check(data, size, &builds[i], builds[i].sig == MCUBOOT_SIG_EC256 ? ec : x,
                                &r, NULL) != 0 ||
            (unsigned)r.verdict > MCUBOOT_IMG_NOT_MODELLED || r.reason[0] == '\0' ||
            (r.verdict == MCUBOOT_IMG_VALID && r.key_index < 0))
            abort();
    }
}

/* MCUboot's verdict for builds that read the bytes differently. */
static void check_builds(const uint8_t *data, size_t size)
{
    const struct mcuboot_build builds[] = {
        {.sig = MCUBOOT_SIG_EC256},
        {.sig = MCUBOOT_SIG_EC256, .hw_key = true},
        {.hash = MCUBOOT_HASH_SHA512, .tlv_allow_list = true, .slot_size = 0x1000},
        {.hash = MCUBOOT_HASH_SHA512, .sig = MCUBOOT_SIG_ED25519, .pure = true},
        {.hash = MCUBOOT_HASH_SHA384, .sig = MCUBOOT_SIG_EC384, .max_img_size = 0x800},
    };
    for (size_t i = 0; i < sizeof(builds) / sizeof(builds[0]); i++) {
        const struct mcuboot_keyset *ks = builds[i].sig == MCUBOOT_SIG_EC256 ? test_keyset() : NULL;
        struct mcuboot_img_result r;
        if (mcuboot_image_check(data, size, &builds[i], ks, &r, NULL) != 0 ||
            (unsigned)r.verdict > MCUBOOT_IMG_NOT_MODELLED || r.reason[0] == '\0' ||
            (r.verdict == MCUBOOT_IMG_VALID && builds[i].sig != MCUBOOT_SIG_NONE &&
             r.key_index < 0))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sim_diag d;
    sim_diag_init(&d);
    check_builds(data, size);
    check_enc_builds(data, size);
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
