/*
 * test_plan_run.c - the plan interpreter on a virtual clock with fake
 * components: the seed system's drain behaviours (pre-drain, http drain,
 * signer drain under one shared budget, db close in the margin), the
 * final line, second-signal escalation and skipped components.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/component.h"
#include "core/diag.h"
#include "core/env.h"
#include "plan/plan.h"
#include "plan/plan_run.h"
#include "test_plan_fake.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_MS (3600LL * 1000)

/* Everything one run needs. */
struct rig {
	struct clock *clk;
	struct component_registry *reg;
	struct plan p;
	struct plan_run *r;
	struct fake http, signer, db;
	int ready_calls;
	bool ready;
	int64_t ready_at, done_at;
	bool done, warning;
	int phase_ends;
	uint64_t db_drops; /* what the db fake's close drops */
};

/* Hook: the work a component dropped so far: the db fake's, once it was told to close. */
static uint64_t rig_dropped(void *arg, const char *component)
{
	struct rig *g = arg;

	return strcmp(component, "db") == 0 && g->db.closes > 0 ? g->db_drops : 0;
}

/* Hook: readiness. */
static void rig_set_ready(void *arg, bool ready)
{
	struct rig *g = arg;

	g->ready_calls++;
	g->ready = ready;
	g->ready_at = clock_now_ms(g->clk);
}

/* Hook: a phase ended. */
static void rig_phase_end(void *arg, const char *phase, enum plan_outcome o, int64_t ms)
{
	(void)phase;
	(void)o;
	(void)ms;
	((struct rig *)arg)->phase_ends++;
}

/* Hook: the plan finished. */
static void rig_done(void *arg, bool warning)
{
	struct rig *g = arg;

	g->done = true;
	g->warning = warning;
	g->done_at = clock_now_ms(g->clk);
}

/* Hook: the exit code the daemon gives a finished plan. */
static int rig_exit_code(void *arg, bool warning)
{
	(void)arg;
	return warning ? 3 : 0;
}

/* Load yaml (NULL: the default plan) with env pairs, register fakes, build the runner. */
static void rig_init(struct rig *g, const char *yaml, const char *const *envs, bool fakes)
{
	struct diag d = {0};
	struct env e;
	size_t n;
	const struct component_desc *const *descs = fake_descs(&n);
	const struct plan_hooks hooks = {.set_ready = rig_set_ready,
					 .on_phase_end = rig_phase_end,
					 .on_done = rig_done,
					 .dropped = rig_dropped,
					 .exit_code = rig_exit_code,
					 .arg = g};

	memset(g, 0, sizeof(*g));
	rec_start();
	env_init(&e, 0);
	for (; envs != NULL && *envs != NULL; envs++)
		assert_int_equal(env_put(&e, *envs), 0);
	g->clk = clock_new_virtual(0);
	g->reg = component_registry_new(g->clk);
	if (yaml == NULL)
		assert_int_equal(plan_load_default(&g->p, &d), 0);
	else
		assert_int_equal(plan_load_string(&g->p, "t.yaml", yaml, strlen(yaml), &d), 0);
	plan_apply_env(&g->p, &e, &d);
	assert_int_equal(plan_validate(&g->p, descs, n, &d), 0);
	if (fakes) {
		fake_register(&g->http, g->reg, g->clk, "http");
		fake_register(&g->signer, g->reg, g->clk, "relay-signer");
		fake_register(&g->db, g->reg, g->clk, "db");
	}
	g->r = plan_run_new(&g->p, g->reg, g->clk, &hooks);
	assert_non_null(g->r);
	diag_clear(&d);
	env_clear(&e);
}

/* Free everything. */
static void rig_free(struct rig *g)
{
	plan_run_free(g->r);
	component_registry_free(g->reg);
	fake_release(&g->http);
	fake_release(&g->signer);
	fake_release(&g->db);
	plan_free(&g->p);
	clock_free(g->clk);
	rec_stop();
}

/* Start and run until the plan is done (at most limit_ms of virtual time). */
static void rig_run(struct rig *g, int64_t limit_ms)
{
	plan_run_start(g->r);
	clock_virtual_advance(g->clk, limit_ms);
	assert_true(g->done);
}

static bool rig_field(const struct rec_line *l, const char *kv);

/* Outcome of phase i. */
static enum plan_outcome rig_outcome(struct rig *g, size_t i)
{
	return plan_run_outcome(g->r, i);
}

/* The default plan, every component quick: all completed, 10 s (the pre-drain). */
static void test_default_all_complete(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	rig_run(&g, 10 * HOUR_MS);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(rig_outcome(&g, i), PLAN_OUTCOME_COMPLETED);
	assert_false(g.warning);
	assert_int_equal(g.done_at, 10000);
	assert_string_equal(rec_find("shutdown complete")->msg, "shutdown complete");
	assert_int_equal(rec_find("shutdown complete")->level, LOG_LEVEL_INFO);
	assert_true(rig_field(rec_find("shutdown complete"), "exit_code=0"));
	assert_int_equal(g.phase_ends, 4);
	assert_false(g.signer.alive);
	assert_false(g.db.alive);
	rig_free(&g);
}

/* Pre-drain flips readiness first, then waits the whole budget. */
static void test_predrain_flips_before_wait(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	plan_run_start(g.r);
	assert_int_equal(g.ready_calls, 1); /* at once, before any time passes */
	assert_false(g.ready);
	assert_int_equal(g.ready_at, 0);
	clock_virtual_advance(g.clk, 9999);
	assert_int_equal(g.http.stops, 0); /* still waiting */
	clock_virtual_advance(g.clk, 1);
	assert_int_equal(g.http.stop_at, 10000);
	assert_int_equal(plan_run_duration_ms(g.r, 0), 10000);
	clock_virtual_advance(g.clk, HOUR_MS);
	rig_free(&g);
}

/* A zero pre-drain returns at once. */
static void test_predrain_zero(void **state)
{
	static const char *const env[] = {"SHUTDOWN_PRE_DRAIN_SECS=0", NULL};
	struct rig g;

	(void)state;
	rig_init(&g, NULL, env, true);
	plan_run_start(g.r);
	assert_int_equal(rig_outcome(&g, 0), PLAN_OUTCOME_COMPLETED);
	assert_int_equal(plan_run_duration_ms(g.r, 0), 0);
	assert_false(g.ready);
	assert_int_equal(g.http.stop_at, 0);
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_true(g.done);
	assert_int_equal(g.done_at, 0);
	rig_free(&g);
}

