#!/usr/bin/env bats
# The man pages and the shell completions are written by hand; these
# tests hold them to the option table, through `popfetch --list-options`
# (one JSON object a line for every option and every command): every
# option in its long and short forms, every value of an enumerated
# option, which options take an argument and which take a file, every
# accounts-file keyword, every command.  The last test removes an option
# or a value from copies of the files and checks that this is caught.

setup() {
	load lib/common
	DOCS=$TOP
}

# listed WHAT [NAME]: from the table, one a line, sorted.
#   long      --NAME of every command-line option
#   short     "-X --NAME" of every option with a short form
#   args      every form (--NAME, -X) of the options that take a value
#   paths     --NAME of the options whose value is a file or directory
#   keywords  every accounts-file keyword
#   enums     NAME of every option with a list of values
#   values N  the values of option N (a number from 0 to 9: each number)
#   small     NAME of every number option with at most ten values
#   commands  every command
# The table is the binary's, which no test changes: each list is made
# once per file (the mutation test asks for every list sixteen times).
listed() {
	local memo=$BATS_FILE_TMPDIR/listed.$1.${2:-}
	[ -s "$memo" ] || table_list "$@" > "$memo" || return 1
	cat "$memo"
}
table_list() {
	"$POPFETCH" --list-options | python3 -c '
import json, sys
what, name = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None
rows = [json.loads(l) for l in sys.stdin]
opts = [r for r in rows if "option" in r]
argv = [o for o in opts if o["argv"]]
def forms(o):
    return ["--" + o["option"]] + (["-" + o["short"]] if o["short"] else [])
small = [o for o in opts if o["arg"] == "number" and o["max"] - o["min"] < 10]
out = {
    "long": lambda: ["--" + o["option"] for o in argv],
    "short": lambda: ["-%s --%s" % (o["short"], o["option"])
                      for o in argv if o["short"]],
    "args": lambda: [f for o in argv if o["arg"] != "none" for f in forms(o)],
    "paths": lambda: ["--" + o["option"] for o in argv if o["arg"] == "path"],
    "keywords": lambda: [o["option"] for o in opts if o["keyword"]],
    "enums": lambda: [o["option"] for o in argv if o["arg"] == "enum"],
    "small": lambda: [o["option"] for o in small],
    "values": lambda: [v for o in opts if o["option"] == name for v in
        (o.get("values") or [str(n) for n in range(o.get("min", 0), o.get("max", -1) + 1)])],
    "commands": lambda: [r["command"] for r in rows if "command" in r],
}[what]()
print("\n".join(out))' "$@" | grep . | sort -u
}

# of SOURCE WHAT [NAME]: the same lists as written in a man page or a
# completion under $DOCS.
of() {
	local src=$1 what=$2 name=${3:-}
	case $src.$what in
	help.long) "$POPFETCH" --help | grep -o -- '--[a-z0-9-]*' ;;
	man.*) of_man "$what" "$name" ;;
	bash.*) of_bash "$what" "$name" ;;
	zsh.*) of_zsh "$what" "$name" ;;
	fish.*) of_fish "$what" "$name" ;;
	conf.keywords)
		sed -n '/^The keywords are:/,/^\.El/p' "$DOCS/man/popfetch.conf.5" |
			sed -n 's/^\.Ic \([a-z0-9-]*\).*/\1/p' ;;
	esac | grep . | sort -u
}

# The OPTIONS section of popfetch(1), and the item of one option in it.
man_options() {
	sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$DOCS/man/popfetch.1"
}
man_item() {
	man_options | awk -v opt="$1" '
		/^\.It / { on = index($0 " ", "Fl -" opt " ") > 0 }
		/^\.(El|Sh|Ss)/ { on = 0 }
		on'
}

of_man() {
	case $1 in
	long) man_options | grep '^\.It Fl' | grep -o 'Fl -[a-z0-9-]*' |
		sed 's/^Fl /-/' ;;
	short) man_options |
		sed -n 's/^\.It Fl \([a-zA-Z0-9]\) , Fl \(-[a-z0-9-]*\).*/-\1 -\2/p' ;;
	values) man_item "$2" | grep -o 'Cm [a-z0-9-]*' | sed 's/^Cm //' ;;
	commands) sed -n '/^\.Sh COMMANDS/,/^\.Sh /p' "$DOCS/man/popfetch.1" |
		sed -n 's/^\.It Cm \([a-z0-9-]*\).*/\1/p' ;;
	esac
}

# The bash completion's case patterns, one "PATTERNS) ACTION" a line.
bash_cases() {
	sed -n '/case \$opt in/,/esac/p' "$DOCS/completions/popfetch.bash" |
		sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*//; ta' |
		sed -e '/)$/N; s/)\n[[:space:]]*/) /' |
		sed -n 's/^[[:space:]]*\([-a-zA-Z0-9|]*\)) \(.*\)/\1) \2/p'
}
of_bash() {
	local f=$DOCS/completions/popfetch.bash
	case $1 in
	long) sed -n '/local opts="/,/"/p' "$f" | grep -o -- '--[a-z0-9-]*' ;;
	short) sed -n '/local opts="/,/"/p' "$f" |
		grep -oE -- '(^|[[:space:]"])-[a-zA-Z0-9] --[a-z0-9-]+' |
		sed 's/^[[:space:]"]//' ;;
	args) bash_cases | sed 's/).*//' | tr '|' '\n' ;;
	paths) bash_cases | grep -E 'compgen -[fd] ' | sed 's/).*//' | tr '|' '\n' |
		grep -- '^--' ;;
	values) bash_cases | grep -E "(^|\|)--$2[|)]" |
		sed -n 's/.*compgen -W "\([^"]*\)".*/\1/p' | tr ' ' '\n' ;;
	commands) sed -n 's/.*local commands="\([^"]*\)/\1/p; /^\t\taccounts/p' "$f" |
		tr -d '"' | tr ' \t' '\n\n' ;;
	esac
}

