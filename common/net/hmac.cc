#include "common/net/hmac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include <cstdio>
#include <cstdlib>

namespace granary::net {
namespace {

// Fetched once: fetching walks the provider tables and is far slower than
// the MAC of a small frame.
EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "granary: OpenSSL HMAC-SHA256: %s failed\n", what);
  std::abort();
}

}  // namespace

HmacSha256::HmacSha256(std::span<const uint8_t> key) {
  EVP_MAC* mac = HmacAlgorithm();
  if (mac == nullptr) Die("EVP_MAC_fetch");
  ctx_ = EVP_MAC_CTX_new(mac);
  if (ctx_ == nullptr) Die("EVP_MAC_CTX_new");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx_, key.data(), key.size(), params) != 1) Die("EVP_MAC_init");
}

HmacSha256::~HmacSha256() { EVP_MAC_CTX_free(ctx_); }

void HmacSha256::Reset() {
  // A null key keeps the key set at construction (HMAC reuses its pads).
  if (EVP_MAC_init(ctx_, nullptr, 0, nullptr) != 1) Die("EVP_MAC_init (reset)");
}

void HmacSha256::Update(std::span<const uint8_t> bytes) {
  if (!bytes.empty() && EVP_MAC_update(ctx_, bytes.data(), bytes.size()) != 1) {
    Die("EVP_MAC_update");
  }
}

MacTag HmacSha256::Final() {
  MacTag tag;
  size_t len = 0;
  if (EVP_MAC_final(ctx_, tag.data(), &len, tag.size()) != 1 || len != tag.size()) {
    Die("EVP_MAC_final");
  }
  return tag;
}

bool TagsEqual(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace granary::net
