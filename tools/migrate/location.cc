#include "tools/migrate/location.h"

#include "granary/client.h"

namespace granary::tools::migrate {

Result<Location> ParseLocation(std::string_view text) {
  Location loc;
  loc.text = std::string(text);
  loc.trailing_slash = text.size() > 1 && text.ends_with('/');
  constexpr std::string_view kScheme = "granary:";
  if (!text.starts_with(kScheme)) {
    if (text.empty()) return Status::InvalidArgument("empty path");
    loc.path = std::string(text);
    return loc;
  }
  loc.kind = Location::Kind::kCluster;
  std::string_view rest = text.substr(kScheme.size());
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    size_t slash = rest.find('/');
    loc.meta = std::string(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    // granary:///path names the CLI's own cluster; otherwise HOST:PORT is required.
    if (!loc.meta.empty() && loc.meta.find(':') == std::string::npos) {
      return Status::InvalidArgument("'" + loc.text + "': expected granary://HOST:PORT/path");
    }
  }
  if (!rest.starts_with('/')) {
    return Status::InvalidArgument("'" + loc.text +
                                   "': a cluster path is absolute (granary:/path or "
                                   "granary://HOST:PORT/path)");
  }
  auto path = NormalizePath(rest);
  if (!path.ok()) return path.status().WithContext("'" + loc.text + "'");
  loc.path = *path;
  return loc;
}

}  // namespace granary::tools::migrate
