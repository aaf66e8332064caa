/*
 * import.h - the UID files of other POP3 clients, read so that a user
 * switching to popfetch downloads nothing twice.
 *
 * Each reader takes the file one program wrote and the account (user,
 * host, port) and returns the UIDs that file records as already fetched
 * from that account.  Nothing is written; the strings returned are the
 * caller's (import_free).
 */
#ifndef IMPORT_H
#define IMPORT_H

#include <stddef.h>

#include "util.h"

enum import_kind {
	IMPORT_NONE,
	IMPORT_MPOP,		/* ~/.mpop_uidls/USER_at_HOST */
	IMPORT_FETCHMAIL,	/* ~/.fetchids */
	IMPORT_GETMAIL		/* oldmail-HOST-PORT-USER */
};

/*
 * Reads path, written by kind, and sets *uids to the n UIDs it holds
 * for user at host and port (raw bytes, NUL-terminated; a UID with a
 * NUL cannot be told apart by any of these programs either).  ERR_IO
 * (unreadable), ERR_CONFIG (not a file of that program: names the file
 * and the line), ERR_USAGE (kind is IMPORT_NONE).
 */
int	import_read(enum import_kind kind, const char *path, const char *user,
	    const char *host, const char *port, char ***uids, size_t *n,
	    struct error *);

/* Frees what import_read returned. */
void	import_free(char **uids, size_t n);

#endif
