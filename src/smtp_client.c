/*
 * smtp_client.c - the sending side of SMTP and LMTP (smtp_client.h).
 *
 * RFCs:
 *	RFC 5321	SMTP: replies (4.2), transparency (4.5.2), limits
 *	RFC 2033	LMTP: LHLO, one reply per recipient after DATA
 *	RFC 6152	8BITMIME: BODY=8BITMIME when the server offers it
 *
 * Commands are sent one at a time and each reply is read before the
 * next command: a message is one short exchange, and the replies that
 * matter (the one after the final dot above all) must be matched to
 * their command without doubt.  Message bytes are buffered and sent in
 * blocks.  The connection itself is net.c's, so every read and write
 * has the same time bound as the POP3 connection's.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "net.h"
#include "smtp_client.h"
#include "smtp_parse.h"

/* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets; servers send
 * longer ones, so allow some more but not without bound. */
#define REPLY_LINE_MAX	2048
/* The lines of one multi-line reply (EHLO lists a few dozen). */
#define REPLY_LINES_MAX	256
#define OUT_MAX		65536

struct smtp_client {
	struct net	*net;
	enum smtp_proto	 proto;
	int		 broken;
	int		 in_data;	/* between 354 and the final dot */
	int		 bol;		/* the next byte starts a line */
	int		 eightbit;	/* the server offers 8BITMIME */
	size_t		 olen;
	char		 out[OUT_MAX];
	char		 taken[272];	/* the last end's reply */
};

/* A reply: its code and the text of its last line (escaped). */
struct reply {
	int	code;
	char	text[256];
};

static const char *
proto_name(const struct smtp_client *c)
{
	return c->proto == SMTP_PROTO_LMTP ? "LMTP" : "SMTP";
}

/* A lost connection: the error is the caller's to retry later. */
static int
lost(struct smtp_client *c, struct error *err)
{
	c->broken = 1;
	if (err->cls == ERR_NET)
		err->cls = ERR_DEFERRED;
	return error_prefix(err, "%s server", proto_name(c));
}

static int
flush_out(struct smtp_client *c, struct error *err)
{
	if (c->olen == 0)
		return 0;
	if (net_write(c->net, c->out, c->olen, err) == -1)
		return lost(c, err);
	c->olen = 0;
	return 0;
}

static int
put(struct smtp_client *c, const char *s, size_t len, struct error *err)
{
	size_t take;

	while (len > 0) {
		if (c->olen == OUT_MAX && flush_out(c, err) == -1)
			return -1;
		take = OUT_MAX - c->olen < len ? OUT_MAX - c->olen : len;
		memcpy(c->out + c->olen, s, take);
		c->olen += take;
		s += take;
		len -= take;
	}
	return 0;
}

/*
 * Reads one reply, all its lines.  Each line is three digits, then "-"
 * (more follow), " " or nothing (the last); anything else puts the
 * connection out of step.  keyword, if not NULL, is looked for as the
 * first word of each line after the first (an EHLO keyword); *found
 * says whether it was.
 */
static int
read_reply(struct smtp_client *c, struct reply *r, const char *keyword,
    int *found, struct error *err)
{
	char *line, *t;
	size_t len, n, kl = keyword != NULL ? strlen(keyword) : 0, off;
	int code = 0, more;

	for (n = 0; n < REPLY_LINES_MAX; n++) {
		if (net_getline(c->net, &line, &len, REPLY_LINE_MAX,
		    err) == -1) {
			if (err->cls == ERR_PROTO)
				c->broken = 1;
			return lost(c, err);
		}
		if (smtp_parse_reply_line(line, len, code, &code, &more,
		    &off) == -1) {
			c->broken = 1;
			vis_text(r->text, sizeof(r->text), line, len);
			return error_set(err, ERR_PROTO, "%s server: not a "
			    "reply: %s", proto_name(c), r->text);
		}
		t = line + off;
		if (n > 0 && keyword != NULL && strncasecmp(t, keyword,
		    kl) == 0 && (t[kl] == '\0' || t[kl] == ' '))
			*found = 1;
		if (!more) {
			r->code = code;
			vis_text(r->text, sizeof(r->text), t, len - off);
			return 0;
		}
	}
	c->broken = 1;
	return error_set(err, ERR_PROTO, "%s server: a reply of more than "
	    "%d lines", proto_name(c), REPLY_LINES_MAX);
}

