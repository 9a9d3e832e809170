#include "metadata/schema/keys.h"

#include <algorithm>

namespace granary::metadata {
namespace {

constexpr char kInodeTag = 'I';
constexpr char kDentryTag = 'D';
constexpr char kChunkTag = 'C';
constexpr char kPendingTag = 'P';
constexpr char kNodeTag = 'N';
constexpr char kGarbageTag = 'G';
constexpr char kXattrTag = 'X';
constexpr char kInlineTag = 'L';
constexpr char kOrphanTag = 'O';
constexpr char kTrashTag = 'T';
constexpr char kQuotaTag = 'Q';

uint64_t LoadU64(std::string_view b) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(b[i]);
  return v;
}

std::string TagAndId(char tag, uint64_t id) {
  std::string k(1, tag);
  AppendU64(&k, id);
  return k;
}

}  // namespace

void AppendU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

std::string EncodeU64(uint64_t v) {
  std::string s;
  AppendU64(&s, v);
  return s;
}

Result<uint64_t> DecodeU64(std::string_view bytes) {
  if (bytes.size() != 8) {
    return Status::Corruption("counter value has " + std::to_string(bytes.size()) +
                              " bytes, expected 8");
  }
  return LoadU64(bytes);
}

std::string InodeKey(uint64_t inode) { return TagAndId(kInodeTag, inode); }
std::string_view InodePrefix() { return "I"; }

std::optional<uint64_t> InodeFromKey(std::string_view key) {
  if (key.size() != 9 || key[0] != kInodeTag) return std::nullopt;
  return LoadU64(key.substr(1));
}

std::string DentryPrefix(uint64_t parent) { return TagAndId(kDentryTag, parent); }

std::string DentryKey(uint64_t parent, std::string_view name) {
  std::string k = DentryPrefix(parent);
  k.append(name);
  return k;
}

std::string_view DentryNameFromKey(std::string_view key) {
  return key.size() <= 9 ? std::string_view() : key.substr(9);
}

std::string ChunkPrefix(uint64_t inode) { return TagAndId(kChunkTag, inode); }
std::string_view AllChunksPrefix() { return "C"; }
std::string_view AllPendingChunksPrefix() { return "P"; }

std::string ChunkKey(uint64_t inode, uint64_t index) {
  std::string k = ChunkPrefix(inode);
  AppendU64(&k, index);
  return k;
}

std::string PendingChunkPrefix(uint64_t inode) { return TagAndId(kPendingTag, inode); }

std::string PendingChunkKey(uint64_t inode, uint64_t index) {
  std::string k = PendingChunkPrefix(inode);
  AppendU64(&k, index);
  return k;
}

std::optional<uint64_t> ChunkIndexFromKey(std::string_view key) {
  if (key.size() != 17 || (key[0] != kChunkTag && key[0] != kPendingTag)) return std::nullopt;
  return LoadU64(key.substr(9));
}

std::string_view NodePrefix() { return "N"; }

std::string NodeKey(std::string_view node_id) {
  std::string k(1, kNodeTag);
  k.append(node_id);
  return k;
}

std::string GarbagePrefix(std::string_view node_id) {
  // The length byte keeps node "ab" from owning the keys of node "abc".
  std::string k(1, kGarbageTag);
  k.push_back(static_cast<char>(node_id.size() & 0xff));
  k.append(node_id);
  return k;
}

std::string GarbageKey(std::string_view node_id, uint64_t chunk_id, uint64_t version) {
  std::string k = GarbagePrefix(node_id);
  AppendU64(&k, chunk_id);
  AppendU64(&k, version);
  return k;
}

std::optional<proto::ChunkRef> ChunkRefFromGarbageKey(std::string_view node_id,
                                                      std::string_view key) {
  std::string prefix = GarbagePrefix(node_id);
  if (key.size() != prefix.size() + 16 || key.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  proto::ChunkRef ref;
  ref.set_chunk_id(LoadU64(key.substr(prefix.size())));
  ref.set_version(LoadU64(key.substr(prefix.size() + 8)));
  return ref;
}

std::string XattrPrefix(uint64_t inode) { return TagAndId(kXattrTag, inode); }

std::string XattrKey(uint64_t inode, std::string_view name) {
  std::string k = XattrPrefix(inode);
  k.append(name);
  return k;
}

std::string_view XattrNameFromKey(std::string_view key) {
  return key.size() <= 9 ? std::string_view() : key.substr(9);
}

std::string InlineDataKey(uint64_t inode) { return TagAndId(kInlineTag, inode); }

std::string_view OrphanPrefix() { return "O"; }

std::string_view QuotaPrefix() { return "Q"; }
std::string QuotaKey(uint64_t inode) { return TagAndId(kQuotaTag, inode); }

std::string_view TrashPrefix() { return "T"; }
std::string TrashKey(int64_t expires_ms, uint64_t inode) {
  std::string k = TagAndId(kTrashTag, static_cast<uint64_t>(std::max<int64_t>(expires_ms, 0)));
  AppendU64(&k, inode);
  return k;
}
std::string OrphanKey(uint64_t inode) { return TagAndId(kOrphanTag, inode); }

std::optional<uint64_t> OrphanFromKey(std::string_view key) {
  if (key.size() != 9 || key[0] != kOrphanTag) return std::nullopt;
  return LoadU64(key.substr(1));
}

std::string EncodeDentry(const Dentry& d) {
  std::string v;
  AppendU64(&v, d.inode);
  v.push_back(static_cast<char>(d.type));
  return v;
}

Result<Dentry> DecodeDentry(std::string_view bytes) {
  if (bytes.size() != 9) {
    return Status::Corruption("directory entry value has " + std::to_string(bytes.size()) +
                              " bytes, expected 9");
  }
  Dentry d;
  d.inode = LoadU64(bytes);
  auto type = static_cast<unsigned char>(bytes[8]);
  if (!proto::InodeType_IsValid(type)) {
    return Status::Corruption("directory entry has unknown inode type " + std::to_string(type));
  }
  d.type = static_cast<proto::InodeType>(type);
  return d;
}

}  // namespace granary::metadata
