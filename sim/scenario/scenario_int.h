/* sim/scenario/scenario_int.h - what the scenario loader's files share (not a public API).
 *
 * The loader runs in four steps, one file each: tree.c turns libyaml events into a small
 * node tree that remembers positions; override.c applies --set arguments to that tree;
 * schema.c binds the tree to a struct by walking a field table; report.c collects the
 * messages, sorted by position. units.c converts "7.5ms", "384KiB", "2%" and friends, and
 * scenario.c holds the dfusim field table and the public functions of sim/scenario.h.
 */
#ifndef SIM_SCENARIO_SCENARIO_INT_H
#define SIM_SCENARIO_SCENARIO_INT_H

#include "sim/error.h"
#include "sim/scenario.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- report.c: error collection --------------------------------------------------- */

#define SCENARIO_REPORT_CAP 20  /* messages kept per load; more are counted, not shown */
#define SCENARIO_REPORT_LEN 480 /* bytes per message, including the location prefix */

/* One kept message with its sort key. Sources rank in the order they were first seen
 * (the file, given to init, before the --set arguments), then by line, column, arrival. */
struct scenario_report_msg {
    unsigned rank, line, col, seq;
    char text[SCENARIO_REPORT_LEN];
};

/* Collects messages during one load, then flushes them, sorted, into a sim_diag. When more
 * than SCENARIO_REPORT_CAP arrive, the first ones by position are kept (not the first
 * reported). Fixed storage: reporting never allocates and never fails. */
struct scenario_report {
    const char *ranks[4]; /* source names seen, in order (compared by text) */
    unsigned n_ranks;
    unsigned n_errors; /* all errors reported, including those not kept */
    unsigned n_kept;
    unsigned n_dups; /* errors not kept because a kept message has the same text */
    struct scenario_report_msg msgs[SCENARIO_REPORT_CAP];
};

