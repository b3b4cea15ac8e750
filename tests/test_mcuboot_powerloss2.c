/* tests/test_mcuboot_powerloss2.c - power lost twice (models/mcuboot/swap): a cut at every
 * flash operation of a swap, then a second cut at every operation of the boot that recovers
 * it, in overwrite-only, swap-scratch, swap-move and swap-offset, for the upgrade and for the
 * revert that follows when the test image is not confirmed.
 *
 * After the two cuts the device boots without further loss until it has nothing left to do.
 * Every boot must run a whole image (the engine's boot_image: every sector of the image in
 * place, what hash validation accepts, never a mix of old and new sectors), both slots and
 * their trailers must end sector for sector as after the same lifecycle without power loss
 * (check_reference() pins that lifecycle: image_ok, copy_done, magic), and one more reboot
 * must change nothing. Two tolerated differences: swap_info may name PERM instead of REVERT
 * (is_revert_or_perm()), and overwrite-only's secondary may be scrambled whole instead of
 * its header and trailer sectors. The outcomes are counted and the set is asserted exactly:
 *   - upgrade, swap modes: the new image runs once, the next boot reverts, the old image
 *     stays (the reference lifecycle);
 *   - upgrade, overwrite-only: the new image stays (no revert);
 *   - revert: the old image stays, except in swap-scratch for the pairs of cuts listed in
 *     scratch_window(), where the new image keeps running unconfirmed for good. That is
 *     MCUboot's own behaviour (README "Power lost twice"): boot_swap_sectors() in
 *     boot/bootutil/src/swap_scratch.c erases the scratch area before it rewrites the
 *     scratch trailer, which at that point holds the only copy of the revert request.
 *
 * Small images try every pair of cuts; the slot-filling image on the 472 KiB nRF52840 slot
 * tries every first cut and a keyed sample of second cuts (fixed seed, sim_rng). The counts
 * are printed for the CI log. */
#include "models/mcuboot/swap.h"
#include "sim/rng.h"

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
#define SMALL_SLOT   (16u * SECT)
#define MAXS         128u
#define OLD          1u /* image ids */
#define NEW          2u
#define SEED         0x2c075eedu
#define WINDOW       8u /* sampled sizes: all pairs of cuts among the first WINDOW steps */
#define PER_CUT      2u /* sampled sizes: keyed draws of a second cut per first cut */
#define NO_CUT       ((size_t)-1)

static const enum mcuboot_swap_mode all_modes[] = {MCUBOOT_SWAP_OVERWRITE, MCUBOOT_SWAP_SCRATCH,
                                                   MCUBOOT_SWAP_MOVE, MCUBOOT_SWAP_OFFSET};

/* Image sizes in bytes; a value <= 0 is the mode's largest image (mcuboot_swap_max_image)
 * less that many bytes. */
static const struct size_case {
    const char *name;
    uint32_t slot;
    int32_t old_size, new_size;
    bool sampled;
} sizes[] = {
    {"2-sector old, 2-sector new image", NRF_SLOT, 2 * SECT - 50, SECT + 20, false},
    {"10-sector old, 13-sector new image", NRF_SLOT, 9 * SECT + 5, 12 * SECT + 300, false},
    {"images filling a 16-sector slot", SMALL_SLOT, 0, -100, false},
    {"images filling the 472 KiB nRF52840 slot", NRF_SLOT, -100, 0, true},
};

enum outcome {
    OUT_NEW_THEN_OLD, /* the new image runs once, the next boot reverts to the old */
    OUT_NEW_KEPT,     /* overwrite-only: the new image stays */
    OUT_OLD,          /* the revert completes: the old image stays */
    OUT_NEW_STAYS,    /* the revert request is lost: the unconfirmed new image stays */
    OUT_COUNT
};

static const char *const outcome_names[OUT_COUNT] = {"new then reverted to old", "new kept", "old",
                                                     "unconfirmed new stays"};

struct dev {
    mcuboot_swap_tag_t p[MAXS], s[MAXS], x[8];
    struct mcuboot_swap_flash f;
};

static void dev_bind(struct dev *v)
{
    v->f.sector[MCUBOOT_SWAP_PRIMARY] = v->p;
    v->f.sector[MCUBOOT_SWAP_SECONDARY] = v->s;
    v->f.sector[MCUBOOT_SWAP_SCRATCH_AREA] = v->x;
}

static void dev_copy(struct dev *dst, const struct dev *src)
{
    memcpy(dst, src, sizeof(*dst));
    dev_bind(dst);
}

