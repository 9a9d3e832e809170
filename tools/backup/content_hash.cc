#include "tools/backup/content_hash.h"

#include <algorithm>
#include <cstdlib>

namespace granary::tools::backup {
namespace {
constexpr size_t kZeroBytes = 1u << 20;
const char kZeros[kZeroBytes] = {};
}  // namespace

ContentHash::ContentHash() : state_(XXH3_createState()) {
  if (state_ == nullptr) std::abort();  // out of memory: nothing sensible to do
  XXH3_128bits_reset(state_);
}

ContentHash::~ContentHash() { XXH3_freeState(state_); }

void ContentHash::Update(std::string_view bytes) {
  XXH3_128bits_update(state_, bytes.data(), bytes.size());
  fed_ += bytes.size();
}

void ContentHash::UpdateZeros(uint64_t count) {
  while (count > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(count, kZeroBytes));
    Update(std::string_view(kZeros, n));
    count -= n;
  }
}

std::string ContentHash::HexDigest() const {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits_digest(state_));
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : c.digest) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::string Xxh128Hex(std::string_view bytes) {
  ContentHash h;
  h.Update(bytes);
  return h.HexDigest();
}

}  // namespace granary::tools::backup
