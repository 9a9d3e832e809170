"""The Python module `granary` against a real dev cluster on 127.0.0.1.

Run by ctest (tests/python/CMakeLists.txt) with PYTHONPATH naming the built
module and GRANARY_BIN the CLI that starts and stops the cluster. Tensors are
checked byte for byte, through NumPy's DLPack import (and PyTorch's, where
torch is installed), and must share the loader's memory, not copy it.
"""
import gc
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest

import numpy as np

import granary

GRANARY = os.environ["GRANARY_BIN"]
CLUSTER_DIR = None
META = None


def run_cli(*args):
    return subprocess.run([GRANARY, *args], check=True, capture_output=True, text=True,
                          env={**os.environ, "GRANARY_META": META or ""}, timeout=120).stdout


def setUpModule():
    global CLUSTER_DIR, META
    CLUSTER_DIR = tempfile.mkdtemp(prefix="granary-py-")
    try:
        out = subprocess.run([GRANARY, "dev", "up", "--dir", CLUSTER_DIR], check=True,
                             capture_output=True, text=True, timeout=120).stdout
        META = re.search(r"^metad: (\S+)", out, re.M).group(1)
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    # `dev down` stops the processes by the pids it recorded.
    subprocess.run([GRANARY, "dev", "down", "--wipe", "--dir", CLUSTER_DIR],
                   capture_output=True, timeout=120)
    shutil.rmtree(CLUSTER_DIR, ignore_errors=True)


