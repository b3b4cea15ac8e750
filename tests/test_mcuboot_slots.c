/* tests/test_mcuboot_slots.c - one device's MCUboot slot state behind img_mgmt
 * (models/mcuboot/slots): read_info, upload through img_mgmt, check_sha, set_next, boot in
 * every mode, mixed writes from two DFU sources, erase pages, wear and flash time. Uses the
 * real imgtool image tests/data/mcuboot/signed.bin (tests/data/mcuboot/README.md)
 * on the nRF5340 DK map (its 0x74000-byte slots are the ones the image was signed for). */
#include "models/mcuboot/slots.h"
#include "models/mcuboot/explain.h"
#include "models/smp/img_mgmt.h"
#include "tests/image_builder.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SIGNED_BIN   DFUSIM_SOURCE_DIR "/tests/data/mcuboot/signed.bin"

/* Facts from the README of the test images. */
#define IMAGE_HASH "fd6b779acc61b6ef2f783c4d57ec98704a12d9d457a4bc48e5785105b86a8ed0"
#define FILE_SHA   "d536aa81ff3fe1a7816f18cb1b1c143e2acc605b61d8093281465a5b64b2672a"

#define CHUNK 512u
#define SEC   4096u

/* The shared image table: what every device refers to by index. */
enum { IMG_FACTORY, IMG_SIGNED, IMG_OTHER, IMG_OLDER, IMG_COUNT };

struct world {
    uint8_t *file; /* signed.bin, loaded once */
    size_t file_len;
    struct mcuboot_slots_image images[IMG_COUNT];
    struct flash_map map;
};

static struct world W;

static int setup(void **state)
{
    (void)state;
    struct sim_diag d;
    sim_diag_init(&d);
    static const struct mcuboot_image_version factory = {1, 0, 0, 0}, other = {2, 0, 0, 0},
                                              older = {1, 1, 0, 0};
    if (mcuboot_image_read_file(SIGNED_BIN, &W.file, &W.file_len, &d) != 0 ||
        mcuboot_image_parse(W.file, W.file_len, "signed.bin", &W.images[IMG_SIGNED].img, &d) != 0 ||
        mcuboot_image_synth(40000, &factory, &W.images[IMG_FACTORY].img, &d) != 0 ||
        mcuboot_image_synth(90000, &other, &W.images[IMG_OTHER].img, &d) != 0 ||
        mcuboot_image_synth(30000, &older, &W.images[IMG_OLDER].img, &d) != 0 ||
        flash_map_board(FLASH_MAP_NRF5340DK, &W.map) != 0) {
        fprintf(stderr, "fixture: %s", d.text);
        return -1;
    }
    W.images[IMG_SIGNED].file = W.file;
    W.images[IMG_SIGNED].linked_slot = 1;
    W.images[IMG_OTHER].linked_slot = 1;
    W.images[IMG_OLDER].linked_slot = 1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(W.file);
    return 0;
}

/* One device on the nRF5340 DK, factory image confirmed in the primary, optional wear. */
struct dev {
    struct mcuboot_slots_cfg cfg;
    struct mcuboot_slots s;
    struct smp_img_slots ops;
    struct flash_wear *wear;
};

static void dev_init(struct dev *v, enum mcuboot_slots_mode mode, bool progressive)
{
    struct sim_diag d;
    sim_diag_init(&d);
    memset(v, 0, sizeof(*v));
    int rc = mcuboot_slots_cfg_init(&v->cfg, mode, &W.map, W.images, IMG_COUNT, &d);
    if (rc != 0)
        fprintf(stderr, "%s", d.text);
    assert_int_equal(rc, 0);
    v->cfg.erase_progressively = progressive;
    /* wear sectors: primary 0..115, secondary 116..231, scratch 232 */
    v->wear = flash_wear_new(1, 233);
    assert_non_null(v->wear);
    const uint32_t base[MCUBOOT_SWAP_AREA_COUNT] = {0, 116, 232};
    assert_int_equal(mcuboot_slots_init(&v->s, &v->cfg, v->wear, 0, base), 0);
    assert_int_equal(mcuboot_slots_install(&v->s, 0, IMG_FACTORY, true), 0);
    v->ops = mcuboot_slots_bind(&v->s);
}

static void dev_fini(struct dev *v)
{
    mcuboot_slots_fini(&v->s);
    flash_wear_free(v->wear);
}

static int read_info(struct dev *v, int slot, struct smp_img_slots_info *info)
{
    return v->ops.ops->read_info(v->ops.env, slot, info);
}

static int swap_type(struct dev *v)
{
    return v->ops.ops->swap_type(v->ops.env, 0);
}

static void hex_equal(const uint8_t *hash, const char *want)
{
    char hex[65];
    mcuboot_image_hash_hex(hash, hex);
    assert_string_equal(hex, want);
}

static const uint8_t *bytes_of(int img, uint32_t off, size_t n, uint8_t *buf)
{
    assert_int_equal(mcuboot_image_bytes(&W.images[img].img, W.images[img].file, off, buf, n), 0);
    return buf;
}

/* Write image `img` [from, to) into slot 1 through the interface, CHUNK bytes at a time. */
static void write_range(struct dev *v, int img, uint32_t from, uint32_t to)
{
    uint8_t buf[CHUNK];
    uint32_t size = W.images[img].img.file_size;
    for (uint32_t off = from; off < to; off += CHUNK) {
        uint32_t n = to - off < CHUNK ? to - off : CHUNK;
        assert_int_equal(
            v->ops.ops->write(v->ops.env, 1, off, bytes_of(img, off, n, buf), n, off + n == size),
            0);
    }
}

static void upload_direct(struct dev *v, int img)
{
    uint32_t size = W.images[img].img.file_size;
    assert_int_equal(v->ops.ops->erase_upload(v->ops.env, 1, size), 0);
    write_range(v, img, 0, size);
}

static void boot(struct dev *v, struct mcuboot_slots_boot_result *r)
{
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = mcuboot_slots_boot(&v->s, -1, r, &d);
    if (rc != 0)
        fprintf(stderr, "%s", d.text);
    assert_int_equal(rc, 0);
}

/* ---- img_mgmt on top ----------------------------------------------------------------- */

struct mgmt {
    struct smp_img_mgmt m;
    uint8_t rsp[1024];
    struct smp_frame_writer w;
};

static void mgmt_init(struct mgmt *g, struct dev *v)
{
    struct smp_img_mgmt_cfg cfg = smp_img_mgmt_cfg_default();
    cfg.erase_progressively = v->cfg.erase_progressively; /* one Kconfig, two models */
    memset(g, 0, sizeof(*g));
    smp_img_mgmt_init(&g->m, &cfg, v->ops, NULL);
}

/* Call a handler as the server does (between map start and end); returns the SMP rc. */
static int mgmt_call(struct mgmt *g, int id, bool write, const uint8_t *body, size_t n)
{
    smp_frame_writer_init(&g->w, g->rsp, sizeof(g->rsp));
    struct smp_server_req rq = {.hdr = {.op = write ? SMP_MGMT_OP_WRITE : SMP_MGMT_OP_READ,
                                        .version = SMP_MGMT_VERSION_2,
                                        .group = SMP_MGMT_GROUP_IMAGE,
                                        .id = (uint8_t)id,
                                        .len = (uint16_t)n},
                                .payload = body,
                                .w = &g->w};
    smp_frame_put_map(&g->w, SMP_FRAME_INDEF);
    smp_server_handler_fn fn = write ? g->m.handlers[id].write : g->m.handlers[id].read;
    assert_non_null(fn);
    int rc = fn(&g->m, &rq);
    smp_frame_put_end(&g->w);
    assert_false(g->w.overflow);
    return rc;
}

struct up_rsp {
    bool has_off, has_match, has_err;
    uint32_t off, err_rc;
    bool match;
};

