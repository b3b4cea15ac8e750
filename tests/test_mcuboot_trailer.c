/* tests/test_mcuboot_trailer.c - MCUboot trailer layout, writes, bytes and the swap-type
 * decision table (models/mcuboot/trailer). */
#include "models/mcuboot/trailer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SIGNED_BIN   DFUSIM_SOURCE_DIR "/tests/data/mcuboot/signed.bin"
#define PADDED_BIN   DFUSIM_SOURCE_DIR "/tests/data/mcuboot/signed-pad-confirm.bin"
#define SLOT_0x74000 0x74000u
#define NRF_SLOT     (472u * 1024u)

static struct mcuboot_trailer_geom geom(enum mcuboot_trailer_kind k, uint32_t slot, uint32_t w,
                                        uint32_t align, uint32_t sectors)
{
    struct mcuboot_trailer_geom g;
    struct sim_diag d;
    sim_diag_init(&d);
    if (mcuboot_trailer_geom_init(&g, k, slot, w, align, sectors, &d) != 0)
        fail_msg("geometry: %s", d.text);
    return g;
}

static void assert_trailer_equal(const struct mcuboot_trailer *a, const struct mcuboot_trailer *b)
{
    assert_int_equal(a->swap_size, b->swap_size);
    assert_int_equal(a->tlv_size_primary, b->tlv_size_primary);
    assert_int_equal(a->tlv_size_secondary, b->tlv_size_secondary);
    assert_int_equal(a->status_idx, b->status_idx);
    assert_int_equal(a->status_moves, b->status_moves);
    assert_int_equal(a->status_op, b->status_op);
    assert_int_equal(a->status_state, b->status_state);
    assert_int_equal(a->magic, b->magic);
    assert_int_equal(a->image_ok, b->image_ok);
    assert_int_equal(a->copy_done, b->copy_done);
    assert_int_equal(a->swap_info, b->swap_info);
}

/* EVIDENCE-OF: boot_status_sz() + boot_trailer_info_sz(), worked out for the nRF52840 (w = 4,
 * 128 sectors): swap-move/scratch 1536 + 48 = 1584 B, swap-offset 1024 + 56 = 1080 B
 * (docs/design.md gives the 1536 B status for that case); field offsets -16/-24/-32/-40/-48
 * (-56 swap_size in swap-offset).
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/bootutil_area.c @2d4bacc (boot_trailer_sz)
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/bootutil_public.c @2d4bacc (offsets) */
static void trailer_sizes_and_offsets_follow_bootutil(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum mcuboot_trailer_kind kind;
        uint32_t w, align, sectors;
        uint32_t status, info, magic, image_ok, copy_done, swap_info, swap_size;
    } cases[] = {
        {"swap-scratch, nRF52840", MCUBOOT_TRAILER_SCRATCH, 4, 8, 128, 1536, 48, 16, 24, 32, 40,
         48},
        {"swap-move, nRF52840", MCUBOOT_TRAILER_MOVE, 4, 8, 128, 1536, 48, 16, 24, 32, 40, 48},
        {"swap-offset, nRF52840: extra TLV-sizes field", MCUBOOT_TRAILER_OFFSET, 4, 8, 128, 1024,
         56, 16, 24, 32, 40, 56},
        {"STM32 8-byte writes", MCUBOOT_TRAILER_MOVE, 8, 8, 54, 54 * 3 * 8, 48, 16, 24, 32, 40, 48},
        {"BOOT_MAX_ALIGN 32: aligned magic and fields", MCUBOOT_TRAILER_SCRATCH, 16, 32, 10,
         10 * 3 * 16, 160, 16, 64, 96, 128, 160},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct mcuboot_trailer_geom g =
            geom(cases[i].kind, NRF_SLOT, cases[i].w, cases[i].align, cases[i].sectors);
        assert_int_equal(mcuboot_trailer_status_size(&g), cases[i].status);
        assert_int_equal(mcuboot_trailer_info_size(&g), cases[i].info);
        assert_int_equal(mcuboot_trailer_size(&g), cases[i].status + cases[i].info);
        assert_int_equal(NRF_SLOT - mcuboot_trailer_magic_off(&g), cases[i].magic);
        assert_int_equal(NRF_SLOT - mcuboot_trailer_image_ok_off(&g), cases[i].image_ok);
        assert_int_equal(NRF_SLOT - mcuboot_trailer_copy_done_off(&g), cases[i].copy_done);
        assert_int_equal(NRF_SLOT - mcuboot_trailer_swap_info_off(&g), cases[i].swap_info);
        assert_int_equal(NRF_SLOT - mcuboot_trailer_swap_size_off(&g), cases[i].swap_size);
        assert_int_equal(mcuboot_trailer_status_off(&g), NRF_SLOT - mcuboot_trailer_size(&g));
    }
    struct mcuboot_trailer_geom o = geom(MCUBOOT_TRAILER_OFFSET, NRF_SLOT, 4, 8, 128);
    assert_int_equal(NRF_SLOT - mcuboot_trailer_tlv_sizes_off(&o), 48);
}

