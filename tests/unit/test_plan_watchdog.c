/*
 * test_plan_watchdog.c - the shutdown watchdog: once armed it fires past its
 * deadline, writes the final line at warning level, then calls its exit
 * function (an injected one, and the real _exit in a child whose main thread
 * is stuck); armed by a chained signal handler that still runs the previous
 * one (the default action for SIG_DFL, the flags kept, each signal
 * chained once); a full stderr pipe does not keep it from exiting; never
 * armed or stopped in time, it never fires; its deadline is before the
 * ceiling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plan/plan_watchdog.h"
#include "test_plan_fake.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A deadline no test reaches. */
#define HOUR_MS_WD (3600LL * 1000)

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
	assert_false(plan_watchdog_fired(w));
	plan_watchdog_arm(w);
	sem_wait(&e.sem);		     /* no sleep: woken by the watchdog itself */
	assert_true(plan_watchdog_fired(w)); /* what /healthz/live answers 503 on */
	assert_true(plan_watchdog_stop(w));
	rec_stop();
	assert_int_equal(e.calls, 1);
	assert_int_equal(e.code, 3);
	assert_true(e.final_before);
	l = rec_find("shutdown complete with warning: watchdog");
	assert_non_null(l);
	assert_int_equal(l->level, LOG_LEVEL_WARN);
	assert_string_equal(
		l->msg, "shutdown complete with warning: watchdog fired, the event loop is stuck");
	assert_non_null(strstr(l->fields, " loop=stuck"));
	sem_destroy(&e.sem);
}

/* What the beating thread shares with the test. */
struct beater {
	struct plan_watchdog *w;
	atomic_bool stop;
};

/* A loop that turns: beat until told to stop. */
static void *beat_main(void *arg)
{
	struct beater *b = arg;
	const struct timespec ms = {0, 1000000L};

	while (!atomic_load(&b->stop)) {
		plan_watchdog_beat(b->w);
		nanosleep(&ms, NULL);
	}
	return NULL;
}

/*
 * The loop still turns (it beats all along) but the plan is not done by the
 * deadline: the watchdog says the plan outran it, not that the loop is stuck.
 */
static void test_watchdog_loop_turns(void **state)
{
	struct exit_rec e = {0};
	struct beater b = {0};
	const struct rec_line *l;
	pthread_t th;

	(void)state;
	sem_init(&e.sem, 0, 0);
	rec_start();
	b.w = plan_watchdog_start(50, fake_exit, &e, 1);
	assert_non_null(b.w);
	assert_int_equal(pthread_create(&th, NULL, beat_main, &b), 0);
	plan_watchdog_arm(b.w);
	sem_wait(&e.sem);
	atomic_store(&b.stop, true);
	pthread_join(th, NULL);
	assert_true(plan_watchdog_stop(b.w));
	rec_stop();
	l = rec_find("shutdown complete with warning: watchdog");
	assert_non_null(l);
	assert_string_equal(l->msg, "shutdown complete with warning: watchdog fired, the plan "
				    "outran its deadline (the event loop still turns)");
	assert_non_null(strstr(l->fields, " loop=turning"));
	assert_null(strstr(l->msg, "stuck"));
	sem_destroy(&e.sem);
}

/* The number of recorded final lines (any message that starts "shutdown complete"). */
static size_t final_lines(void)
{
	size_t n = 0;

	for (size_t i = 0; i < rec_count(); i++)
		n += strncmp(rec_at(i)->msg, "shutdown complete", 17) == 0;
	return n;
}

/*
 * The plan finishing races the watchdog's deadline (a deadline of 0, as a
 * ceiling of 0 gives): run the race many times; every time exactly one
 * final line is written, by whoever claimed it, and the watchdog reports
 * that it fired exactly when it wrote it.
 */
static void test_watchdog_final_once(void **state)
{
	int won = 0, lost = 0;

	(void)state;
	for (int i = 0; i < 300; i++) {
		struct exit_rec e = {0};
		struct plan_watchdog *w;
		bool fired, mine;

		rec_start();
		w = plan_watchdog_start(0, fake_exit, &e, 1);
		assert_non_null(w);
		sem_init(&e.sem, 0, 0);
		plan_watchdog_arm(w);
		mine = plan_watchdog_claim_final(w);
		if (mine)
			log_final(LOG_LEVEL_INFO, "plan", "shutdown complete");
		fired = plan_watchdog_stop(w);
		rec_stop();
		assert_int_equal(final_lines(), 1);
		assert_true(fired != mine);
		assert_int_equal(e.calls, fired ? 1 : 0);
		sem_destroy(&e.sem);
		won += mine;
		lost += !mine;
	}
	assert_int_equal(won + lost, 300);
}

