#include "client/src/convert.h"
#include "common/codec/block.h"

namespace granary::client {

FileInfo ToFileInfo(const proto::Inode& in) {
  FileInfo f;
  f.inode = in.id();
  switch (in.type()) {
    case proto::INODE_FILE: f.type = FileType::kFile; break;
    case proto::INODE_DIR: f.type = FileType::kDirectory; break;
    case proto::INODE_SYMLINK: f.type = FileType::kSymlink; break;
    default: f.type = FileType::kUnknown; break;
  }
  f.mode = in.mode();
  f.uid = in.uid();
  f.gid = in.gid();
  f.size = in.size();
  f.nlink = in.nlink();
  f.atime_sec = in.atime().sec();
  f.atime_nsec = in.atime().nsec();
  f.mtime_sec = in.mtime().sec();
  f.mtime_nsec = in.mtime().nsec();
  f.ctime_sec = in.ctime().sec();
  f.ctime_nsec = in.ctime().nsec();
  f.replicas = in.replicas();
  f.chunk_size = in.chunk_size();
  f.codec = in.codec_hint() <= static_cast<uint32_t>(codec::CodecPolicy::kF32)
                ? codec::CodecPolicyName(static_cast<codec::CodecPolicy>(in.codec_hint()))
                : "auto";
  f.symlink_target = in.symlink_target();
  return f;
}

ChunkLocation ToChunkLocation(const proto::ChunkInfo& c) {
  ChunkLocation l;
  l.chunk_index = c.chunk_index();
  l.chunk_id = c.chunk_id();
  l.version = c.version();
  l.length = c.length();
  l.stored_length = c.stored_length();
  l.block_count = c.block_count();
  for (const auto& r : c.replicas()) l.replicas.push_back({r.node_id(), r.address()});
  return l;
}

NodeStatus ToNodeStatus(const proto::NodeInfo& n) {
  NodeStatus s;
  s.node_id = n.node_id();
  s.address = n.address();
  s.failure_domain = n.failure_domain();
  s.up = n.state() == proto::NODE_UP;
  s.capacity_bytes = n.capacity_bytes();
  s.used_bytes = n.used_bytes();
  s.free_bytes = n.free_bytes();
  s.chunk_count = n.chunk_count();
  s.last_heartbeat_ms = n.last_heartbeat_ms();
  s.draining = n.draining();
  s.replicas_referenced = n.replicas_referenced();
  return s;
}

}  // namespace granary::client
