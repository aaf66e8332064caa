#!/usr/bin/env bats
# The state: damage told from a crash, foreign state refused, UIDs kept
# through a listing that misses them, recovery only on the configured
# target, no symbolic link followed, the files of others refused, and
# the state command.  Against a real Dovecot, except where a server must
# do what Dovecot will not (list nothing once): then tests/lib/fakepop.py.

bats_require_minimum_version 1.5.0

USERS="cut flip torn mid bob alice tok rec sym own link v1 cmd chk same ord cnt"

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
	W=$BATS_TEST_TMPDIR
	EDIT="python3 $TOP/tests/lib/state_edit.py"
}

teardown() {
	fake_stop
	if [ -n "${LOCKER:-}" ]; then kill "$LOCKER" 2>/dev/null || true; fi
}

# pf USER ARGS: popfetch for USER over implicit TLS.
pf() {
	local u=$1; shift
	"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 "pop3s://$u@localhost:$DOVECOT_POP3S" "$@"
}

# seeded USER N: N small messages on the server.
seeded() {
	local i
	for i in $(seq 1 "$2"); do
		printf 'Subject: %s %d\n\nbody %d\n' "$1" "$i" "$i" > "$W/$1-$i.eml"
		dovecot_seed "$1" "$W/$1-$i.eml"
	done
}

count_new() {
	find "$W/Mail/new" -type f 2>/dev/null | wc -l
}

@test "unit: the string builder of records and names, and the percent codec" {
	run "$TOP/tests/unit/util"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "a state cut short anywhere, empty, or its header without LF: 78, nothing fetched" {
	seeded cut 3
	run pf cut --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$(count_new)" -eq 3 ]
	cp "$W/st" "$W/good"
	size=$(wc -c < "$W/good")
	head1=$(head -1 "$W/good" | wc -c)
	# empty, in the header, the header alone, in a record, without the
	# trailer, in the trailer, the trailer without its LF
	tlen=$(tail -1 "$W/good" | wc -c)
	for cut in 0 10 "$head1" $((head1 + 7)) $((size - tlen)) $((size - 4)) $((size - 1)); do
		head -c "$cut" "$W/good" > "$W/st"
		run pf cut --state "$W/st" --maildir "$W/Mail"
		echo "cut $cut: $output"
		[ "$status" -eq 78 ]
		[[ "$output" == *"$W/st: damaged state file"* ]]
		[[ "$output" == *"nothing was fetched"* ]]
		[[ "$output" == *"popfetch state check"* && "$output" == *"state mark-seen"* ]]
		[ "$(count_new)" -eq 3 ]
		cmp -s "$W/st" <(head -c "$cut" "$W/good")	# left as it was
	done
	run pf cut --state "$W/st" state check
	[ "$status" -eq 78 ]
	cp "$W/good" "$W/st"
	run pf cut --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages ("* ]]
}

@test "a flipped byte in a UID, a time or the trailer: 78, nothing fetched" {
	seeded flip 3
	run pf flip --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	cp "$W/st" "$W/good"
	# Line 2 is "S SAVED", line 3 "U FIRST SEEN UID": flip a digit of
	# SAVED, the UID's last character, a digit of FIRST, and a digit of
	# the trailer's checksum.
	for edit in '2s/^S 1/S 2/' '3s/.$/z/' '3s/^U 1/U 2/' '$s/.$/x/'; do
		sed "$edit" "$W/good" > "$W/st"
		run cmp -s "$W/st" "$W/good"
		[ "$status" -eq 1 ]
		run pf flip --state "$W/st" --maildir "$W/Mail"
		echo "$edit: $output"
		[ "$status" -eq 78 ]
		[[ "$output" == *"$W/st: damaged state file"* ]]
		[ "$(count_new)" -eq 3 ]
	done
}

@test "a torn last journal record (a crash): recovered silently, exit 0, each message once" {
	seeded torn 2
	run pf torn --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	seeded torn 1
	# What a kill in the middle of a write leaves: the header and a B
	# record cut short, without its LF.
	id=$($EDIT ident "$W/st")
	{ $EDIT record "popfetch-journal 2 $id"; printf 'B 0000000'; } > "$W/st.journal"
	run pf torn --state "$W/st" --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "1 new message, "* ]]
	[ "$(count_new)" -eq 3 ]
	[ "$(cat "$W"/Mail/new/* | grep -c '^Subject: torn 1$')" -eq 2 ]	# seeded twice
	[ ! -s "$W/st.journal" ]
	# The same with NULs (a power loss after the size grew).
	{ $EDIT record "popfetch-journal 2 $id"; head -c 40 /dev/zero; } > "$W/st.journal"
	run pf torn --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages ("* ]]
	[ "$(count_new)" -eq 3 ]
}

@test "a journal record failing its check before the end: 78, nothing fetched" {
	seeded mid 2
	run pf mid --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	seeded mid 1
	id=$($EDIT ident "$W/st")
	{
		$EDIT record "popfetch-journal 2 $id" "A x"
		$EDIT record "D y 1700000000" | sed 's/D y/D z/'	# flipped
		$EDIT record "A w"
	} > "$W/st.journal"
	cp "$W/st.journal" "$W/journal.before"
	run pf mid --state "$W/st" --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/st.journal: damaged journal (record 3 fails its check)"* ]]
	[ "$(count_new)" -eq 2 ]
	cmp "$W/st.journal" "$W/journal.before"
}

@test "bob's state used for alice: 78, nothing fetched, nothing deleted" {
	seeded bob 2
	seeded alice 3
	run pf bob --state "$W/bob" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	run pf alice --state "$W/bob" --maildir "$W/Mail" --delete
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/bob: this state belongs to bob@localhost:$DOVECOT_POP3S, not to alice@localhost:$DOVECOT_POP3S"* ]]
	[ "$(dovecot_count alice)" -eq 3 ]
	[ "$(count_new)" -eq 2 ]
	# The same port, another user; the same user, another port.
	run "$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 --tls starttls \
		"pop3://bob@localhost:$DOVECOT_POP3" --state "$W/bob" --maildir "$W/Mail" --delete
	[ "$status" -eq 78 ]
	[ "$(dovecot_count bob)" -eq 2 ]
}

@test "a UID absent from one listing is kept; forgotten only after --forget-after days" {
	# A server that once lists nothing (Dovecot never does that).
	LIST2='UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n
LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n
RETR 1 => +OK\r\nSubject: one\r\n\r\nbody one\r\n.\r\n
RETR 2 => +OK\r\nSubject: two\r\n\r\nbody two\r\n.\r\n'
	LOGIN='CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n
USER .* => +OK\r\n
PASS .* => +OK\r\n'
	fake_start "$W" < <(printf '%s\n' "$LIST2" "$LOGIN")
	port=$FAKE_PORT
	pff() {
		"$POPFETCH" --tls none --allow-plaintext --timeout 3 --host 127.0.0.1 \
			-p "$port" -u alice --state "$W/st" --maildir "$W/Mail" "$@"
	}
	run pff
	[ "$status" -eq 0 ]
	[ "$(count_new)" -eq 2 ]
	fake_stop
	FAKE_BIND=$port fake_start "$W" < <(printf '%s\n' 'UIDL => +OK\r\n.\r\n' 'LIST => +OK\r\n.\r\n' "$LOGIN")
	run pff
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^U ' "$W/st")" -eq 2 ]
	fake_stop
	FAKE_BIND=$port fake_start "$W" < <(printf '%s\n' "$LIST2" "$LOGIN")
	run pff
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages ("* ]]
	! grep -q RETR "$W/fake.log"
	[ "$(count_new)" -eq 2 ]
	# Unlisted for longer than --forget-after: forgotten.
	fake_stop
	FAKE_BIND=$port fake_start "$W" < <(printf '%s\n' 'UIDL => +OK\r\n.\r\n' 'LIST => +OK\r\n.\r\n' "$LOGIN")
	run pff --forget-after 0
	[ "$status" -eq 0 ]
	[ "$(grep -c '^U ' "$W/st")" -eq 0 ]
}

@test "a journal token naming another file: 78, that file untouched, nothing fetched" {
	seeded tok 1
	printf 'From x Mon Jan  1 00:00:00 2026\nSubject: precious\n\nkeep me\n' > "$W/other"
	cp "$W/other" "$W/other.before"
	id="tok@localhost:$DOVECOT_POP3S"
	# "mbox 0 PATH", escaped: a roll-back there would cut it to 0 bytes.
	$EDIT record "popfetch-journal 2 $id" "B u1 mbox%200%20$W/other" > "$W/st.journal"
	run pf tok --state "$W/st" --mbox "$W/mbox"
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"damaged journal: a delivery in it names another place than $W/mbox"* ]]
	cmp "$W/other" "$W/other.before"
	[ ! -e "$W/mbox" ] || [ ! -s "$W/mbox" ]
	[ "$(dovecot_count tok)" -eq 1 ]
	grep -q '^B u1 ' "$W/st.journal"	# kept for the user to look at
}

