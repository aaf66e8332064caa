/*
 * state.c - UIDL state with a write-ahead journal.
 *
 * Snapshot format (path):
 *	popfetch-state 1
 *	U <time> <uid>			a delivered message
 * Journal format (path.journal), appended and fsync'd record by record:
 *	B <uid> <token>			delivery begins (token from deliver)
 *	D <uid> <time>			delivered and durable
 *	A <uid>				rolled back
 * Every field is percent-escaped, so fields never contain spaces or line
 * ends.  A last line without its LF (a write cut by a crash) is ignored:
 * the write it belonged to never returned, so nothing relied on it.
 *
 * The directory is opened once and the four files (path, path.journal,
 * path.lock, path.new) are opened relative to it, so no name is built
 * into a path that could be cut short; a name too long to have its
 * suffixes beside it is refused before anything is touched.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

struct entry {
	char	*uid;		/* escaped form, in the arena */
	time_t	 when;
};


struct pending {
	char	*uid;		/* escaped */
	char	*token;		/* escaped */
	int	 done;
};

/* The files beside the snapshot, by the suffix of their names. */
#define SUFFIX_MAX	(sizeof(".journal") - 1)

struct state {
	char		*path;		/* as given, for messages */
	int		 dfd;		/* its directory; -1: none (readonly) */
	char		*name;		/* the snapshot's name in dfd */
	int		 readonly;
	int		 lockfd;
	int		 jfd;
	struct entry	*tab;		/* open addressing, power of two */
	unsigned char	*absent;	/* per slot: drop at the next save */
	size_t		 cap, used;
	struct arena	 arena;		/* the uid strings */
	char		*jbuf;		/* D and A records not written yet */
	size_t		 jlen;
	char		*ebuf;		/* scratch for escaping */
	size_t		 ebufcap;
	struct pending	*pend;
	size_t		 npend;
};

char *
state_escape(const char *s, size_t len)
{
	char *o = xreallocarray(NULL, len + 1, 3);

	pct_encode(o, s, len, NULL);
	return o;
}

int
state_unescape(const char *s, char **out, size_t *len)
{
	size_t n = strlen(s);
	char *o = xmalloc(n + 1);

	if (pct_decode(o, s, n, len) == -1) {
		free(o);
		return -1;
	}
	*out = o;
	return 0;
}

