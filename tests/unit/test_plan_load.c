/*
 * test_plan_load.c - the plan loader and validator: the shipped plans load
 * clean, the embedded default equals plans/default.yaml, and every broken
 * plan under tests/plans/ yields exactly the findings its trailing
 * "# expect: LINE:COL: SEVERITY: MESSAGE" comments list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/diag.h"
#include "core/env.h"
#include "plan/plan.h"
#include "test_plan_fake.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLANS_DIR KC_SRCDIR "/tests/plans"

/* Load, layer an empty env, validate (even after load errors); findings in d. */
static int check_file(struct plan *p, const char *path, struct diag *d)
{
	size_t n;
	const struct component_desc *const *descs = fake_descs(&n);
	struct env e;
	int rc = plan_load_file(p, path, d);

	env_init(&e, 0);
	plan_apply_env(p, &e, d);
	(void)plan_validate(p, descs, n, d);
	env_clear(&e);
	return rc;
}

/* Whether d holds a finding "line:col: sev: msg" (msg exact). */
static bool has_exact(const struct diag *d, const char *expect)
{
	for (size_t i = 0; i < d->n; i++) {
		char buf[1024];

		snprintf(buf, sizeof(buf), "%u:%u: %s: %s", d->items[i].line, d->items[i].col,
			 diag_severity_name(d->items[i].severity), d->items[i].message);
		if (strcmp(buf, expect) == 0)
			return true;
	}
	return false;
}

/* Check one plan of tests/plans/ against its expectations. */
static void check_broken(const char *name)
{
	char path[512], line[1024];
	struct plan p;
	struct diag d = {0};
	size_t expected = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", PLANS_DIR, name);
	(void)check_file(&p, path, &d);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "# expect: ", 10) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		expected++;
		if (!has_exact(&d, line + 10)) {
			diag_print(&d, stderr);
			fail_msg("%s: no finding '%s'", name, line + 10);
		}
	}
	fclose(f);
	if (d.n != expected) { /* no '# expect:' line: a plan other tests run, it loads clean */
		diag_print(&d, stderr);
		fail_msg("%s: %zu findings, %zu expected", name, d.n, expected);
	}
	plan_free(&p);
	diag_clear(&d);
}

/* Every plan under tests/plans/ gives exactly its expected findings (none if it lists none). */
static void test_broken_plans(void **state)
{
	DIR *dir = opendir(PLANS_DIR);
	struct dirent *e;
	size_t n = 0;

	(void)state;
	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		check_broken(e->d_name);
		n++;
	}
	closedir(dir);
	assert_true(n >= 12);
}

/* The shipped plans load and validate without a finding. */
static void test_shipped_plans_clean(void **state)
{
	static const char *const files[] = {KC_SRCDIR "/plans/default.yaml",
					    KC_SRCDIR "/plans/dev.yaml"};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct plan p;
		struct diag d = {0};

		assert_int_equal(check_file(&p, files[i], &d), 0);
		if (d.n != 0)
			diag_print(&d, stderr);
		assert_int_equal(d.n, 0);
		assert_int_equal(p.nphases, 4);
		plan_free(&p);
	}
}

/* The embedded default plan is plans/default.yaml, byte for byte. */
static void test_default_embedded(void **state)
{
	FILE *f = fopen(KC_SRCDIR "/plans/default.yaml", "rb");
	static char buf[65536];
	size_t n;

	(void)state;
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(n, plan_default_yaml_len);
	assert_memory_equal(buf, plan_default_yaml, n);
}