@test "a recovery that fails (the mbox locked) keeps its pending record; the next run completes it" {
	seeded rec 1
	printf 'From old@example.org Mon Jan  1 00:00:00 2026\nSubject: old\n\nkept\n\n' > "$W/mbox"
	off=$(wc -c < "$W/mbox")
	# A partial message after it, as a killed run leaves, and its record.
	printf 'From rec@example.org Mon Jan  1 00:00:00 2026\nSubject: hal' >> "$W/mbox"
	id="rec@localhost:$DOVECOT_POP3S"
	$EDIT record "popfetch-journal 2 $id" "B u1 mbox%20$off%20$W/mbox" > "$W/st.journal"
	cp "$W/mbox" "$W/mbox.before"
	# Another program holds the mbox's fcntl lock for a while.
	python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' "$W/mbox" "$W/locked" &
	LOCKER=$!
	while [ ! -e "$W/locked" ]; do sleep 0.05; done
	run pf rec --state "$W/st" --mbox "$W/mbox"
	echo "$output"
	[ "$status" -eq 75 ]
	grep -q "^B u1 mbox%20$off%20" "$W/st.journal"
	cmp "$W/mbox" "$W/mbox.before"
	kill "$LOCKER"; wait "$LOCKER" || true; LOCKER=
	run pf rec --state "$W/st" --mbox "$W/mbox"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^Subject: hal' "$W/mbox")" -eq 0 ]
	[ "$(grep -c '^Subject: rec 1$' "$W/mbox")" -eq 1 ]
	[ "$(grep -c '^Subject: old$' "$W/mbox")" -eq 1 ]
	[ ! -s "$W/st.journal" ]
}

