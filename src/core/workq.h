/*
 * workq.h - a small pool of worker threads for pure CPU work, whose
 * results come back to the event loop in the order the work was handed out.
 *
 *   loop thread                       worker threads
 *   workq_submit(job) --queue-->      job->run(job)     (pure: no loop state)
 *   job->done(job, false)  <--pipe--  finished
 *
 * The loop keeps all I/O and all state: a job's run touches only the job
 * (and what the job says it borrows, which the loop leaves alone until
 * done). done runs on the loop thread, once per submitted job, in
 * submission order: a job that finishes early waits for those submitted
 * before it, so handing work to the pool reorders nothing the loop sees.
 *
 * Workers never call libevent: each finished batch is signalled through a
 * non-blocking pipe that the loop reads with an ordinary event, so the
 * event_base needs no locking (no evthread_use_pthreads, no
 * libevent_pthreads).
 *
 * A pool of 0 threads runs each job inline: run, then done, inside
 * workq_submit, before it returns.
 *
 * Ownership: the caller owns each job (embed it in the object it works
 * for) and must not free or reuse it until its done has been called.
 */
#ifndef KC_WORKQ_H
#define KC_WORKQ_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct workq;
struct workq_job;

/* The work of a job, on a worker thread (or inline): it must not touch loop state. */
typedef void (*workq_run_fn)(struct workq_job *job);

/*
 * The job is back, on the loop thread. cancelled: the pool was freed
 * first, and run may or may not have happened; free the job's object.
 */
typedef void (*workq_done_fn)(struct workq_job *job, bool cancelled);

/* A job: embedded in its owner's object; the fields are the pool's. */
struct workq_job {
	workq_run_fn run;
	workq_done_fn done;
	struct workq_job *next;	     /* submission order, until handed back */
	struct workq_job *next_todo; /* not yet taken by a worker */
	bool finished;		     /* run has returned (guarded by the pool's lock) */
};

/* Most worker threads a pool may have. */
#define WORKQ_MAX_THREADS 256

/*
 * A worker's stack: jobs are crypto and JSON of bounded depth, which use
 * tens of kilobytes; the default (8 MB of address space a thread) is far
 * more than they need.
 */
#define WORKQ_STACK_SIZE (512 * 1024)

/*
 * A pool of threads workers (0: inline) handing results back on base.
 * 0, or -1 with a message in err.
 */
int workq_new(struct workq **out, struct event_base *base, unsigned threads, char *err,
	      size_t errlen) __attribute__((warn_unused_result));

/*
 * Stop the workers (jobs not started are not run), wait for those
 * running, then hand back every job not handed back yet with cancelled
 * set, in submission order. Not from inside a done. NULL is ignored.
 */
void workq_free(struct workq *q);

/* Queue job: run on a worker, then done on the loop (both before returning if inline). */
void workq_submit(struct workq *q, struct workq_job *job, workq_run_fn run, workq_done_fn done);

/* The pool's worker threads (0: inline). */
unsigned workq_threads(const struct workq *q);

/* Jobs submitted and not handed back yet. */
size_t workq_pending(const struct workq *q);

/* The CPUs this process may run on (its affinity mask; at least 1). */
unsigned workq_cpus(void);

#endif /* KC_WORKQ_H */
