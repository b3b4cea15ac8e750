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
 *
 * Encryption (spec.enc), as image.py Image.create and ecies_hkdf do it: the body is padded
 * with zeros to a multiple of 16 bytes, the header gets ENCRYPTED_AES128 (or _AES256), the
 * hash and signature are over the plaintext, a random AES key encrypts the body with
 * AES-CTR from a zero counter (header and TLVs stay plain), and an IB_ENC op writes the key
 * TLV: for ECIES, a fresh ephemeral key pair, ECDH with the device's public key, HKDF-SHA256
 * (SHA-512 for ENC_X25519_SHA512) with no salt and info "MCUBoot_ECIES_v1" giving the AES
 * key of the cipher key then the HMAC key, value = ephemeral public key (X9.62 uncompressed
 * for P-256, raw for X25519) + HMAC of the cipher key + cipher key (AES-CTR, zero counter);
 * for RSA, OAEP (SHA-256, MGF1-SHA-256) of the key. Written here from image.py with
 * OpenSSL's EVP_PKEY HKDF and EVP_MAC interfaces, not the code under test.
 */
#ifndef TESTS_IMAGE_BUILDER_H
#define TESTS_IMAGE_BUILDER_H

#include "models/mcuboot/image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
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
    IB_RAW,     /* type and raw value bytes */
    IB_ENC      /* the encryption key TLV of spec.enc */
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
#define IB_OP_ENC                                                                                  \
    {                                                                                              \
        .kind = IB_ENC                                                                             \
    }
#define IB_OP_RAW(t, v, n)                                                                         \
    {                                                                                              \
        .kind = IB_RAW, .type = (t), .val = (v), .len = (n)                                        \
    }

/* Encrypt the image for a device (imgtool --encrypt KEY [--encrypt-keylen 256]
 * [--hmac-sha 512] [--clear]). */
struct ib_enc {
    EVP_PKEY *device;           /* the device's key pair: imgtool uses its public half */
    enum mcuboot_enc_type type; /* ECIES-P256, ECIES-X25519 or RSA-OAEP */
    bool aes256;                /* --encrypt-keylen 256 */
    bool hmac_sha512;           /* --hmac-sha 512: ENC_X25519_SHA512 */
    bool clear;                 /* --clear: header flag and TLV, body left plain */
};

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
    const struct ib_enc *enc; /* NULL: plain image */
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

