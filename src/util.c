/*
 * util.c - errors, memory and display helpers.
 */
#include <sys/mman.h>

#include <ctype.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>
#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static const char hexlower[] = "0123456789abcdef";
static const char hexupper[] = "0123456789ABCDEF";

int
error_set(struct error *e, enum err_class cls, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->cls = cls;
	e->hint = HINT_NONE;
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
error_prefix(struct error *e, const char *fmt, ...)
{
	char pre[256], old[sizeof(e->msg)];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	(void)strlcpy(old, e->msg, sizeof(old));
	(void)strlcpy(e->msg, pre, sizeof(e->msg));
	(void)strlcat(e->msg, ": ", sizeof(e->msg));
	(void)strlcat(e->msg, old, sizeof(e->msg));
	return -1;
}

int
error_hint(struct error *e, enum err_hint h)
{
	if (e != NULL)
		e->hint = h;
	return -1;
}

int
error_retry(const struct error *e)
{
	switch (e->cls) {
	case ERR_NET:
	case ERR_BUSY:
	case ERR_LOCKED:
	case ERR_DEFERRED:
		return 1;
	default:
		return 0;
	}
}

enum err_scope
error_scope(const struct error *e)
{
	switch (e->cls) {
	case ERR_NONE:
		return SCOPE_NONE;
	case ERR_REFUSED:
	case ERR_DEFERRED:
		return SCOPE_MESSAGE;
	case ERR_NOHOST:
	case ERR_NET:
	case ERR_BUSY:
	case ERR_PROTO:
	case ERR_AUTH:
	case ERR_TLS:
		return SCOPE_CONNECTION;
	case ERR_CANTCREAT:
	case ERR_IO:
	case ERR_LOCKED:
	case ERR_DATAERR:
		return SCOPE_STORE;
	case ERR_USAGE:
	case ERR_CONFIG:
	case ERR_INSECURE:
	case ERR_SOFTWARE:
		return SCOPE_CONFIG;
	}
	return SCOPE_CONFIG;
}

void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		err(71, "malloc");
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void *p;

	if ((p = calloc(n ? n : 1, m ? m : 1)) == NULL)
		err(71, "calloc");
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t m)
{
	if ((p = reallocarray(p, n ? n : 1, m ? m : 1)) == NULL)
		err(71, "reallocarray");
	return p;
}

char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		err(71, "strdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL)
		err(71, "strndup");
	return p;
}

char *
vis_text(char *dst, size_t dstsz, const char *src, size_t len)
{
	size_t i, o = 0;
	char esc[5];
	size_t elen;

	if (dstsz == 0)
		return dst;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\\') {
			esc[0] = '\\';
			esc[1] = '\\';
			elen = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			esc[0] = (char)c;
			elen = 1;
		} else if (c == '\t') {
			esc[0] = '\\';
			esc[1] = 't';
			elen = 2;
		} else {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hexlower[c >> 4];
			esc[3] = hexlower[c & 15];
			elen = 4;
		}
		if (o + elen + 4 > dstsz) {
			/* No room for this and a "...": end here. */
			if (o + 3 < dstsz) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(dst + o, esc, elen);
		o += elen;
	}
	dst[o] = '\0';
	return dst;
}

void
hex_encode(const void *src, size_t len, char *out, int upper)
{
	const unsigned char *d = src;
	const char *digits = upper ? hexupper : hexlower;
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * len] = '\0';
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(const char *s, unsigned char *out, size_t outlen,
    const char *skip)
{
	size_t n = 0;
	int hi = -1, v;

	for (; *s != '\0'; s++) {
		if (skip != NULL && strchr(skip, *s) != NULL)
			continue;
		if ((v = hex_digit((unsigned char)*s)) == -1 || (hi == -1 &&
		    n == outlen))
			return -1;
		if (hi == -1)
			hi = v;
		else {
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	return n == outlen && hi == -1 ? 0 : -1;
}

/* Appends len bytes of s to *out (of *n bytes, room for *cap), growing
 * it as needed. */
static void
grow_put(char **out, size_t *n, size_t *cap, const char *s, size_t len)
{
	if (*n + len + 1 > *cap) {
		*cap = (*n + len + 1) * 2;
		*out = xreallocarray(*out, *cap, 1);
	}
	memcpy(*out + *n, s, len);
	*n += len;
}

char *
sh_expand(const char *tmpl, const char *keys, const char *const *vals)
{
	size_t cap = strlen(tmpl) + 64, n = 0;
	char *out = xmalloc(cap);
	const char *p, *k, *v;

	for (p = tmpl; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] != '\0' &&
		    (k = strchr(keys, p[1])) != NULL) {
			grow_put(&out, &n, &cap, "'", 1);
			for (v = vals[k - keys]; *v != '\0'; v++) {
				if (*v == '\'')
					grow_put(&out, &n, &cap, "'\\''", 4);
				else
					grow_put(&out, &n, &cap, v, 1);
			}
			grow_put(&out, &n, &cap, "'", 1);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			grow_put(&out, &n, &cap, "%", 1);
			p++;
		} else
			grow_put(&out, &n, &cap, p, 1);
	}
	out[n] = '\0';
	return out;
}

