/*
 * pop3.c - POP3 protocol primitives.
 *
 * Implements the client side of:
 *   RFC 1939  Post Office Protocol - Version 3 (states, commands, replies,
 *             dot-stuffing, APOP timestamps)
 *   RFC 2449  POP3 Extension Mechanism (CAPA, response codes)
 *   RFC 2595  STLS
 *   RFC 5034  AUTH (the continuation lines; mechanisms live in auth.c)
 *   RFC 6856  UTF8
 * The parsers of what the server sends live in pop3_parse.c.
 *
 * Every line from the server is bounded (POP3_LINE_MAX) and every number
 * is parsed with overflow checks.  Bodies are never held whole: each
 * line (or piece of a very long line) goes to the caller's sink as soon
 * as it is read.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3.h"

#define S_AUTH	(1 << POP3_AUTHORIZATION)
#define S_TRANS	(1 << POP3_TRANSACTION)

/* Which states accept a command, and how many of its words a trace may
 * show (the rest are secret).  -1: all. */
static const struct cmdinfo {
	const char	*name;
	unsigned	 states;
	int		 shown;
} cmdtab[] = {
	{ "USER",	S_AUTH,			-1 },
	{ "PASS",	S_AUTH,			1 },
	{ "APOP",	S_AUTH,			2 },
	{ "RPOP",	S_AUTH,			-1 },
	{ "AUTH",	S_AUTH,			2 },
	{ "STLS",	S_AUTH,			-1 },
	{ "UTF8",	S_AUTH,			-1 },
	{ "CAPA",	S_AUTH | S_TRANS,	-1 },
	{ "QUIT",	S_AUTH | S_TRANS,	-1 },
	{ "STAT",	S_TRANS,		-1 },
	{ "LIST",	S_TRANS,		-1 },
	{ "UIDL",	S_TRANS,		-1 },
	{ "RETR",	S_TRANS,		-1 },
	{ "TOP",	S_TRANS,		-1 },
	{ "DELE",	S_TRANS,		-1 },
	{ "RSET",	S_TRANS,		-1 },
	{ "NOOP",	S_TRANS,		-1 },
};

struct pop3 {
	struct net		*net;
	enum pop3_state		 state;
	struct pop3_capa	 capa;
	char			*welcome;
	char			*timestamp;
	char			*reply;		/* text of the last status */
	int			 trace_level;
	pop3_tracer		*trace;
	void			*trace_arg;
	char			 lastcmd[128];	/* redacted, for traces */
	char			*qbuf;		/* pipelined commands not sent */
	size_t			 qlen, qcap;
	char			(*fifo)[64];	/* sent, reply not read yet */
	size_t			 fhead, fcount, fcap;
};

static const struct cmdinfo *
cmd_lookup(const char *line)
{
	size_t i, n = strcspn(line, " ");

	for (i = 0; i < sizeof(cmdtab) / sizeof(cmdtab[0]); i++)
		if (strlen(cmdtab[i].name) == n &&
		    strncmp(cmdtab[i].name, line, n) == 0)
			return &cmdtab[i];
	return NULL;
}

