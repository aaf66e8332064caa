/*
 * backend.h - the delivery backends behind deliver.c; private to
 * deliver.c, maildir.c, mbox.c and mda.c.
 *
 * Each backend sees one message at a time: begin (with the envelope
 * sender), write, then commit or abort.  Their errors are those of
 * deliver.h.
 */
#ifndef BACKEND_H
#define BACKEND_H

#include <sys/types.h>

#include <stddef.h>

#include "util.h"

struct maildir;
struct maildir	*maildir_open(const char *, struct error *);
const char	*maildir_prepare(struct maildir *, struct error *);
int		 maildir_begin(struct maildir *, struct error *);
int		 maildir_write(struct maildir *, const char *, size_t,
		    struct error *);
int		 maildir_finish(struct maildir *, struct error *);
int		 maildir_sync(struct maildir *, size_t *, struct error *);
void		 maildir_discard(struct maildir *);
void		 maildir_abort(struct maildir *);
void		 maildir_close(struct maildir *);
int		 maildir_recover(const char *, int *, struct error *);

struct mbox;
struct mbox	*mbox_open(const char *, int, struct error *);
const char	*mbox_prepare(struct mbox *, struct error *);
int		 mbox_begin(struct mbox *, const char *sender, struct error *);
int		 mbox_write(struct mbox *, const char *, size_t,
		    struct error *);
int		 mbox_finish(struct mbox *, struct error *);
int		 mbox_sync(struct mbox *, size_t *, struct error *);
void		 mbox_discard(struct mbox *);
void		 mbox_abort(struct mbox *);
void		 mbox_close(struct mbox *);
int		 mbox_recover(const char *, const off_t *, size_t, char *,
		    size_t, struct error *);

struct mda;
struct mda	*mda_open(const char *);
int		 mda_begin(struct mda *, const char *sender, struct error *);
int		 mda_write(struct mda *, const char *, size_t, struct error *);
int		 mda_commit(struct mda *, struct error *);
void		 mda_abort(struct mda *);
void		 mda_close(struct mda *);

#endif
