/* sim/evq.h - the future event set: pending events ordered by (time, insertion sequence).
 *
 * A radix heap over time grains (buckets by the highest differing digit of an event's
 * grain against the last grain popped, above a small sorted bottom, sim/evq.c): O(1)
 * amortised per push and pop when times spread, O(log n) when they do not (many equal
 * times). Events are stored by value in flat arrays that grow by doubling (no malloc per
 * event); equal times pop first in, first out (CONTRIBUTING.md rule 2). Pushes at any time,
 * also before the last popped one, keep that order exactly. Used by sim/engine.c and
 * bench/.
 */
#ifndef SIM_EVQ_H
#define SIM_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/engine.h" /* struct sim_event */

struct sim_evq; /* opaque: callers could break the heap invariant */

/* Create an empty queue with room for capacity_hint events before it first grows
 * (0 = a small default). The first pushed event gets seq 0. Returns NULL when out of
 * memory. */
struct sim_evq *sim_evq_new(size_t capacity_hint);
/* Free the queue and every pending event. Accepts NULL. */
void sim_evq_free(struct sim_evq *q);

/* When the queue is empty, free its arrays (all but about 1 KiB); the next push allocates
 * them again (and may then fail with SIM_ENOMEM even right after a pop). Does nothing
 * when events are pending. For many queues that are idle for long stretches (a fleet's
 * blocks, models/fleet/world.h). */
void sim_evq_trim(struct sim_evq *q);

/* Copy *ev into the queue. ev->seq is ignored: the queue stamps the next insertion
 * sequence (0, 1, 2, ...), which breaks ties between equal ev->at. Returns 0, or
 * SIM_ENOMEM if the arrays cannot grow or 2^24 events are already pending (the queue and
 * its sequence counter are then unchanged). Allocates only when the arrays double
 * (amortised O(1)); O(1) expected work, O(log n) at worst. */
int sim_evq_push(struct sim_evq *q, const struct sim_event *ev);

/* Consume the seq the next push would get, without pushing: the place in the order of an
 * event that will be pushed later with sim_evq_push_seq() (a timer re-armed to a later
 * time keeps its earlier event pending, sim/engine.c). Returns that seq. Never renumbers:
 * the caller must check sim_evq_next_seq() against SIM_EVQ_SEQ_LIMIT first. */
uint64_t sim_evq_seq_take(struct sim_evq *q);

/* Push *ev with ev->seq as given: a seq from sim_evq_seq_take() (below
 * sim_evq_next_seq(), and not held by a pending event). Returns 0 or SIM_ENOMEM as
 * sim_evq_push(); never fails right after a pop (the popped slot is reused). */
int sim_evq_push_seq(struct sim_evq *q, const struct sim_event *ev);

/* Remove the earliest event (smallest (at, seq)) and copy it to *out. Returns false, and
 * leaves *out untouched, when the queue is empty. Never allocates. */
bool sim_evq_pop(struct sim_evq *q, struct sim_event *out);

/* Copy the earliest event to *out without removing it; false when empty. */
bool sim_evq_peek(const struct sim_evq *q, struct sim_event *out);

/* Time (ns) of the earliest event, or SIM_TIME_MAX when the queue is empty (an event at
 * SIM_TIME_MAX looks the same: use sim_evq_size() to tell them apart). */
int64_t sim_evq_peek_at(const struct sim_evq *q);

/* Renumber the pending events' seq to 0..n-1 in their current order; the next push then
 * gets n. Push calls it itself when the 40-bit seq space runs out (after ~1.1e12 pushes),
 * so seq is an insertion rank, not a lifetime count. O(n log n); never allocates. */
void sim_evq_renumber(struct sim_evq *q);

/* seq stays below this; sim_evq_push() renumbers when next_seq reaches it. */
#define SIM_EVQ_SEQ_LIMIT ((((uint64_t)1) << 40) - 1u)

size_t sim_evq_size(const struct sim_evq *q);       /* pending events */
uint64_t sim_evq_next_seq(const struct sim_evq *q); /* seq the next push will get */

#endif /* SIM_EVQ_H */
