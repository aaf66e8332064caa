/*
 * libFuzzer target: the parsers of single server lines in pop3_parse.c
 * (status lines, STAT, scan and unique-id listings, CAPA lines), linked
 * with util.c alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/pop3_parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct pop3_status st;
	struct pop3_capa capa;
	unsigned long n, n2;
	unsigned long long z, z2;
	size_t off, i, start;
	int stat, scan;

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
	    memchr(s + off, '\0', size - off) != NULL))
		abort();
	memset(&capa, 0, sizeof(capa));
	for (i = 0, start = 0; i <= size; i++)
		if (i == size || s[i] == '\n') {
			pop3_parse_capa_line(&capa, s + start, i - start);
			start = i + 1;
		}
	if (capa.nlines > size + 1)
		abort();
	pop3_parse_capa_clear(&capa);
	return 0;
}
