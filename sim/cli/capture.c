/* sim/cli/capture.c - `dfusim run --pcap` and `dfusim serve --pcap`: hook a capture
 * (sim/capture/pcap.h) on the links of the chosen devices of a built world, or take the UDP
 * datagrams serve exchanges with real clients, and close it when the run or session ends.
 *
 * The models report what goes on the air through their observer hooks
 * (ble_link_observe_set, uart_link_observe_set, via fleet_device_observe); this file only
 * translates those reports, and serve's datagrams, into the capture's plain records. */
#include "sim/cli/capture.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "models/fleet/world.h"
#include "sim/capture/pcap.h"

/* One hooked device: the env its observers get. */
struct cli_capture_dev {
    struct cli_capture *cc;
    uint32_t id;
};

struct cli_capture {
    struct cap *cap;
    struct cli_capture_dev *devs;
    uint32_t n_devs;
    struct fleet_world *w;
    const char *cmd; /* "run" or "serve", in messages */
    uint8_t *sel;    /* UDP: per device, 1 when chosen (the links are not hooked) */
    uint32_t n_sel;
    int err; /* first capture error (the observers cannot return one) */
};

static void on_ble(void *env, const struct ble_link_obs *o)
{
    struct cli_capture_dev *d = env;
    struct cli_capture *cc = d->cc;
    int rc;
    if (o->kind == BLE_LINK_OBS_CONNECT) {
        const struct cap_ble_conn k = {.at_ns = o->at_ns,
                                       .anchor_ns = o->anchor_ns,
                                       .interval_ns = o->interval_ns,
                                       .timeout_ns = o->timeout_ns,
                                       .latency = o->latency,
                                       .mtu = o->mtu,
                                       .phy = (enum cap_ble_phy)o->phy,
                                       .att7_air_ns = ble_phy_pdu_ns(o->phy, 7, false),
                                       .empty_air_ns = ble_phy_pdu_ns(o->phy, 0, false)};
        rc = cap_ble_connect(cc->cap, d->id, &k);
    } else {
        const struct cap_ble_pdu p = {.at_ns = o->at_ns,
                                      .now_ns = o->now_ns,
                                      .event = o->event,
                                      .from_peripheral = o->dir == BLE_LINK_P2C,
                                      .md = o->md,
                                      .lost = o->lost,
                                      .retx = o->retx,
                                      .encrypted = o->encrypted,
                                      .phy = (enum cap_ble_phy)o->phy,
                                      .sdu = o->sdu,
                                      .sdu_len = o->sdu_len,
                                      .frag_off = o->frag_off,
                                      .frag_len = o->frag_len};
        rc = cap_ble_pdu(cc->cap, d->id, &p);
    }
    if (rc != 0 && cc->err == 0)
        cc->err = rc;
}

static void on_uart(void *env, enum uart_link_dir dir, const uint8_t *p, size_t n, int64_t at)
{
    struct cli_capture_dev *d = env;
    int rc =
        cap_uart(d->cc->cap, d->id, dir == UART_LINK_H2D ? CAP_UART_H2D : CAP_UART_D2H, p, n, at);
    if (rc != 0 && d->cc->err == 0)
        d->cc->err = rc;
}

/* "0,3-5": set bit i of sel for each id; ids must be < n. Returns 0 or -1 (message). */
static int parse_list(const char *cmd, const char *list, uint32_t n, uint8_t *sel, FILE *err)
{
    const char *p = list;
    if (*p == '\0')
        goto bad;
    for (;;) {
        char *end;
        errno = 0;
        unsigned long a = strtoul(p, &end, 10), b;
        if (end == p || *p == '-' || *p == '+' || errno != 0)
            goto bad;
        b = a;
        if (*end == '-') {
            p = end + 1;
            b = strtoul(p, &end, 10);
            if (end == p || *p == '-' || *p == '+' || errno != 0 || b < a)
                goto bad;
        }
        if (b >= n) {
            fprintf(err,
                    "dfusim %s: --pcap-devices %s: device %lu does not exist (the scenario has "
                    "devices 0-%u)\n",
                    cmd, list, b, n - 1);
            return -1;
        }
        for (unsigned long i = a; i <= b; i++)
            sel[i] = 1;
        if (*end == '\0')
            return 0;
        if (*end != ',')
            goto bad;
        p = end + 1;
    }
bad:
    fprintf(err,
            "dfusim %s: --pcap-devices %s: expected device ids as the database numbers them, "
            "comma-separated, ranges allowed (e.g. 0,2-4)\n",
            cmd, list);
    return -1;
}

