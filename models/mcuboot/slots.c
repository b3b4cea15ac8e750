/* models/mcuboot/slots.c - one device's MCUboot image pair behind img_mgmt's slot interface.
 * Rules per function in models/mcuboot/slots.h; upstream: zephyrproject-rtos/zephyr:
 * subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c, img_mgmt_state.c, zephyr_img_mgmt.c,
 * subsys/dfu/img_util/flash_img.c; mcu-tools/mcuboot (main, 2d4bacc):
 * boot/bootutil/src/bootutil_public.c. */
#include "models/mcuboot/slots.h"

#include "models/mcuboot/explain.h"
#include "models/mcuboot/xip.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define P MCUBOOT_SWAP_PRIMARY
#define S MCUBOOT_SWAP_SECONDARY
#define X MCUBOOT_SWAP_SCRATCH_AREA

static uint32_t div_up(uint64_t x, uint32_t y)
{
    return (uint32_t)((x + y - 1) / y);
}

static bool slot_ok(int slot)
{
    return slot == 0 || slot == 1;
}

static int area_of(int slot)
{
    return slot == 0 ? P : S;
}

static bool copying(const struct mcuboot_slots_cfg *c)
{
    return c->mode < MCUBOOT_SLOTS_DIRECT_XIP;
}

static uint32_t sec_size(const struct mcuboot_slots *s)
{
    return s->cfg->geom.sector_size;
}

static uint32_t n_sec(const struct mcuboot_slots *s, int area)
{
    return s->cfg->geom.n_sectors[area];
}

/* Sector of the slot where image offset 0 lies: swap-offset uploads to secondary sector 1
 * (mcu-tools/mcuboot: boot/bootutil/src/swap_offset.c; zephyrproject-rtos/zephyr:
 * subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c applies the offset). */
static uint32_t up_base(const struct mcuboot_slots *s, int slot)
{
    return (s->cfg->mode == MCUBOOT_SLOTS_SWAP_OFFSET && slot == 1) ? 1u : 0u;
}

/* Entries of the image table, learned ones included. */
static uint32_t n_img(const struct mcuboot_slots *s)
{
    return s->cfg->learn != NULL ? s->cfg->learn->n : s->cfg->n_images;
}

static const struct mcuboot_image *img_of(const struct mcuboot_slots *s, int i)
{
    return &s->cfg->images[i].img;
}

static int lowest(uint16_t mask)
{
    for (int i = 0; i < 16; i++)
        if (mask & (1u << i))
            return i;
    return MCUBOOT_SLOTS_NONE;
}

static int64_t app_ns(const struct mcuboot_slots *s, int area, int64_t ns)
{
    return flash_chip_app_ns(&s->cfg->geom.chip[area], ns, s->ble_active);
}

/* Application-side erases then writes on area's chip: in radio timeslots when the chip
 * needs them and a link is up, else at once (times the chip's BLE slowdown). */
static int64_t flash_ns(const struct mcuboot_slots *s, int area, int64_t erase_ns, int64_t write_ns)
{
    const struct flash_chip *c = &s->cfg->geom.chip[area];
    if (s->ble_active && s->radio != NULL && c->sync_write_window_ns > 0)
        return s->radio->flash_ns(s->radio->env, c, erase_ns, write_ns);
    return app_ns(s, area, erase_ns + write_ns);
}

static int64_t hash_ns(const struct mcuboot_slots *s, uint64_t bytes)
{
    uint32_t rate = s->cfg->hash_rate;
    return rate ? (int64_t)(bytes * 1000000000ull / rate) : 0;
}

/* Boot validation of n images of `bytes` bytes in all: the formula of explain. */
static int64_t validation_ns(const struct mcuboot_slots *s, uint64_t bytes, uint32_t n)
{
    return mcuboot_explain_validation_ns((double)s->cfg->hash_rate, s->cfg->t_sig, bytes, n);
}

static void drop_pending(struct mcuboot_slots *s, int slot)
{
    struct mcuboot_slots_pending *p = s->pending[slot];
    if (p == NULL)
        return;
    for (uint32_t k = 0; k < p->n_pages; k++)
        free(p->page[k]);
    free(p);
    s->pending[slot] = NULL;
}

static void reset_upload(struct mcuboot_slots *s, int slot)
{
    memset(&s->up[slot], 0, sizeof(s->up[slot]));
    drop_pending(s, slot);
}

static bool trailer_is_erased(const struct mcuboot_trailer *t)
{
    struct mcuboot_trailer e;
    mcuboot_trailer_erase(&e);
    return memcmp(t, &e, sizeof(e)) == 0;
}

/* Wear: counters out of the table's range are not counted (a mapping mistake of the
 * caller; mcuboot_slots_boot reports it through the swap engine). */
static void wear_erase(const struct mcuboot_slots *s, int area, uint32_t first, uint32_t n)
{
    if (s->wear != NULL && n > 0)
        (void)flash_wear_erase(s->wear, s->wear_dev, s->wear_base[area] + first, n);
}

static void wear_write(const struct mcuboot_slots *s, int area, uint32_t first, uint32_t n)
{
    if (s->wear != NULL && n > 0)
        (void)flash_wear_write(s->wear, s->wear_dev, s->wear_base[area] + first, n);
}

/* Erase sectors [first, first + n) of an area: tags, the trailer when its sectors are hit,
 * wear. Returns the bare erase time. */
static int64_t erase_sectors(struct mcuboot_slots *s, int area, uint32_t first, uint32_t n)
{
    uint32_t total = n_sec(s, area);
    if (first >= total)
        return 0;
    if (n > total - first)
        n = total - first;
    for (uint32_t k = first; k < first + n; k++)
        s->sector[area][k] = MCUBOOT_SWAP_ERASED;
    if (first + n + s->cfg->geom.trailer_sectors > total)
        mcuboot_trailer_erase(&s->trailer[area]);
    wear_erase(s, area, first, n);
    return flash_chip_erase_ns(&s->cfg->geom.chip[area], n);
}

/* First sector holding the trailer info (magic, flags, swap_size): what img_mgmt erases
 * with the first chunk (img_mgmt_erase_image_data(), boot_get_trailer_status_offset()). */
static uint32_t trailer_first_sector(const struct mcuboot_slots *s, int area)
{
    uint32_t bytes = n_sec(s, area) * sec_size(s);
    uint32_t info = mcuboot_trailer_info_size(&s->cfg->geom.trailer);
    return (bytes - info) / sec_size(s);
}

