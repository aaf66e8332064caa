/*
 * deliver.c - one interface over maildir, mbox and MDA delivery.
 *
 * The mbox From line and the MDA's %F need the envelope sender, which
 * is in the message header, so the header is held back (at most
 * HDR_MAX bytes) until its end is seen; everything after it streams
 * straight through.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "deliver.h"

#define HDR_MAX		65536

struct deliver {
	enum deliver_kind	 kind;
	struct maildir		*maildir;
	struct mbox		*mbox;
	struct mda		*mda;
	int			 begun;		/* backend begin was called */
	size_t			 finished;	/* since the last sync */
	int			 failed;
	size_t			 hlen;
	char			 hdr[HDR_MAX];
};

struct deliver *
deliver_open(const struct deliver_params *p, struct error *err)
{
	struct deliver *d = xcalloc(1, sizeof(*d));

	d->kind = p->kind;
	switch (p->kind) {
	case DELIVER_MAILDIR:
		d->maildir = maildir_open(p->target, err);
		if (d->maildir == NULL)
			goto fail;
		break;
	case DELIVER_MBOX:
		d->mbox = mbox_open(p->target, p->lock_timeout, err);
		if (d->mbox == NULL)
			goto fail;
		break;
	case DELIVER_MDA:
		d->mda = mda_open(p->target);
		break;
	}
	return d;
fail:
	free(d);
	return NULL;
}

const char *
deliver_prepare(struct deliver *d, struct error *err)
{
	d->begun = 0;
	d->failed = 0;
	d->hlen = 0;
	switch (d->kind) {
	case DELIVER_MAILDIR:
		return maildir_prepare(d->maildir, err);
	case DELIVER_MBOX:
		return mbox_prepare(d->mbox, err);
	case DELIVER_MDA:
		break;
	}
	return "mda";
}

static int
backend_write(struct deliver *d, const char *data, size_t len,
    struct error *err)
{
	switch (d->kind) {
	case DELIVER_MAILDIR:
		return maildir_write(d->maildir, data, len, err);
	case DELIVER_MBOX:
		return mbox_write(d->mbox, data, len, err);
	case DELIVER_MDA:
		break;
	}
	return mda_write(d->mda, data, len, err);
}

/* Starts the backend with the sender from the held-back header and
 * passes the header on. */
