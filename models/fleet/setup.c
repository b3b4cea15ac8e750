/* models/fleet/setup.c - the fleet's settings (models/fleet/settings.h) -> checks -> a world.
 *
 * Declares the fleet's own keys (device groups, their link's transport, faults) and the
 * models' root table. After the binder, checks what needs several models at once: the
 * firmware combinations the SDK refuses, link settings out of the Bluetooth ranges
 * (also at the worst corner of drawn ones), transports the board or the client cannot use,
 * group names, images too large for a mode; each model's own checks are its own
 * (flash_chip_settings_check, client_dfu_settings_check, fleet_rollout_cfg_validate, ...).
 * Each problem is reported at the position the binder kept for its map. link.transport
 * auto is resolved here too (transport_of). */
#include "models/fleet/world.h"
#include "models/fleet/settings.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/client/central.h"
#include "models/fw/config.h"
#include "models/mcuboot/explain.h"
#include "models/mcuboot/image.h"
#include "sim/error.h"

/* ---- settings: the fleet's own keys and the models' root table ------------------------ */

/* Order matches enum fleet_link_transport. */
static const char *const transport_names[] = {"auto", "ble", "uart", NULL};

static const struct scenario_field link_fields[] = {
    {.key = "transport",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fleet_link_settings, transport),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct fleet_link_settings, transport_at),
     .def = "auto",
     .names = transport_names,
     .doc = "SMP transport: ble (GATT over the BLE link) or uart (SMP serial frames); auto: "
            "uart on rak3172 (no BLE radio), ble elsewhere. With uart the BLE keys below, "
            "firmware.ble_latency and firmware.reassembly are ignored"},
    {.key = "baud",
     .type = SCENARIO_T_UINT,
     .unit = "bit/s",
     SCENARIO_AT(struct fleet_link_settings, baud),
     .def = "115200",
     .min = "1200",
     .max = "4000000",
     .doc = "UART bits per second, 8N1 (10 bits per byte); ignored with ble"},
    {.type = SCENARIO_T_INLINE,
     SCENARIO_AT(struct fleet_link_settings, ble),
     .sub = &ble_link_settings_schema},
};

static const struct scenario_schema link_schema =
    SCENARIO_SCHEMA("link", struct fleet_link_settings, link_fields);

static const struct scenario_field group_fields[] = {
    {.key = "group",
     .type = SCENARIO_T_NAME,
     SCENARIO_AT(struct fleet_group_settings, name),
     .flags = SCENARIO_F_REQUIRED | SCENARIO_F_UNIQUE,
     .doc = "name of the device group, unique; --set addresses it as devices.NAME.KEY"},
    {.key = "count",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct fleet_group_settings, count),
     .flags = SCENARIO_F_REQUIRED,
     .min = "1",
     .max = "10000000",
     .doc = "number of devices in the group"},
    {.key = "board",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fleet_group_settings, board),
     .def = "nrf52840dk",
     .names = flash_map_board_names,
     .doc = "board: flash map and chip profiles (models/flash/map.h)"},
    {.key = "bootloader",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fleet_group_settings, bootloader),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct fleet_group_settings, bootloader_at),
     .def = "swap-move",
     .names = mcuboot_slots_mode_names,
     .doc = "MCUboot upgrade mode"},
    {.key = "mcuboot",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct fleet_group_settings, mcuboot),
     .sub = &mcuboot_timing_settings_schema,
     .doc = "MCUboot's validation timing"},
    {.key = "flash",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct fleet_group_settings, flash),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct fleet_group_settings, flash.at),
     .sub = &flash_chip_settings_schema,
     .doc = "flash timing of the board"},
    {.key = "firmware",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct fleet_group_settings, firmware),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct fleet_group_settings, firmware.at),
     .sub = &fw_settings_schema,
     .doc = "firmware modules and MCUmgr options"},
    {.key = "link",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct fleet_group_settings, link),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct fleet_group_settings, link.at),
     .sub = &link_schema,
     .doc = "the link to the device's central: BLE, or a UART for boards without BLE"},
};

static const struct scenario_schema group_schema =
    SCENARIO_SCHEMA_GIVEN("device group", struct fleet_group_settings, group_fields, given);

/* Order matches enum fleet_fault_kind, _during and enum fleet_bad_image. */
static const char *const fault_kind_names[] = {"power-loss",   "bad-image",   "never-confirm",
                                               "link-degrade", "two-sources", NULL};
static const char *const during_names[] = {"upload", "swap", "random", NULL};
static const char *const fault_boot_names[] = {"crash", "invalid", NULL};

#define WHEN_KIND(k)                                                                               \
    {                                                                                              \
        "kind", SCENARIO_BIT(k)                                                                    \
    }

static const struct scenario_field fault_fields[] = {
    {.key = "kind",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fleet_fault_settings, kind),
     .flags = SCENARIO_F_REQUIRED,
     .names = fault_kind_names,
     .doc = "what goes wrong"},
    {.key = "groups",
     .type = SCENARIO_T_VALUES,
     SCENARIO_AT(struct fleet_fault_settings, groups),
     .count_offset = offsetof(struct fleet_fault_settings, n_groups),
     .item = &fleet_group_name_item,
     .flags = SCENARIO_F_UNIQUE,
     .min = "1",
     .inherit = "devices",
     .doc = "device groups it strikes; absent: every group"},
    {.key = "share",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct fleet_fault_settings, share),
     .def = "100%",
     .min = "0%",
     .max = "100%",
     .doc = "share of those groups' devices it strikes (a keyed draw per device)"},
    {.key = "during",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fleet_fault_settings, during),
     .flags = SCENARIO_F_REQUIRED,
     .names = during_names,
     .when = {WHEN_KIND(FLEET_FAULT_POWER_LOSS)},
     .doc = "power-loss: during the upload, the swap, or at random times"},
    {.key = "at",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct fleet_fault_settings, at),
     .def = "50%",
     .min = "0%",
     .max = "100%",
     .when = {WHEN_KIND(FLEET_FAULT_POWER_LOSS),
              {"during", SCENARIO_BIT(FLEET_DURING_UPLOAD) | SCENARIO_BIT(FLEET_DURING_SWAP)}},
     .doc = "power-loss upload/swap: share of the image written, or of the swap steps done"},
    {.key = "mean",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_fault_settings, mean),
     .def = "1h",
     .min = "1ns",
     .when = {WHEN_KIND(FLEET_FAULT_POWER_LOSS), {"during", SCENARIO_BIT(FLEET_DURING_RANDOM)}},
     .doc = "power-loss random: mean time between power losses (Poisson)"},
    {.key = "off",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_fault_settings, off),
     .def = "1s",
     .min = "0s",
     .when = {WHEN_KIND(FLEET_FAULT_POWER_LOSS)},
     .doc = "power-loss: how long power stays off"},
    {.key = "boot",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fleet_fault_settings, boot),
     .def = "crash",
     .names = fault_boot_names,
     .when = {WHEN_KIND(FLEET_FAULT_BAD_IMAGE)},
     .doc = "bad-image: the application crashes, or the image does not validate"},
    {.key = "crash_after",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_fault_settings, crash_after),
     .def = "2s",
     .min = "0s",
     .when = {WHEN_KIND(FLEET_FAULT_BAD_IMAGE), {"boot", SCENARIO_BIT(FLEET_BAD_IMAGE_CRASH)}},
     .doc = "bad-image crash: from the application's start to its crash"},
    {.key = "reset_after",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_fault_settings, reset_after),
     .def = "1h",
     .min = "0s",
     .when = {WHEN_KIND(FLEET_FAULT_NEVER_CONFIRM)},
     .doc = "never-confirm: from the failed confirm to the reset"},
    {.key = "to",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct fleet_fault_settings, to),
     .def = "30%",
     .min = "0%",
     .max = "100%",
     .when = {WHEN_KIND(FLEET_FAULT_LINK_DEGRADE)},
     .doc = "link-degrade: loss per PDU reached at the end"},
    {.key = "over",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_fault_settings, over),
     .def = "10min",
     .min = "0s",
     .when = {WHEN_KIND(FLEET_FAULT_LINK_DEGRADE)},
     .doc = "link-degrade: how long the linear rise takes"},
    {.key = "from",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_fault_settings, from),
     .def = "0s",
     .min = "0s",
     .when = {WHEN_KIND(FLEET_FAULT_LINK_DEGRADE)},
     .doc = "link-degrade: simulated time at which the rise starts"},
    {.key = "delay",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_fault_settings, delay),
     .def = "10s",
     .min = "0s",
     .when = {WHEN_KIND(FLEET_FAULT_TWO_SOURCES)},
     .doc = "two-sources: from the SMP upload's start to the config-channel DFU's"},
    {.key = "report",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_fault_settings, report),
     .def = "20ms",
     .min = "1us",
     .when = {WHEN_KIND(FLEET_FAULT_TWO_SOURCES)},
     .doc = "two-sources: the config-channel host's pace, one 24-byte report each"},
};

