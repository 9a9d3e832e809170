// Fuzz target: safetensors headers and index files
// (client/include/granary/safetensors.h), as read from checkpoints a user
// points the loader at. Any bytes must give a clean error or a header that
// keeps every promise the parser makes; never a crash, a hang or a read past
// the input.
//
// The input is tried four ways:
//   1. as a whole file (8-byte length, JSON, data), known size and unknown;
//   2. as the JSON alone, with a length prefix that fits (mutations that
//      change the size would otherwise mostly die at the length check);
//   3. as a compact list of tensors written out as JSON, so that one byte
//      flip moves a tensor by a byte (an overlap or gap of one byte would
//      otherwise need several coordinated edits of the JSON text);
//   4. as a model.safetensors.index.json.
// Every accepted header must be sorted and tile its data region, and must
// survive BuildSafetensorsHeader -> ParseSafetensorsHeader unchanged. Every
// error message must be short and valid UTF-8 (it travels in a protobuf
// string).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/endian.h"
#include "granary/safetensors.h"

using namespace granary;

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "safetensors_fuzz: invariant broken: %s\n", what);
  std::abort();
}

void Check(bool ok, const char* what) {
  if (!ok) Fail(what);
}

// An error message is bounded and valid UTF-8 (nlohmann's strict dump
// checks the latter independently of the parser's own escaping).
template <class T>
Result<T> Checked(Result<T> r) {
  if (r.ok()) return r;
  const Status st = r.status();
  const std::string& m = st.message();
  Check(!m.empty() && m.size() < 1024, "error message length");
  try {
    (void)nlohmann::json(m).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::exception&) {
    Fail("error message is not UTF-8");
  }
  return r;
}

// Relative offsets, so headers of different lengths compare equal.
struct Rel {
  std::string name;
  Dtype dtype;
  std::vector<uint64_t> shape;
  uint64_t begin, end;
  bool operator==(const Rel&) const = default;
};

std::vector<Rel> Relative(const SafetensorsHeader& h) {
  std::vector<Rel> out;
  for (const TensorInfo& t : h.tensors) {
    out.push_back({t.name, t.dtype, t.shape, t.begin - h.data_start, t.end - h.data_start});
  }
  return out;
}

// What every accepted header promises. Returns where the data ends.
uint64_t CheckHeader(const SafetensorsHeader& h, uint64_t file_size) {
  Check(h.header_len > 0 && h.header_len <= kMaxSafetensorsHeader, "header_len bounds");
  Check(h.data_start == 8 + h.header_len, "data_start == 8 + N");
  Check(h.data_start <= file_size, "data_start inside the file");
  uint64_t pos = h.data_start;
  for (const TensorInfo& t : h.tensors) {
    Check(!t.name.empty() && t.name != "__metadata__", "tensor name");
    Check(t.begin == pos, "tensors tile the data region");
    Check(t.begin <= t.end && t.end <= file_size, "tensor inside the file");
    Result<uint64_t> bytes = TensorByteSize(t.dtype, t.shape);
    Check(bytes.ok() && *bytes == t.end - t.begin, "size == shape x dtype");
    pos = t.end;
  }
  if (file_size != kUnknownSafetensorsFileSize)
    Check(pos == file_size, "last tensor ends the file");
  for (size_t i = 1; i < h.metadata.size(); ++i) {
    Check(h.metadata[i - 1].first < h.metadata[i].first, "metadata sorted and distinct");
  }
  return pos;
}

// Rebuilding an accepted header lays the tensors out the same way.
void CheckRoundTrip(const SafetensorsHeader& h) {
  std::vector<TensorSpec> specs;
  for (const TensorInfo& t : h.tensors) specs.push_back({t.name, t.dtype, t.shape});
  Result<std::string> built = BuildSafetensorsHeader(specs, h.metadata);
  Check(built.ok(), "BuildSafetensorsHeader accepts a parsed header");
  Check(built->size() % 8 == 0, "built header is 8-aligned");
  uint64_t data = h.tensors.empty() ? 0 : h.tensors.back().end - h.data_start;
  Result<SafetensorsHeader> again = ParseSafetensorsHeader(
      ByteSpan(reinterpret_cast<const uint8_t*>(built->data()), built->size()),
      built->size() + data);
  Check(again.ok(), "a built header parses");
  Check(Relative(*again) == Relative(h), "round trip keeps the tensors");
  Check(again->metadata == h.metadata, "round trip keeps the metadata");
}

