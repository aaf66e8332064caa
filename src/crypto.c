/*
 * crypto.c - hashes and encodings, all from GnuTLS.
 */
#include <stdio.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "crypto.h"

int
crypto_md5_hex(const void *data, size_t len, char out[33])
{
	unsigned char d[16];
	size_t i;

	if (gnutls_hash_fast(GNUTLS_DIG_MD5, data, len, d) < 0)
		return -1;
	for (i = 0; i < sizeof(d); i++)
		(void)snprintf(out + 2 * i, 3, "%02x", d[i]);
	return 0;
}
