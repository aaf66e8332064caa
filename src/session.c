/*
 * session.c - connection set-up and security policy.
 *
 * Order of events, and why:
 *  1. connect; with implicit TLS the handshake comes before any POP3
 *     byte is read (RFC 8314);
 *  2. greeting and CAPA;
 *  3. with STARTTLS: require STLS in CAPA, send STLS, refuse bytes that
 *     arrive before the handshake (injection), verify, then forget the
 *     old capabilities and ask CAPA again (RFC 2595 section 4);
 *  4. UTF8 when asked for and offered (RFC 6856);
 *  5. login, fetching the password only now, after the server is
 *     verified, so a failed verification never costs a secret.
 * There is no fallback: any failure ends the session.
 *
 * session_end holds the one rule for ending a session: drop a broken
 * connection, RSET what must not be committed, QUIT otherwise.
 */
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "session.h"

struct session {
	struct pop3	*pop3;
};

static void	trace_connection(const struct session_params *, struct net *,
		    const char *);

static int
secure_session(struct pop3 *p, const struct session_params *sp,
    enum tls_mode mode, struct error *err)
{
	const struct pop3_capa *c;

	if (pop3_capa(p, err) == -1)
		return -1;
	if (mode != TLSMODE_STARTTLS)
		return 0;
	c = pop3_capabilities(p);
	if (!c->known)
		return error_set(err, ERR_TLS, "STARTTLS: the server does not "
		    "answer CAPA, so it cannot offer STLS; refusing to go on "
		    "without TLS"), error_hint(err, HINT_TLS_MODE);
	if (!(c->flags & CAPA_STLS))
		return error_set(err, ERR_TLS, "STARTTLS: the server does not "
		    "offer STLS; refusing to go on without TLS"),
		    error_hint(err, HINT_TLS_MODE);
	if (pop3_stls(p, &sp->tlsp, err) == -1) {
		if (err->cls == ERR_REFUSED)
			err->cls = ERR_TLS;
		return error_prefix(err, "STARTTLS");
	}
	trace_connection(sp, pop3_net(p), "STARTTLS: ");
	return pop3_capa(p, err);
}

static enum tls_mode
effective_mode(const struct session_params *sp)
{
	if (sp->tls != TLSMODE_DEFAULT)
		return sp->tls;
	return sp->port == NULL || strcmp(sp->port, "995") == 0 ||
	    strcmp(sp->port, "pop3s") == 0 ? TLSMODE_IMPLICIT :
	    TLSMODE_STARTTLS;
}

const char *
session_port(const struct session_params *sp)
{
	if (sp->port != NULL)
		return sp->port;
	return effective_mode(sp) == TLSMODE_IMPLICIT ? "995" : "110";
}

/*
 * A server that says nothing where a greeting was expected is most often
 * one that waits for a TLS handshake (implicit TLS).  On port 995, the
 * port of implicit TLS, that is a configuration error; elsewhere it may
 * be a server that hangs, which a later try can cure, but the message
 * names the likely cause all the same.
 */
static void
no_greeting(const struct session_params *sp, enum tls_mode mode,
    const char *port, struct error *err)
{
	if (mode == TLSMODE_IMPLICIT || err->cls != ERR_NET ||
	    strstr(err->msg, "timed out") == NULL)
		return;
	(void)error_set(err, strcmp(port, "995") == 0 ? ERR_CONFIG : ERR_NET,
	    "no greeting in %d seconds: the server at port %s probably "
	    "expects a TLS handshake first (implicit TLS)", sp->timeout,
	    port);
	(void)error_hint(err, HINT_TLS_IMPLICIT);
}

/* -d 1 and more: where the connection went, and how it is secured. */
static void
trace_connection(const struct session_params *sp, struct net *n,
    const char *what)
{
	struct tls_sessinfo si;
	struct tls_certinfo ci;
	struct error e;
	char peer[1100], line[1400];

	if (sp->trace == NULL || sp->debug < 1)
		return;
	if (what == NULL) {
		(void)snprintf(line, sizeof(line), "connected to %s",
		    net_peer(n, peer, sizeof(peer)));
		sp->trace(sp->trace_arg, line);
	}
	if (net_tlsinfo(n, &si, &e) == -1 || net_certinfo(n, &ci, &e) == -1)
		return;
	(void)snprintf(line, sizeof(line), "%s%s, %s, certificate %s%s%s",
	    what != NULL ? what : "", si.version, si.cipher,
	    sp->tlsp.fingerprint != NULL ? "pinned (sha256)" : ci.verified ?
	    "verified" : "not verified", ci.verified ||
	    sp->tlsp.fingerprint != NULL ? "" : ": ", ci.verified ||
	    sp->tlsp.fingerprint != NULL ? "" : ci.why);
	sp->trace(sp->trace_arg, line);
}

struct session *
session_open(const struct session_params *sp, int login, struct error *err)
{
	struct session *s;
	struct net *n;
	struct pop3 *p;
	enum tls_mode mode = effective_mode(sp);
	const char *port = session_port(sp);

	if ((n = net_connect(sp->host, port, sp->timeout, err)) == NULL)
		return NULL;
	trace_connection(sp, n, NULL);
	if (mode == TLSMODE_IMPLICIT && net_starttls(n, &sp->tlsp, err) == -1) {
		net_close(n);
		return NULL;
	}
	if (mode == TLSMODE_IMPLICIT)
		trace_connection(sp, n, "TLS: ");
	p = pop3_new(n);
	if (sp->trace != NULL)
		pop3_set_trace(p, sp->debug, sp->trace, sp->trace_arg);
	if (pop3_greeting(p, err) == -1) {
		no_greeting(sp, mode, port, err);
		goto fail;
	}
	if (secure_session(p, sp, mode, err) == -1)
		goto fail;
	if (sp->utf8 && (pop3_capabilities(p)->flags & CAPA_UTF8) &&
	    pop3_command(p, ERR_REFUSED, err, "UTF8") == -1)
		goto fail;
	if (login && auth_login(p, &sp->auth, net_is_tls(n), err) == -1)
		goto fail;
	s = xcalloc(1, sizeof(*s));
	s->pop3 = p;
	return s;
fail:
	pop3_free(p);
	return NULL;
}

int
session_login(struct session *s, const struct session_params *sp,
    struct error *err)
{
	return auth_login(s->pop3, &sp->auth, net_is_tls(pop3_net(s->pop3)),
	    err);
}

struct pop3 *
session_pop3(struct session *s)
{
	return s->pop3;
}

int
session_end(struct session *s, int commit, struct error *err)
{
	struct pop3 *p;
	int r = 0;

	if (s == NULL)
		return 0;
	p = s->pop3;
	if (!commit && !pop3_broken(p) &&
	    pop3_state(p) == POP3_TRANSACTION)
		r = pop3_rset(p, err);
	/*
	 * No QUIT after a failed RSET, and none on a broken connection: pop3
	 * writes nothing more to it, and pop3_quit fails at once with the
	 * error that broke it.  Without QUIT the server commits nothing.
	 */
	if (r == 0)
		r = pop3_quit(p, err);
	pop3_free(p);
	free(s);
	return r;
}
