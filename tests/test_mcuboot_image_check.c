/* tests/test_mcuboot_image_check.c - MCUboot's verdict on an image for a given bootloader
 * build (models/mcuboot/image: mcuboot_image_check, key sets, build checks), on images made
 * by tests/image_builder.h with keys generated here, and on the real imgtool image
 * tests/data/mcuboot/signed.bin. Each verdict cites the MCUboot rule it mirrors
 * (mcu-tools/mcuboot @2d4bacc). */
#include "models/mcuboot/image.h"
#include "tests/image_builder.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define DATA_DIR     DFUSIM_SOURCE_DIR "/tests/data/mcuboot/"

/* Keys of the whole file: generated once (RSA-3072 takes a while). */
enum { K_EC256, K_EC256_OTHER, K_EC384, K_ED25519, K_ED25519_OTHER, K_RSA2048, K_RSA3072, K_COUNT };
static struct ib_key K[K_COUNT];
/* Private keys of image encryption (the bootloader's), and another of each type. */
enum { E_EC256, E_EC256_OTHER, E_X25519, E_X25519_OTHER, E_RSA, E_RSA_OTHER, E_COUNT };
static EVP_PKEY *E[E_COUNT];

static int setup(void **state)
{
    (void)state;
    static const enum mcuboot_sig_type types[K_COUNT] = {
        MCUBOOT_SIG_EC256,   MCUBOOT_SIG_EC256,   MCUBOOT_SIG_EC384,  MCUBOOT_SIG_ED25519,
        MCUBOOT_SIG_ED25519, MCUBOOT_SIG_RSA2048, MCUBOOT_SIG_RSA3072};
    for (int i = 0; i < K_COUNT; i++) {
        K[i] = ib_keygen(types[i]);
        if (K[i].pkey == NULL)
            return -1;
    }
    for (int i = 0; i < E_COUNT; i++) {
        E[i] = i < E_X25519 ? EVP_EC_gen("P-256")
               : i < E_RSA  ? EVP_PKEY_Q_keygen(NULL, NULL, "X25519")
                            : EVP_RSA_gen(2048);
        if (E[i] == NULL)
            return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < K_COUNT; i++)
        EVP_PKEY_free(K[i].pkey);
    for (int i = 0; i < E_COUNT; i++)
        EVP_PKEY_free(E[i]);
    return 0;
}

/* A key set of the given keys (in that order, as bootutil_keys[]). */
static struct mcuboot_keyset *keyset_of(const int *idx, size_t n)
{
    struct mcuboot_keyset *ks = mcuboot_keyset_new();
    assert_non_null(ks);
    for (size_t i = 0; i < n; i++) {
        char *pem = NULL;
        size_t len = 0;
        struct sim_diag d;
        sim_diag_init(&d);
        assert_int_equal(ib_pub_pem(&K[idx[i]], &pem, &len), 0);
        if (mcuboot_keyset_add_pem(ks, pem, len, "test key", &d) != 0)
            fail_msg("add key: %s", d.text);
        free(pem);
    }
    return ks;
}

/* Give a key set the bootloader's private encryption key (through its PEM, as a file). */
static void set_enc(struct mcuboot_keyset *ks, EVP_PKEY *priv)
{
    char *pem = NULL;
    size_t len = 0;
    struct mcuboot_enc_key *k = NULL;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(ib_priv_pem(priv, &pem, &len), 0);
    if (mcuboot_enc_key_from_pem(pem, len, "enc key", &k, &d) != 0)
        fail_msg("enc key: %s", d.text);
    free(pem);
    assert_int_equal(mcuboot_keyset_set_enc_key(ks, k), 0);
}

/* Build an image (small body) and check it; returns the result. */
static struct mcuboot_img_result check_built(const struct ib_spec *s, const struct mcuboot_build *b,
                                             const struct mcuboot_keyset *ks)
{
    uint8_t *img;
    size_t len = 0;
    struct mcuboot_img_result r;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(ib_build(s, &img, &len), 0);
    if (mcuboot_image_check(img, len, b, ks, &r, &d) != 0)
        fail_msg("check: %s", d.text);
    free(img);
    return r;
}

static void expect(const struct mcuboot_img_result *r, enum mcuboot_img_verdict want,
                   const char *msg)
{
    if (r->verdict != want || (msg != NULL && strstr(r->reason, msg) == NULL))
        fail_msg("verdict %s (%s), wanted %s with '%s'", mcuboot_img_verdict_name(r->verdict),
                 r->reason, mcuboot_img_verdict_name(want), msg ? msg : "");
}

/* ---- every hash and signature type accepted with the right key, refused with another ----
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/image_validate.c @2d4bacc
 * (bootutil_img_validate), image_ecdsa.c, image_ed25519.c, image_rsa.c, crypto/sha.h. */
static void each_signature_type_accepts_its_key_and_refuses_another(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum mcuboot_sig_type sig;
        enum mcuboot_hash_alg hash;
        bool pure, hw_key;
        int key, other; /* the signing key; another key of the same type (-1: none) */
    } cases[] = {
        {"ECDSA P-256, SHA-256", MCUBOOT_SIG_EC256, MCUBOOT_HASH_SHA256, false, false, K_EC256,
         K_EC256_OTHER},
        {"ECDSA P-256, PUBKEY (MCUBOOT_HW_KEY)", MCUBOOT_SIG_EC256, MCUBOOT_HASH_SHA256, false,
         true, K_EC256, K_EC256_OTHER},
        {"ECDSA P-384, SHA-384", MCUBOOT_SIG_EC384, MCUBOOT_HASH_SHA384, false, false, K_EC384, -1},
        {"Ed25519 over SHA-256", MCUBOOT_SIG_ED25519, MCUBOOT_HASH_SHA256, false, false, K_ED25519,
         K_ED25519_OTHER},
        {"Ed25519 over SHA-512", MCUBOOT_SIG_ED25519, MCUBOOT_HASH_SHA512, false, false, K_ED25519,
         K_ED25519_OTHER},
        {"Ed25519 pure (SHA-512 build)", MCUBOOT_SIG_ED25519, MCUBOOT_HASH_SHA512, true, false,
         K_ED25519, K_ED25519_OTHER},
        {"RSA-2048 PSS", MCUBOOT_SIG_RSA2048, MCUBOOT_HASH_SHA256, false, false, K_RSA2048, -1},
        {"RSA-3072 PSS", MCUBOOT_SIG_RSA3072, MCUBOOT_HASH_SHA256, false, false, K_RSA3072, -1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        const struct ib_key *k = &K[cases[i].key];
        const struct ib_op with_pure[] = {
            IB_OP_HASH,
            IB_OP_PURE,
            {.kind = cases[i].hw_key ? IB_PUBKEY : IB_KEYHASH, .key = k},
            IB_OP_SIG(k)};
        const struct ib_op plain[] = {
            IB_OP_HASH, {.kind = cases[i].hw_key ? IB_PUBKEY : IB_KEYHASH, .key = k}, IB_OP_SIG(k)};
        struct ib_spec s = {.body_len = 3000 + (uint32_t)i,
                            .body_seed = (uint32_t)i,
                            .version = {1, 2, 3, 4},
                            .hash = cases[i].hash,
                            .pure = cases[i].pure,
                            .ops = cases[i].pure ? with_pure : plain,
                            .n_ops = cases[i].pure ? 4 : 3};
        struct mcuboot_build b = {.hash = cases[i].hash,
                                  .sig = cases[i].sig,
                                  .pure = cases[i].pure,
                                  .hw_key = cases[i].hw_key};
        int own[] = {cases[i].key};
        struct mcuboot_keyset *ks = keyset_of(own, 1);
        struct mcuboot_img_result r = check_built(&s, &b, ks);
        expect(&r, MCUBOOT_IMG_VALID, "verifies");
        assert_int_equal(r.key_index, 0);
        assert_int_equal(r.n_sig_checked, 1);
        assert_int_equal(r.hash_checked, !cases[i].pure);
        mcuboot_keyset_free(ks);
        /* Trusted: another key only. The image's KEYHASH names no trusted key, so the
         * signature is ignored and there is no accepted signature. */
        int other[] = {cases[i].other};
        if (cases[i].other < 0) { /* a second key of that type costs time: use none */
            ks = mcuboot_keyset_new();
        } else {
            ks = keyset_of(other, 1);
        }
        r = check_built(&s, &b, ks);
        expect(&r, MCUBOOT_IMG_BAD_SIGNATURE, "no accepted signature");
        assert_int_equal(r.n_sig_skipped, 1);
        assert_int_equal(r.n_sig_checked, 0);
        mcuboot_keyset_free(ks);
    }
}

