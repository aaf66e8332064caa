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
 *
 * NAME's unique part ends with the tag fetch.c gives (deliver_tag:
 * "F" and a checksum of the account, "U" and one of the UID), so that
 * maildir_ours can tell, from a readdir of new/ and nothing else, which
 * files popfetch stored for an account and whose messages they hold:
 * fetch.c looks for those its state lost the records of.
 *
 * Someone else may write the directory holding the maildir (root
 * delivering into a user's home): the maildir (unless it is a link the
 * user made) and its tmp/, new/ and cur/ are opened without following
 * links and checked (safefile.h),
 * files are created with O_EXCL and O_NOFOLLOW, and what root creates
 * there is given to the owner of the directory.  The maildir and its
 * missing parents are made only when the first message arrives, so a
 * run that fetches nothing leaves nothing behind.
 *
 * Orphans: a file in tmp/ whose name is one popfetch makes, older than
 * 36 hours (the maildir rule), or made on this host by a process that
 * is gone, or by one with our process number before this process
 * started (a reused number, or PID 1 of a container run again), is
 * removed when the maildir is first attached; recovery has already run
 * by then, so nothing still journalled is touched.  A maildir delivery
 * journals its file only with its batch (backend.h, hidden_until_sync),
 * so a killed run's files in tmp/ are found this way, not by recovery.
 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include <dirent.h>
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

#define NAME_LEN	256
#define ORPHAN_SECONDS	(36 * 3600)