int
tty_foreground(void)
{
	int fd, r;

	if ((fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC)) == -1)
		return 0;
	r = tcgetpgrp(fd) == getpgrp();
	(void)close(fd);
	return r;
}

void
sb_init(struct sb *b, char *buf, size_t size)
{
	b->start = b->p = buf;
	b->last = buf + size - 1;
	b->over = 0;
}

void
sb_mem(struct sb *b, const void *s, size_t n)
{
	if (n > (size_t)(b->last - b->p)) {
		n = (size_t)(b->last - b->p);
		b->over = 1;
	}
	memcpy(b->p, s, n);
	b->p += n;
}

void
sb_str(struct sb *b, const char *s)
{
	sb_mem(b, s, strlen(s));
}

void
sb_char(struct sb *b, char c)
{
	if (b->p < b->last)
		*b->p++ = c;
	else
		b->over = 1;
}

void
sb_u(struct sb *b, unsigned long long v)
{
	char d[24];
	size_t k = sizeof(d);

	do
		d[--k] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	sb_mem(b, d + k, sizeof(d) - k);
}

void
sb_i(struct sb *b, long long v)
{
	if (v < 0) {
		sb_char(b, '-');
		/* Through unsigned: -LLONG_MIN does not fit a long long. */
		sb_u(b, -(unsigned long long)v);
	} else
		sb_u(b, (unsigned long long)v);
}

void
sb_hex8(struct sb *b, unsigned long v)
{
	char d[2 * sizeof(v) + 8];
	size_t k = sizeof(d);

	do
		d[--k] = hexlower[v & 15];
	while ((v >>= 4) != 0);
	while (sizeof(d) - k < 8)
		d[--k] = '0';
	sb_mem(b, d + k, sizeof(d) - k);
}

int
sb_end(struct sb *b)
{
	*b->p = '\0';
	return b->over ? -1 : (int)(b->p - b->start);
}

