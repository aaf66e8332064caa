/*
 * mbox.c - the mbox backend (backend.h): mboxrd format.
 *
 * The directory is opened once and the mbox and its dot-lock are
 * opened relative to it, so their names are never built into a path
 * that could be cut short (a cut "PATH.lock" would be the mbox itself).
 *
 * Locking: a dot-lock (NAME.lock beside it) and an fcntl write lock,
 * as mutt, procmail and Dovecot expect; both are held for as long as the
 * mbox is open.  The dot-lock is written whole before it appears (an
 * O_TMPFILE linked into place; O_EXCL where that is not possible) and
 * says "PID popfetch HOST".  The shared convention decides what is
 * stale: a lock of another program only after five minutes without
 * change, whatever it holds (procmail and mutt write empty ones); one
 * of popfetch on this host as soon as its process is gone.  popfetch
 * touches its own lock while it holds it, so that nobody takes it for
 * stale, and removes it only if it is still the one it made.
 *
 * The mbox is opened without following a link, relative to its
 * directory, and checked (safefile.h); it and its missing parents are
 * made only when the first message arrives, and root gives what it
 * makes to the owner of the directory.
 *
 * Quoting (mboxrd): a line that matches ^>*From  gets one more ">", so
 * reading reverses it exactly.  Each message starts with a From line
 * and ends with an empty line.
 *
 * Crash safety: the token body "OFFSET PATH" (PATH absolute) is
 * journalled, durably, before the first byte is written at OFFSET.
 * After a crash, the bytes from OFFSET are ours up to the next line
 * that starts with "From " (our own such lines are quoted).  If nothing
 * follows them, they are removed by truncating to OFFSET; if another
 * program appended after them, nothing is removed, the message is
 * reported and fetched again.
 */
/* O_TMPFILE (Linux); elsewhere the dot-lock is made the old way. */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "safefile.h"

#define STALE_SECONDS	300
#define TOUCH_SECONDS	30
#define LOCK_SIG	"popfetch"

struct mbox {
	char		*path;		/* absolute, for tokens and messages */
	int		 dfd;		/* the directory holding it */
	char		*name;		/* its name in dfd */
	char		*lockname;	/* NAME.lock */
	int		 dotlocked;
	int		 lfd;		/* our dot-lock, to touch and to
					 * recognise, or -1 */
	time_t		 touched;
	struct stat	 dsb;		/* the directory, for ownership */
	size_t		 unsure;	/* see backend.h */
	int		 timeout;
	int		 opened;	/* the file is open and locked */
	off_t		 offset;	/* where the current message starts */
	off_t		 batch;		/* where the unsynced messages start */
	size_t		 npending;	/* finished, not yet fsync'd */
	int		 bol;		/* at the start of a line */
	char		 last;		/* last byte written */
	unsigned long long gt;		/* ">" at the line start so far */
	size_t		 fm;		/* then bytes of "From " matched */
	char		 token[BACKEND_TOKEN_MAX];
	struct wbuf	 w;
};

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

/* Our host name, for the dot-lock's content. */
static void
lock_host(char *h, size_t len)
{
	size_t i;

	if (gethostname(h, len) == -1)
		(void)strlcpy(h, "localhost", len);
	h[len - 1] = '\0';
	for (i = 0; h[i] != '\0'; i++)
		if (h[i] <= 0x20 || h[i] >= 0x7f)
			h[i] = '_';
}

/* 1 if the dot-lock name in dfd belongs to nobody any more. */
static int
dotlock_stale(int dfd, const char *name)
{
	char buf[320], host[256], *p, *end;
	struct stat sb;
	ssize_t n;
	long pid;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT;
	n = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ?
	    read(fd, buf, sizeof(buf) - 1) : -1;
	(void)close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	/* One of ours, on this host, whose process is gone. */
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (end != buf && errno == 0 && pid > 0 &&
	    strncmp(end, " " LOCK_SIG " ", sizeof(LOCK_SIG) + 1) == 0) {
		p = end + sizeof(LOCK_SIG) + 1;
		lock_host(host, sizeof(host));
		if (strncmp(p, host, strlen(host)) == 0 &&
		    p[strlen(host)] == '\n')
			return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
	}
	/* Anyone else's: five minutes without change (its modification
	 * time, which holders refresh, as procmail's lockfile does). */
	return time(NULL) - sb.st_mtime > STALE_SECONDS;
}

