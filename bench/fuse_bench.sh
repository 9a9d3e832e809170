#!/usr/bin/env bash
# The FUSE mount next to a local folder and MooseFS (a mature peer: 1 master,
# 3 chunk servers, 3 copies), in one run, with one generic file-system
# workload (fsbench.sh: 2 GiB write/read cold and warm, 4 parallel readers,
# 10,000 x 16 KiB create/stat/read, 10,000 random 4 KiB reads, rm -r).
# Prints one markdown table with Granary/MooseFS ratios.
#
#   bash bench/fuse_bench.sh [--bench-dir DIR] [--no-moosefs] [--only granary]
#
# --bench-dir  folder holding fsbench.sh, moosefs-up.sh and moosefs-down.sh
#              (default: ../shared/bench next to the repository)
# --no-moosefs skip the MooseFS column
# --only L     run one column only (local, moosefs or granary)
# Needs root (FUSE, drop_caches) and the build (build/bin). Everything it
# starts is stopped and deleted at the end.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bench_dir="$(pwd)/../shared/bench"
moosefs=1
only=""
while (($#)); do
  case "$1" in
    --bench-dir) bench_dir="$2"; shift 2 ;;
    --no-moosefs) moosefs=0; shift ;;
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuse_bench.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
fsbench="$bench_dir/fsbench.sh"
[[ -f "$fsbench" ]] || { echo "fuse_bench.sh: $fsbench missing (use --bench-dir)" >&2; exit 1; }
bin="$(pwd)/${GRANARY_BUILD_DIR:-build}/bin"
[[ -x "$bin/granary-fuse" ]] || { echo "fuse_bench.sh: $bin/granary-fuse missing; build first" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/granary-fusebench-XXXXXX")
results="$work/results"
: > "$results"
mnt="$work/mnt"
fuse_pid=""
cleanup() {
  set +e
  if [[ -n "$fuse_pid" ]]; then fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt"; fi
  (cd "$work" && "$bin/granary" dev down --wipe >/dev/null 2>&1)
  [[ $moosefs == 1 ]] && bash "$bench_dir/moosefs-down.sh" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

want() { [[ -z "$only" || "$only" == "$1" ]]; }

if want local; then
  mkdir -p "$work/local"
  bash "$fsbench" "$work/local" local >> "$results" 2>> "$work/notes"
fi

if [[ $moosefs == 1 ]] && want moosefs; then
  mfs_mnt=$(bash "$bench_dir/moosefs-up.sh" 2>>"$work/notes" | sed -n 's/^MOUNTPOINT=//p')
  bash "$fsbench" "$mfs_mnt" moosefs >> "$results" 2>> "$work/notes"
  bash "$bench_dir/moosefs-down.sh" >/dev/null 2>&1 || true
fi

if want granary; then
  (cd "$work" && "$bin/granary" dev up >/dev/null)
  mkdir -p "$mnt"
  line=$(cd "$work" && "$bin/granary" mount "$mnt")
  fuse_pid=$(sed -n 's/.*granary-fuse pid \([0-9]*\).*/\1/p' <<<"$line")
  pids="fuse=$fuse_pid"
  # name = 'metad' / pid = N pairs from the dev cluster's state file
  pids="$pids $(awk -F" = " '$1=="name"{gsub("\x27","",$2); n=$2} $1=="pid"{printf "%s=%s ", n, $2}' \
    "$work/granary-dev/cluster.toml")"
  FSBENCH_WATCH_PIDS="$pids" bash "$fsbench" "$mnt" granary >> "$results" 2>> "$work/notes"
fi

echo "# machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
grep '^#' "$work/notes" | grep -v 'cpu(of' | sed 's/^/  /' >&2 || true
grep 'proc-cpu' "$work/notes" >&2 || true
awk '
  { v[$1" "$2]=$3; u[$2]=$4; if (!($2 in seen)) { seen[$2]=1; order[n++]=$2 } }
  END {
    printf "| test | unit | local | MooseFS | Granary | Granary / MooseFS |\n|---|---|---|---|---|---|\n"
    for (i = 0; i < n; i++) {
      t = order[i]; if (t == "drop_caches") continue
      l = v["local "t]; m = v["moosefs "t]; g = v["granary "t]
      r = "";
      if (m + 0 > 0 && g + 0 > 0) r = (t == "rm_tree") ? sprintf("%.2fx faster", m / g) : sprintf("%.2fx", g / m)
      printf "| %s | %s | %s | %s | %s | %s |\n", t, u[t], l, m, g, r
    }
  }' "$results"
