#!/usr/bin/env bats
# The local store as a hostile neighbour, a failing disk and a careless
# user see it: planted links, foreign owners, missing parents, failed
# fsyncs and rollbacks, orphans, dot-locks and long runs of ">".  Each
# test asserts the exit status, the message, the bytes on disk and what
# the server kept.

bats_require_minimum_version 1.5.0

USERS="ln1 ln2 ln3 hl own1 own2 own3 par emp bad ord orph eio dbl xc1 xc2 xc3
xc4 xc5 lk1 lk2 lk3 lk4 gt sp1 sp2 sp3 jb nb1 nb2"

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
	chmod 755 "$W"
	# LeakSanitizer cannot run under ptrace (strace): off here,
	# on in every other file.
	export ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0}
}

teardown() {
	fake_stop
}

# pf USER ARGS: popfetch for USER over implicit TLS.
pf() {
	local u=$1; shift
	"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"pop3s://$u@localhost:$DOVECOT_POP3S" "$@"
}

# seed USER N: N small distinct messages on the server.
seed() {
	local i
	mkdir -p "$W/seed.$1"
	for i in $(seq 1 "$2"); do
		printf 'From: a@example.org\nSubject: %s %s\n\nbody %s\n' \
			"$1" "$i" "$i" > "$W/seed.$1/$i.eml"
	done
	dovecot_seed "$1" "$W/seed.$1"/*.eml
}

# journal_of USER: the state journal of USER's account.
journal_of() {
	echo "$HOME"/.local/state/popfetch/"$1"@*.journal
}

@test "a planted mbox symlink is refused: exit 73, its target untouched" {
	seed ln1 1
	printf 'ssh-ed25519 AAAA root@host\n' > "$W/authorized_keys"
	ln -s "$W/authorized_keys" "$W/mail.mbox"
	run pf ln1 --mbox "$W/mail.mbox" --delete
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *"mail.mbox: is a symbolic link; refusing to follow it"* ]]
	[ "$(cat "$W/authorized_keys")" = 'ssh-ed25519 AAAA root@host' ]
	[ "$(dovecot_count ln1)" -eq 1 ]
}

@test "a planted Maildir/new, tmp or cur symlink is refused: exit 73" {
	seed ln2 1
	for sub in new tmp cur; do
		rm -rf "$W/Mail" "$W/elsewhere"
		mkdir -p "$W/Mail/tmp" "$W/Mail/new" "$W/Mail/cur" "$W/elsewhere"
		rmdir "$W/Mail/$sub"
		ln -s "$W/elsewhere" "$W/Mail/$sub"
		run pf ln2 --maildir "$W/Mail" --delete
		echo "$sub: $output"
		[ "$status" -eq 73 ]
		[[ "$output" == *"Mail/$sub: is a symbolic link; refusing"* ]]
		[ -z "$(ls -A "$W/elsewhere")" ]
		[ -z "$(find "$W/Mail" -type f)" ]
		[ "$(dovecot_count ln2)" -eq 1 ]
	done
}

@test "a maildir that is a link of another user is refused (73); the user's own is followed" {
	[ "$(id -u)" = 0 ] || skip "needs root (to plant a link as another user)"
	seed ln3 1
	mkdir -p "$W/real/tmp" "$W/real/new" "$W/real/cur"
	ln -s "$W/real" "$W/Mail"
	chown -h nobody "$W/Mail"
	run pf ln3 --maildir "$W/Mail" --delete
	[ "$status" -eq 73 ]
	[[ "$output" == *"Mail: is a symbolic link; refusing"* ]]
	[ -z "$(find "$W/real" -type f)" ]
	[ "$(dovecot_count ln3)" -eq 1 ]
	chown -h root "$W/Mail"
	run pf ln3 --maildir "$W/Mail" --delete
	[ "$status" -eq 0 ]
	[ "$(ls "$W/real/new" | wc -l)" -eq 1 ]
	[ "$(dovecot_count ln3)" -eq 0 ]
}

@test "an mbox hard-linked to another file is refused: exit 73" {
	seed hl 1
	printf 'precious\n' > "$W/precious"
	ln "$W/precious" "$W/mbox"
	run pf hl --mbox "$W/mbox" --delete
	[ "$status" -eq 73 ]
	[[ "$output" == *"mbox: has 2 hard links; refusing to write to it"* ]]
	[ "$(cat "$W/precious")" = precious ]
	[ "$(dovecot_count hl)" -eq 1 ]
}

@test "root into a user's directory: the maildir and its mail are the user's" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	seed own1 2
	mkdir "$W/home.nobody"
	chown nobody:nogroup "$W/home.nobody"
	run pf own1 --maildir "$W/home.nobody/Mail" --delete
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(stat -c %U "$W/home.nobody/Mail")" = nobody ]
	for d in tmp new cur; do
		[ "$(stat -c %U "$W/home.nobody/Mail/$d")" = nobody ]
	done
	[ "$(find "$W/home.nobody/Mail/new" -type f -user nobody | wc -l)" -eq 2 ]
	[ "$(find "$W/home.nobody/Mail" ! -user nobody | wc -l)" -eq 0 ]
	[ "$(dovecot_count own1)" -eq 0 ]
}

@test "root into a user's directory: a new mbox is the user's" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	seed own2 1
	mkdir "$W/spool"
	chown nobody:nogroup "$W/spool"
	run pf own2 --mbox "$W/spool/nobody" --delete
	[ "$status" -eq 0 ]
	[ "$(stat -c %U:%a "$W/spool/nobody")" = nobody:600 ]
	grep -q '^Subject: own2 1$' "$W/spool/nobody"
	[ ! -e "$W/spool/nobody.lock" ]
}

@test "root into a user's directory: a file a third user owns is refused" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	seed own3 1
	mkdir "$W/spool"
	chown nobody:nogroup "$W/spool"
	printf 'From x Mon Jan  1 00:00:00 2026\n\nold\n\n' > "$W/spool/nobody"
	cp "$W/spool/nobody" "$W/before"
	chown daemon "$W/spool/nobody"
	run pf own3 --mbox "$W/spool/nobody" --delete
	[ "$status" -eq 73 ]
	[[ "$output" == *"spool/nobody: owned by uid $(id -u daemon), not by the user popfetch runs as"* ]]
	cmp "$W/spool/nobody" "$W/before"
	[ "$(dovecot_count own3)" -eq 1 ]
}

# spool DIR: a mail spool as Debian's /var/mail is: root's, group mail,
# group-writable, not sticky.
spool() {
	mkdir "$1"
	chown root:mail "$1"
	chmod 2775 "$1"
}

@test "root into a spool (/var/mail/USER): the user's own mailbox is used" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	seed sp1 1
	spool "$W/mail"
	printf 'From x Mon Jan  1 00:00:00 2026\n\nold\n\n' > "$W/mail/nobody"
	chown nobody:mail "$W/mail/nobody"
	chmod 660 "$W/mail/nobody"
	run pf sp1 --mbox "$W/mail/nobody" --delete
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^From ' "$W/mail/nobody")" -eq 2 ]
	grep -q '^Subject: sp1 1$' "$W/mail/nobody"
	[ "$(stat -c %U:%G "$W/mail/nobody")" = nobody:mail ]
	[ ! -e "$W/mail/nobody.lock" ]
	[ "$(dovecot_count sp1)" -eq 0 ]
}

@test "root into a spool: a new mailbox named after a user is that user's" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	seed sp2 1
	spool "$W/mail"
	run pf sp2 --mbox "$W/mail/nobody" --delete
	[ "$status" -eq 0 ]
	[ "$(stat -c %U:%G:%a "$W/mail/nobody")" = nobody:mail:600 ]
	grep -q '^Subject: sp2 1$' "$W/mail/nobody"
}

@test "root into a spool: a mailbox a group-mail neighbour planted is refused" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	seed sp3 1
	spool "$W/mail"
	# daemon plants nobody's mailbox (so as to read nobody's mail), and
	# a file that is nobody's under a name that is no user's.
	: > "$W/mail/nobody"
	chown daemon:mail "$W/mail/nobody"
	run pf sp3 --mbox "$W/mail/nobody" --delete
	[ "$status" -eq 73 ]
	[[ "$output" == *"mail/nobody: owned by uid $(id -u daemon), not by the user popfetch runs as"* ]]
	[ ! -s "$W/mail/nobody" ]
	: > "$W/mail/inbox"
	chown nobody:mail "$W/mail/inbox"
	run pf sp3 --mbox "$W/mail/inbox" --delete
	[ "$status" -eq 73 ]
	[[ "$output" == *"mail/inbox: owned by uid $(id -u nobody), not by the user popfetch runs as"* ]]
	[ ! -s "$W/mail/inbox" ]
	[ "$(dovecot_count sp3)" -eq 1 ]
}

@test "missing parents are made 0700, fsync'd, and the maildir with the first message" {
	seed par 1
	run strace -f -qq -y -o "$W/trace" -e trace=mkdir,mkdirat,fsync \
		"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"pop3s://par@localhost:$DOVECOT_POP3S" --maildir "$W/a/b/Mail" --delete
	[ "$status" -eq 0 ]
	# Every directory made (a, b, Mail, tmp, new, cur) is followed by
	# an fsync of its parent.
	python3 - "$W/trace" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
made = 0
for i, l in enumerate(lines):
    m = re.search(r'mkdirat\((\d+<[^>]*>), "([^"]+)".* = 0$', l)
    if not m:
        continue
    made += 1
    assert any(f"fsync({m.group(1)})" in x for x in lines[i + 1:]), l
assert made >= 6, made
PY
	[ "$(stat -c %a "$W/a")" = 700 ] && [ "$(stat -c %a "$W/a/b")" = 700 ]
	[ "$(stat -c %a "$W/a/b/Mail")" = 700 ]
	[ "$(ls "$W/a/b/Mail/new" | wc -l)" -eq 1 ]
	run pf par --mbox "$W/x/y/mbox"
	[ "$status" -eq 0 ]
	[ ! -e "$W/x" ]		# nothing to fetch: nothing made
}

@test "nothing is made when nothing is fetched or the login fails" {
	seed emp 1
	run pf emp --maildir "$W/M1" --keep
	[ "$status" -eq 0 ] && [ -d "$W/M1/new" ]
	# Now nothing new: a second target is never created.
	run pf emp --maildir "$W/M2" --keep --new
	[ "$status" -eq 0 ]
	[ ! -e "$W/M2" ]
	POPFETCH_PASSWORD=wrong run pf emp --maildir "$W/p/M3"
	[ "$status" -eq 77 ]
	[ ! -e "$W/p" ]
	POPFETCH_PASSWORD=wrong run pf emp --mbox "$W/q/mbox"
	[ "$status" -eq 77 ]
	[ ! -e "$W/q" ]
}

@test "a parent that is a file: exit 73, message names it" {
	seed bad 1
	printf x > "$W/file"
	run pf bad --maildir "$W/file/Mail" --delete
	[ "$status" -eq 73 ]
	[[ "$output" == *"file/Mail: Not a directory"* ]]
	[ "$(dovecot_count bad)" -eq 1 ]
}

@test "the batch's B records are fdatasync'd before the first rename into new/" {
	seed ord 3
	run strace -f -qq -y -o "$W/trace" -e trace=fdatasync,rename,renameat,renameat2 \
		"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"pop3s://ord@localhost:$DOVECOT_POP3S" --maildir "$W/Mail" --delete
	[ "$status" -eq 0 ]
	first_rename=$(grep -n 'rename.*/Mail/new' "$W/trace" | head -1 | cut -d: -f1)
	first_sync=$(grep -n 'fdatasync(.*\.journal>' "$W/trace" | head -1 | cut -d: -f1)
	[ -n "$first_rename" ] && [ -n "$first_sync" ]
	[ "$first_sync" -lt "$first_rename" ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 3 ]
}

