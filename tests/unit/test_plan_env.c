/*
 * test_plan_env.c - budgets: durations, env overrides in whole seconds
 * (defaults, overrides, zero, invalid, the 1-day ceiling, u64::MAX-like
 * input), saturating arithmetic, and the fit of the plan in its ceiling.
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

#include <string.h>

/* The default plan with env pairs layered; findings in d. */
static void load(struct plan *p, struct diag *d, const char *const *envs)
{
	struct env e;

	env_init(&e, 0);
	for (; envs != NULL && *envs != NULL; envs++)
		assert_int_equal(env_put(&e, *envs), 0);
	assert_int_equal(plan_load_default(p, d), 0);
	plan_apply_env(p, &e, d);
	env_clear(&e);
}

/* Validate p with the test catalogue; the number of errors. */
static size_t validate(struct plan *p, struct diag *d)
{
	size_t n;
	const struct component_desc *const *descs = fake_descs(&n);

	return plan_validate(p, descs, n, d);
}

/* Whether some finding of severity sev contains every needle. */
static bool has_finding(const struct diag *d, enum diag_severity sev, const char *const *needles)
{
	for (size_t i = 0; i < d->n; i++) {
		bool all = d->items[i].severity == sev;

		for (const char *const *n = needles; all && *n != NULL; n++)
			all = strstr(d->items[i].message, *n) != NULL ||
			      strstr(d->items[i].file, *n) != NULL;
		if (all)
			return true;
	}
	return false;
}

