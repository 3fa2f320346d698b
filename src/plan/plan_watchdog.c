/*
 * plan_watchdog.c - the shutdown watchdog thread (pthread, CLOCK_MONOTONIC),
 * armed from a chained signal handler through a semaphore.
 */
#include "plan/plan_watchdog.h"

#include "core/log.h"
#include "plan/plan.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The most signals one watchdog chains. */
#define PLAN_WATCHDOG_MAX_SIGNALS 4

struct plan_watchdog {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sem_t wake;	   /* posted by plan_watchdog_arm() or by stop */
	atomic_bool armed; /* the first arm posts wake, later ones do nothing */
	bool stopped;	   /* under mu */
	atomic_bool fired;
	atomic_bool final_claimed; /* the final line is someone's to write */
	_Atomic int64_t armed_ns;  /* CLOCK_MONOTONIC at the first arm (0: not yet) */
	_Atomic int64_t beat_ns;   /* CLOCK_MONOTONIC at the loop's last beat (0: none) */
	int64_t deadline_ms;
	struct log_prepared stuck; /* the final line when the loop is stuck, formatted at start */
	struct log_prepared late;  /* ... when the loop turns but the plan outran the deadline */
	plan_watchdog_exit_fn exit_fn;
	void *arg;
	int code;
};

/* A signal chained in front of its previous handler. */
struct plan_watchdog_chained {
	int sig;
	struct sigaction prev; /* restored by plan_watchdog_stop() */
	struct sigaction ours; /* the chained handler, as installed */
};

static void *plan_watchdog_main(void *arg);
static void plan_watchdog_on_signal(int sig, siginfo_t *info, void *ctx);
static void plan_watchdog_unchain(struct plan_watchdog *w);
static int plan_watchdog_spawn(struct plan_watchdog *w);
static int64_t plan_watchdog_now_ns(void);

static struct plan_watchdog *_Atomic plan_watchdog_current;
static struct plan_watchdog_chained plan_watchdog_chain_tab[PLAN_WATCHDOG_MAX_SIGNALS];
static atomic_size_t plan_watchdog_nchained;

/* The deadline a ceiling gives: 500 ms before it (half of a ceiling of 1 s or less). */
int64_t plan_watchdog_deadline_ms(int64_t ceiling_ms)
{
	if (ceiling_ms > 2 * PLAN_WATCHDOG_SLACK_MS)
		return ceiling_ms - PLAN_WATCHDOG_SLACK_MS;
	return ceiling_ms / 2;
}

/* Whether the ceiling's deadline would cut p's worst case. */
bool plan_watchdog_cuts(const struct plan *p)
{
	return plan_worst_ms(p) >= plan_watchdog_deadline_ms(p->ceiling.ms);
}

/* The deadline the daemon arms for p: the ceiling's, or past a warn-mode plan's worst case. */
int64_t plan_watchdog_plan_deadline_ms(const struct plan *p)
{
	if (!p->strict && plan_watchdog_cuts(p))
		return plan_add_ms(plan_worst_ms(p), PLAN_WATCHDOG_SLACK_MS);
	return plan_watchdog_deadline_ms(p->ceiling.ms);
}

/* CLOCK_MONOTONIC now, in ns (async-signal-safe). */
static int64_t plan_watchdog_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The monotonic time ms after the instant at_ns. */
static struct timespec plan_watchdog_when(int64_t at_ns, int64_t ms)
{
	int64_t ns = at_ns + (ms > INT64_MAX / 2000000 ? INT64_MAX / 2 : ms * 1000000LL);

	return (struct timespec){.tv_sec = (time_t)(ns / 1000000000LL),
				 .tv_nsec = (long)(ns % 1000000000LL)};
}

/* Format the watchdog's two final lines in advance; 0 or -1. */
static int plan_watchdog_prepare(struct plan_watchdog *w)
{
	if (log_prepare_at(
		    &w->stuck, LOG_LEVEL_WARN, "plan",
		    "shutdown complete with warning: watchdog fired, the event loop is stuck",
		    log_ms("deadline_ms", w->deadline_ms), log_int("exit_code", w->code),
		    log_str("loop", "stuck")) != 0)
		return -1;
	return log_prepare_at(&w->late, LOG_LEVEL_WARN, "plan",
			      "shutdown complete with warning: watchdog fired, the plan outran "
			      "its deadline (the event loop still turns)",
			      log_ms("deadline_ms", w->deadline_ms), log_int("exit_code", w->code),
			      log_str("loop", "turning"));
}