/* One upload request of image img at off (first chunk: len and the file sha). */
static struct up_rsp mgmt_upload(struct mgmt *g, int img, uint32_t off, uint32_t n)
{
    const struct mcuboot_image *im = &W.images[img].img;
    uint8_t data[CHUNK], body[CHUNK + 128];
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, body, sizeof(body));
    smp_frame_put_map(&w, off == 0 ? 4 : 2);
    smp_frame_put_text(&w, "data");
    smp_frame_put_bstr(&w, bytes_of(img, off, n, data), n);
    if (off == 0) {
        smp_frame_put_text(&w, "len");
        smp_frame_put_uint(&w, im->file_size);
    }
    smp_frame_put_text(&w, "off");
    smp_frame_put_uint(&w, off);
    if (off == 0) {
        smp_frame_put_text(&w, "sha");
        smp_frame_put_bstr(&w, im->file_sha, 32);
    }
    assert_false(w.overflow);
    assert_int_equal(mgmt_call(g, SMP_IMG_MGMT_ID_UPLOAD, true, body, w.len), 0);
    struct smp_frame_field f[] = {{.key = "off", .type = SMP_FRAME_T_U32},
                                  {.key = "match", .type = SMP_FRAME_T_BOOL},
                                  {.key = "err", .type = SMP_FRAME_T_ANY}};
    assert_int_equal(smp_frame_map_decode(g->rsp, g->w.len, f, 3), 0);
    struct up_rsp r = {.has_off = f[0].found,
                       .off = f[0].u32,
                       .has_match = f[1].found,
                       .match = f[1].b,
                       .has_err = f[2].found};
    if (r.has_err) {
        struct smp_frame_field e[] = {{.key = "rc", .type = SMP_FRAME_T_U32}};
        assert_int_equal(smp_frame_map_decode(f[2].str, f[2].str_len, e, 1), 0);
        r.err_rc = e[0].u32;
    }
    return r;
}

/* Upload a whole image as a client does: follow the offsets the device answers. */
static struct up_rsp mgmt_upload_all(struct mgmt *g, int img)
{
    uint32_t size = W.images[img].img.file_size, off = 0;
    struct up_rsp r;
    do {
        uint32_t n = size - off < CHUNK ? size - off : CHUNK;
        r = mgmt_upload(g, img, off, n);
        assert_false(r.has_err);
        assert_true(r.has_off);
        off = r.off;
    } while (off < size);
    return r;
}

/* Image state write {"hash": h, "confirm": c}; returns the group error (0 = none). */
static uint32_t mgmt_state_write(struct mgmt *g, const uint8_t *hash, bool confirm)
{
    uint8_t body[64];
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, body, sizeof(body));
    smp_frame_put_map(&w, hash ? 2 : 1);
    if (hash) {
        smp_frame_put_text(&w, "hash");
        smp_frame_put_bstr(&w, hash, 32);
    }
    smp_frame_put_text(&w, "confirm");
    smp_frame_put_bool(&w, confirm);
    assert_int_equal(mgmt_call(g, SMP_IMG_MGMT_ID_STATE, true, body, w.len), 0);
    struct smp_frame_field f[] = {{.key = "err", .type = SMP_FRAME_T_ANY}};
    assert_int_equal(smp_frame_map_decode(g->rsp, g->w.len, f, 1), 0);
    if (!f[0].found)
        return 0;
    struct smp_frame_field e[] = {{.key = "rc", .type = SMP_FRAME_T_U32}};
    assert_int_equal(smp_frame_map_decode(f[0].str, f[0].str_len, e, 1), 0);
    return e[0].u32;
}

/* ======================================================================================
 * read_info: erased slot, installed image, invalid slots
 * UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c
 * (img_mgmt_read_info) @v4.2.0 */
static void read_info_of_erased_installed_and_invalid_slots(void **state)
{
    (void)state;
    struct dev v;
    dev_init(&v, MCUBOOT_SLOTS_SWAP_MOVE, false);
    struct smp_img_slots_info info;
    assert_int_equal(read_info(&v, 1, &info), SMP_IMG_SLOTS_ERR_NO_IMAGE);
    assert_int_equal(read_info(&v, 0, &info), 0);
    assert_int_equal(info.ver.major, 1);
    assert_int_equal(info.ver.minor, 0);
    assert_memory_equal(info.hash, W.images[IMG_FACTORY].img.hash, 32);
    static const int bad[] = {-1, 2, 3};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        bool empty;
        const struct smp_img_slots_ops *o = v.ops.ops;
        assert_int_equal(read_info(&v, bad[i], &info), SMP_IMG_SLOTS_ERR_INVALID_SLOT);
        assert_int_equal(o->is_empty(v.ops.env, bad[i], &empty), SMP_IMG_SLOTS_ERR_INVALID_SLOT);
        assert_int_equal(o->erase_slot(v.ops.env, bad[i]), SMP_IMG_SLOTS_ERR_INVALID_SLOT);
        assert_int_equal(o->erase_upload(v.ops.env, bad[i], 100), SMP_IMG_SLOTS_ERR_INVALID_SLOT);
        assert_int_equal(o->write(v.ops.env, bad[i], 0, W.file, 32, false),
                         SMP_IMG_SLOTS_ERR_INVALID_SLOT);
        assert_int_equal(o->set_next(v.ops.env, bad[i], false, false),
                         SMP_IMG_SLOTS_ERR_INVALID_SLOT);
        assert_int_not_equal(o->check_sha(v.ops.env, bad[i], 10, W.images[0].img.file_sha), 0);
        assert_int_equal(o->slot_size(v.ops.env, bad[i]), 0);
        assert_int_equal(o->xip_state(v.ops.env, bad[i]), -1);
    }
    assert_int_equal(v.ops.ops->active_slot(v.ops.env, 0), 0);
    assert_int_equal(v.ops.ops->active_slot(v.ops.env, 1), -1);
    assert_int_equal(v.ops.ops->swap_type(v.ops.env, 1), SMP_IMG_SLOTS_SWAP_FAIL);
    assert_int_equal(v.ops.ops->slot_size(v.ops.env, 1), 464 * 1024);
    assert_int_equal(v.ops.ops->slot_addr(v.ops.env, 0), 0x10000);
    assert_int_equal(v.ops.ops->slot_addr(v.ops.env, 1), 0x84000);
    dev_fini(&v);
}

/* ======================================================================================
 * The real image uploaded through img_mgmt reads back with the version and hash its notes
 * state; check_sha takes the file SHA-256 and refuses another.
 * EVIDENCE-OF: README "version 1.2.3+4", "Image hash ... fd6b77...", "SHA-256 of the whole
 * file (what upload clients send as sha) d536aa...".
 * UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c
 * (img_mgmt_upload, "match") @v4.2.0 */