/* HTTP drain inside its budget: completed, no abort. */
static void test_http_drain_completes(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.http.drain_ms = 44999;
	rig_run(&g, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 1), PLAN_OUTCOME_COMPLETED);
	assert_int_equal(plan_run_duration_ms(g.r, 1), 44999);
	assert_int_equal(g.http.aborts, 0);
	rig_free(&g);
}

/* HTTP drain past its budget: aborted, really stopped before the next phase. */
static void test_http_drain_aborted(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.http.drain_ms = FAKE_HANG;
	rig_run(&g, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 1), PLAN_OUTCOME_TIMED_OUT_ABORTED);
	assert_int_equal(plan_run_duration_ms(g.r, 1), 45000);
	assert_int_equal(g.http.aborts, 1);
	assert_false(g.http.alive);
	assert_int_equal(component_state(g.http.c), COMPONENT_ABORTED);
	assert_true(g.signer.stop_at >= g.http.abort_at);
	assert_true(g.warning);
	assert_non_null(rec_find("shutdown complete with warning: "));
	assert_true(rig_field(rec_find("shutdown complete with warning: "), "exit_code=3"));
	rig_free(&g);
}

/* Signer: both steps inside the budget: completed, abort never called. */
static void test_signer_both_inside(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.signer.drain_ms = 4000;
	g.signer.close_ms = 5000;
	rig_run(&g, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 2), PLAN_OUTCOME_COMPLETED);
	assert_int_equal(plan_run_duration_ms(g.r, 2), 9000);
	assert_int_equal(g.signer.aborts, 0);
	rig_free(&g);
}

/* Signer: the drain hangs: aborted at the budget. */
static void test_signer_first_hangs(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.signer.drain_ms = FAKE_HANG;
	rig_run(&g, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 2), PLAN_OUTCOME_TIMED_OUT_ABORTED);
	assert_int_equal(plan_run_duration_ms(g.r, 2), 10000);
	assert_int_equal(g.signer.aborts, 1);
	assert_int_equal(g.signer.closes, 0);
	rig_free(&g);
}

/* Signer: the close hangs: aborted at the budget. */
static void test_signer_second_hangs(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.signer.drain_ms = 1000;
	g.signer.close_ms = FAKE_HANG;
	rig_run(&g, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 2), PLAN_OUTCOME_TIMED_OUT_ABORTED);
	assert_int_equal(plan_run_duration_ms(g.r, 2), 10000);
	assert_int_equal(g.signer.closes, 1);
	assert_int_equal(g.signer.aborts, 1);
	rig_free(&g);
}

/* Signer: both steps take an hour: the phase returns at its budget. */
static void test_signer_both_hour(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.signer.drain_ms = HOUR_MS;
	g.signer.close_ms = HOUR_MS;
	rig_run(&g, 3 * HOUR_MS);
	assert_int_equal(plan_run_duration_ms(g.r, 2), 10000);
	assert_int_equal(g.done_at, 10000 + 0 + 10000);
	rig_free(&g);
}

/* Signer: 8 s + 8 s under one 10 s budget times out at 10 s, not 16 s. */
static void test_signer_shared_budget(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.signer.drain_ms = 8000;
	g.signer.close_ms = 8000;
	rig_run(&g, HOUR_MS);
	assert_int_equal(g.signer.drain_done_at, 18000); /* the drain did finish */
	assert_int_equal(rig_outcome(&g, 2), PLAN_OUTCOME_TIMED_OUT_ABORTED);
	assert_int_equal(plan_run_duration_ms(g.r, 2), 10000);
	rig_free(&g);
}

/* DB close inside the margin: completed. */
static void test_db_close_inside(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.db.close_ms = 9999;
	rig_run(&g, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 3), PLAN_OUTCOME_COMPLETED);
	assert_false(g.warning);
	rig_free(&g);
}

/* DB close hangs: timed out at the margin; the final line is still written, as a warning. */
static void test_db_close_hangs(void **state)
{
	struct rig g;
	const struct rec_line *l;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.db.close_ms = FAKE_HANG;
	rig_run(&g, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 3), PLAN_OUTCOME_TIMED_OUT);
	assert_int_equal(plan_run_duration_ms(g.r, 3), 10000);
	assert_int_equal(g.done_at, 20000); /* 10 s pre-drain + 10 s margin, no more */
	l = rec_find("shutdown complete");
	assert_non_null(l);
	assert_int_equal(l->level, LOG_LEVEL_WARN);
	assert_non_null(strstr(l->msg, "cleanup=timed_out(10000ms)"));
	rig_free(&g);
}

/* A second signal aborts the current phase and skips to the last one. */
static void test_second_signal_skip_to_last(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.http.drain_ms = FAKE_HANG;
	plan_run_start(g.r);
	clock_virtual_advance(g.clk, 12000); /* 2 s into http-drain */
	plan_run_signal(g.r);
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_true(g.done);
	assert_int_equal(rig_outcome(&g, 1), PLAN_OUTCOME_ESCALATED);
	assert_int_equal(plan_run_duration_ms(g.r, 1), 2000);
	assert_int_equal(rig_outcome(&g, 2), PLAN_OUTCOME_SKIPPED);
	assert_int_equal(rig_outcome(&g, 3), PLAN_OUTCOME_COMPLETED);
	assert_int_equal(g.http.aborts, 1);
	assert_int_equal(g.signer.stops, 0);
	assert_int_equal(g.done_at, 12000);
	assert_true(g.warning);
	rig_free(&g);
}

static const char plan_exit_now[] =
	"version: 1\nceiling: 60s\nteardown_margin: 5s\non_second_signal: exit-now\n"
	"phases:\n"
	"  - {name: pre, budget: 10s, steps: [{readiness: fail}, {wait: rest-of-budget}]}\n"
	"  - {name: drain, budget: 20s, steps: [{drain: http}], on_timeout: exit-now}\n"
	"  - {name: cleanup, budget: teardown-margin, steps: [{close: relay-signer}, {close: "
	"db}]}\n";

