/*
 * deliver.c - one interface over the delivery backends (backend.h).
 *
 * deliver.c knows no target: it finds the backend in the table below,
 * frames the backend's token with its name, and holds the header back.
 * The mbox From line and the MDA's %F need the envelope sender, which
 * is in the message header, so the header is held back (at most
 * HDR_MAX bytes) until its end is seen; everything after it streams
 * straight through.
 *
 * Every byte passed to the backend also goes into a SHA-256 (digest.h),
 * so what was stored is known without reading it back; the first word
 * of the token body (a maildir file's name, an mbox offset, moved to
 * the From line when begin put an empty line before it) and the
 * Message-ID say where it went (deliver_stored), for the state and for
 * the user (deliver_place).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "backend.h"
#include "deliver.h"
#include "digest.h"
#include "envelope.h"

/* Every target; the first word of a journal token picks its row. */
static const struct backend *const backends[] = {
	&maildir_backend,
	&mbox_backend,
	&mda_backend,
	&lmtp_backend,
	&smtp_backend
};
#define NBACKENDS	(sizeof(backends) / sizeof(backends[0]))

#define HDR_MAX		65536
#define TOKEN_MAX	(BACKEND_TOKEN_MAX + 64)


struct deliver {
	const struct backend	*be;
	void			*h;		/* the backend's handle */
	int			 begun;		/* be->begin was called */
	int			 failed;
	char			 token[TOKEN_MAX];
	struct digest		*dg;
	char			 sha[DIGEST_HEX];
	unsigned long long	 size;
	char			 where[3 * 256 + 1];	/* escaped */
	char			 loc[TOKEN_MAX];	/* the maildir or mbox,
						 * from the first token */
	char			 msgid[3 * DIGEST_MSGID_MAX + 1];
	size_t			 hlen;
	char			 hdr[HDR_MAX];
};

