#!/usr/bin/env bats
# Time, memory and size bounds against hostile servers (issue 13): a
# server that drips bytes, a whole session past --max-time, a TLS
# handshake that never ends.  Each asserts the exit status, the elapsed
# time against the bound the man page states (generously), what is on
# disk, and what the server saw.

bats_require_minimum_version 1.5.0

# "! cmd" cannot fail a Bats test (set -e ignores it); this can.
not() {
	if "$@"; then
		return 1
	fi
}

setup() {
	load lib/common
	export POPFETCH_PASSWORD=pw
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=
	mkdir -p "$HOME"
	W=$BATS_TEST_TMPDIR
}

teardown() {
	fake_stop
}

LOGIN='CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n
USER .* => +OK\r\n
PASS .* => +OK\r\n
DELE \d+ => +OK\r\n'

fake() {
	fake_start "$W" < <(printf '%s\n' "$@" "$LOGIN")
}

pf_fake() {
	"$POPFETCH" --tls none --allow-plaintext --host 127.0.0.1 \
		-p "$FAKE_PORT" -u alice "$@"
}

assert_nothing_delivered() {
	[ -z "$(ls -A "$W/Mail/new" 2>/dev/null)" ]
	[ -z "$(ls -A "$W/Mail/tmp" 2>/dev/null)" ]
	not grep -q DELE "$W/fake.log"
}

@test "a greeting dripped one byte a second ends after --timeout, exit 75" {
	fake 'greeting => +OK a greeting that takes half a minute to arrive\r\n !slow=0.5'
	SECONDS=0
	run pf_fake --timeout 2 stat
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 6 ]
	[[ "$output" == *"timed out"* ]]
	not grep -q USER "$W/fake.log"
}

@test "a message body dripped one byte every 0.5 s is cut at the rate bound" {
	# Every byte comes well within --timeout 2; before the rate rule the
	# 100-byte body held the session for 50 s.
	body=$(printf 'x%.0s' $(seq 1 90))
	fake 'UIDL => +OK\r\n1 a\r\n.\r\n' 'LIST => +OK\r\n1 100\r\n.\r\n' \
		"RETR 1 => +OK\\r\\nSubject: s\\r\\n\\r\\n$body\\r\\n.\\r\\n !slow=0.5"
	SECONDS=0
	run pf_fake --timeout 2 --maildir "$W/Mail" --delete
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 8 ]
	[[ "$output" == *"RETR 1: read timed out: less than 1024 bytes in 2 seconds"* ]]
	assert_nothing_delivered
	not grep -q QUIT "$W/fake.log"
}

@test "a listing trickled one short line at a time is cut at the rate bound" {
	list=$(for i in $(seq 1 200); do printf '%d u%d\\r\\n' "$i" "$i"; done)
	fake "UIDL => +OK\\r\\n$list.\\r\\n !trickle=0.2" \
		'LIST => +OK\r\n1 100\r\n.\r\n'
	SECONDS=0
	run pf_fake --timeout 2 --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 8 ]
	[[ "$output" == *"less than 1024 bytes in 2 seconds"* ]]
	assert_nothing_delivered
}

@test "a server sending steadily but slowly above the rate is not cut" {
	# 400 lines of 64 bytes, one every 10 ms: about 6 KB/s, far above
	# 1024 bytes per 2 s, and the whole body takes longer than 2 s.
	line=$(printf 'y%.0s' $(seq 1 62))
	body=$(for i in $(seq 1 400); do printf '%s\\r\\n' "$line"; done)
	fake 'UIDL => +OK\r\n1 a\r\n.\r\n' 'LIST => +OK\r\n1 26000\r\n.\r\n' \
		"RETR 1 => +OK\\r\\nSubject: s\\r\\n\\r\\n$body.\\r\\n !trickle=0.01"
	SECONDS=0
	run pf_fake --timeout 2 --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$SECONDS" -ge 3 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 1 ]
	[ "$(grep -c '^y' "$W"/Mail/new/*)" -eq 400 ]
}

