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

/* The form of a container's preStop hook. */
enum plan_prestop {
	PLAN_PRESTOP_NONE,	 /* no preStop hook */
	PLAN_PRESTOP_SLEEP,	 /* the native lifecycle.preStop.sleep: the kubelet waits */
	PLAN_PRESTOP_EXEC_SLEEP, /* exec: [sleep, N] or a shell's "sleep N": the image's sleep */
	PLAN_PRESTOP_EXEC,	 /* exec of anything else: unknown length */
	PLAN_PRESTOP_HTTP,	 /* httpGet: as long as its server takes, unknown length */
};

/* The probes a container may have. */
enum plan_probe_kind {
	PLAN_PROBE_LIVENESS,  /* livenessProbe */
	PLAN_PROBE_READINESS, /* readinessProbe */
	PLAN_PROBE_STARTUP,   /* startupProbe */
	PLAN_PROBE_COUNT_,
};

/* One probe of the container and the port it knocks on. */
struct plan_manifest_probe {
	bool set;	     /* the container has this probe */
	int64_t port;	     /* its httpGet/tcpSocket port; -1: none (exec, grpc) or not found */
	char *port_name;     /* the name it gave the port by (owned), or NULL */
	struct plan_pos pos; /* of its port (else of the probe) */
};

/* How the container's plan path reaches it. */
enum plan_manifest_mount {
	PLAN_MOUNT_NONE,      /* no volumeMount covers it (or no plan path) */
	PLAN_MOUNT_CONFIGMAP, /* a configMap volume: plan_cm, key plan_key */
	PLAN_MOUNT_OTHER,     /* another kind of volume (secret, PVC, ...) */
};

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
	int64_t prestop_ms; /* preStop sleep, 0 if none or of unknown length */
	enum plan_prestop prestop;
	struct plan_pos prestop_pos;
	struct plan_manifest_probe probes[PLAN_PROBE_COUNT_];
	int64_t api_port, probe_port; /* keycastd's ports as the container sets them, or defaults */
	char **env;		      /* "NAME=VALUE" the container sets */
	size_t nenv;
	char *plan_path;	  /* --plan / SHUTDOWN_PLAN of the container, or NULL */
	struct plan_pos plan_pos; /* where plan_path is given */
	enum plan_manifest_mount plan_mount;
	char *plan_cm;	   /* the ConfigMap plan_path is mounted from, or NULL */
	char *plan_key;	   /* its data key that plan_path names */
	bool plan_cm_seen; /* that ConfigMap is in a manifest read (with or without the key) */
	char *plan_file;   /* the file plan_text is in (NULL: file) */
	char *plan_text;   /* the plan from the mounted ConfigMap, or NULL */
	char *plan_name;   /* "FILE[ConfigMap/NAME:KEY]" */
	unsigned plan_line, plan_col; /* where plan_text starts in the file (0-based shift) */
};

/*
 * Load path. Returns 0, or -1 with findings in d. *m is always initialised.
 * A file with Kubernetes objects but no Deployment or StatefulSet (a
 * Service, the plan's ConfigMap) loads with workload NULL; a file with no
 * Kubernetes object at all is an error.
 */
int plan_manifest_load(struct plan_manifest *m, const char *path, struct diag *d)
	__attribute__((warn_unused_result));

/*
 * Look for m's plan ConfigMap (plan_cm, key plan_key) in the manifest file
 * path, when m's own file does not hold it: a base whose ConfigMap and
 * Deployment are separate files. Fills plan_text as plan_manifest_load does.
 */
void plan_manifest_find_plan(struct plan_manifest *m, const char *path, struct diag *d);

/* Release a manifest. */
void plan_manifest_free(struct plan_manifest *m);

/* Check p against the workload: grace period, probe detection, preStop, plan mount. */
void plan_manifest_check(const struct plan_manifest *m, const struct plan *p, struct diag *d);

/* The wait after readiness fails in p (the pre-drain wait), in ms. */
int64_t plan_predrain_wait_ms(const struct plan *p);

#endif /* KC_PLAN_MANIFEST_H */
