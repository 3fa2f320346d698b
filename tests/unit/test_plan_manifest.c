/*
 * test_plan_manifest.c - what a Kubernetes manifest tells `plan check`:
 * grace period (30 s when absent), readiness probe (10 s x 3 when absent),
 * preStop sleep, container env and the ConfigMap the plan is mounted from;
 * and the checks of the default plan against them; the ports each probe
 * uses (the probe port, not the API's) and the forms of a preStop hook.
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
#include "plan/plan_pod.h"

#include <string.h>

#define MDIR KC_SRCDIR "/tests/manifests/"

/* Load manifest name, apply its env to the default plan and check it; findings in d. */
static void check(struct plan_manifest *m, const char *name, struct diag *d)
{
	struct plan p;
	struct env e;

	assert_int_equal(plan_manifest_load(m, name, d), 0);
	assert_int_equal(plan_load_default(&p, d), 0);
	env_init(&e, 0);
	for (size_t i = 0; i < m->nenv; i++)
		assert_int_equal(env_put(&e, m->env[i]), 0);
	plan_apply_env(&p, &e, d);
	plan_manifest_check(m, &p, d);
	env_clear(&e);
	plan_free(&p);
}

/* Whether d has one finding of sev at line:col containing needle. */
static bool has(const struct diag *d, enum diag_severity sev, unsigned line, unsigned col,
		const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].severity == sev && d->items[i].line == line &&
		    d->items[i].col == col && strstr(d->items[i].message, needle) != NULL)
			return true;
	return false;
}

/* A 60 s grace period cannot hold the default plan's 75 s. */
static void test_grace60(void **state)
{
	struct plan_manifest m;
	struct diag d = {0};

	(void)state;
	check(&m, MDIR "grace60.yaml", &d);
	assert_string_equal(m.workload, "Deployment/keycastd");
	assert_int_equal(m.grace_ms, 60000);
	assert_int_equal(d.n, 2);
	assert_true(has(&d, DIAG_ERROR, 9, 38, "needs 75s"));
	assert_true(has(&d, DIAG_ERROR, 9, 38, "terminationGracePeriodSeconds is 60s"));
	assert_true(
		has(&d, DIAG_ERROR, 9, 38,
		    "the plan's ceiling is 120s (default) but terminationGracePeriodSeconds 60s "
		    "minus the preStop sleep 0s leaves 60s"));
	assert_true(
		has(&d, DIAG_ERROR, 9, 38,
		    "lower the ceiling to at most 60s (the plan's 'ceiling' or "
		    "SHUTDOWN_GRACE_PERIOD_CEILING_SECS) or raise terminationGracePeriodSeconds "
		    "to at least 120s"));
	plan_manifest_free(&m);
	diag_clear(&d);
}

/* The keycastd container is picked over a sidecar; its env is read. */
static void test_ok_picks_container(void **state)
{
	struct plan_manifest m;
	struct diag d = {0};

	(void)state;
	check(&m, MDIR "ok.yaml", &d);
	assert_int_equal(d.n, 0); /* the env's 90 s ceiling fits the 90 s grace period */
	assert_int_equal(m.nenv, 2);
	assert_string_equal(m.env[0], "SHUTDOWN_HTTP_DRAIN_SECS=40");
	assert_int_equal(m.probe_period_s * m.probe_threshold, 9);
	plan_manifest_free(&m);
}

/* Absent fields take the Kubernetes defaults. */
static void test_defaults(void **state)
{
	struct plan_manifest m;
	struct diag d = {0};

	(void)state;
	check(&m, MDIR "defaults.yaml", &d);
	assert_string_equal(m.workload, "StatefulSet/keycastd");
	assert_false(m.grace_set);
	assert_int_equal(m.grace_ms, 30000);
	assert_int_equal(m.probe_period_s, 10);
	assert_int_equal(m.probe_threshold, 3);
	assert_true(has(&d, DIAG_ERROR, 2, 1, "is 30s (the default)"));
	assert_true(has(&d, DIAG_WARNING, 13, 13, "needs 30s"));
	plan_manifest_free(&m);
	diag_clear(&d);
}

