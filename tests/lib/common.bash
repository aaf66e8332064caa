# common.bash: loaded by every test file.
#   POPFETCH     the binary under test (make check sets the sanitizer build)
#   fake_start   starts tests/lib/fakepop.py with a script on stdin
#   fake_stop    stops it; fake_log prints what it received

TESTS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$TESTS_LIB/../.." && pwd)
export POPFETCH=${POPFETCH:-$TOP/popfetch}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}

. "$TESTS_LIB/dovecot.bash"
. "$TESTS_LIB/certs.bash"

# The test's private directory, world-searchable for Dovecot's mail user.
test_dir() {
	local d
	d=$(mktemp -d "${BATS_TMPDIR:-/tmp}/popfetch.XXXXXX")
	chmod 755 "$d"
	echo "$d"
}

# fake_start DIR [CERT KEY] < script
fake_start() {
	FAKE_DIR=$1
	cat > "$FAKE_DIR/fake.script"
	: > "$FAKE_DIR/fake.log"
	rm -f "$FAKE_DIR/fake.port"
	python3 "$TESTS_LIB/fakepop.py" "$FAKE_DIR/fake.script" \
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
