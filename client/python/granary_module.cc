// The Python module `granary`: the client library for Python programs, above
// all for loading a checkpoint straight into GPU (or host) memory and handing
// its tensors to PyTorch, JAX or NumPy without a copy:
//
//   import granary, torch
//   client = granary.connect("10.0.0.1:7000")        # or GRANARY_META
//   ckpt = client.load("/models/llama/", device="cuda:0", tensors="model.layers.1*")
//   state = {name: torch.from_dlpack(t) for name, t in ckpt.items()}
//
// Each tensor speaks the DLPack protocol (__dlpack__, __dlpack_device__); the
// memory stays alive while any tensor made from it does. Calls that wait on
// the network release the GIL. Errors are granary.Error (a RuntimeError with
// .code, e.g. "CORRUPTION"), or FileNotFoundError, PermissionError and
// ValueError for NOT_FOUND, PERMISSION_DENIED and INVALID_ARGUMENT.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "client/python/caller_memory.h"
#include "granary/client.h"
#include "granary/loader.h"

namespace py = pybind11;

namespace granary::python {
namespace {

// A failed Status on its way to Python (translated in the module init).
struct StatusError {
  Status status;
};

void Check(const Status& s) {
  if (!s.ok()) throw StatusError{s};
}

template <typename T>
T Take(Result<T> r) {
  if (!r.ok()) throw StatusError{r.status()};
  return std::move(*r);
}

const char* EnvOr(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

// One loaded checkpoint, shared by the Python Checkpoint and every Tensor
// taken from it (DLPack capsules hold the memory itself, not this).
using SharedCheckpoint = std::shared_ptr<const LoadedCheckpoint>;

// "host" or "cuda:N": where a checkpoint's tensors are.
std::string DeviceName(const LoadedCheckpoint& c) {
  return c.target() == LoadTarget::kCuda ? "cuda:" + std::to_string(c.device()) : "host";
}

class Tensor {
 public:
  Tensor(SharedCheckpoint ckpt, size_t index) : ckpt_(std::move(ckpt)), index_(index) {}
  const LoadedTensor& t() const { return ckpt_->tensors()[index_]; }

  // The DLPack protocol. The loader has waited for every copy, so the data
  // is ready on any stream the consumer names. Newer consumers also pass
  // max_version (a legacy "dltensor" capsule is what they get, which the
  // protocol allows), dl_device and copy (only a no-copy export to where
  // the tensor is).
  py::capsule DLPack(py::object stream, py::object max_version, py::object dl_device,
                     py::object copy) const {
    if (ckpt_->target() == LoadTarget::kHost && !stream.is_none()) {
      throw py::value_error("stream must be None for a tensor in host memory");
    }
    if (!dl_device.is_none() && !dl_device.equal(DLPackDevice())) {
      throw py::buffer_error("a granary tensor is exported only where it is (" + Device() + ")");
    }
    if (!copy.is_none() && copy.cast<bool>()) {
      throw py::buffer_error("a granary tensor is exported without a copy (copy=True asked)");
    }
    (void)max_version;
    DLManagedTensor* managed = ckpt_->ToDLPack(index_);
    // A capsule never consumed (renamed "used_dltensor" by its consumer)
    // still owns the tensor and releases it.
    PyObject* cap = PyCapsule_New(managed, "dltensor", [](PyObject* c) {
      if (PyCapsule_IsValid(c, "dltensor")) {
        auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(c, "dltensor"));
        if (m != nullptr && m->deleter != nullptr) m->deleter(m);
      }
    });
    if (cap == nullptr) {
      managed->deleter(managed);
      throw py::error_already_set();
    }
    return py::reinterpret_steal<py::capsule>(cap);
  }
  py::tuple DLPackDevice() const {
    const bool cuda = ckpt_->target() == LoadTarget::kCuda;
    return py::make_tuple(static_cast<int>(cuda ? kDLCUDA : kDLCPU), cuda ? ckpt_->device() : 0);
  }
  py::bytes ToBytes() const {
    std::vector<uint8_t> out;
    {
      py::gil_scoped_release release;
      Check(ckpt_->CopyToHost(t(), &out));
    }
    return py::bytes(reinterpret_cast<const char*>(out.data()), out.size());
  }
  std::string Repr() const {
    std::string shape;
    for (uint64_t d : t().shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
    return "<granary.Tensor " + t().name + " " + std::string(DtypeName(t().dtype)) + "[" + shape +
           "] on " + Device() + ">";
  }
  std::string Device() const { return DeviceName(*ckpt_); }

 private:
  SharedCheckpoint ckpt_;
  size_t index_;
};

class Checkpoint {
 public:
  explicit Checkpoint(LoadedCheckpoint c)
      : ckpt_(std::make_shared<const LoadedCheckpoint>(std::move(c))) {
    for (size_t i = 0; i < ckpt_->tensors().size(); ++i) index_[ckpt_->tensors()[i].name] = i;
  }
  size_t size() const { return ckpt_->tensors().size(); }
  Tensor At(const std::string& name) const {
    auto it = index_.find(name);
    if (it == index_.end()) throw py::key_error(name);
    return Tensor(ckpt_, it->second);
  }
  bool Contains(const std::string& name) const { return index_.count(name) > 0; }
  std::vector<std::string> Keys() const {
    std::vector<std::string> out;
    for (const auto& t : ckpt_->tensors()) out.push_back(t.name);
    return out;
  }
  py::list Items() const {
    py::list out;
    for (size_t i = 0; i < size(); ++i) {
      out.append(py::make_tuple(ckpt_->tensors()[i].name, Tensor(ckpt_, i)));
    }
    return out;
  }
  py::list Values() const {
    py::list out;
    for (size_t i = 0; i < size(); ++i) out.append(Tensor(ckpt_, i));
    return out;
  }
  py::object Get(const std::string& name, py::object fallback) const {
    auto it = index_.find(name);
    return it == index_.end() ? fallback : py::cast(Tensor(ckpt_, it->second));
  }
  std::string Repr() const {
    return "<granary.Checkpoint " + std::to_string(size()) + " tensors, " +
           std::to_string(ckpt_->stats().bytes) + " bytes on " + Device() + ">";
  }
  py::dict Stats() const {
    const LoadStats& s = ckpt_->stats();
    py::dict d;
    d["bytes"] = s.bytes;
    d["read_bytes"] = s.read_bytes;
    d["files"] = s.files;
    d["seconds"] = s.seconds;
    d["header_seconds"] = s.header_seconds;
    d["fetch_seconds"] = s.fetch_seconds;
    d["decode_seconds"] = s.decode_seconds;
    d["copy_seconds"] = s.copy_seconds;
    d["gbps"] = s.gbps();
    return d;
  }
  std::string Device() const { return DeviceName(*ckpt_); }
  uint64_t AllocatedBytes() const { return ckpt_->allocated_bytes(); }
  std::vector<std::string> Unfilled() const { return ckpt_->unfilled(); }
  // The caller's buffer and destinations the tensors were loaded into, kept
  // alive with this.
  py::object buffer;
  py::object into;

 private:
  SharedCheckpoint ckpt_;
  std::map<std::string, size_t> index_;
};


py::dict InfoDict(const FileInfo& i) {
  py::dict d;
  d["inode"] = i.inode;
  d["type"] = i.type == FileType::kDirectory ? "directory"
              : i.type == FileType::kSymlink ? "symlink"
              : i.type == FileType::kFile    ? "file"
                                             : "unknown";
  d["mode"] = i.mode;
  d["uid"] = i.uid;
  d["gid"] = i.gid;
  d["size"] = i.size;
  d["nlink"] = i.nlink;
  d["mtime"] = static_cast<double>(i.mtime_sec) + i.mtime_nsec / 1e9;
  d["ctime"] = static_cast<double>(i.ctime_sec) + i.ctime_nsec / 1e9;
  d["replicas"] = i.replicas;
  d["chunk_size"] = i.chunk_size;
  d["codec"] = i.codec;
  return d;
}

class PyClient {
 public:
  explicit PyClient(std::unique_ptr<Client> c) : client_(std::move(c)) {}

  Checkpoint Load(const std::string& path, const std::string& device, const std::string& tensors,
                  int rank, int world, py::object split, int reads_in_flight, int piece_mib,
                  py::object buffer, py::object into, bool strict) {
    LoadOptions o;
    Check(ParseLoadDevice(device, &o));
    o.tensors = tensors;
    o.rank = rank;
    o.world = world;
    // {pattern: dim} (in order) or [(pattern, dim), ...]
    if (!split.is_none()) {
      py::iterable rules = py::isinstance<py::dict>(split)
                               ? py::iterable(split.attr("items")())
                               : split.cast<py::iterable>();
      for (py::handle rule : rules) {
        std::pair<std::string, int> pair;
        try {
          pair = rule.cast<std::pair<std::string, int>>();
        } catch (const py::cast_error&) {
          throw py::type_error("split: expected {pattern: dim} or [(pattern, dim), ...], got " +
                               std::string(py::repr(split)));
        }
        o.split.push_back({pair.first, pair.second});
      }
    }
    o.reads_in_flight = reads_in_flight;
    if (piece_mib < 1 || piece_mib > 256) {
      Check(Status::InvalidArgument("piece_mib = " + std::to_string(piece_mib) +
                                    ", expected 1..256"));
    }
    o.piece_bytes = static_cast<uint64_t>(piece_mib) << 20;
    Py_buffer view;
    bool have_view = false;
    if (!buffer.is_none()) {
      std::tie(o.buffer, o.buffer_bytes) =
          BufferOf(buffer, o.target == LoadTarget::kCuda, &view, &have_view);
    }
    std::unique_ptr<Py_buffer, void (*)(Py_buffer*)> held(have_view ? &view : nullptr,
                                                          PyBuffer_Release);
    o.into_strict = strict;
    std::vector<HeldView> into_views;
    if (!into.is_none()) {
      if (!py::isinstance<py::dict>(into)) {
        throw py::type_error("into: expected {tensor name: memory}, got " + std::string(py::repr(into)));
      }
      for (auto [key, value] : into.cast<py::dict>()) {
        const std::string name = py::str(key);
        o.into[name] = DestinationOf(name, py::reinterpret_borrow<py::object>(value),
                                     o.target == LoadTarget::kCuda, &into_views);
      }
    }
    LoadedCheckpoint loaded;
    {
      py::gil_scoped_release release;
      loaded = Take(LoadCheckpoint(*client_, path, o));
    }
    Checkpoint c(std::move(loaded));
    c.buffer = buffer;
    c.into = into;
    return c;
  }

  py::bytes Read(const std::string& path, uint64_t offset, int64_t length) {
    std::string data;
    {
      py::gil_scoped_release release;
      auto reader = Take(client_->Open(path));
      const uint64_t size = reader->size();
      const uint64_t start = std::min(offset, size);
      const uint64_t n = length < 0 ? size - start
                                    : std::min<uint64_t>(static_cast<uint64_t>(length), size - start);
      data.resize(n);
      Check(ReadExactly(*reader, start,
                        MutableByteSpan(reinterpret_cast<uint8_t*>(data.data()), data.size()))
                .WithContext(path));
    }
    return py::bytes(data);
  }

  // Writes `data` (any C-contiguous bytes-like object) as the whole file at
  // `path`.
  uint64_t Write(const std::string& path, py::object data, uint32_t replicas, bool fsync) {
    Py_buffer view;
    if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_C_CONTIGUOUS) != 0) throw py::error_already_set();
    std::unique_ptr<Py_buffer, void (*)(Py_buffer*)> held(&view, PyBuffer_Release);
    const ByteSpan bytes(static_cast<const uint8_t*>(view.buf), static_cast<size_t>(view.len));
    py::gil_scoped_release release;  // the view keeps the memory in place
    CreateOptions co;
    co.replicas = replicas;
    co.fsync_on_close = fsync;
    auto writer = Take(client_->Create(path, co));
    Check(writer->Write(bytes).WithContext(path));
    Check(writer->Close().WithContext(path));
    return bytes.size();
  }

