/*
 * libFuzzer target: the SMTP and LMTP reply lines an MTA or a Dovecot
 * LMTP server sends (smtp_parse.c).  The input is split at LF into the
 * lines of one reply, as smtp_client.c reads them: each accepted line
 * must give a code of 200..599 that stays the same through the reply,
 * and text inside the line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/smtp_parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl;
	size_t len, text;
	int prev = 0, code, more;

	while (size > 0) {
		nl = memchr(s, '\n', size);
		len = nl != NULL ? (size_t)(nl - s) : size;
		if (smtp_parse_reply_line(s, len, prev, &code, &more,
		    &text) == 0) {
			if (code < 200 || code > 599 || text > len ||
			    (prev != 0 && code != prev))
				abort();
			prev = more ? code : 0;
		} else
			prev = 0;
		if (nl == NULL)
			break;
		size -= len + 1;
		s += len + 1;
	}
	return 0;
}