static void impossible_geometries_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t slot, w, align, sectors;
        const char *msg;
    } cases[] = {
        {"write size above BOOT_MAX_ALIGN", NRF_SLOT, 16, 8, 128, "powers of two"},
        {"write size not a power of two", NRF_SLOT, 3, 8, 128, "powers of two"},
        {"no sectors", NRF_SLOT, 4, 8, 0, "BOOT_MAX_IMG_SECTORS"},
        {"trailer larger than the slot", 1024, 4, 8, 128, "does not fit"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct mcuboot_trailer_geom g;
        struct sim_diag d;
        sim_diag_init(&d);
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(mcuboot_trailer_geom_init(&g, MCUBOOT_TRAILER_SCRATCH, cases[i].slot,
                                                   cases[i].w, cases[i].align, cases[i].sectors,
                                                   &d),
                         SIM_EINVAL);
        assert_non_null(strstr(d.text, cases[i].msg));
    }
}

/* UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/swap_scratch.c @2d4bacc,
 * swap_move.c and swap_offset.c (boot_status_internal_off). */
static void status_records_sit_where_bootutil_puts_them(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum mcuboot_trailer_kind kind;
        enum mcuboot_trailer_op op;
        uint32_t idx;
        uint8_t st;
        uint32_t want_records; /* offset from the status start in records; UINT32_MAX: none */
    } cases[] = {
        {"scratch first record", MCUBOOT_TRAILER_SCRATCH, MCUBOOT_TRAILER_OP_SWAP, 1, 1, 0},
        {"scratch third state of sector 1", MCUBOOT_TRAILER_SCRATCH, MCUBOOT_TRAILER_OP_SWAP, 1, 3,
         2},
        {"scratch sector 2 starts after three records", MCUBOOT_TRAILER_SCRATCH,
         MCUBOOT_TRAILER_OP_SWAP, 2, 1, 3},
        {"scratch has no state 4", MCUBOOT_TRAILER_SCRATCH, MCUBOOT_TRAILER_OP_SWAP, 1, 4,
         UINT32_MAX},
        {"scratch has no move records", MCUBOOT_TRAILER_SCRATCH, MCUBOOT_TRAILER_OP_MOVE, 1, 1,
         UINT32_MAX},
        {"move records come first", MCUBOOT_TRAILER_MOVE, MCUBOOT_TRAILER_OP_MOVE, 2, 1, 1},
        {"swap records after MAX_IMG_SECTORS move records", MCUBOOT_TRAILER_MOVE,
         MCUBOOT_TRAILER_OP_SWAP, 1, 1, 128},
        {"swap-move swap records are pairs", MCUBOOT_TRAILER_MOVE, MCUBOOT_TRAILER_OP_SWAP, 2, 2,
         131},
        {"offset: two records per sector", MCUBOOT_TRAILER_OFFSET, MCUBOOT_TRAILER_OP_SWAP, 3, 2,
         5},
        {"offset: no state 3", MCUBOOT_TRAILER_OFFSET, MCUBOOT_TRAILER_OP_SWAP, 1, 3, UINT32_MAX},
        {"sector index past BOOT_MAX_IMG_SECTORS", MCUBOOT_TRAILER_OFFSET, MCUBOOT_TRAILER_OP_SWAP,
         129, 1, UINT32_MAX},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct mcuboot_trailer_geom g = geom(cases[i].kind, NRF_SLOT, 4, 8, 128);
        uint32_t off = mcuboot_trailer_record_off(&g, cases[i].op, cases[i].idx, cases[i].st);
        if (cases[i].want_records == UINT32_MAX)
            assert_int_equal(off, UINT32_MAX);
        else
            assert_int_equal(off, mcuboot_trailer_status_off(&g) + cases[i].want_records * 4);
    }
}

