/*
 * pop3.c - POP3 protocol primitives.
 *
 * Implements the client side of:
 *   RFC 1939  Post Office Protocol - Version 3 (states, commands, replies,
 *             dot-stuffing, APOP timestamps)
 *   RFC 1081  RPOP
 *   RFC 2449  POP3 Extension Mechanism (CAPA, PIPELINING, response codes)
 *   RFC 2595  STLS
 *   RFC 3206  the SYS and AUTH response codes
 *   RFC 5034  AUTH (the continuation lines; mechanisms live in sasl.c)
 *   RFC 6856  UTF8
 * The parsers of what the server sends live in pop3_parse.c, what a
 * trace shows in pop3_trace.c.
 *
 * Everything a command is, is in one table (cmdtab).  Every command
 * goes out through put_command and put_line, every status line comes
 * in through read_status (the one place where the state changes), and
 * every multi-line reply through read_multi; mark_broken is the one
 * place that gives up on a connection.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pop3.h"

/* What the output buffer holds: a SASL line or many commands. */
#define OUT_MAX	(2 * SASL_LINE_MAX)

#define S_AUTH	(1u << POP3_AUTHORIZATION)
#define S_TRANS	(1u << POP3_TRANSACTION)

/* What follows the +OK to a command. */
enum cmd_reply {
	R_LINE,		/* nothing: a single-line reply */
	R_MULTI,	/* lines up to a "." */
	R_NOARG		/* lines without an argument, else nothing (LIST,
			 * UIDL) */
};

/* What a +OK to a command does to the session. */
enum cmd_effect {
	E_KEEP,		/* nothing */
	E_LOGIN,	/* logs in: AUTHORIZATION becomes TRANSACTION */
	E_TLS,		/* the next bytes are a TLS handshake */
	E_END		/* the session is over (UPDATE) */
};

/* Every command popfetch sends.  shown is how many words a trace may
 * show (-1: all); the rest are secret. */
static const struct pop3_cmd {
	const char	*name;
	unsigned	 states;
	enum cmd_reply	 reply;
	enum cmd_effect	 effect;
	int		 shown;
} cmdtab[] = {
	/* name		states			reply	 effect	  shown */
	{ "USER",	S_AUTH,			R_LINE,	 E_KEEP,  -1 },
	{ "PASS",	S_AUTH,			R_LINE,	 E_LOGIN,  1 },
	{ "APOP",	S_AUTH,			R_LINE,	 E_LOGIN,  2 },
	{ "RPOP",	S_AUTH,			R_LINE,	 E_LOGIN, -1 },
	{ "AUTH",	S_AUTH,			R_LINE,	 E_LOGIN,  2 },
	{ "STLS",	S_AUTH,			R_LINE,	 E_TLS,	  -1 },
	{ "UTF8",	S_AUTH,			R_LINE,	 E_KEEP,  -1 },
	{ "CAPA",	S_AUTH | S_TRANS,	R_MULTI, E_KEEP,  -1 },
	{ "QUIT",	S_AUTH | S_TRANS,	R_LINE,	 E_END,	  -1 },
	{ "STAT",	S_TRANS,		R_LINE,	 E_KEEP,  -1 },
	{ "LIST",	S_TRANS,		R_NOARG, E_KEEP,  -1 },
	{ "UIDL",	S_TRANS,		R_NOARG, E_KEEP,  -1 },
	{ "RETR",	S_TRANS,		R_MULTI, E_KEEP,  -1 },
	{ "TOP",	S_TRANS,		R_MULTI, E_KEEP,  -1 },
	{ "DELE",	S_TRANS,		R_LINE,	 E_KEEP,  -1 },
	{ "RSET",	S_TRANS,		R_LINE,	 E_KEEP,  -1 },
	{ "NOOP",	S_TRANS,		R_LINE,	 E_KEEP,  -1 },
};

