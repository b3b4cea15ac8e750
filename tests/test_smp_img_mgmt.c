/* tests/test_smp_img_mgmt.c - image group: upload decision table, state read/write,
 * erase, hooks, Direct-XIP, against the in-memory slots of models/smp/img_slots.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "models/smp/img_mgmt.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define SLOT_SIZE 8192u
#define PAGE_SIZE 1024u

/* ---- MCUboot image builder (header + body + TLV area with the SHA256 TLV) -------- */

struct image {
    uint8_t bytes[4096];
    size_t len;
    uint8_t hash[32];     /* image hash TLV: SHA-256 of header + body */
    uint8_t file_sha[32]; /* SHA-256 of the whole file: the upload "sha" */
};

static void sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    unsigned int len = 0;
    assert_true(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) && len == 32);
}

static void put_le(uint8_t *p, uint32_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void build_image(struct image *img, uint8_t major, uint8_t minor, uint16_t rev,
                        uint32_t build, size_t body, uint32_t flags, uint32_t load_addr,
                        uint8_t seed)
{
    memset(img, 0, sizeof(*img));
    uint8_t *p = img->bytes;
    put_le(p, SMP_IMG_SLOTS_MAGIC, 4);
    put_le(p + 4, load_addr, 4);
    put_le(p + 8, 32, 2);
    put_le(p + 10, 0, 2);
    put_le(p + 12, (uint32_t)body, 4);
    put_le(p + 16, flags, 4);
    p[20] = major;
    p[21] = minor;
    put_le(p + 22, rev, 2);
    put_le(p + 24, build, 4);
    for (size_t i = 0; i < body; i++)
        p[32 + i] = (uint8_t)(seed + i * 7);
    sha256(p, 32 + body, img->hash);
    uint8_t *t = p + 32 + body;
    put_le(t, SMP_IMG_SLOTS_TLV_INFO, 2);
    put_le(t + 2, 4 + 4 + 32, 2);
    put_le(t + 4, SMP_IMG_SLOTS_TLV_SHA256, 2);
    put_le(t + 6, 32, 2);
    memcpy(t + 8, img->hash, 32);
    img->len = 32 + body + 40;
    sha256(p, img->len, img->file_sha);
}

/* ---- fixture ---------------------------------------------------------------------- */

#define MAX_EVENTS 64
struct fix {
    struct smp_server srv;
    struct smp_callbacks cbs;
    struct smp_img_slots_mem mem;
    struct smp_img_mgmt img;
    struct smp_server_ctx cx;
    uint8_t rsp[2048];
    size_t n_frames;
    uint8_t frame[2048];
    size_t frame_len;
    uint32_t events[MAX_EVENTS];
    size_t n_events;
    /* hook behaviour */
    enum smp_callbacks_status chunk_answer;
    int32_t chunk_rc;
    uint16_t chunk_group;
    int32_t last_status; /* CMD_STATUS */
    struct image running;
};

static int rec_send(void *env, const uint8_t *b, size_t n)
{
    struct fix *f = env;
    assert_true(n <= sizeof(f->frame));
    memcpy(f->frame, b, n);
    f->frame_len = n;
    f->n_frames++;
    return 0;
}

static enum smp_callbacks_status rec_event(void *env, uint32_t event,
                                           enum smp_callbacks_status prev, int32_t *rc,
                                           uint16_t *group, bool *abort_more, const void *data,
                                           size_t size, int64_t now)
{
    (void)abort_more;
    (void)now;
    struct fix *f = env;
    if (event == SMP_CALLBACKS_EVT_CMD_STATUS) {
        assert_int_equal(size, sizeof(struct smp_callbacks_cmd));
        f->last_status = ((const struct smp_callbacks_cmd *)data)->status;
        return SMP_CALLBACKS_OK;
    }
    assert_true(f->n_events < MAX_EVENTS);
    f->events[f->n_events++] = event;
    if (event == SMP_CALLBACKS_EVT_IMG_DFU_CHUNK && f->chunk_answer != SMP_CALLBACKS_OK &&
        prev == SMP_CALLBACKS_OK) {
        assert_int_equal(size, sizeof(struct smp_img_mgmt_upload_check));
        *rc = f->chunk_rc;
        *group = f->chunk_group;
        return f->chunk_answer;
    }
    return SMP_CALLBACKS_OK;
}

/* Fresh device: slot 0 runs image 1.0.0 (confirmed), slot 1 empty. */
static void fix_init_cfg(struct fix *f, const struct smp_img_mgmt_cfg *cfg)
{
    memset(f, 0, sizeof(*f));
    size_t n_slots = (size_t)(2 * cfg->n_images);
    assert_int_equal(smp_img_slots_mem_init(&f->mem, n_slots, SLOT_SIZE, PAGE_SIZE), 0);
    build_image(&f->running, 1, 0, 0, 0, 600, 0, 0, 1);
    memcpy(f->mem.data[0], f->running.bytes, f->running.len);
    struct smp_server_cfg scfg = smp_server_cfg_default();
    smp_callbacks_init(&f->cbs);
    assert_int_equal(smp_callbacks_register(&f->cbs, SMP_CALLBACKS_EVT_IMG_ALL, rec_event, f), 0);
    assert_int_equal(smp_callbacks_register(&f->cbs, SMP_CALLBACKS_EVT_CMD_STATUS, rec_event, f),
                     0);
    smp_server_init(&f->srv, &scfg, &f->cbs);
    smp_img_mgmt_init(&f->img, cfg, smp_img_slots_mem_bind(&f->mem), &f->cbs);
    struct smp_server_group g = smp_img_mgmt_group(&f->img);
    assert_int_equal(smp_server_group_add(&f->srv, &g), 0);
    f->cx = (struct smp_server_ctx){.env = f, .send = rec_send};
}

static void fix_init(struct fix *f)
{
    struct smp_img_mgmt_cfg cfg = smp_img_mgmt_cfg_default();
    fix_init_cfg(f, &cfg);
}

static void fix_fini(struct fix *f)
{
    smp_img_slots_mem_fini(&f->mem);
}

/* Send one request (header + body) and keep the one response. */
static void send_req(struct fix *f, uint8_t op, uint8_t ver, uint8_t id, const uint8_t *body,
                     size_t body_n)
{
    uint8_t pkt[4200];
    struct smp_frame_hdr h = {.op = op,
                              .version = ver,
                              .len = (uint16_t)body_n,
                              .group = SMP_MGMT_GROUP_IMAGE,
                              .seq = 7,
                              .id = id};
    smp_frame_hdr_encode(&h, pkt);
    if (body_n)
        memcpy(pkt + 8, body, body_n);
    f->n_frames = 0;
    assert_int_equal(
        smp_server_process(&f->srv, pkt, 8 + body_n, f->rsp, sizeof(f->rsp), 0, &f->cx, NULL), 0);
    assert_int_equal(f->n_frames, 1);
}

/* The response body, decoded. */
struct rsp {
    bool has_off, has_match, has_rc, has_err;
    uint32_t off;
    bool match;
    uint32_t rc;
    uint32_t err_group, err_rc;
    size_t n_images_bytes;
};

static struct rsp parse(const struct fix *f)
{
    struct smp_frame_field fl[] = {{.key = "off", .type = SMP_FRAME_T_U32},
                                   {.key = "match", .type = SMP_FRAME_T_BOOL},
                                   {.key = "rc", .type = SMP_FRAME_T_U32},
                                   {.key = "err", .type = SMP_FRAME_T_ANY}};
    assert_int_equal(smp_frame_map_decode(f->frame + 8, f->frame_len - 8, fl, 4), 0);
    struct rsp r = {.has_off = fl[0].found,
                    .off = fl[0].u32,
                    .has_match = fl[1].found,
                    .match = fl[1].b,
                    .has_rc = fl[2].found,
                    .rc = fl[2].u32,
                    .has_err = fl[3].found};
    if (r.has_err) {
        struct smp_frame_field e[] = {{.key = "group", .type = SMP_FRAME_T_U32},
                                      {.key = "rc", .type = SMP_FRAME_T_U32}};
        assert_int_equal(smp_frame_map_decode(fl[3].str, fl[3].str_len, e, 2), 0);
        r.err_group = e[0].u32;
        r.err_rc = e[1].u32;
    }
    return r;
}

/* Upload request, definite map, keys in the Android client's order. */
struct up {
    int32_t image; /* -1: absent */
    const uint8_t *data;
    size_t data_len;
    int64_t len; /* -1: absent */
    int64_t off; /* -1: absent */
    const uint8_t *sha;
    size_t sha_len; /* 0: absent */
    int upgrade;    /* -1: absent */
};

static size_t encode_upload(const struct up *u, uint8_t *out, size_t cap)
{
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, out, cap);
    size_t n =
        1 + (u->image >= 0) + (u->len >= 0) + (u->off >= 0) + (u->sha_len > 0) + (u->upgrade >= 0);
    smp_frame_put_map(&w, n);
    if (u->image >= 0) {
        smp_frame_put_text(&w, "image");
        smp_frame_put_uint(&w, (uint64_t)u->image);
    }
    smp_frame_put_text(&w, "data");
    smp_frame_put_bstr(&w, u->data, u->data_len);
    if (u->len >= 0) {
        smp_frame_put_text(&w, "len");
        smp_frame_put_uint(&w, (uint64_t)u->len);
    }
    if (u->off >= 0) {
        smp_frame_put_text(&w, "off");
        smp_frame_put_uint(&w, (uint64_t)u->off);
    }
    if (u->sha_len > 0) {
        smp_frame_put_text(&w, "sha");
        smp_frame_put_bstr(&w, u->sha, u->sha_len);
    }
    if (u->upgrade >= 0) {
        smp_frame_put_text(&w, "upgrade");
        smp_frame_put_bool(&w, u->upgrade != 0);
    }
    assert_false(w.overflow);
    return w.len;
}

