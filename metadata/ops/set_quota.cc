// SetQuota and ListQuotas: folder quotas (metadata/state/quota_table.h).
//
// Setting a quota counts what the folder's subtree already holds (a walk of
// every entry below it) and stores the limits ("Q" key); usage is then kept
// current by the operations themselves (quota_charge.h). A quota may be set
// below current usage: nothing is removed, but nothing may grow until usage
// drops under it.

#include <fmt/format.h>

#include <algorithm>

#include "common/log.h"
#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"
#include "metadata/state/quota_usage.h"

namespace granary::metadata {
namespace {

// The path of folder `dir`, built from its parent chain (each name found by
// scanning the parent's entries: an admin listing, not a hot path).
Result<std::string> PathOf(KvStore& kv, uint64_t dir) {
  std::vector<std::string> names;
  uint64_t at = dir;
  for (int depth = 0; at != kRootInode; ++depth) {
    if (depth > 4096) return Status::Corruption(fmt::format("folder {} has no path to /", dir));
    ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(kv, at));
    const uint64_t parent = rec.inode.parent();
    ASSIGN_OR_RETURN(std::vector<KvPair> entries, ScanAll(kv, KeyRange::Prefix(DentryPrefix(parent))));
    bool found = false;
    for (const KvPair& p : entries) {
      ASSIGN_OR_RETURN(Dentry d, DecodeDentry(p.value));
      if (d.inode == at) {
        names.emplace_back(DentryNameFromKey(p.key));
        found = true;
        break;
      }
    }
    if (!found) return Status::NotFound(fmt::format("folder {} is not linked into the tree", dir));
    at = parent;
  }
  std::string path;
  for (auto it = names.rbegin(); it != names.rend(); ++it) path += "/" + *it;
  return path.empty() ? "/" : path;
}

proto::QuotaInfo Describe(uint64_t dir, const Quota& q, std::string path) {
  proto::QuotaInfo info;
  info.set_inode(dir);
  info.set_path(std::move(path));
  info.set_max_bytes(q.max_bytes);
  info.set_max_files(q.max_files);
  info.set_used_bytes(static_cast<uint64_t>(std::max<int64_t>(q.used_bytes, 0)));
  info.set_used_files(static_cast<uint64_t>(std::max<int64_t>(q.used_files, 0)));
  return info;
}

}  // namespace

Status SetQuota(MetaState& s, const proto::SetQuotaRequest& req, proto::SetQuotaResponse* resp) {
  proto::ResolveRequest rr;
  rr.set_path(req.path());
  proto::ResolveResponse found;
  RETURN_IF_ERROR(Resolve(s, rr, &found));
  RETURN_IF_ERROR(RequireDir(found.inode()));
  const uint64_t dir = found.inode().id();
  if (req.max_bytes() == 0 && req.max_files() == 0) {
    KvTxn txn;
    txn.Delete(QuotaKey(dir));
    RETURN_IF_ERROR(s.kv().Commit(txn, CommitOptions{.sync = true}));
    s.quotas().Remove(dir);
    *resp->mutable_quota() = Describe(dir, Quota{}, req.path());
    LOG_INFO("quota of {} (folder {}) removed", req.path(), dir);
    return Status::Ok();
  }
  proto::QuotaInfo limits;
  limits.set_inode(dir);
  limits.set_max_bytes(req.max_bytes());
  limits.set_max_files(req.max_files());
  KvTxn txn;
  txn.ExpectPresent(InodeKey(dir));
  txn.Put(QuotaKey(dir), limits.SerializeAsString());
  RETURN_IF_ERROR(s.kv().Commit(txn, CommitOptions{.sync = true}));
  // Counted after the limits are stored: an operation that ran in between
  // is in the count (the walk sees it) whether or not it charged the table.
  s.quotas().Set(dir, Quota{req.max_bytes(), req.max_files(), 0, 0});
  ASSIGN_OR_RETURN(SubtreeUsage used, CountSubtree(s.kv(), dir));
  Quota q{req.max_bytes(), req.max_files(), used.bytes, used.files};
  s.quotas().Set(dir, q);
  *resp->mutable_quota() = Describe(dir, q, req.path());
  LOG_INFO("quota of {} (folder {}): {} bytes, {} files; {} bytes and {} files used", req.path(),
           dir, q.max_bytes, q.max_files, q.used_bytes, q.used_files);
  return Status::Ok();
}

Status ListQuotas(MetaState& s, const proto::ListQuotasRequest& /*req*/,
                  proto::ListQuotasResponse* resp) {
  for (const auto& [dir, q] : s.quotas().List()) {
    Result<std::string> path = PathOf(s.kv(), dir);
    *resp->add_quotas() = Describe(dir, q, path.ok() ? *path : "(folder " + std::to_string(dir) + ")");
  }
  std::sort(resp->mutable_quotas()->begin(), resp->mutable_quotas()->end(),
            [](const proto::QuotaInfo& a, const proto::QuotaInfo& b) { return a.path() < b.path(); });
  return Status::Ok();
}

}  // namespace granary::metadata