/* ---- key selection in file order ----
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/image_validate.c @2d4bacc: key_id starts at
 * -1; EXPECTED_KEY_TLV sets it (bootutil_find_key, "the key may not be found, which is
 * acceptable"); EXPECTED_SIG_TLV is ignored when key_id < 0 and resets key_id after use;
 * each verified signature overwrites valid_signature. */
static void keys_are_selected_in_file_order(void **state)
{
    (void)state;
    const struct ib_key *t = &K[K_EC256], *u = &K[K_EC256_OTHER];
    static const uint8_t junk_sig[72] = {0x30, 0x44, 0x02, 0x20, 1, 2, 3};
    const struct {
        const char *name;
        struct ib_op ops[6];
        size_t n;
        enum mcuboot_img_verdict want;
        const char *msg;
        unsigned checked, skipped;
    } cases[] = {
        {"imgtool order: hash, KEYHASH, signature",
         {IB_OP_HASH, IB_OP_KEYHASH(t), IB_OP_SIG(t)},
         3,
         MCUBOOT_IMG_VALID,
         "verifies",
         1,
         0},
        {"signature before KEYHASH: no key selected when the signature is read",
         {IB_OP_HASH, IB_OP_SIG(t), IB_OP_KEYHASH(t)},
         3,
         MCUBOOT_IMG_BAD_SIGNATURE,
         "no accepted signature",
         0,
         1},
        {"no KEYHASH at all",
         {IB_OP_HASH, IB_OP_SIG(t)},
         2,
         MCUBOOT_IMG_BAD_SIGNATURE,
         "no accepted signature",
         0,
         1},
        {"KEYHASH of an untrusted key, then the trusted key's signature",
         {IB_OP_HASH, IB_OP_KEYHASH(u), IB_OP_SIG(t)},
         3,
         MCUBOOT_IMG_BAD_SIGNATURE,
         "no accepted signature",
         0,
         1},
        {"two signatures: untrusted key first, trusted second",
         {IB_OP_HASH, IB_OP_KEYHASH(u), IB_OP_SIG(u), IB_OP_KEYHASH(t), IB_OP_SIG(t)},
         5,
         MCUBOOT_IMG_VALID,
         "verifies",
         1,
         1},
        {"two signatures: trusted key first, untrusted second",
         {IB_OP_HASH, IB_OP_KEYHASH(t), IB_OP_SIG(t), IB_OP_KEYHASH(u), IB_OP_SIG(u)},
         5,
         MCUBOOT_IMG_VALID,
         "verifies",
         1,
         1},
        {"one KEYHASH serves one signature: the second is ignored",
         {IB_OP_HASH, IB_OP_KEYHASH(t), IB_OP_SIG(t), IB_OP_SIG(t)},
         4,
         MCUBOOT_IMG_VALID,
         "verifies",
         1,
         1},
        {"the last checked signature decides: a good one, then a bad one",
         {IB_OP_HASH, IB_OP_KEYHASH(t), IB_OP_SIG(t), IB_OP_KEYHASH(t),
          IB_OP_RAW(MCUBOOT_IMAGE_TLV_ECDSA_SIG, junk_sig, 70)},
         5,
         MCUBOOT_IMG_BAD_SIGNATURE,
         "does not verify",
         2,
         0},
        {"the last checked signature decides: a bad one, then a good one",
         {IB_OP_HASH, IB_OP_KEYHASH(t), IB_OP_RAW(MCUBOOT_IMAGE_TLV_ECDSA_SIG, junk_sig, 70),
          IB_OP_KEYHASH(t), IB_OP_SIG(t)},
         5,
         MCUBOOT_IMG_VALID,
         "verifies",
         2,
         0},
        {"signature before the hash TLV still verifies (the hash is computed first)",
         {IB_OP_KEYHASH(t), IB_OP_SIG(t), IB_OP_HASH},
         3,
         MCUBOOT_IMG_VALID,
         "verifies",
         1,
         0},
        {"a KEYHASH prefix selects the key (bootutil_find_key compares len bytes)",
         {IB_OP_HASH, IB_OP_KEYHASH_PREFIX(t, 8), IB_OP_SIG(t)},
         3,
         MCUBOOT_IMG_VALID,
         "verifies",
         1,
         0},
        {"a signature TLV of another type is not the build's signature",
         {IB_OP_HASH, IB_OP_KEYHASH(t), IB_OP_RAW(MCUBOOT_IMAGE_TLV_ED25519, junk_sig, 64)},
         3,
         MCUBOOT_IMG_BAD_SIGNATURE,
         "no signature TLV of the bootloader's type",
         0,
         0},
    };
    int both[] = {K_EC256};
    struct mcuboot_keyset *ks = keyset_of(both, 1);
    const struct mcuboot_build b = {.hash = MCUBOOT_HASH_SHA256, .sig = MCUBOOT_SIG_EC256};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct ib_spec s = {
            .body_len = 1000, .body_seed = 7, .ops = cases[i].ops, .n_ops = cases[i].n};
        struct mcuboot_img_result r = check_built(&s, &b, ks);
        expect(&r, cases[i].want, cases[i].msg);
        assert_int_equal(r.n_sig_checked, cases[i].checked);
        assert_int_equal(r.n_sig_skipped, cases[i].skipped);
    }
    mcuboot_keyset_free(ks);
}

/* Several trusted keys (BOOT_SIGNATURE_KEY_FILE "prod.pem,dev.pem"): an image signed by
 * either is accepted, and key_index says which. */
static void any_of_several_trusted_keys_is_accepted(void **state)
{
    (void)state;
    int keys[] = {K_EC256_OTHER, K_EC256};
    struct mcuboot_keyset *ks = keyset_of(keys, 2);
    const struct mcuboot_build b = {.sig = MCUBOOT_SIG_EC256};
    for (int i = 0; i < 2; i++) {
        const struct ib_key *k = &K[keys[i]];
        const struct ib_op ops[] = {IB_OP_HASH, IB_OP_KEYHASH(k), IB_OP_SIG(k)};
        struct ib_spec s = {.body_len = 500, .ops = ops, .n_ops = 3};
        struct mcuboot_img_result r = check_built(&s, &b, ks);
        expect(&r, MCUBOOT_IMG_VALID, NULL);
        assert_int_equal(r.key_index, i);
    }
    mcuboot_keyset_free(ks);
}

/* ---- the hash TLV must be the build's ----
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/include/bootutil/crypto/sha.h @2d4bacc
 * (EXPECTED_HASH_TLV), image_validate.c (other hash TLVs fall through the switch; "rc =
 * !image_hash_valid"). */
static void the_hash_tlv_must_be_the_builds(void **state)
{
    (void)state;
    static const enum mcuboot_hash_alg algs[] = {MCUBOOT_HASH_SHA256, MCUBOOT_HASH_SHA512};
    for (size_t img = 0; img < 2; img++) {
        for (size_t bld = 0; bld < 2; bld++) {
            const struct ib_op ops[] = {IB_OP_HASH};
            struct ib_spec s = {.body_len = 777, .hash = algs[img], .ops = ops, .n_ops = 1};
            const struct mcuboot_build b = {.hash = algs[bld], .sig = MCUBOOT_SIG_NONE};
            print_message("case: image %s, build %s\n", mcuboot_hash_alg_name(algs[img]),
                          mcuboot_hash_alg_name(algs[bld]));
            struct mcuboot_img_result r = check_built(&s, &b, NULL);
            if (img == bld) {
                expect(&r, MCUBOOT_IMG_VALID, "checks no signature");
                assert_true(r.hash_checked);
            } else {
                expect(&r, MCUBOOT_IMG_BAD_HASH, "but this bootloader hashes with");
                assert_false(r.hash_checked);
            }
        }
    }
    /* A P-384 image (SHA384 TLV) on a P-384 build, and its SHA-256-hashed twin refused. */
    const struct ib_key *k = &K[K_EC384];
    const struct ib_op ops[] = {IB_OP_HASH, IB_OP_KEYHASH(k), IB_OP_SIG(k)};
    struct ib_spec s = {.body_len = 900, .hash = MCUBOOT_HASH_SHA256, .ops = ops, .n_ops = 3};
    int own[] = {K_EC384};
    struct mcuboot_keyset *ks = keyset_of(own, 1);
    const struct mcuboot_build b = {.hash = MCUBOOT_HASH_SHA384, .sig = MCUBOOT_SIG_EC384};
    struct mcuboot_img_result r = check_built(&s, &b, ks);
    expect(&r, MCUBOOT_IMG_BAD_HASH, "has a SHA256 TLV");
    mcuboot_keyset_free(ks);
}