/* Copies line into buf with all words past the shown ones as "****". */
static void
redact(const char *line, int shown, char *buf, size_t len)
{
	const char *p = line;
	int w;

	if (shown < 0) {
		vis_text(buf, len, line, strlen(line));
		return;
	}
	for (w = 0; w < shown && *p != '\0'; w++) {
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	if (*p == '\0') {
		vis_text(buf, len, line, strlen(line));
		return;
	}
	vis_text(buf, len, line, (size_t)(p - line));
	(void)strlcat(buf, "****", len);
}

static void
tracef(struct pop3 *p, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	p->trace(p->trace_arg, buf);
}

static void
trace_received(struct pop3 *p, const char *data, size_t len)
{
	char buf[512];

	if (p->trace_level < 2 || p->trace == NULL)
		return;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	tracef(p, "< %s", vis_text(buf, sizeof(buf), data, len));
}

struct pop3 *
pop3_new(struct net *net)
{
	struct pop3 *p = xcalloc(1, sizeof(*p));

	p->net = net;
	p->state = POP3_AUTHORIZATION;
	p->reply = xstrdup("");
	return p;
}

void
pop3_free(struct pop3 *p)
{
	if (p == NULL)
		return;
	net_close(p->net);
	pop3_parse_capa_clear(&p->capa);
	free(p->welcome);
	free(p->timestamp);
	free(p->reply);
	free(p->qbuf);
	free(p->fifo);
	free(p);
}

void
pop3_set_trace(struct pop3 *p, int level, pop3_tracer *fn, void *arg)
{
	p->trace_level = level;
	p->trace = fn;
	p->trace_arg = arg;
}

enum pop3_state
pop3_state(const struct pop3 *p)
{
	return p->state;
}

struct net *
pop3_net(struct pop3 *p)
{
	return p->net;
}

const char *
pop3_welcome(const struct pop3 *p)
{
	return p->welcome != NULL ? p->welcome : "";
}

const char *
pop3_timestamp(const struct pop3 *p)
{
	return p->timestamp;
}

const struct pop3_capa *
pop3_capabilities(const struct pop3 *p)
{
	return &p->capa;
}

const char *
pop3_reply_text(const struct pop3 *p)
{
	return p->reply;
}

/*
 * Writing commands and reading replies.
 */

static int
send_line(struct pop3 *p, const char *line, struct error *err)
{
	const struct cmdinfo *ci = cmd_lookup(line);
	char buf[POP3_LINE_MAX + 3];
	size_t n;

	if (strpbrk(line, "\r\n") != NULL)
		return error_set(err, ERR_SOFTWARE,
		    "refusing to send a command containing CR or LF");
	if (ci != NULL && !(ci->states & (1u << p->state)))
		return error_set(err, ERR_SOFTWARE, "%s is not allowed in the "
		    "%s state", ci->name, p->state == POP3_AUTHORIZATION ?
		    "AUTHORIZATION" : p->state == POP3_TRANSACTION ?
		    "TRANSACTION" : "UPDATE");
	redact(line, ci != NULL ? ci->shown : 0, p->lastcmd,
	    sizeof(p->lastcmd));
	if (p->trace != NULL && p->trace_level >= 2)
		tracef(p, "> %s", p->lastcmd);
	n = strlen(line);
	if (n + 2 >= sizeof(buf))
		return error_set(err, ERR_SOFTWARE, "command too long");
	memcpy(buf, line, n);
	memcpy(buf + n, "\r\n", 2);
	n += 2;
	if (net_write(p->net, buf, n, err) == -1) {
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

int
pop3_queue(struct pop3 *p, struct error *err, const char *fmt, ...)
{
	const struct cmdinfo *ci;
	char line[256];
	va_list ap;
	size_t n, i;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(line) || strpbrk(line, "\r\n"))
		return error_set(err, ERR_SOFTWARE, "bad pipelined command");
	ci = cmd_lookup(line);
	if (ci == NULL || ci->shown != -1 || !(ci->states & (1u << p->state)))
		return error_set(err, ERR_SOFTWARE, "%s cannot be pipelined "
		    "here", line);
	n = (size_t)r;
	if (p->qlen + n + 2 > p->qcap) {
		p->qcap = (p->qlen + n + 2) * 2;
		p->qbuf = xreallocarray(p->qbuf, p->qcap, 1);
	}
	memcpy(p->qbuf + p->qlen, line, n);
	memcpy(p->qbuf + p->qlen + n, "\r\n", 2);
	p->qlen += n + 2;
	if (p->fcount == p->fcap) {
		/* Grow the ring, unrolling it. */
		char (*nf)[64] = xreallocarray(NULL, p->fcap ? p->fcap * 2 : 64,
		    sizeof(*nf));

		for (i = 0; i < p->fcount; i++)
			memcpy(nf[i], p->fifo[(p->fhead + i) % p->fcap], 64);
		free(p->fifo);
		p->fifo = nf;
		p->fhead = 0;
		p->fcap = p->fcap ? p->fcap * 2 : 64;
	}
	vis_text(p->fifo[(p->fhead + p->fcount) % p->fcap], 64, line, n);
	p->fcount++;
	if (p->trace != NULL && p->trace_level >= 2)
		tracef(p, "> %s", line);
	return 0;
}

int
pop3_flush(struct pop3 *p, struct error *err)
{
	size_t n = p->qlen;

	p->qlen = 0;
	if (n == 0)
		return 0;
	return net_write(p->net, p->qbuf, n, err);
}


static enum err_class
code_class(const char *code, enum err_class dflt)
{
	if (strcasecmp(code, "AUTH") == 0)
		return ERR_AUTH;
	if (strcasecmp(code, "SYS/TEMP") == 0 ||
	    strcasecmp(code, "IN-USE") == 0 ||
	    strcasecmp(code, "LOGIN-DELAY") == 0)
		return ERR_BUSY;
	if (strcasecmp(code, "SYS/PERM") == 0)
		return ERR_REFUSED;
	return dflt;
}

/*
 * Reads one status line.  Returns 1 for +OK, 2 for a "+ " continuation
 * (only when allowed), -1 with err for -ERR or garbage.
 */
static int
read_status(struct pop3 *p, enum err_class dflt, int allow_cont,
    struct error *err)
{
	struct pop3_status st;
	char vis[512], *line;
	size_t len;

	int bad;

	if (net_getline(p->net, &line, &len, POP3_LINE_MAX, err) == -1)
		return error_prefix(err, "%s", p->lastcmd[0] ? p->lastcmd :
		    "greeting");
	bad = pop3_parse_status(line, len, &st) == -1;
	/* SASL challenges are part of the exchange: never traced. */
	if (!bad && st.ok == 2 && allow_cont)
		(void)strlcpy(vis, "+ ****", sizeof(vis));
	else
		vis_text(vis, sizeof(vis), line, len > 160 &&
		    p->trace_level == 1 ? 160 : len);
	if (p->trace != NULL && p->trace_level >= 2)
		tracef(p, "< %s", vis);
	else if (p->trace != NULL && p->trace_level == 1)
		tracef(p, "%s -> %s", p->lastcmd[0] ? p->lastcmd : "greeting",
		    vis);
	if (bad || (st.ok == 2 && !allow_cont))
		return error_set(err, ERR_PROTO, "%s: unexpected reply \"%s\"",
		    p->lastcmd[0] ? p->lastcmd : "greeting",
		    vis_text(vis, 120, line, len));
	free(p->reply);
	p->reply = xstrndup(line + st.text_off, len - st.text_off);
	if (p->welcome == NULL) {
		/* The greeting, escaped once here since it may hold NULs. */
		size_t wl = 4 * (len - st.text_off) + 4;

		p->welcome = xmalloc(wl);
		vis_text(p->welcome, wl, line + st.text_off, len - st.text_off);
	}
	if (st.ok == 0) {
		vis_text(vis, sizeof(vis), line, len);
		return error_set(err, code_class(st.code, dflt), "%s: %s",
		    p->lastcmd[0] ? p->lastcmd : "greeting", vis);
	}
	return st.ok;
}

/* Streams a multi-line body to sink; after a sink failure the rest of
 * the body is read and dropped so the session stays usable. */
static int
read_body(struct pop3 *p, pop3_sink *sink, void *arg, struct error *err)
{
	struct pop3_unstuff u = { 1, 0, 0 };
	struct error serr = { .cls = ERR_NONE };
	int failed = 0, eol;
	size_t len, olen;
	char *d, *o;

	for (;;) {
		if (net_getchunk(p->net, &d, &len, &eol, err) == -1) {
			if (!failed)
				error_prefix(err, "%s", p->lastcmd);
			return -1;
		}
		if (u.bol)
			trace_received(p, d, len);
		if (pop3_parse_unstuff(&u, d, len, eol, &o, &olen) == 1)
			break;
		if (!failed && olen > 0 && sink != NULL &&
		    sink(arg, o, olen, &serr) == -1)
			failed = 1;
	}
	if (failed) {
		*err = serr;
		return -1;
	}
	return 0;
}

/* Formats and sends one command line, wiping the copy afterwards. */
static int
vsend(struct pop3 *p, struct error *err, const char *fmt, va_list ap)
{
	char line[POP3_LINE_MAX];
	int r;

	r = vsnprintf(line, sizeof(line), fmt, ap);
	if (r < 0 || (size_t)r >= sizeof(line))
		return error_set(err, ERR_SOFTWARE, "command too long");
	r = send_line(p, line, err);
	explicit_bzero(line, sizeof(line));
	return r;
}

static int
sendf(struct pop3 *p, struct error *err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsend(p, err, fmt, ap);
	va_end(ap);
	return r;
}

static int
vcommand(struct pop3 *p, enum err_class dflt, struct error *err,
    const char *fmt, va_list ap)
{
	if (vsend(p, err, fmt, ap) == -1)
		return -1;
	return read_status(p, dflt, 0, err) == -1 ? -1 : 0;
}

int
pop3_recv_status(struct pop3 *p, enum err_class dflt, struct error *err)
{
	if (p->fcount == 0)
		return error_set(err, ERR_SOFTWARE, "no command in flight");
	(void)strlcpy(p->lastcmd, p->fifo[p->fhead], sizeof(p->lastcmd));
	p->fhead = (p->fhead + 1) % p->fcap;
	p->fcount--;
	return read_status(p, dflt, 0, err) == -1 ? -1 : 0;
}

int
pop3_recv_body(struct pop3 *p, pop3_sink *sink, void *arg,
    struct error *err)
{
	return read_body(p, sink, arg, err);
}

int
pop3_command(struct pop3 *p, enum err_class dflt, struct error *err,
    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vcommand(p, dflt, err, fmt, ap);
	va_end(ap);
	if (r == 0 && p->state == POP3_AUTHORIZATION &&
	    (strncmp(fmt, "PASS ", 5) == 0 || strncmp(fmt, "APOP ", 5) == 0 ||
	    strncmp(fmt, "RPOP ", 5) == 0))
		p->state = POP3_TRANSACTION;
	return r;
}

/* Reads the reply within a SASL exchange: 1 for a challenge, 0 for +OK
 * (logged in), -1 with err. */
static int
sasl_reply(struct pop3 *p, struct error *err)
{
	int r = read_status(p, ERR_AUTH, 1, err);

	if (r == 1) {
		p->state = POP3_TRANSACTION;
		return 0;
	}
	return r == 2 ? 1 : -1;
}

int
pop3_auth(struct pop3 *p, const char *mech, const char *initial,
    struct error *err)
{
	int r;

	if (strpbrk(mech, " \r\n") != NULL || (initial != NULL &&
	    strpbrk(initial, " \r\n") != NULL))
		return error_set(err, ERR_SOFTWARE, "bad AUTH arguments");
	if (initial != NULL)
		r = sendf(p, err, "AUTH %s %s", mech, initial);
	else
		r = sendf(p, err, "AUTH %s", mech);
	if (r == -1)
		return -1;
	return sasl_reply(p, err);
}

int
pop3_sasl_line(struct pop3 *p, const char *line, struct error *err)
{
	size_t n = strlen(line);
	char *buf;
	int r;

	if (strpbrk(line, "\r\n") != NULL || n > SASL_LINE_MAX)
		return error_set(err, ERR_SOFTWARE, "bad SASL response");
	/* lastcmd stays "AUTH mechanism ...", for traces and errors. */
	if (p->trace != NULL && p->trace_level >= 2)
		tracef(p, "> ****");
	buf = xmalloc(n + 2);
	memcpy(buf, line, n);
	memcpy(buf + n, "\r\n", 2);
	r = net_write(p->net, buf, n + 2, err);
	explicit_bzero(buf, n + 2);
	free(buf);
	if (r == -1)
		return -1;
	return sasl_reply(p, err);
}

int
pop3_greeting(struct pop3 *p, struct error *err)
{
	const char *lt, *gt;

	p->lastcmd[0] = '\0';
	if (read_status(p, ERR_REFUSED, 0, err) == -1)
		return -1;
	/* RFC 1939 section 7: the APOP timestamp is a msg-id, "<...>". */
	if ((lt = strchr(p->reply, '<')) != NULL &&
	    (gt = strchr(lt, '>')) != NULL && gt - lt > 2 && gt - lt < 256 &&
	    strcspn(lt, " \t") > (size_t)(gt - lt))
		p->timestamp = xstrndup(lt, (size_t)(gt - lt) + 1);
	return 0;
}

/* Reads the lines of a multi-line reply one by one into fn. */
static int
read_lines(struct pop3 *p, int (*fn)(void *, const char *, size_t,
    struct error *), void *arg, struct error *err)
{
	struct error ferr = { .cls = ERR_NONE };
	char *line;
	size_t len;
	int failed = 0;

	for (;;) {
		if (net_getline(p->net, &line, &len, POP3_LINE_MAX, err) == -1)
			return error_prefix(err, "%s", p->lastcmd);
		trace_received(p, line, len);
		if (line[0] == '.') {
			if (len == 1)
				break;
			line++;
			len--;
		}
		if (!failed && fn(arg, line, len, &ferr) == -1)
			failed = 1;
	}
	if (failed) {
		*err = ferr;
		return -1;
	}
	return 0;
}

static int
capa_line(void *arg, const char *line, size_t len, struct error *err)
{
	struct pop3_capa *c = arg;

	if (c->nlines >= 256)
		return error_set(err, ERR_PROTO,
		    "CAPA: more than 256 capabilities");
	pop3_parse_capa_line(c, line, len);
	return 0;
}

int
pop3_capa(struct pop3 *p, struct error *err)
{
	struct error e;

	pop3_parse_capa_clear(&p->capa);
	if (send_line(p, "CAPA", err) == -1)
		return -1;
	if (read_status(p, ERR_REFUSED, 0, &e) == -1) {
		if (e.cls == ERR_REFUSED)
			return 0;	/* an RFC 1939 server without CAPA */
		*err = e;
		return -1;
	}
	if (read_lines(p, capa_line, &p->capa, err) == -1)
		return -1;
	p->capa.known = 1;
	return 0;
}

int
pop3_stls(struct pop3 *p, const struct tls_params *tp, struct error *err)
{
	if (pop3_command(p, ERR_REFUSED, err, "STLS") == -1)
		return -1;
	if (net_starttls(p->net, tp, err) == -1)
		return -1;
	/* RFC 2595 section 4: forget what was learnt before TLS. */
	pop3_parse_capa_clear(&p->capa);
	return 0;
}

int
pop3_stat(struct pop3 *p, unsigned long *count, unsigned long long *octets,
    struct error *err)
{
	if (pop3_command(p, ERR_REFUSED, err, "STAT") == -1)
		return -1;
	if (pop3_parse_stat(p->reply, strlen(p->reply), count, octets) == -1)
		return error_set(err, ERR_PROTO, "STAT: malformed reply");
	return 0;
}

struct listing {
	struct pop3_msg	*msgs;
	size_t		 n, cap;
	int		 uidl;
};

static void
listing_push(struct listing *l, const struct pop3_msg *m)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap + l->cap / 2 : 64;
		l->msgs = xreallocarray(l->msgs, l->cap, sizeof(*l->msgs));
	}
	l->msgs[l->n++] = *m;
}

