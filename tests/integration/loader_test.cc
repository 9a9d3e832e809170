// granary::LoadCheckpoint into host memory through a real cluster: tensors
// byte-identical to the files they came from (real weights when
// GRANARY_SAFETENSORS_DIR is set, see weights_test.cc), a sharded
// checkpoint by its index, a tensor filter, a chunk server killed during a
// load, malformed headers refused before any allocation, DLPack views, and
// a GPU asked for where there is none.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common/endian.h"
#include "granary/loader.h"
#include "granary/safetensors.h"
#include "tests/integration/test_data.h"
#include "tests/testutil/cluster_suite.h"
#include "tests/testutil/weights_data.h"

namespace granary::testutil {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> ReadLocal(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// name -> bytes of every tensor of a safetensors file in memory.
std::map<std::string, std::vector<uint8_t>> TensorsOf(const std::vector<uint8_t>& file) {
  std::map<std::string, std::vector<uint8_t>> out;
  auto h = ParseSafetensorsHeader(file, file.size());
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  if (!h.ok()) return out;
  for (const auto& t : h->tensors) {
    out[t.name].assign(file.begin() + t.begin, file.begin() + t.end);
  }
  return out;
}

class Loader : public ClusterSuite {
 protected:
  static std::string DataDir() {
    const char* d = std::getenv("GRANARY_SAFETENSORS_DIR");
    return d && fs::exists(fs::path(d) / "plain-bf16") ? d : "";
  }
  // Every loaded tensor equals `expected[name]`.
  static void ExpectTensors(const LoadedCheckpoint& ckpt,
                            const std::map<std::string, std::vector<uint8_t>>& expected) {
    for (const LoadedTensor& t : ckpt.tensors()) {
      auto it = expected.find(t.name);
      ASSERT_NE(it, expected.end()) << t.name;
      ASSERT_EQ(t.bytes, it->second.size()) << t.name;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 256, 0u) << t.name;
      EXPECT_EQ(std::memcmp(t.data, it->second.data(), t.bytes), 0) << t.name << " differs";
    }
  }

};

TEST_F(Loader, SyntheticCheckpointLoadsByteIdenticalWithDLPackViews) {
  const std::vector<uint8_t> ckpt = SyntheticCheckpoint(2 << 20);
  ASSERT_OK(WriteFile(*client_, "/synthetic.safetensors", ckpt));
  LoadOptions o;
  o.piece_bytes = 2 << 20;  // several pieces per tensor
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, LoadCheckpoint(*client_, "/synthetic.safetensors", o));
  const auto expected = TensorsOf(ckpt);
  ASSERT_EQ(loaded.tensors().size(), expected.size());
  ExpectTensors(loaded, expected);
  EXPECT_EQ(loaded.stats().files, 1u);
  EXPECT_GT(loaded.stats().bytes, 6u << 20);
  EXPECT_GT(loaded.stats().fetch_seconds, 0);
  // DLPack: shape, dtype and pointer as loaded; the memory outlives the
  // checkpoint object until the consumer calls the deleter.
  DLManagedTensor* dl = loaded.ToDLPack(0);
  const LoadedTensor t0 = loaded.tensors()[0];
  EXPECT_EQ(t0.name, "embed.weight");
  EXPECT_EQ(dl->dl_tensor.data, t0.data);
  EXPECT_EQ(dl->dl_tensor.device.device_type, kDLCPU);
  EXPECT_EQ(dl->dl_tensor.dtype.code, kDLBfloat);
  EXPECT_EQ(dl->dl_tensor.dtype.bits, 16);
  ASSERT_EQ(dl->dl_tensor.ndim, 2);
  EXPECT_EQ(dl->dl_tensor.shape[0], 2048);
  EXPECT_EQ(dl->dl_tensor.shape[1], 1024);
  { LoadedCheckpoint gone = std::move(loaded); }
  EXPECT_EQ(std::memcmp(dl->dl_tensor.data, expected.at("embed.weight").data(), 1024), 0);
  dl->deleter(dl);
}

