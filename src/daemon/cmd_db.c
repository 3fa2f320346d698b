/*
 * cmd_db.c - `keycastd db`: database maintenance (migrate).
 */
#include "daemon/cmd.h"

/* Usage of `keycastd db`. */
void cmd_db_usage(FILE *out)
{
	fprintf(out, "usage: keycastd db ...\n\ndatabase maintenance (migrate) (not built yet)\n");
}

/* `keycastd db`: database maintenance (migrate). */
int cmd_db(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "keycastd db: not available in this build\n");
	return CMD_FAIL;
}
