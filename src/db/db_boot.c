/*
 * db_boot.c - the database side of `serve` start, behind db_boot.h: the
 * blocking half (on its own thread, or inline for db_boot), the hand-off
 * through a pipe, and the loop half.
 */
#include "db/db_boot.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/env.h"
#include "core/log.h"
#include "core/secmem.h"
#include "db/db_admin.h"
#include "db/db_health.h"
#include "db/db_keycheck.h"
#include "db/db_migrate.h"
#include "db/db_pool.h"
#include "db/db_seal.h"
#include "db/db_redact.h"
#include "db/db_store.h"
#include "db/db_sync.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A boot: its inputs (copied: the thread borrows nothing), its result, its thread. */
struct db_boot {
	char *url;	    /* DATABASE_URL (may hold a password: wiped) */
	char *key_path;	    /* master_key_path */
	unsigned key_flags; /* enum db_master_key_flag */
	struct env env;	    /* the caller's overlay (MASTER_KEY wiped), then the process env */
	struct db_sync_limits lim; /* connect and statement timeouts */
	int64_t lock_timeout_ms;   /* db_migrate_lock_timeout_ms */
	struct db_master_key *mk;  /* the key loaded, on secmem pages; NULL once wiped */
	int rc;			   /* the blocking half's 0, DB_BOOT_CONFIG or DB_BOOT_FAIL */
	char err[512];		   /* why, when rc is not 0 */
	pthread_mutex_t lock;	   /* guards finished and abandoned */
	pthread_t thread;	   /* the blocking half, while threaded */
	bool threaded;		   /* a thread runs or ran, not joined nor detached yet */
	bool finished;		   /* the blocking half has returned */
	bool abandoned;		   /* freed while running: the thread frees b */
	int pipe[2];		   /* the thread writes one byte once finished */
	struct event *ev;	   /* reads it on the loop */
	db_boot_done_fn done;	   /* called on the loop once the thread has finished */
	void *arg;		   /* done's argument */
};

static struct db_boot *db_boot_new(const struct config *cfg, const struct env *env);
static void db_boot_destroy(struct db_boot *b);
static void db_boot_wipe_key(struct db_boot *b);
static int db_boot_blocking(struct db_boot *b);
static void *db_boot_main(void *arg);
static void db_boot_on_result(evutil_socket_t fd, short what, void *arg);
static int db_boot_loop_half(struct db_handle *h, struct event_base *base, struct clock *clk,
			     const struct config *cfg, const struct db_master_key *mk,
			     int64_t close_timeout_ms, char *err, size_t errlen);
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
	char why[400];

	if (opts != NULL) {
		PQconninfoFree(opts);
		return true;
	}
	db_redact(why, sizeof(why), msg != NULL ? msg : "out of memory", url);
	snprintf(err, errlen, "DATABASE_URL is not a valid connection string: %s", why);
	PQfreemem(msg);
	return false;
}

/* A boot with copies of what its blocking half needs; NULL when out of memory. */
static struct db_boot *db_boot_new(const struct config *cfg, const struct env *env)
{
	struct db_boot *b = calloc(1, sizeof(*b));
	bool ok;

	if (b == NULL)
		return NULL;
	b->pipe[0] = b->pipe[1] = -1;
	pthread_mutex_init(&b->lock, NULL);
	env_init(&b->env, env->use_process);
	ok = (b->url = strdup(cfg->database_url)) != NULL &&
	     (b->key_path = strdup(cfg->master_key_path)) != NULL &&
	     (b->mk = secmem_alloc(sizeof(*b->mk))) != NULL;
	for (size_t i = 0; ok && i < env->n; i++)
		ok = env_put(&b->env, env->pairs[i]) == 0;
	if (!ok) {
		db_boot_destroy(b);
		return NULL;
	}
	b->key_flags = cfg->master_key_allow_shared ? DB_MASTER_KEY_ALLOW_SHARED : 0;
	b->lim.connect_timeout_ms = cfg->db_connect_timeout_ms;
	b->lim.statement_timeout_ms = cfg->db_statement_timeout_ms;
	b->lock_timeout_ms = cfg->db_migrate_lock_ms;
	b->rc = DB_BOOT_FAIL;
	snprintf(b->err, sizeof(b->err), "the database boot has not run");
	return b;
}

