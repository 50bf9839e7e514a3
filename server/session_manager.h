// The server's transport handler: one Session per client connection. Admits
// sessions (Hello: protocol version, auth token, capacity), places them on a
// device, runs their batches, and ends them — freeing all they held — when
// the client goes away, breaks the protocol or the server stops. A malformed
// message closes that client's connection only; everyone else keeps going.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/backend.h"
#include "server/batch_decoder.h"
#include "server/dispatcher.h"
#include "server/reply_sink.h"
#include "server/scheduler.h"
#include "server/session.h"
#include "server/status/status_recorder.h"
#include "transport/transport.h"

namespace rrto::server {

struct SessionPolicy {
  std::string auth_token;  // empty: no authentication
  uint32_t max_sessions = 64;
  uint64_t max_message_bytes = 1024ull << 20;
  uint64_t session_memory_bytes = 0;  // 0: no per-session limit
};

class SessionManager final : public transport::Handler, private Admission {
 public:
  SessionManager(std::vector<Device*> devices, Scheduler& scheduler, SessionPolicy policy);
  ~SessionManager() override;
  SessionManager(const SessionManager&) = delete;
  SessionManager& operator=(const SessionManager&) = delete;

  // Must be set before the first message.
  void set_sink(ReplySink& sink) { sink_ = &sink; }

  void on_connect(transport::PeerId peer, const std::string& peer_address) override;
  void on_disconnect(transport::PeerId peer) override;
  void* bulk_destination(transport::PeerId peer, uint16_t opcode, std::span<const uint8_t> meta,
                         uint64_t bulk_length) override;
  void on_message(transport::PeerId peer, const transport::Message& message) override;

  // Ends every session (at shutdown), freeing what each held.
  void end_all(std::string_view reason);
  // The server is stopping: connections that close from now on are logged as
  // ended by the shutdown. Async-signal-safe.
  void mark_stopping() noexcept { stopping_.store(true, std::memory_order_relaxed); }

  size_t connection_count() const { return connections_.size(); }

  // What the status endpoint reports; records nothing until attached.
  StatusRecorder& status() { return status_; }
  size_t session_count() const { return admitted_; }

 private:
  struct Connection {
    std::unique_ptr<Session> session;
    bool closing = false;  // closed by us, waiting for on_disconnect
  };

  // The batch bulk_destination decoded into calls_, kept for on_message of
  // the same message so that each message is decoded once. The transport may
  // drop a message between the two, so a kept decode serves only a message
  // with the same peer, metadata and bulk length (one with a bulk always has
  // its own bulk_destination call first, which replaces what was kept).
  struct KeptDecode {
    transport::PeerId peer = 0;
    std::span<const uint8_t> meta;
    uint64_t bulk_length = 0;
    Status status = Status::Ok;
    std::string why;
    bool is_for(transport::PeerId peer, std::span<const uint8_t> meta, uint64_t bulk_length) const;
  };

  CUresult admit(Session& session, const proto::Hello& hello, std::string& why) override;
  bool too_large(uint64_t meta_length, uint64_t bulk_length) const;
  // The message's calls in calls_: as kept, or decoded now.
  Status decode(transport::PeerId peer, const transport::Message& message, const std::optional<KeptDecode>& kept,
                std::string& why);
  void protocol_error(transport::PeerId peer, Connection& connection, std::string reason);
  void close(transport::PeerId peer, Connection& connection, std::string_view reason);
  void end_session(Connection& connection, std::string_view reason);

  std::vector<Device*> devices_;
  Scheduler& scheduler_;
  SessionPolicy policy_;
  ReplySink* sink_ = nullptr;
  Dispatcher dispatcher_{*this};
  std::unordered_map<transport::PeerId, Connection> connections_;
  uint64_t next_session_id_ = 1;
  size_t admitted_ = 0;
  std::atomic<bool> stopping_{false};
  // Reused from message to message.
  std::vector<DecodedCall> calls_;
  std::optional<KeptDecode> kept_;
  BatchReply reply_;
  StatusRecorder status_;
};

}  // namespace rrto::server
