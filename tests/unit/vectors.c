/*
 * vectors.c - known-answer tests for sasl.c and crypto.c: the SCRAM
 * examples of RFC 5802 (SHA-1) and RFC 7677 (SHA-256), the same with
 * channel binding (no RFC has such vectors: these were computed in
 * Python with hashlib and hmac, the way tests/lib/fakepop.py's SCRAM
 * player computes, from the RFCs' server messages), and the strict
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

/* A SCRAM exchange with gs2 (the expected GS2 header) and, for cb_type,
 * the binding data cb of cblen bytes. */
static void
scram(enum sasl_mech m, const char *gs2, const char *cb_type,
    const unsigned char *cb, size_t cblen, const char *nonce,
    const char *first, const char *cfinal, const char *sfinal)
{
	struct sasl_params p = { m, "user", "pencil", NULL, NULL, 0, nonce,
	    cb_type, cb, cblen };
	const unsigned char *out;
	struct error err;
	struct sasl *s;
	size_t len;
	char want[128];

	s = sasl_new(&p, &err);
	check(s != NULL, "sasl_new");
	if (s == NULL)
		return;
	(void)snprintf(want, sizeof(want), "%sn=user,r=%s", gs2, nonce);
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

/* A -PLUS exchange whose server proves the unbound AuthMessage (c=biws,
 * RFC 7677's own signature): another binding than ours, refused. */
static void
other_binding(const unsigned char *cb)
{
	struct sasl_params p = { SASL_SCRAM_SHA256_PLUS, "user", "pencil",
	    NULL, NULL, 0, "rOprNGfwEbeRWgbNEkqO", "tls-exporter", cb, 32 };
	const char *first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)"
	    "hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
	const char *unbound = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
	const unsigned char *out;
	struct error err;
	struct sasl *s;
	size_t len;

	s = sasl_new(&p, &err);
	(void)sasl_initial(s, 200, &out, &len);
	(void)sasl_step(s, (const unsigned char *)first, strlen(first), &out,
	    &len, &err);
	check(sasl_step(s, (const unsigned char *)unbound, strlen(unbound),
	    &out, &len, &err) == -1 && err.cls == ERR_AUTH &&
	    strstr(err.msg, "channel binding") != NULL,
	    "a server-final proving another binding is refused");
	sasl_free(s);

	/* A server that fails client-first's flag at once, with e= in
	 * place of server-first. */
	p.mech = SASL_SCRAM_SHA256;
	s = sasl_new(&p, &err);
	(void)sasl_initial(s, 200, &out, &len);
	check(len > 3 && memcmp(out, "y,,", 3) == 0, "y without -PLUS");
	check(sasl_step(s, (const unsigned char *)"e=server-does-support-"
	    "channel-binding", 37, &out, &len, &err) == -1 &&
	    err.cls == ERR_AUTH && strstr(err.msg, "removed") != NULL,
	    "e= in place of server-first");
	sasl_free(s);
	p.mech = SASL_SCRAM_SHA256_PLUS;

	/* A -PLUS mechanism without binding data is a bug of the caller. */
	p.cb_data = NULL;
	check(sasl_new(&p, &err) == NULL && err.cls == ERR_SOFTWARE,
	    "-PLUS without binding data");
	/* A type that would break the GS2 header. */
	p.cb_data = cb;
	p.cb_type = "tls-exporter,,n=x";
	check(sasl_new(&p, &err) == NULL, "a type with a comma");
}

int
main(void)
{
	unsigned char exporter[32];
	/* SHA-256 of the bytes "certificate", as if of a server's
	 * certificate (tls-server-end-point, RFC 5929 section 4.1). */
	static const unsigned char endpoint[32] = {
		0x03, 0xd6, 0x6d, 0xd0, 0x88, 0x35, 0xc1, 0xca,
		0x3f, 0x12, 0x8c, 0xce, 0xac, 0xd1, 0xf3, 0x1a,
		0xc9, 0x41, 0x63, 0x09, 0x6b, 0x20, 0xf4, 0x45,
		0xae, 0x84, 0x28, 0x5b, 0xc0, 0x83, 0x2d, 0x72
	};
	size_t i;

	for (i = 0; i < sizeof(exporter); i++)
		exporter[i] = (unsigned char)i;
	/* RFC 5802 section 5. */
	scram(SASL_SCRAM_SHA1, "n,,", NULL, NULL, 0,
	    "fyko+d2lbbFgONRv9qkxdawL",
	    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "s=QSXCR+Q6sek8bf92,i=4096",
	    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
	    "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
	/* RFC 7677 section 3. */
	scram(SASL_SCRAM_SHA256, "n,,", NULL, NULL, 0, "rOprNGfwEbeRWgbNEkqO",
	    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
	/* The same over TLS with a server that offered no -PLUS: "y". */
	scram(SASL_SCRAM_SHA256, "y,,", "tls-exporter", NULL, 0,
	    "rOprNGfwEbeRWgbNEkqO",
	    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	    "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "p=FoqiHTtQEDE8lz1CdaEe3tK4mS+iMDTl77SPyDS53DY=",
	    "v=dI4KpiQJwBr1+V+K6U1dA6l6I4I9DUNXWND4pcpRU3U=");
	/* SCRAM-SHA-256-PLUS, tls-exporter data 00 01 ... 1f. */
	scram(SASL_SCRAM_SHA256_PLUS, "p=tls-exporter,,", "tls-exporter",
	    exporter, sizeof(exporter), "rOprNGfwEbeRWgbNEkqO",
	    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	    "c=cD10bHMtZXhwb3J0ZXIsLAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhsc"
	    "HR4f,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "p=QC6CS20quADQRb3mT99YUH+n3VJxUvzuK0K0E1Vrs2M=",
	    "v=2GiAgapEppLVlUXbxUDksL3VgYHzuqiK5tR4mhJGgvs=");
	/* SCRAM-SHA-1-PLUS over RFC 5802's messages, tls-server-end-point. */
	scram(SASL_SCRAM_SHA1_PLUS, "p=tls-server-end-point,,",
	    "tls-server-end-point", endpoint, sizeof(endpoint),
	    "fyko+d2lbbFgONRv9qkxdawL",
	    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "s=QSXCR+Q6sek8bf92,i=4096",
	    "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCwsA9Zt0Ig1wco/EozOrNHzGslBYwlr"
	    "IPRFroQoW8CDLXI=,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "p=itNKW6AWt32387Nbh9ejPjfgtl0=",
	    "v=7NzX8edR1CrwQa9fbCIwXrkJ3qk=");
	other_binding(exporter);

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