/* ---- What the slot holds ------------------------------------------------------------ */

/* Table images in `mask` whose bytes [off, off + n) equal p. */
static uint16_t match(const struct mcuboot_slots *s, uint16_t mask, uint32_t off, const uint8_t *p,
                      size_t n)
{
    uint8_t buf[512];
    for (int i = 0; i < (int)n_img(s); i++) {
        if (!(mask & (1u << i)))
            continue;
        const struct mcuboot_slots_image *e = &s->cfg->images[i];
        bool same = (uint64_t)off + n <= e->img.file_size;
        if (same && e->file != NULL) /* the file is in memory: compared in place */
            same = memcmp(e->file + off, p, n) == 0;
        for (size_t done = 0; same && e->file == NULL && done < n;) {
            size_t k = n - done < sizeof(buf) ? n - done : sizeof(buf);
            same = mcuboot_image_bytes(&e->img, NULL, off + (uint32_t)done, buf, k) == 0 &&
                   memcmp(buf, p + done, k) == 0;
            done += k;
        }
        if (!same)
            mask &= (uint16_t) ~(1u << i);
    }
    return mask;
}

/* Tag every sector wholly inside the good prefix with the lowest candidate (after the
 * candidates changed). */
static void retag_prefix(struct mcuboot_slots *s, int slot)
{
    const struct mcuboot_slots_upload *u = &s->up[slot];
    int area = area_of(slot), x = lowest(u->cand);
    uint32_t base = up_base(s, slot), ss = sec_size(s);
    if (x == MCUBOOT_SLOTS_NONE)
        return;
    uint32_t size = img_of(s, x)->total_size;
    for (uint32_t k = 0; (uint64_t)k * ss < size && base + k < n_sec(s, area); k++) {
        uint64_t end = (uint64_t)(k + 1) * ss < size ? (uint64_t)(k + 1) * ss : size;
        if (u->good < end)
            break;
        s->sector[area][base + k] = mcuboot_swap_tag((uint32_t)x + 1, k);
    }
}

/* Sectors touched by a write that continues the upload at hwm: each is compared with the
 * header's image x on its own, so a foreign chunk spoils only the sectors it touches
 * (frontier_ok carries a partly written sector over to the next write). */
static void tag_written(struct mcuboot_slots *s, int slot, uint32_t off, const uint8_t *p, size_t n)
{
    struct mcuboot_slots_upload *u = &s->up[slot];
    int area = area_of(slot), x = lowest(u->cand);
    uint32_t base = up_base(s, slot), ss = sec_size(s), stop = off + (uint32_t)n;
    for (uint32_t k = off / ss; k <= (stop - 1) / ss && base + k < n_sec(s, area); k++) {
        uint32_t s0 = k * ss > off ? k * ss : off;
        uint32_t s1 = (k + 1) * ss < stop ? (k + 1) * ss : stop;
        bool ok = x != MCUBOOT_SLOTS_NONE &&
                  (s1 <= u->good || match(s, (uint16_t)(1u << x), s0, p + (s0 - off), s1 - s0));
        if (s0 > k * ss)
            ok = ok && u->frontier_ok;
        u->frontier_ok = ok;
        mcuboot_swap_tag_t tag = MCUBOOT_SWAP_GARBAGE;
        if (ok) {
            uint32_t size = img_of(s, x)->total_size;
            uint64_t end = (uint64_t)(k + 1) * ss < size ? (uint64_t)(k + 1) * ss : size;
            if ((uint64_t)k * ss < size && stop >= end)
                tag = mcuboot_swap_tag((uint32_t)x + 1, k);
        }
        s->sector[area][base + k] = tag;
    }
}

/* Mark the sectors of [off, off + n) as garbage (a rewrite or a write after a gap). */
static void spoil(struct mcuboot_slots *s, int slot, uint32_t off, size_t n)
{
    int area = area_of(slot);
    uint32_t base = up_base(s, slot), ss = sec_size(s);
    uint32_t k1 = (uint32_t)(((uint64_t)off + n - 1) / ss);
    for (uint32_t k = off / ss; k <= k1 && base + k < n_sec(s, area); k++)
        s->sector[area][base + k] = MCUBOOT_SWAP_GARBAGE;
    s->up[slot].frontier_ok = false;
}

/* ---- Uploads of images the table does not hold (mcuboot_slots_learner) ---------------- */

/* Bytes [off, off + n) of an upload being learned: its pages, else its base image, else
 * erased flash. */
static void pending_read(const struct mcuboot_slots *s, int slot, uint32_t off, uint8_t *buf,
                         size_t n)
{
    const struct mcuboot_slots_pending *p = s->pending[slot];
    while (n > 0) {
        uint32_t k = off / MCUBOOT_SLOTS_PAGE, in = off % MCUBOOT_SLOTS_PAGE;
        size_t m = MCUBOOT_SLOTS_PAGE - in < n ? MCUBOOT_SLOTS_PAGE - in : n;
        if (p->page[k] != NULL) {
            memcpy(buf, p->page[k] + in, m);
        } else {
            memset(buf, 0xff, m);
            if (p->base != MCUBOOT_SLOTS_NONE) {
                const struct mcuboot_slots_image *e = &s->cfg->images[p->base];
                uint32_t size = e->img.file_size;
                if (off < size)
                    (void)mcuboot_image_bytes(&e->img, e->file, off, buf,
                                              size - off < m ? size - off : m);
            }
        }
        off += (uint32_t)m;
        buf += m;
        n -= m;
    }
}

/* Keep the bytes of a write at the upload's end: a page gets its own copy the first time
 * they differ from what the base gives there. Returns 0 or SIM_ENOMEM. */
static int pending_write(struct mcuboot_slots *s, int slot, uint32_t off, const uint8_t *src,
                         size_t n)
{
    struct mcuboot_slots_pending *p = s->pending[slot];
    uint8_t was[MCUBOOT_SLOTS_PAGE];
    /* Two builds differ in their header, so the first chunk rarely names the base: the first
     * table image a later write equals at its offset becomes it (the pages written so far
     * are all kept, so none depends on the base). */
    if (p->base == MCUBOOT_SLOTS_NONE)
        p->base = lowest(match(s, (uint16_t)((1u << n_img(s)) - 1u), off, src, n));
    while (n > 0) {
        uint32_t k = off / MCUBOOT_SLOTS_PAGE, in = off % MCUBOOT_SLOTS_PAGE;
        size_t m = MCUBOOT_SLOTS_PAGE - in < n ? MCUBOOT_SLOTS_PAGE - in : n;
        if (p->page[k] == NULL) {
            pending_read(s, slot, k * MCUBOOT_SLOTS_PAGE, was, MCUBOOT_SLOTS_PAGE);
            if (memcmp(was + in, src, m) != 0) {
                if ((p->page[k] = malloc(MCUBOOT_SLOTS_PAGE)) == NULL)
                    return SIM_ENOMEM;
                memcpy(p->page[k], was, MCUBOOT_SLOTS_PAGE);
            }
        }
        if (p->page[k] != NULL)
            memcpy(p->page[k] + in, src, m);
        off += (uint32_t)m;
        src += m;
        n -= m;
    }
    return 0;
}