/* A command whose reply has not been read yet. */
struct flight {
	const struct pop3_cmd	*cmd;
	int			 multi;		/* its +OK brings lines */
	char			 text[128];	/* redacted, for traces */
};

struct pop3 {
	struct net		*net;
	enum pop3_state		 state;
	int			 broken;
	struct error		 why;		/* what broke it */
	struct pop3_capa	 capa;
	char			*welcome;
	char			*timestamp;
	char			*reply;		/* text of the last status */
	char			 code[64];	/* its response code, or "" */
	struct pop3_trace	 trace;
	struct flight		 cur;		/* whose reply comes next; a
						 * NULL cmd: the greeting */
	int			 body;		/* lines follow the last +OK */
	int			 challenge;	/* a "+ " awaits an answer */
	char			*out;		/* OUT_MAX bytes not sent yet */
	size_t			 outlen;
	struct flight		*fifo;		/* sent, reply not read */
	size_t			 fhead, fcount, fcap;
};

static const char *
cur_name(const struct pop3 *p)
{
	return p->cur.cmd != NULL ? p->cur.text : "greeting";
}

/*
 * The connection can no longer be trusted to be in step with the
 * server: keeps the first such error, for every later call.  Returns -1.
 */
static int
mark_broken(struct pop3 *p, struct error *err)
{
	if (!p->broken) {
		p->broken = 1;
		p->why = *err;
	}
	return -1;
}

/* Refuses to go on over a broken connection, with the error that broke
 * it. */
static int
usable(struct pop3 *p, struct error *err)
{
	if (!p->broken)
		return 0;
	*err = p->why;
	return -1;
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
	if (p->out != NULL)
		explicit_bzero(p->out, OUT_MAX);
	free(p->out);
	free(p->fifo);
	free(p);
}