/* Initialise w's synchronisation and final lines; 0 or -1. */
static int plan_watchdog_init(struct plan_watchdog *w)
{
	pthread_condattr_t ca;

	if (plan_watchdog_prepare(w) != 0)
		return -1;
	if (sem_init(&w->wake, 0, 0) != 0)
		return -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

/* Release what plan_watchdog_init() set up. */
static void plan_watchdog_fini(struct plan_watchdog *w)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	sem_destroy(&w->wake);
}

/* Start w's thread with every signal blocked, so signals go to the loop's thread. 0 or -1. */
static int plan_watchdog_spawn(struct plan_watchdog *w)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, plan_watchdog_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? 0 : -1;
}

/* Start an idle watchdog. */
struct plan_watchdog *plan_watchdog_start(int64_t deadline_ms, plan_watchdog_exit_fn exit_fn,
					  void *arg, int code)
{
	struct plan_watchdog *w = calloc(1, sizeof(*w));

	if (w == NULL)
		goto fail;
	w->deadline_ms = deadline_ms < 0 ? 0 : deadline_ms;
	w->exit_fn = exit_fn;
	w->arg = arg;
	w->code = code;
	if (plan_watchdog_init(w) != 0) {
		free(w);
		w = NULL;
		goto fail;
	}
	if (plan_watchdog_spawn(w) != 0) {
		plan_watchdog_fini(w);
		goto fail;
	}
	return w;
fail:
	free(w);
	log_error("plan", "cannot start the shutdown watchdog");
	return NULL;
}

/* Arm the watchdog: the deadline counts from the first call. Async-signal-safe. */
void plan_watchdog_arm(struct plan_watchdog *w)
{
	if (w == NULL || atomic_exchange(&w->armed, true))
		return;
	atomic_store(&w->armed_ns, plan_watchdog_now_ns());
	sem_post(&w->wake);
}

/* The CLOCK_MONOTONIC ms at which w was armed, or -1. */
int64_t plan_watchdog_armed_ms(const struct plan_watchdog *w)
{
	int64_t ns = w != NULL ? atomic_load(&w->armed_ns) : 0;

	if (w == NULL || !atomic_load(&w->armed))
		return -1;
	return (ns != 0 ? ns : plan_watchdog_now_ns()) / 1000000; /* 0: the arm is storing it */
}

/* The event loop turns. */
void plan_watchdog_beat(struct plan_watchdog *w)
{
	if (w != NULL)
		atomic_store(&w->beat_ns, plan_watchdog_now_ns());
}

/* Whether the watchdog has fired. */
bool plan_watchdog_fired(const struct plan_watchdog *w)
{
	return w != NULL && atomic_load(&w->fired);
}

/* Claim the final line: true for the first caller. */
bool plan_watchdog_claim_final(struct plan_watchdog *w)
{
	return w == NULL || !atomic_exchange(&w->final_claimed, true);
}

/* The final line that says why: the loop beat within PLAN_WATCHDOG_STUCK_MS, or not. */
static const struct log_prepared *plan_watchdog_line(struct plan_watchdog *w)
{
	int64_t beat = atomic_load(&w->beat_ns);

	if (beat != 0 && plan_watchdog_now_ns() - beat <= PLAN_WATCHDOG_STUCK_MS * 1000000LL)
		return &w->late;
	return &w->stuck;
}

/* Thread body: wait to be armed, then for stop or the deadline; on the deadline, end it all. */
static void *plan_watchdog_main(void *arg)
{
	struct plan_watchdog *w = arg;
	struct timespec deadline;
	int64_t at;
	int rc = 0;

	while ((rc = sem_wait(&w->wake)) != 0 && errno == EINTR)
		;
	if (rc != 0)
		return NULL; /* cannot tell whether it was armed: never end a healthy daemon */
	at = atomic_load(&w->armed_ns);
	deadline = plan_watchdog_when(at != 0 ? at : plan_watchdog_now_ns(), w->deadline_ms);
	pthread_mutex_lock(&w->mu);
	while (!w->stopped && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->cv, &w->mu, &deadline);
	atomic_store(&w->fired, !w->stopped && plan_watchdog_claim_final(w));
	pthread_mutex_unlock(&w->mu);
	if (!atomic_load(&w->fired))
		return NULL; /* stopped, or the plan wrote the final line: it ends the process */
	log_prepared_write(plan_watchdog_line(w)); /* one non-blocking write(2) */
	if (w->exit_fn != NULL)
		w->exit_fn(w->arg, w->code);
	else
		_exit(w->code);
	return NULL;
}