int cli_capture_open(struct fleet_world *w, const char *cmd, const char *path, const char *list,
                     bool udp, struct cli_capture **out, FILE *err)
{
    *out = NULL;
    uint32_t n = fleet_world_n_devices(w);
    if (n == 0) {
        fprintf(err, "dfusim %s: --pcap: the scenario has no device\n", cmd);
        return SIM_EXIT_USAGE;
    }
    uint8_t *sel = calloc(n, 1);
    struct cli_capture *cc = calloc(1, sizeof(*cc));
    if (sel == NULL || cc == NULL) {
        free(sel);
        free(cc);
        return SIM_EXIT_INTERNAL;
    }
    int code = SIM_EXIT_USAGE;
    cc->cmd = cmd;
    if (list == NULL)
        sel[0] = 1;
    else if (parse_list(cmd, list, n, sel, err) != 0)
        goto fail;
    struct sim_diag diag;
    sim_diag_init(&diag);
    if (udp) { /* serve --direct: the datagrams are the traffic, fed by cli_capture_datagram */
        int rc = cap_open(path, CAP_UDP, &cc->cap, &diag);
        if (rc != 0) {
            fprintf(err, "dfusim %s: --pcap %s", cmd, diag.text);
            code = rc == SIM_EIO ? SIM_EXIT_USAGE : SIM_EXIT_INTERNAL;
            goto fail;
        }
        cc->w = w;
        cc->sel = sel;
        cc->n_sel = n;
        *out = cc;
        return SIM_EXIT_OK;
    }
    /* One link type per file: every chosen device on the first one's transport. */
    int first = -1;
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!sel[i])
            continue;
        count++;
        bool uart = fleet_device_uart(fleet_world_device(w, i)) != NULL;
        if (first < 0) {
            first = (int)i;
        } else if (uart != (fleet_device_uart(fleet_world_device(w, (uint32_t)first)) != NULL)) {
            fprintf(err,
                    "dfusim %s: --pcap-devices: device %d is on %s and device %u on %s; a pcap "
                    "file holds one link type: capture them in two runs\n",
                    cmd, first, uart ? "BLE" : "a UART", i, uart ? "a UART" : "BLE");
            goto fail;
        }
    }
    bool uart = fleet_device_uart(fleet_world_device(w, (uint32_t)first)) != NULL;
    cc->devs = calloc(count, sizeof(*cc->devs));
    if (cc->devs == NULL) {
        code = SIM_EXIT_INTERNAL;
        goto fail;
    }
    int rc = cap_open(path, uart ? CAP_UART : CAP_BLE, &cc->cap, &diag);
    if (rc != 0) {
        fprintf(err, "dfusim %s: --pcap %s", cmd, diag.text);
        code = rc == SIM_EIO ? SIM_EXIT_USAGE : SIM_EXIT_INTERNAL;
        goto fail;
    }
    cc->w = w;
    for (uint32_t i = 0; i < n; i++) {
        if (!sel[i])
            continue;
        struct cli_capture_dev *d = &cc->devs[cc->n_devs++];
        *d = (struct cli_capture_dev){cc, i};
        fleet_device_observe(fleet_world_device(w, i), on_ble, on_uart, d);
    }
    free(sel);
    *out = cc;
    return SIM_EXIT_OK;
fail:
    free(sel);
    free(cc->devs);
    free(cc);
    return code;
}

int cli_capture_close(struct cli_capture *cc, bool keep, FILE *err)
{
    if (cc == NULL)
        return SIM_EXIT_OK;
    for (uint32_t i = 0; i < cc->n_devs; i++)
        fleet_device_observe(fleet_world_device(cc->w, cc->devs[i].id), NULL, NULL, NULL);
    int code = SIM_EXIT_OK;
    if (!keep || cc->err != 0) {
        if (keep)
            fprintf(err, "dfusim %s: the capture failed (%s); not written\n", cc->cmd,
                    sim_err_str(cc->err));
        cap_discard(cc->cap);
        code = keep ? SIM_EXIT_INTERNAL : SIM_EXIT_OK;
    } else {
        struct sim_diag diag;
        sim_diag_init(&diag);
        if (cap_close(cc->cap, &diag) != 0) {
            fprintf(err, "dfusim %s: --pcap %s", cc->cmd, diag.text);
            code = SIM_EXIT_USAGE;
        }
    }
    free(cc->devs);
    free(cc->sel);
    free(cc);
    return code;
}

/* An IPv4 or IPv6 socket address: its address bytes and port. */
static bool addr_of(const struct sockaddr *sa, bool *v6, uint8_t a[16], uint16_t *port)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(a, &in->sin_addr, 4);
        *port = ntohs(in->sin_port);
        *v6 = false;
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(a, &in6->sin6_addr, 16);
        *port = ntohs(in6->sin6_port);
        *v6 = true;
        return true;
    }
    return false;
}

void cli_capture_datagram(struct cli_capture *cc, uint32_t dev, bool to_device,
                          const struct sockaddr *local, const struct sockaddr *peer,
                          const uint8_t *p, size_t n, int64_t at_ns)
{
    if (cc == NULL || cc->sel == NULL || dev >= cc->n_sel || !cc->sel[dev] || cc->err != 0)
        return;
    struct cap_udp u = {.at_ns = at_ns, .p = p, .n = n};
    uint8_t la[16] = {0}, pa[16] = {0};
    uint16_t lport, pport;
    bool v6l, v6p;
    if (!addr_of(local, &v6l, la, &lport) || !addr_of(peer, &v6p, pa, &pport) || v6l != v6p)
        return; /* serve binds IPv4 and IPv6 sockets only */
    u.ipv6 = v6l;
    memcpy(to_device ? u.src : u.dst, pa, 16);
    memcpy(to_device ? u.dst : u.src, la, 16);
    u.sport = to_device ? pport : lport;
    u.dport = to_device ? lport : pport;
    int rc = cap_udp(cc->cap, &u);
    if (rc != 0)
        cc->err = rc;
}
