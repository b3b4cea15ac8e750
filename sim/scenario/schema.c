/* sim/scenario/schema.c - bind a node tree to a C struct by walking a field table.
 *
 * Each struct scenario_field names a key, its type, where the value goes (offset, size),
 * whether it is required, its default and bounds as text, enum names and, for maps and
 * lists of maps, a sub-table. The binder reports every problem it finds (unknown and
 * duplicate keys, wrong node kinds, bad units, values out of range, missing keys,
 * duplicate unique values) and keeps going, so one load shows them all. Adding a key to
 * the scenario is one row in its model's table (sim/scenario/settings.h); nothing here changes.
 */
#include "sim/scenario/scenario_int.h"

#include <assert.h>
#include <float.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A converted scalar, before it is stored at its width. */
union value {
    uint64_t u;
    int64_t i;
    double d;
    int e;
    bool b;
    struct scenario_version v;
    struct scenario_amount a;
};

struct binder {
    struct scenario_report *rep;
    struct scenario_path path;
    int rc;                             /* worst result so far: 0, SIM_EINVAL, then SIM_ENOMEM */
    const struct scenario_schema *root; /* the table and struct of the whole scenario: */
    char *root_base;                    /* where scenario_field.inherit looks */
    const char *inherit; /* while binding a map with `inherit`: the struct it inherits from */
};

/* What a value of each type looks like, for "(what is allowed)". UINT, ENUM, MAP and
 * LIST add their bounds, names or keys (describe()). */
static const char *const type_expect[SCENARIO_T_COUNT] = {
    [SCENARIO_T_STRING] = "a string",
    [SCENARIO_T_NAME] = "a name of 1..64 letters, digits, '_', '.' or '-'",
    [SCENARIO_T_UINT] = "a whole number",
    [SCENARIO_T_DURATION] = "a duration such as 7.5ms, 24h or 14d; units: ns, us, ms, s, min, h, d",
    [SCENARIO_T_SIZE] = "a size such as 384KiB; units: B, KiB, MiB",
    [SCENARIO_T_PERCENT] = "a percentage such as 2% or 0.5%",
    [SCENARIO_T_ENUM] = "one of",
    [SCENARIO_T_VERSION] = "a version such as 2.0.0 or 2.0.0+7",
    [SCENARIO_T_BOOL] = "true or false",
    [SCENARIO_T_NUMBER] = "a plain number such as 2 or 1.5",
    [SCENARIO_T_AMOUNT] = "a percentage such as 10% or a count such as 50",
    [SCENARIO_T_MAP] = "a map",
    [SCENARIO_T_LIST] = "a list",
    [SCENARIO_T_VALUES] = "a list",
    [SCENARIO_T_INLINE] = "",
};

/* Where an INLINE field's struct is: in place, or behind a pointer (SCENARIO_F_INDIRECT). */
static char *inline_base(const struct scenario_field *f, const char *base)
{
    char *p = (char *)base + f->offset;
    if (f->flags & SCENARIO_F_INDIRECT)
        memcpy(&p, base + f->offset, sizeof(p));
    return p;
}

static void fail(struct binder *b, int rc)
{
    if (rc == SIM_ENOMEM || b->rc == 0)
        b->rc = rc;
}

