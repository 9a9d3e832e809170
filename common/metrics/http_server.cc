#include "common/metrics/http_server.h"

#include <httplib.h>

#include <sys/socket.h>

#include <chrono>

#include "common/log.h"
#include "common/metrics/text_format.h"

namespace granary::metrics {
namespace {

constexpr std::chrono::seconds kIoTimeout{2};
constexpr size_t kWorkers = 2;
constexpr size_t kMaxRequestBody = 4096;

}  // namespace

MetricsHttpServer::MetricsHttpServer(const Registry& registry) : registry_(registry) {}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

Status MetricsHttpServer::Start(const std::string& host, uint16_t port) {
  const std::string where = host + ":" + std::to_string(port);
  auto server = std::make_unique<httplib::Server>();
  server->new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  server->set_read_timeout(kIoTimeout);
  server->set_write_timeout(kIoTimeout);
  server->set_keep_alive_timeout(kIoTimeout.count());
  server->set_payload_max_length(kMaxRequestBody);
  // httplib's default also sets SO_REUSEPORT, which would let a second
  // daemon bind the same metrics port and split the scrapes between them.
  server->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry_.Render(), std::string(kContentType).c_str());
  });
  // httplib's default for a handler that throws is a 500 with the message;
  // log it as well so a broken callback is noticed.
  server->set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr e) {
        try {
          if (e) std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          LOG_ERROR("metrics: {} {} failed: {}", req.method, req.path, ex.what());
        } catch (...) {
          LOG_ERROR("metrics: {} {} failed", req.method, req.path);
        }
        res.status = 500;
      });
  int bound = 0;
  if (port == 0) {
    bound = server->bind_to_any_port(host);
  } else if (server->bind_to_port(host, port)) {
    bound = port;
  }
  if (bound <= 0) return Status::IoError("cannot bind the metrics address " + where);
  port_ = static_cast<uint16_t>(bound);
  server_ = std::move(server);
  thread_ = std::thread([s = server_.get()] { s->listen_after_bind(); });
  // Stop() is a no-op until the loop runs; wait for it (bounded) so a Stop
  // right after Start cannot leave the thread listening forever.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server_->is_running()) {
    Stop();
    return Status::Internal("metrics server on " + where + " did not start");
  }
  return Status::Ok();
}

void MetricsHttpServer::Stop() {
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

Result<std::string> Scrape(const std::string& address, std::chrono::milliseconds timeout) {
  httplib::Client client("http://" + address);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  std::string body;
  bool too_big = false;
  httplib::Result res = client.Get("/metrics", [&](const char* data, size_t n) {
    if (body.size() + n > kMaxTextBytes) {
      too_big = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (too_big) {
    return Status::Unavailable("metrics from " + address + " exceed " +
                               std::to_string(kMaxTextBytes) + " bytes");
  }
  if (!res) {
    return Status::Unavailable("cannot scrape " + address + ": " + httplib::to_string(res.error()));
  }
  if (res->status != 200) {
    return Status::Unavailable("scraping " + address + ": HTTP " + std::to_string(res->status));
  }
  return body;
}

}  // namespace granary::metrics
