/* libFuzzer target: the SASL challenge parsers.  The input is taken as
 * base64 (strict decoding must round-trip), then as SCRAM server-first
 * and server-final messages (split at the first newline), then as a
 * challenge to every other mechanism. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/crypto.h"
#include "../../src/sasl.h"

static void
roundtrip(const char *s, size_t size)
{
	unsigned char *dec, *back;
	size_t dlen, blen;
	char *enc;

	if (crypto_b64_decode(s, size, &dec, &dlen) == 0) {
		/* Strict decoding accepts only the canonical encoding. */
		enc = crypto_b64_encode(dec, dlen);
		if (strlen(enc) != size || memcmp(enc, s, size) != 0)
			abort();
		free(enc);
		free(dec);
	}
	if (size <= 4096) {
		enc = crypto_b64_encode(s, size);
		if (crypto_b64_decode(enc, strlen(enc), &back, &blen) == -1 ||
		    blen != size || memcmp(back, s, size) != 0)
			abort();
		free(back);
		free(enc);
	}
}

static void
mech(enum sasl_mech m, const unsigned char *chal, size_t len,
    const unsigned char *second, size_t slen, int initial)
{
	struct sasl_params p = { m, "alice", "secret", "localhost", "995",
	    16, "fuzznonce", NULL, NULL, 0 };
	static const unsigned char cb[32];
	const unsigned char *out;
	struct error err;
	struct sasl *s;
	size_t olen;

	if (sasl_binds(m)) {
		p.cb_type = "tls-exporter";
		p.cb_data = cb;
		p.cb_len = sizeof(cb);
	}
	if ((s = sasl_new(&p, &err)) == NULL)
		abort();
	if (initial)
		(void)sasl_initial(s, 1000, &out, &olen);
	if (sasl_step(s, chal, len, &out, &olen, &err) == 0) {
		if (olen > 0 && out == NULL)
			abort();
		if (second != NULL &&
		    sasl_step(s, second, slen, &out, &olen, &err) == 0)
			(void)sasl_finish(s, &err);
	}
	if (sasl_server_error(s) != NULL &&
	    strlen(sasl_server_error(s)) >= 256)
		abort();
	sasl_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *nl = memchr(data, '\n', size);
	size_t first = nl != NULL ? (size_t)(nl - data) : size;

	roundtrip((const char *)data, size);
	mech(SASL_SCRAM_SHA256, data, first, nl != NULL ? nl + 1 : NULL,
	    nl != NULL ? size - first - 1 : 0, 1);
	mech(SASL_SCRAM_SHA1, data, first, nl != NULL ? nl + 1 : NULL,
	    nl != NULL ? size - first - 1 : 0, 1);
	mech(SASL_SCRAM_SHA256_PLUS, data, first, nl != NULL ? nl + 1 : NULL,
	    nl != NULL ? size - first - 1 : 0, 1);
	mech(SASL_CRAM_MD5, data, size, NULL, 0, 0);
	mech(SASL_LOGIN, data, size, data, size, 1);
	mech(SASL_PLAIN, data, size, NULL, 0, 0);
	mech(SASL_XOAUTH2, data, size, NULL, 0, 1);
	mech(SASL_OAUTHBEARER, data, size, NULL, 0, 1);
	return 0;
}
