/*
 * cli.c - the option table and what is made from it.
 *
 * Each option is one row: its names, the kind of argument and how that
 * argument is checked, whether it is an accounts-file keyword, its help
 * text, and what it sets (a field, found by offset, or a setter for the
 * few that need more).  getopt_long's array, --help, the keyword lookup,
 * the hints of errors and the --list-options listing are all made from
 * the rows, so an option's name and its values are written once
 * (--help, the listing and the hints are in cli_doc.c).
 *
 * Messages about a value name the setting the way the user wrote it
 * ("--timeout" on the command line, "timeout" in the accounts file);
 * the "takes" messages that list what is allowed name the option, the
 * way popfetch(1) documents it.
 */
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_p.h"
#include "import.h"

#define STORE_OF(x) _Generic((x),					\
	const char *: STORE_STR,					\
	int: STORE_INT,							\
	unsigned long: STORE_ULONG,					\
	unsigned long long: STORE_ULLONG)
#define SET(f)	.off = offsetof(struct cli_settings, f),		\
		.store = STORE_OF(((struct cli_settings *)0)->f)
#define RUN(f)	.off = offsetof(struct cli_args, f),			\
		.store = STORE_OF(((struct cli_args *)0)->f)

static cli_setter set_url, set_tls, set_auth, set_target, set_fingerprint,
    set_utf8, set_from, set_provider, set_tenant, set_flow, set_family;

static const struct cli_value tls_values[] = {
	{ "implicit", TLSMODE_IMPLICIT, 0 },
	{ "starttls", TLSMODE_STARTTLS, 0 },
	{ "none", TLSMODE_NONE, 0 },
	{ NULL, 0, 0 }
};

static const struct cli_value auth_values[] = {
	{ "auto", AUTH_AUTO, 0 },
	{ "user", AUTH_USER, 0 },
	{ "apop", AUTH_APOP, 0 },
	{ "rpop", AUTH_RPOP, 0 },
	{ "plain", AUTH_SASL, SASL_PLAIN },
	{ "login", AUTH_SASL, SASL_LOGIN },
	{ "cram-md5", AUTH_SASL, SASL_CRAM_MD5 },
	{ "scram-sha-1", AUTH_SASL, SASL_SCRAM_SHA1 },
	{ "scram-sha-256", AUTH_SASL, SASL_SCRAM_SHA256 },
	{ "scram-sha-1-plus", AUTH_SASL, SASL_SCRAM_SHA1_PLUS },
	{ "scram-sha-256-plus", AUTH_SASL, SASL_SCRAM_SHA256_PLUS },
	{ "external", AUTH_SASL, SASL_EXTERNAL },
	{ "xoauth2", AUTH_SASL, SASL_XOAUTH2 },
	{ "oauthbearer", AUTH_SASL, SASL_OAUTHBEARER },
	{ NULL, 0, 0 }
};

static const struct cli_value from_values[] = {
	{ "mpop", IMPORT_MPOP, 0 },
	{ "fetchmail", IMPORT_FETCHMAIL, 0 },
	{ "getmail", IMPORT_GETMAIL, 0 },
	{ NULL, 0, 0 }
};

static const struct cli_value flow_values[] = {
	{ "device", OAUTH2_FLOW_DEVICE, 0 },
	{ "loopback", OAUTH2_FLOW_LOOPBACK, 0 },
	{ NULL, 0, 0 }
};

