/*
 * config.h - the accounts file: "keyword value" lines grouped under
 * "defaults" and "account NAME" headers.
 *
 * This module knows the syntax and the file's safety rules, not what the
 * keywords mean: the option table (cli.c) says which options are
 * keywords, and accounts.c applies each line through it, so a keyword
 * and its option cannot drift.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#include "util.h"

struct config_entry {
	const char	*key;
	const char	*value;		/* NULL when the line has none */
	unsigned	 line;
};

struct config_block {
	const char		*name;	/* NULL for defaults */
	unsigned		 line;
	struct config_entry	*entries;
	size_t			 n;
};

struct config {
	char			*path;
	struct config_block	 defaults;
	struct config_block	*accounts;	/* in file order */
	size_t			 naccounts;
	char			*text;		/* the file, wiped on free */
	size_t			 textlen;
	char			**owned;	/* values made by ~ expansion */
	size_t			 nowned;
};

/*
 * The default file: $XDG_CONFIG_HOME/popfetch/config, else
 * ~/.config/popfetch/config.  Returns buf, or NULL: without err's class
 * set if neither variable is set, with ERR_CONFIG if the path does not
 * fit in len bytes.
 */
char			*config_default_path(char *buf, size_t len,
			    struct error *);

/*
 * Reads and checks a file.  A missing file is an empty configuration
 * unless must_exist.  Errors (ERR_CONFIG, "FILE:LINE: ..."): syntax, a
 * duplicate account or defaults block, a bad account name, a file that
 * others may write, or one that others may read while it holds a
 * password.  Unquoted values that start with "~/" have it replaced by
 * $HOME.
 */
struct config		*config_load(const char *path, int must_exist,
			    struct error *);
void			 config_free(struct config *);

/*
 * Wipes the password lines of every account but keep (whose block, and
 * the defaults, stay as they are): a job that runs one account of many
 * holds no other account's password.
 */
void			 config_forget_secrets(struct config *,
			    const struct config_block *keep);

/* The account called name, or NULL. */
const struct config_block *config_account(const struct config *,
			    const char *name);

#endif