static int
begin(struct deliver *d, struct error *err)
{
	char sender[256];
	int r = 0;

	deliver_sender(d->hdr, d->hlen, sender, sizeof(sender));
	switch (d->kind) {
	case DELIVER_MAILDIR:
		r = maildir_begin(d->maildir, err);
		break;
	case DELIVER_MBOX:
		r = mbox_begin(d->mbox, sender, err);
		break;
	case DELIVER_MDA:
		r = mda_begin(d->mda, sender, err);
		break;
	}
	d->begun = 1;
	if (r == 0 && d->hlen > 0)
		r = backend_write(d, d->hdr, d->hlen, err);
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
	if (len > 0 && backend_write(d, data, len, err) == -1) {
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
	switch (d->kind) {
	case DELIVER_MAILDIR:
		if (maildir_finish(d->maildir, err) == -1)
			return -1;
		break;
	case DELIVER_MBOX:
		if (mbox_finish(d->mbox, err) == -1)
			return -1;
		break;
	case DELIVER_MDA:
		/* An MDA has the message once it exits 0. */
		if (mda_commit(d->mda, err) == -1)
			return -1;
		break;
	}
	d->finished++;
	return 0;
}

int
deliver_sync(struct deliver *d, size_t *published, struct error *err)
{
	size_t n = d->finished;

	d->finished = 0;
	*published = 0;
	switch (d->kind) {
	case DELIVER_MAILDIR:
		return maildir_sync(d->maildir, published, err);
	case DELIVER_MBOX:
		return mbox_sync(d->mbox, published, err);
	case DELIVER_MDA:
		break;
	}
	*published = n;
	return 0;
}


int
deliver_durable_token(const struct deliver *d)
{
	/* A partial mbox tail without its journal entry would stay in the
	 * file after a power loss; a maildir file in tmp/ would not be
	 * mail.  So mbox tokens are fsync'd before writing, maildir ones
	 * with the batch. */
	return d->kind == DELIVER_MBOX;
}

void
deliver_abort(struct deliver *d)
{
	switch (d->kind) {
	case DELIVER_MAILDIR:
		maildir_abort(d->maildir);
		break;
	case DELIVER_MBOX:
		mbox_abort(d->mbox);
		break;
	case DELIVER_MDA:
		mda_abort(d->mda);
		break;
	}
	d->begun = 0;
	d->hlen = 0;
}

void
deliver_close(struct deliver *d)
{
	if (d == NULL)
		return;
	maildir_close(d->maildir);
	mbox_close(d->mbox);
	mda_close(d->mda);
	free(d);
}

int
deliver_recover(char **tokens, size_t n, int *delivered,
    void (*warn)(void *, const char *), void *arg, struct error *err)
{
	const char *errstr, *path, *sp;
	char note[PATH_MAX + 256], num[32];
	off_t *offs = xcalloc(n + 1, sizeof(off_t));
	size_t i, j, no;
	int *done = xcalloc(n + 1, sizeof(int)), r = 0;

	for (i = 0; i < n; i++)
		delivered[i] = 0;
	for (i = 0; i < n && r == 0; i++) {
		if (strncmp(tokens[i], "maildir ", 8) == 0)
			r = maildir_recover(tokens[i] + 8, &delivered[i], err);
		else if (strcmp(tokens[i], "mda") == 0)
			warn(arg, "a delivery to the MDA was interrupted; that "
			    "message is delivered again");
		else if (strncmp(tokens[i], "mbox ", 5) == 0) {
			if (done[i])
				continue;
			/* All unfinished messages of one mbox at once. */
			path = NULL;
			for (j = i, no = 0; j < n; j++) {
				if (strncmp(tokens[j], "mbox ", 5) != 0 ||
				    (sp = strchr(tokens[j] + 5, ' ')) == NULL ||
				    (size_t)(sp - tokens[j] - 5) >= sizeof(num))
					continue;
				if (path != NULL && strcmp(path, sp + 1) != 0)
					continue;
				path = sp + 1;
				memcpy(num, tokens[j] + 5,
				    (size_t)(sp - tokens[j] - 5));
				num[sp - tokens[j] - 5] = '\0';
				offs[no] = (off_t)strtonum(num, 0, LLONG_MAX,
				    &errstr);
				if (errstr != NULL) {
					r = error_set(err, ERR_CONFIG,
					    "bad mbox journal entry");
					break;
				}
				no++;
				done[j] = 1;
			}
			if (r == 0 && no > 0) {
				note[0] = '\0';
				/* Journal order is file order, but be sure. */
				for (j = 1; j < no; j++)
					if (offs[j] < offs[0])
						offs[0] = offs[j];
				r = mbox_recover(path, offs, no, note,
				    sizeof(note), err);
				if (note[0] != '\0')
					warn(arg, note);
			}
		} else
			r = error_set(err, ERR_CONFIG,
			    "unknown delivery in the journal");
	}
	free(offs);
	free(done);
	return r;
}

/* Takes the address out of a header field's value. */
static void
address_of(const char *v, size_t len, char *out, size_t outlen)
{
	const char *lt = memchr(v, '<', len), *gt;
	size_t i, o = 0;

	if (lt != NULL && (gt = memchr(lt, '>', (size_t)(v + len - lt)))) {
		v = lt + 1;
		len = (size_t)(gt - lt - 1);
	} else {
		/* A bare address: the first word with an @. */
		while (len > 0 && isspace((unsigned char)*v)) {
			v++;
			len--;
		}
		for (i = 0; i < len && !isspace((unsigned char)v[i]); i++)
			;
		len = i;
	}
	for (i = 0; i < len && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)v[i];

		/* Safe in a From line and inside shell quotes. */
		if (isalnum(c) || strchr("!#%&*+-./=?^_{|}~@", c) != NULL)
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

void
deliver_sender(const char *hdr, size_t len, char *out, size_t outlen)
{
	const char *p = hdr, *end = hdr + len, *eol;
	char from[256] = "", rp[256] = "";
	int in_header = 1;

	while (in_header && p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (eol == p)
			in_header = 0;
		else if (rp[0] == '\0' && (size_t)(eol - p) > 12 &&
		    strncasecmp(p, "Return-Path:", 12) == 0)
			address_of(p + 12, (size_t)(eol - p - 12), rp,
			    sizeof(rp));
		else if (from[0] == '\0' && (size_t)(eol - p) > 5 &&
		    strncasecmp(p, "From:", 5) == 0)
			address_of(p + 5, (size_t)(eol - p - 5), from,
			    sizeof(from));
		p = eol + 1;
	}
	(void)strlcpy(out, rp[0] != '\0' ? rp : from[0] != '\0' ? from :
	    "MAILER-DAEMON", outlen);
}