static void real_image_uploaded_through_img_mgmt_reads_back(void **state)
{
    (void)state;
    struct dev v;
    struct mgmt g;
    dev_init(&v, MCUBOOT_SLOTS_SWAP_MOVE, false);
    mgmt_init(&g, &v);
    struct up_rsp r = mgmt_upload_all(&g, IMG_SIGNED);
    assert_int_equal(r.off, W.file_len);
    assert_true(r.has_match);
    assert_true(r.match);
    struct smp_img_slots_info info;
    assert_int_equal(read_info(&v, 1, &info), 0);
    assert_int_equal(info.ver.major, 1);
    assert_int_equal(info.ver.minor, 2);
    assert_int_equal(info.ver.revision, 3);
    assert_int_equal(info.ver.build, 4);
    assert_int_equal(info.flags, 0);
    hex_equal(info.hash, IMAGE_HASH);
    hex_equal(W.images[IMG_SIGNED].img.file_sha, FILE_SHA);

    const struct smp_img_slots_ops *o = v.ops.ops;
    uint8_t wrong[32], prefix[32];
    memcpy(wrong, W.images[IMG_SIGNED].img.file_sha, 32);
    wrong[31] ^= 1;
    unsigned int n = 0;
    assert_true(EVP_Digest(W.file, 1000, prefix, &n, EVP_sha256(), NULL) && n == 32);
    static const struct {
        const char *name;
        uint32_t len;
        bool use_wrong, use_prefix;
        int want;
    } cases[] = {
        {"file SHA-256 over the whole file matches", 103063, false, false, 0},
        {"a wrong SHA-256 does not", 103063, true, false, 1},
        {"SHA-256 of a prefix is hashed from the shared bytes", 1000, false, true, 0},
        {"a length past the image is not a prefix of it", 103064, false, false, 1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        const uint8_t *sha = cases[i].use_wrong    ? wrong
                             : cases[i].use_prefix ? prefix
                                                   : W.images[IMG_SIGNED].img.file_sha;
        assert_int_equal(o->check_sha(v.ops.env, 1, cases[i].len, sha), cases[i].want);
    }
    /* Uploading the same image again is skipped by the image check: the slot matches. */
    r = mgmt_upload(&g, IMG_SIGNED, 0, CHUNK);
    assert_int_equal(r.off, W.file_len);
    assert_true(r.match);
    dev_fini(&v);
}

/* ======================================================================================
 * Test, permanent, boot, revert and confirm in every copying mode.
 * EVIDENCE-OF: boot_swap_tables[] row IV: an unconfirmed TEST image followed by any reboot
 * is swapped back (REVERT); after a completed PERM swap the primary's image_ok is 1.
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/bootutil_public.c (boot_set_next,
 * boot_swap_type_multi) @2d4bacc */
static const struct {
    const char *name;
    enum mcuboot_slots_mode mode;
    int after_test_boot; /* swap type with the test image running unconfirmed */
    int old_in_secondary;
} copy_modes[] = {
    {"overwrite-only has no revert", MCUBOOT_SLOTS_OVERWRITE, SMP_IMG_SLOTS_SWAP_NONE, -1},
    {"swap-scratch reverts", MCUBOOT_SLOTS_SWAP_SCRATCH, SMP_IMG_SLOTS_SWAP_REVERT, IMG_FACTORY},
    {"swap-move reverts", MCUBOOT_SLOTS_SWAP_MOVE, SMP_IMG_SLOTS_SWAP_REVERT, IMG_FACTORY},
    {"swap-offset reverts", MCUBOOT_SLOTS_SWAP_OFFSET, SMP_IMG_SLOTS_SWAP_REVERT, IMG_FACTORY},
};

static void test_boot_revert_confirm_in_every_copying_mode(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(copy_modes); i++) {
        print_message("case: %s\n", copy_modes[i].name);
        struct dev v;
        struct mcuboot_slots_boot_result r;
        dev_init(&v, copy_modes[i].mode, false);
        upload_direct(&v, IMG_SIGNED);
        assert_int_equal(mcuboot_slots_image_in(&v.s, 1), IMG_SIGNED);
        assert_int_equal(swap_type(&v), SMP_IMG_SLOTS_SWAP_NONE);
        assert_int_equal(v.ops.ops->set_next(v.ops.env, 1, false, false), 0);
        assert_true(mcuboot_slots_last_op_ns(&v.s) > 0); /* trailer writes take time */
        assert_int_equal(swap_type(&v), SMP_IMG_SLOTS_SWAP_TEST);
        boot(&v, &r);
        assert_int_equal(r.swap_type, MCUBOOT_TRAILER_SWAP_TEST);
        assert_int_equal(r.image, IMG_SIGNED);
        assert_true(r.ns > 0);
        assert_int_equal(mcuboot_slots_last_op_ns(&v.s), r.ns);
        assert_int_equal(mcuboot_slots_image_in(&v.s, 0), IMG_SIGNED);
        assert_int_equal(mcuboot_slots_image_in(&v.s, 1), copy_modes[i].old_in_secondary);
        struct smp_img_slots_info info;
        assert_int_equal(read_info(&v, 0, &info), 0);
        hex_equal(info.hash, IMAGE_HASH);
        assert_int_equal(swap_type(&v), copy_modes[i].after_test_boot);
        if (copy_modes[i].after_test_boot == SMP_IMG_SLOTS_SWAP_REVERT) {
            /* Not confirmed: the next reset reverts, and the old image is permanent. */
            boot(&v, &r);
            assert_int_equal(r.swap_type, MCUBOOT_TRAILER_SWAP_REVERT);
            assert_int_equal(mcuboot_slots_image_in(&v.s, 0), IMG_FACTORY);
            assert_int_equal(swap_type(&v), SMP_IMG_SLOTS_SWAP_NONE);
            /* Again, confirmed this time: it stays. */
            upload_direct(&v, IMG_SIGNED);
            assert_int_equal(v.ops.ops->set_next(v.ops.env, 1, false, false), 0);
            boot(&v, &r);
            assert_int_equal(swap_type(&v), SMP_IMG_SLOTS_SWAP_REVERT);
            assert_int_equal(v.ops.ops->set_next(v.ops.env, 0, true, true), 0);
            assert_int_equal(swap_type(&v), SMP_IMG_SLOTS_SWAP_NONE);
            boot(&v, &r);
            assert_int_equal(r.swap_type, MCUBOOT_TRAILER_SWAP_NONE);
            assert_int_equal(mcuboot_slots_image_in(&v.s, 0), IMG_SIGNED);
        }
        /* Permanent: PERM, then nothing to revert. */
        upload_direct(&v, IMG_OTHER);
        assert_int_equal(v.ops.ops->set_next(v.ops.env, 1, false, true), 0);
        assert_int_equal(swap_type(&v), SMP_IMG_SLOTS_SWAP_PERM);
        boot(&v, &r);
        assert_int_equal(r.swap_type, MCUBOOT_TRAILER_SWAP_PERM);
        assert_int_equal(mcuboot_slots_image_in(&v.s, 0), IMG_OTHER);
        assert_int_equal(swap_type(&v), SMP_IMG_SLOTS_SWAP_NONE);
        dev_fini(&v);
    }
}

/* ======================================================================================
 * The same through img_mgmt's state write: test by hash, reset, confirm without hash.
 * UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt_state.c
 * (img_mgmt_state_write, img_mgmt_set_next_boot_slot) @v4.2.0 */
static void state_write_through_img_mgmt_tests_and_confirms(void **state)
{
    (void)state;
    struct dev v;
    struct mgmt g;
    struct mcuboot_slots_boot_result r;
    dev_init(&v, MCUBOOT_SLOTS_SWAP_MOVE, false);
    mgmt_init(&g, &v);
    (void)mgmt_upload_all(&g, IMG_SIGNED);
    assert_int_equal(mgmt_state_write(&g, W.images[IMG_SIGNED].img.hash, false), 0);
    assert_int_equal(swap_type(&v), SMP_IMG_SLOTS_SWAP_TEST);
    /* A second test of the same slot is no change; a confirm of it now is refused. */
    assert_int_equal(mgmt_state_write(&g, W.images[IMG_SIGNED].img.hash, false), 0);
    assert_int_equal(mgmt_state_write(&g, W.images[IMG_SIGNED].img.hash, true),
                     SMP_IMG_SLOTS_ERR_IMAGE_ALREADY_PENDING);
    boot(&v, &r);
    assert_int_equal(mcuboot_slots_image_in(&v.s, 0), IMG_SIGNED);
    assert_int_equal(swap_type(&v), SMP_IMG_SLOTS_SWAP_REVERT);
    assert_int_equal(mgmt_state_write(&g, NULL, true), 0);
    assert_int_equal(swap_type(&v), SMP_IMG_SLOTS_SWAP_NONE);
    dev_fini(&v);
}

/* ======================================================================================
 * Bytes of another image written mid-upload: the slot holds a mixed image.
 * Two DFU sources fight over the slot through one img_mgmt: B's first chunk restarts the
 * upload (erase, B's header), A's next chunk is answered with B's offset and an Android
 * client continues there with A's bytes.
 * UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/zephyr_img_mgmt.c
 * (img_mgmt_upload_inspect: offset mismatch answers the expected offset) @v4.2.0 */
static void two_sources_fighting_leave_a_mixed_image(void **state)
{
    (void)state;
    struct dev v;
    struct mgmt g;
    struct mcuboot_slots_boot_result r;
    dev_init(&v, MCUBOOT_SLOTS_SWAP_MOVE, false);
    mgmt_init(&g, &v);
    struct up_rsp a = {0};
    for (uint32_t off = 0; off < 20 * CHUNK; off = a.off)
        a = mgmt_upload(&g, IMG_SIGNED, off, CHUNK);        /* source A */
    struct up_rsp b = mgmt_upload(&g, IMG_OTHER, 0, CHUNK); /* source B */
    assert_int_equal(b.off, CHUNK);
    a = mgmt_upload(&g, IMG_SIGNED, 20 * CHUNK, CHUNK); /* A: told off */
    assert_int_equal(a.off, CHUNK);
    uint32_t size = W.images[IMG_OTHER].img.file_size, off = CHUNK; /* A goes on at B's */
    while (off < size) {
        uint32_t n = size - off < CHUNK ? size - off : CHUNK;
        a = mgmt_upload(&g, IMG_SIGNED, off, n);
        off = a.off;
    }
    assert_true(a.has_match);
    assert_false(a.match);
    const struct smp_img_slots_ops *o = v.ops.ops;
    assert_int_equal(o->check_sha(v.ops.env, 1, size, W.images[IMG_OTHER].img.file_sha), 1);
    assert_int_equal(o->check_sha(v.ops.env, 1, size, W.images[IMG_SIGNED].img.file_sha), 1);
    /* B's header with A's bytes where B's TLVs should be. */
    struct smp_img_slots_info info;
    assert_int_equal(read_info(&v, 1, &info), SMP_IMG_SLOTS_ERR_NO_TLVS);
    assert_int_equal(mcuboot_slots_image_in(&v.s, 1), MCUBOOT_SLOTS_NONE);
    /* Even scheduled by force, the bootloader does not take it. */
    assert_int_equal(o->set_next(v.ops.env, 1, false, false), 0);
    boot(&v, &r);
    assert_true(r.scrambled);
    assert_int_equal(r.swap_type, MCUBOOT_TRAILER_SWAP_NONE);
    assert_int_equal(mcuboot_slots_image_in(&v.s, 0), IMG_FACTORY);
    assert_int_equal(read_info(&v, 1, &info), SMP_IMG_SLOTS_ERR_NO_IMAGE);
    dev_fini(&v);
}

