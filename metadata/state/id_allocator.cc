#include "metadata/state/id_allocator.h"

#include "metadata/schema/keys.h"

namespace granary::metadata {

IdAllocator::IdAllocator(KvStore& kv, std::string key, uint64_t first_id, uint64_t batch)
    : kv_(kv), key_(std::move(key)), first_id_(first_id), batch_(batch == 0 ? 1 : batch) {}

Result<uint64_t> IdAllocator::Next() {
  std::lock_guard lock(mu_);
  if (next_ >= limit_) RETURN_IF_ERROR(Reserve());
  return next_++;
}

Status IdAllocator::Reserve() {
  // Compare-and-put: another metad sharing the store may reserve concurrently.
  constexpr int kAttempts = 64;
  Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    ASSIGN_OR_RETURN(std::optional<std::string> raw, kv_.Get(key_));
    uint64_t start = first_id_;
    if (raw) {
      ASSIGN_OR_RETURN(start, DecodeU64(*raw));
    }
    if (start > UINT64_MAX - batch_) return Status::ResourceExhausted("id space exhausted for " + key_);
    KvTxn txn;
    txn.ExpectValue(key_, raw);
    txn.Put(key_, EncodeU64(start + batch_));
    // Synced: an id handed out must never be handed out again after a crash.
    last = kv_.Commit(txn, CommitOptions{.sync = true});
    if (last.ok()) {
      next_ = start;
      limit_ = start + batch_;
      return Status::Ok();
    }
    if (last.code() != proto::STALE_VERSION) return last;
  }
  return last.WithContext("reserving ids for " + key_);
}

}  // namespace granary::metadata
