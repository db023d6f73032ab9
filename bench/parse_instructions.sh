#!/usr/bin/env bash
# Instructions per message through protocol::ParseInbound, counted by
# valgrind (callgrind): the same on every run, unlike time on a shared VM,
# so two builds can be compared by one number each. Needs valgrind and the
# bench build (TARGET=sigd_parse_bench scripts/build).
#
#   bench/parse_instructions.sh [--bin PATH] [INPUT ...]   (inputs: see bench/parse_bench.cc)
#
# Prints one JSON line per input: the instructions of --count N less those
# of --count 0 (building the input, starting up), divided by N.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/bench/sigd_parse_bench"
if [ "${1:-}" = --bin ]; then bin="$2"; shift 2; fi
inputs=("$@")
[ ${#inputs[@]} -gt 0 ] || inputs=(string-small object-small string-4KiB records-4KiB string-256KiB
  records-256KiB unicode-escapes-4KiB python-ascii-4KiB keys-300B keys-64KiB keys-64KiB-repeated)
command -v valgrind >/dev/null || { echo "parse_instructions.sh: needs valgrind" >&2; exit 2; }
instructions() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" --input "$1" --count "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for input in "${inputs[@]}"; do
  case "$input" in *256KiB*|*64KiB*) n=10 ;; *4KiB*) n=200 ;; *) n=2000 ;; esac
  with=$(instructions "$input" "$n")
  without=$(instructions "$input" 0)
  [ -n "$with" ] && [ -n "$without" ] || { echo "parse_instructions.sh: no count for $input" >&2; exit 1; }
  echo "{\"input\":\"$input\",\"count\":$n,\"instructions_per_message\":$(( (with - without) / n ))}"
done
