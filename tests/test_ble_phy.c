/* tests/test_ble_phy.c - air time per LL PDU per PHY, and the per-PDU loss models.
 * Expected values are written as the formula derived from the bit counts and rates of
 * Core Vol 6 Part B §2.1 and Part A §3.2, byte by byte:
 * 1M: (preamble 1 + AA 4 + header 2 + P + MIC 4 + CRC 3) x 8 us; 2M: (2 + 4 + 2 + P + 4
 * + 3) x 4 us; Coded: 80 + 256 + 16 + 24 us + (2 + P + 4 + 3) x 8 x S us + TERM2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "models/ble/loss.h"
#include "models/ble/phy.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define US           1000LL

/* EVIDENCE-OF: the air-time formula above; the 1M/27 B, 1M/251 B and Coded S8 values are
 * the Core specification's connMaxTxTime limits */
static const struct {
    const char *name;
    enum ble_phy phy;
    unsigned payload;
    bool enc;
    int64_t want_ns;
    int64_t table_us; /* the value worked out by hand from the formula, 0 if none */
} air_cases[] = {
    {"1M empty PDU has no MIC", BLE_PHY_1M, 0, true, (1 + 4 + 2 + 0 + 3) * 8 * US, 80},
    {"1M 27 B encrypted", BLE_PHY_1M, 27, true, (1 + 4 + 2 + 27 + 4 + 3) * 8 * US, 328},
    {"1M 251 B encrypted", BLE_PHY_1M, 251, true, (1 + 4 + 2 + 251 + 4 + 3) * 8 * US, 2120},
    {"1M 251 B plain is 32 us shorter", BLE_PHY_1M, 251, false, (1 + 4 + 2 + 251 + 3) * 8 * US,
     2120 - 32},
    {"2M empty PDU", BLE_PHY_2M, 0, true, (2 + 4 + 2 + 0 + 3) * 4 * US, 44},
    {"2M 27 B encrypted", BLE_PHY_2M, 27, true, (2 + 4 + 2 + 27 + 4 + 3) * 4 * US, 168},
    {"2M 251 B encrypted", BLE_PHY_2M, 251, true, (2 + 4 + 2 + 251 + 4 + 3) * 4 * US, 1064},
    {"2M 251 B plain is 16 us shorter", BLE_PHY_2M, 251, false, (2 + 4 + 2 + 251 + 3) * 4 * US,
     1064 - 16},
    {"2M 100 B encrypted", BLE_PHY_2M, 100, true, (2 + 4 + 2 + 100 + 4 + 3) * 4 * US, 0},
    {"Coded S2 empty PDU", BLE_PHY_CODED_S2, 0, true,
     (80 + 256 + 16 + 24 + (2 + 0 + 3) * 8 * 2 + 6) * US, 462},
    {"Coded S2 27 B encrypted", BLE_PHY_CODED_S2, 27, true,
     (80 + 256 + 16 + 24 + (2 + 27 + 4 + 3) * 8 * 2 + 6) * US, 958},
    {"Coded S2 251 B encrypted", BLE_PHY_CODED_S2, 251, true,
     (80 + 256 + 16 + 24 + (2 + 251 + 4 + 3) * 8 * 2 + 6) * US, 4542},
    {"Coded S8 empty PDU", BLE_PHY_CODED_S8, 0, true,
     (80 + 256 + 16 + 24 + (2 + 0 + 3) * 8 * 8 + 24) * US, 720},
    {"Coded S8 27 B encrypted", BLE_PHY_CODED_S8, 27, true,
     (80 + 256 + 16 + 24 + (2 + 27 + 4 + 3) * 8 * 8 + 24) * US, 2704},
    {"Coded S8 251 B encrypted", BLE_PHY_CODED_S8, 251, true,
     (80 + 256 + 16 + 24 + (2 + 251 + 4 + 3) * 8 * 8 + 24) * US, 17040},
};

static void test_air_time_per_pdu_equals_the_formula(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(air_cases); i++) {
        int64_t got = ble_phy_pdu_ns(air_cases[i].phy, air_cases[i].payload, air_cases[i].enc);
        if (got != air_cases[i].want_ns)
            fail_msg("%s: got %lld ns, want %lld", air_cases[i].name, (long long)got,
                     (long long)air_cases[i].want_ns);
        if (air_cases[i].table_us)
            assert_int_equal(got, air_cases[i].table_us * US);
    }
}

/* EVIDENCE-OF (derived): exchange times = data + T_IFS + empty + T_IFS; they agree with the
 * Goodix BLE wiki's 780 kbps on 1M */
