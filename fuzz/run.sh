#!/usr/bin/env bash
# Builds the fuzz targets with clang + libFuzzer (ASan, UBSan) and fuzzes each.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     default: 30 seconds, every target
#   fuzz/run.sh 60 safetensors
#
# Each target runs for SECONDS from its seed corpus (fuzz/corpus/<target>/)
# plus a working corpus kept between runs in the build folder; new inputs go
# to the working corpus only. Exits 1 if any target crashes, leaks, times out
# (-timeout=5) or runs out of memory (-rss_limit_mb=2048); the reproducer's
# path is printed. Fix the bug, then copy the reproducer into the seed corpus:
# the Fuzz.<Target>Corpus test replays it on every CI run.
# Exits 77 (ctest's "skipped") when clang++ with libFuzzer is not installed.
#
# Only the few project sources a target needs are compiled (instrumented),
# straight with clang++: no second CMake build of the whole project.
# Environment: CLANGXX (default clang++), GRANARY_FUZZ_BUILD_DIR (default
# build-fuzz/), GRANARY_FUZZ_JOBS (parallel compiles, default 2).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Each target: fuzz/<name>_fuzz.cc plus these project sources (a source may
# carry extra compile flags after a colon) and link flags. common/status.cc and
# the generated protobuf code are linked into every target. Adding a target:
# a line in each table here and a granary_fuzz_target() in fuzz/CMakeLists.txt.
targets=(safetensors block)
declare -A sources=(
  [safetensors]="client/src/safetensors.cc"
  [block]="common/codec/block.cc common/codec/planes.cc common/checksum/xxh3.cc common/checksum/xxh3_avx2.cc:-mavx2 common/checksum/xxh3_avx512.cc:-mavx512f"
)
declare -A ldlibs=(
  [safetensors]=""
  [block]="-lzstd -lxxhash"
)

