/* models/ble/phy.c - air time per LL PDU (Core Vol 6 Part B §2.1). */
#include "models/ble/phy.h"

/* Field sizes in bytes (Core Vol 6 Part B §2.1.1, §2.4). */
#define ACCESS_ADDRESS 4u
#define HEADER         2u
#define CRC            3u

/* LE Coded fixed parts, always at S = 8 (Core Vol 6 Part B §2.2):
 * preamble 80 us, access address 256 us, CI 16 us, TERM1 24 us. */
#define CODED_FIXED_NS 376000LL

const char *ble_phy_name(enum ble_phy phy)
{
    switch (phy) {
    case BLE_PHY_1M:
        return "1M";
    case BLE_PHY_2M:
        return "2M";
    case BLE_PHY_CODED_S2:
        return "coded-s2";
    case BLE_PHY_CODED_S8:
        return "coded-s8";
    case BLE_PHY_COUNT:
        break;
    }
    return "?";
}

int64_t ble_phy_pdu_ns(enum ble_phy phy, unsigned payload, bool encrypted)
{
    if (payload > BLE_PHY_PAYLOAD_MAX)
        return -1;
    int64_t body = HEADER + payload + CRC + (encrypted && payload > 0 ? BLE_PHY_MIC_BYTES : 0);
    switch (phy) {
    case BLE_PHY_1M: /* 1-byte preamble, 8 us per byte */
        return (1 + ACCESS_ADDRESS + body) * 8000LL;
    case BLE_PHY_2M: /* 2-byte preamble, 4 us per byte */
        return (2 + ACCESS_ADDRESS + body) * 4000LL;
    case BLE_PHY_CODED_S2: /* 8 bits x S us per byte, TERM2 6 us at S = 2 */
        return CODED_FIXED_NS + body * 8 * 2 * 1000LL + 6000LL;
    case BLE_PHY_CODED_S8: /* TERM2 24 us at S = 8 */
        return CODED_FIXED_NS + body * 8 * 8 * 1000LL + 24000LL;
    case BLE_PHY_COUNT:
        break;
    }
    return -1;
}

int64_t ble_phy_exchange_ns(enum ble_phy phy, unsigned payload, bool encrypted)
{
    int64_t data = ble_phy_pdu_ns(phy, payload, encrypted);
    int64_t empty = ble_phy_pdu_ns(phy, 0, encrypted);
    if (data < 0 || empty < 0)
        return -1;
    return data + BLE_PHY_T_IFS_NS + empty + BLE_PHY_T_IFS_NS;
}
