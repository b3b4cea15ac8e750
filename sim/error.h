/* sim/error.h - the one error enum of dfusim, and diagnostics for people.
 *
 * Library functions return 0 or a negative SIM_E* code and never print or exit, as
 * libuv/libuv: src/timer.c does. Text for people goes into a caller-supplied struct sim_diag,
 * written by the layer that knows the context (file:line:column, scenario key).
 * Only the CLI maps results to exit codes (CONTRIBUTING.md rule 9).
 */
#ifndef SIM_ERROR_H
#define SIM_ERROR_H

#include <stdarg.h>
#include <stddef.h>

enum sim_err {
    SIM_OK = 0,
    SIM_ENOMEM = -1,   /* allocation failed */
    SIM_EINVAL = -2,   /* bad argument or bad input (scenario, image file, ...) */
    SIM_EIO = -3,      /* file or database I/O failed */
    SIM_ERANGE = -4,   /* value outside its allowed range */
    SIM_ENOENT = -5,   /* no such file, key or entity */
    SIM_EINTR = -6,    /* interrupted by a stop request (SIGINT) */
    SIM_EFORMAT = -7,  /* input is not in the expected format (YAML, image, database) */
    SIM_EINTERNAL = -8 /* a dfusim bug: an invariant did not hold */
};

/* Exit codes of the dfusim program (CONTRIBUTING.md rule 9). */
enum sim_exit {
    SIM_EXIT_OK = 0,
    SIM_EXIT_REGRESSION = 1,
    SIM_EXIT_USAGE = 2,
    SIM_EXIT_INTERNAL = 3
};

/* Short English name of an error code ("out of memory"); never NULL. */
const char *sim_err_str(int err);

/* Collected messages for people, one per line, each ending in '\n'.
 * Fixed storage so that reporting an error can never fail; text past the
 * capacity is dropped and counted in n_dropped. */
#define SIM_DIAG_CAP 8192
struct sim_diag {
    size_t n_messages; /* messages added, including dropped ones */
    size_t n_dropped;  /* messages that did not fit */
    size_t len;        /* bytes used in text, excluding the NUL */
    char text[SIM_DIAG_CAP];
};

void sim_diag_init(struct sim_diag *d);

/* Append one message (printf format); a trailing newline is added. Accepts d == NULL. */
void sim_diag_add(struct sim_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_diag_addv(struct sim_diag *d, const char *fmt, va_list ap);

#endif /* SIM_ERROR_H */
