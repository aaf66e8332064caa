/*
 * crypto.c - hashes, MACs, PBKDF2, randomness and base64, all from
 * GnuTLS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "crypto.h"
#include "util.h"

static gnutls_mac_algorithm_t
mac_of(enum crypto_hash h)
{
	switch (h) {
	case HASH_MD5:
		return GNUTLS_MAC_MD5;
	case HASH_SHA1:
		return GNUTLS_MAC_SHA1;
	case HASH_SHA256:
		break;
	}
	return GNUTLS_MAC_SHA256;
}

static gnutls_digest_algorithm_t
dig_of(enum crypto_hash h)
{
	switch (h) {
	case HASH_MD5:
		return GNUTLS_DIG_MD5;
	case HASH_SHA1:
		return GNUTLS_DIG_SHA1;
	case HASH_SHA256:
		break;
	}
	return GNUTLS_DIG_SHA256;
}

size_t
crypto_hash_len(enum crypto_hash h)
{
	return gnutls_hash_get_len(dig_of(h));
}

int
crypto_md5_hex(const void *data, size_t len, char out[33])
{
	unsigned char d[16];

	if (gnutls_hash_fast(GNUTLS_DIG_MD5, data, len, d) < 0)
		return -1;
	hex_encode(d, sizeof(d), out, 0);
	explicit_bzero(d, sizeof(d));
	return 0;
}

int
crypto_hash(enum crypto_hash h, const void *data, size_t len,
    unsigned char *out)
{
	return gnutls_hash_fast(dig_of(h), data, len, out) < 0 ? -1 : 0;
}

int
crypto_hmac(enum crypto_hash h, const void *key, size_t keylen,
    const void *data, size_t len, unsigned char *out)
{
	return gnutls_hmac_fast(mac_of(h), key, keylen, data, len, out) < 0 ?
	    -1 : 0;
}

int
crypto_pbkdf2(enum crypto_hash h, const void *pw, size_t pwlen,
    const void *salt, size_t saltlen, unsigned iterations,
    unsigned char *out)
{
	gnutls_datum_t key = { (unsigned char *)(uintptr_t)pw,
	    (unsigned)pwlen };
	gnutls_datum_t s = { (unsigned char *)(uintptr_t)salt,
	    (unsigned)saltlen };

	if (pwlen > 65536 || saltlen > 65536 || iterations == 0)
		return -1;
	return gnutls_pbkdf2(mac_of(h), &key, &s, iterations, out,
	    crypto_hash_len(h)) < 0 ? -1 : 0;
}

int
crypto_random(void *buf, size_t len)
{
	return gnutls_rnd(GNUTLS_RND_NONCE, buf, len) < 0 ? -1 : 0;
}

char *
crypto_b64_encode(const void *data, size_t len)
{
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)data,
	    (unsigned)len }, out = { NULL, 0 };
	char *s;

	if (len == 0)
		return xstrdup("");
	if (len > 1 << 20 || gnutls_base64_encode2(&in, &out) < 0)
		abort();	/* only out of memory */
	s = xstrndup((const char *)out.data, out.size);
	gnutls_free(out.data);
	return s;
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
crypto_b64_decode(const char *s, size_t len, unsigned char **out,
    size_t *outlen)
{
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)s, (unsigned)len },
	    dec = { NULL, 0 };
	size_t i, pad = 0;
	int last;

	*out = NULL;
	*outlen = 0;
	if (len % 4 != 0 || len > 1 << 20)
		return -1;
	if (len == 0) {
		*out = xcalloc(1, 1);
		return 0;
	}
	if (s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len - pad; i++)
		if (b64_value(s[i]) < 0)
			return -1;
	/* The bits below the last encoded byte must be zero, so that each
	 * byte string has exactly one encoding. */
	last = b64_value(s[len - pad - 1]);
	if ((pad == 1 && (last & 0x03) != 0) ||
	    (pad == 2 && (last & 0x0f) != 0))
		return -1;
	if (gnutls_base64_decode2(&in, &dec) < 0)
		return -1;
	*out = xmalloc((size_t)dec.size + 1);
	memcpy(*out, dec.data, dec.size);
	(*out)[dec.size] = '\0';
	*outlen = dec.size;
	gnutls_free(dec.data);
	return 0;
}

char *
crypto_password_normalize(const char *pw)
{
	gnutls_datum_t out = { NULL, 0 };
	char *s;

	if (gnutls_utf8_password_normalize((const unsigned char *)pw,
	    (unsigned)strlen(pw), &out, 0) < 0 || out.data == NULL)
		return xstrdup(pw);
	s = xstrndup((const char *)out.data, out.size);
	explicit_bzero(out.data, out.size);
	gnutls_free(out.data);
	return s;
}