/* on_second_signal: exit-now skips everything left. */
static void test_second_signal_exit_now(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, plan_exit_now, NULL, true);
	plan_run_start(g.r);
	clock_virtual_advance(g.clk, 3000);
	plan_run_signal(g.r);
	clock_virtual_advance(g.clk, 0); /* the abort confirmations, on the next turn */
	assert_true(g.done);
	assert_int_equal(rig_outcome(&g, 0), PLAN_OUTCOME_ESCALATED);
	assert_int_equal(rig_outcome(&g, 1), PLAN_OUTCOME_SKIPPED);
	assert_int_equal(rig_outcome(&g, 2), PLAN_OUTCOME_SKIPPED);
	assert_int_equal(g.db.closes, 0);
	assert_int_equal(g.http.aborts + g.signer.aborts + g.db.aborts, 3);
	assert_true(rig_field(rec_find("escalation: aborting"), "targets=http relay-signer db"));
	rig_free(&g);
}

/* on_timeout: exit-now ends the plan at the budget. */
static void test_timeout_exit_now(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, plan_exit_now, NULL, true);
	g.http.drain_ms = FAKE_HANG;
	rig_run(&g, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 1), PLAN_OUTCOME_TIMED_OUT);
	assert_int_equal(rig_outcome(&g, 2), PLAN_OUTCOME_SKIPPED);
	assert_int_equal(g.done_at, 30000);
	rig_free(&g);
}

/* on_second_signal: ignore keeps running; a signal before start does nothing. */
static void test_second_signal_ignore(void **state)
{
	static const char yaml[] =
		"version: 1\nceiling: 60s\nteardown_margin: 5s\non_second_signal: ignore\n"
		"phases:\n"
		"  - {name: pre, budget: 10s, steps: [{readiness: fail}, {wait: 3s}, {log: hi}]}\n";
	struct rig g;

	(void)state;
	rig_init(&g, yaml, NULL, false);
	plan_run_signal(g.r);
	plan_run_start(g.r);
	plan_run_signal(g.r);
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 0), PLAN_OUTCOME_COMPLETED);
	assert_int_equal(g.done_at, 3000);
	assert_non_null(rec_find("hi"));
	rig_free(&g);
}

/* An abort that never confirms is bounded by abort_wait; the plan goes on. */
static void test_abort_unconfirmed(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.http.drain_ms = FAKE_HANG;
	g.http.abort_hangs = true;
	rig_run(&g, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 1), PLAN_OUTCOME_ABORT_UNCONFIRMED);
	assert_int_equal(plan_run_duration_ms(g.r, 1), 45000 + 5000);
	assert_int_equal(rig_outcome(&g, 3), PLAN_OUTCOME_COMPLETED);
	rig_free(&g);
}

/* No components registered: every step is skipped, the plan ends at once. */
static void test_missing_components(void **state)
{
	static const char *const env[] = {"SHUTDOWN_PRE_DRAIN_SECS=0", NULL};
	struct rig g;

	(void)state;
	rig_init(&g, NULL, env, false);
	plan_run_start(g.r);
	assert_true(g.done);
	assert_false(g.warning);
	assert_int_equal(g.done_at, 0);
	assert_non_null(rec_find("component not registered; step skipped"));
	rig_free(&g);
}

/* The i-th line whose message is msg (0-based), or NULL. */
static const struct rec_line *rig_nth(const char *msg, size_t nth)
{
	for (size_t i = 0; i < rec_count(); i++)
		if (strcmp(rec_at(i)->msg, msg) == 0 && nth-- == 0)
			return rec_at(i);
	return NULL;
}

/* Whether line l has the field text " key=value" (exactly, up to the next field). */
static bool rig_field(const struct rec_line *l, const char *kv)
{
	const char *at = l != NULL ? strstr(l->fields, kv) : NULL;
	size_t len = strlen(kv);

	return at != NULL && at[-1] == ' ' && (at[len] == '\0' || at[len] == ' ');
}

/*
 * Budget warning (default 80 %): the signer drain hangs with 7 requests in
 * flight; at 8 s of its 10 s one warning names the step and the work, and
 * never again; the pre-drain's rest-of-budget wait never warns.
 */
static void test_budget_warning(void **state)
{
	const struct rec_line *w;
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.signer.drain_ms = FAKE_HANG;
	g.signer.inflight = 7;
	plan_run_start(g.r);
	clock_virtual_advance(g.clk, 10000 + 7999); /* pre-drain over; signer-drain at 7.999 s */
	assert_int_equal(rec_count_msg("phase budget nearly used"), 0);
	clock_virtual_advance(g.clk, 1);
	assert_int_equal(rec_count_msg("phase budget nearly used"), 1);
	w = rec_find("phase budget nearly used");
	assert_int_equal(w->level, LOG_LEVEL_WARN);
	assert_string_equal(w->phase, "signer-drain");
	assert_true(rig_field(w, "used_pct=80"));
	assert_true(rig_field(w, "left_ms=2000"));
	assert_true(rig_field(w, "waiting_on=drain relay-signer"));
	assert_true(rig_field(w, "inflight=7"));
	assert_true(rig_field(w, "inflight_by_component=relay-signer=7"));
	assert_true(rig_field(w, "on_timeout=abort"));
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_true(g.done);
	assert_int_equal(rec_count_msg("phase budget nearly used"), 1);
	rig_free(&g);
}

/* A phase waiting out a timed wait past the mark warns when the wait ends on a stuck drain. */
static void test_budget_warning_after_wait(void **state)
{
	static const char yaml[] =
		"version: 1\nceiling: 2m\nteardown_margin: 10s\n"
		"budget_warning: 50%\nphases:\n"
		"  - name: a\n    budget: 10s\n"
		"    steps: [{readiness: fail}, {wait: 7s}, {stop-accepting: http},\n"
		"            {drain: http}]\n"
		"  - name: b\n    budget: 10s\n"
		"    steps: [{wait: 9s}]\n"
		"  - {name: c, budget: teardown-margin, steps: []}\n";
	struct rig g;

	(void)state;
	rig_init(&g, yaml, NULL, true);
	g.http.drain_ms = 1500; /* from 7 s to 8.5 s */
	plan_run_start(g.r);
	clock_virtual_advance(g.clk, 6999);
	assert_int_equal(rec_count_msg("phase budget nearly used"), 0); /* the wait is planned */
	clock_virtual_advance(g.clk, 2); /* the same moment as the wait's end, or 1 ms later */
	assert_int_equal(rec_count_msg("phase budget nearly used"), 1); /* 70 %, on the drain */
	assert_true(rig_field(rec_find("phase budget nearly used"), "used_pct=70"));
	assert_true(rig_field(rec_find("phase budget nearly used"), "waiting_on=drain http"));
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_true(g.done);
	assert_false(g.warning);
	assert_int_equal(rec_count_msg("phase budget nearly used"), 1); /* b only waits */
	rig_free(&g);
}

