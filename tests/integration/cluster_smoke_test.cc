// The smallest end-to-end check: a 3-node cluster comes up and a file written
// through the client reads back byte-identical.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"

namespace granary::testutil {
namespace {

Buffer RandomBytes(size_t n, uint32_t seed) {
  Buffer b(n);
  std::mt19937 rng(seed);
  for (size_t i = 0; i < n; ++i) b.data()[i] = static_cast<uint8_t>(rng());
  return b;
}

TEST(ClusterSmoke, ThreeNodesUp) {
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start());
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  ASSERT_OK_AND_ASSIGN(auto nodes, client->ListNodes());
  ASSERT_EQ(nodes.size(), 3u);
  for (const NodeStatus& n : nodes) EXPECT_TRUE(n.up) << n.node_id << " " << n.address;
}

TEST(ClusterSmoke, WriteThenReadBack) {
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start());
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  ASSERT_OK(client->Mkdir("/smoke"));
  // Several chunks (1 MiB each here) and a ragged tail.
  const size_t kSize = 3 * (1u << 20) + 12345;
  Buffer data = RandomBytes(kSize, 42);
  CreateOptions options;
  options.chunk_size = 1u << 20;
  options.fsync_on_close = true;
  {
    ASSERT_OK_AND_ASSIGN(auto writer, client->Create("/smoke/blob", options));
    // Uneven write sizes cross block and chunk boundaries.
    size_t off = 0, step = 700001;
    while (off < kSize) {
      size_t n = std::min(step, kSize - off);
      ASSERT_OK(writer->Write(ByteSpan(data.data() + off, n)));
      off += n;
    }
    ASSERT_OK(writer->Close());
  }
  ASSERT_OK_AND_ASSIGN(FileInfo info, client->Stat("/smoke/blob"));
  EXPECT_EQ(info.size, kSize);
  EXPECT_EQ(info.type, FileType::kFile);

  ASSERT_OK_AND_ASSIGN(auto reader, client->Open("/smoke/blob"));
  ASSERT_EQ(reader->size(), kSize);
  Buffer back(kSize);
  size_t got = 0;
  while (got < kSize) {
    ASSERT_OK_AND_ASSIGN(size_t n, reader->PRead(got, back.span().subspan(got)));
    ASSERT_GT(n, 0u) << "early EOF at " << got;
    got += n;
  }
  EXPECT_EQ(std::memcmp(data.data(), back.data(), kSize), 0);

  ASSERT_OK_AND_ASSIGN(auto layout, client->GetLayout("/smoke/blob"));
  EXPECT_EQ(layout.size(), 4u);
  for (const ChunkLocation& c : layout) EXPECT_EQ(c.replicas.size(), 3u) << c.chunk_index;
}

}  // namespace
}  // namespace granary::testutil
