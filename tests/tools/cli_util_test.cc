#include "tools/cli_util.h"

#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"
#include "tools/table.h"

namespace granary::tools {
namespace {

TEST(CliUtil, FormatBytes) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1536), "1.50 KiB");
  EXPECT_EQ(FormatBytes(64ull << 20), "64.0 MiB");
  EXPECT_EQ(FormatBytes(300ull << 30), "300 GiB");
}

TEST(CliUtil, FormatRateAndDuration) {
  EXPECT_EQ(FormatRate(500'000'000, 2.0), "250.0 MB/s");
  EXPECT_EQ(FormatRate(1, 0), "- MB/s");
  EXPECT_EQ(FormatDuration(3.2), "3s");
  EXPECT_EQ(FormatDuration(75), "1m15s");
  EXPECT_EQ(FormatDuration(7300), "2h01m");
}

TEST(CliUtil, ParseSize) {
  ASSERT_OK_AND_ASSIGN(uint64_t plain, ParseSize("4096"));
  EXPECT_EQ(plain, 4096u);
  ASSERT_OK_AND_ASSIGN(uint64_t mib, ParseSize("64M"));
  EXPECT_EQ(mib, 64ull << 20);
  ASSERT_OK_AND_ASSIGN(uint64_t gib, ParseSize("1GiB"));
  EXPECT_EQ(gib, 1ull << 30);
  ASSERT_OK_AND_ASSIGN(uint64_t kib, ParseSize("512k"));
  EXPECT_EQ(kib, 512ull << 10);
  EXPECT_ERROR(ParseSize(""), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(ParseSize("M"), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(ParseSize("12Q"), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(ParseSize("99999999999999999999"), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(ParseSize("99999999999T"), proto::INVALID_ARGUMENT);
}

TEST(CliUtil, FormatMode) {
  EXPECT_EQ(FormatMode(FileType::kDirectory, 0755), "drwxr-xr-x");
  EXPECT_EQ(FormatMode(FileType::kFile, 0640), "-rw-r-----");
  EXPECT_EQ(FormatMode(FileType::kSymlink, 0777), "lrwxrwxrwx");
}

TEST(CliUtil, RemotePaths) {
  EXPECT_EQ(RemoteBasename("/a/b"), "b");
  EXPECT_EQ(RemoteBasename("/"), "");
}

TEST(CliUtil, MetaAddressFlagWins) {
  GlobalOptions g;
  g.meta = "10.0.0.1:7000";
  ASSERT_OK_AND_ASSIGN(std::string addr, ResolveMetaAddress(g));
  EXPECT_EQ(addr, "10.0.0.1:7000");
}

TEST(Table, AlignsColumns) {
  Table t({"NAME", "SIZE"}, {false, true});
  t.AddRow({"a", "1"});
  t.AddRow({"long-name", "12345"});
  EXPECT_EQ(t.Render(),
            "NAME        SIZE\n"
            "a              1\n"
            "long-name  12345\n");
}

TEST(Table, NodeTableHasTotals) {
  NodeStatus n;
  n.node_id = "n1";
  n.address = "127.0.0.1:1";
  n.failure_domain = "local";
  n.up = true;
  n.capacity_bytes = 1ull << 30;
  n.chunk_count = 7;
  std::string s = RenderNodeTable({n, n});
  EXPECT_NE(s.find("2/2 up"), std::string::npos) << s;
  EXPECT_NE(s.find("2.00 GiB"), std::string::npos) << s;
  EXPECT_NE(s.find("14"), std::string::npos) << s;
}

}  // namespace
}  // namespace granary::tools
