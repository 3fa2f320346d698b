/*
 * cmd_token.c - `keycastd authz token`: the HTTP API's bearer tokens.
 *
 *   authz token create AUTHZ [--label TEXT]
 *   authz token list [AUTHZ]
 *   authz token revoke ID
 *
 * create prints a fresh token once: the database keeps only its SHA-256
 * and its first characters (db_token.h). A token acts for its
 * authorization (key, policy, rate limit) through `POST /api/nostr`; the
 * daemons pick a change up with their next serving-set reload, and a
 * revocation counts at once for every request that follows (doc/api.md).
 */
#include "daemon/cmd.h"
#include "daemon/cmd_admin.h"
#include "daemon/settings.h"
#include "db/db_token.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The options of `keycastd authz token` (cmd_admin_ctx.arg). */
struct cmd_token_opts {
	const char *label;
};

static int cmd_token_create(struct cmd_admin_ctx *c);
static int cmd_token_list(struct cmd_admin_ctx *c);
static int cmd_token_revoke(struct cmd_admin_ctx *c);
static int cmd_token_id(const char *sub, const char *what, const char *text, int64_t *out);
static void cmd_token_print_row(PGresult *res, int i, cJSON *arr, bool json);
static void cmd_token_usage(FILE *out);

static const struct cmd_admin_sub cmd_token_subs[] = {
	{.name = "create", .run = cmd_token_create, .npos = 1, .needs_db = true},
	{.name = "list", .run = cmd_token_list, .npos = 1, .optional_pos = true, .needs_db = true},
	{.name = "revoke", .run = cmd_token_revoke, .npos = 1, .needs_db = true},
};

static const struct cmd_admin cmd_token_admin = {
	.name = "authz token",
	.subs = cmd_token_subs,
	.nsubs = sizeof(cmd_token_subs) / sizeof(cmd_token_subs[0]),
	.usage = cmd_token_usage,
};

/* The usage lines of `keycastd authz token`, also printed by `keycastd authz --help`. */
void cmd_token_usage_lines(FILE *out)
{
	fprintf(out,
		"       keycastd authz token create AUTHZ [--label TEXT] [--format text|json]\n"
		"       keycastd authz token list [AUTHZ] [--format text|json]\n"
		"       keycastd authz token revoke ID [--format text|json]\n");
}

/* Usage of `keycastd authz token`. */
static void cmd_token_usage(FILE *out)
{
	fprintf(out, "usage:\n");
	cmd_token_usage_lines(out);
	fprintf(out,
		"\ncreate  make a bearer token for the HTTP API (POST /api/nostr) acting for\n"
		"        authorization AUTHZ: its key, policy and rate limit; the token is\n"
		"        printed once and stored only hashed\n"
		"list    list tokens (of AUTHZ, or all): id, authorization, first characters,\n"
		"        label, state; never the token\n"
		"revoke  revoke token ID (revoking the authorization revokes its tokens)\n\n"
		"SETTINGS (the same as serve's):\n");
	settings_print_help(out);
}

/* `keycastd authz token ...`: argv[0] is "token". */
int cmd_token(int argc, char **argv)
{
	struct cmd_token_opts o = {0};
	const struct cmd_opt opts[] = {{.name = "label", .value = &o.label}, {0}};
	struct cmd_admin_ctx c = {.arg = &o};

	if (argc == 2 && cmd_is_help(argv[1])) {
		cmd_token_usage(stdout);
		return CMD_OK;
	}
	return cmd_admin_run(&cmd_token_admin, &c, opts, argc, argv);
}

/* Parse a positive id; CMD_OK, or CMD_USAGE (said on stderr). */
static int cmd_token_id(const char *sub, const char *what, const char *text, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v <= 0) {
		fprintf(stderr, "keycastd authz token %s: '%s' is not %s id\n", sub, text, what);
		return CMD_USAGE;
	}
	*out = v;
	return CMD_OK;
}

