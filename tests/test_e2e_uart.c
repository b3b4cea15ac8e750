/* tests/test_e2e_uart.c - a device without BLE (RAK3172, STM32WLE5) updated over a UART:
 * the client's SMP frames in SMP serial framing (models/smp/serial.h) on a byte-timed UART
 * (models/uart/link.h), the device's SMP server, MCUboot (models/fleet, link.transport
 * uart). Issue 5 item 3; the scenario checks of link.transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "models/fleet/world.h"
#include "models/fleet/settings.h"
#include "sim/cli/cli.h"
#include "sim/engine.h"
#include "sim/error.h"
#include "sim/scenario.h"

#define SRC          DFUSIM_SOURCE_DIR
#define CLI_DIR      SRC "/tests/scenarios/cli"
#define IMAGE_SIZE   65536u
#define BAUD         115200u
#define MS(x)        ((int64_t)(x)*1000000LL)
#define SEC(x)       ((int64_t)(x)*1000000000LL)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a world from scenario text ---------------------------------------------------------- */

struct rig {
    struct scenario s;
    struct sim_engine *e;
    struct fleet_world *w;
    struct fleet_device *dev;
};

/* One RAK3172, swap-move, a 64 KiB update, `client` as the client map; link.transport is
 * left to auto (uart on this board). */
static void rig_up(struct rig *r, const char *client, const char *extra_set)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "name: uart\n"
             "until: 10min\n"
             "image: { size: 64KiB, version: 2.0.0, installed: 1.0.0 }\n"
             "client: %s\n"
             "devices:\n"
             "  - group: rak\n"
             "    count: 1\n"
             "    board: rak3172\n"
             "    bootloader: swap-move\n",
             client);
    const char *sets[1] = {extra_set};
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = scenario_load_text("uart.yaml", &fleet_settings_schema, text, strlen(text), sets,
                                extra_set ? 1 : 0, &r->s, &d);
    if (rc != 0)
        fail_msg("%s", d.text);
    r->e = sim_engine_new(0);
    assert_non_null(r->e);
    rc = fleet_world_from_scenario(&r->s, r->e, NULL, &r->w, &d);
    if (rc != 0)
        fail_msg("%s", d.text);
    fleet_world_attempt_log_set(r->w, true); /* the checks read the device's attempts */
    r->dev = fleet_world_device(r->w, 0);
    assert_non_null(r->dev);
}

static void rig_run(struct rig *r)
{
    enum sim_stop why;
    assert_int_equal(sim_engine_run(r->e, SEC(600), &why), 0);
    assert_int_equal(fleet_world_error(r->w), 0);
    assert_int_equal(why, SIM_STOP_EMPTY); /* nothing left to do: no idle UART events */
}

static void rig_down(struct rig *r)
{
    fleet_world_free(r->w);
    sim_engine_free(r->e);
    scenario_fini(&r->s);
}

static const struct fleet_device_attempt *last_attempt(const struct fleet_device *dev)
{
    const struct fleet_device_attempt *l = NULL;
    for (uint32_t i = 0; fleet_device_attempt_get(dev, i) != NULL; i++)
        l = fleet_device_attempt_get(dev, i);
    assert_non_null(l);
    return l;
}

/* ---- first principles ---------------------------------------------------------------------
 * SMP serial framing (zephyrproject-rtos/zephyr: doc/services/device_mgmt/smp_transport.rst):
 * a packet of P bytes travels as [length 2]
 * [packet P][CRC16 2], base64 in frames of at most 127 bytes: marker 2 + at most 124 base64
 * characters (93 raw bytes) + newline 1. A frame of m raw bytes is 4 x ceil(m / 3) + 3
 * bytes on the wire; 8N1 sends 10 bits per byte, so a byte takes 10 / 115200 s = 86.8 us.
 * CBOR sizes (RFC 8949): an unsigned integer or a string/bstr head is U(x) = 1 byte below
 * 24, 2 below 256, 3 below 65536, 5 above. */

static uint32_t U(uint32_t x)
{
    return x < 24 ? 1 : x < 256 ? 2 : x < 65536 ? 3 : 5;
}

