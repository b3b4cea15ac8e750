/* sim/scenario/override.c - apply one --set key.path=value to the node tree.
 *
 * The key path is checked against the schema, not only the tree, so a key the file
 * leaves out can be set (it is inserted) and a misspelt key is reported with the same
 * "did you mean" as in a file. A list whose elements have a unique field is addressed by
 * that value (devices.mice.count); any list also by index (devices[0].count). The value is
 * parsed as YAML, so a flow collection works too (image={size: 1KiB, version: 1.0.0}).
 *
 * Messages point at "--set:N:COL": the N-th --set argument, COL the column in it.
 */
#include "sim/scenario/scenario_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char set_src[] = "--set";

struct walk {
    const char *key; /* the key path, NUL-terminated copy */
    const char *value;
    const struct scenario_override_at *at;
    struct scenario_report *rep;
};

static void walk_error(const struct walk *w, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void walk_error(const struct walk *w, const char *at, const char *fmt, ...)
{
    char msg[SCENARIO_REPORT_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    scenario_report_error(w->rep, w->at->src, w->at->line, w->at->key_col + (unsigned)(at - w->key),
                          w->key, "%s", msg);
}

/* The element of seq whose unique field is the longest prefix of p that ends at '.' or
 * at the end (group names may contain dots). Returns its index or -1; *end past it. */
static long find_named(const struct scenario_node *seq, const struct scenario_field *u,
                       const char *p, const char **end)
{
    long best = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < seq->n_items; i++) {
        long k = scenario_tree_find(seq->items[i], u->key);
        if (k < 0 || seq->items[i]->items[k]->kind != SCENARIO_NODE_SCALAR)
            continue;
        const char *name = seq->items[i]->items[k]->text;
        size_t n = strlen(name);
        if (n > best_len && strncmp(p, name, n) == 0 && (p[n] == '.' || p[n] == '\0')) {
            best = (long)i;
            best_len = n;
        }
    }
    *end = p + best_len;
    return best;
}

/* "mice, rats" or "none": the names a --set can use for seq. */
static void list_names(char *buf, size_t n, const struct scenario_node *seq,
                       const struct scenario_field *u)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; seq != NULL && i < seq->n_items; i++) {
        long k = u ? scenario_tree_find(seq->items[i], u->key) : -1;
        const struct scenario_node *v = k >= 0 ? seq->items[i]->items[k] : NULL;
        if (v != NULL && v->kind == SCENARIO_NODE_SCALAR)
            o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s%s", o ? ", " : "", v->text);
        else
            o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s[%zu]", o ? ", " : "", i);
    }
    if (o == 0)
        snprintf(buf, n, "none");
}

/* Select a list element at *pp (just after the list's key): "[N]" or ".NAME". Returns the
 * element's index, or -1 after reporting. */
static long select_element(const struct walk *w, const struct scenario_field *f,
                           const struct scenario_node *seq, const char **pp)
{
    const char *p = *pp;
    const struct scenario_field *u = scenario_schema_unique(f->sub);
    char names[256];
    list_names(names, sizeof(names), seq, u);
    if (*p == '[') {
        char *end;
        unsigned long i = strtoul(p + 1, &end, 10);
        if (end == p + 1 || *end != ']' || p[1] == '-' || p[1] == '+') {
            walk_error(w, p, "expected an index such as %s[0]", f->key);
            return -1;
        }
        if (seq == NULL || i >= seq->n_items) {
            walk_error(w, p + 1, "no %s %s[%.*s] (the file has %zu)", f->sub->noun, f->key,
                       (int)(end - p - 1), p + 1, seq ? seq->n_items : 0);
            return -1;
        }
        *pp = end + 1;
        return (long)i;
    }
    if (*p != '.' || u == NULL) {
        walk_error(w, p, "expected %s[INDEX]%s after %s", f->key, u ? " or ." : "", f->key);
        return -1;
    }
    const char *end = p + 1;
    long i = seq ? find_named(seq, u, p + 1, &end) : -1;
    if (i < 0) {
        size_t len = strcspn(p + 1, ".");
        walk_error(w, p + 1, "no %s \"%.*s\" (%ss: %s)", f->sub->noun, (int)len, p + 1, u->key,
                   names);
        return -1;
    }
    *pp = end;
    return i;
}

/* Put value at key `seg` of map (replacing the first such key) or at element i of a
 * sequence. Consumes value on success. */
static int place(struct scenario_node *parent, const char *seg, long i, struct scenario_node *value,
                 const struct walk *w, unsigned col)
{
    if (parent->kind == SCENARIO_NODE_SEQ) {
        scenario_tree_free(parent->items[i]);
        parent->items[i] = value;
        return 0;
    }
    long k = scenario_tree_find(parent, seg);
    if (k >= 0) {
        scenario_tree_free(parent->items[k]);
        parent->items[k] = value;
        return 0;
    }
    struct scenario_node *key =
        scenario_tree_node_new(SCENARIO_NODE_SCALAR, w->at->src, w->at->line, col, seg);
    if (key == NULL)
        return SIM_ENOMEM;
    int rc = scenario_tree_append(parent, key, value);
    if (rc != 0)
        scenario_tree_free(key);
    return rc;
}

