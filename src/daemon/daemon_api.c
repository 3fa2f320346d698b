/*
 * daemon_api.c - the signing API route joined to the signer.
 */
#include "daemon/daemon_api.h"

#include "core/config.h"
#include "core/log.h"
#include "http/http_api.h"
#include "signer/signer_api.h"

static void daemon_api_on_request(void *arg, struct http_api_req *q, const char *token,
				  size_t toklen, const char *body, size_t len);
static void daemon_api_on_answer(void *arg, const struct signer_api_answer *a);
static void daemon_api_on_cancel(void *arg, struct http_api_req *q);

/* Add the route. */
int daemon_api_start(struct http_api **out, struct http_server *srv, struct signer *s,
		     const struct config *c, struct clock *clk, struct metrics *m)
{
	const struct http_api_config ac = {
		.path = DAEMON_API_PATH,
		.max_body = (size_t)c->http_max_body_bytes,
		.max_inflight = (size_t)c->api_max_inflight,
		.handler = daemon_api_on_request,
		.cancel = daemon_api_on_cancel,
		.arg = s,
		.clock = clk,
		.metrics = m,
	};

	if (http_api_new(out, srv, &ac) != 0) {
		log_error("http", "cannot add the signing API route", log_str("path", ac.path));
		return -1;
	}
	log_info("http", "signing API route added", log_str("path", ac.path),
		 log_int("max_body_bytes", c->http_max_body_bytes),
		 log_int("max_inflight", c->api_max_inflight));
	return 0;
}

/* A request: the signer answers it, now or later. */
static void daemon_api_on_request(void *arg, struct http_api_req *q, const char *token,
				  size_t toklen, const char *body, size_t len)
{
	struct signer_api_call *call =
		signer_api_start(arg, token, toklen, body, len, daemon_api_on_answer, q);

	if (call != NULL) /* else q is answered (and gone) already */
		http_api_req_set_ctx(q, call);
}

/* The signer's answer to request q (arg). */
static void daemon_api_on_answer(void *arg, const struct signer_api_answer *a)
{
	http_api_answer(arg, a->status, a->retry_after_s, a->method, a->body, a->len);
}

/* The client went away: the signer's answer is no longer wanted. */
static void daemon_api_on_cancel(void *arg, struct http_api_req *q)
{
	struct signer_api_call *call = http_api_req_ctx(q);

	(void)arg;
	if (call != NULL)
		signer_api_cancel(call);
}
