/* models/smp/img_slots.c - MCUboot header parsing and the in-memory slot implementation.
 * TLV walk as img_mgmt_read_info() in zephyrproject-rtos/zephyr:
 * subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c. */
#include "models/smp/img_slots.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "sim/error.h"

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

void smp_img_slots_hdr_parse(const uint8_t *p, uint32_t *magic, uint32_t *load_addr,
                             struct smp_img_slots_version *ver, uint32_t *flags)
{
    *magic = le32(p);
    *load_addr = le32(p + 4);
    *flags = le32(p + 16);
    ver->major = p[20];
    ver->minor = p[21];
    ver->revision = le16(p + 22);
    ver->build = le32(p + 24);
}

/* ---- in-memory implementation --------------------------------------------------- */

static bool slot_ok(const struct smp_img_slots_mem *m, int slot)
{
    return slot >= 0 && (size_t)slot < m->n_slots;
}

/* Find the TLV info with `magic` at off; on success start and end bound its entries. */
static int find_tlvs(const struct smp_img_slots_mem *m, int slot, uint32_t off, uint16_t magic,
                     uint32_t *start, uint32_t *end)
{
    if ((uint64_t)off + 4 > m->slot_size)
        return SMP_IMG_SLOTS_ERR_FLASH_READ_FAILED;
    const uint8_t *p = m->data[slot] + off;
    if (le16(p) != magic)
        return SMP_IMG_SLOTS_ERR_NO_TLVS;
    *start = off + 4;
    *end = off + le16(p + 2);
    return 0;
}

static int mem_read_info(void *env, int slot, struct smp_img_slots_info *out)
{
    struct smp_img_slots_mem *m = env;
    if (!slot_ok(m, slot))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    const uint8_t *d = m->data[slot];
    uint32_t magic, load;
    smp_img_slots_hdr_parse(d, &magic, &load, &out->ver, &out->flags);
    if (magic == 0xffffffffu)
        return SMP_IMG_SLOTS_ERR_NO_IMAGE;
    if (magic != SMP_IMG_SLOTS_MAGIC)
        return SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER_MAGIC;
    uint32_t off = (uint32_t)le16(d + 8) + le32(d + 12), start, end;
    if (find_tlvs(m, slot, off, SMP_IMG_SLOTS_TLV_PROT_INFO, &start, &end) == 0)
        off = end;
    if (find_tlvs(m, slot, off, SMP_IMG_SLOTS_TLV_INFO, &start, &end) != 0)
        return SMP_IMG_SLOTS_ERR_NO_TLVS;
    bool found = false;
    while ((uint64_t)start + 4 <= end && (uint64_t)start + 4 <= m->slot_size) {
        uint16_t type = le16(d + start), len = le16(d + start + 2);
        if (type == 0xffff && len == 0xffff)
            return SMP_IMG_SLOTS_ERR_INVALID_TLV;
        if (type != SMP_IMG_SLOTS_TLV_SHA256 || len != SMP_IMG_SLOTS_HASH_LEN) {
            start += 4u + len;
            continue;
        }
        if (found)
            return SMP_IMG_SLOTS_ERR_TLV_MULTIPLE_HASHES_FOUND;
        found = true;
        start += 4;
        if ((uint64_t)start + SMP_IMG_SLOTS_HASH_LEN > end ||
            (uint64_t)start + SMP_IMG_SLOTS_HASH_LEN > m->slot_size)
            return SMP_IMG_SLOTS_ERR_TLV_INVALID_SIZE;
        memcpy(out->hash, d + start, SMP_IMG_SLOTS_HASH_LEN);
    }
    return found ? 0 : SMP_IMG_SLOTS_ERR_HASH_NOT_FOUND;
}

static int mem_active_slot(void *env, int image)
{
    struct smp_img_slots_mem *m = env;
    return (image >= 0 && (size_t)image < m->n_slots / 2) ? m->active[image] : -1;
}

static int mem_swap_type(void *env, int image)
{
    struct smp_img_slots_mem *m = env;
    return (image >= 0 && (size_t)image < m->n_slots / 2) ? m->swap[image]
                                                          : SMP_IMG_SLOTS_SWAP_FAIL;
}

static int mem_xip_state(void *env, int slot)
{
    struct smp_img_slots_mem *m = env;
    return slot_ok(m, slot) ? m->xip[slot] : -1;
}

static uint32_t mem_slot_size(void *env, int slot)
{
    struct smp_img_slots_mem *m = env;
    return slot_ok(m, slot) ? m->slot_size : 0;
}

static uint32_t mem_slot_addr(void *env, int slot)
{
    struct smp_img_slots_mem *m = env;
    return slot_ok(m, slot) ? m->addr[slot] : 0;
}

static int mem_is_empty(void *env, int slot, bool *empty)
{
    struct smp_img_slots_mem *m = env;
    if (!slot_ok(m, slot))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    *empty = true;
    for (uint32_t i = 0; i < m->slot_size && *empty; i++)
        *empty = m->data[slot][i] == 0xff;
    return 0;
}

static int mem_erase_slot(void *env, int slot)
{
    struct smp_img_slots_mem *m = env;
    if (!slot_ok(m, slot))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    m->n_erase_slot++;
    if (m->fail_erase)
        return m->fail_erase;
    memset(m->data[slot], 0xff, m->slot_size);
    m->xip[slot] = SMP_IMG_SLOTS_XIP_UNSET;
    return 0;
}

