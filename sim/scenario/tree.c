/* sim/scenario/tree.c - libyaml events -> a small tree of scalars, maps and sequences,
 * each with its 1-based line and column, so that later steps can point at the text.
 *
 * Building is iterative (an explicit stack of open collections) and bounded by
 * SCENARIO_TREE_DEPTH, so freeing, binding and printing can recurse safely.
 */
#include "sim/scenario/scenario_int.h"

#include <yaml.h>

#include <stdlib.h>
#include <string.h>

struct scenario_node *scenario_tree_node_new(enum scenario_node_kind kind, const char *src,
                                             unsigned line, unsigned col, const char *text)
{
    struct scenario_node *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->kind = kind;
    n->src = src;
    n->line = line;
    n->col = col;
    if (text != NULL) {
        n->text = strdup(text);
        if (n->text == NULL) {
            free(n);
            return NULL;
        }
    }
    return n;
}

void scenario_tree_free(struct scenario_node *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->n_items; i++) {
        if (n->keys != NULL)
            scenario_tree_free(n->keys[i]);
        scenario_tree_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->text);
    free(n);
}

int scenario_tree_append(struct scenario_node *parent, struct scenario_node *key,
                         struct scenario_node *value)
{
    if (parent->n_items == parent->cap_items) {
        size_t cap = parent->cap_items ? parent->cap_items * 2 : 4;
        struct scenario_node **items = realloc(parent->items, cap * sizeof(*items));
        if (items == NULL)
            return SIM_ENOMEM;
        parent->items = items;
        if (parent->kind == SCENARIO_NODE_MAP) {
            struct scenario_node **keys = realloc(parent->keys, cap * sizeof(*keys));
            if (keys == NULL)
                return SIM_ENOMEM;
            parent->keys = keys;
        }
        parent->cap_items = cap;
    }
    if (parent->kind == SCENARIO_NODE_MAP)
        parent->keys[parent->n_items] = key;
    parent->items[parent->n_items++] = value;
    return 0;
}

long scenario_tree_find(const struct scenario_node *m, const char *key)
{
    if (m == NULL || m->kind != SCENARIO_NODE_MAP)
        return -1;
    for (size_t i = 0; i < m->n_items; i++)
        if (m->keys[i]->kind == SCENARIO_NODE_SCALAR && strcmp(m->keys[i]->text, key) == 0)
            return (long)i;
    return -1;
}

/* ---- the builder ----------------------------------------------------------------- */

/* An open collection; for a map, `key` holds a key that still waits for its value. */
struct frame {
    struct scenario_node *node;
    struct scenario_node *key;
};

struct builder {
    const struct scenario_src *src;
    const char *text;
    size_t len;
    struct scenario_report *rep;
    struct scenario_node *root;
    size_t depth;
    struct frame stack[SCENARIO_TREE_DEPTH];
    unsigned n_docs;
};

static unsigned mark_line(const struct builder *b, yaml_mark_t m)
{
    return b->src->line0 ? b->src->line0 : (unsigned)m.line + 1;
}

/* Characters (not bytes) of text before byte offset `end`. */
static unsigned chars_before(const struct builder *b, size_t end)
{
    unsigned n = 0;
    for (size_t i = 0; i < end && i < b->len; i++)
        n += ((unsigned char)b->text[i] & 0xc0) != 0x80; /* not a UTF-8 continuation byte */
    return n;
}

static unsigned mark_col(const struct builder *b, yaml_mark_t m)
{
    if (b->src->line0) /* a one-line --set value: libyaml may put its end on "line 2" */
        return b->src->col0 + chars_before(b, m.index);
    return 1 + (unsigned)m.column;
}

/* Key path of the innermost open key: where a syntax error sits, as far as we know. */
static void open_path(const struct builder *b, struct scenario_path *p)
{
    p->len = 0;
    p->buf[0] = '\0';
    if (b->src->path != NULL)
        scenario_path_push_key(p, b->src->path);
    for (size_t i = 0; i < b->depth; i++) {
        const struct frame *f = &b->stack[i];
        if (f->node->kind == SCENARIO_NODE_SEQ)
            scenario_path_push_index(p, f->node->n_items);
        else if (f->key != NULL && f->key->kind == SCENARIO_NODE_SCALAR)
            scenario_path_push_key(p, f->key->text);
        else
            break;
    }
}

static void builder_error(struct builder *b, yaml_mark_t m, const char *fmt, const char *a)
{
    struct scenario_path p;
    open_path(b, &p);
    scenario_report_error(b->rep, b->src->name, mark_line(b, m), mark_col(b, m), p.buf, fmt, a);
}

/* Line and column (0-based, in characters) of a byte offset into the text. */
static yaml_mark_t offset_mark(const struct builder *b, size_t offset)
{
    yaml_mark_t m = {.index = offset};
    for (size_t i = 0; i < offset && i < b->len; i++) {
        unsigned char c = (unsigned char)b->text[i];
        if (c == '\n') {
            m.line++;
            m.column = 0;
        } else if ((c & 0xc0) != 0x80) {
            m.column++;
        }
    }
    return m;
}

