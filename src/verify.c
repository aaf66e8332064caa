/*
 * verify.c - a delivered message against the store; see verify.h.
 *
 * A maildir is looked at file by file: a message is first looked for
 * under the name it was given in new/ (one openat, which is all a
 * message delivered a moment ago needs), and only on a miss are new/
 * and cur/ read once into a table by base name, the part before the
 * ":2," that a mail reader appends when it moves the file to cur/.
 *
 * An mbox is mapped and read once into a list of its messages, each
 * with its digest (the bytes between its From line and the next, less
 * the empty line that ends it, with mboxrd quoting undone) and its
 * Message-ID; messages appended later (a fetch that verifies what it
 * just delivered) are read from where the last reading stopped.
 */
#define _GNU_SOURCE		/* memmem */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "verify.h"

#define READ_MAX	(256 * 1024)

struct name {			/* a maildir file */
	char	*base;		/* up to any ':' */
	char	*file;
	int	 cur;		/* in cur/, else in new/ */
};

struct msg {			/* an mbox message */
	off_t			 from;	/* its From line */
	unsigned long long	 size;
	char			 sha[DIGEST_HEX];
	char			*msgid;	/* escaped */
};

struct verify {
	enum deliver_kind	 kind;
	char			*target;
	struct arena		 arena;
	struct digest		*dg;
	char			*buf;		/* READ_MAX */
	/* maildir */
	int			 dfd, newfd, curfd;
	int			 indexed;
	struct name		*names;
	size_t			 nnames, namecap;
	uint32_t		*ntab;		/* index + 1, by base */
	size_t			 ncap;
	/* mbox */
	struct msg		*msgs;
	size_t			 nmsgs, msgcap;
	uint32_t		*idtab, *shatab;	/* index + 1 */
	size_t			 tcap;
	off_t			 scanned;
};

const char *
verify_name(enum verify_status s)
{
	switch (s) {
	case VERIFY_INTACT:	return "intact";
	case VERIFY_MISSING:	return "missing";
	case VERIFY_CHANGED:	return "changed";
	case VERIFY_UNRECORDED:	return "unrecorded";
	}
	return "?";
}

/* Opens a subdirectory, never through a link; -1 if it is not there. */
static int
subdir(int dfd, const char *name, const char *target, struct error *err)
{
	int fd;

	if (dfd == -1)
		return -1;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 && errno != ENOENT)
		return error_set(err, ERR_IO, "%s/%s: %s", target, name,
		    strerror(errno)), -2;
	return fd;
}

struct verify *
verify_open(enum deliver_kind kind, const char *target, struct error *err)
{
	struct verify *v;

	if (kind != DELIVER_MAILDIR && kind != DELIVER_MBOX) {
		error_set(err, ERR_USAGE, "only a maildir or an mbox can be "
		    "verified");
		return NULL;
	}
	v = xcalloc(1, sizeof(*v));
	v->kind = kind;
	v->target = xstrdup(target);
	v->dfd = v->newfd = v->curfd = -1;
	v->dg = digest_new(kind == DELIVER_MBOX);
	v->buf = xmalloc(READ_MAX);
	if (kind == DELIVER_MBOX)
		return v;
	v->dfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v->dfd == -1 && errno != ENOENT) {
		error_set(err, ERR_IO, "%s: %s", target, strerror(errno));
		goto fail;
	}
	if ((v->newfd = subdir(v->dfd, "new", target, err)) == -2 ||
	    (v->curfd = subdir(v->dfd, "cur", target, err)) == -2)
		goto fail;
	return v;
fail:
	verify_close(v);
	return NULL;
}

/* A table of index + 1 by key, open addressing, duplicates kept: a
 * lookup walks the probe sequence to the first empty slot. */
static void
tab_put(uint32_t *tab, size_t cap, const char *key, size_t idx)
{
	size_t h;

	for (h = str_hash(key) & (cap - 1); tab[h] != 0; h = (h + 1) &
	    (cap - 1))
		;
	tab[h] = (uint32_t)(idx + 1);
}