TEST_F(Loader, FilterLoadsOnlyMatchingTensors) {
  const std::vector<uint8_t> ckpt = SyntheticCheckpoint(1 << 20);
  ASSERT_OK(WriteFile(*client_, "/filter.safetensors", ckpt));
  LoadOptions o;
  o.tensors = "*.bias,ids";
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, LoadCheckpoint(*client_, "/filter.safetensors", o));
  ASSERT_EQ(loaded.tensors().size(), 2u);
  EXPECT_EQ(loaded.tensors()[0].name, "ids");
  EXPECT_EQ(loaded.tensors()[1].name, "norm.bias");
  ExpectTensors(loaded, TensorsOf(ckpt));
  EXPECT_LT(loaded.allocated_bytes(), 64u << 10);  // only what was selected
  o.tensors = "nothing.*";
  auto none = LoadCheckpoint(*client_, "/filter.safetensors", o);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), proto::NOT_FOUND);
}

TEST_F(Loader, MalformedHeaderIsRefusedBeforeAnyAllocation) {
  std::vector<uint8_t> ckpt = SyntheticCheckpoint(1 << 20);
  // The first tensor claims more bytes than its shape holds.
  const std::string json(reinterpret_cast<const char*>(ckpt.data() + 8), GetU64(ckpt.data()));
  std::string bad = json;
  const size_t at = bad.find("[1024,1024]");
  ASSERT_NE(at, std::string::npos);
  bad.replace(at, 11, "[1024,1025]");
  std::memcpy(ckpt.data() + 8, bad.data(), bad.size());
  ASSERT_OK(WriteFile(*client_, "/bad.safetensors", ckpt));
  auto r = LoadCheckpoint(*client_, "/bad.safetensors");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), proto::CORRUPTION);
  EXPECT_NE(r.status().message().find("/bad.safetensors"), std::string::npos);
  EXPECT_NE(r.status().message().find("embed.weight"), std::string::npos) << r.status().ToString();
  // A header length past the file: the same, before reading further.
  std::vector<uint8_t> short_file = {0xFF, 0xFF, 0xFF, 0x00, 0, 0, 0, 0, '{', '}'};
  ASSERT_OK(WriteFile(*client_, "/short.safetensors", short_file));
  auto s = LoadCheckpoint(*client_, "/short.safetensors");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), proto::CORRUPTION) << s.status().ToString();
}

TEST_F(Loader, AnyOtherFileLoadsWhole) {
  const std::vector<uint8_t> data = MakeData(3 << 20 | 123, 5);
  ASSERT_OK(WriteFile(*client_, "/blob.bin", data));
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, LoadCheckpoint(*client_, "/blob.bin"));
  ASSERT_EQ(loaded.tensors().size(), 1u);
  EXPECT_EQ(loaded.tensors()[0].name, "blob.bin");
  ASSERT_EQ(loaded.tensors()[0].bytes, data.size());
  EXPECT_EQ(std::memcmp(loaded.tensors()[0].data, data.data(), data.size()), 0);
}

TEST_F(Loader, CallerBufferIsUsedAndCheckedForSize) {
  const std::vector<uint8_t> ckpt = SyntheticCheckpoint(1 << 20);
  ASSERT_OK(WriteFile(*client_, "/buffer.safetensors", ckpt));
  std::vector<uint8_t> small(1000);
  LoadOptions o;
  o.buffer = small.data();
  o.buffer_bytes = small.size();
  auto r = LoadCheckpoint(*client_, "/buffer.safetensors", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), proto::INVALID_ARGUMENT);
  alignas(256) static uint8_t big[8 << 20];
  o.buffer = big;
  o.buffer_bytes = sizeof(big);
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, LoadCheckpoint(*client_, "/buffer.safetensors", o));
  EXPECT_EQ(loaded.allocated_bytes(), 0u);
  EXPECT_EQ(loaded.tensors()[0].data, static_cast<void*>(big));
  ExpectTensors(loaded, TensorsOf(ckpt));
  // A buffer that starts off the alignment: the tensors still start aligned
  // (ExpectTensors checks), from the first aligned address in it.
  o.buffer = big + 8;
  o.buffer_bytes = sizeof(big) - 8;
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint shifted, LoadCheckpoint(*client_, "/buffer.safetensors", o));
  EXPECT_EQ(shifted.tensors()[0].data, static_cast<void*>(big + 256));
  ExpectTensors(shifted, TensorsOf(ckpt));
}