static void syntax_error(struct builder *b, const yaml_parser_t *ps)
{
    struct scenario_path p;
    open_path(b, &p);
    yaml_mark_t m = ps->problem_mark;
    if (ps->error == YAML_READER_ERROR) /* the reader gives a byte offset, not a mark */
        m = offset_mark(b, ps->problem_offset);
    const char *problem = ps->problem ? ps->problem : "malformed YAML";
    const char *hint = "";
    if (m.index < b->len && b->text[m.index] == '\t' && b->src->line0 == 0)
        hint = "; indent with spaces, YAML does not allow tabs here";
    else if (ps->error == YAML_READER_ERROR)
        hint = "; the file must be UTF-8 text";
    bool same = ps->context_mark.index == m.index;
    if (ps->context != NULL && !same)
        scenario_report_error(b->rep, b->src->name, mark_line(b, m), mark_col(b, m), p.buf,
                              "YAML syntax error: %s (%s at %u:%u%s)", problem, ps->context,
                              mark_line(b, ps->context_mark), mark_col(b, ps->context_mark), hint);
    else if (ps->context != NULL)
        scenario_report_error(b->rep, b->src->name, mark_line(b, m), mark_col(b, m), p.buf,
                              "YAML syntax error: %s (%s%s)", problem, ps->context, hint);
    else
        scenario_report_error(b->rep, b->src->name, mark_line(b, m), mark_col(b, m), p.buf,
                              "YAML syntax error: %s (%s)", problem,
                              hint[0] ? hint + 2 : "check the YAML syntax near here");
}

/* Attach a finished node to the innermost open collection (or make it the root).
 * Consumes n in every case. */
static int attach(struct builder *b, struct scenario_node *n)
{
    if (b->depth == 0) {
        b->root = n;
        return 0;
    }
    struct frame *f = &b->stack[b->depth - 1];
    if (f->node->kind == SCENARIO_NODE_MAP && f->key == NULL) {
        f->key = n;
        return 0;
    }
    int rc = scenario_tree_append(f->node, f->key, n);
    if (rc != 0) {
        scenario_tree_free(n);
        return rc;
    }
    f->key = NULL;
    return 0;
}

static int on_start(struct builder *b, const yaml_event_t *ev, enum scenario_node_kind kind)
{
    if (b->depth == SCENARIO_TREE_DEPTH) {
        builder_error(b, ev->start_mark, "nesting is deeper than %s levels (flatten it)", "64");
        return SIM_EINVAL;
    }
    struct scenario_node *n = scenario_tree_node_new(
        kind, b->src->name, mark_line(b, ev->start_mark), mark_col(b, ev->start_mark), NULL);
    if (n == NULL)
        return SIM_ENOMEM;
    b->stack[b->depth].node = n;
    b->stack[b->depth].key = NULL;
    b->depth++;
    return 0;
}

static int on_end(struct builder *b)
{
    struct frame f = b->stack[--b->depth];
    scenario_tree_free(f.key); /* only non-NULL if the map ended on a key: cannot happen */
    return attach(b, f.node);
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    if (strlen(v) != ev->data.scalar.length) {
        builder_error(b, ev->start_mark, "%s", "text contains a NUL character");
        return SIM_EINVAL;
    }
    struct scenario_node *n =
        scenario_tree_node_new(SCENARIO_NODE_SCALAR, b->src->name, mark_line(b, ev->start_mark),
                               mark_col(b, ev->start_mark), v);
    if (n == NULL)
        return SIM_ENOMEM;
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    return attach(b, n);
}

/* One event. Returns 0 to go on, 1 at the end of the stream, or a negative code. */
static int on_event(struct builder *b, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_DOCUMENT_START_EVENT:
        if (++b->n_docs > 1) {
            builder_error(b, ev->start_mark, "%s",
                          "a second YAML document (one scenario per file; remove the '---')");
            return SIM_EINVAL;
        }
        return 0;
    case YAML_ALIAS_EVENT:
        builder_error(b, ev->start_mark, "YAML alias *%s is not supported (write the value out)",
                      (const char *)ev->data.alias.anchor);
        return SIM_EINVAL;
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, ev, SCENARIO_NODE_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, ev, SCENARIO_NODE_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(b);
    default: /* stream start, document end, no event */
        return 0;
    }
}

int scenario_tree_parse(const char *text, size_t len, const struct scenario_src *src,
                        struct scenario_node **root, struct scenario_report *rep)
{
    struct builder b = {.src = src, .text = text, .len = len, .rep = rep};
    yaml_parser_t ps;
    int rc = 0;

    *root = NULL;
    if (!yaml_parser_initialize(&ps))
        return SIM_ENOMEM;
    yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
    while (rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&ps, &ev)) {
            if (ps.error == YAML_MEMORY_ERROR) {
                rc = SIM_ENOMEM;
                goto fail;
            }
            syntax_error(&b, &ps);
            rc = SIM_EINVAL;
            goto fail;
        }
        rc = on_event(&b, &ev);
        yaml_event_delete(&ev);
    }
    if (rc < 0)
        goto fail;
    yaml_parser_delete(&ps);
    *root = b.root;
    return 0;
fail:
    while (b.depth > 0) {
        struct frame *f = &b.stack[--b.depth];
        scenario_tree_free(f->key);
        scenario_tree_free(f->node);
    }
    scenario_tree_free(b.root);
    yaml_parser_delete(&ps);
    return rc;
}
