/*
 * db_store.c - the signer's asynchronous store, behind db_store.h.
 */
#include "db/db_store.h"

#include "core/log.h"
#include "core/secmem.h"
#include "db/db_pool.h"
#include "db/db_seal.h"
#include "db/db_sql.h"
#include "db/db_token.h"
#include "nostr/hex.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db_store {
	struct db_pool *pool;
	struct db_master_key mk;
	char *instance_id;
};

/* What a statement's callback reports as its result. */
enum db_store_result {
	DB_STORE_ROWS,	   /* rows returned */
	DB_STORE_AFFECTED, /* rows affected */
	DB_STORE_CLAIM,	   /* DB_SQL_CLAIM: 0 lost, 1 won, 2 won and the client is bound */
};

/* One call in flight: whom to tell. */
struct db_store_call {
	struct db_store *store;
	db_store_cb cb;
	db_serving_cb serving_cb;
	db_generation_cb generation_cb;
	int64_t generation;	/* read first by a serving load */
	struct db_serving *set; /* a serving load's rows, waiting for their tokens */
	void *arg;
	enum db_store_result result; /* what the callback's result counts */
};

/* Columns of DB_SQL_SERVING. */
enum db_serving_col {
	DB_STORE_COL_AUTHZ_ID,
	DB_STORE_COL_KEY_ID,
	DB_STORE_COL_KEY_PUBKEY,
	DB_STORE_COL_KEY_SEALED,
	DB_STORE_COL_KEY_VERSION,
	DB_STORE_COL_BUNKER_PUBKEY,
	DB_STORE_COL_BUNKER_SEALED,
	DB_STORE_COL_BUNKER_VERSION,
	DB_STORE_COL_SECRET_HASH,
	DB_STORE_COL_SECRET_USED,
	DB_STORE_COL_CLIENT,
	DB_STORE_COL_RELAYS,
	DB_STORE_COL_POLICY,
	DB_STORE_COL_EXPIRES,
	DB_STORE_COL_REVOKED,
	DB_STORE_COL_CONNECT_REPLY,
};

/* How many distinct relay lists a serving load remembers to share (most recent first). */
#define DB_STORE_RELAY_LISTS 8

/* A serving load in progress: the rows, the set, the relay lists rows may share. */
struct db_serving_load {
	struct db_store *store;
	PGresult *res;
	struct db_serving *set;
	int list_row[DB_STORE_RELAY_LISTS];			   /* a row holding its text */
	const struct db_serving_authz *list[DB_STORE_RELAY_LISTS]; /* the list's owner */
	size_t nlists;
	size_t next; /* the one to replace */
};

/* Why db_serving_add_row skipped a row. */
enum db_store_row_skip {
	DB_STORE_ROW_UNSEAL = 1, /* a sealed secret does not open under the master key */
	DB_STORE_ROW_MALFORMED,	 /* a column does not hold what the schema promises */
};

static int db_store_run(struct db_store *s, const char *sql, int n, const char *const *params,
			enum db_store_result how, db_store_cb cb, void *arg);
static void db_store_on_result(void *arg, const struct db_result *r);
static void db_store_on_serving(void *arg, const struct db_result *r);
static void db_store_on_tokens(void *arg, const struct db_result *r);
static void db_store_on_serving_generation(void *arg, const struct db_result *r);
static void db_store_on_generation(void *arg, const struct db_result *r);
static int64_t db_store_generation_of(const struct db_result *r);
static struct db_serving *db_serving_parse(struct db_store *s, PGresult *res);
static int db_serving_unseal(const struct db_master_key *mk, const char *kind, const char *id,
			     const char *hex, const char *version, struct nostr_seckey *out);
static int db_serving_connect_reply(const struct db_master_key *mk, struct db_serving_authz *a,
				    const char *hex, const char *version);
static int db_serving_add_key(struct db_store *s, struct db_serving *set, PGresult *res, int row);
static int db_serving_fill_authz(struct db_serving_load *ld, struct db_serving_authz *a, int row);
static int db_serving_add_row(struct db_serving_load *ld, int row);
static int db_serving_relays(struct db_serving_authz *a, const char *json);
static int db_serving_row_relays(struct db_serving_load *ld, struct db_serving_authz *a, int row);
static void db_serving_share_relays(struct db_serving_load *ld, const struct db_serving_authz *a,
				    int row);