const struct cli_option cli_options[O_COUNT] = {
	[O_URL] = { "url", 0, ARG_STRING, "URL", G_SERVER, KW | F_FIRST,
	    "the server as pop3s://user@host:port or pop3://...",
	    .set = set_url },
	[O_PROVIDER] = { "provider", 0, ARG_STRING, "NAME", G_OAUTH2,
	    KW | F_FIRST, "the server and login of a known provider (see "
	    "popfetch providers)", .set = set_provider },
	[O_HOST] = { "host", 0, ARG_STRING, "HOST", G_SERVER, KW,
	    "the server's host name or address", SET(sp.host) },
	[O_PORT] = { "port", 'p', ARG_NUMBER, "PORT", G_SERVER, KW,
	    "the server's port (995 with implicit TLS, else 110)",
	    .min = 1, .max = 65535, SET(sp.port) },
	[O_USER] = { "user", 'u', ARG_STRING, "USER", G_SERVER, KW,
	    "the user name to log in with", SET(sp.auth.user) },
	[O_TLS] = { "tls", 0, ARG_ENUM, "MODE", G_SERVER, KW,
	    "how to secure the connection", .values = tls_values,
	    .set = set_tls },
	[O_TIMEOUT] = { "timeout", 0, ARG_NUMBER, "SECONDS", G_SERVER, KW,
	    "give up on a connection silent for this long",
	    .min = 1, .max = 86400, .dflt = "60", SET(sp.timeout) },
	[O_MAX_TIME] = { "max-time", 0, ARG_NUMBER, "SECONDS", G_SERVER, KW,
	    "end a session that takes longer than this",
	    .min = 1, .max = 604800, SET(sp.max_time) },
	[O_UTF8] = { "utf8", 0, ARG_NONE, NULL, G_SERVER, KW,
	    "require UTF8 (RFC 6856); it is sent whenever offered",
	    .val = UTF8_REQUIRE, .set = set_utf8 },
	[O_NO_UTF8] = { "no-utf8", 0, ARG_NONE, NULL, G_SERVER, KW,
	    "never send UTF8, even if the server offers it",
	    .val = UTF8_OFF, .set = set_utf8 },
	[O_CONNECT_COMMAND] = { "connect-command", 0, ARG_COMMAND, "CMD",
	    G_SERVER, KW, "speak POP3 over this command's stdin and stdout",
	    SET(sp.dial.command) },
	[O_PROXY] = { "proxy", 0, ARG_STRING, "URL", G_SERVER, KW,
	    "connect through socks5h://[USER@]HOST:PORT or socks5://",
	    SET(sp.dial.proxy) },
	[O_IPV4] = { "ipv4", '4', ARG_NONE, NULL, G_SERVER, KW,
	    "connect over IPv4 only", .val = 4, .set = set_family },
	[O_IPV6] = { "ipv6", '6', ARG_NONE, NULL, G_SERVER, KW,
	    "connect over IPv6 only", .val = 6, .set = set_family },
	[O_SOURCE_ADDRESS] = { "source-address", 0, ARG_STRING, "ADDRESS",
	    G_SERVER, KW, "connect from this local address",
	    SET(sp.dial.source) },
	[O_CA_FILE] = { "ca-file", 0, ARG_PATH, "FILE", G_TLS, KW,
	    "trust the certificate authorities in this PEM file",
	    SET(sp.tlsp.ca_file) },
	[O_FINGERPRINT] = { "fingerprint", 0, ARG_STRING, "sha256:HEX",
	    G_TLS, KW, "accept only the certificate with this SHA-256",
	    .set = set_fingerprint },
	[O_PRINT_FINGERPRINT] = { "print-fingerprint", 0, ARG_NONE, NULL,
	    G_TLS, KW, "show the server's certificate",
	    SET(print_fingerprint) },
	[O_INSECURE] = { "insecure", 0, ARG_NONE, NULL, G_TLS, KW,
	    "do not verify the server's certificate",
	    SET(sp.tlsp.insecure) },
	[O_TLS_SERVER_NAME] = { "tls-server-name", 0, ARG_STRING, "NAME",
	    G_TLS, KW, "verify the certificate against this name",
	    SET(server_name) },
	[O_TLS_PRIORITY] = { "tls-priority", 0, ARG_STRING, "STRING",
	    G_TLS, KW, "a GnuTLS priority string", SET(sp.tlsp.priority) },
	[O_CLIENT_CERT] = { "client-cert", 0, ARG_PATH, "FILE", G_TLS, KW,
	    "present this client certificate (PEM)",
	    SET(sp.tlsp.client_cert) },
	[O_CLIENT_KEY] = { "client-key", 0, ARG_PATH, "FILE", G_TLS, KW,
	    "the client certificate's key, if not in its file",
	    SET(sp.tlsp.client_key) },
	[O_AUTH] = { "auth", 0, ARG_ENUM, "METHOD", G_LOGIN, KW | F_ANYCASE,
	    "how to log in", .values = auth_values, .set = set_auth },
	[O_NO_INITIAL_RESPONSE] = { "no-initial-response", 0, ARG_NONE,
	    NULL, G_LOGIN, KW, "always use the two-step form of SASL",
	    SET(sp.auth.no_initial_response) },
	[O_ALLOW_PLAINTEXT] = { "allow-plaintext", 0, ARG_NONE, NULL,
	    G_LOGIN, KW, "allow a password or token without TLS",
	    SET(sp.auth.allow_plaintext) },
	[O_PASSWORD_COMMAND] = { "password-command", 0, ARG_COMMAND, "CMD",
	    G_LOGIN, KW, "the first line this command prints is the password",
	    SET(sp.auth.cred.password_command) },
	[O_PASSWORD_FILE] = { "password-file", 0, ARG_PATH, "FILE",
	    G_LOGIN, KW, "the first line of this file is the password",
	    SET(sp.auth.cred.password_file) },
	[O_NETRC_FILE] = { "netrc-file", 0, ARG_PATH, "FILE", G_LOGIN, KW,
	    "look the password up in this netrc file",
	    SET(sp.auth.cred.netrc_file) },
	[O_PASSWORD] = { "password", 0, ARG_STRING, "PASSWORD", G_LOGIN,
	    F_KEYWORD, "the password (accounts file only)",
	    SET(sp.auth.cred.password) },
	[O_OAUTH2_ISSUER] = { "oauth2-issuer", 0, ARG_STRING, "URL",
	    G_OAUTH2, KW, "discover the OAuth endpoints from this issuer",
	    SET(oauth.issuer) },
	[O_OAUTH2_AUTHORIZATION_ENDPOINT] = { "oauth2-authorization-endpoint",
	    0, ARG_STRING, "URL", G_OAUTH2, KW,
	    "the OAuth authorization endpoint (loopback flow)",
	    SET(oauth.authorization_endpoint) },
	[O_OAUTH2_TOKEN_ENDPOINT] = { "oauth2-token-endpoint", 0, ARG_STRING,
	    "URL", G_OAUTH2, KW, "the OAuth token endpoint",
	    SET(oauth.token_endpoint) },
	[O_OAUTH2_DEVICE_ENDPOINT] = { "oauth2-device-endpoint", 0,
	    ARG_STRING, "URL", G_OAUTH2, KW,
	    "the OAuth device authorization endpoint",
	    SET(oauth.device_endpoint) },
	[O_OAUTH2_REVOCATION_ENDPOINT] = { "oauth2-revocation-endpoint", 0,
	    ARG_STRING, "URL", G_OAUTH2, KW, "the OAuth revocation endpoint",
	    SET(oauth.revocation_endpoint) },
	[O_OAUTH2_CLIENT_ID] = { "oauth2-client-id", 0, ARG_STRING, "ID",
	    G_OAUTH2, KW, "the client id you registered with the provider",
	    SET(oauth.client_id) },
	[O_OAUTH2_CLIENT_SECRET_COMMAND] = { "oauth2-client-secret-command",
	    0, ARG_COMMAND, "CMD", G_OAUTH2, KW,
	    "the first line this command prints is the client secret",
	    SET(oauth.client_secret_command) },
	[O_OAUTH2_SCOPE] = { "oauth2-scope", 0, ARG_STRING, "SCOPES",
	    G_OAUTH2, KW, "the scopes to ask for, separated by spaces",
	    SET(oauth.scope) },
	[O_OAUTH2_TENANT] = { "oauth2-tenant", 0, ARG_STRING, "TENANT",
	    G_OAUTH2, KW, "Microsoft: common, consumers, organizations or "
	    "a tenant id", .set = set_tenant },
	[O_OAUTH2_FLOW] = { "oauth2-flow", 0, ARG_ENUM, "FLOW", G_OAUTH2, KW,
	    "how oauth2 login asks you: a device code or the browser",
	    .values = flow_values, .set = set_flow },
	[O_OAUTH2_TOKEN_FILE] = { "oauth2-token-file", 0, ARG_PATH, "FILE",
	    G_OAUTH2, KW, "keep the OAuth tokens in this file",
	    SET(oauth_token_file) },
	[O_OAUTH2_CA_FILE] = { "oauth2-ca-file", 0, ARG_PATH, "FILE",
	    G_OAUTH2, KW, "trust these authorities for the OAuth provider "
	    "(default: --ca-file)", SET(oauth_ca_file) },
	[O_MAILDIR] = { "maildir", 0, ARG_PATH, "DIR", G_DELIVER, KW,
	    "deliver into this maildir", .val = DELIVER_MAILDIR,
	    .set = set_target },
	[O_MBOX] = { "mbox", 0, ARG_PATH, "FILE", G_DELIVER, KW,
	    "append to this mbox", .val = DELIVER_MBOX, .set = set_target },
	[O_MDA] = { "mda", 0, ARG_COMMAND, "COMMAND", G_DELIVER, KW,
	    "pipe each message into this delivery agent",
	    .val = DELIVER_MDA, .set = set_target },
	[O_MDA_TIMEOUT] = { "mda-timeout", 0, ARG_NUMBER, "SECONDS",
	    G_DELIVER, KW, "kill an MDA still running after this long",
	    .min = 1, .max = 86400, .dflt = "300",
	    SET(fp.dp.child_timeout) },
	[O_LMTP] = { "lmtp", 0, ARG_STRING, "SERVER", G_DELIVER, KW,
	    "deliver over LMTP to unix:PATH or HOST:PORT",
	    .val = DELIVER_LMTP, .set = set_target },
	[O_LMTP_RECIPIENT] = { "lmtp-recipient", 0, ARG_STRING, "ADDRESS",
	    G_DELIVER, KW, "the LMTP recipient (default: the user)",
	    SET(lmtp_recipient) },
	[O_SMTP] = { "smtp", 0, ARG_STRING, "HOST:PORT", G_DELIVER, KW,
	    "hand each message to an MTA over SMTP",
	    .val = DELIVER_SMTP, .set = set_target },
	[O_SMTP_RECIPIENT] = { "smtp-recipient", 0, ARG_STRING, "ADDRESS",
	    G_DELIVER, KW, "the SMTP recipient (default: the user)",
	    SET(smtp_recipient) },
	[O_NEW] = { "new", 0, ARG_NONE, NULL, G_FETCH, KW,
	    "fetch only messages not fetched before (the default)",
	    SET(fp.all), .clear = 1 },
	[O_ALL] = { "all", 0, ARG_NONE, NULL, G_FETCH, KW,
	    "fetch every message", SET(fp.all) },
	[O_KEEP] = { "keep", 0, ARG_NONE, NULL, G_FETCH, KW,
	    "leave messages on the server (the default)",
	    SET(fp.delete), .clear = 1 },
	[O_DELETE] = { "delete", 0, ARG_NONE, NULL, G_FETCH, KW,
	    "delete messages once they are delivered", SET(fp.delete) },
	[O_KEEP_DAYS] = { "keep-days", 0, ARG_NUMBER, "N", G_FETCH, KW,
	    "delete messages N days after their first delivery",
	    .min = 1, .max = 36500, SET(fp.keep_days) },
	[O_MAX_SIZE] = { "max-size", 0, ARG_NUMBER, "BYTES", G_FETCH, KW,
	    "skip larger messages", .min = 1, .max = LLONG_MAX,
	    SET(fp.max_size) },
	[O_LIMIT] = { "limit", 0, ARG_NUMBER, "N", G_FETCH, KW,
	    "fetch at most N messages", .min = 1, .max = POP3_MSG_MAX,
	    SET(fp.limit) },
	[O_UNTIL_EMPTY] = { "until-empty", 0, ARG_NONE, NULL, G_FETCH, KW,
	    "log in again while a session brought new mail (Gmail)",
	    SET(fp.until_empty) },
	[O_MAX_SESSIONS] = { "max-sessions", 0, ARG_NUMBER, "N", G_FETCH, KW,
	    "with --until-empty, at most N sessions a run", .min = 1,
	    .max = 10000, .dflt = "50", SET(fp.max_sessions) },
	[O_FILTER] = { "filter", 0, ARG_COMMAND, "CMD", G_FETCH, KW,
	    "judge each header first: exit 0 fetch, 1 delete, 2 leave",
	    SET(fp.filter) },
	[O_DRY_RUN] = { "dry-run", 0, ARG_NONE, NULL, G_FETCH, KW,
	    "say what would be fetched and deleted; change nothing",
	    SET(fp.dry_run) },
	[O_STATE] = { "state", 0, ARG_PATH, "FILE", G_FETCH, KW,
	    "keep the state in this file", SET(fp.state_path) },
	[O_FORGET_AFTER] = { "forget-after", 0, ARG_NUMBER, "DAYS", G_FETCH,
	    KW, "forget a message the server has not listed for DAYS days",
	    .min = 0, .max = 36500, .dflt = "30", SET(fp.forget_days) },
	[O_FULL_LISTING] = { "full-listing", 0, ARG_NONE, NULL, G_FETCH, KW,
	    "list every message at every run, not just the newest",
	    SET(fp.full_listing) },
	[O_FROM] = { "from", 0, ARG_ENUM, "PROGRAM", G_FETCH, KW,
	    "state import: whose UID file to read", .values = from_values,
	    .set = set_from },
	[O_RECEIVED_HEADER] = { "received-header", 0, ARG_NONE, NULL,
	    G_FETCH, KW, "add a Received: header",
	    SET(fp.received_header) },
	[O_UIDL_HEADER] = { "uidl-header", 0, ARG_NONE, NULL, G_FETCH, KW,
	    "add an X-Popfetch-UIDL: header", SET(fp.uidl_header) },
	[O_REFETCH_MISSING] = { "refetch-missing", 0, ARG_NONE, NULL, G_FETCH,
	    KW, "fetch again what was delivered but is missing or changed",
	    SET(fp.refetch_missing) },
	[O_VERIFIED_DELETE] = { "verified-delete", 0, ARG_NONE, NULL, G_FETCH,
	    KW, "delete only messages whose stored copy verifies",
	    SET(fp.verified_delete) },
	[O_OFFLINE] = { "offline", 0, ARG_NONE, NULL, G_FETCH, KW,
	    "verify: check the store against the state, without connecting",
	    SET(offline) },
	[O_DEBUG] = { "debug", 'd', ARG_NUMBER, "LEVEL", G_OUTPUT, KW,
	    "trace the protocol on stderr", .min = 0, .max = 2,
	    SET(sp.debug) },
	[O_JSON] = { "json", 0, ARG_NONE, NULL, G_OUTPUT, KW,
	    "print results as JSON", SET(co.json) },
	[O_QUIET] = { "quiet", 'q', ARG_NONE, NULL, G_OUTPUT, KW,
	    "print only errors", SET(co.quiet) },
	[O_SYSLOG] = { "syslog", 0, ARG_NONE, NULL, G_OUTPUT, KW,
	    "send messages and summaries to syslog (mail), not the terminal",
	    SET(co.syslog) },
	[O_HELP] = { "help", 'h', ARG_NONE, NULL, G_OUTPUT, F_ARGV,
	    "print this summary", RUN(help) },
	[O_VERSION] = { "version", 'V', ARG_NONE, NULL, G_OUTPUT, F_ARGV,
	    "print the versions of popfetch and GnuTLS", RUN(version) },
	[O_ACCOUNT] = { "account", 'a', ARG_STRING, "NAME", G_ACCOUNTS,
	    F_ARGV, "run this account of the accounts file", RUN(account) },
	[O_ALL_ACCOUNTS] = { "all-accounts", 0, ARG_NONE, NULL, G_ACCOUNTS,
	    F_ARGV, "run every account", RUN(all) },
	[O_JOBS] = { "jobs", 'j', ARG_NUMBER, "N", G_ACCOUNTS, F_ARGV,
	    "run up to N accounts at once", .min = 1, .max = 64,
	    RUN(jobs) },
	[O_CONFIG] = { "config", 0, ARG_PATH, "FILE", G_ACCOUNTS, F_ARGV,
	    "read the accounts from this file", RUN(config) },
	[O_LIST_OPTIONS] = { "list-options", 0, ARG_NONE, NULL, G_HIDDEN,
	    F_ARGV, "list the options and commands, one JSON object a line",
	    RUN(list) },
};

