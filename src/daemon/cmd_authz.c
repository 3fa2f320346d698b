/*
 * cmd_authz.c - `keycastd authz`: manage authorizations and print bunker URIs.
 */
#include "daemon/cmd.h"

/* Usage of `keycastd authz`. */
void cmd_authz_usage(FILE *out)
{
	fprintf(out, "usage: keycastd authz ...\n\nmanage authorizations and print bunker URIs (not built yet)\n");
}

/* `keycastd authz`: manage authorizations and print bunker URIs. */
int cmd_authz(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "keycastd authz: not available in this build\n");
	return CMD_FAIL;
}
