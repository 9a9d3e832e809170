// A real cluster configured with a cluster key file: the right key writes
// and reads through 3-replica chains (every daemon-to-daemon call
// authenticated too), a missing or wrong key is refused with a clear error,
// a read-only key reads but cannot write, and the daemons keep serving.
#include <gtest/gtest.h>

#include <thread>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/net/cluster_key.h"
#include "common/net/rpc_client.h"
#include "tests/integration/test_data.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"

namespace granary::testutil {
namespace {

constexpr size_t kMiB = 1 << 20;

std::string WriteKeyFile(const std::string& path, const std::vector<net::ClusterKey>& keys) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& k : keys) out << net::FormatKeyLine(k);
  out.close();
  ::chmod(path.c_str(), 0600);
  return path;
}

net::ClusterKey NewKey(std::string id, net::KeyRole role) {
  auto k = net::GenerateClusterKey(std::move(id), role);
  EXPECT_TRUE(k.ok());
  return *k;
}

bool Contains(const Status& st, std::string_view text) {
  return st.message().find(text) != std::string::npos;
}

class ClusterKey : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::testing::TempDir() + "/granary-auth-" + std::to_string(::getpid()));
    ::mkdir(dir_->c_str(), 0700);
    auto daemons = NewKey("daemons", net::KeyRole::kCluster);
    auto writer = NewKey("writer", net::KeyRole::kReadWrite);
    auto reader = NewKey("reader", net::KeyRole::kReadOnly);
    auto forged = writer;
    forged.secret[0] ^= 1;
    WriteKeyFile(*dir_ + "/cluster.keys", {daemons, writer, reader});
    WriteKeyFile(*dir_ + "/writer.keys", {writer});
    WriteKeyFile(*dir_ + "/reader.keys", {reader});
    WriteKeyFile(*dir_ + "/forged.keys", {forged});
    auto c = TestCluster::Start({.chunkservers = 3, .key_file = *dir_ + "/cluster.keys"});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c).release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
    std::error_code ec;
    std::filesystem::remove_all(*dir_, ec);
    delete dir_;
  }

  // Local reads off: every byte crosses an authenticated TCP connection.
  Result<std::unique_ptr<Client>> Connect(const std::string& key_file) {
    ClientOptions o;
    o.meta_address = cluster_->meta_address();
    o.key_file = key_file.empty() ? "" : *dir_ + "/" + key_file;
    o.local_reads = false;
    o.rpc_timeout = std::chrono::milliseconds(10000);
    return Client::Connect(o);
  }

  void ExpectClusterServes() {
    ASSERT_OK_AND_ASSIGN(auto c, Connect("writer.keys"));
    ASSERT_OK_AND_ASSIGN(auto nodes, c->ListNodes());
    EXPECT_EQ(nodes.size(), 3u);
  }

  static inline TestCluster* cluster_ = nullptr;
  static inline std::string* dir_ = nullptr;
};

TEST_F(ClusterKey, RightKeyWritesAndReadsThroughThreeReplicas) {
  ASSERT_OK_AND_ASSIGN(auto client, Connect("writer.keys"));
  auto data = MakeData(10 * kMiB + 12345, 7);
  CreateOptions o;
  o.chunk_size = 4 * kMiB;
  o.replicas = 3;
  o.fsync_on_close = true;
  ASSERT_OK(WriteFile(*client, "/keyed", data, o));
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/keyed"));
  EXPECT_TRUE(back == data);
  ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/keyed"));
  ASSERT_EQ(layout.size(), 3u);
  for (const auto& chunk : layout) {
    std::set<std::string> nodes;
    for (const auto& r : chunk.replicas) nodes.insert(r.node_id);
    EXPECT_EQ(nodes.size(), 3u) << "chunk " << chunk.chunk_index;
  }
  // Chunk servers registered and heartbeat with the cluster key.
  ASSERT_OK_AND_ASSIGN(auto nodes, client->ListNodes());
  EXPECT_EQ(nodes.size(), 3u);
}