  py::dict Stat(const std::string& path) {
    FileInfo i;
    {
      py::gil_scoped_release release;
      i = Take(client_->Stat(path));
    }
    return InfoDict(i);
  }

  py::dict Warm(const std::string& path, bool all_replicas, int requests_in_flight) {
    WarmStats s;
    {
      py::gil_scoped_release release;
      s = Take(client_->Warm(path, WarmOptions{.all_replicas = all_replicas,
                                               .requests_in_flight = requests_in_flight}));
    }
    py::dict d;
    d["files"] = s.files;
    d["chunks"] = s.chunks;
    d["replicas"] = s.replicas;
    d["bytes"] = s.bytes;
    d["missing"] = s.missing;
    d["failed"] = s.failed;
    d["first_error"] = s.first_error;
    d["seconds"] = s.seconds;
    return d;
  }

  std::vector<std::string> ListDir(const std::string& path) {
    py::gil_scoped_release release;
    std::vector<std::string> names;
    for (const auto& e : Take(client_->ReadDir(path))) names.push_back(e.name);
    return names;
  }

  void Mkdir(const std::string& path, uint32_t mode) {
    py::gil_scoped_release release;
    Take(client_->Mkdir(path, mode));
  }

 private:
  std::unique_ptr<Client> client_;
};

PyClient Connect(py::object meta, py::object key_file) {
  ClientOptions o;
  if (!meta.is_none()) {
    o.meta_address = meta.cast<std::string>();
  } else if (const char* env = EnvOr("GRANARY_META")) {
    o.meta_address = env;
  } else {
    throw py::value_error("no cluster given: pass meta=\"HOST:PORT\" or set GRANARY_META");
  }
  if (!key_file.is_none()) {
    o.key_file = key_file.cast<std::string>();
  } else if (const char* env = EnvOr("GRANARY_KEY_FILE")) {
    o.key_file = env;
  }
  const std::string address = o.meta_address;
  py::gil_scoped_release release;
  auto c = Client::Connect(std::move(o));
  if (!c.ok()) throw StatusError{c.status().WithContext("connecting to " + address)};
  return PyClient(std::move(*c));
}

}  // namespace
}  // namespace granary::python

