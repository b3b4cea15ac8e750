/* tests/test_pcap.c - captures (sim/capture/pcap.h, `dfusim run --pcap`): decoded by tshark,
 * they must hold the SMP packets the models sent, on the handles and opcodes documented in
 * docs/captures.md, with no malformed packet and no bad CRC. tshark is required: without it
 * these tests fail (setup.sh installs it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "sim/capture/pcap.h"
#include "tests/cli_capture.h"

#define SRC DFUSIM_SOURCE_DIR "/"

static char out_text[16384], err_text[16384];

static int run(int argc, const char *const *argv)
{
    int code = cli_capture(argc, argv, out_text, sizeof(out_text), err_text, sizeof(err_text));
    if (code != 0)
        fprintf(stderr, "dfusim failed (%d): %s\n", code, err_text);
    return code;
}

static void need_tshark(void)
{
    if (system("tshark --version >/dev/null 2>&1") != 0)
        fail_msg("tshark not found: these tests decode the captures with it (Debian package "
                 "tshark; ./setup.sh installs it)");
}

/* The lines tshark prints for "tshark -r FILE ARGS", NUL-separated in one buffer. */
struct lines {
    char *buf;
    size_t n;
    char **v;
};

static void tshark(const char *file, const char *args, struct lines *l)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "tshark -r '%s' %s 2>/dev/null", file, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    l->buf = malloc(cap);
    size_t k;
    while ((k = fread(l->buf + len, 1, cap - len - 1, p)) > 0) {
        len += k;
        if (cap - len < 2) {
            cap *= 2;
            l->buf = realloc(l->buf, cap);
        }
    }
    assert_int_equal(pclose(p), 0);
    l->buf[len] = '\0';
    l->n = 0;
    l->v = malloc((len + 1) * sizeof(*l->v));
    for (char *s = l->buf, *nl; *s; s = nl + 1) {
        nl = strchr(s, '\n');
        if (nl == NULL)
            nl = s + strlen(s) - 1;
        else
            *nl = '\0';
        l->v[l->n++] = s;
    }
}

static void lines_free(struct lines *l)
{
    free(l->buf);
    free(l->v);
}

static size_t hex_decode(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; h[0] && h[1] && n < cap; h += 2) {
        unsigned v;
        if (sscanf(h, "%2x", &v) != 1)
            break;
        out[n++] = (uint8_t)v;
    }
    return n;
}

