/*
 * filter.h - a user's command that judges a message by its header
 * before it is downloaded (mpop's filter).
 */
#ifndef FILTER_H
#define FILTER_H

#include <stddef.h>

#include "util.h"

/* The most of a header a filter is given; the rest is cut off. */
#define FILTER_HDR_MAX	65536

/* What the filter said. */
enum filter_verdict {
	FILTER_FETCH = 0,	/* exit status 0 */
	FILTER_DELETE = 1,	/* 1: delete without fetching */
	FILTER_LEAVE = 2	/* 2: leave it on the server for now */
};

/*
 * Runs cmd with /bin/sh, hdr[0..len) on its standard input, and
 * POPFETCH_MSG_NUMBER, POPFETCH_MSG_SIZE and POPFETCH_MSG_UID (uid may
 * be NULL: then empty) in its environment, without POPFETCH_PASSWORD.
 * It has timeout seconds to exit; then it and its process group are
 * killed.  Sets *verdict from exit status 0, 1 or 2.  -1 with ERR_IO
 * for any other status, a signal, a timeout, or no process.
 */
int	filter_run(const char *cmd, int timeout, unsigned long num,
	    unsigned long long size, const char *uid, const char *hdr,
	    size_t len, enum filter_verdict *verdict, struct error *);

#endif
