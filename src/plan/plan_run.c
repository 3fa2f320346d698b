/*
 * plan_run.c - the plan interpreter, a state machine on a clock.
 *
 * States: idle -> in a phase (running a step, waiting on a timer, a
 * component, or an abort confirmation) -> done. One budget timer per
 * phase, and one for its budget warning; steps dispatch through
 * plan_step_table.
 */
#include "plan/plan_run.h"

#include "core/clock.h"
#include "core/component.h"
#include "core/log.h"
#include "plan/plan.h"
#include "plan/plan_run_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A step handler: true when the step is finished, false when it waits. */
typedef bool (*plan_step_fn)(struct plan_run *r, const struct plan_step *s);

static bool plan_run_step_readiness(struct plan_run *r, const struct plan_step *s);
static bool plan_run_step_wait(struct plan_run *r, const struct plan_step *s);
static bool plan_run_step_stop(struct plan_run *r, const struct plan_step *s);
static bool plan_run_step_async(struct plan_run *r, const struct plan_step *s);
static bool plan_run_step_log(struct plan_run *r, const struct plan_step *s);
static void plan_phase_begin(struct plan_run *r, size_t i, int64_t at_ms);
static void plan_phase_end(struct plan_run *r, enum plan_outcome o);
static void plan_advance(struct plan_run *r);
static void plan_finish(struct plan_run *r);
static void plan_on_budget(void *arg);
static void plan_on_warn(void *arg);
static void plan_warn_log(struct plan_run *r);
static bool plan_step_first_component(const struct plan_phase *ph, size_t i);
static void plan_final_line(struct plan_run *r, const char *msg, const char *phases);
static void plan_on_wait(void *arg);
static bool plan_early(struct plan_run *r, struct clock_timer *t, int64_t until_ms);
static void plan_on_abort_timer(void *arg);
static void plan_on_done(void *arg, struct component *c, enum component_op op);
static void plan_abort_settled(struct plan_run *r, bool confirmed);
static size_t plan_phase_inflight(struct plan_run *r);
static uint64_t plan_phase_dropped(struct plan_run *r);

static const plan_step_fn plan_step_table[PLAN_STEP_KIND_COUNT_] = {
	[PLAN_STEP_READINESS] = plan_run_step_readiness, [PLAN_STEP_WAIT] = plan_run_step_wait,
	[PLAN_STEP_STOP_ACCEPTING] = plan_run_step_stop, [PLAN_STEP_DRAIN] = plan_run_step_async,
	[PLAN_STEP_CLOSE] = plan_run_step_async,	 [PLAN_STEP_LOG] = plan_run_step_log,
};

/* The lower-case name of an outcome. */
const char *plan_outcome_name(enum plan_outcome o)
{
	static const char *const names[] = {
		[PLAN_OUTCOME_PENDING] = "pending",
		[PLAN_OUTCOME_COMPLETED] = "completed",
		[PLAN_OUTCOME_COMPLETED_WITH_DROPS] = "completed_with_drops",
		[PLAN_OUTCOME_TIMED_OUT] = "timed_out",
		[PLAN_OUTCOME_TIMED_OUT_ABORTED] = "timed_out_aborted",
		[PLAN_OUTCOME_ABORT_UNCONFIRMED] = "timed_out_abort_unconfirmed",
		[PLAN_OUTCOME_ESCALATED] = "escalated",
		[PLAN_OUTCOME_SKIPPED] = "skipped",
	};
	return (unsigned)o <= PLAN_OUTCOME_SKIPPED ? names[o] : "?";
}

/* A runner for p. NULL on ENOMEM. */
struct plan_run *plan_run_new(const struct plan *p, struct component_registry *reg,
			      struct clock *clk, const struct plan_hooks *hooks)
{
	struct plan_run *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->p = p;
	r->reg = reg;
	r->clk = clk;
	if (hooks != NULL)
		r->hooks = *hooks;
	r->outcomes = calloc(p->nphases + 1, sizeof(*r->outcomes));
	r->durations = calloc(p->nphases + 1, sizeof(*r->durations));
	r->budget = clock_timer_new(clk, plan_on_budget, r);
	r->wait = clock_timer_new(clk, plan_on_wait, r);
	r->abort_timer = clock_timer_new(clk, plan_on_abort_timer, r);
	r->warn = clock_timer_new(clk, plan_on_warn, r);
	if (r->outcomes == NULL || r->durations == NULL || r->budget == NULL || r->wait == NULL ||
	    r->abort_timer == NULL || r->warn == NULL)
		goto fail;
	return r;
fail:
	plan_run_free(r);
	return NULL;
}