struct wire {
    uint32_t frames, bytes, last_frame_bytes;
};

static struct wire serial_wire(uint32_t packet)
{
    struct wire w = {0, 0, 0};
    uint32_t raw = packet + 4;
    for (uint32_t k = 0; k < raw; k += 93) {
        uint32_t m = raw - k < 93 ? raw - k : 93;
        w.last_frame_bytes = 4 * ((m + 2) / 3) + 3;
        w.bytes += w.last_frame_bytes;
        w.frames++;
    }
    return w;
}

static int64_t wire_ns(uint32_t bytes)
{
    return (int64_t)((uint64_t)bytes * 10u * 1000000000u / BAUD);
}

/* Upload request of each client (key order in models/client/dfu.h, client_dfu_keys):
 *   smpclient:  hdr 8, map 1, "off" 4 + U(off), "data" 5 + U(d) + d; at offset 0 also
 *               "image" 6 + 1, "len" 4 + U(size), "sha" 4 + 2 + 32, "upgrade" 8 + 1.
 *   mcumgr CLI: hdr 8, map 1, "image" 6 + 1, "off" 4 + U(off), "data" 5 + U(d) + d; at
 *               offset 0 also "len" 4 + U(size), "sha" 4 + 2 + 32 ("upgrade" false is
 *               omitted: omitempty). */
static uint32_t request_len(bool cli, uint32_t off, uint32_t d)
{
    uint32_t n = 8 + 1 + 4 + U(off) + 5 + U(d) + d;
    if (cli)
        n += 6 + 1;
    if (off == 0)
        n += (cli ? 0 : 6 + 1) + 4 + U(IMAGE_SIZE) + 4 + 2 + 32 + (cli ? 0 : 8 + 1);
    return n;
}

/* Both fill the packet to the host's limit (smpclient: exact fit of max_unencoded_size =
 * 169; mcumgr CLI: shrink by the overflow to MtuOut = 512 x 3/4 - 13 = 371): the largest
 * d whose request fits, or what is left. */
static uint32_t chunk_len(bool cli, uint32_t off)
{
    uint32_t limit = cli ? 371 : 169, d = IMAGE_SIZE - off;
    while (request_len(cli, off, d) > limit)
        d--;
    return d;
}

/* Response: hdr 8, indefinite map 2 (Zephyr, non-canonical zcbor), "off" 4 + U(off); the
 * last also "match" 6 + 1 (CONFIG_IMG_ENABLE_IMAGE_CHECK). zephyrproject-rtos/zephyr:
 * doc/services/device_mgmt/smp_groups/smp_group_1.rst, grp/img_mgmt/src/img_mgmt.c. */
static uint32_t response_len(uint32_t next_off)
{
    return 8 + 2 + 4 + U(next_off) + (next_off == IMAGE_SIZE ? 6 + 1 : 0);
}

/* Device work per chunk: the SMP worker's CPU time per request (200 us, the scenario
 * default) + the flash time, no BLE slowdown (no radio). The first chunk: img_mgmt reads
 * the secondary slot to see whether it is empty (108 KiB at 8 us/KiB) and, the slot being
 * empty on a fresh device, erases nothing; with a full 32-byte sha and
 * CONFIG_IMG_ENABLE_IMAGE_CHECK it reads and hashes `len` bytes to see whether the image is
 * already there (resume by match). Every chunk programs its bytes in 8-byte double words
 * (91 us each). The last chunk reads and hashes the image again (flash_img_check).
 * Hashing runs at the slot model's hash_rate (1 MB/s). Upload handler: zephyrproject-rtos/
 * zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c (img_mgmt_upload). */
struct device_cost {
    struct flash_chip chip;
    uint32_t slot_bytes;
    uint32_t hash_rate;
};

static struct device_cost device_cost(const struct fleet_device *dev)
{
    const struct mcuboot_slots *sl = fleet_device_slots(dev);
    struct device_cost c;
    c.chip = sl->cfg->geom.chip[MCUBOOT_SWAP_SECONDARY];
    c.slot_bytes = sl->cfg->geom.n_sectors[MCUBOOT_SWAP_SECONDARY] * c.chip.sector_size;
    c.hash_rate = sl->cfg->hash_rate;
    return c;
}

