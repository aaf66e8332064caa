#!/usr/bin/env bats
# The quick listing (issue 16): with 1,000 messages and more known, and a
# server seen adding new mail at the end of its listing, a run asks for
# STAT and the UIDs of the newest messages only, and still fetches every
# new message exactly once; whole listings where they are needed.

bats_require_minimum_version 1.5.0

USERS="q1 q2 q3 q4 q5"

setup_file() {
	load lib/common
	suite_start
	for u in $USERS; do dovecot_user_add "$u" pw; done
	mkdir -p "$T/corpus" "$T/more"
	make_corpus "$T/corpus" 1200 300
	make_corpus "$T/more" 5 400
	# Other messages than the first five of the corpus.
	sed -i 's/^Subject: message/Subject: more/; s/@corpus>/@more>/' \
		"$T"/more/*.eml
}

teardown_file() {
	load lib/common
	suite_stop
}

setup() {
	load lib/common
	load lib/sweep
	export POPFETCH_PASSWORD=pw
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=
	mkdir -p "$HOME"
	W=$BATS_TEST_TMPDIR
}

# pf USER ARGS: popfetch for USER over implicit TLS, its state in $W/st.
pf() {
	local u=$1; shift
	"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 --state "$W/st" \
		"pop3s://$u@localhost:$DOVECOT_POP3S" "$@"
}

# whole_listing: the trace in $output has a UIDL or LIST of every message.
whole_listing() {
	grep -qE '^(UIDL|LIST) -> ' <<<"$output"
}

# primed USER: USER's 1,200 messages fetched into $W/Mail, then listed
# again with nothing new, which shows the server's order.
primed() {
	dovecot_seed "$1" "$T"/corpus/*.eml
	run pf "$1" fetch --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[[ "$output" == "1200 new messages, "* ]]
	run pf "$1" -d 1 fetch --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	whole_listing
	[[ "$output" == *"no new messages (1200 on the server, all fetched before"* ]]
	grep -q '; listing appends [0-9]*$' "$W/st.lock"
}

@test "nothing new among 1,200 known: STAT and a few UIDL n; then just the new ones, once" {
	primed q1
	run pf q1 -d 1 fetch --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	! whole_listing
	grep -q '^STAT -> +OK 1200 ' <<<"$output"
	grep -q '^UIDL 1200 -> +OK 1200 ' <<<"$output"
	[ "$(grep -c '^UIDL [0-9]* -> ' <<<"$output")" -le 12 ]
	[[ "$output" == *"no new messages (1200 on the server, the newest fetched before"* ]]

	dovecot_seed q1 "$T"/more/*.eml
	run pf q1 -d 1 fetch --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	! whole_listing
	[[ "$output" == *"5 new messages, "*" KiB, delivered to $W/Mail" ]]
	for i in 1201 1202 1203 1204 1205; do
		grep -q "^LIST $i -> +OK $i " <<<"$output"
		grep -q "^RETR $i -> +OK" <<<"$output"
	done
	[ "$(grep -c '^RETR ' <<<"$output")" -eq 5 ]
	same_messages "$W/Mail/new" "$T"/corpus/*.eml "$T"/more/*.eml

	run pf q1 fetch --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages (1205 on the server, the newest fetched before"* ]]
	same_messages "$W/Mail/new" "$T"/corpus/*.eml "$T"/more/*.eml
}

@test "the whole listing: --full-listing, --all, --delete, --keep-days, --dry-run, a note a day old" {
	primed q2
	for opt in --full-listing --keep-days=3650 --dry-run; do
		run pf q2 -d 1 fetch --maildir "$W/Mail" $opt
		echo "$opt: $output" | tail -3
		[ "$status" -eq 0 ]
		whole_listing
	done
	# The last whole listing was 25 hours ago: listed whole again, and
	# the note says now.
	now=$(date +%s)
	sed -i "s/; listing appends [0-9]*\$/; listing appends $((now - 90000))/" "$W/st.lock"
	run pf q2 -d 1 fetch --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	whole_listing
	t=$(sed -n 's/.*; listing appends \([0-9]*\)$/\1/p' "$W/st.lock")
	[ "$t" -ge "$now" ]
	# A note lost: whole; and none from a time ahead of the clock.
	: > "$W/st.lock"
	run pf q2 -d 1 fetch --maildir "$W/Mail"
	whole_listing
	printf 'listing appends %s\n' $((now + 3600)) > "$W/st.lock"
	run pf q2 -d 1 fetch --maildir "$W/Mail"
	whole_listing
	# --forget-after 1: a whole listing every twelve hours.
	printf 'listing appends %s\n' $((now - 50000)) > "$W/st.lock"
	run pf q2 -d 1 fetch --maildir "$W/Mail" --forget-after 1
	whole_listing
	run pf q2 -d 1 fetch --maildir "$W/Mail" --forget-after 1
	! whole_listing
	# --all fetches everything again, so it lists everything.
	run pf q2 -d 1 fetch --mbox "$W/all.mbox" --all
	[ "$status" -eq 0 ]
	whole_listing
	[ "$(grep -c '^From ' "$W/all.mbox")" -eq 1200 ]
	# --delete deletes the known ones: the whole listing finds them.
	run pf q2 -d 1 fetch --maildir "$W/Mail" --delete
	[ "$status" -eq 0 ]
	whole_listing
	[ "$(dovecot_count q2)" -eq 0 ]
	[ "$(find "$W/Mail/new" -type f | wc -l)" -eq 1200 ]
}

@test "messages deleted elsewhere between quick runs: the new ones still once, and none again" {
	primed q3
	# Another client deletes 10 old messages, and 5 new ones arrive.
	find "$DOVECOT_DIR/mail/q3" -type f -name '*.seed*' | sort | sed -n '100,109p' | xargs rm -f
	dovecot_seed q3 "$T"/more/*.eml
	run pf q3 -d 1 fetch --maildir "$W/Mail"
	echo "$output" | tail -3
	[ "$status" -eq 0 ]
	! whole_listing
	grep -q '^STAT -> +OK 1195 ' <<<"$output"
	[[ "$output" == *"5 new messages, "* ]]
	same_messages "$W/Mail/new" "$T"/corpus/*.eml "$T"/more/*.eml
	# The next whole listing keeps the deleted ones' UIDs (--forget-after
	# 30) and fetches nothing.
	run pf q3 fetch --maildir "$W/Mail" --full-listing
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages (1195 on the server, all fetched before"* ]]
}

@test "a message left for later (a filter's 2) before one fetched: the next runs list whole, and it comes once" {
	primed q4
	dovecot_seed q4 "$T"/more/*.eml
	# The filter puts off "more 2" only.
	printf '#!/bin/sh\ngrep -q "^Subject: more 2$" && exit 2\nexit 0\n' > "$W/later"
	chmod +x "$W/later"
	run pf q4 -d 1 fetch --maildir "$W/Mail" --filter "$W/later"
	echo "$output" | tail -3
	[ "$status" -eq 0 ]
	! whole_listing
	[ "$(grep -c '^RETR ' <<<"$output")" -eq 4 ]
	grep -q '; listing pending$' "$W/st.lock"
	# Out of the quick listing's sight now: listed whole, fetched once,
	# and no verdict against the server's order.
	run pf q4 -d 1 fetch --maildir "$W/Mail"
	echo "$output" | tail -3
	[ "$status" -eq 0 ]
	whole_listing
	[[ "$output" == *"1 new message, "* ]]
	grep -q '; listing pending$' "$W/st.lock"
	run pf q4 -d 1 fetch --maildir "$W/Mail"
	whole_listing
	grep -q '; listing appends [0-9]*$' "$W/st.lock"
	run pf q4 -d 1 fetch --maildir "$W/Mail"
	! whole_listing
	same_messages "$W/Mail/new" "$T"/corpus/*.eml "$T"/more/*.eml
}

# quick_run ARGS: popfetch for q5 over plain POP3 (fewer calls to sweep),
# its state in $W/state.
quick_run() {
	"$POPFETCH" --tls none --allow-plaintext --timeout 10 --host 127.0.0.1 \
		-p "$DOVECOT_POP3" -u q5 --state "$W/state" --maildir "$W/Mail" "$@"
}

@test "crash sweep over a quick run: 5 new among 1,200 known, each exactly once, tmp/ empty" {
	command -v strace >/dev/null || skip "strace is not installed"
	# LeakSanitizer cannot run under ptrace (strace).
	export ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0}
	dovecot_seed q5 "$T"/corpus/*.eml
	quick_run fetch > /dev/null
	quick_run fetch > /dev/null
	grep -q '; listing appends ' "$W/state.lock"
	dovecot_seed q5 "$T"/more/*.eml
	mkdir "$W/snap"
	cp -a "$W/Mail" "$W"/state* "$W/snap/"
	ls "$W/snap/Mail/new" > "$W/before"
	# popfetch never changes a file it stored: the old ones are linked,
	# the state copied.
	restore() {
		rm -rf "$W/Mail" "$W"/state* "$W/diff"
		cp -al "$W/snap/Mail" "$W/Mail"
		cp -a "$W"/snap/state* "$W/"
	}
	# The run to sweep, once, under strace: its calls.
	strace -f -qq -y -o "$W/trace" "$POPFETCH" --tls none --allow-plaintext \
		--timeout 10 --host 127.0.0.1 -p "$DOVECOT_POP3" -u q5 \
		--state "$W/state" --maildir "$W/Mail" -d 1 fetch > "$W/first" 2>&1
	grep -q '^STAT -> ' "$W/first"
	! grep -qE '^(UIDL|LIST) -> ' "$W/first"
	python3 - "$W/trace" > "$W/calls" <<'PY'
import re, sys
for l in open(sys.argv[1], errors="replace"):
    l = re.sub(r"^\d+ +", "", l.rstrip("\n"))
    m = re.match(r"([a-z0-9_]+)\((.*)", l)
    if m:
        print(m.group(1), m.group(2)[:200])
PY
	SWEEP_PER_KIND=3 sweep_points > "$W/points"
	: > "$W/bad"
	n=0
	while read -r sys k; do
		n=$((n + 1))
		restore
		strace -f -qq -o /dev/null -e trace="$sys" \
			-e inject="$sys:signal=SIGKILL:when=$k" "$POPFETCH" \
			--tls none --allow-plaintext --timeout 10 --host 127.0.0.1 \
			-p "$DOVECOT_POP3" -u q5 --state "$W/state" \
			--maildir "$W/Mail" fetch > /dev/null 2>&1 || true
		if ! out=$(quick_run fetch 2>&1); then
			echo "bad: $sys $k: clean run: $out" >> "$W/bad"
			continue
		fi
		if [ -n "$(ls -A "$W/Mail/tmp")" ]; then
			echo "bad: $sys $k: tmp/ not empty" >> "$W/bad"
		fi
		# The old files all there, and beside them each new message
		# once, byte for byte.
		mkdir "$W/diff"
		ls "$W/Mail/new" | comm -13 "$W/before" - |
			sed "s|^|$W/Mail/new/|" | xargs -r ln -t "$W/diff"
		if [ "$(ls "$W/Mail/new" | comm -12 "$W/before" - | wc -l)" -ne 1200 ]; then
			echo "bad: $sys $k: an old file gone" >> "$W/bad"
		elif ! out=$(same_messages "$W/diff" "$T"/more/*.eml 2>&1); then
			echo "bad: $sys $k: $out" >> "$W/bad"
		fi
	done < "$W/points"
	echo "# quick-listing crash sweep: $n points, $(wc -l < "$W/bad") bad" >&3
	cat "$W/bad"
	[ "$n" -ge 20 ]
	[ ! -s "$W/bad" ]
}

# fake_order N: a fake server's script with messages u1..uN listed in
# order; from its third connection on, another client has deleted u1 and
# a new message new0 takes its place, listed first, before the old ones
# (a server that does not add new mail at the end).
fake_order() {
	local n=$1 i listing="" late="1 new0\\r\\n" sizes=""
	for i in $(seq 1 "$n"); do listing+="$i u$i\\r\\n" sizes+="$i 40\\r\\n"; done
	for i in $(seq 2 "$n"); do late+="$i u$i\\r\\n"; done
	cat <<EOF
CAPA => +OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n
USER alice => +OK\r\n
PASS secret => +OK\r\n
STAT => +OK $n $((n * 40))\r\n
?after2 UIDL => +OK\r\n$late.\r\n
UIDL => +OK\r\n$listing.\r\n
?after2 UIDL 1 => +OK 1 new0\r\n
?after2 RETR 1 => +OK\r\nSubject: new0\r\n\r\nlate\r\n.\r\n
repeat $n UIDL {i} => +OK {i} u{i}\r\n
repeat $n LIST {i} => +OK {i} 40\r\n
LIST => +OK\r\n$sizes.\r\n
repeat $n RETR {i} => +OK\r\nSubject: {i}\r\n\r\nbody\r\n.\r\n
QUIT => +OK\r\n
EOF
}

@test "a server that lists new mail before the old: whole listings from then on" {
	export POPFETCH_PASSWORD=secret
	fake_start "$W" < <(fake_order 1000)
	pff() {
		"$POPFETCH" --tls none --allow-plaintext --timeout 5 --host 127.0.0.1 \
			-p "$FAKE_PORT" -u alice --state "$W/st" --maildir "$W/Mail" "$@"
	}
	run pff fetch
	echo "$output" | tail -3
	[ "$status" -eq 0 ]
	[[ "$output" == "1000 new messages, "* ]]
	run pff -d 1 fetch
	[ "$status" -eq 0 ]
	grep -q '; listing appends ' "$W/st.lock"
	# From here on new0 is listed first.  The quick listing sees only
	# the end, where nothing is new: new0 waits.
	run pff -d 1 fetch
	echo "$output" | tail -3
	[ "$status" -eq 0 ]
	! whole_listing
	[[ "$output" == *"no new messages (1000 on the server"* ]]
	# A whole listing finds it, and the order broken.
	run pff -d 1 fetch --full-listing
	echo "$output" | tail -3
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 new message, "* ]]
	grep -q '^RETR 1 -> +OK' <<<"$output"
	grep -q '; listing unordered$' "$W/st.lock"
	# For good: every later run lists everything.
	run pff -d 1 fetch
	[ "$status" -eq 0 ]
	whole_listing
	[[ "$output" == *"no new messages (1000 on the server"* ]]
	grep -q '; listing unordered$' "$W/st.lock"
	[ "$(find "$W/Mail/new" -type f | wc -l)" -eq 1001 ]
	fake_stop
}

# fake_more N K CAPA: a fake server with messages u1..uN listed in order
# and CAPA's lines; from its third connection on, K new ones n1..nK
# after them.
fake_more() {
	local n=$1 k=$2 capa=$3 i listing="" more="" sizes=""
	for i in $(seq 1 "$n"); do listing+="$i u$i\\r\\n" sizes+="$i 40\\r\\n"; done
	for i in $(seq 1 "$k"); do more+="$((n + i)) n$i\\r\\n"; done
	cat <<EOF
CAPA => +OK\r\nUSER\r\nUIDL\r\n$capa.\r\n
USER alice => +OK\r\n
PASS secret => +OK\r\n
?after2 STAT => +OK $((n + k)) $(((n + k) * 40))\r\n
STAT => +OK $n $((n * 40))\r\n
?after2 UIDL => +OK\r\n$listing$more.\r\n
UIDL => +OK\r\n$listing.\r\n
LIST => +OK\r\n$sizes.\r\n
EOF
	for i in $(seq 1 "$k"); do
		echo "?after2 UIDL $((n + i)) => +OK $((n + i)) n$i\\r\\n"
		echo "?after2 LIST $((n + i)) => +OK $((n + i)) 40\\r\\n"
		echo "?after2 RETR $((n + i)) => +OK\\r\\nSubject: n$i\\r\\n\\r\\nnew\\r\\n.\\r\\n"
	done
	cat <<EOF
repeat $n UIDL {i} => +OK {i} u{i}\r\n
repeat $n RETR {i} => +OK\r\nSubject: {i}\r\n\r\nbody\r\n.\r\n
QUIT => +OK\r\n
EOF
}

@test "a server without PIPELINING: the quick listing one command at a time, each new message once" {
	export POPFETCH_PASSWORD=secret
	fake_start "$W" < <(fake_more 1000 3 "")
	pff() {
		"$POPFETCH" --tls none --allow-plaintext --timeout 5 --host 127.0.0.1 \
			-p "$FAKE_PORT" -u alice --state "$W/st" --maildir "$W/Mail" "$@"
	}
	run pff fetch
	[ "$status" -eq 0 ]
	run pff fetch
	[ "$status" -eq 0 ]
	grep -q '; listing appends ' "$W/st.lock"
	: > "$FAKE_DIR/fake.log"
	run pff -d 1 fetch
	echo "$output" | tail -12
	[ "$status" -eq 0 ]
	! whole_listing
	[[ "$output" == *"3 new messages, "* ]]
	# Back from the last message one probe at a time, up to the first
	# known (1003, 1002 new; 1000 known), then the three after it.
	diff <(grep -E '^(STAT|UIDL|LIST|RETR)' "$FAKE_DIR/fake.log") - <<EOF
STAT
UIDL 1003
UIDL 1002
UIDL 1000
UIDL 1001
UIDL 1002
UIDL 1003
LIST 1001
LIST 1002
LIST 1003
RETR 1001
RETR 1002
RETR 1003
EOF
	[ "$(find "$W/Mail/new" -type f | wc -l)" -eq 1003 ]
	# Nothing new now: the last message is known, one probe.
	: > "$FAKE_DIR/fake.log"
	run pff -d 1 fetch
	[ "$status" -eq 0 ]
	[[ "$output" == *"no new messages (1003 on the server"* ]]
	diff <(grep -E '^(STAT|UIDL|LIST|RETR)' "$FAKE_DIR/fake.log") - <<EOF
STAT
UIDL 1003
EOF
	fake_stop
}
