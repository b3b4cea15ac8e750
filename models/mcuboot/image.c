/* models/mcuboot/image.c - MCUboot image parsing, hashing and signature checks.
 *
 * Rules mirrored (mcu-tools/mcuboot main, 2d4bacc; docs/design.md):
 *  - header magic and field layout: boot/bootutil/include/bootutil/image.h;
 *  - TLV areas: protected info 0x6908 right after header + body, sized ih_protect_tlv_size,
 *    then the unprotected info 0x6907: boot/bootutil/src/tlv.c (bootutil_tlv_iter_begin);
 *  - hash = SHA-256 over header + body + protected TLVs: boot/bootutil/src/bootutil_img_hash.c;
 *  - one SHA256 TLV, read from the unprotected area, is what img_mgmt reports
 *    (zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c);
 *  - KEYHASH selects the key, a signature whose key is not found is ignored, and an image
 *    without a verified signature is invalid: boot/bootutil/src/image_validate.c;
 *  - ECDSA P-256 signs the 32-byte image hash: boot/bootutil/src/image_ecdsa.c.
 */
#include "models/mcuboot/image.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define MAX_FILE_SIZE (16u * 1024u * 1024u) /* larger than any slot we model (MX25R64: 8 MiB) */

/* imgtool's TLV area for an ECDSA-P256 image: info 4 + SHA256 36 + KEYHASH 36 + sig 4+71. */
#define SYNTH_SIG_LEN  71u
#define SYNTH_TLV_SIZE (MCUBOOT_IMAGE_TLV_INFO_SIZE + 2 * (4 + 32) + 4 + SYNTH_SIG_LEN)

struct mcuboot_image_key {
    EVP_PKEY *pkey;
    uint8_t hash[MCUBOOT_IMAGE_HASH_SIZE];
};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static const char *name_of(const char *what)
{
    return what ? what : "image";
}

static int sha256(const void *buf, size_t len, uint8_t out[MCUBOOT_IMAGE_HASH_SIZE])
{
    unsigned int n = 0;
    if (EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) != 1 || n != MCUBOOT_IMAGE_HASH_SIZE)
        return SIM_EINTERNAL;
    return 0;
}

void mcuboot_image_hash_hex(const uint8_t hash[MCUBOOT_IMAGE_HASH_SIZE], char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < MCUBOOT_IMAGE_HASH_SIZE; i++) {
        out[2 * i] = hex[hash[i] >> 4];
        out[2 * i + 1] = hex[hash[i] & 15];
    }
    out[64] = '\0';
}

/* ---- Header ---- */

static void report_foreign(const uint8_t *buf, uint32_t magic, const char *what, struct sim_diag *d)
{
    if (memcmp(buf,
               "\x7f"
               "ELF",
               4) == 0)
        sim_diag_add(d,
                     "%s: this is an ELF file, not a signed MCUboot image (upload the "
                     "imgtool-signed .bin, e.g. zephyr/app_update.bin)",
                     what);
    else if (buf[0] == ':')
        sim_diag_add(d,
                     "%s: this looks like Intel HEX, not a signed MCUboot .bin (upload "
                     "zephyr/app_update.bin)",
                     what);
    else if (magic == MCUBOOT_IMAGE_MAGIC_NONE)
        sim_diag_add(d, "%s: header is erased (0xffffffff): there is no image here", what);
    else if (magic == MCUBOOT_IMAGE_MAGIC_V1)
        sim_diag_add(d,
                     "%s: legacy MCUboot v1 magic 0x96f3b83c is not supported; re-sign with "
                     "a current imgtool",
                     what);
    else
        sim_diag_add(d,
                     "%s: not an MCUboot image: magic 0x%08x at offset 0, expected 0x96f3b83d "
                     "(was the file signed with imgtool?)",
                     what, (unsigned)magic);
}

int mcuboot_image_header_decode(const uint8_t *buf, size_t len, const char *what,
                                struct mcuboot_image_header *out, struct sim_diag *d)
{
    what = name_of(what);
    if (buf == NULL || len < MCUBOOT_IMAGE_HEADER_SIZE) {
        sim_diag_add(d, "%s: truncated: %zu bytes, an MCUboot header needs 32", what,
                     buf ? len : (size_t)0);
        return SIM_EFORMAT;
    }
    uint32_t magic = rd32(buf);
    if (magic != MCUBOOT_IMAGE_MAGIC) {
        report_foreign(buf, magic, what, d);
        return SIM_EFORMAT;
    }
    out->magic = magic;
    out->load_addr = rd32(buf + 4);
    out->hdr_size = rd16(buf + 8);
    out->protect_tlv_size = rd16(buf + 10);
    out->img_size = rd32(buf + 12);
    out->flags = rd32(buf + 16);
    out->version.major = buf[20];
    out->version.minor = buf[21];
    out->version.revision = rd16(buf + 22);
    out->version.build = rd32(buf + 24);
    return 0;
}

void mcuboot_image_header_encode(const struct mcuboot_image_header *h,
                                 uint8_t out[MCUBOOT_IMAGE_HEADER_SIZE])
{
    memset(out, 0, MCUBOOT_IMAGE_HEADER_SIZE);
    wr32(out, h->magic);
    wr32(out + 4, h->load_addr);
    wr16(out + 8, h->hdr_size);
    wr16(out + 10, h->protect_tlv_size);
    wr32(out + 12, h->img_size);
    wr32(out + 16, h->flags);
    out[20] = h->version.major;
    out[21] = h->version.minor;
    wr16(out + 22, h->version.revision);
    wr32(out + 24, h->version.build);
}

/* ---- TLV areas ---- */

/* Iterator over the entries of one TLV area [start + info, end). */
struct tlv_it {
    const uint8_t *buf;
    uint32_t p;
    uint32_t end;
};

/* 1: an entry; 0: end of area; -1: an entry crosses the end of the area (*voff = its offset). */
static int tlv_next(struct tlv_it *it, uint16_t *type, uint32_t *voff, uint16_t *vlen)
{
    if (it->p >= it->end)
        return 0;
    if (it->end - it->p < MCUBOOT_IMAGE_TLV_HEADER_SIZE) {
        *voff = it->p;
        return -1;
    }
    uint16_t t = rd16(it->buf + it->p);
    uint16_t l = rd16(it->buf + it->p + 2);
    if (it->end - it->p - MCUBOOT_IMAGE_TLV_HEADER_SIZE < l) {
        *type = t;
        *vlen = l;
        *voff = it->p;
        return -1;
    }
    *type = t;
    *vlen = l;
    *voff = it->p + MCUBOOT_IMAGE_TLV_HEADER_SIZE;
    it->p += MCUBOOT_IMAGE_TLV_HEADER_SIZE + l;
    return 1;
}

/* Check the info header at off (magic, size >= 4, inside len) and every entry of the area.
 * Stores the area size in *tot. */
static int check_area(const uint8_t *buf, size_t len, uint32_t off, uint16_t want_magic,
                      uint16_t want_tot, const char *what, uint16_t *tot, struct sim_diag *d)
{
    if ((uint64_t)off + MCUBOOT_IMAGE_TLV_INFO_SIZE > len) {
        sim_diag_add(d,
                     "%s: truncated: no TLV info (0x%04x) at offset 0x%x, the file ends at "
                     "0x%zx (unsigned image or cut short)",
                     what, want_magic, off, len);
        return SIM_EFORMAT;
    }
    uint16_t magic = rd16(buf + off);
    *tot = rd16(buf + off + 2);
    if (magic != want_magic) {
        sim_diag_add(d, "%s: corrupt: expected TLV info magic 0x%04x at offset 0x%x, found 0x%04x",
                     what, want_magic, off, magic);
        return SIM_EFORMAT;
    }
    if (want_tot != 0 && *tot != want_tot) {
        sim_diag_add(d,
                     "%s: corrupt: protected TLV area is %u bytes but ih_protect_tlv_size says %u",
                     what, *tot, want_tot);
        return SIM_EFORMAT;
    }
    if (*tot < MCUBOOT_IMAGE_TLV_INFO_SIZE) {
        sim_diag_add(d, "%s: corrupt: TLV area at 0x%x has size %u, less than its 4-byte header",
                     what, off, *tot);
        return SIM_EFORMAT;
    }
    if ((uint64_t)off + *tot > len) {
        sim_diag_add(d, "%s: truncated: TLV area 0x%x+%u ends past the end of the file (0x%zx)",
                     what, off, *tot, len);
        return SIM_EFORMAT;
    }
    struct tlv_it it = {buf, off + MCUBOOT_IMAGE_TLV_INFO_SIZE, off + *tot};
    uint16_t type = 0, vlen = 0;
    uint32_t voff = 0;
    int r;
    while ((r = tlv_next(&it, &type, &voff, &vlen)) == 1)
        ;
    if (r < 0) {
        sim_diag_add(d,
                     "%s: corrupt: TLV entry at offset 0x%x (type 0x%02x, length %u) runs past "
                     "the end of its area (0x%x)",
                     what, voff, type, vlen, off + *tot);
        return SIM_EFORMAT;
    }
    return 0;
}

static void area_bounds(const struct mcuboot_image *img, bool prot, uint32_t *start, uint32_t *end)
{
    if (prot) {
        *start = (uint32_t)img->hdr.hdr_size + img->hdr.img_size;
        *end = *start + img->hdr.protect_tlv_size;
    } else {
        *start = img->tlv_off;
        *end = img->tlv_off + img->tlv_size;
    }
}

int mcuboot_image_tlv_find(const uint8_t *buf, size_t len, const struct mcuboot_image *img,
                           uint16_t type, bool prot, uint32_t *val_off, uint16_t *val_len)
{
    uint32_t start, end;
    area_bounds(img, prot, &start, &end);
    if (buf == NULL || end <= start || end > len)
        return SIM_ENOENT;
    struct tlv_it it = {buf, start + MCUBOOT_IMAGE_TLV_INFO_SIZE, end};
    uint16_t t, l;
    uint32_t off;
    while (tlv_next(&it, &t, &off, &l) == 1) {
        if (t == type) {
            *val_off = off;
            *val_len = l;
            return 0;
        }
    }
    return SIM_ENOENT;
}

static unsigned count_tlv(const uint8_t *buf, uint32_t start, uint32_t end, uint16_t type)
{
    struct tlv_it it = {buf, start + MCUBOOT_IMAGE_TLV_INFO_SIZE, end};
    uint16_t t, l;
    uint32_t off;
    unsigned n = 0;
    while (tlv_next(&it, &t, &off, &l) == 1)
        n += (t == type);
    return n;
}

