/*
 * http_plan.c - the shutdown plan's phase families behind http_plan.h,
 * refreshed from the plan runner by a collector before every scrape.
 */
#include "http/http_plan.h"

#include "core/metrics.h"
#include "http/http_server.h"
#include "plan/plan.h"
#include "plan/plan_run.h"

#include <stdlib.h>

/* The families, the plan they describe and the runner once it exists. */
struct http_plan {
	struct metrics *m;
	const struct plan *plan;
	struct plan_run *run; /* NULL until the plan starts */
	struct metrics_family *in_progress, *phase, *budget, *duration, *outcome;
};

static int http_plan_families(struct http_plan *hp);
static void http_plan_collect(void *arg, struct metrics *m);
static void http_plan_phase(struct http_plan *hp, size_t i, bool current);

/* Register the families and the collector. */
int http_plan_new(struct http_plan **out, struct http_server *srv, const struct plan *p)
{
	struct http_plan *hp = calloc(1, sizeof(*hp));

	*out = NULL;
	if (hp == NULL)
		return -1;
	hp->m = http_server_metrics(srv);
	hp->plan = p;
	if (http_plan_families(hp) < 0 || metrics_add_collector(hp->m, http_plan_collect, hp) < 0)
		goto fail;
	for (size_t i = 0; i < p->nphases; i++)
		if (metrics_gauge_set(hp->budget, (const char *const[]){p->phases[i].name},
				      (double)plan_phase_budget_ms(p, i) / 1000.0) < 0)
			goto fail;
	*out = hp;
	return 0;
fail:
	http_plan_free(hp);
	return -1;
}

/* Register the five families; -1 if any name is taken or on ENOMEM. */
static int http_plan_families(struct http_plan *hp)
{
	static const char *const phase[] = {"phase", NULL};
	static const char *const phase_outcome[] = {"phase", "outcome", NULL};

	hp->in_progress =
		metrics_gauge(hp->m, "keycastd_shutdown_in_progress",
			      "1 from the start of the shutdown plan to its final line.", NULL);
	hp->phase = metrics_gauge(hp->m, "keycastd_shutdown_phase",
				  "1 for the shutdown plan phase running now, 0 for the others.",
				  phase);
	hp->budget = metrics_gauge(hp->m, "keycastd_shutdown_phase_budget_seconds",
				   "Effective budget of each shutdown plan phase.", phase);
	hp->duration = metrics_gauge(hp->m, "keycastd_shutdown_phase_duration_seconds",
				     "How long each finished shutdown plan phase took.", phase);
	hp->outcome = metrics_gauge(hp->m, "keycastd_shutdown_phase_outcome",
				    "1 for the outcome of each shutdown plan phase (pending until "
				    "it ends), 0 for the others.",
				    phase_outcome);
	if (hp->in_progress == NULL || hp->phase == NULL || hp->budget == NULL ||
	    hp->duration == NULL || hp->outcome == NULL)
		return -1;
	return 0;
}

/* Remove the collector. */
void http_plan_free(struct http_plan *hp)
{
	if (hp == NULL)
		return;
	metrics_remove_collector(hp->m, http_plan_collect, hp);
	free(hp);
}

/* Read run at every scrape from now on. */
void http_plan_attach(struct http_plan *hp, struct plan_run *run)
{
	hp->run = run;
}

/* Before a scrape: the running phase is the first one still pending. */
static void http_plan_collect(void *arg, struct metrics *m)
{
	struct http_plan *hp = arg;
	bool running = hp->run != NULL && !plan_run_done(hp->run);
	bool seen_current = false;

	(void)m;
	(void)metrics_gauge_set(hp->in_progress, NULL, running ? 1 : 0);
	for (size_t i = 0; i < hp->plan->nphases; i++) {
		bool pending =
			hp->run == NULL || plan_run_outcome(hp->run, i) == PLAN_OUTCOME_PENDING;
		bool current = running && pending && !seen_current;

		seen_current = seen_current || current;
		http_plan_phase(hp, i, current);
	}
}

/* Set the phase, duration and outcome series of phase i. */
static void http_plan_phase(struct http_plan *hp, size_t i, bool current)
{
	const char *name = hp->plan->phases[i].name;
	enum plan_outcome now =
		hp->run != NULL ? plan_run_outcome(hp->run, i) : PLAN_OUTCOME_PENDING;
	int64_t ms = hp->run != NULL ? plan_run_duration_ms(hp->run, i) : 0;

	(void)metrics_gauge_set(hp->phase, (const char *const[]){name}, current ? 1 : 0);
	(void)metrics_gauge_set(hp->duration, (const char *const[]){name}, (double)ms / 1000.0);
	for (int o = PLAN_OUTCOME_PENDING; o <= PLAN_OUTCOME_SKIPPED; o++) {
		const char *labels[] = {name, plan_outcome_name((enum plan_outcome)o)};

		(void)metrics_gauge_set(hp->outcome, labels, o == (int)now ? 1 : 0);
	}
}