static void error_at(struct binder *b, const struct scenario_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error_at(struct binder *b, const struct scenario_node *n, const char *fmt, ...)
{
    char msg[SCENARIO_REPORT_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    scenario_report_error(b->rep, n->src, n->line, n->col, b->path.buf, "%s", msg);
    fail(b, SIM_EINVAL);
}

/* ---- names and suggestions ----------------------------------------------------------- */

unsigned scenario_schema_distance(const char *a, const char *b)
{
    enum { MAXLEN = 64, CAP = 9 };
    size_t la = strlen(a), lb = strlen(b);
    if (la > MAXLEN || lb > MAXLEN)
        return CAP;
    unsigned rows[3][MAXLEN + 1]; /* i-2, i-1, i */
    for (size_t j = 0; j <= lb; j++)
        rows[1][j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned *pp = rows[0], *prev = rows[1], *cur = rows[2];
        cur[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = a[i - 1] != b[j - 1];
            unsigned best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < best)
                best = pp[j - 2] + 1;
            cur[j] = best;
        }
        memcpy(rows[0], rows[1], sizeof(rows[0]));
        memcpy(rows[1], rows[2], sizeof(rows[1]));
    }
    return rows[1][lb] < CAP ? rows[1][lb] : CAP;
}

/* Shared by the two suggest functions: name(i) gives the i-th allowed name. */
static void suggest(char *buf, size_t n, const char *got, const char *(*name)(const void *, size_t),
                    const void *set, size_t count)
{
    const char *best = NULL;
    unsigned best_d = 3;
    for (size_t i = 0; i < count; i++) {
        const char *c = name(set, i);
        unsigned d = scenario_schema_distance(got, c);
        if (d < best_d && d < strlen(c)) {
            best = c;
            best_d = d;
        }
    }
    size_t o = strlen(buf);
    if (best != NULL)
        o += (size_t)snprintf(buf + o, o < n ? n - o : 0, " (did you mean \"%s\"? allowed: ", best);
    else
        o += (size_t)snprintf(buf + o, o < n ? n - o : 0, " (allowed: ");
    for (size_t i = 0; i < count; i++)
        o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s%s", i ? ", " : "", name(set, i));
    snprintf(buf + o, o < n ? n - o : 0, ")");
}

static const char *name_of_names(const void *set, size_t i)
{
    return ((const char *const *)set)[i];
}

static const char *name_of_fields(const void *set, size_t i)
{
    return ((const struct scenario_field *const *)set)[i]->key;
}

void scenario_schema_suggest(char *buf, size_t n, const char *got, const char *const *names,
                             size_t n_names)
{
    suggest(buf, n, got, name_of_names, names, n_names);
}

void scenario_schema_suggest_key(char *buf, size_t n, const char *got,
                                 const struct scenario_schema *sch)
{
    const struct scenario_field *flat[SCENARIO_SCHEMA_MAX_FIELDS];
    suggest(buf, n, got, name_of_fields, flat, scenario_schema_flatten(sch, flat));
}

static size_t flatten(const struct scenario_schema *sch, const struct scenario_field **out,
                      size_t n)
{
    for (size_t i = 0; i < sch->n_fields; i++) {
        if (sch->fields[i].type == SCENARIO_T_INLINE) {
            if (sch->fields[i].sub != NULL)
                n = flatten(sch->fields[i].sub, out, n);
            continue;
        }
        assert(n < SCENARIO_SCHEMA_MAX_FIELDS && "too many keys in one map");
        if (n < SCENARIO_SCHEMA_MAX_FIELDS)
            out[n++] = &sch->fields[i];
    }
    return n;
}

size_t scenario_schema_flatten(const struct scenario_schema *sch, const struct scenario_field **out)
{
    return flatten(sch, out, 0);
}

const struct scenario_field *scenario_schema_find(const struct scenario_schema *sch,
                                                  const char *key)
{
    for (size_t i = 0; i < sch->n_fields; i++) {
        const struct scenario_field *f = &sch->fields[i], *in;
        if (f->type == SCENARIO_T_INLINE && f->sub != NULL &&
            (in = scenario_schema_find(f->sub, key)) != NULL)
            return in;
        if (f->type != SCENARIO_T_INLINE && strcmp(f->key, key) == 0)
            return f;
    }
    return NULL;
}

const struct scenario_field *scenario_schema_unique(const struct scenario_schema *sch)
{
    for (size_t i = 0; i < sch->n_fields; i++)
        if (sch->fields[i].flags & SCENARIO_F_UNIQUE)
            return &sch->fields[i];
    return NULL;
}

static size_t n_names(const char *const *names)
{
    size_t n = 0;
    while (names[n] != NULL)
        n++;
    return n;
}

static uint64_t width_max(size_t size)
{
    return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
}

/* "(1..10000000)", "(at least 1ns)", "(at most 100%)" or "" without bounds. */
static void bounds(char *buf, size_t n, const struct scenario_field *f)
{
    const char *min = f->min, *max = f->max;
    char wmax[24];
    if (f->type == SCENARIO_T_UINT && max == NULL) {
        snprintf(wmax, sizeof(wmax), "%" PRIu64, width_max(f->size));
        max = wmax;
    }
    if (f->type == SCENARIO_T_UINT && min == NULL)
        min = "0";
    if (min && max)
        snprintf(buf, n, "%s..%s", min, max);
    else if (min)
        snprintf(buf, n, "at least %s", min);
    else if (max)
        snprintf(buf, n, "at most %s", max);
    else
        buf[0] = '\0';
}

static const char dist_expect[] = "; or a distribution such as uniform(LO, HI) or beta(2, 50)";

/* What a value for f looks like: "a whole number 1..10000000", "one of: a, b". */
static void describe(char *buf, size_t n, const struct scenario_field *f)
{
    char rng[64], item[192];
    size_t o;
    switch (f->type) {
    case SCENARIO_T_UINT:
        bounds(rng, sizeof(rng), f);
        snprintf(buf, n, "%s %s%s", type_expect[f->type], rng,
                 (f->flags & SCENARIO_F_DIST) ? dist_expect : "");
        return;
    case SCENARIO_T_ENUM:
        o = (size_t)snprintf(buf, n, "one of: ");
        for (size_t i = 0; f->names[i] != NULL; i++)
            o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s%s", i ? ", " : "", f->names[i]);
        return;
    case SCENARIO_T_VALUES:
        describe(item, sizeof(item), f->item);
        bounds(rng, sizeof(rng), f);
        /* %.96s: an item's description is short; the bound keeps -Wformat-truncation quiet. */
        if (f->max == NULL && f->min != NULL && strcmp(f->min, "1") == 0)
            snprintf(buf, n, "a non-empty list, each %.96s", item);
        else
            snprintf(buf, n, "a list of %s%sitems, each %.96s", rng, rng[0] ? " " : "", item);
        return;
    case SCENARIO_T_MAP:
    case SCENARIO_T_LIST:
        if (f->type == SCENARIO_T_MAP)
            o = (size_t)snprintf(buf, n, "a map with keys: ");
        else if (f->min != NULL)
            o = (size_t)snprintf(buf, n, "a list of at least %s %s, each a map with keys: ", f->min,
                                 f->sub->noun);
        else
            o = (size_t)snprintf(buf, n, "a list of %ss, each a map with keys: ", f->sub->noun);
        const struct scenario_field *flat[SCENARIO_SCHEMA_MAX_FIELDS];
        size_t n_flat = scenario_schema_flatten(f->sub, flat);
        for (size_t i = 0; i < n_flat; i++)
            o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s%s", i ? ", " : "", flat[i]->key);
        return;
    default:
        snprintf(buf, n, "%s%s", type_expect[f->type],
                 (f->flags & SCENARIO_F_DIST) ? dist_expect : "");
    }
}

static const char *kind_name(const struct scenario_node *n, char *buf, size_t len)
{
    if (n->kind == SCENARIO_NODE_MAP)
        return "a map";
    if (n->kind == SCENARIO_NODE_SEQ)
        return "a list";
    if (!n->quoted && n->text[0] == '\0')
        return "nothing";
    return scenario_report_quote(buf, len, n->text);
}

static void error_kind(struct binder *b, const struct scenario_field *f,
                       const struct scenario_node *n)
{
    char want[256], q[80];
    describe(want, sizeof(want), f);
    error_at(b, n, "expected %s; found %s", want, kind_name(n, q, sizeof(q)));
}

/* ---- scalars ------------------------------------------------------------------------ */

/* A plain decimal number: digits, an optional fraction and exponent; no sign, no unit. */
static int number(const char *text, double *d, const char **why)
{
    char *end;
    if (!(text[0] >= '0' && text[0] <= '9') || strpbrk(text, "xXpP") != NULL) {
        *why = "is not a plain number";
        return SIM_EINVAL;
    }
    double v = strtod(text, &end);
    if (*end != '\0') {
        *why = "is not a plain number";
        return SIM_EINVAL;
    }
    if (!(v <= DBL_MAX)) {
        *why = "is too large";
        return SIM_ERANGE;
    }
    *d = v;
    return 0;
}

/* "10%" (0..100 %) or a count "50" (0..2^32-1). */
static int amount(const char *text, struct scenario_amount *a, const char **why)
{
    size_t len = strlen(text);
    memset(a, 0, sizeof(*a));
    if (len > 0 && text[len - 1] == '%') {
        int rc = scenario_units_percent(text, &a->share, why);
        if (rc == 0 && a->share > 1.0) {
            *why = "is more than 100%";
            return SIM_ERANGE;
        }
        return rc;
    }
    uint64_t u;
    int rc = scenario_units_uint(text, UINT32_MAX, &u, why);
    if (rc != 0 && text[0] >= '0' && text[0] <= '9' && rc != SIM_ERANGE)
        *why = "is neither a percentage nor a whole number";
    a->is_count = true;
    a->count = (uint32_t)u;
    return rc;
}

/* Convert text for a numeric, enum, version or bool field. Returns 0, or an error with
 * *why (NULL for an unknown enum name, which gets its own message). */
static int convert(const struct scenario_field *f, const char *text, union value *v,
                   const char **why)
{
    *why = NULL;
    switch (f->type) {
    case SCENARIO_T_UINT:
        return scenario_units_uint(text, width_max(f->size), &v->u, why);
    case SCENARIO_T_DURATION:
        return scenario_units_duration(text, &v->i, why);
    case SCENARIO_T_SIZE:
        return scenario_units_size(text, &v->u, why);
    case SCENARIO_T_PERCENT:
        return scenario_units_percent(text, &v->d, why);
    case SCENARIO_T_VERSION:
        return scenario_units_version(text, &v->v, why);
    case SCENARIO_T_NUMBER:
        return number(text, &v->d, why);
    case SCENARIO_T_AMOUNT:
        return amount(text, &v->a, why);
    case SCENARIO_T_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
            v->b = text[0] == 't';
            return 0;
        }
        *why = "is not true or false";
        return SIM_EINVAL;
    case SCENARIO_T_ENUM:
        for (int i = 0; f->names[i] != NULL; i++) {
            if (strcmp(f->names[i], text) == 0) {
                v->e = i;
                return 0;
            }
        }
        return SIM_EINVAL;
    default:
        assert(!"convert: not a converted type");
        return SIM_EINTERNAL;
    }
}

