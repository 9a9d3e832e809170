#!/usr/bin/env bash
# Prints the path of a multi-GiB safetensors checkpoint of real bf16 weights
# (bench/make_big_checkpoint.py), making it first when it is not there:
#
#   big=$(bash bench/big_checkpoint.sh GIB [SOURCE_DIR])
#
# SOURCE_DIR: the bf16 .safetensors files to repeat (the checkpoint then
# lands in ${GRANARY_DATA_DIR:-bench/data}); default: the bf16 conversion of
# bench/make_safetensors.sh. Shared by bench/load.sh and bench/fleet_load.sh.
# GRANARY_BUILD_DIR: where bin/ is (default build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
gib="$1"
source="${2:-}"
build="${GRANARY_BUILD_DIR:-build}"
if [[ -n $source ]]; then
  [[ -d $source ]] || { echo "big_checkpoint: $source is not a folder" >&2; exit 2; }
  out="${GRANARY_DATA_DIR:-bench/data}"
  mkdir -p "$out"
  big="$(cd "$out" && pwd)/big-${gib}GiB-from-$(basename "$source").safetensors"
else
  data=$(TFJS_TO_SAFETENSORS="$build/bin/tfjs_to_safetensors" bash bench/make_safetensors.sh | tail -1)
  source="$data/bf16"
  big="$(cd "$data" && pwd)/big-${gib}GiB.safetensors"
fi
[[ -s "$big" ]] || python3 bench/make_big_checkpoint.py "$source" "$big" "$gib" >&2
echo "$big"
