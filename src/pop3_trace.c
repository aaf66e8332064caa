/*
 * pop3_trace.c - protocol traces.
 *
 * Which words of a command are secret is the command table's business
 * (pop3.c); this file only applies it, and escapes every byte that came
 * from the server before it reaches a terminal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pop3_trace.h"
#include "util.h"

static void
emit(const struct pop3_trace *t, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	t->fn(t->arg, buf);
}

void
pop3_trace_redact(const char *line, int shown, char *buf, size_t len)
{
	const char *p = line;
	int w;

	if (shown < 0) {
		vis_text(buf, len, line, strlen(line));
		return;
	}
	for (w = 0; w < shown && *p != '\0'; w++) {
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	if (*p == '\0') {
		vis_text(buf, len, line, strlen(line));
		return;
	}
	vis_text(buf, len, line, (size_t)(p - line));
	(void)strlcat(buf, "****", len);
}

void
pop3_trace_sent(const struct pop3_trace *t, const char *text)
{
	if (t->fn != NULL && t->level >= 2)
		emit(t, "> %s", text);
}

int
pop3_trace_lines(const struct pop3_trace *t)
{
	return t->fn != NULL && t->level >= 2;
}

void
pop3_trace_line(const struct pop3_trace *t, const char *data, size_t len)
{
	char buf[512];

	if (t->fn == NULL || t->level < 2)
		return;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	emit(t, "< %s", vis_text(buf, sizeof(buf), data, len));
}

void
pop3_trace_status(const struct pop3_trace *t, const char *cmd,
    const char *line, size_t len, int secret)
{
	char vis[512];

	if (t->fn == NULL || t->level < 1)
		return;
	if (secret)
		(void)strlcpy(vis, "+ ****", sizeof(vis));
	else
		vis_text(vis, sizeof(vis), line, len > 160 && t->level == 1 ?
		    160 : len);
	if (t->level >= 2)
		emit(t, "< %s", vis);
	else
		emit(t, "%s -> %s", cmd, vis);
}

void
pop3_trace_note(const struct pop3_trace *t, const char *text)
{
	if (t->fn != NULL && t->level >= 1)
		emit(t, "note: %s", text);
}
