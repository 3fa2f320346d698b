/*
 * test_plan_unit.c - systemd unit facts and the checks of a plan against
 * them (plan/plan_unit.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/diag.h"
#include "plan/plan.h"
#include "plan/plan_unit.h"

/* Write text to a temporary unit file; its path goes to buf. */
static void write_unit(char *buf, size_t len, const char *text)
{
	int fd;

	snprintf(buf, len, "/tmp/test_plan_unit.XXXXXX");
	fd = mkstemp(buf);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Whether d holds a finding of severity sev whose message contains s. */
static bool has(const struct diag *d, enum diag_severity sev, const char *s)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].severity == sev && strstr(d->items[i].message, s) != NULL)
			return true;
	return false;
}

/* systemd time spans: units, combinations, infinity, refusals. */
static void test_duration(void **state)
{
	int64_t ms = -1;

	(void)state;
	assert_int_equal(plan_unit_duration_parse(&ms, "90"), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(plan_unit_duration_parse(&ms, "1min 30s"), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(plan_unit_duration_parse(&ms, "1min30s"), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(plan_unit_duration_parse(&ms, "500ms"), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(plan_unit_duration_parse(&ms, "1.5s"), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(plan_unit_duration_parse(&ms, "2h"), 0);
	assert_int_equal(ms, 7200000);
	assert_int_equal(plan_unit_duration_parse(&ms, "infinity"), 0);
	assert_true(ms == PLAN_UNIT_INFINITY);
	assert_int_equal(plan_unit_duration_parse(&ms, ""), -1);
	assert_int_equal(plan_unit_duration_parse(&ms, "5 fortnights"), -1);
	assert_int_equal(plan_unit_duration_parse(&ms, "-5s"), -1);
	assert_int_equal(plan_unit_duration_parse(&ms, "2d"), -1); /* above one day */
	assert_int_equal(plan_unit_duration_parse(&ms, "99999999999999999999s"), -1);
}

/* The [Service] keys: later wins, empty resets, quotes, continuations, ExecStart. */
static void test_load(void **state)
{
	char path[64];
	struct plan_unit u;
	struct diag d = {0};

	(void)state;
	write_unit(path, sizeof(path),
		   "[Unit]\nDescription=x\nTimeoutStopSec=5s\n"
		   "[Service]\n# a comment\nType=notify\nTimeoutSec=30\nTimeoutStopSec=2min\n"
		   "Environment=\"A=1 2\" B=3\nEnvironment=SHUTDOWN_PRE_DRAIN_SECS=4 \\\n"
		   "  C=5\nExecStart=/usr/bin/keycastd serve \\\n --plan /etc/p.yaml\n"
		   "KillSignal=SIGINT\n[Install]\nTimeoutStopSec=1s\n");
	assert_int_equal(plan_unit_load(&u, path, &d), 0);
	assert_true(u.has_service);
	assert_string_equal(u.type, "notify");
	assert_int_equal(u.stop_ms, 120000); /* [Unit] and [Install] keys are not the service's */
	assert_int_equal(u.stop_pos.line, 8);
	assert_int_equal(u.stop_pos.col, 16);
	assert_int_equal(u.nenv, 4);
	assert_string_equal(u.env[0], "A=1 2");
	assert_string_equal(u.env[1], "B=3");
	assert_string_equal(u.env[2], "SHUTDOWN_PRE_DRAIN_SECS=4");
	assert_string_equal(u.env[3], "C=5");
	assert_string_equal(u.plan_path, "/etc/p.yaml");
	assert_string_equal(u.kill_signal, "SIGINT");
	plan_unit_free(&u);
	diag_clear(&d);
	unlink(path);
}

/* A bad time span is an error at its position; no [Service] is an error. */
static void test_load_errors(void **state)
{
	char path[64];
	struct plan_unit u;
	struct diag d = {0};

	(void)state;
	write_unit(path, sizeof(path), "[Service]\nTimeoutStopSec=soon\n");
	assert_int_equal(plan_unit_load(&u, path, &d), -1);
	assert_true(has(&d, DIAG_ERROR, "'soon' is not a systemd time span"));
	assert_int_equal(d.items[0].line, 2);
	plan_unit_free(&u);
	diag_clear(&d);
	unlink(path);
	write_unit(path, sizeof(path), "[Unit]\nDescription=x\n");
	assert_int_equal(plan_unit_load(&u, path, &d), -1);
	assert_true(has(&d, DIAG_ERROR, "no [Service] section"));
	plan_unit_free(&u);
	diag_clear(&d);
	unlink(path);
}

/* Check the default plan against text; the findings go to d. */
static void check(struct diag *d, const char *text)
{
	char path[64];
	struct plan_unit u;
	struct plan p;

	write_unit(path, sizeof(path), text);
	assert_int_equal(plan_unit_load(&u, path, d), 0);
	assert_int_equal(plan_load_default(&p, d), 0);
	plan_unit_check(&u, &p, d);
	plan_free(&p);
	plan_unit_free(&u);
	unlink(path);
}

/* The default plan (75 s, ceiling 120 s) against stop timeouts. */
static void test_check(void **state)
{
	struct diag d = {0};

	(void)state;
	check(&d, "[Service]\nType=notify\nTimeoutStopSec=120\n");
	assert_int_equal(diag_count(&d, DIAG_ERROR) + diag_count(&d, DIAG_WARNING), 0);
	diag_clear(&d);
	check(&d, "[Service]\nType=notify\n"); /* the default 90 s: below the 120 s ceiling */
	assert_true(has(&d, DIAG_ERROR, "TimeoutStopSec is 1m30s (the default)") ||
		    has(&d, DIAG_ERROR, "TimeoutStopSec is 90s (the default)"));
	assert_false(has(&d, DIAG_ERROR, "the plan needs"));
	diag_clear(&d);
	check(&d, "[Service]\nType=notify\nTimeoutStopSec=60\n");
	assert_true(has(&d, DIAG_ERROR, "the plan needs 75s (phases 65s + teardown margin 10s)"));
	diag_clear(&d);
	check(&d, "[Service]\nType=notify\nTimeoutStopSec=infinity\nSendSIGKILL=no\n");
	assert_int_equal(diag_count(&d, DIAG_ERROR), 0);
	assert_true(has(&d, DIAG_NOTE, "only keycastd's watchdog bounds"));
	assert_true(has(&d, DIAG_NOTE, "SendSIGKILL=no"));
	diag_clear(&d);
	check(&d, "[Service]\nTimeoutStopSec=0\nKillSignal=SIGKILL\n");
	assert_true(has(&d, DIAG_ERROR, "KillSignal=SIGKILL"));
	assert_true(has(&d, DIAG_WARNING, "Type=simple (the default)"));
	diag_clear(&d);
}

/* The tests. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
