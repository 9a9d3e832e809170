#pragma once
// Where the loader puts tensors: host memory, or a CUDA device (built only
// with the CUDA toolkit, see load_target_cuda.cc). The loader itself never
// calls CUDA.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "granary/loader.h"

namespace granary::client {

// One worker's copy lane: a staging buffer the worker reads pieces into and
// the copies out of it.
class CopyLane {
 public:
  virtual ~CopyLane() = default;
  // The staging buffer of `piece_bytes`; waits until the copies made out of
  // it last time have completed.
  virtual Result<uint8_t*> Acquire() = 0;
  // Copies n bytes of the staging buffer to device/host address `dst`.
  virtual Status Copy(void* dst, const uint8_t* src, size_t n) = 0;
  // Copies `rows` runs of `width` bytes, `src_pitch` apart in the staging
  // buffer, to consecutive places at `dst` (a slice of a split tensor).
  virtual Status CopyRows(void* dst, const uint8_t* src, size_t width, size_t src_pitch,
                          size_t rows) {
    for (size_t r = 0; r < rows; ++r) {
      RETURN_IF_ERROR(Copy(static_cast<uint8_t*>(dst) + r * width, src + r * src_pitch, width));
    }
    return Status::Ok();
  }
  // The copies issued since Acquire() are all issued (they may still run).
  virtual Status Submit() = 0;
  // Waits for every copy of this lane.
  virtual Status Drain() = 0;
};

class LoadTargetBackend {
 public:
  virtual ~LoadTargetBackend() = default;
  // Memory for `bytes` of tensors, freed when the last owner lets go.
  virtual Result<std::shared_ptr<void>> Allocate(uint64_t bytes) = 0;
  virtual Result<std::unique_ptr<CopyLane>> NewLane(size_t piece_bytes) = 0;
  virtual DLDevice dl_device() const = 0;
  // Copies n bytes at `src` (target memory) to host memory at `dst`.
  virtual Status ToHost(void* dst, const void* src, size_t n) = 0;
  // INVALID_ARGUMENT, naming `what`, when a caller's memory at p cannot take
  // copies from this target's lanes (a GPU target: not on its device).
  virtual Status CheckDestination(const void* p, uint64_t n, const std::string& what) {
    return Status::Ok();
  }
};

std::unique_ptr<LoadTargetBackend> HostTarget();
// UNIMPLEMENTED naming what is missing: no CUDA support in this build, no
// driver, no usable device (INVALID_ARGUMENT for a device number past the
// last).
Result<std::unique_ptr<LoadTargetBackend>> CudaTarget(int device);

}  // namespace granary::client