void
pop3_set_trace(struct pop3 *p, int level, pop3_tracer *fn, void *arg)
{
	p->trace.level = level;
	p->trace.fn = fn;
	p->trace.arg = arg;
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

int
pop3_broken(const struct pop3 *p)
{
	return p->broken;
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

const char *
pop3_reply_code(const struct pop3 *p)
{
	return p->code;
}

void
pop3_note(struct pop3 *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pop3_trace_note(&p->trace, buf);
}

/*
 * Writing.  put_line is the one line writer: every command and SASL
 * line goes into the output buffer through it, with its CRLF, and
 * leaves with send_out (at once for a command in lock-step, with
 * pop3_flush for pipelined ones).
 */

/* Sends what put_line buffered and wipes it. */
static int
send_out(struct pop3 *p, struct error *err)
{
	size_t n = p->outlen;
	int r;

	p->outlen = 0;
	if (n == 0)
		return 0;
	r = net_write(p->net, p->out, n, err);
	explicit_bzero(p->out, n);
	if (r == -1)
		return mark_broken(p, err);
	return 0;
}

static int
put_line(struct pop3 *p, const char *line, struct error *err)
{
	size_t n = strlen(line);

	if (strpbrk(line, "\r\n") != NULL)
		return error_set(err, ERR_SOFTWARE,
		    "refusing to send a line containing CR or LF");
	if (n > SASL_LINE_MAX)
		return error_set(err, ERR_SOFTWARE, "line too long");
	if (p->out == NULL)
		p->out = xmalloc(OUT_MAX);
	/* Full of pipelined commands: they go now. */
	if (p->outlen + n + 2 > OUT_MAX && send_out(p, err) == -1)
		return -1;
	memcpy(p->out + p->outlen, line, n);
	memcpy(p->out + p->outlen + n, "\r\n", 2);
	p->outlen += n + 2;
	return 0;
}

/* Formats a command into buf; ERR_SOFTWARE if it does not fit. */
static int
format_line(char *buf, size_t len, struct error *err, const char *fmt,
    va_list ap)
{
	int r = vsnprintf(buf, len, fmt, ap);

	if (r < 0 || (size_t)r >= len)
		return error_set(err, ERR_SOFTWARE, "command too long");
	return 0;
}

/* Looks line up in the table and checks that the state accepts it;
 * *multi says whether its +OK brings lines.  NULL with err if not. */
static const struct pop3_cmd *
check_command(struct pop3 *p, const char *line, int *multi,
    struct error *err)
{
	static const char *names[] = { "AUTHORIZATION", "TRANSACTION",
	    "UPDATE" };
	const struct pop3_cmd *c;
	size_t i, n = strcspn(line, " ");

	/* The names are unique: the first match is the one. */
	for (i = 0, c = NULL; i < sizeof(cmdtab) / sizeof(cmdtab[0]); i++)
		if (cmdtab[i].name[0] == line[0] &&
		    strlen(cmdtab[i].name) == n &&
		    strncmp(cmdtab[i].name, line, n) == 0) {
			c = &cmdtab[i];
			break;
		}
	if (c == NULL)
		error_set(err, ERR_SOFTWARE, "not a known command: %.*s",
		    (int)n, line);
	else if (!(c->states & (1u << p->state)))
		error_set(err, ERR_SOFTWARE, "%s is not allowed in the %s "
		    "state", c->name, names[p->state]);
	else {
		*multi = c->reply == R_MULTI ||
		    (c->reply == R_NOARG && line[n] == '\0');
		return c;
	}
	return NULL;
}

/*
 * The one path of every command, in lock-step or pipelined: checked
 * against the table and the state, put into the output buffer, and put
 * on the list of commands in flight, whose replies come in order.
 */
static int
put_command(struct pop3 *p, const char *line, int pipelined,
    struct error *err)
{
	struct flight f, *nf;
	size_t i, ncap;

	if ((f.cmd = check_command(p, line, &f.multi, err)) == NULL)
		return -1;
	if (pipelined && (f.cmd->shown != -1 || f.cmd->effect != E_KEEP ||
	    p->challenge))
		return error_set(err, ERR_SOFTWARE, "%s cannot be pipelined",
		    f.cmd->name);
	if (put_line(p, line, err) == -1)
		return -1;
	pop3_trace_redact(line, f.cmd->shown, f.text, sizeof(f.text));
	if (p->fcount == p->fcap) {
		/* Grow the ring, unrolling it. */
		ncap = p->fcap ? p->fcap * 2 : 64;
		nf = xreallocarray(NULL, ncap, sizeof(*nf));
		for (i = 0; i < p->fcount; i++)
			nf[i] = p->fifo[(p->fhead + i) % p->fcap];
		free(p->fifo);
		p->fifo = nf;
		p->fhead = 0;
		p->fcap = ncap;
	}
	p->fifo[(p->fhead + p->fcount) % p->fcap] = f;
	p->fcount++;
	pop3_trace_sent(&p->trace, f.text);
	return 0;
}

/* Makes the oldest command in flight the one whose reply comes next. */
static int
next_reply(struct pop3 *p, struct error *err)
{
	if (usable(p, err) == -1)
		return -1;
	if (p->fcount == 0 || p->body || p->challenge)
		return error_set(err, ERR_SOFTWARE, "%s", p->fcount == 0 ?
		    "no command in flight" : "the last reply is not read");
	p->cur = p->fifo[p->fhead];
	p->fhead = (p->fhead + 1) % p->fcap;
	p->fcount--;
	return 0;
}

int
pop3_queue(struct pop3 *p, struct error *err, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int r;

	if (usable(p, err) == -1)
		return -1;
	va_start(ap, fmt);
	r = format_line(line, sizeof(line), err, fmt, ap);
	va_end(ap);
	if (r == -1)
		return -1;
	return put_command(p, line, 1, err);
}

int
pop3_queue_num(struct pop3 *p, const char *cmd, unsigned long n,
    struct error *err)
{
	char line[64];
	struct sb b;

	if (usable(p, err) == -1)
		return -1;
	sb_init(&b, line, sizeof(line));
	sb_str(&b, cmd);
	sb_char(&b, ' ');
	sb_u(&b, n);
	if (sb_end(&b) == -1)
		return error_set(err, ERR_SOFTWARE, "command too long");
	return put_command(p, line, 1, err);
}

int
pop3_flush(struct pop3 *p, struct error *err)
{
	if (usable(p, err) == -1)
		return -1;
	return send_out(p, err);
}

/*
 * Reading.
 */

/* The one place where the RFC 1939 state changes: after a +OK, by what
 * the table says the command does. */
static void
took_effect(struct pop3 *p)
{
	if (p->cur.cmd == NULL)
		return;
	if (p->cur.cmd->effect == E_LOGIN)
		p->state = POP3_TRANSACTION;
	else if (p->cur.cmd->effect == E_END)
		p->state = POP3_UPDATE;
	p->body = p->cur.multi;
}

/*
 * Reads the status line answering p->cur.  Returns 1 for +OK, 2 for a
 * "+ " continuation (only when cont), -1 with err for -ERR or garbage.
 */
static int
read_status(struct pop3 *p, enum err_class dflt, int cont,
    struct error *err)
{
	struct pop3_status st;
	char vis[512], *line;
	size_t len, wl;
	int bad;

	p->challenge = 0;
	p->code[0] = '\0';
	if (net_getline(p->net, &line, &len, POP3_LINE_MAX, err) == -1)
		return error_prefix(err, "%s", cur_name(p)),
		    mark_broken(p, err);
	bad = pop3_parse_status(line, len, &st) == -1;
	/* SASL challenges are part of the exchange: never traced. */
	pop3_trace_status(&p->trace, cur_name(p), line, len,
	    !bad && st.ok == 2 && cont);
	if (bad || (st.ok == 2 && !cont)) {
		error_set(err, ERR_PROTO, "%s: unexpected reply \"%s\"",
		    cur_name(p), vis_text(vis, 120, line, len));
		return mark_broken(p, err);
	}
	free(p->reply);
	p->reply = xstrndup(line + st.text_off, len - st.text_off);
	(void)strlcpy(p->code, st.code, sizeof(p->code));
	if (p->cur.cmd == NULL && p->welcome == NULL) {
		/* The greeting, escaped once here since it may hold NULs. */
		wl = 4 * (len - st.text_off) + 4;
		p->welcome = xmalloc(wl);
		vis_text(p->welcome, wl, line + st.text_off, len - st.text_off);
	}
	if (st.ok == 0) {
		vis_text(vis, sizeof(vis), line, len);
		error_set(err, pop3_parse_code(st.code, dflt), "%s: %s",
		    cur_name(p), vis);
		return err->cls == ERR_BUSY ? mark_broken(p, err) : -1;
	}
	if (st.ok == 2)
		p->challenge = 1;
	else
		took_effect(p);
	return st.ok;
}

/*
 * read_multi for a body whose lines are not traced: the bytes are taken
 * as many lines at a time as have arrived, unstuffed in place, and go to
 * fn in one piece, so that a message costs a few calls, not a few per
 * line.  A line longer than half the buffer goes in parts, as in
 * read_multi.
 */
static int
read_body(struct pop3 *p, pop3_sink *fn, void *arg, struct error *err)
{
	struct pop3_unstuff u = { 1, 0, 0 };
	struct error ferr = { .cls = ERR_NONE };
	size_t len, used, olen;
	char *d, *o;
	int failed = 0, more = 0, end, eol;

	for (;;) {
		if (net_window(p->net, &d, &len, more, err) == -1)
			return error_prefix(err, "%s", cur_name(p)),
			    mark_broken(p, err);
		end = pop3_parse_unstuff_lines(&u, d, len, &used, &olen);
		o = d;
		if (used == 0 && len >= NET_BUFSIZE / 2) {
			/* No line end in half a buffer: a part of a long
			 * line (net_getchunk never cuts a CRLF). */
			if (net_getchunk(p->net, &d, &len, &eol, err) == -1)
				return error_prefix(err, "%s", cur_name(p)),
				    mark_broken(p, err);
			end = pop3_parse_unstuff(&u, d, len, eol, &o, &olen);
		} else
			net_consume(p->net, used);
		/* Nothing whole yet: wait for more. */
		more = used == 0 && olen == 0 && !end;
		if (!failed && olen > 0 && fn != NULL &&
		    fn(arg, o, olen, &ferr) == -1)
			failed = 1;
		if (end)
			break;
	}
	if (failed) {
		*err = ferr;
		return -1;
	}
	return 0;
}

/*
 * The one multi-line reader: reads the lines announced by the +OK just
 * read up to the terminating ".", through the one unstuffer.  With
 * lines unset, each piece goes to fn as it comes (a body); with lines
 * set, each line goes whole, without its line end, and a line longer
 * than POP3_LINE_MAX breaks the connection.  After fn fails the rest is
 * read and dropped, so that the connection stays in step, and fn's
 * first error is returned.
 */
static int
read_multi(struct pop3 *p, int lines, pop3_sink *fn, void *arg,
    struct error *err)
{
	struct pop3_unstuff u = { 1, 0, 0 };
	struct error ferr = { .cls = ERR_NONE };
	size_t len, olen, l;
	char *d, *o;
	int failed = 0, eol;

	if (usable(p, err) == -1)
		return -1;
	if (!p->body)
		return error_set(err, ERR_SOFTWARE, "%s: no lines to read",
		    cur_name(p));
	p->body = 0;
	if (!lines && !pop3_trace_lines(&p->trace))
		return read_body(p, fn, arg, err);
	for (;;) {
		if (net_getchunk(p->net, &d, &len, &eol, err) == -1)
			return error_prefix(err, "%s", cur_name(p)),
			    mark_broken(p, err);
		if (u.bol)
			pop3_trace_line(&p->trace, d, len);
		if (lines) {
			l = eol ? len - 1 : len;
			if (l > 0 && d[l - 1] == '\r')
				l--;
			if (!eol || l > POP3_LINE_MAX) {
				error_set(err, ERR_PROTO, "%s: the server sent "
				    "a line longer than %d bytes", cur_name(p),
				    POP3_LINE_MAX);
				return mark_broken(p, err);
			}
		}
		if (pop3_parse_unstuff(&u, d, len, eol, &o, &olen) == 1)
			break;
		if (lines && olen > 0)
			olen--;		/* the LF */
		if (!failed && (olen > 0 || lines) &&
		    fn != NULL && fn(arg, o, olen, &ferr) == -1)
			failed = 1;
	}
	if (failed) {
		*err = ferr;
		return -1;
	}
	return 0;
}

int
pop3_recv_status(struct pop3 *p, enum err_class dflt, struct error *err)
{
	if (next_reply(p, err) == -1)
		return -1;
	return read_status(p, dflt, 0, err) == -1 ? -1 : 0;
}

int
pop3_recv_body(struct pop3 *p, pop3_sink *sink, void *arg,
    struct error *err)
{
	return read_multi(p, 0, sink, arg, err);
}

/* Sends line in lock-step, wipes it, and reads its status: 1 (+OK), 2
 * ("+ ", when cont) or -1. */
static int
lockstep(struct pop3 *p, enum err_class dflt, int cont, char *line,
    size_t len, struct error *err)
{
	int r;

	if ((r = usable(p, err)) == 0 && (p->fcount > 0 || p->outlen > 0 ||
	    p->body || p->challenge))
		r = error_set(err, ERR_SOFTWARE, "a command in lock-step "
		    "while replies to others are still to be read");
	if (r == 0)
		r = put_command(p, line, 0, err);
	explicit_bzero(line, len);
	if (r == -1 || send_out(p, err) == -1 || next_reply(p, err) == -1)
		return -1;
	return read_status(p, dflt, cont, err);
}

int
pop3_command(struct pop3 *p, enum err_class dflt, struct error *err,
    const char *fmt, ...)
{
	char line[POP3_LINE_MAX];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = format_line(line, sizeof(line), err, fmt, ap);
	va_end(ap);
	if (r == 0)
		return lockstep(p, dflt, 0, line, sizeof(line), err) == -1 ?
		    -1 : 0;
	explicit_bzero(line, sizeof(line));
	return -1;
}

/* The answer to AUTH or a SASL line: 1 for a challenge, 0 for +OK. */
static int
sasl_result(int r)
{
	return r == 2 ? 1 : r == 1 ? 0 : -1;
}

int
pop3_auth(struct pop3 *p, const char *mech, const char *initial,
    struct error *err)
{
	char line[POP3_LINE_MAX];
	int r;

	if (strpbrk(mech, " \r\n") != NULL || (initial != NULL &&
	    strpbrk(initial, " \r\n") != NULL))
		return error_set(err, ERR_SOFTWARE, "bad AUTH arguments");
	r = snprintf(line, sizeof(line), "AUTH %s%s%s", mech, initial != NULL ?
	    " " : "", initial != NULL ? initial : "");
	if (r < 0 || (size_t)r >= sizeof(line)) {
		explicit_bzero(line, sizeof(line));
		return error_set(err, ERR_SOFTWARE, "command too long");
	}
	return sasl_result(lockstep(p, ERR_AUTH, 1, line, sizeof(line), err));
}

int
pop3_sasl_line(struct pop3 *p, const char *line, struct error *err)
{
	if (usable(p, err) == -1)
		return -1;
	if (!p->challenge)
		return error_set(err, ERR_SOFTWARE, "no SASL challenge to "
		    "answer");
	/* p->cur stays "AUTH mechanism ...", for traces and errors. */
	if (put_line(p, line, err) == -1)
		return -1;
	pop3_trace_sent(&p->trace, "****");
	if (send_out(p, err) == -1)
		return -1;
	return sasl_result(read_status(p, ERR_AUTH, 1, err));
}

int
pop3_greeting(struct pop3 *p, struct error *err)
{
	size_t off, len;

	if (usable(p, err) == -1)
		return -1;
	memset(&p->cur, 0, sizeof(p->cur));
	if (read_status(p, ERR_REFUSED, 0, err) == -1)
		return -1;
	if (pop3_parse_timestamp(p->reply, strlen(p->reply), &off, &len) == 0)
		p->timestamp = xstrndup(p->reply + off, len);
	return 0;
}

static int
capa_line(void *arg, const char *line, size_t len, struct error *err)
{
	struct pop3 *p = arg;

	if (pop3_parse_capa_line(&p->capa, line, len, err) == -1)
		return mark_broken(p, err);
	return 0;
}

int
pop3_capa(struct pop3 *p, struct error *err)
{
	struct error e;

	pop3_parse_capa_clear(&p->capa);
	if (pop3_command(p, ERR_REFUSED, &e, "CAPA") == -1) {
		if (e.cls == ERR_REFUSED && !p->broken)
			return 0;	/* an RFC 1939 server without CAPA */
		*err = e;
		return -1;
	}
	if (read_multi(p, 1, capa_line, p, err) == -1)
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
		return mark_broken(p, err);
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
	if (pop3_parse_stat(p->reply, strlen(p->reply), count, octets) == -1) {
		error_set(err, ERR_PROTO, "STAT: malformed reply");
		return mark_broken(p, err);
	}
	return 0;
}

/*
 * Listings: every line of LIST and UIDL, whole listings or the one line
 * of "LIST n" and "UIDL n", goes through pop3_parse_listing, the one
 * check of its syntax and order.
 */
struct walk {
	struct pop3		*p;
	struct pop3_listing	 l;
	pop3_uid_fn		*fn;		/* UIDL: where each uid goes,
						 * NULL: into msgs */
	pop3_size_fn		*sfn;		/* LIST: where each size
						 * goes, NULL: into msgs */
	void			*arg;
	struct pop3_msg		*msgs;		/* what pop3_list and pop3_uidl
						 * keep */
	size_t			 n, cap;
};

static void
walk_push(struct walk *w, const struct pop3_msg *m)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap + w->cap / 2 : 64;
		w->msgs = xreallocarray(w->msgs, w->cap, sizeof(*w->msgs));
	}
	w->msgs[w->n++] = *m;
}

