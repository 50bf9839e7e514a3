// The client's side of the conversation with rrto-server: one connection,
// a batch of calls waiting to be sent, and the bulk bytes that go with it.
//
// Deferred calls (launches, copies to the device, memsets, event records...)
// are queued with defer(); rpc mode sends each at once, async mode sends the
// queue together with the next call that needs an answer (call()).
#pragma once

#include <cuda.h>

#include <memory>
#include <string>
#include <vector>

#include "client/stats.h"
#include "protocol/batch.h"
#include "transport/transport.h"

namespace rrto::client {

enum class Mode { Rpc, Async };

// Sees each batch right before it is sent, and may rewrite it.
class BatchRewriter {
 public:
  virtual ~BatchRewriter() = default;
  virtual void before_send(proto::BatchWriter& batch) = 0;
  virtual void after_send(uint64_t bytes_up, uint64_t bytes_down) = 0;
};

class Remote {
 public:
  // Tries each server in turn; the first that answers wins.
  Status connect(const std::vector<transport::ConnectOptions>& servers);
  bool connected() const { return conn_ != nullptr; }
  std::string transport_name() const { return conn_ ? conn_->transport_name() : std::string("none"); }

  void set_mode(Mode m) { mode_ = m; }
  Mode mode() const { return mode_; }
  void set_rewriter(BatchRewriter* rewriter) { rewriter_ = rewriter; }

  // The queue as it stands: calls, encoded bytes, bulk bytes, and how many
  // of the calls are operators (proto::kIsOperator).
  uint32_t batch_count() const { return batch_.count(); }
  size_t batch_size() const { return batch_.size(); }
  uint64_t bulk_size() const { return bulk_size_; }
  uint32_t operator_calls() const { return operator_calls_; }

  // Bulk bytes for the next batch; the returned offset goes into the call.
  // add_bulk_copy keeps its own copy (the caller may reuse its buffer at
  // once); add_bulk_ref sends from the caller's memory, which must stay
  // untouched until the batch has been sent.
  uint64_t add_bulk_copy(const void* data, size_t size);
  uint64_t add_bulk_ref(const void* data, size_t size);

  // Queues a call that needs no answer; rpc mode sends it now.
  template <typename Call>
  CUresult defer(Call& call) {
    batch_.add(call);
    if constexpr (proto::kIsOperator<Call>) ++operator_calls_;
    transfer_stats().remote_calls.fetch_add(1, std::memory_order_relaxed);
    if (mode_ == Mode::Rpc) return flush();
    return CUDA_SUCCESS;
  }

  // Sends the queue plus this call and waits for the answer. `result` (if
  // given) receives the call's outputs; a reply bulk lands in bulk_dest.
  template <typename Call, typename Result = proto::CtxSynchronize>
  CUresult call(Call& call, Result* result = nullptr, void* bulk_dest = nullptr, size_t bulk_capacity = 0) {
    batch_.add(call);
    if constexpr (proto::kIsOperator<Call>) ++operator_calls_;
    transfer_stats().remote_calls.fetch_add(1, std::memory_order_relaxed);
    std::span<const uint8_t> body;
    CUresult r = exchange(bulk_dest, bulk_capacity, body);
    if (r == CUDA_SUCCESS && result && !proto::decode_fields(body, *result)) r = protocol_broken();
    return r;
  }

  // Sends whatever is queued (if anything) and waits for it to run.
  CUresult flush();
  bool has_pending() const { return !batch_.empty(); }
  // Queued device work (operators), as opposed to bookkeeping such as
  // creating a stream, which no synchronisation has to wait for.
  bool has_pending_work() const { return operator_calls_ > 0; }

  // Bytes of the last reply's bulk.
  size_t last_bulk_received() const { return reply_.bulk_received; }

 private:
  CUresult exchange(void* bulk_dest, size_t bulk_capacity, std::span<const uint8_t>& result_body);
  CUresult protocol_broken();
  void reset_batch();

  struct BulkPiece {
    const void* external;  // nullptr: the bytes are in staging_ at staging_offset
    size_t staging_offset;
    size_t size;
  };

  std::unique_ptr<transport::ClientConnection> conn_;
  std::string server_name_;
  Mode mode_ = Mode::Async;
  bool lost_ = false;
  BatchRewriter* rewriter_ = nullptr;
  proto::BatchWriter batch_;
  uint32_t operator_calls_ = 0;
  std::vector<BulkPiece> bulk_;
  uint64_t bulk_size_ = 0;
  std::vector<uint8_t> staging_;
  std::vector<transport::Segment> segments_;
  transport::Reply reply_;
};

}  // namespace rrto::client
