// The server's transport handler: one Session per client connection. Admits
// sessions (the handshake: protocol version, key, capacity), places them on a
// device, runs their batches, and ends them — freeing all they held — when
// the client goes away, breaks the protocol or the server stops. A malformed
// message closes that client's connection only; everyone else keeps going.
//
// Threads: everything here runs on the transport thread, except the batches
// of admitted sessions while several sessions send work, which run on their
// device's executor (executor.h); the reply is posted back to the transport
// thread when the batch is done. A session alone on the server runs at once
// on the transport thread when no executor is busy, its last batch was short
// and this one runs no kernel, which spares the hand-off (two thread wake-ups). A session has at most one batch in flight: the
// protocol is request and reply.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/backend.h"
#include "protocol/bulk_codec.h"
#include "server/batch_decoder.h"
#include "server/address_window.h"
#include "server/cluster_view.h"
#include "server/dispatcher.h"
#include "server/executor.h"
#include "server/reply_sink.h"
#include "server/scheduler.h"
#include "server/session.h"
#include "server/status/status_recorder.h"
#include "transport/transport.h"

namespace rrto::server {

struct SessionPolicy {
  std::string auth_key;  // clients must prove they know it (protocol/handshake.h); empty: no authentication
  uint32_t max_sessions = 64;
  uint64_t max_message_bytes = 1024ull << 20;
  SessionLimits session;  // what each session may hold
  // A connection that has not been admitted this long after it opened is
  // closed (it holds a connection slot and its buffers meanwhile).
  std::chrono::nanoseconds hello_timeout = std::chrono::seconds(10);
  Placement placement = Placement::Spread;
  // Another session that sent work this recently shares the server: device
  // work then goes to the executors.
  std::chrono::nanoseconds share_window = std::chrono::milliseconds(50);
  // Device-time weights by client program name (the name before "[pid]" in
  // its Hello); others weigh 1.
  std::vector<std::pair<std::string, uint32_t>> weights;
};

class SessionManager final : public transport::Handler, private Admission {
 public:
  SessionManager(std::vector<Device*> devices, SessionPolicy policy);
  ~SessionManager() override;
  SessionManager(const SessionManager&) = delete;
  SessionManager& operator=(const SessionManager&) = delete;

  // Must be set before the first message.
  void set_sink(ReplySink& sink) { sink_ = &sink; }
  // The edge cluster this server is in: new clients may be sent to a server
  // with fewer sessions per device. `view` must outlive this.
  void set_cluster(ClusterView& view) { cluster_ = &view; }

  void on_connect(transport::PeerId peer, const std::string& peer_address) override;
  void on_disconnect(transport::PeerId peer) override;
  // Before Hello, limits::kHelloMessageBytes; afterwards max_message_bytes.
  bool accept_message(transport::PeerId peer, uint16_t opcode, uint64_t meta_length, uint64_t bulk_length) override;
  void* bulk_destination(transport::PeerId peer, uint16_t opcode, std::span<const uint8_t> meta,
                         uint64_t bulk_length) override;
  void on_message(transport::PeerId peer, const transport::Message& message) override;
  // Closes connections that sent no accepted Hello within policy_.hello_timeout.
  void on_tick() override;
  bool work_elsewhere() const override { return in_flight_ > 0; }

  // Ends every session (at shutdown), freeing what each held.
  void end_all(std::string_view reason);
  // The server is stopping: connections that close from now on are logged as
  // ended by the shutdown. Async-signal-safe.
  void mark_stopping() noexcept { stopping_.store(true, std::memory_order_relaxed); }
  // Drains the server: new sessions are refused; once no batch is on an
  // executor (or after kDrainLimit), every connection is closed, so that
  // clients re-create their sessions elsewhere, and `drained` runs (on the
  // transport thread, from on_tick). Async-signal-safe.
  void drain() noexcept { draining_.store(true, std::memory_order_relaxed); }
  void on_drained(std::function<void()> drained) { on_drained_ = std::move(drained); }
  static constexpr std::chrono::seconds kDrainLimit{10};