static int compare(enum scenario_type t, const union value *a, const union value *b)
{
    switch (t) {
    case SCENARIO_T_DURATION:
        return (a->i > b->i) - (a->i < b->i);
    case SCENARIO_T_PERCENT:
    case SCENARIO_T_NUMBER:
        return (a->d > b->d) - (a->d < b->d);
    default:
        return (a->u > b->u) - (a->u < b->u);
    }
}

static bool has_bounds(enum scenario_type t)
{
    return t == SCENARIO_T_UINT || t == SCENARIO_T_DURATION || t == SCENARIO_T_SIZE ||
           t == SCENARIO_T_PERCENT || t == SCENARIO_T_NUMBER;
}

static bool in_range(const struct scenario_field *f, const union value *v)
{
    union value lim;
    const char *why;
    if (!has_bounds(f->type))
        return true;
    if (f->min && convert(f, f->min, &lim, &why) == 0 && compare(f->type, v, &lim) < 0)
        return false;
    if (f->max && convert(f, f->max, &lim, &why) == 0 && compare(f->type, v, &lim) > 0)
        return false;
    return true;
}

static void store(const struct scenario_field *f, char *base, const union value *v)
{
    char *dst = base + f->offset;
    switch (f->type) {
    case SCENARIO_T_UINT:
        if (f->size == 1) {
            uint8_t x = (uint8_t)v->u;
            memcpy(dst, &x, 1);
        } else if (f->size == 2) {
            uint16_t x = (uint16_t)v->u;
            memcpy(dst, &x, 2);
        } else if (f->size == 4) {
            uint32_t x = (uint32_t)v->u;
            memcpy(dst, &x, 4);
        } else {
            memcpy(dst, &v->u, 8);
        }
        return;
    case SCENARIO_T_DURATION:
        memcpy(dst, &v->i, sizeof(v->i));
        return;
    case SCENARIO_T_SIZE:
        memcpy(dst, &v->u, sizeof(v->u));
        return;
    case SCENARIO_T_PERCENT:
    case SCENARIO_T_NUMBER:
        memcpy(dst, &v->d, sizeof(v->d));
        return;
    case SCENARIO_T_AMOUNT:
        memcpy(dst, &v->a, sizeof(v->a));
        return;
    case SCENARIO_T_ENUM:
        assert(f->size == sizeof(int));
        memcpy(dst, &v->e, sizeof(v->e));
        return;
    case SCENARIO_T_VERSION:
        memcpy(dst, &v->v, sizeof(v->v));
        return;
    case SCENARIO_T_BOOL:
        memcpy(dst, &v->b, sizeof(v->b));
        return;
    default:
        assert(!"store: not a converted type");
    }
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* Store a string field (n: the node, for messages; NULL for a default). */
static void bind_string(struct binder *b, const struct scenario_field *f,
                        const struct scenario_node *n, const char *text, char *base)
{
    char q[80], want[128];
    if (f->type == SCENARIO_T_NAME && !valid_name(text)) {
        describe(want, sizeof(want), f);
        error_at(b, n, "%s is not a valid name (%s)", scenario_report_quote(q, sizeof(q), text),
                 want);
        return;
    }
    char *copy = strdup(text);
    if (copy == NULL) {
        fail(b, SIM_ENOMEM);
        return;
    }
    memcpy(base + f->offset, &copy, sizeof(copy));
}

/* ---- distributions (SCENARIO_F_DIST) --------------------------------------------------- */

/* The grammar's distribution names, in enum fleet_population_kind order
 * (models/fleet/population.h; sim/ cannot include it, tests/test_cli.c checks the match). */
static const char *const dist_names[] = {"fixed",       "uniform", "normal",    "lognormal", "beta",
                                         "exponential", "choice",  "empirical", NULL};

const char *scenario_dist_kind_name(unsigned k)
{
    return k < sizeof(dist_names) / sizeof(dist_names[0]) ? dist_names[k] : NULL;
}

/* Length of the leading lower-case word when text reads "word(" (spaces may come before
 * the parenthesis): a distribution, right or wrong. 0 for anything else ("7.5ms"). */
static size_t dist_word(const char *t)
{
    size_t n = 0;
    while (t[n] >= 'a' && t[n] <= 'z')
        n++;
    size_t k = n;
    while (t[k] == ' ')
        k++;
    return n > 0 && t[k] == '(' ? n : 0;
}

/* Characters the grammar can use. Anything else (':', '#', quotes, tabs) is refused here,
 * which also keeps the text a plain YAML scalar that --set reads back unchanged. */
static bool dist_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr(" .,%@()[]+-", c) != NULL;
}

/* Check a distribution's shape: a known name, allowed characters, balanced parentheses and
 * at most " in [LO, HI]" after them. The rest (values, units, domains) is the models'
 * (fleet_population_parse). Returns true, or false with a message in msg. */
static bool dist_shape(const char *t, size_t word, char *msg, size_t n)
{
    char name[16];
    snprintf(name, sizeof(name), "%.*s", (int)word, t);
    bool known = false;
    for (size_t i = 0; dist_names[i] != NULL && word < sizeof(name); i++)
        known = known || strcmp(dist_names[i], name) == 0;
    if (!known) {
        snprintf(msg, n, "unknown distribution \"%.*s\"", (int)word, t);
        scenario_schema_suggest(msg, n, name, dist_names,
                                sizeof(dist_names) / sizeof(dist_names[0]) - 1);
        return false;
    }
    for (const char *p = t; *p != '\0'; p++) {
        if (!dist_char(*p)) {
            snprintf(msg, n,
                     "unexpected character in a distribution at column %zu (allowed: letters, "
                     "digits, spaces and . , %% @ ( ) [ ] + -)",
                     (size_t)(p - t) + 1);
            return false;
        }
    }
    const char *p = strchr(t, '(');
    int depth = 0;
    for (; *p != '\0'; p++) {
        depth += (*p == '(') - (*p == ')');
        if (depth == 0)
            break;
    }
    if (*p == '\0') {
        snprintf(msg, n, "unbalanced parentheses: no closing ')' for %s(", name);
        return false;
    }
    for (p++; *p == ' '; p++)
        ;
    if (*p == '\0')
        return true;
    if (strncmp(p, "in", 2) == 0) {
        for (p += 2; *p == ' '; p++)
            ;
        const char *close = *p == '[' ? strchr(p, ']') : NULL;
        if (close != NULL && close[1] == '\0' && strchr(p + 1, '[') == NULL)
            return true;
    }
    snprintf(msg, n, "unexpected text after %s(...) (only a range \"in [LO, HI]\" may follow)",
             name);
    return false;
}

