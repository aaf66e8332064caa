/*
 * oauth2_http.c - requests to the authorization server: libcurl over
 * HTTPS only, JSON answers through jansson, bounded in size.
 *
 * Answers may hold tokens: the buffer is wiped before it is freed, and
 * no form or answer ever reaches an error message.
 *
 * libcurl (its GnuTLS build) is loaded with dlopen the first time a
 * request is made, not linked: it brings some twenty libraries with it,
 * which would double the memory of every run that never talks HTTP
 * (nearly all of them: the tokens are refreshed once an hour).
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "oauth2_p.h"

/* The soname of Debian's libcurl3-gnutls (libcurl4-gnutls-dev). */
#define LIBCURL_SONAME	"libcurl-gnutls.so.4"

/* The functions of libcurl used here, once loaded. */
static struct {
	CURLcode	 (*global_init)(long);
	CURL		*(*easy_init)(void);
	CURLcode	 (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	 (*easy_perform)(CURL *);
	CURLcode	 (*easy_getinfo)(CURL *, CURLINFO, ...);
	void		 (*easy_cleanup)(CURL *);
	const char	*(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *,
			    const char *);
	void		 (*slist_free_all)(struct curl_slist *);
	int		 loaded;
} C;

/* Loads libcurl and starts it, once: 0, or -1 with ERR_SOFTWARE. */
static int
curl_load(struct error *err)
{
	void *h;

	if (C.loaded)
		return 0;
	if ((h = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return error_set(err, ERR_SOFTWARE, "OAuth 2.0 needs %s "
		    "(Debian: libcurl3-gnutls): %s", LIBCURL_SONAME,
		    dlerror());
	/* POSIX: a function pointer may be copied out of a void *. */
#define LOAD(f, name)	(*(void **)&C.f = dlsym(h, name)) == NULL
	if (LOAD(global_init, "curl_global_init") ||
	    LOAD(easy_init, "curl_easy_init") ||
	    LOAD(easy_setopt, "curl_easy_setopt") ||
	    LOAD(easy_perform, "curl_easy_perform") ||
	    LOAD(easy_getinfo, "curl_easy_getinfo") ||
	    LOAD(easy_cleanup, "curl_easy_cleanup") ||
	    LOAD(easy_strerror, "curl_easy_strerror") ||
	    LOAD(slist_append, "curl_slist_append") ||
	    LOAD(slist_free_all, "curl_slist_free_all"))
		return error_set(err, ERR_SOFTWARE, "%s lacks a function "
		    "popfetch needs", LIBCURL_SONAME);
#undef LOAD
	if (C.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return error_set(err, ERR_SOFTWARE, "libcurl cannot start");
	C.loaded = 1;
	return 0;
}

struct body {
	char	*buf;
	size_t	 len;
	int	 toobig;
};

static size_t
body_write(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;
	char *nb;

	if (len > OAUTH2_BODY_MAX - b->len) {
		b->toobig = 1;
		return 0;
	}
	/* Grown by copying, so that no old copy is left unwiped. */
	nb = xmalloc(b->len + len + 1);
	if (b->len > 0)
		memcpy(nb, b->buf, b->len);
	memcpy(nb + b->len, data, len);
	if (b->buf != NULL) {
		explicit_bzero(b->buf, b->len);
		free(b->buf);
	}
	b->buf = nb;
	b->len += len;
	b->buf[b->len] = '\0';
	return len;
}

static void
body_free(struct body *b)
{
	if (b->buf != NULL) {
		explicit_bzero(b->buf, b->len);
		free(b->buf);
	}
	b->buf = NULL;
	b->len = 0;
}

static int
curl_error(const char *url, CURLcode c, const char *detail,
    struct error *err)
{
	enum err_class cls = ERR_NET;
	char shown[256];

	switch (c) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CONNECT_ERROR:
		cls = ERR_TLS;
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		cls = ERR_NOHOST;
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		cls = ERR_USAGE;
		break;
	default:
		break;
	}
	return error_set(err, cls, "%s: %s", vis_text(shown, sizeof(shown),
	    url, strlen(url)), detail[0] != '\0' ? detail :
	    C.easy_strerror(c));
}

int
oauth2_http(const struct oauth2_params *p, const char *url,
    const char *form, long *status, json_t **out, struct error *err)
{
	char errbuf[CURL_ERROR_SIZE], shown[256];
	struct curl_slist *hdr = NULL;
	struct body b = { NULL, 0, 0 };
	json_error_t jerr;
	CURLcode c;
	CURL *h;
	int r = -1;

	*out = NULL;
	*status = 0;
	if (strncasecmp(url, "https://", 8) != 0)
		return error_set(err, ERR_USAGE, "%s: not an https:// URL; "
		    "tokens travel only over HTTPS", vis_text(shown,
		    sizeof(shown), url, strlen(url)));
	if (curl_load(err) == -1)
		return -1;
	if ((h = C.easy_init()) == NULL)
		return error_set(err, ERR_SOFTWARE, "libcurl cannot start");
	errbuf[0] = '\0';
	hdr = C.slist_append(hdr, "Accept: application/json");
	(void)C.easy_setopt(h, CURLOPT_URL, url);
	(void)C.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	(void)C.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	(void)C.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	(void)C.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	(void)C.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	(void)C.easy_setopt(h, CURLOPT_TIMEOUT, (long)(p->timeout > 0 ?
	    p->timeout : 60));
	(void)C.easy_setopt(h, CURLOPT_USERAGENT, "popfetch/"
	    POPFETCH_VERSION);
	(void)C.easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	(void)C.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	(void)C.easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	(void)C.easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (p->ca_file != NULL)
		(void)C.easy_setopt(h, CURLOPT_CAINFO, p->ca_file);
	if (form != NULL)
		(void)C.easy_setopt(h, CURLOPT_POSTFIELDS, form);
	c = C.easy_perform(h);
	if (c != CURLE_OK) {
		if (b.toobig)
			error_set(err, ERR_PROTO, "%s: the answer is larger "
			    "than %d bytes", vis_text(shown, sizeof(shown),
			    url, strlen(url)), OAUTH2_BODY_MAX);
		else
			curl_error(url, c, errbuf, err);
		goto done;
	}
	(void)C.easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (b.len == 0) {
		r = 0;
		goto done;
	}
	*out = json_loadb(b.buf, b.len, 0, &jerr);
	if (*out == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		error_set(err, ERR_PROTO, "%s: the answer (HTTP %ld) is not a "
		    "JSON object", vis_text(shown, sizeof(shown), url,
		    strlen(url)), *status);
		goto done;
	}
	r = 0;
done:
	body_free(&b);
	C.slist_free_all(hdr);
	C.easy_cleanup(h);
	return r;
}

void
oauth2_form_add(char **form, const char *name, const char *value)
{
	/* application/x-www-form-urlencoded: all but ALPHA, DIGIT and
	 * "-._~" escaped (pct_encode leaves the other printables). */
	static const char reserved[] = "!\"#$&'()*+,/:;<=>?@[\\]^`{|}";
	char *v, *nf;
	size_t ol = *form != NULL ? strlen(*form) : 0, vl = strlen(value), nl;

	v = xmalloc(3 * vl + 1);
	pct_encode(v, value, vl, reserved);
	nl = ol + 1 + strlen(name) + 1 + strlen(v) + 1;
	nf = xmalloc(nl);
	if (snprintf(nf, nl, "%s%s%s=%s", ol > 0 ? *form : "",
	    ol > 0 ? "&" : "", name, v) >= (int)nl)
		abort();
	secret_free(v);
	secret_free(*form);
	*form = nf;
}

const char *
oauth2_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}
