// Every daemon of a real cluster serves Prometheus metrics: after a write
// and a read, each one is scraped over HTTP, parsed, and the figures match
// what happened. Bad HTTP requests get errors and the daemons go on serving.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <random>
#include <thread>

#include "common/metrics/http_server.h"
#include "common/metrics/text_format.h"
#include "common/net/rpc_client.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/test_cluster.h"
#include "tools/dev/process.h"

namespace granary::testutil {
namespace {

using metrics::FindSample;
using metrics::Sample;
using metrics::SumSamples;
using Labels = std::map<std::string, std::string>;

Result<std::vector<Sample>> ScrapeSamples(const std::string& address) {
  ASSIGN_OR_RETURN(std::string text, metrics::Scrape(address, std::chrono::seconds(5)));
  return metrics::ParseText(text);
}

// RPC counters are updated just after the response is queued, so a client
// may see its reply a moment before the server counted it: poll (bounded).
void WaitUntil(const std::function<bool()>& done, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out waiting for " << what;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Sends raw bytes to an HTTP endpoint without half-closing; returns what
// comes back before the server closes or 3 s pass.
std::string RawHttp(const std::string& address, const std::string& request) {
  auto hp = net::SplitHostPort(address);
  if (!hp.ok()) return {};
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(hp->second);
  ::inet_pton(AF_INET, hp->first.c_str(), &sa.sin_addr);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return got;
}

// TestCluster passes each daemon a --port-file next to its log; with
// metrics_address set (port 0) the daemon adds "metrics host:port" to it.
std::string MetricsAddressBeside(const std::string& log_path) {
  const std::string port_file = log_path.substr(0, log_path.rfind('/')) + "/port";
  auto address = dev::ReadMetricsAddress(port_file);
  EXPECT_TRUE(address.ok()) << address.status().ToString();
  return address.ok() ? *address : "";
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Metrics on, on free ports, through the daemons' TOML settings.
    TestClusterOptions options;
    options.metad_config_toml = "[metad]\nmetrics_address = \"127.0.0.1:0\"\n";
    options.chunkd_config_toml = "[chunkd]\nmetrics_address = \"127.0.0.1:0\"\n";
    ASSERT_OK_AND_ASSIGN(cluster_, TestCluster::Start(options));
    metad_metrics_ = MetricsAddressBeside(cluster_->metad_log());
    ASSERT_FALSE(metad_metrics_.empty());
    for (int i = 0; i < cluster_->num_chunkservers(); ++i) {
      chunkd_metrics_.push_back(MetricsAddressBeside(cluster_->chunkd_log(i)));
      ASSERT_FALSE(chunkd_metrics_.back().empty()) << i;
    }
    ASSERT_OK_AND_ASSIGN(client_, cluster_->Connect());
  }

  // Writes `size` random bytes to `path` in 1 MiB chunks, R=3, then reads
  // them back.
  void WriteAndRead(const std::string& path, size_t size) {
    Buffer data(size);
    std::mt19937 rng(7);
    for (size_t i = 0; i < size; ++i) data.data()[i] = static_cast<uint8_t>(rng());
    CreateOptions options;
    options.chunk_size = 1u << 20;
    options.fsync_on_close = true;
    ASSERT_OK_AND_ASSIGN(auto writer, client_->Create(path, options));
    ASSERT_OK(writer->Write(data.span()));
    ASSERT_OK(writer->Close());
    ASSERT_OK_AND_ASSIGN(auto reader, client_->Open(path));
    Buffer back(size);
    size_t got = 0;
    while (got < size) {
      ASSERT_OK_AND_ASSIGN(size_t n, reader->PRead(got, back.span().subspan(got)));
      ASSERT_GT(n, 0u);
      got += n;
    }
    ASSERT_EQ(std::memcmp(data.data(), back.data(), size), 0);
  }

  // Sums `name` (with `labels`) over every chunk server.
  double SumOverChunkds(std::string_view name, const Labels& labels = {}) {
    double sum = 0;
    for (int i = 0; i < cluster_->num_chunkservers(); ++i) {
      auto s = ScrapeSamples(chunkd_metrics_[i]);
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      if (s.ok()) sum += SumSamples(*s, name, labels);
    }
    return sum;
  }

  std::unique_ptr<TestCluster> cluster_;
  std::unique_ptr<Client> client_;
  std::string metad_metrics_;
  std::vector<std::string> chunkd_metrics_;
};

TEST_F(MetricsTest, EveryDaemonReportsWhatHappened) {
  constexpr size_t kSize = 3 * (1u << 20) + 4321;  // 4 chunks
  ASSERT_OK(client_->Mkdir("/m"));
  WriteAndRead("/m/blob", kSize);

  // metad: namespace, chunks, nodes, and the RPCs the client made.
  ASSERT_OK_AND_ASSIGN(auto meta, ScrapeSamples(metad_metrics_));
  EXPECT_EQ(FindSample(meta, "granary_metad_nodes", {{"state", "up"}}), 3);
  EXPECT_EQ(FindSample(meta, "granary_metad_nodes", {{"state", "down"}}), 0);
  EXPECT_EQ(FindSample(meta, "granary_metad_nodes", {{"state", "draining"}}), 0);
  EXPECT_GE(FindSample(meta, "granary_metad_inodes").value_or(0), 3);  // root, /m, blob
  EXPECT_EQ(FindSample(meta, "granary_metad_chunks"), 4);
  EXPECT_EQ(FindSample(meta, "granary_metad_unrecoverable_chunks"), 0);
  EXPECT_GT(FindSample(meta, "granary_metad_cluster_capacity_bytes").value_or(0), 0);
  EXPECT_GE(FindSample(meta, "granary_rpc_connections").value_or(0), 1);
  WaitUntil(
      [&] {
        auto m = ScrapeSamples(metad_metrics_);
        return m.ok() &&
               FindSample(*m, "granary_rpc_requests_total",
                          {{"method", "META_COMMIT_CHUNK"}, {"code", "OK"}})
                       .value_or(0) >= 4 &&
               FindSample(*m, "granary_rpc_request_duration_seconds_count",
                          {{"method", "META_HEARTBEAT"}})
                       .value_or(0) >= 1;
      },
      "metad to count 4 chunk commits and a heartbeat");

  // chunkd: every replica received every stored byte, holds 4 chunks, and
  // its folder is in service.
  WaitUntil([&] { return SumOverChunkds("granary_rpc_request_bytes_total",
                                        {{"method", "CHUNK_WRITE"}}) >= 3.0 * kSize; },
            "chunk servers to count 3 x the file's bytes written");
  EXPECT_EQ(SumOverChunkds("granary_chunkd_chunks"), 12);
  EXPECT_GE(SumOverChunkds("granary_chunkd_chunk_bytes"), 3.0 * kSize);
  EXPECT_EQ(SumOverChunkds("granary_chunkd_pending_writes"), 0);
  EXPECT_GT(SumOverChunkds("granary_rpc_request_duration_seconds_count",
                           {{"method", "CHUNK_WRITE"}}),
            0);
  for (int i = 0; i < cluster_->num_chunkservers(); ++i) {
    ASSERT_OK_AND_ASSIGN(auto c, ScrapeSamples(chunkd_metrics_[i]));
    EXPECT_EQ(SumSamples(c, "granary_chunkd_folder_in_service"), 1) << i;
    EXPECT_GT(SumSamples(c, "granary_chunkd_folder_capacity_bytes"), 0) << i;
    EXPECT_GT(SumSamples(c, "granary_chunkd_folder_free_bytes"), 0) << i;
    EXPECT_EQ(SumSamples(c, "granary_rpc_protocol_errors_total"), 0) << i;
  }
  // A warm-up reads every replica file whole, and each server counts it.
  ASSERT_OK_AND_ASSIGN(WarmStats warmed, client_->Warm("/m", WarmOptions{}));
  EXPECT_EQ(SumOverChunkds("granary_chunkd_warm_bytes_total"),
            static_cast<double>(warmed.bytes));
  EXPECT_EQ(static_cast<double>(warmed.bytes), SumOverChunkds("granary_chunkd_chunk_bytes"));
  // The read went through local reads (same host) or CHUNK_READ: either
  // way some chunk server served it.
  EXPECT_GT(SumOverChunkds("granary_chunkd_local_read_descriptors_total") +
                SumOverChunkds("granary_rpc_response_bytes_total", {{"method", "CHUNK_READ"}}),
            0);
}

TEST_F(MetricsTest, BadHttpRequestsGetErrorsAndDaemonsKeepServing) {
  std::vector<std::string> endpoints = {metad_metrics_};
  for (int i = 0; i < cluster_->num_chunkservers(); ++i) {
    endpoints.push_back(chunkd_metrics_[i]);
  }
  for (const std::string& ep : endpoints) {
    std::string reply = RawHttp(ep, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(reply.rfind("HTTP/1.1 404", 0), 0u) << ep << ": " << reply;
    reply = RawHttp(ep, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                        "Connection: close\r\n\r\n");
    EXPECT_EQ(reply.rfind("HTTP/1.1 404", 0), 0u) << ep << ": " << reply;
    reply = RawHttp(ep, std::string("\x16\x03\x01\x02\x00garbage\r\n\r\n", 16));
    EXPECT_EQ(reply.find("HTTP/1.1 200"), std::string::npos) << ep << ": " << reply;
    reply = RawHttp(ep, "GET /metrics HTTP/1.1\r\nX: " + std::string(200000, 'a') + "\r\n\r\n");
    EXPECT_EQ(reply.find("HTTP/1.1 200"), std::string::npos) << ep;
    // Still serving metrics...
    ASSERT_OK_AND_ASSIGN(auto s, ScrapeSamples(ep));
    EXPECT_TRUE(FindSample(s, "granary_rpc_connections").has_value()) << ep;
  }
  // ...and RPCs: the cluster still takes a write with all three replicas.
  ASSERT_OK(client_->Mkdir("/after"));
  WriteAndRead("/after/blob", 100000);
  ASSERT_OK_AND_ASSIGN(auto nodes, client_->ListNodes());
  for (const NodeStatus& n : nodes) EXPECT_TRUE(n.up) << n.address;
}

}  // namespace
}  // namespace granary::testutil
