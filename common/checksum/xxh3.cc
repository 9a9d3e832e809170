#include "common/checksum/xxh3.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace granary::checksum {

uint64_t Xxh3(const void* data, size_t len) { return XXH3_64bits(data, len); }
uint32_t Xxh32(const void* data, size_t len, uint32_t seed) { return XXH32(data, len, seed); }

}  // namespace granary::checksum