/* Free the runner. */
void plan_run_free(struct plan_run *r)
{
	if (r == NULL)
		return;
	clock_timer_free(r->budget);
	clock_timer_free(r->wait);
	clock_timer_free(r->abort_timer);
	clock_timer_free(r->warn);
	free(r->outcomes);
	free(r->durations);
	free(r);
}

/* Mark buf[0..len) as cut with a trailing "..." when off ran past its end. */
void plan_mark_truncated(char *buf, size_t len, size_t off)
{
	if (off >= len && len >= 4)
		memcpy(buf + len - 4, "...", 4);
}

/* Append to buf at *off; an error or a cut sets *off to len (marked by the caller). */
void plan_appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0) {
		buf[*off] = '\0';
		*off = len;
		return;
	}
	*off = (size_t)n >= len - *off ? len : *off + (size_t)n;
}

/* Log the effective budgets and their origins. */
static void plan_log_start(struct plan_run *r)
{
	char budgets[1024];
	size_t off = 0;

	budgets[0] = '\0';
	for (size_t i = 0; i < r->p->nphases && off < sizeof(budgets); i++) {
		const struct plan_budget *b = &r->p->phases[i].budget;

		plan_appendf(budgets, sizeof(budgets), &off, "%s%s=%lldms(%s%s%s)", i ? " " : "",
			     r->p->phases[i].name, (long long)plan_phase_budget_ms(r->p, i),
			     b->ms == PLAN_BUDGET_MARGIN ? "margin" : plan_origin_name(b->origin),
			     b->origin == PLAN_ORIGIN_ENV ? " " : "",
			     b->origin == PLAN_ORIGIN_ENV ? b->env : "");
	}
	plan_mark_truncated(budgets, sizeof(budgets), off);
	log_info("plan", "plan started", log_str("file", r->p->file),
		 log_str("mode", plan_mode_name(r->p->strict)), log_str("budgets", budgets),
		 log_ms("ceiling_ms", r->p->ceiling.ms),
		 log_str("ceiling_origin", plan_origin_name(r->p->ceiling.origin)),
		 log_ms("margin_ms", r->p->margin.ms),
		 log_str("margin_origin", plan_origin_name(r->p->margin.origin)),
		 log_ms("total_ms", plan_add_ms(plan_total_ms(r->p), r->p->margin.ms)));
}

/* Start the plan now. */
void plan_run_start(struct plan_run *r)
{
	plan_run_start_at(r, clock_now_ms(r->clk));
}

/* Start the plan as of t0_ms (not later than now): the first budget counts from it. */
void plan_run_start_at(struct plan_run *r, int64_t t0_ms)
{
	int64_t now = clock_now_ms(r->clk);

	if (r->started)
		return;
	r->started = true;
	r->start_ms = t0_ms < now ? t0_ms : now;
	plan_log_start(r);
	plan_phase_begin(r, 0, r->start_ms);
}

/* Begin phase i as of at_ms (or finish past the last). */
static void plan_phase_begin(struct plan_run *r, size_t i, int64_t at_ms)
{
	const struct plan_phase *ph;
	int64_t warn_ms = i < r->p->nphases ? plan_phase_warn_ms(r->p, i) : -1;
	int64_t late = clock_now_ms(r->clk) - at_ms;

	if (i >= r->p->nphases) {
		plan_finish(r);
		return;
	}
	ph = &r->p->phases[i];
	r->phase = i;
	r->step = 0;
	r->waiting = PLAN_WAIT_NONE;
	r->phase_start_ms = at_ms;
	r->phase_inflight = plan_phase_inflight(r);
	r->phase_dropped = plan_phase_dropped(r);
	r->phase_left = SIZE_MAX;
	log_info("plan", "phase started", log_str("phase", ph->name),
		 log_ms("budget_ms", plan_phase_budget_ms(r->p, i)),
		 log_uint("inflight", r->phase_inflight),
		 log_str("on_timeout", plan_timeout_name(ph->on_timeout)));
	if (r->hooks.on_phase_start != NULL)
		r->hooks.on_phase_start(r->hooks.arg, i);
	clock_timer_start(r->budget, plan_phase_budget_ms(r->p, i) - late);
	if (warn_ms >= 0)
		clock_timer_start(r->warn, warn_ms > late ? warn_ms - late : 0);
	plan_advance(r);
}