/* Start keeping the upload of slot, which so far equals table image base (or nothing yet). */
static int pending_start(struct mcuboot_slots *s, int slot, int base)
{
    uint64_t bytes = (uint64_t)n_sec(s, area_of(slot)) * sec_size(s);
    uint32_t n = div_up(bytes, MCUBOOT_SLOTS_PAGE);
    struct mcuboot_slots_pending *p = calloc(1, sizeof(*p) + n * sizeof(p->page[0]));
    if (p == NULL)
        return SIM_ENOMEM;
    p->base = base;
    p->n_pages = n;
    s->pending[slot] = p;
    return 0;
}

/* The table entry with these bytes, added (learned) if none has them yet; NONE when the
 * table is full. Takes bytes (freed unless the table keeps them). */
static int learn_entry(struct mcuboot_slots *s, uint8_t *bytes, const struct mcuboot_image *im)
{
    struct mcuboot_slots_learner *l = s->cfg->learn;
    for (uint32_t i = 0; i < l->n; i++) {
        const struct mcuboot_image *t = &l->images[i].img;
        if (t->file_size == im->file_size &&
            memcmp(t->file_sha, im->file_sha, sizeof(t->file_sha)) == 0) {
            free(bytes);
            return (int)i;
        }
    }
    if (l->n >= l->cap || l->n >= MCUBOOT_SLOTS_MAX_IMAGES) {
        free(bytes);
        return MCUBOOT_SLOTS_NONE;
    }
    uint32_t x = l->n;
    struct mcuboot_slots_image *e = &l->images[x];
    memset(e, 0, sizeof(*e));
    e->img = *im;
    e->file = bytes;
    e->learned = true;
    /* direct-xip: a ROM_FIXED build names the slot address it was linked for. */
    e->linked_slot = (im->hdr.flags & MCUBOOT_IMAGE_F_ROM_FIXED) &&
                     im->hdr.load_addr == s->cfg->map.secondary.off;
    l->owned[x] = bytes;
    char why[MCUBOOT_IMG_REASON_SIZE];
    if (l->judge != NULL && !l->judge(l->env, e, why, sizeof(why)) &&
        mcuboot_slots_learner_refuse(l, x, why) != 0) {
        l->owned[x] = NULL;
        free(bytes);
        return MCUBOOT_SLOTS_NONE; /* no memory for the reason: not learned */
    }
    l->n++;
    return (int)x;
}

/* The last chunk of an upload being learned was written: if [0, hwm) is an MCUboot image,
 * the slot holds that table image from now on; otherwise its bytes stay garbage. */
static int learn_upload(struct mcuboot_slots *s, int slot)
{
    struct mcuboot_slots_upload *u = &s->up[slot];
    uint8_t *bytes = malloc(u->hwm);
    if (bytes == NULL)
        return SIM_ENOMEM;
    pending_read(s, slot, 0, bytes, u->hwm);
    drop_pending(s, slot);
    struct mcuboot_image im;
    struct sim_diag why;
    sim_diag_init(&why);
    if (mcuboot_image_parse(bytes, u->hwm, "upload", &im, &why) != 0) {
        free(bytes);
        return 0;
    }
    int x = learn_entry(s, bytes, &im);
    if (x == MCUBOOT_SLOTS_NONE)
        return 0;
    u->cand = (uint16_t)(1u << x);
    u->good = u->hwm;
    u->frontier_ok = true;
    retag_prefix(s, slot);
    return 0;
}

/* Record the write of p at image offset off into the cursor and the tags. */
static int apply_write(struct mcuboot_slots *s, int slot, uint32_t off, const uint8_t *p, size_t n)
{
    struct mcuboot_slots_upload *u = &s->up[slot];
    int rc = 0;
    if (off != u->hwm)
        drop_pending(s, slot); /* a rewrite or a gap: no image any more */
    if (off < u->hwm) {
        /* Programming programmed bytes (NOR: AND) changes nothing only when they are the
         * bytes already there; the candidates agree on [0, good). */
        if ((uint64_t)off + n <= u->good && match(s, u->cand, off, p, n) != 0)
            return 0;
        if (u->good > off)
            u->good = off;
        spoil(s, slot, off, n);
    } else if (off > u->hwm) {
        spoil(s, slot, off, n); /* erased bytes before it: not the image */
    } else {
        int old = lowest(u->cand);
        bool on_track = u->good == u->hwm;
        if (on_track) { /* the good prefix goes on: narrow the candidates */
            uint16_t all = (uint16_t)((1u << n_img(s)) - 1u);
            uint16_t c = match(s, u->hwm == 0 ? all : u->cand, off, p, n);
            if (c != 0) {
                u->cand = c;
                u->good = off + (uint32_t)n;
            }
        }
        if (lowest(u->cand) != old)
            retag_prefix(s, slot);
        tag_written(s, slot, off, p, n);
        /* Bytes of no table image: keep them when learning (the first such write starts). */
        if (s->cfg->learn != NULL && s->pending[slot] == NULL && on_track &&
            u->good != off + (uint32_t)n)
            rc = pending_start(s, slot, u->hwm == 0 ? MCUBOOT_SLOTS_NONE : lowest(u->cand));
        if (rc == 0 && s->pending[slot] != NULL)
            rc = pending_write(s, slot, off, p, n);
    }
    if ((uint64_t)off + n > u->hwm)
        u->hwm = off + (uint32_t)n;
    return rc;
}

/* Table image whose header is at sector base of the slot: 0, NO_IMAGE (erased) or
 * INVALID_IMAGE_HEADER_MAGIC (bytes of no table image). */