of_zsh() {
	local f=$DOCS/completions/_popfetch
	case $1 in
	long) grep -oE -- "--[a-z0-9-]+[[}]" "$f" | tr -d '[}' ;;
	short) grep -oE -- '\{-[a-zA-Z0-9],--[a-z0-9-]+\}' "$f" | tr -d '{}' | tr ',' ' ' ;;
	args) grep -E -- "\]:" "$f" | grep -oE -- "-(-[a-z0-9-]+|[a-zA-Z0-9])[[},]" |
		tr -d '[},' ;;
	paths) grep -E -- "_files" "$f" | grep -oE -- "--[a-z0-9-]+[[}]" | tr -d '[}' ;;
	values) grep -E -- "--$2[[}]" "$f" | sed -n "s/.*:(\([^)]*\))'.*/\1/p" |
		tr ' ' '\n' ;;
	commands) sed -n 's/^_popfetch_commands=(\([^)]*\))/\1/p' "$f" | tr ' ' '\n' ;;
	esac
}

of_fish() {
	local f=$DOCS/completions/popfetch.fish
	case $1 in
	long) grep '^complete ' "$f" | grep -o -- ' -l [a-z0-9-]*' | sed 's/ -l /--/' ;;
	short) grep '^complete ' "$f" | grep -oE -- ' -s [a-zA-Z0-9] -l [a-z0-9-]+' |
		sed 's/ -s \(.\) -l /-\1 --/' ;;
	args) grep '^complete ' "$f" | grep -E -- ' -[xr]( |$)' |
		grep -oE -- ' -(s [a-zA-Z0-9]|l [a-z0-9-]+)' | sed 's/^ -s /-/; s/^ -l /--/' ;;
	paths) grep '^complete ' "$f" | grep -E -- " -F( |$)|__fish_complete_directories" |
		grep -o -- ' -l [a-z0-9-]*' | sed 's/ -l /--/' ;;
	values) grep -E -- " -l $2 " "$f" | sed -n "s/.* -a '\([^']*\)'.*/\1/p" |
		tr ' ' '\n' ;;
	commands) sed -n 's/^set -l cmds //p' "$f" | tr ' ' '\n' ;;
	esac
}

# same SOURCE WHAT [NAME]: SOURCE says what the table says.
same() {
	diff <(listed "$2" "${3:-}") <(of "$@") >&2 || {
		echo "$1 differs from the option table in: $2 ${3:-}" >&2
		return 1
	}
}

# check_all: every source against the table.
check_all() {
	local src opt
	[ "$(listed long | wc -l)" -ge 40 ]
	[ "$(listed commands | wc -l)" -ge 15 ]
	same help long
	for src in man bash zsh fish; do
		same $src long && same $src short && same $src commands || return 1
		for opt in $(listed enums); do
			same $src values "$opt" || return 1
		done
	done
	for src in bash zsh fish; do
		same $src args && same $src paths || return 1
		for opt in $(listed small); do
			same $src values "$opt" || return 1
		done
	done
	same conf keywords
}

@test "popfetch(1), popfetch.conf(5), --help and every completion agree with the option table" {
	check_all
}

@test "the table: every option but the account choosers is a keyword; password only is" {
	diff <(listed long | grep -vxE -- '--(account|all-accounts|jobs|config|help|version)' |
		sed 's/^--//') <(listed keywords | grep -vx password)
	[ "$(listed keywords | grep -cx password)" -eq 1 ]
	! listed long | grep -qx -- --password
}

@test "a removed option, value, keyword or command is caught" {
	local copy=$BATS_TEST_TMPDIR/docs edit
	while IFS= read -r edit; do
		rm -rf "$copy"
		mkdir -p "$copy"
		cp -r "$TOP/man" "$TOP/completions" "$copy/"
		(cd "$copy" && eval "$edit")
		DOCS=$copy
		if check_all 2>/dev/null; then
			echo "not caught: $edit"
			return 1
		fi
	done <<'EOF'
sed -i '/-l uidl-header/d' completions/popfetch.fish
sed -i 's/ starttls / /' completions/popfetch.fish
sed -i 's/scram-sha-1 //' completions/_popfetch
sed -i 's/{-q,--quiet}/--quiet/' completions/_popfetch
sed -i 's/:file:_files//' completions/_popfetch
sed -i 's/--limit //' completions/popfetch.bash
sed -i 's/ xoauth2 / /' completions/popfetch.bash
sed -i 's/ -j / /' completions/popfetch.bash
sed -i 's/--netrc-file|//' completions/popfetch.bash
sed -i 's/"0 1 2"/"0 1"/' completions/popfetch.bash
sed -i '/^\.Cm rpop ,$/d' man/popfetch.1
sed -i 's/^\.It Fl -dry-run$/.It Fl -dryrun/' man/popfetch.1
sed -i 's/^\.It Fl u , Fl -user/.It Fl -user/' man/popfetch.1
sed -i '/^\.It Cm noop$/d' man/popfetch.1
sed -i '/^\.Ic limit ,$/d' man/popfetch.conf.5
EOF
	# The unchanged copies pass, so each failure above is the edit's.
	cp -r "$TOP/man" "$TOP/completions" "$copy/"
	DOCS=$copy check_all
}

@test "--help fits a terminal; --version names GnuTLS" {
	# Every option is listed, grouped: at most 40 lines (a terminal
	# scrolls no further than one screen of a laptop), 80 columns.
	[ "$("$POPFETCH" --help | wc -l)" -le 40 ]
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
