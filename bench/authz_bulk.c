/*
 * authz_bulk.c - many authorizations at once, for the end-to-end
 * benchmark: what `keycastd authz create KEY --relay URL` does, N times in
 * one process over one connection (the command costs a process start and
 * a database connection each: minutes for 10 000 on a small machine).
 *
 *   authz_bulk KEY RELAY-URL N
 *
 * DATABASE_URL and MASTER_KEY (64 hex digits) come from the environment,
 * as for `keycastd authz create`. Prints N lines "bunker-URI client-secret"
 * (bench/loadgen's clients file): each new authorization's URI with its
 * fresh single-use connect secret, and a fresh client key to bind it
 * with. The rows are those of the command (db_admin_authz_create), with
 * an empty policy and no expiry. Exit 0, or 1 with a message on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/env.h"
#include "core/secret.h"
#include "db/db_admin.h"
#include "db/db_seal.h"
#include "db/db_sync.h"
#include "nostr/hex.h"
#include "nostr/keys.h"
#include "nostr/uri.h"

static int ab_secret(char hex[65]);
static int ab_uri(char **out, const struct nostr_seckey *bunker, const char *relay,
		  const struct secret *secret);
static int ab_one(PGconn *conn, const struct db_master_key *mk, const char *key, const char *relay);
static int ab_run(const char *key, const char *relay, long n);

/* 32 random bytes as hex (a connect secret, a client key). 0 or -1. */
static int ab_secret(char hex[65])
{
	unsigned char raw[32];
	int rc = RAND_priv_bytes(raw, sizeof(raw)) == 1 ? 0 : -1;

	hex_encode(hex, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

/* The bunker:// URI of a bunker key on one relay; *out is malloc'd. 0 or -1. */
static int ab_uri(char **out, const struct nostr_seckey *bunker, const char *relay,
		  const struct secret *secret)
{
	struct nostr_uri u = {.kind = NOSTR_URI_BUNKER, .nrelays = 1};
	char err[256] = "out of memory";
	int rc = -1;

	u.relays[0] = (char *)relay; /* borrowed: formatting never frees */
	if (nostr_seckey_pubkey(&u.pubkey, bunker) != 0 ||
	    secret_set(&u.secret, secret_reveal(secret), secret_len(secret)) != 0 ||
	    nostr_uri_format(out, &u, err, sizeof(err)) != 0) {
		fprintf(stderr, "authz_bulk: %s\n", err);
		goto fail;
	}
	rc = 0;
fail:
	secret_wipe(&u.secret); /* the relay is borrowed: not nostr_uri_clear */
	return rc;
}

/* Create one authorization of key on relay and print its clients-file line. 0 or -1. */
static int ab_one(PGconn *conn, const struct db_master_key *mk, const char *key, const char *relay)
{
	struct nostr_keypair kp = {0};
	struct nostr_seckey bunker = {0};
	struct secret secret = {0};
	const char *relays[1] = {relay};
	char pk[65], key_pk[65], hex[65], client[65], err[512], *uri = NULL;
	struct db_admin_authz spec = {.key = key,
				      .bunker_pubkey = pk,
				      .bunker_secret = &bunker,
				      .connect_secret = &secret,
				      .relays = relays,
				      .nrelays = 1};
	int rc = -1;

	if (nostr_keypair_generate(&kp) != 0 || ab_secret(hex) != 0 || ab_secret(client) != 0 ||
	    secret_set(&secret, hex, 64) != 0)
		goto fail;
	nostr_keypair_seckey(&bunker, &kp);
	nostr_pubkey_to_hex(pk, &kp.pub);
	if (ab_uri(&uri, &bunker, relay, &secret) != 0)
		goto fail;
	if (db_admin_authz_create(conn, mk, &spec, key_pk, err, sizeof(err)) < 0) {
		fprintf(stderr, "authz_bulk: %s\n", err);
		goto fail;
	}
	rc = printf("%s %s\n", uri, client) > 0 ? 0 : -1;
fail:
	nostr_keypair_wipe(&kp);
	OPENSSL_cleanse(&bunker, sizeof(bunker));
	OPENSSL_cleanse(hex, sizeof(hex));
	OPENSSL_cleanse(client, sizeof(client));
	secret_wipe(&secret);
	if (uri != NULL)
		OPENSSL_cleanse(uri, strlen(uri));
	free(uri);
	return rc;
}

/* Connect, load the master key, create n authorizations. 0 or -1. */
static int ab_run(const char *key, const char *relay, long n)
{
	struct db_master_key mk = {0};
	struct env e;
	const char *url = getenv("DATABASE_URL");
	char err[512] = "DATABASE_URL is not set";
	PGconn *conn = NULL;
	int rc = -1;

	env_init(&e, 1);
	if (db_master_key_load(&mk, &e, NULL, 0, err, sizeof(err)) != 0 || url == NULL ||
	    (conn = db_sync_connect(url, err, sizeof(err))) == NULL) {
		fprintf(stderr, "authz_bulk: %s\n", err);
		goto fail;
	}
	for (long i = 0; i < n; i++)
		if (ab_one(conn, &mk, key, relay) != 0)
			goto fail;
	rc = fflush(stdout) == 0 ? 0 : -1;
	if (rc != 0)
		fprintf(stderr, "authz_bulk: standard output: %s\n", strerror(errno));
fail:
	db_master_key_wipe(&mk);
	env_clear(&e);
	if (conn != NULL)
		PQfinish(conn);
	return rc;
}

/* authz_bulk KEY RELAY-URL N: see the top of the file. */
int main(int argc, char **argv)
{
	char *end = NULL;
	long n = argc == 4 ? strtol(argv[3], &end, 10) : 0;

	if (argc != 4 || end == argv[3] || *end != '\0' || n < 1 || n > 1000000 ||
	    !nostr_uri_relay_valid(argv[2])) {
		fprintf(stderr, "usage: authz_bulk KEY RELAY-URL N (1..1000000)\n"
				"  DATABASE_URL and MASTER_KEY from the environment\n");
		return 2;
	}
	return ab_run(argv[1], argv[2], n) == 0 ? 0 : 1;
}