/* A distribution for a SCENARIO_F_DIST field: checked, then its text and position stored. */
static void bind_dist(struct binder *b, const struct scenario_field *f,
                      const struct scenario_node *n, size_t word, char *base)
{
    char msg[SCENARIO_REPORT_LEN], q[80];
    if (!dist_shape(n->text, word, msg, sizeof(msg))) {
        error_at(b, n, "%s: %s", scenario_report_quote(q, sizeof(q), n->text), msg);
        return;
    }
    struct scenario_dist d = {strdup(n->text), {n->src, n->line, n->col}};
    if (d.text == NULL) {
        fail(b, SIM_ENOMEM);
        return;
    }
    memcpy(base + f->dist_offset, &d, sizeof(d));
}

static void bind_scalar(struct binder *b, const struct scenario_field *f,
                        const struct scenario_node *n, char *base)
{
    char want[256], q[80];
    if (n->kind != SCENARIO_NODE_SCALAR) {
        error_kind(b, f, n);
        return;
    }
    describe(want, sizeof(want), f);
    if (!n->quoted && n->text[0] == '\0') {
        error_at(b, n, "no value (%s)", want);
        return;
    }
    size_t word = (f->flags & SCENARIO_F_DIST) ? dist_word(n->text) : 0;
    if (word > 0) {
        bind_dist(b, f, n, word, base);
        return;
    }
    if (f->type == SCENARIO_T_STRING || f->type == SCENARIO_T_NAME) {
        bind_string(b, f, n, n->text, base);
        return;
    }
    scenario_report_quote(q, sizeof(q), n->text);
    if (n->quoted && (f->type == SCENARIO_T_UINT || f->type == SCENARIO_T_BOOL)) {
        error_at(b, n, "%s is quoted, so YAML reads it as a string (%s; remove the quotes)", q,
                 want);
        return;
    }
    union value v;
    const char *why;
    int rc = convert(f, n->text, &v, &why);
    if (rc != 0 && f->type == SCENARIO_T_ENUM) {
        char msg[SCENARIO_REPORT_LEN];
        snprintf(msg, sizeof(msg), "unknown value %s", q);
        scenario_schema_suggest(msg, sizeof(msg), n->text, f->names, n_names(f->names));
        error_at(b, n, "%s", msg);
        return;
    }
    char rng[64];
    bounds(rng, sizeof(rng), f);
    if ((rc == SIM_ERANGE && f->type == SCENARIO_T_UINT) || (rc == 0 && !in_range(f, &v))) {
        error_at(b, n, "%.60s is out of range (%s)", n->text, rng);
        return;
    }
    if (rc != 0) {
        error_at(b, n, "%s %s (%s)", q, why, want);
        return;
    }
    store(f, base, &v);
}

static void bind_values_default(struct binder *b, const struct scenario_field *f, char *base);

/* A key that is absent: its default, or nothing. */
static void bind_default(struct binder *b, const struct scenario_field *f, char *base)
{
    if (f->def == NULL)
        return;
    if (f->type == SCENARIO_T_VALUES) {
        bind_values_default(b, f, base);
        return;
    }
    if (f->type == SCENARIO_T_STRING || f->type == SCENARIO_T_NAME) {
        char *copy = strdup(f->def);
        if (copy == NULL)
            fail(b, SIM_ENOMEM);
        else
            memcpy(base + f->offset, &copy, sizeof(copy));
        return;
    }
    union value v;
    const char *why;
    int rc = convert(f, f->def, &v, &why);
    assert(rc == 0 && "a schema default does not parse");
    if (rc == 0)
        store(f, base, &v);
}

/* ---- maps and lists ----------------------------------------------------------------- */

static void bind_map(struct binder *b, const struct scenario_schema *sch,
                     const struct scenario_node *map, const struct scenario_node *where,
                     char *base);

/* Unknown keys, duplicate keys and keys that are not strings. Linear in the number of keys
 * times the schema's fields, so a hostile file with 100,000 keys stays fast. */
static void check_keys(struct binder *b, const struct scenario_schema *sch,
                       const struct scenario_node *map)
{
    const struct scenario_field *flat[SCENARIO_SCHEMA_MAX_FIELDS];
    size_t first[SCENARIO_SCHEMA_MAX_FIELDS]; /* per field: key index + 1, 0 if not seen */
    size_t n_flat = scenario_schema_flatten(sch, flat);
    memset(first, 0, sizeof(first));
    for (size_t i = 0; i < map->n_items; i++) {
        const struct scenario_node *k = map->keys[i];
        char q[80];
        if (k->kind != SCENARIO_NODE_SCALAR) {
            error_at(b, k, "a key must be a plain word, found %s", kind_name(k, q, sizeof(q)));
            continue;
        }
        size_t old = scenario_path_push_key(&b->path, k->text);
        size_t f = 0;
        while (f < n_flat && strcmp(flat[f]->key, k->text) != 0)
            f++;
        if (f == n_flat) {
            char msg[SCENARIO_REPORT_LEN] = "unknown key";
            scenario_schema_suggest_key(msg, sizeof(msg), k->text, sch);
            error_at(b, k, "%s", msg);
        } else if (first[f] != 0) {
            const struct scenario_node *k0 = map->keys[first[f] - 1];
            error_at(b, k, "duplicate key (first set at %u:%u; keep one)", k0->line, k0->col);
        } else {
            first[f] = i + 1;
        }
        scenario_path_pop(&b->path, old);
    }
}

/* A list element's unique value, for sorting. */
struct named {
    const char *name;
    size_t index;
};

static int named_cmp(const void *pa, const void *pb)
{
    const struct named *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    if (c != 0)
        return c;
    return (a->index > b->index) - (a->index < b->index);
}

/* The value node of key in map, or the map itself when the key is absent. */
static const struct scenario_node *value_or_map(const struct scenario_node *map, const char *key)
{
    long k = scenario_tree_find(map, key);
    return k >= 0 ? map->items[k] : map;
}

/* Values of the unique field must differ between elements; report each repeat against
 * the first element that used the value. Sorts, so O(n log n) in the list length. */
