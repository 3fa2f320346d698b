/*
 * plan_check.c - env overrides and the validator of a loaded plan.
 *
 * One code path for boot and `keycastd plan check`: the caller loads,
 * calls plan_apply_env, then plan_validate, and reads the findings.
 */
#include "plan/plan.h"

#include "core/component.h"
#include "core/diag.h"
#include "core/env.h"
#include "plan/plan_watchdog.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The prefix of the variables that tune the shutdown. */
#define PLAN_ENV_PREFIX "SHUTDOWN_"

extern char **environ;

/* SHUTDOWN_* variables read elsewhere than by a plan's budgets (the config's). */
static const char *const plan_env_not_budgets[] = {"SHUTDOWN_PLAN"};

/* Context of one validation run. */
struct plan_vctx {
	const struct plan *p;
	const struct component_desc *const *descs;
	size_t n;
	struct diag *d;
};

static void plan_env_one(struct plan_budget *b, const char *field, const struct env *env,
			 struct diag *d);
static void plan_env_unbound(const struct plan *p, const struct env *env, struct diag *d);
static void plan_check_components(struct plan_vctx *v);
static void plan_check_names(struct plan_vctx *v);
static void plan_check_order(struct plan_vctx *v);
static void plan_check_close_order(struct plan_vctx *v);
static void plan_check_unreachable(struct plan_vctx *v);
static void plan_check_margin_phase(struct plan_vctx *v);
static bool plan_check_fit(struct plan_vctx *v);
static void plan_check_watchdog(struct plan_vctx *v);

/* Whether a step kind acts on a component. */
static bool plan_step_is_component(enum plan_step_kind k)
{
	return k == PLAN_STEP_STOP_ACCEPTING || k == PLAN_STEP_DRAIN || k == PLAN_STEP_CLOSE;
}

/* Layer one env variable over one budget. */
static void plan_env_one(struct plan_budget *b, const char *field, const struct env *env,
			 struct diag *d)
{
	const char *val = b->env ? env_get(env, b->env) : NULL;
	char name[160], def[32];
	int64_t ms;
	int rc;

	if (val == NULL || b->ms == PLAN_BUDGET_MARGIN)
		return;
	snprintf(name, sizeof(name), "env %s", b->env);
	plan_duration_format(def, sizeof(def), b->default_ms);
	rc = plan_env_secs_parse(&ms, val);
	if (rc == 0) {
		b->ms = ms;
		b->origin = PLAN_ORIGIN_ENV;
	} else if (rc == -1)
		diag_add(d, DIAG_WARNING, name, 0, 0,
			 "%s='%s' is not a whole number of seconds; %s keeps its default %s",
			 b->env, val, field, def);
	else
		diag_add(d, DIAG_WARNING, name, 0, 0,
			 "%s='%s' is above the sanity ceiling of 86400 s (1 day); "
			 "%s keeps its default %s",
			 b->env, val, field, def);
}

/* Whether the plan binds a budget to variable name (len bytes). */
static bool plan_env_bound(const struct plan *p, const char *name, size_t len)
{
	const char *bound[3] = {p->ceiling.env, p->margin.env, NULL};

	for (size_t i = 0; i < sizeof(plan_env_not_budgets) / sizeof(plan_env_not_budgets[0]); i++)
		if (strlen(plan_env_not_budgets[i]) == len &&
		    strncmp(plan_env_not_budgets[i], name, len) == 0)
			return true;
	for (size_t i = 0; i < p->nphases + 2; i++) {
		const char *b = i < 2 ? bound[i] : p->phases[i - 2].budget.env;

		if (b != NULL && strlen(b) == len && strncmp(b, name, len) == 0)
			return true;
	}
	return false;
}

/* Whether the variable of pair v (NAME=VALUE) was seen in vars[0..n) already. */
static bool plan_env_seen(char *const *vars, size_t n, const char *v, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(vars[i], v, len) == 0 && vars[i][len] == '=')
			return true;
	return false;
}

