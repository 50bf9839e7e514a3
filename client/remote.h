// The client's side of the conversation with rrto-server: one connection,
// a batch of calls waiting to be sent, and the bulk bytes that go with it.
//
// Deferred calls (launches, copies to the device, memsets, event records...)
// are queued with defer(); rpc mode sends each at once, async mode sends the
// queue together with the next call that needs an answer (call()).
#pragma once

#include <cuda.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client/mode.h"
#include "client/outgoing_batch.h"
#include "client/upload_compression.h"
#include "client/stats.h"
#include "common/limits.h"
#include "protocol/batch.h"
#include "transport/transport.h"

namespace rrto::client {

// "host:port", as the logs and Remote::server_name() write a server.
std::string server_name(const transport::ConnectOptions& server);

class Remote;

// What a session's batches leave behind besides their effect: a keeper
// records each batch that ran (kept) and, when the server is lost, attaches
// the Remote to another server where it re-created the session (reconnect);
// the Remote then sends the lost batch again there.
class SessionKeeper {
 public:
  // The server ran the first `ran` calls of the batch; `last_result` is the
  // result body of its last call when that one ran.
  virtual void kept(std::span<const uint8_t> meta, std::span<const transport::Segment> bulk, uint32_t ran,
                    std::span<const uint8_t> last_result) = 0;
  // False when no server could take the session.
  virtual bool reconnect(Remote& remote) = 0;

 protected:
  ~SessionKeeper() = default;
};

class Remote final : public OutgoingBatch {
 public:
  // Connects to `server`; on failure `why` says what happened, in a user's
  // words ("connection refused").
  Status connect(const transport::ConnectOptions& server, std::string& why);
  // Uses a connection that is already open (tests pass a fake one).
  void attach(std::unique_ptr<transport::ClientConnection> connection, std::string server_name);
  // Hands the connection over (to attach() elsewhere); this Remote has none after.
  std::unique_ptr<transport::ClientConnection> detach() { return std::move(conn_); }
  bool connected() const { return conn_ != nullptr; }
  const std::string& server_name() const { return server_name_; }
  // transport::ClientConnection::set_silence_limit.
  void set_silence_limit(int ms) {
    if (conn_) conn_->set_silence_limit(ms);
  }
  std::string transport_name() const { return conn_ ? conn_->transport_name() : std::string("none"); }

  void set_mode(Mode m) { mode_ = m; }
  Mode mode() const { return mode_; }
  // Whether calls that need no answer wait in the queue (every mode but rpc).
  bool queues_calls() const { return mode_ != Mode::Rpc; }
  void set_rewriter(BatchRewriter* rewriter) { rewriter_ = rewriter; }
  void set_keeper(SessionKeeper* keeper) { keeper_ = keeper; }

  // OutgoingBatch: the queue as it stands, and the replayer's one edit.
  QueueMark mark() const override { return {batch_.count(), batch_.size(), bulk_size_, operator_calls_}; }
  void replace_since(const QueueMark& since, const proto::ReplaySegment& replay) override;

  // Bulk bytes for the next batch; the returned offset goes into the call.
  // add_bulk_copy keeps its own copy (the caller may reuse its buffer at
  // once); add_bulk_ref sends from the caller's memory, which must stay
  // untouched until the batch has been sent.
  uint64_t add_bulk_copy(const void* data, size_t size);
  uint64_t add_bulk_ref(const void* data, size_t size);

  // Queues a call that needs no answer; rpc mode sends it now, the others
  // once the queue holds as many calls as a batch may (leaving room for the
  // call that will need an answer).
  template <typename Call>
  CUresult defer(Call& call) {
    add(call);
    return mode_ == Mode::Rpc || batch_.count() + 1 >= limits::kBatchCalls ? flush() : CUDA_SUCCESS;
  }
  // Queues calls encoded elsewhere (the replayer's registrations).
  void defer_encoded(const proto::BatchWriter& calls) override;

  // Sends the queue plus this call and waits for the answer; `result`, if
  // given, receives the call's outputs.
  template <typename Call>
  CUresult call(Call& call) {
    add(call);
    std::span<const uint8_t> body;
    return exchange(nullptr, 0, body);
  }
  template <typename Call, typename Result>
  CUresult call(Call& call, Result* result) {
    add(call);
    std::span<const uint8_t> body;
    CUresult r = exchange(nullptr, 0, body);
    if (r == CUDA_SUCCESS && result && !proto::decode_fields(body, *result)) r = protocol_broken();
    return r;
  }
  // As call(), for a call answered with bulk bytes: they land in
  // [dest, dest + capacity); last_bulk_received() says how many came.
  template <typename Call>
  CUresult call_for_bulk(Call& call, void* dest, size_t capacity) {
    add(call);
    std::span<const uint8_t> body;
    return exchange(dest, capacity, body);
  }

  // Sends whatever is queued (if anything) and waits for it to run.
  CUresult flush();
  bool has_pending() const { return !batch_.empty(); }
  // Queued device work (operators), as opposed to bookkeeping such as
  // creating a stream, which no synchronisation has to wait for.
  bool has_pending_work() const { return operator_calls_ > 0; }

  // Bytes of the last reply's bulk.
  size_t last_bulk_received() const { return reply_.bulk_received; }

  // Whether and when a batch's bulk goes compressed.
  UploadCompression& compression() { return compression_; }

 private:
  template <typename Call>
  void add(Call& call) {
    batch_.add(call);
    if constexpr (proto::kIsOperator<Call>) ++operator_calls_;
    transfer_stats().remote_calls.fetch_add(1, std::memory_order_relaxed);
  }
  CUresult exchange(void* bulk_dest, size_t bulk_capacity, std::span<const uint8_t>& result_body);
  // One send of the batch and its reply, counted in the transfer stats.
  Status send_batch(void* bulk_dest, size_t bulk_capacity);
  CUresult lost(Status s);
  CUresult protocol_broken();
  // Logs, once per distinct error, a call the server failed with a reason.
  void report_failure(const proto::ReplyHeader& header, std::span<const uint8_t> result_body);
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
  SessionKeeper* keeper_ = nullptr;
  proto::BatchWriter batch_;
  uint32_t operator_calls_ = 0;
  std::vector<BulkPiece> bulk_;
  uint64_t bulk_size_ = 0;
  std::vector<uint8_t> staging_;
  std::vector<transport::Segment> segments_;
  transport::Reply reply_;
  UploadCompression compression_;
  // The batch as sent when its bulk went compressed: CompressedBulk first.
  proto::BatchWriter compressed_batch_;
  transport::Segment compressed_segment_{};
  bool sent_compressed_ = false;
  // The failures already logged, up to kReportedErrors of them.
  static constexpr size_t kReportedErrors = 64;
  std::set<std::string> reported_;
};

}  // namespace rrto::client