static struct rsp upload_v(struct fix *f, const struct up *u, uint8_t ver)
{
    uint8_t body[4200];
    size_t n = encode_upload(u, body, sizeof(body));
    send_req(f, SMP_MGMT_OP_WRITE, ver, SMP_IMG_MGMT_ID_UPLOAD, body, n);
    smp_img_mgmt_check(&f->img);
    return parse(f);
}

static struct rsp upload(struct fix *f, const struct up *u)
{
    return upload_v(f, u, SMP_MGMT_VERSION_2);
}

/* First chunk of img: the first n bytes, with len and the file sha. */
static struct up first_chunk(const struct image *img, size_t n)
{
    return (struct up){.image = -1,
                       .data = img->bytes,
                       .data_len = n,
                       .len = (int64_t)img->len,
                       .off = 0,
                       .sha = img->file_sha,
                       .sha_len = 32,
                       .upgrade = -1};
}

static struct up next_chunk(const struct image *img, size_t off, size_t n)
{
    return (struct up){.image = -1,
                       .data = img->bytes + off,
                       .data_len = n,
                       .len = -1,
                       .off = (int64_t)off,
                       .upgrade = -1};
}

static size_t count_events(const struct fix *f, uint32_t event)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_events; i++)
        n += f->events[i] == event;
    return n;
}

static void expect_err(const char *name, const struct rsp *r, uint32_t rc)
{
    if (!r->has_err || r->err_group != SMP_MGMT_GROUP_IMAGE || r->err_rc != rc)
        fail_msg("%s: err {group %u, rc %u} (present %d), want rc %u", name, r->err_group,
                 r->err_rc, r->has_err, rc);
}

/* ---- upload: first-chunk decision table -------------------------------------------- */

enum setup {
    S_NONE,
    S_SLOT1_REVERT,      /* running image in test: slot 1 holds the revert copy */
    S_SLOT1_TEST_NOPEND, /* slot 1 pending test, ALLOW_ERASE_PENDING=n */
    S_SLOT1_TEST,        /* slot 1 pending test, default options */
    S_XIP_REJECT,        /* REJECT_DIRECT_XIP_MISMATCHED_SLOT=y */
    S_BUILD_CMP,         /* VERSION_CMP_USE_BUILD_NUMBER=y */
};

struct first_case {
    const char *name;
    enum setup setup;
    size_t data_len; /* bytes of the image in the first chunk */
    bool drop_len;
    uint32_t magic; /* 0: keep */
    size_t sha_len; /* 32 normally */
    int64_t len_override;
    uint8_t ver[3]; /* new image version */
    uint32_t build;
    uint32_t flags;
    uint32_t load_addr;
    int upgrade;
    int want_err; /* img error, or 0 for success */
};

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/zephyr_img_mgmt.c @main
 * (img_mgmt_upload_inspect, checks in order, numbered here 2a-2h). */
static const struct first_case first_cases[] = {
    {"2a: data shorter than the 32-byte header",
     S_NONE,
     31,
     false,
     0,
     32,
     -1,
     {2, 0, 0},
     0,
     0,
     0,
     -1,
     SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER},
    {"2a wins over a missing len",
     S_NONE,
     31,
     true,
     0,
     32,
     -1,
     {2, 0, 0},
     0,
     0,
     0,
     -1,
     SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER},
    {"2b: len missing",
     S_NONE,
     64,
     true,
     0,
     32,
     -1,
     {2, 0, 0},
     0,
     0,
     0,
     -1,
     SMP_IMG_SLOTS_ERR_INVALID_LENGTH},
    {"2c: header magic wrong",
     S_NONE,
     64,
     false,
     0x96f3b83c,
     32,
     -1,
     {2, 0, 0},
     0,
     0,
     0,
     -1,
     SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER_MAGIC},
    {"2d: sha longer than 32 bytes",
     S_NONE,
     64,
     false,
     0,
     33,
     -1,
     {2, 0, 0},
     0,
     0,
     0,
     -1,
     SMP_IMG_SLOTS_ERR_INVALID_HASH},
    {"2d: a sha shorter than 32 bytes is fine",
     S_NONE,
     64,
     false,
     0,
     8,
     -1,
     {2, 0, 0},
     0,
     0,
     0,
     -1,
     0},
    {"2f: revert slot is never reused",
     S_SLOT1_REVERT,
     64,
     false,
     0,
     32,
     -1,
     {2, 0, 0},
     0,
     0,
     0,
     -1,
     SMP_IMG_SLOTS_ERR_NO_FREE_SLOT},
    {"2f: pending slot refused without ALLOW_ERASE_PENDING",
     S_SLOT1_TEST_NOPEND,
     64,
     false,
     0,
     32,
     -1,
     {2, 0, 0},
     0,
     0,
     0,
     -1,
     SMP_IMG_SLOTS_ERR_NO_FREE_SLOT},
    {"2f: pending slot reused with ALLOW_ERASE_PENDING (default)",
     S_SLOT1_TEST,
     64,
     false,
     0,
     32,
     -1,
     {2, 0, 0},
     0,
     0,
     0,
     -1,
     0},
    {"2g: len larger than the slot",
     S_NONE,
     64,
     false,
     0,
     32,
     SLOT_SIZE + 1,
     {2, 0, 0},
     0,
     0,
     0,
     -1,
     SMP_IMG_SLOTS_ERR_INVALID_IMAGE_TOO_LARGE},
    {"2g: len equal to the slot is accepted",
     S_NONE,
     64,
     false,
     0,
     32,
     SLOT_SIZE,
     {2, 0, 0},
     0,
     0,
     0,
     -1,
     0},
    {"direct-xip: ROM_FIXED image linked for another slot is rejected",
     S_XIP_REJECT,
     64,
     false,
     0,
     32,
     -1,
     {2, 0, 0},
     0,
     SMP_IMG_SLOTS_F_ROM_FIXED,
     0x10000,
     -1,
     SMP_IMG_SLOTS_ERR_INVALID_FLASH_ADDRESS},
    {"direct-xip: ROM_FIXED image linked for the target slot is accepted",
     S_XIP_REJECT,
     64,
     false,
     0,
     32,
     -1,
     {2, 0, 0},
     0,
     SMP_IMG_SLOTS_F_ROM_FIXED,
     0x10000 + SLOT_SIZE,
     -1,
     0},
    {"direct-xip: mismatch accepted when the option is off",
     S_NONE,
     64,
     false,
     0,
     32,
     -1,
     {2, 0, 0},
     0,
     SMP_IMG_SLOTS_F_ROM_FIXED,
     0x10000,
     -1,
     0},
    {"2h: upgrade with an equal version",
     S_NONE,
     64,
     false,
     0,
     32,
     -1,
     {1, 0, 0},
     0,
     0,
     0,
     1,
     SMP_IMG_SLOTS_ERR_CURRENT_VERSION_IS_NEWER},
    {"2h: upgrade with an older version",
     S_NONE,
     64,
     false,
     0,
     32,
     -1,
     {0, 9, 9},
     0,
     0,
     0,
     1,
     SMP_IMG_SLOTS_ERR_CURRENT_VERSION_IS_NEWER},
    {"2h: upgrade with a newer revision", S_NONE, 64, false, 0, 32, -1, {1, 0, 1}, 0, 0, 0, 1, 0},
    {"2h: build number is ignored by default",
     S_NONE,
     64,
     false,
     0,
     32,
     -1,
     {1, 0, 0},
     5,
     0,
     0,
     1,
     SMP_IMG_SLOTS_ERR_CURRENT_VERSION_IS_NEWER},
    {"2h: build number counts with VERSION_CMP_USE_BUILD_NUMBER",
     S_BUILD_CMP,
     64,
     false,
     0,
     32,
     -1,
     {1, 0, 0},
     5,
     0,
     0,
     1,
     0},
    {"2h: an older image without upgrade is accepted",
     S_NONE,
     64,
     false,
     0,
     32,
     -1,
     {0, 1, 0},
     0,
     0,
     0,
     0,
     0},
};