/* PEM PKCS#8 private key of a key pair (free()); 0 or -1. */
static inline int ib_priv_pem(EVP_PKEY *k, char **pem, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p = NULL;
    int rc = -1;
    if (bio != NULL && PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) == 1) {
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

/* AES-CTR from a zero counter (image.py: modes.CTR(bytes([0] * 16))); 0 or -1. */
static inline int ib_aes_ctr(const uint8_t *key, size_t klen, const uint8_t *in, uint8_t *out,
                             size_t n)
{
    static const uint8_t iv[16];
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int outl = 0, fin = 0;
    int ok = c != NULL &&
             EVP_EncryptInit_ex(c, klen == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr(), NULL, key,
                                iv) == 1 &&
             EVP_EncryptUpdate(c, out, &outl, in, (int)n) == 1 &&
             EVP_EncryptFinal_ex(c, out + outl, &fin) == 1 && (size_t)(outl + fin) == n;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

/* The encryption TLV value for plainkey (klen bytes) into val; returns its length or -1.
 * image.py Image.create (RSA) and ecies_hkdf (ECIES). */
static inline int ib_enc_tlv(const struct ib_enc *e, const uint8_t *plainkey, size_t klen,
                             uint8_t *val, uint16_t *type)
{
    if (e->type == MCUBOOT_ENC_RSA2048) {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(e->device, NULL);
        size_t n = 256;
        int ok = c != NULL && EVP_PKEY_encrypt_init(c) == 1 &&
                 EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
                 EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) == 1 &&
                 EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) == 1 &&
                 EVP_PKEY_encrypt(c, val, &n, plainkey, klen) == 1;
        EVP_PKEY_CTX_free(c);
        *type = MCUBOOT_IMAGE_TLV_ENC_RSA2048;
        return ok ? (int)n : -1;
    }
    const bool ec = e->type == MCUBOOT_ENC_EC256;
    const size_t publen = ec ? 65 : 32, maclen = e->hmac_sha512 ? 64 : 32;
    const char *md = e->hmac_sha512 ? "SHA512" : "SHA256";
    EVP_PKEY *eph = ec ? EVP_EC_gen("P-256") : EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    EVP_PKEY_CTX *dc = eph ? EVP_PKEY_CTX_new(eph, NULL) : NULL;
    EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *mc = mac ? EVP_MAC_CTX_new(mac) : NULL;
    uint8_t shared[32], derived[96];
    size_t sl = sizeof(shared), dl = klen + maclen, pl = 0, tl = 0;
    char mdname[8];
    memcpy(mdname, md, strlen(md) + 1);
    OSSL_PARAM mp[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, mdname, 0),
                       OSSL_PARAM_construct_end()};
    int ok = dc != NULL && EVP_PKEY_derive_init(dc) == 1 &&
             EVP_PKEY_derive_set_peer(dc, e->device) == 1 &&
             EVP_PKEY_derive(dc, shared, &sl) == 1 && sl == 32 && kc != NULL &&
             EVP_PKEY_derive_init(kc) == 1 &&
             EVP_PKEY_CTX_set_hkdf_md(kc, e->hmac_sha512 ? EVP_sha512() : EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set1_hkdf_key(kc, shared, 32) == 1 &&
             EVP_PKEY_CTX_add1_hkdf_info(kc, (const unsigned char *)"MCUBoot_ECIES_v1", 16) == 1 &&
             EVP_PKEY_derive(kc, derived, &dl) == 1 && dl == klen + maclen &&
             /* cipher key, then its HMAC, then the ephemeral public key in front */
             ib_aes_ctr(derived, klen, plainkey, val + publen + maclen, klen) == 0 && mc != NULL &&
             EVP_MAC_init(mc, derived + klen, maclen, mp) == 1 &&
             EVP_MAC_update(mc, val + publen + maclen, klen) == 1 &&
             EVP_MAC_final(mc, val + publen, &tl, maclen) == 1 && tl == maclen;
    if (ok && ec)
        ok = EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, val, 65,
                                             &pl) == 1 &&
             pl == 65 && val[0] == 0x04;
    else if (ok)
        ok = (pl = 32, EVP_PKEY_get_raw_public_key(eph, val, &pl) == 1) && pl == 32;
    EVP_MAC_CTX_free(mc);
    EVP_MAC_free(mac);
    EVP_PKEY_CTX_free(kc);
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_free(eph);
    *type = ec               ? MCUBOOT_IMAGE_TLV_ENC_EC256
            : e->hmac_sha512 ? MCUBOOT_IMAGE_TLV_ENC_X25519_SHA512
                             : MCUBOOT_IMAGE_TLV_ENC_X25519;
    return ok ? (int)(publen + maclen + klen) : -1;
}

/* Build an image into a new buffer (*out, free()). Returns 0, or -1 on a failure. */
static inline int ib_build(const struct ib_spec *s, uint8_t **out, size_t *out_len)
{
    const uint32_t hdr = s->hdr_size ? s->hdr_size : 0x200;
    /* image.py: an encrypted payload is padded with zeros to 16 bytes */
    const uint32_t body_len = s->enc ? (s->body_len + 15) / 16 * 16 : s->body_len;
    const size_t klen = s->enc && s->enc->aes256 ? 32 : 16;
    uint8_t plainkey[32];
    uint32_t flags = s->flags;
    if (s->enc != NULL) {
        flags |=
            s->enc->aes256 ? MCUBOOT_IMAGE_F_ENCRYPTED_AES256 : MCUBOOT_IMAGE_F_ENCRYPTED_AES128;
        if (RAND_bytes(plainkey, (int)klen) != 1)
            return -1;
    }
    uint32_t prot = 0;
    for (size_t i = 0; i < s->n_prot; i++)
        prot += 4 + s->prot[i].len;
    if (prot != 0)
        prot += 4; /* the protected info header */
    const size_t cap = hdr + body_len + prot + 4 + s->n_ops * (4 + 512);
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
    ib_w32(b + 12, body_len);
    ib_w32(b + 16, flags);
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
    memset(b + hdr + s->body_len, 0, body_len - s->body_len);
    p = b + hdr + body_len;
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
        case IB_ENC:
            n = s->enc ? ib_enc_tlv(s->enc, plainkey, klen, sig, &type) : -1;
            val = sig;
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
    /* hashed and signed: now the body is encrypted in place (image.py, unless --clear) */
    if (s->enc != NULL && !s->enc->clear &&
        ib_aes_ctr(plainkey, klen, b + hdr, b + hdr, body_len) != 0)
        goto fail;
    *out = b;
    *out_len = (size_t)(p - b);
    return 0;
fail:
    free(b);
    return -1;
}

#endif /* TESTS_IMAGE_BUILDER_H */
