#!/usr/bin/env bash
# make bench: popfetch against the peers that are installed (mpop,
# fetchmail, getmail6) and a raw pipelined baseline (openssl s_client fed
# every RETR at once, its output counted), on one throwaway Dovecot on
# loopback.  Not a test: it prints a table.  Every fetched mailbox is
# checked against the corpus, so a fast wrong answer cannot pass.
#
# BENCH_SCENARIOS: COUNTxSIZE[:variant] ..., variants:
#     (none)    implicit TLS into a maildir on tmpfs (/dev/shm)
#     disk      the maildir on a real disk (BENCH_DISK, default /var/tmp),
#               where durability costs fsyncs
#     mbox      into an mbox on tmpfs
#     starttls  STARTTLS instead of implicit TLS
#     rtt50     through a proxy that adds 50 ms of round trip
#     known     every message fetched before (by an untimed first run):
#               the timed runs find nothing new; raw is the UIDL listing
#               alone (USER, PASS, UIDL, QUIT)
#     new1000   1,000 messages added before each timed run on top of those
#               known: each tool fetches just those; raw RETRs them
# Without a variant a "rawlist" row is the raw read with UIDL and LIST in
# front, in the same burst: the least a client that keeps state (and so
# must know each message's UID, and its size to bound what it takes)
# has the server do.
# Into a maildir (no variant, or disk) a "files" row is the floor: the
# file work alone (tests/bench/files.c: create, write, close, rename, and
# popfetch's syncs per batch of 64), no network, which any maildir client
# spends at the least.  The ratio line shows it against mpop's CPU, and
# what popfetch spends beyond it (network, TLS, parsing, the state)
# against the raw read's whole CPU.  Where both floors ran, a second line
# puts them against mpop: rawlist's wall time (how fast this server
# serves a client that keeps state and does nothing else) and the files
# row's CPU plus the raw read's (a maildir client that spends nothing
# beyond the file work and openssl's read): the ratios to mpop that a
# client doing only what it must would score on this machine.
# Next to each tool's wall time, CPU time and peak RSS, the table shows the
# server's CPU time during the run (Dovecot's processes, from /proc), since
# on a small machine the server's work is part of the client's wall time.
# BENCH_REPS: runs per tool, alternating (default 3; the median is shown).
# BENCH_SLOW_MAX: fetchmail and getmail6 take minutes for 20,000
#     messages; they run only in scenarios of at most this many messages
#     (default 2000) and only into maildirs over implicit TLS.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/common.bash"
scenarios=${BENCH_SCENARIOS:-"20000x2000 2000x20000 2000x2000:disk 20000x2000:mbox 20000x2000:starttls 300x2000:rtt50 2000x2000 1x200000000 100000x500 1000x500 100000x500:known 100000x500:new1000"}
reps=${BENCH_REPS:-3}
slow_max=${BENCH_SLOW_MAX:-2000}
work=$(mktemp -d "${TMPDIR:-/tmp}/popfetch-bench.XXXXXX")
chmod 755 "$work"
shm=$(mktemp -d /dev/shm/popfetch-bench.XXXXXX)
disk=$(mktemp -d "${BENCH_DISK:-/var/tmp}/popfetch-bench.XXXXXX")
chmod 755 "$shm" "$disk"
proxy_pid=
trap 'set +e; [ -n "$proxy_pid" ] && kill $proxy_pid; dovecot_stop; rm -rf "$work" "$shm" "$disk"' EXIT
dovecot_start "$work/dovecot" > /dev/null
${CC:-cc} -O2 -D_GNU_SOURCE -o "$work/files" "$top/tests/bench/files.c"
export POPFETCH_PASSWORD=pw HOME=$work/home XDG_CONFIG_HOME=$work/xdg
mkdir -p "$HOME"

python3 "$top/tests/bench/delay.py" "$work/proxy.port" "$DOVECOT_POP3S" 25 &
proxy_pid=$!
for _ in $(seq 1 100); do [ -s "$work/proxy.port" ] && break; sleep 0.05; done
proxy_port=$(cat "$work/proxy.port")

have() { command -v "$1" > /dev/null; }

