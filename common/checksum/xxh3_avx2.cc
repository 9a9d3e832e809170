// XXH3-64 compiled for AVX2 (this file is built with -mavx2). Called only
// after a run-time check that the CPU has AVX2; see xxh3.cc.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace granary::checksum {

uint64_t Xxh3Avx2(const void* data, size_t len) { return XXH3_64bits(data, len); }

}  // namespace granary::checksum
