/*
 * auth.h - where the password comes from, and logging in.
 */
#ifndef AUTH_H
#define AUTH_H

#include "pop3.h"
#include "sasl.h"
#include "util.h"

enum auth_method {
	AUTH_AUTO,	/* the best the server offers that needs no extra input */
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
};

struct auth_params {
	enum auth_method	 method;
	enum sasl_mech		 mech;		/* AUTH_SASL only */
	const char		*host;
	const char		*port;		/* for OAUTHBEARER */
	const char		*user;
	struct cred_params	 cred;
	int			 allow_plaintext;	/* --allow-plaintext */
	int			 no_initial_response;	/* always two-step */
	int			 have_client_cert;	/* for EXTERNAL */
};

/* Parses an --auth value (auto, user, apop, rpop or a SASL mechanism
 * name, any case); 0 or -1. */
int	auth_parse_method(const char *, struct auth_params *);

/*
 * Finds the password for user at host: --password-command, then
 * --password-file, then the config file's password, then
 * POPFETCH_PASSWORD, then the netrc file, then a
 * prompt on the terminal.  Returns a string the caller frees with
 * secret_free, or NULL with err (ERR_CONFIG: no source, a failing
 * command, an unsafe file, a password with CR, LF or NUL).
 */
char	*auth_password(const struct cred_params *, const char *host,
	    const char *user, struct error *);

/*
 * Logs in on an AUTHORIZATION-state connection; secure says whether it
 * is encrypted.  The password is fetched only when the method needs it
 * and wiped afterwards.  Errors: ERR_AUTH (refused), ERR_INSECURE (a
 * password would travel in clear), ERR_REFUSED (method not offered),
 * ERR_CONFIG (no password), and those of the connection.
 */
int	 auth_login(struct pop3 *, const struct auth_params *, int secure,
	    struct error *);

#endif
