#!/usr/bin/env bash
# Packs this build for a machine with a GPU that cannot build it (no
# package registry there, none of the -dev packages): the binaries the GPU
# checks run, stripped, the shared libraries they load from this system, and
# real bf16 weights, into .gpu/ (git-ignored), small enough to copy there.
# On that machine, from the repository root: bash bench/gpu_session.sh
#
#   bash tools/gpu_bundle.sh
#
# Needs a build with the CUDA toolkit (loader_gpu_test, gpu_copy_bench) and
# bench/make_safetensors.sh's output (the weights).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${GRANARY_BUILD_DIR:-build}"
bins=(granary granary-metad granary-chunkd granary-fuse loader_gpu_test gpu_copy_bench first_touch)
(cd "$build" && ninja "${bins[@]}" >/dev/null) || {
  echo "gpu_bundle: cannot build ${bins[*]} in $build (loader_gpu_test and gpu_copy_bench need the CUDA toolkit)" >&2
  exit 1
}
weights=$(TFJS_TO_SAFETENSORS="$build/bin/tfjs_to_safetensors" bash bench/make_safetensors.sh | tail -1)/plain-bf16

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib/cxx"
for b in "${bins[@]}"; do strip -o "$stage/bin/$b" "$build/bin/$b"; done
# Every library the binaries load, except the C library's own (the other
# machine's is as new or newer: the binaries need GLIBC_2.34 at most).
# libstdc++ and libgcc_s go apart, in lib/cxx: gpu_session.sh uses them only
# where that machine's own are too old, as a newer one serves better.
ldd "$stage"/bin/* | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so* | libm.so* | libpthread.so* | libdl.so* | librt.so* | ld-linux*) ;;
    libstdc++.so* | libgcc_s.so*) cp -L "$lib" "$stage/lib/cxx/" ;;
    *) cp -L "$lib" "$stage/lib/" ;;
  esac
done
rm -rf .gpu
mkdir -p .gpu/data/bf16
tar -C "$stage" -cJf .gpu/bundle.tar.xz bin lib
cp "$weights"/*.safetensors .gpu/data/bf16/
git rev-parse HEAD > .gpu/commit
du -sh .gpu/bundle.tar.xz .gpu/data | sed 's/^/gpu_bundle: /'
echo "gpu_bundle: .gpu/ holds commit $(cut -c1-12 .gpu/commit); on the GPU machine: bash bench/gpu_session.sh"
