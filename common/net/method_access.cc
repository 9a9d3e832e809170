#include "common/net/method_access.h"

#include <fmt/format.h>

#include <array>
#include <utility>

#include "common/proto/auth.pb.h"
#include "common/proto/granary.pb.h"

namespace granary::net {
namespace {

using enum MethodAccess;

// Every method, once. META_OPEN is kRead although open-for-write takes a
// lease: readers need it, and every write the lease allows (allocate,
// commit, close, CHUNK_WRITE) is kWrite. META_KEEP_ALIVE only renews what
// the caller already holds; META_SYNC only forces the WAL to disk.
// META_REPORT_REPLICAS makes metad copy chunks, so read-only clients may not
// send it (their reads still fail over to good replicas).
constexpr std::array kTable = {
    std::pair{proto::METHOD_NONE, kCluster},
    std::pair{proto::META_RESOLVE, kRead},
    std::pair{proto::META_LOOKUP, kRead},
    std::pair{proto::META_GETATTR, kRead},
    std::pair{proto::META_MKDIR, kWrite},
    std::pair{proto::META_CREATE, kWrite},
    std::pair{proto::META_UNLINK, kWrite},
    std::pair{proto::META_RMDIR, kWrite},
    std::pair{proto::META_RENAME, kWrite},
    std::pair{proto::META_READDIR, kRead},
    std::pair{proto::META_SETATTR, kWrite},
    std::pair{proto::META_OPEN, kRead},
    std::pair{proto::META_ALLOCATE_CHUNK, kWrite},
    std::pair{proto::META_COMMIT_CHUNK, kWrite},
    std::pair{proto::META_CLOSE, kWrite},
    std::pair{proto::META_GET_LAYOUT, kRead},
    std::pair{proto::META_STATFS, kRead},
    std::pair{proto::META_SYMLINK, kWrite},
    std::pair{proto::META_SET_XATTR, kWrite},
    std::pair{proto::META_GET_XATTR, kRead},
    std::pair{proto::META_LIST_XATTR, kRead},
    std::pair{proto::META_REMOVE_XATTR, kWrite},
    std::pair{proto::META_RELEASE_ORPHAN, kWrite},
    std::pair{proto::META_KEEP_ALIVE, kRead},
    std::pair{proto::META_SYNC, kRead},
    std::pair{proto::META_REGISTER_NODE, kCluster},
    std::pair{proto::META_HEARTBEAT, kCluster},
    std::pair{proto::META_LIST_NODES, kRead},
    std::pair{proto::META_REPORT_REPLICAS, kWrite},
    std::pair{proto::META_REPAIR_STATUS, kRead},
    std::pair{proto::META_NODE_ADMIN, kCluster},
    std::pair{proto::META_TRASH_LIST, kRead},
    std::pair{proto::META_TRASH_RESTORE, kWrite},
    std::pair{proto::META_TRASH_PURGE, kWrite},
    std::pair{proto::META_SET_QUOTA, kCluster},  // an admin's decision
    std::pair{proto::META_LIST_QUOTAS, kRead},
    // A backup reads every record raw and holds back deletions: admins only.
    std::pair{proto::META_BACKUP_BEGIN, kCluster},
    std::pair{proto::META_BACKUP_RENEW, kCluster},
    std::pair{proto::META_BACKUP_END, kCluster},
    std::pair{proto::META_BACKUP_LIST, kCluster},
    std::pair{proto::META_BACKUP_METADATA, kCluster},
    std::pair{proto::CHUNK_WRITE, kWrite},
    std::pair{proto::CHUNK_READ, kRead},
    std::pair{proto::CHUNK_DELETE, kCluster},
    std::pair{proto::CHUNK_STAT, kRead},
    std::pair{proto::CHUNK_WARM, kRead},
    std::pair{proto::CHUNK_LIST, kCluster},
    std::pair{proto::CHUNK_REPLICATE, kCluster},
    std::pair{proto::PING, kRead},
};

// The handshake's ids (common/proto/auth.proto) are not proto::Method values.
constexpr std::array kHandshakeMethods = {uint16_t{proto::AUTH_HELLO},
                                          uint16_t{proto::AUTH_PROVE}};

}  // namespace

std::string MethodLabel(uint16_t method) {
  if (proto::AuthMethod_IsValid(method)) {
    return proto::AuthMethod_Name(static_cast<proto::AuthMethod>(method));
  }
  const std::string& n = proto::Method_Name(static_cast<proto::Method>(method));
  return n.empty() ? "method " + std::to_string(method) : n;
}

std::optional<MethodAccess> AccessOf(uint16_t method) {
  for (uint16_t m : kHandshakeMethods) {
    if (m == method) return kHandshake;
  }
  for (const auto& [m, access] : kTable) {
    if (m == method) return access;
  }
  return std::nullopt;
}

Status Authorize(KeyRole role, std::string_view key_id, uint16_t method) {
  const MethodAccess access = AccessOf(method).value_or(kCluster);
  switch (access) {
    case kRead:
      return Status::Ok();
    case kWrite:
      if (role != KeyRole::kReadOnly) return Status::Ok();
      return Status::PermissionDenied(
          fmt::format("read-only key '{}': {} changes data", key_id, MethodLabel(method)));
    case kCluster:
      if (role == KeyRole::kCluster) return Status::Ok();
      if (role == KeyRole::kReadOnly) {
        return Status::PermissionDenied(fmt::format(
            "read-only key '{}': {} needs a key with role cluster", key_id, MethodLabel(method)));
      }
      return Status::PermissionDenied(fmt::format("key '{}' (role {}): {} needs a key with role cluster",
                                                  key_id, KeyRoleName(role), MethodLabel(method)));
    case kHandshake:
      return Status::PermissionDenied(
          fmt::format("{} after the connection is authenticated", MethodLabel(method)));
  }
  return Status::Internal("unreachable");
}

}  // namespace granary::net