# server_ticks: the CPU time (in clock ticks) used so far by the Dovecot
# instance: its master and every live process under it, with what each
# has reaped of its children (fields 14-17 of /proc/PID/stat).  The
# difference over a run is the server's CPU time for that run: a
# process that ends in between is counted by its parent's reaped times.
server_ticks() {
	local master pids
	master=$(cat "$DOVECOT_DIR/run/master.pid")
	pids=$(ps -o pid= --ppid "$master" 2>/dev/null | tr -d ' ')
	for p in $master $pids; do
		cat "/proc/$p/stat" 2>/dev/null || true
	done | sed 's/^.*) //' | awk '{ t += $12 + $13 + $14 + $15 } END { print t + 0 }'
}
ticks_per_s=$(getconf CLK_TCK)

# timed CMD...: runs CMD, prints "wall_ms cpu_s rss_kb server_cpu_s"
timed() {
	local t0 t1 out s0 s1
	s0=$(server_ticks)
	t0=$(date +%s%N)
	/usr/bin/time -o "$work/time" -f '%U %S %M' "$@" > /dev/null \
		2> "$work/err" ||
		{ echo "$1 failed: $(cat "$work/err")" >&2; return 1; }
	t1=$(date +%s%N)
	# The server may still be finishing the session (QUIT, logout).
	sleep 0.2
	s1=$(server_ticks)
	out=$(tail -n 1 "$work/time")
	set -- $out
	echo "$(( (t1 - t0) / 1000000 )) $(echo "$1 + $2" | bc) $3 $(echo "scale=2; ($s1 - $s0) / $ticks_per_s" | bc)"
}

# run TOOL: one fetch of every message into $dest; prints the timing.
run() {
	local tool=$1 tls=implicit port=$DOVECOT_POP3S
	case $variant in
	starttls) tls=starttls port=$DOVECOT_POP3 ;;
	rtt50) port=$proxy_port ;;
	esac
	local only_new=off pfnew=--all
	case $variant in
	known|new1000)
		# The state and the mailbox of the untimed first run stay.
		only_new=on pfnew=--new dest=$shm/dest.$variant.$tool ;;
	*)
		rm -rf "$statedir/state"* "$work/getmail"
		[ "$variant" = disk ] || rm -rf "$dest" ;;
	esac
	if [ "$variant" = disk ]; then
		# Deleting files costs a disk (discard, journal) for seconds
		# afterwards: each run gets a fresh directory, and starts once
		# the disk is quiet.
		dest=$disk/dest.$tool.$i
		sync
		sleep 2
	fi
	if [ "$variant" = mbox ]; then : > "$dest"; else mkdir -p "$dest"/new "$dest"/cur "$dest"/tmp; fi
	case $tool in
	popfetch)
		local target=(--maildir "$dest")
		[ "$variant" = mbox ] && target=(--mbox "$dest")
		timed "$top/popfetch" --ca-file "$DOVECOT_CA" -q \
			--state "$statedir/state.$variant" --tls "$tls" \
			--host localhost -p "$port" -u "$user" "${target[@]}" \
			$pfnew ;;
	mpop)
		cat > "$work/mpoprc" <<RC
account bench
host localhost
port $port
tls on
tls_starttls $([ "$tls" = starttls ] && echo on || echo off)
tls_trust_file $DOVECOT_CA
user $user
password pw
auth user
delivery $([ "$variant" = mbox ] && echo mbox || echo maildir) $dest
keep on
only_new $only_new
uidls_file $statedir/state.mpop.$variant
RC
		chmod 600 "$work/mpoprc"
		timed mpop -q -C "$work/mpoprc" bench ;;
	fetchmail)
		cat > "$work/fetchmailrc" <<RC
set no syslog
poll localhost port $port protocol pop3 timeout 60
  user "$user" password "pw" ssl sslcertck sslcertfile "$DOVECOT_CA"
  fetchall keep
  mda "f=\$(mktemp $dest/new/m.XXXXXXXXXX) && cat > \$f"
RC
		chmod 600 "$work/fetchmailrc"
		timed fetchmail -f "$work/fetchmailrc" -i "$statedir/state.fm" -s ;;
	getmail)
		mkdir -p "$work/getmail"
		# getmail refuses to deliver as root; it changes to "mail".
		[ "$(id -u)" = 0 ] && chown -R mail "$dest"
		cat > "$work/getmail/rc" <<RC
