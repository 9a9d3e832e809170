#include "storage/chunkd_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace granary::storage {
namespace {

TEST(ChunkdOptions, TomlSetsEveryKey) {
  ChunkdOptions o;
  Status st = ApplyToml(R"(
[chunkd]
listen = "0.0.0.0:7200"
advertise = "10.1.2.3:7200"
meta = "10.0.0.1:7000"
data_dirs = ["/d1", "/d2"]
failure_domain = "rack-3"
log_level = "debug"
log_file = "/var/log/chunkd.log"
port_file = "/run/chunkd.port"
io_threads = 4
disk_threads = 12
min_free_bytes = 1048576
[metad]
anything = "is ignored here"
)",
                        "c.toml", &o);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(o.listen, "0.0.0.0:7200");
  EXPECT_EQ(o.advertise, "10.1.2.3:7200");
  EXPECT_EQ(o.meta, "10.0.0.1:7000");
  EXPECT_EQ(o.data_dirs, (std::vector<std::string>{"/d1", "/d2"}));
  EXPECT_EQ(o.failure_domain, "rack-3");
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_EQ(o.log_file, "/var/log/chunkd.log");
  EXPECT_EQ(o.port_file, "/run/chunkd.port");
  EXPECT_EQ(o.io_threads, 4);
  EXPECT_EQ(o.disk_threads, 12);
  EXPECT_EQ(o.min_free_bytes, 1u << 20);
  EXPECT_TRUE(ValidateOptions(o).ok());
}

TEST(ChunkdOptions, TomlErrorsNameTheKey) {
  struct Case {
    const char* toml;
    const char* needle;
  };
  for (const Case& c :
       {Case{"[chunkd]\nlisten = 7\n", "listen"},
        Case{"[chunkd]\ndata_dirs = \"/d\"\n", "data_dirs"},
        Case{"[chunkd]\ndata_dirs = [1]\n", "data_dirs"},
        Case{"[chunkd]\nio_threads = 0\n", "io_threads"},
        Case{"[chunkd]\nmin_free_bytes = -1\n", "min_free_bytes"},
        Case{"[chunkd]\nlisen = \"x:1\"\n", "lisen"}, Case{"[chunkd\n", "c.toml:1"}}) {
    ChunkdOptions o;
    Status st = ApplyToml(c.toml, "c.toml", &o);
    EXPECT_EQ(st.code(), proto::INVALID_ARGUMENT) << c.toml;
    EXPECT_NE(st.message().find(c.needle), std::string::npos) << st.ToString();
  }
}

TEST(ChunkdOptions, Validation) {
  ChunkdOptions o;
  EXPECT_FALSE(ValidateOptions(o).ok());  // no data folder
  o.data_dirs = {"/d"};
  EXPECT_TRUE(ValidateOptions(o).ok());
  o.listen = "127.0.0.1:0";
  EXPECT_TRUE(ValidateOptions(o).ok());  // any free port
  for (const char* bad : {"127.0.0.1", "127.0.0.1:70000", ":80", "h:x"}) {
    ChunkdOptions b = o;
    b.listen = bad;
    Status st = ValidateOptions(b);
    EXPECT_NE(st.message().find("--listen"), std::string::npos) << bad << " " << st.ToString();
  }
  ChunkdOptions b = o;
  b.meta = "127.0.0.1:0";
  EXPECT_FALSE(ValidateOptions(b).ok());
  b = o;
  b.log_level = "loud";
  EXPECT_NE(ValidateOptions(b).message().find("--log-level"), std::string::npos);
  auto v6 = ParseListenAddress("[::1]:7100");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
  EXPECT_EQ(v6->second, 7100);
}

TEST(ChunkdOptions, FlagsOverrideConfig) {
  char prog[] = "granary-chunkd", f1[] = "--data-dir", d1[] = "/a", f2[] = "--data-dir",
       d2[] = "/b", f3[] = "--io-threads", n[] = "3";
  char* argv[] = {prog, f1, d1, f2, d2, f3, n};
  int code = -1;
  auto o = ParseChunkdFlags(7, argv, &code);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(code, 0);
  EXPECT_EQ(o->data_dirs, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(o->io_threads, 3);
  EXPECT_EQ(o->listen, "127.0.0.1:7100");
  char bad[] = "--no-such-flag";
  char* argv2[] = {prog, bad};
  EXPECT_FALSE(ParseChunkdFlags(2, argv2, &code).has_value());
  EXPECT_EQ(code, 2);
}

}  // namespace
}  // namespace granary::storage
