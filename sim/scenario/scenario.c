/* sim/scenario/scenario.c - the dfusim scenario schema and the sim/scenario.h API.
 *
 * The tables below ARE the scenario reference: adding a key is one row (plus its struct
 * member). Defaults and bounds are written as a user would write them.
 */
#include "sim/scenario/scenario_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Offset and size of a member, for a table row. */
#define SCENARIO_AT(type, member)                                                                  \
    .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

static const char *const record_names[] = {"summary", "attempts", "chunks", NULL};

/* Order matches enum scenario_board. */
static const char *const board_names[] = {"rak4631",    "nrf52840dk", "nrf52840dk-ext", "nrf5340dk",
                                          "nrf54l15dk", "rak3172",    "rak11720",       NULL};

/* Order matches enum scenario_bootloader (MCUboot upgrade modes, written in kebab case). */
static const char *const bootloader_names[] = {
    "overwrite-only", "swap-scratch",      "swap-move", "swap-offset",
    "direct-xip",     "direct-xip-revert", "ram-load",  NULL};

static const struct scenario_field image_fields[] = {
    {.key = "size",
     .type = SCENARIO_T_SIZE,
     SCENARIO_AT(struct scenario_image, size),
     .flags = SCENARIO_F_REQUIRED,
     .min = "1B",
     .max = "64MiB",
     .doc = "size of the update image (bytes, KiB, MiB)"},
    {.key = "version",
     .type = SCENARIO_T_VERSION,
     SCENARIO_AT(struct scenario_image, version),
     .def = "0.0.0+0",
     .doc = "MCUboot image version MAJOR.MINOR.REVISION[+BUILD]"},
};

static const struct scenario_schema image_schema = {.noun = "image",
                                                    .size = sizeof(struct scenario_image),
                                                    .n_fields = sizeof(image_fields) /
                                                                sizeof(image_fields[0]),
                                                    .fields = image_fields};

static const struct scenario_field demo_fields[] = {
    {.key = "mean_start",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_demo, mean_start),
     .def = "10min",
     .min = "0ns",
     .doc = "mean of the exponential delay before a device starts its update"},
    {.key = "mean_duration",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_demo, mean_duration),
     .def = "2min",
     .min = "1ns",
     .doc = "mean of the exponential duration of one update"},
    {.key = "failure",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct scenario_demo, failure),
     .def = "2%",
     .min = "0%",
     .max = "100%",
     .doc = "probability that an update fails"},
};

static const struct scenario_schema demo_schema = {.noun = "demo",
                                                   .size = sizeof(struct scenario_demo),
                                                   .n_fields =
                                                       sizeof(demo_fields) / sizeof(demo_fields[0]),
                                                   .fields = demo_fields};

static const struct scenario_field group_fields[] = {
    {.key = "group",
     .type = SCENARIO_T_NAME,
     SCENARIO_AT(struct scenario_group, name),
     .flags = SCENARIO_F_REQUIRED | SCENARIO_F_UNIQUE,
     .doc = "name of the device group, unique; --set addresses it as devices.NAME.KEY"},
    {.key = "count",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_group, count),
     .flags = SCENARIO_F_REQUIRED,
     .min = "1",
     .max = "10000000",
     .doc = "number of devices in the group"},
    {.key = "board",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_group, board),
     .def = "nrf52840dk",
     .names = board_names,
     .doc = "board: flash map and chip profiles (models/flash/map.h)"},
    {.key = "bootloader",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_group, bootloader),
     .def = "swap-move",
     .names = bootloader_names,
     .doc = "MCUboot upgrade mode"},
};

static const struct scenario_schema group_schema = {.noun = "device group",
                                                    .size = sizeof(struct scenario_group),
                                                    .n_fields = sizeof(group_fields) /
                                                                sizeof(group_fields[0]),
                                                    .fields = group_fields};

static const struct scenario_field scenario_fields[] = {
    {.key = "name",
     .type = SCENARIO_T_NAME,
     SCENARIO_AT(struct scenario, name),
     .flags = SCENARIO_F_REQUIRED,
     .doc = "scenario name; results go to results/NAME.db"},
    {.key = "seed",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario, seed),
     .def = "1",
     .min = "0",
     .max = "18446744073709551615",
     .doc = "root of every random stream"},
    {.key = "until",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario, until),
     .def = "24h",
     .min = "1ns",
     .doc = "simulated-time limit"},
    {.key = "record",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario, record),
     .def = "attempts",
     .names = record_names,
     .doc = "how much the recorder writes"},
    {.key = "image",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario, image),
     .flags = SCENARIO_F_REQUIRED,
     .sub = &image_schema,
     .doc = "the update image"},
    {.key = "demo",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario, demo),
     .sub = &demo_schema,
     .doc = "pipeline-demo model, until the DFU models land"},
    {.key = "devices",
     .type = SCENARIO_T_LIST,
     SCENARIO_AT(struct scenario, groups),
     .count_offset = offsetof(struct scenario, n_groups),
     .flags = SCENARIO_F_REQUIRED,
     .min = "1",
     .sub = &group_schema,
     .doc = "the device groups of the fleet"},
};

