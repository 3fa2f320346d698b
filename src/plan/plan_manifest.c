/*
 * plan_manifest.c - Kubernetes manifest facts and the checks of a plan
 * against them (grace period, readiness probe, preStop, ConfigMap).
 */
#include "plan/plan_manifest.h"
#include "plan/plan_pod.h"

#include "core/diag.h"
#include "core/ydoc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The documents being read and the manifest being filled. */
struct plan_mctx {
	struct ydoc_file yf;
	struct plan_manifest *m;
	struct diag *d;
	yaml_document_t *doc; /* the workload's document */
};

static void plan_manifest_workload(struct plan_mctx *x, yaml_node_t *root, const char *kind);
static yaml_node_t *plan_manifest_path(yaml_document_t *doc, yaml_node_t *n,
				       const char *const *keys);
static void plan_manifest_container(struct plan_mctx *x, yaml_node_t *c);
static void plan_manifest_configmap(struct plan_mctx *x, yaml_node_t *pod, yaml_node_t *c);
static bool plan_manifest_cm_data(struct plan_manifest *m, struct ydoc_file *yf, const char *file);
static bool plan_manifest_has_kind(struct ydoc_file *yf);
static const char *plan_manifest_cm_key(yaml_document_t *doc, yaml_node_t *vol, const char *rel);
static void plan_manifest_mount(struct plan_mctx *x, yaml_node_t *vol, const char *rel);
static void plan_manifest_check_mount(const struct plan_manifest *m, struct diag *d);

/* The node under a NULL-terminated key path, or NULL. */
static yaml_node_t *plan_manifest_path(yaml_document_t *doc, yaml_node_t *n,
				       const char *const *keys)
{
	for (; n != NULL && *keys != NULL; keys++)
		n = ydoc_get(doc, n, *keys);
	return n;
}

/* An integer scalar into *out; false if absent or not an integer. */
static bool plan_manifest_int(const yaml_node_t *n, int64_t *out)
{
	const char *s = ydoc_scalar(n);
	char *end;
	long long v;

	if (s == NULL)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 86400LL * 365)
		return false;
	*out = v;
	return true;
}

/* The i-th item of a sequence node, or NULL. */
static yaml_node_t *plan_manifest_item(yaml_document_t *doc, yaml_node_t *seq, size_t i)
{
	if (seq == NULL || seq->type != YAML_SEQUENCE_NODE ||
	    (ptrdiff_t)i >= seq->data.sequence.items.top - seq->data.sequence.items.start)
		return NULL;
	return yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
}

/* Store a copy of s in *dst (replacing). */
static void plan_manifest_set(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? strdup(s) : NULL;
}

/* Load path. */
int plan_manifest_load(struct plan_manifest *m, const char *path, struct diag *d)
{
	struct plan_mctx x = {.m = m, .d = d};
	int rc = -1;

	*m = (struct plan_manifest){.grace_ms = 30000, .probe_period_s = 10, .probe_threshold = 3};
	m->file = strdup(path);
	if (ydoc_load_file(&x.yf, path, d) != 0)
		return -1;
	for (size_t i = 0; i < x.yf.n && m->workload == NULL; i++) {
		yaml_node_t *root = ydoc_root(&x.yf.docs[i]);
		const char *kind = ydoc_scalar(ydoc_get(&x.yf.docs[i], root, "kind"));

		if (kind != NULL &&
		    (strcmp(kind, "Deployment") == 0 || strcmp(kind, "StatefulSet") == 0)) {
			x.doc = &x.yf.docs[i];
			plan_manifest_workload(&x, root, kind);
		}
	}
	if (m->workload == NULL && !plan_manifest_has_kind(&x.yf))
		diag_add(d, DIAG_ERROR, path, 0, 0, "no Deployment or StatefulSet in this file");
	else
		rc = 0;
	ydoc_free(&x.yf);
	return rc;
}

/* Whether any document of yf is a Kubernetes object (has a kind). */
static bool plan_manifest_has_kind(struct ydoc_file *yf)
{
	for (size_t i = 0; i < yf->n; i++)
		if (ydoc_scalar(ydoc_get(&yf->docs[i], ydoc_root(&yf->docs[i]), "kind")) != NULL)
			return true;
	return false;
}

/* Look for m's plan ConfigMap in the manifest file path. */
void plan_manifest_find_plan(struct plan_manifest *m, const char *path, struct diag *d)
{
	struct ydoc_file yf = {0};

	if (m->plan_cm == NULL || m->plan_text != NULL || ydoc_load_file(&yf, path, d) != 0)
		goto done;
	(void)plan_manifest_cm_data(m, &yf, path);
done:
	ydoc_free(&yf);
}

