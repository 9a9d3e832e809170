#include "tools/cli_util.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <ctime>

#include "tools/dev/cluster_state.h"
#include "tools/dev/process.h"

namespace granary::tools {

Result<std::string> ResolveMetaAddress(const GlobalOptions& global) {
  if (!global.meta.empty()) return global.meta;
  if (const char* env = std::getenv("GRANARY_META"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  std::string path = dev::ClusterStatePath(std::string(kDefaultDevDir));
  auto state = dev::ReadClusterState(path);
  if (!state.ok()) {
    if (state.status().code() == proto::NOT_FOUND) {
      return Status::NotFound(
          "no cluster given: pass --meta HOST:PORT, set GRANARY_META=HOST:PORT, or start a "
          "local cluster here with `granary dev up`");
    }
    return state.status();
  }
  if (!dev::ProcessMatches(state->metad.pid, state->metad.binary) || state->meta_address.empty()) {
    return Status::Unavailable("the dev cluster in ./" + std::string(kDefaultDevDir) +
                               " is not running; start it with `granary dev up`");
  }
  return state->meta_address;
}

std::string ResolveKeyFile(const GlobalOptions& global) {
  if (!global.key_file.empty()) return global.key_file;
  if (const char* env = std::getenv("GRANARY_KEY_FILE"); env != nullptr && *env != '\0') {
    return env;
  }
  const char* meta_env = std::getenv("GRANARY_META");
  if (!global.meta.empty() || (meta_env != nullptr && *meta_env != '\0')) return "";
  auto state = dev::ReadClusterState(dev::ClusterStatePath(std::string(kDefaultDevDir)));
  return state.ok() ? state->key_file : "";
}

Result<std::unique_ptr<Client>> ConnectCluster(const GlobalOptions& global) {
  ASSIGN_OR_RETURN(std::string address, ResolveMetaAddress(global));
  ClientOptions options;
  options.meta_address = address;
  options.key_file = ResolveKeyFile(global);
  auto client = Client::Connect(options);
  if (!client.ok()) return client.status().WithContext("connecting to " + address);
  return client;
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 6) {
    v /= 1024;
    ++unit;
  }
  int decimals = v < 10 ? 2 : v < 100 ? 1 : 0;
  return fmt::format("{:.{}f} {}", v, decimals, kUnits[unit]);
}

std::string FormatRate(uint64_t bytes, double seconds) {
  if (seconds <= 0) return "- MB/s";
  return fmt::format("{:.1f} MB/s", static_cast<double>(bytes) / seconds / 1e6);
}

std::string FormatDuration(double seconds) {
  if (seconds < 0) seconds = 0;
  auto s = static_cast<uint64_t>(seconds + 0.5);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string FormatTime(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string FormatMode(FileType type, uint32_t mode) {
  std::string s(10, '-');
  s[0] = type == FileType::kDirectory ? 'd' : type == FileType::kSymlink ? 'l' : '-';
  static constexpr char kRwx[] = "rwx";
  for (int i = 0; i < 9; ++i) {
    if (mode & (1u << (8 - i))) s[1 + i] = kRwx[i % 3];
  }
  return s;
}

std::string_view FileTypeName(FileType type) {
  switch (type) {
    case FileType::kFile:
      return "file";
    case FileType::kDirectory:
      return "directory";
    case FileType::kSymlink:
      return "symlink";
    default:
      return "unknown";
  }
}

Result<uint64_t> ParseSize(std::string_view text) {
  size_t i = 0;
  uint64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    uint64_t next = value * 10 + static_cast<uint64_t>(text[i] - '0');
    if (next / 10 != value) return Status::InvalidArgument("size too large: " + std::string(text));
    value = next;
    ++i;
  }
  if (i == 0) return Status::InvalidArgument("not a size: '" + std::string(text) + "'");
  std::string suffix;
  for (char c : text.substr(i))
    suffix += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int shift = 0;
  if (suffix.empty() || suffix == "b") {
    shift = 0;
  } else if (suffix == "k" || suffix == "kib" || suffix == "kb") {
    shift = 10;
  } else if (suffix == "m" || suffix == "mib" || suffix == "mb") {
    shift = 20;
  } else if (suffix == "g" || suffix == "gib" || suffix == "gb") {
    shift = 30;
  } else if (suffix == "t" || suffix == "tib" || suffix == "tb") {
    shift = 40;
  } else {
    return Status::InvalidArgument("unknown size suffix in '" + std::string(text) +
                                   "' (use K, M, G or T)");
  }
  if (shift > 0 && (value >> (64 - shift)) != 0) {
    return Status::InvalidArgument("size too large: " + std::string(text));
  }
  return value << shift;
}

std::string RemoteBasename(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace granary::tools
