/*
 * test_component.c - the component contract with fake components on a
 * virtual clock: NULL operations, legal and illegal transitions, deferred
 * completions, abort superseding drain, dependencies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/component.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fake component whose operations complete when the test says so. */
struct fake {
	struct component *c;
	int stops, drains, aborts, closes;
	size_t inflight;
};

/* Fake stop_accepting: count. */
static void fake_stop(void *self)
{
	((struct fake *)self)->stops++;
}

/* Fake drain: remember the component; the test completes it. */
static void fake_drain(void *self, struct component *c)
{
	struct fake *f = self;

	f->drains++;
	f->c = c;
}

/* Fake abort: confirms at once. */
static void fake_abort(void *self, struct component *c)
{
	((struct fake *)self)->aborts++;
	component_complete(c, COMPONENT_OP_ABORT);
}

/* Fake close: the test completes it. */
static void fake_close(void *self, struct component *c)
{
	struct fake *f = self;

	f->closes++;
	f->c = c;
}

/* Fake inflight counter. */
static size_t fake_inflight(void *self)
{
	return ((struct fake *)self)->inflight;
}

static const struct component_ops fake_ops = {
	.stop_accepting = fake_stop,
	.drain = fake_drain,
	.abort = fake_abort,
	.close = fake_close,
	.inflight = fake_inflight,
};

static const struct component_ops null_ops = {0};

static const char *const signer_deps[] = {"db", NULL};
static const struct component_desc desc_db = {"db", NULL, "database"};
static const struct component_desc desc_signer = {"relay-signer", signer_deps, "signer"};
static const struct component_desc desc_http = {"http", NULL, "http"};

/* Records completions. */
struct done_log {
	int count[COMPONENT_OP_COUNT_];
};

/* Completion callback: count by operation. */
static void on_done(void *arg, struct component *c, enum component_op op)
{
	(void)c;
	((struct done_log *)arg)->count[op]++;
}

/* Silence logs during tests. */
static void quiet(void *arg, enum log_level l, const char *c, const char *m,
		  const struct log_field *f, size_t n)
{
	(void)arg, (void)l, (void)c, (void)m, (void)f, (void)n;
}

/* Test fixture: a registry on a virtual clock. */
struct fixture {
	struct clock *clk;
	struct component_registry *reg;
};

/* Set up a fixture. */
static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	log_set_hook(quiet, NULL);
	fx->clk = clock_new_virtual(0);
	fx->reg = component_registry_new(fx->clk);
	*state = fx;
	return 0;
}

/* Tear down a fixture. */
static int teardown(void **state)
{
	struct fixture *fx = *state;

	component_registry_free(fx->reg);
	clock_free(fx->clk);
	free(fx);
	log_set_hook(NULL, NULL);
	return 0;
}

/* drain stops accepting first; completion arrives on the next turn only. */
static void test_drain_deferred(void **state)
{
	struct fixture *fx = *state;
	struct fake f = {0};
	struct done_log dl = {0};
	struct component *c = component_register(fx->reg, &desc_http, &fake_ops, &f);

	assert_non_null(c);
	assert_int_equal(component_drain(c, on_done, &dl), 0);
	assert_int_equal(f.stops, 1);
	assert_int_equal(component_state(c), COMPONENT_DRAINING);
	component_complete(c, COMPONENT_OP_DRAIN);
	assert_int_equal(component_state(c), COMPONENT_DRAINED);
	assert_int_equal(dl.count[COMPONENT_OP_DRAIN], 0); /* not inside the call */
	clock_virtual_run_due(fx->clk);
	assert_int_equal(dl.count[COMPONENT_OP_DRAIN], 1);
	component_complete(c, COMPONENT_OP_DRAIN); /* stray: ignored */
	clock_virtual_run_due(fx->clk);
	assert_int_equal(dl.count[COMPONENT_OP_DRAIN], 1);
}

/* A component without operations completes everything at once. */
static void test_null_ops(void **state)
{
	struct fixture *fx = *state;
	struct done_log dl = {0};
	struct component *c = component_register(fx->reg, &desc_db, &null_ops, NULL);

	assert_int_equal(component_inflight(c), 0);
	assert_true(component_ready(c, NULL));
	assert_int_equal(component_drain(c, on_done, &dl), 0);
	clock_virtual_run_due(fx->clk);
	assert_int_equal(component_close(c, on_done, &dl), 0);
	clock_virtual_run_due(fx->clk);
	assert_int_equal(dl.count[COMPONENT_OP_DRAIN], 1);
	assert_int_equal(dl.count[COMPONENT_OP_CLOSE], 1);
	assert_int_equal(component_state(c), COMPONENT_CLOSED);
	/* close is idempotent */
	assert_int_equal(component_close(c, on_done, &dl), 0);
	clock_virtual_run_due(fx->clk);
	assert_int_equal(dl.count[COMPONENT_OP_CLOSE], 2);
}

