/* tests/test_image_file.c - image.file: a real imgtool image drives a run. Its size, version
 * and hash come from the file; every copying mode and direct-xip upload its bytes and end
 * with the file's image in the primary slot, listed with the file's hash and version (what
 * img_mgmt's image list reads: smp_img_slots read_info); giving size or version with it, a
 * missing file and a file that is not an MCUboot image are refused at the key.
 * The image is tests/data/mcuboot/signed.bin (imgtool, version 1.2.3+0; README there). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image_builder.h"
#include "models/fleet/settings.h"
#include "models/fleet/world.h"
#include "models/mcuboot/image.h"
#include "sim/engine.h"
#include "sim/error.h"
#include "sim/scenario.h"

#define IMAGE DFUSIM_SOURCE_DIR "/tests/data/mcuboot/signed.bin"

static int load(const char *text, struct scenario *s, struct sim_diag *d)
{
    sim_diag_init(d);
    return scenario_load_text(DFUSIM_SOURCE_DIR "/tests/t.yaml", &fleet_settings_schema, text,
                              strlen(text), NULL, 0, s, d);
}

/* A scenario built into a started world. */
struct run {
    struct scenario s;
    struct sim_engine *e;
    struct fleet_world *w;
};

static void run_up(struct run *r, const char *text)
{
    struct sim_diag d;
    assert_int_equal(load(text, &r->s, &d), 0);
    r->e = sim_engine_new(0);
    r->w = NULL;
    if (fleet_world_from_scenario(&r->s, r->e, NULL, &r->w, &d) != 0)
        fail_msg("%s", d.text);
}

/* Run to the end (ten simulated minutes are more than any of these DFUs takes). */
static void run_to_end(struct run *r)
{
    enum sim_stop stop;
    assert_int_equal(sim_engine_run(r->e, INT64_C(600000000000), &stop), 0);
}

static void run_down(struct run *r)
{
    fleet_world_free(r->w);
    sim_engine_free(r->e);
    scenario_fini(&r->s);
}

/* What img_mgmt's image list reads from a device's slot (-1: the active one). */
static struct smp_img_slots_info slot_info(struct fleet_device *dev, int slot)
{
    struct smp_img_slots ops = mcuboot_slots_bind((struct mcuboot_slots *)fleet_device_slots(dev));
    struct smp_img_slots_info info;
    if (slot < 0)
        slot = ops.ops->active_slot(ops.env, 0);
    assert_int_equal(ops.ops->read_info(ops.env, slot, &info), 0);
    return info;
}

static void every_mode_ends_on_the_file_image(void **state)
{
    (void)state;
    struct mcuboot_image want;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(mcuboot_image_load(IMAGE, &want, &d), 0);
    /* image.file relative to the scenario's folder (tests/): data/mcuboot/signed.bin. The
     * modes without revert refuse a test request (img_mgmt answers ENOTSUP; direct-xip's
     * bootloader info makes Device Manager switch to "none" by itself, RAM load reports no
     * mode), so they are updated in mode "none": upload and reset. */
    static const char *const texts[] = {
        "name: file\n"
        "image: { file: data/mcuboot/signed.bin, installed: 0.1.0 }\n"
        "client: { kind: device-manager-android, mode: test-and-confirm, swap_wait: 30s }\n"
        "devices:\n"
        "  - { group: move, count: 1, bootloader: swap-move }\n"
        "  - { group: scratch, count: 1, bootloader: swap-scratch }\n"
        "  - { group: offset, count: 1, bootloader: swap-offset }\n"
        "  - { group: over, count: 1, bootloader: overwrite-only }\n"
        "  - { group: xip-revert, count: 1, bootloader: direct-xip-revert }\n",
        "name: file-no-revert\n"
        "image: { file: data/mcuboot/signed.bin, installed: 0.1.0 }\n"
        "client: { kind: device-manager-android, mode: none, swap_wait: 30s }\n"
        "devices:\n"
        "  - { group: xip, count: 1, bootloader: direct-xip }\n"
        "  - { group: ram, count: 1, bootloader: ram-load }\n",
    };
    for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
        struct run r;
        run_up(&r, texts[t]);
        run_to_end(&r);
        for (uint32_t i = 0; i < fleet_world_n_devices(r.w); i++) {
            struct fleet_device *dev = fleet_world_device(r.w, i);
            assert_string_equal(fleet_device_outcome(dev), "updated");
            struct smp_img_slots_info info = slot_info(dev, -1);
            assert_memory_equal(info.hash, want.hash, sizeof(info.hash));
            assert_int_equal(info.ver.major, want.hdr.version.major);
            assert_int_equal(info.ver.minor, want.hdr.version.minor);
            assert_int_equal(info.ver.revision, want.hdr.version.revision);
        }
        run_down(&r);
    }
}