/* Run steps until one waits or the phase completes. */
static void plan_advance(struct plan_run *r)
{
	const struct plan_phase *ph = &r->p->phases[r->phase];

	while (r->step < ph->nsteps) {
		const struct plan_step *s = &ph->steps[r->step];

		r->waiting = PLAN_WAIT_NONE;
		if (!plan_step_table[s->kind](r, s))
			return;
		r->step++;
	}
	plan_phase_end(r, PLAN_OUTCOME_COMPLETED);
}

/* The component a step names, or NULL (logged as skipped). */
static struct component *plan_component(struct plan_run *r, const char *name, const char *what)
{
	struct component *c = component_find(r->reg, name);

	if (c == NULL)
		log_info("plan", "component not registered; step skipped",
			 log_str("phase", r->p->phases[r->phase].name), log_str("target", name),
			 log_str("step", what));
	return c;
}

/* readiness: tell the daemon through its hook. */
static bool plan_run_step_readiness(struct plan_run *r, const struct plan_step *s)
{
	log_info("plan", "readiness set", log_str("phase", r->p->phases[r->phase].name),
		 log_bool("ready", s->ready));
	if (r->hooks.set_ready != NULL)
		r->hooks.set_ready(r->hooks.arg, s->ready);
	return true;
}

/* wait: a timer, or the rest of the budget (none left: go on at once). */
static bool plan_run_step_wait(struct plan_run *r, const struct plan_step *s)
{
	int64_t left =
		plan_phase_budget_ms(r->p, r->phase) - (clock_now_ms(r->clk) - r->phase_start_ms);

	if (s->wait_ms == PLAN_WAIT_REST) {
		if (left <= 0)
			return true;
		r->waiting = PLAN_WAIT_BUDGET;
		return false;
	}
	if (s->wait_ms <= 0)
		return true;
	r->waiting = PLAN_WAIT_TIMER;
	r->wait_until_ms = clock_now_ms(r->clk) + s->wait_ms;
	clock_timer_start(r->wait, s->wait_ms);
	return false;
}

/* stop-accepting: synchronous. */
static bool plan_run_step_stop(struct plan_run *r, const struct plan_step *s)
{
	struct component *c = plan_component(r, s->arg, "stop-accepting");

	if (c != NULL && component_stop_accepting(c) != 0)
		log_warn("plan", "stop-accepting refused", log_str("target", s->arg));
	return true;
}

/* drain / close: start the operation and await its completion. */
static bool plan_run_step_async(struct plan_run *r, const struct plan_step *s)
{
	struct component *c = plan_component(r, s->arg, plan_step_kind_name(s->kind));
	int rc;

	if (c == NULL)
		return true;
	r->pending = c;
	r->pending_op = s->kind == PLAN_STEP_DRAIN ? COMPONENT_OP_DRAIN : COMPONENT_OP_CLOSE;
	r->waiting = PLAN_WAIT_COMPONENT;
	rc = s->kind == PLAN_STEP_DRAIN ? component_drain(c, plan_on_done, r)
					: component_close(c, plan_on_done, r);
	if (rc == 0)
		return false;
	log_warn("plan", "step refused by the component", log_str("target", s->arg),
		 log_str("step", plan_step_kind_name(s->kind)));
	r->pending = NULL;
	r->waiting = PLAN_WAIT_NONE;
	return true;
}

/* log: one info line with the plan's text. */
static bool plan_run_step_log(struct plan_run *r, const struct plan_step *s)
{
	log_info("plan", s->arg, log_str("phase", r->p->phases[r->phase].name));
	return true;
}

