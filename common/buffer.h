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

class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t size)
      : data_(size ? std::make_unique_for_overwrite<uint8_t[]>(size) : nullptr), size_(size) {}
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
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
};

using ByteSpan = std::span<const uint8_t>;
using MutableByteSpan = std::span<uint8_t>;

}  // namespace granary
