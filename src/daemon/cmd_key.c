/*
 * cmd_key.c - `keycastd key`: manage users' signing keys and the master key.
 */
#include "daemon/cmd.h"

/* Usage of `keycastd key`. */
void cmd_key_usage(FILE *out)
{
	fprintf(out, "usage: keycastd key ...\n\nmanage users' signing keys and the master key (not built yet)\n");
}

/* `keycastd key`: manage users' signing keys and the master key. */
int cmd_key(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "keycastd key: not available in this build\n");
	return CMD_FAIL;
}
