/* models/client/central.h - central profiles: what the host that runs a DFU client (a phone,
 * a PC) brings to the link and to the client. One table row per platform (Android, iOS,
 * Linux/BlueZ, Windows, macOS): the host's latency per request, its cap on packets per
 * connection event, the connection interval it grants at each connection priority, its
 * largest ATT MTU and LL data length, its PHYs. Every value names its source in central.c,
 * or is marked unverified there and in docs/model.md ("Central profiles").
 *
 * What a profile changes, and where:
 *
 *   the link (client_central_link): ATT_MTU = min(device's offer, central's maximum, the
 *   client library's request when it makes one); LL data length = min(device's, central's);
 *   PHY as ble_link_cfg_negotiate() picks it; packets per event = the central's cap; the
 *   interval by the central's rule (client_central_interval) from the device's preferred
 *   interval, unless the scenario fixes the interval (an override).
 *
 *   the client (client_central_host): the host latency, drawn per response from the
 *   client's own keyed stream (seed, device entity, SIM_RNG_CENTRAL) in models/client/dfu.c:
 *   a response reaches the client's state machine that long after the link delivered it,
 *   so the request it triggers reaches the controller that much later.
 */
#ifndef MODELS_CLIENT_CENTRAL_H
#define MODELS_CLIENT_CENTRAL_H

#include <stdbool.h>
#include <stdint.h>

#include "models/ble/link.h"
#include "models/client/dfu.h"

enum client_central {
    CLIENT_CENTRAL_ANDROID,
    CLIENT_CENTRAL_IOS,
    CLIENT_CENTRAL_LINUX_BLUEZ,
    CLIENT_CENTRAL_WINDOWS,
    CLIENT_CENTRAL_MACOS,
    CLIENT_CENTRAL_COUNT
};

/* client.central: "default" (the client kind's usual host) past the platforms. */
#define CLIENT_CENTRAL_DEFAULT CLIENT_CENTRAL_COUNT

/* Connection priority an app asks for (Android BluetoothGatt.requestConnectionPriority;
 * Windows 11 BluetoothLEPreferredConnectionParameters presets). */
enum client_central_priority {
    CLIENT_CENTRAL_HIGH,
    CLIENT_CENTRAL_BALANCED,
    CLIENT_CENTRAL_LOW_POWER,
    CLIENT_CENTRAL_PRIORITY_COUNT
};

/* How the central decides the connection interval. */
enum client_central_rule {
    /* The app's priority request wins: the interval is the value of the priority's range
     * [min, max] nearest the device's preferred interval (Android, Windows). */
    CLIENT_CENTRAL_RULE_PRIORITY,
    /* Apple Accessory Design Guidelines: a request with min >= 15 ms in multiples of 15 ms
     * is granted; anything else gets the central's default (iOS). */
    CLIENT_CENTRAL_RULE_APPLE,
    /* The peripheral's valid request is accepted as asked (Linux kernel
     * l2cap_conn_param_update_req / hci_check_conn_params). */
    CLIENT_CENTRAL_RULE_PERIPHERAL,
    /* One interval whatever is asked (macOS as observed). */
    CLIENT_CENTRAL_RULE_FIXED
};

struct client_central_profile {
    const char *name;   /* client.central value */
    int64_t host_lo_ns; /* host latency per response: uniform on [lo, hi] */
    int64_t host_hi_ns; /* (lo == hi: fixed) */
    uint16_t packets;   /* cap on packets per connection event */
    enum client_central_rule rule;
    int64_t interval_min_ns[CLIENT_CENTRAL_PRIORITY_COUNT]; /* RULE_PRIORITY */
    int64_t interval_max_ns[CLIENT_CENTRAL_PRIORITY_COUNT];
    int64_t interval_default_ns; /* RULE_APPLE (request refused), RULE_FIXED */
    uint16_t att_mtu;            /* largest ATT MTU the host offers */
    uint16_t dle;                /* largest LL payload it takes and sends */
    uint8_t phys;                /* bit (1u << enum ble_phy) per PHY it supports */
    bool priority_api;           /* the app can ask for a priority (else client.priority is moot) */
};

/* Value names for client.central (then "default") and client.priority, NULL-terminated. */
extern const char *const client_central_names[];
extern const char *const client_central_priority_names[];

/* The profile of c (NULL for an unknown one). */
const struct client_central_profile *client_central_profile(enum client_central c);
/* Its name ("android"), or "?". */
const char *client_central_name(enum client_central c);
/* The host a client kind runs on when client.central is "default": the Device Manager apps
 * on their phones, the Go mcumgr CLI and smpclient on a Linux PC (BlueZ). */
enum client_central client_central_of_kind(enum client_dfu_kind kind);
/* The connection interval the central grants a device that prefers preferred_ns, with
 * the app asking priority prio. Always a multiple of 1.25 ms in [7.5 ms, 4 s]. */
int64_t client_central_interval(const struct client_central_profile *p,
                                enum client_central_priority prio, int64_t preferred_ns);

/* Apply profile p to the link of a device: link holds the device's side (mtu, dle, phy as
 * the scenario sets them, interval = its preferred interval unless interval_fixed);
 * client_mtu is the ATT MTU the client library requests (0: none); packets is the cap a
 * scenario sets (0: the profile's). Writes the negotiated mtu, dle, phy, interval and
 * packets per event into link. */
void client_central_link(const struct client_central_profile *p, enum client_central_priority prio,
                         bool interval_fixed, uint16_t client_mtu, uint16_t packets,
                         struct ble_link_cfg *link);
/* Apply profile p to the client's configuration: the host latency range, and the stream
 * the latency is drawn from (seed, entity). */
void client_central_host(const struct client_central_profile *p, uint64_t seed, uint64_t entity,
                         struct client_dfu_cfg *c);

#endif /* MODELS_CLIENT_CENTRAL_H */
