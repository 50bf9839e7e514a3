#include "client/session_record.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "common/limits.h"
#include "common/log.h"

namespace rrto::client {
namespace {

// A chunk is sent as one batch: room for the calls, and bulk of a size any
// server takes in one message.
constexpr uint32_t kChunkCalls = limits::kBatchCalls - 1;
constexpr uint64_t kChunkBulkBytes = 32ull << 20;

}  // namespace

void SessionRecord::keep(std::span<const uint8_t> meta, std::span<const transport::Segment> bulk, uint32_t ran,
                         std::span<const uint8_t> last_result) {
  if (!unusable_.empty()) return;
  proto::BatchReader reader(meta);
  proto::CallView view;
  for (uint32_t i = 0; i < ran && reader.next(view); ++i) {
    if (!proto::builds_state(view.op)) continue;
    proto::AnyCall call;
    if (!proto::decode_call(view, call)) {
      give_up("a call it sent could not be read back");
      return;
    }
    const bool last = i + 1 == reader.count();
    if (!add(call, bulk, last ? last_result : std::span<const uint8_t>{})) return;
  }
}

bool SessionRecord::add(const proto::AnyCall& any, std::span<const transport::Segment> bulk,
                        std::span<const uint8_t> result) {
  return std::visit(
      [&](auto call) {
        using Call = decltype(call);
        uint64_t bulk_bytes = 0;
        if constexpr (requires { call.bulk_offset; }) bulk_bytes = proto::bulk_bytes(call);
        if (bytes_ + bulk_bytes > limit_) return give_up(overflow());
        Chunk& chunk = chunk_with_room(bulk_bytes);
        if constexpr (requires { call.bulk_offset; })
          call.bulk_offset = take_bulk(chunk, bulk, call.bulk_offset, bulk_bytes);
        if constexpr (std::is_same_v<Call, proto::MemAlloc>) {
          proto::MemAllocResult got;
          if (!proto::decode_fields(result, got)) return give_up("an allocation's address was not in its reply");
          call.at = got.dptr;
        }
        const size_t meta_before = chunk.calls.size();
        chunk.calls.add(call);
        bytes_ += bulk_bytes + (chunk.calls.size() - meta_before);
        ++calls_;
        return bytes_ <= limit_ || give_up(overflow());
      },
      any);
}

SessionRecord::Chunk& SessionRecord::chunk_with_room(uint64_t bulk_bytes) {
  if (chunks_.empty() || chunks_.back().calls.count() >= kChunkCalls ||
      (!chunks_.back().bulk.empty() && chunks_.back().bulk.size() + bulk_bytes > kChunkBulkBytes))
    chunks_.emplace_back();
  return chunks_.back();
}

uint64_t SessionRecord::take_bulk(Chunk& chunk, std::span<const transport::Segment> bulk, uint64_t offset,
                                  uint64_t size) {
  const uint64_t at = chunk.bulk.size();
  chunk.bulk.resize(at + size);
  uint64_t start = 0;  // of the segment in the batch's bulk
  for (const transport::Segment& s : bulk) {
    const uint64_t end = start + s.length;
    if (offset < end && offset + size > start) {
      const uint64_t from = std::max(offset, start), to = std::min(offset + size, end);
      std::memcpy(chunk.bulk.data() + at + (from - offset), static_cast<const uint8_t*>(s.data) + (from - start),
                  to - from);
    }
    start = end;
  }
  return at;
}

std::string SessionRecord::overflow() const {
  return fmt::format("its record passed failover.max_log_mb ({} MiB)", limit_ >> 20);
}

bool SessionRecord::give_up(std::string why) {
  unusable_ = std::move(why);
  chunks_.clear();
  chunks_.shrink_to_fit();
  RRTO_WARN("client", "failover is off for this session from now on: {}", unusable_);
  return false;
}

}  // namespace rrto::client