TEST_F(ClusterKey, MissingKeyIsRefusedClearly) {
  auto c = Connect("");
  ASSERT_ERROR(c, proto::PERMISSION_DENIED);
  EXPECT_TRUE(Contains(c.status(), "cluster requires a key")) << c.status().ToString();
  // Chunk servers refuse too, not only metad. The connection's reader and
  // writer run on `io` all along, as in a client.
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&io] { io.run(); });
  auto r = asio::co_spawn(io, net::RpcConnection::Connect(io.get_executor(),
                                                           cluster_->chunkd_address(0),
                                                           net::Millis(5000)),
                          asio::use_future)
               .get();
  const proto::PingRequest ping_request;  // Call keeps a reference to it
  Result<proto::PingResponse> p = Status::Internal("not run");
  if (r.ok()) {
    p = asio::co_spawn(io, net::Call<proto::PingResponse>(**r, proto::PING, ping_request,
                                                          net::Millis(5000)),
                       asio::use_future)
            .get();
  }
  work.reset();
  io.stop();
  runner.join();
  ASSERT_OK(r);
  ASSERT_ERROR(p, proto::PERMISSION_DENIED);
  EXPECT_TRUE(Contains(p.status(), "cluster requires a key")) << p.status().ToString();
  ExpectClusterServes();
}

TEST_F(ClusterKey, WrongKeyIsRefusedClearly) {
  auto c = Connect("forged.keys");
  ASSERT_ERROR(c, proto::PERMISSION_DENIED);
  EXPECT_TRUE(Contains(c.status(), "wrong cluster key")) << c.status().ToString();
  ExpectClusterServes();
}

TEST_F(ClusterKey, ReadOnlyKeyReadsButCannotWrite) {
  {
    ASSERT_OK_AND_ASSIGN(auto w, Connect("writer.keys"));
    ASSERT_OK(WriteFile(*w, "/for-readers", MakeData(3 * kMiB, 9), {}));
  }
  ASSERT_OK_AND_ASSIGN(auto client, Connect("reader.keys"));
  ASSERT_OK_AND_ASSIGN(auto back, ReadFile(*client, "/for-readers"));
  EXPECT_TRUE(back == MakeData(3 * kMiB, 9));
  ASSERT_OK_AND_ASSIGN(auto list, client->ReadDir("/"));
  EXPECT_FALSE(list.empty());

  auto w = client->Create("/not-allowed", {});
  ASSERT_ERROR(w, proto::PERMISSION_DENIED);
  EXPECT_TRUE(Contains(w.status(), "read-only key")) << w.status().ToString();
  auto m = client->Mkdir("/nope");
  ASSERT_ERROR(m, proto::PERMISSION_DENIED);
  EXPECT_ERROR(client->Unlink("/for-readers"), proto::PERMISSION_DENIED);
  ASSERT_OK_AND_ASSIGN(auto still, ReadFile(*client, "/for-readers"));
  EXPECT_EQ(still.size(), 3 * kMiB);

  // Opening for write takes the file's lease: a read-only key would lock
  // writers out with it, so metad refuses it (a read-only open still works).
  ASSERT_OK_AND_ASSIGN(auto info, client->Stat("/for-readers"));
  auto lease = client->OpenAt(info.inode, {.write = true});
  ASSERT_ERROR(lease, proto::PERMISSION_DENIED);
  EXPECT_TRUE(Contains(lease.status(), "read-only key")) << lease.status().ToString();
  ASSERT_OK_AND_ASSIGN(auto ro, client->OpenAt(info.inode, {.write = false}));
  {
    ASSERT_OK_AND_ASSIGN(auto w, Connect("writer.keys"));
    ASSERT_OK_AND_ASSIGN(auto again, w->OpenAt(info.inode, {.write = true}));
    ASSERT_OK(again->Close());
  }
}

TEST_F(ClusterKey, KeyFileOthersCanReadIsRefused) {
  std::string path = *dir_ + "/open.keys";
  WriteKeyFile(path, {NewKey("x", net::KeyRole::kReadWrite)});
  ::chmod(path.c_str(), 0644);
  auto c = Connect("open.keys");
  ASSERT_ERROR(c, proto::PERMISSION_DENIED);
  EXPECT_TRUE(Contains(c.status(), "chmod 600")) << c.status().ToString();
}

}  // namespace
}  // namespace granary::testutil
