/*
 * test_plan_report.c - what `plan check` prints: the JSON object has every
 * key of the documented schema "keycastd.plan-check/1" with its type (a
 * consumer may rely on them), and the GitHub format prints one escaped
 * workflow annotation per finding.
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

/* One documented key: its name and cJSON type. */
struct key {
	const char *name;
	int type;
};

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

		if (v == NULL || (v->type & 0xff) != keys[i].type)
			fail_msg("key '%s' missing or of the wrong type", keys[i].name);
	}
}

/* The top level, a phase, a step, a manifest and a finding carry the documented keys. */
static void test_json_schema(void **state)
{
	static const struct key top[] = {
		{"schema", cJSON_String},     {"ok", cJSON_False},
		{"errors", cJSON_Number},     {"warnings", cJSON_Number},
		{"strict", cJSON_False},      {"plan", cJSON_String},
		{"mode", cJSON_String},	      {"second_signal", cJSON_String},
		{"ceiling_ms", cJSON_Number}, {"ceiling_origin", cJSON_String},
		{"margin_ms", cJSON_Number},  {"margin_origin", cJSON_String},
		{"phases_ms", cJSON_Number},  {"total_ms", cJSON_Number},
		{"phases", cJSON_Array},      {"manifests", cJSON_Array},
		{"findings", cJSON_Array},
	};
	static const struct key phase[] = {
		{"name", cJSON_String},	     {"start_ms", cJSON_Number},
		{"budget_ms", cJSON_Number}, {"in_margin", cJSON_False},
		{"origin", cJSON_String},    {"env", cJSON_String},
		{"steps", cJSON_Array},	     {"on_timeout", cJSON_Object},
	};
	static const struct key manifest[] = {
		{"file", cJSON_String},
		{"workload", cJSON_String},
		{"grace_ms", cJSON_Number},
		{"prestop_ms", cJSON_Number},
		{"readiness_detect_ms", cJSON_Number},
	};
	static const struct key finding[] = {
		{"file", cJSON_String},	    {"line", cJSON_Number},    {"col", cJSON_Number},
		{"severity", cJSON_String}, {"message", cJSON_String},
	};
	struct fixture f;
	char *text;
	cJSON *root, *ph, *fi;

	(void)state;
	fixture_init(&f);
	text = render(&f.r, PLAN_REPORT_JSON);
	root = cJSON_Parse(text);
	assert_non_null(root);
	expect_keys(root, top, sizeof(top) / sizeof(top[0]));
	assert_string_equal(cJSON_GetObjectItem(root, "schema")->valuestring,
			    "keycastd.plan-check/1");
	assert_int_equal(cJSON_GetObjectItem(root, "total_ms")->valuedouble, 75000);
	assert_int_equal(cJSON_GetObjectItem(root, "errors")->valuedouble, 1);
	ph = cJSON_GetObjectItem(root, "phases");
	assert_int_equal(cJSON_GetArraySize(ph), 4);
	expect_keys(cJSON_GetArrayItem(ph, 0), phase, sizeof(phase) / sizeof(phase[0]));
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ph, 2), "start_ms")->valuedouble,
			 55000);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(ph, 3), "in_margin")));
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(ph, 1), "on_timeout"),
				    "action")
			->valuestring,
		"abort");
	assert_true(cJSON_IsBool(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(ph, 0), "steps"), 0),
		"ready")));
	expect_keys(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "manifests"), 0), manifest,
		    sizeof(manifest) / sizeof(manifest[0]));
	fi = cJSON_GetObjectItem(root, "findings");
	assert_int_equal(cJSON_GetArraySize(fi), 2);
	expect_keys(cJSON_GetArrayItem(fi, 0), finding, sizeof(finding) / sizeof(finding[0]));
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(fi, 0), "line")->valuedouble, 9);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(fi, 0), "col")->valuedouble, 38);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(fi, 1), "line")->valuedouble, 0);
	cJSON_Delete(root);
	free(text);
	fixture_free(&f);
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
	assert_non_null(strstr(text, "\nFAILED: 1 error(s), 0 warning(s)\n"));
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

/* Run every test. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_schema),
		cmocka_unit_test(test_github_annotations),
		cmocka_unit_test(test_format_parse),
	};

	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_JSON);
	return cmocka_run_group_tests_name("plan_report", tests, NULL, NULL);
}
