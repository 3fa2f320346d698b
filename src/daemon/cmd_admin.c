/*
 * cmd_admin.c - the plumbing of the admin commands, behind cmd_admin.h:
 * their own options and positional arguments are split from the
 * settings, which load exactly as `serve` loads them (defaults < --config
 * file < env < flags); then the sub-command gets its master key and its
 * database connection, runs, and everything is released.
 */
#include "daemon/cmd_admin.h"

#include "core/diag.h"
#include "core/env.h"
#include "core/log.h"
#include "daemon/settings.h"
#include "db/db_admin.h"
#include "db/db_keycheck.h"
#include "db/db_sync.h"

#include <stdlib.h>
#include <string.h>

/* CMD_OPT_LIST_MAX in words, for messages. */
#define CMD_OPT_LIST_MAX_TEXT "16"
_Static_assert(CMD_OPT_LIST_MAX == 16, "update CMD_OPT_LIST_MAX_TEXT");

static void cmd_admin_log(const struct config *cfg);
static int cmd_admin_own(const struct cmd_opt *opts, char **argv, int argc, int *i);
static const struct cmd_admin_sub *cmd_admin_find(const struct cmd_admin *cmd, const char *name);
static int cmd_admin_opts(struct cmd_opt *all, const struct cmd_opt *opts, const char **format);
static int cmd_admin_wants_help(int argc, char **argv);
static int cmd_admin_prepare(const struct cmd_admin *cmd, const struct cmd_admin_sub *sub,
			     struct cmd_admin_ctx *c);
static int cmd_admin_keycheck(struct cmd_admin_ctx *c, char *err, size_t errlen);

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

/* The sub-command called name, or NULL. */
static const struct cmd_admin_sub *cmd_admin_find(const struct cmd_admin *cmd, const char *name)
{
	for (size_t i = 0; i < cmd->nsubs; i++)
		if (strcmp(cmd->subs[i].name, name) == 0)
			return &cmd->subs[i];
	return NULL;
}

/* --format, then opts, into all (room for CMD_ADMIN_OPTS_MAX + 2). 0, or -1 if too many. */
static int cmd_admin_opts(struct cmd_opt *all, const struct cmd_opt *opts, const char **format)
{
	size_t n = 0;

	all[n++] = (struct cmd_opt){.name = "format", .value = format};
	for (; opts != NULL && opts->name != NULL; opts++) {
		if (n > CMD_ADMIN_OPTS_MAX)
			return -1;
		all[n++] = *opts;
	}
	all[n] = (struct cmd_opt){0};
	return 0;
}

/*
 * Load the master key, connect (with the connect and statement timeouts)
 * and check the key against the database, as sub needs. A missing or
 * unusable master key, a missing database_url and a key the database was
 * not sealed with are configuration errors (CMD_USAGE); a database that
 * fails is CMD_FAIL.
 */
static int cmd_admin_prepare(const struct cmd_admin *cmd, const struct cmd_admin_sub *sub,
			     struct cmd_admin_ctx *c)
{
	const struct db_sync_limits lim = {
		.connect_timeout_ms = c->cfg.db_connect_timeout_ms,
		.statement_timeout_ms = c->cfg.db_statement_timeout_ms,
	};
	unsigned flags = c->cfg.master_key_allow_shared ? DB_MASTER_KEY_ALLOW_SHARED : 0;
	char err[512];
	struct env e;
	int rc = CMD_OK;