// Whole-file parse of `file` with its real size, and as a file still being
// written; the known size can only be stricter.
void ParseFile(ByteSpan file) {
  Result<SafetensorsHeader> known = Checked(ParseSafetensorsHeader(file, file.size()));
  Result<SafetensorsHeader> unknown =
      Checked(ParseSafetensorsHeader(file, kUnknownSafetensorsFileSize));
  if (known.ok()) {
    CheckHeader(*known, file.size());
    Check(unknown.ok() && Relative(*unknown) == Relative(*known), "known size implies unknown");
    CheckRoundTrip(*known);
  }
  if (unknown.ok()) {
    uint64_t end = CheckHeader(*unknown, kUnknownSafetensorsFileSize);
    // The same header with the file size it implies must be accepted.
    Result<SafetensorsHeader> exact =
        ParseSafetensorsHeader(file.first(8 + unknown->header_len), end);
    Check(exact.ok() && Relative(*exact) == Relative(*unknown), "implied file size accepted");
    CheckRoundTrip(*unknown);
  }
}

// Mode 3: 4 bytes a tensor: dtype (low nibble; 15 is unknown) and rank (0-2),
// two dimensions, and a layout byte: the high nibble (signed) moves the
// tensor's begin from the previous end, bit 0 stretches its end by one byte,
// bit 1 reuses the previous name.
std::string TensorsAsJson(const uint8_t* data, size_t size) {
  std::string json = "{";
  int64_t prev_end = 0;
  for (size_t i = 0; i + 4 <= size && i < 4 * 16; i += 4) {
    const uint8_t kind = data[i], layout = data[i + 3];
    const auto dtype = static_cast<Dtype>(kind & 15);
    const std::string_view dtype_name = (kind & 15) < 15 ? DtypeName(dtype) : "F4";
    std::vector<uint64_t> shape;
    for (int d = 0; d < (kind >> 4) % 3; ++d) shape.push_back(data[i + 1 + d]);
    const uint64_t bytes = (kind & 15) < 15 ? *TensorByteSize(dtype, shape) : 1;
    const int64_t begin = std::max<int64_t>(0, prev_end + (static_cast<int8_t>(layout) >> 4));
    const int64_t end = begin + static_cast<int64_t>(bytes) + (layout & 1);
    const size_t name = (layout & 2) && i > 0 ? i / 4 - 1 : i / 4;
    if (i > 0) json += ',';
    json += "\"t" + std::to_string(name) + "\":{\"dtype\":\"" + std::string(dtype_name) +
            "\",\"shape\":[";
    for (size_t d = 0; d < shape.size(); ++d) json += (d ? "," : "") + std::to_string(shape[d]);
    json += "],\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(end) + "]}";
    prev_end = end;
  }
  return json + "}";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ParseFile(ByteSpan(data, size));

  // Only the first 8 + N bytes matter: a prefix cut short of them is the
  // caller's error, reported without reading past it (an exact-size heap copy
  // lets ASan see any over-read); one that holds them parses as the file.
  if (size > 8) {
    size_t cut = 8 + (size - 8) / 2;
    auto prefix = std::make_unique<uint8_t[]>(cut);
    std::memcpy(prefix.get(), data, cut);
    Result<SafetensorsHeader> part =
        Checked(ParseSafetensorsHeader(ByteSpan(prefix.get(), cut), size));
    if (part.ok()) {
      Result<SafetensorsHeader> whole = ParseSafetensorsHeader(ByteSpan(data, size), size);
      Check(whole.ok() && Relative(*whole) == Relative(*part), "a prefix parses as the file");
    }
  }

  // The input as the JSON of a header.
  if (size > 0 && size <= kMaxSafetensorsHeader) {
    auto file = std::make_unique<uint8_t[]>(8 + size);
    PutU64(file.get(), size);
    std::memcpy(file.get() + 8, data, size);
    ParseFile(ByteSpan(file.get(), 8 + size));
  }

  std::string json = TensorsAsJson(data, size);
  std::string file(8, '\0');
  PutU64(reinterpret_cast<uint8_t*>(file.data()), json.size());
  file += json;
  ParseFile(ByteSpan(reinterpret_cast<const uint8_t*>(file.data()), file.size()));

  Result<SafetensorsIndex> index =
      Checked(ParseSafetensorsIndex(std::string_view(reinterpret_cast<const char*>(data), size)));
  if (index.ok()) {
    Check(!index->weight_map.empty(), "index has tensors");
    for (size_t i = 1; i < index->shards.size(); ++i) {
      Check(index->shards[i - 1] < index->shards[i], "shards sorted and distinct");
    }
    for (const auto& [tensor, shard] : index->weight_map) {
      Check(!tensor.empty(), "index tensor name");
      Check(!shard.empty() && shard != "." && shard != ".." &&
                shard.find_first_of(std::string("/\\\0", 3)) == std::string::npos,
            "shard is a plain file name");
      Check(std::binary_search(index->shards.begin(), index->shards.end(), shard), "shard listed");
    }
  }
  return 0;
}
