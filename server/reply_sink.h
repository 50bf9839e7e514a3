// Where the session manager sends replies and closes connections: the
// transport's Server in rrto-server, an in-process fake in tests.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "common/status.h"
#include "transport/transport.h"

namespace rrto::server {

class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // May return before the reply has gone: `meta` and `bulk` stay as they are
  // until the peer's next message, or until it is closed (transport::Server).
  virtual Status reply(transport::PeerId peer, uint16_t opcode, std::span<const uint8_t> meta,
                       std::span<const transport::Segment> bulk) = 0;
  // on_disconnect follows, later.
  virtual void close_peer(transport::PeerId peer) = 0;
  // Runs `task` on the transport thread (from any thread).
  virtual void post(std::function<void()> task) = 0;
};

class TransportReplySink final : public ReplySink {
 public:
  explicit TransportReplySink(transport::Server& server) : server_(server) {}
  Status reply(transport::PeerId peer, uint16_t opcode, std::span<const uint8_t> meta,
               std::span<const transport::Segment> bulk) override {
    return server_.reply(peer, opcode, meta, bulk);
  }
  void close_peer(transport::PeerId peer) override { server_.close_peer(peer); }
  void post(std::function<void()> task) override { server_.post(std::move(task)); }

 private:
  transport::Server& server_;
};

}  // namespace rrto::server