static void run_first_case(const struct first_case *c)
{
    struct smp_img_mgmt_cfg cfg = smp_img_mgmt_cfg_default();
    if (c->setup == S_SLOT1_TEST_NOPEND)
        cfg.allow_erase_pending = false;
    if (c->setup == S_XIP_REJECT)
        cfg.reject_xip_mismatched_slot = true;
    if (c->setup == S_BUILD_CMP)
        cfg.version_cmp_build = true;
    struct fix f;
    fix_init_cfg(&f, &cfg);
    if (c->setup == S_SLOT1_REVERT)
        f.mem.swap[0] = SMP_IMG_SLOTS_SWAP_REVERT;
    if (c->setup == S_SLOT1_TEST || c->setup == S_SLOT1_TEST_NOPEND)
        f.mem.swap[0] = SMP_IMG_SLOTS_SWAP_TEST;
    struct image img;
    build_image(&img, c->ver[0], c->ver[1], c->ver[2], c->build, 700, c->flags, c->load_addr, 9);
    if (c->magic)
        put_le(img.bytes, c->magic, 4);
    uint8_t sha[40];
    memset(sha, 0xab, sizeof(sha));
    struct up u = first_chunk(&img, c->data_len);
    u.sha = sha;
    u.sha_len = c->sha_len;
    if (c->drop_len)
        u.len = -1;
    if (c->len_override >= 0)
        u.len = c->len_override;
    u.upgrade = c->upgrade;
    struct rsp r = upload(&f, &u);
    if (c->want_err) {
        expect_err(c->name, &r, (uint32_t)c->want_err);
        if (r.has_off)
            fail_msg("%s: inspect error must not carry off", c->name);
        if (count_events(&f, SMP_CALLBACKS_EVT_IMG_DFU_STOPPED) != 2)
            fail_msg("%s: DFU_STOPPED %zu times, want 2", c->name,
                     count_events(&f, SMP_CALLBACKS_EVT_IMG_DFU_STOPPED));
        if (f.img.up.slot != -1)
            fail_msg("%s: upload state not reset", c->name);
    } else {
        if (r.has_err || !r.has_off || r.off != c->data_len)
            fail_msg("%s: err %d (rc %u), off %u, want off %zu", c->name, r.has_err, r.err_rc,
                     r.off, c->data_len);
        if (f.img.up.slot != 1)
            fail_msg("%s: upload should target slot 1, got %d", c->name, f.img.up.slot);
    }
    fix_fini(&f);
}

static void test_upload_first_chunk_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(first_cases); i++)
        run_first_case(&first_cases[i]);
}

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/zephyr_img_mgmt.c @main */
static void test_upload_off_missing_is_invalid_offset_and_discards_upload(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f);
    struct image img;
    build_image(&img, 2, 0, 0, 0, 700, 0, 0, 3);
    struct up u = first_chunk(&img, 128);
    struct rsp r = upload(&f, &u);
    assert_int_equal(r.off, 128);
    assert_int_equal(f.img.up.slot, 1);
    u = next_chunk(&img, 128, 64);
    u.off = -1;
    r = upload(&f, &u);
    expect_err("row 1: off missing", &r, SMP_IMG_SLOTS_ERR_INVALID_OFFSET);
    assert_int_equal(f.img.up.slot, -1); /* every inspect error discards the upload */
    u = next_chunk(&img, 128, 64);
    r = upload(&f, &u);
    assert_true(r.has_off && r.off == 0); /* client must restart */
    fix_fini(&f);
}

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c @main */
static void test_upload_whole_image_in_chunks(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f);
    struct image img;
    build_image(&img, 2, 0, 0, 0, 1500, 0, 0, 5);
    f.mem.data[1][100] = 0x00; /* slot 1 not empty: the first chunk erases */
    size_t off = 0, chunk = 256;
    while (off < img.len) {
        size_t n = img.len - off < chunk ? img.len - off : chunk;
        struct up u = off == 0 ? first_chunk(&img, n) : next_chunk(&img, off, n);
        f.n_events = 0;
        struct rsp r = upload(&f, &u);
        off += n;
        assert_false(r.has_err);
        assert_true(r.has_off);
        assert_int_equal(r.off, off);
        if (off < img.len) {
            assert_false(r.has_match);
            assert_int_equal(count_events(&f, SMP_CALLBACKS_EVT_IMG_DFU_CHUNK_WRITE_COMPLETE), 1);
            assert_int_equal(f.last_status, n == off ? SMP_IMG_MGMT_UPLOAD_STATUS_START
                                                     : SMP_IMG_MGMT_UPLOAD_STATUS_ONGOING);
        }
        if (n == off) {
            assert_int_equal(count_events(&f, SMP_CALLBACKS_EVT_IMG_DFU_STARTED), 1);
            assert_int_equal(f.mem.n_erase_upload, 1);
            /* len rounded up to pages, plus the trailer page */
            assert_int_equal(f.mem.erased_upload_bytes, 2 * PAGE_SIZE + PAGE_SIZE);
        }
    }
    struct rsp r = parse(&f);
    assert_true(r.has_match && r.match);
    assert_int_equal(count_events(&f, SMP_CALLBACKS_EVT_IMG_DFU_PENDING), 1);
    assert_int_equal(count_events(&f, SMP_CALLBACKS_EVT_IMG_DFU_CHUNK), 1);
    assert_int_equal(f.img.up.slot, -1); /* state reset after the last chunk */
    assert_memory_equal(f.mem.data[1], img.bytes, img.len);
    /* the upload does not mark the image for test */
    assert_int_equal(f.mem.swap[0], SMP_IMG_SLOTS_SWAP_NONE);
    fix_fini(&f);
}

static void test_upload_last_chunk_match_false_when_sha_differs(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f);
    struct image img;
    build_image(&img, 2, 0, 0, 0, 100, 0, 0, 5);
    uint8_t wrong[32];
    memset(wrong, 0x11, sizeof(wrong));
    struct up u = first_chunk(&img, img.len);
    u.sha = wrong;
    struct rsp r = upload(&f, &u);
    assert_int_equal(r.off, img.len);
    assert_true(r.has_match);
    assert_false(r.match);
    /* without CONFIG_IMG_ENABLE_IMAGE_CHECK there is no match key */
    struct smp_img_mgmt_cfg cfg = smp_img_mgmt_cfg_default();
    cfg.image_check = false;
    fix_fini(&f);
    fix_init_cfg(&f, &cfg);
    u = first_chunk(&img, img.len);
    r = upload(&f, &u);
    assert_int_equal(r.off, img.len);
    assert_false(r.has_match);
    fix_fini(&f);
}

/* Golden: the response to a full-image single chunk is {"off": N, "match": true}. */
static void test_upload_response_bytes(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f);
    struct image img;
    build_image(&img, 2, 0, 0, 0, 100, 0, 0, 5); /* 172 bytes */
    struct up u = first_chunk(&img, 100);
    upload(&f, &u);
    const uint8_t want1[] = {0x0b, 0, 0, 8, 0, 1, 7, 1, 0xbf, 0x63, 'o', 'f', 'f', 0x18, 100, 0xff};
    assert_int_equal(f.frame_len, sizeof(want1));
    assert_memory_equal(f.frame, want1, sizeof(want1));
    u = next_chunk(&img, 100, 72);
    upload(&f, &u);
    const uint8_t want2[] = {0x0b, 0,    0,   15,   0,   1,   7,   1,   0xbf, 0x63, 'o', 'f',
                             'f',  0x18, 172, 0x65, 'm', 'a', 't', 'c', 'h',  0xf5, 0xff};
    assert_int_equal(f.frame_len, sizeof(want2));
    assert_memory_equal(f.frame, want2, sizeof(want2));
    fix_fini(&f);
}

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/zephyr_img_mgmt.c @main */
static void test_upload_resume_and_offset_mismatch(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f);
    struct image img;
    build_image(&img, 2, 0, 0, 0, 1500, 0, 0, 5);
    struct up u = first_chunk(&img, 200);
    upload(&f, &u);
    u = next_chunk(&img, 200, 200);
    upload(&f, &u);
    /* 2e: the same first chunk with the same sha resumes: nothing written, no hook */
    f.n_events = 0;
    uint8_t before = f.mem.data[1][500];
    u = first_chunk(&img, 200);
    struct rsp r = upload(&f, &u);
    assert_false(r.has_err);
    assert_int_equal(r.off, 400);
    assert_int_equal(f.n_events, 0);
    assert_int_equal(f.mem.n_erase_upload, 0);
    assert_int_equal(f.mem.data[1][500], before);
    /* 3a: a chunk at another offset is dropped and answered with the expected offset */
    u = next_chunk(&img, 600, 100);
    r = upload(&f, &u);
    assert_false(r.has_err);
    assert_int_equal(r.off, 400);
    assert_int_equal(f.n_events, 0);
    assert_int_equal(f.mem.data[1][600], 0xff);
    /* 2e with a different sha starts over at 0 */
    uint8_t other[32];
    memset(other, 0x42, sizeof(other));
    u = first_chunk(&img, 200);
    u.sha = other;
    r = upload(&f, &u);
    assert_int_equal(r.off, 200);
    assert_int_equal(count_events(&f, SMP_CALLBACKS_EVT_IMG_DFU_STARTED), 1);
    fix_fini(&f);
}