  size_t connection_count() const { return connections_.size(); }

  // What the status endpoint reports, and the scheduler reads.
  StatusRecorder& status() { return status_; }
  const Metrics& metrics() const { return metrics_; }
  size_t session_count() const { return admitted_; }
  // The address windows the sessions hold (address_window.h); any thread.
  std::set<uint64_t> windows_held() const { return windows_.held(); }
  // Batches out on an executor whose reply has not been sent yet.
  size_t batches_in_flight() const { return in_flight_; }

 private:
  // A session and what running its batches needs: shared by its connection
  // and by the tasks of it that are on an executor.
  struct SessionWork {
    SessionWork(uint64_t id, const std::string& peer_address, Admission& admission, const std::string& auth_key)
        : session(id, peer_address), dispatcher(admission, auth_key) {}
    Session session;
    Dispatcher dispatcher;
    WorkQueue queue;
    // The batch being run: its metadata and bulk (unless the bulk landed in
    // device memory), decoded calls and reply.
    std::vector<uint8_t> meta, bulk;
    std::vector<uint8_t> compressed;  // a compressed bulk as it came, until decompressed
    std::vector<DecodedCall> calls;
    BatchSummary summary;  // of calls
    BatchReply reply;
    std::vector<uint8_t> reply_bulk;  // the reply's bytes, when the device's would not stay
    // Gives back what a large batch left in the buffers above, but
    // reply_bulk: the reply may still be going out (transport::Server::reply).
    void shrink_buffers();
    // Copies the reply's bytes into reply_bulk unless they are the session's
    // own (a device's staging buffer is reused by the next session's calls).
    void keep_reply_bytes();
    bool busy = false;  // the batch is on the executor
    uint64_t memory_seen = 0;  // the session's allocations after its last batch
    bool stays = false;        // it cannot move (the log said why once)
    uint64_t placement_changes_seen = ~uint64_t{0};  // by its last rebalance
    std::chrono::nanoseconds last_run{0};  // how long its last batch ran
    StatusRecorder::BatchCounts counts;    // of its last batch, counted once the reply is out
  };
  // The batch bulk_destination decoded into the connection's SessionWork,
  // kept for on_message of the same message so that each message is decoded
  // once. Other peers' messages may come between the two (the transport
  // serves them while this one's bulk lands), never this peer's own; the
  // transport may drop a message between the two, so a kept decode serves
  // only a message with the same metadata and bulk length (one with a bulk
  // always has its own bulk_destination call first, which replaces it).
  struct KeptDecode {
    std::span<const uint8_t> meta;
    uint64_t bulk_length = 0;
    Status status = Status::Ok;
    std::string why;
    bool is_for(std::span<const uint8_t> meta, uint64_t bulk_length) const;
  };

  struct Connection {
    std::shared_ptr<SessionWork> work;
    bool closing = false;  // closed by us, waiting for on_disconnect
    std::chrono::steady_clock::time_point opened;
    std::optional<KeptDecode> kept;
  };