static int mem_erase_upload(void *env, int slot, uint32_t size)
{
    struct smp_img_slots_mem *m = env;
    if (!slot_ok(m, slot))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    m->n_erase_upload++;
    if (m->fail_erase)
        return m->fail_erase;
    if (size == 0 || size > m->slot_size)
        return SMP_IMG_SLOTS_ERR_INVALID_PAGE_OFFSET;
    uint32_t body = (size + m->page_size - 1) / m->page_size * m->page_size;
    uint32_t trailer_start = (m->slot_size - m->trailer) / m->page_size * m->page_size;
    memset(m->data[slot], 0xff, body);
    m->erased_upload_bytes = body;
    if (trailer_start >= body) {
        memset(m->data[slot] + trailer_start, 0xff, m->slot_size - trailer_start);
        m->erased_upload_bytes += m->slot_size - trailer_start;
    }
    return 0;
}

static int mem_write(void *env, int slot, uint32_t off, const uint8_t *p, size_t n, bool last)
{
    (void)last;
    struct smp_img_slots_mem *m = env;
    if (!slot_ok(m, slot))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    if (m->fail_write)
        return m->fail_write;
    if ((uint64_t)off + n > m->slot_size)
        return SMP_IMG_SLOTS_ERR_FLASH_WRITE_FAILED;
    for (size_t i = 0; i < n; i++)
        m->data[slot][off + i] &= p[i]; /* NOR flash: writing can only clear bits */
    return 0;
}

static int mem_check_sha(void *env, int slot, uint32_t len, const uint8_t sha[32])
{
    struct smp_img_slots_mem *m = env;
    if (!slot_ok(m, slot) || len > m->slot_size)
        return -1;
    uint8_t got[32];
    unsigned int got_len = 0;
    if (!EVP_Digest(m->data[slot], len, got, &got_len, EVP_sha256(), NULL) || got_len != 32)
        return -1;
    return memcmp(got, sha, 32) == 0 ? 0 : 1;
}

static int mem_set_next(void *env, int slot, bool active, bool confirm)
{
    struct smp_img_slots_mem *m = env;
    if (!slot_ok(m, slot))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    if (m->fail_write)
        return SMP_IMG_SLOTS_ERR_FLASH_WRITE_FAILED;
    int image = slot / 2;
    if (active && confirm) { /* image_ok on the running image */
        if (m->swap[image] == SMP_IMG_SLOTS_SWAP_REVERT)
            m->swap[image] = SMP_IMG_SLOTS_SWAP_NONE;
        m->xip[slot] = SMP_IMG_SLOTS_XIP_FOREVER;
        return 0;
    }
    m->swap[image] = confirm ? SMP_IMG_SLOTS_SWAP_PERM : SMP_IMG_SLOTS_SWAP_TEST;
    m->xip[slot] = confirm ? SMP_IMG_SLOTS_XIP_FOREVER : SMP_IMG_SLOTS_XIP_ONCE;
    return 0;
}

static const struct smp_img_slots_ops mem_ops = {
    .read_info = mem_read_info,
    .active_slot = mem_active_slot,
    .swap_type = mem_swap_type,
    .xip_state = mem_xip_state,
    .slot_size = mem_slot_size,
    .slot_addr = mem_slot_addr,
    .is_empty = mem_is_empty,
    .erase_slot = mem_erase_slot,
    .erase_upload = mem_erase_upload,
    .write = mem_write,
    .check_sha = mem_check_sha,
    .set_next = mem_set_next,
};

int smp_img_slots_mem_init(struct smp_img_slots_mem *m, size_t n_slots, uint32_t slot_size,
                           uint32_t page_size)
{
    memset(m, 0, sizeof(*m));
    if ((n_slots != 2 && n_slots != 4) || page_size == 0 || slot_size < 256 ||
        slot_size % page_size != 0)
        return SIM_EINVAL;
    m->n_slots = n_slots;
    m->slot_size = slot_size;
    m->page_size = page_size;
    m->trailer = 48;
    for (size_t i = 0; i < n_slots; i++) {
        m->data[i] = malloc(slot_size);
        if (m->data[i] == NULL)
            goto fail;
        memset(m->data[i], 0xff, slot_size);
        m->addr[i] = 0x10000u + (uint32_t)i * slot_size;
        m->xip[i] = SMP_IMG_SLOTS_XIP_UNSET;
    }
    for (size_t i = 0; i < n_slots / 2; i++) {
        m->active[i] = (int)(2 * i);
        m->swap[i] = SMP_IMG_SLOTS_SWAP_NONE;
    }
    return 0;
fail:
    smp_img_slots_mem_fini(m);
    return SIM_ENOMEM;
}

void smp_img_slots_mem_fini(struct smp_img_slots_mem *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < SMP_IMG_SLOTS_MEM_MAX; i++) {
        free(m->data[i]);
        m->data[i] = NULL;
    }
    m->n_slots = 0;
}

struct smp_img_slots smp_img_slots_mem_bind(struct smp_img_slots_mem *m)
{
    return (struct smp_img_slots){.ops = &mem_ops, .env = m};
}