static int header_at(const struct mcuboot_slots *s, int slot, uint32_t base, int *x)
{
    const struct mcuboot_slots_upload *u = &s->up[slot];
    if (base == up_base(s, slot) && u->hwm > 0) {
        if (u->cand == 0 || u->good < MCUBOOT_IMAGE_HEADER_SIZE)
            return SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER_MAGIC;
        *x = lowest(u->cand);
        return 0;
    }
    mcuboot_swap_tag_t tag = s->sector[area_of(slot)][base];
    if (tag == MCUBOOT_SWAP_ERASED)
        return SMP_IMG_SLOTS_ERR_NO_IMAGE;
    uint32_t id = mcuboot_swap_tag_image0(tag);
    if (id == 0 || id > n_img(s))
        return SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER_MAGIC;
    *x = (int)id - 1;
    return 0;
}

/* Bytes [a, b) of table image x, placed at sector base of the slot, are there unbroken. */
static bool holds(const struct mcuboot_slots *s, int slot, uint32_t base, int x, uint32_t a,
                  uint32_t b)
{
    const struct mcuboot_slots_upload *u = &s->up[slot];
    if (b <= a)
        return true;
    if (base == up_base(s, slot) && u->hwm > 0 && (u->cand & (1u << x)) && b <= u->good)
        return true;
    int area = area_of(slot);
    for (uint32_t k = a / sec_size(s); k <= (b - 1) / sec_size(s); k++)
        if (base + k >= n_sec(s, area) ||
            s->sector[area][base + k] != mcuboot_swap_tag((uint32_t)x + 1, k))
            return false;
    return true;
}

/* The image at sector base is intact: header owner and every byte of it. */
static int intact_at(const struct mcuboot_slots *s, int slot, uint32_t base)
{
    int x = MCUBOOT_SLOTS_NONE;
    if (header_at(s, slot, base, &x) != 0)
        return MCUBOOT_SLOTS_NONE;
    return holds(s, slot, base, x, 0, img_of(s, x)->total_size) ? x : MCUBOOT_SLOTS_NONE;
}

int mcuboot_slots_image_in(const struct mcuboot_slots *s, int slot)
{
    if (!slot_ok(slot))
        return MCUBOOT_SLOTS_NONE;
    int x = intact_at(s, slot, up_base(s, slot));
    return (x == MCUBOOT_SLOTS_NONE && up_base(s, slot) != 0) ? intact_at(s, slot, 0) : x;
}

/* ---- The interface ------------------------------------------------------------------ */

static int op_read_info(void *env, int slot, struct smp_img_slots_info *out)
{
    struct mcuboot_slots *s = env;
    s->last_ns = 0;
    if (!slot_ok(slot))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    uint32_t base = up_base(s, slot);
    int x = MCUBOOT_SLOTS_NONE;
    int rc = header_at(s, slot, base, &x);
    if (rc == SMP_IMG_SLOTS_ERR_NO_IMAGE && base != 0) {
        /* swap-offset: after a swap the previous image sits at secondary sector 0. */
        base = 0;
        rc = header_at(s, slot, base, &x);
    }
    if (rc != 0)
        return rc;
    const struct mcuboot_image *im = img_of(s, x);
    if (!holds(s, slot, base, x, (uint32_t)im->hdr.hdr_size + im->hdr.img_size,
               im->tlv_off + im->tlv_size))
        return SMP_IMG_SLOTS_ERR_NO_TLVS;
    out->ver.major = im->hdr.version.major;
    out->ver.minor = im->hdr.version.minor;
    out->ver.revision = im->hdr.version.revision;
    out->ver.build = im->hdr.version.build;
    out->flags = im->hdr.flags;
    memcpy(out->hash, im->hash, SMP_IMG_SLOTS_HASH_LEN);
    return 0;
}

static int op_active_slot(void *env, int image)
{
    struct mcuboot_slots *s = env;
    return image == 0 ? s->active : MCUBOOT_SLOTS_NONE;
}

static int op_swap_type(void *env, int image)
{
    struct mcuboot_slots *s = env;
    s->last_ns = 0;
    if (image != 0)
        return SMP_IMG_SLOTS_SWAP_FAIL;
    if (!copying(s->cfg))
        return SMP_IMG_SLOTS_SWAP_NONE;
    struct mcuboot_trailer_swap_state ps, ss;
    mcuboot_trailer_state(&s->trailer[P], &ps);
    mcuboot_trailer_state(&s->trailer[S], &ss);
    enum mcuboot_trailer_swap t =
        mcuboot_trailer_swap_type(&ps, &ss, s->cfg->mode == MCUBOOT_SLOTS_SWAP_OFFSET);
    /* BOOT_SWAP_TYPE_* and SMP_IMG_SLOTS_SWAP_* share their values 1..5. */
    return t == MCUBOOT_TRAILER_SWAP_PANIC ? SMP_IMG_SLOTS_SWAP_FAIL : (int)t;
}

static int op_xip_state(void *env, int slot)
{
    struct mcuboot_slots *s = env;
    if (!slot_ok(slot))
        return -1;
    struct mcuboot_trailer_swap_state st;
    mcuboot_trailer_state(&s->trailer[area_of(slot)], &st);
    if (st.magic != MCUBOOT_TRAILER_MAGIC_GOOD)
        return SMP_IMG_SLOTS_XIP_UNSET;
    if (st.image_ok == MCUBOOT_TRAILER_FLAG_SET)
        return SMP_IMG_SLOTS_XIP_FOREVER;
    if (st.copy_done == MCUBOOT_TRAILER_FLAG_SET)
        return SMP_IMG_SLOTS_XIP_REVERT;
    return SMP_IMG_SLOTS_XIP_ONCE;
}

static uint32_t op_slot_size(void *env, int slot)
{
    struct mcuboot_slots *s = env;
    return slot_ok(slot) ? n_sec(s, area_of(slot)) * sec_size(s) : 0;
}

static uint32_t op_slot_addr(void *env, int slot)
{
    struct mcuboot_slots *s = env;
    if (!slot_ok(slot))
        return 0;
    return slot == 0 ? s->cfg->map.primary.off : s->cfg->map.secondary.off;
}

static int op_is_empty(void *env, int slot, bool *empty)
{
    struct mcuboot_slots *s = env;
    s->last_ns = 0;
    if (!slot_ok(slot))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    int area = area_of(slot);
    uint32_t n = n_sec(s, area), k = 0;
    /* img_mgmt_flash_check_empty() reads until the first byte that is not erased. */
    while (k < n && s->sector[area][k] == MCUBOOT_SWAP_ERASED)
        k++;
    *empty = k == n && trailer_is_erased(&s->trailer[area]);
    uint64_t bytes = (uint64_t)(k < n ? k + 1 : n) * sec_size(s);
    s->last_ns = app_ns(s, area, flash_chip_read_ns(&s->cfg->geom.chip[area], bytes));
    return 0;
}