@test "--max-time ends a session of prompt but slow replies, exit 75" {
	fake 'UIDL => +OK\r\n1 a\r\n2 b\r\n3 c\r\n4 d\r\n5 e\r\n6 f\r\n.\r\n' \
		'LIST => +OK\r\n1 30\r\n2 30\r\n3 30\r\n4 30\r\n5 30\r\n6 30\r\n.\r\n' \
		'RETR (\d) => +OK\r\nSubject: m\r\n\r\nbody\r\n.\r\n !sleep=1'
	SECONDS=0
	run pf_fake --timeout 5 --max-time 3 --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 6 ]
	[[ "$output" == *"the session took longer than its limit of 3 seconds"* ]]
	# What came whole before the limit is delivered; nothing partial.
	n=$(ls "$W/Mail/new" | wc -l)
	[ "$n" -ge 1 ]
	[ "$n" -le 3 ]
	[ -z "$(ls -A "$W/Mail/tmp")" ]
	[ "$(grep -c '^RETR' "$W/fake.log")" -le 4 ]
}

@test "max-time works from the accounts file too" {
	fake 'greeting => +OK\r\n !sleep=10'
	config_home
	export POPFETCH_PASSWORD=pw
	printf 'account slow\n host 127.0.0.1\n port %s\n user alice\n tls none\n allow-plaintext\n timeout 20\n max-time 2\n' \
		"$FAKE_PORT" > "$CONF"
	SECONDS=0
	run "$POPFETCH" -a slow stat
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 5 ]
	[[ "$output" == *"limit of 2 seconds"* ]]
}

@test "a reply dripped one byte every 0.5 s ends after --timeout, nothing more sent" {
	fake 'greeting => +OK\r\n' 'USER .* => +OK go on, this reply takes a long while\r\n !slow=0.5'
	SECONDS=0
	run pf_fake --timeout 2 stat
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 6 ]
	[[ "$output" == *"USER"*"timed out"* ]]
	not grep -q '^PASS' "$W/fake.log"
}

@test "under TLS, a body re-segmented into one-byte records is cut at the rate bound" {
	certs_make "$W/certs"
	body=$(printf 'x%.0s' $(seq 1 90))
	fake_start "$W" "$W/certs/server.pem" "$W/certs/server.key" < <(printf '%s\n' implicit \
		'UIDL => +OK\r\n1 a\r\n.\r\n' 'LIST => +OK\r\n1 100\r\n.\r\n' \
		"RETR 1 => +OK\\r\\nSubject: s\\r\\n\\r\\n$body\\r\\n.\\r\\n !slow=0.5" "$LOGIN")
	SECONDS=0
	run "$POPFETCH" --ca-file "$W/certs/ca.pem" --tls implicit --host localhost \
		-p "$FAKE_PORT" -u alice --timeout 2 --maildir "$W/Mail" --delete
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 8 ]
	[[ "$output" == *"RETR 1: read timed out: less than 1024 bytes in 2 seconds"* ]]
	assert_nothing_delivered
}

@test "a TLS handshake dripped by the server ends within --timeout, exit 75" {
	# A TLS record header announcing 64 bytes, then one byte a second.
	fake 'greeting => \x16\x03\x03\x00\x40aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa !sleep=0.3 !slow=0.5'
	SECONDS=0
	run "$POPFETCH" --tls implicit --insecure --timeout 2 --host 127.0.0.1 \
		-p "$FAKE_PORT" -u alice stat
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 6 ]
	[[ "$output" == *"timed out"* ]]
	not grep -q USER "$W/fake.log"
}

