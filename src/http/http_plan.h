/*
 * http_plan.h - the shutdown plan's phases in /metrics.
 *
 * The daemon creates one http_plan for its server and boot plan, and
 * attaches the runner once the plan starts. Every scrape then reads the
 * runner: which phase runs now, and each finished phase's duration and
 * outcome. Families (label "phase" is the plan's phase name):
 *
 *   keycastd_shutdown_in_progress                 1 while the plan runs
 *   keycastd_shutdown_phase{phase}                1 for the running phase
 *   keycastd_shutdown_phase_budget_seconds{phase} the effective budget
 *   keycastd_shutdown_phase_duration_seconds{phase}
 *   keycastd_shutdown_phase_outcome{phase,outcome} 1 for the outcome
 */
#ifndef KC_HTTP_PLAN_H
#define KC_HTTP_PLAN_H

struct http_plan;
struct http_server;
struct plan;
struct plan_run;

/*
 * Register the shutdown families for plan p in srv's metrics registry (srv
 * and p borrowed for the object's lifetime). On success returns 0 and the
 * caller owns *out (http_plan_free); -1 if a name is taken or on ENOMEM.
 */
int http_plan_new(struct http_plan **out, struct http_server *srv, const struct plan *p)
	__attribute__((warn_unused_result));

/* Remove the collector (the families stay in the registry). NULL is ignored. */
void http_plan_free(struct http_plan *hp);

/* Read run (borrowed; NULL detaches) at every scrape from now on. */
void http_plan_attach(struct http_plan *hp, struct plan_run *run);

#endif /* KC_HTTP_PLAN_H */