static void db_serving_authz_clear(struct db_serving_authz *a);
static void db_store_copy_hex(char *dst, const char *src);
static int db_store_run_id(struct db_store *s, const char *sql, int64_t authz_id, const char *param,
			   db_store_cb cb, void *arg);
static bool db_store_json_add(cJSON *o, const char *name, const char *value);
static cJSON *db_store_audit_json(const struct db_audit_entry *e);

/*
 * A store on pool with a copy of the master key; the store lives on pages
 * of its own kept out of core dumps (secmem.h), the key with it.
 */
int db_store_new(struct db_store **out, struct db_pool *pool, const struct db_master_key *mk,
		 const char *instance_id)
{
	struct db_store *s = secmem_alloc(sizeof(*s));

	*out = NULL;
	if (s == NULL || (s->instance_id = strdup(instance_id)) == NULL) {
		secmem_free(s, sizeof(*s));
		return -1;
	}
	s->pool = pool;
	s->mk = *mk;
	*out = s;
	return 0;
}

/* Free the store, wiping its master key copy. */
void db_store_free(struct db_store *s)
{
	if (s == NULL)
		return;
	db_master_key_wipe(&s->mk);
	free(s->instance_id);
	secmem_free(s, sizeof(*s)); /* wipes the rest */
}

/* Run one statement; the callback gets a row count. */
static int db_store_run(struct db_store *s, const char *sql, int n, const char *const *params,
			enum db_store_result how, db_store_cb cb, void *arg)
{
	struct db_store_call *call = calloc(1, sizeof(*call));

	if (call == NULL)
		return -1;
	*call = (struct db_store_call){.store = s, .cb = cb, .arg = arg, .result = how};
	if (db_pool_query(s->pool, sql, n, params, db_store_on_result, call) != 0) {
		free(call);
		return -1;
	}
	return 0;
}

/* A statement finished: report rows (or -1 and the error). */
static void db_store_on_result(void *arg, const struct db_result *r)
{
	struct db_store_call *call = arg;
	int result = -1;

	if (r->status == DB_OK && call->result == DB_STORE_CLAIM)
		result = PQntuples(r->res) == 0 ? 0 : 1 + (PQgetvalue(r->res, 0, 0)[0] == 't');
	else if (r->status == DB_OK)
		result = call->result == DB_STORE_ROWS ? PQntuples(r->res)
						       : atoi(PQcmdTuples(r->res));
	if (call->cb != NULL)
		call->cb(call->arg, result, r->error);
	else if (r->status != DB_OK)
		log_error("db", "audit append failed", log_str("error", r->error));
	free(call);
}

/* The generation a DB_SQL_SERVING_GENERATION result holds, or -1. */
static int64_t db_store_generation_of(const struct db_result *r)
{
	if (r->status != DB_OK || PQntuples(r->res) != 1 || PQgetisnull(r->res, 0, 0))
		return -1;
	return strtoll(PQgetvalue(r->res, 0, 0), NULL, 10);
}

/* Load the serving set: the generation first, then the rows. */
int db_store_load_serving(struct db_store *s, db_serving_cb cb, void *arg)
{
	struct db_store_call *call = calloc(1, sizeof(*call));

	if (call == NULL)
		return -1;
	*call = (struct db_store_call){.store = s, .serving_cb = cb, .arg = arg};
	if (db_pool_query(s->pool, DB_SQL_SERVING_GENERATION, 0, NULL,
			  db_store_on_serving_generation, call) != 0) {
		free(call);
		return -1;
	}
	return 0;
}

/* The generation of a serving load is known: now the rows (or report the failure). */
static void db_store_on_serving_generation(void *arg, const struct db_result *r)
{
	struct db_store_call *call = arg;

	call->generation = db_store_generation_of(r);
	if (call->generation >= 0 && db_pool_query(call->store->pool, DB_SQL_SERVING, 0, NULL,
						   db_store_on_serving, call) == 0)
		return;
	call->serving_cb(call->arg, NULL,
			 call->generation < 0 && r->error != NULL ? r->error
			 : call->generation < 0			  ? "no serving generation"
								  : "database pool closed");
	free(call);
}

