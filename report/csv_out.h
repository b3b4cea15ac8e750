/* report/csv_out.h - writing CSV fields with libcsv's quoting, shared by the report, compare
 * and baseline writers. Each returns 0 or REPORT_EIO. */
#ifndef REPORT_CSV_OUT_H
#define REPORT_CSV_OUT_H

#include <stdbool.h>
#include <stdio.h>

/* A text field, quoted by csv_fwrite; preceded by a comma unless it is the first. */
int report_csv_field(FILE *out, bool first, const char *s);
/* ",V" with V in %.15g, or "," alone when v is not finite (an empty field). */
int report_csv_number(FILE *out, double v);

#endif /* REPORT_CSV_OUT_H */
