/*
 * sasl.c - SASL client mechanisms, without I/O.
 *
 * SCRAM (RFC 5802) in brief, since it is the one with parsing and
 * arithmetic:
 *   client-first  = gs2-header "n=" user ",r=" cnonce
 *   gs2-header    = "n,," (no TLS), "y,," (TLS, but the server offered
 *                   no -PLUS) or "p=" cb-type ",," (a -PLUS mechanism)
 *   server-first  = "r=" cnonce snonce ",s=" salt ",i=" iterations
 *   SaltedPassword = PBKDF2(Normalize(password), salt, iterations)
 *   ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey)
 *   AuthMessage = client-first-bare "," server-first "," final-no-proof
 *   ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage)
 *   client-final  = "c=" base64(gs2-header cb-data) ",r=" nonce
 *                   ",p=" base64(ClientProof)   ("c=biws" for "n,,")
 *   server-final  = "v=" base64(HMAC(HMAC(SaltedPassword, "Server Key"),
 *                   AuthMessage))
 * The client checks the server's signature: a server (or a man in the
 * middle) that does not know the password cannot complete the exchange.
 * With channel binding the AuthMessage holds c=, so the signature also
 * proves that the server saw the same TLS session: a man in the middle
 * with two sessions, even one knowing the password, cannot bring the
 * client's binding to the server (it would not match the server's own)
 * nor sign the client's with the server's key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "sasl.h"

enum step {
	ST_START,	/* nothing sent */
	ST_SENT,	/* the initial response went out */
	ST_LOGIN_PW,	/* LOGIN: the password went out */
	ST_SCRAM_FINAL,	/* SCRAM: client-final went out */
	ST_DONE,	/* the mechanism has finished its part */
	ST_OAUTH_ERR,	/* OAuth: the server sent an error challenge */
	ST_FAILED
};

struct sasl {
	enum sasl_mech	 mech;
	enum step	 step;
	char		*user;
	char		*secret;
	char		*host;
	char		*port;
	unsigned	 max_iter;
	unsigned char	*out;		/* the last response */
	size_t		 outlen;
	unsigned char	*initial;
	size_t		 initlen;
	/* SCRAM */
	enum crypto_hash hash;
	char		 cnonce[64];
	char		 gs2[40];	/* the GS2 header, "n,," ... */
	unsigned char	*cbind;		/* gs2, then the binding data */
	size_t		 cbindlen;
	char		*first_bare;
	unsigned char	 server_sig[CRYPTO_HASH_MAX];
	char		 server_error[256];
};

static const struct {
	const char	*name;
	enum sasl_mech	 mech;
} mechs[] = {
	{ "PLAIN",		SASL_PLAIN },
	{ "LOGIN",		SASL_LOGIN },
	{ "CRAM-MD5",		SASL_CRAM_MD5 },
	{ "SCRAM-SHA-1",	SASL_SCRAM_SHA1 },
	{ "SCRAM-SHA-256",	SASL_SCRAM_SHA256 },
	{ "SCRAM-SHA-1-PLUS",	SASL_SCRAM_SHA1_PLUS },
	{ "SCRAM-SHA-256-PLUS",	SASL_SCRAM_SHA256_PLUS },
	{ "EXTERNAL",		SASL_EXTERNAL },
	{ "XOAUTH2",		SASL_XOAUTH2 },
	{ "OAUTHBEARER",	SASL_OAUTHBEARER },
};

const char *
sasl_name(enum sasl_mech m)
{
	size_t i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (mechs[i].mech == m)
			return mechs[i].name;
	return "?";
}

int
sasl_lookup(const char *name, enum sasl_mech *m)
{
	size_t i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strcasecmp(mechs[i].name, name) == 0) {
			*m = mechs[i].mech;
			return 0;
		}
	return -1;
}

int
sasl_reveals_secret(enum sasl_mech m)
{
	return m == SASL_PLAIN || m == SASL_LOGIN || m == SASL_XOAUTH2 ||
	    m == SASL_OAUTHBEARER;
}

int
sasl_needs_secret(enum sasl_mech m)
{
	return m != SASL_EXTERNAL;
}

int
sasl_is_scram(enum sasl_mech m)
{
	return m == SASL_SCRAM_SHA1 || m == SASL_SCRAM_SHA256 ||
	    sasl_binds(m);
}

