/* models/fleet/gateway.h - one gateway or phone: the central that runs DFU clients for the
 * devices assigned to it, with at most `links` of them connected at once, present always
 * or in sessions; and the assignment of devices to gateways.
 *
 * The world owns the devices, their clients and links; a gateway owns a FIFO of device ids
 * waiting for it and up to `links` active ones, and decides through struct
 * fleet_gateway_ctx which device connects (its client starts) and which must leave (the
 * phone walked away). Time is int64_t ns, always passed in as `now`. Sources: S140
 * SoftDevice v7.3.0 API documentation (up to 20 concurrent links);
 * zephyrproject-rtos/zephyr: subsys/bluetooth/Kconfig (CONFIG_BT_MAX_CONN 1-64). The
 * links share one radio's connection-event time (models/ble/link.h): on every connect,
 * DONE, CANCEL and departure the world gives each of the gateway's active links
 * ble_link_set_ce_share(stats.active).
 *
 * Availability:
 *   ALWAYS    a fixed gateway: present from START, forever.
 *   SESSIONS  a phone: absent at START; sessions start after gaps drawn Exp(arrival_mean)
 *             (Poisson arrivals while absent), each lasts a dwell drawn per session from
 *             cfg.dwell (any fleet_population_dist, in ns: fixed(5min), exponential(...),
 *             lognormal(...)), then the phone leaves: each active device gets ctx.leave()
 *             (the world stops its client and drops its link) and goes back to the front
 *             of the queue, in connect order, to be served in a later session. The next
 *             gap starts at the departure. Queued devices are served only while present.
 *
 * Random streams (CONTRIBUTING.md rule 3), all purpose SIM_RNG_GATEWAY with a sub-stream in the
 * bits above 16: gaps (seed, gateway entity, SIM_RNG_GATEWAY), dwells (seed, gateway
 * entity, SIM_RNG_GATEWAY | 1 << 16), the RANDOM assignment (seed, device entity,
 * SIM_RNG_GATEWAY | 2 << 16). So a gateway's sessions depend on nothing but its own key
 * (not on other gateways or devices), and a change of the dwell distribution leaves the
 * sequence of gaps alone.
 *
 * States:
 *
 *   IDLE --START--> PRESENT (ALWAYS; connects queued devices) | ABSENT (SESSIONS; arms the
 *        first arrival)
 *   ABSENT, queue empty (dormant) --REQUEST--> queued; the next arrival is armed from now
 *   ABSENT --TIMER (arrival)--> PRESENT: draws the dwell, arms the departure, connects
 *        queued devices from the front while a link is free
 *   PRESENT --TIMER (departure, SESSIONS)--> ABSENT: leave() for every active device, in
 *        connect order; they go back to the queue front in that order; emit_session();
 *        arms the next arrival
 *   any --REQUEST(d)--> d connects at once if PRESENT and a link is free, else d is queued
 *        at the back. d already queued or active: counted n_unexpected, nothing changes.
 *   any --DONE(d)--> d active: its link frees (served), the queue front connects (if
 *        PRESENT). d not active (it left or was cancelled first): counted n_late.
 *   any --CANCEL(d)--> d leaves the queue, or its link frees and the queue front connects;
 *        no leave() (the world cancelled it and already stopped its client). d in neither:
 *        n_late.
 *   any --TIMER with a stale generation (or none armed)--> counted n_stale.
 *   START outside IDLE: counted n_unexpected, reported through ctx.unexpected.
 *
 * Invariants (fleet_gateway_check() asserts them after each step in debug builds):
 *   1. active <= links, always (the acceptance test: link limits hold at every instant).
 *   2. ABSENT or IDLE => active == 0.
 *   3. PRESENT => active == links or the queue is empty (no link idles while a device
 *      waits).
 *   4. every device is in at most one place: the queue or the active set, once.
 *   5. SESSIONS, PRESENT or with devices queued => one timer armed; ALWAYS or IDLE =>
 *      none. An ABSENT phone with an empty queue is dormant (no arrival armed): the next
 *      REQUEST draws the gap from its own time, which exponential gaps make equivalent.
 *   6. queue capacity >= queued + active, so a departure never allocates.
 *
 * Memory: the struct (344 B on x86-64, the active set inline) plus a ring of 4-byte ids that
 * grows by doubling to the most devices ever queued or active at once; nothing per event.
 * REQUEST and CANCEL scan the queue (O(queue)): cheap for tens of devices per gateway; a
 * single gateway for 20,000 devices would want a per-device flag kept by the world.
 */