# journal_syncs USER ARGS: a fetch for USER under strace; prints how
# many fdatasyncs the journal got.
journal_syncs() {
	local u=$1
	shift
	strace -f -qq -y -o "$W/trace.$u" -e trace=fdatasync \
		"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"pop3s://$u@localhost:$DOVECOT_POP3S" --maildir "$W/Mail.$u" "$@" \
		> /dev/null || return 1
	grep -c 'fdatasync(.*\.journal>' "$W/trace.$u"
}

@test "a batch's D records wait for the next batch's journal sync, but not when DELEs follow" {
	# 130 messages are three batches (64, 64, 2).  Keeping mail, each
	# batch costs one fdatasync of the journal: its B records before its
	# renames, which also carries the last batch's D records.  With
	# --delete the D records are durable before their DELEs: two.
	seed nb1 130
	seed nb2 130
	[ "$(journal_syncs nb1)" -eq 3 ]
	[ "$(journal_syncs nb2 --delete)" -eq 6 ]
	[ "$(ls "$W/Mail.nb1/new" | wc -l)" -eq 130 ]
	[ "$(ls "$W/Mail.nb2/new" | wc -l)" -eq 130 ]
	[ "$(dovecot_count nb1)" -eq 130 ]
	[ "$(dovecot_count nb2)" -eq 0 ]
	# Every message is recorded: a second run fetches nothing.
	run pf nb1 --maildir "$W/Mail.nb1"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages"* ]]
}

