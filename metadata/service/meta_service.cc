#include "metadata/service/meta_service.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <future>
#include <type_traits>

#include "common/log.h"
#include "metadata/ops/ops.h"

namespace granary::metadata {

MetaService::MetaService(MetaState& state, MetaServiceOptions options)
    : state_(state),
      options_(options),
      pool_(static_cast<size_t>(std::max(1, options.worker_threads))),
      upkeep_strand_(asio::make_strand(pool_.get_executor())),
      upkeep_timer_(upkeep_strand_) {}

MetaService::~MetaService() {
  Status st = Stop();
  if (!st.ok()) LOG_ERROR("stopping metadata service: {}", st.ToString());
}

namespace {

// Whether a request may run on the I/O thread that received it. Reads and
// commits that do not wait for a WAL fsync (lazy_sync) take microseconds; the
// hop to a worker and back costs two thread wake-ups, which on a small
// machine is most of a round trip (a FUSE create or stat pays it several
// times). Synced commits wait for the group fsync and go to the workers.
template <class Req>
bool RunsInline(proto::Method method, const Req& req) {
  if constexpr (requires { req.lazy_sync(); }) {
    if (req.lazy_sync()) return true;
  }
  switch (method) {
    case proto::META_RESOLVE:
    case proto::META_LOOKUP:
    case proto::META_GETATTR:
    case proto::META_READDIR:
    case proto::META_OPEN:
    case proto::META_GET_LAYOUT:
    case proto::META_STATFS:
    case proto::META_GET_XATTR:
    case proto::META_LIST_XATTR:
    case proto::META_KEEP_ALIVE:
    case proto::META_LIST_NODES:
      return true;
    default:
      return false;
  }
}

}  // namespace

template <class Req, class Resp>
void MetaService::Add(net::RpcServer& server, proto::Method method,
                      Status (*op)(MetaState&, const Req&, Resp*)) {
  server.Add<Req, Resp>(
      method, [this, op, method](net::CallContext& ctx, const Req& req,
                                 Resp* resp) -> net::Awaitable<Status> {
        // The operation; an exception becomes an INTERNAL error.
        auto apply = [this, op, method, &req, resp]() -> Status {
          try {
            return op(state_, req, resp);
          } catch (const std::exception& e) {
            LOG_ERROR("{} failed with an exception: {}", proto::Method_Name(method), e.what());
            return Status::Internal(std::string("metadata operation failed: ") + e.what());
          }
        };
        // META_OPEN is a read for the per-method check (readers need it),
        // but opening for write takes the file's lease, which would let a
        // read-only key lock writers out.
        if constexpr (std::is_same_v<Req, proto::OpenRequest>) {
          if (req.write() && ctx.role == net::KeyRole::kReadOnly) {
            co_return Status::PermissionDenied(
                "read-only key: opening inode " + std::to_string(req.inode()) +
                " for write needs a key with role rw or cluster");
          }
        }
        if (options_.inline_fast_ops && RunsInline(method, req)) co_return apply();
        // Hop to the worker pool for the blocking part; co_spawn with
        // use_awaitable resumes this coroutine on the I/O executor afterwards.
        auto run = [&apply]() -> net::Awaitable<Status> { co_return apply(); };
        // Failures are logged by the RPC server with the call's trace id.
        co_return co_await asio::co_spawn(pool_.get_executor(), std::move(run),
                                          asio::use_awaitable);
      });
}

void MetaService::RegisterHandlers(net::RpcServer& server) {
  Add(server, proto::META_RESOLVE, &Resolve);
  Add(server, proto::META_LOOKUP, &Lookup);
  Add(server, proto::META_GETATTR, &GetAttr);
  Add(server, proto::META_MKDIR, &Mkdir);
  Add(server, proto::META_CREATE, &Create);
  Add(server, proto::META_UNLINK, &Unlink);
  Add(server, proto::META_RMDIR, &Rmdir);
  Add(server, proto::META_RENAME, &Rename);
  Add(server, proto::META_READDIR, &ReadDir);
  Add(server, proto::META_SETATTR, &SetAttr);
  Add(server, proto::META_OPEN, &Open);
  Add(server, proto::META_ALLOCATE_CHUNK, &AllocateChunk);
  Add(server, proto::META_COMMIT_CHUNK, &CommitChunk);
  Add(server, proto::META_CLOSE, &Close);
  Add(server, proto::META_GET_LAYOUT, &GetLayout);
  Add(server, proto::META_STATFS, &StatFs);
  Add(server, proto::META_SYMLINK, &Symlink);
  Add(server, proto::META_SET_XATTR, &SetXattr);
  Add(server, proto::META_GET_XATTR, &GetXattr);
  Add(server, proto::META_LIST_XATTR, &ListXattr);
  Add(server, proto::META_REMOVE_XATTR, &RemoveXattr);
  Add(server, proto::META_RELEASE_ORPHAN, &ReleaseOrphan);
  Add(server, proto::META_KEEP_ALIVE, &KeepAlive);
  Add(server, proto::META_SYNC, &Sync);
  Add(server, proto::META_REGISTER_NODE, &RegisterNode);
  Add(server, proto::META_HEARTBEAT, &Heartbeat);
  Add(server, proto::META_LIST_NODES, &ListNodes);
  Add(server, proto::META_REPORT_REPLICAS, &ReportReplicas);
  Add(server, proto::META_REPAIR_STATUS, &RepairStatus);
  Add(server, proto::META_NODE_ADMIN, &NodeAdmin);
  Add(server, proto::META_TRASH_LIST, &TrashList);
  Add(server, proto::META_TRASH_RESTORE, &TrashRestore);
  Add(server, proto::META_TRASH_PURGE, &TrashPurge);
  Add(server, proto::META_SET_QUOTA, &SetQuota);
  Add(server, proto::META_LIST_QUOTAS, &ListQuotas);
  Add(server, proto::META_BACKUP_BEGIN, &BackupBegin);
  Add(server, proto::META_BACKUP_RENEW, &BackupRenew);
  Add(server, proto::META_BACKUP_END, &BackupEnd);
  Add(server, proto::META_BACKUP_LIST, &BackupList);
  Add(server, proto::META_BACKUP_METADATA, &BackupMetadata);
}

void MetaService::Start() {
  asio::co_spawn(upkeep_strand_, MaintenanceLoop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      LOG_ERROR("metadata upkeep stopped: {}", ex.what());
    }
  });
  repairer_ = std::make_unique<Repairer>(state_, pool_.get_executor(), options_.cluster_key);
  asio::co_spawn(repairer_->strand(), repairer_->Run(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      LOG_ERROR("repair loop stopped: {}", ex.what());
    }
  });
}

net::Awaitable<void> MetaService::MaintenanceLoop() {
  while (!stopping_) {
    upkeep_timer_.expires_after(options_.maintenance_interval);
    // Cancellation (Stop) and expiry both lead to the stopping_ check.
    co_await upkeep_timer_.async_wait(net::kUseTuple);
    if (stopping_) break;
    Status st = state_.Maintain(/*final=*/false);
    if (!st.ok()) LOG_WARN("metadata upkeep: {}", st.ToString());
  }
}

Status MetaService::Stop() {
  if (stopped_) return Status::Ok();
  stopped_ = true;
  stopping_ = true;
  // The timer belongs to the strand: cancel it there.
  asio::post(upkeep_strand_, [this] { upkeep_timer_.cancel(); });
  if (repairer_) repairer_->Stop();
  pool_.join();
  return state_.Maintain(/*final=*/true);
}

}  // namespace granary::metadata