PYBIND11_MODULE(granary, m) {
  using namespace granary::python;
  m.doc() = "Granary client: load checkpoints into GPU or host memory (DLPack), read and write files";

  static py::exception<StatusError> error(m, "Error", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      const std::string text = e.status.ToString();
      switch (e.status.code()) {
        case granary::proto::NOT_FOUND: PyErr_SetString(PyExc_FileNotFoundError, text.c_str()); return;
        case granary::proto::PERMISSION_DENIED: PyErr_SetString(PyExc_PermissionError, text.c_str()); return;
        case granary::proto::INVALID_ARGUMENT: PyErr_SetString(PyExc_ValueError, text.c_str()); return;
        default: break;
      }
      py::object exc = py::reinterpret_borrow<py::object>(error.ptr())(text);
      exc.attr("code") = granary::proto::ErrorCode_Name(e.status.code());
      PyErr_SetObject(error.ptr(), exc.ptr());
    }
  });

  py::class_<Tensor>(m, "Tensor", "One loaded tensor; wrap it with torch.from_dlpack (no copy)")
      .def_property_readonly("name", [](const Tensor& t) { return t.t().name; })
      .def_property_readonly("dtype",
                             [](const Tensor& t) { return std::string(granary::DtypeName(t.t().dtype)); })
      .def_property_readonly("shape", [](const Tensor& t) {
        py::tuple s(t.t().shape.size());
        for (size_t i = 0; i < t.t().shape.size(); ++i) s[i] = t.t().shape[i];
        return s;
      })
      .def_property_readonly("nbytes", [](const Tensor& t) { return t.t().bytes; })
      .def_property_readonly("file", [](const Tensor& t) { return t.t().file; })
      .def_property_readonly("split",
                             [](const Tensor& t) -> py::object {
                               if (t.t().split_dim < 0) return py::none();
                               return py::make_tuple(t.t().split_dim, t.t().split_begin,
                                                     t.t().split_end);
                             },
                             "(dim, begin, end) of a split tensor's part, or None")
      .def_property_readonly("data_ptr",
                             [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.t().data); })
      .def_property_readonly("device", &Tensor::Device)
      .def("__dlpack__", &Tensor::DLPack, py::kw_only(), py::arg("stream") = py::none(),
           py::arg("max_version") = py::none(), py::arg("dl_device") = py::none(),
           py::arg("copy") = py::none())
      .def("__dlpack_device__", &Tensor::DLPackDevice)
      .def("tobytes", &Tensor::ToBytes, "the tensor's bytes, copied to host memory")
      .def("__repr__", &Tensor::Repr);

  py::class_<Checkpoint>(m, "Checkpoint", "Loaded tensors by name (a read-only mapping)")
      .def("__len__", &Checkpoint::size)
      .def("__getitem__", &Checkpoint::At)
      .def("__contains__", &Checkpoint::Contains)
      .def("__iter__", [](const Checkpoint& c) { return py::iter(py::cast(c.Keys())); })
      .def("keys", &Checkpoint::Keys)
      .def("items", &Checkpoint::Items)
      .def("values", &Checkpoint::Values)
      .def("get", &Checkpoint::Get, py::arg("name"), py::arg("default") = py::none())
      .def("__repr__", &Checkpoint::Repr)
      .def_property_readonly("stats", &Checkpoint::Stats,
                             "bytes, seconds, gbps and seconds per stage (summed over workers)")
      .def_property_readonly("device", &Checkpoint::Device)
      .def_property_readonly("allocated_bytes", &Checkpoint::AllocatedBytes)
      .def_property_readonly("unfilled", &Checkpoint::Unfilled,
                             "names given in `into` that the checkpoint lacked (strict=False)");

  py::class_<PyClient>(m, "Client")
      .def("load", &PyClient::Load, py::arg("path"), py::arg("device") = "host",
           py::arg("tensors") = "", py::arg("rank") = 0, py::arg("world") = 1,
           py::arg("split") = py::none(), py::arg("reads_in_flight") = 8, py::arg("piece_mib") = 8,
           py::arg("buffer") = py::none(), py::arg("into") = py::none(),
           py::arg("strict") = true,
           "Loads a .safetensors file, a sharded checkpoint (its index, or its folder) or any "
           "file into memory on `device` (\"host\", \"cuda\", \"cuda:N\"). `tensors`: "
           "comma-separated glob patterns of the names to load (default: all). Tensor "
           "parallelism: with world > 1, each tensor a `split` rule names ({glob: dim}, first "
           "match wins) is cut along dim into `world` equal parts and only part `rank` is "
           "loaded; the others load whole. `buffer`: memory to load into instead of a new "
           "allocation (a CUDA tensor, a writable host buffer such as a NumPy array, or a "
           "(pointer, bytes) pair); it must outlive the tensors made from the checkpoint. `into`: "
           "{tensor name: memory} for tensors that go to memory the caller has (a model's "
           "parameters: dict(model.named_parameters()) with torch): a torch tensor, a CUDA "
           "array, a writable buffer or a (pointer, bytes) pair of the tensor's size (this "
           "rank's part when split) and, where it has one, its dtype (uint8 takes any); one "
           "tensor may be given under two names (tied weights). The other tensors go to the "
           "allocation or `buffer`. `strict` (default): a name in `into` that the checkpoint "
           "lacks is an error; strict=False leaves it and lists it in `unfilled`.")
      .def("read", &PyClient::Read, py::arg("path"), py::arg("offset") = 0, py::arg("length") = -1,
           "bytes of a file (from offset, length bytes or to the end)")
      .def("write", &PyClient::Write, py::arg("path"), py::arg("data"), py::arg("replicas") = 0,
           py::arg("fsync") = true,
           "creates or replaces a file with `data`; with fsync (the default) it is on disk on "
           "every replica when this returns")
      .def("stat", &PyClient::Stat, py::arg("path"))
      .def("warm", &PyClient::Warm, py::arg("path"), py::arg("all_replicas") = true,
           py::arg("requests_in_flight") = 8,
           "has the chunk servers read every replica of `path` (a file, or every file under a "
           "folder) into their page cache before many nodes load it; returns the counts "
           "(replicas, bytes, missing, failed with first_error, seconds)")
      .def("listdir", &PyClient::ListDir, py::arg("path") = "/")
      .def("mkdir", &PyClient::Mkdir, py::arg("path"), py::arg("mode") = 0755);

  m.def(
      "load",
      [](const std::string& path, const std::string& device, const std::string& tensors, int rank,
         int world, py::object split, int reads_in_flight, int piece_mib, py::object buffer,
         py::object into, bool strict, py::object meta, py::object key_file) {
        PyClient client = Connect(std::move(meta), std::move(key_file));
        // The checkpoint owns its memory: the connection can go.
        return client.Load(path, device, tensors, rank, world, std::move(split), reads_in_flight,
                           piece_mib, std::move(buffer), std::move(into), strict);
      },
      py::arg("path"), py::arg("device") = "host", py::arg("tensors") = "", py::arg("rank") = 0,
      py::arg("world") = 1, py::arg("split") = py::none(), py::arg("reads_in_flight") = 8,
      py::arg("piece_mib") = 8, py::arg("buffer") = py::none(), py::arg("into") = py::none(),
      py::arg("strict") = true, py::arg("meta") = py::none(),
      py::arg("key_file") = py::none(),
      "connect(meta, key_file).load(path, ...) in one call");
  m.def("connect", &Connect, py::arg("meta") = py::none(), py::arg("key_file") = py::none(),
        "Connects to the cluster whose metad is at `meta` (\"HOST:PORT\"; default "
        "$GRANARY_META), with the cluster key in `key_file` (default $GRANARY_KEY_FILE).");
}
