#include "client/python/caller_memory.h"

#include <map>
#include <optional>
#include <string_view>
#include <tuple>

namespace py = pybind11;

namespace granary::python {
namespace {

// The checkpoint dtype a caller's memory declares, where it declares one:
// torch's dtype, or the element of a buffer's format or a CUDA array's
// typestr. Bytes (uint8, or no type) take any tensor: nullopt.
std::optional<Dtype> DeclaredDtype(std::string_view kind) {
  static const std::map<std::string_view, Dtype> kNames = {
      {"torch.float16", Dtype::kF16},  {"torch.bfloat16", Dtype::kBF16},
      {"torch.float32", Dtype::kF32},  {"torch.float64", Dtype::kF64},
      {"torch.int8", Dtype::kI8},      {"torch.int16", Dtype::kI16},
      {"torch.int32", Dtype::kI32},    {"torch.int64", Dtype::kI64},
      {"torch.uint16", Dtype::kU16},   {"torch.uint32", Dtype::kU32},
      {"torch.uint64", Dtype::kU64},   {"torch.bool", Dtype::kBool},
      {"torch.float8_e4m3fn", Dtype::kF8_E4M3}, {"torch.float8_e5m2", Dtype::kF8_E5M2},
      // Python buffer formats (struct module letters) and typestr kinds.
      {"e", Dtype::kF16}, {"f", Dtype::kF32}, {"d", Dtype::kF64}, {"b", Dtype::kI8},
      {"h", Dtype::kI16}, {"H", Dtype::kU16}, {"i", Dtype::kI32}, {"I", Dtype::kU32},
      {"q", Dtype::kI64}, {"Q", Dtype::kU64}, {"l", Dtype::kI64}, {"L", Dtype::kU64},
      {"?", Dtype::kBool},
      {"f2", Dtype::kF16}, {"f4", Dtype::kF32}, {"f8", Dtype::kF64}, {"i1", Dtype::kI8},
      {"i2", Dtype::kI16}, {"u2", Dtype::kU16}, {"i4", Dtype::kI32}, {"u4", Dtype::kU32},
      {"i8", Dtype::kI64}, {"u8", Dtype::kU64}, {"b1", Dtype::kBool}};
  auto it = kNames.find(kind);
  if (it == kNames.end()) return std::nullopt;
  return it->second;
}

}  // namespace

// Where a caller's `buffer` is: any object with __cuda_array_interface__
// (a CUDA tensor of torch or CuPy), a (pointer, bytes) pair, or a writable
// C-contiguous buffer (a NumPy array, a bytearray) for host memory. `view`
// pins the last kind until released.
std::pair<void*, uint64_t> BufferOf(const py::object& buffer, bool cuda, Py_buffer* view,
                                    bool* have_view) {
  *have_view = false;
  if (py::hasattr(buffer, "__cuda_array_interface__")) {
    if (!cuda) throw py::value_error("buffer is GPU memory; load with device=\"cuda:N\"");
    py::dict cai = buffer.attr("__cuda_array_interface__");
    if (cai.contains("strides") && !cai["strides"].is_none()) {
      throw py::value_error("buffer must be contiguous (its __cuda_array_interface__ has strides)");
    }
    const auto data = cai["data"].cast<std::pair<uintptr_t, bool>>();
    if (data.second) throw py::value_error("buffer is read-only");
    const std::string typestr = cai["typestr"].cast<std::string>();
    uint64_t bytes = typestr.size() > 2 ? std::stoull(typestr.substr(2)) : 1;
    for (py::handle d : cai["shape"].cast<py::tuple>()) bytes *= d.cast<uint64_t>();
    return {reinterpret_cast<void*>(data.first), bytes};
  }
  if (py::isinstance<py::tuple>(buffer)) {
    const auto pair = buffer.cast<std::pair<uintptr_t, uint64_t>>();
    if (pair.first == 0) throw py::value_error("buffer pointer is null");
    return {reinterpret_cast<void*>(pair.first), pair.second};
  }
  if (cuda) {
    throw py::value_error("device is a GPU: buffer must be GPU memory (__cuda_array_interface__) "
                          "or a (pointer, bytes) pair");
  }
  if (PyObject_GetBuffer(buffer.ptr(), view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) != 0) {
    throw py::error_already_set();
  }
  *have_view = true;
  return {view->buf, static_cast<uint64_t>(view->len)};
}

// A caller's memory for one tensor (`into`): a torch tensor (CPU or CUDA;
// through data_ptr(), which a parameter that requires grad allows, where
// its __cuda_array_interface__ does not), any object with
// __cuda_array_interface__, a writable C-contiguous buffer (NumPy), or a
// (pointer, bytes) pair. `views` pins buffers until released.
TensorDestination DestinationOf(const std::string& name, const py::object& obj, bool cuda,
                                std::vector<HeldView>* views) {
  const std::string what = "into[\"" + name + "\"]";
  const bool is_torch = py::hasattr(obj, "data_ptr") && py::hasattr(obj, "is_contiguous") &&
                        py::hasattr(obj, "element_size") && py::hasattr(obj, "is_cuda");
  if (is_torch) {
    if (!obj.attr("is_contiguous")().cast<bool>()) throw py::value_error(what + " is not contiguous");
    if (obj.attr("is_cuda").cast<bool>() != cuda) {
      throw py::value_error(what + (cuda ? " is in host memory; the load is onto a GPU"
                                         : " is GPU memory; load with device=\"cuda:N\""));
    }
    TensorDestination d;
    d.data = reinterpret_cast<void*>(obj.attr("data_ptr")().cast<uintptr_t>());
    d.bytes = obj.attr("numel")().cast<uint64_t>() * obj.attr("element_size")().cast<uint64_t>();
    d.dtype = DeclaredDtype(py::str(obj.attr("dtype")).cast<std::string>());
    return d;
  }
  if (py::hasattr(obj, "__cuda_array_interface__") || py::isinstance<py::tuple>(obj) || cuda) {
    Py_buffer unused;
    bool have_view = false;
    TensorDestination d;
    try {
      std::tie(d.data, d.bytes) = BufferOf(obj, cuda, &unused, &have_view);
    } catch (py::value_error& e) {
      throw py::value_error(what + ": " + e.what());
    }
    if (py::hasattr(obj, "__cuda_array_interface__")) {
      const std::string typestr = obj.attr("__cuda_array_interface__")["typestr"].cast<std::string>();
      if (typestr.size() > 1) d.dtype = DeclaredDtype(std::string_view(typestr).substr(1));
    }
    return d;
  }
  auto view = HeldView(new Py_buffer, [](Py_buffer* v) {
    PyBuffer_Release(v);
    delete v;
  });
  if (PyObject_GetBuffer(obj.ptr(), view.get(), PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) !=
      0) {
    view.release();
    throw py::error_already_set();
  }
  TensorDestination d;
  d.data = view->buf;
  d.bytes = static_cast<uint64_t>(view->len);
  if (view->format != nullptr) {
    std::string_view f = view->format;
    if (!f.empty() && (f[0] == '<' || f[0] == '=' || f[0] == '@')) f.remove_prefix(1);
    d.dtype = DeclaredDtype(f);
  }
  views->push_back(std::move(view));
  return d;
}

}  // namespace granary::python