/* budget_warning: off: a hung drain times out without the warning. */
static void test_budget_warning_off(void **state)
{
	static const char yaml[] =
		"version: 1\nceiling: 2m\nteardown_margin: 10s\n"
		"budget_warning: off\nphases:\n"
		"  - {name: a, budget: 10s,\n"
		"     steps: [{readiness: fail}, {stop-accepting: http}, {drain: http}]}\n"
		"  - {name: c, budget: teardown-margin, steps: []}\n";
	struct rig g;

	(void)state;
	rig_init(&g, yaml, NULL, true);
	g.http.drain_ms = FAKE_HANG;
	rig_run(&g, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 0), PLAN_OUTCOME_TIMED_OUT);
	assert_int_equal(rec_count_msg("phase budget nearly used"), 0);
	rig_free(&g);
}

/* The start line names every effective budget with its origin (file, env, margin). */
static void test_log_plan_started(void **state)
{
	static const char yaml[] =
		"version: 1\nceiling: 90s\nceiling_env: CEIL\nteardown_margin: 5s\n"
		"phases:\n"
		"  - {name: pre, budget: 3s, env: PRE, steps: [{readiness: fail}]}\n"
		"  - {name: drain, budget: 20s, env: DRAIN, steps: [{drain: http}]}\n"
		"  - {name: end, budget: teardown-margin, steps: [{close: relay-signer}, {close: "
		"db}]}\n";
	static const char *const env[] = {"DRAIN=7", "CEIL=60", NULL};
	const struct rec_line *l;
	struct rig g;

	(void)state;
	rig_init(&g, yaml, env, true);
	rig_run(&g, HOUR_MS);
	assert_int_equal(rec_count_msg("plan started"), 1);
	l = rec_at(0);
	assert_string_equal(l->msg, "plan started");
	assert_non_null(strstr(l->fields, " budgets=pre=3000ms(file) drain=7000ms(env DRAIN) "
					  "end=5000ms(margin) "));
	assert_true(rig_field(l, "ceiling_ms=60000"));
	assert_true(rig_field(l, "ceiling_origin=env"));
	assert_true(rig_field(l, "margin_ms=5000"));
	assert_true(rig_field(l, "margin_origin=file"));
	assert_true(rig_field(l, "total_ms=15000"));
	assert_true(rig_field(l, "mode=warn"));
	rig_free(&g);
}

/* The built-in default plan's budgets say "default" in the start line. */
static void test_log_origin_default(void **state)
{
	static const char *const env[] = {"SHUTDOWN_SIGNER_DRAIN_SECS=4", NULL};
	const struct rec_line *l;
	struct rig g;

	(void)state;
	rig_init(&g, NULL, env, true);
	rig_run(&g, HOUR_MS);
	l = rec_find("plan started");
	assert_non_null(strstr(l->fields, " budgets=pre-drain=10000ms(default) "
					  "http-drain=45000ms(default) "
					  "signer-drain=4000ms(env SHUTDOWN_SIGNER_DRAIN_SECS) "
					  "cleanup=10000ms(margin) "));
	assert_true(rig_field(l, "ceiling_origin=default"));
	assert_true(rig_field(l, "margin_origin=default"));
	rig_free(&g);
}

/* One line per phase start and end, in plan order, with outcome and duration. */
static void test_log_phases(void **state)
{
	static const char *const names[] = {"pre-drain", "http-drain", "signer-drain", "cleanup"};
	static const char *const outcomes[] = {"completed", "timed_out_aborted", "completed",
					       "timed_out"};
	static const char *const durations[] = {"duration_ms=10000", "duration_ms=45000",
						"duration_ms=3000", "duration_ms=10000"};
	static const char *const budgets[] = {"budget_ms=10000", "budget_ms=45000",
					      "budget_ms=10000", "budget_ms=10000"};
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.http.drain_ms = FAKE_HANG;
	g.signer.drain_ms = 3000;
	g.db.close_ms = FAKE_HANG;
	rig_run(&g, HOUR_MS);
	assert_int_equal(rec_count_msg("phase started"), 4);
	assert_int_equal(rec_count_msg("phase finished"), 4);
	for (size_t i = 0; i < 4; i++) {
		const struct rec_line *s = rig_nth("phase started", i);
		const struct rec_line *e = rig_nth("phase finished", i);

		assert_string_equal(s->phase, names[i]);
		assert_true(rig_field(s, budgets[i]));
		assert_true(s < e && (i == 3 || e < rig_nth("phase started", i + 1)));
		assert_string_equal(e->phase, names[i]);
		assert_string_equal(e->outcome, outcomes[i]);
		assert_true(rig_field(e, durations[i]));
		assert_int_equal(e->level, i == 0 || i == 2 ? LOG_LEVEL_INFO : LOG_LEVEL_WARN);
	}
	rig_free(&g);
}

/* The final line is the last one, written once, and lists every phase's outcome. */
static void test_log_final_line(void **state)
{
	const struct rec_line *l;
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.signer.drain_ms = FAKE_HANG;
	rig_run(&g, HOUR_MS);
	l = rec_at(rec_count() - 1);
	assert_string_equal(l->msg,
			    "shutdown complete with warning: pre-drain=completed(10000ms), "
			    "http-drain=completed(0ms), signer-drain=timed_out_aborted(10000ms), "
			    "cleanup=completed(0ms)");
	assert_int_equal(l->level, LOG_LEVEL_WARN);
	assert_true(rig_field(l, "duration_ms=20000"));
	assert_int_equal(rec_count_msg(l->msg), 1);
	rig_free(&g);

	rig_init(&g, NULL, NULL, true);
	rig_run(&g, HOUR_MS);
	l = rec_at(rec_count() - 1);
	assert_string_equal(l->msg, "shutdown complete");
	assert_int_equal(l->level, LOG_LEVEL_INFO);
	assert_non_null(strstr(l->fields, " phases=pre-drain=completed(10000ms), "
					  "http-drain=completed(0ms), signer-drain=completed(0ms), "
					  "cleanup=completed(0ms)"));
	rig_free(&g);
}