static int op_erase_slot(void *env, int slot)
{
    struct mcuboot_slots *s = env;
    s->last_ns = 0;
    if (!slot_ok(slot))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    int area = area_of(slot);
    s->last_ns = flash_ns(s, area, erase_sectors(s, area, 0, n_sec(s, area)), 0);
    reset_upload(s, slot);
    return 0;
}

static int op_erase_upload(void *env, int slot, uint32_t size)
{
    struct mcuboot_slots *s = env;
    s->last_ns = 0;
    if (!slot_ok(slot))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    int area = area_of(slot);
    uint32_t base = up_base(s, slot), ss = sec_size(s);
    if (size == 0 || (uint64_t)base * ss + size > (uint64_t)n_sec(s, area) * ss)
        return SMP_IMG_SLOTS_ERR_INVALID_PAGE_OFFSET;
    uint32_t n = div_up(size, ss), t0 = trailer_first_sector(s, area);
    int64_t ns = erase_sectors(s, area, base, n);
    if (t0 >= base + n)
        ns += erase_sectors(s, area, t0, n_sec(s, area) - t0);
    reset_upload(s, slot);
    s->last_ns = flash_ns(s, area, ns, 0);
    return 0;
}

/* CONFIG_IMG_ERASE_PROGRESSIVELY: stream_flash erases each page the first time a write
 * enters it (stream_flash_erase_page()); a new upload (off 0) starts a new stream. */
static int64_t erase_ahead(struct mcuboot_slots *s, int slot, uint32_t off, size_t n)
{
    struct mcuboot_slots_upload *u = &s->up[slot];
    uint32_t ss = sec_size(s), base = up_base(s, slot);
    int64_t ns = 0;
    if (off == 0)
        u->erased_to = 0;
    uint32_t k1 = (uint32_t)(((uint64_t)off + n - 1) / ss);
    for (uint32_t k = u->erased_to / ss; k <= k1; k++) {
        if ((uint64_t)(k + 1) * ss <= off)
            continue; /* a page below the write, skipped by the stream */
        ns += erase_sectors(s, area_of(slot), base + k, 1);
        uint32_t lo = k * ss;
        if (u->hwm > lo)
            u->hwm = lo;
        if (u->good > lo)
            u->good = lo;
        if (u->hwm == 0) {
            u->cand = 0;
            drop_pending(s, slot);
        }
        u->erased_to = (k + 1) * ss;
    }
    return ns;
}

static int op_write(void *env, int slot, uint32_t off, const uint8_t *p, size_t n, bool last)
{
    struct mcuboot_slots *s = env;
    s->last_ns = 0;
    if (!slot_ok(slot))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    int area = area_of(slot);
    uint32_t base = up_base(s, slot), ss = sec_size(s);
    if ((uint64_t)base * ss + off + n > (uint64_t)n_sec(s, area) * ss)
        return SMP_IMG_SLOTS_ERR_FLASH_WRITE_FAILED;
    if (n == 0)
        return 0;
    int64_t erase = 0;
    if (s->cfg->erase_progressively)
        erase += erase_ahead(s, slot, off, n);
    int rc = apply_write(s, slot, off, p, n);
    if (rc == 0 && last && s->pending[slot] != NULL)
        rc = learn_upload(s, slot);
    if (rc != 0)
        return rc == SIM_ENOMEM ? SMP_IMG_SLOTS_ERR_NO_FREE_MEMORY : SMP_IMG_SLOTS_ERR_UNKNOWN;
    uint32_t k0 = base + off / ss, k1 = base + (uint32_t)(((uint64_t)off + n - 1) / ss);
    wear_write(s, area, k0, k1 - k0 + 1);
    int64_t write = flash_chip_write_ns(&s->cfg->geom.chip[area], n);
    uint32_t t0 = trailer_first_sector(s, area);
    if (last && s->cfg->erase_progressively && t0 >= base + s->up[slot].erased_to / ss)
        erase += erase_sectors(s, area, t0, n_sec(s, area) - t0); /* "erase the trailer" */
    s->last_ns = flash_ns(s, area, erase, write);
    return 0;
}

/* SHA-256 of bytes [0, len) of table image x. */
static int image_sha(const struct mcuboot_slots *s, int x, uint32_t len, uint8_t out[32])
{
    const struct mcuboot_slots_image *e = &s->cfg->images[x];
    if (len == e->img.file_size) {
        memcpy(out, e->img.file_sha, 32); /* computed once, shared */
        return 0;
    }
    uint8_t buf[4096];
    unsigned int got = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (uint32_t off = 0; ok && off < len;) {
        uint32_t k = len - off < sizeof(buf) ? len - off : (uint32_t)sizeof(buf);
        ok = mcuboot_image_bytes(&e->img, e->file, off, buf, k) == 0 &&
             EVP_DigestUpdate(ctx, buf, k) == 1;
        off += k;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, out, &got) == 1 && got == 32;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : SIM_EINTERNAL;
}

static int op_check_sha(void *env, int slot, uint32_t len,
                        const uint8_t sha[SMP_IMG_SLOTS_HASH_LEN])
{
    struct mcuboot_slots *s = env;
    s->last_ns = 0;
    if (!slot_ok(slot))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    int area = area_of(slot);
    uint32_t base = up_base(s, slot);
    if ((uint64_t)base * sec_size(s) + len > (uint64_t)n_sec(s, area) * sec_size(s))
        return 1;
    /* flash_img_check() reads and hashes len bytes whatever they hold. */
    s->last_ns =
        app_ns(s, area, flash_chip_read_ns(&s->cfg->geom.chip[area], len)) + hash_ns(s, len);
    for (int x = 0; x < (int)n_img(s); x++) {
        if (len > img_of(s, x)->file_size || !holds(s, slot, base, x, 0, len))
            continue;
        uint8_t got[32];
        if (image_sha(s, x, len, got) != 0)
            return 1;
        return memcmp(got, sha, 32) == 0 ? 0 : 1;
    }
    return 1; /* erased or mixed bytes: not the SHA-256 of any image a client holds */
}

/* The trailer writes of a state change: time and wear (one write on the last sector). */
static int64_t trailer_writes(struct mcuboot_slots *s, int area,
                              const struct mcuboot_trailer_write *w, size_t n)
{
    int64_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        ns += flash_chip_write_ns(&s->cfg->geom.chip[area], w[i].len);
        wear_write(s, area, n_sec(s, area) - 1, 1);
    }
    return ns;
}