/* A reply of class 2 (or 3 with want3) is fine; 4 defers, 5 refuses. */
static int
judge(struct smtp_client *c, const struct reply *r, int want3,
    const char *what, struct error *err)
{
	int cls = r->code / 100;

	if (cls == 2 && !want3)
		return 0;
	if (cls == 3 && want3)
		return 0;
	if (cls == 4)
		return error_set(err, ERR_DEFERRED, "%s server: %s: %d %s",
		    proto_name(c), what, r->code, r->text);
	if (cls == 5)
		return error_set(err, ERR_REFUSED, "%s server: %s: %d %s",
		    proto_name(c), what, r->code, r->text);
	c->broken = 1;
	return error_set(err, ERR_PROTO, "%s server: %s: unexpected reply "
	    "%d %s", proto_name(c), what, r->code, r->text);
}

/* Sends one command line (without CRLF) and reads its reply. */
static int
command(struct smtp_client *c, struct reply *r, const char *keyword,
    int *found, struct error *err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int
command(struct smtp_client *c, struct reply *r, const char *keyword,
    int *found, struct error *err, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return error_set(err, ERR_CONFIG, "%s: a command longer "
		    "than %zu bytes", proto_name(c), sizeof(line) - 3);
	memcpy(line + n, "\r\n", 2);
	if (put(c, line, (size_t)n + 2, err) == -1 ||
	    flush_out(c, err) == -1)
		return -1;
	return read_reply(c, r, keyword, found, err);
}

/* A unix socket, with the same time bounds net.c sets on TCP. */
static struct net *
connect_unix(const char *path, int timeout, struct error *err)
{
	struct sockaddr_un sun;
	struct timeval tv;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		error_set(err, ERR_CONFIG, "socket path longer than %zu "
		    "bytes", sizeof(sun.sun_path) - 1);
		return NULL;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		error_set(err, ERR_IO, "socket: %s", strerror(errno));
		return NULL;
	}
	tv.tv_sec = timeout;
	tv.tv_usec = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		error_set(err, ERR_DEFERRED, "cannot connect to %s: %s",
		    path, strerror(errno));
		(void)close(fd);
		return NULL;
	}
	return net_from_fd(fd, timeout);
}

/* "HOST:PORT" or "[ADDRESS]:PORT". */
static struct net *
connect_tcp(const char *target, int timeout, struct error *err)
{
	const char *colon = strrchr(target, ':'), *host = target;
	char hbuf[256];
	size_t hl;
	struct net *n;

	if (colon == NULL || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
		error_set(err, ERR_CONFIG, "\"%.64s\" is neither unix:PATH "
		    "nor HOST:PORT", target);
		return NULL;
	}
	hl = (size_t)(colon - target);
	if (hl >= 2 && target[0] == '[' && target[hl - 1] == ']') {
		host++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(hbuf)) {
		error_set(err, ERR_CONFIG, "\"%.64s\": no usable host name",
		    target);
		return NULL;
	}
	memcpy(hbuf, host, hl);
	hbuf[hl] = '\0';
	if ((n = net_connect(hbuf, colon + 1, timeout, 0, err)) == NULL &&
	    err->cls == ERR_NET)
		err->cls = ERR_DEFERRED;
	return n;
}

