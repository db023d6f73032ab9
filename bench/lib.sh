# shellcheck shell=bash
# Sourced by scripts/bench and the bench/*.sh scripts. sigd is started on
# port 0 with --log-level info (nothing is logged per message), and its ports
# are read back from its ready line, so no port can be taken between choosing
# it and binding it.

# sigd_ports LOG: "WS_PORT GRPC_PORT" once sigd has logged that it is ready
# ("sigd ready: http/ws on 127.0.0.1:P, grpc on 127.0.0.1:Q"), else nothing.
sigd_ports() {
  sed -n 's/.*sigd ready: http\/ws on [^ ]*:\([0-9][0-9]*\), grpc on [^ ]*:\([0-9][0-9]*\).*/\1 \2/p' "$1" | head -1
}

# wait_sigd_ports LOG PID: sets ws_port and grpc_port once the sigd of PID has
# logged that it is ready; returns 1 if it exits first or takes over 10 s.
wait_sigd_ports() {
  local log_file="$1" pid="$2" deadline=$((SECONDS + 10))
  ws_port=""
  grpc_port=""
  while [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do
    # shellcheck disable=SC2034  # ws_port is for the caller
    read -r ws_port grpc_port <<<"$(sigd_ports "$log_file")"
    [ -n "$grpc_port" ] && return 0
    sleep 0.05
  done
  return 1
}

# wait_peer_port LOG PID: sets ws_port once the peer server of PID has
# printed "ready PORT" to LOG; returns 1 if it exits first or takes over 10 s.
wait_peer_port() {
  local log_file="$1" pid="$2" deadline=$((SECONDS + 10))
  ws_port=""
  while [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do
    ws_port=$(awk '/^ready /{print $2; exit}' "$log_file")
    [ -n "$ws_port" ] && return 0
    sleep 0.05
  done
  return 1
}

# start_bench_sigd SIGD DIR [FLAG...]: sigd in the background, serving DIR
# and logging to DIR/sigd.log; sets pid, ws_port and grpc_port. Returns 1,
# with sigd's last words on stderr, if it does not become ready.
start_bench_sigd() {
  local sigd="$1" dir="$2"
  shift 2
  "$sigd" --listen 127.0.0.1:0 --grpc-listen 127.0.0.1:0 --public "$dir" --log-level info \
    "$@" 2>"$dir/sigd.log" &
  pid=$!
  wait_sigd_ports "$dir/sigd.log" "$pid" && return 0
  echo "sigd did not start: $(tail -3 "$dir/sigd.log" | tr '\n' ' ')" >&2
  return 1
}

# bench_prepare NAME BINARY...: exits unless every BINARY is built; then sets
# tmp to a fresh directory that is removed on exit, when the sigd of
# start_bench_sigd (pid) is stopped too.
bench_prepare() {
  local name="$1" binary
  shift
  for binary in "$@"; do
    [ -x "$binary" ] || { echo "$name: $binary is missing; run scripts/bench --quick first" >&2; exit 1; }
  done
  tmp="$(mktemp -d "/tmp/sigd-$(basename "$name" .sh).XXXXXX")"
  pid=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$tmp"
}
