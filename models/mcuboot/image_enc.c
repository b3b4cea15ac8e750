/* models/mcuboot/image_enc.c - encrypted MCUboot images with OpenSSL libcrypto.
 *
 * Rules mirrored (mcu-tools/mcuboot 2d4bacc), each cited where it is applied:
 *  - TLV type and size per build: boot/bootutil/include/bootutil/enc_key_public.h;
 *  - the key exchange: boot/bootutil/src/encrypted.c boot_decrypt_key (hkdf, HMAC check,
 *    AES-CTR of the cipher key), encrypted_psa.c for HMAC-SHA512;
 *  - the body stream: encrypted.c boot_enc_decrypt, bootutil_img_hash.c bootutil_img_hash.
 */
#include "models/mcuboot/image_enc.h"

#include "models/mcuboot/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

struct mcuboot_enc_key {
    EVP_PKEY *pkey;
    enum mcuboot_enc_type type;
};

struct mcuboot_enc_ctr {
    EVP_CIPHER_CTX *ctx;
};

/* enc_key_public.h: EC_PUBK_LEN of ECIES-P256 (uncompressed point) and ECIES-X25519. */
#define EC256_PUBK_LEN  65u
#define X25519_PUBK_LEN 32u
#define RSA_TLV_LEN     256u
/* encrypted.c boot_decrypt_key: the HKDF info string, 16 bytes, no NUL. */
static const char hkdf_info[] = "MCUBoot_ECIES_v1";

const char *mcuboot_enc_type_name(enum mcuboot_enc_type t)
{
    switch (t) {
    case MCUBOOT_ENC_EC256:
        return "ECIES-P256";
    case MCUBOOT_ENC_X25519:
        return "ECIES-X25519";
    case MCUBOOT_ENC_RSA2048:
        return "RSA-OAEP";
    case MCUBOOT_ENC_NONE:
        break;
    }
    return "none";
}

/* enc_key_public.h BOOT_ENC_TLV. */
uint16_t mcuboot_enc_tlv_type(enum mcuboot_enc_type t, bool hmac_sha512)
{
    switch (t) {
    case MCUBOOT_ENC_EC256:
        return MCUBOOT_IMAGE_TLV_ENC_EC256;
    case MCUBOOT_ENC_X25519:
        return hmac_sha512 ? MCUBOOT_IMAGE_TLV_ENC_X25519_SHA512 : MCUBOOT_IMAGE_TLV_ENC_X25519;
    case MCUBOOT_ENC_RSA2048:
        return MCUBOOT_IMAGE_TLV_ENC_RSA2048;
    case MCUBOOT_ENC_NONE:
        break;
    }
    return 0;
}

/* enc_key_public.h BOOT_ENC_TLV_SIZE: EC_PUBK_LEN + EC_TAG_LEN (BOOT_HMAC_SIZE) +
 * EC_CIPHERKEY_LEN (BOOT_ENC_KEY_SIZE) for ECIES, 256 for RSA. */
size_t mcuboot_enc_tlv_size(enum mcuboot_enc_type t, size_t key_size, bool hmac_sha512)
{
    const size_t tag = hmac_sha512 ? 64 : 32;
    switch (t) {
    case MCUBOOT_ENC_EC256:
        return EC256_PUBK_LEN + tag + key_size;
    case MCUBOOT_ENC_X25519:
        return X25519_PUBK_LEN + tag + key_size;
    case MCUBOOT_ENC_RSA2048:
        return RSA_TLV_LEN;
    case MCUBOOT_ENC_NONE:
        break;
    }
    return 0;
}

/* ---- the private key ---- */

static enum mcuboot_enc_type enc_type_of(EVP_PKEY *p)
{
    char group[64] = "";
    size_t glen = 0;
    switch (EVP_PKEY_get_base_id(p)) {
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           &glen) == 1 &&
            strcmp(group, "prime256v1") == 0)
            return MCUBOOT_ENC_EC256;
        return MCUBOOT_ENC_NONE;
    case EVP_PKEY_X25519:
        return MCUBOOT_ENC_X25519;
    case EVP_PKEY_RSA:
        return EVP_PKEY_get_bits(p) == 2048 ? MCUBOOT_ENC_RSA2048 : MCUBOOT_ENC_NONE;
    default:
        return MCUBOOT_ENC_NONE;
    }
}