static void test_exchange_time_matches_the_throughput_table(void **state)
{
    (void)state;
    static const struct {
        enum ble_phy phy;
        unsigned payload;
        int64_t want_us;
    } c[] = {{BLE_PHY_1M, 27, 708},         {BLE_PHY_1M, 251, 2500},
             {BLE_PHY_2M, 27, 512},         {BLE_PHY_2M, 251, 1408},
             {BLE_PHY_CODED_S2, 251, 5304}, {BLE_PHY_CODED_S8, 251, 18060}};
    for (size_t i = 0; i < ARRAY_LEN(c); i++)
        assert_int_equal(ble_phy_exchange_ns(c[i].phy, c[i].payload, true), c[i].want_us * US);
}

static void test_bad_phy_or_payload_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(ble_phy_pdu_ns(BLE_PHY_2M, 252, true), -1);
    assert_int_equal(ble_phy_pdu_ns(BLE_PHY_COUNT, 10, true), -1);
    assert_int_equal(ble_phy_exchange_ns(BLE_PHY_COUNT, 10, true), -1);
    assert_string_equal(ble_phy_name(BLE_PHY_CODED_S8), "coded-s8");
    assert_string_equal(ble_phy_name(BLE_PHY_COUNT), "?");
}

/* EVIDENCE-OF: Gilbert 1960, Elliott 1963 (as Pieper and Voran, NTIA ITS 3298): P_B = p / (p + r);
 * loss = P_B h + (1 - P_B)(1 - k) */
static void test_loss_rate_matches_the_stationary_probability(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        struct ble_loss_cfg cfg;
        double want;
    } c[] = {
        {"none never loses", {BLE_LOSS_NONE, 0.5, 0.5, 0.5, 0.5}, 0.0},
        {"bernoulli loses per_good", {BLE_LOSS_BERNOULLI, 0.02, 0.9, 0.1, 0.1}, 0.02},
        {"gilbert-elliott: P_B = 0.01 / (0.01 + 0.2)",
         {BLE_LOSS_GILBERT_ELLIOTT, 0.005, 0.5, 0.01, 0.2},
         0.01 / 0.21 * 0.5 + 0.2 / 0.21 * 0.005},
    };
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct sim_rng rng;
        struct ble_loss s;
        sim_rng_init(&rng, 7, 1, SIM_RNG_TEST);
        ble_loss_init(&s);
        assert_int_equal(ble_loss_cfg_check(&c[i].cfg), 0);
        const int n = 1000000;
        int lost = 0;
        for (int k = 0; k < n; k++)
            lost += ble_loss_step(&s, &c[i].cfg, &rng);
        double rate = (double)lost / n;
        if (rate < c[i].want * 0.9 - 1e-9 || rate > c[i].want * 1.1 + 1e-9)
            fail_msg("%s: rate %g, want %g", c[i].name, rate, c[i].want);
    }
}

static void test_gilbert_elliott_losses_come_in_bursts(void **state)
{
    (void)state;
    /* Mean bad dwell 1 / r = 5 steps with h = 1: runs of losses average about 5. */
    struct ble_loss_cfg cfg = {BLE_LOSS_GILBERT_ELLIOTT, 0.0, 1.0, 0.01, 0.2};
    struct sim_rng rng;
    struct ble_loss s;
    sim_rng_init(&rng, 9, 2, SIM_RNG_TEST);
    ble_loss_init(&s);
    long runs = 0, losses = 0;
    bool prev = false;
    for (int k = 0; k < 1000000; k++) {
        bool x = ble_loss_step(&s, &cfg, &rng);
        losses += x;
        runs += x && !prev;
        prev = x;
    }
    double mean_run = (double)losses / (double)runs;
    assert_true(mean_run > 4.5 && mean_run < 5.5);
}

static void test_probability_outside_0_1_is_a_range_error(void **state)
{
    (void)state;
    struct ble_loss_cfg bad = {BLE_LOSS_GILBERT_ELLIOTT, 0.0, 1.5, 0.0, 0.0};
    assert_int_equal(ble_loss_cfg_check(&bad), SIM_ERANGE);
    bad = (struct ble_loss_cfg){(enum ble_loss_model)9, 0, 0, 0, 0};
    assert_int_equal(ble_loss_cfg_check(&bad), SIM_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_air_time_per_pdu_equals_the_formula),
        cmocka_unit_test(test_exchange_time_matches_the_throughput_table),
        cmocka_unit_test(test_bad_phy_or_payload_is_rejected),
        cmocka_unit_test(test_loss_rate_matches_the_stationary_probability),
        cmocka_unit_test(test_gilbert_elliott_losses_come_in_bursts),
        cmocka_unit_test(test_probability_outside_0_1_is_a_range_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
