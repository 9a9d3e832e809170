// ReadDir: one page of a folder's entries, sorted by name (the key order),
// each with its full inode (readdirplus), resuming after `start_after`.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {
namespace {
constexpr uint32_t kMaxPage = 1000;
}  // namespace

Status ReadDir(MetaState& s, const proto::ReadDirRequest& req, proto::ReadDirResponse* resp) {
  if (req.start_after().size() > kMaxNameBytes) {
    return Status::NameTooLong(fmt::format("start_after of {} bytes exceeds {} bytes",
                                           req.start_after().size(), kMaxNameBytes));
  }
  ASSIGN_OR_RETURN(InodeRecord dir, LoadExistingInode(s.kv(), req.inode()));
  RETURN_IF_ERROR(RequireDir(dir.inode));
  const uint32_t limit = req.limit() == 0 ? kMaxPage : std::min(req.limit(), kMaxPage);
  KeyRange range = KeyRange::PrefixAfter(DentryPrefix(req.inode()), req.start_after());
  // One extra entry tells whether another page follows.
  ASSIGN_OR_RETURN(std::vector<KvPair> page, s.kv().Scan(range, limit + 1));
  resp->set_has_more(page.size() > limit);
  if (page.size() > limit) page.resize(limit);
  for (const KvPair& kvp : page) {
    ASSIGN_OR_RETURN(Dentry d, DecodeDentry(kvp.value));
    ASSIGN_OR_RETURN(std::optional<InodeRecord> child, LoadInode(s.kv(), d.inode));
    if (!child) continue;  // unlinked since the scan
    proto::DirEntry* e = resp->add_entries();
    e->set_name(std::string(DentryNameFromKey(kvp.key)));
    *e->mutable_inode() = Visible(s, std::move(child->inode));
  }
  return Status::Ok();
}

}  // namespace granary::metadata