/* A second signal during the signer drain aborts the signer, then cleanup runs. */
static void test_second_signal_in_signer(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.signer.drain_ms = FAKE_HANG;
	plan_run_start(g.r);
	clock_virtual_advance(g.clk, 13000); /* 3 s into signer-drain */
	assert_int_equal(g.signer.drains, 1);
	plan_run_signal(g.r);
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_true(g.done);
	assert_int_equal(rig_outcome(&g, 2), PLAN_OUTCOME_ESCALATED);
	assert_int_equal(plan_run_duration_ms(g.r, 2), 3000);
	assert_int_equal(g.signer.aborts, 1);
	assert_false(g.signer.alive);
	assert_int_equal(rig_outcome(&g, 3), PLAN_OUTCOME_COMPLETED);
	assert_int_equal(g.db.closes, 1);
	assert_int_equal(g.done_at, 13000);
	rig_free(&g);
}

/* A signal during the last phase (or a third one) does not cut the cleanup. */
static void test_second_signal_in_last_phase(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.db.close_ms = 4000;
	plan_run_start(g.r);
	clock_virtual_advance(g.clk, 11000); /* 1 s into cleanup */
	plan_run_signal(g.r);
	plan_run_signal(g.r);
	assert_false(g.done);
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 3), PLAN_OUTCOME_COMPLETED);
	assert_int_equal(plan_run_duration_ms(g.r, 3), 4000);
	assert_false(g.db.alive);
	assert_false(g.warning);
	rig_free(&g);
}

/* A second signal while an abort is awaited: the wait stays bounded, then cleanup. */
static void test_second_signal_during_abort(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.http.drain_ms = FAKE_HANG;
	g.http.abort_hangs = true;
	plan_run_start(g.r);
	clock_virtual_advance(g.clk, 10000 + 45000 + 1000); /* 1 s into the abort wait */
	plan_run_signal(g.r);
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_true(g.done);
	assert_int_equal(rig_outcome(&g, 1), PLAN_OUTCOME_ABORT_UNCONFIRMED);
	assert_int_equal(plan_run_duration_ms(g.r, 1), 45000 + 5000);
	assert_int_equal(rig_outcome(&g, 2), PLAN_OUTCOME_SKIPPED);
	assert_int_equal(g.signer.aborts, 1); /* the skipped signer drain's component */
	assert_false(g.signer.alive);
	assert_int_equal(rig_outcome(&g, 3), PLAN_OUTCOME_COMPLETED);
	assert_int_equal(g.done_at, 60000);
	rig_free(&g);
}

/*
 * A second signal in the pre-drain: every component the skipped phases
 * would stop or drain is aborted, and confirmed, before the cleanup starts.
 */
static void test_escalation_aborts_skipped(void **state)
{
	struct rig g;
	size_t esc = SIZE_MAX, cleanup = SIZE_MAX;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	plan_run_start(g.r);
	clock_virtual_advance(g.clk, 3000);
	plan_run_signal(g.r);
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_true(g.done);
	assert_int_equal(rig_outcome(&g, 0), PLAN_OUTCOME_ESCALATED);
	assert_int_equal(rig_outcome(&g, 1), PLAN_OUTCOME_SKIPPED);
	assert_int_equal(rig_outcome(&g, 2), PLAN_OUTCOME_SKIPPED);
	assert_int_equal(rig_outcome(&g, 3), PLAN_OUTCOME_COMPLETED);
	assert_int_equal(g.http.aborts, 1);
	assert_int_equal(g.signer.aborts, 1);
	assert_int_equal(g.http.abort_at, 3000);
	assert_int_equal(g.db.aborts, 0); /* the cleanup closes it */
	assert_int_equal(g.db.closes, 1);
	for (size_t i = 0; i < rec_count(); i++) {
		if (strncmp(rec_at(i)->msg, "escalation: aborting", 20) == 0)
			esc = i;
		if (strcmp(rec_at(i)->msg, "phase started") == 0 &&
		    strcmp(rec_at(i)->phase, "cleanup") == 0)
			cleanup = i;
	}
	assert_true(esc < cleanup);
	assert_true(rig_field(rec_at(esc), "targets=http relay-signer"));
	assert_true(rec_find("abort confirmed") != NULL);
	rig_free(&g);
}

/* Dependents are aborted before what they depend on, whatever the plan's order. */
static void test_escalation_order(void **state)
{
	static const char yaml[] =
		"version: 1\nceiling: 60s\nteardown_margin: 5s\non_second_signal: exit-now\n"
		"phases:\n"
		"  - {name: pre, budget: 10s, steps: [{readiness: fail}, {wait: rest-of-budget}]}\n"
		"  - {name: one, budget: 10s, steps: [{drain: db}]}\n"
		"  - {name: two, budget: 10s, steps: [{drain: relay-signer}]}\n"
		"  - {name: cleanup, budget: teardown-margin, steps: [{close: relay-signer}, "
		"{close: "
		"db}]}\n";
	struct rig g;

	(void)state;
	rig_init(&g, yaml, NULL, true);
	plan_run_start(g.r);
	plan_run_signal(g.r);
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_true(g.done);
	assert_true(rig_field(rec_find("escalation: aborting"), "targets=relay-signer db"));
	assert_int_equal(g.signer.aborts, 1);
	assert_int_equal(g.db.aborts, 1);
	rig_free(&g);
}

/*
 * A late confirmation of an earlier phase's abort does not count for the
 * escalation's wait: http's abort, unconfirmed in http-drain, confirms
 * while the escalation awaits relay-signer, which never confirms; the
 * signer phase waits its whole abort_wait and ends unconfirmed.
 */
