#pragma once
// Buffer: an owned, fixed-size byte array that is not zero-filled on creation.
// Bulk data (chunk pieces, read results) moves through the system in Buffers;
// std::vector<uint8_t> would zero megabytes that are about to be overwritten.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace granary {

// Frees a Buffer's memory: delete[], or the releaser of an adopted block.
struct BufferDeleter {
  void (*release)(uint8_t* data, size_t capacity) = nullptr;
  size_t capacity = 0;
  void operator()(uint8_t* p) const noexcept {
    if (release != nullptr) {
      release(p, capacity);
    } else {
      delete[] p;
    }
  }
};

class Buffer {
 public:
  // Gives memory adopted by Adopt() back to where it came from.
  using Releaser = void (*)(uint8_t* data, size_t capacity);

  Buffer() = default;
  explicit Buffer(size_t size)
      : data_(size ? std::make_unique_for_overwrite<uint8_t[]>(size).release() : nullptr),
        size_(size) {}
  // A Buffer over `size` bytes of `data` (which holds `capacity`); on
  // destruction `release(data, capacity)` runs instead of delete[]
  // (common/buffer_pool.h recycles large buffers this way).
  static Buffer Adopt(uint8_t* data, size_t size, size_t capacity, Releaser release) {
    Buffer b;
    b.data_ = std::unique_ptr<uint8_t[], BufferDeleter>(data, BufferDeleter{release, capacity});
    b.size_ = size;
    return b;
  }
  static Buffer CopyOf(std::span<const uint8_t> bytes) {
    Buffer b(bytes.size());
    if (!bytes.empty()) std::memcpy(b.data(), bytes.data(), bytes.size());
    return b;
  }
  static Buffer CopyOf(std::string_view s) {
    return CopyOf(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }

  Buffer(Buffer&&) noexcept = default;
  Buffer& operator=(Buffer&&) noexcept = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Shrinks the visible size without reallocating. Precondition: n <= size().
  void Truncate(size_t n) { size_ = n < size_ ? n : size_; }

  std::span<uint8_t> span() { return {data(), size_}; }
  std::span<const uint8_t> span() const { return {data(), size_}; }

 private:
  std::unique_ptr<uint8_t[], BufferDeleter> data_;
  size_t size_ = 0;
};

using ByteSpan = std::span<const uint8_t>;
using MutableByteSpan = std::span<uint8_t>;

}  // namespace granary
