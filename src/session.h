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
#include "dial.h"
#include "pop3.h"
#include "tls.h"
#include "util.h"

enum tls_mode {
	TLSMODE_DEFAULT,	/* implicit on port 995, STARTTLS elsewhere */
	TLSMODE_IMPLICIT,
	TLSMODE_STARTTLS,
	TLSMODE_NONE
};

/* RFC 6856 UTF8: sent whenever CAPA offers it, unless off; require
 * refuses a server that does not offer it. */
enum utf8_mode {
	UTF8_AUTO,
	UTF8_REQUIRE,
	UTF8_OFF
};

/* What a session learnt that outlives it, for the caller to act on. */
struct session_info {
	int			 login_delay_known;
	unsigned long long	 login_delay;	/* CAPA LOGIN-DELAY, seconds */
	int			 expire_known;	/* EXPIRE with a number */
	unsigned long long	 expire;	/* days; 0: gone once read */
	int			 delayed;	/* the login was refused with
						 * [LOGIN-DELAY] */
	int			 capa_dropped;	/* the server hung up on CAPA;
						 * reconnected without it */
};

struct session_params {
	const char		*host;
	const char		*port;		/* NULL: 995 or 110 by mode */
	int			 timeout;	/* seconds */
	int			 max_time;	/* seconds for the whole
						 * session, 0: no limit */
	struct dial_params	 dial;		/* how to reach it */
	enum tls_mode		 tls;
	struct tls_params	 tlsp;
	struct auth_params	 auth;
	enum utf8_mode		 utf8;
	int			 debug;
	pop3_tracer		*trace;
	void			*trace_arg;
	struct session_info	*info;		/* filled if not NULL */
};

struct session;

/*
 * Connects, secures and, if login is set, authenticates.  Returns a
 * session owned by the caller (end it with session_end), or NULL with
 * err: the classes of net_connect, net_starttls and tls_start, of the
 * greeting and CAPA (see pop3.h), ERR_TLS when STARTTLS is wanted and
 * the server does not offer it (with HINT_TLS_MODE), and those of
 * auth_login, and ERR_REFUSED when UTF8 is required but not offered or
 * refused (HINT_UTF8).  A server that hangs up on the first CAPA is
 * connected to once more, without CAPA.  UTF8 is sent whenever offered
 * unless it is off, before login (RFC 6856).  Nothing secret is sent
 * before the connection is verified; on failure the connection is closed
 * without QUIT.  sp->info, if set, is filled as far as the session got,
 * on failure too.
 */
struct session	*session_open(const struct session_params *, int login,
		    struct error *);

/* Logs in on a session opened without login (the info command looks
 * at the server first).  The errors of auth_login. */
int		 session_login(struct session *, const struct session_params *,
		    struct error *);

/* The port a session with these parameters connects to: sp->port, or
 * "995" or "110" by the TLS mode.  Static or owned by sp. */
const char	*session_port(const struct session_params *);

/* The protocol handle, for commands; owned by the session. */
struct pop3	*session_pop3(struct session *);

/*
 * The one place a session ends; frees it (NULL is fine: 0).
 *  - A broken connection (pop3_broken) is dropped without a word, so
 *    the server commits nothing (RFC 1939 section 6); -1 with the error
 *    that broke it.
 *  - Otherwise, unless commit is set, a session in the TRANSACTION
 *    state is reset with RSET first, so that no DELE it sent takes
 *    effect: callers pass commit 0 after a failed command or batch.  If
 *    RSET fails, the connection is dropped without QUIT (the deletions
 *    must not be committed) and its error returned.
 *  - Then QUIT, which commits the deletions: a fetch passes commit 1
 *    even when it stopped early, since it sends DELE only for messages
 *    it made durable.  -1 with err if QUIT failed (see pop3_quit).
 */
int		 session_end(struct session *, int commit, struct error *);

#endif
