/*
 * plan.h - the shutdown plan: its model, loader, env overrides and validator.
 *
 * A plan is loaded from YAML (plan_load_*), its budgets are then layered
 * with environment variables (plan_apply_env) and it is validated against
 * a static catalogue of component descriptions (plan_validate), so the
 * same code path serves `keycastd serve` at boot and `keycastd plan check`.
 * Every finding goes into a struct diag with file:line:col. All budgets
 * are int64 milliseconds, clamped to PLAN_SANITY_MS, summed saturating.
 */
#ifndef KC_PLAN_H
#define KC_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct component_desc;
struct diag;
struct env;

/* The largest plan file read, in bytes (1 MiB). */
#define PLAN_MAX_BYTES ((size_t)1024 * 1024)
/* The deepest nesting of mappings and sequences a plan may have (it needs 6). */
#define PLAN_MAX_DEPTH 64
/* The most phases of a plan, steps of a phase and components of an abort list. */
#define PLAN_MAX_ITEMS 64
/* The most loader errors reported for one plan (the rest are counted, not listed). */
#define PLAN_MAX_ERRORS 100

/* Per-field sanity ceiling: one day. */
#define PLAN_SANITY_MS ((int64_t)86400 * 1000)
/* Budget value meaning "this phase runs within the teardown margin". */
#define PLAN_BUDGET_MARGIN (-1)
/* Wait value meaning "the rest of the phase budget". */
#define PLAN_WAIT_REST (-1)
/* The default budget_warning: a phase warns once when it has used 80 % of its budget. */
#define PLAN_BUDGET_WARNING_DEFAULT 80

/* What a step does; the interpreter dispatches on it through a table. */
enum plan_step_kind {
	PLAN_STEP_READINESS,	  /* readiness: fail|pass -> hook */
	PLAN_STEP_WAIT,		  /* wait: DURATION | rest-of-budget */
	PLAN_STEP_STOP_ACCEPTING, /* stop-accepting: COMPONENT */
	PLAN_STEP_DRAIN,	  /* drain: COMPONENT (awaits completion) */
	PLAN_STEP_CLOSE,	  /* close: COMPONENT (awaits completion) */
	PLAN_STEP_LOG,		  /* log: TEXT */
	PLAN_STEP_KIND_COUNT_,
};

/* What happens when a phase's budget runs out. */
enum plan_timeout_kind {
	PLAN_TIMEOUT_CONTINUE, /* log it, go on with the next phase */
	PLAN_TIMEOUT_ABORT,    /* abort the named components, await confirmation */
	PLAN_TIMEOUT_EXIT_NOW, /* skip every later phase, finish now */
};

/* What a second SIGTERM/SIGINT does while the plan runs. */
enum plan_escalation {
	PLAN_ESCALATE_SKIP_TO_LAST, /* abort the current phase, run the last one */
	PLAN_ESCALATE_EXIT_NOW,	    /* abort the current phase, skip all the rest */
	PLAN_ESCALATE_IGNORE,	    /* log the signal, keep running */
};

/* Where an effective budget came from. */
enum plan_origin {
	PLAN_ORIGIN_DEFAULT, /* the built-in default plan (no plan file given) */
	PLAN_ORIGIN_FILE,    /* the plan file */
	PLAN_ORIGIN_ENV,     /* an environment variable */
};

/* Position of a node in the plan file (1-based; 0 = none). */
struct plan_pos {
	unsigned line, col;
};

/* One step of a phase. */
struct plan_step {
	enum plan_step_kind kind;
	char *arg;	 /* component name or log text (owned), or NULL */
	bool ready;	 /* READINESS: the value to set */
	int64_t wait_ms; /* WAIT: duration or PLAN_WAIT_REST */
	struct plan_pos pos;
};

/* A budget with its origin, env binding and default. */
struct plan_budget {
	int64_t ms;	    /* effective value, or PLAN_BUDGET_MARGIN */
	int64_t default_ms; /* the value env errors fall back to */
	enum plan_origin origin;
	char *env; /* bound env variable (owned), or NULL */
	struct plan_pos pos;
	struct plan_pos env_pos; /* where env is bound */
};

/* One phase. */
struct plan_phase {
	char *name; /* owned */
	struct plan_budget budget;
	struct plan_step *steps;
	size_t nsteps;
	enum plan_timeout_kind on_timeout;
	char **abort;		    /* components to abort on timeout (owned) */
	struct plan_pos *abort_pos; /* where each is named */
	size_t nabort;
	struct plan_pos pos, timeout_pos;
};

/* A loaded plan. */
struct plan {
	char *file; /* name used in findings (owned) */
	int version;
	struct plan_budget ceiling;
	struct plan_budget margin;
	int64_t abort_wait_ms; /* bound on waiting for an abort confirmation */
	int budget_warning;    /* percent of a phase's budget that warns once (1..99); 0: off */
	bool strict;
	enum plan_escalation second_signal;
	struct plan_phase *phases;
	size_t nphases;
	struct plan_pos mode_pos;
	struct plan_pos budget_warning_pos;
};