/* Read the serving set's generation. */
int db_store_generation(struct db_store *s, db_generation_cb cb, void *arg)
{
	struct db_store_call *call = calloc(1, sizeof(*call));

	if (call == NULL)
		return -1;
	*call = (struct db_store_call){.store = s, .generation_cb = cb, .arg = arg};
	if (db_pool_query(s->pool, DB_SQL_SERVING_GENERATION, 0, NULL, db_store_on_generation,
			  call) != 0) {
		free(call);
		return -1;
	}
	return 0;
}

/* The generation query finished: report it. */
static void db_store_on_generation(void *arg, const struct db_result *r)
{
	struct db_store_call *call = arg;
	int64_t g = db_store_generation_of(r);

	call->generation_cb(call->arg, g,
			    g >= 0	       ? NULL
			    : r->error != NULL ? r->error
					       : "no serving generation");
	free(call);
}

/* The serving query finished: parse, unseal, then read the API tokens. */
static void db_store_on_serving(void *arg, const struct db_result *r)
{
	struct db_store_call *call = arg;
	struct db_serving *set = r->status == DB_OK ? db_serving_parse(call->store, r->res) : NULL;

	if (set != NULL) {
		set->generation = call->generation;
		call->set = set;
		if (db_pool_query(call->store->pool, DB_SQL_TOKEN_SERVING, 0, NULL,
				  db_store_on_tokens, call) == 0)
			return;
		db_serving_free(set);
	}
	call->serving_cb(call->arg, NULL,
			 set != NULL	    ? "database pool closed"
			 : r->error != NULL ? r->error
					    : "out of memory");
	free(call);
}

/* The tokens query finished: the set is complete; hand it over. */
static void db_store_on_tokens(void *arg, const struct db_result *r)
{
	struct db_store_call *call = arg;
	struct db_serving *set = call->set;
	const char *error = r->status == DB_OK ? NULL : r->error ? r->error : "tokens not read";

	if (error == NULL &&
	    db_token_serving(&set->tokens, &set->ntokens, &set->malformed_rows, r->res) != 0)
		error = "out of memory";
	if (error != NULL) {
		db_serving_free(set);
		set = NULL;
	}
	call->serving_cb(call->arg, set, error);
	free(call);
}

/* Copy a 64-digit hex value (or "" for NULL/odd lengths). */
static void db_store_copy_hex(char *dst, const char *src)
{
	snprintf(dst, DB_PUBKEY_HEX_LEN + 1, "%s",
		 src != NULL && strlen(src) == DB_PUBKEY_HEX_LEN ? src : "");
}

/* Unseal one 32-byte secret whose row identity is kind:id:v<version>. */
static int db_serving_unseal(const struct db_master_key *mk, const char *kind, const char *id,
			     const char *hex, const char *version, struct nostr_seckey *out)
{
	unsigned char sealed[32 + DB_SEAL_OVERHEAD]; /* a sealed 32-byte secret, exactly */
	char aad[128];
	size_t ptlen;

	if (hex_decode(sealed, sizeof(sealed), hex, strlen(hex), HEX_ANY_CASE) != 0 ||
	    db_seal_aad(aad, sizeof(aad), kind, id, (int32_t)atoi(version)) != 0)
		return -1;
	if (db_unseal(mk, aad, sealed, sizeof(sealed), out->b, sizeof(out->b), &ptlen) != 0 ||
	    ptlen != sizeof(out->b))
		return -1;
	return 0;
}

/* Parse the relays JSON array into a: 0, 1 if it is not an array of strings, -1 on ENOMEM. */
static int db_serving_relays(struct db_serving_authz *a, const char *json)
{
	cJSON *arr = cJSON_Parse(json), *it;
	int rc = 1;

	if (!cJSON_IsArray(arr))
		goto out;
	rc = -1;
	a->relays = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(char *));
	if (a->relays == NULL)
		goto out;
	cJSON_ArrayForEach(it, arr)
	{
		rc = cJSON_IsString(it) ? -1 : 1;
		if (rc == 1 || (a->relays[a->nrelays] = strdup(it->valuestring)) == NULL)
			goto out;
		a->nrelays++;
	}
	rc = 0;
out:
	cJSON_Delete(arr);
	return rc;
}

/*
 * The row's relays: an earlier row's list when the text is the same, else
 * parsed. 0, 1 if not an array of strings, -1 on ENOMEM.
 */
