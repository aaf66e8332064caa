# postfix.bash: a throwaway Postfix on loopback for the SMTP tests.
#
# postfix_start DIR   starts a Postfix instance with its whole state under
#                     DIR (its own configuration, queue and data
#                     directories; nothing of /etc/postfix is used but the
#                     shipped tables) and sets POSTFIX_PORT (SMTP on
#                     127.0.0.1) and POSTFIX_MAIL (the maildirs).  Mail for
#                     USER@example.test goes to $POSTFIX_MAIL/USER/ through
#                     Postfix's virtual(8) agent, as the Debian user "mail".
#                     later@example.test gets 450 at RCPT; a message whose
#                     Subject contains "reject-me" gets 550 at its end.
# postfix_user_add NAME    before postfix_start
# postfix_count NAME       messages delivered to NAME so far
# postfix_wait NAME N      waits (10 s at most) until NAME has N messages
# postfix_stop             stops it again.
#
# Postfix's master must start as root (the tests run as root); its
# daemons run as the user "postfix", the mail as "mail".

postfix_user_add() {
	POSTFIX_USERS="${POSTFIX_USERS:-} $1"
}

postfix_start() {
	local d=$1 i
	POSTFIX_DIR=$d
	POSTFIX_MAIL=$d/vmail
	mkdir -p "$d/conf" "$d/queue" "$d/data" "$POSTFIX_MAIL"
	chmod 755 "$d" "$d/conf"
	chown postfix "$d/data"
	chown mail:mail "$POSTFIX_MAIL"
	POSTFIX_PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
	: > "$d/conf/vmailbox"
	for i in ${POSTFIX_USERS:-}; do
		echo "$i@example.test $i/" >> "$d/conf/vmailbox"
	done
	echo "later@example.test 450 4.2.0 come back later" > "$d/conf/access"
	echo "/^Subject:.*reject-me/ REJECT this message is not wanted" \
		> "$d/conf/header_checks"
	cat > "$d/conf/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = /dev/stdout
syslog_name = postfix-popfetch-test
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mx.popfetch.test
mydomain = popfetch.test
myorigin = popfetch.test
mydestination =
relay_domains =
relayhost =
mynetworks = 127.0.0.0/8
# Nothing ever leaves this machine: mail for any other domain fails.
default_transport = error:not delivered in tests
relay_transport = error:not delivered in tests
local_header_rewrite_clients =
alias_maps =
alias_database =
smtpd_recipient_restrictions =
    check_recipient_access texthash:$d/conf/access,
    permit_mynetworks, reject
header_checks = regexp:$d/conf/header_checks
virtual_mailbox_domains = example.test
virtual_mailbox_base = $POSTFIX_MAIL
virtual_mailbox_maps = texthash:$d/conf/vmailbox
virtual_minimum_uid = 1
virtual_uid_maps = static:$(id -u mail)
virtual_gid_maps = static:$(id -g mail)
CONF
	cat > "$d/conf/master.cf" <<CONF
127.0.0.1:$POSTFIX_PORT inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
local     unix  - n n -  - local
virtual   unix  - n n -  - virtual
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
CONF
	postfix -c "$d/conf" start-fg > "$d/maillog" 2>&1 &
	POSTFIX_PID=$!
	for i in $(seq 1 200); do
		if python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
		    "$POSTFIX_PORT" 2>/dev/null; then
			export POSTFIX_DIR POSTFIX_MAIL POSTFIX_PORT POSTFIX_PID
			return 0
		fi
		sleep 0.05
	done
	echo "postfix did not start; see $d/maillog" >&2
	cat "$d/maillog" >&2
	postfix_stop
	return 1
}

postfix_count() {
	find "$POSTFIX_MAIL/$1/new" "$POSTFIX_MAIL/$1/cur" -type f 2>/dev/null |
		wc -l
}

postfix_wait() {
	local i
	for i in $(seq 1 200); do
		[ "$(postfix_count "$1")" -ge "$2" ] && break
		sleep 0.05
	done
	[ "$(postfix_count "$1")" -eq "$2" ]
}

postfix_stop() {
	[ -n "${POSTFIX_DIR:-}" ] && [ -f "$POSTFIX_DIR/conf/main.cf" ] || return 0
	postfix -c "$POSTFIX_DIR/conf" stop >/dev/null 2>&1
	local i
	for i in $(seq 1 100); do
		[ -n "${POSTFIX_PID:-}" ] && kill -0 "$POSTFIX_PID" 2>/dev/null ||
			return 0
		sleep 0.05
	done
	[ -n "${POSTFIX_PID:-}" ] && kill -9 "$POSTFIX_PID" 2>/dev/null
	return 0
}
