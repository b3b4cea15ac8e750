/* tests/test_metric_cases.c - the cases of issue 12 ("Numbers a release engineer can
 * trust"), each run end to end and read through report/summary.c, the one implementation of
 * every metric users read:
 *  - goodput: a window that resends reads below one that does not (resent bytes never count
 *    twice), and bytes resent are their own metric;
 *  - time to updated is per device across attempts: with client.swap_wait 0 the first
 *    attempt times out during the swap and the device is updated by the second;
 *  - attribution: phones that leave mid-DFU never make a downtime negative. */
#include "report/summary.h"
#include "cli_capture.h"
#include "sim/cli/cli.h"
#include "sim/error.h"

#include <math.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define SRC DFUSIM_SOURCE_DIR

static char out_text[1 << 16], err_text[1 << 14];

static void run(const char *scenario, const char *db, const char *set1, const char *set2)
{
    const char *argv[] = {"dfusim", "run", scenario, "-q", "-o", db, "--set", set1, "--set", set2};
    int argc = set1 == NULL ? 6 : set2 == NULL ? 8 : 10;
    int code = cli_capture(argc, argv, out_text, sizeof(out_text), err_text, sizeof(err_text));
    if (code != SIM_EXIT_OK)
        fail_msg("%s: exit %d: %s", scenario, code, err_text);
}

static struct report_summary *load(const char *db)
{
    struct report_summary *s = NULL;
    char msg[512];
    if (report_summary_load(db, NULL, &s, msg, sizeof(msg)) != 0)
        fail_msg("%s", msg);
    return s;
}

static const struct report_row *row_of(const struct report_summary *s, const char *point,
                                       const char *group)
{
    for (size_t i = 0; i < s->n_rows; i++)
        if (strstr(s->rows[i].point, point) != NULL && strcmp(s->rows[i].group, group) == 0)
            return &s->rows[i];
    fail_msg("no row %s / %s", point, group);
    return NULL;
}

static double query(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    double v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* On the 5 % lossy link of scenarios/sweep-window.yaml with 2 net_bufs, window 5 overruns
 * the device's buffers (a request that finds none is dropped, the client resends it after
 * its timeout) and stop-and-wait does not: window 5's goodput must be the lower one. Goodput
 * from first principles: the image (262,144 B) over each upload's time, averaged; bytes sent
 * over the same time would be higher by exactly the resent share. */
static void goodput_does_not_count_resent_bytes(void **state)
{
    (void)state;
    char db[300];
    snprintf(db, sizeof(db), "%s/test_cases_window_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    run(SRC "/scenarios/sweep-window.yaml", db, "replications=1",
        "devices.mice.firmware.netbuf.count=2");
    struct report_summary *s = load(db);
    const struct report_row *w1 = row_of(s, "client.window=1", "mice");
    const struct report_row *w5 = row_of(s, "client.window=5", "mice");
    print_message("window 1: goodput %.2f kB/s, resent %.1f kB; window 5: %.2f kB/s, %.1f kB\n",
                  w1->mean[REPORT_GOODPUT_MEAN], w1->mean[REPORT_RESENT_KB],
                  w5->mean[REPORT_GOODPUT_MEAN], w5->mean[REPORT_RESENT_KB]);
    assert_true(w5->mean[REPORT_RESENT_KB] > 0);
    assert_true(w1->mean[REPORT_RESENT_KB] == 0);
    assert_true(w5->mean[REPORT_GOODPUT_MEAN] < w1->mean[REPORT_GOODPUT_MEAN]);
    /* the same mean by hand from the attempts of point 5 */
    double hand = query(db, "SELECT avg(262144 / 1000.0 / ((upload_end_ns - upload_start_ns)"
                            " / 1e9)) FROM dfu_attempts JOIN runs USING (run_id) WHERE"
                            " sweep_point = 5 AND upload_end_ns IS NOT NULL");
    assert_true(fabs(w5->mean[REPORT_GOODPUT_MEAN] - hand) < 1e-9);
    /* what the old definition read: bytes sent over the upload time, higher than the
     * goodput of the same uploads by the resent share */
    double sent = query(db, "SELECT avg(bytes_sent / 1000.0 / ((upload_end_ns - upload_start_ns)"
                            " / 1e9)) FROM dfu_attempts JOIN runs USING (run_id) WHERE"
                            " sweep_point = 5 AND upload_end_ns IS NOT NULL");
    assert_true(sent > hand * 1.1);
    report_summary_free(s);
    unlink(db);
}

