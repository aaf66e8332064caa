/*
 * oauth2_store.c - the token file of an account.
 *
 * One JSON object: the provider's endpoints, the client id and scope it
 * was logged in with, the access token and when it expires, and the
 * refresh token.  The file is 0600 and its directory 0700 (a file named
 * with the token-file setting may sit in any directory that others
 * cannot write); anything looser is refused, not repaired, since someone
 * may already have read it.
 *
 * Refreshing reads, asks the provider and writes: all of it under an
 * exclusive flock(2) of FILE.lock, so that a second run of the account
 * waits and then reads the rotated tokens instead of spending a refresh
 * token the provider has already replaced.  Writes go to FILE.tmp, are
 * synced and renamed over FILE, and the directory is synced.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oauth2_p.h"

#define STORE_MAX	(64 * 1024)

struct oauth2_lock {
	int	fd;
};

int
oauth2_store_path(char *buf, size_t len, const char *name,
    struct error *err)
{
	const char *base = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *esc;
	int r;

	esc = xreallocarray(NULL, strlen(name) + 1, 3);
	/* One path component, never "." or "..": "/" and "." leading. */
	pct_encode(esc, name, strlen(name), "/");
	if (esc[0] == '.') {
		char *e2 = xreallocarray(NULL, strlen(esc) + 3, 1);

		(void)snprintf(e2, strlen(esc) + 3, "%%2E%s", esc + 1);
		free(esc);
		esc = e2;
	}
	if (base != NULL && base[0] == '/')
		r = snprintf(buf, len, "%s/popfetch/oauth2/%s", base, esc);
	else if (home != NULL && home[0] != '\0')
		r = snprintf(buf, len, "%s/.local/state/popfetch/oauth2/%s",
		    home, esc);
	else {
		free(esc);
		return error_set(err, ERR_CONFIG, "no place for the OAuth "
		    "tokens: neither HOME nor XDG_STATE_HOME is set");
	}
	free(esc);
	if (r < 0 || (size_t)r >= len)
		return error_set(err, ERR_CONFIG, "the token file's name is "
		    "too long");
	return 0;
}

/* The directory of the store, in buf. */
static const char *
store_dir(const struct oauth2_params *p, char *buf, size_t len)
{
	char *d;

	if (strlcpy(buf, p->store, len) >= len)
		return NULL;
	d = dirname(buf);
	if (d != buf && strlcpy(buf, d, len) >= len)
		return NULL;
	return buf;
}

/* Makes the directories of a default store, each 0700. */
static int
make_dirs(const char *dir, struct error *err)
{
	char path[4096], *s;

	if (strlcpy(path, dir, sizeof(path)) >= sizeof(path))
		return error_set(err, ERR_CONFIG, "%s: name too long", dir);
	for (s = path + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		{
			char c = *s;

			*s = '\0';
			if (mkdir(path, 0700) == -1 && errno != EEXIST)
				return error_set(err, ERR_CANTCREAT, "%s: %s",
				    path, strerror(errno));
			*s = c;
		}
		if (*s == '\0')
			break;
	}
	return 0;
}

/* The directory must be ours and closed to others (0700 for the
 * default place, not writable by others for a named file). */
static int
check_dir(const struct oauth2_params *p, int create, struct error *err)
{
	char dir[4096];
	struct stat sb;
	mode_t bad;

	if (p->store == NULL)
		return error_set(err, ERR_CONFIG, "no place for the OAuth "
		    "tokens: neither HOME nor XDG_STATE_HOME is set, and no "
		    "token file is named");
	if (store_dir(p, dir, sizeof(dir)) == NULL)
		return error_set(err, ERR_CONFIG, "%s: name too long",
		    p->store);
	if (create && !p->store_named && make_dirs(dir, err) == -1)
		return -1;
	if (stat(dir, &sb) == -1)
		return error_set(err, ERR_CONFIG, "%s: %s", dir,
		    strerror(errno));
	bad = p->store_named ? (S_IWGRP | S_IWOTH) : (S_IRWXG | S_IRWXO);
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & bad) != 0)
		return error_set(err, ERR_CONFIG, "%s: mode %04o, owner %u: "
		    "the directory of OAuth tokens must belong to you and be "
		    "%s; refusing to use it (chmod %s %s)", dir,
		    (unsigned)(sb.st_mode & 07777), (unsigned)sb.st_uid,
		    p->store_named ? "closed to others' writes" : "0700",
		    p->store_named ? "go-w" : "700", dir);
	return 0;
}

static int
check_file(const char *path, int fd, struct error *err)
{
	struct stat sb;

	if (fstat(fd, &sb) == -1)
		return error_set(err, ERR_IO, "%s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return error_set(err, ERR_CONFIG, "%s: not a regular file",
		    path);
	if (sb.st_uid != geteuid() || (sb.st_mode & (S_IRWXG | S_IRWXO)))
		return error_set(err, ERR_CONFIG, "%s: mode %04o, owner %u: "
		    "OAuth tokens others may read; refusing to use them "
		    "(chmod 600 %s, then log in again if others did read it)",
		    path, (unsigned)(sb.st_mode & 07777), (unsigned)sb.st_uid,
		    path);
	return 0;
}

