#include "tools/migrate/content_hash.h"

#include <fmt/format.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace granary::tools::migrate {

struct ContentHasher::State {
  XXH3_state_t xxh;
};

ContentHasher::ContentHasher() : state_(std::make_unique<State>()) {
  XXH3_128bits_reset(&state_->xxh);
}

ContentHasher::~ContentHasher() = default;

void ContentHasher::Update(ByteSpan data) {
  XXH3_128bits_update(&state_->xxh, data.data(), data.size());
}

ContentHash ContentHasher::Digest() const {
  XXH128_hash_t h = XXH3_128bits_digest(&state_->xxh);
  return {h.high64, h.low64};
}

std::string ContentHash::ToHex() const { return fmt::format("{:016x}{:016x}", high, low); }

}  // namespace granary::tools::migrate
