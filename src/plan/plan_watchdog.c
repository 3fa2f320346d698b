/*
 * plan_watchdog.c - the shutdown watchdog thread (pthread, CLOCK_MONOTONIC).
 */
#include "plan/plan_watchdog.h"

#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct plan_watchdog {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct timespec deadline;
	bool stopped, fired;
	int64_t deadline_ms;
	plan_watchdog_exit_fn exit_fn;
	void *arg;
	int code;
};

static void *plan_watchdog_main(void *arg);

/* The deadline the daemon gives a plan with this ceiling. */
int64_t plan_watchdog_deadline_ms(int64_t ceiling_ms)
{
	if (ceiling_ms > 2 * PLAN_WATCHDOG_SLACK_MS)
		return ceiling_ms - PLAN_WATCHDOG_SLACK_MS;
	return ceiling_ms / 2;
}

/* The monotonic time deadline_ms from now. */
static struct timespec plan_watchdog_when(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Start a watchdog. */
struct plan_watchdog *plan_watchdog_start(int64_t deadline_ms, plan_watchdog_exit_fn exit_fn,
					  void *arg, int code)
{
	struct plan_watchdog *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;

	if (w == NULL)
		goto fail;
	w->deadline_ms = deadline_ms < 0 ? 0 : deadline_ms;
	w->deadline = plan_watchdog_when(w->deadline_ms);
	w->exit_fn = exit_fn;
	w->arg = arg;
	w->code = code;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->thread, NULL, plan_watchdog_main, w) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		goto fail;
	}
	return w;
fail:
	free(w);
	log_error("plan", "cannot start the shutdown watchdog");
	return NULL;
}

/* Thread body: wait for stop or the deadline; on the deadline, end it all. */
static void *plan_watchdog_main(void *arg)
{
	struct plan_watchdog *w = arg;
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	while (!w->stopped && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->cv, &w->mu, &w->deadline);
	w->fired = !w->stopped;
	pthread_mutex_unlock(&w->mu);
	if (!w->fired)
		return NULL;
	log_warn("plan", "shutdown complete with warning: watchdog fired, the event loop is stuck",
		 log_ms("deadline_ms", w->deadline_ms), log_int("exit_code", w->code));
	if (w->exit_fn != NULL)
		w->exit_fn(w->arg, w->code);
	else
		_exit(w->code);
	return NULL;
}

/* Stop and free the watchdog; returns whether it had fired. */
bool plan_watchdog_stop(struct plan_watchdog *w)
{
	bool fired;

	if (w == NULL)
		return false;
	pthread_mutex_lock(&w->mu);
	w->stopped = !w->fired;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	fired = w->fired;
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return fired;
}
