#!/usr/bin/env bash
# granary migrate next to the tools it replaces, on one tree, in one run:
# local -> cluster (cp -r to a local folder, granary put, granary migrate with
# and without fsync) and cluster -> cluster (granary get then put through a
# local folder, granary migrate straight across) between two dev clusters on
# this machine. Prints one markdown table.
#
#   bash bench/migrate.sh [--big-mib N] [--big-files N] [--small-files N] [--workdir DIR]
#
# The tree: --big-files files of --big-mib MiB (default 3 x 96) and
# --small-files files of 1 MiB (default 100) in 10 folders, random bytes.
# --workdir   where both clusters, the tree and copies live (default: a new
#             folder under $TMPDIR or /tmp; everything is on that one disk)
# Needs the build (build/bin, or $GRANARY_BUILD_DIR/bin). Page caches stay
# warm (no drop_caches): every row reads a source that was just written.
# Everything it starts is stopped and deleted at the end.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
big_mib=96
big_files=3
small_files=100
workdir=""
while (($#)); do
  case "$1" in
    --big-mib) big_mib="$2"; shift 2 ;;
    --big-files) big_files="$2"; shift 2 ;;
    --small-files) small_files="$2"; shift 2 ;;
    --workdir) workdir="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "migrate.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

granary="$(pwd)/${GRANARY_BUILD_DIR:-build}/bin/granary"
[[ -x "$granary" ]] || { echo "migrate.sh: $granary missing; run tools/bootstrap.sh" >&2; exit 1; }
if [[ -z "$workdir" ]]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/granary-migrate-bench-XXXXXX")
else
  mkdir -p "$workdir"
fi

cleanup() {
  "$granary" dev down --dir "$workdir/a" --wipe >/dev/null 2>&1 || true
  "$granary" dev down --dir "$workdir/b" --wipe >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT

now() { date +%s.%N; }
declare -A secs
# timed LABEL CMD...: runs CMD, stores the seconds in ${secs[LABEL]}.
timed() {
  local label=$1; shift
  local t0 t1
  t0=$(now)
  "$@" >/dev/null 2>"$workdir/last.err" || { cat "$workdir/last.err" >&2; exit 1; }
  t1=$(now)
  secs[$label]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

tree="$workdir/tree"
echo "creating the tree in $tree" >&2
for ((i = 0; i < big_files; i++)); do
  mkdir -p "$tree/big"
  head -c $((big_mib << 20)) /dev/urandom > "$tree/big/shard-$i.bin"
done
for ((i = 0; i < small_files; i++)); do
  mkdir -p "$tree/small/dir-$((i % 10))"
  head -c $((1 << 20)) /dev/urandom > "$tree/small/dir-$((i % 10))/part-$i.bin"
done
bytes=$(du -sb "$tree" | cut -f1)
files=$((big_files + small_files))

meta_of() { sed -n "s/^meta_address = [\"']\(.*\)[\"']\$/\1/p" "$1/cluster.toml"; }
"$granary" dev up --dir "$workdir/a" >&2
"$granary" dev up --dir "$workdir/b" >&2
a=$(meta_of "$workdir/a")
b=$(meta_of "$workdir/b")

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
timed cp_r cp -r "$tree" "$workdir/cp-copy"
timed cp_r_sync bash -c "cp -r '$tree' '$workdir/cp-copy-2' && sync"
timed put "$granary" --meta "$a" put "$tree" /put-tree
timed migrate_up "$granary" --meta "$a" migrate "$tree" granary:/migrate-tree
timed migrate_up_nofsync "$granary" --meta "$a" migrate --no-fsync "$tree" granary:/migrate-nofsync
timed migrate_rerun "$granary" --meta "$a" migrate "$tree" granary:/migrate-tree
timed get_put bash -c "'$granary' --meta '$a' get /put-tree '$workdir/staged' && \
  '$granary' --meta '$b' put '$workdir/staged' /via-local"
timed migrate_c2c "$granary" --meta "$a" migrate granary:/migrate-tree "granary://$b/c2c"
timed migrate_down "$granary" --meta "$a" migrate granary:/migrate-tree "$workdir/down"
cmp -s "$tree/big/shard-0.bin" "$workdir/down/big/shard-0.bin" || { echo "migrate.sh: copy differs" >&2; exit 1; }

rate() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.1f", (s > 0 ? b / s / 1e6 : 0) }'; }
row() { printf '| %s | %s | %s |\n' "$1" "${secs[$2]}" "$(rate "${secs[$2]}")"; }
mib=$((bytes >> 20))
echo
echo "Tree: $files files, $mib MiB ($big_files x $big_mib MiB + $small_files x 1 MiB); $(nproc) cores;"
echo "3 chunk servers per cluster, R=3; load average before / after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| copy | seconds | MB/s |"
echo "|---|---|---|"
row 'local -> local: `cp -r`' cp_r
row 'local -> local: `cp -r` + `sync`' cp_r_sync
row 'local -> cluster: `granary put` (fsync)' put
row 'local -> cluster: `granary migrate` (fsync, verified)' migrate_up
row 'local -> cluster: `granary migrate --no-fsync` (verified)' migrate_up_nofsync
printf '| %s | %s | - |\n' 'local -> cluster: `granary migrate` rerun, all skipped' "${secs[migrate_rerun]}"
row 'cluster -> cluster: `granary get` + `granary put` via a local folder' get_put
row 'cluster -> cluster: `granary migrate` (fsync, verified)' migrate_c2c
row 'cluster -> local: `granary migrate` (fsync, verified)' migrate_down
