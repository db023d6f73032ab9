#!/bin/sh
# Answers one message for date_route.sh. `sigctl route` runs it with the
# message as JSON in $SIGD_MESSAGE and sends what it prints back to the sender
# (minus one trailing newline).
#
# Like Pode's example ($msg -ieq '[date]'): "[date]", in any case, gets the
# current date; any other message goes back as it came: a JSON string as its
# text (no quotes), anything else as compact JSON.
set -u
message=${SIGD_MESSAGE-null}

case $message in
  '"['[Dd][Aa][Tt][Ee]']"')
    date
    exit
    ;;
  '"'*)
    # A JSON string: decode it. Debian's own python3 is used when present
    # (not whatever `python3` PATH finds); the fallback handles every escape
    # but \uXXXX, which it leaves as written.
    if [ -x /usr/bin/python3 ]; then
      exec /usr/bin/python3 -c 'import json, os, sys
sys.stdout.write(json.loads(os.environ["SIGD_MESSAGE"]) + "\n")'
    fi
    body=${message#\"}
    body=${body%\"}
    # \" and \/ by sed, the C-style escapes (\\ \n \t \r \b \f) by %b.
    body=$(printf '%s' "$body" | sed -e 's/\\"/"/g' -e 's/\\\//\//g')
    printf '%b\n' "$body"
    ;;
  *)
    printf '%s\n' "$message"
    ;;
esac
