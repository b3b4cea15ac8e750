/* report/render.c - a summary as a terminal table and as CSV (libcsv quoting). */
#include "report/summary.h"
#include "report/table.h"

#include <csv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void format_value(char *buf, size_t n, double mean, double ci, int decimals)
{
    if (!isfinite(mean))
        snprintf(buf, n, "-");
    else if (isfinite(ci))
        snprintf(buf, n, "%.*f ±%.*f", decimals, mean, decimals, ci);
    else
        snprintf(buf, n, "%.*f", decimals, mean);
}

int report_summary_print(const struct report_summary *s, FILE *out)
{
    /* One column per row of s, so that 19 metrics stay readable for a few points. */
    struct report_table *t = report_table_new(s->n_rows + 1);
    const char **cells = calloc(s->n_rows + 1, sizeof(*cells));
    char *buf = calloc(s->n_rows + 1, 256);
    int rc = t == NULL || cells == NULL || buf == NULL ? REPORT_ENOMEM : 0;
    size_t point = 0;
    for (size_t i = 0; i < s->n_rows && rc == 0; i++) {
        if (i == 0 || strcmp(s->rows[i].point, s->rows[i - 1].point) != 0)
            fprintf(out, "point %zu: %s (%zu run%s)\n", ++point, s->rows[i].point,
                    s->rows[i].n_runs, s->rows[i].n_runs == 1 ? "" : "s");
        if (s->n_points > 1)
            snprintf(buf + 256 * (i + 1), 256, "%zu: %s %s", point, s->rows[i].group,
                     s->rows[i].bootloader);
        else
            snprintf(buf + 256 * (i + 1), 256, "%s %s", s->rows[i].group, s->rows[i].bootloader);
        cells[i + 1] = buf + 256 * (i + 1);
    }
    cells[0] = "mean ±95 % CI";
    if (rc == 0)
        rc = report_table_add_row(t, cells) == 0 ? 0 : REPORT_ENOMEM;
    for (int m = 0; m < REPORT_METRIC_COUNT && rc == 0; m++) {
        cells[0] = report_metrics[m].label;
        for (size_t i = 0; i < s->n_rows; i++)
            format_value(buf + 256 * (i + 1), 256, s->rows[i].mean[m], s->rows[i].ci95[m],
                         report_metrics[m].decimals);
        rc = report_table_add_row(t, cells) == 0 ? 0 : REPORT_ENOMEM;
    }
    if (rc == 0) {
        report_table_print(t, out);
        for (size_t i = 0; i < s->n_rows; i++)
            if (s->rows[i].app_start_dist)
                fprintf(out,
                        "note: %s: firmware.app_start is a distribution; downtime leaves "
                        "it out\n",
                        s->rows[i].group);
        if (s->n_skipped_runs > 0)
            fprintf(out, "note: %zu run%s not complete, left out\n", s->n_skipped_runs,
                    s->n_skipped_runs == 1 ? "" : "s");
    }
    report_table_free(t);
    free(cells);
    free(buf);
    return rc;
}

/* One field: libcsv quotes it (always: a name with a comma, quote or newline round-trips). */
static int field(FILE *out, bool first, const char *s)
{
    if (!first && fputc(',', out) == EOF)
        return REPORT_EIO;
    return csv_fwrite(out, s, strlen(s)) == 0 ? 0 : REPORT_EIO;
}

static int number(FILE *out, double v)
{
    if (fputc(',', out) == EOF)
        return REPORT_EIO;
    if (!isfinite(v))
        return 0;
    return fprintf(out, "%.15g", v) < 0 ? REPORT_EIO : 0;
}

int report_summary_write_csv(const struct report_summary *s, FILE *out)
{
    int rc = field(out, true, "point");
    rc = rc ? rc : field(out, false, "group");
    rc = rc ? rc : field(out, false, "bootloader");
    rc = rc ? rc : field(out, false, "runs");
    for (int m = 0; m < REPORT_METRIC_COUNT && rc == 0; m++) {
        char name[128];
        snprintf(name, sizeof(name), "%s_ci95", report_metrics[m].column);
        rc = field(out, false, report_metrics[m].column);
        rc = rc ? rc : field(out, false, name);
    }
    if (rc == 0 && fputc('\n', out) == EOF)
        rc = REPORT_EIO;
    for (size_t i = 0; i < s->n_rows && rc == 0; i++) {
        const struct report_row *row = &s->rows[i];
        char runs[32];
        snprintf(runs, sizeof(runs), "%zu", row->n_runs);
        rc = field(out, true, row->point);
        rc = rc ? rc : field(out, false, row->group);
        rc = rc ? rc : field(out, false, row->bootloader);
        rc = rc ? rc : field(out, false, runs);
        for (int m = 0; m < REPORT_METRIC_COUNT && rc == 0; m++) {
            rc = number(out, row->mean[m]);
            rc = rc ? rc : number(out, row->ci95[m]);
        }
        if (rc == 0 && fputc('\n', out) == EOF)
            rc = REPORT_EIO;
    }
    return rc;
}
