#!/usr/bin/env bash
# Turns the TensorFlow.js models of bench/fetch_models.sh into safetensors
# checkpoints for the compression benchmark and tests (see DATA.md: quote
# codec ratios on plain-*/, the tensors stored as plain float32).
#
#   bash bench/make_safetensors.sh   # prints the output folder on the last line
#
# Output folder: fp32/ bf16/ fp16/ (every tensor of every model, dequantized),
# plain-fp32/ plain-bf16/ plain-fp16/ (only the plain float32 tensors),
# bf16-sharded/ (all bf16 tensors, Hugging Face shards + index), and
# MANIFEST.tsv (path, tensors, bytes per file).
#
# Builds nothing: the converter is $TFJS_TO_SAFETENSORS, or
# build/bin/tfjs_to_safetensors (cd build && ninja tfjs_to_safetensors).
# Cached: nothing is converted when the output folder is complete for this
# version. Environment: HUMAN_MODELS_VERSION (default 3.0.4), GRANARY_DATA_DIR
# (default bench/data).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
version="${HUMAN_MODELS_VERSION:-3.0.4}"
data="${GRANARY_DATA_DIR:-bench/data}"
dest="$data/safetensors"
# Bump the layout number when the converter's output changes.
stamp="human-models $version, layout 1"

if [[ -f "$dest/.complete" && "$(cat "$dest/.complete")" == "$stamp" ]]; then
  echo "make_safetensors: cached in $dest" >&2
  echo "$dest"
  exit 0
fi

models=$(bash bench/fetch_models.sh | tail -n 1)
[[ -d "$models" ]] || { echo "make_safetensors: fetch_models.sh gave no models folder" >&2; exit 1; }

converter="${TFJS_TO_SAFETENSORS:-build/bin/tfjs_to_safetensors}"
if [[ ! -x "$converter" ]]; then
  echo "make_safetensors: $converter is missing; build it: (cd build && ninja tfjs_to_safetensors)" >&2
  exit 1
fi

# Convert beside the destination, then move into place, so an interrupted
# run never looks complete.
tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
"$converter" "$models" "$tmp" > "$tmp/MANIFEST.tsv"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "$stamp" > "$dest/.complete"
for d in fp32 bf16 fp16 plain-fp32 plain-bf16 plain-fp16 bf16-sharded; do
  echo "make_safetensors: $d: $(find "$dest/$d" -name '*.safetensors' | wc -l) files, $(du -sh "$dest/$d" | cut -f1)" >&2
done
echo "$dest"
