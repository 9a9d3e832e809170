#!/usr/bin/env bash
# Every GPU check of this project in one command, on a machine with an
# NVIDIA GPU, from the bundle of tools/gpu_bundle.sh (.gpu/ in the
# repository root): the GPU tests, then bench/load.sh onto cuda:0 and onto
# host memory for comparison. Logs and tables go to $OUT (or
# /tmp/granary-gpu-out); each step has its own time limit, so one that hangs
# leaves the others their time.
#
#   bash bench/gpu_session.sh [--gib N]      (default 4)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
gib=4
[[ ${1:-} == --gib ]] && gib="$2"
out="${OUT:-/tmp/granary-gpu-out}"
mkdir -p "$out"
[[ -f .gpu/bundle.tar.xz ]] || { echo "gpu_session: no .gpu/bundle.tar.xz: run tools/gpu_bundle.sh where the project builds" >&2; exit 1; }
root=$(mktemp -d /tmp/granary-gpu-XXXXXX)
# tar needs xz for this; Python's tarfile does not.
tar -C "$root" -xJf .gpu/bundle.tar.xz 2>/dev/null ||
  python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' .gpu/bundle.tar.xz "$root" ||
  { echo "gpu_session: cannot unpack .gpu/bundle.tar.xz" >&2; exit 1; }
export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if ! "$root/bin/granary" --help >/dev/null 2>"$out/libcheck.txt"; then
  # This machine's libstdc++ is older than the build's: use the build's.
  export LD_LIBRARY_PATH="$root/lib/cxx:$LD_LIBRARY_PATH"
  "$root/bin/granary" --help >/dev/null || { echo "gpu_session: the bundle's binaries do not run here" >&2; exit 1; }
fi
export GRANARY_BIN_DIR="$root/bin" GRANARY_BUILD_DIR="$root"
weights="$(pwd)/.gpu/data"
step() {  # step NAME SECONDS COMMAND...: output to $out/NAME.txt and here
  local name=$1 limit=$2
  shift 2
  echo "== $name (commit $(cut -c1-12 .gpu/commit 2>/dev/null), limit ${limit}s)"
  local t0=$SECONDS
  timeout -k 10 "$limit" "$@" 2>&1 | tee "$out/$name.txt"
  local rc=${PIPESTATUS[0]}
  echo "== $name: exit $rc in $((SECONDS - t0)) s"
}
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,pcie.link.gen.max,pcie.link.width.max --format=csv
  nproc
  free -g
} > "$out/machine.txt" 2>&1
cat "$out/machine.txt"
step gpu_test 240 env GRANARY_SAFETENSORS_DIR="$weights" "$root/bin/loader_gpu_test"
step load_cuda 300 bash bench/load.sh --device cuda:0 --gib "$gib" --source "$weights/bf16"
step load_host 240 bash bench/load.sh --device host --gib "$gib" --source "$weights/bf16"
rm -rf "$root"