/* A LIST line, or the one line of "UIDL n"; a whole UIDL listing goes
 * through pop3_uidl_each. */
static int
listing_add(struct listing *l, const char *line, size_t len,
    struct error *err)
{
	struct pop3_msg m;
	size_t off;

	memset(&m, 0, sizeof(m));
	if (l->uidl) {
		if (pop3_parse_uid(line, len, &m.num, &off) == -1)
			return error_set(err, ERR_PROTO,
			    "UIDL: malformed line");
		m.uid = xstrndup(line + off, len - off);
	} else if (pop3_parse_scan(line, len, &m.num, &m.size) == -1)
		return error_set(err, ERR_PROTO, "LIST: malformed line");
	/* Listings come in ascending order; anything else means repeated
	 * numbers or a confused server. */
	if (l->n > 0 && m.num <= l->msgs[l->n - 1].num)
		return error_set(err, ERR_PROTO, "LIST: message %lu listed out "
		    "of order or twice", m.num);
	listing_push(l, &m);
	return 0;
}

static int
listing_line(void *arg, const char *line, size_t len, struct error *err)
{
	return listing_add(arg, line, len, err);
}

/* pop3_uid_fn: keeps each UID of a whole UIDL listing. */
static int
listing_uid(void *arg, unsigned long num, const char *uid, size_t len,
    struct error *err)
{
	struct pop3_msg m;

