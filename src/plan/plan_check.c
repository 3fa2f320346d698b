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

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Context of one validation run. */
struct plan_vctx {
	const struct plan *p;
	const struct component_desc *const *descs;
	size_t n;
	struct diag *d;
};

static void plan_env_one(struct plan_budget *b, const char *field, const struct env *env,
			 struct diag *d);
static void plan_check_components(struct plan_vctx *v);
static void plan_check_names(struct plan_vctx *v);
static void plan_check_order(struct plan_vctx *v);
static void plan_check_close_order(struct plan_vctx *v);
static void plan_check_unreachable(struct plan_vctx *v);
static void plan_check_margin_phase(struct plan_vctx *v);
static void plan_check_fit(struct plan_vctx *v);

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

/* Layer env over the plan's budgets. */
void plan_apply_env(struct plan *p, const struct env *env, struct diag *d)
{
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

/* Only the last phase may run within the teardown margin. */
static void plan_check_margin_phase(struct plan_vctx *v)
{
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

/* Report where a budget's value came from, for the fit message. */
static void plan_fit_location(const struct plan *p, char *file, size_t len, struct plan_pos *pos)
{
	if (p->ceiling.origin == PLAN_ORIGIN_ENV) {
		snprintf(file, len, "env %s", p->ceiling.env);
		*pos = (struct plan_pos){0};
	} else {
		snprintf(file, len, "%s", p->file);
		*pos = p->ceiling.pos;
	}
}

/* The sum of the phase budgets plus the margin must fit in the ceiling. */
static void plan_check_fit(struct plan_vctx *v)
{
	const struct plan *p = v->p;
	int64_t total = plan_add_ms(plan_total_ms(p), p->margin.ms);
	char msg[1024], b1[32], file[200];
	struct plan_pos pos;
	size_t off = 0;

	if (total <= p->ceiling.ms)
		return;
	for (size_t i = 0; i < p->nphases && off < sizeof(msg); i++) {
		if (p->phases[i].budget.ms == PLAN_BUDGET_MARGIN)
			continue;
		off += (size_t)snprintf(
			msg + off, sizeof(msg) - off, "%s %s + ",
			p->phases[i].name ? p->phases[i].name : "?",
			plan_duration_format(b1, sizeof(b1), p->phases[i].budget.ms));
	}
	plan_fit_location(p, file, sizeof(file), &pos);
	diag_add(v->d, p->strict ? DIAG_ERROR : DIAG_WARNING, file, pos.line, pos.col,
		 "the plan does not fit its ceiling: %steardown margin %s = %" PRId64
		 "s > ceiling %" PRId64 "s; lower a budget or raise the ceiling",
		 off < sizeof(msg) ? msg : "", plan_duration_format(b1, sizeof(b1), p->margin.ms),
		 total / 1000, p->ceiling.ms / 1000);
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
	plan_check_fit(&v);
	return diag_count(d, DIAG_ERROR) - before;
}