/* Run sig's default action now (terminate, stop or ignore), then chain again. */
static void plan_watchdog_default(int sig, const struct sigaction *ours)
{
	struct sigaction dfl;
	sigset_t set;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, sig);
	(void)sigaction(sig, &dfl, NULL);
	(void)raise(sig);			    /* pending while the handler blocks it */
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL); /* delivered here, by default */
	(void)sigaction(sig, ours, NULL);	    /* still alive (ignored or continued) */
}

/* The chained handler: arm the watchdog, then run the previous handler of sig. */
static void plan_watchdog_on_signal(int sig, siginfo_t *info, void *ctx)
{
	int saved = errno;
	size_t n = atomic_load(&plan_watchdog_nchained);

	plan_watchdog_arm(atomic_load(&plan_watchdog_current));
	for (size_t i = 0; i < n; i++) {
		const struct plan_watchdog_chained *e = &plan_watchdog_chain_tab[i];

		if (e->sig != sig)
			continue;
		if (e->prev.sa_flags & SA_SIGINFO)
			e->prev.sa_sigaction(sig, info, ctx);
		else if (e->prev.sa_handler == SIG_DFL)
			plan_watchdog_default(sig, &e->ours);
		else if (e->prev.sa_handler != SIG_IGN)
			e->prev.sa_handler(sig);
		break; /* a signal is chained once */
	}
	errno = saved;
}

/* Whether sig is chained already. */
static bool plan_watchdog_chained_already(int sig, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (plan_watchdog_chain_tab[i].sig == sig)
			return true;
	return false;
}

/* Put a handler for sig in front of the current one, with its mask and flags. */
int plan_watchdog_chain(struct plan_watchdog *w, int sig)
{
	size_t n = atomic_load(&plan_watchdog_nchained);
	struct plan_watchdog *cur = atomic_load(&plan_watchdog_current);
	struct plan_watchdog_chained *e = &plan_watchdog_chain_tab[n];

	if (w == NULL || n >= PLAN_WATCHDOG_MAX_SIGNALS || (cur != NULL && cur != w) ||
	    plan_watchdog_chained_already(sig, n))
		return -1;
	e->sig = sig;
	if (sigaction(sig, NULL, &e->prev) != 0)
		return -1;
	memset(&e->ours, 0, sizeof(e->ours));
	e->ours.sa_sigaction = plan_watchdog_on_signal;
	e->ours.sa_mask = e->prev.sa_mask;
	e->ours.sa_flags =
		(e->prev.sa_flags & ~(SA_SIGINFO | SA_RESETHAND)) | SA_SIGINFO | SA_RESTART;
	atomic_store(&plan_watchdog_current, w);
	atomic_store(&plan_watchdog_nchained, n + 1); /* visible before the handler can run */
	if (sigaction(sig, &e->ours, NULL) != 0) {
		atomic_store(&plan_watchdog_nchained, n);
		return -1;
	}
	return 0;
}

/* Give the chained signals their previous handlers back, if w chained them. */
static void plan_watchdog_unchain(struct plan_watchdog *w)
{
	size_t n = atomic_load(&plan_watchdog_nchained);

	if (atomic_load(&plan_watchdog_current) != w)
		return;
	for (size_t i = n; i-- > 0;)
		(void)sigaction(plan_watchdog_chain_tab[i].sig, &plan_watchdog_chain_tab[i].prev,
				NULL);
	atomic_store(&plan_watchdog_nchained, 0);
	atomic_store(&plan_watchdog_current, NULL);
}

/* Restore the chained handlers, stop and free the watchdog; whether it had fired. */
bool plan_watchdog_stop(struct plan_watchdog *w)
{
	bool fired;

	if (w == NULL)
		return false;
	plan_watchdog_unchain(w);
	pthread_mutex_lock(&w->mu);
	w->stopped = !atomic_load(&w->fired);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	sem_post(&w->wake); /* an idle thread wakes, sees stopped, and ends */
	pthread_join(w->thread, NULL);
	fired = atomic_load(&w->fired);
	plan_watchdog_fini(w);
	free(w);
	return fired;
}
