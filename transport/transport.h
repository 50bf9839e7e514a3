// Message transport over UCX ucp active messages. Knows nothing about CUDA.
//
// A message is an opcode, a small metadata block (the encoded request or
// reply fields) and an optional bulk payload (tensor bytes). Bulk payloads
// travel zero-copy where UCX can (rendezvous): the sender passes pointers to
// its own buffers, the receiver chooses where the bytes land.
#pragma once

#include <cstddef>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "transport/link.h"

namespace rrto::transport {

// First bytes of every message on the wire. Checked before anything else.
inline constexpr uint32_t kWireMagic = 0x4f545252;  // "RRTO" little-endian
inline constexpr uint16_t kWireVersion = 1;

struct [[gnu::packed]] WireHeader {
  uint32_t magic;
  uint16_t version;
  uint16_t opcode;
  uint32_t meta_length;   // bytes of metadata
  uint32_t flags;         // transport-internal (e.g. metadata moved into the bulk)
  uint64_t bulk_length;   // bytes of bulk payload
};
static_assert(sizeof(WireHeader) == 24);

// Upper bound on any one message's metadata, whatever the peer claims.
inline constexpr size_t kMaxMetaLength = 64u << 20;
// Upper bound on any one message's bulk payload.
inline constexpr uint64_t kMaxBulkLength = 16ull << 30;

// One piece of a bulk payload, sent from the caller's memory without copying.
struct Segment {
  const void* data;
  size_t length;
};

using PeerId = uint64_t;

// ---------------------------------------------------------------- client side

struct ConnectOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int connect_timeout_ms = 5000;
  // How long call() waits without a word from the server (a reply, or a
  // heartbeat while its work runs) before it gives up with Timeout and the
  // connection is closed for good. 0: for ever.
  int reply_timeout_ms = 0;
  // Emulated link to the server: every message this connection sends or
  // receives (the handshake included) is held as the profile says.
  LinkProfile link{};
};

// Where the reply of a call goes. `meta` is filled with the reply metadata; the
// reply's bulk payload lands in [bulk_dest, bulk_dest + bulk_capacity), and a
// reply whose bulk is larger than that is a ProtocolError.
struct Reply {
  uint16_t opcode = 0;
  std::vector<uint8_t> meta;
  void* bulk_dest = nullptr;
  size_t bulk_capacity = 0;
  size_t bulk_received = 0;
};

class ClientConnection {
 public:
  virtual ~ClientConnection() = default;

  // Connects to a listening Server. Unreachable if nobody answers within the
  // timeout; `why` then says what happened, in a user's words ("connection
  // refused", "no answer within 5000 ms").
  static Status connect(const ConnectOptions& options, std::unique_ptr<ClientConnection>& out, std::string& why);
  // The same, logging `why` at error level with the address.
  static Status connect(const ConnectOptions& options, std::unique_ptr<ClientConnection>& out);

  // Sends one message and waits for the peer's reply to it. Not thread-safe:
  // callers serialise. Returns ConnectionLost if the peer goes away (now or
  // earlier), never blocks forever on a dead peer.
  virtual Status call(uint16_t opcode, std::span<const uint8_t> meta, std::span<const Segment> bulk,
                      Reply& reply) = 0;

  // What UCX chose to carry messages to this peer, e.g. "tcp" or "posix,sysv".
  virtual std::string transport_name() const = 0;

  // Besides reply_timeout_ms: once the request has been sent, and while no
  // reply bytes are arriving, a silence of `ms` also loses the connection
  // (Timeout), heartbeats or not. 0: none (the default).
  virtual void set_silence_limit(int ms) = 0;
};

// ---------------------------------------------------------------- server side

struct ListenOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 0;  // 0: pick a free port (see Server::port)
  // Emulated link in front of the server, for clients that do not emulate
  // one themselves: each message is held before the Handler sees it, each
  // reply before it is sent. The serving loop waits meanwhile, so with
  // several clients one client's delays hold up the others.
  LinkProfile link{};
  // Connections open at once; more are refused before anything is set up
  // for them. 0: no bound.
  size_t max_connections = 0;
  // Whether clients on this host may use shared memory (UcxWorker::SharedMemory):
  // faster, but one local client can stall the others.
  bool shared_memory = false;
};

