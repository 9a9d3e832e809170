// granary cat PATH...: write files to stdout.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/buffer.h"
#include "tools/command.h"
#include "tools/transfer.h"

namespace granary::tools {
namespace {

Status CatOne(Client& client, const std::string& arg, Buffer& buf) {
  ASSIGN_OR_RETURN(std::string path, NormalizePath(arg));
  ASSIGN_OR_RETURN(auto reader, client.Open(path));
  uint64_t offset = 0;
  while (true) {
    auto n = reader->PRead(offset, buf.span());
    if (!n.ok()) return n.status().WithContext(path);
    if (*n == 0) return Status::Ok();
    const uint8_t* p = buf.data();
    size_t left = *n;
    while (left > 0) {
      ssize_t w = write(STDOUT_FILENO, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Status::IoError(std::string("write stdout: ") + std::strerror(errno));
      p += w;
      left -= static_cast<size_t>(w);
    }
    offset += *n;
  }
}

Status RunCat(const GlobalOptions& global, const std::vector<std::string>& paths) {
  ASSIGN_OR_RETURN(auto client, ConnectCluster(global));
  Buffer buf(kTransferBufferBytes);
  for (const std::string& p : paths) RETURN_IF_ERROR(CatOne(*client, p, buf));
  return Status::Ok();
}

}  // namespace

void RegisterCat(CLI::App& app, CommandContext& ctx) {
  auto paths = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("cat", "write files to stdout");
  cmd->add_option("PATH", *paths, "cluster paths")->required();
  cmd->callback(
      [&ctx, paths] { ctx.Select("cat", [&ctx, paths] { return RunCat(ctx.global(), *paths); }); });
}

}  // namespace granary::tools
