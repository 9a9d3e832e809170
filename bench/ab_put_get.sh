#!/usr/bin/env bash
# A/B of two builds on the same machine, alternating, so drift of a shared
# machine hits both alike: put of a random file (R=3, fsync), then two warm
# gets into /dev/null, each build with a fresh dev cluster.
#
#   bash bench/ab_put_get.sh OLD_BUILD_DIR NEW_BUILD_DIR [--size-mib N] [--rounds N]
set -euo pipefail
old=${1:?usage: ab_put_get.sh OLD_BUILD_DIR NEW_BUILD_DIR [--size-mib N] [--rounds N]}
new=${2:?usage: ab_put_get.sh OLD_BUILD_DIR NEW_BUILD_DIR [--size-mib N] [--rounds N]}
shift 2
size_mib=1024
rounds=2
while (($#)); do
  case "$1" in
    --size-mib) size_mib="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "ab_put_get.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d "${TMPDIR:-/tmp}/granary-ab-XXXXXX")
trap 'for b in "$old" "$new"; do "$b/bin/granary" dev down --dir "$work/cl" --wipe >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/data"

rate() { grep -oE '[0-9.]+ MB/s' | tail -1; }
run() {
  local bin="$1/bin" label=$2
  "$bin/granary" dev up --dir "$work/cl" >/dev/null
  local meta
  meta=$(grep -oE '127\.0\.0\.1:[0-9]+' "$work/cl/cluster.toml" | head -1)
  local p g1 g2
  p=$("$bin/granary" --meta "$meta" put "$work/data" /f 2>&1 | rate)
  g1=$("$bin/granary" --meta "$meta" get /f - 2>&1 >/dev/null | rate)
  g2=$("$bin/granary" --meta "$meta" get /f - 2>&1 >/dev/null | rate)
  echo "| $label | $p | $g1 | $g2 |"
  "$bin/granary" dev down --dir "$work/cl" --wipe >/dev/null
}
echo "| build | put | warm get 1 | warm get 2 |"
echo "|---|---:|---:|---:|"
for _ in $(seq "$rounds"); do run "$old" old; run "$new" new; done
