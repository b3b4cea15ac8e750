/* sim/scenario/settings.h - how a model declares its settings, for the scenario binder.
 *
 * A model declares each of its settings once, as one row of a field table beside its
 * configuration struct (models/<model>/<module>.c next to the struct in the .h): key, type,
 * where the value goes, default and bounds written as a user writes them, one line of
 * help, the upstream source of the default and whether that figure is verified. The binder
 * (sim/scenario/schema.c) fills the struct from YAML and --set, checks types, units and
 * bounds, and reports every problem at the key's FILE:LINE:COL; the scenario reference
 * (`dfusim keys`) is written from the same rows. What only the model can judge (several
 * settings together, a board's limits) the model checks itself after binding, with
 * scenario_pos_format() to say where (CONTRIBUTING.md "Adding a setting").
 *
 * sim/ declares no model's keys: the models' root table (image, client, devices, ...) is
 * handed to scenario_load (sim/scenario.h) and bound into struct scenario's model area.
 */
#ifndef SIM_SCENARIO_SETTINGS_H
#define SIM_SCENARIO_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/error.h"

/* Where a key's value sits in the files that were loaded: for messages written after
 * loading by the model that judges it. src is the scenario path or "--set"; it lives as
 * long as the struct scenario. line 0: unknown. */
struct scenario_pos {
    const char *src;
    unsigned line, col;
};

/* "FILE:LINE:COL: KEY", or "KEY" alone when the position is unknown. */
void scenario_pos_format(char *buf, size_t n, const struct scenario_pos *p, const char *key);

/* A per-device parameter given as a distribution (docs/scenarios.md "Distributions"): the
 * text as written, e.g. "beta(2, 50)" or "normal(2%, 1%) in [0%, 20%]", and where it sits.
 * The binder checks only its shape (a distribution name of models/fleet/population.h's
 * grammar, balanced parentheses, an optional "in [LO, HI]"); models/fleet parses it with
 * fleet_population_parse and reports problems at `at`. text NULL: a plain value was given
 * and sits in the key's own field (which is 0 while text is set). */
struct scenario_dist {
    char *text;
    struct scenario_pos at;
};

/* MCUboot image version: major.minor.revision+build. */
struct scenario_version {
    uint8_t major, minor;
    uint16_t revision;
    uint32_t build;
};

/* A share of something ("10%") or a count of it ("50"). */
struct scenario_amount {
    bool is_count;
    uint32_t count; /* is_count */
    double share;   /* !is_count: fraction 0..1 */
};

enum scenario_type {
    SCENARIO_T_STRING,   /* char * (owned), any text */
    SCENARIO_T_NAME,     /* char * (owned), 1..64 of [A-Za-z0-9_.-] */
    SCENARIO_T_UINT,     /* uint8/16/32/64_t by field size; plain decimal */
    SCENARIO_T_DURATION, /* int64_t ns */
    SCENARIO_T_SIZE,     /* uint64_t bytes */
    SCENARIO_T_PERCENT,  /* double fraction 0..1 */
    SCENARIO_T_ENUM,     /* int, index into names */
    SCENARIO_T_VERSION,  /* struct scenario_version */
    SCENARIO_T_BOOL,     /* bool; plain true or false */
    SCENARIO_T_NUMBER,   /* double; a plain decimal number without unit ("2", "1.5") */
    SCENARIO_T_AMOUNT,   /* struct scenario_amount; a percentage 0..100% or a count */
    SCENARIO_T_MAP,      /* struct at offset, bound with sub */
    SCENARIO_T_LIST,     /* pointer at offset, size_t count at count_offset, sub per element */
    SCENARIO_T_VALUES,   /* list of scalars: pointer at offset, size_t count at count_offset,
                            each element described by item (its offset is 0); min and max
                            bound the number of items; def is a flow list ("[100%]") */
    SCENARIO_T_INLINE,   /* no key of its own: the keys of sub sit in the enclosing map, bound
                            into the struct at offset (one YAML map served by two models) */
    SCENARIO_T_COUNT
};

/* Missing key is an error (no default). */
#define SCENARIO_F_REQUIRED 0x1u
/* The value differs between elements of the enclosing list; a list element is addressed
 * by it in --set and visit. On a VALUES field: its items differ from each other. */
#define SCENARIO_F_UNIQUE   0x2u
/* Store where the value (or, absent, its map) sits at pos_offset, a struct scenario_pos:
 * for messages about the key written after binding, by the model that checks it. */
#define SCENARIO_F_POS      0x4u
/* Scalar that may also be a distribution ("beta(2, 50)"): the text and its position go
 * into the struct scenario_dist at dist_offset, and the scalar itself stays 0. */
