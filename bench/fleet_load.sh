#!/usr/bin/env bash
# N loaders of one checkpoint at once (a fleet rolling out a new model, on
# one machine), cold against after `granary warm`, side by side in one run:
#   cold    page cache dropped, then N `granary load` started together
#   warmed  page cache dropped, `granary warm` (timed apart), then the same
# Reports the wall time until the last loader is done and the aggregate
# GB/s (N x checkpoint bytes / that time); 2 rounds, ABBA.
#
#   bash bench/fleet_load.sh [--gib N] [--loaders N]   (defaults 1 and 3)
#
# Needs root (drop_caches) and the build. On one machine the loaders share
# its cores with the chunk servers: the figures show what the page cache
# saves, not a fleet's aggregate.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
gib=1
loaders=3
while (($#)); do
  case "$1" in
    --gib) gib="$2"; shift 2 ;;
    --loaders) loaders="$2"; shift 2 ;;
    *) echo "fleet_load.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
build="${GRANARY_BUILD_DIR:-build}"
[[ $build == /* ]] || build="$(pwd)/$build"
bin="$build/bin"
big=$(GRANARY_BUILD_DIR="$build" bash bench/big_checkpoint.sh "$gib")
bytes=$(stat -c %s "$big")

work=$(mktemp -d "${TMPDIR:-/tmp}/granary-fleet-XXXXXX")
cleanup() {
  (cd "$work" && "$bin/granary" dev down --wipe >/dev/null 2>&1) || true
  rm -rf "$work"
}
trap cleanup EXIT
g() { (cd "$work" && "$bin/granary" "$@"); }
g dev up >/dev/null
g put "$big" /big.safetensors >/dev/null 2>&1

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
declare -A total=([cold]=0 [warmed]=0 [warm]=0)
run() {  # run cold|warmed
  sync
  echo 3 > /proc/sys/vm/drop_caches
  if [[ $1 == warmed ]]; then
    local w0 w1
    w0=$(now)
    g warm /big.safetensors > /dev/null
    w1=$(now)
    total[warm]=$(awk -v s="${total[warm]}" -v d="$(secs "$w0" "$w1")" 'BEGIN { print s + d }')
  fi
  local t0 t1 pids=()
  t0=$(now)
  for _ in $(seq "$loaders"); do
    g load /big.safetensors > /dev/null &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  t1=$(now)
  total[$1]=$(awk -v s="${total[$1]}" -v d="$(secs "$t0" "$t1")" 'BEGIN { print s + d }')
}
for m in cold warmed warmed cold; do run "$m"; done
agg() { awk -v b="$bytes" -v n="$loaders" -v t="$1" 'BEGIN { printf "%.2f", 2 * n * b / t / 1e9 }'; }
echo "# $loaders loaders of one ${gib} GiB checkpoint (${bytes} bytes, real bf16 weights) at once, 2 rounds ABBA"
echo
echo "| | until the last loader is done | aggregate GB/s |"
echo "|---|---:|---:|"
echo "| cold | $(awk -v t="${total[cold]}" 'BEGIN { printf "%.2f s", t / 2 }') | $(agg "${total[cold]}") |"
echo "| after granary warm | $(awk -v t="${total[warmed]}" 'BEGIN { printf "%.2f s", t / 2 }') | $(agg "${total[warmed]}") |"
echo "| granary warm itself | $(awk -v t="${total[warm]}" 'BEGIN { printf "%.2f s", t / 2 }') | |"
