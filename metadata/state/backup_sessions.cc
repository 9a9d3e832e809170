#include "metadata/state/backup_sessions.h"

namespace granary::metadata {

uint64_t BackupSessions::Begin(std::string client_id, std::shared_ptr<KvSnapshot> snapshot,
                               int64_t now_ms, int64_t lease_ms) {
  std::lock_guard lock(mu_);
  DropExpired(now_ms);
  const uint64_t id = next_id_++;
  sessions_[id] = Session{std::move(client_id), std::move(snapshot), lease_ms, now_ms + lease_ms};
  return id;
}

bool BackupSessions::Renew(uint64_t id, int64_t now_ms) {
  std::lock_guard lock(mu_);
  DropExpired(now_ms);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  it->second.expires_ms = now_ms + it->second.lease_ms;
  return true;
}

bool BackupSessions::End(uint64_t id) {
  std::lock_guard lock(mu_);
  return sessions_.erase(id) > 0;
}

std::shared_ptr<KvSnapshot> BackupSessions::Find(uint64_t id, int64_t now_ms) {
  std::lock_guard lock(mu_);
  DropExpired(now_ms);
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.snapshot;
}

bool BackupSessions::AnyOpen(int64_t now_ms) { return Count(now_ms) > 0; }

size_t BackupSessions::Count(int64_t now_ms) {
  std::lock_guard lock(mu_);
  DropExpired(now_ms);
  return sessions_.size();
}

void BackupSessions::DropExpired(int64_t now_ms) {
  // A session is open up to and including its expiry instant.
  std::erase_if(sessions_, [now_ms](const auto& kv) { return kv.second.expires_ms < now_ms; });
}

}  // namespace granary::metadata