static void check_unique(struct binder *b, const struct scenario_field *f,
                         const struct scenario_node *seq, const char *arr)
{
    const struct scenario_field *u = scenario_schema_unique(f->sub);
    if (u == NULL || (u->type != SCENARIO_T_STRING && u->type != SCENARIO_T_NAME))
        return;
    struct named *v = malloc(seq->n_items * sizeof(*v));
    if (v == NULL) {
        fail(b, SIM_ENOMEM);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < seq->n_items; i++) {
        memcpy(&v[n].name, arr + i * f->sub->size + u->offset, sizeof(v[n].name));
        v[n].index = i;
        n += v[n].name != NULL;
    }
    qsort(v, n, sizeof(*v), named_cmp);
    for (size_t k = 1, run = 0; k < n; k++) {
        if (strcmp(v[k].name, v[run].name) != 0) {
            run = k;
            continue;
        }
        const struct scenario_node *at = value_or_map(seq->items[v[k].index], u->key);
        const struct scenario_node *first = value_or_map(seq->items[v[run].index], u->key);
        size_t o1 = scenario_path_push_index(&b->path, v[k].index);
        size_t o2 = scenario_path_push_key(&b->path, u->key);
        char q[80];
        bool is_name = strcmp(u->key, "name") == 0; /* not "name names" */
        error_at(b, at,
                 "duplicate %s %s (already used by %s[%zu] at %u:%u; %s%snames must be unique)",
                 u->key, scenario_report_quote(q, sizeof(q), v[k].name), f->key, v[run].index,
                 first->line, first->col, is_name ? "" : u->key, is_name ? "" : " ");
        scenario_path_pop(&b->path, o2);
        scenario_path_pop(&b->path, o1);
    }
    free(v);
}

static void bind_list(struct binder *b, const struct scenario_field *f,
                      const struct scenario_node *n, char *base)
{
    if (n->kind != SCENARIO_NODE_SEQ) {
        error_kind(b, f, n);
        return;
    }
    uint64_t min = 0;
    const char *why;
    if (f->min != NULL)
        scenario_units_uint(f->min, UINT64_MAX, &min, &why);
    if (n->n_items < min) {
        char want[256];
        describe(want, sizeof(want), f);
        error_at(b, n, "the list is empty (%s)", want);
        return;
    }
    if (n->n_items == 0)
        return;
    char *arr = calloc(n->n_items, f->sub->size);
    if (arr == NULL) {
        fail(b, SIM_ENOMEM);
        return;
    }
    memcpy(base + f->offset, &arr, sizeof(arr));
    memcpy(base + f->count_offset, &n->n_items, sizeof(n->n_items));
    for (size_t i = 0; i < n->n_items; i++) {
        const struct scenario_node *item = n->items[i];
        size_t old = scenario_path_push_index(&b->path, i);
        if (item->kind != SCENARIO_NODE_MAP) {
            char q[80], want[256];
            describe(want, sizeof(want), f);
            error_at(b, item, "expected a %s (a map with keys: %s); found %s", f->sub->noun,
                     strchr(want, ':') + 2, kind_name(item, q, sizeof(q)));
        } else {
            if (f->sub->has_pos) {
                struct scenario_pos pos = {item->src, item->line, item->col};
                memcpy(arr + i * f->sub->size + f->sub->pos_offset, &pos, sizeof(pos));
            }
            bind_map(b, f->sub, item, item, arr + i * f->sub->size);
        }
        scenario_path_pop(&b->path, old);
    }
    check_unique(b, f, n, arr);
}

/* ---- lists of scalars (SCENARIO_T_VALUES) ------------------------------------------- */

/* Allocate n items for f; NULL (and SIM_ENOMEM noted) on failure. */
static char *values_alloc(struct binder *b, const struct scenario_field *f, size_t n, char *base)
{
    char *arr = calloc(n, f->item->size);
    if (arr == NULL) {
        fail(b, SIM_ENOMEM);
        return NULL;
    }
    memcpy(base + f->offset, &arr, sizeof(arr));
    memcpy(base + f->count_offset, &n, sizeof(n));
    return arr;
}

static void format_value(char *buf, size_t n, const struct scenario_field *f, const char *base);

/* SCENARIO_F_UNIQUE on a list of scalars: report each item equal to an earlier one.
 * Compares canonical text, O(n^2) in the items: lists of failure types or group names. */
static void check_distinct(struct binder *b, const struct scenario_field *f,
                           const struct scenario_node *seq, const char *arr)
{
    for (size_t i = 1; i < seq->n_items; i++) {
        char vi[256], vj[256];
        format_value(vi, sizeof(vi), f->item, arr + i * f->item->size);
        for (size_t j = 0; j < i; j++) {
            format_value(vj, sizeof(vj), f->item, arr + j * f->item->size);
            if (strcmp(vi, vj) != 0)
                continue;
            size_t old = scenario_path_push_index(&b->path, i);
            error_at(b, seq->items[i], "%s is listed twice (first at %u:%u; list it once)", vi,
                     seq->items[j]->line, seq->items[j]->col);
            scenario_path_pop(&b->path, old);
            break;
        }
    }
}

static void bind_values(struct binder *b, const struct scenario_field *f,
                        const struct scenario_node *n, char *base)
{
    if (n->kind != SCENARIO_NODE_SEQ) {
        error_kind(b, f, n);
        return;
    }
    uint64_t min = 0, max = UINT64_MAX;
    const char *why;
    if (f->min != NULL)
        scenario_units_uint(f->min, UINT64_MAX, &min, &why);
    if (f->max != NULL)
        scenario_units_uint(f->max, UINT64_MAX, &max, &why);
    if (n->n_items < min || n->n_items > max) {
        char want[256];
        describe(want, sizeof(want), f);
        if (n->n_items == 0)
            error_at(b, n, "the list is empty (%s)", want);
        else
            error_at(b, n, "the list has %zu items (%s)", n->n_items, want);
        return;
    }
    if (n->n_items == 0)
        return;
    char *arr = values_alloc(b, f, n->n_items, base);
    if (arr == NULL)
        return;
    unsigned errs = b->rep->n_errors;
    for (size_t i = 0; i < n->n_items; i++) {
        size_t old = scenario_path_push_index(&b->path, i);
        bind_scalar(b, f->item, n->items[i], arr + i * f->item->size);
        scenario_path_pop(&b->path, old);
    }
    if ((f->flags & SCENARIO_F_UNIQUE) && b->rep->n_errors == errs)
        check_distinct(b, f, n, arr);
}

/* The default of a list of scalars, written as a flow list: "[failed, timed_out]". */
static void bind_values_default(struct binder *b, const struct scenario_field *f, char *base)
{
    char text[256];
    snprintf(text, sizeof(text), "%s", f->def + (f->def[0] == '['));
    text[strcspn(text, "]")] = '\0';
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    char *arr = values_alloc(b, f, n, base);
    char *save = NULL;
    size_t i = 0;
    for (char *tok = strtok_r(text, ",", &save); arr != NULL && tok != NULL;
         tok = strtok_r(NULL, ",", &save), i++) {
        tok += strspn(tok, " ");
        tok[strcspn(tok, " ")] = '\0';
        union value v;
        const char *why;
        int rc = convert(f->item, tok, &v, &why);
        assert(rc == 0 && i < n && "a schema default list does not parse");
        if (rc == 0 && i < n)
            store(f->item, arr + i * f->item->size, &v);
    }
}