@test "a message larger than its LIST size is cut at --max-size: rolled back, not recorded, no DELE" {
	big=$(head -c 60000 /dev/zero | tr '\0' 'z' | fold -w 70 | sed 's/$/\\r/' | tr -d '\n' | sed 's/\\r/\\r\\n/g')
	fake 'UIDL => +OK\r\n1 liar\r\n2 honest\r\n.\r\n' 'LIST => +OK\r\n1 10\r\n2 40\r\n.\r\n' \
		"RETR 1 => +OK\\r\\nSubject: liar\\r\\n\\r\\n$big.\\r\\n" \
		'RETR 2 => +OK\r\nSubject: two\r\n\r\nbody two\r\n.\r\n'
	run pf_fake --timeout 5 --maildir "$W/Mail" --delete --max-size 1000
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"message 1 skipped"* ]]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 1 ]
	grep -q 'body two' "$W"/Mail/new/*
	[ -z "$(ls -A "$W/Mail/tmp")" ]
	[ "$(du -sk "$W/Mail" | cut -f1)" -lt 40 ]
	not grep -q 'DELE 1' "$W/fake.log"
	grep -q 'DELE 2' "$W/fake.log"
	# Not recorded: the next run tries (and skips) it again.
	run pf_fake --timeout 5 --maildir "$W/Mail" --delete --max-size 1000
	[ "$status" -eq 0 ]
	[[ "$output" == *"message 1 skipped"* ]]
	[ "$(grep -c '^RETR 1' "$W/fake.log")" -eq 2 ]
}

@test "a UID longer than 512 bytes is a protocol error before any RETR (exit 76)" {
	long=$(head -c 1000 /dev/zero | tr '\0' 'u')
	fake "UIDL => +OK\\r\\n1 $long\\r\\n.\\r\\n" 'LIST => +OK\r\n1 40\r\n.\r\n'
	run pf_fake --timeout 5 --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 76 ]
	[[ "$output" == *"longer than 512 bytes"* ]]
	not grep -q RETR "$W/fake.log"
}

@test "a listing of 50,000 messages with 512-byte UIDs costs about 600 bytes a message" {
	# AddressSanitizer's shadow and redzones say nothing about popfetch.
	if ldd "$POPFETCH" | grep -q libasan; then
		skip "peak memory is measured on the plain build"
	fi
	python3 - "$W/fake.script.in" <<'PY'
import sys
n = 50000
with open(sys.argv[1], "w") as f:
    f.write("UIDL => +OK\\r\\n" + "".join("%d %s\\r\\n" % (i, ("%08d" % i) * 63 + "u" * 8) for i in range(1, n + 1)) + ".\\r\\n\n")
    f.write("LIST => +OK\\r\\n" + "".join("%d 40\\r\\n" % i for i in range(1, n + 1)) + ".\\r\\n\n")
PY
	fake_start "$W" < <(cat "$W/fake.script.in"; printf '%s\n' "$LOGIN")
	/usr/bin/time -f '%M' -o "$W/rss" "$POPFETCH" --tls none --allow-plaintext \
		--host 127.0.0.1 -p "$FAKE_PORT" -u alice --timeout 30 \
		--maildir "$W/Mail" --dry-run --json > "$W/out" 2>&1 || true
	rss_kb=$(tail -1 "$W/rss")
	echo "# peak RSS ${rss_kb} KB" >&3
	# 50,000 x 512-byte UIDs are 25 MB of UIDs alone; allow 640 bytes
	# a message and 30 MB for the program and its buffers.
	[ "$rss_kb" -lt $(( (50000 * 640) / 1024 + 30 * 1024 )) ]
	grep -q '"ok":true' "$W/out"
	[ "$(grep -o 'uuuuuuuu"' "$W/out" | wc -l)" -eq 50000 ]
}

# with_hung_dns CMD...: runs CMD in network and mount namespaces of its
# own whose only name service is DNS at 127.0.0.1:53, where a server
# takes every query and never answers ($W/dns.log gets a line per
# query).  The resolver alone would wait 30 seconds.
with_hung_dns() {
	rm -f "$W/dns.log.ready"
	printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:1\n' > "$W/resolv.conf"
	printf 'hosts: dns\n' > "$W/nsswitch.conf"
	cat > "$W/sink.py" <<'PY'
import fcntl, socket, struct, sys
# The loopback of a new namespace is down: up, loopback, running.
fcntl.ioctl(socket.socket(), 0x8914, struct.pack("16sH14s", b"lo", 0x49, b""))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
open(sys.argv[1] + ".ready", "w").close()
s.settimeout(60)
with open(sys.argv[1], "a") as f:
    while True:
        s.recv(4096)
        f.write("query\n")
        f.flush()
PY
	unshare -mn bash -c '
		w=$1; shift
		mount --bind "$w/resolv.conf" /etc/resolv.conf || exit 99
		mount --bind "$w/nsswitch.conf" /etc/nsswitch.conf || exit 99
		python3 "$w/sink.py" "$w/dns.log" &
		for i in $(seq 200); do [ -e "$w/dns.log.ready" ] && break; sleep 0.05; done
		"$@"; r=$?
		kill $! 2>/dev/null
		exit $r' sh "$W" "$@"
}

@test "a name lookup that never returns ends after --timeout, exit 75" {
	command -v unshare >/dev/null || skip "unshare missing"
	SECONDS=0
	run --separate-stderr with_hung_dns "$POPFETCH" --timeout 2 \
		pop3s://u@no-such.example stat
	t=$SECONDS
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"the name lookup of no-such.example took longer than 2 seconds"* ]]
	[ "$t" -ge 2 ]
	[ "$t" -le 5 ]
	# The lookup did reach the silent server: it was the one waited on.
	grep -q query "$W/dns.log"
}

@test "a hung name lookup is bounded over IPv4 only and by the --max-time left" {
	command -v unshare >/dev/null || skip "unshare missing"
	SECONDS=0
	run --separate-stderr with_hung_dns "$POPFETCH" -4 --timeout 2 \
		pop3s://u@no-such.example stat
	t=$SECONDS
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"the name lookup of no-such.example took longer than 2 seconds"* ]]
	[ "$t" -le 5 ]
	SECONDS=0
	run --separate-stderr with_hung_dns "$POPFETCH" --timeout 60 --max-time 2 \
		pop3s://u@no-such.example stat
	t=$SECONDS
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"the name lookup of no-such.example took longer than 2 seconds"* ]]
	[ "$t" -le 5 ]
	SECONDS=0
	run --separate-stderr with_hung_dns "$POPFETCH" -4 --timeout 60 --max-time 2 \
		pop3s://u@no-such.example stat
	t=$SECONDS
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"the name lookup of no-such.example took longer than 2 seconds"* ]]
	[ "$t" -le 5 ]
}

@test "a name (localhost) is still looked up and connected to" {
	fake 'STAT => +OK 0 0\r\n'
	run --separate-stderr "$POPFETCH" --tls none --allow-plaintext \
		--host localhost -p "$FAKE_PORT" -u alice --timeout 5 stat
	[ "$status" -eq 0 ]
	grep -q '^STAT' "$W/fake.log"
}

@test "socks5:// (names looked up here): a hung lookup ends after --timeout, exit 75" {
	command -v unshare >/dev/null || skip "unshare missing"
	command -v microsocks >/dev/null || skip "microsocks is not installed"
	SECONDS=0
	run --separate-stderr with_hung_dns bash -c '
		microsocks -i 127.0.0.1 -p 1080 >/dev/null 2>&1 & m=$!
		for i in $(seq 100); do
			(exec 3<>/dev/tcp/127.0.0.1/1080) 2>/dev/null && break
			sleep 0.05
		done
		SECONDS=0
		"$1" --timeout 2 --proxy socks5://127.0.0.1:1080 \
			pop3s://u@no-such.example stat
		r=$?; echo "lookup took $SECONDS s" >&2
		kill $m; exit $r' sh "$POPFETCH"
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"the name lookup of no-such.example took longer than 2 seconds"* ]]
	[[ "$stderr" =~ "lookup took "[234]" s" ]]
	grep -q query "$W/dns.log"
}