/*
 * Makes the dot-lock, whole: its content is written before its name
 * appears, so no other run ever sees it empty.  Returns 0, -1 with
 * errno (EEXIST: someone holds it).
 */
static int
dotlock_make(struct mbox *m)
{
	char buf[320], host[256], proc[64];
	int fd, n, e;

	lock_host(host, sizeof(host));
	n = snprintf(buf, sizeof(buf), "%ld " LOCK_SIG " %s\n",
	    (long)getpid(), host);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
#ifdef O_TMPFILE
	fd = openat(m->dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
	if (fd != -1) {
		if (write(fd, buf, (size_t)n) != n) {
			e = errno;
			(void)close(fd);
			errno = e;
			return -1;
		}
		(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, proc, m->dfd, m->lockname,
		    AT_SYMLINK_FOLLOW) == 0)
			goto made;
		e = errno;
		(void)close(fd);
		errno = e;
		if (e != ENOENT)	/* ENOENT: no /proc */
			return -1;
	} else if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -1;
#else
	(void)proc;
#endif
	/* Without O_TMPFILE: made empty, then written. */
	fd = openat(m->dfd, m->lockname, O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (write(fd, buf, (size_t)n) != n) {
		e = errno;
		(void)unlinkat(m->dfd, m->lockname, 0);
		(void)close(fd);
		errno = e;
		return -1;
	}
made:
	m->lfd = fd;
	m->dotlocked = 1;
	m->touched = time(NULL);
	return 0;
}

/* Whether the dot-lock under our lock's name is still the one we made. */
static int
dotlock_ours(const struct mbox *m)
{
	struct stat a, b;

	return m->lfd != -1 && fstat(m->lfd, &a) == 0 &&
	    fstatat(m->dfd, m->lockname, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Keeps our dot-lock fresh while we hold it (see the top). */
static void
dotlock_touch(struct mbox *m)
{
	time_t now = time(NULL);

	if (m->lfd == -1 || now - m->touched < TOUCH_SECONDS)
		return;
	(void)futimens(m->lfd, NULL);
	m->touched = now;
}

static void
dotlock_drop(struct mbox *m)
{
	if (m->dotlocked && dotlock_ours(m))
		(void)unlinkat(m->dfd, m->lockname, 0);
	m->dotlocked = 0;
	if (m->lfd != -1)
		(void)close(m->lfd);
	m->lfd = -1;
}

static int
lock_file(struct mbox *m, int timeout, struct error *err)
{
	struct flock fl;
	long waited = 0;

	for (;;) {
		if (dotlock_make(m) == 0)
			break;
		if (errno == EACCES || errno == EROFS)
			break;	/* no dot-locks possible here: fcntl only */
		if (errno != EEXIST)
			return error_set(err, safefile_class(errno),
			    "%s.lock: %s", m->path, strerror(errno));
		if (dotlock_stale(m->dfd, m->lockname)) {
			(void)unlinkat(m->dfd, m->lockname, 0);
			continue;
		}
		if (waited >= timeout * 1000L)
			return error_set(err, ERR_LOCKED, "%s: locked by "
			    "another program (%s.lock exists; it is taken "
			    "for stale after five minutes without change)",
			    m->path, m->path);
		sleep_ms(100);
		waited += 100;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	while (fcntl(m->w.fd, F_SETLK, &fl) == -1) {
		if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
			error_set(err, ERR_IO, "%s: lock: %s", m->path,
			    strerror(errno));
			goto fail;
		}
		if (waited >= timeout * 1000L) {
			error_set(err, ERR_LOCKED, "%s: locked by another "
			    "program", m->path);
			goto fail;
		}
		sleep_ms(100);
		waited += 100;
	}
	return 0;
fail:
	dotlock_drop(m);
	return -1;
}

static void mbox_close(void *);

static struct mbox *
mbox_new(const char *path, int timeout, struct error *err)
{
	const char *slash = strrchr(path, '/');
	struct mbox *m;
	size_t len;

	if (slash == NULL) {
		error_set(err, ERR_SOFTWARE, "%s: not an absolute path", path);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->path = xstrdup(path);
	m->dfd = m->w.fd = m->lfd = -1;
	m->timeout = timeout;
	m->name = xstrdup(slash + 1);
	len = strlen(m->name);
	/* The dot-lock's name must fit beside the mbox's. */
	if (len == 0 || len + 5 > NAME_MAX) {
		error_set(err, ERR_CANTCREAT, "%s: %s", path, len == 0 ?
		    strerror(EISDIR) : "file name too long for its dot-lock");
		mbox_close(m);
		return NULL;
	}
	m->lockname = xmalloc(len + 6);
	memcpy(m->lockname, m->name, len);
	memcpy(m->lockname + len, ".lock", 6);
	return m;
}

/* Opens (ELOOP: a planted link) the mbox name in m->dfd. */
static int
open_mbox(struct mbox *m, int flags, struct error *err)
{
	m->w.fd = openat(m->dfd, m->name, O_RDWR | O_NOFOLLOW | O_CLOEXEC |
	    flags, 0600);
	if (m->w.fd != -1)
		return 0;
	if (errno == ELOOP)
		return error_set(err, ERR_CANTCREAT, "%s: is a symbolic link; "
		    "refusing to follow it (remove it or name the real file)",
		    m->path);
	return error_set(err, safefile_class(errno), "%s: %s", m->path,
	    strerror(errno));
}

/*
 * Opens the mbox, checks it and locks it.  create: make it and its
 * parents if they are missing (the first message), else return 1 when
 * something is missing (nothing to deliver into, or undo, yet).
 */
static int
attach(struct mbox *m, int create, struct error *err)
{
	const char *slash = strrchr(m->path, '/');
	char *dir;
	int made = 0;

	if (create && safefile_mkparents(m->path, err) == -1)
		return -1;
	dir = xstrndup(m->path, slash == m->path ? 1 :
	    (size_t)(slash - m->path));
	if (m->dfd == -1)
		m->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->dfd == -1) {
		if (errno == ENOENT && !create) {
			free(dir);
			return 1;
		}
		error_set(err, safefile_class(errno), "%s: %s", m->path,
		    strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	if (fstat(m->dfd, &m->dsb) == -1)
		return error_set(err, safefile_class(errno), "%s: %s",
		    m->path, strerror(errno));
	if (create) {
		if (open_mbox(m, O_CREAT | O_EXCL, err) == 0)
			made = 1;
		else if (errno != EEXIST)
			return -1;
	}
	if (!made && open_mbox(m, 0, err) == -1)
		return !create && errno == ENOENT ? 1 : -1;
	if (made && (safefile_chown(m->w.fd, &m->dsb, m->name, m->path,
	    err) == -1 ||
	    fsync(m->dfd) == -1)) {
		if (err->cls == ERR_NONE)
			error_set(err, safefile_class(errno), "%s: %s",
			    m->path, strerror(errno));
		(void)unlinkat(m->dfd, m->name, 0);
		return -1;
	}
	if (safefile_check(m->w.fd, &m->dsb, m->name, 0, m->path, err) == -1)
		return -1;
	if (lock_file(m, m->timeout, err) == -1)
		return -1;
	m->opened = 1;
	return 0;
}

/* Opens the mbox at the absolute path and locks it, for recovery: a
 * missing mbox or directory sets *missing (nothing to undo). */
static struct mbox *
open_locked(const char *path, int timeout, int *missing, struct error *err)
{
	struct mbox *m;
	int r;

	*missing = 0;
	if ((m = mbox_new(path, timeout, err)) == NULL)
		return NULL;
	if ((r = attach(m, 0, err)) != 0) {
		*missing = r == 1;
		mbox_close(m);
		return NULL;
	}
	return m;
}

static void *
mbox_open(const struct deliver_params *p, struct error *err)
{
	char real[PATH_MAX], dir[PATH_MAX];
	const char *path = p->target;
	struct mbox *m;
	int n, r;

	/* Keep the absolute path in tokens, so recovery works from
	 * anywhere. */
	if (path[0] != '/') {
		if (getcwd(dir, sizeof(dir)) == NULL)
			return error_set(err, safefile_class(errno),
			    "getcwd: %s", strerror(errno)), NULL;
		n = snprintf(real, sizeof(real), "%s/%s", dir, path);
		if (n < 0 || (size_t)n >= sizeof(real))
			return error_set(err, ERR_CANTCREAT, "%s: path too "
			    "long", path), NULL;
		path = real;
	}
	if ((m = mbox_new(path, p->lock_timeout, err)) == NULL)
		return NULL;
	if ((r = attach(m, 0, err)) == -1) {
		mbox_close(m);
		return NULL;
	}
	if (r == 1) {
		/* Made with the first message. */
		if (m->dfd != -1)
			(void)close(m->dfd);
		m->dfd = -1;
		err->cls = ERR_NONE;
	}
	return m;
}

static const char *
mbox_prepare(void *h, struct error *err)
{
	struct mbox *m = h;
	int n;

	if (!m->opened && attach(m, 1, err) == -1)
		return NULL;
	dotlock_touch(m);
	if ((m->offset = lseek(m->w.fd, 0, SEEK_END)) == -1) {
		error_set(err, ERR_IO, "%s: %s", m->path, strerror(errno));
		return NULL;
	}
	m->w.len = 0;
	m->bol = 1;
	m->gt = 0;
	m->fm = 0;
	m->last = '\n';
	n = snprintf(m->token, sizeof(m->token), "%lld %s",
	    (long long)m->offset, m->path);
	if (n < 0 || (size_t)n >= sizeof(m->token)) {
		error_set(err, ERR_CANTCREAT, "%s: path too long", m->path);
		return NULL;
	}
	return m->token;
}

static int
put(struct mbox *m, const char *data, size_t len, struct error *err)
{
	if (len == 0)
		return 0;
	if (wbuf_put(&m->w, data, len) == -1)
		return error_set(err, ERR_IO, "%s: %s", m->path,
		    strerror(errno));
	m->last = data[len - 1];
	return 0;
}

static int
mbox_begin(void *h, const char *sender, struct error *err)
{
	char tail[2] = { 0, 0 }, line[512], date[64];
	struct mbox *m = h;
	const char *sep = "";
	time_t now = time(NULL);
	ssize_t n = 0;
	int len;

	/* A From line must follow an empty line. */
	if (m->offset >= 2)
		n = pread(m->w.fd, tail, 2, m->offset - 2);
	else if (m->offset == 1)
		n = pread(m->w.fd, tail + 1, 1, 0);
	if (n < 0)
		return error_set(err, ERR_IO, "%s: %s", m->path,
		    strerror(errno));
	if (m->offset > 0 && tail[1] != '\n')
		sep = "\n\n";
	else if (m->offset > 1 && tail[0] != '\n')
		sep = "\n";
	(void)strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y",
	    localtime(&now));
	len = snprintf(line, sizeof(line), "%sFrom %s %s\n", sep, sender,
	    date);
	if (len < 0 || (size_t)len >= sizeof(line))
		return error_set(err, ERR_SOFTWARE, "mbox: From line too long");
	return put(m, line, (size_t)len, err);
}

/* Writes n ">" (a run at a line start, however long). */
static int
put_gt(struct mbox *m, unsigned long long n, struct error *err)
{
	static const char gts[64] =
	    ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>";
	size_t k;

	while (n > 0) {
		k = n < sizeof(gts) ? (size_t)n : sizeof(gts);
		if (put(m, gts, k, err) == -1)
			return -1;
		n -= k;
	}
	return 0;
}

/*
 * Writes the line start judged so far (m->gt ">" and m->fm bytes of
 * "From "), with one more ">" if quote; the line goes on unjudged.
 */
static int
flush_start(struct mbox *m, int quote, struct error *err)
{
	if (put_gt(m, m->gt + (quote ? 1 : 0), err) == -1 ||
	    put(m, "From ", m->fm, err) == -1)
		return -1;
	m->bol = 0;
	m->gt = 0;
	m->fm = 0;
	return 0;
}

/*
 * mboxrd: a line matching ^>*From  gets one more ">".  A line start is
 * judged byte by byte, across calls, however long its run of ">" and
 * wherever the network cut it; only a count is kept, never the bytes.
 */
static int
mbox_write(void *h, const char *data, size_t len, struct error *err)
{
	struct mbox *m = h;
	const char *nl;
	size_t n;

	dotlock_touch(m);
	while (len > 0) {
		if (m->bol) {
			if (m->fm == 0 && *data == '>') {
				m->gt++;
				data++;
				len--;
				continue;
			}
			if (*data == "From "[m->fm]) {
				data++;
				len--;
				if (++m->fm == 5 &&
				    flush_start(m, 1, err) == -1)
					return -1;
				continue;
			}
			if (flush_start(m, 0, err) == -1)
				return -1;
		}
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) + 1 : len;
		if (put(m, data, n, err) == -1)
			return -1;
		m->bol = nl != NULL;
		data += n;
		len -= n;
	}
	return 0;
}

static void
mbox_abort(void *h)
{
	struct mbox *m = h;

	if (m == NULL)
		return;
	m->w.len = 0;
	m->gt = 0;
	m->fm = 0;
	m->unsure = 0;
	if (m->w.fd == -1)
		return;
	/* We hold the lock, so everything past offset is ours.  If it
	 * cannot be cut off, the message stays pending (backend.h). */
	if (ftruncate(m->w.fd, m->offset) == -1 || fsync(m->w.fd) == -1)
		m->unsure = 1;
}

static int
mbox_finish(void *h, struct error *err)
{
	struct mbox *m = h;

	if (m->bol && (m->gt > 0 || m->fm > 0) &&
	    flush_start(m, 0, err) == -1)
		goto fail;
	if (m->last != '\n' && put(m, "\n", 1, err) == -1)
		goto fail;
	if (put(m, "\n", 1, err) == -1)
		goto fail;
	if (wbuf_flush(&m->w) == -1) {
		error_set(err, ERR_IO, "%s: %s", m->path, strerror(errno));
		goto fail;
	}
	if (m->npending++ == 0)
		m->batch = m->offset;
	return 0;
fail:
	mbox_abort(m);
	return -1;
}

/* Removes the finished messages not yet synced. */
static void
discard(struct mbox *m)
{
	/* We hold the lock: everything from the batch on is ours. */
	if (m->npending > 0 && (ftruncate(m->w.fd, m->batch) == -1 ||
	    fsync(m->w.fd) == -1))
		m->unsure = m->npending;
	m->npending = 0;
}

static size_t
mbox_unsure(void *h)
{
	struct mbox *m = h;

	return m->unsure;
}

static int
mbox_sync(void *h, size_t *published, struct error *err)
{
	struct mbox *m = h;

	*published = 0;
	m->unsure = 0;
	if (m->npending == 0)
		return 0;
	dotlock_touch(m);
	if (fsync(m->w.fd) == -1) {
		error_set(err, ERR_IO, "%s: %s", m->path, strerror(errno));
		discard(m);
		return -1;
	}
	*published = m->npending;
	m->npending = 0;
	return 0;
}

static void
mbox_close(void *h)
{
	struct mbox *m = h;

	if (m == NULL)
		return;
	if (m->w.fd != -1) {
		discard(m);
		(void)close(m->w.fd);	/* releases the fcntl lock */
	}
	dotlock_drop(m);
	if (m->dfd != -1)
		(void)close(m->dfd);
	free(m->path);
	free(m->name);
	free(m->lockname);
	free(m);
}

/*
 * After a crash: offs[0..n) (ascending) are where the messages of the
 * unfinished batch start in path, all written by popfetch under its
 * lock.  A "From " line that starts at one of them (after at most two
 * padding newlines) is ours; any other is another program's, appended
 * after the crash.  If there is none, everything from offs[0] is ours
 * and is cut off; otherwise nothing is removed and warn says so.
 */
#define NOTE_FMT	"%s: a partial message remains at byte %lld " \
	"(another program appended after popfetch was interrupted); that " \
	"message is fetched again"

static int
recover_file(const char *path, const off_t *offs, size_t n,
    deliver_warn *warn, void *arg, struct error *err)
{
	char buf[65536], *note;
	struct mbox *m;
	struct stat sb;
	off_t pos, foreign = -1, off = offs[0];
	size_t k;
	ssize_t got, i;
	int bol = 1, r = 0, missing, len;

	if ((m = open_locked(path, 10, &missing, err)) == NULL)
		return missing ? 0 : -1;	/* gone: nothing to undo */
	if (fstat(m->w.fd, &sb) == -1) {
		r = error_set(err, ERR_IO, "%s: %s", m->path, strerror(errno));
		goto out;
	}
	if (sb.st_size <= off)
		goto out;	/* nothing of ours is there */
	for (pos = off; foreign == -1 &&
	    (got = pread(m->w.fd, buf, sizeof(buf), pos)) > 0; pos += got) {
		for (i = 0; i < got; i++) {
			if (bol && buf[i] == 'F') {
				char f5[5];
				int ours = 0;

				for (k = 0; k < n && !ours; k++)
					ours = pos + i >= offs[k] &&
					    pos + i <= offs[k] + 2;
				if (!ours &&
				    pread(m->w.fd, f5, 5, pos + i) == 5 &&
				    memcmp(f5, "From ", 5) == 0) {
					foreign = pos + i;
					break;
				}
			}
			bol = buf[i] == '\n';
		}
	}
	if (foreign == -1) {
		/* Only our bytes: roll them back. */
		if (ftruncate(m->w.fd, off) == -1 || fsync(m->w.fd) == -1)
			r = error_set(err, ERR_IO, "%s: %s", m->path,
			    strerror(errno));
		goto out;
	}
	/*
	 * Someone appended after us, so our bytes cannot be cut off.  Taking
	 * a partial message for delivered would lose mail: fetch again.
	 */
	len = snprintf(NULL, 0, NOTE_FMT, m->path, (long long)off);
	if (len < 0) {
		r = error_set(err, ERR_SOFTWARE, "mbox: snprintf failed");
		goto out;
	}
	note = xmalloc((size_t)len + 1);
	(void)snprintf(note, (size_t)len + 1, NOTE_FMT, m->path,
	    (long long)off);
	warn(arg, note);
	free(note);
out:
	mbox_close(m);
	return r;
}

/* Splits a token body "OFFSET PATH"; -1 if it is not one. */
static int
parse_body(const char *body, off_t *off, const char **path)
{
	const char *sp = strchr(body, ' '), *errstr;
	char num[32];
	size_t len;

	if (sp == NULL || (len = (size_t)(sp - body)) >= sizeof(num) ||
	    sp[1] != '/')
		return -1;
	memcpy(num, body, len);
	num[len] = '\0';
	*off = (off_t)strtonum(num, 0, LLONG_MAX, &errstr);
	*path = sp + 1;
	return errstr == NULL ? 0 : -1;
}

/*
 * All unfinished messages of one mbox are undone together, from the
 * first one's offset; none of them counts as delivered: they are
 * fetched again.  Bodies naming other files (the target changed
 * between runs) are handled file by file.
 */
static int
mbox_recover(const char **bodies, size_t n, int *delivered,
    deliver_warn *warn, void *arg, struct error *err)
{
	off_t *offs = xcalloc(n, sizeof(off_t)), *grp = xcalloc(n,
	    sizeof(off_t)), off;
	const char **paths = xcalloc(n, sizeof(char *)), *path;
	int *done = xcalloc(n, sizeof(int)), r = 0;
	size_t i, j, no;

	for (i = 0; i < n && r == 0; i++) {
		delivered[i] = 0;
		if (parse_body(bodies[i], &offs[i], &paths[i]) == -1)
			r = error_set(err, ERR_CONFIG,
			    "bad mbox journal entry");
	}
	for (i = 0; i < n && r == 0; i++) {
		if (done[i])
			continue;
		path = paths[i];
		off = offs[i];
		for (j = i, no = 0; j < n; j++) {
			if (done[j] || strcmp(paths[j], path) != 0)
				continue;
			done[j] = 1;
			/* Journal order is file order, but be sure. */
			if (offs[j] < off)
				off = offs[j];
			grp[no++] = offs[j];
		}
		grp[0] = off;
		r = recover_file(path, grp, no, warn, arg, err);
	}
	free(offs);
	free(grp);
	free(paths);
	free(done);
	return r;
}

const struct backend mbox_backend = {
	.name = "mbox",
	.kind = DELIVER_MBOX,
	/* A partial tail without its journal record would stay in the
	 * file after a power loss and be taken for a message. */
	.durable_token = 1,
	.open = mbox_open,
	.prepare = mbox_prepare,
	.begin = mbox_begin,
	.write = mbox_write,
	.finish = mbox_finish,
	.sync = mbox_sync,
	.abort = mbox_abort,
	.unsure = mbox_unsure,
	.close = mbox_close,
	.recover = mbox_recover
};
