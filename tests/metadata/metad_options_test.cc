// granary-metad's command line and TOML configuration.

#include "metadata/metad_options.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/metadata/meta_test_util.h"

namespace granary::metadata {
namespace {

using testing::TempDir;

MetadArgs Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "granary-metad");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return ParseMetadArgs(static_cast<int>(argv.size()), argv.data());
}

std::string WriteConfig(const TempDir& dir, const std::string& text) {
  std::string path = dir.path() + "/metad.toml";
  std::ofstream(path) << text;
  return path;
}

TEST(MetadOptions, Defaults) {
  MetadArgs a = Parse({"--data-dir", "/tmp/x"});
  ASSERT_TRUE(a.options.has_value()) << a.message;
  const MetadOptions& o = *a.options;
  EXPECT_EQ(o.listen_host, "127.0.0.1");
  EXPECT_EQ(o.listen_port, 7000);
  EXPECT_EQ(o.data_dir, "/tmp/x");
  EXPECT_EQ(o.log_level, "info");
  EXPECT_EQ(o.meta.default_replicas, 3u);
  EXPECT_EQ(o.meta.default_chunk_size, 64ull << 20);
  EXPECT_EQ(o.meta.nodes.node_timeout_ms, 10000);
  EXPECT_EQ(o.meta.heartbeat_interval_ms, 1000);
  EXPECT_EQ(o.meta.lease_ms, 60000);
  EXPECT_EQ(o.meta.wal_sync_interval_ms, 1000);
  EXPECT_EQ(o.meta.orphan_ttl_ms, 120000);
  EXPECT_EQ(o.io_threads, 1);
}

TEST(MetadOptions, FlagsOverrideToml) {
  TempDir dir;
  std::string config = WriteConfig(dir, R"(
[metad]
listen = "0.0.0.0:7100"
data_dir = "/from/toml"
default_replicas = 2
lease_ms = 5000
min_free_percent = 2.5
wal_sync_interval_ms = 250
orphan_ttl_ms = 1000

[chunkd]
whatever = 1
)");
  MetadArgs a = Parse({"--config", config, "--listen", "127.0.0.1:0", "--default-replicas", "5",
                       "--port-file", "/tmp/p", "--io-threads", "3", "--orphan-ttl-ms", "9000"});
  ASSERT_TRUE(a.options.has_value()) << a.message;
  const MetadOptions& o = *a.options;
  EXPECT_EQ(o.listen_host, "127.0.0.1");
  EXPECT_EQ(o.listen_port, 0);
  EXPECT_EQ(o.data_dir, "/from/toml");
  EXPECT_EQ(o.meta.default_replicas, 5u);
  EXPECT_EQ(o.meta.lease_ms, 5000);
  EXPECT_EQ(o.meta.placement.min_free_percent, 2.5);
  EXPECT_EQ(o.port_file, "/tmp/p");
  EXPECT_EQ(o.io_threads, 3);
  EXPECT_EQ(o.meta.wal_sync_interval_ms, 250);
  EXPECT_EQ(o.meta.orphan_ttl_ms, 9000);
}

TEST(MetadOptions, BadValuesExitTwoNamingTheKey) {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string key;
  };
  std::vector<Case> cases = {
      {{}, "data_dir"},
      {{"--data-dir", "d", "--default-replicas", "0"}, "default_replicas"},
      {{"--data-dir", "d", "--default-chunk-size", "1000"}, "default_chunk_size"},
      {{"--data-dir", "d", "--listen", "nohost"}, "listen"},
      {{"--data-dir", "d", "--listen", "127.0.0.1:99999"}, "listen"},
      {{"--data-dir", "d", "--listen", "example.com:7000"}, "listen"},
      {{"--data-dir", "d", "--lease-ms", "0"}, "lease_ms"},
      {{"--data-dir", "d", "--heartbeat-interval-ms", "20000"}, "heartbeat_interval_ms"},
      {{"--data-dir", "d", "--io-threads", "0"}, "io_threads"},
      {{"--data-dir", "d", "--wal-sync-interval-ms", "0"}, "wal_sync_interval_ms"},
      {{"--data-dir", "d", "--orphan-ttl-ms", "0"}, "orphan_ttl_ms"},
      {{"--data-dir", "d", "--default-replicas", "abc"}, "--default-replicas"},
      {{"--data-dir", "d", "--no-such-flag"}, "--no-such-flag"},
      {{"--config", WriteConfig(dir, "[metad]\nlease_ms = \"long\"\n")}, "lease_ms"},
  };
  for (const Case& c : cases) {
    MetadArgs a = Parse(c.args);
    EXPECT_FALSE(a.options.has_value()) << c.key;
    EXPECT_EQ(a.exit_code, 2) << c.key;
    EXPECT_NE(a.message.find(c.key), std::string::npos) << c.key << ": " << a.message;
  }
}

TEST(MetadOptions, TomlErrorsNameTheKeyOrLine) {
  TempDir dir;
  MetadArgs unknown = Parse({"--config", WriteConfig(dir, "[metad]\nleas_ms = 5\n")});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.message.find("metad.leas_ms"), std::string::npos) << unknown.message;

  MetadArgs syntax = Parse({"--config", WriteConfig(dir, "[metad]\nlease_ms = = 5\n")});
  EXPECT_EQ(syntax.exit_code, 2);
  EXPECT_NE(syntax.message.find(":2:"), std::string::npos) << syntax.message;

  MetadArgs missing = Parse({"--config", dir.path() + "/absent.toml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.message.find("absent.toml"), std::string::npos) << missing.message;

  MetadArgs negative = Parse({"--config", WriteConfig(dir, "[metad]\ndata_dir='d'\nio_threads = -1\n")});
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_NE(negative.message.find("io_threads"), std::string::npos) << negative.message;
}

TEST(MetadOptions, HelpExitsZero) {
  MetadArgs a = Parse({"--help"});
  EXPECT_FALSE(a.options.has_value());
  EXPECT_EQ(a.exit_code, 0);
  EXPECT_NE(a.message.find("--data-dir"), std::string::npos);
  EXPECT_NE(a.message.find("--port-file"), std::string::npos);
}

}  // namespace
}  // namespace granary::metadata
