#include "tools/transfer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "tools/cli_util.h"

namespace granary::tools {

TransferProgress::TransferProgress(std::string verb, uint64_t total_bytes, uint64_t total_files,
                                   bool always_draw)
    : verb_(std::move(verb)),
      total_bytes_(total_bytes),
      total_files_(total_files),
      start_(std::chrono::steady_clock::now()),
      tty_(isatty(STDERR_FILENO) != 0) {
  if (tty_ || always_draw) drawer_ = std::thread([this] { DrawLoop(); });
}

TransferProgress::~TransferProgress() { Finish(); }

void TransferProgress::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (end_seconds_ < 0) end_seconds_ = SecondsSince(start_);
    stop_ = true;
  }
  cv_.notify_all();
  if (drawer_.joinable()) {
    drawer_.join();
    if (tty_) std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

double TransferProgress::seconds() const {
  return end_seconds_ >= 0 ? end_seconds_ : SecondsSince(start_);
}

std::string TransferProgress::Summary() const {
  double s = seconds();
  uint64_t n = files();
  return fmt::format("{}: {} file{}, {} in {:.2f} s ({})", verb_, n, n == 1 ? "" : "s",
                     FormatBytes(bytes()), s, FormatRate(bytes(), s));
}

std::string TransferProgress::Line() const {
  double s = SecondsSince(start_);
  uint64_t b = bytes();
  std::string line = fmt::format("{} {}", verb_, FormatBytes(b));
  if (total_bytes_ > 0) {
    line += fmt::format(" / {} ({:.0f}%)", FormatBytes(total_bytes_),
                        100.0 * static_cast<double>(b) / static_cast<double>(total_bytes_));
  }
  if (total_files_ > 1) line += fmt::format("  {}/{} files", files(), total_files_);
  line += "  " + FormatRate(b, s);
  if (total_bytes_ > b && b > 0 && s > 0.5) {
    double rate = static_cast<double>(b) / s;
    line += "  ETA " + FormatDuration(static_cast<double>(total_bytes_ - b) / rate);
  }
  return line;
}

void TransferProgress::DrawLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  // A log file gets one line per second instead of a line redrawn in place.
  for (int tick = 1; !cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; });
       ++tick) {
    if (!tty_ && tick % 5 != 0) continue;
    std::string line = Line();
    std::fprintf(stderr, tty_ ? "\r\033[K%s" : "%s\n", line.c_str());
    std::fflush(stderr);
  }
}

Status RunParallel(size_t jobs, size_t count, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first;
  auto worker = [&] {
    while (!failed.load()) {
      size_t i = next.fetch_add(1);
      if (i >= count) return;
      Status s = fn(i);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.ok()) first = s;
        failed = true;
      }
    }
  };
  size_t n = std::max<size_t>(1, std::min(jobs, count));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return first;
}

}  // namespace granary::tools