/* The SHA256 TLV as img_mgmt_read_info() requires it: exactly one, 32 bytes. */
static int check_hash_tlv(const uint8_t *buf, size_t len, struct mcuboot_image *img,
                          const char *what, struct sim_diag *d)
{
    uint32_t off;
    uint16_t l;
    unsigned n =
        count_tlv(buf, img->tlv_off, img->tlv_off + img->tlv_size, MCUBOOT_IMAGE_TLV_SHA256);
    if (n == 0) {
        int other =
            mcuboot_image_tlv_find(buf, len, img, MCUBOOT_IMAGE_TLV_SHA384, false, &off, &l) == 0 ||
            mcuboot_image_tlv_find(buf, len, img, MCUBOOT_IMAGE_TLV_SHA512, false, &off, &l) == 0;
        sim_diag_add(d, "%s: no SHA256 TLV (type 0x10)%s; MCUboot and img_mgmt need one", what,
                     other ? " (SHA384/SHA512 images are not modelled)" : "");
        return SIM_EFORMAT;
    }
    if (n > 1) {
        sim_diag_add(d, "%s: corrupt: %u SHA256 TLVs; img_mgmt rejects more than one", what, n);
        return SIM_EFORMAT;
    }
    (void)mcuboot_image_tlv_find(buf, len, img, MCUBOOT_IMAGE_TLV_SHA256, false, &off, &l);
    if (l != MCUBOOT_IMAGE_HASH_SIZE) {
        sim_diag_add(d, "%s: corrupt: SHA256 TLV at 0x%x has length %u, expected 32", what, off, l);
        return SIM_EFORMAT;
    }
    memcpy(img->hash, buf + off, MCUBOOT_IMAGE_HASH_SIZE);
    return 0;
}

int mcuboot_image_parse(const uint8_t *buf, size_t len, const char *what, struct mcuboot_image *out,
                        struct sim_diag *d)
{
    struct mcuboot_image img;
    uint16_t tot = 0;
    int rc;

    what = name_of(what);
    memset(&img, 0, sizeof(img));
    rc = mcuboot_image_header_decode(buf, len, what, &img.hdr, d);
    if (rc != 0)
        return rc;
    if (len > MAX_FILE_SIZE) {
        sim_diag_add(d, "%s: %zu bytes is larger than any modelled slot (16 MiB)", what, len);
        return SIM_EFORMAT;
    }
    if (img.hdr.hdr_size < MCUBOOT_IMAGE_HEADER_SIZE) {
        sim_diag_add(d, "%s: corrupt header: ih_hdr_size %u is smaller than the 32-byte header",
                     what, img.hdr.hdr_size);
        return SIM_EFORMAT;
    }
    uint64_t off = (uint64_t)img.hdr.hdr_size + img.hdr.img_size;
    if (off > len) {
        sim_diag_add(d,
                     "%s: truncated: the header says header + body = %llu bytes but the file "
                     "has %zu",
                     what, (unsigned long long)off, len);
        return SIM_EFORMAT;
    }
    if (img.hdr.protect_tlv_size != 0) {
        rc = check_area(buf, len, (uint32_t)off, MCUBOOT_IMAGE_TLV_PROT_MAGIC,
                        img.hdr.protect_tlv_size, what, &tot, d);
        if (rc != 0)
            return rc;
        off += tot;
    }
    rc = check_area(buf, len, (uint32_t)off, MCUBOOT_IMAGE_TLV_INFO_MAGIC, 0, what, &tot, d);
    if (rc != 0)
        return rc;
    img.tlv_off = (uint32_t)off;
    img.tlv_size = tot;
    img.total_size = (uint32_t)(off + tot);
    img.file_size = (uint32_t)len;

    rc = check_hash_tlv(buf, len, &img, what, d);
    if (rc != 0)
        return rc;
    uint32_t voff;
    uint16_t vlen;
    if (mcuboot_image_tlv_find(buf, len, &img, MCUBOOT_IMAGE_TLV_KEYHASH, false, &voff, &vlen) ==
        0) {
        if (vlen != MCUBOOT_IMAGE_HASH_SIZE) {
            sim_diag_add(d, "%s: corrupt: KEYHASH TLV has length %u, expected 32", what, vlen);
            return SIM_EFORMAT;
        }
        memcpy(img.keyhash, buf + voff, MCUBOOT_IMAGE_HASH_SIZE);
        img.has_keyhash = true;
    }
    if (mcuboot_image_tlv_find(buf, len, &img, MCUBOOT_IMAGE_TLV_ECDSA_SIG, false, &voff, &vlen) ==
        0)
        img.sig_tlv_len = vlen;
    rc = sha256(buf, len, img.file_sha);
    if (rc != 0)
        return rc;
    *out = img;
    return 0;
}

/* ---- Files ---- */

int mcuboot_image_read_file(const char *path, uint8_t **buf, size_t *len, struct sim_diag *d)
{
    FILE *f = NULL;
    uint8_t *b = NULL;
    long sz;
    int rc = SIM_EIO;

    *buf = NULL;
    *len = 0;
    f = fopen(path, "rb");
    if (f == NULL) {
        sim_diag_add(d, "%s: cannot open image file: %s", path, strerror(errno));
        return errno == ENOENT ? SIM_ENOENT : SIM_EIO;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        sim_diag_add(d, "%s: cannot determine the file size: %s", path, strerror(errno));
        goto fail;
    }
    if ((unsigned long)sz > MAX_FILE_SIZE) {
        sim_diag_add(d, "%s: %ld bytes is larger than any modelled slot (16 MiB)", path, sz);
        rc = SIM_ERANGE;
        goto fail;
    }
    b = malloc(sz > 0 ? (size_t)sz : 1);
    if (b == NULL) {
        rc = SIM_ENOMEM;
        goto fail;
    }
    if (sz > 0 && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        sim_diag_add(d, "%s: short read", path);
        goto fail;
    }
    fclose(f);
    *buf = b;
    *len = (size_t)sz;
    return 0;
fail:
    free(b);
    fclose(f);
    return rc;
}

int mcuboot_image_load(const char *path, struct mcuboot_image *out, struct sim_diag *d)
{
    uint8_t *buf;
    size_t len;
    int rc = mcuboot_image_read_file(path, &buf, &len, d);
    if (rc != 0)
        return rc;
    rc = mcuboot_image_parse(buf, len, path, out, d);
    free(buf);
    return rc;
}

/* ---- Synthetic images ---- */

/* splitmix64 (Steele, Lea, Flood 2014): a stateless mix, so any offset is O(1). */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Seed of the body and the filler signature: a function of (total_size, version) only. */
static uint64_t synth_seed(const struct mcuboot_image *img, uint64_t purpose)
{
    const struct mcuboot_image_version *v = &img->hdr.version;
    uint64_t a = ((uint64_t)img->total_size << 32) | ((uint64_t)v->major << 24) |
                 ((uint64_t)v->minor << 16) | v->revision;
    return mix64(mix64(a) ^ mix64(((uint64_t)v->build << 8) | purpose));
}

/* Pseudo-random bytes [off, off + n) of the stream `seed`. */
static void synth_stream(uint64_t seed, uint32_t off, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t p = (uint64_t)off + i;
        out[i] = (uint8_t)(mix64(seed + p / 8) >> (8 * (p % 8)));
    }
}

/* The unprotected TLV area of a synthetic image (imgtool order: SHA256, KEYHASH, sig). */
static void synth_tlvs(const struct mcuboot_image *img, uint8_t out[SYNTH_TLV_SIZE])
{
    uint8_t *p = out;
    wr16(p, MCUBOOT_IMAGE_TLV_INFO_MAGIC);
    wr16(p + 2, (uint16_t)SYNTH_TLV_SIZE);
    p += MCUBOOT_IMAGE_TLV_INFO_SIZE;
    wr16(p, MCUBOOT_IMAGE_TLV_SHA256);
    wr16(p + 2, MCUBOOT_IMAGE_HASH_SIZE);
    memcpy(p + 4, img->hash, MCUBOOT_IMAGE_HASH_SIZE);
    p += 4 + MCUBOOT_IMAGE_HASH_SIZE;
    wr16(p, MCUBOOT_IMAGE_TLV_KEYHASH);
    wr16(p + 2, MCUBOOT_IMAGE_HASH_SIZE);
    memcpy(p + 4, img->keyhash, MCUBOOT_IMAGE_HASH_SIZE);
    p += 4 + MCUBOOT_IMAGE_HASH_SIZE;
    wr16(p, MCUBOOT_IMAGE_TLV_ECDSA_SIG);
    wr16(p + 2, SYNTH_SIG_LEN);
    p[4] = 0x30; /* a DER SEQUENCE header, then filler that never verifies */
    p[5] = SYNTH_SIG_LEN - 2;
    synth_stream(synth_seed(img, 'S'), 0, p + 6, SYNTH_SIG_LEN - 2);
}

/* Generated bytes [off, off + n) of a synthetic image; the range is inside total_size. */
static void synth_bytes(const struct mcuboot_image *img, uint32_t off, uint8_t *out, size_t n)
{
    uint8_t hdr[MCUBOOT_IMAGE_HEADER_SIZE], tlv[SYNTH_TLV_SIZE];
    const uint32_t body = img->hdr.hdr_size, end = (uint32_t)(off + n);
    mcuboot_image_header_encode(&img->hdr, hdr);
    if (end > img->tlv_off)
        synth_tlvs(img, tlv);
    uint64_t seed = synth_seed(img, 'B');
    while (off < end) {
        uint32_t lim;
        if (off < MCUBOOT_IMAGE_HEADER_SIZE) {
            lim = end < MCUBOOT_IMAGE_HEADER_SIZE ? end : MCUBOOT_IMAGE_HEADER_SIZE;
            memcpy(out, hdr + off, lim - off);
        } else if (off < body) {
            lim = end < body ? end : body;
            memset(out, 0xff, lim - off);
        } else if (off < img->tlv_off) {
            lim = end < img->tlv_off ? end : img->tlv_off;
            synth_stream(seed, off - body, out, lim - off);
        } else {
            lim = end;
            memcpy(out, tlv + (off - img->tlv_off), lim - off);
        }
        out += lim - off;
        off = lim;
    }
}

int mcuboot_image_bytes(const struct mcuboot_image *img, const uint8_t *file, uint32_t off,
                        uint8_t *out, size_t n)
{
    if ((uint64_t)off + n > img->file_size)
        return SIM_ERANGE;
    if (file != NULL) {
        memcpy(out, file + off, n);
        return 0;
    }
    if (!img->synthetic)
        return SIM_EINVAL;
    synth_bytes(img, off, out, n);
    return 0;
}

/* SHA-256 of generated bytes [0, n) into out (ctx reused). */
static int synth_digest(EVP_MD_CTX *ctx, const struct mcuboot_image *img, uint32_t n,
                        uint8_t out[MCUBOOT_IMAGE_HASH_SIZE])
{
    uint8_t buf[4096];
    unsigned int len = 0;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        return SIM_EINTERNAL;
    for (uint32_t off = 0; off < n;) {
        uint32_t k = n - off < sizeof(buf) ? n - off : (uint32_t)sizeof(buf);
        synth_bytes(img, off, buf, k);
        if (EVP_DigestUpdate(ctx, buf, k) != 1)
            return SIM_EINTERNAL;
        off += k;
    }
    if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != MCUBOOT_IMAGE_HASH_SIZE)
        return SIM_EINTERNAL;
    return 0;
}