/* A changed byte anywhere in header, body or protected TLVs breaks the hash, and a changed
 * signature or key hash breaks the signature: exhaustive over a small image. */
static void every_covered_byte_is_protected(void **state)
{
    (void)state;
    const struct ib_key *k = &K[K_ED25519];
    static const uint8_t cnt[4] = {7, 0, 0, 0};
    const struct ib_op prot[] = {IB_OP_RAW(MCUBOOT_IMAGE_TLV_SEC_CNT, cnt, 4)};
    const struct ib_op ops[] = {IB_OP_HASH, IB_OP_KEYHASH(k), IB_OP_SIG(k)};
    struct ib_spec s = {
        .hdr_size = 0x40, .body_len = 64, .prot = prot, .n_prot = 1, .ops = ops, .n_ops = 3};
    uint8_t *img;
    size_t len = 0;
    assert_int_equal(ib_build(&s, &img, &len), 0);
    int own[] = {K_ED25519};
    struct mcuboot_keyset *ks = keyset_of(own, 1);
    const struct mcuboot_build b = {.sig = MCUBOOT_SIG_ED25519};
    struct mcuboot_img_result r;
    assert_int_equal(mcuboot_image_check(img, len, &b, ks, &r, NULL), 0);
    expect(&r, MCUBOOT_IMG_VALID, NULL);
    /* Layout: header 0x40, body 64, protected info at 0x80 + SEC_CNT (header 0x84, value
     * 0x88), TLV info 0x8c, SHA256 (header 0x90, value 0x94), KEYHASH (0xb4, 0xb8),
     * signature (0xd8, 0xdc). */
    const size_t hash_val = 0x94;
    static const size_t skip[] = {0x80, 0x84, 0x8c, 0x90, 0xb4, 0xd8}; /* 4-byte headers */
    for (size_t i = 0; i < len; i++) {
        bool header = i >= 8 && i < 20; /* sizes and flags: other rules */
        for (size_t j = 0; j < ARRAY_LEN(skip); j++)
            header = header || (i >= skip[j] && i < skip[j] + 4);
        if (header)
            continue;
        img[i] ^= 0x01;
        assert_int_equal(mcuboot_image_check(img, len, &b, ks, &r, NULL), 0);
        if (r.verdict == MCUBOOT_IMG_VALID)
            fail_msg("byte %zu changed, still valid", i);
        enum mcuboot_img_verdict want = i < 4               ? MCUBOOT_IMG_BAD_HEADER /* magic */
                                        : i < hash_val + 32 ? MCUBOOT_IMG_BAD_HASH
                                                            : MCUBOOT_IMG_BAD_SIGNATURE;
        if (r.verdict != want)
            fail_msg("byte %zu: %s (%s)", i, mcuboot_img_verdict_name(r.verdict), r.reason);
        img[i] ^= 0x01;
    }
    free(img);
    mcuboot_keyset_free(ks);
}

/* ---- header rules: encryption, non-bootable, erased, slot size ----
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/bootutil_loader.c @2d4bacc
 * (boot_check_header_valid), boot/bootutil/src/loader.c (boot_validate_slot). */
static void header_flags_are_refused_as_mcuboot_does(void **state)
{
    (void)state;
    const struct ib_key *k = &K[K_EC256];
    const struct ib_op ops[] = {IB_OP_HASH, IB_OP_KEYHASH(k), IB_OP_SIG(k)};
    const uint32_t AES128 = MCUBOOT_IMAGE_F_ENCRYPTED_AES128,
                   AES256 = MCUBOOT_IMAGE_F_ENCRYPTED_AES256;
    const struct {
        const char *name;
        uint32_t flags;
        bool enc;
        uint32_t slot_size, max_img;
        enum mcuboot_img_verdict want;
        const char *msg;
    } cases[] = {
        {"plain image", 0, false, 0, 0, MCUBOOT_IMG_VALID, "verifies"},
        {"AES128 without MCUBOOT_ENC_IMAGES", AES128, false, 0, 0, MCUBOOT_IMG_BAD_HEADER,
         "without MCUBOOT_ENC_IMAGES"},
        {"AES256 without MCUBOOT_ENC_IMAGES", AES256, false, 0, 0, MCUBOOT_IMG_BAD_HEADER,
         "ENCRYPTED_AES256"},
        {"both AES flags with encryption support", AES128 | AES256, true, 0, 0,
         MCUBOOT_IMG_BAD_HEADER, "both ENCRYPTED_AES128 and ENCRYPTED_AES256"},
        {"AES128 flag with encryption support, no ENC_EC256 TLV", AES128, true, 0, 0,
         MCUBOOT_IMG_BAD_ENC_KEY, "has no ENC_EC256 TLV"},
        {"non-bootable", MCUBOOT_IMAGE_F_NON_BOOTABLE, false, 0, 0, MCUBOOT_IMG_NO_IMAGE,
         "NON_BOOTABLE"},
        {"non-bootable is checked before encryption", MCUBOOT_IMAGE_F_NON_BOOTABLE | AES128, false,
         0, 0, MCUBOOT_IMG_NO_IMAGE, "NON_BOOTABLE"},
        {"LZMA2 without MCUBOOT_DECOMPRESS_IMAGES", MCUBOOT_IMAGE_F_COMPRESSED_LZMA2, false, 0, 0,
         MCUBOOT_IMG_BAD_HEADER, "MCUBOOT_DECOMPRESS_IMAGES"},
        {"RAM_LOAD and ROM_FIXED flags are not refused",
         MCUBOOT_IMAGE_F_RAM_LOAD | MCUBOOT_IMAGE_F_ROM_FIXED, false, 0, 0, MCUBOOT_IMG_VALID,
         NULL},
        {"fits the slot", 0, false, 0x2000, 0x2000, MCUBOOT_IMG_VALID, NULL},
        {"header + body do not fit the slot", 0, false, 0x200 + 1000, 0, MCUBOOT_IMG_BAD_HEADER,
         "do not fit"},
        {"TLVs end past the image room of the slot", 0, false, 0x2000, 0x200 + 1000 + 20,
         MCUBOOT_IMG_BAD_TLV, "bootutil_max_image_size"},
    };
    int own[] = {K_EC256};
    struct mcuboot_keyset *ks = keyset_of(own, 1);
    set_enc(ks, E[E_EC256]);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct ib_spec s = {.body_len = 1000, .flags = cases[i].flags, .ops = ops, .n_ops = 3};
        const struct mcuboot_build b = {.sig = MCUBOOT_SIG_EC256,
                                        .enc_images = cases[i].enc,
                                        .slot_size = cases[i].slot_size,
                                        .max_img_size = cases[i].max_img};
        struct mcuboot_img_result r = check_built(&s, &b, ks);
        expect(&r, cases[i].want, cases[i].msg);
    }
    /* An erased header is no image; another magic is a bad header. */
    uint8_t erased[64], other[64];
    memset(erased, 0xff, sizeof(erased));
    memset(other, 0, sizeof(other));
    const struct mcuboot_build b = {.sig = MCUBOOT_SIG_EC256};
    struct mcuboot_img_result r;
    assert_int_equal(mcuboot_image_check(erased, sizeof(erased), &b, ks, &r, NULL), 0);
    expect(&r, MCUBOOT_IMG_NO_IMAGE, "erased");
    assert_int_equal(mcuboot_image_check(other, sizeof(other), &b, ks, &r, NULL), 0);
    expect(&r, MCUBOOT_IMG_BAD_HEADER, "not IMAGE_MAGIC");
    mcuboot_keyset_free(ks);
}

/* ---- pure signatures ----
 * UPSTREAM: mcu-tools/mcuboot: image_validate.c @2d4bacc (bootutil_check_for_pure: the
 * SIG_PURE TLV, one byte of value 1, must be there); scripts/imgtool/image.py (pure: the
 * payload is signed, SHA-512 hash and key hash). */