/* A body chunk of another image in the middle: header and TLVs are intact, so img_mgmt
 * still reports the image (as upstream: it reads only header and TLVs), but the file hash
 * no longer matches and the bootloader scrambles it. */
static void a_foreign_chunk_mid_upload_fails_hash_and_boot(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t bad_off;
        bool zeros; /* bytes of no image instead of the other image's */
        int want_info;
    } cases[] = {
        {"chunk in the body", 40 * CHUNK, false, 0},
        {"chunk over the TLV area", 0x19200 - 100, false, SMP_IMG_SLOTS_ERR_NO_TLVS},
        {"the other image's header: its TLVs are missing", 0, false, SMP_IMG_SLOTS_ERR_NO_TLVS},
        {"bytes of no image over the header", 0, true,
         SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER_MAGIC},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct dev v;
        struct mcuboot_slots_boot_result r;
        uint8_t buf[CHUNK];
        dev_init(&v, MCUBOOT_SLOTS_SWAP_MOVE, false);
        uint32_t size = W.images[IMG_SIGNED].img.file_size, bad = cases[i].bad_off;
        assert_int_equal(v.ops.ops->erase_upload(v.ops.env, 1, size), 0);
        write_range(&v, IMG_SIGNED, 0, bad);
        /* the other image's bytes, from wherever it has some */
        const uint8_t *foreign = bytes_of(IMG_OTHER, bad % 80000, CHUNK, buf);
        if (cases[i].zeros)
            memset(buf, 0, sizeof(buf));
        assert_int_equal(v.ops.ops->write(v.ops.env, 1, bad, foreign, CHUNK, false), 0);
        write_range(&v, IMG_SIGNED, bad + CHUNK, size);
        struct smp_img_slots_info info;
        int rc = read_info(&v, 1, &info);
        assert_int_equal(rc, cases[i].want_info);
        if (rc == 0)
            hex_equal(info.hash, IMAGE_HASH);
        assert_int_equal(
            v.ops.ops->check_sha(v.ops.env, 1, size, W.images[IMG_SIGNED].img.file_sha), 1);
        assert_int_equal(mcuboot_slots_image_in(&v.s, 1), MCUBOOT_SLOTS_NONE);
        assert_int_equal(v.ops.ops->set_next(v.ops.env, 1, false, true), 0);
        boot(&v, &r);
        assert_true(r.scrambled);
        assert_int_equal(mcuboot_slots_image_in(&v.s, 0), IMG_FACTORY);
        dev_fini(&v);
    }
}

/* A second writer (the config-channel DFU) stores its bytes at offset 0 while an upload
 * goes on past it: the sector it touched is garbage, the upload's own later sectors (the
 * partly written one included) keep their tags, its hash fails, and the boot refuses the
 * slot. Foreign bytes over the upload's partly written sector spoil that one too. */
static void a_foreign_writer_spoils_only_what_it_touches(void **state)
{
    (void)state;
    struct dev v;
    struct mcuboot_slots_boot_result r;
    dev_init(&v, MCUBOOT_SLOTS_SWAP_MOVE, false);
    uint32_t size = W.images[IMG_SIGNED].img.file_size, ss = v.s.cfg->geom.sector_size;
    assert_int_equal(v.ops.ops->erase_upload(v.ops.env, 1, size), 0);
    write_range(&v, IMG_SIGNED, 0, 2 * ss + CHUNK); /* sector 2 partly written */
    assert_int_equal(mcuboot_slots_foreign_write(&v.s, 1, 16, 16), 0);
    assert_int_equal(v.s.sector[MCUBOOT_SWAP_SECONDARY][0], MCUBOOT_SWAP_GARBAGE);
    assert_int_equal(v.s.up[1].good, 0);
    write_range(&v, IMG_SIGNED, 2 * ss + CHUNK, size);
    for (uint32_t k = 1; k < size / ss; k++)
        assert_int_equal(v.s.sector[MCUBOOT_SWAP_SECONDARY][k],
                         mcuboot_swap_tag(IMG_SIGNED + 1, k));
    struct smp_img_slots_info info;
    assert_int_equal(read_info(&v, 1, &info), SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER_MAGIC);
    assert_int_equal(v.ops.ops->check_sha(v.ops.env, 1, size, W.images[IMG_SIGNED].img.file_sha),
                     1);
    assert_int_equal(mcuboot_slots_image_in(&v.s, 1), MCUBOOT_SLOTS_NONE);
    assert_int_equal(v.ops.ops->set_next(v.ops.env, 1, false, false), 0);
    boot(&v, &r);
    assert_true(r.scrambled);
    assert_int_equal(mcuboot_slots_image_in(&v.s, 0), IMG_FACTORY);
    /* the partly written sector touched: spoilt as well */
    assert_int_equal(v.ops.ops->erase_upload(v.ops.env, 1, size), 0);
    write_range(&v, IMG_SIGNED, 0, 2 * ss + CHUNK);
    assert_int_equal(mcuboot_slots_foreign_write(&v.s, 1, 2 * ss + 16, 16), 0);
    write_range(&v, IMG_SIGNED, 2 * ss + CHUNK, 3 * ss);
    assert_int_equal(v.s.sector[MCUBOOT_SWAP_SECONDARY][1], mcuboot_swap_tag(IMG_SIGNED + 1, 1));
    assert_int_equal(v.s.sector[MCUBOOT_SWAP_SECONDARY][2], MCUBOOT_SWAP_GARBAGE);
    assert_int_equal(mcuboot_slots_foreign_write(&v.s, 1, 0, 0), SIM_EINVAL);
    assert_int_equal(mcuboot_slots_foreign_write(&v.s, 2, 0, 16), SIM_EINVAL);
    dev_fini(&v);
}

/* Rewriting a chunk with the same bytes (a client repeating itself at the same offset
 * after a lost response, without an erase) changes nothing: NOR AND of equal bytes. */
static void rewriting_the_same_bytes_keeps_the_image(void **state)
{
    (void)state;
    struct dev v;
    dev_init(&v, MCUBOOT_SLOTS_SWAP_MOVE, false);
    uint32_t size = W.images[IMG_SIGNED].img.file_size;
    assert_int_equal(v.ops.ops->erase_upload(v.ops.env, 1, size), 0);
    write_range(&v, IMG_SIGNED, 0, 10 * CHUNK);
    write_range(&v, IMG_SIGNED, 9 * CHUNK, size);
    assert_int_equal(mcuboot_slots_image_in(&v.s, 1), IMG_SIGNED);
    assert_int_equal(v.ops.ops->check_sha(v.ops.env, 1, size, W.images[IMG_SIGNED].img.file_sha),
                     0);
    dev_fini(&v);
}

/* ======================================================================================
 * Erase pages: the first chunk erases ceil(len / 4096) pages and the trailer page, counted
 * in wear; time is the chip's erase time, doubled under BLE on the nRF5340.
 * EVIDENCE-OF: img_mgmt.c erases len bytes of the target slot (rounded up to whole pages)
 * plus the trailer before it answers the first chunk; zephyrproject-rtos/zephyr:
 * drivers/flash/soc_flash_nrf.c runs that erase in radio-free time slots (BLE slowdown).
 * UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c
 * (img_mgmt_erase_image_data) @v4.2.0 */
