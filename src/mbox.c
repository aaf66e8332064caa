/*
 * mbox.c - the mbox backend (backend.h): mboxrd format.
 *
 * The directory is opened once and the mbox and its dot-lock are
 * opened relative to it, so their names are never built into a path
 * that could be cut short (a cut "PATH.lock" would be the mbox itself).
 *
 * Locking: a dot-lock (NAME.lock beside it, created with O_EXCL,
 * holding our pid) and an fcntl write lock, as mutt, procmail and
 * Dovecot expect; both are held for as long as the mbox is open.  A
 * dot-lock whose process is gone, or older than five minutes, is stale
 * and removed.
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

#define STALE_SECONDS	300

struct mbox {
	char		*path;		/* absolute, for tokens and messages */
	int		 dfd;		/* the directory holding it */
	char		*name;		/* its name in dfd */
	char		*lockname;	/* NAME.lock */
	int		 dotlocked;
	off_t		 offset;	/* where the current message starts */
	off_t		 batch;		/* where the unsynced messages start */
	size_t		 npending;	/* finished, not yet fsync'd */
	int		 bol;		/* at the start of a line */
	char		 last;		/* last byte written */
	size_t		 carry_len;	/* a line start too short to judge */
	char		 carry[4096];
	char		 token[BACKEND_TOKEN_MAX];
	struct wbuf	 w;
};

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

