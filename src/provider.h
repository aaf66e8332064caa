/*
 * provider.h - presets for well-known mail providers: the POP3 server,
 * how to log in, and for OAuth providers the endpoints, scope, flow and
 * quirks.  popfetch ships no application's client id: the user
 * registers one (popfetch(1), OAUTH 2.0).
 */
#ifndef PROVIDER_H
#define PROVIDER_H

#include <jansson.h>

#include "oauth2.h"

struct provider {
	const char		*name;
	const char		*title;
	const char		*host;		/* NULL: no POP3 at all */
	const char		*port;
	int			 oauth;		/* XOAUTH2 with stored tokens */
	int			 two_step;	/* XOAUTH2 after the empty
						 * challenge (Microsoft) */
	const char		*issuer;
	/* "%s" in an endpoint stands for the tenant. */
	const char		*authorization_endpoint;
	const char		*token_endpoint;
	const char		*device_endpoint;
	const char		*revocation_endpoint;
	const char		*scope;
	enum oauth2_flow	 flow;
	int			 offline_params;
	const char		*default_tenant;
	const char		*note;
	int			 until_empty;	/* hands out part of the
						 * mailbox a session */
};

/* The preset called name (any case), or NULL. */
const struct provider	*provider_find(const char *name);

/* Every preset, as one JSON array of objects (the caller owns it). */
json_t			*provider_list(void);

/* The endpoint e of p with the tenant put in (owned); NULL if p has
 * none. */
char			*provider_endpoint(const struct provider *p,
			    const char *e, const char *tenant);

#endif
