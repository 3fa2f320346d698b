/*
 * config.c - the schema table and the loaders behind config.h.
 */
#include "core/config.h"

#include "core/diag.h"
#include "core/env.h"
#include "core/ydoc.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int config_set_entry(struct config *cfg, const struct config_entry *e, const char *text,
			    const char *origin, unsigned line, unsigned col, struct diag *d);
static int config_set_list(struct config_list *l, const char *text);
static void config_list_free(struct config_list *l);
static void config_str_free(const struct config_entry *e, char **p);
static int config_list_push(struct config_list *l, const char *s, size_t len);
static size_t config_load_value(struct config *cfg, const struct config_entry *e,
				yaml_document_t *doc, yaml_node_t *v, const char *file,
				struct diag *d);
static size_t config_load_pair(struct config *cfg, yaml_document_t *doc, yaml_node_pair_t *p,
			       const char *path, const yaml_node_t **seen, struct diag *d);
static const char *config_type_name(const struct config_entry *e);
static void *config_field(struct config *cfg, const struct config_entry *e);
static int config_parse_int(int64_t *out, const struct config_entry *e, const char *text,
			    const char *origin, unsigned line, unsigned col, struct diag *d);
static int config_check_enum(const struct config_entry *e, const char *text, const char *origin,
			     unsigned line, unsigned col, struct diag *d);
static int config_check(const struct config *cfg, const struct config_entry *e, const char *value,
			const char *origin, unsigned line, unsigned col, struct diag *d);
static int config_env_only(const struct config_entry *e, const char *origin, unsigned line,
			   unsigned col, struct diag *d);
static void config_print_flag(FILE *out, const char *name);
static void config_print_name(FILE *out, const struct config_entry *e);
static const char *config_note(const struct config_entry *e);
static void config_print_range(FILE *out, const struct config_entry *e, const char *sep);

static const char *const config_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const config_formats[] = {"auto", "json", "text", NULL};

#define CFG(field) offsetof(struct config, field)