static const struct scenario_schema fault_schema = {
    .noun = "fault",
    .size = sizeof(struct fleet_fault_settings),
    .has_pos = true,
    .pos_offset = offsetof(struct fleet_fault_settings, pos),
    .n_fields = sizeof(fault_fields) / sizeof(fault_fields[0]),
    .fields = fault_fields};

static const struct scenario_field fleet_fields[] = {
    {.key = "image",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct fleet_settings, image),
     .flags = SCENARIO_F_REQUIRED | SCENARIO_F_POS,
     .pos_offset = offsetof(struct fleet_settings, image.at),
     .sub = &mcuboot_image_settings_schema,
     .doc = "the update image"},
    {.key = "client",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct fleet_settings, client),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct fleet_settings, client.at),
     .sub = &client_dfu_settings_schema,
     .doc = "the DFU client of every device's central; the default of every gateway's client"},
    {.key = "devices",
     .type = SCENARIO_T_LIST,
     SCENARIO_AT(struct fleet_settings, groups),
     .count_offset = offsetof(struct fleet_settings, n_groups),
     .flags = SCENARIO_F_REQUIRED,
     .min = "1",
     .sub = &group_schema,
     .doc = "the device groups of the fleet"},
    {.key = "rollout",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct fleet_settings, rollout),
     .flags = SCENARIO_F_POS | SCENARIO_F_OPTIONAL,
     .pos_offset = offsetof(struct fleet_settings, rollout.at),
     .present_offset = offsetof(struct fleet_settings, rollout.present),
     .sub = &fleet_rollout_settings_schema,
     .doc = "rollout controller: waves, thresholds, rates; absent: every device starts at "
            "client.start"},
    {.key = "gateways",
     .type = SCENARIO_T_LIST,
     SCENARIO_AT(struct fleet_settings, gateways),
     .count_offset = offsetof(struct fleet_settings, n_gateways),
     .sub = &fleet_gateway_settings_schema,
     .doc = "shared centrals; absent or empty: every device has its own, always present"},
    {.key = "faults",
     .type = SCENARIO_T_LIST,
     SCENARIO_AT(struct fleet_settings, faults),
     .count_offset = offsetof(struct fleet_settings, n_faults),
     .sub = &fault_schema,
     .doc = "injected faults; absent or empty: none"},
};

static int finish(void *model, const char *path, struct sim_diag *d)
{
    return fleet_kconfig_apply(model, path, d);
}

const struct scenario_schema fleet_settings_schema = {
    .noun = "fleet",
    .size = sizeof(struct fleet_settings),
    .n_fields = sizeof(fleet_fields) / sizeof(fleet_fields[0]),
    .fields = fleet_fields,
    .finish = finish, /* devices[].firmware.kconfig, devices[].mcuboot.kconfig */
};

/* Each message of why (one per line), located at `at`. */
static void add_at(struct sim_diag *d, const char *at, const struct sim_diag *why)
{
    for (const char *p = why->text; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        int n = nl != NULL ? (int)(nl - p) : (int)strlen(p);
        sim_diag_add(d, "%s: %.*s", at, n, p);
        p += n + (nl != NULL);
    }
}

/* ---- image.file ------------------------------------------------------------------------ */

/* A file the scenario names: relative paths are taken from the scenario's folder. */
static void scenario_file(const struct scenario *s, const char *name, char *path, size_t n)
{
    const char *slash = strrchr(s->path, '/');
    if (name[0] == '/' || slash == NULL)
        snprintf(path, n, "%s", name);
    else
        snprintf(path, n, "%.*s/%s", (int)(slash - s->path), s->path, name);
}

/* The image files a scenario names. */
enum image_key { IMAGE_FILE, IMAGE_SECONDARY_FILE, IMAGE_INSTALLED_FILE };
static const char *const image_key_names[] = {"image.file", "image.secondary_file",
                                              "image.installed_file"};

/* An image file of the scenario read whole and parsed into *img. Problems go to d at the
 * key's position. Returns 0 (the caller frees *buf) or SIM_EINVAL / SIM_ENOMEM. */
static int image_file_load(const struct scenario *s, enum image_key which, uint8_t **buf,
                           size_t *len, struct mcuboot_image *img, struct sim_diag *d)
{
    const struct mcuboot_image_settings *im = &fleet_settings_of(s)->image;
    const char *const names[] = {im->file, im->secondary_file, im->installed_file};
    const struct scenario_pos *pos[] = {&im->file_at, &im->secondary_file_at,
                                        &im->installed_file_at};
    char path[4096];
    scenario_file(s, names[which], path, sizeof(path));
    struct sim_diag why;
    sim_diag_init(&why);
    *buf = NULL;
    int rc = mcuboot_image_read_file(path, buf, len, &why);
    if (rc == 0)
        rc = mcuboot_image_parse(*buf, *len, path, img, &why);
    if (rc == 0)
        return 0;
    free(*buf);
    *buf = NULL;
    char at[512];
    scenario_pos_format(at, sizeof(at), pos[which], image_key_names[which]);
    add_at(d, at, &why);
    return rc == SIM_ENOMEM ? rc : SIM_EINVAL;
}

/* The trusted keys of image.keys (all of one type) and the MCUboot build they imply: the
 * image hash SHA-384 with P-384 keys, SHA-256 otherwise, as MCUboot's builds pair them
 * (boot/bootutil/include/bootutil/sign_key.h and the imgtool defaults); with image.encryption
 * the set also holds the private key of image encryption and the build has
 * MCUBOOT_ENC_IMAGES (AES-256, HMAC-SHA512 as its aes256, hmac_sha512). *out is
 * NULL when there are no keys. Problems with the keys go to d at image.keys
 * (image.encryption.key).
 * Returns 0, SIM_EINVAL or SIM_ENOMEM. */
static int image_keys(const struct scenario *s, struct mcuboot_keyset **out,
                      struct mcuboot_build *b, struct sim_diag *d)
{
    const struct mcuboot_image_settings *im = &fleet_settings_of(s)->image;
    *out = NULL;
    memset(b, 0, sizeof(*b));
    if (im->n_keys == 0)
        return 0;
    struct mcuboot_keyset *ks = mcuboot_keyset_new();
    if (ks == NULL)
        return SIM_ENOMEM;
    struct sim_diag why;
    sim_diag_init(&why);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < im->n_keys; i++) {
        char path[4096];
        scenario_file(s, im->keys[i], path, sizeof(path));
        rc = mcuboot_keyset_add_file(ks, path, &why);
    }
    if (rc == 0) {
        b->sig = mcuboot_keyset_type(ks, 0);
        b->hash = b->sig == MCUBOOT_SIG_EC384 ? MCUBOOT_HASH_SHA384 : MCUBOOT_HASH_SHA256;
        rc = mcuboot_build_check(b, ks, &why);
    }
    bool at_enc = false;
    if (rc == 0 && im->has_enc) {
        char path[4096];
        scenario_file(s, im->enc.key, path, sizeof(path));
        at_enc = true;
        b->enc_images = true;
        b->aes256 = im->enc.aes256;
        b->hmac_sha512 = im->enc.hmac_sha512;
        rc = mcuboot_keyset_set_enc_file(ks, path, &why);
        if (rc == 0)
            rc = mcuboot_build_check(b, ks, &why);
    }
    if (rc == 0) {
        *out = ks;
        return 0;
    }
    mcuboot_keyset_free(ks);
    char at[512];
    scenario_pos_format(at, sizeof(at), at_enc ? &im->enc.key_at : &im->keys_at,
                        at_enc ? "image.encryption.key" : "image.keys");
    add_at(d, at, &why);
    return SIM_EINVAL;
}

