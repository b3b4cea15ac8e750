/* tests/image_builder.h - test-only MCUboot image builder: the layout imgtool writes.
 *
 * There is no imgtool on the build machines, so the tests make their images here, laid out
 * as mcu-tools/mcuboot scripts/imgtool/image.py (Image.create, TLV.add/get, add_header)
 * writes them, and hashed and signed with OpenSSL using keys the tests generate:
 *   OFFSET                 SIZE              CONTENT
 *   0                      32                header (magic, load_addr, hdr_size,
 *                                            protect_tlv_size, img_size, flags, version)
 *   32                     hdr_size - 32     0xff (imgtool --pad-header, erased value)
 *   hdr_size               body_len          body
 *   hdr_size + body_len    prot size         protected TLVs: info 0x6908 + total, entries
 *   ...                    unprot size       TLVs: info 0x6907 + total, entries in the order
 *                                            of the op list (imgtool: hash, [SIG_PURE],
 *                                            KEYHASH or PUBKEY, signature, [ENC_*])
 * The image hash covers header + body + protected TLVs; protect_tlv_size counts the
 * protected info header (image.py: "protected_tlv_size += TLV_INFO_SIZE").
 * Signatures as imgtool makes them (scripts/imgtool/keys/): ECDSA P-256/P-384 sign the
 * payload with SHA-256/SHA-384 (DER), RSA signs the payload with PSS, SHA-256, MGF1-SHA-256,
 * 32-byte salt; Ed25519 signs the digest (sign_digest), or the payload when pure. The key
 * hash is the image hash algorithm over get_public_bytes: DER SubjectPublicKeyInfo, PKCS#1
 * RSAPublicKey for RSA.
 * The builder writes what it is told, in the order told: tests use that to make images
 * imgtool would not (signature before KEYHASH, two signatures, wrong lengths).
 */
#ifndef TESTS_IMAGE_BUILDER_H
#define TESTS_IMAGE_BUILDER_H

#include "models/mcuboot/image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/* A signing key of the tests. */
struct ib_key {
    EVP_PKEY *pkey;
    enum mcuboot_sig_type type;
};

/* One entry of the unprotected TLV area, written in list order. */
enum ib_op_kind {
    IB_HASH,    /* the image hash TLV of `hash` (SHA256/384/512 by the spec's hash) */
    IB_KEYHASH, /* KEYHASH of key (image hash algorithm over its public bytes) */
    IB_PUBKEY,  /* PUBKEY: the key's public bytes */
    IB_SIG,     /* signature TLV of key's type over the image (or its digest) */
    IB_PURE,    /* SIG_PURE, 1 byte 0x01 */
    IB_RAW      /* type and raw value bytes */
};

struct ib_op {
    enum ib_op_kind kind;
    const struct ib_key *key; /* IB_KEYHASH, IB_PUBKEY, IB_SIG */
    uint16_t type;            /* IB_RAW */
    const uint8_t *val;       /* IB_RAW */
    uint16_t len;             /* IB_RAW; IB_KEYHASH: 0 = whole hash, else a prefix */
};

/* Initialisers of ops. */
#define IB_OP_HASH                                                                                 \
    {                                                                                              \
        .kind = IB_HASH                                                                            \
    }
#define IB_OP_PURE                                                                                 \
    {                                                                                              \
        .kind = IB_PURE                                                                            \
    }
#define IB_OP_KEYHASH(k)                                                                           \
    {                                                                                              \
        .kind = IB_KEYHASH, .key = (k)                                                             \
    }
#define IB_OP_KEYHASH_PREFIX(k, n)                                                                 \
    {                                                                                              \
        .kind = IB_KEYHASH, .key = (k), .len = (n)                                                 \
    }
#define IB_OP_PUBKEY(k)                                                                            \
    {                                                                                              \
        .kind = IB_PUBKEY, .key = (k)                                                              \
    }
#define IB_OP_SIG(k)                                                                               \
    {                                                                                              \
        .kind = IB_SIG, .key = (k)                                                                 \
    }
#define IB_OP_RAW(t, v, n)                                                                         \
    {                                                                                              \
        .kind = IB_RAW, .type = (t), .val = (v), .len = (n)                                        \
    }

struct ib_spec {
    uint16_t hdr_size;   /* 0: 0x200 */
    const uint8_t *body; /* NULL: body_len pseudo-random bytes from body_seed */
    uint32_t body_len;
    uint32_t body_seed;
    uint32_t flags;
    uint32_t load_addr;
    struct mcuboot_image_version version;
    enum mcuboot_hash_alg hash; /* of IB_HASH and IB_KEYHASH */
    bool pure;                  /* IB_SIG signs the payload, not the digest (Ed25519) */
    const struct ib_op *prot;   /* protected TLVs: IB_RAW only */
    size_t n_prot;
    const struct ib_op *ops; /* unprotected TLVs */
    size_t n_ops;
};

