#include "server/status/status_recorder.h"

#include <algorithm>

namespace rrto::server {

bool is_inference(std::span<const DecodedCall> calls, uint64_t replays) {
  if (calls.empty()) return false;
  return replays > 0 || proto::copies_to_host(proto::call_op(calls.back().call));
}

uint64_t replay_segments(std::span<const DecodedCall> calls, size_t count) {
  return std::count_if(calls.begin(), calls.begin() + std::min(count, calls.size()),
                       [](const DecodedCall& c) { return std::holds_alternative<proto::ReplaySegment>(c.call); });
}

void StatusRecorder::connections(size_t open) { metrics_.set_connections(open); }

void StatusRecorder::received(uint64_t bytes) { metrics_.received(bytes); }

void StatusRecorder::refused(CUresult code) {
  switch (code) {
    case CUDA_ERROR_NOT_PERMITTED: return metrics_.refused(Refusal::Auth);
    case CUDA_ERROR_DEVICE_UNAVAILABLE: return metrics_.refused(Refusal::Full);
    case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: return metrics_.refused(Refusal::Version);
    default: return metrics_.refused(Refusal::NoDevice);
  }
}

void StatusRecorder::admitted(const Session& session) {
  metrics_.session_admitted(session.device_index());
  if (SessionBoard* board = board_.load(std::memory_order_acquire))
    board->add({.id = session.id(),
                 .client = session.client_name(),
                 .peer = session.peer_address(),
                 .device = session.device_index()});
}

void StatusRecorder::ended(const Session& session, uint64_t memory_bytes) {
  if (!session.admitted()) return;
  metrics_.session_ended(session.device_index());
  metrics_.add_memory(session.device_index(), -static_cast<int64_t>(memory_bytes));
  if (SessionBoard* board = board_.load(std::memory_order_acquire)) board->remove(session.id());
}

void StatusRecorder::moved(const Session& session, size_t from, uint64_t memory_bytes) {
  metrics_.session_moved(from, session.device_index(), memory_bytes);
  if (SessionBoard* board = board_.load(std::memory_order_acquire))
    board->update(session.id(), [&](SessionInfo& info) { info.device = session.device_index(); });
}

StatusRecorder::BatchCounts StatusRecorder::batch_ran(const Session& session, std::span<const DecodedCall> calls,
                                                      const BatchSummary& summary, const BatchReply& reply,
                                                      std::chrono::nanoseconds busy) {
  BatchCounts counts{.counted = false, .reply_bytes = reply.meta.size() + reply.bulk.size()};
  // A refused Hello leaves no session to account to.
  if (!session.admitted()) return counts;
  counts.counted = true;
  const bool succeeded = reply.status == CUDA_SUCCESS;
  const size_t ran = succeeded ? calls.size() : reply.call_index;  // the failed call served nothing
  counts.device = session.device_index();
  counts.busy_ns = static_cast<uint64_t>(busy.count());
  counts.replays = succeeded ? summary.replay_segments : replay_segments(calls, ran);
  counts.inference = succeeded && is_inference(calls, counts.replays);
  if (SessionBoard* board = board_.load(std::memory_order_acquire))
    board->update(session.id(), [&](SessionInfo& info) {
      info.memory_bytes = session.allocations().allocated_bytes();
      info.templates = session.templates().size();
      ++info.batches;
    });
  return counts;
}

void StatusRecorder::count(const BatchCounts& counts) {
  metrics_.sent(counts.reply_bytes);
  if (!counts.counted) return;
  metrics_.add_busy(counts.device, counts.busy_ns);
  metrics_.batch_ran(counts.device, counts.replays, counts.inference);
}

void StatusRecorder::protocol_error(uint64_t reply_bytes) {
  metrics_.protocol_error();
  metrics_.sent(reply_bytes);
}

}  // namespace rrto::server
