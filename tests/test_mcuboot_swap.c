/* tests/test_mcuboot_swap.c - the upgrade engine of the copying modes (models/mcuboot/swap):
 * operation counts, durations from the chip profiles, the boot lifecycle (upgrade, revert,
 * confirm, permanent) and a power loss at every step of every mode. */
#include "models/mcuboot/swap.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SECT         4096u
#define NRF_SLOT     (472u * 1024u) /* nRF52840 default slots: 118 sectors */
#define MAXS         256u
#define OLD          1u /* image ids */
#define NEW          2u

struct dev {
    mcuboot_swap_tag_t p[MAXS], s[MAXS], x[8];
    struct mcuboot_swap_flash f;
};

static struct mcuboot_swap_geom geom_for(enum mcuboot_swap_mode mode, enum flash_chip_id id,
                                         uint32_t slot)
{
    struct flash_chip c;
    struct mcuboot_swap_geom g;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(flash_chip_profile(id, &c), 0);
    if (mcuboot_swap_geom_init(&g, mode, &c, slot, &c, slot, &c, c.sector_size, &d) != 0)
        fail_msg("geometry: %s", d.text);
    return g;
}

/* Primary holds image OLD, the secondary image NEW (from sector 1 in swap-offset), and the
 * secondary trailer says test (or permanent), as img_mgmt leaves it. */
static void dev_init(struct dev *v, const struct mcuboot_swap_geom *g, uint32_t old_size,
                     uint32_t new_size, bool permanent)
{
    struct mcuboot_trailer_write w[3];
    size_t n;
    bool erase;
    memset(v, 0, sizeof(*v));
    v->f.sector[MCUBOOT_SWAP_PRIMARY] = v->p;
    v->f.sector[MCUBOOT_SWAP_SECONDARY] = v->s;
    v->f.sector[MCUBOOT_SWAP_SCRATCH_AREA] = v->x;
    for (int a = 0; a < MCUBOOT_SWAP_AREA_COUNT; a++)
        mcuboot_trailer_erase(&v->f.trailer[a]);
    v->f.img_size[OLD] = old_size;
    v->f.img_size[NEW] = new_size;
    uint32_t first = g->mode == MCUBOOT_SWAP_OFFSET;
    for (uint32_t k = 0; k * SECT < old_size; k++)
        v->p[k] = mcuboot_swap_tag(OLD, k);
    for (uint32_t k = 0; k * SECT < new_size; k++)
        v->s[first + k] = mcuboot_swap_tag(NEW, k);
    assert_int_equal(mcuboot_trailer_set_pending(&g->trailer, &v->f.trailer[MCUBOOT_SWAP_SECONDARY],
                                                 permanent, w, &n, &erase),
                     0);
}

static struct mcuboot_swap_result boot(const struct mcuboot_swap_geom *g, struct dev *v,
                                       long cut_at)
{
    struct mcuboot_swap_result r;
    struct sim_diag d;
    sim_diag_init(&d);
    if (mcuboot_swap_boot(g, &v->f, cut_at, &r, &d) != 0)
        fail_msg("boot: %s", d.text);
    return r;
}

static const enum mcuboot_swap_mode all_modes[] = {MCUBOOT_SWAP_OVERWRITE, MCUBOOT_SWAP_SCRATCH,
                                                   MCUBOOT_SWAP_MOVE, MCUBOOT_SWAP_OFFSET};

/* EVIDENCE-OF: counted from the upstream loops below: swap-move 3·L, swap-offset ≈ 2·L,
 * swap-scratch 3·L per region, overwrite-only (L + 1) erases + L sector writes in primary,
 * plus 2 erases in secondary.
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/swap_move.c @2d4bacc (swap_run),
 * swap_offset.c, swap_scratch.c (boot_swap_sectors), loader.c (boot_copy_image) */