/* image.keys: with the key the image was signed with, the devices update; with another one
 * trusted instead, MCUboot finds no accepted signature (bootutil_img_validate) and no
 * device runs the update, and the scenario says why. */
static void devices_validate_the_file_with_their_keys(void **state)
{
    (void)state;
    static const char *const keys[2] = {"data/mcuboot/key-pub.pem",
                                        "data/mcuboot/untrusted-pub.pem"};
    for (int k = 0; k < 2; k++) {
        char text[512];
        snprintf(text, sizeof(text),
                 "name: keys\n"
                 "image: { file: data/mcuboot/signed.bin, keys: [%s] }\n"
                 "client: { kind: device-manager-android, swap_wait: 30s }\n"
                 "devices:\n"
                 "  - { group: move, count: 1, bootloader: swap-move }\n"
                 "  - { group: scratch, count: 1, bootloader: swap-scratch }\n",
                 keys[k]);
        struct run r;
        run_up(&r, text);
        char why[300] = "";
        assert_int_equal(fleet_world_image_refused(&r.s, why, sizeof(why)), k == 1);
        if (k == 1)
            assert_non_null(strstr(why, "no accepted signature"));
        run_to_end(&r);
        for (uint32_t i = 0; i < fleet_world_n_devices(r.w); i++) {
            struct smp_img_slots_info info = slot_info(fleet_world_device(r.w, i), -1);
            /* the signed image is version 1.2.3; the devices started on 0.0.0 */
            assert_int_equal(info.ver.major == 1 && info.ver.minor == 2, k == 0);
            /* each device records MCUboot's reason (devices.refusal) */
            const char *refusal = fleet_device_stats_get(fleet_world_device(r.w, i))->refusal;
            if (k == 0)
                assert_null(refusal);
            else
                assert_non_null(strstr(refusal, "no accepted signature"));
        }
        run_down(&r);
    }
}

/* Images MCUboot refuses, end to end: each device records the reason (devices.refusal) and
 * never runs the image. A P-256 key of the test is trusted (image.keys); the images:
 * signed with it but with the signature before its KEYHASH (bootutil_img_validate meets the
 * signature with no key selected, mcu-tools/mcuboot: boot/bootutil/src/image_validate.c),
 * and one flagged ENCRYPTED_AES128 for devices built without encryption (boot_check_header_valid
 * refuses it without MCUBOOT_ENC_IMAGES, boot/bootutil/src/bootutil_loader.c). */
