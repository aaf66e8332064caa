#!/usr/bin/env bats
# make install and uninstall honour DESTDIR and PREFIX.

setup() {
	load lib/common
}

@test "make install puts every file under DESTDIR/PREFIX; uninstall removes exactly those" {
	d=$BATS_TEST_TMPDIR/root
	make -s -C "$TOP" install DESTDIR="$d" PREFIX=/opt/pf > /dev/null
	for f in bin/popfetch share/man/man1/popfetch.1 \
	    share/man/man5/popfetch.conf.5 \
	    share/bash-completion/completions/popfetch \
	    share/zsh/site-functions/_popfetch \
	    share/fish/vendor_completions.d/popfetch.fish; do
		[ -f "$d/opt/pf/$f" ]
	done
	[ -x "$d/opt/pf/bin/popfetch" ]
	"$d/opt/pf/bin/popfetch" --version
	[ "$(find "$d" -type f | wc -l)" -eq 6 ]
	touch "$d/opt/pf/bin/other"
	make -s -C "$TOP" uninstall DESTDIR="$d" PREFIX=/opt/pf
	[ "$(find "$d" -type f)" = "$d/opt/pf/bin/other" ]
}

@test "the bash completion completes commands and option values" {
	run bash -c ". '$TOP/completions/popfetch.bash'
		COMP_WORDS=(popfetch --tls st); COMP_CWORD=2; _popfetch; echo \"\${COMPREPLY[*]}\"
		COMP_WORDS=(popfetch r); COMP_CWORD=1; _popfetch; echo \"\${COMPREPLY[*]}\"
		COMP_WORDS=(popfetch --all-a); COMP_CWORD=1; _popfetch; echo \"\${COMPREPLY[*]}\"
		COMP_WORDS=(popfetch --auth scram); COMP_CWORD=2; _popfetch; echo \"\${COMPREPLY[*]}\""
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = starttls ]
	[ "${lines[1]}" = "retr rset" ]
	[ "${lines[2]}" = "--all-accounts" ]
	[ "${lines[3]}" = "scram-sha-1 scram-sha-256 scram-sha-1-plus scram-sha-256-plus" ]
}

@test "the installed bash completion completes account names from the config file" {
	d=$BATS_TEST_TMPDIR/root
	make -s -C "$TOP" install DESTDIR="$d" PREFIX=/usr > /dev/null
	mkdir -p "$XDG_CONFIG_HOME/popfetch"
	printf 'account home\nhost h\naccount work\nhost w\naccount wiki\nhost k\n' \
		> "$XDG_CONFIG_HOME/popfetch/config"
	run env PATH="$d/usr/bin:$PATH" bash -c ". '$d/usr/share/bash-completion/completions/popfetch'
		COMP_WORDS=(popfetch -a w); COMP_CWORD=2; _popfetch; echo \"\${COMPREPLY[*]}\"
		COMP_WORDS=(popfetch --account ''); COMP_CWORD=2; _popfetch; echo \"\${COMPREPLY[*]}\""
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "work wiki" ]
	[ "${lines[1]}" = "home work wiki" ]
}