@test "a planted symbolic link for the state, its journal, lock or .new: 73, its target untouched" {
	seeded sym 1
	for suffix in "" .journal .lock .new; do
		rm -f "$W"/st "$W"/st.*
		printf 'precious\n' > "$W/victim"
		ln -s "$W/victim" "$W/st$suffix"
		run pf sym --state "$W/st" --maildir "$W/Mail"
		echo "[$suffix] $output"
		[ "$status" -eq 73 ]
		[[ "$output" == *"$W/st$suffix: is a symbolic link; popfetch never follows one"* ]]
		[ "$(cat "$W/victim")" = precious ]
		[ -L "$W/st$suffix" ]
		[ "$(count_new)" -eq 0 ]
	done
	# A dangling one is not created through either.
	rm -f "$W"/st "$W"/st.* "$W/victim"
	ln -s "$W/victim" "$W/st.lock"
	run pf sym --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 73 ]
	[ ! -e "$W/victim" ]
}

@test "an accounts file, password file, netrc or client key owned by someone else: refused (78)" {
	seeded own 1
	export XDG_CONFIG_HOME=$W/xdg
	mkdir -p "$XDG_CONFIG_HOME/popfetch"
	printf 'account x\n  url pop3s://own@localhost:%s\n  ca-file %s\n  password-command echo pw\n' \
		"$DOVECOT_POP3S" "$DOVECOT_CA" > "$XDG_CONFIG_HOME/popfetch/config"
	chmod 600 "$XDG_CONFIG_HOME/popfetch/config"
	chown nobody "$XDG_CONFIG_HOME/popfetch/config"
	run "$POPFETCH" -a x --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"config: owned by uid $(id -u nobody), not by you or root"* ]]
	[ ! -e "$W/Mail" ]
	rm "$XDG_CONFIG_HOME/popfetch/config"
	unset POPFETCH_PASSWORD
	printf 'pw\n' > "$W/pw"
	chmod 600 "$W/pw"
	chown nobody "$W/pw"
	run pf own --password-file "$W/pw" --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/pw: owned by uid $(id -u nobody), not by you or root"* ]]
	printf 'machine localhost login own password pw\n' > "$W/netrc"
	chmod 600 "$W/netrc"
	chown nobody "$W/netrc"
	run pf own --netrc-file "$W/netrc" --maildir "$W/Mail"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/netrc: owned by uid"* ]]
	# A client certificate and key: checked like the password file.
	cp "$DOVECOT_DIR/certs/server.pem" "$W/cert.pem"
	cp "$DOVECOT_DIR/certs/server.key" "$W/cert.key"
	chmod 600 "$W/cert.key"
	chown nobody "$W/cert.key"
	POPFETCH_PASSWORD=pw run pf own --client-cert "$W/cert.pem" --client-key "$W/cert.key" --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/cert.key: owned by uid $(id -u nobody), not by you or root"* ]]
	[ ! -e "$W/Mail/new" ] || [ "$(count_new)" -eq 0 ]
}

@test "a dotfile manager's symbolic links to the user's own files: accepted" {
	seeded link 1
	export XDG_CONFIG_HOME=$W/xdg
	mkdir -p "$XDG_CONFIG_HOME/popfetch" "$W/dotfiles"
	printf 'account x\n  url pop3s://link@localhost:%s\n  ca-file %s\n  password-file %s\n' \
		"$DOVECOT_POP3S" "$DOVECOT_CA" "$W/pwlink" > "$W/dotfiles/config"
	printf 'pw\n' > "$W/dotfiles/pw"
	chmod 600 "$W/dotfiles/config" "$W/dotfiles/pw"
	ln -s "$W/dotfiles/config" "$XDG_CONFIG_HOME/popfetch/config"
	ln -s "$W/dotfiles/pw" "$W/pwlink"
	unset POPFETCH_PASSWORD
	run "$POPFETCH" -a x --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(count_new)" -eq 1 ]
}

@test "a version 1 state is read once and written back as version 2" {
	seeded v1 2
	{
		echo 'popfetch-state 1'
		pf v1 uidl | while read -r n uid; do echo "U 1700000000 $uid"; done
	} > "$W/st"
	[ "$(wc -l < "$W/st")" -eq 3 ]
	run pf v1 --state "$W/st" --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages ("* ]]
	[ "$(head -1 "$W/st")" = "popfetch-state 2 v1@localhost:$DOVECOT_POP3S" ]
	[ "$(grep -c '^U 1700000000 [0-9]* ' "$W/st")" -eq 2 ]
	[ "$(tail -1 "$W/st" | cut -d' ' -f1-2)" = "E 2" ]
	run pf v1 --state "$W/st" state check
	[ "$status" -eq 0 ]
}

@test "state mark-seen records what the server holds, downloads nothing; show and check" {
	seeded cmd 3
	run pf cmd state mark-seen
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "3 messages recorded as delivered, 3 of them new to the state; none downloaded" ]
	[ "$(dovecot_count cmd)" -eq 3 ]
	run pf cmd --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages ("* ]]
	[ "$(count_new)" -eq 0 ]
	run pf cmd state show
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | wc -l)" -eq 3 ]
	diff <(echo "$output" | cut -d' ' -f3 | sort) <(pf cmd uidl | cut -d' ' -f2 | sort)
	[[ "$(echo "$output" | head -1)" =~ ^20[0-9-]+T[0-9:]+Z\ 20[0-9-]+T[0-9:]+Z\ [0-9a-f]+$ ]]
	run pf cmd --json state show
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["uids"]), d["pending"])')" = "3 0" ]
	run pf cmd state check
	[ "$status" -eq 0 ]
	[ "$output" = "state ok: 3 UIDs, 0 journal records, 0 deliveries unfinished" ]
	run pf cmd --json state check
	[ "$(echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ok"], d["version"], d["uids"])')" = "True 2 3" ]
	# A second mark-seen adds nothing.
	run pf cmd state mark-seen
	[ "$output" = "3 messages recorded as delivered, 0 of them new to the state; none downloaded" ]
}