static void pure_builds_need_the_pure_tlv_and_a_direct_signature(void **state)
{
    (void)state;
    const struct ib_key *k = &K[K_ED25519];
    static const uint8_t zero = 0;
    const struct {
        const char *name;
        bool pure_img;
        struct ib_op ops[4];
        size_t n;
        bool pure_build;
        enum mcuboot_img_verdict want;
        const char *msg;
    } cases[] = {
        {"pure image on a pure build",
         true,
         {IB_OP_HASH, IB_OP_PURE, IB_OP_KEYHASH(k), IB_OP_SIG(k)},
         4,
         true,
         MCUBOOT_IMG_VALID,
         "pure Ed25519"},
        {"hashed image on a pure build: no SIG_PURE",
         false,
         {IB_OP_HASH, IB_OP_KEYHASH(k), IB_OP_SIG(k)},
         3,
         true,
         MCUBOOT_IMG_BAD_SIGNATURE,
         "SIG_PURE"},
        {"SIG_PURE of value 0",
         true,
         {IB_OP_HASH, IB_OP_RAW(MCUBOOT_IMAGE_TLV_SIG_PURE, &zero, 1), IB_OP_KEYHASH(k),
          IB_OP_SIG(k)},
         4,
         true,
         MCUBOOT_IMG_BAD_SIGNATURE,
         "SIG_PURE"},
        {"pure image on a hashed build: the signature is over the image, not the hash",
         true,
         {IB_OP_HASH, IB_OP_PURE, IB_OP_KEYHASH(k), IB_OP_SIG(k)},
         4,
         false,
         MCUBOOT_IMG_BAD_SIGNATURE,
         "does not verify"},
    };
    int own[] = {K_ED25519};
    struct mcuboot_keyset *ks = keyset_of(own, 1);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct ib_spec s = {.body_len = 1500,
                            .hash = MCUBOOT_HASH_SHA512,
                            .pure = cases[i].pure_img,
                            .ops = cases[i].ops,
                            .n_ops = cases[i].n};
        const struct mcuboot_build b = {
            .hash = MCUBOOT_HASH_SHA512, .sig = MCUBOOT_SIG_ED25519, .pure = cases[i].pure_build};
        struct mcuboot_img_result r = check_built(&s, &b, ks);
        expect(&r, cases[i].want, cases[i].msg);
    }
    /* imgtool's pure image has a 64-byte KEYHASH (SHA-512); a pure build with the default
     * SHA-256 reads 32 at most (KEY_BUF_SIZE = IMAGE_HASH_SIZE) and refuses the image. */
    const struct ib_op ops[] = {IB_OP_HASH, IB_OP_PURE, IB_OP_KEYHASH(k), IB_OP_SIG(k)};
    struct ib_spec s = {
        .body_len = 1500, .hash = MCUBOOT_HASH_SHA512, .pure = true, .ops = ops, .n_ops = 4};
    const struct mcuboot_build b = {.sig = MCUBOOT_SIG_ED25519, .pure = true};
    struct mcuboot_img_result r = check_built(&s, &b, ks);
    expect(&r, MCUBOOT_IMG_BAD_SIGNATURE, "KEYHASH TLV has 64 bytes");
    mcuboot_keyset_free(ks);
}

/* ---- signature lengths the bootloader refuses outright ----
 * UPSTREAM: image_validate.c @2d4bacc: EXPECTED_SIG_LEN / SIG_BUF_SIZE, KEY_BUF_SIZE. */
static void wrong_sizes_fail_the_whole_image(void **state)
{
    (void)state;
    static uint8_t big[512]; /* >= every raw length below */
    const struct {
        const char *name;
        int key;
        enum mcuboot_sig_type sig;
        uint16_t sig_type, sig_len;
        enum mcuboot_img_verdict want;
        const char *msg;
    } cases[] = {
        {"Ed25519 signature of 63 bytes", K_ED25519, MCUBOOT_SIG_ED25519, MCUBOOT_IMAGE_TLV_ED25519,
         63, MCUBOOT_IMG_BAD_SIGNATURE, "63 bytes"},
        {"ECDSA signature over 128 bytes", K_EC256, MCUBOOT_SIG_EC256, MCUBOOT_IMAGE_TLV_ECDSA_SIG,
         129, MCUBOOT_IMG_BAD_SIGNATURE, "129 bytes"},
        {"ECDSA signature that is not DER", K_EC256, MCUBOOT_SIG_EC256, MCUBOOT_IMAGE_TLV_ECDSA_SIG,
         70, MCUBOOT_IMG_BAD_SIGNATURE, "does not verify"},
        {"RSA-2048 signature of 255 bytes", K_RSA2048, MCUBOOT_SIG_RSA2048,
         MCUBOOT_IMAGE_TLV_RSA2048_PSS, 255, MCUBOOT_IMG_BAD_SIGNATURE, "255 bytes"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        const struct ib_key *k = &K[cases[i].key];
        const struct ib_op ops[] = {IB_OP_HASH, IB_OP_KEYHASH(k),
                                    IB_OP_RAW(cases[i].sig_type, big, cases[i].sig_len)};
        struct ib_spec s = {.body_len = 100, .ops = ops, .n_ops = 3};
        int own[] = {cases[i].key};
        struct mcuboot_keyset *ks = keyset_of(own, 1);
        const struct mcuboot_build b = {.sig = cases[i].sig};
        struct mcuboot_img_result r = check_built(&s, &b, ks);
        expect(&r, cases[i].want, cases[i].msg);
        mcuboot_keyset_free(ks);
    }
    /* A KEYHASH longer than the build's hash fails before any key is looked up. */
    const struct ib_op ops[] = {IB_OP_HASH, IB_OP_RAW(MCUBOOT_IMAGE_TLV_KEYHASH, big, 33)};
    struct ib_spec s = {.body_len = 100, .ops = ops, .n_ops = 2};
    const struct mcuboot_build b = {.sig = MCUBOOT_SIG_EC256};
    struct mcuboot_img_result r = check_built(&s, &b, NULL);
    expect(&r, MCUBOOT_IMG_BAD_SIGNATURE, "KEYHASH TLV has 33 bytes");
}

/* ---- TLV areas: protected TLVs, the allow list, malformed and truncated areas ----
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/tlv.c @2d4bacc (bootutil_tlv_iter_begin,
 * bootutil_tlv_iter_next), image_validate.c (MCUBOOT_USE_TLV_ALLOW_LIST). */
static void tlv_areas_are_walked_as_bootutil_does(void **state)
{
    (void)state;
    static const uint8_t cnt[4] = {3, 0, 0, 0};
    const struct ib_op prot[] = {IB_OP_RAW(MCUBOOT_IMAGE_TLV_SEC_CNT, cnt, 4)};
    const struct ib_op unprot_cnt[] = {IB_OP_HASH, IB_OP_RAW(MCUBOOT_IMAGE_TLV_SEC_CNT, cnt, 4)};
    const struct ib_op hash_only[] = {IB_OP_HASH};
    struct mcuboot_build b = {.sig = MCUBOOT_SIG_NONE};
    struct mcuboot_img_result r;

    /* A protected SEC_CNT is fine with the allow list; unprotected, it is refused. */
    struct ib_spec s = {.body_len = 300, .prot = prot, .n_prot = 1, .ops = hash_only, .n_ops = 1};
    b.tlv_allow_list = true;
    r = check_built(&s, &b, NULL);
    expect(&r, MCUBOOT_IMG_VALID, NULL);
    struct ib_spec u = {.body_len = 300, .ops = unprot_cnt, .n_ops = 2};
    r = check_built(&u, &b, NULL);
    expect(&r, MCUBOOT_IMG_BAD_TLV, "not allowed in the unprotected area");
    b.tlv_allow_list = false;
    r = check_built(&u, &b, NULL);
    expect(&r, MCUBOOT_IMG_VALID, NULL);

    /* Byte edits of the protected image: each must be refused with the rule that applies. */
    uint8_t *img;
    size_t len = 0;
    assert_int_equal(ib_build(&s, &img, &len), 0);
    const uint32_t prot_off = 0x200 + 300, info = prot_off + 12;
    const struct {
        const char *name;
        uint32_t off;
        uint8_t v[2];
        enum mcuboot_img_verdict want;
        const char *msg;
    } cases[] = {
        {"protected info size differs from ih_protect_tlv_size",
         prot_off + 2,
         {16, 0},
         MCUBOOT_IMG_BAD_TLV,
         "ih_protect_tlv_size says 12"},
        {"protected size set, no protected info",
         prot_off,
         {0x07, 0x69},
         MCUBOOT_IMG_BAD_TLV,
         "no protected TLV info"},
        {"unprotected info magic wrong",
         info,
         {0x08, 0x69},
         MCUBOOT_IMG_BAD_TLV,
         "expected TLV info magic 0x6907"},
        {"unprotected TLV length overruns the area",
         info + 6,
         {0x40, 0},
         MCUBOOT_IMG_BAD_TLV,
         "overruns the TLV area end"},
        {"protected SEC_CNT changed: hash", prot_off + 8, {4, 0}, MCUBOOT_IMG_BAD_HASH, "mismatch"},
        {"area total past the bytes",
         info + 2,
         {0xff, 0x7f},
         MCUBOOT_IMG_BAD_TLV,
         "lies past the bytes"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        uint8_t *c = malloc(len);
        assert_non_null(c);
        memcpy(c, img, len);
        memcpy(c + cases[i].off, cases[i].v, 2);
        assert_int_equal(mcuboot_image_check(c, len, &b, NULL, &r, NULL), 0);
        expect(&r, cases[i].want, cases[i].msg);
        free(c);
    }
    /* Every truncation is refused, never read past: ASan watches the heap copy. Also in a
     * slot larger than the bytes held (a regression: fuzz_image found the hash reading past
     * them when slot_size exceeded the buffer). */
    for (size_t n = 0; n < len; n++) {
        uint8_t *c = malloc(n ? n : 1);
        assert_non_null(c);
        memcpy(c, img, n);
        for (int slot = 0; slot < 2; slot++) {
            b.slot_size = slot ? 0x10000 : 0;
            assert_int_equal(mcuboot_image_check(c, n, &b, NULL, &r, NULL), 0);
            if (r.verdict == MCUBOOT_IMG_VALID)
                fail_msg("truncated to %zu bytes, still valid", n);
        }
        free(c);
    }
    b.slot_size = 0;
    free(img);
}

/* ---- builds and keys ----
 * UPSTREAM: bootutil/crypto/sha.h, image_rsa.c, boot/zephyr/Kconfig
 * (BOOT_SIGNATURE_TYPE_PURE, BOOT_SIGNATURE_KEY_FILE) @2d4bacc. */
static void impossible_builds_and_foreign_keys_are_errors(void **state)
{
    (void)state;
    int ec[] = {K_EC256};
    struct mcuboot_keyset *ks = keyset_of(ec, 1);
    const struct {
        const char *name;
        struct mcuboot_build b;
        const char *msg;
    } cases[] = {
        {"P-384 with SHA-256", {.hash = MCUBOOT_HASH_SHA256, .sig = MCUBOOT_SIG_EC384}, "SHA-384"},
        {"P-256 with SHA-384", {.hash = MCUBOOT_HASH_SHA384, .sig = MCUBOOT_SIG_EC256}, "SHA-384"},
        {"RSA with SHA-512", {.hash = MCUBOOT_HASH_SHA512, .sig = MCUBOOT_SIG_RSA2048}, "SHA-256"},
        {"pure ECDSA", {.sig = MCUBOOT_SIG_EC256, .pure = true}, "Ed25519 only"},
        {"P-256 key on an Ed25519 build", {.sig = MCUBOOT_SIG_ED25519}, "trusted key 1 is ECDSA"},
    };
    uint8_t buf[64] = {0};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct sim_diag d;
        struct mcuboot_img_result r;
        sim_diag_init(&d);
        assert_int_equal(mcuboot_image_check(buf, sizeof(buf), &cases[i].b, ks, &r, &d),
                         SIM_EINVAL);
        assert_non_null(strstr(d.text, cases[i].msg));
    }
    /* Keys MCUboot cannot use are refused when loaded. */
    EVP_PKEY *k1 = EVP_EC_gen("secp256k1");
    EVP_PKEY *rsa1k = EVP_RSA_gen(1024);
    assert_non_null(k1);
    assert_non_null(rsa1k);
    const struct ib_key bad[] = {{k1, MCUBOOT_SIG_EC256}, {rsa1k, MCUBOOT_SIG_RSA2048}};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        char *pem = NULL;
        size_t len = 0;
        struct sim_diag d;
        sim_diag_init(&d);
        assert_int_equal(ib_pub_pem(&bad[i], &pem, &len), 0);
        assert_int_equal(mcuboot_keyset_add_pem(ks, pem, len, "odd.pem", &d), SIM_EFORMAT);
        assert_non_null(strstr(d.text, "odd.pem: MCUboot verifies"));
        free(pem);
    }
    assert_int_equal(mcuboot_keyset_count(ks), 1);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(rsa1k);
    mcuboot_keyset_free(ks);
}