static void test_late_abort_not_counted(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.http.drain_ms = FAKE_HANG;
	g.http.abort_hangs = true;
	g.signer.drain_ms = FAKE_HANG;
	g.signer.abort_hangs = true;
	plan_run_start(g.r);
	clock_virtual_advance(g.clk, 10000 + 45000 + 5000 + 1000); /* 1 s into signer-drain */
	assert_int_equal(rig_outcome(&g, 1), PLAN_OUTCOME_ABORT_UNCONFIRMED);
	plan_run_signal(g.r);
	assert_int_equal(g.signer.aborts, 1);
	clock_virtual_advance(g.clk, 2000);
	component_complete(g.http.c, COMPONENT_OP_ABORT); /* http's abort, late */
	clock_virtual_advance(g.clk, 1);
	assert_int_equal(rig_outcome(&g, 2), PLAN_OUTCOME_PENDING);
	assert_non_null(rec_find("late abort confirmation ignored"));
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_true(g.done);
	assert_int_equal(rig_outcome(&g, 2), PLAN_OUTCOME_ABORT_UNCONFIRMED);
	assert_int_equal(plan_run_duration_ms(g.r, 2), 1000 + g.p.abort_wait_ms);
	rig_free(&g);
}

/* Each awaited component counts once: a duplicate in the abort list does not end the wait. */
static void test_abort_counted_once(void **state)
{
	static const char yaml[] =
		"version: 1\nceiling: 60s\nteardown_margin: 5s\nabort_wait: 5s\n"
		"phases:\n"
		"  - {name: one, budget: 10s, steps: [{readiness: fail}, {drain: http}, "
		"{drain: relay-signer}],"
		" on_timeout: {abort: [http, http, relay-signer]}}\n"
		"  - {name: cleanup, budget: teardown-margin, steps: [{close: relay-signer}, "
		"{close: db}]}\n";
	struct rig g;

	(void)state;
	rig_init(&g, yaml, NULL, true);
	g.http.drain_ms = FAKE_HANG;
	g.signer.abort_hangs = true;
	plan_run_start(g.r);
	clock_virtual_advance(g.clk, 10000 + 1000);
	assert_int_equal(g.http.aborts, 1);
	assert_int_equal(rig_outcome(&g, 0), PLAN_OUTCOME_PENDING); /* signer still awaited */
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 0), PLAN_OUTCOME_ABORT_UNCONFIRMED);
	assert_int_equal(plan_run_duration_ms(g.r, 0), 10000 + 5000);
	rig_free(&g);
}

/*
 * Escalation aborts run in dependency waves within one abort_wait: db's
 * abort starts only once relay-signer, which depends on it, has confirmed.
 */
static const char plan_two_drains[] =
	"version: 1\nceiling: 60s\nteardown_margin: 5s\non_second_signal: exit-now\n"
	"abort_wait: 5s\nphases:\n"
	"  - {name: pre, budget: 10s, steps: [{readiness: fail}, {wait: rest-of-budget}]}\n"
	"  - {name: one, budget: 10s, steps: [{drain: db}]}\n"
	"  - {name: two, budget: 10s, steps: [{drain: relay-signer}]}\n"
	"  - {name: cleanup, budget: teardown-margin, steps: [{close: relay-signer}, "
	"{close: db}]}\n";

/* The dependency's abort waits for its dependent's confirmation. */
static void test_escalation_waves(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, plan_two_drains, NULL, true);
	g.signer.abort_hangs = true;
	plan_run_start(g.r);
	clock_virtual_advance(g.clk, 1000);
	plan_run_signal(g.r);
	assert_int_equal(g.signer.aborts, 1);
	clock_virtual_advance(g.clk, 2000);
	assert_int_equal(g.db.aborts, 0); /* relay-signer still aborting */
	component_complete(g.signer.c, COMPONENT_OP_ABORT);
	clock_virtual_advance(g.clk, 1);
	assert_int_equal(g.db.aborts, 1);
	assert_int_equal(g.db.abort_at, 3000);
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_true(g.done);
	assert_int_equal(rig_outcome(&g, 0), PLAN_OUTCOME_ESCALATED);
	assert_int_equal(plan_run_duration_ms(g.r, 0), 3000);
	rig_free(&g);
}

/* A dependent that never confirms: its dependency is not aborted, the wait stays abort_wait. */
static void test_escalation_wave_unconfirmed(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, plan_two_drains, NULL, true);
	g.signer.abort_hangs = true;
	plan_run_start(g.r);
	clock_virtual_advance(g.clk, 1000);
	plan_run_signal(g.r);
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_true(g.done);
	assert_int_equal(g.db.aborts, 0);
	assert_int_equal(rig_outcome(&g, 0), PLAN_OUTCOME_ABORT_UNCONFIRMED);
	assert_int_equal(plan_run_duration_ms(g.r, 0), 1000 + 5000);
	rig_free(&g);
}

/* An escalation abort that never confirms is awaited abort_wait, no longer. */
static void test_escalation_abort_bounded(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.http.abort_hangs = true;
	plan_run_start(g.r);
	clock_virtual_advance(g.clk, 3000);
	plan_run_signal(g.r);
	clock_virtual_advance(g.clk, HOUR_MS);
	assert_true(g.done);
	assert_int_equal(rig_outcome(&g, 0), PLAN_OUTCOME_ABORT_UNCONFIRMED);
	assert_int_equal(plan_run_duration_ms(g.r, 0), 3000 + g.p.abort_wait_ms);
	assert_int_equal(rig_outcome(&g, 3), PLAN_OUTCOME_COMPLETED);
	assert_int_equal(g.done_at, 3000 + g.p.abort_wait_ms);
	rig_free(&g);
}

/* The final line is written whatever the log threshold; the rest is filtered. */
static void test_final_line_any_level(void **state)
{
	const struct rec_line *l;
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_JSON);
	rig_run(&g, HOUR_MS);
	assert_null(rec_find("phase started"));
	l = rec_find("shutdown complete");
	assert_non_null(l);
	assert_string_equal(l->msg, "shutdown complete");
	rig_free(&g);

	rig_init(&g, NULL, NULL, true);
	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_JSON);
	g.signer.drain_ms = FAKE_HANG;
	rig_run(&g, HOUR_MS);
	l = rec_find("shutdown complete with warning: ");
	assert_non_null(l);
	assert_int_equal(l->level, LOG_LEVEL_WARN);
	rig_free(&g);
}

