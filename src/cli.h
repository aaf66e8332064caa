/*
 * cli.h - the option table: one row per option, and everything made
 * from it: getopt_long's array, --help, the accounts-file keywords, the
 * hints of errors, and the listing that tests/docs.bats checks the man
 * pages and the completions against.
 *
 * Nothing here talks to the network or reads a file.  Every function
 * that fails returns -1 with a struct error of class ERR_USAGE (the
 * caller turns it into ERR_CONFIG for a line of the accounts file).
 */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#include "commands.h"
#include "fetch.h"
#include "oauth2.h"
#include "provider.h"
#include "session.h"
#include "util.h"

/* The rows of the table, in the order of --help. */
enum cli_id {
	O_URL, O_PROVIDER, O_HOST, O_PORT, O_USER, O_TLS, O_TIMEOUT, O_MAX_TIME,
	O_UTF8, O_NO_UTF8,
	O_CONNECT_COMMAND, O_PROXY, O_IPV4, O_IPV6, O_SOURCE_ADDRESS,
	O_CA_FILE, O_FINGERPRINT, O_PRINT_FINGERPRINT, O_INSECURE,
	O_TLS_SERVER_NAME, O_TLS_PRIORITY, O_CLIENT_CERT, O_CLIENT_KEY,
	O_AUTH, O_NO_INITIAL_RESPONSE, O_ALLOW_PLAINTEXT, O_PASSWORD_COMMAND,
	O_PASSWORD_FILE, O_NETRC_FILE, O_PASSWORD,
	O_OAUTH2_ISSUER, O_OAUTH2_AUTHORIZATION_ENDPOINT,
	O_OAUTH2_TOKEN_ENDPOINT,
	O_OAUTH2_DEVICE_ENDPOINT, O_OAUTH2_REVOCATION_ENDPOINT,
	O_OAUTH2_CLIENT_ID, O_OAUTH2_CLIENT_SECRET_COMMAND, O_OAUTH2_SCOPE,
	O_OAUTH2_TENANT, O_OAUTH2_FLOW, O_OAUTH2_TOKEN_FILE, O_OAUTH2_CA_FILE,
	O_MAILDIR, O_MBOX, O_MDA, O_MDA_TIMEOUT, O_LMTP, O_LMTP_RECIPIENT,
	O_SMTP, O_SMTP_RECIPIENT,
	O_NEW, O_ALL, O_KEEP, O_DELETE, O_KEEP_DAYS, O_MAX_SIZE, O_LIMIT,
	O_UNTIL_EMPTY, O_MAX_SESSIONS, O_FILTER,
	O_DRY_RUN, O_STATE, O_FORGET_AFTER, O_FULL_LISTING, O_FROM,
	O_RECEIVED_HEADER, O_UIDL_HEADER, O_REFETCH_MISSING, O_VERIFIED_DELETE,
	O_OFFLINE,
	O_DEBUG, O_JSON, O_QUIET, O_SYSLOG, O_HELP, O_VERSION,
	O_ACCOUNT, O_ALL_ACCOUNTS, O_JOBS, O_CONFIG,
	O_LIST_OPTIONS,
	O_COUNT
};

/* How the user wrote a setting: "--tls none" or "tls none". */
enum cli_form {
	CLI_OPTION,
	CLI_KEYWORD
};

/*
 * The settings of one run for one account, filled by cli_apply from the
 * layers (defaults, account, command line; see accounts.h).  Strings
 * point into argv or the accounts file, except url_* which are owned.
 */
struct cli_settings {
	struct session_params	 sp;
	struct cmd_opts		 co;
	struct fetch_params	 fp;
	int			 print_fingerprint;
	int			 offline;	/* verify --offline */
	const char		*server_name;	/* --tls-server-name */
	int			 import_from;	/* --from: enum import_kind */
	const char		*lmtp_recipient;
	const char		*smtp_recipient;
	int			 layer;		/* 1 defaults, 2 account,
						 * 3 argv */
	int			 target_layer;	/* the layer that chose the
						 * delivery target, 0: none */
	enum cli_form		 form;		/* CLI_KEYWORD once an account
						 * block shaped the run */
	const char		*errhost;	/* set once the run talks to the
						 * server: errors name it */
	char			*url_host;	/* owned copies from a URL */
	char			*url_user;
	char			*url_port;
	const char		*account;	/* the account's name, or
						 * NULL */
	struct oauth2_params	 oauth;		/* store: see oauth_store */
	const char		*oauth_tenant;	/* --oauth2-tenant */
	const char		*oauth_ca_file;	/* --oauth2-ca-file */
	const char		*oauth_token_file;
	const struct provider	*provider;	/* --provider */
	char			*owned[5];	/* the provider's endpoints
						 * and the token file's name */
};

