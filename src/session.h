/*
 * session.h - one connection to one mailbox: connect, TLS, CAPA, login.
 *
 * All security policy lives here: which TLS mode, refusing to go on
 * without STLS, asking CAPA again after TLS, never logging in in clear
 * unless the user allowed it.
 */
#ifndef SESSION_H
#define SESSION_H

#include "auth.h"
#include "pop3.h"
#include "tls.h"
#include "util.h"

enum tls_mode {
	TLSMODE_DEFAULT,	/* implicit on port 995, STARTTLS elsewhere */
	TLSMODE_IMPLICIT,
	TLSMODE_STARTTLS,
	TLSMODE_NONE
};

struct session_params {
	const char		*host;
	const char		*port;		/* NULL: 995 or 110 by mode */
	int			 timeout;	/* seconds */
	enum tls_mode		 tls;
	struct tls_params	 tlsp;
	struct auth_params	 auth;
	int			 utf8;		/* send UTF8 if offered */
	int			 debug;
	pop3_tracer		*trace;
	void			*trace_arg;
};

struct session;

/*
 * Connects, secures and, if login is set, authenticates.  Returns a
 * session owned by the caller, or NULL with err.  Nothing secret is sent
 * before the connection is verified.
 */
struct session	*session_open(const struct session_params *, int login,
		    struct error *);

/* The port a session with these parameters connects to. */
const char	*session_port(const struct session_params *);

/* The protocol handle, for commands. */
struct pop3	*session_pop3(struct session *);

/* Sends QUIT (committing deletions) and frees the session; -1 with err
 * if QUIT failed.  A NULL session is fine. */
int		 session_quit(struct session *, struct error *);

/* Drops the connection without QUIT: the server commits nothing. */
void		 session_abort(struct session *);

#endif