/* Stores into *(type *)(base + off) without breaking aliasing rules. */
#define PUT(base, off, type, v) do {					\
	type v_ = (type)(v);						\
	memcpy((char *)(base) + (off), &v_, sizeof(v_));		\
} while (0)

/* "--timeout" or "timeout". */
static const char *
named(const struct cli_option *o, enum cli_form form, char *buf,
    size_t len)
{
	if (snprintf(buf, len, "%s%s", form == CLI_OPTION ? "--" : "",
	    o->name) >= (int)len)
		return o->name;
	return buf;
}

int
cli_append(char *buf, size_t len, const char *s)
{
	return strlcat(buf, s, len) >= len ? -1 : 0;
}

/* "a, b or c" (or "a, b and c") of the names of values or rows. */
static const char *
join(char *buf, size_t len, const char *const *names, size_t n,
    const char *conj)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		if ((i > 0 && cli_append(buf, len, i + 1 == n ? conj : ", ") ==
		    -1) || cli_append(buf, len, names[i]) == -1)
			break;
	return buf;
}

/* Reads a number within the row's bounds. */
static int
number(const struct cli_option *o, const char *arg, enum cli_form form,
    long long *num, struct error *err)
{
	const char *errstr;
	char n[64];

	*num = strtonum(arg, o->min, o->max, &errstr);
	if (errstr != NULL)
		return error_set(err, ERR_USAGE, "%s \"%s\" is %s (%lld to "
		    "%lld)", named(o, form, n, sizeof(n)), arg, errstr, o->min,
		    o->max);
	return 0;
}

