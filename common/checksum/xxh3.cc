#include "common/checksum/xxh3.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace granary::checksum {

// Built with -mavx2 in its own file (xxh3_avx2.cc).
uint64_t Xxh3Avx2(const void* data, size_t len);

namespace {
// Every block is hashed twice on its way (writer, chunk server, reader), so
// the vector width matters: AVX2 hashes 1.6x faster than the SSE2 baseline
// on this kind of machine. Chosen once, at start-up.
const bool kHaveAvx2 = __builtin_cpu_supports("avx2");
}  // namespace

uint64_t Xxh3(const void* data, size_t len) {
  return kHaveAvx2 ? Xxh3Avx2(data, len) : XXH3_64bits(data, len);
}

uint32_t Xxh32(const void* data, size_t len, uint32_t seed) { return XXH32(data, len, seed); }

}  // namespace granary::checksum