@test "state: usage errors (64), and check on a damaged state (78)" {
	run pf chk state
	[ "$status" -eq 64 ]
	run pf chk state frobnicate
	[ "$status" -eq 64 ]
	run pf chk state import
	[ "$status" -eq 64 ]
	run pf chk state import "$W/nothing"
	[ "$status" -eq 64 ]
	[[ "$output" == *"needs the program that wrote the file: --from mpop|fetchmail|getmail"* ]]
	[ ! -e "$HOME/.local/state" ]
	printf 'popfetch-state 2 chk@localhost:%s\nU 1 1 a\n' "$DOVECOT_POP3S" > "$W/st"
	run pf chk --state "$W/st" state check
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/st: damaged state file (cut short: no trailer)"* ]]
}

@test "root keeping a state in another user's directory: the files are that user's, who can go on with them" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	seeded chk 1
	d=$(test_dir)
	chown nobody "$d"
	run pf chk --state "$d/st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$(stat -c %U "$d/st" "$d/st.journal" "$d/st.lock" | sort -u)" = nobody ]
	# A state file of a third user there is refused.
	chown daemon "$d/st"
	run pf chk --state "$d/st" --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *"$d/st: not a regular file of the invoking user"* ]]
	rm -rf "$d"
}

@test "a run that finds nothing new and nothing gone leaves the state file as it is" {
	seeded same 3
	run pf same --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$(count_new)" -eq 3 ]
	before=$(stat -c '%i %Y %s' "$W/st")
	cp "$W/st" "$W/st.before"
	sleep 1.1
	run pf same --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages ("* ]]
	# Not rewritten: the same file (inode), not touched (mtime), and
	# its journal empty.
	[ "$(stat -c '%i %Y %s' "$W/st")" = "$before" ]
	cmp "$W/st" "$W/st.before"
	[ ! -s "$W/st.journal" ]
	# A new message is recorded as always.
	seeded same 1
	run pf same --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$(count_new)" -eq 4 ]
	[ "$(grep -c '^U ' "$W/st")" -eq 4 ]
}

# Records lost (issue 12): a journal cut at a record boundary or deleted,
# or a state replaced by an older copy, against a fake server whose log
# shows every RETR.  lost_server N: it lists u1..uN, on the same port
# each time (the port is part of the account); lost_server N UID...:
# those UIDs instead.
lost_server() {
	local n=$1 i u='' l='' uids
	shift
	uids=("$@")
	for i in $(seq 1 "$n"); do
		u="$u$i ${uids[i - 1]:-u$i}\\r\\n"
		l="$l$i 40\\r\\n"
	done
	fake_stop
	FAKE_BIND=${LOST_PORT:-0} fake_start "$W" < <(
		printf '%s\n' 'CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n' \
			'USER .* => +OK\r\n' 'PASS .* => +OK\r\n' \
			"UIDL => +OK\\r\\n$u.\\r\\n" "LIST => +OK\\r\\n$l.\\r\\n" \
			'QUIT => +OK\r\n'
		for i in $(seq 1 "$n"); do
			h="Subject: lost $i\\r\\nMessage-ID: <lost-$i${LOST_TAG:-}@example.org>\\r\\n"
			printf '%s\n' "TOP $i 0 => +OK\\r\\n$h\\r\\n.\\r\\n" \
				"RETR $i => +OK\\r\\n$h\\r\\nbody $i\\r\\n.\\r\\n" \
				"LIST $i => +OK $i 40\\r\\n" "UIDL $i => +OK $i ${uids[i - 1]:-u$i}\\r\\n" \
				"DELE $i => +OK\\r\\n"
		done)
	LOST_PORT=$FAKE_PORT
}

# lpf ARGS: popfetch against the fake server, into $W/Mail.
lpf() {
	"$POPFETCH" --tls none --allow-plaintext --timeout 5 --host 127.0.0.1 \
		-p "$LOST_PORT" -u lost --state "$W/st" --maildir "$W/Mail" "$@"
}

# lost_file UID: the name of the file in new/ holding UID (its tag).
lost_file() {
	local h
	h=$(python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(sys.argv[1].encode()))' "$1")
	ls "$W/Mail/new" | grep "U$h\\."
}

# lost_once N: new/ and cur/ hold messages 1..N, each exactly once.
lost_once() {
	local got
	got=$(cat "$W"/Mail/new/* "$W"/Mail/cur/* 2>/dev/null | grep '^Subject:' | sort)
	[ "$got" = "$(for i in $(seq 1 "$1"); do echo "Subject: lost $i"; done | sort)" ]
}

# lost_run2: u1, u2 fetched; then u3, u4 fetched by a run killed at its
# second fsync, the snapshot's: after the batch's renames into new/ (the
# first fsync is new/'s) and the write of its D records into the journal.
lost_run2() {
	lost_server 2
	run lpf
	[ "$status" -eq 0 ]
	lost_server 4
	run strace -f -qq -o /dev/null -e trace=fsync \
		-e inject=fsync:signal=SIGKILL:when=2 \
		"$POPFETCH" --tls none --allow-plaintext --timeout 5 --host 127.0.0.1 \
		-p "$LOST_PORT" -u lost --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 137 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 4 ]
	grep -q '^D u4 ' "$W/st.journal"
}

# lost_all_there: the next run fetches nothing (no RETR since fake.log
# was emptied), every message is there once, and state check is clean.
lost_all_there() {
	run lpf
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages ("* ]]
	! grep -q RETR "$W/fake.log"
	lost_once 4
	run lpf state check
	[ "$status" -eq 0 ]
}

# lost_way_out N [INTACT]: state adopt records what the N files hold;
# then lost_all_there, and verify finds INTACT (4) copies intact (one
# that recovery resolved is recorded without what was stored).
lost_way_out() {
	: > "$W/fake.log"
	run lpf state adopt
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^$1\ files?\ adopted\ \(.*\):\ $1\ recorded\ as\ delivered,\ 0\ no\ longer\ on\ the\ server,\ 0\ to\ be\ fetched\ again ]]
	! grep -q RETR "$W/fake.log"
	lost_all_there
	# Adopted with what was stored: verify finds every copy intact.
	run lpf verify --offline
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *": ${2:-4} intact, 0 missing, 0 changed"* ]]
}

@test "recovery that cannot read new/ (a planted link) keeps its records pending: 73, and once new/ is back, each message once" {
	command -v strace >/dev/null || skip "strace is not installed"
	lost_run2
	cp "$W/st.journal" "$W/j.before"
	mv "$W/Mail/new" "$W/Mail/new.real"
	ln -s new.real "$W/Mail/new"
	: > "$W/fake.log"
	run lpf
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *"Mail/new: is a symbolic link; refusing to follow it"* ]]
	# Nothing rolled back, nothing fetched.
	cmp "$W/st.journal" "$W/j.before"
	! grep -q RETR "$W/fake.log"
	rm "$W/Mail/new"
	mv "$W/Mail/new.real" "$W/Mail/new"
	run lpf
	echo "$output"
	[ "$status" -eq 0 ]
	! grep -q RETR "$W/fake.log"
	lost_once 4
}

@test "records lost: a journal cut at a record boundary after a batch's renames: 78, nothing fetched; state adopt, then each message once" {
	command -v strace >/dev/null || skip "strace is not installed"
	lost_run2
	# Cut after "B u3": u3 is recovered from its file, u4 is lost.
	head -n 2 "$W/st.journal" > "$W/j" && cat "$W/j" > "$W/st.journal"
	grep -q '^B u3 ' "$W/st.journal"
	cp "$W/st" "$W/st.before"
	: > "$W/fake.log"
	run lpf
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/st: records lost: 1 message popfetch stored in $W/Mail/new is in neither this state nor its journal, which was cut short or deleted, or the state replaced by an older copy; nothing was fetched ($(lost_file u4))"* ]]
	[[ "$output" == *"popfetch state adopt records"* ]]
	! grep -q RETR "$W/fake.log"
	cmp "$W/st" "$W/st.before"	# nothing written over the evidence
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 4 ]
	# The same from a dry run and from state check.
	run lpf --dry-run
	[ "$status" -eq 78 ]
	run lpf state check
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/st: records lost: 1 message"* ]]
	lost_way_out 1 3
}

@test "a power cut that loses a batch's D records (written, not yet durable) loses nothing: recovery finds the files by their B records" {
	command -v strace >/dev/null || skip "strace is not installed"
	lost_run2
	# What fdatasync made durable: the header and the B records, before
	# the renames; the D records written after them are gone.
	grep -v '^D ' "$W/st.journal" > "$W/j" && cat "$W/j" > "$W/st.journal"
	grep -q '^B u4 ' "$W/st.journal"
	: > "$W/fake.log"
	lost_all_there
}

@test "records lost: a deleted journal: 78 naming both files, nothing fetched; state adopt, then each message once" {
	command -v strace >/dev/null || skip "strace is not installed"
	lost_run2
	rm "$W/st.journal"
	: > "$W/fake.log"
	run lpf
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/st: records lost: 2 messages popfetch stored in $W/Mail/new are in neither this state nor its journal, which was cut short"* ]]
	[[ "$output" == *"$(lost_file u3)"* && "$output" == *"$(lost_file u4)"* ]]
	[[ "$output" != *"$(lost_file u1)"* ]]
	! grep -q RETR "$W/fake.log"
	lost_way_out 2
}

@test "records lost: a state swapped for an older copy: 78, nothing fetched; state adopt, then each message once" {
	lost_server 2
	run lpf
	[ "$status" -eq 0 ]
	cp "$W/st" "$W/st.old"
	lost_server 4
	run lpf
	[ "$status" -eq 0 ]
	[[ "$output" == "2 new messages, "* ]]
	cp "$W/st.old" "$W/st"
	: > "$W/fake.log"
	run lpf
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/st: records lost: 2 messages popfetch stored in $W/Mail/new are in neither"* ]]
	! grep -q RETR "$W/fake.log"
	# Moved to cur/ meanwhile (a mail reader), it is adopted too.
	f=$(lost_file u3)
	mv "$W/Mail/new/$f" "$W/Mail/cur/$f:2,S"
	lost_way_out 2
}

@test "records lost: a deleted state is one that lost every record; a file whose message is gone from the server needs none" {
	lost_server 3
	run lpf --delete
	[ "$status" -eq 0 ]
	rm "$W/st" "$W/st.journal"
	lost_server 2	# u3 was deleted, u1 and u2 are back (say)
	: > "$W/fake.log"
	run lpf
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"records lost: 3 messages"* ]]
	! grep -q RETR "$W/fake.log"
	run lpf state adopt
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "3 files adopted ("*"): 2 recorded as delivered, 1 no longer on the server, 0 to be fetched again"* ]]
	run lpf
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages ("* ]]
	! grep -q RETR "$W/fake.log"
	lost_once 3
}

@test "records lost: state adopt leaves two UIDs that share a checksum to be fetched again, loses neither" {
	# CRC-32("c699378") = CRC-32("c18020006") = 4a2b4309.
	lost_server 3 u1 c699378 c18020006
	run lpf
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | grep -c U4a2b4309)" -eq 2 ]
	rm "$W/st" "$W/st.journal"
	run lpf
	[ "$status" -eq 78 ]
	[[ "$output" == *"records lost: 3 messages"* ]]
	run lpf state adopt
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "3 files adopted ("*"): 1 recorded as delivered, 0 no longer on the server, 2 to be fetched again"* ]]
	[ "$(grep -c '^U ' "$W/st")" -eq 1 ]
	: > "$W/fake.log"
	run lpf
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "2 new messages, "* ]]
	[ "$(grep -c '^RETR' "$W/fake.log")" -eq 2 ]
	! grep -q '^RETR 1$' "$W/fake.log"
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 5 ]
}

@test "records lost: state adopt does not take another message whose UID shares the checksum for the file's (their Message-IDs differ)" {
	# CRC-32("c699378") = CRC-32("c18020006") = 4a2b4309.
	LOST_TAG=.a lost_server 1 c699378
	run lpf
	[ "$status" -eq 0 ]
	rm "$W/st" "$W/st.journal"
	# The file's message has gone from the server; a new one, never
	# fetched, has a UID of the same checksum.
	LOST_TAG=.b lost_server 1 c18020006
	run lpf state adopt
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "1 file adopted ("*"): 0 recorded as delivered, 0 no longer on the server, 1 to be fetched again"* ]]
	grep -q '^TOP 1 0' "$W/fake.log"
	: > "$W/fake.log"
	run lpf
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^RETR 1$' "$W/fake.log"
	[ "$(grep -l 'lost-1.b@' "$W"/Mail/new/* | wc -l)" -eq 1 ]
	[ "$(grep -l 'lost-1.a@' "$W"/Mail/new/* | wc -l)" -eq 1 ]
}

@test "records lost: never for files moved to cur/ or removed, other programs', accounts' and hosts', old names, or messages forgotten" {
	lost_server 4
	run lpf
	[ "$status" -eq 0 ]
	a=$(lost_file u1)
	b=$(lost_file u2)
	c=$(lost_file u3)
	mv "$W/Mail/new/$a" "$W/Mail/cur/$a:2,S"
	rm "$W/Mail/new/$b"
	# Another program's, popfetch's before names had tags, another
	# account's and another host's, all dated after the state and
	# holding a UID the state lacks.
	t=$(( $(date +%s) + 5 ))
	host=${c#*.*.}
	acct=${c#*F}; acct=${acct%%U*}
	printf 'Subject: x\n\nx\n' > "$W/Mail/new/$t.M1P1Q1.otherprog"
	cp "$W/Mail/new/$c" "$W/Mail/new/$t.M2P1Q1.$host"
	cp "$W/Mail/new/$c" "$W/Mail/new/$t.M3P1Q1F00000000U0badf00d.$host"
	cp "$W/Mail/new/$c" "$W/Mail/new/$t.M5P1Q1F${acct}U0badf00d.otherhost"
	# (The same name on this host is lost: the test can fail.)
	cp "$W/Mail/new/$c" "$W/Mail/new/$t.M6P1Q1F${acct}U0badf00d.$host"
	run lpf
	[ "$status" -eq 78 ]
	[[ "$output" == *"records lost: 1 message "*"($t.M6P1Q1F${acct}U0badf00d.$host)"* ]]
	rm "$W/Mail/new/$t.M6P1Q1F${acct}U0badf00d.$host"
	: > "$W/fake.log"
	run lpf
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages ("* ]]
	run lpf state check
	[ "$status" -eq 0 ]
	rm "$W/Mail/new/$t".*
	# Deleted on the server, then forgotten at once: its file stays.
	run lpf --delete
	[ "$status" -eq 0 ]
	lost_server 0
	run lpf --forget-after 0
	[ "$status" -eq 0 ]
	[ "$(grep -c '^U ' "$W/st")" -eq 0 ]
	run lpf
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
}

# reads_new: whether a run read the names in new/ (strace).
reads_new() {
	strace -f -qq -y -e trace=getdents64 -o "$W/tr" "$POPFETCH" --tls none \
		--allow-plaintext --timeout 5 --host 127.0.0.1 -p "$LOST_PORT" \
		-u lost --state "$W/st" --maildir "$W/Mail" > "$W/out" 2>&1 || true
	grep -q 'getdents64([0-9]*</[^>]*/Mail/new>' "$W/tr"
}

# nothing_new read|skip: a run finds nothing new, having read new/ or
# having trusted the note and not read it.
nothing_new() {
	local want=1
	[ "$1" = read ] && want=0
	run reads_new
	[ "$status" -eq "$want" ]
	[[ "$(cat "$W/out")" == "no new messages ("* ]]
}

@test "records lost: new/ is read only when it changed since the state was written or last read; an older state is still caught" {
	command -v strace >/dev/null || skip "strace is not installed"
	lost_server 2
	run lpf
	[ "$status" -eq 0 ]
	cp "$W/st" "$W/st.old"
	lost_server 4
	run lpf
	[ "$status" -eq 0 ]
	run reads_new
	[ "$status" -eq 1 ]
	# Changed since (a mail reader took one): read once, nothing lost,
	# and what new/ looked like is noted beside the state.
	f=$(lost_file u1)
	mv "$W/Mail/new/$f" "$W/Mail/cur/$f:2,S"
	nothing_new read
	[[ "$(cat "$W/st.lock")" == "lost-check "* ]]
	# Within seconds of the change, a file could still be published
	# without changing new/'s time (coarse timestamps): the note is not
	# trusted yet, and new/ is read again.
	nothing_new read
	sleep 3
	nothing_new skip
	[[ "$(cat "$W/st.lock")" == "lost-check "* ]]
	# The note is for that state only: an older copy is read against.
	cp "$W/st.old" "$W/st"
	: > "$W/fake.log"
	run reads_new
	[ "$status" -eq 0 ]
	[[ "$(cat "$W/out")" == *"records lost: 2 messages"* ]]
	! grep -q RETR "$W/fake.log"
}

@test "records lost: a long host name: what was stored is still recorded, and lost records are still caught" {
	unshare --uts true 2>/dev/null || skip "needs unshare --uts"
	lost_server 1
	long=h$(printf 'x%.0s' $(seq 1 50)).example.org
	uts() {
		unshare --uts sh -c 'hostname "$1" && shift && exec "$@"' sh "$long" \
			"$POPFETCH" --tls none --allow-plaintext --timeout 5 --host 127.0.0.1 \
			-p "$LOST_PORT" -u lost --state "$W/st" --maildir "$W/Mail" "$@"
	}
	run uts
	echo "$output"
	[ "$status" -eq 0 ]
	f=$(lost_file u1)
	[[ "$f" == *".$long" ]]
	# U FIRST SEEN UID SIZE SHA256 WHERE MSGID
	[ "$(grep '^U ' "$W/st" | cut -d' ' -f7)" = "$f" ]
	rm "$W/st" "$W/st.journal"
	run uts
	[ "$status" -eq 78 ]
	[[ "$output" == *"records lost: 1 message"* ]]
}

@test "a snapshot rewritten keeps what was stored of each UID as it was, and lists the UIDs in the server's order" {
	seeded ord 5
	run pf ord --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$(count_new)" -eq 5 ]
	# Every field but the last listing time, per UID, before.
	awk '$1 == "U" { $3 = ""; print }' "$W/st" | sort > "$W/fields.before"
	[ "$(awk '$1 == "U" && NF == 8' "$W/st" | wc -l)" -eq 5 ]
	# Out of the server's order, and listed long enough ago that the
	# next run writes the snapshot again.
	$EDIT reverse-stale "$W/st"
	seeded ord 1
	run pf ord --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$(count_new)" -eq 6 ]
	[ ! -s "$W/st.journal" ]
	# The five copied over unchanged, the sixth added, every one listed
	# just now.
	awk '$1 == "U" { $3 = ""; print }' "$W/st" | sort > "$W/fields.after"
	[ "$(comm -23 "$W/fields.before" "$W/fields.after" | wc -l)" -eq 0 ]
	[ "$(comm -13 "$W/fields.before" "$W/fields.after" | wc -l)" -eq 1 ]
	[ "$(awk -v t="$(( $(date +%s) - 60 ))" '$1 == "U" && $3 >= t' "$W/st" | wc -l)" -eq 6 ]
	# In the order of the server's listing.
	pf ord --state "$W/st" uidl | awk '{ print $2 }' > "$W/listed"
	awk '$1 == "U" { print $4 }' "$W/st" > "$W/recorded"
	cmp "$W/listed" "$W/recorded"
	run pf ord --state "$W/st" verify --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "verify: 6 on the server: 6 intact, 0 missing, 0 changed, 0 not yet delivered, 0 unrecorded; 0 kept only locally" ]
}

@test "a trailer whose count is wrong, even far too large: 78, nothing fetched" {
	seeded cnt 3
	run pf cnt --state "$W/st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	cp "$W/st" "$W/good"
	for n in 2 4 4000000000; do
		cp "$W/good" "$W/st"
		$EDIT set-count "$W/st" "$n"
		! cmp -s "$W/st" "$W/good"
		seeded cnt 1
		run pf cnt --state "$W/st" --maildir "$W/Mail"
		echo "$n: $output"
		[ "$status" -eq 78 ]
		[[ "$output" == *"$W/st: damaged state file (3 records where its trailer says $n); nothing was fetched"* ]]
		[ "$(count_new)" -eq 3 ]
	done
}

# Issue 16: a run that delivers a few messages among many leaves the
# snapshot as it is and their records in the journal, where everything
# that reads the state finds them; the journal is folded into a new
# snapshot once it outgrows an eighth of it.
@test "a few delivered among many: the snapshot left as it is, the records kept in the journal and read from there; folded in past an eighth" {
	lost_server 400
	run lpf state mark-seen
	[ "$status" -eq 0 ]
	[ "$(grep -c '^U ' "$W/st")" -eq 400 ]
	[ ! -s "$W/st.journal" ]
	cp "$W/st" "$W/st.before"
	before=$(stat -c '%i %s' "$W/st")
	lost_server 403
	: > "$W/fake.log"
	run lpf
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^RETR ' "$W/fake.log")" -eq 3 ]
	# The snapshot untouched; the three D records, with what was
	# stored, in the journal.
	[ "$(stat -c '%i %s' "$W/st")" = "$before" ]
	cmp "$W/st" "$W/st.before"
	[ "$(grep -c '^D u40[123] [0-9]* [0-9]* [0-9a-f]\{64\} ' "$W/st.journal")" -eq 3 ]
	# Seen by the next run, state show, state check and verify.
	: > "$W/fake.log"
	run lpf
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages ("* ]]
	! grep -q '^RETR' "$W/fake.log"
	cmp "$W/st" "$W/st.before"
	run lpf state show
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | wc -l)" -eq 403 ]
	[ "$(echo "$output" | cut -d' ' -f3 | grep -c '^u40[123]$')" -eq 3 ]
	run lpf state check
	[ "$status" -eq 0 ]
	[[ "$output" == "state ok: 403 UIDs, "*" journal records, 0 deliveries unfinished" ]]
	[[ "$output" != *" 0 journal records"* ]]
	run lpf verify --offline
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *": 3 intact, 0 missing, 0 changed"* ]]
	# One of the three copies changed: verify reads its record from the
	# journal and says so.
	f=$(lost_file u402)
	printf 'X' >> "$W/Mail/new/$f"
	run lpf verify --offline
	[ "$status" -ne 0 ]
	[[ "$output" == *": 2 intact, 0 missing, 1 changed"* ]]
	truncate -s -1 "$W/Mail/new/$f"
	# Grown past an eighth of the snapshot: folded into a new one, the
	# journal emptied, what was stored carried over as recorded.
	grep '^D u40[123] ' "$W/st.journal" | cut -d' ' -f2,4-7 | sort > "$W/fields.jrn"
	lost_server 440
	run lpf
	[ "$status" -eq 0 ]
	[ "$(grep -c '^U ' "$W/st")" -eq 440 ]
	[ ! -s "$W/st.journal" ]
	[ "$(awk '$1 == "U" && NF == 8' "$W/st" | wc -l)" -eq 40 ]
	awk '$1 == "U" && $4 ~ /^u40[123]$/ { print $4, $5, $6, $7, $8 }' "$W/st" | sort > "$W/fields.snap"
	cmp "$W/fields.jrn" "$W/fields.snap"
	run lpf verify --offline
	[ "$status" -eq 0 ]
	[[ "$output" == *": 40 intact, 0 missing, 0 changed"* ]]
}

