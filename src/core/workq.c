/*
 * workq.c - worker threads for pure CPU work, results handed back to the
 * event loop in submission order.
 *
 * One lock guards two lists: every job not handed back yet, in submission
 * order (head..tail), and the jobs no worker has taken yet (todo). A
 * worker takes the first todo job, runs it unlocked, marks it finished,
 * and, when it is the head of the submission list (the only job that can
 * unblock a hand-back), writes one byte to the pipe unless one is already
 * unread. The loop reads the pipe, takes the run of finished jobs at the
 * head under the lock, and calls their done outside it, so a done may
 * submit again.
 */
#include "core/workq.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

/* The pool. */
struct workq {
	struct event_base *base;
	struct event ready;	/* the pipe's read end: finished jobs to hand back */
	bool ready_added;	/* ready was assigned and added */
	int fd[2];		/* the pipe: [0] read by the loop, [1] written by workers */
	pthread_t *threads;	/* nthreads started */
	unsigned nthreads;	/* started */
	pthread_mutex_t mu;	/* guards everything below */
	pthread_cond_t cv;	/* a job was queued, or the pool stops */
	struct workq_job *head; /* not handed back yet, in submission order */
	struct workq_job *tail;
	struct workq_job *todo; /* not taken by a worker yet, in submission order */
	struct workq_job *todo_tail;
	bool stopping;	/* workq_free: workers take nothing more */
	bool signalled; /* a byte is in the pipe, not read yet */
	size_t pending; /* submitted, not handed back (loop thread only) */
};

static int workq_start(struct workq *q, unsigned threads, char *err, size_t errlen);
static void *workq_main(void *arg);
static struct workq_job *workq_take(struct workq *q);
static void workq_finished(struct workq *q, struct workq_job *j);
static void workq_on_ready(evutil_socket_t fd, short what, void *arg);
static struct workq_job *workq_detach(struct workq *q, bool all);
static void workq_hand_back(struct workq *q, struct workq_job *list, bool cancelled);

/* A pool of threads workers (0: inline). */
int workq_new(struct workq **out, struct event_base *base, unsigned threads, char *err,
	      size_t errlen)
{
	struct workq *q = calloc(1, sizeof(*q));

	*out = NULL;
	if (q == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	q->base = base;
	q->fd[0] = q->fd[1] = -1;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	if (threads > WORKQ_MAX_THREADS) {
		snprintf(err, errlen, "%u worker threads: at most %d", threads, WORKQ_MAX_THREADS);
		goto fail;
	}
	if (threads > 0 && workq_start(q, threads, err, errlen) != 0)
		goto fail;
	*out = q;
	return 0;
fail:
	workq_free(q);
	return -1;
}

/* The pipe, its event and the worker threads (signals blocked in them); 0 or -1. */
static int workq_start(struct workq *q, unsigned threads, char *err, size_t errlen)
{
	sigset_t all, old;
	pthread_attr_t attr;
	int rc = 0;

	if (pipe2(q->fd, O_NONBLOCK | O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (event_assign(&q->ready, q->base, q->fd[0], EV_READ | EV_PERSIST, workq_on_ready, q) !=
		    0 ||
	    event_add(&q->ready, NULL) != 0) {
		snprintf(err, errlen, "cannot add the worker pool's event");
		return -1;
	}
	q->ready_added = true;
	if ((q->threads = calloc(threads, sizeof(*q->threads))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_attr_init(&attr);
	(void)pthread_attr_setstacksize(&attr, WORKQ_STACK_SIZE); /* else the default */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* signals go to the loop thread only */
	for (; q->nthreads < threads && rc == 0; q->nthreads += rc == 0)
		rc = pthread_create(&q->threads[q->nthreads], &attr, workq_main, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		snprintf(err, errlen, "cannot start worker thread %u of %u: %s", q->nthreads + 1,
			 threads, strerror(rc));
	return rc == 0 ? 0 : -1;
}

/* Stop the workers, wait for them, hand back what is left as cancelled, free. */
void workq_free(struct workq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	for (unsigned i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	if (q->ready_added)
		event_del(&q->ready);
	workq_hand_back(q, workq_detach(q, true), true);
	if (q->fd[0] >= 0)
		close(q->fd[0]);
	if (q->fd[1] >= 0)
		close(q->fd[1]);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q->threads);
	free(q);
}

/* Queue job (inline pools: run it and hand it back now). */
void workq_submit(struct workq *q, struct workq_job *job, workq_run_fn run, workq_done_fn done)
{
	*job = (struct workq_job){.run = run, .done = done};
	q->pending++;
	if (q->nthreads == 0) {
		run(job);
		q->pending--;
		done(job, false);
		return;
	}
	pthread_mutex_lock(&q->mu);
	if (q->tail != NULL)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
	if (q->todo_tail != NULL)
		q->todo_tail->next_todo = job;
	else
		q->todo = job;
	q->todo_tail = job;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* The pool's worker threads. */
unsigned workq_threads(const struct workq *q)
{
	return q->nthreads;
}

/* Jobs submitted and not handed back yet. */
size_t workq_pending(const struct workq *q)
{
	return q->pending;
}

/* The CPUs of this process's affinity mask (else the online CPUs), at least 1. */
unsigned workq_cpus(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* A worker: take a job, run it unlocked, mark it finished; until the pool stops. */
static void *workq_main(void *arg)
{
	struct workq *q = arg;
	struct workq_job *j;

	pthread_mutex_lock(&q->mu);
	while ((j = workq_take(q)) != NULL) {
		pthread_mutex_unlock(&q->mu);
		j->run(j);
		pthread_mutex_lock(&q->mu);
		workq_finished(q, j);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* Under the lock: wait for the next job to run, or NULL once the pool stops. */
static struct workq_job *workq_take(struct workq *q)
{
	struct workq_job *j;

	while (q->todo == NULL && !q->stopping)
		pthread_cond_wait(&q->cv, &q->mu);
	if (q->stopping)
		return NULL;
	j = q->todo;
	q->todo = j->next_todo;
	if (q->todo == NULL)
		q->todo_tail = NULL;
	return j;
}

/* Under the lock: j has run; wake the loop when j was what it waited for. */
static void workq_finished(struct workq *q, struct workq_job *j)
{
	ssize_t n;

	j->finished = true;
	if (j != q->head || q->signalled)
		return;
	q->signalled = true;
	do
		n = write(q->fd[1], "", 1);
	while (n < 0 && errno == EINTR);
}

/* Loop: the pipe is readable; hand back the finished jobs at the head. */
static void workq_on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct workq *q = arg;
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	workq_hand_back(q, workq_detach(q, false), false);
}

/* Take off the run of finished jobs at the head (all: every job); the list, in order. */
static struct workq_job *workq_detach(struct workq *q, bool all)
{
	struct workq_job *first, *last = NULL;

	pthread_mutex_lock(&q->mu);
	q->signalled = false;
	first = q->head;
	for (struct workq_job *j = q->head; j != NULL && (all || j->finished); j = j->next)
		last = j;
	if (last != NULL) {
		q->head = last->next;
		if (q->head == NULL)
			q->tail = NULL;
		last->next = NULL;
	}
	if (all)
		q->todo = q->todo_tail = NULL;
	pthread_mutex_unlock(&q->mu);
	return last != NULL ? first : NULL;
}

/* Call done on each job of list, in order (a done may free its job). */
static void workq_hand_back(struct workq *q, struct workq_job *list, bool cancelled)
{
	struct workq_job *next;

	for (struct workq_job *j = list; j != NULL; j = next) {
		next = j->next;
		q->pending--;
		j->done(j, cancelled);
	}
}
