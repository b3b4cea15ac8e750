/* sim/error.c - error names and the diagnostic buffer. */
#include "sim/error.h"

#include <stdio.h>
#include <string.h>

const char *sim_err_str(int err)
{
    switch (err) {
    case SIM_OK:
        return "ok";
    case SIM_ENOMEM:
        return "out of memory";
    case SIM_EINVAL:
        return "invalid argument or input";
    case SIM_EIO:
        return "input/output error";
    case SIM_ERANGE:
        return "value out of range";
    case SIM_ENOENT:
        return "not found";
    case SIM_EINTR:
        return "interrupted";
    case SIM_EFORMAT:
        return "malformed input";
    case SIM_EINTERNAL:
        return "internal error";
    default:
        return "unknown error";
    }
}

void sim_diag_init(struct sim_diag *d)
{
    memset(d, 0, sizeof(*d));
}

void sim_diag_addv(struct sim_diag *d, const char *fmt, va_list ap)
{
    if (d == NULL)
        return;
    d->n_messages++;
    size_t room = sizeof(d->text) - d->len;
    int n = vsnprintf(d->text + d->len, room, fmt, ap);
    /* Keep only whole messages: a message that does not fit (with its '\n') is dropped. */
    if (n < 0 || (size_t)n + 2 > room) {
        d->text[d->len] = '\0';
        d->n_dropped++;
        return;
    }
    d->len += (size_t)n;
    d->text[d->len++] = '\n';
    d->text[d->len] = '\0';
}

void sim_diag_add(struct sim_diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sim_diag_addv(d, fmt, ap);
    va_end(ap);
}
