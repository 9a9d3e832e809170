#!/usr/bin/env bash
# Loading a multi-GiB checkpoint stored in Granary, side by side in one run:
#   (a) read whole into memory through the FUSE mount (what a naive user
#       does, Python's f.read(); the cudaMemcpy that follows is bounded by (c))
#   (b) the same from a local file
#   (c) pinned host-to-device bandwidth (only with a GPU: the link's limit)
#   (d) granary load (the loader: parallel ranged reads, decode, copies)
#   (e) the cluster's read bandwidth: granary get to /dev/null (a sequential
#       stream with read-ahead, into no memory that needs faulting in)
#   (f) the loader from Python (the granary module, when built): connect,
#       load, then torch.from_dlpack of every tensor where torch is
#       installed; timed inside Python, after the imports (torch's alone
#       takes about 2 s here)
#   (g) the same into memory already written: a buffer the caller reuses
#       (granary.load(..., buffer=)), as a server swapping models does; the
#       page cache is dropped between the warm-up load and the timed one
#   (h) granary load again, after `granary warm` had the chunk servers read
#       the file into their page cache (as before a fleet rollout); the
#       warm itself is timed apart
# Then first_touch: how fast this machine hands out fresh memory, the
# ceiling of any load into new host memory.
# Every read is cold (drop_caches first); 2 rounds in ABBA order; the
# checkpoint is real bf16 weights repeated to size (make_big_checkpoint.py).
#
#   bash bench/load.sh [--gib N] [--device host|cuda:N] [--source DIR]
#
# --source DIR: the bf16 .safetensors files to repeat (default: the bf16
# conversion of bench/make_safetensors.sh; a GPU machine that cannot fetch
# gets a copy, see bench/gpu_session.sh). On a GPU, (a) and (b) are
# gpu_copy_bench's read() of the whole file then one cudaMemcpy, and (c) its
# pinned copies. Where no FUSE mount can be made, (a) says so.
# GRANARY_BUILD_DIR: where bin/ is (default build).
#
# Needs root (FUSE, drop_caches) and the build (tools/bootstrap.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
gib=2
device=host
source=
while (($#)); do
  case "$1" in
    --gib) gib="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --source) source="$2"; shift 2 ;;
    *) echo "load.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
