/*
 * http_api.c - the JSON API route behind http_api.h.
 */
#include "http/http_api.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/http_server.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Seconds a client is told to wait when the route is full. */
#define HTTP_API_RETRY_S 1

struct http_api {
	struct http_server *srv;
	struct http_api_config cfg;
	struct http_api_req *reqs; /* being handled */
	size_t inflight;
	uint64_t dropped;
	struct metrics_family *m_requests, *m_duration, *m_inflight;
};

/* One request being handled, from dispatch to answer (or cancel). */
struct http_api_req {
	struct http_api *api;
	struct http_exchange *x;
	int64_t start_ms;
	void *ctx; /* the handler's */
	struct http_api_req *prev, *next;
};

/* Latency buckets, in seconds. */
static const double http_api_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					  0.1,	 0.25,	 0.5,	1,    2.5,   5};

static int http_api_metrics(struct http_api *api, struct metrics *m);
static void http_api_on_request(void *arg, struct http_server *srv, struct http_exchange *x);
static void http_api_on_cancel(void *arg, struct http_exchange *x);
static const char *http_api_bearer(struct evhttp_request *req, size_t *len);
static void http_api_full(struct http_api *api, struct http_exchange *x);
static void http_api_count(struct http_api *api, const char *method, int status, double secs);
static void http_api_unlink(struct http_api_req *q);

/* Add the route and register the families. */
int http_api_new(struct http_api **out, struct http_server *srv, const struct http_api_config *cfg)
{
	struct http_api *api = calloc(1, sizeof(*api));
	struct http_route route = {.methods = HTTP_METHOD_POST,
				   .handler = http_api_on_request,
				   .cancel = http_api_on_cancel};

	*out = NULL;
	if (api == NULL)
		return -1;
	api->srv = srv;
	api->cfg = *cfg;
	route.path = cfg->path;
	route.arg = api;
	route.max_body = cfg->max_body;
	if (http_api_metrics(api, cfg->metrics) != 0 || http_server_add_route(srv, &route) != 0) {
		free(api);
		return -1;
	}
	*out = api;
	return 0;
}

/* Register (or find) the api families in m; 0 without a registry. */
static int http_api_metrics(struct http_api *api, struct metrics *m)
{
	static const char *const method_status[] = {"method", "status", NULL};
	static const char *const method[] = {"method", NULL};

	if (m == NULL)
		return 0;
	api->m_requests = metrics_find(m, "keycastd_api_requests_total");
	if (api->m_requests == NULL)
		api->m_requests = metrics_counter(
			m, "keycastd_api_requests_total",
			"HTTP signing API requests answered, by method and status.", method_status);
	api->m_duration = metrics_find(m, "keycastd_api_request_duration_seconds");
	if (api->m_duration == NULL)
		api->m_duration = metrics_histogram(
			m, "keycastd_api_request_duration_seconds",
			"Time from dispatch to answer of HTTP signing API requests, by method.",
			method, http_api_buckets, sizeof(http_api_buckets) / sizeof(double));
	api->m_inflight = metrics_find(m, "keycastd_api_requests_in_flight");
	if (api->m_inflight == NULL)
		api->m_inflight =
			metrics_gauge(m, "keycastd_api_requests_in_flight",
				      "HTTP signing API requests being handled now.", NULL);
	if (api->m_requests == NULL || api->m_duration == NULL || api->m_inflight == NULL)
		return -1;
	return metrics_gauge_set(api->m_inflight, NULL, 0);
}

/* Free the state; requests still held are forgotten (the listener cancels them first). */
void http_api_free(struct http_api *api)
{
	if (api == NULL)
		return;
	while (api->reqs != NULL) {
		struct http_api_req *q = api->reqs;

		http_api_unlink(q);
		free(q);
	}
	free(api);
}