#ifndef MODELS_FLEET_GATEWAY_H
#define MODELS_FLEET_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>

#include "models/fleet/population.h"
#include "sim/error.h"
#include "sim/rng.h"
#include "models/client/dfu.h"
#include "sim/scenario/settings.h"

/* S140 v7.3.0 BLE_GAP_ROLE_COUNT_COMBINED_MAX (S140 API documentation, docs.nordicsemi.com). */
#define FLEET_GATEWAY_MAX_LINKS 20u
/* No gateway (fleet_gateway_assign with bad arguments). */
#define FLEET_GATEWAY_NONE      UINT32_MAX

/* Sub-streams of SIM_RNG_GATEWAY (bits 16 and up of the purpose; never renumber). */
#define FLEET_GATEWAY_RNG_GAP    ((uint32_t)SIM_RNG_GATEWAY)
#define FLEET_GATEWAY_RNG_DWELL  ((uint32_t)SIM_RNG_GATEWAY | 1u << 16)
#define FLEET_GATEWAY_RNG_ASSIGN ((uint32_t)SIM_RNG_GATEWAY | 2u << 16)

enum fleet_gateway_availability {
    FLEET_GATEWAY_ALWAYS,  /* fixed gateway: always present */
    FLEET_GATEWAY_SESSIONS /* phone: Poisson-arriving sessions with a dwell */
};

/* Plain data. Per gateway, so the world may draw links and arrival_mean per gateway
 * (FLEET_POPULATION_GW_LINKS, FLEET_POPULATION_GW_ARRIVAL); the dwell distribution is
 * shared by a group and borrowed. */
struct fleet_gateway_cfg {
    uint32_t links;       /* most concurrent links, 1..FLEET_GATEWAY_MAX_LINKS */
    uint8_t availability; /* enum fleet_gateway_availability */
    int64_t arrival_mean; /* SESSIONS: mean gap between sessions, ns, > 0 */
    /* SESSIONS: session length in ns, drawn per session; valid (fleet_population_validate)
     * with support >= 0. Borrowed: must outlive the gateway. Ignored (may be NULL) with
     * ALWAYS. */
    const struct fleet_population_dist *dwell;
};

/* Check cfg. Returns 0, or SIM_EINVAL / SIM_ERANGE with one message per bad field (its
 * name, the value, the allowed range) in diag (may be NULL), without a location: the
 * caller puts FILE:LINE:COL and the scenario key in front. */
int fleet_gateway_cfg_validate(const struct fleet_gateway_cfg *cfg, struct sim_diag *diag);

enum fleet_gateway_state {
    FLEET_GATEWAY_ST_IDLE,    /* before START: requests queue */
    FLEET_GATEWAY_ST_ABSENT,  /* a phone between sessions */
    FLEET_GATEWAY_ST_PRESENT, /* serving: links may be active */
    FLEET_GATEWAY_STATE_COUNT
};

enum fleet_gateway_input {
    FLEET_GATEWAY_IN_START,   /* arg NULL */
    FLEET_GATEWAY_IN_REQUEST, /* arg const uint32_t *: device id (the world's index) */
    FLEET_GATEWAY_IN_DONE,    /* arg const uint32_t *: that device's client finished */
    FLEET_GATEWAY_IN_CANCEL,  /* arg const uint32_t *: the world withdrew that device */
    FLEET_GATEWAY_IN_TIMER,   /* arg const uint32_t *: the generation timer_arm returned */
    FLEET_GATEWAY_INPUT_COUNT
};

