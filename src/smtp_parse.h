/*
 * smtp_parse.h - the pure parser of SMTP and LMTP reply lines (RFC 5321
 * section 4.2, RFC 2033), kept apart from smtp_client.c so that it can
 * be fuzzed alone (tests/fuzz/fuzz_reply.c).
 */
#ifndef SMTP_PARSE_H
#define SMTP_PARSE_H

#include <stddef.h>

/*
 * One line of a reply, without its line end: three digits from 200 to
 * 599, then "-" (more lines follow), " " or nothing (the last line).
 * prev is the code of the reply's earlier lines, 0 for its first; a
 * line that changes it is no reply line.  Sets *code, *more (1: more
 * lines follow) and *text (where the text after the separator starts,
 * at most len).  0, or -1 for anything else.
 */
int	smtp_parse_reply_line(const char *line, size_t len, int prev,
	    int *code, int *more, size_t *text);

#endif