/* Pick the keycastd container: named or imaged keycastd, else the first. */
static yaml_node_t *plan_manifest_pick(yaml_document_t *doc, yaml_node_t *list)
{
	yaml_node_t *c;

	for (size_t i = 0; (c = plan_manifest_item(doc, list, i)) != NULL; i++) {
		const char *name = ydoc_scalar(ydoc_get(doc, c, "name"));
		const char *image = ydoc_scalar(ydoc_get(doc, c, "image"));

		if ((name && strstr(name, "keycastd")) || (image && strstr(image, "keycastd")))
			return c;
	}
	return plan_manifest_item(doc, list, 0);
}

/* Read a Deployment or StatefulSet. */
static void plan_manifest_workload(struct plan_mctx *x, yaml_node_t *root, const char *kind)
{
	static const char *const name_k[] = {"metadata", "name", NULL};
	static const char *const pod_k[] = {"spec", "template", "spec", NULL};
	const char *name = ydoc_scalar(plan_manifest_path(x->doc, root, name_k));
	yaml_node_t *pod = plan_manifest_path(x->doc, root, pod_k);
	yaml_node_t *grace = ydoc_get(x->doc, pod, "terminationGracePeriodSeconds");
	yaml_node_t *c = plan_manifest_pick(x->doc, ydoc_get(x->doc, pod, "containers"));
	char buf[256];
	int64_t v;

	snprintf(buf, sizeof(buf), "%s/%s", kind, name ? name : "?");
	plan_manifest_set(&x->m->workload, buf);
	x->m->workload_pos = (struct plan_pos){ydoc_line(root), ydoc_col(root)};
	if (grace != NULL && plan_manifest_int(grace, &v)) {
		x->m->grace_ms = v * 1000;
		x->m->grace_set = true;
		x->m->grace_pos = (struct plan_pos){ydoc_line(grace), ydoc_col(grace)};
	} else if (grace != NULL)
		diag_add(x->d, DIAG_ERROR, x->m->file, ydoc_line(grace), ydoc_col(grace),
			 "terminationGracePeriodSeconds must be a whole number of seconds");
	if (c == NULL) {
		diag_add(x->d, DIAG_ERROR, x->m->file, ydoc_line(root), ydoc_col(root),
			 "%s has no containers", buf);
		return;
	}
	plan_manifest_container(x, c);
	plan_manifest_configmap(x, pod, c);
}

/* Add one NAME=VALUE of the container env. */
static void plan_manifest_env_add(struct plan_mctx *x, const char *name, const char *value)
{
	char **e = realloc(x->m->env, (x->m->nenv + 1) * sizeof(*e));
	size_t len = strlen(name) + strlen(value) + 2;

	if (e == NULL)
		return;
	x->m->env = e;
	e[x->m->nenv] = malloc(len);
	if (e[x->m->nenv] == NULL)
		return;
	snprintf(e[x->m->nenv++], len, "%s=%s", name, value);
	if (strcmp(name, "SHUTDOWN_PLAN") == 0)
		plan_manifest_set(&x->m->plan_path, value);
}

/* The container's env (literal values only) and --plan argument. */
static void plan_manifest_env_args(struct plan_mctx *x, yaml_node_t *c)
{
	yaml_node_t *e, *a, *args = ydoc_get(x->doc, c, "args");

	for (size_t i = 0; (e = plan_manifest_item(x->doc, ydoc_get(x->doc, c, "env"), i)) != NULL;
	     i++) {
		const char *n = ydoc_scalar(ydoc_get(x->doc, e, "name"));
		const char *v = ydoc_scalar(ydoc_get(x->doc, e, "value"));

		if (n != NULL && v != NULL)
			plan_manifest_env_add(x, n, v);
		if (n != NULL && v != NULL && strcmp(n, "SHUTDOWN_PLAN") == 0)
			x->m->plan_pos = (struct plan_pos){ydoc_line(e), ydoc_col(e)};
	}
	if (args == NULL)
		args = ydoc_get(x->doc, c, "command");
	for (size_t i = 0; (a = plan_manifest_item(x->doc, args, i)) != NULL; i++) {
		const char *s = ydoc_scalar(a);

		if (s != NULL && strncmp(s, "--plan=", 7) == 0)
			plan_manifest_set(&x->m->plan_path, s + 7);
		else if (s != NULL && strcmp(s, "--plan") == 0)
			plan_manifest_set(&x->m->plan_path,
					  ydoc_scalar(plan_manifest_item(x->doc, args, i + 1)));
		else
			continue;
		x->m->plan_pos = (struct plan_pos){ydoc_line(a), ydoc_col(a)};
	}
}