/* One session of a phone, written at its departure (ALWAYS gateways write none). */
struct fleet_gateway_session {
    uint32_t gateway;         /* the id given to fleet_gateway_init */
    uint32_t index;           /* 0 for the gateway's first session */
    int64_t start_ns, end_ns; /* arrival and departure */
    uint32_t connected;       /* connect() calls during the session */
    uint32_t served;          /* DONE of an active device during the session */
    uint32_t left;            /* leave() calls at the departure */
};

/* The gateway acts only through this. Calls happen inside fleet_gateway_step; the world
 * must not call fleet_gateway_step from inside them (report results as later events). */
struct fleet_gateway_ctx {
    void *env;
    void (*connect)(void *env, uint32_t gateway, uint32_t device, int64_t now); /* start */
    void (*leave)(void *env, uint32_t gateway, uint32_t device, int64_t now);   /* stop, drop */
    /* The gateway owns one timer: (re)arm it at at_ns (>= now); an earlier arming is
     * superseded by generation. Returns the generation to pass back with IN_TIMER. */
    uint32_t (*timer_arm)(void *env, uint32_t gateway, int64_t at_ns);
    void (*emit_session)(void *env, const struct fleet_gateway_session *s); /* may be NULL */
    void (*unexpected)(void *env, uint32_t gateway, int state, int input,
                       int64_t now); /* may be NULL */
};

struct fleet_gateway_stats {
    bool present;
    uint32_t active, queued; /* now */
    uint32_t max_active;     /* most active at once, ever */
    uint32_t sessions;       /* started (ALWAYS: 1 after START) */
    uint64_t connects;       /* connect() calls */
    uint64_t served;         /* DONE of an active device */
    uint64_t leaves;         /* leave() calls */
    uint64_t cancels;        /* CANCEL of a queued or active device */
    uint64_t n_late, n_stale, n_unexpected;
};

/* One gateway, caller storage (flat arrays of 10,000 are the point). Plain storage, but
 * fields are private to gateway.c: read them through the accessors. */
struct fleet_gateway {
    struct fleet_gateway_cfg cfg;
    const struct fleet_gateway_ctx *cx; /* borrowed */
    struct sim_rng gap_rng, dwell_rng;
    uint32_t *q; /* ring of queued device ids: q[(q_head + i) % q_cap], i < q_n */
    uint32_t q_cap, q_head, q_n;
    uint32_t active[FLEET_GATEWAY_MAX_LINKS]; /* connect order */
    uint32_t n_active;
    uint32_t id;
    uint32_t timer_gen;               /* generation of the armed timer */
    int64_t timer_at;                 /* armed time, or -1 */
    struct fleet_gateway_session cur; /* counters of the session in progress */
    struct fleet_gateway_stats st;
    uint8_t state; /* enum fleet_gateway_state */
};

/* Initialise an IDLE gateway numbered id (reported to every ctx call and in records),
 * drawing from streams keyed (seed, entity) as above. cfg is copied (its dwell stays
 * borrowed), cx borrowed. Allocates nothing. Returns 0, or the fleet_gateway_cfg_validate
 * error (messages in diag, may be NULL); the gateway is then unusable but safe to _fini. */
int fleet_gateway_init(struct fleet_gateway *g, const struct fleet_gateway_cfg *cfg, uint32_t id,
                       uint64_t seed, uint64_t entity, const struct fleet_gateway_ctx *cx,
                       struct sim_diag *diag);
/* Free the queue. Makes no callbacks. */
void fleet_gateway_fini(struct fleet_gateway *g);