static const struct scenario_schema root_schema = {.noun = "scenario",
                                                   .size = sizeof(struct scenario),
                                                   .n_fields = sizeof(scenario_fields) /
                                                               sizeof(scenario_fields[0]),
                                                   .fields = scenario_fields};

/* ---- names ------------------------------------------------------------------------- */

const char *scenario_board_name(enum scenario_board b)
{
    return (unsigned)b < SCENARIO_BOARD_COUNT ? board_names[b] : "?";
}

const char *scenario_bootloader_name(enum scenario_bootloader b)
{
    return (unsigned)b < SCENARIO_BOOT_COUNT ? bootloader_names[b] : "?";
}

const char *scenario_record_name(enum scenario_record r)
{
    return (unsigned)r <= SCENARIO_RECORD_CHUNKS ? record_names[r] : "?";
}

/* ---- loading ----------------------------------------------------------------------- */

/* Parse, override and bind into *out (zeroed). Reports into rep. */
static int load(const char *text, size_t len, const char *const *overrides, size_t n_overrides,
                struct scenario *out, struct scenario_report *rep)
{
    struct scenario_src src = {.name = out->path};
    struct scenario_node *root = NULL;
    char want[256];
    int bad = 0;

    int rc = scenario_tree_parse(text, len, &src, &root, rep);
    if (rc != 0)
        return rc;
    snprintf(want, sizeof(want), "a map with keys: ");
    for (size_t i = 0; i < root_schema.n_fields; i++)
        snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s", i ? ", " : "",
                 root_schema.fields[i].key);
    if (root == NULL) {
        scenario_report_error(rep, src.name, 1, 1, NULL, "the scenario is empty (expected %s)",
                              want);
        return SIM_EINVAL;
    }
    if (root->kind != SCENARIO_NODE_MAP) {
        scenario_report_error(rep, src.name, root->line, root->col, NULL,
                              "the scenario must be a map (%s), not %s", want,
                              root->kind == SCENARIO_NODE_SEQ ? "a list" : "a single value");
        rc = SIM_EINVAL;
        goto done;
    }
    for (size_t i = 0; i < n_overrides; i++) {
        rc = scenario_override_apply(root, &root_schema, overrides[i], (unsigned)i + 1, rep);
        if (rc == SIM_ENOMEM)
            goto done;
        if (rc != 0)
            bad = rc;
    }
    rc = scenario_schema_bind(&root_schema, root, root, out, rep);
    if (rc == 0)
        rc = bad;
done:
    scenario_tree_free(root);
    return rc;
}

static int copy_overrides(struct scenario *s, const char *const *overrides, size_t n)
{
    if (n == 0)
        return 0;
    s->overrides = calloc(n, sizeof(*s->overrides));
    if (s->overrides == NULL)
        return SIM_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        s->overrides[i] = strdup(overrides[i]);
        if (s->overrides[i] == NULL)
            return SIM_ENOMEM;
        s->n_overrides = i + 1;
    }
    return 0;
}

int scenario_load_text(const char *path, const char *text, size_t len, const char *const *overrides,
                       size_t n_overrides, struct scenario *out, struct sim_diag *diag)
{
    struct scenario_report rep;
    int rc = SIM_ENOMEM;

    memset(out, 0, sizeof(*out));
    scenario_report_init(&rep, path ? path : "-");
    out->path = strdup(path ? path : "-");
    out->text = malloc(len + 1);
    if (out->path == NULL || out->text == NULL)
        goto fail;
    if (len > 0)
        memcpy(out->text, text, len);
    out->text[len] = '\0';
    out->text_len = len;
    rc = load(text, len, overrides, n_overrides, out, &rep);
    if (rc != 0)
        goto fail;
    rc = copy_overrides(out, overrides, n_overrides);
    if (rc != 0)
        goto fail;
    return 0;
fail:
    scenario_report_flush(&rep, diag);
    if (rc == SIM_ENOMEM)
        sim_diag_add(diag, "%s: out of memory while loading the scenario", path ? path : "-");
    scenario_fini(out);
    return rc;
}

int scenario_load(const char *path, const char *const *overrides, size_t n_overrides,
                  struct scenario *out, struct sim_diag *diag)
{
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        sim_diag_add(diag, "%s: cannot open the scenario: %s", path, strerror(e));
        return e == ENOENT ? SIM_ENOENT : SIM_EIO;
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            char *t = realloc(text, cap);
            if (t == NULL) {
                sim_diag_add(diag, "%s: out of memory reading the scenario", path);
                rc = SIM_ENOMEM;
                goto fail;
            }
            text = t;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        sim_diag_add(diag, "%s: cannot read the scenario", path);
        rc = SIM_EIO;
        goto fail;
    }
    rc = scenario_load_text(path, text ? text : "", len, overrides, n_overrides, out, diag);
fail:
    fclose(f);
    free(text);
    return rc;
}

void scenario_fini(struct scenario *s)
{
    if (s == NULL)
        return;
    scenario_schema_free(&root_schema, s);
    for (size_t i = 0; i < s->n_overrides; i++)
        free(s->overrides[i]);
    free(s->overrides);
    free(s->path);
    free(s->text);
    memset(s, 0, sizeof(*s));
}

void scenario_visit(const struct scenario *s, scenario_visit_fn fn, void *ctx)
{
    scenario_schema_visit(&root_schema, s, fn, ctx);
}
