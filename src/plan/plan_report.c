/*
 * plan_report.c - the timeline and findings of `keycastd plan check`.
 */
#include "plan/plan_report.h"

#include "core/diag.h"
#include "plan/plan.h"
#include "plan/plan_manifest.h"
#include "plan/plan_pod.h"
#include "plan/plan_svg.h"
#include "plan/plan_unit.h"
#include "plan/plan_watchdog.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* One printer per format. */
typedef void (*plan_report_fn)(const struct plan_report *r, FILE *out);

static void plan_report_text(const struct plan_report *r, FILE *out);
static void plan_report_json(const struct plan_report *r, FILE *out);
static void plan_report_github(const struct plan_report *r, FILE *out);

static const struct {
	const char *name;
	plan_report_fn print;
} plan_report_formats[] = {
	[PLAN_REPORT_TEXT] = {"text", plan_report_text},
	[PLAN_REPORT_JSON] = {"json", plan_report_json},
	[PLAN_REPORT_GITHUB] = {"github", plan_report_github},
	[PLAN_REPORT_SVG] = {"svg", plan_svg_print},
};

#define NFORMATS (sizeof(plan_report_formats) / sizeof(plan_report_formats[0]))

/* Parse "text|json|github|svg". */
int plan_report_format_parse(enum plan_report_format *f, const char *s)
{
	for (size_t i = 0; s != NULL && i < NFORMATS; i++) {
		if (strcmp(s, plan_report_formats[i].name) == 0) {
			*f = (enum plan_report_format)i;
			return 0;
		}
	}
	return -1;
}

/* Print the report in format f. */
void plan_report_print(const struct plan_report *r, enum plan_report_format f, FILE *out)
{
	plan_report_formats[(unsigned)f < NFORMATS ? f : PLAN_REPORT_TEXT].print(r, out);
}

/* "10s (file)", "3s (env NAME)" for a budget. */
static const char *plan_report_budget(char *buf, size_t len, const struct plan *p, size_t i)
{
	const struct plan_budget *b = &p->phases[i].budget;
	char d[32];

	plan_duration_format(d, sizeof(d), plan_phase_budget_ms(p, i));
	if (b->ms == PLAN_BUDGET_MARGIN)
		snprintf(buf, len, "%s (margin)", d);
	else
		snprintf(buf, len, "%s (%s%s%s)", d, plan_origin_name(b->origin),
			 b->origin == PLAN_ORIGIN_ENV ? " " : "",
			 b->origin == PLAN_ORIGIN_ENV ? b->env : "");
	return buf;
}

/* The steps of a phase as "readiness fail; wait rest-of-budget". */
static const char *plan_report_steps(char *buf, size_t len, const struct plan_phase *ph)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t j = 0; j < ph->nsteps && off < len; j++) {
		const struct plan_step *s = &ph->steps[j];
		char w[32];
		const char *arg = s->arg;

		if (s->kind == PLAN_STEP_READINESS)
			arg = plan_readiness_name(s->ready);
		else if (s->kind == PLAN_STEP_WAIT)
			arg = s->wait_ms == PLAN_WAIT_REST
				      ? "rest-of-budget"
				      : plan_duration_format(w, sizeof(w), s->wait_ms);
		off += (size_t)snprintf(buf + off, len - off, "%s%s %s", j ? "; " : "",
					plan_step_kind_name(s->kind), arg ? arg : "");
	}
	return buf;
}

