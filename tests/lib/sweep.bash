# sweep.bash: systematic crash and error sweeps over the system calls of
# a small fetch (tests/sweep.bats).
#
# A scenario is a Dovecot user with SWEEP_N messages and popfetch
# arguments (a target and a policy).  sweep_calls runs it once under
# strace and lists its system calls; sweep_points picks the call
# numbers to hit (every one of a kind that is rare, a spread of those
# that are common, so that every kind is covered within the time
# budget); sweep_crash and sweep_error then run the scenario once per
# point with strace injecting SIGKILL or an error, follow each with a
# clean run, and check the outcome with sweep_check.
#
# Needs: load lib/common, a running Dovecot (suite_start), and $W.

SWEEP_N=3
# At most this many points per system call kind (first, last, spread).
SWEEP_PER_KIND=${SWEEP_PER_KIND:-6}

# sweep_pf USER ARGS...: popfetch for USER over plain POP3 on loopback
# (no TLS: fewer calls to sweep, the same store code).
sweep_pf() {
	local u=$1; shift
	POPFETCH_PASSWORD=pw "$POPFETCH" --tls none --allow-plaintext \
		--timeout 10 --host 127.0.0.1 -p "$DOVECOT_POP3" -u "$u" \
		--state "$W/state" "$@"
}

