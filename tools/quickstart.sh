#!/usr/bin/env bash
# From a fresh clone to a running local Granary cluster holding real model
# weights, verified byte for byte:
#   1. install build dependencies and build (tools/bootstrap.sh)
#   2. start a dev cluster in ./granary-dev (1 metad, 3 chunk servers)
#   3. fetch real weights (bench/fetch_models.sh, cached in bench/data/)
#   4. put them into the cluster, get them back, compare every file
# The cluster keeps running afterwards; stop it with build/bin/granary dev down.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
build_dir="${GRANARY_BUILD_DIR:-build}"
granary="$root/$build_dir/bin/granary"

step() { printf '\n==> %s\n' "$*"; }
now() { date +%s.%N; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f MB/s", (s > 0 ? b / s / 1e6 : 0) }'; }

step "bootstrap and build"
bash tools/bootstrap.sh

step "start the dev cluster in ./granary-dev"
"$granary" dev up

step "fetch real model weights"
models=$(bash bench/fetch_models.sh | tail -n 1)
bytes=$(du -sb "$models" | cut -f1)
files=$(find "$models" -type f | wc -l)
echo "$files files, $bytes bytes in $models"

dst=/quickstart/human-models
"$granary" rm -r -f /quickstart
"$granary" mkdir -p /quickstart

step "put $models -> $dst (3 replicas, fsync)"
t0=$(now)
"$granary" put "$models" "$dst"
t1=$(now)
put_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')

back=$(mktemp -d "${TMPDIR:-/tmp}/granary-quickstart-XXXXXX")
trap 'rm -rf "$back"' EXIT
step "get $dst -> $back/models"
t0=$(now)
"$granary" get "$dst" "$back/models"
t1=$(now)
get_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')

step "verify"
if diff -r "$models" "$back/models" >/dev/null; then
  result="byte-identical ($files files)"
else
  diff -r "$models" "$back/models" | head -n 20 || true
  result="MISMATCH"
fi

{ "$granary" ls -l "$dst" || true; } | head -n 8  # head may close the pipe early

# The same weights as a sharded bf16 safetensors checkpoint, as Hugging Face
# writes them: stored with byte planes (the codec reads each tensor's dtype
# from the header), then loaded into memory tensor by tensor and checked
# against a plain read.
step "convert to a sharded bf16 safetensors checkpoint"
st=$(TFJS_TO_SAFETENSORS="$build_dir/bin/tfjs_to_safetensors" bash bench/make_safetensors.sh | tail -n 1)
ckpt=/quickstart/bf16-sharded
step "put $st/bf16-sharded -> $ckpt"
"$granary" put "$st/bf16-sharded" "$ckpt"
step "granary load $ckpt --verify"
load_out=$("$granary" load "$ckpt" --verify) || result="MISMATCH"
echo "$load_out"
grep -q '^verified' <<<"$load_out" || result="MISMATCH"
echo
echo "put: $bytes bytes in ${put_s}s ($(rate "$bytes" "$put_s"))"
echo "get: $bytes bytes in ${get_s}s ($(rate "$bytes" "$get_s"))"
echo "load: $(head -n 1 <<<"$load_out")"
echo "result: $result"
echo
echo "The cluster is still running (./granary-dev). Try:"
echo "  $build_dir/bin/granary ls -l $dst"
echo "  $build_dir/bin/granary cluster status"
echo "Stop it with:"
echo "  $build_dir/bin/granary dev down"
[[ "$result" != MISMATCH ]]
