/*
 * maildir.c - delivery into a maildir.
 *
 * The maildir rules: write under tmp/ with a name nobody else can pick
 * (time, microseconds, pid, a counter, the host name), fsync, close,
 * rename into new/, fsync new/.  A name never contains server text.
 * The journal token is "maildir NAME DIR" so that recovery can look for
 * NAME in new/, cur/ (where a reader may have moved it, with flags) and
 * tmp/.
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

struct maildir {
	char		*dir;		/* absolute */
	char		(*pending)[256];	/* finished, in tmp/, not synced */
	size_t		 npending, cappending;
	char		 host[128];
	unsigned	 counter;
	long		 pid;		/* taken once: maildir_open runs in
					 * the process that delivers */
	char		 name[256];
	char		 tmp[PATH_MAX];
	char		 token[PATH_MAX + 300];
	struct wbuf	 w;		/* w.fd -1 when no file is open */
};

static int
make_dir(const char *path, struct error *err)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return error_set(err, ERR_CANTCREAT, "%s: %s", path,
		    strerror(errno));
	return 0;
}

struct maildir *
maildir_open(const char *dir, struct error *err)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char path[PATH_MAX], real[PATH_MAX], *p;
	struct maildir *m;
	size_t i, o = 0;
	struct stat sb;

	if (make_dir(dir, err) == -1)
		return NULL;
	if (realpath(dir, real) == NULL || stat(real, &sb) == -1 ||
	    !S_ISDIR(sb.st_mode)) {
		error_set(err, ERR_CANTCREAT, "%s: not a directory", dir);
		return NULL;
	}
	for (i = 0; i < 3; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", real, subs[i]) >=
		    (int)sizeof(path)) {
			error_set(err, ERR_CANTCREAT, "%s: path too long", dir);
			return NULL;
		}
		if (make_dir(path, err) == -1)
			return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->dir = xstrdup(real);
	m->pid = (long)getpid();
	m->w.fd = -1;
	/* The host part: "/" and ":" are written as octal escapes, as the
	 * maildir rules ask, and anything odd is dropped. */
	if (gethostname(path, sizeof(path)) == -1)
		(void)strlcpy(path, "localhost", sizeof(path));
	path[sizeof(path) - 1] = '\0';
	for (p = path; *p != '\0' && o + 5 < sizeof(m->host); p++) {
		if (*p == '/' || *p == ':') {
			memcpy(m->host + o, *p == '/' ? "\\057" : "\\072",
			    4);
			o += 4;
		} else if (*p > 0x20 && *p < 0x7f)
			m->host[o++] = *p;
	}
	m->host[o] = '\0';
	if (o == 0)
		(void)strlcpy(m->host, "localhost", sizeof(m->host));
	return m;
}

const char *
maildir_prepare(struct maildir *m, struct error *err)
{
	struct timeval tv;

	(void)gettimeofday(&tv, NULL);
	(void)snprintf(m->name, sizeof(m->name), "%lld.M%ldP%ldQ%u.%s",
	    (long long)tv.tv_sec, (long)tv.tv_usec, m->pid,
	    ++m->counter, m->host);
	if (snprintf(m->tmp, sizeof(m->tmp), "%s/tmp/%s", m->dir,
	    m->name) >= (int)sizeof(m->tmp)) {
		error_set(err, ERR_CANTCREAT, "%s: path too long", m->dir);
		return NULL;
	}
	(void)snprintf(m->token, sizeof(m->token), "maildir %s %s", m->name,
	    m->dir);
	return m->token;
}

