/*
 * cmd_plan.c - `keycastd plan check`: load a shutdown plan, layer the env
 * (process, manifests, units, --env), validate it against the component
 * catalogue, the manifests and the systemd units, print its timeline and
 * findings (or its picture). Exit 0 = it runs, 1 = it cannot (errors, or
 * warnings under --strict), 2 = usage error.
 */
#include "core/diag.h"
#include "core/env.h"
#include "daemon/catalog.h"
#include "daemon/cmd.h"
#include "plan/plan.h"
#include "plan/plan_manifest.h"
#include "plan/plan_report.h"
#include "plan/plan_unit.h"

#include <stdlib.h>
#include <string.h>

#define CMD_PLAN_MAX 32

/* The parsed command line of `plan check`. */
struct cmd_plan_args {
	const char *plan;
	const char *envs[CMD_PLAN_MAX];
	size_t nenv;
	const char *manifests[CMD_PLAN_MAX];
	size_t nmanifest;
	const char *units[CMD_PLAN_MAX];
	size_t nunit;
	bool strict;
	enum plan_report_format format;
};

static int cmd_plan_parse(struct cmd_plan_args *a, int argc, char **argv);
static int cmd_plan_check(const struct cmd_plan_args *a);

/* Usage of `keycastd plan`. */
void cmd_plan_usage(FILE *out)
{
	fprintf(out,
		"usage: keycastd plan check [PLAN] [--env NAME=VALUE ...] [--manifest FILE ...]\n"
		"                           [--unit FILE ...] [--strict]\n"
		"                           [--format text|json|github|svg]\n\n"
		"Load the shutdown plan PLAN (default: the plan a manifest mounts from its\n"
		"ConfigMap, else the built-in default plan), apply env overrides (the process\n"
		"env, then each manifest's container env, then --env), validate it, and print\n"
		"the timeline it would run and every finding. With --manifest, also check it\n"
		"against the Deployment/StatefulSet: the plan and its ceiling must fit\n"
		"terminationGracePeriodSeconds minus the preStop sleep; the readiness probe\n"
		"must notice the pre-drain; the plan's ConfigMap may be in another --manifest\n"
		"file. With --unit, against a systemd service: the plan and its ceiling must\n"
		"fit TimeoutStopSec, KillSignal must be SIGTERM or SIGINT, Type should be\n"
		"notify. --format svg writes the timeline as a picture. See\n"
		"doc/shutdown-plan.md and doc/ci.md.\n\n"
		"Exit codes: 0 the plan runs, 1 it cannot (errors; with --strict also\n"
		"warnings), 2 usage error.\n");
}

/* `keycastd plan`: only `check` exists. */
int cmd_plan(int argc, char **argv)
{
	struct cmd_plan_args a = {0};

	if (argc < 2 || cmd_is_help(argv[1])) {
		cmd_plan_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CMD_USAGE : CMD_OK;
	}
	if (strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "keycastd plan: unknown action '%s'\n", argv[1]);
		cmd_plan_usage(stderr);
		return CMD_USAGE;
	}
	if (cmd_plan_parse(&a, argc, argv) != 0)
		return CMD_USAGE;
	return cmd_plan_check(&a);
}

/* The value of option argv[*i] (advancing), or NULL (reported). */
static const char *cmd_plan_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "keycastd plan check: %s needs a value\n", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

/* Add v to list (bounded). 0, or -1 (reported). */
static int cmd_plan_push(const char **list, size_t *n, const char *v, const char *opt)
{
	if (v == NULL)
		return -1;
	if (*n >= CMD_PLAN_MAX) {
		fprintf(stderr, "keycastd plan check: too many %s (max %d)\n", opt, CMD_PLAN_MAX);
		return -1;
	}
	list[(*n)++] = v;
	return 0;
}

