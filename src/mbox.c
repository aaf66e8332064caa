/*
 * mbox.c - delivery into an mbox file, mboxrd format.
 *
 * Locking: a dot-lock (path.lock, created with O_EXCL, holding our pid)
 * and an fcntl write lock, as mutt, procmail and Dovecot expect; both
 * are held for as long as the mbox is open.  A dot-lock whose process
 * is gone, or older than five minutes, is stale and removed.
 *
 * Quoting (mboxrd): a line that matches ^>*From  gets one more ">", so
 * reading reverses it exactly.  Each message starts with a From line
 * and ends with an empty line.
 *
 * Crash safety: the token "mbox OFFSET PATH" is journalled before the
 * first byte is written at OFFSET.  After a crash, the bytes from
 * OFFSET are ours up to the next line that starts with "From " (our
 * own such lines are quoted).  If nothing follows them, they are
 * removed by truncating to OFFSET; if another program appended after
 * them, nothing is removed, the message is reported and fetched again.
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
	char		*path;
	char		 lockpath[PATH_MAX];
	int		 dotlocked;
	off_t		 offset;	/* where the current message starts */
	off_t		 batch;		/* where the unsynced messages start */
	size_t		 npending;	/* finished, not yet fsync'd */
	int		 bol;		/* at the start of a line */
	char		 last;		/* last byte written */
	size_t		 carry_len;	/* a line start too short to judge */
	char		 carry[4096];
	char		 token[PATH_MAX + 64];
	struct wbuf	 w;
};

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