/* What the devices' MCUboot, built with the keys of image.keys, makes of the file;
 * res->verdict VALID when there are no keys. Returns 0 or SIM_EINVAL (bad keys: in d). */
static int image_verdict(const struct scenario *s, const uint8_t *buf, size_t len,
                         struct mcuboot_img_result *res, struct sim_diag *d)
{
    memset(res, 0, sizeof(*res));
    res->verdict = MCUBOOT_IMG_VALID;
    struct mcuboot_keyset *ks;
    struct mcuboot_build b;
    int rc = image_keys(s, &ks, &b, d);
    struct mcuboot_image_header h;
    /* Without keys any intact image boots, except an encrypted one: a bootloader without
     * the private key has no MCUBOOT_ENC_IMAGES and refuses it (boot_check_header_valid). */
    if (rc != 0 ||
        (ks == NULL &&
         (mcuboot_image_header_decode(buf, len, NULL, &h, NULL) != 0 ||
          (h.flags & (MCUBOOT_IMAGE_F_ENCRYPTED_AES128 | MCUBOOT_IMAGE_F_ENCRYPTED_AES256)) == 0)))
        return rc;
    struct sim_diag why;
    sim_diag_init(&why);
    rc = mcuboot_image_check(buf, len, &b, ks, res, &why);
    mcuboot_keyset_free(ks);
    if (rc == 0)
        return 0;
    char at[512];
    scenario_pos_format(at, sizeof(at), &fleet_settings_of(s)->image.keys_at, "image.keys");
    add_at(d, at, &why);
    return SIM_EINVAL;
}

/* The update image's size as the slots see it: the file's, or image.size. With a file,
 * size and version come from it: giving them too is refused. Returns 0 or SIM_EINVAL. */
static int update_size_of(const struct scenario *s, uint64_t *size, struct sim_diag *d)
{
    const struct mcuboot_image_settings *im = &fleet_settings_of(s)->image;
    *size = im->size;
    char at[512];
    if (im->file == NULL && im->n_keys > 0) {
        scenario_pos_format(at, sizeof(at), &im->keys_at, "image.keys");
        sim_diag_add(d, "%s: keys check a real image: give image.file too", at);
        return SIM_EINVAL;
    }
    if (im->has_enc && im->n_keys == 0) {
        scenario_pos_format(at, sizeof(at), &im->enc.at, "image.encryption");
        sim_diag_add(d,
                     "%s: MCUboot decrypts images only in signed builds (boot/zephyr/Kconfig "
                     "BOOT_ENCRYPT_IMAGE: RSA, ECDSA P-256 or Ed25519): give image.keys and "
                     "image.file too",
                     at);
        return SIM_EINVAL;
    }
    if (im->file == NULL && im->secondary_file != NULL) {
        scenario_pos_format(at, sizeof(at), &im->secondary_file_at, "image.secondary_file");
        sim_diag_add(d, "%s: the secondary-slot build pairs with image.file: give it too", at);
        return SIM_EINVAL;
    }
    if (im->file == NULL)
        return 0;
    int rc = 0;
    if (im->size != 0) {
        scenario_pos_format(at, sizeof(at), &im->size_at, "image.size");
        sim_diag_add(d, "%s: image.file gives the size; remove image.size", at);
        rc = SIM_EINVAL;
    }
    if (im->version_at.line != im->at.line || im->version_at.col != im->at.col) {
        scenario_pos_format(at, sizeof(at), &im->version_at, "image.version");
        sim_diag_add(d, "%s: image.file gives the version; remove image.version", at);
        rc = SIM_EINVAL;
    }
    uint8_t *buf;
    size_t len;
    struct mcuboot_image img;
    if (image_file_load(s, IMAGE_FILE, &buf, &len, &img, d) != 0)
        return SIM_EINVAL;
    struct mcuboot_img_result res;
    if (image_verdict(s, buf, len, &res, d) != 0)
        rc = SIM_EINVAL;
    free(buf);
    *size = img.total_size;
    struct mcuboot_image img2;
    if (im->secondary_file == NULL)
        return rc;
    if (image_file_load(s, IMAGE_SECONDARY_FILE, &buf, &len, &img2, d) != 0)
        return SIM_EINVAL;
    free(buf);
    if (mcuboot_image_version_cmp(&img.hdr.version, &img2.hdr.version, true) != 0) {
        scenario_pos_format(at, sizeof(at), &im->secondary_file_at, "image.secondary_file");
        sim_diag_add(d,
                     "%s: version %u.%u.%u+%u, image.file's is %u.%u.%u+%u: give the two "
                     "images of one build",
                     at, img2.hdr.version.major, img2.hdr.version.minor, img2.hdr.version.revision,
                     img2.hdr.version.build, img.hdr.version.major, img.hdr.version.minor,
                     img.hdr.version.revision, img.hdr.version.build);
        rc = SIM_EINVAL;
    }
    if (img2.total_size > *size)
        *size = img2.total_size;
    return rc;
}

/* The largest image the slots must hold: the update's (update_size_of) and, with
 * image.installed_file, the installed one's. Returns 0 or SIM_EINVAL. */
static int image_size_of(const struct scenario *s, uint64_t *size, struct sim_diag *d)
{
    const struct mcuboot_image_settings *im = &fleet_settings_of(s)->image;
    int rc = update_size_of(s, size, d);
    if (im->installed_file == NULL)
        return rc;
    if (im->installed_at.line != im->at.line || im->installed_at.col != im->at.col) {
        char at[512];
        scenario_pos_format(at, sizeof(at), &im->installed_at, "image.installed");
        sim_diag_add(d,
                     "%s: image.installed_file gives the installed image; remove "
                     "image.installed",
                     at);
        rc = SIM_EINVAL;
    }
    uint8_t *buf;
    size_t len;
    struct mcuboot_image img;
    if (image_file_load(s, IMAGE_INSTALLED_FILE, &buf, &len, &img, d) != 0)
        return SIM_EINVAL;
    free(buf);
    if (img.total_size > *size)
        *size = img.total_size;
    return rc;
}

/* Boards whose SoC has a BLE radio (flash_map.ble: not the RAK3172's STM32WLE5 nor the
 * NUCLEO-F429ZI's STM32F429). */
static bool board_has_ble(int b)
{
    struct flash_map m;
    return flash_map_board((enum flash_map_board)b, &m) == 0 && m.ble;
}

/* link.transport with auto resolved: BLE where the board has a radio, else the UART. */
static enum fleet_device_transport transport_of(const struct fleet_group_settings *g)
{
    switch (g->link.transport) {
    case FLEET_LINK_BLE:
        return FLEET_TRANSPORT_BLE;
    case FLEET_LINK_UART:
        return FLEET_TRANSPORT_UART;
    default:
        return board_has_ble(g->board) ? FLEET_TRANSPORT_BLE : FLEET_TRANSPORT_UART;
    }
}

bool fleet_group_uses_ble(const struct fleet_group_settings *g)
{
    return transport_of(g) == FLEET_TRANSPORT_BLE;
}