/* The default plan's model: the seed system, 65 s + 10 s margin in 120 s. */
static void test_default_model(void **state)
{
	struct plan p;
	struct diag d = {0};

	(void)state;
	assert_int_equal(plan_load_default(&p, &d), 0);
	assert_int_equal(p.nphases, 4);
	assert_string_equal(p.phases[0].name, "pre-drain");
	assert_string_equal(p.phases[0].budget.env, "SHUTDOWN_PRE_DRAIN_SECS");
	assert_string_equal(p.phases[1].budget.env, "SHUTDOWN_HTTP_DRAIN_SECS");
	assert_string_equal(p.phases[2].budget.env, "SHUTDOWN_SIGNER_DRAIN_SECS");
	assert_string_equal(p.ceiling.env, "SHUTDOWN_GRACE_PERIOD_CEILING_SECS");
	assert_int_equal(p.phases[3].budget.ms, PLAN_BUDGET_MARGIN);
	assert_int_equal(plan_phase_budget_ms(&p, 3), 10000);
	assert_int_equal(plan_total_ms(&p), 65000);
	assert_false(p.strict);
	assert_int_equal(p.second_signal, PLAN_ESCALATE_SKIP_TO_LAST);
	assert_int_equal(p.phases[1].on_timeout, PLAN_TIMEOUT_ABORT);
	assert_string_equal(p.phases[1].abort[0], "http");
	assert_int_equal(p.phases[0].steps[0].kind, PLAN_STEP_READINESS);
	assert_int_equal(p.phases[0].steps[1].wait_ms, PLAN_WAIT_REST);
	assert_int_equal(p.budget_warning, PLAN_BUDGET_WARNING_DEFAULT);
	assert_int_equal(plan_phase_warn_ms(&p, 2), 8000); /* 80 % of signer-drain's 10 s */
	assert_int_equal(plan_phase_warn_ms(&p, 3), 8000); /* of the 10 s margin */
	plan_free(&p);
}

/* budget_warning: a whole percentage 1..99 with its sign, or off; the warning's moment. */
static void test_budget_warning(void **state)
{
	static const char *const bad[] = {"0%",	  "100%", "80",	 "80 %", "%",	 "080%",
					  "8.5%", "-5%",  "abc", "",	 "80%%", "1000%"};
	static const char yaml[] = "version: 1\nceiling: 2m\nteardown_margin: 10s\n"
				   "budget_warning: off\nphases:\n"
				   "  - {name: a, budget: 1s, steps: [{wait: rest-of-budget}]}\n";
	struct plan p;
	struct diag d = {0};
	int pct = -1;

	(void)state;
	assert_int_equal(plan_budget_warning_parse(&pct, "80%"), 0);
	assert_int_equal(pct, 80);
	assert_int_equal(plan_budget_warning_parse(&pct, "1%"), 0);
	assert_int_equal(pct, 1);
	assert_int_equal(plan_budget_warning_parse(&pct, "99%"), 0);
	assert_int_equal(pct, 99);
	assert_int_equal(plan_budget_warning_parse(&pct, "off"), 0);
	assert_int_equal(pct, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(plan_budget_warning_parse(&pct, bad[i]), -1);
	assert_int_equal(plan_budget_warning_parse(&pct, NULL), -1);
	assert_int_equal(plan_load_string(&p, "t.yaml", yaml, strlen(yaml), &d), 0);
	assert_int_equal(p.budget_warning, 0);
	assert_int_equal(plan_phase_warn_ms(&p, 0), -1);
	p.budget_warning = 33;
	assert_int_equal(plan_phase_warn_ms(&p, 0), 330);
	p.phases[0].budget.ms = 0;
	assert_int_equal(plan_phase_warn_ms(&p, 0), -1); /* no budget, no warning */
	plan_free(&p);
	diag_clear(&d);
}

/* A key given twice: the first value stands, the second is reported, not parsed. */
static void test_duplicate_key_first_wins(void **state)
{
	struct plan p;
	struct diag d = {0};

	(void)state;
	assert_int_equal(plan_load_file(&p, PLANS_DIR "/duplicate-key.yaml", &d), -1);
	assert_int_equal(diag_count(&d, DIAG_ERROR), 2);
	assert_false(p.strict);
	assert_int_equal(p.nphases, 1);
	assert_string_equal(p.phases[0].name, "pre-drain");
	assert_int_equal(p.phases[0].nsteps, 1);
	plan_free(&p);
	diag_clear(&d);
}

/* A missing file is one error naming it. */
static void test_missing_file(void **state)
{
	struct plan p;
	struct diag d = {0};

	(void)state;
	assert_int_equal(plan_load_file(&p, "/nonexistent/plan.yaml", &d), -1);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.items[0].file, "/nonexistent/plan.yaml");
	plan_free(&p);
	diag_clear(&d);
}

