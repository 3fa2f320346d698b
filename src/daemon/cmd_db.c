/*
 * cmd_db.c - `keycastd db migrate|status`: database maintenance.
 */
#include "daemon/cmd.h"
#include "daemon/cmd_admin.h"
#include "daemon/settings.h"
#include "db/db_migrate.h"

static int cmd_db_migrate(struct cmd_admin_ctx *c);
static int cmd_db_status(struct cmd_admin_ctx *c);

static const struct cmd_admin_sub cmd_db_subs[] = {
	{.name = "migrate", .run = cmd_db_migrate, .needs_db = true},
	{.name = "status", .run = cmd_db_status, .needs_db = true},
};

static const struct cmd_admin cmd_db_admin = {
	.name = "db",
	.subs = cmd_db_subs,
	.nsubs = sizeof(cmd_db_subs) / sizeof(cmd_db_subs[0]),
	.usage = cmd_db_usage,
};

/* Usage of `keycastd db`. */
void cmd_db_usage(FILE *out)
{
	fprintf(out, "usage: keycastd db migrate [--format text|json] [SETTINGS]\n"
		     "       keycastd db status [--format text|json] [SETTINGS]\n\n"
		     "migrate  apply pending schema migrations (under an advisory lock: safe\n"
		     "         while other replicas start); refuses a database newer than\n"
		     "         this binary\n"
		     "status   print the database's schema version and what is pending;\n"
		     "         exit 1 if migrations are pending or the schema is newer\n\n"
		     "SETTINGS (the same as serve's; database_url is the one used):\n");
	settings_print_help(out);
}

/* Apply pending migrations and say what happened. */
static int cmd_db_migrate(struct cmd_admin_ctx *c)
{
	char err[512];
	int applied = 0;

	if (db_migrate_run(c->conn, c->cfg.db_migrate_lock_ms, &applied, err, sizeof(err)) != 0) {
		fprintf(stderr, "keycastd db migrate: %s\n", err);
		return CMD_FAIL;
	}
	if (c->json)
		printf("{\"applied\":%d,\"version\":%d}\n", applied, db_migrate_latest());
	else if (applied > 0)
		printf("applied %d migration(s); schema at version %d\n", applied,
		       db_migrate_latest());
	else
		printf("schema up to date at version %d\n", db_migrate_latest());
	return CMD_OK;
}

/* Print the schema status; exit 1 unless it is current. */
static int cmd_db_status(struct cmd_admin_ctx *c)
{
	struct db_schema_status st;
	char err[512];

	if (db_migrate_status(c->conn, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "keycastd db status: %s\n", err);
		return CMD_FAIL;
	}
	if (c->json)
		printf("{\"current\":%d,\"latest\":%d,\"pending\":%d,\"newer\":%s}\n", st.current,
		       st.latest, st.pending, st.newer ? "true" : "false");
	else
		printf("schema version %d; this keycastd knows %d; %d pending%s\n", st.current,
		       st.latest, st.pending,
		       st.newer ? "; the database is NEWER than this binary: upgrade keycastd"
				: "");
	return st.pending == 0 && !st.newer ? CMD_OK : CMD_FAIL;
}

/* `keycastd db`: database maintenance. */
int cmd_db(int argc, char **argv)
{
	struct cmd_admin_ctx c = {0};

	return cmd_admin_run(&cmd_db_admin, &c, NULL, argc, argv);
}
