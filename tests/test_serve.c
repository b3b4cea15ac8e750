/* tests/test_serve.c - `dfusim serve` against a client written for the tests: the built
 * binary is started on a free port base, a client speaks SMP over UDP to it (a whole DFU of
 * the real image tests/data/mcuboot/signed.bin, malformed datagrams, 50 clients at once),
 * and the results database it writes on SIGINT is read back.
 *
 * The client is plain SMP v2 over UDP (one packet per datagram, as Zephyr's smp_udp.c
 * takes them), built with models/smp/frame.h; it retries a request that gets no answer.
 * Times measured here are wall times; the model's are read from the database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "image_builder.h"
#include "models/mcuboot/image.h"
#include "models/smp/frame.h"
#include "models/smp/mgmt.h"

#define SCENARIO            DFUSIM_SOURCE_DIR "/tests/scenarios/serve/dfu.yaml"
#define POWER_LOSS_SCENARIO DFUSIM_SOURCE_DIR "/tests/scenarios/serve/power-loss.yaml"
#define IMAGE               DFUSIM_SOURCE_DIR "/tests/data/mcuboot/signed.bin"
#define DFUSIM              DFUSIM_BINARY_DIR "/dfusim"
#define N_DEV               50
#define CHUNK               1024 /* data bytes per upload request: the datagram fits the 2475-byte net_buf */

/* The image's hash (SHA256 TLV): tests/data/mcuboot/README.md. */
static const char image_hash_hex[] =
    "fd6b779acc61b6ef2f783c4d57ec98704a12d9d457a4bc48e5785105b86a8ed0";

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the server process ------------------------------------------------------------------ */

struct server {
    pid_t pid;
    int port;
    double speed;
    char db[256];
};

/* A base port with n free UDP ports after it on 127.0.0.1 (tried by binding them). */
static int free_base(int n)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        int base = 20000 + (int)((getpid() * 7919u + (unsigned)attempt * 613u) % 40000u);
        if (base + n > 65535)
            continue;
        int fds[N_DEV + 1], k = 0;
        for (; k < n; k++) {
            struct sockaddr_in a = {.sin_family = AF_INET,
                                    .sin_port = htons((uint16_t)(base + k)),
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            fds[k] = socket(AF_INET, SOCK_DGRAM, 0);
            if (fds[k] < 0 || bind(fds[k], (struct sockaddr *)&a, sizeof(a)) != 0) {
                if (fds[k] >= 0)
                    close(fds[k]);
                break;
            }
        }
        for (int j = 0; j < k; j++)
            close(fds[j]);
        if (k == n)
            return base;
    }
    return -1;
}

static pid_t running = -1; /* a server a failed test left behind (teardown kills it) */

/* Start `dfusim serve` and wait for its first line (the sockets are open then); extra: more
 * options, separated by spaces. */
static const char *scenario = SCENARIO; /* what server_start serves */

static void server_start(struct server *sv, double speed, int n_dev, const char *extra)
{
    sv->speed = speed;
    sv->port = free_base(n_dev);
    assert_true(sv->port > 0);
    snprintf(sv->db, sizeof(sv->db), "%s/test_serve-%d-%d.db", DFUSIM_BINARY_DIR, (int)getpid(),
             sv->port);
    unlink(sv->db);
    char port[16], spd[32], n[16];
    snprintf(port, sizeof(port), "%d", sv->port);
    snprintf(spd, sizeof(spd), "%g", speed);
    snprintf(n, sizeof(n), "%d", n_dev);
    int p[2];
    assert_int_equal(pipe(p), 0);
    sv->pid = fork();
    assert_true(sv->pid >= 0);
    if (sv->pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        char *argv[24] = {DFUSIM,      "serve", (char *)scenario, "--port", port, "--speed", spd,
                          "--devices", n,       "--db",           sv->db,   "-q"};
        int k = 12;
        char more[512];
        snprintf(more, sizeof(more), "%s", extra != NULL ? extra : "");
        for (char *t = strtok(more, " "); t != NULL && k < 23; t = strtok(NULL, " "))
            argv[k++] = t;
        argv[k] = NULL;
        execv(DFUSIM, argv);
        _exit(127);
    }
    close(p[1]);
    running = sv->pid;
    char line[512];
    size_t got = 0;
    while (got < sizeof(line) - 1) {
        ssize_t r = read(p[0], line + got, 1);
        if (r <= 0 || line[got] == '\n')
            break;
        got++;
    }
    line[got] = '\0';
    close(p[0]); /* later lines go to a closed pipe: serve ignores write errors on stdout */
    assert_non_null(strstr(line, "dfusim serve: serve-"));
}