// An incoming message, valid for the duration of Handler::on_message.
struct Message {
  uint16_t opcode = 0;
  std::span<const uint8_t> meta;
  std::span<uint8_t> bulk;  // where the bulk payload landed (may be empty)
  // When the serving loop took it (its clock, read once per round of the
  // loop), so a handler need not read the clock again.
  std::chrono::steady_clock::time_point received_at = std::chrono::steady_clock::now();
  // The vector holding `meta`, when the transport has one: the handler may
  // take it by swapping in one of its own (whose capacity the transport
  // reuses), instead of copying the bytes.
  std::vector<uint8_t>* meta_buffer = nullptr;
};

// Callbacks are only ever made from inside Server::run, one at a time, never
// re-entrantly.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual void on_connect(PeerId peer, const std::string& peer_address) = 0;
  // The peer closed its connection, vanished, or was closed by close_peer().
  virtual void on_disconnect(PeerId peer) = 0;
  // Whether to receive a message of this size from `peer`, asked on its
  // header alone, before anything is allocated for it or fetched. False: the
  // transport drops it unread (the handler may reply or close the peer).
  virtual bool accept_message(PeerId peer, uint16_t opcode, uint64_t meta_length, uint64_t bulk_length) {
    return true;
  }
  // Where should `bulk_length` bytes of this message's payload land? Return a
  // pointer to at least that many writable bytes (e.g. the destination of a
  // copy, already checked by the handler), or nullptr to let the transport
  // use a buffer of its own. Called before on_message for the same message,
  // and only for messages that carry a bulk payload; other peers' messages
  // may come between the two (while this payload lands), never this peer's.
  virtual void* bulk_destination(PeerId peer, uint16_t opcode, std::span<const uint8_t> meta,
                                 uint64_t bulk_length) = 0;
  virtual void on_message(PeerId peer, const Message& message) = 0;
  // About once a second, for what is due by the clock (timeouts).
  virtual void on_tick() {}
  // Whether work handed to other threads is under way: then an idle
  // transport thread sleeps (their Server::post serves it) rather than spin,
  // since a thread it has just woken is often queued on its core.
  virtual bool work_elsewhere() const { return false; }
};

class Server {
 public:
  virtual ~Server() = default;

  static Status listen(const ListenOptions& options, Handler& handler, std::unique_ptr<Server>& out);

  // The port actually bound (useful with port 0).
  virtual uint16_t port() const = 0;

  // Serves until stop() is called. Returns Ok after a clean stop.
  virtual Status run() = 0;

  // Safe to call from a signal handler or another thread.
  virtual void stop() = 0;

  // Runs `task` as part of the loop that run() runs, soon, never at the same
  // time as the loop's other work: on run()'s thread, or, while that sleeps,
  // at once on the caller's, which then serves the loop for a moment (the
  // Handler hears from it then). Callable from any thread but the loop's own
  // work. This is how work done elsewhere gets its reply() sent. Tasks still
  // waiting when run() returns are dropped.
  virtual void post(std::function<void()> task) = 0;

  // Replies to the message currently being handled (or any earlier one) of
  // `peer`, one reply at a time (InvalidArgument while the last is still
  // going out). It may return before the reply has gone: `meta` and `bulk`
  // must then stay as they are until the peer's next message reaches
  // on_message (its messages wait for the reply), close_peer() for it has
  // returned, or on_disconnect, whichever comes first. Errors of a send that
  // ends later are only logged; the peer's disconnect follows them.
  virtual Status reply(PeerId peer, uint16_t opcode, std::span<const uint8_t> meta,
                       std::span<const Segment> bulk) = 0;

  // Closes the peer's connection (e.g. after a protocol error); on_disconnect
  // follows.
  virtual void close_peer(PeerId peer) = 0;

  virtual std::string transport_name(PeerId peer) const = 0;
};

}  // namespace rrto::transport
