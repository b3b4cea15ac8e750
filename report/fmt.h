/* report/fmt.h - numbers formatted for people, one rule each, shared by the CLI's tables
 * and summaries (check, run, report).
 *
 * Durations (report_fmt_duration), by the magnitude of the value rounded as printed:
 *   - below 1 s: milliseconds, "250 ms" (whole ms; "0.25 ms" below 1 ms, 3 digits);
 *   - below 60 s: seconds with one decimal, "3.2 s", "59.9 s";
 *   - below 1 h: minutes and seconds, "m:ss": "28:19";
 *   - below 1 d: "h:mm:ss": "4:19:02";
 *   - from 1 d: days and "hh:mm:ss": "1d 04:19:02", "14d 00:00:00".
 * From one minute up the value is rounded to the nearest whole second (halves up). A
 * negative duration gets a leading '-' before the same form; NAN prints "-" (not
 * reached), an infinity "inf" or "-inf". Durations are seconds (double), as the summary
 * keeps them. */
#ifndef REPORT_FMT_H
#define REPORT_FMT_H

#include <stddef.h>

/* Writes the duration `seconds` into buf (n bytes, truncated like snprintf; 32 bytes hold
 * every value up to 10^12 days) and returns buf. */
char *report_fmt_duration(double seconds, char *buf, size_t n);

#endif /* REPORT_FMT_H */