static long long db_count(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* ---- SMP packets from a byte stream (one device, one direction) ---- */

#define MAX_DEV  4
#define MAX_PKTS 4096

struct smp_hdr {
    uint8_t op, ver, flags; /* byte 0: reserved (3 bits), version (2), op (3) */
    uint16_t len, group;
    uint8_t seq, id;
};

struct stream {
    uint8_t buf[8192];
    size_t len;
    struct smp_hdr pk[MAX_PKTS];
    size_t n;
};

/* Append bytes; cut out each whole SMP packet (8-byte header + len) as it completes. */
static void stream_add(struct stream *s, const uint8_t *p, size_t n)
{
    assert_true(s->len + n <= sizeof(s->buf));
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    while (s->len >= 8) {
        size_t total = 8 + ((size_t)s->buf[2] << 8 | s->buf[3]);
        if (s->len < total)
            break;
        assert_true(s->n < MAX_PKTS);
        s->pk[s->n++] = (struct smp_hdr){s->buf[0] & 7u,
                                         (s->buf[0] >> 3) & 3u,
                                         s->buf[1],
                                         (uint16_t)(s->buf[2] << 8 | s->buf[3]),
                                         (uint16_t)(s->buf[4] << 8 | s->buf[5]),
                                         s->buf[6],
                                         s->buf[7]};
        memmove(s->buf, s->buf + total, s->len - total);
        s->len -= total;
    }
}

/* Requests [0] and responses [1] of one device: every response answers the oldest
 * unanswered request with its group, id and sequence number (op + 1), requests are read
 * (0) or write (2), and no bytes are left over. Returns the upload requests (group 1 image,
 * id 1 upload, write). */
static size_t check_pairs(struct stream st[2], size_t *upload_rsp)
{
    assert_int_equal(st[0].len, 0);
    assert_int_equal(st[1].len, 0);
    assert_true(st[0].n > 0);
    size_t uploads = 0;
    *upload_rsp = 0;
    for (size_t i = 0; i < st[0].n; i++) {
        const struct smp_hdr *q = &st[0].pk[i];
        assert_true(q->op == 0 || q->op == 2);
        if (q->group == 1 && q->id == 1 && q->op == 2)
            uploads++;
    }
    size_t q = 0;
    for (size_t i = 0; i < st[1].n; i++) {
        const struct smp_hdr *r = &st[1].pk[i];
        /* a request lost with its connection (a reset) is never answered: skip to the one
         * this response answers */
        while (q < st[0].n && st[0].pk[q].seq != r->seq)
            q++;
        assert_true(q < st[0].n);
        assert_int_equal(r->op, st[0].pk[q].op + 1);
        assert_int_equal(r->ver, st[0].pk[q].ver);
        assert_int_equal(r->group, st[0].pk[q].group);
        assert_int_equal(r->id, st[0].pk[q].id);
        if (r->group == 1 && r->id == 1)
            (*upload_rsp)++;
        q++;
    }
    return uploads;
}

/* Device dev's SMP packets in the capture are the ones the run recorded: one upload
 * request per chunks row (retransmitted chunks included), one upload response per chunk
 * answered. Returns the upload requests. */
static size_t check_against_db(const char *db, uint32_t dev, struct stream st[2])
{
    size_t rsp;
    size_t uploads = check_pairs(st, &rsp);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunks WHERE device_id = %u", dev);
    assert_int_equal(uploads, db_count(db, sql));
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM chunks WHERE device_id = %u AND rc IS NOT NULL", dev);
    assert_int_equal(rsp, db_count(db, sql));
    return uploads;
}

/* ---- unit: CRC, access addresses, channels ---- */

static void test_crc24_residue(void **state)
{
    (void)state;
    /* An LFSR CRC fed its own CRC (in air order) after the data leaves the register
     * zero: so the bytes we append are the remainder the receiver checks. */
    uint8_t p[300];
    for (size_t i = 0; i < sizeof(p); i++)
        p[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 2; n < 260; n += 37) {
        uint8_t crc[3], zero[3];
        uint32_t init = (uint32_t)(0x123456u + n * 977u) & 0xffffffu;
        cap_ble_crc24(init, p, n, crc);
        memcpy(p + n, crc, 3);
        cap_ble_crc24(init, p, n + 3, zero);
        assert_int_equal(zero[0] | zero[1] | zero[2], 0);
        p[0] ^= 1; /* one bit off: not zero */
        cap_ble_crc24(init, p, n + 3, zero);
        assert_int_not_equal(zero[0] | zero[1] | zero[2], 0);
        p[0] ^= 1;
    }
}

static void test_access_addresses(void **state)
{
    (void)state;
    assert_false(cap_ble_aa_valid(CAP_BLE_ADV_AA));
    assert_false(cap_ble_aa_valid(CAP_BLE_ADV_AA ^ 0x00010000u)); /* one bit from it */
    assert_false(cap_ble_aa_valid(0x00000000u));
    assert_false(cap_ble_aa_valid(0x5a5a5a5au)); /* four equal octets */
    assert_false(cap_ble_aa_valid(0x7f000001u)); /* seven zeros in a row */
    assert_true(cap_ble_aa_valid(0x71764129u));
    uint32_t prev = 0;
    for (uint32_t dev = 0; dev < 2000; dev++) {
        uint32_t aa, crc;
        uint8_t hop;
        cap_ble_conn_ids(dev, dev % 3, &aa, &crc, &hop);
        assert_true(cap_ble_aa_valid(aa));
        assert_true(crc <= 0xffffffu);
        assert_true(hop >= 5 && hop <= 16);
        assert_int_not_equal(aa, prev);
        prev = aa;
    }
    /* RF channels: data 0 is 2404 MHz (RF 1), data 11 is RF 13, advertising 37/38/39 */
    assert_int_equal(cap_ble_rf_channel(0), 1);
    assert_int_equal(cap_ble_rf_channel(10), 11);
    assert_int_equal(cap_ble_rf_channel(11), 13);
    assert_int_equal(cap_ble_rf_channel(36), 38);
    assert_int_equal(cap_ble_rf_channel(37), 0);
    assert_int_equal(cap_ble_rf_channel(38), 12);
    assert_int_equal(cap_ble_rf_channel(39), 39);
}

/* ---- BLE capture of `dfusim run` ---- */

static const char *const ble_args[] = {"dfusim",
                                       "run",
                                       SRC "scenarios/quickstart.yaml",
                                       "-q",
                                       "--set",
                                       "image.size=32KiB",
                                       "--set",
                                       "record=chunks",
                                       "--set",
                                       "devices.mice.link.loss.model=bernoulli",
                                       "--set",
                                       "devices.mice.link.loss.good=5%",
                                       "--pcap-devices",
                                       "0-2",
                                       "-o",
                                       NULL,
                                       "--pcap",
                                       NULL};
#define BLE_ARGC ((int)(sizeof(ble_args) / sizeof(*ble_args)))

static void run_ble(const char *db, const char *pcap)
{
    const char *argv[BLE_ARGC];
    memcpy(argv, ble_args, sizeof(argv));
    argv[BLE_ARGC - 3] = db;
    argv[BLE_ARGC - 1] = pcap;
    remove(db);
    assert_int_equal(run(BLE_ARGC, argv), 0);
}

static void test_ble_capture(void **state)
{
    (void)state;
    need_tshark();
    const char *db = "test_pcap_ble.db", *pcap = "test_pcap_ble.pcap";
    run_ble(db, pcap);

    /* nothing malformed, no bad CRC, no warning or error of any dissector */
    struct lines bad;
    tshark(pcap, "-Y '_ws.malformed || btle.crc.incorrect || _ws.expert.severity >= warning'",
           &bad);
    for (size_t i = 0; i < bad.n; i++)
        fprintf(stderr, "tshark: %s\n", bad.v[i]);
    assert_int_equal(bad.n, 0);
    lines_free(&bad);

    /* Wireshark 4.0 recomputes the CRC of advertising-channel PDUs (it knows their CRC
     * init): the CONNECT_INDs' CRCs are checked, not taken on trust. Data PDUs carry the
     * same cap_ble_crc24 with the connection's CRC init (test_crc24_residue). */
    tshark(pcap, "-Y 'btle.advertising_header.pdu_type == 5 && btle.crc.indeterminate'", &bad);
    assert_int_equal(bad.n, 0);
    lines_free(&bad);

    /* Which connection is which device: the advertiser address of each CONNECT_IND,
     * C1:DF:00 and the device id (docs/captures.md). */
    struct lines conn;
    tshark(pcap,
           "-Y 'btle.advertising_header.pdu_type == 5' -T fields -e btle.advertising_address "
           "-e btle.link_layer_data.access_address -e btle.crc.incorrect",
           &conn);
    assert_true(conn.n >= 3);
    uint32_t aa_of[64], dev_of[64];
    size_t n_conn = 0;
    for (size_t i = 0; i < conn.n && n_conn < 64; i++) {
        unsigned a[6], aa;
        assert_int_equal(sscanf(conn.v[i], "%x:%x:%x:%x:%x:%x\t0x%x", &a[0], &a[1], &a[2], &a[3],
                                &a[4], &a[5], &aa),
                         7);
        assert_int_equal(a[0], 0xc1);
        assert_int_equal(a[1], 0xdf);
        dev_of[n_conn] = a[3] << 16 | a[4] << 8 | a[5];
        assert_true(dev_of[n_conn] < 3);
        aa_of[n_conn++] = aa;
    }
    lines_free(&conn);

    /* ATT PDUs, retransmissions left out (Wireshark dissects a single-fragment PDU sent
     * again a second time and marks it btle.retransmit). */
    struct lines att;
    tshark(pcap,
           "-Y 'btatt && !btle.retransmit' -T fields -e btle.access_address -e btatt.opcode "
           "-e btatt.handle -e btatt.value",
           &att);
    static struct stream st[MAX_DEV][2];
    memset(st, 0, sizeof(st));
    size_t n_mtu = 0, n_write = 0, n_notify = 0;
    uint8_t *v = malloc(65536);
    for (size_t i = 0; i < att.n; i++) {
        unsigned aa, op, handle = 0;
        char value[140000] = "";
        int k = sscanf(att.v[i], "0x%x\t0x%x\t0x%x\t%139999s", &aa, &op, &handle, value);
        size_t c = 0;
        while (c < n_conn && aa_of[c] != aa)
            c++;
        assert_true(c < n_conn);        /* every ATT PDU is on a connection we saw start */
        if (op == 0x02 || op == 0x03) { /* the setup's MTU exchange */
            n_mtu++;
            continue;
        }
        assert_int_equal(k, 4);
        assert_true(op == CAP_ATT_WRITE_CMD || op == CAP_ATT_NOTIFY);
        assert_int_equal(handle, CAP_SMP_VALUE_HANDLE);
        size_t n = hex_decode(value, v, 65536);
        assert_true(n > 0);
        stream_add(&st[dev_of[c]][op == CAP_ATT_NOTIFY], v, n);
        if (op == CAP_ATT_WRITE_CMD)
            n_write++;
        else
            n_notify++;
    }
    free(v);
    lines_free(&att);
    assert_int_equal(n_mtu, 2 * n_conn);
    assert_true(n_write > 0 && n_notify > 0);

    /* The SMP packets are the ones the run recorded. */
    for (uint32_t d = 0; d < 3; d++) {
        size_t uploads = check_against_db(db, d, st[d]);
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT sum(chunks) FROM dfu_attempts WHERE device_id = %u", d);
        assert_true(uploads >= (size_t)db_count(db, sql));
    }
    remove(db);
    remove(pcap);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void test_ble_capture_deterministic(void **state)
{
    (void)state;
    run_ble("test_pcap_d1.db", "test_pcap_d1.pcap");
    run_ble("test_pcap_d2.db", "test_pcap_d2.pcap");
    size_t n1, n2;
    char *a = slurp("test_pcap_d1.pcap", &n1), *b = slurp("test_pcap_d2.pcap", &n2);
    assert_true(n1 > 1000);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    free(a);
    free(b);
    remove("test_pcap_d1.db");
    remove("test_pcap_d2.db");
    remove("test_pcap_d1.pcap");
    remove("test_pcap_d2.pcap");
}

static void test_bad_options(void **state)
{
    (void)state;
    const char *a1[] = {"dfusim",         "run", SRC "scenarios/quickstart.yaml",
                        "--pcap-devices", "0",   "-o",
                        "test_pcap_x.db"};
    assert_int_equal(cli_capture(7, a1, out_text, sizeof(out_text), err_text, sizeof(err_text)), 2);
    assert_non_null(strstr(err_text, "--pcap-devices needs --pcap"));
    const char *bad[] = {"7", "1-0", "x", "0,", "-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        const char *a2[] = {"dfusim",           "run",  SRC "scenarios/quickstart.yaml",
                            "--pcap-devices",   bad[i], "--pcap",
                            "test_pcap_x.pcap", "-o",   "test_pcap_x.db"};
        assert_int_equal(cli_capture(9, a2, out_text, sizeof(out_text), err_text, sizeof(err_text)),
                         2);
        assert_non_null(strstr(err_text, "--pcap-devices"));
        assert_int_equal(access("test_pcap_x.pcap", F_OK), -1);
    }
    remove("test_pcap_x.db");
}

/* ---- UART ---- */

/* Zephyr's console framing (models/smp/serial.h): frames start 06 09 (first) or 04 14
 * (continuation), carry base64 and end with '\n'; the decoded bytes of a packet are a
 * 2-byte length, the SMP packet and a CRC16. Feed whole SMP packets to s. */
struct serial_rx {
    uint8_t line[4096];
    size_t line_len;
    uint8_t pkt[8192];
    size_t pkt_len;
};

static void serial_add(struct serial_rx *r, struct stream *s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n') {
            assert_true(r->line_len < sizeof(r->line));
            r->line[r->line_len++] = p[i];
            continue;
        }
        assert_true(r->line_len > 2);
        bool first = r->line[0] == 0x06 && r->line[1] == 0x09;
        assert_true(first || (r->line[0] == 0x04 && r->line[1] == 0x14));
        if (first)
            r->pkt_len = 0;
        uint8_t dec[4096];
        int k = EVP_DecodeBlock(dec, r->line + 2, (int)(r->line_len - 2));
        assert_true(k >= 0);
        size_t pad = 0; /* EVP_DecodeBlock keeps the bytes '=' padding stands for */
        for (size_t j = r->line_len; j > 2 && r->line[j - 1] == '='; j--)
            pad++;
        memcpy(r->pkt + r->pkt_len, dec, (size_t)k - pad);
        r->pkt_len += (size_t)k - pad;
        r->line_len = 0;
        if (r->pkt_len >= 2) {
            size_t total = (size_t)r->pkt[0] << 8 | r->pkt[1];
            if (r->pkt_len == total + 2) {
                stream_add(s, r->pkt + 2, total - 2); /* the CRC16 left out */
                r->pkt_len = 0;
            }
        }
    }
}