  CUresult admit(Session& session, const Introduction& introduction, Welcome& welcome, std::string& why) override;
  // Why a client may not have a session here (version, key, capacity), as
  // the code it gets; CUDA_SUCCESS when it may.
  CUresult refusal(const Introduction& introduction, std::string& why) const;
  // This server's load, for a welcome.
  Welcome load() const;
  CUresult refuse(const Session& session, std::string_view client, CUresult code, const std::string& why);
  // The memory a new session may come to hold: its limit, or a whole device.
  uint64_t session_room() const;
  // The message's calls in work.calls, decoded from work.meta: as kept, or
  // decoded now; its bulk where it stays until the batch is done.
  Status take_batch(const transport::Message& message, const std::optional<KeptDecode>& kept,
                    SessionWork& work, std::string& why);
  // Where the bulk of a session's message lands (nullptr: the transport's buffer).
  uint8_t* landing_place(SessionWork& work, uint64_t bulk_length);
  // A compressed bulk (`frame`) decompressed into its landing place, which
  // `bulk` then names; nothing to do for a batch without CompressedBulk.
  Status inflate(SessionWork& work, std::span<const uint8_t> frame, std::span<const uint8_t>& bulk, std::string& why);
  using Clock = std::chrono::steady_clock;
  // Runs the batch at once, or hands it to the session's device executor;
  // `now`: when it was received.
  void run_batch(transport::PeerId peer, Connection& connection, Clock::time_point now);
  // The open connection of `peer`, or nullptr.
  Connection* find_connection(transport::PeerId peer);
  void forget_found_connection() { found_connection_ = nullptr; }
  // The weight of a session's share of its device (SessionPolicy::weights).
  uint32_t weight_of(const Session& session) const;
  // Whether another session sent work within policy_.share_window; notes this one.
  bool shares_server(const SessionWork& work, Clock::time_point now);
  // Runs the batch here (on whichever thread calls it); the device's time
  // counts from `started`.
  void run_now(SessionWork& work, Clock::time_point started);
  void batch_done(transport::PeerId peer, const std::shared_ptr<SessionWork>& work, size_t device);
  void send_reply(transport::PeerId peer, Connection& connection);
  // Each device's load, as the metrics say.
  std::vector<DeviceLoad> device_loads() const;
  // The device a new session goes to, by the load of each.
  size_t place();
  // Opens the admitted session on device `index` in its address window: the
  // one a resumed session names, else a fresh one (cluster-wide, as far as
  // this server knows).
  CUresult open_in_window(Session& session, size_t index, const Introduction& introduction,
                          const std::string& client, std::string& why);
  // Keeps the devices' memory in use up to date after a session's batch.
  void account_memory(SessionWork& work);
  // Between two batches of an idle session: spread placement keeps devices
  // even (a session on a device with two sessions more than another moves
  // there); a session without a template whose next batch allocates more
  // than its device has free moves where it fits.
  void rebalance(SessionWork& work);
  void make_room(SessionWork& work);
  // Moves the idle session to device `to`, or logs once why it cannot (and
  // then leaves it where it is for good).
  void move(SessionWork& work, size_t to, std::string_view why);
  // on_tick's part of drain().
  void drain_step(std::chrono::steady_clock::time_point now);
  void protocol_error(transport::PeerId peer, Connection& connection, std::string reason);
  void close(transport::PeerId peer, Connection& connection, std::string_view reason);
  void end_session(Connection& connection, std::string_view reason);

  std::vector<Device*> devices_;
  SessionPolicy policy_;
  Scheduler scheduler_;
  Metrics metrics_;
  std::vector<uint64_t> busy_seen_;  // each device's busy time at the last placement
  ReplySink* sink_ = nullptr;
  ClusterView* cluster_ = nullptr;
  WindowTable windows_;
  std::unordered_map<transport::PeerId, Connection> connections_;
  // The connection of the last find_connection, since one message asks for
  // it several times. Node addresses stay put until the node is erased.
  transport::PeerId found_peer_ = 0;
  Connection* found_connection_ = nullptr;
  uint64_t next_session_id_ = 1;
  size_t admitted_ = 0;
  // Sessions admitted, ended or moved so far: rebalance looks again only
  // after one of those.
  uint64_t placement_changes_ = 0;
  size_t in_flight_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> draining_{false};
  std::optional<std::chrono::steady_clock::time_point> drain_started_;
  std::function<void()> on_drained_;
  proto::BulkDecompressor decompressor_;  // of the transport thread
  // The last two sessions that sent work, and when.
  struct Sender {
    const SessionWork* work = nullptr;  // compared, never followed
    std::chrono::steady_clock::time_point at;
  };
  Sender latest_, previous_;
  std::vector<uint8_t> error_meta_;  // a malformed request's reply
  StatusRecorder status_{metrics_};
  // Last: their threads stop before anything they use goes.
  std::vector<std::unique_ptr<DeviceExecutor>> executors_;
};

}  // namespace rrto::server
