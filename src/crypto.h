/*
 * crypto.h - hashes, MACs, key derivation, randomness and base64 for
 * authentication.  Every one comes from GnuTLS; nothing here is written
 * from scratch except the strictness checks on server input.
 */
#ifndef CRYPTO_H
#define CRYPTO_H

#include <stddef.h>

enum crypto_hash {
	HASH_MD5,
	HASH_SHA1,
	HASH_SHA256
};

#define CRYPTO_HASH_MAX	32	/* the longest digest, SHA-256 */

/* Nothing here takes a struct error: each function returns 0 or -1
 * (or NULL), and the caller says what failed. */

/* Digest length in bytes. */
size_t	crypto_hash_len(enum crypto_hash);

/* Writes the lower-case hex MD5 of data (33 bytes with NUL) to out;
 * 0 or -1. */
int	crypto_md5_hex(const void *data, size_t len, char out[33]);

/* out, the caller's, receives crypto_hash_len bytes.  All return 0 or
 * -1. */
int	crypto_hash(enum crypto_hash, const void *, size_t, unsigned char *out);
int	crypto_hmac(enum crypto_hash, const void *key, size_t keylen,
	    const void *data, size_t len, unsigned char *out);
/* PBKDF2 with HMAC-hash (RFC 8018); out receives crypto_hash_len bytes. */
int	crypto_pbkdf2(enum crypto_hash, const void *pw, size_t pwlen,
	    const void *salt, size_t saltlen, unsigned iterations,
	    unsigned char *out);

/* Fills buf with unpredictable bytes; 0 or -1. */
int	crypto_random(void *, size_t);

/* Base64 (RFC 4648) of len bytes, NUL-terminated; free with free(3)
 * (or secret_free when it encodes a secret).  Never NULL. */
char	*crypto_b64_encode(const void *, size_t);

/*
 * Decodes base64 strictly, as RFC 5034 asks of SASL data: only the
 * alphabet, a length that is a multiple of four, padding only at the
 * end and no stray bits in the last character.  Returns 0 with *out
 * (NUL-terminated for convenience, free with free(3)) and *outlen, or
 * -1.  Empty input decodes to an empty buffer.
 */
int	crypto_b64_decode(const char *, size_t, unsigned char **out,
	    size_t *outlen);

/* SASLprep-style normalisation of a UTF-8 password (RFC 7613, as
 * GnuTLS implements it); falls back to a copy of the input when it is
 * not valid UTF-8.  Free with secret_free. */
char	*crypto_password_normalize(const char *);

#endif