static void operation_counts_per_mode(void **state)
{
    (void)state;
    const uint32_t L = 32; /* a 128 KiB image on 4 KiB sectors */
    static const struct {
        const char *name;
        enum mcuboot_swap_mode mode;
        uint32_t copies, erase_p, erase_s, erase_x, trailer_erases, status;
    } cases[] = {
        {"overwrite-only: L erases + trailer, L copies, 2 secondary erases", MCUBOOT_SWAP_OVERWRITE,
         32, 32, 2, 0, 1, 0},
        {"swap-scratch (1-sector scratch): 3 erases + 3 copies per sector, +1 scratch erase",
         MCUBOOT_SWAP_SCRATCH, 96, 32, 32, 33, 2, 96},
        {"swap-move: 3L erases, 3L copies (two erase cycles on primary)", MCUBOOT_SWAP_MOVE, 96, 64,
         32, 0, 2, 96},
        {"swap-offset: 2L erases, 2L copies (one erase cycle per slot)", MCUBOOT_SWAP_OFFSET, 64,
         32, 32, 0, 2, 64},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct mcuboot_swap_geom g = geom_for(cases[i].mode, FLASH_CHIP_NRF52840, NRF_SLOT);
        struct mcuboot_swap_plan p;
        struct mcuboot_swap_cost c;
        assert_int_equal(mcuboot_swap_plan_build(&p, &g, MCUBOOT_TRAILER_SWAP_TEST, L * SECT, NULL),
                         0);
        assert_int_equal(p.n_img, L);
        mcuboot_swap_plan_cost(&g, &p, &c);
        assert_int_equal(c.copies, cases[i].copies);
        assert_int_equal(c.erases[MCUBOOT_SWAP_PRIMARY], cases[i].erase_p);
        assert_int_equal(c.erases[MCUBOOT_SWAP_SECONDARY], cases[i].erase_s);
        assert_int_equal(c.erases[MCUBOOT_SWAP_SCRATCH_AREA], cases[i].erase_x);
        assert_int_equal(c.trailer_erases, cases[i].trailer_erases);
        assert_int_equal(c.status_writes, cases[i].status);
        assert_int_equal(c.bytes_copied, (uint64_t)cases[i].copies * SECT);
        mcuboot_swap_plan_fini(&p);
    }
}

/* Derived from the swap algorithms: T ≈ k·L·(t_erase(S) + t_prog(S) + t_read(S)) +
 * n_status·t_prog(w), plus the
 * two trailer erases and the trailer writes, on the chip's maximum figures. */
static void duration_follows_the_chip_profile(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum mcuboot_swap_mode mode;
        enum flash_chip_id chip;
        uint32_t slot, L, k;
        int64_t t_erase, t_word, t_read_kib;
        uint32_t init_words; /* swap_info 1, swap_size 1, [TLV sizes 1], magic 4 */
    } cases[] = {
        {"nRF52840 swap-move 128 KiB", MCUBOOT_SWAP_MOVE, FLASH_CHIP_NRF52840, NRF_SLOT, 32, 3,
         85000000, 41000, 8000, 6},
        {"nRF52840 swap-offset 256 KiB", MCUBOOT_SWAP_OFFSET, FLASH_CHIP_NRF52840, NRF_SLOT, 64, 2,
         85000000, 41000, 8000, 7},
        {"nRF5340 swap-move 256 KiB", MCUBOOT_SWAP_MOVE, FLASH_CHIP_NRF5340, 464u * 1024u, 64, 3,
         87500000, 43000, 8000, 6},
        {"nRF5340 swap-offset 128 KiB", MCUBOOT_SWAP_OFFSET, FLASH_CHIP_NRF5340, 464u * 1024u, 32,
         2, 87500000, 43000, 8000, 7},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct mcuboot_swap_geom g = geom_for(cases[i].mode, cases[i].chip, cases[i].slot);
        struct mcuboot_swap_plan p;
        struct mcuboot_swap_cost c;
        assert_int_equal(
            mcuboot_swap_plan_build(&p, &g, MCUBOOT_TRAILER_SWAP_TEST, cases[i].L * SECT, NULL), 0);
        mcuboot_swap_plan_cost(&g, &p, &c);
        int64_t per_sector = cases[i].t_erase + 1024 * cases[i].t_word + 4 * cases[i].t_read_kib;
        int64_t kl = (int64_t)cases[i].k * cases[i].L;
        int64_t want = kl * per_sector + kl * cases[i].t_word  /* status records */
                       + 2 * cases[i].t_erase                  /* both trailers */
                       + cases[i].init_words * cases[i].t_word /* swap_status_init */
                       + cases[i].t_word;                      /* copy_done */
        assert_int_equal(c.ns, want);
        int64_t sum = 0;
        for (size_t s = 0; s < p.n_steps; s++)
            sum += mcuboot_swap_step_ns(&g, &p, s);
        assert_int_equal(sum, want);
        mcuboot_swap_plan_fini(&p);
    }
}

