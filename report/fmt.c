/* report/fmt.c - numbers formatted for people (report/fmt.h). */
#include "report/fmt.h"

#include <math.h>
#include <stdio.h>

char *report_fmt_duration(double seconds, char *buf, size_t n)
{
    if (n == 0)
        return buf;
    if (isnan(seconds)) {
        snprintf(buf, n, "-");
        return buf;
    }
    if (isinf(seconds)) {
        snprintf(buf, n, seconds < 0 ? "-inf" : "inf");
        return buf;
    }
    const char *sign = seconds < 0 ? "-" : "";
    double s = fabs(seconds);
    /* Thresholds compare the value as it will be printed, so 59.96 s is "1:00", never
     * "60.0 s", and 0.9996 s is "1.0 s", never "1000 ms". */
    if (s < 0.0005) {
        snprintf(buf, n, "%s%.3g ms", sign, s * 1e3);
    } else if (s < 0.9995) {
        snprintf(buf, n, "%s%.0f ms", sign, s * 1e3);
    } else if (s < 59.95) {
        snprintf(buf, n, "%s%.1f s", sign, s);
    } else {
        double whole = floor(s + 0.5);
        double days = floor(whole / 86400);
        double rest = whole - days * 86400;
        int h = (int)(rest / 3600), m = (int)(fmod(rest, 3600) / 60), sec = (int)fmod(rest, 60);
        if (days >= 1)
            snprintf(buf, n, "%s%.0fd %02d:%02d:%02d", sign, days, h, m, sec);
        else if (h > 0)
            snprintf(buf, n, "%s%d:%02d:%02d", sign, h, m, sec);
        else
            snprintf(buf, n, "%s%d:%02d", sign, m, sec);
    }
    return buf;
}
