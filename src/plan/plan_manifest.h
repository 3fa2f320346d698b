/*
 * plan_manifest.h - what a Kubernetes manifest tells `plan check`.
 *
 * Reads a (multi-document) YAML file for its Deployment or StatefulSet
 * (grace period, readiness probe, preStop sleep, container env and plan
 * path) and for the ConfigMap the plan is mounted from, then checks a plan
 * against what Kubernetes will really do.
 */
#ifndef KC_PLAN_MANIFEST_H
#define KC_PLAN_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/plan.h"

struct diag;

/* The facts of one workload in a manifest. Strings owned. */
struct plan_manifest {
	char *file;	/* the manifest's path */
	char *workload; /* "Deployment/name", or NULL if none found */
	struct plan_pos workload_pos;
	int64_t grace_ms; /* terminationGracePeriodSeconds (30 s when absent) */
	bool grace_set;
	struct plan_pos grace_pos;
	int64_t probe_period_s;	 /* readinessProbe.periodSeconds (10) */
	int64_t probe_threshold; /* readinessProbe.failureThreshold (3) */
	bool has_probe;
	struct plan_pos probe_pos;
	int64_t prestop_ms; /* preStop sleep, 0 if none */
	struct plan_pos prestop_pos;
	char **env; /* "NAME=VALUE" the container sets */
	size_t nenv;
	char *plan_path;	      /* --plan / SHUTDOWN_PLAN of the container, or NULL */
	char *plan_text;	      /* the plan from the mounted ConfigMap, or NULL */
	char *plan_name;	      /* "FILE[ConfigMap/NAME:KEY]" */
	unsigned plan_line, plan_col; /* where plan_text starts in the file (0-based shift) */
};

/* Load path. Returns 0, or -1 with findings in d. *m is always initialised. */
int plan_manifest_load(struct plan_manifest *m, const char *path, struct diag *d)
	__attribute__((warn_unused_result));

/* Release a manifest. */
void plan_manifest_free(struct plan_manifest *m);

/* Check p against the workload: grace period, probe detection, preStop. */
void plan_manifest_check(const struct plan_manifest *m, const struct plan *p, struct diag *d);

/* The wait after readiness fails in p (the pre-drain wait), in ms. */
int64_t plan_predrain_wait_ms(const struct plan *p);

#endif /* KC_PLAN_MANIFEST_H */
