#pragma once
// HMAC-SHA256 through OpenSSL's EVP_MAC (SHA-NI or AVX2 code paths where the
// CPU has them). Used by the cluster key handshake and the frame MAC.
//
// An HmacSha256 holds one keyed context: Reset() starts a new tag with the
// same key without re-deriving the key pads, which is what makes a tag per
// frame cheap. Not thread-safe; each direction of a connection owns one.

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace granary::net {

inline constexpr size_t kMacBytes = 32;
using MacTag = std::array<uint8_t, kMacBytes>;

class HmacSha256 {
 public:
  // Aborts if OpenSSL cannot provide HMAC-SHA256: a broken install, not a
  // condition a caller could handle.
  explicit HmacSha256(std::span<const uint8_t> key);
  explicit HmacSha256(std::string_view key)
      : HmacSha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()),
                                            key.size())) {}
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  void Reset();
  void Update(std::span<const uint8_t> bytes);
  void Update(std::string_view bytes) {
    Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }
  MacTag Final();

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
};

// Constant-time comparison (CRYPTO_memcmp): a tag check must not leak how
// many leading bytes matched.
bool TagsEqual(std::span<const uint8_t> a, std::span<const uint8_t> b);

}  // namespace granary::net