/* Writes report the bytes boot_write_trailer() programs and refuse programmed fields. */
static void writes_report_flash_ranges_and_refuse_programmed_fields(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t w;
        uint32_t flag_len, magic_len, size_len;
    } cases[] = {
        {"4-byte words (nRF52840)", 4, 4, 16, 4},
        {"8-byte double words (STM32WLE5)", 8, 8, 16, 8},
        {"1-byte writes", 1, 1, 16, 4},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct mcuboot_trailer_geom g = geom(MCUBOOT_TRAILER_MOVE, NRF_SLOT, cases[i].w, 8, 118);
        struct mcuboot_trailer t;
        struct mcuboot_trailer_write w;
        mcuboot_trailer_erase(&t);
        assert_int_equal(mcuboot_trailer_write_magic(&g, &t, &w), 0);
        assert_int_equal(w.off, NRF_SLOT - 16);
        assert_int_equal(w.len, cases[i].magic_len);
        assert_int_equal(mcuboot_trailer_write_image_ok(&g, &t, &w), 0);
        assert_int_equal(w.off, NRF_SLOT - 24);
        assert_int_equal(w.len, cases[i].flag_len);
        assert_int_equal(mcuboot_trailer_write_copy_done(&g, &t, &w), 0);
        assert_int_equal(w.off, NRF_SLOT - 32);
        assert_int_equal(mcuboot_trailer_write_swap_info(&g, &t, MCUBOOT_TRAILER_SWAP_TEST, 0, &w),
                         0);
        assert_int_equal(w.off, NRF_SLOT - 40);
        assert_int_equal(mcuboot_trailer_write_swap_size(&g, &t, 0x19200, &w), 0);
        assert_int_equal(w.off, NRF_SLOT - 48);
        assert_int_equal(w.len, cases[i].size_len);
        assert_int_equal(mcuboot_trailer_write_status(&g, &t, MCUBOOT_TRAILER_OP_MOVE, 1, 1, &w),
                         0);
        assert_int_equal(w.off, mcuboot_trailer_status_off(&g));
        assert_int_equal(w.len, cases[i].w);
        /* Second writes without an erase fail and change nothing. */
        struct mcuboot_trailer before = t;
        assert_int_equal(mcuboot_trailer_write_magic(&g, &t, NULL), SIM_EINVAL);
        assert_int_equal(mcuboot_trailer_write_image_ok(&g, &t, NULL), SIM_EINVAL);
        assert_int_equal(mcuboot_trailer_write_copy_done(&g, &t, NULL), SIM_EINVAL);
        assert_int_equal(
            mcuboot_trailer_write_swap_info(&g, &t, MCUBOOT_TRAILER_SWAP_PERM, 0, NULL),
            SIM_EINVAL);
        assert_int_equal(mcuboot_trailer_write_swap_size(&g, &t, 1, NULL), SIM_EINVAL);
        assert_int_equal(mcuboot_trailer_write_status(&g, &t, MCUBOOT_TRAILER_OP_MOVE, 1, 1, NULL),
                         SIM_EINVAL);
        assert_int_equal(mcuboot_trailer_write_status(&g, &t, MCUBOOT_TRAILER_OP_MOVE, 3, 1, NULL),
                         SIM_EINVAL); /* move records are contiguous */
        assert_int_equal(mcuboot_trailer_write_tlv_sizes(&g, &t, 1, 2, NULL), SIM_EINVAL);
        assert_trailer_equal(&before, &t);
    }
}

