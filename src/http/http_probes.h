/*
 * http_probes.h - the built-in routes of the HTTP server: the Kubernetes
 * probes (/healthz/live, /healthz/startup, /healthz/ready), /metrics, and
 * the metrics read at scrape time (component states, build info).
 */
#ifndef KC_HTTP_PROBES_H
#define KC_HTTP_PROBES_H

struct http_server;

/*
 * Add the built-in routes to srv and register keycastd_build_info{version}
 * and keycastd_component_state{component,state} in its metrics registry.
 * Returns 0, or -1 (a name taken, ENOMEM).
 */
int http_probes_register(struct http_server *srv, const char *version)
	__attribute__((warn_unused_result));

/* Undo the collector of http_probes_register (the families stay). */
void http_probes_unregister(struct http_server *srv);

#endif /* KC_HTTP_PROBES_H */
