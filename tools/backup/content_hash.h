#pragma once
// ContentHash: the XXH3-128 of a file's contents as manifests store it (32 hex
// digits, the canonical big-endian form), fed in pieces, with holes fed as
// zeros. Not thread-safe; one per file.

#include <xxhash.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace granary::tools::backup {

class ContentHash {
 public:
  ContentHash();
  ~ContentHash();
  ContentHash(const ContentHash&) = delete;
  ContentHash& operator=(const ContentHash&) = delete;

  void Update(std::string_view bytes);
  void UpdateZeros(uint64_t count);
  uint64_t fed() const { return fed_; }
  std::string HexDigest() const;

 private:
  XXH3_state_t* state_;
  uint64_t fed_ = 0;
};

// One-shot form.
std::string Xxh128Hex(std::string_view bytes);

}  // namespace granary::tools::backup
