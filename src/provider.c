/*
 * provider.c - the presets of --provider.
 *
 * The facts come from the providers' own documentation: Google's OAuth
 * 2.0 for installed applications (a loopback redirect; Google refuses
 * the device grant for mail scopes) and its POP settings, Microsoft
 * identity platform's device code flow and its POP settings for
 * Exchange Online (XOAUTH2 in two steps), and the POP settings pages of
 * the others, which accept only application passwords.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "provider.h"
#include "util.h"

#define MS_BASE	"https://login.microsoftonline.com/%s/oauth2/v2.0/"

static const struct provider providers[] = {
	{ "gmail", "Gmail and Google Workspace", "pop.gmail.com", "995", 1, 0,
	    "https://accounts.google.com",
	    "https://accounts.google.com/o/oauth2/v2/auth",
	    "https://oauth2.googleapis.com/token",
	    NULL,
	    "https://oauth2.googleapis.com/revoke",
	    "https://mail.google.com/", OAUTH2_FLOW_LOOPBACK, 1, NULL,
	    "OAuth 2.0 with your own Google Cloud client (desktop app); POP "
	    "must be enabled in Gmail's settings",
	    /* About 250 messages a session (Gmail's POP documentation). */
	    1 },
	{ "microsoft", "Microsoft 365 and Outlook.com",
	    "outlook.office365.com", "995", 1, 1, NULL,
	    MS_BASE "authorize", MS_BASE "token", MS_BASE "devicecode", NULL,
	    "https://outlook.office.com/POP.AccessAsUser.All offline_access",
	    OAUTH2_FLOW_DEVICE, 0, "common",
	    "OAuth 2.0 with your own Microsoft Entra client (public client); "
	    "POP must be enabled for the mailbox", 0 },
	{ "yahoo", "Yahoo Mail", "pop.mail.yahoo.com", "995", 0, 0, NULL,
	    NULL, NULL, NULL, NULL, NULL, 0, 0, NULL,
	    "needs an app password (Account security, Generate app password)", 0 },
	{ "aol", "AOL Mail", "pop.aol.com", "995", 0, 0, NULL, NULL, NULL,
	    NULL, NULL, NULL, 0, 0, NULL,
	    "needs an app password (Account security, Generate app password)", 0 },
	{ "gmx", "GMX", "pop.gmx.net", "995", 0, 0, NULL, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, NULL,
	    "POP3 must be enabled in the settings; with two-factor login an "
	    "application-specific password is needed", 0 },
	{ "webde", "WEB.DE", "pop3.web.de", "995", 0, 0, NULL, NULL, NULL,
	    NULL, NULL, NULL, 0, 0, NULL,
	    "POP3 must be enabled in the settings; with two-factor login an "
	    "application-specific password is needed", 0 },
	{ "fastmail", "Fastmail", "pop.fastmail.com", "995", 0, 0, NULL, NULL,
	    NULL, NULL, NULL, NULL, 0, 0, NULL,
	    "needs an app password (Settings, Privacy & Security)", 0 },
	{ "zoho", "Zoho Mail", "pop.zoho.com", "995", 0, 0, NULL, NULL, NULL,
	    NULL, NULL, NULL, 0, 0, NULL,
	    "POP must be enabled in the settings; with two-factor login an "
	    "application-specific password is needed", 0 },
	{ "icloud", "iCloud Mail", NULL, NULL, 0, 0, NULL, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, NULL,
	    "iCloud Mail offers no POP3, only IMAP", 0 },
	{ "proton", "Proton Mail", NULL, NULL, 0, 0, NULL, NULL, NULL, NULL,
	    NULL, NULL, 0, 0, NULL,
	    "Proton Mail offers no POP3 (its Bridge speaks IMAP and SMTP)", 0 },
};

const struct provider *
provider_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (strcasecmp(providers[i].name, name) == 0)
			return &providers[i];
	return NULL;
}

char *
provider_endpoint(const struct provider *p, const char *e,
    const char *tenant)
{
	char buf[1024];

	(void)p;
	if (e == NULL)
		return NULL;
	if (strstr(e, "%s") == NULL)
		return xstrdup(e);
	/* The tenant was checked to be a plain name. */
	if (snprintf(buf, sizeof(buf), e, tenant) >= (int)sizeof(buf))
		return NULL;
	return xstrdup(buf);
}

json_t *
provider_list(void)
{
	const struct provider *p;
	json_t *a = json_array(), *o;
	size_t i;

	for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++) {
		p = &providers[i];
		o = json_pack("{s:s,s:s,s:b,s:s}", "name", p->name, "title",
		    p->title, "pop3", p->host != NULL, "note", p->note);
		if (p->host != NULL) {
			json_object_set_new(o, "host", json_string(p->host));
			json_object_set_new(o, "port", json_string(p->port));
			json_object_set_new(o, "auth", json_string(p->oauth ?
			    "xoauth2" : "password"));
		}
		if (p->oauth) {
			json_object_set_new(o, "scope", json_string(p->scope));
			json_object_set_new(o, "flow", json_string(p->flow ==
			    OAUTH2_FLOW_DEVICE ? "device" : "loopback"));
		}
		json_array_append_new(a, o);
	}
	return a;
}
