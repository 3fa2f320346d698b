/*
 * cmd_key.c - `keycastd key`: manage users' signing keys and the master key.
 *
 *   key generate-master [FILE]    new master key file (0600, never overwritten)
 *   key add NAME                  new keypair, stored sealed
 *   key import NAME [--file P]    secret (hex or nsec) from stdin or a file
 *   key list                      keys and their live authorizations
 *   key remove NAME|PUBKEY        a key and its authorizations
 *
 * Secrets never come from argv; keys, nsec and npub come from the nostr
 * core (nostr/keys.h, nostr/bech32.h).
 */
#include "core/config.h"
#include "core/env.h"
#include "daemon/cmd.h"
#include "daemon/settings.h"
#include "db/db_admin.h"
#include "db/db_hex.h"
#include "db/db_seal.h"
#include "db/db_sync.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include "nostr/bech32.h"
#include "nostr/keys.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Everything a key sub-command works with. */
struct cmd_key_ctx {
	struct config cfg;
	PGconn *conn;
	struct db_master_key mk;
	bool json;
	const char *pos[1];
	size_t npos;
	const char *file;
};

/* One sub-command of `keycastd key`. */
struct cmd_key_sub {
	const char *name;
	int (*run)(struct cmd_key_ctx *k);
	size_t npos;	   /* positional arguments it requires */
	bool optional_pos; /* ... or none */
	bool needs_db;	   /* connect to database_url */
	bool needs_master; /* load the master key */
};

static int cmd_key_generate_master(struct cmd_key_ctx *k);
static int cmd_key_add(struct cmd_key_ctx *k);
static int cmd_key_import(struct cmd_key_ctx *k);
static int cmd_key_list(struct cmd_key_ctx *k);
static int cmd_key_remove(struct cmd_key_ctx *k);
static int cmd_key_store(struct cmd_key_ctx *k, const struct nostr_seckey *sk);
static int cmd_key_read_secret(const char *file, struct nostr_seckey *sk);
static int cmd_key_parse_secret(const char *text, struct nostr_seckey *sk);
static int cmd_key_prepare(struct cmd_key_ctx *k, const struct cmd_key_sub *sub);
static const struct cmd_key_sub *cmd_key_find(const char *name);
static int cmd_key_pubkey(char pk[65], const struct nostr_seckey *sk);
static int cmd_key_npub(char *out, size_t cap, const char *pk_hex);
static void cmd_key_print_removed(const char *name);

static const struct cmd_key_sub cmd_key_subs[] = {
	{"generate-master", cmd_key_generate_master, 1, true, false, false},
	{"add", cmd_key_add, 1, false, true, true},
	{"import", cmd_key_import, 1, false, true, true},
	{"list", cmd_key_list, 0, false, true, false},
	{"remove", cmd_key_remove, 1, false, true, false},
};

/* Usage of `keycastd key`. */
void cmd_key_usage(FILE *out)
{
	fprintf(out,
		"usage: keycastd key generate-master [FILE]\n"
		"       keycastd key add NAME [--format text|json] [SETTINGS]\n"
		"       keycastd key import NAME [--file PATH] [--format text|json] [SETTINGS]\n"
		"       keycastd key list [--format text|json] [SETTINGS]\n"
		"       keycastd key remove NAME|PUBKEY [--format text|json] [SETTINGS]\n\n"
		"generate-master  write a new 256-bit master key to FILE (default:\n"
		"                 master_key_path), mode 0600; never overwrites\n"
		"add              generate a new Nostr keypair and store it sealed\n"
		"import           store an existing secret key, read as 64 hex digits or\n"
		"                 nsec1... from standard input or --file (never from argv)\n"
		"list             list keys (never their secrets)\n"
		"remove           delete a key and its authorizations\n\n"
		"The master key comes from MASTER_KEY (hex) or master_key_path.\n"
		"SETTINGS (the same as serve's):\n");
	settings_print_help(out);
}

/* The sub-command called name, or NULL. */
static const struct cmd_key_sub *cmd_key_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmd_key_subs) / sizeof(cmd_key_subs[0]); i++)
		if (strcmp(cmd_key_subs[i].name, name) == 0)
			return &cmd_key_subs[i];
	return NULL;
}

/* Connect and load the master key as the sub-command needs. */
static int cmd_key_prepare(struct cmd_key_ctx *k, const struct cmd_key_sub *sub)
{
	char err[512];
	struct env e;
	int rc = 0;

	if (sub->needs_master) {
		env_init(&e, 1);
		rc = db_master_key_load(&k->mk, &e, k->cfg.master_key_path, err, sizeof(err));
		env_clear(&e);
		if (rc != 0) {
			fprintf(stderr, "keycastd key: %s\n", err);
			return CMD_FAIL;
		}
	}
	if (sub->needs_db &&
	    (k->conn = db_sync_connect(k->cfg.database_url, err, sizeof(err))) == NULL) {
		fprintf(stderr, "keycastd key: %s\n", err);
		return CMD_FAIL;
	}
	return CMD_OK;
}