static struct mcuboot_swap_geom geom_for(enum mcuboot_swap_mode mode, uint32_t slot)
{
    struct flash_chip c;
    struct mcuboot_swap_geom g;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(flash_chip_profile(FLASH_CHIP_NRF52840, &c), 0);
    if (mcuboot_swap_geom_init(&g, mode, &c, slot, &c, slot, &c, c.sector_size, &d) != 0)
        fail_msg("geometry: %s", d.text);
    assert_true(g.n_sectors[MCUBOOT_SWAP_PRIMARY] <= MAXS);
    return g;
}

static uint32_t size_of(const struct mcuboot_swap_geom *g, int32_t v)
{
    return v > 0 ? (uint32_t)v : mcuboot_swap_max_image(g) - (uint32_t)-v;
}

/* Primary holds OLD, the secondary NEW (from sector 1 in swap-offset) marked for test, as
 * img_mgmt leaves it. */
static void dev_init(struct dev *v, const struct mcuboot_swap_geom *g, uint32_t old_size,
                     uint32_t new_size)
{
    struct mcuboot_trailer_write w[3];
    size_t n;
    bool erase;
    memset(v, 0, sizeof(*v));
    dev_bind(v);
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
                                                 false, w, &n, &erase),
                     0);
}

static struct mcuboot_swap_result boot(const struct mcuboot_swap_geom *g, struct dev *v,
                                       size_t cut_at)
{
    struct mcuboot_swap_result r;
    struct sim_diag d;
    sim_diag_init(&d);
    if (mcuboot_swap_boot(g, &v->f, cut_at == NO_CUT ? -1 : (long)cut_at, &r, &d) != 0)
        fail_msg("boot: %s", d.text);
    return r;
}

/* Steps the next boot of v would execute. */
static size_t steps_ahead(const struct mcuboot_swap_geom *g, const struct dev *v)
{
    size_t n;
    int64_t ns;
    bool resume;
    assert_int_equal(mcuboot_swap_boot_plan(g, &v->f, &n, &ns, &resume), 0);
    return n;
}

/* swap_info names the swap that ran. A revert cut inside fixup_revert()'s window finishes
 * as a PERM swap of the same image (swap_move.c: "making the revert look like a permanent
 * upgrade"), which leaves PERM there instead of REVERT: the same slots either way. */
static bool is_revert_or_perm(const struct mcuboot_trailer *t)
{
    uint8_t type = t->swap_info & 0x0fu;
    return type == MCUBOOT_TRAILER_SWAP_REVERT || type == MCUBOOT_TRAILER_SWAP_PERM;
}

static bool trailer_equal(const struct mcuboot_trailer *a, const struct mcuboot_trailer *b)
{
    return a->swap_size == b->swap_size && a->tlv_size_primary == b->tlv_size_primary &&
           a->tlv_size_secondary == b->tlv_size_secondary && a->status_idx == b->status_idx &&
           a->status_moves == b->status_moves && a->status_op == b->status_op &&
           a->status_state == b->status_state && a->magic == b->magic &&
           a->image_ok == b->image_ok && a->copy_done == b->copy_done &&
           (a->swap_info == b->swap_info || (is_revert_or_perm(a) && is_revert_or_perm(b)));
}

/* Both slots, sector by sector, and their trailers as in the reference. The scratch area
 * is a work area: only its trailer must not hold a swap to resume. */
static bool same_slots(const struct mcuboot_swap_geom *g, const struct dev *a, const struct dev *b)
{
    size_t n = g->n_sectors[MCUBOOT_SWAP_PRIMARY] * sizeof(a->p[0]);
    return memcmp(a->p, b->p, n) == 0 && memcmp(a->s, b->s, n) == 0 &&
           trailer_equal(&a->f.trailer[MCUBOOT_SWAP_PRIMARY],
                         &b->f.trailer[MCUBOOT_SWAP_PRIMARY]) &&
           trailer_equal(&a->f.trailer[MCUBOOT_SWAP_SECONDARY],
                         &b->f.trailer[MCUBOOT_SWAP_SECONDARY]) &&
           a->f.trailer[MCUBOOT_SWAP_SCRATCH_AREA].magic != MCUBOOT_TRAILER_MAGIC_GOOD;
}

/* The whole flash model, bit for bit (swap_info included, scratch sectors included): what
 * the engine's next boot depends on. */
