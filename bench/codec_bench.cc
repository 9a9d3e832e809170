// codec_bench: compression ratio and single-core encode/decode speed of the
// block codec on real checkpoints, every variant side by side in one run.
//
//   codec_bench [--repeat N] NAME=PATH [NAME=PATH ...]
//
// PATH is a safetensors file or a folder of them (read in name order). Each
// file is cut into 1 MiB blocks as the client does, and every block is
// encoded with each variant:
//   zstd-1, -3    plain zstd level 1 / 3 over the bytes (the codec before planes)
//   raw           stored as is (the floor for encode cost)
//   planes-hint   byte planes by each tensor's dtype from the header (what a
//                 safetensors write gets), float planes as Huffman literals
//   planes-hint-zstd1, -zstd3  the same with zstd level 1 / 3 on the planes
//   planes-sample no header: the encoder's sampling picks the layout
// plus "entropy", the order-0 entropy of the hinted planes: the size no
// entropy coder without matches gets below, to tell how much a custom
// coder could still win. Every decode is checked byte for byte.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "client/src/codec_hints.h"
#include "common/codec/block.h"
#include "common/codec/planes.h"

namespace {

using granary::ByteSpan;
namespace codec = granary::codec;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Variant {
  const char* name;
  int level;
  bool hints;
  codec::CodecPolicy policy;
  bool literals = true;
};
constexpr Variant kVariants[] = {
    {"raw", 1, false, codec::CodecPolicy::kRaw},
    {"zstd-1", 1, false, codec::CodecPolicy::kZstd},
    {"zstd-3", 3, false, codec::CodecPolicy::kZstd},
    {"planes-hint", 1, true, codec::CodecPolicy::kAuto},
    {"planes-hint-zstd1", 1, true, codec::CodecPolicy::kAuto, false},
    {"planes-hint-zstd3", 3, true, codec::CodecPolicy::kAuto, false},
    {"planes-sample", 1, false, codec::CodecPolicy::kAuto},
};
constexpr size_t kNumVariants = sizeof(kVariants) / sizeof(kVariants[0]);

struct Totals {
  uint64_t raw = 0;
  uint64_t stored[kNumVariants] = {};
  double encode_s[kNumVariants] = {};
  double decode_s[kNumVariants] = {};
  uint64_t planes_blocks[kNumVariants] = {};
  uint64_t blocks = 0;
  double entropy_bytes = 0;
};

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::vector<uint8_t> ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Order-0 entropy bound of the planes a hinted block would be cut into.
double EntropyBytes(ByteSpan raw, const codec::EncodeOptions& o) {
  std::vector<codec::Region> regions =
      codec::BuildRegions(static_cast<uint32_t>(raw.size()), o.types);
  double bytes = 0;
  size_t off = 0;
  std::vector<uint8_t> scratch;
  for (const codec::Region& r : regions) {
    const uint32_t w = codec::LayoutWidth(r.layout);
    const size_t n = r.length / w;
    scratch.resize(r.length);
    uint8_t* planes[4];
    for (uint32_t p = 0; p < w; ++p) planes[p] = scratch.data() + p * n;
    codec::SplitPlanes(r.layout, raw.data() + off, n, planes);
    for (uint32_t p = 0; p < w; ++p) bytes += codec::ByteEntropy(planes[p], n) / 8.0 * n;
    off += r.length;
  }
  return bytes;
}

bool RunData(const std::string& path, const std::vector<uint8_t>& data, int repeat, Totals* t) {
  granary::CodecHints hints(0);
  hints.Observe(0, ByteSpan(data.data(), data.size()));
  if (!hints.has_tensors()) std::fprintf(stderr, "note: %s has no float tensors\n", path.c_str());
  std::vector<uint8_t> enc(codec::MaxEncodedSize(codec::kDefaultBlockSize));
  std::vector<uint8_t> dec;
  std::vector<codec::TypedRange> ranges;
  for (size_t off = 0; off < data.size(); off += codec::kDefaultBlockSize) {
    const size_t len = std::min<size_t>(codec::kDefaultBlockSize, data.size() - off);
    ByteSpan raw(data.data() + off, len);
    t->raw += len;
    ++t->blocks;
    const codec::EncodeOptions hinted = hints.ForBlock(off, static_cast<uint32_t>(len), &ranges);
    t->entropy_bytes += EntropyBytes(raw, hinted);
    for (size_t v = 0; v < kNumVariants; ++v) {
      codec::EncodeOptions o = kVariants[v].hints ? hinted : codec::EncodeOptions{};
      o.zstd_level = kVariants[v].level;
      o.policy = kVariants[v].policy;
      o.literal_planes = kVariants[v].literals;
      size_t n = 0;
      auto a = Clock::now();
      for (int r = 0; r < repeat; ++r) {
        auto res = codec::EncodeBlock(raw, o, enc);
        if (!res.ok()) {
          std::fprintf(stderr, "%s: encode: %s\n", path.c_str(), res.status().ToString().c_str());
          return false;
        }
        n = *res;
      }
      auto b = Clock::now();
      auto h = codec::ParseBlockHeader(ByteSpan(enc.data(), n));
      if (!h.ok()) return false;
      if (h->codec == codec::CodecId::kPlanes) ++t->planes_blocks[v];
      dec.assign(len, 0);
      ByteSpan stored(enc.data() + codec::kBlockHeaderSize, n - codec::kBlockHeaderSize);
      auto c = Clock::now();
      for (int r = 0; r < repeat; ++r) {
        granary::Status st = codec::DecodeBlock(*h, stored, dec);
        if (!st.ok()) {
          std::fprintf(stderr, "%s: decode: %s\n", path.c_str(), st.ToString().c_str());
          return false;
        }
      }
      auto d = Clock::now();
      if (std::memcmp(dec.data(), raw.data(), len) != 0) {
        std::fprintf(stderr, "%s: block at %zu does not round-trip (%s)\n", path.c_str(), off,
                     kVariants[v].name);
        return false;
      }
      t->stored[v] += n;
      t->encode_s[v] += Seconds(a, b) / repeat;
      t->decode_s[v] += Seconds(c, d) / repeat;
    }
  }
  return true;
}

void Print(const std::string& name, const Totals& t) {
  const double mb = t.raw / 1e6;
  for (size_t v = 0; v < kNumVariants; ++v) {
    std::printf("| %s | %.1f | %s | %.3fx | %llu/%llu | %.0f | %.0f |\n", name.c_str(), mb,
                kVariants[v].name, double(t.raw) / double(t.stored[v]),
                (unsigned long long)t.planes_blocks[v], (unsigned long long)t.blocks,
                mb / t.encode_s[v], mb / t.decode_s[v]);
  }
  std::printf("| %s | %.1f | entropy (order-0 bound of the hinted planes) | %.3fx | | | |\n",
              name.c_str(), mb, double(t.raw) / t.entropy_bytes);
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 3;
  std::vector<std::pair<std::string, std::string>> sets;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (auto eq = a.find('='); eq != std::string::npos) {
      sets.emplace_back(a.substr(0, eq), a.substr(eq + 1));
    } else {
      std::fprintf(stderr, "usage: codec_bench [--repeat N] NAME=PATH ...\n");
      return 2;
    }
  }
  if (sets.empty()) {
    std::fprintf(stderr, "usage: codec_bench [--repeat N] NAME=PATH ...\n");
    return 2;
  }
  std::printf("| set | MB | variant | ratio | planes blocks | encode MB/s | decode MB/s |\n");
  std::printf("|---|---:|---|---:|---:|---:|---:|\n");
  for (const auto& [name, path] : sets) {
    std::vector<fs::path> files;
    if (path.starts_with("random:")) {
      // Incompressible bytes: what sampling costs a write that cannot pay.
      std::vector<uint8_t> data(std::stoull(path.substr(7)) << 20);
      std::mt19937_64 rng(1);
      for (size_t i = 0; i + 8 <= data.size(); i += 8) {
        const uint64_t x = rng();
        std::memcpy(data.data() + i, &x, 8);
      }
      Totals t;
      if (!RunData(path, data, repeat, &t)) return 1;
      Print(name, t);
      continue;
    }
    if (fs::is_directory(path)) {
      for (const auto& e : fs::directory_iterator(path)) {
        if (e.path().extension() == ".safetensors") files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(path);
    }
    if (files.empty()) {
      std::fprintf(stderr, "%s: no .safetensors files in %s\n", name.c_str(), path.c_str());
      return 1;
    }
    Totals t;
    for (const auto& f : files) {
      if (!RunData(f.string(), ReadAll(f), repeat, &t)) return 1;
    }
    Print(name, t);
    std::fflush(stdout);
  }
  return 0;
}
