/*
 * digest.c - SHA-256 of a message as stored; see digest.h.
 *
 * The hash is GnuTLS's (nettle underneath, with the CPU's SHA
 * instructions where it has them).  Leaving out Status: and X-Status:
 * needs to see where each header line starts: the header is read a
 * byte at a time into a small buffer, the body goes to the hash
 * directly.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>

#include "digest.h"

#define OUT_MAX	4096
/* Enough of a line start to tell "X-Status:" from other fields. */
#define PRE_MAX	9

struct digest {
	gnutls_hash_hd_t	 h;
	int			 filter;	/* still in an mbox header */
	int			 bol;		/* at a line start */
	int			 skip;		/* in a left-out field */
	int			 collecting;	/* pre is a field's start */
	size_t			 npre;
	char			 pre[PRE_MAX];
	unsigned long long	 size;
	size_t			 nout;
	char			 out[OUT_MAX];
};

struct digest *
digest_new(int mbox)
{
	struct digest *d = xcalloc(1, sizeof(*d));

	/* Fails only without memory or without SHA-256, which GnuTLS
	 * always has: as xmalloc does, the program ends. */
	if (gnutls_hash_init(&d->h, GNUTLS_DIG_SHA256) < 0)
		abort();
	digest_reset(d, mbox);
	return d;
}

void
digest_reset(struct digest *d, int mbox)
{
	unsigned char junk[32];

	if (d->size > 0 || d->nout > 0)
		gnutls_hash_output(d->h, junk);
	d->filter = mbox;
	d->bol = 1;
	d->skip = d->collecting = 0;
	d->npre = 0;
	d->size = 0;
	d->nout = 0;
}

static void
hash(struct digest *d, const char *p, size_t len)
{
	if (len == 0)
		return;
	(void)gnutls_hash(d->h, p, len);
	d->size += len;
}

static void
out(struct digest *d, const char *p, size_t len)
{
	if (d->nout + len > OUT_MAX) {
		hash(d, d->out, d->nout);
		d->nout = 0;
	}
	if (len > OUT_MAX) {
		hash(d, p, len);
		return;
	}
	memcpy(d->out + d->nout, p, len);
	d->nout += len;
}

/* The start of a field is known: keep it unless it is left out. */
static void
decide(struct digest *d)
{
	d->collecting = 0;
	d->skip = (d->npre == 7 && strncasecmp(d->pre, "status:", 7) == 0) ||
	    (d->npre == 9 && strncasecmp(d->pre, "x-status:", 9) == 0);
	if (!d->skip)
		out(d, d->pre, d->npre);
	d->npre = 0;
}

void
digest_update(struct digest *d, const char *p, size_t len)
{
	size_t i;
	char c;

	for (i = 0; i < len && d->filter; i++) {
		c = p[i];
		if (d->collecting) {
			d->pre[d->npre++] = c;
			if (c == ':' || c == '\n' || d->npre == PRE_MAX)
				decide(d);
			d->bol = c == '\n';
			continue;
		}
		if (d->bol) {
			d->bol = 0;
			if (c == '\n') {
				/* The empty line: the body follows. */
				out(d, &c, 1);
				d->filter = 0;
				continue;
			}
			if (c != ' ' && c != '\t') {
				d->skip = 0;
				d->collecting = 1;
				d->pre[0] = c;
				d->npre = 1;
				continue;
			}
		}
		if (!d->skip)
			out(d, &c, 1);
		d->bol = c == '\n';
	}
	if (i < len) {
		if (d->nout > 0) {
			hash(d, d->out, d->nout);
			d->nout = 0;
		}
		hash(d, p + i, len - i);
	}
}

void
digest_final(struct digest *d, char hex[DIGEST_HEX],
    unsigned long long *size)
{
	unsigned char md[32];

	if (d->collecting)
		out(d, d->pre, d->npre);
	hash(d, d->out, d->nout);
	d->nout = 0;
	gnutls_hash_output(d->h, md);
	hex_encode(md, sizeof(md), hex, 0);
	*size = d->size;
	d->size = 0;
	digest_reset(d, d->filter);
}

void
digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	gnutls_hash_deinit(d->h, NULL);
	free(d);
}

void
digest_msgid(const char *hdr, size_t len, char out[3 * DIGEST_MSGID_MAX + 1])
{
	const char *p = hdr, *end = hdr + len, *nl, *v;
	size_t n;

	out[0] = '-';
	out[1] = '\0';
	for (; p < end && *p != '\n'; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return;
		if ((size_t)(nl - p) < 11 || strncasecmp(p, "message-id:",
		    11) != 0)
			continue;
		for (v = p + 11; v < nl && (*v == ' ' || *v == '\t'); v++)
			;
		for (n = (size_t)(nl - v); n > 0 && (v[n - 1] == ' ' ||
		    v[n - 1] == '\t' || v[n - 1] == '\r'); n--)
			;
		if (n > 0 && n <= DIGEST_MSGID_MAX)
			pct_encode(out, v, n, NULL);
		return;
	}
}