static bool same_dev(const struct mcuboot_swap_geom *g, const struct dev *a, const struct dev *b)
{
    size_t n = g->n_sectors[MCUBOOT_SWAP_PRIMARY] * sizeof(a->p[0]);
    for (int k = 0; k < MCUBOOT_SWAP_AREA_COUNT; k++)
        if (!trailer_equal(&a->f.trailer[k], &b->f.trailer[k]) ||
            a->f.trailer[k].swap_info != b->f.trailer[k].swap_info)
            return false;
    return memcmp(a->p, b->p, n) == 0 && memcmp(a->s, b->s, n) == 0 &&
           memcmp(a->x, b->x, sizeof(a->x)) == 0;
}

/* The reference lifecycle without power loss: after the upgrade boot, after the revert. */
struct refs {
    struct dev start, up, rev;
};

struct ctx {
    const struct mcuboot_swap_geom *g;
    const struct refs *ref;
    const char *what; /* "mode / size / phase", for messages */
    bool revert;
    size_t k1, k2;
    size_t as_reference; /* cases whose flash ended bit for bit as the reference's */
    size_t first_steps;  /* steps the first boot of settle() ran */
};

static void fail_case(const struct ctx *c, const char *why)
{
    char k2[32] = "none";
    if (c->k2 != NO_CUT)
        snprintf(k2, sizeof(k2), "%zu", c->k2);
    fail_msg("%s: cuts at step %zu and at recovery step %s: %s", c->what, c->k1, k2, why);
}

/* One more boot does nothing and keeps running `image`. */
static void expect_rest(const struct ctx *c, struct dev *v, uint32_t image)
{
    struct dev before;
    dev_copy(&before, v);
    struct mcuboot_swap_result r = boot(c->g, v, NO_CUT);
    if (r.cut || r.steps != 0 || r.resumed || r.scrambled || r.type != MCUBOOT_TRAILER_SWAP_NONE)
        fail_case(c, "a further reboot still changes the flash");
    if (r.boot_image != image)
        fail_case(c, "a further reboot runs another image");
    if (!same_slots(c->g, v, &before) || memcmp(v->x, before.x, sizeof(v->x)) != 0)
        fail_case(c, "a further reboot changes the slots");
}

/* Boot without further power loss until nothing is left to do; classify the outcome and
 * check every boot ran a whole image and the flash ends as the reference says. */
static enum outcome settle(struct ctx *c, struct dev *v)
{
    const struct mcuboot_swap_geom *g = c->g;
    const bool overwrite = g->mode == MCUBOOT_SWAP_OVERWRITE;

    struct mcuboot_swap_result r = boot(g, v, NO_CUT);
    c->first_steps = r.steps;
    if (r.cut || r.boot_image == 0)
        fail_case(c, "no whole image boots (bricked or a mix)");
    if (!mcuboot_swap_image_intact(g, &v->f, MCUBOOT_SWAP_PRIMARY, 0, r.boot_image))
        fail_case(c, "the booted image is not whole in the primary");
    if (!c->revert) {
        if (r.boot_image != NEW)
            fail_case(c, "the upgrade did not run the new image");
        if (overwrite) {
            const struct mcuboot_trailer *tp = &v->f.trailer[MCUBOOT_SWAP_PRIMARY];
            if (memcmp(v->p, c->ref->up.p, sizeof(v->p)) != 0 ||
                !trailer_equal(tp, &c->ref->up.f.trailer[MCUBOOT_SWAP_PRIMARY]))
                fail_case(c, "primary slot or trailer differ from the reference");
            /* The secondary was scrambled, in part or whole: no image, no request. */
            if (mcuboot_swap_image_at(&v->f, MCUBOOT_SWAP_SECONDARY, 0) != 0 ||
                v->f.trailer[MCUBOOT_SWAP_SECONDARY].magic == MCUBOOT_TRAILER_MAGIC_GOOD)
                fail_case(c, "the secondary still holds an image or a request");
            if (same_dev(g, v, &c->ref->up))
                c->as_reference++; /* what follows is the reference's, checked once */
            else
                expect_rest(c, v, NEW);
            return OUT_NEW_KEPT;
        }
        if (!same_slots(g, v, &c->ref->up))
            fail_case(c, "slots after the upgrade differ from the reference");
        if (same_dev(g, v, &c->ref->up)) {
            c->as_reference++; /* the revert and rest that follow are the reference's */
            return OUT_NEW_THEN_OLD;
        }
        /* Not confirmed: the next boot reverts. */
        r = boot(g, v, NO_CUT);
        if (r.type != MCUBOOT_TRAILER_SWAP_REVERT || r.boot_image != OLD)
            fail_case(c, "the unconfirmed new image was not reverted");
        if (!same_slots(g, v, &c->ref->rev))
            fail_case(c, "slots after the revert differ from the reference");
        expect_rest(c, v, OLD);
        return OUT_NEW_THEN_OLD;
    }
    if (r.boot_image == OLD) {
        if (!same_slots(g, v, &c->ref->rev))
            fail_case(c, "slots after the revert differ from the reference");
        if (same_dev(g, v, &c->ref->rev))
            c->as_reference++;
        else
            expect_rest(c, v, OLD);
        return OUT_OLD;
    }
    /* The new image still runs: nothing was copied back, and no trailer asks for a swap. */
    if (r.steps != 0 || r.type != MCUBOOT_TRAILER_SWAP_NONE)
        fail_case(c, "the new image runs after a boot that swapped");
    size_t below = g->n_sectors[MCUBOOT_SWAP_PRIMARY] - g->trailer_sectors;
    if (memcmp(v->p, c->ref->up.p, below * sizeof(v->p[0])) != 0)
        fail_case(c, "the primary does not hold the upgraded slot below its trailer");
    if (v->f.trailer[MCUBOOT_SWAP_PRIMARY].magic == MCUBOOT_TRAILER_MAGIC_GOOD)
        fail_case(c, "the new image stays although the primary trailer is good");
    expect_rest(c, v, NEW);
    return OUT_NEW_STAYS;
}