/* The schema: one row per setting; keep doc/configuration.md generated from it. */
static const struct config_entry config_table[] = {
	{"log_level", CONFIG_ENUM, CFG(log_level), "info", 0, 0, "LOG_LEVEL", config_levels, 0,
	 "lowest severity logged"},
	{"log_format", CONFIG_ENUM, CFG(log_format), "auto", 0, 0, "LOG_FORMAT", config_formats, 0,
	 "log line format; auto = text on a terminal, JSON otherwise"},
	{"listen_addr", CONFIG_STR, CFG(listen_addr), "0.0.0.0", 0, 0, "LISTEN_ADDR", NULL, 0,
	 "address both HTTP listeners (API on port, probes and metrics on probe_port) listen on"},
	{"port", CONFIG_INT, CFG(port), "8080", 0, 65535, "PORT", NULL, 0,
	 "HTTP port of the API; the plan's http-drain closes it; 0 picks a free port and logs it"},
	{"probe_port", CONFIG_INT, CFG(probe_port), "8081", 0, 65535, "PROBE_PORT", NULL, 0,
	 "HTTP port of /healthz/live, /healthz/startup, /healthz/ready and /metrics, open until "
	 "the shutdown's final line; must differ from port; 0 picks a free port and logs it"},
	{"plan", CONFIG_STR, CFG(plan), "", 0, 0, "SHUTDOWN_PLAN", NULL, 0,
	 "shutdown plan file; empty = the built-in default plan"},
	{"instance_id", CONFIG_STR, CFG(instance_id), "", 0, 0, "INSTANCE_ID", NULL, 0,
	 "this replica's name in request claims and logs; empty = the host name"},
	{"database_url", CONFIG_STR, CFG(database_url), "", 0, 0, "DATABASE_URL", NULL,
	 CONFIG_SECRET, "PostgreSQL connection string (libpq URI or key=value)"},
	{"db_pool_size", CONFIG_INT, CFG(db_pool_size), "8", 1, 256, "DB_POOL_SIZE", NULL, 0,
	 "database connections per replica"},
	{"db_query_timeout_ms", CONFIG_INT, CFG(db_query_timeout_ms), "5000", 1, 600000,
	 "DB_QUERY_TIMEOUT_MS", NULL, 0, "a query running longer is cancelled"},
	{"db_connect_timeout_ms", CONFIG_INT, CFG(db_connect_timeout_ms), "10000", 2000, 600000,
	 "DB_CONNECT_TIMEOUT_MS", NULL, 0,
	 "a database connection attempt (TCP, TLS, authentication) gives up after this; whole "
	 "seconds for the admin commands (libpq connect_timeout)"},
	{"db_statement_timeout_ms", CONFIG_INT, CFG(db_statement_timeout_ms), "30000", 0, 86400000,
	 "DB_STATEMENT_TIMEOUT_MS", NULL, 0,
	 "admin commands (key, authz, db) and serve's boot (migrations, master key check): the "
	 "server cancels a statement running longer, and the command stops waiting 5 s later (a "
	 "frozen server cancels nothing); 0 = no limit"},
	{"db_migrate_lock_timeout_ms", CONFIG_INT, CFG(db_migrate_lock_ms), "60000", 1000, 86400000,
	 "DB_MIGRATE_LOCK_TIMEOUT_MS", NULL, 0,
	 "serve's boot and `db migrate` wait this long at most for the migration lock while "
	 "another replica holds it, then fail naming the holder"},
	{"db_health_interval_ms", CONFIG_INT, CFG(db_health_interval_ms), "1000", 100, 600000,
	 "DB_HEALTH_INTERVAL_MS", NULL, 0,
	 "how often serve asks the database `SELECT 1` for /healthz/ready"},
	{"db_health_timeout_ms", CONFIG_INT, CFG(db_health_timeout_ms), "2000", 100, 600000,
	 "DB_HEALTH_TIMEOUT_MS", NULL, 0,
	 "a health query unanswered this long turns /healthz/ready to 503 until one is answered"},
	{"master_key", CONFIG_STR, CFG(master_key), "", 0, 0, "MASTER_KEY", NULL,
	 CONFIG_SECRET | CONFIG_ENV_ONLY,
	 "the master key as 64 hex digits; takes precedence over master_key_path"},
	{"master_key_path", CONFIG_STR, CFG(master_key_path), "", 0, 0, "MASTER_KEY_PATH", NULL, 0,
	 "file holding the 256-bit master key that seals users' secret keys"},
	{"master_key_allow_shared", CONFIG_INT, CFG(master_key_allow_shared), "0", 0, 1,
	 "MASTER_KEY_ALLOW_SHARED", NULL, 0,
	 "1 accepts a master key file that group or others may read or write (logged as a "
	 "warning at every start); 0 refuses it"},
	{"bunker_relays", CONFIG_LIST, CFG(bunker_relays), "", 0, 0, "BUNKER_RELAYS", NULL,
	 CONFIG_CHECKED,
	 "relay URLs (ws:// or wss://, each with a host) that `authz create` puts into bunker "
	 "URIs; the signer always listens and answers on them, besides every authorization's "
	 "own relays"},
	{"http_max_body_bytes", CONFIG_INT, CFG(http_max_body_bytes), "65536", 1024, 16777216,
	 "HTTP_MAX_BODY_BYTES", NULL, 0, "largest HTTP request body accepted"},
	{"http_max_body_total_bytes", CONFIG_INT, CFG(http_max_body_total_bytes), "4194304", 1024,
	 1073741824, "HTTP_MAX_BODY_TOTAL_BYTES", NULL, 0,
	 "request bytes the API port buffers over all its connections at most (bodies being "
	 "received or answered, headers arriving); a body that does not fit in what the others "
	 "leave is refused 413 at once; at least http_max_body_bytes"},
	{"http_timeout_ms", CONFIG_INT, CFG(http_timeout_ms), "10000", 100, 3600000,
	 "HTTP_TIMEOUT_MS", NULL, 0, "HTTP read/write timeout per connection"},
	{"http_max_connections", CONFIG_INT, CFG(http_max_connections), "1024", 16, 1000000,
	 "HTTP_MAX_CONNECTIONS", NULL, 0,
	 "open connections of the API port at most (lowered at boot to fit the open-file limit); "
	 "beyond it the slowest clients are closed, or accepting pauses"},
	{"http_max_requests_per_connection", CONFIG_INT, CFG(http_max_conn_requests), "1000", 0,
	 100000000, "HTTP_MAX_REQUESTS_PER_CONNECTION", NULL, 0,
	 "requests one kept-alive HTTP connection carries at most; the answer to the last one "
	 "says Connection: close and the connection is closed (the client reconnects, so load "
	 "spreads over replicas behind a balancer); 0: no cap"},
	{"api_max_inflight", CONFIG_INT, CFG(api_max_inflight), "256", 1, 100000,
	 "API_MAX_INFLIGHT", NULL, 0,
	 "signing API requests (POST /api/nostr) being handled at once at most; beyond it a "
	 "request is answered 503 with Retry-After"},
	{"relay_publish_timeout_ms", CONFIG_INT, CFG(relay_publish_timeout_ms), "5000", 100, 600000,
	 "RELAY_PUBLISH_TIMEOUT_MS", NULL, 0,
	 "how long a reply waits for each relay's OK before that relay counts as timed out"},
	{"relay_ca_file", CONFIG_STR, CFG(relay_ca_file), "", 0, 0, "RELAY_CA_FILE", NULL, 0,
	 "extra trusted CA certificates (PEM) for wss:// relays; empty = the system's only"},
	{"relay_write_timeout_ms", CONFIG_INT, CFG(relay_write_timeout_ms), "10000", 100, 600000,
	 "RELAY_WRITE_TIMEOUT_MS", NULL, 0,
	 "queued bytes of which none reaches a relay for this long drop the connection (a "
	 "relay that does not read); it is retried with backoff"},
	{"relay_max_pending_bytes", CONFIG_INT, CFG(relay_max_pending_bytes), "4194304", 65536,
	 1073741824, "RELAY_MAX_PENDING_BYTES", NULL, 0,
	 "bytes queued for one relay at most (messages, pongs); past it reading from that relay "
	 "pauses and sends to it are refused until it catches up"},
	{"signer_max_inflight", CONFIG_INT, CFG(signer_max_inflight), "1024", 1, 1000000,
	 "SIGNER_MAX_INFLIGHT", NULL, 0,
	 "claimed, unanswered requests at most; beyond it new requests wait in the backlog "
	 "(signer_backlog)"},
	{"signer_backlog", CONFIG_INT, CFG(signer_backlog), "1024", 0, 1000000, "SIGNER_BACKLOG",
	 NULL, 0,
	 "request events kept, oldest first, while signer_max_inflight requests are in flight, "
	 "and claimed as requests finish; when full the oldest is dropped; 0 = none (they are "
	 "left to other replicas)"},
	{"signer_reload_ms", CONFIG_INT, CFG(signer_reload_ms), "1000", 100, 60000,
	 "SIGNER_RELOAD_MS", NULL, 0,
	 "how often the signer checks the database for new, changed or revoked authorizations"},
	{"signer_unbound_burst", CONFIG_INT, CFG(signer_unbound_burst), "10", 1, 100000,
	 "SIGNER_UNBOUND_BURST", NULL, 0,
	 "error replies to clients that are not connected, per bunker key, in a burst"},
	{"signer_unbound_per_minute", CONFIG_INT, CFG(signer_unbound_per_minute), "60", 1, 6000000,
	 "SIGNER_UNBOUND_PER_MINUTE", NULL, 0,
	 "refill rate of signer_unbound_burst; requests over it are counted, not answered"},
	{"signer_threads", CONFIG_INT, CFG(signer_threads), "0", 0, 256, "SIGNER_THREADS", NULL, 0,
	 "threads that run the request crypto (verify, decrypt, sign, encrypt); 1 = the event "
	 "loop's own thread, no workers; 0 = one per CPU this process may run on"},
};

