#pragma once
// Where one side of `granary migrate` lives, parsed from its command-line
// argument:
//
//   /data/models, ./x, x        a local path
//   granary:/models/x           the cluster the CLI is pointed at (--meta,
//   granary:///models/x         $GRANARY_META or ./granary-dev)
//   granary://HOST:PORT/models  another cluster, by its metad's address
//
// `put` and `get` tell local from cluster paths by position (SRC local, DST on
// the cluster, and the reverse); migrate accepts either kind on both sides,
// so cluster paths carry the scheme.

#include <string>
#include <string_view>

#include "common/status.h"

namespace granary::tools::migrate {

struct Location {
  enum class Kind { kLocal, kCluster };
  Kind kind = Kind::kLocal;
  // kCluster: metad HOST:PORT; empty means the CLI's own cluster.
  std::string meta;
  // kLocal: the path as given; kCluster: a normalized absolute cluster path.
  std::string path;
  // The argument as given, for messages.
  std::string text;
  // The argument ended with '/': the destination must be a folder.
  bool trailing_slash = false;
};

// INVALID_ARGUMENT for a granary:// URL without HOST:PORT or with a path that
// is not a valid cluster path.
Result<Location> ParseLocation(std::string_view text);

}  // namespace granary::tools::migrate
