#pragma once
// LoadCheckpoint: a checkpoint from the cluster straight into GPU (or host)
// memory.
//
// What it loads: a safetensors file, a sharded checkpoint (its
// model.safetensors.index.json, or a folder holding one, or a folder of
// .safetensors files), or any other file whole (one U8 tensor). Every header
// is read and validated before anything is allocated. The selected tensors
// land in one allocation per load (or in a buffer the caller provides), each
// at a 256-byte aligned offset, and come back with name, dtype, shape,
// pointer and size, and as DLPack tensors for PyTorch or JAX.
//
// With `world` > 1, the tensors a SplitRule names are loaded in part: this
// rank's slice along one dimension, packed (the strided rows of a slice
// along dim 1 or later are gathered on the way).
//
// The pipeline: `reads_in_flight` workers (8) each take the next piece of the
// checkpoint (piece_bytes of consecutive tensor data of one file, cut on
// 1 MiB block boundaries) and read it with the client's parallel reader
// (blocks fetched from every replica at once, decoded, raw checksums
// verified, a failing replica replaced by another) into a staging buffer;
// the piece's tensors are then copied to their place: memcpy for host
// memory, cudaMemcpyAsync from pinned buffers on the worker's own stream for
// a GPU, each worker alternating two staging buffers so that one is read
// into while the other's copy runs, and reusing a buffer only after its copy
// event completed.
//
// CUDA is optional: built when CMake finds the toolkit (GRANARY_HAVE_CUDA).
// Without it, or without a usable GPU at run time, a cuda target is a clear
// UNIMPLEMENTED error and the host target works everywhere.

#include <dlpack/dlpack.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "granary/client.h"
#include "granary/safetensors.h"

namespace granary {
namespace client {
class LoadTargetBackend;
}

enum class LoadTarget { kHost, kCuda };

// Tensor parallelism: a tensor a rule names is split along `dim` into
// LoadOptions::world equal parts and only part `rank` is loaded (rows of a
// column-parallel weight, dim 0; columns of a row-parallel one, dim 1).
// Its size along `dim` must divide by `world` (INVALID_ARGUMENT, naming the
// tensor, before any read). The first rule whose pattern matches wins;
// tensors no rule names are loaded whole (norms, biases of row-parallel
// layers).
struct SplitRule {
  std::string pattern;  // fnmatch glob over tensor names
  int dim = 0;          // negative counts from the last dimension
};

// Where one tensor goes when the caller already has memory for it (a model
// whose parameters were allocated before the load, as inference servers
// build them): `bytes` must equal the tensor's (this rank's part when it is
// split), and a `dtype`, when given, its dtype.
struct TensorDestination {
  void* data = nullptr;  // device memory for kCuda
  uint64_t bytes = 0;
  std::optional<Dtype> dtype;
};

struct LoadOptions {
  LoadTarget target = LoadTarget::kHost;
  int device = 0;  // CUDA device ordinal
  // Tensors to load: comma-separated glob patterns over tensor names
  // (fnmatch: "layers.1[0-9].*,embed.*"); empty loads every tensor.
  std::string tensors;
  // This process's part of every tensor `split` names (see SplitRule).
  int rank = 0;
  int world = 1;
  std::vector<SplitRule> split;
  int reads_in_flight = 8;          // workers, each with a piece in flight (1..64)
  uint64_t piece_bytes = 8u << 20;  // bytes per read (a multiple of 1 MiB)
  // Optional destination (device memory for kCuda): tensors are placed here
  // instead of a new allocation (the first from the first 256-byte aligned
  // address in it). Too small is INVALID_ARGUMENT, before any read. The
  // caller keeps it alive as long as the tensors are used.
  void* buffer = nullptr;
  uint64_t buffer_bytes = 0;
  // Per-tensor destinations, by tensor name: these tensors are copied
  // straight to their place and take no room in the allocation (or
  // `buffer`), which holds only the others. Checked before any read: a size
  // or dtype that differs, a null pointer, destinations that overlap, or
  // (kCuda) memory that is not on the device is INVALID_ARGUMENT. One
  // destination may appear under two names (tied weights: same data and
  // size). The caller keeps them alive.
  std::unordered_map<std::string, TensorDestination> into;
  // A destination that no selected tensor has is NOT_FOUND; without
  // into_strict it is left as it is and listed in LoadedCheckpoint::unfilled()
  // (a model's parameters that this checkpoint, or this stage, lacks).
  bool into_strict = true;
};

struct LoadedTensor {
  std::string name;
  Dtype dtype = Dtype::kU8;
  std::vector<uint64_t> shape;  // as loaded (split: this rank's part)
  void* data = nullptr;  // device pointer for kCuda
  uint64_t bytes = 0;
  std::string file;  // the cluster file it came from
  // Split by a SplitRule: the dimension, and the range [begin, end) of it
  // that was loaded. -1: loaded whole.
  int split_dim = -1;
  uint64_t split_begin = 0;
  uint64_t split_end = 0;
};

// Where the time went. Stage times add up over workers (they overlap), so
// compare them with each other, not with `seconds`.
struct LoadStats {
  uint64_t bytes = 0;         // tensor bytes placed
  uint64_t read_bytes = 0;    // file bytes read (tensors plus small gaps)
  uint64_t files = 0;
  double seconds = 0;         // wall time of the whole load
  double header_seconds = 0;  // reading and validating headers
  double fetch_seconds = 0;   // reads: network, decode and checksums
  double decode_seconds = 0;  // of which decoding blocks (client-wide counter)
  double copy_seconds = 0;    // placing tensors (memcpy, or H2D copies waited on)
  double gbps() const { return seconds > 0 ? bytes / seconds / 1e9 : 0; }
};

class LoadedCheckpoint {
 public:
  LoadedCheckpoint() = default;
  LoadedCheckpoint(LoadedCheckpoint&&) noexcept = default;
  LoadedCheckpoint& operator=(LoadedCheckpoint&&) noexcept = default;