@test "popfetch's orphans in tmp/ are removed (another host's after 36 hours), nobody else's files are kept" {
	seed orph 1
	mkdir -p "$W/Mail/tmp" "$W/Mail/new" "$W/Mail/cur"
	host=$(hostname)
	# A popfetch that died (no such pid), and one of another program.
	dead=$(( $(cat /proc/sys/kernel/pid_max) - 1 ))
	printf part > "$W/Mail/tmp/1700000000.M1P${dead}Q1.$host"
	printf other > "$W/Mail/tmp/1700000000.M1P1Q1.otherhost"
	printf mine > "$W/Mail/tmp/courier.123"
	# Another host's, or this one's under another name, 3 days old:
	# the maildir's 36 hours are up.
	printf old > "$W/Mail/tmp/1700000000.M1P1Q2.oldname"
	touch -d '3 days ago' "$W/Mail/tmp/1700000000.M1P1Q2.oldname"
	run pf orph --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ ! -e "$W/Mail/tmp/1700000000.M1P${dead}Q1.$host" ]
	[ ! -e "$W/Mail/tmp/1700000000.M1P1Q2.oldname" ]
	[ -e "$W/Mail/tmp/1700000000.M1P1Q1.otherhost" ]
	[ -e "$W/Mail/tmp/courier.123" ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 1 ]
}