/* A drain or close completed. */
static void plan_on_done(void *arg, struct component *c, enum component_op op)
{
	struct plan_run *r = arg;

	if (r->waiting != PLAN_WAIT_COMPONENT || c != r->pending || op != r->pending_op)
		return; /* late completion of a step that timed out */
	r->pending = NULL;
	r->step++;
	plan_advance(r);
}

/*
 * Re-arm t if it fired before until_ms (a loop's cached time runs behind the
 * clock, so its timers may fire a little early): true if it did. Nothing
 * the plan times is ever shorter than written.
 */
static bool plan_early(struct plan_run *r, struct clock_timer *t, int64_t until_ms)
{
	int64_t left = until_ms - clock_now_ms(r->clk);

	if (left <= 0)
		return false;
	clock_timer_start(t, left);
	return true;
}

/* A 'wait: DURATION' step elapsed. */
static void plan_on_wait(void *arg)
{
	struct plan_run *r = arg;

	if (r->waiting != PLAN_WAIT_TIMER || plan_early(r, r->wait, r->wait_until_ms))
		return;
	r->step++;
	plan_advance(r);
}

/* Await c's abort confirmation in this wait (once, however often it is aborted). */
void plan_await_add(struct plan_run *r, struct component *c)
{
	for (size_t i = 0; i < r->nawaited; i++)
		if (r->awaited[i] == c)
			return;
	if (r->nawaited < PLAN_ESC_MAX_TARGETS)
		r->awaited[r->nawaited++] = c;
}

/* Take c out of what this wait awaits; false if it was not awaited. */
static bool plan_await_take(struct plan_run *r, struct component *c)
{
	for (size_t i = 0; i < r->nawaited; i++) {
		if (r->awaited[i] != c)
			continue;
		r->awaited[i] = r->awaited[--r->nawaited];
		return true;
	}
	return false;
}

/* Abort the phase's components; true if confirmations are awaited. */
static bool plan_abort_components(struct plan_run *r)
{
	const struct plan_phase *ph = &r->p->phases[r->phase];

	r->nawaited = 0;
	if (ph->on_timeout != PLAN_TIMEOUT_ABORT)
		return false;
	for (size_t i = 0; i < ph->nabort; i++) {
		struct component *c = plan_component(r, ph->abort[i], "abort");

		if (c != NULL && component_abort(c, plan_on_aborted, r) == 0)
			plan_await_add(r, c);
	}
	if (r->nawaited == 0)
		return false;
	r->waiting = PLAN_WAIT_ABORT;
	clock_timer_start(r->abort_timer, r->p->abort_wait_ms);
	return true;
}

/* Stop what the phase waits on, then run its abort; end it unless awaiting. */
static void plan_cut_phase(struct plan_run *r, enum plan_outcome o)
{
	bool awaiting;

	clock_timer_stop(r->wait);
	r->pending = NULL;
	r->waiting = PLAN_WAIT_NONE;
	awaiting = r->esc_signal ? plan_esc_abort(r) : plan_abort_components(r);
	if (!awaiting)
		plan_phase_end(r, o);
}

/* The phase budget ran out. */
static void plan_on_budget(void *arg)
{
	struct plan_run *r = arg;
	const struct plan_phase *ph = &r->p->phases[r->phase];

	if (plan_early(r, r->budget, r->phase_start_ms + plan_phase_budget_ms(r->p, r->phase)))
		return;
	if (r->waiting == PLAN_WAIT_BUDGET) { /* wait: rest-of-budget is done */
		plan_phase_end(r, PLAN_OUTCOME_COMPLETED);
		return;
	}
	if (r->waiting == PLAN_WAIT_ABORT)
		return;
	r->phase_left = plan_phase_inflight(r);
	log_warn("plan", "phase budget exhausted", log_str("phase", ph->name),
		 log_uint("inflight", r->phase_left),
		 log_str("action", plan_timeout_name(ph->on_timeout)),
		 log_uint("step", (uint64_t)r->step + 1));
	if (ph->on_timeout == PLAN_TIMEOUT_EXIT_NOW)
		r->esc = PLAN_ESC_EXIT;
	plan_cut_phase(r, PLAN_OUTCOME_TIMED_OUT);
}