TEST_F(Loader, CudaWithoutAGpuIsAClearError) {
  LoadOptions o;
  ASSERT_OK(ParseLoadDevice("cuda:0", &o));
  EXPECT_EQ(o.target, LoadTarget::kCuda);
  EXPECT_FALSE(ParseLoadDevice("gpu7", &o).ok());
  const std::vector<uint8_t> ckpt = SyntheticCheckpoint(1 << 20);
  ASSERT_OK(WriteFile(*client_, "/cuda.safetensors", ckpt));
  auto r = LoadCheckpoint(*client_, "/cuda.safetensors", o);
  if (r.ok()) GTEST_SKIP() << "a GPU is visible here: tests/gpu covers it";
  EXPECT_TRUE(r.status().message().find("GPU") != std::string::npos ||
              r.status().message().find("CUDA") != std::string::npos)
      << r.status().ToString();
}

TEST_F(Loader, ChunkServerKilledDuringALoad) {
  // 48 MiB of weights in 1 MiB pieces read two at a time: the load is still
  // running when a chunk server dies; reads move to the other replicas.
  const std::vector<uint8_t> ckpt = SyntheticCheckpoint(24 << 20);
  ASSERT_OK(WriteFile(*client_, "/kill.safetensors", ckpt));
  LoadOptions o;
  o.piece_bytes = 1 << 20;
  o.reads_in_flight = 2;
  Result<LoadedCheckpoint> loaded = Status::Internal("not run");
  std::thread load([&] { loaded = LoadCheckpoint(*client_, "/kill.safetensors", o); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_OK(cluster_->KillChunkd(0));
  load.join();
  ASSERT_OK(cluster_->RestartChunkd(0));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ExpectTensors(*loaded, TensorsOf(ckpt));
}

TEST_F(Loader, RealWeightsLoadByteIdentical) {
  const std::string dir = DataDir();
  if (dir.empty()) GTEST_SKIP() << "GRANARY_SAFETENSORS_DIR not set (bench/make_safetensors.sh)";
  ASSERT_OK(client_->Mkdir("/real", 0755, true).status());
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "bf16")) {
    if (++files > 12) break;  // a dozen models keep the test short
    const std::vector<uint8_t> data = ReadLocal(e.path());
    const std::string path = "/real/" + e.path().filename().string();
    ASSERT_OK(WriteFile(*client_, path, data));
    ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, LoadCheckpoint(*client_, path));
    const auto expected = TensorsOf(data);
    EXPECT_EQ(loaded.tensors().size(), expected.size()) << path;
    ExpectTensors(loaded, expected);
  }
}

// A checkpoint of `specs` filled with random bytes.
std::vector<uint8_t> RandomCheckpoint(const std::vector<TensorSpec>& specs) {
  Result<std::string> header = BuildSafetensorsHeader(specs);
  EXPECT_TRUE(header.ok()) << header.status().ToString();
  std::vector<uint8_t> out(header->begin(), header->end());
  std::mt19937_64 rng(11);
  for (const TensorSpec& t : specs) {
    uint64_t n = DtypeSize(t.dtype);
    for (uint64_t d : t.shape) n *= d;
    for (uint64_t i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(rng()));
  }
  return out;
}

