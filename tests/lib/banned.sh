#!/bin/sh
# Fails if any source file calls a function the house style bans.
if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strncpy|gets|atoi|atol|strtok)[[:space:]]*\(' "$@" |
    grep -vE '\b(snprintf|vsnprintf)\b'; then
	echo "banned functions used (see STYLE: snprintf, strlcpy, strtonum)" >&2
	exit 1
fi
exit 0
