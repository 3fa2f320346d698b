/*
 * plan_run.h - the plan interpreter: runs a validated plan against a
 * component registry on a clock.
 *
 * Each phase runs its steps in order under one budget timer; on expiry the
 * phase's timeout action runs and an abort is awaited (at most the plan's
 * abort_wait) before the next phase starts. Components the plan names but
 * the registry lacks are skipped with a log line. A second signal that
 * escalates aborts every component the current and the skipped phases would
 * stop, drain, close or abort, in dependency waves (dependents confirmed
 * first), all within one abort_wait, before the next phase; only the
 * confirmations a wait awaits count. The interpreter knows
 * nothing of HTTP: readiness and observation go through struct plan_hooks.
 * It always ends with one final log line, "shutdown complete" or
 * "shutdown complete with warning: ...", written whatever the log level.
 * A phase that has used the plan's budget_warning share of its budget
 * while it waits on a component logs one warning naming the step it
 * waits on and the work still in flight (a planned wait does not warn).
 */
#ifndef KC_PLAN_RUN_H
#define KC_PLAN_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock;
struct component_registry;
struct plan;
struct plan_run;

/* How a phase ended. */
enum plan_outcome {
	PLAN_OUTCOME_PENDING,		   /* not finished (yet) */
	PLAN_OUTCOME_COMPLETED,		   /* every step finished inside the budget */
	PLAN_OUTCOME_COMPLETED_WITH_DROPS, /* ... but a component dropped stuck work to do it */
	PLAN_OUTCOME_TIMED_OUT,		   /* budget ran out; on_timeout: continue / exit-now */
	PLAN_OUTCOME_TIMED_OUT_ABORTED,	   /* budget ran out; the abort was confirmed */
	PLAN_OUTCOME_ABORT_UNCONFIRMED,	   /* budget ran out; the abort did not confirm in time */
	PLAN_OUTCOME_ESCALATED,		   /* cut short by a second signal */
	PLAN_OUTCOME_SKIPPED,		   /* never started (escalation or exit-now) */
};

/* What the daemon supplies: readiness, and observers. Any entry may be NULL. */
struct plan_hooks {
	/* Set the readiness the probes report. */
	void (*set_ready)(void *arg, bool ready);
	/* Phase i starts now (for service managers: daemon/notify.h). */
	void (*on_phase_start)(void *arg, size_t i);
	/* A phase ended (for metrics). */
	void (*on_phase_end)(void *arg, const char *phase, enum plan_outcome outcome,
			     int64_t duration_ms);
	/* The plan finished; warning is true unless every phase completed. */
	void (*on_done)(void *arg, bool warning);
	/*
	 * May the plan write the final line? false: another writer (the
	 * watchdog) has claimed it; the plan then writes nothing, and on_done
	 * is not called. NULL: always.
	 */
	bool (*claim_final)(void *arg);
	/*
	 * How many units of work component has dropped so far (work its close
	 * had to cut: a stuck query cancelled and its connection dropped). A
	 * phase whose components dropped work while it ran ends
	 * completed_with_drops, not completed. NULL: never.
	 */
	uint64_t (*dropped)(void *arg, const char *component);
	/* The exit code the process will have, for the final line (warning: as on_done). */
	int (*exit_code)(void *arg, bool warning);
	void *arg;
};

/* A runner for p (borrowed, like reg and clk, for its lifetime). NULL on ENOMEM. */
struct plan_run *plan_run_new(const struct plan *p, struct component_registry *reg,
			      struct clock *clk, const struct plan_hooks *hooks);

/* Start the plan (the first shutdown signal) now. */
void plan_run_start(struct plan_run *r);

/*
 * Start the plan as of clock time t0_ms (the instant of the first signal,
 * not later than now): the first phase's budget and the plan's duration
 * count from t0_ms, so they share their origin with the watchdog's deadline.
 */
void plan_run_start_at(struct plan_run *r, int64_t t0_ms);

/* A further shutdown signal: escalate as the plan says. */
void plan_run_signal(struct plan_run *r);

/* Whether the plan has finished (the final line is written). */
bool plan_run_done(const struct plan_run *r);

/* Whether it finished with a warning. */
bool plan_run_warning(const struct plan_run *r);

/* The outcome of phase i. */
enum plan_outcome plan_run_outcome(const struct plan_run *r, size_t i);

/* The duration of phase i in ms (0 if it did not run). */
int64_t plan_run_duration_ms(const struct plan_run *r, size_t i);

/* The lower-case name of an outcome. */
const char *plan_outcome_name(enum plan_outcome o);

/* Free the runner (timers stopped; nothing is delivered later). NULL ignored. */
void plan_run_free(struct plan_run *r);

#endif /* KC_PLAN_RUN_H */
