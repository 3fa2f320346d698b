/*
 * plan_run_int.h - the plan interpreter's state, shared by plan_run.c
 * (phases and steps) and plan_esc.c (what a second signal aborts).
 */
#ifndef KC_PLAN_RUN_INT_H
#define KC_PLAN_RUN_INT_H

#include "core/clock.h"
#include "core/component.h"
#include "plan/plan.h"
#include "plan/plan_run.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the runner is waiting for. */
enum plan_wait {
	PLAN_WAIT_NONE,	     /* running steps */
	PLAN_WAIT_TIMER,     /* a 'wait: DURATION' step */
	PLAN_WAIT_BUDGET,    /* a 'wait: rest-of-budget' step */
	PLAN_WAIT_COMPONENT, /* a drain or close completion */
	PLAN_WAIT_ABORT,     /* abort confirmations */
};

/* Pending escalation. */
enum plan_esc {
	PLAN_ESC_NONE, /* none */
	PLAN_ESC_LAST, /* go to the last phase */
	PLAN_ESC_EXIT, /* skip everything left */
};

/* The most components one escalation aborts (and one abort wait awaits). */
#define PLAN_ESC_MAX_TARGETS 32

struct plan_run {
	const struct plan *p;
	struct component_registry *reg;
	struct clock *clk;
	struct plan_hooks hooks;
	struct clock_timer *budget, *wait, *abort_timer;
	struct clock_timer *warn; /* the phase's budget warning */
	size_t phase, step;
	int64_t start_ms, phase_start_ms;
	int64_t wait_until_ms; /* when a 'wait: DURATION' step ends */
	enum plan_wait waiting;
	struct component *pending;
	enum component_op pending_op;
	struct component *awaited[PLAN_ESC_MAX_TARGETS]; /* aborts this wait awaits */
	size_t nawaited;
	struct component *esc_todo[PLAN_ESC_MAX_TARGETS]; /* escalation aborts not started yet */
	size_t nesc_todo;
	enum plan_esc esc;
	bool esc_signal;	/* the escalation came from a signal */
	bool esc_aborted;	/* its aborts of the skipped phases' components have started */
	bool abort_unconfirmed; /* an abort of this phase did not confirm in time */
	bool started, done, warning;
	size_t phase_inflight;	/* work in flight on the phase's components when it began */
	size_t phase_left;	/* ... when its budget ran out (SIZE_MAX: it did not) */
	uint64_t phase_dropped; /* work its components had dropped when it began */
	enum plan_outcome *outcomes;
	int64_t *durations;
};

/* Append to buf at *off; an error or a cut sets *off to len (marked by the caller). */
void plan_appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Mark buf[0..len) as cut with a trailing "..." when off ran past its end. */
void plan_mark_truncated(char *buf, size_t len, size_t off);

/* Await c's abort confirmation in this wait (once, however often it is aborted). */
void plan_await_add(struct plan_run *r, struct component *c);

/* An abort was confirmed; one this wait does not await (a late one) is only logged. */
void plan_on_aborted(void *arg, struct component *c, enum component_op op);

/*
 * plan_esc.c: a signal escalated: abort every component the current phase
 * and the phases it skips would stop, drain, close or abort, in dependency
 * waves. True if confirmations are awaited.
 */
bool plan_esc_abort(struct plan_run *r);

/* plan_esc.c: start the escalation's next wave of aborts (after a confirmation). */
void plan_esc_wave(struct plan_run *r);

#endif /* KC_PLAN_RUN_INT_H */
