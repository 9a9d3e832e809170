// BackupBegin, BackupRenew, BackupEnd: the life of a backup session
// (state/backup_sessions.h). Begin snapshots the store; the snapshot and the
// hold on replica deletions last until End or until the lease runs out.

#include <fmt/format.h>

#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {
namespace {
// A client may ask for a lease in this range; a longer one would keep
// deletions held for long after a client vanished.
constexpr uint64_t kMinLeaseMs = 1000;
constexpr uint64_t kMaxLeaseMs = 600000;
}  // namespace

Status BackupBegin(MetaState& s, const proto::BackupBeginRequest& req,
                   proto::BackupBeginResponse* resp) {
  RETURN_IF_ERROR(ValidateClientIdField(req.client_id(), "client_id"));
  uint64_t lease = req.lease_ms() == 0 ? static_cast<uint64_t>(s.options().backup_lease_ms)
                                       : req.lease_ms();
  if (lease < kMinLeaseMs || lease > kMaxLeaseMs) {
    return Status::InvalidArgument(
        fmt::format("lease_ms {} is outside {}..{}", lease, kMinLeaseMs, kMaxLeaseMs));
  }
  // Folder times changed by creates and unlinks wait in memory for upkeep
  // (DirTimes); write them now so the snapshot holds what getattr shows.
  Status flushed = s.dir_times().Flush();
  if (!flushed.ok() && flushed.code() != proto::STALE_VERSION) return flushed;
  ASSIGN_OR_RETURN(std::shared_ptr<KvSnapshot> snap, s.kv().NewSnapshot());
  const int64_t now = s.clock().SteadyMs();
  const uint64_t id = s.backups().Begin(req.client_id(), std::move(snap), now,
                                        static_cast<int64_t>(lease));
  resp->set_session_id(id);
  resp->set_lease_ms(lease);
  resp->set_snapshot_unix_ms(s.clock().WallMs());
  return Status::Ok();
}

Status BackupRenew(MetaState& s, const proto::BackupRenewRequest& req,
                   proto::BackupRenewResponse*) {
  if (!s.backups().Renew(req.session_id(), s.clock().SteadyMs())) {
    return Status::NotFound(fmt::format("backup session {} is not open (ended or expired)",
                                        req.session_id()));
  }
  return Status::Ok();
}

Status BackupEnd(MetaState& s, const proto::BackupEndRequest& req, proto::BackupEndResponse*) {
  if (!s.backups().End(req.session_id())) {
    return Status::NotFound(fmt::format("backup session {} is not open", req.session_id()));
  }
  return Status::Ok();
}

}  // namespace granary::metadata