/* swap-scratch's double-loss window in a revert, as MCUboot has it (swap_scratch.c,
 * boot_swap_sectors(), state 0 of the first region): the first cut erases the primary
 * trailer or interrupts its re-initialisation (the request then lives in the scratch
 * trailer only), the second cut hits the recovery's first scratch erase or the rewrite of
 * the scratch trailer that follows it. */
static bool scratch_window(const struct mcuboot_swap_plan *p, size_t k1, size_t k2)
{
    const struct mcuboot_swap_step *s1 = &p->steps[k1];
    if (k2 == NO_CUT || k2 > 1 || s1->area != MCUBOOT_SWAP_PRIMARY)
        return false;
    if (s1->op != MCUBOOT_SWAP_OP_ERASE_TRAILER && s1->op != MCUBOOT_SWAP_OP_STATUS_INIT)
        return false;
    const struct mcuboot_swap_step *s2 = &p->steps[k2]; /* the resumed plan restarts at 0 */
    return s2->area == MCUBOOT_SWAP_SCRATCH_AREA &&
           (k2 == 0 ? s2->op == MCUBOOT_SWAP_OP_ERASE : s2->op == MCUBOOT_SWAP_OP_STATUS_INIT);
}

struct tally {
    size_t first_cuts, cases, single, out[OUT_COUNT];
};

/* Second cuts tried after first cut k1 whose recovery runs n2 steps: all of them; for a
 * sampled size, the first WINDOW of them after each of the first WINDOW first cuts (the
 * prologues, where the trailers are rewritten) and PER_CUT keyed draws after every first
 * cut. Writes a 0/1 mask into sel. */
static void choose(const struct ctx *c, bool sampled, uint64_t key, size_t n2, uint8_t *sel)
{
    memset(sel, !sampled, n2);
    if (!sampled || n2 == 0)
        return;
    if (c->k1 < WINDOW)
        memset(sel, 1, n2 < WINDOW ? n2 : WINDOW);
    struct sim_rng rng;
    sim_rng_init(&rng, SEED, key * 4096u + c->k1, SIM_RNG_TEST);
    for (unsigned i = 0; i < PER_CUT; i++)
        sel[sim_rng_u64(&rng) % n2] = 1;
}

/* Every first cut of the boot that starts from `start`, then the second cuts choose() picks
 * in the boot that recovers it, each settled and classified. swap_size is that of the plan
 * the first boot runs (to name its steps). */