// Part `rank` of `world` of a tensor's bytes along `dim`, packed.
std::vector<uint8_t> Slice(const std::vector<uint8_t>& whole, const TensorSpec& t, size_t dim,
                           uint64_t rank, uint64_t world) {
  uint64_t outer = 1, inner = DtypeSize(t.dtype);
  for (size_t d = 0; d < dim; ++d) outer *= t.shape[d];
  for (size_t d = dim + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  const uint64_t part = t.shape[dim] / world;
  std::vector<uint8_t> out;
  for (uint64_t r = 0; r < outer; ++r) {
    const auto* from = whole.data() + r * t.shape[dim] * inner + rank * part * inner;
    out.insert(out.end(), from, from + part * inner);
  }
  return out;
}

TEST_F(Loader, TensorParallelRanksLoadTheirSlices) {
  // Slices along the first, a middle and the last dimension, with rows that
  // straddle the 1 MiB pieces, and a tensor no rule names.
  const std::vector<TensorSpec> specs = {
      {"l0.col", Dtype::kBF16, {1536, 700}},
      {"l0.row", Dtype::kF32, {600, 1000}},
      {"l0.mid", Dtype::kF16, {6, 512, 100}},
      {"l0.norm", Dtype::kF32, {1001}},
  };
  const std::vector<uint8_t> file = RandomCheckpoint(specs);
  ASSERT_OK(WriteFile(*client_, "/tp.safetensors", file));
  const auto whole = TensorsOf(file);
  const std::map<std::string, size_t> dims = {{"l0.col", 0}, {"l0.row", 1}, {"l0.mid", 1}};
  LoadOptions o;
  o.world = 4;
  o.split = {{"*.col", 0}, {"*.row", -1}, {"l0.mid", -2}};
  o.piece_bytes = 1 << 20;
  o.reads_in_flight = 3;
  for (int rank = 0; rank < 4; ++rank) {
    o.rank = rank;
    ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, LoadCheckpoint(*client_, "/tp.safetensors", o));
    ASSERT_EQ(loaded.tensors().size(), specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      const LoadedTensor& t = loaded.tensors()[i];
      const TensorSpec& spec = specs[i];
      ASSERT_EQ(t.name, spec.name);
      std::vector<uint8_t> expected = whole.at(spec.name);
      std::vector<uint64_t> shape = spec.shape;
      auto d = dims.find(spec.name);
      if (d != dims.end()) {
        expected = Slice(expected, spec, d->second, static_cast<uint64_t>(rank), 4);
        shape[d->second] /= 4;
        EXPECT_EQ(t.split_dim, static_cast<int>(d->second)) << t.name;
        EXPECT_EQ(t.split_begin, rank * spec.shape[d->second] / 4) << t.name;
        EXPECT_EQ(t.split_end, (rank + 1) * spec.shape[d->second] / 4) << t.name;
      } else {
        EXPECT_EQ(t.split_dim, -1) << t.name;
      }
      EXPECT_EQ(t.shape, shape) << t.name;
      ASSERT_EQ(t.bytes, expected.size()) << t.name;
      EXPECT_EQ(std::memcmp(t.data, expected.data(), t.bytes), 0)
          << t.name << " rank " << rank << " differs";
    }
  }
}

TEST_F(Loader, SplitsThatCannotBeMadeAreRefusedByName) {
  const std::vector<TensorSpec> specs = {{"w", Dtype::kF32, {10, 12}}, {"b", Dtype::kF32, {10}}};
  ASSERT_OK(WriteFile(*client_, "/split.safetensors", RandomCheckpoint(specs)));
  LoadOptions o;
  o.world = 4;
  o.split = {{"w", 0}};  // 10 rows into 4 parts
  auto r = LoadCheckpoint(*client_, "/split.safetensors", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), proto::INVALID_ARGUMENT);
  EXPECT_NE(r.status().message().find("\"w\": dim 0 of size 10"), std::string::npos)
      << r.status().ToString();
  o.split = {{"b", 1}};  // a 1-D tensor has no dim 1
  r = LoadCheckpoint(*client_, "/split.safetensors", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("\"b\" has 1 dimension(s)"), std::string::npos)
      << r.status().ToString();
  o.split = {{"w", 1}};
  o.rank = 4;  // past the last rank
  r = LoadCheckpoint(*client_, "/split.safetensors", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), proto::INVALID_ARGUMENT);
  o.rank = 3;
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint ok, LoadCheckpoint(*client_, "/split.safetensors", o));
  EXPECT_EQ(ok.tensors()[0].shape, (std::vector<uint64_t>{10, 3}));
  EXPECT_EQ(ok.tensors()[1].split_dim, -1);  // no rule names it: whole
}