int mcuboot_enc_key_from_pem(const char *pem, size_t len, const char *what,
                             struct mcuboot_enc_key **out, struct sim_diag *d)
{
    *out = NULL;
    what = what ? what : "encryption key";
    if (pem == NULL || len == 0 || len > INT32_MAX) {
        sim_diag_add(d, "%s: empty key", what);
        return SIM_EFORMAT;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return SIM_ENOMEM;
    EVP_PKEY *p = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (p == NULL) {
        sim_diag_add(d,
                     "%s: not a PEM private key; the bootloader holds the private key of "
                     "image encryption (BOOT_ENCRYPTION_KEY_FILE, e.g. imgtool keygen -t "
                     "ecdsa-p256), imgtool encrypts with its public key",
                     what);
        return SIM_EFORMAT;
    }
    enum mcuboot_enc_type t = enc_type_of(p);
    if (t == MCUBOOT_ENC_NONE) {
        sim_diag_add(d,
                     "%s: MCUboot decrypts images with an EC P-256, X25519 or RSA-2048 private "
                     "key (enc_key_public.h); this key is %s with %d bits",
                     what, OBJ_nid2sn(EVP_PKEY_get_base_id(p)), EVP_PKEY_get_bits(p));
        EVP_PKEY_free(p);
        return SIM_EFORMAT;
    }
    struct mcuboot_enc_key *k = malloc(sizeof(*k));
    if (k == NULL) {
        EVP_PKEY_free(p);
        return SIM_ENOMEM;
    }
    k->pkey = p;
    k->type = t;
    *out = k;
    return 0;
}

int mcuboot_enc_key_load(const char *path, struct mcuboot_enc_key **out, struct sim_diag *d)
{
    uint8_t *buf;
    size_t len;
    *out = NULL;
    int rc = mcuboot_image_read_file(path, &buf, &len, d);
    if (rc != 0)
        return rc;
    rc = mcuboot_enc_key_from_pem((const char *)buf, len, path, out, d);
    OPENSSL_cleanse(buf, len);
    free(buf);
    return rc;
}

void mcuboot_enc_key_free(struct mcuboot_enc_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

enum mcuboot_enc_type mcuboot_enc_key_type(const struct mcuboot_enc_key *k)
{
    return k ? k->type : MCUBOOT_ENC_NONE;
}

/* ---- boot_decrypt_key ---- */

/* The ephemeral public key of the TLV as an OpenSSL key; NULL when the bootloader refuses
 * it. ECIES-P256: bootutil/crypto/ecdh_p256.h bootutil_ecdh_p256_shared_secret requires the
 * uncompressed form (0x04) of a point on the curve (uECC_valid_public_key /
 * mbedtls_ecp_check_pubkey); OpenSSL's decoding checks the curve equation. */
static EVP_PKEY *peer_key(enum mcuboot_enc_type t, const uint8_t *pub)
{
    EVP_PKEY *peer = NULL;
    if (t == MCUBOOT_ENC_X25519)
        return EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, X25519_PUBK_LEN);
    if (pub[0] != 0x04)
        return NULL;
    char group[] = "prime256v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, EC256_PUBK_LEN),
        OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (c == NULL || EVP_PKEY_fromdata_init(c) != 1 ||
        EVP_PKEY_fromdata(c, &peer, EVP_PKEY_PUBLIC_KEY, params) != 1)
        peer = NULL;
    EVP_PKEY_CTX_free(c);
    return peer;
}

/* ECDH: 32 bytes of shared secret; 0 ok, -1 refused. X25519: the all-zero result of a
 * low-order point is refused by OpenSSL as by bootutil_ecdh_x25519_shared_secret. */
static int ecdh(const struct mcuboot_enc_key *k, const uint8_t *pub, uint8_t shared[32])
{
    EVP_PKEY *peer = peer_key(k->type, pub);
    EVP_PKEY_CTX *c = peer ? EVP_PKEY_CTX_new(k->pkey, NULL) : NULL;
    size_t n = 32;
    int rc = -1;
    if (c != NULL && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, peer) == 1 &&
        EVP_PKEY_derive(c, shared, &n) == 1 && n == 32)
        rc = 0;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(peer);
    return rc;
}