/* Each step is timed on the chip of the area it touches: nRF52840 DK with the secondary slot
 * on the MX25R64 (erase 240 ms max, 256-byte pages at 5.376 ms, QSPI read 64 us/KiB). */
static void steps_use_the_chip_of_their_area(void **state)
{
    (void)state;
    struct flash_chip nrf, mx;
    struct mcuboot_swap_geom g;
    struct mcuboot_swap_plan p;
    struct mcuboot_swap_cost c;
    assert_int_equal(flash_chip_profile(FLASH_CHIP_NRF52840, &nrf), 0);
    assert_int_equal(flash_chip_profile(FLASH_CHIP_MX25R64, &mx), 0);
    assert_int_equal(mcuboot_swap_geom_init(&g, MCUBOOT_SWAP_OFFSET, &nrf, NRF_SLOT, &mx, NRF_SLOT,
                                            NULL, 0, NULL),
                     0);
    const int64_t L = 10;
    assert_int_equal(
        mcuboot_swap_plan_build(&p, &g, MCUBOOT_TRAILER_SWAP_TEST, (uint32_t)L * SECT, NULL), 0);
    mcuboot_swap_plan_cost(&g, &p, &c);
    const int64_t word = 41000, nrf_erase = 85000000, mx_erase = 240000000, page = 5376000;
    int64_t to_secondary = mx_erase + 4 * 8000 + 16 * page;   /* erase S, read P, program S */
    int64_t to_primary = nrf_erase + 4 * 64000 + 1024 * word; /* erase P, read S, program P */
    int64_t want = L * (to_secondary + to_primary + 2 * word) /* two status records each */
                   + nrf_erase + (1 + 1 + 1 + 4) * word       /* primary trailer, status init */
                   + mx_erase                                 /* secondary trailer */
                   + word;                                    /* copy_done */
    assert_int_equal(c.ns, want);
    mcuboot_swap_plan_fini(&p);
}

/* Images that do not fit the mode's room are refused up front (swap-move needs one free
 * sector in the primary, swap-offset one in the secondary). */
