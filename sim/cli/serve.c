/* sim/cli/serve.c - `dfusim serve`: a scenario's devices answer real SMP clients over UDP,
 * in modelled time (README "Serving devices to real clients", docs/serve.md).
 *
 * One engine, paced by the wall clock: simulated time = (CLOCK_MONOTONIC - start) x speed.
 * The loop runs the engine up to the current simulated time (responses leave from inside
 * it, through serve_tx, when their modelled time comes), then sleeps in ppoll() until the
 * next queued event or a datagram arrives; a datagram is handed to its device at the
 * simulated time it was read. Timing is therefore as exact as the host's scheduling, not
 * deterministic: the same client run twice sees (slightly) different times.
 */
#define _GNU_SOURCE /* ppoll: a wait to the nanosecond (poll's milliseconds are 20 ms of
                       simulated time at --speed 20) */
#include "models/fleet/settings.h"
#include "models/fleet/world.h"
#include "models/serve/attempts.h"
#include "sim/cli/cli.h"
#include "sim/cli/cli_int.h"
#include "sim/cli/capture.h"
#include "sim/engine.h"
#include "sim/outfile.h"
#include "sim/recorder.h"
#include "sim/scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Documented limits (serve_usage): devices served at once (2 sockets each), and speed. */
#define SERVE_MAX_DEVICES 4096
#define SERVE_MAX_SPEED   1e6
#define SERVE_FD_SPARE    32          /* descriptors besides the sockets (database, stdio) */
#define SERVE_DGRAM_MAX   65536       /* largest datagram read (UDP's own limit) */
#define SERVE_WAIT_MAX_NS 200000000LL /* ppoll wakes at least this often (wall ns) */

static const char serve_usage[] =
    "Usage: dfusim serve SCENARIO [OPTIONS]\n"
    "\n"
    "Serve the scenario's devices to real SMP clients over UDP: device i listens on\n"
    "127.0.0.1:BASE+i and [::1]:BASE+i and answers as its model does (SMP server, MCUboot\n"
    "slots and swap, flash times, the BLE link or UART the scenario puts it behind), in\n"
    "simulated time paced by the wall clock. The scenario's own clients, rollout and\n"
    "gateways do not run; its faults apply. Point mcumgr, smpmgr or your own tool at it.\n"
    "\n"
    "Options:\n"
    "  -p, --port BASE        UDP port of device 0 (default 1337, Zephyr's SMP port)\n"
    "  -x, --speed X          simulated seconds per wall second (default 1: real time;\n"
    "                         10: ten times faster), > 0 and <= 1000000\n"
    "  -n, --devices N        serve the first N devices (default all, at most 4096; each\n"
    "                         takes 2 file descriptors, the soft limit is raised as needed)\n"
    "      --bind ADDR        listen on ADDR (IPv4 or IPv6, e.g. 0.0.0.0) instead of the\n"
    "                         loopback addresses; prints a warning: anyone who reaches it\n"
    "                         can reset and reflash the simulated devices\n"
    "      --direct           no link: each device has its own UDP transport (Ethernet,\n"
    "                         Wi-Fi); default: the device stays behind the scenario's BLE\n"
    "                         link or UART, with a bridge at the far end\n"
    "      --pcap FILE        write the chosen devices' traffic as a capture Wireshark reads\n"
    "                         (docs/captures.md), in simulated time: behind a link its BLE\n"
    "                         link-layer packets or UART bytes, as dfusim run --pcap; with\n"
    "                         --direct the UDP datagrams\n"
    "      --pcap-devices LIST  devices to capture (e.g. 0,2-4; default: device 0)\n"
    "  -o, --db FILE          results database written when the session ends (default\n"
    "                         results/NAME-serve.db); only an older results database is\n"
    "                         ever replaced\n"
    "  -s, --set KEY=VALUE    override one scenario value (repeatable)\n"
    "  -q, --quiet            no listing of the devices\n"
    "  -h, --help             show this help\n"
    "\n"
    "Ctrl-C (SIGINT) or SIGTERM ends the session: the results database (the same tables as\n"
    "dfusim run; attempts as the devices saw them) is written with status 'complete', and\n"
    "the exit code is 0. Timing follows the model but is not deterministic: it depends on\n"
    "when the client's datagrams arrive.\n";

static volatile sig_atomic_t serve_stop; /* the signal that ended the session, 0 */