/* One option at argv[*i]. 0, or -1 (reported). */
static int cmd_plan_opt(struct cmd_plan_args *a, int argc, char **argv, int *i)
{
	const char *o = argv[*i];

	if (strcmp(o, "--env") == 0)
		return cmd_plan_push(a->envs, &a->nenv, cmd_plan_value(argc, argv, i), "--env");
	if (strcmp(o, "--manifest") == 0)
		return cmd_plan_push(a->manifests, &a->nmanifest, cmd_plan_value(argc, argv, i),
				     "--manifest");
	if (strcmp(o, "--unit") == 0)
		return cmd_plan_push(a->units, &a->nunit, cmd_plan_value(argc, argv, i), "--unit");
	if (strcmp(o, "--strict") == 0) {
		a->strict = true;
		return 0;
	}
	if (strcmp(o, "--format") == 0) {
		const char *v = cmd_plan_value(argc, argv, i);

		if (v == NULL)
			return -1; /* reported once, as missing */
		if (plan_report_format_parse(&a->format, v) == 0)
			return 0;
		fprintf(stderr,
			"keycastd plan check: --format takes text, json, github or svg, not '%s'\n",
			v);
		return -1;
	}
	fprintf(stderr, "keycastd plan check: unknown option '%s'\n", o);
	return -1;
}

/* Parse argv[2..argc). 0, or -1 (reported, usage printed). */
static int cmd_plan_parse(struct cmd_plan_args *a, int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			cmd_plan_usage(stdout);
			exit(CMD_OK);
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			if (cmd_plan_opt(a, argc, argv, &i) != 0)
				goto fail;
		} else if (a->plan == NULL)
			a->plan = argv[i];
		else {
			fprintf(stderr, "keycastd plan check: more than one PLAN given\n");
			goto fail;
		}
	}
	return 0;
fail:
	fprintf(stderr, "see `keycastd plan --help`\n");
	return -1;
}

/* Layer the env: process, then each manifest's container env, each unit's, then --env. */
static int cmd_plan_env(struct env *env, const struct cmd_plan_args *a,
			const struct plan_manifest *ms, const struct plan_unit *us)
{
	env_init(env, 1);
	for (size_t i = 0; i < a->nmanifest; i++)
		for (size_t j = 0; j < ms[i].nenv; j++)
			if (env_put(env, ms[i].env[j]) != 0)
				return -1;
	for (size_t i = 0; i < a->nunit; i++)
		for (size_t j = 0; j < us[i].nenv; j++)
			if (env_put(env, us[i].env[j]) != 0)
				return -1;
	for (size_t i = 0; i < a->nenv; i++) {
		if (env_put(env, a->envs[i]) != 0) {
			fprintf(stderr, "keycastd plan check: --env '%s' is not NAME=VALUE\n",
				a->envs[i]);
			return -1;
		}
	}
	return 0;
}

/* Shift findings of a ConfigMap-embedded plan to their place in the manifest. */
static void cmd_plan_remap(struct diag *d, const struct plan_manifest *m)
{
	for (size_t i = 0; m->plan_name != NULL && i < d->n; i++) {
		struct diag_item *it = &d->items[i];
		char *file;

		if (it->line == 0 || m->plan_line == 0 || strcmp(it->file, m->plan_name) != 0)
			continue;
		it->line += m->plan_line;
		it->col += m->plan_col;
		file = strdup(m->plan_file ? m->plan_file : m->file); /* the manifest's lines now */
		if (file != NULL) {
			free(it->file);
			it->file = file;
		}
	}
}

/* Load the plan: PLAN, else the first manifest's ConfigMap plan, else the default. */
static int cmd_plan_load(struct plan *p, const struct cmd_plan_args *a,
			 const struct plan_manifest *ms, const struct plan_unit *us, struct diag *d)
{
	if (a->plan != NULL)
		return plan_load_file(p, a->plan, d);
	for (size_t i = 0; i < a->nmanifest; i++) {
		if (ms[i].plan_text == NULL)
			continue;
		return plan_load_string(p, ms[i].plan_name, ms[i].plan_text,
					strlen(ms[i].plan_text), d);
	}
	for (size_t i = 0; i < a->nmanifest; i++)
		if (ms[i].plan_path != NULL)
			diag_add(d, DIAG_NOTE, ms[i].file, 0, 0,
				 "the container's plan %s is not mounted from a ConfigMap in this "
				 "file; "
				 "checking the built-in default plan (name the plan file to check "
				 "it)",
				 ms[i].plan_path);
	for (size_t i = 0; i < a->nunit; i++)
		if (us[i].plan_path != NULL)
			diag_add(d, DIAG_NOTE, us[i].file, 0, 0,
				 "the unit runs the plan %s; checking the built-in default plan "
				 "(name the plan file to check it)",
				 us[i].plan_path);
	return plan_load_default(p, d);
}

