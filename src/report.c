/*
 * report.c - the progress line, fetch summaries, traces, and the one
 * JSON writer.
 *
 * jansson builds every JSON value and writes it compactly (keys in the
 * order they were set).  It escapes the C0 control characters itself;
 * DEL and the C1 controls, which some terminals obey, are valid UTF-8
 * that it passes through, so the writer escapes those on the way out.
 */
#include <sys/ioctl.h>

#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"

void
report_init(void)
{
	json_set_alloc_funcs(xmalloc, free);
}

/* The length of the valid UTF-8 sequence (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF) at s, or 0. */
static size_t
utf8_len(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		lo = s[0] == 0xe0 ? 0xa0 : 0x80;
		hi = s[0] == 0xed ? 0x9f : 0xbf;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		lo = s[0] == 0xf0 ? 0x90 : 0x80;
		hi = s[0] == 0xf4 ? 0x8f : 0xbf;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (s[i] < lo || s[i] > hi)
			return 0;
	return n;
}

json_t *
report_json_string(const char *s, size_t len, int *valid)
{
	const unsigned char *u = (const unsigned char *)s;
	char *buf;
	size_t i, n, o = 0;
	json_t *j;

	for (i = 0; i < len && (n = utf8_len(u + i, len - i)) > 0; i += n)
		;
	*valid = i == len;
	if (*valid)
		return json_stringn(s, len);
	/* At most three bytes of U+FFFD for each byte. */
	buf = xreallocarray(NULL, len + 1, 3);
	for (i = 0; i < len; i += n)
		if ((n = utf8_len(u + i, len - i)) > 0) {
			memcpy(buf + o, s + i, n);
			o += n;
		} else {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		}
	j = json_stringn(buf, o);
	free(buf);
	return j;
}

json_t *
report_json_hex(const char *s, size_t len)
{
	char *buf = xreallocarray(NULL, len + 1, 2);
	json_t *j;

	hex_encode(s, len, buf, 0);
	j = json_stringn(buf, 2 * len);
	free(buf);
	return j;
}

void
report_json_text(json_t *obj, const char *key, const char *s, size_t len)
{
	char hexkey[128];
	int valid;

	json_object_set_new(obj, key, report_json_string(s, len, &valid));
	if (!valid && snprintf(hexkey, sizeof(hexkey), "%s_hex", key) <
	    (int)sizeof(hexkey))
		json_object_set_new(obj, hexkey, report_json_hex(s, len));
}

/* Writes a dump, escaping DEL and U+0080..U+009F. */
static void
put_json(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + len;
	size_t n;

	while (p < end) {
		for (n = 0; p + n < end && p[n] != 0x7f && !(p[n] == 0xc2 &&
		    p + n + 1 < end && p[n + 1] >= 0x80 && p[n + 1] <= 0x9f);
		    n++)
			;
		(void)fwrite(p, 1, n, f);
		p += n;
		if (p == end)
			break;
		if (*p == 0x7f) {
			fputs("\\u007f", f);
			p++;
		} else {
			fprintf(f, "\\u%04x", p[1]);
			p += 2;
		}
	}
}

/* Writes v's dump, without its first and last byte if strip (the
 * braces of an object whose members go into another), and drops v. */
static int
dump(FILE *f, json_t *v, int strip)
{
	char *s;
	size_t len;

	if (v == NULL)
		return -1;
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	if (s == NULL)
		return -1;
	len = strlen(s);
	if (strip && len >= 2)
		put_json(f, s + 1, len - 2);
	else
		put_json(f, s, len);
	free(s);
	return 0;
}

int
report_json_print(FILE *f, json_t *v, struct error *err)
{
	if (dump(f, v, 0) == -1)
		return error_set(err, ERR_SOFTWARE, "cannot make JSON");
	fputc('\n', f);
	return 0;
}

void
report_json_write(FILE *f, json_t *v)
{
	(void)dump(f, v, 0);
}