/*
 * The phase has used budget_warning of its budget. Waiting on a component,
 * it warns once; a planned wait does not warn (rest-of-budget ends with the
 * budget; a timed wait is looked at again when it ends).
 */
static void plan_on_warn(void *arg)
{
	struct plan_run *r = arg;
	int64_t now = clock_now_ms(r->clk);

	if (plan_early(r, r->warn, r->phase_start_ms + plan_phase_warn_ms(r->p, r->phase)))
		return;
	if (r->waiting == PLAN_WAIT_TIMER)
		clock_timer_start(r->warn, r->wait_until_ms > now ? r->wait_until_ms - now : 1);
	else if (r->waiting == PLAN_WAIT_COMPONENT)
		plan_warn_log(r);
}

/* The budget warning: the step waited on and what is still in flight, per component. */
static void plan_warn_log(struct plan_run *r)
{
	const struct plan_phase *ph = &r->p->phases[r->phase];
	const struct plan_step *s = &ph->steps[r->step];
	int64_t budget = plan_phase_budget_ms(r->p, r->phase);
	int64_t used = clock_now_ms(r->clk) - r->phase_start_ms;
	char step[160], what[512];
	size_t off = 0, total = 0;

	what[0] = '\0';
	for (size_t i = 0; i < ph->nsteps; i++) {
		struct component *c = plan_step_first_component(ph, i)
					      ? component_find(r->reg, ph->steps[i].arg)
					      : NULL;
		size_t n = c != NULL ? component_inflight(c) : 0;

		total += n;
		if (c != NULL)
			plan_appendf(what, sizeof(what), &off, "%s%s=%zu", off ? " " : "",
				     component_name(c), n);
	}
	plan_mark_truncated(what, sizeof(what), off);
	snprintf(step, sizeof(step), "%s %s", plan_step_kind_name(s->kind), s->arg ? s->arg : "");
	log_warn("plan", "phase budget nearly used", log_str("phase", ph->name),
		 log_int("used_pct", budget > 0 ? used * 100 / budget : 100),
		 log_ms("elapsed_ms", used), log_ms("budget_ms", budget),
		 log_ms("left_ms", budget > used ? budget - used : 0), log_str("waiting_on", step),
		 log_uint("inflight", total), log_str("inflight_by_component", what),
		 log_str("on_timeout", plan_timeout_name(ph->on_timeout)));
}

/* The outcome once every abort is settled. */
static enum plan_outcome plan_abort_outcome(const struct plan_run *r, bool confirmed)
{
	if (!confirmed || r->abort_unconfirmed)
		return PLAN_OUTCOME_ABORT_UNCONFIRMED;
	return r->esc != PLAN_ESC_NONE ? PLAN_OUTCOME_ESCALATED : PLAN_OUTCOME_TIMED_OUT_ABORTED;
}

/* The phase's aborts are settled: a pending signal escalation aborts more, else the phase ends. */
static void plan_abort_settled(struct plan_run *r, bool confirmed)
{
	r->abort_unconfirmed = r->abort_unconfirmed || !confirmed;
	r->waiting = PLAN_WAIT_NONE;
	if (r->esc_signal && !r->esc_aborted && plan_esc_abort(r))
		return;
	plan_phase_end(r, plan_abort_outcome(r, true));
}

/* An abort was confirmed; one this wait does not await (a late one) is only logged. */
void plan_on_aborted(void *arg, struct component *c, enum component_op op)
{
	struct plan_run *r = arg;

	(void)op;
	if (r->waiting != PLAN_WAIT_ABORT || !plan_await_take(r, c)) {
		log_info("plan", "late abort confirmation ignored",
			 log_str("target", component_name(c)));
		return;
	}
	log_info("plan", "abort confirmed", log_str("target", component_name(c)));
	plan_esc_wave(r);
	if (r->nawaited == 0) {
		r->nesc_todo = 0; /* none left, or only refused ones */
		clock_timer_stop(r->abort_timer);
		plan_abort_settled(r, true);
	}
}

