/*
 * util.h - errors, memory and display helpers shared by every module.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Errors.  A class answers the caller's questions: which exit status
 * (main.c maps each class to one sysexits(3) code), whether trying again
 * later may help (error_retry), and what is broken (error_scope): this
 * message, the connection, the local store, or the configuration.
 * Whether a connection can still be used is asked of the connection
 * itself (pop3_broken), never worked out from a class.
 */
enum err_class {
	ERR_NONE = 0,
	ERR_USAGE,	/* 64 the command line is wrong */
	ERR_NOHOST,	/* 68 the host name does not resolve */
	ERR_REFUSED,	/* 69 the server refused a command, or lacks a
			 * feature that is needed */
	ERR_SOFTWARE,	/* 70 an internal error: a bug in popfetch */
	ERR_CANTCREAT,	/* 73 the delivery target or state cannot be made */
	ERR_IO,		/* 74 a local read or write failed */
	ERR_NET,	/* 75 the network failed or timed out */
	ERR_BUSY,	/* 75 the server asks to come back later: [SYS/TEMP],
			 * [IN-USE], [LOGIN-DELAY] */
	ERR_LOCKED,	/* 75 another process holds a lock popfetch needs
			 * (an mbox, the state of an account) */
	ERR_DEFERRED,	/* 75 the delivery agent asked to try again later
			 * (an MDA's exit status 75) */
	ERR_PROTO,	/* 76 the server broke the protocol */
	ERR_AUTH,	/* 77 the server refused the credentials */
	ERR_TLS,	/* 77 the server's certificate is not trusted */
	ERR_CONFIG,	/* 78 the configuration or credentials are unusable */
	ERR_INSECURE,	/* 78 doing this would send a secret in clear */
	ERR_DATAERR	/* 65 verify: a stored message is missing or
			 * changed */
};

/* What an error leaves broken. */
enum err_scope {
	SCOPE_NONE,
	SCOPE_MESSAGE,		/* one message; the others may go on */
	SCOPE_CONNECTION,	/* this session with the server */
	SCOPE_STORE,		/* the local mailbox, state or terminal */
	SCOPE_CONFIG		/* the command line or accounts file */
};

/*
 * What the user can change to get past an error.  Engine modules never
 * name a command-line option or an accounts-file keyword: they attach a
 * hint, and the front end says it in the form the user wrote the
 * setting in (an option on the command line, a keyword in the file).
 */
enum err_hint {
	HINT_NONE,
	HINT_TLS_MODE,		/* --tls implicit, or --tls none */
	HINT_ALLOW_PLAINTEXT,	/* --allow-plaintext */
	HINT_ALL_OR_DELETE,	/* --all or --delete */
	HINT_USER,		/* --user, or user@ in the URL */
	HINT_CLIENT_CERT,	/* --client-cert */
	HINT_STATE,		/* --state */
	HINT_PASSWORD_SOURCE,	/* --password-command, --password-file */
	HINT_CERT_TRUST,	/* certificate, --ca-file, --fingerprint */
	HINT_TLS_IMPLICIT,	/* pop3s://, or --tls implicit */
	HINT_TLS_STARTTLS,	/* pop3://, or --tls starttls */
	HINT_AUTH_METHOD,	/* --auth auto, or --auth user */
	HINT_UTF8,		/* --no-utf8 */
	HINT_STATE_DAMAGED,	/* state check, state mark-seen */
	HINT_STATE_FOREIGN,	/* --state, or state mark-seen */
	HINT_STATE_LOST,	/* state adopt */
	HINT_OAUTH2_LOGIN	/* popfetch -a NAME oauth2 login */
};

struct error {
	enum err_class	cls;
	enum err_hint	hint;
	char		msg[512];
};

/* Fills err (if not NULL) and returns -1, so callers can "return
 * error_set(...)". */
