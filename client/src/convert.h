#pragma once
// Conversions between wire messages and the public client types.

#include "common/proto/granary.pb.h"
#include "granary/client.h"

namespace granary::client {

FileInfo ToFileInfo(const proto::Inode& inode);
ChunkLocation ToChunkLocation(const proto::ChunkInfo& chunk);
NodeStatus ToNodeStatus(const proto::NodeInfo& node);

}  // namespace granary::client
