/*
 * test_db_store.c - migrations, the admin store and the signer's store
 * against a real PostgreSQL (KC_PG_URL, set by tests/integration/db_store.test;
 * without it every test skips): migrations twice and the newer-schema
 * refusal; the migration lock wait bounded; the boot inline and on its
 * thread (a boot freed while blocked frees itself); keys and authorizations round trip through
 * sealing; the serving set; a connect secret consumed by exactly one of many racing callers; a
 * request claimed by exactly one of many racing callers on two replicas;
 * tampered rows (swapped, flipped byte) and a wrong master key refused;
 * audit entries, one by one and in batches; the serving generation that
 * tells replicas to reload; authorizations revoked or expired within the
 * last 24 hours still served (flagged), older ones not; logout (unbind);
 * nostrconnect: an accepted authorization's sealed connect reply, claimed
 * by exactly one of two racing callers, released and claimed again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/diag.h"
#include "core/env.h"
#include "core/log.h"
#include "core/secret.h"
#include "db/db_admin.h"
#include "db/db_boot.h"
#include "nostr/hex.h"
#include "db/db_migrate.h"
#include "db/db_pool.h"
#include "db/db_seal.h"
#include "db/db_store.h"
#include "db/db_sync.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The test's loop, pool, store, admin connection and keys. */
struct fx {
	struct event_base *base;
	struct clock *clk;
	struct event *tick;
	struct db_pool *pool;
	struct db_store *store, *store2;
	PGconn *conn;
	struct db_master_key mk;
	struct nostr_seckey sk_a, sk_b, bunker_a, bunker_b;
	char pk_a[65], pk_b[65], bpk_a[65], bpk_b[65];
	int64_t authz_a;
};

/* Counts of store callback outcomes. */
struct tally {
	int calls, ones, zeros, errors;
	int last; /* the latest result */
};

/* Ticker: only wakes the loop. */
static void fx_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Count one store outcome. */
static void on_store(void *arg, int result, const char *error)
{
	struct tally *t = arg;

	(void)error;
	t->calls++;
	t->ones += result == 1;
	t->zeros += result == 0;
	t->errors += result < 0;
	t->last = result;
}

/* Receive a serving set. */
static void on_serving(void *arg, struct db_serving *set, const char *error)
{
	struct db_serving **out = arg;

	assert_null(error);
	*out = set;
}

/* Turn the loop until *calls reaches n or 20 s pass. */
static void run_calls(struct fx *f, const int *calls, int n)
{
	time_t end = time(NULL) + 20;

	while (*calls < n && time(NULL) <= end)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(*calls, n);
}

/* Load the serving set with store s (waits for it). */
static struct db_serving *load(struct fx *f, struct db_store *s)
{
	struct db_serving *set = NULL;
	time_t end = time(NULL) + 20;

	assert_int_equal(db_store_load_serving(s, on_serving, &set), 0);
	while (set == NULL && time(NULL) <= end)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_non_null(set);
	return set;
}

/* Run SQL on the admin connection. */
static void sql(struct fx *f, const char *text)
{
	char err[256];

	if (db_sync_command(f->conn, text, err, sizeof(err)) != 0)
		fail_msg("%s: %s", text, err);
}

/* A random secret and a made-up (unique) pubkey hex for it. */
static void random_key(struct nostr_seckey *sk, char *pk)
{
	unsigned char b[32];

	assert_int_equal(RAND_bytes(sk->b, 32), 1);
	assert_int_equal(RAND_bytes(b, 32), 1);
	hex_encode(pk, b, 32);
}

/* Group setup: loop, pool, stores, admin connection; skips without a server. */
static int setup(void **state)
{
	static struct fx f;
	struct timeval tv = {0, 50000};
	struct db_pool_config cfg;
	const char *url = getenv("KC_PG_URL");
	char err[256];

	*state = &f;
	if (url == NULL || *url == '\0')
		return 0;
	f.base = event_base_new();
	f.clk = clock_new_libevent(f.base);
	f.tick = event_new(f.base, -1, EV_PERSIST, fx_tick, NULL);
	if (f.tick == NULL || event_add(f.tick, &tv) != 0)
		return -1;
	db_pool_config_default(&cfg);
	cfg.conninfo = url;
	cfg.size = 4;
	f.conn = db_sync_connect(url, err, sizeof(err));
	if (f.conn == NULL || db_master_key_generate(&f.mk) != 0 ||
	    db_pool_new(&f.pool, f.base, f.clk, &cfg, err, sizeof(err)) != 0 ||
	    db_store_new(&f.store, f.pool, &f.mk, "replica-a") != 0 ||
	    db_store_new(&f.store2, f.pool, &f.mk, "replica-b") != 0)
		return -1;
	return 0;
}

/* Group teardown. */
static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->base == NULL)
		return 0;
	db_store_free(f->store);
	db_store_free(f->store2);
	db_pool_free(f->pool);
	PQfinish(f->conn);
	event_free(f->tick);
	clock_free(f->clk);
	event_base_free(f->base);
	db_master_key_wipe(&f->mk);
	return 0;
}

/* Skip when there is no server. */
static void need_pg(struct fx *f)
{
	if (f->conn == NULL)
		skip();
}

/* Migrations apply once; a second run finds nothing; status agrees. */
static void test_migrate_twice(void **state)
{
	struct fx *f = *state;
	struct db_schema_status st;
	int applied = -1;
	char err[256];

	need_pg(f);
	assert_int_equal(db_migrate_status(f->conn, &st, err, sizeof(err)), 0);
	assert_int_equal(st.current, 0);
	assert_int_equal(st.pending, (int)db_migrations_count);
	assert_int_equal(db_migrate_run(f->conn, 1000, &applied, err, sizeof(err)), 0);
	assert_int_equal(applied, (int)db_migrations_count);
	assert_int_equal(db_migrate_run(f->conn, 1000, &applied, err, sizeof(err)), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(db_migrate_status(f->conn, &st, err, sizeof(err)), 0);
	assert_int_equal(st.current, db_migrate_latest());
	assert_int_equal(st.pending, 0);
	assert_false(st.newer);
}

/* A database newer than the binary is refused with a clear message. */
static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	struct db_schema_status st;
	int applied = -1;
	char err[256];

	need_pg(f);
	sql(f, "INSERT INTO schema_version (version, name) VALUES (9999, '9999_future')");
	assert_int_equal(db_migrate_status(f->conn, &st, err, sizeof(err)), 0);
	assert_true(st.newer);
	assert_int_equal(db_migrate_run(f->conn, 1000, &applied, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "version 9999"));
	assert_non_null(strstr(err, "newer schema"));
	sql(f, "DELETE FROM schema_version WHERE version = 9999");
	assert_int_equal(db_migrate_run(f->conn, 1000, &applied, err, sizeof(err)), 0);
}

