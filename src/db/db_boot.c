/*
 * db_boot.c - the database side of `serve` start, behind db_boot.h.
 */
#include "db/db_boot.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db_admin.h"
#include "db/db_health.h"
#include "db/db_keycheck.h"
#include "db/db_migrate.h"
#include "db/db_pool.h"
#include "db/db_seal.h"
#include "db/db_redact.h"
#include "db/db_store.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

static void db_boot_pool_config(struct db_pool_config *pc, const struct config *cfg,
				int64_t close_timeout_ms);
static void db_boot_sweep(void *arg);
static void db_boot_swept(void *arg, int result, const char *error);
static bool db_boot_url_parses(const char *url, char *err, size_t errlen);

/* Pool settings from the daemon's configuration. */
static void db_boot_pool_config(struct db_pool_config *pc, const struct config *cfg,
				int64_t close_timeout_ms)
{
	db_pool_config_default(pc);
	pc->conninfo = cfg->database_url;
	pc->size = (size_t)cfg->db_pool_size;
	pc->query_timeout_ms = cfg->db_query_timeout_ms;
	pc->acquire_timeout_ms = cfg->db_query_timeout_ms;
	pc->connect_timeout_ms = cfg->db_connect_timeout_ms;
	pc->close_timeout_ms = close_timeout_ms;
}

/* The sweep finished: log what it did. */
static void db_boot_swept(void *arg, int result, const char *error)
{
	(void)arg;
	if (result < 0)
		log_warn("db", "request claims sweep failed", log_str("error", error));
	else if (result > 0)
		log_debug("db", "expired request claims deleted", log_int("claims", result));
}

/* Janitor tick: delete expired claims, then re-arm, even after a failure (not once the pool
 * closes). */
static void db_boot_sweep(void *arg)
{
	struct db_handle *h = arg;

	if (db_pool_closing(h->pool))
		return;
	if (db_store_expire_claims(h->store, DB_CLAIMS_RETENTION_S, db_boot_swept, NULL) != 0)
		log_warn("db", "request claims sweep not started; retrying at the next tick",
			 log_ms("retry_in_ms", DB_CLAIMS_SWEEP_MS));
	clock_timer_start(h->janitor, DB_CLAIMS_SWEEP_MS);
}

/* Whether url is a connection string libpq can read; if not, why (redacted) in err. */
static bool db_boot_url_parses(const char *url, char *err, size_t errlen)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &msg);
	char why[512];

	if (opts != NULL) {
		PQconninfoFree(opts);
		return true;
	}
	db_redact(why, sizeof(why), msg != NULL ? msg : "out of memory", url);
	snprintf(err, errlen, "DATABASE_URL is not a valid connection string: %s", why);
	PQfreemem(msg);
	return false;
}

/* Master key, migrations, pool and store: 0, DB_BOOT_CONFIG or DB_BOOT_FAIL. */
int db_boot(struct db_handle *h, struct event_base *base, struct clock *clk,
	    const struct config *cfg, const struct env *env, int64_t close_timeout_ms, char *err,
	    size_t errlen)
{
	struct db_master_key mk;
	struct db_pool_config pc;
	char host[256] = "keycastd";
	enum db_keycheck_result kc;
	int applied = 0, rc = DB_BOOT_FAIL;

	*h = (struct db_handle){0};
	if (db_master_key_load(&mk, env, cfg->master_key_path,
			       cfg->master_key_allow_shared ? DB_MASTER_KEY_ALLOW_SHARED : 0, err,
			       errlen) != 0)
		return DB_BOOT_CONFIG;
	if (!db_boot_url_parses(cfg->database_url, err, errlen)) {
		rc = DB_BOOT_CONFIG;
		goto out;
	}
	if (db_migrate_url(cfg->database_url, &applied, err, errlen) != 0)
		goto out;
	log_info("db", "database schema ready", log_int("version", db_migrate_latest()),
		 log_int("applied", applied));
	kc = db_keycheck_url(cfg->database_url, &mk, DB_ADMIN_KEY_VERSION, err, errlen);
	if (kc != DB_KEYCHECK_OK) {
		rc = kc == DB_KEYCHECK_MISMATCH ? DB_BOOT_CONFIG : DB_BOOT_FAIL;
		goto out;
	}
	if (*cfg->instance_id == '\0' && gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "keycastd");
	db_boot_pool_config(&pc, cfg, close_timeout_ms);
	if (db_pool_new(&h->pool, base, clk, &pc, err, errlen) != 0)
		goto out;
	if (db_store_new(&h->store, h->pool, &mk,
			 *cfg->instance_id != '\0' ? cfg->instance_id : host) != 0 ||
	    (h->janitor = clock_timer_new(clk, db_boot_sweep, h)) == NULL ||
	    db_health_new(&h->health, h->pool, clk, cfg->db_health_interval_ms,
			  cfg->db_health_timeout_ms) != 0) {
		snprintf(err, errlen, "out of memory");
		db_handle_free(h);
		goto out;
	}
	clock_timer_start(h->janitor, DB_CLAIMS_SWEEP_MS);
	rc = 0;
out:
	db_master_key_wipe(&mk);
	return rc;
}

/* The margin less a tenth (at most DB_CLOSE_RESERVE_MAX_MS); never negative. */
int64_t db_boot_close_timeout(int64_t margin_ms)
{
	int64_t reserve = margin_ms / 10;

	if (margin_ms <= 0)
		return 0;
	return margin_ms - (reserve < DB_CLOSE_RESERVE_MAX_MS ? reserve : DB_CLOSE_RESERVE_MAX_MS);
}

/* Free the store and the pool. */
void db_handle_free(struct db_handle *h)
{
	clock_timer_free(h->janitor);
	db_pool_free(h->pool); /* fails what is queued: its store callbacks still find the store */
	db_store_free(h->store);
	db_health_free(h->health); /* after the pool: a question still out has been answered */
	*h = (struct db_handle){0};
}
