// The seam between the queue of calls waiting to be sent (Remote) and the
// replayer: right before a batch goes out, Remote hands it to a BatchRewriter,
// which may swap a stretch of it for one ReplaySegment. The rewriter sees the
// queue only through OutgoingBatch, never Remote itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "protocol/batch.h"
#include "protocol/calls.h"

namespace rrto::client {

// What the queue held at some moment: a position to rewrite from.
struct QueueMark {
  uint32_t calls = 0;
  size_t meta_bytes = 0;   // the encoded calls
  uint64_t bulk_bytes = 0;
  uint32_t operators = 0;  // calls that are operators (proto::kIsOperator)
};

class OutgoingBatch {
 public:
  virtual QueueMark mark() const = 0;
  // Replaces every call queued since `since` with `replay`. The bulk bytes
  // queued since then stay: they are the segment's inputs.
  virtual void replace_since(const QueueMark& since, const proto::ReplaySegment& replay) = 0;
  // Queues calls encoded elsewhere.
  virtual void defer_encoded(const proto::BatchWriter& calls) = 0;

 protected:
  ~OutgoingBatch() = default;
};

class BatchRewriter {
 public:
  virtual ~BatchRewriter() = default;
  virtual void before_send(OutgoingBatch& batch) = 0;
  // What a send cost and brought back. `result`: the result body of the
  // batch's last call when every call succeeded, else nullptr.
  struct Sent {
    uint64_t bytes_up = 0, bytes_down = 0;
    uint64_t wall_ns = 0;  // from the send to the reply
    const std::span<const uint8_t>* result = nullptr;
  };
  // The batch went out and its reply came back (or the connection failed).
  virtual void after_send(const Sent& sent) = 0;
};

}  // namespace rrto::client