seconds=30
if [[ $# -gt 0 && "$1" =~ ^[0-9]+$ ]]; then
  seconds="$1"
  shift
fi
if [[ $# -gt 0 ]]; then
  wanted=("$@")
else
  wanted=()
  for t in "${targets[@]}"; do
    [[ -f "fuzz/${t}_fuzz.cc" ]] && wanted+=("$t")
  done
fi
for t in "${wanted[@]}"; do
  if [[ -z "${sources[$t]+set}" ]]; then
    echo "fuzz: unknown target '$t' (known: ${targets[*]})" >&2
    exit 2
  fi
done

cxx="${CLANGXX:-clang++}"
out="${GRANARY_FUZZ_BUILD_DIR:-$root/build-fuzz}"
njobs="${GRANARY_FUZZ_JOBS:-2}"
mkdir -p "$out/obj" "$out/gen"

if ! command -v "$cxx" >/dev/null; then
  echo "fuzz: SKIPPED: $cxx not found (install clang and libclang-rt-dev)"
  exit 77
fi
# libFuzzer ships in compiler-rt, which some clang installs lack.
if [[ ! -x "$out/probe" ]]; then
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
    >"$out/probe.cc"
  if ! "$cxx" -fsanitize=fuzzer,address,undefined "$out/probe.cc" -o "$out/probe" 2>"$out/probe.log"; then
    echo "fuzz: SKIPPED: $cxx cannot link -fsanitize=fuzzer (see $out/probe.log)"
    exit 77
  fi
fi

# common/status.h includes the generated protobuf header.
proto=common/proto/granary.proto
if [[ ! -f "$out/gen/common/proto/granary.pb.cc" || "$proto" -nt "$out/gen/common/proto/granary.pb.cc" ]]; then
  protoc --proto_path=. --cpp_out="$out/gen" "$proto"
fi

common_flags=(-std=c++20 -g -O1 -I. -I"$out/gen" -Iclient/include -w)
# shellcheck disable=SC2054  # commas belong to the flag
fuzz_flags=(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
            -fno-omit-frame-pointer)

# objpath SRC[:FLAGS] SUFFIX
objpath() { echo "$out/obj/$(echo "${1%%:*}" | tr '/' '_')$2.o"; }

# Whether object $2 is older than its source or any header it included.
stale() {
  local obj="$1" dep
  [[ -f "$obj" && -f "$obj.d" ]] || return 0
  # shellcheck disable=SC2013  # dependency paths have no spaces
  for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$obj.d"); do
    [[ "$dep" -nt "$obj" ]] && return 0
  done
  return 1
}

# compile SRC[:FLAGS] INSTRUMENT: in the background when stale, at most
# $njobs at a time. A failed compile leaves no object (its log says why).
compile() {
  local spec="$1" instrument="$2" src="${1%%:*}" flags="" obj extra=()
  [[ "$spec" == *:* ]] && flags="${spec#*:}"
  if [[ $instrument == 1 ]]; then
    obj="$(objpath "$spec" .fuzz)"
    extra=("${fuzz_flags[@]}")
  else
    obj="$(objpath "$spec" "")"
  fi
  stale "$obj" || return 0
  rm -f "$obj" "$obj.d"
  # shellcheck disable=SC2086
  ("$cxx" "${common_flags[@]}" "${extra[@]}" $flags -MMD -MF "$obj.d" -c "$src" -o "$obj" \
     >"$obj.log" 2>&1 || rm -f "$obj") &
  while (($(jobs -rp | wc -l) >= njobs)); do wait -n || true; done
}

build() {
  local t="$1" s objs=()
  # Support code, not instrumented: nothing to find there.
  compile "$out/gen/common/proto/granary.pb.cc" 0
  objs+=("$(objpath "$out/gen/common/proto/granary.pb.cc" "")")
  compile common/status.cc 0
  objs+=("$(objpath common/status.cc "")")
  for s in "fuzz/${t}_fuzz.cc" ${sources[$t]}; do
    compile "$s" 1
    objs+=("$(objpath "$s" .fuzz)")
  done
  wait || true
  for s in "${objs[@]}"; do
    if [[ ! -f "$s" ]]; then
      echo "fuzz $t: compile failed:" >&2
      cat "$s.log" >&2
      return 1
    fi
  done
  # shellcheck disable=SC2086
  "$cxx" -fsanitize=fuzzer,address,undefined "${objs[@]}" -lprotobuf -lpthread ${ldlibs[$t]} \
    -o "$out/${t}_fuzz"
}

# Targets share the support objects, and ctest may run two brief runs at
# once: one build at a time per build folder (fuzzing runs in parallel).
exec 9>"$out/.build.lock"
status=0
for t in "${wanted[@]}"; do
  start=$SECONDS
  flock 9
  if ! build "$t"; then
    flock -u 9
    echo "fuzz $t: BUILD FAILED"
    status=1
    continue
  fi
  flock -u 9
  built=$((SECONDS - start))
  work="$out/corpus/$t"
  artifacts="$out/artifacts/$t"
  mkdir -p "$work" "$artifacts"
  args=(-max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [[ -f "fuzz/$t.dict" ]] && args+=(-dict="fuzz/$t.dict")
  seeds=()
  [[ -d "fuzz/corpus/$t" ]] && seeds=("fuzz/corpus/$t")
  log="$out/$t.log"
  if "$out/${t}_fuzz" "${args[@]}" "$work" "${seeds[@]}" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "fuzz $t: OK (${seconds}s, ${runs:-?} runs, ${cov:-cov ?}, corpus $(find "$work" -type f | wc -l) files, built in ${built}s)"
  else
    status=1
    repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    echo "fuzz $t: FAILED: $(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant broken|.*ERROR: libFuzzer)' "$log" || echo 'see log')"
    echo "  log: $log"
    [[ -n "$repro" ]] && echo "  reproducer: $repro (replay: $out/${t}_fuzz $repro)"
    tail -n 40 "$log" | sed 's/^/  | /'
  fi
done
exit $status
