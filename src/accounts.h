/*
 * accounts.h - the settings of a run, layer by layer, and the commands
 * that work on the accounts file as a whole: accounts, config-check and
 * --all-accounts.
 *
 * The layers are the defaults block, the account's block, then the
 * command line; each overrides the one before, and within each the URL
 * comes first so that the layer's other settings refine it.
 */
#ifndef ACCOUNTS_H
#define ACCOUNTS_H

#include "cli.h"
#include "config.h"
#include "util.h"

/*
 * Fills s (which it initialises) for account acct of cfg (either may be
 * NULL) and the command line a.  With need_host, a run needs a server:
 * it is an error not to name one.  s may own memory afterwards even on
 * failure: free it with cli_settings_free.  Errors: ERR_CONFIG for a
 * bad line of the file ("FILE:LINE: ...") and an account without a
 * host; ERR_USAGE for a bad command line.
 */
int	accounts_setup(struct cli_settings *s, const struct config *cfg,
	    const struct config_block *acct, const struct cli_args *a,
	    int need_host, struct error *);

/* What main.c lends the commands below. */
struct accounts_run {
	const struct config	*cfg;	/* NULL: no accounts file */
	const struct cli_args	*args;
	/* Runs the command line's command for one account (NULL: the
	 * command line alone), prints its errors; returns its exit status. */
	int	(*run)(const struct accounts_run *,
		    const struct config_block *);
	/* Prints an error (s, if not NULL, says how to name settings and
	 * the host); returns the exit status it stands for. */
	int	(*fail)(const struct error *, const struct cli_settings *s);
};

/* popfetch accounts: "NAME<TAB>user@host:port", one a line.  Returns an
 * exit status. */
int	accounts_list(const struct accounts_run *);

/* popfetch config-check: every account as a run would see it; each
 * error is printed.  Returns an exit status. */
int	accounts_check(const struct accounts_run *);

/*
 * --all-accounts: each account in its own process, up to -j at once;
 * each line it prints is prefixed with its name, or with --json wrapped
 * as {"account":NAME,"result":LINE}.  The exit status is that of the
 * first account (in file order) that failed, and a last line on stderr
 * names every failure.
 */
int	accounts_all(const struct accounts_run *);

#endif