# nth_call TRACE SYSCALL PATTERN: the index (from 1) of the first
# SYSCALL in an strace -y log whose line matches PATTERN.
# Only popfetch's own calls count (strace -f numbers each process's
# apart): not those of the child that looks up the server's name.
nth_call() {
	local pid
	# popfetch is the oldest process: the lowest number.
	pid=$(grep -oE '^[0-9]+' "$1" | sort -n | head -1 || true)
	[ -z "$pid" ] || pid="$pid +"
	grep -E "^$pid$2\(" "$1" | grep -n -E "$3" | head -1 | cut -d: -f1
}

@test "EIO from fsync(new/): files in new/ stay pending (exit 74), recovery keeps them" {
	seed eio 3
	# A first run, undone, finds which fsync is the one of new/.
	run strace -f -qq -y -o "$W/t1" -e trace=fsync \
		"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"pop3s://eio@localhost:$DOVECOT_POP3S" --maildir "$W/Mail" --keep
	[ "$status" -eq 0 ]
	n=$(nth_call "$W/t1" fsync '/Mail/new>')
	[ -n "$n" ]
	rm -rf "$W/Mail" "$HOME/.local/state"
	run strace -f -qq -o /dev/null -e trace=fsync -e inject=fsync:error=EIO:when=$n \
		"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"pop3s://eio@localhost:$DOVECOT_POP3S" --maildir "$W/Mail" --delete
	echo "$output"
	[ "$status" -eq 74 ]
	[[ "$output" == *"Mail/new: fsync: Input/output error"* ]]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 3 ]
	j=$(journal_of eio)
	[ "$(grep -c '^B ' "$j")" -eq 3 ]
	! grep -q '^[AD] ' "$j"
	[ "$(dovecot_count eio)" -eq 3 ]	# nothing deleted
	run pf eio --maildir "$W/Mail" --delete
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 3 ]	# recovered, not fetched again
	[ "$(dovecot_count eio)" -eq 0 ]
	same_messages "$W/Mail/new" "$W/seed.eio"/*.eml
}

@test "mbox double fault (write ENOSPC, rollback EIO): pending, exit 74, once after" {
	seed dbl 1
	printf 'From old@example.org Mon Jan  1 00:00:00 2026\nSubject: old\n\nkept\n\n' > "$W/mbox"
	run strace -f -qq -o /dev/null -P "$W/mbox" -e trace=write,ftruncate \
		-e inject=write:error=ENOSPC:when=1 -e inject=ftruncate:error=EIO \
		"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"pop3s://dbl@localhost:$DOVECOT_POP3S" --mbox "$W/mbox" --delete
	echo "$output"
	[ "$status" -eq 74 ]
	[[ "$output" == *"recovered on the next run"* ]]
	j=$(journal_of dbl)
	[ "$(grep -c '^B ' "$j")" -eq 1 ]
	! grep -q '^[AD] ' "$j"
	[ "$(dovecot_count dbl)" -eq 1 ]
	run pf dbl --mbox "$W/mbox" --delete
	[ "$status" -eq 0 ]
	[ "$(grep -c '^From ' "$W/mbox")" -eq 2 ]
	[ "$(grep -c '^Subject: dbl 1$' "$W/mbox")" -eq 1 ]
	[ "$(dovecot_count dbl)" -eq 0 ]
}

@test "a journal write failing mid-batch: nothing published or deleted, exit 74, once after" {
	# A maildir path of about 3,000 bytes makes each held B record as
	# long, so the batch's records pass the 64 KB the journal holds
	# back, and the first write to the journal comes in the middle of
	# the batch.  Its failure must fail the batch: the B records written
	# with it are gone, so nothing of it may be published.
	local d=$W i
	for i in $(seq 1 12); do d=$d/$(printf 'd%.0s' $(seq 1 240)); done
	seed jb 40
	run strace -f -qq -y -o "$W/t1" -e trace=write \
		"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		--tls-server-name localhost "pop3s://jb@127.0.0.1:$DOVECOT_POP3S" \
		--maildir "$d/Mail" --keep
	[ "$status" -eq 0 ]
	n=$(nth_call "$W/t1" write '\.journal>')
	[ -n "$n" ]
	# It comes in the middle: after some of the batch's messages were
	# written to tmp/, before the others.
	k=$(grep -E 'write\([0-9]+<[^>]*(/Mail/tmp/|\.journal>)' "$W/t1" |
		grep -n '\.journal>' | head -1 | cut -d: -f1)
	echo "first journal write after $((k - 1)) messages"
	[ "$k" -gt 10 ] && [ "$k" -lt 40 ]
	rm -rf "$d/Mail" "$HOME/.local/state"
	run strace -f -qq -o /dev/null -e trace=write \
		-e inject=write:error=ENOSPC:when="$n" \
		"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		--tls-server-name localhost "pop3s://jb@127.0.0.1:$DOVECOT_POP3S" \
		--maildir "$d/Mail" --delete
	echo "$status $output"
	[ "$status" -eq 74 ]
	[[ "$output" == *".journal: No space left on device"* ]]
	[ -z "$(ls "$d/Mail/new")" ]
	[ "$(dovecot_count jb)" -eq 40 ]	# no DELE
	run "$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		--tls-server-name localhost "pop3s://jb@127.0.0.1:$DOVECOT_POP3S" \
		--maildir "$d/Mail" --delete
	echo "$status $output"
	[ "$status" -eq 0 ]
	[ "$(ls "$d/Mail/new" | wc -l)" -eq 40 ]
	[ -z "$(ls "$d/Mail/tmp")" ]
	[ "$(dovecot_count jb)" -eq 0 ]
	same_messages "$d/Mail/new" "$W/seed.jb"/*.eml
}

# xcode USER SYSCALL ERRNO STATUS: a failure injected into the first
# SYSCALL on a file in the maildir's tmp/ exits STATUS, and a clean run
# then delivers the message once.  A first run, undone, finds which call
# that is.  The server by its address: no resolver child, whose calls
# strace's when= would count too (it counts each process's own).
xcode() {
	local url=(--tls-server-name localhost "pop3s://$1@127.0.0.1:$DOVECOT_POP3S")
	seed "$1" 1
	run strace -f -qq -y -o "$W/t1" -e trace="$2" \
		"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"${url[@]}" --maildir "$W/Mail" --keep
	[ "$status" -eq 0 ]
	n=$(nth_call "$W/t1" "$2" '\([0-9]+<[^>]*/Mail/tmp[/>]')
	[ -n "$n" ]
	rm -rf "$W/Mail" "$HOME/.local/state"
	run strace -f -qq -o /dev/null -e trace="$2" \
		-e inject="$2":error="$3":when="$n" \
		"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"${url[@]}" --maildir "$W/Mail" --delete
	echo "$2 $3: $status $output"
	[ "$status" -eq "$4" ]
	[[ "$output" == *"Mail/tmp/"*": $(python3 -c "import os,errno;print(os.strerror(errno.$3))")"* ]]
	[ "$(dovecot_count "$1")" -eq 1 ]
	[ -z "$(find "$W/Mail" -type f)" ]
	run "$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 "${url[@]}" \
		--maildir "$W/Mail" --delete
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 1 ]
	[ "$(dovecot_count "$1")" -eq 0 ]
}