/* Bytes pct_encode passes as they are: 0x21..0x7e but "%". */
static const unsigned char pct_plain[256] = {
	['!'] = 1, ['"'] = 1, ['#'] = 1, ['$'] = 1, ['&'] = 1, ['\''] = 1,
	['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, ['-'] = 1,
	['.'] = 1, ['/'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
	['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	[':'] = 1, [';'] = 1, ['<'] = 1, ['='] = 1, ['>'] = 1, ['?'] = 1,
	['@'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,
	['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1,
	['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1,
	['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1,
	['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['['] = 1, ['\\'] = 1, [']'] = 1,
	['^'] = 1, ['_'] = 1, ['`'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,
	['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
	['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,
	['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['{'] = 1,
	['|'] = 1, ['}'] = 1, ['~'] = 1,
};

void
pct_encode(char *dst, const void *src, size_t len, const char *also)
{
	const unsigned char *s = src;
	unsigned char plain[256];
	const unsigned char *ok = pct_plain;
	size_t i;

	/* A table of its own only for the few callers with also. */
	if (also != NULL && *also != '\0') {
		memcpy(plain, pct_plain, sizeof(plain));
		for (; *also != '\0'; also++)
			plain[(unsigned char)*also] = 0;
		ok = plain;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (ok[c])
			*dst++ = (char)c;
		else {
			*dst++ = '%';
			*dst++ = hexupper[c >> 4];
			*dst++ = hexupper[c & 15];
		}
	}
	*dst = '\0';
}

int
pct_decode(char *dst, const char *src, size_t len, size_t *outlen)
{
	size_t i, o = 0;
	int h, l;

	for (i = 0; i < len; i++) {
		if (src[i] != '%') {
			dst[o++] = src[i];
			continue;
		}
		if (i + 2 >= len)
			return -1;
		if ((h = hex_digit((unsigned char)src[i + 1])) < 0 ||
		    (l = hex_digit((unsigned char)src[i + 2])) < 0)
			return -1;
		dst[o++] = (char)(h << 4 | l);
		i += 2;
	}
	dst[o] = '\0';
	*outlen = o;
	return 0;
}

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int
parse_u64(const char *s, size_t len, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (len == 0 || len > 20) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned d;

		if (!isdigit((unsigned char)s[i])) {
			errno = EINVAL;
			return -1;
		}
		d = (unsigned)(s[i] - '0');
		if (d > max || v > (max - d) / 10) {
			errno = ERANGE;
			return -1;
		}
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
wbuf_flush(struct wbuf *w)
{
	size_t n = w->len;

	w->len = 0;
	return write_all(w->fd, w->buf, n);
}

int
wbuf_put(struct wbuf *w, const void *data, size_t n)
{
	if (w->len + n > sizeof(w->buf)) {
		if (wbuf_flush(w) == -1)
			return -1;
		if (n >= sizeof(w->buf))
			return write_all(w->fd, data, n);
	}
	memcpy(w->buf + w->len, data, n);
	w->len += n;
	return 0;
}

#define ARENA_BLOCK	65536

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p;

	if (len + 1 > a->left) {
		a->blocks = xreallocarray(a->blocks, a->n + 1,
		    sizeof(char *));
		if (len + 1 > ARENA_BLOCK / 4 && a->n > 0) {
			/* A big string gets a block of its own, slipped in
			 * before the current one, which keeps its space. */
			p = xmalloc(len + 1);
			a->blocks[a->n] = a->blocks[a->n - 1];
			a->blocks[a->n - 1] = p;
			a->n++;
			memcpy(p, s, len);
			p[len] = '\0';
			return p;
		}
		a->bsize = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;
		a->blocks[a->n++] = xmalloc(a->bsize);
		a->left = a->bsize;
	}
	p = a->blocks[a->n - 1] + (a->bsize - a->left);
	memcpy(p, s, len);
	p[len] = '\0';
	a->left -= len + 1;
	return p;
}

void
arena_free(struct arena *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->blocks[i]);
	free(a->blocks);
	memset(a, 0, sizeof(*a));
}

/* A vbuf becomes usable in steps of this many bytes (a multiple of any
 * page size), and reserves at most VBUF_MAX: 4 GiB where size_t
 * allows, which 32-bit offsets into it can still address. */
#define VBUF_STEP	((size_t)64 * 1024)
#define VBUF_MAX	(SIZE_MAX > 0xffffffffu ? \
	(size_t)0xffffffffu + 1 : (size_t)256 * 1024 * 1024)

int
vbuf_room(struct vbuf *v, size_t more)
{
	size_t size, want;
	void *p = MAP_FAILED;

	if (v->base == NULL) {
		/* Less where address space is scarce (ulimit -v, 32 bits). */
		for (size = VBUF_MAX; size >= VBUF_STEP; size /= 2)
			if ((p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE |
			    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)) != MAP_FAILED)
				break;
		if (p == MAP_FAILED)
			err(71, "mmap");
#ifdef MADV_NOHUGEPAGE
		/* Where huge pages are the default, the first byte written
		 * would take 2 MB. */
		(void)madvise(p, size, MADV_NOHUGEPAGE);
#endif
		v->base = p;
		v->reserved = size;
		v->len = v->usable = 0;
	}
	if (more > v->reserved - v->len)
		return -1;
	if (v->len + more <= v->usable)
		return 0;
	want = (v->len + more + VBUF_STEP - 1) / VBUF_STEP * VBUF_STEP;
	if (want > v->reserved)
		want = v->reserved;
	if (mprotect(v->base + v->usable, want - v->usable, PROT_READ |
	    PROT_WRITE) == -1)
		err(71, "mprotect");
	v->usable = want;
	return 0;
}

void
vbuf_free(struct vbuf *v)
{
	if (v->base != NULL)
		(void)munmap(v->base, v->reserved);
	memset(v, 0, sizeof(*v));
}

size_t
str_hash(const char *s)
{
	size_t h = 14695981039346656037ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

long long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