/* The transport of group i against its board and the client: 0 or SIM_EINVAL. */
static int check_transport(const struct scenario *s, size_t i, struct sim_diag *d)
{
    const struct fleet_settings *fs = fleet_settings_of(s);
    const struct fleet_group_settings *g = &fs->groups[i];
    char at[512], key[64];
    if (g->link.transport == FLEET_LINK_BLE && !board_has_ble(g->board)) {
        snprintf(key, sizeof(key), "devices[%zu].link.transport", i);
        scenario_pos_format(at, sizeof(at), &g->link.transport_at, key);
        sim_diag_add(d,
                     "%s: ble needs a BLE radio and group %s's board %s has none; use uart "
                     "(or auto, which picks uart there)",
                     at, g->name, flash_map_board_names[g->board]);
        return SIM_EINVAL;
    }
    struct fleet_serial_host host;
    if (transport_of(g) == FLEET_TRANSPORT_UART &&
        fleet_serial_host_default((enum client_dfu_kind)fs->client.kind, &host) != 0) {
        scenario_pos_format(at, sizeof(at), &fs->client.kind_at, "client.kind");
        sim_diag_add(d,
                     "%s: %s speaks SMP over BLE only, and group %s (%s) is reached over a UART "
                     "(devices[%zu].link.transport); use mcumgr-cli or smpclient, which have a "
                     "serial transport",
                     at, client_dfu_kind_name((enum client_dfu_kind)fs->client.kind), g->name,
                     flash_map_board_names[g->board], i);
        return SIM_EINVAL;
    }
    return 0;
}

/* A distribution's text -> *out, or a message at its position. */
static int dist_parse(const struct scenario_dist *sd, const char *key,
                      fleet_population_unit_fn unit, struct fleet_population_dist *out,
                      struct sim_diag *d)
{
    unsigned col = 0;
    struct sim_diag why;
    sim_diag_init(&why);
    if (fleet_population_parse(sd->text, unit, NULL, out, &col, &why) == 0)
        return 0;
    struct scenario_pos p = sd->at;
    if (p.line > 0 && col > 0)
        p.col += col - 1;
    char at[512];
    scenario_pos_format(at, sizeof(at), &p, key);
    add_at(d, at, &why);
    return SIM_EINVAL;
}

/* ---- the central ----------------------------------------------------------------------- */

static const struct client_dfu_settings *client_of(const struct scenario *s, size_t g);

/* client.central's names -> their index: the VALUEs of a mix ("choice(android @ 7, ...)"). */
static int unit_central(void *ctx, const char *text, double *value, const char **why)
{
    (void)ctx;
    for (int c = 0; c < CLIENT_CENTRAL_COUNT; c++) {
        if (strcmp(text, client_central_names[c]) == 0) {
            *value = c;
            return 0;
        }
    }
    *why = "is not a central (android, ios, linux-bluez, windows or macos)";
    return SIM_EINVAL;
}

/* The central of a client that does not draw it: its own, or its kind's usual host. */
static enum client_central central_fixed(const struct client_dfu_settings *c)
{
    if (c->central_dist.text != NULL || c->central == CLIENT_CENTRAL_DEFAULT)
        return client_central_of_kind((enum client_dfu_kind)c->kind);
    return (enum client_central)c->central;
}

/* Whether group g fixes its connection interval (given, or drawn): else the device asks
 * for the default and its central decides. An absent key's position is its map's. */
static bool interval_given(const struct fleet_group_settings *g)
{
    const struct scenario_pos *a = &g->link.ble.interval_at, *m = &g->link.at;
    if (g->link.ble.interval_dist.text != NULL)
        return true;
    bool same_src = a->src == m->src || (a->src && m->src && strcmp(a->src, m->src) == 0);
    return !(same_src && a->line == m->line && a->col == m->col);
}

/* Bit c set: the devices of a client may get central c. 0 when the mix does not parse. */
static unsigned central_mask(const struct client_dfu_settings *c)
{
    if (c->central_dist.text == NULL)
        return 1u << central_fixed(c);
    struct fleet_population_dist dist;
    unsigned col;
    if (fleet_population_parse(c->central_dist.text, unit_central, NULL, &dist, &col, NULL) != 0)
        return 0;
    bool items = dist.kind == FLEET_POPULATION_CHOICE || dist.kind == FLEET_POPULATION_EMPIRICAL;
    double lo, hi;
    fleet_population_support(&dist, &lo, &hi);
    unsigned m = 0;
    for (int k = 0; k < CLIENT_CENTRAL_COUNT; k++) {
        bool in = !items && k >= lo && k <= hi;
        for (size_t j = 0; items && j < dist.n_items; j++)
            in = in || (int)dist.values[j] == k;
        if (in)
            m |= 1u << k;
    }
    return m;
}

/* ---- rollout and gateways ------------------------------------------------------------ */

/* The rollout's knobs as the controller checks them, each message at the rollout map. */
static int check_rollout(const struct scenario *s, struct sim_diag *d)
{
    const struct fleet_settings *fs = fleet_settings_of(s);
    if (!fs->rollout.present)
        return 0;
    struct fleet_rollout_cfg c = fleet_rollout_cfg_from_settings(&fs->rollout);
    struct sim_diag why;
    sim_diag_init(&why);
    if (fleet_rollout_cfg_validate(&c, &why) == 0)
        return 0;
    /* The controller's messages start with "rollout: " and its knob's name. */
    char at[512];
    const struct scenario_pos *p = &fs->rollout.at;
    if (p->src != NULL && p->line > 0)
        snprintf(at, sizeof(at), "%s:%u:%u", p->src, p->line, p->col);
    else
        snprintf(at, sizeof(at), "%s", s->path);
    add_at(d, at, &why);
    return SIM_EINVAL;
}

/* The index of the group called name, or -1. */
static int group_index(const struct scenario *s, const char *name)
{
    const struct fleet_settings *fs = fleet_settings_of(s);
    for (size_t g = 0; g < fs->n_groups; g++)
        if (strcmp(name, fs->groups[g].name) == 0)
            return (int)g;
    return -1;
}

/* Bit g set: group g is one of names (a gateway's serves, a fault's groups; groups past
 * 64 are refused by the checks). */
static uint64_t group_mask(const struct scenario *s, char *const *names, size_t n)
{
    uint64_t m = 0;
    for (size_t j = 0; j < n; j++) {
        int g = group_index(s, names[j]);
        if (g >= 0 && g < 64)
            m |= 1ULL << g;
    }
    return m;
}

/* Every serves name is a group, each group has at most one kind of gateway, and (with
 * gateways) at least one; a phone's client speaks BLE only with BLE groups. */