/* The timeout action as "abort http, db". */
static const char *plan_report_timeout(char *buf, size_t len, const struct plan_phase *ph)
{
	size_t off = (size_t)snprintf(buf, len, "%s", plan_timeout_name(ph->on_timeout));

	for (size_t j = 0; j < ph->nabort && off < len; j++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", j ? ", " : " ", ph->abort[j]);
	return buf;
}

/* The worst case with every abort wait, against the watchdog's deadline. */
static void plan_report_worst(const struct plan *p, FILE *out)
{
	char w[32], a[32], d[32], c[32], why[160] = "";

	if (plan_watchdog_cuts(p) && p->strict)
		snprintf(why, sizeof(why), ": it would cut that shutdown (mode strict refuses it)");
	else if (plan_watchdog_cuts(p))
		snprintf(why, sizeof(why),
			 " (the worst case + 500ms: at %s, the ceiling's deadline, it would cut "
			 "that shutdown)",
			 plan_duration_format(c, sizeof(c),
					      plan_watchdog_deadline_ms(p->ceiling.ms)));
	fprintf(out,
		"worst case: %s (every phase times out, %zu abort wait(s) of %s); watchdog at "
		"%s%s\n",
		plan_duration_format(w, sizeof(w), plan_worst_ms(p)), plan_abort_phases(p),
		plan_duration_format(a, sizeof(a), p->abort_wait_ms),
		plan_duration_format(d, sizeof(d), plan_watchdog_plan_deadline_ms(p)), why);
}

/* The timeline table. */
static void plan_report_timeline(const struct plan *p, FILE *out)
{
	char a[32], b[64], c[32], m[32], s[512], t[128];
	int64_t at = 0;

	fprintf(out, "plan %s: version %d, mode %s, second signal: %s, budget warning: ", p->file,
		p->version, plan_mode_name(p->strict), plan_escalation_name(p->second_signal));
	if (p->budget_warning > 0)
		fprintf(out, "at %d%%\n", p->budget_warning);
	else
		fprintf(out, "off\n");
	fprintf(out, "  %-8s %-34s %-16s %-24s %s\n", "start", "budget", "phase", "on timeout",
		"steps");
	for (size_t i = 0; i < p->nphases; i++) {
		const struct plan_phase *ph = &p->phases[i];

		fprintf(out, "  %-8s %-34s %-16s %-24s %s\n",
			plan_duration_format(a, sizeof(a), at),
			plan_report_budget(b, sizeof(b), p, i), ph->name ? ph->name : "?",
			plan_report_timeout(t, sizeof(t), ph), plan_report_steps(s, sizeof(s), ph));
		if (ph->budget.ms != PLAN_BUDGET_MARGIN)
			at = plan_add_ms(at, ph->budget.ms);
	}
	fprintf(out, "total: %s of phases + %s teardown margin (%s) = %s; ceiling %s (%s)\n",
		plan_duration_format(a, sizeof(a), plan_total_ms(p)),
		plan_duration_format(m, sizeof(m), p->margin.ms),
		plan_origin_name(p->margin.origin),
		plan_duration_format(c, sizeof(c), plan_add_ms(plan_total_ms(p), p->margin.ms)),
		plan_duration_format(b, sizeof(b), p->ceiling.ms),
		plan_origin_name(p->ceiling.origin));
	plan_report_worst(p, out);
}

/* The manifest facts, one line each. */
static void plan_report_manifests(const struct plan_report *r, FILE *out)
{
	for (size_t i = 0; i < r->nmanifests; i++) {
		const struct plan_manifest *m = &r->manifests[i];
		char g[32], ps[32];

		if (m->workload == NULL)
			continue;
		fprintf(out,
			"manifest %s: %s, terminationGracePeriodSeconds %s%s, preStop sleep "
			"%s%s%s, "
			"probes on port %" PRId64 ", "
			"readiness detection %" PRId64 "s (%" PRId64 " x %" PRId64 ")%s%s\n",
			m->file, m->workload, plan_duration_format(g, sizeof(g), m->grace_ms),
			m->grace_set ? "" : " (default)",
			plan_duration_format(ps, sizeof(ps), m->prestop_ms),
			m->prestop > PLAN_PRESTOP_SLEEP ? " via " : "",
			m->prestop > PLAN_PRESTOP_SLEEP ? plan_prestop_name(m->prestop) : "",
			m->probe_port, m->probe_period_s * m->probe_threshold, m->probe_period_s,
			m->probe_threshold, m->plan_name ? ", plan from " : "",
			m->plan_name ? m->plan_name : "");
	}
}

/* The unit facts, one line each. */
static void plan_report_units(const struct plan_report *r, FILE *out)
{
	for (size_t i = 0; i < r->nunits; i++) {
		const struct plan_unit *u = &r->units[i];
		char t[32];

		if (!u->has_service)
			continue;
		fprintf(out, "unit %s: Type=%s, TimeoutStopSec %s%s, KillSignal %s\n", u->file,
			u->type ? u->type : "simple",
			u->stop_ms == PLAN_UNIT_INFINITY
				? "infinity"
				: plan_duration_format(t, sizeof(t), u->stop_ms),
			u->stop_set ? "" : " (default)",
			u->kill_signal ? u->kill_signal : "SIGTERM");
	}
}

/* The verdict line. */
static void plan_report_verdict(const struct plan_report *r, FILE *out)
{
	fprintf(out, "%s: %zu error(s), %zu warning(s)%s\n", r->ok ? "ok, the plan runs" : "FAILED",
		diag_count(r->d, DIAG_ERROR), diag_count(r->d, DIAG_WARNING),
		r->strict ? " (--strict: warnings fail)" : "");
}

/* Text: timeline, manifests, findings, verdict. */
static void plan_report_text(const struct plan_report *r, FILE *out)
{
	if (r->p != NULL)
		plan_report_timeline(r->p, out);
	plan_report_manifests(r, out);
	plan_report_units(r, out);
	if (r->d->n > 0)
		fprintf(out, "\n");
	diag_print(r->d, out);
	plan_report_verdict(r, out);
}

/* GitHub: timeline, then one workflow annotation per finding. */
static void plan_report_github(const struct plan_report *r, FILE *out)
{
	static const char *const kinds[] = {"notice", "warning", "error"};

	if (r->p != NULL)
		plan_report_timeline(r->p, out);
	plan_report_manifests(r, out);
	plan_report_units(r, out);
	for (size_t i = 0; i < r->d->n; i++) {
		const struct diag_item *it = &r->d->items[i];

		fprintf(out, "::%s file=%s", kinds[it->severity], it->file);
		if (it->line > 0)
			fprintf(out, ",line=%u,col=%u", it->line, it->col);
		fprintf(out, "::");
		for (const char *c = it->message; *c; c++) /* escape per the workflow syntax */
			fputs(*c == '%'	   ? "%25"
			      : *c == '\n' ? "%0A"
			      : *c == '\r' ? "%0D"
					   : (char[2]){*c, 0},
			      out);
		fputc('\n', out);
	}
	plan_report_verdict(r, out);
}

/* The JSON of one phase. */
static cJSON *plan_report_json_phase(const struct plan *p, size_t i, int64_t start)
{
	const struct plan_phase *ph = &p->phases[i];
	cJSON *o = cJSON_CreateObject(), *steps, *to, *ab;

	cJSON_AddStringToObject(o, "name", ph->name ? ph->name : "");
	cJSON_AddNumberToObject(o, "start_ms", (double)start);
	cJSON_AddNumberToObject(o, "budget_ms", (double)plan_phase_budget_ms(p, i));
	cJSON_AddBoolToObject(o, "in_margin", ph->budget.ms == PLAN_BUDGET_MARGIN);
	cJSON_AddStringToObject(o, "origin",
				ph->budget.ms == PLAN_BUDGET_MARGIN
					? "margin" /* the text's word: it takes the margin */
					: plan_origin_name(ph->budget.origin));
	if (ph->budget.env != NULL)
		cJSON_AddStringToObject(o, "env", ph->budget.env);
	steps = cJSON_AddArrayToObject(o, "steps");
	to = cJSON_AddObjectToObject(o, "on_timeout");
	cJSON_AddStringToObject(to, "action", plan_timeout_name(ph->on_timeout));
	ab = cJSON_AddArrayToObject(to, "components");
	for (size_t j = 0; j < ph->nsteps; j++) {
		cJSON *s = cJSON_CreateObject();
		const struct plan_step *st = &ph->steps[j];

		cJSON_AddStringToObject(s, "kind", plan_step_kind_name(st->kind));
		if (st->arg != NULL)
			cJSON_AddStringToObject(s, "arg", st->arg);
		if (st->kind == PLAN_STEP_READINESS)
			cJSON_AddBoolToObject(s, "ready", st->ready);
		if (st->kind == PLAN_STEP_WAIT && st->wait_ms == PLAN_WAIT_REST)
			cJSON_AddBoolToObject(s, "rest_of_budget", true);
		else if (st->kind == PLAN_STEP_WAIT)
			cJSON_AddNumberToObject(s, "wait_ms", (double)st->wait_ms);
		cJSON_AddItemToArray(steps, s);
	}
	for (size_t j = 0; j < ph->nabort; j++)
		cJSON_AddItemToArray(ab, cJSON_CreateString(ph->abort[j]));
	return o;
}

/* The JSON of the plan. */
static void plan_report_json_plan(cJSON *root, const struct plan *p)
{
	cJSON *phases;
	int64_t at = 0;

	cJSON_AddStringToObject(root, "plan", p->file);
	cJSON_AddStringToObject(root, "mode", plan_mode_name(p->strict));
	cJSON_AddStringToObject(root, "second_signal", plan_escalation_name(p->second_signal));
	cJSON_AddNumberToObject(root, "ceiling_ms", (double)p->ceiling.ms);
	cJSON_AddStringToObject(root, "ceiling_origin", plan_origin_name(p->ceiling.origin));
	cJSON_AddNumberToObject(root, "margin_ms", (double)p->margin.ms);
	cJSON_AddStringToObject(root, "margin_origin", plan_origin_name(p->margin.origin));
	cJSON_AddNumberToObject(root, "phases_ms", (double)plan_total_ms(p));
	cJSON_AddNumberToObject(root, "total_ms",
				(double)plan_add_ms(plan_total_ms(p), p->margin.ms));
	cJSON_AddNumberToObject(root, "abort_wait_ms", (double)p->abort_wait_ms);
	cJSON_AddNumberToObject(root, "budget_warning_pct", p->budget_warning);
	cJSON_AddNumberToObject(root, "worst_case_ms", (double)plan_worst_ms(p));
	cJSON_AddNumberToObject(root, "watchdog_ms", (double)plan_watchdog_plan_deadline_ms(p));
	phases = cJSON_AddArrayToObject(root, "phases");
	for (size_t i = 0; i < p->nphases; i++) {
		cJSON_AddItemToArray(phases, plan_report_json_phase(p, i, at));
		if (p->phases[i].budget.ms != PLAN_BUDGET_MARGIN)
			at = plan_add_ms(at, p->phases[i].budget.ms);
	}
}

/* The JSON of the findings. */
static void plan_report_json_findings(cJSON *root, const struct diag *d)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "findings");

	for (size_t i = 0; i < d->n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "file", d->items[i].file);
		cJSON_AddNumberToObject(o, "line", d->items[i].line);
		cJSON_AddNumberToObject(o, "col", d->items[i].col);
		cJSON_AddStringToObject(o, "severity", diag_severity_name(d->items[i].severity));
		cJSON_AddStringToObject(o, "message", d->items[i].message);
		cJSON_AddItemToArray(arr, o);
	}
}

