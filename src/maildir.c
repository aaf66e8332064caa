/*
 * maildir.c - the maildir backend (backend.h).
 *
 * The maildir rules: write under tmp/ with a name nobody else can pick
 * (time, microseconds, pid, a counter, the host name), fsync, close,
 * rename into new/, fsync new/.  A name never contains server text.
 * The directory is resolved and opened once, and everything else is
 * done relative to tmp/ and new/ (openat, renameat), so no path is ever
 * built, let alone cut short.
 *
 * The token body is "NAME DIR" (DIR absolute) so that recovery can look
 * for NAME in new/, cur/ (where a reader may have moved it, with flags)
 * and tmp/.
 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"

#define NAME_LEN	256

struct maildir {
	char		*dir;		/* absolute, for tokens and messages */
	int		 dfd, tmpfd, newfd;
	/* Finished, in tmp/, not yet synced. */
	char		(*pending)[NAME_LEN];
	size_t		 npending, cappending;
	char		 host[128];
	unsigned	 counter;
	long		 pid;		/* taken once: open runs in the
					 * process that delivers */
	int		 intmp;		/* name was created in tmp/ */
	char		 name[NAME_LEN];
	char		 token[BACKEND_TOKEN_MAX];
	struct wbuf	 w;		/* w.fd -1 when no file is open */
};

/* Makes path (relative to at) unless it exists; shown and sub name it
 * in the message. */
static int
make_dir(int at, const char *path, const char *shown, const char *sub,
    struct error *err)
{
	if (mkdirat(at, path, 0700) == -1 && errno != EEXIST)
		return error_set(err, ERR_CANTCREAT, "%s%s%s: %s", shown,
		    sub != NULL ? "/" : "", sub != NULL ? sub : "",
		    strerror(errno));
	return 0;
}

