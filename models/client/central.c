/* models/client/central.c - the central profiles and their rules (central.h).
 *
 * Sources, cited per value below (docs/model.md "Central profiles" has the table):
 *   AOSP  packages/modules/Bluetooth android/app/res/values/config.xml (connection priority
 *         ranges, mirror msft-mirror-aosp/platform.packages.modules.Bluetooth @a7a7d6f);
 *   ADM   NordicSemiconductor/Android-nRF-Connect-Device-Manager (issue #220: a 2025 logcat
 *         of the library with its callback and write times);
 *   ADG   Apple Accessory Design Guidelines, "Connection Parameters" (as quoted by Silicon
 *         Labs, "Selecting Suitable Connection Parameters for Apple Devices");
 *   COL   chrisc11/ble-guides ios-mtu.md (iOS 10: ATT MTU 185, up to 7 LL packets per event);
 *   TBX   NordicSemiconductor/IOS-nRF-Toolbox issue #1 (iOS default interval 30 ms);
 *   LNX   torvalds/linux net/bluetooth: hci_sync.c hci_le_set_write_def_data_len_sync (the
 *         controller's maximum data length as default), hci_le_set_default_phy_sync (1M, and
 *         2M when capable), l2cap_core.c l2cap_conn_param_update_req with hci_check_conn_params
 *         (a valid peripheral request is accepted);
 *   BLR   blerpc.net measurements with an nRF54L15 DK (macOS chose 15 ms, iPhone 16 30 ms).
 * Anything else is marked unverified.
 */
#include "models/client/central.h"

#include <stddef.h>

#include "sim/rng.h"

#define MS(x)    ((int64_t)((x)*1000000.0))
#define UNIT_NS  1250000LL /* 1.25 ms */
#define PHY_1M2M ((1u << BLE_PHY_1M) | (1u << BLE_PHY_2M))

const char *const client_central_names[] = {"android", "ios",     "linux-bluez", "windows",
                                            "macos",   "default", NULL};
const char *const client_central_priority_names[] = {"high", "balanced", "low-power", NULL};

static const struct client_central_profile profiles[CLIENT_CENTRAL_COUNT] = {
    [CLIENT_CENTRAL_ANDROID] =
        {
            .name = "android",
            /* ADM issue #220 logcat: 13 ms from the library's "notifications enabled"
             * callback to its next writeCharacteristic(), 2 ms from onNotify() to the
             * library's own log of it. One log: the range is a reading of it, unverified. */
            .host_lo_ns = MS(2),
            .host_hi_ns = MS(15),
            /* PunchThrough, "Maximizing BLE throughput" (2016): about 6; dated, unverified. */
            .packets = 6,
            /* AOSP config.xml: HIGH 9-12, BALANCED 24-40, LOW_POWER 80-100 (1.25 ms units).
             * Which value of the range the controller takes is not published: the one
             * nearest the device's preference (central.h) is an assumption. */
            .rule = CLIENT_CENTRAL_RULE_PRIORITY,
            .interval_min_ns = {MS(11.25), MS(30), MS(100)},
            .interval_max_ns = {MS(15), MS(50), MS(125)},
            /* Android 14+ asks 517 on the first requestMtu (Android API reference of
             * BluetoothGatt.requestMtu); the Device Manager asks 498 (client profile). */
            .att_mtu = 517,
            .dle = 251, /* LE Data Length Extension on current phones: unverified */
            .phys = PHY_1M2M,
            .priority_api = true,
        },
    [CLIENT_CENTRAL_IOS] =
        {
            .name = "ios",
            .host_lo_ns = MS(2), /* no published figure: as Android, unverified */
            .host_hi_ns = MS(15),
            .packets = 7, /* COL: an iOS 10 air trace, at most 7 LL packets per event */
            /* ADG: min >= 15 ms in multiples of 15 ms is granted; nRF Desktop's 7.5 ms is
             * not, and iOS stays at its default 30 ms (TBX; BLR: iPhone 16 30 ms). */
            .rule = CLIENT_CENTRAL_RULE_APPLE,
            .interval_default_ns = MS(30),
            .att_mtu = 185,        /* COL: iOS 10+; newer iPhones unverified */
            .dle = 251,            /* unverified */
            .phys = PHY_1M2M,      /* unverified */
            .priority_api = false, /* CoreBluetooth has no connection priority */
        },
    [CLIENT_CENTRAL_LINUX_BLUEZ] =
        {
            .name = "linux-bluez",
            /* D-Bus + bleak/Python per response: no measured figure, unverified. */
            .host_lo_ns = MS(5),
            .host_hi_ns = MS(20),
            .packets = 6, /* laptop controllers: no figure, unverified */
            /* LNX: kernel default 30-50 ms until the device asks; a valid request is
             * accepted as asked. */
            .rule = CLIENT_CENTRAL_RULE_PERIPHERAL,
            .att_mtu = 517,   /* BlueZ offers the largest ATT MTU: unverified */
            .dle = 251,       /* LNX: default data length = the controller's maximum */
            .phys = PHY_1M2M, /* LNX: 1M, and 2M when the controller has it */
            .priority_api = false,
        },
    [CLIENT_CENTRAL_WINDOWS] =
        {
            .name = "windows",
            .host_lo_ns = MS(5), /* WinRT per response: no figure, unverified */
            .host_hi_ns = MS(20),
            .packets = 6, /* unverified */
            /* Windows 11 presets (ThroughputOptimized / Balanced / PowerOptimized):
             * learn.microsoft.com gives no numbers; taken as Android's ranges, unverified. */
            .rule = CLIENT_CENTRAL_RULE_PRIORITY,
            .interval_min_ns = {MS(11.25), MS(30), MS(100)},
            .interval_max_ns = {MS(15), MS(50), MS(125)},
            .att_mtu = 517,   /* unverified */
            .dle = 251,       /* unverified */
            .phys = PHY_1M2M, /* unverified */
            .priority_api = true,
        },
    [CLIENT_CENTRAL_MACOS] =
        {
            .name = "macos",
            .host_lo_ns = MS(2), /* as iOS, unverified */
            .host_hi_ns = MS(15),
            .packets = 7, /* as iOS, unverified */
            .rule = CLIENT_CENTRAL_RULE_FIXED,
            .interval_default_ns = MS(15), /* BLR: macOS chose 15 ms */
            .att_mtu = 185,                /* as iOS, unverified */
            .dle = 251,                    /* unverified */
            .phys = PHY_1M2M,              /* unverified */
            .priority_api = false,
        },
};