/* first: the source that sorts first (the file); must outlive r. */
void scenario_report_init(struct scenario_report *r, const char *first);
/* Add "SRC:LINE:COL: PATH: message". path NULL or "" prints "-". Never fails. */
void scenario_report_error(struct scenario_report *r, const char *src, unsigned line, unsigned col,
                           const char *path, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Append the kept messages to d in position order, plus a count of the ones not kept. */
void scenario_report_flush(struct scenario_report *r, struct sim_diag *d);

/* Write text into buf (size n >= 8) as a double-quoted string with control characters
 * and quotes escaped, shortened with "..." past about 60 characters. Returns buf. */
const char *scenario_report_quote(char *buf, size_t n, const char *text);

/* A key path being built during a walk ("devices[1].board"). Too long a path is cut,
 * never overflowed. Push functions return the old length for scenario_path_pop(). */
#define SCENARIO_PATH_CAP 256
struct scenario_path {
    size_t len;
    char buf[SCENARIO_PATH_CAP];
};
size_t scenario_path_push_key(struct scenario_path *p, const char *key);
size_t scenario_path_push_index(struct scenario_path *p, size_t index);
void scenario_path_pop(struct scenario_path *p, size_t old_len);

/* ---- tree.c: YAML -> node tree ---------------------------------------------------- */

enum scenario_node_kind { SCENARIO_NODE_SCALAR, SCENARIO_NODE_MAP, SCENARIO_NODE_SEQ };

/* A YAML node. A map has n_items keys (scalar nodes, as written) and n_items values; a
 * sequence has n_items values and keys == NULL. Each node owns its children and text. */
struct scenario_node {
    enum scenario_node_kind kind;
    bool quoted;     /* scalar was written '...' or "..." (or as a block scalar) */
    unsigned line;   /* 1-based; for --set nodes, the argument's number */
    unsigned col;    /* 1-based, in characters */
    const char *src; /* name for messages (file path or "--set"); not owned */
    char *text;      /* scalar value, NUL-terminated; NULL for collections */
    size_t n_items, cap_items;
    struct scenario_node **keys;
    struct scenario_node **items;
};

/* Where parsed text sits, for node positions. A file has line0 == 0: positions come from
 * the YAML marks. A --set value has line0 = the argument's number and col0 = the column
 * where the value starts, and every node is placed on that line. */
struct scenario_src {
    const char *name; /* must outlive the tree */
    unsigned line0, col0;
    const char *path; /* key path the text sits at, for syntax errors; NULL at the root */
};

/* Parse one YAML document into *root (NULL for an empty stream). Returns 0; SIM_EINVAL
 * after reporting a syntax error, an alias, a second document or nesting deeper than
 * SCENARIO_TREE_DEPTH; or SIM_ENOMEM. On failure *root is NULL and nothing leaks. */
#define SCENARIO_TREE_DEPTH 64
int scenario_tree_parse(const char *text, size_t len, const struct scenario_src *src,
                        struct scenario_node **root, struct scenario_report *rep);
/* A fresh node without children; text is copied (may be NULL). NULL when out of memory. */
struct scenario_node *scenario_tree_node_new(enum scenario_node_kind kind, const char *src,
                                             unsigned line, unsigned col, const char *text);
/* Free a node and everything below it. Accepts NULL. */
void scenario_tree_free(struct scenario_node *n);
/* Append (key may be NULL for a sequence). Consumes key and value on success only.
 * Returns 0 or SIM_ENOMEM. */
int scenario_tree_append(struct scenario_node *parent, struct scenario_node *key,
                         struct scenario_node *value);
/* Index of the first key equal to `key` in map m, or -1. */
long scenario_tree_find(const struct scenario_node *m, const char *key);

/* ---- units.c: scalar conversions -------------------------------------------------- */

/* Each returns 0, or SIM_EINVAL / SIM_ERANGE and sets *why to a static phrase that
 * follows the quoted value in a message ("has no unit"). */
int scenario_units_duration(const char *text, int64_t *ns, const char **why);
int scenario_units_size(const char *text, uint64_t *bytes, const char **why);
int scenario_units_percent(const char *text, double *fraction, const char **why);
/* Unsigned decimal integer, no sign, no leading zeros ("0" is fine), at most max. */
int scenario_units_uint(const char *text, uint64_t max, uint64_t *v, const char **why);
/* "MAJOR.MINOR.REVISION" or "MAJOR.MINOR.REVISION+BUILD". */
int scenario_units_version(const char *text, struct scenario_version *v, const char **why);

/* Canonical text, which parses back to the same value: durations and sizes use the
 * largest unit that divides them exactly ("24h", "7500us", "384KiB"), percentages at
 * most 15 significant digits ("2%"), versions always carry the build ("2.0.0+0"). */
void scenario_units_format_duration(char *buf, size_t n, int64_t ns);
void scenario_units_format_size(char *buf, size_t n, uint64_t bytes);
void scenario_units_format_percent(char *buf, size_t n, double fraction);
void scenario_units_format_version(char *buf, size_t n, const struct scenario_version *v);

/* ---- schema.c: the table-driven binder -------------------------------------------- */

enum scenario_type {
    SCENARIO_T_STRING,   /* char * (owned), any text */
    SCENARIO_T_NAME,     /* char * (owned), 1..64 of [A-Za-z0-9_.-] */
    SCENARIO_T_UINT,     /* uint8/16/32/64_t by field size; plain decimal */
    SCENARIO_T_DURATION, /* int64_t ns */
    SCENARIO_T_SIZE,     /* uint64_t bytes */
    SCENARIO_T_PERCENT,  /* double fraction 0..1 */
    SCENARIO_T_ENUM,     /* an enum (int), index into names */
    SCENARIO_T_VERSION,  /* struct scenario_version */
    SCENARIO_T_BOOL,     /* bool; plain true or false */
    SCENARIO_T_NUMBER,   /* double; a plain decimal number without unit ("2", "1.5") */
    SCENARIO_T_AMOUNT,   /* struct scenario_amount; a percentage 0..100% or a count */
    SCENARIO_T_MAP,      /* struct at offset, bound with sub */
    SCENARIO_T_LIST,     /* pointer at offset, size_t count at count_offset, sub per element */
    SCENARIO_T_VALUES,   /* list of scalars: pointer at offset, size_t count at count_offset,
                            each element described by item (its offset is 0); min and max
                            bound the number of items; def is a flow list ("[100%]") */
    SCENARIO_T_COUNT
};

#define SCENARIO_F_REQUIRED 0x1u /* missing key is an error (no default) */
#define SCENARIO_F_POS                                                                             \
    0x4u /* MAP: store where the map (or, absent, its parent) sits at
                               pos_offset, a struct scenario_pos */
#define SCENARIO_F_UNIQUE                                                                          \
    0x2u /* value differs between elements of the enclosing list;
                                    a list element is addressed by it in --set and visit.
                                    On a VALUES field: its items differ from each other */
/* Scalar that may also be a distribution ("beta(2, 50)"): the text and its position go
 * into the struct scenario_dist at dist_offset, and the scalar itself stays 0. */
#define SCENARIO_F_DIST     0x8u
/* MAP that may be absent: present_offset holds a bool, true when the map is given; when
 * absent the struct stays zeroed (no defaults) and visit skips it. */
#define SCENARIO_F_OPTIONAL 0x10u

struct scenario_schema;

/* A condition on a sibling ENUM key, bound earlier in the same table: the field applies
 * only when that key's value v has bit (1u << v) in mask. A field that does not apply is
 * refused when given ("during applies to kind power-loss only"), stays 0 when absent, and
 * is not visited. key NULL: no condition. */
struct scenario_when {
    const char *key;
    uint32_t mask;
};
#define SCENARIO_WHEN_MAX 2

/* One key. Bounds and defaults are text in the field's own notation ("1B", "64MiB"), so
 * the table reads like the documentation and messages quote it as written. */
struct scenario_field {
    const char *key;
    enum scenario_type type;
    size_t offset, size;               /* in the enclosing struct */
    unsigned flags;                    /* SCENARIO_F_* */
    const char *def;                   /* default; NULL for required keys, maps, lists */
    const char *min, *max;             /* inclusive bounds; NULL = none (lists: min items) */
    const char *const *names;          /* ENUM: value names, NULL-terminated */
    const struct scenario_schema *sub; /* MAP and LIST */
    size_t count_offset;               /* LIST: where the element count goes */
    size_t pos_offset;                 /* MAP with SCENARIO_F_POS: struct scenario_pos */
    size_t dist_offset;                /* SCENARIO_F_DIST: struct scenario_dist */
    size_t present_offset;             /* MAP with SCENARIO_F_OPTIONAL: bool */
    const struct scenario_field *item; /* VALUES: one element (offset 0, its own size) */
    struct scenario_when when[SCENARIO_WHEN_MAX]; /* all must hold */
    const char *doc;                              /* one line for the README reference */
};

#define SCENARIO_SCHEMA_MAX_FIELDS 64 /* keys per map (the binder sizes a table by it) */

struct scenario_schema {
    const char *noun; /* what an element is called in messages ("device group") */
    size_t size;      /* sizeof the struct (list elements) */
    bool has_pos;     /* list elements: store where each sits, a struct scenario_pos at */
    size_t pos_offset;
    size_t n_fields;
    const struct scenario_field *fields;
};

/* Bind map node `map` (NULL: every key takes its default) to the struct at base, which
 * must be zeroed. `where` positions "missing key" messages. Reports every problem; returns
 * 0, SIM_EINVAL after reporting, or SIM_ENOMEM. base may hold allocations either way:
 * release them with scenario_schema_free(). */
int scenario_schema_bind(const struct scenario_schema *sch, const struct scenario_node *map,
                         const struct scenario_node *where, void *base,
                         struct scenario_report *rep);
/* Free what binding allocated inside base (strings, lists); leaves base zeroed there. */
void scenario_schema_free(const struct scenario_schema *sch, void *base);
/* Call fn for every field, in table order, with its canonical value text. Elements of a
 * list are named by their unique field ("devices.mice.count") or else by index
 * ("devices[0].count"). */
void scenario_schema_visit(const struct scenario_schema *sch, const void *base,
                           scenario_visit_fn fn, void *ctx);
/* Copy into dst, from src (both bound with sch), every field whose key map does not give
 * (map NULL: every field): a map that inherits what it leaves out from another one.
 * Strings and distributions are copied; MAP and LIST fields are not supported (asserted).
 * Returns 0 or SIM_ENOMEM (dst then holds what was copied; free it as usual). */
int scenario_schema_inherit(const struct scenario_schema *sch, const struct scenario_node *map,
                            void *dst, const void *src);
/* The field named key, or NULL. */
const struct scenario_field *scenario_schema_find(const struct scenario_schema *sch,
                                                  const char *key);
/* The field flagged SCENARIO_F_UNIQUE, or NULL. */
const struct scenario_field *scenario_schema_unique(const struct scenario_schema *sch);
/* Append to buf (size n) " (did you mean \"x\"? allowed: a, b, c)" for an unknown key or
 * enum name; the suggestion appears when one name is within edit distance 2. */
void scenario_schema_suggest(char *buf, size_t n, const char *got, const char *const *names,
                             size_t n_names);
/* Same for the keys of a schema. */
void scenario_schema_suggest_key(char *buf, size_t n, const char *got,
                                 const struct scenario_schema *sch);
/* Optimal-string-alignment edit distance (a swap of neighbours counts 1), capped at 9. */
unsigned scenario_schema_distance(const char *a, const char *b);

/* The root table of a scenario (scenario.c), for the reference writer. */
const struct scenario_schema *scenario_root_schema(void);

/* ---- override.c: --set -------------------------------------------------------------- */

/* Apply one "key.path=value" (the index-th --set argument, 1-based) to the tree rooted at
 * root (a map). Replaces or inserts the value node. Reports and returns SIM_EINVAL for a
 * malformed argument, an unknown key or a missing list element; SIM_ENOMEM. On failure
 * the tree is unchanged. */
int scenario_override_apply(struct scenario_node *root, const struct scenario_schema *sch,
                            const char *arg, unsigned index, struct scenario_report *rep);

/* Where an override's text sits, for messages and for the nodes it creates: a --set
 * argument (src "--set", line = its number, key_col 1) or a sweep entry of the file (its
 * key's and its value's positions). */
struct scenario_override_at {
    const char *src; /* must outlive the tree */
    unsigned line, key_col, value_col;
};

/* The same with key and value apart (the value parsed as YAML, as --set does), located
 * at `at`: what a sweep point applies. Same results as scenario_override_apply. */
int scenario_override_place(struct scenario_node *root, const struct scenario_schema *sch,
                            const char *key, const char *value,
                            const struct scenario_override_at *at, struct scenario_report *rep);

#endif /* SIM_SCENARIO_SCENARIO_INT_H */