/*
 * Load the manifests; resolve a plan ConfigMap that is in another of them;
 * at least one must hold a Deployment or StatefulSet.
 */
static void cmd_plan_manifests(struct plan_manifest *ms, const struct cmd_plan_args *a,
			       struct diag *d)
{
	bool loaded[CMD_PLAN_MAX] = {false}, workload = false;

	for (size_t i = 0; i < a->nmanifest; i++)
		loaded[i] = plan_manifest_load(&ms[i], a->manifests[i], d) == 0;
	for (size_t i = 0; i < a->nmanifest; i++) {
		for (size_t j = 0; j < a->nmanifest; j++)
			if (j != i && loaded[j])
				plan_manifest_find_plan(&ms[i], a->manifests[j], d);
		workload = workload || ms[i].workload != NULL;
	}
	if (a->nmanifest > 0 && !workload)
		diag_add(d, DIAG_ERROR, a->manifests[0], 0, 0,
			 "no Deployment or StatefulSet in any --manifest file");
}

/* Load, layer, validate, report. */
static int cmd_plan_check(const struct cmd_plan_args *a)
{
	struct plan_manifest ms[CMD_PLAN_MAX] = {0};
	struct plan_unit us[CMD_PLAN_MAX] = {0};
	struct plan p = {0};
	struct diag d = {0};
	struct env env = {0};
	struct plan_report r = {.d = &d,
				.manifests = ms,
				.nmanifests = a->nmanifest,
				.units = us,
				.nunits = a->nunit,
				.strict = a->strict};
	const struct component_desc *const *descs;
	size_t ndescs;
	bool loaded;
	int rc = CMD_USAGE;

	descs = catalog_descs(&ndescs);
	cmd_plan_manifests(ms, a, &d); /* the findings are in d; the verdict counts them */
	for (size_t i = 0; i < a->nunit; i++)
		if (plan_unit_load(&us[i], a->units[i], &d) != 0)
			continue; /* as for the manifests */
	if (cmd_plan_env(&env, a, ms, us) != 0)
		goto done;
	/* A plan with schema errors is still validated, so every finding shows. */
	loaded = cmd_plan_load(&p, a, ms, us, &d) == 0;
	plan_apply_env(&p, &env, &d);
	(void)plan_validate(&p, descs, ndescs, &d);
	for (size_t i = 0; loaded && i < a->nmanifest; i++)
		plan_manifest_check(&ms[i], &p, &d);
	for (size_t i = 0; loaded && i < a->nunit; i++)
		plan_unit_check(&us[i], &p, &d);
	r.p = p.nphases > 0 ? &p : NULL;
	for (size_t i = 0; i < a->nmanifest; i++)
		cmd_plan_remap(&d, &ms[i]);
	r.ok = diag_count(&d, DIAG_ERROR) == 0 && loaded &&
	       !(a->strict && diag_count(&d, DIAG_WARNING) > 0);
	plan_report_print(&r, a->format, stdout);
	if (a->format == PLAN_REPORT_SVG && d.n > 0)
		diag_print(&d, stderr); /* the picture goes to a file; the findings stay in sight */
	rc = r.ok ? CMD_OK : CMD_FAIL;
done:
	for (size_t i = 0; i < a->nmanifest; i++)
		plan_manifest_free(&ms[i]);
	for (size_t i = 0; i < a->nunit; i++)
		plan_unit_free(&us[i]);
	plan_free(&p);
	env_clear(&env);
	diag_clear(&d);
	return rc;
}