static int check_gateways(const struct scenario *s, struct sim_diag *d)
{
    const struct fleet_settings *fs = fleet_settings_of(s);
    if (fs->n_gateways == 0)
        return 0;
    int rc = 0;
    char at[512], key[96];
    if (fs->n_groups > 64) {
        sim_diag_add(d, "%s: devices: at most 64 groups with gateways", s->path);
        return SIM_EINVAL;
    }
    uint64_t seen = 0;
    for (size_t i = 0; i < fs->n_gateways; i++) {
        const struct fleet_gateway_settings *gw = &fs->gateways[i];
        for (size_t j = 0; j < gw->n_serves; j++) {
            if (group_index(s, gw->serves[j]) >= 0)
                continue;
            snprintf(key, sizeof(key), "gateways[%zu].serves", i);
            scenario_pos_format(at, sizeof(at), &gw->pos, key);
            sim_diag_add(d, "%s: %s is not a device group", at, gw->serves[j]);
            rc = SIM_EINVAL;
        }
        uint64_t m = group_mask(s, gw->serves, gw->n_serves);
        if (m & seen) {
            snprintf(key, sizeof(key), "gateways[%zu].serves", i);
            scenario_pos_format(at, sizeof(at), &gw->pos, key);
            sim_diag_add(d,
                         "%s: group %s is served by an earlier gateway too; give each "
                         "group one kind of gateway",
                         at, fs->groups[__builtin_ctzll(m & seen)].name);
            rc = SIM_EINVAL;
        }
        seen |= m;
        struct fleet_serial_host host;
        for (size_t g = 0; g < fs->n_groups; g++) {
            if (!(m >> g & 1) || transport_of(&fs->groups[g]) != FLEET_TRANSPORT_UART ||
                fleet_serial_host_default((enum client_dfu_kind)gw->client.kind, &host) == 0)
                continue;
            snprintf(key, sizeof(key), "gateways[%zu].client.kind", i);
            scenario_pos_format(at, sizeof(at), &gw->pos, key);
            sim_diag_add(d,
                         "%s: %s speaks SMP over BLE only, and group %s is reached over a UART; "
                         "use mcumgr-cli or smpclient",
                         at, client_dfu_kind_name((enum client_dfu_kind)gw->client.kind),
                         fs->groups[g].name);
            rc = SIM_EINVAL;
        }
        struct fleet_gateway_cfg gc = {gw->links, (uint8_t)gw->availability, gw->arrival, NULL};
        struct fleet_population_dist fixed = {.kind = FLEET_POPULATION_FIXED, .value = 1};
        /* A drawn dwell is parsed here as gateways_add() will (the fuzzer found one that
         * validated and then did not build). */
        if (gw->dwell_dist.text != NULL) {
            snprintf(key, sizeof(key), "gateways[%zu].dwell", i);
            if (dist_parse(&gw->dwell_dist, key, fleet_population_unit_duration, &fixed, d) != 0) {
                rc = SIM_EINVAL;
                fixed = (struct fleet_population_dist){.kind = FLEET_POPULATION_FIXED, .value = 1};
            }
        }
        gc.dwell = &fixed;
        struct sim_diag why;
        sim_diag_init(&why);
        if (fleet_gateway_cfg_validate(&gc, &why) != 0) {
            snprintf(key, sizeof(key), "gateways[%zu]", i);
            scenario_pos_format(at, sizeof(at), &gw->pos, key);
            add_at(d, at, &why);
            rc = SIM_EINVAL;
        }
    }
    for (size_t g = 0; g < fs->n_groups; g++) {
        if (seen >> g & 1)
            continue;
        scenario_pos_format(at, sizeof(at), &fs->gateways[0].pos, "gateways");
        sim_diag_add(d,
                     "%s: no gateway serves group %s, so its devices would never update; "
                     "add it to a gateway's serves",
                     at, fs->groups[g].name);
        rc = SIM_EINVAL;
    }
    return rc;
}

/* The keys of a group that may hold a distribution, with their unit. */
struct dist_key {
    enum fleet_population_param param;
    const char *key; /* under devices[i] */
    fleet_population_unit_fn unit;
    double lo, hi; /* what a draw may be (Bluetooth Core Vol 6 Part B §4.5.2) */
    const char *range;
};

#define PCT fleet_population_unit_percent
#define DUR fleet_population_unit_duration
static const struct dist_key dist_keys[] = {
    {FLEET_POPULATION_LOSS_GOOD, "link.loss.good", PCT, 0, 1, "[0%, 100%]"},
    {FLEET_POPULATION_LOSS_BAD, "link.loss.bad", PCT, 0, 1, "[0%, 100%]"},
    {FLEET_POPULATION_LOSS_P_GB, "link.loss.p_gb", PCT, 0, 1, "[0%, 100%]"},
    {FLEET_POPULATION_LOSS_P_BG, "link.loss.p_bg", PCT, 0, 1, "[0%, 100%]"},
    {FLEET_POPULATION_INTERVAL, "link.interval", DUR, 7.5e6, 4e9, "[7.5ms, 4s]"},
    {FLEET_POPULATION_LATENCY, "link.latency", fleet_population_unit_number, 0, 499, "[0, 499]"},
    {FLEET_POPULATION_TIMEOUT, "link.timeout", DUR, 1e8, 3.2e10, "[100ms, 32s]"},
    {FLEET_POPULATION_ADV_DELAY, "link.adv_delay", DUR, 0, INFINITY, "[0s, ...)"},
    {FLEET_POPULATION_APP_START, "firmware.app_start", DUR, 0, INFINITY, "[0s, ...)"},
    {FLEET_POPULATION_CPU_PER_REQUEST, "firmware.netbuf.cpu_per_request", DUR, 0, INFINITY,
     "[0s, ...)"},
    {FLEET_POPULATION_CLIENT_START, "client.start", DUR, 0, INFINITY, "[0s, ...)"},
};
#undef PCT
#undef DUR

/* Where group g keeps the distribution of key k (client.start: the scenario's client). */
static const struct scenario_dist *dist_of(const struct scenario *s,
                                           const struct fleet_group_settings *g,
                                           enum fleet_population_param p)
{
    const struct fleet_settings *fs = fleet_settings_of(s);
    switch (p) {
    case FLEET_POPULATION_LOSS_GOOD:
        return &g->link.ble.loss.good_dist;
    case FLEET_POPULATION_LOSS_BAD:
        return &g->link.ble.loss.bad_dist;
    case FLEET_POPULATION_LOSS_P_GB:
        return &g->link.ble.loss.p_gb_dist;
    case FLEET_POPULATION_LOSS_P_BG:
        return &g->link.ble.loss.p_bg_dist;
    case FLEET_POPULATION_INTERVAL:
        return &g->link.ble.interval_dist;
    case FLEET_POPULATION_LATENCY:
        return &g->link.ble.latency_dist;
    case FLEET_POPULATION_TIMEOUT:
        return &g->link.ble.timeout_dist;
    case FLEET_POPULATION_ADV_DELAY:
        return &g->link.ble.adv_delay_dist;
    case FLEET_POPULATION_APP_START:
        return &g->firmware.app_start_dist;
    case FLEET_POPULATION_CPU_PER_REQUEST:
        return &g->firmware.netbuf.cpu_per_request_dist;
    case FLEET_POPULATION_CLIENT_START:
        return &fs->client.start_dist;
    default:
        return NULL;
    }
}

/* Parse every distribution of group i (messages at their keys) and, with w, hand them to
 * the world. Returns 0 or SIM_EINVAL. */
static int group_dists(const struct scenario *s, size_t i, struct fleet_world *w,
                       struct sim_diag *d)
{
    const struct fleet_settings *fs = fleet_settings_of(s);
    int rc = 0;
    for (size_t k = 0; k < sizeof(dist_keys) / sizeof(dist_keys[0]); k++) {
        const struct scenario_dist *sd = dist_of(s, &fs->groups[i], dist_keys[k].param);
        if (sd == NULL || sd->text == NULL)
            continue;
        char key[96];
        if (dist_keys[k].param == FLEET_POPULATION_CLIENT_START)
            snprintf(key, sizeof(key), "%s", dist_keys[k].key);
        else
            snprintf(key, sizeof(key), "devices[%zu].%s", i, dist_keys[k].key);
        struct fleet_population_dist dist;
        bool shared = dist_keys[k].param == FLEET_POPULATION_CLIENT_START;
        struct sim_diag *dd = shared && i > 0 ? NULL : d;
        if (dist_parse(sd, key, dist_keys[k].unit, &dist, dd) != 0) {
            rc = SIM_EINVAL;
            continue;
        }
        double lo, hi;
        fleet_population_support(&dist, &lo, &hi);
        if (lo < dist_keys[k].lo || hi > dist_keys[k].hi) {
            char at[512];
            scenario_pos_format(at, sizeof(at), &sd->at, key);
            sim_diag_add(dd,
                         "%s: %s can draw values outside %s; narrow it, or truncate it with "
                         "\"in [LO, HI]\"",
                         at, sd->text, dist_keys[k].range);
            rc = SIM_EINVAL;
            continue;
        }
        if (w != NULL && fleet_world_group_dist(w, (uint32_t)i, dist_keys[k].param, &dist, d) != 0)
            rc = SIM_EINVAL;
    }
    /* client.central drawn per device: a choice or an empirical list of centrals. Said once
     * per client (the first group it serves). */
    const struct client_dfu_settings *cs = client_of(s, i);
    if (cs->central_dist.text != NULL) {
        bool first = true;
        for (size_t j = 0; j < i; j++)
            first = first && client_of(s, j) != cs;
        struct sim_diag *dd = first ? d : NULL;
        struct fleet_population_dist dist;
        if (dist_parse(&cs->central_dist, "client.central", unit_central, &dist, dd) != 0)
            return SIM_EINVAL;
        if (dist.kind != FLEET_POPULATION_CHOICE && dist.kind != FLEET_POPULATION_EMPIRICAL &&
            dist.kind != FLEET_POPULATION_FIXED) {
            char at[512];
            scenario_pos_format(at, sizeof(at), &cs->central_dist.at, "client.central");
            sim_diag_add(dd,
                         "%s: a mix of centrals is choice(NAME @ WEIGHT, ...) or empirical(NAME, "
                         "...), not %s",
                         at, fleet_population_kind_name(dist.kind));
            return SIM_EINVAL;
        }
        if (w != NULL &&
            fleet_world_group_dist(w, (uint32_t)i, FLEET_POPULATION_CENTRAL, &dist, d) != 0)
            rc = SIM_EINVAL;
    }
    return rc;
}