static int parse_value(const struct walk *w, struct scenario_node **out)
{
    struct scenario_src src = {w->at->src, w->at->line, w->at->value_col, w->key};
    int rc = scenario_tree_parse(w->value, strlen(w->value), &src, out, w->rep);
    if (rc == 0 && *out == NULL) { /* "key=": an empty plain scalar, like "key:" in YAML */
        *out = scenario_tree_node_new(SCENARIO_NODE_SCALAR, w->at->src, w->at->line, src.col0, "");
        rc = *out ? 0 : SIM_ENOMEM;
    }
    return rc;
}

/* Walk the key path. With create false, only check it (the tree is not touched); with
 * create true, insert missing maps and place the value (consumed on success). */
static int walk_path(const struct walk *w, struct scenario_node *node,
                     const struct scenario_schema *sch, struct scenario_node *value, bool create)
{
    const char *p = w->key;
    for (;;) {
        const char *seg_start = p;
        size_t len = strcspn(p, ".[");
        char seg[SCENARIO_PATH_CAP];
        snprintf(seg, sizeof(seg), "%.*s", (int)len, p);
        p += len;
        const struct scenario_field *f = scenario_schema_find(sch, seg);
        if (f == NULL) {
            char msg[SCENARIO_REPORT_LEN] = "unknown key";
            scenario_schema_suggest_key(msg, sizeof(msg), seg, sch);
            walk_error(w, seg_start, "%s", msg);
            return SIM_EINVAL;
        }
        long at = scenario_tree_find(node, seg);
        struct scenario_node *child = at >= 0 ? node->items[at] : NULL;
        unsigned col = w->at->key_col + (unsigned)(seg_start - w->key);
        if (*p == '\0')
            return create ? place(node, seg, -1, value, w, col) : 0;
        if (f->type == SCENARIO_T_LIST) {
            if (child != NULL && child->kind != SCENARIO_NODE_SEQ)
                child = NULL;
            long i = select_element(w, f, child, &p);
            if (i < 0)
                return SIM_EINVAL;
            if (*p == '\0')
                return create ? place(child, NULL, i, value, w, col) : 0;
            if (child->items[i]->kind != SCENARIO_NODE_MAP) {
                walk_error(w, p, "%s[%ld] is not a map in the scenario", f->key, i);
                return SIM_EINVAL;
            }
            node = child->items[i];
        } else if (f->type == SCENARIO_T_MAP && *p == '.') {
            if (child != NULL && child->kind != SCENARIO_NODE_MAP) {
                walk_error(w, seg_start, "%s is not a map in the scenario (set %s={...} instead)",
                           seg, seg);
                return SIM_EINVAL;
            }
            if (child == NULL && create) {
                child =
                    scenario_tree_node_new(SCENARIO_NODE_MAP, w->at->src, w->at->line, col, NULL);
                int rc = child ? place(node, seg, -1, child, w, col) : SIM_ENOMEM;
                if (rc != 0) {
                    scenario_tree_free(child);
                    return rc;
                }
            }
            node = child; /* NULL when only checking a key the file leaves out */
        } else if (f->type == SCENARIO_T_MAP) {
            walk_error(w, p, "%s is a map, not a list (use %s.KEY)", seg, seg);
            return SIM_EINVAL;
        } else {
            walk_error(w, p, "%s has no keys inside (it is not a map or a list)", seg);
            return SIM_EINVAL;
        }
        if (*p != '.') {
            walk_error(w, p, "expected '.' after %s", seg);
            return SIM_EINVAL;
        }
        if (p[1] == '\0') {
            walk_error(w, p + 1, "expected a key after the '.'");
            return SIM_EINVAL;
        }
        p++;
        sch = f->sub;
    }
}

int scenario_override_place(struct scenario_node *root, const struct scenario_schema *sch,
                            const char *key, const char *value,
                            const struct scenario_override_at *at, struct scenario_report *rep)
{
    struct walk w = {.key = key, .value = value, .at = at, .rep = rep};
    struct scenario_node *node = NULL;
    int rc = walk_path(&w, root, sch, NULL, false);
    if (rc != 0)
        return rc;
    rc = parse_value(&w, &node);
    if (rc != 0)
        return rc;
    rc = walk_path(&w, root, sch, node, true);
    if (rc != 0)
        scenario_tree_free(node);
    return rc;
}

int scenario_override_apply(struct scenario_node *root, const struct scenario_schema *sch,
                            const char *arg, unsigned index, struct scenario_report *rep)
{
    char key[SCENARIO_PATH_CAP];
    const char *eq = strchr(arg, '=');
    snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
    const struct scenario_override_at at = {set_src, index, 1, eq ? (unsigned)(eq - arg) + 2 : 1};
    if (eq == NULL || eq == arg) {
        struct walk w = {.key = key, .at = &at, .rep = rep};
        walk_error(&w, key, "expected KEY=VALUE, e.g. devices.mice.count=500");
        return SIM_EINVAL;
    }
    return scenario_override_place(root, sch, key, eq + 1, &at, rep);
}