static void run_phase(struct ctx *c, const struct dev *start, uint32_t swap_size, bool sampled,
                      uint64_t key, struct tally *t)
{
    static uint8_t sel[1u << 13];
    const struct mcuboot_swap_geom *g = c->g;
    const size_t n1 = steps_ahead(g, start);
    struct mcuboot_swap_plan plan;
    struct dev a, b;
    memset(t, 0, sizeof(*t));
    memset(&plan, 0, sizeof(plan));
    assert_int_equal(
        mcuboot_swap_plan_build(&plan, g,
                                c->revert ? MCUBOOT_TRAILER_SWAP_REVERT : MCUBOOT_TRAILER_SWAP_TEST,
                                swap_size, NULL),
        0);
    assert_int_equal(plan.n_steps, n1); /* a new swap runs its whole plan */
    for (c->k1 = 0; c->k1 < n1; c->k1++) {
        dev_copy(&a, start);
        struct mcuboot_swap_result r = boot(g, &a, c->k1);
        assert_true(r.cut);
        assert_int_equal(r.steps, c->k1 + 1);
        t->first_cuts++;
        const size_t n2 = steps_ahead(g, &a);
        assert_true(n2 <= sizeof(sel));
        /* One power loss only: the recovery runs to its end. */
        c->k2 = NO_CUT;
        dev_copy(&b, &a);
        t->out[settle(c, &b)]++;
        t->single++;
        if (c->first_steps != n2)
            fail_case(c, "the recovery ran another number of steps than mcuboot_swap_boot_plan()");
        choose(c, sampled, key, n2, sel);
        for (c->k2 = 0; c->k2 < n2; c->k2++) {
            if (!sel[c->k2])
                continue;
            dev_copy(&b, &a);
            r = boot(g, &b, c->k2);
            if (!r.cut || r.steps != c->k2 + 1)
                fail_case(c, "the recovery ran another number of steps than planned");
            enum outcome o = settle(c, &b);
            if (o == OUT_NEW_STAYS &&
                !(g->mode == MCUBOOT_SWAP_SCRATCH && scratch_window(&plan, c->k1, c->k2)))
                fail_case(c, "the unconfirmed new image stays, outside upstream's window");
            t->out[o]++;
            t->cases++;
        }
    }
    mcuboot_swap_plan_fini(&plan);
}

/* Pairs of cuts in scratch_window() for a plan: what the revert phase must count. */
static size_t window_pairs(const struct mcuboot_swap_plan *p)
{
    size_t n = 0;
    for (size_t k1 = 0; k1 < p->n_steps; k1++)
        for (size_t k2 = 0; k2 < 2; k2++)
            n += scratch_window(p, k1, k2);
    return n;
}

static void expect_flags(const struct mcuboot_trailer *t, uint8_t copy_done, uint8_t image_ok)
{
    struct mcuboot_trailer_swap_state st;
    mcuboot_trailer_state(t, &st);
    assert_int_equal(st.magic, MCUBOOT_TRAILER_MAGIC_GOOD);
    assert_int_equal(st.copy_done, copy_done);
    assert_int_equal(st.image_ok, image_ok);
}

/* The reference lifecycle every case is compared with: after the upgrade the new image is
 * whole in the primary on trial (magic good, image_ok unset; copy_done set in the swap modes,
 * so that the next boot reverts), the old one whole in the secondary (swap modes) and no
 * request left there; after the revert the old image is whole in the primary, confirmed,
 * and the new one in the secondary. One more boot changes nothing. */
static void check_reference(const struct mcuboot_swap_geom *g, const struct refs *ref)
{
    const bool swap = g->mode != MCUBOOT_SWAP_OVERWRITE;
    const uint32_t up_base = g->mode == MCUBOOT_SWAP_OFFSET;
    const struct ctx c = {.g = g, .ref = ref, .what = "reference", .k2 = NO_CUT};
    struct dev v;
    assert_true(mcuboot_swap_image_intact(g, &ref->up.f, MCUBOOT_SWAP_PRIMARY, 0, NEW));
    expect_flags(&ref->up.f.trailer[MCUBOOT_SWAP_PRIMARY],
                 swap ? MCUBOOT_TRAILER_FLAG_SET : MCUBOOT_TRAILER_FLAG_UNSET,
                 MCUBOOT_TRAILER_FLAG_UNSET);
    assert_int_not_equal(ref->up.f.trailer[MCUBOOT_SWAP_SECONDARY].magic,
                         MCUBOOT_TRAILER_MAGIC_GOOD);
    if (!swap) {
        dev_copy(&v, &ref->up);
        expect_rest(&c, &v, NEW);
        return;
    }
    assert_true(mcuboot_swap_image_intact(g, &ref->up.f, MCUBOOT_SWAP_SECONDARY, 0, OLD));
    assert_true(mcuboot_swap_image_intact(g, &ref->rev.f, MCUBOOT_SWAP_PRIMARY, 0, OLD));
    assert_true(mcuboot_swap_image_intact(g, &ref->rev.f, MCUBOOT_SWAP_SECONDARY, up_base, NEW));
    expect_flags(&ref->rev.f.trailer[MCUBOOT_SWAP_PRIMARY], MCUBOOT_TRAILER_FLAG_SET,
                 MCUBOOT_TRAILER_FLAG_SET);
    assert_int_not_equal(ref->rev.f.trailer[MCUBOOT_SWAP_SECONDARY].magic,
                         MCUBOOT_TRAILER_MAGIC_GOOD);
    dev_copy(&v, &ref->rev);
    expect_rest(&c, &v, OLD);
}

