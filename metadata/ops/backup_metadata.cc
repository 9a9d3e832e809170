// BackupMetadata: one page of the raw key/value pairs of a backup session's
// snapshot, in key order: the metadata checkpoint the backup stores.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {
namespace {
constexpr uint64_t kDefaultPageBytes = 1u << 20;
// Well below the 8 MiB message limit, with room for the field overheads.
constexpr uint64_t kMaxPageBytes = 4u << 20;
constexpr size_t kScanBatch = 512;
// No key is longer: dentry keys are the longest (1 + 8 + 255 bytes).
constexpr size_t kMaxKeyBytes = 1024;
}  // namespace

Status BackupMetadata(MetaState& s, const proto::BackupMetadataRequest& req,
                      proto::BackupMetadataResponse* resp) {
  std::shared_ptr<KvSnapshot> snap = s.backups().Find(req.session_id(), s.clock().SteadyMs());
  if (!snap) {
    return Status::NotFound(fmt::format("backup session {} is not open", req.session_id()));
  }
  if (req.after_key().size() > kMaxKeyBytes) {
    return Status::InvalidArgument(
        fmt::format("after_key of {} bytes exceeds {}", req.after_key().size(), kMaxKeyBytes));
  }
  const uint64_t budget = req.max_bytes() == 0 ? kDefaultPageBytes
                                               : std::min(req.max_bytes(), kMaxPageBytes);
  // The smallest key after after_key is after_key + '\0'.
  KeyRange range;
  if (req.started()) range.start = req.after_key() + std::string(1, '\0');
  uint64_t bytes = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<KvPair> batch, snap->Scan(range, kScanBatch));
    for (KvPair& kvp : batch) {
      // At least one pair per page, so a single large value still moves on.
      if (bytes > 0 && bytes + kvp.key.size() + kvp.value.size() > budget) {
        resp->set_more(true);
        return Status::Ok();
      }
      bytes += kvp.key.size() + kvp.value.size();
      range.start = kvp.key + std::string(1, '\0');
      proto::BackupKv* out = resp->add_pairs();
      out->set_key(std::move(kvp.key));
      out->set_value(std::move(kvp.value));
    }
    if (batch.size() < kScanBatch) return Status::Ok();
  }
}

}  // namespace granary::metadata