static void refused_images_are_recorded_with_mcuboot_s_reason(void **state)
{
    (void)state;
    struct ib_key key = ib_keygen(MCUBOOT_SIG_EC256);
    assert_non_null(key.pkey);
    char *pem = NULL;
    size_t pem_len = 0;
    assert_int_equal(ib_pub_pem(&key, &pem, &pem_len), 0);
    FILE *f = fopen(DFUSIM_BINARY_DIR "/trusted-pub.pem", "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(pem, 1, pem_len, f), pem_len);
    fclose(f);
    free(pem);
    const struct ib_op order[] = {IB_OP_HASH, IB_OP_SIG(&key), IB_OP_KEYHASH(&key)};
    const struct ib_op good[] = {IB_OP_HASH, IB_OP_KEYHASH(&key), IB_OP_SIG(&key)};
    const struct {
        const char *name;
        const struct ib_op *ops;
        uint32_t flags;
        const char *why; /* in the recorded reason; NULL: accepted */
    } cases[] = {
        {"signed in imgtool's order: runs", good, 0, NULL},
        {"signature before KEYHASH: no key selected", order, 0, "no accepted signature"},
        {"encrypted, no encryption support", good, MCUBOOT_IMAGE_F_ENCRYPTED_AES128, "encrypt"},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        print_message("case: %s\n", cases[c].name);
        const struct ib_spec spec = {.body_len = 30000,
                                     .body_seed = 3,
                                     .flags = cases[c].flags,
                                     .version = {3, 0, 0, 0},
                                     .ops = cases[c].ops,
                                     .n_ops = 3};
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(ib_build(&spec, &buf, &len), 0);
        f = fopen(DFUSIM_BINARY_DIR "/refused.bin", "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, len, f), len);
        fclose(f);
        free(buf);
        struct run r;
        run_up(&r, "name: refused\n"
                   "image: { file: " DFUSIM_BINARY_DIR "/refused.bin, keys: [" DFUSIM_BINARY_DIR
                   "/trusted-pub.pem] }\n"
                   "client: { kind: device-manager-android, swap_wait: 30s }\n"
                   "devices:\n"
                   "  - { group: move, count: 1, bootloader: swap-move }\n"
                   "  - { group: xip, count: 1, bootloader: direct-xip-revert }\n");
        run_to_end(&r);
        for (uint32_t i = 0; i < fleet_world_n_devices(r.w); i++) {
            struct fleet_device *dev = fleet_world_device(r.w, i);
            const char *refusal = fleet_device_stats_get(dev)->refusal;
            struct smp_img_slots_info info = slot_info(dev, -1);
            if (cases[c].why == NULL) {
                assert_null(refusal);
                assert_int_equal(info.ver.major, 3);
            } else {
                assert_non_null(refusal);
                print_message("  device %u: %s\n", i, refusal);
                assert_non_null(strstr(refusal, cases[c].why));
                assert_int_not_equal(info.ver.major, 3);
            }
        }
        run_down(&r);
    }
    EVP_PKEY_free(key.pkey);
}

/* Write a ROM_FIXED image of version 2.0.0 (a direct-xip build, imgtool --rom-fixed) to
 * path; the two of a pair differ by their load address only, as the build makes them. */
static void write_rom_fixed(const char *path, uint32_t load_addr)
{
    const struct ib_op ops[] = {IB_OP_HASH};
    const struct ib_spec spec = {.body_len = 60000,
                                 .body_seed = 7,
                                 .flags = MCUBOOT_IMAGE_F_ROM_FIXED,
                                 .load_addr = load_addr,
                                 .version = {2, 0, 0, 0},
                                 .ops = ops,
                                 .n_ops = 1};
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(ib_build(&spec, &buf, &len), 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
}

/* direct-xip pairs (CAF ble_smp documentation; MCUboot boot_rom_address_check): a device
 * running from the primary slot needs the build linked for the secondary. With
 * image.secondary_file the direct-xip group uploads that one and runs it from slot 1, while
 * the swap group uploads image.file; with image.file alone, MCUboot skips the image in the
 * secondary slot (built for the other one) and the direct-xip device never runs it; with
 * firmware.reject_xip_mismatched_slot img_mgmt already refuses that upload at its first
 * chunk (zephyr img_mgmt.c: MGMT_ERR_EINVAL for a ROM_FIXED load address that is not the
 * slot's), so the attempt fails without a reset. */
static void direct_xip_uploads_the_build_for_its_inactive_slot(void **state)
{
    (void)state;
    struct flash_map map;
    assert_int_equal(flash_map_board(FLASH_MAP_NRF52840DK, &map), 0);
    write_rom_fixed(DFUSIM_BINARY_DIR "/pair0.bin", map.primary.off);
    write_rom_fixed(DFUSIM_BINARY_DIR "/pair1.bin", map.secondary.off);
    static const char *const images[3] = {
        "{ file: " DFUSIM_BINARY_DIR "/pair0.bin, secondary_file: " DFUSIM_BINARY_DIR
        "/pair1.bin }",
        "{ file: " DFUSIM_BINARY_DIR "/pair0.bin }", "{ file: " DFUSIM_BINARY_DIR "/pair0.bin }"};
    for (int k = 0; k < 3; k++) {
        char text[600];
        snprintf(text, sizeof(text),
                 "name: pair\nimage: %s\n"
                 "client: { kind: device-manager-android, swap_wait: 30s }\n"
                 "devices:\n"
                 "  - { group: xip, count: 1, bootloader: direct-xip-revert,\n"
                 "      firmware: { reject_xip_mismatched_slot: %s } }\n"
                 "  - { group: move, count: 1, bootloader: swap-move }\n",
                 images[k], k == 2 ? "true" : "false");
        struct run r;
        run_up(&r, text);
        run_to_end(&r);
        struct fleet_device *xip = fleet_world_device(r.w, 0), *move = fleet_world_device(r.w, 1);
        assert_string_equal(fleet_device_outcome(move), "updated");
        if (k == 0) {
            assert_string_equal(fleet_device_outcome(xip), "updated");
            assert_int_equal(fleet_device_slots(xip)->active, 1);
        } else {
            assert_string_not_equal(fleet_device_outcome(xip), "updated");
            assert_int_equal(fleet_device_slots(xip)->active, 0);
        }
        /* refused at the first chunk: the device was never reset */
        assert_int_equal(fleet_device_stats_get(xip)->n_boots, k == 2 ? 1 : 2);
        run_down(&r);
    }
}

/* image.installed_file: the devices start on that real image, confirmed in the primary
 * slot, and end on image.file (swap-move): both hashes as the files give them. */
static void devices_start_on_the_installed_file(void **state)
{
    (void)state;
    write_rom_fixed(DFUSIM_BINARY_DIR "/update2.bin", 0);
    struct mcuboot_image before, after;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(mcuboot_image_load(IMAGE, &before, &d), 0);
    assert_int_equal(mcuboot_image_load(DFUSIM_BINARY_DIR "/update2.bin", &after, &d), 0);
    static const char text[] = "name: installed\n"
                               "image: { file: " DFUSIM_BINARY_DIR "/update2.bin, installed_file: "
                               "data/mcuboot/signed.bin }\n"
                               "client: { kind: device-manager-android, swap_wait: 30s }\n"
                               "devices: [{ group: move, count: 2, bootloader: swap-move }]\n";
    struct run r;
    run_up(&r, text);
    for (int phase = 0; phase < 2; phase++) {
        if (phase == 1)
            run_to_end(&r);
        for (uint32_t i = 0; i < fleet_world_n_devices(r.w); i++) {
            struct smp_img_slots_info info = slot_info(fleet_world_device(r.w, i), 0);
            assert_memory_equal(info.hash, phase == 0 ? before.hash : after.hash,
                                sizeof(info.hash));
        }
    }
    run_down(&r);
}

/* image.encryption: an image encrypted by imgtool (tests/data/mcuboot/enc) updates devices
 * whose MCUboot holds the private key it was encrypted for (boot_enc_load, then
 * bootutil_img_validate over the decrypted body); without the key (no
 * MCUBOOT_ENC_IMAGES: boot_check_header_valid), with another key (the HMAC tag fails:
 * boot_decrypt_key), or without image.keys at all, no device runs it and the scenario says
 * why. */
static void encrypted_file_updates_only_devices_with_its_key(void **state)
{
    (void)state;
    static const struct {
        const char *extra, *why; /* why: NULL when the devices update */
    } cases[] = {
        {"keys: [data/mcuboot/enc/sign-ec256-pub.pem], encryption: { key: "
         "data/mcuboot/enc/enc-ec256-priv.pem }",
         NULL},
        {"keys: [data/mcuboot/enc/sign-ec256-pub.pem]", "without MCUBOOT_ENC_IMAGES"},
        {"installed: 0.1.0", "without MCUBOOT_ENC_IMAGES"},
        {"keys: [data/mcuboot/enc/sign-ec256-pub.pem], encryption: { key: " DFUSIM_BINARY_DIR
         "/other-enc.pem }",
         "tag of the encryption key TLV does not match"},
    };
    EVP_PKEY *other = EVP_EC_gen("P-256");
    char *pem = NULL;
    size_t plen = 0;
    assert_int_equal(ib_priv_pem(other, &pem, &plen), 0);
    FILE *f = fopen(DFUSIM_BINARY_DIR "/other-enc.pem", "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(pem, 1, plen, f), plen);
    fclose(f);
    free(pem);
    EVP_PKEY_free(other);
    struct mcuboot_image want;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(
        mcuboot_image_load(DFUSIM_SOURCE_DIR "/tests/data/mcuboot/enc/enc-ec256.bin", &want, &d),
        0);
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char text[768];
        snprintf(text, sizeof(text),
                 "name: enc\n"
                 "image: { file: data/mcuboot/enc/enc-ec256.bin, %s }\n"
                 "client: { kind: device-manager-android, swap_wait: 30s }\n"
                 "devices:\n"
                 "  - { group: move, count: 1, bootloader: swap-move }\n"
                 "  - { group: scratch, count: 1, bootloader: swap-scratch }\n",
                 cases[k].extra);
        struct run r;
        run_up(&r, text);
        char why[400] = "";
        assert_int_equal(fleet_world_image_refused(&r.s, why, sizeof(why)), cases[k].why != NULL);
        if (cases[k].why != NULL && strstr(why, cases[k].why) == NULL)
            fail_msg("case %zu: want '%s' in '%s'", k, cases[k].why, why);
        run_to_end(&r);
        for (uint32_t i = 0; i < fleet_world_n_devices(r.w); i++) {
            struct fleet_device *dev = fleet_world_device(r.w, i);
            struct smp_img_slots_info info = slot_info(dev, -1);
            const bool updated = memcmp(info.hash, want.hash, sizeof(info.hash)) == 0;
            assert_int_equal(updated, cases[k].why == NULL);
            assert_int_equal(strcmp(fleet_device_outcome(dev), "updated") == 0,
                             cases[k].why == NULL);
        }
        run_down(&r);
    }
}

static void size_version_and_bad_files_are_refused_at_the_key(void **state)
{
    (void)state;
    static const struct {
        const char *image, *want;
    } cases[] = {
        {"{ file: data/mcuboot/signed.bin, size: 1KiB }",
         "t.yaml:2:47: image.size: image.file gives the size; remove image.size"},
        {"{ file: data/mcuboot/signed.bin, version: 2.0.0 }",
         "t.yaml:2:50: image.version: image.file gives the version"},
        {"{ file: data/mcuboot/none.bin }", "t.yaml:2:16: image.file: "},
        {"{ file: data/mcuboot/key-pub.pem }", "not an MCUboot image"},
        {"{ size: 16KiB, installed: 1.0.0, installed_file: data/mcuboot/signed.bin }",
         "image.installed: image.installed_file gives the installed image"},
        {"{ size: 16KiB, installed_file: data/mcuboot/none.bin }", "image.installed_file: "},
        {"{ size: 16KiB, keys: [data/mcuboot/key-pub.pem] }",
         "image.keys: keys check a real image"},
        {"{ file: data/mcuboot/signed.bin, keys: [data/mcuboot/none.pem] }", "image.keys: "},
        {"{ file: data/mcuboot/enc/enc-ec256.bin, encryption: { key: "
         "data/mcuboot/enc/enc-ec256-priv.pem } }",
         "image.encryption: MCUboot decrypts images only in signed builds"},
        {"{ file: data/mcuboot/enc/enc-ec256.bin, keys: [data/mcuboot/enc/sign-ec256-pub.pem], "
         "encryption: { key: data/mcuboot/enc/enc-x25519-priv.pem } }",
         "image.encryption.key: MCUboot build: with ECDSA P-256 signatures the bootloader decrypts "
         "with "
         "ECIES-P256"},
        {"{ file: data/mcuboot/enc/enc-ec256.bin, keys: [data/mcuboot/enc/sign-ec256-pub.pem], "
         "encryption: { key: data/mcuboot/enc/sign-ec256-pub.pem } }",
         "image.encryption.key: " DFUSIM_SOURCE_DIR
         "/tests/data/mcuboot/enc/sign-ec256-pub.pem: not a PEM private key"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[384];
        snprintf(text, sizeof(text), "name: bad\nimage: %s\ndevices: [{ group: a, count: 1 }]\n",
                 cases[i].image);
        struct scenario s;
        struct sim_diag d;
        assert_int_equal(load(text, &s, &d), 0);
        sim_diag_init(&d);
        assert_int_equal(fleet_world_check(&s, &d), SIM_EINVAL);
        if (strstr(d.text, cases[i].want) == NULL)
            fail_msg("%s: want '%s' in:\n%s", cases[i].image, cases[i].want, d.text);
        assert_null(strstr(d.text, "do not fit")); /* no second message about size 0 */
        scenario_fini(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_mode_ends_on_the_file_image),
        cmocka_unit_test(devices_validate_the_file_with_their_keys),
        cmocka_unit_test(refused_images_are_recorded_with_mcuboot_s_reason),
        cmocka_unit_test(direct_xip_uploads_the_build_for_its_inactive_slot),
        cmocka_unit_test(devices_start_on_the_installed_file),
        cmocka_unit_test(encrypted_file_updates_only_devices_with_its_key),
        cmocka_unit_test(size_version_and_bad_files_are_refused_at_the_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
