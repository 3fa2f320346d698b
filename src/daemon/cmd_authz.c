/*
 * cmd_authz.c - `keycastd authz`: manage authorizations and print bunker URIs.
 *
 *   authz create KEY [--relay URL]... [--label T] [--expires-in S] [--policy JSON]
 *   authz accept KEY URI [--label T] [--expires-in S] [--policy JSON]
 *   authz list
 *   authz revoke ID
 *   authz token create|list|revoke ...   (cmd_token.c)
 *
 * create makes a fresh bunker keypair (stored sealed) and a fresh connect
 * secret (stored as its SHA-256), and prints the only copy of the secret
 * inside the bunker:// URI. accept takes a client's nostrconnect:// URI
 * (or "-": read from standard input): a fresh bunker keypair, the client
 * bound from the start, the URI's relays, and the URI's secret stored
 * sealed for the signer to send back in its connect reply.
 */
#include "core/secret.h"
#include "daemon/cmd.h"
#include "daemon/cmd_admin.h"
#include "daemon/settings.h"
#include "db/db_admin.h"
#include "nostr/hex.h"
#include "nostr/keys.h"
#include "nostr/uri.h"
#include "relay/ws.h"
#include "signer/signer_policy.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The longest nostrconnect:// URI read from standard input, in bytes. */
#define CMD_AUTHZ_URI_MAX 8192

/* The options of `keycastd authz create` (cmd_admin_ctx.arg). */
struct cmd_authz_opts {
	const char *relays[CMD_OPT_LIST_MAX]; /* --relay URL... */
	size_t nrelays;
	const char *label, *expires_in, *policy;
};

static int cmd_authz_create(struct cmd_admin_ctx *c);
static int cmd_authz_accept(struct cmd_admin_ctx *c);
static int cmd_authz_read_uri(char *buf, size_t len);
static int cmd_authz_nostrconnect(struct nostr_uri *u, const char *arg);
static int cmd_authz_print_accepted(const struct cmd_admin_ctx *c, int64_t id, const char *key_pk,
				    const char *pk, const char *client, const struct nostr_uri *u);
static int cmd_authz_list(struct cmd_admin_ctx *c);
static int cmd_authz_revoke(struct cmd_admin_ctx *c);
static int cmd_authz_uri(char **out, const struct nostr_seckey *bunker, const char *const *relays,
			 size_t n, const struct secret *secret);
static int cmd_authz_secret(struct secret *s);
static int cmd_authz_print(const struct cmd_admin_ctx *c, int64_t id, const char *key_pk,
			   const char *pk, const char *uri);
static int cmd_authz_keypair(struct nostr_seckey *sk, char pk[65]);
static int cmd_authz_relays(const struct cmd_admin_ctx *c, const char ***relays, size_t *n);
static int cmd_authz_options(const char *sub, const struct cmd_authz_opts *o, int64_t *lifetime_s);
static int cmd_authz_relay_ok(const char *sub, const char *url);
static size_t cmd_authz_utf8_len(const unsigned char *s);
static int cmd_authz_text_ok(const char *sub, const char *what, const char *s, bool controls);
static int cmd_authz_expires(const char *sub, const char *text, int64_t *lifetime_s);
static int cmd_authz_print_escaped(const char *s, size_t max);

/* The bytes of a label `authz list` shows (the rest is cut, "..." says so). */
#define CMD_AUTHZ_LABEL_SHOWN 64
static void cmd_authz_print_row(PGresult *res, int i, cJSON *arr, bool json);

static const struct cmd_admin_sub cmd_authz_subs[] = {
	{.name = "create",
	 .run = cmd_authz_create,
	 .npos = 1,
	 .needs_db = true,
	 .needs_master = true},
	{.name = "accept",
	 .run = cmd_authz_accept,
	 .npos = 2,
	 .needs_db = true,
	 .needs_master = true},
	{.name = "list", .run = cmd_authz_list, .needs_db = true},
	{.name = "revoke", .run = cmd_authz_revoke, .npos = 1, .needs_db = true},
};

static const struct cmd_admin cmd_authz_admin = {
	.name = "authz",
	.subs = cmd_authz_subs,
	.nsubs = sizeof(cmd_authz_subs) / sizeof(cmd_authz_subs[0]),
	.usage = cmd_authz_usage,
};

