/*
 * oauth2_http.c - requests to the authorization server: libcurl over
 * HTTPS only, JSON answers through jansson, bounded in size.
 *
 * Answers may hold tokens: the buffer is wiped before it is freed, and
 * no form or answer ever reaches an error message.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "oauth2_p.h"

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
	    curl_easy_strerror(c));
}

int
oauth2_http(const struct oauth2_params *p, const char *url,
    const char *form, long *status, json_t **out, struct error *err)
{
	static int initialised;
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
	if (!initialised) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return error_set(err, ERR_SOFTWARE,
			    "libcurl cannot start");
		initialised = 1;
	}
	if ((h = curl_easy_init()) == NULL)
		return error_set(err, ERR_SOFTWARE, "libcurl cannot start");
	errbuf[0] = '\0';
	hdr = curl_slist_append(hdr, "Accept: application/json");
	(void)curl_easy_setopt(h, CURLOPT_URL, url);
	(void)curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	(void)curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	(void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	(void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	(void)curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)(p->timeout > 0 ?
	    p->timeout : 60));
	(void)curl_easy_setopt(h, CURLOPT_USERAGENT, "popfetch/"
	    POPFETCH_VERSION);
	(void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	(void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	(void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	(void)curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (p->ca_file != NULL)
		(void)curl_easy_setopt(h, CURLOPT_CAINFO, p->ca_file);
	if (form != NULL)
		(void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
	c = curl_easy_perform(h);
	if (c != CURLE_OK) {
		if (b.toobig)
			error_set(err, ERR_PROTO, "%s: the answer is larger "
			    "than %d bytes", vis_text(shown, sizeof(shown),
			    url, strlen(url)), OAUTH2_BODY_MAX);
		else
			curl_error(url, c, errbuf, err);
		goto done;
	}
	(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
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
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return r;
}

void
oauth2_form_add(char **form, const char *name, const char *value)
{
	char *v, *nf;
	size_t ol = *form != NULL ? strlen(*form) : 0, nl;

	if ((v = curl_easy_escape(NULL, value, 0)) == NULL)
		abort();
	nl = ol + 1 + strlen(name) + 1 + strlen(v) + 1;
	nf = xmalloc(nl);
	if (snprintf(nf, nl, "%s%s%s=%s", ol > 0 ? *form : "",
	    ol > 0 ? "&" : "", name, v) >= (int)nl)
		abort();
	explicit_bzero(v, strlen(v));
	curl_free(v);
	secret_free(*form);
	*form = nf;
}

const char *
oauth2_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}