/* Reads new/ and cur/ into the table of names. */
static int
index_dir(struct verify *v, int fd, int cur, struct error *err)
{
	struct dirent *de;
	DIR *d;
	int dup;

	if (fd == -1)
		return 0;
	if ((dup = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (d = fdopendir(dup)) == NULL) {
		if (dup != -1)
			(void)close(dup);
		return error_set(err, ERR_IO, "%s/%s: %s", v->target,
		    cur ? "cur" : "new", strerror(errno));
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (v->nnames == v->namecap) {
			v->namecap = v->namecap ? 2 * v->namecap : 1024;
			v->names = xreallocarray(v->names, v->namecap,
			    sizeof(*v->names));
		}
		v->names[v->nnames].file = arena_strndup(&v->arena,
		    de->d_name, strlen(de->d_name));
		v->names[v->nnames].base = arena_strndup(&v->arena,
		    de->d_name, strcspn(de->d_name, ":"));
		v->names[v->nnames++].cur = cur;
	}
	if (errno != 0) {
		error_set(err, ERR_IO, "%s/%s: %s", v->target, cur ? "cur" :
		    "new", strerror(errno));
		(void)closedir(d);
		return -1;
	}
	(void)closedir(d);
	return 0;
}

static int
index_maildir(struct verify *v, struct error *err)
{
	size_t i;

	v->indexed = 1;
	if (index_dir(v, v->newfd, 0, err) == -1 ||
	    index_dir(v, v->curfd, 1, err) == -1)
		return -1;
	for (v->ncap = 64; v->ncap < 2 * v->nnames; v->ncap *= 2)
		;
	v->ntab = xcalloc(v->ncap, sizeof(*v->ntab));
	for (i = 0; i < v->nnames; i++)
		tab_put(v->ntab, v->ncap, v->names[i].base, i);
	return 0;
}

/* The digest of an open file; closes it. */
static int
hash_file(struct verify *v, int fd, const char *name, char sha[DIGEST_HEX],
    unsigned long long *size, struct error *err)
{
	struct stat sb;
	ssize_t r;

	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		(void)close(fd);
		*size = 0;
		sha[0] = '\0';
		return 0;
	}
	digest_reset(v->dg, 0);
	while ((r = read(fd, v->buf, READ_MAX)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			error_set(err, ERR_IO, "%s: %s: %s", v->target, name,
			    strerror(errno));
			(void)close(fd);
			return -1;
		}
		digest_update(v->dg, v->buf, (size_t)r);
	}
	(void)close(fd);
	digest_final(v->dg, sha, size);
	return 0;
}

static int
open_file(int dirfd, const char *name)
{
	if (dirfd == -1) {
		errno = ENOENT;
		return -1;
	}
	return openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
}

static int
check_maildir(struct verify *v, const struct state_rec *rec,
    enum verify_status *st, struct error *err)
{
	char sha[DIGEST_HEX], *base;
	unsigned long long size;
	const struct name *n = NULL;
	size_t len, h;
	int fd;

