/*
 * smtp_parse.c - SMTP and LMTP reply lines; see smtp_parse.h.
 */
#include <stddef.h>

#include "smtp_parse.h"

static int
digit(char c)
{
	return c >= '0' && c <= '9';
}

int
smtp_parse_reply_line(const char *line, size_t len, int prev, int *code,
    int *more, size_t *text)
{
	int c;

	if (len < 3 || !digit(line[0]) || !digit(line[1]) ||
	    !digit(line[2]) || line[0] < '2' || line[0] > '5')
		return -1;
	if (len > 3 && line[3] != '-' && line[3] != ' ')
		return -1;
	c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (prev != 0 && c != prev)
		return -1;
	*code = c;
	*more = len > 3 && line[3] == '-';
	*text = len > 4 ? 4 : len;
	return 0;
}
