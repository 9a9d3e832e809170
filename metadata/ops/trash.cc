// The trash: with MetaOptions::trash_ms > 0, unlink keeps a file's inode and
// chunks under a "T" record (sorted by expiry) instead of freeing them.
// TrashList pages through it, TrashRestore gives the file a name again,
// TrashPurge (and upkeep, once an entry expires) frees it the way unlink
// would have: inode, chunk records (replicas queued for deletion on their
// nodes), attributes and inline data, in one transaction.

#include <fmt/format.h>

#include "common/log.h"
#include "metadata/ops/op_util.h"
#include "metadata/ops/ops.h"
#include "metadata/ops/quota_charge.h"

namespace granary::metadata {
namespace {

constexpr uint32_t kDefaultListLimit = 1000;
constexpr uint32_t kMaxListLimit = 10000;
// Expired entries freed per upkeep round: upkeep must stay short.
constexpr size_t kPurgeBatch = 256;

struct Found {
  std::string key;
  std::string raw;
  proto::TrashEntry entry;
};

// The trash record of `inode` (a scan: the trash is keyed by expiry).
Result<std::optional<Found>> FindEntry(KvStore& kv, uint64_t inode) {
  KeyRange range = KeyRange::Prefix(TrashPrefix());
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<KvPair> page, kv.Scan(range, 1024));
    for (KvPair& kvp : page) {
      proto::TrashEntry e;
      if (!e.ParseFromString(kvp.value)) continue;
      if (e.inode() == inode) return std::optional<Found>(Found{kvp.key, kvp.value, e});
    }
    if (page.size() < 1024) return std::optional<Found>();
    range.start = page.back().key + std::string(1, '\0');
  }
}

// Frees one trashed file. False when it was no longer there (raced).
Result<bool> Purge(MetaState& s, const Found& f) {
  int64_t dropped = 0;
  bool removed = false;
  Status st = RunTxn(s, "trash purge", [&]() -> Status {
    dropped = 0;
    removed = false;
    ASSIGN_OR_RETURN(std::optional<std::string> now, s.kv().Get(f.key));
    if (!now) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<InodeRecord> rec, LoadInode(s.kv(), f.entry.inode()));
    KvTxn txn;
    txn.ExpectEquals(f.key, *now);
    txn.Delete(f.key);
    txn.ExpectValue(InodeKey(f.entry.inode()), rec ? std::optional(rec->raw) : std::nullopt);
    if (rec) txn.Delete(InodeKey(f.entry.inode()));
    ASSIGN_OR_RETURN(dropped, DropInodeContents(s.kv(), txn, f.entry.inode()));
    removed = true;
    return s.kv().Commit(txn, CommitOptions{.sync = true});
  });
  if (!st.ok()) return st;
  if (removed) {
    --s.inode_count;
    s.chunk_count -= dropped;
  }
  return removed;
}

}  // namespace

void MoveToTrash(MetaState& state, KvTxn& txn, const InodeRecord& rec, uint64_t parent,
                 const std::string& name) {
  proto::Inode kept = rec.inode;
  kept.set_nlink(0);
  *kept.mutable_ctime() = state.clock().WallTimespec();
  txn.ExpectEquals(InodeKey(kept.id()), rec.raw);
  txn.Put(InodeKey(kept.id()), SerializeInode(kept));
  proto::TrashEntry e;
  e.set_inode(kept.id());
  e.set_parent(parent);
  e.set_name(name);
  e.set_deleted_ms(state.clock().WallMs());
  e.set_expires_ms(e.deleted_ms() + state.options().trash_ms);
  e.set_size(kept.size());
  txn.Put(TrashKey(e.expires_ms(), kept.id()), e.SerializeAsString());
}

Status TrashList(MetaState& s, const proto::TrashListRequest& req,
                 proto::TrashListResponse* resp) {
  const uint32_t limit =
      req.limit() == 0 ? kDefaultListLimit : std::min(req.limit(), kMaxListLimit);
  KeyRange range = KeyRange::Prefix(TrashPrefix());
  if (req.start_after_inode() != 0) {
    range.start = TrashKey(req.start_after_expires_ms(), req.start_after_inode()) +
                  std::string(1, '\0');
  }
  ASSIGN_OR_RETURN(std::vector<KvPair> page, s.kv().Scan(range, limit + 1));
  for (size_t i = 0; i < page.size() && i < limit; ++i) {
    proto::TrashEntry* e = resp->add_entries();
    if (!e->ParseFromString(page[i].value)) {
      return Status::Corruption("trash record " + PrintableKey(page[i].key) + " does not parse");
    }
  }
  resp->set_more(page.size() > limit);
  return Status::Ok();
}

