/* sim/scenario/units.c - "7.5ms", "384KiB", "2%", "2.0.0+5" and plain integers.
 *
 * Decimals are parsed with integer arithmetic, never through a double, so "7.5ms" is
 * exactly 7500000 ns and "1.5KiB" exactly 1536 bytes. A value is MANTISSA / 10^DIGITS
 * (trailing fractional zeros dropped); times the unit it must be a whole number of the
 * base unit (ns, bytes), or the text is rejected rather than rounded.
 */
#include "sim/scenario/scenario_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct unit {
    const char *name;
    uint64_t mult; /* base units (ns or bytes) per unit */
};

/* Units are matched as whole words after the number, so order does not matter. */
static const struct unit duration_units[] = {
    {"ns", 1},
    {"us", 1000},
    {"ms", 1000000},
    {"s", 1000000000},
    {"min", UINT64_C(60000000000)},
    {"h", UINT64_C(3600000000000)},
    {"d", UINT64_C(86400000000000)}, /* parsed only: canonical text stops at h (see below) */
};
/* Canonical text uses the units up to h, so run_params written before d existed and
 * readers that know only ns ... h (report/summary.c) read every value. */
#define DURATION_FORMAT_UNITS 6

static const struct unit size_units[] = {
    {"B", 1},
    {"KiB", 1024},
    {"MiB", 1024 * 1024},
};