static void erase_upload_erases_image_pages_and_the_trailer_page(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bool progressive, ble;
        uint32_t sectors; /* image pages erased: ceil(103063 / 4096) = 26 */
    } cases[] = {
        {"first-chunk erase, radio off", false, false, 26},
        {"first-chunk erase under BLE", false, true, 26},
        {"progressive erase, one page per page entered", true, false, 26},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct dev v;
        struct mgmt g;
        dev_init(&v, MCUBOOT_SLOTS_SWAP_MOVE, cases[i].progressive);
        mcuboot_slots_set_ble(&v.s, cases[i].ble);
        /* A leftover image in the secondary, so that the first chunk has to erase. */
        assert_int_equal(mcuboot_slots_install(&v.s, 1, IMG_OTHER, true), 0);
        mgmt_init(&g, &v);
        struct up_rsp r = mgmt_upload(&g, IMG_SIGNED, 0, CHUNK);
        assert_int_equal(r.off, CHUNK);
        (void)mgmt_upload_all(&g, IMG_SIGNED);
        assert_int_equal(mcuboot_slots_image_in(&v.s, 1), IMG_SIGNED);
        if (!cases[i].progressive) {
            /* The erase alone, as the first chunk did it: 26 + 1 pages. */
            int64_t want = flash_chip_erase_ns(&v.cfg.geom.chip[MCUBOOT_SWAP_SECONDARY], 27);
            want = flash_chip_app_ns(&v.cfg.geom.chip[MCUBOOT_SWAP_SECONDARY], want, cases[i].ble);
            assert_int_equal(v.ops.ops->erase_upload(v.ops.env, 1, 103063), 0);
            assert_int_equal(mcuboot_slots_last_op_ns(&v.s), want);
            assert_int_equal(mcuboot_slots_image_in(&v.s, 1), MCUBOOT_SLOTS_NONE);
        }
        for (uint32_t k = 0; k < 116; k++) {
            struct flash_wear_count c;
            assert_int_equal(flash_wear_get(v.wear, 0, 116 + k, &c), 0);
            uint32_t want = (k < cases[i].sectors || k == 115) ? 1 : 0;
            if (!cases[i].progressive)
                want *= 2; /* the upload's erase and the extra erase_upload above */
            if (c.erases != want)
                fail_msg("secondary sector %u erased %u times, want %u", k, c.erases, want);
            if ((c.writes != 0) != (k < cases[i].sectors))
                fail_msg("secondary sector %u written %u times", k, c.writes);
        }
        dev_fini(&v);
    }
}

/* ======================================================================================
 * The first chunk's erase as the device pays for it: img_mgmt's slot calls are timed one by
 * one and summed, as the fleet device charges them to the packet it is processing
 * (models/fleet/device.c, MEASURE). On a slot left used by an older image, older mcumgr's
 * whole-slot erase makes the first response wait n_sectors x t_erase (116 x 4 KiB sectors
 * of the nRF5340 DK's secondary), today's erase only ceil(len / 4096) + 1 trailer sector;
 * everything else the first chunk does (emptiness read, image check, write) is the same.
 * UPSTREAM: zephyrproject-rtos/mcumgr @c27cf45: cmd/img_mgmt/src/img_mgmt.c
 * (img_mgmt_upload_first_chunk -> img_mgmt_impl_erase_slot); zephyrproject-rtos/zephyr:
 * subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c (img_mgmt_erase_image_data(0, req.size)) */
struct timed {
    struct smp_img_slots in;
    struct mcuboot_slots *s;
    int64_t ns;                        /* flash time of every call so far */
    uint32_t n_erase_slot, n_erase_up; /* calls */
    int64_t erase_ns;                  /* flash time of the erase calls */
    struct flash_chip chip;            /* the secondary's */
    uint32_t n_sectors;                /* of the secondary */
};
#define T(env) ((struct timed *)(env))
#define ACC(t) (T(t)->ns += mcuboot_slots_last_op_ns(T(t)->s))
static int t_read_info(void *e, int slot, struct smp_img_slots_info *o)
{
    int rc = T(e)->in.ops->read_info(T(e)->in.env, slot, o);
    ACC(e);
    return rc;
}
static int t_active(void *e, int image)
{
    return T(e)->in.ops->active_slot(T(e)->in.env, image);
}
static int t_swap(void *e, int image)
{
    return T(e)->in.ops->swap_type(T(e)->in.env, image);
}
static int t_xip(void *e, int slot)
{
    return T(e)->in.ops->xip_state(T(e)->in.env, slot);
}
static uint32_t t_size(void *e, int slot)
{
    return T(e)->in.ops->slot_size(T(e)->in.env, slot);
}
static uint32_t t_addr(void *e, int slot)
{
    return T(e)->in.ops->slot_addr(T(e)->in.env, slot);
}
static int t_empty(void *e, int slot, bool *empty)
{
    int rc = T(e)->in.ops->is_empty(T(e)->in.env, slot, empty);
    ACC(e);
    return rc;
}
static int t_erase_slot(void *e, int slot)
{
    int rc = T(e)->in.ops->erase_slot(T(e)->in.env, slot);
    ACC(e);
    T(e)->n_erase_slot++;
    T(e)->erase_ns += mcuboot_slots_last_op_ns(T(e)->s);
    return rc;
}
static int t_erase_up(void *e, int slot, uint32_t size)
{
    int rc = T(e)->in.ops->erase_upload(T(e)->in.env, slot, size);
    ACC(e);
    T(e)->n_erase_up++;
    T(e)->erase_ns += mcuboot_slots_last_op_ns(T(e)->s);
    return rc;
}
static int t_write(void *e, int slot, uint32_t off, const uint8_t *p, size_t n, bool last)
{
    int rc = T(e)->in.ops->write(T(e)->in.env, slot, off, p, n, last);
    ACC(e);
    return rc;
}
static int t_sha(void *e, int slot, uint32_t len, const uint8_t sha[SMP_IMG_SLOTS_HASH_LEN])
{
    int rc = T(e)->in.ops->check_sha(T(e)->in.env, slot, len, sha);
    ACC(e);
    return rc;
}
static int t_next(void *e, int slot, bool active, bool confirm)
{
    int rc = T(e)->in.ops->set_next(T(e)->in.env, slot, active, confirm);
    ACC(e);
    return rc;
}
static const struct smp_img_slots_ops timed_ops = {
    t_read_info, t_active,     t_swap,     t_xip,   t_size, t_addr,
    t_empty,     t_erase_slot, t_erase_up, t_write, t_sha,  t_next,
};

/* Flash time of the first chunk (CHUNK bytes of IMG_SIGNED) on a slot holding IMG_OTHER. */
static struct timed first_chunk_time(enum smp_img_mgmt_erase erase, bool ble)
{
    struct dev v;
    dev_init(&v, MCUBOOT_SLOTS_SWAP_MOVE, false);
    mcuboot_slots_set_ble(&v.s, ble);
    assert_int_equal(mcuboot_slots_install(&v.s, 1, IMG_OTHER, true), 0);
    struct timed t = {.in = v.ops, .s = &v.s};
    struct mgmt g;
    struct smp_img_mgmt_cfg cfg = smp_img_mgmt_cfg_default();
    cfg.erase = erase;
    memset(&g, 0, sizeof(g));
    smp_img_mgmt_init(&g.m, &cfg, (struct smp_img_slots){&timed_ops, &t}, NULL);
    struct up_rsp r = mgmt_upload(&g, IMG_SIGNED, 0, CHUNK);
    assert_false(r.has_err);
    assert_int_equal(r.off, CHUNK);
    t.in = (struct smp_img_slots){0};
    t.s = NULL;
    t.chip = v.cfg.geom.chip[MCUBOOT_SWAP_SECONDARY];
    t.n_sectors = v.cfg.geom.n_sectors[MCUBOOT_SWAP_SECONDARY];
    dev_fini(&v);
    return t;
}

static void whole_slot_erase_delays_the_first_response(void **state)
{
    (void)state;
    for (int ble = 0; ble < 2; ble++) {
        print_message("case: radio %s\n", ble ? "on" : "off");
        struct timed now = first_chunk_time(SMP_IMG_MGMT_ERASE_AS_NEEDED, ble);
        struct timed old = first_chunk_time(SMP_IMG_MGMT_ERASE_WHOLE_SLOT, ble);
        const struct flash_chip *chip = &old.chip;
        assert_int_equal(old.n_sectors, 464 * 1024 / SEC); /* 116 */
        assert_int_equal(now.n_erase_up, 1);
        assert_int_equal(now.n_erase_slot, 0);
        assert_int_equal(old.n_erase_up, 0);
        assert_int_equal(old.n_erase_slot, 1);
        /* 103063 B -> 26 pages, + the trailer's page */
        int64_t t_page = chip->t_erase[chip->corner];
        int64_t want_old = flash_chip_app_ns(chip, 116 * t_page, ble);
        int64_t want_now = flash_chip_app_ns(chip, 27 * t_page, ble);
        assert_int_equal(old.erase_ns, want_old);
        assert_int_equal(now.erase_ns, want_now);
        assert_int_equal(old.ns - now.ns, want_old - want_now);
        if (!ble)
            assert_int_equal(old.erase_ns, 116 * t_page); /* no radio: the bare erase */
    }
}

