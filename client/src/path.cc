#include <string>

#include "granary/client.h"

namespace granary {

namespace {
constexpr size_t kMaxName = 255;
constexpr size_t kMaxPath = 4096;
}  // namespace

Result<std::string> NormalizePath(std::string_view path) {
  if (path.empty()) return Status::InvalidArgument("empty path");
  if (path.size() > kMaxPath) {
    return Status::NameTooLong("path of " + std::to_string(path.size()) + " bytes exceeds " +
                               std::to_string(kMaxPath));
  }
  if (path.front() != '/') {
    return Status::InvalidArgument("path '" + std::string(path) + "' is not absolute");
  }
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = i;
    while (j < path.size() && path[j] != '/') ++j;
    if (j == i) break;
    std::string_view name = path.substr(i, j - i);
    if (name == "." || name == "..") {
      return Status::InvalidArgument("path '" + std::string(path) +
                                     "' has a '.' or '..' component");
    }
    if (name.size() > kMaxName) {
      return Status::NameTooLong("name '" + std::string(name.substr(0, 32)) + "...' is " +
                                 std::to_string(name.size()) + " bytes (max 255)");
    }
    if (name.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument("path contains a NUL byte");
    }
    out += '/';
    out += name;
    i = j;
  }
  if (out.empty()) out = "/";
  return out;
}

Result<std::pair<std::string, std::string>> SplitParent(std::string_view normalized) {
  if (normalized == "/" || normalized.empty()) {
    return Status::InvalidArgument("the root folder has no parent");
  }
  size_t slash = normalized.rfind('/');
  std::string parent(slash == 0 ? "/" : normalized.substr(0, slash));
  return std::make_pair(parent, std::string(normalized.substr(slash + 1)));
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

}  // namespace granary
