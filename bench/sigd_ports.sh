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