uint32_t mcuboot_image_synth_min_size(void)
{
    return MCUBOOT_IMAGE_ZEPHYR_HDR_SIZE + SYNTH_TLV_SIZE + 1; /* at least one body byte */
}

int mcuboot_image_synth(uint32_t total_size, const struct mcuboot_image_version *v,
                        struct mcuboot_image *out, struct sim_diag *d)
{
    const uint32_t overhead = mcuboot_image_synth_min_size() - 1;
    struct mcuboot_image img;
    uint8_t seed[40];
    int rc;

    if (v == NULL || total_size <= overhead) {
        sim_diag_add(d,
                     "image size %u bytes cannot hold the 0x200-byte header and %u bytes of "
                     "TLVs (give at least %u bytes)",
                     total_size, SYNTH_TLV_SIZE, overhead + 1);
        return SIM_ERANGE;
    }
    memset(&img, 0, sizeof(img));
    img.hdr.magic = MCUBOOT_IMAGE_MAGIC;
    img.hdr.hdr_size = MCUBOOT_IMAGE_ZEPHYR_HDR_SIZE;
    img.hdr.img_size = total_size - overhead;
    img.hdr.version = *v;
    img.tlv_off = MCUBOOT_IMAGE_ZEPHYR_HDR_SIZE + img.hdr.img_size;
    img.tlv_size = SYNTH_TLV_SIZE;
    img.total_size = total_size;
    img.file_size = total_size;
    img.sig_tlv_len = SYNTH_SIG_LEN;
    img.synthetic = true;

    /* KEYHASH names a key nobody has: a tag, the size and the version. */
    memset(seed, 0, sizeof(seed));
    memcpy(seed, "dfusim-synthetic", 16);
    wr32(seed + 20, total_size);
    seed[24] = v->major;
    seed[25] = v->minor;
    wr16(seed + 26, v->revision);
    wr32(seed + 28, v->build);
    seed[32] = 'K';
    rc = sha256(seed, sizeof(seed), img.keyhash);
    img.has_keyhash = true;
    /* The image hash covers header + body (no protected TLVs); the file hash covers the
     * TLVs too, which hold the image hash: two passes in that order. */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return SIM_EINTERNAL;
    if (rc == 0)
        rc = synth_digest(ctx, &img, img.tlv_off, img.hash);
    if (rc == 0)
        rc = synth_digest(ctx, &img, total_size, img.file_sha);
    EVP_MD_CTX_free(ctx);
    if (rc != 0)
        return rc;
    *out = img;
    return 0;
}

/* ---- Hash and signature ---- */

int mcuboot_image_hash(const uint8_t *buf, size_t len, const struct mcuboot_image *img,
                       uint8_t out[MCUBOOT_IMAGE_HASH_SIZE])
{
    uint64_t n = (uint64_t)img->hdr.hdr_size + img->hdr.img_size + img->hdr.protect_tlv_size;
    if (buf == NULL || n > len)
        return SIM_EINVAL;
    return sha256(buf, (size_t)n, out);
}