/* Readiness probe timing; probes' ports and preStop hook (plan_pod.c) of the container. */
static void plan_manifest_container(struct plan_mctx *x, yaml_node_t *c)
{
	yaml_node_t *probe = ydoc_get(x->doc, c, "readinessProbe");

	plan_manifest_env_args(x, c);
	plan_pod_read(x->m, x->doc, c);
	if (probe != NULL) {
		x->m->has_probe = true;
		x->m->probe_pos = (struct plan_pos){ydoc_line(probe), ydoc_col(probe)};
		(void)plan_manifest_int(ydoc_get(x->doc, probe, "periodSeconds"),
					&x->m->probe_period_s);
		(void)plan_manifest_int(ydoc_get(x->doc, probe, "failureThreshold"),
					&x->m->probe_threshold);
	}
}

/* The indentation of 1-based line n of path (block scalar content). */
static unsigned plan_manifest_indent(const char *path, unsigned n)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	unsigned i = 0, ind = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (++i == n)
			break;
	while (i == n && line[ind] == ' ')
		ind++;
	fclose(f);
	return ind;
}

/* Find m's plan ConfigMap in yf (named file) and copy its key into the plan text. */
static bool plan_manifest_cm_data(struct plan_manifest *m, struct ydoc_file *yf, const char *file)
{
	static const char *const name_k[] = {"metadata", "name", NULL};

	for (size_t i = 0; i < yf->n; i++) {
		yaml_document_t *doc = &yf->docs[i];
		yaml_node_t *root = ydoc_root(doc), *v;
		const char *kind = ydoc_scalar(ydoc_get(doc, root, "kind"));
		const char *n = ydoc_scalar(plan_manifest_path(doc, root, name_k));
		char buf[512];

		if (kind == NULL || strcmp(kind, "ConfigMap") != 0 || n == NULL ||
		    strcmp(n, m->plan_cm) != 0)
			continue;
		m->plan_cm_seen = true;
		v = ydoc_get(doc, ydoc_get(doc, root, "data"), m->plan_key);
		if (ydoc_scalar(v) == NULL)
			continue;
		plan_manifest_set(&m->plan_text, ydoc_scalar(v));
		snprintf(buf, sizeof(buf), "%s[ConfigMap/%s:%s]", file, m->plan_cm, m->plan_key);
		plan_manifest_set(&m->plan_name, buf);
		plan_manifest_set(&m->plan_file, strcmp(file, m->file) != 0 ? file : NULL);
		m->plan_line = v->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ? ydoc_line(v) : 0;
		m->plan_col = m->plan_line ? plan_manifest_indent(file, m->plan_line + 1) : 0;
		return true;
	}
	return false;
}

/* The ConfigMap key a volume's file rel comes from: its items' path, else rel itself. */
static const char *plan_manifest_cm_key(yaml_document_t *doc, yaml_node_t *vol, const char *rel)
{
	static const char *const items_k[] = {"configMap", "items", NULL};
	yaml_node_t *items = plan_manifest_path(doc, vol, items_k), *it;

	for (size_t i = 0; (it = plan_manifest_item(doc, items, i)) != NULL; i++) {
		const char *p = ydoc_scalar(ydoc_get(doc, it, "path"));

		if (p != NULL && strcmp(p, rel) == 0)
			return ydoc_scalar(ydoc_get(doc, it, "key"));
	}
	return items != NULL ? NULL : rel; /* items list only what they name */
}

/* Note how the plan path's volume vol provides rel: a ConfigMap's key, or another volume. */
static void plan_manifest_mount(struct plan_mctx *x, yaml_node_t *vol, const char *rel)
{
	static const char *const cm_k[] = {"configMap", "name", NULL};
	const char *cm = ydoc_scalar(plan_manifest_path(x->doc, vol, cm_k));
	const char *key = cm ? plan_manifest_cm_key(x->doc, vol, rel) : NULL;

	if (cm != NULL && key == NULL)
		return; /* the volume's items do not project that file: not covered */
	x->m->plan_mount = cm != NULL ? PLAN_MOUNT_CONFIGMAP : PLAN_MOUNT_OTHER;
	if (cm == NULL)
		return;
	plan_manifest_set(&x->m->plan_cm, cm);
	plan_manifest_set(&x->m->plan_key, key);
	(void)plan_manifest_cm_data(x->m, &x->yf, x->m->file);
}

