/*
 * cmd_help.c - `keycastd help` and `keycastd version`.
 */
#include "config.h"

#include "daemon/cmd.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <libpq-fe.h>
#include <limits.h>
#include <link.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>
#include <yaml.h>

/* A shared library looked up among the loaded objects. */
struct cmd_version_lib {
	const char *prefix; /* file name prefix, e.g. "libwslay.so" */
	char file[128];	    /* real file name of the loaded object, or "" */
};

static int cmd_version_match(struct dl_phdr_info *info, size_t size, void *arg);
static const char *cmd_version_loaded(struct cmd_version_lib *lib);

/* Usage of the whole binary (`keycastd help`). */
void cmd_help_usage(FILE *out)
{
	size_t n;
	const struct cmd *t = cmd_table(&n);

	fprintf(out, "usage: keycastd COMMAND [OPTIONS]\n"
		     "       keycastd help [COMMAND]\n\n"
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
	struct cmd_version_lib secp = {.prefix = "libsecp256k1.so"};
	struct cmd_version_lib wslay = {.prefix = "libwslay.so"};

	(void)argv;
	if (argc > 1) {
		cmd_version_usage(stderr);
		return CMD_USAGE;
	}
	printf("keycastd %s\n", PACKAGE_VERSION);
	printf("  libevent   %s\n", event_get_version());
	printf("  libyaml    %s\n", yaml_get_version_string());
	printf("  libpq      %d.%d\n", PQlibVersion() / 10000, PQlibVersion() % 10000);
	printf("  cJSON      %s\n", cJSON_Version());
	printf("  OpenSSL    %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("  secp256k1  %s (built against; loaded: %s)\n", KC_SECP256K1_VERSION,
	       cmd_version_loaded(&secp));
	printf("  wslay      loaded: %s\n", cmd_version_loaded(&wslay));
	return CMD_OK;
}

/* dl_iterate_phdr callback: note the real file of the object named prefix*. */
static int cmd_version_match(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct cmd_version_lib *lib = arg;
	const char *base = strrchr(info->dlpi_name, '/');
	char real[PATH_MAX];
	int n;

	(void)size;
	base = base != NULL ? base + 1 : info->dlpi_name;
	if (strncmp(base, lib->prefix, strlen(lib->prefix)) != 0)
		return 0;
	if (realpath(info->dlpi_name, real) != NULL)
		base = strrchr(real, '/') != NULL ? strrchr(real, '/') + 1 : real;
	n = snprintf(lib->file, sizeof(lib->file), "%s", base);
	if (n < 0 || (size_t)n >= sizeof(lib->file))
		lib->file[0] = '\0'; /* a name this long is not worth showing cut */
	return 1;
}

/* The real file name of a loaded library (its soname version), or a note if none. */
static const char *cmd_version_loaded(struct cmd_version_lib *lib)
{
	lib->file[0] = '\0';
	dl_iterate_phdr(cmd_version_match, lib);
	return lib->file[0] != '\0' ? lib->file : "not a shared object";
}
