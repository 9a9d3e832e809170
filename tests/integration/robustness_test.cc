// Restarts, garbage on the wire and damaged replicas, with real daemons.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include <filesystem>
#include <fstream>

#include "common/net/frame.h"
#include "tests/integration/test_data.h"
#include "tests/testutil/raw_socket.h"
#include "tests/testutil/test_cluster.h"

namespace granary::testutil {
namespace {

namespace fs = std::filesystem;
constexpr size_t kMiB = 1 << 20;

std::unique_ptr<TestCluster> StartCluster() {
  auto c = TestCluster::Start({.chunkservers = 3});
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

TEST(Robustness, MetadRestartKeepsEverything) {
  auto cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  auto data = MakeData(11 * kMiB + 5, 8);
  CreateOptions o;
  o.chunk_size = 4 * kMiB;
  ASSERT_OK(client->Mkdir("/keep/me", 0750, true));
  ASSERT_OK(WriteFile(*client, "/keep/me/file", data, o));
  ASSERT_OK(WriteFile(*client, "/keep/empty", {}));
  ASSERT_OK(client->Rename("/keep/empty", "/keep/renamed"));

  ASSERT_OK(cluster->KillMetad(SIGKILL));  // no clean shutdown
  ASSERT_OK(cluster->RestartMetad());
  ASSERT_OK(cluster->WaitForAllUp());

  ASSERT_OK_AND_ASSIGN(auto fresh, cluster->Connect());
  ASSERT_OK_AND_ASSIGN(auto dir, fresh->Stat("/keep/me"));
  EXPECT_EQ(dir.mode & 0777, 0750u);
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*fresh, "/keep/me/file"));
  EXPECT_TRUE(back == data);
  ASSERT_OK(fresh->Stat("/keep/renamed"));
  ASSERT_ERROR(fresh->Stat("/keep/empty"), proto::NOT_FOUND);
  // New chunk ids do not collide with the ones handed out before the crash.
  ASSERT_OK(WriteFile(*fresh, "/keep/after", MakeData(6 * kMiB, 9), o));
  ASSERT_OK_AND_ASSIGN(auto before, fresh->GetLayout("/keep/me/file"));
  ASSERT_OK_AND_ASSIGN(auto after, fresh->GetLayout("/keep/after"));
  for (auto& a : after)
    for (auto& b : before) EXPECT_NE(a.chunk_id, b.chunk_id);
  ASSERT_OK_AND_ASSIGN(auto again, ReadFile(*fresh, "/keep/me/file"));
  EXPECT_TRUE(again == data);
}

TEST(Robustness, GarbageFramesLeaveDaemonsUp) {
  auto cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  const std::string targets[] = {cluster->meta_address(), cluster->chunkd_address(0)};
  const std::string garbage[] = {
      std::string(64, '\0'),
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      std::string("GRNY\x01\x01\x64\x00", 8) + std::string(40, '\xff'),  // bad checksum
      std::string(1 << 16, 'z'),
  };
  for (const auto& t : targets) {
    for (const auto& g : garbage) {
      std::string reply = RawExchange(t, g);
      // Either an error frame with a reason, or a plain close; never a crash.
      if (!reply.empty()) {
        ASSERT_GE(reply.size(), net::kFrameHeaderSize);
        auto h = net::DecodeFrameHeader(reinterpret_cast<const uint8_t*>(reply.data()),
                                        net::FrameLimits{});
        ASSERT_TRUE(h.ok()) << h.status().ToString();
        EXPECT_EQ(h->status, static_cast<uint32_t>(proto::PROTOCOL_ERROR));
        EXPECT_GT(h->message_len, 0u);
      }
    }
  }
  EXPECT_TRUE(cluster->chunkd_running(0));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  ASSERT_OK(WriteFile(*client, "/still-works", MakeData(2 * kMiB, 1)));
  ASSERT_OK_AND_ASSIGN(auto nodes, client->ListNodes());
  EXPECT_EQ(nodes.size(), 3u);
}

TEST(Robustness, ReadFailsOverFromCorruptAndDeadReplicas) {
  auto cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  auto data = MakeData(3 * kMiB, 21);
  CreateOptions o;
  o.chunk_size = 4 * kMiB;
  ASSERT_OK(WriteFile(*client, "/fragile", data, o));
  ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/fragile"));
  ASSERT_EQ(layout.size(), 1u);
  char name[64];
  std::snprintf(name, sizeof name, "%016llx.%llu", (unsigned long long)layout[0].chunk_id,
                (unsigned long long)layout[0].version);
  // Flip a byte in the middle of the first replica's chunk file.
  const auto& first = layout[0].replicas[0];
  int corrupt_index = -1;
  for (int i = 0; i < cluster->num_chunkservers(); ++i) {
    if (cluster->chunkd_address(i) == first.address) corrupt_index = i;
  }
  ASSERT_GE(corrupt_index, 0);
  bool flipped = false;
  for (auto& e : fs::recursive_directory_iterator(cluster->chunkd_data_dir(corrupt_index))) {
    if (e.path().filename() != name) continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(1000);
    char c;
    f.get(c);
    f.seekp(1000);
    f.put(static_cast<char>(c ^ 0x5a));
    flipped = true;
  }
  ASSERT_TRUE(flipped);
  // Every read still returns the right bytes: the bad replica is skipped.
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/fragile"));
    EXPECT_TRUE(back == data) << "read " << i;
  }
  // Kill a different replica too: one good copy is enough.
  int dead = (corrupt_index + 1) % cluster->num_chunkservers();
  ASSERT_OK(cluster->KillChunkd(dead, SIGKILL));
  ASSERT_OK_AND_ASSIGN(auto fresh, cluster->Connect());
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*fresh, "/fragile"));
  EXPECT_TRUE(back == data);
}

