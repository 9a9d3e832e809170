#pragma once
// XXH3-128 over a stream of bytes: the content checksum migrate computes
// while reading a source file and again while reading back the copy. 128 bits
// make an accidental match of two different files negligible even over
// billions of files, which 64 bits would not quite.

#include <cstdint>
#include <memory>
#include <string>

#include "common/buffer.h"

namespace granary::tools::migrate {

struct ContentHash {
  uint64_t high = 0;
  uint64_t low = 0;
  bool operator==(const ContentHash&) const = default;
  std::string ToHex() const;  // 32 hex digits
};

// Not thread-safe; one per stream.
class ContentHasher {
 public:
  ContentHasher();
  ~ContentHasher();
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;

  void Update(ByteSpan data);
  ContentHash Digest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace granary::tools::migrate