static void images_beyond_the_room_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum mcuboot_swap_mode mode;
        uint32_t sectors;
        int want;
    } cases[] = {
        {"swap-move: 116 of 118 sectors fit", MCUBOOT_SWAP_MOVE, 116, 0},
        {"swap-move: 117 sectors reach the trailer after the move", MCUBOOT_SWAP_MOVE, 117,
         SIM_ERANGE},
        {"swap-offset with equal slots: 116 fit", MCUBOOT_SWAP_OFFSET, 116, 0},
        {"swap-offset with equal slots: 117 do not", MCUBOOT_SWAP_OFFSET, 117, SIM_ERANGE},
        {"overwrite-only: 117 fit below the trailer sector", MCUBOOT_SWAP_OVERWRITE, 117, 0},
        {"overwrite-only: 118 do not", MCUBOOT_SWAP_OVERWRITE, 118, SIM_ERANGE},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct mcuboot_swap_geom g = geom_for(cases[i].mode, FLASH_CHIP_NRF52840, NRF_SLOT);
        struct mcuboot_swap_plan p;
        struct sim_diag d;
        sim_diag_init(&d);
        assert_int_equal(
            mcuboot_swap_plan_build(&p, &g, MCUBOOT_TRAILER_SWAP_TEST, cases[i].sectors * SECT, &d),
            cases[i].want);
        if (cases[i].want != 0)
            assert_non_null(strstr(d.text, "trailer sector"));
        mcuboot_swap_plan_fini(&p);
    }
    struct mcuboot_swap_geom g = geom_for(MCUBOOT_SWAP_OVERWRITE, FLASH_CHIP_NRF52840, NRF_SLOT);
    struct mcuboot_swap_plan p;
    assert_int_equal(mcuboot_swap_plan_build(&p, &g, MCUBOOT_TRAILER_SWAP_REVERT, SECT, NULL),
                     SIM_EINVAL);
    /* Non-uniform sectors are not modelled. */
    struct flash_chip nrf, stm;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(flash_chip_profile(FLASH_CHIP_NRF52840, &nrf), 0);
    assert_int_equal(flash_chip_profile(FLASH_CHIP_STM32WLE5, &stm), 0);
    assert_int_equal(
        mcuboot_swap_geom_init(&g, MCUBOOT_SWAP_MOVE, &nrf, NRF_SLOT, &stm, NRF_SLOT, NULL, 0, &d),
        SIM_ERANGE);
    assert_non_null(strstr(d.text, "non-uniform"));
    /* Tags are 16 bits: an area has at most 4095 sectors, so that no image's sector tag
     * (image 15's last) reads as a cut sector's. */
    struct flash_chip big = nrf;
    uint32_t most = MCUBOOT_SWAP_MAX_SECTORS * big.sector_size;
    big.size = most + big.sector_size;
    sim_diag_init(&d);
    assert_int_equal(
        mcuboot_swap_geom_init(&g, MCUBOOT_SWAP_MOVE, &big, most, &big, most, NULL, 0, &d), 0);
    assert_int_equal(mcuboot_swap_geom_init(&g, MCUBOOT_SWAP_MOVE, &big, most + big.sector_size,
                                            &big, most, NULL, 0, &d),
                     SIM_EINVAL);
    assert_int_equal(MCUBOOT_SWAP_MAX_SECTORS, 4095);
    assert_true(mcuboot_swap_tag(MCUBOOT_SWAP_MAX_IMAGES - 1, MCUBOOT_SWAP_MAX_SECTORS - 1) !=
                MCUBOOT_SWAP_GARBAGE);
    assert_int_equal(mcuboot_swap_tag_image0(mcuboot_swap_tag(15, 0)), 15);
    assert_int_equal(mcuboot_swap_tag_image0(mcuboot_swap_tag(15, 1)), 0);
    assert_int_equal(mcuboot_swap_tag_image0(MCUBOOT_SWAP_GARBAGE), 0);
}

static void expect_image(const struct mcuboot_swap_geom *g, const struct dev *v,
                         enum mcuboot_swap_area a, uint32_t first, uint32_t image)
{
    if (!mcuboot_swap_image_intact(g, &v->f, a, first, image))
        fail_msg("area %d does not hold image %u intact from sector %u", a, image, first);
}

/* boot_swap_tables[] row IV (mcu-tools/mcuboot: boot/bootutil/src/bootutil_public.c): test
 * swap, reboot without confirm -> revert (same flash cost), then none. */
static void unconfirmed_test_image_is_reverted(void **state)
{
    (void)state;
    for (size_t m = 0; m < ARRAY_LEN(all_modes); m++) {
        struct mcuboot_swap_geom g = geom_for(all_modes[m], FLASH_CHIP_NRF52840, NRF_SLOT);
        struct dev v;
        print_message("case: %s\n", mcuboot_swap_mode_name(all_modes[m]));
        dev_init(&v, &g, 40 * SECT + 100, 30 * SECT + 7, false);
        struct mcuboot_swap_result r1 = boot(&g, &v, -1);
        assert_int_equal(r1.type, MCUBOOT_TRAILER_SWAP_TEST);
        assert_int_equal(r1.boot_image, NEW);
        expect_image(&g, &v, MCUBOOT_SWAP_PRIMARY, 0, NEW);
        if (all_modes[m] == MCUBOOT_SWAP_OVERWRITE) {
            /* No revert: the secondary header is scrambled, the next boot keeps NEW. */
            assert_int_equal(mcuboot_swap_image_at(&v.f, MCUBOOT_SWAP_SECONDARY, 0), 0);
            struct mcuboot_swap_result r2 = boot(&g, &v, -1);
            assert_int_equal(r2.type, MCUBOOT_TRAILER_SWAP_NONE);
            assert_int_equal(r2.boot_image, NEW);
            continue;
        }
        expect_image(&g, &v, MCUBOOT_SWAP_SECONDARY, 0, OLD);
        struct mcuboot_swap_result r2 = boot(&g, &v, -1);
        assert_int_equal(r2.type, MCUBOOT_TRAILER_SWAP_REVERT);
        assert_int_equal(r2.boot_image, OLD);
        expect_image(&g, &v, MCUBOOT_SWAP_SECONDARY, all_modes[m] == MCUBOOT_SWAP_OFFSET, NEW);
        /* "A revert costs the same again": the same copies. */
        assert_int_equal(r2.cost.copies, r1.cost.copies);
        struct mcuboot_swap_result r3 = boot(&g, &v, -1);
        assert_int_equal(r3.type, MCUBOOT_TRAILER_SWAP_NONE);
        assert_int_equal(r3.boot_image, OLD);
        assert_int_equal(r3.ns, 0);
    }
}