static int64_t check_ns(const struct device_cost *c)
{
    return flash_chip_read_ns(&c->chip, IMAGE_SIZE) +
           (int64_t)((uint64_t)IMAGE_SIZE * 1000000000u / c->hash_rate);
}

static int64_t process_ns(const struct device_cost *c, uint32_t off, uint32_t d)
{
    int64_t ns = 200000 + flash_chip_write_ns(&c->chip, d);
    if (off == 0)
        ns += flash_chip_read_ns(&c->chip, c->slot_bytes) + check_ns(c);
    if (off + d == IMAGE_SIZE)
        ns += check_ns(c);
    return ns;
}

/* smpclient is stop-and-wait and writes a packet's frames back to back: each chunk costs
 * request on the wire + device work + response on the wire, and the upload (first chunk
 * sent to last answer) is their sum. */
static int64_t smpclient_upload_ns(const struct device_cost *c, uint32_t *n_chunks)
{
    int64_t t = 0;
    uint32_t n = 0;
    for (uint32_t off = 0; off < IMAGE_SIZE; n++) {
        uint32_t d = chunk_len(false, off);
        t += wire_ns(serial_wire(request_len(false, off, d)).bytes) + process_ns(c, off, d) +
             wire_ns(serial_wire(response_len(off + d)).bytes);
        off += d;
    }
    *n_chunks = n;
    return t;
}

/* The mcumgr CLI (newtmgr serial_xport.go Tx) writes a packet's first frame at once and
 * sleeps 20 ms before each further frame; a 371-byte request is 375 raw bytes = 5 frames,
 * so 4 x 20 ms = 80 ms of writing, while its 515 bytes need only 44.7 ms of wire: the host's
 * pauses set the pace. The window starts at 1: the first chunk goes alone (80 ms of writes,
 * its 7-byte last frame on the wire, the erase, the answer). From its answer on, the
 * window (2, 3, ... 5) always has a chunk queued behind the one being written, and the
 * device answers each in ~6 ms, so the host writes without a break: chunk k's first frame
 * goes with chunk k-1's last, and chunk k takes (frames_k - 1) x 20 ms. The upload ends
 * with the last chunk's last frame on the wire, its device work and its answer. */
static int64_t cli_upload_ns(const struct device_cost *c, uint32_t *n_chunks)
{
    const int64_t gap = MS(20);
    uint32_t d0 = chunk_len(true, 0);
    struct wire w0 = serial_wire(request_len(true, 0, d0));
    int64_t t = (w0.frames - 1) * gap + wire_ns(w0.last_frame_bytes) + process_ns(c, 0, d0) +
                wire_ns(serial_wire(response_len(d0)).bytes);
    uint32_t n = 1, off = d0, d = 0;
    struct wire w = w0;
    while (off < IMAGE_SIZE) {
        d = chunk_len(true, off);
        w = serial_wire(request_len(true, off, d));
        t += (w.frames - 1) * gap;
        off += d;
        n++;
    }
    t += wire_ns(w.last_frame_bytes) + process_ns(c, IMAGE_SIZE - d, d) +
         wire_ns(serial_wire(response_len(IMAGE_SIZE)).bytes);
    *n_chunks = n;
    return t;
}

/* ---- the updates ---------------------------------------------------------------------- */