/* One input at now (see the diagram). Returns 0; SIM_EINVAL for a missing arg or an
 * unknown input (nothing changes); SIM_ENOMEM when a REQUEST needs a bigger queue and
 * none can be had (nothing changes: retry later or fail the device). */
int fleet_gateway_step(struct fleet_gateway *g, enum fleet_gateway_input in, const void *arg,
                       int64_t now);

static inline enum fleet_gateway_state fleet_gateway_state_get(const struct fleet_gateway *g)
{
    return (enum fleet_gateway_state)g->state;
}
static inline const struct fleet_gateway_stats *
fleet_gateway_stats_get(const struct fleet_gateway *g)
{
    return &g->st;
}
/* The k-th active device in connect order (k < stats.active), or FLEET_GATEWAY_NONE. */
uint32_t fleet_gateway_active_at(const struct fleet_gateway *g, uint32_t k);
/* The k-th queued device from the front (k < stats.queued), or FLEET_GATEWAY_NONE. */
uint32_t fleet_gateway_queued_at(const struct fleet_gateway *g, uint32_t k);
const char *fleet_gateway_state_name(enum fleet_gateway_state s);

/* Assert the invariants listed above (debug builds; no-op with NDEBUG). */
void fleet_gateway_check(const struct fleet_gateway *g);

/* ---- assignment of devices to gateways ---- */

enum fleet_gateway_assignment {
    FLEET_GATEWAY_ROUND_ROBIN, /* device_index mod n_gateways */
    FLEET_GATEWAY_BLOCK,       /* contiguous ranges: the first n_devices mod n_gateways
                                * gateways get one device more (numpy.array_split) */
    FLEET_GATEWAY_RANDOM,      /* uniform, keyed (seed, device_entity, ASSIGN sub-stream):
                                * independent of every other device and of the indexes */
    FLEET_GATEWAY_ASSIGNMENT_COUNT
};

/* The gateway (0 .. n_gateways - 1) of one device. Pure. device_index is the device's
 * position among the n_devices served by these gateways (ROUND_ROBIN, BLOCK);
 * device_entity its random-stream entity (RANDOM). Returns FLEET_GATEWAY_NONE when
 * n_gateways is 0, device_index >= n_devices, or a is unknown. */
uint32_t fleet_gateway_assign(enum fleet_gateway_assignment a, uint64_t seed,
                              uint64_t device_entity, uint32_t device_index, uint32_t n_devices,
                              uint32_t n_gateways);

/* Name as a scenario spells it ("round-robin", "block", "random"); "?" if unknown. */
const char *fleet_gateway_assignment_name(enum fleet_gateway_assignment a);

/* ---- settings: one element of the `gateways` list (table in gateway.c) ---- */

/* Informative: what kind of central a gateway entry is. */
enum fleet_gateway_kind { FLEET_GATEWAY_KIND_GATEWAY, FLEET_GATEWAY_KIND_PHONE };

struct fleet_gateway_settings {
    char *name;       /* unique among gateways */
    uint32_t count;   /* gateways of this kind */
    int kind;         /* enum fleet_gateway_kind */
    uint8_t links;    /* most concurrent links per gateway */
    int availability; /* enum fleet_gateway_availability */
    int64_t arrival;  /* sessions: mean gap between sessions (Poisson), ns; else 0 */
    int64_t dwell;    /* sessions: session length, ns; else 0 */
    struct scenario_dist dwell_dist;
    size_t n_serves;
    char **serves;  /* group names, each at most once; absent: every group (models/fleet
                     * setup checks that each name exists) */
    int assignment; /* enum fleet_gateway_assignment */
    struct client_dfu_settings client; /* keys not given are the top-level client's */
    struct scenario_pos pos;           /* the list element */
};
extern const struct scenario_schema fleet_gateway_settings_schema;

/* A list element naming a device group (gateways' serves, faults' groups). */
extern const struct scenario_field fleet_group_name_item;

#endif /* MODELS_FLEET_GATEWAY_H */
