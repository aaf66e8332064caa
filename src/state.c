/*
 * state.c - UIDL state with a write-ahead journal.
 *
 * Snapshot format, version 2 (path):
 *	popfetch-state 2 <identity>
 *	S <saved>			when this snapshot was written, in
 *					microseconds since the epoch (what
 *					was stored since is looked for in the
 *					store: fetch.c, check_lost)
 *	U <first> <seen> <uid> [<size> <sha256> <where> <msgid>]
 *					delivered at first, last listed at seen;
 *					what was stored (state.h, struct
 *					state_rec), "-" for no Message-ID
 *	E <count> <crc>			the trailer: count U lines, and the
 *					CRC-32 of every byte before this line
 * Journal format (path.journal), appended record by record:
 *	popfetch-journal 2 <identity> <crc>
 *	B <uid> <token> <crc>		delivery begins (token from deliver)
 *	D <uid> <time> [<size> <sha256> <where> <msgid>] <crc>
 *					delivered and durable
 *	A <uid> <crc>			rolled back
 * Every field is percent-escaped, so fields never contain spaces or line
 * ends; crc is the CRC-32 (eight hex digits) of the record's bytes
 * before the space that precedes it.  The identity is user@host:port of
 * the account, so one account's state is never used for another.
 *
 * Damage and a crash look different, and are told apart: a crash can
 * only cut the journal's last record short (a write that never
 * returned, so nothing relied on it), which is dropped and cut off the
 * file; anything else that fails its check, a snapshot without its
 * trailer or with a wrong count or checksum, is damage, and the state
 * is refused (ERR_CONFIG with HINT_STATE_DAMAGED) before anything is
 * fetched.  Version 1 (a header "popfetch-state 1", "U <time> <uid>"
 * lines, and journal records without checksums before any header) is
 * read once and written back as version 2.
 *
 * The four fields of what was stored came later, within version 2: a
 * U line or a D record without them (written before, or by a delivery
 * that recovery resolved) still loads, and its UID is delivered but
 * cannot be verified.  A popfetch that predates them refuses a state
 * that has them as damaged, which is the safe way round.
 *
 * The journal is not emptied by every run (issue 16: work proportional
 * to what is new): a run that delivers k messages among 100,000 known
 * appends its 2k records and syncs them, and the snapshot, its S line
 * with it, stays as it is; whatever was stored after S still has its
 * records in the journal, which is what the lost-records check
 * (fetch.c) relies on.  state_save folds the journal into a new
 * snapshot once it has grown past an eighth of the snapshot, or when
 * the snapshot must change anyway (a UID dropped, one listed again
 * after the slack of seen_slack, an old format, state_touch).
 *
 * In memory (100,000 known UIDs, nothing new, in about 40 bytes each):
 * the snapshot is read a chunk at a time and never held whole; each
 * UID is one 16-byte entry (struct entry) in an array kept in the order
 * of the server's listing, its text in one buffer (which the listing
 * shares: state_text), and an index of 32-bit slots.  What was stored
 * of a UID stays where it was written, in the snapshot (kept open) or
 * in its journal D record, until the UID is acted on; a save copies it
 * from there.
 *
 * The directory is opened once and the four files (path, path.journal,
 * path.lock, path.new) are opened relative to it, never through a
 * symbolic link, and must be regular files of the invoking user (or of
 * the directory's owner); so no name is built into a path that could be
 * cut short, and a name too long to have its suffixes beside it is
 * refused before anything is touched.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "state.h"

/*
 * One UID of the state, kept small: a run over 100,000 known UIDs that
 * finds nothing new holds these, the index and the UIDs' text, and no
 * parsed copy of what was stored of each.  Those fields stay in the
 * snapshot until a UID is acted on (state_record), and a save copies
 * them from there as they are.
 */
struct entry {
	uint32_t	 when;	/* first delivered (T32) */
	uint32_t	 seen;	/* last listed by the server (T32) */
	uint32_t	 uid;	/* offset of the escaped uid in text */
	uint32_t	 x;	/* what was stored: X_NONE, X_MEM(i),
				 * X_FILE(offset) or X_JRN(offset) */
};

/* What was stored, parsed: in sto[], strings in the arena. */
struct stored {
	unsigned long long size;
	char	*sha;
	char	*where;
	char	*msgid;
};

/* In the snapshot read, at the first of the four fields of its U line
 * (X_FILE); in sto[i] (X_MEM); or in the journal, in the D record that
 * starts at the offset (X_JRN), so that a run delivering 100,000
 * messages holds none of what it stored in memory. */
/* Times in entries are seconds since the epoch in 32 unsigned bits
 * (until 2106), which keeps an entry at 16 bytes. */
#define T32(t)	((t) < 0 ? 0 : (unsigned long long)(t) > UINT32_MAX ? \
		    UINT32_MAX : (uint32_t)(t))

#define X_NONE		0
#define X_MEM(i)	((uint32_t)(i) << 2 | 1)
#define X_FILE(off)	((uint32_t)(off) << 2)
#define X_JRN(off)	((uint32_t)(off) << 2 | 2)
#define X_KIND(x)	((x) & 3)
#define X_ISMEM(x)	(X_KIND(x) == 1)
#define X_ISJRN(x)	(X_KIND(x) == 2)
#define X_ARG(x)	((x) >> 2)

struct pending {
	char	*uid;		/* escaped */
	char	*token;		/* escaped */
	int	 done;
};

/* The files beside the snapshot, by the suffix of their names. */
#define SUFFIX_MAX	(sizeof(".journal") - 1)

/* The largest snapshot or journal read (a million long UIDs).  An
 * offset into either fits in 30 bits (X_FILE, X_JRN). */
#define STATE_FILE_MAX	((off_t)1 << 30)

/* The snapshot is read this much at a time; twice the longest line a
 * save writes. */
#define RBUF_SIZE	(2 * 65536)
/* The longest record a save writes (struct out), and so the longest a
 * load accepts: a longer one could be read but never written back. */
#define REC_MAX		65536

struct state {
	char		*path;		/* as given, for messages */
	char		*ident;		/* escaped identity, or NULL */
	int		 dfd;		/* its directory; -1: none (readonly) */
	uid_t		 downer;	/* the directory's owner */
	char		*name;		/* the snapshot's name in dfd */
	int		 readonly;
	int		 version;	/* of the snapshot read, 0: none */
	int		 lockfd;
	int		 jfd;		/* read back too (X_JRN) */
	int		 jrfd;		/* readonly: the journal read */
	int		 sfd;		/* the snapshot read, kept open for
					 * X_FILE fields; -1: none */
	int		 jheader;	/* the journal has its v2 header */
	int		 jbroken;	/* a journal write failed: records
					 * held back were lost, so no
					 * later sync may succeed */
	off_t		 jtorn;		/* where a torn last record began,
					 * or -1 */
	struct entry	*ent;		/* in the order read or added */
	unsigned char	*absent;	/* per entry: drop at the next save */
	size_t		 nent, entcap;
	uint32_t	*idx;		/* open addressing, power of two:
					 * 0 empty, else a hash tag above
					 * ibits and entry + 1 below */
	size_t		 icap;
	unsigned	 ibits;
	size_t		 next;		/* the entry find tries first */
	/* The uids, each NUL-terminated: the entries' and those
	 * state_hold keeps for a delivery to come.  It never moves, so
	 * that state_text and state_hold can hand out pointers. */
	struct vbuf	 text;
	size_t		 keeplen;	/* text.len at state_open: the uids
					 * recorded before this run */
	struct stored	*sto;
	size_t		 nsto, stocap;
	struct arena	 arena;		/* the strings of sto */
	char		*lbuf;		/* one snapshot line, read back */
	/* Records held back, not written yet (D, A; B with
	 * STATE_LATER). */
	char		*jbuf;
	size_t		 jlen;
	char		*ebuf;		/* scratch for escaping */
	size_t		 ebufcap;
	struct pending	*pend;
	size_t		 npend, pendcap;
	size_t		 njournal;	/* records replayed */
	off_t		 jsize;		/* the journal's bytes written out */
	off_t		 jrec;		/* where the last record journaled
					 * starts in it */
	off_t		 ssize;		/* the snapshot's, as read */
	int		 jwrote;	/* records written since the last
					 * fdatasync of the journal */
	int		 changed;	/* the snapshot must be rewritten:
					 * more than the journal can say
					 * (a UID dropped or listed anew,
					 * an old format, state_touch) */
	long long	 saved;		/* the snapshot's S line, or 0 */
	char		 note[STATE_NOTE_MAX];	/* in the lock file */
};

/*
 * When the server last listed a UID is kept only roughly, to a
 * sixteenth of --forget-after (at least an hour, at most a day): it
 * counts days, and a run that finds nothing new and no UID gone then
 * leaves the snapshot as it is instead of rewriting it, so that runs
 * every few minutes write it at most once a day.  A UID is dropped only
 * once it is absent for after plus that slack, so the rounding keeps a
 * UID longer, never shorter.
 */
#define SEEN_SLACK_MIN	3600
#define SEEN_SLACK_MAX	86400