/* Usage of `keycastd authz`. */
void cmd_authz_usage(FILE *out)
{
	fprintf(out,
		"usage: keycastd authz create KEY [--relay URL]... [--label TEXT]\n"
		"                             [--expires-in SECONDS] [--policy JSON]\n"
		"                             [--format text|json] [SETTINGS]\n"
		"       keycastd authz accept KEY URI [--label TEXT] [--expires-in SECONDS]\n"
		"                             [--policy JSON] [--format text|json] [SETTINGS]\n"
		"       keycastd authz list [--format text|json] [SETTINGS]\n"
		"       keycastd authz revoke ID [--format text|json] [SETTINGS]\n");
	cmd_token_usage_lines(out);
	fprintf(out,
		"\n"
		"create  authorize a client app to sign with KEY (name or pubkey): prints the\n"
		"        bunker:// URI with the relays (--relay, else bunker_relays) and a\n"
		"        fresh single-use connect secret, stored only hashed\n"
		"accept  authorize the client app of a nostrconnect:// URI (URI, or - to read\n"
		"        it from standard input) to sign with KEY, bound to that client from\n"
		"        the start, on the URI's relays; the signer sends the client its\n"
		"        connect reply (the URI's secret, stored sealed) within seconds\n"
		"list    list authorizations (never secrets)\n"
		"revoke  revoke authorization ID (and its API tokens)\n"
		"token   bearer tokens of the HTTP API acting for an authorization; see\n"
		"        `keycastd authz token --help`\n\n"
		"SETTINGS (the same as serve's):\n");
	settings_print_help(out);
}

/* `keycastd authz`: dispatch to a sub-command. */
int cmd_authz(int argc, char **argv)
{
	struct cmd_authz_opts o = {0};
	const struct cmd_opt opts[] = {{.name = "relay", .list = o.relays, .nlist = &o.nrelays},
				       {.name = "label", .value = &o.label},
				       {.name = "expires-in", .value = &o.expires_in},
				       {.name = "policy", .value = &o.policy},
				       {0}};
	struct cmd_admin_ctx c = {.arg = &o};

	if (argc >= 2 && strcmp(argv[1], "token") == 0)
		return cmd_token(argc - 1, argv + 1);
	return cmd_admin_run(&cmd_authz_admin, &c, opts, argc, argv);
}

/* The relays: --relay flags, else bunker_relays; each a ws:// or wss:// URL. */
static int cmd_authz_relays(const struct cmd_admin_ctx *c, const char ***relays, size_t *n)
{
	struct cmd_authz_opts *o = c->arg;

	*relays = o->nrelays > 0 ? o->relays : (const char **)c->cfg.bunker_relays.v;
	*n = o->nrelays > 0 ? o->nrelays : c->cfg.bunker_relays.n;
	if (*n == 0) {
		fprintf(stderr, "keycastd authz create: no relays: give --relay URL or set "
				"bunker_relays\n");
		return -1;
	}
	for (size_t i = 0; i < *n; i++)
		if (cmd_authz_relay_ok("create", (*relays)[i]) != 0)
			return -1;
	return 0;
}

/*
 * Whether url is a relay the relay client will connect to: valid UTF-8,
 * then its own parser (ws_url_parse: scheme, host length, port 1..65535,
 * no control byte); else say why (the URL cut short). 0 or -1.
 */
