// The loader into a real GPU (a machine with an NVIDIA GPU and driver):
//   build/bin/loader_gpu_test
// Loads a synthetic checkpoint (and, with GRANARY_SAFETENSORS_DIR set, the
// real bf16 weights) from a local test cluster into cuda:0, copies every
// tensor back and compares it; tensor-parallel slices and per-tensor
// destinations in device memory; reports pinned host-to-device bandwidth and
// the loader's GB/s.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "granary/loader.h"
#include "tests/integration/test_data.h"
#include "tests/testutil/test_cluster.h"
#include "tests/testutil/weights_data.h"

namespace granary::testutil {
namespace {

bool HaveGpu() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

TEST(LoaderGpu, PinnedHostToDeviceBandwidth) {
  if (!HaveGpu()) GTEST_SKIP() << "no GPU visible";
  const size_t n = 1u << 30;
  void* host = nullptr;
  void* dev = nullptr;
  ASSERT_EQ(cudaHostAlloc(&host, n, cudaHostAllocDefault), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dev, n), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(dev, host, n, cudaMemcpyHostToDevice), cudaSuccess);  // warm up
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(cudaMemcpy(dev, host, n, cudaMemcpyHostToDevice), cudaSuccess);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  std::printf("pinned host-to-device on %s: %.2f GB/s\n", prop.name, 4.0 * n / s / 1e9);
  cudaFree(dev);
  cudaFreeHost(host);
}

TEST(LoaderGpu, CheckpointLandsOnTheGpuByteIdentical) {
  if (!HaveGpu()) GTEST_SKIP() << "no GPU visible";
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start({.chunkservers = 3}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  std::vector<std::pair<std::string, std::vector<uint8_t>>> files = {
      {"/synthetic.safetensors", SyntheticCheckpoint(64 << 20)}};
  if (const char* d = std::getenv("GRANARY_SAFETENSORS_DIR")) {
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(d) / "bf16")) {
      std::ifstream in(e.path(), std::ios::binary);
      files.push_back({"/" + e.path().filename().string(),
                       std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {})});
    }
  }
  for (const auto& [path, data] : files) {
    SCOPED_TRACE(path);
    ASSERT_OK(WriteFile(*client, path, data));
    LoadOptions o;
    ASSERT_OK(ParseLoadDevice("cuda:0", &o));
    ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, LoadCheckpoint(*client, path, o));
    auto header = ParseSafetensorsHeader(data, data.size());
    ASSERT_TRUE(header.ok());
    ASSERT_EQ(loaded.tensors().size(), header->tensors.size());
    std::vector<uint8_t> back;
    for (size_t i = 0; i < loaded.tensors().size(); ++i) {
      const LoadedTensor& t = loaded.tensors()[i];
      cudaPointerAttributes attr{};
      ASSERT_EQ(cudaPointerGetAttributes(&attr, t.data), cudaSuccess);
      EXPECT_EQ(attr.type, cudaMemoryTypeDevice);
      ASSERT_OK(loaded.CopyToHost(t, &back));
      const TensorInfo& h = header->tensors[i];
      ASSERT_EQ(t.name, h.name);
      EXPECT_EQ(std::memcmp(back.data(), data.data() + h.begin, back.size()), 0) << t.name;
    }
    DLManagedTensor* dl = loaded.ToDLPack(0);
    EXPECT_EQ(dl->dl_tensor.device.device_type, kDLCUDA);
    dl->deleter(dl);
    std::printf("%s: %.2f GB/s into cuda:0\n", path.c_str(), loaded.stats().gbps());
  }
}

// Slices along dim 1 go through cudaMemcpy2DAsync: the GPU's copy of each
// rank's part equals the host target's.
TEST(LoaderGpu, TensorParallelSlicesMatchTheHostTarget) {
  if (!HaveGpu()) GTEST_SKIP() << "no GPU visible";
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start({.chunkservers = 3}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  ASSERT_OK(WriteFile(*client, "/tp.safetensors", SyntheticCheckpoint(8 << 20)));
  for (int rank = 0; rank < 4; ++rank) {
    LoadOptions o;
    o.rank = rank;
    o.world = 4;
    o.split = {{"embed.weight", 1}, {"proj.weight", 0}};
    o.piece_bytes = 1 << 20;
    ASSERT_OK_AND_ASSIGN(LoadedCheckpoint host, LoadCheckpoint(*client, "/tp.safetensors", o));
    ASSERT_OK(ParseLoadDevice("cuda:0", &o));
    ASSERT_OK_AND_ASSIGN(LoadedCheckpoint gpu, LoadCheckpoint(*client, "/tp.safetensors", o));
    ASSERT_EQ(gpu.tensors().size(), host.tensors().size());
    std::vector<uint8_t> back;
    for (size_t i = 0; i < gpu.tensors().size(); ++i) {
      const LoadedTensor& t = gpu.tensors()[i];
      ASSERT_OK(gpu.CopyToHost(t, &back));
      ASSERT_EQ(back.size(), host.tensors()[i].bytes) << t.name;
      EXPECT_EQ(std::memcmp(back.data(), host.tensors()[i].data, back.size()), 0)
          << t.name << " rank " << rank;
    }
  }
}

// A tensor with a destination of its own lands there (cudaMalloc'ed by the
// caller, as a model's parameters are); a host pointer given for a GPU load
// is refused by name before any read.
TEST(LoaderGpu, TensorsLandInTheCallersDeviceMemory) {
  if (!HaveGpu()) GTEST_SKIP() << "no GPU visible";
  ASSERT_OK_AND_ASSIGN(auto cluster, TestCluster::Start({.chunkservers = 3}));
  ASSERT_OK_AND_ASSIGN(auto client, cluster->Connect());
  const std::vector<uint8_t> data = SyntheticCheckpoint(8 << 20);
  ASSERT_OK(WriteFile(*client, "/into.safetensors", data));
  auto header = ParseSafetensorsHeader(data, data.size());
  ASSERT_TRUE(header.ok());
  const TensorInfo& first = header->tensors[0];
  const uint64_t n = first.end - first.begin;
  void* dev = nullptr;
  ASSERT_EQ(cudaMalloc(&dev, n), cudaSuccess);
  LoadOptions o;
  ASSERT_OK(ParseLoadDevice("cuda:0", &o));
  o.into[first.name] = {dev, n, first.dtype};
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, LoadCheckpoint(*client, "/into.safetensors", o));
  EXPECT_EQ(loaded.tensors()[0].data, dev);
  std::vector<uint8_t> back(n);
  ASSERT_EQ(cudaMemcpy(back.data(), dev, n, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(std::memcmp(back.data(), data.data() + first.begin, n), 0);
  std::vector<uint8_t> host(n);
  o.into[first.name] = {host.data(), n, first.dtype};
  auto r = LoadCheckpoint(*client, "/into.safetensors", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is host memory; the load is onto cuda:0"),
            std::string::npos)
      << r.status().ToString();
  cudaFree(dev);
}

}  // namespace
}  // namespace granary::testutil