/* The worst connection parameters group i can draw (largest interval and latency, smallest
 * timeout; rounded to their steps as world_draw_cfg() rounds them) into lc. False when a
 * distribution does not parse (reported by group_dists). */
static bool worst_link(const struct scenario *s, size_t i, struct ble_link_cfg *lc)
{
    const struct fleet_settings *fs = fleet_settings_of(s);
    static const enum fleet_population_param params[] = {
        FLEET_POPULATION_INTERVAL, FLEET_POPULATION_LATENCY, FLEET_POPULATION_TIMEOUT};
    for (size_t j = 0; j < 3; j++) {
        const struct scenario_dist *sd = dist_of(s, &fs->groups[i], params[j]);
        if (sd == NULL || sd->text == NULL)
            continue;
        const struct dist_key *k = NULL;
        for (size_t n = 0; n < sizeof(dist_keys) / sizeof(dist_keys[0]); n++)
            if (dist_keys[n].param == params[j])
                k = &dist_keys[n];
        struct fleet_population_dist dist;
        double lo, hi;
        if (k == NULL || dist_parse(sd, k->key, k->unit, &dist, NULL) != 0)
            return false;
        fleet_population_support(&dist, &lo, &hi);
        if (params[j] == FLEET_POPULATION_INTERVAL)
            lc->interval_ns = (int64_t)llround(hi / 1250000.0) * 1250000; /* 1.25 ms steps */
        else if (params[j] == FLEET_POPULATION_LATENCY)
            lc->latency = (uint16_t)llround(hi);
        else
            lc->timeout_ns = (int64_t)llround(lo / 10000000.0) * 10000000; /* 10 ms steps */
    }
    return true;
}

/* Every group a fault names exists; parameters the device refuses are reported. */
static uint32_t fault_of(const struct fleet_fault_settings *f, struct fleet_device_faults *p);

static int check_faults(const struct scenario *s, struct sim_diag *d)
{
    const struct fleet_settings *fs = fleet_settings_of(s);
    int rc = 0;
    char at[512], key[64];
    for (size_t i = 0; i < fs->n_faults; i++) {
        const struct fleet_fault_settings *f = &fs->faults[i];
        /* The values the devices will refuse (fleet_device_faults_set), said here. */
        struct fleet_device_faults p;
        const char *bad = fleet_device_faults_invalid(&p, fault_of(f, &p));
        if (bad != NULL) {
            snprintf(key, sizeof(key), "faults[%zu]", i);
            scenario_pos_format(at, sizeof(at), &f->pos, key);
            sim_diag_add(d, "%s.%s", at, bad);
            rc = SIM_EINVAL;
        }
        snprintf(key, sizeof(key), "faults[%zu].groups", i);
        scenario_pos_format(at, sizeof(at), &f->pos, key);
        for (size_t j = 0; j < f->n_groups; j++) {
            int g = group_index(s, f->groups[j]);
            if (g < 0) {
                sim_diag_add(d, "%s: %s is not a device group", at, f->groups[j]);
                rc = SIM_EINVAL;
            } else if (f->kind == FLEET_FAULT_TWO_SOURCES &&
                       !fs->groups[g].firmware.config_channel_dfu) {
                sim_diag_add(d,
                             "%s: two-sources needs a second DFU source: group %s has no "
                             "firmware.config_channel_dfu (set it, or leave the group out)",
                             at, f->groups[j]);
                rc = SIM_EINVAL;
            }
        }
    }
    return rc;
}

bool fleet_world_image_refused(const struct scenario *s, char *why, size_t n)
{
    const struct fleet_settings *fs = fleet_settings_of(s);
    uint8_t *buf;
    size_t len;
    struct mcuboot_image img;
    struct mcuboot_img_result res;
    if (fs->image.file == NULL || image_file_load(s, IMAGE_FILE, &buf, &len, &img, NULL) != 0)
        return false;
    bool refused = image_verdict(s, buf, len, &res, NULL) == 0 && res.verdict != MCUBOOT_IMG_VALID;
    free(buf);
    if (refused)
        snprintf(why, n, "%s", res.reason);
    return refused;
}