int
sasl_binds(enum sasl_mech m)
{
	return m == SASL_SCRAM_SHA1_PLUS || m == SASL_SCRAM_SHA256_PLUS;
}

static void
wipe_free(void *p, size_t len)
{
	if (p != NULL) {
		explicit_bzero(p, len);
		free(p);
	}
}

/* Replaces the response buffer with len bytes of data. */
static void
set_out(struct sasl *s, const void *data, size_t len)
{
	wipe_free(s->out, s->outlen);
	s->out = xmalloc(len + 1);
	if (len > 0)
		memcpy(s->out, data, len);
	s->out[len] = '\0';
	s->outlen = len;
}

/* RFC 5802 saslname / RFC 7628 gs2 authzid: "," and "=" escaped. */
static char *
gs2_escape(const char *u)
{
	char *r = xmalloc(3 * strlen(u) + 1), *o = r;

	for (; *u != '\0'; u++) {
		if (*u == ',') {
			memcpy(o, "=2C", 3);
			o += 3;
		} else if (*u == '=') {
			memcpy(o, "=3D", 3);
			o += 3;
		} else
			*o++ = *u;
	}
	*o = '\0';
	return r;
}

/* The concatenation of n pieces of known lengths, NUL-terminated, in a
 * buffer the caller frees; *len (if not NULL) excludes the NUL. */
static char *
join(const char *const *parts, const size_t *lens, size_t n, size_t *len)
{
	size_t i, total = 0, off = 0;
	char *b;

	for (i = 0; i < n; i++)
		total += lens[i];
	b = xmalloc(total + 1);
	for (i = 0; i < n; i++) {
		memcpy(b + off, parts[i], lens[i]);
		off += lens[i];
	}
	b[total] = '\0';
	if (len != NULL)
		*len = total;
	return b;
}

/* Builds a message by concatenating pieces into s->initial. */
static void
set_initial(struct sasl *s, const char *const *parts, size_t nparts,
    const size_t *lens)
{
	s->initial = (unsigned char *)join(parts, lens, nparts, &s->initlen);
}

static int
make_initial(struct sasl *s, struct error *err)
{
	const char *u = s->user != NULL ? s->user : "";
	const char *pw = s->secret != NULL ? s->secret : "";
	unsigned char rnd[18];
	char *esc, *b64;

	switch (s->mech) {
	case SASL_PLAIN: {
		/* authzid NUL authcid NUL password */
		const char *p[] = { "", u, pw };
		size_t l[] = { 1, strlen(u) + 1, strlen(pw) };

		set_initial(s, p, 3, l);
		break;
	}
	case SASL_LOGIN: {
		const char *p[] = { u };
		size_t l[] = { strlen(u) };

		set_initial(s, p, 1, l);
		break;
	}
	case SASL_EXTERNAL:
		/* Empty: the server takes the identity from the cert. */
		set_initial(s, NULL, 0, NULL);
		break;
	case SASL_XOAUTH2: {
		const char *p[] = { "user=", u, "\001auth=Bearer ", pw,
		    "\001\001" };
		size_t l[] = { 5, strlen(u), 13, strlen(pw), 2 };

		set_initial(s, p, 5, l);
		break;
	}
	case SASL_OAUTHBEARER: {
		const char *h = s->host != NULL ? s->host : "";
		const char *pt = s->port != NULL ? s->port : "";

		esc = gs2_escape(u);
		{
			const char *p[] = { "n,a=", esc, ",\001host=", h,
			    "\001port=", pt, "\001auth=Bearer ", pw,
			    "\001\001" };
			size_t l[] = { 4, strlen(esc), 7, strlen(h), 6,
			    strlen(pt), 13, strlen(pw), 2 };

			set_initial(s, p, 9, l);
		}
		free(esc);
		break;
	}
	case SASL_SCRAM_SHA1:
	case SASL_SCRAM_SHA256:
	case SASL_SCRAM_SHA1_PLUS:
	case SASL_SCRAM_SHA256_PLUS:
		if (s->cnonce[0] == '\0') {
			if (crypto_random(rnd, sizeof(rnd)) == -1)
				return error_set(err, ERR_SOFTWARE,
				    "no random numbers for SCRAM");
			b64 = crypto_b64_encode(rnd, sizeof(rnd));
			(void)strlcpy(s->cnonce, b64, sizeof(s->cnonce));
			free(b64);
		}
		esc = gs2_escape(u);
		{
			const char *p[] = { s->gs2, "n=", esc, ",r=",
			    s->cnonce };
			size_t l[] = { strlen(s->gs2), 2, strlen(esc), 3,
			    strlen(s->cnonce) };

			set_initial(s, p, 5, l);
		}
		free(esc);
		s->first_bare = xstrdup((char *)s->initial + strlen(s->gs2));
		break;
	case SASL_CRAM_MD5:
		break;
	}
	return 0;
}

