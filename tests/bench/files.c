/*
 * files DIR COUNT SIZE BATCH: the bench's floor for a maildir client.
 * It does only the file work a maildir delivery cannot avoid, with the
 * durability popfetch gives: per message, a file created in DIR/tmp
 * (O_EXCL), written whole and closed; per BATCH, one syncfs, then each
 * file renamed into DIR/new and one fsync of new/.  No network, no TLS,
 * no state.  Its CPU time plus the raw read's is what any maildir client
 * spends at the least, which puts popfetch's client CPU in proportion.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Written in pieces of this size, as a message arrives. */
#define CHUNK	65536

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static long
number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > 1000000000)
		die(s);
	return v;
}

int
main(int argc, char **argv)
{
	char path[4096], (*names)[64];
	long count, size, batch, i, j, from, left, n;
	int tmp, new, fd;
	char *buf;

	if (argc != 5) {
		fprintf(stderr, "usage: files DIR COUNT SIZE BATCH\n");
		return 2;
	}
	count = number(argv[2]);
	size = number(argv[3]);
	batch = number(argv[4]);
	if ((buf = malloc(CHUNK)) == NULL ||
	    (names = calloc((size_t)batch, sizeof(*names))) == NULL)
		die("malloc");
	memset(buf, 'x', CHUNK);
	(void)snprintf(path, sizeof(path), "%s/tmp", argv[1]);
	if ((tmp = open(path, O_RDONLY | O_DIRECTORY)) == -1)
		die(path);
	(void)snprintf(path, sizeof(path), "%s/new", argv[1]);
	if ((new = open(path, O_RDONLY | O_DIRECTORY)) == -1)
		die(path);
	for (from = 0; from < count; from += batch) {
		for (i = from, j = 0; i < count && j < batch; i++, j++) {
			/* A name of the usual length: time, M, P, Q, host. */
			(void)snprintf(names[j], sizeof(names[j]),
			    "1796251458.M614150P%ldQ%ld.bench.host",
			    (long)getpid(), i);
			fd = openat(tmp, names[j], O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd == -1)
				die(names[j]);
			for (left = size; left > 0; left -= n) {
				n = left < CHUNK ? left : CHUNK;
				if (write(fd, buf, (size_t)n) != n)
					die("write");
			}
			if (close(fd) == -1)
				die("close");
		}
		if (syncfs(tmp) == -1)
			die("syncfs");
		for (i = 0; i < j; i++)
			if (renameat(tmp, names[i], new, names[i]) == -1)
				die("rename");
		if (fsync(new) == -1)
			die("fsync");
	}
	return 0;
}