/* SCENARIO_F_POS: remember where a map sits, for messages written after loading. */
static void store_pos(const struct scenario_field *f, const struct scenario_node *n, char *base)
{
    if (!(f->flags & SCENARIO_F_POS) || n == NULL)
        return;
    struct scenario_pos pos = {n->src, n->line, n->col};
    memcpy(base + f->pos_offset, &pos, sizeof(pos));
}

/* ---- inherited values (scenario_field.inherit) ------------------------------------------ */

/* The top-level field called key, and in *base the struct it sits in. */
static const struct scenario_field *find_in(const struct scenario_schema *sch, char *in,
                                            const char *key, char **base)
{
    for (size_t i = 0; i < sch->n_fields; i++) {
        const struct scenario_field *f = &sch->fields[i], *found;
        if (f->type == SCENARIO_T_INLINE) {
            if ((found = find_in(f->sub, inline_base(f, in), key, base)) != NULL)
                return found;
        } else if (strcmp(f->key, key) == 0) {
            *base = in;
            return f;
        }
    }
    return NULL;
}

static char *root_value(const struct binder *b, const char *key, const struct scenario_field **f)
{
    char *base = NULL;
    *f = find_in(b->root, b->root_base, key, &base);
    assert(*f != NULL && "scenario_field.inherit names no top-level key");
    return base != NULL ? base + (*f)->offset : NULL;
}

static void free_string(char *at);

/* A key absent from a map that inherits: the value of the same key in b->inherit. */
static void inherit_value(struct binder *b, const struct scenario_field *f, char *dst)
{
    const char *src = b->inherit;
    assert(f->type != SCENARIO_T_MAP && f->type != SCENARIO_T_LIST &&
           f->type != SCENARIO_T_VALUES && "inherit: scalar fields only");
    if (f->type == SCENARIO_T_STRING || f->type == SCENARIO_T_NAME) {
        const char *from;
        memcpy(&from, src + f->offset, sizeof(from));
        char *copy = from != NULL ? strdup(from) : NULL;
        if (from != NULL && copy == NULL)
            fail(b, SIM_ENOMEM);
        memcpy(dst + f->offset, &copy, sizeof(copy));
    } else {
        memcpy(dst + f->offset, src + f->offset, f->size);
    }
    if (!(f->flags & SCENARIO_F_DIST))
        return;
    struct scenario_dist from;
    memcpy(&from, src + f->dist_offset, sizeof(from));
    struct scenario_dist copy = {from.text != NULL ? strdup(from.text) : NULL, from.at};
    if (from.text != NULL && copy.text == NULL)
        fail(b, SIM_ENOMEM);
    memcpy(dst + f->dist_offset, &copy, sizeof(copy));
}

/* A list of names left empty that inherits: the unique names of the elements of the
 * top-level list f->inherit, in order. */
static void inherit_names(struct binder *b, const struct scenario_field *f, char *base)
{
    size_t n;
    memcpy(&n, base + f->count_offset, sizeof(n));
    if (n > 0)
        return;
    const struct scenario_field *list;
    const char *from = root_value(b, f->inherit, &list);
    const struct scenario_field *u = scenario_schema_unique(list->sub);
    assert(list->type == SCENARIO_T_LIST && u != NULL && f->item->size == sizeof(char *));
    const char *arr;
    memcpy(&arr, from, sizeof(arr));
    memcpy(&n, from - list->offset + list->count_offset, sizeof(n));
    char *names = n > 0 ? values_alloc(b, f, n, base) : NULL;
    for (size_t i = 0; names != NULL && i < n; i++) {
        const char *name;
        memcpy(&name, arr + i * list->sub->size + u->offset, sizeof(name));
        char *copy = name != NULL ? strdup(name) : NULL;
        if (name != NULL && copy == NULL)
            fail(b, SIM_ENOMEM);
        memcpy(names + i * sizeof(copy), &copy, sizeof(copy));
    }
}

/* Bind a map's fields, absent keys taken from the top-level map f->inherit when it has one. */
static void bind_sub(struct binder *b, const struct scenario_field *f,
                     const struct scenario_node *map, const struct scenario_node *where, char *base)
{
    const char *outer = b->inherit;
    const struct scenario_field *from;
    b->inherit = f->inherit != NULL ? root_value(b, f->inherit, &from) : NULL;
    bind_map(b, f->sub, map, where, base + f->offset);
    b->inherit = outer;
}

static void bind_field(struct binder *b, const struct scenario_field *f,
                       const struct scenario_node *n, char *base)
{
    static const bool present = true;
    switch (f->type) {
    case SCENARIO_T_MAP:
        store_pos(f, n, base);
        if (f->flags & SCENARIO_F_OPTIONAL)
            memcpy(base + f->present_offset, &present, sizeof(present));
        if (n->kind != SCENARIO_NODE_MAP)
            error_kind(b, f, n);
        else
            bind_sub(b, f, n, n, base);
        return;
    case SCENARIO_T_LIST:
        bind_list(b, f, n, base);
        return;
    case SCENARIO_T_VALUES:
        bind_values(b, f, n, base);
        return;
    default:
        bind_scalar(b, f, n, base);
    }
}

/* ---- conditional keys (scenario_field.when) ------------------------------------------- */

/* Whether f applies, given the values already in base: 1 yes, 0 no, -1 unknown (a key it
 * depends on failed to bind: failed[] per field index, NULL when every key is sound). */
static int applies(const struct scenario_schema *sch, const struct scenario_field *f,
                   const char *base, const bool *failed)
{
    for (size_t k = 0; k < SCENARIO_WHEN_MAX && f->when[k].key != NULL; k++) {
        const struct scenario_field *g = scenario_schema_find(sch, f->when[k].key);
        assert(g != NULL && g < f && g->type == SCENARIO_T_ENUM && "bad schema condition");
        if (failed != NULL && failed[g - sch->fields])
            return -1;
        int r = applies(sch, g, base, failed);
        if (r <= 0)
            return r;
        int e;
        memcpy(&e, base + g->offset, sizeof(e));
        if (e < 0 || e >= 32 || !(f->when[k].mask & (1u << e)))
            return 0;
    }
    return 1;
}

