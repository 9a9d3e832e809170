#include "common/metrics/text_format.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

namespace granary::metrics {
namespace {

bool NameChar(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool ValidName(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i], i == 0, colon)) return false;
  }
  return true;
}

// Reads one sample line; `pos` walks the line.
class LineParser {
 public:
  explicit LineParser(std::string_view line) : line_(line) {}

  Status Parse(Sample* s) {
    s->name = std::string(Name(/*colon=*/true));
    if (!IsValidMetricName(s->name)) return Bad("no metric name");
    if (Peek('{')) {
      ++pos_;
      RETURN_IF_ERROR(Labels(&s->labels));
    }
    if (!Peek(' ') && !Peek('\t')) return Bad("no space before the value");
    SkipSpace();
    std::string_view rest = line_.substr(pos_);
    const size_t end = rest.find_first_of(" \t");
    std::string_view value = rest.substr(0, end);  // a timestamp may follow; ignored
    if (value == "+Inf" || value == "Inf") {
      s->value = HUGE_VAL;
    } else if (value == "-Inf") {
      s->value = -HUGE_VAL;
    } else if (value == "NaN") {
      s->value = std::nan("");
    } else {
      const std::string text(value);
      char* stop = nullptr;
      s->value = std::strtod(text.c_str(), &stop);
      if (text.empty() || stop != text.c_str() + text.size()) return Bad("bad value");
    }
    return Status::Ok();
  }

 private:
  bool Peek(char c) const { return pos_ < line_.size() && line_[pos_] == c; }
  void SkipSpace() {
    while (Peek(' ') || Peek('\t')) ++pos_;
  }
  Status Bad(std::string_view why) const {
    return Status::InvalidArgument(fmt::format("{} at column {}", why, pos_ + 1));
  }
  std::string_view Name(bool colon) {
    const size_t start = pos_;
    while (pos_ < line_.size() && NameChar(line_[pos_], pos_ == start, colon)) ++pos_;
    return line_.substr(start, pos_ - start);
  }

  Status Labels(std::map<std::string, std::string>* labels) {
    while (true) {
      SkipSpace();
      if (Peek('}')) {
        ++pos_;
        return Status::Ok();
      }
      std::string name(Name(/*colon=*/false));
      if (name.empty()) return Bad("bad label name");
      SkipSpace();
      if (!Peek('=')) return Bad("no '=' after a label name");
      ++pos_;
      SkipSpace();
      if (!Peek('"')) return Bad("label value not quoted");
      ++pos_;
      std::string value;
      while (true) {
        if (pos_ >= line_.size()) return Bad("unterminated label value");
        const char c = line_[pos_++];
        if (c == '"') break;
        if (c != '\\') {
          value += c;
          continue;
        }
        if (pos_ >= line_.size()) return Bad("unterminated escape");
        const char e = line_[pos_++];
        if (e == 'n') {
          value += '\n';
        } else if (e == '\\' || e == '"') {
          value += e;
        } else {
          return Bad("unknown escape");
        }
      }
      (*labels)[std::move(name)] = std::move(value);
      SkipSpace();
      if (Peek(',')) {
        ++pos_;
      } else if (!Peek('}')) {
        return Bad("expected ',' or '}'");
      }
    }
  }

  std::string_view line_;
  size_t pos_ = 0;
};

bool Matches(const Sample& s, std::string_view name,
             const std::map<std::string, std::string>& labels) {
  if (s.name != name) return false;
  for (const auto& [k, v] : labels) {
    auto it = s.labels.find(k);
    if (it == s.labels.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

bool IsValidMetricName(std::string_view name) { return ValidName(name, /*colon=*/true); }
bool IsValidLabelName(std::string_view name) { return ValidName(name, /*colon=*/false); }

void AppendEscapedHelp(std::string_view help, std::string* out) {
  for (char c : help) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
}

void AppendEscapedLabelValue(std::string_view value, std::string* out) {
  for (char c : value) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '"') {
      *out += "\\\"";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
}

void AppendValue(double value, std::string* out) {
  if (std::isnan(value)) {
    *out += "NaN";
  } else if (std::isinf(value)) {
    *out += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    // Counters and byte gauges are integers; print them as such.
    fmt::format_to(std::back_inserter(*out), "{}", static_cast<int64_t>(value));
  } else {
    fmt::format_to(std::back_inserter(*out), "{}", value);  // shortest round trip
  }
}

void AppendSample(std::string_view name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name,
                  std::string_view extra_value, double value, std::string* out) {
  *out += name;
  if (!names.empty() || !extra_name.empty()) {
    *out += '{';
    bool first = true;
    auto label = [&](std::string_view n, std::string_view v) {
      if (!first) *out += ',';
      first = false;
      *out += n;
      *out += "=\"";
      AppendEscapedLabelValue(v, out);
      *out += '"';
    };
    for (size_t i = 0; i < names.size(); ++i) label(names[i], values[i]);
    if (!extra_name.empty()) label(extra_name, extra_value);
    *out += '}';
  }
  *out += ' ';
  AppendValue(value, out);
  *out += '\n';
}

Result<std::vector<Sample>> ParseText(std::string_view text) {
  if (text.size() > kMaxTextBytes) {
    return Status::InvalidArgument(
        fmt::format("exposition of {} bytes exceeds {}", text.size(), kMaxTextBytes));
  }
  std::vector<Sample> samples;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.size() > kMaxLineBytes) {
      return Status::InvalidArgument(fmt::format("line {} is longer than {} bytes", line_no,
                                                 kMaxLineBytes));
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    Sample s;
    Status st = LineParser(line).Parse(&s);
    if (!st.ok()) return st.WithContext(fmt::format("line {}", line_no));
    samples.push_back(std::move(s));
  }
  return samples;
}

std::optional<double> FindSample(const std::vector<Sample>& samples, std::string_view name,
                                 const std::map<std::string, std::string>& labels) {
  for (const Sample& s : samples) {
    if (Matches(s, name, labels)) return s.value;
  }
  return std::nullopt;
}

double SumSamples(const std::vector<Sample>& samples, std::string_view name,
                  const std::map<std::string, std::string>& labels) {
  double sum = 0;
  for (const Sample& s : samples) {
    if (Matches(s, name, labels)) sum += s.value;
  }
  return sum;
}

}  // namespace granary::metrics
