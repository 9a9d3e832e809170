#include "fuse/inode_table.h"

namespace granary::fuse {

std::shared_ptr<InodeState> InodeTable::Get(uint64_t ino) {
  std::lock_guard lock(mu_);
  auto& s = map_[ino];
  if (!s) s = std::make_shared<InodeState>();
  return s;
}

std::shared_ptr<InodeState> InodeTable::Find(uint64_t ino) {
  std::lock_guard lock(mu_);
  auto it = map_.find(ino);
  return it == map_.end() ? nullptr : it->second;
}

void InodeTable::AddLookup(uint64_t ino, uint64_t n) {
  std::lock_guard lock(mu_);
  auto& s = map_[ino];
  if (!s) s = std::make_shared<InodeState>();
  s->nlookup += n;
}

void InodeTable::Forget(uint64_t ino, uint64_t n) {
  std::lock_guard lock(mu_);
  auto it = map_.find(ino);
  if (it == map_.end()) return;
  auto& s = *it->second;
  s.nlookup = n >= s.nlookup ? 0 : s.nlookup - n;
  if (s.nlookup == 0 && s.opens == 0 && !s.orphan) map_.erase(it);
}

void InodeTable::Held(std::vector<LeaseRef>* leases, std::vector<uint64_t>* orphans) {
  // Copy the states first: open_mu is taken before mu_ elsewhere (open,
  // release), never after.
  std::vector<std::pair<uint64_t, std::shared_ptr<InodeState>>> states;
  {
    std::lock_guard lock(mu_);
    states.assign(map_.begin(), map_.end());
  }
  for (auto& [ino, s] : states) {
    std::lock_guard lock(s->open_mu);
    if (s->file && s->writable) {
      LeaseRef l = s->file->lease();
      if (l.lease_id != 0) leases->push_back(l);  // 0: given back at a flush
    }
    if (s->orphan) orphans->push_back(ino);
  }
}

std::vector<std::shared_ptr<OpenFile>> InodeTable::OpenFiles() {
  std::vector<std::shared_ptr<InodeState>> states;
  {
    std::lock_guard lock(mu_);
    for (auto& [ino, s] : map_) states.push_back(s);
  }
  std::vector<std::shared_ptr<OpenFile>> out;
  for (auto& s : states) {
    std::lock_guard lock(s->open_mu);
    if (s->file) out.push_back(s->file);
  }
  return out;
}

std::vector<uint64_t> InodeTable::Orphans() {
  std::lock_guard lock(mu_);
  std::vector<uint64_t> out;
  for (auto& [ino, s] : map_) {
    if (s->orphan) out.push_back(ino);
  }
  return out;
}

bool InodeTable::AnyOpen() {
  std::lock_guard lock(mu_);
  return open_inodes_ > 0;
}

void InodeTable::EraseIfIdle(uint64_t ino) {
  std::lock_guard lock(mu_);
  auto it = map_.find(ino);
  if (it == map_.end()) return;
  auto& s = *it->second;
  if (s.nlookup == 0 && s.opens == 0 && !s.orphan) map_.erase(it);
}

int InodeTable::AddOpen(InodeState& s) {
  std::lock_guard lock(mu_);
  if (s.opens++ == 0) ++open_inodes_;
  return s.opens;
}

int InodeTable::Opens(InodeState& s) {
  std::lock_guard lock(mu_);
  return s.opens;
}

int InodeTable::DropOpen(InodeState& s) {
  std::lock_guard lock(mu_);
  if (s.opens > 0 && --s.opens == 0) --open_inodes_;
  return s.opens;
}

}  // namespace granary::fuse
