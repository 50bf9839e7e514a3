// Server side: a UCX listener, one endpoint per client, and a single-threaded
// loop that delivers everything to the Handler.
//
// UCX callbacks (connection requests, incoming messages, endpoint errors) never
// call the Handler: they only record what happened. The run loop turns those
// records into Handler calls one at a time, so a message that arrives while
// reply() is progressing the worker simply waits its turn.
//
// A payload that is still at the sender (rendezvous) is fetched without
// waiting: its message reaches the Handler once it has landed, and the loop
// serves everyone else meanwhile, so a client that stops in the middle of an
// upload (or sits behind a slow link) holds up no one but itself. That
// peer's later messages wait, in order, until it has.
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/log.h"
#include "transport/message_io.h"
#include "transport/transport.h"
#include "transport/ucx_worker.h"
#include "transport/wire.h"

namespace rrto::transport {
namespace {

// Longest sleep of an idle server between looks at UCX's timers.
constexpr int kServerPollMs = 100;
// How long stop() waits for endpoints to close cleanly before tearing down.
constexpr auto kCloseGrace = std::chrono::seconds(2);
// Most bytes of payloads landing in transport-owned buffers at once; a
// message that would pass it waits for others to land.
constexpr uint64_t kMostStagedBytes = uint64_t{2} << 30;
// Most messages of one peer waiting behind its payload still landing: a
// client sends one request at a time, so more is not a client of ours.
constexpr uint32_t kMostWaitingMessages = 8;
// How often the handler's on_tick runs; refused connections are logged at
// most this often too.
constexpr auto kTickInterval = std::chrono::seconds(1);
// A peer whose reply is this late gets a heartbeat, and another as often:
// a client counts a server silent for a second as lost when it has another
// to go to (client/failover.h).
constexpr auto kHeartbeatInterval = std::chrono::milliseconds(250);
constexpr auto kHeartbeatCheck = std::chrono::milliseconds(50);

class UcxServer final : public Server {
 public:
  UcxServer(Handler& handler, std::unique_ptr<UcxWorker> worker, int wake_fd, const ListenOptions& options)
      : handler_(handler),
        worker_(std::move(worker)),
        wake_fd_(wake_fd),
        link_(options.link),
        max_connections_(options.max_connections) {}
  ~UcxServer() override;

  Status start_listening(const ListenOptions& options);

  uint16_t port() const override { return port_; }
  Status run() override;
  void stop() override;
  void post(std::function<void()> task) override;
  Status reply(PeerId peer, uint16_t opcode, std::span<const uint8_t> meta,
               std::span<const Segment> bulk) override;
  void close_peer(PeerId peer) override;
  std::string transport_name(PeerId peer) const override;

 private:
  struct Peer {
    PeerId id = 0;
    ucp_ep_h ep = nullptr;
    std::string address;
    bool failed = false;  // UCX reported the endpoint broken: close it by force
    bool doomed = false;  // we decided to close it: ignore what it sends
    // A message was handed to the Handler and not replied to yet: since when,
    // and when the last heartbeat went.
    bool awaiting_reply = false;
    std::chrono::steady_clock::time_point awaited_since, last_heartbeat;
    bool fetching = false;  // a payload of its is landing (see Fetch)
    // A reply of ours is still going out: UCX reads `out` (and the Handler's
    // memory) until `sent`.
    bool sending = false;
    Outgoing out;
    Completion sent;
    void* send_request = nullptr;
    uint32_t waiting = 0;   // its messages in waiting_, behind a fetch or a reply
  };

  // Something the Handler must hear about, in arrival order.
  struct Event {
    enum class Kind { Connect, Disconnect, Message };
    Kind kind = Kind::Message;
    PeerId peer = 0;
    Peer* from = nullptr;                  // Message: close_now drops a peer's queued messages
    std::string address;                   // Connect
    WireHeader header{};                   // Message
    std::vector<uint8_t> meta;             // Message, metadata that came in the AM header
    void* descriptor = nullptr;            // Message, UCX data kept for us (eager) or to fetch (rndv)
    bool rendezvous = false;
    std::vector<uint8_t> data;             // Message, data UCX could not keep for us
  };

  // A message whose payload UCX is fetching from the sender into place.
  struct Fetch {
    Event event;
    std::unique_ptr<uint8_t[]> staging;  // transport-owned landing place, if any
    uint64_t staged_bytes = 0;
    uint8_t* bulk = nullptr;  // where the bulk lands, unless it comes after the metadata in `staging`
    Completion done;
    void* request = nullptr;
  };