static void on_stop(int sig)
{
    if (serve_stop == 0)
        serve_stop = sig;
}

struct serve_dev {
    struct serve *s;
    uint32_t id;
    int fd[2]; /* IPv4 and IPv6 sockets; -1 if none */
    struct sockaddr_storage local[2];
    struct sockaddr_storage peer; /* the last sender: where responses go */
    socklen_t peer_len;
    int peer_sock; /* 0 or 1: the socket it came on; -1 before the first datagram */
    struct serve_attempts att;
};

struct serve {
    struct sim_engine *e;
    struct fleet_world *w;
    struct serve_dev *dev;
    uint32_t n;
    double speed;
    double wall0; /* cli_wall_seconds at simulated time 0 */
    /* --pcap with --direct: every datagram that crosses a chosen device's socket, once: a
     * request when read (at the simulated time it is handed to the device), a response when
     * sent (at the time the model let it leave); a lost request too. NULL: none. Behind a
     * link, the capture is the link's own (cli_capture_open hooks it). */
    struct cli_capture *capture;
    uint64_t n_in, n_out, n_send_err;
    uint8_t *buf;
};

struct serve_options {
    const char *scenario_path;
    const char *db;
    const char *bind;
    const char **overrides;
    size_t n_overrides;
    long port;
    double speed;
    long devices; /* -1: all */
    const char *pcap, *pcap_devices;
    bool direct, quiet;
};

#define HELP_SHOWN (-1)

static int parse_options(int argc, char **argv, struct serve_options *o, FILE *out, FILE *err)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},    {"speed", required_argument, NULL, 'x'},
        {"devices", required_argument, NULL, 'n'}, {"bind", required_argument, NULL, 'B'},
        {"direct", no_argument, NULL, 'D'},        {"db", required_argument, NULL, 'o'},
        {"set", required_argument, NULL, 's'},     {"quiet", no_argument, NULL, 'q'},
        {"pcap", required_argument, NULL, 'P'},    {"pcap-devices", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    o->overrides = calloc((size_t)argc + 1, sizeof(*o->overrides));
    if (o->overrides == NULL)
        return SIM_EXIT_INTERNAL;
    o->port = 1337;
    o->speed = 1.0;
    o->devices = -1;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":p:x:n:o:s:qh", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'p':
            o->port = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || o->port < 1 || o->port > 65535) {
                fprintf(err, "dfusim serve: --port %s: expected a UDP port, 1..65535\n", optarg);
                return SIM_EXIT_USAGE;
            }
            break;
        case 'x':
            o->speed = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !isfinite(o->speed) || o->speed <= 0 ||
                o->speed > SERVE_MAX_SPEED) {
                fprintf(err, "dfusim serve: --speed %s: expected a number > 0 and <= %.0f\n",
                        optarg, SERVE_MAX_SPEED);
                return SIM_EXIT_USAGE;
            }
            break;
        case 'n':
            o->devices = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || o->devices < 1 || o->devices > SERVE_MAX_DEVICES) {
                fprintf(err, "dfusim serve: --devices %s: expected 1..%d\n", optarg,
                        SERVE_MAX_DEVICES);
                return SIM_EXIT_USAGE;
            }
            break;
        case 'B':
            o->bind = optarg;
            break;
        case 'D':
            o->direct = true;
            break;
        case 'o':
            o->db = optarg;
            break;
        case 's':
            o->overrides[o->n_overrides++] = optarg;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'P':
            o->pcap = optarg;
            break;
        case 'L':
            o->pcap_devices = optarg;
            break;
        case 'h':
            fputs(serve_usage, out);
            return HELP_SHOWN;
        default:
            return cli_option_error(err, "serve", c, argv);
        }
    }
    if (argc - optind != 1) {
        fprintf(err,
                "dfusim serve: expected exactly one SCENARIO file, got %d (see dfusim serve "
                "--help)\n",
                argc - optind);
        return SIM_EXIT_USAGE;
    }
    o->scenario_path = argv[optind];
    if (o->pcap_devices != NULL && o->pcap == NULL) {
        fprintf(err, "dfusim serve: --pcap-devices needs --pcap FILE\n");
        return SIM_EXIT_USAGE;
    }
    return 0;
}

/* ---- time ------------------------------------------------------------------------------ */