int
maildir_begin(struct maildir *m, struct error *err)
{
	m->w.fd = open(m->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (m->w.fd == -1)
		return error_set(err, errno == ENOSPC ? ERR_IO : ERR_CANTCREAT,
		    "%s: %s", m->tmp, strerror(errno));
	m->w.len = 0;
	return 0;
}

int
maildir_write(struct maildir *m, const char *data, size_t len,
    struct error *err)
{
	if (wbuf_put(&m->w, data, len) == -1)
		return error_set(err, ERR_IO, "%s: %s", m->tmp,
		    strerror(errno));
	return 0;
}

int
maildir_finish(struct maildir *m, struct error *err)
{
	int fd = m->w.fd;

	if (wbuf_flush(&m->w) == -1) {
		error_set(err, ERR_IO, "%s: %s", m->tmp, strerror(errno));
		maildir_abort(m);
		return -1;
	}
	m->w.fd = -1;
	if (close(fd) == -1) {
		error_set(err, ERR_IO, "%s: %s", m->tmp, strerror(errno));
		(void)unlink(m->tmp);
		return -1;
	}
	if (m->npending == m->cappending) {
		m->cappending = m->cappending ? m->cappending * 2 : 64;
		m->pending = xreallocarray(m->pending, m->cappending,
		    sizeof(*m->pending));
	}
	(void)strlcpy(m->pending[m->npending++], m->name, 256);
	m->tmp[0] = '\0';
	return 0;
}

/*
 * One barrier for the whole batch: syncfs() flushes every file written
 * to this filesystem (fsync of each file where syncfs is missing), then
 * each file is renamed into new/ and new/ is fsync'd once.
 */
int
maildir_sync(struct maildir *m, size_t *published, struct error *err)
{
	char from[PATH_MAX], to[PATH_MAX];
	size_t i;
	int fd, r = -1;

	*published = 0;
	if (m->npending == 0)
		return 0;
	(void)snprintf(from, sizeof(from), "%s/tmp", m->dir);
	if ((fd = open(from, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		r = (int)syscall(SYS_syncfs, fd);
		(void)close(fd);
	}
	for (i = 0; r == -1 && i < m->npending; i++) {
		(void)snprintf(from, sizeof(from), "%s/tmp/%s", m->dir,
		    m->pending[i]);
		if ((fd = open(from, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fsync(fd) == -1) {
			error_set(err, ERR_IO, "%s: %s", from, strerror(errno));
			if (fd != -1)
				(void)close(fd);
			maildir_discard(m);
			return -1;
		}
		(void)close(fd);
		if (i + 1 == m->npending)
			r = 0;
	}
	for (i = 0; i < m->npending; i++) {
		(void)snprintf(from, sizeof(from), "%s/tmp/%s", m->dir,
		    m->pending[i]);
		(void)snprintf(to, sizeof(to), "%s/new/%s", m->dir,
		    m->pending[i]);
		if (rename(from, to) == -1) {
			error_set(err, ERR_IO, "%s: %s", to, strerror(errno));
			memmove(m->pending, m->pending + i,
			    (m->npending - i) * sizeof(*m->pending));
			m->npending -= i;
			maildir_discard(m);
			/* Those already in new/ must be made durable too. */
			(void)snprintf(to, sizeof(to), "%s/new", m->dir);
			*published = fsync_dir(to, 1, NULL) == 0 ? i : 0;
			return -1;
		}
	}
	*published = m->npending;
	m->npending = 0;
	(void)snprintf(to, sizeof(to), "%s/new", m->dir);
	if (fsync_dir(to, 1, err) == -1) {
		*published = 0;
		return -1;
	}
	return 0;
}

void
maildir_discard(struct maildir *m)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < m->npending; i++) {
		(void)snprintf(path, sizeof(path), "%s/tmp/%s", m->dir,
		    m->pending[i]);
		(void)unlink(path);
	}
	m->npending = 0;
}

void
maildir_abort(struct maildir *m)
{
	if (m == NULL)
		return;
	if (m->w.fd != -1) {
		(void)close(m->w.fd);
		m->w.fd = -1;
	}
	if (m->tmp[0] != '\0')
		(void)unlink(m->tmp);
	m->tmp[0] = '\0';
}

void
maildir_close(struct maildir *m)
{
	if (m == NULL)
		return;
	if (m->w.fd != -1)
		maildir_abort(m);
	maildir_discard(m);
	free(m->pending);
	free(m->dir);
	free(m);
}

/* Is NAME, or NAME followed by ":" and flags, in dir? */
static int
present(const char *dir, const char *name, struct error *err)
{
	size_t n = strlen(name);
	struct dirent *de;
	DIR *d;
	int found = 0;

	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		return error_set(err, ERR_IO, "%s: %s", dir, strerror(errno));
	}
	while (!found && (de = readdir(d)) != NULL)
		found = strncmp(de->d_name, name, n) == 0 &&
		    (de->d_name[n] == '\0' || de->d_name[n] == ':');
	closedir(d);
	return found;
}

int
maildir_recover(const char *token, int *delivered, struct error *err)
{
	const char *sp = strchr(token, ' ');
	char name[256], path[PATH_MAX];
	int r;

	if (sp == NULL || (size_t)(sp - token) >= sizeof(name) ||
	    memchr(token, '/', (size_t)(sp - token)) != NULL)
		return error_set(err, ERR_CONFIG, "bad maildir journal entry");
	memcpy(name, token, (size_t)(sp - token));
	name[sp - token] = '\0';
	(void)snprintf(path, sizeof(path), "%s/new", sp + 1);
	if ((r = present(path, name, err)) == -1)
		return -1;
	if (r == 0) {
		(void)snprintf(path, sizeof(path), "%s/cur", sp + 1);
		if ((r = present(path, name, err)) == -1)
			return -1;
	}
	*delivered = r;
	if (!r) {
		/* Never published: remove our partial file, if any. */
		(void)snprintf(path, sizeof(path), "%s/tmp/%s", sp + 1, name);
		if (unlink(path) == -1 && errno != ENOENT)
			return error_set(err, ERR_IO, "%s: %s", path,
			    strerror(errno));
	}
	return 0;
}