void mcuboot_image_key_free(struct mcuboot_image_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

const uint8_t *mcuboot_image_key_hash(const struct mcuboot_image_key *k)
{
    return k->hash;
}

int mcuboot_image_key_from_pem(const char *pem, size_t len, const char *what,
                               struct mcuboot_image_key **out, struct sim_diag *d)
{
    struct mcuboot_image_key *k = NULL;
    BIO *bio = NULL;
    unsigned char *der = NULL;
    int der_len;
    int rc = SIM_EFORMAT;

    what = what ? what : "public key";
    *out = NULL;
    if (pem == NULL || len == 0 || len > INT32_MAX) {
        sim_diag_add(d, "%s: empty key", what);
        return SIM_EFORMAT;
    }
    k = calloc(1, sizeof(*k));
    bio = BIO_new_mem_buf(pem, (int)len);
    if (k == NULL || bio == NULL) {
        rc = SIM_ENOMEM;
        goto fail;
    }
    k->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (k->pkey == NULL) {
        sim_diag_add(d, "%s: not a PEM public key (expected -----BEGIN PUBLIC KEY-----)", what);
        goto fail;
    }
    if (EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_EC || EVP_PKEY_get_bits(k->pkey) != 256) {
        sim_diag_add(d,
                     "%s: only ECDSA P-256 keys are modelled (this key: %s, %d bits); sign with "
                     "imgtool keygen -t ecdsa-p256",
                     what, OBJ_nid2sn(EVP_PKEY_get_base_id(k->pkey)), EVP_PKEY_get_bits(k->pkey));
        goto fail;
    }
    /* imgtool writes KEYHASH = SHA-256 of the DER SubjectPublicKeyInfo. */
    der_len = i2d_PUBKEY(k->pkey, &der);
    if (der_len <= 0 || sha256(der, (size_t)der_len, k->hash) != 0) {
        rc = SIM_EINTERNAL;
        goto fail;
    }
    OPENSSL_free(der);
    BIO_free(bio);
    *out = k;
    return 0;
fail:
    ERR_clear_error();
    OPENSSL_free(der);
    BIO_free(bio);
    mcuboot_image_key_free(k);
    return rc;
}

int mcuboot_image_key_load(const char *path, struct mcuboot_image_key **out, struct sim_diag *d)
{
    uint8_t *buf;
    size_t len;
    *out = NULL;
    int rc = mcuboot_image_read_file(path, &buf, &len, d);
    if (rc != 0)
        return rc;
    rc = mcuboot_image_key_from_pem((const char *)buf, len, path, out, d);
    free(buf);
    return rc;
}

/* 1 verified, 0 not verified (including a malformed signature), < 0 libcrypto failure. */
static int ecdsa_verify(EVP_PKEY *pkey, const uint8_t *sig, size_t sig_len,
                        const uint8_t hash[MCUBOOT_IMAGE_HASH_SIZE])
{
    /* Older imgtool versions padded the DER signature; verify only the DER SEQUENCE. */
    if (sig_len >= 2 && sig[0] == 0x30 && sig[1] < 0x80 && (size_t)sig[1] + 2 < sig_len)
        sig_len = (size_t)sig[1] + 2;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
    if (ctx == NULL)
        return -1;
    int r = -1;
    if (EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1)
        r = EVP_PKEY_verify(ctx, sig, sig_len, hash, MCUBOOT_IMAGE_HASH_SIZE) == 1 ? 1 : 0;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return r;
}

static void report_mismatch(struct sim_diag *d, const uint8_t *got, const uint8_t *want)
{
    char a[65], b[65];
    mcuboot_image_hash_hex(got, a);
    mcuboot_image_hash_hex(want, b);
    sim_diag_add(d, "image hash mismatch: computed %s, SHA256 TLV says %s (corrupt image)", a, b);
}

int mcuboot_image_validate(const uint8_t *buf, size_t len, const struct mcuboot_image *img,
                           const struct mcuboot_image_key *key, enum mcuboot_image_verdict *verdict,
                           struct sim_diag *d)
{
    uint8_t h[MCUBOOT_IMAGE_HASH_SIZE];
    uint32_t off;
    uint16_t l;
    int rc;

    if (img->synthetic) {
        sim_diag_add(d, "synthetic image: there are no bytes to validate");
        return SIM_EINVAL;
    }
    if (buf == NULL || (uint64_t)img->tlv_off + img->tlv_size > len)
        return SIM_EINVAL;
    rc = mcuboot_image_hash(buf, len, img, h);
    if (rc != 0)
        return rc;
    /* Compare with the TLV in these bytes, not the descriptor: the slot may have changed. */
    if (mcuboot_image_tlv_find(buf, len, img, MCUBOOT_IMAGE_TLV_SHA256, false, &off, &l) != 0 ||
        l != MCUBOOT_IMAGE_HASH_SIZE) {
        sim_diag_add(d, "image has no SHA256 TLV");
        *verdict = MCUBOOT_IMAGE_BAD_HASH;
        return 0;
    }
    if (memcmp(h, buf + off, MCUBOOT_IMAGE_HASH_SIZE) != 0) {
        report_mismatch(d, h, buf + off);
        *verdict = MCUBOOT_IMAGE_BAD_HASH;
        return 0;
    }
    *verdict = MCUBOOT_IMAGE_VALID;
    if (key == NULL)
        return 0;
    if (mcuboot_image_tlv_find(buf, len, img, MCUBOOT_IMAGE_TLV_KEYHASH, false, &off, &l) == 0 &&
        (l != MCUBOOT_IMAGE_HASH_SIZE || memcmp(buf + off, key->hash, l) != 0)) {
        sim_diag_add(d, "image KEYHASH TLV names a key the bootloader does not have");
        *verdict = MCUBOOT_IMAGE_BAD_KEYHASH;
        return 0;
    }
    if (mcuboot_image_tlv_find(buf, len, img, MCUBOOT_IMAGE_TLV_ECDSA_SIG, false, &off, &l) != 0) {
        sim_diag_add(d, "image has no ECDSA signature TLV (0x22) but the bootloader has a key");
        *verdict = MCUBOOT_IMAGE_NO_SIGNATURE;
        return 0;
    }
    int v = ecdsa_verify(key->pkey, buf + off, l, h);
    if (v < 0)
        return SIM_EINTERNAL;
    if (v == 0) {
        sim_diag_add(d, "image ECDSA P-256 signature does not verify with the configured key");
        *verdict = MCUBOOT_IMAGE_BAD_SIGNATURE;
    }
    return 0;
}

/* ---- Validation as a given MCUboot build does it ----------------------------------------
 *
 * Written from the rules of mcu-tools/mcuboot 2d4bacc (files and functions cited per rule);
 * the crypto is OpenSSL libcrypto. */

struct ks_key {
    EVP_PKEY *pkey;
    enum mcuboot_sig_type type;
    uint8_t *bytes; /* what bootutil_keys[i].key holds (imgtool getpub) */
    size_t len;
};

struct mcuboot_keyset {
    struct ks_key *keys;
    size_t n, cap;
    struct mcuboot_enc_key *enc; /* bootutil_enc_key: the private key of image encryption */
};

/* Citations appended to reasons. */
#define AT_VALIDATE "mcu-tools/mcuboot boot/bootutil/src/image_validate.c bootutil_img_validate"
#define AT_TLV      "mcu-tools/mcuboot boot/bootutil/src/tlv.c bootutil_tlv_iter_next"
#define AT_HDR      "mcu-tools/mcuboot boot/bootutil/src/bootutil_loader.c boot_check_header_valid"
#define AT_SLOT     "mcu-tools/mcuboot boot/bootutil/src/loader.c boot_validate_slot"

const char *mcuboot_hash_alg_name(enum mcuboot_hash_alg h)
{
    switch (h) {
    case MCUBOOT_HASH_SHA256:
        return "SHA-256";
    case MCUBOOT_HASH_SHA384:
        return "SHA-384";
    case MCUBOOT_HASH_SHA512:
        return "SHA-512";
    }
    return "unknown hash";
}

const char *mcuboot_sig_type_name(enum mcuboot_sig_type s)
{
    switch (s) {
    case MCUBOOT_SIG_NONE:
        return "none";
    case MCUBOOT_SIG_EC256:
        return "ECDSA P-256";
    case MCUBOOT_SIG_EC384:
        return "ECDSA P-384";
    case MCUBOOT_SIG_ED25519:
        return "Ed25519";
    case MCUBOOT_SIG_RSA2048:
        return "RSA-2048";
    case MCUBOOT_SIG_RSA3072:
        return "RSA-3072";
    }
    return "unknown signature";
}

const char *mcuboot_img_verdict_name(enum mcuboot_img_verdict v)
{
    switch (v) {
    case MCUBOOT_IMG_VALID:
        return "valid";
    case MCUBOOT_IMG_NO_IMAGE:
        return "no bootable image";
    case MCUBOOT_IMG_BAD_HEADER:
        return "bad header";
    case MCUBOOT_IMG_BAD_TLV:
        return "bad TLV area";
    case MCUBOOT_IMG_BAD_HASH:
        return "bad hash";
    case MCUBOOT_IMG_BAD_SIGNATURE:
        return "no accepted signature";
    case MCUBOOT_IMG_BAD_ENC_KEY:
        return "encryption key not recovered";
    case MCUBOOT_IMG_NOT_MODELLED:
        return "not modelled";
    }
    return "unknown verdict";
}

static const EVP_MD *md_of(enum mcuboot_hash_alg h)
{
    return h == MCUBOOT_HASH_SHA512   ? EVP_sha512()
           : h == MCUBOOT_HASH_SHA384 ? EVP_sha384()
                                      : EVP_sha256();
}

/* IMAGE_HASH_SIZE of the build (bootutil/crypto/sha.h). */
static size_t hash_size_of(enum mcuboot_hash_alg h)
{
    return h == MCUBOOT_HASH_SHA512 ? 64 : h == MCUBOOT_HASH_SHA384 ? 48 : 32;
}

/* EXPECTED_HASH_TLV of the build (bootutil/crypto/sha.h). */
static uint16_t hash_tlv_of(enum mcuboot_hash_alg h)
{
    return h == MCUBOOT_HASH_SHA512   ? MCUBOOT_IMAGE_TLV_SHA512
           : h == MCUBOOT_HASH_SHA384 ? MCUBOOT_IMAGE_TLV_SHA384
                                      : MCUBOOT_IMAGE_TLV_SHA256;
}

/* EXPECTED_SIG_TLV of the build (image_validate.c); 0 for an unsigned build. */
static uint16_t sig_tlv_of(enum mcuboot_sig_type s)
{
    switch (s) {
    case MCUBOOT_SIG_EC256:
    case MCUBOOT_SIG_EC384:
        return MCUBOOT_IMAGE_TLV_ECDSA_SIG;
    case MCUBOOT_SIG_ED25519:
        return MCUBOOT_IMAGE_TLV_ED25519;
    case MCUBOOT_SIG_RSA2048:
        return MCUBOOT_IMAGE_TLV_RSA2048_PSS;
    case MCUBOOT_SIG_RSA3072:
        return MCUBOOT_IMAGE_TLV_RSA3072_PSS;
    case MCUBOOT_SIG_NONE:
        break;
    }
    return 0;
}

/* SIG_BUF_SIZE of the build (image_validate.c): the largest signature value read. */
static size_t sig_buf_of(enum mcuboot_sig_type s)
{
    switch (s) {
    case MCUBOOT_SIG_RSA2048:
        return 256;
    case MCUBOOT_SIG_RSA3072:
        return 384;
    case MCUBOOT_SIG_ED25519:
        return 64;
    case MCUBOOT_SIG_EC256:
    case MCUBOOT_SIG_EC384:
        return 128;
    case MCUBOOT_SIG_NONE:
        break;
    }
    return 32;
}

/* ---- key set ---- */

struct mcuboot_keyset *mcuboot_keyset_new(void)
{
    return calloc(1, sizeof(struct mcuboot_keyset));
}

void mcuboot_keyset_free(struct mcuboot_keyset *ks)
{
    if (ks == NULL)
        return;
    for (size_t i = 0; i < ks->n; i++) {
        EVP_PKEY_free(ks->keys[i].pkey);
        OPENSSL_free(ks->keys[i].bytes);
    }
    free(ks->keys);
    mcuboot_enc_key_free(ks->enc);
    free(ks);
}

int mcuboot_keyset_set_enc_key(struct mcuboot_keyset *ks, struct mcuboot_enc_key *k)
{
    if (ks == NULL || k == NULL) {
        mcuboot_enc_key_free(k);
        return SIM_EINVAL;
    }
    mcuboot_enc_key_free(ks->enc);
    ks->enc = k;
    return 0;
}

int mcuboot_keyset_set_enc_file(struct mcuboot_keyset *ks, const char *path, struct sim_diag *d)
{
    struct mcuboot_enc_key *k;
    int rc = mcuboot_enc_key_load(path, &k, d);
    return rc != 0 ? rc : mcuboot_keyset_set_enc_key(ks, k);
}

const struct mcuboot_enc_key *mcuboot_keyset_enc_key(const struct mcuboot_keyset *ks)
{
    return ks ? ks->enc : NULL;
}

/* boot/zephyr/Kconfig BOOT_ENCRYPT_IMAGE: the key exchange the signature type selects
 * (BOOT_ENCRYPT_RSA, _EC256, _X25519); none where BOOT_ENCRYPTION_SUPPORT is not selected
 * (unsigned, P-384, pure Ed25519). */
static enum mcuboot_enc_type enc_of_build(const struct mcuboot_build *b)
{
    switch (b->sig) {
    case MCUBOOT_SIG_RSA2048:
    case MCUBOOT_SIG_RSA3072:
        return MCUBOOT_ENC_RSA2048;
    case MCUBOOT_SIG_EC256:
        return MCUBOOT_ENC_EC256;
    case MCUBOOT_SIG_ED25519:
        return b->pure ? MCUBOOT_ENC_NONE : MCUBOOT_ENC_X25519;
    case MCUBOOT_SIG_EC384:
    case MCUBOOT_SIG_NONE:
        break;
    }
    return MCUBOOT_ENC_NONE;
}

size_t mcuboot_keyset_count(const struct mcuboot_keyset *ks)
{
    return ks ? ks->n : 0;
}

enum mcuboot_sig_type mcuboot_keyset_type(const struct mcuboot_keyset *ks, size_t i)
{
    return ks->keys[i].type;
}

const uint8_t *mcuboot_keyset_bytes(const struct mcuboot_keyset *ks, size_t i, size_t *len)
{
    *len = ks->keys[i].len;
    return ks->keys[i].bytes;
}

/* The signature type a key serves, or MCUBOOT_SIG_NONE for a key MCUboot cannot use. */
static enum mcuboot_sig_type key_type(EVP_PKEY *p)
{
    char group[64] = "";
    size_t glen = 0;
    switch (EVP_PKEY_get_base_id(p)) {
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           &glen) != 1)
            return MCUBOOT_SIG_NONE;
        if (strcmp(group, "prime256v1") == 0)
            return MCUBOOT_SIG_EC256;
        if (strcmp(group, "secp384r1") == 0)
            return MCUBOOT_SIG_EC384;
        return MCUBOOT_SIG_NONE;
    case EVP_PKEY_ED25519:
        return MCUBOOT_SIG_ED25519;
    case EVP_PKEY_RSA:
        return EVP_PKEY_get_bits(p) == 2048   ? MCUBOOT_SIG_RSA2048
               : EVP_PKEY_get_bits(p) == 3072 ? MCUBOOT_SIG_RSA3072
                                              : MCUBOOT_SIG_NONE;
    default:
        return MCUBOOT_SIG_NONE;
    }
}

int mcuboot_keyset_add_pem(struct mcuboot_keyset *ks, const char *pem, size_t len, const char *what,
                           struct sim_diag *d)
{
    struct ks_key k = {0};
    BIO *bio = NULL;
    int n, rc = SIM_EFORMAT;

    what = what ? what : "public key";
    if (ks == NULL || pem == NULL || len == 0 || len > INT32_MAX) {
        sim_diag_add(d, "%s: empty key", what);
        return SIM_EFORMAT;
    }
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? 2 * ks->cap : 4;
        struct ks_key *grown = realloc(ks->keys, cap * sizeof(*grown));
        if (grown == NULL)
            return SIM_ENOMEM;
        ks->keys = grown;
        ks->cap = cap;
    }
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL) {
        rc = SIM_ENOMEM;
        goto fail;
    }
    k.pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (k.pkey == NULL) {
        sim_diag_add(d, "%s: not a PEM public key (expected -----BEGIN PUBLIC KEY-----)", what);
        goto fail;
    }
    k.type = key_type(k.pkey);
    if (k.type == MCUBOOT_SIG_NONE) {
        sim_diag_add(d,
                     "%s: MCUboot verifies ECDSA P-256/P-384, Ed25519 and RSA-2048/3072 keys; "
                     "this key is %s with %d bits",
                     what, OBJ_nid2sn(EVP_PKEY_get_base_id(k.pkey)), EVP_PKEY_get_bits(k.pkey));
        goto fail;
    }
    /* imgtool getpub embeds DER SubjectPublicKeyInfo, except PKCS#1 RSAPublicKey for RSA
     * (scripts/imgtool/keys/{ecdsa,ed25519,rsa}.py get_public_bytes); KEYHASH hashes those. */
    k.bytes = NULL;
    if (k.type == MCUBOOT_SIG_RSA2048 || k.type == MCUBOOT_SIG_RSA3072)
        n = i2d_PublicKey(k.pkey, &k.bytes);
    else
        n = i2d_PUBKEY(k.pkey, &k.bytes);
    if (n <= 0) {
        rc = SIM_EINTERNAL;
        goto fail;
    }
    k.len = (size_t)n;
    BIO_free(bio);
    ks->keys[ks->n++] = k;
    return 0;
fail:
    ERR_clear_error();
    BIO_free(bio);
    EVP_PKEY_free(k.pkey);
    OPENSSL_free(k.bytes);
    return rc;
}

