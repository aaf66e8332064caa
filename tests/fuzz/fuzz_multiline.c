/*
 * libFuzzer target: the multi-line reader with dot-unstuffing, fed the
 * same server bytes once whole and once in chunks of random sizes (a
 * SOCK_SEQPACKET socket keeps each write a separate read).  Both must
 * give the same result and the same bytes.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/net.h"
#include "../../src/pop3.h"

struct out {
	char	*buf;
	size_t	 len;
};

static int
collect(void *arg, const char *d, size_t n, struct error *err)
{
	struct out *o = arg;

	(void)err;
	o->buf = realloc(o->buf, o->len + n);
	memcpy(o->buf + o->len, d, n);
	o->len += n;
	return 0;
}

/* Sends "+OK" and the body in chunks, then runs RETR on it. */
static int
run(const uint8_t *data, size_t size, unsigned seed, int whole,
    struct out *o)
{
	static const char ok[] = "+OK\r\n", end[] = "\r\n.\r\n";
	struct error err;
	struct pop3 *p;
	size_t off = 0, n;
	int sv[2], r, big = 1 << 20;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		abort();
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	/* One +OK for PASS, one for RETR. */
	if (write(sv[0], ok, sizeof(ok) - 1) < 0 ||
	    write(sv[0], ok, sizeof(ok) - 1) < 0)
		abort();
	while (off < size) {
		seed = seed * 1103515245 + 12345;
		n = whole ? size - off : 1 + (seed >> 16) % 64;
		if (n > size - off)
			n = size - off;
		if (write(sv[0], data + off, n) != (ssize_t)n)
			abort();
		off += n;
	}
	if (write(sv[0], end, sizeof(end) - 1) < 0)
		abort();
	shutdown(sv[0], SHUT_WR);
	p = pop3_new(net_from_fd(sv[1], 5));
	if (pop3_command(p, ERR_AUTH, &err, "PASS x") == -1)
		abort();
	r = pop3_retr(p, 1, collect, o, &err);
	pop3_free(p);
	close(sv[0]);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out a = { NULL, 0 }, b = { NULL, 0 };
	unsigned seed = 0;
	size_t i;
	int ra, rb;

	if (size > 65536)
		return 0;
	for (i = 0; i < size; i++)
		seed = seed * 31 + data[i];
	ra = run(data, size, seed, 1, &a);
	rb = run(data, size, seed, 0, &b);
	if (ra != rb || a.len != b.len || (a.len > 0 &&
	    memcmp(a.buf, b.buf, a.len) != 0))
		abort();
	free(a.buf);
	free(b.buf);
	return 0;
}
