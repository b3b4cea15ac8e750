/* report/table.h - an aligned text table for the terminal: a header row, a rule, then rows;
 * the first column is left-aligned and the others right-aligned, widths measured in UTF-8
 * code points so that "±" counts as one column. */
#ifndef REPORT_TABLE_H
#define REPORT_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct report_table; /* opaque: owns copies of every cell */

/* A table of n_cols columns (>= 1); NULL when out of memory. */
struct report_table *report_table_new(size_t n_cols);
void report_table_free(struct report_table *t); /* accepts NULL */

/* Appends a row of n_cols cells (copied; a NULL cell prints empty). The first row added is
 * the header. Returns 0, or -1 when out of memory (the table is unchanged). */
int report_table_add_row(struct report_table *t, const char *const *cells);

/* Writes the table to out, two spaces between columns. */
void report_table_print(const struct report_table *t, FILE *out);

#endif /* REPORT_TABLE_H */