/* Warn about one NAME=VALUE pair if it is a SHUTDOWN_* variable the plan does not read. */
static void plan_env_unbound_one(const struct plan *p, const char *pair, size_t len, struct diag *d)
{
	char name[160];

	if (strncmp(pair, PLAN_ENV_PREFIX, strlen(PLAN_ENV_PREFIX)) != 0 ||
	    plan_env_bound(p, pair, len))
		return;
	snprintf(name, sizeof(name), "env %.*s", (int)len, pair);
	diag_add(d, DIAG_WARNING, name, 0, 0,
		 "%.*s is set ('%s') but the plan binds no budget to it, so it changes nothing; "
		 "bind it ('env: %.*s' on a phase, ceiling_env or teardown_margin_env) or unset "
		 "it",
		 (int)len, pair, pair + len + 1, (int)len, pair);
}

/*
 * Warn about every SHUTDOWN_* variable env sets (its overlay, then the
 * process env when it falls back to it) that no budget of p reads; each once.
 */
static void plan_env_unbound(const struct plan *p, const struct env *env, struct diag *d)
{
	for (size_t i = 0; i < env->n; i++) {
		size_t len = strcspn(env->pairs[i], "=");

		if (env->pairs[i][len] == '=' && !plan_env_seen(env->pairs, i, env->pairs[i], len))
			plan_env_unbound_one(p, env->pairs[i], len, d);
	}
	for (size_t i = 0; env->use_process && environ != NULL && environ[i] != NULL; i++) {
		size_t len = strcspn(environ[i], "=");

		if (environ[i][len] == '=' && !plan_env_seen(env->pairs, env->n, environ[i], len) &&
		    !plan_env_seen(environ, i, environ[i], len))
			plan_env_unbound_one(p, environ[i], len, d);
	}
}

/* Layer env over the plan's budgets; warn about SHUTDOWN_* variables it does not read. */
void plan_apply_env(struct plan *p, const struct env *env, struct diag *d)
{
	plan_env_unbound(p, env, d);
	plan_env_one(&p->ceiling, "the ceiling", env, d);
	plan_env_one(&p->margin, "the teardown margin", env, d);
	for (size_t i = 0; i < p->nphases; i++) {
		char field[128];

		snprintf(field, sizeof(field), "phase %s",
			 p->phases[i].name ? p->phases[i].name : "?");
		plan_env_one(&p->phases[i].budget, field, env, d);
	}
}

/* Report an unknown component name at pos. */
static void plan_check_name(struct plan_vctx *v, const char *name, struct plan_pos pos)
{
	char known[256] = "";
	size_t off = 0;

	if (name == NULL || component_desc_find(v->descs, v->n, name) != NULL)
		return;
	for (size_t i = 0; i < v->n && off < sizeof(known); i++)
		off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s", i ? ", " : "",
					v->descs[i]->name);
	diag_add(v->d, DIAG_ERROR, v->p->file, pos.line, pos.col,
		 "unknown component '%s'; known components: %s", name, known);
}

/* Every component a step or a timeout action names must be in the catalogue. */
static void plan_check_components(struct plan_vctx *v)
{
	for (size_t i = 0; i < v->p->nphases; i++) {
		const struct plan_phase *ph = &v->p->phases[i];

		for (size_t j = 0; j < ph->nsteps; j++)
			if (plan_step_is_component(ph->steps[j].kind))
				plan_check_name(v, ph->steps[j].arg, ph->steps[j].pos);
		for (size_t j = 0; j < ph->nabort; j++)
			plan_check_name(v, ph->abort[j], ph->abort_pos[j]);
	}
}

/* Phase names are unique. */
static void plan_check_names(struct plan_vctx *v)
{
	for (size_t i = 0; i < v->p->nphases; i++) {
		const struct plan_phase *a = &v->p->phases[i];

		for (size_t j = 0; j < i && a->name != NULL; j++) {
			const struct plan_phase *b = &v->p->phases[j];

			if (b->name != NULL && strcmp(a->name, b->name) == 0)
				diag_add(v->d, DIAG_ERROR, v->p->file, a->pos.line, a->pos.col,
					 "duplicate phase name '%s' (first at line %u); rename one",
					 a->name, b->pos.line);
		}
	}
}

