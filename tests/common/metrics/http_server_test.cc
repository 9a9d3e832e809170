// MetricsHttpServer over loopback: GET /metrics serves the registry; other
// paths, methods and malformed requests get errors and the server goes on.
#include "common/metrics/http_server.h"

#include <gtest/gtest.h>

#include "common/metrics/text_format.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/testutil/status_matchers.h"

namespace granary::metrics {
namespace {

constexpr std::chrono::milliseconds kTimeout{2000};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.AddCounter("granary_test_total", "T.").With({}).Inc(9);
    ASSERT_OK(server_.Start("127.0.0.1", 0));
    address_ = "127.0.0.1:" + std::to_string(server_.port());
  }
  void ExpectServing() {
    ASSERT_OK_AND_ASSIGN(std::string body, Scrape(address_, kTimeout));
    ASSERT_OK_AND_ASSIGN(std::vector<Sample> s, ParseText(body));
    EXPECT_EQ(FindSample(s, "granary_test_total"), 9);
  }
  // Sends `request` without half-closing (an HTTP server may take a
  // half-close for a client that is gone) and reads until the server closes
  // or 3 s pass.
  std::string Raw(const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(server_.port());
    ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
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

  Registry registry_;
  MetricsHttpServer server_{registry_};
  std::string address_;
};

TEST_F(HttpServerTest, ServesMetricsWithTheTextContentType) {
  ExpectServing();
  const std::string reply = Raw("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  EXPECT_NE(reply.find("text/plain; version=0.0.4"), std::string::npos) << reply;
}

TEST_F(HttpServerTest, WrongPathOrMethodIs404) {
  for (const char* req : {"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                          "GET /metricsx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                          "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                          "Connection: close\r\n\r\n"}) {
    const std::string reply = Raw(req);
    EXPECT_EQ(reply.rfind("HTTP/1.1 404", 0), 0u) << req << "\n" << reply;
  }
  ExpectServing();
}

TEST_F(HttpServerTest, MalformedRequestsGetAnErrorAndTheServerGoesOn) {
  const std::string huge_header = "GET /metrics HTTP/1.1\r\nX: " + std::string(100000, 'a') + "\r\n\r\n";
  for (const std::string& req :
       {std::string("garbage\r\n\r\n"), std::string("\x01\x02\x03\xff\r\n\r\n"),
        std::string("GET /metrics\r\n\r\n"), huge_header, std::string(),
        std::string("POST /metrics HTTP/1.1\r\nContent-Length: 99999999\r\n\r\nabc")}) {
    const std::string reply = Raw(req);
    // httplib answers 400 (or 413) or simply closes; either way, no 200.
    EXPECT_EQ(reply.find("HTTP/1.1 200"), std::string::npos) << req.substr(0, 40);
    ExpectServing();
  }
}

TEST_F(HttpServerTest, StopThenScrapeFails) {
  server_.Stop();
  server_.Stop();  // idempotent
  EXPECT_ERROR(Scrape(address_, kTimeout), proto::UNAVAILABLE);
}

TEST(HttpServer, BindErrorNamesTheAddress) {
  Registry reg;
  MetricsHttpServer a(reg), b(reg);
  ASSERT_OK(a.Start("127.0.0.1", 0));
  Status st = b.Start("127.0.0.1", a.port());
  EXPECT_ERROR(st, proto::IO_ERROR);
  EXPECT_NE(st.message().find("127.0.0.1:" + std::to_string(a.port())), std::string::npos);
}

}  // namespace
}  // namespace granary::metrics
