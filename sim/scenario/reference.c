/* sim/scenario/reference.c - the scenario reference, written from the field tables that
 * the binder uses, so the documentation cannot drift from what is accepted:
 * `dfusim keys` (one line per key) and `dfusim keys --markdown` (docs/scenario-reference.md,
 * one table per map or list, in table order). */
#include "sim/scenario/scenario_int.h"

#include <stdio.h>
#include <string.h>

static const char *type_name(const struct scenario_field *f)
{
    switch (f->type) {
    case SCENARIO_T_STRING:
        return "string";
    case SCENARIO_T_NAME:
        return "name";
    case SCENARIO_T_UINT:
        return "integer";
    case SCENARIO_T_DURATION:
        return "duration";
    case SCENARIO_T_SIZE:
        return "size";
    case SCENARIO_T_PERCENT:
        return "percent";
    case SCENARIO_T_ENUM:
        return "enum";
    case SCENARIO_T_VERSION:
        return "version";
    case SCENARIO_T_BOOL:
        return "bool";
    case SCENARIO_T_NUMBER:
        return "number";
    case SCENARIO_T_AMOUNT:
        return "percent or count";
    case SCENARIO_T_MAP:
        return "map";
    case SCENARIO_T_LIST:
        return "list of maps";
    case SCENARIO_T_VALUES:
        return "list";
    case SCENARIO_T_INLINE:
    case SCENARIO_T_COUNT:
        break;
    }
    return "?";
}

/* "a, b, c" of a NULL-terminated name list, into buf at *o. */
static void put_names(char *buf, size_t n, size_t *o, const char *const *names, uint32_t mask)
{
    bool first = true;
    for (unsigned i = 0; names[i] != NULL && *o < n; i++) {
        if (mask != 0 && !(mask & (1u << i)))
            continue;
        *o += (size_t)snprintf(buf + *o, n - *o, "%s%s", first ? "" : ", ", names[i]);
        first = false;
    }
}

/* What values are allowed, from the field's own notation. */
static void allowed(const struct scenario_field *f, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    const struct scenario_field *v = f->type == SCENARIO_T_VALUES ? f->item : f;
    if (f->type == SCENARIO_T_VALUES && f->min != NULL)
        o += (size_t)snprintf(buf + o, n - o, "%s%s items; each: ", f->min,
                              f->max != NULL ? "" : " or more");
    if (v->type == SCENARIO_T_ENUM && v->names != NULL)
        put_names(buf, n, &o, v->names, 0);
    else if (v->type == SCENARIO_T_BOOL)
        o += (size_t)snprintf(buf + o, n - o, "true, false");
    else if (v->type == SCENARIO_T_NAME)
        o += (size_t)snprintf(buf + o, n - o, "1-64 of [A-Za-z0-9_.-]");
    else if (f->type == SCENARIO_T_LIST && f->min != NULL)
        o += (size_t)snprintf(buf + o, n - o, "at least %s", f->min);
    else if (v->min != NULL && v->max != NULL && o < n)
        o += (size_t)snprintf(buf + o, n - o, "%s ... %s", v->min, v->max);
    else if (v->min != NULL && o < n)
        o += (size_t)snprintf(buf + o, n - o, ">= %s", v->min);
    else if (v->max != NULL && o < n)
        o += (size_t)snprintf(buf + o, n - o, "<= %s", v->max);
    if ((f->flags & SCENARIO_F_UNIQUE) && o < n)
        o += (size_t)snprintf(buf + o, n - o, "%sunique in the list", o ? "; " : "");
    if ((f->flags & SCENARIO_F_DIST) && o < n)
        snprintf(buf + o, n - o, "%sor a distribution", o ? "; " : "");
}

static void default_text(const struct scenario_field *f, char *buf, size_t n)
{
    if (f->flags & SCENARIO_F_REQUIRED)
        snprintf(buf, n, "required");
    else if (f->def != NULL)
        snprintf(buf, n, "%s", f->def);
    else if (f->type == SCENARIO_T_LIST || f->type == SCENARIO_T_VALUES)
        snprintf(buf, n, "empty");
    else if (f->flags & SCENARIO_F_OPTIONAL)
        snprintf(buf, n, "absent");
    else
        snprintf(buf, n, "-");
}

/* The meaning, with the condition of a field that applies to some sibling values only. */
static void meaning(const struct scenario_schema *sch, const struct scenario_field *f, char *buf,
                    size_t n)
{
    size_t o = (size_t)snprintf(buf, n, "%s", f->doc != NULL ? f->doc : "");
    for (int w = 0; w < SCENARIO_WHEN_MAX && f->when[w].key != NULL && o < n; w++) {
        const struct scenario_field *k = scenario_schema_find(sch, f->when[w].key);
        if (k == NULL || k->names == NULL)
            continue;
        o += (size_t)snprintf(buf + o, n - o, "%s only when %s is ", w ? "," : ".", k->key);
        put_names(buf, n, &o, k->names, f->when[w].mask);
    }
}

