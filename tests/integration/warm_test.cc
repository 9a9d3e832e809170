// Client::Warm through a real cluster: after it, every replica file of the
// files asked for is in the page cache (mincore), the counts match the
// layout, one replica per chunk is an option, a folder is warmed whole, a
// replica gone from disk is counted as missing, and a chunk server that is
// down is reported by address while the others are still warmed.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/integration/test_data.h"
#include "tests/testutil/cluster_suite.h"

namespace granary::testutil {
namespace {

namespace fs = std::filesystem;

// Every replica file of chunk server `i`.
std::vector<std::string> ReplicaFiles(const TestCluster& c, int i) {
  std::vector<std::string> out;
  const fs::path root = fs::path(c.chunkd_data_dir(i)) / "chunks";
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out.push_back(e.path().string());
  }
  return out;
}

// Pages of `path` in the page cache, and all its pages.
std::pair<size_t, size_t> Resident(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size == 0) {
    if (fd >= 0) ::close(fd);
    return {0, 0};
  }
  const size_t size = static_cast<size_t>(st.st_size);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  std::vector<unsigned char> in((size + page - 1) / page);
  size_t resident = 0;
  if (p != MAP_FAILED && ::mincore(p, size, in.data()) == 0) {
    for (unsigned char b : in) resident += b & 1;
  }
  if (p != MAP_FAILED) ::munmap(p, size);
  ::close(fd);
  return {resident, in.size()};
}

// Drops a file's pages from the page cache (written back first).
void Evict(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

class Warm : public ClusterSuite {
 protected:
  // Every replica file of every server: resident pages / pages.
  static double ResidentShare(std::vector<std::string> files = {}) {
    if (files.empty()) {
      for (int i = 0; i < 3; ++i) {
        for (auto& f : ReplicaFiles(*cluster_, i)) files.push_back(std::move(f));
      }
    }
    size_t in = 0, all = 0;
    for (const auto& f : files) {
      auto [r, n] = Resident(f);
      in += r;
      all += n;
    }
    return all == 0 ? 0 : static_cast<double>(in) / static_cast<double>(all);
  }
  static void EvictAll() {
    for (int i = 0; i < 3; ++i) {
      for (const auto& f : ReplicaFiles(*cluster_, i)) Evict(f);
    }
  }
  static uint64_t StoredBytes() {
    uint64_t n = 0;
    for (int i = 0; i < 3; ++i) {
      for (const auto& f : ReplicaFiles(*cluster_, i)) n += fs::file_size(f);
    }
    return n;
  }
};

TEST_F(Warm, EveryReplicaOfAFolderEndsUpInThePageCache) {
  ASSERT_OK(client_->Mkdir("/model").status());
  ASSERT_OK(client_->SetLayout("/model", {.replicas = 3, .chunk_size = 1 << 20}).status());
  ASSERT_OK(client_->Mkdir("/model/shards").status());
  ASSERT_OK(WriteFile(*client_, "/model/a.bin", MakeData((5 << 19) + 7, 1)));   // 3 chunks
  ASSERT_OK(WriteFile(*client_, "/model/shards/b.bin", MakeData(300 << 10, 2)));  // 1 chunk
  EvictAll();
  ASSERT_LT(ResidentShare(), 0.2) << "the files did not leave the page cache";

  ASSERT_OK_AND_ASSIGN(WarmStats s, client_->Warm("/model", WarmOptions{}));
  EXPECT_EQ(s.files, 2u);
  EXPECT_EQ(s.chunks, 4u);
  EXPECT_EQ(s.replicas, 12u);
  EXPECT_EQ(s.bytes, StoredBytes());
  EXPECT_EQ(s.missing, 0u);
  EXPECT_EQ(s.failed, 0u) << s.first_error;
  EXPECT_GT(ResidentShare(), 0.99);

  // One replica per chunk: four files read, spread over the servers.
  EvictAll();
  ASSERT_OK_AND_ASSIGN(WarmStats one,
                       client_->Warm("/model/a.bin", WarmOptions{.all_replicas = false}));
  EXPECT_EQ(one.files, 1u);
  EXPECT_EQ(one.chunks, 3u);
  EXPECT_EQ(one.replicas, 3u);
  const double share = ResidentShare();
  EXPECT_GT(share, 0.2);
  EXPECT_LT(share, 0.5);
}

TEST_F(Warm, BadRequestsAreRefusedByName) {
  auto missing = client_->Warm("/no/such/model", WarmOptions{});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), proto::NOT_FOUND) << missing.status().ToString();
  auto bad = client_->Warm("/", WarmOptions{.requests_in_flight = 0});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), proto::INVALID_ARGUMENT);
  EXPECT_NE(bad.status().message().find("requests_in_flight = 0"), std::string::npos);
}

// Last in the file (ctest runs each test with its own cluster; the binary
// alone runs them in order): it removes a replica file and kills a server.
TEST_F(Warm, MissingReplicasAndDownServersAreCountedNotFatal) {
  ASSERT_OK(client_->Mkdir("/gone").status());
  ASSERT_OK(client_->SetLayout("/gone", {.replicas = 3, .chunk_size = 1 << 20}).status());
  ASSERT_OK(WriteFile(*client_, "/gone/c.bin", MakeData(3 << 20, 3)));  // 3 chunks
  ASSERT_OK_AND_ASSIGN(auto layout, client_->GetLayout("/gone/c.bin"));
  ASSERT_EQ(layout.size(), 3u);
  // The first chunk's replica on server 0 disappears from its disk.
  bool removed = false;
  for (const auto& f : ReplicaFiles(*cluster_, 0)) {
    char name[32];
    std::snprintf(name, sizeof(name), "%016llx.", static_cast<unsigned long long>(layout[0].chunk_id));
    if (fs::path(f).filename().string().starts_with(name)) removed = fs::remove(f);
  }
  ASSERT_TRUE(removed);
  ASSERT_OK_AND_ASSIGN(WarmStats s, client_->Warm("/gone", WarmOptions{}));
  EXPECT_EQ(s.missing, 1u);
  EXPECT_EQ(s.replicas, 8u);
  EXPECT_EQ(s.failed, 0u) << s.first_error;

  // Server 2 down: its replicas fail, by address; the others are warmed.
  ASSERT_OK(cluster_->KillChunkd(2));
  ASSERT_OK_AND_ASSIGN(WarmStats down, client_->Warm("/gone", WarmOptions{}));
  EXPECT_EQ(down.failed, 3u);
  EXPECT_NE(down.first_error.find(cluster_->chunkd_address(2)), std::string::npos)
      << down.first_error;
  EXPECT_EQ(down.replicas + down.missing, 6u);
}

}  // namespace
}  // namespace granary::testutil
