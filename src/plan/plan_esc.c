/*
 * plan_esc.c - escalation: what a second signal aborts. The components of
 * the current phase and of the phases it skips are aborted in dependency
 * waves (dependents first), all within one abort_wait.
 */
#include "plan/plan_run_int.h"

#include "core/log.h"

#include <string.h>

static void plan_esc_add(struct component **set, size_t *n, struct component *c);
static void plan_esc_collect(struct plan_run *r, size_t i, struct component **set, size_t *n);
static void plan_esc_order(struct plan_run *r, struct component **set, size_t n);
static bool plan_esc_blocked(struct plan_run *r, const struct component *c);
static size_t plan_esc_queue(struct plan_run *r, struct component **set, size_t n);

/* Add c to set[0..*n) unless it is there or the set is full. */
static void plan_esc_add(struct component **set, size_t *n, struct component *c)
{
	for (size_t i = 0; i < *n; i++)
		if (set[i] == c)
			return;
	if (c != NULL && *n < PLAN_ESC_MAX_TARGETS)
		set[(*n)++] = c;
}

/* Add the components phase i stops, drains, closes or aborts. */
static void plan_esc_collect(struct plan_run *r, size_t i, struct component **set, size_t *n)
{
	const struct plan_phase *ph = &r->p->phases[i];

	for (size_t j = 0; j < ph->nsteps; j++) {
		enum plan_step_kind k = ph->steps[j].kind;

		if (k == PLAN_STEP_STOP_ACCEPTING || k == PLAN_STEP_DRAIN || k == PLAN_STEP_CLOSE)
			plan_esc_add(set, n, component_find(r->reg, ph->steps[j].arg));
	}
	for (size_t j = 0; j < ph->nabort; j++)
		plan_esc_add(set, n, component_find(r->reg, ph->abort[j]));
}

/* Order set[0..n) dependents first: nothing later in the set depends on an earlier one. */
static void plan_esc_order(struct plan_run *r, struct component **set, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i; j < n; j++) {
			bool needed = false;

			for (size_t k = i; k < n && !needed; k++)
				needed = k != j &&
					 component_depends_on(r->reg, component_name(set[k]),
							      component_name(set[j]));
			if (!needed) {
				struct component *t = set[i];

				set[i] = set[j];
				set[j] = t;
				break;
			}
		}
	}
}

/* Whether something the escalation has yet to see confirmed depends on c. */
static bool plan_esc_blocked(struct plan_run *r, const struct component *c)
{
	for (size_t i = 0; i < r->nesc_todo + r->nawaited; i++) {
		const struct component *d =
			i < r->nesc_todo ? r->esc_todo[i] : r->awaited[i - r->nesc_todo];

		if (d != c && component_depends_on(r->reg, component_name(d), component_name(c)))
			return true;
	}
	return false;
}

/* Start the escalation's next wave: the aborts of what nothing unconfirmed depends on. */
void plan_esc_wave(struct plan_run *r)
{
	size_t i = 0;

	while (i < r->nesc_todo) {
		struct component *c = r->esc_todo[i];

		if (plan_esc_blocked(r, c)) {
			i++;
			continue;
		}
		memmove(&r->esc_todo[i], &r->esc_todo[i + 1],
			(r->nesc_todo - i - 1) * sizeof(r->esc_todo[0]));
		r->nesc_todo--;
		if (component_abort(c, plan_on_aborted, r) ==
		    0) /* refused: logged by the registry */
			plan_await_add(r, c);
		i = 0; /* a refused abort may unblock one seen before */
	}
}

/* Queue set[0..n) (dependents first) for abort and log the targets; how many are queued. */
static size_t plan_esc_queue(struct plan_run *r, struct component **set, size_t n)
{
	char names[512];
	size_t off = 0;

	names[0] = '\0';
	r->nesc_todo = 0;
	for (size_t i = 0; i < n; i++) {
		enum component_state st = component_state(set[i]);

		if (st == COMPONENT_ABORTING || st == COMPONENT_ABORTED || st == COMPONENT_CLOSED)
			continue; /* nothing of it runs any more, or it is aborting already */
		plan_appendf(names, sizeof(names), &off, "%s%s", r->nesc_todo ? " " : "",
			     component_name(set[i]));
		r->esc_todo[r->nesc_todo++] = set[i];
	}
	plan_mark_truncated(names, sizeof(names), off);
	if (r->nesc_todo > 0)
		log_warn("plan", "escalation: aborting what the skipped phases would stop",
			 log_str("phase", r->p->phases[r->phase].name), log_str("targets", names),
			 log_ms("abort_wait_ms", r->p->abort_wait_ms));
	return r->nesc_todo;
}

/*
 * A signal escalated: abort every component the current phase and the
 * phases it skips would stop, drain, close or abort, in dependency waves
 * (a component's abort starts once everything that depends on it has
 * confirmed), all within one abort_wait, before the next phase. True if
 * confirmations are awaited.
 */
bool plan_esc_abort(struct plan_run *r)
{
	struct component *set[PLAN_ESC_MAX_TARGETS];
	size_t end = r->esc == PLAN_ESC_EXIT ? r->p->nphases : r->p->nphases - 1, n = 0;

	r->esc_aborted = true;
	for (size_t i = r->phase; i < end; i++)
		plan_esc_collect(r, i, set, &n);
	plan_esc_order(r, set, n);
	r->nawaited = 0;
	if (plan_esc_queue(r, set, n) > 0)
		plan_esc_wave(r);
	if (r->nawaited == 0) {
		r->nesc_todo = 0;
		return false;
	}
	r->waiting = PLAN_WAIT_ABORT;
	clock_timer_start(r->abort_timer, r->p->abort_wait_ms);
	return true;
}
