/*
 * clock.c - the libevent clock and the virtual clock behind clock.h.
 *
 * Both are one struct clock with a const operations table; the virtual
 * clock keeps its timers on a list and fires them in deadline order (ties
 * in arming order) as the test advances time.
 */
#include "core/clock.h"

#include <event2/event.h>
#include <stdlib.h>
#include <time.h>

/* What one clock implementation provides. */
struct clock_ops {
	int64_t (*now_ms)(struct clock *clk);
	int (*timer_init)(struct clock_timer *t);
	void (*timer_start)(struct clock_timer *t, int64_t delay_ms);
	void (*timer_stop)(struct clock_timer *t);
	void (*timer_fini)(struct clock_timer *t);
};

struct clock {
	const struct clock_ops *ops;
	struct event_base *base;	  /* libevent clock */
	int64_t virtual_now;		  /* virtual clock */
	int64_t virtual_early;		  /* timers fire this much before their delay */
	uint64_t virtual_seq;		  /* arming order, for stable ties */
	struct clock_timer *virtual_list; /* armed and idle virtual timers */
};

struct clock_timer {
	struct clock *clk;
	clock_cb cb;
	void *arg;
	bool armed;
	bool firing;		  /* inside its own callback */
	bool free_pending;	  /* freed from inside its own callback */
	struct event *ev;	  /* libevent clock */
	int64_t deadline;	  /* virtual clock */
	uint64_t seq;		  /* virtual clock */
	struct clock_timer *next; /* virtual clock: all timers of the clock */
};

static int64_t clock_libevent_now(struct clock *clk);
static int clock_libevent_init(struct clock_timer *t);
static void clock_libevent_start(struct clock_timer *t, int64_t delay_ms);
static void clock_libevent_stop(struct clock_timer *t);
static void clock_libevent_fini(struct clock_timer *t);
static void clock_libevent_fire(evutil_socket_t fd, short what, void *arg);
static int64_t clock_virtual_now(struct clock *clk);
static int clock_virtual_init(struct clock_timer *t);
static void clock_virtual_start(struct clock_timer *t, int64_t delay_ms);
static void clock_virtual_stop(struct clock_timer *t);
static void clock_virtual_fini(struct clock_timer *t);
static void clock_timer_fire(struct clock_timer *t);
static struct clock_timer *clock_virtual_next_due(struct clock *clk, int64_t limit);
static int64_t clock_virtual_after(const struct clock *clk, int64_t ms);

static const struct clock_ops clock_libevent_ops = {
	.now_ms = clock_libevent_now,
	.timer_init = clock_libevent_init,
	.timer_start = clock_libevent_start,
	.timer_stop = clock_libevent_stop,
	.timer_fini = clock_libevent_fini,
};

static const struct clock_ops clock_virtual_ops = {
	.now_ms = clock_virtual_now,
	.timer_init = clock_virtual_init,
	.timer_start = clock_virtual_start,
	.timer_stop = clock_virtual_stop,
	.timer_fini = clock_virtual_fini,
};

/* A clock on the monotonic time of the system and the given event loop. */
struct clock *clock_new_libevent(struct event_base *base)
{
	struct clock *clk = calloc(1, sizeof(*clk));

	if (clk == NULL)
		return NULL;
	clk->ops = &clock_libevent_ops;
	clk->base = base;
	return clk;
}

/* A virtual clock starting at start_ms; time moves only by advance. */
struct clock *clock_new_virtual(int64_t start_ms)
{
	struct clock *clk = calloc(1, sizeof(*clk));

	if (clk == NULL)
		return NULL;
	clk->ops = &clock_virtual_ops;
	clk->virtual_now = start_ms;
	return clk;
}

/* Free a clock; every timer of it must have been freed. NULL is ignored. */
void clock_free(struct clock *clk)
{
	free(clk);
}

/* Milliseconds since an arbitrary, fixed origin (monotonic). */
int64_t clock_now_ms(struct clock *clk)
{
	return clk->ops->now_ms(clk);
}

