/* tests/test_fw_config.c - firmware module combinations the real build refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "models/fw/config.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct ccase {
    const char *name;
    const char *upstream;
    struct fw_config cfg;
    int want;
    const char *want_text; /* substring of the message, NULL = no message */
};

static const struct ccase cases[] = {
    {"nRF Desktop defaults are accepted", "", {true, false, true, true, true, true}, 0, NULL},
    {"dfu_mcumgr together with CAF ble_smp is refused",
     "UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c @v2.9.0 "
     "(BUILD_ASSERT(!IS_ENABLED(CONFIG_CAF_BLE_SMP)))",
     {true, true, false, false, true, true},
     SIM_EINVAL,
     "cannot be enabled together"},
    {"CAF ble_smp alone is accepted", "", {false, true, false, false, true, true}, 0, NULL},
    {"CAF ble_smp without the Bluetooth transport is refused",
     "UPSTREAM: nrfconnect/sdk-nrf: subsys/caf/modules/Kconfig.ble_smp @v2.9.0 "
     "(depends on MCUMGR_TRANSPORT_BT)",
     {false, true, false, false, true, false},
     SIM_EINVAL,
     "Bluetooth transport"},
    {"dfu_mcumgr over serial without BLE is accepted",
     "",
     {true, false, false, false, false, false},
     0,
     NULL},
};

static void test_config_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct ccase *c = &cases[i];
        struct sim_diag d;
        sim_diag_init(&d);
        int rc = fw_config_check(&c->cfg, "s.yaml:3:5: devices[0].firmware", &d);
        bool text_ok = c->want_text
                           ? strstr(d.text, c->want_text) != NULL &&
                                 strncmp(d.text, "s.yaml:3:5: devices[0].firmware: ", 33) == 0
                           : d.n_messages == 0;
        if (rc != c->want || !text_ok) {
            print_error("case \"%s\" %s: rc %d want %d, diag \"%s\"\n", c->name, c->upstream, rc,
                        c->want, d.text);
            fail();
        }
    }
}

static void test_null_diag_and_where(void **state)
{
    (void)state;
    struct fw_config c = fw_config_default();
    assert_int_equal(fw_config_check(&c, NULL, NULL), 0);
    c.ble_smp = true;
    assert_int_equal(fw_config_check(&c, NULL, NULL), SIM_EINVAL);
    struct sim_diag d;
    sim_diag_init(&d);
    c.transport_bt = false;
    assert_int_equal(fw_config_check(&c, NULL, &d), SIM_EINVAL);
    assert_int_equal(d.n_messages, 2); /* every problem is reported, not just the first */
    assert_int_equal(strncmp(d.text, "firmware: ", 10), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_table),
        cmocka_unit_test(test_null_diag_and_where),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