#define SCENARIO_F_DIST     0x8u
/* MAP that may be absent: present_offset holds a bool, true when the map is given; when
 * absent the struct stays zeroed (no defaults) and visit skips it. */
#define SCENARIO_F_OPTIONAL 0x10u
/* INLINE: offset holds a pointer to the struct, allocated by the binder (sub->size). */
#define SCENARIO_F_INDIRECT 0x20u

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

/* One setting. Bounds and defaults are text in the field's own notation ("1B", "64MiB"),
 * so the table reads like the documentation and messages quote it as written. */
struct scenario_field {
    const char *key;
    enum scenario_type type;
    size_t offset, size;               /* in the enclosing struct */
    unsigned flags;                    /* SCENARIO_F_* */
    const char *def;                   /* default; NULL for required keys, maps, lists */
    const char *min, *max;             /* inclusive bounds; NULL = none (lists: min items) */
    const char *unit;                  /* NUMBER, UINT: what one unit is ("bytes/s") */
    const char *const *names;          /* ENUM: value names, NULL-terminated */
    const struct scenario_schema *sub; /* MAP and LIST */
    size_t count_offset;               /* LIST, VALUES: where the element count goes */
    size_t pos_offset;                 /* SCENARIO_F_POS: struct scenario_pos */
    size_t dist_offset;                /* SCENARIO_F_DIST: struct scenario_dist */
    size_t present_offset;             /* MAP with SCENARIO_F_OPTIONAL: bool */
    const struct scenario_field *item; /* VALUES: one element (offset 0, its own size) */
    struct scenario_when when[SCENARIO_WHEN_MAX]; /* all must hold */
    /* A top-level key whose value fills in what this one leaves out: on a MAP of scalars,
     * each key absent here takes that map's value (a gateway's client: "client"); on a
     * VALUES list of names, an absent list is the unique names of that list's elements
     * (a fault's groups: "devices"). The key must be bound earlier than this one. */
    const char *inherit;
    const char *unless; /* SCENARIO_F_REQUIRED holds unless this sibling key is given */
    const char *doc;    /* one line of help */
    const char *source; /* where the default comes from: upstream repository and file,
                           datasheet and section, PR; NULL for a choice with no figure */
    bool unverified;    /* the default is an assumption no source fixes (docs/model.md
                           "Unverified parameters") */
};

#define SCENARIO_SCHEMA_MAX_FIELDS 64 /* keys per map (the binder sizes a table by it) */

struct scenario_schema {
    const char *noun; /* what an element is called in messages ("device group") */
    size_t size;      /* sizeof the struct (list elements) */
    bool has_pos;     /* list elements: store where each sits, a struct scenario_pos at */
    size_t pos_offset;
    size_t n_fields;
    const struct scenario_field *fields;
    /* Keep which keys were given (in the file, by --set or a sweep) rather than defaulted:
     * a uint64_t at given_offset, bit i for fields[i], read with scenario_given(). */
    bool has_given;
    size_t given_offset;
    /* The models' root table only: run by the loader once a load bound every key without a
     * problem, with what it bound and the scenario's path, for what a model derives from
     * files the scenario names (devices[].firmware.kconfig). Problems go to diag, located
     * in those files; returns 0, SIM_EINVAL or SIM_ENOMEM. NULL: nothing to do. */
    int (*finish)(void *model, const char *path, struct sim_diag *diag);
};

/* Offset and size of a member, for a table row. */
#define SCENARIO_AT(type, member)                                                                  \
    .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

/* The mask bit of an enum value, for a field's `when` condition. */
#define SCENARIO_BIT(e) (1u << (e))

/* A schema of a field table, the elements of a struct `type` called `noun` in messages. */
#define SCENARIO_SCHEMA(noun_, type, table)                                                        \
    {                                                                                              \
        .noun = (noun_), .size = sizeof(type), .n_fields = sizeof(table) / sizeof((table)[0]),     \
        .fields = (table)                                                                          \
    }

/* The same, keeping which keys were given in the uint64_t member `given` of type. */
#define SCENARIO_SCHEMA_GIVEN(noun_, type, table, given)                                           \
    {                                                                                              \
        .noun = (noun_), .size = sizeof(type), .n_fields = sizeof(table) / sizeof((table)[0]),     \
        .fields = (table), .has_given = true, .given_offset = offsetof(type, given)                \
    }

/* Whether key (a field of sch, which has_given) was given for the struct at base, rather
 * than left to its default. */
bool scenario_given(const struct scenario_schema *sch, const void *base, const char *key);

/* The field named key in sch (not below it), or NULL. */
const struct scenario_field *scenario_schema_find(const struct scenario_schema *sch,
                                                  const char *key);

#endif /* SIM_SCENARIO_SETTINGS_H */
