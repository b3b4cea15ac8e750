/* sim/scenario/report.c - scenario messages: collected during a load, flushed in
 * position order, so a file's problems read top to bottom whichever step found them. */
#include "sim/scenario/scenario_int.h"

#include <stdio.h>
#include <string.h>

void scenario_report_init(struct scenario_report *r, const char *first)
{
    memset(r, 0, sizeof(*r));
    r->ranks[r->n_ranks++] = first;
}

static unsigned rank_of(struct scenario_report *r, const char *src)
{
    for (unsigned i = 0; i < r->n_ranks; i++)
        if (strcmp(r->ranks[i], src) == 0)
            return i;
    if (r->n_ranks < sizeof(r->ranks) / sizeof(r->ranks[0]))
        r->ranks[r->n_ranks++] = src;
    return r->n_ranks - 1;
}

static int msg_cmp(const struct scenario_report_msg *a, const struct scenario_report_msg *b)
{
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The slot for a new message with key m: a free one, or (when full) the kept message that
 * comes last, if m comes before it; NULL to drop m. Keeps the first CAP by position. */
static struct scenario_report_msg *slot_for(struct scenario_report *r,
                                            const struct scenario_report_msg *m)
{
    if (r->n_kept < SCENARIO_REPORT_CAP)
        return &r->msgs[r->n_kept++];
    struct scenario_report_msg *last = &r->msgs[0];
    for (unsigned i = 1; i < r->n_kept; i++)
        if (msg_cmp(&r->msgs[i], last) > 0)
            last = &r->msgs[i];
    return msg_cmp(m, last) < 0 ? last : NULL;
}

void scenario_report_error(struct scenario_report *r, const char *src, unsigned line, unsigned col,
                           const char *path, const char *fmt, ...)
{
    char text[SCENARIO_REPORT_LEN];
    int n = snprintf(text, sizeof(text), "%s:%u:%u: %s: ", src ? src : "-", line, col,
                     path && path[0] ? path : "-");
    if (n >= 0 && (size_t)n < sizeof(text)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    struct scenario_report_msg key = {
        .rank = rank_of(r, src ? src : "-"), .line = line, .col = col, .seq = r->n_errors++};
    /* The same message twice (every sweep point that holds a bad value reports it) is
     * shown once; it still counts in n_errors, which callers compare to see new errors. */
    for (unsigned i = 0; i < r->n_kept; i++) {
        if (strcmp(r->msgs[i].text, text) == 0) {
            r->n_dups++;
            return;
        }
    }
    struct scenario_report_msg *m = slot_for(r, &key);
    if (m == NULL)
        return;
    *m = key;
    memcpy(m->text, text, sizeof(m->text));
}

void scenario_report_flush(struct scenario_report *r, struct sim_diag *d)
{
    /* Insertion sort: at most SCENARIO_REPORT_CAP messages. Sorts an index array so the
     * 480-byte messages stay put. */
    unsigned order[SCENARIO_REPORT_CAP];
    for (unsigned i = 0; i < r->n_kept; i++) {
        unsigned j = i;
        while (j > 0 && msg_cmp(&r->msgs[order[j - 1]], &r->msgs[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (unsigned i = 0; i < r->n_kept; i++)
        sim_diag_add(d, "%s", r->msgs[order[i]].text);
    if (r->n_errors > r->n_kept + r->n_dups)
        sim_diag_add(d, "%s: %u more errors not shown (fix the ones above first)",
                     r->n_ranks ? r->ranks[0] : "-", r->n_errors - r->n_kept - r->n_dups);
}

const char *scenario_report_quote(char *buf, size_t n, const char *text)
{
    const size_t show = 60;
    size_t o = 0, shown = 0;
    buf[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)text; *p; p++, shown++) {
        if (shown == show || o + 8 >= n) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", *p);
        } else {
            buf[o++] = (char)*p;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

static size_t path_append(struct scenario_path *p, const char *s)
{
    size_t old = p->len;
    size_t room = sizeof(p->buf) - 1 - p->len;
    size_t k = strlen(s);
    if (k > room)
        k = room;
    memcpy(p->buf + p->len, s, k);
    p->len += k;
    p->buf[p->len] = '\0';
    return old;
}

size_t scenario_path_push_key(struct scenario_path *p, const char *key)
{
    size_t old = p->len;
    if (p->len > 0)
        path_append(p, ".");
    path_append(p, key);
    return old;
}

size_t scenario_path_push_index(struct scenario_path *p, size_t index)
{
    char b[32];
    snprintf(b, sizeof(b), "[%zu]", index);
    return path_append(p, b);
}

void scenario_path_pop(struct scenario_path *p, size_t old_len)
{
    p->len = old_len;
    p->buf[old_len] = '\0';
}

void scenario_pos_format(char *buf, size_t n, const struct scenario_pos *p, const char *key)
{
    if (p->src != NULL && p->line > 0)
        snprintf(buf, n, "%s:%u:%u: %s", p->src, p->line, p->col, key);
    else
        snprintf(buf, n, "%s", key);
}
