/* tests/fuzz/fuzz_scenario.c - libFuzzer target: the YAML scenario loader and the checks of
 * `dfusim validate` (scenario_load_text, then fleet_world_check, as sim/cli/validate.c
 * does), with an optional --set override; and, for a scenario that validates and is small,
 * building its world as `dfusim run` would (fleet_world_from_scenario).
 *
 * Input: when it starts with '@', its first line (after the '@') is one --set KEY=VALUE
 * override and the rest is the YAML text; otherwise all of it is the YAML text.
 * A finding: a crash, a sanitizer report, a load or check that fails without a message,
 * or a scenario that validates but whose world does not build (validate and run must
 * agree; issue 13). Seeds: the shipped scenarios (scenarios/, tests/scenarios/), copied by
 * ./setup.sh fuzz. Build and run: ./setup.sh fuzz [SECONDS] (see tests/fuzz/README.md).
 */
#include "models/fleet/world.h"
#include "models/fleet/settings.h"
#include "sim/engine.h"
#include "sim/error.h"
#include "sim/scenario.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUILD_DEVICES 64 /* build worlds only this small: fast, and enough */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_say_why(int rc, const struct sim_diag *d)
{
    if (rc != 0 && d->n_messages == 0)
        abort(); /* refused without a message: the user could not fix it */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char set[256];
    const char *overrides[1] = {set};
    size_t n_overrides = 0;
    const char *text = (const char *)data;
    size_t len = size;
    if (size > 0 && data[0] == '@') {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t n = nl != NULL ? (size_t)(nl - data) - 1 : size - 1;
        if (n >= sizeof(set) || memchr(data + 1, '\0', n) != NULL)
            return 0;
        memcpy(set, data + 1, n);
        set[n] = '\0';
        n_overrides = 1;
        text = nl != NULL ? (const char *)nl + 1 : text + size;
        len = nl != NULL ? size - (size_t)(nl - data) - 1 : 0;
    }
    struct scenario s;
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = scenario_load_text("fuzz.yaml", &fleet_settings_schema, text, len, overrides,
                                n_overrides, &s, &d);
    must_say_why(rc, &d);
    if (rc != 0)
        return 0;
    rc = fleet_world_check(&s, &d);
    must_say_why(rc, &d);
    uint64_t devices = 0;
    for (size_t g = 0; g < fleet_settings_of(&s)->n_groups; g++)
        devices += fleet_settings_of(&s)->groups[g].count;
    if (rc == 0 && devices <= MAX_BUILD_DEVICES && s.n_points == 1) {
        struct sim_engine *e = sim_engine_new(0);
        struct fleet_world *w = NULL;
        if (e == NULL)
            abort();
        sim_diag_init(&d);
        rc = fleet_world_from_scenario(&s, e, NULL, &w, &d);
        if (rc != 0 && rc != SIM_ENOMEM) {
            fprintf(stderr, "validates but does not build: %s\n", d.text);
            abort();
        }
        fleet_world_free(w);
        sim_engine_free(e);
    }
    scenario_fini(&s);
    return 0;
}
