#pragma once
// KvStore: the small transactional key-value interface the namespace lives on.
//
// Everything metad persists goes through this interface, so the embedded
// RocksDB store (RocksDbKv) can later be replaced by etcd behind stateless metad
// instances (docs/metadata_schema.md, "Growing past one machine" in the design).
// The interface is therefore limited to what an etcd v3 transaction can express:
//
//   Get(key)                     -> etcd Range(key)
//   Scan([start, end), limit)    -> etcd Range(start, end, limit)
//   Commit(checks, writes, sync) -> etcd Txn(If: compares, Then: puts/deletes)
//
// Checks are evaluated and writes applied atomically: either every check holds
// and every write is applied, or nothing is written and Commit returns
// STALE_VERSION (retryable) naming the first check that failed. Callers read,
// decide, then commit with checks that pin what they read (optimistic
// concurrency), and retry on STALE_VERSION.
//
// Keys and values are arbitrary bytes; keys sort bytewise (unsigned).
// Thread safety: every method may be called concurrently from any thread.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace granary::metadata {

struct KvPair {
  std::string key;
  std::string value;
};

// A half-open key range [start, end). An empty `end` means "to the end of the
// key space".
struct KeyRange {
  std::string start;
  std::string end;

  // Every key that begins with `prefix`.
  static KeyRange Prefix(std::string_view prefix);
  // Keys in `prefix` that sort strictly after prefix + `after`.
  static KeyRange PrefixAfter(std::string_view prefix, std::string_view after);
  bool Contains(std::string_view key) const;
};

// The smallest key greater than every key that begins with `prefix`; empty when
// none exists (prefix is all 0xff bytes).
std::string PrefixSuccessor(std::string_view prefix);

// One precondition of a transaction.
struct KvCheck {
  enum class Kind {
    kAbsent,     // `key` does not exist           (etcd: version(key) == 0)
    kPresent,    // `key` exists, any value         (etcd: version(key) > 0)
    kEquals,     // `key` exists and holds `value`  (etcd: value(key) == value)
    kRangeEmpty  // no key in `range`               (etcd: version(start, end) == 0)
  };
  Kind kind = Kind::kAbsent;
  std::string key;
  std::string value;
  KeyRange range;
};

struct KvWrite {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;
};

// A transaction under construction: checks plus writes. Writes apply in order,
// so a later write to the same key wins.
class KvTxn {
 public:
  void ExpectAbsent(std::string key);
  void ExpectPresent(std::string key);
  void ExpectEquals(std::string key, std::string value);
  // `expected` empty means the key must be absent: the form "what I read".
  void ExpectValue(std::string key, const std::optional<std::string>& expected);
  void ExpectRangeEmpty(KeyRange range);

  void Put(std::string key, std::string value);
  void Delete(std::string key);

  const std::vector<KvCheck>& checks() const { return checks_; }
  const std::vector<KvWrite>& writes() const { return writes_; }
  bool empty() const { return writes_.empty(); }

 private:
  std::vector<KvCheck> checks_;
  std::vector<KvWrite> writes_;
};

struct CommitOptions {
  // On stable storage before Commit returns. Namespace changes set it unless
  // the client asked for lazy durability (lazy_sync: the change may be lost by
  // a machine crash before the next Sync or synced commit, never by a crash
  // of metad alone). Otherwise a lost unsynced write is only acceptable for
  // data metad can rebuild or that is safe to repeat (directory times,
  // handed-out deletions).
  bool sync = true;
};

// A read-only view of the whole store as of the moment it was taken: later
// commits are invisible to it. Used by backup sessions (ops/backup_*.cc), so
// a backup reads one consistent namespace while the cluster keeps changing.
// A snapshot pins old versions of what changes later (RocksDB keeps them out
// of compaction; the in-memory store keeps a copy): release it soon. After
// the store closes, its methods return UNAVAILABLE.
// Thread safety: every method may be called concurrently from any thread.
class KvSnapshot {
 public:
  virtual ~KvSnapshot() = default;
  // As KvStore::Get and KvStore::Scan, as of the snapshot.
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  virtual Result<std::vector<KvPair>> Scan(const KeyRange& range, size_t limit) = 0;
};

class KvStore {
 public:
  virtual ~KvStore() = default;

  // The value, std::nullopt when the key does not exist, or an IO_ERROR /
  // CORRUPTION from the store.
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;

  // Up to `limit` pairs of `range` in key order (limit 0 = no limit; callers
  // should page with a limit).
  virtual Result<std::vector<KvPair>> Scan(const KeyRange& range, size_t limit) = 0;

  // Applies `txn` atomically (see the file comment). STALE_VERSION when a check
  // failed: nothing was written. Other errors: the store failed, and nothing
  // was written either.
  virtual Status Commit(const KvTxn& txn, const CommitOptions& options) = 0;

  // Makes every commit that returned before this call durable, unsynced ones
  // included (sync = false commits are otherwise durable only at the next
  // synced commit). IO_ERROR when the store cannot sync.
  virtual Status Sync() = 0;

  // A snapshot of every commit that returned before this call (synced
  // commits are durable first, as for Get). Released when the last reference
  // goes. IO_ERROR / UNAVAILABLE from the store.
  virtual Result<std::shared_ptr<KvSnapshot>> NewSnapshot() = 0;
};

// Evaluates one check with the store's own point read and range probe. Shared
// by the stores so that every store gives each check kind the same meaning.
// Returns OK, STALE_VERSION naming the check, or the read error.
using KvGetFn = std::function<Result<std::optional<std::string>>(std::string_view key)>;
using KvRangeEmptyFn = std::function<Result<bool>(const KeyRange& range)>;
Status EvaluateCheck(const KvCheck& check, const KvGetFn& get, const KvRangeEmptyFn& range_empty);

// The error Commit returns when a check fails: STALE_VERSION, retryable.
Status KvConflict(std::string message);

// Keys are binary; this renders one for messages and logs ("D\x00\x00..\x01name").
std::string PrintableKey(std::string_view key);

}  // namespace granary::metadata
