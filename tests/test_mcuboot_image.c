/* tests/test_mcuboot_image.c - MCUboot image header, TLVs, hash and signature
 * (models/mcuboot/image), against the real imgtool-signed images in tests/data/mcuboot/
 * (made as tests/data/mcuboot/README.md describes). */
#include "models/mcuboot/image.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define DATA_DIR     DFUSIM_SOURCE_DIR "/tests/data/mcuboot/"
#define SIGNED_BIN   DATA_DIR "signed.bin"
#define KEY_PEM      DATA_DIR "key-pub.pem"
#define PADDED_BIN   DATA_DIR "signed-pad-confirm.bin"

/* Facts from the README of the test images. */
#define IMAGE_HASH  "fd6b779acc61b6ef2f783c4d57ec98704a12d9d457a4bc48e5785105b86a8ed0"
#define FILE_SHA    "d536aa81ff3fe1a7816f18cb1b1c143e2acc605b61d8093281465a5b64b2672a"
#define PADDED_SHA  "584eb7a2f8389f4b3bf95d60e8bcce4ffc07d83041e470221613d518a008b1af"
#define SIGNED_SIZE 103063u
#define TLV_OFF     0x19200u

struct fixture {
    uint8_t *buf;
    size_t len;
    struct mcuboot_image img;
    struct mcuboot_image_key *key;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sim_diag d;
    sim_diag_init(&d);
    if (f == NULL || mcuboot_image_read_file(SIGNED_BIN, &f->buf, &f->len, &d) != 0 ||
        mcuboot_image_parse(f->buf, f->len, "signed.bin", &f->img, &d) != 0 ||
        mcuboot_image_key_load(KEY_PEM, &f->key, &d) != 0) {
        fprintf(stderr, "fixture: %s", d.text);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        return 0;
    free(f->buf);
    mcuboot_image_key_free(f->key);
    free(f);
    return 0;
}

static uint8_t *copy_of(const struct fixture *f)
{
    uint8_t *b = malloc(f->len);
    assert_non_null(b);
    memcpy(b, f->buf, f->len);
    return b;
}

static void hex_equal(const uint8_t *hash, const char *want)
{
    char hex[65];
    mcuboot_image_hash_hex(hash, hex);
    assert_string_equal(hex, want);
}

/* EVIDENCE-OF: README "Layout of signed.bin": magic 0x96f3b83d, load_addr 0, hdr_size 0x200,
 * protect_tlv_size 0, img_size 0x19000, flags 0, version 1.2.3+4, TLV info at 0x19200.
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/include/bootutil/image.h @2d4bacc */
static void signed_bin_header_matches_its_notes(void **state)
{
    const struct fixture *f = *state;
    const struct mcuboot_image *i = &f->img;
    assert_int_equal(i->hdr.magic, MCUBOOT_IMAGE_MAGIC);
    assert_int_equal(i->hdr.load_addr, 0);
    assert_int_equal(i->hdr.hdr_size, 0x200);
    assert_int_equal(i->hdr.protect_tlv_size, 0);
    assert_int_equal(i->hdr.img_size, 0x19000);
    assert_int_equal(i->hdr.flags, 0);
    assert_int_equal(i->hdr.version.major, 1);
    assert_int_equal(i->hdr.version.minor, 2);
    assert_int_equal(i->hdr.version.revision, 3);
    assert_int_equal(i->hdr.version.build, 4);
    assert_int_equal(i->tlv_off, TLV_OFF);
    assert_int_equal(i->total_size, SIGNED_SIZE);
    assert_int_equal(i->tlv_size, SIGNED_SIZE - TLV_OFF);
    assert_int_equal(i->file_size, SIGNED_SIZE);
    assert_true(i->sig_tlv_len >= 70 && i->sig_tlv_len <= 72);
    assert_false(i->synthetic);
}

/* EVIDENCE-OF: README "Image hash ... fd6b77...: SHA-256 over the first hdr_size + img_size
 * bytes (0x19200)"; the file SHA-256 is what upload clients send as `sha`.
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/bootutil_img_hash.c @2d4bacc */
static void image_hash_is_the_sha256_tlv_and_recomputes(void **state)
{
    const struct fixture *f = *state;
    uint8_t h[32];
    hex_equal(f->img.hash, IMAGE_HASH);
    assert_int_equal(mcuboot_image_hash(f->buf, f->len, &f->img, h), 0);
    hex_equal(h, IMAGE_HASH);
    hex_equal(f->img.file_sha, FILE_SHA);
}

/* EVIDENCE-OF: README "KEYHASH (0x01, 32 bytes: SHA-256 of the DER public key)". */
static void keyhash_tlv_names_the_shared_key(void **state)
{
    const struct fixture *f = *state;
    assert_true(f->img.has_keyhash);
    assert_memory_equal(f->img.keyhash, mcuboot_image_key_hash(f->key), 32);
}

/* UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/image_validate.c @2d4bacc */
static void real_image_validates_with_and_without_key(void **state)
{
    const struct fixture *f = *state;
    enum mcuboot_image_verdict v = MCUBOOT_IMAGE_BAD_HASH;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(mcuboot_image_validate(f->buf, f->len, &f->img, f->key, &v, &d), 0);
    assert_int_equal(v, MCUBOOT_IMAGE_VALID);
    assert_int_equal(d.n_messages, 0);
    v = MCUBOOT_IMAGE_BAD_HASH;
    assert_int_equal(mcuboot_image_validate(f->buf, f->len, &f->img, NULL, &v, &d), 0);
    assert_int_equal(v, MCUBOOT_IMAGE_VALID);
}

/* A TLV value offset in signed.bin, found through the parser. */
static uint32_t tlv_value_off(const struct fixture *f, uint16_t type)
{
    uint32_t off = 0;
    uint16_t len = 0;
    assert_int_equal(mcuboot_image_tlv_find(f->buf, f->len, &f->img, type, false, &off, &len), 0);
    return off;
}

/* Tampered copies, in memory: each must be rejected with the verdict MCUboot reaches.
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/image_validate.c @2d4bacc */
static void tampered_copies_fail_hash_or_signature(void **state)
{
    const struct fixture *f = *state;
    const uint32_t sig = tlv_value_off(f, MCUBOOT_IMAGE_TLV_ECDSA_SIG);
    const uint32_t kh = tlv_value_off(f, MCUBOOT_IMAGE_TLV_KEYHASH);
    const uint32_t sha = tlv_value_off(f, MCUBOOT_IMAGE_TLV_SHA256);
    const struct {
        const char *name;
        uint32_t off;     /* byte to change */
        uint8_t xor_mask; /* 0: write `value` instead */
        uint8_t value;
        enum mcuboot_image_verdict want;
        const char *msg;
    } cases[] = {
        {"one flipped bit in the body fails the hash", 0x1234, 0x01, 0, MCUBOOT_IMAGE_BAD_HASH,
         "hash mismatch"},
        {"a changed version byte in the header fails the hash", 20, 0x02, 0, MCUBOOT_IMAGE_BAD_HASH,
         "hash mismatch"},
        {"a changed SHA256 TLV value fails the hash", sha + 5, 0x80, 0, MCUBOOT_IMAGE_BAD_HASH,
         "hash mismatch"},
        {"a flipped bit in the signature's r fails the signature", sig + 10, 0x01, 0,
         MCUBOOT_IMAGE_BAD_SIGNATURE, "signature does not verify"},
        {"a broken DER signature fails the signature", sig, 0, 0x31, MCUBOOT_IMAGE_BAD_SIGNATURE,
         "signature does not verify"},
        {"a KEYHASH of another key leaves no key to verify with", kh, 0xff, 0,
         MCUBOOT_IMAGE_BAD_KEYHASH, "KEYHASH"},
        {"a signature TLV retyped to a vendor type means no signature", sig - 4, 0, 0xA0,
         MCUBOOT_IMAGE_NO_SIGNATURE, "no ECDSA signature"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint8_t *b = copy_of(f);
        struct sim_diag d;
        enum mcuboot_image_verdict v = MCUBOOT_IMAGE_VALID;
        sim_diag_init(&d);
        print_message("case: %s\n", cases[i].name);
        if (cases[i].xor_mask)
            b[cases[i].off] ^= cases[i].xor_mask;
        else
            b[cases[i].off] = cases[i].value;
        assert_int_equal(mcuboot_image_validate(b, f->len, &f->img, f->key, &v, &d), 0);
        assert_int_equal(v, cases[i].want);
        assert_non_null(strstr(d.text, cases[i].msg));
        free(b);
    }
}

static struct mcuboot_image_key *key_of_curve(const char *curve)
{
    EVP_PKEY *p = EVP_EC_gen(curve);
    assert_non_null(p);
    BIO *bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, p), 1);
    char *pem = NULL;
    long n = BIO_get_mem_data(bio, &pem);
    struct mcuboot_image_key *k = NULL;
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = mcuboot_image_key_from_pem(pem, (size_t)n, curve, &k, &d);
    BIO_free(bio);
    EVP_PKEY_free(p);
    if (rc != 0)
        assert_non_null(strstr(d.text, "only ECDSA P-256"));
    return k;
}