static int db_serving_row_relays(struct db_serving_load *ld, struct db_serving_authz *a, int row)
{
	const char *json = PQgetvalue(ld->res, row, DB_STORE_COL_RELAYS);

	for (size_t i = 0; i < ld->nlists; i++) {
		if (strcmp(PQgetvalue(ld->res, ld->list_row[i], DB_STORE_COL_RELAYS), json) != 0)
			continue;
		a->relays = ld->list[i]->relays;
		a->nrelays = ld->list[i]->nrelays;
		a->relays_shared = true;
		return 0;
	}
	return db_serving_relays(a, json);
}

/* Remember a (row row, kept in the set) as the owner of its relay list, unless it borrows one. */
static void db_serving_share_relays(struct db_serving_load *ld, const struct db_serving_authz *a,
				    int row)
{
	if (a->relays_shared)
		return;
	ld->list_row[ld->next] = row;
	ld->list[ld->next] = a;
	ld->next = (ld->next + 1) % DB_STORE_RELAY_LISTS;
	if (ld->nlists < DB_STORE_RELAY_LISTS)
		ld->nlists++;
}

/* Free and wipe what one authorization row holds; a is all zeroes afterwards. */
static void db_serving_authz_clear(struct db_serving_authz *a)
{
	for (size_t j = 0; !a->relays_shared && j < a->nrelays; j++)
		free(a->relays[j]);
	if (!a->relays_shared)
		free(a->relays);
	free(a->policy_json);
	secret_wipe(&a->connect_reply);
	OPENSSL_cleanse(a, sizeof(*a));
}

/* Unseal a row's connect reply (hex; "" when none): 0, DB_STORE_ROW_UNSEAL, -1 on ENOMEM. */
static int db_serving_connect_reply(const struct db_master_key *mk, struct db_serving_authz *a,
				    const char *hex, const char *version)
{
	unsigned char sealed[DB_CONNECT_REPLY_MAX + DB_SEAL_OVERHEAD], pt[DB_CONNECT_REPLY_MAX];
	size_t hexlen = strlen(hex), len = hexlen / 2, ptlen = 0;
	char aad[128];
	int rc = DB_STORE_ROW_UNSEAL;

	if (hexlen == 0)
		return 0;
	if (hexlen % 2 == 0 && len <= sizeof(sealed) &&
	    hex_decode(sealed, len, hex, hexlen, HEX_ANY_CASE) == 0 &&
	    db_seal_aad(aad, sizeof(aad), DB_CONNECT_REPLY_KIND, a->bunker_pubkey,
			(int32_t)atoi(version)) == 0 &&
	    db_unseal(mk, aad, sealed, len, pt, sizeof(pt), &ptlen) == 0)
		rc = ptlen == 0 || secret_set(&a->connect_reply, (const char *)pt, ptlen) == 0 ? 0
											       : -1;
	OPENSSL_cleanse(pt, sizeof(pt));
	if (rc == DB_STORE_ROW_UNSEAL)
		log_error("db",
			  "cannot unseal a connect reply: tampered, moved or another master key",
			  log_int("authorization", a->id));
	return rc;
}

/* Add the row's key unless it is the set's last one: 0, or DB_STORE_ROW_UNSEAL. */
static int db_serving_add_key(struct db_store *s, struct db_serving *set, PGresult *res, int row)
{
	int64_t key_id = strtoll(PQgetvalue(res, row, DB_STORE_COL_KEY_ID), NULL, 10);
	struct db_serving_key *k = set->nkeys > 0 ? &set->keys[set->nkeys - 1] : NULL;

	if (k != NULL && k->id == key_id)
		return 0;
	k = &set->keys[set->nkeys];
	k->id = key_id;
	db_store_copy_hex(k->pubkey, PQgetvalue(res, row, DB_STORE_COL_KEY_PUBKEY));
	if (db_serving_unseal(&s->mk, "key", k->pubkey,
			      PQgetvalue(res, row, DB_STORE_COL_KEY_SEALED),
			      PQgetvalue(res, row, DB_STORE_COL_KEY_VERSION), &k->secret) != 0) {
		log_error("db", "cannot unseal a key: tampered, moved or another master key",
			  log_str("pubkey", k->pubkey));
		OPENSSL_cleanse(k, sizeof(*k));
		return DB_STORE_ROW_UNSEAL;
	}
	set->nkeys++;
	return 0;
}

