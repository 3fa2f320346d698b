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
#include "plan/plan_watchdog.h"
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
	assert_int_equal(plan_duration_parse(&ms, "18446744073709551600h"), -2);
	assert_int_equal(plan_duration_parse(&ms, "18446744073709551615s"), -2); /* a duration */
	assert_int_equal(plan_duration_parse(&ms, "86401s"), -2);
	assert_int_equal(plan_duration_parse(&ms, "86400s"), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(plan_duration_parse(&ms, "18446744073709551615"), -1); /* no unit */
	assert_int_equal(plan_duration_parse(&ms, "18446744073709551615x"), -1);
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

/*
 * Equality fits the budgets in the ceiling (no fit finding), one second
 * below does not; but the watchdog's rule is stricter: the default plan's
 * worst case (85 s) must end before the deadline, so 85 s is refused in
 * strict mode (deadline 84.5 s) and 86 s is the first clean ceiling.
 */
static void test_ceiling_boundaries(void **state)
{
	static const char *const misfit[] = {"does not fit its ceiling", NULL};
	struct diag d = {0};

	(void)state;
	assert_int_equal(fit("75", NULL, true, &d), 1);
	assert_false(has_finding(&d, DIAG_ERROR, misfit));
	diag_clear(&d);
	assert_int_equal(fit("74", NULL, true, &d), 1);
	assert_true(has_finding(&d, DIAG_ERROR, misfit));
	diag_clear(&d);
	assert_int_equal(fit("85", NULL, true, &d), 1);
	diag_clear(&d);
	assert_int_equal(fit("86", NULL, true, &d), 0);
	assert_int_equal(d.n, 0);
}

/* Load yaml, layer env pairs and validate; the number of errors, findings in d. */
static size_t check_yaml(struct plan *p, const char *yaml, const char *const *envs, struct diag *d)
{
	struct env e;

	env_init(&e, 0);
	for (; envs != NULL && *envs != NULL; envs++)
		assert_int_equal(env_put(&e, *envs), 0);
	assert_int_equal(plan_load_string(p, "t.yaml", yaml, strlen(yaml), d), 0);
	plan_apply_env(p, &e, d);
	env_clear(&e);
	return validate(p, d);
}

/* The plan of the report: a 2 s ceiling, no margin, a 1500 ms pre-drain (PRE), strict. */
#define CUT_PLAN(pre)                                                                              \
	"version: 1\nceiling: 2s\nteardown_margin: 0\nmode: strict\nphases:\n"                     \
	"  - name: pre-drain\n    budget: " pre "\n    steps:\n      - readiness: fail\n"          \
	"      - wait: rest-of-budget\n"                                                           \
	"  - name: cleanup\n    budget: teardown-margin\n    steps:\n"                             \
	"      - close: relay-signer\n      - close: db\n"

/*
 * A worst case equal to the watchdog's deadline is cut (both count from the
 * signal): strict mode refuses the plan at its ceiling line, naming the
 * worst case, the deadline and the ceiling that would do; 1 ms less runs.
 */
static void test_watchdog_equal_cut(void **state)
{
	static const char *const needles[] = {"t.yaml",
					      "worst case 1.500s",
					      "watchdog's deadline 1.500s (ceiling 2s)",
					      "mode strict: keycastd refuses to start",
					      "raise the ceiling to at least 2.001s",
					      NULL};
	struct plan p;
	struct diag d = {0};

	(void)state;
	assert_int_equal(check_yaml(&p, CUT_PLAN("1500ms"), NULL, &d), 1);
	assert_true(has_finding(&d, DIAG_ERROR, needles));
	assert_int_equal(d.items[0].line, 2);
	assert_true(plan_watchdog_cuts(&p));
	plan_free(&p);
	diag_clear(&d);
	assert_int_equal(check_yaml(&p, CUT_PLAN("1499ms"), NULL, &d), 0);
	assert_int_equal(d.n, 0);
	assert_false(plan_watchdog_cuts(&p));
	assert_int_equal(plan_watchdog_plan_deadline_ms(&p), 1500);
	plan_free(&p);
	diag_clear(&d);
}

/*
 * A ceiling of 0 or 1 s from the env never removes the drain: in warn mode
 * the watchdog's deadline becomes the worst case + 500 ms and the warning
 * says so; in strict mode it is an error (the daemon refuses to start).
 */
static void test_watchdog_tiny_ceiling(void **state)
{
	static const char *const needles[] = {"env SHUTDOWN_GRACE_PERIOD_CEILING_SECS",
					      "mode warn: the plan runs in full",
					      "the watchdog fires at 85.500s", NULL};
	static const char *const ceilings[] = {"0", "1"};
	struct diag d = {0};
	struct plan p;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		char c[64];
		const char *env[] = {c, NULL};

		snprintf(c, sizeof(c), "SHUTDOWN_GRACE_PERIOD_CEILING_SECS=%s", ceilings[i]);
		load(&p, &d, env);
		assert_int_equal(validate(&p, &d), 0);
		assert_true(has_finding(&d, DIAG_WARNING, needles));
		assert_int_equal(plan_watchdog_plan_deadline_ms(&p), 85500);
		plan_free(&p);
		diag_clear(&d);
		assert_int_equal(fit(ceilings[i], NULL, true, &d), 1);
		diag_clear(&d);
	}
}

