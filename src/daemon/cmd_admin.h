/*
 * cmd_admin.h - what the admin commands (key, authz, db) share: a table
 * of sub-commands, their options and settings (cmd_admin_load and
 * cmd_admin_format), the master key and the
 * database connection a sub-command needs, and the dispatch.
 *
 *     static const struct cmd_admin_sub subs[] = {
 *             {.name = "list", .run = my_list, .needs_db = true}, ...};
 *     static const struct cmd_admin my = {"my", subs, 1, my_usage};
 *     struct my_opts o = {0};
 *     const struct cmd_opt opts[] = {{.name = "file", .value = &o.file}, {0}};
 *     struct cmd_admin_ctx c = {.arg = &o};
 *     return cmd_admin_run(&my, &c, opts, argc, argv);
 *
 * --format text|json is every admin command's own option: it is added
 * to opts and lands in c.json.
 */
#ifndef KC_CMD_ADMIN_H
#define KC_CMD_ADMIN_H

#include "core/config.h"
#include "daemon/cmd.h"
#include "db/db_seal.h"

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Values a list option (given several times) keeps at most. */
#define CMD_OPT_LIST_MAX 16

/* One option of an admin command: --name VALUE (or a flag taking none). */
struct cmd_opt {
	const char *name;   /* without the leading dashes */
	const char **value; /* receives the (last) value, or NULL */
	const char **list;  /* receives every value (up to CMD_OPT_LIST_MAX), or NULL */
	size_t *nlist;	    /* count of list */
	bool *flag;	    /* set for a flag that takes no value, or NULL */
};

/*
 * Split argv[first..argc) into opts (NULL-name terminated), up to maxpos
 * positional arguments and the settings, then load the settings as serve
 * does. cfg is always initialised (config_free it). Returns CMD_OK or
 * CMD_USAGE (problems printed on stderr).
 */
int cmd_admin_load(struct config *cfg, int argc, char **argv, int first, const struct cmd_opt *opts,
		   const char **pos, size_t maxpos, size_t *npos);

/* --format's value: 0 text (or NULL), 1 json, -1 unknown (reported on stderr). */
int cmd_admin_format(const char *format);

/* Positional arguments a sub-command takes at most. */
#define CMD_ADMIN_POS_MAX 2
/* Options a command may add to --format. */
#define CMD_ADMIN_OPTS_MAX 8

/* Everything a sub-command works with; cmd_admin_run fills and releases it. */
struct cmd_admin_ctx {
	struct config cfg;		    /* the settings, loaded as serve loads them */
	PGconn *conn;			    /* connected when the sub-command needs_db */
	struct db_master_key mk;	    /* loaded when it needs_master; wiped after */
	bool json;			    /* --format json */
	const char *pos[CMD_ADMIN_POS_MAX]; /* positional arguments (borrowed from argv) */
	size_t npos;			    /* how many */
	void *arg;			    /* the command's own state, set by the caller */
};

/* One sub-command of an admin command. */
struct cmd_admin_sub {
	const char *name;
	int (*run)(struct cmd_admin_ctx *c); /* returns an enum cmd_exit */
	size_t npos;			     /* positional arguments it requires */
	bool optional_pos;		     /* ... or none */
	bool needs_db;			     /* connect to database_url first */
	bool needs_master;		     /* load the master key first */
};

/* An admin command: its name (for messages), sub-commands and usage. */
struct cmd_admin {
	const char *name;
	const struct cmd_admin_sub *subs;
	size_t nsubs;
	void (*usage)(FILE *out);
};

/*
 * Run the sub-command named by argv[1]: parse opts (NULL-name terminated,
 * at most CMD_ADMIN_OPTS_MAX; NULL for none), --format, the positionals
 * and the settings, load the master key and connect as the sub-command
 * needs, run it, then wipe the key, disconnect and free the settings.
 * c->arg is left to the caller. Returns an enum cmd_exit; an unknown
 * sub-command or a bad invocation prints the usage and returns CMD_USAGE.
 */
int cmd_admin_run(const struct cmd_admin *cmd, struct cmd_admin_ctx *c, const struct cmd_opt *opts,
		  int argc, char **argv);

/* Prints row i of res as a text line, or adds it to arr when json. */
typedef void (*cmd_admin_row_fn)(PGresult *res, int i, cJSON *arr, bool json);

/*
 * Print every row of res through row: text lines, or one JSON array when
 * c->json. res is consumed; when it is NULL, the failed query's message
 * err is printed as "<what>: <err>". Returns CMD_OK, or CMD_FAIL.
 */
int cmd_admin_list(const struct cmd_admin_ctx *c, PGresult *res, const char *what, const char *err,
		   cmd_admin_row_fn row);

#endif /* KC_CMD_ADMIN_H */
