/* tests/test_smp_frame.c - SMP header codec, zcbor-compatible CBOR writer, map decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/smp/frame.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define ECHO_TEXT "short MCUMGR test application message..."

/* UPSTREAM: zephyrproject-rtos/zephyr: tests/subsys/mgmt/mcumgr/os_mgmt_echo/src/main.c @main
 * (its echo request and response, byte for byte). */
static const uint8_t echo_req[] = {0x02, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x01, 0x00, 0xbf, 0x61, 0x64,
                                   0x78, 0x28, 's',  'h',  'o',  'r',  't',  ' ',  'M',  'C',  'U',
                                   'M',  'G',  'R',  ' ',  't',  'e',  's',  't',  ' ',  'a',  'p',
                                   'p',  'l',  'i',  'c',  'a',  't',  'i',  'o',  'n',  ' ',  'm',
                                   'e',  's',  's',  'a',  'g',  'e',  '.',  '.',  '.',  0xff};
static const uint8_t echo_rsp[] = {0x03, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x01, 0x00, 0xbf, 0x61, 0x72,
                                   0x78, 0x28, 's',  'h',  'o',  'r',  't',  ' ',  'M',  'C',  'U',
                                   'M',  'G',  'R',  ' ',  't',  'e',  's',  't',  ' ',  'a',  'p',
                                   'p',  'l',  'i',  'c',  'a',  't',  'i',  'o',  'n',  ' ',  'm',
                                   'e',  's',  's',  'a',  'g',  'e',  '.',  '.',  '.',  0xff};

static void check_bytes(const char *name, const uint8_t *got, size_t got_n, const uint8_t *want,
                        size_t want_n)
{
    if (got_n == want_n && memcmp(got, want, want_n) == 0)
        return;
    char g[256] = "", w[256] = "";
    for (size_t i = 0; i < got_n && i < 80; i++)
        snprintf(g + strlen(g), sizeof(g) - strlen(g), "%02x", got[i]);
    for (size_t i = 0; i < want_n && i < 80; i++)
        snprintf(w + strlen(w), sizeof(w) - strlen(w), "%02x", want[i]);
    fail_msg("%s:\n  got  %s (%zu bytes)\n  want %s (%zu bytes)", name, g, got_n, w, want_n);
}

/* ---- header ---------------------------------------------------------------------- */

/* UPSTREAM: zephyrproject-rtos/zephyr: tests/subsys/mgmt/mcumgr/os_mgmt_echo/src/main.c @main */
static void test_hdr_echo_request_decodes_to_write_v1_os_echo(void **state)
{
    (void)state;
    struct smp_frame_hdr h;
    assert_int_equal(smp_frame_hdr_decode(&h, echo_req, sizeof(echo_req)), 0);
    assert_int_equal(h.op, SMP_MGMT_OP_WRITE);
    assert_int_equal(h.version, SMP_MGMT_VERSION_1);
    assert_int_equal(h.flags, 0);
    assert_int_equal(h.len, 46);
    assert_int_equal(h.group, SMP_MGMT_GROUP_OS);
    assert_int_equal(h.seq, 1);
    assert_int_equal(h.id, 0);
}

static void test_hdr_encode_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        struct smp_frame_hdr h;
        uint8_t want[8];
    } cases[] = {
        {"echo response header is byte-exact",
         {.op = 3, .version = 0, .len = 46, .group = 0, .seq = 1, .id = 0},
         {0x03, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x01, 0x00}},
        {"v2 sets bit 3 of byte 0",
         {.op = 0, .version = 1, .len = 0, .group = 1, .seq = 0x42, .id = 0},
         {0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x42, 0x00}},
        {"length and group are big-endian",
         {.op = 2, .version = 1, .len = 0x1234, .group = 0xabcd, .seq = 255, .id = 7},
         {0x0a, 0x00, 0x12, 0x34, 0xab, 0xcd, 0xff, 0x07}},
        {"op and version are masked to their bit widths",
         {.op = 0xff, .version = 0xff, .flags = 0x5a},
         {0x1f, 0x5a, 0, 0, 0, 0, 0, 0}},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint8_t out[8];
        smp_frame_hdr_encode(&cases[i].h, out);
        check_bytes(cases[i].name, out, 8, cases[i].want, 8);
    }
}

