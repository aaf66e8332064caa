# relay.bash: helpers for the LMTP and SMTP suites.

# delivered DIR FILE...: DIR holds exactly FILEs as delivered over LMTP or SMTP:
# the original bytes (LF line ends, a final LF), after the trace fields
# the server puts on top (Return-Path, Delivered-To, Received,
# X-Original-To).
delivered() {
	python3 - "$@" <<'PY'
import os, sys
def expected(path):
    d = open(path, "rb").read().replace(b"\r\n", b"\n")
    return d if d.endswith(b"\n") else d + b"\n"
def strip_trace(d):
    lines = d.split(b"\n")
    i = 0
    while i < len(lines) and (lines[i].split(b":")[0].lower() in
            (b"return-path", b"delivered-to", b"received",
             b"x-original-to") or
            (i > 0 and lines[i][:1] in (b" ", b"\t"))):
        i += 1
    return b"\n".join(lines[i:])
want = sorted(expected(f) for f in sys.argv[2:])
got = sorted(strip_trace(open(os.path.join(sys.argv[1], f), "rb").read()
             .replace(b"\r\n", b"\n")) for f in os.listdir(sys.argv[1]))
if want != got:
    print(f"expected {len(want)} messages, found {len(got)}", file=sys.stderr)
    for g in got:
        print(g[:300], file=sys.stderr)
    sys.exit(1)
PY
}