void
report_json_open(FILE *f, json_t *head, const char *key)
{
	fputc('{', f);
	if (head != NULL && json_object_size(head) > 0) {
		(void)dump(f, head, 1);
		fputc(',', f);
	} else if (head != NULL)
		json_decref(head);
	(void)dump(f, json_string(key), 0);
	fputc(':', f);
}

void
report_json_close(FILE *f, json_t *tail, int nl)
{
	if (tail != NULL && json_object_size(tail) > 0) {
		fputc(',', f);
		(void)dump(f, tail, 1);
	} else if (tail != NULL)
		json_decref(tail);
	fputc('}', f);
	if (nl)
		fputc('\n', f);
}

static int use_syslog;

void
report_use_syslog(int on)
{
	if (on && !use_syslog)
		openlog("popfetch", LOG_PID, LOG_MAIL);
	use_syslog = on;
}

int
report_syslog(void)
{
	return use_syslog;
}

void
report_say(int level, const char *fmt, ...)
{
	static const int prio[] = { LOG_INFO, LOG_WARNING, LOG_ERR };
	char buf[3 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (use_syslog)
		syslog(prio[level < 0 ? 0 : level > 2 ? 2 : level], "%s", buf);
	else if (level == 0)
		printf("%s\n", buf);
	else
		fprintf(stderr, "popfetch: %s\n", buf);
}

void
report_trace(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
}

/* "45 KiB", "1.2 MiB" */
static const char *
human(unsigned long long n, char *buf, size_t len)
{
	int r;

	if (n < 1024)
		r = snprintf(buf, len, "%llu bytes", n);
	else if (n < 1024 * 1024)
		r = snprintf(buf, len, "%llu KiB", (n + 512) / 1024);
	else if (n < 1024ULL * 1024 * 1024)
		r = snprintf(buf, len, "%.1f MiB", n / 1048576.0);
	else
		r = snprintf(buf, len, "%.1f GiB", n / 1073741824.0);
	return r < 0 || (size_t)r >= len ? "?" : buf;
}

/*
 * Ctrl-C (or a kill) while progress is on screen: clear it, then die of
 * the signal as before, so that the shell's prompt starts on a clean
 * line.  Dying is safe at any point: fetch.c's journal sees to that.
 * What clears the screen is kept ready (clear_seq, clear_len bytes: 0
 * when nothing is up) and changed only with the signals blocked, so
 * that the handler always finds the sequence for what is on screen.
 */
static char clear_seq[32];
static volatile sig_atomic_t clear_len;

/* Where a job's fetch sends its progress (report_progress_to), or -1. */
static int progress_fd = -1;

/* How many lines report_progress_lines has up. */
static size_t lines_up;

static void
on_signal(int sig)
{
	if (clear_len > 0)
		(void)write(STDERR_FILENO, clear_seq, (size_t)clear_len);
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

void
report_catch_signals(void)
{
	(void)signal(SIGINT, on_signal);
	(void)signal(SIGTERM, on_signal);
	(void)signal(SIGHUP, on_signal);
}

static void
block_signals(int block, sigset_t *old)
{
	sigset_t set;

	if (block) {
		(void)sigemptyset(&set);
		(void)sigaddset(&set, SIGINT);
		(void)sigaddset(&set, SIGTERM);
		(void)sigaddset(&set, SIGHUP);
		(void)sigprocmask(SIG_BLOCK, &set, old);
	} else
		(void)sigprocmask(SIG_SETMASK, old, NULL);
}

/* What clears n lines with the cursor at the end of the last: back to
 * the first and erase to the end of the screen (one line: erase it). */
static size_t
clear_lines(char *buf, size_t len, size_t n)
{
	int w;

	if (n == 0)
		w = 0;
	else if (n == 1)
		w = snprintf(buf, len, "\r\033[K");
	else
		w = snprintf(buf, len, "\r\033[%zuA\033[J", n - 1);
	return w < 0 || (size_t)w >= len ? 0 : (size_t)w;
}

/* The progress on screen is n lines from now.  clear_len is 0 while the
 * sequence is rewritten: a signal then clears nothing rather than write
 * half a sequence. */
static void
progress_shown(size_t n)
{
	clear_len = 0;
	clear_len = (sig_atomic_t)clear_lines(clear_seq, sizeof(clear_seq),
	    n);
}

void
report_forget_progress(void)
{
	clear_len = 0;
	lines_up = 0;
	progress_fd = -1;
	(void)signal(SIGINT, SIG_DFL);
	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGHUP, SIG_DFL);
}

void
report_progress_to(int fd)
{
	progress_fd = fd;
}

void
report_progress_text(char *buf, size_t len, size_t done, size_t total,
    unsigned long long bytes, double secs)
{
	char b1[32], b2[32];

	(void)snprintf(buf, len, "%zu/%zu messages, %s, %s/s", done, total,
	    human(bytes, b1, sizeof(b1)), human(secs > 0 ?
	    (unsigned long long)(bytes / secs) : 0, b2, sizeof(b2)));
}

int
report_progress_parse(const char *line, size_t len, size_t *done,
    size_t *total, unsigned long long *bytes)
{
	unsigned long long v[3];
	const char *p = line, *end = line + len, *w;
	size_t k;

	if (len < 2 || memcmp(line, "P ", 2) != 0)
		return -1;
	for (p += 2, k = 0; k < 3; k++) {
		for (w = p; p < end && *p != ' '; p++)
			;
		if (parse_u64(w, (size_t)(p - w), k < 2 ? SIZE_MAX :
		    ULLONG_MAX, &v[k]) == -1)
			return -1;
		if (k < 2 && (p == end || *p++ != ' '))
			return -1;
	}
	if (p != end || v[0] > v[1])
		return -1;
	*done = (size_t)v[0];
	*total = (size_t)v[1];
	*bytes = v[2];
	return 0;
}

void
report_progress_lines(const char *const *lines, size_t n)
{
	struct winsize ws;
	size_t cols = 80, rows = 0, shown, i, len = 0, cap, w;
	char more[64], *buf;
	sigset_t old;

	if (n == 0 && lines_up == 0)
		return;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0) {
		if (ws.ws_col > 1)
			cols = ws.ws_col;
		rows = ws.ws_row;
	}
	/* Room for the prompt's line; the rest said in one line. */
	shown = rows > 2 && n > rows - 1 ? rows - 2 : n;
	cap = sizeof(clear_seq) + (shown + 1) * (cols + 8);
	buf = xmalloc(cap);
	len = clear_lines(buf, cap, lines_up);
	for (i = 0; i <= shown; i++) {
		const char *t = more;

		if (i < shown)
			t = lines[i];
		else if (shown == n)
			break;
		else
			(void)snprintf(more, sizeof(more), "and %zu more",
			    n - shown);
		if (i > 0)
			buf[len++] = '\n';
		/* Cut short of the last column, so that no line wraps and
		 * moving up counts lines right. */
		if ((w = strlen(t)) > cols - 1)
			w = cols - 1;
		memcpy(buf + len, t, w);
		len += w;
	}
	if (n > 0 && lines_up == 0)
		report_catch_signals();
	block_signals(1, &old);
	(void)fwrite(buf, 1, len, stderr);
	(void)fflush(stderr);
	lines_up = shown < n ? shown + 1 : n;
	progress_shown(lines_up);
	block_signals(0, &old);
	free(buf);
}

