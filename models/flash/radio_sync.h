/* models/flash/radio_sync.h - flash operations that share time with the BLE radio.
 *
 * On an nRF SoC the CPU stalls while the NVMC erases or writes, and the radio must not be
 * left without its CPU, so the flash driver runs each piece of work inside a radio
 * timeslot granted by the MPSL scheduler (the nRF Connect SDK default whenever MPSL is
 * built: nrfconnect/sdk-nrf drivers/mpsl/flash_sync/flash_sync_mpsl.c, with the NVMC
 * driver zephyrproject-rtos/zephyr drivers/flash/soc_flash_nrf.c). The rules modelled:
 *
 *   - Work is cut into windows: a write window is 7.5 ms (FLASH_SLOT_WRITE) and holds as
 *     many words as fit (the driver stops when one more would not: floor(window / t_word)
 *     words, at least one); an erase window is one page's worst case (FLASH_PAGE_ERASE_MAX_TIME_US,
 *     89.7 ms on nRF52/nRF53) and holds one page. Each window is requested as one timeslot
 *     of window + 100 us (TIMESLOT_LENGTH_SLACK_US).
 *   - A request is "earliest" at NORMAL priority with a 30 ms timeout
 *     (TIMESLOT_TIMEOUT_PRIORITY_NORMAL_US): it gets the first gap between radio events
 *     that holds the whole timeslot and starts within 30 ms. Otherwise it is BLOCKED and
 *     re-requested at HIGH priority (equal to a connection's own priority: S140 SoftDevice
 *     Specification, "Timeslot API timing", "Request priorities": an activity that has
 *     started is never interrupted, and of equal priorities the one scheduled first wins).
 *     The controller schedules a connection event when the previous one ends, so a HIGH
 *     slot asked during an event starts at that event's end; asked between events, it
 *     waits for the next (already scheduled) event if that would overlap it. The events
 *     whose anchors fall inside its reservation are skipped. After a slot the next request
 *     is NORMAL again.
 *   - A timeslot ends when its work is done (the driver closes the session), so the next
 *     window is requested at that time.
 *
 * The radio is described by its connection events: at anchor + k * interval, each busy
 * for `busy` ns (the controller's estimate is what the link used last: full events while
 * a client streams, one short exchange when it waits). Simplifications: advertising and
 * scanning are not radio activity here (a device under DFU is connected); the events lost
 * to HIGH slots are reported as one span from the first HIGH slot's start to the end of
 * the last one's reservation; partial erase (CONFIG_SOC_FLASH_NRF_PARTIAL_ERASE, off by
 * default) and the 23 s whole-operation timeout are not modelled.
 */
#ifndef MODELS_FLASH_RADIO_SYNC_H
#define MODELS_FLASH_RADIO_SYNC_H

#include <stdint.h>

/* sdk-nrf flash_sync_mpsl.c and zephyr soc_flash_nrf.c constants (ns). */
#define FLASH_SYNC_WRITE_WINDOW_NS 7500000LL  /* FLASH_SLOT_WRITE */
#define FLASH_SYNC_SLACK_NS        100000LL   /* TIMESLOT_LENGTH_SLACK_US */
#define FLASH_SYNC_NORMAL_WAIT_NS  30000000LL /* TIMESLOT_TIMEOUT_PRIORITY_NORMAL_US */
/* The time the SoftDevice Controller reserves for a connection event: an event runs past it
 * only into free time (connection event extension), so a timeslot asked for is scheduled
 * against the reservation, and a pending one ends the extension
 * (nrfconnect/sdk-nrf: subsys/bluetooth/controller/Kconfig,
 * BT_CTLR_SDC_MAX_CONN_EVENT_LEN_DEFAULT 7500 us, BT_CTLR_SDC_CONN_EVENT_EXTEND_DEFAULT y). */
#define FLASH_SYNC_CE_RESERVED_NS  7500000LL

/* The radio's schedule when the work is requested. interval 0: no radio activity. */
struct flash_sync_radio {
    int64_t anchor;   /* start of one connection event (any of them) */
    int64_t interval; /* between events, ns; 0: none */
    int64_t busy;     /* radio time from each anchor, ns, < interval: at most the
                         controller's reservation (FLASH_SYNC_CE_RESERVED_NS) */
};

/* One kind of work: `units` of unit_ns each, `per_window` per timeslot of window_ns. */
struct flash_sync_work {
    int64_t unit_ns; /* a word write or a page erase, the chip's figure */
    uint32_t units;
    uint32_t per_window; /* >= 1 */
    int64_t window_ns;   /* the driver's window (the timeslot is window + slack) */
};

struct flash_sync_result {
    int64_t done;        /* when the last unit is done */
    uint32_t slots;      /* timeslots used */
    uint32_t high_slots; /* of which HIGH priority, after a BLOCKED */
    int64_t block_from;  /* connection events with anchors in [block_from, block_until) */
    int64_t block_until; /* are skipped; equal: none */
};

/* `units` of unit_ns in the driver's windows of window_ns: as many per window as fit, at
 * least one (writes: floor(7.5 ms / t_word) words; erases: one page per 89.7 ms window). */
struct flash_sync_work flash_sync_work_of(int64_t unit_ns, uint32_t units, int64_t window_ns);

/* Run w from `now` against radio r. Pure: the caller applies the result (the link skips
 * the events in the block span). */
void flash_sync_run(const struct flash_sync_radio *r, const struct flash_sync_work *w, int64_t now,
                    struct flash_sync_result *out);

#endif /* MODELS_FLASH_RADIO_SYNC_H */