struct maildir {
	char		*target;	/* as the user gave it */
	char		*dir;		/* absolute, for tokens and messages */
	int		 dfd, tmpfd, newfd;
	struct stat	 msb;		/* the maildir, for ownership */
	size_t		 unsure;	/* renamed, but not known durable */
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

static int
open_dir(int at, const char *path)
{
	return openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
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

/* A name popfetch gives, in parts: SEC.MUSECPpidQn.HOST, with its tag
 * (deliver_tag) after n when it has one, and maybe ":2," and flags. */
struct ourname {
	long long	 sec;
	long		 usec;
	long		 pid;
	int		 tagged;
	unsigned long	 account;	/* the tag's two hashes */
	unsigned long	 uid;
	const char	*host;		/* up to hostlen bytes */
	size_t		 hostlen;
};

/* Decimal digits at *p, at most max: -1 if none or too many. */
static long long
digits(const char **p, int max)
{
	long long v = 0;
	int k = 0;

	while (**p >= '0' && **p <= '9' && k < max) {
		v = v * 10 + (**p - '0');
		(*p)++;
		k++;
	}
	return k == 0 || (**p >= '0' && **p <= '9') ? -1 : v;
}

/* Eight lower-case hex digits at *p. */
static int
hex8(const char **p, unsigned long *v)
{
	int i, d;

	*v = 0;
	for (i = 0; i < 8; i++) {
		if ((d = hex_digit((unsigned char)(*p)[i])) < 0 ||
		    ((*p)[i] >= 'A' && (*p)[i] <= 'F'))
			return -1;
		*v = *v << 4 | (unsigned long)d;
	}
	*p += 8;
	return 0;
}

/* Splits a name into its parts; -1 if popfetch never gives one like
 * it. */
static int
parse_name(const char *name, struct ourname *o)
{
	const char *p = name;
	long long v;

	memset(o, 0, sizeof(*o));
	/* Seconds of at most 12 digits (until the year 33658), so that
	 * seconds * 1000000 + microseconds cannot overflow. */
	if ((o->sec = digits(&p, 12)) == -1 || *p++ != '.' || *p++ != 'M' ||
	    (v = digits(&p, 6)) == -1 || *p++ != 'P')
		return -1;
	o->usec = (long)v;
	if ((v = digits(&p, 10)) <= 0 || *p++ != 'Q')
		return -1;
	o->pid = (long)v;
	if (digits(&p, 10) == -1)
		return -1;
	if (*p == 'F') {
		p++;
		if (hex8(&p, &o->account) == -1 || *p++ != 'U' ||
		    hex8(&p, &o->uid) == -1)
			return -1;
		o->tagged = 1;
	}
	if (*p++ != '.')
		return -1;
	o->host = p;
	o->hostlen = strcspn(p, ":");
	return o->hostlen == 0 ? -1 : 0;
}

/* When this process first opened a maildir: a file with its number
 * made before then is another process's. */
static struct timespec proc_start;

/* Whether name in tmp/ is an orphan of a popfetch (see the top of the
 * file): our pattern, and old, or of this host and of no live process
 * but an earlier one with our number. */
static int
our_orphan(const struct maildir *m, const char *name,
    const struct timespec *mtime)
{
	struct ourname o;

	if (parse_name(name, &o) == -1 || o.host[o.hostlen] != '\0')
		return 0;
	if (time(NULL) - mtime->tv_sec > ORPHAN_SECONDS)
		return 1;
	if (strcmp(o.host, m->host) != 0)
		return 0;
	if (o.pid == m->pid)
		return mtime->tv_sec < proc_start.tv_sec ||
		    (mtime->tv_sec == proc_start.tv_sec &&
		    mtime->tv_nsec < proc_start.tv_nsec);
	return kill((pid_t)o.pid, 0) == -1 && errno == ESRCH;
}

/* Removes popfetch's orphans from tmp/ (see the top of the file).  A
 * failure here costs nothing but disk space: it is not reported. */
static void
remove_orphans(struct maildir *m)
{
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int fd;

	if ((fd = dup(m->tmpfd)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		(void)close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(m->tmpfd, de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(sb.st_mode))
			continue;
		if (our_orphan(m, de->d_name, &sb.st_mtim))
			(void)unlinkat(m->tmpfd, de->d_name, 0);
	}
	closedir(d);
}

/* Splits target into its directory (a new string) and last name. */
static char *
split_target(const char *target, const char **last, size_t *lastlen)
{
	size_t len = strlen(target), i;

	while (len > 1 && target[len - 1] == '/')
		len--;
	for (i = len; i > 0 && target[i - 1] != '/'; i--)
		;
	*last = target + i;
	*lastlen = len - i;
	if (i == 0)
		return xstrdup(".");
	while (i > 1 && target[i - 1] == '/')
		i--;
	return xstrndup(target, i);
}

/*
 * Opens the maildir and its subdirectories, making what is missing if
 * create, else returning 1 when something is missing (the maildir is
 * made with the first message).
 */
static int
attach(struct maildir *m, int create, struct error *err)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char real[PATH_MAX], shown[PATH_MAX + 8], *parent, *name;
	const char *last;
	struct stat psb, psb_tmp;
	size_t lastlen, i;
	int pfd = -1, fd, rv = -1, n;

	parent = split_target(m->target, &last, &lastlen);
	name = xstrndup(last, lastlen);
	if (lastlen == 0 || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0) {
		/* "/" or a name ending in "." or "..": nothing to check
		 * against, so it is used as it is. */
		free(name);
		name = xstrdup(".");
		free(parent);
		parent = xstrdup(m->target);
	}
	if (create && safefile_mkparents(m->target, err) == -1)
		goto out;
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !create) {
			rv = 1;
			goto out;
		}
		error_set(err, safefile_class(errno), "%s: %s", m->target,
		    strerror(errno));
		goto out;
	}
	if (fstat(pfd, &psb) == -1 || realpath(parent, real) == NULL) {
		error_set(err, safefile_class(errno), "%s: %s", parent,
		    strerror(errno));
		goto out;
	}
	free(m->dir);
	if (strcmp(name, ".") == 0)
		m->dir = xstrdup(real);
	else {
		n = snprintf(shown, sizeof(shown), "%s%s%s", real,
		    strcmp(real, "/") == 0 ? "" : "/", name);
		if (n < 0 || (size_t)n >= sizeof(shown) || n >= PATH_MAX) {
			error_set(err, ERR_CANTCREAT, "%s: path too long",
			    m->target);
			goto out;
		}
		m->dir = xstrdup(shown);
	}
	if (strcmp(name, ".") != 0 && create && safefile_mkdir(pfd, &psb,
	    name, m->dir, err) == -1)
		goto out;
	if (m->dfd == -1) {
		if (!create && strcmp(name, ".") != 0 && fstatat(pfd, name,
		    &psb_tmp, AT_SYMLINK_NOFOLLOW) == -1 && errno == ENOENT) {
			rv = 1;
			goto out;
		}
		if (strcmp(name, ".") == 0)
			m->dfd = safefile_opendir(AT_FDCWD, m->dir, NULL,
			    m->dir, err);
		else if (fstatat(pfd, name, &psb_tmp,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(psb_tmp.st_mode) &&
		    psb_tmp.st_uid == geteuid()) {
			/* The user's own link (a maildir kept elsewhere) is
			 * followed; one planted by anybody else is not. */
			if (realpath(m->target, real) == NULL) {
				error_set(err, safefile_class(errno), "%s: %s",
				    m->target, strerror(errno));
				goto out;
			}
			free(m->dir);
			m->dir = xstrdup(real);
			m->dfd = safefile_opendir(AT_FDCWD, m->dir, &psb,
			    m->dir, err);
		} else
			m->dfd = safefile_opendir(pfd, name, &psb, m->dir,
			    err);
		if (m->dfd == -1)
			goto out;
		if (fstat(m->dfd, &m->msb) == -1) {
			error_set(err, safefile_class(errno), "%s: %s",
			    m->dir, strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < 3; i++) {
		n = snprintf(shown, sizeof(shown), "%s/%s", m->dir, subs[i]);
		if (n < 0 || (size_t)n >= sizeof(shown))
			(void)strlcpy(shown, subs[i], sizeof(shown));
		if (create && safefile_mkdir(m->dfd, &m->msb, subs[i], shown,
		    err) == -1)
			goto out;
		if (!create && fstatat(m->dfd, subs[i], &psb_tmp,
		    AT_SYMLINK_NOFOLLOW) == -1 && errno == ENOENT) {
			rv = 1;
			goto out;
		}
		fd = safefile_opendir(m->dfd, subs[i], &m->msb, shown, err);
		if (fd == -1)
			goto out;
		if (i == 0) {
			if (m->tmpfd != -1)
				(void)close(m->tmpfd);
			m->tmpfd = fd;
		} else if (i == 1) {
			if (m->newfd != -1)
				(void)close(m->newfd);
			m->newfd = fd;
		} else
			(void)close(fd);
	}
	remove_orphans(m);
	rv = 0;
out:
	if (pfd != -1)
		(void)close(pfd);
	free(parent);
	free(name);
	if (rv == 1) {
		/* Missing: made with the first message; forget the rest. */
		if (m->dfd != -1)
			(void)close(m->dfd);
		if (m->tmpfd != -1)
			(void)close(m->tmpfd);
		if (m->newfd != -1)
			(void)close(m->newfd);
		m->dfd = m->tmpfd = m->newfd = -1;
		err->cls = ERR_NONE;
	}
	return rv;
}

static void maildir_abort(void *);
static void maildir_close(void *);

static void *
maildir_open(const struct deliver_params *p, struct error *err)
{
	struct maildir *m;

	/* The clock file times come from, so that no file this process
	 * makes can seem older. */
#ifdef CLOCK_REALTIME_COARSE
	if (proc_start.tv_sec == 0)
		(void)clock_gettime(CLOCK_REALTIME_COARSE, &proc_start);
#else
	if (proc_start.tv_sec == 0)
		(void)clock_gettime(CLOCK_REALTIME, &proc_start);
#endif
	m = xcalloc(1, sizeof(*m));
	m->target = xstrdup(p->target);
	m->dfd = m->tmpfd = m->newfd = -1;
	m->w.fd = -1;
	m->pid = (long)getpid();
	host_part(m->host, sizeof(m->host));
	if (attach(m, 0, err) == -1) {
		maildir_close(m);
		return NULL;
	}
	return m;
}

static const char *
maildir_prepare(void *h, const char *tag, struct error *err)
{
	struct maildir *m = h;
	struct timeval tv;
	struct sb b;

	m->intmp = 0;
	if (m->tmpfd == -1 && attach(m, 1, err) != 0)
		return NULL;
	(void)gettimeofday(&tv, NULL);
	/* TIME.MusecPpidQcountTAG.HOST */
	sb_init(&b, m->name, sizeof(m->name));
	sb_i(&b, (long long)tv.tv_sec);
	sb_str(&b, ".M");
	sb_i(&b, (long long)tv.tv_usec);
	sb_char(&b, 'P');
	sb_i(&b, (long long)m->pid);
	sb_char(&b, 'Q');
	sb_u(&b, ++m->counter);
	sb_str(&b, tag);
	sb_char(&b, '.');
	sb_str(&b, m->host);
	if (sb_end(&b) == -1) {
		error_set(err, ERR_SOFTWARE, "maildir: file name too long");
		return NULL;
	}
	sb_init(&b, m->token, sizeof(m->token));
	sb_str(&b, m->name);
	sb_char(&b, ' ');
	sb_str(&b, m->dir);
	if (sb_end(&b) == -1) {
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
		return error_set(err, safefile_class(errno), "%s/tmp/%s: %s",
		    m->dir, m->name, strerror(errno));
	m->intmp = 1;
	m->w.len = 0;
	if (safefile_chown(m->w.fd, &m->msb, NULL, m->name, err) == -1) {
		maildir_abort(m);
		return -1;
	}
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
 * and new/ is fsync'd once.  The journal's records of the batch are
 * durable before this is called (fetch.c), so a file in new/ always has
 * its record, whichever filesystems the two are on.  Files renamed
 * before a failure are in new/ even if new/ could not be synced: they
 * are counted in unsure, not removed, and recovery decides.
 */
static int
maildir_sync(void *h, size_t *published, struct error *err)
{
	struct maildir *m = h;
	size_t i;

	*published = 0;
	m->unsure = 0;
	if (m->npending == 0)
		return 0;
	if (barrier(m, err) == -1) {
		discard(m);
		return -1;
	}
	for (i = 0; i < m->npending; i++) {
		if (renameat(m->tmpfd, m->pending[i], m->newfd,
		    m->pending[i]) == -1) {
			error_set(err, safefile_class(errno) == ERR_IO ||
			    errno == EXDEV ? ERR_IO : ERR_CANTCREAT,
			    "%s/new/%s: %s", m->dir, m->pending[i],
			    strerror(errno));
			memmove(m->pending, m->pending + i,
			    (m->npending - i) * sizeof(*m->pending));
			m->npending -= i;
			discard(m);
			/* Those already in new/ must be made durable too. */
			if (fsync(m->newfd) == 0)
				*published = i;
			else
				m->unsure = i;
			return -1;
		}
	}
	i = m->npending;
	m->npending = 0;
	if (fsync(m->newfd) == -1) {
		m->unsure = i;
		return error_set(err, ERR_IO, "%s/new: fsync: %s", m->dir,
		    strerror(errno));
	}
	*published = i;
	return 0;
}

static size_t
maildir_unsure(void *h)
{
	struct maildir *m = h;

	return m->unsure;
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
	free(m->target);
	free(m);
}

/*
 * Opens dfd's subdirectory sub for reading into *dp: 0, 1 if it does
 * not exist, or -1 with err.  Only a missing directory proves that no
 * message is there: one that cannot be read (a link, not ours, EMFILE,
 * EIO) is an error, so that recovery leaves a delivery pending rather
 * than rolling it back, and the lost-records scan stops the run rather
 * than finding nothing.
 */
static int
open_sub(int dfd, const char *dir, const char *sub, DIR **dp,
    struct error *err)
{
	struct stat sb;
	int fd;

	if ((fd = open_dir(dfd, sub)) == -1) {
		if (errno == ENOENT)
			return 1;
		if (fstatat(dfd, sub, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(sb.st_mode))
			return error_set(err, ERR_CANTCREAT, "%s/%s: is a "
			    "symbolic link; refusing to follow it", dir, sub);
		return error_set(err, safefile_class(errno), "%s/%s: %s",
		    dir, sub, strerror(errno));
	}
	if ((*dp = fdopendir(fd)) == NULL) {
		error_set(err, ERR_IO, "%s/%s: %s", dir, sub, strerror(errno));
		(void)close(fd);
		return -1;
	}
	return 0;
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
	int r, found = 0;

	if ((r = open_sub(dfd, dir, sub, &d, err)) != 0)
		return r == 1 ? 0 : -1;
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
		return error_set(err, safefile_class(errno) == ERR_IO ?
		    ERR_IO : ERR_CANTCREAT, "%s: %s", dir, strerror(errno));
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

/* One subdirectory's files for maildir_ours. */
static int
ours_in(int dfd, const char *dir, const char *sub, const char *host,
    unsigned long account, long long since, deliver_found *found,
    void *arg, struct error *err)
{
	char name[NAME_LEN];
	struct ourname o;
	struct dirent *de;
	DIR *d;
	int r;

	if ((r = open_sub(dfd, dir, sub, &d, err)) != 0)
		return r == 1 ? 0 : -1;
	errno = 0;
	while (r == 0 && (de = readdir(d)) != NULL) {
		/* Cheap tests first: most names are not ours, or older. */
		if (de->d_name[0] < '0' || de->d_name[0] > '9' ||
		    parse_name(de->d_name, &o) == -1 || !o.tagged ||
		    o.account != account ||
		    o.sec * 1000000 + o.usec <= since ||
		    o.hostlen != strlen(host) ||
		    memcmp(o.host, host, o.hostlen) != 0)
			continue;
		(void)snprintf(name, sizeof(name), "%.*s",
		    (int)(o.host - de->d_name + o.hostlen), de->d_name);
		r = found(arg, sub, de->d_name, name, o.uid, err);
		errno = 0;
	}
	if (r == 0 && errno != 0)
		r = error_set(err, ERR_IO, "%s/%s: %s", dir, sub,
		    strerror(errno));
	closedir(d);
	return r;
}

int
maildir_ours(const char *target, unsigned long account, long long since,
    int all, const struct deliver_seen *last, struct deliver_seen *seen,
    deliver_found *found, void *arg, struct error *err)
{
	char host[128];
	struct stat sb;
	struct deliver_seen now;
	int dfd, r;

	/* Only read: the user's own link to a maildir is followed, and
	 * anything maildir_open would refuse is left for it to say. */
	if ((dfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 0;
	if (fstatat(dfd, "new", &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		(void)close(dfd);
		return 0;
	}
	now.dev = (unsigned long long)sb.st_dev;
	now.ino = (unsigned long long)sb.st_ino;
	now.mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000 +
	    sb.st_mtim.tv_nsec;
	/* new/ unchanged since the state was written, or since it was last
	 * read: a stat instead of reading 100,000 names.  Its time is the
	 * kernel's coarse clock, never ahead of the one the state's save
	 * time was read from. */
	if (!all && ((since > 0 && now.mtime_ns / 1000 < since) ||
	    (last != NULL && last->dev == now.dev && last->ino == now.ino &&
	    last->mtime_ns == now.mtime_ns))) {
		(void)close(dfd);
		return 0;
	}
	/* Taken before the names are read: whatever is added meanwhile
	 * changes the time, so the next run reads them again. */
	*seen = now;
	host_part(host, sizeof(host));
	r = ours_in(dfd, target, "new", host, account, since, found, arg,
	    err);
	if (r == 0 && all)
		r = ours_in(dfd, target, "cur", host, account, since, found,
		    arg, err);
	(void)close(dfd);
	return r;
}

void
maildir_look(const char *target, struct deliver_seen *seen)
{
	char path[PATH_MAX];
	struct stat sb;

	memset(seen, 0, sizeof(*seen));
	if (snprintf(path, sizeof(path), "%s/new", target) >=
	    (int)sizeof(path) || lstat(path, &sb) == -1 ||
	    !S_ISDIR(sb.st_mode))
		return;
	seen->dev = (unsigned long long)sb.st_dev;
	seen->ino = (unsigned long long)sb.st_ino;
	seen->mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000 +
	    sb.st_mtim.tv_nsec;
}

const struct backend maildir_backend = {
	.name = "maildir",
	.kind = DELIVER_MAILDIR,
	.durable_token = 0,
	.hidden_until_sync = 1,
	.ignores_sender = 1,
	.open = maildir_open,
	.prepare = maildir_prepare,
	.begin = maildir_begin,
	.write = maildir_write,
	.finish = maildir_finish,
	.sync = maildir_sync,
	.abort = maildir_abort,
	.unsure = maildir_unsure,
	.close = maildir_close,
	.recover = maildir_recover
};
