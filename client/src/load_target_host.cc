// The host-memory target: tensors in huge-page backed memory, copies are memcpy.
#include <algorithm>
#include <cstring>

#include "client/src/load_target.h"
#include "common/huge_pages.h"

namespace granary::client {
namespace {

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
    // Huge pages: a multi-GiB checkpoint otherwise costs one page fault per
    // 4 KiB on first touch, most of a host load's time on a virtual machine.
    std::shared_ptr<void> p = MapHugePages(bytes);
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