int mcuboot_keyset_add_file(struct mcuboot_keyset *ks, const char *path, struct sim_diag *d)
{
    uint8_t *buf;
    size_t len;
    int rc = mcuboot_image_read_file(path, &buf, &len, d);
    if (rc != 0)
        return rc;
    rc = mcuboot_keyset_add_pem(ks, (const char *)buf, len, path, d);
    free(buf);
    return rc;
}

int mcuboot_build_check(const struct mcuboot_build *b, const struct mcuboot_keyset *keys,
                        struct sim_diag *d)
{
    const char *hash = mcuboot_hash_alg_name(b->hash), *sig = mcuboot_sig_type_name(b->sig);
    if ((unsigned)b->hash > MCUBOOT_HASH_SHA512 || (unsigned)b->sig > MCUBOOT_SIG_RSA3072) {
        sim_diag_add(d, "MCUboot build: unknown hash or signature type");
        return SIM_EINVAL;
    }
    /* bootutil/crypto/sha.h: SHA-384 is the hash of MCUBOOT_SIGN_EC384 builds only, and an
     * EC384 build hashes with SHA-384 unless MCUBOOT_SHA512. */
    if ((b->hash == MCUBOOT_HASH_SHA384) != (b->sig == MCUBOOT_SIG_EC384) &&
        !(b->sig == MCUBOOT_SIG_EC384 && b->hash == MCUBOOT_HASH_SHA512)) {
        sim_diag_add(d,
                     "MCUboot build: %s with %s does not exist (bootutil/crypto/sha.h selects "
                     "SHA-384 exactly for ECDSA P-384 builds)",
                     hash, sig);
        return SIM_EINVAL;
    }
    /* image_rsa.c: RSA-PSS is checked with SHA-256 only (PSS_HLEN 32). */
    if ((b->sig == MCUBOOT_SIG_RSA2048 || b->sig == MCUBOOT_SIG_RSA3072) &&
        b->hash != MCUBOOT_HASH_SHA256) {
        sim_diag_add(d, "MCUboot build: %s verifies SHA-256 image hashes only (image_rsa.c)", sig);
        return SIM_EINVAL;
    }
    /* Zephyr boot/zephyr/Kconfig: BOOT_SIGNATURE_TYPE_PURE depends on Ed25519. */
    if (b->pure && b->sig != MCUBOOT_SIG_ED25519) {
        sim_diag_add(d, "MCUboot build: pure signatures exist for Ed25519 only, not %s", sig);
        return SIM_EINVAL;
    }
    if (b->enc_images) {
        const enum mcuboot_enc_type want = enc_of_build(b);
        const enum mcuboot_enc_type have = mcuboot_enc_key_type(mcuboot_keyset_enc_key(keys));
        if (want == MCUBOOT_ENC_NONE) {
            sim_diag_add(d,
                         "MCUboot build: %s%s builds have no image encryption (boot/zephyr/"
                         "Kconfig BOOT_ENCRYPT_IMAGE needs RSA, ECDSA P-256 or Ed25519 "
                         "signatures)",
                         b->pure ? "pure " : "", sig);
            return SIM_EINVAL;
        }
        if (have == MCUBOOT_ENC_NONE) {
            sim_diag_add(d, "MCUboot build: MCUBOOT_ENC_IMAGES needs the private key built into "
                            "the bootloader (BOOT_ENCRYPTION_KEY_FILE)");
            return SIM_EINVAL;
        }
        if (have != want) {
            sim_diag_add(d,
                         "MCUboot build: with %s signatures the bootloader decrypts with %s "
                         "(boot/zephyr/Kconfig BOOT_ENCRYPT_IMAGE), the private key is for %s",
                         sig, mcuboot_enc_type_name(want), mcuboot_enc_type_name(have));
            return SIM_EINVAL;
        }
        if (b->hmac_sha512 && have != MCUBOOT_ENC_X25519) {
            sim_diag_add(d, "MCUboot build: HMAC-SHA512 exists for ECIES-X25519 only "
                            "(enc_key_public.h, boot/zephyr/Kconfig BOOT_HMAC_SHA512)");
            return SIM_EINVAL;
        }
    }
    if (b->hw_key && b->sig == MCUBOOT_SIG_NONE) {
        sim_diag_add(d, "MCUboot build: MCUBOOT_HW_KEY needs a signature type");
        return SIM_EINVAL;
    }
    /* boot/zephyr/Kconfig BOOT_SIGNATURE_KEY_FILE: all keys of the build's signature type. */
    for (size_t i = 0; keys != NULL && i < keys->n; i++) {
        if (keys->keys[i].type != b->sig) {
            sim_diag_add(d,
                         "MCUboot build: trusted key %zu is %s but the bootloader verifies %s "
                         "signatures (all keys must be of the build's signature type)",
                         i + 1, mcuboot_sig_type_name(keys->keys[i].type), sig);
            return SIM_EINVAL;
        }
    }
    return 0;
}

/* ---- the check ---- */

static void verdict(struct mcuboot_img_result *r, enum mcuboot_img_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void verdict(struct mcuboot_img_result *r, enum mcuboot_img_verdict v, const char *fmt, ...)
{
    va_list ap;
    r->verdict = v;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
    va_end(ap);
}

/* The TLV walk of bootutil_tlv_iter_begin/_next (boot/bootutil/src/tlv.c) over the bytes
 * we hold: the protected info (if any) must be sized ih_protect_tlv_size, the unprotected
 * info follows it; entries run in file order across both areas, the unprotected info is
 * stepped over where the protected area ends, and every entry must end by tlv_end. A read
 * past the bytes fails as a flash read past the area would. */
struct walk {
    const uint8_t *buf;
    size_t len;
    uint32_t off, prot_end, tlv_end;
    bool has_prot;
};

/* 0 ok; -1 with a reason (no TLV info where the header points). */
static int walk_begin(struct walk *w, const uint8_t *buf, size_t len,
                      const struct mcuboot_image_header *h, char *why, size_t why_len)
{
    uint64_t off = (uint64_t)h->hdr_size + h->img_size;
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->len = len;
    if (off + MCUBOOT_IMAGE_TLV_INFO_SIZE > len) {
        snprintf(why, why_len, "no TLV info at 0x%llx: the bytes end at 0x%zx",
                 (unsigned long long)off, len);
        return -1;
    }
    uint16_t magic = rd16(buf + off), tot = rd16(buf + off + 2);
    uint64_t info = off;
    if (magic == MCUBOOT_IMAGE_TLV_PROT_MAGIC) {
        if (tot != h->protect_tlv_size) {
            snprintf(why, why_len, "protected TLV area is %u bytes but ih_protect_tlv_size says %u",
                     tot, h->protect_tlv_size);
            return -1;
        }
        info = off + tot;
        if (info + MCUBOOT_IMAGE_TLV_INFO_SIZE > len) {
            snprintf(why, why_len, "no TLV info at 0x%llx: the bytes end at 0x%zx",
                     (unsigned long long)info, len);
            return -1;
        }
        magic = rd16(buf + info);
        tot = rd16(buf + info + 2);
    } else if (h->protect_tlv_size != 0) {
        snprintf(why, why_len,
                 "ih_protect_tlv_size is %u but there is no protected TLV info (0x6908) at 0x%llx",
                 h->protect_tlv_size, (unsigned long long)off);
        return -1;
    }
    if (magic != MCUBOOT_IMAGE_TLV_INFO_MAGIC) {
        snprintf(why, why_len, "expected TLV info magic 0x6907 at 0x%llx, found 0x%04x",
                 (unsigned long long)info, magic);
        return -1;
    }
    uint64_t end = off + h->protect_tlv_size + tot;
    if (end > UINT32_MAX) {
        snprintf(why, why_len, "TLV area ends past 4 GiB");
        return -1;
    }
    w->has_prot = h->protect_tlv_size > 0;
    w->prot_end = (uint32_t)(off + h->protect_tlv_size);
    w->tlv_end = (uint32_t)end;
    w->off = (uint32_t)(off + MCUBOOT_IMAGE_TLV_INFO_SIZE);
    return 0;
}

/* 0: an entry (type, value offset and length); 1: end; -1: malformed (reason in why). */
static int walk_next(struct walk *w, uint16_t *type, uint32_t *voff, uint16_t *vlen, char *why,
                     size_t why_len)
{
    while (w->off < w->tlv_end) {
        if (w->has_prot && w->off == w->prot_end) {
            w->off += MCUBOOT_IMAGE_TLV_INFO_SIZE; /* the unprotected info header */
            continue;
        }
        if (w->tlv_end - w->off < MCUBOOT_IMAGE_TLV_HEADER_SIZE) {
            snprintf(why, why_len, "TLV header at 0x%x overruns the TLV area end 0x%x", w->off,
                     w->tlv_end);
            return -1;
        }
        if ((uint64_t)w->off + MCUBOOT_IMAGE_TLV_HEADER_SIZE > w->len) {
            snprintf(why, why_len, "TLV header at 0x%x lies past the bytes (0x%zx)", w->off,
                     w->len);
            return -1;
        }
        uint16_t t = rd16(w->buf + w->off), l = rd16(w->buf + w->off + 2);
        if (l > w->tlv_end - w->off - MCUBOOT_IMAGE_TLV_HEADER_SIZE) {
            snprintf(why, why_len,
                     "TLV at 0x%x (type 0x%02x, length %u) overruns the TLV area end 0x%x", w->off,
                     t, l, w->tlv_end);
            return -1;
        }
        *type = t;
        *vlen = l;
        *voff = w->off + MCUBOOT_IMAGE_TLV_HEADER_SIZE;
        w->off += MCUBOOT_IMAGE_TLV_HEADER_SIZE + l;
        return 0;
    }
    return 1;
}

/* MCUBOOT_USE_TLV_ALLOW_LIST (image_validate.c allowed_unprot_tlvs): the TLVs that may sit
 * in the unprotected area. */
static bool unprot_allowed(uint16_t t, bool pure, bool hmac_sha512)
{
    switch (t) {
    case MCUBOOT_IMAGE_TLV_KEYHASH:
    case MCUBOOT_IMAGE_TLV_PUBKEY:
    case MCUBOOT_IMAGE_TLV_SHA256:
    case MCUBOOT_IMAGE_TLV_SHA384:
    case MCUBOOT_IMAGE_TLV_SHA512:
    case MCUBOOT_IMAGE_TLV_RSA2048_PSS:
    case MCUBOOT_IMAGE_TLV_ECDSA224:
    case MCUBOOT_IMAGE_TLV_ECDSA_SIG:
    case MCUBOOT_IMAGE_TLV_RSA3072_PSS:
    case MCUBOOT_IMAGE_TLV_ED25519:
    case MCUBOOT_IMAGE_TLV_ENC_RSA2048:
    case MCUBOOT_IMAGE_TLV_ENC_KW:
    case MCUBOOT_IMAGE_TLV_ENC_EC256:
        return true;
    case MCUBOOT_IMAGE_TLV_ENC_X25519: /* one or the other, by MCUBOOT_HMAC_SHA512 */
        return !hmac_sha512;
    case MCUBOOT_IMAGE_TLV_ENC_X25519_SHA512:
        return hmac_sha512;
    case MCUBOOT_IMAGE_TLV_SIG_PURE:
        return pure;
    default:
        return false;
    }
}

/* Digest of n bytes with the build's hash. */
static int digest(enum mcuboot_hash_alg h, const uint8_t *p, size_t n, uint8_t *out)
{
    unsigned int len = 0;
    if (EVP_Digest(p, n, out, &len, md_of(h), NULL) != 1 || len != hash_size_of(h)) {
        ERR_clear_error();
        return SIM_EINTERNAL;
    }
    return 0;
}

/* bootutil_find_key (boot/bootutil/src/bootutil_find_key.c): the first trusted key whose
 * hash (the build's hash of its embedded bytes) starts with the `n` KEYHASH bytes; with
 * MCUBOOT_HW_KEY the hash of the PUBKEY bytes must equal the provisioned key's hash
 * (boot_retrieve_public_key_hash; here: any trusted key's). -1 when none. */
static int find_key(const struct mcuboot_keyset *ks, enum mcuboot_hash_alg h, bool pubkey,
                    const uint8_t *val, size_t n, int *err)
{
    uint8_t kh[MCUBOOT_IMAGE_MAX_HASH_SIZE], vh[MCUBOOT_IMAGE_MAX_HASH_SIZE];
    const size_t hs = hash_size_of(h);
    *err = 0;
    if (ks == NULL)
        return -1;
    if (pubkey && (*err = digest(h, val, n, vh)) != 0)
        return -1;
    for (size_t i = 0; i < ks->n; i++) {
        if ((*err = digest(h, ks->keys[i].bytes, ks->keys[i].len, kh)) != 0)
            return -1;
        if (pubkey ? memcmp(kh, vh, hs) == 0 : memcmp(kh, val, n) == 0)
            return (int)i;
    }
    return -1;
}

/* bootutil_verify_sig of the build (image_ecdsa.c, image_ed25519.c, image_rsa.c) over msg:
 * 1 verified, 0 not, < 0 libcrypto failure. */
static int verify_sig(const struct ks_key *k, const uint8_t *msg, size_t mlen, const uint8_t *sig,
                      size_t slen)
{
    EVP_PKEY_CTX *pc = NULL;
    EVP_MD_CTX *mc = NULL;
    int r = -1;
    switch (k->type) {
    case MCUBOOT_SIG_EC256:
    case MCUBOOT_SIG_EC384:
        /* ECDSA over the image hash, DER signature; imgtool before MCUboot 1.5 padded it
         * with zeros, which the SEQUENCE length excludes (imgtool keys/ecdsa.py verify). */
        if (slen >= 2 && sig[0] == 0x30 && sig[1] < 0x80 && (size_t)sig[1] + 2 < slen)
            slen = (size_t)sig[1] + 2;
        pc = EVP_PKEY_CTX_new(k->pkey, NULL);
        if (pc != NULL && EVP_PKEY_verify_init(pc) == 1)
            r = EVP_PKEY_verify(pc, sig, slen, msg, mlen) == 1 ? 1 : 0;
        break;
    case MCUBOOT_SIG_RSA2048:
    case MCUBOOT_SIG_RSA3072:
        /* RSASSA-PSS, SHA-256, MGF1-SHA-256, salt exactly 32 bytes (image_rsa.c PSS_SLEN;
         * imgtool keys/rsa.py signs with salt_length=32). */
        pc = EVP_PKEY_CTX_new(k->pkey, NULL);
        if (pc != NULL && EVP_PKEY_verify_init(pc) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
            EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
            EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1 &&
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32) == 1)
            r = mlen == 32 && EVP_PKEY_verify(pc, sig, slen, msg, mlen) == 1 ? 1 : 0;
        break;
    case MCUBOOT_SIG_ED25519:
        /* Ed25519 (RFC 8032) with the hash, or the image when pure, as the message. */
        mc = EVP_MD_CTX_new();
        if (mc != NULL && EVP_DigestVerifyInit(mc, NULL, NULL, NULL, k->pkey) == 1)
            r = slen == 64 && EVP_DigestVerify(mc, sig, slen, msg, mlen) == 1 ? 1 : 0;
        break;
    case MCUBOOT_SIG_NONE:
        r = 0;
        break;
    }
    EVP_PKEY_CTX_free(pc);
    EVP_MD_CTX_free(mc);
    ERR_clear_error();
    return r;
}

