/*
 * plan_pod.c - the keycastd container's probes, ports and preStop hook,
 * behind plan_pod.h.
 */
#include "plan/plan_pod.h"

#include "core/diag.h"
#include "core/ydoc.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static yaml_node_t *plan_pod_path(yaml_document_t *doc, yaml_node_t *n, const char *const *keys);
static yaml_node_t *plan_pod_item(yaml_document_t *doc, yaml_node_t *seq, size_t i);
static bool plan_pod_number(const char *s, int64_t max, int64_t *out);
static void plan_pod_ports(struct plan_manifest *m, yaml_document_t *doc, yaml_node_t *c);
static void plan_pod_probe(struct plan_manifest *m, yaml_document_t *doc, yaml_node_t *c,
			   enum plan_probe_kind k);
static int64_t plan_pod_named_port(yaml_document_t *doc, yaml_node_t *c, const char *name);
static void plan_pod_prestop(struct plan_manifest *m, yaml_document_t *doc, yaml_node_t *c);
static int64_t plan_pod_sleep_secs(yaml_document_t *doc, yaml_node_t *cmd);
static int64_t plan_pod_duration(const char *s);
static void plan_pod_check_probe(const struct plan_manifest *m, enum plan_probe_kind k,
				 struct diag *d);
static void plan_pod_check_prestop(const struct plan_manifest *m, struct diag *d);

/* The manifest keys of the probes. */
static const char *const plan_pod_probe_keys[PLAN_PROBE_COUNT_] = {
	[PLAN_PROBE_LIVENESS] = "livenessProbe",
	[PLAN_PROBE_READINESS] = "readinessProbe",
	[PLAN_PROBE_STARTUP] = "startupProbe",
};

/* The manifest key of a probe. */
const char *plan_probe_key(enum plan_probe_kind k)
{
	return (unsigned)k < PLAN_PROBE_COUNT_ ? plan_pod_probe_keys[k] : "?";
}

/* A short name of a preStop form. */
const char *plan_prestop_name(enum plan_prestop f)
{
	static const char *const names[] = {
		[PLAN_PRESTOP_NONE] = "none",
		[PLAN_PRESTOP_SLEEP] = "sleep",
		[PLAN_PRESTOP_EXEC_SLEEP] = "exec sleep",
		[PLAN_PRESTOP_EXEC] = "exec",
		[PLAN_PRESTOP_HTTP] = "httpGet",
	};

	return (unsigned)f <= PLAN_PRESTOP_HTTP ? names[f] : "?";
}

/* The node under a NULL-terminated key path, or NULL. */
static yaml_node_t *plan_pod_path(yaml_document_t *doc, yaml_node_t *n, const char *const *keys)
{
	for (; n != NULL && *keys != NULL; keys++)
		n = ydoc_get(doc, n, *keys);
	return n;
}

/* The i-th item of a sequence node, or NULL. */
static yaml_node_t *plan_pod_item(yaml_document_t *doc, yaml_node_t *seq, size_t i)
{
	if (seq == NULL || seq->type != YAML_SEQUENCE_NODE ||
	    (ptrdiff_t)i >= seq->data.sequence.items.top - seq->data.sequence.items.start)
		return NULL;
	return yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
}