/* An account setting from the command line, applied after the file's. */
struct cli_optval {
	enum cli_id	 id;
	const char	*arg;		/* NULL for an option without one */
};

/* What the command line says: the account settings, in order, and the
 * options that choose accounts or end the run at once. */
struct cli_args {
	struct cli_optval	*v;	/* owned; free with cli_args_free */
	size_t			 n;
	const char		*config;	/* --config */
	const char		*account;	/* -a */
	int			 all;		/* --all-accounts */
	int			 jobs;		/* -j, 0: unset */
	int			 help, version, list;
	int			 argc;		/* the command and its args */
	char			**argv;
};

/*
 * Reads argv into a (zeroed by the caller).  A URL first argument becomes
 * an O_URL setting.  Stops early, returning 0, at --help, --version or
 * --list-options.  ERR_USAGE for an unknown option, a bad value of an
 * option that chooses accounts, or -a with --all-accounts; getopt_long
 * has then already said what is wrong on stderr.
 */
int		 cli_parse(struct cli_args *a, int argc, char **argv,
		    struct error *);
/* Frees what cli_parse allocated in a; a may be used again. */
void		 cli_args_free(struct cli_args *a);
/* Whether the command line gives any setting of row id. */
int		 cli_args_has(const struct cli_args *, enum cli_id);

/* Zeroes s and applies every row's default. */
void		 cli_settings_init(struct cli_settings *s);
/* Frees what s owns (the URL's parts); s stays initialised. */
void		 cli_settings_free(struct cli_settings *s);

/*
 * Applies one setting to s, exactly as the row says: checks the value
 * (a number within the row's bounds, one of its values), then stores it
 * or calls the row's setter.  arg is NULL when the setting has no value.
 * Messages name the setting in form.  ERR_USAGE.
 */
int		 cli_apply(struct cli_settings *s, enum cli_id id,
		    const char *arg, enum cli_form form, struct error *);

/*
 * Completes s once every layer is applied: the provider's endpoints for
 * the tenant, the CA file of the OAuth provider, and the token file
 * (left NULL without HOME and XDG_STATE_HOME: only a run that needs
 * tokens fails then).  Returns 0.
 */
int		 cli_finish(struct cli_settings *s, struct error *);

/* The row whose accounts-file keyword is name, or -1. */
int		 cli_keyword(const char *name);
/* The keyword nearest to name (at most two edits away), for "did you
 * mean", or NULL. */
const char	*cli_keyword_near(const char *name);
/* Whether the row is applied before the others of its layer (the URL,
 * which the other lines of a block refine). */
int		 cli_first(enum cli_id);
/* The row's long name, without dashes ("max-size"). */
const char	*cli_name(enum cli_id);
/* The name of the value val of an enumerated row ("none" for
 * O_TLS, TLSMODE_NONE), or "?". */
const char	*cli_value(enum cli_id, int val);
/* "--maildir DIR, --mbox FILE or --mda COMMAND": the delivery targets,
 * for messages; written into buf (NUL-terminated, cut if too small). */
const char	*cli_targets(char *buf, size_t len);

/* cli_doc.c: */
/* What the user can change to get past an error, naming the settings in
 * form; NULL for HINT_NONE.  Written into buf. */
const char	*cli_doc_hint(enum err_hint, enum cli_form, char *buf,
		    size_t len);
/* Prints the one-line synopsis and where to read more. */
void		 cli_doc_synopsis(FILE *);
/* Prints --help, made from the table and the command table. */
void		 cli_doc_usage(FILE *);
/* Prints the machine-readable listing (--list-options): one JSON object
 * a line for every option and every command.  ERR_SOFTWARE if a line
 * cannot be made; a write error shows when f is flushed. */
int		 cli_doc_list(FILE *, struct error *);

#endif
