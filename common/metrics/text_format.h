#pragma once
// The Prometheus text exposition format, version 0.0.4: writing samples
// (for Registry::Render) and reading them back (for `granary dev status`
// and tests).
//
//   # HELP granary_rpc_requests_total RPC requests served, by method and result code.
//   # TYPE granary_rpc_requests_total counter
//   granary_rpc_requests_total{method="CHUNK_READ",code="OK"} 1027
//
// Label values escape backslash, double quote and newline; HELP text
// escapes backslash and newline. Values are decimal, "+Inf", "-Inf" or
// "NaN". The reader accepts what the writer produces plus optional
// timestamps and trailing commas in label sets; it skips comments.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace granary::metrics {

// The content type a /metrics response carries.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);

void AppendEscapedHelp(std::string_view help, std::string* out);
void AppendEscapedLabelValue(std::string_view value, std::string* out);
// Shortest text that reads back as the same double; integers without ".0".
void AppendValue(double value, std::string* out);

// One line: name{n1="v1",...,extra_name="extra_value"} value\n. `names` and
// `values` have equal sizes; `extra_name` empty means none.
void AppendSample(std::string_view name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name,
                  std::string_view extra_value, double value, std::string* out);

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Bounds on what ParseText accepts, so a hostile or broken endpoint cannot
// make a scraper allocate without limit.
inline constexpr size_t kMaxTextBytes = 16 << 20;
inline constexpr size_t kMaxLineBytes = 64 << 10;

// Every sample of an exposition. INVALID_ARGUMENT names the first bad line.
Result<std::vector<Sample>> ParseText(std::string_view text);

// The value of the sample named `name` whose labels include every pair of
// `labels`; nullopt when none matches. With several matches, the first.
std::optional<double> FindSample(const std::vector<Sample>& samples, std::string_view name,
                                 const std::map<std::string, std::string>& labels = {});
// The sum over every sample named `name` whose labels include `labels`.
double SumSamples(const std::vector<Sample>& samples, std::string_view name,
                  const std::map<std::string, std::string>& labels = {});

}  // namespace granary::metrics
