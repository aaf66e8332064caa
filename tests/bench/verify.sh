#!/usr/bin/env bash
# The speed figure of issue #19: verify --offline over a maildir of
# VERIFY_COUNT messages (default 100,000 of about 500 bytes, 50 MB) on
# tmpfs, against sha256sum(1) over the same files.  The state is written
# here directly (format 2 with digests), so no server is needed; half of
# the messages are moved to cur/ with flags, as a mail reader would.
# With VERIFY_KIND=mbox the same messages are one mbox (From lines,
# an empty line after each), and sha256sum reads that one file.
# Not a test: it prints the medians of VERIFY_REPS runs (default 3) and
# their ratio, which the issue bounds at 2.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
count=${VERIFY_COUNT:-100000}
kind=${VERIFY_KIND:-maildir}
reps=${VERIFY_REPS:-3}
work=$(mktemp -d /dev/shm/popfetch-verify.XXXXXX)
trap '[ -n "${VERIFY_KEEP:-}" ] || rm -rf "$work"' EXIT
python3 - "$work" "$count" "$kind" <<'PY'
import hashlib, os, sys, zlib
work, n, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
mbox = open(f"{work}/mail.mbox", "wb") if kind == "mbox" else None
for d in ("tmp", "new", "cur"):
    os.makedirs(f"{work}/Mail/{d}")
lines = ["popfetch-state 2 u@localhost:1\n"]
for i in range(1, n + 1):
    head = (f"From: sender{i}@example.org\nTo: bob@example.org\n"
            f"Subject: message {i}\nMessage-ID: <{i}@bench>\n\n")
    body = "".join(f"line {k} of message {i} " + "x" * 40 + "\n"
                   for k in range(1, 7))
    data = (head + body).encode()
    name = f"1700000000.M{i}P1Q{i}.bench"
    if mbox is not None:
        name = str(mbox.tell())
        mbox.write(b"From sender@example.org Tue Nov 14 22:13:20 2023\n" +
                   data + b"\n")
    else:
        path = f"{work}/Mail/new/{name}" if i % 2 else \
            f"{work}/Mail/cur/{name}:2,S"
        with open(path, "wb") as f:
            f.write(data)
    lines.append(f"U 1700000000 1700000000 uid{i} {len(data)} "
                 f"{hashlib.sha256(data).hexdigest()} {name} %3C{i}@bench%3E\n")
text = "".join(lines).encode()
with open(f"{work}/state", "wb") as f:
    f.write(text + b"E %d %08x\n" % (n, zlib.crc32(text)))
PY
if [ "$kind" = mbox ]; then
	files() { printf '%s\0' "$work/mail.mbox"; }
	target="--mbox $work/mail.mbox"
else
	files() { find "$work/Mail/new" "$work/Mail/cur" -type f -print0; }
	target="--maildir $work/Mail"
fi
du -sh "$work/Mail" "$work/mail.mbox" 2>/dev/null | tr '\t' ' ' 
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
t_sum=() t_ver=()
for r in $(seq 1 "$reps"); do
	s=$(date +%s.%N)
	files | xargs -0 sha256sum > /dev/null
	e=$(date +%s.%N)
	t_sum+=("$(echo "$e - $s" | bc)")
	s=$(date +%s.%N)
	"$top/popfetch" pop3s://u@localhost:1 --state "$work/state" \
		verify $target --offline > "$work/out" || true
	e=$(date +%s.%N)
	t_ver+=("$(echo "$e - $s" | bc)")
done
head -1 "$work/out"
ms=$(printf '%s\n' "${t_sum[@]}" | median)
mv=$(printf '%s\n' "${t_ver[@]}" | median)
printf 'sha256sum: %.2f s  verify --offline: %.2f s  ratio %.2f (at most 2)\n' \
	"$ms" "$mv" "$(echo "$mv / $ms" | bc -l)"