/* encrypted.c hkdf (RFC 5869, salt of zeros, HMAC-SHA256; encrypted_psa.c: SHA-512 with
 * MCUBOOT_HMAC_SHA512). 0 ok, -1 libcrypto failure. */
static int hkdf(const char *md, const uint8_t *ikm, size_t ikm_len, uint8_t *okm, size_t n)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)hkdf_info,
                                          sizeof(hkdf_info) - 1),
        OSSL_PARAM_construct_end()};
    int rc = c != NULL && EVP_KDF_derive(c, okm, n, params) == 1 ? 0 : -1;
    EVP_KDF_CTX_free(c);
    EVP_KDF_free(kdf);
    return rc;
}

struct mcuboot_enc_ctr *mcuboot_enc_ctr_new(const uint8_t *key, size_t key_size)
{
    static const uint8_t zero[16];
    if (key_size != 16 && key_size != 32)
        return NULL;
    struct mcuboot_enc_ctr *c = malloc(sizeof(*c));
    if (c == NULL)
        return NULL;
    c->ctx = EVP_CIPHER_CTX_new();
    if (c->ctx == NULL ||
        EVP_EncryptInit_ex(c->ctx, key_size == 16 ? EVP_aes_128_ctr() : EVP_aes_256_ctr(), NULL,
                           key, zero) != 1) {
        mcuboot_enc_ctr_free(c);
        ERR_clear_error();
        return NULL;
    }
    return c;
}