@test "exit codes: EDQUOT creating a maildir file is 74" {
	xcode xc1 openat EDQUOT 74
}

@test "exit codes: EIO creating a maildir file is 74" {
	xcode xc2 openat EIO 74
}

@test "exit codes: EROFS creating a maildir file is 74" {
	xcode xc3 openat EROFS 74
}

@test "exit codes: ENOSPC writing a maildir file is 74" {
	xcode xc4 write ENOSPC 74
}

@test "exit codes: EACCES creating a maildir file is 73" {
	xcode xc5 openat EACCES 73
}

@test "a fresh foreign dot-lock holds, empty or not: exit 75, nothing fetched" {
	seed lk1 1
	printf 'From x Mon Jan  1 00:00:00 2026\n\nold\n\n' > "$W/mbox"
	cp "$W/mbox" "$W/before"
	for content in '' '99999999' "$(( $(cat /proc/sys/kernel/pid_max) - 1 ))"; do
		printf '%s' "$content" > "$W/mbox.lock"
		touch -d '-4 minutes' "$W/mbox.lock"
		run pf lk1 --mbox "$W/mbox" --delete --timeout 2
		echo "[$content] $output"
		[ "$status" -eq 75 ]
		[[ "$output" == *"locked by another program"* ]]
		[ -e "$W/mbox.lock" ]
		cmp "$W/mbox" "$W/before"
	done
	[ "$(dovecot_count lk1)" -eq 1 ]
}

