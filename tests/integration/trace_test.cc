// Trace ids follow a request from the client through metad and every chunk
// server of the chain (docs/operations.md, "Following a request"): the
// daemons run at debug level, which logs every call with its trace, and the
// test looks for the ids a writer and a reader report in each log.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/net/trace.h"
#include "tests/integration/test_data.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"

namespace granary::testutil {
namespace {

constexpr size_t kMiB = 1 << 20;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Whether some line of `log` names `method` and `trace`.
bool Logged(const std::string& log, std::string_view method, uint32_t trace) {
  const std::string want = "rpc " + std::string(method) + " trace=" + net::TraceHex(trace);
  return log.find(want) != std::string::npos;
}

TEST(Trace, OneIdJoinsEveryStepOfAWriteAndARead) {
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start({.log_level = "debug"}));
  // Over TCP: a local read would not reach the chunk servers at all.
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect({.local_reads = false}));
  const auto data = MakeData(5 * kMiB + 17, 3);

  ASSERT_OK_AND_ASSIGN(auto w, client->Create("/traced", {}));
  const uint32_t wtrace = w->trace_id();
  ASSERT_NE(wtrace, 0u);
  ASSERT_OK(w->Write(data));
  ASSERT_OK(w->Close());

  ASSERT_OK_AND_ASSIGN(auto r, client->Open("/traced"));
  const uint32_t rtrace = r->trace_id();
  ASSERT_NE(rtrace, 0u);
  EXPECT_NE(rtrace, wtrace);
  std::vector<uint8_t> back(data.size());
  ASSERT_OK(ReadExactly(*r, 0, back));
  EXPECT_TRUE(back == data);

  // metad saw the whole write under one trace, from create to close.
  const std::string metad = Slurp(cluster->metad_log());
  for (std::string_view m : {"META_CREATE", "META_ALLOCATE_CHUNK", "META_COMMIT_CHUNK",
                             "META_CLOSE"}) {
    EXPECT_TRUE(Logged(metad, m, wtrace)) << m << " trace=" << net::TraceHex(wtrace);
  }
  EXPECT_TRUE(Logged(metad, "META_OPEN", rtrace));
  // Every member of the 3-replica chain logged the pieces under the same
  // trace: the chain passes it on hop by hop.
  int wrote = 0;
  int served = 0;
  for (int i = 0; i < cluster->num_chunkservers(); ++i) {
    const std::string log = Slurp(cluster->chunkd_log(i));
    wrote += Logged(log, "CHUNK_WRITE", wtrace) ? 1 : 0;
    served += Logged(log, "CHUNK_READ", rtrace) ? 1 : 0;
  }
  EXPECT_EQ(wrote, 3) << cluster->LogTails(10);
  EXPECT_GE(served, 1) << cluster->LogTails(10);
}

TEST(Trace, AFailureNamesItsTrace) {
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start());
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect({.local_reads = false}));
  ASSERT_OK(WriteFile(*client, "/gone", MakeData(2 * kMiB, 5), {}));
  ASSERT_OK_AND_ASSIGN(auto r, client->Open("/gone", {.readahead = false}));
  for (int i = 0; i < cluster->num_chunkservers(); ++i) ASSERT_OK(cluster->KillChunkd(i));
  std::vector<uint8_t> buf(kMiB);
  auto got = r->PRead(0, buf);
  ASSERT_FALSE(got.ok());
  // What the user sees tells the admin which log lines to look for.
  EXPECT_NE(got.status().message().find("[trace " + net::TraceHex(r->trace_id()) + "]"),
            std::string::npos)
      << got.status().ToString();
  // Ordinary answers stay unadorned: a missing file is not trouble.
  auto missing = client->Stat("/no-such-file");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message().find("[trace"), std::string::npos)
      << missing.status().ToString();
}

}  // namespace
}  // namespace granary::testutil
