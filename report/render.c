/* report/render.c - a summary as a terminal table and as CSV (libcsv quoting). */
#include "report/summary.h"
#include "report/csv_out.h"
#include "report/json_out.h"
#include "report/table.h"

#include <math.h>
#include <stdbool.h>
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

/* Columns per printed table: five groups stay within about 140 characters. */
#define COLUMNS_PER_TABLE 5

/* The unit a duration metric reads best in across rows[first .. first + n): s below two
 * minutes, min below two hours, else h. Returns the divisor of seconds and the unit. */
static double time_unit(const struct report_summary *s, size_t first, size_t n, int m,
                        const char **unit)
{
    double max = 0;
    for (size_t i = first; i < first + n; i++)
        if (isfinite(s->rows[i].mean[m]) && s->rows[i].mean[m] > max)
            max = s->rows[i].mean[m];
    *unit = max >= 7200 ? "h" : max >= 120 ? "min" : "s";
    return max >= 7200 ? 3600 : max >= 120 ? 60 : 1;
}

/* One table for rows[first .. first + n) of one sweep point: a column per group, a line per
 * metric; durations carry their unit in the label. */
static int print_block(const struct report_summary *s, size_t first, size_t n, FILE *out)
{
    struct report_table *t = report_table_new(n + 1);
    const char *cells[COLUMNS_PER_TABLE + 1];
    char buf[COLUMNS_PER_TABLE + 1][64], label[128];
    if (t == NULL)
        return REPORT_ENOMEM;
    int rc = 0;
    cells[0] = "mean ±95 % CI";
    for (size_t i = 0; i < n; i++)
        cells[i + 1] = s->rows[first + i].group;
    rc = report_table_add_row(t, cells);
    cells[0] = "board, bootloader";
    for (size_t i = 0; i < n; i++) {
        snprintf(buf[i + 1], sizeof(buf[i + 1]), "%s, %s", s->rows[first + i].board,
                 s->rows[first + i].bootloader);
        cells[i + 1] = buf[i + 1];
    }
    if (rc == 0)
        rc = report_table_add_row(t, cells);
    for (int m = 0; m < REPORT_METRIC_COUNT && rc == 0; m++) {
        const struct report_metric_def *def = &report_metrics[m];
        /* A metric only `record: chunks` gives is left out where no run recorded it. */
        bool any = !def->needs_chunks;
        for (size_t i = 0; i < n && !any; i++)
            any = !isnan(s->rows[first + i].mean[m]);
        if (!any)
            continue;
        double div = 1;
        int decimals = def->decimals;
        cells[0] = def->label;
        if (def->kind == REPORT_KIND_SECONDS) {
            const char *unit;
            div = time_unit(s, first, n, m, &unit);
            decimals = div > 1 ? 2 : decimals;
            snprintf(label, sizeof(label), "%s (%s)", def->label, unit);
            cells[0] = label;
        }
        for (size_t i = 0; i < n; i++) {
            const struct report_row *r = &s->rows[first + i];
            format_value(buf[i + 1], sizeof(buf[i + 1]), r->mean[m] / div, r->ci95[m] / div,
                         decimals);
            cells[i + 1] = buf[i + 1];
        }
        rc = report_table_add_row(t, cells);
    }
    if (rc == 0)
        report_table_print(t, out);
    report_table_free(t);
    return rc == 0 ? 0 : REPORT_ENOMEM;
}

int report_summary_print(const struct report_summary *s, FILE *out)
{
    /* Point by point; within a point a column per group (at most COLUMNS_PER_TABLE per
     * table), a line per metric, so 19 metrics stay readable. */
    size_t point = 0;
    for (size_t i = 0; i < s->n_rows;) {
        size_t end = i + 1;
        while (end < s->n_rows && strcmp(s->rows[end].point, s->rows[i].point) == 0)
            end++;
        if (point++ > 0)
            fputc('\n', out);
        fprintf(out, "point %zu: %s (%zu run%s)\n", point, s->rows[i].point, s->rows[i].n_runs,
                s->rows[i].n_runs == 1 ? "" : "s");
        for (size_t k = i; k < end; k += COLUMNS_PER_TABLE) {
            size_t n = end - k < COLUMNS_PER_TABLE ? end - k : COLUMNS_PER_TABLE;
            if (k > i)
                fputc('\n', out);
            int rc = print_block(s, k, n, out);
            if (rc != 0)
                return rc;
        }
        i = end;
    }
    if (s->n_skipped_runs > 0)
        fprintf(out, "note: %zu run%s not complete, left out\n", s->n_skipped_runs,
                s->n_skipped_runs == 1 ? "" : "s");
    return 0;
}