/* The header rules of boot_validate_slot and boot_check_header_valid. true: go on. */
static bool check_header(const uint8_t *buf, size_t len, const struct mcuboot_build *b,
                         struct mcuboot_image_header *h, struct mcuboot_img_result *r)
{
    if (len < MCUBOOT_IMAGE_HEADER_SIZE) {
        verdict(r, MCUBOOT_IMG_BAD_HEADER, "%zu bytes cannot hold the 32-byte header (%s)", len,
                AT_HDR);
        return false;
    }
    uint32_t magic = rd32(buf);
    /* boot_check_header_erased: an erased magic is no image at all. */
    if (magic == MCUBOOT_IMAGE_MAGIC_NONE) {
        verdict(r, MCUBOOT_IMG_NO_IMAGE, "header is erased: no image in the slot (%s)", AT_SLOT);
        return false;
    }
    if (magic != MCUBOOT_IMAGE_MAGIC) {
        verdict(r, MCUBOOT_IMG_BAD_HEADER, "magic 0x%08x is not IMAGE_MAGIC 0x96f3b83d (%s)",
                (unsigned)magic, AT_HDR);
        return false;
    }
    (void)mcuboot_image_header_decode(buf, len, NULL, h, NULL);
    if (h->flags & MCUBOOT_IMAGE_F_NON_BOOTABLE) {
        verdict(r, MCUBOOT_IMG_NO_IMAGE,
                "ih_flags has NON_BOOTABLE (0x10): the slot is treated as holding no bootable "
                "image (%s; boot_image_load_header refuses it too)",
                AT_SLOT);
        return false;
    }
    uint64_t size = (uint64_t)h->hdr_size + h->img_size + h->protect_tlv_size;
    uint64_t slot = b->slot_size ? b->slot_size : len;
    if (size > UINT32_MAX || size >= slot) {
        verdict(r, MCUBOOT_IMG_BAD_HEADER,
                "header + body + protected TLVs = %llu bytes do not fit the %llu-byte %s (%s)",
                (unsigned long long)size, (unsigned long long)slot, b->slot_size ? "slot" : "image",
                AT_HDR);
        return false;
    }
    const uint32_t enc =
        h->flags & (MCUBOOT_IMAGE_F_ENCRYPTED_AES128 | MCUBOOT_IMAGE_F_ENCRYPTED_AES256);
    if (enc != 0 && !b->enc_images) {
        verdict(r, MCUBOOT_IMG_BAD_HEADER,
                "image is encrypted (ih_flags ENCRYPTED_AES%s) and the bootloader is built "
                "without MCUBOOT_ENC_IMAGES (%s)",
                enc == MCUBOOT_IMAGE_F_ENCRYPTED_AES128 ? "128" : "256", AT_HDR);
        return false;
    }
    if (enc == (MCUBOOT_IMAGE_F_ENCRYPTED_AES128 | MCUBOOT_IMAGE_F_ENCRYPTED_AES256)) {
        verdict(r, MCUBOOT_IMG_BAD_HEADER,
                "ih_flags has both ENCRYPTED_AES128 and ENCRYPTED_AES256 (%s)", AT_HDR);
        return false;
    }
    const uint32_t comp =
        h->flags & (MCUBOOT_IMAGE_F_COMPRESSED_LZMA1 | MCUBOOT_IMAGE_F_COMPRESSED_LZMA2);
    if (comp != 0 && (!b->decompress || comp == (MCUBOOT_IMAGE_F_COMPRESSED_LZMA1 |
                                                 MCUBOOT_IMAGE_F_COMPRESSED_LZMA2))) {
        verdict(r, MCUBOOT_IMG_BAD_HEADER,
                "image is compressed (ih_flags 0x%x) and the bootloader %s (%s)", (unsigned)comp,
                b->decompress ? "accepts one LZMA flag only" : "has no MCUBOOT_DECOMPRESS_IMAGES",
                AT_HDR);
        return false;
    }
    if (comp != 0) {
        verdict(r, MCUBOOT_IMG_NOT_MODELLED,
                "compressed images are validated after decompression (boot_check_image, "
                "bootutil_img_hash), which dfusim does not model");
        return false;
    }
    return true;
}

#define AT_ENC_LOAD "mcu-tools/mcuboot boot/bootutil/src/encrypted.c boot_enc_load"

static const char *enc_tlv_name(uint16_t t)
{
    switch (t) {
    case MCUBOOT_IMAGE_TLV_ENC_EC256:
        return "ENC_EC256";
    case MCUBOOT_IMAGE_TLV_ENC_X25519:
        return "ENC_X25519";
    case MCUBOOT_IMAGE_TLV_ENC_X25519_SHA512:
        return "ENC_X25519_SHA512";
    case MCUBOOT_IMAGE_TLV_ENC_RSA2048:
        return "ENC_RSA2048";
    default:
        return "encryption";
    }
}

/* boot_enc_load (encrypted.c), which boot_check_image (bootutil_loader.c) calls for an
 * encrypted image in the secondary slot before bootutil_img_validate: the first TLV of the
 * build's BOOT_ENC_TLV type in file order (bootutil_tlv_iter_begin/_next, either area), of
 * exactly BOOT_ENC_TLV_SIZE bytes, then boot_decrypt_key. Returns 1 with the AES key in
 * key, 0 when refused (verdict set), or SIM_EINTERNAL. */
