/* tests/test_fw_dfu_lock.c - nRF Desktop DFU lock: claim, release, owner_changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "models/fw/dfu_lock.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fake owners and record sink ------------------------------------------------ */

struct world {
    char calls[64]; /* "A<B " = A's owner_changed told that B took the lock */
    size_t n_records;
    struct fw_record records[32];
};

static struct world W;

static void changed(void *env, const struct fw_dfu_lock_owner *new_owner, int64_t now)
{
    (void)now;
    const char *me = env;
    size_t n = strlen(W.calls);
    snprintf(W.calls + n, sizeof(W.calls) - n, "%s<%s ", me, new_owner->name);
}

static void sink(void *env, const struct fw_record *r)
{
    (void)env;
    assert_true(W.n_records < ARRAY_LEN(W.records));
    W.records[W.n_records++] = *r;
}

static const struct fw_dfu_lock_owner A = {"A", changed, "A"};
static const struct fw_dfu_lock_owner B = {"B", changed, "B"};
static const struct fw_dfu_lock_owner C = {"C", NULL, NULL}; /* no callback */

static const struct fw_dfu_lock_owner *who(char c)
{
    return c == 'A' ? &A : c == 'B' ? &B : c == 'C' ? &C : NULL;
}

/* ---- table: each case is a script of claim (c) / release (r) operations ----------- */

struct op {
    char what; /* 'c' claim, 'r' release */
    char by;   /* 'A', 'B', 'C' */
    int want_rc;
    char want_owner; /* '-' free */
};

struct lock_case {
    const char *name;
    const char *upstream;
    struct op ops[8];
    size_t n_ops;
    const char *want_calls; /* owner_changed calls in order */
};

#define UP_LOCK "UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/util/dfu_lock.c @v2.9.0"

static const struct lock_case cases[] = {
    {"claim of a free lock with no previous owner fires nothing",
     UP_LOCK,
     {{'c', 'A', 0, 'A'}},
     1,
     ""},
    {"claim by the current owner is 0 and changes nothing",
     UP_LOCK,
     {{'c', 'A', 0, 'A'}, {'c', 'A', 0, 'A'}},
     2,
     ""},
    {"claim while another owner holds it is EPERM",
     UP_LOCK,
     {{'c', 'A', 0, 'A'}, {'c', 'B', FW_DFU_LOCK_EPERM, 'A'}},
     2,
     ""},
    {"release by the owner frees the lock",
     UP_LOCK,
     {{'c', 'A', 0, 'A'}, {'r', 'A', 0, '-'}},
     2,
     ""},
    {"release by another owner is EPERM",
     UP_LOCK,
     {{'c', 'A', 0, 'A'}, {'r', 'B', FW_DFU_LOCK_EPERM, 'A'}},
     2,
     ""},
    {"release of a free lock is EPERM", UP_LOCK, {{'r', 'A', FW_DFU_LOCK_EPERM, '-'}}, 1, ""},
    {"claim by a different owner after a release calls the previous owner's owner_changed",
     UP_LOCK,
     {{'c', 'A', 0, 'A'}, {'r', 'A', 0, '-'}, {'c', 'B', 0, 'B'}},
     3,
     "A<B "},
    {"re-claim by the owner that released last fires nothing",
     UP_LOCK,
     {{'c', 'A', 0, 'A'}, {'r', 'A', 0, '-'}, {'c', 'A', 0, 'A'}},
     3,
     ""},
    {"previous owner is never cleared: it fires once per release, then flips",
     UP_LOCK,
     {{'c', 'A', 0, 'A'},
      {'r', 'A', 0, '-'},
      {'c', 'B', 0, 'B'},
      {'r', 'B', 0, '-'},
      {'c', 'B', 0, 'B'},
      {'r', 'B', 0, '-'},
      {'c', 'A', 0, 'A'}},
     7,
     "A<B B<A "},
    {"a refused claim does not fire owner_changed",
     UP_LOCK,
     {{'c', 'A', 0, 'A'},
      {'r', 'A', 0, '-'},
      {'c', 'C', 0, 'C'},
      {'c', 'B', FW_DFU_LOCK_EPERM, 'C'}},
     4,
     "A<C "},
    {"a previous owner without a callback is skipped",
     UP_LOCK,
     {{'c', 'C', 0, 'C'}, {'r', 'C', 0, '-'}, {'c', 'A', 0, 'A'}},
     3,
     ""},
};

static void run_case(const struct lock_case *c)
{
    memset(&W, 0, sizeof(W));
    struct fw_dfu_lock l;
    fw_dfu_lock_init(&l, sink, NULL);
    for (size_t i = 0; i < c->n_ops; i++) {
        const struct op *o = &c->ops[i];
        int rc = o->what == 'c' ? fw_dfu_lock_claim(&l, who(o->by), (int64_t)i)
                                : fw_dfu_lock_release(&l, who(o->by), (int64_t)i);
        const struct fw_dfu_lock_owner *cur = fw_dfu_lock_owner_get(&l);
        char got = cur ? cur->name[0] : '-';
        if (rc != o->want_rc || got != o->want_owner) {
            print_error("case \"%s\" (%s) op %zu: rc %d want %d, owner %c want %c\n", c->name,
                        c->upstream, i, rc, o->want_rc, got, o->want_owner);
            fail();
        }
    }
    if (strcmp(W.calls, c->want_calls) != 0) {
        print_error("case \"%s\": owner_changed calls \"%s\" want \"%s\"\n", c->name, W.calls,
                    c->want_calls);
        fail();
    }
    fw_dfu_lock_fini(&l);
}

static void test_lock_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        run_case(&cases[i]);
}

/* ---- records and argument checks ------------------------------------------------- */

static void test_lock_changes_are_recorded_with_owner_names(void **state)
{
    (void)state;
    memset(&W, 0, sizeof(W));
    struct fw_dfu_lock l;
    fw_dfu_lock_init(&l, sink, NULL);
    assert_int_equal(fw_dfu_lock_claim(&l, &A, 10), 0);
    assert_int_equal(fw_dfu_lock_claim(&l, &A, 11), 0);                 /* no change */
    assert_int_equal(fw_dfu_lock_claim(&l, &B, 12), FW_DFU_LOCK_EPERM); /* no change */
    assert_int_equal(fw_dfu_lock_release(&l, &A, 20), 0);
    assert_int_equal(W.n_records, 2);
    assert_int_equal(W.records[0].kind, FW_RECORD_LOCK);
    assert_string_equal(W.records[0].owner, "A");
    assert_int_equal(W.records[0].at, 10);
    assert_null(W.records[1].owner);
    assert_int_equal(W.records[1].at, 20);
}

static void test_null_owner_is_einval_and_null_sink_is_fine(void **state)
{
    (void)state;
    struct fw_dfu_lock l;
    fw_dfu_lock_init(&l, NULL, NULL);
    assert_int_equal(fw_dfu_lock_claim(&l, NULL, 0), SIM_EINVAL);
    assert_int_equal(fw_dfu_lock_release(&l, NULL, 0), SIM_EINVAL);
    assert_int_equal(fw_dfu_lock_claim(&l, &C, 0), 0);
    assert_ptr_equal(fw_dfu_lock_owner_get(&l), &C);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_table),
        cmocka_unit_test(test_lock_changes_are_recorded_with_owner_names),
        cmocka_unit_test(test_null_owner_is_einval_and_null_sink_is_fine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
