#pragma once
// BackupSessions: the open backup sessions of this metad, in memory.
//
// Each session owns a KvSnapshot (the namespace as of BEGIN) and a lease that
// its client renews; a session past its lease counts as gone (a vanished
// client). While any session is open, metad holds back every replica
// deletion (heartbeat hand-outs and the orphan sweep), so every chunk version
// a snapshot names stays on its servers: the deletions stay queued (G keys)
// and go out once the last session ends or expires, deferred, never dropped.
//
// Sessions are not persisted: after a metad restart a backup must begin again
// (its client gets NOT_FOUND), and nothing is held back any more.
// Thread-safe: one mutex.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "metadata/kv/kv_store.h"

namespace granary::metadata {

class BackupSessions {
 public:
  // Registers a session over `snapshot`, open until now_ms + lease_ms unless
  // renewed. Returns its id (never 0, never reused in this process).
  uint64_t Begin(std::string client_id, std::shared_ptr<KvSnapshot> snapshot, int64_t now_ms,
                 int64_t lease_ms);
  // Extends an open session to now_ms + its lease. False when it is unknown,
  // ended or expired.
  bool Renew(uint64_t id, int64_t now_ms);
  // Ends a session and drops its snapshot. False when it was not open.
  bool End(uint64_t id);
  // The snapshot of an open session, null when unknown, ended or expired.
  std::shared_ptr<KvSnapshot> Find(uint64_t id, int64_t now_ms);
  // Whether replica deletions must wait: some session is open at now_ms.
  // Drops expired sessions (and their snapshots) on the way.
  bool AnyOpen(int64_t now_ms);
  // Open sessions at now_ms (tests, status).
  size_t Count(int64_t now_ms);

 private:
  struct Session {
    std::string client_id;
    std::shared_ptr<KvSnapshot> snapshot;
    int64_t lease_ms = 0;
    int64_t expires_ms = 0;
  };
  void DropExpired(int64_t now_ms);  // under mu_

  std::mutex mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Session> sessions_;
};

}  // namespace granary::metadata