/* Durations with units. */
static void test_duration_parse(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(plan_duration_parse(&ms, "500ms"), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(plan_duration_parse(&ms, "10s"), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(plan_duration_parse(&ms, "2m"), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(plan_duration_parse(&ms, "1h"), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(plan_duration_parse(&ms, "0"), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(plan_duration_parse(&ms, "10"), -1);
	assert_int_equal(plan_duration_parse(&ms, "-1s"), -1);
	assert_int_equal(plan_duration_parse(&ms, "1.5s"), -1);
	assert_int_equal(plan_duration_parse(&ms, "10x"), -1);
	assert_int_equal(plan_duration_parse(&ms, "18446744073709551600h"), -1);
	assert_int_equal(plan_duration_parse(&ms, NULL), -1);
}

/* Env seconds: digits only, at most one day. */
static void test_env_secs_parse(void **state)
{
	int64_t ms = -7;

	(void)state;
	assert_int_equal(plan_env_secs_parse(&ms, "0"), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(plan_env_secs_parse(&ms, "86400"), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(plan_env_secs_parse(&ms, "86401"), -2);
	assert_int_equal(plan_env_secs_parse(&ms, "18446744073709551600"), -2);
	assert_int_equal(plan_env_secs_parse(&ms, "99999999999999999999999999"), -2);
	assert_int_equal(plan_env_secs_parse(&ms, "abc"), -1);
	assert_int_equal(plan_env_secs_parse(&ms, "-5"), -1);
	assert_int_equal(plan_env_secs_parse(&ms, " 5"), -1);
	assert_int_equal(plan_env_secs_parse(&ms, ""), -1);
}

/* Saturating addition never wraps. */
static void test_add_saturates(void **state)
{
	(void)state;
	assert_int_equal(plan_add_ms(1, 2), 3);
	assert_int_equal(plan_add_ms(INT64_MAX, 1), INT64_MAX);
	assert_int_equal(plan_add_ms(INT64_MAX - 1, INT64_MAX), INT64_MAX);
	assert_int_equal(plan_add_ms(-5, 3), 3);
}

/* No env: the seed's defaults, from the built-in default plan. */
static void test_env_defaults(void **state)
{
	struct plan p;
	struct diag d = {0};

	(void)state;
	load(&p, &d, NULL);
	assert_int_equal(p.phases[0].budget.ms, 10000);
	assert_int_equal(p.phases[1].budget.ms, 45000);
	assert_int_equal(p.phases[2].budget.ms, 10000);
	assert_int_equal(p.ceiling.ms, 120000);
	assert_int_equal(p.margin.ms, 10000);
	assert_int_equal(p.phases[1].budget.origin, PLAN_ORIGIN_DEFAULT);
	assert_int_equal(p.ceiling.origin, PLAN_ORIGIN_DEFAULT);
	assert_int_equal(p.margin.origin, PLAN_ORIGIN_DEFAULT);
	assert_int_equal(d.n, 0);
	assert_int_equal(plan_total_ms(&p), 65000);
	plan_free(&p);
}

/* Every env variable overrides its field. */
static void test_env_overrides(void **state)
{
	static const char *const env[] = {
		"SHUTDOWN_PRE_DRAIN_SECS=5", "SHUTDOWN_HTTP_DRAIN_SECS=30",
		"SHUTDOWN_SIGNER_DRAIN_SECS=7", "SHUTDOWN_GRACE_PERIOD_CEILING_SECS=90", NULL};
	struct plan p;
	struct diag d = {0};

	(void)state;
	load(&p, &d, env);
	assert_int_equal(p.phases[0].budget.ms, 5000);
	assert_int_equal(p.phases[1].budget.ms, 30000);
	assert_int_equal(p.phases[2].budget.ms, 7000);
	assert_int_equal(p.ceiling.ms, 90000);
	assert_int_equal(p.phases[1].budget.origin, PLAN_ORIGIN_ENV);
	assert_int_equal(p.ceiling.origin, PLAN_ORIGIN_ENV);
	assert_int_equal(d.n, 0);
	plan_free(&p);
}

/* Zero is a valid budget. */
static void test_env_zero_valid(void **state)
{
	static const char *const env[] = {"SHUTDOWN_PRE_DRAIN_SECS=0", NULL};
	struct plan p;
	struct diag d = {0};

	(void)state;
	load(&p, &d, env);
	assert_int_equal(p.phases[0].budget.ms, 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(validate(&p, &d), 0);
	plan_free(&p);
}

/* Unparsable values fall back to the default with a warning naming the variable. */
static void test_env_invalid_falls_back(void **state)
{
	static const char *const bad[] = {"abc", "-5", "1.5", "10s", ""};
	static const char *const needles[] = {"SHUTDOWN_HTTP_DRAIN_SECS", "default 45s", NULL};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char pair[64];
		const char *env[] = {pair, NULL};
		struct plan p;
		struct diag d = {0};

		snprintf(pair, sizeof(pair), "SHUTDOWN_HTTP_DRAIN_SECS=%s", bad[i]);
		load(&p, &d, env);
		assert_int_equal(p.phases[1].budget.ms, 45000);
		assert_int_equal(p.phases[1].budget.origin, PLAN_ORIGIN_DEFAULT);
		assert_int_equal(diag_count(&d, DIAG_WARNING), 1);
		assert_true(has_finding(&d, DIAG_WARNING, needles));
		plan_free(&p);
		diag_clear(&d);
	}
}

/* Above one day falls back, naming the variable, the value and the ceiling. */
static void test_env_above_ceiling(void **state)
{
	static const char *const env[] = {"SHUTDOWN_SIGNER_DRAIN_SECS=86401", NULL};
	static const char *const needles[] = {"SHUTDOWN_SIGNER_DRAIN_SECS", "86401", "86400",
					      "default 10s", NULL};
	struct plan p;
	struct diag d = {0};

	(void)state;
	load(&p, &d, env);
	assert_int_equal(p.phases[2].budget.ms, 10000);
	assert_true(has_finding(&d, DIAG_WARNING, needles));
	plan_free(&p);
	diag_clear(&d);
}

/* Exactly one day is accepted. */
static void test_env_at_ceiling(void **state)
{
	static const char *const env[] = {"SHUTDOWN_SIGNER_DRAIN_SECS=86400", NULL};
	struct plan p;
	struct diag d = {0};

	(void)state;
	load(&p, &d, env);
	assert_int_equal(p.phases[2].budget.ms, 86400000);
	assert_int_equal(d.n, 0);
	plan_free(&p);
}

/* u64::MAX-like input: a warning, no overflow of the total. */
static void test_env_u64_max(void **state)
{
	static const char *const env[] = {"SHUTDOWN_PRE_DRAIN_SECS=18446744073709551600",
					  "SHUTDOWN_HTTP_DRAIN_SECS=18446744073709551615",
					  "SHUTDOWN_GRACE_PERIOD_CEILING_SECS=86400", NULL};
	static const char *const needles[] = {"SHUTDOWN_PRE_DRAIN_SECS", "18446744073709551600",
					      NULL};
	struct plan p;
	struct diag d = {0};

	(void)state;
	load(&p, &d, env);
	assert_int_equal(diag_count(&d, DIAG_WARNING), 2);
	assert_true(has_finding(&d, DIAG_WARNING, needles));
	assert_int_equal(plan_total_ms(&p), 65000);
	assert_int_equal(validate(&p, &d), 0);
	plan_free(&p);
	diag_clear(&d);
}

/* All budgets at one day: the total does not overflow, the misfit is reported. */
static void test_env_all_at_ceiling(void **state)
{
	static const char *const env[] = {"SHUTDOWN_PRE_DRAIN_SECS=86400",
					  "SHUTDOWN_HTTP_DRAIN_SECS=86400",
					  "SHUTDOWN_SIGNER_DRAIN_SECS=86400", NULL};
	struct plan p;
	struct diag d = {0};

	(void)state;
	load(&p, &d, env);
	assert_int_equal(plan_total_ms(&p), 3 * 86400000LL);
	assert_int_equal(validate(&p, &d), 0); /* warn mode */
	assert_int_equal(diag_count(&d, DIAG_WARNING), 1);
	plan_free(&p);
	diag_clear(&d);
}

/* Fit findings of the default plan under ceiling secs (+ optional http drain). */
static size_t fit(const char *ceiling, const char *http, bool strict, struct diag *d)
{
	char c[64], h[64];
	const char *env[] = {c, http ? h : NULL, NULL};
	struct plan p;
	size_t errors;

	snprintf(c, sizeof(c), "SHUTDOWN_GRACE_PERIOD_CEILING_SECS=%s", ceiling);
	snprintf(h, sizeof(h), "SHUTDOWN_HTTP_DRAIN_SECS=%s", http ? http : "");
	load(&p, d, env);
	p.strict = strict;
	errors = validate(&p, d);
	plan_free(&p);
	return errors;
}

/* Ceiling: under fits, over warns (warn mode) or fails (strict). */
static void test_ceiling_under_over(void **state)
{
	struct diag d = {0};

	(void)state;
	assert_int_equal(fit("120", NULL, false, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(fit("60", NULL, false, &d), 0);
	assert_int_equal(diag_count(&d, DIAG_WARNING), 1);
	diag_clear(&d);
	assert_int_equal(fit("60", NULL, true, &d), 1);
	diag_clear(&d);
}

/* A single field overshooting (120 s http drain) is caught, naming every value. */
static void test_ceiling_single_field(void **state)
{
	static const char *const needles[] = {"pre-drain 10s",
					      "http-drain 120s",
					      "signer-drain 10s",
					      "teardown margin 10s",
					      "150s",
					      "ceiling 120s",
					      NULL};
	struct diag d = {0};

	(void)state;
	assert_int_equal(fit("120", "120", true, &d), 1);
	assert_true(has_finding(&d, DIAG_ERROR, needles));
	diag_clear(&d);
}

/* Equality fits; one below is rejected; one above is accepted. */
static void test_ceiling_boundaries(void **state)
{
	struct diag d = {0};

	(void)state;
	assert_int_equal(fit("75", NULL, true, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(fit("74", NULL, true, &d), 1);
	diag_clear(&d);
	assert_int_equal(fit("76", NULL, true, &d), 0);
	assert_int_equal(d.n, 0);
}

/* Run every test. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_env_secs_parse),
		cmocka_unit_test(test_add_saturates),
		cmocka_unit_test(test_env_defaults),
		cmocka_unit_test(test_env_overrides),
		cmocka_unit_test(test_env_zero_valid),
		cmocka_unit_test(test_env_invalid_falls_back),
		cmocka_unit_test(test_env_above_ceiling),
		cmocka_unit_test(test_env_at_ceiling),
		cmocka_unit_test(test_env_u64_max),
		cmocka_unit_test(test_env_all_at_ceiling),
		cmocka_unit_test(test_ceiling_under_over),
		cmocka_unit_test(test_ceiling_single_field),
		cmocka_unit_test(test_ceiling_boundaries),
	};

	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_JSON);
	return cmocka_run_group_tests_name("plan_env", tests, NULL, NULL);
}
