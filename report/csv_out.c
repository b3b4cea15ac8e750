/* report/csv_out.c - CSV fields with libcsv's quoting. */
#include "report/csv_out.h"

#include <csv.h>
#include <math.h>
#include <string.h>

#include "report/summary.h"

int report_csv_field(FILE *out, bool first, const char *s)
{
    if (!first && fputc(',', out) == EOF)
        return REPORT_EIO;
    return csv_fwrite(out, s, strlen(s)) == 0 ? 0 : REPORT_EIO;
}

int report_csv_number(FILE *out, double v)
{
    if (fputc(',', out) == EOF)
        return REPORT_EIO;
    if (!isfinite(v))
        return 0;
    return fprintf(out, "%.15g", v) < 0 ? REPORT_EIO : 0;
}
