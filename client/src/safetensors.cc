#include "granary/safetensors.h"

#include <algorithm>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "common/endian.h"

namespace granary {

namespace {

using Json = nlohmann::json;

// A valid header is {name: {"shape": [..]}}: three levels. One more lets a
// wrong type one level down (shape [[2]], a metadata value that is an object)
// get a precise message instead of "too deep".
constexpr size_t kMaxHeaderDepth = 4;
// Index metadata is free-form but has no reason to nest deeply.
constexpr size_t kMaxIndexDepth = 16;

struct DtypeEntry {
  Dtype dtype;
  std::string_view name;
  size_t size;
};
// Indexed by the enum's value.
constexpr DtypeEntry kDtypes[] = {
    {Dtype::kBool, "BOOL", 1},       {Dtype::kU8, "U8", 1},           {Dtype::kI8, "I8", 1},
    {Dtype::kF8_E4M3, "F8_E4M3", 1}, {Dtype::kF8_E5M2, "F8_E5M2", 1}, {Dtype::kI16, "I16", 2},
    {Dtype::kU16, "U16", 2},         {Dtype::kF16, "F16", 2},         {Dtype::kBF16, "BF16", 2},
    {Dtype::kI32, "I32", 4},         {Dtype::kU32, "U32", 4},         {Dtype::kF32, "F32", 4},
    {Dtype::kI64, "I64", 8},         {Dtype::kU64, "U64", 8},         {Dtype::kF64, "F64", 8},
};
constexpr size_t kNumDtypes = sizeof(kDtypes) / sizeof(kDtypes[0]);
static_assert(kDtypes[kNumDtypes - 1].dtype == Dtype::kF64);

// Length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629: no overlong
// forms, surrogates or code points above U+10FFFF).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  const unsigned c = at(i);
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return at(k) >= lo && at(k) <= hi;
  };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

// A name, for an error message: quoted, control bytes and invalid UTF-8
// escaped (messages travel in protobuf strings, which must be UTF-8), long
// names cut, so one bad name cannot make a message unreadable or huge.
std::string Quote(std::string_view s) {
  constexpr size_t kMaxShown = 64;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = Utf8SequenceLength(s, i);
    if (i + std::max<size_t>(n, 1) > kMaxShown) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (n == 0 || c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out += '"';
  if (i < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

// nlohmann's parse-error text quotes the raw bytes it stopped at, which may be
// anything: keep printable ASCII only, and keep it short.
std::string SanitizeParseError(std::string_view what) {
  if (size_t p = what.find("] "); p != std::string_view::npos) what.remove_prefix(p + 2);
  constexpr size_t kMaxShown = 200;
  std::string out;
  for (size_t i = 0; i < what.size() && out.size() < kMaxShown; ++i) {
    auto c = static_cast<unsigned char>(what[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (out.size() < what.size()) out += "...";
  return out;
}

// "[2,3]"; a shape of thousands of dimensions is cut short.
std::string ShapeString(std::span<const uint64_t> shape) {
  constexpr size_t kMaxShown = 8;
  std::string s = "[";
  for (size_t i = 0; i < shape.size() && i < kMaxShown; ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  if (shape.size() > kMaxShown) s += ",... (" + std::to_string(shape.size()) + " dimensions)";
  return s + "]";
}

std::string OffsetsString(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

// What a JSON value is, for "X is <this>, not a string": scalars as written,
// containers by kind only (they may be huge).
std::string Describe(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string:
      return "the string " + Quote(v.get_ref<const std::string&>());
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::null:
      return "null";
    default:
      return v.dump();  // numbers, booleans: short
  }
}

// A JSON non-negative integer. nlohmann types "-0" as a signed integer;
// it is 0, as serde (the reference implementation) reads it.
std::optional<uint64_t> AsU64(const Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() == 0) return 0;
  return std::nullopt;
}

std::optional<uint64_t> ByteSize(Dtype dtype, std::span<const uint64_t> shape) {
  // A zero dimension makes the tensor empty however large the others are;
  // checking for it first keeps the answer independent of dimension order.
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  uint64_t n = DtypeSize(dtype);
  for (uint64_t d : shape) {
    if (n > std::numeric_limits<uint64_t>::max() / d) return std::nullopt;
    n *= d;
  }
  return n;
}

// Builds a JSON DOM from SAX events, adding the two checks nlohmann's own
// parser lacks: a duplicate key is an error (nlohmann keeps the last one
// silently, so two readers could disagree on a tensor's offsets), and nesting
// beyond max_depth stops the parse before anything deeper is built.
class BoundedDomBuilder final : public Json::json_sax_t {
 public:
  explicit BoundedDomBuilder(size_t max_depth) : max_depth_(max_depth) {}

  Json& root() { return root_; }
  const std::string& error() const { return error_; }

  bool null() override { return Value(nullptr); }
  bool boolean(bool v) override { return Value(v); }
  bool number_integer(number_integer_t v) override { return Value(v); }
  bool number_unsigned(number_unsigned_t v) override { return Value(v); }
  bool number_float(number_float_t v, const string_t&) override { return Value(v); }
  bool string(string_t& v) override { return Value(std::move(v)); }
  bool binary(binary_t&) override { return Fail("binary values are not JSON"); }

  bool start_object(size_t) override { return Open(Json::object()); }
  bool end_object() override { return Close(); }
  bool start_array(size_t) override { return Open(Json::array()); }
  bool end_array() override { return Close(); }

  bool key(string_t& k) override {
    auto& obj = stack_.back()->get_ref<Json::object_t&>();
    auto [it, inserted] = obj.try_emplace(k);
    if (!inserted) return Fail("duplicate key " + Quote(k));
    slot_ = &it->second;
    return true;
  }

  bool parse_error(size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    return Fail("invalid JSON at byte " + std::to_string(position) + ": " +
                SanitizeParseError(ex.what()));
  }

 private:
  // Places a value where the parser is: the root, the next array element, or
  // the slot the last key() made. Returns where it went.
  Json* Add(Json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Json* top = stack_.back();
    if (top->is_array()) {
      // Pointers to enclosing containers stay valid: only the innermost open
      // array grows.
      top->push_back(std::move(v));
      return &top->back();
    }
    *slot_ = std::move(v);
    return slot_;
  }

  bool Value(Json v) {
    Add(std::move(v));
    return true;
  }

  bool Open(Json container) {
    if (stack_.size() >= max_depth_) {
      return Fail("JSON nesting deeper than " + std::to_string(max_depth_) + " levels");
    }
    stack_.push_back(Add(std::move(container)));
    return true;
  }

  bool Close() {
    stack_.pop_back();
    return true;
  }

  bool Fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
    return false;
  }

  size_t max_depth_;
  Json root_;
  std::vector<Json*> stack_;
  Json* slot_ = nullptr;
  std::string error_;
};

// Never throws: nlohmann reports syntax errors (including invalid UTF-8 in
// strings) through the SAX handler, and anything else it throws is caught.
Result<Json> ParseJson(std::string_view text, size_t max_depth, std::string_view what) {
  // nlohmann's lexer takes a NUL byte for the end of input and would accept
  // whatever follows it; JSON has no raw NULs, so reject them up front.
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return Status::Corruption(std::string(what) + ": invalid JSON: NUL byte at byte " +
                              std::to_string(nul));
  }
  BoundedDomBuilder builder(max_depth);
  try {
    if (Json::sax_parse(text.begin(), text.end(), &builder)) return std::move(builder.root());
  } catch (const std::exception& e) {
    return Status::Corruption(std::string(what) + ": " + SanitizeParseError(e.what()));
  }
  std::string msg = builder.error().empty() ? "invalid JSON" : builder.error();
  return Status::Corruption(std::string(what) + ": " + msg);
}

Status HeaderError(std::string msg) { return Status::Corruption("safetensors header: " + msg); }

Result<TensorInfo> ParseTensor(const std::string& name, const Json& entry, uint64_t data_start,
                               uint64_t data_size, uint64_t file_size) {
  if (name.empty()) return HeaderError("tensor with an empty name");
  const std::string tensor = "tensor " + Quote(name) + ": ";
  if (!entry.is_object())
    return HeaderError(tensor + "entry is " + Describe(entry) + ", not an object");
  const Json* dtype = nullptr;
  const Json* shape = nullptr;
  const Json* offsets = nullptr;
  for (const auto& [key, value] : entry.get_ref<const Json::object_t&>()) {
    if (key == "dtype") {
      dtype = &value;
    } else if (key == "shape") {
      shape = &value;
    } else if (key == "data_offsets") {
      offsets = &value;
    } else {
      return HeaderError(tensor + "unexpected key " + Quote(key) +
                         " (expected dtype, shape, data_offsets)");
    }
  }
  if (!dtype) return HeaderError(tensor + "missing \"dtype\"");
  if (!shape) return HeaderError(tensor + "missing \"shape\"");
  if (!offsets) return HeaderError(tensor + "missing \"data_offsets\"");

  TensorInfo t;
  t.name = name;
  if (!dtype->is_string())
    return HeaderError(tensor + "dtype is " + Describe(*dtype) + ", not a string");
  auto parsed = ParseDtype(dtype->get_ref<const std::string&>());
  if (!parsed.ok()) return HeaderError(tensor + parsed.status().message());
  t.dtype = *parsed;

  if (!shape->is_array())
    return HeaderError(tensor + "shape is " + Describe(*shape) + ", not an array");
  t.shape.reserve(shape->size());
  for (size_t i = 0; i < shape->size(); ++i) {
    const Json& d = (*shape)[i];
    std::optional<uint64_t> dim = AsU64(d);
    if (!dim) {
      return HeaderError(tensor + "shape[" + std::to_string(i) + "] is " + Describe(d) +
                         ", not a non-negative integer");
    }
    t.shape.push_back(*dim);
  }

  std::optional<uint64_t> begin_or, end_or;
  if (offsets->is_array() && offsets->size() == 2) {
    begin_or = AsU64((*offsets)[0]);
    end_or = AsU64((*offsets)[1]);
  }
  if (!begin_or || !end_or) {
    // Short arrays of scalars are shown as written; anything else by kind.
    bool small = offsets->is_array() && offsets->size() <= 4 &&
                 std::none_of(offsets->begin(), offsets->end(),
                              [](const Json& v) { return v.is_structured() || v.is_string(); });
    return HeaderError(tensor +
                       "data_offsets must be [begin, end] of two non-negative integers, got " +
                       (small ? offsets->dump() : Describe(*offsets)));
  }
  const uint64_t begin = *begin_or;
  const uint64_t end = *end_or;
  if (begin > end) {
    return HeaderError(tensor + "data_offsets " + OffsetsString(begin, end) + " have begin > end");
  }
  std::string layout = "shape " + ShapeString(t.shape) + " x " + std::string(DtypeName(t.dtype));
  std::optional<uint64_t> bytes = ByteSize(t.dtype, t.shape);
  if (!bytes) return HeaderError(tensor + layout + " overflows 64 bits");
  if (*bytes != end - begin) {
    return HeaderError(tensor + layout + " = " + std::to_string(*bytes) +
                       " bytes but data_offsets span " + std::to_string(end - begin));
  }
  if (end > data_size) {
    if (file_size == kUnknownSafetensorsFileSize) {
      return HeaderError(tensor + "data_offsets " + OffsetsString(begin, end) +
                         " end past the largest file offset");
    }
    return HeaderError(tensor + "data_offsets " + OffsetsString(begin, end) +
                       " end past the data region of " + std::to_string(data_size) +
                       " bytes (file of " + std::to_string(file_size) + " bytes, data starts at " +
                       std::to_string(data_start) + ")");
  }
  // No overflow: end <= data_size = file_size - data_start.
  t.begin = data_start + begin;
  t.end = data_start + end;
  return t;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseMetadata(const Json& m) {
  if (!m.is_object()) return HeaderError("__metadata__ is " + Describe(m) + ", not an object");
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(m.size());
  for (const auto& [key, value] : m.get_ref<const Json::object_t&>()) {
    if (!value.is_string()) {
      return HeaderError("__metadata__ " + Quote(key) + ": value is " + Describe(value) +
                         ", not a string");
    }
    out.emplace_back(key, value.get_ref<const std::string&>());
  }
  return out;
}

// Tensors (sorted by begin, then end) must tile [0, data_size) exactly, as
// the reference implementation requires: no byte is read as two tensors, and
// no unaccounted bytes hide in the file. With an unknown file size only the
// end is free.
Status CheckLayout(const std::vector<TensorInfo>& tensors, uint64_t data_start, uint64_t data_size,
                   bool size_known) {
  uint64_t pos = 0;
  const TensorInfo* prev = nullptr;
  for (const TensorInfo& t : tensors) {
    uint64_t begin = t.begin - data_start;
    if (begin < pos) {
      return HeaderError("tensor " + Quote(t.name) + " data_offsets " +
                         OffsetsString(begin, t.end - data_start) + " overlaps tensor " +
                         Quote(prev->name) + " data_offsets " +
                         OffsetsString(prev->begin - data_start, prev->end - data_start));
    }
    if (begin > pos) {
      return HeaderError("gap: no tensor covers data bytes " + OffsetsString(pos, begin) +
                         " (before tensor " + Quote(t.name) + ")");
    }
    pos = t.end - data_start;
    prev = &t;
  }
  if (size_known && pos != data_size) {
    return HeaderError("tensors cover data bytes [0, " + std::to_string(pos) +
                       ") but the data region holds " + std::to_string(data_size) +
                       " bytes: trailing bytes after the last tensor");
  }
  return Status::Ok();
}

// Plain file name in the index's folder.
bool IsPlainFileName(std::string_view s) {
  return !s.empty() && s != "." && s != ".." &&
         s.find_first_of(std::string_view("/\\\0", 3)) == std::string_view::npos;
}

Status IndexError(std::string msg) { return Status::Corruption("safetensors index: " + msg); }

}  // namespace

size_t DtypeSize(Dtype dtype) {
  auto i = static_cast<size_t>(dtype);
  return i < kNumDtypes ? kDtypes[i].size : 0;
}

std::string_view DtypeName(Dtype dtype) {
  auto i = static_cast<size_t>(dtype);
  return i < kNumDtypes ? kDtypes[i].name : "?";
}

Result<Dtype> ParseDtype(std::string_view name) {
  for (const DtypeEntry& e : kDtypes) {
    if (e.name == name) return e.dtype;
  }
  return Status::InvalidArgument("unknown dtype " + Quote(name));
}

Result<uint64_t> TensorByteSize(Dtype dtype, std::span<const uint64_t> shape) {
  std::optional<uint64_t> n = ByteSize(dtype, shape);
  if (!n) {
    return Status::InvalidArgument("shape " + ShapeString(shape) + " x " +
                                   std::string(DtypeName(dtype)) + " overflows 64 bits");
  }
  return *n;
}

Result<uint64_t> SafetensorsHeaderLength(ByteSpan first8, uint64_t file_size) {
  if (file_size < 8) {
    return HeaderError("file of " + std::to_string(file_size) +
                       " bytes is too short for the 8-byte header length");
  }
  if (first8.size() < 8) {
    return Status::InvalidArgument("safetensors header: need the first 8 bytes of the file, got " +
                                   std::to_string(first8.size()));
  }
  uint64_t n = GetU64(first8.data());
  if (n == 0) return HeaderError("header length is 0");
  if (n > kMaxSafetensorsHeader) {
    return HeaderError("header length " + std::to_string(n) + " exceeds the cap of " +
                       std::to_string(kMaxSafetensorsHeader) + " bytes");
  }
  if (n > file_size - 8) {
    return HeaderError("header length " + std::to_string(n) +
                       " runs past the end of the file: 8 + " + std::to_string(n) +
                       " > file size " + std::to_string(file_size));
  }
  return n;
}

Result<SafetensorsHeader> ParseSafetensorsHeader(ByteSpan prefix, uint64_t file_size) {
  ASSIGN_OR_RETURN(uint64_t n, SafetensorsHeaderLength(
                                   prefix.first(std::min<size_t>(prefix.size(), 8)), file_size));
  if (prefix.size() - 8 < n) {
    return Status::InvalidArgument("safetensors header: have " + std::to_string(prefix.size()) +
                                   " bytes of the file but the header needs 8 + " +
                                   std::to_string(n));
  }
  std::string_view text(reinterpret_cast<const char*>(prefix.data()) + 8, n);
  ASSIGN_OR_RETURN(Json root, ParseJson(text, kMaxHeaderDepth, "safetensors header"));
  if (!root.is_object()) return HeaderError("top level is " + Describe(root) + ", not an object");

  SafetensorsHeader h;
  h.header_len = n;
  h.data_start = 8 + n;
  const uint64_t data_size = file_size - h.data_start;
  const auto& entries = root.get_ref<const Json::object_t&>();
  h.tensors.reserve(entries.size());
  for (const auto& [name, entry] : entries) {
    if (name == "__metadata__") {
      ASSIGN_OR_RETURN(h.metadata, ParseMetadata(entry));
      continue;
    }
    ASSIGN_OR_RETURN(TensorInfo t, ParseTensor(name, entry, h.data_start, data_size, file_size));
    h.tensors.push_back(std::move(t));
  }
  // Names are distinct (duplicate keys were rejected), so the order is total.
  std::sort(h.tensors.begin(), h.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  RETURN_IF_ERROR(
      CheckLayout(h.tensors, h.data_start, data_size, file_size != kUnknownSafetensorsFileSize));
  return h;
}

Result<SafetensorsIndex> ParseSafetensorsIndex(std::string_view json) {
  // Real indexes are a few MB; the cap bounds the DOM's memory.
  if (json.size() > kMaxSafetensorsHeader) {
    return IndexError("index of " + std::to_string(json.size()) + " bytes exceeds the cap of " +
                      std::to_string(kMaxSafetensorsHeader));
  }
  ASSIGN_OR_RETURN(Json root, ParseJson(json, kMaxIndexDepth, "safetensors index"));
  if (!root.is_object()) return IndexError("top level is " + Describe(root) + ", not an object");
  auto it = root.find("weight_map");
  if (it == root.end()) return IndexError("missing \"weight_map\"");
  if (!it->is_object()) return IndexError("weight_map is " + Describe(*it) + ", not an object");
  const auto& map = it->get_ref<const Json::object_t&>();
  if (map.empty()) return IndexError("weight_map is empty");

  SafetensorsIndex index;
  std::set<std::string> shards;
  index.weight_map.reserve(map.size());
  for (const auto& [tensor, shard] : map) {
    if (tensor.empty()) return IndexError("weight_map has an empty tensor name");
    if (!shard.is_string()) {
      return IndexError("weight_map " + Quote(tensor) + ": shard is " + Describe(shard) +
                        ", not a string");
    }
    const auto& file = shard.get_ref<const std::string&>();
    if (!IsPlainFileName(file)) {
      return IndexError(
          "weight_map " + Quote(tensor) + ": shard " + Quote(file) +
          " is not a plain file name (empty, \".\", \"..\", or has '/', '\\' or NUL)");
    }
    index.weight_map.emplace_back(tensor, file);
    shards.insert(file);
  }
  index.shards.assign(shards.begin(), shards.end());
  return index;
}

Result<std::string> BuildSafetensorsHeader(
    std::span<const TensorSpec> tensors,
    std::span<const std::pair<std::string, std::string>> metadata) {
  Json root = Json::object();
  uint64_t offset = 0;
  for (const TensorSpec& t : tensors) {
    if (t.name.empty()) return Status::InvalidArgument("safetensors: tensor with an empty name");
    if (t.name == "__metadata__") {
      return Status::InvalidArgument("safetensors: tensor name \"__metadata__\" is reserved");
    }
    if (static_cast<size_t>(t.dtype) >= kNumDtypes) {
      return Status::InvalidArgument("safetensors: tensor " + Quote(t.name) + ": invalid dtype " +
                                     std::to_string(static_cast<int>(t.dtype)));
    }
    if (root.contains(t.name)) {
      return Status::InvalidArgument("safetensors: duplicate tensor " + Quote(t.name));
    }
    std::optional<uint64_t> bytes = ByteSize(t.dtype, t.shape);
    if (!bytes || *bytes > std::numeric_limits<uint64_t>::max() - offset) {
      return Status::InvalidArgument(
          "safetensors: tensor " + Quote(t.name) + ": shape " + ShapeString(t.shape) + " x " +
          std::string(DtypeName(t.dtype)) + " overflows 64 bits of data offsets");
    }
    Json entry = Json::object();
    entry["dtype"] = std::string(DtypeName(t.dtype));
    entry["shape"] = t.shape;
    entry["data_offsets"] = Json::array({offset, offset + *bytes});
    root[t.name] = std::move(entry);
    offset += *bytes;
  }
  if (!metadata.empty()) {
    Json m = Json::object();
    for (const auto& [key, value] : metadata) {
      if (m.contains(key)) {
        return Status::InvalidArgument("safetensors: duplicate __metadata__ key " + Quote(key));
      }
      m[key] = value;
    }
    root["__metadata__"] = std::move(m);
  }

  std::string text;
  try {
    text = root.dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    // type_error 316: a name or metadata string is not valid UTF-8.
    return Status::InvalidArgument("safetensors: " + SanitizeParseError(e.what()));
  }
  // Spaces are JSON whitespace; they align the data region to 8 bytes so
  // readers can map tensors in place.
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');
  if (text.size() > kMaxSafetensorsHeader) {
    return Status::InvalidArgument("safetensors: header of " + std::to_string(text.size()) +
                                   " bytes exceeds the cap of " +
                                   std::to_string(kMaxSafetensorsHeader));
  }
  std::string out(8, '\0');
  PutU64(reinterpret_cast<uint8_t*>(out.data()), text.size());
  out += text;
  return out;
}

}  // namespace granary
