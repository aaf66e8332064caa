#!/usr/bin/env bats
# --help, the man pages and the shell completions name the same options
# and commands, so they cannot drift apart.

setup() {
	load lib/common
}

# Long options, one a line, sorted.
from_help() {
	"$POPFETCH" --help | grep -o -- '--[a-z0-9-]*' | sort -u
}
from_man() {
	# Every ".It Fl ..." item of the OPTIONS section.
	sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$TOP/man/popfetch.1" |
		grep '^\.It Fl' | grep -o 'Fl -[a-z0-9-]*' | sed 's/^Fl /-/' | sort -u
}
from_bash() {
	sed -n '/local opts="/,/"/p' "$TOP/completions/popfetch.bash" |
		grep -o -- '--[a-z0-9-]*' | sort -u
}
from_zsh() {
	grep -oE -- "--[a-z0-9-]+[[}]" "$TOP/completions/_popfetch" |
		tr -d '[}' | sort -u
}
from_fish() {
	grep '^complete ' "$TOP/completions/popfetch.fish" | grep -o -- ' -l [a-z0-9-]*' |
		sed 's/ -l /--/' | sort -u
}
from_conf() {
	sed -n '/^The keywords are:/,/^\.El/p' "$TOP/man/popfetch.conf.5" |
		grep '^\.Ic' | sed 's/^\.Ic \([a-z0-9-]*\).*/--\1/' | sort -u
}

commands_of() {
	case $1 in
	help) "$POPFETCH" --help | sed -n '/^commands:/,/^server:/p' |
		grep -v '^server:' | sed 's/(the default)//; s/commands://' |
		grep -oE '(^| )[a-z][a-z-]+' | tr -d ' ' ;;
	man) sed -n '/^\.Sh COMMANDS/,/^\.Sh /p' "$TOP/man/popfetch.1" |
		sed -n 's/^\.It Cm \([a-z-]*\).*/\1/p' ;;
	bash) sed -n 's/.*local commands="\([^"]*\)/\1/p; /^\t\taccounts/p' \
		"$TOP/completions/popfetch.bash" | tr -d '"' | tr ' \t' '\n\n' ;;
	zsh) sed -n "s/.*'1:command:(\([^)]*\)).*/\1/p" "$TOP/completions/_popfetch" |
		tr ' ' '\n' ;;
	fish) sed -n 's/^set -l cmds //p' "$TOP/completions/popfetch.fish" | tr ' ' '\n' ;;
	esac | grep . | sort -u
}

@test "--help, popfetch(1) and every completion list the same long options" {
	local want
	want=$(from_help)
	[ "$(wc -l <<<"$want")" -ge 40 ]
	for src in man bash zsh fish; do
		diff <(echo "$want") <(from_$src) || { echo "differs: $src"; return 1; }
	done
}

@test "popfetch.conf(5) lists every long option but the account choosers as a keyword" {
	diff <(from_help | grep -vxE -- '--(account|all-accounts|jobs|config|help|version)') \
		<(from_conf | grep -vx -- '--password')
}

@test "--help, popfetch(1) and every completion list the same commands" {
	local want
	want=$(commands_of help)
	[ "$(wc -l <<<"$want")" -ge 15 ]
	for src in man bash zsh fish; do
		diff <(echo "$want") <(commands_of $src) || { echo "differs: $src"; return 1; }
	done
}

@test "--help fits a terminal; --version names GnuTLS" {
	[ "$("$POPFETCH" --help | wc -l)" -le 24 ]
	[ "$("$POPFETCH" --help | awk '{ if (length > m) m = length } END { print m }')" -le 80 ]
	run "$POPFETCH" --version
	[[ "$output" =~ ^popfetch\ [0-9.]+\ \(GnuTLS\ [0-9.]+\)$ ]]
}

@test "both man pages are clean under mandoc -Tlint" {
	command -v mandoc || skip "mandoc is not installed"
	mandoc -Tlint -W warning "$TOP/man/popfetch.1" "$TOP/man/popfetch.conf.5"
}

@test "the zsh and fish completions parse, and fish completes account names" {
	command -v zsh && zsh -n "$TOP/completions/_popfetch"
	command -v fish || skip "fish is not installed"
	fish -n "$TOP/completions/popfetch.fish"
	mkdir -p "$XDG_CONFIG_HOME/popfetch"
	printf 'account home\nhost pop.example.org\nuser al\naccount work\nhost w.example\n' \
		> "$XDG_CONFIG_HOME/popfetch/config"
	run env PATH="$(dirname "$POPFETCH"):$PATH" fish -c \
		"source '$TOP/completions/popfetch.fish'; complete -C 'popfetch -a '"
	[ "$output" = $'home\tal@pop.example.org:995\nwork\tw.example:995' ]
}