/*
 * The default plan under a 75 s ceiling fits its budgets (75 s) but not its
 * worst case (85 s): a warning (so --strict fails) saying what happens.
 */
static void test_watchdog_cut_warns(void **state)
{
	static const char *const needles[] = {"worst case 85s",
					      "2 abort wait(s) of 5s",
					      "watchdog's deadline 74.500s (ceiling 75s)",
					      "the watchdog fires at 85.500s",
					      "at least 85.501s",
					      NULL};
	struct diag d = {0};

	(void)state;
	assert_int_equal(fit("75", NULL, false, &d), 0);
	assert_int_equal(diag_count(&d, DIAG_WARNING), 1);
	assert_true(has_finding(&d, DIAG_WARNING, needles));
	diag_clear(&d);
}

/*
 * A SHUTDOWN_* variable the plan binds no budget to is a warning at its
 * name (it would be ignored silently); SHUTDOWN_PLAN (the config's) and
 * other variables are not; a bound one is not.
 */
static void test_env_unbound_warns(void **state)
{
	static const char *const env[] = {"SHUTDOWN_HTTP_DRAIN_SECS=99",
					  "SHUTDOWN_PLAN=/etc/keycastd/plan.yaml", "HOME=/root",
					  NULL};
	static const char *const bound[] = {"SHUTDOWN_HTTP_DRAIN_SECS=30", NULL};
	static const char *const needles[] = {"env SHUTDOWN_HTTP_DRAIN_SECS",
					      "SHUTDOWN_HTTP_DRAIN_SECS is set ('99')",
					      "binds no budget to it", NULL};
	struct diag d = {0};
	struct plan p;

	(void)state;
	assert_int_equal(check_yaml(&p, CUT_PLAN("1499ms"), env, &d), 0);
	assert_int_equal(d.n, 1);
	assert_true(has_finding(&d, DIAG_WARNING, needles));
	plan_free(&p);
	diag_clear(&d);
	load(&p, &d, bound); /* the default plan binds it */
	assert_int_equal(validate(&p, &d), 0);
	assert_int_equal(d.n, 0);
	plan_free(&p);
}

/* The fit message prints exact durations, not whole seconds rounded down. */
static void test_fit_exact_durations(void **state)
{
	static const char yaml[] = "version: 1\nceiling: 1s\nteardown_margin: 0\nphases:\n"
				   "  - {name: a, budget: 1999ms, steps: [{readiness: fail}]}\n";
	static const char *const needles[] = {"a 1.999s + teardown margin 0s = 1.999s > ceiling 1s",
					      NULL};
	struct diag d = {0};
	struct plan p;

	(void)state;
	assert_int_equal(check_yaml(&p, yaml, NULL, &d), 0);
	assert_true(has_finding(&d, DIAG_WARNING, needles));
	plan_free(&p);
	diag_clear(&d);
}

/*
 * A misfit an env override causes (the file's own values fit) is located
 * at that variable, not at the ceiling's line; one the file causes stays
 * at the ceiling's line; a watchdog cut likewise.
 */
static void test_fit_located_at_env(void **state)
{
	static const char *const over[] = {"SHUTDOWN_HTTP_DRAIN_SECS=200", NULL};
	static const char *const cut[] = {"SHUTDOWN_SIGNER_DRAIN_SECS=50", NULL};
	static const char *const fits[] = {"the plan does not fit its ceiling", NULL};
	static const char *const wd[] = {"does not end before the watchdog's deadline", NULL};
	struct diag d = {0};
	struct plan p;

	(void)state;
	load(&p, &d, over);
	assert_int_equal(validate(&p, &d), 0);
	assert_int_equal(d.n, 1);
	assert_true(has_finding(&d, DIAG_WARNING, fits));
	assert_string_equal(d.items[0].file, "env SHUTDOWN_HTTP_DRAIN_SECS");
	assert_int_equal(d.items[0].line, 0);
	plan_free(&p);
	diag_clear(&d);
	load(&p, &d, cut); /* 10 + 45 + 50 + 10 = 115 s fits 120 s; + 2 abort waits: cut */
	assert_int_equal(validate(&p, &d), 0);
	assert_int_equal(d.n, 1);
	assert_true(has_finding(&d, DIAG_WARNING, wd));
	assert_string_equal(d.items[0].file, "env SHUTDOWN_SIGNER_DRAIN_SECS");
	plan_free(&p);
	diag_clear(&d);
	assert_int_equal(check_yaml(&p, CUT_PLAN("1500ms"), NULL, &d), 1); /* the file's own */
	assert_string_equal(d.items[0].file, "t.yaml");
	assert_int_equal(d.items[0].line, 2);
	plan_free(&p);
	diag_clear(&d);
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
		cmocka_unit_test(test_watchdog_equal_cut),
		cmocka_unit_test(test_watchdog_tiny_ceiling),
		cmocka_unit_test(test_watchdog_cut_warns),
		cmocka_unit_test(test_env_unbound_warns),
		cmocka_unit_test(test_fit_exact_durations),
		cmocka_unit_test(test_fit_located_at_env),
	};

	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_JSON);
	return cmocka_run_group_tests_name("plan_env", tests, NULL, NULL);
}
