#include "metadata/state/quota_usage.h"

#include <fmt/format.h>

#include "common/log.h"
#include "metadata/schema/keys.h"
#include "metadata/schema/records.h"

namespace granary::metadata {
namespace {

// Deeper than any real tree; stops a damaged parent chain from looping.
constexpr int kMaxDepth = 4096;

}  // namespace

Result<std::vector<uint64_t>> QuotaDirsOf(KvStore& kv, const QuotaTable& quotas, uint64_t dir) {
  std::vector<uint64_t> dirs;
  if (quotas.empty()) return dirs;
  uint64_t at = dir;
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    if (quotas.Has(at)) dirs.push_back(at);
    if (at == kRootInode) return dirs;
    ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(kv, at));
    if (rec.inode.parent() == at || rec.inode.parent() == 0) return dirs;
    at = rec.inode.parent();
  }
  return Status::Corruption(fmt::format("folder {} is nested deeper than {} levels", dir, kMaxDepth));
}

Result<SubtreeUsage> CountSubtree(KvStore& kv, uint64_t dir) {
  constexpr size_t kPage = 1024;
  SubtreeUsage u;
  std::vector<uint64_t> todo{dir};
  while (!todo.empty()) {
    const uint64_t at = todo.back();
    todo.pop_back();
    KeyRange range = KeyRange::Prefix(DentryPrefix(at));
    for (;;) {
      ASSIGN_OR_RETURN(std::vector<KvPair> page, kv.Scan(range, kPage));
      for (const KvPair& p : page) {
        ASSIGN_OR_RETURN(Dentry d, DecodeDentry(p.value));
        ++u.files;
        if (d.type == proto::INODE_DIR) {
          todo.push_back(d.inode);
        } else if (d.type == proto::INODE_FILE) {
          ASSIGN_OR_RETURN(std::optional<InodeRecord> rec, LoadInode(kv, d.inode));
          if (rec) u.bytes += static_cast<int64_t>(rec->inode.size());
        }
      }
      if (page.size() < kPage) break;
      range.start = page.back().key + std::string(1, '\0');
    }
  }
  return u;
}

Status LoadQuotas(KvStore& kv, QuotaTable& quotas) {
  ASSIGN_OR_RETURN(std::vector<KvPair> records, ScanAll(kv, KeyRange::Prefix(QuotaPrefix())));
  for (const KvPair& p : records) {
    proto::QuotaInfo info;
    if (!info.ParseFromString(p.value)) {
      return Status::Corruption("quota record of folder " + std::to_string(info.inode()) +
                                " does not decode");
    }
    ASSIGN_OR_RETURN(SubtreeUsage used, CountSubtree(kv, info.inode()));
    quotas.Set(info.inode(), Quota{info.max_bytes(), info.max_files(), used.bytes, used.files});
    LOG_INFO("quota of folder {}: {} of {} bytes, {} of {} files", info.inode(), used.bytes,
             info.max_bytes(), used.files, info.max_files());
  }
  return Status::Ok();
}

}  // namespace granary::metadata
