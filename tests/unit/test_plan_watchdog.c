/*
 * test_plan_watchdog.c - the shutdown watchdog: once armed it fires past its
 * deadline, writes the final line at warning level, then calls its exit
 * function (an injected one, and the real _exit in a child whose main thread
 * is stuck); armed by a chained signal handler that still runs the previous
 * one; never armed or stopped in time, it never fires; its deadline is
 * before the ceiling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plan/plan_watchdog.h"
#include "test_plan_fake.h"

#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the injected exit function saw. */
struct exit_rec {
	sem_t sem;
	int calls;
	int code;
	bool final_before; /* the final line was already written when exit came */
};

/* Injected exit: record and wake the test (instead of _exit). */
static void fake_exit(void *arg, int code)
{
	struct exit_rec *e = arg;

	e->calls++;
	e->code = code;
	e->final_before = rec_find("shutdown complete with warning: watchdog") != NULL;
	sem_post(&e->sem);
}

/* A stuck loop: the watchdog writes the final line and exits. */
static void test_watchdog_fires(void **state)
{
	struct exit_rec e = {0};
	struct plan_watchdog *w;
	const struct rec_line *l;

	(void)state;
	sem_init(&e.sem, 0, 0);
	rec_start();
	w = plan_watchdog_start(0, fake_exit, &e, 3);
	assert_non_null(w);
	plan_watchdog_arm(w);
	sem_wait(&e.sem); /* no sleep: woken by the watchdog itself */
	assert_true(plan_watchdog_stop(w));
	rec_stop();
	assert_int_equal(e.calls, 1);
	assert_int_equal(e.code, 3);
	assert_true(e.final_before);
	l = rec_find("shutdown complete with warning: watchdog");
	assert_non_null(l);
	assert_int_equal(l->level, LOG_LEVEL_WARN);
	sem_destroy(&e.sem);
}

/*
 * The real exit: a child whose main thread is stuck (as a blocked event loop
 * would be) is ended by the watchdog's _exit with its code, and the final
 * line is on its stderr. The parent waits for the child; nothing is timed.
 */
static void test_watchdog_ends_stuck_process(void **state)
{
	struct plan_watchdog *w;
	char buf[4096] = "";
	int fds[2], status = 0;
	size_t off = 0;
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_JSON); /* the final line ignores it */
		w = plan_watchdog_start(20, NULL, NULL, 7);
		if (w == NULL)
			_exit(99);
		plan_watchdog_arm(w);
		for (;;)
			pause(); /* stuck: never returns to any loop */
	}
	close(fds[1]);
	while (off + 1 < sizeof(buf) && (n = read(fds[0], buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	assert_non_null(strstr(buf, "\"level\":\"warn\""));
	assert_non_null(strstr(
		buf, "shutdown complete with warning: watchdog fired, the event loop is stuck"));
	assert_non_null(strstr(buf, "\"deadline_ms\":20"));
}

/* The event loop's own handler: it only says that it ran (async-signal-safe). */
static void loop_handler(int sig)
{
	static const char ran[] = "loop handler ran\n";

	(void)sig;
	if (write(STDERR_FILENO, ran, sizeof(ran) - 1) < 0)
		_exit(98);
}

/* Child: a loop handler for SIGTERM, the watchdog chained in front, then stuck. */
static void chained_child(int ready_fd)
{
	struct sigaction sa = {.sa_handler = loop_handler};
	struct plan_watchdog *w;

	alarm(120); /* a safety net only: without the chain the child would hang forever */
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
	sigemptyset(&sa.sa_mask);
	w = plan_watchdog_start(20, NULL, NULL, 5);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || w == NULL || plan_watchdog_chain(w, SIGTERM) != 0)
		_exit(99);
	if (write(ready_fd, "r", 1) != 1)
		_exit(97);
	close(ready_fd);
	for (;;)
		pause(); /* stuck: the loop never runs, yet SIGTERM arms the watchdog */
}

/* SIGTERM to a process whose loop is stuck: the chained handler arms the watchdog. */
static void test_watchdog_armed_by_signal(void **state)
{
	char buf[4096] = "", c;
	int out[2], ready[2], status = 0;
	size_t off = 0;
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(out[0]);
		close(ready[0]);
		dup2(out[1], STDERR_FILENO);
		chained_child(ready[1]);
	}
	close(out[1]);
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	assert_int_equal(kill(pid, SIGTERM), 0);
	while (off + 1 < sizeof(buf) && (n = read(out[0], buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	close(out[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 5);
	assert_non_null(strstr(buf, "loop handler ran\n"));
	assert_non_null(strstr(buf, "shutdown complete with warning: watchdog fired"));
}

/* Started but never armed (no signal came), a watchdog with no time left never fires. */
static void test_watchdog_idle_until_armed(void **state)
{
	struct exit_rec e = {0};
	struct plan_watchdog *w;

	(void)state;
	rec_start();
	w = plan_watchdog_start(0, fake_exit, &e, 1);
	assert_non_null(w);
	assert_false(plan_watchdog_stop(w));
	rec_stop();
	assert_int_equal(e.calls, 0);
	assert_null(rec_find("shutdown complete"));
}

/* A healthy shutdown stops the watchdog before its deadline: it never fires. */
static void test_watchdog_healthy(void **state)
{
	struct exit_rec e = {0};
	struct plan_watchdog *w;

	(void)state;
	rec_start();
	w = plan_watchdog_start(3600 * 1000, fake_exit, &e, 1);
	assert_non_null(w);
	plan_watchdog_arm(w);
	plan_watchdog_arm(w); /* a second signal changes nothing */
	assert_false(plan_watchdog_stop(w));
	rec_stop();
	assert_int_equal(e.calls, 0);
	assert_null(rec_find("shutdown complete"));
	assert_false(plan_watchdog_stop(NULL));
}

/* The deadline is before the ceiling, never negative. */
static void test_watchdog_deadline(void **state)
{
	(void)state;
	assert_int_equal(plan_watchdog_deadline_ms(120000), 120000 - PLAN_WATCHDOG_SLACK_MS);
	assert_true(plan_watchdog_deadline_ms(800) < 800);
	assert_int_equal(plan_watchdog_deadline_ms(0), 0);
}

/* Run every test. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watchdog_fires),
		cmocka_unit_test(test_watchdog_ends_stuck_process),
		cmocka_unit_test(test_watchdog_armed_by_signal),
		cmocka_unit_test(test_watchdog_idle_until_armed),
		cmocka_unit_test(test_watchdog_healthy),
		cmocka_unit_test(test_watchdog_deadline),
	};

	return cmocka_run_group_tests_name("plan_watchdog", tests, NULL, NULL);
}