static int enc_load(const uint8_t *buf, size_t len, const struct mcuboot_image_header *h,
                    const struct mcuboot_build *b, const struct mcuboot_keyset *ks, uint8_t *key,
                    struct mcuboot_img_result *r)
{
    const struct mcuboot_enc_key *k = mcuboot_keyset_enc_key(ks);
    const enum mcuboot_enc_type et = mcuboot_enc_key_type(k);
    const uint16_t want = mcuboot_enc_tlv_type(et, b->hmac_sha512);
    const size_t ksz = b->aes256 ? 32 : 16;
    const size_t tsz = mcuboot_enc_tlv_size(et, ksz, b->hmac_sha512);
    char why[MCUBOOT_IMG_REASON_SIZE];
    struct walk w;
    uint16_t t = 0, l = 0;
    uint32_t off = 0;
    if (walk_begin(&w, buf, len, h, why, sizeof(why)) != 0) {
        verdict(r, MCUBOOT_IMG_BAD_TLV, "%s (bootutil_tlv_iter_begin in %s)", why, AT_ENC_LOAD);
        return 0;
    }
    for (;;) {
        int n = walk_next(&w, &t, &off, &l, why, sizeof(why));
        if (n > 0) {
            /* Not found: boot_enc_load returns 1, no key is set, and bootutil_img_hash
             * refuses an encrypted image in the secondary slot without a valid key. */
            verdict(r, MCUBOOT_IMG_BAD_ENC_KEY,
                    "image is encrypted and has no %s TLV, so the bootloader has no key to "
                    "decrypt it (%s; bootutil_img_hash.c bootutil_img_hash refuses it)",
                    enc_tlv_name(want), AT_ENC_LOAD);
            return 0;
        }
        if (n < 0) {
            verdict(r, MCUBOOT_IMG_BAD_TLV, "%s (%s)", why, AT_ENC_LOAD);
            return 0;
        }
        if (t == want)
            break;
    }
    if ((uint64_t)off + l > len) {
        verdict(r, MCUBOOT_IMG_BAD_TLV, "%s TLV value at 0x%x+%u lies past the bytes (0x%zx) (%s)",
                enc_tlv_name(want), off, l, len, AT_ENC_LOAD);
        return 0;
    }
    if (l != tsz) {
        verdict(r, MCUBOOT_IMG_BAD_ENC_KEY,
                "the %s TLV has %u bytes; a bootloader with AES-%zu%s reads exactly %zu "
                "(BOOT_ENC_TLV_SIZE, enc_key_public.h; %s)",
                enc_tlv_name(want), l, ksz * 8, b->hmac_sha512 ? " and HMAC-SHA512" : "", tsz,
                AT_ENC_LOAD);
        return 0;
    }
    int rc = mcuboot_enc_decrypt_key(k, buf + off, l, ksz, b->hmac_sha512, key, why, sizeof(why));
    if (rc == 0)
        verdict(r, MCUBOOT_IMG_BAD_ENC_KEY, "%s", why);
    return rc;
}

/* bootutil_img_hash (bootutil_img_hash.c) of an image in the secondary slot: header, the
 * body decrypted in chunks (boot_enc_decrypt with the body offset as counter; the chunks
 * stop at the body's ends, as its reads do) and the protected TLVs. 0 or SIM_EINTERNAL. */
static int digest_decrypted(enum mcuboot_hash_alg hs, const uint8_t *buf,
                            const struct mcuboot_image_header *h, const uint8_t *key, size_t ksz,
                            uint8_t *out)
{
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    struct mcuboot_enc_ctr *c = mcuboot_enc_ctr_new(key, ksz);
    uint8_t tmp[4096];
    unsigned int olen = 0;
    bool ok = mc != NULL && c != NULL && EVP_DigestInit_ex(mc, md_of(hs), NULL) == 1 &&
              EVP_DigestUpdate(mc, buf, h->hdr_size) == 1;
    for (uint32_t o = 0; ok && o < h->img_size;) {
        size_t n = h->img_size - o < sizeof(tmp) ? h->img_size - o : sizeof(tmp);
        ok = mcuboot_enc_ctr_apply(c, buf + h->hdr_size + o, tmp, n) == 0 &&
             EVP_DigestUpdate(mc, tmp, n) == 1;
        o += (uint32_t)n;
    }
    ok = ok && EVP_DigestUpdate(mc, buf + h->hdr_size + h->img_size, h->protect_tlv_size) == 1 &&
         EVP_DigestFinal_ex(mc, out, &olen) == 1 && olen == hash_size_of(hs);
    OPENSSL_cleanse(tmp, sizeof(tmp));
    mcuboot_enc_ctr_free(c);
    EVP_MD_CTX_free(mc);
    ERR_clear_error();
    return ok ? 0 : SIM_EINTERNAL;
}

/* bootutil_check_for_pure (image_validate.c): the first SIG_PURE TLV must be 1 byte of 1. */
static bool has_pure_tlv(const uint8_t *buf, size_t len, const struct mcuboot_image_header *h)
{
    struct walk w;
    char why[8];
    uint16_t t, l;
    uint32_t off;
    if (walk_begin(&w, buf, len, h, why, sizeof(why)) != 0)
        return false;
    while (walk_next(&w, &t, &off, &l, why, sizeof(why)) == 0)
        if (t == MCUBOOT_IMAGE_TLV_SIG_PURE)
            return l == 1 && off < len && buf[off] == 1;
    return false;
}

static const char *tlv_name(uint16_t t)
{
    switch (t) {
    case MCUBOOT_IMAGE_TLV_SHA256:
        return "SHA256";
    case MCUBOOT_IMAGE_TLV_SHA384:
        return "SHA384";
    case MCUBOOT_IMAGE_TLV_SHA512:
        return "SHA512";
    default:
        return "other";
    }
}

int mcuboot_image_check(const uint8_t *buf, size_t len, const struct mcuboot_build *b,
                        const struct mcuboot_keyset *keys, struct mcuboot_img_result *res,
                        struct sim_diag *d)
{
    struct mcuboot_img_result r = {.verdict = MCUBOOT_IMG_VALID, .key_index = -1};
    struct mcuboot_image_header h;
    uint8_t hash[MCUBOOT_IMAGE_MAX_HASH_SIZE];
    char why[160];
    struct walk w;
    int rc;

    if (buf == NULL || b == NULL || res == NULL) {
        sim_diag_add(d, "image check: no bytes or no build");
        return SIM_EINVAL;
    }
    rc = mcuboot_build_check(b, keys, d);
    if (rc != 0)
        return rc;
    const size_t hs = hash_size_of(b->hash);
    const uint16_t hash_tlv = hash_tlv_of(b->hash), sig_tlv = sig_tlv_of(b->sig);
    const uint16_t key_tlv = b->hw_key ? MCUBOOT_IMAGE_TLV_PUBKEY : MCUBOOT_IMAGE_TLV_KEYHASH;
    /* KEY_BUF_SIZE (image_validate.c): a key hash of the build's hash size, or the whole
     * public key (SIG_BUF_SIZE + 24) with MCUBOOT_HW_KEY. */
    const size_t key_buf = b->hw_key ? sig_buf_of(b->sig) + 24 : hs;

    if (!check_header(buf, len, b, &h, &r))
        goto done;
    const uint32_t signed_len = (uint32_t)h.hdr_size + h.img_size + h.protect_tlv_size;
    /* A slot larger than the bytes given: the flash read of bootutil_img_hash (or of the
     * pure signature) would run past what the slot holds, and fails. */
    if (signed_len > len) {
        verdict(&r, MCUBOOT_IMG_BAD_HASH,
                "header + body + protected TLVs (%u bytes) run past the %zu bytes written: the "
                "image cannot be read to hash it (bootutil_img_hash; %s)",
                signed_len, len, AT_VALIDATE);
        goto done;
    }
    /* An encrypted image (check_header let it through: the build has MCUBOOT_ENC_IMAGES)
     * first has its AES key recovered (boot_enc_load). */
    const bool encrypted =
        (h.flags & (MCUBOOT_IMAGE_F_ENCRYPTED_AES128 | MCUBOOT_IMAGE_F_ENCRYPTED_AES256)) != 0;
    uint8_t aes[MCUBOOT_ENC_MAX_KEY_SIZE];
    if (encrypted && (rc = enc_load(buf, len, &h, b, keys, aes, &r)) <= 0) {
        if (rc < 0)
            return rc;
        goto done;
    }
    /* bootutil_img_hash: the build's hash over header + body (decrypted) + protected TLVs
     * (not for pure builds, which sign those bytes directly). */
    if (!b->pure) {
        rc = encrypted ? digest_decrypted(b->hash, buf, &h, aes, b->aes256 ? 32 : 16, hash)
                       : digest(b->hash, buf, signed_len, hash);
        if (rc != 0)
            return rc;
    }
    OPENSSL_cleanse(aes, sizeof(aes));
    r.decrypted = encrypted;
    if (b->pure && !has_pure_tlv(buf, len, &h)) {
        verdict(&r, MCUBOOT_IMG_BAD_SIGNATURE,
                "the bootloader is built for pure signatures and the image has no SIG_PURE TLV "
                "of value 1 (image_validate.c bootutil_check_for_pure)");
        goto done;
    }
    if (walk_begin(&w, buf, len, &h, why, sizeof(why)) != 0) {
        verdict(&r, MCUBOOT_IMG_BAD_TLV,
                "%s (mcu-tools/mcuboot boot/bootutil/src/tlv.c "
                "bootutil_tlv_iter_begin)",
                why);
        goto done;
    }
    if (b->max_img_size != 0 && w.tlv_end > b->max_img_size) {
        verdict(&r, MCUBOOT_IMG_BAD_TLV,
                "the TLVs end at %u bytes, past the %u bytes an image may use in the slot "
                "(bootutil_max_image_size; %s)",
                w.tlv_end, b->max_img_size, AT_VALIDATE);
        goto done;
    }