// Small random reads fetch only the 64 KiB segments they touch; each segment
// is checked against its own checksum, so a flipped byte is caught there too.
TEST(Robustness, SmallRandomReadsVerifySegmentsAndFailOver) {
  auto cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  // Incompressible bytes: every block is stored raw with segment checksums.
  std::vector<uint8_t> data(3 * kMiB + 12345);
  std::mt19937_64 gen(22);
  for (auto& b : data) b = static_cast<uint8_t>(gen() >> 56);
  CreateOptions o;
  o.chunk_size = 4 * kMiB;
  ASSERT_OK(WriteFile(*client, "/segments", data, o));
  // Random reads of every size up to a few segments, none continuing the last.
  {
    ASSERT_OK_AND_ASSIGN(auto r, client->Open("/segments"));
    std::mt19937_64 rng(5);
    for (int i = 0; i < 200; ++i) {
      const size_t len = 1 + rng() % (200 * 1024);
      const uint64_t off = rng() % (data.size() - len);
      std::vector<uint8_t> got(len);
      ASSERT_OK_AND_ASSIGN(size_t n, r->PRead(off, MutableByteSpan(got.data(), len)));
      ASSERT_EQ(n, len);
      ASSERT_TRUE(std::equal(got.begin(), got.end(), data.begin() + off)) << off << "+" << len;
    }
  }
  ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/segments"));
  ASSERT_EQ(layout.size(), 1u);
  char name[64];
  std::snprintf(name, sizeof name, "%016llx.%llu", (unsigned long long)layout[0].chunk_id,
                (unsigned long long)layout[0].version);
  // Flips the byte at raw offset 1000 of block 1 in replica `i`'s file.
  auto flip = [&](int i) {
    bool done = false;
    for (auto& e : fs::recursive_directory_iterator(cluster->chunkd_data_dir(i))) {
      if (e.path().filename() != name) continue;
      std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
      // Block 0 is 32 + 1 MiB + 16 * 8 bytes; block 1's raw bytes follow its header.
      const std::streamoff pos = 32 + kMiB + 16 * 8 + 32 + 1000;
      f.seekg(pos);
      char c;
      f.get(c);
      f.seekp(pos);
      f.put(static_cast<char>(c ^ 0x5a));
      done = true;
    }
    return done;
  };
  auto read_at = [&](uint64_t off, size_t len) -> Result<std::vector<uint8_t>> {
    ASSIGN_OR_RETURN(auto fresh, cluster->Connect());
    ASSIGN_OR_RETURN(auto r, fresh->Open("/segments"));
    std::vector<uint8_t> got(len);
    ASSIGN_OR_RETURN(size_t n, r->PRead(off, MutableByteSpan(got.data(), len)));
    if (n != len) return Status::Internal("short read");
    return got;
  };
  const uint64_t bad = kMiB + 1000;
  ASSERT_TRUE(flip(0));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto got, read_at(bad - 10, 100));
    EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin() + bad - 10)) << "read " << i;
  }
  ASSERT_TRUE(flip(1));
  ASSERT_TRUE(flip(2));
  // Every copy is bad now: an error naming the segment, never wrong bytes.
  auto r = read_at(bad - 10, 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), proto::CHECKSUM_MISMATCH) << r.status().ToString();
  EXPECT_NE(r.status().message().find("segment 0"), std::string::npos) << r.status().ToString();
  // Other segments of the same block still read.
  ASSERT_OK_AND_ASSIGN(auto ok, read_at(kMiB + 300000, 4096));
  EXPECT_TRUE(std::equal(ok.begin(), ok.end(), data.begin() + kMiB + 300000));
}

}  // namespace
}  // namespace granary::testutil