static void test_upload_continuation_without_upload_asks_for_offset_zero(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f);
    struct image img;
    build_image(&img, 2, 0, 0, 0, 700, 0, 0, 5);
    struct up u = next_chunk(&img, 256, 128);
    struct rsp r = upload(&f, &u);
    assert_false(r.has_err);
    assert_true(r.has_off);
    assert_int_equal(r.off, 0);
    fix_fini(&f);
}

static void test_upload_overrun_discards_upload(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f);
    struct image img;
    build_image(&img, 2, 0, 0, 0, 700, 0, 0, 5);
    struct up u = first_chunk(&img, 700);
    upload(&f, &u);
    u = next_chunk(&img, 700, 100); /* 700 + 100 > 772 */
    struct rsp r = upload(&f, &u);
    expect_err("3b: overrun", &r, SMP_IMG_SLOTS_ERR_INVALID_IMAGE_DATA_OVERRUN);
    assert_int_equal(f.img.up.slot, -1);
    assert_int_equal(count_events(&f, SMP_CALLBACKS_EVT_IMG_DFU_STOPPED), 2);
    fix_fini(&f);
}

static void test_upload_erase_rules(void **state)
{
    (void)state;
    struct image img;
    build_image(&img, 2, 0, 0, 0, 700, 0, 0, 5);
    /* UPSTREAM (whole slot): zephyrproject-rtos/mcumgr @c27cf45 (2018-11-02):
     * cmd/img_mgmt/src/img_mgmt.c img_mgmt_upload_first_chunk() -> img_mgmt_impl_erase_slot()
     * (cmd/img_mgmt/port/zephyr/src/zephyr_img_mgmt.c): the whole slot unless it reads
     * empty, whatever the image length. */
    static const struct {
        const char *name;
        bool dirty, progressive;
        enum smp_img_mgmt_erase erase;
        uint32_t want_erases, want_slot_erases;
        bool want_far_byte_erased; /* a byte past the image's pages, before the trailer */
    } cases[] = {
        {"2i: empty slot is not erased", false, false, SMP_IMG_MGMT_ERASE_AS_NEEDED, 0, 0, false},
        {"2i: dirty slot is erased before the first write", true, false,
         SMP_IMG_MGMT_ERASE_AS_NEEDED, 1, 0, false},
        {"2i: progressive erase skips the first-chunk erase", true, true,
         SMP_IMG_MGMT_ERASE_AS_NEEDED, 0, 0, false},
        {"whole slot: an empty slot is not erased", false, false, SMP_IMG_MGMT_ERASE_WHOLE_SLOT, 0,
         0, false},
        {"whole slot: a dirty slot is erased whole", true, false, SMP_IMG_MGMT_ERASE_WHOLE_SLOT, 0,
         1, true},
        {"whole slot: erased whole even with progressive writes", true, true,
         SMP_IMG_MGMT_ERASE_WHOLE_SLOT, 0, 1, true},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct smp_img_mgmt_cfg cfg = smp_img_mgmt_cfg_default();
        cfg.erase_progressively = cases[i].progressive;
        cfg.erase = cases[i].erase;
        struct fix f;
        fix_init_cfg(&f, &cfg);
        size_t far = SLOT_SIZE - 2 * PAGE_SIZE; /* image: 1 page; trailer: the last page */
        if (cases[i].dirty) {
            f.mem.data[1][SLOT_SIZE - 1] = 0x01; /* a trailer byte */
            f.mem.data[1][far] = 0x02;
        }
        struct up u = first_chunk(&img, 64);
        struct rsp r = upload(&f, &u);
        assert_int_equal(r.off, 64);
        if (f.mem.n_erase_upload != cases[i].want_erases)
            fail_msg("%s: %u erases", cases[i].name, f.mem.n_erase_upload);
        if (f.mem.n_erase_slot != cases[i].want_slot_erases)
            fail_msg("%s: %u whole-slot erases", cases[i].name, f.mem.n_erase_slot);
        if (cases[i].dirty && (f.mem.data[1][far] == 0xff) != cases[i].want_far_byte_erased)
            fail_msg("%s: byte past the image %#x", cases[i].name, f.mem.data[1][far]);
        assert_memory_equal(f.mem.data[1], img.bytes, 64); /* the chunk is written after */
        fix_fini(&f);
    }
}

static void test_upload_skipped_when_slot_already_matches(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f);
    struct image img;
    build_image(&img, 2, 0, 0, 0, 700, 0, 0, 5);
    memcpy(f.mem.data[1], img.bytes, img.len);
    struct up u = first_chunk(&img, 128);
    struct rsp r = upload(&f, &u);
    assert_int_equal(r.off, img.len);
    assert_true(r.has_match && r.match);
    assert_int_equal(f.mem.n_erase_upload, 0);
    assert_int_equal(f.img.up.slot, -1);
    assert_int_equal(f.last_status, SMP_IMG_MGMT_UPLOAD_STATUS_COMPLETE);
    /* a short sha cannot be checked: the upload starts */
    u.sha_len = 16;
    r = upload(&f, &u);
    assert_int_equal(r.off, 128);
    fix_fini(&f);
}

/* UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c @main
 * (version A rejects DFU_CHUNK with MGMT_CB_ERROR_RC and rc 11 while it lacks the lock). */
static void test_upload_check_hook(void **state)
{
    (void)state;
    struct image img;
    build_image(&img, 2, 0, 0, 0, 700, 0, 0, 5);
    /* ERROR_RC: body is exactly {"rc": 11}; the upload is reset */
    struct fix f;
    fix_init(&f);
    struct up u = first_chunk(&img, 128);
    upload(&f, &u);
    f.chunk_answer = SMP_CALLBACKS_ERROR_RC;
    f.chunk_rc = 11;
    f.n_events = 0;
    u = next_chunk(&img, 128, 128);
    upload(&f, &u);
    const uint8_t want[] = {0x0b, 0, 0, 6, 0, 1, 7, 1, 0xbf, 0x62, 'r', 'c', 0x0b, 0xff};
    assert_int_equal(f.frame_len, sizeof(want));
    assert_memory_equal(f.frame, want, sizeof(want));
    assert_int_equal(f.img.up.slot, -1);
    assert_int_equal(count_events(&f, SMP_CALLBACKS_EVT_IMG_DFU_STOPPED), 1);
    assert_int_equal(f.mem.data[1][200], 0xff); /* not written */
    /* the same on a v1 request: the rc is in the handler's map, not translated */
    u = first_chunk(&img, 128);
    struct rsp r = upload_v(&f, &u, SMP_MGMT_VERSION_1);
    assert_true(r.has_rc);
    assert_int_equal(r.rc, 11);
    fix_fini(&f);

    /* ERROR_ERR: err{group, rc} plus "off"; the upload state is kept */
    fix_init(&f);
    u = first_chunk(&img, 128);
    upload(&f, &u);
    f.chunk_answer = SMP_CALLBACKS_ERROR_ERR;
    f.chunk_rc = 7;
    f.chunk_group = 64;
    u = next_chunk(&img, 128, 128);
    r = upload(&f, &u);
    assert_true(r.has_err);
    assert_int_equal(r.err_group, 64);
    assert_int_equal(r.err_rc, 7);
    assert_true(r.has_off);
    assert_int_equal(r.off, 128);
    assert_int_equal(f.img.up.slot, 1);
    fix_fini(&f);
}