/* A bootloader holding another P-256 key rejects the image: with KEYHASH by the key hash,
 * without KEYHASH by the signature itself. */
static void another_key_rejects_the_image(void **state)
{
    const struct fixture *f = *state;
    struct mcuboot_image_key *other = key_of_curve("P-256");
    assert_non_null(other);
    enum mcuboot_image_verdict v = MCUBOOT_IMAGE_VALID;
    assert_int_equal(mcuboot_image_validate(f->buf, f->len, &f->img, other, &v, NULL), 0);
    assert_int_equal(v, MCUBOOT_IMAGE_BAD_KEYHASH);
    uint8_t *b = copy_of(f);
    b[tlv_value_off(f, MCUBOOT_IMAGE_TLV_KEYHASH) - 4] = 0xA1; /* KEYHASH -> vendor TLV */
    assert_int_equal(mcuboot_image_validate(b, f->len, &f->img, other, &v, NULL), 0);
    assert_int_equal(v, MCUBOOT_IMAGE_BAD_SIGNATURE);
    assert_int_equal(mcuboot_image_validate(b, f->len, &f->img, f->key, &v, NULL), 0);
    assert_int_equal(v, MCUBOOT_IMAGE_VALID);
    free(b);
    mcuboot_image_key_free(other);
    /* Only P-256 is modelled: a P-384 key is refused when loaded. */
    assert_null(key_of_curve("P-384"));
}

