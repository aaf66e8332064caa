/*
 * libFuzzer target: mboxrd quoting round trip.  The input, taken as a
 * message with LF line ends, is written through the mbox backend
 * (mbox_backend, linked with util.c alone) in chunks of random sizes;
 * reading the mbox back (strip the From line and the final empty line,
 * remove one ">" from ^>+From ) must give the input again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/backend.h"

static char path[64];

static char *
slurp(size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	if (f == NULL)
		abort();
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = malloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	*len = (size_t)n;
	return b;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct backend *be = &mbox_backend;
	struct deliver_params dp = { DELIVER_MBOX, path, 1 };
	struct error err;
	void *m;
	char *in, *file, *o, *line, *nl;
	size_t len, off = 0, n, olen = 0, inlen;
	unsigned seed = 1;
	size_t published;
	int first = 1;

	if (path[0] == '\0')
		(void)snprintf(path, sizeof(path), "/tmp/fuzz-mbox.%ld",
		    (long)getpid());
	/* The message as popfetch would deliver it: ends with LF. */
	in = malloc(size + 1);
	memcpy(in, data, size);
	inlen = size;
	if (inlen == 0 || in[inlen - 1] != '\n')
		in[inlen++] = '\n';
	(void)unlink(path);
	if ((m = be->open(&dp, &err)) == NULL)
		abort();
	if (be->prepare(m, "", &err) == NULL || be->begin(m, "a@b", &err) == -1)
		abort();
	while (off < inlen) {
		seed = seed * 1103515245 + 12345;
		n = 1 + (seed >> 16) % 100;
		if (n > inlen - off)
			n = inlen - off;
		if (be->write(m, in + off, n, &err) == -1)
			abort();
		off += n;
	}
	if (be->finish(m, &err) == -1 || be->sync(m, &published,
	    &err) == -1 || published != 1)
		abort();
	be->close(m);
	file = slurp(&len);
	/* Decode: the first line is the From line, the last is empty. */
	if (len < 2 || file[len - 1] != '\n' || file[len - 2] != '\n' ||
	    strncmp(file, "From a@b ", 9) != 0)
		abort();
	/* Lines by memchr: a message may hold NUL bytes. */
	o = malloc(len + 1);
	for (line = file; line < file + len - 1; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(file + len - 1 - line));
		if (nl == NULL)
			abort();
		n = (size_t)(nl - line) + 1;
		if (first) {
			first = 0;
			continue;
		}
		if (line[0] == '>') {
			size_t k = 0;

			while (k < n && line[k] == '>')
				k++;
			if (n - k >= 5 && memcmp(line + k, "From ", 5) == 0) {
				line++;
				n--;
			}
		} else if (n >= 5 && memcmp(line, "From ", 5) == 0)
			abort();	/* an unquoted From line inside */
		memcpy(o + olen, line, n);
		olen += n;
	}
	if (olen != inlen || memcmp(o, in, inlen) != 0)
		abort();
	free(o);
	free(file);
	free(in);
	(void)unlink(path);
	return 0;
}
