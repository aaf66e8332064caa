#!/usr/bin/env bats
# The completions, run in each shell: commands after a URL (the README's
# main form) and first, options, their values (bash: --opt=value too),
# short options, and account names from the accounts file.

setup() {
	load lib/common
	export PATH=$(dirname "$POPFETCH"):$PATH
	mkdir -p "$XDG_CONFIG_HOME/popfetch"
	printf 'account home\nhost pop.example.org\nuser al\naccount work\nhost w.example\n' \
		> "$XDG_CONFIG_HOME/popfetch/config"
	C=$TOP/completions
}

# in_bash WORD...: what bash offers for the last word, sorted, on one line.
in_bash() {
	bash -c '. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_popfetch; printf "%s\n" "${COMPREPLY[@]}"' sh "$C/popfetch.bash" "$@" |
		sort | tr '\n' ' ' | sed 's/ $//'
}

# in_zsh LINE: what zsh's completion system offers at the end of LINE,
# caught at compadd in an interactive zsh on a pseudo-terminal.
in_zsh() {
	local out=$BATS_TEST_TMPDIR/zsh.out
	rm -f "$out"
	zsh -f -c '
		zmodload zsh/zpty || exit 99
		zpty z zsh -f -i
		zpty -w z "PS1=\"> \"; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D"
		zpty -w z "compadd() { builtin compadd -O _m \"\$@\"; print -rl -- \${_m[@]} >> $2; builtin compadd \"\$@\"; }"
		zpty -w z "$3"$'"'"'\t'"'"'
		for i in {1..30}; do [[ -s $2 ]] && break; sleep 0.1; done
		sleep 0.3
		zpty -d z' sh "$C" "$out" "$1"
	[ -e "$out" ] && sort -u "$out" | grep . | tr '\n' ' ' | sed 's/ $//'
	return 0
}

# in_fish LINE: what fish offers at the end of LINE.
in_fish() {
	fish -N -c "source '$C/popfetch.fish'; complete -C '$1'" | cut -f1 |
		sort | tr '\n' ' ' | sed 's/ $//'
}

@test "bash: commands after a URL, --opt=value, short options, accounts" {
	[ "$(in_bash popfetch pop3s://me@host li)" = "list" ]
	[ "$(in_bash popfetch -q pop3s://me@host con)" = "config-check" ]
	[ "$(in_bash popfetch in)" = "info" ]
	[ "$(in_bash popfetch stat '')" = "" ]
	[ "$(in_bash popfetch --tls = st)" = "starttls" ]
	[ "$(in_bash popfetch --tls =)" = "implicit none starttls" ]
	[ "$(in_bash popfetch --auth=scram)" = "scram-sha-1 scram-sha-1-plus scram-sha-256 scram-sha-256-plus" ]
	[ "$(in_bash popfetch -d '')" = "0 1 2" ]
	[ "$(in_bash popfetch --sys)" = "--syslog" ]
	[ "$(in_bash popfetch -a '')" = "home work" ]
	[ "$(in_bash popfetch pop3s://me@host --account w)" = "work" ]
}

@test "zsh: commands after a URL, option values, accounts" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	[ "$(in_zsh 'popfetch pop3s://me@host li')" = "list" ]
	[ "$(in_zsh 'popfetch po')" = "pop3:// pop3s://" ]
	[ "$(in_zsh 'popfetch --tls ')" = "implicit none starttls" ]
	[ "$(in_zsh 'popfetch -q --sys')" = "--syslog" ]
	[ "$(in_zsh 'popfetch -a ')" = "home work" ]
	[ "$(in_zsh 'popfetch pop3s://me@host -a ')" = "home work" ]
	[ "$(in_zsh 'popfetch pop3s://me@host stat ')" = "" ]
}

@test "fish: commands after a URL, --opt=value, accounts" {
	command -v fish >/dev/null || skip "fish is not installed"
	[ "$(in_fish 'popfetch pop3s://me@host li')" = "list" ]
	[ "$(in_fish 'popfetch --tls=')" = "--tls=implicit --tls=none --tls=starttls" ]
	[ "$(in_fish 'popfetch -d ')" = "0 1 2" ]
	[ "$(in_fish 'popfetch --sys')" = "--syslog" ]
	[ "$(in_fish 'popfetch -a ')" = "home work" ]
	[ "$(in_fish 'popfetch stat ')" = "" ]
}