/* The JSON of the manifests. */
static void plan_report_json_manifests(cJSON *root, const struct plan_report *r)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "manifests");

	for (size_t i = 0; i < r->nmanifests; i++) {
		const struct plan_manifest *m = &r->manifests[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "file", m->file);
		if (m->workload != NULL)
			cJSON_AddStringToObject(o, "workload", m->workload);
		cJSON_AddNumberToObject(o, "grace_ms", (double)m->grace_ms);
		cJSON_AddNumberToObject(o, "prestop_ms", (double)m->prestop_ms);
		cJSON_AddStringToObject(o, "prestop", plan_prestop_name(m->prestop));
		cJSON_AddNumberToObject(o, "api_port", (double)m->api_port);
		cJSON_AddNumberToObject(o, "probe_port", (double)m->probe_port);
		cJSON_AddNumberToObject(o, "readiness_detect_ms",
					(double)(m->probe_period_s * m->probe_threshold * 1000));
		if (m->plan_name != NULL)
			cJSON_AddStringToObject(o, "plan_from", m->plan_name);
		cJSON_AddItemToArray(arr, o);
	}
}

/* The JSON of the units. */
static void plan_report_json_units(cJSON *root, const struct plan_report *r)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "units");

	for (size_t i = 0; i < r->nunits; i++) {
		const struct plan_unit *u = &r->units[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "file", u->file);
		cJSON_AddStringToObject(o, "type", u->type ? u->type : "simple");
		if (u->stop_ms == PLAN_UNIT_INFINITY)
			cJSON_AddNullToObject(o, "timeout_stop_ms");
		else
			cJSON_AddNumberToObject(o, "timeout_stop_ms", (double)u->stop_ms);
		cJSON_AddStringToObject(o, "kill_signal",
					u->kill_signal ? u->kill_signal : "SIGTERM");
		cJSON_AddItemToArray(arr, o);
	}
}

/* JSON: one object (schema keycastd.plan-check/1). */
static void plan_report_json(const struct plan_report *r, FILE *out)
{
	cJSON *root = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(root, "schema", "keycastd.plan-check/1");
	cJSON_AddBoolToObject(root, "ok", r->ok);
	cJSON_AddNumberToObject(root, "errors", (double)diag_count(r->d, DIAG_ERROR));
	cJSON_AddNumberToObject(root, "warnings", (double)diag_count(r->d, DIAG_WARNING));
	cJSON_AddBoolToObject(root, "strict", r->strict);
	if (r->p != NULL)
		plan_report_json_plan(root, r->p);
	plan_report_json_manifests(root, r);
	plan_report_json_units(root, r);
	plan_report_json_findings(root, r->d);
	text = cJSON_Print(root);
	if (text != NULL)
		fprintf(out, "%s\n", text);
	free(text);
	cJSON_Delete(root);
}
