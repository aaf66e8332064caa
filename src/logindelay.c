/*
 * logindelay.c - the LOGIN-DELAY file beside the state (see
 * logindelay.h).
 *
 * The file is small and not precious: a file that cannot be parsed is
 * taken as saying nothing, and it is replaced by rename so that a
 * reader never sees half of one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logindelay.h"

/* Times before this (2001) or after about 2286 are taken as garbage. */
#define T_MIN	1000000000LL
#define T_MAX	9999999999LL

void
logindelay_open(struct logindelay *ld, const char *state)
{
	const char *slash = strrchr(state, '/'), *base;
	char dir[PATH_MAX];
	size_t dl;
	int n, m;

	ld->dirfd = -1;
	base = slash != NULL ? slash + 1 : state;
	dl = slash == NULL ? 0 : slash == state ? 1 : (size_t)(slash - state);
	if (dl >= sizeof(dir))
		return;
	if (dl == 0)
		(void)strlcpy(dir, ".", sizeof(dir));
	else {
		memcpy(dir, state, dl);
		dir[dl] = '\0';
	}
	n = snprintf(ld->name, sizeof(ld->name), "%s.login-delay", base);
	m = snprintf(ld->tmp, sizeof(ld->tmp), "%s.login-delay.tmp", base);
	if (n < 0 || (size_t)n >= sizeof(ld->name) || m < 0 ||
	    (size_t)m >= sizeof(ld->tmp))
		return;
	ld->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

void
logindelay_close(struct logindelay *ld)
{
	if (ld->dirfd >= 0)
		(void)close(ld->dirfd);
	ld->dirfd = -1;
}

/* Reads "last" and "until" (0 when absent). */
static void
load(struct logindelay *ld, time_t *last, time_t *until)
{
	char buf[256], *line, *p, *val;
	const char *errstr;
	long long t;
	ssize_t r;
	int fd;

	*last = *until = 0;
	if (ld->dirfd == -1 || (fd = openat(ld->dirfd, ld->name,
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return;
	buf[r] = '\0';
	for (p = buf; (line = strsep(&p, "\n")) != NULL;) {
		if ((val = strchr(line, ' ')) == NULL)
			continue;
		*val++ = '\0';
		t = strtonum(val, T_MIN, T_MAX, &errstr);
		if (errstr != NULL)
			continue;
		if (strcmp(line, "last") == 0)
			*last = (time_t)t;
		else if (strcmp(line, "until") == 0)
			*until = (time_t)t;
	}
}

/* Replaces the file with "last" and "until" (those that are not 0), or
 * removes it when both are 0. */
static int
store(struct logindelay *ld, time_t last, time_t until, struct error *err)
{
	char buf[128];
	int fd, m = 0, e;

	if (ld->dirfd == -1)
		return 0;
	if (last == 0 && until == 0) {
		if (unlinkat(ld->dirfd, ld->name, 0) == -1 && errno != ENOENT)
			return error_set(err, ERR_IO, "%s: %s", ld->name,
			    strerror(errno));
		return 0;
	}
	if (last != 0)
		m = snprintf(buf, sizeof(buf), "last %lld\n", (long long)last);
	if (until != 0)
		m += snprintf(buf + m, sizeof(buf) - (size_t)m, "until %lld\n",
		    (long long)until);
	(void)unlinkat(ld->dirfd, ld->tmp, 0);
	fd = openat(ld->dirfd, ld->tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return error_set(err, ERR_IO, "%s: %s", ld->tmp,
		    strerror(errno));
	if (write(fd, buf, (size_t)m) != m || close(fd) == -1) {
		e = errno;
		(void)unlinkat(ld->dirfd, ld->tmp, 0);
		return error_set(err, ERR_IO, "%s: %s", ld->tmp, strerror(e));
	}
	if (renameat(ld->dirfd, ld->tmp, ld->dirfd, ld->name) == -1) {
		e = errno;
		(void)unlinkat(ld->dirfd, ld->tmp, 0);
		return error_set(err, ERR_IO, "%s: %s", ld->name,
		    strerror(e));
	}
	return 0;
}

int
logindelay_check(struct logindelay *ld, time_t now, time_t *until)
{
	time_t last;

	load(ld, &last, until);
	/* A time far ahead is a clock that went back, or an edited file:
	 * never more than a day. */
	if (*until > now + 86400)
		*until = now + 86400;
	return *until > now;
}

int
logindelay_refused(struct logindelay *ld, time_t now, int known,
    unsigned long long delay, time_t *until, struct error *err)
{
	time_t last, old;

	load(ld, &last, &old);
	if (!known || delay > 86400)
		delay = known ? 86400 : LOGINDELAY_DEFAULT;
	*until = (last != 0 && last <= now ? last : now) + (time_t)delay;
	if (*until < now + 60)
		*until = now + 60;
	return store(ld, last, *until, err);
}

int
logindelay_loggedin(struct logindelay *ld, time_t now, int advertised,
    struct error *err)
{
	return store(ld, advertised ? now : 0, 0, err);
}