static void
clear_progress(struct report *rep)
{
	if (rep->shown) {
		fprintf(stderr, "\r\033[K");
		rep->shown = 0;
		progress_shown(0);
	}
}

void
report_fetch_begin(struct report *rep, int json, int quiet,
    const char *host, const char *target, int dry_run)
{
	memset(rep, 0, sizeof(*rep));
	rep->json = json;
	rep->quiet = quiet;
	rep->host = host;
	rep->target = target;
	rep->dry_run = dry_run;
	rep->progress = !quiet && !json && !report_syslog() &&
	    (progress_fd != -1 || isatty(STDERR_FILENO));
	if (rep->progress && progress_fd == -1)
		report_catch_signals();
	(void)clock_gettime(CLOCK_MONOTONIC, &rep->start);
}

static void
progress(struct report *rep, const struct fetch_event *ev)
{
	struct timespec now;
	char text[160];
	double secs;
	int n;

	/* A job's: the parent draws it (all of a line or nothing, since
	 * the line is shorter than PIPE_BUF; a full pipe drops it). */
	if (progress_fd != -1) {
		n = snprintf(text, sizeof(text), "P %zu %zu %llu\n", ev->done,
		    ev->total, ev->bytes);
		if (n > 0 && (size_t)n < sizeof(text))
			(void)!write(progress_fd, text, (size_t)n);
		return;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - rep->start.tv_sec) +
	    (now.tv_nsec - rep->start.tv_nsec) / 1e9;
	report_progress_text(text, sizeof(text), ev->done, ev->total,
	    ev->bytes, secs);
	/* Up before it is written, so that a signal in between clears
	 * it. */
	progress_shown(1);
	fprintf(stderr, "\r\033[Kpopfetch: %s", text);
	rep->shown = 1;
}