/* Keys and an authorization go in sealed and come back in the serving set. */
static void test_serving_round_trip(void **state)
{
	struct fx *f = *state;
	const char *relays[] = {"ws://127.0.0.1:7777", "wss://relay.example/\"q\""};
	struct secret cs = {0};
	struct db_admin_authz a = {.key = "alice",
				   .connect_secret = &cs,
				   .relays = relays,
				   .nrelays = 2,
				   .label = "phone"};
	struct db_serving *set;
	char err[256], pk[65];

	need_pg(f);
	assert_int_equal(secret_set(&cs, "s3cret", 6), 0);
	random_key(&f->sk_a, f->pk_a);
	random_key(&f->sk_b, f->pk_b);
	random_key(&f->bunker_a, f->bpk_a);
	assert_true(db_admin_key_add(f->conn, &f->mk, "alice", f->pk_a, &f->sk_a, err, 256) > 0);
	assert_true(db_admin_key_add(f->conn, &f->mk, "bob", f->pk_b, &f->sk_b, err, 256) > 0);
	assert_int_equal(db_admin_key_add(f->conn, &f->mk, "alice", f->pk_b, &f->sk_b, err, 256),
			 -1);
	a.bunker_pubkey = f->bpk_a;
	a.bunker_secret = &f->bunker_a;
	a.connect_secret = NULL; /* refused: every authorization has a connect secret */
	assert_int_equal(db_admin_authz_create(f->conn, &f->mk, &a, pk, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "needs a connect secret"));
	a.connect_secret = &cs;
	f->authz_a = db_admin_authz_create(f->conn, &f->mk, &a, pk, err, sizeof(err));
	assert_true(f->authz_a > 0);
	assert_string_equal(pk, f->pk_a);
	a.key = "nobody";
	assert_int_equal(db_admin_authz_create(f->conn, &f->mk, &a, pk, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no key named"));
	set = load(f, f->store);
	assert_int_equal(set->nkeys, 1); /* bob has no authorization */
	assert_int_equal(set->nauthz, 1);
	assert_int_equal(set->unseal_failures, 0);
	assert_string_equal(set->keys[0].pubkey, f->pk_a);
	assert_memory_equal(set->keys[0].secret.b, f->sk_a.b, 32);
	assert_memory_equal(set->authz[0].bunker_secret.b, f->bunker_a.b, 32);
	assert_string_equal(set->authz[0].bunker_pubkey, f->bpk_a);
	assert_int_equal(set->authz[0].nrelays, 2);
	assert_string_equal(set->authz[0].relays[1], relays[1]);
	assert_false(set->authz[0].secret_used);
	assert_true(db_secret_matches(set->authz[0].secret_hash, "s3cret"));
	assert_false(db_secret_matches(set->authz[0].secret_hash, "s3cres"));
	db_serving_free(set);
	secret_wipe(&cs);
}

/* Of many callers presenting the right secret, exactly one consumes it. */
static void test_consume_secret_race(void **state)
{
	struct fx *f = *state;
	char client[65];
	struct nostr_seckey dummy;
	struct tally wrong = {0}, race = {0};
	struct db_serving *set;

	need_pg(f);
	random_key(&dummy, client);
	assert_int_equal(
		db_store_consume_secret(f->store, f->authz_a, "guess", client, on_store, &wrong),
		0);
	run_calls(f, &wrong.calls, 1);
	assert_int_equal(wrong.zeros, 1);
	for (int i = 0; i < 20; i++)
		assert_int_equal(db_store_consume_secret(i % 2 ? f->store2 : f->store, f->authz_a,
							 "s3cret", client, on_store, &race),
				 0);
	run_calls(f, &race.calls, 20);
	assert_int_equal(race.ones, 1);
	assert_int_equal(race.zeros, 19);
	set = load(f, f->store);
	assert_true(set->authz[0].secret_used);
	assert_string_equal(set->authz[0].client_pubkey, client);
	db_serving_free(set);
}

/* Of many replicas claiming one request, exactly one wins; expiry drops claims. */
static void test_claim_race(void **state)
{
	struct fx *f = *state;
	const char *ev1 = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *ev2 = "2222222222222222222222222222222222222222222222222222222222222222";
	struct tally race = {0}, other = {0}, expired = {0};

	need_pg(f);
	for (int i = 0; i < 50; i++)
		assert_int_equal(
			db_store_claim(i % 2 ? f->store2 : f->store, ev1, 0, "", on_store, &race),
			0);
	assert_int_equal(db_store_claim(f->store, ev2, 0, "", on_store, &other), 0);
	run_calls(f, &race.calls, 50);
	run_calls(f, &other.calls, 1);
	assert_int_equal(race.ones, 1);
	assert_int_equal(race.zeros, 49);
	assert_int_equal(other.ones, 1);
	assert_int_equal(db_store_expire_claims(f->store, 3600, on_store, &expired), 0);
	run_calls(f, &expired.calls, 1);
	assert_int_equal(expired.zeros, 1); /* nothing is an hour old */
	sql(f, "UPDATE request_claims SET claimed_at = now() - interval '2 hours'");
	assert_int_equal(db_store_expire_claims(f->store, 3600, on_store, &expired), 0);
	run_calls(f, &expired.calls, 2);
	assert_int_equal(expired.errors, 0);
	assert_int_equal(expired.last, 2); /* both claims were two hours old */
	assert_int_equal(db_store_claim(f->store2, ev1, 0, "", on_store, &race), 0);
	run_calls(f, &race.calls, 51);
	assert_int_equal(race.ones, 2); /* an expired claim no longer blocks */
}

/* Swapped sealed values, a flipped byte and a wrong master key are all refused. */
static void test_tamper_detected(void **state)
{
	struct fx *f = *state;
	const char *relays[] = {"ws://127.0.0.1:7777"};
	struct secret cs = {0};
	struct db_admin_authz a = {
		.key = "bob", .connect_secret = &cs, .relays = relays, .nrelays = 1};
	struct db_master_key other;
	struct db_store *wrong;
	struct db_serving *set;
	char err[256], pk[65];

	need_pg(f);
	random_key(&f->bunker_b, f->bpk_b);
	a.bunker_pubkey = f->bpk_b;
	a.bunker_secret = &f->bunker_b;
	assert_int_equal(secret_set(&cs, "x", 1), 0);
	assert_true(db_admin_authz_create(f->conn, &f->mk, &a, pk, err, sizeof(err)) > 0);
	secret_wipe(&cs);
	set = load(f, f->store);
	assert_int_equal(set->nkeys, 2);
	assert_int_equal(set->unseal_failures, 0);
	db_serving_free(set);
	assert_int_equal(db_master_key_generate(&other), 0);
	assert_int_equal(db_store_new(&wrong, f->pool, &other, "x"), 0);
	set = load(f, wrong);
	assert_int_equal(set->nkeys, 0);
	assert_int_equal(set->unseal_failures, 2);
	db_serving_free(set);
	db_store_free(wrong);
	sql(f,
	    "UPDATE keys SET sealed_secret = s.v FROM (SELECT name, sealed_secret AS v FROM keys)"
	    " s WHERE s.name <> keys.name");
	set = load(f, f->store);
	assert_int_equal(set->nkeys, 0);
	assert_int_equal(set->unseal_failures, 2);
	db_serving_free(set);
	sql(f,
	    "UPDATE keys SET sealed_secret = s.v FROM (SELECT name, sealed_secret AS v FROM keys)"
	    " s WHERE s.name <> keys.name");
	sql(f, "UPDATE keys SET sealed_secret = set_byte(sealed_secret, 20,"
	       " get_byte(sealed_secret, 20) # 1) WHERE name = 'bob'");
	set = load(f, f->store);
	assert_int_equal(set->nkeys, 1);
	assert_string_equal(set->keys[0].pubkey, f->pk_a);
	assert_int_equal(set->unseal_failures, 1);
	db_serving_free(set);
	/* a sealed value one byte short, then one byte long: refused, never read past */
	sql(f, "UPDATE keys SET sealed_secret = substring(sealed_secret FROM 1 FOR"
	       " octet_length(sealed_secret) - 1) WHERE name = 'bob'");
	set = load(f, f->store);
	assert_int_equal(set->nkeys, 1);
	assert_int_equal(set->unseal_failures, 1);
	db_serving_free(set);
	sql(f,
	    "UPDATE keys SET sealed_secret = sealed_secret || '\\x0000'::bytea WHERE name = 'bob'");
	set = load(f, f->store);
	assert_int_equal(set->nkeys, 1);
	assert_int_equal(set->unseal_failures, 1);
	db_serving_free(set);
}

/* Audit entries are appended with no secret in them. */
static void test_audit(void **state)
{
	struct fx *f = *state;
	struct db_audit_entry e = {.authorization_id = f->authz_a,
				   .key_pubkey = f->pk_a,
				   .method = "sign_event",
				   .event_kind = 1,
				   .outcome = "ok"};
	struct tally t = {0};
	char err[256];
	PGresult *res;

	need_pg(f);
	assert_int_equal(db_store_audit(f->store, &e, on_store, &t), 0);
	e.outcome = "refused";
	e.event_kind = -1;
	e.detail = "method not allowed";
	assert_int_equal(db_store_audit(f->store2, &e, on_store, &t), 0);
	run_calls(f, &t.calls, 2);
	assert_int_equal(t.ones, 2);
	res = db_sync_exec(f->conn,
			   "SELECT count(*), count(event_kind), string_agg(instance_id, ','"
			   " ORDER BY instance_id) FROM audit_log",
			   0, NULL, err, sizeof(err));
	assert_non_null(res);
	assert_string_equal(PQgetvalue(res, 0, 0), "2");
	assert_string_equal(PQgetvalue(res, 0, 1), "1");
	assert_string_equal(PQgetvalue(res, 0, 2), "replica-a,replica-b");
	PQclear(res);
}

/* The authorization id of a serving set, or NULL if absent. */
static const struct db_serving_authz *find_authz(const struct db_serving *set, int64_t id)
{
	for (size_t i = 0; i < set->nauthz; i++)
		if (set->authz[i].id == id)
			return &set->authz[i];
	return NULL;
}

/* A generation read: -2 until it comes. */
static void on_generation(void *arg, int64_t generation, const char *error)
{
	(void)error;
	*(int64_t *)arg = generation;
}

/* The serving set's generation, read through the store (waits for it). */
static int64_t generation(struct fx *f)
{
	int64_t g = -2;
	time_t end = time(NULL) + 20;

	assert_int_equal(db_store_generation(f->store, on_generation, &g), 0);
	while (g == -2 && time(NULL) <= end)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_true(g > 0);
	return g;
}

/* A change to keys or authorizations moves the generation; claims, audit, lost races do not. */
static void test_serving_generation(void **state)
{
	struct fx *f = *state;
	struct db_audit_entry e = {.key_pubkey = f->pk_a, .method = "ping", .outcome = "ok"};
	struct tally t = {0};
	struct db_serving *set;
	int64_t g0;
	char err[256];

	need_pg(f);
	set = load(f, f->store);
	g0 = set->generation;
	assert_true(set->nauthz >= 1);
	db_serving_free(set);
	assert_int_equal(generation(f), g0);
	assert_int_equal(
		db_store_claim(f->store,
			       "5555555555555555555555555555555555555555555555555555555555555555",
			       0, "", on_store, &t),
		0);
	assert_int_equal(db_store_audit(f->store, &e, on_store, &t), 0);
	assert_int_equal(
		db_store_consume_secret(f->store, f->authz_a, "s3cret", f->pk_b, on_store, &t), 0);
	run_calls(f, &t.calls, 3);
	assert_int_equal(t.zeros, 1); /* the secret is spent: the race is lost */
	assert_int_equal(generation(f), g0);
	assert_int_equal(db_admin_authz_revoke(f->conn, f->authz_a, err, sizeof(err)), 1);
	assert_true(generation(f) > g0);
	set = load(f, f->store);
	assert_int_equal(set->generation, generation(f));
	assert_non_null(find_authz(set, f->authz_a)); /* revoked: still served, flagged */
	assert_true(find_authz(set, f->authz_a)->revoked);
	db_serving_free(set);
}

/* Put the fixture's master key into e as MASTER_KEY. */
static void put_master(struct fx *f, struct env *e)
{
	char line[16 + 2 * DB_MASTER_KEY_LEN] = "MASTER_KEY=";

	hex_encode(line + 11, f->mk.k, sizeof(f->mk.k));
	assert_int_equal(env_put(e, line), 0);
	OPENSSL_cleanse(line, sizeof(line));
}

/*
 * db_boot: master key from MASTER_KEY, migrations, the master key check
 * (another key than the rows' refused), pool and store; a newer schema
 * refused.
 */
static void test_boot(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct diag d = {0};
	struct env e;
	struct db_handle h;
	struct db_serving *set;
	char err[256];

	need_pg(f);
	assert_int_equal(config_init(&cfg), 0);
	assert_int_equal(config_set(&cfg, "database_url", getenv("KC_PG_URL"), "test", 0, 0, &d),
			 0);
	assert_int_equal(config_set(&cfg, "db_pool_size", "2", "test", 0, 0, &d), 0);
	env_init(&e, 0);
	assert_int_equal(db_boot(&h, f->base, f->clk, &cfg, &e, 1000, err, sizeof(err)),
			 DB_BOOT_CONFIG);
	assert_non_null(strstr(err, "no master key"));
	assert_null(h.pool);
	assert_int_equal(env_put(&e, "MASTER_KEY=00000000000000000000000000000000"
				     "000000000000000000000000000000ff"),
			 0);
	assert_int_equal(db_boot(&h, f->base, f->clk, &cfg, &e, 1000, err, sizeof(err)),
			 DB_BOOT_CONFIG);
	assert_non_null(strstr(err, "does not match the one this database was sealed with"));
	assert_null(h.pool);
	put_master(f, &e);
	assert_int_equal(db_boot(&h, f->base, f->clk, &cfg, &e, 1000, err, sizeof(err)), 0);
	assert_int_equal(db_pool_close_timeout(h.pool), 1000);
	set = load(f, h.store);
	assert_true(set->nkeys > 0); /* the rows' own master key */
	db_serving_free(set);
	db_handle_free(&h);
	sql(f, "INSERT INTO schema_version (version, name) VALUES (9999, '9999_future')");
	assert_int_equal(db_boot(&h, f->base, f->clk, &cfg, &e, 1000, err, sizeof(err)),
			 DB_BOOT_FAIL);
	assert_non_null(strstr(err, "refusing to use a newer schema"));
	assert_null(h.pool);
	sql(f, "DELETE FROM schema_version WHERE version = 9999");
	env_clear(&e);
	diag_clear(&d);
	config_free(&cfg);
}

/* The migration lock held by another session: the wait gives up, naming it; then it is taken. */
static void test_migrate_lock_bounded(void **state)
{
	struct fx *f = *state;
	PGconn *holder;
	int applied = -1;
	char err[512], pid[32];
	PGresult *res;

	need_pg(f);
	holder = db_sync_connect(getenv("KC_PG_URL"), err, sizeof(err));
	assert_non_null(holder);
	res = db_sync_exec(holder, "SELECT pg_advisory_lock(1801812323, 1), pg_backend_pid()", 0,
			   NULL, err, sizeof(err));
	assert_non_null(res);
	snprintf(pid, sizeof(pid), "pid %s ", PQgetvalue(res, 0, 1));
	PQclear(res);
	assert_int_equal(db_migrate_run(f->conn, 300, &applied, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "migration lock"));
	assert_non_null(strstr(err, pid));
	assert_non_null(strstr(err, "300 ms (db_migrate_lock_timeout_ms)"));
	PQfinish(holder); /* the session's end releases the lock */
	assert_int_equal(db_migrate_run(f->conn, 5000, &applied, err, sizeof(err)), 0);
	assert_int_equal(applied, 0);
}

/* An asynchronous boot under test: what its done needs and what it leaves. */
struct async_boot {
	struct fx *f;
	const struct config *cfg;
	struct db_boot *b;
	struct db_handle *h;
	int rc, again, done;
	char err[512];
};

/* The blocking half has ended: the loop half, from done as the contract says, twice. */
static void on_booted(void *arg)
{
	struct async_boot *ab = arg;
	struct db_handle again;

	ab->done++;
	assert_false(db_boot_running(ab->b));
	ab->rc = db_boot_finish(ab->b, ab->h, ab->f->base, ab->f->clk, ab->cfg, 1000, ab->err,
				sizeof(ab->err));
	ab->again = db_boot_finish(ab->b, &again, ab->f->base, ab->f->clk, ab->cfg, 1000, ab->err,
				   sizeof(ab->err));
}

/* db_boot_start, the loop until its done has run; the loop half's result in *h, the rc. */
static int boot_async(struct fx *f, const struct config *cfg, const struct env *e,
		      struct db_handle *h, char *err, size_t errlen)
{
	struct async_boot ab = {.f = f, .cfg = cfg, .h = h};
	time_t end = time(NULL) + 20;

	assert_int_equal(db_boot_start(&ab.b, f->base, cfg, e, on_booted, &ab, err, errlen), 0);
	while (ab.done == 0 && time(NULL) <= end)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(ab.done, 1);
	if (ab.rc == 0) /* the key is wiped once used: no second pool from it */
		assert_int_equal(ab.again, DB_BOOT_FAIL);
	db_boot_free(ab.b);
	snprintf(err, errlen, "%s", ab.rc == 0 ? "" : ab.err);
	return ab.rc;
}

/* A boot freed while it runs is never handed back. */
static void on_booted_never(void *arg)
{
	(*(int *)arg)++;
}

/*
 * The blocking half on its thread: a refused configuration comes back as
 * DB_BOOT_CONFIG with its message, a good one gives a working store; a
 * boot freed while its thread is blocked (a server that accepts and never
 * answers) frees itself when the thread ends (LeakSanitizer checks).
 */
static void test_boot_async(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct diag d = {0};
	struct env e;
	struct db_handle h;
	struct db_serving *set;
	struct db_boot *b;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int rc, fd, never = 0;
	char err[512], url[128];

	need_pg(f);
	assert_int_equal(config_init(&cfg), 0);
	assert_int_equal(config_set(&cfg, "database_url", getenv("KC_PG_URL"), "test", 0, 0, &d),
			 0);
	assert_int_equal(config_set(&cfg, "db_pool_size", "1", "test", 0, 0, &d), 0);
	env_init(&e, 0);
	rc = boot_async(f, &cfg, &e, &h, err, sizeof(err));
	assert_int_equal(rc, DB_BOOT_CONFIG);
	assert_non_null(strstr(err, "no master key"));
	assert_null(h.pool);
	put_master(f, &e);
	rc = boot_async(f, &cfg, &e, &h, err, sizeof(err));
	if (rc != 0)
		fail_msg("boot: %s", err);
	set = load(f, h.store);
	assert_true(set->nkeys > 0);
	db_serving_free(set);
	db_handle_free(&h);
	fd = socket(AF_INET, SOCK_STREAM, 0); /* listens, never accepts: the handshake completes */
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "postgresql://postgres@127.0.0.1:%d/x", ntohs(sa.sin_port));
	assert_int_equal(config_set(&cfg, "database_url", url, "test", 0, 0, &d), 0);
	assert_int_equal(config_set(&cfg, "db_connect_timeout_ms", "2000", "test", 0, 0, &d), 0);
	assert_int_equal(
		db_boot_start(&b, f->base, &cfg, &e, on_booted_never, &never, err, sizeof(err)), 0);
	assert_true(db_boot_running(b));
	db_boot_free(b); /* at once: the thread is blocked in libpq */
	sleep(4);	 /* past the connect timeout: the thread has freed it */
	close(fd);
	assert_int_equal(never, 0); /* a boot freed is never handed back */
	env_clear(&e);
	diag_clear(&d);
	config_free(&cfg);
}

/* Count request claims of an instance. */
static int claims_of(struct fx *f, const char *instance)
{
	const char *params[] = {instance};
	char err[256];
	PGresult *res =
		db_sync_exec(f->conn, "SELECT count(*) FROM request_claims WHERE instance_id = $1",
			     1, params, err, sizeof(err));
	int n = res != NULL ? atoi(PQgetvalue(res, 0, 0)) : -1;

	PQclear(res);
	return n;
}

/* A db_boot'ed one-connection pool on its own virtual clock, as serve starts it. */
struct booted {
	struct clock *vclk;
	struct config cfg;
	struct diag d;
	struct env e;
	struct db_handle h;
};

/* Boot b (db_query_timeout_ms set when timeout is non-NULL) and wait until the pool is ready. */
static void boot_one(struct fx *f, struct booted *b, const char *timeout)
{
	char err[256];
	const char *why;
	time_t end = time(NULL) + 20;

	memset(b, 0, sizeof(*b));
	b->vclk = clock_new_virtual(0);
	assert_non_null(b->vclk);
	assert_int_equal(config_init(&b->cfg), 0);
	assert_int_equal(
		config_set(&b->cfg, "database_url", getenv("KC_PG_URL"), "test", 0, 0, &b->d), 0);
	assert_int_equal(config_set(&b->cfg, "db_pool_size", "1", "test", 0, 0, &b->d), 0);
	/* the health question every 10 min (virtual): after the janitor's sweeps */
	assert_int_equal(
		config_set(&b->cfg, "db_health_interval_ms", "600000", "test", 0, 0, &b->d), 0);
	if (timeout != NULL)
		assert_int_equal(
			config_set(&b->cfg, "db_query_timeout_ms", timeout, "test", 0, 0, &b->d),
			0);
	env_init(&b->e, 0);
	put_master(f, &b->e);
	assert_int_equal(db_boot(&b->h, f->base, b->vclk, &b->cfg, &b->e, 1000, err, sizeof(err)),
			 0);
	while (!db_pool_ready(b->h.pool, &why) && time(NULL) <= end)
		event_base_loop(f->base, EVLOOP_ONCE);
}

/* Free what boot_one made; the handle first, so the virtual clock has no timer left. */
static void boot_free(struct booted *b)
{
	db_handle_free(&b->h);
	assert_int_equal(clock_virtual_pending(b->vclk), 0);
	clock_free(b->vclk);
	env_clear(&b->e);
	diag_clear(&b->d);
	config_free(&b->cfg);
}

/* The janitor started by db_boot sweeps expired claims on its (virtual) timer. */
static void test_boot_janitor(void **state)
{
	struct fx *f = *state;
	struct booted b;
	time_t end = time(NULL) + 20;

	need_pg(f);
	boot_one(f, &b, NULL);
	assert_int_equal(db_pool_inflight(b.h.pool), 0);
	assert_int_equal(clock_virtual_pending(b.vclk), 2); /* the janitor, the health check */
	sql(f, "INSERT INTO request_claims VALUES (repeat('3', 64), 'old', now() - interval '2 "
	       "hours'),"
	       " (repeat('4', 64), 'new', now())");
	assert_int_equal(clock_virtual_advance(b.vclk, DB_CLAIMS_SWEEP_MS - 1), 0);
	assert_int_equal(claims_of(f, "old"), 1);
	assert_true(clock_virtual_advance(b.vclk, 1) >= 1);
	while (claims_of(f, "old") != 0 && time(NULL) <= end)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(claims_of(f, "old"), 0);
	assert_int_equal(claims_of(f, "new"), 1);
	boot_free(&b);
}

/* A fresh key named name with one authorization (connect secret "c"); returns its id. */
static int64_t fresh_authz(struct fx *f, const char *name, int n)
{
	const char *relays[] = {"ws://127.0.0.1:7777"};
	struct secret cs = {0};
	struct db_admin_authz a = {
		.key = name, .connect_secret = &cs, .relays = relays, .nrelays = 1};
	struct nostr_seckey sk, bsk;
	char pk[65], bpk[65], kpk[65], err[256];
	int64_t id = 0;

	random_key(&sk, pk);
	assert_int_equal(secret_set(&cs, "c", 1), 0);
	assert_true(db_admin_key_add(f->conn, &f->mk, name, pk, &sk, err, sizeof(err)) > 0);
	for (int i = 0; i < n; i++) {
		random_key(&bsk, bpk);
		a.bunker_pubkey = bpk;
		a.bunker_secret = &bsk;
		id = db_admin_authz_create(f->conn, &f->mk, &a, kpk, err, sizeof(err));
		assert_true(id > 0);
	}
	secret_wipe(&cs);
	return id;
}

/* Binding a client refuses a revoked and an expired authorization; a live one binds. */
static void test_bind_refuses_dead(void **state)
{
	struct fx *f = *state;
	struct nostr_seckey dummy;
	struct tally t = {0};
	char client[65], q[256], err[256];
	int64_t id;

	need_pg(f);
	random_key(&dummy, client);
	id = fresh_authz(f, "dora", 1);
	snprintf(q, sizeof(q),
		 "UPDATE authorizations SET expires_at = now() - interval '1 second'"
		 " WHERE id = %lld",
		 (long long)id);
	sql(f, q);
	assert_int_equal(db_store_bind_client(f->store, id, client, on_store, &t), 0);
	run_calls(f, &t.calls, 1);
	assert_int_equal(t.zeros, 1); /* expired */
	sql(f, "UPDATE authorizations SET expires_at = NULL WHERE expires_at < now()");
	assert_int_equal(db_admin_authz_revoke(f->conn, id, err, sizeof(err)), 1);
	assert_int_equal(db_store_bind_client(f->store, id, client, on_store, &t), 0);
	run_calls(f, &t.calls, 2);
	assert_int_equal(t.zeros, 2); /* revoked */
	id = fresh_authz(f, "erin", 1);
	assert_int_equal(db_store_bind_client(f->store, id, client, on_store, &t), 0);
	run_calls(f, &t.calls, 3);
	assert_int_equal(t.ones, 1); /* live: bound */
}

/* A row whose relays hold a NULL is skipped and counted; the rest of the set loads. */
static void test_malformed_relays_skipped(void **state)
{
	struct fx *f = *state;
	struct db_serving *set;
	size_t good;
	int64_t bad;
	char q[256];

	need_pg(f);
	set = load(f, f->store);
	good = set->nauthz;
	assert_int_equal(set->malformed_rows, 0);
	db_serving_free(set);
	bad = fresh_authz(f, "frank", 2);
	snprintf(q, sizeof(q),
		 "UPDATE authorizations SET relays = ARRAY['ws://127.0.0.1:7777', NULL]"
		 " WHERE id = %lld",
		 (long long)bad);
	sql(f, q);
	set = load(f, f->store);
	assert_int_equal(set->malformed_rows, 1);
	assert_int_equal(set->nauthz, good + 1); /* frank's other authorization still loads */
	for (size_t i = 0; i < set->nauthz; i++)
		assert_true(set->authz[i].id != bad);
	db_serving_free(set);
	sql(f, "DELETE FROM keys WHERE name = 'frank'");
}

/* The authorization with id in set (fails the test when absent). */
static const struct db_serving_authz *authz_of(const struct db_serving *set, int64_t id)
{
	for (size_t i = 0; i < set->nauthz; i++)
		if (set->authz[i].id == id)
			return &set->authz[i];
	fail_msg("authorization %lld not in the set", (long long)id);
	return NULL;
}

/* How many rows of set own the relay list v (the others only borrow it). */
static int owners_of(const struct db_serving *set, char **v)
{
	int n = 0;

	for (size_t i = 0; i < set->nauthz; i++)
		n += set->authz[i].relays == v && !set->authz[i].relays_shared;
	return n;
}

/*
 * Rows with the same relays share one list, owned by one of them; a row
 * with other relays has its own; the empty policy is not copied, another
 * one is. The set frees cleanly (LeakSanitizer checks it).
 */
static void test_serving_relays_shared(void **state)
{
	struct fx *f = *state;
	const struct db_serving_authz *a, *b, *c;
	struct db_serving *set;
	int64_t last;
	char q[256];

	need_pg(f);
	last = fresh_authz(f, "gina", 3);
	snprintf(q, sizeof(q),
		 "UPDATE authorizations SET relays = ARRAY['wss://other.example'],"
		 " policy = '{\"methods\": [\"ping\"]}' WHERE id = %lld",
		 (long long)last);
	sql(f, q);
	set = load(f, f->store);
	a = authz_of(set, last - 2);
	b = authz_of(set, last - 1);
	c = authz_of(set, last);
	assert_ptr_equal(a->relays, b->relays);
	assert_int_equal(owners_of(set, a->relays), 1); /* one row owns it (maybe an earlier one) */
	assert_int_equal(b->nrelays, 1);
	assert_string_equal(b->relays[0], "ws://127.0.0.1:7777");
	assert_ptr_not_equal(c->relays, a->relays);
	assert_false(c->relays_shared);
	assert_string_equal(c->relays[0], "wss://other.example");
	assert_null(a->policy_json);
	assert_non_null(c->policy_json);
	assert_non_null(strstr(c->policy_json, "ping"));
	db_serving_free(set);
	sql(f, "DELETE FROM keys WHERE name = 'gina'");
}

/* Count a pool query's completion. */
static void on_pool_done(void *arg, const struct db_result *r)
{
	(void)r;
	(*(int *)arg)++;
}

/* A sweep that cannot start (the pool's queue is full) re-arms the janitor all the same. */
static void test_janitor_rearms_after_failure(void **state)
{
	struct fx *f = *state;
	struct booted b;
	int done = 0, queued = 0;
	size_t pending;
	time_t end = time(NULL) + 20;

	need_pg(f);
	boot_one(f, &b, "600000");
	sql(f, "SELECT pg_advisory_lock(4242)"); /* the pool's only connection will wait on it */
	assert_int_equal(db_pool_query(b.h.pool, "SELECT pg_advisory_lock(4242)", 0, NULL,
				       on_pool_done, &done),
			 0);
	while (db_pool_query(b.h.pool, "SELECT 1", 0, NULL, on_pool_done, &done) == 0)
		queued++;
	assert_true(queued > 0); /* the queue is full: the next sweep cannot start */
	pending = clock_virtual_pending(b.vclk);
	assert_true(clock_virtual_advance(b.vclk, DB_CLAIMS_SWEEP_MS) >= 1);
	assert_int_equal(clock_virtual_pending(b.vclk), pending); /* the janitor is armed again */
	sql(f, "SELECT pg_advisory_unlock(4242)");
	run_calls(f, &done, queued + 1);
	sql(f, "INSERT INTO request_claims VALUES (repeat('6', 64), 'stale', now() - interval '2 "
	       "hours')");
	assert_true(clock_virtual_advance(b.vclk, DB_CLAIMS_SWEEP_MS) >= 1);
	while (claims_of(f, "stale") != 0 && time(NULL) <= end)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(claims_of(f, "stale"), 0); /* and the next tick sweeps */
	boot_free(&b);
}

/* UPDATE authorization id SET assignments. */
static void update_authz(struct fx *f, const char *assignments, int64_t id)
{
	char q[512];

	assert_true(snprintf(q, sizeof(q), "UPDATE authorizations SET %s WHERE id = %lld",
			     assignments, (long long)id) < (int)sizeof(q));
	sql(f, q);
}

/* Revoked or expired within 24 hours: served and flagged; longer ago: gone. */
static void test_serving_recently_dead(void **state)
{
	struct fx *f = *state;
	int64_t live, revoked, expired, old_revoked, old_expired;
	const struct db_serving_authz *a;
	struct db_serving *set;
	char err[256];

	need_pg(f);
	live = fresh_authz(f, "ivan", 1);
	revoked = fresh_authz(f, "judy", 1);
	expired = fresh_authz(f, "kate", 1);
	old_revoked = fresh_authz(f, "liam", 1);
	old_expired = fresh_authz(f, "mona", 1);
	assert_int_equal(db_admin_authz_revoke(f->conn, revoked, err, sizeof(err)), 1);
	assert_int_equal(db_admin_authz_revoke(f->conn, old_revoked, err, sizeof(err)), 1);
	update_authz(f, "revoked_at = now() - interval '25 hours'", old_revoked);
	update_authz(f, "expires_at = now() - interval '1 hour'", expired);
	update_authz(f, "expires_at = now() - interval '25 hours'", old_expired);
	set = load(f, f->store);
	assert_non_null(a = find_authz(set, live));
	assert_false(a->revoked);
	assert_int_equal(a->expires_at, 0);
	assert_non_null(a = find_authz(set, revoked));
	assert_true(a->revoked);
	assert_memory_not_equal(a->bunker_secret.b, (unsigned char[32]){0},
				32); /* can still answer */
	assert_non_null(a = find_authz(set, expired));
	assert_false(a->revoked);
	assert_true(a->expires_at > 0 && a->expires_at < (int64_t)time(NULL));
	assert_null(find_authz(set, old_revoked));
	assert_null(find_authz(set, old_expired));
	db_serving_free(set);
}

/* Logout unbinds the client once (1, then 0), moving the generation. */
static void test_unbind_client(void **state)
{
	struct fx *f = *state;
	struct nostr_seckey dummy;
	struct tally t = {0};
	struct db_serving *set;
	char client[65], other[65];
	int64_t id, g0;

	need_pg(f);
	random_key(&dummy, client);
	random_key(&dummy, other);
	id = fresh_authz(f, "nina", 1);
	assert_int_equal(db_store_bind_client(f->store, id, client, on_store, &t), 0);
	run_calls(f, &t.calls, 1);
	assert_int_equal(t.ones, 1);
	g0 = generation(f);
	assert_int_equal(db_store_unbind_client(f->store, id, other, on_store, &t), 0);
	run_calls(f, &t.calls, 2);
	assert_int_equal(t.zeros, 1); /* another client: nothing to unbind */
	assert_int_equal(generation(f), g0);
	assert_int_equal(db_store_unbind_client(f->store2, id, client, on_store, &t), 0);
	run_calls(f, &t.calls, 3);
	assert_int_equal(t.ones, 2);
	assert_true(generation(f) > g0);
	assert_int_equal(db_store_unbind_client(f->store, id, client, on_store, &t), 0);
	run_calls(f, &t.calls, 4);
	assert_int_equal(t.zeros, 2); /* unbound already */
	set = load(f, f->store);
	assert_string_equal(find_authz(set, id)->client_pubkey, "");
	db_serving_free(set);
}

/* The winner of a claim learns whether the client is bound now, whoever bound or unbound it. */
static void test_claim_reports_binding(void **state)
{
	struct fx *f = *state;
	struct nostr_seckey dummy;
	struct tally t = {0};
	char client[65], other[65];
	const char *ev[] = {"6666666666666666666666666666666666666666666666666666666666666666",
			    "7777777777777777777777777777777777777777777777777777777777777777",
			    "8888888888888888888888888888888888888888888888888888888888888888"};
	int64_t id;

	need_pg(f);
	random_key(&dummy, client);
	random_key(&dummy, other);
	id = fresh_authz(f, "petra", 1);
	assert_int_equal(db_store_claim(f->store, ev[0], id, client, on_store, &t), 0);
	run_calls(f, &t.calls, 1);
	assert_int_equal(t.last, 1); /* won; the client is not bound */
	assert_int_equal(db_store_bind_client(f->store2, id, client, on_store, &t), 0);
	run_calls(f, &t.calls, 2);
	assert_int_equal(db_store_claim(f->store, ev[1], id, client, on_store, &t), 0);
	run_calls(f, &t.calls, 3);
	assert_int_equal(t.last, 2); /* bound through the other store */
	assert_int_equal(db_store_claim(f->store, ev[2], id, other, on_store, &t), 0);
	run_calls(f, &t.calls, 4);
	assert_int_equal(t.last, 1); /* another client is not the bound one */
	assert_int_equal(db_store_claim(f->store2, ev[1], id, client, on_store, &t), 0);
	run_calls(f, &t.calls, 5);
	assert_int_equal(t.last, 0); /* lost: no binding reported */
	assert_int_equal(db_store_unbind_client(f->store2, id, client, on_store, &t), 0);
	run_calls(f, &t.calls, 6);
	assert_int_equal(
		db_store_claim(f->store,
			       "9999999999999999999999999999999999999999999999999999999999999999",
			       id, client, on_store, &t),
		0);
	run_calls(f, &t.calls, 7);
	assert_int_equal(t.last, 1); /* logged out through the other store */
}

/* Accept a nostrconnect client for key name: the new authorization's id (or -1, err). */
static int64_t accept_authz(struct fx *f, const char *name, const char *client, const char *reply,
			    char *err)
{
	const char *relays[] = {"ws://127.0.0.1:7777", "wss://relay.example"};
	struct secret rs = {0};
	struct db_admin_client cl = {.pubkey = client, .reply = &rs};
	struct db_admin_authz a = {.key = name, .relays = relays, .nrelays = 2, .label = "app"};
	struct nostr_seckey bsk;
	char bpk[65], kpk[65];
	int64_t id;

	random_key(&bsk, bpk);
	a.bunker_pubkey = bpk;
	a.bunker_secret = &bsk;
	assert_int_equal(secret_set(&rs, reply, strlen(reply)), 0);
	id = db_admin_authz_accept(f->conn, &f->mk, &a, &cl, kpk, err, 256);
	secret_wipe(&rs);
	return id;
}

/* An accepted authorization: bound, secret spent, its reply sealed in the database. */
static void test_accept(void **state)
{
	struct fx *f = *state;
	const char *reply = "nostrconnect-secret-'\"";
	char long_reply[DB_CONNECT_REPLY_MAX + 2], client[65], err[256];
	const struct db_serving_authz *a;
	struct nostr_seckey dummy;
	struct db_serving *set;
	PGresult *res;
	int64_t id;

	need_pg(f);
	random_key(&dummy, client);
	fresh_authz(f, "olga", 0);
	memset(long_reply, 'x', sizeof(long_reply) - 1);
	long_reply[sizeof(long_reply) - 1] = '\0';
	assert_int_equal(accept_authz(f, "olga", client, long_reply, err), -1);
	assert_non_null(strstr(err, "nostrconnect secret is 1 to"));
	assert_int_equal(accept_authz(f, "olga", "ABC", reply, err), -1);
	assert_non_null(strstr(err, "client pubkey"));
	assert_int_equal(accept_authz(f, "nobody", client, reply, err), -1);
	assert_non_null(strstr(err, "no key named"));
	long_reply[DB_CONNECT_REPLY_MAX] = '\0'; /* the longest one fits */
	assert_true(accept_authz(f, "olga", client, long_reply, err) > 0);
	id = accept_authz(f, "olga", client, reply, err);
	assert_true(id > 0);
	set = load(f, f->store);
	assert_non_null(a = find_authz(set, id));
	assert_true(a->secret_used);
	assert_string_equal(a->client_pubkey, client);
	assert_int_equal(a->nrelays, 2);
	assert_true(secret_equal(&a->connect_reply, reply, strlen(reply)));
	db_serving_free(set);
	res = db_sync_exec(f->conn,
			   "SELECT count(*) FROM authorizations WHERE position(convert_to("
			   "'nostrconnect-secret', 'UTF8') IN connect_reply_sealed) > 0",
			   0, NULL, err, sizeof(err));
	assert_non_null(res);
	assert_string_equal(PQgetvalue(res, 0, 0), "0"); /* sealed, never in clear */
	PQclear(res);
}

/* Claim a connect reply twice at once: exactly one wins. Returns the tally's ones. */
static int claim_race(struct fx *f, int64_t id)
{
	struct tally t = {0};

	assert_int_equal(db_store_connect_reply_claim(f->store, id, on_store, &t), 0);
	assert_int_equal(db_store_connect_reply_claim(f->store2, id, on_store, &t), 0);
	run_calls(f, &t.calls, 2);
	assert_int_equal(t.errors, 0);
	return t.ones;
}

/* The connect reply: one claimant of two; released, claimable again; none: 0; revoked: gone. */
static void test_connect_reply_claim(void **state)
{
	struct fx *f = *state;
	struct nostr_seckey dummy;
	struct tally t = {0};
	struct db_serving *set;
	char client[65], err[256];
	int64_t id, plain, g0;

	need_pg(f);
	random_key(&dummy, client);
	fresh_authz(f, "pia", 0);
	id = accept_authz(f, "pia", client, "pia-secret", err);
	assert_true(id > 0);
	g0 = generation(f);
	assert_int_equal(claim_race(f, id), 1);
	assert_true(generation(f) > g0); /* every replica reloads: the reply is taken */
	set = load(f, f->store);
	assert_false(secret_is_set(&find_authz(set, id)->connect_reply));
	db_serving_free(set);
	assert_int_equal(claim_race(f, id), 0); /* sent already */
	assert_int_equal(db_store_connect_reply_release(f->store, id, on_store, &t), 0);
	assert_int_equal(db_store_connect_reply_release(f->store2, id, on_store, &t), 0);
	run_calls(f, &t.calls, 2);
	assert_int_equal(t.ones, 1); /* released once */
	set = load(f, f->store);
	assert_true(secret_equal(&find_authz(set, id)->connect_reply, "pia-secret", 10));
	db_serving_free(set);
	assert_int_equal(claim_race(f, id), 1);
	plain = fresh_authz(f, "quinn", 1);
	assert_int_equal(claim_race(f, plain), 0); /* no reply to send */
	assert_int_equal(db_store_connect_reply_release(f->store, plain, on_store, &t), 0);
	run_calls(f, &t.calls, 3);
	assert_int_equal(t.zeros, 2); /* nothing to release either */
	assert_int_equal(db_store_connect_reply_release(f->store, id, on_store, &t), 0);
	run_calls(f, &t.calls, 4);
	assert_int_equal(db_admin_authz_revoke(f->conn, id, err, sizeof(err)), 1);
	set = load(f, f->store);
	assert_true(find_authz(set, id)->revoked);
	assert_false(secret_is_set(&find_authz(set, id)->connect_reply)); /* only live rows */
	db_serving_free(set);
	assert_int_equal(claim_race(f, id), 0); /* nor can it be claimed */
}

/* A sealed connect reply moved to another row does not open: the row is skipped. */
static void test_connect_reply_moved(void **state)
{
	struct fx *f = *state;
	struct nostr_seckey dummy;
	struct db_serving *set;
	char client[65], err[256], q[512];
	size_t failures;
	int64_t a, b;

	need_pg(f);
	random_key(&dummy, client);
	fresh_authz(f, "ruth", 0);
	a = accept_authz(f, "ruth", client, "ruth-a", err);
	b = accept_authz(f, "ruth", client, "ruth-b", err);
	assert_true(a > 0 && b > 0);
	set = load(f, f->store);
	failures = set->unseal_failures; /* bob's key, tampered with above */
	assert_non_null(find_authz(set, b));
	db_serving_free(set);
	snprintf(q, sizeof(q),
		 "UPDATE authorizations SET connect_reply_sealed = (SELECT connect_reply_sealed"
		 " FROM authorizations WHERE id = %lld) WHERE id = %lld",
		 (long long)a, (long long)b);
	sql(f, q);
	set = load(f, f->store);
	assert_true(secret_equal(&find_authz(set, a)->connect_reply, "ruth-a", 6));
	assert_null(find_authz(set, b));
	assert_int_equal(set->unseal_failures, failures + 1);
	assert_int_equal(set->malformed_rows, 0);
	db_serving_free(set);
	sql(f, "DELETE FROM keys WHERE name = 'ruth'");
}

/* A batch of audit entries (NULL client, NULL kind, no authorization) in one statement. */
static void test_audit_batch(void **state)
{
	struct fx *f = *state;
	struct db_audit_entry e[DB_AUDIT_BATCH_MAX + 1];
	char methods[DB_AUDIT_BATCH_MAX + 1][16], want[DB_AUDIT_BATCH_MAX * 16], err[256];
	struct tally t = {0};
	size_t off = 0;
	PGresult *res;

	need_pg(f);
	for (int i = 0; i <= DB_AUDIT_BATCH_MAX; i++) {
		snprintf(methods[i], sizeof(methods[i]), "batch%02d", i);
		e[i] = (struct db_audit_entry){.authorization_id = i % 2 ? f->authz_a : 0,
					       .key_pubkey = f->pk_a,
					       .client_pubkey = i % 3 ? f->pk_b : NULL,
					       .method = methods[i],
					       .event_kind = i % 3 ? 24133 : -1,
					       .outcome = "refused",
					       .detail = i == 1 ? "it's \"quoted\" $1 \\" : NULL};
		if (i < DB_AUDIT_BATCH_MAX)
			off += (size_t)snprintf(want + off, sizeof(want) - off, "%s%s",
						i > 0 ? "," : "", methods[i]);
	}
	assert_int_equal(db_store_audit_batch(f->store, e, 0, on_store, &t), -1);
	assert_int_equal(db_store_audit_batch(f->store, e, DB_AUDIT_BATCH_MAX + 1, on_store, &t),
			 -1);
	assert_int_equal(db_store_audit_batch(f->store, e, 1, on_store, &t), 0);
	run_calls(f, &t.calls, 1); /* the refused calls never call back */
	assert_int_equal(t.last, 1);
	sql(f, "DELETE FROM audit_log WHERE method LIKE 'batch%'");
	assert_int_equal(db_store_audit_batch(f->store, e, DB_AUDIT_BATCH_MAX, on_store, &t), 0);
	run_calls(f, &t.calls, 2);
	assert_int_equal(t.last, DB_AUDIT_BATCH_MAX);
	res = db_sync_exec(f->conn,
			   "SELECT count(*), count(client_pubkey), count(event_kind),"
			   " count(authorization_id), string_agg(method, ',' ORDER BY id),"
			   " max(detail), count(*) FILTER (WHERE detail = ''),"
			   " count(DISTINCT instance_id) FROM audit_log WHERE method LIKE 'batch%'",
			   0, NULL, err, sizeof(err));
	assert_non_null(res);
	assert_int_equal(atoi(PQgetvalue(res, 0, 0)), DB_AUDIT_BATCH_MAX);
	assert_int_equal(atoi(PQgetvalue(res, 0, 1)), DB_AUDIT_BATCH_MAX - 22); /* i % 3 == 0 */
	assert_int_equal(atoi(PQgetvalue(res, 0, 2)), DB_AUDIT_BATCH_MAX - 22);
	assert_int_equal(atoi(PQgetvalue(res, 0, 3)), DB_AUDIT_BATCH_MAX / 2);
	assert_string_equal(PQgetvalue(res, 0, 4), want); /* in order */
	assert_string_equal(PQgetvalue(res, 0, 5), "it's \"quoted\" $1 \\");
	assert_int_equal(atoi(PQgetvalue(res, 0, 6)), DB_AUDIT_BATCH_MAX - 1);
	assert_string_equal(PQgetvalue(res, 0, 7), "1");
	PQclear(res);
}

/* Run the group (in order: each test builds on the previous one's rows). */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_twice),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_migrate_lock_bounded),
		cmocka_unit_test(test_serving_round_trip),
		cmocka_unit_test(test_consume_secret_race),
		cmocka_unit_test(test_claim_race),
		cmocka_unit_test(test_tamper_detected),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_serving_generation),
		cmocka_unit_test(test_boot),
		cmocka_unit_test(test_boot_janitor),
		cmocka_unit_test(test_boot_async),
		cmocka_unit_test(test_bind_refuses_dead),
		cmocka_unit_test(test_malformed_relays_skipped),
		cmocka_unit_test(test_serving_relays_shared),
		cmocka_unit_test(test_janitor_rearms_after_failure),
		cmocka_unit_test(test_serving_recently_dead),
		cmocka_unit_test(test_unbind_client),
		cmocka_unit_test(test_claim_reports_binding),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_connect_reply_claim),
		cmocka_unit_test(test_connect_reply_moved),
		cmocka_unit_test(test_audit_batch),
	};

	log_configure(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
	return cmocka_run_group_tests_name("db_store", tests, setup, teardown);
}