static void swap_info_decodes_type_and_image_number(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t raw;
        uint8_t type, image;
    } cases[] = {
        {"erased reads NONE", 0xff, MCUBOOT_TRAILER_SWAP_NONE, 0},
        {"TEST for image 0", 0x02, MCUBOOT_TRAILER_SWAP_TEST, 0},
        {"PERM for image 1", 0x13, MCUBOOT_TRAILER_SWAP_PERM, 1},
        {"REVERT", 0x04, MCUBOOT_TRAILER_SWAP_REVERT, 0},
        {"a type above REVERT reads NONE, image 0", 0x25, MCUBOOT_TRAILER_SWAP_NONE, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct mcuboot_trailer t;
        struct mcuboot_trailer_swap_state s;
        print_message("case: %s\n", cases[i].name);
        mcuboot_trailer_erase(&t);
        t.swap_info = cases[i].raw;
        mcuboot_trailer_state(&t, &s);
        assert_int_equal(s.swap_type, cases[i].type);
        assert_int_equal(s.image_num, cases[i].image);
    }
    /* Flags: 0x01 SET, 0xff UNSET, anything else BAD (boot_read_flag). */
    struct mcuboot_trailer t;
    struct mcuboot_trailer_swap_state s;
    mcuboot_trailer_erase(&t);
    t.image_ok = 0x00;
    t.copy_done = 0x01;
    mcuboot_trailer_state(&t, &s);
    assert_int_equal(s.image_ok, MCUBOOT_TRAILER_FLAG_BAD);
    assert_int_equal(s.copy_done, MCUBOOT_TRAILER_FLAG_SET);
    assert_int_equal(s.magic, MCUBOOT_TRAILER_MAGIC_UNSET);
}

/* Encode then decode gives the same trailer, for every kind and progress point. */
static void bytes_round_trip_at_every_progress_point(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum mcuboot_trailer_kind kind;
        uint32_t moves, swaps; /* records to write */
    } cases[] = {
        {"scratch, nothing written", MCUBOOT_TRAILER_SCRATCH, 0, 0},
        {"scratch, mid-sector 3", MCUBOOT_TRAILER_SCRATCH, 0, 8},
        {"move, mid move phase", MCUBOOT_TRAILER_MOVE, 5, 0},
        {"move, all 10 moved, mid swap phase", MCUBOOT_TRAILER_MOVE, 10, 7},
        {"offset, mid-sector 4", MCUBOOT_TRAILER_OFFSET, 0, 7},
    };
    const uint32_t slot = 64 * 1024;
    uint8_t *buf = malloc(slot);
    assert_non_null(buf);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct mcuboot_trailer_geom g = geom(cases[i].kind, slot, 4, 8, 16);
        struct mcuboot_trailer t, back;
        mcuboot_trailer_erase(&t);
        assert_int_equal(mcuboot_trailer_write_magic(&g, &t, NULL), 0);
        assert_int_equal(
            mcuboot_trailer_write_swap_info(&g, &t, MCUBOOT_TRAILER_SWAP_TEST, 0, NULL), 0);
        assert_int_equal(mcuboot_trailer_write_swap_size(&g, &t, 40000, NULL), 0);
        if (cases[i].kind == MCUBOOT_TRAILER_OFFSET)
            assert_int_equal(mcuboot_trailer_write_tlv_sizes(&g, &t, 151, 152, NULL), 0);
        for (uint32_t k = 1; k <= cases[i].moves; k++)
            assert_int_equal(
                mcuboot_trailer_write_status(&g, &t, MCUBOOT_TRAILER_OP_MOVE, k, 1, NULL), 0);
        uint32_t states = cases[i].kind == MCUBOOT_TRAILER_SCRATCH ? 3 : 2;
        for (uint32_t k = 0; k < cases[i].swaps; k++)
            assert_int_equal(mcuboot_trailer_write_status(&g, &t, MCUBOOT_TRAILER_OP_SWAP,
                                                          k / states + 1, (uint8_t)(k % states + 1),
                                                          NULL),
                             0);
        memset(buf, 0xab, slot); /* image bytes below the trailer must survive */
        assert_int_equal(mcuboot_trailer_encode(&g, &t, buf, slot), 0);
        assert_int_equal(buf[mcuboot_trailer_status_off(&g) - 1], 0xab);
        assert_int_equal(mcuboot_trailer_decode(&g, buf, slot, &back, NULL), 0);
        assert_trailer_equal(&t, &back);
    }
    /* A record written after an erased one is inconsistent status. */
    struct mcuboot_trailer_geom g = geom(MCUBOOT_TRAILER_SCRATCH, slot, 4, 8, 16);
    struct mcuboot_trailer t;
    struct sim_diag d;
    sim_diag_init(&d);
    mcuboot_trailer_erase(&t);
    assert_int_equal(mcuboot_trailer_encode(&g, &t, buf, slot), 0);
    buf[mcuboot_trailer_record_off(&g, MCUBOOT_TRAILER_OP_SWAP, 2, 1)] = 1;
    assert_int_equal(mcuboot_trailer_decode(&g, buf, slot, &t, &d), SIM_EFORMAT);
    assert_non_null(strstr(d.text, "inconsistent swap status"));
    /* A record written where the bytes are neither erased nor magic: BAD magic. */
    mcuboot_trailer_erase(&t);
    assert_int_equal(mcuboot_trailer_encode(&g, &t, buf, slot), 0);
    buf[slot - 1] = 0x00;
    assert_int_equal(mcuboot_trailer_decode(&g, buf, slot, &t, NULL), 0);
    assert_int_equal(t.magic, MCUBOOT_TRAILER_MAGIC_BAD);
    free(buf);
}