/* "during applies to kind power-loss only (here kind is bad-image; remove it)". */
static void error_not_applicable(struct binder *b, const struct scenario_schema *sch,
                                 const struct scenario_field *f, const struct scenario_node *key,
                                 const char *base)
{
    char msg[SCENARIO_REPORT_LEN], here[160];
    size_t o = (size_t)snprintf(msg, sizeof(msg), "%s applies to", f->key), h = 0;
    here[0] = '\0';
    for (size_t k = 0; k < SCENARIO_WHEN_MAX && f->when[k].key != NULL; k++) {
        const struct scenario_field *g = scenario_schema_find(sch, f->when[k].key);
        o += (size_t)snprintf(msg + o, o < sizeof(msg) ? sizeof(msg) - o : 0, "%s %s",
                              k ? " with" : "", g->key);
        const char *sep = " ";
        for (unsigned j = 0; g->names[j] != NULL; j++) {
            if (!(f->when[k].mask & (1u << j)))
                continue;
            o += (size_t)snprintf(msg + o, o < sizeof(msg) ? sizeof(msg) - o : 0, "%s%s", sep,
                                  g->names[j]);
            sep = " or ";
        }
        int e;
        memcpy(&e, base + g->offset, sizeof(e));
        h += (size_t)snprintf(here + h, h < sizeof(here) ? sizeof(here) - h : 0, "%s%s is %s",
                              h ? ", " : "", g->key,
                              e >= 0 && (size_t)e < n_names(g->names) ? g->names[e] : "?");
    }
    error_at(b, key, "%s only (here %s; remove it)", msg, here);
}

/* ---- given keys (scenario_schema.has_given) -------------------------------------------- */

static void mark_given(const struct scenario_schema *sch, size_t i, char *base)
{
    uint64_t g;
    memcpy(&g, base + sch->given_offset, sizeof(g));
    g |= UINT64_C(1) << i;
    memcpy(base + sch->given_offset, &g, sizeof(g));
}

bool scenario_given(const struct scenario_schema *sch, const void *base, const char *key)
{
    const struct scenario_field *f = scenario_schema_find(sch, key);
    assert(sch->has_given && f != NULL && "scenario_given: no such key or no given mask");
    if (!sch->has_given || f == NULL)
        return false;
    uint64_t g;
    memcpy(&g, (const char *)base + sch->given_offset, sizeof(g));
    return (g >> (size_t)(f - sch->fields)) & 1;
}

/* The fields of sch from map (NULL: all absent), where the keys were checked already. */
static void bind_fields(struct binder *b, const struct scenario_schema *sch,
                        const struct scenario_node *map, const struct scenario_node *where,
                        char *base)
{
    bool failed[SCENARIO_SCHEMA_MAX_FIELDS] = {false};
    for (size_t i = 0; i < sch->n_fields && b->rc != SIM_ENOMEM; i++) {
        const struct scenario_field *f = &sch->fields[i];
        if (f->type == SCENARIO_T_INLINE) {
            if (f->flags & SCENARIO_F_INDIRECT) {
                char *sub = calloc(1, f->sub->size);
                memcpy(base + f->offset, &sub, sizeof(sub));
                if (sub == NULL) {
                    fail(b, SIM_ENOMEM);
                    continue;
                }
            }
            bind_fields(b, f->sub, map, where, inline_base(f, base));
            continue;
        }
        long at = scenario_tree_find(map, f->key);
        size_t old = scenario_path_push_key(&b->path, f->key);
        unsigned errs = b->rep->n_errors;
        int ap = applies(sch, f, base, failed);
        if (ap < 0) {
            /* depends on a key already reported: no second message, no value */
        } else if (ap == 0) {
            if (at >= 0)
                error_not_applicable(b, sch, f, map->keys[at], base);
        } else if (at >= 0) {
            bind_field(b, f, map->items[at], base);
        } else if ((f->flags & SCENARIO_F_REQUIRED) &&
                   (f->unless == NULL || scenario_tree_find(map, f->unless) < 0)) {
            char want[256];
            describe(want, sizeof(want), f);
            error_at(b, where, "missing required key (%s)", want);
        } else if (f->type == SCENARIO_T_MAP && !(f->flags & SCENARIO_F_OPTIONAL)) {
            store_pos(f, where, base);
            bind_sub(b, f, NULL, where, base);
        } else if (b->inherit != NULL) {
            inherit_value(b, f, base);
        } else {
            bind_default(b, f, base);
        }
        if (f->type == SCENARIO_T_VALUES && f->inherit != NULL && ap > 0)
            inherit_names(b, f, base);
        if (f->type != SCENARIO_T_MAP && ap > 0)
            store_pos(f, at >= 0 ? map->items[at] : where, base);
        if (at >= 0 && ap > 0 && sch->has_given)
            mark_given(sch, i, base);
        failed[i] = b->rep->n_errors != errs;
        scenario_path_pop(&b->path, old);
    }
}

static void bind_map(struct binder *b, const struct scenario_schema *sch,
                     const struct scenario_node *map, const struct scenario_node *where, char *base)
{
    if (map != NULL)
        check_keys(b, sch, map);
    bind_fields(b, sch, map, where, base);
}

int scenario_schema_bind(const struct scenario_schema *sch, const struct scenario_node *map,
                         const struct scenario_node *where, void *base, struct scenario_report *rep)
{
    struct binder b = {.rep = rep, .root = sch, .root_base = base};
    bind_map(&b, sch, map, where, base);
    return b.rc;
}

/* ---- free and visit ----------------------------------------------------------------- */

static void free_string(char *at)
{
    char *s;
    memcpy(&s, at, sizeof(s));
    free(s);
    s = NULL;
    memcpy(at, &s, sizeof(s));
}

static bool is_string(const struct scenario_field *f)
{
    return f->type == SCENARIO_T_STRING || f->type == SCENARIO_T_NAME;
}

static void free_values(const struct scenario_field *f, char *p)
{
    char *arr;
    size_t n;
    memcpy(&arr, p + f->offset, sizeof(arr));
    memcpy(&n, p + f->count_offset, sizeof(n));
    for (size_t j = 0; arr != NULL && is_string(f->item) && j < n; j++)
        free_string(arr + j * f->item->size);
    free(arr);
    arr = NULL;
    n = 0;
    memcpy(p + f->offset, &arr, sizeof(arr));
    memcpy(p + f->count_offset, &n, sizeof(n));
}

void scenario_schema_free(const struct scenario_schema *sch, void *base)
{
    char *p = base;
    for (size_t i = 0; i < sch->n_fields; i++) {
        const struct scenario_field *f = &sch->fields[i];
        if (f->flags & SCENARIO_F_DIST)
            free_string(p + f->dist_offset + offsetof(struct scenario_dist, text));
        if (f->type == SCENARIO_T_INLINE) {
            char *sub = inline_base(f, p);
            if (sub != NULL)
                scenario_schema_free(f->sub, sub);
            if (f->flags & SCENARIO_F_INDIRECT)
                free_string(p + f->offset);
        } else if (is_string(f)) {
            free_string(p + f->offset);
        } else if (f->type == SCENARIO_T_VALUES) {
            free_values(f, p);
        } else if (f->type == SCENARIO_T_MAP) {
            scenario_schema_free(f->sub, p + f->offset);
        } else if (f->type == SCENARIO_T_LIST) {
            char *arr;
            size_t n;
            memcpy(&arr, p + f->offset, sizeof(arr));
            memcpy(&n, p + f->count_offset, sizeof(n));
            for (size_t j = 0; arr != NULL && j < n; j++)
                scenario_schema_free(f->sub, arr + j * f->sub->size);
            free(arr);
            arr = NULL;
            n = 0;
            memcpy(p + f->offset, &arr, sizeof(arr));
            memcpy(p + f->count_offset, &n, sizeof(n));
        }
    }
}

