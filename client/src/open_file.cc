// Placeholder until the random-access handle lands.
#include "client/src/open_file.h"

namespace granary::client {

Result<std::unique_ptr<OpenFile>> OpenFileAt(std::shared_ptr<ClientContext> ctx, uint64_t inode,
                                             const OpenFileOptions& options) {
  return Status::Unimplemented("OpenAt");
}

}  // namespace granary::client
