/*
 * http_probes.c - the built-in routes of the probe listener: liveness (the
 * loop answers, unless the watchdog has taken over), startup (boot
 * finished), readiness (every component ready and not shutting down; 503
 * with a JSON body naming what is not), and /metrics with the families
 * read at scrape time (component state and in-flight work, build info).
 */
#include "http/http_probes.h"

#include "core/component.h"
#include "core/metrics.h"
#include "http/http_server.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static void http_probes_live(void *arg, struct http_server *srv, struct http_exchange *x);
static void http_probes_startup(void *arg, struct http_server *srv, struct http_exchange *x);
static void http_probes_ready(void *arg, struct http_server *srv, struct http_exchange *x);
static void http_probes_metrics(void *arg, struct http_server *srv, struct http_exchange *x);
static bool http_probes_not_ready(struct http_server *srv, cJSON *list);
static void http_probes_json(struct http_server *srv, struct http_exchange *x, int status,
			     cJSON *body);
static void http_probes_collect(void *arg, struct metrics *m);

#define HTTP_PROBES_JSON "application/json"
#define HTTP_PROBES_GET	 (HTTP_METHOD_GET | HTTP_METHOD_HEAD)

/* The built-in route table. */
static const struct http_route http_probes_routes[] = {
	{.path = "/healthz/live", .methods = HTTP_PROBES_GET, .handler = http_probes_live},
	{.path = "/healthz/startup", .methods = HTTP_PROBES_GET, .handler = http_probes_startup},
	{.path = "/healthz/ready", .methods = HTTP_PROBES_GET, .handler = http_probes_ready},
	{.path = "/metrics", .methods = HTTP_PROBES_GET, .handler = http_probes_metrics},
};

/* Add the routes, build info and the component collector. */
int http_probes_register(struct http_server *srv, const char *version)
{
	static const char *const version_label[] = {"version", NULL};
	static const char *const state_labels[] = {"component", "state", NULL};
	static const char *const comp_label[] = {"component", NULL};
	struct metrics *m = http_server_metrics(srv);
	struct metrics_family *info;

	for (size_t i = 0; i < sizeof(http_probes_routes) / sizeof(http_probes_routes[0]); i++)
		if (http_server_add_route(srv, &http_probes_routes[i]) < 0)
			return -1;
	info = metrics_gauge(m, "keycastd_build_info", "Build information; always 1.",
			     version_label);
	if (info == NULL || metrics_gauge_set(info, (const char *const[]){version}, 1) < 0)
		return -1;
	if (metrics_gauge(m, "keycastd_component_state",
			  "1 for the state each component is in, 0 for the others.",
			  state_labels) == NULL ||
	    metrics_gauge(m, "keycastd_component_inflight",
			  "Units of work in flight per component.", comp_label) == NULL)
		return -1;
	return metrics_add_collector(m, http_probes_collect, srv);
}

/* Remove the collector. */
void http_probes_unregister(struct http_server *srv)
{
	metrics_remove_collector(http_server_metrics(srv), http_probes_collect, srv);
}

/*
 * Liveness: answering at all proves the loop runs, through the whole
 * shutdown plan too; 503 only once the live hook says otherwise (the
 * watchdog has taken over the shutdown).
 */
static void http_probes_live(void *arg, struct http_server *srv, struct http_exchange *x)
{
	cJSON *body = cJSON_CreateObject();
	const char *why = NULL;
	bool live = http_server_live(srv, &why);

	(void)arg;
	cJSON_AddStringToObject(body, "status", live ? "alive" : "not alive");
	if (!live)
		cJSON_AddStringToObject(body, "reason", why != NULL ? why : "not alive");
	http_probes_json(srv, x, live ? 200 : 503, body);
}

/* Startup: 200 once the daemon said boot has finished. */
static void http_probes_startup(void *arg, struct http_server *srv, struct http_exchange *x)
{
	cJSON *body = cJSON_CreateObject();
	bool started = http_server_started(srv);

	(void)arg;
	cJSON_AddStringToObject(body, "status", started ? "started" : "starting");
	http_probes_json(srv, x, started ? 200 : 503, body);
}

/* Readiness: 200, or 503 naming every reason. */
static void http_probes_ready(void *arg, struct http_server *srv, struct http_exchange *x)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *list = cJSON_CreateArray();
	bool ok = !http_probes_not_ready(srv, list);

	(void)arg;
	cJSON_AddStringToObject(body, "status", ok ? "ready" : "not ready");
	cJSON_AddBoolToObject(body, "started", http_server_started(srv));
	cJSON_AddBoolToObject(body, "shutting_down", http_server_shutting_down(srv));
	cJSON_AddItemToObject(body, "not_ready", list);
	http_probes_json(srv, x, ok ? 200 : 503, body);
}

/* Append {component, reason} for each thing not ready; true if any. */
static bool http_probes_not_ready(struct http_server *srv, cJSON *list)
{
	struct component_registry *reg = http_server_components(srv);
	bool any = !http_server_started(srv) || http_server_shutting_down(srv);
	const char *why;
	cJSON *item;

	for (size_t i = 0; reg != NULL && i < component_count(reg); i++) {
		struct component *c = component_at(reg, i);

		why = NULL;
		if (component_ready(c, &why))
			continue;
		item = cJSON_CreateObject();
		cJSON_AddStringToObject(item, "component", component_name(c));
		cJSON_AddStringToObject(item, "reason", why != NULL ? why : "not ready");
		cJSON_AddItemToArray(list, item);
		any = true;
	}
	return any;
}

/* Answer with a JSON body (consumed). */
static void http_probes_json(struct http_server *srv, struct http_exchange *x, int status,
			     cJSON *body)
{
	char *text = body != NULL ? cJSON_PrintUnformatted(body) : NULL;

	if (text == NULL)
		http_server_reply(srv, x, 500, "text/plain", "out of memory\n", 14);
	else
		http_server_reply(srv, x, status, HTTP_PROBES_JSON, text, strlen(text));
	cJSON_free(text);
	cJSON_Delete(body);
}

/* /metrics: the whole registry in the text exposition format. */
static void http_probes_metrics(void *arg, struct http_server *srv, struct http_exchange *x)
{
	char *text = metrics_render_string(http_server_metrics(srv));

	(void)arg;
	if (text == NULL)
		http_server_reply(srv, x, 500, "text/plain", "out of memory\n", 14);
	else
		http_server_reply(srv, x, 200, METRICS_CONTENT_TYPE, text, strlen(text));
	free(text);
}

/* Before a scrape: one state series per component and state, in-flight work. */
static void http_probes_collect(void *arg, struct metrics *m)
{
	struct component_registry *reg = http_server_components(arg);
	struct metrics_family *state = metrics_find(m, "keycastd_component_state");
	struct metrics_family *inflight = metrics_find(m, "keycastd_component_inflight");
	metrics_family_reset(state);
	metrics_family_reset(inflight);
	for (size_t i = 0; reg != NULL && i < component_count(reg); i++) {
		struct component *c = component_at(reg, i);
		enum component_state now = component_state(c);

		for (int s = COMPONENT_RUNNING; s <= COMPONENT_ABORTED; s++) {
			const char *labels[] = {component_name(c), component_state_name(s)};

			(void)metrics_gauge_set(state, labels, s == (int)now ? 1 : 0);
		}
		(void)metrics_gauge_set(inflight, (const char *const[]){component_name(c)},
					(double)component_inflight(c));
	}
}