static int op_set_next(void *env, int slot, bool active, bool confirm)
{
    struct mcuboot_slots *s = env;
    s->last_ns = 0;
    if (!slot_ok(slot))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    int area = area_of(slot);
    const struct mcuboot_trailer_geom *g = &s->cfg->geom.trailer;
    struct mcuboot_trailer_write w[3];
    size_t n_w = 0;
    int64_t erase_ns = 0;
    int rc;
    if (active && confirm) {
        rc = mcuboot_trailer_set_confirmed(g, &s->trailer[area], w, &n_w);
    } else {
        bool erase = false;
        rc = mcuboot_trailer_set_pending(g, &s->trailer[area], confirm, w, &n_w, &erase);
        if (erase) { /* boot_set_next(): a corrupt trailer -> erase the whole slot */
            erase_ns += erase_sectors(s, area, 0, n_sec(s, area));
            reset_upload(s, slot);
        }
    }
    s->last_ns = flash_ns(s, area, erase_ns, trailer_writes(s, area, w, n_w));
    return rc == 0 ? 0 : SMP_IMG_SLOTS_ERR_FLASH_WRITE_FAILED;
}

static const struct smp_img_slots_ops ops = {
    .read_info = op_read_info,
    .active_slot = op_active_slot,
    .swap_type = op_swap_type,
    .xip_state = op_xip_state,
    .slot_size = op_slot_size,
    .slot_addr = op_slot_addr,
    .is_empty = op_is_empty,
    .erase_slot = op_erase_slot,
    .erase_upload = op_erase_upload,
    .write = op_write,
    .check_sha = op_check_sha,
    .set_next = op_set_next,
};

struct smp_img_slots mcuboot_slots_bind(struct mcuboot_slots *s)
{
    return (struct smp_img_slots){.ops = &ops, .env = s};
}

/* ---- Set-up ------------------------------------------------------------------------- */

int mcuboot_slots_learner_refuse(struct mcuboot_slots_learner *l, uint32_t x, const char *why)
{
    if (x >= MCUBOOT_SWAP_MAX_IMAGES)
        return SIM_EINVAL;
    char *copy = strdup(why);
    if (copy == NULL)
        return SIM_ENOMEM;
    free(l->refusal[x]);
    l->refusal[x] = copy;
    return 0;
}

void mcuboot_slots_learner_fini(struct mcuboot_slots_learner *l)
{
    for (uint32_t i = 0; l != NULL && i < MCUBOOT_SWAP_MAX_IMAGES; i++) {
        free(l->owned[i]);
        free(l->refusal[i]);
        l->owned[i] = NULL;
        l->refusal[i] = NULL;
    }
}

int mcuboot_slots_cfg_init(struct mcuboot_slots_cfg *c, enum mcuboot_slots_mode mode,
                           const struct flash_map *map, const struct mcuboot_slots_image *images,
                           uint32_t n_images, struct sim_diag *d)
{
    struct flash_chip cp, cs, cx;
    memset(c, 0, sizeof(*c));
    if ((unsigned)mode >= MCUBOOT_SLOTS_MODE_COUNT || map == NULL) {
        sim_diag_add(d, "slots: unknown bootloader mode %d or no flash map", (int)mode);
        return SIM_EINVAL;
    }
    if (n_images > MCUBOOT_SLOTS_MAX_IMAGES || (n_images > 0 && images == NULL)) {
        sim_diag_add(d, "slots: %u images; at most %u fit the sector model", n_images,
                     MCUBOOT_SLOTS_MAX_IMAGES);
        return SIM_ERANGE;
    }
    for (uint32_t i = 0; i < n_images; i++) {
        if ((!images[i].img.synthetic && images[i].file == NULL) || images[i].linked_slot > 1) {
            sim_diag_add(d,
                         "slots: image %u has no bytes (real image without its file) or "
                         "a linked slot other than 0 or 1",
                         i);
            return SIM_EINVAL;
        }
    }
    bool scratch = mode == MCUBOOT_SLOTS_SWAP_SCRATCH;
    if (flash_chip_profile(map->primary.chip, &cp) != 0 ||
        flash_chip_profile(map->secondary.chip, &cs) != 0 ||
        (scratch && flash_chip_profile(map->scratch.chip, &cx) != 0)) {
        sim_diag_add(d, "slots: %s: unknown flash chip in the map", map->board);
        return SIM_EINVAL;
    }
    /* The non-copying modes keep the swap-scratch trailer layout (no status is used). */
    enum mcuboot_swap_mode sm =
        mode < MCUBOOT_SLOTS_DIRECT_XIP ? (enum mcuboot_swap_mode)mode : MCUBOOT_SWAP_OVERWRITE;
    int rc = mcuboot_swap_geom_init(&c->geom, sm, &cp, map->primary.size, &cs, map->secondary.size,
                                    scratch ? &cx : NULL, scratch ? map->scratch.size : 0, d);
    if (rc != 0)
        return rc;
    c->map = *map;
    c->images = images;
    c->n_images = n_images;
    c->hash_rate = 1000000;
    c->t_sig = MCUBOOT_EXPLAIN_T_SIG_DEFAULT;
    c->mode = (uint8_t)mode;
    c->validate_primary = true;
    return 0;
}

int mcuboot_slots_init(struct mcuboot_slots *s, const struct mcuboot_slots_cfg *cfg,
                       struct flash_wear *wear, uint32_t wear_dev,
                       const uint32_t wear_base[MCUBOOT_SWAP_AREA_COUNT])
{
    memset(s, 0, sizeof(*s));
    if (cfg == NULL || (wear != NULL && wear_base == NULL))
        return SIM_EINVAL;
    size_t total = 0;
    for (int a = 0; a < MCUBOOT_SWAP_AREA_COUNT; a++)
        total += cfg->geom.n_sectors[a];
    mcuboot_swap_tag_t *tags = calloc(total, sizeof(*tags)); /* MCUBOOT_SWAP_ERASED is 0 */
    if (tags == NULL)
        return SIM_ENOMEM;
    s->cfg = cfg;
    s->sector[P] = tags;
    s->sector[S] = tags + cfg->geom.n_sectors[P];
    s->sector[X] = s->sector[S] + cfg->geom.n_sectors[S];
    for (int a = 0; a < MCUBOOT_SWAP_AREA_COUNT; a++) {
        mcuboot_trailer_erase(&s->trailer[a]);
        s->wear_base[a] = wear ? wear_base[a] : 0;
    }
    s->wear = wear;
    s->wear_dev = wear_dev;
    return 0;
}

