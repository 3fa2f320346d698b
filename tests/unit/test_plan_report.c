/*
 * test_plan_report.c - what `plan check` prints: the JSON object has every
 * key of the documented schema "keycastd.plan-check/1" with its type (a
 * consumer may rely on them), the text timeline shows the worst case with
 * every abort wait against the watchdog, and the GitHub format prints one
 * escaped workflow annotation per finding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/diag.h"
#include "core/env.h"
#include "core/log.h"
#include "plan/plan.h"
#include "plan/plan_manifest.h"
#include "plan/plan_report.h"
#include "test_plan_fake.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST KC_SRCDIR "/tests/manifests/grace60.yaml"

/* One documented key: its name and the cJSON types it may have (a mask). */
struct key {
	const char *name;
	int type;
};

/* Either boolean. */
#define KEY_BOOL (cJSON_False | cJSON_True)

/* What one report is made of. */
struct fixture {
	struct plan p;
	struct plan_manifest m;
	struct diag d;
	struct plan_report r;
};

/* The default plan checked against grace60.yaml, plus a note without a position. */
static void fixture_init(struct fixture *f)
{
	size_t n;
	const struct component_desc *const *descs = fake_descs(&n);

	memset(f, 0, sizeof(*f));
	assert_int_equal(plan_manifest_load(&f->m, MANIFEST, &f->d), 0);
	assert_int_equal(plan_load_file(&f->p, KC_SRCDIR "/plans/default.yaml", &f->d), 0);
	assert_int_equal(plan_validate(&f->p, descs, n, &f->d), 0);
	plan_manifest_check(&f->m, &f->p, &f->d);
	diag_add(&f->d, DIAG_NOTE, "env X", 0, 0, "100%% sure\nsecond line");
	f->r = (struct plan_report){.p = &f->p, .manifests = &f->m, .nmanifests = 1, .d = &f->d};
	f->r.ok = false;
}

/* Free a fixture. */
static void fixture_free(struct fixture *f)
{
	plan_free(&f->p);
	plan_manifest_free(&f->m);
	diag_clear(&f->d);
}

/* Print the report in format fmt into a malloc'd string. */
static char *render(const struct plan_report *r, enum plan_report_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	plan_report_print(r, fmt, out);
	fclose(out);
	return buf;
}

/* Every key of keys is in o with its type. */
static void expect_keys(const cJSON *o, const struct key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i].name);

		if (v == NULL || (v->type & 0xff & keys[i].type) == 0)
			fail_msg("key '%s' missing or of the wrong type", keys[i].name);
	}
}

/* The documented top-level keys. */
static const struct key report_top_keys[] = {
	{"schema", cJSON_String},
	{"ok", KEY_BOOL},
	{"errors", cJSON_Number},
	{"warnings", cJSON_Number},
	{"strict", KEY_BOOL},
	{"plan", cJSON_String},
	{"mode", cJSON_String},
	{"second_signal", cJSON_String},
	{"ceiling_ms", cJSON_Number},
	{"ceiling_origin", cJSON_String},
	{"margin_ms", cJSON_Number},
	{"margin_origin", cJSON_String},
	{"phases_ms", cJSON_Number},
	{"total_ms", cJSON_Number},
	{"abort_wait_ms", cJSON_Number},
	{"budget_warning_pct", cJSON_Number},
	{"worst_case_ms", cJSON_Number},
	{"watchdog_ms", cJSON_Number},
	{"phases", cJSON_Array},
	{"manifests", cJSON_Array},
	{"findings", cJSON_Array},
};

/* The documented keys of a phase. */
static const struct key report_phase_keys[] = {
	{"name", cJSON_String},	 {"start_ms", cJSON_Number},   {"budget_ms", cJSON_Number},
	{"in_margin", KEY_BOOL}, {"origin", cJSON_String},     {"env", cJSON_String},
	{"steps", cJSON_Array},	 {"on_timeout", cJSON_Object},
};

/* The documented keys of a manifest. */
static const struct key report_manifest_keys[] = {
	{"file", cJSON_String},	      {"workload", cJSON_String},
	{"grace_ms", cJSON_Number},   {"prestop_ms", cJSON_Number},
	{"prestop", cJSON_String},    {"api_port", cJSON_Number},
	{"probe_port", cJSON_Number}, {"readiness_detect_ms", cJSON_Number},
};

/* The documented keys of a finding. */
static const struct key report_finding_keys[] = {
	{"file", cJSON_String},	    {"line", cJSON_Number},    {"col", cJSON_Number},
	{"severity", cJSON_String}, {"message", cJSON_String},
};

/* The fixture's report as parsed JSON (caller frees with cJSON_Delete). */
static cJSON *render_json(void)
{
	struct fixture f;
	char *text;
	cJSON *root;

	fixture_init(&f);
	text = render(&f.r, PLAN_REPORT_JSON);
	root = cJSON_Parse(text);
	assert_non_null(root);
	free(text);
	fixture_free(&f);
	return root;
}

/* The number at key of o. */
static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/* The top level carries the documented keys, the schema name and the totals. */
static void test_json_top(void **state)
{
	cJSON *root = render_json();

	(void)state;
	expect_keys(root, report_top_keys, sizeof(report_top_keys) / sizeof(report_top_keys[0]));
	assert_string_equal(cJSON_GetObjectItem(root, "schema")->valuestring,
			    "keycastd.plan-check/1");
	assert_int_equal(num(root, "total_ms"), 75000);
	assert_int_equal(num(root, "abort_wait_ms"), 5000);
	assert_int_equal(num(root, "worst_case_ms"), 75000 + 2 * 5000); /* two phases abort */
	assert_int_equal(num(root, "watchdog_ms"), 120000 - 500);
	assert_int_equal(num(root, "errors"), 2); /* the grace period, and the ceiling in it */
	cJSON_Delete(root);
}

