// BackupList: one page of a subtree as of a backup session's snapshot, depth
// first (an entry, then everything under it), names in key order, each entry
// with what a restore needs: the inode, committed chunks with replica
// addresses, inline contents and extended attributes.
//
// Paging without server state: `after` is the last path of the previous page.
// Since the snapshot never changes, walking `after`'s components again
// rebuilds the walk's stack exactly: for each ancestor, "continue after this
// child", and when `after` is a folder, "start inside it".

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {
namespace {

constexpr uint32_t kMaxEntries = 1000;
// Serialized entries per page: well under the 8 MiB message limit. A page
// holds at least one entry, so one file with a huge chunk map still moves on.
constexpr size_t kPageBytes = 4u << 20;
constexpr size_t kScanBatch = 128;

struct Frame {
  uint64_t dir = 0;
  std::string path;   // relative path of `dir`
  std::string after;  // last name done in `dir`; "" = none yet
};

std::string Join(std::string_view dir, std::string_view name) {
  return dir.empty() ? std::string(name) : std::string(dir) + "/" + std::string(name);
}

Result<proto::Inode> LoadSnapInode(KvSnapshot& snap, uint64_t id) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, snap.Get(InodeKey(id)));
  proto::Inode inode;
  if (!raw) return Status::NotFound(fmt::format("inode {} is not in the snapshot", id));
  if (!inode.ParseFromString(*raw) || inode.id() != id) {
    return Status::Corruption(fmt::format("inode record {} does not parse", id));
  }
  return inode;
}

// The child `name` of folder `dir` in the snapshot.
Result<Dentry> LookupSnap(KvSnapshot& snap, uint64_t dir, std::string_view name,
                          std::string_view what) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, snap.Get(DentryKey(dir, name)));
  if (!raw) return Status::NotFound(fmt::format("{}: {} is not in the snapshot", what, name));
  return DecodeDentry(*raw);
}

// Every pair under `prefix`, paged.
Result<std::vector<KvPair>> ScanSnap(KvSnapshot& snap, std::string prefix) {
  std::vector<KvPair> out;
  KeyRange range = KeyRange::Prefix(prefix);
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<KvPair> batch, snap.Scan(range, 1024));
    if (batch.empty()) return out;
    range.start = batch.back().key + std::string(1, '\0');
    const bool last = batch.size() < 1024;
    for (KvPair& p : batch) out.push_back(std::move(p));
    if (last) return out;
  }
}

Status FillEntry(MetaState& s, KvSnapshot& snap, std::string path, proto::Inode inode,
                 proto::BackupEntry* e) {
  e->set_path(std::move(path));
  const uint64_t id = inode.id();
  if (inode.type() == proto::INODE_FILE) {
    ASSIGN_OR_RETURN(std::vector<KvPair> chunks, ScanSnap(snap, ChunkPrefix(id)));
    for (const KvPair& p : chunks) {
      std::optional<uint64_t> index = ChunkIndexFromKey(p.key);
      if (!index) return Status::Corruption("chunk key " + PrintableKey(p.key));
      ASSIGN_OR_RETURN(proto::ChunkInfo c, DecodeStoredChunk(p.value, *index));
      s.nodes().FillAddresses(&c);
      *e->add_chunks() = std::move(c);
    }
    ASSIGN_OR_RETURN(std::optional<std::string> inline_data, snap.Get(InlineDataKey(id)));
    if (inline_data) {
      e->set_has_inline_data(true);
      e->set_inline_data(std::move(*inline_data));
    }
  }
  ASSIGN_OR_RETURN(std::vector<KvPair> xattrs, ScanSnap(snap, XattrPrefix(id)));
  for (const KvPair& p : xattrs) {
    proto::BackupXattr* x = e->add_xattrs();
    x->set_name(std::string(XattrNameFromKey(p.key)));
    x->set_value(p.value);
  }
  *e->mutable_inode() = std::move(inode);
  return Status::Ok();
}

