#pragma once
// Test helpers for the storage suite: encoded chunks, temp folders, and a
// driver for coroutines.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/buffer.h"
#include "common/codec/block.h"
#include "common/codec/chunk_format.h"

namespace granary::storage::testing {

// A chunk encoded the way a client would send it.
struct TestChunk {
  std::vector<uint8_t> raw;
  std::vector<uint8_t> encoded;   // all blocks back to back
  std::vector<uint64_t> offsets;  // offsets[i] = start of block i; offsets.back() = size
  uint64_t total_raw() const { return raw.size(); }
  uint64_t total_stored() const { return encoded.size(); }
  uint32_t block_count() const { return static_cast<uint32_t>(offsets.size() - 1); }
  // Bytes of blocks [first, first + count).
  ByteSpan Piece(uint32_t first, uint32_t count) const {
    return ByteSpan(encoded).subspan(offsets[first], offsets[first + count] - offsets[first]);
  }
};

// `blocks` blocks of `block_size` raw bytes; odd blocks compress, even ones do not.
inline TestChunk MakeChunk(uint32_t blocks, size_t block_size, uint32_t seed) {
  TestChunk c;
  std::mt19937_64 rng(seed);
  c.raw.resize(size_t{blocks} * block_size);
  for (size_t i = 0; i < c.raw.size(); ++i) {
    const bool compressible = (i / block_size) % 2 == 1;
    c.raw[i] = compressible ? static_cast<uint8_t>("granary"[i % 7]) : static_cast<uint8_t>(rng());
  }
  c.offsets.push_back(0);
  std::vector<uint8_t> out(codec::MaxEncodedSize(block_size));
  for (uint32_t b = 0; b < blocks; ++b) {
    ByteSpan raw(c.raw.data() + size_t{b} * block_size, block_size);
    Result<size_t> n = codec::EncodeBlock(raw, {}, out);
    EXPECT_TRUE(n.ok());
    c.encoded.insert(c.encoded.end(), out.begin(), out.begin() + static_cast<long>(*n));
    c.offsets.push_back(c.encoded.size());
  }
  return c;
}

// The footer a chunk server writes for `c` (format 2 with `with_index`,
// else format 1), from the same validation a write piece gets.
inline codec::ChunkFooter FooterOf(const TestChunk& c, codec::ChunkKey key,
                                   bool with_index = false) {
  Result<codec::PieceLayout> layout = codec::ValidatePiece(c.encoded, 0, 0, c.block_count());
  EXPECT_TRUE(layout.ok()) << layout.status().ToString();
  codec::ChunkFooter f{key, c.total_raw(), c.total_stored(), layout->blocks, {}};
  if (with_index) f.index = layout->index;
  return f;
}

// A fresh folder under the test temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/granary-storage-XXXXXX";
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline Status StatusOf(const Status& s) { return s; }
template <class T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

}  // namespace granary::storage::testing

#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    ::granary::Status _st = ::granary::storage::testing::StatusOf(expr); \
    ASSERT_TRUE(_st.ok()) << #expr << ": " << _st.ToString();            \
  } while (0)

#define EXPECT_ERROR(expr, error_code)                                                      \
  do {                                                                                      \
    ::granary::Status _st = ::granary::storage::testing::StatusOf(expr);                    \
    EXPECT_EQ(_st.code(), ::granary::proto::error_code) << #expr << ": " << _st.ToString(); \
  } while (0)