  static void on_conn_request(ucp_conn_request_h request, void* arg);
  static void on_ep_error(void* arg, ucp_ep_h ep, ucs_status_t status);
  static ucs_status_t on_am(void* arg, const void* header, size_t header_length, void* data,
                            size_t length, const ucp_am_recv_param_t* param);

  // Work that must happen outside UCX callbacks but involves no Handler call:
  // accepting connections, answering handshakes, closing broken endpoints.
  void service();
  void accept(ucp_conn_request_h request);
  void answer_handshake(PeerId id);
  // Closes the endpoint, drops the peer's queued messages and queues
  // on_disconnect.
  void close_now(PeerId id);
  void reap_closes();
  // Emulated link (ListenOptions::link): the loop waits, UCX keeps being
  // progressed (its callbacks only record).
  void hold(LinkDirection direction, uint64_t bytes) {
    if (link_.enabled()) hold_message(link_, direction, bytes, [this] { worker_->progress(); });
  }

  // One round of the loop: progresses UCX, runs what is due, hands the
  // Handler what came. With `held`, sleeps when there is nothing to do,
  // letting go of it meanwhile. True when it found anything to do.
  bool round(std::unique_lock<std::mutex>* held);
  // Runs what other threads posted, in order.
  void run_posted();
  // Runs a posted task at once on the caller's thread, which then serves the
  // loop for a spin, in place of the sleeping loop thread (loop_mutex_ held).
  void run_in_place(const std::function<void()>& task);
  // Wakes the loop from its sleep; async-signal-safe.
  void wake() const;
  void dispatch(Event& event);
  void deliver_message(Event& event);
  // Starts fetching a rendezvous payload into place; false when it cannot
  // start yet (staging room), and the message waits.
  bool start_fetch(Event& event);
  // Delivers the messages whose payloads have landed.
  void finish_fetches();
  void finish_fetch(Fetch& fetch);
  // Ends the replies that have gone out.
  void finish_sends();
  // Lets the messages that waited go again, in order.
  void requeue_waiting();
  // Gives the Handler a message whose data is all here (`held`: the data,
  // or nullptr when it is not in one piece of ours).
  void deliver_held(Event& event, uint8_t* held, uint8_t* landed_bulk);
  // Parks a message until its peer's payload (or staging room) is there.
  void wait_turn(Event& event);
  void drop_for_memory(Event& event, uint64_t bytes);
  void release(Event& event);
  // Buffers of dispatched events' metadata, for the next events': taking a
  // message allocates nothing in the steady state.
  std::vector<uint8_t> take_spare() {
    if (spare_meta_.empty()) return {};
    std::vector<uint8_t> meta = std::move(spare_meta_.back());
    spare_meta_.pop_back();
    return meta;
  }
  void keep_spare(std::vector<uint8_t>&& meta) {
    constexpr size_t kSpares = 8, kLargest = 4096;  // metadata in a UCX header is small
    if (spare_meta_.size() >= kSpares || meta.capacity() == 0 || meta.capacity() > kLargest) return;
    meta.clear();
    spare_meta_.push_back(std::move(meta));
  }
  // Refuses a connection over max_connections_, logging at most once a tick.
  void refuse(ucp_conn_request_h request, const std::string& address);
  void tick();
  // Tells peers whose replies are overdue that their work is still running.
  void send_heartbeats(std::chrono::steady_clock::time_point now);
  // Closes everything; with `notify`, the Handler hears on_disconnect for
  // every peer it saw connect.
  void shutdown(bool notify);

  Peer* find(PeerId id) {
    if (found_ && found_->id == id) return found_;
    auto it = peers_.find(id);
    if (it == peers_.end()) return nullptr;
    found_ = it->second.get();
    return found_;
  }
  const Peer* find(PeerId id) const {
    auto it = peers_.find(id);
    return it == peers_.end() ? nullptr : it->second.get();
  }

