/*
 * util.h - errors, memory and display helpers shared by every module.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Error classes answer the caller's questions: may I retry, may I go on
 * with the next message, which exit status?  main.c maps them to
 * sysexits(3) codes in one place.
 */
enum err_class {
	ERR_NONE = 0,
	ERR_USAGE,	/* the command line is wrong */
	ERR_NOHOST,	/* the host name does not resolve */
	ERR_REFUSED,	/* the server answered -ERR to a command */
	ERR_CANTCREAT,	/* the delivery target cannot be created */
	ERR_IO,		/* a local read or write failed */
	ERR_TEMP,	/* worth retrying later: network, timeout, [SYS/TEMP] */
	ERR_PROTO,	/* the server broke the protocol */
	ERR_AUTH,	/* the server refused our credentials */
	ERR_TLS,	/* the server's certificate failed verification */
	ERR_CONFIG,	/* the configuration or credentials are unusable */
	ERR_INSECURE,	/* doing this would send a secret in clear */
	ERR_SOFTWARE	/* an internal error */
};

struct error {
	enum err_class	cls;
	char		msg[512];
};

/* Fills err (if not NULL) and returns -1, so callers can "return
 * error_set(...)". */
int	error_set(struct error *, enum err_class, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message with more context, keeps the class. */
int	error_prefix(struct error *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

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

/* Wipes and frees a secret string; NULL is fine. */
void	 secret_free(char *);

/* Parses a whole decimal number within [min, max]; -1 with errno set on
 * failure.  For server input: no sign, no spaces, no leading "+". */
int	 parse_u64(const char *s, size_t len, unsigned long long max,
	    unsigned long long *out);



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

/* A write buffer over a file descriptor. */
struct wbuf {
	int	fd;
	size_t	len;
	char	buf[65536];
};
/* Both return 0, or -1 with errno set. */
int	wbuf_put(struct wbuf *, const void *, size_t);
int	wbuf_flush(struct wbuf *);
/* fsyncs the directory holding path (or the directory path itself when
 * isdir); -1 with err (ERR_IO). */
int	fsync_dir(const char *path, int isdir, struct error *);
#endif