	(void)err;
	memset(&m, 0, sizeof(m));
	m.num = num;
	m.uid = xstrndup(uid, len);
	listing_push(arg, &m);
	return 0;
}

static int
listing(struct pop3 *p, int uidl, unsigned long num, struct pop3_msg **msgs,
    size_t *n, struct error *err)
{
	struct listing l = { NULL, 0, 0, uidl };
	const char *cmd = uidl ? "UIDL" : "LIST";

	*msgs = NULL;
	*n = 0;
	if (num > 0) {
		if (pop3_command(p, ERR_REFUSED, err, "%s %lu", cmd, num) == -1)
			return -1;
		if (listing_add(&l, p->reply, strlen(p->reply), err) == -1)
			goto fail;
		if (l.msgs[0].num != num) {
			error_set(err, ERR_PROTO, "%s: asked for message %lu, "
			    "got %lu", cmd, num, l.msgs[0].num);
			goto fail;
		}
	} else if (uidl) {
		if (pop3_uidl_each(p, listing_uid, &l, err) == -1)
			goto fail;
	} else {
		if (pop3_command(p, ERR_REFUSED, err, "LIST") == -1)
			return -1;
		if (read_lines(p, listing_line, &l, err) == -1)
			goto fail;
	}
	*msgs = l.msgs;
	*n = l.n;
	return 0;
fail:
	pop3_msgs_free(l.msgs, l.n, uidl);
	return -1;
}

