/*
 * pop3_trace.h - what a protocol trace shows (--debug): level 1 one
 * line per command with its status, level 2 every line in both
 * directions.  Server text is escaped; secrets never appear.
 */
#ifndef POP3_TRACE_H
#define POP3_TRACE_H

#include <stddef.h>

/* Receives trace lines at the chosen debug level; line is only valid
 * during the call. */
typedef void pop3_tracer(void *arg, const char *line);

/* Where traces go; a NULL fn or level 0 traces nothing. */
struct pop3_trace {
	int		 level;
	pop3_tracer	*fn;
	void		*arg;
};

/* Writes line, escaped for display, into buf (len bytes, always
 * NUL-terminated), with everything past its first shown words as
 * "****"; shown -1 shows it all. */
void	pop3_trace_redact(const char *line, int shown, char *buf,
	    size_t len);

/* A line sent, already redacted: "> text" at level 2. */
void	pop3_trace_sent(const struct pop3_trace *, const char *text);

/* A line (or the start of one) of a multi-line reply, len bytes with
 * or without its line end: "< line" at level 2. */
void	pop3_trace_line(const struct pop3_trace *, const char *, size_t len);
/* Whether pop3_trace_line shows anything (lines are traced). */
int	pop3_trace_lines(const struct pop3_trace *);

/* A status line answering cmd (the redacted command, or "greeting"):
 * "cmd -> status" at level 1 (cut at 160 bytes), "< status" at level 2;
 * a secret one (a SASL challenge) shows as "+ ****". */
void	pop3_trace_status(const struct pop3_trace *, const char *cmd,
	    const char *line, size_t len, int secret);

/* A note of popfetch's own at level 1 and up ("note: ..."). */
void	pop3_trace_note(const struct pop3_trace *, const char *text);

#endif
