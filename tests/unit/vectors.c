/*
 * vectors.c - known-answer tests for sasl.c and crypto.c: the SCRAM
 * examples of RFC 5802 (SHA-1) and RFC 7677 (SHA-256), and the strict
 * base64 rules of RFC 5034.  Run by tests/sasl.bats; exit 0 when all
 * pass, else prints what failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/crypto.h"
#include "../../src/sasl.h"

static int failed;

static void
check(int ok, const char *what)
{
	if (!ok) {
		printf("FAIL: %s\n", what);
		failed = 1;
	}
}

static void
scram(enum sasl_mech m, const char *nonce, const char *first,
    const char *cfinal, const char *sfinal)
{
	struct sasl_params p = { m, "user", "pencil", NULL, NULL, 0, nonce };
	const unsigned char *out;
	struct error err;
	struct sasl *s;
	size_t len;
	char want[128];

	s = sasl_new(&p, &err);
	check(s != NULL, "sasl_new");
	if (s == NULL)
		return;
	(void)snprintf(want, sizeof(want), "n,,n=user,r=%s", nonce);
	check(sasl_initial(s, 200, &out, &len) == 1 && len == strlen(want) &&
	    memcmp(out, want, len) == 0, "client-first");
	check(sasl_step(s, (const unsigned char *)first, strlen(first), &out,
	    &len, &err) == 0 && len == strlen(cfinal) &&
	    memcmp(out, cfinal, len) == 0, "client-final");
	check(sasl_finish(s, &err) == -1, "finish before server-final");
	check(sasl_step(s, (const unsigned char *)sfinal, strlen(sfinal),
	    &out, &len, &err) == 0 && len == 0, "server-final accepted");
	check(sasl_finish(s, &err) == 0, "finish");
	sasl_free(s);

	/* The same exchange with one bit of the signature flipped. */
	s = sasl_new(&p, &err);
	(void)sasl_initial(s, 200, &out, &len);
	(void)sasl_step(s, (const unsigned char *)first, strlen(first), &out,
	    &len, &err);
	{
		char bad[128];

		(void)strlcpy(bad, sfinal, sizeof(bad));
		bad[3] = bad[3] == 'A' ? 'B' : 'A';
		check(sasl_step(s, (const unsigned char *)bad, strlen(bad),
		    &out, &len, &err) == -1 && err.cls == ERR_AUTH,
		    "a wrong server signature is refused");
	}
	sasl_free(s);
}

static void
b64(const char *in, int ok, const char *what)
{
	unsigned char *out;
	size_t len;
	int r = crypto_b64_decode(in, strlen(in), &out, &len);

	check((r == 0) == ok, what);
	if (r == 0)
		free(out);
}

int
main(void)
{
	/* RFC 5802 section 5. */
	scram(SASL_SCRAM_SHA1, "fyko+d2lbbFgONRv9qkxdawL",
	    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "s=QSXCR+Q6sek8bf92,i=4096",
	    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
	    "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
	/* RFC 7677 section 3. */
	scram(SASL_SCRAM_SHA256, "rOprNGfwEbeRWgbNEkqO",
	    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");

	/* RFC 5034 section 4: strict base64. */
	b64("", 1, "empty");
	b64("QQ==", 1, "QQ==");
	b64("QUI=", 1, "QUI=");
	b64("QUJD", 1, "QUJD");
	b64("=AAA", 0, "leading pad");
	b64("AAA=BBB=", 0, "pad in the middle");
	b64("QQ", 0, "missing pad");
	b64("QR==", 0, "stray bits");
	b64("QU J", 0, "space");
	b64("QUJD\n", 0, "newline");
	b64("Q===", 0, "three pads");
	b64("====", 0, "only pads");
	return failed;
}
