#!/usr/bin/env bash
# make bench: popfetch against the peers that are installed (mpop), and a
# raw pipelined TLS baseline, on one throwaway Dovecot on loopback.
# Not a test: it prints a table.  Every fetched maildir is checked
# against the corpus, so a fast wrong answer cannot pass.
#
# BENCH_SCENARIOS: "COUNTxSIZE ..." (default "2000x2000 200x20000");
# BENCH_REPS: runs per tool (default 3, the median is shown).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/common.bash"
scenarios=${BENCH_SCENARIOS:-"2000x2000 200x20000"}
reps=${BENCH_REPS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/popfetch-bench.XXXXXX")
chmod 755 "$work"
# BENCH_DIR: where the maildirs go (default /dev/shm; a real disk shows
# the cost of durability).
shm=$(mktemp -d "${BENCH_DIR:-/dev/shm}/popfetch-bench.XXXXXX")
trap 'set +e; dovecot_stop; rm -rf "$work" "$shm"' EXIT
dovecot_start "$work/dovecot" > /dev/null
export POPFETCH_PASSWORD=pw HOME=$work/home
mkdir -p "$HOME"

# run TOOL MAILDIR: one timed fetch of everything; prints "wall cpu rssKB"
run() {
	local tool=$1 dir=$2 t0 t1 out
	rm -rf "$dir" "$shm/state"*
	mkdir -p "$dir"/new "$dir"/cur "$dir"/tmp
	t0=$(date +%s%N)
	case $tool in
	popfetch)
		out=$( { /usr/bin/time -f '%U %S %M' "$top/popfetch" \
			--ca-file "$DOVECOT_CA" -q --state "$shm/state" \
			"pop3s://$user@localhost:$DOVECOT_POP3S" \
			--maildir "$dir" --all; } 2>&1 >/dev/null) ;;
	mpop)
		cat > "$work/mpoprc" <<RC
account bench
host localhost
port $DOVECOT_POP3S
tls on
tls_starttls off
tls_trust_file $DOVECOT_CA
user $user
password pw
auth user
delivery maildir $dir
keep on
only_new off
uidls_file $shm/state.mpop
RC
		chmod 600 "$work/mpoprc"
		out=$( { /usr/bin/time -f '%U %S %M' mpop -q -C "$work/mpoprc" \
			bench; } 2>&1 >/dev/null) ;;
	raw)
		out=$( { /usr/bin/time -f '%U %S %M' python3 \
			"$top/tests/bench/raw.py" localhost "$DOVECOT_POP3S" \
			"$DOVECOT_CA" "$user" pw "$count"; } 2>&1 >/dev/null) ;;
	esac
	t1=$(date +%s%N)
	set -- $out
	echo "$(( (t1 - t0) / 1000000 )) $(echo "$1 + $2" | bc) $3"
}

median() { sort -n | sed -n "$(( (reps + 1) / 2 ))p"; }

tools="popfetch raw"
command -v mpop > /dev/null && tools="popfetch mpop raw"
printf '%-12s %-9s %9s %9s %9s\n' scenario tool wall_ms cpu_s rss_kb
for sc in $scenarios; do
	count=${sc%x*} size=${sc#*x}
	user=u$count$size
	dovecot_user_add "$user" pw
	mkdir -p "$work/corpus-$sc"
	make_corpus "$work/corpus-$sc" "$count" "$size"
	dovecot_seed "$user" "$work/corpus-$sc"/*.eml
	sleep 1
	declare -A wall cpu rss
	for tool in $tools; do : > "$work/$tool.times"; done
	for i in $(seq 1 "$reps"); do
		for tool in $tools; do
			run "$tool" "$shm/Mail-$tool" >> "$work/$tool.times"
			if [ "$tool" != raw ]; then
				n=$(find "$shm/Mail-$tool/new" "$shm/Mail-$tool/cur" -type f | wc -l)
				[ "$n" -eq "$count" ] || { echo "$tool fetched $n of $count" >&2; exit 1; }
			fi
		done
	done
	same_messages "$shm/Mail-popfetch/new" "$work/corpus-$sc"/*.eml
	for tool in $tools; do
		wall[$tool]=$(cut -d' ' -f1 "$work/$tool.times" | median)
		cpu[$tool]=$(cut -d' ' -f2 "$work/$tool.times" | median)
		rss[$tool]=$(cut -d' ' -f3 "$work/$tool.times" | median)
		printf '%-12s %-9s %9s %9s %9s\n' "$sc" "$tool" "${wall[$tool]}" \
			"${cpu[$tool]}" "${rss[$tool]}"
	done
	line="$sc ratios: popfetch/raw $(echo "scale=2; ${wall[popfetch]} / ${wall[raw]}" | bc)"
	if [ -n "${wall[mpop]:-}" ]; then
		line="$line, popfetch/mpop wall $(echo "scale=2; ${wall[popfetch]} / ${wall[mpop]}" | bc)"
		line="$line, cpu $(echo "scale=2; ${cpu[popfetch]} / ${cpu[mpop]}" | bc)"
	fi
	echo "$line"
	unset wall cpu rss
done