int fleet_world_check(const struct scenario *s, struct sim_diag *d)
{
    const struct fleet_settings *fs = fleet_settings_of(s);
    int rc = 0;
    char at[512];
    if (client_dfu_settings_check(&fs->client, "client", d) != 0)
        rc = SIM_EINVAL;
    for (size_t i = 0; i < fs->n_gateways; i++) {
        const struct client_dfu_settings *c = &fs->gateways[i].client;
        char key[64];
        snprintf(key, sizeof(key), "gateways[%zu].client", i);
        if (c->alignment != fs->client.alignment && client_dfu_settings_check(c, key, d) != 0)
            rc = SIM_EINVAL;
    }
    uint64_t image_size;
    bool image_ok = image_size_of(s, &image_size, d) == 0;
    if (!image_ok)
        rc = SIM_EINVAL;
    if (fs->image.file == NULL && fs->image.size < mcuboot_image_synth_min_size()) {
        /* fleet_world_image_add refuses */
        scenario_pos_format(at, sizeof(at), &fs->image.size_at, "image.size");
        sim_diag_add(d,
                     "%s: %llu bytes cannot hold an MCUboot image (0x200-byte header and the "
                     "TLVs); give at least %u bytes",
                     at, (unsigned long long)fs->image.size, mcuboot_image_synth_min_size());
        rc = SIM_EINVAL;
    }
    /* All three, so that one run of validate shows every problem. */
    int rollout_rc = check_rollout(s, d), gateways_rc = check_gateways(s, d);
    int faults_rc = check_faults(s, d);
    if (rollout_rc != 0 || gateways_rc != 0 || faults_rc != 0)
        rc = SIM_EINVAL;
    for (size_t i = 0; i < fs->n_groups; i++) {
        const struct fleet_group_settings *g = &fs->groups[i];
        char key[64];
        snprintf(key, sizeof(key), "devices[%zu].firmware", i);
        scenario_pos_format(at, sizeof(at), &g->firmware.at, key);
        bool uart = transport_of(g) == FLEET_TRANSPORT_UART;
        struct fw_config fc = fw_config_from_settings(&g->firmware, uart);
        if (fw_config_check(&fc, at, d) != 0)
            rc = SIM_EINVAL;
        if (check_transport(s, i, d) != 0)
            rc = SIM_EINVAL;
        bool dists_ok = group_dists(s, i, NULL, d) == 0;
        if (!dists_ok)
            rc = SIM_EINVAL;
        snprintf(key, sizeof(key), "devices[%zu].flash", i);
        if (flash_chip_settings_check(&g->flash, key, d) != 0)
            rc = SIM_EINVAL;
        struct ble_link_cfg lc;
        ble_link_cfg_from_settings(&g->link.ble, 0, &lc);
        snprintf(key, sizeof(key), "devices[%zu].link", i);
        scenario_pos_format(at, sizeof(at), &g->link.at, key);
        /* Drawn connection parameters are checked per device when the world starts
         * (world_draw_cfg); here at their worst corner, so that no device can draw a
         * combination that run would refuse (issue 13). */
        bool drawn = g->link.ble.interval_dist.text != NULL ||
                     g->link.ble.latency_dist.text != NULL || g->link.ble.timeout_dist.text != NULL;
        if (drawn && !(dists_ok && worst_link(s, i, &lc)))
            lc.interval_ns = 7500000, lc.latency = 0, lc.timeout_ns = 4000000000LL;
        /* As each central the group's devices may get makes the link (models/client/
         * central.h): a negotiated interval must fit the latency and timeout too. */
        const struct client_dfu_settings *cs = client_of(s, i);
        unsigned cm = central_mask(cs);
        bool fixed = interval_given(g);
        for (int c = 0; c < CLIENT_CENTRAL_COUNT; c++) {
            if (!(cm >> c & 1))
                continue;
            struct ble_link_cfg lc2 = lc;
            client_central_link(
                client_central_profile((enum client_central)c),
                (enum client_central_priority)cs->priority, fixed,
                client_dfu_cfg_default((enum client_dfu_kind)cs->kind).p.att_mtu_request,
                cs->packets_per_event, &lc2);
            if (ble_link_cfg_check(&lc2) != 0) {
                lc = lc2;
                break;
            }
        }
        if (!uart && drawn && ble_link_cfg_check(&lc) != 0) {
            sim_diag_add(d,
                         "%s: the drawn interval, latency and timeout can break the Bluetooth "
                         "rule timeout > (1 + latency) x interval x 2 (at interval %.2f ms, "
                         "latency %u, timeout %.0f ms); narrow the distributions",
                         at, (double)lc.interval_ns / 1e6, lc.latency, (double)lc.timeout_ns / 1e6);
            rc = SIM_EINVAL;
        } else if (!uart && ble_link_cfg_check(&lc) != 0) {
            sim_diag_add(d,
                         "%s: the connection parameters break the Bluetooth rules (interval "
                         "7.5 ms - 4 s in 1.25 ms steps, latency 0-499, timeout 100 ms - 32 s "
                         "and > (1 + latency) x interval x 2); change interval, latency or "
                         "timeout",
                         at);
            rc = SIM_EINVAL;
        }
        struct flash_map map;
        struct mcuboot_explain_params p;
        struct mcuboot_explain_row rows[MCUBOOT_EXPLAIN_MODE_COUNT];
        struct sim_diag ignore;
        sim_diag_init(&ignore);
        mcuboot_explain_params_default(&p);
        if (!image_ok || flash_map_board((enum flash_map_board)g->board, &map) != 0 ||
            mcuboot_explain(&map, (uint32_t)image_size, &p, rows, &ignore) != 0)
            continue;
        const struct mcuboot_explain_row *row = &rows[g->bootloader];
        if (row->refused) { /* MCUboot refuses the board's slots for this mode */
            snprintf(key, sizeof(key), "devices[%zu].bootloader", i);
            scenario_pos_format(at, sizeof(at), &g->bootloader_at, key);
            sim_diag_add(d, "%s: %s on %s (group %s): %s; use another bootloader or board", at,
                         mcuboot_slots_mode_names[g->bootloader], flash_map_board_names[g->board],
                         g->name, row->why);
            rc = SIM_EINVAL;
        } else if (!row->fits) {
            scenario_pos_format(at, sizeof(at), &fs->image.size_at, "image.size");
            sim_diag_add(d,
                         "%s: %llu bytes do not fit group %s (%s, %s: at most %u bytes; %s); use "
                         "a smaller image or another board or bootloader",
                         at, (unsigned long long)image_size, g->name,
                         flash_map_board_names[g->board], mcuboot_slots_mode_names[g->bootloader],
                         row->max_image, row->why);
            rc = SIM_EINVAL;
        }
    }
    return rc;
}

/* One faults entry -> the device's fault kinds and parameters. */
static uint32_t fault_of(const struct fleet_fault_settings *f, struct fleet_device_faults *p)
{
    static const uint32_t power[] = {
        [FLEET_DURING_UPLOAD] = FLEET_FAULTS_POWER_UPLOAD,
        [FLEET_DURING_SWAP] = FLEET_FAULTS_POWER_SWAP,
        [FLEET_DURING_RANDOM] = FLEET_FAULTS_POWER_RANDOM,
    };
    fleet_device_faults_default(p);
    p->upload_at = p->swap_at = f->at;
    p->mean_ns = f->mean;
    p->off_ns = f->off;
    p->bad_image = (enum fleet_bad_image)f->boot;
    p->crash_after_ns = f->crash_after;
    p->reset_after_ns = f->reset_after;
    p->degrade_to = f->to;
    p->degrade_from_ns = f->from;
    p->degrade_over_ns = f->over;
    p->two_sources_at_ns = f->delay;
    p->two_sources_report_ns = f->report;
    switch (f->kind) {
    case FLEET_FAULT_POWER_LOSS:
        return power[f->during];
    case FLEET_FAULT_BAD_IMAGE:
        return FLEET_FAULTS_BAD_IMAGE;
    case FLEET_FAULT_NEVER_CONFIRM:
        return FLEET_FAULTS_NEVER_CONFIRM;
    case FLEET_FAULT_LINK_DEGRADE:
        return FLEET_FAULTS_LINK_DEGRADE;
    default:
        return FLEET_FAULTS_TWO_SOURCES;
    }
}

/* The client that updates group g: its gateway's, or the top-level one. */
static const struct client_dfu_settings *client_of(const struct scenario *s, size_t g)
{
    const struct fleet_settings *fs = fleet_settings_of(s);
    for (size_t i = 0; i < fs->n_gateways; i++)
        if (g < 64 && (group_mask(s, fs->gateways[i].serves, fs->gateways[i].n_serves) >> g & 1))
            return &fs->gateways[i].client;
    return &fs->client;
}

static int gateways_add(struct fleet_world *w, const struct scenario *s,
                        const struct fleet_gateway_settings *gw, struct sim_diag *d)
{
    struct client_dfu_cfg client = client_dfu_cfg_from_settings(&gw->client);
    struct fleet_world_gateways g = {
        .name = gw->name,
        .count = gw->count,
        .cfg = {gw->links, (uint8_t)gw->availability, gw->arrival, NULL},
        .assignment = (enum fleet_gateway_assignment)gw->assignment,
        .serves = group_mask(s, gw->serves, gw->n_serves),
        .client = &client,
    };
    int rc = 0;
    if (gw->dwell_dist.text != NULL)
        rc = dist_parse(&gw->dwell_dist, "dwell", fleet_population_unit_duration, &g.dwell, d);
    else
        g.dwell = (struct fleet_population_dist){.kind = FLEET_POPULATION_FIXED,
                                                 .value = (double)gw->dwell};
    return rc != 0 ? rc : fleet_world_gateways_add(w, &g, d);
}

int fleet_world_from_scenario(const struct scenario *s, struct sim_engine *e, struct recorder *rec,
                              struct fleet_world **out, struct sim_diag *d)
{
    return fleet_world_from_scenario_ext(s, e, rec, NULL, FLEET_EXT_LINK, out, d);
}

static int from_scenario(const struct scenario *s, struct sim_engine *e, struct recorder *rec,
                         const struct fleet_device_ext *x, enum fleet_device_ext_link link,
                         const struct fleet_world_layout *l, struct fleet_world **out,
                         struct sim_diag *d);

int fleet_world_from_scenario_ext(const struct scenario *s, struct sim_engine *e,
                                  struct recorder *rec, const struct fleet_device_ext *x,
                                  enum fleet_device_ext_link link, struct fleet_world **out,
                                  struct sim_diag *d)
{
    return from_scenario(s, e, rec, x, link, NULL, out, d);
}

int fleet_world_from_scenario_layout(const struct scenario *s, struct sim_engine *e,
                                     struct recorder *rec, const struct fleet_world_layout *l,
                                     struct fleet_world **out, struct sim_diag *d)
{
    return from_scenario(s, e, rec, NULL, FLEET_EXT_LINK, l, out, d);
}