// A model's parameters allocated before the load: the tensors named in
// `into` land at the caller's pointers (whole, or this rank's part), and
// only the others take room in the allocation.
TEST_F(Loader, TensorsLandInTheCallersDestinations) {
  const std::vector<TensorSpec> specs = {
      {"a.weight", Dtype::kBF16, {512, 1100}},  // more than one piece
      {"a.bias", Dtype::kF32, {300}},
      {"b.weight", Dtype::kF16, {64, 96}},
  };
  const std::vector<uint8_t> file = RandomCheckpoint(specs);
  ASSERT_OK(WriteFile(*client_, "/into.safetensors", file));
  const auto whole = TensorsOf(file);
  std::vector<uint8_t> a_weight(whole.at("a.weight").size());
  std::vector<uint8_t> b_weight(whole.at("b.weight").size() / 2 + 1);  // rank 1 of 2, +1 to shift
  LoadOptions o;
  o.piece_bytes = 1 << 20;
  o.world = 2;
  o.rank = 1;
  o.split = {{"b.weight", 1}};
  o.into["a.weight"] = {a_weight.data(), a_weight.size(), Dtype::kBF16};
  o.into["b.weight"] = {b_weight.data() + 1, b_weight.size() - 1, std::nullopt};  // unaligned
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, LoadCheckpoint(*client_, "/into.safetensors", o));
  ASSERT_EQ(loaded.tensors().size(), 3u);
  EXPECT_EQ(loaded.tensors()[0].data, a_weight.data());
  EXPECT_EQ(loaded.tensors()[2].data, b_weight.data() + 1);
  EXPECT_EQ(a_weight, whole.at("a.weight"));
  const std::vector<uint8_t> part = Slice(whole.at("b.weight"), specs[2], 1, 1, 2);
  EXPECT_EQ(std::memcmp(b_weight.data() + 1, part.data(), part.size()), 0);
  // Only a.bias is in the allocation.
  EXPECT_EQ(loaded.allocated_bytes(), 1200u);
  EXPECT_EQ(std::memcmp(loaded.tensors()[1].data, whole.at("a.bias").data(), 1200), 0);

  // Every tensor with a destination: no allocation at all.
  std::vector<uint8_t> bias(1200);
  o.into["a.bias"] = {bias.data(), bias.size(), Dtype::kF32};
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint none, LoadCheckpoint(*client_, "/into.safetensors", o));
  EXPECT_EQ(none.allocated_bytes(), 0u);
  EXPECT_EQ(bias, whole.at("a.bias"));
}

TEST_F(Loader, WrongDestinationsAreRefusedByName) {
  const std::vector<TensorSpec> specs = {{"w", Dtype::kF32, {8, 16}}, {"b", Dtype::kF32, {16}}};
  ASSERT_OK(WriteFile(*client_, "/into-bad.safetensors", RandomCheckpoint(specs)));
  std::vector<uint8_t> mem(4096);
  auto refused = [&](const LoadOptions& o, auto code, const std::string& says) {
    auto r = LoadCheckpoint(*client_, "/into-bad.safetensors", o);
    ASSERT_FALSE(r.ok()) << says;
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status().ToString();
  };
  LoadOptions o;
  o.into["w"] = {mem.data(), 500, std::nullopt};
  refused(o, proto::INVALID_ARGUMENT, "tensor \"w\" holds 500 bytes; the tensor is 512");
  o.into["w"] = {mem.data(), 512, Dtype::kBF16};
  refused(o, proto::INVALID_ARGUMENT, "tensor \"w\" is BF16; the tensor is F32");
  o.into["w"] = {nullptr, 512, std::nullopt};
  refused(o, proto::INVALID_ARGUMENT, "tensor \"w\" is a null pointer");
  o.into["w"] = {mem.data(), 512, Dtype::kF32};
  o.into["b"] = {mem.data() + 500, 64, Dtype::kF32};
  refused(o, proto::INVALID_ARGUMENT, "overlap");
  o.into.erase("b");
  o.into["wq"] = {mem.data() + 1024, 64, std::nullopt};
  refused(o, proto::NOT_FOUND, "tensor \"wq\", which the checkpoint does not have");
  o.into.erase("wq");
  o.into["b"] = {mem.data() + 1024, 64, std::nullopt};
  o.tensors = "w";
  refused(o, proto::NOT_FOUND, "tensor \"b\", which is not selected by \"w\"");
  o.tensors = "";
  ASSERT_OK(LoadCheckpoint(*client_, "/into-bad.safetensors", o).status());

  // Not strict: a name the checkpoint lacks is left unfilled and listed.
  o.into["extra"] = {mem.data() + 2048, 8, std::nullopt};
  refused(o, proto::NOT_FOUND, "a load that is not strict leaves it unfilled");
  o.into_strict = false;
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loose, LoadCheckpoint(*client_, "/into-bad.safetensors", o));
  EXPECT_EQ(loose.unfilled(), std::vector<std::string>{"extra"});
}

