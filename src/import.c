/*
 * import.c - readers of the UID files other POP3 clients write, learnt
 * from the files mpop 1.4, fetchmail 6.4 and getmail6 wrote when they
 * fetched from a Dovecot:
 *
 *  mpop (~/.mpop_uidls/USER_at_HOST): comment lines starting with "#";
 *	a line " COUNT HOST USER" (a leading space) begins a list of COUNT
 *	UIDs, one a line, for that account.
 *  fetchmail (~/.fetchids): one line "USER@HOST UID" per message seen.
 *  getmail6 (oldmail-HOST-PORT-USER, one file per account): one line
 *	"UID\0TIMESTAMP" per message.
 *
 * A POP3 UID is 1 to 70 characters 0x21..0x7e (RFC 1939, 7), so none of
 * these separators can occur in one; a line that breaks the format is
 * refused, never guessed at.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "import.h"

/* A UID file is small: a million UIDs at most. */
#define IMPORT_MAX	(80 * 1024 * 1024)

struct uids {
	char	**v;
	size_t	  n;
};

static void
add(struct uids *u, const char *s, size_t len)
{
	u->v = xreallocarray(u->v, u->n + 1, sizeof(char *));
	u->v[u->n++] = xstrndup(s, len);
}

static int
valid_uid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 512)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* Reads the whole file; it may be a symbolic link (a dotfile manager's):
 * what is checked is the file opened. */
static char *
slurp(const char *path, size_t *len, struct error *err)
{
	struct stat sb;
	char *buf;
	ssize_t r;
	size_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return error_set(err, ERR_IO, "%s: %s", path,
		    strerror(errno)), NULL;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > IMPORT_MAX) {
		(void)close(fd);
		return error_set(err, ERR_CONFIG, "%s: not a regular file of "
		    "at most 80 MiB", path), NULL;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (n < (size_t)sb.st_size &&
	    (r = read(fd, buf + n, (size_t)sb.st_size - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			error_set(err, ERR_IO, "%s: %s", path, strerror(errno));
			(void)close(fd);
			free(buf);
			return NULL;
		}
		n += (size_t)r;
	}
	(void)close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int
bad_line(const char *path, const char *prog, int lineno, struct error *err)
{
	return error_set(err, ERR_CONFIG, "%s: line %d: not a UID file of %s",
	    path, lineno, prog);
}

/* " COUNT HOST USER", or -1. */
static int
mpop_list(char *line, const char *user, const char *host, size_t *count,
    int *ours)
{
	char *f[3], *s = line + 1;
	const char *errstr;
	int k = 0;

	while (k < 3 && (f[k] = strsep(&s, " ")) != NULL)
		k++;
	if (k != 3 || s != NULL)
		return -1;
	*count = (size_t)strtonum(f[0], 0, 10000000, &errstr);
	if (errstr != NULL)
		return -1;
	*ours = strcasecmp(f[1], host) == 0 && strcmp(f[2], user) == 0;
	return 0;
}

static int
read_mpop(char *buf, size_t len, const char *path, const char *user,
    const char *host, struct uids *u, int *found, struct error *err)
{
	char *p = buf, *end = buf + len, *nl;
	size_t left = 0;
	int lineno = 0, ours = 0;

	for (; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		*nl = '\0';
		if (left > 0) {
			if (!valid_uid(p, (size_t)(nl - p)))
				return bad_line(path, "mpop", lineno, err);
			if (ours)
				add(u, p, (size_t)(nl - p));
			left--;
		} else if (p[0] == '#' || p == nl)
			continue;
		else if (p[0] != ' ' || mpop_list(p, user, host, &left,
		    &ours) == -1)
			return bad_line(path, "mpop", lineno, err);
		else
			*found |= ours;
	}
	if (left > 0)
		return error_set(err, ERR_CONFIG, "%s: cut short: %zu UIDs "
		    "missing", path, left);
	return 0;
}

static int
read_fetchmail(char *buf, size_t len, const char *path, const char *user,
    const char *host, struct uids *u, int *found, struct error *err)
{
	char *p = buf, *end = buf + len, *nl, *sp, *at;
	size_t ul = strlen(user);
	int lineno = 0;

	for (; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		*nl = '\0';
		if (p == nl)
			continue;
		if ((sp = strrchr(p, ' ')) == NULL ||
		    !valid_uid(sp + 1, (size_t)(nl - sp - 1)))
			return bad_line(path, "fetchmail", lineno, err);
		*sp = '\0';
		if ((at = strrchr(p, '@')) == NULL)
			return bad_line(path, "fetchmail", lineno, err);
		if ((size_t)(at - p) == ul && strncmp(p, user, ul) == 0 &&
		    strcasecmp(at + 1, host) == 0) {
			add(u, sp + 1, (size_t)(nl - sp - 1));
			*found = 1;
		}
	}
	return 0;
}

static int
read_getmail(char *buf, size_t len, const char *path, struct uids *u,
    int *found, struct error *err)
{
	char *p = buf, *end = buf + len, *nl, *z;
	int lineno = 0;

	*found = 1;
	for (; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (p == nl)
			continue;
		if ((z = memchr(p, '\0', (size_t)(nl - p))) == NULL ||
		    !valid_uid(p, (size_t)(z - p)))
			return bad_line(path, "getmail", lineno, err);
		add(u, p, (size_t)(z - p));
	}
	return 0;
}

int
import_read(enum import_kind kind, const char *path, const char *user,
    const char *host, const char *port, char ***uids, size_t *n,
    struct error *err)
{
	struct uids u = { NULL, 0 };
	char *buf;
	size_t len;
	int r, found = 0;

	(void)port;
	*uids = NULL;
	*n = 0;
	if (kind == IMPORT_NONE)
		return error_set(err, ERR_USAGE, "%s: which program wrote it "
		    "is not known", path);
	if ((buf = slurp(path, &len, err)) == NULL)
		return -1;
	if (kind == IMPORT_MPOP)
		r = read_mpop(buf, len, path, user, host, &u, &found, err);
	else if (kind == IMPORT_FETCHMAIL)
		r = read_fetchmail(buf, len, path, user, host, &u, &found, err);
	else
		r = read_getmail(buf, len, path, &u, &found, err);
	free(buf);
	if (r == 0 && !found)
		r = error_set(err, ERR_CONFIG, "%s: no UIDs of %s@%s in it",
		    path, user, host);
	if (r == -1) {
		import_free(u.v, u.n);
		return -1;
	}
	*uids = u.v;
	*n = u.n;
	return 0;
}

void
import_free(char **uids, size_t n)
{
	while (n > 0)
		free(uids[--n]);
	free(uids);
}