    bool hash_ok = false, sig_ok = false;
    uint16_t other_hash = 0;
    int key_id = -1;
    for (;;) {
        uint16_t t, l;
        uint32_t off;
        int n = walk_next(&w, &t, &off, &l, why, sizeof(why));
        if (n > 0)
            break;
        if (n < 0) {
            verdict(&r, MCUBOOT_IMG_BAD_TLV, "%s (%s)", why, AT_TLV);
            goto done;
        }
        if ((uint64_t)off + l > len) {
            verdict(&r, MCUBOOT_IMG_BAD_TLV,
                    "TLV value at 0x%x+%u lies past the bytes (0x%zx) (%s)", off, l, len,
                    AT_VALIDATE);
            goto done;
        }
        /* bootutil_tlv_iter_is_prot: an entry is protected when it starts before prot_end. */
        if (b->tlv_allow_list && off >= w.prot_end && !unprot_allowed(t, b->pure, b->hmac_sha512)) {
            verdict(&r, MCUBOOT_IMG_BAD_TLV,
                    "TLV type 0x%02x is not allowed in the unprotected area "
                    "(MCUBOOT_USE_TLV_ALLOW_LIST; %s)",
                    t, AT_VALIDATE);
            goto done;
        }
        if (!b->pure && t == hash_tlv) {
            /* The image hash: must be IMAGE_HASH_SIZE and equal the computed one. */
            if (l != hs) {
                verdict(&r, MCUBOOT_IMG_BAD_HASH, "%s TLV has %u bytes, expected %zu (%s)",
                        tlv_name(t), l, hs, AT_VALIDATE);
                goto done;
            }
            if (memcmp(hash, buf + off, hs) != 0) {
                verdict(&r, MCUBOOT_IMG_BAD_HASH,
                        "image hash mismatch: the %s of header, %sbody and protected TLVs "
                        "differs from the %s TLV (%s)",
                        mcuboot_hash_alg_name(b->hash), encrypted ? "decrypted " : "", tlv_name(t),
                        AT_VALIDATE);
                goto done;
            }
            hash_ok = true;
            r.hash_checked = true;
        } else if (t == MCUBOOT_IMAGE_TLV_SHA256 || t == MCUBOOT_IMAGE_TLV_SHA384 ||
                   t == MCUBOOT_IMAGE_TLV_SHA512) {
            other_hash = t; /* not the build's hash: ignored */
        } else if (sig_tlv != 0 && t == key_tlv) {
            /* Selects the key of the signatures that follow; an unknown key is no error
             * ("there can be multiple signatures, each preceded by a key"). */
            if (l > key_buf) {
                verdict(&r, MCUBOOT_IMG_BAD_SIGNATURE,
                        "%s TLV has %u bytes, more than the %zu the bootloader reads (%s)",
                        b->hw_key ? "PUBKEY" : "KEYHASH", l, key_buf, AT_VALIDATE);
                goto done;
            }
            int err;
            key_id = find_key(keys, b->hash, b->hw_key, buf + off, l, &err);
            if (err != 0)
                return err;
        } else if (sig_tlv != 0 && t == sig_tlv) {
            if (key_id < 0) {
                r.n_sig_skipped++; /* no trusted key selected: ignored */
                continue;
            }
            const struct ks_key *k = &keys->keys[key_id];
            bool len_ok = l <= sig_buf_of(b->sig);
            if (b->sig == MCUBOOT_SIG_ED25519)
                len_ok = l == 64;
            else if (b->sig == MCUBOOT_SIG_RSA2048 || b->sig == MCUBOOT_SIG_RSA3072)
                len_ok = l == sig_buf_of(b->sig);
            if (!len_ok) {
                verdict(&r, MCUBOOT_IMG_BAD_SIGNATURE,
                        "%s signature TLV has %u bytes, which the bootloader refuses (%s)",
                        mcuboot_sig_type_name(b->sig), l, AT_VALIDATE);
                goto done;
            }
            int v = b->pure ? verify_sig(k, buf, signed_len, buf + off, l)
                            : verify_sig(k, hash, hs, buf + off, l);
            if (v < 0)
                return SIM_EINTERNAL;
            /* Each checked signature overwrites the outcome: the last one decides. */
            sig_ok = v == 1;
            r.key_index = key_id;
            r.n_sig_checked++;
            key_id = -1;
        }
    }
    if (!b->pure && !hash_ok) {
        if (other_hash != 0)
            verdict(&r, MCUBOOT_IMG_BAD_HASH,
                    "image has a %s TLV but this bootloader hashes with %s and finds no %s TLV "
                    "(EXPECTED_HASH_TLV; %s)",
                    tlv_name(other_hash), mcuboot_hash_alg_name(b->hash), tlv_name(hash_tlv),
                    AT_VALIDATE);
        else
            verdict(&r, MCUBOOT_IMG_BAD_HASH, "image has no %s TLV (%s)", tlv_name(hash_tlv),
                    AT_VALIDATE);
        goto done;
    }
    if (sig_tlv == 0) {
        verdict(&r, MCUBOOT_IMG_VALID, "%s TLV matches; the bootloader checks no signature (%s)",
                tlv_name(hash_tlv), AT_VALIDATE);
        goto done;
    }
    if (r.n_sig_checked == 0) {
        verdict(&r, MCUBOOT_IMG_BAD_SIGNATURE, "no accepted signature: %s (%s)",
                r.n_sig_skipped > 0
                    ? "no signature follows a KEYHASH/PUBKEY of a trusted key, so every "
                      "signature TLV was ignored"
                    : "the image has no signature TLV of the bootloader's type",
                AT_VALIDATE);
        r.key_index = -1;
    } else if (!sig_ok) {
        verdict(&r, MCUBOOT_IMG_BAD_SIGNATURE,
                "no accepted signature: the %s signature by trusted key %d does not verify "
                "(the last signature checked decides; %s)",
                mcuboot_sig_type_name(b->sig), r.key_index + 1, AT_VALIDATE);
    } else {
        verdict(
            &r, MCUBOOT_IMG_VALID, "%s%s%s signature by trusted key %d verifies (%s)",
            encrypted ? (b->aes256 ? "decrypted with AES-256; " : "decrypted with AES-128; ") : "",
            b->pure ? "pure " : "", mcuboot_sig_type_name(b->sig), r.key_index + 1, AT_VALIDATE);
    }
done:
    *res = r;
    return 0;
}

/* ---- Versions ---- */

static int cmp_u32(uint32_t a, uint32_t b)
{
    return (a > b) - (a < b);
}

int mcuboot_image_version_cmp(const struct mcuboot_image_version *a,
                              const struct mcuboot_image_version *b, bool use_build)
{
    int c = cmp_u32(a->major, b->major);
    if (c == 0)
        c = cmp_u32(a->minor, b->minor);
    if (c == 0)
        c = cmp_u32(a->revision, b->revision);
    if (c == 0 && use_build)
        c = cmp_u32(a->build, b->build);
    return c;
}

/* ---- settings ------------------------------------------------------------------------- */

static const struct scenario_field key_item = {
    .key = "key file", .type = SCENARIO_T_STRING, .size = sizeof(char *)};

static const struct scenario_field enc_fields[] = {
    {.key = "key",
     .type = SCENARIO_T_STRING,
     SCENARIO_AT(struct mcuboot_image_enc_settings, key),
     .flags = SCENARIO_F_REQUIRED | SCENARIO_F_POS,
     .pos_offset = offsetof(struct mcuboot_image_enc_settings, key_at),
     .doc = "the PEM private key of image encryption built into the devices' MCUboot "
            "(CONFIG_BOOT_ENCRYPTION_KEY_FILE): EC P-256 with ECDSA P-256 keys, X25519 with "
            "Ed25519, RSA-2048 with RSA; encrypted images are decrypted with it before their "
            "hash and signature are checked",
     .source = "mcu-tools/mcuboot: boot/bootutil/src/encrypted.c (boot_decrypt_key), "
               "boot/zephyr/Kconfig (BOOT_ENCRYPT_IMAGE)"},
    {.key = "aes256",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct mcuboot_image_enc_settings, aes256),
     .def = "false",
     .doc = "MCUboot decrypts with AES-256 keys (CONFIG_BOOT_ENCRYPT_ALG_AES_256; imgtool "
            "--encrypt-keylen 256); false: AES-128; an image of the other key size is refused",
     .source = "mcu-tools/mcuboot: boot/zephyr/Kconfig (BOOT_ENCRYPT_ALG, default AES-128), "
               "boot/bootutil/include/bootutil/enc_key_public.h (BOOT_ENC_TLV_SIZE)"},
    {.key = "hmac_sha512",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct mcuboot_image_enc_settings, hmac_sha512),
     .def = "false",
     .doc = "with an X25519 key: HKDF and HMAC with SHA-512, the ENC_X25519_SHA512 TLV "
            "(CONFIG_BOOT_HMAC_SHA512; imgtool --hmac-sha 512)",
     .source = "mcu-tools/mcuboot: boot/zephyr/Kconfig (BOOT_HMAC_SHA, default SHA256), "
               "boot/bootutil/src/encrypted_psa.c"},
};

const struct scenario_schema mcuboot_image_enc_settings_schema =
    SCENARIO_SCHEMA("encryption", struct mcuboot_image_enc_settings, enc_fields);

static const struct scenario_field image_fields[] = {
    {.key = "size",
     .type = SCENARIO_T_SIZE,
     SCENARIO_AT(struct mcuboot_image_settings, size),
     .flags = SCENARIO_F_REQUIRED | SCENARIO_F_POS,
     .pos_offset = offsetof(struct mcuboot_image_settings, size_at),
     .min = "1B",
     .max = "64MiB",
     .unless = "file",
     .doc = "size of a synthetic update image (bytes, KiB, MiB); not with file"},
    {.key = "version",
     .type = SCENARIO_T_VERSION,
     SCENARIO_AT(struct mcuboot_image_settings, version),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct mcuboot_image_settings, version_at),
     .def = "1.0.0+0",
     .doc = "MCUboot image version MAJOR.MINOR.REVISION[+BUILD] of a synthetic image; not with "
            "file"},
    {.key = "installed",
     .type = SCENARIO_T_VERSION,
     SCENARIO_AT(struct mcuboot_image_settings, installed),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct mcuboot_image_settings, installed_at),
     .def = "0.0.0+0",
     .doc = "version the devices run at power-on (an image of the same size, confirmed)"},
    {.key = "file",
     .type = SCENARIO_T_STRING,
     SCENARIO_AT(struct mcuboot_image_settings, file),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct mcuboot_image_settings, file_at),
     .doc = "an imgtool image (signed .bin) as the update: its size, header, version, TLVs "
            "and bytes; a path relative to the scenario's folder"},
    {.key = "installed_file",
     .type = SCENARIO_T_STRING,
     SCENARIO_AT(struct mcuboot_image_settings, installed_file),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct mcuboot_image_settings, installed_file_at),
     .doc = "an imgtool image the devices run at power-on, confirmed in the primary slot "
            "(replaces the synthetic installed image); not with installed"},
    {.key = "secondary_file",
     .type = SCENARIO_T_STRING,
     SCENARIO_AT(struct mcuboot_image_settings, secondary_file),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct mcuboot_image_settings, secondary_file_at),
     .doc = "with file, for direct-xip: the same build linked for the secondary slot "
            "(mcuboot_secondary_app_update.bin beside app_update.bin); direct-xip groups "
            "upload it to the inactive secondary slot; absent: they upload file"},
    {.key = "keys",
     .type = SCENARIO_T_VALUES,
     SCENARIO_AT(struct mcuboot_image_settings, keys),
     .count_offset = offsetof(struct mcuboot_image_settings, n_keys),
     .item = &key_item,
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct mcuboot_image_settings, keys_at),
     .doc = "with file: PEM public keys built into the devices' MCUboot (bootutil_keys, all of "
            "one type); the devices then validate the file as MCUboot does and refuse it "
            "without an accepted signature; absent: any intact image boots"},
    {.key = "encryption",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct mcuboot_image_settings, enc),
     .flags = SCENARIO_F_POS | SCENARIO_F_OPTIONAL,
     .pos_offset = offsetof(struct mcuboot_image_settings, enc.at),
     .present_offset = offsetof(struct mcuboot_image_settings, has_enc),
     .sub = &mcuboot_image_enc_settings_schema,
     .doc = "with keys: the devices' MCUboot decrypts encrypted images "
            "(CONFIG_BOOT_ENCRYPT_IMAGE); absent: it has no encryption support and refuses them"},
};

const struct scenario_schema mcuboot_image_settings_schema =
    SCENARIO_SCHEMA("image", struct mcuboot_image_settings, image_fields);