static void test_upload_flash_failures_stop_the_upload(void **state)
{
    (void)state;
    struct image img;
    build_image(&img, 2, 0, 0, 0, 700, 0, 0, 5);
    struct fix f;
    fix_init(&f);
    f.mem.data[1][0] = 0;
    f.mem.fail_erase = SMP_IMG_SLOTS_ERR_FLASH_ERASE_FAILED;
    struct up u = first_chunk(&img, 128);
    struct rsp r = upload(&f, &u);
    expect_err("first-chunk erase fails", &r, SMP_IMG_SLOTS_ERR_FLASH_ERASE_FAILED);
    assert_false(r.has_off);
    assert_int_equal(f.img.up.slot, -1);
    assert_int_equal(count_events(&f, SMP_CALLBACKS_EVT_IMG_DFU_STOPPED), 1);
    f.mem.fail_erase = 0;
    f.mem.fail_write = SMP_IMG_SLOTS_ERR_FLASH_WRITE_FAILED;
    r = upload(&f, &u);
    expect_err("write fails", &r, SMP_IMG_SLOTS_ERR_FLASH_WRITE_FAILED);
    assert_int_equal(f.img.up.slot, -1);
    assert_int_equal(f.last_status, SMP_IMG_MGMT_UPLOAD_STATUS_COMPLETE);
    fix_fini(&f);
}

static void test_upload_v1_errors_and_decode_failures(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t body[24];
        size_t n;
        uint8_t ver;
        uint32_t want_rc;
    } cases[] = {
        {"off as text is an SMP-level EINVAL", {0xa1, 0x63, 'o', 'f', 'f', 0x61, '0'}, 7, 1, 3},
        {"data as text is EINVAL",
         {0xa2, 0x63, 'o', 'f', 'f', 0x00, 0x64, 'd', 'a', 't', 'a', 0x60},
         12,
         1,
         3},
        {"v1: INVALID_IMAGE_HEADER translates to EINVAL",
         {0xa2, 0x63, 'o', 'f', 'f', 0x00, 0x64, 'd', 'a', 't', 'a', 0x41, 0x00},
         13,
         0,
         3},
        {"v1: INVALID_OFFSET translates to EINVAL", {0xa0}, 1, 0, 3},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fix f;
        fix_init(&f);
        send_req(&f, SMP_MGMT_OP_WRITE, cases[i].ver, SMP_IMG_MGMT_ID_UPLOAD, cases[i].body,
                 cases[i].n);
        struct rsp r = parse(&f);
        if (!r.has_rc || r.rc != cases[i].want_rc || r.has_err)
            fail_msg("%s: rc %u (present %d)", cases[i].name, r.rc, r.has_rc);
        fix_fini(&f);
    }
    /* v1: NO_FREE_SLOT translates to EBADSTATE */
    struct fix f;
    fix_init(&f);
    f.mem.swap[0] = SMP_IMG_SLOTS_SWAP_REVERT;
    struct image img;
    build_image(&img, 2, 0, 0, 0, 700, 0, 0, 5);
    struct up u = first_chunk(&img, 64);
    struct rsp r = upload_v(&f, &u, SMP_MGMT_VERSION_1);
    assert_true(r.has_rc);
    assert_int_equal(r.rc, SMP_MGMT_ERR_EBADSTATE);
    /* READ of upload has no handler */
    send_req(&f, SMP_MGMT_OP_READ, 1, SMP_IMG_MGMT_ID_UPLOAD, NULL, 0);
    r = parse(&f);
    assert_int_equal(r.rc, SMP_MGMT_ERR_ENOTSUP);
    /* the unimplemented ids answer ENOTSUP */
    send_req(&f, SMP_MGMT_OP_READ, 1, SMP_IMG_MGMT_ID_FILE, NULL, 0);
    assert_int_equal(parse(&f).rc, SMP_MGMT_ERR_ENOTSUP);
    fix_fini(&f);
}

/* ---- state read ---------------------------------------------------------------------- */

/* Golden bytes of one slot entry: bf 64 slot <n> 67 version <str> 64 hash 58 20 <32>
 * 68 bootable <b> 67 pending <b> 69 confirmed <b> 66 active <b> 69 permanent <b> ff */
static size_t golden_slot(uint8_t *out, int slot, const char *ver, const uint8_t *hash, bool pend,
                          bool conf, bool act, bool perm)
{
    size_t n = 0;
    out[n++] = 0xbf;
    memcpy(out + n, "\x64slot", 5);
    n += 5;
    out[n++] = (uint8_t)slot;
    memcpy(out + n, "\x67version", 8);
    n += 8;
    out[n++] = (uint8_t)(0x60 + strlen(ver));
    memcpy(out + n, ver, strlen(ver));
    n += strlen(ver);
    memcpy(out + n, "\x64hash\x58\x20", 7);
    n += 7;
    memcpy(out + n, hash, 32);
    n += 32;
    const struct {
        const char *k;
        bool v;
    } fl[] = {{"\x68"
               "bootable",
               true},
              {"\x67pending", pend},
              {"\x69"
               "confirmed",
               conf},
              {"\x66"
               "active",
               act},
              {"\x69permanent", perm}};
    for (size_t i = 0; i < 5; i++) {
        memcpy(out + n, fl[i].k, strlen(fl[i].k));
        n += strlen(fl[i].k);
        out[n++] = fl[i].v ? 0xf5 : 0xf4;
    }
    out[n++] = 0xff;
    return n;
}

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt_state.c @main */
static void test_state_read_flags_by_swap_type(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int swap;
        bool a_conf, o_pend, o_conf, o_perm;
    } cases[] = {
        {"none pending", SMP_IMG_SLOTS_SWAP_NONE, true, false, false, false},
        {"test pending on the other slot", SMP_IMG_SLOTS_SWAP_TEST, true, true, false, false},
        {"confirmed in advance (perm)", SMP_IMG_SLOTS_SWAP_PERM, true, true, false, true},
        {"revert pending: running image unconfirmed", SMP_IMG_SLOTS_SWAP_REVERT, false, false, true,
         false},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fix f;
        fix_init(&f);
        struct image img;
        build_image(&img, 2, 1, 3, 7, 300, 0, 0, 5);
        memcpy(f.mem.data[1], img.bytes, img.len);
        f.mem.swap[0] = cases[i].swap;
        send_req(&f, SMP_MGMT_OP_READ, 1, SMP_IMG_MGMT_ID_STATE, NULL, 0);
        uint8_t want[512];
        size_t n = 0;
        want[n++] = 0xbf;
        memcpy(want + n, "\x66images\x9f", 8);
        n += 8;
        n += golden_slot(want + n, 0, "1.0.0", f.running.hash, false, cases[i].a_conf, true, false);
        n += golden_slot(want + n, 1, "2.1.3.7", img.hash, cases[i].o_pend, cases[i].o_conf, false,
                         cases[i].o_perm);
        want[n++] = 0xff;
        memcpy(want + n, "\x6bsplitStatus\x00\xff", 14);
        n += 14;
        if (f.frame_len != n + 8 || memcmp(f.frame + 8, want, n) != 0)
            fail_msg("%s: state read body differs (%zu vs %zu bytes)", cases[i].name,
                     f.frame_len - 8, n);
        assert_int_equal(f.frame[0], 0x09); /* READ_RSP, v2 */
        fix_fini(&f);
    }
}

static void test_state_read_skips_empty_slots_and_frugal_list(void **state)
{
    (void)state;
    struct smp_img_mgmt_cfg cfg = smp_img_mgmt_cfg_default();
    cfg.frugal_list = true;
    struct fix f;
    fix_init_cfg(&f, &cfg);
    send_req(&f, SMP_MGMT_OP_READ, 1, SMP_IMG_MGMT_ID_STATE, NULL, 0);
    /* {"images": [{"slot": 0, "version": "1.0.0", "hash": h, "bootable": true,
     *  "confirmed": true, "active": true}]} and no splitStatus */
    static const char head[] = "\xbf\x66images\x9f\xbf\x64slot\x00\x67version\x65"
                               "1.0.0\x64hash\x58\x20";
    static const char tail[] = "\x68"
                               "bootable\xf5\x69"
                               "confirmed\xf5\x66"
                               "active\xf5\xff\xff\xff";
    uint8_t want[256];
    size_t n = 0;
    memcpy(want + n, head, sizeof(head) - 1);
    n += sizeof(head) - 1;
    memcpy(want + n, f.running.hash, 32);
    n += 32;
    memcpy(want + n, tail, sizeof(tail) - 1);
    n += sizeof(tail) - 1;
    if (f.frame_len != n + 8 || memcmp(f.frame + 8, want, n) != 0)
        fail_msg("frugal state read differs (%zu vs %zu bytes)", f.frame_len - 8, n);
    fix_fini(&f);
}