/* The bytes a key set holds are what imgtool getpub embeds: known DER sizes and prefixes
 * (SubjectPublicKeyInfo for EC and Ed25519, PKCS#1 RSAPublicKey for RSA). */
static void key_bytes_are_what_imgtool_embeds(void **state)
{
    (void)state;
    static const struct {
        int key;
        size_t len;
        const char *prefix_hex;
    } cases[] = {
        {K_EC256, 91, "3059301306072a8648ce3d020106082a8648ce3d030107034200"},
        {K_EC384, 120, "3076301006072a8648ce3d020106052b8104002203620004"},
        {K_ED25519, 44, "302a300506032b6570032100"},
        {K_RSA2048, 270, "3082010a0282010100"},
        {K_RSA3072, 398, "3082018a0282018100"},
    };
    int all[] = {K_EC256, K_EC384, K_ED25519, K_RSA2048, K_RSA3072};
    struct mcuboot_keyset *ks = mcuboot_keyset_new();
    for (size_t i = 0; i < ARRAY_LEN(all); i++) {
        char *pem = NULL;
        size_t len = 0;
        assert_int_equal(ib_pub_pem(&K[all[i]], &pem, &len), 0);
        assert_int_equal(mcuboot_keyset_add_pem(ks, pem, len, NULL, NULL), 0);
        free(pem);
    }
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        size_t len = 0;
        const uint8_t *b = mcuboot_keyset_bytes(ks, i, &len);
        assert_int_equal(len, cases[i].len);
        assert_int_equal(mcuboot_keyset_type(ks, i), K[cases[i].key].type);
        const char *h = cases[i].prefix_hex;
        for (size_t j = 0; h[2 * j]; j++) {
            unsigned v;
            assert_int_equal(sscanf(h + 2 * j, "%2x", &v), 1);
            if (b[j] != v)
                fail_msg("key %zu byte %zu: %02x, want %02x", i, j, b[j], v);
        }
    }
    mcuboot_keyset_free(ks);
}

/* ---- the real imgtool image ----
 * tests/data/mcuboot/README.md: signed.bin, ECDSA P-256, SHA256 + KEYHASH + signature. */
static uint8_t *read_signed(size_t *len)
{
    uint8_t *buf;
    struct sim_diag d;
    sim_diag_init(&d);
    if (mcuboot_image_read_file(DATA_DIR "signed.bin", &buf, len, &d) != 0)
        fail_msg("%s", d.text);
    return buf;
}

static void real_image_follows_the_same_rules(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *buf = read_signed(&len);
    struct mcuboot_keyset *ks = mcuboot_keyset_new();
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(mcuboot_keyset_add_file(ks, DATA_DIR "key-pub.pem", &d), 0);
    const struct mcuboot_build b = {.sig = MCUBOOT_SIG_EC256, .slot_size = 0x74000};
    struct mcuboot_img_result r;
    assert_int_equal(mcuboot_image_check(buf, len, &b, ks, &r, &d), 0);
    expect(&r, MCUBOOT_IMG_VALID, "ECDSA P-256 signature by trusted key 1 verifies");
    /* The old single-key check accepts the image with its KEYHASH retyped (no key
     * selected); MCUboot does not. */
    const uint32_t kh = 0x19200 + 4 + 36; /* KEYHASH TLV header (README layout) */
    assert_int_equal(buf[kh], MCUBOOT_IMAGE_TLV_KEYHASH);
    buf[kh] = 0xA1;
    assert_int_equal(mcuboot_image_check(buf, len, &b, ks, &r, &d), 0);
    expect(&r, MCUBOOT_IMG_BAD_SIGNATURE, "no accepted signature");
    buf[kh] = MCUBOOT_IMAGE_TLV_KEYHASH;
    /* With a key it does not trust, the bootloader refuses it. */
    int other[] = {K_EC256};
    struct mcuboot_keyset *ks2 = keyset_of(other, 1);
    assert_int_equal(mcuboot_image_check(buf, len, &b, ks2, &r, &d), 0);
    expect(&r, MCUBOOT_IMG_BAD_SIGNATURE, "no accepted signature");
    /* Both keys trusted, file key second: accepted with key 2. */
    assert_int_equal(mcuboot_keyset_add_file(ks2, DATA_DIR "key-pub.pem", &d), 0);
    assert_int_equal(mcuboot_image_check(buf, len, &b, ks2, &r, &d), 0);
    expect(&r, MCUBOOT_IMG_VALID, "trusted key 2");
    mcuboot_keyset_free(ks2);
    mcuboot_keyset_free(ks);
    free(buf);
}

/* The builder is not only checked by the validator: rebuilt from signed.bin's body, version
 * and KEYHASH with the same header options, its image equals imgtool's byte for byte up to
 * the signature value (header, 0xff header padding, body, TLV info magic and total, SHA256
 * and KEYHASH TLVs, signature TLV header), when the fresh ECDSA signature has the same DER
 * length as imgtool's (70-72 bytes: retried until it has). */
