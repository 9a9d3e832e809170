#pragma once
// Large buffers backed by transparent huge pages where the kernel allows
// them (THP "madvise" or "always"). A fresh buffer costs one page fault per
// page on first touch; with 4 KiB pages that is 4096 faults per 16 MiB,
// which on a virtual machine measured as 15% of a warm `granary get` and
// most of a host-memory checkpoint load. With 2 MiB pages it is 8.

#include <cstddef>
#include <cstdint>
#include <memory>

namespace granary {

// `bytes` (rounded up to 2 MiB, at least one page) of zeroed memory from
// mmap, aligned to 2 MiB and advised MADV_HUGEPAGE; unmapped when the last
// owner goes. Null when mmap fails. Without THP it is plain memory.
std::shared_ptr<uint8_t> MapHugePages(uint64_t bytes);

}  // namespace granary