static int
bad_value(const struct cli_option *o, struct error *err)
{
	const char *names[32];
	char list[512];
	size_t n;

	for (n = 0; o->values[n].name != NULL && n < 32; n++)
		names[n] = o->values[n].name;
	return error_set(err, ERR_USAGE, "--%s takes %s", o->name,
	    join(list, sizeof(list), names, n, " or "));
}

static const struct cli_value *
find_value(const struct cli_option *o, const char *arg)
{
	const struct cli_value *v;

	for (v = o->values; v->name != NULL; v++)
		if ((o->flags & F_ANYCASE ? strcasecmp(v->name, arg) :
		    strcmp(v->name, arg)) == 0)
			return v;
	return NULL;
}

/* Checks arg against the row, then stores it at base (a struct
 * cli_settings or a struct cli_args) or calls the setter. */
static int
take(const struct cli_option *o, void *base, const char *arg,
    enum cli_form form, struct error *err)
{
	const struct cli_value *v = NULL;
	long long num = 0;
	char n[64];

	if (o->arg == ARG_NONE && arg != NULL)
		return error_set(err, ERR_USAGE, "%s takes no value",
		    named(o, form, n, sizeof(n)));
	if (o->arg != ARG_NONE && arg == NULL)
		return error_set(err, ERR_USAGE, "%s needs a value",
		    named(o, form, n, sizeof(n)));
	if (o->arg == ARG_NUMBER && number(o, arg, form, &num, err) == -1)
		return -1;
	if (o->arg == ARG_ENUM && (v = find_value(o, arg)) == NULL)
		return bad_value(o, err);
	if (o->set != NULL)
		return o->set(base, o, arg, v, err);
	switch (o->store) {
	case STORE_STR:
		PUT(base, o->off, const char *, arg);
		break;
	case STORE_INT:
		PUT(base, o->off, int, o->arg == ARG_NONE ? !o->clear : num);
		break;
	case STORE_ULONG:
		PUT(base, o->off, unsigned long, num);
		break;
	case STORE_ULLONG:
		PUT(base, o->off, unsigned long long, num);
		break;
	case STORE_NONE:
		return error_set(err, ERR_SOFTWARE, "--%s stores nothing",
		    o->name);
	}
	return 0;
}