static void confirmed_and_permanent_images_stay(void **state)
{
    (void)state;
    for (size_t m = 1; m < ARRAY_LEN(all_modes); m++) {
        struct mcuboot_swap_geom g = geom_for(all_modes[m], FLASH_CHIP_NRF52840, NRF_SLOT);
        struct dev v;
        struct mcuboot_trailer_write w;
        size_t n;
        print_message("case: %s, test then confirm\n", mcuboot_swap_mode_name(all_modes[m]));
        dev_init(&v, &g, 20 * SECT, 25 * SECT, false);
        assert_int_equal(boot(&g, &v, -1).type, MCUBOOT_TRAILER_SWAP_TEST);
        assert_int_equal(
            mcuboot_trailer_set_confirmed(&g.trailer, &v.f.trailer[MCUBOOT_SWAP_PRIMARY], &w, &n),
            0);
        assert_int_equal(n, 1);
        struct mcuboot_swap_result r = boot(&g, &v, -1);
        assert_int_equal(r.type, MCUBOOT_TRAILER_SWAP_NONE);
        assert_int_equal(r.boot_image, NEW);

        print_message("case: %s, permanent\n", mcuboot_swap_mode_name(all_modes[m]));
        dev_init(&v, &g, 20 * SECT, 25 * SECT, true);
        r = boot(&g, &v, -1);
        assert_int_equal(r.type, MCUBOOT_TRAILER_SWAP_PERM);
        assert_int_equal(v.f.trailer[MCUBOOT_SWAP_PRIMARY].image_ok, MCUBOOT_TRAILER_SET_BYTE);
        r = boot(&g, &v, -1);
        assert_int_equal(r.type, MCUBOOT_TRAILER_SWAP_NONE);
        assert_int_equal(r.boot_image, NEW);
    }
}

/* mcu-tools/mcuboot: boot/bootutil/src/loader.c (boot_validate_slot,
 * boot_validated_swap_type): a secondary that fails validation is scrambled and nothing is
 * swapped. */
static void invalid_secondary_is_scrambled_not_swapped(void **state)
{
    (void)state;
    for (size_t m = 0; m < ARRAY_LEN(all_modes); m++) {
        struct mcuboot_swap_geom g = geom_for(all_modes[m], FLASH_CHIP_NRF52840, NRF_SLOT);
        struct dev v;
        print_message("case: %s\n", mcuboot_swap_mode_name(all_modes[m]));
        dev_init(&v, &g, 20 * SECT, 25 * SECT, false);
        v.s[10] = MCUBOOT_SWAP_GARBAGE; /* a corrupt upload */
        struct mcuboot_swap_result r = boot(&g, &v, -1);
        assert_int_equal(r.type, MCUBOOT_TRAILER_SWAP_NONE);
        assert_true(r.scrambled);
        assert_int_equal(r.boot_image, OLD);
        assert_int_equal(r.cost.copies, 0);
        assert_int_equal(v.f.trailer[MCUBOOT_SWAP_SECONDARY].magic, MCUBOOT_TRAILER_MAGIC_UNSET);
        assert_int_equal(v.f.trailer[MCUBOOT_SWAP_PRIMARY].image_ok, MCUBOOT_TRAILER_ERASED_U8);
    }
}

/* Every erase of a swap lands on the device's wear counters: swap-move erases the moved
 * primary sectors twice, the secondary once, and each trailer sector once (swap_run() in
 * mcu-tools/mcuboot: boot/bootutil/src/swap_move.c: two erase cycles on the primary, one on
 * the secondary per upgrade). */
