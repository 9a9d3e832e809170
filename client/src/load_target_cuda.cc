// The CUDA target (built when CMake finds the CUDA toolkit): tensors in one
// cudaMalloc, staging buffers pinned (cudaHostAlloc), copies cudaMemcpyAsync
// on each worker's own stream. A worker alternates two staging buffers; a
// buffer is handed out again only after the event recorded behind its
// copies has completed.
#include <cuda_runtime_api.h>

#include <array>
#include <string>

#include "client/src/load_target.h"

namespace granary::client {
namespace {

Status CudaError(cudaError_t e, const std::string& what) {
  return Status::IoError(what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

class CudaLane final : public CopyLane {
 public:
  CudaLane(int device, size_t piece) : device_(device), piece_(piece) {}
  ~CudaLane() override {
    cudaSetDevice(device_);
    (void)Drain();
    for (auto& s : slots_) {
      if (s.event) cudaEventDestroy(s.event);
      if (s.buf) cudaFreeHost(s.buf);
    }
    if (stream_) cudaStreamDestroy(stream_);
  }
  Status Init() {
    if (auto e = cudaSetDevice(device_); e != cudaSuccess) return CudaError(e, "cudaSetDevice");
    if (auto e = cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking); e != cudaSuccess) {
      return CudaError(e, "cudaStreamCreate");
    }
    for (auto& s : slots_) {
      if (auto e = cudaHostAlloc(&s.buf, piece_, cudaHostAllocDefault); e != cudaSuccess) {
        return CudaError(e, "cudaHostAlloc of a " + std::to_string(piece_) + "-byte staging buffer");
      }
      if (auto e = cudaEventCreateWithFlags(&s.event, cudaEventDisableTiming); e != cudaSuccess) {
        return CudaError(e, "cudaEventCreate");
      }
    }
    return Status::Ok();
  }
  Result<uint8_t*> Acquire() override {
    cur_ = (cur_ + 1) % slots_.size();
    Slot& s = slots_[cur_];
    if (s.pending) {
      // The copies out of this buffer must be done before it is refilled.
      if (auto e = cudaEventSynchronize(s.event); e != cudaSuccess) {
        return CudaError(e, "waiting for a host-to-device copy");
      }
      s.pending = false;
    }
    return static_cast<uint8_t*>(s.buf);
  }
  Status Copy(void* dst, const uint8_t* src, size_t n) override {
    if (auto e = cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, stream_); e != cudaSuccess) {
      return CudaError(e, "cudaMemcpyAsync");
    }
    return Status::Ok();
  }
  // One 2D copy instead of a call per row.
  Status CopyRows(void* dst, const uint8_t* src, size_t width, size_t src_pitch,
                  size_t rows) override {
    if (auto e = cudaMemcpy2DAsync(dst, width, src, src_pitch, width, rows,
                                   cudaMemcpyHostToDevice, stream_);
        e != cudaSuccess) {
      return CudaError(e, "cudaMemcpy2DAsync");
    }
    return Status::Ok();
  }
  Status Submit() override {
    Slot& s = slots_[cur_];
    if (auto e = cudaEventRecord(s.event, stream_); e != cudaSuccess) {
      return CudaError(e, "cudaEventRecord");
    }
    s.pending = true;
    return Status::Ok();
  }
  Status Drain() override {
    if (!stream_) return Status::Ok();
    if (auto e = cudaStreamSynchronize(stream_); e != cudaSuccess) {
      return CudaError(e, "cudaStreamSynchronize");
    }
    for (auto& s : slots_) s.pending = false;
    return Status::Ok();
  }

 private:
  struct Slot {
    void* buf = nullptr;
    cudaEvent_t event = nullptr;
    bool pending = false;
  };
  const int device_;
  const size_t piece_;
  cudaStream_t stream_ = nullptr;
  std::array<Slot, 2> slots_;
  size_t cur_ = 0;
};

class Cuda final : public LoadTargetBackend {
 public:
  explicit Cuda(int device) : device_(device) {}
  Result<std::shared_ptr<void>> Allocate(uint64_t bytes) override {
    if (auto e = cudaSetDevice(device_); e != cudaSuccess) return CudaError(e, "cudaSetDevice");
    void* p = nullptr;
    if (auto e = cudaMalloc(&p, std::max<uint64_t>(bytes, 1)); e != cudaSuccess) {
      return CudaError(e, "cudaMalloc of " + std::to_string(bytes) + " bytes on cuda:" +
                              std::to_string(device_));
    }
    const int device = device_;
    return std::shared_ptr<void>(p, [device](void* q) {
      cudaSetDevice(device);
      cudaFree(q);
    });
  }
  Result<std::unique_ptr<CopyLane>> NewLane(size_t piece_bytes) override {
    auto lane = std::make_unique<CudaLane>(device_, piece_bytes);
    RETURN_IF_ERROR(lane->Init());
    return std::unique_ptr<CopyLane>(std::move(lane));
  }
  DLDevice dl_device() const override { return DLDevice{kDLCUDA, device_}; }
  Status CheckDestination(const void* p, uint64_t n, const std::string& what) override {
    cudaPointerAttributes attr{};
    if (auto e = cudaPointerGetAttributes(&attr, p); e != cudaSuccess) {
      return CudaError(e, "cudaPointerGetAttributes of " + what);
    }
    const bool on_device = attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged;
    if (!on_device || attr.device != device_) {
      return Status::InvalidArgument(
          what + " is " +
          (on_device ? "memory of cuda:" + std::to_string(attr.device) : std::string("host memory")) +
          "; the load is onto cuda:" + std::to_string(device_));
    }
    return Status::Ok();
  }
  Status ToHost(void* dst, const void* src, size_t n) override {
    if (auto e = cudaSetDevice(device_); e != cudaSuccess) return CudaError(e, "cudaSetDevice");
    if (auto e = cudaMemcpy(dst, src, n, cudaMemcpyDeviceToHost); e != cudaSuccess) {
      return CudaError(e, "cudaMemcpy device to host");
    }
    return Status::Ok();
  }

 private:
  const int device_;
};

}  // namespace

Result<std::unique_ptr<LoadTargetBackend>> CudaTarget(int device) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice || e == cudaErrorInitializationError) {
    return Status::Unimplemented(std::string("no usable GPU: ") + cudaGetErrorString(e) +
                                 " (is the NVIDIA driver installed and a GPU visible?); use "
                                 "--device host");
  }
  if (e != cudaSuccess) return CudaError(e, "cudaGetDeviceCount");
  if (device < 0 || device >= count) {
    return Status::InvalidArgument("cuda:" + std::to_string(device) + " does not exist: " +
                                   std::to_string(count) + " GPU(s) visible");
  }
  return std::unique_ptr<LoadTargetBackend>(new Cuda(device));
}

}  // namespace granary::client