/* A preStop sleep counts into the grace period. */
static void test_prestop(void **state)
{
	struct plan_manifest m;
	struct diag d = {0};

	(void)state;
	check(&m, MDIR "prestop.yaml", &d);
	assert_int_equal(m.prestop_ms, 5000);
	assert_true(has(&d, DIAG_ERROR, 9, 38, "needs 80s (preStop sleep 5s"));
	assert_true(has(&d, DIAG_ERROR, 9, 38, "minus the preStop sleep 5s leaves 70s"));
	assert_int_equal(m.prestop, PLAN_PRESTOP_EXEC_SLEEP); /* ["/bin/sh", "-c", "sleep 5"] */
	assert_true(has(&d, DIAG_WARNING, 16, 26, "an image without sleep or a shell"));
	plan_manifest_free(&m);
	diag_clear(&d);
}

/* The plan path resolves through the mount to the ConfigMap in the same file. */
static void test_configmap(void **state)
{
	struct plan_manifest m;
	struct diag d = {0};
	struct plan p;

	(void)state;
	assert_int_equal(plan_manifest_load(&m, MDIR "configmap.yaml", &d), 0);
	assert_string_equal(m.plan_path, "/etc/keycastd/plan.yaml");
	assert_non_null(m.plan_text);
	assert_non_null(strstr(m.plan_name, "[ConfigMap/keycastd-plan:plan.yaml]"));
	assert_int_equal(m.plan_line, 8); /* the '|' line; the plan starts on the next */
	assert_int_equal(m.plan_col, 4);
	assert_int_equal(plan_load_string(&p, m.plan_name, m.plan_text, strlen(m.plan_text), &d),
			 0);
	assert_int_equal(p.nphases, 3);
	assert_int_equal(p.phases[1].budget.ms, 200000);
	plan_free(&p);
	plan_manifest_free(&m);
}

/* A file without a workload is one error. */
static void test_no_workload(void **state)
{
	struct plan_manifest m;
	struct diag d = {0};

	(void)state;
	assert_int_equal(plan_manifest_load(&m, KC_SRCDIR "/plans/default.yaml", &d), -1);
	assert_int_equal(diag_count(&d, DIAG_ERROR), 1);
	plan_manifest_free(&m);
	diag_clear(&d);
}

/*
 * The readiness advice counts the preStop sleep: 10 s of pre-drain after a
 * 5 s preStop sleep against a 30 s detection time needs a 25 s pre-drain.
 */
static void test_prestop_probe(void **state)
{
	struct plan_manifest m;
	struct diag d = {0};

	(void)state;
	check(&m, MDIR "prestop-probe.yaml", &d);
	assert_int_equal(m.prestop_ms, 5000);
	assert_true(has(&d, DIAG_WARNING, 18, 13,
			"the pre-drain waits 10s after readiness fails (after a preStop sleep of "
			"5s), but the readiness probe needs 30s"));
	assert_true(has(&d, DIAG_WARNING, 18, 13, "raise the pre-drain budget to 25s"));
	plan_manifest_free(&m);
	diag_clear(&d);
}

/*
 * Probes on the API port are errors (by number or by its name), a probe on
 * a port keycastd does not listen on is a warning; the ports come from the
 * container's env (PORT) and args (--probe-port).
 */
