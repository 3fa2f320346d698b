/*
 * main.c - the keycastd binary: dispatch to a sub-command.
 */
#include "config.h"

#include "core/secmem.h"
#include "daemon/cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/*
 * Run the sub-command named by argv[1]; usage and exit 2 when unknown.
 * First of all the process becomes non-dumpable: the master key and the
 * users' keys it will hold must never land in a core dump.
 */
int main(int argc, char **argv)
{
	const struct cmd *c;

	if (secmem_no_dumps() != 0)
		fprintf(stderr, "keycastd: warning: cannot disable core dumps: %s\n",
			strerror(errno));
	if (argc < 2) {
		cmd_help_usage(stderr);
		return CMD_USAGE;
	}
	if (cmd_is_help(argv[1]))
		return cmd_help(1, argv + 1);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	c = cmd_find(argv[1]);
	if (c == NULL) {
		fprintf(stderr, "keycastd: unknown command '%s'\n\n", argv[1]);
		cmd_help_usage(stderr);
		return CMD_USAGE;
	}
	if (argc > 2 && cmd_is_help(argv[2])) {
		c->usage(stdout);
		return CMD_OK;
	}
	return c->run(argc - 1, argv + 1);
}