static int cmd_authz_relay_ok(const char *sub, const char *url)
{
	char err[128];
	const char *cut = strlen(url) > 80 ? "..." : "";

	if (cmd_authz_text_ok(sub, "relay", url, false) != 0)
		return -1;
	if (!nostr_uri_relay_valid(url)) {
		fprintf(stderr, "keycastd authz %s: relay '%.80s%s' is not a ws:// or wss:// URL\n",
			sub, url, cut);
		return -1;
	}
	if (ws_url_parse(&(struct ws_url){0}, url, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr,
		"keycastd authz %s: relay '%.80s%s' is not a URL the relay client accepts: %s\n",
		sub, url, cut, err);
	return -1;
}

/* The length of the valid UTF-8 sequence at s (overlongs, surrogates refused), or 0. */
static size_t cmd_authz_utf8_len(const unsigned char *s)
{
	unsigned cp, n = s[0] < 0x80	? 1
			 : s[0] >= 0xf0 ? 4
			 : s[0] >= 0xe0 ? 3
			 : s[0] >= 0xc2 ? 2
					: 0;

	if (n <= 1 || s[0] > 0xf4)
		return s[0] > 0xf4 ? 0 : n;
	cp = s[0] & (0x7f >> n);
	for (unsigned i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Whether s is valid UTF-8 (and, unless controls, holds no control
 * character) and at most DB_ADMIN_TEXT_MAX bytes; else say which (exit 2
 * follows, before anything reaches the database). 0 or -1.
 */
static int cmd_authz_text_ok(const char *sub, const char *what, const char *s, bool controls)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	for (size_t i = 0; p[i] != '\0'; i += n) {
		n = cmd_authz_utf8_len(p + i);
		if (n == 0) {
			fprintf(stderr, "keycastd authz %s: --%s: not valid UTF-8 (byte %zu)\n",
				sub, what, i + 1);
			return -1;
		}
		if (!controls && n == 1 && (p[i] < 0x20 || p[i] == 0x7f)) {
			fprintf(stderr,
				"keycastd authz %s: --%s: control character 0x%02x at byte %zu\n",
				sub, what, p[i], i + 1);
			return -1;
		}
	}
	if (strlen(s) > DB_ADMIN_TEXT_MAX) {
		fprintf(stderr, "keycastd authz %s: --%s: longer than %d bytes\n", sub, what,
			DB_ADMIN_TEXT_MAX);
		return -1;
	}
	return 0;
}

/* --expires-in: whole seconds, 1 .. DB_ADMIN_LIFETIME_MAX_S, into *lifetime_s. 0 or -1. */
static int cmd_authz_expires(const char *sub, const char *text, int64_t *lifetime_s)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno == 0 && end != text && *end == '\0' && v > 0 && v <= DB_ADMIN_LIFETIME_MAX_S) {
		*lifetime_s = v;
		return 0;
	}
	fprintf(stderr,
		"keycastd authz %s: --expires-in '%.40s': want whole seconds from 1 to %lld (100 "
		"years)\n",
		sub, text, (long long)DB_ADMIN_LIFETIME_MAX_S);
	return -1;
}

/* Check --expires-in (seconds > 0, into *lifetime_s; 0 if absent) and --policy (a valid policy). */
static int cmd_authz_options(const char *sub, const struct cmd_authz_opts *o, int64_t *lifetime_s)
{
	struct signer_policy policy;
	char err[256];

	*lifetime_s = 0;
	if (o->expires_in != NULL && cmd_authz_expires(sub, o->expires_in, lifetime_s) != 0)
		return -1;
	if (o->label != NULL && cmd_authz_text_ok(sub, "label", o->label, false) != 0)
		return -1;
	if (o->policy == NULL)
		return 0;
	if (cmd_authz_text_ok(sub, "policy", o->policy, true) != 0)
		return -1;
	if (strcasestr(o->policy, "\\u0000") != NULL) { /* PostgreSQL's jsonb refuses it */
		fprintf(stderr,
			"keycastd authz %s: --policy: \\u0000 (a NUL character) is not "
			"allowed in a policy\n",
			sub);
		return -1;
	}
	if (o->policy[0] == '\0') { /* the database wants JSON: {} is the empty policy */
		fprintf(stderr, "keycastd authz %s: --policy: empty; {} allows everything\n", sub);
		return -1;
	}
	if (signer_policy_parse(&policy, o->policy, strlen(o->policy), err, sizeof(err)) != 0) {
		fprintf(stderr, "keycastd authz %s: --policy: %s\n", sub, err);
		return -1;
	}
	signer_policy_clear(&policy);
	return 0;
}

/* A fresh bunker keypair: its secret and its pubkey hex. */
static int cmd_authz_keypair(struct nostr_seckey *sk, char pk[65])
{
	struct nostr_keypair kp;

	if (nostr_keypair_generate(&kp) != 0)
		return -1;
	nostr_keypair_seckey(sk, &kp);
	nostr_pubkey_to_hex(pk, &kp.pub);
	nostr_keypair_wipe(&kp);
	return 0;
}

