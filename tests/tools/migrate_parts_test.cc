// The pieces of granary migrate that need no cluster: argument parsing,
// temporary names, the streaming checksum and the rate limiter's sizing.
#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tools/content_hash.h"
#include "tools/migrate/location.h"
#include "tools/migrate/plan.h"
#include "tools/migrate/rate_limiter.h"

namespace granary::tools::migrate {
namespace {

TEST(MigrateLocation, LocalAndClusterForms) {
  ASSERT_OK_AND_ASSIGN(Location local, ParseLocation("./models/x/"));
  EXPECT_EQ(local.kind, Location::Kind::kLocal);
  EXPECT_EQ(local.path, "./models/x/");
  EXPECT_TRUE(local.trailing_slash);

  ASSERT_OK_AND_ASSIGN(Location own, ParseLocation("granary:/models//x"));
  EXPECT_EQ(own.kind, Location::Kind::kCluster);
  EXPECT_EQ(own.meta, "");
  EXPECT_EQ(own.path, "/models/x");

  ASSERT_OK_AND_ASSIGN(Location own3, ParseLocation("granary:///models/x"));
  EXPECT_EQ(own3.meta, "");
  EXPECT_EQ(own3.path, "/models/x");

  ASSERT_OK_AND_ASSIGN(Location other, ParseLocation("granary://10.0.0.7:7000/models/x/"));
  EXPECT_EQ(other.meta, "10.0.0.7:7000");
  EXPECT_EQ(other.path, "/models/x");
  EXPECT_TRUE(other.trailing_slash);

  ASSERT_OK_AND_ASSIGN(Location root, ParseLocation("granary://10.0.0.7:7000"));
  EXPECT_EQ(root.path, "/");
}

TEST(MigrateLocation, Malformed) {
  EXPECT_EQ(ParseLocation("granary://host-without-port/x").status().code(),
            proto::INVALID_ARGUMENT);
  EXPECT_EQ(ParseLocation("granary:relative").status().code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(ParseLocation("granary:/a/../b").status().code(), proto::INVALID_ARGUMENT);
  EXPECT_EQ(ParseLocation("").status().code(), proto::INVALID_ARGUMENT);
}

TEST(MigrateTempName, UniqueAndRecognized) {
  std::string a = TempName("weights.bin");
  std::string b = TempName("weights.bin");
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.starts_with(".weights.bin.granary-migrate."));
  EXPECT_TRUE(IsTempName(a));
  EXPECT_FALSE(IsTempName("weights.bin"));
  EXPECT_FALSE(IsTempName(".hidden"));
  // Long names still fit the 255-byte component limit.
  EXPECT_LE(TempName(std::string(255, 'n')).size(), 255u);
}

TEST(MigrateContentHash, StreamingEqualsOneShot) {
  std::string data(3 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + (i >> 9));
  auto span = [&](size_t off, size_t n) {
    return ByteSpan(reinterpret_cast<const uint8_t*>(data.data()) + off, n);
  };
  ContentHasher whole;
  whole.Update(span(0, data.size()));
  ContentHasher pieces;
  for (size_t off = 0; off < data.size(); off += 65537) {
    pieces.Update(span(off, std::min<size_t>(65537, data.size() - off)));
  }
  EXPECT_EQ(whole.Digest(), pieces.Digest());
  EXPECT_EQ(whole.Digest().ToHex().size(), 32u);
  ContentHasher other;
  data[12345] ^= 1;
  other.Update(span(0, data.size()));
  EXPECT_FALSE(other.Digest() == whole.Digest());
}

TEST(MigrateRateLimiter, PieceSizes) {
  RateLimiter unlimited(0);
  EXPECT_FALSE(unlimited.limited());
  EXPECT_EQ(unlimited.PieceBytes(8 << 20), 8u << 20);
  unlimited.Acquire(1ull << 40);  // returns at once
  RateLimiter slow(64 << 10);
  EXPECT_EQ(slow.PieceBytes(8 << 20), 16u << 10);
  RateLimiter fast(800ull << 20);
  EXPECT_EQ(fast.PieceBytes(8 << 20), 8u << 20);
  RateLimiter mid(16 << 20);
  EXPECT_EQ(mid.PieceBytes(8 << 20), 2u << 20);
}

}  // namespace
}  // namespace granary::tools::migrate
