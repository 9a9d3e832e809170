#pragma once

#include <memory>

#include "client/src/client_context.h"
#include "common/proto/granary.pb.h"

namespace granary::client {

// Opens inode `inode` (taking the write lease when options.write) and returns
// a random-access handle over it (client/src/open_file.cc).
Result<std::unique_ptr<OpenFile>> OpenFileAt(std::shared_ptr<ClientContext> ctx, uint64_t inode,
                                             const OpenFileOptions& options);

}  // namespace granary::client