struct deliver *
deliver_open(const struct deliver_params *p, struct error *err)
{
	struct deliver *d;
	size_t i;

	for (i = 0; i < NBACKENDS && backends[i]->kind != p->kind; i++)
		;
	if (i == NBACKENDS) {
		error_set(err, ERR_SOFTWARE, "unknown delivery kind %d",
		    (int)p->kind);
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->be = backends[i];
	if ((d->h = d->be->open(p, err)) == NULL) {
		free(d);
		return NULL;
	}
	d->dg = digest_new(d->be->kind == DELIVER_MBOX);
	return d;
}

const char *
deliver_prepare(struct deliver *d, const char *tag, struct error *err)
{
	const char *body;
	struct sb b;
	int n;

	d->begun = 0;
	d->failed = 0;
	d->hlen = 0;
	d->sha[0] = '\0';
	d->msgid[0] = '\0';
	digest_reset(d->dg, d->be->kind == DELIVER_MBOX);
	if ((body = d->be->prepare(d->h, tag != NULL ? tag : "",
	    err)) == NULL)
		return NULL;
	n = (int)strcspn(body, " ");
	if ((size_t)n * 3 + 1 > sizeof(d->where) || n == 0)
		d->where[0] = '\0';
	else
		pct_encode(d->where, body, (size_t)n, NULL);
	/* "NAME DIR" or "OFFSET PATH": the rest is the same for every
	 * message of the handle. */
	if (d->loc[0] == '\0' && body[n] == ' ')
		(void)strlcpy(d->loc, body + n + 1, sizeof(d->loc));
	sb_init(&b, d->token, sizeof(d->token));
	sb_str(&b, d->be->name);
	if (body[0] != '\0')
		sb_char(&b, ' ');
	sb_str(&b, body);
	if (sb_end(&b) == -1) {
		error_set(err, ERR_SOFTWARE, "%s: journal token too long",
		    d->be->name);
		return NULL;
	}
	return d->token;
}

unsigned long
deliver_hash(const char *s)
{
	return crc32(0L, (const Bytef *)s, (uInt)strlen(s));
}

void
deliver_tag(char *buf, const char *account, const char *uid)
{
	struct sb b;

	sb_init(&b, buf, DELIVER_TAG_MAX);
	sb_char(&b, 'F');
	sb_hex8(&b, deliver_hash(account));
	sb_char(&b, 'U');
	sb_hex8(&b, deliver_hash(uid));
	(void)sb_end(&b);
}

int
deliver_ours(const struct deliver_params *p, unsigned long account,
    long long since, int all, const struct deliver_seen *last,
    struct deliver_seen *seen, deliver_found *found, void *arg,
    struct error *err)
{
	memset(seen, 0, sizeof(*seen));
	if (p->kind != DELIVER_MAILDIR)
		return 0;
	return maildir_ours(p->target, account, since, all, last, seen, found,
	    arg, err);
}

void
deliver_look(const struct deliver_params *p, struct deliver_seen *seen)
{
	memset(seen, 0, sizeof(*seen));
	if (p->kind == DELIVER_MAILDIR)
		maildir_look(p->target, seen);
}

/* Bytes for the backend, hashed on the way. */
static int
pass(struct deliver *d, const char *data, size_t len, struct error *err)
{
	digest_update(d->dg, data, len);
	return d->be->write(d->h, data, len, err);
}

/* Starts the backend with the sender from the held-back header and
 * passes the header on. */
static int
begin(struct deliver *d, struct error *err)
{
	char sender[256] = "";
	int r;

	if (!d->be->ignores_sender)
		envelope_sender(d->hdr, d->hlen, sender, sizeof(sender));
	digest_msgid(d->hdr, d->hlen, d->msgid);
	r = d->be->begin(d->h, sender, err);
	d->begun = 1;
	/* The message's own first line, when begin put something before
	 * it (an mbox's empty line): that is where it is, for the state
	 * and the user. */
	if (r == 0 && d->be->start != NULL && d->where[0] != '\0')
		(void)snprintf(d->where, sizeof(d->where), "%lld",
		    d->be->start(d->h));
	if (r == 0 && d->hlen > 0)
		r = pass(d, d->hdr, d->hlen, err);
	d->hlen = 0;
	return r;
}

/* Where the header ends (just past its empty line), or 0. */
static size_t
header_end(const char *h, size_t len)
{
	const char *p;

	if (len > 0 && h[0] == '\n')
		return 1;
	for (p = h; (p = memchr(p, '\n', (size_t)(h + len - p))) != NULL;
	    p++)
		if (p + 1 < h + len && p[1] == '\n')
			return (size_t)(p - h) + 2;
	return 0;
}

int
deliver_write(void *arg, const char *data, size_t len, struct error *err)
{
	struct deliver *d = arg;
	size_t take;

	if (d->failed)
		return -1;
	if (!d->begun) {
		take = len < HDR_MAX - d->hlen ? len : HDR_MAX - d->hlen;
		memcpy(d->hdr + d->hlen, data, take);
		d->hlen += take;
		data += take;
		len -= take;
		if (header_end(d->hdr, d->hlen) == 0 && d->hlen < HDR_MAX)
			return 0;
		if (begin(d, err) == -1) {
			d->failed = 1;
			return -1;
		}
	}
	if (len > 0 && pass(d, data, len, err) == -1) {
		d->failed = 1;
		return -1;
	}
	return 0;
}

int
deliver_finish(struct deliver *d, struct error *err)
{
	if (d->failed)
		return error_set(err, ERR_SOFTWARE, "finish after a failure");
	if (!d->begun && begin(d, err) == -1)
		return -1;
	d->begun = 0;
	digest_final(d->dg, d->sha, &d->size);
	return d->be->finish(d->h, err);
}

int
deliver_stored(const struct deliver *d, const char **sha,
    unsigned long long *size, const char **where, const char **msgid)
{
	if (d->sha[0] == '\0' || d->where[0] == '\0' ||
	    (d->be->kind != DELIVER_MAILDIR && d->be->kind != DELIVER_MBOX))
		return -1;
	*sha = d->sha;
	*size = d->size;
	*where = d->where;
	*msgid = d->msgid[0] != '\0' ? d->msgid : "-";
	return 0;
}

const char *
deliver_reply(const struct deliver *d)
{
	const char *r;

	if (d->be->reply == NULL || (r = d->be->reply(d->h)) == NULL ||
	    r[0] == '\0')
		return NULL;
	return r;
}

int
deliver_place(const struct deliver *d, const char *where, char *file,
    size_t filesz, char *path, size_t pathsz, long long *offset)
{
	char name[256];
	const char *e;
	struct sb b;
	size_t len;

	if (d->loc[0] == '\0' || (d->be->kind != DELIVER_MAILDIR &&
	    d->be->kind != DELIVER_MBOX) || strlen(where) >= sizeof(name) ||
	    pct_decode(name, where, strlen(where), &len) == -1 ||
	    memchr(name, '\0', len) != NULL || len == 0)
		return -1;
	name[len] = '\0';
	if (d->be->kind == DELIVER_MBOX) {
		errno = 0;
		*offset = strtoll(name, (char **)&e, 10);
		if (errno != 0 || *e != '\0' || *offset < 0 ||
		    strlcpy(path, d->loc, pathsz) >= pathsz)
			return -1;
		if (filesz > 0)
			file[0] = '\0';
		return 0;
	}
	/* Published into new/ by deliver_sync (a reader may move it to
	 * cur/ later, with flags). */
	*offset = -1;
	sb_init(&b, file, filesz);
	sb_str(&b, "new/");
	sb_str(&b, name);
	if (sb_end(&b) == -1)
		return -1;
	sb_init(&b, path, pathsz);
	sb_str(&b, d->loc);
	sb_char(&b, '/');
	sb_str(&b, file);
	return sb_end(&b) == -1 ? -1 : 0;
}

int
deliver_sync(struct deliver *d, size_t *published, struct error *err)
{
	*published = 0;
	return d->be->sync(d->h, published, err);
}

size_t
deliver_unsure(const struct deliver *d)
{
	return d->be->unsure != NULL ? d->be->unsure(d->h) : 0;
}

int
deliver_durable_token(const struct deliver *d)
{
	return d->be->durable_token;
}

int
deliver_hidden_until_sync(const struct deliver *d)
{
	return d->be->hidden_until_sync;
}

const char *
deliver_kind_name(enum deliver_kind kind)
{
	return backends[kind]->name;
}

int
deliver_record_each(const struct deliver *d)
{
	return d->be->record_each;
}

void
deliver_abort(struct deliver *d)
{
	d->be->abort(d->h);
	d->begun = 0;
	d->hlen = 0;
}

void
deliver_close(struct deliver *d)
{
	if (d == NULL)
		return;
	d->be->close(d->h);
	digest_free(d->dg);
	free(d);
}

/* The backend whose name is the first word of token, or NULL. */
static const struct backend *
backend_of(const char *token, const char **body)
{
	size_t i, w = strcspn(token, " ");

	for (i = 0; i < NBACKENDS; i++)
		if (strlen(backends[i]->name) == w &&
		    memcmp(backends[i]->name, token, w) == 0) {
			*body = token + w + (token[w] == ' ');
			return backends[i];
		}
	return NULL;
}

int
deliver_recover(char **tokens, size_t n, int *delivered,
    deliver_warn *warn, void *arg, struct error *err)
{
	const struct backend **be = xcalloc(n + 1, sizeof(*be));
	const char **bodies = xcalloc(n + 1, sizeof(*bodies));
	const char **sub = xcalloc(n + 1, sizeof(*sub));
	size_t *idx = xcalloc(n + 1, sizeof(*idx)), i, b, k;
	int *got = xcalloc(n + 1, sizeof(*got)), r = 0;

	for (i = 0; i < n; i++) {
		delivered[i] = 0;
		if ((be[i] = backend_of(tokens[i], &bodies[i])) == NULL)
			r = error_set(err, ERR_CONFIG,
			    "unknown delivery in the journal");
	}
	/* Each backend gets all of its tokens at once, in journal order. */
	for (b = 0; b < NBACKENDS && r == 0; b++) {
		for (i = 0, k = 0; i < n; i++)
			if (be[i] == backends[b]) {
				sub[k] = bodies[i];
				idx[k++] = i;
			}
		if (k == 0)
			continue;
		r = backends[b]->recover(sub, k, got, warn, arg, err);
		for (i = 0; i < k && r == 0; i++)
			delivered[idx[i]] = got[i];
	}
	free(be);
	free(bodies);
	free(sub);
	free(idx);
	free(got);
	return r;
}
