// Resolve: absolute path -> inode, walking one directory entry per component.
// Read-only; each step reads one dentry (which carries the child's type), so a
// path of depth d costs d point reads plus the final inode.

#include <fmt/format.h>

#include <vector>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

Status Resolve(MetaState& s, const proto::ResolveRequest& req, proto::ResolveResponse* resp) {
  const std::string& path = req.path();
  if (path.empty() || path[0] != '/') {
    return Status::InvalidArgument(fmt::format("path '{}' is not absolute", path));
  }
  if (path.size() > kMaxPathBytes) {
    return Status::NameTooLong(
        fmt::format("path of {} bytes exceeds the limit of {} bytes", path.size(), kMaxPathBytes));
  }
  // Split and validate every component before reading anything, so that a
  // malformed path is INVALID_ARGUMENT whatever exists. Empty components ("//",
  // a trailing '/') are skipped, as POSIX does. `ends[i]` is where the prefix
  // up to component i ends, for messages.
  std::vector<std::string_view> names;
  std::vector<size_t> ends;
  for (size_t pos = 1; pos <= path.size();) {
    size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    std::string_view name(path.data() + pos, end - pos);
    pos = end + 1;
    if (name.empty()) continue;
    Status valid = ValidateName(name);
    if (!valid.ok()) return valid.WithContext(fmt::format("in path '{}'", path));
    names.push_back(name);
    ends.push_back(end);
  }
  uint64_t current = kRootInode;
  proto::InodeType type = proto::INODE_DIR;
  for (size_t i = 0; i < names.size(); ++i) {
    if (type != proto::INODE_DIR) {
      return Status::NotDirectory(
          fmt::format("'{}' is not a directory", std::string_view(path.data(), ends[i - 1])));
    }
    ASSIGN_OR_RETURN(std::optional<DentryRecord> d, LoadDentry(s.kv(), current, names[i]));
    if (!d) {
      return Status::NotFound(
          fmt::format("'{}' does not exist", std::string_view(path.data(), ends[i])));
    }
    current = d->dentry.inode;
    type = d->dentry.type;
  }
  ASSIGN_OR_RETURN(std::optional<InodeRecord> rec, LoadInode(s.kv(), current));
  // A concurrent unlink can remove the inode between the dentry and this read.
  if (!rec) return Status::NotFound(fmt::format("'{}' does not exist", path));
  *resp->mutable_inode() = Visible(s, std::move(rec->inode));
  return Status::Ok();
}

}  // namespace granary::metadata