static time_t
seen_slack(time_t after)
{
	time_t s = after / 16;

	return s < SEEN_SLACK_MIN ? SEEN_SLACK_MIN : s > SEEN_SLACK_MAX ?
	    SEEN_SLACK_MAX : s;
}


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

/* FNV-1a with a final mix, so that the low bits (the slot) and the
 * high bits (the tag) both depend on every byte. */
static uint64_t
hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	while (len-- > 0)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static uint32_t
tag_of(const struct state *st, uint64_t h)
{
	return (uint32_t)(h >> 32) >> st->ibits;
}

/* Puts entry n, of hash h, into the index. */
static void
index_put(struct state *st, size_t n, uint64_t h)
{
	size_t i, mask = st->icap - 1;

	for (i = h & mask; st->idx[i] != 0; i = (i + 1) & mask)
		;
	st->idx[i] = tag_of(st, h) << st->ibits | (uint32_t)(n + 1);
}

/* An index for want entries, at most four fifths full, rebuilt from
 * the entries. */
static void
index_grow(struct state *st, size_t want)
{
	const char *u;
	size_t cap = 64, n;
	unsigned bits = 7;

	while (want * 5 > cap * 4) {
		cap *= 2;
		bits++;
	}
	/* Entry numbers up to cap, and at least a few bits of tag. */
	if (bits > 30)
		errx(71, "state: too many UIDs");
	free(st->idx);
	st->idx = xcalloc(cap, sizeof(*st->idx));
	st->icap = cap;
	st->ibits = bits;
	for (n = 0; n < st->nent; n++) {
		u = st->text.base + st->ent[n].uid;
		index_put(st, n, hash(u, strlen(u)));
	}
}

static struct entry *
find_len(struct state *st, const char *uid, size_t len, uint64_t h)
{
	size_t i, mask = st->icap - 1;
	uint32_t v, tag, low = ((uint32_t)1 << st->ibits) - 1;
	struct entry *e;

	if (st->icap == 0)
		return NULL;
	tag = tag_of(st, h);
	for (i = h & mask; (v = st->idx[i]) != 0; i = (i + 1) & mask) {
		if (v >> st->ibits != tag)
			continue;
		e = &st->ent[(v & low) - 1];
		if (strncmp(st->text.base + e->uid, uid, len) == 0 &&
		    st->text.base[e->uid + len] == '\0')
			return e;
	}
	return NULL;
}

/*
 * Lookups come in the order of the server's listing, and the entries
 * are kept in that order (listing_order): the entry after the one
 * found last is tried first, which makes a run over a long listing a
 * walk through the table rather than a hash lookup per UID.
 */
static struct entry *
find(struct state *st, const char *uid)
{
	size_t len;
	struct entry *e;

	if (st->next < st->nent &&
	    strcmp(st->text.base + st->ent[st->next].uid, uid) == 0)
		return &st->ent[st->next++];
	len = strlen(uid);
	if ((e = find_len(st, uid, len, hash(uid, len))) != NULL)
		st->next = (size_t)(e - st->ent) + 1;
	return e;
}

/* What was stored, copied into the state for e (a later delivery of
 * the same UID, by --refetch-missing, replaces it). */
static void
set_stored(struct state *st, struct entry *e, const struct state_rec *rec)
{
	struct stored *s;

	if (rec == NULL || rec->sha == NULL)
		return;
	if (st->nsto == st->stocap) {
		st->stocap = st->stocap ? 2 * st->stocap : 16;
		st->sto = xreallocarray(st->sto, st->stocap, sizeof(*st->sto));
	}
	if (st->nsto >= (size_t)1 << 30)
		errx(71, "state: too many records");
	s = &st->sto[st->nsto];
	s->size = rec->size;
	s->sha = arena_strndup(&st->arena, rec->sha, strlen(rec->sha));
	s->where = arena_strndup(&st->arena, rec->where, strlen(rec->where));
	s->msgid = arena_strndup(&st->arena, rec->msgid, strlen(rec->msgid));
	e->x = X_MEM(st->nsto++);
}

/* A copy of uid (len bytes) at the end of the text: 0 with its offset
 * in *off, or -1 if the text is full (offsets are 32 bits, and the
 * text never moves). */
static int
text_add(struct state *st, const char *uid, size_t len, uint32_t *off)
{
	size_t at = st->text.len;

	if (vbuf_room(&st->text, len + 1) == -1 || at + len >= UINT32_MAX)
		return -1;
	memcpy(st->text.base + at, uid, len);
	st->text.base[at + len] = '\0';
	st->text.len += len + 1;
	*off = (uint32_t)at;
	return 0;
}

/* Whether s lies in the text (state_hold's copy of a uid). */
static int
in_text(const struct state *st, const char *s)
{
	return st->text.base != NULL && s >= st->text.base &&
	    s < st->text.base + st->text.len;
}

/*
 * Records uid (escaped, len bytes) as delivered at when and listed at
 * seen, with what was stored: rec, or x (X_FILE: in the snapshot) if
 * rec is NULL.  A uid already there keeps its time and takes the new
 * fields.  A uid in the text already (state_hold's) is not copied.
 */
static void
insert_len(struct state *st, const char *uid, size_t len, time_t when,
    time_t seen, const struct state_rec *rec, uint32_t x)
{
	uint64_t h = hash(uid, len);
	struct entry *e;

	if ((e = find_len(st, uid, len, h)) != NULL) {
		st->absent[e - st->ent] = 0;
		if (T32(seen) > e->seen)
			e->seen = T32(seen);
		if (rec == NULL && x != X_NONE)
			e->x = x;
		set_stored(st, e, rec);
		return;
	}
	if (st->nent == st->entcap) {
		st->entcap = st->entcap ? 2 * st->entcap : 64;
		st->ent = xreallocarray(st->ent, st->entcap, sizeof(*st->ent));
		st->absent = xreallocarray(st->absent, st->entcap, 1);
	}
	e = &st->ent[st->nent];
	if (in_text(st, uid) && uid[len] == '\0')
		e->uid = (uint32_t)(uid - st->text.base);
	else if (text_add(st, uid, len, &e->uid) == -1)
		errx(71, "state: too many UIDs");
	e->when = T32(when);
	e->seen = T32(seen);
	e->x = rec == NULL ? x : X_NONE;
	set_stored(st, e, rec);
	st->absent[st->nent] = 0;
	st->nent++;
	if (st->nent * 5 > st->icap * 4)
		index_grow(st, st->icap ? 2 * st->nent : st->nent);
	else
		index_put(st, st->nent - 1, h);
}

static void
insert(struct state *st, const char *uid, time_t when, time_t seen,
    const struct state_rec *rec)
{
	insert_len(st, uid, strlen(uid), when, seen, rec, X_NONE);
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

/* The wall clock in microseconds, as a maildir file's name has it. */
static long long
now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Splits a line in place into exactly n space-separated fields. */
static int
fields(char *line, char **f, int n)
{
	int k = 0;
	char *t;

	while (k < n && (t = strsep(&line, " ")) != NULL)
		f[k++] = t;
	return k == n && line == NULL ? 0 : -1;
}

/* Whether s is one escaped field as state_escape writes it. */
static int
valid_field(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			return 0;
		if (*p == '%' && (hex_digit(p[1]) < 0 || hex_digit(p[2]) < 0))
			return 0;
	}
	return 1;
}

static int
parse_time(const char *s, time_t *t)
{
	unsigned long long v;

	if (parse_u64(s, strlen(s), LLONG_MAX, &v) == -1)
		return -1;
	*t = (time_t)v;
	return 0;
}

/* Eight lower-case hex digits of a CRC-32. */
static int
parse_crc(const char *s, unsigned long *crc)
{
	unsigned long v = 0;
	int i, d;

	for (i = 0; i < 8; i++) {
		if ((d = hex_digit((unsigned char)s[i])) < 0)
			return -1;
		v = v << 4 | (unsigned long)d;
	}
	if (s[8] != '\0')
		return -1;
	*crc = v;
	return 0;
}

