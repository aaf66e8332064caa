/*
 * pop3_parse.c - pure parsers of POP3 server input.
 *
 *   RFC 1939  status lines, the STAT reply, scan and unique-id listings,
 *             dot-stuffing of multi-line replies
 *   RFC 2449  CAPA lines and response codes
 *   RFC 5034  the "+ " continuation of AUTH
 *
 * Every byte here comes from the server and is untrusted: each parser
 * reads only the len bytes it is given and parses numbers with overflow
 * checks.  They depend on util.c alone, so the fuzz targets link them
 * without any network or TLS code.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pop3_parse.h"

int
pop3_parse_status(const char *s, size_t len, struct pop3_status *st)
{
	size_t off, end;

	memset(st, 0, sizeof(*st));
	if (len >= 3 && memcmp(s, "+OK", 3) == 0) {
		st->ok = 1;
		off = 3;
	} else if (len >= 4 && memcmp(s, "-ERR", 4) == 0) {
		st->ok = 0;
		off = 4;
	} else if (len >= 1 && s[0] == '+' && (len == 1 || s[1] == ' ')) {
		/* RFC 5034 continuation: "+ base64" or a bare "+". */
		st->ok = 2;
		st->text_off = len > 1 ? 2 : 1;
		return 0;
	} else
		return -1;
	if (off < len && s[off] != ' ')
		return -1;
	while (off < len && s[off] == ' ')
		off++;
	/* RFC 2449 section 8: "[" code "]" at the start of the text. */
	if (off < len && s[off] == '[') {
		for (end = off + 1; end < len && s[end] != ']'; end++)
			if (!isgraph((unsigned char)s[end]) || s[end] == '[')
				break;
		if (end < len && s[end] == ']' && end - off - 1 > 0 &&
		    end - off - 1 < sizeof(st->code)) {
			memcpy(st->code, s + off + 1, end - off - 1);
			st->code[end - off - 1] = '\0';
			off = end + 1;
			while (off < len && s[off] == ' ')
				off++;
		}
	}
	st->text_off = off;
	return 0;
}

/* Reads a run of digits at s[*off] as a number within max. */
static int
take_number(const char *s, size_t len, size_t *off, unsigned long long max,
    unsigned long long *out)
{
	size_t start = *off, i = *off;

	while (i < len && isdigit((unsigned char)s[i]))
		i++;
	if (i == start)
		return -1;
	if (parse_u64(s + start, i - start, max, out) == -1)
		return -1;
	*off = i;
	return 0;
}

static int
take_spaces(const char *s, size_t len, size_t *off)
{
	size_t start = *off;

	while (*off < len && s[*off] == ' ')
		(*off)++;
	return *off > start ? 0 : -1;
}

/*
 * The one grammar of STAT replies and scan listings (RFC 1939 section
 * 5): a message number or count, spaces, an octet count, and then
 * either the end or a space and text the client ignores.
 */
static int
number_and_size(const char *s, size_t len, unsigned long *num,
    unsigned long long *size)
{
	unsigned long long n, z;
	size_t off = 0;

	if (take_number(s, len, &off, POP3_MSG_MAX, &n) == -1 ||
	    take_spaces(s, len, &off) == -1 ||
	    take_number(s, len, &off, (unsigned long long)INT64_MAX, &z) == -1)
		return -1;
	if (off < len && s[off] != ' ')
		return -1;
	*num = (unsigned long)n;
	*size = z;
	return 0;
}

int
pop3_parse_stat(const char *s, size_t len, unsigned long *count,
    unsigned long long *octets)
{
	return number_and_size(s, len, count, octets);
}

int
pop3_parse_scan(const char *s, size_t len, unsigned long *num,
    unsigned long long *size)
{
	unsigned long n;
	unsigned long long z;

	/* Messages are numbered from 1. */
	if (number_and_size(s, len, &n, &z) == -1 || n == 0)
		return -1;
	*num = n;
	*size = z;
	return 0;
}

int
pop3_parse_uid(const char *s, size_t len, unsigned long *num,
    size_t *uidoff)
{
	unsigned long long n;
	size_t off = 0;

	if (take_number(s, len, &off, POP3_MSG_MAX, &n) == -1 || n == 0 ||
	    take_spaces(s, len, &off) == -1 || off >= len ||
	    len - off > POP3_UID_MAX ||
	    memchr(s + off, '\0', len - off) != NULL)
		return -1;
	*num = (unsigned long)n;
	*uidoff = off;
	return 0;
}

enum err_class
pop3_parse_code(const char *code, enum err_class dflt)
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

int
pop3_parse_timestamp(const char *s, size_t len, size_t *off, size_t *tlen)
{
	const char *lt, *gt;
	size_t i;

	if ((lt = memchr(s, '<', len)) == NULL ||
	    (gt = memchr(lt, '>', len - (size_t)(lt - s))) == NULL ||
	    gt - lt <= 2 || gt - lt >= 256)
		return -1;
	for (i = 0; lt + i < gt; i++)
		if (lt[i] == ' ' || lt[i] == '\t' || lt[i] == '\0')
			return -1;
	*off = (size_t)(lt - s);
	*tlen = (size_t)(gt - lt) + 1;
	return 0;
}

int
pop3_parse_listing(struct pop3_listing *l, const char *s, size_t len,
    unsigned long *num, unsigned long long *size, size_t *uidoff,
    struct error *err)
{
	const char *cmd = l->uidl ? "UIDL" : "LIST";

