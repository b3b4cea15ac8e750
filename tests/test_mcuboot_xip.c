/* tests/test_mcuboot_xip.c - direct-xip and RAM-load boot: version rules, slot linkage,
 * revert (models/mcuboot/xip). */
#include "models/mcuboot/xip.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A slot holding image `id` of version v, linked for `linked`, signed with --pad (trailer
 * magic GOOD) and, when confirmed, image_ok set. */
static struct mcuboot_xip_slot slot(uint32_t id, uint8_t major, uint8_t minor, uint32_t build,
                                    uint8_t linked, bool rom_fixed)
{
    struct mcuboot_xip_slot s;
    memset(&s, 0, sizeof(s));
    mcuboot_trailer_erase(&s.trailer);
    if (id == 0)
        return s;
    s.image = id;
    s.size = 200000;
    s.version.major = major;
    s.version.minor = minor;
    s.version.build = build;
    s.linked_slot = linked;
    s.rom_fixed = rom_fixed;
    s.valid = true;
    s.trailer.magic = MCUBOOT_TRAILER_MAGIC_GOOD;
    return s;
}

static void confirm(struct mcuboot_xip_slot *s)
{
    s->trailer.copy_done = MCUBOOT_TRAILER_SET_BYTE;
    s->trailer.image_ok = MCUBOOT_TRAILER_SET_BYTE;
}

/* EVIDENCE-OF: the highest version wins; the candidate changes only on a strictly greater
 * version, so a tie selects the primary slot (bootutil_loader.c boot_compare_version); build
 * number only with
 * MCUBOOT_VERSION_CMP_USE_BUILD_NUMBER.
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/loader.c @2d4bacc
 * (find_slot_with_highest_version) */
static void highest_version_wins_and_a_tie_goes_to_primary(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t pmaj, pmin;
        uint32_t pbuild;
        uint8_t smaj, smin;
        uint32_t sbuild;
        bool use_build;
        int want;
    } cases[] = {
        {"newer secondary wins", 1, 0, 0, 1, 1, 0, false, 1},
        {"newer primary wins", 2, 0, 0, 1, 9, 0, false, 0},
        {"a tie selects the primary", 1, 2, 0, 1, 2, 0, false, 0},
        {"build number ignored by default: tie, primary", 1, 2, 1, 1, 2, 7, false, 0},
        {"build number compared when enabled", 1, 2, 1, 1, 2, 7, true, 1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct mcuboot_xip_slot s[2] = {
            slot(1, cases[i].pmaj, cases[i].pmin, cases[i].pbuild, 0, true),
            slot(2, cases[i].smaj, cases[i].smin, cases[i].sbuild, 1, true)};
        struct mcuboot_xip_config c = {.use_build = cases[i].use_build};
        struct mcuboot_xip_result r;
        print_message("case: %s\n", cases[i].name);
        mcuboot_xip_boot(&c, s, &r);
        assert_int_equal(r.slot, cases[i].want);
        assert_true(r.runs);
        assert_int_equal(r.erased, 0);
        assert_int_equal(r.copy_done, 0); /* without revert nothing is written */
    }
}

/* Item 6: an image linked for the other slot. With ROM_FIXED MCUboot skips it and falls
 * back; without it the image boots from the wrong slot and does not run.
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/loader.c @2d4bacc (boot_rom_address_check) */
static void image_linked_for_the_other_slot_falls_back(void **state)
{
    (void)state;
    struct mcuboot_xip_config c = {0};
    struct mcuboot_xip_result r;
    /* v2 uploaded to slot 1 but built as zephyr/app_update.bin (linked for slot 0). */
    struct mcuboot_xip_slot s[2] = {slot(1, 1, 0, 0, 0, true), slot(2, 2, 0, 0, 0, true)};
    mcuboot_xip_boot(&c, s, &r);
    assert_int_equal(r.slot, 0);
    assert_int_equal(r.image, 1);
    assert_int_equal(r.skipped_linkage, 2);
    assert_true(r.runs);
    /* Both images linked wrongly: nothing to boot. */
    s[0].linked_slot = 1;
    mcuboot_xip_boot(&c, s, &r);
    assert_int_equal(r.slot, MCUBOOT_XIP_NO_SLOT);
    assert_int_equal(r.skipped_linkage, 3);
    /* Without ROM_FIXED MCUboot cannot tell: it boots the image, which crashes. */
    struct mcuboot_xip_slot t[2] = {slot(1, 1, 0, 0, 0, false), slot(2, 2, 0, 0, 0, false)};
    mcuboot_xip_boot(&c, t, &r);
    assert_int_equal(r.slot, 1);
    assert_false(r.runs);
    /* With revert that crash costs one boot: the next boot erases it and falls back. */
    confirm(&t[0]);
    c.revert = true;
    mcuboot_xip_boot(&c, t, &r);
    assert_int_equal(r.slot, 1);
    assert_false(r.runs);
    assert_int_equal(r.copy_done, 2);
    mcuboot_xip_boot(&c, t, &r);
    assert_int_equal(r.slot, 0);
    assert_true(r.runs);
    assert_int_equal(r.erased, 2);
    assert_int_equal(t[1].image, 0);
    /* RAM-load does not check linkage: the image runs from RAM. */
    struct mcuboot_xip_slot u[2] = {slot(1, 1, 0, 0, 0, true), slot(2, 2, 0, 0, 0, true)};
    struct mcuboot_xip_config ram = {.ram_load = true};
    mcuboot_xip_boot(&ram, u, &r);
    assert_int_equal(r.slot, 1);
    assert_true(r.runs);
    assert_int_equal(r.ram_bytes, 200000);
}