#define CONFIG_N (sizeof(config_table) / sizeof(config_table[0]))

/* The schema table and its length. */
const struct config_entry *config_schema(size_t *n)
{
	*n = CONFIG_N;
	return config_table;
}

/* The field of cfg an entry describes. */
static void *config_field(struct config *cfg, const struct config_entry *e)
{
	return (char *)cfg + e->offset;
}

/* Fill cfg with the defaults. Returns 0, or -1 on ENOMEM. */
int config_init(struct config *cfg)
{
	struct diag d = {0};
	int rc = 0;

	*cfg = (struct config){0};
	for (size_t i = 0; i < CONFIG_N; i++)
		if (config_set_entry(cfg, &config_table[i], config_table[i].def, "default", 0, 0,
				     &d) != 0)
			rc = -1;
	diag_clear(&d);
	return rc;
}

/* Release every string of cfg. */
void config_free(struct config *cfg)
{
	for (size_t i = 0; i < CONFIG_N; i++) {
		void *f = config_field(cfg, &config_table[i]);
		if (config_table[i].type == CONFIG_LIST)
			config_list_free(f);
		else if (config_table[i].type != CONFIG_INT)
			config_str_free(&config_table[i], f);
	}
}

/* Free a string setting, wiping it first if the entry is a secret; *p is NULL after. */
static void config_str_free(const struct config_entry *e, char **p)
{
	if (*p != NULL && (e->flags & CONFIG_SECRET) != 0)
		OPENSSL_cleanse(*p, strlen(*p));
	free(*p);
	*p = NULL;
}