/* The name to say hello with: this host's, if it is one. */
static void
hello_name(char *buf, size_t len)
{
	if (gethostname(buf, len) == -1 || buf[0] == '\0' ||
	    buf[strspn(buf, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")] != '\0')
		(void)strlcpy(buf, "localhost", len);
}

struct smtp_client *
smtp_client_open(const char *target, enum smtp_proto proto, int timeout,
    struct error *err)
{
	struct smtp_client *c;
	struct reply r;
	char name[256];
	int found = 0;

	c = xcalloc(1, sizeof(*c));
	c->proto = proto;
	if (strncmp(target, "unix:", 5) == 0)
		c->net = connect_unix(target + 5, timeout, err);
	else
		c->net = connect_tcp(target, timeout, err);
	if (c->net == NULL) {
		free(c);
		return NULL;
	}
	hello_name(name, sizeof(name));
	if (read_reply(c, &r, NULL, NULL, err) == -1 ||
	    judge(c, &r, 0, "greeting", err) == -1)
		goto fail;
	if (command(c, &r, "8BITMIME", &found, err, "%s %s",
	    proto == SMTP_PROTO_LMTP ? "LHLO" : "EHLO", name) == -1)
		goto fail;
	if (proto == SMTP_PROTO_SMTP && r.code / 100 == 5) {
		found = 0;
		if (command(c, &r, NULL, NULL, err, "HELO %s", name) == -1)
			goto fail;
	}
	if (judge(c, &r, 0, proto == SMTP_PROTO_LMTP ? "LHLO" : "EHLO",
	    err) == -1)
		goto fail;
	c->eightbit = found;
	return c;
fail:
	c->broken = 1;
	smtp_client_close(c);
	return NULL;
}

/* Whether s can stand between < and > on a command line. */
static int
address_ok(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>')
			return 0;
	return 1;
}

/* After a refusal in the middle of a transaction. */
static int
reset(struct smtp_client *c, struct error *err)
{
	struct reply r;
	struct error e = { .cls = ERR_NONE };

	if (command(c, &r, NULL, NULL, &e, "RSET") == -1 ||
	    r.code / 100 != 2) {
		c->broken = 1;
		if (e.cls != ERR_NONE && err->cls == ERR_NONE)
			*err = e;
	}
	return -1;
}

int
smtp_client_begin(struct smtp_client *c, const char *sender,
    const char *rcpt, struct error *err)
{
	struct reply r;

	if (c->broken || c->in_data)
		return error_set(err, ERR_SOFTWARE, "%s: begin on a broken "
		    "or busy connection", proto_name(c));
	if (!address_ok(sender) || !address_ok(rcpt) || rcpt[0] == '\0')
		return error_set(err, ERR_CONFIG, "%s: an address with "
		    "spaces, controls or angle brackets", proto_name(c));
	if (command(c, &r, NULL, NULL, err, "MAIL FROM:<%s>%s", sender,
	    c->eightbit ? " BODY=8BITMIME" : "") == -1)
		return -1;
	if (judge(c, &r, 0, "MAIL FROM", err) == -1)
		return reset(c, err);
	if (command(c, &r, NULL, NULL, err, "RCPT TO:<%s>", rcpt) == -1)
		return -1;
	if (judge(c, &r, 0, "RCPT TO", err) == -1)
		return reset(c, err);
	if (command(c, &r, NULL, NULL, err, "DATA") == -1)
		return -1;
	if (judge(c, &r, 1, "DATA", err) == -1)
		return r.code / 100 == 2 ? -1 : reset(c, err);
	c->in_data = 1;
	c->bol = 1;
	return 0;
}

int
smtp_client_write(struct smtp_client *c, const char *data, size_t len,
    struct error *err)
{
	const char *lf;
	size_t l;

	if (!c->in_data || c->broken)
		return error_set(err, ERR_SOFTWARE, "%s: write outside DATA",
		    proto_name(c));
	while (len > 0) {
		/* A line starting with a dot gets another (4.5.2). */
		if (c->bol && data[0] == '.' && put(c, ".", 1, err) == -1)
			return -1;
		lf = memchr(data, '\n', len);
		l = lf != NULL ? (size_t)(lf - data) : len;
		if (put(c, data, l, err) == -1)
			return -1;
		if (lf == NULL) {
			c->bol = 0;
			break;
		}
		if (put(c, "\r\n", 2, err) == -1)
			return -1;
		c->bol = 1;
		data += l + 1;
		len -= l + 1;
	}
	return 0;
}

int
smtp_client_end(struct smtp_client *c, struct error *err)
{
	struct reply r;

	if (!c->in_data || c->broken)
		return error_set(err, ERR_SOFTWARE, "%s: end outside DATA",
		    proto_name(c));
	if (!c->bol && put(c, "\r\n", 2, err) == -1)
		return -1;
	if (put(c, ".\r\n", 3, err) == -1 || flush_out(c, err) == -1)
		return -1;
	c->in_data = 0;
	c->taken[0] = '\0';
	/* LMTP: one reply per recipient, and there is one. */
	if (read_reply(c, &r, NULL, NULL, err) == -1 ||
	    judge(c, &r, 0, "end of message", err) == -1)
		return -1;
	(void)snprintf(c->taken, sizeof(c->taken), "%d %s", r.code, r.text);
	return 0;
}

const char *
smtp_client_reply(const struct smtp_client *c)
{
	return c->taken;
}

int
smtp_client_broken(const struct smtp_client *c)
{
	return c->broken || c->in_data;
}

void
smtp_client_close(struct smtp_client *c)
{
	struct reply r;
	struct error e;

	if (c == NULL)
		return;
	if (!c->broken && !c->in_data)
		(void)command(c, &r, NULL, NULL, &e, "QUIT");
	net_close(c->net);
	free(c);
}
