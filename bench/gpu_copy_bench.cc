// gpu_copy_bench: the two GPU-side lines of bench/load.sh that are not the
// loader (built only with the CUDA toolkit).
//
//   gpu_copy_bench h2d BYTES [DEVICE]   pinned host-to-device GB/s: the PCIe
//                                       link's limit, line (c)
//   gpu_copy_bench file PATH [DEVICE]   what a naive user does, lines (a) and
//                                       (b): read() the whole file into one
//                                       pageable buffer, then one cudaMemcpy
//
// Prints one line "KEY VALUE..." for the script to parse; exits 1 with the
// CUDA error's text when there is no usable GPU.
#include <cuda_runtime_api.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace {

#define CHECK_CUDA(call)                                                        \
  do {                                                                          \
    cudaError_t e_ = (call);                                                    \
    if (e_ != cudaSuccess) {                                                    \
      std::fprintf(stderr, "gpu_copy_bench: %s: %s\n", #call, cudaGetErrorString(e_)); \
      std::exit(1);                                                             \
    }                                                                           \
  } while (0)

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Pinned buffer to device in 64 MiB copies spread over 4 streams (how the
// loader issues its copies), after one warm-up pass; the best of 3 passes.
int HostToDevice(size_t n) {
  void* host = nullptr;
  void* dev = nullptr;
  CHECK_CUDA(cudaHostAlloc(&host, n, cudaHostAllocDefault));
  CHECK_CUDA(cudaMalloc(&dev, n));
  std::memset(host, 1, n);
  constexpr size_t kPiece = size_t{64} << 20;
  cudaStream_t streams[4];
  for (auto& s : streams) CHECK_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  double best = 0;
  for (int pass = 0; pass < 4; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t off = 0, i = 0; off < n; off += kPiece, ++i) {
      const size_t len = std::min(kPiece, n - off);
      CHECK_CUDA(cudaMemcpyAsync(static_cast<char*>(dev) + off, static_cast<char*>(host) + off,
                                 len, cudaMemcpyHostToDevice, streams[i % 4]));
    }
    CHECK_CUDA(cudaDeviceSynchronize());
    const double gbps = static_cast<double>(n) / Seconds(t0) / 1e9;
    if (pass > 0 && gbps > best) best = gbps;  // pass 0 warms up
  }
  cudaDeviceProp prop{};
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("h2d %.2f %s\n", best, prop.name);
  return 0;
}

// Whole file into fresh pageable memory with read(), then one cudaMemcpy.
int NaiveFile(const char* path) {
  CHECK_CUDA(cudaFree(nullptr));  // create the context before the clock starts
  const auto t0 = std::chrono::steady_clock::now();
  const int fd = ::open(path, O_RDONLY);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::fprintf(stderr, "gpu_copy_bench: %s: %s\n", path, std::strerror(errno));
    return 1;
  }
  const size_t n = static_cast<size_t>(st.st_size);
  std::unique_ptr<char[]> buf(new char[n]);
  for (size_t got = 0; got < n;) {
    const ssize_t r = ::read(fd, buf.get() + got, n - got);
    if (r <= 0) {
      std::fprintf(stderr, "gpu_copy_bench: read %s: %s\n", path, r < 0 ? std::strerror(errno) : "short file");
      return 1;
    }
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  void* dev = nullptr;
  CHECK_CUDA(cudaMalloc(&dev, n));
  CHECK_CUDA(cudaMemcpy(dev, buf.get(), n, cudaMemcpyHostToDevice));
  std::printf("file %.3f %zu\n", Seconds(t0), n);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || (std::strcmp(argv[1], "h2d") != 0 && std::strcmp(argv[1], "file") != 0)) {
    std::fprintf(stderr, "usage: gpu_copy_bench h2d BYTES [DEVICE] | file PATH [DEVICE]\n");
    return 2;
  }
  if (argc > 3) CHECK_CUDA(cudaSetDevice(std::atoi(argv[3])));
  if (std::strcmp(argv[1], "file") == 0) return NaiveFile(argv[2]);
  const unsigned long long n = std::strtoull(argv[2], nullptr, 10);
  if (n == 0 || n > (1ull << 40)) {
    std::fprintf(stderr, "gpu_copy_bench: BYTES must be 1..2^40, not %s\n", argv[2]);
    return 2;
  }
  return HostToDevice(static_cast<size_t>(n));
}