/* imgtool sign --pad --confirm writes exactly magic + image_ok into an erased trailer: the
 * same writes from our model produce tests/data/mcuboot/signed-pad-confirm.bin byte for byte.
 * EVIDENCE-OF: tests/data/mcuboot/README.md "image_ok = 0x01 at 0x73fe8, boot magic 77c295f3
 * 60d2ef7f 3552500f 2cb67980 at 0x73ff0..0x73fff; copy_done and swap_info left erased". */
static void padded_confirmed_image_trailer_matches_imgtool(void **state)
{
    (void)state;
    FILE *f = fopen(SIGNED_BIN, "rb");
    assert_non_null(f);
    uint8_t *slot = malloc(SLOT_0x74000);
    assert_non_null(slot);
    memset(slot, 0xff, SLOT_0x74000);
    size_t n = fread(slot, 1, SLOT_0x74000, f);
    fclose(f);
    assert_int_equal(n, 103063);

    struct mcuboot_trailer_geom g = geom(MCUBOOT_TRAILER_SCRATCH, SLOT_0x74000, 1, 8, 128);
    struct mcuboot_trailer t;
    mcuboot_trailer_erase(&t);
    assert_int_equal(mcuboot_trailer_write_magic(&g, &t, NULL), 0);
    assert_int_equal(mcuboot_trailer_write_image_ok(&g, &t, NULL), 0);
    assert_int_equal(mcuboot_trailer_encode(&g, &t, slot, SLOT_0x74000), 0);
    static const uint8_t magic[16] = {0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
                                      0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80};
    assert_memory_equal(slot + 0x73ff0, magic, 16);
    assert_int_equal(slot[0x73fe8], 0x01);

    struct mcuboot_trailer back;
    struct mcuboot_trailer_swap_state s;
    assert_int_equal(mcuboot_trailer_decode(&g, slot, SLOT_0x74000, &back, NULL), 0);
    mcuboot_trailer_state(&back, &s);
    assert_int_equal(s.magic, MCUBOOT_TRAILER_MAGIC_GOOD);
    assert_int_equal(s.image_ok, MCUBOOT_TRAILER_FLAG_SET);
    assert_int_equal(s.copy_done, MCUBOOT_TRAILER_FLAG_UNSET);
    assert_int_equal(s.swap_type, MCUBOOT_TRAILER_SWAP_NONE);

    FILE *pf = fopen(PADDED_BIN, "rb");
    assert_non_null(pf);
    uint8_t *ref = malloc(SLOT_0x74000);
    assert_non_null(ref);
    assert_int_equal(fread(ref, 1, SLOT_0x74000, pf), SLOT_0x74000);
    fclose(pf);
    /* ECDSA signatures are randomized: the two files carry different signatures over the
     * same hash, so compare everything but the last 71..72 signature bytes of the TLVs. */
    const size_t sig_start = 103063 - 72;
    assert_memory_equal(slot, ref, sig_start);
    assert_memory_equal(slot + 103063, ref + 103063, SLOT_0x74000 - 103063);
    free(ref);
    free(slot);
}

/* ---- Decision table ---- */