/* Fill one authorization from a row: 0, a DB_STORE_ROW_* skip, -1 on ENOMEM. */
static int db_serving_fill_authz(struct db_serving_load *ld, struct db_serving_authz *a, int row)
{
	struct db_store *s = ld->store;
	PGresult *res = ld->res;
	const char *hash = PQgetvalue(res, row, DB_STORE_COL_SECRET_HASH);
	const char *policy = PQgetvalue(res, row, DB_STORE_COL_POLICY);
	const char *version = PQgetvalue(res, row, DB_STORE_COL_BUNKER_VERSION);
	int rc;

	a->id = strtoll(PQgetvalue(res, row, DB_STORE_COL_AUTHZ_ID), NULL, 10);
	db_store_copy_hex(a->bunker_pubkey, PQgetvalue(res, row, DB_STORE_COL_BUNKER_PUBKEY));
	db_store_copy_hex(a->client_pubkey, PQgetvalue(res, row, DB_STORE_COL_CLIENT));
	a->secret_used = strcmp(PQgetvalue(res, row, DB_STORE_COL_SECRET_USED), "t") == 0;
	a->revoked = strcmp(PQgetvalue(res, row, DB_STORE_COL_REVOKED), "t") == 0;
	a->expires_at = strtoll(PQgetvalue(res, row, DB_STORE_COL_EXPIRES), NULL, 10);
	if (hex_decode(a->secret_hash, sizeof(a->secret_hash), hash, strlen(hash), HEX_ANY_CASE) !=
		    0 ||
	    db_serving_unseal(&s->mk, "bunker", a->bunker_pubkey,
			      PQgetvalue(res, row, DB_STORE_COL_BUNKER_SEALED), version,
			      &a->bunker_secret) != 0) {
		log_error("db", "cannot unseal a bunker key: tampered, moved or another master key",
			  log_str("bunker_pubkey", a->bunker_pubkey));
		return DB_STORE_ROW_UNSEAL;
	}
	rc = db_serving_connect_reply(&s->mk, a, PQgetvalue(res, row, DB_STORE_COL_CONNECT_REPLY),
				      version);
	if (rc != 0)
		return rc;
	rc = db_serving_row_relays(ld, a, row);
	if (rc == 1) {
		log_error("db", "skipping an authorization whose relays are not a list of URLs",
			  log_int("authorization", a->id));
		return DB_STORE_ROW_MALFORMED;
	}
	if (rc != 0)
		return rc;
	if (strcmp(policy, "{}") == 0)
		return 0; /* no copy of the empty policy */
	a->policy_json = strdup(policy);
	return a->policy_json != NULL ? 0 : -1;
}

/* Add one row (an authorization, and its key if new): 0, a DB_STORE_ROW_* skip, -1 on ENOMEM. */
static int db_serving_add_row(struct db_serving_load *ld, int row)
{
	struct db_serving *set = ld->set;
	struct db_serving_authz *a = &set->authz[set->nauthz];
	int rc = db_serving_add_key(ld->store, set, ld->res, row);

	if (rc != 0)
		return rc;
	a->key = set->nkeys - 1;
	rc = db_serving_fill_authz(ld, a, row);
	if (rc == 0) {
		db_serving_share_relays(ld, a, row);
		set->nauthz++;
	}
	return rc;
}

/* Build the serving set from the rows of DB_SQL_SERVING; NULL on ENOMEM. */
static struct db_serving *db_serving_parse(struct db_store *s, PGresult *res)
{
	struct db_serving *set = calloc(1, sizeof(*set));
	size_t rows = (size_t)PQntuples(res);
	struct db_serving_load ld = {.store = s, .res = res, .set = set};

	if (set == NULL)
		return NULL;
	set->keys = calloc(rows + 1, sizeof(*set->keys));
	set->authz = calloc(rows + 1, sizeof(*set->authz));
	if (set->keys == NULL || set->authz == NULL)
		goto fail;
	for (size_t i = 0; i < rows; i++) {
		int rc = db_serving_add_row(&ld, (int)i);

		if (rc < 0) {
			set->nauthz++; /* free the partial row too */
			goto fail;
		}
		set->unseal_failures += rc == DB_STORE_ROW_UNSEAL;
		set->malformed_rows += rc == DB_STORE_ROW_MALFORMED;
		if (rc > 0)
			db_serving_authz_clear(&set->authz[set->nauthz]);
	}
	return set;
fail:
	db_serving_free(set);
	return NULL;
}