/* The schema row of name (underscores or dashes), or NULL. */
const struct config_entry *config_find(const char *name)
{
	for (size_t i = 0; i < CONFIG_N; i++) {
		const char *a = config_table[i].name, *b = name;
		while (*a != '\0' && (*a == *b || (*a == '_' && *b == '-'))) {
			a++;
			b++;
		}
		if (*a == '\0' && *b == '\0')
			return &config_table[i];
	}
	return NULL;
}

/* Set the setting called name from text. Returns 0, or -1 with a finding. */
int config_set(struct config *cfg, const char *name, const char *text, const char *origin,
	       unsigned line, unsigned col, struct diag *d)
{
	const struct config_entry *e = config_find(name);

	if (e == NULL) {
		diag_add(d, DIAG_ERROR, origin, line, col, "unknown setting '%s'", name);
		return -1;
	}
	if (config_env_only(e, origin, line, col, d) != 0)
		return -1;
	return config_set_entry(cfg, e, text, origin, line, col, d);
}

/* Refuse a flag or file key for an environment-only setting. 0, or -1 with a finding. */
static int config_env_only(const struct config_entry *e, const char *origin, unsigned line,
			   unsigned col, struct diag *d)
{
	if ((e->flags & CONFIG_ENV_ONLY) == 0)
		return 0;
	diag_add(d, DIAG_ERROR, origin, line, col,
		 "%s: may only be set by the environment variable %s", e->name, e->env);
	return -1;
}

/* Run cfg->check on one value of a CONFIG_CHECKED entry (a secret is not echoed). 0 or -1. */
static int config_check(const struct config *cfg, const struct config_entry *e, const char *value,
			const char *origin, unsigned line, unsigned col, struct diag *d)
{
	const char *why;

	if ((e->flags & CONFIG_CHECKED) == 0 || cfg->check == NULL)
		return 0;
	why = cfg->check(e, value);
	if (why == NULL)
		return 0;
	diag_add(d, DIAG_ERROR, origin, line, col, "%s: '%s' %s", e->name,
		 (e->flags & CONFIG_SECRET) != 0 ? "(secret)" : value, why);
	return -1;
}