/* The instant of the first arm is kept (CLOCK_MONOTONIC ms); -1 before. */
static void test_watchdog_armed_ms(void **state)
{
	struct exit_rec e = {0};
	struct plan_watchdog *w;
	struct timespec ts;
	int64_t before, at;

	(void)state;
	w = plan_watchdog_start(HOUR_MS_WD, fake_exit, &e, 1);
	assert_non_null(w);
	assert_int_equal(plan_watchdog_armed_ms(w), -1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	before = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	plan_watchdog_arm(w);
	at = plan_watchdog_armed_ms(w);
	plan_watchdog_arm(w);
	assert_int_equal(plan_watchdog_armed_ms(w), at);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	assert_true(at >= before);
	assert_true(at <= (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	assert_false(plan_watchdog_stop(w));
	assert_int_equal(plan_watchdog_armed_ms(NULL), -1);
	assert_true(plan_watchdog_claim_final(NULL));
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

/*
 * Started but never armed (no signal came), a watchdog with no time left
 * never fires: given 200 ms to do so (an armed one would fire at once), it
 * has not called its exit function. The wait only bounds the test.
 */
static void test_watchdog_idle_until_armed(void **state)
{
	struct exit_rec e = {0};
	struct plan_watchdog *w;
	struct timespec until;
	int rc;

	(void)state;
	sem_init(&e.sem, 0, 0);
	rec_start();
	w = plan_watchdog_start(0, fake_exit, &e, 1);
	assert_non_null(w);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 200 * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while ((rc = sem_timedwait(&e.sem, &until)) != 0 && errno == EINTR)
		;
	assert_int_equal(rc, -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_false(plan_watchdog_stop(w));
	rec_stop();
	assert_int_equal(e.calls, 0);
	assert_null(rec_find("shutdown complete"));
	sem_destroy(&e.sem);
}

/* Fill the pipe whose write end is fd, and leave fd blocking. */
static void fill_pipe(int fd)
{
	char chunk[4096];
	int flags = fcntl(fd, F_GETFL);

	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(fcntl(fd, F_SETFL, flags | O_NONBLOCK), 0);
	while (write(fd, chunk, sizeof(chunk)) > 0)
		;
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(fcntl(fd, F_SETFL, flags & ~O_NONBLOCK), 0);
}

/*
 * A stuck process whose stderr is a full pipe nobody reads: the watchdog
 * still exits with its code (the line is lost, not waited for), and stderr
 * is left blocking. alarm() only ends a child that would hang otherwise.
 */
static void test_watchdog_full_stderr(void **state)
{
	struct plan_watchdog *w;
	int fds[2], status = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	fill_pipe(fds[1]);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(60);
		dup2(fds[1], STDERR_FILENO);
		log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
		w = plan_watchdog_start(20, NULL, NULL, 7);
		if (w == NULL)
			_exit(99);
		plan_watchdog_arm(w);
		for (;;)
			pause();
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	assert_int_equal(fcntl(fds[1], F_GETFL) & O_NONBLOCK, 0);
	close(fds[0]);
	close(fds[1]);
}

static volatile sig_atomic_t prev_calls;

/* A previous handler that counts its calls. */
static void counting_handler(int sig)
{
	(void)sig;
	prev_calls++;
}

/* A signal chained twice is refused; the previous handler runs once and comes back. */
static void test_watchdog_chain_once(void **state)
{
	struct sigaction sa = {.sa_handler = counting_handler}, now;
	struct exit_rec e = {0};
	struct plan_watchdog *w;

	(void)state;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	w = plan_watchdog_start(HOUR_MS_WD, fake_exit, &e, 1);
	assert_non_null(w);
	assert_int_equal(plan_watchdog_chain(w, SIGUSR1), 0);
	assert_int_equal(plan_watchdog_chain(w, SIGUSR1), -1);
	prev_calls = 0;
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(prev_calls, 1);
	assert_false(plan_watchdog_stop(w));
	assert_int_equal(sigaction(SIGUSR1, NULL, &now), 0);
	assert_ptr_equal(now.sa_handler, counting_handler);
	assert_int_equal(e.calls, 0);
	signal(SIGUSR1, SIG_DFL);
}

/* The chained handler keeps the previous flags, but SA_RESETHAND, and adds SA_SIGINFO. */
static void test_watchdog_chain_flags(void **state)
{
	struct sigaction sa = {.sa_handler = counting_handler}, now;
	struct exit_rec e = {0};
	struct plan_watchdog *w;

	(void)state;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR1);
	sa.sa_flags = SA_ONSTACK | SA_NODEFER | SA_RESETHAND;
	assert_int_equal(sigaction(SIGUSR2, &sa, NULL), 0);
	w = plan_watchdog_start(HOUR_MS_WD, fake_exit, &e, 1);
	assert_non_null(w);
	assert_int_equal(plan_watchdog_chain(w, SIGUSR2), 0);
	assert_int_equal(sigaction(SIGUSR2, NULL, &now), 0);
	assert_true(now.sa_flags & SA_ONSTACK);
	assert_true(now.sa_flags & SA_NODEFER);
	assert_true(now.sa_flags & SA_SIGINFO);
	assert_false(now.sa_flags & SA_RESETHAND);
	assert_true(sigismember(&now.sa_mask, SIGUSR1));
	assert_false(plan_watchdog_stop(w));
	signal(SIGUSR2, SIG_DFL);
}

/* Chained in front of SIG_DFL, SIGTERM still ends the process by its default action. */
static void test_watchdog_chain_default(void **state)
{
	struct plan_watchdog *w;
	int status = 0;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		w = plan_watchdog_start(HOUR_MS_WD, NULL, NULL, 5);
		if (w == NULL || plan_watchdog_chain(w, SIGTERM) != 0)
			_exit(99);
		raise(SIGTERM);
		_exit(0); /* swallowed: the parent sees exit 0 */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
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
	assert_false(plan_watchdog_fired(w));
	assert_false(plan_watchdog_fired(NULL));
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
		cmocka_unit_test(test_watchdog_full_stderr),
		cmocka_unit_test(test_watchdog_chain_once),
		cmocka_unit_test(test_watchdog_chain_flags),
		cmocka_unit_test(test_watchdog_chain_default),
		cmocka_unit_test(test_watchdog_healthy),
		cmocka_unit_test(test_watchdog_deadline),
		cmocka_unit_test(test_watchdog_loop_turns),
		cmocka_unit_test(test_watchdog_final_once),
		cmocka_unit_test(test_watchdog_armed_ms),
	};

	return cmocka_run_group_tests_name("plan_watchdog", tests, NULL, NULL);
}