void
report_fetch_event(void *arg, const struct fetch_event *ev)
{
	static const char *const kinds[] = {
		[FETCH_FETCHED] = "fetched", [FETCH_DELETED] = "deleted",
		[FETCH_SKIPPED] = "skipped",
		[FETCH_WOULD_FETCH] = "would-fetch",
		[FETCH_WOULD_DELETE] = "would-delete"
	};
	struct report *rep = arg;
	char b[32];
	json_t *rec;

	switch (ev->kind) {
	case FETCH_PROGRESS:
		if (rep->progress)
			progress(rep, ev);
		return;
	case FETCH_WARNING:
		clear_progress(rep);
		report_say(1, "%s: %s", rep->host, ev->text);
		return;
	case FETCH_SKIPPED:
		/* The user's own policy, not an error: counted in the
		 * summary and the JSON, silent under -q. */
		if (rep->quiet || rep->json)
			break;
		clear_progress(rep);
		report_say(1, "%s: message %lu skipped: %llu bytes, over --%s "
		    "%llu", rep->host, ev->num, ev->size, cli_name(O_MAX_SIZE),
		    rep->max_size);
		break;
	case FETCH_WOULD_FETCH:
	case FETCH_WOULD_DELETE:
		if (!rep->json)
			printf("would %s message %lu (%s)\n",
			    ev->kind == FETCH_WOULD_FETCH ? "fetch" : "delete",
			    ev->num, human(ev->size, b, sizeof(b)));
		break;
	default:
		break;
	}
	if (!rep->json)
		return;
	/* JSON Lines: one record a line, as it happens. */
	rec = json_pack("{s:s,s:I,s:I}", "event", kinds[ev->kind], "msg",
	    (json_int_t)ev->num, "octets", (json_int_t)ev->size);
	if (ev->uid != NULL)
		report_json_text(rec, "uid", ev->uid, strlen(ev->uid));
	if (ev->kind == FETCH_FETCHED && ev->path != NULL && ev->offset >= 0) {
		report_json_text(rec, "mbox", ev->path, strlen(ev->path));
		json_object_set_new(rec, "offset",
		    json_integer((json_int_t)ev->offset));
	} else if (ev->kind == FETCH_FETCHED && ev->path != NULL) {
		report_json_text(rec, "file", ev->file, strlen(ev->file));
		report_json_text(rec, "path", ev->path, strlen(ev->path));
	}
	if (ev->kind == FETCH_FETCHED && ev->reply != NULL)
		report_json_text(rec, "reply", ev->reply, strlen(ev->reply));
	rep->nrec++;
	(void)report_json_print(stdout, rec, NULL);
}

/*
 * Nothing fetched: say what was seen, so that a new maildir left empty
 * (the state is per server account, not per target) is no mystery.
 */
