#include "metadata/state/orphan_table.h"

#include "metadata/schema/keys.h"

namespace granary::metadata {

Status OrphanTable::Load(KvStore& kv) {
  KeyRange range = KeyRange::Prefix(OrphanPrefix());
  constexpr size_t kPage = 4096;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<KvPair> page, kv.Scan(range, kPage));
    for (KvPair& p : page) {
      std::optional<uint64_t> inode = OrphanFromKey(p.key);
      if (!inode) return Status::Corruption("malformed orphan key " + PrintableKey(p.key));
      Add(*inode, std::move(p.value));
    }
    if (page.size() < kPage) return Status::Ok();
    range.start = page.back().key + '\0';
  }
}

void OrphanTable::Add(uint64_t inode, std::string client_id) {
  std::lock_guard lock(mu_);
  orphans_.insert_or_assign(inode, Entry{std::move(client_id), clock_.SteadyMs()});
}

bool OrphanTable::Renew(uint64_t inode, std::string_view client_id) {
  std::lock_guard lock(mu_);
  auto it = orphans_.find(inode);
  if (it == orphans_.end() || it->second.client_id != client_id) return false;
  it->second.renewed_ms = clock_.SteadyMs();
  return true;
}

void OrphanTable::Remove(uint64_t inode) {
  std::lock_guard lock(mu_);
  orphans_.erase(inode);
}

std::vector<uint64_t> OrphanTable::Expired(int64_t ttl_ms) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.SteadyMs();
  std::vector<uint64_t> out;
  for (const auto& [inode, e] : orphans_) {
    if (now - e.renewed_ms >= ttl_ms) out.push_back(inode);
  }
  return out;
}

bool OrphanTable::IsExpired(uint64_t inode, int64_t ttl_ms) {
  std::lock_guard lock(mu_);
  auto it = orphans_.find(inode);
  return it != orphans_.end() && clock_.SteadyMs() - it->second.renewed_ms >= ttl_ms;
}

size_t OrphanTable::size() {
  std::lock_guard lock(mu_);
  return orphans_.size();
}

}  // namespace granary::metadata