static void test_hdr_decode_ignores_reserved_bits_and_round_trips(void **state)
{
    (void)state;
    const uint8_t b[8] = {0xe0 | 0x08 | 0x02, 0x01, 0x00, 0x05, 0x00, 0x40, 0x09, 0x03};
    struct smp_frame_hdr h;
    assert_int_equal(smp_frame_hdr_decode(&h, b, 8), 0);
    assert_int_equal(h.op, 2);
    assert_int_equal(h.version, 1);
    assert_int_equal(h.flags, 1);
    assert_int_equal(h.len, 5);
    assert_int_equal(h.group, 64);
    uint8_t out[8];
    smp_frame_hdr_encode(&h, out);
    assert_int_equal(out[0], 0x0a); /* reserved bits are written as 0 */
    assert_memory_equal(out + 1, b + 1, 7);
}

static void test_hdr_decode_rejects_truncated_header(void **state)
{
    (void)state;
    for (size_t n = 0; n < 8; n++) {
        struct smp_frame_hdr h = {.seq = 99};
        assert_int_equal(smp_frame_hdr_decode(&h, echo_req, n), SIM_EFORMAT);
        assert_int_equal(h.seq, 99); /* unchanged on failure */
    }
    struct smp_frame_hdr h;
    assert_int_equal(smp_frame_hdr_decode(&h, NULL, 8), SIM_EFORMAT);
}

/* ---- writer ---------------------------------------------------------------------- */

/* UPSTREAM: zephyrproject-rtos/zephyr: tests/subsys/mgmt/mcumgr/os_mgmt_echo/src/main.c @main */
static void test_writer_builds_echo_response_payload_like_zcbor(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, buf, sizeof(buf));
    smp_frame_put_map(&w, SMP_FRAME_INDEF);
    smp_frame_put_text(&w, "r");
    smp_frame_put_text(&w, ECHO_TEXT);
    smp_frame_put_end(&w);
    assert_false(w.overflow);
    check_bytes("echo response payload", buf, w.len, echo_rsp + 8, sizeof(echo_rsp) - 8);
}

static void test_writer_integers_use_shortest_form(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int64_t v;
        uint8_t want[9];
        size_t n;
    } cases[] = {
        {"0 is one byte", 0, {0x00}, 1},
        {"23 is the largest immediate", 23, {0x17}, 1},
        {"24 needs a 1-byte argument", 24, {0x18, 0x18}, 2},
        {"255 is the largest 1-byte argument", 255, {0x18, 0xff}, 2},
        {"256 needs 2 bytes", 256, {0x19, 0x01, 0x00}, 3},
        {"65536 needs 4 bytes", 65536, {0x1a, 0x00, 0x01, 0x00, 0x00}, 5},
        {"2^32 needs 8 bytes", 4294967296LL, {0x1b, 0, 0, 0, 1, 0, 0, 0, 0}, 9},
        {"-1 is 0x20", -1, {0x20}, 1},
        {"-24 is the last immediate negative", -24, {0x37}, 1},
        {"-25 needs a 1-byte argument", -25, {0x38, 0x18}, 2},
        {"INT64_MIN does not overflow",
         INT64_MIN,
         {0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
         9},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint8_t buf[16];
        struct smp_frame_writer w;
        smp_frame_writer_init(&w, buf, sizeof(buf));
        smp_frame_put_int(&w, cases[i].v);
        check_bytes(cases[i].name, buf, w.len, cases[i].want, cases[i].n);
    }
}

static void test_writer_other_items(void **state)
{
    (void)state;
    uint8_t buf[32];
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, buf, sizeof(buf));
    smp_frame_put_map(&w, 2);
    smp_frame_put_list(&w, SMP_FRAME_INDEF);
    smp_frame_put_bool(&w, true);
    smp_frame_put_bool(&w, false);
    smp_frame_put_end(&w);
    smp_frame_put_list(&w, 1);
    smp_frame_put_bstr(&w, (const uint8_t *)"\x01\x02", 2);
    smp_frame_put_textn(&w, "abc", 2);
    const uint8_t want[] = {0xa2, 0x9f, 0xf5, 0xf4, 0xff, 0x81, 0x42, 0x01, 0x02, 0x62, 'a', 'b'};
    check_bytes("map, lists, bools, bstr, textn", buf, w.len, want, sizeof(want));
}

static void test_writer_overflow_is_sticky_and_keeps_whole_items(void **state)
{
    (void)state;
    uint8_t buf[6];
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, buf, sizeof(buf));
    smp_frame_put_map(&w, SMP_FRAME_INDEF); /* 1 byte */
    smp_frame_put_text(&w, "r");            /* 2 bytes */
    smp_frame_put_text(&w, "hello");        /* 6 bytes: does not fit */
    assert_true(w.overflow);
    assert_int_equal(w.len, 3);
    smp_frame_put_end(&w); /* would fit, but the writer is already failed */
    assert_int_equal(w.len, 3);
    smp_frame_writer_reset(&w);
    assert_false(w.overflow);
    assert_int_equal(w.len, 0);
}

