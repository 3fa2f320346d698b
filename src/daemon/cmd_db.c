/*
 * cmd_db.c - `keycastd db migrate|status`, and the option plumbing shared
 * by the admin commands (key, authz, db): their own options and
 * positional arguments are split from the settings, which load exactly
 * as `serve` loads them (defaults < --config file < env < flags).
 */
#include "core/config.h"
#include "core/diag.h"
#include "core/log.h"
#include "daemon/cmd.h"
#include "daemon/settings.h"
#include "db/db_migrate.h"
#include "db/db_sync.h"

#include <stdlib.h>
#include <string.h>

/* CMD_OPT_LIST_MAX in words, for messages. */
#define CMD_OPT_LIST_MAX_TEXT "16"
_Static_assert(CMD_OPT_LIST_MAX == 16, "update CMD_OPT_LIST_MAX_TEXT");

static void cmd_admin_log(const struct config *cfg);
static int cmd_admin_own(const struct cmd_opt *opts, char **argv, int argc, int *i);
static int cmd_db_migrate(PGconn *conn, bool json);
static int cmd_db_status(PGconn *conn, bool json);

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

/* Log as the settings say (they were validated by the schema). */
static void cmd_admin_log(const struct config *cfg)
{
	enum log_level lv = LOG_LEVEL_INFO;
	enum log_format fmt = LOG_FORMAT_AUTO;

	if (log_level_parse(&lv, cfg->log_level) != 0 ||
	    log_format_parse(&fmt, cfg->log_format) != 0)
		lv = LOG_LEVEL_INFO;
	log_configure(lv, fmt);
}

/*
 * If argv[*i] is one of opts (--name VALUE or --name=VALUE), store it: 1;
 * 0 if it is not one of opts; -1 if its value is missing; -2 if a list
 * option is given more than CMD_OPT_LIST_MAX times.
 */
static int cmd_admin_own(const struct cmd_opt *opts, char **argv, int argc, int *i)
{
	const char *arg = argv[*i];

	for (; opts != NULL && opts->name != NULL; opts++) {
		size_t n = strlen(opts->name);
		const char *value;

		if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, opts->name, n) != 0)
			continue;
		if (arg[2 + n] != '=' && arg[2 + n] != '\0')
			continue;
		if (opts->list != NULL && *opts->nlist >= CMD_OPT_LIST_MAX)
			return -2;
		if (arg[2 + n] == '=')
			value = arg + 3 + n;
		else if (opts->flag != NULL)
			value = "1";
		else if (*i + 1 < argc)
			value = argv[++*i];
		else
			return -1;
		if (opts->flag != NULL)
			*opts->flag = true;
		if (opts->value != NULL)
			*opts->value = value;
		if (opts->list != NULL)
			opts->list[(*opts->nlist)++] = value;
		return 1;
	}
	return 0;
}

/* Split argv[first..) into own options, positionals and settings; load settings. */
int cmd_admin_load(struct config *cfg, int argc, char **argv, int first, const struct cmd_opt *opts,
		   const char **pos, size_t maxpos, size_t *npos)
{
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	struct diag d = {0};
	int nrest = 0, rc = CMD_OK;

	*npos = 0;
	if (rest == NULL)
		return CMD_FAIL;
	for (int i = first; i < argc && rc == CMD_OK; i++) {
		int own = cmd_admin_own(opts, argv, argc, &i);

		if (own == 0 && strncmp(argv[i], "--", 2) != 0 && *npos >= maxpos) {
			/* never echoed: it may be a secret typed where none is taken */
			fprintf(stderr,
				"keycastd: unexpected argument %d (secrets are read from"
				" standard input or a file, never from the command line)\n",
				i);
			rc = CMD_USAGE;
		} else if (own < 0) {
			fprintf(stderr, "keycastd: %s: %s\n", argv[i],
				own == -1 ? "needs a value"
					  : "given more than " CMD_OPT_LIST_MAX_TEXT " times");
			rc = CMD_USAGE;
		} else if (own == 0 && strncmp(argv[i], "--", 2) != 0)
			pos[(*npos)++] = argv[i];
		else if (own == 0) {
			rest[nrest++] = argv[i];
			if (strchr(argv[i], '=') == NULL && i + 1 < argc)
				rest[nrest++] = argv[++i];
		}
	}
	if (rc == CMD_OK && settings_load(cfg, nrest, rest, 0, NULL, &d) != 0)
		rc = CMD_USAGE;
	else if (rc != CMD_OK && config_init(cfg) != 0)
		rc = CMD_FAIL;
	diag_print(&d, stderr);
	diag_clear(&d);
	free(rest);
	if (rc == CMD_OK)
		cmd_admin_log(cfg);
	return rc;
}

/* Parse --format's value: 0 text, 1 json, -1 unknown (reported). */
int cmd_admin_format(const char *format)
{
	if (format == NULL || strcmp(format, "text") == 0)
		return 0;
	if (strcmp(format, "json") == 0)
		return 1;
	fprintf(stderr, "keycastd: --format: '%s' is not text or json\n", format);
	return -1;
}

/* Apply pending migrations and say what happened. */
static int cmd_db_migrate(PGconn *conn, bool json)
{
	char err[512];
	int applied = 0;

	if (db_migrate_run(conn, &applied, err, sizeof(err)) != 0) {
		fprintf(stderr, "keycastd db migrate: %s\n", err);
		return CMD_FAIL;
	}
	if (json)
		printf("{\"applied\":%d,\"version\":%d}\n", applied, db_migrate_latest());
	else if (applied > 0)
		printf("applied %d migration(s); schema at version %d\n", applied,
		       db_migrate_latest());
	else
		printf("schema up to date at version %d\n", db_migrate_latest());
	return CMD_OK;
}

/* Print the schema status; exit 1 unless it is current. */
static int cmd_db_status(PGconn *conn, bool json)
{
	struct db_schema_status st;
	char err[512];

	if (db_migrate_status(conn, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "keycastd db status: %s\n", err);
		return CMD_FAIL;
	}
	if (json)
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
	const char *format = NULL;
	const struct cmd_opt opts[] = {{.name = "format", .value = &format}, {0}};
	const char *pos[1];
	size_t npos;
	struct config cfg;
	PGconn *conn = NULL;
	char err[512];
	int rc, json;

	if (argc < 2 || (strcmp(argv[1], "migrate") != 0 && strcmp(argv[1], "status") != 0)) {
		cmd_db_usage(stderr);
		return CMD_USAGE;
	}
	rc = cmd_admin_load(&cfg, argc, argv, 2, opts, pos, 0, &npos);
	json = cmd_admin_format(format);
	if (rc == CMD_OK && json < 0)
		rc = CMD_USAGE;
	if (rc == CMD_OK && (conn = db_sync_connect(cfg.database_url, err, sizeof(err))) == NULL) {
		fprintf(stderr, "keycastd db: %s\n", err);
		rc = CMD_FAIL;
	}
	if (rc == CMD_OK)
		rc = strcmp(argv[1], "migrate") == 0 ? cmd_db_migrate(conn, json)
						     : cmd_db_status(conn, json);
	PQfinish(conn);
	config_free(&cfg);
	return rc;
}