/* Abort confirmations did not all arrive within abort_wait. */
static void plan_on_abort_timer(void *arg)
{
	struct plan_run *r = arg;

	if (r->waiting != PLAN_WAIT_ABORT)
		return;
	log_warn("plan", "abort not confirmed in time",
		 log_str("phase", r->p->phases[r->phase].name),
		 log_ms("abort_wait_ms", r->p->abort_wait_ms));
	r->nawaited = 0;
	r->nesc_todo = 0; /* still waiting for their dependents: the last phase closes them */
	plan_abort_settled(r, false);
}

/* Mark phases [from, to) skipped. */
static void plan_skip(struct plan_run *r, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		r->outcomes[i] = PLAN_OUTCOME_SKIPPED;
		log_warn("plan", "phase skipped", log_str("phase", r->p->phases[i].name));
	}
}

/* End the current phase with outcome o (completed: unless work was dropped) and move on. */
static void plan_phase_end(struct plan_run *r, enum plan_outcome o)
{
	const struct plan_phase *ph = &r->p->phases[r->phase];
	int64_t dur = clock_now_ms(r->clk) - r->phase_start_ms;
	size_t next = r->phase + 1;
	size_t left = r->phase_left != SIZE_MAX ? r->phase_left : plan_phase_inflight(r);
	uint64_t dropped = plan_phase_dropped(r) - r->phase_dropped;

	clock_timer_stop(r->budget);
	clock_timer_stop(r->wait);
	clock_timer_stop(r->abort_timer);
	clock_timer_stop(r->warn);
	if (o == PLAN_OUTCOME_COMPLETED && dropped > 0)
		o = PLAN_OUTCOME_COMPLETED_WITH_DROPS;
	r->waiting = PLAN_WAIT_NONE;
	r->abort_unconfirmed = false;
	r->outcomes[r->phase] = o;
	r->durations[r->phase] = dur;
	log_at(o == PLAN_OUTCOME_COMPLETED ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, "plan",
	       "phase finished", log_str("phase", ph->name),
	       log_str("outcome", plan_outcome_name(o)), log_ms("duration_ms", dur),
	       log_uint("inflight_at_start", r->phase_inflight),
	       log_uint("finished", r->phase_inflight > left ? r->phase_inflight - left : 0),
	       log_uint("unfinished", left), log_uint("dropped", dropped));
	if (r->hooks.on_phase_end != NULL)
		r->hooks.on_phase_end(r->hooks.arg, ph->name, o, dur);
	if (r->esc == PLAN_ESC_EXIT)
		next = r->p->nphases;
	else if (r->esc == PLAN_ESC_LAST && next < r->p->nphases)
		next = r->p->nphases - 1;
	plan_skip(r, r->phase + 1, next);
	if (r->esc == PLAN_ESC_LAST) {
		r->esc = PLAN_ESC_NONE;
		r->esc_signal = false;
		r->esc_aborted = false;
	}
	plan_phase_begin(r, next, clock_now_ms(r->clk));
}

/* Whether step i of ph acts on a component no earlier step of ph names. */
static bool plan_step_first_component(const struct plan_phase *ph, size_t i)
{
	const struct plan_step *s = &ph->steps[i];

	if (s->arg == NULL || (s->kind != PLAN_STEP_STOP_ACCEPTING && s->kind != PLAN_STEP_DRAIN &&
			       s->kind != PLAN_STEP_CLOSE))
		return false;
	for (size_t j = 0; j < i; j++)
		if (ph->steps[j].arg != NULL && ph->steps[j].kind != PLAN_STEP_LOG &&
		    strcmp(ph->steps[j].arg, s->arg) == 0)
			return false;
	return true;
}

/*
 * Work in flight on the components the current phase stops, drains or
 * closes (each counted once), for its log lines.
 */
static size_t plan_phase_inflight(struct plan_run *r)
{
	const struct plan_phase *ph = &r->p->phases[r->phase];
	size_t n = 0;

	for (size_t i = 0; i < ph->nsteps; i++) {
		struct component *c = plan_step_first_component(ph, i)
					      ? component_find(r->reg, ph->steps[i].arg)
					      : NULL;

		n += c != NULL ? component_inflight(c) : 0;
	}
	return n;
}