static unsigned long
crc_of(const char *s, size_t len)
{
	return crc32(0L, (const Bytef *)s, (uInt)len);
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

/* A planted link or someone else's file where popfetch keeps its own:
 * refused (ERR_CANTCREAT), nothing written. */
static int
refuse_file(const struct state *st, const char *suffix, int e,
    struct error *err)
{
	if (e == ELOOP || e == EMLINK)
		return error_set(err, ERR_CANTCREAT, "%s%s: is a symbolic "
		    "link; popfetch never follows one for its state (remove "
		    "it, or check who planted it)", st->path, suffix);
	return error_set(err, ERR_CANTCREAT, "%s%s: not a regular file of "
	    "the invoking user or of its directory's owner; refusing it "
	    "(remove it, or check who made it)", st->path, suffix);
}

/* Checks what was opened: a regular file of ours or the directory's
 * owner's.  Closes fd on failure. */
static int
check_own(const struct state *st, const char *suffix, int fd,
    struct error *err)
{
	struct stat sb;

	if (fstat(fd, &sb) == -1) {
		error_set(err, ERR_IO, "%s%s: %s", st->path, suffix,
		    strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || (sb.st_uid != geteuid() &&
	    sb.st_uid != st->downer)) {
		(void)close(fd);
		return refuse_file(st, suffix, 0, err);
	}
	return 0;
}

/* Opens the file with suffix for reading into *fd, checked as ours;
 * a missing one gives *fd = -1. */
static int
open_read(struct state *st, const char *suffix, int *fd, struct error *err)
{
	char name[NAME_MAX + 1];

	*fd = -1;
	if (st->dfd == -1)
		return 0;
	*fd = openat(st->dfd, sibling(st, suffix, name), O_RDONLY |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (*fd == -1) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP || errno == EMLINK)
			return refuse_file(st, suffix, errno, err);
		return error_set(err, ERR_IO, "%s%s: %s", st->path, suffix,
		    strerror(errno));
	}
	if (check_own(st, suffix, *fd, err) == -1) {
		*fd = -1;
		return -1;
	}
	return 0;
}

/* Reads the whole file with suffix into *buf (NUL-terminated, *len
 * bytes without it); a missing one gives *buf = NULL. */
static int
read_whole(struct state *st, const char *suffix, char **buf, size_t *len,
    int *keep, struct error *err)
{
	struct stat sb;
	size_t n = 0, cap;
	ssize_t r;
	int fd;

	*buf = NULL;
	*len = 0;
	if (open_read(st, suffix, &fd, err) == -1)
		return -1;
	if (fd == -1)
		return 0;
	/* The size is only a guess: read to the end. */
	cap = fstat(fd, &sb) == 0 && sb.st_size > 0 &&
	    sb.st_size < STATE_FILE_MAX ? (size_t)sb.st_size + 1 : 4096;
	*buf = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap >= (size_t)STATE_FILE_MAX) {
				errno = EFBIG;
				r = -1;
				goto bad;
			}
			cap *= 2;
			*buf = xreallocarray(*buf, cap + 1, 1);
		}
		if ((r = read(fd, *buf + n, cap - n)) == 0)
			break;
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto bad;
		n += (size_t)r;
	}
	if (keep != NULL)
		*keep = fd;
	else
		(void)close(fd);
	(*buf)[n] = '\0';
	*len = n;
	return 0;
bad:
	error_set(err, ERR_IO, "%s%s: %s", st->path, suffix, strerror(errno));
	(void)close(fd);
	free(*buf);
	*buf = NULL;
	return -1;
}