	if (sub->needs_master) {
		env_init(&e, 1);
		if (db_master_key_load(&c->mk, &e, c->cfg.master_key_path, flags, err,
				       sizeof(err)) != 0)
			rc = CMD_USAGE;
		env_clear(&e);
	}
	if (rc == CMD_OK && sub->needs_db && c->cfg.database_url[0] == '\0') {
		snprintf(err, sizeof(err), "no database: set database_url (DATABASE_URL)");
		rc = CMD_USAGE;
	} else if (rc == CMD_OK && sub->needs_db &&
		   (c->conn = db_sync_connect_limited(c->cfg.database_url, &lim, err,
						      sizeof(err))) == NULL)
		rc = CMD_FAIL;
	if (rc == CMD_OK && sub->needs_db && sub->needs_master)
		rc = cmd_admin_keycheck(c, err, sizeof(err));
	if (rc != CMD_OK)
		fprintf(stderr, "keycastd %s: %s\n", cmd->name, err);
	return rc;
}

/* The master key must be the one the database was sealed with: CMD_OK, or why not. */
static int cmd_admin_keycheck(struct cmd_admin_ctx *c, char *err, size_t errlen)
{
	switch (db_keycheck(c->conn, &c->mk, DB_ADMIN_KEY_VERSION, err, errlen)) {
	case DB_KEYCHECK_OK:
		return CMD_OK;
	case DB_KEYCHECK_MISMATCH:
		return CMD_USAGE;
	case DB_KEYCHECK_ERROR:
		break;
	}
	return CMD_FAIL;
}

/* Parse, prepare, run and release one admin sub-command. */
/* Whether an argument after the sub-command's name asks for help (-h, --help). */
static int cmd_admin_wants_help(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (cmd_is_help(argv[i]))
			return 1;
	return 0;
}

int cmd_admin_run(const struct cmd_admin *cmd, struct cmd_admin_ctx *c, const struct cmd_opt *opts,
		  int argc, char **argv)
{
	const struct cmd_admin_sub *sub = argc >= 2 ? cmd_admin_find(cmd, argv[1]) : NULL;
	struct cmd_opt all[CMD_ADMIN_OPTS_MAX + 2];
	const char *format = NULL;
	int rc, json;

	if (sub != NULL && cmd_admin_wants_help(argc, argv)) {
		cmd->usage(stdout);
		return CMD_OK;
	}
	if (sub == NULL || sub->npos > CMD_ADMIN_POS_MAX ||
	    cmd_admin_opts(all, opts, &format) != 0) {
		cmd->usage(stderr);
		return CMD_USAGE;
	}
	rc = cmd_admin_load(&c->cfg, argc, argv, 2, all, c->pos, sub->npos, &c->npos);
	json = cmd_admin_format(format);
	c->json = json == 1;
	if (rc == CMD_OK && (json < 0 || (c->npos != sub->npos && !sub->optional_pos))) {
		cmd->usage(stderr);
		rc = CMD_USAGE;
	}
	if (rc == CMD_OK)
		rc = cmd_admin_prepare(cmd, sub, c);
	if (rc == CMD_OK)
		rc = sub->run(c);
	db_master_key_wipe(&c->mk);
	PQfinish(c->conn);
	c->conn = NULL;
	config_free(&c->cfg);
	return rc;
}

/* Print the rows of res (consumed) as text lines or one JSON array. */
int cmd_admin_list(const struct cmd_admin_ctx *c, PGresult *res, const char *what, const char *err,
		   cmd_admin_row_fn row)
{
	cJSON *arr = NULL;
	char *text = NULL;
	int rc = CMD_FAIL;

	if (res == NULL) {
		fprintf(stderr, "%s: %s\n", what, err);
		return CMD_FAIL;
	}
	if ((arr = cJSON_CreateArray()) == NULL)
		goto fail;
	for (int i = 0; i < PQntuples(res); i++)
		row(res, i, arr, c->json);
	if (c->json && (text = cJSON_PrintUnformatted(arr)) == NULL)
		goto fail;
	if (text != NULL)
		printf("%s\n", text);
	rc = CMD_OK;
fail:
	if (rc != CMD_OK)
		fprintf(stderr, "%s: out of memory\n", what);
	cJSON_free(text);
	cJSON_Delete(arr);
	PQclear(res);
	return rc;
}
