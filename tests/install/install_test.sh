#!/usr/bin/env bash
# Installs this build into a fresh prefix and then uses only what was
# installed: the installed CLI starts a dev cluster of the installed daemons
# and stores a checkpoint; a program built against the installed CMake
# package (find_package(Granary), libgranary.so) loads it and compares every
# tensor; the installed Python module loads it too; the systemd units name
# the installed binaries; the example configs are read by the daemons.
#
#   install_test.sh BUILD_DIR [PYTHON]   (ctest runs it as Install.Prefix)
set -euo pipefail
build=$(cd "$1" && pwd)
python=${2:-}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/granary-install-XXXXXX")
p="$work/prefix"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -x $p/bin/granary ]] && (cd "$work" && "$p/bin/granary" dev down --wipe >/dev/null 2>&1) || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$p" >/dev/null
for f in bin/granary bin/granary-metad bin/granary-chunkd bin/granary-fuse; do
  [[ -x $p/$f ]] || fail "$f was not installed"
done
[[ -e $p/lib/libgranary.so ]] || fail "lib/libgranary.so was not installed"
for unit in granary-metad granary-chunkd; do
  grep -qx "ExecStart=$p/bin/$unit --config /etc/granary/${unit#granary-}.toml" \
    "$p/lib/systemd/system/$unit.service" || fail "$unit.service does not start $p/bin/$unit"
done

# The example configs parse: each daemon starts from its example, the
# addresses and folders overridden by flags (flags win over the file).
wait_for() {  # wait_for FILE: until a daemon writes its port file (60 s: CI runs tests side by side)
  for _ in $(seq 1200); do
    [[ -s $1 ]] && return 0
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || fail "a daemon exited on its example config (its error is above)"
    done
    sleep 0.05
  done
  fail "no $1 after 60 s: a daemon did not start from its example config: $(tail -n 5 "$work"/*.log 2>/dev/null)"
}
"$p/bin/granary-metad" --config "$p/share/granary/metad.toml" --listen 127.0.0.1:0 \
  --data-dir "$work/meta" --metrics-address 127.0.0.1:0 --port-file "$work/meta.port" \
  --log-file "$work/metad.log" &
pids+=($!)
wait_for "$work/meta.port"
# A chunk server advertises a port it can be dialled on: take a free one.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$p/bin/granary-chunkd" --config "$p/share/granary/chunkd.toml" --listen "127.0.0.1:$port" \
  --advertise "127.0.0.1:$port" --meta "$(head -1 "$work/meta.port")" --data-dir "$work/chunks" \
  --metrics-address 127.0.0.1:0 --port-file "$work/chunkd.port" --log-file "$work/chunkd.log" &
pids+=($!)
wait_for "$work/chunkd.port"
for pid in "${pids[@]}"; do kill "$pid"; wait "$pid" || true; done
pids=()

# A checkpoint stored with the installed CLI on a dev cluster of the
# installed daemons.
g() { (cd "$work" && "$p/bin/granary" "$@"); }
g dev up >/dev/null
meta=$(g dev status | sed -n 's/^meta address: //p')
python3 - "$work/ckpt.safetensors" <<'PY'
import json, struct, sys
tensors = {"a": ("F32", [64, 33]), "b.weight": ("BF16", [1000]), "c": ("U8", [7])}
header, data = {}, b""
for i, (name, (dtype, shape)) in enumerate(tensors.items()):
    n = {"F32": 4, "BF16": 2, "U8": 1}[dtype]
    for d in shape:
        n *= d
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + n]}
    data += bytes((i * 31 + k * 7) % 251 for k in range(n))
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + data)
PY
g put "$work/ckpt.safetensors" /ckpt.safetensors >/dev/null

# A program built against the installed package alone.
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S "$src/consumer" -B "$work/consumer" "${gen[@]}" -DCMAKE_PREFIX_PATH="$p" >/dev/null ||
  fail "find_package(Granary) failed against $p"
cmake --build "$work/consumer" >/dev/null || fail "the consumer does not build against $p"
# Not `ldd | grep -q`: with pipefail, grep quitting early can fail ldd (SIGPIPE).
linked=$(ldd "$work/consumer/load_and_compare")
[[ $linked == *"$p/lib/libgranary.so"* ]] ||
  fail "the consumer is not linked to the installed libgranary.so: $linked"
"$work/consumer/load_and_compare" "$meta" /ckpt.safetensors "$work/ckpt.safetensors"

# The installed Python module, where it was built.
if [[ -n $python ]]; then
  pydir=$(dirname "$(find "$p" -name 'granary*.so' -path '*dist-packages*' | head -1)")
  [[ -d $pydir && $pydir == $p/* ]] || fail "the Python module was not installed under $p"
  PYTHONPATH="$pydir" "$python" - "$meta" "$work/ckpt.safetensors" "$pydir" <<'PY'
import json, os, struct, sys
import granary
assert os.path.dirname(granary.__file__) == sys.argv[3], granary.__file__
raw = open(sys.argv[2], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
ckpt = granary.connect(sys.argv[1]).load("/ckpt.safetensors")
assert sorted(ckpt.keys()) == sorted(header), ckpt.keys()
for name, t in header.items():
    b, e = t["data_offsets"]
    assert ckpt[name].tobytes() == raw[8 + n + b:8 + n + e], name
print("python: %d tensors match" % len(header))
PY
fi
echo "install_test: ok"