static inline void ib_w16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void ib_w32(uint8_t *p, uint32_t v)
{
    ib_w16(p, v & 0xffff);
    ib_w16(p + 2, v >> 16);
}

static inline const EVP_MD *ib_md(enum mcuboot_hash_alg h)
{
    return h == MCUBOOT_HASH_SHA512   ? EVP_sha512()
           : h == MCUBOOT_HASH_SHA384 ? EVP_sha384()
                                      : EVP_sha256();
}

/* A fresh key of a type; NULL on failure. */
static inline struct ib_key ib_keygen(enum mcuboot_sig_type t)
{
    struct ib_key k = {NULL, t};
    switch (t) {
    case MCUBOOT_SIG_EC256:
        k.pkey = EVP_EC_gen("P-256");
        break;
    case MCUBOOT_SIG_EC384:
        k.pkey = EVP_EC_gen("P-384");
        break;
    case MCUBOOT_SIG_ED25519:
        k.pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    case MCUBOOT_SIG_RSA2048:
        k.pkey = EVP_RSA_gen(2048);
        break;
    case MCUBOOT_SIG_RSA3072:
        k.pkey = EVP_RSA_gen(3072);
        break;
    case MCUBOOT_SIG_NONE:
        break;
    }
    return k;
}

/* PEM SubjectPublicKeyInfo of a key into a new buffer (free()); 0 or -1. */
static inline int ib_pub_pem(const struct ib_key *k, char **pem, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p = NULL;
    int rc = -1;
    if (bio != NULL && PEM_write_bio_PUBKEY(bio, k->pkey) == 1) {
        long n = BIO_get_mem_data(bio, &p);
        *pem = malloc((size_t)n);
        if (*pem != NULL) {
            memcpy(*pem, p, (size_t)n);
            *len = (size_t)n;
            rc = 0;
        }
    }
    BIO_free(bio);
    return rc;
}

/* imgtool get_public_bytes: PKCS#1 for RSA, SubjectPublicKeyInfo otherwise (OPENSSL_free). */
static inline int ib_pub_bytes(const struct ib_key *k, uint8_t **out)
{
    *out = NULL;
    if (k->type == MCUBOOT_SIG_RSA2048 || k->type == MCUBOOT_SIG_RSA3072)
        return i2d_PublicKey(k->pkey, out);
    return i2d_PUBKEY(k->pkey, out);
}

/* Signature as imgtool makes it over `payload` (the image through the protected TLVs) and
 * `dig` (its digest). Returns the length, or -1. */
static inline int ib_sign(const struct ib_key *k, bool pure, const uint8_t *payload, size_t n,
                          const uint8_t *dig, size_t dig_len, uint8_t *sig, size_t cap)
{
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    size_t len = cap;
    int ok = 0;
    if (mc == NULL)
        return -1;
    switch (k->type) {
    case MCUBOOT_SIG_EC256:
    case MCUBOOT_SIG_EC384:
        ok =
            EVP_DigestSignInit(mc, NULL, k->type == MCUBOOT_SIG_EC256 ? EVP_sha256() : EVP_sha384(),
                               NULL, k->pkey) == 1 &&
            EVP_DigestSign(mc, sig, &len, payload, n) == 1;
        break;
    case MCUBOOT_SIG_RSA2048:
    case MCUBOOT_SIG_RSA3072:
        ok = EVP_DigestSignInit(mc, &pc, EVP_sha256(), NULL, k->pkey) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32) == 1 &&
             EVP_DigestSign(mc, sig, &len, payload, n) == 1;
        break;
    case MCUBOOT_SIG_ED25519:
        ok = EVP_DigestSignInit(mc, NULL, NULL, NULL, k->pkey) == 1 &&
             EVP_DigestSign(mc, sig, &len, pure ? payload : dig, pure ? n : dig_len) == 1;
        break;
    case MCUBOOT_SIG_NONE:
        break;
    }
    EVP_MD_CTX_free(mc);
    return ok ? (int)len : -1;
}

static inline uint16_t ib_sig_tlv(enum mcuboot_sig_type t)
{
    return t == MCUBOOT_SIG_RSA2048   ? MCUBOOT_IMAGE_TLV_RSA2048_PSS
           : t == MCUBOOT_SIG_RSA3072 ? MCUBOOT_IMAGE_TLV_RSA3072_PSS
           : t == MCUBOOT_SIG_ED25519 ? MCUBOOT_IMAGE_TLV_ED25519
                                      : MCUBOOT_IMAGE_TLV_ECDSA_SIG;
}

