#pragma once
// Large Buffers recycled instead of freed.
//
// Reads move megabytes per call through short-lived Buffers (a frame's
// payload, a run of encoded blocks read from a local replica file). Whether
// malloc hands back memory that is already mapped or fresh pages depends on
// its heuristics and on the rest of the process: loaded from Python, the
// loader took 3-4x the page faults of the same load from the CLI (about
// 100,000 more for 2 GiB, each an exit to the hypervisor on a virtual
// machine), and ran at half the speed. Buffers from here come in size
// classes (steps of at most 1.5x) and go back to a bounded free list, so
// their pages are touched once per process.

#include <cstddef>

#include "common/buffer.h"

namespace granary {

// A Buffer of `size` bytes (not zeroed). From 256 KiB to 16 MiB its memory
// comes from, and returns to, a process-wide pool (at most 16 MiB kept free
// per size class); other sizes are plain allocations.
Buffer PooledBuffer(size_t size);

// Buffers now kept free in the pool, and their bytes (for tests).
struct BufferPoolStats {
  size_t free_buffers = 0;
  size_t free_bytes = 0;
};
BufferPoolStats GetBufferPoolStats();

}  // namespace granary