/* Each phase carries its keys, its start, margin flag, timeout action and steps. */
static void test_json_phases(void **state)
{
	cJSON *root = render_json();
	const cJSON *ph = cJSON_GetObjectItem(root, "phases");
	const cJSON *steps;

	(void)state;
	assert_int_equal(cJSON_GetArraySize(ph), 4);
	for (int i = 0; i < 3; i++) /* the margin phase has no env */
		expect_keys(cJSON_GetArrayItem(ph, i), report_phase_keys,
			    sizeof(report_phase_keys) / sizeof(report_phase_keys[0]));
	assert_int_equal(num(cJSON_GetArrayItem(ph, 2), "start_ms"), 55000);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(ph, 3), "in_margin")));
	/* one vocabulary with the text's "(margin)" and the start line's "(margin)" */
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ph, 3), "origin")->valuestring,
			    "margin");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ph, 0), "origin")->valuestring,
			    "file");
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(ph, 1), "on_timeout"),
				    "action")
			->valuestring,
		"abort");
	steps = cJSON_GetObjectItem(cJSON_GetArrayItem(ph, 0), "steps");
	assert_true(cJSON_IsBool(cJSON_GetObjectItem(cJSON_GetArrayItem(steps, 0), "ready")));
	cJSON_Delete(root);
}

/* The manifest and every finding carry their keys; positions are numbers, 0 when absent. */
static void test_json_manifest_findings(void **state)
{
	cJSON *root = render_json();
	const cJSON *fi = cJSON_GetObjectItem(root, "findings");

	(void)state;
	expect_keys(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "manifests"), 0),
		    report_manifest_keys,
		    sizeof(report_manifest_keys) / sizeof(report_manifest_keys[0]));
	assert_int_equal(cJSON_GetArraySize(fi), 3);
	for (int i = 0; i < 3; i++)
		expect_keys(cJSON_GetArrayItem(fi, i), report_finding_keys,
			    sizeof(report_finding_keys) / sizeof(report_finding_keys[0]));
	assert_int_equal(num(cJSON_GetArrayItem(fi, 0), "line"), 9);
	assert_int_equal(num(cJSON_GetArrayItem(fi, 0), "col"), 38);
	assert_int_equal(num(cJSON_GetArrayItem(fi, 2), "line"), 0);
	cJSON_Delete(root);
}

/* GitHub: ::error file=,line=,col=:: per finding; % and newlines escaped; no position, no line=. */
static void test_github_annotations(void **state)
{
	struct fixture f;
	char *text;

	(void)state;
	fixture_init(&f);
	text = render(&f.r, PLAN_REPORT_GITHUB);
	assert_non_null(
		strstr(text, "\n::error file=" MANIFEST ",line=9,col=38::the plan needs 75s"));
	assert_non_null(strstr(text, "terminationGracePeriodSeconds is 60s"));
	assert_non_null(strstr(text, "\n::notice file=env X::100%25 sure%0Asecond line\n"));
	assert_non_null(
		strstr(text, "\n::error file=" MANIFEST ",line=9,col=38::the plan's ceiling"));
	assert_non_null(strstr(text, "\nFAILED: 2 error(s), 0 warning(s)\n"));
	free(text);
	fixture_free(&f);
}

/* Format names parse; unknown ones are refused. */
static void test_format_parse(void **state)
{
	enum plan_report_format fmt = PLAN_REPORT_TEXT;

	(void)state;
	assert_int_equal(plan_report_format_parse(&fmt, "github"), 0);
	assert_int_equal(fmt, PLAN_REPORT_GITHUB);
	assert_int_equal(plan_report_format_parse(&fmt, "json"), 0);
	assert_int_equal(fmt, PLAN_REPORT_JSON);
	assert_int_equal(plan_report_format_parse(&fmt, "yaml"), -1);
	assert_int_equal(plan_report_format_parse(&fmt, NULL), -1);
}

/* The text timeline shows the worst case, and says when the watchdog would cut it. */
static void test_text_worst_case(void **state)
{
	struct fixture f;
	char *text;

	(void)state;
	fixture_init(&f);
	text = render(&f.r, PLAN_REPORT_TEXT);
	assert_non_null(strstr(text, "\nworst case: 85s (every phase times out, 2 abort wait(s) of "
				     "5s); watchdog at 119.500s\n"));
	free(text);
	f.p.ceiling.ms = 75000; /* SHUTDOWN_GRACE_PERIOD_CEILING_SECS=75: fits, equality */
	text = render(&f.r, PLAN_REPORT_TEXT);
	assert_non_null(strstr(text, "watchdog at 85.500s (the worst case + 500ms: at 74.500s, the "
				     "ceiling's deadline, it would cut that shutdown)\n"));
	free(text);
	f.p.ceiling.ms = 85500; /* deadline 85 s: equal to the worst case, still cut */
	f.p.strict = true;
	text = render(&f.r, PLAN_REPORT_TEXT);
	assert_non_null(strstr(text, "watchdog at 85s: it would cut that shutdown (mode strict "
				     "refuses it)\n"));
	free(text);
	fixture_free(&f);
}

/* Run every test. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_top),
		cmocka_unit_test(test_json_phases),
		cmocka_unit_test(test_json_manifest_findings),
		cmocka_unit_test(test_github_annotations),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_text_worst_case),
	};

	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_JSON);
	return cmocka_run_group_tests_name("plan_report", tests, NULL, NULL);
}