static int from_scenario(const struct scenario *s, struct sim_engine *e, struct recorder *rec,
                         const struct fleet_device_ext *x, enum fleet_device_ext_link link,
                         const struct fleet_world_layout *l, struct fleet_world **out,
                         struct sim_diag *d)
{
    const struct fleet_world_layout all = {0, 1, 0};
    if (l == NULL)
        l = &all;
    const struct fleet_settings *fs = fleet_settings_of(s);
    *out = NULL;
    int rc = fleet_world_check(s, d);
    if (rc != 0)
        return rc;
    struct fleet_world *w = fleet_world_new(e, rec, s->seed);
    if (w == NULL)
        return SIM_ENOMEM;
    fleet_world_attempt_log_set(w, false); /* the attempts are records */
    const struct scenario_version *iv = &fs->image.installed, *uv = &fs->image.version;
    const struct mcuboot_image_version installed = {iv->major, iv->minor, iv->revision, iv->build};
    const struct mcuboot_image_version update = {uv->major, uv->minor, uv->revision, uv->build};
    uint32_t factory = 0, upd = 0;
    uint64_t size = fs->image.size;
    uint8_t *buf = NULL;
    size_t len = 0;
    struct mcuboot_image img;
    struct mcuboot_img_result verdict = {.verdict = MCUBOOT_IMG_VALID};
    if (fs->image.file != NULL && (rc = image_file_load(s, IMAGE_FILE, &buf, &len, &img, d)) == 0) {
        size = img.total_size; /* the devices start on a synthetic image of that size */
        rc = image_verdict(s, buf, len, &verdict, d);
    }
    uint8_t *ibuf = NULL;
    size_t ilen = 0;
    struct mcuboot_image iimg;
    if (rc == 0 && fs->image.installed_file != NULL &&
        (rc = image_file_load(s, IMAGE_INSTALLED_FILE, &ibuf, &ilen, &iimg, d)) == 0)
        rc = fleet_world_image_add_file(w, ibuf, ilen, fs->image.installed_file, &factory, d);
    else if (rc == 0)
        rc = fleet_world_image_add(w, (uint32_t)size, &installed, &factory, d);
    if (rc == 0 && buf != NULL)
        rc = fleet_world_image_add_file(w, buf, len, fs->image.file, &upd, d);
    else if (rc == 0)
        rc = fleet_world_image_add(w, (uint32_t)size, &update, &upd, d);
    else
        free(buf);
    /* direct-xip: the build linked for the secondary slot, which those groups upload */
    uint32_t upd2 = upd;
    struct mcuboot_img_result verdict2 = verdict;
    if (rc == 0 && fs->image.secondary_file != NULL &&
        (rc = image_file_load(s, IMAGE_SECONDARY_FILE, &buf, &len, &img, d)) == 0) {
        rc = image_verdict(s, buf, len, &verdict2, d);
        if (rc == 0)
            rc = fleet_world_image_add_file(w, buf, len, fs->image.secondary_file, &upd2, d);
        else
            free(buf);
        if (rc == 0)
            fleet_world_image_link(w, upd2, 1);
    }
    if (rc == 0 && verdict.verdict != MCUBOOT_IMG_VALID)
        rc = fleet_world_image_refuse(w, upd, verdict.reason);
    if (rc == 0 && upd2 != upd && verdict2.verdict != MCUBOOT_IMG_VALID)
        rc = fleet_world_image_refuse(w, upd2, verdict2.reason);
    if (rc == 0) { /* to judge the images the devices learn from uploads */
        struct mcuboot_keyset *ks;
        struct mcuboot_build b;
        if ((rc = image_keys(s, &ks, &b, d)) == 0)
            fleet_world_image_keys(w, ks, &b);
    }
    for (size_t i = 0; i < fs->n_groups && rc == 0; i++) {
        const struct fleet_group_settings *g = &fs->groups[i];
        struct fleet_group_cfg gc = {
            .name = g->name,
            .board = (enum flash_map_board)g->board,
            .mode = (enum mcuboot_slots_mode)g->bootloader,
            .erase_progressively = g->firmware.erase_progressively,
            .count = g->count,
            .boot = &g->mcuboot,
            .flash = &g->flash,
        };
        fleet_device_cfg_default(&gc.dev);
        bool xip = g->bootloader == MCUBOOT_SLOTS_DIRECT_XIP ||
                   g->bootloader == MCUBOOT_SLOTS_DIRECT_XIP_REVERT;
        gc.dev.factory_image = factory;
        gc.dev.update_image = xip ? upd2 : upd;
        gc.dev.smp = (enum fleet_device_smp)g->firmware.smp;
        gc.dev.dfu_lock = g->firmware.dfu_lock;
        gc.dev.config_channel_dfu = g->firmware.config_channel_dfu;
        gc.dev.ble_latency = g->firmware.ble_latency;
        gc.dev.reassembly = g->firmware.reassembly;
        gc.dev.mcumgr_params = g->firmware.mcumgr_params;
        gc.dev.erase = (enum smp_img_mgmt_erase)g->firmware.erase;
        gc.dev.reject_xip_mismatched_slot = g->firmware.reject_xip_mismatched_slot;
        gc.dev.image_check = g->firmware.image_check;
        gc.dev.netbuf = smp_netbuf_cfg_from_settings(&g->firmware.netbuf);
        gc.dev.app_boot_ns = g->firmware.app_start;
        gc.dev.adv_ns = g->link.ble.adv_delay;
        ble_link_cfg_from_settings(&g->link.ble, 0, &gc.dev.link);
        const struct client_dfu_settings *cs = client_of(s, i);
        gc.dev.central = (uint8_t)central_fixed(cs); /* a drawn one replaces it per device */
        gc.dev.central_priority = (uint8_t)cs->priority;
        gc.dev.interval_fixed = interval_given(g);
        gc.dev.central_packets = cs->packets_per_event;
        gc.dev.transport = transport_of(g);
        gc.dev.uart.baud = g->link.baud;
        if (gc.dev.transport == FLEET_TRANSPORT_UART)
            (void)fleet_serial_host_default((enum client_dfu_kind)client_of(s, i)->kind,
                                            &gc.dev.serial);
        gc.dev.client = client_dfu_cfg_from_settings(client_of(s, i));
        gc.dev.start_ns = fs->client.start;
        uint32_t first;
        rc = fleet_world_group_add(w, &gc, &first, d);
        if (rc == 0)
            rc = group_dists(s, i, w, d);
    }
    if (rc == 0 && x != NULL)
        rc = fleet_world_ext_set(w, x, link);
    if (rc == 0 && fs->rollout.present && x == NULL) {
        struct fleet_rollout_cfg rc_cfg = fleet_rollout_cfg_from_settings(&fs->rollout);
        rc = fleet_world_rollout_set(w, &rc_cfg, fs->rollout.start, d);
    }
    for (size_t i = 0; i < fs->n_gateways && rc == 0 && x == NULL; i++)
        rc = gateways_add(w, s, &fs->gateways[i], d);
    for (size_t i = 0; i < fs->n_faults && rc == 0; i++) {
        struct fleet_device_faults p;
        uint32_t bits = fault_of(&fs->faults[i], &p);
        rc = fleet_world_fault_add(w, group_mask(s, fs->faults[i].groups, fs->faults[i].n_groups),
                                   fs->faults[i].share, bits, &p, d);
    }
    if (rc == 0 && l->n_parts > 1)
        rc = fleet_world_split(w, l->part, l->n_parts);
    if (rc == 0)
        rc = fleet_world_blocks_set(w, l->block_devices);
    if (rc == 0 && (rc = fleet_world_start(w)) != 0 && fleet_world_diag(w)->len > 0)
        add_at(d, s->path, fleet_world_diag(w));
    if (rc != 0) {
        fleet_world_free(w);
        return rc;
    }
    *out = w;
    return 0;
}
