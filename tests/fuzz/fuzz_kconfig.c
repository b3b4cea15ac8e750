/* tests/fuzz/fuzz_kconfig.c - libFuzzer target: the Kconfig parser and mapping
 * (models/fw/kconfig.h) on any text as a .config or prj.conf.
 *
 * The input is parsed with fw_kconfig_parse, then mapped as an application's file and as
 * MCUboot's. A finding: a crash, a sanitizer report, or an abort() below: a refusal
 * without a message, an entry that is not a CONFIG_ symbol or sits on a line the input
 * does not have, a string value on a non-string entry, a mapped setting without the entry
 * that set it, or more modelled and ignored entries than the file holds. Seeds:
 * tests/fuzz/seeds/fuzz_kconfig (the shipped example files). Build and run:
 * ./setup.sh fuzz [SECONDS] (see tests/fuzz/README.md).
 */
#include "models/fw/kconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    struct fw_kconfig k;
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = fw_kconfig_parse((const char *)data, size, "fuzz.conf", &k, &d);
    if (rc != 0 && rc != SIM_ENOMEM && d.len == 0)
        abort(); /* refused without saying why */
    if (rc != 0) {
        fw_kconfig_free(&k);
        return 0;
    }
    for (size_t i = 0; i < k.n; i++) {
        const struct fw_kconfig_entry *e = &k.e[i];
        if (strncmp(e->symbol, "CONFIG_", 7) != 0 || e->symbol[7] == '\0' || e->line < 1 ||
            e->line > lines || e->col < 1 || e->text == NULL ||
            (e->kind == FW_KCONFIG_STRING) != (e->s != NULL))
            abort();
        if (fw_kconfig_find(&k, e->symbol) == NULL)
            abort();
    }
    for (int mcuboot = 0; mcuboot < 2; mcuboot++) {
        struct fw_kconfig_map m;
        sim_diag_init(&d);
        rc = fw_kconfig_map(&k, mcuboot, &m, &d);
        if (rc != 0 && d.len == 0)
            abort();
        if (m.n_applied + m.n_ignored != k.n)
            abort();
        /* A setting comes from one of the file's entries, or (from NULL) from what a
         * whole generated .config does not name. */
        for (int s = 0; s < FW_KS_COUNT; s++) {
            const struct fw_kconfig_entry *from = m.s[s].from;
            if (!m.s[s].set)
                continue;
            if (from == NULL ? !(k.generated && !mcuboot)
                             : k.n == 0 || from < k.e || from >= k.e + k.n)
                abort();
        }
    }
    fw_kconfig_free(&k);
    return 0;
}
