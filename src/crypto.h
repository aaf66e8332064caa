/*
 * crypto.h - hashes and encodings for authentication (GnuTLS).
 */
#ifndef CRYPTO_H
#define CRYPTO_H

#include <stddef.h>

/* Writes the lower-case hex MD5 of data (33 bytes with NUL) to out. */
int	crypto_md5_hex(const void *data, size_t len, char out[33]);

#endif
