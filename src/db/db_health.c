/*
 * db_health.c - the periodic health question, behind db_health.h.
 */
#include "db/db_health.h"

#include "core/clock.h"
#include "core/log.h"
#include "db/db_pool.h"

#include <stdlib.h>

struct db_health {
	struct db_pool *pool;
	struct clock *clk;
	struct clock_timer *tick;
	int64_t interval_ms, timeout_ms;
	int64_t asked_ms; /* when the question out was asked */
	bool out;	  /* a question is unanswered */
	bool failing;	  /* not ready: a question went unanswered too long, or failed */
	bool freed;	  /* freed while a question was out: its answer frees the memory */
};

static void db_health_on_tick(void *arg);
static void db_health_on_answer(void *arg, const struct db_result *r);
static void db_health_set(struct db_health *h, bool failing, const char *why);

/* Start the checker. */
int db_health_new(struct db_health **out, struct db_pool *pool, struct clock *clk,
		  int64_t interval_ms, int64_t timeout_ms)
{
	struct db_health *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (h == NULL || (h->tick = clock_timer_new(clk, db_health_on_tick, h)) == NULL) {
		free(h);
		return -1;
	}
	h->pool = pool;
	h->clk = clk;
	h->interval_ms = interval_ms > 0 ? interval_ms : 1000;
	h->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
	db_pool_set_health(pool, db_health_ok, h);
	clock_timer_start(h->tick, h->interval_ms);
	*out = h;
	return 0;
}

/* Record a change of health, logging it once each way. */
static void db_health_set(struct db_health *h, bool failing, const char *why)
{
	if (failing == h->failing)
		return;
	h->failing = failing;
	if (failing)
		log_warn("db", "database not answering: not ready", log_str("why", why),
			 log_ms("timeout_ms", h->timeout_ms));
	else
		log_info("db", "database answering again: ready");
}

/* Tick: an unanswered question past the timeout fails; otherwise ask again. */
static void db_health_on_tick(void *arg)
{
	struct db_health *h = arg;
	int64_t now = clock_now_ms(h->clk);

	if (db_pool_closing(h->pool))
		return;
	clock_timer_start(h->tick, h->interval_ms);
	if (h->out) {
		if (now - h->asked_ms >= h->timeout_ms)
			db_health_set(h, true, "health query unanswered");
		return;
	}
	if (db_pool_query(h->pool, "SELECT 1", 0, NULL, db_health_on_answer, h) != 0)
		return; /* full or closing: the pool's own readiness says so */
	h->out = true;
	h->asked_ms = now;
}

/* The answer: in time or late, an answer clears the failure; an error sets it. */
static void db_health_on_answer(void *arg, const struct db_result *r)
{
	struct db_health *h = arg;

	h->out = false;
	if (h->freed) {
		free(h);
		return;
	}
	if (r->status == DB_OK)
		db_health_set(h, false, NULL);
	else if (r->status != DB_ERR_CLOSED)
		db_health_set(h, true, r->error);
}

/* Whether the database answers; an answer overdue fails (and is logged) at once. */
bool db_health_ok(void *arg, const char **why)
{
	struct db_health *h = arg;
	bool late = h->out && clock_now_ms(h->clk) - h->asked_ms >= h->timeout_ms;

	if (late) /* the probe sees it before the next tick: log it now, once */
		db_health_set(h, true, "health query unanswered");
	if (!h->failing)
		return true;
	*why = "database not answering";
	return false;
}

/* Free the checker. */
void db_health_free(struct db_health *h)
{
	if (h == NULL)
		return;
	clock_timer_free(h->tick);
	h->tick = NULL;
	if (h->out)
		h->freed = true; /* the pool still holds the question: its answer frees h */
	else
		free(h);
}