/* pop3_sink for the lines of a listing. */
static int
walk_line(void *arg, const char *line, size_t len, struct error *err)
{
	struct walk *w = arg;
	struct pop3_msg m;
	size_t off;

	memset(&m, 0, sizeof(m));
	if (pop3_parse_listing(&w->l, line, len, &m.num, &m.size, &off,
	    err) == -1)
		return mark_broken(w->p, err);
	if (w->l.uidl && w->fn != NULL)
		return w->fn(w->arg, m.num, line + off, len - off, err);
	if (!w->l.uidl && w->sfn != NULL)
		return w->sfn(w->arg, m.num, m.size, err);
	if (w->l.uidl)
		m.uid = xstrndup(line + off, len - off);
	walk_push(w, &m);
	return 0;
}

/* A whole listing, UIDL or LIST as w says, each line through walk_line. */
static int
walk_all(struct walk *w, struct error *err)
{
	if (pop3_command(w->p, ERR_REFUSED, err, "%s", w->l.uidl ? "UIDL" :
	    "LIST") == -1)
		return -1;
	return read_multi(w->p, 1, walk_line, w, err);
}

static int
listing(struct pop3 *p, int uidl, unsigned long num, struct pop3_msg **msgs,
    size_t *n, struct error *err)
{
	struct walk w = { p, { uidl, 0 }, NULL, NULL, NULL, NULL, 0, 0 };
	const char *cmd = uidl ? "UIDL" : "LIST";

	*msgs = NULL;
	*n = 0;
	if (num == 0) {
		if (walk_all(&w, err) == -1)
			goto fail;
	} else {
		if (pop3_command(p, ERR_REFUSED, err, "%s %lu", cmd, num) == -1)
			return -1;
		if (walk_line(&w, p->reply, strlen(p->reply), err) == -1)
			goto fail;
		if (w.msgs[0].num != num) {
			error_set(err, ERR_PROTO, "%s: asked for message %lu, "
			    "got %lu", cmd, num, w.msgs[0].num);
			mark_broken(p, err);
			goto fail;
		}
	}
	*msgs = w.msgs;
	*n = w.n;
	return 0;
fail:
	pop3_msgs_free(w.msgs, w.n, uidl);
	return -1;
}

int
pop3_uidl_each(struct pop3 *p, pop3_uid_fn *fn, void *arg,
    struct error *err)
{
	struct walk w = { p, { 1, 0 }, fn, NULL, arg, NULL, 0, 0 };

	return walk_all(&w, err);
}

int
pop3_list_each(struct pop3 *p, pop3_size_fn *fn, void *arg,
    struct error *err)
{
	struct walk w = { p, { 0, 0 }, NULL, fn, arg, NULL, 0, 0 };

	return walk_all(&w, err);
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
	return read_multi(p, 0, sink, arg, err);
}

int
pop3_top(struct pop3 *p, unsigned long num, unsigned long lines,
    pop3_sink *sink, void *arg, struct error *err)
{
	if (pop3_command(p, ERR_REFUSED, err, "TOP %lu %lu", num, lines) == -1)
		return -1;
	return read_multi(p, 0, sink, arg, err);
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

	if (usable(p, err) == -1)
		return -1;	/* nothing is sent, nothing committed */
	if (pop3_command(p, ERR_REFUSED, err, "QUIT") == -1) {
		if (was == POP3_TRANSACTION)
			error_prefix(err, "deletions may not have been "
			    "committed");
		return -1;
	}
	return 0;
}