/* Readiness must fail before any component stops accepting. */
static void plan_check_order(struct plan_vctx *v)
{
	for (size_t i = 0; i < v->p->nphases; i++) {
		const struct plan_phase *ph = &v->p->phases[i];

		for (size_t j = 0; j < ph->nsteps; j++) {
			const struct plan_step *s = &ph->steps[j];

			if (s->kind == PLAN_STEP_READINESS && !s->ready)
				return;
			if (plan_step_is_component(s->kind)) {
				diag_add(v->d, DIAG_ERROR, v->p->file, s->pos.line, s->pos.col,
					 "%s %s before readiness fails; put '- readiness: fail' "
					 "in an earlier step so Kubernetes stops routing first",
					 plan_step_kind_name(s->kind), s->arg ? s->arg : "?");
				return;
			}
		}
	}
}

/* Whether component name is closed by a step before (pi, si). */
static bool plan_closed_before(const struct plan *p, const char *name, size_t pi, size_t si)
{
	for (size_t i = 0; i <= pi; i++) {
		size_t end = i == pi ? si : p->phases[i].nsteps;

		for (size_t j = 0; j < end; j++) {
			const struct plan_step *s = &p->phases[i].steps[j];

			if (s->kind == PLAN_STEP_CLOSE && s->arg && strcmp(s->arg, name) == 0)
				return true;
		}
	}
	return false;
}

/* Check one close step against every component that depends on its target. */
static void plan_check_close_step(struct plan_vctx *v, size_t pi, size_t si)
{
	const struct plan_step *s = &v->p->phases[pi].steps[si];

	for (size_t k = 0; k < v->n; k++) {
		const char *dep = v->descs[k]->name;

		if (strcmp(dep, s->arg) == 0 ||
		    !component_desc_depends_on(v->descs, v->n, dep, s->arg) ||
		    plan_closed_before(v->p, dep, pi, si))
			continue;
		diag_add(v->d, DIAG_ERROR, v->p->file, s->pos.line, s->pos.col,
			 "closes '%s' while '%s', which depends on it, is not closed yet; "
			 "add '- close: %s' in an earlier step",
			 s->arg, dep, dep);
	}
}

/* No component is closed before a component that depends on it. */
static void plan_check_close_order(struct plan_vctx *v)
{
	for (size_t i = 0; i < v->p->nphases; i++)
		for (size_t j = 0; j < v->p->phases[i].nsteps; j++)
			if (v->p->phases[i].steps[j].kind == PLAN_STEP_CLOSE &&
			    v->p->phases[i].steps[j].arg != NULL)
				plan_check_close_step(v, i, j);
}

/* Steps after 'wait: rest-of-budget' never run. */
static void plan_check_unreachable(struct plan_vctx *v)
{
	for (size_t i = 0; i < v->p->nphases; i++) {
		const struct plan_phase *ph = &v->p->phases[i];

		for (size_t j = 0; j + 1 < ph->nsteps; j++) {
			const struct plan_step *s = &ph->steps[j + 1];

			if (ph->steps[j].kind != PLAN_STEP_WAIT ||
			    ph->steps[j].wait_ms != PLAN_WAIT_REST)
				continue;
			diag_add(v->d, DIAG_WARNING, v->p->file, s->pos.line, s->pos.col,
				 "this step is unreachable: the step before waits for the rest of "
				 "phase %s's budget; move it before the wait",
				 ph->name ? ph->name : "?");
			break;
		}
	}
}

