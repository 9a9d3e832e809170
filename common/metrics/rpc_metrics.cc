#include "common/metrics/rpc_metrics.h"

#include <algorithm>
#include <chrono>

namespace granary::metrics {
namespace {

// Dense index of every proto::ErrorCode value (codes are sparse, numbered by
// area), with one more slot for codes the enum does not know.
struct CodeIndex {
  std::vector<int> index_of;  // by code number; -1 = unknown
  std::vector<std::string> names;

  CodeIndex() {
    const auto* d = proto::ErrorCode_descriptor();
    int max = 0;
    for (int i = 0; i < d->value_count(); ++i) max = std::max(max, d->value(i)->number());
    index_of.assign(static_cast<size_t>(max) + 1, -1);
    for (int i = 0; i < d->value_count(); ++i) {
      const int n = d->value(i)->number();
      if (n < 0 || index_of[n] >= 0) continue;  // aliases keep the first name
      index_of[n] = static_cast<int>(names.size());
      names.push_back(d->value(i)->name());
    }
    names.push_back("unknown");
  }
  size_t unknown() const { return names.size() - 1; }
  size_t Of(proto::ErrorCode code) const {
    const int n = static_cast<int>(code);
    if (n < 0 || static_cast<size_t>(n) >= index_of.size() || index_of[n] < 0) return unknown();
    return static_cast<size_t>(index_of[n]);
  }
};

const CodeIndex& Codes() {
  static const CodeIndex codes;
  return codes;
}

size_t MethodSlots() {
  const auto* d = proto::Method_descriptor();
  int max = 0;
  for (int i = 0; i < d->value_count(); ++i) max = std::max(max, d->value(i)->number());
  return static_cast<size_t>(max) + 2;  // + the "unknown" slot
}

}  // namespace

struct RpcMetrics::MethodSeries {
  std::string name;
  Histogram* latency = nullptr;
  Counter* request_bytes = nullptr;
  Counter* response_bytes = nullptr;
  Counter* errors = nullptr;
  std::unique_ptr<std::atomic<Counter*>[]> by_code;  // Codes().names.size() slots
};

RpcMetrics::RpcMetrics(Registry& r)
    : requests_(r.AddCounter("granary_rpc_requests_total",
                             "RPC requests served, by method and result code.",
                             {"method", "code"})),
      errors_(r.AddCounter("granary_rpc_errors_total",
                           "RPC requests answered with an error (code other than OK), by method.",
                           {"method"})),
      latency_(r.AddHistogram("granary_rpc_request_duration_seconds",
                              "Time from reading a request to queueing its response, by method.",
                              {"method"}, LatencyBuckets())),
      request_bytes_(r.AddCounter("granary_rpc_request_bytes_total",
                                  "Bytes of request messages and payloads received, by method.",
                                  {"method"})),
      response_bytes_(r.AddCounter("granary_rpc_response_bytes_total",
                                   "Bytes of response messages and payloads sent, by method.",
                                   {"method"})),
      protocol_errors_(r.AddCounter("granary_rpc_protocol_errors_total",
                                    "Connections closed for a malformed frame.")
                           .With({})),
      methods_(MethodSlots()) {}

RpcMetrics::~RpcMetrics() = default;

RpcMetrics::MethodSeries& RpcMetrics::Series(uint16_t method) {
  const size_t unknown = methods_.size() - 1;
  size_t slot = method < unknown && proto::Method_IsValid(method) ? method : unknown;
  if (MethodSeries* m = methods_[slot].load(std::memory_order_acquire)) return *m;
  // First call of this method: create its series once.
  std::lock_guard lock(mu_);
  if (MethodSeries* m = methods_[slot].load(std::memory_order_relaxed)) return *m;
  auto m = std::make_unique<MethodSeries>();
  m->name = slot == unknown ? "unknown" : proto::Method_Name(static_cast<proto::Method>(method));
  m->latency = &latency_.With({m->name});
  m->request_bytes = &request_bytes_.With({m->name});
  m->response_bytes = &response_bytes_.With({m->name});
  m->errors = &errors_.With({m->name});
  m->by_code = std::make_unique<std::atomic<Counter*>[]>(Codes().names.size());
  MethodSeries* raw = m.get();
  owned_.push_back(std::move(m));
  methods_[slot].store(raw, std::memory_order_release);
  return *raw;
}

Counter& RpcMetrics::CodeCounter(MethodSeries& m, proto::ErrorCode code) {
  const size_t i = Codes().Of(code);
  if (Counter* c = m.by_code[i].load(std::memory_order_acquire)) return *c;
  std::lock_guard lock(mu_);
  if (Counter* c = m.by_code[i].load(std::memory_order_relaxed)) return *c;
  Counter* c = &requests_.With({m.name, Codes().names[i]});
  m.by_code[i].store(c, std::memory_order_release);
  return *c;
}

void RpcMetrics::OnCall(const net::RpcCallStats& call) {
  MethodSeries& m = Series(call.method);
  CodeCounter(m, call.code).Inc();
  if (call.code != proto::OK) m.errors->Inc();
  m.request_bytes->Inc(call.request_bytes);
  m.response_bytes->Inc(call.response_bytes);
  m.latency->Observe(std::chrono::duration<double>(call.latency).count());
}

void RpcMetrics::OnProtocolError() { protocol_errors_.Inc(); }

void AddConnectionGauge(Registry& registry, const net::RpcServer& server) {
  registry.AddCallback("granary_rpc_connections", "RPC connections open now.", Type::kGauge, {},
                       [&server](Sink& s) {
                         s.Add({}, static_cast<double>(server.connection_count()));
                       });
}

}  // namespace granary::metrics
