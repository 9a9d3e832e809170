#include "client/src/warm_ops.h"

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>

namespace granary::client {
namespace {

// One CHUNK_WARM asks for up to 256 MiB of replicas (at least one chunk,
// at most 16): read from a cold disk that stays well inside its deadline,
// and a server gets several requests at once, one per disk thread.
constexpr uint64_t kBytesPerRequest = 256u << 20;
constexpr int kChunksPerRequest = 16;
// Reading replicas from disk is slow next to an ordinary call.
constexpr net::Millis kWarmTimeout{120'000};

struct Batch {
  std::string address;
  proto::ChunkWarmRequest request;
};

// Every file at or under `path`, depth first.
Status CollectFiles(Client& client, const std::string& path, std::vector<std::string>* out) {
  ASSIGN_OR_RETURN(FileInfo info, client.Stat(path));
  if (info.type == FileType::kFile) {
    out->push_back(path);
    return Status::Ok();
  }
  if (info.type != FileType::kDirectory) return Status::Ok();  // symlinks are not followed
  ASSIGN_OR_RETURN(auto entries, client.ReadDir(path));
  for (const DirEntryInfo& e : entries) {
    RETURN_IF_ERROR(CollectFiles(client, JoinPath(path, e.name), out));
  }
  return Status::Ok();
}

}  // namespace

Result<WarmStats> WarmPath(Client& client, ClientContext& ctx, std::string_view path_view,
                           const WarmOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.requests_in_flight < 1 || options.requests_in_flight > 64) {
    return Status::InvalidArgument("requests_in_flight = " +
                                   std::to_string(options.requests_in_flight) + ", expected 1..64");
  }
  ASSIGN_OR_RETURN(const std::string path, NormalizePath(path_view));
  std::vector<std::string> files;
  RETURN_IF_ERROR(CollectFiles(client, path, &files));

  // Replicas by server, then cut into requests taken from each server in
  // turn, so that the requests in flight spread over the servers.
  WarmStats stats;
  stats.files = files.size();
  std::map<std::string, std::vector<std::pair<proto::ChunkRef, uint64_t>>> by_server;
  for (const std::string& f : files) {
    ASSIGN_OR_RETURN(std::vector<ChunkLocation> layout, client.GetLayout(f));
    for (const ChunkLocation& c : layout) {
      if (c.chunk_id == 0 || c.replicas.empty()) continue;  // a hole
      ++stats.chunks;
      proto::ChunkRef ref;
      ref.set_chunk_id(c.chunk_id);
      ref.set_version(c.version);
      if (options.all_replicas) {
        for (const ReplicaInfo& r : c.replicas) by_server[r.address].push_back({ref, c.stored_length});
      } else {
        by_server[c.replicas[c.chunk_id % c.replicas.size()].address].push_back(
            {ref, c.stored_length});
      }
    }
  }
  std::map<std::string, std::vector<Batch>> server_batches;
  for (const auto& [address, refs] : by_server) {
    std::vector<Batch>& out = server_batches[address];
    uint64_t bytes = 0;
    for (const auto& [ref, stored] : refs) {
      if (out.empty() || out.back().request.chunks_size() >= kChunksPerRequest ||
          bytes + stored > kBytesPerRequest) {
        out.push_back({address, {}});
        bytes = 0;
      }
      *out.back().request.add_chunks() = ref;
      bytes += stored;
    }
  }
  std::vector<Batch> batches;
  for (size_t round = 0;; ++round) {
    bool any = false;
    for (auto& [address, list] : server_batches) {
      if (round >= list.size()) continue;
      any = true;
      batches.push_back(std::move(list[round]));
    }
    if (!any) break;
  }

  std::atomic<size_t> next{0};
  std::mutex mu;
  auto worker = [&]() -> net::Awaitable<void> {
    for (size_t i = next++; i < batches.size(); i = next++) {
      const Batch& b = batches[i];
      auto r = co_await ctx.chunk_servers().Call<proto::ChunkWarmResponse>(
          b.address, proto::CHUNK_WARM, b.request, kWarmTimeout);
      std::lock_guard lock(mu);
      if (r.ok()) {
        stats.replicas += r->warmed();
        stats.bytes += r->bytes();
        stats.missing += r->missing();
      } else {
        stats.failed += static_cast<uint64_t>(b.request.chunks_size());
        if (stats.first_error.empty()) {
          stats.first_error = r.status().WithContext("warming on " + b.address).ToString();
        }
      }
    }
  };
  std::vector<std::future<void>> running;
  const size_t n = std::min<size_t>(static_cast<size_t>(options.requests_in_flight), batches.size());
  for (size_t w = 0; w < n; ++w) running.push_back(asio::co_spawn(ctx.io(), worker(), asio::use_future));
  for (auto& f : running) f.get();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace granary::client