/* Damage: ERR_CONFIG naming the file and the way out. */
static int
damaged(const struct state *st, const char *suffix, struct error *err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
damaged(const struct state *st, const char *suffix, struct error *err,
    const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	error_set(err, ERR_CONFIG, "%s%s: damaged %s (%s); nothing was "
	    "fetched", st->path, suffix, *suffix == '\0' ? "state file" :
	    "journal", why);
	return error_hint(err, HINT_STATE_DAMAGED);
}

/* Compares the identity in a file with the one expected. */
static int
check_ident(const struct state *st, const char *suffix, const char *id,
    struct error *err)
{
	char *a, *b;
	char va[128], vb[128];
	size_t la, lb;

	if (!valid_field(id))
		return damaged(st, suffix, err, "a malformed header");
	if (st->ident == NULL || strcmp(st->ident, id) == 0)
		return 0;
	if (state_unescape(id, &a, &la) == -1)
		return damaged(st, suffix, err, "a malformed header");
	if (state_unescape(st->ident, &b, &lb) == -1) {
		free(a);
		return damaged(st, suffix, err, "a malformed header");
	}
	error_set(err, ERR_CONFIG, "%s%s: this state belongs to %s, not to "
	    "%s; refusing it, nothing was fetched or deleted", st->path,
	    suffix, vis_text(va, sizeof(va), a, la),
	    vis_text(vb, sizeof(vb), b, lb));
	free(a);
	free(b);
	return error_hint(err, HINT_STATE_FOREIGN);
}

/* Whether s is 64 lower-case hex digits. */
static int
valid_sha(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

/* Fills rec from the four fields of what was stored; -1 if they are
 * not valid. */
static int
parse_stored(char **f, struct state_rec *rec)
{
	unsigned long long size;

	if (parse_u64(f[0], strlen(f[0]), LLONG_MAX, &size) == -1 ||
	    !valid_sha(f[1]) || !valid_field(f[2]) || !valid_field(f[3]))
		return -1;
	rec->size = size;
	rec->sha = f[1];
	rec->where = f[2];
	rec->msgid = f[3];
	return 0;
}

/* As valid_field, for len bytes not NUL-terminated. */
static int
valid_fieldn(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return 0;
		if (p[i] == '%' && (i + 2 >= len || hex_digit(p[i + 1]) < 0 ||
		    hex_digit(p[i + 2]) < 0))
			return 0;
	}
	return 1;
}

/* A decimal time of len bytes. */
static int
parse_timen(const char *s, size_t len, time_t *t)
{
	unsigned long long v;

	if (parse_u64(s, len, LLONG_MAX, &v) == -1)
		return -1;
	*t = (time_t)v;
	return 0;
}

/* The snapshot as it is read: what its lines so far have said. */
struct load {
	int		 lineno;
	int		 done;		/* its trailer was read */
	int		 have_saved;	/* its S line was read */
	size_t		 n;		/* U lines */
	unsigned long	 crc;		/* of every byte before the trailer */
	time_t		 now;
};

static int
load_v1_line(struct state *st, struct load *ld, char *p, size_t len,
    struct error *err)
{
	char *f[3];
	time_t t;

	p[len] = '\0';
	if (fields(p, f, 3) == -1 || strcmp(f[0], "U") != 0 ||
	    parse_time(f[1], &t) == -1 || !valid_field(f[2]))
		return damaged(st, "", err, "line %d", ld->lineno);
	insert(st, f[2], t, ld->now, NULL);
	return 0;
}

/* "E <count> <crc>": the count and the checksum of everything before
 * it must agree. */
static int
load_trailer(struct state *st, struct load *ld, const char *p, size_t len,
    struct error *err)
{
	char line[64], *f[3];
	unsigned long long count;
	unsigned long want;

	if (len >= sizeof(line))
		return damaged(st, "", err, "line %d", ld->lineno);
	memcpy(line, p, len);
	line[len] = '\0';
	if (fields(line, f, 3) == -1 || strcmp(f[0], "E") != 0 ||
	    parse_u64(f[1], strlen(f[1]), SIZE_MAX, &count) == -1 ||
	    parse_crc(f[2], &want) == -1)
		return damaged(st, "", err, "line %d", ld->lineno);
	if (count != ld->n)
		return damaged(st, "", err, "%zu records where its trailer "
		    "says %llu", ld->n, count);
	if (ld->crc != want)
		return damaged(st, "", err, "checksum mismatch");
	/* Written before the S line: rewritten at the next save, so that
	 * it has one. */
	if (!ld->have_saved)
		st->changed = 1;
	ld->done = 1;
	return 0;
}

/* "S <saved>", before the first U line: when the snapshot was
 * written (state_saved). */
static int
load_saved(struct state *st, struct load *ld, const char *p, size_t len,
    struct error *err)
{
	time_t t;

	if (len < 3 || p[1] != ' ' || parse_timen(p + 2, len - 2, &t) == -1)
		return damaged(st, "", err, "line %d", ld->lineno);
	st->saved = (long long)t;
	ld->have_saved = 1;
	return 0;
}

/*
 * "U <first> <seen> <uid> [<size> <sha256> <where> <msgid>]", at off in
 * the snapshot, parsed where it lies (the checksum covers these bytes).
 * What was stored is only counted out here and left in the file
 * (X_FILE); state_record checks it when a UID is acted on.  The
 * checksum already refused a damaged file.
 */
static int
load_v2_line(struct state *st, struct load *ld, const char *p, size_t len,
    off_t off, struct error *err)
{
	const char *e = p + len, *q, *s, *xs;
	uint32_t x = X_NONE;
	time_t t, seen;
	size_t ul;
	int k;

	if (len < 2 || p[0] != 'U' || p[1] != ' ' || len + 48 > REC_MAX)
		goto bad;
	q = p + 2;
	if ((s = memchr(q, ' ', (size_t)(e - q))) == NULL ||
	    parse_timen(q, (size_t)(s - q), &t) == -1)
		goto bad;
	q = s + 1;
	if ((s = memchr(q, ' ', (size_t)(e - q))) == NULL ||
	    parse_timen(q, (size_t)(s - q), &seen) == -1)
		goto bad;
	q = s + 1;
	s = memchr(q, ' ', (size_t)(e - q));
	ul = (size_t)((s != NULL ? s : e) - q);
	if (!valid_fieldn(q, ul))
		goto bad;
	if (s != NULL) {
		/* Four more fields, none empty; the SHA-256 64 digits. */
		xs = s + 1;
		for (k = 0, s = xs; k < 4; k++, s++) {
			const char *f = s;

			s = memchr(f, ' ', (size_t)(e - f));
			if (s == NULL)
				s = e;
			if (s == f || (k < 3) != (s != e) ||
			    (k == 1 && s - f != 64))
				goto bad;
		}
		x = X_FILE(off + (xs - p));
	}
	insert_len(st, q, ul, t, seen, NULL, x);
	ld->n++;
	return 0;
bad:
	return damaged(st, "", err, "line %d", ld->lineno);
}

/* The header: which version, and whose. */
static int
load_header(struct state *st, char *p, size_t len, struct error *err)
{
	static const char v2[] = "popfetch-state 2 ";
	int r;

	if (len >= sizeof(v2) - 1 && memcmp(p, v2, sizeof(v2) - 1) == 0) {
		st->version = 2;
		p[len] = '\0';
		r = check_ident(st, "", p + sizeof(v2) - 1, err);
		p[len] = '\n';
		return r;
	}
	if (len == 16 && memcmp(p, "popfetch-state 1", 16) == 0) {
		st->version = 1;
		return 0;
	}
	return damaged(st, "", err, "not a popfetch state file");
}

/* How many records the trailer announces, as a size to start from
 * (never more than the file could hold); 0 if it says nothing. */
static size_t
count_hint(int fd, off_t size)
{
	char tail[64], *p;
	unsigned long long v;
	ssize_t r;
	off_t at = size > (off_t)sizeof(tail) - 1 ? size -
	    ((off_t)sizeof(tail) - 1) : 0;

	if ((r = pread(fd, tail, sizeof(tail) - 1, at)) <= 1 ||
	    tail[r - 1] != '\n')
		return 0;
	tail[r - 1] = '\0';
	if ((p = strrchr(tail, '\n')) == NULL || p[1] != 'E' || p[2] != ' ')
		return 0;
	p += 3;
	if (parse_u64(p, strcspn(p, " "), SIZE_MAX, &v) == -1)
		return 0;
	return v < (unsigned long long)size / 8 ? (size_t)v :
	    (size_t)size / 8;
}

/* Room for n entries, so that a load neither rehashes nor copies. */
static void
reserve(struct state *st, size_t n)
{
	if (n <= st->entcap)
		return;
	st->entcap = n;
	st->ent = xreallocarray(st->ent, st->entcap, sizeof(*st->ent));
	st->absent = xreallocarray(st->absent, st->entcap, 1);
	if (n * 5 > st->icap * 4)
		index_grow(st, n);
}

void
state_reserve(struct state *st, size_t n)
{
	if (n > 0)
		reserve(st, st->nent + n);
}

/* One line (len bytes, its LF at p[len]) at off in the snapshot. */
static int
load_line(struct state *st, struct load *ld, char *p, size_t len, off_t off,
    struct error *err)
{
	if (++ld->lineno == 1)
		return load_header(st, p, len, err);
	if (st->version == 1)
		return load_v1_line(st, ld, p, len, err);
	if (p[0] == 'E')
		return load_trailer(st, ld, p, len, err);
	if (p[0] == 'S' && ld->n == 0 && !ld->have_saved)
		return load_saved(st, ld, p, len, err);
	return load_v2_line(st, ld, p, len, off, err);
}

/*
 * Reads the snapshot RBUF_SIZE bytes at a time and parses each line as
 * it comes, folding each chunk into the checksum in the same pass: the
 * file is never held whole.  It stays open (st->sfd) for the fields
 * left in it.
 */
static int
load_snapshot(struct state *st, struct error *err)
{
	struct load ld;
	struct stat sb;
	char *buf, *p, *end, *nl, *from;
	size_t have = 0;
	off_t base = 0;
	ssize_t r;
	int fd, eof = 0;

	if (open_read(st, "", &fd, err) == -1)
		return -1;
	if (fd == -1)
		return 0;
	memset(&ld, 0, sizeof(ld));
	ld.now = time(NULL);
	if (fstat(fd, &sb) == 0 && sb.st_size > 0 &&
	    sb.st_size < STATE_FILE_MAX) {
		st->ssize = sb.st_size;
		reserve(st, count_hint(fd, sb.st_size));
	}
	buf = xmalloc(RBUF_SIZE + 1);
	while (!eof) {
		if ((r = read(fd, buf + have, RBUF_SIZE - have)) == -1) {
			if (errno == EINTR)
				continue;
			goto ioerr;
		}
		if (r == 0)
			eof = 1;
		if (base + (off_t)have + r > STATE_FILE_MAX) {
			errno = EFBIG;
			goto ioerr;
		}
		have += (size_t)r;
		end = buf + have;
		for (p = from = buf; p < end && !ld.done &&
		    (nl = memchr(p, '\n', (size_t)(end - p))) != NULL;
		    p = nl + 1) {
			if (st->version == 2 && *p == 'E') {
				ld.crc = crc32(ld.crc, (const Bytef *)from,
				    (uInt)(p - from));
				from = p;
			}
			if (load_line(st, &ld, p, (size_t)(nl - p), base +
			    (p - buf), err) == -1)
				goto fail;
		}
		if (ld.done) {
			if (p != end || (!eof && read(fd, buf, 1) != 0)) {
				damaged(st, "", err, "bytes after its end");
				goto fail;
			}
			break;
		}
		if (st->version != 1)
			ld.crc = crc32(ld.crc, (const Bytef *)from,
			    (uInt)(p - from));
		/* The partial last line moves to the front. */
		have = (size_t)(end - p);
		if (eof)
			break;
		memmove(buf, p, have);
		base += p - buf;
		if (have == RBUF_SIZE) {
			damaged(st, "", err, "line %d too long",
			    ld.lineno + 1);
			goto fail;
		}
	}
	free(buf);
	if (ld.done || st->version == 1) {
		/* Version 1: a last line without its LF was cut by a
		 * crash. */
		if (st->version == 2)
			st->sfd = fd;
		else
			(void)close(fd);
		return 0;
	}
	(void)close(fd);
	if (ld.lineno == 0)
		return damaged(st, "", err, have == 0 ? "empty" :
		    "cut short in its header");
	if (have > 0)
		return damaged(st, "", err, "cut short at line %d",
		    ld.lineno + 1);
	return damaged(st, "", err, "cut short: no trailer");
ioerr:
	error_set(err, ERR_IO, "%s: %s", st->path, strerror(errno));
fail:
	free(buf);
	(void)close(fd);
	return -1;
}

static void
add_pending(struct state *st, const char *uid, const char *token)
{
	if (st->npend == st->pendcap) {
		st->pendcap = st->pendcap ? 2 * st->pendcap : 16;
		st->pend = xreallocarray(st->pend, st->pendcap,
		    sizeof(*st->pend));
	}
	st->pend[st->npend].uid = xstrdup(uid);
	st->pend[st->npend].token = xstrdup(token);
	st->pend[st->npend++].done = 0;
}

/*
 * Ends the deliveries of uid begun so far.  Those ended at the back of
 * the list go at once: a journal kept across runs holds a B and a D
 * for each of thousands of deliveries, and the list stays as short as
 * the batch of deliveries in flight rather than growing with it (which
 * made replaying such a journal quadratic).
 */
static void
end_pending(struct state *st, const char *uid)
{
	size_t i;

	for (i = st->npend; i-- > 0;)
		if (!st->pend[i].done && strcmp(st->pend[i].uid, uid) == 0)
			st->pend[i].done = 1;
	while (st->npend > 0 && st->pend[st->npend - 1].done) {
		st->npend--;
		free(st->pend[st->npend].uid);
		free(st->pend[st->npend].token);
	}
}

/*
 * One journal record, checked and applied; -1 (without err) if it is
 * not a whole, valid record.  v2: it carries its checksum.
 */
static int
journal_record(struct state *st, char *line, int v2, off_t off)
{
	char *f[8], *sp;
	struct state_rec rec;
	unsigned long crc;
	time_t t;
	int n;

	if (v2) {
		if ((sp = strrchr(line, ' ')) == NULL ||
		    parse_crc(sp + 1, &crc) == -1 ||
		    crc_of(line, (size_t)(sp - line)) != crc)
			return -1;
		*sp = '\0';
	}
	for (n = 0; n < 8 && (f[n] = strsep(&line, " ")) != NULL; n++)
		;
	if (line != NULL)
		return -1;
	if (n == 3 && strcmp(f[0], "B") == 0 && valid_field(f[1]) &&
	    valid_field(f[2]))
		add_pending(st, f[1], f[2]);
	else if ((n == 3 || (n == 7 && parse_stored(f + 3, &rec) == 0)) &&
	    strcmp(f[0], "D") == 0 && valid_field(f[1]) &&
	    parse_time(f[2], &t) == 0) {
		/* What was stored stays in the journal, as it does in the
		 * snapshot. */
		if (n == 7 && v2 && off < STATE_FILE_MAX)
			insert_len(st, f[1], strlen(f[1]), t, t, NULL,
			    X_JRN(off));
		else
			insert(st, f[1], t, t, n == 7 ? &rec : NULL);
		end_pending(st, f[1]);
	} else if (n == 2 && strcmp(f[0], "A") == 0 && valid_field(f[1]))
		end_pending(st, f[1]);
	else
		return -1;
	st->njournal++;
	return 0;
}

/* Whether the bytes are all NUL: a tail the file system extended but
 * never wrote, after a power loss. */
static int
all_nul(const char *p, size_t len)
{
	while (len > 0)
		if (p[--len] != '\0')
			return 0;
	return 1;
}

static int
replay_journal(struct state *st, struct error *err)
{
	char *buf, *p, *nl, *end, *f[4];
	unsigned long crc;
	size_t len, llen;
	int lineno = 0, v2 = 0, r = 0;

	st->jtorn = -1;
	/* Kept open when nothing is written: what was stored of a D record
	 * is read back from it (X_JRN). */
	if (read_whole(st, ".journal", &buf, &len, st->readonly ?
	    &st->jrfd : NULL, err) == -1)
		return -1;
	if (buf == NULL)
		return 0;
	end = buf + len;
	for (p = buf; p < end && r == 0; p = nl + 1) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		/* The last record without its LF, or never written (NULs):
		 * a write cut by a crash; nothing relied on it. */
		if (nl == NULL || (nl + 1 == end && all_nul(p,
		    (size_t)(nl - p)))) {
			st->jtorn = (off_t)(p - buf);
			break;
		}
		llen = (size_t)(nl - p);
		*nl = '\0';
		if (memchr(p, '\0', llen) != NULL)
			r = damaged(st, ".journal", err, "record %d fails its "
			    "check", lineno);
		else if (strncmp(p, "popfetch-journal ", 17) == 0) {
			char *sp = strrchr(p, ' ');

			if (v2 || parse_crc(sp + 1, &crc) == -1 ||
			    crc_of(p, (size_t)(sp - p)) != crc)
				r = damaged(st, ".journal", err, "record %d "
				    "fails its check", lineno);
			else {
				*sp = '\0';
				if (fields(p, f, 3) == -1 ||
				    strcmp(f[1], "2") != 0)
					r = damaged(st, ".journal", err,
					    "an unknown version");
				else
					r = check_ident(st, ".journal", f[2],
					    err);
				v2 = 1;
			}
		} else if (journal_record(st, p, v2, (off_t)(p - buf)) == -1)
			r = damaged(st, ".journal", err, "record %d fails its "
			    "check", lineno);
	}
	st->jheader = v2;
	st->jsize = st->jtorn != -1 ? st->jtorn : (off_t)len;
	free(buf);
	return r;
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
 * never through a symbolic link, and only a regular file of ours. */
static int
open_own(struct state *st, const char *suffix, int flags, struct error *err)
{
	char name[NAME_MAX + 1];
	int fd;

	fd = openat(st->dfd, sibling(st, suffix, name), flags | O_CREAT |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd == -1) {
		if (errno == ELOOP || errno == EMLINK)
			return refuse_file(st, suffix, errno, err);
		return error_set(err, ERR_CANTCREAT, "%s%s: %s", st->path,
		    suffix, strerror(errno));
	}
	if (check_own(st, suffix, fd, err) == -1)
		return -1;
	/* Root keeping a state in someone else's directory: the files are
	 * that user's, as procmail does with a mailbox, so that the user's
	 * own runs can go on with them. */
	if (geteuid() == 0 && st->downer != 0)
		(void)fchown(fd, st->downer, (gid_t)-1);
	return fd;
}

/* A .new that is not a plain file of ours: someone planted it. */
static int
check_new(struct state *st, struct error *err)
{
	char name[NAME_MAX + 1];
	struct stat sb;

	if (fstatat(st->dfd, sibling(st, ".new", name), &sb,
	    AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : error_set(err, ERR_IO, "%s.new: "
		    "%s", st->path, strerror(errno));
	if (S_ISLNK(sb.st_mode))
		return refuse_file(st, ".new", ELOOP, err);
	if (!S_ISREG(sb.st_mode) || (sb.st_uid != geteuid() &&
	    sb.st_uid != st->downer))
		return refuse_file(st, ".new", 0, err);
	return 0;
}

/* The note: one line at the start of the lock file, if any. */
static void
read_note(struct state *st)
{
	char line[STATE_NOTE_MAX + 1], *nl;
	ssize_t n;

	/* The longest note and its LF. */
	n = pread(st->lockfd, line, sizeof(line) - 1, 0);
	line[n > 0 ? n : 0] = '\0';
	st->note[0] = '\0';
	/* Without its LF, a write cut short: no note. */
	if ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		(void)strlcpy(st->note, line, sizeof(st->note));
	}
}

const char *
state_note(const struct state *st)
{
	return st->note;
}

void
state_set_note(struct state *st, const char *text)
{
	char line[STATE_NOTE_MAX + 1];
	int n;

	if (st->lockfd == -1 || strcmp(st->note, text) == 0)
		return;
	n = snprintf(line, sizeof(line), "%s\n", text);
	if (n < 0 || (size_t)n >= sizeof(line) || strchr(text, '\n') != NULL)
		return;
	/* Cut first: a note cut short by a crash reads as no note. */
	if (ftruncate(st->lockfd, 0) == -1 ||
	    pwrite(st->lockfd, line, (size_t)n, 0) != n)
		return;
	(void)strlcpy(st->note, text, sizeof(st->note));
}

struct state *
state_open(const char *path, const char *identity, int readonly,
    struct error *err)
{
	struct state *st = xcalloc(1, sizeof(*st));
	struct stat sb;

	st->path = xstrdup(path);
	st->readonly = readonly;
	st->dfd = st->lockfd = st->jfd = st->jrfd = st->sfd = -1;
	st->jtorn = -1;
	st->downer = geteuid();
	if (identity != NULL)
		st->ident = state_escape(identity, strlen(identity));
	if (open_dir(st, path, err) == -1)
		goto fail;
	if (st->dfd != -1 && fstat(st->dfd, &sb) == 0)
		st->downer = sb.st_uid;
	if (!readonly) {
		if ((st->lockfd = open_own(st, ".lock", O_RDWR, err)) == -1)
			goto fail;
		/* flock: released by the kernel when the process dies. */
		if (flock(st->lockfd, LOCK_EX | LOCK_NB) == -1) {
			error_set(err, errno == EWOULDBLOCK ? ERR_LOCKED :
			    ERR_IO, "%s.lock: %s", path, errno == EWOULDBLOCK ?
			    "another popfetch is running for this account" :
			    strerror(errno));
			goto fail;
		}
		if (check_new(st, err) == -1)
			goto fail;
		read_note(st);
	}
	if (load_snapshot(st, err) == -1 || replay_journal(st, err) == -1)
		goto fail;
	if (!readonly) {
		if ((st->jfd = open_own(st, ".journal", O_RDWR | O_APPEND,
		    err)) == -1)
			goto fail;
		/* Cut a torn last record off, so the next one starts on a
		 * line of its own. */
		if (st->jtorn != -1 && (ftruncate(st->jfd, st->jtorn) == -1 ||
		    fdatasync(st->jfd) == -1)) {
			error_set(err, ERR_IO, "%s.journal: %s", path,
			    strerror(errno));
			goto fail;
		}
	}
	st->keeplen = st->text.len;
	return st;
fail:
	state_close(st);
	return NULL;
}

int
state_version(const struct state *st)
{
	return st->version;
}

static int
journal(struct state *st, int sync, struct error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int journal_put(struct state *, int, char *, int, struct error *);

#define JBUF_MAX	65536

/* Writes the records held back, in one write(2).  A failure is for
 * good: what was held (B records of a batch not yet published among
 * them) is gone, so every later flush, and so every state_sync, fails
 * too, and nothing relies on it. */
static int
journal_flush(struct state *st, struct error *err)
{
	ssize_t w;
	size_t off = 0;

	if (st->jbroken)
		return error_set(err, ERR_IO, "%s.journal: an earlier write "
		    "failed", st->path);
	while (off < st->jlen) {
		w = write(st->jfd, st->jbuf + off, st->jlen - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			st->jlen = 0;
			st->jbroken = 1;
			return error_set(err, ERR_IO, "%s.journal: %s",
			    st->path, w == 0 ? "short write" :
			    strerror(errno));
		}
		off += (size_t)w;
		st->jsize += w;
	}
	st->jlen = 0;
	return 0;
}

/* Appends one record and its checksum to the held-back records. */
static int
journal_add(struct state *st, char *line, int n, struct error *err)
{
	unsigned long crc = crc_of(line, (size_t)n);
	struct sb b;
	int m;

	sb_init(&b, line + n, JBUF_MAX - (size_t)n);
	sb_char(&b, ' ');
	sb_hex8(&b, crc);
	sb_char(&b, '\n');
	if ((m = sb_end(&b)) == -1 || (size_t)(n + m) >= JBUF_MAX)
		return error_set(err, ERR_SOFTWARE, "journal record too long");
	n += m;
	if (st->jbuf == NULL)
		st->jbuf = xmalloc(2 * JBUF_MAX);
	if (st->jlen + (size_t)n > 2 * JBUF_MAX &&
	    journal_flush(st, err) == -1)
		return -1;
	memcpy(st->jbuf + st->jlen, line, (size_t)n);
	st->jlen += (size_t)n;
	return 0;
}

/*
 * Appends a record.  D and A records without sync, and B records with
 * STATE_LATER, are held back and go out with the next record that must
 * reach the kernel at once (a B that precedes the bytes it announces)
 * or with state_sync, which comes before any DELE and before a maildir
 * publishes a batch: a batch of records costs one write and one
 * fdatasync.  The first record of an empty journal follows its header.
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
	return journal_put(st, sync, line, n, err);
}

/* journal for a record made by the caller: n bytes of line, a buffer of
 * JBUF_MAX bytes (the checksum goes after them); n is -1 if the record
 * did not fit. */
static int
journal_put(struct state *st, int sync, char *line, int n, struct error *err)
{
	char *hdr;
	int h;

	if (st->readonly)
		return 0;
	if (n < 0 || (size_t)n >= JBUF_MAX - 16)
		return error_set(err, ERR_SOFTWARE, "journal record too long");
	st->jwrote = 1;
	if (!st->jheader) {
		hdr = xmalloc(JBUF_MAX);
		h = snprintf(hdr, JBUF_MAX, "popfetch-journal 2 %s",
		    st->ident != NULL ? st->ident : "-");
		if (h < 0 || (size_t)h >= JBUF_MAX - 16)
			h = error_set(err, ERR_SOFTWARE, "journal header "
			    "too long");
		else
			h = journal_add(st, hdr, h, err);
		free(hdr);
		if (h == -1)
			return -1;
		st->jheader = 1;
	}
	/* Where it will be in the file: a flush moves bytes from jbuf to
	 * jsize, so this holds however the record goes out. */
	st->jrec = st->jsize + (off_t)st->jlen;
	if (journal_add(st, line, n, err) == -1)
		return -1;
	if ((sync == STATE_LATER || (sync == 0 && (line[0] == 'D' ||
	    line[0] == 'A'))) && st->jlen < JBUF_MAX)
		return 0;
	if (journal_flush(st, err) == -1)
		return -1;
	if (sync > 0 && fdatasync(st->jfd) == -1)
		return error_set(err, ERR_IO, "%s.journal: %s", st->path,
		    strerror(errno));
	if (sync > 0)
		st->jwrote = 0;
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
	time_t now = time(NULL);

	if (uid == NULL)
		return 0;
	if (delivered) {
		if (journal(st, 1, err, "D %s %lld", uid,
		    (long long)now) == -1)
			return -1;
		insert(st, uid, now, now, NULL);
	} else if (journal(st, 1, err, "A %s", uid) == -1)
		return -1;
	end_pending(st, uid);
	return 0;
}

/* Whether uid (len bytes) is stored as it is: state_escape leaves it
 * alone. */
static int
plain(const char *uid, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)uid[i] <= 0x20 ||
		    (unsigned char)uid[i] >= 0x7f || uid[i] == '%' ||
		    uid[i] == '\0')
			return 0;
	return 1;
}

const char *
state_text(struct state *st, const char *uid, size_t len, time_t *when)
{
	struct entry *e;

	if (!plain(uid, len))
		return NULL;
	/* The entry after the last one found first, as find does. */
	if (st->next < st->nent && (e = &st->ent[st->next])->uid + len <
	    st->text.len && memcmp(st->text.base + e->uid, uid, len) == 0 &&
	    st->text.base[e->uid + len] == '\0')
		st->next++;
	else if ((e = find_len(st, uid, len, hash(uid, len))) != NULL)
		st->next = (size_t)(e - st->ent) + 1;
	else
		return NULL;
	if (e->uid >= st->keeplen)
		return NULL;
	*when = e->when;
	return st->text.base + e->uid;
}

const char *
state_hold(struct state *st, const char *uid, size_t len)
{
	uint32_t off;

	/* The caller asked state_text first: no lookup again. */
	if (!plain(uid, len))
		return NULL;
	if (text_add(st, uid, len, &off) == -1)
		return NULL;
	return st->text.base + off;
}

int
state_owns(const struct state *st, const char *s)
{
	return st->text.base != NULL && s >= st->text.base &&
	    s < st->text.base + st->keeplen;
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
	char line[JBUF_MAX];
	struct sb b;
	size_t ul = strlen(uid), tl = strlen(token);

	/* Escaped straight into the record (3 bytes a byte at most). */
	if (3 * (ul + tl) + 4 >= JBUF_MAX - 16)
		return error_set(err, ERR_SOFTWARE, "journal record too long");
	sb_init(&b, line, sizeof(line));
	sb_str(&b, "B ");
	pct_encode(b.p, uid, ul, NULL);
	b.p += strlen(b.p);
	sb_char(&b, ' ');
	pct_encode(b.p, token, tl, NULL);
	b.p += strlen(b.p);
	return journal_put(st, sync, line, sb_end(&b), err);
}

int
state_delivered(struct state *st, const char *uid, int sync,
    const struct state_rec *rec, struct error *err)
{
	/* Text of ours (state_text, state_hold) is plain already, and
	 * the entry takes it as it is. */
	int ours = in_text(st, uid);
	char *u = ours ? (char *)uid : state_escape(uid, strlen(uid));
	time_t now = time(NULL);
	char line[JBUF_MAX];
	struct entry *e;
	struct sb b;
	int r;

	if (rec != NULL && (rec->sha == NULL || !valid_sha(rec->sha) ||
	    !valid_field(rec->where) || !valid_field(rec->msgid)))
		rec = NULL;
	/* A UID delivered again (--refetch-missing) keeps its first
	 * delivery's time, which --keep-days counts from. */
	if ((e = find(st, u)) != NULL)
		now = e->when;
	sb_init(&b, line, sizeof(line));
	sb_str(&b, "D ");
	sb_str(&b, u);
	sb_char(&b, ' ');
	sb_i(&b, (long long)now);
	if (rec != NULL) {
		sb_char(&b, ' ');
		sb_u(&b, rec->size);
		sb_char(&b, ' ');
		sb_str(&b, rec->sha);
		sb_char(&b, ' ');
		sb_str(&b, rec->where);
		sb_char(&b, ' ');
		sb_str(&b, rec->msgid);
	}
	r = journal_put(st, sync, line, sb_end(&b), err);
	if (r == 0 && rec != NULL && st->jrec < STATE_FILE_MAX &&
	    !st->readonly)
		insert_len(st, u, strlen(u), now, now, NULL, X_JRN(st->jrec));
	else if (r == 0)
		insert(st, u, now, now, rec);
	if (!ours)
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
	/* jbroken: journal_flush failed already. */
	if (fdatasync(st->jfd) == -1)
		return error_set(err, ERR_IO, "%s.journal: %s", st->path,
		    strerror(errno));
	st->jwrote = 0;
	return 0;
}

int
state_write(struct state *st, struct error *err)
{
	if (st->readonly)
		return 0;
	return journal_flush(st, err);
}

int
state_abort(struct state *st, const char *uid, struct error *err)
{
	char *u = state_escape(uid, strlen(uid));
	int r;

	/* No fsync: if this record is lost, recovery finds the delivery
	 * unfinished and rolls it back again, which is harmless. */
	r = journal(st, 0, err, "A %s", u);
	free(u);
	return r;
}

/*
 * Puts the entries in the order of the listing, those it does not list
 * after them, when the snapshot is to be written anyway.  Lookups come
 * in that order, so they then walk the entries from start to end
 * rather than jump across them: with a snapshot in hash order (as
 * popfetch wrote it before), a nothing-new run over 100,000 UIDs spent
 * three times the CPU in cache misses.  New deliveries are added in
 * listing order, so this happens about once.
 */
static void
listing_order(struct state *st, char **present, size_t n)
{
	struct entry *ne, *e;
	unsigned char *na, *placed;
	size_t i, j, k = 0;

	ne = xreallocarray(NULL, st->entcap, sizeof(*ne));
	na = xreallocarray(NULL, st->entcap, 1);
	placed = xcalloc(st->nent, 1);
	for (i = 0; i < n; i++) {
		if (present[i] == NULL ||
		    (e = find(st, escape_tmp(st, present[i]))) == NULL ||
		    placed[j = (size_t)(e - st->ent)])
			continue;
		placed[j] = 1;
		na[k] = st->absent[j];
		ne[k++] = *e;
	}
	for (j = 0; j < st->nent; j++)
		if (!placed[j]) {
			na[k] = st->absent[j];
			ne[k++] = st->ent[j];
		}
	free(placed);
	free(st->ent);
	free(st->absent);
	st->ent = ne;
	st->absent = na;
	index_grow(st, st->nent);
}

void
state_forget_absent(struct state *st, char **present, size_t n,
    time_t now, time_t after)
{
	struct entry *e;
	size_t i, last = 0;
	int inorder = 1;
	time_t slack = seen_slack(after);

	/* Absent for long enough: the server no longer has it.  Absent
	 * from one listing only (a server that listed nothing, or part of
	 * the mailbox): kept.  after 0: dropped at once, even if it was
	 * listed a moment ago. */
	for (i = 0; i < st->nent; i++)
		st->absent[i] = after == 0 ||
		    st->ent[i].seen < now - after - slack;
	for (i = 0; i < n; i++)
		if (present[i] != NULL &&
		    (e = find(st, escape_tmp(st, present[i]))) != NULL) {
			if (now - e->seen >= slack || e->seen > now) {
				e->seen = T32(now);
				st->changed = 1;
			}
			st->absent[e - st->ent] = 0;
			if ((size_t)(e - st->ent) < last)
				inorder = 0;
			last = (size_t)(e - st->ent);
		}
	for (i = 0; i < st->nent && !st->changed; i++)
		st->changed = st->absent[i];
	if (st->changed && !inorder)
		listing_order(st, present, n);
}

/* The descriptor the journal is read back through. */
static int
jread_fd(const struct state *st)
{
	return st->jfd != -1 ? st->jfd : st->jrfd;
}

/*
 * A D record read back from the journal (len bytes, without its LF):
 * where its four fields of what was stored begin, and their length
 * (*flen) up to the checksum; NULL if it is not a whole D record with
 * its checksum, which a journal changed under a running popfetch would
 * not be.
 */
static const char *
jrec_fields(const char *line, size_t len, size_t *flen)
{
	const char *sp, *p = line;
	unsigned long crc = 0;
	size_t i;
	int k, d;

	if (len < 11 || line[0] != 'D' || line[len - 9] != ' ')
		return NULL;
	sp = line + len - 9;
	for (i = 1; i <= 8; i++) {
		if ((d = hex_digit((unsigned char)sp[i])) < 0)
			return NULL;
		crc = crc << 4 | (unsigned long)d;
	}
	if (crc_of(line, (size_t)(sp - line)) != crc)
		return NULL;
	for (k = 0; k < 3; k++)
		if ((p = memchr(p, ' ', (size_t)(sp - p))) == NULL)
			return NULL;
		else
			p++;
	if (p >= sp)
		return NULL;
	*flen = (size_t)(sp - p);
	return p;
}

/* The line at off in the snapshot read, into st->lbuf (NUL for its
 * LF); NULL if it cannot be read back whole. */
static char *
read_line_at(struct state *st, int fd, uint32_t off)
{
	ssize_t r;
	char *nl;

	if (st->lbuf == NULL)
		st->lbuf = xmalloc(RBUF_SIZE / 2 + 1);
	do
		r = pread(fd, st->lbuf, RBUF_SIZE / 2, (off_t)off);
	while (r == -1 && errno == EINTR);
	if (r <= 0 || (nl = memchr(st->lbuf, '\n', (size_t)r)) == NULL)
		return NULL;
	*nl = '\0';
	return st->lbuf;
}

/*
 * What was stored of e, parsed from the snapshot the first time it is
 * asked for and kept (X_MEM) from then on, so the strings handed out
 * live until state_close.  Fields that do not check out now leave the
 * UID delivered but unverifiable, as one recorded without them.
 */
static void
fill_rec(struct state *st, struct entry *e, struct state_rec *rec)
{
	struct state_rec r;
	const struct stored *s;
	char *line, *f[4];
	size_t len;
	int n;

	memset(rec, 0, sizeof(*rec));
	rec->when = e->when;
	if (X_ISJRN(e->x)) {
		struct error ignored;

		/* Records held back go to the kernel first. */
		if (st->jlen > 0 && journal_flush(st, &ignored) == -1)
			return;
		if ((line = read_line_at(st, jread_fd(st),
		    X_ARG(e->x))) == NULL ||
		    (line = (char *)jrec_fields(line, strlen(line),
		    &len)) == NULL)
			return;
		line[len] = '\0';
		e->x = X_NONE;
		for (n = 0; n < 4 && (f[n] = strsep(&line, " ")) != NULL; n++)
			;
		if (n == 4 && line == NULL && parse_stored(f, &r) == 0)
			set_stored(st, e, &r);
	} else if (e->x != X_NONE && !X_ISMEM(e->x)) {
		/* Not read back (an I/O error): kept for the next save. */
		if ((line = read_line_at(st, st->sfd, X_ARG(e->x))) == NULL)
			return;
		e->x = X_NONE;
		for (n = 0; n < 4 && (f[n] = strsep(&line, " ")) != NULL; n++)
			;
		if (n == 4 && line == NULL && parse_stored(f, &r) == 0)
			set_stored(st, e, &r);
	}
	if (e->x == X_NONE)
		return;
	s = &st->sto[X_ARG(e->x)];
	rec->size = s->size;
	rec->sha = s->sha;
	rec->where = s->where;
	rec->msgid = s->msgid;
}

int
state_record(struct state *st, const char *uid, struct state_rec *rec)
{
	struct entry *e = find(st, escape_tmp(st, uid));

	if (e == NULL)
		return -1;
	fill_rec(st, e, rec);
	return 0;
}

const char *
state_entry_rec(struct state *st, size_t *pos, struct state_rec *rec)
{
	if (*pos >= st->nent)
		return NULL;
	fill_rec(st, &st->ent[*pos], rec);
	return st->text.base + st->ent[(*pos)++].uid;
}

const char *
state_entry(const struct state *st, size_t *pos, time_t *first,
    time_t *seen)
{
	if (*pos >= st->nent)
		return NULL;
	*first = st->ent[*pos].when;
	*seen = st->ent[*pos].seen;
	return st->text.base + st->ent[(*pos)++].uid;
}

long long
state_saved(const struct state *st)
{
	return st->saved;
}

static int
cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

size_t
state_uid_hashes(const struct state *st, unsigned long (*hash)(const char *),
    unsigned long **out)
{
	size_t i, n = 0;

	*out = xcalloc(st->nent + st->npend + 1, sizeof(**out));
	for (i = 0; i < st->nent; i++)
		(*out)[n++] = hash(st->text.base + st->ent[i].uid);
	for (i = 0; i < st->npend; i++)
		if (!st->pend[i].done)
			(*out)[n++] = hash(st->pend[i].uid);
	qsort(*out, n, sizeof(**out), cmp_ulong);
	return n;
}

void
state_touch(struct state *st)
{
	st->changed = 1;
}

size_t
state_count(const struct state *st)
{
	return st->nent;
}

size_t
state_journal_records(const struct state *st)
{
	return st->njournal;
}

long long
state_journal_size(const struct state *st)
{
	return (long long)st->jsize;
}

/* The snapshot on its way out: lines gather in buf, and each full
 * buffer is folded into the checksum and written at once (one CRC call
 * per line would cost more than the rest of a save). */
struct out {
	FILE		*f;
	unsigned long	 crc;
	off_t		 base;		/* of buf[0] in the file */
	size_t		 len;
	char		 buf[REC_MAX];
};

static void
out_flush(struct out *o)
{
	o->crc = crc32(o->crc, (const Bytef *)o->buf, (uInt)o->len);
	(void)fwrite(o->buf, 1, o->len, o->f);
	o->base += (off_t)o->len;
	o->len = 0;
}

/* Writes v in decimal at p; returns the end. */
static char *
decimal(char *p, unsigned long long v)
{
	char d[24];
	size_t k = 0;

	do
		d[k++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (k > 0)
		*p++ = d[--k];
	return p;
}

/* The snapshot read, read back by a save for the fields left in it
 * (X_FILE): the entries are mostly in the order of its lines, so this
 * reads it once more from start to end, a chunk at a time. */
struct back {
	int	 fd;
	off_t	 base;		/* of buf[0] in the file */
	size_t	 len;
	char	 buf[RBUF_SIZE];
};

/* The text from off to its line's end (len bytes), or NULL. */
static const char *
back_line(struct back *b, uint32_t off, size_t *len)
{
	const char *nl;
	size_t want;
	ssize_t r;

	if ((off_t)off < b->base || (off_t)off >= b->base + (off_t)b->len ||
	    (nl = memchr(b->buf + (off - b->base), '\n', b->len - (size_t)(off -
	    b->base))) == NULL) {
		/* Reading on from the chunk before: the next chunk.  Out
		 * of order (entries put in listing order): a line's worth,
		 * unless the line is longer. */
		want = (off_t)off >= b->base && (off_t)off <= b->base +
		    (off_t)b->len + 4096 ? sizeof(b->buf) : 1024;
		for (;;) {
			do
				r = pread(b->fd, b->buf, want, (off_t)off);
			while (r == -1 && errno == EINTR);
			b->base = off;
			b->len = r > 0 ? (size_t)r : 0;
			if ((nl = memchr(b->buf, '\n', b->len)) != NULL)
				break;
			if (want == sizeof(b->buf) || b->len < want)
				return NULL;
			want = sizeof(b->buf);
		}
	}
	*len = (size_t)(nl - (b->buf + (off - b->base)));
	return b->buf + (off - b->base);
}

/* "U FIRST SEEN UID[ SIZE SHA WHERE MSGID]\n", formatted by hand: a
 * save of 100,000 UIDs spent most of its time in printf.  What was
 * stored comes from the state (X_MEM), as it was in the snapshot
 * (X_FILE), or from its D record in the journal (X_JRN, b for the
 * snapshot and bj for the journal).  *nx: where the fields are in the
 * new snapshot (X_FILE), or X_NONE. */
static int
put_record(struct out *o, const struct state *st, const struct entry *e,
    struct back *b, struct back *bj, uint32_t *nx, struct error *err)
{
	const char *uid = st->text.base + e->uid, *xt = NULL;
	const struct stored *s = NULL;
	size_t ul = strlen(uid), xl = 0;
	off_t at;
	char *p;

	*nx = X_NONE;
	if (X_ISMEM(e->x)) {
		s = &st->sto[X_ARG(e->x)];
		xl = 24 + 64 + strlen(s->where) + strlen(s->msgid) + 4;
	} else if (X_ISJRN(e->x)) {
		if ((xt = back_line(bj, X_ARG(e->x), &xl)) == NULL ||
		    (xt = jrec_fields(xt, xl, &xl)) == NULL)
			return error_set(err, ERR_IO, "%s.journal: cannot read "
			    "back a record written before (changed since?)",
			    st->path);
		xl++;
	} else if (e->x != X_NONE) {
		if ((xt = back_line(b, X_ARG(e->x), &xl)) == NULL)
			return error_set(err, ERR_IO, "%s: cannot read back "
			    "the state file read at the start (changed since?)",
			    st->path);
		xl++;
	}
	if (ul + xl + 48 > sizeof(o->buf))
		return error_set(err, ERR_SOFTWARE, "state record too long");
	if (o->len + ul + xl + 48 > sizeof(o->buf))
		out_flush(o);
	p = o->buf + o->len;
	*p++ = 'U';
	*p++ = ' ';
	p = decimal(p, (unsigned long long)e->when);
	*p++ = ' ';
	p = decimal(p, (unsigned long long)e->seen);
	*p++ = ' ';
	memcpy(p, uid, ul);
	p += ul;
	if (s != NULL || xt != NULL) {
		at = o->base + (off_t)(p + 1 - o->buf);
		if (at >= STATE_FILE_MAX)
			return error_set(err, ERR_SOFTWARE, "state file too "
			    "large");
		*nx = X_FILE(at);
	}
	if (s != NULL) {
		*p++ = ' ';
		p = decimal(p, s->size);
		*p++ = ' ';
		memcpy(p, s->sha, 64);
		p += 64;
		*p++ = ' ';
		memcpy(p, s->where, strlen(s->where));
		p += strlen(s->where);
		*p++ = ' ';
		memcpy(p, s->msgid, strlen(s->msgid));
		p += strlen(s->msgid);
	} else if (xt != NULL) {
		*p++ = ' ';
		memcpy(p, xt, xl - 1);
		p += xl - 1;
	}
	*p++ = '\n';
	o->len = (size_t)(p - o->buf);
	return 0;
}

static void
put(struct out *o, const char *line, int n)
{
	if (o->len + (size_t)n > sizeof(o->buf))
		out_flush(o);
	memcpy(o->buf + o->len, line, (size_t)n);
	o->len += (size_t)n;
}

/* The journal is folded into the snapshot once it is larger than this
 * part of the snapshot. */
#define JOURNAL_FRACTION	8

int
state_save(struct state *st, struct error *err)
{
	char name[NAME_MAX + 1], line[JBUF_MAX];
	struct out *o;
	struct back *b, *bj;
	uint32_t *nx = NULL;
	FILE *f = NULL;
	size_t i, count = 0, k;
	int fd, rfd = -1, n, pending = 0;
	long long saved;
	off_t written = 0;

	if (st->readonly)
		return 0;
	if (journal_flush(st, err) == -1)
		return -1;
	/* What the journal holds is as durable as the snapshot, and
	 * replayed on top of it: a run that delivers k messages leaves
	 * their records there, and its work is proportional to k, not to
	 * the 100,000 UIDs the snapshot holds.  The journal is folded into
	 * a new snapshot once it has grown past JOURNAL_FRACTION of it (so
	 * a load reads at most that much more), or when the snapshot says
	 * too little (changed).  The S line stays that of the snapshot, so
	 * what was stored since is still what the journal accounts for. */
	if (!st->changed && st->version == 2 &&
	    st->jsize <= st->ssize / JOURNAL_FRACTION) {
		if (st->jwrote && fdatasync(st->jfd) == -1)
			return error_set(err, ERR_IO, "%s.journal: %s",
			    st->path, strerror(errno));
		st->jwrote = 0;
		return 0;
	}
	/* A .new left by a crash is stale: popfetch holds the lock, and
	 * state_open refused anything but a file of ours. */
	if (unlinkat(st->dfd, sibling(st, ".new", name), 0) == -1 &&
	    errno != ENOENT)
		return error_set(err, ERR_IO, "%s.new: %s", st->path,
		    strerror(errno));
	if ((fd = open_own(st, ".new", O_RDWR | O_EXCL, err)) == -1)
		return -1;
	/* Read from once it is in place, for the fields left in it. */
	if ((rfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		error_set(err, ERR_IO, "%s.new: %s", st->path, strerror(errno));
		(void)close(fd);
		goto fail;
	}
	nx = xreallocarray(NULL, st->nent + 1, sizeof(*nx));
	if ((f = fdopen(fd, "w")) == NULL) {
		error_set(err, ERR_IO, "%s.new: %s", st->path, strerror(errno));
		(void)close(fd);
		goto fail;
	}
	o = xcalloc(1, sizeof(*o));
	o->f = f;
	n = snprintf(line, sizeof(line), "popfetch-state 2 %s\n",
	    st->ident != NULL ? st->ident : "-");
	if (n < 0 || (size_t)n >= sizeof(line)) {
		error_set(err, ERR_SOFTWARE, "state header too long");
		free(o);
		(void)fclose(f);
		goto fail;
	}
	put(o, line, n);
	/* After everything this snapshot records was published: a file
	 * stored later than this is accounted for by the journal. */
	saved = now_us();
	n = snprintf(line, sizeof(line), "S %lld\n", saved);
	put(o, line, n);
	b = xmalloc(sizeof(*b));
	b->fd = st->sfd;
	b->base = 0;
	b->len = 0;
	bj = xmalloc(sizeof(*bj));
	bj->fd = jread_fd(st);
	bj->base = 0;
	bj->len = 0;
	for (i = 0; i < st->nent; i++) {
		nx[i] = X_NONE;
		if (st->absent[i])
			continue;
		if (put_record(o, st, &st->ent[i], b, bj, &nx[i], err) == -1) {
			free(b);
			free(bj);
			free(o);
			(void)fclose(f);
			goto fail;
		}
		count++;
	}
	free(b);
	free(bj);
	out_flush(o);
	fprintf(f, "E %zu %08lx\n", count, o->crc);
	free(o);
	/* ferror too: a write that failed inside fprintf leaves nothing
	 * for fflush to report. */
	if (fflush(f) == EOF || ferror(f) || fsync(fileno(f)) == -1 ||
	    (written = ftello(f)) == -1) {
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
	/* The journal is about to be emptied and the snapshot read is
	 * gone: what was stored is now read back from the new one. */
	for (i = 0; i < st->nent; i++)
		if (!X_ISMEM(st->ent[i].x))
			st->ent[i].x = nx[i];
	free(nx);
	if (st->sfd != -1)
		(void)close(st->sfd);
	st->sfd = rfd;
	st->version = 2;
	st->saved = saved;
	st->changed = 0;
	st->ssize = written;
	if (fsync(st->dfd) == -1)
		return error_set(err, ERR_IO, "%s: fsync of its directory: %s",
		    st->path, strerror(errno));
	/* Deliveries still unresolved (a recovery that failed) keep the
	 * journal: their B records are all that says what to undo. */
	for (k = 0; k < st->npend; k++)
		pending |= !st->pend[k].done;
	if (pending)
		return 0;
	if (ftruncate(st->jfd, 0) == -1)
		return error_set(err, ERR_IO, "%s.journal: %s", st->path,
		    strerror(errno));
	/* Emptied: the next record comes after a new header, even if the
	 * fsync below fails. */
	st->jheader = 0;
	st->jsize = 0;
	st->jwrote = 0;
	if (fsync(st->jfd) == -1)
		return error_set(err, ERR_IO, "%s.journal: %s", st->path,
		    strerror(errno));
	return 0;
fail:
	free(nx);
	(void)close(rfd);
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
	if (st->sfd != -1)
		close(st->sfd);
	if (st->jrfd != -1)
		close(st->jrfd);
	arena_free(&st->arena);
	free(st->ent);
	free(st->absent);
	free(st->idx);
	vbuf_free(&st->text);
	free(st->sto);
	free(st->lbuf);
	free(st->ebuf);
	for (i = 0; i < st->npend; i++) {
		free(st->pend[i].uid);
		free(st->pend[i].token);
	}
	free(st->pend);
	free(st->path);
	free(st->ident);
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