/* Parse an integer setting within its bounds. 0, or -1 with a finding. */
static int config_parse_int(int64_t *out, const struct config_entry *e, const char *text,
			    const char *origin, unsigned line, unsigned col, struct diag *d)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0') {
		diag_add(d, DIAG_ERROR, origin, line, col, "%s: '%s' is not an integer", e->name,
			 text);
		return -1;
	}
	if (v < e->min || v > e->max) {
		diag_add(d, DIAG_ERROR, origin, line, col,
			 "%s: %lld is out of range [%" PRId64 ", %" PRId64 "]", e->name, v, e->min,
			 e->max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Check text against the entry's choices. 0, or -1 with a finding. */
static int config_check_enum(const struct config_entry *e, const char *text, const char *origin,
			     unsigned line, unsigned col, struct diag *d)
{
	for (const char *const *c = e->choices; *c != NULL; c++)
		if (strcmp(*c, text) == 0)
			return 0;
	diag_add(d, DIAG_ERROR, origin, line, col, "%s: '%s' is not one of the allowed values",
		 e->name, text);
	return -1;
}

/* Store text into the entry's field of cfg, validated by type. */
static int config_set_entry(struct config *cfg, const struct config_entry *e, const char *text,
			    const char *origin, unsigned line, unsigned col, struct diag *d)
{
	void *f = config_field(cfg, e);
	char *copy;

	switch (e->type) {
	case CONFIG_INT:
		return config_parse_int(f, e, text, origin, line, col, d);
	case CONFIG_LIST:
		if (config_set_list(f, text) != 0) {
			diag_add(d, DIAG_ERROR, origin, line, col, "%s: out of memory", e->name);
			return -1;
		}
		for (size_t i = 0, n = ((struct config_list *)f)->n; i < n; i++)
			if (config_check(cfg, e, ((struct config_list *)f)->v[i], origin, line, col,
					 d) != 0)
				return -1;
		return 0;
	case CONFIG_ENUM:
		if (config_check_enum(e, text, origin, line, col, d) != 0)
			return -1;
		break;
	case CONFIG_STR:
		if (config_check(cfg, e, text, origin, line, col, d) != 0)
			return -1;
		break;
	}
	copy = strdup(text);
	if (copy == NULL) {
		diag_add(d, DIAG_ERROR, origin, line, col, "%s: out of memory", e->name);
		return -1;
	}
	config_str_free(e, f);
	*(char **)f = copy;
	return 0;
}

/* Append s[0..len) to a list, trimmed of blanks; empty items are skipped. */
static int config_list_push(struct config_list *l, const char *s, size_t len)
{
	char **v;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return 0;
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	l->v = v;
	l->v[l->n] = strndup(s, len);
	if (l->v[l->n] == NULL)
		return -1;
	l->n++;
	return 0;
}

/* Replace a list with the comma-separated items of text. */
static int config_set_list(struct config_list *l, const char *text)
{
	const char *p = text;

	config_list_free(l);
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (config_list_push(l, p, len) != 0)
			return -1;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* Release a list. */
static void config_list_free(struct config_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Apply one YAML value to an entry; returns the number of errors. */
static size_t config_load_value(struct config *cfg, const struct config_entry *e,
				yaml_document_t *doc, yaml_node_t *v, const char *file,
				struct diag *d)
{
	struct config_list *l = config_field(cfg, e);

	if (e->type == CONFIG_LIST && v->type == YAML_SEQUENCE_NODE) {
		config_list_free(l);
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *item = yaml_document_get_node(doc, *it);
			const char *s = ydoc_scalar(item);
			if (s == NULL) {
				diag_add(d, DIAG_ERROR, file, ydoc_line(item), ydoc_col(item),
					 "%s: each item must be a string, not a %s", e->name,
					 ydoc_type_name(item));
				return 1;
			}
			size_t had = l->n;

			if (config_list_push(l, s, strlen(s)) != 0) {
				diag_add(d, DIAG_ERROR, file, ydoc_line(item), ydoc_col(item),
					 "%s: out of memory", e->name);
				return 1;
			}
			if (l->n > had && config_check(cfg, e, l->v[had], file, ydoc_line(item),
						       ydoc_col(item), d) != 0)
				return 1;
		}
		return 0;
	}
	if (ydoc_scalar(v) == NULL) {
		diag_add(d, DIAG_ERROR, file, ydoc_line(v), ydoc_col(v),
			 "%s: expected %s, not a %s", e->name, config_type_name(e),
			 ydoc_type_name(v));
		return 1;
	}
	return config_set_entry(cfg, e, ydoc_scalar(v), file, ydoc_line(v), ydoc_col(v), d) != 0;
}

/* Apply one "key: value" pair of a config file; seen[] catches repeats. Returns errors. */
static size_t config_load_pair(struct config *cfg, yaml_document_t *doc, yaml_node_pair_t *p,
			       const char *path, const yaml_node_t **seen, struct diag *d)
{
	yaml_node_t *k = yaml_document_get_node(doc, p->key);
	yaml_node_t *v = yaml_document_get_node(doc, p->value);
	const struct config_entry *e = ydoc_scalar(k) ? config_find(ydoc_scalar(k)) : NULL;
	size_t i;

	if (e == NULL) {
		diag_add(d, DIAG_ERROR, path, ydoc_line(k), ydoc_col(k), "unknown setting '%s'",
			 ydoc_scalar(k) ? ydoc_scalar(k) : "?");
		return 1;
	}
	if (config_env_only(e, path, ydoc_line(k), ydoc_col(k), d) != 0)
		return 1;
	i = (size_t)(e - config_table);
	if (seen[i] != NULL) {
		diag_add(d, DIAG_ERROR, path, ydoc_line(k), ydoc_col(k),
			 "%s: set twice (first at line %u)", e->name, ydoc_line(seen[i]));
		return 1;
	}
	seen[i] = k;
	return config_load_value(cfg, e, doc, v, path, d);
}

/* Apply a YAML file; findings go to d. Returns the number of errors. */
size_t config_load_file(struct config *cfg, const char *path, struct diag *d)
{
	const yaml_node_t *seen[CONFIG_N] = {0};
	struct ydoc_file yf;
	yaml_node_t *root;
	size_t errors = 0;

	if (ydoc_load_file(&yf, path, d) != 0)
		return 1;
	root = yf.n > 0 ? ydoc_root(&yf.docs[0]) : NULL;
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		diag_add(d, DIAG_ERROR, path, root ? ydoc_line(root) : 1, root ? ydoc_col(root) : 1,
			 "a config file is a mapping of setting: value");
		ydoc_free(&yf);
		return 1;
	}
	if (yf.n > 1 && ydoc_root(&yf.docs[1]) != NULL) {
		diag_add(d, DIAG_ERROR, path, ydoc_line(ydoc_root(&yf.docs[1])),
			 ydoc_col(ydoc_root(&yf.docs[1])), "a config file holds one YAML document");
		errors++;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++)
		errors += config_load_pair(cfg, &yf.docs[0], p, path, seen, d);
	ydoc_free(&yf);
	return errors;
}

/* Apply the environment variables of the schema; returns the number of errors. */
size_t config_apply_env(struct config *cfg, const struct env *e, struct diag *d)
{
	char origin[96];
	size_t errors = 0;

	for (size_t i = 0; i < CONFIG_N; i++) {
		const char *v = config_table[i].env ? env_get(e, config_table[i].env) : NULL;
		if (v == NULL)
			continue;
		snprintf(origin, sizeof(origin), "env %s", config_table[i].env);
		errors += config_set_entry(cfg, &config_table[i], v, origin, 0, 0, d) != 0;
	}
	return errors;
}

/* A word for the entry's type in messages and docs. */
static const char *config_type_name(const struct config_entry *e)
{
	static const char *const names[] = {
		[CONFIG_STR] = "string",
		[CONFIG_INT] = "integer",
		[CONFIG_ENUM] = "choice",
		[CONFIG_LIST] = "list",
	};
	return names[e->type];
}

/* Print the flag spelling of a setting name (dashes for underscores). */
static void config_print_flag(FILE *out, const char *name)
{
	for (const char *p = name; *p != '\0'; p++)
		fputc(*p == '_' ? '-' : *p, out);
}

/* Print the allowed values or range of an entry, choices joined by sep. */
static void config_print_range(FILE *out, const struct config_entry *e, const char *sep)
{
	if (e->type == CONFIG_INT)
		fprintf(out, "%" PRId64 "..%" PRId64, e->min, e->max);
	else if (e->type == CONFIG_ENUM)
		for (const char *const *c = e->choices; *c != NULL; c++)
			fprintf(out, "%s%s", *c, c[1] != NULL ? sep : "");
	else
		fputs(config_type_name(e), out);
}

/* The note a row's flags add to its help text, or "". */
static const char *config_note(const struct config_entry *e)
{
	if ((e->flags & CONFIG_SECRET) != 0)
		return " (secret: never logged or shown)";
	return "";
}

/* Print how a setting is given: "--flag <range>", or "env VAR <range>" if env-only. */
static void config_print_name(FILE *out, const struct config_entry *e)
{
	if ((e->flags & CONFIG_ENV_ONLY) != 0) {
		fprintf(out, "  %s=<", e->env);
	} else {
		fputs("  --", out);
		config_print_flag(out, e->name);
		fputs(" <", out);
	}
	config_print_range(out, e, "|");
	fputs(">\n", out);
}

/* Print the flags (and environment-only settings) of the schema for --help. */
void config_print_help(FILE *out)
{
	for (size_t i = 0; i < CONFIG_N; i++) {
		const struct config_entry *e = &config_table[i];

		config_print_name(out, e);
		if ((e->flags & CONFIG_ENV_ONLY) != 0)
			fprintf(out, "      %s%s (environment only, no flag or file key)\n",
				e->help, config_note(e));
		else
			fprintf(out, "      %s%s (env %s, default \"%s\")\n", e->help,
				config_note(e), e->env ? e->env : "-", e->def);
	}
}

/* Print the schema as the Markdown reference doc/configuration.md. */
void config_print_markdown(FILE *out)
{
	fputs("# keycastd configuration reference\n\n"
	      "Generated from the schema table in `src/core/config.c` by\n"
	      "`keycastd config docs`; do not edit by hand.\n\n"
	      "Precedence, lowest first: default, config file (`--config FILE`, YAML\n"
	      "mapping of `setting: value`), environment variable, command-line flag.\n"
	      "Lists are comma-separated in the environment and on the command line,\n"
	      "and may be a YAML sequence in the file. A bad value stops `keycastd serve`\n"
	      "with exit code 2 and an error naming `file:line:col` or the variable.\n"
	      "A setting marked *environment only* has no flag and no file key.\n\n"
	      "| setting | flag | env | type | default | meaning |\n"
	      "|---|---|---|---|---|---|\n",
	      out);
	for (size_t i = 0; i < CONFIG_N; i++) {
		const struct config_entry *e = &config_table[i];
		fprintf(out, "| `%s` | ", e->name);
		if ((e->flags & CONFIG_ENV_ONLY) != 0) {
			fputs("*environment only*", out);
		} else {
			fputs("`--", out);
			config_print_flag(out, e->name);
			fputc('`', out);
		}
		fprintf(out, " | `%s` | ", e->env ? e->env : "-");
		config_print_range(out, e, " \\| ");
		fprintf(out, " | %s%s%s | %s%s |\n", *e->def ? "`" : "",
			*e->def ? e->def : "(empty)", *e->def ? "`" : "", e->help, config_note(e));
	}
}

/* Print the effective settings, secrets redacted, as "name = value". */
void config_print(const struct config *cfg, FILE *out)
{
	for (size_t i = 0; i < CONFIG_N; i++) {
		const struct config_entry *e = &config_table[i];
		const void *f = (const char *)cfg + e->offset;
		fprintf(out, "%s = ", e->name);
		if (e->type == CONFIG_INT)
			fprintf(out, "%" PRId64 "\n", *(const int64_t *)f);
		else if (e->type == CONFIG_LIST) {
			const struct config_list *l = f;
			for (size_t j = 0; j < l->n; j++)
				fprintf(out, "%s%s", l->v[j], j + 1 < l->n ? "," : "");
			fputc('\n', out);
		} else if ((e->flags & CONFIG_SECRET) != 0 && **(char *const *)f != '\0')
			fputs("(set, redacted)\n", out);
		else
			fprintf(out, "%s\n", *(char *const *)f);
	}
}
