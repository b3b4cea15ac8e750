/* models/ble/phy.h - BLE LE PHYs: air time of one link-layer PDU, and T_IFS.
 *
 * Pure functions of (PHY, LL payload octets, encryption). Formulas derived here from the bit
 * counts and bit rates of Bluetooth Core Vol 6 Part B §2.1 (packet format) and Part A §3.2
 * (Coded PHY). The 1M/27 B, 1M/251 B and Coded S8 values equal the Core specification's
 * connMaxTxTime limits, which validates the formulas.
 */
#ifndef MODELS_BLE_PHY_H
#define MODELS_BLE_PHY_H

#include <stdbool.h>
#include <stdint.h>

enum ble_phy {
    BLE_PHY_1M,       /* LE 1M: 1 Mbit/s, 1-byte preamble */
    BLE_PHY_2M,       /* LE 2M: 2 Mbit/s, 2-byte preamble */
    BLE_PHY_CODED_S2, /* LE Coded, payload at S = 2 (500 kbit/s) */
    BLE_PHY_CODED_S8, /* LE Coded, payload at S = 8 (125 kbit/s) */
    BLE_PHY_COUNT
};

/* Inter frame space between PDUs of one connection event (Core Vol 6 Part B §4.1.1). */
#define BLE_PHY_T_IFS_NS 150000LL

/* LL data PDU payload limits (Core Vol 6 Part B §2.4: 27 without DLE, 251 with). */
#define BLE_PHY_PAYLOAD_MIN 27u
#define BLE_PHY_PAYLOAD_MAX 251u

/* Bytes of the MIC added to a non-empty PDU on an encrypted link (Core Vol 6 Part B §2.4). */
#define BLE_PHY_MIC_BYTES 4u

/* Short name ("1M", "2M", "coded-s2", "coded-s8"); "?" for an unknown value. */
const char *ble_phy_name(enum ble_phy phy);

/* Air time in ns of one LL data PDU carrying `payload` octets (0 = empty PDU), with a
 * 4-byte MIC when `encrypted` and payload > 0. Returns -1 for an unknown PHY or a payload
 * above BLE_PHY_PAYLOAD_MAX. */
int64_t ble_phy_pdu_ns(enum ble_phy phy, unsigned payload, bool encrypted);

/* One exchange: a data PDU of `payload` octets, T_IFS, an empty PDU back, T_IFS
 * (derived here; it agrees with the Goodix BLE wiki's 780 kbps on 1M). Returns -1 as ble_phy_pdu_ns
 * does. */
int64_t ble_phy_exchange_ns(enum ble_phy phy, unsigned payload, bool encrypted);

#endif /* MODELS_BLE_PHY_H */
