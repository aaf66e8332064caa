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
 *  4. UTF8 whenever offered, unless turned off (RFC 6856: only before
 *     login); Courier otherwise replaces every message with UTF-8 in
 *     its header by a notice;
 *  5. login, fetching the password only now, after the server is
 *     verified, so a failed verification never costs a secret.
 * Two fallbacks, both before anything secret: a server that hangs up
 * on CAPA (fetchmail's FAQ knows several) is connected to once more and
 * treated as one without CAPA; and --auth auto may follow a refused
 * SCRAM with PLAIN over verified TLS (auth.c).  Any other failure ends
 * the session.
 *
 * session_end holds the one rule for ending a session: drop a broken
 * connection, RSET what must not be committed, QUIT otherwise.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net.h"
#include "session.h"

struct session {
	struct pop3	*pop3;
};

static void	trace_connection(const struct session_params *, struct net *,
		    const char *);

static int
secure_session(struct pop3 *p, const struct session_params *sp,
    enum tls_mode mode, int capa, int *dropped, struct error *err)
{
	const struct pop3_capa *c;

	*dropped = 0;
	if (capa && pop3_capa(p, err) == -1) {
		*dropped = err->cls == ERR_NET;
		return -1;
	}
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
    struct pop3 *p, const char *port, struct error *err)
{
	if (mode == TLSMODE_IMPLICIT || err->cls != ERR_NET ||
	    net_received(pop3_net(p)) > 0 ||
	    strstr(err->msg, "timed out") == NULL)
		return;
	(void)error_set(err, strcmp(port, "995") == 0 ? ERR_CONFIG : ERR_NET,
	    "timed out: no greeting in %d seconds; the server at port %s "
	    "probably expects a TLS handshake first (implicit TLS)",
	    sp->timeout, port);
	(void)error_hint(err, HINT_TLS_IMPLICIT);
}

/* Whether UTF8 is sent; -1 with err when it is required and cannot be
 * had. */
static int
utf8(struct pop3 *p, const struct session_params *sp, struct error *err)
{
	struct error e;

	if (sp->utf8 == UTF8_OFF)
		return 0;
	if (!(pop3_capabilities(p)->flags & CAPA_UTF8)) {
		if (sp->utf8 == UTF8_AUTO)
			return 0;
		return error_set(err, ERR_REFUSED, "the server does not "
		    "offer UTF8 (RFC 6856)"), error_hint(err, HINT_UTF8);
	}
	if (pop3_command(p, ERR_REFUSED, &e, "UTF8") == 0)
		return 0;
	if (sp->utf8 == UTF8_AUTO && !pop3_broken(p)) {
		pop3_note(p, "the server offers UTF8 but refused it");
		return 0;
	}
	*err = e;
	return e.cls == ERR_REFUSED ? error_hint(err, HINT_UTF8) : -1;
}

/* What CAPA said that the caller acts on. */
static void
note_capa(struct pop3 *p, struct session_info *in)
{
	const struct pop3_capa *c = pop3_capabilities(p);

	in->login_delay_known = pop3_parse_capa_number(c, "LOGIN-DELAY",
	    POP3_DELAY_MAX, &in->login_delay) == 0;
	in->expire_known = pop3_parse_capa_number(c, "EXPIRE",
	    POP3_DELAY_MAX, &in->expire) == 0;
	if (in->login_delay_known)
		pop3_note(p, "the server asks for %llu s between logins "
		    "(LOGIN-DELAY); heeded only if it refuses one",
		    in->login_delay);
	if (in->expire_known)
		pop3_note(p, "the server may remove messages %llu days after "
		    "they are retrieved (EXPIRE)", in->expire);
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

/* Connects and reads the greeting: a pop3 handle, or NULL with err. */
static struct pop3 *
start(const struct session_params *sp, enum tls_mode mode, struct error *err)
{
	struct net *n;
	struct pop3 *p;

	if ((n = dial_connect(sp->host, session_port(sp), sp->timeout,
	    sp->max_time, &sp->dial, err)) == NULL)
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
		no_greeting(sp, mode, p, session_port(sp), err);
		pop3_free(p);
		return NULL;
	}
	return p;
}

/*
 * Connects, secures and greets, ready for login.  A server that hangs
 * up on CAPA gets a second connection without it (in->capa_dropped).
 */
static struct pop3 *
session_connect(const struct session_params *sp, struct session_info *in,
    struct error *err)
{
	struct pop3 *p;
	enum tls_mode mode = effective_mode(sp);
	int dropped;

	if ((p = start(sp, mode, err)) == NULL)
		return NULL;
	if (secure_session(p, sp, mode, 1, &dropped, err) == -1) {
		pop3_free(p);
		if (!dropped || (p = start(sp, mode, err)) == NULL)
			return NULL;
		in->capa_dropped = 1;
		pop3_note(p, "the server hung up on CAPA; going on without it");
		if (secure_session(p, sp, mode, 0, &dropped, err) == -1)
			goto fail;
	}
	note_capa(p, in);
	if (utf8(p, sp, err) == -1)
		goto fail;
	return p;
fail:
	pop3_free(p);
	return NULL;
}

/*
 * A stored OAuth token the server refuses is refreshed once and tried
 * once more, on a new connection: some servers hang up after a failed
 * AUTH, others would count a second failure on one connection.  The
 * first connection is dropped without QUIT; nothing happened on it.
 */
struct session *
session_open(const struct session_params *sp, int login, struct error *err)
{
	struct session_info dummy, *in = sp->info != NULL ? sp->info : &dummy;
	struct session *s;
	struct auth_params ap;
	struct pop3 *p;
	int retry = 0, attempt, secure, verified;

	memset(in, 0, sizeof(*in));
	if ((p = session_connect(sp, in, err)) == NULL)
		return NULL;
	ap = sp->auth;
	ap.cred.timeout = sp->timeout;
	for (attempt = 0; login; attempt++) {
		secure = net_is_tls(pop3_net(p));
		verified = secure && !sp->tlsp.insecure;
		if (auth_login_token(p, &ap, secure, verified, attempt > 0,
		    &retry, err) == 0)
			break;
		if (!retry || attempt > 0) {
			in->delayed = strcasecmp(pop3_reply_code(p),
			    "LOGIN-DELAY") == 0;
			goto fail;
		}
		pop3_free(p);
		if ((p = session_connect(sp, in, err)) == NULL)
			return NULL;
	}
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
	int secure = net_is_tls(pop3_net(s->pop3));
	struct auth_params ap = sp->auth;

	ap.cred.timeout = sp->timeout;
	return auth_login(s->pop3, &ap, secure, secure && !sp->tlsp.insecure,
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
