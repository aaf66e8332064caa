/*
 * jobs.h - a pool of child processes: runs a callback for each job index
 * in a process of its own, a few at a time, and hands their output back
 * line by line, and their status lines (progress) apart.
 *
 * It knows nothing of accounts or configuration: the caller says what a
 * job is (run), what to do with its output (out) and with its end
 * (done).
 */
#ifndef JOBS_H
#define JOBS_H

#include <stddef.h>

#include "util.h"

/* How a job ended. */
struct jobs_status {
	int	code;		/* its exit status; EX_OSERR if it could not be
				 * started, EX_SOFTWARE if a signal killed it */
	int	signal;		/* the signal that killed it, or 0 */
	int	start_errno;	/* why it could not be started, or 0 */
};

/* Flags of a piece of output. */
#define JOBS_FIRST	0x01	/* the piece starts a line */
#define JOBS_LAST	0x02	/* the piece ends a line (the newline is not
				 * part of it) */

struct jobs_params {
	size_t	 n;		/* jobs 0 .. n-1 */
	int	 max;		/* at most this many at once (at least 1) */
	void	*arg;		/* passed to the callbacks */
	/* In the child, with stdin on /dev/null and stdout and stderr on
	 * pipes: does job i and returns its exit status.  status_fd is the
	 * write end of the job's status channel (non-blocking and
	 * close-on-exec, so that nothing the job runs inherits it), or -1
	 * without a status callback. */
	int	(*run)(void *arg, size_t i, int status_fd);
	/*
	 * In the parent: a piece of a line job i wrote to stream (1 stdout,
	 * 2 stderr).  Lines of stdout come whole, in pieces of any length,
	 * and the pieces of one line are never interleaved with another
	 * job's stdout; a job's line on stderr longer than 4 KiB is cut
	 * into lines of 4 KiB.
	 */
	void	(*out)(void *arg, size_t i, int stream, const char *data,
		    size_t len, int flags);
	/* In the parent, once job i has started; may be NULL. */
	void	(*start)(void *arg, size_t i);
	/* In the parent, once job i has ended (or failed to start). */
	void	(*done)(void *arg, size_t i, const struct jobs_status *);
	/*
	 * In the parent, if not NULL: a line (without its newline) job i
	 * wrote to its status channel, a pipe of its own beside stdout and
	 * stderr for what the parent shows rather than passes on
	 * (progress).  Lines longer than JOBS_STATUS_MAX are dropped, and
	 * so is what a job writes while its pipe is full: the channel is
	 * for the latest news, never for anything that must arrive.
	 */
	void	(*status)(void *arg, size_t i, const char *line, size_t len);
	/* In the parent, if not NULL: called after each round of output,
	 * and at least every 100 ms while jobs run. */
	void	(*tick)(void *arg);
};

#define JOBS_STATUS_MAX	256

/*
 * Runs every job to its end and fills st[0 .. n-1].  Returns 0, or -1
 * with err (ERR_IO) if waiting for output failed; the jobs that were
 * running then go on unwatched, and their st entries say EX_OSERR.
 */
int	jobs_run(const struct jobs_params *, struct jobs_status *st,
	    struct error *);

#endif