[retriever]
type = SimplePOP3SSLRetriever
server = localhost
port = $port
username = $user
password = pw
ca_certs = $DOVECOT_CA
[destination]
type = Maildir
path = $dest/
$([ "$(id -u)" = 0 ] && echo "user = mail")
[options]
read_all = true
delete = false
verbose = 0
RC
		timed getmail --getmaildir="$work/getmail" -r "$work/getmail/rc" ;;
	files)
		timed "$work/files" "$dest" "$count" "$size" 64 ;;
	raw|rawlist)
		local st=
		[ "$tls" = starttls ] && st="-starttls pop3"
		rm -f "$shm/raw.out"
		timed sh -c 'openssl s_client -quiet -ign_eof -verify_return_error \
			-connect "localhost:$1" -CAfile "$2" $5 < "$3" > "$4" 2>/dev/null' \
			raw "$port" "$DOVECOT_CA" "$work/$tool.cmds" "$shm/raw.out" \
			"$st" ;;
	esac
}

# check TOOL: did the last run fetch everything, byte for byte?
check() {
	local tool=$1 n
	if [ "$variant" = known ] || [ "$variant" = new1000 ]; then
		[ "$tool" = raw ] && return 0
		n=$(find "$shm/dest.$variant.$tool/new" -type f | wc -l)
		[ "$n" -eq "$mailbox" ] ||
			{ echo "$tool: $n of $mailbox in the maildir" >&2; return 1; }
		return 0
	fi
	if [ "$tool" = files ]; then
		n=$(find "$dest/new" -type f | wc -l)
		[ "$n" -eq "$count" ] || { echo "files: $n of $count" >&2; return 1; }
		return 0
	fi
	if [ "$tool" = raw ] || [ "$tool" = rawlist ]; then
		# s_client can drop the tail at close: the count of message
		# ends (and the listings') and QUIT's reply must be there.
		local want=$count
		[ "$tool" = rawlist ] && want=$((count + 2))
		n=$(grep -c $'^\.\r$' "$shm/raw.out" || true)
		[ "$n" -eq "$want" ] && tail -c 40 "$shm/raw.out" | grep -q '^+OK' ||
			{ echo "$tool: $n of $want ends; tail dropped?" >&2; return 1; }
		return 0
	fi
	# Peers add headers of their own (Received:, Status:): for them the
	# count is checked, for popfetch every byte.
	if [ "$variant" = mbox ]; then
		n=$(grep -c '^From ' "$dest" || true)
		[ "$n" -eq "$count" ] || { echo "$tool: $n of $count in the mbox" >&2; return 1; }
		[ "$tool" = popfetch ] || return 0
		rm -rf "$work/split" && mkdir -p "$work/split"
		python3 "$TESTS_LIB/mbox_split.py" "$dest" "$work/split"
		same_messages "$work/split" "$corpus"/*.eml
	else
		n=$(find "$dest/new" "$dest/cur" -type f | wc -l)
		[ "$n" -eq "$count" ] || { echo "$tool fetched $n of $count" >&2; return 1; }
		[ "$tool" = popfetch ] || return 0
		same_messages "$dest/new" "$corpus"/*.eml
	fi
}

median() { sort -n | sed -n "$(( (reps + 1) / 2 ))p"; }
ratio() {
	case $2 in 0|.0|0.0|.00|"") echo "-" ;;
	*) echo "scale=2; $1 / $2" | bc | sed 's/^\./0./' ;; esac
}

# retr_cmds USER FROM TO: the raw read's commands, a login, RETR of
# messages FROM to TO, QUIT.
retr_cmds() {
	printf 'USER %s\r\nPASS pw\r\n' "$1"
	seq "$2" "$3" | sed 's/.*/RETR &\r/'
	printf 'QUIT\r\n'
}

# with_listing: the commands on stdin with UIDL and LIST after the login.
with_listing() { sed '2a UIDL\r\nLIST\r'; }