static void check_updated_over_uart(struct rig *r, const char *client_name)
{
    const struct fleet_device_stats *st = fleet_device_stats_get(r->dev);
    const struct fleet_device_attempt *l = last_attempt(r->dev);
    assert_string_equal(l->a.outcome, "updated");
    assert_string_equal(l->a.client, client_name);
    assert_string_equal(fleet_device_outcome(r->dev), "updated");
    assert_true(fleet_device_confirmed(r->dev));
    assert_int_equal(st->n_swaps, 1);
    assert_int_equal(st->n_attempts, 1);
    assert_int_equal(st->n_tx_dropped, 0);
    assert_int_equal(st->n_serial_lost, 0);
    /* Everything went over the UART, nothing over BLE. */
    assert_int_equal(ble_link_state_get(fleet_device_link(r->dev)), BLE_LINK_DISCONNECTED);
    const struct uart_link *u = fleet_device_uart(r->dev);
    assert_true(u->stats.n_bytes[UART_LINK_H2D] > IMAGE_SIZE * 4 / 3);
    assert_true(u->stats.n_bytes[UART_LINK_D2H] > 0);
    /* The phases follow one another: upload, test, reset, MCUboot's swap, reconnect (the
     * application is up again), confirm. */
    assert_true(l->a.connect_ns <= l->a.upload_start_ns);
    assert_true(l->a.upload_start_ns < l->a.upload_end_ns);
    assert_true(l->a.upload_end_ns <= l->a.test_ns);
    assert_true(l->a.test_ns <= l->a.reset_ns);
    assert_true(l->a.reset_ns < l->a.swap_start_ns);
    assert_true(l->a.swap_start_ns < l->a.swap_end_ns);
    assert_true(l->a.swap_end_ns <= l->a.reconnect_ns);
    assert_true(l->a.reconnect_ns <= l->a.confirm_ns);
    assert_int_equal(l->a.bytes_sent, IMAGE_SIZE);
    assert_int_equal(l->a.image_bytes, IMAGE_SIZE);
    assert_int_equal(l->a.bytes_resent, 0);
}

/* ------------------------------------------------------------------------------------
 * smpclient, test-and-confirm, over a 115200-baud UART: the RAK3172 runs the update
 * confirmed, and the upload takes what the bytes on the wire and the device's work say.
 * EVIDENCE-OF: zephyrproject-rtos/zephyr: doc/services/device_mgmt/smp_transport.rst:
 *              frames of at most 127 bytes, base64 body, total length and CRC16
 * EVIDENCE-OF: intercreate/smpclient: src/smpclient/__init__.py @4970f3e: upload() sends
 *              the next chunk only after the previous response (stop-and-wait)
 * UPSTREAM: intercreate/smpclient: src/smpclient/transport/serial.py (max_unencoded_size)
 * ------------------------------------------------------------------------------------ */
static void smpclient_updates_rak3172_over_uart(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r, "{ kind: smpclient, mode: test-and-confirm }", NULL);
    rig_run(&r);
    check_updated_over_uart(&r, "smpclient");
    const struct fleet_device_attempt *l = last_attempt(r.dev);
    struct device_cost c = device_cost(r.dev);
    uint32_t n;
    int64_t want = smpclient_upload_ns(&c, &n);
    int64_t got = l->a.upload_end_ns - l->a.upload_start_ns;
    assert_int_equal(l->a.chunks, n);
    /* 1 us per chunk covers the UART model's rounding down to whole ns per send. */
    if (got < want - (int64_t)n * 1000 || got > want + (int64_t)n * 1000)
        fail_msg("smpclient upload %.6f s, first principles %.6f s (%u chunks)", got / 1e9,
                 want / 1e9, n);
    rig_down(&r);
}

/* ------------------------------------------------------------------------------------
 * The Go mcumgr CLI, its adaptive window (1 -> 5) and its 20 ms pause before each
 * continuation frame, over a 115200-baud UART: updated and confirmed, and the upload takes
 * what its frame pacing says.
 * EVIDENCE-OF: apache/mynewt-newtmgr: nmxact/nmserial/serial_xport.go: MtuOut is
 *              mtu x 3/4 - 13 on serial
 * UPSTREAM: apache/mynewt-newtmgr: nmxact/nmserial/serial_xport.go (Mtu 512, Tx sleeps
 *           20 ms before each continuation frame)
 * ------------------------------------------------------------------------------------ */