/* Resolve the plan path through the container's mounts to a ConfigMap. */
static void plan_manifest_configmap(struct plan_mctx *x, yaml_node_t *pod, yaml_node_t *c)
{
	const char *path = x->m->plan_path;
	yaml_node_t *vm, *vol;

	for (size_t i = 0;
	     path && (vm = plan_manifest_item(x->doc, ydoc_get(x->doc, c, "volumeMounts"), i));
	     i++) {
		const char *mp = ydoc_scalar(ydoc_get(x->doc, vm, "mountPath"));
		const char *vn = ydoc_scalar(ydoc_get(x->doc, vm, "name"));
		size_t len = mp ? strlen(mp) : 0;

		while (len > 1 && mp[len - 1] == '/')
			len--;
		if (mp == NULL || vn == NULL || strncmp(path, mp, len) != 0 || path[len] != '/')
			continue;
		for (size_t j = 0;
		     (vol = plan_manifest_item(x->doc, ydoc_get(x->doc, pod, "volumes"), j)); j++) {
			const char *n = ydoc_scalar(ydoc_get(x->doc, vol, "name"));

			if (n != NULL && strcmp(n, vn) == 0)
				plan_manifest_mount(x, vol, path + len + 1);
		}
	}
}

/* Release a manifest. */
void plan_manifest_free(struct plan_manifest *m)
{
	for (size_t i = 0; i < m->nenv; i++)
		free(m->env[i]);
	free(m->env);
	free(m->file);
	free(m->workload);
	plan_pod_free(m);
	free(m->plan_path);
	free(m->plan_text);
	free(m->plan_name);
	free(m->plan_cm);
	free(m->plan_key);
	free(m->plan_file);
	*m = (struct plan_manifest){0};
}

/* The wait after readiness fails in p (the pre-drain wait), in ms. */
int64_t plan_predrain_wait_ms(const struct plan *p)
{
	for (size_t i = 0; i < p->nphases; i++) {
		const struct plan_phase *ph = &p->phases[i];
		int64_t w = -1;

		for (size_t j = 0; j < ph->nsteps; j++) {
			const struct plan_step *s = &ph->steps[j];

			if (s->kind == PLAN_STEP_READINESS && !s->ready)
				w = 0;
			else if (w >= 0 && s->kind == PLAN_STEP_WAIT)
				w = s->wait_ms == PLAN_WAIT_REST ? plan_phase_budget_ms(p, i)
								 : plan_add_ms(w, s->wait_ms);
		}
		if (w >= 0)
			return w < plan_phase_budget_ms(p, i) ? w : plan_phase_budget_ms(p, i);
	}
	return 0;
}

/* The plan (preStop + phases + margin) must fit in the grace period. */
static void plan_manifest_check_grace(const struct plan_manifest *m, const struct plan *p,
				      struct diag *d)
{
	int64_t phases = plan_total_ms(p);
	int64_t need = plan_add_ms(plan_add_ms(m->prestop_ms, phases), p->margin.ms);
	char a[32], b[32], c[32], e[32], g[32];
	const struct plan_pos *pos = m->grace_set ? &m->grace_pos : &m->workload_pos;

	if (need <= m->grace_ms)
		return;
	diag_add(d, DIAG_ERROR, m->file, pos->line, pos->col,
		 "the plan needs %s (preStop sleep %s + phases %s + teardown margin %s) but "
		 "terminationGracePeriodSeconds is %s%s; Kubernetes would SIGKILL the pod mid-"
		 "shutdown: raise terminationGracePeriodSeconds to at least %" PRId64
		 "s or lower the budgets",
		 plan_duration_format(a, sizeof(a), need),
		 plan_duration_format(b, sizeof(b), m->prestop_ms),
		 plan_duration_format(c, sizeof(c), phases),
		 plan_duration_format(e, sizeof(e), p->margin.ms),
		 plan_duration_format(g, sizeof(g), m->grace_ms),
		 m->grace_set ? "" : " (the default)", (need + 999) / 1000);
}

/*
 * The ceiling must fit in the grace period minus the preStop sleep: the
 * watchdog ends a stuck shutdown just before the ceiling, counted from
 * SIGTERM, which Kubernetes sends after the preStop hook.
 */
