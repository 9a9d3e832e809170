#include "common/process.h"

#include <malloc.h>

#include <csignal>

namespace granary {

void InitProcess() {
  std::signal(SIGPIPE, SIG_IGN);
  // Buffers up to 64 MiB come from the heap, not from fresh mmaps, and up to
  // 1 GiB of freed memory at the top of a heap is kept.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace granary