/* A byte string written through its space encodes as smp_frame_put_bstr would: a 300-byte
 * string has the two-byte length head 0x59 0x01 0x2c (RFC 8949 §3.1, major type 2,
 * additional info 25); one that does not fit returns NULL and leaves the writer at the last
 * whole item. */
static void test_writer_bstr_space_encodes_like_put_bstr(void **state)
{
    (void)state;
    uint8_t data[300], a[310], b[310];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7u);
    struct smp_frame_writer wa, wb;
    smp_frame_writer_init(&wa, a, sizeof(a));
    smp_frame_writer_init(&wb, b, sizeof(b));
    smp_frame_put_bstr(&wa, data, sizeof(data));
    uint8_t *at = smp_frame_put_bstr_space(&wb, sizeof(data));
    assert_non_null(at);
    assert_ptr_equal(at, b + 3);
    memcpy(at, data, sizeof(data));
    assert_int_equal(wb.len, 303);
    check_bytes("space", b, wb.len, a, wa.len);
    assert_int_equal(b[0], 0x59);
    assert_int_equal(b[1], 0x01);
    assert_int_equal(b[2], 0x2c);
    assert_null(smp_frame_put_bstr_space(&wb, 7)); /* 7 bytes left: a head and 7 do not fit */
    assert_true(wb.overflow);
    assert_int_equal(wb.len, 303);
}

/* ---- map decoder ----------------------------------------------------------------- */

enum { F_D, F_OFF, F_UP, F_SHA, F_ANY, N_F };