int mcuboot_enc_ctr_apply(struct mcuboot_enc_ctr *c, const uint8_t *in, uint8_t *out, size_t n)
{
    while (n > 0) {
        int chunk = n > (1u << 30) ? 1 << 30 : (int)n, outl = 0;
        if (EVP_EncryptUpdate(c->ctx, out, &outl, in, chunk) != 1 || outl != chunk) {
            ERR_clear_error();
            return SIM_EINTERNAL;
        }
        in += chunk;
        out += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

void mcuboot_enc_ctr_free(struct mcuboot_enc_ctr *c)
{
    if (c == NULL)
        return;
    EVP_CIPHER_CTX_free(c->ctx);
    free(c);
}

/* ECIES (encrypted.c boot_decrypt_key, EC256 and X25519 branches). */
static int decrypt_ecies(const struct mcuboot_enc_key *k, const uint8_t *tlv, size_t key_size,
                         bool hmac_sha512, uint8_t *key, char *why, size_t why_len)
{
    const size_t pub = k->type == MCUBOOT_ENC_EC256 ? EC256_PUBK_LEN : X25519_PUBK_LEN;
    const size_t tag_len = hmac_sha512 ? 64 : 32;
    const char *md = hmac_sha512 ? "SHA512" : "SHA256";
    uint8_t shared[32], derived[MCUBOOT_ENC_MAX_KEY_SIZE + 64], tag[64];
    size_t tlen = 0;
    int rc = 0;
    /* EC_PUBK_INDEX 0: the ephemeral public key; ECDH with the built-in private key. */
    if (ecdh(k, tlv, shared) != 0) {
        ERR_clear_error();
        snprintf(why, why_len,
                 "the ephemeral public key of the encryption TLV is not a valid %s key, or ECDH "
                 "with the bootloader's key fails (mcu-tools/mcuboot boot/bootutil/src/"
                 "encrypted.c boot_decrypt_key)",
                 k->type == MCUBOOT_ENC_EC256 ? "uncompressed P-256" : "X25519");
        return 0;
    }
    /* hkdf(shared, "MCUBoot_ECIES_v1") -> BOOT_ENC_KEY_SIZE bytes of AES key, then the MAC
     * key (32 bytes; 64 with HMAC-SHA512, encrypted_psa.c HKDF_MAC_FEED_SIZE). */
    if (hkdf(md, shared, sizeof(shared), derived, key_size + tag_len) != 0 ||
        EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, derived + key_size, tag_len, tlv + pub + tag_len,
                  key_size, tag, sizeof(tag), &tlen) == NULL ||
        tlen != tag_len) {
        rc = SIM_EINTERNAL;
        goto out;
    }
    /* The tag at EC_TAG_INDEX is HMAC(mac key, cipher key at EC_CIPHERKEY_INDEX), compared
     * in constant time before anything is decrypted. A wrong private key lands here. */
    if (CRYPTO_memcmp(tag, tlv + pub, tag_len) != 0) {
        snprintf(why, why_len,
                 "the HMAC-%s tag of the encryption key TLV does not match: the image was "
                 "encrypted for another key than the bootloader's (mcu-tools/mcuboot "
                 "boot/bootutil/src/encrypted.c boot_decrypt_key)",
                 hmac_sha512 ? "SHA512" : "SHA256");
        goto out;
    }
    /* The cipher key, AES-CTR with the first key_size derived bytes from a zero counter. */
    struct mcuboot_enc_ctr *c = mcuboot_enc_ctr_new(derived, key_size);
    if (c == NULL || mcuboot_enc_ctr_apply(c, tlv + pub + tag_len, key, key_size) != 0)
        rc = SIM_EINTERNAL;
    else
        rc = 1;
    mcuboot_enc_ctr_free(c);
out:
    OPENSSL_cleanse(shared, sizeof(shared));
    OPENSSL_cleanse(derived, sizeof(derived));
    ERR_clear_error();
    return rc;
}

/* RSA-OAEP (encrypted.c boot_decrypt_key, MCUBOOT_ENCRYPT_RSA: bootutil_rsa_oaep_decrypt,
 * SHA-256 and MGF1-SHA-256 as imgtool encrypts, into a BOOT_ENC_KEY_SIZE buffer). */
static int decrypt_rsa(const struct mcuboot_enc_key *k, const uint8_t *tlv, size_t key_size,
                       uint8_t *key, char *why, size_t why_len)
{
    uint8_t out[RSA_TLV_LEN];
    size_t n = sizeof(out);
    int rc = 0;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k->pkey, NULL);
    if (c == NULL || EVP_PKEY_decrypt_init(c) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) != 1) {
        rc = SIM_EINTERNAL;
    } else if (EVP_PKEY_decrypt(c, out, &n, tlv, RSA_TLV_LEN) != 1) {
        snprintf(why, why_len,
                 "RSA-OAEP decryption of the encryption key TLV fails: the image was encrypted "
                 "for another key than the bootloader's (mcu-tools/mcuboot "
                 "boot/bootutil/src/encrypted.c boot_decrypt_key)");
    } else if (n != key_size) {
        /* Longer: the OAEP output does not fit BOOT_ENC_KEY_SIZE and decryption fails.
         * Shorter: MCUboot goes on with a key it did not fully write, which cannot be the
         * body's; refused here at once. */
        snprintf(why, why_len,
                 "the encryption key TLV holds a %zu-byte AES key and the bootloader uses "
                 "AES-%zu (BOOT_ENC_KEY_SIZE; mcu-tools/mcuboot boot/bootutil/src/encrypted.c "
                 "boot_decrypt_key)",
                 n, key_size * 8);
    } else {
        memcpy(key, out, key_size);
        rc = 1;
    }
    OPENSSL_cleanse(out, sizeof(out));
    EVP_PKEY_CTX_free(c);
    ERR_clear_error();
    return rc;
}

int mcuboot_enc_decrypt_key(const struct mcuboot_enc_key *k, const uint8_t *tlv, size_t tlv_len,
                            size_t key_size, bool hmac_sha512,
                            uint8_t key[MCUBOOT_ENC_MAX_KEY_SIZE], char *why, size_t why_len)
{
    if (k == NULL || (key_size != 16 && key_size != 32) ||
        tlv_len != mcuboot_enc_tlv_size(k->type, key_size, hmac_sha512) ||
        (hmac_sha512 && k->type != MCUBOOT_ENC_X25519))
        return SIM_EINTERNAL; /* the caller checks the TLV size as boot_enc_load does */
    if (k->type == MCUBOOT_ENC_RSA2048)
        return decrypt_rsa(k, tlv, key_size, key, why, why_len);
    return decrypt_ecies(k, tlv, key_size, hmac_sha512, key, why, why_len);
}
