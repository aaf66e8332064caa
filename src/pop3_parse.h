/*
 * pop3_parse.h - pure parsers of POP3 server input.
 *
 * Nothing here does I/O or keeps state beyond what the caller passes
 * in, and nothing depends on anything but util.c, so that each parser
 * can be fuzzed on its own (tests/fuzz/fuzz_status.c, fuzz_multiline.c).
 * Every parser takes len bytes that need not be NUL-terminated, reads
 * no byte past them and accepts any input: a malformed one is refused
 * (-1), never truncated or guessed at.
 */
#ifndef POP3_PARSE_H
#define POP3_PARSE_H

#include <stddef.h>

#include "util.h"

/* A status line or a line of CAPA, LIST or UIDL output may not be longer
 * (RFC 2449 allows 512 octets; real servers send a little more). */
#define POP3_LINE_MAX	4096
/* Message numbers and counts a server may use. */
#define POP3_MSG_MAX	100000000UL
/* The longest UID accepted: RFC 1939 allows 70 characters; this leaves
 * room for servers that exceed it, while a listing costs a few hundred
 * bytes a message at most, however many the server lists. */
#define POP3_UID_MAX	512

/* The largest EXPIRE (days) or LOGIN-DELAY (seconds) taken as given:
 * about 30 years. */
#define POP3_DELAY_MAX	1000000000ULL

/* Capabilities (RFC 2449 CAPA). */
#define CAPA_TOP		0x0001
#define CAPA_USER		0x0002
#define CAPA_UIDL		0x0004
#define CAPA_PIPELINING		0x0008
#define CAPA_STLS		0x0010
#define CAPA_UTF8		0x0020
#define CAPA_RESP_CODES		0x0040
#define CAPA_AUTH_RESP_CODE	0x0080
#define CAPA_SASL		0x0100
#define CAPA_EXPIRE		0x0200
#define CAPA_LOGIN_DELAY	0x0400
#define CAPA_IMPLEMENTATION	0x0800

struct pop3_capa {
	int	 known;		/* the server answered CAPA with +OK */
	unsigned flags;
	char	*sasl;		/* SASL mechanisms, space-separated, or NULL */
	char	**lines;	/* the raw capability lines */
	size_t	 nlines;
};

/* A status line, as pop3_parse_status splits it. */
struct pop3_status {
	int	ok;		/* +OK: 1, -ERR: 0, "+ " continuation: 2 */
	char	code[64];	/* RFC 2449 response code, or "" */
	size_t	text_off;	/* where the human text starts */
};

/*
 * Splits a status line (RFC 1939 section 3, RFC 2449 section 8 codes,
 * RFC 5034 continuations) into st.  0, or -1 when it is none of "+OK",
 * "-ERR" and "+ ".
 */
int	pop3_parse_status(const char *, size_t, struct pop3_status *st);

/* The text of a +OK to STAT: "count octets", optionally followed by a
 * space and anything.  0, or -1 when malformed or out of range. */
int	pop3_parse_stat(const char *, size_t, unsigned long *count,
	    unsigned long long *octets);

/* A scan listing of LIST: "num size" with num >= 1, then as for STAT.
 * 0 or -1. */
int	pop3_parse_scan(const char *, size_t, unsigned long *num,
	    unsigned long long *size);

/*
 * A unique-id listing of UIDL: "num uid".  On 0, the uid is the rest
 * of the line from *uidoff: at least one byte, no NUL, but otherwise
 * whatever the server sent (RFC 1939 asks for 1-70 printable characters;
 * servers are not trusted to keep that, so callers escape it for display
 * and never use it in a path), and at most POP3_UID_MAX bytes.  -1 when
 * malformed or too long.
 */
int	pop3_parse_uid(const char *, size_t, unsigned long *num,
	    size_t *uidoff);

/* The class of a -ERR by its response code (RFC 2449 section 8, RFC
 * 3206): [AUTH] ERR_AUTH; [SYS/TEMP], [IN-USE] and [LOGIN-DELAY]
 * ERR_BUSY; [SYS/PERM] ERR_REFUSED; any other code, or none, dflt. */