static void test_probe_ports(void **state)
{
	struct plan_manifest m;
	struct diag d = {0};

	(void)state;
	check(&m, MDIR "probes-api.yaml", &d);
	assert_int_equal(m.api_port, 8000);
	assert_int_equal(m.probe_port, 9090);
	assert_int_equal(m.probes[PLAN_PROBE_READINESS].port, 8000);
	assert_string_equal(m.probes[PLAN_PROBE_READINESS].port_name, "http");
	assert_true(has(&d, DIAG_ERROR, 23, 50,
			"livenessProbe uses port 8000, keycastd's API port (port): the API port "
			"serves no probes and closes at the plan's http-drain"));
	assert_true(has(&d, DIAG_ERROR, 23, 50, "point it at the probe port 9090 (probe_port)"));
	assert_true(has(&d, DIAG_ERROR, 25, 51,
			"readinessProbe uses port 8000 (named 'http'), keycastd's API port"));
	assert_true(has(&d, DIAG_WARNING, 29, 31,
			"startupProbe uses port 8081, where keycastd does not listen (API 8000, "
			"probes 9090)"));
	assert_int_equal(diag_count(&d, DIAG_ERROR), 2);
	assert_int_equal(diag_count(&d, DIAG_WARNING), 1);
	plan_manifest_free(&m);
	diag_clear(&d);
}

/* exec: [/bin/sleep, 7s] counts 7 s, with the warning that the image needs sleep. */
static void test_prestop_exec(void **state)
{
	struct plan_manifest m;
	struct diag d = {0};

	(void)state;
	check(&m, MDIR "prestop-exec.yaml", &d);
	assert_int_equal(m.prestop, PLAN_PRESTOP_EXEC_SLEEP);
	assert_int_equal(m.prestop_ms, 7000);
	assert_int_equal(m.probes[PLAN_PROBE_LIVENESS].port, 8081); /* the named probe port */
	assert_true(
		has(&d, DIAG_WARNING, 21, 26,
		    "the preStop hook runs sleep inside the container (exec): an image without "
		    "sleep or a shell (distroless, scratch) fails the hook, and Kubernetes then "
		    "sends SIGTERM at once, without the 7s wait; use the native action "
		    "'lifecycle: {preStop: {sleep: {seconds: N}}}'"));
	assert_int_equal(d.n, 1);
	plan_manifest_free(&m);
	diag_clear(&d);
}

/* An httpGet preStop has no known length (counted 0 s); an undeclared port name warns. */
static void test_prestop_http(void **state)
{
	struct plan_manifest m;
	struct diag d = {0};

	(void)state;
	check(&m, MDIR "prestop-http.yaml", &d);
	assert_int_equal(m.prestop, PLAN_PRESTOP_HTTP);
	assert_int_equal(m.prestop_ms, 0);
	assert_true(has(&d, DIAG_WARNING, 18, 24,
			"the preStop hook is an httpGet: it lasts as long as its server takes to "
			"answer, which is unknown here and counted as 0s"));
	assert_true(
		has(&d, DIAG_WARNING, 20, 50,
		    "livenessProbe uses port 'probes', which the container's ports do not name"));
	assert_int_equal(d.n, 2);
	plan_manifest_free(&m);
	diag_clear(&d);
}

/* The native sleep action: counted, no warning; the names of the forms. */
static void test_prestop_native(void **state)
{
	struct plan_manifest m;
	struct diag d = {0};

	(void)state;
	check(&m, MDIR "prestop-probe.yaml", &d);
	assert_int_equal(m.prestop, PLAN_PRESTOP_SLEEP);
	for (size_t i = 0; i < d.n; i++) /* the grace period and pre-drain findings only */
		assert_null(strstr(d.items[i].message, "preStop hook"));
	assert_string_equal(plan_prestop_name(PLAN_PRESTOP_EXEC_SLEEP), "exec sleep");
	assert_string_equal(plan_probe_key(PLAN_PROBE_STARTUP), "startupProbe");
	plan_manifest_free(&m);
	diag_clear(&d);
}

/* Run every test. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grace60),	       cmocka_unit_test(test_ok_picks_container),
		cmocka_unit_test(test_defaults),       cmocka_unit_test(test_prestop),
		cmocka_unit_test(test_prestop_probe),  cmocka_unit_test(test_configmap),
		cmocka_unit_test(test_no_workload),    cmocka_unit_test(test_probe_ports),
		cmocka_unit_test(test_prestop_exec),   cmocka_unit_test(test_prestop_http),
		cmocka_unit_test(test_prestop_native),
	};

	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_JSON);
	return cmocka_run_group_tests_name("plan_manifest", tests, NULL, NULL);
}
