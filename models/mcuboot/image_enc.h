/* models/mcuboot/image_enc.h - encrypted MCUboot images: the bootloader's private key, the
 * AES key of an image and its decrypted body, with OpenSSL libcrypto.
 *
 * An encrypted image (ih_flags ENCRYPTED_AES128 or ENCRYPTED_AES256) carries its random
 * AES key in one TLV of the unprotected area, encrypted for the bootloader's private key
 * (mcu-tools/mcuboot 2d4bacc: boot/bootutil/include/bootutil/enc_key_public.h,
 * boot/bootutil/src/encrypted.c boot_decrypt_key; imgtool: scripts/imgtool/image.py
 * Image.create and ecies_hkdf). Only the body, bytes [ih_hdr_size, ih_hdr_size +
 * ih_img_size), is encrypted, with AES-CTR from a zero counter; the header and the TLVs
 * are plain, and the image hash and signature are over the plaintext
 * (boot/bootutil/src/bootutil_img_hash.c bootutil_img_hash).
 *
 * Encryption TLV value, ECIES (ENC_EC256 0x32, ENC_X25519 0x33, ENC_X25519_SHA512 0x34):
 *   OFFSET          SIZE                 CONTENT
 *   0               P (65 | 32)          ephemeral public key: uncompressed P-256 point
 *                                        (0x04 x y) or raw X25519
 *   P               T (32 | 64)          HMAC-SHA256 (SHA-512 for 0x34) tag of the cipher key
 *   P + T           K (16 | 32)          AES key, AES-CTR encrypted (AES-128 | AES-256 build)
 * Key derivation: shared = ECDH(bootloader private key, ephemeral public key);
 * HKDF-SHA256 (SHA-512) of shared, no salt, info "MCUBoot_ECIES_v1", K + T bytes: the first
 * K are the AES key of the cipher key (zero counter), the next T the HMAC key; the tag is
 * checked before the key is decrypted.
 * RSA-OAEP (ENC_RSA2048 0x30): 256 bytes, OAEP with SHA-256 and MGF1-SHA-256, no label.
 * AES key wrap (ENC_KW 0x31) is not modelled: Zephyr's MCUboot Kconfig cannot select it
 * and imgtool does not write it.
 */
#ifndef MODELS_MCUBOOT_IMAGE_ENC_H
#define MODELS_MCUBOOT_IMAGE_ENC_H

#include "sim/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The key exchange of a build (MCUBOOT_ENCRYPT_*): the type of its private key. */
enum mcuboot_enc_type {
    MCUBOOT_ENC_NONE = 0,
    MCUBOOT_ENC_EC256,  /* ECIES-P256, ENC_EC256 */
    MCUBOOT_ENC_X25519, /* ECIES-X25519, ENC_X25519 (ENC_X25519_SHA512 with HMAC-SHA512) */
    MCUBOOT_ENC_RSA2048 /* RSA-OAEP, ENC_RSA2048 */
};

#define MCUBOOT_ENC_MAX_KEY_SIZE 32u /* AES-256 */

struct mcuboot_enc_key; /* opaque: an OpenSSL private key */

/* Load the bootloader's private key (BOOT_ENCRYPTION_KEY_FILE) from PEM, PKCS#8 or the
 * algorithm's own form: EC P-256, X25519 or RSA-2048. Returns 0, or SIM_EFORMAT (message
 * naming `what`), SIM_ENOENT / SIM_EIO (file), SIM_ENOMEM; *out is NULL then. */
int mcuboot_enc_key_from_pem(const char *pem, size_t len, const char *what,
                             struct mcuboot_enc_key **out, struct sim_diag *d);
int mcuboot_enc_key_load(const char *path, struct mcuboot_enc_key **out, struct sim_diag *d);
void mcuboot_enc_key_free(struct mcuboot_enc_key *k);
enum mcuboot_enc_type mcuboot_enc_key_type(const struct mcuboot_enc_key *k);
/* "ECIES-P256", "ECIES-X25519", "RSA-OAEP", "none". */
const char *mcuboot_enc_type_name(enum mcuboot_enc_type t);

/* The TLV a build reads (BOOT_ENC_TLV) and its exact value size (BOOT_ENC_TLV_SIZE) for an
 * AES key of key_size (16 or 32) bytes and HMAC-SHA512 (X25519 only) or SHA256. */
uint16_t mcuboot_enc_tlv_type(enum mcuboot_enc_type t, bool hmac_sha512);
size_t mcuboot_enc_tlv_size(enum mcuboot_enc_type t, size_t key_size, bool hmac_sha512);

/* boot_decrypt_key: the image's AES key (key_size bytes) from the TLV value (exactly
 * mcuboot_enc_tlv_size bytes). Returns 1 with key set, 0 when the bootloader would refuse
 * (a reason in why: a point off the curve, a tag that does not match, an OAEP failure), or
 * SIM_EINTERNAL if libcrypto fails where MCUboot could not. */
int mcuboot_enc_decrypt_key(const struct mcuboot_enc_key *k, const uint8_t *tlv, size_t tlv_len,
                            size_t key_size, bool hmac_sha512,
                            uint8_t key[MCUBOOT_ENC_MAX_KEY_SIZE], char *why, size_t why_len);

/* AES-CTR (AES-128 or AES-256 by key_size) from a zero counter over n bytes of in into
 * out (may be the same buffer): encryption and decryption alike (boot_enc_decrypt: counter block = 12 zero bytes and the
 * big-endian body offset / 16, for bodies under 64 GiB the same stream). `ctx` carries the
 * position across calls: make it with mcuboot_enc_ctr_new, free with _free. */
struct mcuboot_enc_ctr;
/* NULL when out of memory or key_size is not 16 or 32. */
struct mcuboot_enc_ctr *mcuboot_enc_ctr_new(const uint8_t *key, size_t key_size);
/* Returns 0, or SIM_EINTERNAL if libcrypto fails. */
int mcuboot_enc_ctr_apply(struct mcuboot_enc_ctr *c, const uint8_t *in, uint8_t *out, size_t n);
void mcuboot_enc_ctr_free(struct mcuboot_enc_ctr *c);

#endif /* MODELS_MCUBOOT_IMAGE_ENC_H */
