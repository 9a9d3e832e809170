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
ctest --test-dir "$build_dir" --output-on-failure -j"$jobs" --timeout 600 "$@"