/* Load text; exactly one finding, an error containing needle at line:col. */
static void expect_refused(const char *text, size_t len, const char *needle, unsigned line,
			   unsigned col)
{
	struct plan p;
	struct diag d = {0};

	assert_int_equal(plan_load_string(&p, "deep.yaml", text, len, &d), -1);
	if (d.n != 1 || strstr(d.items[0].message, needle) == NULL)
		diag_print(&d, stderr);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.items[0].severity, DIAG_ERROR);
	assert_non_null(strstr(d.items[0].message, needle));
	assert_int_equal(d.items[0].line, line);
	assert_int_equal(d.items[0].col, col);
	plan_free(&p);
	diag_clear(&d);
}

/*
 * Deep nesting is refused at the token that goes too deep, before libyaml
 * composes it (which costs time quadratic in the depth): 200 000 nested
 * flow sequences (400 KB) at their 65th '[', 65 nested block mappings at
 * the 65th key; 64 levels are not refused for their depth. A text above
 * the 1 MiB limit is refused at 1:1.
 */
static void test_nesting_capped(void **state)
{
	size_t n = 200000, off = 0;
	char *text = malloc(2 * n + PLAN_MAX_BYTES + 2);
	struct plan p;
	struct diag d = {0};

	(void)state;
	assert_non_null(text);
	memset(text, '[', n);
	memset(text + n, ']', n);
	expect_refused(text, 2 * n, "deeper than 64 levels", 1, PLAN_MAX_DEPTH + 1);
	for (int i = 0; i <= PLAN_MAX_DEPTH; i++)
		off += (size_t)snprintf(text + off, 256, "%*sk%d:\n", 2 * i, "", i);
	expect_refused(text, off, "deeper than 64 levels", PLAN_MAX_DEPTH + 1,
		       2 * PLAN_MAX_DEPTH + 1);
	memset(text, '[', PLAN_MAX_DEPTH);
	memset(text + PLAN_MAX_DEPTH, ']', PLAN_MAX_DEPTH);
	assert_int_equal(plan_load_string(&p, "deep.yaml", text, 2 * PLAN_MAX_DEPTH, &d), -1);
	for (size_t i = 0; i < d.n; i++)
		assert_null(strstr(d.items[i].message, "deeper than"));
	plan_free(&p);
	diag_clear(&d);
	memset(text, '#', PLAN_MAX_BYTES + 1);
	expect_refused(text, PLAN_MAX_BYTES + 1, "above the limit of 1048576 bytes", 1, 1);
	free(text);
}

/* Names of the vocabulary are stable. */
static void test_names(void **state)
{
	(void)state;
	assert_string_equal(plan_step_kind_name(PLAN_STEP_STOP_ACCEPTING), "stop-accepting");
	assert_string_equal(plan_timeout_name(PLAN_TIMEOUT_EXIT_NOW), "exit-now");
	assert_string_equal(plan_escalation_name(PLAN_ESCALATE_SKIP_TO_LAST), "skip-to-last-phase");
	assert_string_equal(plan_origin_name(PLAN_ORIGIN_ENV), "env");
}

/* Run every test. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broken_plans),
		cmocka_unit_test(test_shipped_plans_clean),
		cmocka_unit_test(test_default_embedded),
		cmocka_unit_test(test_default_model),
		cmocka_unit_test(test_budget_warning),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_nesting_capped),
		cmocka_unit_test(test_duplicate_key_first_wins),
	};

	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_JSON);
	return cmocka_run_group_tests_name("plan_load", tests, NULL, NULL);
}
