/* models/flash/radio_sync.c - flash work in radio timeslots (see radio_sync.h). */
#include "models/flash/radio_sync.h"

#include <stdbool.h>

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The radio as a run sees it: its events, less those skipped for the run's HIGH slots so
 * far (anchors in [skip_from, skip_until)). */
struct view {
    const struct flash_sync_radio *r;
    int64_t skip_from, skip_until;
};

static bool skipped(const struct view *v, int64_t a)
{
    return a >= v->skip_from && a < v->skip_until;
}

/* Start of the first connection event that starts at or after t. */
static int64_t event_at_or_after(const struct view *v, int64_t t)
{
    const struct flash_sync_radio *r = v->r;
    int64_t a = r->anchor + floor_div(t - r->anchor, r->interval) * r->interval;
    if (a < t)
        a += r->interval;
    while (skipped(v, a))
        a += r->interval;
    return a;
}

/* t itself, or the end of the radio event t falls in. */
static int64_t outside_events(const struct view *v, int64_t t)
{
    const struct flash_sync_radio *r = v->r;
    int64_t a = r->anchor + floor_div(t - r->anchor, r->interval) * r->interval;
    return t < a + r->busy && !skipped(v, a) ? a + r->busy : t;
}

/* Where a NORMAL request made at t starts, or -1 when it is BLOCKED: the first gap
 * between events that holds len and starts within the 30 ms the request may wait. */
static int64_t normal_start(const struct view *v, int64_t t, int64_t len)
{
    for (int64_t s = outside_events(v, t); s - t <= FLASH_SYNC_NORMAL_WAIT_NS;) {
        int64_t next = event_at_or_after(v, s);
        if (next - s >= len)
            return s;
        s = next + v->r->busy;
    }
    return -1;
}

/* Where a HIGH request made at t starts: at the end of the event on air (the controller
 * puts the next event on the schedule only when one ends, so the slot goes first and that
 * event is skipped); between events, after the next one (already scheduled) if it would
 * overlap the slot, else at once. */
static int64_t high_start(const struct view *v, int64_t t, int64_t len)
{
    int64_t s = outside_events(v, t);
    if (s != t)
        return s; /* an event is on air: the next goes on the schedule only when it ends */
    int64_t next = event_at_or_after(v, t);
    return next < t + len ? next + v->r->busy : t;
}

void flash_sync_run(const struct flash_sync_radio *r, const struct flash_sync_work *w, int64_t now,
                    struct flash_sync_result *out)
{
    *out = (struct flash_sync_result){.done = now, .block_from = now, .block_until = now};
    int64_t t = now, len = w->window_ns + FLASH_SYNC_SLACK_NS;
    struct view v = {r, now, now};
    /* no gap is ever long enough: every NORMAL request is refused at once */
    bool never_fits = r->interval - r->busy < len;
    for (uint32_t left = w->units; left > 0;) {
        uint32_t n = left < w->per_window ? left : w->per_window;
        int64_t start = t;
        if (r->interval > 0) {
            start = never_fits ? -1 : normal_start(&v, t, len);
            if (start < 0) {
                start = high_start(&v, t, len);
                if (out->high_slots++ == 0)
                    v.skip_from = start;
                v.skip_until = start + len;
            }
        }
        t = start + (int64_t)n * w->unit_ns;
        out->slots++;
        left -= n;
    }
    out->done = t;
    out->block_from = v.skip_from;
    out->block_until = v.skip_until;
}

struct flash_sync_work flash_sync_work_of(int64_t unit_ns, uint32_t units, int64_t window_ns)
{
    int64_t fit = unit_ns > 0 ? window_ns / unit_ns : (int64_t)units;
    uint32_t per = fit < 1 ? 1 : fit > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)fit;
    return (struct flash_sync_work){unit_ns, units, per, window_ns};
}
