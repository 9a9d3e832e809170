#pragma once
// Helpers for integration tests: deterministic file contents, whole-file
// write and read through the client library.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "granary/client.h"
#include "tests/testutil/status_matchers.h"

namespace granary::testutil {

// Bytes that are neither all-random nor trivially compressible: half of each
// 4 KiB run is random, half repeats, so both codecs get exercised.
inline std::vector<uint8_t> MakeData(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < n; i += 8) {
    uint64_t x = ((i / 4096) % 2 == 0) ? rng() : (i / 4096) * 0x0101010101010101ull;
    std::memcpy(v.data() + i, &x, std::min<size_t>(8, n - i));
  }
  return v;
}

inline Status WriteFile(Client& c, const std::string& path, ByteSpan data, CreateOptions o = {},
                        size_t piece = 3 << 20) {
  ASSIGN_OR_RETURN(auto w, c.Create(path, o));
  for (size_t off = 0; off < data.size(); off += piece) {
    RETURN_IF_ERROR(w->Write(data.subspan(off, std::min(piece, data.size() - off))));
  }
  return w->Close();
}

inline Result<std::vector<uint8_t>> ReadFile(Client& c, const std::string& path,
                                             size_t piece = 5 << 20) {
  ASSIGN_OR_RETURN(auto r, c.Open(path));
  std::vector<uint8_t> out(r->size());
  for (size_t off = 0; off < out.size();) {
    size_t want = std::min(piece, out.size() - off);
    ASSIGN_OR_RETURN(size_t got, r->PRead(off, MutableByteSpan(out.data() + off, want)));
    if (got == 0) return Status::Internal("unexpected EOF at " + std::to_string(off));
    off += got;
  }
  return out;
}

}  // namespace granary::testutil