# first_read USER FROM TO: an untimed raw read of messages FROM to TO
# (with the listings).  Dovecot indexes new messages at the first login
# that sees them and caches what it learns of each at its first read
# (a rep's first run cost the server half as much again): done here, so
# that the tool timed first (popfetch) does not pay for it.
first_read() {
	retr_cmds "$1" "$2" "$3" | with_listing |
		openssl s_client -quiet -ign_eof -verify_return_error \
			-connect "localhost:$DOVECOT_POP3S" -CAfile "$DOVECOT_CA" \
			> /dev/null 2>&1
}

# seed_more USER N: N more messages for USER (of the M there were), read
# once before any timed run, so no tool pays for the indexing.
seed_more() {
	local u=$1 n=$2 m=$3 d
	d=$work/more.$RANDOM
	mkdir -p "$d"
	make_corpus "$d" "$n" 500
	dovecot_seed "$u" "$d"/*.eml
	rm -rf "$d"
	first_read "$u" $((m + 1)) $((m + n))
}

# prime TOOL: the untimed first run of the known and new1000 variants,
# which fetches the whole mailbox once and keeps its state.
prime() {
	local tool=$1
	[ -e "$shm/dest.$variant.$tool" ] && return 0
	run "$tool" > /dev/null
}

declare -A results
printf '%-24s %-10s %9s %7s %9s %9s\n' scenario tool wall_ms cpu_s rss_kb srv_cpu_s
for sc in $scenarios; do
	spec=${sc%%:*} variant=
	[ "$spec" != "$sc" ] && variant=${sc#*:}
	count=${spec%x*} size=${spec#*x}
	user=u${count}x$size
	# new1000 adds mail: it gets a mailbox of its own.
	[ "$variant" = new1000 ] && user=${user}n
	corpus=$work/corpus-$spec
	if [ ! -d "$corpus" ]; then
		mkdir -p "$corpus"
		make_corpus "$corpus" "$count" "$size"
	fi
	if [ ! -e "$work/seeded.$user" ]; then
		dovecot_user_add "$user" pw
		dovecot_seed "$user" "$corpus"/*.eml
		sleep 1
		first_read "$user" 1 "$count"
		: > "$work/seeded.$user"
	fi
	mailbox=$count
	# The state lives beside the mailbox: on tmpfs, or on the disk.
	case $variant in
	disk) dest=$disk/dest statedir=$disk ;;
	mbox) dest=$shm/dest.mbox statedir=$shm ;;
	*) dest=$shm/dest statedir=$shm ;;
	esac
	tools=popfetch
	have mpop && tools="$tools mpop"
	if [ "$count" -le "$slow_max" ] && { [ -z "$variant" ] || [ "$variant" = disk ]; }; then
		have fetchmail && tools="$tools fetchmail"
		have getmail && tools="$tools getmail"
	fi
	tools="$tools raw"
	[ -z "$variant" ] && tools="$tools rawlist"
	case $variant in ""|disk) tools="$tools files" ;; esac
	if [ "$variant" = known ] || [ "$variant" = new1000 ]; then
		for tool in $tools; do [ "$tool" = raw ] || prime "$tool"; done
	fi
	for tool in $tools; do : > "$work/$tool.times"; done
	for i in $(seq 1 "$reps"); do
		if [ "$variant" = new1000 ]; then
			seed_more "$user" 1000 "$mailbox"
			mailbox=$((mailbox + 1000))
		fi
		# The raw baseline: what a tool has to read at the least.
		case $variant in
		known) printf 'USER %s\r\nPASS pw\r\nUIDL\r\nQUIT\r\n' "$user" ;;
		new1000) retr_cmds "$user" $((mailbox - 999)) "$mailbox" ;;
		*) retr_cmds "$user" 1 "$count" ;;
		esac > "$work/raw.cmds"
		# rawlist: the same, with the listings after USER and PASS.
		[ -z "$variant" ] && with_listing < "$work/raw.cmds" \
			> "$work/rawlist.cmds"
		for tool in $tools; do
			# The slow peers run once.
			case $tool in fetchmail|getmail) [ "$i" -gt 1 ] && continue ;; esac
			run "$tool" > "$work/one"
			# s_client now and then drops the tail of a long reply
			# at close (check says so): that run of the baseline is
			# taken again, once.
			if ! check "$tool"; then
				case $tool in raw|rawlist) ;; *) exit 1 ;; esac
				run "$tool" > "$work/one"
				check "$tool"
			fi
			cat "$work/one" >> "$work/$tool.times"
		done
	done
	declare -A wall cpu rss srv
	for tool in $tools; do
		f=$work/$tool.times
		mid=$(( ($(wc -l < "$f") + 1) / 2 ))
		wall[$tool]=$(cut -d' ' -f1 "$f" | sort -n | sed -n "${mid}p")
		cpu[$tool]=$(cut -d' ' -f2 "$f" | sort -n | sed -n "${mid}p")
		rss[$tool]=$(cut -d' ' -f3 "$f" | sort -n | tail -1)
		srv[$tool]=$(cut -d' ' -f4 "$f" | sort -n | sed -n "${mid}p")
		results[$sc.$tool]=${wall[$tool]}
		printf '%-24s %-10s %9s %7s %9s %9s\n' "$sc" "$tool" "${wall[$tool]}" \
			"${cpu[$tool]}" "${rss[$tool]}" "${srv[$tool]}"
	done
	line="$sc: popfetch/raw $(ratio "${wall[popfetch]}" "${wall[raw]}")"
	[ -n "${wall[rawlist]:-}" ] &&
		line="$line, popfetch/rawlist $(ratio "${wall[popfetch]}" "${wall[rawlist]}")"
	if [ -n "${wall[mpop]:-}" ]; then
		line="$line, popfetch/mpop wall $(ratio "${wall[popfetch]}" "${wall[mpop]}")"
		line="$line cpu $(ratio "${cpu[popfetch]}" "${cpu[mpop]}")"
		line="$line server cpu $(ratio "${srv[popfetch]}" "${srv[mpop]}")"
	fi
	if [ -n "${cpu[files]:-}" ] && [ -n "${cpu[mpop]:-}" ]; then
		beyond=$(echo "${cpu[popfetch]} - ${cpu[files]}" | bc)
		line="$line; cpu files/mpop $(ratio "${cpu[files]}" "${cpu[mpop]}")"
		line="$line, (popfetch - files)/raw $(ratio "$beyond" "${cpu[raw]}")"
	fi
	for t in fetchmail getmail; do
		[ -n "${wall[$t]:-}" ] && line="$line, popfetch/$t $(ratio "${wall[popfetch]}" "${wall[$t]}")"
	done
	echo "$line"
	# Against mpop, what a client doing only what it must would score:
	# the raw read with the listing (the server's pace) for wall time,
	# the file work plus the raw read for CPU.
	if [ -n "${wall[rawlist]:-}" ] && [ -n "${cpu[files]:-}" ] &&
	    [ -n "${wall[mpop]:-}" ]; then
		echo "$sc: floors against mpop: wall rawlist/mpop $(ratio "${wall[rawlist]}" "${wall[mpop]}"), cpu (files + raw)/mpop $(ratio "$(echo "${cpu[files]} + ${cpu[raw]}" | bc)" "${cpu[mpop]}")"
	fi
	unset wall cpu rss srv
	rm -rf "$dest" "$shm/raw.out" "$disk"/dest.*
done
# Issue 16's compound target: 1,000 new on top of 100,000 known against
# the 1,000 alone plus the nothing-new pass.
k=${results[100000x500:known.popfetch]:-} a=${results[1000x500.popfetch]:-}
n=${results[100000x500:new1000.popfetch]:-}
if [ -n "$k" ] && [ -n "$a" ] && [ -n "$n" ]; then
	echo "100000x500:new1000: popfetch/(1000x500 + known) $(ratio "$n" "$((a + k))")"
fi
# The same ratio for the raw read, which does only what the server must:
# how much of it the server's own work imposes.
k=${results[100000x500:known.raw]:-} a=${results[1000x500.raw]:-}
n=${results[100000x500:new1000.raw]:-}
if [ -n "$k" ] && [ -n "$a" ] && [ -n "$n" ]; then
	echo "100000x500:new1000: raw/(1000x500 + known) $(ratio "$n" "$((a + k))")"
fi