/* authz token create AUTHZ: print the token once. */
static int cmd_token_create(struct cmd_admin_ctx *c)
{
	const struct cmd_token_opts *o = c->arg;
	char token[DB_TOKEN_LEN + 1], err[512];
	int64_t authz, id;

	if (cmd_token_id("create", "an authorization", c->pos[0], &authz) != CMD_OK)
		return CMD_USAGE;
	id = db_token_create(c->conn, authz, o->label, token, err, sizeof(err));
	if (id < 0) {
		fprintf(stderr, "keycastd authz token create: %s\n", err);
		return CMD_FAIL;
	}
	if (c->json)
		printf("{\"id\":%lld,\"authorization\":%lld,\"token\":\"%s\"}\n", (long long)id,
		       (long long)authz, token);
	else
		printf("token %lld for authorization %lld (shown once, keep it secret):\n%s\n",
		       (long long)id, (long long)authz, token);
	OPENSSL_cleanse(token, sizeof(token));
	return fflush(stdout) == 0 ? CMD_OK : CMD_FAIL;
}

/* Print (or collect as JSON) one token row. */
static void cmd_token_print_row(PGresult *res, int i, cJSON *arr, bool json)
{
	cJSON *o = cJSON_CreateObject();
	bool revoked = !PQgetisnull(res, i, DB_TOKEN_COL_REVOKED);

	cJSON_AddNumberToObject(o, "id", atof(PQgetvalue(res, i, DB_TOKEN_COL_ID)));
	cJSON_AddNumberToObject(o, "authorization", atof(PQgetvalue(res, i, DB_TOKEN_COL_AUTHZ)));
	cJSON_AddStringToObject(o, "prefix", PQgetvalue(res, i, DB_TOKEN_COL_PREFIX));
	cJSON_AddStringToObject(o, "label", PQgetvalue(res, i, DB_TOKEN_COL_LABEL));
	cJSON_AddStringToObject(o, "created", PQgetvalue(res, i, DB_TOKEN_COL_CREATED));
	cJSON_AddItemToObject(o, "revoked",
			      revoked ? cJSON_CreateString(PQgetvalue(res, i, DB_TOKEN_COL_REVOKED))
				      : cJSON_CreateNull());
	cJSON_AddItemToArray(arr, o);
	if (json)
		return;
	printf("%-4s authz %-4s %s... %-7s %s ", PQgetvalue(res, i, DB_TOKEN_COL_ID),
	       PQgetvalue(res, i, DB_TOKEN_COL_AUTHZ), PQgetvalue(res, i, DB_TOKEN_COL_PREFIX),
	       revoked ? "revoked" : "live", PQgetvalue(res, i, DB_TOKEN_COL_CREATED));
	for (const unsigned char *p = (const unsigned char *)PQgetvalue(res, i, DB_TOKEN_COL_LABEL);
	     *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			printf("\\x%02x", *p); /* a label cannot move the cursor or forge lines */
		else
			putchar(*p);
	}
	putchar('\n');
}

/* authz token list [AUTHZ]. */
static int cmd_token_list(struct cmd_admin_ctx *c)
{
	char err[512];
	int64_t authz = 0;
	PGresult *res;

	if (c->npos > 0 && cmd_token_id("list", "an authorization", c->pos[0], &authz) != CMD_OK)
		return CMD_USAGE;
	res = db_token_list(c->conn, authz, err, sizeof(err));
	return cmd_admin_list(c, res, "keycastd authz token list", err, cmd_token_print_row);
}

/* authz token revoke ID. */
static int cmd_token_revoke(struct cmd_admin_ctx *c)
{
	char err[512];
	int64_t id;
	int n;

	if (cmd_token_id("revoke", "a token", c->pos[0], &id) != CMD_OK)
		return CMD_USAGE;
	n = db_token_revoke(c->conn, id, err, sizeof(err));
	if (n < 0)
		fprintf(stderr, "keycastd authz token revoke: %s\n", err);
	else if (n == 0)
		fprintf(stderr, "keycastd authz token revoke: no live token %lld\n", (long long)id);
	else if (c->json)
		printf("{\"revoked\":%lld}\n", (long long)id);
	else
		printf("revoked token %lld\n", (long long)id);
	return n == 1 ? CMD_OK : CMD_FAIL;
}