  Handler& handler_;
  std::unique_ptr<UcxWorker> worker_;
  int wake_fd_ = -1;
  LinkProfile link_;
  const size_t max_connections_;
  std::chrono::steady_clock::time_point next_tick_{}, next_heartbeats_{};
  std::chrono::steady_clock::time_point now_{};  // read once per round of run()
  uint64_t refused_since_tick_ = 0;
  ucp_listener_h listener_ = nullptr;
  uint16_t port_ = 0;
  std::atomic<bool> stop_requested_{false};
  bool finished_ = false;
  // Held by whoever does the loop's work: the loop's thread, which lets go of
  // it only while it sleeps, or a thread that posts a task meanwhile.
  std::mutex loop_mutex_;
  bool looping_ = false;  // run() is under way (guarded by loop_mutex_)

  PeerId next_peer_ = 1;
  std::unordered_map<PeerId, std::unique_ptr<Peer>> peers_;
  std::unordered_map<ucp_ep_h, Peer*> by_ep_;  // the same peers, by endpoint
  Peer* found_ = nullptr;  // the last find(): a message's reply goes to the peer it came from

  std::deque<Event> events_;
  std::vector<std::vector<uint8_t>> spare_meta_;  // see take_spare
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;  // guarded by posted_mutex_
  std::vector<std::function<void()>> running_posted_;
  std::atomic<bool> has_posted_{false};
  std::vector<ucp_conn_request_h> conn_requests_;
  std::vector<PeerId> handshakes_;
  std::vector<PeerId> to_close_;
  std::vector<void*> closing_;  // ucp_ep_close_nbx requests still running

