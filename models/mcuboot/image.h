/* models/mcuboot/image.h - the MCUboot image: header, TLV areas, image hash, signature.
 *
 * Loads a real imgtool-signed .bin (or synthesizes a descriptor from a size and a version),
 * computes and checks the image hash (SHA-256 over header + body + protected TLVs), and
 * gives MCUboot's verdict on an image for a given bootloader build (mcuboot_image_check:
 * hash and signature type, trusted keys, encryption support) with OpenSSL libcrypto, as
 * bootutil_img_validate() does. The descriptor (struct mcuboot_image) is plain data shared by
 * every device that carries the image (CONTRIBUTING.md rule 6); the bytes stay with the caller.
 * Sources: mcu-tools/mcuboot: boot/bootutil/include/bootutil/image.h,
 * boot/bootutil/src/image_validate.c, docs/design.md.
 *
 * Image header (32 bytes, little-endian), mcu-tools/mcuboot: bootutil/image.h struct
 * image_header:
 *   OFFSET  SIZE  DESCRIPTION
 *   0       4     ih_magic: 0x96f3b83d (0x96f3b83c = legacy v1, 0xffffffff = erased)
 *   4       4     ih_load_addr: RAM-load / ROM_FIXED address
 *   8       2     ih_hdr_size: header incl. padding = offset of the body (Zephyr: 0x200)
 *   10      2     ih_protect_tlv_size: protected TLV area incl. its info header; 0 if none
 *   12      4     ih_img_size: body bytes, header excluded
 *   16      4     ih_flags: MCUBOOT_IMAGE_F_*
 *   20      1     iv_major
 *   21      1     iv_minor
 *   22      2     iv_revision
 *   24      4     iv_build_num
 *   28      4     padding
 *
 * Image in a slot or file:
 *   OFFSET                                 SIZE                 DESCRIPTION
 *   0                                      ih_hdr_size          header + padding
 *   ih_hdr_size                            ih_img_size          body
 *   ih_hdr_size + ih_img_size              ih_protect_tlv_size  protected TLVs (info 0x6908)
 *   ... + ih_protect_tlv_size              it_tlv_tot           TLVs (info 0x6907)
 *   (a padded file continues with 0xff up to the trailer at the end of the slot)
 *
 * TLV info header (4 bytes):           TLV entry header (4 bytes, then `len` value bytes):
 *   OFFSET  SIZE  DESCRIPTION            OFFSET  SIZE  DESCRIPTION
 *   0       2     it_magic 0x6907/0x6908 0       2     it_type (MCUBOOT_IMAGE_TLV_*)
 *   2       2     it_tlv_tot (incl. info) 2       2     it_len (value bytes, header excl.)
 */
#ifndef MODELS_MCUBOOT_IMAGE_H
#define MODELS_MCUBOOT_IMAGE_H

#include "models/mcuboot/image_enc.h"
#include "sim/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/scenario/settings.h"

/* mcu-tools/mcuboot: boot/bootutil/include/bootutil/image.h */
#define MCUBOOT_IMAGE_MAGIC           0x96f3b83du
#define MCUBOOT_IMAGE_MAGIC_V1        0x96f3b83cu
#define MCUBOOT_IMAGE_MAGIC_NONE      0xffffffffu
#define MCUBOOT_IMAGE_HEADER_SIZE     32u
#define MCUBOOT_IMAGE_TLV_INFO_MAGIC  0x6907u
#define MCUBOOT_IMAGE_TLV_PROT_MAGIC  0x6908u
#define MCUBOOT_IMAGE_TLV_INFO_SIZE   4u
#define MCUBOOT_IMAGE_TLV_HEADER_SIZE 4u
#define MCUBOOT_IMAGE_HASH_SIZE       32u
#define MCUBOOT_IMAGE_ZEPHYR_HDR_SIZE 0x200u /* imgtool --header-size 0x200 in Zephyr builds */

/* ih_flags bits (bootutil/image.h IMAGE_F_*). */
#define MCUBOOT_IMAGE_F_PIC              0x00000001u
#define MCUBOOT_IMAGE_F_ENCRYPTED_AES128 0x00000004u
#define MCUBOOT_IMAGE_F_ENCRYPTED_AES256 0x00000008u
#define MCUBOOT_IMAGE_F_NON_BOOTABLE     0x00000010u
#define MCUBOOT_IMAGE_F_RAM_LOAD         0x00000020u
#define MCUBOOT_IMAGE_F_ROM_FIXED        0x00000100u

