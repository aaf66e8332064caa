/*
 * libFuzzer target: the one dot-unstuffer of multi-line replies
 * (pop3_parse_unstuff), linked with util.c alone.  The input is what a
 * server sends after a +OK.  It is fed the way net_getchunk hands it
 * over, once a whole line at a time and once in pieces of random sizes
 * (a piece that does not end its line never ends in CR), and both must
 * give the bytes and the end that a plain line-by-line reading of RFC
 * 1939 section 3 gives.  It is also fed the way read_body takes it,
 * as much as has arrived at a time through pop3_parse_unstuff_lines
 * (with parts of a line longer than LONG through pop3_parse_unstuff),
 * which must give the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/pop3_parse.h"

struct out {
	char	*buf;
	size_t	 len;
	int	 done;
	size_t	 used;		/* input bytes up to the end of the "." */
};

static void
add(struct out *o, const char *d, size_t n)
{
	if (n == 0)
		return;
	o->buf = realloc(o->buf, o->len + n);
	if (o->buf == NULL)
		abort();
	memcpy(o->buf + o->len, d, n);
	o->len += n;
}

/* The plain reading: line by line, no state but the input. */
static void
reference(const char *s, size_t size, struct out *o)
{
	size_t off = 0, end, l;
	const char *lf;

	while (off < size) {
		lf = memchr(s + off, '\n', size - off);
		if (lf == NULL) {
			/* A line still coming: its tail without a last CR,
			 * which may yet be half of a CRLF. */
			l = size - off;
			if (s[off + l - 1] == '\r')
				l--;
			if (l > 0 && s[off] == '.') {
				off++;
				l--;
			}
			add(o, s + off, l);
			return;
		}
		end = (size_t)(lf - s) + 1;
		l = end - off - 1;
		if (l > 0 && s[off + l - 1] == '\r')
			l--;
		if (l == 1 && s[off] == '.') {
			o->done = 1;
			o->used = end;
			return;
		}
		if (l > 0 && s[off] == '.') {
			off++;
			l--;
		}
		add(o, s + off, l);
		add(o, "\n", 1);
		off = end;
	}
}

/* Feeds copies of the pieces, as net_getchunk would; seed 0 means whole
 * lines. */
static void
feed(const char *s, size_t size, unsigned seed, struct out *o)
{
	struct pop3_unstuff u = { 1, 0, 0 };
	size_t off = 0, n, linelen;
	const char *lf;
	char *piece, *out;
	size_t outlen;
	int eol;

	while (off < size) {
		lf = memchr(s + off, '\n', size - off);
		linelen = lf != NULL ? (size_t)(lf - s) + 1 - off : size - off;
		n = linelen;
		if (seed != 0) {
			seed = seed * 1103515245 + 12345;
			n = 1 + (seed >> 16) % 64;
			if (n > linelen)
				n = linelen;
		}
		/* Never a CR whose LF may follow at the end of a part. */
		while (n < linelen && s[off + n - 1] == '\r')
			n++;
		eol = lf != NULL && n == linelen;
		if (!eol && off + n == size && s[off + n - 1] == '\r')
			n--;		/* the stream ends in a CR: held back */
		if (n == 0)
			return;
		piece = malloc(n);
		if (piece == NULL)
			abort();
		memcpy(piece, s + off, n);
		if (pop3_parse_unstuff(&u, piece, n, eol, &out, &outlen) == 1) {
			if (!u.done || !eol)
				abort();
			o->done = 1;
			o->used = off + n;
			free(piece);
			return;
		}
		if (outlen > n || (outlen > 0 && (out < piece ||
		    out + outlen > piece + n)))
			abort();
		add(o, out, outlen);
		free(piece);
		off += n;
	}
}

/* Half of the reader's buffer, scaled down so that long lines occur. */
#define LONG	48

/* Feeds what has "arrived", in random steps, as read_body does. */
static void
feed_lines(const char *s, size_t size, unsigned seed, struct out *o)
{
	struct pop3_unstuff u = { 1, 0, 0 };
	size_t off = 0, avail = 0, len, used, outlen, n;
	char *buf, *out;
	int end;

	while (off < size) {
		if (avail < size) {
			seed = seed * 1103515245 + 12345;
			avail += 1 + (seed >> 16) % 100;
			if (avail > size)
				avail = size;
		}
		len = avail - off;
		buf = malloc(len);
		if (buf == NULL)
			abort();
		memcpy(buf, s + off, len);
		end = pop3_parse_unstuff_lines(&u, buf, len, &used, &outlen);
		if (used > len || outlen > used)
			abort();
		if (used == 0 && (len >= LONG || avail == size)) {
			/* A part of a long line, or the tail at the end:
			 * as net_getchunk hands it, without a last CR. */
			n = len;
			if (buf[n - 1] == '\r')
				n--;
			if (n == 0) {
				free(buf);
				if (avail == size)
					return;
				continue;
			}
			if (pop3_parse_unstuff(&u, buf, n, 0, &out,
			    &outlen) == 1)
				abort();
			add(o, out, outlen);
			off += n;
		} else {
			add(o, buf, outlen);
			off += used;
		}
		free(buf);
		if (end) {
			if (!u.done)
				abort();
			o->done = 1;
			o->used = off;
			return;
		}
	}
}

static int
same(const struct out *a, const struct out *b)
{
	return a->len == b->len && a->done == b->done && a->used == b->used &&
	    (a->len == 0 || memcmp(a->buf, b->buf, a->len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out r = { NULL, 0, 0, 0 }, w = { NULL, 0, 0, 0 },
	    c = { NULL, 0, 0, 0 }, b = { NULL, 0, 0, 0 };
	const char *s = (const char *)data;
	unsigned seed = 1;
	size_t i;

	if (size > 65536)
		return 0;
	for (i = 0; i < size; i++)
		seed = seed * 31 + data[i];
	reference(s, size, &r);
	feed(s, size, 0, &w);
	feed(s, size, seed | 1, &c);
	feed_lines(s, size, seed | 1, &b);
	if (!same(&r, &w) || !same(&r, &c) || !same(&r, &b))
		abort();
	free(b.buf);
	free(r.buf);
	free(w.buf);
	free(c.buf);
	return 0;
}
