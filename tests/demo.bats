#!/usr/bin/env bats
# The README's first quick-start command ends in `make demo`: it must
# work exactly as a new user runs it, and show commands that run as shown.

setup() {
	load lib/common
}

@test "make demo runs to the end and its commands can be typed as shown" {
	run sh "$TOP/tests/lib/demo.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	assert_no_sanitizer_report
	# Every command shown names the server and the CA: nothing hidden.
	grep '^\$ popfetch ' <<<"$output" | while read -r line; do
		[[ "$line" == '$ popfetch --ca-file '*' pop3s://demo@localhost:'*' '* ]]
	done
	[[ "$output" == *$'fetch --maildir '*$'\n5 new messages, '* ]]
	[[ "$output" == *$'fetch --new --maildir '*$'\nno new messages (5 on the server, all fetched before; the state is '*$'; --all fetches them again)\n'* ]]
	# --all fetches again what --new skipped, and --delete empties the server.
	[[ "$output" == *$'--all --delete --mbox '*$'\n5 messages fetched, '*$'\n5 messages deleted from the server'* ]]
	[[ "$output" == *$'stat\n0 0' ]]
	# Nothing is left behind.
	! ls -d "${TMPDIR:-/tmp}"/popfetch-demo.* 2>/dev/null | grep -q .
}