static void plan_manifest_check_ceiling(const struct plan_manifest *m, const struct plan *p,
					struct diag *d)
{
	int64_t room = m->grace_ms - m->prestop_ms;
	char a[32], b[32], c[32], e[32];
	const struct plan_pos *pos = m->grace_set ? &m->grace_pos : &m->workload_pos;

	if (p->ceiling.ms <= room)
		return;
	diag_add(d, DIAG_ERROR, m->file, pos->line, pos->col,
		 "the plan's ceiling is %s (%s) but terminationGracePeriodSeconds %s%s minus the "
		 "preStop sleep %s leaves %s: the watchdog would end a stuck shutdown after "
		 "Kubernetes' SIGKILL; lower the ceiling to at most %" PRId64
		 "s (the plan's 'ceiling' or SHUTDOWN_GRACE_PERIOD_CEILING_SECS) or raise "
		 "terminationGracePeriodSeconds to at least %" PRId64 "s",
		 plan_duration_format(a, sizeof(a), p->ceiling.ms),
		 plan_origin_name(p->ceiling.origin),
		 plan_duration_format(b, sizeof(b), m->grace_ms),
		 m->grace_set ? "" : " (the default)",
		 plan_duration_format(c, sizeof(c), m->prestop_ms),
		 plan_duration_format(e, sizeof(e), room > 0 ? room : 0),
		 (room > 0 ? room : 0) / 1000,
		 (plan_add_ms(p->ceiling.ms, m->prestop_ms) + 999) / 1000);
}

/*
 * The pre-drain wait plus the preStop sleep (Kubernetes stops routing while
 * it runs) must cover the readiness probe's detection time; the advice is
 * the pre-drain that would, the preStop sleep counted.
 */
static void plan_manifest_check_probe(const struct plan_manifest *m, const struct plan *p,
				      struct diag *d)
{
	int64_t detect = m->probe_period_s * m->probe_threshold * 1000;
	int64_t predrain = plan_predrain_wait_ms(p);
	int64_t wait = plan_add_ms(predrain, m->prestop_ms);
	const struct plan_pos *pos = m->has_probe ? &m->probe_pos : &m->workload_pos;
	char a[32], b[32], c[32], n[32];

	if (wait >= detect)
		return;
	diag_add(d, DIAG_WARNING, m->file, pos->line, pos->col,
		 "the pre-drain waits %s after readiness fails (after a preStop sleep of %s), but "
		 "the readiness probe needs %s (periodSeconds %" PRId64
		 " x failureThreshold %" PRId64
		 "%s) to notice; raise the pre-drain budget to %s or probe more often",
		 plan_duration_format(a, sizeof(a), predrain),
		 plan_duration_format(c, sizeof(c), m->prestop_ms),
		 plan_duration_format(b, sizeof(b), detect), m->probe_period_s, m->probe_threshold,
		 m->has_probe ? "" : ", Kubernetes defaults",
		 plan_duration_format(n, sizeof(n), detect - m->prestop_ms));
}

/*
 * The plan path must reach the container: under a volumeMount (else it
 * must be in the image: a warning), and a ConfigMap read here must hold
 * the key it names (else the file is missing and keycastd refuses to start).
 */
static void plan_manifest_check_mount(const struct plan_manifest *m, struct diag *d)
{
	const struct plan_pos *pos = m->plan_pos.line ? &m->plan_pos : &m->workload_pos;

	if (m->plan_path == NULL)
		return;
	if (m->plan_mount == PLAN_MOUNT_NONE)
		diag_add(d, DIAG_WARNING, m->file, pos->line, pos->col,
			 "the container runs the plan %s, but no volumeMount covers that path: "
			 "it must then be in the image, and a plan ConfigMap is not what runs; "
			 "mount the plan's ConfigMap at the plan's directory",
			 m->plan_path);
	else if (m->plan_mount == PLAN_MOUNT_CONFIGMAP && m->plan_cm_seen && m->plan_text == NULL)
		diag_add(d, DIAG_ERROR, m->file, pos->line, pos->col,
			 "the container runs the plan %s, mounted from ConfigMap %s, which has no "
			 "key '%s': the file would not exist and keycastd would refuse to start",
			 m->plan_path, m->plan_cm, m->plan_key);
}

/* Check p against the workload. */
void plan_manifest_check(const struct plan_manifest *m, const struct plan *p, struct diag *d)
{
	if (m->workload == NULL)
		return;
	plan_manifest_check_grace(m, p, d);
	plan_manifest_check_ceiling(m, p, d);
	plan_manifest_check_probe(m, p, d);
	plan_pod_check(m, d);
	plan_manifest_check_mount(m, d);
}
