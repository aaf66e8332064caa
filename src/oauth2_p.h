/*
 * oauth2_p.h - shared by the files of the oauth2 module: oauth2.c (the
 * flows), oauth2_http.c (requests to the provider) and oauth2_store.c
 * (the token file).  Nothing else includes it.
 */
#ifndef OAUTH2_P_H
#define OAUTH2_P_H

#include <jansson.h>

#include "oauth2.h"

/* The largest answer taken from a provider. */
#define OAUTH2_BODY_MAX	(1024 * 1024)

/*
 * A request to the provider over HTTPS (never plain HTTP), the
 * certificate verified against p->ca_file or the system's authorities.
 * With form (application/x-www-form-urlencoded, NULL: a GET), a POST.
 * *status is the HTTP status; *out the parsed JSON object (the caller
 * owns it), or NULL when the body is empty.  ERR_TLS (certificate),
 * ERR_NET, ERR_NOHOST, ERR_PROTO (not JSON, too big), ERR_USAGE (not an
 * https URL).
 */
int	 oauth2_http(const struct oauth2_params *, const char *url,
	    const char *form, long *status, json_t **out, struct error *);

/* Appends "&name=value" (without "&" at the start) to *form, escaped. */
void	 oauth2_form_add(char **form, const char *name, const char *value);

/* A string member of o, or NULL. */
const char *oauth2_str(json_t *o, const char *key);

/* The token file.  The lock is held from oauth2_store_lock to
 * oauth2_store_unlock. */
struct oauth2_lock;
/* ERR_CONFIG (an unsafe directory or file), ERR_LOCKED, ERR_IO. */
struct oauth2_lock *oauth2_store_lock(const struct oauth2_params *,
	    struct error *);
void	 oauth2_store_unlock(struct oauth2_lock *);
/* The store's object, or NULL: ERR_CONFIG (none: "no tokens", or an
 * unsafe or malformed file). */
json_t	*oauth2_store_read(const struct oauth2_params *, struct error *);
/* Replaces the store with o, atomically and durably.  ERR_IO,
 * ERR_CANTCREAT, ERR_CONFIG. */
int	 oauth2_store_write(const struct oauth2_params *, json_t *o,
	    struct error *);
/* Deletes the store; 0 if it was absent. ERR_IO. */
int	 oauth2_store_delete(const struct oauth2_params *, struct error *);

#endif
