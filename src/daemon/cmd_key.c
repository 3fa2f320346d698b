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
#include "daemon/cmd.h"
#include "daemon/cmd_admin.h"
#include "daemon/settings.h"
#include "db/db_admin.h"
#include "db/db_seal.h"
#include "nostr/bech32.h"
#include "nostr/keys.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The options of `keycastd key` beyond --format (cmd_admin_ctx.arg). */
struct cmd_key_opts {
	const char *file; /* import: --file PATH */
};

static int cmd_key_generate_master(struct cmd_admin_ctx *c);
static int cmd_key_add(struct cmd_admin_ctx *c);
static int cmd_key_import(struct cmd_admin_ctx *c);
static int cmd_key_list(struct cmd_admin_ctx *c);
static int cmd_key_remove(struct cmd_admin_ctx *c);
static void cmd_key_print_row(PGresult *res, int i, cJSON *arr, bool json);
static int cmd_key_store(struct cmd_admin_ctx *c, const struct nostr_seckey *sk);
static int cmd_key_read_secret(const char *file, struct nostr_seckey *sk);
static int cmd_key_parse_secret(const char *text, struct nostr_seckey *sk);
static int cmd_key_pubkey(char pk[65], const struct nostr_seckey *sk);
static int cmd_key_npub(char *out, size_t cap, const char *pk_hex);
static void cmd_key_print_removed(const char *name);

static const struct cmd_admin_sub cmd_key_subs[] = {
	{.name = "generate-master",
	 .run = cmd_key_generate_master,
	 .npos = 1,
	 .optional_pos = true},
	{.name = "add", .run = cmd_key_add, .npos = 1, .needs_db = true, .needs_master = true},
	{.name = "import",
	 .run = cmd_key_import,
	 .npos = 1,
	 .needs_db = true,
	 .needs_master = true},
	{.name = "list", .run = cmd_key_list, .needs_db = true},
	{.name = "remove", .run = cmd_key_remove, .npos = 1, .needs_db = true},
};

static const struct cmd_admin cmd_key_admin = {
	.name = "key",
	.subs = cmd_key_subs,
	.nsubs = sizeof(cmd_key_subs) / sizeof(cmd_key_subs[0]),
	.usage = cmd_key_usage,
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

/* `keycastd key`: dispatch to a sub-command. */
int cmd_key(int argc, char **argv)
{
	struct cmd_key_opts o = {0};
	const struct cmd_opt opts[] = {{.name = "file", .value = &o.file}, {0}};
	struct cmd_admin_ctx c = {.arg = &o};

	return cmd_admin_run(&cmd_key_admin, &c, opts, argc, argv);
}

/* key generate-master [FILE]. */
static int cmd_key_generate_master(struct cmd_admin_ctx *c)
{
	const char *path = c->npos > 0 ? c->pos[0] : c->cfg.master_key_path;
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
static int cmd_key_store(struct cmd_admin_ctx *c, const struct nostr_seckey *sk)
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
	id = db_admin_key_add(c->conn, &c->mk, c->pos[0], pk, sk, err, sizeof(err));
	if (id < 0) {
		fprintf(stderr, "keycastd key: %s\n", err);
		return CMD_FAIL;
	}
	if (c->json)
		printf("{\"id\":%lld,\"pubkey\":\"%s\",\"npub\":\"%s\"}\n", (long long)id, pk,
		       npub);
	else
		printf("stored key %lld\npubkey %s\nnpub   %s\n", (long long)id, pk, npub);
	return CMD_OK;
}

/* key add NAME: a new keypair. */
static int cmd_key_add(struct cmd_admin_ctx *c)
{
	struct nostr_seckey sk;
	int rc = CMD_FAIL;

	if (nostr_seckey_generate(&sk) == 0)
		rc = cmd_key_store(c, &sk);
	OPENSSL_cleanse(&sk, sizeof(sk));
	return rc;
}

/* key import NAME [--file P]: an existing secret from stdin or a file. */
static int cmd_key_import(struct cmd_admin_ctx *c)
{
	const char *file = ((const struct cmd_key_opts *)c->arg)->file;
	struct nostr_seckey sk;
	int rc = CMD_FAIL, got = cmd_key_read_secret(file, &sk);

	if (got == -2)
		rc = CMD_USAGE; /* the file could not be opened: said so */
	else if (got != 0)
		fprintf(stderr, "keycastd key import: expected 64 hex digits or nsec1... on %s\n",
			file != NULL ? file : "standard input");
	else
		rc = cmd_key_store(c, &sk);
	OPENSSL_cleanse(&sk, sizeof(sk));
	return rc;
}

/*
 * Read one secret (hex or nsec) from file, or stdin when file is NULL or
 * "-" (no stdio buffer). 0; -1 if it is not a secret; -2 if the file
 * cannot be opened (said on stderr, e.g. "No such file or directory").
 */
static int cmd_key_read_secret(const char *file, struct nostr_seckey *sk)
{
	bool use_stdin = file == NULL || strcmp(file, "-") == 0;
	int fd = use_stdin ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
	char buf[256];
	size_t n = 0;
	ssize_t r = 0;
	int rc;

	if (fd < 0) {
		fprintf(stderr, "keycastd key import: %s: %s\n", file, strerror(errno));
		return -2;
	}
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
	if (strncasecmp(word, "nsec1", 5) == 0) /* BIP-173: all upper case is valid too */
		rc = bech32_nsec_decode(sk, word);
	else
		rc = nostr_seckey_from_hex(sk, word, n);
	OPENSSL_cleanse(word, sizeof(word));
	return rc;
}

/* Print one key row as text, or add it to arr when json. */
static void cmd_key_print_row(PGresult *res, int i, cJSON *arr, bool json)
{
	const char *pk = PQgetvalue(res, i, DB_KEY_COL_PUBKEY);
	cJSON *o = cJSON_CreateObject();
	char npub[BECH32_KEY_LEN];

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
	if (!json)
		printf("%-4s %-20s %s  %s authz  %s\n", PQgetvalue(res, i, DB_KEY_COL_ID),
		       PQgetvalue(res, i, DB_KEY_COL_NAME), npub,
		       PQgetvalue(res, i, DB_KEY_COL_LIVE_AUTHZ),
		       PQgetvalue(res, i, DB_KEY_COL_CREATED));
}

/* key list. */
static int cmd_key_list(struct cmd_admin_ctx *c)
{
	char err[512];
	PGresult *res = db_admin_key_list(c->conn, err, sizeof(err));

	return cmd_admin_list(c, res, "keycastd key list", err, cmd_key_print_row);
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
static int cmd_key_remove(struct cmd_admin_ctx *c)
{
	char err[512];
	int n = db_admin_key_remove(c->conn, c->pos[0], err, sizeof(err));

	if (n < 0)
		fprintf(stderr, "keycastd key remove: %s\n", err);
	else if (n == 0)
		fprintf(stderr, "keycastd key remove: no key named '%s'\n", c->pos[0]);
	else if (c->json)
		cmd_key_print_removed(c->pos[0]);
	else
		printf("removed key '%s' and its authorizations\n", c->pos[0]);
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
