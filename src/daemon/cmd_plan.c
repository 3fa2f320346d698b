/*
 * cmd_plan.c - `keycastd plan`: check a shutdown plan (dry run) against a manifest.
 */
#include "daemon/cmd.h"

/* Usage of `keycastd plan`. */
void cmd_plan_usage(FILE *out)
{
	fprintf(out, "usage: keycastd plan ...\n\ncheck a shutdown plan (dry run) against a manifest (not built yet)\n");
}

/* `keycastd plan`: check a shutdown plan (dry run) against a manifest. */
int cmd_plan(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "keycastd plan: not available in this build\n");
	return CMD_FAIL;
}
