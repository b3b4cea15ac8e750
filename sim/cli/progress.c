/* sim/cli/progress.c - the progress line on a terminal, and time formatting. */
#include "sim/cli/cli_int.h"

#include <inttypes.h>
#include <time.h>

#define PROGRESS_PERIOD_S 0.25 /* redraw at most 4 times a second */

double cli_wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_format_time(char *buf, size_t n, int64_t ns)
{
    int64_t ms = ns / 1000000;
    int64_t s = ms / 1000, days = s / 86400;
    int h = (int)(s / 3600 % 24), m = (int)(s / 60 % 60), sec = (int)(s % 60);
    if (days > 0)
        snprintf(buf, n, "%" PRId64 "d %d:%02d:%02d.%03d", days, h, m, sec, (int)(ms % 1000));
    else
        snprintf(buf, n, "%d:%02d:%02d.%03d", h, m, sec, (int)(ms % 1000));
}

void cli_progress_init(struct cli_progress *p, FILE *stream, const char *name, int64_t until,
                       bool enabled)
{
    *p = (struct cli_progress){.stream = enabled ? stream : NULL, .name = name, .until = until};
    p->wall_start = p->wall_last = cli_wall_seconds();
}

void cli_progress_update(void *ctx, const struct sim_engine *e)
{
    struct cli_progress *p = ctx;
    if (p->stream == NULL)
        return;
    double now = cli_wall_seconds();
    if (now - p->wall_last < PROGRESS_PERIOD_S)
        return;
    uint64_t events = sim_engine_events_handled(e);
    double rate = (double)(events - p->events_last) / (now - p->wall_last);
    int64_t sim_now = sim_engine_now(e);
    double done = p->until > 0 ? (double)sim_now / (double)p->until : 0.0;
    /* ETA assumes simulated time keeps advancing at its average pace so far; a run
     * whose queue empties early finishes sooner. */
    double eta = done > 0 ? (now - p->wall_start) * (1.0 - done) / done : 0.0;
    char t[48];
    cli_format_time(t, sizeof(t), sim_now);
    fprintf(p->stream, "\r%s: sim %s (%3.0f%% of limit)  %.2f M events/s  ETA %.0f s   ", p->name,
            t, 100.0 * done, rate / 1e6, eta);
    fflush(p->stream);
    p->shown = true;
    p->wall_last = now;
    p->events_last = events;
}

void cli_progress_done(struct cli_progress *p)
{
    if (p->stream != NULL && p->shown)
        fputc('\n', p->stream);
}
