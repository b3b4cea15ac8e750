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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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
     .def = "0.0.0+0",
     .doc = "version the devices run at power-on (an image of the same size, confirmed)"},
    {.key = "file",
     .type = SCENARIO_T_STRING,
     SCENARIO_AT(struct mcuboot_image_settings, file),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct mcuboot_image_settings, file_at),
     .doc = "an imgtool image (signed .bin) as the update: its size, header, version, TLVs "
            "and bytes; a path relative to the scenario's folder"},
};

const struct scenario_schema mcuboot_image_settings_schema =
    SCENARIO_SCHEMA("image", struct mcuboot_image_settings, image_fields);