	if ((l->uidl ? pop3_parse_uid(s, len, num, uidoff) :
	    pop3_parse_scan(s, len, num, size)) == -1) {
		if (l->uidl && pop3_parse_uid(s, len, num, uidoff) == -1 &&
		    len > POP3_UID_MAX)
			return error_set(err, ERR_PROTO, "UIDL: a unique id "
			    "longer than %d bytes (RFC 1939 allows 70)",
			    POP3_UID_MAX);
		return error_set(err, ERR_PROTO, "%s: malformed line", cmd);
	}
	/* Anything but ascending order means repeated numbers or a
	 * confused server. */
	if (*num <= l->last)
		return error_set(err, ERR_PROTO, "%s: message %lu listed out "
		    "of order or twice", cmd, *num);
	l->last = *num;
	return 0;
}

void
pop3_parse_capa_clear(struct pop3_capa *c)
{
	size_t i;

	for (i = 0; i < c->nlines; i++)
		free(c->lines[i]);
	free(c->lines);
	free(c->sasl);
	memset(c, 0, sizeof(*c));
}

static int
word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(s, w, len) == 0;
}

int
pop3_parse_capa_line(struct pop3_capa *c, const char *s, size_t len,
    struct error *err)
{
	static const struct {
		const char	*name;
		unsigned	 flag;
	} names[] = {
		{ "TOP", CAPA_TOP }, { "USER", CAPA_USER },
		{ "UIDL", CAPA_UIDL }, { "PIPELINING", CAPA_PIPELINING },
		{ "STLS", CAPA_STLS }, { "UTF8", CAPA_UTF8 },
		{ "RESP-CODES", CAPA_RESP_CODES },
		{ "AUTH-RESP-CODE", CAPA_AUTH_RESP_CODE },
		{ "SASL", CAPA_SASL }, { "EXPIRE", CAPA_EXPIRE },
		{ "LOGIN-DELAY", CAPA_LOGIN_DELAY },
		{ "IMPLEMENTATION", CAPA_IMPLEMENTATION },
	};
	size_t i, wl;

	if (c->nlines >= POP3_CAPA_MAX)
		return error_set(err, ERR_PROTO, "CAPA: more than %d "
		    "capabilities", POP3_CAPA_MAX);
	if (memchr(s, '\0', len) != NULL)
		return 0;
	c->lines = xreallocarray(c->lines, c->nlines + 1, sizeof(char *));
	c->lines[c->nlines++] = xstrndup(s, len);
	wl = 0;
	while (wl < len && s[wl] != ' ')
		wl++;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (word_is(s, wl, names[i].name))
			c->flags |= names[i].flag;
	if (word_is(s, wl, "SASL") && wl < len) {
		free(c->sasl);
		c->sasl = xstrndup(s + wl + 1, len - wl - 1);
	}
	return 0;
}

int
pop3_parse_capa_number(const struct pop3_capa *c, const char *name,
    unsigned long long max, unsigned long long *val)
{
	const char *s;
	size_t i, n = strlen(name), len, off;

	for (i = 0; i < c->nlines; i++) {
		s = c->lines[i];
		len = strlen(s);
		if (len <= n || strncasecmp(s, name, n) != 0 || s[n] != ' ')
			continue;
		off = n;
		(void)take_spaces(s, len, &off);
		if (take_number(s, len, &off, max, val) == -1 ||
		    (off < len && s[off] != ' '))
			return -1;
		return 0;
	}
	return -1;
}

int
pop3_parse_unstuff(struct pop3_unstuff *u, char *d, size_t len, int eol,
    char **out, size_t *outlen)
{
	*out = d;
	*outlen = 0;
	if (len == 0)
		return 0;
	/* RFC 1939 section 3: a line that starts with "." had it doubled,
	 * or is "." alone and ends the reply. */
	if (u->bol && d[0] == '.') {
		d++;
		len--;
		u->dot = 1;
	}
	u->bol = 0;
	if (u->dot) {
		/* The dot may have come as a part of its own. */
		if (eol && (len == 1 || (len == 2 && d[0] == '\r'))) {
			u->done = 1;
			return 1;
		}
		if (len == 0) {
			/* Only the dot so far. */
			if (eol)
				u->dot = 0;
			u->bol = eol;
			return 0;
		}
		u->dot = 0;
	}
	/* CRLF becomes LF; a bare LF is taken as a line end as well. */
	if (eol && len >= 2 && d[len - 2] == '\r') {
		d[len - 2] = '\n';
		len--;
	}
	u->bol = eol;
	*out = d;
	*outlen = len;
	return 0;
}

int
pop3_parse_unstuff_lines(struct pop3_unstuff *u, char *data, size_t len,
    size_t *used, size_t *outlen)
{
	char *r = data, *w = data, *end = data + len, *lf, *s;
	size_t n;
	int stuffed;

	/*
	 * One pass: memchr finds each line end, and the line moves down by
	 * what was dropped before it (a dot, a CR per line), so the bytes
	 * are touched once and the sink gets them in one piece.
	 */
	while (r < end && (lf = memchr(r, '\n', (size_t)(end - r))) != NULL) {
		s = r;
		n = (size_t)(lf - r) + 1;
		/* A dot that came alone in an earlier piece counts too. */
		stuffed = u->dot;
		u->dot = 0;
		if (u->bol && *s == '.') {
			s++;
			n--;
			stuffed = 1;
		}
		if (stuffed && (n == 1 || (n == 2 && s[0] == '\r'))) {
			u->done = 1;
			u->bol = 1;
			*used = (size_t)(lf + 1 - data);
			*outlen = (size_t)(w - data);
			return 1;
		}
		if (n >= 2 && s[n - 2] == '\r') {
			memmove(w, s, n - 2);
			w += n - 2;
			*w++ = '\n';
		} else {
			memmove(w, s, n);
			w += n;
		}
		u->bol = 1;
		r = lf + 1;
	}
	*used = (size_t)(r - data);
	*outlen = (size_t)(w - data);
	return 0;
}
