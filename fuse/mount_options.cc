#include "fuse/mount_options.h"

#include <cstdlib>
#include <sstream>

namespace granary::fuse {
namespace {

Result<double> Seconds(const std::string& key, const std::string& v) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || d < 0 || d > 86400) {
    return Status::InvalidArgument("-o " + key + "=" + v + ": expected seconds between 0 and 86400");
  }
  return d;
}

}  // namespace

Status ParseMountOptions(const std::string& list, MountOptions* o) {
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    std::string key = item.substr(0, eq);
    std::string val = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (key == "ro") o->read_only = true;
    else if (key == "rw") o->read_only = false;
    else if (key == "allow_other") o->allow_other = true;
    else if (key == "noallow_other") o->allow_other = false;
    else if (key == "debug") o->debug = true;
    else if (key == "attr_timeout") { ASSIGN_OR_RETURN(o->attr_timeout, Seconds(key, val)); }
    else if (key == "entry_timeout") { ASSIGN_OR_RETURN(o->entry_timeout, Seconds(key, val)); }
    else if (key == "negative_timeout") { ASSIGN_OR_RETURN(o->negative_timeout, Seconds(key, val)); }
    else if (key == "max_threads") {
      int n = std::atoi(val.c_str());
      if (n < 1 || n > 256) return Status::InvalidArgument("-o max_threads=" + val + ": expected 1..256");
      o->max_threads = static_cast<uint32_t>(n);
    } else if (key == "read_ahead_kb") {
      int n = std::atoi(val.c_str());
      if (n < 0 || n > 1 << 20) return Status::InvalidArgument("-o read_ahead_kb=" + val + ": expected 0..1048576");
      o->read_ahead_kb = static_cast<uint32_t>(n);
    } else if (key == "log") o->log_file = val;
    else if (key == "log_level") o->log_level = val;
    else if (key == "fsname") o->fsname = val;
    else if (key == "default_permissions" || key == "suid" || key == "nosuid" || key == "dev" ||
             key == "nodev" || key == "exec" || key == "noexec" || key == "atime" ||
             key == "noatime" || key == "relatime" || key == "_netdev" || key == "auto" ||
             key == "noauto" || key == "user" || key == "nouser" || key == "defaults") {
      // Always on (default_permissions) or handled by mount(8).
    } else {
      return Status::InvalidArgument("unknown mount option '" + item +
                                     "' (known: ro, rw, allow_other, noallow_other, attr_timeout=S, "
                                     "entry_timeout=S, negative_timeout=S, max_threads=N, read_ahead_kb=N, log=PATH, "
                                     "log_level=L, fsname=NAME, debug)");
    }
  }
  return Status::Ok();
}

}  // namespace granary::fuse
