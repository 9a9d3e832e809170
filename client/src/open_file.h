#pragma once

#include <memory>

#include "client/src/client_context.h"
#include "common/proto/granary.pb.h"

namespace granary::client {

// Opens inode `inode` (taking the write lease when options.write) and returns
// a random-access handle over it (client/src/open_file.cc).
Result<std::unique_ptr<OpenFile>> OpenFileAt(std::shared_ptr<ClientContext> ctx, uint64_t inode,
                                             const OpenFileOptions& options);

// A handle over a file already opened by `open` (inode, chunk map, lease).
Result<std::unique_ptr<OpenFile>> MakeOpenFile(std::shared_ptr<ClientContext> ctx,
                                               proto::OpenResponse open,
                                               const OpenFileOptions& options,
                                               net::TraceId trace = 0);

// Create (or find) `name` in `parent` and open it for writing, in one
// metadata round trip when the file is new or cut to 0 bytes.
Result<std::unique_ptr<OpenFile>> CreateOpenFile(std::shared_ptr<ClientContext> ctx,
                                                 uint64_t parent, std::string_view name,
                                                 uint32_t mode, Credentials cred, bool exclusive,
                                                 bool truncate, Durability d);

}  // namespace granary::client