/* 1 if the dot-lock name in dfd belongs to nobody any more. */
static int
dotlock_stale(int dfd, const char *name)
{
	struct stat sb;
	char buf[32];
	ssize_t n;
	long pid;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	if (fstat(fd, &sb) == -1)
		sb.st_mtime = time(NULL);
	(void)close(fd);
	if (time(NULL) - sb.st_mtime > STALE_SECONDS)
		return 1;
	if (n <= 0) {
		/* A holder writes its pid right after creating the file; an
		 * empty lock more than a second old lost its holder in
		 * between (kill -9). */
		struct timespec now;

		(void)clock_gettime(CLOCK_REALTIME, &now);
		return (now.tv_sec - sb.st_mtim.tv_sec) * 1000000000LL +
		    (now.tv_nsec - sb.st_mtim.tv_nsec) > 1000000000LL;
	}
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	return pid > 0 && kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

static int
lock_file(struct mbox *m, int timeout, struct error *err)
{
	struct flock fl;
	char pid[32];
	long waited = 0;
	int lfd, n;

	for (;;) {
		lfd = openat(m->dfd, m->lockname, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0644);
		if (lfd != -1) {
			n = snprintf(pid, sizeof(pid), "%ld\n",
			    (long)getpid());
			if (n > 0 && (size_t)n < sizeof(pid))
				(void)write(lfd, pid, (size_t)n);
			(void)close(lfd);
			m->dotlocked = 1;
			break;
		}
		if (errno == EACCES || errno == EROFS)
			break;	/* no dot-locks possible here: fcntl only */
		if (errno != EEXIST)
			return error_set(err, ERR_CANTCREAT, "%s.lock: %s",
			    m->path, strerror(errno));
		if (dotlock_stale(m->dfd, m->lockname)) {
			(void)unlinkat(m->dfd, m->lockname, 0);
			continue;
		}
		if (waited >= timeout * 1000L)
			return error_set(err, ERR_LOCKED, "%s: locked by "
			    "another program (%s.lock exists)", m->path,
			    m->path);
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
	if (m->dotlocked)
		(void)unlinkat(m->dfd, m->lockname, 0);
	m->dotlocked = 0;
	return -1;
}

static void mbox_close(void *);

/*
 * Opens the mbox at the absolute path and locks it.  create: make it if
 * it is missing (delivery), else a missing mbox or directory sets
 * *missing (recovery: nothing to undo).
 */
static struct mbox *
open_locked(const char *path, int create, int timeout, int *missing,
    struct error *err)
{
	const char *slash = strrchr(path, '/');
	struct mbox *m;
	struct stat sb;
	char *dir;
	size_t len;

	*missing = 0;
	if (slash == NULL) {
		error_set(err, ERR_SOFTWARE, "%s: not an absolute path", path);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->path = xstrdup(path);
	m->dfd = m->w.fd = -1;
	m->name = xstrdup(slash + 1);
	len = strlen(m->name);
	/* The dot-lock's name must fit beside the mbox's. */
	if (len == 0 || len + 5 > NAME_MAX) {
		error_set(err, ERR_CANTCREAT, "%s: %s", path, len == 0 ?
		    strerror(EISDIR) : "file name too long for its dot-lock");
		goto fail;
	}
	m->lockname = xmalloc(len + 6);
	memcpy(m->lockname, m->name, len);
	memcpy(m->lockname + len, ".lock", 6);
	dir = xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	m->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->dfd == -1) {
		*missing = errno == ENOENT;
		error_set(err, ERR_CANTCREAT, "%s: %s", dir, strerror(errno));
		free(dir);
		goto fail;
	}
	free(dir);
	m->w.fd = openat(m->dfd, m->name, O_RDWR | O_CLOEXEC |
	    (create ? O_CREAT : 0), 0600);
	if (m->w.fd == -1 || fstat(m->w.fd, &sb) == -1 ||
	    !S_ISREG(sb.st_mode)) {
		*missing = m->w.fd == -1 && errno == ENOENT;
		error_set(err, create ? ERR_CANTCREAT : ERR_IO, "%s: %s", path,
		    m->w.fd == -1 ? strerror(errno) : "not a regular file");
		goto fail;
	}
	if (lock_file(m, timeout, err) == -1)
		goto fail;
	return m;
fail:
	mbox_close(m);
	return NULL;
}

static void *
mbox_open(const struct deliver_params *p, struct error *err)
{
	char real[PATH_MAX], dir[PATH_MAX];
	const char *path = p->target;
	int missing, n;

	/* Keep the absolute path in tokens, so recovery works from
	 * anywhere. */
	if (path[0] != '/') {
		if (getcwd(dir, sizeof(dir)) == NULL)
			return error_set(err, ERR_CANTCREAT, "getcwd: %s",
			    strerror(errno)), NULL;
		n = snprintf(real, sizeof(real), "%s/%s", dir, path);
		if (n < 0 || (size_t)n >= sizeof(real))
			return error_set(err, ERR_CANTCREAT, "%s: path too "
			    "long", path), NULL;
		path = real;
	}
	return open_locked(path, 1, p->lock_timeout, &missing, err);
}

static const char *
mbox_prepare(void *h, struct error *err)
{
	struct mbox *m = h;
	int n;

	if ((m->offset = lseek(m->w.fd, 0, SEEK_END)) == -1) {
		error_set(err, ERR_IO, "%s: %s", m->path, strerror(errno));
		return NULL;
	}
	m->w.len = 0;
	m->bol = 1;
	m->carry_len = 0;
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

/* How a line start reads: 1 needs quoting, 0 does not, -1 undecided
 * (the bytes so far are a prefix of ">*From "). */
static int
needs_quote(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] == '>')
		i++;
	if (len - i >= 5)
		return memcmp(s + i, "From ", 5) == 0;
	if (memchr(s + i, '\n', len - i) != NULL)
		return 0;
	return memcmp(s + i, "From ", len - i) == 0 ? -1 : 0;
}

/*
 * Writes whole lines, quoting those that need it, and stops before a
 * line start that cannot be judged yet.  Returns the bytes consumed, or
 * -1 with err.
 */
static ssize_t
write_lines(struct mbox *m, const char *data, size_t len, struct error *err)
{
	const char *p = data, *nl;
	size_t n, left = len;

	while (left > 0) {
		if (m->bol) {
			int q = needs_quote(p, left);

			if (q == -1)
				break;
			if (q == 1 && put(m, ">", 1, err) == -1)
				return -1;
		}
		nl = memchr(p, '\n', left);
		n = nl != NULL ? (size_t)(nl - p) + 1 : left;
		if (put(m, p, n, err) == -1)
			return -1;
		m->bol = nl != NULL;
		p += n;
		left -= n;
	}
	return (ssize_t)(p - data);
}

/* Writes an undecided line start as it is: thousands of ">" and no
 * "From " in sight. */
static int
flush_carry(struct mbox *m, struct error *err)
{
	m->bol = 0;
	if (put(m, m->carry, m->carry_len, err) == -1)
		return -1;
	m->carry_len = 0;
	return 0;
}

static int
mbox_write(void *h, const char *data, size_t len, struct error *err)
{
	struct mbox *m = h;
	ssize_t used;
	size_t take;

	while (len > 0) {
		if (m->carry_len == 0) {
			if ((used = write_lines(m, data, len, err)) == -1)
				return -1;
			data += used;
			len -= (size_t)used;
			if (len == 0)
				return 0;
			/* An undecided line start: it has no LF, so it is
			 * all that is left. */
			if (len >= sizeof(m->carry)) {
				memcpy(m->carry, data, sizeof(m->carry));
				m->carry_len = sizeof(m->carry);
				data += sizeof(m->carry);
				len -= sizeof(m->carry);
				if (flush_carry(m, err) == -1)
					return -1;
				continue;
			}
			memcpy(m->carry, data, len);
			m->carry_len = len;
			return 0;
		}
		/* Complete the undecided line start with new bytes. */
		take = sizeof(m->carry) - m->carry_len;
		if (take > len)
			take = len;
		memcpy(m->carry + m->carry_len, data, take);
		m->carry_len += take;
		data += take;
		len -= take;
		if ((used = write_lines(m, m->carry, m->carry_len, err)) == -1)
			return -1;
		memmove(m->carry, m->carry + used, m->carry_len - (size_t)used);
		m->carry_len -= (size_t)used;
		if (m->carry_len == sizeof(m->carry) &&
		    flush_carry(m, err) == -1)
			return -1;
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
	m->carry_len = 0;
	/* We hold the lock, so everything past offset is ours. */
	(void)ftruncate(m->w.fd, m->offset);
	(void)fsync(m->w.fd);
}

static int
mbox_finish(void *h, struct error *err)
{
	struct mbox *m = h;

	if (m->carry_len > 0 && flush_carry(m, err) == -1)
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
	if (m->npending > 0) {
		(void)ftruncate(m->w.fd, m->batch);
		(void)fsync(m->w.fd);
	}
	m->npending = 0;
}

static int
mbox_sync(void *h, size_t *published, struct error *err)
{
	struct mbox *m = h;

	*published = 0;
	if (m->npending == 0)
		return 0;
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
	if (m->dotlocked)
		(void)unlinkat(m->dfd, m->lockname, 0);
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

	if ((m = open_locked(path, 0, 10, &missing, err)) == NULL)
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
	.close = mbox_close,
	.recover = mbox_recover
};