/* The simulated time now: wall time since the start x speed, never behind the engine. */
static int64_t sim_now(const struct serve *s)
{
    double t = (cli_wall_seconds() - s->wall0) * s->speed * 1e9;
    int64_t now = t < 9e18 ? (int64_t)t : INT64_MAX / 2;
    int64_t at = sim_engine_now(s->e);
    return now > at ? now : at;
}

/* ---- the devices' side ---------------------------------------------------------------- */

static void att_begin(void *env, int64_t now)
{
    struct serve_dev *d = env;
    fleet_device_ext_attempt_begin(fleet_world_device(d->s->w, d->id), now);
}
static void att_end(void *env, const struct recorder_attempt *a)
{
    struct serve_dev *d = env;
    fleet_device_ext_attempt_end(fleet_world_device(d->s->w, d->id), a);
}
static void att_chunk(void *env, const struct recorder_chunk *c)
{
    struct serve_dev *d = env;
    fleet_device_ext_chunk(fleet_world_device(d->s->w, d->id), c);
}
static void att_device(void *env, struct serve_attempts_dev *out)
{
    struct serve_dev *d = env;
    const struct fleet_device *dv = fleet_world_device(d->s->w, d->id);
    out->n_boots = fleet_device_stats_get(dv)->n_boots;
    out->runs_update = fleet_device_runs_update(dv);
    out->confirmed = fleet_device_confirmed(dv);
    out->ran_update = fleet_device_stats_get(dv)->ran_update;
}
static const struct serve_attempts_ctx att_cx_proto = {NULL, att_begin, att_end, att_chunk,
                                                       att_device};

static socklen_t family_len(int family)
{
    return family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* A response reached the client's end of the device's link at `at`: it leaves now (the
 * engine runs at wall pace, so `at` is now give or take the host's scheduling). */
static void serve_tx(void *env, uint32_t id, const uint8_t *p, size_t n, int64_t at)
{
    struct serve *s = env;
    if (id >= s->n)
        return; /* a device nobody can reach */
    struct serve_dev *d = &s->dev[id];
    if (d->peer_sock < 0)
        return;
    s->n_out++;
    if (sendto(d->fd[d->peer_sock], p, n, 0, (const struct sockaddr *)&d->peer, d->peer_len) < 0)
        s->n_send_err++; /* the client went away: UDP does not care */
    cli_capture_datagram(s->capture, id, false, (const struct sockaddr *)&d->local[d->peer_sock],
                         (const struct sockaddr *)&d->peer, p, n, at);
    struct serve_attempts_ctx cx = att_cx_proto;
    cx.env = d;
    serve_attempts_response(&d->att, p, n, at, &cx);
}

/* ---- sockets ---------------------------------------------------------------------------- */

/* A non-blocking UDP socket bound to addr (port set by the caller). Returns the fd, or -1
 * with errno. */
static int open_socket(const struct sockaddr_storage *addr)
{
    int fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    if (addr->ss_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)addr, family_len(addr->ss_family)) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void set_port(struct sockaddr_storage *a, uint16_t port)
{
    if (a->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)a)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)a)->sin_port = htons(port);
}

/* The addresses to listen on: loopback v4 and v6, or --bind's one. Returns how many (1 or
 * 2), or 0 after a message for a bad --bind. */
static int listen_addrs(const char *bind_to, struct sockaddr_storage a[2], FILE *err)
{
    memset(a, 0, 2 * sizeof(*a));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&a[0];
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a[1];
    if (bind_to == NULL) {
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_loopback;
        return 2;
    }
    if (inet_pton(AF_INET, bind_to, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        return 1;
    }
    struct in6_addr six;
    if (inet_pton(AF_INET6, bind_to, &six) == 1) {
        memset(a, 0, sizeof(*a));
        struct sockaddr_in6 *first = (struct sockaddr_in6 *)&a[0];
        first->sin6_family = AF_INET6;
        first->sin6_addr = six;
        return 1;
    }
    fprintf(err, "dfusim serve: --bind %s: expected an IPv4 or IPv6 address\n", bind_to);
    return 0;
}

/* Raise the soft limit on file descriptors to what n devices need. */
static int fd_room(uint32_t n, FILE *err)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)n * 2 + SERVE_FD_SPARE;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        fprintf(err,
                "dfusim serve: %u devices need %llu file descriptors, the limit is %llu "
                "(ulimit -n); serve fewer with --devices\n",
                n, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
        return SIM_EXIT_USAGE;
    }
    return 0;
}