/* is_empty reads up to the first programmed sector; a trailer alone makes a slot used. */
static void is_empty_sees_sectors_and_trailer(void **state)
{
    (void)state;
    struct dev v;
    bool empty = false;
    dev_init(&v, MCUBOOT_SLOTS_SWAP_MOVE, false);
    const struct smp_img_slots_ops *o = v.ops.ops;
    assert_int_equal(o->is_empty(v.ops.env, 1, &empty), 0);
    assert_true(empty);
    int64_t whole = mcuboot_slots_last_op_ns(&v.s);
    assert_int_equal(whole, flash_chip_read_ns(&v.cfg.geom.chip[1], 464 * 1024));
    assert_int_equal(o->is_empty(v.ops.env, 0, &empty), 0);
    assert_false(empty);
    assert_true(mcuboot_slots_last_op_ns(&v.s) < whole);
    assert_int_equal(o->set_next(v.ops.env, 1, false, false), 0); /* magic on an empty slot */
    assert_int_equal(o->is_empty(v.ops.env, 1, &empty), 0);
    assert_false(empty);
    assert_int_equal(o->erase_slot(v.ops.env, 1), 0);
    assert_int_equal(o->is_empty(v.ops.env, 1, &empty), 0);
    assert_true(empty);
    dev_fini(&v);
}

/* ======================================================================================
 * Power lost during the swap: the next boot resumes, the primary ends with the new image.
 * EVIDENCE-OF: mcu-tools/mcuboot: boot/bootutil/src/swap_move.c (swap_status_source,
 * swap_read_status_bytes): a resumed swap continues from the recorded (sector, state). */
static void a_cut_swap_resumes_at_the_next_boot(void **state)
{
    (void)state;
    struct dev v;
    struct mcuboot_slots_boot_result r;
    struct sim_diag d;
    sim_diag_init(&d);
    dev_init(&v, MCUBOOT_SLOTS_SWAP_MOVE, false);
    upload_direct(&v, IMG_SIGNED);
    assert_int_equal(v.ops.ops->set_next(v.ops.env, 1, false, false), 0);
    assert_int_equal(mcuboot_slots_boot(&v.s, 20, &r, &d), 0);
    assert_true(r.cut);
    assert_int_equal(r.image, MCUBOOT_SLOTS_NONE);
    boot(&v, &r);
    assert_true(r.resumed);
    assert_int_equal(mcuboot_slots_image_in(&v.s, 0), IMG_SIGNED);
    assert_int_equal(swap_type(&v), SMP_IMG_SLOTS_SWAP_REVERT);
    dev_fini(&v);
}

/* ======================================================================================
 * Direct-xip: the higher version runs, a tie keeps the primary; with revert an unconfirmed
 * image gets one boot, a confirmed one stays; a corrupted upload is erased.
 * EVIDENCE-OF: loader.c and bootutil_loader.c (boot_compare_version): a tie keeps the
 * primary slot; with MCUBOOT_DIRECT_XIP_REVERT an unconfirmed image gets exactly one boot.
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/loader.c (boot_select_or_erase) @2d4bacc */
static void direct_xip_active_slot_follows_versions_mode(enum mcuboot_slots_mode mode)
{
    struct dev v;
    struct mcuboot_slots_boot_result r;
    struct smp_img_slots_info info;
    dev_init(&v, mode, false);
    assert_int_equal(swap_type(&v), SMP_IMG_SLOTS_SWAP_NONE);
    upload_direct(&v, IMG_OLDER); /* 1.1.0 > factory 1.0.0 */
    boot(&v, &r);
    assert_int_equal(r.slot, 1);
    assert_true(r.runs);
    /* Boot time: hashing the chosen image at 1 MB/s and one signature check, plus its copy
     * to RAM in RAM-load. */
    int64_t want = 30000 * 1000 + MCUBOOT_EXPLAIN_T_SIG_DEFAULT;
    if (mode == MCUBOOT_SLOTS_RAM_LOAD)
        want += flash_chip_read_ns(&v.cfg.geom.chip[0], 30000);
    assert_int_equal(r.validated_bytes, 30000);
    assert_int_equal(r.ns, want);
    assert_int_equal(v.ops.ops->active_slot(v.ops.env, 0), 1);
    /* Reinstall the factory version in the secondary: tie -> primary... after erasing it. */
    assert_int_equal(mcuboot_slots_install(&v.s, 1, IMG_FACTORY, false), 0);
    boot(&v, &r);
    assert_int_equal(r.slot, 0);
    /* A corrupted newer image in the secondary is erased by the boot. */
    uint8_t buf[CHUNK];
    uint32_t size = W.images[IMG_OTHER].img.file_size;
    assert_int_equal(v.ops.ops->erase_upload(v.ops.env, 1, size), 0);
    write_range(&v, IMG_OTHER, 0, 10 * CHUNK);
    assert_int_equal(v.ops.ops->write(v.ops.env, 1, 10 * CHUNK,
                                      bytes_of(IMG_SIGNED, 10 * CHUNK, CHUNK, buf), CHUNK, false),
                     0);
    write_range(&v, IMG_OTHER, 11 * CHUNK, size);
    assert_int_equal(read_info(&v, 1, &info), 0); /* header and TLVs are fine */
    boot(&v, &r);
    assert_int_equal(r.slot, 0);
    assert_int_equal(r.erased, 2);
    assert_int_equal(read_info(&v, 1, &info), SMP_IMG_SLOTS_ERR_NO_IMAGE);
    dev_fini(&v);
}

/* ======================================================================================
 * Boot time adds one signature check (t_sig) per image validated, where explain counts
 * them: the update before a swap, the primary at every boot with validate_primary, every
 * direct-xip candidate tried. t_sig = 0 gives the hash-only figure. The default is
 * explain's (an assumption: 10-300 ms by crypto backend, unverified). */
enum sig_setup { SIG_NOTHING, SIG_TEST_SWAP, SIG_XIP_NEWER, SIG_XIP_CORRUPT };

static const struct {
    const char *name;
    enum mcuboot_slots_mode mode;
    enum sig_setup setup;
    bool validate_primary;
    uint32_t want_validations;
    uint32_t want_bytes;
} sig_cases[] = {
    {"swap-move test swap: the update, then the primary", MCUBOOT_SLOTS_SWAP_MOVE, SIG_TEST_SWAP,
     true, 2, 2 * 90000},
    {"swap-move test swap without validate_primary: the update", MCUBOOT_SLOTS_SWAP_MOVE,
     SIG_TEST_SWAP, false, 1, 90000},
    {"plain boot: the primary", MCUBOOT_SLOTS_SWAP_SCRATCH, SIG_NOTHING, true, 1, 40000},
    {"plain boot without validate_primary: none", MCUBOOT_SLOTS_SWAP_SCRATCH, SIG_NOTHING, false, 0,
     0},
    {"direct-xip newer secondary: the chosen slot", MCUBOOT_SLOTS_DIRECT_XIP, SIG_XIP_NEWER, true,
     1, 30000},
    {"direct-xip corrupted newer secondary: both candidates", MCUBOOT_SLOTS_DIRECT_XIP,
     SIG_XIP_CORRUPT, true, 2, 90000 + 40000},
};

static void sig_boot(size_t i, int64_t t_sig, struct mcuboot_slots_boot_result *r)
{
    struct dev v;
    dev_init(&v, sig_cases[i].mode, false);
    assert_int_equal(v.cfg.t_sig, MCUBOOT_EXPLAIN_T_SIG_DEFAULT); /* explain's default */
    v.cfg.t_sig = t_sig;
    v.cfg.validate_primary = sig_cases[i].validate_primary;
    if (sig_cases[i].setup == SIG_TEST_SWAP) {
        upload_direct(&v, IMG_OTHER);
        assert_int_equal(v.ops.ops->set_next(v.ops.env, 1, false, false), 0);
    } else if (sig_cases[i].setup == SIG_XIP_NEWER) {
        upload_direct(&v, IMG_OLDER);
    } else if (sig_cases[i].setup == SIG_XIP_CORRUPT) {
        uint8_t buf[CHUNK];
        uint32_t size = W.images[IMG_OTHER].img.file_size;
        assert_int_equal(v.ops.ops->erase_upload(v.ops.env, 1, size), 0);
        write_range(&v, IMG_OTHER, 0, 10 * CHUNK);
        assert_int_equal(v.ops.ops->write(v.ops.env, 1, 10 * CHUNK,
                                          bytes_of(IMG_SIGNED, 10 * CHUNK, CHUNK, buf), CHUNK,
                                          false),
                         0);
        write_range(&v, IMG_OTHER, 11 * CHUNK, size);
    }
    boot(&v, r);
    dev_fini(&v);
}