/* `keycastd key`: dispatch to a sub-command. */
int cmd_key(int argc, char **argv)
{
	struct cmd_key_ctx k = {0};
	const char *format = NULL;
	const struct cmd_opt opts[] = {
		{.name = "format", .value = &format}, {.name = "file", .value = &k.file}, {0}};
	const struct cmd_key_sub *sub = argc >= 2 ? cmd_key_find(argv[1]) : NULL;
	int rc, json;

	if (sub == NULL) {
		cmd_key_usage(stderr);
		return CMD_USAGE;
	}
	rc = cmd_admin_load(&k.cfg, argc, argv, 2, opts, k.pos, sub->npos, &k.npos);
	json = cmd_admin_format(format);
	k.json = json == 1;
	if (rc == CMD_OK && (json < 0 || (k.npos != sub->npos && !sub->optional_pos))) {
		cmd_key_usage(stderr);
		rc = CMD_USAGE;
	}
	if (rc == CMD_OK)
		rc = cmd_key_prepare(&k, sub);
	if (rc == CMD_OK)
		rc = sub->run(&k);
	db_master_key_wipe(&k.mk);
	PQfinish(k.conn);
	config_free(&k.cfg);
	return rc;
}

/* key generate-master [FILE]. */
static int cmd_key_generate_master(struct cmd_key_ctx *k)
{
	const char *path = k->npos > 0 ? k->pos[0] : k->cfg.master_key_path;
	struct db_master_key mk;
	char err[512];
	int rc = CMD_FAIL;

	if (*path == '\0') {
		fprintf(stderr,
			"keycastd key generate-master: give a FILE or set master_key_path\n");
		return CMD_USAGE;
	}
	if (db_master_key_generate(&mk) != 0)
		fprintf(stderr, "keycastd key generate-master: no randomness\n");
	else if (db_master_key_write_file(&mk, path, err, sizeof(err)) != 0)
		fprintf(stderr, "keycastd key generate-master: %s\n", err);
	else {
		printf("wrote a new master key to %s (mode 0600): keep it secret and backed up\n",
		       path);
		rc = CMD_OK;
	}
	db_master_key_wipe(&mk);
	return rc;
}

/* Store sk under the name in pos[0] and print what was stored. */
static int cmd_key_store(struct cmd_key_ctx *k, const struct nostr_seckey *sk)
{
	char pk[65], npub[BECH32_KEY_LEN], err[512];
	int64_t id;

	if (cmd_key_pubkey(pk, sk) != 0) {
		fprintf(stderr, "keycastd key: not a valid secret key\n");
		return CMD_FAIL;
	}
	if (cmd_key_npub(npub, sizeof(npub), pk) != 0) {
		fprintf(stderr, "keycastd key: cannot encode the npub\n");
		return CMD_FAIL;
	}
	id = db_admin_key_add(k->conn, &k->mk, k->pos[0], pk, sk, err, sizeof(err));
	if (id < 0) {
		fprintf(stderr, "keycastd key: %s\n", err);
		return CMD_FAIL;
	}
	if (k->json)
		printf("{\"id\":%lld,\"pubkey\":\"%s\",\"npub\":\"%s\"}\n", (long long)id, pk,
		       npub);
	else
		printf("stored key %lld\npubkey %s\nnpub   %s\n", (long long)id, pk, npub);
	return CMD_OK;
}

/* key add NAME: a new keypair. */
static int cmd_key_add(struct cmd_key_ctx *k)
{
	struct nostr_seckey sk;
	int rc = CMD_FAIL;

	if (nostr_seckey_generate(&sk) == 0)
		rc = cmd_key_store(k, &sk);
	OPENSSL_cleanse(&sk, sizeof(sk));
	return rc;
}

/* key import NAME [--file P]: an existing secret from stdin or a file. */
static int cmd_key_import(struct cmd_key_ctx *k)
{
	struct nostr_seckey sk;
	int rc = CMD_FAIL;

	if (cmd_key_read_secret(k->file, &sk) != 0)
		fprintf(stderr, "keycastd key import: expected 64 hex digits or nsec1... on %s\n",
			k->file != NULL ? k->file : "standard input");
	else
		rc = cmd_key_store(k, &sk);
	OPENSSL_cleanse(&sk, sizeof(sk));
	return rc;
}