/* Open every device's sockets. Returns 0 or an exit code after a message. */
static int open_sockets(struct serve *s, const struct serve_options *o, FILE *err)
{
    struct sockaddr_storage a[2];
    int n_addr = listen_addrs(o->bind, a, err);
    if (n_addr == 0)
        return SIM_EXIT_USAGE;
    if (o->port + (long)s->n - 1 > 65535) {
        fprintf(err, "dfusim serve: --port %ld with %u devices goes past port 65535\n", o->port,
                s->n);
        return SIM_EXIT_USAGE;
    }
    bool v6_warned = false;
    for (uint32_t i = 0; i < s->n; i++) {
        struct serve_dev *d = &s->dev[i];
        for (int k = 0; k < n_addr; k++) {
            d->local[k] = a[k];
            set_port(&d->local[k], (uint16_t)(o->port + (long)i));
            d->fd[k] = open_socket(&d->local[k]);
            if (d->fd[k] >= 0)
                continue;
            /* No IPv6 on this host (disabled, or no ::1): serve IPv4 alone. */
            if (o->bind == NULL && k == 1 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
                if (!v6_warned)
                    fprintf(err, "dfusim serve: warning: no IPv6 loopback here (%s); IPv4 only\n",
                            strerror(errno));
                v6_warned = true;
                continue;
            }
            char host[INET6_ADDRSTRLEN] = "?";
            const void *ip = a[k].ss_family == AF_INET6
                                 ? (const void *)&((struct sockaddr_in6 *)&a[k])->sin6_addr
                                 : (const void *)&((struct sockaddr_in *)&a[k])->sin_addr;
            inet_ntop(a[k].ss_family, ip, host, sizeof(host));
            fprintf(err, "dfusim serve: device %u: cannot listen on %s port %ld: %s%s\n", i, host,
                    o->port + (long)i, strerror(errno),
                    errno == EADDRINUSE ? " (choose another --port base)" : "");
            return SIM_EXIT_USAGE;
        }
    }
    return 0;
}

