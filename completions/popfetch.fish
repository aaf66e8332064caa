# fish completion for popfetch(1)
set -l cmds fetch welcome capa certificate info stat list uidl top retr dele rset noop batch accounts config-check
# No file names unless an option takes one.
complete -c popfetch -f
complete -c popfetch -f -n "not __fish_seen_subcommand_from $cmds" -a "$cmds"
complete -c popfetch -l host -x -d 'server host'
complete -c popfetch -s p -l port -x -d 'server port'
complete -c popfetch -s u -l user -x -d 'user name'
complete -c popfetch -l url -x -d 'pop3s:// or pop3:// URL'
complete -c popfetch -l tls -x -a 'implicit starttls none' -d 'how to secure the connection'
complete -c popfetch -l ca-file -r -F -d 'trusted CA certificates'
complete -c popfetch -l timeout -x -d 'timeout in seconds'
complete -c popfetch -l auth -x -a 'auto user apop rpop plain login cram-md5 scram-sha-1 scram-sha-256 external xoauth2 oauthbearer' -d 'login method'
complete -c popfetch -l allow-plaintext -d 'allow a password without TLS'
complete -c popfetch -l no-initial-response -d 'always use the two-step SASL form'
complete -c popfetch -l utf8 -d 'send UTF8 if offered'
complete -c popfetch -l password-command -x -d 'command printing the password'
complete -c popfetch -l password-file -r -F -d 'file holding the password'
complete -c popfetch -l netrc-file -r -F -d 'netrc file'
complete -c popfetch -s d -l debug -x -a '0 1 2' -d 'trace level'
complete -c popfetch -l json -d 'JSON output'
complete -c popfetch -s q -l quiet -d 'print only errors'
complete -c popfetch -l syslog -d 'messages and summaries to syslog'
complete -c popfetch -s h -l help -d 'usage'
complete -c popfetch -s V -l version -d 'version'
complete -c popfetch -l maildir -x -a '(__fish_complete_directories)' -d 'deliver into a maildir'
complete -c popfetch -l mbox -r -F -d 'append to an mbox'
complete -c popfetch -l mda -x -d 'pipe to a delivery agent'
complete -c popfetch -l new -d 'only messages not fetched before'
complete -c popfetch -l all -d 'every message'
complete -c popfetch -l keep -d 'leave messages on the server'
complete -c popfetch -l delete -d 'delete delivered messages'
complete -c popfetch -l keep-days -x -d 'delete N days after delivery'
complete -c popfetch -l max-size -x -d 'skip larger messages'
complete -c popfetch -l limit -x -d 'at most N messages'
complete -c popfetch -l dry-run -d 'change nothing'
complete -c popfetch -l state -r -F -d 'state file'
complete -c popfetch -l received-header -d 'add a Received header'
complete -c popfetch -l uidl-header -d 'add an X-Popfetch-UIDL header'
complete -c popfetch -l fingerprint -x -d 'pin the server certificate'
complete -c popfetch -l print-fingerprint -d 'show the server certificate'
complete -c popfetch -l tls-server-name -x -d 'verify against this name'
complete -c popfetch -l tls-priority -x -d 'GnuTLS priority string'
complete -c popfetch -l client-cert -r -F -d 'client certificate'
complete -c popfetch -l client-key -r -F -d 'client key'
complete -c popfetch -l insecure -d 'do not verify the server'
# Account names (and their servers) from the file a run would read.
function __popfetch_accounts
    set -l tokens (commandline -opc)
    set -l conf
    set -l i (contains -i -- --config $tokens)
    and set conf --config $tokens[(math $i + 1)]
    popfetch $conf accounts 2>/dev/null
end
complete -c popfetch -s a -l account -x -a '(__popfetch_accounts)' -d 'run this account of the config file'
complete -c popfetch -l all-accounts -d 'run every account of the config file'
complete -c popfetch -s j -l jobs -x -d 'run up to N accounts at once'
complete -c popfetch -l config -r -F -d 'accounts file'
