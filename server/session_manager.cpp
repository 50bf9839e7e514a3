#include "server/session_manager.h"

#include <utility>

#include <fmt/format.h>

#include "common/log.h"
#include "protocol/batch.h"

namespace rrto::server {
namespace {

constexpr const char* kLog = "server";

std::string format_bytes(uint64_t bytes) {
  if (bytes >= (1ull << 30)) return fmt::format("{:.1f} GiB", bytes / double(1ull << 30));
  if (bytes >= (1ull << 20)) return fmt::format("{:.1f} MiB", bytes / double(1ull << 20));
  if (bytes >= (1ull << 10)) return fmt::format("{:.1f} KiB", bytes / double(1ull << 10));
  return fmt::format("{} B", bytes);
}

// Text a client sent, made safe for a log line.
std::string printable(std::string_view text, size_t max_length = 128) {
  std::string out;
  for (char c : text.substr(0, max_length)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > max_length) out += "...";
  return out;
}

// Compares without an early exit, so response times say nothing about how
// much of a guessed token was right.
bool same_token(std::string_view given, std::string_view expected) {
  size_t diff = given.size() ^ expected.size();
  for (size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned char>(i < given.size() ? given[i] : 0) ^ static_cast<unsigned char>(expected[i]);
  return diff == 0;
}

// The one copy of a batch whose payload is the whole bulk, which can be
// received straight into device memory: a batch of exactly one MemcpyHtoD,
// or of one ReplaySegment of a stretch whose only input copy comes first.
const proto::MemcpyHtoD* whole_bulk_copy(const Session& session, const std::vector<DecodedCall>& calls) {
  if (calls.size() != 1) return nullptr;
  if (const auto* copy = std::get_if<proto::MemcpyHtoD>(&calls[0].call))
    return copy->bulk_offset == 0 ? copy : nullptr;
  const auto* replay = std::get_if<proto::ReplaySegment>(&calls[0].call);
  if (!replay || replay->input_offset != 0) return nullptr;
  const TemplateStore::Template* t = session.templates().find(replay->tmpl);
  if (!t || replay->first > replay->last || replay->last >= t->calls.size()) return nullptr;
  for (uint32_t i = replay->first + 1; i <= replay->last; ++i)
    if (std::holds_alternative<proto::MemcpyHtoD>(t->calls[i].call)) return nullptr;
  return std::get_if<proto::MemcpyHtoD>(&t->calls[replay->first].call);
}

}  // namespace

SessionManager::SessionManager(std::vector<Device*> devices, Scheduler& scheduler, SessionPolicy policy)
    : devices_(std::move(devices)), scheduler_(scheduler), policy_(std::move(policy)) {}

SessionManager::~SessionManager() { end_all("server shutdown"); }

void SessionManager::on_connect(transport::PeerId peer, const std::string& peer_address) {
  Connection& connection = connections_[peer];
  if (connection.session && !connection.closing) end_session(connection, "its peer id was reused");
  connection.session = std::make_unique<Session>(next_session_id_++, peer_address);
  connection.closing = false;
  status_.connections(connections_.size());
  RRTO_DEBUG(kLog, "connection from {}: session {}, waiting for Hello", peer_address, connection.session->id());
}

void SessionManager::on_disconnect(transport::PeerId peer) {
  auto it = connections_.find(peer);
  if (it == connections_.end()) return;
  if (!it->second.closing)
    end_session(it->second, stopping_.load(std::memory_order_relaxed) ? "server shutdown" : "client disconnected");
  connections_.erase(it);
  status_.connections(connections_.size());
}

CUresult SessionManager::admit(Session& session, const proto::Hello& hello, std::string& why) {
  const std::string client = printable(hello.client_name);
  CUresult refusal = CUDA_SUCCESS;
  if (hello.protocol_version != proto::kProtocolVersion) {
    why = fmt::format("protocol version {} is not the server's {}", hello.protocol_version, proto::kProtocolVersion);
    refusal = CUDA_ERROR_SYSTEM_DRIVER_MISMATCH;
  } else if (!policy_.auth_token.empty() && !same_token(hello.auth_token, policy_.auth_token)) {
    why = "wrong or missing auth token";
    refusal = CUDA_ERROR_NOT_PERMITTED;
  } else if (admitted_ >= policy_.max_sessions) {
    why = fmt::format("the server is full ({} sessions)", policy_.max_sessions);
    refusal = CUDA_ERROR_DEVICE_UNAVAILABLE;
  } else if (devices_.empty()) {
    why = "the server has no device";
    refusal = CUDA_ERROR_NO_DEVICE;
  }
  if (refusal != CUDA_SUCCESS) {
    status_.refused(refusal);
    RRTO_WARN(kLog, "session {} refused: peer {}, client '{}': {}", session.id(), session.peer_address(), client, why);
    return refusal;
  }

  const size_t index = scheduler_.place();
  Device& device = *devices_.at(index);
  session.admit(device, index, client, policy_.session_memory_bytes);
  ++admitted_;
  status_.admitted(session);
  RRTO_INFO(kLog, "session {} started: peer {}, client '{}', device {} ({})", session.id(), session.peer_address(),
            client, index, device.description().name);
  return CUDA_SUCCESS;
}

void SessionManager::end_session(Connection& connection, std::string_view reason) {
  Session& session = *connection.session;
  if (!session.admitted()) {
    RRTO_DEBUG(kLog, "connection from {} ended before a session began: {}", session.peer_address(), reason);
    return;
  }
  const size_t device = session.device_index();
  status_.ended(session);
  const ReleasedResources freed = session.release();
  scheduler_.release(device);
  --admitted_;
  RRTO_INFO(kLog, "session {} ended ({}): freed {} allocations ({}), {} modules, {} functions, {} streams, {} events",
            session.id(), reason, freed.allocations, format_bytes(freed.bytes), freed.modules, freed.functions,
            freed.streams, freed.events);
}

void SessionManager::close(transport::PeerId peer, Connection& connection, std::string_view reason) {
  end_session(connection, reason);
  connection.closing = true;
  if (sink_) sink_->close_peer(peer);
}

void SessionManager::protocol_error(transport::PeerId peer, Connection& connection, std::string reason) {
  RRTO_WARN(kLog, "session {} (peer {}): malformed request: {}", connection.session->id(),
            connection.session->peer_address(), reason);
  encode_error_reply(CUDA_ERROR_INVALID_VALUE, 0, "malformed request: " + reason, reply_.meta);
  status_.protocol_error(reply_.meta.size());
  if (sink_) sink_->reply(peer, proto::kBatchReply, reply_.meta, {});
  close(peer, connection, "protocol error: " + reason);
}

bool SessionManager::too_large(uint64_t meta_length, uint64_t bulk_length) const {
  return bulk_length > policy_.max_message_bytes || meta_length > policy_.max_message_bytes - bulk_length;
}

bool SessionManager::KeptDecode::is_for(transport::PeerId p, std::span<const uint8_t> m, uint64_t length) const {
  return peer == p && meta.data() == m.data() && meta.size() == m.size() && bulk_length == length;
}

Status SessionManager::decode(transport::PeerId peer, const transport::Message& message,
                              const std::optional<KeptDecode>& kept, std::string& why) {
  if (kept && kept->is_for(peer, message.meta, message.bulk.size())) {
    why = kept->why;
    return kept->status;
  }
  return decode_batch(message.meta, message.bulk.size(), calls_, why);
}

void* SessionManager::bulk_destination(transport::PeerId peer, uint16_t opcode, std::span<const uint8_t> meta,
                                       uint64_t bulk_length) {
  // Anything kept is of a message that never reached on_message.
  kept_.reset();
  auto it = connections_.find(peer);
  if (it == connections_.end() || it->second.closing || opcode != proto::kBatchRequest) return nullptr;
  if (bulk_length == 0 || too_large(meta.size(), bulk_length)) return nullptr;
  // Decoded once, here: on_message of this message runs these calls.
  std::string why;
  const Status decoded = decode_batch(meta, bulk_length, calls_, why);
  kept_ = KeptDecode{.peer = peer, .meta = meta, .bulk_length = bulk_length, .status = decoded, .why = std::move(why)};
  if (!ok(decoded)) return nullptr;  // on_message reports it
  Session& session = *it->second.session;
  const proto::MemcpyHtoD* copy = whole_bulk_copy(session, calls_);
  if (!copy || copy->size != bulk_length) return nullptr;
  uint8_t* place = session.direct_destination(copy->dst, copy->size);
  if (place)
    RRTO_TRACE(kLog, "session {}: {} bytes land in device memory at {:#x}", session.id(), copy->size, copy->dst);
  return place;
}

void SessionManager::on_message(transport::PeerId peer, const transport::Message& message) {
  // What bulk_destination kept is of this message or of none.
  const std::optional<KeptDecode> kept = std::exchange(kept_, std::nullopt);
  status_.received(message.meta.size() + message.bulk.size());
  auto it = connections_.find(peer);
  if (it == connections_.end() || it->second.closing) return;
  Connection& connection = it->second;

  if (message.opcode != proto::kBatchRequest)
    return protocol_error(peer, connection, fmt::format("unexpected message opcode {}", message.opcode));
  if (too_large(message.meta.size(), message.bulk.size()))
    return protocol_error(
        peer, connection,
        fmt::format("a message of {} exceeds the limit of {}", format_bytes(message.meta.size() + message.bulk.size()),
                    format_bytes(policy_.max_message_bytes)));
  std::string why;
  if (!ok(decode(peer, message, kept, why))) return protocol_error(peer, connection, why);
  attach_bulk(calls_, message.bulk);

  const StatusRecorder::Clock::time_point started = StatusRecorder::Clock::now();
  dispatcher_.run(*connection.session, calls_, reply_);
  status_.batch_ran(*connection.session, calls_, reply_, started);
  const transport::Segment bulk{reply_.bulk.data(), reply_.bulk.size()};
  const std::span<const transport::Segment> segments(&bulk, reply_.bulk.empty() ? 0 : 1);
  if (sink_) {
    if (Status s = sink_->reply(peer, proto::kBatchReply, reply_.meta, segments); !ok(s))
      RRTO_DEBUG(kLog, "session {}: reply not sent ({})", connection.session->id(), status_name(s));
  }
  if (reply_.end_session) close(peer, connection, reply_.end_reason);
}

void SessionManager::end_all(std::string_view reason) {
  for (auto& [peer, connection] : connections_) {
    if (!connection.closing) end_session(connection, reason);
  }
  connections_.clear();
  status_.connections(0);
}

}  // namespace rrto::server
