// Local reads: a client on the host of its chunk servers reads replica files
// directly (descriptors over a Unix socket), with the network as fallback.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <random>

#include "common/endian.h"
#include "common/net/local_read.h"
#include "tests/integration/test_data.h"
#include "tests/testutil/cluster_suite.h"

namespace granary::testutil {
namespace {

namespace fs = std::filesystem;
constexpr size_t kMiB = 1 << 20;

class LocalReads : public ClusterSuite {
 protected:
  std::unique_ptr<Client> ClientWith(bool local_reads) {
    ClientOptions o;
    o.local_reads = local_reads;
    auto c = cluster_->Connect(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  // The replica files of `path`'s first chunk, one per chunk server.
  std::vector<std::string> ReplicaFiles(const std::string& path) {
    auto layout = client_->GetLayout(path);
    EXPECT_TRUE(layout.ok() && !layout->empty());
    std::vector<std::string> files;
    if (!layout.ok() || layout->empty()) return files;
    for (int i = 0; i < cluster_->num_chunkservers(); ++i) {
      const std::string f =
          cluster_->ReplicaPath(i, (*layout)[0].chunk_id, (*layout)[0].version);
      if (fs::exists(f)) files.push_back(f);
    }
    return files;
  }
};

TEST_F(LocalReads, ReadsReplicaFilesOnThisHost) {
  const auto data = MakeData(9 * kMiB + 123, 7);
  ASSERT_OK(WriteFile(*client_, "/local-1", data));
  auto reader = ClientWith(true);
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*reader, "/local-1"));
  EXPECT_TRUE(back == data);
  EXPECT_GE(reader->LocalReadBytes(), data.size() / 2) << "compressed blocks count stored bytes";

  // Small reads at random offsets (the ranged-read path), each checked.
  ASSERT_OK_AND_ASSIGN(auto r, reader->Open("/local-1"));
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) {
    const uint64_t off = rng() % (data.size() - 4096);
    std::vector<uint8_t> buf(4096);
    ASSERT_OK_AND_ASSIGN(size_t n, r->PRead(off, buf));
    ASSERT_EQ(n, buf.size());
    ASSERT_EQ(0, std::memcmp(buf.data(), data.data() + off, n)) << "offset " << off;
  }
}

TEST_F(LocalReads, OffMeansEveryByteOverTcp) {
  const auto data = MakeData(3 * kMiB, 8);
  ASSERT_OK(WriteFile(*client_, "/local-off", data));
  auto reader = ClientWith(false);
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*reader, "/local-off"));
  EXPECT_TRUE(back == data);
  // Small reads at random offsets over TCP: compressed blocks answer with
  // the frames of the segments they touch (codec 4), raw ones with segments.
  ASSERT_OK_AND_ASSIGN(auto r, reader->Open("/local-off"));
  std::mt19937_64 rng(5);
  for (int i = 0; i < 50; ++i) {
    const uint64_t len = 1 + rng() % (80 << 10);  // may cross a 64 KiB segment
    const uint64_t off = rng() % (data.size() - len);
    std::vector<uint8_t> buf(len);
    ASSERT_OK_AND_ASSIGN(size_t n, r->PRead(off, buf));
    ASSERT_EQ(n, buf.size());
    ASSERT_EQ(0, std::memcmp(buf.data(), data.data() + off, n)) << "offset " << off;
  }
  EXPECT_EQ(reader->LocalReadBytes(), 0u);
}

TEST_F(LocalReads, CorruptReplicaFilesAreSkipped) {
  // Incompressible bytes: raw blocks, so a flipped byte is a data byte.
  std::vector<uint8_t> data(2 * kMiB);
  std::mt19937_64 rng(9);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  ASSERT_OK(WriteFile(*client_, "/local-corrupt", data));
  const auto files = ReplicaFiles("/local-corrupt");
  ASSERT_EQ(files.size(), 3u);
  // Two of three replicas get a flipped byte in their first block.
  for (int i = 0; i < 2; ++i) ASSERT_OK(FlipByte(files[i], 1000, 0x5a));
  for (int round = 0; round < 3; ++round) {  // whichever replica comes first
    auto reader = ClientWith(true);
    ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*reader, "/local-corrupt"));
    EXPECT_TRUE(back == data) << "round " << round;
    EXPECT_GT(reader->LocalReadBytes(), 0u);
  }
}

// A peer running as another user is refused by the chunk server.
TEST_F(LocalReads, OtherUsersAreRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  const std::string name = net::LocalReadSocketName(cluster_->chunkd_address(0));
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: only async-signal-safe calls; the exit code is the answer.
    if (::setuid(65534) != 0) ::_exit(100);
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, name.data(), name.size());
    if (::connect(s, reinterpret_cast<sockaddr*>(&sa),
                  static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size())) != 0) {
      ::_exit(101);
    }
    uint8_t req[net::kLocalReadRequestSize] = {};
    PutU32(req, net::kLocalReadRequestMagic);
    PutU32(req + 4, net::kLocalReadFormat);
    // The server may answer and close before reading: no SIGPIPE, and the
    // reply is read either way.
    (void)::send(s, req, sizeof req, MSG_NOSIGNAL);
    uint8_t reply[net::kLocalReadReplySize];
    if (::recv(s, reply, sizeof reply, MSG_WAITALL) != sizeof reply) ::_exit(103);
    ::_exit(GetU32(reply + 4) == proto::PERMISSION_DENIED ? 0 : 104);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// A chunk server with local reads off is read over TCP.
TEST(LocalReadsOff, ServerSettingIsHonoured) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       TestCluster::Start({.chunkservers = 3,
                                           .chunkd_config_toml = "[chunkd]\nlocal_reads = false\n"}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  const auto data = MakeData(2 * kMiB + 5, 10);
  ASSERT_OK(WriteFile(*client, "/f", data));
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/f"));
  EXPECT_TRUE(back == data);
  EXPECT_EQ(client->LocalReadBytes(), 0u);
}

}  // namespace
}  // namespace granary::testutil
