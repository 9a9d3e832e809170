#pragma once
// Registry: the metrics of one process and their rendering in the
// Prometheus text exposition format 0.0.4 (text_format.h).
//
//   metrics::Registry reg;
//   auto& reqs = reg.AddCounter("granary_rpc_requests_total", "RPC requests served",
//                               {"method", "code"});
//   metrics::Counter& ok = reqs.With({"CHUNK_READ", "OK"});  // once; a lock
//   ok.Inc();                                                 // per call; lock-free
//   reg.AddCallback("granary_chunkd_chunks", "Committed chunk versions",
//                   metrics::Type::kGauge, {}, [&](metrics::Sink& s) {
//                     s.Add({}, store.Usage()->chunk_count); });
//   std::string text = reg.Render();
//
// Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and label names
// [a-zA-Z_][a-zA-Z0-9_]*; a bad name or a family added twice is a
// programming error and aborts. Label values are free text (escaped on
// output). Every label set a caller passes to With() becomes a series that
// lives until the registry dies: never put unbounded values (paths, peer
// addresses, numbers from the wire) in a label.
//
// Callbacks run inside Render(), on the scraping thread, once per scrape:
// they must be thread-safe and should be cheap (no full scans).
//
// Lifetime: families and series live as long as the Registry; references
// stay valid. Objects a callback reads must outlive the last Render().
// Thread safety: every method may be called concurrently.

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics/histogram.h"
#include "common/metrics/metric.h"

namespace granary::metrics {

enum class Type { kCounter, kGauge, kHistogram };

// What a callback reports: one sample per label value set, in the order of
// the family's label names.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void Add(std::initializer_list<std::string_view> label_values, double value) = 0;
  virtual void Add(const std::vector<std::string>& label_values, double value) = 0;
};

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> labels);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  // Appends "# HELP", "# TYPE" and every sample.
  virtual void Render(std::string* out) const = 0;

 protected:
  void RenderHeader(std::string* out) const;
  const std::string name_;
  const std::string help_;
  const Type type_;
  const std::vector<std::string> labels_;
};

// The series of one metric name, one per label value set.
template <class T>
class Family : public FamilyBase {
 public:
  using Factory = std::function<std::unique_ptr<T>()>;
  Family(std::string name, std::string help, Type type, std::vector<std::string> labels,
         Factory factory)
      : FamilyBase(std::move(name), std::move(help), type, std::move(labels)),
        factory_(std::move(factory)) {}

  // The series for these label values (as many as the family has label
  // names, else abort), created at zero on first use. Takes a lock: call it
  // once and keep the reference, not once per update.
  T& With(std::initializer_list<std::string_view> label_values);
  T& With(const std::vector<std::string>& label_values);

  void Render(std::string* out) const override;

 private:
  const Factory factory_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Family<Counter>& AddCounter(std::string name, std::string help,
                              std::vector<std::string> labels = {});
  Family<Gauge>& AddGauge(std::string name, std::string help,
                          std::vector<std::string> labels = {});
  // `bounds`: ascending upper bounds, +Inf implied (e.g. LatencyBuckets()).
  Family<Histogram>& AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> labels, std::vector<double> bounds);
  // A counter or gauge whose samples `collect` computes at scrape time.
  void AddCallback(std::string name, std::string help, Type type, std::vector<std::string> labels,
                   std::function<void(Sink&)> collect);

  // Every family in the order added, in the text exposition format.
  std::string Render() const;

 private:
  FamilyBase& Add(std::unique_ptr<FamilyBase> family);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
};

}  // namespace granary::metrics