/* Work dropped so far by the components the current phase stops, drains or closes. */
static uint64_t plan_phase_dropped(struct plan_run *r)
{
	const struct plan_phase *ph = &r->p->phases[r->phase];
	uint64_t n = 0;

	for (size_t i = 0; r->hooks.dropped != NULL && i < ph->nsteps; i++)
		if (plan_step_first_component(ph, i))
			n += r->hooks.dropped(r->hooks.arg, ph->steps[i].arg);
	return n;
}

/* The final line itself, with the exit code when the daemon tells it. */
static void plan_final_line(struct plan_run *r, const char *msg, const char *phases)
{
	enum log_level level = r->warning ? LOG_LEVEL_WARN : LOG_LEVEL_INFO;
	int64_t dur = clock_now_ms(r->clk) - r->start_ms;

	if (r->hooks.exit_code == NULL) {
		log_final(level, "plan", msg, log_str("phases", phases),
			  log_ms("duration_ms", dur));
		return;
	}
	log_final(level, "plan", msg, log_str("phases", phases), log_ms("duration_ms", dur),
		  log_int("exit_code", r->hooks.exit_code(r->hooks.arg, r->warning)));
}

/* Write the final line and tell the daemon. */
static void plan_finish(struct plan_run *r)
{
	char sum[1024], warn[1100];
	size_t off = 0;

	sum[0] = '\0';
	for (size_t i = 0; i < r->p->nphases; i++)
		r->warning = r->warning || r->outcomes[i] != PLAN_OUTCOME_COMPLETED;
	for (size_t i = 0; i < r->p->nphases && off < sizeof(sum); i++) {
		plan_appendf(sum, sizeof(sum), &off, "%s%s=%s(%lldms)", i ? ", " : "",
			     r->p->phases[i].name, plan_outcome_name(r->outcomes[i]),
			     (long long)r->durations[i]);
	}
	plan_mark_truncated(sum, sizeof(sum), off);
	r->done = true;
	if (r->hooks.claim_final != NULL && !r->hooks.claim_final(r->hooks.arg))
		return; /* the watchdog writes the final line and ends the process */
	if (snprintf(warn, sizeof(warn), "shutdown complete with warning: %s", sum) < 0)
		memcpy(warn, "shutdown complete with warning",
		       sizeof("shutdown complete with warning"));
	plan_final_line(r, r->warning ? warn : "shutdown complete", sum);
	if (r->hooks.on_done != NULL)
		r->hooks.on_done(r->hooks.arg, r->warning);
}

/* A further shutdown signal: escalate as the plan says. */
void plan_run_signal(struct plan_run *r)
{
	enum plan_escalation e = r->p->second_signal;
	bool last = r->phase + 1 >= r->p->nphases;

	if (!r->started || r->done)
		return;
	log_warn("plan", "second shutdown signal", log_str("action", plan_escalation_name(e)),
		 log_str("phase", r->p->phases[r->phase].name));
	if (e == PLAN_ESCALATE_IGNORE || (e == PLAN_ESCALATE_SKIP_TO_LAST && last))
		return;
	r->esc = e == PLAN_ESCALATE_EXIT_NOW ? PLAN_ESC_EXIT : PLAN_ESC_LAST;
	r->esc_signal = true;
	if (r->waiting == PLAN_WAIT_ABORT)
		return; /* the abort under way ends the phase */
	plan_cut_phase(r, PLAN_OUTCOME_ESCALATED);
}

/* Whether the plan has finished. */
bool plan_run_done(const struct plan_run *r)
{
	return r->done;
}

/* Whether it finished with a warning. */
bool plan_run_warning(const struct plan_run *r)
{
	return r->warning;
}

/* The outcome of phase i. */
enum plan_outcome plan_run_outcome(const struct plan_run *r, size_t i)
{
	return i < r->p->nphases ? r->outcomes[i] : PLAN_OUTCOME_PENDING;
}

/* The duration of phase i in ms. */
int64_t plan_run_duration_ms(const struct plan_run *r, size_t i)
{
	return i < r->p->nphases ? r->durations[i] : 0;
}
