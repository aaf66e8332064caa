/*
 * envelope.h - the envelope sender found in a message header.
 */
#ifndef ENVELOPE_H
#define ENVELOPE_H

#include <stddef.h>

/*
 * Writes into out (outlen bytes, always NUL-terminated, cut if too
 * small) the address of the first Return-Path field of the header in
 * hdr[0..len), else of the first From field, keeping only letters,
 * digits and "!#%&*+-./=?^_{|}~@"; "MAILER-DAEMON" when there is none.
 * The header ends at the first empty line or at len.
 */
void	envelope_sender(const char *hdr, size_t len, char *out,
	    size_t outlen);

#endif