/* Free a serving set, wiping its secrets. */
void db_serving_free(struct db_serving *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->nauthz; i++)
		db_serving_authz_clear(&set->authz[i]);
	if (set->keys != NULL)
		OPENSSL_cleanse(set->keys, (set->nkeys + 1) * sizeof(*set->keys));
	if (set->authz != NULL)
		OPENSSL_cleanse(set->authz, (set->nauthz + 1) * sizeof(*set->authz));
	free(set->keys);
	free(set->authz);
	free(set->tokens);
	free(set);
}

/* SHA-256 of a connect secret. */
void db_secret_hash(unsigned char out[DB_HASH_LEN], const char *secret)
{
	SHA256((const unsigned char *)secret, strlen(secret), out);
}

/* Whether secret hashes to hash (constant-time comparison). */
bool db_secret_matches(const unsigned char hash[DB_HASH_LEN], const char *secret)
{
	unsigned char h[DB_HASH_LEN];
	bool ok;

	db_secret_hash(h, secret);
	ok = CRYPTO_memcmp(h, hash, DB_HASH_LEN) == 0;
	OPENSSL_cleanse(h, sizeof(h));
	return ok;
}

/* Consume a connect secret and bind the client, atomically. */
int db_store_consume_secret(struct db_store *s, int64_t authz_id, const char *secret,
			    const char *client_pubkey, db_store_cb cb, void *arg)
{
	unsigned char h[DB_HASH_LEN];
	char id[24], hex[2 * DB_HASH_LEN + 1];
	const char *params[] = {id, hex, client_pubkey};
	int rc;

	db_secret_hash(h, secret);
	snprintf(id, sizeof(id), "%lld", (long long)authz_id);
	hex_encode(hex, h, sizeof(h));
	rc = db_store_run(s, DB_SQL_AUTHZ_CONSUME, 3, params, DB_STORE_ROWS, cb, arg);
	OPENSSL_cleanse(h, sizeof(h));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

/* Run a statement on authorization authz_id ($1) and param ($2, unless NULL); rows returned. */
static int db_store_run_id(struct db_store *s, const char *sql, int64_t authz_id, const char *param,
			   db_store_cb cb, void *arg)
{
	char id[24];
	const char *params[] = {id, param};

	snprintf(id, sizeof(id), "%lld", (long long)authz_id);
	return db_store_run(s, sql, param != NULL ? 2 : 1, params, DB_STORE_ROWS, cb, arg);
}

/* Bind a client to a live authorization. */
int db_store_bind_client(struct db_store *s, int64_t authz_id, const char *client_pubkey,
			 db_store_cb cb, void *arg)
{
	return db_store_run_id(s, DB_SQL_AUTHZ_BIND, authz_id, client_pubkey, cb, arg);
}

/* Logout: unbind a client. */
int db_store_unbind_client(struct db_store *s, int64_t authz_id, const char *client_pubkey,
			   db_store_cb cb, void *arg)
{
	return db_store_run_id(s, DB_SQL_AUTHZ_UNBIND, authz_id, client_pubkey, cb, arg);
}

/* Claim the right to send a connect reply. */
int db_store_connect_reply_claim(struct db_store *s, int64_t authz_id, db_store_cb cb, void *arg)
{
	return db_store_run_id(s, DB_SQL_CONNECT_REPLY_CLAIM, authz_id, NULL, cb, arg);
}

/* Let an undelivered connect reply be claimed again. */
int db_store_connect_reply_release(struct db_store *s, int64_t authz_id, db_store_cb cb, void *arg)
{
	return db_store_run_id(s, DB_SQL_CONNECT_REPLY_RELEASE, authz_id, NULL, cb, arg);
}

/* Claim a request for this instance. */
int db_store_claim(struct db_store *s, const char *event_id, int64_t authz_id,
		   const char *client_pubkey, db_store_cb cb, void *arg)
{
	char id[24];
	const char *params[] = {event_id, s->instance_id, id, client_pubkey};

	snprintf(id, sizeof(id), "%lld", (long long)authz_id);
	return db_store_run(s, DB_SQL_CLAIM, 4, params, DB_STORE_CLAIM, cb, arg);
}

/* Drop claims older than max_age_s. */
int db_store_expire_claims(struct db_store *s, int64_t max_age_s, db_store_cb cb, void *arg)
{
	char age[24];
	const char *params[] = {age};

	snprintf(age, sizeof(age), "%lld", (long long)max_age_s);
	return db_store_run(s, DB_SQL_CLAIMS_EXPIRE, 1, params, DB_STORE_AFFECTED, cb, arg);
}

/* An API request: whether the token and its authorization are live now. */
int db_store_token_live(struct db_store *s, int64_t token_id, db_store_cb cb, void *arg)
{
	char id[24];
	const char *params[] = {id};

	snprintf(id, sizeof(id), "%lld", (long long)token_id);
	return db_store_run(s, DB_SQL_TOKEN_LIVE, 1, params, DB_STORE_ROWS, cb, arg);
}

/* Append an audit entry. */
int db_store_audit(struct db_store *s, const struct db_audit_entry *e, db_store_cb cb, void *arg)
{
	char id[24], kind[16];
	const char *params[] = {s->instance_id,
				e->authorization_id > 0 ? id : NULL,
				e->key_pubkey,
				e->client_pubkey,
				e->method,
				e->event_kind >= 0 ? kind : NULL,
				e->event_id,
				e->outcome,
				e->detail != NULL ? e->detail : ""};

	snprintf(id, sizeof(id), "%lld", (long long)e->authorization_id);
	snprintf(kind, sizeof(kind), "%d", e->event_kind);
	return db_store_run(s, DB_SQL_AUDIT_APPEND, 9, params, DB_STORE_AFFECTED, cb, arg);
}

/* Add member name to o: the string value, or null when value is NULL. false on ENOMEM. */
static bool db_store_json_add(cJSON *o, const char *name, const char *value)
{
	return (value != NULL ? cJSON_AddStringToObject(o, name, value)
			      : cJSON_AddNullToObject(o, name)) != NULL;
}

/* One audit entry as an object of DB_SQL_AUDIT_BATCH's JSON array; NULL on ENOMEM. */
static cJSON *db_store_audit_json(const struct db_audit_entry *e)
{
	const char *names[] = {"key_pubkey", "client_pubkey", "method",
			       "event_id",   "outcome",	      "detail"};
	const char *values[] = {e->key_pubkey, e->client_pubkey, e->method,
				e->event_id,   e->outcome,	 e->detail};
	cJSON *o = cJSON_CreateObject();
	char id[24];
	bool ok = o != NULL;

	snprintf(id, sizeof(id), "%lld", (long long)e->authorization_id);
	ok = ok && db_store_json_add(o, "authorization_id", e->authorization_id > 0 ? id : NULL);
	for (size_t i = 0; ok && i < sizeof(names) / sizeof(names[0]); i++)
		ok = db_store_json_add(o, names[i], values[i]);
	ok = ok && (e->event_kind >= 0 ? cJSON_AddNumberToObject(o, "event_kind", e->event_kind)
				       : cJSON_AddNullToObject(o, "event_kind")) != NULL;
	if (ok)
		return o;
	cJSON_Delete(o);
	return NULL;
}

/* Append n audit entries in one statement (their values travel as one bound JSON text). */
int db_store_audit_batch(struct db_store *s, const struct db_audit_entry *e, size_t n,
			 db_store_cb cb, void *arg)
{
	cJSON *arr, *o;
	char *json = NULL;
	const char *params[2] = {s->instance_id, NULL};
	int rc = -1;

	if (n == 0 || n > DB_AUDIT_BATCH_MAX || (arr = cJSON_CreateArray()) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if ((o = db_store_audit_json(&e[i])) == NULL || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			goto out;
		}
	}
	json = cJSON_PrintUnformatted(arr);
	params[1] = json;
	if (json != NULL)
		rc = db_store_run(s, DB_SQL_AUDIT_BATCH, 2, params, DB_STORE_AFFECTED, cb, arg);
out:
	cJSON_free(json);
	cJSON_Delete(arr);
	return rc;
}