@test "records lost: the note a run leaves after storing is trusted only by a run that starts seconds later" {
	command -v strace >/dev/null || skip "strace is not installed"
	lost_server 400
	run lpf state mark-seen
	[ "$status" -eq 0 ]
	lost_server 403
	run lpf
	[ "$status" -eq 0 ]
	grep -q '^D u403 ' "$W/st.journal"
	# The run noted new/ as its own renames left it ...
	[[ "$(cat "$W/st.lock")" == "lost-check "* ]]
	# ... but a run that starts at once could publish within the same
	# coarse timestamp: it reads new/.
	nothing_new read
	lost_server 405
	run lpf
	[ "$status" -eq 0 ]
	grep -q '^D u405 ' "$W/st.journal"
	# Seconds later, new/ unchanged: not read.
	sleep 3.1
	nothing_new skip
	# The journal loses u404's and u405's records: caught all the same.
	grep -v ' u40[45] ' "$W/st.journal" > "$W/j" && cat "$W/j" > "$W/st.journal"
	run lpf
	[ "$status" -eq 78 ]
	[[ "$output" == *"records lost: 2 messages"* ]]
}

@test "records lost from a journal kept across runs: caught, though the last runs noted new/ unchanged" {
	lost_server 400
	run lpf state mark-seen
	[ "$status" -eq 0 ]
	lost_server 403
	run lpf
	[ "$status" -eq 0 ]
	grep -q '^D u403 ' "$W/st.journal"
	# A run that finds nothing new, seconds after new/ last changed,
	# reads it against the snapshot and the journal and notes what it
	# looked like, so the next one need not read it.
	sleep 3.1
	run lpf
	[ "$status" -eq 0 ]
	[[ "$(cat "$W/st.lock")" == "lost-check "* ]]
	if command -v strace >/dev/null; then
		nothing_new skip
	fi
	# The journal loses u403's records, new/ unchanged.
	grep -v ' u403 ' "$W/st.journal" > "$W/j" && cat "$W/j" > "$W/st.journal"
	cp "$W/st" "$W/st.before"
	: > "$W/fake.log"
	run lpf
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/st: records lost: 1 message popfetch stored in $W/Mail/new is in neither this state nor its journal"*"($(lost_file u403))"* ]]
	! grep -q RETR "$W/fake.log"
	cmp "$W/st" "$W/st.before"
	# Deleted whole, the same.
	rm "$W/st.journal"
	run lpf
	[ "$status" -eq 78 ]
	[[ "$output" == *"records lost: 3 messages"* ]]
	! grep -q RETR "$W/fake.log"
}