/* ---- state write ----------------------------------------------------------------------- */

enum target { T_NONE, T_SLOT0, T_SLOT1, T_SHORT, T_UNKNOWN };

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt_state.c @main
 * (img_mgmt_state_write, img_mgmt_set_next_boot_slot). */
static void test_state_write_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int swap_before;
        bool confirm_non_active_slot;
        enum target target;
        bool confirm;
        int want_err; /* 0: success, state read follows */
        int swap_after;
        size_t want_confirmed_events;
    } cases[] = {
        {"no hash and confirm false", SMP_IMG_SLOTS_SWAP_NONE, true, T_NONE, false,
         SMP_IMG_SLOTS_ERR_INVALID_HASH, SMP_IMG_SLOTS_SWAP_NONE, 0},
        {"hash length not 32", SMP_IMG_SLOTS_SWAP_NONE, true, T_SHORT, true,
         SMP_IMG_SLOTS_ERR_INVALID_HASH, SMP_IMG_SLOTS_SWAP_NONE, 0},
        {"hash not found", SMP_IMG_SLOTS_SWAP_NONE, true, T_UNKNOWN, false,
         SMP_IMG_SLOTS_ERR_HASH_NOT_FOUND, SMP_IMG_SLOTS_SWAP_NONE, 0},
        {"test of the active slot", SMP_IMG_SLOTS_SWAP_NONE, true, T_SLOT0, false,
         SMP_IMG_SLOTS_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED, SMP_IMG_SLOTS_SWAP_NONE, 0},
        {"test of the other slot requests a test swap", SMP_IMG_SLOTS_SWAP_NONE, true, T_SLOT1,
         false, 0, SMP_IMG_SLOTS_SWAP_TEST, 0},
        {"confirm of the other slot is confirm-in-advance", SMP_IMG_SLOTS_SWAP_NONE, true, T_SLOT1,
         true, 0, SMP_IMG_SLOTS_SWAP_PERM, 0},
        {"confirm of a non-active slot denied without ALLOW_CONFIRM_NON_ACTIVE_SLOT",
         SMP_IMG_SLOTS_SWAP_NONE, false, T_SLOT1, true, SMP_IMG_SLOTS_ERR_IMAGE_CONFIRMATION_DENIED,
         SMP_IMG_SLOTS_SWAP_NONE, 0},
        {"no hash and confirm: the running image, already next: no change", SMP_IMG_SLOTS_SWAP_NONE,
         true, T_NONE, true, 0, SMP_IMG_SLOTS_SWAP_NONE, 0},
        {"test pending: test of the same slot is OK, no change", SMP_IMG_SLOTS_SWAP_TEST, true,
         T_SLOT1, false, 0, SMP_IMG_SLOTS_SWAP_TEST, 0},
        {"test pending: confirm of the pending slot", SMP_IMG_SLOTS_SWAP_TEST, true, T_SLOT1, true,
         SMP_IMG_SLOTS_ERR_IMAGE_ALREADY_PENDING, SMP_IMG_SLOTS_SWAP_TEST, 0},
        {"test pending: confirm of the running image", SMP_IMG_SLOTS_SWAP_TEST, true, T_NONE, true,
         SMP_IMG_SLOTS_ERR_IMAGE_ALREADY_PENDING, SMP_IMG_SLOTS_SWAP_TEST, 0},
        {"perm pending: confirm of the slot that boots next, no change", SMP_IMG_SLOTS_SWAP_PERM,
         true, T_SLOT1, true, 0, SMP_IMG_SLOTS_SWAP_PERM, 0},
        {"perm pending: test of that slot", SMP_IMG_SLOTS_SWAP_PERM, true, T_SLOT1, false,
         SMP_IMG_SLOTS_ERR_IMAGE_ALREADY_PENDING, SMP_IMG_SLOTS_SWAP_PERM, 0},
        {"perm pending: confirm of the running image", SMP_IMG_SLOTS_SWAP_PERM, true, T_SLOT0, true,
         SMP_IMG_SLOTS_ERR_IMAGE_ALREADY_PENDING, SMP_IMG_SLOTS_SWAP_PERM, 0},
        {"revert pending: test is refused", SMP_IMG_SLOTS_SWAP_REVERT, true, T_SLOT1, false,
         SMP_IMG_SLOTS_ERR_IMAGE_ALREADY_PENDING, SMP_IMG_SLOTS_SWAP_REVERT, 0},
        {"revert pending: confirm of the running image confirms it", SMP_IMG_SLOTS_SWAP_REVERT,
         true, T_NONE, true, 0, SMP_IMG_SLOTS_SWAP_NONE, 1},
        {"revert pending: confirm of the old image is a no-op", SMP_IMG_SLOTS_SWAP_REVERT, true,
         T_SLOT1, true, 0, SMP_IMG_SLOTS_SWAP_REVERT, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct smp_img_mgmt_cfg cfg = smp_img_mgmt_cfg_default();
        cfg.confirm_non_active_slot = cases[i].confirm_non_active_slot;
        struct fix f;
        fix_init_cfg(&f, &cfg);
        struct image img;
        build_image(&img, 2, 0, 0, 0, 300, 0, 0, 5);
        memcpy(f.mem.data[1], img.bytes, img.len);
        f.mem.swap[0] = cases[i].swap_before;
        uint8_t body[64];
        struct smp_frame_writer w;
        smp_frame_writer_init(&w, body, sizeof(body));
        smp_frame_put_map(&w, cases[i].target == T_NONE ? 1 : 2);
        if (cases[i].target != T_NONE) {
            uint8_t unknown[32];
            memset(unknown, 0x5a, sizeof(unknown));
            const uint8_t *h = cases[i].target == T_SLOT0   ? f.running.hash
                               : cases[i].target == T_SLOT1 ? img.hash
                                                            : unknown;
            smp_frame_put_text(&w, "hash");
            smp_frame_put_bstr(&w, h, cases[i].target == T_SHORT ? 31 : 32);
        }
        smp_frame_put_text(&w, "confirm");
        smp_frame_put_bool(&w, cases[i].confirm);
        send_req(&f, SMP_MGMT_OP_WRITE, 1, SMP_IMG_MGMT_ID_STATE, body, w.len);
        struct smp_frame_field fl[] = {{.key = "err", .type = SMP_FRAME_T_ANY},
                                       {.key = "images", .type = SMP_FRAME_T_ANY}};
        assert_int_equal(smp_frame_map_decode(f.frame + 8, f.frame_len - 8, fl, 2), 0);
        if (cases[i].want_err) {
            struct rsp r = parse(&f);
            expect_err(cases[i].name, &r, (uint32_t)cases[i].want_err);
            if (fl[1].found)
                fail_msg("%s: an error carries no state", cases[i].name);
        } else if (fl[0].found || !fl[1].found) {
            fail_msg("%s: want the state read response", cases[i].name);
        }
        if (f.mem.swap[0] != cases[i].swap_after)
            fail_msg("%s: swap type %d, want %d", cases[i].name, f.mem.swap[0],
                     cases[i].swap_after);
        if (count_events(&f, SMP_CALLBACKS_EVT_IMG_DFU_CONFIRMED) != cases[i].want_confirmed_events)
            fail_msg("%s: DFU_CONFIRMED count", cases[i].name);
        fix_fini(&f);
    }
}

static void test_state_write_v1_translation_and_decode_error(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f);
    const uint8_t test_without_hash[] = {0xa1, 0x67, 'c', 'o', 'n', 'f', 'i', 'r', 'm', 0xf4};
    send_req(&f, SMP_MGMT_OP_WRITE, 0, SMP_IMG_MGMT_ID_STATE, test_without_hash,
             sizeof(test_without_hash));
    const uint8_t want[] = {0x03, 0, 0, 6, 0, 1, 7, 0, 0xbf, 0x62, 'r', 'c', 0x03, 0xff};
    assert_int_equal(f.frame_len, sizeof(want));
    assert_memory_equal(f.frame, want, sizeof(want));
    const uint8_t bad_type[] = {0xa1, 0x67, 'c', 'o', 'n', 'f', 'i', 'r', 'm', 0x01};
    send_req(&f, SMP_MGMT_OP_WRITE, 1, SMP_IMG_MGMT_ID_STATE, bad_type, sizeof(bad_type));
    assert_int_equal(parse(&f).rc, SMP_MGMT_ERR_EINVAL);
    fix_fini(&f);
}

