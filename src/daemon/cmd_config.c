/*
 * cmd_config.c - `keycastd config show|docs`.
 */
#include "core/config.h"
#include "core/diag.h"
#include "daemon/cmd.h"
#include "daemon/settings.h"

#include <string.h>

/* Usage of `keycastd config`. */
void cmd_config_usage(FILE *out)
{
	fprintf(out, "usage: keycastd config show [--config FILE] [--SETTING VALUE ...]\n"
		     "       keycastd config docs\n\n"
		     "show  print the settings serve would run with (secrets redacted)\n"
		     "docs  print the settings reference (doc/configuration.md)\n");
}

/* `keycastd config`: show settings or print their reference. */
int cmd_config(int argc, char **argv)
{
	struct config cfg;
	struct diag d = {0};
	int rc = CMD_OK;

	if (argc == 2 && strcmp(argv[1], "docs") == 0) {
		config_print_markdown(stdout);
		return CMD_OK;
	}
	if (argc < 2 || strcmp(argv[1], "show") != 0) {
		cmd_config_usage(stderr);
		return CMD_USAGE;
	}
	if (settings_load(&cfg, argc, argv, 2, NULL, &d) != 0)
		rc = CMD_USAGE;
	diag_print(&d, stderr);
	if (rc == CMD_OK)
		config_print(&cfg, stdout);
	diag_clear(&d);
	config_free(&cfg);
	return rc;
}
