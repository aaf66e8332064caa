/*
 * digest.h - the SHA-256 of a message as stored, computed as it is
 * written (deliver.c) or read back (verify.c), and compared by verify.
 *
 * What is hashed is the message as popfetch handed it to the target:
 * LF line ends, after the headers popfetch adds, before any mbox
 * framing (the From line, mboxrd quoting, the empty line after it).
 * With mbox set, the header fields Status: and X-Status: (and their
 * continuation lines) are left out, since mail readers such as mutt
 * add and change them in an mbox without changing the message; size
 * counts the bytes hashed.  A maildir's digest is therefore the plain
 * SHA-256 of its file, as sha256sum(1) prints it.
 */
#ifndef DIGEST_H
#define DIGEST_H

#include <stddef.h>

#include "util.h"

#define DIGEST_HEX	65	/* 64 hex digits and the NUL */

struct digest;

/* A new digest; mbox: leave out Status: and X-Status:. */
struct digest	*digest_new(int mbox);

/* Starts over for the next message. */
void		 digest_reset(struct digest *, int mbox);

/* Adds message bytes, in any pieces. */
void		 digest_update(struct digest *, const char *, size_t);

/* Ends the message: its hex SHA-256 into hex and the bytes hashed into
 * *size; the digest is reset. */
void		 digest_final(struct digest *, char hex[DIGEST_HEX],
		    unsigned long long *size);

void		 digest_free(struct digest *);

/* The longest Message-ID recorded (RFC 5322 allows 998 bytes a line;
 * real ones are far shorter); out needs 3 * DIGEST_MSGID_MAX + 1. */
#define DIGEST_MSGID_MAX	250

/* The Message-ID field's value in the header hdr[0..len) (which may go
 * on into the body), percent-escaped (state_escape's form) into out;
 * "-" if there is none or it is longer than DIGEST_MSGID_MAX. */
void		 digest_msgid(const char *hdr, size_t len,
		    char out[3 * DIGEST_MSGID_MAX + 1]);

#endif