/* Where the default comes from: the source, "unverified", both, or "-". */
static void source_text(const struct scenario_field *f, char *buf, size_t n)
{
    if (f->source != NULL)
        snprintf(buf, n, "%s%s", f->unverified ? "unverified; " : "", f->source);
    else
        snprintf(buf, n, "%s", f->unverified ? "unverified" : "-");
}

/* A table cell: '|' would end the cell early. */
static void cell(FILE *out, const char *s)
{
    fputs(" ", out);
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else
            fputc(*s, out);
    }
    fputs(" |", out);
}

struct ref {
    FILE *out;
    bool markdown;
};

static void section(struct ref *r, const char *path, const char *doc);

/* The scalar keys of sch under path prefix, then each map or list as its own section.
 * The keys of an INLINE field are listed as the enclosing map's. */
static void walk(struct ref *r, const struct scenario_schema *sch, const char *prefix)
{
    const struct scenario_field *flat[SCENARIO_SCHEMA_MAX_FIELDS];
    size_t n_flat = scenario_schema_flatten(sch, flat);
    bool header = false;
    for (size_t i = 0; i < n_flat; i++) {
        const struct scenario_field *f = flat[i];
        if (f->type == SCENARIO_T_MAP || f->type == SCENARIO_T_LIST)
            continue;
        char key[512], type[96], def[128], allow[512], mean[1024], src[512];
        snprintf(key, sizeof(key), "%s%s", prefix, f->key);
        if (f->type == SCENARIO_T_VALUES && f->item != NULL)
            snprintf(type, sizeof(type), "list of %s", type_name(f->item));
        else if (f->unit != NULL)
            snprintf(type, sizeof(type), "%s (%s)", type_name(f), f->unit);
        else
            snprintf(type, sizeof(type), "%s", type_name(f));
        default_text(f, def, sizeof(def));
        allowed(f, allow, sizeof(allow));
        meaning(sch, f, mean, sizeof(mean));
        source_text(f, src, sizeof(src));
        if (!r->markdown) {
            fprintf(r->out, "%s (%s; default %s%s%s): %s [source: %s]\n", key, type, def,
                    allow[0] ? "; " : "", allow, mean, src);
            continue;
        }
        if (!header) {
            fputs("| key | type | default | allowed | meaning | source of the default |\n"
                  "|---|---|---|---|---|---|\n",
                  r->out);
            header = true;
        }
        fputs("|", r->out);
        char code[sizeof(key) + 2];
        snprintf(code, sizeof(code), "`%s`", key);
        cell(r->out, code);
        cell(r->out, type);
        cell(r->out, def);
        cell(r->out, allow);
        cell(r->out, mean);
        cell(r->out, src);
        fputc('\n', r->out);
    }
    for (size_t i = 0; i < n_flat; i++) {
        const struct scenario_field *f = flat[i];
        if (f->type != SCENARIO_T_MAP && f->type != SCENARIO_T_LIST)
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s%s%s", prefix, f->key,
                 f->type == SCENARIO_T_LIST ? "[]" : "");
        char doc[1024];
        meaning(sch, f, doc, sizeof(doc));
        section(r, path, doc);
        char sub[sizeof(path) + 1];
        snprintf(sub, sizeof(sub), "%s.", path);
        walk(r, f->sub, sub);
    }
}

static void section(struct ref *r, const char *path, const char *doc)
{
    if (r->markdown)
        fprintf(r->out, "\n## `%s`\n\n%s\n\n", path, doc);
    else
        fprintf(r->out, "\n%s: %s\n", path, doc);
}

void scenario_reference_write(FILE *out, const struct scenario_schema *models, bool markdown)
{
    struct scenario_root root;
    struct ref r = {out, markdown};
    if (markdown)
        fputs("# Scenario reference\n\n"
              "Generated by `dfusim keys --markdown` from the settings each model declares\n"
              "beside its configuration struct (do not edit: a test fails when this file is\n"
              "stale). Units, distributions, lists, sweeps and `--set` are explained in\n"
              "[scenarios.md](scenarios.md). The last column says where a default comes from;\n"
              "*unverified* marks an assumption no source fixes (see\n"
              "[model.md](model.md#unverified-parameters)).\n\n"
              "## run\n\n",
              out);
    walk(&r, scenario_root_init(&root, models), "");
}