int
cli_apply(struct cli_settings *s, enum cli_id id, const char *arg,
    enum cli_form form, struct error *err)
{
	if ((unsigned)id >= O_COUNT || !(cli_options[id].flags & F_KEYWORD))
		return error_set(err, ERR_SOFTWARE, "option %d", (int)id);
	return take(&cli_options[id], s, arg, form, err);
}

/* The URL as it may be shown: a password in it becomes "****". */
static const char *
shown_url(const char *url, char *buf, size_t len)
{
	const char *auth, *end, *at, *colon;

	auth = strstr(url, "://");
	auth = auth != NULL ? auth + 3 : url;
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (colon = auth; colon < end; colon++)
		if (*colon == '@')
			at = colon;
	if (at == NULL || (colon = memchr(auth, ':', (size_t)(at - auth))) ==
	    NULL)
		return url;
	if (snprintf(buf, len, "%.*s:****%s", (int)(colon - auth + (auth -
	    url)), url, at) >= (int)len)
		return "(the URL)";
	return buf;
}

/* pop3s://[user@]host[:port][/] and pop3://...; host may be [v6].  A URL
 * replaces the host, port and TLS mode set so far, and the user if it
 * names one. */
static int
parse_url(struct cli_settings *s, const char *url, struct error *err)
{
	char *copy, *p, *at, *host, *port = NULL, *end, sbuf[512];
	const char *shown = shown_url(url, sbuf, sizeof(sbuf));
	long long num;
	size_t ulen;

	if (strncasecmp(url, "pop3s://", 8) == 0) {
		s->sp.tls = TLSMODE_IMPLICIT;
		p = copy = xstrdup(url + 8);
	} else if (strncasecmp(url, "pop3://", 7) == 0) {
		s->sp.tls = TLSMODE_STARTTLS;
		p = copy = xstrdup(url + 7);
	} else
		return error_set(err, ERR_USAGE, "%s: not a pop3:// or "
		    "pop3s:// URL", shown);
	if ((end = strchr(p, '/')) != NULL) {
		if (end[1] != '\0') {
			error_set(err, ERR_USAGE, "%s: a URL has no path here",
			    shown);
			goto fail;
		}
		*end = '\0';
	}
	if ((at = strrchr(p, '@')) != NULL) {
		*at = '\0';
		if (strchr(p, ':') != NULL) {
			error_set(err, ERR_USAGE, "%s: passwords are not "
			    "accepted on the command line or in a URL; see "
			    "PASSWORDS in popfetch(1)", shown);
			goto fail;
		}
		if (pct_decode(p, p, strlen(p), &ulen) == -1 || ulen == 0 ||
		    strlen(p) != ulen) {
			error_set(err, ERR_USAGE, "%s: bad user name", shown);
			goto fail;
		}
		free(s->url_user);
		s->url_user = xstrdup(p);
		s->sp.auth.user = s->url_user;
		p = at + 1;
	}
	host = p;
	if (*p == '[') {
		host = p + 1;
		if ((end = strchr(host, ']')) == NULL ||
		    (end[1] != ':' && end[1] != '\0')) {
			error_set(err, ERR_USAGE, "%s: bad host", shown);
			goto fail;
		}
		*end = '\0';
		if (end[1] == ':')
			port = end + 2;
	} else if ((end = strchr(p, ':')) != NULL) {
		*end = '\0';
		port = end + 1;
	}
	if (*host == '\0' || (port != NULL && *port == '\0')) {
		error_set(err, ERR_USAGE, "%s: bad URL", shown);
		goto fail;
	}
	/* The port is checked like the port setting. */
	if (port != NULL && number(&cli_options[O_PORT], port, CLI_KEYWORD,
	    &num, err) == -1)
		goto fail;
	free(s->url_host);
	free(s->url_port);
	s->url_host = xstrdup(host);
	s->url_port = port != NULL ? xstrdup(port) : NULL;
	s->sp.host = s->url_host;
	s->sp.port = s->url_port;
	free(copy);
	return 0;
fail:
	free(copy);
	return -1;
}