/* 1 if the dot-lock at path belongs to nobody any more. */
static int
dotlock_stale(const char *path)
{
	struct stat sb;
	char buf[32];
	ssize_t n;
	long pid;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
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
lock_file(struct mbox *m, int fd, int timeout, struct error *err)
{
	struct flock fl;
	char pid[32];
	long waited = 0;
	int lfd;

	(void)snprintf(m->lockpath, sizeof(m->lockpath), "%s.lock", m->path);
	for (;;) {
		lfd = open(m->lockpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
		if (lfd != -1) {
			(void)snprintf(pid, sizeof(pid), "%ld\n",
			    (long)getpid());
			(void)write(lfd, pid, strlen(pid));
			(void)close(lfd);
			m->dotlocked = 1;
			break;
		}
		if (errno == EACCES || errno == EROFS)
			break;	/* no dot-locks possible here: fcntl only */
		if (errno != EEXIST)
			return error_set(err, ERR_CANTCREAT, "%s: %s",
			    m->lockpath, strerror(errno));
		if (dotlock_stale(m->lockpath)) {
			(void)unlink(m->lockpath);
			continue;
		}
		if (waited >= timeout * 1000L)
			return error_set(err, ERR_LOCKED, "%s: locked by another "
			    "program (%s exists)", m->path, m->lockpath);
		sleep_ms(100);
		waited += 100;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	while (fcntl(fd, F_SETLK, &fl) == -1) {
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
		(void)unlink(m->lockpath);
	m->dotlocked = 0;
	return -1;
}

static struct mbox *
open_locked(const char *path, int create, int timeout, struct error *err)
{
	struct mbox *m = xcalloc(1, sizeof(*m));
	struct stat sb;

	m->path = xstrdup(path);
	m->w.fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0),
	    0600);
	if (m->w.fd == -1 || fstat(m->w.fd, &sb) == -1 ||
	    !S_ISREG(sb.st_mode)) {
		error_set(err, create ? ERR_CANTCREAT : ERR_IO, "%s: %s", path,
		    m->w.fd == -1 ? strerror(errno) : "not a regular file");
		goto fail;
	}
	if (lock_file(m, m->w.fd, timeout, err) == -1)
		goto fail;
	return m;
fail:
	if (m->w.fd != -1)
		(void)close(m->w.fd);
	free(m->path);
	free(m);
	return NULL;
}

struct mbox *
mbox_open(const char *path, int timeout, struct error *err)
{
	char real[PATH_MAX], *slash, dir[PATH_MAX];
	struct mbox *m;

	/* Keep the absolute path in tokens, so recovery works from
	 * anywhere. */
	if (path[0] != '/') {
		if (getcwd(dir, sizeof(dir)) == NULL)
			return error_set(err, ERR_CANTCREAT, "getcwd: %s",
			    strerror(errno)), NULL;
		if (snprintf(real, sizeof(real), "%s/%s", dir, path) >=
		    (int)sizeof(real))
			return error_set(err, ERR_CANTCREAT, "%s: path too "
			    "long", path), NULL;
		path = real;
	}
	if ((slash = strrchr(path, '/')) != NULL && slash != path) {
		(void)strlcpy(dir, path, sizeof(dir));
		dir[slash - path] = '\0';
		if (access(dir, F_OK) == -1)
			return error_set(err, ERR_CANTCREAT, "%s: %s", dir,
			    strerror(errno)), NULL;
	}
	if ((m = open_locked(path, 1, timeout, err)) == NULL)
		return NULL;
	return m;
}

const char *
mbox_prepare(struct mbox *m, struct error *err)
{
	if ((m->offset = lseek(m->w.fd, 0, SEEK_END)) == -1) {
		error_set(err, ERR_IO, "%s: %s", m->path, strerror(errno));
		return NULL;
	}
	m->w.len = 0;
	m->bol = 1;
	m->carry_len = 0;
	m->last = '\n';
	(void)snprintf(m->token, sizeof(m->token), "mbox %lld %s",
	    (long long)m->offset, m->path);
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

int
mbox_begin(struct mbox *m, const char *sender, struct error *err)
{
	char tail[2] = { 0, 0 }, line[512], date[64];
	const char *sep = "";
	time_t now = time(NULL);
	ssize_t n = 0;

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
	(void)snprintf(line, sizeof(line), "%sFrom %s %s\n", sep, sender,
	    date);
	return put(m, line, strlen(line), err);
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

int
mbox_write(struct mbox *m, const char *data, size_t len, struct error *err)
{
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
		if (m->carry_len == sizeof(m->carry) && flush_carry(m, err) == -1)
			return -1;
	}
	return 0;
}

int
mbox_finish(struct mbox *m, struct error *err)
{
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

int
mbox_sync(struct mbox *m, size_t *published, struct error *err)
{
	*published = 0;
	if (m->npending == 0)
		return 0;
	if (fsync(m->w.fd) == -1) {
		error_set(err, ERR_IO, "%s: %s", m->path, strerror(errno));
		mbox_discard(m);
		return -1;
	}
	*published = m->npending;
	m->npending = 0;
	return 0;
}

void
mbox_discard(struct mbox *m)
{
	/* We hold the lock: everything from the batch on is ours. */
	if (m->npending > 0) {
		(void)ftruncate(m->w.fd, m->batch);
		(void)fsync(m->w.fd);
	}
	m->npending = 0;
}

void
mbox_abort(struct mbox *m)
{
	if (m == NULL)
		return;
	m->w.len = 0;
	m->carry_len = 0;
	/* We hold the lock, so everything past offset is ours. */
	(void)ftruncate(m->w.fd, m->offset);
	(void)fsync(m->w.fd);
}

void
mbox_close(struct mbox *m)
{
	if (m == NULL)
		return;
	(void)close(m->w.fd);	/* releases the fcntl lock */
	if (m->dotlocked)
		(void)unlink(m->lockpath);
	free(m->path);
	free(m);
}

/*
 * After a crash: offs[0..n) (ascending) are where the messages of the
 * unfinished batch start in path, all written by popfetch under its
 * lock.  A "From " line that starts at one of them (after at most two
 * padding newlines) is ours; any other is another program's, appended
 * after the crash.  If there is none, everything from offs[0] is ours
 * and is cut off; otherwise nothing is removed and a note says so.
 * None of the messages counts as delivered: they are fetched again.
 */
int
mbox_recover(const char *path, const off_t *offs, size_t n, char *note,
    size_t notelen, struct error *err)
{
	char buf[65536];
	struct mbox *m;
	struct stat sb;
	off_t pos, foreign = -1, off = offs[0];
	size_t k;
	ssize_t got, i;
	int bol = 1, r = 0;

	if ((m = open_locked(path, 0, 10, err)) == NULL) {
		if (err->cls == ERR_IO && access(path, F_OK) == -1)
			return 0;	/* the mbox is gone: nothing to undo */
		return -1;
	}
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
				if (!ours && pread(m->w.fd, f5, 5, pos + i) == 5 &&
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
	(void)snprintf(note, notelen, "%s: a partial message remains at "
	    "byte %lld (another program appended after popfetch was "
	    "interrupted); that message is fetched again", m->path,
	    (long long)off);
out:
	mbox_close(m);
	return r;
}
