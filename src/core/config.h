/*
 * config.h - the daemon's configuration, driven by one schema table.
 *
 * Each setting has a name, a type, a default, bounds, an environment
 * variable and a help text in config.c's table; that table drives the
 * YAML config file, the environment, the command-line flags, validation,
 * `--help` and doc/configuration.md. Precedence, lowest first: default,
 * file (--config), environment, flags.
 */
#ifndef KC_CONFIG_H
#define KC_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct config_entry;
struct diag;
struct env;

/* A list of strings (relay URLs). */
struct config_list {
	char **v; /* owned strings */
	size_t n;
};

/* Every setting of the daemon. Strings are owned, never NULL after init. */
struct config {
	char *log_level;		   /* debug | info | warn | error */
	char *log_format;		   /* auto | json | text */
	char *listen_addr;		   /* HTTP listen address */
	int64_t port;			   /* HTTP port of the API; 0 picks a free one */
	int64_t probe_port;		   /* HTTP port of probes and metrics; 0: a free one */
	char *plan;			   /* shutdown plan file; "" = built-in default */
	char *instance_id;		   /* this replica's name in claims and logs */
	char *database_url;		   /* libpq connection string (secret) */
	int64_t db_pool_size;		   /* connections in the pool */
	int64_t db_query_timeout_ms;	   /* per-query timeout */
	int64_t db_connect_timeout_ms;	   /* a connection attempt gives up after this */
	int64_t db_statement_timeout_ms;   /* admin commands: per statement; 0 = none */
	int64_t db_migrate_lock_ms;	   /* another's migration lock: wait at most */
	int64_t db_health_interval_ms;	   /* serve: readiness health query period */
	int64_t db_health_timeout_ms;	   /* serve: unanswered this long = not ready */
	char *master_key;		   /* MASTER_KEY, hex (secret, env only; shown redacted) */
	char *master_key_path;		   /* file with the 32-byte master key */
	int64_t master_key_allow_shared;   /* 1: accept a key file others may read (warned) */
	struct config_list bunker_relays;  /* relays the signer listens on */
	int64_t http_max_body_bytes;	   /* request body limit */
	int64_t http_max_body_total_bytes; /* request bytes buffered per listener at most */
	int64_t http_timeout_ms;	   /* per-connection read/write timeout */
	int64_t http_max_connections;	   /* open API connections at most */
	int64_t http_max_conn_requests;	   /* requests per connection, then close; 0 = no cap */
	int64_t api_max_inflight;	   /* signing API requests being handled at most */
	int64_t relay_publish_timeout_ms;  /* wait for relay OK per publish */
	char *relay_ca_file;		   /* extra trusted CAs (PEM) for wss:// relays */
	int64_t relay_write_timeout_ms;	   /* queued bytes unwritten this long drop a relay */
	int64_t relay_max_pending_bytes;   /* bytes queued per relay at most */
	int64_t signer_max_inflight;	   /* claimed, unfinished requests at most */
	int64_t signer_backlog;		   /* request events kept while full; 0 = none */
	int64_t signer_reload_ms;	   /* serving set generation poll */
	int64_t signer_unbound_burst;	   /* error replies to unbound clients per bunker key */
	int64_t signer_unbound_per_minute; /* their refill rate */
	int64_t signer_threads;		   /* request crypto threads; 0 = one per CPU */
	/* Checker of CONFIG_CHECKED values, set by the caller after config_init; NULL = none. */
	const char *(*check)(const struct config_entry *e, const char *value);
};

/* Types a setting may have. */
enum config_type {
	CONFIG_STR,  /* any string */
	CONFIG_INT,  /* integer within [min, max] */
	CONFIG_ENUM, /* one of choices */
	CONFIG_LIST, /* comma-separated in env/flags, a sequence in YAML */
};

/* Flags of a schema row. */
enum config_flag {
	CONFIG_SECRET = 1u << 0,   /* wiped on free, redacted when shown, never logged */
	CONFIG_ENV_ONLY = 1u << 1, /* set only by its environment variable: no flag, no file key */
	CONFIG_CHECKED = 1u << 2,  /* each value (list item) goes through cfg->check */
};

/* One row of the schema table. */
struct config_entry {
	const char *name; /* key in YAML, --flag with '-' for '_' */
	enum config_type type;
	size_t offset;		    /* of the field in struct config */
	const char *def;	    /* default, as text */
	int64_t min, max;	    /* CONFIG_INT bounds */
	const char *env;	    /* environment variable, or NULL */
	const char *const *choices; /* CONFIG_ENUM values, NULL-terminated */
	unsigned flags;		    /* enum config_flag bits */
	const char *help;	    /* one line */
};

/* The schema table and its length. */
const struct config_entry *config_schema(size_t *n);

/* Fill cfg with the defaults. Returns 0, or -1 on ENOMEM. */
int config_init(struct config *cfg) __attribute__((warn_unused_result));

/* Release every string of cfg. */
void config_free(struct config *cfg);

/* Apply a YAML file; findings go to d. Returns the number of errors. */
size_t config_load_file(struct config *cfg, const char *path, struct diag *d);

/* Apply the environment variables of the schema; returns the number of errors. */
size_t config_apply_env(struct config *cfg, const struct env *e, struct diag *d);

/*
 * Set the setting called name (or its flag spelling) from text, reporting
 * problems against origin/line/col. Returns 0, or -1 with a finding in d.
 */
int config_set(struct config *cfg, const char *name, const char *text, const char *origin,
	       unsigned line, unsigned col, struct diag *d);

/* The schema row of name (underscores or dashes), or NULL. */
const struct config_entry *config_find(const char *name);

/* Print the flags of the schema for --help. */
void config_print_help(FILE *out);

/* Print the schema as the Markdown reference doc/configuration.md. */
void config_print_markdown(FILE *out);

/* Print the effective settings, secrets redacted, as "name = value". */
void config_print(const struct config *cfg, FILE *out);

#endif /* KC_CONFIG_H */