static void swap_move_wear_lands_on_the_device_counters(void **state)
{
    (void)state;
    struct mcuboot_swap_geom g = geom_for(MCUBOOT_SWAP_MOVE, FLASH_CHIP_NRF52840, NRF_SLOT);
    const uint32_t n = g.n_sectors[MCUBOOT_SWAP_PRIMARY], L = 10;
    struct flash_wear *w = flash_wear_new(3, 2 * n);
    assert_non_null(w);
    struct dev v;
    dev_init(&v, &g, L * SECT, L * SECT, false);
    v.f.wear = w;
    v.f.wear_dev = 2;
    v.f.wear_base[MCUBOOT_SWAP_PRIMARY] = 0;
    v.f.wear_base[MCUBOOT_SWAP_SECONDARY] = n;
    struct mcuboot_swap_result r = boot(&g, &v, -1);
    assert_int_equal(r.validated_bytes, L * SECT);
    struct flash_wear_count c;
    static const struct {
        const char *name;
        uint32_t sector;
        uint16_t erases;
    } cases[] = {
        {"primary sector 0: swapped once", 0, 1},
        {"primary sector 1: moved, then swapped", 1, 2},
        {"primary sector L-1: moved, then swapped", 9, 2},
        {"primary sector L: the move target only", 10, 1},
        {"primary sector L+1: untouched", 11, 0},
        {"primary trailer sector", 117, 1},
        {"secondary sector 0", 118, 1},
        {"secondary sector L", 118 + 10, 0},
        {"secondary trailer sector", 235, 1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(flash_wear_get(w, 2, cases[i].sector, &c), 0);
        assert_int_equal(c.erases, cases[i].erases);
    }
    assert_int_equal(flash_wear_total_erases(w, 2), 3 * L + 2);
    assert_int_equal(flash_wear_total_erases(w, 0) + flash_wear_total_erases(w, 1), 0);
    /* A mapping outside the table is reported, not written past. */
    dev_init(&v, &g, L * SECT, L * SECT, false);
    v.f.wear = w;
    v.f.wear_base[MCUBOOT_SWAP_SECONDARY] = 2 * n;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(mcuboot_swap_boot(&g, &v.f, -1, &r, &d), SIM_ERANGE);
    assert_non_null(strstr(d.text, "wear counters"));
    flash_wear_free(w);
}

/* Longest stretch of work a resume can redo: the steps from a resume point (after a status
 * record, or the plan's first resume step) up to and including a cut step. */
static int64_t max_redo(const struct mcuboot_swap_geom *g, enum mcuboot_trailer_swap type,
                        uint32_t swap_size)
{
    struct mcuboot_swap_plan p;
    assert_int_equal(mcuboot_swap_plan_build(&p, g, type, swap_size, NULL), 0);
    int64_t worst = 0, run = 0;
    for (size_t i = 0; i < p.n_steps; i++) {
        run += mcuboot_swap_step_ns(g, &p, i);
        worst = run > worst ? run : worst;
        if (p.steps[i].op == MCUBOOT_SWAP_OP_STATUS)
            run = 0;
    }
    /* Before the first record a resume starts at first_resume or, with no status source,
     * at step 0: the prologue plus the first sector's work. */
    mcuboot_swap_plan_fini(&p);
    return worst;
}

struct final {
    mcuboot_swap_tag_t p[MAXS], s[MAXS];
    struct mcuboot_trailer_swap_state tp;
};

static void snapshot(const struct dev *v, struct final *out)
{
    memcpy(out->p, v->p, sizeof(out->p));
    memcpy(out->s, v->s, sizeof(out->s));
    mcuboot_trailer_state(&v->f.trailer[MCUBOOT_SWAP_PRIMARY], &out->tp);
}

/* Power loss at every step index of every mode, for the upgrade and for the revert: the next
 * boot finishes the job, the slots end exactly as without the power loss (for overwrite-only
 * the secondary holds no image either way), never a mixed image, and the time spent is the
 * uninterrupted time plus at most the redone stretch.
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/swap_move.c @2d4bacc (swap_status_source,
 * swap_read_status_bytes, fixup_revert); docs/design.md "Reset recovery" */
static void power_loss_at_every_step_recovers(void **state)
{
    (void)state;
    const uint32_t old_size = 12 * SECT + 300, new_size = 9 * SECT + 5;
    for (size_t m = 0; m < ARRAY_LEN(all_modes); m++) {
        const enum mcuboot_swap_mode mode = all_modes[m];
        struct mcuboot_swap_geom g = geom_for(mode, FLASH_CHIP_NRF52840, NRF_SLOT);
        for (int phase = 0; phase < (mode == MCUBOOT_SWAP_OVERWRITE ? 1 : 2); phase++) {
            const bool revert = phase == 1;
            struct dev v;
            struct final want, got;
            /* Reference run. */
            dev_init(&v, &g, old_size, new_size, false);
            if (revert)
                (void)boot(&g, &v, -1);
            struct mcuboot_swap_result full = boot(&g, &v, -1);
            assert_int_equal(full.type,
                             revert ? MCUBOOT_TRAILER_SWAP_REVERT : MCUBOOT_TRAILER_SWAP_TEST);
            snapshot(&v, &want);
            const uint32_t want_image = revert ? OLD : NEW;
            int64_t bound = mode == MCUBOOT_SWAP_OVERWRITE
                                ? full.ns
                                : max_redo(&g, (enum mcuboot_trailer_swap)full.type,
                                           old_size > new_size ? old_size : new_size);
            print_message("case: %s %s, %zu steps\n", mcuboot_swap_mode_name(mode),
                          revert ? "revert" : "upgrade", full.steps);
            for (size_t k = 0; k < full.steps; k++) {
                dev_init(&v, &g, old_size, new_size, false);
                if (revert)
                    (void)boot(&g, &v, -1);
                struct mcuboot_swap_result cut = boot(&g, &v, (long)k);
                assert_true(cut.cut);
                assert_int_equal(cut.steps, k + 1);
                struct mcuboot_swap_result rest = boot(&g, &v, -1);
                assert_false(rest.cut);
                if (rest.boot_image != want_image)
                    fail_msg("%s: cut at step %zu boots image %u", mcuboot_swap_mode_name(mode), k,
                             rest.boot_image);
                snapshot(&v, &got);
                assert_memory_equal(got.p, want.p, sizeof(got.p));
                if (mode == MCUBOOT_SWAP_OVERWRITE)
                    assert_int_equal(mcuboot_swap_image_at(&v.f, MCUBOOT_SWAP_SECONDARY, 0), 0);
                else
                    assert_memory_equal(got.s, want.s, sizeof(got.s));
                assert_int_equal(got.tp.magic, want.tp.magic);
                assert_int_equal(got.tp.copy_done, want.tp.copy_done);
                assert_int_equal(got.tp.image_ok, want.tp.image_ok);
                /* Overwrite-only cut while scrambling the secondary header: the next boot
                 * finds an invalid secondary and erases the whole slot (boot_scramble_slot). */
                int64_t scramble = rest.scrambled
                                       ? flash_chip_erase_ns(&g.chip[MCUBOOT_SWAP_SECONDARY],
                                                             g.n_sectors[MCUBOOT_SWAP_SECONDARY])
                                       : 0;
                if (rest.scrambled && mode != MCUBOOT_SWAP_OVERWRITE)
                    fail_msg("%s: cut at %zu made the next boot scramble",
                             mcuboot_swap_mode_name(mode), k);
                if (cut.ns + rest.ns > full.ns + bound + scramble)
                    fail_msg("%s: cut at %zu took %lld ns, more than %lld + %lld",
                             mcuboot_swap_mode_name(mode), k, (long long)(cut.ns + rest.ns),
                             (long long)full.ns, (long long)bound);
                /* And the boot after that does nothing more than the reference would. */
                struct mcuboot_swap_result after = boot(&g, &v, -1);
                assert_int_equal(after.boot_image,
                                 revert || mode == MCUBOOT_SWAP_OVERWRITE ? want_image : OLD);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(operation_counts_per_mode),
        cmocka_unit_test(duration_follows_the_chip_profile),
        cmocka_unit_test(steps_use_the_chip_of_their_area),
        cmocka_unit_test(images_beyond_the_room_are_refused),
        cmocka_unit_test(unconfirmed_test_image_is_reverted),
        cmocka_unit_test(confirmed_and_permanent_images_stay),
        cmocka_unit_test(invalid_secondary_is_scrambled_not_swapped),
        cmocka_unit_test(swap_move_wear_lands_on_the_device_counters),
        cmocka_unit_test(power_loss_at_every_step_recovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
