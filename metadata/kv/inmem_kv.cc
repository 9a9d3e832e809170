#include "metadata/kv/inmem_kv.h"

namespace granary::metadata {
namespace {

class InMemSnapshot final : public KvSnapshot {
 public:
  explicit InMemSnapshot(std::map<std::string, std::string, std::less<>> data)
      : data_(std::move(data)) {}

  Result<std::optional<std::string>> Get(std::string_view key) override {
    auto it = data_.find(key);
    if (it == data_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Result<std::vector<KvPair>> Scan(const KeyRange& range, size_t limit) override {
    std::vector<KvPair> out;
    for (auto it = data_.lower_bound(range.start); it != data_.end(); ++it) {
      if (!range.end.empty() && it->first >= range.end) break;
      if (limit != 0 && out.size() >= limit) break;
      out.push_back({it->first, it->second});
    }
    return out;
  }

 private:
  const std::map<std::string, std::string, std::less<>> data_;  // immutable: no lock
};

}  // namespace

Result<std::shared_ptr<KvSnapshot>> InMemKv::NewSnapshot() {
  std::lock_guard lock(mu_);
  return std::shared_ptr<KvSnapshot>(std::make_shared<InMemSnapshot>(data_));
}

Result<std::optional<std::string>> InMemKv::Get(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = data_.find(key);
  if (it == data_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<std::vector<KvPair>> InMemKv::Scan(const KeyRange& range, size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<KvPair> out;
  for (auto it = data_.lower_bound(range.start); it != data_.end(); ++it) {
    if (!range.end.empty() && it->first >= range.end) break;
    if (limit != 0 && out.size() >= limit) break;
    out.push_back({it->first, it->second});
  }
  return out;
}

Status InMemKv::Commit(const KvTxn& txn, const CommitOptions& options) {
  std::lock_guard lock(mu_);
  auto get = [this](std::string_view key) -> Result<std::optional<std::string>> {
    auto it = data_.find(key);
    if (it == data_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  };
  auto range_empty = [this](const KeyRange& range) -> Result<bool> {
    auto it = data_.lower_bound(range.start);
    return it == data_.end() || !range.Contains(it->first);
  };
  for (const KvCheck& check : txn.checks()) RETURN_IF_ERROR(EvaluateCheck(check, get, range_empty));
  for (const KvWrite& w : txn.writes()) {
    if (w.kind == KvWrite::Kind::kPut) {
      data_.insert_or_assign(w.key, w.value);
    } else {
      auto it = data_.find(w.key);
      if (it != data_.end()) data_.erase(it);
    }
  }
  ++commits_;
  if (options.sync) ++synced_commits_;
  return Status::Ok();
}

Status InMemKv::Sync() {
  std::lock_guard lock(mu_);
  ++syncs_;
  return Status::Ok();
}

uint64_t InMemKv::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

uint64_t InMemKv::commits() const {
  std::lock_guard lock(mu_);
  return commits_;
}

uint64_t InMemKv::synced_commits() const {
  std::lock_guard lock(mu_);
  return synced_commits_;
}

}  // namespace granary::metadata