@test "a foreign dot-lock unchanged for 5 minutes is stale; a dead popfetch's at once" {
	seed lk2 2
	: > "$W/mbox.lock"
	touch -d '-6 minutes' "$W/mbox.lock"
	run pf lk2 --mbox "$W/mbox" --keep
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$W/mbox.lock" ]
	[ "$(grep -c '^From ' "$W/mbox")" -eq 2 ]
	dead=$(( $(cat /proc/sys/kernel/pid_max) - 1 ))
	printf '%s popfetch %s\n' "$dead" "$(hostname)" > "$W/mbox2.lock"
	run pf lk2 --mbox "$W/mbox2" --all --keep --state "$W/st2"
	[ "$status" -eq 0 ]
	[ ! -e "$W/mbox2.lock" ]
	[ "$(grep -c '^From ' "$W/mbox2")" -eq 2 ]
}

LOGIN='CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n
USER .* => +OK\r\n
PASS .* => +OK\r\n
DELE \d+ => +OK\r\n'

pf_fake() {
	"$POPFETCH" --tls none --allow-plaintext --timeout 60 --host 127.0.0.1 \
		-p "$FAKE_PORT" -u alice "$@"
}

@test "popfetch touches its own dot-lock while it holds it" {
	fake_start "$W" < <(printf '%s\n' 'UIDL => +OK\r\n1 a\r\n2 b\r\n3 c\r\n.\r\n' \
		'LIST => +OK\r\n1 40\r\n2 40\r\n3 40\r\n.\r\n' \
		'RETR 1 => +OK\r\nSubject: one\r\n\r\none\r\n.\r\n' \
		'RETR 2 => +OK\r\nSubject: two\r\n\r\ntwo\r\n.\r\n !sleep=32' \
		'RETR 3 => +OK\r\nSubject: three\r\n\r\nthree\r\n.\r\n !sleep=4' "$LOGIN")
	pf_fake --mbox "$W/mbox" 3>&- &
	pid=$!
	for i in $(seq 1 100); do [ -e "$W/mbox.lock" ] && break; sleep 0.05; done
	first=$(stat -c %Y "$W/mbox.lock")
	sleep 34
	later=$(stat -c %Y "$W/mbox.lock")
	wait "$pid"
	echo "first $first later $later"
	[ "$later" -ge $((first + 30)) ]
	[ ! -e "$W/mbox.lock" ]
	[ "$(grep -c '^From ' "$W/mbox")" -eq 3 ]
}