static int kill_server(void **state)
{
    (void)state;
    if (running > 0) {
        kill(running, SIGKILL);
        waitpid(running, NULL, 0);
    }
    running = -1;
    return 0;
}

/* SIGINT: the session ends, the database is written, the exit code is 0. */
static void server_stop(struct server *sv)
{
    running = -1;
    assert_int_equal(kill(sv->pid, SIGINT), 0);
    int st = 0;
    assert_int_equal(waitpid(sv->pid, &st, 0), sv->pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- the client ------------------------------------------------------------------------- */

struct client {
    int fd;
    struct sockaddr_storage to;
    socklen_t to_len;
    uint8_t seq;
    char why[160]; /* what went wrong */
};

static int client_open(struct client *c, int port, bool v6)
{
    memset(c, 0, sizeof(*c));
    c->fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&c->to;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        a->sin6_addr = in6addr_loopback;
        c->to_len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&c->to;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        c->to_len = sizeof(*a);
    }
    return c->fd >= 0 ? 0 : -1;
}

static void client_close(struct client *c)
{
    close(c->fd);
}

static void raw_send(struct client *c, const uint8_t *p, size_t n)
{
    (void)sendto(c->fd, p, n, 0, (struct sockaddr *)&c->to, c->to_len);
}

/* The next datagram within timeout_s (wall), or -1. */
static ssize_t raw_recv(struct client *c, uint8_t *buf, size_t cap, double timeout_s)
{
    struct pollfd pf = {.fd = c->fd, .events = POLLIN};
    double end = wall() + timeout_s;
    for (;;) {
        double left = end - wall();
        if (left <= 0)
            return -1;
        int r = poll(&pf, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        return recv(c->fd, buf, cap, 0);
    }
}

/* One request (v2 header), its response's CBOR in rsp (len returned), or -1 when no
 * answer came within timeout_s, `tries` times. */
static ssize_t request(struct client *c, uint8_t op, uint16_t group, uint8_t id,
                       const uint8_t *cbor, size_t len, uint8_t *rsp, size_t cap, double timeout_s,
                       int tries)
{
    uint8_t pkt[SMP_MGMT_HDR_SIZE + 2048];
    for (int t = 0; t < tries; t++) {
        uint8_t seq = c->seq++;
        struct smp_frame_hdr h = {.len = (uint16_t)len,
                                  .group = group,
                                  .op = op,
                                  .version = SMP_MGMT_VERSION_2,
                                  .seq = seq,
                                  .id = id};
        smp_frame_hdr_encode(&h, pkt);
        memcpy(pkt + SMP_MGMT_HDR_SIZE, cbor, len);
        raw_send(c, pkt, SMP_MGMT_HDR_SIZE + len);
        double end = wall() + timeout_s;
        uint8_t in[4096];
        ssize_t n;
        while ((n = raw_recv(c, in, sizeof(in), end - wall())) >= 0) {
            struct smp_frame_hdr r;
            if (smp_frame_hdr_decode(&r, in, (size_t)n) != 0 || r.seq != seq || r.op != op + 1 ||
                r.group != group || r.id != id || (size_t)n < (size_t)SMP_MGMT_HDR_SIZE + r.len ||
                r.len > cap)
                continue; /* a late answer to an earlier try */
            memcpy(rsp, in + SMP_MGMT_HDR_SIZE, r.len);
            return r.len;
        }
    }
    return -1;
}

/* {"rc": x} or a v2 "err" in a response: x (or -1 for err), else 0. */
static int rsp_rc(const uint8_t *p, size_t n)
{
    struct smp_frame_field f[] = {{.key = "rc", .type = SMP_FRAME_T_U32},
                                  {.key = "err", .type = SMP_FRAME_T_ANY}};
    if (smp_frame_map_decode(p, n, f, 2) != 0)
        return -2;
    return f[0].found ? (int)f[0].u32 : f[1].found ? -1 : 0;
}

struct slot_info {
    bool present, active, confirmed, pending;
    uint8_t hash[32];
    char version[32];
};

/* Image list: the two slots of image 0. Returns 0 or -1 (c->why). */
static int image_list(struct client *c, struct slot_info slot[2], double timeout_s)
{
    uint8_t rsp[2048], empty[] = {0xa0};
    memset(slot, 0, 2 * sizeof(*slot));
    ssize_t n = request(c, SMP_MGMT_OP_READ, SMP_MGMT_GROUP_IMAGE, 0, empty, 1, rsp, sizeof(rsp),
                        timeout_s, 3);
    if (n < 0) {
        snprintf(c->why, sizeof(c->why), "image list: no answer");
        return -1;
    }
    struct smp_frame_field f[] = {{.key = "images", .type = SMP_FRAME_T_ANY}};
    if (smp_frame_map_decode(rsp, (size_t)n, f, 1) != 0 || !f[0].found || f[0].str_len < 2) {
        snprintf(c->why, sizeof(c->why), "image list: no images (rc %d)", rsp_rc(rsp, (size_t)n));
        return -1;
    }
    const uint8_t *p = f[0].str + 1, *end = f[0].str + f[0].str_len; /* after 0x9f or 0x8N */
    while (p < end && *p != 0xff) {
        size_t item;
        if (smp_frame_item_len(p, (size_t)(end - p), &item) != 0)
            return -1;
        struct smp_frame_field e[] = {
            {.key = "slot", .type = SMP_FRAME_T_U32},
            {.key = "hash", .type = SMP_FRAME_T_BSTR},
            {.key = "active", .type = SMP_FRAME_T_BOOL},
            {.key = "confirmed", .type = SMP_FRAME_T_BOOL},
            {.key = "pending", .type = SMP_FRAME_T_BOOL},
            {.key = "version", .type = SMP_FRAME_T_TEXT},
        };
        if (smp_frame_map_decode(p, item, e, 6) != 0 || !e[0].found || e[0].u32 > 1)
            return -1;
        struct slot_info *s = &slot[e[0].u32];
        s->present = true;
        s->active = e[2].found && e[2].b;
        s->confirmed = e[3].found && e[3].b;
        s->pending = e[4].found && e[4].b;
        if (e[1].found && e[1].str_len == 32)
            memcpy(s->hash, e[1].str, 32);
        if (e[5].found && e[5].str_len < sizeof(s->version))
            snprintf(s->version, sizeof(s->version), "%.*s", (int)e[5].str_len, e[5].str);
        p += item;
    }
    return 0;
}

static void hex_bytes(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

struct dfu_result {
    double reset_wall; /* the reset's answer arrived */
    double back_wall;  /* the first answer after it from the new image */
    int chunks;
};

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(c->why, sizeof(c->why), __VA_ARGS__);                                             \
        return -1;                                                                                 \
    } while (0)

/* One image upload request at off (the first carries image, len and the file's sha), tries
 * times timeout_s. Returns the length of the answer in rsp, or -1 if none came. */
static ssize_t upload_request(struct client *c, const uint8_t *img, size_t img_len,
                              const uint8_t sha[32], uint32_t off, double timeout_s, int tries,
                              uint8_t *rsp, size_t cap)
{
    uint8_t buf[2048];
    size_t k = img_len - off < CHUNK ? img_len - off : CHUNK;
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, buf, sizeof(buf));
    smp_frame_put_map(&w, off == 0 ? 5 : 2);
    if (off == 0) {
        smp_frame_put_text(&w, "image");
        smp_frame_put_uint(&w, 0);
        smp_frame_put_text(&w, "len");
        smp_frame_put_uint(&w, img_len);
        smp_frame_put_text(&w, "sha");
        smp_frame_put_bstr(&w, sha, 32);
    }
    smp_frame_put_text(&w, "off");
    smp_frame_put_uint(&w, off);
    smp_frame_put_text(&w, "data");
    smp_frame_put_bstr(&w, img + off, k);
    return request(c, SMP_MGMT_OP_WRITE, SMP_MGMT_GROUP_IMAGE, 1, buf, w.len, rsp, cap, timeout_s,
                   tries);
}

/* A whole DFU against the device on `port`: echo, list, upload, list, test, reset, wait for
 * the swap, list, confirm, list. Returns 0, or -1 with the reason in c->why. Slow steps
 * are given timeout_s (wall) per answer. */
static int run_dfu(struct client *c, const uint8_t *img, size_t img_len, const uint8_t hash[32],
                   double timeout_s, struct dfu_result *res)
{
    uint8_t sha[32], buf[2048], rsp[2048];
    SHA256(img, img_len, sha);
    struct smp_frame_writer w;
    /* echo */
    smp_frame_writer_init(&w, buf, sizeof(buf));
    smp_frame_put_map(&w, 1);
    smp_frame_put_text(&w, "d");
    smp_frame_put_text(&w, "hello dfusim");
    /* (the device may still be booting, or its link coming up: ask again every 0.1 s) */
    ssize_t n = request(c, SMP_MGMT_OP_WRITE, SMP_MGMT_GROUP_OS, 0, buf, w.len, rsp, sizeof(rsp),
                        0.1, (int)(timeout_s * 10));
    struct smp_frame_field r[] = {{.key = "r", .type = SMP_FRAME_T_TEXT}};
    if (n < 0 || smp_frame_map_decode(rsp, (size_t)n, r, 1) != 0 || !r[0].found ||
        r[0].str_len != 12 || memcmp(r[0].str, "hello dfusim", 12) != 0)
        FAIL("echo: no or wrong answer");
    /* list: the factory image runs confirmed in slot 0 */
    struct slot_info s[2];
    if (image_list(c, s, timeout_s) != 0)
        return -1;
    if (!s[0].present || !s[0].active || !s[0].confirmed || memcmp(s[0].hash, hash, 32) == 0)
        FAIL("first list: slot 0 is not the factory image, active and confirmed");
    /* upload, one chunk at a time */
    uint32_t off = 0;
    res->chunks = 0;
    while (off < img_len) {
        n = upload_request(c, img, img_len, sha, off, timeout_s, 5, rsp, sizeof(rsp));
        struct smp_frame_field o[] = {{.key = "off", .type = SMP_FRAME_T_U32}};
        if (n < 0)
            FAIL("upload: no answer at offset %u", off);
        if (rsp_rc(rsp, (size_t)n) != 0 || smp_frame_map_decode(rsp, (size_t)n, o, 1) != 0 ||
            !o[0].found)
            FAIL("upload: refused at offset %u (rc %d)", off, rsp_rc(rsp, (size_t)n));
        off = o[0].u32;
        res->chunks++;
    }
    /* list: the upload is in slot 1, neither pending nor confirmed */
    if (image_list(c, s, timeout_s) != 0)
        return -1;
    if (!s[1].present || memcmp(s[1].hash, hash, 32) != 0 || s[1].pending || s[1].confirmed)
        FAIL("list after the upload: slot 1 does not hold the image, idle");
    /* test */
    smp_frame_writer_init(&w, buf, sizeof(buf));
    smp_frame_put_map(&w, 2);
    smp_frame_put_text(&w, "hash");
    smp_frame_put_bstr(&w, hash, 32);
    smp_frame_put_text(&w, "confirm");
    smp_frame_put_bool(&w, false);
    n = request(c, SMP_MGMT_OP_WRITE, SMP_MGMT_GROUP_IMAGE, 0, buf, w.len, rsp, sizeof(rsp),
                timeout_s, 3);
    if (n < 0 || rsp_rc(rsp, (size_t)n) != 0)
        FAIL("test: refused");
    if (image_list(c, s, timeout_s) != 0)
        return -1;
    if (!s[1].pending || s[1].confirmed)
        FAIL("list after test: slot 1 is not pending");
    /* reset */
    uint8_t empty[] = {0xa0};
    n = request(c, SMP_MGMT_OP_WRITE, SMP_MGMT_GROUP_OS, 5, empty, 1, rsp, sizeof(rsp), timeout_s,
                3);
    if (n < 0 || rsp_rc(rsp, (size_t)n) != 0)
        FAIL("reset: refused");
    res->reset_wall = wall();
    /* wait for the swap: an image list every so often until the new image answers (the
     * old one answers for os_mgmt's reset delay, 250 ms of simulated time) */
    for (;;) {
        if (wall() - res->reset_wall > 120)
            FAIL("the device did not come back after the reset");
        if (image_list(c, s, 0.05) == 0 && memcmp(s[0].hash, hash, 32) == 0)
            break;
    }
    res->back_wall = wall();
    if (!s[0].present || !s[0].active || s[0].confirmed || memcmp(s[0].hash, hash, 32) != 0)
        FAIL("list after the swap: slot 0 does not run the new image unconfirmed (present %d "
             "active %d confirmed %d, slot 1 present %d active %d confirmed %d pending %d)",
             s[0].present, s[0].active, s[0].confirmed, s[1].present, s[1].active, s[1].confirmed,
             s[1].pending);
    /* confirm the running image */
    smp_frame_writer_init(&w, buf, sizeof(buf));
    smp_frame_put_map(&w, 1);
    smp_frame_put_text(&w, "confirm");
    smp_frame_put_bool(&w, true);
    n = request(c, SMP_MGMT_OP_WRITE, SMP_MGMT_GROUP_IMAGE, 0, buf, w.len, rsp, sizeof(rsp),
                timeout_s, 3);
    if (n < 0 || rsp_rc(rsp, (size_t)n) != 0)
        FAIL("confirm: refused");
    if (image_list(c, s, timeout_s) != 0)
        return -1;
    if (!s[0].confirmed || memcmp(s[0].hash, hash, 32) != 0)
        FAIL("list after confirm: the new image is not confirmed");
    return 0;
}

static uint8_t *read_image(size_t *len)
{
    FILE *f = fopen(IMAGE, "rb");
    assert_non_null(f);
    uint8_t *b = malloc(200000);
    assert_non_null(b);
    *len = fread(b, 1, 200000, f);
    fclose(f);
    assert_int_equal(*len, 103063);
    return b;
}

/* ---- the database ------------------------------------------------------------------------- */

static int64_t db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* ---- tests -------------------------------------------------------------------------------- */

/* The whole DFU at `speed`; the device is unreachable for at least its modelled swap. */
static void full_dfu(double speed, const char *extra)
{
    size_t len;
    uint8_t *img = read_image(&len);
    struct server sv;
    server_start(&sv, speed, 2, extra);
    struct client c;
    assert_int_equal(client_open(&c, sv.port, false), 0);
    struct dfu_result res;
    uint8_t hash[32];
    hex_bytes(image_hash_hex, hash, 32);
    int rc = run_dfu(&c, img, len, hash, 10.0, &res);
    if (rc != 0)
        fprintf(stderr, "DFU failed: %s\n", c.why);
    assert_int_equal(rc, 0);
    client_close(&c);
    server_stop(&sv);

    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(sv.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(db_int(db, "SELECT count(*) FROM runs WHERE status = 'complete'"), 1);
    assert_int_equal(db_int(db, "SELECT count(*) FROM dfu_attempts"), 1);
    assert_int_equal(db_int(db, "SELECT count(*) FROM dfu_attempts WHERE device_id = 0 AND "
                                "outcome = 'updated' AND client = 'external'"),
                     1);
    /* every milestone of the attempt, in order */
    assert_int_equal(db_int(db, "SELECT count(*) FROM dfu_attempts WHERE start_ns <= "
                                "validate_ns AND validate_ns <= upload_start_ns AND "
                                "upload_start_ns < upload_end_ns AND upload_end_ns <= test_ns "
                                "AND test_ns <= reset_ns AND reset_ns < swap_start_ns AND "
                                "swap_start_ns < swap_end_ns AND swap_end_ns < reconnect_ns AND "
                                "reconnect_ns <= confirm_ns AND confirm_ns <= end_ns"),
                     1);
    assert_int_equal(db_int(db, "SELECT chunks FROM dfu_attempts"), res.chunks);
    assert_int_equal(db_int(db, "SELECT bytes_sent FROM dfu_attempts"), (int64_t)len);
    assert_int_equal(db_int(db, "SELECT image_bytes FROM dfu_attempts"), (int64_t)len);
    assert_int_equal(db_int(db, "SELECT count(*) FROM chunks WHERE rc = 0"), res.chunks);
    assert_int_equal(db_int(db, "SELECT sum(len) FROM chunks"), (int64_t)len);
    assert_int_equal(db_int(db, "SELECT count(*) FROM swaps WHERE device_id = 0 AND outcome = "
                                "'swapped'"),
                     1);
    assert_int_equal(db_int(db, "SELECT state = 'updated' AND attempts = 1 FROM devices WHERE "
                                "device_id = 0"),
                     1);
    assert_int_equal(db_int(db, "SELECT state FROM devices WHERE device_id = 1") != -1, 1);
    int64_t swap_ns = db_int(db, "SELECT end_ns - start_ns FROM swaps");
    int64_t reset_to_back_ns = db_int(db, "SELECT reconnect_ns - reset_ns FROM dfu_attempts");
    sqlite3_close(db);
    unlink(sv.db);
    free(img);
    /* The modelled swap (MCUboot's swap-move of a 103 KB image on the nRF52840 DK) takes
     * time, and for all of it the device answered nothing: between the reset's answer and
     * the first answer after it, at least swap / speed of wall time passed. */
    assert_true(swap_ns > 100000000LL);
    double gap = res.back_wall - res.reset_wall;
    assert_true(gap >= (double)swap_ns / 1e9 / speed);
    /* and the model's own count of that gap agrees with the wall clock's within the polling
     * period and the host's scheduling (generous: shared CI machines) */
    assert_true(reset_to_back_ns >= swap_ns);
    assert_true(gap <= (double)reset_to_back_ns / 1e9 / speed + 1.0);
}

static void test_full_dfu_speed_20(void **state)
{
    (void)state;
    full_dfu(20.0, NULL);
}

static void test_full_dfu_speed_1_direct(void **state)
{
    (void)state;
    full_dfu(1.0, "--direct");
}

/* What comes back for one raw datagram within the wait, or -1. */
static ssize_t exchange(struct client *c, const uint8_t *p, size_t n, uint8_t *rsp, size_t cap,
                        double wait)
{
    raw_send(c, p, n);
    return raw_recv(c, rsp, cap, wait);
}

static void echo_ok(struct client *c)
{
    uint8_t cbor[] = {0xa1, 0x61, 'd', 0x62, 'o', 'k'}, rsp[64];
    ssize_t n = request(c, SMP_MGMT_OP_WRITE, SMP_MGMT_GROUP_OS, 0, cbor, sizeof(cbor), rsp,
                        sizeof(rsp), 0.1, 50);
    assert_int_equal(n, 7); /* bf 61 72 62 6f 6b ff: {"r": "ok"}, indefinite */
}

/* Malformed datagrams are answered as Zephyr's SMP layer answers them, or dropped as its
 * UDP transport drops them (zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/transport/src/
 * smp_udp.c, smp.c: smp_process_request_packet), and the device goes on answering. */
static void test_malformed(void **state)
{
    (void)state;
    struct server sv;
    server_start(&sv, 20.0, 2, NULL);
    struct client c;
    assert_int_equal(client_open(&c, sv.port + 1, true), 0); /* device 1, over IPv6 */
    echo_ok(&c);
    uint8_t rsp[4096];
    struct smp_frame_hdr h;
    /* a truncated header (5 bytes): no header can be read, nothing is answered */
    uint8_t trunc[] = {0x0a, 0x00, 0x00, 0x06, 0x00};
    assert_int_equal(exchange(&c, trunc, sizeof(trunc), rsp, sizeof(rsp), 0.5), -1);
    echo_ok(&c);
    /* the length field says more than the datagram holds: rc ECORRUPT */
    uint8_t longer[] = {0x0a, 0x00, 0x00, 0x10, 0x00, 0x00, 0x01, 0x00, 0xa1, 0x61, 'd', 0x61, 'x'};
    ssize_t n = exchange(&c, longer, sizeof(longer), rsp, sizeof(rsp), 5.0);
    assert_true(n > SMP_MGMT_HDR_SIZE);
    assert_int_equal(smp_frame_hdr_decode(&h, rsp, (size_t)n), 0);
    assert_int_equal(rsp_rc(rsp + 8, h.len), SMP_MGMT_ERR_ECORRUPT);
    echo_ok(&c);
    /* the length field says less: the request is its first 3 CBOR bytes (a map cut short:
     * the echo handler's decode fails, rc EINVAL); the 2 bytes after it are too few for a
     * header and are dropped */
    uint8_t shorter[] = {0x0a, 0x00, 0x00, 0x03, 0x00, 0x00, 0x02,
                         0x00, 0xa1, 0x61, 'd',  0x61, 'x'};
    n = exchange(&c, shorter, sizeof(shorter), rsp, sizeof(rsp), 5.0);
    assert_true(n > SMP_MGMT_HDR_SIZE);
    assert_int_equal(smp_frame_hdr_decode(&h, rsp, (size_t)n), 0);
    assert_int_equal(h.seq, 2);
    assert_int_equal(rsp_rc(rsp + 8, h.len), SMP_MGMT_ERR_EINVAL);
    assert_int_equal(exchange(&c, NULL, 0, rsp, sizeof(rsp), 0.3), -1); /* nothing more */
    /* invalid CBOR (a break with nothing to close): rc EINVAL */
    uint8_t badcbor[] = {0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0xff, 0xff};
    n = exchange(&c, badcbor, sizeof(badcbor), rsp, sizeof(rsp), 5.0);
    assert_true(n > SMP_MGMT_HDR_SIZE);
    assert_int_equal(smp_frame_hdr_decode(&h, rsp, (size_t)n), 0);
    assert_int_equal(rsp_rc(rsp + 8, h.len), SMP_MGMT_ERR_EINVAL);
    /* an unknown group (77): rc ENOTSUP */
    uint8_t unknown[] = {0x0a, 0x00, 0x00, 0x01, 0x00, 77, 0x04, 0x00, 0xa0};
    n = exchange(&c, unknown, sizeof(unknown), rsp, sizeof(rsp), 5.0);
    assert_true(n > SMP_MGMT_HDR_SIZE);
    assert_int_equal(smp_frame_hdr_decode(&h, rsp, (size_t)n), 0);
    assert_int_equal(h.group, 77);
    assert_int_equal(rsp_rc(rsp + 8, h.len), SMP_MGMT_ERR_ENOTSUP);
    /* oversize: longer than the net_buf (2475 B) but within the MTU would be dropped by the
     * pool; longer than the UDP MTU (1500) never reaches SMP. Both: no answer. */
    uint8_t big[3000];
    memset(big, 0, sizeof(big));
    for (size_t len = 1600; len <= sizeof(big); len += 1400) {
        uint8_t hdr[] = {0x0a, 0x00, (uint8_t)((len - 8) >> 8), (uint8_t)(len - 8), 0x00, 0x00,
                         0x05, 0x00};
        memcpy(big, hdr, sizeof(hdr));
        big[8] = 0xa0;
        assert_int_equal(exchange(&c, big, len, rsp, sizeof(rsp), 0.5), -1);
    }
    /* an empty datagram: nothing */
    assert_int_equal(exchange(&c, big, 0, rsp, sizeof(rsp), 0.3), -1);
    echo_ok(&c);
    client_close(&c);
    server_stop(&sv);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(sv.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(db_int(db, "SELECT count(*) FROM runs WHERE status = 'complete'"), 1);
    assert_int_equal(db_int(db, "SELECT count(*) FROM dfu_attempts"), 0);
    sqlite3_close(db);
    unlink(sv.db);
}

/* 50 clients at once, one per device, each a whole DFU; every device ends updated. */
static void test_soak_50(void **state)
{
    (void)state;
    size_t len;
    uint8_t *img = read_image(&len);
    struct server sv;
    server_start(&sv, 20.0, N_DEV, NULL);
    pid_t kids[N_DEV];
    uint8_t hash[32];
    hex_bytes(image_hash_hex, hash, 32);
    for (int i = 0; i < N_DEV; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            struct client c;
            struct dfu_result res;
            int rc = client_open(&c, sv.port + i, i % 2 == 1) != 0
                         ? -1
                         : run_dfu(&c, img, len, hash, 20.0, &res);
            if (rc != 0)
                fprintf(stderr, "device %d: %s\n", i, c.why);
            _exit(rc == 0 ? 0 : 1);
        }
    }
    int ok = 0;
    for (int i = 0; i < N_DEV; i++) {
        int st = 0;
        assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
        ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    server_stop(&sv);
    assert_int_equal(ok, N_DEV);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(sv.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(db_int(db, "SELECT count(*) FROM devices WHERE state = 'updated'"), N_DEV);
    assert_int_equal(db_int(db, "SELECT count(*) FROM dfu_attempts WHERE outcome = 'updated'"),
                     N_DEV);
    sqlite3_close(db);
    unlink(sv.db);
    free(img);
}

/* A build the scenario does not name (another version, made here as imgtool lays it out)
 * uploads, is listed with its own hash and version, swaps in and is confirmed: the slots keep
 * what was written (models/mcuboot/slots.h, mcuboot_slots_learner). */
static void test_unknown_build(void **state)
{
    (void)state;
    static const struct ib_op ops[] = {IB_OP_HASH};
    const struct ib_spec spec = {
        .body_len = 40000, .body_seed = 11, .version = {4, 5, 6, 0}, .ops = ops, .n_ops = 1};
    uint8_t *img = NULL;
    size_t len = 0;
    assert_int_equal(ib_build(&spec, &img, &len), 0);
    struct mcuboot_image want;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(mcuboot_image_parse(img, len, "unknown", &want, &d), 0);
    struct server sv;
    server_start(&sv, 20.0, 1, NULL);
    struct client c;
    assert_int_equal(client_open(&c, sv.port, false), 0);
    struct dfu_result res;
    int rc = run_dfu(&c, img, len, want.hash, 10.0, &res);
    if (rc != 0)
        fprintf(stderr, "DFU failed: %s\n", c.why);
    assert_int_equal(rc, 0);
    struct slot_info s[2];
    assert_int_equal(image_list(&c, s, 10.0), 0);
    assert_string_equal(s[0].version, "4.5.6");
    assert_memory_equal(s[0].hash, want.hash, 32);
    client_close(&c);
    server_stop(&sv);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(sv.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(db_int(db, "SELECT count(*) FROM devices WHERE state = 'updated'"), 1);
    assert_int_equal(db_int(db, "SELECT count(*) FROM dfu_attempts WHERE outcome = 'updated'"), 1);
    sqlite3_close(db);
    unlink(sv.db);
    free(img);
}

/* --direct --pcap: the datagrams a client exchanged with device 0, as tshark decodes them:
 * UDP between the client's port and device 0's on loopback, each an SMP packet whose header
 * the test sent (image list requests: op read, group image, id 0; a request sent while the
 * device was still starting goes unanswered and is resent) or the device answered (op read
 * response, the seq of a request). Device 1's traffic is not in the file. */
static void test_pcap_direct(void **state)
{
    (void)state;
    if (system("tshark --version >/dev/null 2>&1") != 0)
        fail_msg("tshark not found: this test decodes the capture with it (Debian package "
                 "tshark; ./setup.sh installs it)");
    char pcap[256], extra[320];
    snprintf(pcap, sizeof(pcap), "%s/test_serve-%d.pcap", DFUSIM_BINARY_DIR, (int)getpid());
    unlink(pcap);
    snprintf(extra, sizeof(extra), "--direct --pcap %s", pcap);
    struct server sv;
    server_start(&sv, 20.0, 2, extra);
    struct client c;
    assert_int_equal(client_open(&c, sv.port, false), 0);
    struct slot_info sl[2];
    assert_int_equal(image_list(&c, sl, 10.0), 0);
    assert_int_equal(image_list(&c, sl, 10.0), 0);
    client_close(&c);
    assert_int_equal(client_open(&c, sv.port + 1, false), 0); /* device 1: not captured */
    assert_int_equal(image_list(&c, sl, 10.0), 0);
    client_close(&c);
    server_stop(&sv);
    unlink(sv.db);
    char cmd[600], line[512];
    snprintf(cmd, sizeof(cmd),
             "tshark -r '%s' -T fields -e udp.srcport -e udp.dstport -e data.data 2>/dev/null",
             pcap);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    int req = 0, rsp = 0;
    bool asked[256] = {false};
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned sport, dport, b0, flags, len, group, seq, id;
        char hex[400];
        if (sscanf(line, "%u %u %399s", &sport, &dport, hex) != 3 ||
            sscanf(hex, "%2x%2x%4x%4x%2x%2x", &b0, &flags, &len, &group, &seq, &id) != 6)
            fail_msg("tshark line: %s", line);
        assert_int_equal(group, SMP_MGMT_GROUP_IMAGE);
        assert_int_equal(id, 0);
        assert_int_equal(len * 2, strlen(hex) - 16); /* the header's length is the payload's */
        if (dport == (unsigned)sv.port) {
            req++;
            assert_int_equal(b0 & 7, SMP_MGMT_OP_READ);
            asked[seq] = true;
        } else {
            rsp++;
            assert_int_equal(sport, (unsigned)sv.port);
            assert_int_equal(b0 & 7, SMP_MGMT_OP_READ_RSP);
            assert_true(asked[seq]);
        }
    }
    assert_int_equal(pclose(f), 0);
    assert_int_equal(rsp, 2); /* two lists of device 0 answered */
    assert_true(req >= 2 && req <= 2 + 3);
    unlink(pcap);
}

/* A power loss in the middle of the upload (the scenario's fault): the device goes off the
 * air (no answer), comes back on its old image after the outage and its boot, and its
 * secondary slot does not hold the image (the cut write spoilt it): the upload is refused a
 * "match" and the slot lists no image with its hash. */
static void test_power_loss_mid_upload(void **state)
{
    (void)state;
    size_t len;
    uint8_t *img = read_image(&len);
    uint8_t sha[32], hash[32], rsp[2048];
    SHA256(img, len, sha);
    hex_bytes(image_hash_hex, hash, 32);
    scenario = POWER_LOSS_SCENARIO;
    struct server sv;
    server_start(&sv, 20.0, 1, NULL);
    scenario = SCENARIO;
    struct client c;
    assert_int_equal(client_open(&c, sv.port, false), 0);
    struct slot_info sl[2];
    assert_int_equal(image_list(&c, sl, 10.0), 0); /* it is up */
    uint32_t off = 0;
    bool lost = false;
    while (off < len && !lost) {
        /* one try of 0.5 s wall (10 s simulated): an answer takes milliseconds */
        ssize_t n = upload_request(&c, img, len, sha, off, 0.5, 1, rsp, sizeof(rsp));
        struct smp_frame_field o[] = {{.key = "off", .type = SMP_FRAME_T_U32}};
        if (n < 0) {
            lost = true;
            break;
        }
        assert_int_equal(smp_frame_map_decode(rsp, (size_t)n, o, 1), 0);
        assert_true(o[0].found);
        off = o[0].u32;
    }
    assert_true(lost);
    /* the cut came at half the image (the write that reached it) */
    assert_true(off >= len / 2 - CHUNK && off <= len / 2 + CHUNK);
    /* back after the outage (2 s simulated) and the boot: well within one 5 s wall try */
    assert_int_equal(image_list(&c, sl, 5.0), 0);
    assert_true(sl[0].present && sl[0].active && sl[0].confirmed);
    assert_false(sl[1].present && memcmp(sl[1].hash, hash, 32) == 0);
    client_close(&c);
    server_stop(&sv);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(sv.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(db_int(db, "SELECT count(*) FROM outages WHERE device_id = 0 AND "
                                "cause = 'power-loss'"),
                     1);
    assert_int_equal(db_int(db, "SELECT count(*) FROM devices WHERE state = 'updated'"), 0);
    sqlite3_close(db);
    unlink(sv.db);
    free(img);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (getenv("TEST_FILTER") != NULL) /* e.g. TEST_FILTER=test_soak_50 */
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_full_dfu_speed_20, kill_server),
        cmocka_unit_test_teardown(test_malformed, kill_server),
        cmocka_unit_test_teardown(test_unknown_build, kill_server),
        cmocka_unit_test_teardown(test_pcap_direct, kill_server),
        cmocka_unit_test_teardown(test_power_loss_mid_upload, kill_server),
        cmocka_unit_test_teardown(test_full_dfu_speed_1_direct, kill_server),
        cmocka_unit_test_teardown(test_soak_50, kill_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