int	error_set(struct error *, enum err_class, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message with more context, keeps the class and
 * the hint. */
int	error_prefix(struct error *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Attaches a hint to err (if not NULL) and returns -1. */
int	error_hint(struct error *, enum err_hint);
/* Whether trying again later may succeed without any change (75). */
int	error_retry(const struct error *);
/* What the error leaves broken; see enum err_scope. */
enum err_scope	error_scope(const struct error *);

/* Allocation that cannot fail: out of memory ends the program. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);

/*
 * Writes a printable, escaped rendering of len bytes of untrusted text
 * into dst (always NUL-terminated); control characters, bytes >= 0x7f and
 * backslashes become C-style escapes.  Truncates with "..." when dst is
 * too small.  Returns dst.
 */
char	*vis_text(char *dst, size_t dstsz, const char *src, size_t len);

/*
 * The one hex codec.  hex_encode writes 2 * len digits and a NUL to out
 * (lower case unless upper).  hex_digit is a digit's value, or -1.
 * hex_decode reads exactly 2 * outlen digits of any case, skipping the
 * characters in skip (NULL: none), and fails on anything else.
 */
void	 hex_encode(const void *, size_t len, char *out, int upper);
int	 hex_digit(int);
int	 hex_decode(const char *, unsigned char *out, size_t outlen,
	    const char *skip);

/*
 * A bounded string builder over a caller's buffer, for the strings made
 * once or twice per message (a journal record, a maildir file's name),
 * where snprintf's parsing of its format was a fifth of the client's own
 * CPU.  Each append writes what fits; sb_end NUL-terminates and returns
 * the length, or -1 if anything did not fit (then the buffer holds a
 * truncated string, which the caller must not use).  size >= 1.
 * sb_hex8 writes v in lower-case hex, at least 8 digits (as "%08lx").
 */
struct sb {
	char	*start, *p, *last;	/* last: kept for the NUL */
	int	 over;
};

void	 sb_init(struct sb *, char *buf, size_t size);
void	 sb_mem(struct sb *, const void *, size_t);
void	 sb_str(struct sb *, const char *);
void	 sb_char(struct sb *, char);
void	 sb_u(struct sb *, unsigned long long);
void	 sb_i(struct sb *, long long);
void	 sb_hex8(struct sb *, unsigned long);
int	 sb_end(struct sb *);

/*
 * The one percent codec.  pct_encode writes src to dst with every byte
 * outside 0x21..0x7e, "%" and any byte in also (NULL: none) as %XX in
 * upper case; dst needs 3 * len + 1 bytes and is NUL-terminated.
 * pct_decode reverses any %XX (either case) of len bytes of src into
 * dst, which needs len + 1 bytes and may be src itself; *outlen excludes
 * the NUL that is appended, and the result may hold NULs.  -1 on a
 * malformed escape.
 */
void	 pct_encode(char *dst, const void *src, size_t len, const char *also);
int	 pct_decode(char *dst, const char *src, size_t len, size_t *outlen);

/*
 * The one expander of a command template for sh -c: each %c in tmpl
 * whose c is keys[i] becomes vals[i] single-quoted for the shell (so a
 * value is always one word, whatever it holds), %% becomes %, anything
 * else is kept.  Returns a new string.
 */
char	*sh_expand(const char *tmpl, const char *keys,
	    const char *const *vals);

/* Whether popfetch runs in the foreground of its controlling terminal,
 * where a command it starts may want to ask the user something. */
int	 tty_foreground(void);

/* Wipes and frees a secret string; NULL is fine. */
void	 secret_free(char *);

/* Parses a whole decimal number within [min, max]; -1 with errno set on
 * failure.  For server input: no sign, no spaces, no leading "+". */
int	 parse_u64(const char *s, size_t len, unsigned long long max,
	    unsigned long long *out);



/* Milliseconds on the monotonic clock, for time limits. */
long long now_ms(void);

/* FNV-1a of the NUL-terminated s: for hash tables of UIDs. */
size_t	 str_hash(const char *s);

/*
 * An arena for many small strings freed together: no per-string malloc
 * overhead for tens of thousands of UIDs.  Zero-initialise it.
 */
struct arena {
	char	**blocks;
	size_t	  n;
	size_t	  left;		/* bytes free in the current block */
	size_t	  bsize;	/* the current block's size */
};
/* A NUL-terminated copy of len bytes, valid until arena_free. */
char	*arena_strndup(struct arena *, const char *, size_t);
void	 arena_free(struct arena *);

/*
 * A buffer that grows without moving, so that pointers into it stay
 * valid until vbuf_free: the address space for the most it may hold is
 * reserved at the first vbuf_room (which costs no memory), and pages
 * are made usable as it grows; only pages written to take memory.
 * Zero-initialise it.  base[0..len) is the caller's.
 */
struct vbuf {
	char	*base;
	size_t	 len;		/* in use, by the caller's count */
	size_t	 usable;	/* readable and writable */
	size_t	 reserved;	/* the most it can ever hold */
};
/* Room for more bytes after len: 0, or -1 if the reservation cannot
 * hold them (it never moves).  Out of memory: exits 71. */
int	 vbuf_room(struct vbuf *, size_t more);
void	 vbuf_free(struct vbuf *);

/* A write buffer over a file descriptor. */
struct wbuf {
	int	fd;
	size_t	len;
	char	buf[65536];
};
/* Both return 0, or -1 with errno set. */
int	wbuf_put(struct wbuf *, const void *, size_t);
int	wbuf_flush(struct wbuf *);
#endif
