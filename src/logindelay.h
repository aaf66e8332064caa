/*
 * logindelay.h - honouring a server's LOGIN-DELAY (RFC 2449 section
 * 6.8) across runs.
 *
 * Some servers enforce the delay they advertise (Cyrus's popminpoll
 * answers -ERR [LOGIN-DELAY]); others only advertise it (Gmail).  So
 * popfetch never waits because of an advertised delay, but once a login
 * has been refused it remembers until when, in a small file beside the
 * state, and skips the account without connecting until then, so that
 * cron does not hammer the server.  The file holds "last T" (the last
 * login, kept only while the server advertises a delay) and "until T"
 * (after a refusal), T in seconds since the epoch.  Nothing in it comes
 * from the server but numbers.
 */
#ifndef LOGINDELAY_H
#define LOGINDELAY_H

#include <time.h>

#include "util.h"

/* The file beside one state file, reached from its directory (so that
 * a state path near PATH_MAX works too); dirfd -1: disabled. */
struct logindelay {
	int	dirfd;
	char	name[256];
	char	tmp[256];
};

/* Opens the directory of the state file state and names the file state
 * ".login-delay" in it.  Never fails: when the name does not fit or the
 * directory cannot be opened (a dry run before it exists), LOGIN-DELAY
 * refusals are simply not remembered and the calls below do nothing. */
void	logindelay_open(struct logindelay *, const char *state);
/* Closes the directory; a zeroed or closed struct is fine. */
void	logindelay_close(struct logindelay *);

/* 1 with *until if a refusal recorded earlier says that a login before
 * then fails, else 0 (no file, or a file that says nothing usable). */
int	logindelay_check(struct logindelay *, time_t now, time_t *until);

/*
 * After a login refused with [LOGIN-DELAY]: the time the next login may
 * succeed, the last login plus the delay the server advertised (delay
 * when known, else LOGINDELAY_DEFAULT), and at least a minute from now, is
 * recorded and returned.  -1 with err (ERR_IO) if it cannot be
 * recorded; *until is set either way.
 */
#define LOGINDELAY_DEFAULT	300
int	logindelay_refused(struct logindelay *, time_t now, int known,
	    unsigned long long delay, time_t *until, struct error *);

/* After a login that succeeded: records its time if the server
 * advertises a delay, else removes the file.  -1 with err (ERR_IO). */
int	logindelay_loggedin(struct logindelay *, time_t now, int advertised,
	    struct error *);

#endif