@test "popfetch removes only a dot-lock it made" {
	fake_start "$W" < <(printf '%s\n' 'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' \
		'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' \
		'RETR 1 => +OK\r\nSubject: one\r\n\r\none\r\n.\r\n' \
		'RETR 2 => +OK\r\nSubject: two\r\n\r\ntwo\r\n.\r\n !sleep=3' "$LOGIN")
	pf_fake --mbox "$W/mbox" 3>&- &
	pid=$!
	for i in $(seq 1 100); do [ -e "$W/mbox.lock" ] && break; sleep 0.05; done
	grep -q " popfetch " "$W/mbox.lock"
	# Someone breaks popfetch's lock and takes one of their own.
	rm "$W/mbox.lock"
	printf 'other\n' > "$W/mbox.lock"
	wait "$pid"
	[ "$(cat "$W/mbox.lock")" = other ]
	grep -q '^QUIT' "$W/fake.log"
}

@test "a >From line with a 40 KiB run of > across chunks is quoted" {
	mkdir -p "$W/gt"
	python3 -c 'import sys
sys.stdout.write("Subject: gt\n\n" + "x" * 16370 + "\n" + ">" * 40960 + "From here\nend\n")' \
		> "$W/gt/1.eml"
	dovecot_seed gt "$W/gt/1.eml"
	run pf gt --mbox "$W/mbox"
	[ "$status" -eq 0 ]
	python3 - "$W/mbox" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
assert b"\n" + b">" * 40961 + b"From here\n" in d, "not quoted"
assert b">" * 40962 not in d
PY
	mkdir "$W/split"
	python3 "$TOP/tests/lib/mbox_split.py" "$W/mbox" "$W/split"
	cmp "$W/split/1.eml" "$W/gt/1.eml"
}
