/* libFuzzer target: status lines, STAT, scan and unique-id listings,
 * CAPA lines and the envelope sender taken from a header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/deliver.h"
#include "../../src/pop3.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct pop3_status st;
	struct pop3_capa capa;
	unsigned long n;
	unsigned long long z;
	size_t off, i, start;
	char sender[256];

	if (pop3_parse_status(s, size, &st) == 0) {
		if (st.text_off > size || strlen(st.code) >= sizeof(st.code))
			abort();
	}
	if (pop3_parse_stat(s, size, &n, &z) == 0 && n > POP3_MSG_MAX)
		abort();
	if (pop3_parse_scan(s, size, &n, &z) == 0 && (n == 0 ||
	    n > POP3_MSG_MAX))
		abort();
	if (pop3_parse_uid(s, size, &n, &off) == 0 && (off >= size || n == 0))
		abort();
	memset(&capa, 0, sizeof(capa));
	for (i = 0, start = 0; i <= size; i++)
		if (i == size || s[i] == '\n') {
			pop3_parse_capa_line(&capa, s + start, i - start);
			start = i + 1;
		}
	pop3_capa_clear(&capa);
	deliver_sender(s, size, sender, sizeof(sender));
	for (i = 0; sender[i] != '\0'; i++)
		if (strchr("'\"`$\\ \n\r;", sender[i]) != NULL)
			abort();	/* must be safe in a shell word */
	return 0;
}