	if (state_unescape(rec->where, &base, &len) == -1 ||
	    strlen(base) != len || strchr(base, '/') != NULL ||
	    base[0] == '.') {
		free(base);
		*st = VERIFY_MISSING;
		return 0;
	}
	/* Made by a fetch since verify_open. */
	if (v->dfd == -1 && (v->dfd = open(v->target, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) != -1) {
		v->newfd = subdir(v->dfd, "new", v->target, err);
		v->curfd = subdir(v->dfd, "cur", v->target, err);
		if (v->newfd == -2 || v->curfd == -2) {
			free(base);
			return -1;
		}
	}
	if ((fd = open_file(v->newfd, base)) == -1 && errno == ENOENT) {
		if (!v->indexed && index_maildir(v, err) == -1) {
			free(base);
			return -1;
		}
		for (h = str_hash(base) & (v->ncap - 1); v->ntab[h] != 0;
		    h = (h + 1) & (v->ncap - 1))
			if (strcmp(v->names[v->ntab[h] - 1].base, base) == 0) {
				n = &v->names[v->ntab[h] - 1];
				break;
			}
		if (n != NULL)
			fd = open_file(n->cur ? v->curfd : v->newfd, n->file);
		else
			errno = ENOENT;
	}
	if (fd == -1) {
		free(base);
		if (errno == ENOENT) {
			*st = VERIFY_MISSING;
			return 0;
		}
		return error_set(err, ERR_IO, "%s: %s: %s", v->target,
		    n != NULL ? n->file : "new", strerror(errno));
	}
	if (hash_file(v, fd, n != NULL ? n->file : base, sha, &size,
	    err) == -1) {
		free(base);
		return -1;
	}
	free(base);
	*st = size == rec->size && strcmp(sha, rec->sha) == 0 ?
	    VERIFY_INTACT : VERIFY_CHANGED;
	return 0;
}

/* Hashes one message's bytes (after its From line, without the empty
 * line that ends it), undoing mboxrd quoting: only a line that starts
 * with ">" can be quoted, so the bytes between such lines go to the
 * hash in one piece. */
static void
hash_msg(struct verify *v, const char *p, const char *end, struct msg *m)
{
	const char *gt, *q, *nl;

	digest_reset(v->dg, 1);
	while (p < end) {
		/* The next line start with ">" (p itself is a line start);
		 * ">" is rare enough for memchr to skip most of a body. */
		for (gt = p; (gt = memchr(gt, '>', (size_t)(end - gt))) !=
		    NULL && gt != p && gt[-1] != '\n'; gt++)
			;
		if (gt == NULL) {
			digest_update(v->dg, p, (size_t)(end - p));
			break;
		}
		digest_update(v->dg, p, (size_t)(gt - p));
		nl = memchr(gt, '\n', (size_t)(end - gt));
		nl = nl != NULL ? nl + 1 : end;
		for (q = gt; q < nl && *q == '>'; q++)
			;
		if (nl - q >= 5 && memcmp(q, "From ", 5) == 0)
			digest_update(v->dg, gt + 1, (size_t)(nl - gt - 1));
		else
			digest_update(v->dg, gt, (size_t)(nl - gt));
		p = nl;
	}
	digest_final(v->dg, m->sha, &m->size);
}

/* A line starting "From " at or after p, or NULL. */
static const char *
next_from(const char *base, const char *p, const char *end)
{
	const char *q;

	if (p == base || p[-1] == '\n') {
		if (end - p >= 5 && memcmp(p, "From ", 5) == 0)
			return p;
	}
	q = memmem(p, (size_t)(end - p), "\nFrom ", 6);
	return q != NULL ? q + 1 : NULL;
}

/* Reads the mbox from v->scanned to its end into msgs. */
static int
scan_mbox(struct verify *v, struct error *err)
{
	const char *map, *p, *end, *body, *next, *nl, *stop;
	struct stat sb;
	struct msg *m;
	size_t i;
	int fd;

	fd = open(v->target, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		return error_set(err, ERR_IO, "%s: %s", v->target,
		    strerror(errno));
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		(void)close(fd);
		return error_set(err, ERR_IO, "%s: not a regular file",
		    v->target);
	}
	if (sb.st_size <= v->scanned) {
		(void)close(fd);
		return 0;
	}
	map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	(void)close(fd);
	if (map == MAP_FAILED)
		return error_set(err, ERR_IO, "%s: %s", v->target,
		    strerror(errno));
	(void)madvise((void *)map, (size_t)sb.st_size, MADV_SEQUENTIAL);
	end = map + sb.st_size;
	p = next_from(map, map + v->scanned, end);
	while (p != NULL) {
		nl = memchr(p, '\n', (size_t)(end - p));
		body = nl != NULL ? nl + 1 : end;
		next = body < end ? next_from(map, body, end) : NULL;
		stop = next != NULL ? next : end;
		/* The empty line that ends each message is the mbox's. */
		if (stop - body >= 2 && stop[-1] == '\n' && stop[-2] == '\n')
			stop--;
		if (v->nmsgs == v->msgcap) {
			v->msgcap = v->msgcap ? 2 * v->msgcap : 1024;
			v->msgs = xreallocarray(v->msgs, v->msgcap,
			    sizeof(*v->msgs));
		}
		m = &v->msgs[v->nmsgs++];
		m->from = (off_t)(p - map);
		hash_msg(v, body, stop, m);
		{
			char id[3 * DIGEST_MSGID_MAX + 1];

			digest_msgid(body, (size_t)(stop - body), id);
			m->msgid = arena_strndup(&v->arena, id, strlen(id));
		}
		p = next;
	}
	v->scanned = sb.st_size;
	(void)munmap((void *)map, (size_t)sb.st_size);
	free(v->idtab);
	free(v->shatab);
	for (v->tcap = 64; v->tcap < 2 * v->nmsgs; v->tcap *= 2)
		;
	v->idtab = xcalloc(v->tcap, sizeof(uint32_t));
	v->shatab = xcalloc(v->tcap, sizeof(uint32_t));
	for (i = 0; i < v->nmsgs; i++) {
		tab_put(v->shatab, v->tcap, v->msgs[i].sha, i);
		if (strcmp(v->msgs[i].msgid, "-") != 0)
			tab_put(v->idtab, v->tcap, v->msgs[i].msgid, i);
	}
	return 0;
}

static int
check_mbox(struct verify *v, const struct state_rec *rec,
    enum verify_status *st, struct error *err)
{
	const struct msg *cand = NULL, *m;
	unsigned long long off;
	size_t lo, hi, mid, h;