struct uidl_walk {
	pop3_uid_fn	*fn;
	void		*arg;
	unsigned long	 last;
};

static int
uidl_walk_line(void *arg, const char *line, size_t len, struct error *err)
{
	struct uidl_walk *w = arg;
	unsigned long num;
	size_t off;

	if (pop3_parse_uid(line, len, &num, &off) == -1)
		return error_set(err, ERR_PROTO, "UIDL: malformed line");
	if (num <= w->last)
		return error_set(err, ERR_PROTO, "UIDL: message %lu listed "
		    "out of order or twice", num);
	w->last = num;
	return w->fn(w->arg, num, line + off, len - off, err);
}

int
pop3_uidl_each(struct pop3 *p, pop3_uid_fn *fn, void *arg,
    struct error *err)
{
	struct uidl_walk w = { fn, arg, 0 };

	if (pop3_command(p, ERR_REFUSED, err, "UIDL") == -1)
		return -1;
	return read_lines(p, uidl_walk_line, &w, err);
}

int
pop3_list(struct pop3 *p, unsigned long num, struct pop3_msg **msgs,
    size_t *n, struct error *err)
{
	return listing(p, 0, num, msgs, n, err);
}

int
pop3_uidl(struct pop3 *p, unsigned long num, struct pop3_msg **msgs,
    size_t *n, struct error *err)
{
	return listing(p, 1, num, msgs, n, err);
}

