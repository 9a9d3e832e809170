#pragma once

#include <memory>
#include <string>

#include "client/src/client_context.h"
#include "common/proto/granary.pb.h"

namespace granary::client {

// Nanoseconds this process spent decoding blocks for readers (all threads):
// the decode share of a read, for the loader's statistics.
uint64_t DecodeNanos();

// Reader over the file described by `open` (its inode and chunk map).
Result<std::unique_ptr<FileReader>> MakeFileReader(std::shared_ptr<ClientContext> ctx,
                                                   std::string path, proto::OpenResponse open,
                                                   const ReadOptions& options = {},
                                                   net::TraceId trace = 0);

}  // namespace granary::client
