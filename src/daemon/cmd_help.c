/*
 * cmd_help.c - `keycastd help` and `keycastd version`.
 */
#include "config.h"

#include "daemon/cmd.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <wslay/wslay.h>
#include <yaml.h>

/* Usage of the whole binary (`keycastd help`). */
void cmd_help_usage(FILE *out)
{
	size_t n;
	const struct cmd *t = cmd_table(&n);

	fprintf(out, "usage: keycastd COMMAND [OPTIONS]\n\n"
		     "keycastd is a Nostr remote-signing daemon (NIP-46 bunker) with a\n"
		     "declarative shutdown plan.\n\ncommands:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-9s %s\n", t[i].name, t[i].summary);
	fprintf(out, "\n`keycastd help COMMAND` or `keycastd COMMAND --help` shows a command's "
		     "options.\nExit codes: 0 success, 1 failure, 2 usage error.\n");
}

/* `keycastd help [CMD]`: print usage of keycastd or of CMD. */
int cmd_help(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		cmd_help_usage(stdout);
		return CMD_OK;
	}
	c = cmd_find(argv[1]);
	if (c == NULL) {
		fprintf(stderr, "keycastd: unknown command '%s'\n\n", argv[1]);
		cmd_help_usage(stderr);
		return CMD_USAGE;
	}
	c->usage(stdout);
	return CMD_OK;
}

/* Usage of `keycastd version`. */
void cmd_version_usage(FILE *out)
{
	fprintf(out, "usage: keycastd version\n\n"
		     "Print the version of keycastd and of the libraries it runs with.\n");
}

/* `keycastd version`: print versions of keycastd and linked libraries. */
int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		cmd_version_usage(stderr);
		return CMD_USAGE;
	}
	printf("keycastd %s\n", PACKAGE_VERSION);
	printf("  libevent   %s\n", event_get_version());
	printf("  libyaml    %s\n", yaml_get_version_string());
	printf("  libpq      %d\n", PQlibVersion());
	printf("  cJSON      %s\n", cJSON_Version());
	printf("  OpenSSL    %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("  secp256k1  (Debian libsecp256k1, schnorrsig + extrakeys + ecdh)\n");
	printf("  wslay      (libwslay)\n");
	return CMD_OK;
}