static void boot_time_adds_one_signature_check_per_validation(void **state)
{
    (void)state;
    const int64_t t_sig = MCUBOOT_EXPLAIN_T_SIG_DEFAULT;
    for (size_t i = 0; i < ARRAY_LEN(sig_cases); i++) {
        print_message("case: %s\n", sig_cases[i].name);
        struct mcuboot_slots_boot_result with, without;
        sig_boot(i, t_sig, &with);
        sig_boot(i, 0, &without);
        assert_int_equal(with.validations, sig_cases[i].want_validations);
        assert_int_equal(with.validated_bytes, sig_cases[i].want_bytes);
        assert_int_equal(without.validations, with.validations);
        assert_int_equal(with.ns - without.ns, (int64_t)with.validations * t_sig);
        /* Hash at 1 MB/s, same formula as explain: the validation share of the boot. */
        assert_int_equal(
            with.ns - without.ns + (int64_t)with.validated_bytes * 1000,
            mcuboot_explain_validation_ns(1e6, t_sig, with.validated_bytes, with.validations));
        if (sig_cases[i].setup == SIG_XIP_NEWER) /* nothing but validation: the old figure */
            assert_int_equal(without.ns, 30000 * 1000);
    }
}

static void direct_xip_active_slot_follows_versions(void **state)
{
    (void)state;
    print_message("case: direct-xip\n");
    direct_xip_active_slot_follows_versions_mode(MCUBOOT_SLOTS_DIRECT_XIP);
    print_message("case: ram-load\n");
    direct_xip_active_slot_follows_versions_mode(MCUBOOT_SLOTS_RAM_LOAD);
}

static void direct_xip_revert_gives_one_boot_unless_confirmed(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bool confirm;
        int want_slot; /* after the second reset */
    } cases[] = {
        {"unconfirmed: second reset falls back", false, 0},
        {"confirmed: stays", true, 1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct dev v;
        struct mgmt g;
        struct mcuboot_slots_boot_result r;
        dev_init(&v, MCUBOOT_SLOTS_DIRECT_XIP_REVERT, false);
        struct smp_img_mgmt_cfg cfg = smp_img_mgmt_cfg_default();
        cfg.mode = SMP_IMG_MGMT_MODE_DIRECT_XIP_REVERT;
        memset(&g, 0, sizeof(g));
        smp_img_mgmt_init(&g.m, &cfg, v.ops, NULL);
        (void)mgmt_upload_all(&g, IMG_OTHER);
        const struct smp_img_slots_ops *o = v.ops.ops;
        assert_int_equal(o->xip_state(v.ops.env, 0), SMP_IMG_SLOTS_XIP_FOREVER);
        assert_int_equal(o->xip_state(v.ops.env, 1), SMP_IMG_SLOTS_XIP_UNSET);
        assert_int_equal(mgmt_state_write(&g, W.images[IMG_OTHER].img.hash, false), 0);
        assert_int_equal(o->xip_state(v.ops.env, 1), SMP_IMG_SLOTS_XIP_ONCE);
        boot(&v, &r);
        assert_int_equal(r.slot, 1);
        assert_int_equal(o->xip_state(v.ops.env, 1), SMP_IMG_SLOTS_XIP_REVERT);
        if (cases[i].confirm) {
            assert_int_equal(mgmt_state_write(&g, NULL, true), 0);
            assert_int_equal(o->xip_state(v.ops.env, 1), SMP_IMG_SLOTS_XIP_FOREVER);
        }
        boot(&v, &r);
        assert_int_equal(r.slot, cases[i].want_slot);
        assert_int_equal(o->active_slot(v.ops.env, 0), cases[i].want_slot);
        assert_int_equal(r.erased != 0, !cases[i].confirm);
        dev_fini(&v);
    }
}

/* Configuration errors are reported, not crashed on. */
static void cfg_rejects_bad_input(void **state)
{
    (void)state;
    struct mcuboot_slots_cfg c;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(
        mcuboot_slots_cfg_init(&c, MCUBOOT_SLOTS_MODE_COUNT, &W.map, W.images, IMG_COUNT, &d),
        SIM_EINVAL);
    assert_int_equal(mcuboot_slots_cfg_init(&c, MCUBOOT_SLOTS_SWAP_MOVE, &W.map, W.images, 16, &d),
                     SIM_ERANGE);
    struct mcuboot_slots_image no_file = W.images[IMG_SIGNED];
    no_file.file = NULL;
    assert_int_equal(mcuboot_slots_cfg_init(&c, MCUBOOT_SLOTS_SWAP_MOVE, &W.map, &no_file, 1, &d),
                     SIM_EINVAL);
    assert_non_null(strstr(d.text, "no bytes"));
    struct mcuboot_slots s;
    assert_int_equal(mcuboot_slots_init(&s, NULL, NULL, 0, NULL), SIM_EINVAL);
    mcuboot_slots_fini(&s);
}

/* ======================================================================================
 * Slots keep what was written: an image the table does not hold, uploaded through img_mgmt,
 * is learned once and shared, listed with its own version and hash, and boots.
 * UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c
 * (img_mgmt_read_info reads the header and TLVs from flash; "match" compares the SHA-256 of
 * what flash holds) @v4.2.0 */

/* A table with room to learn: the fixture's images, then free entries. */
struct learn_world {
    struct mcuboot_slots_image table[MCUBOOT_SLOTS_MAX_IMAGES];
    struct mcuboot_slots_learner l;
    int judged;
};

static bool judge_refuse_major_9(void *env, const struct mcuboot_slots_image *im, char *why,
                                 size_t cap)
{
    struct learn_world *lw = env;
    lw->judged++;
    snprintf(why, cap, "version 9 is refused");
    return im->img.hdr.version.major != 9;
}

static void learn_init(struct learn_world *lw)
{
    memset(lw, 0, sizeof(*lw));
    memcpy(lw->table, W.images, sizeof(W.images));
    lw->l.images = lw->table;
    lw->l.n = IMG_COUNT;
    lw->l.cap = MCUBOOT_SLOTS_MAX_IMAGES;
    lw->l.judge = judge_refuse_major_9;
    lw->l.env = lw;
}

static void dev_init_learning(struct dev *v, struct learn_world *lw)
{
    struct sim_diag d;
    sim_diag_init(&d);
    memset(v, 0, sizeof(*v));
    assert_int_equal(
        mcuboot_slots_cfg_init(&v->cfg, MCUBOOT_SLOTS_SWAP_MOVE, &W.map, lw->table, IMG_COUNT, &d),
        0);
    v->cfg.learn = &lw->l;
    assert_int_equal(mcuboot_slots_init(&v->s, &v->cfg, NULL, 0, NULL), 0);
    assert_int_equal(mcuboot_slots_install(&v->s, 0, IMG_FACTORY, true), 0);
    v->ops = mcuboot_slots_bind(&v->s);
}

/* An image of the builder: 20000 body bytes of seed 7 behind a 0x200 header, a SHA256 TLV. */
static uint8_t *learn_image(uint8_t major, uint8_t minor, size_t *len)
{
    static const struct ib_op ops[] = {IB_OP_HASH};
    struct ib_spec spec = {
        .body_len = 20000, .body_seed = 7, .version = {major, minor, 0, 0}, .ops = ops, .n_ops = 1};
    uint8_t *buf = NULL;
    assert_int_equal(ib_build(&spec, &buf, len), 0);
    return buf;
}

/* Upload bytes through img_mgmt as a client does, stopping before `stop` (len: whole). */
static struct up_rsp upload_bytes(struct mgmt *g, const uint8_t *file, uint32_t len, uint32_t stop)
{
    uint8_t sha[32], body[CHUNK + 128];
    unsigned int n_sha = 0;
    assert_true(EVP_Digest(file, len, sha, &n_sha, EVP_sha256(), NULL) && n_sha == 32);
    struct up_rsp r = {0};
    for (uint32_t off = 0; off < stop;) {
        uint32_t n = len - off < CHUNK ? len - off : CHUNK;
        struct smp_frame_writer w;
        smp_frame_writer_init(&w, body, sizeof(body));
        smp_frame_put_map(&w, off == 0 ? 4 : 2);
        smp_frame_put_text(&w, "data");
        smp_frame_put_bstr(&w, file + off, n);
        if (off == 0) {
            smp_frame_put_text(&w, "len");
            smp_frame_put_uint(&w, len);
        }
        smp_frame_put_text(&w, "off");
        smp_frame_put_uint(&w, off);
        if (off == 0) {
            smp_frame_put_text(&w, "sha");
            smp_frame_put_bstr(&w, sha, 32);
        }
        assert_int_equal(mgmt_call(g, SMP_IMG_MGMT_ID_UPLOAD, true, body, w.len), 0);
        struct smp_frame_field f[] = {{.key = "off", .type = SMP_FRAME_T_U32},
                                      {.key = "match", .type = SMP_FRAME_T_BOOL},
                                      {.key = "err", .type = SMP_FRAME_T_ANY}};
        assert_int_equal(smp_frame_map_decode(g->rsp, g->w.len, f, 3), 0);
        assert_false(f[2].found);
        assert_true(f[0].found);
        r = (struct up_rsp){
            .has_off = true, .off = f[0].u32, .has_match = f[1].found, .match = f[1].b};
        off = r.off;
    }
    return r;
}

