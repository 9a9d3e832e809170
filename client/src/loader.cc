#include "granary/loader.h"

#include <fnmatch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "client/src/file_reader.h"
#include "client/src/load_target.h"

namespace granary {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kTensorAlign = 256;  // what GPU kernels expect of a tensor's start
constexpr uint64_t kBlock = 1u << 20;
constexpr uint64_t kMaxIndexBytes = 100u << 20;
constexpr std::string_view kIndexName = "model.safetensors.index.json";

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct SourceFile {
  std::string path;
  uint64_t size = 0;
  std::vector<TensorInfo> tensors;  // absolute offsets in the file
};

// One tensor's place: where in its file, where in the destination. A whole
// tensor is one run of bytes; a slice of a split tensor is `rows` runs of
// `run` bytes, `pitch` apart in the file, packed in the destination.
struct Placed {
  size_t file;
  uint64_t begin;  // file offset of the first run
  uint64_t run;
  uint64_t rows;
  uint64_t pitch;
  uint64_t dest;  // address in the destination (an offset in the allocation until it is made)
};

// One read: [begin, end) of a file, and the tensor parts in it. A part is
// `rows` runs of `len` bytes, `pitch` apart in the file, consecutive in the
// destination.
struct Piece {
  size_t file;
  uint64_t begin, end;
  struct Part {
    uint64_t src;  // file offset
    uint64_t len;
    uint64_t dest;  // address
    uint64_t rows = 1;
    uint64_t pitch = 0;
  };
  std::vector<Part> parts;
};

std::vector<std::string> SplitPatterns(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

bool Selected(const std::vector<std::string>& patterns, const std::string& name) {
  if (patterns.empty()) return true;
  for (const auto& p : patterns) {
    if (fnmatch(p.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
}

// The files of a load, with their tensor tables; nothing is allocated for
// tensor data yet.
Result<std::vector<SourceFile>> Plan(Client& client, const std::string& path, LoadStats* stats) {
  ASSIGN_OR_RETURN(FileInfo info, client.Stat(path));
  std::string index_path;
  std::vector<std::string> files;
  if (info.type == FileType::kDirectory) {
    ASSIGN_OR_RETURN(auto entries, client.ReadDir(path));
    for (const auto& e : entries) {
      if (e.name == kIndexName) index_path = JoinPath(path, e.name);
    }
    if (index_path.empty()) {
      for (const auto& e : entries) {
        if (e.info.type == FileType::kFile && e.name.ends_with(".safetensors")) {
          files.push_back(JoinPath(path, e.name));
        }
      }
      if (files.empty()) return Status::NotFound(path + ": no .safetensors files and no index");
    }
  } else if (path.ends_with(".json")) {
    index_path = path;
  } else {
    files.push_back(path);
  }

  // A sharded checkpoint: the index says which shard holds which tensor.
  std::map<std::string, std::string> owner;  // tensor -> shard path
  if (!index_path.empty()) {
    ASSIGN_OR_RETURN(auto r, client.Open(index_path));
    if (r->size() > kMaxIndexBytes) {
      return Status::InvalidArgument(index_path + ": " + std::to_string(r->size()) +
                                     " bytes, more than an index may hold");
    }
    std::string json(r->size(), '\0');
    RETURN_IF_ERROR(ReadExactly(*r, 0, MutableByteSpan(reinterpret_cast<uint8_t*>(json.data()),
                                                       json.size()))
                        .WithContext(index_path));
    auto idx = ParseSafetensorsIndex(json);
    if (!idx.ok()) return idx.status().WithContext(index_path);
    ASSIGN_OR_RETURN(auto parent, SplitParent(index_path));
    for (const auto& shard : idx->shards) files.push_back(JoinPath(parent.first, shard));
    for (const auto& [tensor, shard] : idx->weight_map) owner[tensor] = JoinPath(parent.first, shard);
  }

  std::vector<SourceFile> out;
  std::set<std::string> names;
  for (const std::string& f : files) {
    ASSIGN_OR_RETURN(auto reader, client.Open(f));
    SourceFile sf;
    sf.path = f;
    sf.size = reader->size();
    if (!f.ends_with(".safetensors")) {
      // Any other file: loaded whole, as bytes.
      ASSIGN_OR_RETURN(auto name, SplitParent(f));
      sf.tensors.push_back({name.second, Dtype::kU8, {sf.size}, 0, sf.size});
    } else {
      auto header = ReadSafetensorsHeader(*reader);
      if (!header.ok()) return header.status().WithContext(f);
      for (auto& t : header->tensors) {
        if (!owner.empty()) {
          auto it = owner.find(t.name);
          if (it == owner.end() || it->second != f) continue;  // the index places it elsewhere
        }
        sf.tensors.push_back(std::move(t));
      }
    }
    for (const auto& t : sf.tensors) {
      if (!names.insert(t.name).second) {
        return Status::Corruption(f + ": tensor \"" + t.name + "\" appears in two files");
      }
    }
    ++stats->files;
    out.push_back(std::move(sf));
  }
  for (const auto& [tensor, shard] : owner) {
    if (!names.count(tensor)) {
      return Status::Corruption(index_path + ": tensor \"" + tensor + "\" is not in " + shard);
    }
  }
  return out;
}

// Cuts the placed tensors into reads of at most `piece` bytes, on 1 MiB
// block boundaries of their file (a block is fetched and decoded once).
// Consecutive runs of a slice that fall in one piece become one part.
std::vector<Piece> CutPieces(const std::vector<SourceFile>& files, std::vector<Placed> placed,
                             uint64_t piece) {
  std::sort(placed.begin(), placed.end(), [](const Placed& a, const Placed& b) {
    return a.file != b.file ? a.file < b.file : a.begin < b.begin;
  });
  std::vector<Piece> out;
  for (const Placed& t : placed) {
    for (uint64_t r = 0; r < t.rows; ++r) {
      const uint64_t run_begin = t.begin + r * t.pitch;
      const uint64_t run_end = run_begin + t.run;
      uint64_t pos = run_begin;
      while (pos < run_end) {
        const uint64_t window = pos / piece * piece;
        const uint64_t stop = std::min(run_end, window + piece);
        const uint64_t dest = t.dest + r * t.run + (pos - run_begin);
        Piece* p = out.empty() ? nullptr : &out.back();
        if (p == nullptr || p->file != t.file || p->begin / piece != window / piece ||
            p->begin < window) {
          out.push_back({t.file, pos / kBlock * kBlock, 0, {}});
          p = &out.back();
        }
        Piece::Part* last = p->parts.empty() ? nullptr : &p->parts.back();
        if (last != nullptr && t.rows > 1 && pos == run_begin && stop == run_end &&
            last->len == t.run && last->src + last->rows * last->pitch == pos &&
            last->dest + last->rows * t.run == dest) {
          ++last->rows;  // the next whole run of the same slice
        } else {
          p->parts.push_back({pos, stop - pos, dest, 1, t.pitch});
        }
        const uint64_t file_size = files[t.file].size;
        p->end = std::max(p->end, std::min(file_size, (stop + kBlock - 1) / kBlock * kBlock));
        pos = stop;
      }
    }
  }
  return out;
}

// The rule that splits `t`, if any (first match wins).
const SplitRule* RuleFor(const std::vector<SplitRule>& rules, const std::string& name) {
  for (const SplitRule& r : rules) {
    if (fnmatch(r.pattern.c_str(), name.c_str(), 0) == 0) return &r;
  }
  return nullptr;
}

// What of tensor `t` of file `f` is read: whole, or this rank's slice of
// it. Where it goes (placed->dest) is decided by the caller.
Status PlaceTensor(const TensorInfo& t, size_t f, const LoadOptions& o, Placed* placed,
                   LoadedTensor* loaded) {
  *placed = {f, t.begin, t.end - t.begin, 1, 0, 0};
  const SplitRule* rule = o.world > 1 ? RuleFor(o.split, t.name) : nullptr;
  if (rule == nullptr) return Status::Ok();
  const int ndim = static_cast<int>(t.shape.size());
  const int dim = rule->dim < 0 ? rule->dim + ndim : rule->dim;
  if (dim < 0 || dim >= ndim) {
    return Status::InvalidArgument("tensor \"" + t.name + "\" has " + std::to_string(ndim) +
                                   " dimension(s); the rule \"" + rule->pattern + "\" splits dim " +
                                   std::to_string(rule->dim));
  }
  const uint64_t n = t.shape[static_cast<size_t>(dim)];
  const auto world = static_cast<uint64_t>(o.world);
  if (n % world != 0) {
    return Status::InvalidArgument("tensor \"" + t.name + "\": dim " + std::to_string(dim) +
                                   " of size " + std::to_string(n) + " does not split into " +
                                   std::to_string(world) + " equal parts");
  }
  uint64_t outer = 1, inner = DtypeSize(t.dtype);
  for (int d = 0; d < dim; ++d) outer *= t.shape[static_cast<size_t>(d)];
  for (int d = dim + 1; d < ndim; ++d) inner *= t.shape[static_cast<size_t>(d)];
  const uint64_t part = n / world;
  const uint64_t first = static_cast<uint64_t>(o.rank) * part;
  placed->begin = t.begin + first * inner;
  placed->run = part * inner;
  placed->rows = placed->run == 0 ? 0 : outer;
  placed->pitch = n * inner;
  loaded->shape[static_cast<size_t>(dim)] = part;
  loaded->bytes = outer * part * inner;
  loaded->split_dim = dim;
  loaded->split_begin = first;
  loaded->split_end = first + part;
  return Status::Ok();
}

// A caller's destination for tensor `t` (placed as `loaded`), checked before
// any read.
Status CheckDestination(const TensorDestination& d, const LoadedTensor& loaded,
                        client::LoadTargetBackend& backend) {
  const std::string what = "the destination of tensor \"" + loaded.name + "\"";
  if (d.data == nullptr) return Status::InvalidArgument(what + " is a null pointer");
  if (d.bytes != loaded.bytes) {
    return Status::InvalidArgument(what + " holds " + std::to_string(d.bytes) +
                                   " bytes; the tensor" +
                                   (loaded.split_dim >= 0 ? "'s part for this rank" : "") +
                                   " is " + std::to_string(loaded.bytes));
  }
  if (d.dtype && *d.dtype != loaded.dtype) {
    return Status::InvalidArgument(what + " is " + std::string(DtypeName(*d.dtype)) +
                                   "; the tensor is " + std::string(DtypeName(loaded.dtype)));
  }
  return backend.CheckDestination(d.data, d.bytes, what);
}

// Two destinations that share bytes would each get the other's tensor;
// the same destination under two names (tied weights) is one place.
Status CheckNoOverlap(const std::unordered_map<std::string, TensorDestination>& into) {
  struct Range {
    uintptr_t start;
    uint64_t bytes;
    const std::string* name;
  };
  std::vector<Range> ranges;
  for (const auto& [name, d] : into) {
    ranges.push_back({reinterpret_cast<uintptr_t>(d.data), d.bytes, &name});
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.start != b.start ? a.start < b.start : a.bytes < b.bytes;
  });
  for (size_t i = 1; i < ranges.size(); ++i) {
    const Range& prev = ranges[i - 1];
    const Range& cur = ranges[i];
    if (prev.start == cur.start && prev.bytes == cur.bytes) continue;  // an alias
    if (prev.start + prev.bytes > cur.start) {
      return Status::InvalidArgument("the destinations of tensors \"" + *prev.name + "\" and \"" +
                                     *cur.name + "\" overlap");
    }
  }
  return Status::Ok();
}

DLDataType ToDLType(Dtype d) {
  switch (d) {
    case Dtype::kF16: return {kDLFloat, 16, 1};
    case Dtype::kBF16: return {kDLBfloat, 16, 1};
    case Dtype::kF32: return {kDLFloat, 32, 1};
    case Dtype::kF64: return {kDLFloat, 64, 1};
    case Dtype::kI8: return {kDLInt, 8, 1};
    case Dtype::kI16: return {kDLInt, 16, 1};
    case Dtype::kI32: return {kDLInt, 32, 1};
    case Dtype::kI64: return {kDLInt, 64, 1};
    case Dtype::kU16: return {kDLUInt, 16, 1};
    case Dtype::kU32: return {kDLUInt, 32, 1};
    case Dtype::kU64: return {kDLUInt, 64, 1};
    // bool and the fp8 formats have no code in this DLPack version: bytes.
    default: return {kDLUInt, 8, 1};
  }
}

}  // namespace

Result<SafetensorsHeader> ReadSafetensorsHeader(FileReader& reader) {
  const uint64_t size = reader.size();
  uint8_t first8[8] = {};
  const size_t n8 = static_cast<size_t>(std::min<uint64_t>(8, size));
  RETURN_IF_ERROR(ReadExactly(reader, 0, MutableByteSpan(first8, n8)));
  ASSIGN_OR_RETURN(uint64_t n, SafetensorsHeaderLength(ByteSpan(first8, n8), size));
  std::vector<uint8_t> prefix(8 + n);  // n is bounded by the file and the format's cap
  RETURN_IF_ERROR(ReadExactly(reader, 0, prefix));
  return ParseSafetensorsHeader(prefix, size);
}

Status ParseLoadDevice(std::string_view spec, LoadOptions* options) {
  if (spec == "host" || spec == "cpu") {
    options->target = LoadTarget::kHost;
    return Status::Ok();
  }
  if (spec == "cuda") {
    options->target = LoadTarget::kCuda;
    options->device = 0;
    return Status::Ok();
  }
  if (spec.starts_with("cuda:") && spec.size() > 5 && spec.size() < 9 &&
      std::all_of(spec.begin() + 5, spec.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    options->target = LoadTarget::kCuda;
    options->device = std::stoi(std::string(spec.substr(5)));
    return Status::Ok();
  }
  return Status::InvalidArgument("device \"" + std::string(spec) +
                                 "\" is not host, cuda or cuda:N");
}

DLManagedTensor* LoadedCheckpoint::ToDLPack(size_t i) const {
  struct Holder {
    DLManagedTensor managed;
    std::vector<int64_t> shape;
    std::shared_ptr<void> memory;
  };
  const LoadedTensor& t = tensors_.at(i);
  auto* h = new Holder;
  h->memory = memory_;
  for (uint64_t d : t.shape) h->shape.push_back(static_cast<int64_t>(d));
  DLTensor& dl = h->managed.dl_tensor;
  dl.data = t.data;
  dl.device = backend_->dl_device();
  dl.ndim = static_cast<int32_t>(h->shape.size());
  dl.dtype = ToDLType(t.dtype);
  dl.shape = h->shape.empty() ? nullptr : h->shape.data();
  dl.strides = nullptr;  // compact, row-major
  dl.byte_offset = 0;
  h->managed.manager_ctx = h;
  h->managed.deleter = [](DLManagedTensor* m) { delete static_cast<Holder*>(m->manager_ctx); };
  return &h->managed;
}

Status LoadedCheckpoint::CopyToHost(const LoadedTensor& t, std::vector<uint8_t>* out) const {
  out->resize(t.bytes);
  if (!backend_) return Status::InvalidArgument("an empty checkpoint");
  return backend_->ToHost(out->data(), t.data, t.bytes);
}

Result<LoadedCheckpoint> LoadCheckpoint(Client& client, std::string_view path_view,
                                        const LoadOptions& options) {
  const auto start = Clock::now();
  ASSIGN_OR_RETURN(const std::string path, NormalizePath(path_view));
  if (options.reads_in_flight < 1 || options.reads_in_flight > 64) {
    return Status::InvalidArgument("reads_in_flight = " + std::to_string(options.reads_in_flight) +
                                   ", expected 1..64");
  }
  if (options.world < 1 || options.rank < 0 || options.rank >= options.world) {
    return Status::InvalidArgument("rank " + std::to_string(options.rank) + " of world " +
                                   std::to_string(options.world) +
                                   ": expected world >= 1 and 0 <= rank < world");
  }
  if (options.piece_bytes == 0 || options.piece_bytes % kBlock != 0 ||
      options.piece_bytes > (256u << 20)) {
    return Status::InvalidArgument("piece_bytes = " + std::to_string(options.piece_bytes) +
                                   ", expected a multiple of 1 MiB up to 256 MiB");
  }
  LoadedCheckpoint out;
  out.target_ = options.target;
  out.device_ = options.device;
  std::shared_ptr<client::LoadTargetBackend> backend;
  if (options.target == LoadTarget::kCuda) {
    ASSIGN_OR_RETURN(auto cuda, client::CudaTarget(options.device));
    backend = std::move(cuda);
  } else {
    backend = client::HostTarget();
  }
  out.backend_ = backend;

  // 1. Headers, validated before any allocation.
  ASSIGN_OR_RETURN(std::vector<SourceFile> files, Plan(client, path, &out.stats_));
  out.stats_.header_seconds = Since(start);

  // 2. The selected tensors' places in the destination.
  // A tensor with a caller's destination goes there; the others share the
  // allocation (or `buffer`), each 256-byte aligned.
  const std::vector<std::string> patterns = SplitPatterns(options.tensors);
  std::vector<Placed> placed;
  std::vector<size_t> pooled;  // indices of the tensors in the allocation
  uint64_t total = 0;
  size_t destinations_used = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    for (const TensorInfo& t : files[f].tensors) {
      if (!Selected(patterns, t.name)) continue;
      LoadedTensor loaded{t.name, t.dtype, t.shape, nullptr, t.end - t.begin, files[f].path};
      Placed p;
      RETURN_IF_ERROR(PlaceTensor(t, f, options, &p, &loaded).WithContext(files[f].path));
      if (auto it = options.into.find(t.name); it != options.into.end()) {
        RETURN_IF_ERROR(CheckDestination(it->second, loaded, *backend));
        loaded.data = it->second.data;
        p.dest = reinterpret_cast<uintptr_t>(it->second.data);
        ++destinations_used;
      } else {
        total = (total + kTensorAlign - 1) / kTensorAlign * kTensorAlign;
        p.dest = total;
        total += loaded.bytes;
        pooled.push_back(placed.size());
      }
      placed.push_back(p);
      out.tensors_.push_back(std::move(loaded));
    }
  }
  if (!patterns.empty() && out.tensors_.empty()) {
    return Status::NotFound(path + ": no tensor matches \"" + options.tensors + "\"");
  }
  if (destinations_used != options.into.size()) {
    std::set<std::string_view> loaded_names;
    for (const auto& t : out.tensors_) loaded_names.insert(t.name);
    for (const auto& [name, d] : options.into) {
      if (loaded_names.count(name)) continue;
      if (!options.into_strict) {
        out.unfilled_.push_back(name);
        continue;
      }
      return Status::NotFound(path + ": a destination is given for tensor \"" + name +
                              "\", which " +
                              (patterns.empty() ? "the checkpoint does not have"
                                                : "is not selected by \"" + options.tensors + "\"") +
                              "; a load that is not strict leaves it unfilled");
    }
    std::sort(out.unfilled_.begin(), out.unfilled_.end());
  }
  RETURN_IF_ERROR(CheckNoOverlap(options.into));

  // 3. The allocation, for the tensors without a destination of their own.
  uint8_t* base = nullptr;
  if (pooled.empty()) {
    // Every tensor has its own destination (or there are none).
  } else if (options.buffer != nullptr) {
    // Tensors start 256-byte aligned in memory, wherever the buffer starts.
    const uint64_t pad =
        (kTensorAlign - reinterpret_cast<uintptr_t>(options.buffer) % kTensorAlign) % kTensorAlign;
    if (options.buffer_bytes < total + pad) {
      return Status::InvalidArgument("the buffer holds " + std::to_string(options.buffer_bytes) +
                                     " bytes; the selected tensors need " +
                                     std::to_string(total + pad) + " at its address");
    }
    RETURN_IF_ERROR(backend->CheckDestination(options.buffer, options.buffer_bytes, "the buffer"));
    base = static_cast<uint8_t*>(options.buffer) + pad;
  } else {
    ASSIGN_OR_RETURN(out.memory_, backend->Allocate(total));
    out.allocated_ = total;
    base = static_cast<uint8_t*>(out.memory_.get());
  }
  for (size_t i : pooled) {
    placed[i].dest += reinterpret_cast<uintptr_t>(base);
    out.tensors_[i].data = reinterpret_cast<void*>(placed[i].dest);
  }

  // 4. Reads in flight, each followed by its copies.
  const std::vector<Piece> pieces = CutPieces(files, placed, options.piece_bytes);
  const uint64_t decode_before = client::DecodeNanos();
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;
  double fetch_s = 0, copy_s = 0;
  uint64_t read_bytes = 0;
  auto worker = [&] {
    double my_fetch = 0, my_copy = 0;
    uint64_t my_read = 0;
    Status st;
    // Each worker reads through readers of its own: a shared reader takes
    // the workers' interleaved pieces for a sequential stream gone astray
    // and spends the network on read-ahead that the others then evict.
    std::vector<std::unique_ptr<FileReader>> readers(files.size());
    auto lane = backend->NewLane(options.piece_bytes);
    if (!lane.ok()) st = lane.status();
    while (st.ok()) {
      const size_t i = next++;
      if (i >= pieces.size()) break;
      {
        std::lock_guard lock(mu);
        if (!first_error.ok()) break;
      }
      const Piece& p = pieces[i];
      if (!readers[p.file]) {
        auto r = client.Open(files[p.file].path, ReadOptions{.readahead = false});
        if (!r.ok()) {
          st = r.status();
          break;
        }
        readers[p.file] = std::move(*r);
      }
      auto t0 = Clock::now();
      auto buf = (*lane)->Acquire();  // waits for this buffer's last copies
      my_copy += Since(t0);
      if (!buf.ok()) {
        st = buf.status();
        break;
      }
      t0 = Clock::now();
      st = ReadExactly(*readers[p.file], p.begin, MutableByteSpan(*buf, p.end - p.begin))
               .WithContext(files[p.file].path);
      my_fetch += Since(t0);
      my_read += p.end - p.begin;
      if (!st.ok()) break;
      t0 = Clock::now();
      for (const Piece::Part& part : p.parts) {
        const uint8_t* src = *buf + (part.src - p.begin);
        auto* dest = reinterpret_cast<uint8_t*>(part.dest);
        st = part.rows == 1 ? (*lane)->Copy(dest, src, part.len)
                            : (*lane)->CopyRows(dest, src, part.len, part.pitch, part.rows);
        if (!st.ok()) break;
      }
      if (st.ok()) st = (*lane)->Submit();
      my_copy += Since(t0);
    }
    if (lane.ok()) {
      auto t0 = Clock::now();
      Status drained = (*lane)->Drain();
      my_copy += Since(t0);
      if (st.ok()) st = drained;
    }
    std::lock_guard lock(mu);
    fetch_s += my_fetch;
    copy_s += my_copy;
    read_bytes += my_read;
    if (!st.ok() && first_error.ok()) first_error = st;
  };
  const size_t nworkers =
      std::max<size_t>(1, std::min<size_t>(options.reads_in_flight, pieces.size()));
  std::vector<std::thread> threads;
  for (size_t w = 0; w < nworkers; ++w) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (!first_error.ok()) return first_error;

  out.stats_.bytes = 0;
  for (const auto& t : out.tensors_) out.stats_.bytes += t.bytes;
  out.stats_.read_bytes = read_bytes;
  out.stats_.fetch_seconds = fetch_s;
  out.stats_.copy_seconds = copy_s;
  out.stats_.decode_seconds = static_cast<double>(client::DecodeNanos() - decode_before) / 1e9;
  out.stats_.seconds = Since(start);
  return out;
}

}  // namespace granary
