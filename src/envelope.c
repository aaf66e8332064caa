/*
 * envelope.c - the envelope sender of a message, from its header: the
 * address of Return-Path, else of From, reduced to characters that are
 * safe in an mbox From line and inside shell quotes.  Server text: this
 * parser sees whatever the server sent, and is fuzzed (fuzz_status).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "envelope.h"
#include "util.h"

/* Takes the address out of a header field's value. */
static void
address_of(const char *v, size_t len, char *out, size_t outlen)
{
	const char *lt = memchr(v, '<', len), *gt;
	size_t i, o = 0;

	if (lt != NULL && (gt = memchr(lt, '>', (size_t)(v + len - lt)))) {
		v = lt + 1;
		len = (size_t)(gt - lt - 1);
	} else {
		/* A bare address: the first word with an @. */
		while (len > 0 && isspace((unsigned char)*v)) {
			v++;
			len--;
		}
		for (i = 0; i < len && !isspace((unsigned char)v[i]); i++)
			;
		len = i;
	}
	for (i = 0; i < len && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)v[i];

		/* Safe in a From line and inside shell quotes. */
		if (isalnum(c) || strchr("!#%&*+-./=?^_{|}~@", c) != NULL)
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

void
envelope_sender(const char *hdr, size_t len, char *out, size_t outlen)
{
	const char *p = hdr, *end = hdr + len, *eol;
	char from[256] = "", rp[256] = "";
	int in_header = 1;

	while (in_header && p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (eol == p)
			in_header = 0;
		else if (rp[0] == '\0' && (size_t)(eol - p) > 12 &&
		    strncasecmp(p, "Return-Path:", 12) == 0)
			address_of(p + 12, (size_t)(eol - p - 12), rp,
			    sizeof(rp));
		else if (from[0] == '\0' && (size_t)(eol - p) > 5 &&
		    strncasecmp(p, "From:", 5) == 0)
			address_of(p + 5, (size_t)(eol - p - 5), from,
			    sizeof(from));
		p = eol + 1;
	}
	(void)strlcpy(out, rp[0] != '\0' ? rp : from[0] != '\0' ? from :
	    "MAILER-DAEMON", outlen);
}