void
pop3_msgs_free(struct pop3_msg *m, size_t n, int uidl)
{
	size_t i;

	for (i = 0; uidl && i < n; i++)
		free(m[i].uid);
	free(m);
}

int
pop3_retr(struct pop3 *p, unsigned long num, pop3_sink *sink, void *arg,
    struct error *err)
{
	if (pop3_command(p, ERR_REFUSED, err, "RETR %lu", num) == -1)
		return -1;
	return read_body(p, sink, arg, err);
}

int
pop3_top(struct pop3 *p, unsigned long num, unsigned long lines,
    pop3_sink *sink, void *arg, struct error *err)
{
	if (pop3_command(p, ERR_REFUSED, err, "TOP %lu %lu", num, lines) == -1)
		return -1;
	return read_body(p, sink, arg, err);
}

int
pop3_dele(struct pop3 *p, unsigned long num, struct error *err)
{
	return pop3_command(p, ERR_REFUSED, err, "DELE %lu", num);
}

int
pop3_rset(struct pop3 *p, struct error *err)
{
	return pop3_command(p, ERR_REFUSED, err, "RSET");
}

int
pop3_noop(struct pop3 *p, struct error *err)
{
	return pop3_command(p, ERR_REFUSED, err, "NOOP");
}

int
pop3_quit(struct pop3 *p, struct error *err)
{
	enum pop3_state was = p->state;

	if (pop3_command(p, ERR_REFUSED, err, "QUIT") == -1) {
		if (was == POP3_TRANSACTION)
			error_prefix(err, "deletions may not have been "
			    "committed");
		return -1;
	}
	p->state = POP3_UPDATE;
	return 0;
}
