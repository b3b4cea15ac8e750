/* sim/scenario/scenario_int.h - what the scenario loader's files share (not a public API).
 *
 * The loader runs in four steps, one file each: tree.c turns libyaml events into a small
 * node tree that remembers positions; override.c applies --set arguments to that tree;
 * schema.c binds the tree to a struct by walking a field table; report.c collects the
 * messages, sorted by position. units.c converts "7.5ms", "384KiB", "2%" and friends, and
 * scenario.c holds the run's own field table (the models' comes from the caller, spliced in by
 * scenario_root_init) and the public functions of sim/scenario.h; settings.h is the part of
 * the binder models use to declare their settings.
 */
#ifndef SIM_SCENARIO_SCENARIO_INT_H
#define SIM_SCENARIO_SCENARIO_INT_H

#include "sim/error.h"
#include "sim/scenario.h"
#include "sim/scenario/settings.h"

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

/* ---- schema.c: the table-driven binder (the field types are in settings.h) ------------ */

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
/* The fields of sch in order, each INLINE field replaced by its sub-table's: into out (room
 * for SCENARIO_SCHEMA_MAX_FIELDS). Returns how many. */
size_t scenario_schema_flatten(const struct scenario_schema *sch,
                               const struct scenario_field **out);
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

/* The root table of a scenario loaded with the models' table `models` (scenario.c): the
 * run's keys with the models' in their place. */
struct scenario_root {
    struct scenario_field fields[SCENARIO_SCHEMA_MAX_FIELDS];
    struct scenario_schema schema;
};
const struct scenario_schema *scenario_root_init(struct scenario_root *r,
                                                 const struct scenario_schema *models);

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