/* TLV types used here (bootutil/image.h IMAGE_TLV_*). */
enum mcuboot_image_tlv_type {
    MCUBOOT_IMAGE_TLV_KEYHASH = 0x01, /* SHA-256 of the public key (DER SubjectPublicKeyInfo) */
    MCUBOOT_IMAGE_TLV_PUBKEY = 0x02,
    MCUBOOT_IMAGE_TLV_SHA256 = 0x10, /* the image hash */
    MCUBOOT_IMAGE_TLV_SHA384 = 0x11,
    MCUBOOT_IMAGE_TLV_SHA512 = 0x12,
    MCUBOOT_IMAGE_TLV_RSA2048_PSS = 0x20,
    MCUBOOT_IMAGE_TLV_ECDSA_SIG = 0x22, /* DER ECDSA signature (P-256 or P-384) */
    MCUBOOT_IMAGE_TLV_RSA3072_PSS = 0x23,
    MCUBOOT_IMAGE_TLV_ED25519 = 0x24,
    MCUBOOT_IMAGE_TLV_SEC_CNT = 0x50
};

struct mcuboot_image_version {
    uint8_t major;
    uint8_t minor;
    uint16_t revision;
    uint32_t build;
};

/* The decoded 32-byte header. */
struct mcuboot_image_header {
    uint32_t magic;
    uint32_t load_addr;
    uint16_t hdr_size;
    uint16_t protect_tlv_size;
    uint32_t img_size;
    uint32_t flags;
    struct mcuboot_image_version version;
};

/* Image descriptor: what a device needs to know about an image. Plain data, by value. */
struct mcuboot_image {
    struct mcuboot_image_header hdr;
    uint32_t tlv_off;     /* offset of the unprotected TLV info (after the protected area) */
    uint32_t tlv_size;    /* it_tlv_tot of the unprotected area (info header included) */
    uint32_t total_size;  /* header + body + all TLVs: the upload size, swap_size basis */
    uint32_t file_size;   /* bytes in the file (> total_size when padded to a slot) */
    uint32_t sig_tlv_len; /* length of the ECDSA_SIG value; 0 when unsigned */
    uint8_t hash[MCUBOOT_IMAGE_HASH_SIZE];     /* SHA256 TLV value: what img_mgmt reports */
    uint8_t file_sha[MCUBOOT_IMAGE_HASH_SIZE]; /* SHA-256 of the whole file (upload "sha") */
    uint8_t keyhash[MCUBOOT_IMAGE_HASH_SIZE];  /* KEYHASH TLV value when has_keyhash */
    bool has_keyhash;
    bool synthetic; /* made by mcuboot_image_synth(): there are no bytes */
};

/* Outcome of validation as the bootloader sees it: data, not a C error. */
enum mcuboot_image_verdict {
    MCUBOOT_IMAGE_VALID = 0,
    MCUBOOT_IMAGE_BAD_HASH,     /* computed hash differs from the SHA256 TLV */
    MCUBOOT_IMAGE_NO_SIGNATURE, /* a key is configured but the image has no ECDSA_SIG TLV */
    MCUBOOT_IMAGE_BAD_KEYHASH,  /* KEYHASH TLV names another key: no key to verify with */
    MCUBOOT_IMAGE_BAD_SIGNATURE /* the signature does not verify over the image hash */
};

struct mcuboot_image_key; /* opaque: an OpenSSL EVP_PKEY and its key hash */

/* Decode a header from at least 32 bytes. Returns 0, or SIM_EFORMAT with a message naming
 * `what` (a file name, for people) when the buffer is short or the magic is not an MCUboot
 * v2 magic (erased flash, legacy v1, ELF, Intel HEX and unknown data are told apart). */
int mcuboot_image_header_decode(const uint8_t *buf, size_t len, const char *what,
                                struct mcuboot_image_header *out, struct sim_diag *d);

/* Encode a header into 32 bytes (padding zeroed). */
void mcuboot_image_header_encode(const struct mcuboot_image_header *h,
                                 uint8_t out[MCUBOOT_IMAGE_HEADER_SIZE]);