  std::vector<PeerId> sending_;  // peers with a reply still going out
  std::list<Fetch> fetches_;    // payloads landing; list: UCX holds &Fetch::done
  uint64_t staged_bytes_ = 0;   // of their staging buffers
  std::deque<Event> waiting_;   // messages waiting for a fetch, in arrival order
};

UcxServer::~UcxServer() {
  shutdown(false);
  worker_.reset();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status UcxServer::start_listening(const ListenOptions& options) {
  sockaddr_storage bound{};
  if (Status st = worker_->listen(options.address, options.port, on_conn_request, this, listener_, bound); !ok(st))
    return st;
  port_ = address_port(bound);
  RRTO_INFO(kLogComponent, "listening on {}{}", format_address(bound),
            link_.enabled() ? ", emulating the link " + link_.describe() : std::string());
  return worker_->set_am_handler(on_am, this, UCP_AM_FLAG_WHOLE_MSG | UCP_AM_FLAG_PERSISTENT_DATA, wire::kAmId);
}

// ----------------------------------------------------------- UCX callbacks

void UcxServer::on_conn_request(ucp_conn_request_h request, void* arg) {
  static_cast<UcxServer*>(arg)->conn_requests_.push_back(request);
}

void UcxServer::on_ep_error(void* arg, ucp_ep_h ep, ucs_status_t status) {
  auto* self = static_cast<UcxServer*>(arg);
  auto it = self->by_ep_.find(ep);
  if (it == self->by_ep_.end()) return;
  Peer* peer = it->second;
  if (peer->failed) return;
  // A client that exits closes its end without a word: UCX reports that as
  // an error of the endpoint (a timeout, a reset), the same as a crash.
  RRTO_INFO(kLogComponent, "peer {} ({}) disconnected", peer->id, peer->address);
  RRTO_DEBUG(kLogComponent, "peer {}: UCX says {}", peer->id, ucs_status_string(status));
  peer->failed = true;
  self->to_close_.push_back(peer->id);
}

ucs_status_t UcxServer::on_am(void* arg, const void* header, size_t header_length, void* data,
                              size_t length, const ucp_am_recv_param_t* param) {
  auto* self = static_cast<UcxServer*>(arg);
  Peer* peer = nullptr;
  if (param->recv_attr & UCP_AM_RECV_ATTR_FIELD_REPLY_EP) {
    auto it = self->by_ep_.find(param->reply_ep);
    if (it != self->by_ep_.end()) peer = it->second;
  }
  if (!peer) {
    RRTO_WARN(kLogComponent, "dropped a message from an endpoint that is not a known peer");
    return UCS_OK;
  }
  if (peer->failed || peer->doomed) return UCS_OK;

  wire::Incoming in;
  std::string why;
  if (!ok(wire::validate(header, header_length, length, in, why))) {
    RRTO_WARN(kLogComponent, "protocol error from peer {} ({}): {}; closing it", peer->id, peer->address, why);
    peer->doomed = true;
    self->to_close_.push_back(peer->id);
    return UCS_OK;
  }
  if (in.header.flags & wire::kFlagHandshake) {
    self->handshakes_.push_back(peer->id);
    return UCS_OK;
  }
  if (in.header.flags & wire::kFlagHeartbeat) return UCS_OK;  // a client has none to send

  Event& ev = self->events_.emplace_back();
  ev.peer = peer->id;
  ev.from = peer;
  ev.header = in.header;
  ev.meta = self->take_spare();
  ev.meta.assign(in.inline_meta.begin(), in.inline_meta.end());
  if (length == 0) return UCS_OK;
  ev.rendezvous = param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV;
  if (ev.rendezvous || (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_DATA)) {
    ev.descriptor = data;
    return UCS_INPROGRESS;
  }
  const auto* bytes = static_cast<const uint8_t*>(data);
  ev.data.assign(bytes, bytes + length);
  return UCS_OK;
}

// ------------------------------------------------------ transport-internal

void UcxServer::service() {
  if (!conn_requests_.empty()) {
    std::vector<ucp_conn_request_h> requests;
    requests.swap(conn_requests_);
    for (ucp_conn_request_h r : requests) accept(r);
  }
  if (!to_close_.empty()) {
    std::vector<PeerId> ids;
    ids.swap(to_close_);
    for (PeerId id : ids) close_now(id);
  }
  if (!handshakes_.empty()) {
    std::vector<PeerId> ids;
    ids.swap(handshakes_);
    for (PeerId id : ids) answer_handshake(id);
  }
  if (!closing_.empty()) reap_closes();
}

void UcxServer::accept(ucp_conn_request_h request) {
  if (stop_requested_.load(std::memory_order_relaxed)) {
    ucp_listener_reject(listener_, request);
    return;
  }
  std::string address = "?";
  ucp_conn_request_attr_t attr{};
  attr.field_mask = UCP_CONN_REQUEST_ATTR_FIELD_CLIENT_ADDR;
  if (ucp_conn_request_query(request, &attr) == UCS_OK) address = format_address(attr.client_address);
  if (max_connections_ && peers_.size() >= max_connections_) return refuse(request, address);

  ucp_ep_params_t params{};
  params.field_mask = UCP_EP_PARAM_FIELD_CONN_REQUEST | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                      UCP_EP_PARAM_FIELD_ERR_HANDLER;
  params.conn_request = request;
  params.err_mode = UCP_ERR_HANDLING_MODE_PEER;
  params.err_handler.cb = on_ep_error;
  params.err_handler.arg = this;
  ucp_ep_h ep = nullptr;
  ucs_status_t s = ucp_ep_create(worker_->get(), &params, &ep);
  if (s != UCS_OK) {
    RRTO_WARN(kLogComponent, "cannot accept a connection from {}: {}", address, ucs_status_string(s));
    return;
  }
  auto peer = std::make_unique<Peer>();
  peer->id = next_peer_++;
  peer->ep = ep;
  peer->address = address;
  RRTO_INFO(kLogComponent, "peer {} connected from {}", peer->id, address);
  by_ep_[ep] = peer.get();
  Event ev;
  ev.kind = Event::Kind::Connect;
  ev.peer = peer->id;
  ev.address = address;
  events_.push_back(std::move(ev));
  peers_[peer->id] = std::move(peer);
}

void UcxServer::refuse(ucp_conn_request_h request, const std::string& address) {
  ucp_listener_reject(listener_, request);
  if (refused_since_tick_++ == 0)
    RRTO_WARN(kLogComponent, "refused a connection from {}: {} connections are open, the limit", address,
              peers_.size());
}

void UcxServer::tick() {
  const auto now = now_;
  if (now >= next_heartbeats_) {
    next_heartbeats_ = now + kHeartbeatCheck;
    send_heartbeats(now);
  }
  if (now < next_tick_) return;
  next_tick_ = now + kTickInterval;
  if (refused_since_tick_ > 1)
    RRTO_WARN(kLogComponent, "refused {} more connections: the limit of {} was reached", refused_since_tick_ - 1,
              max_connections_);
  refused_since_tick_ = 0;
  handler_.on_tick();
}

void UcxServer::send_heartbeats(std::chrono::steady_clock::time_point now) {
  for (auto& [id, peer] : peers_) {
    if (!peer->awaiting_reply || peer->failed || peer->doomed) continue;
    if (now - std::max(peer->awaited_since, peer->last_heartbeat) < kHeartbeatInterval) continue;
    peer->last_heartbeat = now;
    // Fire and forget, as the handshake: the header is static.
    const WireHeader& h = wire::heartbeat_header();
    ucp_request_param_t param{};
    ucs_status_ptr_t r = ucp_am_send_nbx(peer->ep, wire::kAmId, &h, sizeof(h), nullptr, 0, &param);
    if (UCS_PTR_IS_PTR(r)) ucp_request_free(r);
  }
}

void UcxServer::answer_handshake(PeerId id) {
  Peer* peer = find(id);
  if (!peer || peer->failed) return;
  // Fire and forget: the header is static, nothing else is referenced.
  const WireHeader& h = wire::handshake_header();
  hold(LinkDirection::Up, sizeof(h));
  hold(LinkDirection::Down, sizeof(h));
  ucp_request_param_t param{};
  ucs_status_ptr_t r = ucp_am_send_nbx(peer->ep, wire::kAmId, &h, sizeof(h), nullptr, 0, &param);
  if (UCS_PTR_IS_PTR(r)) ucp_request_free(r);
}

void UcxServer::close_now(PeerId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  std::unique_ptr<Peer> peer = std::move(it->second);
  peers_.erase(it);
  if (found_ == peer.get()) found_ = nullptr;
  by_ep_.erase(peer->ep);

  // Its queued messages will never be answered; give their data back to UCX
  // while the endpoint still exists.
  auto drop_messages = [&](std::deque<Event>& queue) {
    std::erase_if(queue, [&](Event& e) {
      if (e.kind != Event::Kind::Message || e.peer != id) return false;
      release(e);
      return true;
    });
  };
  drop_messages(events_);
  drop_messages(waiting_);

  // A broken endpoint can only be closed by force. So is every endpoint at
  // shutdown: a graceful close waits for the client to progress and
  // acknowledge, which an idle client does not, and a forced close still
  // tells it at once (its connection resets).
  // So is one a payload is still coming from or a reply still going to: the
  // close cancels those, which must end before the Handler frees their memory
  // (and before `out` goes).
  ucp_request_param_t param{};
  param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  param.flags = (peer->failed || finished_ || peer->fetching || peer->sending) ? UCP_EP_CLOSE_FLAG_FORCE : 0;
  ucs_status_ptr_t r = ucp_ep_close_nbx(peer->ep, &param);
  if (UCS_PTR_IS_PTR(r)) closing_.push_back(r);
  for (Fetch& f : fetches_)
    while (f.event.peer == id && !f.done.done) worker_->progress();
  while (peer->sending && !peer->sent.done) worker_->progress();
  if (peer->send_request) ucp_request_free(peer->send_request);
  Event ev;
  ev.kind = Event::Kind::Disconnect;
  ev.peer = id;
  events_.push_back(std::move(ev));
}

void UcxServer::reap_closes() {
  for (auto it = closing_.begin(); it != closing_.end();) {
    if (ucp_request_check_status(*it) != UCS_INPROGRESS) {
      ucp_request_free(*it);
      it = closing_.erase(it);
    } else {
      ++it;
    }
  }
}

// --------------------------------------------------------------- delivery

Status UcxServer::run() {
  std::unique_lock loop(loop_mutex_);
  looping_ = true;
  while (!finished_ && !stop_requested_.load(std::memory_order_relaxed)) round(&loop);
  shutdown(true);
  looping_ = false;
  return Status::Ok;
}

bool UcxServer::round(std::unique_lock<std::mutex>* held) {
  // The one clock read of a round: spinning, timers and the messages taken in
  // this round share it.
  now_ = std::chrono::steady_clock::now();
  const bool posted = has_posted_.load(std::memory_order_acquire);
  const bool progressed = worker_->progress();
  if (!progressed && events_.empty() && !posted && held &&
      worker_->idle_at(now_, kServerPollMs, wake_fd_, !handler_.work_elsewhere(), held))
    now_ = std::chrono::steady_clock::now();  // it may have slept
  if (posted) run_posted();
  service();
  if (!fetches_.empty()) finish_fetches();
  if (!sending_.empty()) finish_sends();
  tick();
  const bool any = progressed || posted || !events_.empty();
  while (!events_.empty() && !stop_requested_.load(std::memory_order_relaxed)) {
    Event ev = std::move(events_.front());
    events_.pop_front();
    dispatch(ev);
    keep_spare(std::move(ev.meta));
  }
  return any;
}

void UcxServer::stop() {
  // Only async-signal-safe calls here: an atomic store and write(2).
  stop_requested_.store(true, std::memory_order_relaxed);
  wake();
}

void UcxServer::wake() const {
  const uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  (void)n;
}

void UcxServer::post(std::function<void()> task) {
  // A loop asleep is not woken for the task: a wake-up costs tens of
  // microseconds on a virtual machine, between work done elsewhere and its
  // reply. Tasks posted before go first. With the link emulated, replies wait
  // for it, which is the loop's to do.
  if (std::unique_lock loop(loop_mutex_, std::try_to_lock);
      loop && looping_ && !link_.enabled() && !has_posted_.load(std::memory_order_acquire)) {
    run_in_place(task);
    return;
  }
  bool first = false;
  {
    std::lock_guard lock(posted_mutex_);
    first = posted_.empty();
    posted_.push_back(std::move(task));
    has_posted_.store(true, std::memory_order_release);
  }
  // One wake-up per burst; a loop that is still spinning finds the flag first.
  if (first) wake();
}

void UcxServer::run_in_place(const std::function<void()>& task) {
  const size_t closing = closing_.size();
  task();
  // The loop stays here for a spin while nothing runs elsewhere: a client's
  // next request often comes within it, and the work it brings then goes to
  // an executor (often this thread's) without a wake-up.
  const auto until = std::chrono::steady_clock::now() + UcxWorker::kSpinTime;
  while (!handler_.work_elsewhere() && !stop_requested_.load(std::memory_order_relaxed)) {
    const bool found = round(nullptr);
    if (now_ >= until) break;
    // The client just woken is often queued on this core: let it run.
    if (!found) sched_yield();
  }
  // What is left to the loop (a payload landing, a reply going out, a peer
  // closing) needs it awake.
  if (!events_.empty() || !fetches_.empty() || !sending_.empty() || !waiting_.empty() || closing_.size() != closing)
    wake();
}

void UcxServer::run_posted() {
  {
    std::lock_guard lock(posted_mutex_);
    running_posted_.swap(posted_);
    has_posted_.store(false, std::memory_order_relaxed);
  }
  for (auto& task : running_posted_) task();
  running_posted_.clear();
}

void UcxServer::dispatch(Event& event) {
  switch (event.kind) {
    case Event::Kind::Connect:
      handler_.on_connect(event.peer, event.address);
      break;
    case Event::Kind::Disconnect:
      handler_.on_disconnect(event.peer);
      break;
    case Event::Kind::Message:
      deliver_message(event);
      break;
  }
}

void UcxServer::deliver_message(Event& event) {
  Peer* peer = event.from;
  if (peer->fetching || peer->sending) return wait_turn(event);
  const WireHeader& h = event.header;
  if (peer->failed || peer->doomed || !handler_.accept_message(event.peer, h.opcode, h.meta_length, h.bulk_length)) {
    release(event);
    return;
  }
  if (event.rendezvous && event.descriptor) {
    if (!start_fetch(event)) wait_turn(event);
    return;
  }
  // Eager data UCX kept for us, or a copy of ours.
  uint8_t* held = event.descriptor ? static_cast<uint8_t*>(event.descriptor) : event.data.data();
  deliver_held(event, held, nullptr);
}

void UcxServer::wait_turn(Event& event) {
  Peer* peer = event.from;
  if (++peer->waiting > kMostWaitingMessages) {
    RRTO_WARN(kLogComponent, "peer {} ({}) sent {} messages without waiting for replies; closing it", peer->id,
              peer->address, peer->waiting);
    release(event);
    close_now(peer->id);
    return;
  }
  waiting_.push_back(std::move(event));
}

bool UcxServer::start_fetch(Event& event) {
  const WireHeader& h = event.header;
  const bool meta_in_data = h.flags & wire::kFlagMetaInData;
  // The handler needs the metadata to choose a destination; when it only
  // comes with the data, everything lands in a buffer of ours first (not
  // zero-copy; only messages with more metadata than fits in a UCX AM
  // header take this path).
  uint8_t* dest = meta_in_data ? nullptr
                               : static_cast<uint8_t*>(handler_.bulk_destination(event.peer, h.opcode, event.meta,
                                                                                 h.bulk_length));
  const uint64_t staged = dest ? 0 : (meta_in_data ? h.meta_length : 0) + h.bulk_length;
  if (staged > kMostStagedBytes - std::min(kMostStagedBytes, staged_bytes_) && staged_bytes_ > 0) return false;
  Fetch& fetch = fetches_.emplace_back();
  if (staged) {
    fetch.staging.reset(new (std::nothrow) uint8_t[staged]);
    if (!fetch.staging) {
      fetches_.pop_back();
      drop_for_memory(event, staged);
      return true;
    }
    fetch.staged_bytes = staged;
    staged_bytes_ += staged;
  }
  fetch.bulk = meta_in_data ? nullptr : (dest ? dest : fetch.staging.get());
  const ucp_dt_iov_t part{fetch.bulk ? fetch.bulk : fetch.staging.get(), meta_in_data ? staged : h.bulk_length};
  void* descriptor = std::exchange(event.descriptor, nullptr);  // UCX owns it from here on, whatever happens
  fetch.event = std::move(event);
  fetch.event.from->fetching = true;
  fetch.request = receive_data(worker_->get(), descriptor, {&part, 1}, fetch.done);
  return true;
}

void UcxServer::finish_fetches() {
  bool landed = false;
  for (auto it = fetches_.begin(); it != fetches_.end();) {
    if (!it->done.done) {
      ++it;
      continue;
    }
    finish_fetch(*it);
    keep_spare(std::move(it->event.meta));
    it = fetches_.erase(it);
    landed = true;
  }
  if (landed) requeue_waiting();
}

void UcxServer::finish_sends() {
  bool sent = false;
  std::erase_if(sending_, [&](PeerId id) {
    Peer* peer = find(id);
    if (!peer) return true;  // closed meanwhile: close_now ended the send
    if (!peer->sent.done) return false;
    if (peer->send_request) ucp_request_free(std::exchange(peer->send_request, nullptr));
    if (peer->sent.status != UCS_OK)
      RRTO_DEBUG(kLogComponent, "reply to peer {} failed: {}", id, ucs_status_string(peer->sent.status));
    peer->sending = false;
    sent = true;
    return true;
  });
  if (sent) requeue_waiting();
}

void UcxServer::requeue_waiting() {
  if (waiting_.empty()) return;
  // Their turn may have come: back to the front, in the order they came.
  for (Event& e : waiting_) e.from->waiting--;
  events_.insert(events_.begin(), std::make_move_iterator(waiting_.begin()), std::make_move_iterator(waiting_.end()));
  waiting_.clear();
}

void UcxServer::finish_fetch(Fetch& fetch) {
  if (fetch.request) ucp_request_free(fetch.request);
  staged_bytes_ -= fetch.staged_bytes;
  Peer* peer = find(fetch.event.peer);  // gone if closed meanwhile
  if (!peer) return;
  peer->fetching = false;
  if (fetch.done.status != UCS_OK) {
    RRTO_DEBUG(kLogComponent, "lost a message from peer {}: {}", fetch.event.peer,
               ucs_status_string(fetch.done.status));
    return;
  }
  if (peer->failed || peer->doomed) return;
  deliver_held(fetch.event, fetch.bulk ? nullptr : fetch.staging.get(), fetch.bulk);
}

void UcxServer::deliver_held(Event& event, uint8_t* held, uint8_t* landed_bulk) {
  const PeerId id = event.peer;
  const WireHeader h = event.header;
  const bool meta_in_data = h.flags & wire::kFlagMetaInData;
  std::span<const uint8_t> meta = event.meta;
  if (meta_in_data) meta = {held, h.meta_length};
  std::span<uint8_t> bulk;
  if (landed_bulk) {
    bulk = {landed_bulk, h.bulk_length};
  } else if (h.bulk_length > 0) {
    uint8_t* source = held + (meta_in_data ? h.meta_length : 0);
    auto* dest = static_cast<uint8_t*>(handler_.bulk_destination(id, h.opcode, meta, h.bulk_length));
    // Without a destination, the bytes stay where we hold them. UCX is not
    // asked to do this copy: 1.13 leaks an eager descriptor passed to
    // ucp_am_recv_data_nbx outside the AM callback.
    if (dest && dest != source) std::memcpy(dest, source, h.bulk_length);
    bulk = {dest ? dest : source, h.bulk_length};
  }
  hold(LinkDirection::Up, sizeof(WireHeader) + h.meta_length + h.bulk_length);
  Peer* peer = event.from;
  peer->awaiting_reply = true;
  peer->awaited_since = now_;
  handler_.on_message(id, Message{h.opcode, meta, bulk, now_, meta_in_data ? nullptr : &event.meta});
  release(event);
}

void UcxServer::drop_for_memory(Event& event, uint64_t bytes) {
  RRTO_WARN(kLogComponent, "no memory to receive {} bytes from peer {}; closing it", bytes, event.peer);
  release(event);
  close_peer(event.peer);
}

void UcxServer::release(Event& event) {
  if (event.descriptor) ucp_am_data_release(worker_->get(), event.descriptor);
  event.descriptor = nullptr;
}

// ------------------------------------------------------- public, the rest

Status UcxServer::reply(PeerId id, uint16_t opcode, std::span<const uint8_t> meta,
                        std::span<const Segment> bulk) {
  Peer* peer = find(id);
  if (!peer || peer->failed || peer->doomed) return Status::ConnectionLost;
  if (peer->sending) return Status::InvalidArgument;  // one reply at a time
  peer->awaiting_reply = false;
  uint64_t bulk_bytes = 0;
  for (const Segment& s : bulk) bulk_bytes += s.length;
  hold(LinkDirection::Down, sizeof(WireHeader) + meta.size() + bulk_bytes);
  peer->sent = Completion{};
  Status st = peer->out.start(peer->ep, worker_->max_am_header(), opcode, 0, meta, bulk, 0, peer->sent,
                              peer->send_request);
  if (!ok(st)) return st;
  if (!peer->sent.done) {
    // It goes out while the loop serves the others; this peer's next message
    // waits for it (a client that stops reading holds up no one else).
    peer->sending = true;
    sending_.push_back(id);
    return Status::Ok;
  }
  if (peer->send_request) ucp_request_free(std::exchange(peer->send_request, nullptr));
  if (peer->sent.status != UCS_OK) {
    RRTO_DEBUG(kLogComponent, "reply to peer {} failed: {}", id, ucs_status_string(peer->sent.status));
    return Status::ConnectionLost;
  }
  return Status::Ok;
}

void UcxServer::close_peer(PeerId id) {
  Peer* peer = find(id);
  if (!peer) return;
  peer->doomed = true;
  close_now(id);
}

std::string UcxServer::transport_name(PeerId id) const {
  const Peer* peer = find(id);
  return peer ? ep_transports(peer->ep) : std::string();
}

void UcxServer::shutdown(bool notify) {
  if (finished_) return;
  finished_ = true;
  for (Event& e : events_) release(e);
  std::erase_if(events_, [](const Event& e) { return e.kind == Event::Kind::Message; });
  if (listener_) {
    for (ucp_conn_request_h r : conn_requests_) ucp_listener_reject(listener_, r);
    conn_requests_.clear();
    ucp_listener_destroy(listener_);
    listener_ = nullptr;
  }

  std::vector<PeerId> ids;
  for (const auto& [id, peer] : peers_) ids.push_back(id);
  for (PeerId id : ids) close_now(id);
  if (notify) {
    while (!events_.empty()) {
      Event ev = std::move(events_.front());
      events_.pop_front();
      dispatch(ev);
    }
  }
  events_.clear();

  const auto deadline = std::chrono::steady_clock::now() + kCloseGrace;
  while (!closing_.empty() && std::chrono::steady_clock::now() < deadline) {
    if (!worker_->progress()) worker_->idle(10);
    reap_closes();
  }
  // Still-running closes finish inside ucp_worker_destroy.
  for (void* r : closing_) ucp_request_free(r);
  closing_.clear();
  for (Fetch& f : fetches_)  // all ended by the closes
    if (f.request) ucp_request_free(f.request);
  fetches_.clear();
}

}  // namespace

Status Server::listen(const ListenOptions& options, Handler& handler, std::unique_ptr<Server>& out) {
  std::unique_ptr<UcxWorker> worker;
  Status st = UcxWorker::create("rrto-server", options.shared_memory ? UcxWorker::SharedMemory::On : UcxWorker::SharedMemory::Off, worker);
  if (!ok(st)) return st;
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    RRTO_ERROR(kLogComponent, "cannot create an eventfd: {}", std::strerror(errno));
    return Status::IoError;
  }
  auto server = std::make_unique<UcxServer>(handler, std::move(worker), wake_fd, options);
  st = server->start_listening(options);
  if (!ok(st)) return st;
  out = std::move(server);
  return Status::Ok;
}

}  // namespace rrto::transport