/* A phase run within the margin takes the margin's value: its own env would be ignored. */
static void plan_check_margin_env(struct plan_vctx *v, const struct plan_phase *ph)
{
	if (ph->budget.ms != PLAN_BUDGET_MARGIN || ph->budget.env == NULL)
		return;
	diag_add(v->d, DIAG_ERROR, v->p->file, ph->budget.env_pos.line, ph->budget.env_pos.col,
		 "phase %s runs within the teardown margin, so 'env: %s' cannot set its budget; "
		 "remove it, or bind the margin with 'teardown_margin_env: %s'",
		 ph->name ? ph->name : "?", ph->budget.env, ph->budget.env);
}

/* Only the last phase may run within the teardown margin, and with no env of its own. */
static void plan_check_margin_phase(struct plan_vctx *v)
{
	for (size_t i = 0; i < v->p->nphases; i++)
		plan_check_margin_env(v, &v->p->phases[i]);
	for (size_t i = 0; i + 1 < v->p->nphases; i++) {
		const struct plan_phase *ph = &v->p->phases[i];

		if (ph->budget.ms == PLAN_BUDGET_MARGIN)
			diag_add(
				v->d, DIAG_ERROR, v->p->file, ph->budget.pos.line,
				ph->budget.pos.col,
				"only the last phase may use 'budget: teardown-margin'; give phase "
				"%s a duration",
				ph->name ? ph->name : "?");
	}
}

/* The phases and the margin as the file says, without env overrides (saturating). */
static int64_t plan_file_total_ms(const struct plan *p)
{
	int64_t t = p->margin.default_ms;

	for (size_t i = 0; i < p->nphases; i++)
		if (p->phases[i].budget.ms != PLAN_BUDGET_MARGIN)
			t = plan_add_ms(t, p->phases[i].budget.default_ms);
	return t;
}

/* The first budget an env variable raised above the file's value, or NULL. */
static const struct plan_budget *plan_env_raised(const struct plan *p)
{
	if (p->margin.origin == PLAN_ORIGIN_ENV && p->margin.ms > p->margin.default_ms)
		return &p->margin;
	for (size_t i = 0; i < p->nphases; i++) {
		const struct plan_budget *b = &p->phases[i].budget;

		if (b->ms != PLAN_BUDGET_MARGIN && b->origin == PLAN_ORIGIN_ENV &&
		    b->ms > b->default_ms)
			return b;
	}
	return NULL;
}

/*
 * Where a finding about the ceiling is located: an env ceiling; else, when
 * the file's own values would pass (file_ok), the env variable that raised
 * a budget; else the ceiling's line in the file.
 */
static void plan_fit_location(const struct plan *p, bool file_ok, char *file, size_t len,
			      struct plan_pos *pos)
{
	const struct plan_budget *raised = file_ok ? plan_env_raised(p) : NULL;

	*pos = (struct plan_pos){0};
	if (p->ceiling.origin == PLAN_ORIGIN_ENV)
		snprintf(file, len, "env %s", p->ceiling.env);
	else if (raised != NULL)
		snprintf(file, len, "env %s", raised->env);
	else {
		snprintf(file, len, "%s", p->file);
		*pos = p->ceiling.pos;
	}
}

/* What a plan the watchdog would cut does: strict refuses it, warn runs it in full. */
static const char *plan_cut_consequence(const struct plan *p, char *buf, size_t len)
{
	char moved[32];

	if (p->strict)
		snprintf(buf, len, "mode strict: keycastd refuses to start");
	else
		snprintf(buf, len,
			 "mode warn: the plan runs in full and the watchdog fires at %s instead "
			 "(its worst case + 500ms), past the ceiling",
			 plan_duration_format(moved, sizeof(moved),
					      plan_watchdog_plan_deadline_ms(p)));
	return buf;
}