/* ---- erase ---------------------------------------------------------------------------- */

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c @main */
static void test_erase(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int swap;
        int slot; /* -1: default */
        int want_err;
        bool want_slot1_erased;
    } cases[] = {
        {"default slot is the non-running one", SMP_IMG_SLOTS_SWAP_NONE, -1, 0, true},
        {"the running slot is in use", SMP_IMG_SLOTS_SWAP_NONE, 0, SMP_IMG_SLOTS_ERR_NO_FREE_SLOT,
         false},
        {"a pending slot may be erased (ALLOW_ERASE_PENDING)", SMP_IMG_SLOTS_SWAP_TEST, 1, 0, true},
        {"the revert slot is in use", SMP_IMG_SLOTS_SWAP_REVERT, 1, SMP_IMG_SLOTS_ERR_NO_FREE_SLOT,
         false},
        {"a slot that does not exist", SMP_IMG_SLOTS_SWAP_NONE, 7, SMP_IMG_SLOTS_ERR_INVALID_SLOT,
         false},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fix f;
        fix_init(&f);
        struct image img;
        build_image(&img, 2, 0, 0, 0, 300, 0, 0, 5);
        struct up u = first_chunk(&img, 100); /* an upload in progress */
        upload(&f, &u);
        memcpy(f.mem.data[1], img.bytes, img.len);
        f.mem.swap[0] = cases[i].swap;
        uint8_t body[16];
        struct smp_frame_writer w;
        smp_frame_writer_init(&w, body, sizeof(body));
        smp_frame_put_map(&w, cases[i].slot >= 0 ? 1 : 0);
        if (cases[i].slot >= 0) {
            smp_frame_put_text(&w, "slot");
            smp_frame_put_uint(&w, (uint64_t)cases[i].slot);
        }
        f.n_events = 0;
        send_req(&f, SMP_MGMT_OP_WRITE, 1, SMP_IMG_MGMT_ID_ERASE, body, w.len);
        struct rsp r = parse(&f);
        if (cases[i].want_err) {
            expect_err(cases[i].name, &r, (uint32_t)cases[i].want_err);
        } else if (f.frame_len != 10 || f.frame[8] != 0xbf || f.frame[9] != 0xff) {
            fail_msg("%s: want {}", cases[i].name);
        }
        bool erased = f.mem.data[1][0] == 0xff && f.mem.data[1][img.len - 1] == 0xff;
        if (erased != cases[i].want_slot1_erased)
            fail_msg("%s: slot 1 erased %d", cases[i].name, erased);
        bool in_use_rejection = cases[i].want_err == SMP_IMG_SLOTS_ERR_NO_FREE_SLOT;
        if ((f.img.up.slot == -1) == in_use_rejection)
            fail_msg("%s: upload state reset wrong", cases[i].name);
        if (cases[i].want_err == SMP_IMG_SLOTS_ERR_INVALID_SLOT &&
            count_events(&f, SMP_CALLBACKS_EVT_IMG_DFU_STOPPED) != 1)
            fail_msg("%s: DFU_STOPPED missing", cases[i].name);
        fix_fini(&f);
    }
}

/* ---- Direct-XIP and multi-image ------------------------------------------------------ */

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c @main
 * (no state write handler with CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP). */
static void test_direct_xip(void **state)
{
    (void)state;
    struct smp_img_mgmt_cfg cfg = smp_img_mgmt_cfg_default();
    cfg.mode = SMP_IMG_MGMT_MODE_DIRECT_XIP;
    struct fix f;
    fix_init_cfg(&f, &cfg);
    const uint8_t body[] = {0xa1, 0x67, 'c', 'o', 'n', 'f', 'i', 'r', 'm', 0xf5};
    send_req(&f, SMP_MGMT_OP_WRITE, 1, SMP_IMG_MGMT_ID_STATE, body, sizeof(body));
    assert_int_equal(parse(&f).rc, SMP_MGMT_ERR_ENOTSUP);
    /* a higher version in the other slot boots next: pending + permanent */
    struct image img;
    build_image(&img, 2, 0, 0, 0, 300, 0, 0, 5);
    memcpy(f.mem.data[1], img.bytes, img.len);
    send_req(&f, SMP_MGMT_OP_READ, 1, SMP_IMG_MGMT_ID_STATE, NULL, 0);
    uint8_t want[256];
    size_t n = golden_slot(want, 1, "2.0.0", img.hash, true, false, false, true);
    assert_true(f.frame_len > n);
    assert_memory_equal(f.frame + f.frame_len - 15 - n, want, n);
    /* running from slot 1: uploads go to slot 0 */
    f.mem.active[0] = 1;
    memset(f.mem.data[0], 0xff, SLOT_SIZE);
    struct up u = first_chunk(&img, 64);
    upload(&f, &u);
    assert_int_equal(f.img.up.slot, 0);
    fix_fini(&f);

    cfg.mode = SMP_IMG_MGMT_MODE_DIRECT_XIP_REVERT;
    fix_init_cfg(&f, &cfg);
    uint8_t b2[64];
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, b2, sizeof(b2));
    smp_frame_put_map(&w, 2);
    smp_frame_put_text(&w, "hash");
    smp_frame_put_bstr(&w, f.running.hash, 32);
    smp_frame_put_text(&w, "confirm");
    smp_frame_put_bool(&w, false);
    send_req(&f, SMP_MGMT_OP_WRITE, 1, SMP_IMG_MGMT_ID_STATE, b2, w.len);
    struct rsp r = parse(&f);
    expect_err("xip-revert: test of the active slot", &r,
               SMP_IMG_SLOTS_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED);
    /* test of the other slot: the slot boots once next (xip ONCE -> pending) */
    memcpy(f.mem.data[1], img.bytes, img.len);
    f.mem.xip[0] = SMP_IMG_SLOTS_XIP_FOREVER;
    smp_frame_writer_init(&w, b2, sizeof(b2));
    smp_frame_put_map(&w, 1);
    smp_frame_put_text(&w, "hash");
    smp_frame_put_bstr(&w, img.hash, 32);
    send_req(&f, SMP_MGMT_OP_WRITE, 1, SMP_IMG_MGMT_ID_STATE, b2, w.len);
    assert_int_equal(f.mem.xip[1], SMP_IMG_SLOTS_XIP_ONCE);
    n = golden_slot(want, 1, "2.0.0", img.hash, true, false, false, false);
    assert_memory_equal(f.frame + f.frame_len - 15 - n, want, n);
    fix_fini(&f);
}

static void test_two_images(void **state)
{
    (void)state;
    struct smp_img_mgmt_cfg cfg = smp_img_mgmt_cfg_default();
    cfg.n_images = 2;
    struct fix f;
    fix_init_cfg(&f, &cfg);
    struct image net;
    build_image(&net, 1, 2, 0, 0, 300, 0, 0, 8);
    memcpy(f.mem.data[2], net.bytes, net.len);
    /* confirm of image 1's primary slot is denied; its secondary is allowed */
    struct image img1;
    build_image(&img1, 3, 0, 0, 0, 300, 0, 0, 9);
    memcpy(f.mem.data[3], img1.bytes, img1.len);
    uint8_t body[64];
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, body, sizeof(body));
    smp_frame_put_map(&w, 2);
    smp_frame_put_text(&w, "hash");
    smp_frame_put_bstr(&w, net.hash, 32);
    smp_frame_put_text(&w, "confirm");
    smp_frame_put_bool(&w, true);
    send_req(&f, SMP_MGMT_OP_WRITE, 1, SMP_IMG_MGMT_ID_STATE, body, w.len);
    struct rsp r = parse(&f);
    expect_err("confirm of another image's primary", &r,
               SMP_IMG_SLOTS_ERR_IMAGE_CONFIRMATION_DENIED);
    smp_frame_writer_init(&w, body, sizeof(body));
    smp_frame_put_map(&w, 2);
    smp_frame_put_text(&w, "hash");
    smp_frame_put_bstr(&w, img1.hash, 32);
    smp_frame_put_text(&w, "confirm");
    smp_frame_put_bool(&w, true);
    send_req(&f, SMP_MGMT_OP_WRITE, 1, SMP_IMG_MGMT_ID_STATE, body, w.len);
    r = parse(&f);
    assert_false(r.has_err);
    assert_int_equal(f.mem.swap[1], SMP_IMG_SLOTS_SWAP_PERM);
    /* state read carries "image" in every entry */
    send_req(&f, SMP_MGMT_OP_READ, 1, SMP_IMG_MGMT_ID_STATE, NULL, 0);
    const uint8_t image_key[] = {0xbf, 0x65, 'i', 'm', 'a', 'g', 'e',
                                 0x01, 0x64, 's', 'l', 'o', 't', 0x01};
    bool found = false;
    for (size_t i = 0; i + sizeof(image_key) <= f.frame_len && !found; i++)
        found = memcmp(f.frame + i, image_key, sizeof(image_key)) == 0;
    assert_true(found);
    /* upload to image 1 targets slot 3, which is now pending permanent */
    f.mem.swap[1] = SMP_IMG_SLOTS_SWAP_NONE;
    struct up u = first_chunk(&img1, 64);
    u.image = 1;
    u.sha = NULL;
    u.sha_len = 0;
    upload(&f, &u);
    assert_int_equal(f.img.up.slot, 3);
    u.image = 5;
    r = upload(&f, &u);
    expect_err("upload to an image that does not exist", &r, SMP_IMG_SLOTS_ERR_NO_FREE_SLOT);
    fix_fini(&f);
}