def safetensors_bytes(tensors):
    """A .safetensors file of (name, dtype, numpy array) entries."""
    header, blobs, offset = {}, [], 0
    for name, dtype, array in tensors:
        raw = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def tensor_bytes(path):
    """name -> raw bytes of each tensor of a local .safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    return {k: data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]
            for k, v in header.items()}


class Module(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = granary.connect(META)
        rng = np.random.default_rng(7)
        cls.arrays = {
            # 12 MiB: several 1 MiB blocks, two 8 MiB pieces.
            "layers.0.weight": ("F32", rng.standard_normal((3, 1024, 1024), dtype=np.float32)),
            "layers.1.weight": ("F16", rng.standard_normal((513,)).astype(np.float16)),
            "layers.1.index": ("I64", np.arange(21, dtype=np.int64).reshape(7, 3)),
            "embed.table": ("U8", rng.integers(0, 256, (4096, 33), dtype=np.uint8)),
        }
        cls.client.write("/synthetic.safetensors",
                         safetensors_bytes([(k, d, a) for k, (d, a) in cls.arrays.items()]))

    def test_load_into_host_memory_shares_it_with_numpy(self):
        ckpt = self.client.load("/synthetic.safetensors")
        self.assertEqual(sorted(ckpt.keys()), sorted(self.arrays))
        self.assertEqual(ckpt.device, "host")
        self.assertEqual([t.name for t in ckpt.values()], list(ckpt.keys()))
        self.assertEqual(sorted(dict(ckpt.items())), sorted(self.arrays))
        self.assertIsNone(ckpt.get("no.such.tensor"))
        self.assertEqual(ckpt.get("embed.table").name, "embed.table")
        self.assertIn("4 tensors", repr(ckpt))
        self.assertIn("embed.table U8[4096, 33] on host", repr(ckpt["embed.table"]))
        for name, (dtype, expected) in self.arrays.items():
            t = ckpt[name]
            self.assertEqual((t.dtype, t.shape, t.nbytes), (dtype, expected.shape, expected.nbytes))
            got = np.from_dlpack(t)
            self.assertEqual(got.dtype, expected.dtype, name)
            np.testing.assert_array_equal(got, expected, err_msg=name)
            # No copy: the array is the loader's memory.
            self.assertEqual(got.ctypes.data, t.data_ptr, name)
            self.assertEqual(t.data_ptr % 256, 0, "tensors start 256-byte aligned")
        self.assertGreaterEqual(ckpt.stats["bytes"], sum(a.nbytes for _, a in self.arrays.values()))

    def test_threads_load_at_once(self):
        # The GIL is released during a load: four loads on one client overlap.
        import threading
        results, errors = [None] * 4, []

        def work(i):
            try:
                results[i] = self.client.load("/synthetic.safetensors", piece_mib=1)
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(errors, [])
        for ckpt in results:
            np.testing.assert_array_equal(np.from_dlpack(ckpt["layers.0.weight"]),
                                          self.arrays["layers.0.weight"][1])

    def test_module_level_load_connects_for_one_call(self):
        ckpt = granary.load("/synthetic.safetensors", meta=META, tensors="embed.*")
        self.assertEqual(list(ckpt.keys()), ["embed.table"])
        np.testing.assert_array_equal(np.from_dlpack(ckpt["embed.table"]),
                                      self.arrays["embed.table"][1])

    def test_load_into_a_callers_buffer(self):
        buf = np.zeros(16 << 20, dtype=np.uint8)
        for _ in range(2):  # the same memory, loaded twice
            ckpt = self.client.load("/synthetic.safetensors", buffer=buf)
            self.assertEqual(ckpt.allocated_bytes, 0)
            for name, (_, expected) in self.arrays.items():
                t = ckpt[name]
                self.assertTrue(buf.ctypes.data <= t.data_ptr < buf.ctypes.data + buf.nbytes)
                self.assertEqual(t.data_ptr % 256, 0, name)
                np.testing.assert_array_equal(np.from_dlpack(t), expected, err_msg=name)
        with self.assertRaisesRegex(ValueError, "the buffer holds 100 bytes"):
            self.client.load("/synthetic.safetensors", buffer=np.zeros(100, np.uint8))
        with self.assertRaises((BufferError, TypeError)):
            self.client.load("/synthetic.safetensors", buffer=bytes(16 << 20))  # read-only
        with self.assertRaisesRegex(ValueError, "device"):
            self.client.load("/synthetic.safetensors", device="cuda:0", buffer=buf)

    def test_load_into_a_models_own_arrays(self):
        # Parameters allocated before the load: each lands in its own array.
        weight = np.empty((3, 1024, 1024), np.float32)
        index = np.empty((7, 3), np.int64)
        raw = bytearray(4096 * 33)  # bytes take any tensor
        ckpt = self.client.load("/synthetic.safetensors", into={
            "layers.0.weight": weight, "layers.1.index": index, "embed.table": raw})
        np.testing.assert_array_equal(weight, self.arrays["layers.0.weight"][1])
        np.testing.assert_array_equal(index, self.arrays["layers.1.index"][1])
        self.assertEqual(bytes(raw), self.arrays["embed.table"][1].tobytes())
        self.assertEqual(ckpt["layers.0.weight"].data_ptr, weight.ctypes.data)
        # Only the one tensor without a destination is in the allocation.
        self.assertEqual(ckpt.allocated_bytes, self.arrays["layers.1.weight"][1].nbytes)
        np.testing.assert_array_equal(np.from_dlpack(ckpt["layers.1.weight"]),
                                      self.arrays["layers.1.weight"][1])

    def test_wrong_destinations_name_the_tensor(self):
        path = "/synthetic.safetensors"
        with self.assertRaisesRegex(ValueError, r'tensor "layers.1.index" holds 84 bytes; the '
                                                r'tensor is 168'):
            self.client.load(path, into={"layers.1.index": np.empty(21, np.int32)})
        with self.assertRaisesRegex(ValueError, r'tensor "layers.1.index" is F64; the tensor is I64'):
            self.client.load(path, into={"layers.1.index": np.empty(21, np.float64)})
        with self.assertRaisesRegex(FileNotFoundError, r'tensor "layers.9.weight", which the '
                                                       r'checkpoint does not have'):
            self.client.load(path, into={"layers.9.weight": np.empty(4, np.uint8)})
        loose = self.client.load(path, into={"layers.9.weight": np.empty(4, np.uint8)},
                                 strict=False)
        self.assertEqual(loose.unfilled, ["layers.9.weight"])
        with self.assertRaisesRegex(TypeError, "into: expected"):
            self.client.load(path, into=[np.empty(4)])
        with self.assertRaisesRegex(ValueError, r'into\["layers.1.index"\]'):
            self.client.load(path, device="cuda:0", into={"layers.1.index": np.empty(21, np.int64)})

    def test_warm_reads_every_replica(self):
        stats = self.client.warm("/synthetic.safetensors")
        self.assertEqual((stats["files"], stats["failed"], stats["missing"]), (1, 0, 0))
        self.assertGreaterEqual(stats["chunks"], 1)
        self.assertEqual(stats["replicas"], 3 * stats["chunks"])  # the dev cluster keeps 3
        self.assertGreater(stats["bytes"], 0)
        one = self.client.warm("/synthetic.safetensors", all_replicas=False)
        self.assertEqual(one["replicas"], one["chunks"])
        with self.assertRaises(FileNotFoundError):
            self.client.warm("/no/such/file")

    def test_arrays_keep_the_memory_alive_after_the_checkpoint_is_gone(self):
        ckpt = self.client.load("/synthetic.safetensors")
        got = np.from_dlpack(ckpt["layers.0.weight"])
        del ckpt
        gc.collect()
        # Memory fresh from another load, to reuse whatever was freed.
        again = self.client.load("/synthetic.safetensors")
        np.testing.assert_array_equal(got, self.arrays["layers.0.weight"][1])
        self.assertEqual(len(again), len(self.arrays))

    def test_unconsumed_capsules_are_released(self):
        ckpt = self.client.load("/synthetic.safetensors", tensors="layers.1.*")
        for _ in range(1000):
            capsule = ckpt["layers.1.weight"].__dlpack__()
            del capsule
        self.assertEqual(ckpt["layers.1.weight"].__dlpack_device__(), (1, 0))  # kDLCPU
        # What newer consumers (NumPy 2, PyTorch 2) pass.
        t = ckpt["layers.1.weight"]
        capsule = t.__dlpack__(stream=None, max_version=(1, 0), dl_device=(1, 0), copy=False)
        self.assertIn("dltensor", repr(capsule))
        with self.assertRaisesRegex(BufferError, "only where it is"):
            t.__dlpack__(dl_device=(2, 0))
        with self.assertRaisesRegex(BufferError, "without a copy"):
            t.__dlpack__(copy=True)

    def test_filter_loads_only_matching_tensors(self):
        ckpt = self.client.load("/synthetic.safetensors", tensors="layers.1.*,embed.*",
                                reads_in_flight=2, piece_mib=1)
        self.assertEqual(sorted(ckpt.keys()), ["embed.table", "layers.1.index", "layers.1.weight"])
        self.assertNotIn("layers.0.weight", ckpt)
        with self.assertRaises(KeyError):
            ckpt["layers.0.weight"]
        self.assertLess(ckpt.allocated_bytes, 1 << 20)
        np.testing.assert_array_equal(np.from_dlpack(ckpt["embed.table"]),
                                      self.arrays["embed.table"][1])
        with self.assertRaisesRegex(FileNotFoundError, "no tensor matches"):
            self.client.load("/synthetic.safetensors", tensors="nothing.*")

    def test_tensor_parallel_ranks_get_their_slices(self):
        world = 4
        split = {"layers.0.*": 1, "embed.*": 0}  # columns of a 3-D weight, rows of a table
        parts = []
        for rank in range(world):
            ckpt = self.client.load("/synthetic.safetensors", rank=rank, world=world,
                                    split=split, piece_mib=1)
            weight = np.from_dlpack(ckpt["layers.0.weight"])
            full = self.arrays["layers.0.weight"][1]
            np.testing.assert_array_equal(weight, np.split(full, world, axis=1)[rank])
            self.assertEqual(ckpt["layers.0.weight"].split, (1, rank * 256, (rank + 1) * 256))
            table = self.arrays["embed.table"][1]
            np.testing.assert_array_equal(np.from_dlpack(ckpt["embed.table"]),
                                          np.split(table, world, axis=0)[rank])
            self.assertIsNone(ckpt["layers.1.index"].split)  # no rule: whole
            parts.append(weight.copy())
        np.testing.assert_array_equal(np.concatenate(parts, axis=1),
                                      self.arrays["layers.0.weight"][1])
        with self.assertRaisesRegex(TypeError, "split: expected"):
            self.client.load("/synthetic.safetensors", world=2, split=["layers.*"])
        with self.assertRaisesRegex(ValueError, "layers.1.weight.*does not split"):
            self.client.load("/synthetic.safetensors", rank=0, world=4,
                             split=[("layers.1.weight", 0)])  # 513 rows

    def test_malformed_header_is_a_clear_error(self):
        good = safetensors_bytes([("w", "F32", np.zeros((4, 4), np.float32))])
        bad = good.replace(b"[4, 4]", b"[4, 5]")
        self.assertNotEqual(good, bad)
        self.client.write("/bad.safetensors", bad)
        with self.assertRaises(granary.Error) as caught:
            self.client.load("/bad.safetensors")
        self.assertEqual(caught.exception.code, "CORRUPTION")
        self.assertIn("/bad.safetensors", str(caught.exception))

    def test_bad_arguments_name_what_was_wrong(self):
        with self.assertRaisesRegex(ValueError, "cuda:x"):
            self.client.load("/synthetic.safetensors", device="cuda:x")
        with self.assertRaisesRegex(ValueError, "reads_in_flight"):
            self.client.load("/synthetic.safetensors", reads_in_flight=0)
        with self.assertRaisesRegex(FileNotFoundError, "/missing"):
            self.client.load("/missing.safetensors")
        ckpt = self.client.load("/synthetic.safetensors", tensors="layers.1.weight")
        with self.assertRaisesRegex(ValueError, "stream"):
            ckpt["layers.1.weight"].__dlpack__(stream=1)

    def test_cuda_without_a_gpu_says_so(self):
        try:
            ckpt = self.client.load("/synthetic.safetensors", device="cuda:0")
        except granary.Error as e:
            self.assertEqual(e.code, "UNIMPLEMENTED")
            self.assertIn("--device host", str(e))
            return
        # A GPU is visible: then the tensors are there.
        t = ckpt["layers.1.index"]
        self.assertEqual(t.__dlpack_device__(), (2, 0))  # kDLCUDA
        self.assertEqual(t.tobytes(), self.arrays["layers.1.index"][1].tobytes())

    def test_files_read_write_stat_listdir(self):
        self.client.mkdir("/py")
        payload = bytes(range(256)) * 5000
        self.assertEqual(self.client.write("/py/blob", payload, replicas=2), len(payload))
        self.assertEqual(self.client.read("/py/blob"), payload)
        self.assertEqual(self.client.read("/py/blob", offset=1000, length=10), payload[1000:1010])
        self.assertEqual(self.client.read("/py/blob", offset=len(payload) + 5), b"")
        info = self.client.stat("/py/blob")
        self.assertEqual((info["type"], info["size"], info["replicas"]), ("file", len(payload), 2))
        self.assertEqual(self.client.listdir("/py"), ["blob"])
        # Any contiguous buffer writes; a strided one is refused by name.
        grid = np.arange(64, dtype=np.uint16).reshape(8, 8)
        self.assertEqual(self.client.write("/py/grid", grid), 128)
        self.assertEqual(self.client.read("/py/grid"), grid.tobytes())
        with self.assertRaisesRegex((BufferError, ValueError), "contiguous"):
            self.client.write("/py/strided", grid[:, ::2])
        # A whole file through the loader: one U8 tensor.
        blob = self.client.load("/py/blob")["blob"]
        self.assertEqual((blob.dtype, blob.shape), ("U8", (len(payload),)))
        self.assertEqual(np.from_dlpack(blob).tobytes(), payload)

    def test_connecting_to_nothing_fails_clearly(self):
        with self.assertRaises(granary.Error) as caught:
            granary.connect("127.0.0.1:1")
        self.assertIn("127.0.0.1:1", str(caught.exception))

    def test_real_weights_byte_identical_and_shared_with_torch(self):
        data_dir = os.environ.get("GRANARY_SAFETENSORS_DIR")
        if not data_dir:
            self.skipTest("GRANARY_SAFETENSORS_DIR not set (bench/make_safetensors.sh)")
        folder = os.path.join(data_dir, "bf16")
        local = os.path.join(folder, sorted(f for f in os.listdir(folder)
                                            if f.endswith(".safetensors"))[0])
        run_cli("put", local, "/real.safetensors")  # with the codec's dtype hints
        ckpt = self.client.load("/real.safetensors")
        expected = tensor_bytes(local)
        self.assertEqual(sorted(ckpt.keys()), sorted(expected))
        for name, raw in expected.items():
            self.assertEqual(ckpt[name].tobytes(), raw, name)
        try:
            import torch
        except ImportError:
            return  # NumPy has no bfloat16: the bytes above are the check
        dtypes = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32,
                  "I32": torch.int32, "I64": torch.int64, "U8": torch.uint8}
        self.assertIn("BF16", {ckpt[name].dtype for name in expected})
        for name, raw in expected.items():
            t = torch.from_dlpack(ckpt[name])
            self.assertEqual(t.dtype, dtypes[ckpt[name].dtype], name)
            self.assertEqual(tuple(t.shape), ckpt[name].shape, name)
            self.assertEqual(t.data_ptr(), ckpt[name].data_ptr, name)
            self.assertEqual(t.reshape(-1).view(torch.uint8).numpy().tobytes(), raw, name)
        # A model's parameters (they require grad) as destinations, by name.
        params = {name: torch.nn.Parameter(torch.empty(ckpt[name].shape,
                                                       dtype=dtypes[ckpt[name].dtype]))
                  for name in expected if ckpt[name].dtype in ("BF16", "F32")}
        self.assertTrue(params)
        self.client.load("/real.safetensors", into=params)
        for name, p in params.items():
            self.assertEqual(p.detach().reshape(-1).view(torch.uint8).numpy().tobytes(),
                             expected[name], name)
        # A module's state_dict as it is, with a tied weight the checkpoint
        # stores once: strict=False fills it through its alias.
        model = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.Linear(8, 4))
        model[1].weight = model[0].weight
        self.client.write("/tied.safetensors", safetensors_bytes([
            ("0.weight", "F32", np.arange(32, dtype=np.float32).reshape(4, 8)),
            ("0.bias", "F32", np.ones(4, np.float32)),
            ("1.bias", "F32", np.full(4, 2, np.float32))]))
        ckpt = self.client.load("/tied.safetensors", into=model.state_dict(), strict=False)
        self.assertEqual(ckpt.unfilled, ["1.weight"])
        self.assertEqual(ckpt.allocated_bytes, 0)
        self.assertTrue(torch.equal(model[1].weight.detach(),
                                    torch.arange(32, dtype=torch.float32).reshape(4, 8)))
        self.assertTrue(torch.equal(model[1].bias.detach(), torch.full((4,), 2.0)))
        wrong = {name: torch.empty(p.shape, dtype=torch.float16) for name, p in params.items()
                 if p.dtype == torch.bfloat16}
        with self.assertRaisesRegex(ValueError, "is F16; the tensor is BF16"):
            self.client.load("/real.safetensors", into=wrong)


if __name__ == "__main__":
    unittest.main(verbosity=2)