static void test_uart_capture(void **state)
{
    (void)state;
    need_tshark();
    const char *db = "test_pcap_uart.db", *pcap = "test_pcap_uart.pcap";
    remove(db);
    const char *argv[] = {"dfusim",
                          "run",
                          SRC "scenarios/rak3172-uart.yaml",
                          "-q",
                          "--set",
                          "image.size=8KiB",
                          "--set",
                          "record=chunks",
                          "--pcap-devices",
                          "0,1",
                          "-o",
                          db,
                          "--pcap",
                          pcap};
    assert_int_equal(run((int)(sizeof(argv) / sizeof(*argv)), argv), 0);
    /* LINKTYPE_USER0 decoded as raw data (docs/captures.md) */
    const char *as_data = "-o 'uat:user_dlts:\"User 0 (DLT=147)\",\"data\",\"0\",\"\",\"0\",\"\"'";
    char args[512];
    snprintf(args, sizeof(args), "%s -Y '_ws.malformed || _ws.expert.severity >= warning'",
             as_data);
    struct lines bad;
    tshark(pcap, args, &bad);
    assert_int_equal(bad.n, 0);
    lines_free(&bad);
    snprintf(args, sizeof(args), "%s -T fields -e data.data", as_data);
    struct lines rec;
    tshark(pcap, args, &rec);
    assert_true(rec.n > 10);
    static struct stream st[2][2];
    static struct serial_rx rx[2][2];
    memset(st, 0, sizeof(st));
    memset(rx, 0, sizeof(rx));
    uint8_t *b = malloc(65536);
    for (size_t i = 0; i < rec.n; i++) {
        size_t n = hex_decode(rec.v[i], b, 65536);
        assert_true(n > CAP_UART_HDR);
        unsigned dir = b[0];
        uint32_t dev = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
        assert_true(dir <= CAP_UART_D2H && dev < 2);
        serial_add(&rx[dev][dir], &st[dev][dir], b + CAP_UART_HDR, n - CAP_UART_HDR);
    }
    free(b);
    lines_free(&rec);
    for (uint32_t d = 0; d < 2; d++)
        (void)check_against_db(db, d, st[d]);
    remove(db);
    remove(pcap);
}

