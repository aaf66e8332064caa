# common.bash: loaded by every test file.
#   POPFETCH     the binary under test (make check sets the sanitizer build)
#   fake_start   starts tests/lib/fakepop.py with a script on stdin
#   fake_stop    stops it; fake_log prints what it received

TESTS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$TESTS_LIB/../.." && pwd)
export POPFETCH=${POPFETCH:-$TOP/popfetch}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}
# No user's own accounts file may leak into a test: tests that want one
# write it here (or pass --config).
export XDG_CONFIG_HOME=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-/nonexistent}}/xdg-config

. "$TESTS_LIB/dovecot.bash"
. "$TESTS_LIB/certs.bash"

# config_home: a private HOME and accounts-file directory for this test;
# CONF is where the accounts file goes.
config_home() {
	unset POPFETCH_PASSWORD
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME" "$XDG_CONFIG_HOME/popfetch"
	CONF=$XDG_CONFIG_HOME/popfetch/config
}

# The test's private directory, world-searchable for Dovecot's mail user.
test_dir() {
	local d
	d=$(mktemp -d "${BATS_TMPDIR:-/tmp}/popfetch.XXXXXX")
	chmod 755 "$d"
	echo "$d"
}

# fake_python: a python3 with pyOpenSSL (Debian's python3-openssl is
# /usr/bin/python3's, which may not be the first python3 on PATH), or
# fails.
fake_python() {
	local py
	for py in python3 /usr/bin/python3; do
		if "$py" -c 'import OpenSSL' 2>/dev/null; then
			echo "$py"
			return 0
		fi
	done
	return 1
}

# fake_start DIR [CERT KEY] < script
fake_start() {
	local py=python3
	FAKE_DIR=$1
	cat > "$FAKE_DIR/fake.script"
	: > "$FAKE_DIR/fake.log"
	rm -f "$FAKE_DIR/fake.port" "$FAKE_DIR/fake.log.scram"
	# Only scripts that say "pyopenssl" need pyOpenSSL.
	if grep -q '^pyopenssl' "$FAKE_DIR/fake.script"; then
		py=$(fake_python) || {
			echo "fake_start: no python3 with pyOpenSSL" \
				"(apt-get install python3-openssl)" >&2
			return 1
		}
	fi
	"$py" "$TESTS_LIB/fakepop.py" "$FAKE_DIR/fake.script" \
		"$FAKE_DIR/fake.port" "$FAKE_DIR/fake.log" "${2:-}" "${3:-}" \
		2>"$FAKE_DIR/fake.err" &
	FAKE_PID=$!
	local i
	for i in $(seq 1 200); do
		[ -s "$FAKE_DIR/fake.port" ] && break
		sleep 0.02
	done
	FAKE_PORT=$(cat "$FAKE_DIR/fake.port")
	[ -n "$FAKE_PORT" ]
}

fake_stop() {
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
	FAKE_PID=
}

fake_log() {
	cat "$FAKE_DIR/fake.log"
}

# A sanitizer report ends the test whatever the exit status.
assert_no_sanitizer_report() {
	! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
		<<<"$output"
}

# expected_of FILE: what popfetch delivers for a seeded message: LF line
# ends, and a final LF (POP3 cannot carry a missing one).
expected_of() {
	python3 -c 'import sys
d = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
if not d.endswith(b"\n"):
    d += b"\n"
sys.stdout.buffer.write(d)' "$1"
}

# same_messages DIR FILE...: DIR holds exactly the expected forms of the
# FILEs, each once (compared as sorted lists of checksums).
same_messages() {
	local dir=$1 list
	shift
	# The names go through a file: 100,000 of them (make bench) are
	# more than one command line holds.
	list=$(mktemp "${TMPDIR:-/tmp}/popfetch-list.XXXXXX")
	printf '%s\n' "$@" > "$list"
	python3 - "$dir" "$list" <<'PY'
import hashlib, os, sys
def expected(path):
    d = open(path, "rb").read().replace(b"\r\n", b"\n")
    return d if d.endswith(b"\n") else d + b"\n"
names = open(sys.argv[2]).read().splitlines()
os.unlink(sys.argv[2])
want = sorted(hashlib.sha256(expected(f)).hexdigest() for f in names)
got = sorted(hashlib.sha256(open(os.path.join(sys.argv[1], f), "rb").read()).hexdigest()
             for f in os.listdir(sys.argv[1]))
if want != got:
    print(f"expected {len(want)} messages, found {len(got)}; "
          f"missing {len(set(want) - set(got))}, unexpected {len(set(got) - set(want))}, "
          f"duplicated {len(got) - len(set(got))}", file=sys.stderr)
    sys.exit(1)
PY
}

# make_corpus DIR N SIZE: N distinct messages of about SIZE bytes.
make_corpus() {
	python3 - "$@" <<'PY'
import sys
d, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(1, n + 1):
    head = (f"From: sender{i}@example.org\nTo: bob@example.org\n"
            f"Subject: message {i}\nMessage-ID: <{i}@corpus>\n\n")
    body, line, total = [], 0, len(head)
    while total < size:
        line += 1
        body.append(f"message {i} line {line} " + "x" * 50 + "\n")
        total += len(body[-1])
    with open(f"{d}/{i:05d}.eml", "w") as f:
        f.write(head + "".join(body))
PY
}

# suite_start / suite_stop: for setup_file and teardown_file, a private
# directory $T with a Dovecot running in it, and their removal.
suite_start() {
	export T
	T=$(test_dir)
	dovecot_start "$T/dovecot"
}

suite_stop() {
	dovecot_stop
	if [ -n "${T:-}" ]; then rm -rf "$T"; fi
}