static void mcumgr_cli_updates_rak3172_over_uart(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r, "{ kind: mcumgr-cli }", NULL);
    rig_run(&r);
    check_updated_over_uart(&r, "mcumgr-cli");
    const struct fleet_device_attempt *l = last_attempt(r.dev);
    struct device_cost c = device_cost(r.dev);
    uint32_t n;
    int64_t want = cli_upload_ns(&c, &n);
    int64_t got = l->a.upload_end_ns - l->a.upload_start_ns;
    assert_int_equal(l->a.chunks, n);
    if (got < want - (int64_t)n * 1000 || got > want + (int64_t)n * 1000)
        fail_msg("mcumgr CLI upload %.6f s, first principles %.6f s (%u chunks)", got / 1e9,
                 want / 1e9, n);
    rig_down(&r);
}

/* A higher baud rate only shortens the wire time: smpclient's upload at 921600 baud is
 * its device work plus an eighth of the wire time at 115200. */
static void baud_rate_scales_the_wire_time(void **state)
{
    (void)state;
    struct rig slow, fast;
    rig_up(&slow, "{ kind: smpclient, mode: test-and-confirm }", NULL);
    rig_up(&fast, "{ kind: smpclient, mode: test-and-confirm }", "devices.rak.link.baud=921600");
    rig_run(&slow);
    rig_run(&fast);
    check_updated_over_uart(&fast, "smpclient");
    const struct fleet_device_attempt *a = last_attempt(slow.dev), *b = last_attempt(fast.dev);
    struct device_cost c = device_cost(slow.dev);
    int64_t work = 0;
    for (uint32_t off = 0; off < IMAGE_SIZE;) {
        uint32_t d = chunk_len(false, off);
        work += process_ns(&c, off, d);
        off += d;
    }
    int64_t slow_wire = (a->a.upload_end_ns - a->a.upload_start_ns) - work;
    int64_t fast_wire = (b->a.upload_end_ns - b->a.upload_start_ns) - work;
    assert_true(slow_wire > SEC(5));
    int64_t want = slow_wire / 8;
    if (fast_wire < want - MS(1) || fast_wire > want + MS(1))
        fail_msg("wire time %.6f s at 921600, want %.6f s", fast_wire / 1e9, want / 1e9);
    rig_down(&slow);
    rig_down(&fast);
}

/* A reset mid-upload over the UART: the frames on the wire are lost, the client's session
 * ends, the mcumgr CLI reopens when the application is up again and resumes from the
 * device's offset... which a reset has cleared (RAM), so it starts again and still ends
 * updated. */
static void reset_mid_upload_recovers(void **state)
{
    (void)state;
    struct rig r;
    rig_up(&r, "{ kind: mcumgr-cli }", NULL);
    assert_int_equal(fleet_device_fault_at(r.dev, FLEET_FAULT_RESET, SEC(5), 0), 0);
    rig_run(&r);
    const struct fleet_device_stats *st = fleet_device_stats_get(r.dev);
    const struct fleet_device_attempt *l = last_attempt(r.dev);
    assert_int_equal(st->n_boots, 3); /* power-on, the fault, the update's reset */
    assert_string_equal(fleet_device_outcome(r.dev), "updated");
    assert_string_equal(l->a.outcome, "updated");
    assert_true(l->a.retries >= 1);
    assert_true(l->a.bytes_sent > IMAGE_SIZE);
    assert_true(l->a.bytes_resent > 0);
    rig_down(&r);
}

/* ---- the checks of link.transport ---------------------------------------------------- */

static char out_text[1 << 14], err_text[1 << 14];

static int run_cli(int argc, const char *const *argv)
{
    FILE *out = fmemopen(out_text, sizeof(out_text), "w");
    FILE *err = fmemopen(err_text, sizeof(err_text), "w");
    assert_non_null(out);
    assert_non_null(err);
    int code = cli_main(argc, (char **)argv, out, err);
    fclose(out);
    fclose(err);
    return code;
}

#define RUN_CLI(...)                                                                               \
    run_cli((int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)),                   \
            (const char *[]){__VA_ARGS__})

/* Transports the board or the client cannot use are bad input: `validate` and `run` exit
 * 2 with FILE:LINE:COL of the map that holds the key, the key, what is wrong and what to
 * do; run writes no database. */
