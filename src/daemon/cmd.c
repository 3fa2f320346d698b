/*
 * cmd.c - the sub-command table of the keycastd binary.
 */
#include "daemon/cmd.h"

#include <string.h>

/* The sub-commands, in the order `keycastd help` lists them. */
static const struct cmd cmds[] = {
	{"serve", cmd_serve, cmd_serve_usage, "run the signing daemon"},
	{"plan", cmd_plan, cmd_plan_usage,
	 "check a shutdown plan (dry run), optionally against a manifest"},
	{"key", cmd_key, cmd_key_usage, "manage users' signing keys and the master key"},
	{"authz", cmd_authz, cmd_authz_usage, "manage authorizations and print bunker URIs"},
	{"db", cmd_db, cmd_db_usage, "database maintenance (migrate, status)"},
	{"config", cmd_config, cmd_config_usage, "show the effective settings or their reference"},
	{"version", cmd_version, cmd_version_usage, "print versions of keycastd and its libraries"},
	{"help", cmd_help, cmd_help_usage, "print usage of keycastd or of one sub-command"},
};

/* The sub-command table and its length. */
const struct cmd *cmd_table(size_t *n)
{
	*n = sizeof(cmds) / sizeof(cmds[0]);
	return cmds;
}

/* The sub-command called name, or NULL. */
const struct cmd *cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

/* Whether arg asks for help (-h, --help). */
int cmd_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}
