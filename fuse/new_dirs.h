#pragma once
// NewDirs: folders this mount created a moment ago, with every name created
// in them since. Right after mkdir the kernel looks up each new name before
// creating it (cp -a, tar x, dataset unpacking fill fresh folders); for such
// a folder the answer "no such name" is known here and costs no round trip.
// The knowledge lasts `window` (the mount's negative_timeout), the same
// staleness the kernel allows its own cached "no such name" answers: a name
// another client creates there meanwhile may be missed for that long.
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace granary::fuse {

class NewDirs {
 public:
  explicit NewDirs(std::chrono::duration<double> window) : window_(window) {}

  // `dir` was just created empty by this mount.
  void Created(uint64_t dir);
  // `name` now exists / no longer exists in `parent` (through this mount).
  void Added(uint64_t parent, std::string_view name);
  void Removed(uint64_t parent, std::string_view name);
  // True when `parent` is a fresh folder of this mount without `name`.
  bool KnownAbsent(uint64_t parent, std::string_view name);

 private:
  using Clock = std::chrono::steady_clock;
  struct Dir {
    Clock::time_point created;
    std::unordered_set<std::string> names;
  };
  // Drops folders past the window (under mu_).
  void Expire(Clock::time_point now);

  const std::chrono::duration<double> window_;
  std::mutex mu_;
  std::unordered_map<uint64_t, Dir> dirs_;
};

}  // namespace granary::fuse