build="${GRANARY_BUILD_DIR:-build}"
[[ $build == /* ]] || build="$(pwd)/$build"
bin="$build/bin"
case "$device" in
  host) gpu= ;;
  cuda:[0-9]*) gpu="${device#cuda:}" ;;
  *) echo "load.sh: --device is host or cuda:N, not $device" >&2; exit 2 ;;
esac
if [[ -n $gpu ]] && ! "$bin/gpu_copy_bench" h2d $((1 << 20)) "$gpu" > /dev/null; then
  echo "load.sh: $device is not usable here (the error above); nothing was measured" >&2
  exit 1
fi
big=$(GRANARY_BUILD_DIR="$build" bash bench/big_checkpoint.sh "$gib" ${source:+"$source"})
bytes=$(stat -c %s "$big")

work=$(mktemp -d "${TMPDIR:-/tmp}/granary-load-XXXXXX")
mnt="$work/mnt"
cleanup() {
  [[ -d "$mnt" ]] && { fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt" 2>/dev/null || true; }
  (cd "$work" && "$bin/granary" dev down --wipe >/dev/null 2>&1) || true
  rm -rf "$work"
}
trap cleanup EXIT
(cd "$work" && "$bin/granary" dev up >/dev/null)
g() { (cd "$work" && "$bin/granary" "$@"); }
g put "$big" /big.safetensors >/dev/null 2>&1
mkdir -p "$mnt"
have_fuse=1
if ! g mount "$mnt" >/dev/null 2>"$work/mount.err"; then
  have_fuse=0
  echo "load.sh: no FUSE mount here, (a) is skipped: $(head -c 300 "$work/mount.err")" >&2
fi

cold="cold"
drop() {
  sync
  if ! echo 3 2>/dev/null > /proc/sys/vm/drop_caches; then
    [[ $cold == cold ]] && echo "load.sh: cannot drop the page cache here: reads are warm" >&2
    cold="WARM (the page cache could not be dropped)"
  fi
}
# What a naive user does: the whole file into one buffer in memory (then one
# cudaMemcpy, which (c) bounds).
slurp='import sys; f = open(sys.argv[1], "rb", buffering=0); b = f.read(); assert len(b) > 0' 
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
declare -A total=([fuse]=0 [local]=0 [load]=0 [get]=0 [py]=0 [reuse]=0 [self]=0 [warm]=0 [warmed]=0)
pydir="$build/python"
python="${GRANARY_PYTHON:-/usr/bin/python3}"
pyload='
import sys, time, granary
try:
    import torch
except ImportError:
    torch = None
buffer = None
if sys.argv[3] == "reuse":  # a warm-up load into the buffer, then cold storage again
    need = granary.load(sys.argv[1], device=sys.argv[2]).allocated_bytes + 256
    buffer = bytearray(need)
    granary.load(sys.argv[1], device=sys.argv[2], buffer=buffer)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3")
t0 = time.monotonic()
ckpt = granary.connect().load(sys.argv[1], device=sys.argv[2], buffer=buffer)
if torch:
    state = {name: torch.from_dlpack(t) for name, t in ckpt.items()}
else:
    state = dict(ckpt.items())
assert len(state) == len(ckpt) > 0
print(time.monotonic() - t0)
'
have_py=0
[[ -d "$pydir" ]] && PYTHONPATH="$pydir" "$python" -c 'import granary' 2>/dev/null && have_py=1
export GRANARY_META=$(cd "$work" && "$bin/granary" dev status | sed -n 's/^meta address: //p')
run() {  # run NAME: one cold measurement
  drop
  local t0 t1
  if [[ $1 == py || $1 == reuse ]]; then  # timed inside Python, after its imports
    local s
    s=$(PYTHONPATH="$pydir" "$python" -c "$pyload" /big.safetensors "$device" "$1")
    total[$1]=$(awk -v a="${total[$1]}" -v d="$s" 'BEGIN { print a + d }')
    return
  fi
  if [[ $1 == warm ]]; then  # warm (timed apart), then the load it is for
    t0=$(date +%s.%N)
    g warm /big.safetensors > /dev/null
    t1=$(date +%s.%N)
    total[warm]=$(awk -v s="${total[warm]}" -v d="$(secs "$t0" "$t1")" 'BEGIN { print s + d }')
    t0=$(date +%s.%N)
    g load /big.safetensors --device "$device" > /dev/null
    t1=$(date +%s.%N)
    total[warmed]=$(awk -v s="${total[warmed]}" -v d="$(secs "$t0" "$t1")" 'BEGIN { print s + d }')
    return
  fi
  t0=$(date +%s.%N)
  case "$1" in
    fuse | local)
      local file="$big"
      [[ $1 == fuse ]] && file="$mnt/big.safetensors"
      if [[ -n $gpu ]]; then
        "$bin/gpu_copy_bench" file "$file" "$gpu" > /dev/null
      else
        python3 -c "$slurp" "$file"
      fi
      ;;
    load) g load /big.safetensors --device "$device" > "$work/load.out" ;;
    get) g get /big.safetensors - > /dev/null 2>&1 ;;
  esac
  t1=$(date +%s.%N)
  total[$1]=$(awk -v s="${total[$1]}" -v d="$(secs "$t0" "$t1")" 'BEGIN { print s + d }')
  if [[ $1 == load ]]; then  # the loader's own clock: no process start, no CUDA context
    local own
    own=$(sed -n 's/.* in \([0-9.]*\) s: .*/\1/p' "$work/load.out" | head -1)
    total[self]=$(awk -v s="${total[self]}" -v d="$own" 'BEGIN { print s + d }')
  fi
}
for round in 1 2; do
  if ((round == 1)); then order="fuse local get load"; else order="load get local fuse"; fi
  ((have_fuse)) || order="${order//fuse/}"
  if ((round == 1)); then order="$order warm"; else order="warm $order"; fi
  if ((have_py)); then
    if ((round == 1)); then order="$order py"; else order="py $order"; fi
    if [[ $device == host ]]; then
      if ((round == 1)); then order="$order reuse"; else order="reuse $order"; fi
    fi
  fi
  for m in $order; do run "$m"; done
done
gbps() { awk -v b="$bytes" -v t="$1" 'BEGIN { printf "%.2f", 2 * b / t / 1e9 }'; }
h2d="n/a (no GPU: host target)"
h2d_gbps=
if [[ -n $gpu ]]; then
  read -r _ h2d_gbps gpu_name < <("$bin/gpu_copy_bench" h2d "$bytes" "$gpu")
  h2d="$h2d_gbps ($gpu_name)"
fi
fuse_gbps="n/a (no FUSE mount here)"
((have_fuse)) && fuse_gbps=$(gbps "${total[fuse]}")
naive="read() whole"
[[ -n $gpu ]] && naive="read() whole, then one cudaMemcpy"
echo "# load of ${bytes} bytes (real bf16 weights from $(basename "${source:-bf16}"), ${gib} GiB), device $device, $cold, 2 rounds ABBA"
echo
echo "| path | GB/s |"
echo "|---|---:|"
echo "| (a) through the FUSE mount: $naive | $fuse_gbps |"
echo "| (b) from a local file: $naive | $(gbps "${total[local]}") |"
echo "| (c) pinned host-to-device | $h2d |"
echo "| (d) granary load | $(gbps "${total[load]}") |"
echo "| (d) as timed by the loader (no process start or CUDA context) | $(gbps "${total[self]}") |"
echo "| (e) cluster read bandwidth (granary get to /dev/null) | $(gbps "${total[get]}") |"
echo "| (h) granary load after granary warm (warm itself: $(awk -v t="${total[warm]}" 'BEGIN { printf "%.2f", t / 2 }') s) | $(gbps "${total[warmed]}") |"
if ((have_py)); then
  echo "| (f) granary.load from Python, + torch.from_dlpack where installed (after imports) | $(gbps "${total[py]}") |"
  if [[ $device == host ]]; then
    echo "| (g) the same into a reused buffer (memory already written) | $(gbps "${total[reuse]}") |"
  fi
fi
echo
# The ceiling of any load into fresh host memory on this machine.
read -r _ t4k _ _ _ thuge _ tagain < <("$bin/first_touch" "$bytes")
echo "fresh memory, first write: ${t4k} GB/s (4 KiB pages), ${thuge} GB/s (huge pages);" \
     "memory already written: ${tagain} GB/s"
echo
if ((have_fuse)); then
  awk -v a="${total[fuse]}" -v d="${total[load]}" 'BEGIN { printf "(d) / (a): %.2fx\n", a / d }'
fi
awk -v d="${total[load]}" -v e="${total[get]}" 'BEGIN { printf "(d) / (e): %.0f%%\n", 100 * e / d }'
if [[ -n $h2d_gbps ]]; then  # the target: the lesser of the link and the cluster
  awk -v d="$(gbps "${total[load]}")" -v e="$(gbps "${total[get]}")" -v c="$h2d_gbps" \
    'BEGIN { m = c < e ? c : e; printf "(d) / min((c), (e)): %.0f%%\n", 100 * d / m }'
fi
echo
echo "last granary load:"
sed 's/^/    /' "$work/load.out"