static size_t
hash(const char *s)
{
	size_t h = 14695981039346656037ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct entry *
find(struct state *st, const char *uid)
{
	size_t i;

	if (st->cap == 0)
		return NULL;
	for (i = hash(uid) & (st->cap - 1); st->tab[i].uid != NULL;
	    i = (i + 1) & (st->cap - 1))
		if (strcmp(st->tab[i].uid, uid) == 0)
			return &st->tab[i];
	return NULL;
}

static void
insert(struct state *st, const char *uid, time_t when)
{
	struct entry *old, *e;
	unsigned char *oldabs;
	size_t i, oldcap;

	if ((e = find(st, uid)) != NULL) {
		st->absent[e - st->tab] = 0;
		return;
	}
	/* At most three quarters full. */
	if ((st->used + 1) * 4 > st->cap * 3) {
		old = st->tab;
		oldabs = st->absent;
		oldcap = st->cap;
		st->cap = st->cap ? st->cap * 2 : 64;
		st->tab = xcalloc(st->cap, sizeof(*st->tab));
		st->absent = xcalloc(st->cap, 1);
		for (i = 0; i < oldcap; i++) {
			size_t j;

			if (old[i].uid == NULL)
				continue;
			for (j = hash(old[i].uid) & (st->cap - 1);
			    st->tab[j].uid != NULL; j = (j + 1) & (st->cap - 1))
				;
			st->tab[j] = old[i];
			st->absent[j] = oldabs[i];
		}
		free(old);
		free(oldabs);
	}
	for (i = hash(uid) & (st->cap - 1); st->tab[i].uid != NULL;
	    i = (i + 1) & (st->cap - 1))
		;
	st->tab[i].uid = arena_strndup(&st->arena, uid, strlen(uid));
	st->tab[i].when = when;
	st->absent[i] = 0;
	st->used++;
}

/* Escapes uid into the state's scratch buffer (valid until the next
 * call). */
static const char *
escape_tmp(struct state *st, const char *s)
{
	size_t len = strlen(s);

	if (3 * len + 1 > st->ebufcap) {
		st->ebufcap = 3 * len + 1 > 256 ? 3 * len + 1 : 256;
		free(st->ebuf);
		st->ebuf = xmalloc(st->ebufcap);
	}
	pct_encode(st->ebuf, s, len, NULL);
	return st->ebuf;
}

/* Splits a line into at most max space-separated fields. */
static int
fields(char *line, char **f, int max)
{
	int n = 0;
	char *t;

	while (n < max && (t = strsep(&line, " ")) != NULL)
		f[n++] = t;
	return line == NULL ? n : -1;
}

static int
valid_field(const char *s)
{
	char *u;
	size_t len;

	if (*s == '\0' || state_unescape(s, &u, &len) == -1)
		return 0;
	free(u);
	return 1;
}

static int
parse_time(const char *s, time_t *t)
{
	const char *errstr;

	*t = (time_t)strtonum(s, 0, LLONG_MAX, &errstr);
	return errstr == NULL ? 0 : -1;
}

/* The name of the snapshot with suffix, in buf (NAME_MAX + 1 bytes:
 * state_open checked that it fits). */
static const char *
sibling(const struct state *st, const char *suffix, char *buf)
{
	size_t n = strlen(st->name), sl = strlen(suffix);

	memcpy(buf, st->name, n);
	memcpy(buf + n, suffix, sl + 1);
	return buf;
}

/* Opens the file with suffix to read line by line; a missing one gives
 * *f = NULL. */
static int
open_lines(struct state *st, const char *suffix, FILE **f,
    struct error *err)
{
	char name[NAME_MAX + 1];
	int fd;

	*f = NULL;
	if (st->dfd == -1)
		return 0;
	fd = openat(st->dfd, sibling(st, suffix, name), O_RDONLY |
	    O_CLOEXEC);
	if (fd == -1 || (*f = fdopen(fd, "r")) == NULL) {
		if (fd == -1 && errno == ENOENT)
			return 0;
		error_set(err, ERR_IO, "%s%s: %s", st->path, suffix,
		    strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	return 0;
}

/* The next whole line without its LF; NULL at the end, and for a last
 * line without LF (cut by a crash: ignored). */
static char *
next_line(FILE *f, char **buf, size_t *cap)
{
	ssize_t n;

	if (f == NULL || (n = getline(buf, cap, f)) <= 0 ||
	    (*buf)[n - 1] != '\n')
		return NULL;
	(*buf)[n - 1] = '\0';
	return *buf;
}

static int
load_snapshot(struct state *st, struct error *err)
{
	char *buf = NULL, *line, *f[3];
	size_t cap = 0;
	int lineno = 0;
	FILE *fp;
	time_t t;

	if (open_lines(st, "", &fp, err) == -1)
		return -1;
	while ((line = next_line(fp, &buf, &cap)) != NULL) {
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, "popfetch-state 1") != 0)
				goto bad;
			continue;
		}
		if (fields(line, f, 3) != 3 || strcmp(f[0], "U") != 0 ||
		    parse_time(f[1], &t) == -1 || !valid_field(f[2]))
			goto bad;
		insert(st, f[2], t);
	}
	free(buf);
	if (fp != NULL)
		fclose(fp);
	return 0;
bad:
	free(buf);
	fclose(fp);
	return error_set(err, ERR_CONFIG, "%s: line %d: corrupt state file",
	    st->path, lineno);
}

static int
replay_journal(struct state *st, struct error *err)
{
	char *buf = NULL, *line, *f[4];
	size_t cap = 0, i;
	int n, lineno = 0;
	FILE *fp;
	time_t t = 0;

	if (open_lines(st, ".journal", &fp, err) == -1)
		return -1;
	while ((line = next_line(fp, &buf, &cap)) != NULL) {
		lineno++;
		n = fields(line, f, 4);
		if (n == 3 && strcmp(f[0], "B") == 0 && valid_field(f[1])) {
			st->pend = xreallocarray(st->pend, st->npend + 1,
			    sizeof(*st->pend));
			st->pend[st->npend].uid = xstrdup(f[1]);
			st->pend[st->npend].token = xstrdup(f[2]);
			st->pend[st->npend++].done = 0;
		} else if ((n == 3 && strcmp(f[0], "D") == 0 &&
		    parse_time(f[2], &t) == 0) ||
		    (n == 2 && strcmp(f[0], "A") == 0)) {
			if (f[0][0] == 'D')
				insert(st, f[1], t);
			for (i = 0; i < st->npend; i++)
				if (strcmp(st->pend[i].uid, f[1]) == 0)
					st->pend[i].done = 1;
		} else {
			free(buf);
			fclose(fp);
			return error_set(err, ERR_CONFIG, "%s.journal: line "
			    "%d: corrupt journal", st->path, lineno);
		}
	}
	free(buf);
	if (fp != NULL)
		fclose(fp);
	return 0;
}

