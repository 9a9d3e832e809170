#!/usr/bin/env bash
# granary backup and granary restore next to granary get of the same tree, in
# one run on one dev cluster: a tree of several files (random bytes, so the
# pool's zstd gains nothing and the figure is the copy path itself), then
#   get      granary get of the tree to a local folder (warm)
#   backup   first granary backup (every chunk copied into the pool)
#   again    a second backup with nothing changed (manifest and checkpoint
#            only: every chunk object is already in the pool)
#   restore  granary restore into a second dev cluster with one chunk server
#            fewer, including the read-back verification
# Prints one markdown table.
#
#   bash bench/backup.sh [--size-mib N] [--files N] [--workdir DIR] [--jobs N]
#
# --size-mib  total size of the tree (default 512)
# --files     files it is split into (default 8)
# --workdir   where clusters, backup and copies live (default: a new folder
#             under $TMPDIR or /tmp; everything is on that one disk)
# --jobs      -j of get, backup and restore (default 4)
# Needs the build (build/bin, or $GRANARY_BUILD_DIR/bin). Everything it
# starts is stopped and deleted at the end.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
size_mib=512
files=8
jobs=4
workdir=""
while (($#)); do
  case "$1" in
    --size-mib) size_mib="$2"; shift 2 ;;
    --files) files="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --workdir) workdir="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "backup.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

granary="$(pwd)/${GRANARY_BUILD_DIR:-build}/bin/granary"
[[ -x "$granary" ]] || { echo "backup.sh: $granary missing; build first" >&2; exit 1; }
if [[ -z "$workdir" ]]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/granary-backup-bench-XXXXXX")
else
  mkdir -p "$workdir"
fi
src="$workdir/src-cluster"
dst="$workdir/dst-cluster"
cleanup() {
  "$granary" dev down --dir "$src" --wipe >/dev/null 2>&1 || true
  "$granary" dev down --dir "$dst" --wipe >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT

now() { date +%s.%N; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? b / s / 1e6 : 0) }'; }
declare -A secs
timed() {
  local label=$1; shift
  local t0 t1
  t0=$(now)
  "$@"
  t1=$(now)
  secs[$label]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}
meta_of() { sed -n "s/^meta_address = [\"']\(.*\)[\"']\$/\1/p" "$1/cluster.toml"; }

per_file=$((size_mib / files))
bytes=$((per_file * files * 1024 * 1024))
echo "creating $files files of $per_file MiB of random data" >&2
mkdir -p "$workdir/tree/sub"
for i in $(seq "$files"); do
  d="$workdir/tree"; ((i % 2)) && d="$workdir/tree/sub"
  head -c $((per_file * 1024 * 1024)) /dev/urandom > "$d/f$i.bin"
done

"$granary" dev up --dir "$src" -n 3 >&2
meta=$(meta_of "$src")
g() { "$granary" --meta "$meta" "$@"; }
g put "$workdir/tree" /tree >&2
rm -rf "$workdir/tree"

echo "granary get (warm)" >&2
g get /tree "$workdir/got" >/dev/null 2>&1 || true
rm -rf "$workdir/got"
timed get g get -j "$jobs" /tree "$workdir/got"
rm -rf "$workdir/got"
echo "granary backup (first, full)" >&2
timed backup g backup -j "$jobs" "$workdir/backup"
echo "granary backup (nothing changed)" >&2
timed again g backup -j "$jobs" "$workdir/backup"
pool=$(du -sb "$workdir/backup/pool" | cut -f1)

"$granary" dev up --dir "$dst" -n 2 >&2
echo "granary restore (2 chunk servers, with verification)" >&2
timed restore "$granary" --meta "$(meta_of "$dst")" restore -j "$jobs" "$workdir/backup" --path /tree

echo
echo "| $((bytes >> 20)) MiB in $files files, 3 chunk servers, -j $jobs | seconds | MB/s |"
echo "|---|---:|---:|"
echo "| granary get (warm) | ${secs[get]} | $(mbps "$bytes" "${secs[get]}") |"
echo "| granary backup, first run | ${secs[backup]} | $(mbps "$bytes" "${secs[backup]}") |"
echo "| granary backup, nothing changed | ${secs[again]} | - |"
echo "| granary restore to 2 servers (write + verify) | ${secs[restore]} | $(mbps "$bytes" "${secs[restore]}") |"
echo
echo "pool: $pool bytes for $bytes bytes of data"