/* Read one secret (hex or nsec) from file, or stdin when file is NULL or "-" (no stdio buffer). */
static int cmd_key_read_secret(const char *file, struct nostr_seckey *sk)
{
	bool use_stdin = file == NULL || strcmp(file, "-") == 0;
	int fd = use_stdin ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
	char buf[256];
	size_t n = 0;
	ssize_t r = 0;
	int rc;

	if (fd < 0)
		return -1;
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	if (!use_stdin)
		close(fd);
	rc = r >= 0 && n < sizeof(buf) - 1 ? cmd_key_parse_secret(buf, sk) : -1;
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

/* Parse a secret key: 64 hex digits or nsec1..., whitespace around allowed. */
static int cmd_key_parse_secret(const char *text, struct nostr_seckey *sk)
{
	char word[128];
	size_t n = 0;
	int rc;

	text += strspn(text, " \t\r\n");
	n = strcspn(text, " \t\r\n");
	if (n >= sizeof(word) || text[n + strspn(text + n, " \t\r\n")] != '\0')
		return -1;
	memcpy(word, text, n);
	word[n] = '\0';
	if (strncmp(word, "nsec1", 5) == 0)
		rc = bech32_nsec_decode(sk, word);
	else
		rc = nostr_seckey_from_hex(sk, word, n);
	OPENSSL_cleanse(word, sizeof(word));
	return rc;
}

/* key list. */
static int cmd_key_list(struct cmd_key_ctx *k)
{
	char err[512], npub[BECH32_KEY_LEN];
	PGresult *res = db_admin_key_list(k->conn, err, sizeof(err));
	cJSON *arr = cJSON_CreateArray();
	char *text;

	if (res == NULL) {
		fprintf(stderr, "keycastd key list: %s\n", err);
		cJSON_Delete(arr);
		return CMD_FAIL;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		const char *pk = PQgetvalue(res, i, DB_KEY_COL_PUBKEY);
		cJSON *o = cJSON_CreateObject();

		if (cmd_key_npub(npub, sizeof(npub), pk) != 0)
			npub[0] = '\0';
		cJSON_AddNumberToObject(o, "id", atof(PQgetvalue(res, i, DB_KEY_COL_ID)));
		cJSON_AddStringToObject(o, "name", PQgetvalue(res, i, DB_KEY_COL_NAME));
		cJSON_AddStringToObject(o, "pubkey", pk);
		cJSON_AddStringToObject(o, "npub", npub);
		cJSON_AddNumberToObject(o, "authorizations",
					atof(PQgetvalue(res, i, DB_KEY_COL_LIVE_AUTHZ)));
		cJSON_AddStringToObject(o, "created", PQgetvalue(res, i, DB_KEY_COL_CREATED));
		cJSON_AddItemToArray(arr, o);
		if (!k->json)
			printf("%-4s %-20s %s  %s authz  %s\n", PQgetvalue(res, i, DB_KEY_COL_ID),
			       PQgetvalue(res, i, DB_KEY_COL_NAME), npub,
			       PQgetvalue(res, i, DB_KEY_COL_LIVE_AUTHZ),
			       PQgetvalue(res, i, DB_KEY_COL_CREATED));
	}
	if (k->json && (text = cJSON_PrintUnformatted(arr)) != NULL) {
		printf("%s\n", text);
		cJSON_free(text);
	}
	cJSON_Delete(arr);
	PQclear(res);
	return CMD_OK;
}

/* The JSON line of a removed key (its name may need escaping). */
static void cmd_key_print_removed(const char *name)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	if (o != NULL && cJSON_AddStringToObject(o, "removed", name) != NULL)
		text = cJSON_PrintUnformatted(o);
	printf("%s\n", text != NULL ? text : "{\"removed\":null}");
	cJSON_free(text);
	cJSON_Delete(o);
}

/* key remove NAME|PUBKEY. */
static int cmd_key_remove(struct cmd_key_ctx *k)
{
	char err[512];
	int n = db_admin_key_remove(k->conn, k->pos[0], err, sizeof(err));

	if (n < 0)
		fprintf(stderr, "keycastd key remove: %s\n", err);
	else if (n == 0)
		fprintf(stderr, "keycastd key remove: no key named '%s'\n", k->pos[0]);
	else if (k->json)
		cmd_key_print_removed(k->pos[0]);
	else
		printf("removed key '%s' and its authorizations\n", k->pos[0]);
	return n == 1 ? CMD_OK : CMD_FAIL;
}

/* --- key helpers --- */

/* The x-only public key of sk as hex; -1 if sk is not a valid secret key. */
static int cmd_key_pubkey(char pk[65], const struct nostr_seckey *sk)
{
	struct nostr_pubkey pub;

	if (nostr_seckey_pubkey(&pub, sk) != 0)
		return -1;
	nostr_pubkey_to_hex(pk, &pub);
	return 0;
}

/* The npub1... of a pubkey hex. */
static int cmd_key_npub(char *out, size_t cap, const char *pk_hex)
{
	struct nostr_pubkey pk;

	if (nostr_pubkey_from_hex(&pk, pk_hex, strlen(pk_hex)) != 0)
		return -1;
	return bech32_npub_encode(out, cap, &pk);
}