/* The bunker:// URI of a bunker key (nostr/uri.h); *out is malloc'd. 0 or -1. */
static int cmd_authz_uri(char **out, const struct nostr_seckey *bunker, const char *const *relays,
			 size_t n, const struct secret *secret)
{
	struct nostr_uri u = {.kind = NOSTR_URI_BUNKER, .nrelays = n};
	char err[256];
	int rc = -1;

	if (nostr_seckey_pubkey(&u.pubkey, bunker) != 0)
		goto fail;
	if (secret_set(&u.secret, secret_reveal(secret), secret_len(secret)) != 0) {
		fprintf(stderr, "keycastd authz create: %s\n", strerror(ENOMEM));
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		u.relays[i] = (char *)relays[i]; /* borrowed: formatting never frees */
	if (nostr_uri_format(out, &u, err, sizeof(err)) != 0) {
		fprintf(stderr, "keycastd authz create: %s\n", err);
		goto fail;
	}
	rc = 0;
fail:
	secret_wipe(&u.secret); /* the relays are borrowed: not nostr_uri_clear */
	return rc;
}

/* A fresh connect secret: 32 random bytes as hex. 0 or -1. */
static int cmd_authz_secret(struct secret *s)
{
	unsigned char raw[32];
	char hex[65];
	int rc = -1;

	if (RAND_priv_bytes(raw, sizeof(raw)) == 1) {
		hex_encode(hex, raw, sizeof(raw));
		rc = secret_set(s, hex, 64);
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

/*
 * Print the new authorization and its URI (the only copy of the secret),
 * then flush: a write error is seen here, not lost at exit. CMD_OK or
 * CMD_FAIL (the row is stored all the same: the message says to revoke it).
 */
static int cmd_authz_print(const struct cmd_admin_ctx *c, int64_t id, const char *key_pk,
			   const char *pk, const char *uri)
{
	int n;

	if (c->json)
		n = printf("{\"id\":%lld,\"key_pubkey\":\"%s\",\"bunker_pubkey\":\"%s\","
			   "\"bunker_uri\":\"%s\"}\n",
			   (long long)id, key_pk, pk, uri);
	else
		n = printf("authorization %lld for key %s\n%s\n", (long long)id, key_pk, uri);
	if (n > 0 && fflush(stdout) == 0)
		return CMD_OK;
	fprintf(stderr,
		"keycastd authz create: authorization %lld was stored but its bunker URI could not"
		" be written: %s; revoke it (keycastd authz revoke %lld)\n",
		(long long)id, strerror(errno), (long long)id);
	return CMD_FAIL;
}

/* authz create KEY: bunker keypair, connect secret, URI. */
static int cmd_authz_create(struct cmd_admin_ctx *c)
{
	const struct cmd_authz_opts *o = c->arg;
	struct nostr_seckey bunker;
	struct secret secret = {0};
	char pk[65], key_pk[65], err[512], *uri = NULL;
	struct db_admin_authz spec = {.key = c->pos[0],
				      .bunker_pubkey = pk,
				      .bunker_secret = &bunker,
				      .connect_secret = &secret,
				      .policy_json = o->policy,
				      .label = o->label};
	int64_t id = -1;
	int rc = CMD_FAIL;

	if (cmd_authz_relays(c, (const char ***)&spec.relays, &spec.nrelays) != 0 ||
	    cmd_authz_options("create", o, &spec.lifetime_s) != 0)
		return CMD_USAGE;
	if (cmd_authz_keypair(&bunker, pk) != 0 || cmd_authz_secret(&secret) != 0)
		goto out;
	if (cmd_authz_uri(&uri, &bunker, spec.relays, spec.nrelays, &secret) != 0)
		goto out; /* nothing stored: the URI is made before the row */
	id = db_admin_authz_create(c->conn, &c->mk, &spec, key_pk, err, sizeof(err));
	if (id < 0)
		fprintf(stderr, "keycastd authz create: %s\n", err);
	else
		rc = cmd_authz_print(c, id, key_pk, pk, uri);
out:
	OPENSSL_cleanse(&bunker, sizeof(bunker));
	secret_wipe(&secret);
	if (uri != NULL)
		OPENSSL_cleanse(uri, strlen(uri));
	free(uri);
	return rc;
}

/* Read a URI from standard input (no stdio buffer) into buf, whitespace trimmed. 0 or -1. */
static int cmd_authz_read_uri(char *buf, size_t len)
{
	size_t n = 0, skip;
	ssize_t r = 0;

	while (n < len - 1 && (r = read(STDIN_FILENO, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	if (r < 0 || n >= len - 1)
		return -1;
	while (n > 0 && strchr(" \t\r\n", buf[n - 1]) != NULL)
		buf[--n] = '\0';
	skip = strspn(buf, " \t\r\n");
	memmove(buf, buf + skip, n - skip + 1);
	return 0;
}

/* Parse arg ("-": standard input) as a nostrconnect:// URI into u. 0, or -1 (said on stderr). */
static int cmd_authz_nostrconnect(struct nostr_uri *u, const char *arg)
{
	char buf[CMD_AUTHZ_URI_MAX], err[256];
	bool use_stdin = strcmp(arg, "-") == 0;
	int rc = -1;

	if (use_stdin && cmd_authz_read_uri(buf, sizeof(buf)) != 0)
		fprintf(stderr, "keycastd authz accept: cannot read a URI from standard input\n");
	else if (nostr_uri_parse(u, use_stdin ? buf : arg, err, sizeof(err)) != 0)
		fprintf(stderr, "keycastd authz accept: not a nostrconnect:// URI: %s\n", err);
	else if (u->kind != NOSTR_URI_NOSTRCONNECT)
		fprintf(stderr, "keycastd authz accept: a bunker:// URI is a signer's; accept takes"
				" the client's nostrconnect:// URI\n");
	else
		rc = 0;
	for (size_t i = 0; rc == 0 && i < u->nrelays; i++)
		rc = cmd_authz_relay_ok("accept", u->relays[i]);
	if (rc == 0 && !secret_is_set(&u->secret)) {
		fprintf(stderr, "keycastd authz accept: the URI has no secret= parameter\n");
		rc = -1;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc != 0)
		nostr_uri_clear(u);
	return rc;
}

/* authz accept KEY URI: a bunker keypair for a nostrconnect:// client, bound from the start. */
static int cmd_authz_accept(struct cmd_admin_ctx *c)
{
	const struct cmd_authz_opts *o = c->arg;
	struct nostr_uri u = {0};
	struct nostr_seckey bunker;
	char pk[65], key_pk[65], client[65], err[512];
	struct db_admin_client cl = {.pubkey = client, .reply = &u.secret};
	struct db_admin_authz spec = {.key = c->pos[0],
				      .bunker_pubkey = pk,
				      .bunker_secret = &bunker,
				      .policy_json = o->policy,
				      .label = o->label};
	int64_t id;
	int rc = CMD_USAGE;

	if (o->nrelays > 0) {
		fprintf(stderr, "keycastd authz accept: no --relay: the relays are the URI's\n");
		return CMD_USAGE;
	}
	if (cmd_authz_options("accept", o, &spec.lifetime_s) != 0 ||
	    cmd_authz_nostrconnect(&u, c->pos[1]) != 0)
		goto out;
	spec.relays = (const char *const *)u.relays;
	spec.nrelays = u.nrelays;
	nostr_pubkey_to_hex(client, &u.pubkey);
	rc = CMD_FAIL;
	if (cmd_authz_keypair(&bunker, pk) != 0)
		goto out;
	id = db_admin_authz_accept(c->conn, &c->mk, &spec, &cl, key_pk, err, sizeof(err));
	if (id < 0)
		fprintf(stderr, "keycastd authz accept: %s\n", err);
	else
		rc = cmd_authz_print_accepted(c, id, key_pk, pk, client, &u);
out:
	OPENSSL_cleanse(&bunker, sizeof(bunker));
	nostr_uri_clear(&u);
	return rc;
}

/* Print an accepted authorization (never the secret), then flush. CMD_OK or CMD_FAIL. */
static int cmd_authz_print_accepted(const struct cmd_admin_ctx *c, int64_t id, const char *key_pk,
				    const char *pk, const char *client, const struct nostr_uri *u)
{
	cJSON *o = c->json ? cJSON_CreateObject() : NULL;
	char *json = NULL;
	int n;

	if (o != NULL) {
		cJSON_AddNumberToObject(o, "id", (double)id);
		cJSON_AddStringToObject(o, "key_pubkey", key_pk);
		cJSON_AddStringToObject(o, "bunker_pubkey", pk);
		cJSON_AddStringToObject(o, "client_pubkey", client);
		cJSON_AddItemToObject(
			o, "relays",
			cJSON_CreateStringArray((const char *const *)u->relays, (int)u->nrelays));
		json = cJSON_PrintUnformatted(o);
	}
	if (c->json)
		n = json != NULL ? printf("%s\n", json) : -1;
	else
		n = printf("authorization %lld for key %s\nbunker pubkey %s\nclient pubkey %s\n",
			   (long long)id, key_pk, pk, client);
	for (size_t i = 0; !c->json && n > 0 && i < u->nrelays; i++)
		n = printf("relay %s\n", u->relays[i]);
	if (!c->json && n > 0)
		n = printf("the signer (keycastd serve) sends the client its connect reply within"
			   " seconds\n");
	cJSON_free(json);
	cJSON_Delete(o);
	if (n > 0 && fflush(stdout) == 0)
		return CMD_OK;
	fprintf(stderr,
		"keycastd authz accept: authorization %lld was stored but could not be"
		" printed\n",
		(long long)id);
	return CMD_FAIL;
}

/* Print (or collect as JSON) one authorization row. */
static void cmd_authz_print_row(PGresult *res, int i, cJSON *arr, bool json)
{
	static const struct {
		const char *key;
		int col;
	} cols[] = {{"key", DB_AUTHZ_COL_KEY_NAME},
		    {"key_pubkey", DB_AUTHZ_COL_KEY_PUBKEY},
		    {"bunker_pubkey", DB_AUTHZ_COL_BUNKER_PUBKEY},
		    {"label", DB_AUTHZ_COL_LABEL},
		    {"client_pubkey", DB_AUTHZ_COL_CLIENT},
		    {"expires", DB_AUTHZ_COL_EXPIRES},
		    {"revoked", DB_AUTHZ_COL_REVOKED},
		    {"created", DB_AUTHZ_COL_CREATED}};
	cJSON *o = cJSON_CreateObject();
	bool used = strcmp(PQgetvalue(res, i, DB_AUTHZ_COL_SECRET_USED), "t") == 0;
	bool revoked = !PQgetisnull(res, i, DB_AUTHZ_COL_REVOKED);

	cJSON_AddNumberToObject(o, "id", atof(PQgetvalue(res, i, DB_AUTHZ_COL_ID)));
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		cJSON_AddItemToObject(
			o, cols[c].key,
			PQgetisnull(res, i, cols[c].col)
				? cJSON_CreateNull()
				: cJSON_CreateString(PQgetvalue(res, i, cols[c].col)));
	cJSON_AddBoolToObject(o, "secret_used", used);
	cJSON_AddItemToObject(o, "relays", cJSON_Parse(PQgetvalue(res, i, DB_AUTHZ_COL_RELAYS)));
	cJSON_AddItemToArray(arr, o);
	if (json)
		return;
	printf("%-4s %-16s %-10s ", PQgetvalue(res, i, DB_AUTHZ_COL_ID),
	       PQgetvalue(res, i, DB_AUTHZ_COL_KEY_NAME),
	       revoked ? "revoked"
	       : used  ? "connected"
		       : "pending");
	printf("%*s",
	       8 - cmd_authz_print_escaped(PQgetvalue(res, i, DB_AUTHZ_COL_LABEL),
					   CMD_AUTHZ_LABEL_SHOWN),
	       "");
	printf(" %s ", PQgetvalue(res, i, DB_AUTHZ_COL_BUNKER_PUBKEY));
	cmd_authz_print_escaped(PQgetvalue(res, i, DB_AUTHZ_COL_RELAYS), SIZE_MAX);
	putchar('\n');
}

/*
 * Print s on stdout with control characters (and backslashes) escaped as
 * \xNN, so a label cannot move the cursor or forge lines; at most max
 * bytes of it, "..." marking a cut (labels stored before they were
 * bounded may be long). Returns the bytes printed (at most 8 counted).
 */
static int cmd_authz_print_escaped(const char *s, size_t max)
{
	size_t i;
	int n = 0;

	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f || ch == '\\')
			n += printf("\\x%02x", ch);
		else
			n += putchar(ch) != EOF;
	}
	if (s[i] != '\0')
		n += printf("...");
	return n < 8 ? n : 8;
}

/* authz list. */
static int cmd_authz_list(struct cmd_admin_ctx *c)
{
	char err[512];
	PGresult *res = db_admin_authz_list(c->conn, err, sizeof(err));

	return cmd_admin_list(c, res, "keycastd authz list", err, cmd_authz_print_row);
}

/* authz revoke ID. */
static int cmd_authz_revoke(struct cmd_admin_ctx *c)
{
	char err[512], *end;
	long long id;
	int n;

	errno = 0;
	id = strtoll(c->pos[0], &end, 10);
	if (errno != 0 || end == c->pos[0] || *end != '\0' || id <= 0) {
		fprintf(stderr, "keycastd authz revoke: '%s' is not an authorization id\n",
			c->pos[0]);
		return CMD_USAGE;
	}
	n = db_admin_authz_revoke(c->conn, id, err, sizeof(err));
	if (n < 0)
		fprintf(stderr, "keycastd authz revoke: %s\n", err);
	else if (n == 0)
		fprintf(stderr, "keycastd authz revoke: no live authorization %lld\n", id);
	else if (c->json)
		printf("{\"revoked\":%lld}\n", id);
	else
		printf("revoked authorization %lld\n", id);
	return n == 1 ? CMD_OK : CMD_FAIL;
}
