// SetXattr: creates or replaces one extended attribute, and sets the inode's
// ctime, in one transaction.
//
// The 1 MiB per-inode budget needs every attribute's size, so all of them are
// read and pinned: two concurrent sets cannot both squeeze under the limit.
// The inode is pinned and rewritten (ctime), so an unlink that frees it and
// its attributes conflicts with this instead of leaving a stray "X" key.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status SetXattr(MetaState& s, const proto::SetXattrRequest& req, proto::SetXattrResponse* resp) {
  RETURN_IF_ERROR(ValidateXattrName(req.name()));
  if (req.value().size() > kMaxXattrValueBytes) {
    return Status::InvalidArgument(fmt::format("value of {} bytes exceeds the limit of {} bytes",
                                               req.value().size(), kMaxXattrValueBytes));
  }
  if (!proto::XattrSetMode_IsValid(req.mode())) {
    return Status::InvalidArgument(fmt::format("mode = {} is not an XattrSetMode", +req.mode()));
  }
  const std::string key = XattrKey(req.inode(), req.name());
  return RunTxn(s, "setxattr", [&]() -> Status {
    ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(s.kv(), req.inode()));
    ASSIGN_OR_RETURN(std::vector<KvPair> xattrs, LoadXattrs(s.kv(), req.inode()));
    bool exists = false;
    size_t total = req.name().size() + req.value().size();
    for (const KvPair& p : xattrs) {
      if (p.key == key) {
        exists = true;
        continue;  // replaced: its old size does not count
      }
      total += XattrNameFromKey(p.key).size() + p.value.size();
    }
    if (exists && req.mode() == proto::XATTR_CREATE) {
      return Status::AlreadyExists(
          fmt::format("inode {} already has attribute '{}'", req.inode(), req.name()));
    }
    if (!exists && req.mode() == proto::XATTR_REPLACE) {
      return Status::NoAttribute(
          fmt::format("inode {} has no attribute '{}' to replace", req.inode(), req.name()));
    }
    if (total > kMaxXattrBytesPerInode) {
      return Status::ResourceExhausted(fmt::format(
          "attributes of inode {} would take {} bytes (names and values), over the limit of {}",
          req.inode(), total, kMaxXattrBytesPerInode));
    }
    proto::Inode updated = rec.inode;
    *updated.mutable_ctime() = s.clock().WallTimespec();
    KvTxn txn;
    txn.ExpectEquals(InodeKey(req.inode()), rec.raw);
    PinRange(txn, KeyRange::Prefix(XattrPrefix(req.inode())), xattrs);
    txn.Put(key, req.value());
    txn.Put(InodeKey(req.inode()), SerializeInode(updated));
    return s.kv().Commit(txn, s.CommitMode(req.lazy_sync()));
  });
}

}  // namespace granary::metadata