/* Corrupt, truncated and foreign inputs are rejected with a message that says which. */
static void corrupt_truncated_and_foreign_files_are_rejected(void **state)
{
    const struct fixture *f = *state;
    const uint32_t sha = tlv_value_off(f, MCUBOOT_IMAGE_TLV_SHA256);
    const uint32_t kh = tlv_value_off(f, MCUBOOT_IMAGE_TLV_KEYHASH);
    const struct {
        const char *name;
        size_t len;   /* bytes of the (modified) copy to parse */
        uint32_t off; /* where to write `bytes`, when n_bytes > 0 */
        uint8_t bytes[4];
        size_t n_bytes;
        const char *msg;
    } cases[] = {
        {"empty file", 0, 0, {0}, 0, "truncated: 0 bytes"},
        {"shorter than a header", 31, 0, {0}, 0, "truncated: 31 bytes"},
        {"cut inside the body", 0x19100, 0, {0}, 0, "truncated: the header says"},
        {"cut before the TLV info", TLV_OFF + 2, 0, {0}, 0, "no TLV info (0x6907)"},
        {"cut inside the TLV area", TLV_OFF + 40, 0, {0}, 0, "ends past the end of the file"},
        {"ELF file", SIGNED_SIZE, 0, {0x7f, 'E', 'L', 'F'}, 4, "ELF file"},
        {"Intel HEX file", SIGNED_SIZE, 0, {':', '1', '0', '0'}, 4, "Intel HEX"},
        {"erased flash", SIGNED_SIZE, 0, {0xff, 0xff, 0xff, 0xff}, 4, "erased"},
        {"legacy v1 magic", SIGNED_SIZE, 0, {0x3c, 0xb8, 0xf3, 0x96}, 4, "legacy MCUboot v1"},
        {"unknown magic", SIGNED_SIZE, 0, {'P', 'K', 3, 4}, 4, "not an MCUboot image"},
        {"header size smaller than the header", SIGNED_SIZE, 8, {0x10, 0x00}, 2, "ih_hdr_size 16"},
        {"wrong TLV info magic",
         SIGNED_SIZE,
         TLV_OFF,
         {0x08, 0x69},
         2,
         "expected TLV info magic 0x6907"},
        {"protected size set but no protected area",
         SIGNED_SIZE,
         10,
         {0x10, 0x00},
         2,
         "expected TLV info magic 0x6908"},
        {"TLV entry longer than its area",
         SIGNED_SIZE,
         sha - 2,
         {0xc8, 0x00},
         2,
         "runs past the end of its area"},
        {"no SHA256 TLV", SIGNED_SIZE, sha - 4, {0xA0, 0x00}, 2, "no SHA256 TLV"},
        {"two SHA256 TLVs", SIGNED_SIZE, kh - 4, {0x10, 0x00}, 2, "2 SHA256 TLVs"},
        {"SHA384 instead of SHA256",
         SIGNED_SIZE,
         sha - 4,
         {0x11, 0x00},
         2,
         "SHA384/SHA512 images are not modelled"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint8_t *b = copy_of(f);
        struct sim_diag d;
        struct mcuboot_image img;
        sim_diag_init(&d);
        print_message("case: %s\n", cases[i].name);
        memcpy(b + cases[i].off, cases[i].bytes, cases[i].n_bytes);
        assert_int_equal(mcuboot_image_parse(b, cases[i].len, "app.bin", &img, &d), SIM_EFORMAT);
        assert_non_null(strstr(d.text, "app.bin: "));
        if (strstr(d.text, cases[i].msg) == NULL)
            fail_msg("message '%s' lacks '%s'", d.text, cases[i].msg);
        free(b);
    }
}

static void missing_file_and_bad_key_are_reported(void **state)
{
    (void)state;
    struct sim_diag d;
    struct mcuboot_image img;
    struct mcuboot_image_key *k = (struct mcuboot_image_key *)&img; /* must be reset to NULL */
    sim_diag_init(&d);
    assert_int_equal(mcuboot_image_load(DATA_DIR "no-such.bin", &img, &d), SIM_ENOENT);
    assert_non_null(strstr(d.text, "no-such.bin: cannot open"));
    static const char junk[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    assert_int_equal(mcuboot_image_key_from_pem(junk, sizeof(junk) - 1, "k.pem", &k, &d),
                     SIM_EFORMAT);
    assert_null(k);
    assert_non_null(strstr(d.text, "k.pem: not a PEM public key"));
}

/* The padded, confirmed image: same image hash, larger file. */
static void padded_file_has_the_same_image_hash(void **state)
{
    (void)state;
    struct mcuboot_image img;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(mcuboot_image_load(PADDED_BIN, &img, &d), 0);
    hex_equal(img.hash, IMAGE_HASH);
    hex_equal(img.file_sha, PADDED_SHA);
    assert_int_equal(img.file_size, 0x74000);
    assert_int_equal(img.total_size, SIGNED_SIZE);
}

/* The same image padded in memory to a 0x74000-byte slot (0xff fill) parses identically. */
static void padding_after_the_tlvs_is_ignored(void **state)
{
    const struct fixture *f = *state;
    const size_t slot = 0x74000;
    uint8_t *b = malloc(slot);
    assert_non_null(b);
    memset(b, 0xff, slot);
    memcpy(b, f->buf, f->len);
    struct mcuboot_image img;
    assert_int_equal(mcuboot_image_parse(b, slot, "padded", &img, NULL), 0);
    assert_memory_equal(img.hash, f->img.hash, 32);
    assert_int_equal(img.total_size, SIGNED_SIZE);
    assert_int_equal(img.file_size, slot);
    enum mcuboot_image_verdict v;
    assert_int_equal(mcuboot_image_validate(b, slot, &img, f->key, &v, NULL), 0);
    assert_int_equal(v, MCUBOOT_IMAGE_VALID);
    free(b);
}

/* Build header + body + a protected area (one SEC_CNT TLV) + unprotected SHA256 TLV, with the
 * hash computed over the protected area as bootutil does. */
static size_t build_protected(const struct fixture *f, uint8_t *out, uint32_t sec_cnt)
{
    const uint32_t body_end = 0x200 + 0x19000;
    const uint16_t prot = 4 + 4 + 4;
    memcpy(out, f->buf, body_end);
    out[10] = (uint8_t)prot; /* ih_protect_tlv_size */
    out[11] = 0;
    uint8_t *p = out + body_end;
    const uint8_t area[] = {
        0x08, 0x69, (uint8_t)prot, 0, MCUBOOT_IMAGE_TLV_SEC_CNT, 0, 4, 0, (uint8_t)sec_cnt, 0,
        0,    0};
    memcpy(p, area, sizeof(area));
    p += sizeof(area);
    const uint8_t info[] = {0x07, 0x69, 4 + 36, 0, MCUBOOT_IMAGE_TLV_SHA256, 0, 32, 0};
    memcpy(p, info, sizeof(info));
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(out, body_end + prot, p + sizeof(info), &n, EVP_sha256(), NULL), 1);
    return body_end + prot + 4 + 36;
}

/* UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/bootutil_img_hash.c @2d4bacc (the hash
 * covers the protected TLVs) and boot/bootutil/src/tlv.c (protected area first). */
static void protected_tlvs_are_covered_by_the_hash(void **state)
{
    const struct fixture *f = *state;
    uint8_t *b = malloc(f->len + 64);
    assert_non_null(b);
    size_t n = build_protected(f, b, 7);
    struct mcuboot_image img;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(mcuboot_image_parse(b, n, "prot.bin", &img, &d), 0);
    assert_int_equal(img.hdr.protect_tlv_size, 12);
    assert_int_equal(img.tlv_off, TLV_OFF + 12);
    uint32_t off;
    uint16_t len;
    assert_int_equal(
        mcuboot_image_tlv_find(b, n, &img, MCUBOOT_IMAGE_TLV_SEC_CNT, true, &off, &len), 0);
    assert_int_equal(len, 4);
    assert_int_equal(b[off], 7);
    assert_int_equal(
        mcuboot_image_tlv_find(b, n, &img, MCUBOOT_IMAGE_TLV_SEC_CNT, false, &off, &len),
        SIM_ENOENT);
    enum mcuboot_image_verdict v;
    assert_int_equal(mcuboot_image_validate(b, n, &img, NULL, &v, NULL), 0);
    assert_int_equal(v, MCUBOOT_IMAGE_VALID);
    b[TLV_OFF + 8] = 8; /* the security counter is protected: changing it breaks the hash */
    assert_int_equal(mcuboot_image_validate(b, n, &img, NULL, &v, NULL), 0);
    assert_int_equal(v, MCUBOOT_IMAGE_BAD_HASH);
    /* A protected area whose size disagrees with the header is corrupt. */
    b[TLV_OFF + 2] = 16;
    assert_int_equal(mcuboot_image_parse(b, n, "prot.bin", &img, &d), SIM_EFORMAT);
    assert_non_null(strstr(d.text, "ih_protect_tlv_size says 12"));
    free(b);
}

static void synthetic_images_have_layout_and_distinct_hashes(void **state)
{
    (void)state;
    const struct mcuboot_image_version v1 = {1, 2, 3, 4}, v2 = {1, 2, 4, 0};
    struct mcuboot_image a, b, c;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(mcuboot_image_synth(SIGNED_SIZE, &v1, &a, &d), 0);
    /* Same layout as the real imgtool image of that size. */
    assert_int_equal(a.hdr.hdr_size, 0x200);
    assert_int_equal(a.hdr.img_size, 0x19000);
    assert_int_equal(a.tlv_off, TLV_OFF);
    assert_int_equal(a.total_size, SIGNED_SIZE);
    assert_true(a.synthetic);
    assert_int_equal(mcuboot_image_synth(SIGNED_SIZE, &v1, &b, &d), 0);
    assert_memory_equal(a.hash, b.hash, 32);
    assert_int_equal(mcuboot_image_synth(SIGNED_SIZE, &v2, &c, &d), 0);
    assert_memory_not_equal(a.hash, c.hash, 32);
    assert_int_equal(mcuboot_image_synth(SIGNED_SIZE + 1, &v1, &c, &d), 0);
    assert_memory_not_equal(a.hash, c.hash, 32);
    assert_memory_not_equal(a.hash, a.file_sha, 32);
    assert_int_equal(mcuboot_image_synth(0x200 + 151, &v1, &c, &d), SIM_ERANGE);
    assert_non_null(strstr(d.text, "cannot hold"));
    enum mcuboot_image_verdict v;
    uint8_t buf[64] = {0};
    assert_int_equal(mcuboot_image_validate(buf, sizeof(buf), &a, NULL, &v, &d), SIM_EINVAL);
}

/* Synthetic content: generated on demand, it parses back to the descriptor, its hash TLV
 * recomputes, and file_sha is the SHA-256 of the whole generated file (what a client sends
 * as the upload "sha"), so a device can compare bytes without holding a copy. */
static void synthetic_bytes_parse_back_to_the_descriptor(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t size;
        struct mcuboot_image_version v;
    } cases[] = {
        {"size of the real image", SIGNED_SIZE, {1, 2, 3, 4}},
        {"smallest image", 0x200 + 151 + 1, {0, 0, 1, 0}},
        {"body not a multiple of 8", 5000 + 3, {2, 0, 0, 7}},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct mcuboot_image img, back;
        assert_int_equal(mcuboot_image_synth(cases[i].size, &cases[i].v, &img, NULL), 0);
        uint8_t *b = malloc(cases[i].size);
        assert_non_null(b);
        assert_int_equal(mcuboot_image_bytes(&img, NULL, 0, b, cases[i].size), 0);
        assert_int_equal(mcuboot_image_parse(b, cases[i].size, "synth", &back, NULL), 0);
        assert_memory_equal(&back.hdr, &img.hdr, sizeof(img.hdr));
        assert_memory_equal(back.hash, img.hash, 32);
        assert_memory_equal(back.file_sha, img.file_sha, 32);
        assert_memory_equal(back.keyhash, img.keyhash, 32);
        assert_true(back.has_keyhash);
        assert_int_equal(back.tlv_off, img.tlv_off);
        assert_int_equal(back.sig_tlv_len, img.sig_tlv_len);
        enum mcuboot_image_verdict v = MCUBOOT_IMAGE_BAD_SIGNATURE;
        assert_int_equal(mcuboot_image_validate(b, cases[i].size, &back, NULL, &v, NULL), 0);
        assert_int_equal(v, MCUBOOT_IMAGE_VALID);
        /* Any window equals the same bytes of the whole (random access). */
        uint8_t w[77];
        uint32_t offs[] = {0, 31, 0x1f0, 0x200, 0x205, img.tlv_off - 40, cases[i].size - 77};
        for (size_t k = 0; k < ARRAY_LEN(offs); k++) {
            assert_int_equal(mcuboot_image_bytes(&img, NULL, offs[k], w, sizeof(w)), 0);
            assert_memory_equal(w, b + offs[k], sizeof(w));
        }
        assert_int_equal(mcuboot_image_bytes(&img, NULL, cases[i].size - 1, w, 2), SIM_ERANGE);
        /* Generated once, the bytes stand in as the file: a given file is what is read. */
        b[0x205] ^= 0x5a;
        assert_int_equal(mcuboot_image_bytes(&img, b, 0x200, w, sizeof(w)), 0);
        assert_memory_equal(w, b + 0x200, sizeof(w));
        free(b);
    }
}