enum err_class	pop3_parse_code(const char *code, enum err_class dflt);

/* Finds the APOP timestamp in the text of a greeting (RFC 1939 section
 * 7): a msg-id "<...>" without white space, under 256 bytes.  0 with
 * its offset and length, or -1. */
int	pop3_parse_timestamp(const char *, size_t, size_t *off,
	    size_t *tlen);

/*
 * The one check of a LIST or UIDL listing: each line parsed (scan or
 * unique-id listing), and message numbers in ascending order, so that
 * none is listed twice.  Start with a zeroed struct and uidl set for
 * UIDL.  0 with *num and, for LIST, *size, for UIDL, *uidoff (see
 * pop3_parse_uid); -1 with err (ERR_PROTO), naming LIST or UIDL.
 */
struct pop3_listing {
	int		uidl;
	unsigned long	last;		/* the last message number seen */
};
int	pop3_parse_listing(struct pop3_listing *, const char *, size_t,
	    unsigned long *num, unsigned long long *size, size_t *uidoff,
	    struct error *err);

/* The most lines a CAPA reply may have. */
#define POP3_CAPA_MAX	256

/* Adds one line of a CAPA reply to c: the raw line, its flag if the
 * name is known, and the SASL mechanisms.  A line holding NUL is
 * ignored.  The strings belong to c until pop3_parse_capa_clear.  0, or
 * -1 with err (ERR_PROTO) when c already holds POP3_CAPA_MAX lines. */
int	pop3_parse_capa_line(struct pop3_capa *c, const char *, size_t,
	    struct error *err);

/* Frees what c holds and zeroes it. */
void	pop3_parse_capa_clear(struct pop3_capa *c);

/* The number that capability name (EXPIRE, LOGIN-DELAY) takes in c:
 * 0 with *val (at most max), or -1 if c has no such line or its first
 * argument is no number within max (EXPIRE NEVER). */
int	pop3_parse_capa_number(const struct pop3_capa *c, const char *name,
	    unsigned long long max, unsigned long long *val);

/*
 * The one dot-unstuffer of multi-line replies (RFC 1939 section 3).
 * It is fed the reply piece by piece: a whole line with its line end
 * (eol 1), or a part of a long line (eol 0), where a part never ends in
 * a CR whose LF may follow (net_getchunk holds such a CR back).  Start
 * with a zeroed struct and bol = 1.
 *
 * Returns 1 when the piece is the terminating "." line (done is set
 * and nothing is to be kept), else 0 with *out and *outlen the bytes of
 * the piece that belong to the message: the stuffed leading dot of a
 * line removed, and CRLF (or a bare LF) ended by one LF.  *out points
 * into data, which is modified in place.
 */
struct pop3_unstuff {
	int	bol;		/* at the beginning of a line */
	int	dot;		/* the line so far is the one leading "." */
	int	done;		/* the terminating "." was seen */
};
int	pop3_parse_unstuff(struct pop3_unstuff *, char *data, size_t len,
	    int eol, char **out, size_t *outlen);

/*
 * The same for many lines at once, for a body read a buffer at a time:
 * data[0..len) is what has arrived, whole lines each ended by an LF,
 * perhaps followed by the start of a line still coming, which is left
 * alone.  The whole lines are unstuffed in place, the message's bytes
 * moved to the front of data: *outlen of them.  *used is how many input
 * bytes were taken: the whole lines up to and including the terminating
 * "." line if it was among them, else all of them (0: not one whole
 * line yet).  Returns 1 when the terminating line was seen (done is
 * set; the bytes after it are not touched), else 0.  Pieces from
 * pop3_parse_unstuff and from this function may alternate on one reply
 * with one struct pop3_unstuff.
 */
int	pop3_parse_unstuff_lines(struct pop3_unstuff *, char *data,
	    size_t len, size_t *used, size_t *outlen);

#endif
