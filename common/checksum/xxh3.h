#pragma once
// XXH3-64, the checksum of every stored and raw block. Header-only inlined
// xxHash is about 1.6x faster here than the shared library's entry point.

#include <cstddef>
#include <cstdint>

namespace granary::checksum {

uint64_t Xxh3(const void* data, size_t len);
uint32_t Xxh32(const void* data, size_t len, uint32_t seed = 0);

}  // namespace granary::checksum