static int
set_url(struct cli_settings *s, const struct cli_option *o, const char *arg,
    const struct cli_value *v, struct error *err)
{
	(void)o, (void)v;
	return parse_url(s, arg, err);
}

static int
set_tls(struct cli_settings *s, const struct cli_option *o, const char *arg,
    const struct cli_value *v, struct error *err)
{
	(void)o, (void)arg, (void)err;
	s->sp.tls = (enum tls_mode)v->val;
	return 0;
}

static int
set_from(struct cli_settings *s, const struct cli_option *o,
    const char *arg, const struct cli_value *v, struct error *err)
{
	(void)o, (void)arg, (void)err;
	s->import_from = v->val;
	return 0;
}

static int
set_auth(struct cli_settings *s, const struct cli_option *o,
    const char *arg, const struct cli_value *v, struct error *err)
{
	(void)o, (void)arg, (void)err;
	s->sp.auth.method = (enum auth_method)v->val;
	if (s->sp.auth.method == AUTH_SASL)
		s->sp.auth.mech = (enum sasl_mech)v->sub;
	return 0;
}

/* The delivery targets: "--maildir DIR, --mbox FILE or --mda COMMAND"
 * (with_arg) or "--maildir, --mbox and --mda". */
static const char *
targets(char *buf, size_t len, int with_arg)
{
	const char *names[O_COUNT];
	char words[O_COUNT][64];
	size_t i, n = 0;

	for (i = 0; i < O_COUNT; i++) {
		if (cli_options[i].set != set_target ||
		    snprintf(words[n], sizeof(words[n]), "--%s%s%s",
		    cli_options[i].name, with_arg ? " " : "",
		    with_arg ? cli_options[i].argname : "") >=
		    (int)sizeof(words[n]))
			continue;
		names[n] = words[n];
		n++;
	}
	return join(buf, len, names, n, with_arg ? " or " : " and ");
}

const char *
cli_targets(char *buf, size_t len)
{
	return targets(buf, len, 1);
}

/* --maildir, --mbox, --mda, --lmtp and --smtp: one of them per layer; a
 * later layer replaces an earlier one's. */
static int
set_target(struct cli_settings *s, const struct cli_option *o,
    const char *arg, const struct cli_value *v, struct error *err)
{
	char list[256];

	(void)v;
	if (s->target_layer == s->layer)
		return error_set(err, ERR_USAGE, "give only one of %s",
		    targets(list, sizeof(list), 0));
	s->target_layer = s->layer;
	s->fp.dp.kind = (enum deliver_kind)o->val;
	if (*arg == '\0')
		return error_set(err, ERR_USAGE, "an empty delivery target");
	s->fp.dp.target = arg;
	return 0;
}

/* -4 and -6: the later one wins, like any other setting. */
static int
set_family(struct cli_settings *s, const struct cli_option *o,
    const char *arg, const struct cli_value *v, struct error *err)
{
	(void)arg, (void)v, (void)err;
	s->sp.dial.family = o->val;
	return 0;
}

static int
set_utf8(struct cli_settings *s, const struct cli_option *o,
    const char *arg, const struct cli_value *v, struct error *err)
{
	(void)arg;
	(void)v;
	(void)err;
	s->sp.utf8 = (enum utf8_mode)o->val;
	return 0;
}