static void builder_reproduces_imgtool_layout(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *ref = read_signed(&len);
    struct mcuboot_image img;
    assert_int_equal(mcuboot_image_parse(ref, len, "signed.bin", &img, NULL), 0);
    const uint32_t tlv = img.tlv_off;
    const struct ib_key *k = &K[K_EC256];
    const struct ib_op ops[] = {IB_OP_HASH, IB_OP_RAW(MCUBOOT_IMAGE_TLV_KEYHASH, img.keyhash, 32),
                                IB_OP_SIG(k)};
    struct ib_spec s = {.hdr_size = img.hdr.hdr_size,
                        .body = ref + img.hdr.hdr_size,
                        .body_len = img.hdr.img_size,
                        .flags = img.hdr.flags,
                        .load_addr = img.hdr.load_addr,
                        .version = img.hdr.version,
                        .ops = ops,
                        .n_ops = 3};
    uint8_t *mine = NULL;
    size_t mlen = 0;
    for (int tries = 0; tries < 64; tries++) {
        free(mine);
        assert_int_equal(ib_build(&s, &mine, &mlen), 0);
        if (mlen == len)
            break;
    }
    assert_int_equal(mlen, len);
    const uint32_t sig_val = tlv + 4 + 36 + 36 + 4;
    assert_memory_equal(mine, ref, sig_val);
    assert_int_equal(mine[tlv], 0x07);
    assert_int_equal(mine[tlv + 1], 0x69);
    /* And the validator agrees on both: imgtool's with its key, the rebuilt one with ours
     * only once its KEYHASH names our key. */
    struct mcuboot_keyset *ks = mcuboot_keyset_new();
    assert_int_equal(mcuboot_keyset_add_file(ks, DATA_DIR "key-pub.pem", NULL), 0);
    const struct mcuboot_build b = {.sig = MCUBOOT_SIG_EC256};
    struct mcuboot_img_result r;
    assert_int_equal(mcuboot_image_check(mine, mlen, &b, ks, &r, NULL), 0);
    expect(&r, MCUBOOT_IMG_BAD_SIGNATURE, "does not verify"); /* file key, our signature */
    mcuboot_keyset_free(ks);
    free(mine);
    free(ref);
}

/* The builder's protected area as imgtool writes it, checked against the parser of the
 * descriptor (mcuboot_image_parse), which was checked against imgtool dumpinfo. */
static void builder_protected_area_parses(void **state)
{
    (void)state;
    static const uint8_t cnt[4] = {9, 0, 0, 0}, dep[12] = {1};
    const struct ib_op prot[] = {IB_OP_RAW(MCUBOOT_IMAGE_TLV_SEC_CNT, cnt, 4),
                                 IB_OP_RAW(0x40, dep, 12)};
    const struct ib_key *k = &K[K_EC256];
    const struct ib_op ops[] = {IB_OP_HASH, IB_OP_KEYHASH(k), IB_OP_SIG(k)};
    struct ib_spec s = {.body_len = 4096,
                        .version = {3, 1, 4, 15},
                        .prot = prot,
                        .n_prot = 2,
                        .ops = ops,
                        .n_ops = 3};
    uint8_t *b;
    size_t len = 0;
    assert_int_equal(ib_build(&s, &b, &len), 0);
    struct mcuboot_image img;
    struct sim_diag d;
    sim_diag_init(&d);
    if (mcuboot_image_parse(b, len, "built", &img, &d) != 0)
        fail_msg("%s", d.text);
    assert_int_equal(img.hdr.protect_tlv_size, 4 + 8 + 16);
    assert_int_equal(img.tlv_off, 0x200 + 4096 + 28);
    assert_int_equal(img.total_size, len);
    uint8_t h[32];
    assert_int_equal(mcuboot_image_hash(b, len, &img, h), 0);
    assert_memory_equal(h, img.hash, 32);
    uint32_t off;
    uint16_t l;
    assert_int_equal(
        mcuboot_image_tlv_find(b, len, &img, MCUBOOT_IMAGE_TLV_SEC_CNT, true, &off, &l), 0);
    assert_int_equal(b[off], 9);
    free(b);
}

/* ---- encrypted images ----
 * UPSTREAM: mcu-tools/mcuboot @2d4bacc: boot/bootutil/src/bootutil_loader.c
 * (boot_check_image: boot_enc_load before bootutil_img_validate), boot/bootutil/src/encrypted.c
 * (boot_enc_load: first BOOT_ENC_TLV of exactly BOOT_ENC_TLV_SIZE bytes; boot_decrypt_key:
 * ECDH, HKDF "MCUBoot_ECIES_v1", HMAC tag, AES-CTR of the key; RSA-OAEP),
 * boot/bootutil/src/bootutil_img_hash.c (bootutil_img_hash: the body alone is decrypted,
 * then hashed with header and protected TLVs), boot/zephyr/Kconfig (BOOT_ENCRYPT_IMAGE
 * selects the key exchange from the signature type). The images are made as imgtool's
 * image.py makes them (tests/image_builder.h). */

/* The signing key, build and private key of one key exchange. */
struct enc_case {
    const char *name;
    enum mcuboot_enc_type type;
    int sig_key, enc_key, other_enc_key;
    enum mcuboot_sig_type sig;
    bool aes256, hmac_sha512;
};

static const struct enc_case enc_cases[] = {
    {"ECIES-P256, AES-128", MCUBOOT_ENC_EC256, K_EC256, E_EC256, E_EC256_OTHER, MCUBOOT_SIG_EC256,
     false, false},
    {"ECIES-P256, AES-256", MCUBOOT_ENC_EC256, K_EC256, E_EC256, E_EC256_OTHER, MCUBOOT_SIG_EC256,
     true, false},
    {"ECIES-X25519, AES-128", MCUBOOT_ENC_X25519, K_ED25519, E_X25519, E_X25519_OTHER,
     MCUBOOT_SIG_ED25519, false, false},
    {"ECIES-X25519, AES-256", MCUBOOT_ENC_X25519, K_ED25519, E_X25519, E_X25519_OTHER,
     MCUBOOT_SIG_ED25519, true, false},
    {"ECIES-X25519, HMAC-SHA512 (ENC_X25519_SHA512)", MCUBOOT_ENC_X25519, K_ED25519, E_X25519,
     E_X25519_OTHER, MCUBOOT_SIG_ED25519, false, true},
    {"RSA-OAEP, AES-128", MCUBOOT_ENC_RSA2048, K_RSA2048, E_RSA, E_RSA_OTHER, MCUBOOT_SIG_RSA2048,
     false, false},
    {"RSA-OAEP, AES-256", MCUBOOT_ENC_RSA2048, K_RSA2048, E_RSA, E_RSA_OTHER, MCUBOOT_SIG_RSA2048,
     true, false},
};

/* An encrypted image of case c for the device key `for_key` (imgtool order: hash, KEYHASH,
 * signature, encryption TLV); body of 10003 bytes (padded to 10016: several 4 KiB hash
 * chunks and a partial last block). */
static uint8_t *build_encrypted(const struct enc_case *c, int for_key, bool aes256, bool sha512,
                                bool clear, size_t *len)
{
    const struct ib_key *k = &K[c->sig_key];
    const struct ib_op ops[] = {IB_OP_HASH, IB_OP_KEYHASH(k), IB_OP_SIG(k), IB_OP_ENC};
    const struct ib_enc enc = {.device = E[for_key],
                               .type = c->type,
                               .aes256 = aes256,
                               .hmac_sha512 = sha512,
                               .clear = clear};
    const struct ib_spec s = {.body_len = 10003,
                              .body_seed = 5,
                              .version = {2, 0, 1, 0},
                              .ops = ops,
                              .n_ops = 4,
                              .enc = &enc};
    uint8_t *img = NULL;
    assert_int_equal(ib_build(&s, &img, len), 0);
    return img;
}

static struct mcuboot_img_result check_enc(const uint8_t *img, size_t len, const struct enc_case *c,
                                           int dev_key, bool enc_images, bool aes256, bool sha512)
{
    int own[] = {c->sig_key};
    struct mcuboot_keyset *ks = keyset_of(own, 1);
    set_enc(ks, E[dev_key]);
    const struct mcuboot_build b = {.sig = c->sig,
                                    .hash = MCUBOOT_HASH_SHA256,
                                    .enc_images = enc_images,
                                    .aes256 = aes256,
                                    .hmac_sha512 = sha512};
    struct mcuboot_img_result r;
    struct sim_diag d;
    sim_diag_init(&d);
    if (mcuboot_image_check(img, len, &b, ks, &r, &d) != 0)
        fail_msg("check: %s", d.text);
    mcuboot_keyset_free(ks);
    return r;
}

