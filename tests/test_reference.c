/* tests/test_reference.c - docs/scenario-reference.md is what `dfusim keys --markdown` writes
 * from the tables the scenario loader binds with: a declaration changed without
 * regenerating the file fails here, with the first line that differs. */
#include "cli_capture.h"
#include "models/fleet/settings.h"
#include "sim/cli/cli.h"
#include "sim/error.h"
#include "sim/scenario.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define SRC DFUSIM_SOURCE_DIR

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *n = fread(buf, 1, (1 << 20) - 1, f);
    buf[*n] = '\0';
    fclose(f);
    return buf;
}

/* The reference as `dfusim keys` writes it (markdown: as --markdown); free it. */
static char *reference(bool markdown)
{
    char *gen = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&gen, &len);
    assert_non_null(f);
    scenario_reference_write(f, &fleet_settings_schema, markdown);
    fclose(f);
    return gen;
}

/* The first line where a and b differ (1-based), 0 when equal. */
static size_t first_difference(const char *a, const char *b)
{
    size_t line = 1;
    for (; *a && *a == *b; a++, b++)
        line += *a == '\n';
    return *a == *b ? 0 : line;
}

static void reference_file_is_current(void **state)
{
    (void)state;
    char *gen = reference(true);
    size_t n = 0;
    char *file = slurp(SRC "/docs/scenario-reference.md", &n);
    if (file == NULL)
        fail_msg("docs/scenario-reference.md is missing: build/dfusim keys --markdown > "
                 "docs/scenario-reference.md");
    size_t line = first_difference(gen, file);
    if (line != 0)
        fail_msg("docs/scenario-reference.md is stale from line %zu: regenerate it with "
                 "build/dfusim keys --markdown > docs/scenario-reference.md",
                 line);
    /* the comparison sees a one-byte change */
    file[n / 2] ^= 1;
    assert_int_not_equal(first_difference(gen, file), 0);
    free(file);
    free(gen);
}

/* Every key the loader accepts is in the reference: a few from each level. */
static void reference_names_every_level(void **state)
{
    (void)state;
    char *gen = reference(true);
    static const char *const keys[] = {"`seed`",
                                       "`image.size`",
                                       "`client.window`",
                                       "`devices[].board`",
                                       "`devices[].link.interval`",
                                       "`devices[].link.loss.good`",
                                       "`devices[].firmware.netbuf.count`",
                                       "`gateways[].dwell`",
                                       "`rollout.waves`",
                                       "`faults[].during`",
                                       "`sweep[].key`",
                                       "`check.tolerances[].metric`"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strstr(gen, keys[i]) == NULL)
            fail_msg("%s is not in the reference", keys[i]);
    /* a conditional key says when it applies */
    assert_non_null(strstr(gen, "only when kind is power-loss"));
    free(gen);
}

/* dfusim keys and dfusim list through the CLI. */
static void keys_and_list_verbs(void **state)
{
    (void)state;
    static char out_text[1 << 17], err_text[4096];
    const char *argv[][3] = {{"dfusim", "list", "boards"},
                             {"dfusim", "list", "bootloaders"},
                             {"dfusim", "list", "clients"},
                             {"dfusim", "keys", NULL}};
    const char *want[] = {"nrf52840dk-ext  nrf52840",
                          "swap-offset        CONFIG_BOOT_SWAP_USING_OFFSET",
                          "smpclient               Python smpclient", "devices[].link.phy (enum;"};
    for (int i = 0; i < 4; i++) {
        int code = cli_capture(argv[i][2] ? 3 : 2, argv[i], out_text, sizeof(out_text), err_text,
                               sizeof(err_text));
        assert_int_equal(code, SIM_EXIT_OK);
        if (strstr(out_text, want[i]) == NULL)
            fail_msg("%s %s: no '%s' in:\n%s", argv[i][1], argv[i][2] ? argv[i][2] : "", want[i],
                     out_text);
    }
    const char *bad[] = {"dfusim", "list", "chips"};
    assert_int_equal(cli_capture(3, bad, out_text, sizeof(out_text), err_text, sizeof(err_text)),
                     SIM_EXIT_USAGE);
}

/* Every setting declared unverified is in docs/model.md's "Unverified parameters" table,
 * by its key: the one list of assumptions a user reads (rule 11). The keys come from the
 * plain reference, whose lines are "KEY (TYPE; ...): MEANING [source: unverified...]". */
static void unverified_settings_are_in_model_md(void **state)
{
    (void)state;
    char *gen = reference(false);
    size_t n = 0;
    char *doc = slurp(SRC "/docs/model.md", &n);
    assert_non_null(doc);
    const char *table = strstr(doc, "## Unverified parameters");
    assert_non_null(table);
    unsigned found = 0;
    for (char *line = strtok(gen, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        /* a gateway's client inherits the top-level client's defaults: listed once */
        if (strstr(line, "[source: unverified") == NULL ||
            strncmp(line, "gateways[].client.", 18) == 0)
            continue;
        char key[160];
        snprintf(key, sizeof(key), "`%.*s`", (int)strcspn(line, " "), line);
        if (strstr(table, key) == NULL)
            fail_msg("%s is declared unverified but not in docs/model.md "
                     "\"Unverified parameters\"",
                     key);
        found++;
    }
    assert_true(found >= 5); /* the scan saw the declarations (hash_rate, sig_time, ...) */
    free(doc);
    free(gen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_file_is_current),
        cmocka_unit_test(reference_names_every_level),
        cmocka_unit_test(keys_and_list_verbs),
        cmocka_unit_test(unverified_settings_are_in_model_md),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
