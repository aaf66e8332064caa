# bash completion for popfetch(1)
_popfetch()
{
	local cur prev words cword
	if declare -F _init_completion > /dev/null; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
	fi
	local commands="fetch welcome capa certificate info stat list uidl top retr dele rset noop batch state verify
		accounts config-check oauth2 providers"
	local opts="--host -p --port -u --user --url --tls --ca-file --timeout --max-time --auth
		--allow-plaintext --no-initial-response --utf8 --no-utf8 --connect-command --proxy -4 --ipv4
		-6 --ipv6 --source-address --password-command --password-file
		--netrc-file -d --debug --json -q --quiet --syslog -h --help -V --version
		--maildir --mbox --mda --mda-timeout --lmtp --lmtp-recipient --smtp --smtp-recipient
		--new --all --keep --delete --keep-days
		--max-size --limit --until-empty --max-sessions --filter --dry-run --state --forget-after --full-listing --from
		--received-header --uidl-header --refetch-missing --verified-delete --offline
		--fingerprint --print-fingerprint --tls-server-name --tls-priority
		--client-cert --client-key --insecure
		-a --account --all-accounts -j --jobs --config
		--provider --oauth2-issuer --oauth2-authorization-endpoint
		--oauth2-token-endpoint --oauth2-device-endpoint
		--oauth2-revocation-endpoint --oauth2-client-id
		--oauth2-client-secret-command --oauth2-scope --oauth2-tenant
		--oauth2-flow --oauth2-token-file --oauth2-ca-file"
	# --opt=value is completed like --opt value.
	local opt=$prev
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		cur=${cur#*=}
	elif [[ $cur == = && $prev == --* ]]; then
		cur=
	elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
		opt=${COMP_WORDS[COMP_CWORD-2]}
	fi
	case $opt in
	--tls) COMPREPLY=($(compgen -W "implicit starttls none" -- "$cur")); return ;;
	--auth) COMPREPLY=($(compgen -W "auto user apop rpop plain login cram-md5 scram-sha-1 scram-sha-256 scram-sha-1-plus scram-sha-256-plus external xoauth2 oauthbearer" -- "$cur")); return ;;
	--debug|-d) COMPREPLY=($(compgen -W "0 1 2" -- "$cur")); return ;;
	--from) COMPREPLY=($(compgen -W "mpop fetchmail getmail" -- "$cur")); return ;;
	--oauth2-flow) COMPREPLY=($(compgen -W "device loopback" -- "$cur")); return ;;
	--provider) COMPREPLY=($(compgen -W "$(popfetch providers 2>/dev/null |
		cut -f1)" -- "$cur")); return ;;
	--account|-a)
		COMPREPLY=($(compgen -W "$(_popfetch_accounts)" -- "$cur"))
		return ;;
	--jobs|-j) return ;;
	--ca-file|--password-file|--netrc-file|--mbox|--state|--client-cert|\
	--client-key|--config|--oauth2-token-file|--oauth2-ca-file)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--maildir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--host|--port|-p|--user|-u|--url|--timeout|--max-time|--max-sessions|--password-command|\
	--mda|--mda-timeout|--keep-days|--forget-after|--max-size|--limit|--fingerprint|\
	--lmtp|--lmtp-recipient|--smtp|--smtp-recipient|--connect-command|\
	--source-address|--proxy|--filter|\
	--tls-server-name|\
	--tls-priority|--oauth2-issuer|--oauth2-authorization-endpoint|\
	--oauth2-token-endpoint|--oauth2-device-endpoint|\
	--oauth2-revocation-endpoint|--oauth2-client-id|\
	--oauth2-client-secret-command|--oauth2-scope|--oauth2-tenant) return ;;
	esac
	if [[ $prev == state ]]; then
		COMPREPLY=($(compgen -W "show check mark-seen adopt import" -- "$cur"))
	elif [[ $prev == oauth2 ]]; then
		COMPREPLY=($(compgen -W "login status logout" -- "$cur"))
	elif [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	# A command, in any position: after options, after a URL, or first.
	local i w seen=
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		[[ $w == -* || $w == *://* ]] && continue
		[[ " $commands " == *" $w "* ]] && seen=$w
	done
	[ -z "$seen" ] && COMPREPLY=($(compgen -W "$commands" -- "$cur"))
}

# Account names from the file a run would read.
_popfetch_accounts()
{
	local i conf=()
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		--config) conf=(--config "${COMP_WORDS[i+1]}") ;;
		--config=*) conf=("${COMP_WORDS[i]}") ;;
		esac
	done
	popfetch "${conf[@]}" accounts 2>/dev/null | cut -f1
}
complete -F _popfetch popfetch