const struct client_central_profile *client_central_profile(enum client_central c)
{
    return (unsigned)c < CLIENT_CENTRAL_COUNT ? &profiles[c] : NULL;
}

const char *client_central_name(enum client_central c)
{
    return (unsigned)c < CLIENT_CENTRAL_COUNT ? profiles[c].name : "?";
}

enum client_central client_central_of_kind(enum client_dfu_kind kind)
{
    switch (kind) {
    case CLIENT_DFU_ANDROID:
        return CLIENT_CENTRAL_ANDROID;
    case CLIENT_DFU_IOS:
        return CLIENT_CENTRAL_IOS;
    default:
        return CLIENT_CENTRAL_LINUX_BLUEZ; /* the Go CLI and smpclient on a Linux PC */
    }
}

/* v on the 1.25 ms grid, inside [7.5 ms, 4 s] (Core Vol 6 Part B §4.5.2). */
static int64_t legal(int64_t v)
{
    v = (v + UNIT_NS / 2) / UNIT_NS * UNIT_NS;
    if (v < 6 * UNIT_NS)
        v = 6 * UNIT_NS;
    if (v > 3200 * UNIT_NS)
        v = 3200 * UNIT_NS;
    return v;
}

int64_t client_central_interval(const struct client_central_profile *p,
                                enum client_central_priority prio, int64_t preferred_ns)
{
    if ((unsigned)prio >= CLIENT_CENTRAL_PRIORITY_COUNT)
        prio = CLIENT_CENTRAL_HIGH;
    switch (p->rule) {
    case CLIENT_CENTRAL_RULE_PRIORITY: {
        int64_t lo = p->interval_min_ns[prio], hi = p->interval_max_ns[prio];
        return legal(preferred_ns < lo ? lo : preferred_ns > hi ? hi : preferred_ns);
    }
    case CLIENT_CENTRAL_RULE_APPLE:
        if (preferred_ns >= MS(15) && preferred_ns % MS(15) == 0)
            return legal(preferred_ns);
        return legal(p->interval_default_ns);
    case CLIENT_CENTRAL_RULE_PERIPHERAL:
        return legal(preferred_ns);
    case CLIENT_CENTRAL_RULE_FIXED:
    default:
        return legal(p->interval_default_ns);
    }
}

static uint16_t min16(uint16_t a, uint16_t b)
{
    return a < b ? a : b;
}

void client_central_link(const struct client_central_profile *p, enum client_central_priority prio,
                         bool interval_fixed, uint16_t client_mtu, uint16_t packets,
                         struct ble_link_cfg *link)
{
    uint16_t mtu = min16(link->mtu, p->att_mtu);
    if (client_mtu > 0)
        mtu = min16(mtu, client_mtu);
    link->mtu = mtu < BLE_LINK_ATT_MTU_MIN ? BLE_LINK_ATT_MTU_MIN : mtu;
    uint16_t dle = min16(link->dle, p->dle);
    link->dle = dle < BLE_PHY_PAYLOAD_MIN ? BLE_PHY_PAYLOAD_MIN : dle;
    /* The PHY request comes from the device (nRF Desktop asks LE 2M; the Device Manager
     * only reports a phone that does not answer it): granted when the central has it. */
    if ((int)link->phy < 0 || link->phy >= BLE_PHY_COUNT || !(p->phys & (1u << link->phy)))
        link->phy = BLE_PHY_1M;
    link->max_pdus_per_event = packets > 0 ? packets : p->packets;
    if (!interval_fixed)
        link->interval_ns = client_central_interval(p, p->priority_api ? prio : CLIENT_CENTRAL_HIGH,
                                                    link->interval_ns);
    link->central_interval_ns = link->interval_ns;
}

void client_central_host(const struct client_central_profile *p, uint64_t seed, uint64_t entity,
                         struct client_dfu_cfg *c)
{
    c->host_lo_ns = p->host_lo_ns;
    c->host_hi_ns = p->host_hi_ns;
    c->host_seed = seed;
    c->host_entity = entity;
}