/* ---- UDP writer (for dfusim serve) ---- */

static void test_udp_writer(void **state)
{
    (void)state;
    need_tshark();
    const char *pcap = "test_pcap_udp.pcap";
    struct cap *c = NULL;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(cap_open(pcap, CAP_UDP, &c, &d), 0);
    /* an SMP echo request and its response, over IPv4 then IPv6 loopback */
    const uint8_t req[] = {0x02, 0x00, 0x00, 0x07, 0x00, 0x00, 0x2a, 0x00,
                           0xa1, 0x61, 0x64, 0x63, 0x68, 0x69, 0x21};
    const uint8_t rsp[] = {0x03, 0x00, 0x00, 0x07, 0x00, 0x00, 0x2a, 0x00,
                           0xa1, 0x61, 0x72, 0x63, 0x68, 0x69, 0x21};
    struct cap_udp u = {.at_ns = 1000,
                        .src = {127, 0, 0, 1},
                        .dst = {127, 0, 0, 1},
                        .sport = 50000,
                        .dport = 1337,
                        .p = req,
                        .n = sizeof(req)};
    assert_int_equal(cap_udp(c, &u), 0);
    u = (struct cap_udp){.at_ns = 2000,
                         .src = {127, 0, 0, 1},
                         .dst = {127, 0, 0, 1},
                         .sport = 1337,
                         .dport = 50000,
                         .p = rsp,
                         .n = sizeof(rsp)};
    assert_int_equal(cap_udp(c, &u), 0);
    u = (struct cap_udp){.at_ns = 1500000000,
                         .ipv6 = true,
                         .sport = 50001,
                         .dport = 1338,
                         .p = req,
                         .n = sizeof(req)};
    u.src[15] = u.dst[15] = 1; /* ::1 */
    assert_int_equal(cap_udp(c, &u), 0);
    u.n = 70000;
    assert_int_equal(cap_udp(c, &u), SIM_EINVAL);
    assert_int_equal(cap_count(c), 3);
    assert_int_equal(cap_close(c, &d), 0);

    struct lines l;
    /* checksum status 1: Wireshark computed it and it is good (0 bad, 2 unverified) */
    tshark(pcap,
           "-o udp.check_checksum:TRUE -o ip.check_checksum:TRUE -T fields -E separator=, "
           "-e frame.time_epoch -e ip.src -e ipv6.src -e udp.srcport -e udp.dstport "
           "-e ip.checksum.status -e udp.checksum.status -e data.data -e _ws.malformed",
           &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0], "0.000001000,127.0.0.1,,50000,1337,1,1,"
                                "0200000700002a00a1616463686921,");
    assert_string_equal(l.v[1], "0.000002000,127.0.0.1,,1337,50000,1,1,"
                                "0300000700002a00a1617263686921,");
    assert_string_equal(l.v[2], "1.500000000,,::1,50001,1338,,1,"
                                "0200000700002a00a1616463686921,");
    lines_free(&l);
    remove(pcap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc24_residue), cmocka_unit_test(test_access_addresses),
        cmocka_unit_test(test_ble_capture),   cmocka_unit_test(test_ble_capture_deterministic),
        cmocka_unit_test(test_bad_options),   cmocka_unit_test(test_uart_capture),
        cmocka_unit_test(test_udp_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