struct oauth2_lock *
oauth2_store_lock(const struct oauth2_params *p, struct error *err)
{
	struct oauth2_lock *l;
	char path[4200];
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	long waited = 0, limit = (p->timeout > 0 ? p->timeout : 60) * 20L;
	int fd;

	if (check_dir(p, 1, err) == -1)
		return NULL;
	if (snprintf(path, sizeof(path), "%s.lock", p->store) >=
	    (int)sizeof(path)) {
		error_set(err, ERR_CONFIG, "%s: name too long", p->store);
		return NULL;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1) {
		error_set(err, ERR_CANTCREAT, "%s: %s", path,
		    strerror(errno));
		return NULL;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    waited++ >= limit) {
			close(fd);
			error_set(err, errno == EWOULDBLOCK ? ERR_LOCKED :
			    ERR_IO, "%s: %s", path, errno == EWOULDBLOCK ?
			    "another popfetch is refreshing these tokens" :
			    strerror(errno));
			return NULL;
		}
		(void)nanosleep(&ts, NULL);
	}
	l = xmalloc(sizeof(*l));
	l->fd = fd;
	return l;
}

void
oauth2_store_unlock(struct oauth2_lock *l)
{
	if (l == NULL)
		return;
	(void)flock(l->fd, LOCK_UN);
	close(l->fd);
	free(l);
}

json_t *
oauth2_store_read(const struct oauth2_params *p, struct error *err)
{
	char *buf;
	json_error_t jerr;
	json_t *o = NULL;
	size_t len = 0;
	ssize_t r;
	int fd;

	if (check_dir(p, 0, err) == -1) {
		if (p->store != NULL && access(p->store, F_OK) == -1 &&
		    errno == ENOENT)
			error_set(err, ERR_CONFIG, "no OAuth tokens (%s "
			    "does not exist)", p->store);
		return NULL;
	}
	if ((fd = open(p->store, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		error_set(err, ERR_CONFIG, errno == ENOENT ? "no OAuth tokens "
		    "(%s does not exist)" : "%s: %s", p->store,
		    strerror(errno));
		return NULL;
	}
	if (check_file(p->store, fd, err) == -1) {
		close(fd);
		return NULL;
	}
	buf = xmalloc(STORE_MAX + 1);
	while (len < STORE_MAX && (r = read(fd, buf + len, STORE_MAX -
	    len)) > 0)
		len += (size_t)r;
	close(fd);
	if (len == STORE_MAX)
		error_set(err, ERR_CONFIG, "%s: larger than %d bytes",
		    p->store, STORE_MAX);
	else if ((o = json_loadb(buf, len, 0, &jerr)) == NULL ||
	    !json_is_object(o)) {
		json_decref(o);
		o = NULL;
		error_set(err, ERR_CONFIG, "%s: not a token file (line %d: "
		    "%s); log in again", p->store, jerr.line, jerr.text);
	}
	explicit_bzero(buf, len);
	free(buf);
	return o;
}

int
oauth2_store_write(const struct oauth2_params *p, json_t *o,
    struct error *err)
{
	char tmp[4200], dir[4096], *text;
	size_t len, off = 0;
	ssize_t w;
	int fd, dfd, r = -1;

	if (check_dir(p, 1, err) == -1)
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", p->store) >=
	    (int)sizeof(tmp) || store_dir(p, dir, sizeof(dir)) == NULL)
		return error_set(err, ERR_CONFIG, "%s: name too long",
		    p->store);
	if ((text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL)
		return error_set(err, ERR_SOFTWARE, "cannot write the tokens "
		    "as JSON");
	len = strlen(text);
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		error_set(err, ERR_CANTCREAT, "%s: %s", tmp, strerror(errno));
		goto done;
	}
	while (off < len && (w = write(fd, text + off, len - off)) > 0)
		off += (size_t)w;
	if (off < len || write(fd, "\n", 1) != 1 || fsync(fd) == -1) {
		error_set(err, ERR_IO, "%s: %s", tmp, strerror(errno));
		close(fd);
		(void)unlink(tmp);
		goto done;
	}
	if (close(fd) == -1 || rename(tmp, p->store) == -1) {
		error_set(err, ERR_IO, "%s: %s", p->store, strerror(errno));
		(void)unlink(tmp);
		goto done;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	r = 0;
done:
	explicit_bzero(text, len);
	free(text);
	return r;
}

int
oauth2_store_delete(const struct oauth2_params *p, struct error *err)
{
	if (p->store == NULL)
		return 0;
	if (unlink(p->store) == -1 && errno != ENOENT)
		return error_set(err, ERR_IO, "%s: %s", p->store,
		    strerror(errno));
	return 0;
}
