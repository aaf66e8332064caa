# certs.bash: make a test CA and server certificates with certtool.
# certs_make DIR: writes ca.pem ca.key server.pem server.key (CN localhost,
# SAN localhost and 127.0.0.1, ::1), plus other.pem/other.key (a certificate
# for another name), expired.pem/expired.key, unknown.pem (signed by an
# unknown CA, rogueca.pem), client.pem/client.key (CN alice, a client
# certificate from the test CA) and rogueclient.pem/.key (from rogueca).

_cert_tmpl() {
	# $1 file, then lines
	local f=$1; shift
	printf '%s\n' "$@" > "$f"
}

certs_make() {
	local d=$1
	mkdir -p "$d"
	(
	cd "$d" || exit 1
	_cert_tmpl ca.tmpl 'cn = "popfetch test CA"' 'ca' 'cert_signing_key' \
		'expiration_days = 30'
	certtool --generate-privkey --key-type ecdsa --outfile ca.key 2>/dev/null
	certtool --generate-self-signed --load-privkey ca.key \
		--template ca.tmpl --outfile ca.pem 2>/dev/null
	_cert_tmpl server.tmpl 'cn = "localhost"' 'dns_name = "localhost"' \
		'ip_address = "127.0.0.1"' 'ip_address = "::1"' \
		'tls_www_server' 'encryption_key' 'signing_key' 'expiration_days = 30'
	certtool --generate-privkey --key-type ecdsa --outfile server.key 2>/dev/null
	certtool --generate-certificate --load-privkey server.key \
		--load-ca-certificate ca.pem --load-ca-privkey ca.key \
		--template server.tmpl --outfile server.pem 2>/dev/null
	_cert_tmpl other.tmpl 'cn = "mail.example.org"' \
		'dns_name = "mail.example.org"' 'tls_www_server' \
		'encryption_key' 'signing_key' 'expiration_days = 30'
	certtool --generate-privkey --key-type ecdsa --outfile other.key 2>/dev/null
	certtool --generate-certificate --load-privkey other.key \
		--load-ca-certificate ca.pem --load-ca-privkey ca.key \
		--template other.tmpl --outfile other.pem 2>/dev/null
	# An expired certificate: valid for one second, ten days ago is not
	# expressible in a template, so it is made to expire at once.
	_cert_tmpl expired.tmpl 'cn = "localhost"' 'dns_name = "localhost"' \
		'ip_address = "127.0.0.1"' 'tls_www_server' 'encryption_key' \
		'signing_key' 'activation_date = "2020-01-01 00:00:00 UTC"' \
		'expiration_date = "2020-02-01 00:00:00 UTC"'
	certtool --generate-privkey --key-type ecdsa --outfile expired.key 2>/dev/null
	certtool --generate-certificate --load-privkey expired.key \
		--load-ca-certificate ca.pem --load-ca-privkey ca.key \
		--template expired.tmpl --outfile expired.pem 2>/dev/null
	# A server certificate signed by a CA nobody trusts.
	_cert_tmpl rogue.tmpl 'cn = "rogue CA"' 'ca' 'cert_signing_key' \
		'expiration_days = 30'
	certtool --generate-privkey --key-type ecdsa --outfile rogueca.key 2>/dev/null
	certtool --generate-self-signed --load-privkey rogueca.key \
		--template rogue.tmpl --outfile rogueca.pem 2>/dev/null
	certtool --generate-privkey --key-type ecdsa --outfile unknown.key 2>/dev/null
	certtool --generate-certificate --load-privkey unknown.key \
		--load-ca-certificate rogueca.pem --load-ca-privkey rogueca.key \
		--template server.tmpl --outfile unknown.pem 2>/dev/null
	# A client certificate for the user alice (TLS client auth, EXTERNAL).
	_cert_tmpl client.tmpl 'cn = "alice"' 'tls_www_client' \
		'signing_key' 'expiration_days = 30'
	certtool --generate-privkey --key-type ecdsa --outfile client.key 2>/dev/null
	certtool --generate-certificate --load-privkey client.key \
		--load-ca-certificate ca.pem --load-ca-privkey ca.key \
		--template client.tmpl --outfile client.pem 2>/dev/null
	# ... and one from the rogue CA, which the server must not accept.
	certtool --generate-privkey --key-type ecdsa --outfile rogueclient.key 2>/dev/null
	certtool --generate-certificate --load-privkey rogueclient.key \
		--load-ca-certificate rogueca.pem --load-ca-privkey rogueca.key \
		--template client.tmpl --outfile rogueclient.pem 2>/dev/null
	chmod 600 client.key rogueclient.key
	rm -f ./*.tmpl
	)
	[ -s "$d/server.pem" ] && [ -s "$d/expired.pem" ] && [ -s "$d/unknown.pem" ]
}
