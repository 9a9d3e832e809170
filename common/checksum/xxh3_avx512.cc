// XXH3-64 compiled for AVX-512 (this file is built with -mavx512f). Called
// only after a run-time check that the CPU has AVX-512F; see xxh3.cc.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace granary::checksum {

uint64_t Xxh3Avx512(const void* data, size_t len) { return XXH3_64bits(data, len); }

}  // namespace granary::checksum