/* abort supersedes a pending drain: only the abort completion arrives. */
static void test_abort_supersedes_drain(void **state)
{
	struct fixture *fx = *state;
	struct fake f = {.inflight = 3};
	struct done_log dl = {0};
	struct component *c = component_register(fx->reg, &desc_http, &fake_ops, &f);

	assert_int_equal(component_inflight(c), 3);
	assert_int_equal(component_drain(c, on_done, &dl), 0);
	assert_int_equal(component_abort(c, on_done, &dl), 0);
	assert_int_equal(component_state(c), COMPONENT_ABORTED);
	component_complete(c, COMPONENT_OP_DRAIN); /* late drain: dropped */
	clock_virtual_run_due(fx->clk);
	assert_int_equal(dl.count[COMPONENT_OP_DRAIN], 0);
	assert_int_equal(dl.count[COMPONENT_OP_ABORT], 1);
	assert_int_equal(f.aborts, 1);
	/* drain after abort is illegal; close is allowed */
	assert_int_equal(component_drain(c, on_done, &dl), -1);
	assert_int_equal(component_close(c, on_done, &dl), 0);
	component_complete(c, COMPONENT_OP_CLOSE);
	clock_virtual_run_due(fx->clk);
	assert_int_equal(component_state(c), COMPONENT_CLOSED);
}

/* Illegal transitions are refused and leave the state alone. */
static void test_illegal(void **state)
{
	struct fixture *fx = *state;
	struct fake f = {0};
	struct done_log dl = {0};
	struct component *c = component_register(fx->reg, &desc_http, &fake_ops, &f);

	assert_int_equal(component_close(c, on_done, &dl), 0);
	assert_int_equal(component_state(c), COMPONENT_CLOSING);
	assert_int_equal(component_close(c, on_done, &dl), -1);
	assert_int_equal(component_drain(c, on_done, &dl), -1);
	assert_int_equal(component_stop_accepting(c), -1);
	assert_int_equal(component_state(c), COMPONENT_CLOSING);
	assert_false(component_ready(c, NULL));
}

/* What the transition hook saw. */
struct transitions {
	char lines[8][64];
	int n;
};

/* Log hook: record "component from->to" of each state change. */
static void record_transition(void *arg, enum log_level l, const char *comp, const char *msg,
			      const struct log_field *f, size_t n)
{
	struct transitions *t = arg;

	(void)l;
	if (strcmp(msg, "component state changed") != 0 || n < 2 || t->n >= 8)
		return;
	snprintf(t->lines[t->n++], sizeof(t->lines[0]), "%s %s->%s", comp, f[0].v.s, f[1].v.s);
}

/* The full legal path; each transition is logged under the component's name. */
static void test_transitions_logged(void **state)
{
	struct fixture *fx = *state;
	struct fake f = {0};
	struct done_log dl = {0};
	struct transitions tr = {0};
	struct component *c = component_register(fx->reg, &desc_signer, &fake_ops, &f);

	log_set_hook(record_transition, &tr);
	assert_int_equal(component_stop_accepting(c), 0);
	assert_int_equal(component_stop_accepting(c), 0); /* idempotent, no new line */
	assert_int_equal(component_drain(c, on_done, &dl), 0);
	component_complete(c, COMPONENT_OP_DRAIN);
	assert_int_equal(component_close(c, on_done, &dl), 0);
	component_complete(c, COMPONENT_OP_CLOSE);
	clock_virtual_run_due(fx->clk);
	assert_int_equal(component_abort(c, on_done, &dl), 0); /* closed: nothing to abort */
	clock_virtual_run_due(fx->clk);
	assert_int_equal(tr.n, 4);
	assert_string_equal(tr.lines[0], "relay-signer running->draining");
	assert_string_equal(tr.lines[1], "relay-signer draining->drained");
	assert_string_equal(tr.lines[2], "relay-signer drained->closing");
	assert_string_equal(tr.lines[3], "relay-signer closing->closed");
	assert_int_equal(dl.count[COMPONENT_OP_DRAIN], 1);
	assert_int_equal(dl.count[COMPONENT_OP_CLOSE], 1);
	assert_int_equal(dl.count[COMPONENT_OP_ABORT], 1);
	assert_int_equal(f.stops, 1);
	assert_int_equal(f.aborts, 0);
}

