#pragma once
// XXH3-128 of a file's contents, fed in pieces: what migrate compares
// between a source and its copy, and what backup manifests record per file
// (32 hex digits, the canonical big-endian form). 128 bits make an
// accidental match of two different files negligible even over billions of
// files, which 64 bits would not quite. Not thread-safe; one per stream.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/buffer.h"

namespace granary::tools {

struct ContentHash {
  uint64_t high = 0;
  uint64_t low = 0;
  bool operator==(const ContentHash&) const = default;
  std::string ToHex() const;  // 32 hex digits
};

class ContentHasher {
 public:
  ContentHasher();
  ~ContentHasher();
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;

  void Update(ByteSpan data);
  void Update(std::string_view bytes);
  // A hole: `count` zero bytes.
  void UpdateZeros(uint64_t count);
  // Bytes fed so far.
  uint64_t fed() const { return fed_; }
  ContentHash Digest() const;
  std::string HexDigest() const { return Digest().ToHex(); }

 private:
  struct State;
  std::unique_ptr<State> state_;
  uint64_t fed_ = 0;
};

// One-shot form, as hex.
std::string Xxh128Hex(std::string_view bytes);

}  // namespace granary::tools