static void init_fields(struct smp_frame_field f[N_F])
{
    memset(f, 0, sizeof(struct smp_frame_field) * N_F);
    f[F_D] = (struct smp_frame_field){.key = "d", .type = SMP_FRAME_T_TEXT};
    f[F_OFF] = (struct smp_frame_field){.key = "off", .type = SMP_FRAME_T_U32};
    f[F_UP] = (struct smp_frame_field){.key = "upgrade", .type = SMP_FRAME_T_BOOL};
    f[F_SHA] = (struct smp_frame_field){.key = "sha", .type = SMP_FRAME_T_BSTR};
    f[F_ANY] = (struct smp_frame_field){.key = "err", .type = SMP_FRAME_T_ANY};
}

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/util/src/zcbor_bulk.c @main */
static void test_map_decode_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t in[40];
        size_t n;
        int want_rc;
        unsigned want_found; /* bit per field index */
        uint32_t want_off;
    } cases[] = {
        {"indefinite map as Zephyr sends it",
         {0xbf, 0x63, 'o', 'f', 'f', 0x18, 0x80, 0xff},
         8,
         0,
         1u << F_OFF,
         128},
        {"definite map as the Android client sends it",
         {0xa1, 0x63, 'o', 'f', 'f', 0x00},
         6,
         0,
         1u << F_OFF,
         0},
        {"empty map decodes with nothing found", {0xa0}, 1, 0, 0, 0},
        {"empty indefinite map", {0xbf, 0xff}, 2, 0, 0, 0},
        {"unknown key with nested value is skipped",
         {0xa2, 0x61, 'x', 0x82, 0xa1, 0x61, 'y', 0x01, 0x9f, 0xff, 0x63, 'o', 'f', 'f', 0x05},
         15,
         0,
         1u << F_OFF,
         5},
        {"bytes after the map are ignored",
         {0xa1, 0x63, 'o', 'f', 'f', 0x07, 0xde, 0xad},
         8,
         0,
         1u << F_OFF,
         7},
        {"u32 accepts UINT32_MAX",
         {0xa1, 0x63, 'o', 'f', 'f', 0x1a, 0xff, 0xff, 0xff, 0xff},
         10,
         0,
         1u << F_OFF,
         UINT32_MAX},
        {"u32 rejects 2^32",
         {0xa1, 0x63, 'o', 'f', 'f', 0x1b, 0, 0, 0, 1, 0, 0, 0, 0},
         14,
         SIM_EFORMAT,
         0,
         0},
        {"u32 rejects a negative integer", {0xa1, 0x63, 'o', 'f', 'f', 0x20}, 6, SIM_EFORMAT, 0, 0},
        {"text key wanted as text rejects a byte string",
         {0xa1, 0x61, 'd', 0x41, 'x'},
         5,
         SIM_EFORMAT,
         0,
         0},
        {"bool rejects an integer",
         {0xa1, 0x67, 'u', 'p', 'g', 'r', 'a', 'd', 'e', 0x01},
         10,
         SIM_EFORMAT,
         0,
         0},
        {"bstr rejects a text string", {0xa1, 0x63, 's', 'h', 'a', 0x60}, 6, SIM_EFORMAT, 0, 0},
        {"duplicate wanted key fails (EADDRINUSE upstream)",
         {0xa2, 0x63, 'o', 'f', 'f', 0x01, 0x63, 'o', 'f', 'f', 0x02},
         11,
         SIM_EFORMAT,
         0,
         0},
        {"duplicate unknown key is fine", {0xa2, 0x61, 'q', 0x01, 0x61, 'q', 0x02}, 7, 0, 0, 0},
        {"integer key fails", {0xa1, 0x01, 0x02}, 3, SIM_EFORMAT, 0, 0},
        {"indefinite-length text key fails",
         {0xa1, 0x7f, 0x61, 'd', 0xff, 0x61, 'x'},
         7,
         SIM_EFORMAT,
         0,
         0},
        {"not a map: list", {0x80}, 1, SIM_EFORMAT, 0, 0},
        {"not a map: text", {0x61, 'd'}, 2, SIM_EFORMAT, 0, 0},
        {"empty payload", {0}, 0, SIM_EFORMAT, 0, 0},
        {"indefinite map without break", {0xbf, 0x63, 'o', 'f', 'f', 0x01}, 6, SIM_EFORMAT, 0, 0},
        {"definite map shorter than its count",
         {0xa2, 0x63, 'o', 'f', 'f', 0x01},
         6,
         SIM_EFORMAT,
         0,
         0},
        {"key without value", {0xa1, 0x63, 'o', 'f', 'f'}, 5, SIM_EFORMAT, 0, 0},
        {"text length past the payload", {0xa1, 0x61, 'd', 0x78, 0x28, 'a'}, 6, SIM_EFORMAT, 0, 0},
        {"stray break inside a definite map", {0xa1, 0xff}, 2, SIM_EFORMAT, 0, 0},
        {"reserved additional info 28", {0xa1, 0x61, 'q', 0x1c}, 4, SIM_EFORMAT, 0, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct smp_frame_field f[N_F];
        init_fields(f);
        int rc = smp_frame_map_decode(cases[i].in, cases[i].n, f, N_F);
        if (rc != cases[i].want_rc)
            fail_msg("%s: rc %d, want %d", cases[i].name, rc, cases[i].want_rc);
        if (rc != 0)
            continue;
        unsigned found = 0;
        for (unsigned k = 0; k < N_F; k++)
            found |= f[k].found ? 1u << k : 0;
        if (found != cases[i].want_found)
            fail_msg("%s: found %#x, want %#x", cases[i].name, found, cases[i].want_found);
        if ((found & (1u << F_OFF)) && f[F_OFF].u32 != cases[i].want_off)
            fail_msg("%s: off %u, want %u", cases[i].name, f[F_OFF].u32, cases[i].want_off);
    }
}

/* UPSTREAM: zephyrproject-rtos/zephyr: tests/subsys/mgmt/mcumgr/os_mgmt_echo/src/main.c @main */
static void test_map_decode_echo_request_points_into_payload(void **state)
{
    (void)state;
    struct smp_frame_field f[N_F];
    init_fields(f);
    assert_int_equal(smp_frame_map_decode(echo_req + 8, sizeof(echo_req) - 8, f, N_F), 0);
    assert_true(f[F_D].found);
    assert_int_equal(f[F_D].str_len, 40);
    assert_ptr_equal(f[F_D].str, echo_req + 13);
    assert_memory_equal(f[F_D].str, ECHO_TEXT, 40);
}

static void test_map_decode_any_returns_nested_item_span(void **state)
{
    (void)state;
    /* {"err": {"group": 1, "rc": 9}} as a Zephyr v2 response carries it */
    const uint8_t in[] = {0xbf, 0x63, 'e',  'r',  'r', 0xbf, 0x65, 'g',  'r', 'o',
                          'u',  'p',  0x01, 0x62, 'r', 'c',  0x09, 0xff, 0xff};
    struct smp_frame_field f[N_F];
    init_fields(f);
    assert_int_equal(smp_frame_map_decode(in, sizeof(in), f, N_F), 0);
    assert_true(f[F_ANY].found);
    assert_ptr_equal(f[F_ANY].str, in + 5);
    assert_int_equal(f[F_ANY].str_len, 13);
    struct smp_frame_field g[] = {{.key = "group", .type = SMP_FRAME_T_U32},
                                  {.key = "rc", .type = SMP_FRAME_T_U32}};
    assert_int_equal(smp_frame_map_decode(f[F_ANY].str, f[F_ANY].str_len, g, 2), 0);
    assert_int_equal(g[0].u32, 1);
    assert_int_equal(g[1].u32, 9);
}

