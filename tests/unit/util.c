/*
 * util.c - unit tests of the string builder and the percent codec that
 * write the journal's records and maildir files' names: the builder
 * against snprintf for the same values (edges of every integer type,
 * strings cut at every length), pct_encode against its definition for
 * every byte with and without extra bytes, and pct_decode back.  Run by
 * tests/state.bats; exit 0 when all pass, else prints what failed.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/util.h"

static int failed;

static void
check(int ok, const char *what, const char *got, const char *want)
{
	if (!ok) {
		printf("FAIL: %s: got \"%s\", want \"%s\"\n", what, got, want);
		failed = 1;
	}
}

/* The builder and snprintf agree for one record, whole or cut. */
static void
record(long long t, unsigned long long size, unsigned long crc,
    const char *s)
{
	char want[256], got[256];
	size_t cap;
	struct sb b;
	int n, m;

	n = snprintf(want, sizeof(want), "D %s %lld %llu %08lx.", s, t,
	    size, crc);
	for (cap = 1; cap <= sizeof(got); cap++) {
		sb_init(&b, got, cap);
		sb_str(&b, "D ");
		sb_str(&b, s);
		sb_char(&b, ' ');
		sb_i(&b, t);
		sb_char(&b, ' ');
		sb_u(&b, size);
		sb_char(&b, ' ');
		sb_hex8(&b, crc);
		sb_mem(&b, ".", 1);
		m = sb_end(&b);
		if ((size_t)n < cap) {
			check(m == n && strcmp(got, want) == 0, "whole", got,
			    want);
		} else {
			/* Cut: -1, and never past the buffer. */
			check(m == -1 && strlen(got) == cap - 1 &&
			    strncmp(got, want, cap - 1) == 0, "cut", got, want);
		}
	}
}

/* pct_encode by its definition: 0x21..0x7e pass, but "%" and also. */
static void
pct_ref(char *dst, const unsigned char *s, size_t len, const char *also)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] > 0x20 && s[i] < 0x7f && s[i] != '%' &&
		    (also == NULL || memchr(also, s[i], strlen(also)) == NULL))
			*dst++ = (char)s[i];
		else
			dst += snprintf(dst, 4, "%%%02X", s[i]);
	}
	*dst = '\0';
}

static void
pct(const char *also)
{
	unsigned char all[256];
	char got[3 * 256 + 1], want[3 * 256 + 1], back[257];
	size_t i, len;

	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	pct_encode(got, all, sizeof(all), also);
	pct_ref(want, all, sizeof(all), also);
	check(strcmp(got, want) == 0, also ? also : "pct_encode", got, want);
	check(pct_decode(back, got, strlen(got), &len) == 0 && len == 256 &&
	    memcmp(back, all, 256) == 0, "pct_decode", got, "every byte");
}

int
main(void)
{
	static const char *strs[] = { "", "u", "000186a05f8e1c2b",
	    "a%20b", "x" };
	long long ts[] = { 0, 1, -1, 9, 10, 1796251458, LLONG_MAX,
	    LLONG_MIN };
	unsigned long long sizes[] = { 0, 9, 10, 4294967295ULL, ULLONG_MAX };
	unsigned long crcs[] = { 0, 1, 0xabcdef, 0xffffffffUL, ULONG_MAX };
	size_t a, b, c, d;

	for (a = 0; a < sizeof(strs) / sizeof(strs[0]); a++)
		for (b = 0; b < sizeof(ts) / sizeof(ts[0]); b++)
			for (c = 0; c < sizeof(sizes) / sizeof(sizes[0]); c++)
				for (d = 0; d < sizeof(crcs) / sizeof(crcs[0]);
				    d++)
					record(ts[b], sizes[c], crcs[d],
					    strs[a]);
	pct(NULL);
	pct("");
	pct(":");
	pct(" ~!/");
	if (!failed)
		printf("ok\n");
	return failed;
}