/* The right private key decrypts the image and its hash and signature verify; the body is
 * really encrypted (it differs from the plaintext the builder started from), the header
 * carries the flag of the key size, and the TLV has the build's BOOT_ENC_TLV_SIZE. */
static void encrypted_images_decrypt_with_the_right_key(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(enc_cases); i++) {
        const struct enc_case *c = &enc_cases[i];
        print_message("case: %s\n", c->name);
        size_t len = 0;
        uint8_t *img = build_encrypted(c, c->enc_key, c->aes256, c->hmac_sha512, false, &len);
        struct mcuboot_image_header h;
        assert_int_equal(mcuboot_image_header_decode(img, len, NULL, &h, NULL), 0);
        assert_int_equal(h.flags, c->aes256 ? MCUBOOT_IMAGE_F_ENCRYPTED_AES256
                                            : MCUBOOT_IMAGE_F_ENCRYPTED_AES128);
        assert_int_equal(h.img_size, 10016);
        /* the plaintext body: the builder's xorshift32 of seed 5 (first 16 bytes) */
        uint8_t plain[16];
        uint32_t x = 5 * 2654435761u + 1;
        for (int j = 0; j < 16; j++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            plain[j] = (uint8_t)x;
        }
        assert_memory_not_equal(img + 0x200, plain, 16);
        struct mcuboot_image parsed;
        assert_int_equal(mcuboot_image_parse(img, len, "enc", &parsed, NULL), 0);
        uint32_t off;
        uint16_t tl;
        assert_int_equal(mcuboot_image_tlv_find(img, len, &parsed,
                                                mcuboot_enc_tlv_type(c->type, c->hmac_sha512),
                                                false, &off, &tl),
                         0);
        assert_int_equal(tl, mcuboot_enc_tlv_size(c->type, c->aes256 ? 32 : 16, c->hmac_sha512));
        struct mcuboot_img_result r =
            check_enc(img, len, c, c->enc_key, true, c->aes256, c->hmac_sha512);
        expect(&r, MCUBOOT_IMG_VALID,
               c->aes256 ? "decrypted with AES-256" : "decrypted with AES-128");
        assert_true(r.decrypted);
        assert_true(r.hash_checked);
        free(img);
    }
}

/* Another private key of the same type: ECIES finds a tag that does not match (the shared
 * secret differs), RSA-OAEP fails to decrypt; MCUboot refuses the image either way. */
static void encrypted_images_are_refused_with_another_key(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(enc_cases); i++) {
        const struct enc_case *c = &enc_cases[i];
        print_message("case: %s\n", c->name);
        size_t len = 0;
        uint8_t *img = build_encrypted(c, c->enc_key, c->aes256, c->hmac_sha512, false, &len);
        struct mcuboot_img_result r =
            check_enc(img, len, c, c->other_enc_key, true, c->aes256, c->hmac_sha512);
        expect(&r, MCUBOOT_IMG_BAD_ENC_KEY,
               c->type == MCUBOOT_ENC_RSA2048 ? "RSA-OAEP decryption"
               : c->hmac_sha512               ? "HMAC-SHA512 tag"
                                              : "HMAC-SHA256 tag");
        assert_false(r.decrypted);
        free(img);
    }
}

/* What MCUboot makes of encrypted images that went wrong on the way. */
static void tampered_or_mismatched_encrypted_images_are_refused(void **state)
{
    (void)state;
    const struct enc_case *ec = &enc_cases[0], *rsa = &enc_cases[5], *x = &enc_cases[2];
    size_t len = 0;
    struct mcuboot_img_result r;

    /* One flipped body byte: the decrypted body hashes to another value. */
    uint8_t *img = build_encrypted(ec, E_EC256, false, false, false, &len);
    img[0x200 + 5000] ^= 0x01;
    r = check_enc(img, len, ec, E_EC256, true, false, false);
    expect(&r, MCUBOOT_IMG_BAD_HASH, "decrypted body");
    assert_true(r.decrypted);
    free(img);

    /* One flipped bit of the cipher key (last TLV bytes): the HMAC tag no longer matches. */
    img = build_encrypted(ec, E_EC256, false, false, false, &len);
    img[len - 1] ^= 0x80;
    r = check_enc(img, len, ec, E_EC256, true, false, false);
    expect(&r, MCUBOOT_IMG_BAD_ENC_KEY, "tag");
    free(img);

    /* The ephemeral point moved off the curve: ECDH refuses it
     * (bootutil_ecdh_p256_shared_secret). Its TLV starts 113 bytes before the end. */
    img = build_encrypted(ec, E_EC256, false, false, false, &len);
    img[len - 113 + 40] ^= 0x01;
    r = check_enc(img, len, ec, E_EC256, true, false, false);
    expect(&r, MCUBOOT_IMG_BAD_ENC_KEY, "not a valid uncompressed P-256");
    free(img);

    /* imgtool --clear: flag and TLV, plain body; MCUboot decrypts it anyway, so the hash
     * of what it reads does not match. */
    img = build_encrypted(x, E_X25519, false, false, true, &len);
    r = check_enc(img, len, x, E_X25519, true, false, false);
    expect(&r, MCUBOOT_IMG_BAD_HASH, "decrypted body");
    free(img);

    /* AES-256 image, AES-128 bootloader: the TLV is not BOOT_ENC_TLV_SIZE (129 vs 113). */
    img = build_encrypted(ec, E_EC256, true, false, false, &len);
    r = check_enc(img, len, ec, E_EC256, true, false, false);
    expect(&r, MCUBOOT_IMG_BAD_ENC_KEY,
           "has 129 bytes; a bootloader with AES-128 reads exactly 113");
    free(img);
    /* ... and the other way round. */
    img = build_encrypted(ec, E_EC256, false, false, false, &len);
    r = check_enc(img, len, ec, E_EC256, true, true, false);
    expect(&r, MCUBOOT_IMG_BAD_ENC_KEY, "reads exactly 129");
    free(img);
    /* RSA: the TLV is 256 bytes either way; the decrypted key has the wrong size. */
    img = build_encrypted(rsa, E_RSA, true, false, false, &len);
    r = check_enc(img, len, rsa, E_RSA, true, false, false);
    expect(&r, MCUBOOT_IMG_BAD_ENC_KEY, "32-byte AES key and the bootloader uses AES-128");
    free(img);

    /* HMAC-SHA512 image, SHA-256 bootloader: it looks for ENC_X25519 and finds none. */
    img = build_encrypted(x, E_X25519, false, true, false, &len);
    r = check_enc(img, len, x, E_X25519, true, false, false);
    expect(&r, MCUBOOT_IMG_BAD_ENC_KEY, "has no ENC_X25519 TLV");
    free(img);

    /* A device without encryption support refuses the header (boot_check_header_valid). */
    img = build_encrypted(ec, E_EC256, false, false, false, &len);
    r = check_enc(img, len, ec, E_EC256, false, false, false);
    expect(&r, MCUBOOT_IMG_BAD_HEADER, "without MCUBOOT_ENC_IMAGES");
    free(img);
    img = build_encrypted(ec, E_EC256, true, false, false, &len);
    r = check_enc(img, len, ec, E_EC256, false, false, false);
    expect(&r, MCUBOOT_IMG_BAD_HEADER, "ENCRYPTED_AES256");
    free(img);

    /* The first encryption TLV in file order is the one read (bootutil_tlv_iter_next): a
     * bogus one before the good one makes the image fail. */
    const struct ib_key *k = &K[K_EC256];
    static const uint8_t junk[113] = {0x04};
    const struct ib_op ops[] = {IB_OP_HASH, IB_OP_KEYHASH(k), IB_OP_SIG(k),
                                IB_OP_RAW(MCUBOOT_IMAGE_TLV_ENC_EC256, junk, 113), IB_OP_ENC};
    const struct ib_enc enc = {.device = E[E_EC256], .type = MCUBOOT_ENC_EC256};
    const struct ib_spec s = {.body_len = 256, .ops = ops, .n_ops = 5, .enc = &enc};
    assert_int_equal(ib_build(&s, &img, &len), 0);
    r = check_enc(img, len, ec, E_EC256, true, false, false);
    expect(&r, MCUBOOT_IMG_BAD_ENC_KEY, "not a valid");
    /* with MCUBOOT_USE_TLV_ALLOW_LIST the encryption TLVs may be unprotected */
    int own[] = {K_EC256};
    struct mcuboot_keyset *ks = keyset_of(own, 1);
    set_enc(ks, E[E_EC256]);
    const struct mcuboot_build ab = {
        .sig = MCUBOOT_SIG_EC256, .enc_images = true, .tlv_allow_list = true};
    free(img);
    img = build_encrypted(ec, E_EC256, false, false, false, &len);
    assert_int_equal(mcuboot_image_check(img, len, &ab, ks, &r, NULL), 0);
    expect(&r, MCUBOOT_IMG_VALID, NULL);
    mcuboot_keyset_free(ks);
    free(img);
}

