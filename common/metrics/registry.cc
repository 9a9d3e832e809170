#include "common/metrics/registry.h"

#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <type_traits>

#include "common/metrics/text_format.h"

namespace granary::metrics {
namespace {

// Names are chosen in code, never read from outside: a bad one is a bug.
void CheckOrDie(bool ok, std::string_view what, std::string_view name) {
  if (ok) return;
  std::fprintf(stderr, "metrics: invalid %.*s '%.*s'\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(name.size()), name.data());
  std::abort();
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

std::vector<std::string> ToStrings(std::initializer_list<std::string_view> values) {
  return std::vector<std::string>(values.begin(), values.end());
}

double Value(const Counter& c) { return static_cast<double>(c.value()); }
double Value(const Gauge& g) { return static_cast<double>(g.value()); }

// Collects a callback's samples and renders them.
class RenderSink : public Sink {
 public:
  RenderSink(const std::string& name, const std::vector<std::string>& labels, std::string* out)
      : name_(name), labels_(labels), out_(out) {}
  void Add(std::initializer_list<std::string_view> values, double value) override {
    Add(ToStrings(values), value);
  }
  void Add(const std::vector<std::string>& values, double value) override {
    // A callback with the wrong arity is a bug, but one seen only at scrape
    // time: drop the sample rather than take the daemon down.
    if (values.size() != labels_.size()) return;
    AppendSample(name_, labels_, values, {}, {}, value, out_);
  }

 private:
  const std::string& name_;
  const std::vector<std::string>& labels_;
  std::string* out_;
};

class CallbackFamily : public FamilyBase {
 public:
  CallbackFamily(std::string name, std::string help, Type type, std::vector<std::string> labels,
                 std::function<void(Sink&)> collect)
      : FamilyBase(std::move(name), std::move(help), type, std::move(labels)),
        collect_(std::move(collect)) {}
  void Render(std::string* out) const override {
    RenderHeader(out);
    RenderSink sink(name_, labels_, out);
    collect_(sink);
  }

 private:
  const std::function<void(Sink&)> collect_;
};

}  // namespace

FamilyBase::FamilyBase(std::string name, std::string help, Type type,
                       std::vector<std::string> labels)
    : name_(std::move(name)), help_(std::move(help)), type_(type), labels_(std::move(labels)) {
  CheckOrDie(IsValidMetricName(name_), "metric name", name_);
  for (const std::string& l : labels_) {
    // "le" is the histogram bucket label; a family may not use it itself.
    CheckOrDie(IsValidLabelName(l) && l != "le", "label name", l);
  }
}

void FamilyBase::RenderHeader(std::string* out) const {
  *out += "# HELP ";
  *out += name_;
  *out += ' ';
  AppendEscapedHelp(help_, out);
  *out += "\n# TYPE ";
  *out += name_;
  *out += ' ';
  *out += TypeName(type_);
  *out += '\n';
}

template <class T>
T& Family<T>::With(std::initializer_list<std::string_view> label_values) {
  return With(ToStrings(label_values));
}

template <class T>
T& Family<T>::With(const std::vector<std::string>& label_values) {
  if (label_values.size() != labels_.size()) {
    CheckOrDie(false, "label value count for", name_);
  }
  std::lock_guard lock(mu_);
  std::unique_ptr<T>& slot = series_[label_values];
  if (!slot) slot = factory_();
  return *slot;
}

template <class T>
void Family<T>::Render(std::string* out) const {
  RenderHeader(out);
  std::lock_guard lock(mu_);
  for (const auto& [values, series] : series_) {
    if constexpr (std::is_same_v<T, Histogram>) {
      const Histogram::Snapshot s = series->Read();
      std::string le;
      for (size_t i = 0; i <= s.bounds.size(); ++i) {
        le.clear();
        if (i < s.bounds.size()) {
          AppendValue(s.bounds[i], &le);
        } else {
          le = "+Inf";
        }
        AppendSample(name_ + "_bucket", labels_, values, "le", le,
                     static_cast<double>(s.cumulative[i]), out);
      }
      AppendSample(name_ + "_sum", labels_, values, {}, {}, s.sum, out);
      AppendSample(name_ + "_count", labels_, values, {}, {}, static_cast<double>(s.count), out);
    } else {
      AppendSample(name_, labels_, values, {}, {}, Value(*series), out);
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

FamilyBase& Registry::Add(std::unique_ptr<FamilyBase> family) {
  std::lock_guard lock(mu_);
  for (const auto& f : families_) CheckOrDie(f->name() != family->name(), "duplicate metric", f->name());
  families_.push_back(std::move(family));
  return *families_.back();
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> labels) {
  return static_cast<Family<Counter>&>(
      Add(std::make_unique<Family<Counter>>(std::move(name), std::move(help), Type::kCounter,
                                            std::move(labels),
                                            [] { return std::make_unique<Counter>(); })));
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> labels) {
  return static_cast<Family<Gauge>&>(
      Add(std::make_unique<Family<Gauge>>(std::move(name), std::move(help), Type::kGauge,
                                          std::move(labels),
                                          [] { return std::make_unique<Gauge>(); })));
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<std::string> labels,
                                          std::vector<double> bounds) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    const bool ascending = i == 0 || bounds[i] > bounds[i - 1];
    CheckOrDie(ascending && std::isfinite(bounds[i]), "histogram bounds of", name);
  }
  return static_cast<Family<Histogram>&>(Add(std::make_unique<Family<Histogram>>(
      std::move(name), std::move(help), Type::kHistogram, std::move(labels),
      [bounds = std::move(bounds)] { return std::make_unique<Histogram>(bounds); })));
}

void Registry::AddCallback(std::string name, std::string help, Type type,
                           std::vector<std::string> labels, std::function<void(Sink&)> collect) {
  CheckOrDie(type != Type::kHistogram, "callback type (histogram) for", name);
  Add(std::make_unique<CallbackFamily>(std::move(name), std::move(help), type, std::move(labels),
                                       std::move(collect)));
}

std::string Registry::Render() const {
  std::string out;
  out.reserve(16 << 10);
  std::lock_guard lock(mu_);
  for (const auto& f : families_) f->Render(&out);
  return out;
}

}  // namespace granary::metrics