/* img_mgmt refuses a mismatched ROM_FIXED upload only with the reject setting. */
static void mismatched_upload_is_refused_with_the_setting(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t linked;
        bool rom_fixed;
        uint8_t target;
        bool reject;
        bool want;
    } cases[] = {
        {"matching slot is accepted", 1, true, 1, true, true},
        {"mismatched slot is refused with the setting", 0, true, 1, true, false},
        {"mismatched slot is accepted without the setting", 0, true, 1, false, true},
        {"no ROM_FIXED: nothing to check", 0, false, 1, true, true},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(mcuboot_xip_upload_allowed(cases[i].linked, cases[i].rom_fixed,
                                                    cases[i].target, cases[i].reject),
                         cases[i].want);
    }
}

/* EVIDENCE-OF: with MCUBOOT_DIRECT_XIP_REVERT, an active slot whose magic is not GOOD, or
 * whose copy_done is SET while image_ok is not, is erased whole and the other slot boots;
 * an unset copy_done is written ("selected once"): an unconfirmed image gets exactly one
 * boot.
 * UPSTREAM: mcu-tools/mcuboot: boot/bootutil/src/loader.c @2d4bacc (boot_select_or_erase) */
static void unconfirmed_image_gets_exactly_one_boot(void **state)
{
    (void)state;
    struct mcuboot_xip_config c = {.revert = true};
    struct mcuboot_xip_result r;
    struct mcuboot_xip_slot s[2] = {slot(1, 1, 0, 0, 0, true), slot(2, 2, 0, 0, 1, true)};
    confirm(&s[0]);
    mcuboot_xip_boot(&c, s, &r); /* first boot of v2: copy_done written */
    assert_int_equal(r.slot, 1);
    assert_int_equal(r.copy_done, 2);
    assert_int_equal(r.erased, 0);
    mcuboot_xip_boot(&c, s, &r); /* not confirmed: erased, back to v1 */
    assert_int_equal(r.slot, 0);
    assert_int_equal(r.erased, 2);
    assert_int_equal(s[1].image, 0);
    assert_int_equal(r.validated_bytes, 200000); /* only the slot that boots is hashed */
    mcuboot_xip_boot(&c, s, &r);                 /* stays on v1 */
    assert_int_equal(r.slot, 0);
    assert_int_equal(r.erased, 0);

    /* Confirmed after its first boot: it stays. */
    struct mcuboot_xip_slot t[2] = {slot(1, 1, 0, 0, 0, true), slot(2, 2, 0, 0, 1, true)};
    confirm(&t[0]);
    mcuboot_xip_boot(&c, t, &r);
    assert_int_equal(r.slot, 1);
    t[1].trailer.image_ok = MCUBOOT_TRAILER_SET_BYTE; /* boot_write_img_confirmed() */
    for (int k = 0; k < 3; k++) {
        mcuboot_xip_boot(&c, t, &r);
        assert_int_equal(r.slot, 1);
        assert_int_equal(r.copy_done | r.erased, 0);
    }

    /* An image without trailer magic (signed without --pad) is erased in revert mode. */
    struct mcuboot_xip_slot u[2] = {slot(1, 1, 0, 0, 0, true), slot(2, 2, 0, 0, 1, true)};
    confirm(&u[0]);
    u[1].trailer.magic = MCUBOOT_TRAILER_MAGIC_UNSET;
    mcuboot_xip_boot(&c, u, &r);
    assert_int_equal(r.slot, 0);
    assert_int_equal(r.erased, 2);

    /* Without revert the unconfirmed image simply keeps booting. */
    struct mcuboot_xip_config norev = {0};
    struct mcuboot_xip_slot v[2] = {slot(1, 1, 0, 0, 0, true), slot(2, 2, 0, 0, 1, true)};
    for (int k = 0; k < 3; k++) {
        mcuboot_xip_boot(&norev, v, &r);
        assert_int_equal(r.slot, 1);
    }
}

/* mcu-tools/mcuboot: boot/bootutil/src/loader.c (boot_load_and_validate): the selected slot
 * is validated; an invalid one is marked unavailable (and may be erased) and the other slot
 * is tried. */
static void invalid_highest_image_is_erased_and_the_other_boots(void **state)
{
    (void)state;
    struct mcuboot_xip_config c = {0};
    struct mcuboot_xip_result r;
    struct mcuboot_xip_slot s[2] = {slot(1, 1, 0, 0, 0, true), slot(2, 2, 0, 0, 1, true)};
    s[1].valid = false;
    mcuboot_xip_boot(&c, s, &r);
    assert_int_equal(r.slot, 0);
    assert_int_equal(r.erased, 2);
    assert_int_equal(r.validated_bytes, 400000); /* both were hashed */
    s[0].valid = false;
    mcuboot_xip_boot(&c, s, &r);
    assert_int_equal(r.slot, MCUBOOT_XIP_NO_SLOT);
    assert_int_equal(r.image, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(highest_version_wins_and_a_tie_goes_to_primary),
        cmocka_unit_test(image_linked_for_the_other_slot_falls_back),
        cmocka_unit_test(mismatched_upload_is_refused_with_the_setting),
        cmocka_unit_test(unconfirmed_image_gets_exactly_one_boot),
        cmocka_unit_test(invalid_highest_image_is_erased_and_the_other_boots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