static size_t pages_kept(const struct dev *v, int slot)
{
    const struct mcuboot_slots_pending *p = v->s.pending[slot];
    size_t n = 0;
    for (uint32_t k = 0; p != NULL && k < p->n_pages; k++)
        n += p->page[k] != NULL;
    return n;
}

static void an_unknown_image_is_kept_listed_and_swapped_in(void **state)
{
    (void)state;
    struct learn_world lw;
    learn_init(&lw);
    struct dev v;
    struct mgmt g;
    dev_init_learning(&v, &lw);
    mgmt_init(&g, &v);
    size_t len;
    uint8_t *file = learn_image(3, 1, &len);
    struct mcuboot_image want;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(mcuboot_image_parse(file, len, "learn", &want, &d), 0);

    struct up_rsp r = upload_bytes(&g, file, (uint32_t)len, (uint32_t)len);
    assert_int_equal(r.off, len);
    assert_true(r.has_match);
    assert_true(r.match); /* the SHA-256 of what flash holds */
    assert_int_equal(lw.l.n, IMG_COUNT + 1);
    assert_true(lw.table[IMG_COUNT].learned);
    assert_int_equal(lw.judged, 1);
    assert_null(lw.l.refusal[IMG_COUNT]);
    assert_null(v.s.pending[1]); /* learned: the table holds the bytes now */
    struct smp_img_slots_info info;
    assert_int_equal(read_info(&v, 1, &info), 0);
    assert_int_equal(info.ver.major, 3);
    assert_int_equal(info.ver.minor, 1);
    assert_memory_equal(info.hash, want.hash, 32);

    assert_int_equal(mgmt_state_write(&g, want.hash, false), 0); /* test */
    struct mcuboot_slots_boot_result b;
    boot(&v, &b);
    assert_int_equal(b.image, IMG_COUNT);
    assert_int_equal(read_info(&v, 0, &info), 0);
    assert_int_equal(info.ver.major, 3);
    assert_memory_equal(info.hash, want.hash, 32);
    dev_fini(&v);
    mcuboot_slots_learner_fini(&lw.l);
    free(file);
}

/* Two builds that differ in their version: while the second is written, only the pages that
 * differ from the first (the header's and the TLVs') are kept; a second device that uploads
 * it keeps nothing, and the table holds it once. Bytes that are no image stay garbage. */
static void uploads_keep_only_differing_pages_and_share_the_build(void **state)
{
    (void)state;
    struct learn_world lw;
    learn_init(&lw);
    size_t len1, len2;
    uint8_t *first = learn_image(3, 0, &len1), *second = learn_image(3, 1, &len2);
    assert_int_equal(len1, len2);
    struct dev a, b;
    struct mgmt ga, gb;
    dev_init_learning(&a, &lw);
    dev_init_learning(&b, &lw);
    mgmt_init(&ga, &a);
    mgmt_init(&gb, &b);
    (void)upload_bytes(&ga, first, (uint32_t)len1, (uint32_t)len1); /* learned: entry 4 */
    assert_int_equal(lw.l.n, IMG_COUNT + 1);
    /* Device a uploads the second build, all but its last chunk. */
    uint32_t last = (uint32_t)(len2 - 1) / CHUNK * CHUNK;
    mgmt_init(&ga, &a);
    (void)upload_bytes(&ga, second, (uint32_t)len2, last);
    assert_non_null(a.s.pending[1]);
    assert_int_equal(a.s.pending[1]->base, IMG_COUNT);
    /* 20552 bytes: header 0x200, body to 20512, TLVs in the last chunk (from 20480). Only
     * the header's page differs from the first build so far; of 6 pages, 1 is kept. */
    assert_int_equal(len2, 0x200 + 20000 + 4 + 4 + 32);
    assert_int_equal(last, 20480);
    assert_int_equal(pages_kept(&a, 1), 1);
    assert_non_null(a.s.pending[1]->page[0]);
    /* The last chunk, through the slot interface as img_mgmt writes it. */
    assert_int_equal(a.ops.ops->write(a.ops.env, 1, last, second + last, len2 - last, true), 0);
    assert_int_equal(lw.l.n, IMG_COUNT + 2);
    assert_null(a.s.pending[1]);
    /* Device b uploads the same second build: it matches the learned entry, nothing kept. */
    struct up_rsp r = upload_bytes(&gb, second, (uint32_t)len2, CHUNK);
    assert_null(b.s.pending[1]);
    r = upload_bytes(&gb, second, (uint32_t)len2, (uint32_t)len2);
    assert_true(r.match);
    assert_int_equal(lw.l.n, IMG_COUNT + 2);
    struct smp_img_slots_info info;
    assert_int_equal(read_info(&b, 1, &info), 0);
    assert_int_equal(info.ver.minor, 1);
    /* A header (img_mgmt refuses a first chunk without one) and then no TLV area: not an
     * image, nothing learned; read_info finds the header and no TLVs. */
    uint8_t *junk = malloc(len2);
    assert_non_null(junk);
    memcpy(junk, second, len2);
    memset(junk + 0x200 + 20000, 0, len2 - 0x200 - 20000);
    mgmt_init(&gb, &b);
    r = upload_bytes(&gb, junk, (uint32_t)len2, (uint32_t)len2);
    assert_false(r.has_match && r.match);
    assert_int_equal(lw.l.n, IMG_COUNT + 2);
    assert_null(b.s.pending[1]);
    assert_int_equal(read_info(&b, 1, &info), SMP_IMG_SLOTS_ERR_NO_TLVS);
    free(junk);
    dev_fini(&a);
    dev_fini(&b);
    mcuboot_slots_learner_fini(&lw.l);
    free(first);
    free(second);
}

/* The judge's verdict is kept per learned image; a full table learns nothing more. */
static void learned_images_are_judged_and_the_table_has_a_limit(void **state)
{
    (void)state;
    struct learn_world lw;
    learn_init(&lw);
    lw.l.cap = IMG_COUNT + 1;
    struct dev v;
    struct mgmt g;
    dev_init_learning(&v, &lw);
    mgmt_init(&g, &v);
    size_t len;
    uint8_t *refused = learn_image(9, 0, &len), *more = learn_image(4, 0, &len);
    (void)upload_bytes(&g, refused, (uint32_t)len, (uint32_t)len);
    assert_int_equal(lw.l.n, IMG_COUNT + 1);
    assert_string_equal(lw.l.refusal[IMG_COUNT], "version 9 is refused");
    mgmt_init(&g, &v);
    (void)upload_bytes(&g, more, (uint32_t)len, (uint32_t)len);
    assert_int_equal(lw.l.n, IMG_COUNT + 1); /* full: stays garbage */
    struct smp_img_slots_info info;
    assert_int_equal(read_info(&v, 1, &info), SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER_MAGIC);
    dev_fini(&v);
    mcuboot_slots_learner_fini(&lw.l);
    free(refused);
    free(more);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_info_of_erased_installed_and_invalid_slots),
        cmocka_unit_test(real_image_uploaded_through_img_mgmt_reads_back),
        cmocka_unit_test(test_boot_revert_confirm_in_every_copying_mode),
        cmocka_unit_test(state_write_through_img_mgmt_tests_and_confirms),
        cmocka_unit_test(two_sources_fighting_leave_a_mixed_image),
        cmocka_unit_test(a_foreign_chunk_mid_upload_fails_hash_and_boot),
        cmocka_unit_test(a_foreign_writer_spoils_only_what_it_touches),
        cmocka_unit_test(rewriting_the_same_bytes_keeps_the_image),
        cmocka_unit_test(erase_upload_erases_image_pages_and_the_trailer_page),
        cmocka_unit_test(whole_slot_erase_delays_the_first_response),
        cmocka_unit_test(is_empty_sees_sectors_and_trailer),
        cmocka_unit_test(a_cut_swap_resumes_at_the_next_boot),
        cmocka_unit_test(direct_xip_active_slot_follows_versions),
        cmocka_unit_test(direct_xip_revert_gives_one_boot_unless_confirmed),
        cmocka_unit_test(boot_time_adds_one_signature_check_per_validation),
        cmocka_unit_test(cfg_rejects_bad_input),
        cmocka_unit_test(an_unknown_image_is_kept_listed_and_swapped_in),
        cmocka_unit_test(uploads_keep_only_differing_pages_and_share_the_build),
        cmocka_unit_test(learned_images_are_judged_and_the_table_has_a_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