#define G  MCUBOOT_TRAILER_MAGIC_GOOD
#define B  MCUBOOT_TRAILER_MAGIC_BAD
#define U  MCUBOOT_TRAILER_MAGIC_UNSET
#define FS MCUBOOT_TRAILER_FLAG_SET
#define FB MCUBOOT_TRAILER_FLAG_BAD
#define FU MCUBOOT_TRAILER_FLAG_UNSET

struct row_case {
    const char *name;
    bool offset;
    uint8_t mp, ms, okp, oks, cdp, cds;
    enum mcuboot_trailer_swap want;
};

/* Every row of boot_swap_tables[], cited, plus the near misses that must not match.
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/bootutil_public.c @2d4bacc
 * (boot_swap_tables[], boot_swap_type_multi()). */
static const struct row_case rows[] = {
    /* Row I (swap-offset only): secondary GOOD, image_ok UNSET, copy_done SET -> REVERT. */
    {"I: swap-offset, secondary swapped but unconfirmed -> REVERT", true, G, G, FU, FU, FU, FS,
     MCUBOOT_TRAILER_SWAP_REVERT},
    {"I: the same trailer without swap-offset is row II -> TEST", false, G, G, FU, FU, FU, FS,
     MCUBOOT_TRAILER_SWAP_TEST},
    {"I: primary fields are ANY", true, B, G, FB, FU, FB, FS, MCUBOOT_TRAILER_SWAP_REVERT},
    /* Row II: secondary GOOD, image_ok UNSET -> TEST. */
    {"II: image test on an erased-primary trailer -> TEST", false, U, G, FU, FU, FU, FU,
     MCUBOOT_TRAILER_SWAP_TEST},
    {"II: primary fields are ANY", false, B, G, FS, FU, FS, FU, MCUBOOT_TRAILER_SWAP_TEST},
    {"II: swap-offset with copy_done unset stays TEST", true, G, G, FU, FU, FS, FU,
     MCUBOOT_TRAILER_SWAP_TEST},
    /* Row III: secondary GOOD, image_ok SET -> PERM. */
    {"III: confirm-in-advance -> PERM", false, U, G, FU, FS, FU, FU, MCUBOOT_TRAILER_SWAP_PERM},
    {"III: swap-offset, copy_done SET does not hit row I when image_ok SET", true, G, G, FU, FS, FU,
     FS, MCUBOOT_TRAILER_SWAP_PERM},
    /* Row IV: primary GOOD, secondary UNSET, primary image_ok UNSET, copy_done SET -> REVERT. */
    {"IV: unconfirmed test image after reboot -> REVERT", false, G, U, FU, FU, FS, FU,
     MCUBOOT_TRAILER_SWAP_REVERT},
    {"IV: also in swap-offset", true, G, U, FU, FU, FS, FU, MCUBOOT_TRAILER_SWAP_REVERT},
    {"IV: secondary image_ok is ANY", false, G, U, FU, FB, FS, FU, MCUBOOT_TRAILER_SWAP_REVERT},
    {"IV: secondary magic BAD does not match (code: UNSET; design.md says Any)", false, G, B, FU,
     FU, FS, FU, MCUBOOT_TRAILER_SWAP_NONE},
    {"IV: confirmed image (image_ok SET) -> NONE", false, G, U, FS, FU, FS, FU,
     MCUBOOT_TRAILER_SWAP_NONE},
    {"IV: copy_done unset -> NONE", false, G, U, FU, FU, FU, FU, MCUBOOT_TRAILER_SWAP_NONE},
    {"IV: primary magic BAD -> NONE", false, B, U, FU, FU, FS, FU, MCUBOOT_TRAILER_SWAP_NONE},
    /* No row. */
    {"all erased -> NONE", false, U, U, FU, FU, FU, FU, MCUBOOT_TRAILER_SWAP_NONE},
    {"secondary magic BAD -> NONE", false, U, B, FU, FU, FU, FU, MCUBOOT_TRAILER_SWAP_NONE},
    {"secondary image_ok BAD matches neither TEST nor PERM", false, U, G, FU, FB, FU, FU,
     MCUBOOT_TRAILER_SWAP_NONE},
    {"after a PERM swap: everything set -> NONE", false, G, U, FS, FU, FS, FU,
     MCUBOOT_TRAILER_SWAP_NONE},
};