/* Parse a whole image (file contents or slot contents) without copying it: header, the
 * protected and unprotected TLV areas (every entry inside its area), exactly one 32-byte
 * SHA256 TLV in the unprotected area, the optional KEYHASH and ECDSA_SIG TLVs, and the file
 * SHA-256. Returns 0, or SIM_EFORMAT (corrupt, truncated or foreign; message names `what`
 * and the offset). *out is written only on success. */
int mcuboot_image_parse(const uint8_t *buf, size_t len, const char *what, struct mcuboot_image *out,
                        struct sim_diag *d);

/* Read a whole file into a new heap buffer (the caller frees *buf with free()).
 * Returns 0, SIM_ENOENT / SIM_EIO (message with the path and strerror), SIM_ERANGE for a
 * file over 16 MiB, or SIM_ENOMEM. On failure *buf is NULL. */
int mcuboot_image_read_file(const char *path, uint8_t **buf, size_t *len, struct sim_diag *d);

/* Read and parse a file; the bytes are not kept. Errors as read_file and parse. */
int mcuboot_image_load(const char *path, struct mcuboot_image *out, struct sim_diag *d);

/* Describe an image of total_size bytes (header + body + TLVs, as uploaded) and a version
 * without storing bytes: header size 0x200 and the TLV area of an imgtool ECDSA-P256 image
 * (SHA256, KEYHASH, 71-byte signature: 151 bytes). Its content is generated on demand by
 * mcuboot_image_bytes(), a deterministic function of (total_size, version):
 *   OFFSET        SIZE      CONTENT
 *   0             32        the header (mcuboot_image_header_encode)
 *   32            0x1e0     0xff (imgtool --pad-header)
 *   0x200         img_size  pseudo-random body (splitmix64 of a seed from size and version)
 *   tlv_off       151       TLV info, SHA256 = hash, KEYHASH = keyhash, filler signature
 * hash and file_sha are the SHA-256 values of that content (computed here, once, so that a
 * device can answer check_sha without bytes), so distinct synthetic images have distinct
 * hashes, and parsing the generated bytes gives back this descriptor (synthetic aside).
 * The signature is filler: it never verifies. Cost: one pass over total_size bytes.
 * Returns 0, SIM_ERANGE (message) when total_size cannot hold header and TLVs, or
 * SIM_EINTERNAL if libcrypto fails. */
int mcuboot_image_synth(uint32_t total_size, const struct mcuboot_image_version *v,
                        struct mcuboot_image *out, struct sim_diag *d);
/* The smallest total_size mcuboot_image_synth() accepts (header, TLVs and one body byte):
 * what `dfusim validate` requires of image.size. */
uint32_t mcuboot_image_synth_min_size(void);

/* Copy bytes [off, off + n) of an image as its file holds them into out: from `file` (the
 * img->file_size bytes of the image; shared, not copied) when given, else generated (see
 * mcuboot_image_synth) for a synthetic one. Generating costs a pass over the range, so a
 * caller that reads a synthetic image often generates it once (file = NULL, off 0, the
 * whole file_size) and passes those bytes as `file` from then on.
 * Returns 0, SIM_ERANGE when the range passes file_size, or SIM_EINVAL for a real image
 * without its file. out is unchanged on failure. */
int mcuboot_image_bytes(const struct mcuboot_image *img, const uint8_t *file, uint32_t off,
                        uint8_t *out, size_t n);

/* Find the first TLV of `type` in the protected (prot = true) or unprotected area of a
 * parsed image. Stores the value offset and length. Returns 0, or SIM_ENOENT. */
int mcuboot_image_tlv_find(const uint8_t *buf, size_t len, const struct mcuboot_image *img,
                           uint16_t type, bool prot, uint32_t *val_off, uint16_t *val_len);

/* SHA-256 over header + body + protected TLVs (mcu-tools/mcuboot:
 * boot/bootutil/src/bootutil_img_hash.c). Returns 0, SIM_EINVAL if buf is shorter than that,
 * or SIM_EINTERNAL if libcrypto fails. */
int mcuboot_image_hash(const uint8_t *buf, size_t len, const struct mcuboot_image *img,
                       uint8_t out[MCUBOOT_IMAGE_HASH_SIZE]);

