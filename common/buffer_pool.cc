#include "common/buffer_pool.h"

#include <array>
#include <memory>
#include <mutex>
#include <vector>

namespace granary {
namespace {

// Size classes in steps of 1.5x and 4/3x (256, 384, 512, 768 KiB, 1 MiB,
// ..., 16 MiB): a buffer wastes at most a third of its memory (a 1 MiB block
// and its frame fit 1.5 MiB).
constexpr size_t kMinPooled = 256u << 10;
constexpr size_t kClasses = 13;
constexpr size_t Capacity(size_t c) {
  return c % 2 == 0 ? kMinPooled << (c / 2) : (kMinPooled << (c / 2)) * 3 / 2;
}
constexpr size_t kMaxPooled = Capacity(kClasses - 1);
static_assert(kMaxPooled == 16u << 20);
constexpr size_t kFreeBytesPerClass = 16u << 20;

struct Pool {
  std::mutex mu;
  std::array<std::vector<uint8_t*>, kClasses> free;
};

// Never destroyed: Buffers may be released by static destructors.
Pool& ThePool() {
  static Pool* pool = new Pool;
  return *pool;
}

size_t ClassOf(size_t capacity) {
  size_t c = 0;
  while (Capacity(c) < capacity) ++c;
  return c;
}

size_t MaxFree(size_t c) { return std::max<size_t>(2, kFreeBytesPerClass / Capacity(c)); }

void Release(uint8_t* data, size_t capacity) {
  const size_t c = ClassOf(capacity);
  Pool& pool = ThePool();
  {
    std::lock_guard lock(pool.mu);
    if (pool.free[c].size() < MaxFree(c)) {
      pool.free[c].push_back(data);
      return;
    }
  }
  delete[] data;
}

}  // namespace

Buffer PooledBuffer(size_t size) {
  if (size < kMinPooled || size > kMaxPooled) return Buffer(size);
  const size_t c = ClassOf(size);
  const size_t capacity = Capacity(c);
  uint8_t* data = nullptr;
  Pool& pool = ThePool();
  {
    std::lock_guard lock(pool.mu);
    if (!pool.free[c].empty()) {
      data = pool.free[c].back();
      pool.free[c].pop_back();
    }
  }
  if (data == nullptr) data = std::make_unique_for_overwrite<uint8_t[]>(capacity).release();
  return Buffer::Adopt(data, size, capacity, &Release);
}

BufferPoolStats GetBufferPoolStats() {
  BufferPoolStats s;
  Pool& pool = ThePool();
  std::lock_guard lock(pool.mu);
  for (size_t c = 0; c < kClasses; ++c) {
    s.free_buffers += pool.free[c].size();
    s.free_bytes += pool.free[c].size() * Capacity(c);
  }
  return s;
}

}  // namespace granary
