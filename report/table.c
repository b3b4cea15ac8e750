/* report/table.c - aligned text table. */
#include "report/table.h"

#include <stdlib.h>
#include <string.h>

struct report_table {
    size_t n_cols, n_rows, cap_rows;
    char **cells; /* n_rows * n_cols, row-major */
};

struct report_table *report_table_new(size_t n_cols)
{
    if (n_cols == 0)
        return NULL;
    struct report_table *t = calloc(1, sizeof(*t));
    if (t != NULL)
        t->n_cols = n_cols;
    return t;
}

void report_table_free(struct report_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

static char *dup_cell(const char *s)
{
    if (s == NULL)
        s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

int report_table_add_row(struct report_table *t, const char *const *cells)
{
    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows ? 2 * t->cap_rows : 8;
        char **grown = realloc(t->cells, cap * t->n_cols * sizeof(*grown));
        if (grown == NULL)
            return -1;
        t->cells = grown;
        t->cap_rows = cap;
    }
    char **row = t->cells + t->n_rows * t->n_cols;
    for (size_t c = 0; c < t->n_cols; c++) {
        row[c] = dup_cell(cells[c]);
        if (row[c] != NULL)
            continue;
        while (c > 0)
            free(row[--c]);
        return -1;
    }
    t->n_rows++;
    return 0;
}

/* Display width: UTF-8 code points (continuation bytes 10xxxxxx do not count). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void pad(FILE *out, size_t n)
{
    while (n-- > 0)
        fputc(' ', out);
}

void report_table_print(const struct report_table *t, FILE *out)
{
    size_t *w = calloc(t->n_cols, sizeof(*w));
    if (w == NULL)
        return;
    for (size_t r = 0; r < t->n_rows; r++)
        for (size_t c = 0; c < t->n_cols; c++) {
            size_t cw = width(t->cells[r * t->n_cols + c]);
            w[c] = cw > w[c] ? cw : w[c];
        }
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *cell = t->cells[r * t->n_cols + c];
            size_t fill = w[c] - width(cell);
            if (c > 0)
                fputs("  ", out);
            if (c > 0)
                pad(out, fill);
            fputs(cell, out);
            if (c == 0 && t->n_cols > 1)
                pad(out, fill);
        }
        fputc('\n', out);
        if (r != 0)
            continue;
        size_t total = 0;
        for (size_t c = 0; c < t->n_cols; c++)
            total += w[c] + (c > 0 ? 2 : 0);
        for (size_t i = 0; i < total; i++)
            fputc('-', out);
        fputc('\n', out);
    }
    free(w);
}