/* Load a PEM public key (SubjectPublicKeyInfo) from memory or a file. Only ECDSA P-256 is
 * accepted. The key hash is SHA-256 of its DER encoding, as imgtool writes in KEYHASH.
 * Returns 0, or SIM_EFORMAT / SIM_ENOENT / SIM_ENOMEM with a message; *out is NULL then. */
int mcuboot_image_key_from_pem(const char *pem, size_t len, const char *what,
                               struct mcuboot_image_key **out, struct sim_diag *d);
int mcuboot_image_key_load(const char *path, struct mcuboot_image_key **out, struct sim_diag *d);
/* Free a key. Accepts NULL. */
void mcuboot_image_key_free(struct mcuboot_image_key *k);
/* The key's hash (32 bytes, owned by the key). */
const uint8_t *mcuboot_image_key_hash(const struct mcuboot_image_key *k);

/* The older one-key check, kept for its callers: recompute the hash and compare it with
 * the SHA256 TLV; then, when key != NULL, require a signature TLV, check that the KEYHASH
 * TLV (if present) names this key, and verify the ECDSA signature over the hash.
 * It departs from MCUboot (it ignores TLV order and accepts a signature without a KEYHASH);
 * mcuboot_image_check below gives MCUboot's verdict.
 * The verdict goes to *verdict (and a message into d when not VALID).
 * Returns 0 (verdict set), or SIM_EINVAL for a synthetic image or a short buffer,
 * SIM_EINTERNAL if libcrypto fails. */
int mcuboot_image_validate(const uint8_t *buf, size_t len, const struct mcuboot_image *img,
                           const struct mcuboot_image_key *key, enum mcuboot_image_verdict *verdict,
                           struct sim_diag *d);

/* ---- Validation as a given MCUboot build does it (mcuboot_image_check) ----
 *
 * The bootloader's verdict on the bytes of a slot, for a bootloader built with one hash, one
 * signature type, a set of trusted public keys (bootutil_keys[], BOOT_SIGNATURE_KEY_FILE may
 * list several) and with or without encryption support. Rules, in the order MCUboot applies
 * them (mcu-tools/mcuboot 2d4bacc):
 *  1. boot_validate_slot (boot/bootutil/src/loader.c): an erased header or the NON_BOOTABLE
 *     flag means "no bootable image" before anything else is read;
 *  2. boot_check_header_valid (boot/bootutil/src/bootutil_loader.c): the v2 magic; header +
 *     body + protected TLVs smaller than the slot; ENCRYPTED_AES128/AES256 refused without
 *     MCUBOOT_ENC_IMAGES (both at once refused with it); compressed images refused without
 *     MCUBOOT_DECOMPRESS_IMAGES;
 *  3. bootutil_img_validate (boot/bootutil/src/image_validate.c), TLVs in file order
 *     (bootutil_tlv_iter_begin/_next, boot/bootutil/src/tlv.c): the build's hash TLV must
 *     be present and match (other hash TLVs are ignored); KEYHASH (or PUBKEY with
 *     MCUBOOT_HW_KEY) selects a trusted key or none; a signature TLV is checked only with a
 *     key selected, which it then consumes; the last signature checked decides; with
 *     MCUBOOT_SIGN_PURE the image must carry SIG_PURE and is signed directly.
 * An encrypted image on a build with MCUBOOT_ENC_IMAGES is checked as the upgrade
 * candidate in the secondary slot (MUST_DECRYPT, bootutil/image.h), between rules 2 and 3:
 *  2b. boot_check_image (bootutil_loader.c) -> boot_enc_load (encrypted.c): the first TLV
 *     of the build's BOOT_ENC_TLV type, in file order, must exist and be exactly
 *     BOOT_ENC_TLV_SIZE bytes, and boot_decrypt_key must recover the AES key with the
 *     build's private key (models/mcuboot/image_enc.h); otherwise the image is refused
 *     (MCUBOOT_IMG_BAD_ENC_KEY; without the TLV bootutil_img_hash refuses it);
 *  3'. the hash is over header, the body decrypted with AES-CTR (AES-256 with
 *     MCUBOOT_AES_256) and the protected TLVs (bootutil_img_hash), then as rule 3.
 * Compressed images on a build that decompresses are not modelled
 * (MCUBOOT_IMG_NOT_MODELLED).
 */