void mcuboot_slots_fini(struct mcuboot_slots *s)
{
    if (s == NULL)
        return;
    drop_pending(s, 0);
    drop_pending(s, 1);
    free(s->sector[P]);
    memset(s, 0, sizeof(*s));
}

int mcuboot_slots_install(struct mcuboot_slots *s, int slot, uint32_t image, bool confirmed)
{
    if (!slot_ok(slot) || image >= n_img(s))
        return SIM_EINVAL;
    int area = area_of(slot);
    uint32_t base = up_base(s, slot), n = div_up(img_of(s, (int)image)->total_size, sec_size(s));
    if (base + n + s->cfg->geom.trailer_sectors > n_sec(s, area))
        return SIM_EINVAL;
    memset(s->sector[area], 0, n_sec(s, area) * sizeof(*s->sector[area]));
    for (uint32_t k = 0; k < n; k++)
        s->sector[area][base + k] = mcuboot_swap_tag(image + 1, k);
    mcuboot_trailer_erase(&s->trailer[area]);
    reset_upload(s, slot);
    if (!confirmed)
        return 0;
    const struct mcuboot_trailer_geom *g = &s->cfg->geom.trailer;
    if (mcuboot_trailer_write_magic(g, &s->trailer[area], NULL) != 0 ||
        mcuboot_trailer_write_image_ok(g, &s->trailer[area], NULL) != 0)
        return SIM_EINTERNAL;
    return 0;
}

/* ---- Faults ------------------------------------------------------------------------- */

int mcuboot_slots_cut_write(struct mcuboot_slots *s, int slot, uint32_t off, size_t n)
{
    if (!slot_ok(slot) || n == 0)
        return SIM_EINVAL;
    spoil(s, slot, off, n);
    struct mcuboot_slots_upload *u = &s->up[slot];
    uint32_t lo = off / sec_size(s) * sec_size(s);
    if (u->good > lo)
        u->good = lo;
    return 0;
}

int mcuboot_slots_foreign_write(struct mcuboot_slots *s, int slot, uint32_t off, size_t n)
{
    if (!slot_ok(slot) || n == 0)
        return SIM_EINVAL;
    struct mcuboot_slots_upload *u = &s->up[slot];
    uint32_t ss = sec_size(s), first = off / ss, last = (uint32_t)(((uint64_t)off + n - 1) / ss);
    bool frontier = u->frontier_ok && !(first <= u->hwm / ss && u->hwm / ss <= last);
    spoil(s, slot, off, n);
    u->frontier_ok = frontier; /* the upload's partly written sector, unless touched */
    if (u->good > first * ss)
        u->good = first * ss;
    return 0;
}

int mcuboot_slots_fail_validation(struct mcuboot_slots *s, int slot)
{
    int x = mcuboot_slots_image_in(s, slot);
    if (x == MCUBOOT_SLOTS_NONE)
        return SIM_EINVAL;
    uint32_t n = div_up(img_of(s, x)->total_size, sec_size(s));
    reset_upload(s, slot); /* the tags alone tell what the slot holds now */
    s->sector[area_of(slot)][up_base(s, slot) + n - 1] = MCUBOOT_SWAP_GARBAGE;
    return 0;
}

/* ---- Boot --------------------------------------------------------------------------- */

/* The swap engine's view of the device's flash (the tags are shared, trailers copied). */
static void flash_view(const struct mcuboot_slots *s, struct mcuboot_swap_flash *f)
{
    const struct mcuboot_slots_cfg *c = s->cfg;
    memset(f, 0, sizeof(*f));
    for (int a = 0; a < MCUBOOT_SWAP_AREA_COUNT; a++) {
        f->sector[a] = s->sector[a];
        f->trailer[a] = s->trailer[a];
        f->wear_base[a] = s->wear_base[a];
    }
    for (uint32_t i = 0; i < n_img(s); i++)
        f->img_size[i + 1] = c->images[i].img.total_size;
    f->wear = s->wear;
    f->wear_dev = s->wear_dev;
}

int mcuboot_slots_boot_plan(const struct mcuboot_slots *s, size_t *steps, int64_t *ns)
{
    *steps = 0;
    *ns = 0;
    if (!copying(s->cfg))
        return 0;
    struct mcuboot_swap_flash f;
    bool resume;
    flash_view(s, &f);
    return mcuboot_swap_boot_plan(&s->cfg->geom, &f, steps, ns, &resume);
}

static int boot_swap(struct mcuboot_slots *s, long cut_at, struct mcuboot_slots_boot_result *r,
                     struct sim_diag *d)
{
    const struct mcuboot_slots_cfg *c = s->cfg;
    struct mcuboot_swap_flash f;
    struct mcuboot_swap_result sr;
    flash_view(s, &f);
    int rc = mcuboot_swap_boot(&c->geom, &f, cut_at, &sr, d);
    for (int a = 0; a < MCUBOOT_SWAP_AREA_COUNT; a++)
        s->trailer[a] = f.trailer[a];
    if (rc != 0)
        return rc;
    /* mcuboot_swap_boot() hashes at most the secondary, once (a slot without a header
     * fails before any hash or signature check). */
    r->validated_bytes = sr.validated_bytes;
    r->validations = sr.validated_bytes > 0;
    r->image = sr.boot_image ? (int)sr.boot_image - 1 : MCUBOOT_SLOTS_NONE;
    if (c->validate_primary && r->image != MCUBOOT_SLOTS_NONE && !sr.cut) {
        r->validated_bytes += img_of(s, r->image)->total_size; /* BOOT_VALIDATE_SLOT0 */
        r->validations++;
    }
    r->slot = r->image != MCUBOOT_SLOTS_NONE && !sr.cut ? 0 : MCUBOOT_SLOTS_NONE;
    if (sr.cut)
        r->image = MCUBOOT_SLOTS_NONE;
    r->swap_type = sr.type;
    r->resumed = sr.resumed;
    r->cut = sr.cut;
    r->scrambled = sr.scrambled;
    r->runs = r->slot != MCUBOOT_SLOTS_NONE;
    r->ns = sr.ns + validation_ns(s, r->validated_bytes, r->validations);
    return 0;
}

/* Candidates mcuboot_xip_boot() validated, from the bytes it hashed: each candidate is
 * hashed whole, at most once, and sizes are > 0, so 0, one size or their sum tells the
 * count. (xip.h reports bytes only; a count field there would make this direct.) */
