# dovecot.bash: a throwaway Dovecot POP3 server on loopback for the tests.
#
# dovecot_start DIR   starts Dovecot with its whole state under DIR and sets
#                     DOVECOT_POP3 (STARTTLS port), DOVECOT_POP3S (implicit
#                     TLS port), DOVECOT_DIR and DOVECOT_CA (the CA that signed
#                     its certificate).  Users: see dovecot_user_add.
# dovecot_user_add NAME PASSWORD
# dovecot_seed NAME FILE...   puts each FILE into NAME's maildir new/
# dovecot_stop        stops it again.
#
# DOVECOT_PROTOCOLS (default "pop3") sets protocols (lmtp.bats adds lmtp),
# DOVECOT_MECHS (default "plain login apop") sets auth_mechanisms, and
# DOVECOT_EXTRA holds more configuration lines for a suite that needs them;
# @CERTS@ in it stands for the directory of the certificates made here.
# DOVECOT_PASSDB, if set, replaces the passwd-file passdb block (the
# OAuth suite's oauth2 passdb).
#
# Dovecot refuses to touch mail as root, so when the tests run as root the
# mail processes run as the Debian user "mail"; DIR is made world-searchable.

DOVECOT_BIN=${DOVECOT_BIN:-/usr/sbin/dovecot}

_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

_dovecot_owner() {
	if [ "$(id -u)" = 0 ]; then echo mail; else id -un; fi
}

# Add users before the first login: Dovecot notices a changed passwd-file
# by its modification time, which has a granularity of one second.
dovecot_user_add() {
	printf '%s:{PLAIN}%s::::::\n' "$1" "$2" >> "$DOVECOT_DIR/passwd"
	mkdir -p "$DOVECOT_DIR/mail/$1/new" "$DOVECOT_DIR/mail/$1/cur" \
		"$DOVECOT_DIR/mail/$1/tmp"
	chown -R "$(_dovecot_owner)" "$DOVECOT_DIR/mail/$1"
}

# dovecot_seed USER FILE...: deliver files as they are (LF line ends).
dovecot_seed() {
	local u=$1 f i=0 now q list; shift
	# One clock reading for the lot: two date(1) runs per message made
	# seeding 100,000 messages take minutes.
	now=$(date +%s.%N)
	if [ $# -gt 50 ]; then
		# Many (make bench): one process copies them all.
		list=$(mktemp "${TMPDIR:-/tmp}/popfetch-seed.XXXXXX")
		printf '%s\n' "$@" > "$list"
		python3 - "$list" "$DOVECOT_DIR/mail/$u/new" \
		    "${now%.*}.M${now#*.}P$$Q" <<'PY'
import shutil, sys
names = open(sys.argv[1]).read().splitlines()
for i, f in enumerate(names, 1):
    shutil.copyfile(f, "%s/%s%08d.seed" % (sys.argv[2], sys.argv[3], i))
PY
		rm -f "$list"
	else
		for f in "$@"; do
			i=$((i + 1))
			# Zero-padded, so that the names sort in the order
			# given.
			printf -v q '%08d' "$i"
			cp "$f" "$DOVECOT_DIR/mail/$u/new/${now%.*}.M${now#*.}P$$Q${q}.seed"
		done
	fi
	chown -R "$(_dovecot_owner)" "$DOVECOT_DIR/mail/$u"
}

# dovecot_count USER: how many messages the maildir holds now.
dovecot_count() {
	find "$DOVECOT_DIR/mail/$1/new" "$DOVECOT_DIR/mail/$1/cur" -type f | wc -l
}

dovecot_start() {
	local d=$1 owner try
	DOVECOT_DIR=$d
	mkdir -p "$d/run" "$d/state" "$d/mail" "$d/home" "$d/certs"
	chmod 755 "$d"
	owner=$(_dovecot_owner)
	. "$(dirname "${BASH_SOURCE[0]}")/certs.bash"
	certs_make "$d/certs" || return 1
	DOVECOT_CA=$d/certs/ca.pem
	: > "$d/passwd"
	chmod 644 "$d/passwd" "$d/certs/server.pem" "$d/certs/server.key"
	for try in 1 2 3 4 5; do
		DOVECOT_POP3=$(_free_port)
		DOVECOT_POP3S=$(_free_port)
		cat > "$d/dovecot.conf" <<CONF
base_dir = $d/run
state_dir = $d/state
instance_name = popfetch-test-$$-$try
log_path = $d/dovecot.log
protocols = ${DOVECOT_PROTOCOLS:-pop3}
listen = 127.0.0.1
ssl = yes
ssl_cert = <$d/certs/server.pem
ssl_key = <$d/certs/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = ${DOVECOT_MECHS:-plain login apop}
$(extra=${DOVECOT_EXTRA:-}; printf "%s" "${extra//@CERTS@/$d/certs}")
default_login_user = $( [ "$owner" = mail ] && echo dovenull || echo "$owner")
default_internal_user = $( [ "$owner" = mail ] && echo dovecot || echo "$owner")
mail_location = maildir:$d/mail/%u
mail_privileged_group =
first_valid_uid = 0
pop3_uidl_format = %08Xu%08Xv
pop3_client_workarounds =
login_greeting = popfetch test server ready
${DOVECOT_PASSDB:-passdb {
  driver = passwd-file
  args = scheme=PLAIN $d/passwd
\}}
userdb {
  driver = static
  args = uid=$owner gid=$owner home=$d/home/%u
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $DOVECOT_POP3
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $DOVECOT_POP3S
    ssl = yes
  }
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
CONF
		if "$DOVECOT_BIN" -c "$d/dovecot.conf" 2>>"$d/start.log"; then
			local i
			for i in $(seq 1 100); do
				if python3 - "$DOVECOT_POP3" "$DOVECOT_POP3S" <<'PY' 2>/dev/null
import socket, sys
for p in sys.argv[1:]:
    socket.create_connection(("127.0.0.1", int(p)), 1).close()
PY
				then
					export DOVECOT_DIR DOVECOT_POP3 DOVECOT_POP3S DOVECOT_CA
					return 0
				fi
				sleep 0.05
			done
			dovecot_stop
		fi
	done
	echo "dovecot did not start; see $d/start.log and $d/dovecot.log" >&2
	cat "$d/start.log" "$d/dovecot.log" >&2 2>/dev/null
	return 1
}

dovecot_stop() {
	[ -n "${DOVECOT_DIR:-}" ] && [ -f "$DOVECOT_DIR/dovecot.conf" ] || return 0
	"$DOVECOT_BIN" -c "$DOVECOT_DIR/dovecot.conf" stop 2>/dev/null
	local i pid
	pid=$(cat "$DOVECOT_DIR/run/master.pid" 2>/dev/null) || true
	for i in $(seq 1 100); do
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	return 0
}