static void decision_table_row_by_row(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        const struct row_case *c = &rows[i];
        struct mcuboot_trailer_swap_state p = {c->mp, MCUBOOT_TRAILER_SWAP_NONE, c->cdp, c->okp, 0};
        struct mcuboot_trailer_swap_state s = {c->ms, MCUBOOT_TRAILER_SWAP_NONE, c->cds, c->oks, 0};
        print_message("case: %s\n", c->name);
        assert_int_equal(mcuboot_trailer_swap_type(&p, &s, c->offset), c->want);
    }
}

/* boot_swap_tables[] written out as conditions (row IV with the code's UNSET), as an oracle. */
static enum mcuboot_trailer_swap oracle(const struct mcuboot_trailer_swap_state *p,
                                        const struct mcuboot_trailer_swap_state *s, bool offset)
{
    bool sec_good = s->magic == G;
    if (offset && sec_good && s->image_ok == FU && s->copy_done == FS)
        return MCUBOOT_TRAILER_SWAP_REVERT;
    if (sec_good && s->image_ok == FU)
        return MCUBOOT_TRAILER_SWAP_TEST;
    if (sec_good && s->image_ok == FS)
        return MCUBOOT_TRAILER_SWAP_PERM;
    if (p->magic == G && s->magic == U && p->image_ok == FU && p->copy_done == FS)
        return MCUBOOT_TRAILER_SWAP_REVERT;
    return MCUBOOT_TRAILER_SWAP_NONE;
}

/* All 3^6 trailer combinations in both modes agree with the oracle. */
static void decision_table_is_exhaustively_the_reference(void **state)
{
    (void)state;
    static const uint8_t magics[] = {G, B, U}, flags[] = {FS, FB, FU};
    unsigned n = 0;
    for (int off = 0; off < 2; off++)
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                for (int c = 0; c < 81; c++) {
                    struct mcuboot_trailer_swap_state p = {magics[a], 1, flags[c % 3],
                                                           flags[c / 3 % 3], 0};
                    struct mcuboot_trailer_swap_state s = {magics[b], 1, flags[c / 9 % 3],
                                                           flags[c / 27 % 3], 0};
                    if (mcuboot_trailer_swap_type(&p, &s, off) != oracle(&p, &s, off))
                        fail_msg("mismatch at magic %d/%d flags %d offset %d", a, b, c, off);
                    n++;
                }
    assert_int_equal(n, 2 * 729);
}

/* "An unreadable secondary slot is treated as empty" (boot_swap_type_multi). */
static void unreadable_secondary_is_empty(void **state)
{
    (void)state;
    struct mcuboot_trailer_swap_state p = {G, MCUBOOT_TRAILER_SWAP_NONE, FS, FU, 0}, s;
    mcuboot_trailer_state_empty(&s);
    assert_int_equal(s.magic, MCUBOOT_TRAILER_MAGIC_UNSET);
    assert_int_equal(mcuboot_trailer_swap_type(&p, &s, false), MCUBOOT_TRAILER_SWAP_REVERT);
    assert_string_equal(mcuboot_trailer_swap_type_name(MCUBOOT_TRAILER_SWAP_REVERT), "revert");
    assert_string_equal(mcuboot_trailer_swap_type_name(MCUBOOT_TRAILER_SWAP_PANIC), "panic");
}

/* How the flags get written, end to end through the decision table.
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/bootutil_public.c @2d4bacc
 * (boot_set_pending_multi, boot_set_confirmed_multi) */
