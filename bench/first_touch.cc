// first_touch BYTES: how fast this machine hands out fresh memory. Writes
// BYTES of newly mapped memory twice, with 4 KiB pages and then with
// MapHugePages (what the loader's host target allocates), and prints GB/s of
// the first write (page faults, zeroing, and on a virtual machine whatever
// the hypervisor does to back memory the guest has not used) and of the
// second (plain memory bandwidth). A load into fresh host memory cannot beat
// the first figure; bench/load.sh prints it next to the loader's.
#include <sys/mman.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/huge_pages.h"

namespace {

double WriteGbps(uint8_t* p, size_t n, int value) {
  const auto t0 = std::chrono::steady_clock::now();
  std::memset(p, value, n);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(n) / s / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : size_t{1} << 30;
  if (n == 0 || n > (size_t{1} << 40)) {
    std::fprintf(stderr, "first_touch: BYTES must be 1..2^40\n");
    return 2;
  }
  void* small = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (small == MAP_FAILED) {
    std::perror("first_touch: mmap");
    return 1;
  }
  madvise(small, n, MADV_NOHUGEPAGE);
  const double small_first = WriteGbps(static_cast<uint8_t*>(small), n, 1);
  const double small_again = WriteGbps(static_cast<uint8_t*>(small), n, 2);
  munmap(small, n);
  auto huge = granary::MapHugePages(n);
  if (!huge) {
    std::fprintf(stderr, "first_touch: MapHugePages(%zu) failed\n", n);
    return 1;
  }
  const double huge_first = WriteGbps(huge.get(), n, 1);
  const double huge_again = WriteGbps(huge.get(), n, 2);
  std::printf("4k_first %.2f 4k_again %.2f huge_first %.2f huge_again %.2f\n", small_first,
              small_again, huge_first, huge_again);
  return 0;
}