/* More ih_flags bits (bootutil/image.h IMAGE_F_COMPRESSED_*). */
#define MCUBOOT_IMAGE_F_COMPRESSED_LZMA1    0x00000200u
#define MCUBOOT_IMAGE_F_COMPRESSED_LZMA2    0x00000400u
/* TLV types the check reads besides those of enum mcuboot_image_tlv_type. */
#define MCUBOOT_IMAGE_TLV_ECDSA224          0x21u /* no longer supported by MCUboot */
#define MCUBOOT_IMAGE_TLV_SIG_PURE          0x25u /* 1 byte, 1: the signature is over the image itself */
#define MCUBOOT_IMAGE_TLV_ENC_RSA2048       0x30u
#define MCUBOOT_IMAGE_TLV_ENC_KW            0x31u
#define MCUBOOT_IMAGE_TLV_ENC_EC256         0x32u
#define MCUBOOT_IMAGE_TLV_ENC_X25519        0x33u
#define MCUBOOT_IMAGE_TLV_ENC_X25519_SHA512 0x34u
#define MCUBOOT_IMAGE_MAX_HASH_SIZE         64u /* SHA-512 */

/* The image hash of the build (MCUBOOT_SHA256 default, MCUBOOT_SHA384 with EC384,
 * MCUBOOT_SHA512; bootutil/crypto/sha.h, Zephyr CONFIG_BOOT_IMG_HASH_ALG_*). */
enum mcuboot_hash_alg { MCUBOOT_HASH_SHA256 = 0, MCUBOOT_HASH_SHA384, MCUBOOT_HASH_SHA512 };

/* The signature type of the build (MCUBOOT_SIGN_*, Zephyr CONFIG_BOOT_SIGNATURE_TYPE_*). */
enum mcuboot_sig_type {
    MCUBOOT_SIG_NONE = 0, /* hash only (CONFIG_BOOT_SIGNATURE_TYPE_NONE) */
    MCUBOOT_SIG_EC256,    /* ECDSA P-256, ECDSA_SIG TLV */
    MCUBOOT_SIG_EC384,    /* ECDSA P-384, ECDSA_SIG TLV, SHA-384 image hash */
    MCUBOOT_SIG_ED25519,  /* Ed25519, ED25519 TLV (over the hash, or the image when pure) */
    MCUBOOT_SIG_RSA2048,  /* RSA-2048 PSS, RSA2048_PSS TLV */
    MCUBOOT_SIG_RSA3072   /* RSA-3072 PSS, RSA3072_PSS TLV */
};

/* What the bootloader was built with. Plain data; zero-initialised = SHA-256, no signature,
 * no encryption, sizes unchecked. */
struct mcuboot_build {
    enum mcuboot_hash_alg hash;
    enum mcuboot_sig_type sig;
    bool pure;             /* MCUBOOT_SIGN_PURE (Ed25519 only; CONFIG_BOOT_SIGNATURE_TYPE_PURE) */
    bool hw_key;           /* MCUBOOT_HW_KEY: the image carries PUBKEY, not KEYHASH */
    bool enc_images;       /* MCUBOOT_ENC_IMAGES (CONFIG_BOOT_ENCRYPT_IMAGE): the key set
                            * holds the private key (mcuboot_keyset_set_enc_key) */
    bool aes256;           /* MCUBOOT_AES_256 (CONFIG_BOOT_ENCRYPT_ALG_AES_256): 32-byte keys */
    bool hmac_sha512;      /* MCUBOOT_HMAC_SHA512 (CONFIG_BOOT_HMAC_SHA512; X25519 only) */
    bool decompress;       /* MCUBOOT_DECOMPRESS_IMAGES */
    bool tlv_allow_list;   /* MCUBOOT_USE_TLV_ALLOW_LIST: only signature/hash/key/encryption
                           * TLVs may be unprotected */
    uint32_t slot_size;    /* bytes of the slot (flash_area_get_size); 0: not checked */
    uint32_t max_img_size; /* bootutil_max_image_size of the slot (slot minus trailer);
                            * 0: not checked */
};