static void real_image_bytes_come_from_its_file(void **state)
{
    const struct fixture *f = *state;
    uint8_t w[64];
    memset(w, 0x5a, sizeof(w));
    assert_int_equal(mcuboot_image_bytes(&f->img, f->buf, TLV_OFF, w, sizeof(w)), 0);
    assert_memory_equal(w, f->buf + TLV_OFF, sizeof(w));
    assert_int_equal(mcuboot_image_bytes(&f->img, NULL, 0, w, 8), SIM_EINVAL);
    assert_int_equal(mcuboot_image_bytes(&f->img, f->buf, SIGNED_SIZE - 8, w, 9), SIM_ERANGE);
    assert_int_equal(mcuboot_image_bytes(&f->img, f->buf, SIGNED_SIZE - 8, w, 8), 0);
}

static void header_encode_decode_round_trip(void **state)
{
    const struct fixture *f = *state;
    uint8_t b[32];
    struct mcuboot_image_header h;
    mcuboot_image_header_encode(&f->img.hdr, b);
    assert_memory_equal(b, f->buf, 32);
    assert_int_equal(mcuboot_image_header_decode(b, 32, NULL, &h, NULL), 0);
    assert_memory_equal(&h, &f->img.hdr, sizeof(h));
}

/* UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/bootutil_loader.c @2d4bacc
 * (boot_compare_version: build number only with MCUBOOT_VERSION_CMP_USE_BUILD_NUMBER). */