/* A decimal number: digits, optionally '.' and more digits, no sign, no exponent. */
struct decimal {
    uint64_t mant;
    unsigned frac; /* digits after the point, trailing zeros dropped */
    bool point;    /* a '.' was written */
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* mant = mant * 10^len + digits, or SIM_ERANGE past UINT64_MAX. */
static int accumulate(uint64_t *mant, const char *from, const char *to)
{
    for (const char *q = from; q != to; q++) {
        unsigned dig = (unsigned)(*q - '0');
        if (*mant > (UINT64_MAX - dig) / 10)
            return SIM_ERANGE;
        *mant = *mant * 10 + dig;
    }
    return 0;
}

/* Parse a decimal at *p and advance *p. Returns 0, SIM_EINVAL (no digits) or SIM_ERANGE
 * (more than 19 significant digits). */
static int parse_decimal(const char **p, struct decimal *d)
{
    const char *s = *p;
    const char *int_start = s;
    while (is_digit(*s))
        s++;
    const char *int_end = s;
    const char *frac_start = s, *frac_end = s;
    d->point = false;
    if (*s == '.' && is_digit(s[1])) {
        d->point = true;
        frac_start = ++s;
        while (is_digit(*s))
            s++;
        frac_end = s;
        while (frac_end > frac_start && frac_end[-1] == '0')
            frac_end--;
    }
    if (int_end == int_start && !d->point)
        return SIM_EINVAL;
    *p = s;
    d->mant = 0;
    d->frac = (unsigned)(frac_end - frac_start);
    if (accumulate(&d->mant, int_start, int_end) != 0 ||
        accumulate(&d->mant, frac_start, frac_end) != 0)
        return SIM_ERANGE;
    return 0;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* d * mult as a whole number of base units. SIM_EINVAL when it is not whole (finer than
 * the base unit), SIM_ERANGE when it exceeds max. */
static int scale(const struct decimal *d, uint64_t mult, uint64_t max, uint64_t *out)
{
    if (d->frac > 19) /* 10^20 has 2^20 5^20; no unit here has more than 2^20 or 5^11 */
        return d->mant == 0 ? (*out = 0, 0) : SIM_EINVAL;
    uint64_t pow10 = 1;
    for (unsigned i = 0; i < d->frac; i++)
        pow10 *= 10;
    uint64_t g = gcd(mult, pow10);
    uint64_t m = mult / g, div = pow10 / g; /* coprime: whole iff div divides mant */
    if (d->mant % div != 0)
        return SIM_EINVAL;
    uint64_t q = d->mant / div;
    if (q != 0 && m > max / q)
        return SIM_ERANGE;
    *out = q * m;
    return 0;
}

static void skip_spaces(const char **p)
{
    while (**p == ' ')
        (*p)++;
}

static const struct unit *find_unit(const struct unit *u, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(u[i].name, name) == 0)
            return &u[i];
    return NULL;
}

int scenario_units_duration(const char *text, int64_t *ns, const char **why)
{
    const char *p = text;
    struct decimal d;
    int rc = parse_decimal(&p, &d);
    if (rc == SIM_ERANGE) {
        *why = "has too many digits";
        return SIM_ERANGE;
    }
    if (rc != 0) {
        *why = text[0] ? "is not a duration" : "is empty";
        return SIM_EINVAL;
    }
    skip_spaces(&p);
    if (*p == '\0') {
        *why = "has no unit";
        return SIM_EINVAL;
    }
    const struct unit *u =
        find_unit(duration_units, sizeof(duration_units) / sizeof(duration_units[0]), p);
    if (u == NULL) {
        *why = "has an unknown unit";
        return SIM_EINVAL;
    }
    uint64_t v;
    rc = scale(&d, u->mult, (uint64_t)INT64_MAX, &v);
    if (rc == SIM_EINVAL) {
        *why = "is finer than 1ns";
        return SIM_ERANGE;
    }
    if (rc != 0) {
        *why = "is too long (at most 2562047h, about 106751d)";
        return SIM_ERANGE;
    }
    *ns = (int64_t)v;
    return 0;
}

int scenario_units_size(const char *text, uint64_t *bytes, const char **why)
{
    const char *p = text;
    struct decimal d;
    int rc = parse_decimal(&p, &d);
    if (rc == SIM_ERANGE) {
        *why = "has too many digits";
        return SIM_ERANGE;
    }
    if (rc != 0) {
        *why = text[0] ? "is not a size" : "is empty";
        return SIM_EINVAL;
    }
    skip_spaces(&p);
    const struct unit *u = &size_units[0]; /* a plain number counts bytes */
    if (*p != '\0')
        u = find_unit(size_units, sizeof(size_units) / sizeof(size_units[0]), p);
    if (u == NULL) {
        *why = "has an unknown unit";
        return SIM_EINVAL;
    }
    rc = scale(&d, u->mult, UINT64_MAX, bytes);
    if (rc == SIM_EINVAL) {
        *why = "is not a whole number of bytes";
        return SIM_EINVAL;
    }
    if (rc != 0) {
        *why = "is too large";
        return SIM_ERANGE;
    }
    return 0;
}

int scenario_units_percent(const char *text, double *fraction, const char **why)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *p = text;
    struct decimal d;
    int rc = parse_decimal(&p, &d);
    if (rc == SIM_ERANGE || (rc == 0 && d.frac + 2 > 22)) {
        *why = "has too many digits";
        return SIM_ERANGE;
    }
    if (rc != 0) {
        *why = text[0] ? "is not a percentage" : "is empty";
        return SIM_EINVAL;
    }
    skip_spaces(&p);
    if (p[0] != '%' || p[1] != '\0') {
        *why = p[0] == '\0' ? "has no % sign" : "is not a percentage";
        return SIM_EINVAL;
    }
    /* With a mantissa below 2^53 both operands are exact doubles (powers of ten are
     * exact up to 1e22), so the quotient is the correctly rounded value of the text. */
    *fraction = (double)d.mant / pow10[d.frac + 2];
    return 0;
}

int scenario_units_uint(const char *text, uint64_t max, uint64_t *v, const char **why)
{
    if (text[0] == '\0') {
        *why = "is empty";
        return SIM_EINVAL;
    }
    if (text[0] == '-' || text[0] == '+') {
        *why = "has a sign";
        return SIM_EINVAL;
    }
    uint64_t acc = 0;
    for (const char *p = text; *p; p++) {
        if (!is_digit(*p)) {
            *why = "is not a whole decimal number";
            return SIM_EINVAL;
        }
        unsigned dig = (unsigned)(*p - '0');
        if (acc > (UINT64_MAX - dig) / 10) {
            *why = "is too large";
            return SIM_ERANGE;
        }
        acc = acc * 10 + dig;
    }
    if (text[0] == '0' && text[1] != '\0') {
        *why = "has a leading zero (YAML 1.1 reads that as octal; drop the zero)";
        return SIM_EINVAL;
    }
    if (acc > max) {
        *why = "is too large";
        return SIM_ERANGE;
    }
    *v = acc;
    return 0;
}

