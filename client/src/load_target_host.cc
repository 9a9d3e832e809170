// The host-memory target: tensors in huge-page backed memory, copies are memcpy.
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "client/src/load_target.h"

namespace granary::client {
namespace {

constexpr size_t kHugePage = 2u << 20;

// Tensor memory from mmap, asking for transparent huge pages: a multi-GiB
// checkpoint otherwise costs one page fault per 4 KiB on first touch, which
// measured as most of a host load's time on a virtual machine (the faults
// are what the copies wait on).
std::shared_ptr<void> MapMemory(uint64_t bytes) {
  const size_t len = (std::max<uint64_t>(bytes, 1) + kHugePage - 1) / kHugePage * kHugePage;
  // One huge page more, so that the start can be moved to a 2 MiB boundary
  // (huge pages back only aligned 2 MiB ranges).
  const size_t mapped = len + kHugePage;
  void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const uintptr_t start = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) / kHugePage * kHugePage;
  void* aligned = reinterpret_cast<void*>(start);
  (void)madvise(aligned, len, MADV_HUGEPAGE);  // a hint: without THP, plain pages
  return std::shared_ptr<void>(aligned, [p, mapped](void*) { munmap(p, mapped); });
}

// Pieces are decoded into a warm staging buffer and copied into place:
// decoding straight into fresh tensor memory measured 1.5x slower here (the
// page faults then stall the decoders, and consecutive parts of a piece
// cost extra partial-block handling).
class HostLane final : public CopyLane {
 public:
  explicit HostLane(std::shared_ptr<void> buf) : buf_(std::move(buf)) {}
  Result<uint8_t*> Acquire() override { return static_cast<uint8_t*>(buf_.get()); }
  Status Copy(void* dst, const uint8_t* src, size_t n) override {
    std::memcpy(dst, src, n);
    return Status::Ok();
  }
  Status Submit() override { return Status::Ok(); }
  Status Drain() override { return Status::Ok(); }

 private:
  std::shared_ptr<void> buf_;
};

class Host final : public LoadTargetBackend {
 public:
  Result<std::shared_ptr<void>> Allocate(uint64_t bytes) override {
    auto p = MapMemory(bytes);
    if (!p) return Status::ResourceExhausted("cannot allocate " + std::to_string(bytes) + " bytes");
    return p;
  }
  Result<std::unique_ptr<CopyLane>> NewLane(size_t piece_bytes) override {
    ASSIGN_OR_RETURN(auto buf, Allocate(piece_bytes));
    return std::unique_ptr<CopyLane>(new HostLane(std::move(buf)));
  }
  DLDevice dl_device() const override { return DLDevice{kDLCPU, 0}; }
  Status ToHost(void* dst, const void* src, size_t n) override {
    if (n > 0) std::memcpy(dst, src, n);
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<LoadTargetBackend> HostTarget() { return std::make_unique<Host>(); }

#ifndef GRANARY_HAVE_CUDA
Result<std::unique_ptr<LoadTargetBackend>> CudaTarget(int device) {
  return Status::Unimplemented(
      "this build has no CUDA support (the CUDA toolkit was not found when it was built); "
      "use --device host, or rebuild with nvcc installed");
}
#endif

}  // namespace granary::client