Status TrashRestore(MetaState& s, const proto::TrashRestoreRequest& req,
                    proto::TrashRestoreResponse* resp) {
  if (!req.name().empty()) RETURN_IF_ERROR(ValidateName(req.name()));
  uint64_t parent = 0;
  QuotaCharge charge;  // the file counts in its folder's quotas again
  Status st = RunTxn(s, "trash restore", [&]() -> Status {
    charge = QuotaCharge();
    ASSIGN_OR_RETURN(std::optional<Found> f, FindEntry(s.kv(), req.inode()));
    if (!f) return Status::NotFound(fmt::format("inode {} is not in the trash", req.inode()));
    parent = req.parent() != 0 ? req.parent() : f->entry.parent();
    const std::string name = req.name().empty() ? f->entry.name() : req.name();
    ASSIGN_OR_RETURN(InodeRecord dir, LoadParentDir(s.kv(), parent));
    ASSIGN_OR_RETURN(std::optional<DentryRecord> taken, LoadDentry(s.kv(), parent, name));
    if (taken) {
      return Status::AlreadyExists(fmt::format(
          "'{}' exists again in directory {}: restore under another name (--to)", name, parent));
    }
    ASSIGN_OR_RETURN(InodeRecord rec, LoadExistingInode(s.kv(), req.inode()));
    proto::Inode back = rec.inode;
    ASSIGN_OR_RETURN(charge, QuotaCharge::Reserve(s, parent, static_cast<int64_t>(back.size()), 1));
    back.set_nlink(1);
    back.set_parent(parent);
    *back.mutable_ctime() = s.clock().WallTimespec();
    KvTxn txn;
    txn.ExpectEquals(f->key, f->raw);
    txn.Delete(f->key);
    txn.ExpectEquals(InodeKey(back.id()), rec.raw);
    txn.Put(InodeKey(back.id()), SerializeInode(back));
    txn.ExpectEquals(InodeKey(parent), dir.raw);
    txn.ExpectAbsent(DentryKey(parent, name));
    txn.Put(DentryKey(parent, name), EncodeDentry(Dentry{back.id(), proto::INODE_FILE}));
    RETURN_IF_ERROR(s.kv().Commit(txn, CommitOptions{.sync = true}));
    *resp->mutable_inode() = Visible(s, back);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  charge.Keep();
  s.dir_times().Touch(parent, s.clock().WallTimespec());
  return Status::Ok();
}

Status TrashPurge(MetaState& s, const proto::TrashPurgeRequest& req,
                  proto::TrashPurgeResponse* resp) {
  if (!req.all()) {
    ASSIGN_OR_RETURN(std::optional<Found> f, FindEntry(s.kv(), req.inode()));
    if (!f) return Status::NotFound(fmt::format("inode {} is not in the trash", req.inode()));
    ASSIGN_OR_RETURN(bool purged, Purge(s, *f));
    resp->set_purged(purged ? 1 : 0);
    return Status::Ok();
  }
  uint64_t n = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<KvPair> page,
                     s.kv().Scan(KeyRange::Prefix(TrashPrefix()), kPurgeBatch));
    for (const KvPair& kvp : page) {
      Found f{kvp.key, kvp.value, {}};
      if (!f.entry.ParseFromString(kvp.value)) continue;
      ASSIGN_OR_RETURN(bool purged, Purge(s, f));
      n += purged ? 1 : 0;
    }
    if (page.size() < kPurgeBatch) break;
  }
  resp->set_purged(n);
  return Status::Ok();
}

Status PurgeExpiredTrash(MetaState& s) {
  const int64_t now = s.clock().WallMs();
  KeyRange range = KeyRange::Prefix(TrashPrefix());
  range.end = TrashKey(now, 0);  // every entry that expired before now
  ASSIGN_OR_RETURN(std::vector<KvPair> page, s.kv().Scan(range, kPurgeBatch));
  for (const KvPair& kvp : page) {
    Found f{kvp.key, kvp.value, {}};
    if (!f.entry.ParseFromString(kvp.value)) continue;
    ASSIGN_OR_RETURN(bool purged, Purge(s, f));
    if (purged) {
      LOG_INFO("trash: freed inode {} ('{}' removed from folder {}), its trash time over",
               f.entry.inode(), f.entry.name(), f.entry.parent());
    }
  }
  return Status::Ok();
}

}  // namespace granary::metadata
