#include "tools/content_hash.h"

#include <fmt/format.h>

#include <algorithm>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace granary::tools {
namespace {
constexpr size_t kZeroBytes = 1u << 20;
const uint8_t kZeros[kZeroBytes] = {};
}  // namespace

struct ContentHasher::State {
  XXH3_state_t xxh;
};

ContentHasher::ContentHasher() : state_(std::make_unique<State>()) {
  XXH3_128bits_reset(&state_->xxh);
}

ContentHasher::~ContentHasher() = default;

void ContentHasher::Update(ByteSpan data) {
  XXH3_128bits_update(&state_->xxh, data.data(), data.size());
  fed_ += data.size();
}

void ContentHasher::Update(std::string_view bytes) {
  Update(ByteSpan(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

void ContentHasher::UpdateZeros(uint64_t count) {
  while (count > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(count, kZeroBytes));
    Update(ByteSpan(kZeros, n));
    count -= n;
  }
}

ContentHash ContentHasher::Digest() const {
  XXH128_hash_t h = XXH3_128bits_digest(&state_->xxh);
  return {h.high64, h.low64};
}

std::string ContentHash::ToHex() const { return fmt::format("{:016x}{:016x}", high, low); }

std::string Xxh128Hex(std::string_view bytes) {
  ContentHasher h;
  h.Update(bytes);
  return h.HexDigest();
}

}  // namespace granary::tools
