/* report/completeness.h - did a results database's command run everything it planned?
 *
 * `dfusim run` writes meta.runs_planned (sweep points x replications) before the first
 * run and meta.runs_finished (runs that ended 'complete') after each run. A database is
 * complete when every planned run finished and no run row says anything but 'complete'.
 * A database written before these keys existed is judged by its run rows alone.
 * report, compare and check read this so that a cut-short sweep never passes for a smaller
 * complete one (issue 13). Definition: README.md, "Result database" (table meta).
 */
#ifndef REPORT_COMPLETENESS_H
#define REPORT_COMPLETENESS_H

#include <stdbool.h>
#include <stdio.h>

struct report_completeness {
    long planned, finished; /* meta.runs_planned, runs_finished; -1 when absent */
    long runs;              /* rows in runs */
    long complete, interrupted, failed, running; /* by status */
};

/* Read the counts of the database at path (read-only). Returns 0, or -1 with a message in
 * msg when the database cannot be read (callers report that through their own loading). */
int report_completeness_read(const char *path, struct report_completeness *c, char *msg,
                             size_t msg_len);

/* Whether every planned run finished and every run row is 'complete'. */
bool report_completeness_whole(const struct report_completeness *c);

/* "the sweep is incomplete: 2 of 6 planned runs finished (1 interrupted, 3 never
 * started)"; "" for a whole database. */
void report_completeness_describe(const struct report_completeness *c, char *buf, size_t n);

/* For report and compare: when the database at path is not whole, print
 * "WARNING: PATH: the sweep is incomplete: ..." on err and, when out is not NULL and not
 * err, as the first line of the output too. Returns 1 (incomplete), 0 (whole) or -1 (not
 * readable; nothing printed). */
int report_completeness_warn(const char *path, FILE *out, FILE *err);

#endif /* REPORT_COMPLETENESS_H */