static uint32_t xip_validations(const uint32_t size[MCUBOOT_XIP_SLOTS], uint32_t bytes)
{
    if (bytes == 0)
        return 0;
    return size[0] != 0 && size[1] != 0 && bytes == size[0] + size[1] ? 2 : 1;
}

static void boot_xip(struct mcuboot_slots *s, struct mcuboot_slots_boot_result *r)
{
    const struct mcuboot_slots_cfg *c = s->cfg;
    struct mcuboot_xip_slot xs[MCUBOOT_XIP_SLOTS];
    struct mcuboot_xip_result xr;
    struct mcuboot_xip_config xc = {
        .revert =
            c->mode == MCUBOOT_SLOTS_DIRECT_XIP_REVERT || c->mode == MCUBOOT_SLOTS_RAM_LOAD_REVERT,
        .ram_load = c->mode >= MCUBOOT_SLOTS_RAM_LOAD,
        .use_build = c->use_build,
    };
    memset(xs, 0, sizeof(xs));
    for (int slot = 0; slot < MCUBOOT_XIP_SLOTS; slot++) {
        int x = MCUBOOT_SLOTS_NONE;
        xs[slot].trailer = s->trailer[area_of(slot)];
        if (header_at(s, slot, 0, &x) != 0)
            continue;
        const struct mcuboot_slots_image *e = &c->images[x];
        xs[slot].image = (uint32_t)x + 1;
        xs[slot].size = e->img.total_size;
        xs[slot].version = e->img.hdr.version;
        xs[slot].linked_slot = e->linked_slot;
        xs[slot].rom_fixed = (e->img.hdr.flags & MCUBOOT_IMAGE_F_ROM_FIXED) != 0;
        xs[slot].valid = holds(s, slot, 0, x, 0, e->img.total_size);
    }
    uint32_t size[MCUBOOT_XIP_SLOTS] = {xs[0].size, xs[1].size};
    mcuboot_xip_boot(&xc, xs, &xr);
    int64_t ns = 0;
    for (int slot = 0; slot < MCUBOOT_XIP_SLOTS; slot++) {
        int area = area_of(slot);
        if (xr.erased & (1u << slot))
            ns += erase_sectors(s, area, 0, n_sec(s, area));
        if (xr.copy_done & (1u << slot)) {
            struct mcuboot_trailer_write w = {0, c->geom.trailer.write_sz};
            ns += trailer_writes(s, area, &w, 1);
        }
        s->trailer[area] = xs[slot].trailer;
    }
    if (xr.slot != MCUBOOT_XIP_NO_SLOT)
        s->active = (int8_t)xr.slot;
    ns += flash_chip_read_ns(&c->geom.chip[P], xr.ram_bytes);
    r->validated_bytes = xr.validated_bytes;
    r->validations = xip_validations(size, xr.validated_bytes);
    r->ns = ns + validation_ns(s, xr.validated_bytes, r->validations);
    r->slot = xr.slot;
    r->image = xr.image ? (int)xr.image - 1 : MCUBOOT_SLOTS_NONE;
    r->erased = xr.erased;
    r->runs = xr.slot != MCUBOOT_XIP_NO_SLOT && xr.runs;
    r->swap_type = MCUBOOT_TRAILER_SWAP_NONE;
}

int mcuboot_slots_boot(struct mcuboot_slots *s, long cut_at, struct mcuboot_slots_boot_result *r,
                       struct sim_diag *d)
{
    memset(r, 0, sizeof(*r));
    r->image = r->slot = MCUBOOT_SLOTS_NONE;
    r->swap_type = MCUBOOT_TRAILER_SWAP_NONE;
    s->last_ns = 0;
    int rc = 0;
    if (copying(s->cfg))
        rc = boot_swap(s, cut_at, r, d);
    else
        boot_xip(s, r);
    /* RAM is lost at reset; what the flash holds is in the tags now. */
    reset_upload(s, 0);
    reset_upload(s, 1);
    s->last_ns = r->ns;
    return rc;
}

/* ---- settings ------------------------------------------------------------------------- */

const char *const mcuboot_slots_mode_names[] = {
    "overwrite-only", "swap-scratch",      "swap-move", "swap-offset",
    "direct-xip",     "direct-xip-revert", "ram-load",  NULL};

static const struct scenario_field mcuboot_fields[] = {
    {.key = "hash_rate",
     .type = SCENARIO_T_SIZE,
     .unit = "per second",
     SCENARIO_AT(struct mcuboot_timing_settings, hash_rate),
     .def = "1000000B",
     .min = "1B",
     .max = "1024MiB",
     .doc = "bytes MCUboot hashes per second while validating an image (SHA-256 over "
            "flash; no published figure for these chips, plausible 0.5-2 MB/s)",
     .unverified = true},
    {.key = "sig_time",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct mcuboot_timing_settings, sig_time),
     .def = "100ms",
     .min = "0s",
     .max = "10s",
     .doc = "one signature check per image validated (ECDSA P-256 on a Cortex-M; "
            "plausible 10-300 ms by crypto backend)",
     .unverified = true},
    {.key = "validate_slot0",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct mcuboot_timing_settings, validate_slot0),
     .def = "true",
     .doc = "validate the primary slot's image on every boot (CONFIG_BOOT_VALIDATE_SLOT0): its "
            "hash and signature time at each boot",
     .source = "mcu-tools/mcuboot: boot/zephyr/Kconfig (BOOT_VALIDATE_SLOT0, default y)"},
    {.key = "kconfig",
     .type = SCENARIO_T_STRING,
     SCENARIO_AT(struct mcuboot_timing_settings, kconfig),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct mcuboot_timing_settings, kconfig_at),
     .doc = "MCUboot's own .config (a sysbuild build's mcuboot/zephyr/.config): sets the "
            "group's bootloader and validate_slot0 unless given (docs/model.md \"Kconfig "
            "input\"); a path relative to the scenario's folder"},
};

const struct scenario_schema mcuboot_timing_settings_schema = SCENARIO_SCHEMA_GIVEN(
    "bootloader timing", struct mcuboot_timing_settings, mcuboot_fields, given);

void mcuboot_slots_cfg_apply_timing(struct mcuboot_slots_cfg *c,
                                    const struct mcuboot_timing_settings *s)
{
    c->hash_rate = (uint32_t)s->hash_rate; /* at most 1024MiB/s: fits */
    c->t_sig = s->sig_time;
    c->validate_primary = s->validate_slot0;
}
