#!/usr/bin/env bash
# put/get throughput of a local Granary cluster next to what the machine can do:
# granary put (R=3, fsync), granary get cold (after drop_caches) and warm,
# dd write (conv=fsync) and dd read (cold) of the same file, and iperf3 over
# loopback. Prints one markdown table.
#
#   bash bench/put_get.sh [--size-mib N] [--workdir DIR] [--jobs N]
#
# --size-mib  size of the incompressible test file (default 2048)
# --workdir   where the cluster, the test file and copies live (default: a new
#             folder under $TMPDIR or /tmp; everything is on that one disk)
# Needs the build (build/bin, or $GRANARY_BUILD_DIR/bin) and iperf3. Cold
# numbers need root (echo 3 > /proc/sys/vm/drop_caches); without it they are
# marked as warm. Everything it starts is stopped and deleted at the end.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
size_mib=2048
workdir=""
while (($#)); do
  case "$1" in
    --size-mib) size_mib="$2"; shift 2 ;;
    --workdir) workdir="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "put_get.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

granary="$(pwd)/${GRANARY_BUILD_DIR:-build}/bin/granary"
[[ -x "$granary" ]] || { echo "put_get.sh: $granary missing; run tools/bootstrap.sh" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "put_get.sh: iperf3 missing" >&2; exit 1; }

if [[ -z "$workdir" ]]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/granary-bench-XXXXXX")
else
  mkdir -p "$workdir"
fi
cluster="$workdir/cluster"
iperf_pid="$workdir/iperf3.pid"

cleanup() {
  "$granary" dev down --dir "$cluster" --wipe >/dev/null 2>&1 || true
  if [[ -s "$iperf_pid" ]]; then
    pid=$(cat "$iperf_pid")
    # Only the iperf3 server this script started (checked by command line).
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "^iperf3 -s"; then
      kill "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

now() { date +%s.%N; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? b / s / 1e6 : 0) }'; }
cold=1
drop_caches() {
  sync
  if ! { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then cold=0; fi
}
# timed LABEL CMD...: runs CMD, stores the seconds in ${secs[LABEL]}.
declare -A secs
timed() {
  local label=$1; shift
  local t0 t1
  t0=$(now)
  "$@"
  t1=$(now)
  secs[$label]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

bytes=$((size_mib * 1024 * 1024))
file="$workdir/random.bin"
echo "creating $size_mib MiB of random data in $file" >&2
head -c "$bytes" /dev/urandom > "$file"

"$granary" dev up --dir "$cluster" >&2
# toml++ writes strings in single quotes; accept either.
meta=$(sed -n "s/^meta_address = [\"']\(.*\)[\"']\$/\1/p" "$cluster/cluster.toml")
[[ -n "$meta" ]] || { echo "put_get.sh: no meta_address in $cluster/cluster.toml" >&2; exit 1; }
g() { "$granary" --meta "$meta" "$@"; }

echo "granary put (R=3, fsync)" >&2
timed put g put --replicas 3 "$file" /bench.bin
drop_caches
echo "granary get (cold)" >&2
timed get_cold g get /bench.bin "$workdir/get.out"
rm -f "$workdir/get.out"
echo "granary get (warm)" >&2
timed get_warm g get /bench.bin "$workdir/get.out"
cmp -s "$file" "$workdir/get.out" && verified=yes || verified=NO
rm -f "$workdir/get.out"

# The same reads into /dev/null: the read path alone, without the cost of
# writing a local copy (which dd write below bounds).
drop_caches
echo "granary get to /dev/null (cold)" >&2
timed null_cold bash -c "\"$granary\" --meta $meta get /bench.bin - > /dev/null"
echo "granary get to /dev/null (warm)" >&2
timed null_warm bash -c "\"$granary\" --meta $meta get /bench.bin - > /dev/null"

# The same two reads with local reads off: every byte over loopback TCP, as
# for a client on a host without chunk servers.
drop_caches
echo "granary get to /dev/null over TCP (cold)" >&2
timed tcp_cold bash -c "GRANARY_LOCAL_READS=0 \"$granary\" --meta $meta get /bench.bin - > /dev/null"
echo "granary get to /dev/null over TCP (warm)" >&2
timed tcp_warm bash -c "GRANARY_LOCAL_READS=0 \"$granary\" --meta $meta get /bench.bin - > /dev/null"

echo "dd write (conv=fsync)" >&2
timed dd_write dd if="$file" of="$workdir/dd.out" bs=1M conv=fsync status=none
rm -f "$workdir/dd.out"
drop_caches
echo "dd read (cold)" >&2
timed dd_read dd if="$file" of=/dev/null bs=1M status=none

# iperf3 on a free loopback port.
port=""
for _ in $(seq 50); do
  p=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[[ -n "$port" ]] || { echo "put_get.sh: no free port for iperf3" >&2; exit 1; }
iperf3 -s -D -1 -B 127.0.0.1 -p "$port" --pidfile "$iperf_pid"
for _ in $(seq 100); do [[ -s "$iperf_pid" ]] && break; sleep 0.05; done
echo "iperf3 loopback (5 s)" >&2
iperf=$(iperf3 -c 127.0.0.1 -p "$port" -t 5 -f M | awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i+1) == "MBytes/sec") v = $i } END { print v }')
iperf_mbs=$(awk -v v="$iperf" 'BEGIN { printf "%.1f", v * 1.048576 }')  # MiB/s -> MB/s

