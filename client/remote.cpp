#include "client/remote.h"

#include <chrono>

#include "client/cuda_errors.h"
#include "common/log.h"
#include "config/config.h"

namespace rrto::client {

// What every call returns once the server is gone: the device is unusable.
static constexpr CUresult kServerLost = CUDA_ERROR_DEVICE_UNAVAILABLE;

std::string server_name(const transport::ConnectOptions& server) {
  return config::format_host_port({server.host, server.port});
}

Status Remote::connect(const transport::ConnectOptions& server, std::string& why) {
  const Status s = transport::ClientConnection::connect(server, conn_, why);
  if (!ok(s)) return s;
  server_name_ = client::server_name(server);
  RRTO_INFO("client", "connected to rrto-server at {} over {}", server_name_, conn_->transport_name());
  return Status::Ok;
}

void Remote::attach(std::unique_ptr<transport::ClientConnection> connection, std::string server_name) {
  conn_ = std::move(connection);
  server_name_ = std::move(server_name);
  lost_ = false;
}

void Remote::replace_since(const QueueMark& since, const proto::ReplaySegment& replay) {
  batch_.truncate(since.calls, since.meta_bytes);
  operator_calls_ = since.operators;
  batch_.add(replay);
}

void Remote::defer_encoded(const proto::BatchWriter& calls) {
  batch_.append(calls);
  transfer_stats().remote_calls.fetch_add(calls.count(), std::memory_order_relaxed);
}

uint64_t Remote::add_bulk_copy(const void* data, size_t size) {
  const uint64_t offset = bulk_size_;
  const size_t at = staging_.size();
  staging_.resize(at + size);
  std::memcpy(staging_.data() + at, data, size);
  bulk_.push_back({nullptr, at, size});
  bulk_size_ += size;
  return offset;
}

uint64_t Remote::add_bulk_ref(const void* data, size_t size) {
  const uint64_t offset = bulk_size_;
  bulk_.push_back({data, 0, size});
  bulk_size_ += size;
  return offset;
}

void Remote::reset_batch() {
  batch_.clear();
  operator_calls_ = 0;
  bulk_.clear();
  staging_.clear();
  bulk_size_ = 0;
}

CUresult Remote::flush() {
  if (batch_.empty()) return CUDA_SUCCESS;
  std::span<const uint8_t> body;
  return exchange(nullptr, 0, body);
}

CUresult Remote::protocol_broken() {
  RRTO_ERROR("client", "malformed reply from rrto-server at {}; giving up on it", server_name_);
  lost_ = true;
  return kServerLost;
}

Status Remote::send_batch(void* bulk_dest, size_t bulk_capacity) {
  reply_.bulk_dest = bulk_dest;
  reply_.bulk_capacity = bulk_capacity;
  reply_.bulk_received = 0;
  std::span<const uint8_t> meta = batch_.bytes();
  std::span<const transport::Segment> bulk = segments_;
  uint64_t bulk_bytes = bulk_size_;
  const std::span<const uint8_t> frame =
      compression_.worth_it(bulk_size_) ? compression_.compress(segments_, bulk_size_) : std::span<const uint8_t>();
  sent_compressed_ = !frame.empty();
  if (sent_compressed_) {
    compressed_batch_.clear();
    proto::CompressedBulk header{.raw_size = bulk_size_};
    compressed_batch_.add(header);
    compressed_batch_.append(batch_);
    meta = compressed_batch_.bytes();
    compressed_segment_ = {frame.data(), frame.size()};
    bulk = {&compressed_segment_, 1};
    bulk_bytes = frame.size();
  }
  const Status s = conn_->call(proto::kBatchRequest, meta, bulk, reply_);
  TransferStats& stats = transfer_stats();
  stats.round_trips.fetch_add(1, std::memory_order_relaxed);
  stats.bytes_up.fetch_add(meta.size() + bulk_bytes, std::memory_order_relaxed);
  stats.bytes_down.fetch_add(reply_.meta.size() + reply_.bulk_received, std::memory_order_relaxed);
  return s;
}

CUresult Remote::lost(Status s) {
  if (s == Status::ProtocolError) return protocol_broken();
  if (s == Status::Timeout)
    RRTO_ERROR("client", "no answer from rrto-server at {} within the timeout (RRTO_TIMEOUT); giving up on it",
               server_name_);
  else
    RRTO_ERROR("client", "lost the connection to rrto-server at {} ({})", server_name_, status_name(s));
  lost_ = true;
  return kServerLost;
}

CUresult Remote::exchange(void* bulk_dest, size_t bulk_capacity, std::span<const uint8_t>& result_body) {
  if (lost_ || !conn_) {
    reset_batch();
    return conn_ ? kServerLost : CUDA_ERROR_NOT_INITIALIZED;
  }
  if (rewriter_) rewriter_->before_send(*this);
  segments_.clear();
  for (const BulkPiece& p : bulk_)
    segments_.push_back({p.external ? p.external : staging_.data() + p.staging_offset, p.size});

  // Timed for the replayer only (how long a round trip takes).
  const auto start = rewriter_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
  Status s = send_batch(bulk_dest, bulk_capacity);
  // A lost server: the batch goes again to the server the keeper moved the
  // session to, if any.
  while ((s == Status::ConnectionLost || s == Status::Timeout) && keeper_) {
    RRTO_WARN("client", "lost rrto-server at {} ({}): re-creating the session elsewhere", server_name_,
              status_name(s));
    if (!keeper_->reconnect(*this)) break;
    s = send_batch(bulk_dest, bulk_capacity);
  }
  proto::ReplyHeader header;
  const bool replied =
      ok(s) && reply_.opcode == proto::kBatchReply && proto::decode_reply(reply_.meta, header, result_body);
  if (rewriter_) {
    const auto wall = std::chrono::steady_clock::now() - start;
    rewriter_->after_send(
        {.bytes_up = batch_.size() + bulk_size_,
         .bytes_down = reply_.meta.size() + reply_.bulk_received,
         .wall_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count()),
         .result = replied && header.status == CUDA_SUCCESS ? &result_body : nullptr});
  }
  if (!ok(s)) {
    reset_batch();
    return lost(s);
  }
  if (!replied) {
    reset_batch();
    return protocol_broken();
  }
  if (sent_compressed_ && header.call_index > 0) --header.call_index;  // CompressedBulk came first
  if (keeper_)
    keeper_->kept(batch_.bytes(), segments_, header.status == CUDA_SUCCESS ? batch_.count() : header.call_index,
                  result_body);
  if (header.status != CUDA_SUCCESS) report_failure(header, result_body);
  reset_batch();
  return static_cast<CUresult>(header.status);
}

void Remote::report_failure(const proto::ReplyHeader& header, std::span<const uint8_t> result_body) {
  const auto status = static_cast<CUresult>(header.status);
  proto::ErrorResult why;
  // A status the server gives without a reason is an answer (a query not
  // ready yet), not a failure to report.
  if (!proto::decode_fields(result_body, why) || why.message.empty()) return;
  proto::BatchReader reader(batch_.bytes());
  proto::CallView failed{};
  for (uint32_t i = 0; i <= header.call_index && reader.next(failed); ++i) {
  }
  const char* name = cuda_error_name(status);
  std::string line = fmt::format("{} failed on rrto-server at {}: {}: {}", proto::call_op_name(failed.op),
                                 server_name_, name ? name : "CUresult " + std::to_string(header.status), why.message);
  if (header.call_index + 1 < batch_.count()) line += " (queued earlier; returned by the call that sent the queue)";
  if (reported_.size() >= kReportedErrors || !reported_.insert(line).second) return;
  RRTO_ERROR("client", "{}", line);
}

}  // namespace rrto::client