	if (parse_u64(rec->where, strlen(rec->where), LLONG_MAX, &off) ==
	    -1) {
		*st = VERIFY_MISSING;
		return 0;
	}
	if ((v->tcap == 0 || (off_t)off >= v->scanned) &&
	    scan_mbox(v, err) == -1)
		return -1;
	*st = VERIFY_MISSING;
	if (v->nmsgs == 0)
		return 0;
	/* At the offset (after the one or two LFs a From line may need
	 * before it): the message as delivered, unless the mbox was
	 * rewritten since. */
	for (lo = 0, hi = v->nmsgs; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if (v->msgs[mid].from < (off_t)off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < v->nmsgs && v->msgs[lo].from <= (off_t)off + 2)
		cand = &v->msgs[lo];
	if (cand != NULL && cand->size == rec->size &&
	    strcmp(cand->sha, rec->sha) == 0) {
		*st = VERIFY_INTACT;
		return 0;
	}
	/* Moved by a rewrite: the same bytes elsewhere. */
	for (h = str_hash(rec->sha) & (v->tcap - 1); v->shatab[h] != 0;
	    h = (h + 1) & (v->tcap - 1)) {
		m = &v->msgs[v->shatab[h] - 1];
		if (strcmp(m->sha, rec->sha) == 0 && m->size == rec->size) {
			*st = VERIFY_INTACT;
			return 0;
		}
	}
	/* The same Message-ID, or the same place without one: changed. */
	if (strcmp(rec->msgid, "-") != 0) {
		for (h = str_hash(rec->msgid) & (v->tcap - 1);
		    v->idtab[h] != 0; h = (h + 1) & (v->tcap - 1))
			if (strcmp(v->msgs[v->idtab[h] - 1].msgid,
			    rec->msgid) == 0) {
				*st = VERIFY_CHANGED;
				return 0;
			}
	} else if (cand != NULL && strcmp(cand->msgid, "-") == 0)
		*st = VERIFY_CHANGED;
	return 0;
}

int
verify_check(struct verify *v, const struct state_rec *rec,
    enum verify_status *st, struct error *err)
{
	if (rec->sha == NULL) {
		*st = VERIFY_UNRECORDED;
		return 0;
	}
	if (v->kind == DELIVER_MAILDIR)
		return check_maildir(v, rec, st, err);
	return check_mbox(v, rec, st, err);
}

void
verify_close(struct verify *v)
{
	if (v == NULL)
		return;
	if (v->dfd != -1)
		(void)close(v->dfd);
	if (v->newfd != -1)
		(void)close(v->newfd);
	if (v->curfd != -1)
		(void)close(v->curfd);
	digest_free(v->dg);
	arena_free(&v->arena);
	free(v->names);
	free(v->ntab);
	free(v->msgs);
	free(v->idtab);
	free(v->shatab);
	free(v->buf);
	free(v->target);
	free(v);
}