# sweep_reset USER: the server holds the scenario's messages again, and
# nothing is left locally; then SWEEP_PRE USER, if set, runs (say, a
# first fetch for the swept run to come after).
sweep_reset() {
	local u=$1 i
	rm -rf "$W/Mail" "$W/mbox" "$W"/mbox.lock "$W"/state* "$W/mda"
	mkdir "$W/mda"
	find "$DOVECOT_DIR/mail/$u/new" "$DOVECOT_DIR/mail/$u/cur" -type f -delete
	if [ ! -d "$W/seed" ]; then
		mkdir -p "$W/seed"
		for i in $(seq 1 "$SWEEP_N"); do
			printf 'From: s@example.org\nSubject: sweep %s\n\nFrom the body %s\n>From quoted\n' \
				"$i" "$i" > "$W/seed/$i.eml"
		done
	fi
	dovecot_seed "$u" "$W/seed"/*.eml
	if [ -n "${SWEEP_PRE:-}" ]; then "$SWEEP_PRE" "$u"; fi
}

# sweep_calls USER ARGS...: runs the scenario once under strace -f -y and
# leaves the log in $W/calls (one call a line, "NAME FD-PATH-OR-ARG").
sweep_calls() {
	local u=$1; shift
	sweep_reset "$u"
	POPFETCH_PASSWORD=pw strace -f -qq -y -o "$W/trace" "$POPFETCH" \
		--tls none --allow-plaintext --timeout 10 --host 127.0.0.1 \
		-p "$DOVECOT_POP3" -u "$u" --state "$W/state" "$@" >/dev/null 2>&1
	python3 - "$W/trace" > "$W/calls" <<'PY'
import re, sys
for l in open(sys.argv[1], errors="replace"):
    l = re.sub(r"^\d+ +", "", l.rstrip("\n"))
    m = re.match(r"([a-z0-9_]+)\((.*)", l)
    if m and not l.startswith("+++") and not l.startswith("---"):
        print(m.group(1), m.group(2)[:200])
PY
}

# sweep_points [KIND...]: "SYSCALL N" lines to hit, N counting that
# call from the start of the run, as strace's when= does.  With no KIND,
# every kind in $W/calls.  Calls on the test's own files (their
# arguments name $W: the store and the state) are the ones that matter:
# up to SWEEP_PER_KIND of each kind (first, last, a spread between).  A
# kind that never touches them (the dynamic loader's mmap, the socket's
# recvfrom) still gets one point, its last call.  With SWEEP_ONLY_W set,
# such kinds are left out (error injection into library loading tests
# the loader, not popfetch).  The accounts file is not the store's: its
# calls never count as the test's own.
sweep_points() {
	python3 - "$W/calls" "$SWEEP_PER_KIND" "$W/" "${SWEEP_ONLY_W:-}" "$@" <<'PY'
import sys
path, per, w, only_w, kinds = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    sys.argv[4], sys.argv[5:]
seen, ours, last = {}, {}, {}
for l in open(path):
    name, _, args = l.rstrip("\n").partition(" ")
    seen[name] = seen.get(name, 0) + 1
    if kinds and name not in kinds:
        continue
    last[name] = seen[name]
    if w in args and "/xdg-config/" not in args:
        ours.setdefault(name, []).append(seen[name])
for name in sorted(last):
    ns = ours.get(name)
    if not ns:
        if only_w:
            continue
        ns = [last[name]]
    if len(ns) > per:
        idx = sorted({round(i * (len(ns) - 1) / (per - 1)) for i in range(per)})
        ns = [ns[i] for i in idx]
    for n in ns:
        print(name, n)
PY
}

# sweep_check USER KIND: after a clean run, every message is in the
# target exactly once (for an MDA: at least once, one repeated at most), tmp/ is empty, no dot-lock is left, and (delete)
# the server is empty or (keep) still holds every message.  Plain shell
# and coreutils: it runs after every point.
sweep_check() {
	local u=$1 kind=$2 want got
	# $W/seed2: messages that came after a first run (SWEEP_PRE).
	want=$(sha256sum "$W/seed"/*.eml ${SWEEP_PRE:+"$W/seed2"/*.eml} |
		cut -d' ' -f1 | sort)
	case $kind in
	maildir-*)
		if [ -n "$(ls -A "$W/Mail/tmp")" ]; then
			echo "tmp/ not empty: $(ls "$W/Mail/tmp")"
			return 1
		fi
		got=$(find "$W/Mail/new" "$W/Mail/cur" -type f -exec sha256sum {} + |
			cut -d' ' -f1 | sort) ;;
	mbox-*)
		if [ -e "$W/mbox.lock" ]; then
			echo "dot-lock left"
			return 1
		fi
		rm -rf "$W/split"
		mkdir "$W/split"
		# mboxrd back to messages: a From line starts one, the empty
		# line before the next From line ends it, one ">" comes off.
		awk -v d="$W/split" '
			/^From / { if (f) close(f); f = d "/" ++n; pend = 0; next }
			{ while (pend > 0) { print "" > f; pend-- } }
			/^$/ { pend++; next }
			/^>+From / { sub(/^>/, "") }
			{ print > f }' "$W/mbox"
		got=$(find "$W/split" -type f -exec sha256sum {} + | cut -d' ' -f1 | sort) ;;
	mda-*)
		# An MDA cannot be asked whether it delivered: a crash may
		# repeat the one message whose MDA had not yet exited
		# (popfetch(1), DELIVERY), never more, and loses none.  The
		# MDA of the test files each message whole or not at all.
		got=$(find "$W/mda" -type f -name 'm.*' -exec sha256sum {} + |
			cut -d' ' -f1 | sort)
		if [ -n "$(comm -23 <(echo "$want") <(echo "$got"))" ]; then
			echo "messages: want $(wc -l <<<"$want"), a message lost"
			return 1
		fi
		if [ "$(wc -l <<<"$got")" -gt $(( SWEEP_N + 1 )) ]; then
			echo "messages: $(wc -l <<<"$got") for $SWEEP_N: more than one repeated"
			return 1
		fi
		got=$want ;;
	esac
	if [ "$got" != "$want" ]; then
		echo "messages: want $(wc -l <<<"$want"), got $(wc -l <<<"$got"), $(sort <<<"$got" | uniq -d | wc -l) duplicated"
		return 1
	fi
	case $kind in
	*-delete) [ "$(dovecot_count "$u")" -eq 0 ] ||
		{ echo "server not empty"; return 1; } ;;
	*-keep) [ "$(dovecot_count "$u")" -eq "$SWEEP_N" ] ||
		{ echo "server lost mail"; return 1; } ;;
	esac
}

# sweep_run KIND USER INJECT POINTS-FILE CHECK-STATUS ARGS...: for each
# "SYSCALL N" line, reset, run with strace injecting INJECT (e.g.
# signal=SIGKILL or error=EIO) into the Nth SYSCALL, check the injected
# run's status with CHECK-STATUS (a function given status and output),
# then a clean run (exit 0) and sweep_check.  Prints bad points; sets
# SWEEP_RAN and SWEEP_BAD.
sweep_run() {
	local kind=$1 u=$2 inject=$3 points=$4 check=$5 sys n out st
	shift 5
	SWEEP_RAN=0 SWEEP_BAD=0
	while read -r sys n; do
		sweep_reset "$u"
		out=$(POPFETCH_PASSWORD=pw strace -f -qq -o /dev/null \
			-e trace="$sys" -e inject="$sys:$inject:when=$n" \
			"$POPFETCH" --tls none --allow-plaintext --timeout 10 \
			--host 127.0.0.1 -p "$DOVECOT_POP3" -u "$u" \
			--state "$W/state" "$@" 2>&1) && st=0 || st=$?
		SWEEP_RAN=$((SWEEP_RAN + 1))
		if ! "$check" "$st" "$out"; then
			echo "bad: $sys $n $inject: injected run: $st $out"
			SWEEP_BAD=$((SWEEP_BAD + 1))
			continue
		fi
		out=$(sweep_pf "$u" "$@" 2>&1) && st=0 || st=$?
		if [ "$st" -ne 0 ]; then
			echo "bad: $sys $n $inject: clean run: $st $out"
			SWEEP_BAD=$((SWEEP_BAD + 1))
			continue
		fi
		if ! out=$(sweep_check "$u" "$kind" 2>&1); then
			out=${out//$'\n'/ }
			echo "bad: $sys $n $inject: $out"
			SWEEP_BAD=$((SWEEP_BAD + 1))
		fi
	done < "$points"
}