static void set_pending_and_confirm_drive_the_table(void **state)
{
    (void)state;
    struct mcuboot_trailer_geom g = geom(MCUBOOT_TRAILER_MOVE, NRF_SLOT, 4, 8, 128);
    struct mcuboot_trailer pri, sec;
    struct mcuboot_trailer_swap_state ps, ss;
    struct mcuboot_trailer_write w[3];
    size_t n;
    bool erase;

    /* image test <hash>: secondary magic + swap_info TEST -> row II. */
    mcuboot_trailer_erase(&pri);
    mcuboot_trailer_erase(&sec);
    assert_int_equal(mcuboot_trailer_set_pending(&g, &sec, false, w, &n, &erase), 0);
    assert_int_equal(n, 2);
    assert_false(erase);
    assert_int_equal(w[0].off, NRF_SLOT - 16);
    assert_int_equal(w[1].off, NRF_SLOT - 40);
    mcuboot_trailer_state(&pri, &ps);
    mcuboot_trailer_state(&sec, &ss);
    assert_int_equal(ss.swap_type, MCUBOOT_TRAILER_SWAP_TEST);
    assert_int_equal(mcuboot_trailer_swap_type(&ps, &ss, false), MCUBOOT_TRAILER_SWAP_TEST);
    /* A second request is "already scheduled": nothing written. */
    assert_int_equal(mcuboot_trailer_set_pending(&g, &sec, true, w, &n, &erase), 0);
    assert_int_equal(n, 0);

    /* confirm-in-advance: magic + image_ok + swap_info PERM -> row III. */
    mcuboot_trailer_erase(&sec);
    assert_int_equal(mcuboot_trailer_set_pending(&g, &sec, true, w, &n, &erase), 0);
    assert_int_equal(n, 3);
    mcuboot_trailer_state(&sec, &ss);
    assert_int_equal(mcuboot_trailer_swap_type(&ps, &ss, false), MCUBOOT_TRAILER_SWAP_PERM);

    /* A corrupt secondary trailer: the slot is erased, BOOT_EBADIMAGE. */
    mcuboot_trailer_erase(&sec);
    sec.magic = MCUBOOT_TRAILER_MAGIC_BAD;
    assert_int_equal(mcuboot_trailer_set_pending(&g, &sec, false, w, &n, &erase), SIM_EFORMAT);
    assert_true(erase);
    assert_int_equal(n, 0);

    /* After a completed TEST swap: primary magic GOOD, copy_done SET, image_ok unset;
     * secondary trailer erased. Reboot without confirm -> row IV REVERT. */
    mcuboot_trailer_erase(&sec);
    assert_int_equal(mcuboot_trailer_write_magic(&g, &pri, NULL), 0);
    assert_int_equal(mcuboot_trailer_write_copy_done(&g, &pri, NULL), 0);
    mcuboot_trailer_state(&pri, &ps);
    mcuboot_trailer_state(&sec, &ss);
    assert_int_equal(mcuboot_trailer_swap_type(&ps, &ss, false), MCUBOOT_TRAILER_SWAP_REVERT);
    /* Confirming the running image writes image_ok once -> NONE. */
    assert_int_equal(mcuboot_trailer_set_confirmed(&g, &pri, w, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(w[0].off, NRF_SLOT - 24);
    mcuboot_trailer_state(&pri, &ps);
    assert_int_equal(mcuboot_trailer_swap_type(&ps, &ss, false), MCUBOOT_TRAILER_SWAP_NONE);
    assert_int_equal(mcuboot_trailer_set_confirmed(&g, &pri, w, &n), 0);
    assert_int_equal(n, 0); /* already confirmed */
    /* Primary magic UNSET: already confirmed; BAD: BOOT_EBADVECT. */
    mcuboot_trailer_erase(&pri);
    assert_int_equal(mcuboot_trailer_set_confirmed(&g, &pri, w, &n), 0);
    assert_int_equal(n, 0);
    pri.magic = MCUBOOT_TRAILER_MAGIC_BAD;
    assert_int_equal(mcuboot_trailer_set_confirmed(&g, &pri, w, &n), SIM_EFORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trailer_sizes_and_offsets_follow_bootutil),
        cmocka_unit_test(impossible_geometries_are_refused),
        cmocka_unit_test(status_records_sit_where_bootutil_puts_them),
        cmocka_unit_test(writes_report_flash_ranges_and_refuse_programmed_fields),
        cmocka_unit_test(swap_info_decodes_type_and_image_number),
        cmocka_unit_test(bytes_round_trip_at_every_progress_point),
        cmocka_unit_test(padded_confirmed_image_trailer_matches_imgtool),
        cmocka_unit_test(decision_table_row_by_row),
        cmocka_unit_test(decision_table_is_exhaustively_the_reference),
        cmocka_unit_test(unreadable_secondary_is_empty),
        cmocka_unit_test(set_pending_and_confirm_drive_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