/* The verdict. Data, not a C error. */
enum mcuboot_img_verdict {
    MCUBOOT_IMG_VALID = 0,
    MCUBOOT_IMG_NO_IMAGE,      /* erased header or NON_BOOTABLE: FIH_NO_BOOTABLE_IMAGE */
    MCUBOOT_IMG_BAD_HEADER,    /* boot_check_header_valid refuses it */
    MCUBOOT_IMG_BAD_TLV,       /* TLV info or entries malformed, or a TLV not allowed */
    MCUBOOT_IMG_BAD_HASH,      /* the build's hash TLV is missing, mis-sized or differs */
    MCUBOOT_IMG_BAD_SIGNATURE, /* no accepted signature (none checked, or the last failed) */
    MCUBOOT_IMG_BAD_ENC_KEY,   /* encrypted image whose AES key the bootloader cannot recover */
    MCUBOOT_IMG_NOT_MODELLED   /* compressed image on a device that decompresses */
};

#define MCUBOOT_IMG_REASON_SIZE 320

/* The outcome of mcuboot_image_check. */
struct mcuboot_img_result {
    enum mcuboot_img_verdict verdict;
    char reason[MCUBOOT_IMG_REASON_SIZE]; /* what MCUboot does and where (file, function) */
    int key_index;                        /* trusted key of the deciding signature, -1 if none */
    unsigned n_sig_checked;               /* signature TLVs verified (a key was selected) */
    unsigned n_sig_skipped; /* signature TLVs ignored: no trusted key selected before them */
    bool hash_checked;      /* the build's hash TLV was found and compared */
    bool decrypted;         /* the body was decrypted before hashing (encrypted image) */
};

struct mcuboot_keyset; /* opaque: the trusted public keys, in bootutil_keys[] order */

/* An empty key set. Returns NULL when out of memory. */
struct mcuboot_keyset *mcuboot_keyset_new(void);
/* Free a key set. Accepts NULL. */
void mcuboot_keyset_free(struct mcuboot_keyset *ks);
/* Append one PEM public key (SubjectPublicKeyInfo: EC P-256, EC P-384, Ed25519, RSA 2048 or
 * 3072), as `imgtool getpub` embeds it: DER SubjectPublicKeyInfo, or PKCS#1 RSAPublicKey for
 * RSA (get_public_bytes in scripts/imgtool/keys/). Returns 0, or SIM_EFORMAT (message
 * naming `what`), SIM_ENOMEM; the set is unchanged on failure. */
int mcuboot_keyset_add_pem(struct mcuboot_keyset *ks, const char *pem, size_t len, const char *what,
                           struct sim_diag *d);
/* As add_pem, from a file. Also SIM_ENOENT / SIM_EIO. */
int mcuboot_keyset_add_file(struct mcuboot_keyset *ks, const char *path, struct sim_diag *d);
/* Number of keys, and the signature type of key i. */
size_t mcuboot_keyset_count(const struct mcuboot_keyset *ks);
enum mcuboot_sig_type mcuboot_keyset_type(const struct mcuboot_keyset *ks, size_t i);
/* The bytes MCUboot holds for key i (what KEYHASH hashes); *len set. Owned by the set. */
const uint8_t *mcuboot_keyset_bytes(const struct mcuboot_keyset *ks, size_t i, size_t *len);

/* Give the key set the bootloader's private key of image encryption (bootutil_enc_key,
 * BOOT_ENCRYPTION_KEY_FILE); the set owns it from then on (also on failure) and frees any
 * earlier one. Returns 0, or SIM_EINVAL for a NULL set or key. */
int mcuboot_keyset_set_enc_key(struct mcuboot_keyset *ks, struct mcuboot_enc_key *k);
/* As set_enc_key, from a PEM file (mcuboot_enc_key_load; its errors). */
int mcuboot_keyset_set_enc_file(struct mcuboot_keyset *ks, const char *path, struct sim_diag *d);
/* The private key, or NULL. */
const struct mcuboot_enc_key *mcuboot_keyset_enc_key(const struct mcuboot_keyset *ks);