/* UPSTREAM: apache/mynewt-newtmgr: nmxact/xact/image.go @60b2da7 (SMP v1
 * headers, "image" in every chunk, len/sha/upgrade only at offset 0). */
static void test_upload_as_the_go_cli_sends_it(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f);
    struct image img;
    build_image(&img, 2, 0, 0, 0, 900, 0, 0, 5);
    size_t off = 0;
    while (off < img.len) {
        size_t n = img.len - off < 300 ? img.len - off : 300;
        struct up u = off == 0 ? first_chunk(&img, n) : next_chunk(&img, off, n);
        u.image = 0;
        if (off == 0)
            u.upgrade = 1;
        struct rsp r = upload_v(&f, &u, SMP_MGMT_VERSION_1);
        assert_int_equal(f.frame[0], 0x03); /* WRITE_RSP, v1 */
        assert_false(r.has_err || r.has_rc);
        off += n;
        assert_int_equal(r.off, off);
    }
    assert_memory_equal(f.mem.data[1], img.bytes, img.len);
    fix_fini(&f);
}

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c @main
 * (img_mgmt_slot_info). */
static void test_slot_info(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f);
    send_req(&f, SMP_MGMT_OP_READ, 1, SMP_IMG_MGMT_ID_SLOT_INFO, NULL, 0);
    assert_int_equal(parse(&f).rc, SMP_MGMT_ERR_ENOTSUP); /* off by default with one image */
    fix_fini(&f);
    struct smp_img_mgmt_cfg cfg = smp_img_mgmt_cfg_default();
    cfg.slot_info = true;
    fix_init_cfg(&f, &cfg);
    send_req(&f, SMP_MGMT_OP_READ, 1, SMP_IMG_MGMT_ID_SLOT_INFO, NULL, 0);
    /* {"images": [{"image": 0, "slots": [{"slot": 0, "size": 8192},
     *  {"slot": 1, "size": 8192, "upload_image_id": 0}]}]} */
    static const char want[] = "\xbf\x66images\x9f\xbf\x65image\x00\x65slots\x9f"
                               "\xbf\x64slot\x00\x64size\x19\x20\x00\xff"
                               "\xbf\x64slot\x01\x64size\x19\x20\x00"
                               "\x6fupload_image_id\x00\xff"
                               "\xff\xff\xff\xff";
    assert_int_equal(f.frame_len, 8 + sizeof(want) - 1);
    assert_memory_equal(f.frame + 8, want, sizeof(want) - 1);
    fix_fini(&f);
}

static void test_translation_table(void **state)
{
    (void)state;
    static const struct {
        uint16_t img;
        int rc;
    } cases[] = {
        {SMP_IMG_SLOTS_ERR_NO_IMAGE, 5},
        {SMP_IMG_SLOTS_ERR_NO_TLVS, 5},
        {SMP_IMG_SLOTS_ERR_NO_FREE_SLOT, 6},
        {SMP_IMG_SLOTS_ERR_CURRENT_VERSION_IS_NEWER, 6},
        {SMP_IMG_SLOTS_ERR_IMAGE_ALREADY_PENDING, 6},
        {SMP_IMG_SLOTS_ERR_NO_FREE_MEMORY, 2},
        {SMP_IMG_SLOTS_ERR_INVALID_SLOT, 3},
        {SMP_IMG_SLOTS_ERR_INVALID_PAGE_OFFSET, 3},
        {SMP_IMG_SLOTS_ERR_INVALID_OFFSET, 3},
        {SMP_IMG_SLOTS_ERR_INVALID_LENGTH, 3},
        {SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER, 3},
        {SMP_IMG_SLOTS_ERR_INVALID_HASH, 3},
        {SMP_IMG_SLOTS_ERR_INVALID_FLASH_ADDRESS, 3},
        {SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER_MAGIC, 1},
        {SMP_IMG_SLOTS_ERR_INVALID_IMAGE_TOO_LARGE, 1},
        {SMP_IMG_SLOTS_ERR_IMAGE_CONFIRMATION_DENIED, 1},
        {SMP_IMG_SLOTS_ERR_FLASH_WRITE_FAILED, 1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (smp_img_mgmt_translate(cases[i].img) != cases[i].rc)
            fail_msg("img error %u -> %d, want %d", cases[i].img,
                     smp_img_mgmt_translate(cases[i].img), cases[i].rc);
}

static void test_mem_slots_read_info_errors(void **state)
{
    (void)state;
    struct smp_img_slots_mem m;
    assert_int_equal(smp_img_slots_mem_init(&m, 3, SLOT_SIZE, PAGE_SIZE), SIM_EINVAL);
    assert_int_equal(smp_img_slots_mem_init(&m, 2, SLOT_SIZE, 1000), SIM_EINVAL);
    assert_int_equal(smp_img_slots_mem_init(&m, 2, SLOT_SIZE, PAGE_SIZE), 0);
    struct smp_img_slots s = smp_img_slots_mem_bind(&m);
    struct smp_img_slots_info info;
    assert_int_equal(s.ops->read_info(s.env, 0, &info), SMP_IMG_SLOTS_ERR_NO_IMAGE);
    assert_int_equal(s.ops->read_info(s.env, 2, &info), SMP_IMG_SLOTS_ERR_INVALID_SLOT);
    struct image img;
    build_image(&img, 1, 2, 3, 0, 100, 0, 0, 1);
    memcpy(m.data[0], img.bytes, img.len);
    assert_int_equal(s.ops->read_info(s.env, 0, &info), 0);
    assert_memory_equal(info.hash, img.hash, 32);
    assert_int_equal(info.ver.minor, 2);
    m.data[0][32 + 100 + 4] = 0x11; /* the hash TLV becomes another type */
    assert_int_equal(s.ops->read_info(s.env, 0, &info), SMP_IMG_SLOTS_ERR_HASH_NOT_FOUND);
    m.data[0][32 + 100] = 0x00; /* TLV info magic broken */
    assert_int_equal(s.ops->read_info(s.env, 0, &info), SMP_IMG_SLOTS_ERR_NO_TLVS);
    m.data[0][0] = 0x00;
    assert_int_equal(s.ops->read_info(s.env, 0, &info),
                     SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER_MAGIC);
    smp_img_slots_mem_fini(&m);
    smp_img_slots_mem_fini(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_first_chunk_table),
        cmocka_unit_test(test_upload_off_missing_is_invalid_offset_and_discards_upload),
        cmocka_unit_test(test_upload_whole_image_in_chunks),
        cmocka_unit_test(test_upload_last_chunk_match_false_when_sha_differs),
        cmocka_unit_test(test_upload_response_bytes),
        cmocka_unit_test(test_upload_resume_and_offset_mismatch),
        cmocka_unit_test(test_upload_continuation_without_upload_asks_for_offset_zero),
        cmocka_unit_test(test_upload_overrun_discards_upload),
        cmocka_unit_test(test_upload_erase_rules),
        cmocka_unit_test(test_upload_skipped_when_slot_already_matches),
        cmocka_unit_test(test_upload_check_hook),
        cmocka_unit_test(test_upload_flash_failures_stop_the_upload),
        cmocka_unit_test(test_upload_v1_errors_and_decode_failures),
        cmocka_unit_test(test_state_read_flags_by_swap_type),
        cmocka_unit_test(test_state_read_skips_empty_slots_and_frugal_list),
        cmocka_unit_test(test_state_write_table),
        cmocka_unit_test(test_state_write_v1_translation_and_decode_error),
        cmocka_unit_test(test_erase),
        cmocka_unit_test(test_direct_xip),
        cmocka_unit_test(test_two_images),
        cmocka_unit_test(test_upload_as_the_go_cli_sends_it),
        cmocka_unit_test(test_slot_info),
        cmocka_unit_test(test_translation_table),
        cmocka_unit_test(test_mem_slots_read_info_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