/* Abort from running is legal and logged; a second abort while aborting is not. */
static void test_abort_from_running(void **state)
{
	struct fixture *fx = *state;
	struct fake f = {0};
	struct done_log dl = {0};
	struct transitions tr = {0};
	struct component *c = component_register(fx->reg, &desc_http, &null_ops, &f);

	log_set_hook(record_transition, &tr);
	assert_int_equal(component_abort(c, on_done, &dl), 0);
	assert_int_equal(component_abort(c, on_done, &dl), -1); /* one outstanding */
	clock_virtual_run_due(fx->clk);
	assert_int_equal(component_state(c), COMPONENT_ABORTED);
	assert_int_equal(component_stop_accepting(c), -1);
	assert_int_equal(dl.count[COMPONENT_OP_ABORT], 1);
	assert_int_equal(tr.n, 2);
	assert_string_equal(tr.lines[0], "http running->aborting");
	assert_string_equal(tr.lines[1], "http aborting->aborted");
}

/* Names are unique; dependencies are transitive. */
static void test_registry(void **state)
{
	struct fixture *fx = *state;

	assert_non_null(component_register(fx->reg, &desc_db, &null_ops, NULL));
	assert_non_null(component_register(fx->reg, &desc_signer, &null_ops, NULL));
	assert_null(component_register(fx->reg, &desc_db, &null_ops, NULL));
	assert_int_equal(component_count(fx->reg), 2);
	assert_string_equal(component_name(component_find(fx->reg, "relay-signer")),
			    "relay-signer");
	assert_null(component_find(fx->reg, "nope"));
	assert_true(component_depends_on(fx->reg, "relay-signer", "db"));
	assert_false(component_depends_on(fx->reg, "db", "relay-signer"));
}

#define MANY 100 /* more components than any fixed-size table would hold */

/* A chain c0 -> c1 -> ... -> c99 of registered components. */
struct chain {
	char names[MANY][8];
	const char *deps[MANY][2];
	struct component_desc descs[MANY];
};

/* Fill a chain: each ci depends on c(i+1), the last on nothing. */
static void chain_fill(struct chain *ch)
{
	for (int i = 0; i < MANY; i++) {
		snprintf(ch->names[i], sizeof(ch->names[i]), "c%d", i);
		ch->deps[i][0] = i + 1 < MANY ? ch->names[i + 1] : NULL;
		ch->deps[i][1] = NULL;
	}
	for (int i = 0; i < MANY; i++)
		ch->descs[i] = (struct component_desc){ch->names[i], ch->deps[i], "chain"};
}

/* Dependencies are found among every registered component, however many. */
static void test_depends_many(void **state)
{
	struct fixture *fx = *state;
	static struct chain ch;

	chain_fill(&ch);
	/* register in reverse so the components that start chains sit past the 64th slot */
	for (int i = MANY - 1; i >= 0; i--)
		assert_non_null(component_register(fx->reg, &ch.descs[i], &null_ops, NULL));
	assert_int_equal(component_count(fx->reg), MANY);
	assert_true(component_depends_on(fx->reg, "c0", "c1"));
	assert_true(component_depends_on(fx->reg, "c1", "c2"));
	assert_true(component_depends_on(fx->reg, "c0", "c99"));
	assert_false(component_depends_on(fx->reg, "c2", "c1"));
	assert_false(component_depends_on(fx->reg, "c0", "nope"));
}

/* The description-level search follows chains of any length too. */
static void test_desc_depends_long(void **state)
{
	static struct chain ch;
	static const struct component_desc *descs[MANY];

	(void)state;
	chain_fill(&ch);
	for (int i = 0; i < MANY; i++)
		descs[i] = &ch.descs[i];
	assert_true(component_desc_depends_on(descs, MANY, "c0", "c99"));
	assert_false(component_desc_depends_on(descs, MANY, "c99", "c0"));
}

/* A dependency cycle ends the search instead of looping. */
static void test_depends_cycle(void **state)
{
	static const char *const a_deps[] = {"b", NULL}, *const b_deps[] = {"a", NULL};
	static const struct component_desc a = {"a", a_deps, "a"}, b = {"b", b_deps, "b"};
	struct fixture *fx = *state;

	assert_non_null(component_register(fx->reg, &a, &null_ops, NULL));
	assert_non_null(component_register(fx->reg, &b, &null_ops, NULL));
	assert_true(component_depends_on(fx->reg, "a", "b"));
	assert_true(component_depends_on(fx->reg, "a", "a"));
	assert_false(component_depends_on(fx->reg, "a", "c"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_drain_deferred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_supersedes_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_illegal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depends_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depends_cycle, setup, teardown),
		cmocka_unit_test(test_desc_depends_long),
		cmocka_unit_test_setup_teardown(test_transitions_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_from_running, setup, teardown),
	};
	return cmocka_run_group_tests_name("component", tests, NULL, NULL);
}