/* swap_wait 0 on swap-move, 384 KiB: the first attempt times out during the 38 s swap, the
 * retry only confirms. The device's time to updated spans both: from the first attempt's
 * start (its upload begins at once) through the upload and the swap to the confirmation,
 * which follows the swap by under 2 s; 2 attempts; the successful attempt alone (reconnect,
 * five commands, the confirm) takes about 1 s: 0.56 s at the fixed 7.5 ms interval of
 * before, its interval-bound part x 1.5 at the 11.25 ms Android HIGH grants
 * (models/client/central.h) = 0.84 s, plus up to 15 ms of host latency per request. */
static void time_to_updated_spans_every_attempt(void **state)
{
    (void)state;
    char db[300];
    snprintf(db, sizeof(db), "%s/test_cases_swapwait_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    run(SRC "/scenarios/swap-vs-xip.yaml", db, "client.swap_wait=0s", "replications=1");
    struct report_summary *s = load(db);
    const struct report_row *r = row_of(s, "image.size=384KiB", "52840-swap-move");
    print_message("time to updated %.2f s, attempts %.2f, successful attempt %.2f s, swap "
                  "%.2f s\n",
                  r->mean[REPORT_TTU_MEAN], r->mean[REPORT_ATTEMPTS_MEAN],
                  r->mean[REPORT_ATTEMPT_MEAN], r->mean[REPORT_SWAP_MEAN]);
    assert_true(r->mean[REPORT_UPDATED] == 8 && r->mean[REPORT_FAILED] == 0);
    assert_true(r->mean[REPORT_ATTEMPTS_MEAN] == 2);
    double upload = query(db, "SELECT avg((upload_end_ns - upload_start_ns) / 1e9) FROM"
                              " v_attempts WHERE group_name = '52840-swap-move' AND outcome ="
                              " 'timeout' AND image_bytes = 393216");
    double ttu = r->mean[REPORT_TTU_MEAN], swap = r->mean[REPORT_SWAP_MEAN];
    assert_true(ttu > upload + swap && ttu < upload + swap + 2);
    assert_true(r->mean[REPORT_ATTEMPT_MEAN] < 1.5);
    /* the swap lies inside the device's time to updated */
    assert_true(r->mean[REPORT_TTU_MEAN] > r->mean[REPORT_SWAP_MEAN] + 9);
    report_summary_free(s);
    unlink(db);
}

/* first_chunk_s_max holds the device's work at offset 0. Three nRF52840 DKs over the UART
 * (no radio to share flash time with) lose power at 20 % of their first upload, so each
 * second attempt's first chunk finds a used slot. Older mcumgr erases the whole slot there
 * (472 KiB: 118 pages of 85 ms, the datasheet maximum), today's img_mgmt only the image's
 * 30 pages (120 KiB) and the trailer's last page: the two differ by exactly 87 pages,
 * whatever the frames cost. Progressive erase erases one page at the first chunk and
 * skips the empty check. Below `record: chunks` the metric does not exist. */
static void first_chunk_holds_the_slot_erase(void **state)
{
    (void)state;
    char yaml[300], db[300];
    snprintf(yaml, sizeof(yaml), "%s/test_cases_erase_%d.yaml", DFUSIM_BINARY_DIR, (int)getpid());
    snprintf(db, sizeof(db), "%s/test_cases_erase_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    FILE *f = fopen(yaml, "w");
    assert_non_null(f);
    fputs("name: first-chunk\nrecord: chunks\n"
          "image: { size: 120KiB, version: 2.0.0, installed: 1.0.0 }\n"
          "client: { kind: smpclient, mode: upload-only, attempts: 2, retry_delay: 5s }\n"
          "devices:\n"
          "  - { group: whole, count: 1, board: nrf52840dk, firmware: { erase: "
          "whole-slot-at-start }, link: { transport: uart } }\n"
          "  - { group: needed, count: 1, board: nrf52840dk, link: { transport: uart } }\n"
          "  - { group: progressive, count: 1, board: nrf52840dk, firmware: { "
          "erase_progressively: true }, link: { transport: uart } }\n"
          "faults:\n  - { kind: power-loss, during: upload, at: 20% }\n",
          f);
    fclose(f);
    run(yaml, db, NULL, NULL);
    struct report_summary *s = load(db);
    double whole = row_of(s, "all", "whole")->mean[REPORT_FIRST_CHUNK_MAX];
    double needed = row_of(s, "all", "needed")->mean[REPORT_FIRST_CHUNK_MAX];
    double progressive = row_of(s, "all", "progressive")->mean[REPORT_FIRST_CHUNK_MAX];
    print_message("first chunk: whole slot %.6f s, as needed %.6f s, progressive %.6f s\n", whole,
                  needed, progressive);
    assert_true(whole >= 118 * 0.085 && whole < 118 * 0.085 + 0.5);
    assert_true(fabs((whole - needed) - 87 * 0.085) < 1e-6);
    assert_true(progressive >= 0.085 - 0.01 && progressive < needed);
    /* the longest of the group's first chunks: the first attempt's (empty slot) was shorter */
    assert_true(query(db, "SELECT count(*) FROM chunks WHERE seq = 0 AND offset = 0 AND"
                          " acked_ns IS NOT NULL") == 6);
    report_summary_free(s);
    unlink(db);
    run(yaml, db, "record=attempts", NULL);
    s = load(db);
    assert_true(isnan(row_of(s, "all", "whole")->mean[REPORT_FIRST_CHUNK_MAX]));
    report_summary_free(s);
    unlink(db);
    unlink(yaml);
}

/* Phones that leave mid-DFU (scenarios/fleet/phones-leave-mid-dfu.yaml): no downtime is
 * negative and the per-device downtime is the swap's, not thousands of s. (A swap after its
 * phone left, charged to the attempt that asked for the reset, is pinned down in
 * tests/test_fleet_faults.c, phone_leaving_after_the_reset_keeps_the_swap_in_its_attempt.) */
static void phones_that_leave_keep_downtime_positive(void **state)
{
    (void)state;
    char db[300];
    snprintf(db, sizeof(db), "%s/test_cases_phones_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    run(SRC "/scenarios/fleet/phones-leave-mid-dfu.yaml", db, NULL, NULL);
    assert_true(query(db, "SELECT min(up_ns - down_ns) FROM outages") > 0);
    assert_true(query(db, "SELECT count(*) FROM swaps s JOIN dfu_attempts a USING (run_id,"
                          " attempt_id) WHERE s.end_ns < a.start_ns") == 0);
    struct report_summary *s = load(db);
    const struct report_row *r = row_of(s, "all", "swap-move");
    assert_true(r->mean[REPORT_DOWNTIME_MEAN] > 30 && r->mean[REPORT_DOWNTIME_MEAN] < 45);
    assert_true(r->mean[REPORT_DOWNTIME_MEAN] >= r->mean[REPORT_SWAP_MEAN]);
    report_summary_free(s);
    unlink(db);
}

/* Gateways without a rollout run under a one-wave default rollout; the summary does not
 * report a rollout the scenario never asked for ("rollout paused" after a revert). */
static void summary_names_only_a_rollout_that_was_asked_for(void **state)
{
    (void)state;
    char db[300];
    snprintf(db, sizeof(db), "%s/test_cases_gw_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    const char *argv[] = {"dfusim", "run", SRC "/scenarios/regression/gateway-fleet.yaml", "-o",
                          db};
    assert_int_equal(cli_capture(5, argv, out_text, sizeof(out_text), err_text, sizeof(err_text)),
                     SIM_EXIT_OK);
    assert_non_null(strstr(out_text, "  gateways  "));
    assert_null(strstr(out_text, "  rollout   "));
    /* and per group, never a mean across groups */
    assert_non_null(strstr(out_text, "  group "));
    unlink(db);
}

/* A phone that never stays long enough: every visit is an attempt, far more than 64 on one
 * device (attempt numbers continue across sessions), and every one is recorded under its
 * own id (regression: ids wrapped at 64 and the run failed writing its results). */
static void a_device_may_make_any_number_of_attempts(void **state)
{
    (void)state;
    char yaml[300], db[300];
    snprintf(yaml, sizeof(yaml), "%s/test_cases_many_%d.yaml", DFUSIM_BINARY_DIR, (int)getpid());
    snprintf(db, sizeof(db), "%s/test_cases_many_%d.db", DFUSIM_BINARY_DIR, (int)getpid());
    FILE *f = fopen(yaml, "w");
    assert_non_null(f);
    fputs("name: many-attempts\nuntil: 12h\n"
          "image: { size: 384KiB, version: 2.0.0, installed: 1.0.0 }\n"
          "devices:\n  - { group: d, count: 1, board: nrf52840dk, bootloader: swap-move }\n"
          "gateways:\n  - { name: p, kind: phone, count: 1, links: 1, availability: sessions,"
          " arrival: 1min, dwell: 300ms }\n",
          f);
    fclose(f);
    run(yaml, db, NULL, NULL);
    assert_true(query(db, "SELECT attempts FROM devices") > 64);
    assert_true(query(db, "SELECT count(DISTINCT attempt_id) FROM dfu_attempts") ==
                query(db, "SELECT attempts FROM devices"));
    unlink(yaml);
    unlink(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(goodput_does_not_count_resent_bytes),
        cmocka_unit_test(time_to_updated_spans_every_attempt),
        cmocka_unit_test(first_chunk_holds_the_slot_erase),
        cmocka_unit_test(phones_that_leave_keep_downtime_positive),
        cmocka_unit_test(summary_names_only_a_rollout_that_was_asked_for),
        cmocka_unit_test(a_device_may_make_any_number_of_attempts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
