/*
 * libFuzzer target: the parsers of server lines in pop3_parse.c (status
 * lines and response codes, APOP timestamps, STAT, scan and unique-id
 * listings with their order, CAPA lines) and the envelope sender of a
 * header (envelope.c), linked with util.c alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/envelope.h"
#include "../../src/pop3_parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct pop3_status st;
	struct pop3_capa capa;
	unsigned long n, n2;
	unsigned long long z, z2, num;
	size_t off, i, start, tl;
	struct error err;
	int stat, scan, k;

	/* The envelope sender: only safe characters, always terminated. */
	{
		char from[64];

		envelope_sender(s, size, from, sizeof(from));
		if (strlen(from) >= sizeof(from) || strspn(from,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789!#%&*+-./=?^_{|}~@") != strlen(from))
			abort();
	}
	if (pop3_parse_status(s, size, &st) == 0) {
		if (st.text_off > size || strlen(st.code) >= sizeof(st.code) ||
		    st.ok < 0 || st.ok > 2)
			abort();
	}
	stat = pop3_parse_stat(s, size, &n, &z);
	if (stat == 0 && n > POP3_MSG_MAX)
		abort();
	scan = pop3_parse_scan(s, size, &n2, &z2);
	if (scan == 0 && (n2 == 0 || n2 > POP3_MSG_MAX))
		abort();
	/* One grammar: a scan line is a STAT reply whose first number is
	 * not 0. */
	if ((scan == 0) != (stat == 0 && n != 0) ||
	    (scan == 0 && (n != n2 || z != z2)))
		abort();
	if (pop3_parse_uid(s, size, &n, &off) == 0 && (off >= size || n == 0 ||
	    size - off > POP3_UID_MAX ||
	    memchr(s + off, '\0', size - off) != NULL))
		abort();
	(void)pop3_parse_code(st.code, ERR_REFUSED);
	if (pop3_parse_timestamp(s, size, &off, &tl) == 0 &&
	    (off + tl > size || tl < 4 || tl > 256 || s[off] != '<' ||
	    s[off + tl - 1] != '>' || memchr(s + off, ' ', tl) != NULL))
		abort();
	/* Each line as part of a LIST and of a UIDL listing: what passes
	 * is in ascending order. */
	for (k = 0; k < 2; k++) {
		struct pop3_listing l = { k, 0 };
		unsigned long last = 0;

		for (i = 0, start = 0; i <= size; i++)
			if (i == size || s[i] == '\n') {
				if (pop3_parse_listing(&l, s + start, i - start,
				    &n, &z, &off, &err) == 0) {
					if (n <= last ||
					    (k && off >= i - start))
						abort();
					last = n;
				} else if (err.cls != ERR_PROTO)
					abort();
				start = i + 1;
			}
	}
	memset(&capa, 0, sizeof(capa));
	for (i = 0, start = 0; i <= size; i++)
		if (i == size || s[i] == '\n') {
			if (pop3_parse_capa_line(&capa, s + start, i - start,
			    &err) == -1 && (err.cls != ERR_PROTO ||
			    capa.nlines != POP3_CAPA_MAX))
				abort();
			start = i + 1;
		}
	if (capa.nlines > size + 1 || capa.nlines > POP3_CAPA_MAX)
		abort();
	/* The numbers of EXPIRE and LOGIN-DELAY stay within their bound. */
	if ((pop3_parse_capa_number(&capa, "EXPIRE", POP3_DELAY_MAX,
	    &num) == 0 && num > POP3_DELAY_MAX) ||
	    (pop3_parse_capa_number(&capa, "LOGIN-DELAY", POP3_DELAY_MAX,
	    &num) == 0 && num > POP3_DELAY_MAX))
		abort();
	pop3_parse_capa_clear(&capa);
	return 0;
}