/*
 * The GS2 header and the c= input (RFC 5802 sections 6 and 7).  The
 * type's name is a cb-name: letters, digits, "." and "-" only, so that
 * no comma or "=" can end up in the header.
 */
static int
scram_binding(struct sasl *s, const struct sasl_params *p,
    struct error *err)
{
	const char *t = p->cb_type;
	int n;

	if (t != NULL && (t[0] == '\0' || strspn(t, "abcdefghijklmnopqrstu"
	    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(t)))
		return error_set(err, ERR_SOFTWARE, "bad channel binding "
		    "type");
	if (sasl_binds(p->mech) && (t == NULL || p->cb_data == NULL ||
	    p->cb_len == 0))
		return error_set(err, ERR_SOFTWARE, "%s needs channel "
		    "binding data", sasl_name(p->mech));
	if (!sasl_binds(p->mech))
		n = snprintf(s->gs2, sizeof(s->gs2), "%s", t != NULL ?
		    "y,," : "n,,");
	else
		n = snprintf(s->gs2, sizeof(s->gs2), "p=%s,,", t);
	if (n < 0 || (size_t)n >= sizeof(s->gs2))
		return error_set(err, ERR_SOFTWARE, "bad channel binding "
		    "type");
	s->cbindlen = (size_t)n + (sasl_binds(p->mech) ? p->cb_len : 0);
	s->cbind = xmalloc(s->cbindlen);
	memcpy(s->cbind, s->gs2, (size_t)n);
	if (sasl_binds(p->mech))
		memcpy(s->cbind + n, p->cb_data, p->cb_len);
	return 0;
}

struct sasl *
sasl_new(const struct sasl_params *p, struct error *err)
{
	struct sasl *s = xcalloc(1, sizeof(*s));

	s->mech = p->mech;
	s->user = p->user != NULL ? xstrdup(p->user) : NULL;
	s->secret = p->secret != NULL ? xstrdup(p->secret) : NULL;
	s->host = p->host != NULL ? xstrdup(p->host) : NULL;
	s->port = p->port != NULL ? xstrdup(p->port) : NULL;
	s->max_iter = p->max_iter ? p->max_iter : SCRAM_ITER_MAX;
	s->hash = p->mech == SASL_SCRAM_SHA1 || p->mech ==
	    SASL_SCRAM_SHA1_PLUS ? HASH_SHA1 : HASH_SHA256;
	if (sasl_is_scram(p->mech) && scram_binding(s, p, err) == -1) {
		sasl_free(s);
		return NULL;
	}
	if (p->nonce != NULL) {
		if (strlen(p->nonce) >= sizeof(s->cnonce) ||
		    strpbrk(p->nonce, ",") != NULL || p->nonce[0] == '\0') {
			sasl_free(s);
			error_set(err, ERR_SOFTWARE, "bad SCRAM nonce");
			return NULL;
		}
		(void)strlcpy(s->cnonce, p->nonce, sizeof(s->cnonce));
	}
	if (sasl_needs_secret(s->mech) && s->secret == NULL) {
		sasl_free(s);
		error_set(err, ERR_CONFIG, "%s needs a password or token",
		    sasl_name(p->mech));
		return NULL;
	}
	if (make_initial(s, err) == -1) {
		sasl_free(s);
		return NULL;
	}
	return s;
}

void
sasl_free(struct sasl *s)
{
	if (s == NULL)
		return;
	secret_free(s->secret);
	free(s->user);
	free(s->host);
	free(s->port);
	wipe_free(s->out, s->outlen);
	wipe_free(s->initial, s->initlen);
	free(s->first_bare);
	free(s->cbind);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

int
sasl_initial(struct sasl *s, size_t room, const unsigned char **out,
    size_t *len)
{
	size_t b64len;

	if (s->initial == NULL || s->step != ST_START)
		return 0;
	b64len = s->initlen == 0 ? 1 : (s->initlen + 2) / 3 * 4;
	if (b64len > room)
		return 0;
	s->step = ST_SENT;
	*out = s->initial;
	*len = s->initlen;
	return 1;
}

const char *
sasl_server_error(const struct sasl *s)
{
	return s->server_error[0] != '\0' ? s->server_error : NULL;
}

/*
 * SCRAM server-first: "r=nonce,s=salt,i=count[,ext...]".  Fills the
 * nonce (within chal), the decoded salt and the count.
 */
static int	scram_server_error(const char *, size_t, struct error *);

struct scram_first {
	const char	*nonce;
	size_t		 noncelen;
	unsigned char	*salt;
	size_t		 saltlen;
	unsigned long long iter;
};

/* The value of attribute c at *pos ("c=value" up to the next comma). */
static int
scram_attr(const char *m, size_t len, size_t *pos, char c,
    const char **val, size_t *vlen)
{
	size_t p = *pos, e;

	if (p + 2 > len || m[p] != c || m[p + 1] != '=')
		return -1;
	for (e = p + 2; e < len && m[e] != ','; e++)
		;
	*val = m + p + 2;
	*vlen = e - p - 2;
	*pos = e < len ? e + 1 : e;
	return 0;
}

static int
scram_parse_first(struct sasl *s, const char *m, size_t len,
    struct scram_first *f, struct error *err)
{
	const char *v;
	size_t pos = 0, vl, i, cl = strlen(s->cnonce);

	memset(f, 0, sizeof(*f));
	/* Not in RFC 5802's grammar of server-first, but servers that fail
	 * client-first at once (its GS2 flag) say why this way. */
	if (scram_server_error(m, len, err))
		return -1;
	if (len > 0 && m[0] == 'm')
		return error_set(err, ERR_PROTO, "SCRAM: the server requires "
		    "an extension popfetch does not know");
	if (memchr(m, '\0', len) != NULL)
		return error_set(err, ERR_PROTO, "SCRAM: NUL in the "
		    "server's message");
	if (scram_attr(m, len, &pos, 'r', &v, &vl) == -1)
		return error_set(err, ERR_PROTO, "SCRAM: no nonce in the "
		    "server's first message");
	/* The server's nonce extends ours (RFC 5802 section 5.1). */
	if (vl <= cl || memcmp(v, s->cnonce, cl) != 0)
		return error_set(err, ERR_PROTO, "SCRAM: the server's nonce "
		    "does not start with ours");
	for (i = 0; i < vl; i++)
		if (v[i] < 0x21 || v[i] > 0x7e)
			return error_set(err, ERR_PROTO, "SCRAM: bad nonce");
	f->nonce = v;
	f->noncelen = vl;
	if (scram_attr(m, len, &pos, 's', &v, &vl) == -1 ||
	    crypto_b64_decode(v, vl, &f->salt, &f->saltlen) == -1 ||
	    f->saltlen == 0) {
		free(f->salt);
		f->salt = NULL;
		return error_set(err, ERR_PROTO, "SCRAM: bad salt");
	}
	if (scram_attr(m, len, &pos, 'i', &v, &vl) == -1 ||
	    parse_u64(v, vl, ~0ULL, &f->iter) == -1 || f->iter == 0) {
		free(f->salt);
		f->salt = NULL;
		return error_set(err, ERR_PROTO, "SCRAM: bad iteration count");
	}
	if (f->iter < SCRAM_ITER_MIN) {
		free(f->salt);
		f->salt = NULL;
		return error_set(err, ERR_AUTH, "SCRAM: the server asks for "
		    "only %llu iterations, fewer than the %u of RFC 7677; no "
		    "proof was sent", f->iter, SCRAM_ITER_MIN);
	}
	if (f->iter > s->max_iter) {
		free(f->salt);
		f->salt = NULL;
		return error_set(err, ERR_PROTO, "SCRAM: the server asks for "
		    "%llu iterations, more than the %u popfetch allows",
		    f->iter, s->max_iter);
	}
	return 0;
}

static int
scram_final(struct sasl *s, const char *m, size_t len, struct error *err)
{
	unsigned char salted[CRYPTO_HASH_MAX], ckey[CRYPTO_HASH_MAX],
	    stored[CRYPTO_HASH_MAX], csig[CRYPTO_HASH_MAX],
	    skey[CRYPTO_HASH_MAX];
	struct scram_first f;
	size_t hl = crypto_hash_len(s->hash), nl, ml, rl, i;
	char *pw, *noproof, *authmsg, *proof, *resp, *c;
	int r = -1;

	if (scram_parse_first(s, m, len, &f, err) == -1)
		return -1;
	pw = crypto_password_normalize(s->secret);
	c = crypto_b64_encode(s->cbind, s->cbindlen);
	{
		const char *p[] = { "c=", c, ",r=", f.nonce };
		size_t l[] = { 2, strlen(c), 3, f.noncelen };

		noproof = join(p, l, 4, &nl);
	}
	free(c);
	{
		const char *p[] = { s->first_bare, ",", m, ",", noproof };
		size_t l[] = { strlen(s->first_bare), 1, len, 1, nl };

		authmsg = join(p, l, 5, &ml);
	}
	if (crypto_pbkdf2(s->hash, pw, strlen(pw), f.salt, f.saltlen,
	    (unsigned)f.iter, salted) == -1 ||
	    crypto_hmac(s->hash, salted, hl, "Client Key", 10, ckey) == -1 ||
	    crypto_hash(s->hash, ckey, hl, stored) == -1 ||
	    crypto_hmac(s->hash, stored, hl, authmsg, ml, csig) == -1 ||
	    crypto_hmac(s->hash, salted, hl, "Server Key", 10, skey) == -1 ||
	    crypto_hmac(s->hash, skey, hl, authmsg, ml, s->server_sig) == -1) {
		error_set(err, ERR_SOFTWARE, "SCRAM: hashing failed");
		goto out;
	}
	for (i = 0; i < hl; i++)
		ckey[i] ^= csig[i];
	proof = crypto_b64_encode(ckey, hl);
	{
		const char *p[] = { noproof, ",p=", proof };
		size_t l[] = { nl, 3, strlen(proof) };

		resp = join(p, l, 3, &rl);
	}
	set_out(s, resp, rl);
	explicit_bzero(resp, rl);
	free(resp);
	free(proof);
	r = 0;
out:
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(ckey, sizeof(ckey));
	explicit_bzero(stored, sizeof(stored));
	explicit_bzero(csig, sizeof(csig));
	explicit_bzero(skey, sizeof(skey));
	secret_free(pw);
	free(noproof);
	free(authmsg);
	free(f.salt);
	return r;
}

/* The server's "e=error" (RFC 5802 section 7): 1 with err (ERR_AUTH),
 * or 0 if m is none. */
static int
scram_server_error(const char *m, size_t len, struct error *err)
{
	size_t pos = 0, vl;
	const char *v, *why;
	char vis[128];

	if (scram_attr(m, len, &pos, 'e', &v, &vl) == 0) {
		/* The two errors of RFC 5802 section 7 that mean someone
		 * may sit between client and server. */
		if (vl == 27 && memcmp(v, "channel-bindings-dont-match",
		    vl) == 0)
			why = " (the server's TLS session is not ours: a "
			    "man in the middle?)";
		else if (vl == 35 && memcmp(v,
		    "server-does-support-channel-binding", vl) == 0)
			why = " (its CAPA offered no -PLUS mechanism, yet it "
			    "binds channels: someone may have removed the "
			    "offer on the way)";
		else
			why = "";
		(void)error_set(err, ERR_AUTH, "SCRAM: the server says: %s%s",
		    vis_text(vis, sizeof(vis), v, vl), why);
		return 1;
	}
	return 0;
}

/* server-final: "v=signature" or "e=error". */
static int
scram_verify(struct sasl *s, const char *m, size_t len, struct error *err)
{
	unsigned char *sig;
	size_t siglen, pos = 0, vl, hl = crypto_hash_len(s->hash), i;
	const char *v;
	unsigned diff = 0;

	if (scram_server_error(m, len, err))
		return -1;
	if (scram_attr(m, len, &pos, 'v', &v, &vl) == -1 ||
	    crypto_b64_decode(v, vl, &sig, &siglen) == -1)
		return error_set(err, ERR_PROTO, "SCRAM: bad final message "
		    "from the server");
	if (siglen == hl)
		for (i = 0; i < hl; i++)
			diff |= (unsigned)(sig[i] ^ s->server_sig[i]);
	free(sig);
	if (siglen != hl || diff != 0)
		return error_set(err, ERR_AUTH, "SCRAM: the server's "
		    "signature is wrong: it does not know the password%s",
		    sasl_binds(s->mech) ? ", or it signed another channel "
		    "binding than this TLS session's (a man in the middle?)" :
		    "");
	return 0;
}

/* OAuth error challenges carry JSON; keep a displayable copy. */
static void
oauth_error(struct sasl *s, const unsigned char *chal, size_t len)
{
	vis_text(s->server_error, sizeof(s->server_error),
	    (const char *)chal, len);
}

int
sasl_step(struct sasl *s, const unsigned char *chal, size_t chlen,
    const unsigned char **out, size_t *len, struct error *err)
{
	const char *m = (const char *)chal;
	unsigned char mac[16];
	char hex[33];

	if (s->step == ST_FAILED || s->step == ST_DONE ||
	    s->step == ST_OAUTH_ERR)
		goto unexpected;
	/* Two-step start: the initial response after an empty challenge
	 * (LOGIN's first challenge is a prompt, not empty). */
	if (s->step == ST_START && s->initial != NULL &&
	    (chlen == 0 || s->mech == SASL_LOGIN)) {
		s->step = ST_SENT;
		set_out(s, s->initial, s->initlen);
		goto done;
	}
	switch (s->mech) {
	case SASL_PLAIN:
	case SASL_EXTERNAL:
		goto unexpected;
	case SASL_LOGIN:
		if (s->step != ST_SENT)
			goto unexpected;
		set_out(s, s->secret, strlen(s->secret));
		s->step = ST_LOGIN_PW;
		goto done;
	case SASL_CRAM_MD5:
		if (s->step != ST_START || chlen == 0)
			goto unexpected;
		if (crypto_hmac(HASH_MD5, s->secret, strlen(s->secret), chal,
		    chlen, mac) == -1)
			return error_set(err, ERR_SOFTWARE, "CRAM-MD5 failed");
		hex_encode(mac, sizeof(mac), hex, 0);
		explicit_bzero(mac, sizeof(mac));
		{
			const char *p[] = { s->user, " ", hex };
			size_t l[] = { strlen(s->user), 1, 32 }, rl;
			char *r = join(p, l, 3, &rl);

			set_out(s, r, rl);
			explicit_bzero(r, rl);
			free(r);
		}
		explicit_bzero(hex, sizeof(hex));
		s->step = ST_DONE;
		goto done;
	case SASL_XOAUTH2:
	case SASL_OAUTHBEARER:
		if (s->step != ST_SENT)
			goto unexpected;
		/* A challenge after the token is the server's error; it
		 * wants an acknowledgement, then says -ERR. */
		oauth_error(s, chal, chlen);
		if (s->mech == SASL_XOAUTH2)
			set_out(s, "", 0);
		else
			set_out(s, "\001", 1);
		s->step = ST_OAUTH_ERR;
		goto done;
	case SASL_SCRAM_SHA1:
	case SASL_SCRAM_SHA256:
	case SASL_SCRAM_SHA1_PLUS:
	case SASL_SCRAM_SHA256_PLUS:
		if (s->step == ST_SENT) {
			if (scram_final(s, m, chlen, err) == -1) {
				s->step = ST_FAILED;
				return -1;
			}
			s->step = ST_SCRAM_FINAL;
			goto done;
		}
		if (s->step == ST_SCRAM_FINAL) {
			if (scram_verify(s, m, chlen, err) == -1) {
				s->step = ST_FAILED;
				return -1;
			}
			set_out(s, "", 0);
			s->step = ST_DONE;
			goto done;
		}
		goto unexpected;
	}
unexpected:
	s->step = ST_FAILED;
	return error_set(err, ERR_PROTO, "%s: unexpected challenge from the "
	    "server", sasl_name(s->mech));
done:
	*out = s->out;
	*len = s->outlen;
	return 0;
}

int
sasl_finish(struct sasl *s, struct error *err)
{
	if (sasl_is_scram(s->mech) && s->step != ST_DONE)
		return error_set(err, ERR_AUTH, "%s: the server accepted the "
		    "login without proving that it knows the password",
		    sasl_name(s->mech));
	return 0;
}
