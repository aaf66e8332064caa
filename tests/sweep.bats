#!/usr/bin/env bats
# Systematic sweeps over the system calls of a small fetch (3 messages,
# helpers in lib/sweep.bash): a SIGKILL at each chosen call, then errors
# (ENOSPC and EIO on write, fsync and fdatasync; EXDEV on rename; EMFILE
# on openat) injected into each call on the store and the state.  Every
# point is followed by a clean run that must exit 0 with every message
# in the target exactly once, tmp/ empty, no dot-lock left, and the
# server empty after --delete (or untouched after --keep).  For an MDA,
# which cannot be asked, the promise is every message at least once and
# at most the one whose MDA had not exited repeated.  Each test
# prints how many points it ran to fd 3.

bats_require_minimum_version 1.5.0

USERS="swa swb swc swd swe swf swg"

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
	load lib/sweep
	command -v strace >/dev/null || skip "strace is not installed"
	W=$BATS_TEST_TMPDIR
	chmod 755 "$W"
	# LeakSanitizer cannot run under ptrace (strace): off here,
	# on in every other file.
	export ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0}
}

# any_status: a killed run may end any way at all.
any_status() {
	return 0
}

# store_error STATUS OUTPUT: a clear local error, 73 or 74, or 0 where
# the failing call was one popfetch may do without (the orphan scan).
store_error() {
	case $1 in
	73|74) [[ "$2" == popfetch:* ]] ;;
	*) return 1 ;;
	esac
}

# crash KIND USER ARGS...: the SIGKILL sweep of one scenario.
crash() {
	local kind=$1 u=$2
	shift 2
	sweep_calls "$u" "$@"
	SWEEP_PER_KIND=3 sweep_points > "$W/points"
	sweep_run "$kind" "$u" signal=SIGKILL "$W/points" any_status "$@" |
		tee "$W/bad"
	echo "# $kind: $(wc -l < "$W/points") kill points over $(cut -d' ' -f1 "$W/points" | sort -u | wc -l) kinds of $(wc -l < "$W/calls") calls, $(wc -l < "$W/bad") bad" >&3
	[ ! -s "$W/bad" ]
}

# errors KIND USER ARGS...: the error sweep of one scenario.
errors() {
	local kind=$1 u=$2 sys n e
	shift 2
	sweep_calls "$u" "$@"
	: > "$W/bad"
	SWEEP_ONLY_W=1 SWEEP_PER_KIND=4 sweep_points write fsync fdatasync \
		rename renameat renameat2 openat > "$W/points"
	: > "$W/all"
	while read -r sys n; do
		case $sys in
		write|fsync|fdatasync) e="ENOSPC EIO" ;;
		rename*) e=EXDEV ;;
		openat) e=EMFILE ;;
		esac
		for e in $e; do
			echo "$sys $n" > "$W/one"
			sweep_run "$kind" "$u" "error=$e" "$W/one" store_error "$@" |
				tee -a "$W/bad"
			echo "$sys $n $e" >> "$W/all"
		done
	done < "$W/points"
	echo "# $kind: $(wc -l < "$W/all") error points, $(wc -l < "$W/bad") bad" >&3
	[ ! -s "$W/bad" ]
}

@test "crash sweep: maildir --delete" {
	crash maildir-delete swa --maildir "$W/Mail" --delete
}

@test "crash sweep: maildir --keep --new" {
	crash maildir-keep swb --maildir "$W/Mail" --keep --new
}

# second_pre USER: a first run fetched the seed and kept it; SWEEP_N
# more messages have arrived since.  The swept run is the second, with a
# state and the first run's files there.
second_pre() {
	local i
	sweep_pf "$1" --maildir "$W/Mail" --keep > /dev/null 2>&1
	if [ ! -d "$W/seed2" ]; then
		mkdir -p "$W/seed2"
		for i in $(seq 1 "$SWEEP_N"); do
			printf 'From: s@example.org\nSubject: second %s\n\nlater %s\n' \
				"$i" "$i" > "$W/seed2/$i.eml"
		done
	fi
	dovecot_seed "$1" "$W/seed2"/*.eml
}

@test "crash sweep: maildir --keep, a second run over the first one's state and files (never 78)" {
	SWEEP_PRE=second_pre crash maildir-second swg --maildir "$W/Mail" --keep
}

@test "crash sweep: mbox --delete" {
	crash mbox-delete swc --mbox "$W/mbox" --delete
}

@test "crash sweep: MDA --delete (at most the one message in flight repeated)" {
	crash mda-delete swf --delete \
		--mda "cat > $W/mda/t.\$\$ && mv $W/mda/t.\$\$ $W/mda/m.\$\$"
}

@test "error sweep: maildir --delete" {
	errors maildir-delete swd --maildir "$W/Mail" --delete
}

@test "error sweep: mbox --delete" {
	errors mbox-delete swe --mbox "$W/mbox" --delete
}