/* Read every datagram waiting on device d's socket k and hand each to the device now. */
static int drain(struct serve *s, struct serve_dev *d, int k)
{
    for (;;) {
        struct sockaddr_storage from;
        socklen_t flen = sizeof(from);
        ssize_t got =
            recvfrom(d->fd[k], s->buf, SERVE_DGRAM_MAX, 0, (struct sockaddr *)&from, &flen);
        if (got < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : SIM_EIO;
        int64_t now = sim_now(s);
        enum sim_stop why;
        int rc = sim_engine_run(s->e, now, &why); /* the device is at now before it hears it */
        if (rc == 0)
            rc = fleet_world_error(s->w);
        if (rc != 0)
            return rc;
        s->n_in++;
        d->peer = from;
        d->peer_len = flen;
        d->peer_sock = k;
        cli_capture_datagram(s->capture, d->id, true, (const struct sockaddr *)&d->local[k],
                             (const struct sockaddr *)&from, s->buf, (size_t)got, now);
        serve_attempts_request(&d->att, s->buf, (size_t)got, now);
        rc = fleet_device_ext_rx(fleet_world_device(s->w, d->id), s->buf, (size_t)got, now);
        if (rc == 0)
            rc = fleet_world_error(s->w);
        if (rc != 0)
            return rc;
    }
}

/* ---- the loop --------------------------------------------------------------------------- */

static int serve_loop(struct serve *s, struct pollfd *pfd, const uint32_t *pfd_dev, nfds_t nfds)
{
    for (;;) {
        if (serve_stop)
            return 0;
        int64_t now = sim_now(s);
        enum sim_stop why;
        int rc = sim_engine_run(s->e, now, &why);
        if (rc == 0)
            rc = fleet_world_error(s->w);
        if (rc != 0)
            return rc;
        if (serve_stop)
            return 0;
        int64_t next = sim_engine_next_at(s->e);
        double wait =
            next == SIM_TIME_MAX ? (double)SERVE_WAIT_MAX_NS : ((double)(next - now)) / s->speed;
        if (wait > (double)SERVE_WAIT_MAX_NS)
            wait = (double)SERVE_WAIT_MAX_NS;
        if (wait < 0)
            wait = 0;
        int64_t w = (int64_t)ceil(wait);
        struct timespec ts = {(time_t)(w / 1000000000LL), (long)(w % 1000000000LL)};
        int n = ppoll(pfd, nfds, &ts, NULL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return SIM_EIO;
        }
        for (nfds_t i = 0; i < nfds && n > 0; i++) {
            if (pfd[i].revents == 0)
                continue;
            n--;
            struct serve_dev *d = &s->dev[pfd_dev[i] >> 1];
            if ((rc = drain(s, d, (int)(pfd_dev[i] & 1))) != 0)
                return rc;
        }
    }
}

/* ---- the command ------------------------------------------------------------------------ */

static void list_devices(const struct serve *s, const struct scenario *sc,
                         const struct serve_options *o, FILE *out)
{
    const struct fleet_settings *fs = fleet_settings_of(sc);
    uint32_t id = 0;
    for (size_t g = 0; g < fs->n_groups && id < s->n; g++) {
        const struct fleet_group_settings *gs = &fs->groups[g];
        uint32_t last = id + gs->count - 1 < s->n - 1 ? id + gs->count - 1 : s->n - 1;
        const char *link = o->direct                                                 ? "direct UDP"
                           : fleet_device_uart(fleet_world_device(s->w, id)) != NULL ? "UART"
                                                                                     : "BLE";
        if (last == id)
            fprintf(out, "  device  %u: group %s (%s, %s), %s; port %ld\n", id, gs->name,
                    flash_map_board_names[gs->board], mcuboot_slots_mode_names[gs->bootloader],
                    link, o->port + (long)id);
        else
            fprintf(out, "  devices %u..%u: group %s (%s, %s), %s; ports %ld..%ld\n", id, last,
                    gs->name, flash_map_board_names[gs->board],
                    mcuboot_slots_mode_names[gs->bootloader], link, o->port + (long)id,
                    o->port + (long)last);
        id = last + 1;
    }
}

static int open_db(struct outfile *of, struct recorder **rec, const struct scenario *sc,
                   const struct serve_options *o, FILE *err)
{
    char path[OUTFILE_PATH_MAX];
    struct sim_diag diag;
    sim_diag_init(&diag);
    if (o->db != NULL) {
        snprintf(path, sizeof(path), "%s", o->db);
    } else {
        if (mkdir("results", 0777) != 0 && errno != EEXIST) {
            fprintf(err, "dfusim serve: cannot create folder 'results': %s (use --db FILE)\n",
                    strerror(errno));
            return SIM_EXIT_USAGE;
        }
        snprintf(path, sizeof(path), "results/%s-serve.db", sc->name);
    }
    if (outfile_db_begin(of, path, &diag) != 0 || recorder_open(of->tmp, rec, &diag) != 0) {
        fprintf(err, "dfusim serve: %s", diag.text);
        return SIM_EXIT_USAGE;
    }
    return 0;
}

static int begin_run(struct recorder *rec, const struct scenario *sc, const struct serve_options *o,
                     uint32_t n)
{
    const struct recorder_run info = {
        .scenario_name = sc->name,
        .scenario_path = sc->path,
        .scenario_text = sc->text,
        .scenario_len = sc->text_len,
        .model = FLEET_WORLD_MODEL_NAME,
        .seed = sc->seed,
        .replication = 1,
        .sweep_point = 1,
        .level = (enum recorder_level)sc->record,
    };
    char v[64];
    int rc = recorder_meta_set(rec, "runs_planned", "1");
    if (rc == 0)
        rc = recorder_meta_set(rec, "runs_finished", "0");
    if (rc == 0)
        rc = recorder_run_begin(rec, &info, NULL);
    if (rc == 0)
        rc = cli_record_setup(rec, sc);
    snprintf(v, sizeof(v), "%g", o->speed);
    if (rc == 0)
        rc = recorder_param(rec, "serve.speed", v);
    snprintf(v, sizeof(v), "%u", n);
    if (rc == 0)
        rc = recorder_param(rec, "serve.devices", v);
    if (rc == 0)
        rc = recorder_param(rec, "serve.link", o->direct ? "direct" : "scenario");
    return rc;
}

static const char *stop_name(int sig)
{
    return sig == SIGINT    ? "SIGINT"
           : sig == SIGTERM ? "SIGTERM"
           : sig == SIGHUP  ? "SIGHUP"
                            : "signal";
}

int cli_serve(int argc, char **argv, FILE *out, FILE *err)
{
    struct serve_options o = {0};
    struct scenario sc = {0};
    struct serve s = {0};
    struct recorder *rec = NULL;
    struct outfile of = {0};
    struct pollfd *pfd = NULL;
    uint32_t *pfd_dev = NULL;
    struct sim_diag diag;
    sim_diag_init(&diag);
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction old[3];
    struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: ppoll returns EINTR */
    sigemptyset(&sa.sa_mask);
    serve_stop = 0;
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &sa, &old[i]);
    bool run_open = false, session_ok = false;
    int code = parse_options(argc, argv, &o, out, err);
    if (code != 0) {
        code = code == HELP_SHOWN ? SIM_EXIT_OK : code;
        goto done;
    }
    code = SIM_EXIT_USAGE;
    if (scenario_load(o.scenario_path, &fleet_settings_schema, o.overrides, o.n_overrides, &sc,
                      &diag) != 0 ||
        fleet_world_check(&sc, &diag) != 0) {
        fputs(diag.text, err);
        goto done;
    }
    if (sc.n_points > 1 || sc.replications > 1) {
        fprintf(err,
                "dfusim serve: %s: a scenario with a sweep or replications makes several "
                "worlds; serve one (pin the swept keys with --set)\n",
                o.scenario_path);
        goto done;
    }
    const struct fleet_settings *fs = fleet_settings_of(&sc);
    uint64_t total = 0;
    for (size_t g = 0; g < fs->n_groups; g++)
        total += fs->groups[g].count;
    s.n = (uint32_t)(total < SERVE_MAX_DEVICES ? total : SERVE_MAX_DEVICES);
    if (o.devices > 0 && (uint64_t)o.devices > total) {
        fprintf(err, "dfusim serve: --devices %ld: the scenario has %llu devices\n", o.devices,
                (unsigned long long)total);
        goto done;
    }
    if (o.devices > 0)
        s.n = (uint32_t)o.devices;
    if ((code = fd_room(s.n, err)) != 0)
        goto done;
    code = SIM_EXIT_INTERNAL;
    s.speed = o.speed;
    s.dev = calloc(s.n, sizeof(*s.dev));
    s.buf = malloc(SERVE_DGRAM_MAX);
    pfd = calloc((size_t)s.n * 2, sizeof(*pfd));
    pfd_dev = calloc((size_t)s.n * 2, sizeof(*pfd_dev));
    if (s.dev == NULL || s.buf == NULL || pfd == NULL || pfd_dev == NULL)
        goto done;
    for (uint32_t i = 0; i < s.n; i++) {
        s.dev[i] = (struct serve_dev){.s = &s, .id = i, .fd = {-1, -1}, .peer_sock = -1};
        serve_attempts_init(&s.dev[i].att);
    }
    if ((code = open_sockets(&s, &o, err)) != 0)
        goto done;
    if (o.bind != NULL)
        fprintf(err,
                "dfusim serve: warning: --bind %s: the simulated devices are reachable from "
                "other hosts, and SMP has no authentication: anyone who reaches them can "
                "reset and reflash them\n",
                o.bind);
    if ((code = open_db(&of, &rec, &sc, &o, err)) != 0)
        goto done;
    if (begin_run(rec, &sc, &o, s.n) != 0) {
        fprintf(err, "dfusim serve: %s: cannot write the results database: %s\n", of.dest,
                recorder_error(rec));
        code = SIM_EXIT_USAGE;
        goto done;
    }
    run_open = true;
    code = SIM_EXIT_INTERNAL;
    s.e = sim_engine_new(0);
    const struct fleet_device_ext ext = {&s, serve_tx};
    int rc = s.e == NULL
                 ? SIM_ENOMEM
                 : fleet_world_from_scenario_ext(&sc, s.e, rec, &ext,
                                                 o.direct ? FLEET_EXT_DIRECT : FLEET_EXT_LINK, &s.w,
                                                 &diag);
    if (rc != 0) {
        fputs(diag.text, err);
        fprintf(err, "dfusim serve: cannot build the world (%s)\n", sim_err_str(rc));
        goto done;
    }
    if (o.pcap != NULL && (code = cli_capture_open(s.w, "serve", o.pcap, o.pcap_devices, o.direct,
                                                   &s.capture, err)) != 0)
        goto done;
    code = SIM_EXIT_INTERNAL;
    sim_engine_set_interrupt(s.e, &serve_stop);
    nfds_t nfds = 0;
    for (uint32_t i = 0; i < s.n; i++)
        for (int k = 0; k < 2; k++)
            if (s.dev[i].fd[k] >= 0) {
                pfd[nfds] = (struct pollfd){.fd = s.dev[i].fd[k], .events = POLLIN};
                pfd_dev[nfds++] = i << 1 | (uint32_t)k;
            }
    fprintf(out,
            "dfusim serve: %s: %u device%s on UDP %s ports %ld..%ld, speed %g%s; Ctrl-C ends the "
            "session and writes %s\n",
            sc.name, s.n, s.n == 1 ? "" : "s", o.bind != NULL ? o.bind : "127.0.0.1 and ::1",
            o.port, o.port + (long)s.n - 1, o.speed, o.direct ? ", direct UDP (no link)" : "",
            of.dest);
    if (!o.quiet)
        list_devices(&s, &sc, &o, out);
    fflush(out);
    s.wall0 = cli_wall_seconds();
    rc = serve_loop(&s, pfd, pfd_dev, nfds);
    /* The session ends: the engine catches up with the clock, open attempts end. */
    int64_t end = sim_now(&s);
    serve_stop = serve_stop ? serve_stop : SIGINT;
    sim_engine_set_interrupt(s.e, NULL);
    enum sim_stop why;
    if (rc == 0)
        rc = sim_engine_run(s.e, end, &why);
    if (rc == 0)
        rc = fleet_world_error(s.w);
    for (uint32_t i = 0; i < s.n && rc == 0; i++) {
        struct serve_attempts_ctx cx = att_cx_proto;
        cx.env = &s.dev[i];
        serve_attempts_finish(&s.dev[i].att, end, &cx);
    }
    if (rc == 0)
        rc = fleet_world_error(s.w);
    if (rc == 0)
        rc = fleet_world_finish(s.w);
    char detail[64];
    snprintf(detail, sizeof(detail), "serve session ended by %s", stop_name(serve_stop));
    if (rc == 0)
        rc = recorder_run_end(rec, RECORDER_COMPLETE, detail, end, sim_engine_events_handled(s.e));
    if (rc == 0)
        rc = recorder_meta_set(rec, "runs_finished", "1");
    if (rc != 0) {
        fprintf(err, "dfusim serve: %s: the session failed: %s%s%s\n", of.dest, sim_err_str(rc),
                recorder_error(rec)[0] ? ": " : "", recorder_error(rec));
        code = rc == SIM_EIO ? SIM_EXIT_USAGE : SIM_EXIT_INTERNAL;
        goto done;
    }
    run_open = false;
    session_ok = true; /* the database is kept even if the capture cannot be written */
    int cap_code = cli_capture_close(s.capture, true, err);
    s.capture = NULL;
    uint64_t lost = 0;
    for (uint32_t i = 0; i < s.n; i++)
        lost += fleet_device_ext_lost(fleet_world_device(s.w, i));
    char simt[48];
    cli_format_time(simt, sizeof(simt), end);
    fprintf(out,
            "dfusim serve: %s after %.1f s wall, simulated %s: %llu datagrams in, %llu out, "
            "%llu lost\n",
            stop_name(serve_stop), cli_wall_seconds() - s.wall0, simt, (unsigned long long)s.n_in,
            (unsigned long long)s.n_out, (unsigned long long)lost);
    code = cap_code;
done:
    if (run_open && rec != NULL)
        (void)recorder_run_end(rec, RECORDER_FAILED, "serve failed", s.e ? sim_engine_now(s.e) : 0,
                               s.e ? sim_engine_events_handled(s.e) : 0);
    recorder_close(rec);
    if (of.active) {
        if (session_ok) {
            if (outfile_commit(&of, of.dest, &diag) != 0) {
                fputs(diag.text, err);
                code = SIM_EXIT_USAGE;
            } else {
                fprintf(out, "  results   %s\n", of.dest);
            }
        } else {
            outfile_discard(&of);
        }
    }
    for (uint32_t i = 0; s.dev != NULL && i < s.n; i++)
        for (int k = 0; k < 2; k++)
            if (s.dev[i].fd[k] >= 0)
                close(s.dev[i].fd[k]);
    (void)cli_capture_close(s.capture, false, err);
    fleet_world_free(s.w);
    sim_engine_free(s.e);
    free(s.dev);
    free(s.buf);
    free(pfd);
    free(pfd_dev);
    scenario_fini(&sc);
    free(o.overrides);
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &old[i], NULL);
    return code;
}