/* Many long-named phases: the final line is cut visibly, still a warning for the last one. */
static void test_log_final_line_truncated(void **state)
{
	static char yaml[16384];
	size_t off;
	const struct rec_line *l;
	struct rig g;

	(void)state;
	off = (size_t)snprintf(yaml, sizeof(yaml),
			       "version: 1\nceiling: 1h\nteardown_margin: 0s\nphases:\n");
	for (int i = 0; i < 60; i++)
		off += (size_t)snprintf(
			yaml + off, sizeof(yaml) - off,
			"  - {name: a-phase-with-a-rather-long-name-%02d, budget: 0s, "
			"steps: [%s]}\n",
			i, i == 59 ? "{wait: 1s}" : "");
	assert_true(off < sizeof(yaml));
	rig_init(&g, yaml, NULL, false);
	rig_run(&g, HOUR_MS);
	assert_true(g.warning);
	assert_int_equal(rig_outcome(&g, 59), PLAN_OUTCOME_TIMED_OUT);
	l = rec_find("shutdown complete with warning: ");
	assert_non_null(l);
	assert_int_equal(l->level, LOG_LEVEL_WARN);
	assert_int_equal(strlen(l->msg), strlen("shutdown complete with warning: ") + 1023);
	assert_string_equal(l->msg + strlen(l->msg) - 3, "...");	  /* marked as cut */
	assert_non_null(strstr(rec_find("plan started")->fields, "...")); /* and the budgets */
	rig_free(&g);
}

/* A 1500 ms pre-drain under a 2 s ceiling, then a cleanup in a zero margin. */
static const char start_at_yaml[] = "version: 1\nceiling: 2s\nteardown_margin: 0\nphases:\n"
				    "  - name: pre-drain\n    budget: 1500ms\n    steps:\n"
				    "      - readiness: fail\n      - wait: rest-of-budget\n"
				    "  - name: cleanup\n    budget: teardown-margin\n    steps:\n"
				    "      - close: relay-signer\n      - close: db\n";

/*
 * The plan counts from the signal, like the watchdog: started 300 ms after
 * the instant it is given, its 1500 ms pre-drain still ends 1500 ms after
 * that instant, and so does the plan (duration_ms 1500); an instant in
 * the future counts as now.
 */
static void test_start_at_signal(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, start_at_yaml, NULL, true);
	clock_virtual_advance(g.clk, 300); /* the loop sees the signal 300 ms late */
	plan_run_start_at(g.r, 0);
	assert_int_equal(g.ready_at, 300);
	clock_virtual_advance(g.clk, 1199);
	assert_false(g.done);
	clock_virtual_advance(g.clk, 1);
	assert_true(g.done);
	assert_int_equal(g.done_at, 1500);
	assert_int_equal(plan_run_duration_ms(g.r, 0), 1500);
	assert_int_equal(rig_outcome(&g, 0), PLAN_OUTCOME_COMPLETED);
	assert_true(rig_field(rec_find("shutdown complete"), "duration_ms=1500"));
	rig_free(&g);

	rig_init(&g, start_at_yaml, NULL, true);
	plan_run_start_at(g.r, 5000);
	clock_virtual_advance(g.clk, 1500);
	assert_true(g.done);
	assert_int_equal(g.done_at, 1500);
	rig_free(&g);
}

static int claims;    /* calls of rig_claim */
static bool claim_ok; /* what rig_claim answers */

/* Hook: the final line's claim. */
static bool rig_claim(void *arg)
{
	(void)arg;
	claims++;
	return claim_ok;
}

/*
 * The final line is claimed once: granted, the plan writes it and calls
 * on_done; refused (the watchdog writes its own), the plan writes nothing.
 */
static void test_final_line_claimed(void **state)
{
	struct rig g;

	(void)state;
	for (int ok = 0; ok < 2; ok++) {
		const struct plan_hooks hooks = {.set_ready = rig_set_ready,
						 .on_phase_end = rig_phase_end,
						 .on_done = rig_done,
						 .claim_final = rig_claim,
						 .dropped = rig_dropped,
						 .arg = &g};

		rig_init(&g, NULL, NULL, true);
		plan_run_free(g.r);
		g.r = plan_run_new(&g.p, g.reg, g.clk, &hooks);
		assert_non_null(g.r);
		claims = 0;
		claim_ok = ok != 0;
		plan_run_start(g.r);
		clock_virtual_advance(g.clk, HOUR_MS);
		assert_int_equal(claims, 1);
		assert_true(plan_run_done(g.r));
		assert_int_equal(g.done, ok != 0);
		assert_int_equal(rec_count_msg("shutdown complete"), ok ? 1 : 0);
		assert_null(ok ? NULL : rec_find("shutdown complete"));
		rig_free(&g);
	}
}

/*
 * A close that had to drop stuck work (the pool cancelled a query and
 * dropped its connection) inside the budget is not a clean completion: the
 * phase ends completed_with_drops at warning level with the count, and the
 * final line is the warning one; a clean close stays completed.
 */
static void test_close_dropped(void **state)
{
	const struct rec_line *l;
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	g.db.close_ms = 9000;
	g.db_drops = 1;
	rig_run(&g, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 2), PLAN_OUTCOME_COMPLETED);
	assert_int_equal(rig_outcome(&g, 3), PLAN_OUTCOME_COMPLETED_WITH_DROPS);
	assert_true(g.warning);
	l = rec_find("phase finished");
	assert_string_equal(l->phase, "cleanup");
	assert_string_equal(l->outcome, "completed_with_drops");
	assert_int_equal(l->level, LOG_LEVEL_WARN);
	assert_true(rig_field(l, "dropped=1"));
	l = rec_find("shutdown complete");
	assert_int_equal(l->level, LOG_LEVEL_WARN);
	assert_non_null(strstr(l->msg, "cleanup=completed_with_drops(9000ms)"));
	rig_free(&g);

	rig_init(&g, NULL, NULL, true);
	g.db.close_ms = 9000;
	rig_run(&g, HOUR_MS);
	assert_int_equal(rig_outcome(&g, 3), PLAN_OUTCOME_COMPLETED);
	assert_false(g.warning);
	assert_true(rig_field(rec_find("phase finished"), "dropped=0"));
	rig_free(&g);
}

