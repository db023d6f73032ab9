#!/bin/sh
# Pode's signal-route example as a shell script: a client that sends "[date]"
# on /messages gets the current date back; any other message is sent back as
# it came. `sigctl route` holds the route and runs answer.sh for each message.
#
# Extra arguments go to sigctl: ./date_route.sh --server 127.0.0.1:50051
# (or set SIGD_SERVER), ./date_route.sh --concurrency 4
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"  # --exec ./answer.sh is run from here

if command -v sigctl >/dev/null 2>&1; then
  sigctl=sigctl
elif [ -x "$here/../../../build/client-cli/sigctl" ]; then
  sigctl="$here/../../../build/client-cli/sigctl"
else
  echo "date_route.sh: sigctl is neither in PATH nor in build/client-cli; build it first (scripts/run)" >&2
  exit 1
fi
exec "$sigctl" route /messages --reconnect --exec ./answer.sh "$@"