put=$(mbps "$bytes" "${secs[put]}")
get_cold=$(mbps "$bytes" "${secs[get_cold]}")
get_warm=$(mbps "$bytes" "${secs[get_warm]}")
null_cold=$(mbps "$bytes" "${secs[null_cold]}")
null_warm=$(mbps "$bytes" "${secs[null_warm]}")
tcp_cold=$(mbps "$bytes" "${secs[tcp_cold]}")
tcp_warm=$(mbps "$bytes" "${secs[tcp_warm]}")
dd_write=$(mbps "$bytes" "${secs[dd_write]}")
dd_read=$(mbps "$bytes" "${secs[dd_read]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (b > 0 ? "%.2fx" : "-"), a / b }'; }
cold_note=""
((cold)) || cold_note=" (NOT cold: drop_caches needs root)"

cat <<EOF

### put/get, $size_mib MiB random file, 3 chunk servers on one host$cold_note

| operation | MB/s | seconds | ratio |
|---|---:|---:|---|
| granary put (R=3, fsync) | $put | ${secs[put]} | $(ratio "$put" "$dd_write") of dd write |
| granary get, cold | $get_cold | ${secs[get_cold]} | $(ratio "$get_cold" "$dd_read") of dd read |
| granary get, warm | $get_warm | ${secs[get_warm]} | $(ratio "$get_warm" "$iperf_mbs") of iperf3 |
| granary get to /dev/null, cold | $null_cold | ${secs[null_cold]} | $(ratio "$null_cold" "$dd_read") of dd read |
| granary get to /dev/null, warm | $null_warm | ${secs[null_warm]} | $(ratio "$null_warm" "$iperf_mbs") of iperf3 |
| get to /dev/null over TCP (local reads off), cold | $tcp_cold | ${secs[tcp_cold]} | $(ratio "$tcp_cold" "$dd_read") of dd read |
| get to /dev/null over TCP (local reads off), warm | $tcp_warm | ${secs[tcp_warm]} | $(ratio "$tcp_warm" "$iperf_mbs") of iperf3 |
| dd write, conv=fsync | $dd_write | ${secs[dd_write]} | baseline for put |
| dd read, cold | $dd_read | ${secs[dd_read]} | baseline for cold get |
| iperf3 loopback, 5 s | $iperf_mbs | 5 | baseline for warm get |

get verified byte-identical: $verified. The chunk servers share this host, so
gets read replica files directly (local reads) unless GRANARY_LOCAL_READS=0. Note: R=3 on one host writes every byte
three times to the same disk, so put is bounded by about a third of dd write.
EOF
