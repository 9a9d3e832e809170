#include "common/huge_pages.h"

#include <sys/mman.h>

#include <algorithm>

namespace granary {
namespace {

constexpr size_t kHugePage = 2u << 20;

}  // namespace

std::shared_ptr<uint8_t> MapHugePages(uint64_t bytes) {
  const size_t len = (std::max<uint64_t>(bytes, 1) + kHugePage - 1) / kHugePage * kHugePage;
  // One huge page more, so that the start can be moved to a 2 MiB boundary
  // (huge pages back only aligned 2 MiB ranges).
  const size_t mapped = len + kHugePage;
  void* p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const uintptr_t start = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) / kHugePage * kHugePage;
  auto* aligned = reinterpret_cast<uint8_t*>(start);
  (void)::madvise(aligned, len, MADV_HUGEPAGE);  // a hint: without THP, plain pages
  return std::shared_ptr<uint8_t>(aligned, [p, mapped](uint8_t*) { ::munmap(p, mapped); });
}

}  // namespace granary