// Splits a relative path into its names, each checked.
Result<std::vector<std::string>> SplitRelative(std::string_view path, std::string_view field) {
  std::vector<std::string> out;
  if (path.size() > kMaxPathBytes) {
    return Status::NameTooLong(fmt::format("{} of {} bytes", field, path.size()));
  }
  while (path.starts_with('/')) path.remove_prefix(1);
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view name = path.substr(0, slash);
    if (!name.empty()) {
      if (name.size() > kMaxNameBytes) {
        return Status::NameTooLong(fmt::format("{}: a name of {} bytes", field, name.size()));
      }
      out.emplace_back(name);
    }
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

Status BackupList(MetaState& s, const proto::BackupListRequest& req,
                  proto::BackupListResponse* resp) {
  std::shared_ptr<KvSnapshot> snap = s.backups().Find(req.session_id(), s.clock().SteadyMs());
  if (!snap) {
    return Status::NotFound(fmt::format("backup session {} is not open", req.session_id()));
  }
  const uint32_t limit = req.limit() == 0 ? kMaxEntries : std::min(req.limit(), kMaxEntries);

  // The subtree's root.
  ASSIGN_OR_RETURN(std::vector<std::string> root_names, SplitRelative(req.path(), "path"));
  uint64_t root = kRootInode;
  for (const std::string& name : root_names) {
    ASSIGN_OR_RETURN(Dentry d, LookupSnap(*snap, root, name, req.path()));
    root = d.inode;
  }
  ASSIGN_OR_RETURN(proto::Inode root_inode, LoadSnapInode(*snap, root));

  std::vector<Frame> stack;
  size_t bytes = 0;
  if (!req.started()) {
    const bool is_dir = root_inode.type() == proto::INODE_DIR;
    RETURN_IF_ERROR(FillEntry(s, *snap, "", std::move(root_inode), resp->add_entries()));
    bytes += resp->entries(0).ByteSizeLong();
    if (is_dir) stack.push_back({root, "", ""});
  } else {
    // Rebuild the walk after `after`.
    ASSIGN_OR_RETURN(std::vector<std::string> names, SplitRelative(req.after(), "after"));
    uint64_t dir = root;
    proto::InodeType type = root_inode.type();
    std::string path;
    for (const std::string& name : names) {
      if (type != proto::INODE_DIR) {
        return Status::InvalidArgument(fmt::format("after: {} is not a folder", path));
      }
      stack.push_back({dir, path, name});
      ASSIGN_OR_RETURN(Dentry d, LookupSnap(*snap, dir, name, "after"));
      dir = d.inode;
      type = d.type;
      path = Join(path, name);
    }
    if (type == proto::INODE_DIR) stack.push_back({dir, path, ""});
  }

  while (!stack.empty() && static_cast<uint32_t>(resp->entries_size()) < limit &&
         bytes < kPageBytes) {
    const size_t top = stack.size() - 1;
    KeyRange range = KeyRange::PrefixAfter(DentryPrefix(stack[top].dir), stack[top].after);
    ASSIGN_OR_RETURN(std::vector<KvPair> batch, snap->Scan(range, kScanBatch));
    if (batch.empty()) {
      stack.pop_back();
      continue;
    }
    for (const KvPair& p : batch) {
      const std::string name(DentryNameFromKey(p.key));
      ASSIGN_OR_RETURN(Dentry d, DecodeDentry(p.value));
      ASSIGN_OR_RETURN(proto::Inode child, LoadSnapInode(*snap, d.inode));
      const bool is_dir = child.type() == proto::INODE_DIR;
      std::string path = Join(stack[top].path, name);
      proto::BackupEntry* e = resp->add_entries();
      RETURN_IF_ERROR(FillEntry(s, *snap, path, std::move(child), e));
      bytes += e->ByteSizeLong();
      stack[top].after = name;
      if (is_dir) {
        // Depth first: the folder's entries come before its next sibling.
        stack.push_back({d.inode, std::move(path), ""});
        break;
      }
      if (static_cast<uint32_t>(resp->entries_size()) >= limit || bytes >= kPageBytes) break;
    }
  }
  resp->set_more(!stack.empty());
  return Status::Ok();
}

}  // namespace granary::metadata