static void format_value(char *buf, size_t n, const struct scenario_field *f, const char *base)
{
    const char *src = base + f->offset;
    union value v;
    const char *s;
    switch (f->type) {
    case SCENARIO_T_STRING:
    case SCENARIO_T_NAME:
        memcpy(&s, src, sizeof(s));
        snprintf(buf, n, "%s", s ? s : "");
        return;
    case SCENARIO_T_UINT:
        v.u = 0;
        if (f->size == 1) {
            uint8_t x;
            memcpy(&x, src, 1);
            v.u = x;
        } else if (f->size == 2) {
            uint16_t x;
            memcpy(&x, src, 2);
            v.u = x;
        } else if (f->size == 4) {
            uint32_t x;
            memcpy(&x, src, 4);
            v.u = x;
        } else {
            memcpy(&v.u, src, 8);
        }
        snprintf(buf, n, "%" PRIu64, v.u);
        return;
    case SCENARIO_T_DURATION:
        memcpy(&v.i, src, sizeof(v.i));
        scenario_units_format_duration(buf, n, v.i);
        return;
    case SCENARIO_T_SIZE:
        memcpy(&v.u, src, sizeof(v.u));
        scenario_units_format_size(buf, n, v.u);
        return;
    case SCENARIO_T_PERCENT:
        memcpy(&v.d, src, sizeof(v.d));
        scenario_units_format_percent(buf, n, v.d);
        return;
    case SCENARIO_T_ENUM:
        memcpy(&v.e, src, sizeof(v.e));
        snprintf(buf, n, "%s", v.e >= 0 && (size_t)v.e < n_names(f->names) ? f->names[v.e] : "?");
        return;
    case SCENARIO_T_VERSION:
        memcpy(&v.v, src, sizeof(v.v));
        scenario_units_format_version(buf, n, &v.v);
        return;
    case SCENARIO_T_BOOL:
        memcpy(&v.b, src, sizeof(v.b));
        snprintf(buf, n, "%s", v.b ? "true" : "false");
        return;
    case SCENARIO_T_NUMBER:
        memcpy(&v.d, src, sizeof(v.d));
        snprintf(buf, n, "%.15g", v.d);
        return;
    case SCENARIO_T_AMOUNT:
        memcpy(&v.a, src, sizeof(v.a));
        if (v.a.is_count)
            snprintf(buf, n, "%" PRIu32, v.a.count);
        else
            scenario_units_format_percent(buf, n, v.a.share);
        return;
    default:
        buf[0] = '\0';
    }
}

/* "[10%, 50, 100%]": parses back as a YAML flow sequence. */
static void format_values(char *buf, size_t n, const struct scenario_field *f, const char *base)
{
    const char *arr;
    size_t count, o = (size_t)snprintf(buf, n, "[");
    memcpy(&arr, base + f->offset, sizeof(arr));
    memcpy(&count, base + f->count_offset, sizeof(count));
    for (size_t j = 0; arr != NULL && j < count; j++) {
        char item[256];
        format_value(item, sizeof(item), f->item, arr + j * f->item->size);
        o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s%s", j ? ", " : "", item);
    }
    snprintf(buf + o, o < n ? n - o : 0, "]");
}

static void visit_map(const struct scenario_schema *sch, const char *base,
                      struct scenario_path *path, scenario_visit_fn fn, void *ctx)
{
    for (size_t i = 0; i < sch->n_fields; i++) {
        const struct scenario_field *f = &sch->fields[i];
        bool present = true;
        if (f->type == SCENARIO_T_INLINE) {
            const char *sub = inline_base(f, base);
            if (sub != NULL)
                visit_map(f->sub, sub, path, fn, ctx);
            continue;
        }
        if (f->flags & SCENARIO_F_OPTIONAL)
            memcpy(&present, base + f->present_offset, sizeof(present));
        if (!present || applies(sch, f, base, NULL) != 1)
            continue;
        const char *text = NULL;
        if (is_string(f))
            memcpy(&text, base + f->offset, sizeof(text));
        if (is_string(f) && text == NULL)
            continue; /* an optional string not given: nothing was set */
        size_t count = 0;
        if (f->type == SCENARIO_T_VALUES)
            memcpy(&count, base + f->count_offset, sizeof(count));
        if (f->type == SCENARIO_T_VALUES && f->def == NULL && count == 0)
            continue; /* likewise an optional list */
        struct scenario_dist dist = {0};
        if (f->flags & SCENARIO_F_DIST)
            memcpy(&dist, base + f->dist_offset, sizeof(dist));
        size_t old = scenario_path_push_key(path, f->key);
        if (dist.text != NULL) {
            fn(ctx, path->buf, dist.text);
        } else if (f->type == SCENARIO_T_VALUES) {
            char buf[2048];
            format_values(buf, sizeof(buf), f, base);
            fn(ctx, path->buf, buf);
        } else if (f->type == SCENARIO_T_MAP) {
            visit_map(f->sub, base + f->offset, path, fn, ctx);
        } else if (f->type == SCENARIO_T_LIST) {
            const char *arr;
            size_t n;
            memcpy(&arr, base + f->offset, sizeof(arr));
            memcpy(&n, base + f->count_offset, sizeof(n));
            const struct scenario_field *u = scenario_schema_unique(f->sub);
            for (size_t j = 0; arr != NULL && j < n; j++) {
                const char *elem = arr + j * f->sub->size;
                const char *name = NULL;
                if (u != NULL && (u->type == SCENARIO_T_STRING || u->type == SCENARIO_T_NAME))
                    memcpy(&name, elem + u->offset, sizeof(name));
                size_t o =
                    name ? scenario_path_push_key(path, name) : scenario_path_push_index(path, j);
                visit_map(f->sub, elem, path, fn, ctx);
                scenario_path_pop(path, o);
            }
        } else {
            char buf[256];
            format_value(buf, sizeof(buf), f, base);
            fn(ctx, path->buf, buf);
        }
        scenario_path_pop(path, old);
    }
}

void scenario_schema_visit(const struct scenario_schema *sch, const void *base,
                           scenario_visit_fn fn, void *ctx)
{
    struct scenario_path path = {.len = 0, .buf = ""};
    visit_map(sch, base, &path, fn, ctx);
}
