// Sync: makes every change committed so far durable (one WAL fsync shared
// with concurrent synced commits), the counterpart of lazy_sync commits.

#include "metadata/ops/ops.h"

namespace granary::metadata {

Status Sync(MetaState& s, const proto::SyncRequest& req, proto::SyncResponse* resp) {
  return s.SyncAll();
}

}  // namespace granary::metadata
