// End to end through real daemons: files of every boundary size written and
// read back byte-identical, replicas really on three chunk servers.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "tests/integration/test_data.h"
#include "tests/testutil/cluster_suite.h"

namespace granary::testutil {
namespace {

namespace fs = std::filesystem;
constexpr size_t kMiB = 1 << 20;
constexpr size_t kBlock = 1 << 20;

class PutGet : public ClusterSuite {
 protected:
  // Writes `size` bytes with the given chunk size and checks every byte back.
  void RoundTrip(const std::string& path, size_t size, uint64_t chunk_size) {
    auto data = MakeData(size, size * 31 + chunk_size);
    CreateOptions o;
    o.chunk_size = chunk_size;
    o.fsync_on_close = true;
    ASSERT_OK(WriteFile(*client_, path, data, o));
    ASSERT_OK_AND_ASSIGN(auto info, client_->Stat(path));
    EXPECT_EQ(info.size, size);
    ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client_, path));
    ASSERT_EQ(back.size(), data.size());
    EXPECT_TRUE(back == data) << path << ": contents differ";
  }

};

TEST_F(PutGet, BoundarySizes) {
  const uint64_t chunk = 4 * kMiB;  // small chunks keep chunk±1 cheap
  const size_t sizes[] = {0, 1, kBlock - 1, kBlock, kBlock + 1, chunk - 1, chunk, chunk + 1,
                          3 * chunk + kBlock / 2};
  for (size_t s : sizes) {
    SCOPED_TRACE("size " + std::to_string(s));
    RoundTrip("/boundary-" + std::to_string(s), s, chunk);
  }
}

TEST_F(PutGet, DefaultChunkSizeBoundaries) {
  ASSERT_OK_AND_ASSIGN(auto root, client_->Stat("/"));
  const uint64_t chunk = root.chunk_size;
  ASSERT_EQ(chunk, 64 * kMiB);
  RoundTrip("/default-chunk-minus-1", chunk - 1, 0);
  RoundTrip("/default-chunk-plus-1", chunk + 1, 0);
}

TEST_F(PutGet, ThreeHundredMiB) {
  RoundTrip("/big-300MiB", 300 * kMiB, 0);
  ASSERT_OK_AND_ASSIGN(auto layout, client_->GetLayout("/big-300MiB"));
  EXPECT_EQ(layout.size(), 5u);  // 4 full 64 MiB chunks + 44 MiB
}

TEST_F(PutGet, RandomReadsMatch) {
  auto data = MakeData(9 * kMiB + 123, 77);
  CreateOptions o;
  o.chunk_size = 2 * kMiB;
  ASSERT_OK(WriteFile(*client_, "/random-reads", data, o));
  ASSERT_OK_AND_ASSIGN(auto r, client_->Open("/random-reads"));
  std::mt19937_64 rng(5);
  for (int i = 0; i < 200; ++i) {
    uint64_t off = rng() % (data.size() + 10);
    size_t len = rng() % (3 * kMiB);
    std::vector<uint8_t> buf(len);
    ASSERT_OK_AND_ASSIGN(size_t got, r->PRead(off, buf));
    size_t expect = off >= data.size() ? 0 : std::min<size_t>(len, data.size() - off);
    ASSERT_EQ(got, expect) << "offset " << off << " length " << len;
    ASSERT_EQ(std::memcmp(buf.data(), data.data() + std::min<size_t>(off, data.size()), got), 0)
        << "offset " << off << " length " << len;
  }
}

TEST_F(PutGet, FsyncMidChunkThenMoreWrites) {
  auto data = MakeData(5 * kMiB + 700, 99);
  CreateOptions o;
  o.chunk_size = 4 * kMiB;
  ASSERT_OK_AND_ASSIGN(auto w, client_->Create("/fsync-mid", o));
  ASSERT_OK(w->Write(ByteSpan(data.data(), kMiB + 300)));
  ASSERT_OK(w->Fsync());
  // Visible and durable after fsync, while the writer goes on.
  ASSERT_OK_AND_ASSIGN(auto mid, ReadFile(*client_, "/fsync-mid"));
  ASSERT_EQ(mid.size(), kMiB + 300);
  EXPECT_EQ(std::memcmp(mid.data(), data.data(), mid.size()), 0);
  ASSERT_OK(w->Write(ByteSpan(data.data() + kMiB + 300, data.size() - kMiB - 300)));
  ASSERT_OK(w->Close());
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client_, "/fsync-mid"));
  EXPECT_TRUE(back == data);
}

TEST_F(PutGet, ReplicasLiveOnThreeChunkServers) {
  auto data = MakeData(10 * kMiB, 3);
  CreateOptions o;
  o.chunk_size = 4 * kMiB;
  ASSERT_OK(WriteFile(*client_, "/replicated", data, o));
  ASSERT_OK_AND_ASSIGN(auto layout, client_->GetLayout("/replicated"));
  ASSERT_EQ(layout.size(), 3u);
  for (const auto& chunk : layout) {
    ASSERT_EQ(chunk.replicas.size(), 3u);
    std::set<std::string> nodes;
    for (const auto& r : chunk.replicas) nodes.insert(r.node_id);
    EXPECT_EQ(nodes.size(), 3u) << "replicas of chunk " << chunk.chunk_id << " not distinct";
    // Each chunk server holds a file for this chunk version on its disk.
    char name[64];
    std::snprintf(name, sizeof name, "%016llx.%llu", (unsigned long long)chunk.chunk_id,
                  (unsigned long long)chunk.version);
    for (int i = 0; i < cluster_->num_chunkservers(); ++i) {
      bool found = false;
      for (auto& e : fs::recursive_directory_iterator(cluster_->chunkd_data_dir(i))) {
        if (e.path().filename() == name) found = true;
      }
      EXPECT_TRUE(found) << "chunk server " << i << " lacks " << name;
    }
  }
}