static void transport_errors_exit_2_at_the_key(void **state)
{
    (void)state;
    static const struct {
        const char *name, *file, *set, *want;
    } cases[] = {
        {"ble on a board without a BLE radio", CLI_DIR "/uart_ble_on_rak3172.yaml", NULL,
         "uart_ble_on_rak3172.yaml:9:24: devices[0].link.transport: ble needs a BLE radio and "
         "group lora's board rak3172 has none; use uart"},
        {"a BLE-only client with a UART group", CLI_DIR "/uart_ble_only_client.yaml", NULL,
         "uart_ble_only_client.yaml:5:17: client.kind: device-manager-ios speaks SMP over BLE "
         "only, and group lora (rak3172) is reached over a UART (devices[0].link.transport); "
         "use mcumgr-cli or smpclient"},
        {"auto picks uart on rak3172: Android cannot update it", SRC "/scenarios/quickstart.yaml",
         "devices.mice.board=rak3172",
         "quickstart.yaml:10:17: client.kind: device-manager-android speaks SMP over BLE only"},
        {"ble set on the command line", SRC "/scenarios/rak3172-uart.yaml",
         "devices.lora.link={transport: ble}",
         "--set:1:31: devices[0].link.transport: ble needs a BLE radio"},
        {"CAF ble_smp needs the Bluetooth transport", SRC "/scenarios/rak3172-uart.yaml",
         "devices.lora.firmware.smp=ble-smp", "CAF ble_smp needs the MCUmgr Bluetooth transport"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int code = cases[i].set
                       ? RUN_CLI("dfusim", "validate", "--set", cases[i].set, cases[i].file)
                       : RUN_CLI("dfusim", "validate", cases[i].file);
        if (code != SIM_EXIT_USAGE || strstr(err_text, cases[i].want) == NULL)
            fail_msg("%s: validate exit %d (want 2), want '%s' in:\n%s", cases[i].name, code,
                     cases[i].want, err_text);
        unlink("test_e2e_uart.db");
        code = cases[i].set
                   ? RUN_CLI("dfusim", "run", "-q", "-o", "test_e2e_uart.db", "--set", cases[i].set,
                             cases[i].file)
                   : RUN_CLI("dfusim", "run", "-q", "-o", "test_e2e_uart.db", cases[i].file);
        if (code != SIM_EXIT_USAGE || strstr(err_text, cases[i].want) == NULL)
            fail_msg("%s: run exit %d (want 2):\n%s", cases[i].name, code, err_text);
        assert_int_not_equal(access("test_e2e_uart.db", F_OK), 0);
    }
}

/* The example runs: every RAK3172 updated over its UART; uart set explicitly on a board
 * with a radio is allowed (a wired nRF52840 DK). */
static void the_uart_example_runs(void **state)
{
    (void)state;
    assert_int_equal(RUN_CLI("dfusim", "validate", SRC "/scenarios/rak3172-uart.yaml"), 0);
    unlink("test_e2e_uart.db");
    int code = RUN_CLI("dfusim", "run", "-q", "-o", "test_e2e_uart.db",
                       SRC "/scenarios/rak3172-uart.yaml");
    if (code != 0)
        fail_msg("run exit %d:\n%s", code, err_text);
    code =
        RUN_CLI("dfusim", "run", "-o", "test_e2e_uart.db", "--set", "devices.lora.board=nrf52840dk",
                "--set", "devices.lora.link.transport=uart", SRC "/scenarios/rak3172-uart.yaml");
    if (code != 0)
        fail_msg("run exit %d:\n%s", code, err_text);
    assert_non_null(strstr(out_text, "0 failed"));
    unlink("test_e2e_uart.db");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(smpclient_updates_rak3172_over_uart),
        cmocka_unit_test(mcumgr_cli_updates_rak3172_over_uart),
        cmocka_unit_test(baud_rate_scales_the_wire_time),
        cmocka_unit_test(reset_mid_upload_recovers),
        cmocka_unit_test(transport_errors_exit_2_at_the_key),
        cmocka_unit_test(the_uart_example_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