static void test_map_decode_rejects_nesting_past_the_limit(void **state)
{
    (void)state;
    uint8_t in[64];
    size_t n = 0;
    in[n++] = 0xa1;
    in[n++] = 0x61;
    in[n++] = 'z';
    for (int i = 0; i < SMP_FRAME_MAX_DEPTH + 2; i++)
        in[n++] = 0x81; /* list of one */
    in[n++] = 0x00;
    struct smp_frame_field f[N_F];
    init_fields(f);
    assert_int_equal(smp_frame_map_decode(in, n, f, N_F), SIM_EFORMAT);
    /* at the limit it still decodes */
    n = 0;
    in[n++] = 0xa1;
    in[n++] = 0x61;
    in[n++] = 'z';
    for (int i = 0; i < SMP_FRAME_MAX_DEPTH - 1; i++)
        in[n++] = 0x81;
    in[n++] = 0x00;
    assert_int_equal(smp_frame_map_decode(in, n, f, N_F), 0);
}

static void test_item_len(void **state)
{
    (void)state;
    size_t len = 0;
    assert_int_equal(smp_frame_item_len(echo_rsp + 8, sizeof(echo_rsp) - 8, &len), 0);
    assert_int_equal(len, 46);
    assert_int_equal(smp_frame_item_len(echo_rsp + 8, 45, &len), SIM_EFORMAT);
    const uint8_t chunked[] = {0x5f, 0x41, 0x01, 0x40, 0xff, 0x00};
    assert_int_equal(smp_frame_item_len(chunked, sizeof(chunked), &len), 0);
    assert_int_equal(len, 5);
    const uint8_t tagged[] = {0xc1, 0x1a, 0, 0, 0, 1};
    assert_int_equal(smp_frame_item_len(tagged, sizeof(tagged), &len), 0);
    assert_int_equal(len, 6);
    const uint8_t odd_indef_map[] = {0xbf, 0x01, 0xff};
    assert_int_equal(smp_frame_item_len(odd_indef_map, 3, &len), SIM_EFORMAT);
}

/* Random bytes and mutated valid payloads never crash and never read out of bounds
 * (the ASan and valgrind runs check the second half of that claim). */
static void test_map_decode_survives_garbage(void **state)
{
    (void)state;
    uint32_t x = 0x12345678u;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t buf[48];
        size_t n = (size_t)(iter % 47); /* up to the 46-byte echo payload */
        if (iter % 2) {
            memcpy(buf, echo_req + 8, n);
        }
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if (iter % 2 == 0 || (x & 7) == 0)
                buf[i] = (uint8_t)x;
        }
        uint8_t *heap = malloc(n ? n : 1);
        assert_non_null(heap);
        memcpy(heap, buf, n);
        struct smp_frame_field f[N_F];
        init_fields(f);
        int rc = smp_frame_map_decode(heap, n, f, N_F);
        assert_true(rc == 0 || rc == SIM_EFORMAT);
        size_t len;
        rc = smp_frame_item_len(heap, n, &len);
        assert_true(rc == SIM_EFORMAT || (rc == 0 && len <= n));
        free(heap);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hdr_echo_request_decodes_to_write_v1_os_echo),
        cmocka_unit_test(test_hdr_encode_table),
        cmocka_unit_test(test_hdr_decode_ignores_reserved_bits_and_round_trips),
        cmocka_unit_test(test_hdr_decode_rejects_truncated_header),
        cmocka_unit_test(test_writer_builds_echo_response_payload_like_zcbor),
        cmocka_unit_test(test_writer_integers_use_shortest_form),
        cmocka_unit_test(test_writer_other_items),
        cmocka_unit_test(test_writer_overflow_is_sticky_and_keeps_whole_items),
        cmocka_unit_test(test_writer_bstr_space_encodes_like_put_bstr),
        cmocka_unit_test(test_map_decode_table),
        cmocka_unit_test(test_map_decode_echo_request_points_into_payload),
        cmocka_unit_test(test_map_decode_any_returns_nested_item_span),
        cmocka_unit_test(test_map_decode_rejects_nesting_past_the_limit),
        cmocka_unit_test(test_item_len),
        cmocka_unit_test(test_map_decode_survives_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
