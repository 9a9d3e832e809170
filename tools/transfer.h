#pragma once
// Pieces shared by `put` and `get`: a progress line and a small worker pool.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace granary::tools {

// Big sequential I/O per call: local reads/writes and client Write/PRead.
inline constexpr size_t kTransferBufferBytes = 8u << 20;

// Counts bytes and files moved. When stderr is a terminal, a background
// thread redraws one status line (bytes, rate, ETA) five times a second.
// AddBytes and FileDone are thread-safe.
class TransferProgress {
 public:
  // total_bytes 0 means unknown (no percentage or ETA). always_draw: draw
  // even when stderr is not a terminal, then as one plain line per second.
  TransferProgress(std::string verb, uint64_t total_bytes, uint64_t total_files,
                   bool always_draw = false);
  ~TransferProgress();
  TransferProgress(const TransferProgress&) = delete;
  TransferProgress& operator=(const TransferProgress&) = delete;

  void AddBytes(uint64_t n) { bytes_.fetch_add(n, std::memory_order_relaxed); }
  void FileDone() { files_.fetch_add(1, std::memory_order_relaxed); }

  // Stops redrawing and clears the status line. Idempotent.
  void Finish();

  uint64_t bytes() const { return bytes_.load(); }
  uint64_t files() const { return files_.load(); }
  double seconds() const;
  // "put: 12 files, 1.20 GiB in 3.4s (378.1 MB/s)"
  std::string Summary() const;

 private:
  std::string Line() const;
  void DrawLoop();

  const std::string verb_;
  const uint64_t total_bytes_;
  const uint64_t total_files_;
  const std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> files_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool tty_ = false;
  double end_seconds_ = -1;  // frozen by Finish()
  std::thread drawer_;
};

// Runs fn(0) .. fn(count-1) on up to `jobs` threads. After the first error no
// new items start; that error is returned once running items finish.
Status RunParallel(size_t jobs, size_t count, const std::function<Status(size_t)>& fn);

}  // namespace granary::tools