/* Whether s is all digits, 0..max, into *out. */
static bool plan_pod_number(const char *s, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

/* Read the container's ports, probes and preStop hook. */
void plan_pod_read(struct plan_manifest *m, yaml_document_t *doc, yaml_node_t *c)
{
	plan_pod_ports(m, doc, c);
	for (int k = 0; k < PLAN_PROBE_COUNT_; k++)
		plan_pod_probe(m, doc, c, (enum plan_probe_kind)k);
	plan_pod_prestop(m, doc, c);
}

/* keycastd's ports: defaults, then PORT / PROBE_PORT of the env, then the flags. */
static void plan_pod_ports(struct plan_manifest *m, yaml_document_t *doc, yaml_node_t *c)
{
	yaml_node_t *args = ydoc_get(doc, c, "args"), *a;

	m->api_port = PLAN_MANIFEST_API_PORT;
	m->probe_port = PLAN_MANIFEST_PROBE_PORT;
	for (size_t i = 0; i < m->nenv; i++) {
		if (strncmp(m->env[i], "PORT=", 5) == 0)
			(void)plan_pod_number(m->env[i] + 5, 65535, &m->api_port);
		else if (strncmp(m->env[i], "PROBE_PORT=", 11) == 0)
			(void)plan_pod_number(m->env[i] + 11, 65535, &m->probe_port);
	}
	if (args == NULL)
		args = ydoc_get(doc, c, "command");
	for (size_t i = 0; (a = plan_pod_item(doc, args, i)) != NULL; i++) {
		const char *s = ydoc_scalar(a);
		const char *next = ydoc_scalar(plan_pod_item(doc, args, i + 1));

		if (s == NULL)
			continue;
		if (strncmp(s, "--port=", 7) == 0 || strncmp(s, "--probe-port=", 13) == 0)
			next = strchr(s, '=') + 1;
		else if (strcmp(s, "--port") != 0 && strcmp(s, "--probe-port") != 0)
			continue;
		(void)plan_pod_number(next, 65535,
				      strncmp(s, "--probe-port", 12) == 0 ? &m->probe_port
									  : &m->api_port);
	}
}

/* Probe k of the container, and its port (a number, or a name of the container's ports). */
static void plan_pod_probe(struct plan_manifest *m, yaml_document_t *doc, yaml_node_t *c,
			   enum plan_probe_kind k)
{
	static const char *const http_k[] = {"httpGet", "port", NULL};
	static const char *const tcp_k[] = {"tcpSocket", "port", NULL};
	struct plan_manifest_probe *pr = &m->probes[k];
	yaml_node_t *probe = ydoc_get(doc, c, plan_pod_probe_keys[k]), *port;
	const char *s;

	if (probe == NULL)
		return;
	pr->set = true;
	pr->port = -1;
	port = plan_pod_path(doc, probe, http_k);
	if (port == NULL)
		port = plan_pod_path(doc, probe, tcp_k);
	pr->pos = port != NULL ? (struct plan_pos){ydoc_line(port), ydoc_col(port)}
			       : (struct plan_pos){ydoc_line(probe), ydoc_col(probe)};
	s = ydoc_scalar(port);
	if (s == NULL || plan_pod_number(s, 65535, &pr->port))
		return;
	pr->port_name = strdup(s);
	pr->port = plan_pod_named_port(doc, c, s);
}

/* The containerPort the container names name, or -1. */
static int64_t plan_pod_named_port(yaml_document_t *doc, yaml_node_t *c, const char *name)
{
	yaml_node_t *p;
	int64_t v;

	for (size_t i = 0; (p = plan_pod_item(doc, ydoc_get(doc, c, "ports"), i)) != NULL; i++) {
		const char *n = ydoc_scalar(ydoc_get(doc, p, "name"));

		if (n != NULL && strcmp(n, name) == 0 &&
		    plan_pod_number(ydoc_scalar(ydoc_get(doc, p, "containerPort")), 65535, &v))
			return v;
	}
	return -1;
}

/* The preStop hook: the native sleep, an exec (sleeping or not), or an httpGet. */
static void plan_pod_prestop(struct plan_manifest *m, yaml_document_t *doc, yaml_node_t *c)
{
	static const char *const hook_k[] = {"lifecycle", "preStop", NULL};
	static const char *const secs_k[] = {"sleep", "seconds", NULL};
	static const char *const cmd_k[] = {"exec", "command", NULL};
	yaml_node_t *hook = plan_pod_path(doc, c, hook_k), *at = hook;
	yaml_node_t *secs = plan_pod_path(doc, hook, secs_k);
	yaml_node_t *cmd = plan_pod_path(doc, hook, cmd_k);
	int64_t v = -1;

	if (hook == NULL)
		return;
	if (secs != NULL && plan_pod_number(ydoc_scalar(secs), 86400LL * 365, &v)) {
		m->prestop = PLAN_PRESTOP_SLEEP;
		at = secs;
	} else if (cmd != NULL) {
		v = plan_pod_sleep_secs(doc, cmd);
		m->prestop = v >= 0 ? PLAN_PRESTOP_EXEC_SLEEP : PLAN_PRESTOP_EXEC;
		at = cmd;
	} else if (ydoc_get(doc, hook, "httpGet") != NULL) {
		m->prestop = PLAN_PRESTOP_HTTP;
		at = ydoc_get(doc, hook, "httpGet");
	}
	m->prestop_ms = v >= 0 ? v * 1000 : 0;
	m->prestop_pos = (struct plan_pos){ydoc_line(at), ydoc_col(at)};
}

/*
 * The seconds an exec command sleeps: [sleep, N] (or /bin/sleep), or a
 * shell string holding "sleep N" (as in ["/bin/sh", "-c", "sleep N"]);
 * N may carry GNU sleep's s, m or h. -1 if none is found.
 */
static int64_t plan_pod_sleep_secs(yaml_document_t *doc, yaml_node_t *cmd)
{
	yaml_node_t *a;

	for (size_t i = 0; (a = plan_pod_item(doc, cmd, i)) != NULL; i++) {
		const char *s = ydoc_scalar(a), *base = s != NULL ? strrchr(s, '/') : NULL;
		const char *p;

		base = base != NULL ? base + 1 : s;
		if (base != NULL && strcmp(base, "sleep") == 0)
			return plan_pod_duration(ydoc_scalar(plan_pod_item(doc, cmd, i + 1)));
		for (p = s; p != NULL && (p = strstr(p, "sleep ")) != NULL; p += 6)
			if (p == s || !isalnum((unsigned char)p[-1]))
				return plan_pod_duration(p + 6);
	}
	return -1;
}

/* Whole seconds of "N", "Ns", "Nm" or "Nh" (ended by the string, a space or ';&|'); -1. */
static int64_t plan_pod_duration(const char *s)
{
	int64_t v = 0, unit = 1;
	size_t i = 0;

	while (s != NULL && s[i] == ' ')
		i++;
	if (s == NULL || !isdigit((unsigned char)s[i]))
		return -1;
	for (; isdigit((unsigned char)s[i]); i++)
		if ((v = v * 10 + (s[i] - '0')) > 86400LL * 365)
			return -1;
	if (s[i] == 's' || s[i] == 'm' || s[i] == 'h')
		unit = s[i] == 's' ? 1 : s[i] == 'm' ? 60 : 3600;
	i += s[i] == 's' || s[i] == 'm' || s[i] == 'h';
	if (s[i] != '\0' && strchr(" ;&|)", s[i]) == NULL)
		return -1;
	return v * unit;
}

/* Check every probe's port and the preStop form. */
void plan_pod_check(const struct plan_manifest *m, struct diag *d)
{
	for (int k = 0; k < PLAN_PROBE_COUNT_; k++)
		plan_pod_check_probe(m, (enum plan_probe_kind)k, d);
	plan_pod_check_prestop(m, d);
}

/*
 * A probe must use the probe port: the API port serves no probe and closes
 * at the plan's http-drain (an error); another port answers nothing (a
 * warning: the ports may come from a --config file not read here).
 */
static void plan_pod_check_probe(const struct plan_manifest *m, enum plan_probe_kind k,
				 struct diag *d)
{
	const struct plan_manifest_probe *pr = &m->probes[k];
	const char *key = plan_pod_probe_keys[k];
	char by[96] = "";

	if (!pr->set || (pr->port < 0 && pr->port_name == NULL) || pr->port == m->probe_port)
		return; /* exec and grpc probes name no port */
	if (pr->port_name != NULL)
		snprintf(by, sizeof(by), " (named '%.64s')", pr->port_name);
	if (pr->port < 0)
		diag_add(d, DIAG_WARNING, m->file, pr->pos.line, pr->pos.col,
			 "%s uses port '%s', which the container's ports do not name; keycastd "
			 "answers its probes on port %" PRId64 " (probe_port): name that port and "
			 "point the probe at it",
			 key, pr->port_name, m->probe_port);
	else if (pr->port == m->api_port)
		diag_add(d, DIAG_ERROR, m->file, pr->pos.line, pr->pos.col,
			 "%s uses port %" PRId64
			 "%s, keycastd's API port (port): the API port serves "
			 "no probes and closes at the plan's http-drain, so the probe would fail; "
			 "point it at the probe port %" PRId64
			 " (probe_port), which answers until the shutdown's final line",
			 key, pr->port, by, m->probe_port);
	else
		diag_add(d, DIAG_WARNING, m->file, pr->pos.line, pr->pos.col,
			 "%s uses port %" PRId64 "%s, where keycastd does not listen (API %" PRId64
			 ", probes %" PRId64 "); point it at the probe port %" PRId64
			 " (probe_port)",
			 key, pr->port, by, m->api_port, m->probe_port, m->probe_port);
}

/* An exec preStop needs the image; an httpGet or an exec without sleep has no known length. */
static void plan_pod_check_prestop(const struct plan_manifest *m, struct diag *d)
{
	const struct plan_pos *at = &m->prestop_pos;
	const char *native = "the native action 'lifecycle: {preStop: {sleep: {seconds: N}}}' "
			     "(Kubernetes 1.30 and later), which the kubelet runs and needs "
			     "nothing from the image";

	if (m->prestop == PLAN_PRESTOP_EXEC_SLEEP)
		diag_add(
			d, DIAG_WARNING, m->file, at->line, at->col,
			"the preStop hook runs sleep inside the container (exec): an image without "
			"sleep or a shell (distroless, scratch) fails the hook, and Kubernetes "
			"then "
			"sends SIGTERM at once, without the %" PRId64 "s wait; use %s",
			m->prestop_ms / 1000, native);
	else if (m->prestop == PLAN_PRESTOP_EXEC)
		diag_add(d, DIAG_WARNING, m->file, at->line, at->col,
			 "the preStop exec command has no 'sleep N' that keycastd can read: its "
			 "length is unknown and counted as 0s, though it counts into "
			 "terminationGracePeriodSeconds, and it needs its program in the image; "
			 "for a known wait use %s",
			 native);
	else if (m->prestop == PLAN_PRESTOP_HTTP)
		diag_add(d, DIAG_WARNING, m->file, at->line, at->col,
			 "the preStop hook is an httpGet: it lasts as long as its server takes to "
			 "answer, which is unknown here and counted as 0s, though it counts into "
			 "terminationGracePeriodSeconds; for a known wait use %s",
			 native);
}

/* Release the probes' port names. */
void plan_pod_free(struct plan_manifest *m)
{
	for (int k = 0; k < PLAN_PROBE_COUNT_; k++) {
		free(m->probes[k].port_name);
		m->probes[k].port_name = NULL;
	}
}
