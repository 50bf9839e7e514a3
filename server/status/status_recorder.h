// What the session manager tells the status endpoint, one call per event:
// turns sessions, batches and replies into Metrics and SessionBoard entries.
// Until report_to() it records nothing, so a server (or a test) without a
// status endpoint pays nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "server/batch_decoder.h"
#include "server/dispatcher.h"
#include "server/metrics.h"
#include "server/session.h"
#include "server/status/session_board.h"

namespace rrto::server {

class StatusRecorder {
 public:
  using Clock = std::chrono::steady_clock;

  void report_to(Metrics& metrics, SessionBoard& board) {
    metrics_ = &metrics;
    board_ = &board;
  }
  void detach() {
    metrics_ = nullptr;
    board_ = nullptr;
  }

  void connections(size_t open);
  void received(uint64_t bytes);
  // A Hello refused with `code` (by Admission::admit).
  void refused(CUresult code);
  void admitted(const Session& session);
  // Before the session releases what it holds.
  void ended(const Session& session);
  // After the dispatcher ran `calls` (started at `started`) and built `reply`,
  // which is then sent.
  void batch_ran(const Session& session, std::span<const DecodedCall> calls, const BatchReply& reply,
                 Clock::time_point started);
  // Batches waiting for or running on a device's executor.
  void queue_depth(size_t device, uint64_t batches) {
    if (metrics_) metrics_->set_queue_depth(device, batches);
  }
  // A malformed request, answered with an error reply of `reply_bytes`.
  void protocol_error(uint64_t reply_bytes);

 private:
  Metrics* metrics_ = nullptr;
  SessionBoard* board_ = nullptr;
};

// Whether a batch that succeeded served an inference: it holds a
// ReplaySegment or ends by copying back to the host.
bool is_inference(std::span<const DecodedCall> calls);
// ReplaySegment calls among the first `count` calls.
uint64_t replay_segments(std::span<const DecodedCall> calls, size_t count);

}  // namespace rrto::server