/* One version component: digits up to a stop character, at most max. */
static int version_part(const char **p, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t acc = 0;
    if (!is_digit(*s))
        return SIM_EINVAL;
    for (; is_digit(*s); s++) {
        acc = acc * 10 + (uint64_t)(*s - '0');
        if (acc > max)
            return SIM_ERANGE;
    }
    *p = s;
    *out = acc;
    return 0;
}

int scenario_units_version(const char *text, struct scenario_version *v, const char **why)
{
    static const struct {
        uint64_t max;
        char stop;
        const char *range;
    } parts[] = {
        {255, '.', "has a major number above 255"},
        {255, '.', "has a minor number above 255"},
        {65535, '+', "has a revision above 65535"},
        {UINT32_MAX, '\0', "has a build number above 4294967295"},
    };
    uint64_t got[4] = {0, 0, 0, 0};
    const char *p = text;
    for (size_t i = 0; i < 4; i++) {
        int rc = version_part(&p, parts[i].max, &got[i]);
        if (rc == SIM_ERANGE) {
            *why = parts[i].range;
            return SIM_ERANGE;
        }
        if (rc != 0)
            goto bad;
        if (i == 2 && *p == '\0')
            break; /* no +BUILD */
        if (*p != parts[i].stop)
            goto bad;
        if (*p != '\0')
            p++;
    }
    v->major = (uint8_t)got[0];
    v->minor = (uint8_t)got[1];
    v->revision = (uint16_t)got[2];
    v->build = (uint32_t)got[3];
    return 0;
bad:
    *why = "is not a version";
    return SIM_EINVAL;
}

/* ---- public wrappers (sim/scenario.h) ------------------------------------------- */

int scenario_parse_duration(const char *text, int64_t *ns)
{
    const char *why;
    return scenario_units_duration(text, ns, &why);
}

int scenario_parse_size(const char *text, uint64_t *bytes)
{
    const char *why;
    return scenario_units_size(text, bytes, &why);
}

int scenario_parse_percent(const char *text, double *fraction)
{
    const char *why;
    return scenario_units_percent(text, fraction, &why);
}

/* ---- canonical text ------------------------------------------------------------- */

static void format_units(char *buf, size_t n, uint64_t v, const struct unit *u, size_t n_units)
{
    size_t i = n_units - 1;
    while (i > 0 && (v == 0 || v % u[i].mult != 0))
        i--;
    if (v == 0) /* "0s", "0B": the unit people write */
        i = (u == duration_units) ? 3 : 0;
    snprintf(buf, n, "%" PRIu64 "%s", v / u[i].mult, u[i].name);
}

void scenario_units_format_duration(char *buf, size_t n, int64_t ns)
{
    if (ns < 0) { /* not produced by the parser; printed plainly for completeness */
        snprintf(buf, n, "%" PRId64 "ns", ns);
        return;
    }
    format_units(buf, n, (uint64_t)ns, duration_units, DURATION_FORMAT_UNITS);
}

void scenario_units_format_size(char *buf, size_t n, uint64_t bytes)
{
    format_units(buf, n, bytes, size_units, sizeof(size_units) / sizeof(size_units[0]));
}

void scenario_units_format_percent(char *buf, size_t n, double fraction)
{
    snprintf(buf, n, "%.15g%%", fraction * 100.0);
}

void scenario_units_format_version(char *buf, size_t n, const struct scenario_version *v)
{
    snprintf(buf, n, "%u.%u.%u+%" PRIu32, (unsigned)v->major, (unsigned)v->minor,
             (unsigned)v->revision, v->build);
}