/* Builds MCUboot cannot have, and private keys it cannot use, are errors, not verdicts. */
static void encryption_builds_and_keys_are_checked(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum mcuboot_sig_type sig;
        enum mcuboot_hash_alg hash;
        bool pure, hmac;
        int sig_key, enc_key; /* -1: none */
        const char *msg;
    } cases[] = {
        {"no private key", MCUBOOT_SIG_EC256, MCUBOOT_HASH_SHA256, false, false, K_EC256, -1,
         "needs the private key"},
        {"X25519 key with ECDSA P-256 signatures", MCUBOOT_SIG_EC256, MCUBOOT_HASH_SHA256, false,
         false, K_EC256, E_X25519, "decrypts with ECIES-P256"},
        {"P-256 key with Ed25519 signatures", MCUBOOT_SIG_ED25519, MCUBOOT_HASH_SHA256, false,
         false, K_ED25519, E_EC256, "decrypts with ECIES-X25519"},
        {"P-384 has no encryption", MCUBOOT_SIG_EC384, MCUBOOT_HASH_SHA384, false, false, K_EC384,
         E_EC256, "no image encryption"},
        {"pure Ed25519 has no encryption", MCUBOOT_SIG_ED25519, MCUBOOT_HASH_SHA512, true, false,
         K_ED25519, E_X25519, "no image encryption"},
        {"unsigned has no encryption", MCUBOOT_SIG_NONE, MCUBOOT_HASH_SHA256, false, false, -1,
         E_EC256, "no image encryption"},
        {"HMAC-SHA512 with P-256", MCUBOOT_SIG_EC256, MCUBOOT_HASH_SHA256, false, true, K_EC256,
         E_EC256, "ECIES-X25519 only"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        int own[] = {cases[i].sig_key};
        struct mcuboot_keyset *ks = keyset_of(own, cases[i].sig_key < 0 ? 0 : 1);
        if (cases[i].enc_key >= 0)
            set_enc(ks, E[cases[i].enc_key]);
        const struct mcuboot_build b = {.sig = cases[i].sig,
                                        .hash = cases[i].hash,
                                        .pure = cases[i].pure,
                                        .enc_images = true,
                                        .hmac_sha512 = cases[i].hmac};
        struct sim_diag d;
        sim_diag_init(&d);
        assert_int_equal(mcuboot_build_check(&b, ks, &d), SIM_EINVAL);
        if (strstr(d.text, cases[i].msg) == NULL)
            fail_msg("want '%s' in: %s", cases[i].msg, d.text);
        mcuboot_keyset_free(ks);
    }
    /* Keys MCUboot cannot decrypt with, and a public key where the private one belongs. */
    EVP_PKEY *p384 = EVP_EC_gen("P-384"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *bad[] = {p384, ed};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        char *pem = NULL;
        size_t len = 0;
        struct mcuboot_enc_key *k = NULL;
        struct sim_diag d;
        sim_diag_init(&d);
        assert_int_equal(ib_priv_pem(bad[i], &pem, &len), 0);
        assert_int_equal(mcuboot_enc_key_from_pem(pem, len, "k.pem", &k, &d), SIM_EFORMAT);
        assert_null(k);
        assert_non_null(strstr(d.text, "k.pem: MCUboot decrypts images with an EC P-256"));
        free(pem);
    }
    EVP_PKEY_free(p384);
    EVP_PKEY_free(ed);
    struct ib_key pub = {E[E_EC256], MCUBOOT_SIG_EC256};
    char *pem = NULL;
    size_t len = 0;
    struct mcuboot_enc_key *k = NULL;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(ib_pub_pem(&pub, &pem, &len), 0);
    assert_int_equal(mcuboot_enc_key_from_pem(pem, len, "pub.pem", &k, &d), SIM_EFORMAT);
    assert_non_null(strstr(d.text, "pub.pem: not a PEM private key"));
    free(pem);
    sim_diag_init(&d);
    assert_int_equal(mcuboot_enc_key_load(DATA_DIR "none.pem", &k, &d), SIM_ENOENT);
}

/* Real images from imgtool 2.4.0 --encrypt (tests/data/mcuboot/enc/README.md): decrypted
 * and accepted with the private key they were encrypted for, on the build they name;
 * refused with another key (tag mismatch) and by a build without MCUBOOT_ENC_IMAGES. */
static void real_encrypted_images_from_imgtool(void **state)
{
    (void)state;
    static const struct {
        const char *file, *sign, *enc;
        enum mcuboot_sig_type sig;
        bool aes256, sha512;
        int other;
    } cases[] = {
        {"enc-ec256.bin", "sign-ec256-pub.pem", "enc-ec256-priv.pem", MCUBOOT_SIG_EC256, false,
         false, E_EC256},
        {"enc-ec256-aes256.bin", "sign-ec256-pub.pem", "enc-ec256-priv.pem", MCUBOOT_SIG_EC256,
         true, false, E_EC256},
        {"enc-x25519.bin", "sign-ed25519-pub.pem", "enc-x25519-priv.pem", MCUBOOT_SIG_ED25519,
         false, false, E_X25519},
        {"enc-x25519-sha512.bin", "sign-ed25519-pub.pem", "enc-x25519-priv.pem",
         MCUBOOT_SIG_ED25519, false, true, E_X25519},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].file);
        char path[512];
        uint8_t *img;
        size_t len;
        snprintf(path, sizeof(path), DATA_DIR "enc/%s", cases[i].file);
        assert_int_equal(mcuboot_image_read_file(path, &img, &len, NULL), 0);
        struct mcuboot_keyset *ks = mcuboot_keyset_new();
        snprintf(path, sizeof(path), DATA_DIR "enc/%s", cases[i].sign);
        assert_int_equal(mcuboot_keyset_add_file(ks, path, NULL), 0);
        snprintf(path, sizeof(path), DATA_DIR "enc/%s", cases[i].enc);
        assert_int_equal(mcuboot_keyset_set_enc_file(ks, path, NULL), 0);
        struct mcuboot_build b = {.sig = cases[i].sig,
                                  .enc_images = true,
                                  .aes256 = cases[i].aes256,
                                  .hmac_sha512 = cases[i].sha512};
        struct mcuboot_img_result r;
        assert_int_equal(mcuboot_image_check(img, len, &b, ks, &r, NULL), 0);
        expect(&r, MCUBOOT_IMG_VALID, "decrypted with AES-");
        assert_true(r.decrypted);
        /* the key of this build type that imgtool did not encrypt for */
        set_enc(ks, E[cases[i].other]);
        assert_int_equal(mcuboot_image_check(img, len, &b, ks, &r, NULL), 0);
        expect(&r, MCUBOOT_IMG_BAD_ENC_KEY, "tag of the encryption key TLV does not match");
        b.enc_images = false;
        assert_int_equal(mcuboot_image_check(img, len, &b, ks, &r, NULL), 0);
        expect(&r, MCUBOOT_IMG_BAD_HEADER, "without MCUBOOT_ENC_IMAGES");
        mcuboot_keyset_free(ks);
        free(img);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_signature_type_accepts_its_key_and_refuses_another),
        cmocka_unit_test(keys_are_selected_in_file_order),
        cmocka_unit_test(any_of_several_trusted_keys_is_accepted),
        cmocka_unit_test(the_hash_tlv_must_be_the_builds),
        cmocka_unit_test(every_covered_byte_is_protected),
        cmocka_unit_test(header_flags_are_refused_as_mcuboot_does),
        cmocka_unit_test(pure_builds_need_the_pure_tlv_and_a_direct_signature),
        cmocka_unit_test(wrong_sizes_fail_the_whole_image),
        cmocka_unit_test(tlv_areas_are_walked_as_bootutil_does),
        cmocka_unit_test(impossible_builds_and_foreign_keys_are_errors),
        cmocka_unit_test(key_bytes_are_what_imgtool_embeds),
        cmocka_unit_test(real_image_follows_the_same_rules),
        cmocka_unit_test(builder_reproduces_imgtool_layout),
        cmocka_unit_test(builder_protected_area_parses),
        cmocka_unit_test(encrypted_images_decrypt_with_the_right_key),
        cmocka_unit_test(encrypted_images_are_refused_with_another_key),
        cmocka_unit_test(tampered_or_mismatched_encrypted_images_are_refused),
        cmocka_unit_test(encryption_builds_and_keys_are_checked),
        cmocka_unit_test(real_encrypted_images_from_imgtool),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