static int
set_fingerprint(struct cli_settings *s, const struct cli_option *o,
    const char *arg, const struct cli_value *v, struct error *err)
{
	unsigned char pin[32];

	(void)v;
	if (tls_parse_fingerprint(arg, pin) == -1)
		return error_set(err, ERR_USAGE, "--%s takes sha256: and 64 "
		    "hex digits", o->name);
	s->sp.tlsp.fingerprint = arg;
	return 0;
}

static int
set_flow(struct cli_settings *s, const struct cli_option *o,
    const char *arg, const struct cli_value *v, struct error *err)
{
	(void)o, (void)arg, (void)err;
	s->oauth.flow = (enum oauth2_flow)v->val;
	return 0;
}

/* A tenant is a name or a GUID: it goes into a URL's path. */
static int
set_tenant(struct cli_settings *s, const struct cli_option *o,
    const char *arg, const struct cli_value *v, struct error *err)
{
	(void)v;
	if (*arg == '\0' || strlen(arg) > 128 || strspn(arg,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    ".-") != strlen(arg))
		return error_set(err, ERR_USAGE, "--%s takes common, "
		    "consumers, organizations, a tenant id or a domain",
		    o->name);
	s->oauth_tenant = arg;
	return 0;
}

/*
 * A preset replaces what earlier layers said of the server, the login
 * and the OAuth endpoints; the settings of its own layer and later ones
 * refine it (it is applied first within its layer).
 */
static int
set_provider(struct cli_settings *s, const struct cli_option *o,
    const char *arg, const struct cli_value *v, struct error *err)
{
	const struct provider *p;

	(void)o, (void)v;
	if ((p = provider_find(arg)) == NULL)
		return error_set(err, ERR_USAGE, "unknown provider \"%.40s\"; "
		    "popfetch providers lists them", arg);
	if (p->host == NULL)
		return error_set(err, ERR_USAGE, "%s: %s; popfetch cannot "
		    "fetch from it", p->name, p->note);
	s->provider = p;
	s->sp.host = p->host;
	s->sp.port = p->port;
	s->sp.tls = TLSMODE_IMPLICIT;
	s->sp.auth.method = AUTH_AUTO;
	s->sp.auth.no_initial_response = 0;
	s->fp.until_empty = p->until_empty;
	if (!p->oauth)
		return 0;
	s->sp.auth.method = AUTH_SASL;
	s->sp.auth.mech = SASL_XOAUTH2;
	s->sp.auth.no_initial_response = p->two_step;
	s->oauth.issuer = p->issuer;
	s->oauth.authorization_endpoint = NULL;
	s->oauth.token_endpoint = NULL;
	s->oauth.device_endpoint = NULL;
	s->oauth.revocation_endpoint = NULL;
	s->oauth.scope = p->scope;
	s->oauth.flow = p->flow;
	s->oauth.offline_params = p->offline_params;
	return 0;
}

int
cli_finish(struct cli_settings *s, struct error *err)
{
	(void)err;
	const struct provider *p = s->provider;
	const char **f[4] = { &s->oauth.authorization_endpoint,
	    &s->oauth.token_endpoint, &s->oauth.device_endpoint,
	    &s->oauth.revocation_endpoint };
	char path[4096], name[1024];
	size_t i;
	int r;

	if (p != NULL && p->oauth) {
		const char *e[4] = { p->authorization_endpoint,
		    p->token_endpoint, p->device_endpoint,
		    p->revocation_endpoint };

		for (i = 0; i < 4; i++)
			if (*f[i] == NULL && e[i] != NULL) {
				free(s->owned[i]);
				s->owned[i] = provider_endpoint(p, e[i],
				    s->oauth_tenant != NULL ? s->oauth_tenant :
				    p->default_tenant);
				*f[i] = s->owned[i];
			}
	}
	s->oauth.ca_file = s->oauth_ca_file != NULL ? s->oauth_ca_file :
	    s->sp.tlsp.ca_file;
	s->oauth.timeout = s->sp.timeout;
	s->oauth.store_named = s->oauth_token_file != NULL;
	if (s->oauth_token_file != NULL) {
		s->oauth.store = s->oauth_token_file;
		return 0;
	}
	/* One file an account: its name, else user@host:port. */
	if (s->account != NULL)
		r = snprintf(name, sizeof(name), "%s", s->account);
	else
		r = snprintf(name, sizeof(name), "%s@%s:%s",
		    s->sp.auth.user != NULL ? s->sp.auth.user : "",
		    s->sp.host != NULL ? s->sp.host : "", session_port(&s->sp));
	if (r < 0 || (size_t)r >= sizeof(name))
		return 0;
	/* Without HOME a run that needs no tokens goes on; the OAuth
	 * module says what is missing if it does. */
	if (oauth2_store_path(path, sizeof(path), name, &(struct error){
	    .cls = ERR_NONE }) == -1)
		return 0;
	free(s->owned[4]);
	s->owned[4] = xstrdup(path);
	s->oauth.store = s->owned[4];
	return 0;
}

