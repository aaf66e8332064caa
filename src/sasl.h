/*
 * sasl.h - SASL mechanisms as pure state machines (RFC 4422).
 *
 * A mechanism turns the server's decoded challenges into raw responses;
 * it never sees the network, base64 or POP3 (auth.c does that), so every
 * parser of server data here can be fuzzed on its own.
 *
 *   PLAIN        RFC 4616
 *   LOGIN        draft-murchison-sasl-login
 *   CRAM-MD5     RFC 2195
 *   SCRAM-SHA-1, SCRAM-SHA-256   RFC 5802, RFC 7677
 *   SCRAM-SHA-1-PLUS, SCRAM-SHA-256-PLUS   the same with channel binding
 *                (RFC 5802 section 6): the caller brings the binding,
 *                tls-exporter (RFC 9266) or tls-server-end-point
 *                (RFC 5929), from tls.c
 *   EXTERNAL     RFC 4422 appendix A (identity from the client certificate)
 *   XOAUTH2      Google's and Microsoft's description
 *   OAUTHBEARER  RFC 7628
 */
#ifndef SASL_H
#define SASL_H

#include <stddef.h>

#include "util.h"

enum sasl_mech {
	SASL_PLAIN,
	SASL_LOGIN,
	SASL_CRAM_MD5,
	SASL_SCRAM_SHA1,
	SASL_SCRAM_SHA256,
	SASL_SCRAM_SHA1_PLUS,
	SASL_SCRAM_SHA256_PLUS,
	SASL_EXTERNAL,
	SASL_XOAUTH2,
	SASL_OAUTHBEARER
};

/* The most PBKDF2 iterations a server may ask SCRAM for (a hostile
 * server could otherwise make the client burn minutes of CPU). */
#define SCRAM_ITER_MAX	1000000U
/* RFC 7677 section 4: at least 4096; fewer would let a hostile server
 * collect proofs that are cheap to crack. */
#define SCRAM_ITER_MIN	4096U

struct sasl_params {
	enum sasl_mech	 mech;
	const char	*user;		/* authentication identity */
	const char	*secret;	/* password or OAuth token */
	const char	*host;		/* OAUTHBEARER only */
	const char	*port;		/* OAUTHBEARER only */
	unsigned	 max_iter;	/* SCRAM; 0: SCRAM_ITER_MAX */
	const char	*nonce;		/* SCRAM client nonce; NULL: random */
	/*
	 * SCRAM channel binding, the GS2 header's flag (RFC 5802 section
	 * 6).  A -PLUS mechanism needs all three: the header says
	 * "p=cb_type" and c= carries cb_data after it.  For SCRAM without
	 * -PLUS, a cb_type says that the client could bind but the server
	 * offered no -PLUS ("y": a server that does support binding then
	 * sees the downgrade and fails the exchange); NULL that the client
	 * cannot ("n": no TLS).  cb_data is copied.
	 */
	const char		*cb_type;
	const unsigned char	*cb_data;
	size_t			 cb_len;
};

struct sasl;

/* The mechanism's IANA name, e.g. "SCRAM-SHA-256"; a static string. */
const char	*sasl_name(enum sasl_mech);
/* Finds a mechanism by name (any case); 0 or -1. */
int		 sasl_lookup(const char *, enum sasl_mech *);
/* Whether the mechanism sends the password or a bearer token itself
 * (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER): never over a clear connection. */
int		 sasl_reveals_secret(enum sasl_mech);
/* Whether it needs a password or token at all (all but EXTERNAL). */
int		 sasl_needs_secret(enum sasl_mech);
/* Whether it is one of the SCRAM mechanisms, with or without -PLUS. */
int		 sasl_is_scram(enum sasl_mech);
/* Whether it binds the TLS channel (the -PLUS mechanisms). */
int		 sasl_binds(enum sasl_mech);

/* A mechanism at its start, owned by the caller (sasl_free); copies
 * what it needs from p.  NULL with err: ERR_CONFIG (no secret for a
 * mechanism that needs one), ERR_SOFTWARE (a bad nonce, no randomness,
 * a -PLUS mechanism without binding data, or a bad binding type). */
struct sasl	*sasl_new(const struct sasl_params *, struct error *);
/* Wipes every secret and frees; NULL is fine. */
void		 sasl_free(struct sasl *);

/*
 * The client's first message, to send with the AUTH command.  Returns 1
 * with *out and *len (owned by s) if the mechanism starts with one and its
 * base64 form ("=" when empty) fits in room characters; else 0, and the
 * message goes out later as the answer to the server's empty challenge.
 */
int		 sasl_initial(struct sasl *, size_t room,
		    const unsigned char **out, size_t *len);

/*
 * Answers a decoded server challenge.  Returns 0 with the response in
 * *out and *len (owned by s, valid until the next call, possibly
 * empty), or -1 with err when the challenge is malformed or unexpected
 * (ERR_PROTO), proves the server does not know the password or carries
 * its error (ERR_AUTH), or a hash fails (ERR_SOFTWARE); the caller then
 * cancels with "*".  After an OAuth error challenge the response is the
 * acknowledgement the mechanism asks for, and sasl_server_error says
 * what the server said.
 */
int		 sasl_step(struct sasl *, const unsigned char *chal,
		    size_t chlen, const unsigned char **out, size_t *len,
		    struct error *);

/*
 * Called when the server says +OK: 0, or -1 with err (ERR_AUTH) if the
 * mechanism has not finished (SCRAM: the server never proved it knows
 * the password).
 */
int		 sasl_finish(struct sasl *, struct error *);

/* The server's OAuth error (escaped for display), or NULL; owned by
 * s. */
const char	*sasl_server_error(const struct sasl *);

#endif