// Tied weights: one destination under two names is one place, not an
// overlap; both tensors (equal bytes) land there.
TEST_F(Loader, OneDestinationUnderTwoNamesIsAllowed) {
  const std::vector<TensorSpec> specs = {{"embed", Dtype::kF32, {16, 8}},
                                         {"head", Dtype::kF32, {16, 8}}};
  ASSERT_OK_AND_ASSIGN(std::string header, BuildSafetensorsHeader(specs));
  std::vector<uint8_t> file(header.begin(), header.end());
  std::vector<uint8_t> tied(512);
  for (size_t i = 0; i < tied.size(); ++i) tied[i] = static_cast<uint8_t>(i * 7);
  file.insert(file.end(), tied.begin(), tied.end());
  file.insert(file.end(), tied.begin(), tied.end());
  ASSERT_OK(WriteFile(*client_, "/tied.safetensors", file));
  std::vector<uint8_t> shared(1024);
  LoadOptions o;
  o.into["embed"] = {shared.data(), 512, Dtype::kF32};
  o.into["head"] = {shared.data(), 512, Dtype::kF32};
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded, LoadCheckpoint(*client_, "/tied.safetensors", o));
  EXPECT_EQ(std::vector<uint8_t>(shared.begin(), shared.begin() + 512), tied);
  EXPECT_EQ(loaded.allocated_bytes(), 0u);
  o.into["head"] = {shared.data() + 4, 512, Dtype::kF32};  // not the same place: an overlap
  auto r = LoadCheckpoint(*client_, "/tied.safetensors", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("overlap"), std::string::npos) << r.status().ToString();
}

TEST_F(Loader, ShardedCheckpointByItsIndex) {
  const std::string dir = DataDir();
  if (dir.empty()) GTEST_SKIP() << "GRANARY_SAFETENSORS_DIR not set (bench/make_safetensors.sh)";
  const fs::path sharded = fs::path(dir) / "bf16-sharded";
  ASSERT_OK(client_->Mkdir("/sharded", 0755, true).status());
  std::map<std::string, std::vector<uint8_t>> expected;
  for (const auto& e : fs::directory_iterator(sharded)) {
    const std::vector<uint8_t> data = ReadLocal(e.path());
    ASSERT_OK(WriteFile(*client_, "/sharded/" + e.path().filename().string(), data));
    if (e.path().extension() == ".safetensors") expected.merge(TensorsOf(data));
  }
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint loaded,
                       LoadCheckpoint(*client_, "/sharded/model.safetensors.index.json"));
  EXPECT_EQ(loaded.tensors().size(), expected.size());
  EXPECT_EQ(loaded.stats().files, 5u);
  ExpectTensors(loaded, expected);
  // The folder works as well as the index, and a filter picks one model.
  LoadOptions o;
  o.tensors = "iris/*";
  ASSERT_OK_AND_ASSIGN(LoadedCheckpoint iris, LoadCheckpoint(*client_, "/sharded", o));
  EXPECT_GT(iris.tensors().size(), 0u);
  for (const auto& t : iris.tensors()) EXPECT_EQ(t.name.rfind("iris/", 0), 0u) << t.name;
  ExpectTensors(iris, expected);
}

}  // namespace
}  // namespace granary::testutil
