/*
 * auth.h - where the password comes from, and logging in.
 */
#ifndef AUTH_H
#define AUTH_H

#include "pop3.h"
#include "sasl.h"
#include "util.h"

enum auth_method {
	AUTH_AUTO,	/* the best the server offers that needs no
			 * extra input */
	AUTH_USER,	/* USER/PASS */
	AUTH_APOP,	/* APOP with the greeting's timestamp */
	AUTH_RPOP,	/* USER/RPOP (RFC 1081), trusted-host login */
	AUTH_SASL	/* AUTH with auth_params.mech (RFC 5034) */
};

/* Credential sources, tried in this order; NULL fields are skipped. */
struct cred_params {
	const char	*password_command;	/* first line of its output */
	const char	*password_file;		/* refused if others may read */
	const char	*password;		/* from the config file */
	const char	*netrc_file;		/* NULL: $NETRC or ~/.netrc */
	int		 no_env;		/* ignore POPFETCH_PASSWORD */
	int		 timeout;		/* seconds the password
						 * command may run; 0: 60 */
};

/*
 * Called first thing in main: disables core dumps (RLIMIT_CORE 0,
 * PR_SET_DUMPABLE 0) for the whole run, and takes POPFETCH_PASSWORD out
 * of the environment (wiped there), so that no child (MDA, password
 * command, connect command) ever sees it; auth_password uses the copy.
 */
void	 auth_init(void);

/* Whether auth_password may prompt on the terminal (1, the default);
 * 0 while several accounts run at once, each in a process of its own. */
void	 auth_set_prompt(int allowed);

/* Whether POPFETCH_PASSWORD was set when auth_init ran (1 or 0). */
int	 auth_have_env_password(void);

/*
 * Where an OAuth access token comes from when no password source is
 * set: the front end lends the token store (oauth2.h) this way, so
 * that auth.c knows nothing of HTTP.  get returns a token the caller
 * frees with secret_free; with refresh set, a fresh one in place of the
 * one it returned last (which the server refused).  NULL with err.
 */
struct auth_token {
	char	*(*get)(void *arg, int refresh, struct error *);
	void	 *arg;
	int	  stored;	/* tokens are stored: --auth auto may
				 * choose OAUTHBEARER or XOAUTH2 */
};

struct auth_params {
	enum auth_method	 method;
	enum sasl_mech		 mech;		/* AUTH_SASL only */
	const char		*host;
	const char		*port;		/* for OAUTHBEARER */
	const char		*user;
	struct cred_params	 cred;
	int			 allow_plaintext;	/* may go in clear */
	int			 no_initial_response;	/* always two-step */
	int			 have_client_cert;	/* for EXTERNAL */
	struct auth_token	 token;
};

/*
 * Finds the password for user at host: the password command, then the
 * password file, then the configured password, then POPFETCH_PASSWORD,
 * then the netrc file, then a prompt on the terminal.  Returns a string
 * the caller frees with secret_free, or NULL with err (ERR_CONFIG: no
 * source (with HINT_PASSWORD_SOURCE), a failing command, an unsafe
 * file, a password with CR, LF or NUL).
 */
char	*auth_password(const struct cred_params *, const char *host,
	    const char *user, struct error *);

/*
 * Logs in on an AUTHORIZATION-state connection; secure says whether it
 * is encrypted, verified whether its certificate was verified too (only
 * then may --auth auto follow a refused SCRAM with PLAIN or USER/PASS,
 * once).  The password is fetched only when the method needs it
 * and wiped afterwards; a is only read.  0 (the connection is then in
 * TRANSACTION), or -1 with err: ERR_AUTH (refused, or a SCRAM server
 * that cannot prove it knows the password), ERR_INSECURE (a secret
 * would travel in clear; HINT_ALLOW_PLAINTEXT), ERR_REFUSED (the method
 * is not offered, or CAPA has no SASL line at all: HINT_AUTH_METHOD,
 * nothing sent), ERR_USAGE (no user name, HINT_USER; CR, LF or over
 * 240 bytes in it; EXTERNAL without TLS and a client certificate,
 * HINT_CLIENT_CERT; a -PLUS mechanism without TLS, HINT_TLS_IMPLICIT),
 * ERR_TLS (a -PLUS mechanism on a TLS session with no channel
 * binding), ERR_CONFIG (no password), ERR_PROTO (a malformed
 * SASL challenge, or one too many), and the errors of pop3.h.
 */
int	 auth_login(struct pop3 *, const struct auth_params *, int secure,
	    int verified,
	    struct error *);

/* The method --auth auto would use with capabilities c, over TLS
 * (secure) that gives a channel binding (bindable) or not: a SASL
 * mechanism's name, or "USER".  A static string. */
const char *auth_auto_choice(const struct pop3_capa *c,
	    const struct auth_params *a, int secure, int bindable);

/*
 * auth_login, and then what a refused OAuth token asks for: when the
 * token came from a->token and the server refused it (ERR_AUTH), *retry
 * is set, and the caller may call again with refresh set (on this
 * connection, or a new one if the server dropped this one), once.
 */
int	 auth_login_token(struct pop3 *, const struct auth_params *,
	    int secure, int verified, int refresh, int *retry,
	    struct error *);

#endif