static int
open_dir(int at, const char *path)
{
	return openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The host part of names: "/" and ":" are written as octal escapes, as
 * the maildir rules ask, and anything odd is dropped. */
static void
host_part(char *out, size_t outlen)
{
	char h[256], *p;
	size_t o = 0;

	if (gethostname(h, sizeof(h)) == -1)
		(void)strlcpy(h, "localhost", sizeof(h));
	h[sizeof(h) - 1] = '\0';
	for (p = h; *p != '\0' && o + 5 < outlen; p++) {
		if (*p == '/' || *p == ':') {
			memcpy(out + o, *p == '/' ? "\\057" : "\\072", 4);
			o += 4;
		} else if (*p > 0x20 && *p < 0x7f)
			out[o++] = *p;
	}
	out[o] = '\0';
	if (o == 0)
		(void)strlcpy(out, "localhost", outlen);
}

static void maildir_close(void *);

static void *
maildir_open(const struct deliver_params *p, struct error *err)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char real[PATH_MAX];
	struct maildir *m;
	size_t i;

	if (make_dir(AT_FDCWD, p->target, p->target, NULL, err) == -1)
		return NULL;
	if (realpath(p->target, real) == NULL) {
		error_set(err, ERR_CANTCREAT, "%s: not a directory",
		    p->target);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->dir = xstrdup(real);
	m->dfd = m->tmpfd = m->newfd = -1;
	m->w.fd = -1;
	if ((m->dfd = open_dir(AT_FDCWD, real)) == -1) {
		error_set(err, ERR_CANTCREAT, "%s: not a directory",
		    p->target);
		goto fail;
	}
	for (i = 0; i < 3; i++)
		if (make_dir(m->dfd, subs[i], real, subs[i], err) == -1)
			goto fail;
	if ((m->tmpfd = open_dir(m->dfd, "tmp")) == -1 ||
	    (m->newfd = open_dir(m->dfd, "new")) == -1) {
		error_set(err, ERR_CANTCREAT, "%s/%s: %s", real,
		    m->tmpfd == -1 ? "tmp" : "new", strerror(errno));
		goto fail;
	}
	m->pid = (long)getpid();
	host_part(m->host, sizeof(m->host));
	return m;
fail:
	maildir_close(m);
	return NULL;
}

static const char *
maildir_prepare(void *h, struct error *err)
{
	struct maildir *m = h;
	struct timeval tv;
	int n;

	m->intmp = 0;
	(void)gettimeofday(&tv, NULL);
	n = snprintf(m->name, sizeof(m->name), "%lld.M%ldP%ldQ%u.%s",
	    (long long)tv.tv_sec, (long)tv.tv_usec, m->pid, ++m->counter,
	    m->host);
	if (n < 0 || (size_t)n >= sizeof(m->name)) {
		error_set(err, ERR_SOFTWARE, "maildir: file name too long");
		return NULL;
	}
	n = snprintf(m->token, sizeof(m->token), "%s %s", m->name, m->dir);
	if (n < 0 || (size_t)n >= sizeof(m->token)) {
		error_set(err, ERR_CANTCREAT, "%s: path too long", m->dir);
		return NULL;
	}
	return m->token;
}

static int
maildir_begin(void *h, const char *sender, struct error *err)
{
	struct maildir *m = h;

	(void)sender;
	m->w.fd = openat(m->tmpfd, m->name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (m->w.fd == -1)
		return error_set(err, errno == ENOSPC ? ERR_IO : ERR_CANTCREAT,
		    "%s/tmp/%s: %s", m->dir, m->name, strerror(errno));
	m->intmp = 1;
	m->w.len = 0;
	return 0;
}

static int
maildir_write(void *h, const char *data, size_t len, struct error *err)
{
	struct maildir *m = h;

	if (wbuf_put(&m->w, data, len) == -1)
		return error_set(err, ERR_IO, "%s/tmp/%s: %s", m->dir,
		    m->name, strerror(errno));
	return 0;
}

static void
maildir_abort(void *h)
{
	struct maildir *m = h;

	if (m == NULL)
		return;
	if (m->w.fd != -1) {
		(void)close(m->w.fd);
		m->w.fd = -1;
	}
	/* Only a file this handle created: never one it collided with. */
	if (m->intmp)
		(void)unlinkat(m->tmpfd, m->name, 0);
	m->intmp = 0;
}

static int
maildir_finish(void *h, struct error *err)
{
	struct maildir *m = h;
	int fd = m->w.fd;

	if (wbuf_flush(&m->w) == -1) {
		error_set(err, ERR_IO, "%s/tmp/%s: %s", m->dir, m->name,
		    strerror(errno));
		maildir_abort(m);
		return -1;
	}
	m->w.fd = -1;
	if (close(fd) == -1) {
		error_set(err, ERR_IO, "%s/tmp/%s: %s", m->dir, m->name,
		    strerror(errno));
		maildir_abort(m);
		return -1;
	}
	if (m->npending == m->cappending) {
		m->cappending = m->cappending ? m->cappending * 2 : 64;
		m->pending = xreallocarray(m->pending, m->cappending,
		    sizeof(*m->pending));
	}
	(void)strlcpy(m->pending[m->npending++], m->name, NAME_LEN);
	m->intmp = 0;
	return 0;
}

/* Removes the finished messages not yet published. */
static void
discard(struct maildir *m)
{
	size_t i;

	for (i = 0; i < m->npending; i++)
		(void)unlinkat(m->tmpfd, m->pending[i], 0);
	m->npending = 0;
}

/* syncfs() flushes every file written to this filesystem at once; where
 * it is missing, each file is fsync'd. */
static int
barrier(struct maildir *m, struct error *err)
{
	size_t i;
	int fd;

	if (syscall(SYS_syncfs, m->tmpfd) == 0)
		return 0;
	for (i = 0; i < m->npending; i++) {
		if ((fd = openat(m->tmpfd, m->pending[i], O_RDONLY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1 || fsync(fd) == -1) {
			error_set(err, ERR_IO, "%s/tmp/%s: %s", m->dir,
			    m->pending[i], strerror(errno));
			if (fd != -1)
				(void)close(fd);
			return -1;
		}
		(void)close(fd);
	}
	return 0;
}

/*
 * One barrier for the whole batch, then each file is renamed into new/
 * and new/ is fsync'd once.
 */
static int
maildir_sync(void *h, size_t *published, struct error *err)
{
	struct maildir *m = h;
	size_t i;

	*published = 0;
	if (m->npending == 0)
		return 0;
	if (barrier(m, err) == -1) {
		discard(m);
		return -1;
	}
	for (i = 0; i < m->npending; i++) {
		if (renameat(m->tmpfd, m->pending[i], m->newfd,
		    m->pending[i]) == -1) {
			error_set(err, ERR_IO, "%s/new/%s: %s", m->dir,
			    m->pending[i], strerror(errno));
			memmove(m->pending, m->pending + i,
			    (m->npending - i) * sizeof(*m->pending));
			m->npending -= i;
			discard(m);
			/* Those already in new/ must be made durable too. */
			*published = fsync(m->newfd) == 0 ? i : 0;
			return -1;
		}
	}
	*published = m->npending;
	m->npending = 0;
	if (fsync(m->newfd) == -1) {
		*published = 0;
		return error_set(err, ERR_IO, "%s/new: fsync: %s", m->dir,
		    strerror(errno));
	}
	return 0;
}

static void
maildir_close(void *h)
{
	struct maildir *m = h;

	if (m == NULL)
		return;
	maildir_abort(m);
	discard(m);
	if (m->dfd != -1)
		(void)close(m->dfd);
	if (m->tmpfd != -1)
		(void)close(m->tmpfd);
	if (m->newfd != -1)
		(void)close(m->newfd);
	free(m->pending);
	free(m->dir);
	free(m);
}

/* Is NAME, or NAME followed by ":" and flags, in dfd's subdirectory
 * sub?  1, 0, or -1 with err. */
static int
present(int dfd, const char *dir, const char *sub, const char *name,
    struct error *err)
{
	size_t n = strlen(name);
	struct dirent *de;
	DIR *d;
	int fd, found = 0;

	if ((fd = open_dir(dfd, sub)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (errno == ENOENT)
			return 0;
		error_set(err, ERR_IO, "%s/%s: %s", dir, sub, strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	while (!found && (de = readdir(d)) != NULL)
		found = strncmp(de->d_name, name, n) == 0 &&
		    (de->d_name[n] == '\0' || de->d_name[n] == ':');
	closedir(d);
	return found;
}

/* One token body "NAME DIR": was NAME published?  Removes its partial
 * file from tmp/ if not. */
static int
recover_one(const char *body, int *delivered, struct error *err)
{
	const char *sp = strchr(body, ' '), *dir;
	char name[NAME_LEN];
	size_t len;
	int dfd, tfd, r;

	*delivered = 0;
	if (sp == NULL || (len = (size_t)(sp - body)) == 0 ||
	    len >= sizeof(name) || memchr(body, '/', len) != NULL ||
	    body[0] == '.')
		return error_set(err, ERR_CONFIG, "bad maildir journal entry");
	memcpy(name, body, len);
	name[len] = '\0';
	dir = sp + 1;
	if ((dfd = open_dir(AT_FDCWD, dir)) == -1) {
		if (errno == ENOENT)
			return 0;	/* the maildir is gone: nothing to do */
		return error_set(err, ERR_IO, "%s: %s", dir, strerror(errno));
	}
	if ((r = present(dfd, dir, "new", name, err)) == 0)
		r = present(dfd, dir, "cur", name, err);
	if (r == 0) {
		/* Never published: remove our partial file, if any. */
		if ((tfd = open_dir(dfd, "tmp")) != -1) {
			if (unlinkat(tfd, name, 0) == -1 && errno != ENOENT)
				r = error_set(err, ERR_IO, "%s/tmp/%s: %s",
				    dir, name, strerror(errno));
			(void)close(tfd);
		} else if (errno != ENOENT)
			r = error_set(err, ERR_IO, "%s/tmp: %s", dir,
			    strerror(errno));
	}
	(void)close(dfd);
	if (r == -1)
		return -1;
	*delivered = r;
	return 0;
}

static int
maildir_recover(const char **bodies, size_t n, int *delivered,
    deliver_warn *warn, void *arg, struct error *err)
{
	size_t i;

	(void)warn;
	(void)arg;
	for (i = 0; i < n; i++)
		if (recover_one(bodies[i], &delivered[i], err) == -1)
			return -1;
	return 0;
}

const struct backend maildir_backend = {
	.name = "maildir",
	.kind = DELIVER_MAILDIR,
	.durable_token = 0,
	.open = maildir_open,
	.prepare = maildir_prepare,
	.begin = maildir_begin,
	.write = maildir_write,
	.finish = maildir_finish,
	.sync = maildir_sync,
	.abort = maildir_abort,
	.close = maildir_close,
	.recover = maildir_recover
};