/* Wipe the master key b loaded (if any). */
static void db_boot_wipe_key(struct db_boot *b)
{
	secmem_free(b->mk, sizeof(*b->mk));
	b->mk = NULL;
}

/* Wipe and free everything b holds; no thread refers to it any more. */
static void db_boot_destroy(struct db_boot *b)
{
	db_boot_wipe_key(b);
	if (b->url != NULL)
		OPENSSL_cleanse(b->url, strlen(b->url));
	free(b->url);
	free(b->key_path);
	for (size_t i = 0; i < b->env.n; i++)
		OPENSSL_cleanse(b->env.pairs[i], strlen(b->env.pairs[i]));
	env_clear(&b->env);
	if (b->ev != NULL)
		event_free(b->ev);
	for (int i = 0; i < 2; i++)
		if (b->pipe[i] >= 0)
			close(b->pipe[i]);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/*
 * The blocking half: master key, URL check, one connection for the
 * migrations and the key check. 0, or DB_BOOT_CONFIG / DB_BOOT_FAIL with
 * a message in b->err.
 */
static int db_boot_blocking(struct db_boot *b)
{
	char *err = b->err;
	size_t errlen = sizeof(b->err);
	PGconn *conn;
	enum db_keycheck_result kc;
	int applied = 0, rc = DB_BOOT_FAIL;

	if (db_master_key_load(b->mk, &b->env, b->key_path, b->key_flags, err, errlen) != 0 ||
	    !db_boot_url_parses(b->url, err, errlen))
		return DB_BOOT_CONFIG;
	conn = db_sync_connect_limited(b->url, &b->lim, err, errlen);
	if (conn == NULL)
		return DB_BOOT_FAIL;
	if (db_migrate_run(conn, b->lock_timeout_ms, &applied, err, errlen) != 0)
		goto out;
	log_info("db", "database schema ready", log_int("version", db_migrate_latest()),
		 log_int("applied", applied));
	kc = db_keycheck(conn, b->mk, DB_ADMIN_KEY_VERSION, err, errlen);
	if (kc == DB_KEYCHECK_OK)
		rc = 0;
	else if (kc == DB_KEYCHECK_MISMATCH)
		rc = DB_BOOT_CONFIG;
out:
	PQfinish(conn);
	return rc;
}

/* The boot thread: the blocking half, then one byte to the loop (or, abandoned, free b). */
static void *db_boot_main(void *arg)
{
	struct db_boot *b = arg;
	int rc = db_boot_blocking(b);
	bool abandoned;

	pthread_mutex_lock(&b->lock);
	b->rc = rc;
	b->finished = true;
	abandoned = b->abandoned;
	if (!abandoned && write(b->pipe[1], "", 1) != 1) /* empty pipe: cannot be full */
		log_error("db", "cannot hand the database boot's result to the event loop",
			  log_int("errno", errno));
	pthread_mutex_unlock(&b->lock);
	if (abandoned)
		db_boot_destroy(b); /* nobody else refers to b any more */
	return NULL;
}

/* On the loop: the thread has finished; join it, tell the owner, wipe the key. */
static void db_boot_on_result(evutil_socket_t fd, short what, void *arg)
{
	struct db_boot *b = arg;
	char byte;

	(void)what;
	if (read(fd, &byte, 1) != 1)
		log_debug("db", "the boot's pipe was readable but empty");
	pthread_join(b->thread, NULL); /* it is past its write: a moment at most */
	b->threaded = false;
	b->done(b->arg);
	db_boot_wipe_key(b); /* used, or not to be used: a boot ended after shutdown began */
}

/* Start the blocking half on a thread of its own, all signals blocked. */
int db_boot_start(struct db_boot **out, struct event_base *base, const struct config *cfg,
		  const struct env *env, db_boot_done_fn done, void *arg, char *err, size_t errlen)
{
	struct db_boot *b = db_boot_new(cfg, env);
	sigset_t all, old;
	int rc;

	*out = NULL;
	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	b->done = done;
	b->arg = arg;
	if (pipe2(b->pipe, O_NONBLOCK | O_CLOEXEC) != 0 ||
	    (b->ev = event_new(base, b->pipe[0], EV_READ, db_boot_on_result, b)) == NULL ||
	    event_add(b->ev, NULL) != 0) {
		snprintf(err, errlen, "cannot set up the database boot's pipe: %s",
			 strerror(errno));
		goto fail;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* signals go to the loop thread only */
	rc = pthread_create(&b->thread, NULL, db_boot_main, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the database boot's thread: %s", strerror(rc));
		goto fail;
	}
	b->threaded = true;
	*out = b;
	return 0;
fail:
	db_boot_destroy(b);
	return -1;
}

/* Whether the thread has not finished the blocking half yet. */
bool db_boot_running(struct db_boot *b)
{
	bool running;

	pthread_mutex_lock(&b->lock);
	running = b->threaded && !b->finished;
	pthread_mutex_unlock(&b->lock);
	return running;
}

/* The loop half: pool, store, health check and janitor with mk. 0 or DB_BOOT_FAIL. */
static int db_boot_loop_half(struct db_handle *h, struct event_base *base, struct clock *clk,
			     const struct config *cfg, const struct db_master_key *mk,
			     int64_t close_timeout_ms, char *err, size_t errlen)
{
	struct db_pool_config pc;
	char host[256] = "keycastd";

	if (*cfg->instance_id == '\0' && gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "keycastd");
	db_boot_pool_config(&pc, cfg, close_timeout_ms);
	if (db_pool_new(&h->pool, base, clk, &pc, err, errlen) != 0)
		return DB_BOOT_FAIL;
	if (db_store_new(&h->store, h->pool, mk,
			 *cfg->instance_id != '\0' ? cfg->instance_id : host) != 0 ||
	    (h->janitor = clock_timer_new(clk, db_boot_sweep, h)) == NULL ||
	    db_health_new(&h->health, h->pool, clk, cfg->db_health_interval_ms,
			  cfg->db_health_timeout_ms) != 0) {
		snprintf(err, errlen, "out of memory");
		db_handle_free(h);
		return DB_BOOT_FAIL;
	}
	clock_timer_start(h->janitor, DB_CLAIMS_SWEEP_MS);
	return 0;
}

/* The blocking half's failure, or the loop half; the key is wiped either way. */
int db_boot_finish(struct db_boot *b, struct db_handle *h, struct event_base *base,
		   struct clock *clk, const struct config *cfg, int64_t close_timeout_ms, char *err,
		   size_t errlen)
{
	int rc = b->rc;

	*h = (struct db_handle){0};
	if (rc == 0 && b->mk == NULL) {
		rc = DB_BOOT_FAIL;
		snprintf(b->err, sizeof(b->err), "the database boot's result was used already");
	}
	if (rc != 0)
		snprintf(err, errlen, "%s", b->err);
	else
		rc = db_boot_loop_half(h, base, clk, cfg, b->mk, close_timeout_ms, err, errlen);
	db_boot_wipe_key(b);
	return rc;
}

/* Free b now, or leave it to its thread if that still runs. */
void db_boot_free(struct db_boot *b)
{
	pthread_t thread;
	bool running;

	if (b == NULL)
		return;
	if (b->ev != NULL)
		event_free(b->ev);
	b->ev = NULL;
	pthread_mutex_lock(&b->lock);
	thread = b->thread; /* once unlocked, an abandoned b may be gone */
	running = b->threaded && !b->finished;
	b->abandoned = running; /* from now on the thread writes nothing to the pipe */
	if (running) {		/* under the lock: the thread's destroy must not close it too */
		close(b->pipe[0]);
		b->pipe[0] = -1;
	}
	pthread_mutex_unlock(&b->lock);
	if (running) {
		pthread_detach(thread); /* it frees b when the blocking half returns */
		return;
	}
	if (b->threaded)
		pthread_join(b->thread, NULL); /* finished: past its write */
	db_boot_destroy(b);
}

/* Both halves on the caller's thread. */
int db_boot(struct db_handle *h, struct event_base *base, struct clock *clk,
	    const struct config *cfg, const struct env *env, int64_t close_timeout_ms, char *err,
	    size_t errlen)
{
	struct db_boot *b = db_boot_new(cfg, env);
	int rc;

	*h = (struct db_handle){0};
	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return DB_BOOT_FAIL;
	}
	b->rc = db_boot_blocking(b);
	b->finished = true;
	rc = db_boot_finish(b, h, base, clk, cfg, close_timeout_ms, err, errlen);
	db_boot_free(b);
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
