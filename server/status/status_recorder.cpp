#include "server/status/status_recorder.h"

#include <algorithm>

namespace rrto::server {

bool is_inference(std::span<const DecodedCall> calls) {
  if (calls.empty()) return false;
  if (std::holds_alternative<proto::MemcpyDtoH>(calls.back().call)) return true;
  return replay_segments(calls, calls.size()) > 0;
}

uint64_t replay_segments(std::span<const DecodedCall> calls, size_t count) {
  return std::count_if(calls.begin(), calls.begin() + std::min(count, calls.size()),
                       [](const DecodedCall& c) { return std::holds_alternative<proto::ReplaySegment>(c.call); });
}

void StatusRecorder::connections(size_t open) {
  if (metrics_) metrics_->set_connections(open);
}

void StatusRecorder::received(uint64_t bytes) {
  if (metrics_) metrics_->received(bytes);
}

void StatusRecorder::refused(CUresult code) {
  if (!metrics_) return;
  switch (code) {
    case CUDA_ERROR_NOT_PERMITTED: return metrics_->refused(Refusal::Auth);
    case CUDA_ERROR_DEVICE_UNAVAILABLE: return metrics_->refused(Refusal::Full);
    case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: return metrics_->refused(Refusal::Version);
    default: return metrics_->refused(Refusal::NoDevice);
  }
}

void StatusRecorder::admitted(const Session& session) {
  if (!metrics_) return;
  metrics_->session_admitted(session.device_index());
  board_->add({.id = session.id(),
               .client = session.client_name(),
               .peer = session.peer_address(),
               .device = session.device_index()});
}

void StatusRecorder::ended(const Session& session) {
  if (!metrics_ || !session.admitted()) return;
  metrics_->session_ended(session.device_index());
  if (std::optional<SessionInfo> last = board_->remove(session.id()))
    metrics_->add_memory(session.device_index(), -static_cast<int64_t>(last->memory_bytes));
}

void StatusRecorder::batch_ran(const Session& session, std::span<const DecodedCall> calls, const BatchReply& reply,
                               Clock::time_point started) {
  if (!metrics_) return;
  metrics_->sent(reply.meta.size() + reply.bulk.size());
  // A refused Hello leaves no session to account to.
  if (!session.admitted()) return;
  const size_t device = session.device_index();
  const auto busy = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started);
  metrics_->add_busy(device, static_cast<uint64_t>(busy.count()));
  const bool succeeded = reply.status == CUDA_SUCCESS;
  const size_t ran = succeeded ? calls.size() : reply.call_index;  // the failed call served nothing
  metrics_->batch_ran(device, replay_segments(calls, ran), succeeded && is_inference(calls));

  const uint64_t memory = session.allocations().allocated_bytes();
  int64_t memory_change = 0;
  board_->update(session.id(), [&](SessionInfo& info) {
    memory_change = static_cast<int64_t>(memory) - static_cast<int64_t>(info.memory_bytes);
    info.memory_bytes = memory;
    info.templates = session.templates().size();
    ++info.batches;
  });
  if (memory_change != 0) metrics_->add_memory(device, memory_change);
}

void StatusRecorder::protocol_error(uint64_t reply_bytes) {
  if (!metrics_) return;
  metrics_->protocol_error();
  metrics_->sent(reply_bytes);
}

}  // namespace rrto::server