/* The sum of the phase budgets plus the margin must fit in the ceiling; whether it does. */
static bool plan_check_fit(struct plan_vctx *v)
{
	const struct plan *p = v->p;
	int64_t total = plan_add_ms(plan_total_ms(p), p->margin.ms);
	char msg[1024], b1[32], t[32], c[32], file[200], then[192];
	struct plan_pos pos;
	size_t off = 0;

	if (total <= p->ceiling.ms)
		return true;
	for (size_t i = 0; i < p->nphases && off < sizeof(msg); i++) {
		if (p->phases[i].budget.ms == PLAN_BUDGET_MARGIN)
			continue;
		off += (size_t)snprintf(
			msg + off, sizeof(msg) - off, "%s %s + ",
			p->phases[i].name ? p->phases[i].name : "?",
			plan_duration_format(b1, sizeof(b1), p->phases[i].budget.ms));
	}
	plan_fit_location(p, plan_file_total_ms(p) <= p->ceiling.ms, file, sizeof(file), &pos);
	diag_add(v->d, p->strict ? DIAG_ERROR : DIAG_WARNING, file, pos.line, pos.col,
		 "the plan does not fit its ceiling: %steardown margin %s = %s > ceiling %s; %s; "
		 "lower a budget or raise the ceiling",
		 off < sizeof(msg) ? msg : "", plan_duration_format(b1, sizeof(b1), p->margin.ms),
		 plan_duration_format(t, sizeof(t), total),
		 plan_duration_format(c, sizeof(c), p->ceiling.ms),
		 plan_cut_consequence(p, then, sizeof(then)));
	return false;
}

/* The smallest ceiling whose watchdog deadline comes after worst_ms. */
static int64_t plan_ceiling_needed_ms(int64_t worst_ms)
{
	if (worst_ms >= PLAN_WATCHDOG_SLACK_MS)
		return plan_add_ms(worst_ms, PLAN_WATCHDOG_SLACK_MS + 1);
	return 2 * worst_ms + 2; /* a ceiling of 1 s or less: the deadline is half of it */
}

/*
 * A plan that fits must also end, in its worst case, before the watchdog's
 * deadline (equality cuts: both count from the signal): strict refuses
 * it, warn runs it in full and moves the watchdog past the worst case.
 */
static void plan_check_watchdog(struct plan_vctx *v)
{
	const struct plan *p = v->p;
	char w[32], a[32], dl[32], c[32], need[32], file[200], then[192];
	struct plan_pos pos;
	int64_t file_worst;

	if (!plan_watchdog_cuts(p))
		return;
	file_worst = plan_file_total_ms(p);
	for (size_t i = plan_abort_phases(p); i > 0; i--)
		file_worst = plan_add_ms(file_worst, p->abort_wait_ms);
	plan_fit_location(p, file_worst < plan_watchdog_deadline_ms(p->ceiling.ms), file,
			  sizeof(file), &pos);
	diag_add(
		v->d, p->strict ? DIAG_ERROR : DIAG_WARNING, file, pos.line, pos.col,
		"the plan's worst case %s (every phase times out, %zu abort wait(s) of %s) does "
		"not end before the watchdog's deadline %s (ceiling %s); %s; raise the ceiling "
		"to at least %s or lower a budget",
		plan_duration_format(w, sizeof(w), plan_worst_ms(p)), plan_abort_phases(p),
		plan_duration_format(a, sizeof(a), p->abort_wait_ms),
		plan_duration_format(dl, sizeof(dl), plan_watchdog_deadline_ms(p->ceiling.ms)),
		plan_duration_format(c, sizeof(c), p->ceiling.ms),
		plan_cut_consequence(p, then, sizeof(then)),
		plan_duration_format(need, sizeof(need), plan_ceiling_needed_ms(plan_worst_ms(p))));
}

/* Validate p against the component catalogue. Returns the number of errors. */
size_t plan_validate(const struct plan *p, const struct component_desc *const *descs, size_t n,
		     struct diag *d)
{
	struct plan_vctx v = {p, descs, n, d};
	size_t before = diag_count(d, DIAG_ERROR);

	plan_check_names(&v);
	plan_check_components(&v);
	plan_check_order(&v);
	plan_check_close_order(&v);
	plan_check_unreachable(&v);
	plan_check_margin_phase(&v);
	if (plan_check_fit(&v)) /* a misfit says what the watchdog does already */
		plan_check_watchdog(&v);
	return diag_count(d, DIAG_ERROR) - before;
}
