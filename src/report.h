/*
 * report.h - what a run prints besides errors: the progress line, the
 * text and JSON summaries of fetch, protocol traces, and the one JSON
 * writer every command's --json output goes through.
 *
 * JSON is made with jansson and written compactly, one document a line.
 * One rule holds for every string that came from outside (a UID, a
 * capability, a certificate's subject): valid UTF-8 passes through as
 * UTF-8, control characters are escaped, and a value that is not valid
 * UTF-8 appears with each invalid byte replaced by U+FFFD and also,
 * exactly, as lower-case hex in a sibling field named KEY_hex.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "fetch.h"
#include "util.h"

/* Makes jansson allocate through xmalloc, so that building a value never
 * fails for want of memory.  Call once before any other report_ call. */
void	 report_init(void);

/* Sets obj[key] to the len bytes of s under the rule above, adding
 * obj[key_hex] when s is not valid UTF-8. */
void	 report_json_text(json_t *obj, const char *key, const char *s,
	    size_t len);

/* A JSON string of the len bytes of s with every invalid UTF-8 byte
 * replaced by U+FFFD; *valid says whether there was none.  A new
 * reference. */
json_t	*report_json_string(const char *s, size_t len, int *valid);

/* A JSON string of the lower-case hex of the len bytes of s; a new
 * reference. */
json_t	*report_json_hex(const char *s, size_t len);

/*
 * Writes v compactly and a newline to f, and drops the reference to v
 * (which may be NULL only if building it failed: ERR_SOFTWARE).  A
 * write error shows when f is flushed (command_flush).
 */
int	 report_json_print(FILE *f, json_t *v, struct error *);

/*
 * An object written piece by piece, so that a member of any size can be
 * streamed: report_json_open writes head's members (head may be NULL),
 * then ',"key":' and returns; the caller writes the member's value;
 * report_json_close writes tail's members and the closing brace, and a
 * newline if nl.  Both drop their references.
 */
void	 report_json_open(FILE *f, json_t *head, const char *key);
void	 report_json_close(FILE *f, json_t *tail, int nl);

/* Writes v compactly without a newline, and drops the reference. */
void	 report_json_write(FILE *f, json_t *v);

/*
 * Where messages go: stderr (the default), or with on syslog(3), facility
 * mail, ident popfetch, from now on.
 */
void	 report_use_syslog(int on);
/* Whether messages go to syslog. */
int	 report_syslog(void);
/*
 * One message for the user, a line without its newline: an error
 * (warn 2), a warning (1) or a summary (0).  On stderr as "popfetch:
 * TEXT" (a summary on stdout as it is), or to syslog at LOG_ERR,
 * LOG_WARNING or LOG_INFO.
 */
void	 report_say(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* From now on SIGINT, SIGTERM and SIGHUP clear the progress that is on
 * screen before they end the process as they would have. */
void	 report_catch_signals(void);

/*
 * Progress of the caller's on stderr (a terminal), n lines redrawn in
 * place of those shown before (cursor up, erase to the end of the
 * screen), each cut short of the terminal's width; more lines than the
 * terminal has rows end in one saying how many more.  n 0 clears them.
 * Ctrl-C clears them too (report_catch_signals).  Nothing else may be
 * written to the terminal while lines are up.
 */
void	 report_progress_lines(const char *const *lines, size_t n);
/* In a child process: the parent's progress is not this one's. */
void	 report_forget_progress(void);
/*
 * In a child process whose parent draws the terminal: from now on a
 * fetch's progress goes to fd as lines "P DONE TOTAL BYTES" (decimal,
 * each written whole or, if fd is full, not at all), not to stderr.
 */
void	 report_progress_to(int fd);
/* Parses such a line (without its newline); 0, or -1 if malformed. */
int	 report_progress_parse(const char *line, size_t len, size_t *done,
	    size_t *total, unsigned long long *bytes);
/* "DONE/TOTAL messages, BYTES, RATE/s" into buf, after secs seconds. */
void	 report_progress_text(char *buf, size_t len, size_t done,
	    size_t total, unsigned long long bytes, double secs);

/* A pop3_tracer: writes each trace line to stderr. */
void	 report_trace(void *arg, const char *line);

/* The state of one fetch's output. */
struct report {
	int			 json, quiet;
	int			 progress;	/* stderr is a terminal */
	int			 shown;		/* a progress line is up */
	size_t			 nrec;		/* JSON records written */
	struct timespec		 start;
	const char		*host;		/* for messages */
	const char		*target;	/* the delivery target */
	int			 dry_run;
	int			 all;		/* --all: nothing is "new" */
	unsigned long long	 max_size;	/* for the skip message */
	int			 target_new;	/* the target did not exist
						 * before the run */
};

/* Starts a fetch's output: with json, the opening of the object. */
void	 report_fetch_begin(struct report *, int json, int quiet,
	    const char *host, const char *target, int dry_run);
/* A fetch_reporter (arg is the struct report): the progress line,
 * warnings and skipped messages on stderr, dry-run lines, and with json
 * one record for each event. */
void	 report_fetch_event(void *arg, const struct fetch_event *);
/* Ends a fetch's output: the JSON totals (ok says whether the fetch
 * succeeded) or, unless quiet, the text summary of a successful one. */
void	 report_fetch_end(struct report *, const struct fetch_result *,
	    int ok);

#endif