/* Check that a build is one MCUboot compiles and that every key suits it: SHA-384 only with
 * EC384 and EC384 only with SHA-384 or SHA-512 (bootutil/crypto/sha.h); RSA only with
 * SHA-256 (image_rsa.c PSS_HLEN); pure only with Ed25519 (Zephyr Kconfig
 * BOOT_SIGNATURE_TYPE_PURE); keys all of the build's type (BOOT_SIGNATURE_KEY_FILE);
 * MCUBOOT_ENC_IMAGES with a private key of the type the signature selects (Zephyr Kconfig
 * BOOT_ENCRYPT_IMAGE: RSA -> RSA-OAEP, ECDSA P-256 -> ECIES-P256, Ed25519 not pure ->
 * ECIES-X25519; no encryption with P-384, pure or unsigned builds); HMAC-SHA512 only with
 * X25519 (enc_key_public.h).
 * keys may be NULL. Returns 0, or SIM_EINVAL with a message. */
int mcuboot_build_check(const struct mcuboot_build *b, const struct mcuboot_keyset *keys,
                        struct sim_diag *d);

/* Validate the bytes of a slot (or an image file) as the build's MCUboot does (rules above).
 * buf holds len bytes from the start of the slot; keys may be NULL for an unsigned build.
 * Never reads outside buf. Returns 0 with *res filled, or SIM_EINVAL (message) for an
 * inconsistent build (mcuboot_build_check) or NULL buf, or SIM_EINTERNAL if libcrypto
 * fails. */
int mcuboot_image_check(const uint8_t *buf, size_t len, const struct mcuboot_build *b,
                        const struct mcuboot_keyset *keys, struct mcuboot_img_result *res,
                        struct sim_diag *d);

/* Short names for messages: "SHA-256", "ECDSA P-256", "valid", ... */
const char *mcuboot_hash_alg_name(enum mcuboot_hash_alg h);
const char *mcuboot_sig_type_name(enum mcuboot_sig_type s);
const char *mcuboot_img_verdict_name(enum mcuboot_img_verdict v);

/* Compare versions as boot_compare_version() (mcu-tools/mcuboot:
 * boot/bootutil/src/bootutil_loader.c): major, minor, revision, then build number only when
 * use_build. Returns -1, 0 or 1. */
int mcuboot_image_version_cmp(const struct mcuboot_image_version *a,
                              const struct mcuboot_image_version *b, bool use_build);

/* Lower-case hex of a 32-byte hash into out (65 bytes with the NUL). */
void mcuboot_image_hash_hex(const uint8_t hash[MCUBOOT_IMAGE_HASH_SIZE], char out[65]);

/* ---- settings: the `image` map of a scenario (table in image.c) ---- */

/* image.encryption: the devices' MCUboot decrypts images (CONFIG_BOOT_ENCRYPT_IMAGE). */
struct mcuboot_image_enc_settings {
    char *key;        /* PEM private key of image encryption built into MCUboot */
    bool aes256;      /* CONFIG_BOOT_ENCRYPT_ALG_AES_256 */
    bool hmac_sha512; /* CONFIG_BOOT_HMAC_SHA512 (X25519 only) */
    struct scenario_pos at, key_at;
};
extern const struct scenario_schema mcuboot_image_enc_settings_schema;

/* The update image of a run, and the one the devices run at power-on (same size, confirmed).
 * Synthetic: a header, a body of `size` bytes in all and the TLVs (mcuboot_image_synth). */
struct mcuboot_image_settings {
    uint64_t size; /* bytes, header and TLVs included; 0 with file */
    struct scenario_version version, installed;
    char *file;           /* an imgtool image, relative to the scenario's folder; NULL: synthetic */
    char *secondary_file; /* direct-xip: the same build linked for the secondary slot */
    char *installed_file; /* what the devices run at power-on; NULL: synthetic */
    size_t n_keys;
    char **keys; /* PEM public keys the devices' MCUboot trusts (bootutil_keys), as file */
    struct mcuboot_image_enc_settings enc; /* image.encryption, when has_enc */
    bool has_enc;
    struct scenario_pos at; /* the image map */
    struct scenario_pos size_at, version_at, file_at, keys_at, secondary_file_at;
    struct scenario_pos installed_at, installed_file_at;
};
extern const struct scenario_schema mcuboot_image_settings_schema;

#endif /* MODELS_MCUBOOT_IMAGE_H */
