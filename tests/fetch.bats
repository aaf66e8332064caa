#!/usr/bin/env bats
# fetch against a real Dovecot: every message exactly once into maildir,
# mbox or an MDA, through kills, full disks and locks.

bats_require_minimum_version 1.5.0

USERS="rt mb nw del kd ms lim dry mda mdaf crash1 crash2 crash3 full lock conc def"

setup_file() {
	load lib/common
	suite_start
	for u in $USERS; do dovecot_user_add "$u" pw; done
}

teardown_file() {
	load lib/common
	suite_stop
}

setup() {
	load lib/common
	export POPFETCH_PASSWORD=pw
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=
	mkdir -p "$HOME"
	HARD=("$TOP"/tests/corpus-hard/*.eml)
	W=$BATS_TEST_TMPDIR
}

teardown() {
	if mountpoint -q "$W/tiny" 2>/dev/null; then umount "$W/tiny"; fi
}

# pf USER ARGS: popfetch for USER over implicit TLS.
pf() {
	local u=$1; shift
	"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 "pop3s://$u@localhost:$DOVECOT_POP3S" "$@"
}

@test "maildir: every hard case byte for byte, names from no server text" {
	dovecot_seed rt "${HARD[@]}"
	run pf rt fetch --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "${#HARD[@]} new messages, "*" KiB, delivered to $W/Mail" ]]
	same_messages "$W/Mail/new" "${HARD[@]}"
	[ -z "$(ls -A "$W/Mail/tmp")" ] && [ -z "$(ls -A "$W/Mail/cur")" ]
	for f in "$W"/Mail/new/*; do
		[[ "$(basename "$f")" =~ ^[0-9]+\.M[0-9]+P[0-9]+Q[0-9]+F[0-9a-f]{8}U[0-9a-f]{8}\.[^/:]+$ ]]
	done
	[ "$(stat -c %a "$W/Mail/new/$(ls "$W/Mail/new" | head -1)")" = 600 ]
	[ "$(dovecot_count rt)" -eq "${#HARD[@]}" ]	# --keep is the default
}

@test "mbox: mboxrd, reversible, every hard case byte for byte" {
	dovecot_seed mb "${HARD[@]}"
	printf 'From old@example.org Mon Jan  1 00:00:00 2026\nSubject: old\n\nkept\n\n' > "$W/mbox"
	run pf mb fetch --mbox "$W/mbox"
	[ "$status" -eq 0 ]
	mkdir "$W/split"
	python3 "$TOP/tests/lib/mbox_split.py" "$W/mbox" "$W/split"
	# The old message is first and untouched.
	[ "$(cat "$W/split/1.eml")" = $'Subject: old\n\nkept' ]
	rm "$W/split/1.eml"
	same_messages "$W/split" "${HARD[@]}"
	grep -q '^>From here$' "$W/mbox"
	grep -q '^>>From b$' "$W/mbox" && grep -q '^>>>From c$' "$W/mbox"
	grep -q '^From hal@example.org ' "$W/mbox"
	[ ! -e "$W/mbox.lock" ]
}

@test "--new (the default) fetches each message once; a new one alone later" {
	make_corpus "$W" 3 500
	dovecot_seed nw "$W"/0000[12].eml
	run pf nw --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	run pf nw --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages (2 on the server, all fetched before; the state is $HOME/.local/state/popfetch/nw@localhost:$DOVECOT_POP3S; --all fetches them again)" ]]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
	dovecot_seed nw "$W/00003.eml"
	run pf nw --maildir "$W/Mail" --new
	echo "$output"
	[[ "$output" == "1 new message, "*" bytes, delivered to $W/Mail" ]]
	same_messages "$W/Mail/new" "$W"/0000[123].eml
	run pf nw --maildir "$W/Mail" --all
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 6 ]
}

@test "--delete removes delivered messages, old ones too, without fetching again" {
	make_corpus "$W" 4 300
	dovecot_seed del "$W"/0000[12].eml
	run pf del --maildir "$W/Mail" --keep
	[ "$(dovecot_count del)" -eq 2 ]
	dovecot_seed del "$W"/0000[34].eml
	run pf del --maildir "$W/Mail" --delete
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 new messages"* && "$output" == *"4 messages deleted from the server"* ]]
	[ "$(dovecot_count del)" -eq 0 ]
	same_messages "$W/Mail/new" "$W"/0000[1234].eml
	# The state forgets what the server no longer has, once it has not
	# listed it for --forget-after days (30 by default: kept now).
	run pf del --maildir "$W/Mail" --delete
	echo "$output"
	[ "$output" = "no new messages (none on the server)" ]
	[ "$(grep -c '^U ' "$HOME"/.local/state/popfetch/del@*[0-9])" -eq 4 ]
	run pf del --maildir "$W/Mail" --delete --forget-after 0
	[ "$output" = "no new messages (none on the server)" ]
	[ "$(grep -c '^U ' "$HOME"/.local/state/popfetch/del@*[0-9])" -eq 0 ]
}

@test "--keep-days deletes what was delivered that many days ago" {
	make_corpus "$W" 2 300
	dovecot_seed kd "$W"/*.eml
	run pf kd --maildir "$W/Mail" --keep-days 3
	[ "$(dovecot_count kd)" -eq 2 ]
	st=$(ls "$HOME"/.local/state/popfetch/kd@*[0-9])
	# Pretend message 1 was delivered four days ago.
	uid=$(pf kd uidl 1 | cut -d' ' -f2)
	old=$(( $(date +%s) - 4 * 86400 ))
	python3 "$TOP/tests/lib/state_edit.py" set-first "$st" "$uid" "$old"
	run pf kd --maildir "$W/Mail" --keep-days 3
	[ "$status" -eq 0 ]
	[ "$(dovecot_count kd)" -eq 1 ]
	[ "$(pf kd uidl | cut -d' ' -f2)" != "$uid" ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
}

@test "--max-size skips larger messages and says so" {
	make_corpus "$W" 3 400
	make_corpus "$W/big" 1 20000 2>/dev/null || { mkdir "$W/big"; make_corpus "$W/big" 1 20000; }
	dovecot_seed ms "$W"/0000[12].eml "$W/big/00001.eml"
	run --separate-stderr pf ms --maildir "$W/Mail" --max-size 10000 --delete
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"message 3 skipped: "*" bytes, over --max-size 10000"* ]]
	[[ "${lines[0]}" == "2 new messages, "*", delivered to $W/Mail; 1 skipped, over --max-size" ]]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
	[ "$(dovecot_count ms)" -eq 1 ]
}

@test "--limit fetches at most N messages a run" {
	make_corpus "$W" 5 300
	dovecot_seed lim "$W"/*.eml
	run pf lim --maildir "$W/Mail" --limit 2
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
	run pf lim --maildir "$W/Mail" --limit 2
	run pf lim --maildir "$W/Mail" --limit 2
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 5 ]
	same_messages "$W/Mail/new" "$W"/*.eml
}

@test "--dry-run says what would happen and touches nothing" {
	make_corpus "$W" 2 300
	dovecot_seed dry "$W"/*.eml
	run pf dry --maildir "$W/Mail" --delete --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" == *"would fetch message 1"*"would delete message 1"* ]]
	[[ "$output" == *"dry run: 2 messages would be fetched, 2 deleted"* ]]
	[ ! -e "$W/Mail" ]
	[ ! -e "$HOME/.local/state" ]
	[ "$(dovecot_count dry)" -eq 2 ]
}

@test "--json prints JSON Lines: one record per message and a summary" {
	make_corpus "$W" 2 300
	dovecot_seed def "$W"/*.eml
	run --separate-stderr pf def --maildir "$W/Mail" --json --delete
	[ "$status" -eq 0 ]
	python3 - "$output" <<'PY'
import json, sys
recs = [json.loads(l) for l in sys.argv[1].splitlines()]
d = recs[-1]
assert d["event"] == "summary", d
assert d["fetched"] == 2 and d["deleted"] == 2 and d["ok"] is True, d
assert d["total"] == 2 and d["known"] == 0, d
d["messages"] = recs[:-1]
ev = [(m["event"], m["msg"]) for m in d["messages"]]
assert sorted(ev) == [("deleted", 1), ("deleted", 2), ("fetched", 1), ("fetched", 2)], ev
# Each message is deleted only after it was fetched.
assert all(ev.index(("fetched", n)) < ev.index(("deleted", n)) for n in (1, 2)), ev
assert all(m["uid"] for m in d["messages"])
PY
}

@test "--mda pipes each message; %F is the sender" {
	dovecot_seed mda "${HARD[@]}"
	mkdir "$W/out"
	run pf mda --mda "cat > $W/out/\$\$.eml; echo %F >> $W/senders" --delete
	[ "$status" -eq 0 ]
	same_messages "$W/out" "${HARD[@]}"
	grep -qx 'alice@example.org' "$W/senders"
	grep -qx 'hal@example.org' "$W/senders"
	[ "$(dovecot_count mda)" -eq 0 ]
}

@test "--mda failing: nothing deleted, exit 74, next run delivers" {
	make_corpus "$W" 2 300
	dovecot_seed mdaf "$W"/*.eml
	run pf mdaf --mda "cat > /dev/null; exit 1" --delete
	[ "$status" -eq 74 ]
	[[ "$output" == *"MDA: exit status 1"* ]]
	[ "$(dovecot_count mdaf)" -eq 2 ]
	mkdir "$W/out"
	run pf mdaf --mda "cat > $W/out/\$\$.eml" --delete
	[ "$status" -eq 0 ]
	same_messages "$W/out" "$W"/0000[12].eml
}

# delivered_count: messages in the maildir or mbox of this test.
delivered_count() {
	if [ -f "$W/mbox" ]; then
		grep -c '^From ' "$W/mbox" || true
	else
		find "$W/Mail/new" -type f 2>/dev/null | wc -l
	fi
}

# crash_loop USER TOTAL TARGET-ARGS...: kill popfetch with SIGKILL at
# random moments until all TOTAL messages are there, then run it once
# more.  At least two kills must have landed in the middle of a run, or
# the test proves nothing.
crash_loop() {
	local u=$1 total=$2 i n prev=0 mid=0 extra=0; shift 2
	for i in $(seq 1 40); do
		# popfetch itself, not a subshell, must be the process killed.
		"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
			"pop3s://$u@localhost:$DOVECOT_POP3S" "$@" > /dev/null 2>&1 &
		local pid=$!
		# The delay grows while kills make no progress, so that slow
		# builds (sanitizers) are killed mid-run too.
		local ms=$(( RANDOM % 40 + 1 + extra ))
		sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		n=$(delivered_count)
		[ "$n" -gt 0 ] && [ "$n" -lt "$total" ] && mid=$((mid + 1))
		[ "$n" -ge "$total" ] && break
		if [ "$n" -eq "$prev" ]; then extra=$((extra + 20)); else extra=$((extra / 2)); fi
		prev=$n
	done
	echo "kills in the middle of a run: $mid" >&3
	[ "$mid" -ge 2 ]
	run pf "$u" "$@"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "kill -9 at random moments with --delete: each message exactly once" {
	mkdir -p "$W/c"; make_corpus "$W/c" 1000 2000
	dovecot_seed crash1 "$W"/c/*.eml
	crash_loop crash1 1000 --maildir "$W/Mail" --delete
	same_messages "$W/Mail/new" "$W"/c/*.eml
	[ -z "$(ls -A "$W/Mail/tmp")" ]
	[ "$(dovecot_count crash1)" -eq 0 ]
}

@test "kill -9 at random moments with --keep --new: each message exactly once" {
	mkdir -p "$W/c"
	make_corpus "$W/c" 1000 2000
	dovecot_seed crash2 "$W"/c/*.eml
	crash_loop crash2 1000 --maildir "$W/Mail" --keep --new
	same_messages "$W/Mail/new" "$W"/c/*.eml
	[ -z "$(ls -A "$W/Mail/tmp")" ]
	[ "$(dovecot_count crash2)" -eq 1000 ]
}

@test "kill -9 at random moments into an mbox: each message exactly once" {
	mkdir -p "$W/c" "$W/split"
	make_corpus "$W/c" 1000 2000
	dovecot_seed crash3 "$W"/c/*.eml
	crash_loop crash3 1000 --mbox "$W/mbox" --delete
	python3 "$TOP/tests/lib/mbox_split.py" "$W/mbox" "$W/split"
	same_messages "$W/split" "$W"/c/*.eml
	[ ! -e "$W/mbox.lock" ]
}

@test "a full disk: exit 74, no partial message, nothing undelivered deleted" {
	mkdir -p "$W/tiny" "$W/c"
	if ! mount -t tmpfs -o size=96k tmpfs "$W/tiny" 2>/dev/null; then
		skip "cannot mount a small tmpfs here (needs root)"
	fi
	make_corpus "$W/c" 10 20000
	dovecot_seed full "$W"/c/*.eml
	run pf full --maildir "$W/tiny/Mail" --delete
	echo "$output"
	[ "$status" -eq 74 ]
	[[ "$output" == *"No space left on device"* ]]
	delivered=$(ls "$W/tiny/Mail/new" | wc -l)
	[ "$delivered" -gt 0 ] && [ "$delivered" -lt 10 ]
	[ -z "$(ls -A "$W/tiny/Mail/tmp")" ]
	[ "$(dovecot_count full)" -eq $(( 10 - delivered )) ]
	# Make room and run again until all is there: nothing twice.
	mkdir "$W/saved"
	for i in 1 2 3 4 5; do
		mv "$W"/tiny/Mail/new/* "$W/saved/" 2>/dev/null || true
		run pf full --maildir "$W/tiny/Mail" --delete
		[ "$status" -eq 0 ] && break
		[ "$status" -eq 74 ] || break
	done
	mv "$W"/tiny/Mail/new/* "$W/saved/" 2>/dev/null || true
	leftover=$(ls -A "$W/tiny/Mail/tmp")
	umount "$W/tiny"
	[ "$status" -eq 0 ]
	[ -z "$leftover" ]
	same_messages "$W/saved" "$W"/c/*.eml
	[ "$(dovecot_count full)" -eq 0 ]
}

@test "a locked mbox: exit 75, nothing fetched" {
	make_corpus "$W" 1 300
	dovecot_seed lock "$W"/*.eml
	sleep 30 & holder=$!
	echo "$holder" > "$W/mbox.lock"
	run pf lock --mbox "$W/mbox" --timeout 2 --delete
	kill "$holder"
	[ "$status" -eq 75 ]
	[[ "$output" == *"locked by another program"* ]]
	[ "$(dovecot_count lock)" -eq 1 ]
	[ ! -s "$W/mbox" ]
	# Another program's lock is stale only after five minutes without
	# change, whatever it holds (issue 12): a dead pid or an empty lock
	# still holds, an old one is taken over.
	wait "$holder" 2>/dev/null || true
	run pf lock --mbox "$W/mbox" --timeout 2 --delete
	[ "$status" -eq 75 ]
	[ "$(dovecot_count lock)" -eq 1 ]
	: > "$W/mbox.lock"
	touch -d '-3 seconds' "$W/mbox.lock"
	run pf lock --mbox "$W/mbox" --timeout 2 --delete
	[ "$status" -eq 75 ]
	touch -d '-6 minutes' "$W/mbox.lock"
	run pf lock --mbox "$W/mbox" --timeout 2 --delete
	[ "$status" -eq 0 ]
	[ "$(grep -c '^From ' "$W/mbox")" -eq 1 ]
	[ "$(dovecot_count lock)" -eq 0 ]
	[ ! -e "$W/mbox.lock" ]
}

@test "two runs on one account: the second exits 75 at once" {
	make_corpus "$W" 1 300
	dovecot_seed conc "$W"/*.eml
	mkdir -p "$HOME/.local/state/popfetch"
	st=$HOME/.local/state/popfetch/conc@localhost:$DOVECOT_POP3S
	flock "$st.lock" sleep 5 & holder=$!
	sleep 0.3
	run pf conc --maildir "$W/Mail"
	kill "$holder" 2>/dev/null || true
	[ "$status" -eq 75 ]
	[[ "$output" == *"another popfetch is running for this account"* ]]
	[ ! -e "$W/Mail" ]
}

@test "fetch without a target is a usage error" {
	run "$POPFETCH" --host localhost fetch
	[ "$status" -eq 64 ]
	[[ "$output" == *"--maildir DIR, --mbox FILE, --mda COMMAND, --lmtp SERVER or --smtp HOST:PORT"* ]]
	run "$POPFETCH" --host localhost --maildir a --mbox b
	[ "$status" -eq 64 ]
}
