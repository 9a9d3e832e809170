// granary key new: writes a cluster key file (docs/security.md).
//
//   granary key new FILE [--id ID] [--role cluster|rw|ro] [--append]
//
// The secret comes from OpenSSL's CSPRNG. The file is created with mode 0600
// (O_EXCL, so an existing file is never overwritten); --append adds a key to
// an existing file after checking that it is private and still parses.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/net/cluster_key.h"
#include "tools/command.h"

namespace granary::tools {
namespace {

struct KeyArgs {
  std::string file;
  std::string id = "cluster";
  std::string role = "cluster";
  bool append = false;
};

Status RunKeyNew(const KeyArgs& a) {
  ASSIGN_OR_RETURN(net::KeyRole role, net::ParseKeyRole(a.role));
  ASSIGN_OR_RETURN(net::ClusterKey key, net::GenerateClusterKey(a.id, role));
  int flags = O_WRONLY | O_CLOEXEC;
  if (a.append) {
    // Refuses a file others can read, and one that does not parse.
    ASSIGN_OR_RETURN(auto ring, net::KeyRing::Load(a.file));
    if (ring->Find(a.id) != nullptr) {
      return Status::AlreadyExists("key id '" + a.id + "' is already in " + a.file);
    }
    flags |= O_APPEND;
  } else {
    flags |= O_CREAT | O_EXCL;
  }
  int fd = ::open(a.file.c_str(), flags, 0600);
  if (fd < 0) {
    std::string why = std::strerror(errno);
    if (errno == EEXIST) {
      return Status::AlreadyExists(a.file + " exists: pick another name, or --append a key");
    }
    return Status::IoError("cannot write " + a.file + ": " + why);
  }
  std::string text = a.append ? "" : "# Granary cluster keys: ID ROLE SECRET. Keep private (mode 0600).\n";
  text += net::FormatKeyLine(key);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok) return Status::IoError("cannot write " + a.file + ": " + std::strerror(errno));
  std::printf("%s key '%s' (%s) to %s\n", a.append ? "added" : "wrote", a.id.c_str(),
              a.role.c_str(), a.file.c_str());
  return Status::Ok();
}

}  // namespace

void RegisterKey(CLI::App& app, CommandContext& ctx) {
  CLI::App* key = app.add_subcommand("key", "cluster keys");
  key->require_subcommand(1);
  auto args = std::make_shared<KeyArgs>();
  CLI::App* cmd = key->add_subcommand("new", "write a new random cluster key to a key file");
  cmd->add_option("file", args->file, "key file to create (mode 0600)")->required();
  cmd->add_option("--id", args->id, "key id (default cluster)");
  cmd->add_option("--role", args->role, "cluster (daemons, admins), rw or ro (clients)")
      ->check(CLI::IsMember({"cluster", "rw", "ro"}));
  cmd->add_flag("--append", args->append, "add the key to an existing key file");
  cmd->callback([&ctx, args] { ctx.Select("key new", [args] { return RunKeyNew(*args); }); });
}

}  // namespace granary::tools
