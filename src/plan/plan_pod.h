/*
 * plan_pod.h - what a manifest's keycastd container says about its probes
 * and its preStop hook, and the checks `plan check --manifest` makes of
 * them: every probe on keycastd's probe port (the API port serves no probe
 * and closes at the plan's http-drain), and a preStop hook whose length is
 * known and does not depend on the image (the native sleep action).
 *
 * plan_manifest.c calls plan_pod_read() for the container it picked and
 * plan_pod_check() from plan_manifest_check(); the facts land in struct
 * plan_manifest (probes, api_port, probe_port, prestop, prestop_ms).
 */
#ifndef KC_PLAN_POD_H
#define KC_PLAN_POD_H

#include "plan/plan_manifest.h"

#include <yaml.h>

/* keycastd's default ports (the settings port and probe_port). */
#define PLAN_MANIFEST_API_PORT	 8080
#define PLAN_MANIFEST_PROBE_PORT 8081

/*
 * Read container c of doc into m: keycastd's two ports (PORT / PROBE_PORT
 * of m->env, read before, then --port / --probe-port of its args; the
 * defaults 8080 and 8081 otherwise), its probes and the ports they use
 * (a named port resolved through the container's ports), and its preStop
 * hook's form and length.
 */
void plan_pod_read(struct plan_manifest *m, yaml_document_t *doc, yaml_node_t *c);

/* Check the probes' ports and the preStop form of m into d. */
void plan_pod_check(const struct plan_manifest *m, struct diag *d);

/* Release what plan_pod_read allocated in m (the probes' port names). */
void plan_pod_free(struct plan_manifest *m);

/* The manifest key of a probe ("livenessProbe", ...). */
const char *plan_probe_key(enum plan_probe_kind k);

/* A short name of a preStop form: "none", "sleep", "exec sleep", "exec", "httpGet". */
const char *plan_prestop_name(enum plan_prestop f);

#endif /* KC_PLAN_POD_H */