TEST_F(PutGet, NamespaceOperations) {
  ASSERT_OK(client_->Mkdir("/ns/a/b", 0755, /*parents=*/true));
  ASSERT_OK(WriteFile(*client_, "/ns/a/b/one", MakeData(1000, 1)));
  ASSERT_OK(WriteFile(*client_, "/ns/a/b/two", MakeData(2000, 2)));
  ASSERT_OK_AND_ASSIGN(auto entries, client_->ReadDir("/ns/a/b"));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "one");
  EXPECT_EQ(entries[1].info.size, 2000u);
  // Rename over an existing file replaces it atomically.
  ASSERT_OK(client_->Rename("/ns/a/b/two", "/ns/a/b/one"));
  ASSERT_OK_AND_ASSIGN(auto one, client_->Stat("/ns/a/b/one"));
  EXPECT_EQ(one.size, 2000u);
  ASSERT_ERROR(client_->Stat("/ns/a/b/two"), proto::NOT_FOUND);
  ASSERT_ERROR(client_->Rmdir("/ns/a"), proto::NOT_EMPTY);
  ASSERT_ERROR(client_->Rename("/ns/a", "/ns/a/b/inside"), proto::INVALID_ARGUMENT);
  ASSERT_OK(client_->Unlink("/ns/a/b/one"));
  ASSERT_OK(client_->Rmdir("/ns/a/b"));
  ASSERT_OK(client_->Rmdir("/ns/a"));
  // Replication factor and chunk size are inherited from the parent folder.
  ASSERT_OK(client_->Mkdir("/ns/r2"));
  ASSERT_OK(client_->SetLayout("/ns/r2", {.replicas = 2, .chunk_size = 8 * kMiB}));
  ASSERT_OK(WriteFile(*client_, "/ns/r2/f", MakeData(9 * kMiB, 4)));
  ASSERT_OK_AND_ASSIGN(auto f, client_->Stat("/ns/r2/f"));
  EXPECT_EQ(f.replicas, 2u);
  EXPECT_EQ(f.chunk_size, 8 * kMiB);
  ASSERT_OK_AND_ASSIGN(auto layout, client_->GetLayout("/ns/r2/f"));
  ASSERT_EQ(layout.size(), 2u);
  EXPECT_EQ(layout[0].replicas.size(), 2u);
}

TEST_F(PutGet, SecondWriterIsRefused) {
  ASSERT_OK_AND_ASSIGN(auto w1, client_->Create("/leased", {}));
  ASSERT_OK(w1->Write(MakeData(100, 1)));
  ASSERT_OK_AND_ASSIGN(auto other, cluster_->Connect());
  auto w2 = other->Create("/leased", {});
  ASSERT_FALSE(w2.ok());
  EXPECT_EQ(w2.status().code(), proto::LEASE_CONFLICT) << w2.status().ToString();
  ASSERT_OK(w1->Close());
  // Once the first writer closed, a new writer may take the file.
  ASSERT_OK_AND_ASSIGN(auto w3, other->Create("/leased", {}));
  ASSERT_OK(w3->Close());
}

TEST_F(PutGet, BadInputGivesClearErrors) {
  ASSERT_ERROR(client_->Stat("/no/such/file"), proto::NOT_FOUND);
  ASSERT_ERROR(client_->Stat("relative"), proto::INVALID_ARGUMENT);
  ASSERT_ERROR(client_->Create("/missing-parent/x", {}), proto::NOT_FOUND);
  ASSERT_OK(client_->Mkdir("/adir"));
  ASSERT_ERROR(client_->Open("/adir"), proto::IS_DIRECTORY);
  ASSERT_ERROR(client_->Create("/adir", {}), proto::IS_DIRECTORY);
  ASSERT_OK(WriteFile(*client_, "/afile", MakeData(10, 1)));
  ASSERT_ERROR(client_->Create("/afile/child", {}), proto::NOT_DIRECTORY);
  CreateOptions bad;
  bad.replicas = 4;  // only 3 chunk servers
  auto w = client_->Create("/four-replicas", bad);
  if (w.ok()) {
    // Placement fails at the first chunk: the error surfaces on write/close.
    Status st = (*w)->Write(MakeData(100, 1));
    if (st.ok()) st = (*w)->Close();
    EXPECT_EQ(st.code(), proto::NOT_ENOUGH_NODES) << st.ToString();
  } else {
    EXPECT_EQ(w.status().code(), proto::INVALID_ARGUMENT) << w.status().ToString();
  }
  auto unreachable = Client::Connect({.meta_address = "127.0.0.1:1"});
  ASSERT_FALSE(unreachable.ok());
  EXPECT_NE(unreachable.status().message().find("127.0.0.1:1"), std::string::npos);
}

}  // namespace
}  // namespace granary::testutil