static int
mkdirs(const char *path, struct error *err)
{
	char buf[PATH_MAX], *p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return error_set(err, ERR_CANTCREAT, "%s: path too long",
		    path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			return error_set(err, ERR_CANTCREAT, "%s: %s", buf,
			    strerror(errno));
		*p = '/';
	}
	return 0;
}

/*
 * Splits path into its directory, opened as st->dfd (made first unless
 * readonly; a readonly state without one has nothing stored), and the
 * snapshot's name, which must leave room for the longest suffix.
 */
static int
open_dir(struct state *st, const char *path, struct error *err)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	size_t len;

	if (strlen(path) >= PATH_MAX)
		return error_set(err, ERR_CANTCREAT, "%s: path too long",
		    path), error_hint(err, HINT_STATE);
	st->name = xstrdup(slash != NULL ? slash + 1 : path);
	len = strlen(st->name);
	if (len == 0 || strcmp(st->name, ".") == 0 ||
	    strcmp(st->name, "..") == 0)
		return error_set(err, ERR_CANTCREAT, "%s: not a file name for "
		    "the state", path), error_hint(err, HINT_STATE);
	if (len + SUFFIX_MAX > NAME_MAX)
		return error_set(err, ERR_CANTCREAT, "%s: the state file's "
		    "name is too long (%zu bytes; at most %zu, to leave room "
		    "for its journal beside it)", path, len,
		    (size_t)NAME_MAX - SUFFIX_MAX), error_hint(err, HINT_STATE);
	if (!st->readonly && mkdirs(path, err) == -1)
		return -1;
	if (slash == NULL)
		dir = xstrdup(".");
	else
		dir = xstrndup(path, slash == path ? 1 :
		    (size_t)(slash - path));
	st->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dfd == -1 && !(st->readonly && errno == ENOENT)) {
		error_set(err, st->readonly ? ERR_IO : ERR_CANTCREAT, "%s: %s",
		    dir, strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	return 0;
}

/* Opens, creating it, one of popfetch's own files beside the snapshot:
 * never through a symbolic link. */
static int
open_own(struct state *st, const char *suffix, int flags)
{
	char name[NAME_MAX + 1];

	return openat(st->dfd, sibling(st, suffix, name), flags | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
}

struct state *
state_open(const char *path, int readonly, struct error *err)
{
	struct state *st = xcalloc(1, sizeof(*st));

	st->path = xstrdup(path);
	st->readonly = readonly;
	st->dfd = st->lockfd = st->jfd = -1;
	if (open_dir(st, path, err) == -1)
		goto fail;
	if (!readonly) {
		if ((st->lockfd = open_own(st, ".lock", O_RDWR)) == -1) {
			error_set(err, ERR_CANTCREAT, "%s.lock: %s", path,
			    strerror(errno));
			goto fail;
		}
		/* flock: released by the kernel when the process dies. */
		if (flock(st->lockfd, LOCK_EX | LOCK_NB) == -1) {
			error_set(err, errno == EWOULDBLOCK ? ERR_LOCKED :
			    ERR_IO, "%s.lock: %s", path, errno == EWOULDBLOCK ?
			    "another popfetch is running for this account" :
			    strerror(errno));
			goto fail;
		}
	}
	if (load_snapshot(st, err) == -1 || replay_journal(st, err) == -1)
		goto fail;
	if (!readonly && (st->jfd = open_own(st, ".journal", O_WRONLY |
	    O_APPEND)) == -1) {
		error_set(err, ERR_CANTCREAT, "%s.journal: %s", path,
		    strerror(errno));
		goto fail;
	}
	return st;
fail:
	state_close(st);
	return NULL;
}

static int
journal(struct state *st, int sync, struct error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define JBUF_MAX	65536

/* Writes the records held back, in one write(2). */
static int
journal_flush(struct state *st, struct error *err)
{
	ssize_t w;
	size_t off = 0;

	while (off < st->jlen) {
		w = write(st->jfd, st->jbuf + off, st->jlen - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			st->jlen = 0;
			return error_set(err, ERR_IO, "%s.journal: %s",
			    st->path, strerror(errno));
		}
		off += (size_t)w;
	}
	st->jlen = 0;
	return 0;
}

/*
 * Appends a record.  D and A records without sync are held back and
 * go out with the next record that must reach the kernel at once (a B,
 * which precedes the bytes it announces) or with state_sync, which
 * comes before any DELE: a batch of D records costs one write and one
 * fdatasync.
 */
static int
journal(struct state *st, int sync, struct error *err, const char *fmt, ...)
{
	char line[JBUF_MAX];
	va_list ap;
	int n;

	if (st->readonly)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return error_set(err, ERR_SOFTWARE, "journal record too long");
	if (st->jbuf == NULL)
		st->jbuf = xmalloc(2 * JBUF_MAX);
	if (st->jlen + (size_t)n > 2 * JBUF_MAX &&
	    journal_flush(st, err) == -1)
		return -1;
	memcpy(st->jbuf + st->jlen, line, (size_t)n);
	st->jlen += (size_t)n;
	if (!sync && (line[0] == 'D' || line[0] == 'A') && st->jlen < JBUF_MAX)
		return 0;
	if (journal_flush(st, err) == -1)
		return -1;
	if (sync && fdatasync(st->jfd) == -1)
		return error_set(err, ERR_IO, "%s.journal: %s", st->path,
		    strerror(errno));
	return 0;
}

const char *
state_pending(struct state *st, size_t i, const char **token)
{
	size_t k;

	for (k = 0; k < st->npend; k++) {
		if (st->pend[k].done)
			continue;
		if (i-- == 0) {
			*token = st->pend[k].token;
			return st->pend[k].uid;
		}
	}
	return NULL;
}

int
state_resolve(struct state *st, size_t i, int delivered, struct error *err)
{
	const char *token, *uid = state_pending(st, i, &token);
	size_t k;
	time_t now = time(NULL);

	if (uid == NULL)
		return 0;
	if (delivered) {
		if (journal(st, 1, err, "D %s %lld\n", uid,
		    (long long)now) == -1)
			return -1;
		insert(st, uid, now);
	} else if (journal(st, 1, err, "A %s\n", uid) == -1)
		return -1;
	for (k = 0; k < st->npend; k++)
		if (strcmp(st->pend[k].uid, uid) == 0)
			st->pend[k].done = 1;
	return 0;
}

size_t
state_count(const struct state *st)
{
	return st->used;
}

time_t
state_lookup(struct state *st, const char *uid)
{
	struct entry *e = find(st, escape_tmp(st, uid));

	return e != NULL ? e->when : 0;
}

int
state_begin(struct state *st, const char *uid, const char *token, int sync,
    struct error *err)
{
	char *u = state_escape(uid, strlen(uid));
	char *t = state_escape(token, strlen(token));
	int r;

	r = journal(st, sync, err, "B %s %s\n", u, t);
	free(u);
	free(t);
	return r;
}

int
state_delivered(struct state *st, const char *uid, int sync,
    struct error *err)
{
	char *u = state_escape(uid, strlen(uid));
	time_t now = time(NULL);
	int r;

	r = journal(st, sync, err, "D %s %lld\n", u, (long long)now);
	if (r == 0)
		insert(st, u, now);
	free(u);
	return r;
}

int
state_sync(struct state *st, struct error *err)
{
	if (st->readonly)
		return 0;
	if (journal_flush(st, err) == -1)
		return -1;
	if (fdatasync(st->jfd) == -1)
		return error_set(err, ERR_IO, "%s.journal: %s", st->path,
		    strerror(errno));
	return 0;
}

int
state_abort(struct state *st, const char *uid, struct error *err)
{
	char *u = state_escape(uid, strlen(uid));
	int r;

	/* No fsync: if this record is lost, recovery finds the delivery
	 * unfinished and rolls it back again, which is harmless. */
	r = journal(st, 0, err, "A %s\n", u);
	free(u);
	return r;
}

void
state_forget_absent(struct state *st, char **present, size_t n)
{
	struct entry *e;
	size_t i;

	if (st->cap == 0)
		return;
	memset(st->absent, 1, st->cap);
	for (i = 0; i < n; i++)
		if (present[i] != NULL &&
		    (e = find(st, escape_tmp(st, present[i]))) != NULL)
			st->absent[e - st->tab] = 0;
}

int
state_save(struct state *st, struct error *err)
{
	char name[NAME_MAX + 1];
	FILE *f = NULL;
	size_t i;
	int fd;

	if (st->readonly)
		return 0;
	if (journal_flush(st, err) == -1)
		return -1;
	/* A .new left by a crash is stale: popfetch holds the lock. */
	if (unlinkat(st->dfd, sibling(st, ".new", name), 0) == -1 &&
	    errno != ENOENT)
		return error_set(err, ERR_IO, "%s.new: %s", st->path,
		    strerror(errno));
	if ((fd = open_own(st, ".new", O_WRONLY | O_EXCL)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL) {
		error_set(err, ERR_IO, "%s.new: %s", st->path, strerror(errno));
		if (fd != -1)
			(void)close(fd);
		goto fail;
	}
	fprintf(f, "popfetch-state 1\n");
	for (i = 0; i < st->cap; i++)
		if (st->tab[i].uid != NULL && !st->absent[i])
			fprintf(f, "U %lld %s\n", (long long)st->tab[i].when,
			    st->tab[i].uid);
	/* ferror too: a write that failed inside fprintf leaves nothing
	 * for fflush to report. */
	if (fflush(f) == EOF || ferror(f) || fsync(fileno(f)) == -1) {
		error_set(err, ERR_IO, "%s.new: %s", st->path, strerror(errno));
		(void)fclose(f);
		goto fail;
	}
	if (fclose(f) == EOF) {
		error_set(err, ERR_IO, "%s.new: %s", st->path, strerror(errno));
		goto fail;
	}
	/* The snapshot holds everything the journal said, so once it is
	 * in place the journal may go; replaying it again is harmless. */
	if (renameat(st->dfd, name, st->dfd, st->name) == -1) {
		error_set(err, ERR_IO, "%s: %s", st->path, strerror(errno));
		goto fail;
	}
	if (fsync(st->dfd) == -1)
		return error_set(err, ERR_IO, "%s: fsync of its directory: %s",
		    st->path, strerror(errno));
	if (ftruncate(st->jfd, 0) == -1 || fsync(st->jfd) == -1)
		return error_set(err, ERR_IO, "%s.journal: %s", st->path,
		    strerror(errno));
	return 0;
fail:
	(void)unlinkat(st->dfd, name, 0);
	return -1;
}

void
state_close(struct state *st)
{
	size_t i;

	if (st == NULL)
		return;
	if (st->jfd != -1) {
		struct error ignored;

		(void)journal_flush(st, &ignored);
		close(st->jfd);
	}
	free(st->jbuf);
	if (st->lockfd != -1)
		close(st->lockfd);
	if (st->dfd != -1)
		close(st->dfd);
	arena_free(&st->arena);
	free(st->tab);
	free(st->absent);
	free(st->ebuf);
	for (i = 0; i < st->npend; i++) {
		free(st->pend[i].uid);
		free(st->pend[i].token);
	}
	free(st->pend);
	free(st->path);
	free(st->name);
	free(st);
}

int
state_default_path(char *buf, size_t len, const char *user, const char *host,
    const char *port, struct error *err)
{
	const char *base = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char account[1024], *esc;
	int r;

	r = snprintf(account, sizeof(account), "%s@%s:%s",
	    user != NULL ? user : "", host, port);
	/* Cut short, two accounts could share one state. */
	if (r < 0 || (size_t)r >= sizeof(account))
		return error_set(err, ERR_CONFIG, "state path too long"),
		    error_hint(err, HINT_STATE);
	/* The name must stay one path component: "/" becomes %2F. */
	esc = xreallocarray(NULL, strlen(account) + 1, 3);
	pct_encode(esc, account, strlen(account), "/");
	if (base != NULL && base[0] == '/')
		r = snprintf(buf, len, "%s/popfetch/%s", base, esc);
	else if (home != NULL && home[0] != '\0')
		r = snprintf(buf, len, "%s/.local/state/popfetch/%s", home,
		    esc);
	else {
		free(esc);
		return error_set(err, ERR_CONFIG, "no place for the state "
		    "file: neither HOME nor XDG_STATE_HOME is set"),
		    error_hint(err, HINT_STATE);
	}
	free(esc);
	if (r < 0 || (size_t)r >= len)
		return error_set(err, ERR_CONFIG, "state path too long"),
		    error_hint(err, HINT_STATE);
	return 0;
}