/* A loop callback that starts the plan: its timers are libevent's. */
static void start_on_loop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	plan_run_start(arg);
}

/* Hook: the plan is done; leave the loop. */
static void loop_done(void *arg, bool warning)
{
	(void)warning;
	event_base_loopexit(arg, NULL);
}

/* Run yaml on a real libevent loop, started from a loop callback; phase 0's duration. */
static int64_t run_on_loop(const char *yaml)
{
	struct event_base *base = event_base_new();
	struct clock *clk = clock_new_libevent(base);
	struct component_registry *reg = component_registry_new(clk);
	const struct plan_hooks hooks = {.on_done = loop_done, .arg = base};
	struct plan p;
	struct diag d = {0};
	struct plan_run *r;
	int64_t ms;

	assert_int_equal(plan_load_string(&p, "t.yaml", yaml, strlen(yaml), &d), 0);
	r = plan_run_new(&p, reg, clk, &hooks);
	assert_non_null(r);
	assert_int_equal(event_base_once(base, -1, EV_TIMEOUT, start_on_loop, r, NULL), 0);
	assert_int_equal(event_base_dispatch(base), 0);
	assert_true(plan_run_done(r));
	ms = plan_run_duration_ms(r, 0);
	plan_run_free(r);
	component_registry_free(reg);
	clock_free(clk);
	event_base_free(base);
	plan_free(&p);
	diag_clear(&d);
	return ms;
}

/*
 * Budgets and waits are never shorter than written on a real libevent loop,
 * whose timer clock (cached, possibly coarse) is not the CLOCK_MONOTONIC the
 * plan measures with: a timer that fires early is re-armed for the rest. A
 * 100 ms budget and a 60 ms wait last at least that long. Lower bounds
 * only: a noisy machine makes them longer, never shorter.
 */
static void test_budget_never_short(void **state)
{
	(void)state;
	rec_start();
	assert_true(run_on_loop("version: 1\nceiling: 1h\nteardown_margin: 0\nphases:\n"
				"  - {name: a, budget: 100ms, steps: [{readiness: fail}, "
				"{wait: rest-of-budget}]}\n") >= 100);
	assert_true(run_on_loop("version: 1\nceiling: 1h\nteardown_margin: 0\nphases:\n"
				"  - {name: a, budget: 1h, steps: [{readiness: fail}, "
				"{wait: 60ms}]}\n") >= 60);
	rec_stop();
}

/*
 * The same on the virtual clock, deterministic: every timer fires 3 ms
 * early (as libevent's cached time makes it do); the pre-drain's wait and
 * the hung HTTP drain's budget still last exactly what the plan says.
 */
static void test_budget_early_timers(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, NULL, NULL, true);
	clock_virtual_set_early(g.clk, 3);
	g.http.drain_ms = FAKE_HANG;
	rig_run(&g, HOUR_MS);
	assert_int_equal(plan_run_duration_ms(g.r, 0), 10000);
	assert_int_equal(plan_run_duration_ms(g.r, 1), 45000);
	assert_int_equal(rig_outcome(&g, 1), PLAN_OUTCOME_TIMED_OUT_ABORTED);
	rig_free(&g);
}

/* Outcome names are stable (logs and metrics depend on them). */
static void test_outcome_names(void **state)
{
	(void)state;
	assert_string_equal(plan_outcome_name(PLAN_OUTCOME_COMPLETED), "completed");
	assert_string_equal(plan_outcome_name(PLAN_OUTCOME_TIMED_OUT_ABORTED), "timed_out_aborted");
	assert_string_equal(plan_outcome_name(PLAN_OUTCOME_SKIPPED), "skipped");
	assert_string_equal(plan_outcome_name(PLAN_OUTCOME_COMPLETED_WITH_DROPS),
			    "completed_with_drops");
}

/* Run every test. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_all_complete),
		cmocka_unit_test(test_predrain_flips_before_wait),
		cmocka_unit_test(test_predrain_zero),
		cmocka_unit_test(test_http_drain_completes),
		cmocka_unit_test(test_http_drain_aborted),
		cmocka_unit_test(test_signer_both_inside),
		cmocka_unit_test(test_signer_first_hangs),
		cmocka_unit_test(test_signer_second_hangs),
		cmocka_unit_test(test_signer_both_hour),
		cmocka_unit_test(test_signer_shared_budget),
		cmocka_unit_test(test_db_close_inside),
		cmocka_unit_test(test_db_close_hangs),
		cmocka_unit_test(test_second_signal_skip_to_last),
		cmocka_unit_test(test_second_signal_exit_now),
		cmocka_unit_test(test_timeout_exit_now),
		cmocka_unit_test(test_second_signal_ignore),
		cmocka_unit_test(test_abort_unconfirmed),
		cmocka_unit_test(test_missing_components),
		cmocka_unit_test(test_log_plan_started),
		cmocka_unit_test(test_log_origin_default),
		cmocka_unit_test(test_log_phases),
		cmocka_unit_test(test_log_final_line),
		cmocka_unit_test(test_log_final_line_truncated),
		cmocka_unit_test(test_escalation_aborts_skipped),
		cmocka_unit_test(test_escalation_order),
		cmocka_unit_test(test_escalation_abort_bounded),
		cmocka_unit_test(test_late_abort_not_counted),
		cmocka_unit_test(test_abort_counted_once),
		cmocka_unit_test(test_escalation_waves),
		cmocka_unit_test(test_escalation_wave_unconfirmed),
		cmocka_unit_test(test_final_line_any_level),
		cmocka_unit_test(test_second_signal_in_signer),
		cmocka_unit_test(test_second_signal_in_last_phase),
		cmocka_unit_test(test_second_signal_during_abort),
		cmocka_unit_test(test_budget_early_timers),
		cmocka_unit_test(test_outcome_names),
		cmocka_unit_test(test_start_at_signal),
		cmocka_unit_test(test_final_line_claimed),
		cmocka_unit_test(test_close_dropped),
		cmocka_unit_test(test_budget_never_short),
		cmocka_unit_test(test_budget_warning),
		cmocka_unit_test(test_budget_warning_after_wait),
		cmocka_unit_test(test_budget_warning_off),
	};

	return cmocka_run_group_tests_name("plan_run", tests, NULL, NULL);
}
