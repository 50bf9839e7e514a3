// What a client keeps to re-create its session on another server when its
// server is lost (failover.h): every call that built session state
// (proto::builds_state), in the order it ran, with the bytes it uploaded,
// cut into batches ready to be sent again. An allocation is kept with the
// address it got (MemAlloc::at): kernel arguments hold device addresses.
//
// Bounded: a session whose record would pass its limit drops it, and cannot be
// re-created from then on (why_unusable() says so).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "protocol/any_call.h"
#include "transport/transport.h"

namespace rrto::client {

class SessionRecord {
 public:
  // A batch of kept calls; their bulk offsets point into `bulk`.
  struct Chunk {
    proto::BatchWriter calls;
    std::vector<uint8_t> bulk;
  };

  explicit SessionRecord(uint64_t limit_bytes = 0) : limit_(limit_bytes) {}
  void set_limit(uint64_t limit_bytes) { limit_ = limit_bytes; }

  // A batch the server ran: its first `ran` calls took effect; `last_result`
  // is the result body of its last call when that one ran.
  void keep(std::span<const uint8_t> meta, std::span<const transport::Segment> bulk, uint32_t ran,
            std::span<const uint8_t> last_result);

  const std::vector<Chunk>& chunks() const { return chunks_; }
  // Empty while the record can re-create the session; otherwise why not.
  const std::string& why_unusable() const { return unusable_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t calls() const { return calls_; }

 private:
  // Adds one call; false when the record became unusable with it.
  bool add(const proto::AnyCall& call, std::span<const transport::Segment> bulk, std::span<const uint8_t> result);
  // Drops the record for good; false.
  bool give_up(std::string why);
  std::string overflow() const;
  Chunk& chunk_with_room(uint64_t bulk_bytes);
  uint64_t take_bulk(Chunk& chunk, std::span<const transport::Segment> bulk, uint64_t offset, uint64_t size);

  uint64_t limit_;
  std::vector<Chunk> chunks_;
  uint64_t bytes_ = 0, calls_ = 0;
  std::string unusable_;
};

}  // namespace rrto::client
