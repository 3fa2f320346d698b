/*
 * plan_load.c - YAML to struct plan, reporting every schema error.
 *
 * Keys are tables (plan_top_keys, plan_phase_keys, plan_step_kinds): one
 * parser per key, so unknown keys, wrong types and missing fields are
 * found the same way everywhere. Positions come from libyaml's marks.
 */
#include "plan/plan.h"

#include "core/diag.h"
#include "core/ydoc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* Loader state for one document. */
struct plan_loader {
	yaml_document_t *doc;
	struct diag *d;
	const char *file;
	size_t errors;
};

/* Parses the value of one key into obj; reports into the loader. */
typedef void (*plan_key_fn)(struct plan_loader *l, yaml_node_t *v, void *obj);

/* One known key of a mapping. */
struct plan_key {
	const char *name;
	plan_key_fn parse;
	bool required;
};

/* One step kind: its name in plans and its argument parser. */
typedef void (*plan_load_step_fn)(struct plan_loader *l, yaml_node_t *v, struct plan_step *s);

static void plan_err(struct plan_loader *l, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void plan_map(struct plan_loader *l, yaml_node_t *map, const struct plan_key *keys,
		     size_t nkeys, void *obj, const char *what);
static struct plan_pos plan_pos_of(const yaml_node_t *n);
static bool plan_too_many(struct plan_loader *l, yaml_node_t *v, size_t n, const char *what);
static char *plan_str(struct plan_loader *l, yaml_node_t *v, const char *what);
static void plan_budget_parse(struct plan_loader *l, yaml_node_t *v, struct plan_budget *b,
			      bool allow_margin);
static void plan_load_key_version(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_ceiling(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_ceiling_env(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_margin(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_margin_env(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_mode(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_second(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_abort_wait(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_budget_warning(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_phases(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_ph_name(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_ph_budget(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_ph_env(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_ph_steps(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_key_ph_timeout(struct plan_loader *l, yaml_node_t *v, void *obj);
static void plan_load_step_readiness(struct plan_loader *l, yaml_node_t *v, struct plan_step *s);
static void plan_load_step_wait(struct plan_loader *l, yaml_node_t *v, struct plan_step *s);
static void plan_load_step_component(struct plan_loader *l, yaml_node_t *v, struct plan_step *s);

static const struct plan_key plan_top_keys[] = {
	{"version", plan_load_key_version, true},
	{"ceiling", plan_load_key_ceiling, true},
	{"ceiling_env", plan_load_key_ceiling_env, false},
	{"teardown_margin", plan_load_key_margin, true},
	{"teardown_margin_env", plan_load_key_margin_env, false},
	{"mode", plan_load_key_mode, false},
	{"on_second_signal", plan_load_key_second, false},
	{"abort_wait", plan_load_key_abort_wait, false},
	{"budget_warning", plan_load_key_budget_warning, false},
	{"phases", plan_load_key_phases, true},
};

static const struct plan_key plan_phase_keys[] = {
	{"name", plan_load_key_ph_name, true},
	{"budget", plan_load_key_ph_budget, true},
	{"env", plan_load_key_ph_env, false},
	{"steps", plan_load_key_ph_steps, true},
	{"on_timeout", plan_load_key_ph_timeout, false},
};

/* The parser of each step kind (the kind's word comes from plan_step_kind_parse). */
static const plan_load_step_fn plan_step_parsers[PLAN_STEP_KIND_COUNT_] = {
	[PLAN_STEP_READINESS] = plan_load_step_readiness,
	[PLAN_STEP_WAIT] = plan_load_step_wait,
	[PLAN_STEP_STOP_ACCEPTING] = plan_load_step_component,
	[PLAN_STEP_DRAIN] = plan_load_step_component,
	[PLAN_STEP_CLOSE] = plan_load_step_component,
	[PLAN_STEP_LOG] = plan_load_step_component,
};

#define PLAN_LOAD_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Report an error at node n. */
static void plan_err(struct plan_loader *l, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (l->errors++ > PLAN_MAX_ERRORS)
		return; /* counted, not listed: a huge broken file must not grow d */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->errors > PLAN_MAX_ERRORS)
		snprintf(msg, sizeof(msg), "more than %d errors; the rest are not reported",
			 PLAN_MAX_ERRORS);
	diag_add(l->d, DIAG_ERROR, l->file, n ? ydoc_line(n) : 0, n ? ydoc_col(n) : 0, "%s", msg);
}

/* Whether sequence v of n items is longer than PLAN_MAX_ITEMS (reported at its first item too
 * many). */
static bool plan_too_many(struct plan_loader *l, yaml_node_t *v, size_t n, const char *what)
{
	if (n <= PLAN_MAX_ITEMS)
		return false;
	plan_err(l, yaml_document_get_node(l->doc, v->data.sequence.items.start[PLAN_MAX_ITEMS]),
		 "%zu %s; a plan allows at most %d", n, what, PLAN_MAX_ITEMS);
	return true;
}

/* The position of a node. */
static struct plan_pos plan_pos_of(const yaml_node_t *n)
{
	return (struct plan_pos){ydoc_line(n), ydoc_col(n)};
}

/* Walk a mapping with a key table: unknown, duplicate and missing keys. */
static void plan_map(struct plan_loader *l, yaml_node_t *map, const struct plan_key *keys,
		     size_t nkeys, void *obj, const char *what)
{
	bool seen[16] = {false};

	if (map->type != YAML_MAPPING_NODE) {
		plan_err(l, map, "%s must be a mapping, not a %s", what, ydoc_type_name(map));
		return;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		const char *name = ydoc_scalar(k);
		size_t i;

		for (i = 0; name != NULL && i < nkeys && strcmp(keys[i].name, name) != 0; i++)
			;
		if (name == NULL || i == nkeys) {
			plan_err(l, k, "unknown key '%s' in %s", name ? name : "?", what);
			continue;
		}
		if (seen[i]) { /* parsing it again would leak or overrun the first value */
			plan_err(l, k, "duplicate key '%s' in %s", name, what);
			continue;
		}
		seen[i] = true;
		keys[i].parse(l, yaml_document_get_node(l->doc, p->value), obj);
	}
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i].required && !seen[i])
			plan_err(l, map, "%s is missing the required key '%s'", what, keys[i].name);
}

/* A string scalar, copied; NULL (reported) when v is no scalar. */
static char *plan_str(struct plan_loader *l, yaml_node_t *v, const char *what)
{
	const char *s = ydoc_scalar(v);
	char *copy;

	if (s == NULL || *s == '\0') {
		plan_err(l, v, "%s must be a non-empty string", what);
		return NULL;
	}
	copy = strdup(s);
	if (copy == NULL)
		plan_err(l, v, "out of memory");
	return copy;
}

/* A budget: a duration (or teardown-margin where allowed). */
static void plan_budget_parse(struct plan_loader *l, yaml_node_t *v, struct plan_budget *b,
			      bool allow_margin)
{
	const char *s = ydoc_scalar(v);
	int rc;

	b->pos = plan_pos_of(v);
	b->origin = PLAN_ORIGIN_FILE;
	if (allow_margin && s != NULL && strcmp(s, "teardown-margin") == 0) {
		b->ms = b->default_ms = PLAN_BUDGET_MARGIN;
		return;
	}
	if (s != NULL && s[0] == '-') {
		plan_err(l, v, "budget '%s' is negative; use 0 or a positive duration", s);
		return;
	}
	rc = plan_duration_parse(&b->ms, s);
	if (rc == -2)
		plan_err(l, v,
			 "%s is above the sanity ceiling of 1 day (86400s); use at most 86400s", s);
	else if (rc != 0)
		plan_err(l, v, "'%s' is not a duration; write e.g. 500ms, 10s, 2m%s", s ? s : "?",
			 allow_margin ? " or teardown-margin" : "");
	b->default_ms = b->ms;
}

/* version: 1. */
static void plan_load_key_version(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	const char *s = ydoc_scalar(v);

	if (s == NULL || strcmp(s, "1") != 0) {
		plan_err(l, v, "unsupported version '%s'; this keycastd reads version: 1",
			 s ? s : "?");
		return;
	}
	((struct plan *)obj)->version = 1;
}

/* ceiling: DURATION. */
static void plan_load_key_ceiling(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	plan_budget_parse(l, v, &((struct plan *)obj)->ceiling, false);
}

/* ceiling_env: NAME. */
static void plan_load_key_ceiling_env(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	((struct plan *)obj)->ceiling.env = plan_str(l, v, "ceiling_env");
}

/* teardown_margin: DURATION. */
static void plan_load_key_margin(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	plan_budget_parse(l, v, &((struct plan *)obj)->margin, false);
}

/* teardown_margin_env: NAME. */
static void plan_load_key_margin_env(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	((struct plan *)obj)->margin.env = plan_str(l, v, "teardown_margin_env");
}

/* mode: warn | strict. */
static void plan_load_key_mode(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	struct plan *p = obj;
	const char *s = ydoc_scalar(v);

	p->mode_pos = plan_pos_of(v);
	if (plan_mode_parse(&p->strict, s) != 0)
		plan_err(l, v, "mode must be 'warn' or 'strict', not '%s'", s ? s : "?");
}

/* on_second_signal: skip-to-last-phase | exit-now | ignore. */
static void plan_load_key_second(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	const char *s = ydoc_scalar(v);

	if (plan_escalation_parse(&((struct plan *)obj)->second_signal, s) == 0)
		return;
	plan_err(l, v, "on_second_signal must be skip-to-last-phase, exit-now or ignore, not '%s'",
		 s ? s : "?");
}

/* abort_wait: DURATION. */
static void plan_load_key_abort_wait(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	struct plan_budget b = {0};

	plan_budget_parse(l, v, &b, false);
	((struct plan *)obj)->abort_wait_ms = b.ms;
}

/* budget_warning: PERCENT% | off. */
static void plan_load_key_budget_warning(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	struct plan *p = obj;
	const char *s = ydoc_scalar(v);

	p->budget_warning_pos = plan_pos_of(v);
	if (plan_budget_warning_parse(&p->budget_warning, s) != 0)
		plan_err(
			l, v,
			"budget_warning must be a whole percentage from 1%% to 99%% (e.g. 80%%) or "
			"off, not '%s'",
			s != NULL ? s : "a non-scalar");
}

/* phases: a non-empty sequence of phase mappings. */
static void plan_load_key_phases(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	struct plan *p = obj;
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE) {
		plan_err(l, v, "phases must be a sequence, not a %s", ydoc_type_name(v));
		return;
	}
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0) {
		plan_err(l, v, "the plan has no phases; list at least one");
		return;
	}
	if (plan_too_many(l, v, n, "phases"))
		return;
	p->phases = calloc(n, sizeof(*p->phases));
	if (p->phases == NULL) {
		plan_err(l, v, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *ph = yaml_document_get_node(l->doc, v->data.sequence.items.start[i]);
		struct plan_phase *x = &p->phases[p->nphases++];

		x->pos = plan_pos_of(ph);
		plan_map(l, ph, plan_phase_keys, PLAN_LOAD_NELEM(plan_phase_keys), x, "a phase");
	}
}

/* name: TEXT. */
static void plan_load_key_ph_name(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	struct plan_phase *ph = obj;

	ph->name = plan_str(l, v, "a phase name");
	ph->pos = plan_pos_of(v);
}

/* budget: DURATION | teardown-margin. */
static void plan_load_key_ph_budget(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	plan_budget_parse(l, v, &((struct plan_phase *)obj)->budget, true);
}

/* env: NAME. */
static void plan_load_key_ph_env(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	struct plan_phase *ph = obj;

	ph->budget.env = plan_str(l, v, "env");
	ph->budget.env_pos = plan_pos_of(v);
}

/* Parse one step: a mapping with exactly one key naming its kind. */
static void plan_step_parse(struct plan_loader *l, yaml_node_t *v, struct plan_step *s)
{
	yaml_node_pair_t *p;
	const char *kind;

	s->pos = plan_pos_of(v);
	s->kind = PLAN_STEP_KIND_COUNT_; /* until parsed: no kind, validators skip it */
	if (v->type != YAML_MAPPING_NODE ||
	    v->data.mapping.pairs.top - v->data.mapping.pairs.start != 1) {
		plan_err(l, v, "a step is a mapping with one key, e.g. '- drain: http'");
		return;
	}
	p = v->data.mapping.pairs.start;
	kind = ydoc_scalar(yaml_document_get_node(l->doc, p->key));
	if (plan_step_kind_parse(&s->kind, kind) == 0) {
		plan_step_parsers[s->kind](l, yaml_document_get_node(l->doc, p->value), s);
		return;
	}
	s->kind = PLAN_STEP_KIND_COUNT_;
	plan_err(l, yaml_document_get_node(l->doc, p->key),
		 "unknown step kind '%s'; use readiness, wait, stop-accepting, drain, close or log",
		 kind ? kind : "?");
}

/* steps: a sequence of steps (may be empty). */
static void plan_load_key_ph_steps(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	struct plan_phase *ph = obj;
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE) {
		plan_err(l, v, "steps must be a sequence, not a %s", ydoc_type_name(v));
		return;
	}
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (plan_too_many(l, v, n, "steps in a phase"))
		return;
	ph->steps = calloc(n ? n : 1, sizeof(*ph->steps));
	if (ph->steps == NULL) {
		plan_err(l, v, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		plan_step_parse(l, yaml_document_get_node(l->doc, v->data.sequence.items.start[i]),
				&ph->steps[ph->nsteps++]);
}

/* Add one component name (and its position) to a phase's abort list. */
static void plan_abort_add(struct plan_loader *l, yaml_node_t *v, struct plan_phase *ph)
{
	char **a = realloc(ph->abort, (ph->nabort + 1) * sizeof(*a));
	struct plan_pos *pos;
	char *name;

	if (a != NULL)
		ph->abort = a;
	pos = a ? realloc(ph->abort_pos, (ph->nabort + 1) * sizeof(*pos)) : NULL;
	if (pos == NULL) {
		plan_err(l, v, "out of memory");
		return;
	}
	ph->abort_pos = pos;
	name = plan_str(l, v, "a component to abort");
	if (name == NULL)
		return;
	ph->abort_pos[ph->nabort] = plan_pos_of(v);
	ph->abort[ph->nabort++] = name;
}

/* on_timeout: continue | exit-now | {abort: NAME | [NAME, ...]}. */
static void plan_load_key_ph_timeout(struct plan_loader *l, yaml_node_t *v, void *obj)
{
	struct plan_phase *ph = obj;
	const char *s = ydoc_scalar(v);
	yaml_node_t *a = ydoc_get(l->doc, v, "abort");
	enum plan_timeout_kind k;

	ph->timeout_pos = plan_pos_of(v);
	if (plan_timeout_parse(&k, s) == 0 && k != PLAN_TIMEOUT_ABORT) /* abort takes a list */
		ph->on_timeout = k;
	else if (a != NULL && v->type == YAML_MAPPING_NODE &&
		 v->data.mapping.pairs.top - v->data.mapping.pairs.start == 1) {
		ph->on_timeout = PLAN_TIMEOUT_ABORT;
		if (a->type != YAML_SEQUENCE_NODE) {
			plan_abort_add(l, a, ph);
			return;
		}
		if (plan_too_many(
			    l, a,
			    (size_t)(a->data.sequence.items.top - a->data.sequence.items.start),
			    "components to abort"))
			return;
		for (yaml_node_item_t *it = a->data.sequence.items.start;
		     it < a->data.sequence.items.top; it++)
			plan_abort_add(l, yaml_document_get_node(l->doc, *it), ph);
	} else
		plan_err(l, v,
			 "on_timeout must be 'continue', 'exit-now' or 'abort: [COMPONENT...]'");
}

/* readiness: fail | pass. */
static void plan_load_step_readiness(struct plan_loader *l, yaml_node_t *v, struct plan_step *s)
{
	const char *t = ydoc_scalar(v);

	if (plan_readiness_parse(&s->ready, t) != 0)
		plan_err(l, v, "readiness must be 'fail' or 'pass', not '%s'", t ? t : "?");
}

/* wait: DURATION | rest-of-budget. */
static void plan_load_step_wait(struct plan_loader *l, yaml_node_t *v, struct plan_step *s)
{
	const char *t = ydoc_scalar(v);

	int rc = 0;

	if (t != NULL && strcmp(t, "rest-of-budget") == 0)
		s->wait_ms = PLAN_WAIT_REST;
	else if ((rc = plan_duration_parse(&s->wait_ms, t)) == -2)
		plan_err(l, v,
			 "wait %s is above the sanity ceiling of 1 day (86400s); use at most "
			 "86400s",
			 t);
	else if (rc != 0)
		plan_err(l, v, "wait takes a duration (500ms, 10s, 2m) or rest-of-budget, not '%s'",
			 t ? t : "?");
}

/* A component name (or log text). */
static void plan_load_step_component(struct plan_loader *l, yaml_node_t *v, struct plan_step *s)
{
	s->arg = plan_str(l, v, plan_step_kind_name(s->kind));
}

/* Defaults of a plan before its file is read. */
static void plan_init(struct plan *p, const char *name)
{
	*p = (struct plan){0};
	p->file = strdup(name);
	p->ceiling = (struct plan_budget){.ms = 120000, .default_ms = 120000};
	p->margin = (struct plan_budget){.ms = 10000, .default_ms = 10000};
	p->abort_wait_ms = 5000;
	p->budget_warning = PLAN_BUDGET_WARNING_DEFAULT;
	p->second_signal = PLAN_ESCALATE_SKIP_TO_LAST;
}

/* Load from loaded documents: exactly one, a mapping. */
static int plan_load_docs(struct plan *p, struct ydoc_file *yf, struct diag *d)
{
	struct plan_loader l = {.d = d, .file = yf->name};
	yaml_node_t *root;

	if (yf->n == 0) {
		diag_add(d, DIAG_ERROR, yf->name, 1, 1,
			 "the plan is empty; start with 'version: 1'");
		return -1;
	}
	if (yf->n > 1)
		diag_add(d, DIAG_WARNING, yf->name, 0, 0, "only the first YAML document is read");
	l.doc = &yf->docs[0];
	root = ydoc_root(l.doc);
	plan_map(&l, root, plan_top_keys, PLAN_LOAD_NELEM(plan_top_keys), p, "the plan");
	return l.errors == 0 ? 0 : -1;
}

/* How a token changes the nesting depth. */
static int plan_depth_step(yaml_token_type_t t)
{
	switch (t) {
	case YAML_BLOCK_SEQUENCE_START_TOKEN:
	case YAML_BLOCK_MAPPING_START_TOKEN:
	case YAML_FLOW_SEQUENCE_START_TOKEN:
	case YAML_FLOW_MAPPING_START_TOKEN:
		return 1;
	case YAML_BLOCK_END_TOKEN:
	case YAML_FLOW_SEQUENCE_END_TOKEN:
	case YAML_FLOW_MAPPING_END_TOKEN:
		return -1;
	default:
		return 0;
	}
}

/*
 * Refuse text nested deeper than PLAN_MAX_DEPTH, from libyaml's tokens and
 * before it composes a document (its scanner's cost grows with the depth at
 * every token: quadratic). 0, or -1 with the error at the token too deep.
 * A syntax error is left to the loader, which reports it.
 */
static int plan_depth_check(const char *name, const char *text, size_t len, struct diag *d)
{
	yaml_parser_t parser;
	yaml_token_t tok;
	int depth = 0, rc = 0;
	bool more = true;

	if (!yaml_parser_initialize(&parser))
		return 0; /* the loader reports the lack of memory */
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (more && rc == 0 && yaml_parser_scan(&parser, &tok)) {
		depth += plan_depth_step(tok.type);
		more = tok.type != YAML_STREAM_END_TOKEN && tok.type != YAML_NO_TOKEN;
		if (depth > PLAN_MAX_DEPTH) {
			diag_add(
				d, DIAG_ERROR, name, (unsigned)tok.start_mark.line + 1,
				(unsigned)tok.start_mark.column + 1,
				"the plan nests mappings and sequences deeper than %d levels here; "
				"a plan needs 6 at most",
				PLAN_MAX_DEPTH);
			rc = -1;
		}
		yaml_token_delete(&tok);
	}
	yaml_parser_delete(&parser);
	return rc;
}

/* Load a plan from YAML text named name. */
int plan_load_string(struct plan *p, const char *name, const char *text, size_t len, struct diag *d)
{
	struct ydoc_file yf;
	int rc;

	plan_init(p, name);
	if (len > PLAN_MAX_BYTES) {
		diag_add(d, DIAG_ERROR, name, 1, 1,
			 "the plan is %zu bytes, above the limit of %zu bytes (1 MiB)", len,
			 PLAN_MAX_BYTES);
		return -1;
	}
	if (plan_depth_check(name, text, len, d) != 0)
		return -1;
	if (ydoc_load_string(&yf, name, text, len, d) != 0)
		return -1;
	rc = plan_load_docs(p, &yf, d);
	ydoc_free(&yf);
	return rc;
}

/* Read at most PLAN_MAX_BYTES + 1 bytes of f into *buf (caller frees); the length, or -1. */
static ssize_t plan_read_bounded(FILE *f, char **buf)
{
	char *b = malloc(PLAN_MAX_BYTES + 1);
	size_t n;

	if (b == NULL)
		return -1;
	n = fread(b, 1, PLAN_MAX_BYTES + 1, f); /* one byte more tells a file too large */
	if (ferror(f)) {
		free(b);
		return -1;
	}
	*buf = b;
	return (ssize_t)n;
}

/* Load a plan from a file: read it (bounded), then load the text. */
int plan_load_file(struct plan *p, const char *path, struct diag *d)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	ssize_t n;
	int rc;

	if (f == NULL) {
		plan_init(p, path);
		diag_add(d, DIAG_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	n = plan_read_bounded(f, &text);
	fclose(f);
	if (n < 0) {
		plan_init(p, path);
		diag_add(d, DIAG_ERROR, path, 0, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	rc = plan_load_string(p, path, text, (size_t)n, d);
	free(text);
	return rc;
}

/* Load the built-in default plan; its budgets' origin is "default", not "file". */
int plan_load_default(struct plan *p, struct diag *d)
{
	int rc = plan_load_string(p, "(built-in default plan)", plan_default_yaml,
				  plan_default_yaml_len, d);

	p->ceiling.origin = PLAN_ORIGIN_DEFAULT;
	p->margin.origin = PLAN_ORIGIN_DEFAULT;
	for (size_t i = 0; i < p->nphases; i++)
		p->phases[i].budget.origin = PLAN_ORIGIN_DEFAULT;
	return rc;
}

/* Release a plan; it is zeroed afterwards. */
void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->nphases; i++) {
		struct plan_phase *ph = &p->phases[i];

		for (size_t j = 0; j < ph->nsteps; j++)
			free(ph->steps[j].arg);
		for (size_t j = 0; j < ph->nabort; j++)
			free(ph->abort[j]);
		free(ph->steps);
		free(ph->abort);
		free(ph->abort_pos);
		free(ph->name);
		free(ph->budget.env);
	}
	free(p->phases);
	free(p->ceiling.env);
	free(p->margin.env);
	free(p->file);
	*p = (struct plan){0};
}