static void version_compare_follows_boot_compare_version(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        struct mcuboot_image_version a, b;
        bool use_build;
        int want;
    } cases[] = {
        {"equal versions tie", {1, 2, 3, 4}, {1, 2, 3, 4}, false, 0},
        {"build number ignored by default", {1, 2, 3, 9}, {1, 2, 3, 4}, false, 0},
        {"build number compared when enabled", {1, 2, 3, 9}, {1, 2, 3, 4}, true, 1},
        {"major dominates", {2, 0, 0, 0}, {1, 255, 65535, 0}, false, 1},
        {"minor before revision", {1, 1, 9, 0}, {1, 2, 0, 0}, false, -1},
        {"16-bit revision", {1, 2, 300, 0}, {1, 2, 299, 0}, false, 1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(mcuboot_image_version_cmp(&cases[i].a, &cases[i].b, cases[i].use_build),
                         cases[i].want);
        assert_int_equal(mcuboot_image_version_cmp(&cases[i].b, &cases[i].a, cases[i].use_build),
                         -cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signed_bin_header_matches_its_notes),
        cmocka_unit_test(image_hash_is_the_sha256_tlv_and_recomputes),
        cmocka_unit_test(keyhash_tlv_names_the_shared_key),
        cmocka_unit_test(real_image_validates_with_and_without_key),
        cmocka_unit_test(tampered_copies_fail_hash_or_signature),
        cmocka_unit_test(another_key_rejects_the_image),
        cmocka_unit_test(corrupt_truncated_and_foreign_files_are_rejected),
        cmocka_unit_test(missing_file_and_bad_key_are_reported),
        cmocka_unit_test(padded_file_has_the_same_image_hash),
        cmocka_unit_test(padding_after_the_tlvs_is_ignored),
        cmocka_unit_test(protected_tlvs_are_covered_by_the_hash),
        cmocka_unit_test(synthetic_images_have_layout_and_distinct_hashes),
        cmocka_unit_test(synthetic_bytes_parse_back_to_the_descriptor),
        cmocka_unit_test(real_image_bytes_come_from_its_file),
        cmocka_unit_test(header_encode_decode_round_trip),
        cmocka_unit_test(version_compare_follows_boot_compare_version),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