/*
 * Load a plan from YAML text named name. Every problem goes to d; returns
 * 0 when the plan is usable (no error found), -1 otherwise. *p is always
 * initialised; plan_free it either way. Text above PLAN_MAX_BYTES, or
 * nested deeper than PLAN_MAX_DEPTH, is refused before it is composed, so
 * any input costs time and memory linear in its size.
 */
int plan_load_string(struct plan *p, const char *name, const char *text, size_t len, struct diag *d)
	__attribute__((warn_unused_result));

/* Load a plan from a file (see plan_load_string; a larger file is not read). */
int plan_load_file(struct plan *p, const char *path, struct diag *d)
	__attribute__((warn_unused_result));

/* Load the built-in default plan (plans/default.yaml embedded at build); origins "default". */
int plan_load_default(struct plan *p, struct diag *d) __attribute__((warn_unused_result));

/* The embedded text of plans/default.yaml. */
extern const char plan_default_yaml[];
/* Its length in bytes. */
extern const size_t plan_default_yaml_len;

/* Release a plan; it is zeroed afterwards. */
void plan_free(struct plan *p);

/*
 * Layer env over the plan's budgets: every budget bound to a variable that
 * env sets takes its value in whole seconds; an unparsable, negative or
 * above-one-day value keeps the field's default with a warning in d.
 */
void plan_apply_env(struct plan *p, const struct env *env, struct diag *d);

/*
 * Validate p against the component catalogue descs[0..n): components,
 * ordering, unreachable steps and the fit in the ceiling. Every finding
 * goes to d. Returns the number of errors.
 */
size_t plan_validate(const struct plan *p, const struct component_desc *const *descs, size_t n,
		     struct diag *d);

/* Sum of the phase budgets (margin phases excluded), saturating. */
int64_t plan_total_ms(const struct plan *p);

/*
 * The worst case without a second signal: every phase runs out its budget
 * (the margin for the last) and every abort waits the whole abort_wait;
 * saturating. Informational: the fit against the ceiling counts budgets only.
 */
int64_t plan_worst_ms(const struct plan *p);

/* The number of phases whose timeout aborts components (each may add abort_wait). */
size_t plan_abort_phases(const struct plan *p);

/* The effective budget of phase i (a margin phase gets the margin). */
int64_t plan_phase_budget_ms(const struct plan *p, size_t i);

/* a + b for non-negative a, b, saturating at INT64_MAX. */
int64_t plan_add_ms(int64_t a, int64_t b);

/*
 * Parse "500ms", "10s", "2m", "1h" (or a bare 0). 0; -1 if s is not a
 * duration; -2 if it is one above PLAN_SANITY_MS (one day; *ms untouched).
 */
int plan_duration_parse(int64_t *ms, const char *s) __attribute__((warn_unused_result));

/*
 * Parse a budget_warning: "80%" (a whole percentage 1..99) into *pct, or
 * "off" into 0. 0, or -1 if s (NULL allowed) is neither.
 */
int plan_budget_warning_parse(int *pct, const char *s) __attribute__((warn_unused_result));

/* The moment phase i warns, in ms after it starts; -1 if it never does (off, or no budget). */
int64_t plan_phase_warn_ms(const struct plan *p, size_t i);

/* Format ms as "10s", "1.5s", "500ms" into buf. */
const char *plan_duration_format(char *buf, size_t len, int64_t ms);

/* Parse whole seconds (digits only) into ms; -1 if bad, -2 if above 1 day. */
int plan_env_secs_parse(int64_t *ms, const char *s) __attribute__((warn_unused_result));

/* Lower-case names for logs and output. */
const char *plan_step_kind_name(enum plan_step_kind k);
/* The name of an origin. */
const char *plan_origin_name(enum plan_origin o);
/* The name of a timeout action. */
const char *plan_timeout_name(enum plan_timeout_kind k);
/* The name of an escalation. */
const char *plan_escalation_name(enum plan_escalation e);
/* The name of a mode: "strict" or "warn". */
const char *plan_mode_name(bool strict);
/* The word of a readiness step: "pass" or "fail". */
const char *plan_readiness_name(bool ready);

/*
 * The parsers below read the same words as the names above, from the same
 * table per enum: 0, or -1 if s (NULL allowed) is none of them.
 */
/* Parse a step kind. */
int plan_step_kind_parse(enum plan_step_kind *out, const char *s)
	__attribute__((warn_unused_result));
/* Parse a timeout action ("abort" included: the loader wants a list with it). */
int plan_timeout_parse(enum plan_timeout_kind *out, const char *s)
	__attribute__((warn_unused_result));
/* Parse an escalation. */
int plan_escalation_parse(enum plan_escalation *out, const char *s)
	__attribute__((warn_unused_result));
/* Parse a mode into *strict. */
int plan_mode_parse(bool *strict, const char *s) __attribute__((warn_unused_result));
/* Parse a readiness word into *ready. */
int plan_readiness_parse(bool *ready, const char *s) __attribute__((warn_unused_result));

#endif /* KC_PLAN_H */