/* Build an image into a new buffer (*out, free()). Returns 0, or -1 on a failure. */
static inline int ib_build(const struct ib_spec *s, uint8_t **out, size_t *out_len)
{
    const uint32_t hdr = s->hdr_size ? s->hdr_size : 0x200;
    uint32_t prot = 0;
    for (size_t i = 0; i < s->n_prot; i++)
        prot += 4 + s->prot[i].len;
    if (prot != 0)
        prot += 4; /* the protected info header */
    const size_t cap = hdr + s->body_len + prot + 4 + s->n_ops * (4 + 512);
    uint8_t *b = malloc(cap), *p;
    uint8_t dig[64], sig[512];
    unsigned int dig_len = 0;
    if (b == NULL)
        return -1;
    memset(b, 0xff, hdr);
    ib_w32(b, MCUBOOT_IMAGE_MAGIC);
    ib_w32(b + 4, s->load_addr);
    ib_w16(b + 8, hdr);
    ib_w16(b + 10, prot);
    ib_w32(b + 12, s->body_len);
    ib_w32(b + 16, s->flags);
    b[20] = s->version.major;
    b[21] = s->version.minor;
    ib_w16(b + 22, s->version.revision);
    ib_w32(b + 24, s->version.build);
    ib_w32(b + 28, 0);
    uint32_t x = s->body_seed * 2654435761u + 1;
    for (uint32_t i = 0; i < s->body_len; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
        b[hdr + i] = s->body ? s->body[i] : (uint8_t)x;
    }
    p = b + hdr + s->body_len;
    if (prot != 0) {
        ib_w16(p, MCUBOOT_IMAGE_TLV_PROT_MAGIC);
        ib_w16(p + 2, prot);
        p += 4;
        for (size_t i = 0; i < s->n_prot; i++) {
            ib_w16(p, s->prot[i].type);
            ib_w16(p + 2, s->prot[i].len);
            memcpy(p + 4, s->prot[i].val, s->prot[i].len);
            p += 4 + s->prot[i].len;
        }
    }
    const size_t payload = (size_t)(p - b);
    if (EVP_Digest(b, payload, dig, &dig_len, ib_md(s->hash), NULL) != 1)
        goto fail;
    uint8_t *info = p;
    p += 4;
    for (size_t i = 0; i < s->n_ops; i++) {
        const struct ib_op *o = &s->ops[i];
        uint8_t *pub = NULL, kh[64];
        unsigned int kh_len = 0;
        int n = -1;
        uint16_t type = 0;
        const uint8_t *val = NULL;
        switch (o->kind) {
        case IB_HASH:
            type = s->hash == MCUBOOT_HASH_SHA512   ? MCUBOOT_IMAGE_TLV_SHA512
                   : s->hash == MCUBOOT_HASH_SHA384 ? MCUBOOT_IMAGE_TLV_SHA384
                                                    : MCUBOOT_IMAGE_TLV_SHA256;
            val = dig;
            n = (int)dig_len;
            break;
        case IB_KEYHASH:
        case IB_PUBKEY:
            n = ib_pub_bytes(o->key, &pub);
            if (n <= 0)
                goto fail;
            if (o->kind == IB_PUBKEY) {
                memcpy(sig, pub, (size_t)n);
                type = MCUBOOT_IMAGE_TLV_PUBKEY;
            } else {
                if (EVP_Digest(pub, (size_t)n, kh, &kh_len, ib_md(s->hash), NULL) != 1)
                    n = -1;
                else
                    n = o->len ? o->len : (int)kh_len;
                memcpy(sig, kh, kh_len);
                type = MCUBOOT_IMAGE_TLV_KEYHASH;
            }
            OPENSSL_free(pub);
            val = sig;
            break;
        case IB_SIG:
            n = ib_sign(o->key, s->pure, b, payload, dig, dig_len, sig, sizeof(sig));
            type = ib_sig_tlv(o->key->type);
            val = sig;
            break;
        case IB_PURE:
            sig[0] = 1;
            n = 1;
            type = MCUBOOT_IMAGE_TLV_SIG_PURE;
            val = sig;
            break;
        case IB_RAW:
            n = o->len;
            type = o->type;
            val = o->val;
            break;
        }
        if (n < 0)
            goto fail;
        ib_w16(p, type);
        ib_w16(p + 2, (uint32_t)n);
        memcpy(p + 4, val, (size_t)n);
        p += 4 + n;
    }
    ib_w16(info, MCUBOOT_IMAGE_TLV_INFO_MAGIC);
    ib_w16(info + 2, (uint32_t)(p - info));
    *out = b;
    *out_len = (size_t)(p - b);
    return 0;
fail:
    free(b);
    return -1;
}

#endif /* TESTS_IMAGE_BUILDER_H */
