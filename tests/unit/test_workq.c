/*
 * test_workq.c - the worker pool: jobs run on worker threads and come back
 * on the loop thread in submission order, whatever order they finish in;
 * a done may submit again; inline pools run and hand back inside submit;
 * freeing the pool with jobs queued and running hands every one back
 * once, cancelled; an owner that drops its object while its job runs
 * gets the result back and discards it (ASan checks nothing is touched
 * after it is freed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/workq.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#define NJOBS 200

/* One job of a test, with what it saw. */
struct tj {
	struct workq_job job; /* first: a tj is its job */
	int index;
	unsigned delay_us;   /* run sleeps this long */
	bool ran;	     /* run was called */
	bool ran_on_loop;    /* ... on the loop thread */
	bool done_on_worker; /* done was called off the loop thread */
	int dones;	     /* how many times done was called */
	bool cancelled;
	char *result; /* made by run, freed by done */
};

/* What the test's done callbacks record. */
static struct {
	pthread_t loop;
	int order[NJOBS * 2];
	int n;
	int cancelled;
	struct workq *q;    /* for dones that submit again */
	bool resubmit;	    /* done of an even job submits its successor */
	struct tj *chained; /* the successors */
	pthread_mutex_t gate_mu;
	pthread_cond_t gate_cv;
	bool gate_open;
	atomic_int started;
	atomic_int runs;
} t;

static void tj_run(struct workq_job *j);
static void tj_done(struct workq_job *j, bool cancelled);
static void tj_gated_run(struct workq_job *j);
static void sleep_us(unsigned us);
static void run_loop(struct event_base *base, int want);
static void *open_gate_later(void *arg);