/* Whether a swept value reads as a plain number ("3", "0.5"; not "384KiB"). */
static bool is_number(const char *v, double *x)
{
    char *end;
    if (v == NULL || *v == '\0')
        return false;
    *x = strtod(v, &end);
    return *end == '\0' && isfinite(*x);
}

int report_summary_write_csv(const struct report_summary *s, FILE *out)
{
    int rc = report_csv_field(out, true, "point");
    for (size_t k = 0; k < s->n_keys && rc == 0; k++)
        rc = report_csv_field(out, false, s->keys[k]);
    rc = rc ? rc : report_csv_field(out, false, "group");
    rc = rc ? rc : report_csv_field(out, false, "board");
    rc = rc ? rc : report_csv_field(out, false, "bootloader");
    rc = rc ? rc : report_csv_field(out, false, "runs");
    for (int m = 0; m < REPORT_METRIC_COUNT && rc == 0; m++) {
        char name[128];
        snprintf(name, sizeof(name), "%s_ci95", report_metrics[m].column);
        rc = report_csv_field(out, false, report_metrics[m].column);
        rc = rc ? rc : report_csv_field(out, false, name);
    }
    if (rc == 0 && fputc('\n', out) == EOF)
        rc = REPORT_EIO;
    for (size_t i = 0; i < s->n_rows && rc == 0; i++) {
        const struct report_row *row = &s->rows[i];
        if (fprintf(out, "%zu", row->point_index + 1) < 0)
            rc = REPORT_EIO;
        for (size_t k = 0; k < s->n_keys && rc == 0; k++) {
            double x;
            if (row->values[k] == NULL)
                rc = fputc(',', out) == EOF ? REPORT_EIO : 0;
            else if (is_number(row->values[k], &x))
                rc = fprintf(out, ",%s", row->values[k]) < 0 ? REPORT_EIO : 0;
            else
                rc = report_csv_field(out, false, row->values[k]);
        }
        rc = rc ? rc : report_csv_field(out, false, row->group);
        rc = rc ? rc : report_csv_field(out, false, row->board);
        rc = rc ? rc : report_csv_field(out, false, row->bootloader);
        rc = rc ? rc : report_csv_number(out, (double)row->n_runs);
        for (int m = 0; m < REPORT_METRIC_COUNT && rc == 0; m++) {
            rc = report_csv_number(out, row->mean[m]);
            rc = rc ? rc : report_csv_number(out, row->ci95[m]);
        }
        if (rc == 0 && fputc('\n', out) == EOF)
            rc = REPORT_EIO;
    }
    return rc;
}

int report_summary_write_json(const struct report_summary *s, FILE *out)
{
    struct report_json j;
    report_json_init(&j, out);
    report_json_begin_object(&j);
    report_json_key(&j, "schema");
    report_json_int(&j, REPORT_SCHEMA_MAX);
    report_json_key(&j, "skipped_runs");
    report_json_uint(&j, s->n_skipped_runs);
    report_json_key(&j, "rows");
    report_json_begin_array(&j);
    for (size_t i = 0; i < s->n_rows; i++) {
        const struct report_row *row = &s->rows[i];
        report_json_begin_object(&j);
        report_json_key(&j, "point");
        report_json_uint(&j, row->point_index + 1);
        report_json_key(&j, "swept");
        report_json_begin_object(&j);
        for (size_t k = 0; k < s->n_keys; k++) {
            double x;
            report_json_key(&j, s->keys[k]);
            if (is_number(row->values[k], &x))
                report_json_number(&j, x);
            else
                report_json_string(&j, row->values[k]);
        }
        report_json_end_object(&j);
        report_json_key(&j, "group");
        report_json_string(&j, row->group);
        report_json_key(&j, "board");
        report_json_string(&j, row->board);
        report_json_key(&j, "bootloader");
        report_json_string(&j, row->bootloader);
        report_json_key(&j, "runs");
        report_json_uint(&j, row->n_runs);
        for (int m = 0; m < REPORT_METRIC_COUNT; m++) {
            char name[128];
            snprintf(name, sizeof(name), "%s_ci95", report_metrics[m].column);
            report_json_key(&j, report_metrics[m].column);
            report_json_number(&j, row->mean[m]);
            report_json_key(&j, name);
            report_json_number(&j, row->ci95[m]);
        }
        report_json_end_object(&j);
    }
    report_json_end_array(&j);
    report_json_end_object(&j);
    return report_json_finish(&j);
}