int
cli_keyword(const char *name)
{
	size_t i;

	for (i = 0; i < O_COUNT; i++)
		if ((cli_options[i].flags & F_KEYWORD) &&
		    strcmp(cli_options[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The edit distance of a and b (insertions, deletions, substitutions),
 * up to 63 bytes each; longer words are never near. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[64][64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			d[i][j] = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < d[i][j])
				d[i][j] = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < d[i][j])
				d[i][j] = d[i][j - 1] + 1;
		}
	return d[la][lb];
}

const char *
cli_keyword_near(const char *name)
{
	const char *best = NULL;
	size_t i, d, bestd = 3;

	for (i = 0; i < O_COUNT; i++) {
		if (!(cli_options[i].flags & F_KEYWORD))
			continue;
		/* "keepdays", "Keep_Days": the same word spelled otherwise. */
		if ((d = distance(name, cli_options[i].name)) < bestd) {
			best = cli_options[i].name;
			bestd = d;
		}
	}
	return best;
}

int
cli_first(enum cli_id id)
{
	return (unsigned)id < O_COUNT && (cli_options[id].flags & F_FIRST);
}

const char *
cli_name(enum cli_id id)
{
	return (unsigned)id < O_COUNT ? cli_options[id].name : "?";
}

const char *
cli_value(enum cli_id id, int val)
{
	const struct cli_value *v;

	if ((unsigned)id >= O_COUNT || cli_options[id].values == NULL)
		return "?";
	for (v = cli_options[id].values; v->name != NULL; v++)
		if (v->val == val)
			return v->name;
	return "?";
}

void
cli_settings_init(struct cli_settings *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < O_COUNT; i++)
		if (cli_options[i].dflt != NULL)
			(void)take(&cli_options[i], s, cli_options[i].dflt,
			    CLI_OPTION, NULL);
}

void
cli_settings_free(struct cli_settings *s)
{
	free(s->url_host);
	free(s->url_user);
	free(s->url_port);
	s->url_host = s->url_user = s->url_port = NULL;
	for (size_t i = 0; i < sizeof(s->owned) / sizeof(s->owned[0]); i++) {
		free(s->owned[i]);
		s->owned[i] = NULL;
	}
}

static void
args_add(struct cli_args *a, enum cli_id id, const char *arg)
{
	a->v = xreallocarray(a->v, a->n + 1, sizeof(*a->v));
	a->v[a->n].id = id;
	a->v[a->n].arg = arg;
	a->n++;
}

/* getopt_long's tables, made once from the rows: an option with a short
 * name returns it, any other 256 plus its row. */
static const struct option *
getopt_tables(const char **shortopts)
{
	static struct option longopts[O_COUNT + 1];
	static char shorts[3 * O_COUNT + 1];
	size_t i, n = 0, k = 0;

	if (longopts[0].name != NULL) {
		*shortopts = shorts;
		return longopts;
	}
	for (i = 0; i < O_COUNT; i++) {
		const struct cli_option *o = &cli_options[i];

		if (!(o->flags & F_ARGV))
			continue;
		longopts[n].name = o->name;
		longopts[n].has_arg = o->arg == ARG_NONE ? no_argument :
		    required_argument;
		longopts[n].flag = NULL;
		longopts[n].val = o->shortname != 0 ? o->shortname :
		    256 + (int)i;
		n++;
		if (o->shortname != 0) {
			shorts[k++] = o->shortname;
			if (o->arg != ARG_NONE)
				shorts[k++] = ':';
		}
	}
	shorts[k] = '\0';
	*shortopts = shorts;
	return longopts;
}

static const struct cli_option *
option_of(int ch)
{
	size_t i;

	if (ch >= 256 && ch - 256 < O_COUNT)
		return &cli_options[ch - 256];
	for (i = 0; i < O_COUNT; i++)
		if (cli_options[i].shortname == ch &&
		    (cli_options[i].flags & F_ARGV))
			return &cli_options[i];
	return NULL;
}

int
cli_parse(struct cli_args *a, int argc, char **argv, struct error *err)
{
	const struct option *longopts;
	const struct cli_option *o;
	const char *shortopts, *arg;
	int ch;

	longopts = getopt_tables(&shortopts);
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	    -1) {
		if ((o = option_of(ch)) == NULL)
			return error_set(err, ERR_USAGE,
			    "try popfetch --help");
		/* A flag has no argument, whatever optarg still says. */
		arg = o->arg != ARG_NONE ? optarg : NULL;
		if (o->flags & F_KEYWORD) {
			args_add(a, (enum cli_id)(o - cli_options), arg);
			continue;
		}
		if (take(o, a, arg, CLI_OPTION, err) == -1)
			return -1;
		if (a->help || a->version || a->list)
			return 0;
	}
	if (optind < argc && strstr(argv[optind], "://") != NULL)
		args_add(a, O_URL, argv[optind++]);
	a->argc = argc - optind;
	a->argv = argv + optind;
	if (a->account != NULL && a->all)
		return error_set(err, ERR_USAGE, "give -%c %s or --%s, not "
		    "both", cli_options[O_ACCOUNT].shortname,
		    cli_options[O_ACCOUNT].argname,
		    cli_options[O_ALL_ACCOUNTS].name);
	if (a->jobs != 0 && !a->all)
		return error_set(err, ERR_USAGE, "-%c %s runs accounts in "
		    "parallel: it needs --%s", cli_options[O_JOBS].shortname,
		    cli_options[O_JOBS].argname,
		    cli_options[O_ALL_ACCOUNTS].name);
	return 0;
}

void
cli_args_free(struct cli_args *a)
{
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

int
cli_args_has(const struct cli_args *a, enum cli_id id)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->v[i].id == id)
			return 1;
	return 0;
}
