#pragma once
// LocalChunks: reads replicas held by chunk servers on this host straight
// from their files (protocol: common/net/local_read.h). The server hands over
// a read-only descriptor once per replica; after that a read is one pread,
// with no TCP, no server thread and no copy through a socket. Callers verify
// every block as they do for network replies.
//
// Every call blocks (socket round trip, pread): run them off the I/O threads.
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <tuple>

#include "common/buffer.h"
#include "common/codec/chunk_format.h"
#include "common/proto/granary.pb.h"
#include "common/status.h"

namespace granary::client {

class LocalChunks {
 public:
  // `max_files`: replica descriptors kept open (least recently used closed).
  explicit LocalChunks(size_t max_files = 256);
  ~LocalChunks();

  // Blocks [first, first + count) of `chunk` as the replica at `address`
  // stores them (headers + stored bytes, back to back: a CHUNK_READ reply).
  // nullopt when that replica cannot be read locally (another host, local
  // reads off on the server, the replica not there): use the network.
  std::optional<Buffer> ReadBlocks(const std::string& address, const proto::ChunkInfo& chunk,
                                   uint32_t first, uint32_t count);

  // A ranged read of one block, as CHUNK_READ with range_* answers it: the
  // covering segments when the block is segmented (*segments = true), else
  // the whole encoded block. nullopt as for ReadBlocks.
  std::optional<Buffer> ReadRange(const std::string& address, const proto::ChunkInfo& chunk,
                                  uint32_t block, uint32_t offset, uint32_t length,
                                  bool* segments);

  // Blocks [first, first + dests.size()) read straight into `dests` (one
  // span per block, each exactly the block's raw length), for blocks stored
  // raw, with or without segment checksums: per block, one preadv puts the
  // header (and segment table) in scratch slots and the data in the
  // caller's memory, so the data is copied once, by the kernel. Every header
  // is checked against the replica's block table and every block's raw
  // checksum verified. nullopt when this path does not apply (not a local
  // replica, lengths that differ): use ReadBlocks or the network.
  // UNIMPLEMENTED when the blocks are not all stored raw (true of every
  // replica of this chunk version). CHECKSUM_MISMATCH when bytes fail.
  std::optional<Status> ReadRawInto(const std::string& address, const proto::ChunkInfo& chunk,
                                    uint32_t first, std::span<const MutableByteSpan> dests);

  // True when `address` was found not to be on this host (or refused local
  // reads) recently: readers then prefer replicas that may be local.
  bool KnownRemote(const std::string& address) const;

  // Forgets the open replica (after its bytes failed verification).
  void Drop(const std::string& address, const proto::ChunkInfo& chunk);

  // Bytes read from local replica files so far.
  uint64_t bytes_read() const;

 private:
  struct File;
  struct Server;
  using Key = std::tuple<std::string, uint64_t, uint64_t>;  // address, chunk, version

  std::shared_ptr<const File> Open(const std::string& address, const proto::ChunkInfo& chunk);
  // The descriptor still refers to the file whose footer was validated.
  static bool SameFile(const File& file);
  Result<std::shared_ptr<const File>> Fetch(Server& server, const std::string& address,
                                            const proto::ChunkInfo& chunk);

  const size_t max_files_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Server>> servers_;
  std::list<Key> lru_;  // front = most recent
  std::map<Key, std::pair<std::shared_ptr<const File>, std::list<Key>::iterator>> files_;
  std::atomic<uint64_t> bytes_read_{0};
};

}  // namespace granary::client
