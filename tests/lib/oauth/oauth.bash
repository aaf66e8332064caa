# oauth.bash: the OAuth 2.0 authorization server of tests/oauth.bats.
#
# oauth_why          prints why the server cannot run here ("" if it can):
#                    Node.js 20 or later and the packages of
#                    package-lock.json (make test-deps) are needed
# oauth_start DIR    makes a test CA and certificate under DIR/certs and
#                    starts server.mjs over HTTPS; sets OAUTH_PORT,
#                    OAUTH_ISSUER, OAUTH_CA, OAUTH_LOG (its log: requests
#                    and grants, never tokens) and OAUTH_PID
# oauth_stop         stops it
# oauth_approve URL LOGIN   plays the user: signs in as LOGIN, consents
# oauth_grants TYPE  how many grants of TYPE (refresh_token, ...) it made

OAUTH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

oauth_why() {
	local v
	if ! command -v node >/dev/null; then
		echo "Node.js is not installed (apt-get install nodejs npm)"
		return
	fi
	v=$(node -e 'console.log(process.versions.node.split(".")[0])')
	if [ "${v:-0}" -lt 20 ]; then
		echo "Node.js $v is older than 20, which oidc-provider needs"
		return
	fi
	if [ ! -d "$OAUTH_LIB/node_modules/oidc-provider" ]; then
		echo "oidc-provider is not installed (make test-deps)"
		return
	fi
	echo ""
}

oauth_start() {
	local d=$1 i
	mkdir -p "$d"
	chmod 755 "$d"
	certs_make "$d/certs" || return 1
	chmod 644 "$d/certs/ca.pem"
	OAUTH_CA=$d/certs/ca.pem
	OAUTH_LOG=$d/server.log
	rm -f "$d/port"
	node "$OAUTH_LIB/server.mjs" "$d/port" "$d/certs/server.pem" \
		"$d/certs/server.key" > "$OAUTH_LOG" 2>&1 &
	OAUTH_PID=$!
	for i in $(seq 1 200); do
		[ -s "$d/port" ] && break
		sleep 0.05
	done
	OAUTH_PORT=$(cat "$d/port" 2>/dev/null)
	if [ -z "$OAUTH_PORT" ]; then
		echo "the OAuth server did not start:" >&2
		cat "$OAUTH_LOG" >&2
		return 1
	fi
	OAUTH_ISSUER=https://localhost:$OAUTH_PORT
	export OAUTH_CA OAUTH_LOG OAUTH_PID OAUTH_PORT OAUTH_ISSUER
}

oauth_stop() {
	if [ -n "${OAUTH_PID:-}" ]; then
		kill "$OAUTH_PID" 2>/dev/null || true
		wait "$OAUTH_PID" 2>/dev/null || true
	fi
	OAUTH_PID=
}

oauth_approve() {
	NODE_EXTRA_CA_CERTS=$OAUTH_CA node "$OAUTH_LIB/approve.mjs" "$1" "$2"
}

oauth_grants() {
	grep -c "^grant $1\$" "$OAUTH_LOG" || true
}