  const std::vector<LoadedTensor>& tensors() const { return tensors_; }
  const LoadStats& stats() const { return stats_; }
  LoadTarget target() const { return target_; }
  int device() const { return device_; }
  uint64_t allocated_bytes() const { return allocated_; }
  // Names in LoadOptions::into that no loaded tensor had (into_strict off),
  // sorted.
  const std::vector<std::string>& unfilled() const { return unfilled_; }

  // A DLPack view of tensor `i` (no copy). The allocation stays alive until
  // both this object and every DLPack tensor handed out are gone (call the
  // tensor's deleter when done, as DLPack consumers do).
  DLManagedTensor* ToDLPack(size_t i) const;

  // Copies tensor `t` (one of tensors()) into host memory, from the GPU if
  // it is there: for checks and tools.
  Status CopyToHost(const LoadedTensor& t, std::vector<uint8_t>* out) const;

 private:
  friend Result<LoadedCheckpoint> LoadCheckpoint(Client&, std::string_view, const LoadOptions&);
  std::shared_ptr<void> memory_;  // the allocation (null for a caller's buffer)
  std::shared_ptr<client::LoadTargetBackend> backend_;
  std::vector<LoadedTensor> tensors_;
  LoadStats stats_;
  LoadTarget target_ = LoadTarget::kHost;
  int device_ = 0;
  uint64_t allocated_ = 0;
  std::vector<std::string> unfilled_;
};

Result<LoadedCheckpoint> LoadCheckpoint(Client& client, std::string_view path,
                                        const LoadOptions& options = {});

// Reads and validates the header of the safetensors file `reader` is open
// on (the whole file must be there: the last tensor ends at its end).
Result<SafetensorsHeader> ReadSafetensorsHeader(FileReader& reader);

// "host" or "cuda:N" (or "cuda", device 0).
Status ParseLoadDevice(std::string_view spec, LoadOptions* options);

}  // namespace granary