/* Route handler: the limits, then the handler. */
static void http_api_on_request(void *arg, struct http_server *srv, struct http_exchange *x)
{
	struct http_api *api = arg;
	struct evhttp_request *req = http_server_exchange_request(x);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in), toklen = 0;
	const char *token = http_api_bearer(req, &toklen);
	const char *body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	struct http_api_req *q;

	(void)srv;
	if (api->inflight >= api->cfg.max_inflight || (q = calloc(1, sizeof(*q))) == NULL) {
		http_api_full(api, x);
		return;
	}
	q->api = api;
	q->x = x;
	q->start_ms = clock_now_ms(api->cfg.clock);
	q->next = api->reqs;
	if (q->next != NULL)
		q->next->prev = q;
	api->reqs = q;
	api->inflight++;
	(void)metrics_gauge_set(api->m_inflight, NULL, (double)api->inflight);
	api->cfg.handler(api->cfg.arg, q, token, toklen, body != NULL ? body : "", len);
}

/* The token of "Authorization: Bearer TOKEN" (scheme case-insensitive), or NULL. */
static const char *http_api_bearer(struct evhttp_request *req, size_t *len)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	*len = strcspn(h, " \t");
	return h;
}

/* 503: too many requests being handled. */
static void http_api_full(struct http_api *api, struct http_exchange *x)
{
	static const char body[] = "{\"error\":\"too many requests in flight, try again shortly\"}";
	char retry[16];

	snprintf(retry, sizeof(retry), "%d", HTTP_API_RETRY_S);
	evhttp_add_header(evhttp_request_get_output_headers(http_server_exchange_request(x)),
			  "Retry-After", retry);
	http_api_count(api, "unknown", 503, 0);
	http_server_reply(api->srv, x, 503, "application/json", body, sizeof(body) - 1);
}

/* The listener dropped an exchange not answered yet: tell the handler, forget it. */
static void http_api_on_cancel(void *arg, struct http_exchange *x)
{
	struct http_api *api = arg;

	for (struct http_api_req *q = api->reqs; q != NULL; q = q->next) {
		if (q->x != x)
			continue;
		api->dropped++;
		api->cfg.cancel(api->cfg.arg, q);
		http_api_unlink(q);
		free(q);
		return;
	}
}

/* Attach the handler's pointer. */
void http_api_req_set_ctx(struct http_api_req *q, void *ctx)
{
	q->ctx = ctx;
}

/* The handler's pointer. */
void *http_api_req_ctx(const struct http_api_req *q)
{
	return q->ctx;
}

/* Answer a request and forget it. */
void http_api_answer(struct http_api_req *q, int status, int64_t retry_after_s, const char *method,
		     const char *json, size_t len)
{
	struct http_api *api = q->api;
	struct http_exchange *x = q->x;
	struct evkeyvalq *h = evhttp_request_get_output_headers(http_server_exchange_request(x));
	char retry[24];

	if (retry_after_s > 0) {
		snprintf(retry, sizeof(retry), "%lld", (long long)retry_after_s);
		evhttp_add_header(h, "Retry-After", retry);
	}
	if (status == 401)
		evhttp_add_header(h, "WWW-Authenticate", "Bearer realm=\"keycastd\"");
	evhttp_add_header(h, "Cache-Control", "no-store");
	http_api_count(api, method, status,
		       (double)(clock_now_ms(api->cfg.clock) - q->start_ms) / 1000.0);
	http_api_unlink(q);
	free(q);
	http_server_reply(api->srv, x, status, "application/json", json, len);
}

/* Count one answer by method and status, with its latency. */
static void http_api_count(struct http_api *api, const char *method, int status, double secs)
{
	char code[16];

	snprintf(code, sizeof(code), "%d", status);
	(void)metrics_counter_add(api->m_requests, (const char *const[]){method, code}, 1);
	(void)metrics_observe(api->m_duration, (const char *const[]){method}, secs);
}

/* Unlink a request from the route. */
static void http_api_unlink(struct http_api_req *q)
{
	struct http_api *api = q->api;

	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		api->reqs = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	api->inflight--;
	(void)metrics_gauge_set(api->m_inflight, NULL, (double)api->inflight);
}

/* Requests being handled. */
size_t http_api_inflight(const struct http_api *api)
{
	return api->inflight;
}

/* Requests dropped unanswered. */
uint64_t http_api_dropped(const struct http_api *api)
{
	return api->dropped;
}