/* Sleep us microseconds. */
static void sleep_us(unsigned us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/* Worker: note the thread, sleep, make a result. */
static void tj_run(struct workq_job *j)
{
	struct tj *x = (struct tj *)j;

	x->ran_on_loop = pthread_equal(pthread_self(), t.loop);
	sleep_us(x->delay_us);
	x->result = malloc(16);
	if (x->result != NULL)
		memcpy(x->result, "result", 7);
	x->ran = true;
	atomic_fetch_add(&t.runs, 1);
}

/* Worker: say it started, wait for the gate, then run. */
static void tj_gated_run(struct workq_job *j)
{
	atomic_fetch_add(&t.started, 1);
	pthread_mutex_lock(&t.gate_mu);
	while (!t.gate_open)
		pthread_cond_wait(&t.gate_cv, &t.gate_mu);
	pthread_mutex_unlock(&t.gate_mu);
	tj_run(j);
}

/* Loop: record the order; free the result; maybe submit a successor. */
static void tj_done(struct workq_job *j, bool cancelled)
{
	struct tj *x = (struct tj *)j;

	x->done_on_worker = !pthread_equal(pthread_self(), t.loop);
	x->dones++;
	x->cancelled = cancelled;
	t.cancelled += cancelled;
	if (t.n < NJOBS * 2)
		t.order[t.n++] = x->index;
	free(x->result);
	x->result = NULL;
	if (t.resubmit && !cancelled && x->index < NJOBS && x->index % 2 == 0) {
		struct tj *next = &t.chained[x->index];

		next->index = NJOBS + x->index;
		workq_submit(t.q, &next->job, tj_run, tj_done);
	}
}

/* Run the loop until want jobs came back (or 60 s passed: the test then fails). */
static void run_loop(struct event_base *base, int want)
{
	const struct timeval limit = {60, 0};

	event_base_loopexit(base, &limit);
	while (t.n < want && !event_base_got_exit(base))
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(t.n, want);
}

/* Reset the recorder. */
static int setup(void **state)
{
	(void)state;
	memset(&t, 0, sizeof(t));
	t.loop = pthread_self();
	pthread_mutex_init(&t.gate_mu, NULL);
	pthread_cond_init(&t.gate_cv, NULL);
	return 0;
}

/* Free the recorder's lock. */
static int teardown(void **state)
{
	(void)state;
	pthread_mutex_destroy(&t.gate_mu);
	pthread_cond_destroy(&t.gate_cv);
	return 0;
}

/* Jobs that finish in reverse order come back in submission order, on the loop thread. */
static void test_order_kept(void **state)
{
	struct event_base *base = event_base_new();
	struct workq *q;
	struct tj *jobs = calloc(NJOBS, sizeof(*jobs));
	char err[128];

	(void)state;
	assert_non_null(base);
	assert_non_null(jobs);
	assert_int_equal(workq_new(&q, base, 4, err, sizeof(err)), 0);
	assert_int_equal(workq_threads(q), 4);
	for (int i = 0; i < NJOBS; i++) {
		jobs[i].index = i;
		jobs[i].delay_us = (i % 8 == 0) ? 3000 : (unsigned)(NJOBS - i) * 10;
		workq_submit(q, &jobs[i].job, tj_run, tj_done);
	}
	assert_int_equal(workq_pending(q), NJOBS);
	run_loop(base, NJOBS);
	assert_int_equal(workq_pending(q), 0);
	for (int i = 0; i < NJOBS; i++) {
		assert_int_equal(t.order[i], i);
		assert_true(jobs[i].ran);
		assert_false(jobs[i].ran_on_loop);
		assert_false(jobs[i].done_on_worker);
		assert_int_equal(jobs[i].dones, 1);
		assert_false(jobs[i].cancelled);
	}
	workq_free(q);
	assert_int_equal(t.n, NJOBS); /* nothing handed back twice */
	free(jobs);
	event_base_free(base);
}

/* A done may submit again; the new jobs come back after those before them. */
static void test_done_submits(void **state)
{
	struct event_base *base = event_base_new();
	struct tj *jobs = calloc(NJOBS, sizeof(*jobs));
	char err[128];

	(void)state;
	t.chained = calloc(NJOBS, sizeof(*t.chained));
	assert_non_null(t.chained);
	assert_int_equal(workq_new(&t.q, base, 2, err, sizeof(err)), 0);
	t.resubmit = true;
	for (int i = 0; i < NJOBS; i++) {
		jobs[i].index = i;
		workq_submit(t.q, &jobs[i].job, tj_run, tj_done);
	}
	run_loop(base, NJOBS + NJOBS / 2);
	for (int i = 0; i < NJOBS; i++)
		assert_int_equal(jobs[i].dones, 1);
	for (int i = 0; i < NJOBS; i += 2)
		assert_int_equal(t.chained[i].dones, 1);
	for (int i = 1, last = -1; i < t.n; i++) /* the successors, in their submission order */
		if (t.order[i] >= NJOBS) {
			assert_true(t.order[i] > last);
			last = t.order[i];
		}
	workq_free(t.q);
	free(t.chained);
	free(jobs);
	event_base_free(base);
}

/* An inline pool (0 threads) runs the job and hands it back inside submit, on this thread. */
static void test_inline(void **state)
{
	struct workq *q;
	struct tj jobs[3] = {{.index = 0}, {.index = 1}, {.index = 2}};
	char err[128];

	(void)state;
	assert_int_equal(workq_new(&q, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(workq_threads(q), 0);
	for (int i = 0; i < 3; i++) {
		workq_submit(q, &jobs[i].job, tj_run, tj_done);
		assert_int_equal(jobs[i].dones, 1);
		assert_true(jobs[i].ran_on_loop);
		assert_int_equal(t.order[i], i);
	}
	assert_int_equal(workq_pending(q), 0);
	workq_free(q);
	assert_int_equal(t.n, 3);
}

/* Open the gate after a while (from another thread). */
static void *open_gate_later(void *arg)
{
	(void)arg;
	while (atomic_load(&t.started) == 0)
		sleep_us(1000);
	sleep_us(50000);
	pthread_mutex_lock(&t.gate_mu);
	t.gate_open = true;
	pthread_cond_broadcast(&t.gate_cv);
	pthread_mutex_unlock(&t.gate_mu);
	return NULL;
}

/*
 * Freeing the pool with one job running and nine queued waits for the
 * running one, runs no job after it returns, and hands each of the ten
 * back exactly once, cancelled, in submission order.
 */
static void test_free_in_flight(void **state)
{
	struct event_base *base = event_base_new();
	struct workq *q;
	struct tj jobs[10];
	pthread_t opener;
	char err[128];
	int runs;

	(void)state;
	memset(jobs, 0, sizeof(jobs));
	assert_int_equal(workq_new(&q, base, 1, err, sizeof(err)), 0);
	for (int i = 0; i < 10; i++) {
		jobs[i].index = i;
		workq_submit(q, &jobs[i].job, tj_gated_run, tj_done);
	}
	while (atomic_load(&t.started) == 0)
		sleep_us(1000);
	assert_int_equal(pthread_create(&opener, NULL, open_gate_later, NULL), 0);
	workq_free(q); /* blocks until the running job is through the gate */
	pthread_join(opener, NULL);
	runs = atomic_load(&t.runs);
	assert_true(jobs[0].ran);
	assert_true(runs >= 1 && runs <= 10);
	assert_int_equal(t.n, 10);
	assert_int_equal(t.cancelled, 10);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(t.order[i], i);
		assert_int_equal(jobs[i].dones, 1);
		assert_false(jobs[i].done_on_worker);
		assert_null(jobs[i].result); /* every result made was freed by its done */
	}
	sleep_us(20000);
	assert_int_equal(atomic_load(&t.runs), runs); /* no worker is left */
	event_base_free(base);
}

/* An owner that drops its object while the job runs. */
struct owner {
	struct workq_job job;
	bool dropped;	/* aborted: the result is not wanted */
	char *result;	/* made by the run */
	int *discarded; /* counts results discarded */
	int *used;	/* counts results used */
};

/* Worker: make a result. */
static void owner_run(struct workq_job *j)
{
	struct owner *o = (struct owner *)j;

	sleep_us(2000);
	o->result = strdup("signed reply");
}

/* Loop: a dropped owner discards the result and frees itself; else it uses it. */
static void owner_done(struct workq_job *j, bool cancelled)
{
	struct owner *o = (struct owner *)j;

	if (o->dropped || cancelled)
		(*o->discarded)++;
	else
		(*o->used)++;
	free(o->result);
	free(o);
	t.n++;
}

/* Abort while jobs run: the results come back, are discarded, and the owners freed once. */
static void test_abort_discards(void **state)
{
	struct event_base *base = event_base_new();
	struct workq *q;
	struct owner *o[16];
	int discarded = 0, used = 0;
	char err[128];

	(void)state;
	assert_int_equal(workq_new(&q, base, 2, err, sizeof(err)), 0);
	for (int i = 0; i < 16; i++) {
		o[i] = calloc(1, sizeof(*o[i]));
		assert_non_null(o[i]);
		o[i]->discarded = &discarded;
		o[i]->used = &used;
		workq_submit(q, &o[i]->job, owner_run, owner_done);
	}
	for (int i = 0; i < 16; i += 2) /* the abort: half of them dropped, still in flight */
		o[i]->dropped = true;
	run_loop(base, 16);
	assert_int_equal(discarded, 8);
	assert_int_equal(used, 8);
	workq_free(q);
	event_base_free(base);
}

/* More threads than allowed is refused with a message. */
static void test_too_many_threads(void **state)
{
	struct workq *q = (struct workq *)1;
	char err[128] = "";

	(void)state;
	assert_int_equal(workq_new(&q, NULL, WORKQ_MAX_THREADS + 1, err, sizeof(err)), -1);
	assert_null(q);
	assert_non_null(strstr(err, "at most"));
	assert_true(workq_cpus() >= 1);
}

/* The tests. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_done_submits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_discards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