static void
nothing_new(const struct report *rep, const struct fetch_result *res,
    char *buf, size_t len)
{
	char part[PATH_MAX + 256];

	if (!res->listed || res->total == 0) {
		(void)strlcpy(buf, "no new messages (none on the server)", len);
		return;
	}
	(void)snprintf(buf, len, "no new messages (%zu on the server",
	    res->total);
	if (res->quick)
		(void)strlcat(buf, ", the newest fetched before", len);
	else if (res->known == res->total)
		(void)strlcat(buf, ", all fetched before", len);
	else if (res->known > 0) {
		(void)snprintf(part, sizeof(part), ", %zu fetched before",
		    res->known);
		(void)strlcat(buf, part, len);
	}
	if (res->skipped > 0) {
		(void)snprintf(part, sizeof(part), ", %zu over --%s",
		    res->skipped, cli_name(O_MAX_SIZE));
		(void)strlcat(buf, part, len);
	}
	if (res->known > 0) {
		(void)snprintf(part, sizeof(part), "; the state is %s%s; --%s "
		    "fetches them again", res->state_path, rep->target_new ?
		    ", and the messages fetched before went to another target" :
		    "", cli_name(O_ALL));
		(void)strlcat(buf, part, len);
	}
	(void)strlcat(buf, ")", len);
}

void
report_fetch_end(struct report *rep, const struct fetch_result *res, int ok)
{
	char b[32], line[2 * PATH_MAX + 512], part[256];
	json_t *rec;

	clear_progress(rep);
	if (rep->json) {
		rec = json_pack("{s:s,s:I,s:I,s:I,s:I,s:b,s:b}",
		    "event", "summary",
		    "fetched", (json_int_t)res->fetched,
		    "octets", (json_int_t)res->bytes,
		    "deleted", (json_int_t)res->deleted,
		    "skipped", (json_int_t)res->skipped,
		    "dry_run", rep->dry_run, "ok", ok);
		if (rep->dry_run) {
			json_object_set_new(rec, "would_fetch",
			    json_integer((json_int_t)res->would_fetch));
			json_object_set_new(rec, "would_delete",
			    json_integer((json_int_t)res->would_delete));
		}
		if (res->listed) {
			json_object_set_new(rec, "total",
			    json_integer((json_int_t)res->total));
			json_object_set_new(rec, "known",
			    json_integer((json_int_t)res->known));
		}
		if (res->state_path[0] != '\0')
			report_json_text(rec, "state", res->state_path,
			    strlen(res->state_path));
		report_json_text(rec, "target", rep->target,
		    strlen(rep->target));
		json_object_set_new(rec, "target_new",
		    json_boolean(rep->target_new));
		(void)report_json_print(stdout, rec, NULL);
		return;
	}
	/* -q keeps the terminal quiet; a log still gets its line a run. */
	if (!ok || (rep->quiet && !report_syslog()))
		return;
	if (rep->dry_run)
		(void)snprintf(line, sizeof(line), "dry run: %zu message%s "
		    "would be fetched, %zu deleted", res->would_fetch,
		    res->would_fetch == 1 ? "" : "s", res->would_delete);
	else if (res->fetched == 0)
		nothing_new(rep, res, line, sizeof(line));
	else {
		(void)snprintf(line, sizeof(line), "%zu %smessage%s%s, %s, "
		    "delivered to %s", res->fetched, rep->all ? "" : "new ",
		    res->fetched == 1 ? "" : "s", rep->all ? " fetched" : "",
		    human(res->bytes, b, sizeof(b)), rep->target);
		if (res->skipped > 0) {
			(void)snprintf(part, sizeof(part), "; %zu skipped, over "
			    "--%s", res->skipped, cli_name(O_MAX_SIZE));
			(void)strlcat(line, part, sizeof(line));
		}
	}
	/* Under syslog, one line a run, naming the server. */
	if (!rep->dry_run && res->deleted > 0) {
		(void)snprintf(part, sizeof(part), "%s%zu message%s deleted "
		    "from the server", report_syslog() ? "; " : "\n",
		    res->deleted, res->deleted == 1 ? "" : "s");
		(void)strlcat(line, part, sizeof(line));
	}
	if (report_syslog())
		report_say(0, "%s: %s", rep->host, line);
	else
		report_say(0, "%s", line);
}
