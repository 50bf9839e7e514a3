// What the session manager tells the status endpoint, one call per event:
// turns sessions, batches and replies into Metrics (always: the scheduler
// reads them too) and SessionBoard entries (only while a board is shown, so
// a server without a status endpoint pays nothing for them). Every call that
// changes Metrics comes from the transport thread, its one writer.
#pragma once

#include <atomic>
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

  explicit StatusRecorder(Metrics& metrics) : metrics_(metrics) {}

  void show_on(SessionBoard& board) { board_.store(&board, std::memory_order_release); }
  void hide() { board_.store(nullptr, std::memory_order_release); }

  void connections(size_t open);
  void received(uint64_t bytes);
  // A Hello refused with `code` (by Admission::admit).
  void refused(CUresult code);
  void admitted(const Session& session);
  // Before the session releases what it holds; `memory_bytes`: what it held
  // as of its last reply.
  void ended(const Session& session, uint64_t memory_bytes);
  // After the session moved from device `from` to its device now, with the
  // memory it held as of its last reply.
  void moved(const Session& session, size_t from, uint64_t memory_bytes);
  // The memory a session holds on `device` changed (seen after its reply).
  void memory_changed(size_t device, int64_t delta_bytes) { metrics_.add_memory(device, delta_bytes); }
  // What a batch adds to the counters.
  struct BatchCounts {
    bool counted = false;  // false: only the reply to count (a refused Hello has no session)
    size_t device = 0;
    uint64_t busy_ns = 0;
    uint64_t replays = 0;
    bool inference = false;
    uint64_t reply_bytes = 0;
  };
  // After the dispatcher ran `calls` (for `busy`) and built `reply`, on the
  // thread that ran them: updates the board, and returns what count() adds
  // once the reply is out.
  BatchCounts batch_ran(const Session& session, std::span<const DecodedCall> calls, const BatchSummary& summary,
                        const BatchReply& reply, std::chrono::nanoseconds busy);
  void count(const BatchCounts& counts);
  // Batches waiting for or running on a device's executor.
  void queue_depth(size_t device, uint64_t batches) {
    metrics_.set_queue_depth(device, batches);
  }
  // A malformed request, answered with an error reply of `reply_bytes`.
  void protocol_error(uint64_t reply_bytes);

 private:
  Metrics& metrics_;
  std::atomic<SessionBoard*> board_{nullptr};  // set and cleared while the devices' threads run
};

// Whether a batch that succeeded served an inference: it holds a
// ReplaySegment (`replays` of them) or ends by copying back to the host.
bool is_inference(std::span<const DecodedCall> calls, uint64_t replays);
// ReplaySegment calls among the first `count` calls.
uint64_t replay_segments(std::span<const DecodedCall> calls, size_t count);

}  // namespace rrto::server
