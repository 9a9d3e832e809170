#pragma once
// The key schema of the metadata namespace (spec: docs/metadata_schema.md).
//
// Ids are encoded big-endian so that bytewise key order is numeric order and
// prefix scans return a folder's entries sorted by name and a file's chunks
// sorted by index. One ASCII letter per record family:
//
//   "I" id                         -> proto::Inode
//   "D" parent name                -> Dentry (child id + type, 9 bytes)
//   "C" inode index                -> proto::ChunkInfo, committed (compact form)
//   "P" inode index                -> proto::ChunkInfo, allocated, not yet committed
//   "N" node_id                    -> proto::NodeInfo
//   "G" len(node_id) node_id id ver -> ""  (a replica that node may delete)
//   "X" inode name                 -> extended attribute value
//   "L" inode                      -> a small file's whole contents (inline data)
//   "O" inode                      -> client id: an unlinked file kept for that client
//   "T" expires_ms inode           -> proto::TrashEntry: a removed file kept until then
//   "Q" inode                      -> proto::QuotaInfo: a folder's limits (usage is counted
//                                     in memory, metadata/state/quota_table.h)
//   "S/next_inode", "S/next_chunk" -> u64: first id not yet handed out in batches

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/proto/granary.pb.h"
#include "common/status.h"

namespace granary::metadata {

inline constexpr uint64_t kRootInode = 1;
inline constexpr std::string_view kNextInodeKey = "S/next_inode";
inline constexpr std::string_view kNextChunkKey = "S/next_chunk";

// Big-endian u64, the id encoding inside keys and of the counters' values.
void AppendU64(std::string* out, uint64_t v);
std::string EncodeU64(uint64_t v);
// CORRUPTION unless `bytes` is exactly 8 bytes.
Result<uint64_t> DecodeU64(std::string_view bytes);

std::string InodeKey(uint64_t inode);
std::string_view InodePrefix();  // every inode
// The id from an inode key; nullopt when `key` is not one.
std::optional<uint64_t> InodeFromKey(std::string_view key);

std::string DentryPrefix(uint64_t parent);
std::string DentryKey(uint64_t parent, std::string_view name);
// The name part of a dentry key (the key must start with DentryPrefix).
std::string_view DentryNameFromKey(std::string_view key);

std::string ChunkPrefix(uint64_t inode);
std::string_view AllChunksPrefix();
std::string_view AllPendingChunksPrefix();
std::string ChunkKey(uint64_t inode, uint64_t index);
std::string PendingChunkPrefix(uint64_t inode);
std::string PendingChunkKey(uint64_t inode, uint64_t index);
// The chunk index of a "C" or "P" key; nullopt when malformed.
std::optional<uint64_t> ChunkIndexFromKey(std::string_view key);

std::string_view NodePrefix();
std::string NodeKey(std::string_view node_id);

// Node ids are at most this long so that the garbage key can length-prefix them.
inline constexpr size_t kMaxNodeIdBytes = 255;
std::string GarbagePrefix(std::string_view node_id);
std::string GarbageKey(std::string_view node_id, uint64_t chunk_id, uint64_t version);
// The replica named by a garbage key of `node_id`; nullopt when malformed.
std::optional<proto::ChunkRef> ChunkRefFromGarbageKey(std::string_view node_id,
                                                      std::string_view key);

// Extended attributes of one inode sort by name under XattrPrefix.
std::string XattrPrefix(uint64_t inode);
std::string XattrKey(uint64_t inode, std::string_view name);
// The name part of an xattr key (the key must start with XattrPrefix).
std::string_view XattrNameFromKey(std::string_view key);

std::string InlineDataKey(uint64_t inode);

std::string_view QuotaPrefix();
std::string QuotaKey(uint64_t inode);

// The trash, sorted by expiry: purging expired entries scans a prefix.
std::string_view TrashPrefix();
std::string TrashKey(int64_t expires_ms, uint64_t inode);
std::string_view OrphanPrefix();  // every orphan
std::string OrphanKey(uint64_t inode);
// The inode of an orphan key; nullopt when `key` is not one.
std::optional<uint64_t> OrphanFromKey(std::string_view key);

// The value of a "D" key: what readdir needs without loading the child.
struct Dentry {
  uint64_t inode = 0;
  proto::InodeType type = proto::INODE_UNKNOWN;
};
std::string EncodeDentry(const Dentry& d);
Result<Dentry> DecodeDentry(std::string_view bytes);

}  // namespace granary::metadata