/* A new stopped timer that calls cb(arg) when it fires. NULL on ENOMEM. */
struct clock_timer *clock_timer_new(struct clock *clk, clock_cb cb, void *arg)
{
	struct clock_timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->clk = clk;
	t->cb = cb;
	t->arg = arg;
	if (clk->ops->timer_init(t) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

/* (Re)arm the timer to fire once after delay_ms (negative counts as 0). */
void clock_timer_start(struct clock_timer *t, int64_t delay_ms)
{
	if (delay_ms < 0)
		delay_ms = 0;
	t->armed = true;
	t->clk->ops->timer_start(t, delay_ms);
}

/* Disarm the timer; a stopped timer is left as it is. */
void clock_timer_stop(struct clock_timer *t)
{
	if (!t->armed)
		return;
	t->armed = false;
	t->clk->ops->timer_stop(t);
}

/* Whether the timer is armed. */
bool clock_timer_pending(const struct clock_timer *t)
{
	return t->armed;
}

/* Stop and free a timer. NULL is ignored. Safe inside its own callback. */
void clock_timer_free(struct clock_timer *t)
{
	if (t == NULL)
		return;
	clock_timer_stop(t);
	if (t->firing) {
		t->free_pending = true;
		return;
	}
	t->clk->ops->timer_fini(t);
	free(t);
}

/* Run a timer's callback, then honour a free requested from inside it. */
static void clock_timer_fire(struct clock_timer *t)
{
	t->armed = false;
	t->firing = true;
	t->cb(t->arg);
	t->firing = false;
	if (t->free_pending) {
		t->clk->ops->timer_fini(t);
		free(t);
	}
}

/* Monotonic milliseconds from CLOCK_MONOTONIC. */
static int64_t clock_libevent_now(struct clock *clk)
{
	(void)clk;
	return clock_mono_ms();
}

/* CLOCK_MONOTONIC in milliseconds. */
int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Attach a libevent timer event to t. */
static int clock_libevent_init(struct clock_timer *t)
{
	t->ev = evtimer_new(t->clk->base, clock_libevent_fire, t);
	return t->ev != NULL ? 0 : -1;
}

/* Arm the libevent timer. */
static void clock_libevent_start(struct clock_timer *t, int64_t delay_ms)
{
	struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};

	evtimer_add(t->ev, &tv);
}

/* Disarm the libevent timer. */
static void clock_libevent_stop(struct clock_timer *t)
{
	evtimer_del(t->ev);
}

/* Free the libevent timer. */
static void clock_libevent_fini(struct clock_timer *t)
{
	event_free(t->ev);
	t->ev = NULL;
}

/* libevent callback: the timer fired. */
static void clock_libevent_fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	clock_timer_fire(arg);
}

/* The virtual clock's current time. */
static int64_t clock_virtual_now(struct clock *clk)
{
	return clk->virtual_now;
}

/* Put a new virtual timer on its clock's list. */
static int clock_virtual_init(struct clock_timer *t)
{
	t->next = t->clk->virtual_list;
	t->clk->virtual_list = t;
	return 0;
}

/* now + ms (ms >= 0), saturated at INT64_MAX instead of overflowing. */
static int64_t clock_virtual_after(const struct clock *clk, int64_t ms)
{
	return clk->virtual_now > INT64_MAX - ms ? INT64_MAX : clk->virtual_now + ms;
}

/* Arm a virtual timer at now + delay, less the early offset if the delay is longer. */
static void clock_virtual_start(struct clock_timer *t, int64_t delay_ms)
{
	int64_t early = t->clk->virtual_early;

	t->deadline = clock_virtual_after(t->clk, delay_ms > early ? delay_ms - early : delay_ms);
	t->seq = ++t->clk->virtual_seq;
}

/* Nothing to do: the armed flag is the state. */
static void clock_virtual_stop(struct clock_timer *t)
{
	(void)t;
}

/* Take a virtual timer off its clock's list. */
static void clock_virtual_fini(struct clock_timer *t)
{
	struct clock_timer **pp = &t->clk->virtual_list;

	while (*pp != NULL && *pp != t)
		pp = &(*pp)->next;
	if (*pp == t)
		*pp = t->next;
}

/* The armed virtual timer due first at or before limit, or NULL. */
static struct clock_timer *clock_virtual_next_due(struct clock *clk, int64_t limit)
{
	struct clock_timer *best = NULL;

	for (struct clock_timer *t = clk->virtual_list; t != NULL; t = t->next) {
		if (!t->armed || t->deadline > limit)
			continue;
		if (best == NULL || t->deadline < best->deadline ||
		    (t->deadline == best->deadline && t->seq < best->seq))
			best = t;
	}
	return best;
}

/* Move virtual time forward by ms, firing due timers in deadline order. */
unsigned clock_virtual_advance(struct clock *clk, int64_t ms)
{
	int64_t target = clock_virtual_after(clk, ms > 0 ? ms : 0);
	struct clock_timer *t;
	unsigned fired = 0;

	while ((t = clock_virtual_next_due(clk, target)) != NULL) {
		if (t->deadline > clk->virtual_now)
			clk->virtual_now = t->deadline;
		clock_timer_fire(t);
		fired++;
	}
	clk->virtual_now = target;
	return fired;
}

/* Make timers armed from now on fire early_ms before their delay. */
void clock_virtual_set_early(struct clock *clk, int64_t early_ms)
{
	clk->virtual_early = early_ms > 0 ? early_ms : 0;
}

/* Fire timers due now, without moving time. */
unsigned clock_virtual_run_due(struct clock *clk)
{
	return clock_virtual_advance(clk, 0);
}

/* The number of armed virtual timers. */
unsigned clock_virtual_pending(struct clock *clk)
{
	unsigned n = 0;

	for (struct clock_timer *t = clk->virtual_list; t != NULL; t = t->next)
		n += t->armed;
	return n;
}