static void power_lost_twice_in_every_mode(void **state)
{
    (void)state;
    size_t total = 0, total_out[OUT_COUNT] = {0};
    for (size_t m = 0; m < ARRAY_LEN(all_modes); m++) {
        const enum mcuboot_swap_mode mode = all_modes[m];
        for (size_t si = 0; si < ARRAY_LEN(sizes); si++) {
            const struct size_case *sc = &sizes[si];
            struct mcuboot_swap_geom g = geom_for(mode, sc->slot);
            const uint32_t old_size = size_of(&g, sc->old_size);
            const uint32_t new_size = size_of(&g, sc->new_size);
            const uint32_t swap_size = mode == MCUBOOT_SWAP_OVERWRITE ? new_size
                                       : old_size > new_size          ? old_size
                                                                      : new_size;
            static struct refs ref;
            dev_init(&ref.start, &g, old_size, new_size);
            dev_copy(&ref.up, &ref.start);
            struct mcuboot_swap_result r = boot(&g, &ref.up, NO_CUT);
            assert_int_equal(r.boot_image, NEW);
            dev_copy(&ref.rev, &ref.up);
            if (mode != MCUBOOT_SWAP_OVERWRITE) {
                r = boot(&g, &ref.rev, NO_CUT);
                assert_int_equal(r.type, MCUBOOT_TRAILER_SWAP_REVERT);
                assert_int_equal(r.boot_image, OLD);
            }
            check_reference(&g, &ref);
            for (int phase = 0; phase < (mode == MCUBOOT_SWAP_OVERWRITE ? 1 : 2); phase++) {
                char what[160];
                struct tally t;
                snprintf(what, sizeof(what), "%s / %s / %s", mcuboot_swap_mode_name(mode), sc->name,
                         phase ? "revert" : "upgrade");
                struct ctx c = {.g = &g, .ref = &ref, .what = what, .revert = phase == 1};
                run_phase(&c, phase ? &ref.up : &ref.start, swap_size, sc->sampled,
                          (uint64_t)(m * 16 + si * 2 + (size_t)phase), &t);
                print_message("%s: %zu first cuts, %zu second cuts%s, +%zu single cuts; "
                              "%zu end bit for bit as without loss;",
                              what, t.first_cuts, t.cases, sc->sampled ? " (sampled)" : " (all)",
                              t.single, c.as_reference);
                for (int o = 0; o < OUT_COUNT; o++)
                    if (t.out[o])
                        print_message(" %s %zu;", outcome_names[o], t.out[o]);
                print_message("\n");
                /* The exact set of outcomes. */
                size_t n = t.cases + t.single;
                total += n;
                for (int o = 0; o < OUT_COUNT; o++)
                    total_out[o] += t.out[o];
                if (!c.revert) {
                    assert_int_equal(
                        t.out[mode == MCUBOOT_SWAP_OVERWRITE ? OUT_NEW_KEPT : OUT_NEW_THEN_OLD], n);
                    continue;
                }
                size_t stays = 0;
                if (mode == MCUBOOT_SWAP_SCRATCH) {
                    struct mcuboot_swap_plan p;
                    assert_int_equal(mcuboot_swap_plan_build(&p, &g, MCUBOOT_TRAILER_SWAP_REVERT,
                                                             swap_size, NULL),
                                     0);
                    stays = window_pairs(&p); /* all tried, sampled or not (WINDOW) */
                    mcuboot_swap_plan_fini(&p);
                    assert_int_equal(stays, 4);
                }
                assert_int_equal(t.out[OUT_NEW_STAYS], stays);
                assert_int_equal(t.out[OUT_OLD], n - stays);
            }
        }
    }
    print_message("total: %zu cases:", total);
    for (int o = 0; o < OUT_COUNT; o++)
        print_message(" %s %zu;", outcome_names[o], total_out[o]);
    print_message("\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(power_lost_twice_in_every_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
