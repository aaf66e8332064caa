/*
 * oauth2.h - OAuth 2.0 for XOAUTH2 and OAUTHBEARER: logging in once,
 * storing the tokens, and refreshing them on every later run.
 *
 *   RFC 6749  the framework: authorization code and refresh token grants
 *   RFC 7636  PKCE (S256 only)
 *   RFC 8252  native apps: the loopback redirect on 127.0.0.1
 *   RFC 8628  the device authorization grant
 *   RFC 7009  revocation
 *   RFC 8414  authorization server metadata (and OpenID Connect
 *             Discovery 1.0, its older sibling)
 *
 * HTTPS is libcurl's (built on GnuTLS), JSON jansson's.  The module
 * neither prints nor reads the terminal: the steps a person must take go
 * to the caller's callback as JSON objects.  Tokens never leave it except
 * as the access token oauth2_token returns.
 *
 * The token store (oauth2_store.c) is one JSON file per account, mode
 * 0600 in a 0700 directory, replaced atomically, and locked (a lock file
 * beside it) from reading to writing whenever a token may be refreshed,
 * so that parallel runs of one account never use a refresh token that a
 * rotation has just replaced.
 */
#ifndef OAUTH2_H
#define OAUTH2_H

#include <jansson.h>

#include "util.h"

enum oauth2_flow {
	OAUTH2_FLOW_DEFAULT,	/* loopback if an authorization endpoint
				 * is known, else device */
	OAUTH2_FLOW_DEVICE,
	OAUTH2_FLOW_LOOPBACK
};

/* The settings of one account; strings belong to the caller. */
struct oauth2_params {
	const char		*issuer;	/* for discovery */
	const char		*authorization_endpoint;
	const char		*token_endpoint;
	const char		*device_endpoint;
	const char		*revocation_endpoint;
	const char		*client_id;
	const char		*client_secret_command;
	const char		*scope;
	enum oauth2_flow	 flow;
	int			 offline_params; /* Google: also
						  * access_type=offline */
	const char		*store;		/* the token file, a full
						 * path (oauth2_store_path) */
	int			 store_named;	/* the user named the file:
						 * its directory may be open
						 * to reading */
	const char		*ca_file;	/* NULL: the system's */
	int			 timeout;	/* seconds, for each request */
};

/*
 * The default token file of an account: $XDG_STATE_HOME/popfetch/oauth2/
 * NAME (else ~/.local/state/...), NAME with "/" escaped.  ERR_CONFIG if
 * neither variable is set or the name is too long.
 */
int	oauth2_store_path(char *buf, size_t len, const char *name,
	    struct error *);

/* Whether the store holds tokens (a file exists; it is not read). */
int	oauth2_has_tokens(const struct oauth2_params *);

/*
 * An access token for the server, from the store.  It is refreshed first
 * (with the refresh_token grant, under the lock, the rotated refresh
 * token stored) when it expires within 60 seconds, or when refused is
 * the token the server just refused and the store still holds it.
 * Returns a string the caller frees with secret_free, or NULL with err:
 * ERR_CONFIG (no tokens, an unsafe or bad store; an access token expired
 * without a refresh token), ERR_AUTH with HINT_OAUTH2_LOGIN (the
 * provider refused the refresh token: invalid_grant), ERR_LOCKED (the
 * lock is held for longer than the timeout), ERR_TLS, ERR_NET, ERR_PROTO
 * (the provider's answer), ERR_IO.
 */
char	*oauth2_token(const struct oauth2_params *, const char *refused,
	    struct error *);

/* What oauth2_login tells the person who logs in: one object a step
 * (owned by the module; see popfetch(1) for the members). */
typedef void oauth2_step_fn(void *arg, json_t *step);

/*
 * Logs in: the device grant or the authorization code grant with PKCE
 * through a loopback redirect, as p->flow says, then stores the tokens.
 * Waits for the person as long as the provider's code lives (at most 15
 * minutes for the loopback flow).  Errors: ERR_USAGE (no client id, no
 * endpoint for the flow), ERR_AUTH (the provider refused: access denied,
 * an expired code, a redirect whose state does not match), ERR_CONFIG,
 * and those of oauth2_token.
 */
int	oauth2_login(const struct oauth2_params *, oauth2_step_fn *, void *,
	    struct error *);

/*
 * What the store says, as an object: token_file, issuer, client_id,
 * scope, access_token_expires (seconds since the epoch), expires_in,
 * refresh_token (a boolean); the caller owns it.  NULL with err:
 * ERR_CONFIG (no tokens, a bad store).
 */
json_t	*oauth2_status(const struct oauth2_params *, struct error *);

/*
 * Revokes the tokens where the provider has a revocation endpoint, then
 * deletes the store.  *revoked says whether they were revoked.  A
 * provider that refuses the revocation does not keep the file: the
 * tokens are deleted anyway.  ERR_CONFIG (no tokens), ERR_IO.
 */
int	oauth2_logout(const struct oauth2_params *, int *revoked,
	    struct error *);

#endif
