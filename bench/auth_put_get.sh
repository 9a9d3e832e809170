#!/usr/bin/env bash
# Cost of cluster keys (docs/security.md): put and get of one random file on
# a dev cluster without a key and on one with a key, alternating rounds so
# that drift of a shared machine hits both alike. Every get runs with local
# reads off (GRANARY_LOCAL_READS=0), so each byte crosses loopback TCP and,
# with a key, is tagged and checked on every hop; put (R=3, --no-fsync, so
# the disk does not hide the network) goes client -> chunkd -> chunkd -> chunkd.
# Also prints `openssl speed` for HMAC-SHA256 on one core, the bound of one
# hop. Prints markdown tables.
#
#   bash bench/auth_put_get.sh [--size-mib N] [--rounds N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size_mib=512
rounds=2
while (($#)); do
  case "$1" in
    --size-mib) size_mib="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "auth_put_get.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
granary="$(pwd)/${GRANARY_BUILD_DIR:-build}/bin/granary"
[[ -x "$granary" ]] || { echo "auth_put_get.sh: $granary missing" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/granary-auth-bench-XXXXXX")
trap '"$granary" dev down --dir "$work/cl" --wipe >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/data"
"$granary" key new "$work/cluster.keys" --id bench --role cluster >/dev/null

rate() { grep -oE '[0-9.]+ MB/s' | tail -1; }
run() {
  local label=$1 up=() g=("$granary")
  if [[ $label == key ]]; then
    up=(--key-file "$work/cluster.keys")
    g+=(--key-file "$work/cluster.keys")
  fi
  "$granary" dev up --dir "$work/cl" "${up[@]}" >/dev/null
  local meta p g1 g2
  meta=$(grep -oE '127\.0\.0\.1:[0-9]+' "$work/cl/cluster.toml" | head -1)
  g+=(--meta "$meta")
  p=$("${g[@]}" put --replicas 3 --no-fsync "$work/data" /f 2>&1 | rate)
  g1=$(GRANARY_LOCAL_READS=0 "${g[@]}" get /f - 2>&1 >/dev/null | rate)
  g2=$(GRANARY_LOCAL_READS=0 "${g[@]}" get /f - 2>&1 >/dev/null | rate)
  echo "| $label | $p | $g1 | $g2 |"
  "$granary" dev down --dir "$work/cl" --wipe >/dev/null
}
echo "$size_mib MiB, $(nproc) cores"
echo
echo "| cluster | put R=3 (no fsync) | get over TCP 1 | get over TCP 2 |"
echo "|---|---:|---:|---:|"
for _ in $(seq "$rounds"); do run none; run key; done
if command -v openssl >/dev/null; then
  echo
  echo "openssl speed, HMAC-SHA256 on one core:"
  openssl speed -seconds 1 -bytes 1048576 -hmac sha256 2>/dev/null | tail -1 || true
fi
