// Client side: one UCX endpoint to one server, one call in flight at a time.
//
// The caller's thread does all the progress, inside connect() and call(), so
// the AM callback may write the reply straight into the caller's Reply.
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "transport/message_io.h"
#include "transport/spin_predictor.h"
#include "transport/transport.h"
#include "transport/ucx_worker.h"
#include "transport/wire.h"

namespace rrto::transport {
namespace {

// Longest sleep while waiting, between looks at whether the server is gone.
constexpr int kClientPollMs = 100;
// How long the destructor waits for a clean close.
constexpr auto kCloseGrace = std::chrono::seconds(1);

// Why a connection failed, as a user would say it: a closed port shows as
// one of several UCX errors, depending on the transport.
std::string in_words(ucs_status_t s) {
  switch (s) {
    case UCS_ERR_UNREACHABLE:
    case UCS_ERR_NOT_CONNECTED:
    case UCS_ERR_CONNECTION_RESET:
    case UCS_ERR_REJECTED:
      return "connection refused";
    default:
      return ucs_status_string(s);
  }
}

class UcxClient final : public ClientConnection {
 public:
  UcxClient(std::unique_ptr<UcxWorker> worker, std::string address, const ConnectOptions& options)
      : worker_(std::move(worker)),
        address_(std::move(address)),
        link_(options.link),
        reply_timeout_(std::chrono::milliseconds(options.reply_timeout_ms)) {}
  ~UcxClient() override;

  Status open(const sockaddr_storage& address, socklen_t address_length, int timeout_ms, std::string& why);

  Status call(uint16_t opcode, std::span<const uint8_t> meta, std::span<const Segment> bulk,
              Reply& reply) override;
  std::string transport_name() const override { return ep_ ? ep_transports(ep_) : std::string(); }
  void set_silence_limit(int ms) override { silence_limit_ = std::chrono::milliseconds(ms); }

 private:
  enum class Expect { Nothing, Handshake, Reply };

  static void on_ep_error(void* arg, ucp_ep_h ep, ucs_status_t status);
  static ucs_status_t on_am(void* arg, const void* header, size_t header_length, void* data,
                            size_t length, const ucp_am_recv_param_t* param);
  ucs_status_t accept_reply(const wire::Incoming& in, void* data, size_t length, bool rendezvous);
  void finish_reply(Status status) {
    reply_status_ = status;
    reply_arrived_ = true;
    reply_done_ = true;
  }
  // Starts fetching a rendezvous reply that on_am put aside.
  void fetch_reply();
  // Whether the server has been silent for longer than reply_timeout_, or
  // than silence_limit_ apart from the time bytes were on their way (our
  // request, a rendezvous reply).
  bool silent_too_long(bool in_transfer) {
    if (reply_timeout_.count() == 0 && silence_limit_.count() == 0) return false;
    const auto now = std::chrono::steady_clock::now();
    if (in_transfer) transferring_at_ = now;
    if (reply_timeout_.count() > 0 && now - last_heard_ > reply_timeout_) return true;
    return silence_limit_.count() > 0 && now - std::max(last_heard_, transferring_at_) > silence_limit_;
  }
  // Gives up on the connection at once: outstanding requests complete with
  // an error, and nothing is sent or received on it again.
  void abandon();
  // True when it went past the spin (UcxWorker::idle).
  bool progress_or_sleep(bool spin = true) { return !worker_->progress() && worker_->idle(kClientPollMs, -1, spin); }
  // Emulated link: the caller's thread waits, UCX keeps being progressed.
  void hold(LinkDirection direction, uint64_t bytes) {
    if (link_.enabled()) hold_message(link_, direction, bytes, [this] { worker_->progress(); });
  }

  std::unique_ptr<UcxWorker> worker_;
  std::string address_;
  LinkProfile link_;
  const std::chrono::milliseconds reply_timeout_;  // 0: none
  std::chrono::milliseconds silence_limit_{0};      // 0: none
  std::chrono::steady_clock::time_point last_heard_;  // from the server, during a call
  std::chrono::steady_clock::time_point transferring_at_;  // the last moment bytes were on their way
  ucp_ep_h ep_ = nullptr;
  bool lost_ = false;
  ucs_status_t lost_status_ = UCS_OK;
  Outgoing outgoing_;
  SpinPredictor spin_predictor_;

  // The answer being waited for.
  Expect expect_ = Expect::Nothing;
  Reply* reply_ = nullptr;
  bool reply_arrived_ = false;  // its header was accepted
  bool reply_done_ = false;     // and its payload is in place
  Status reply_status_ = Status::Ok;
  void* pending_descriptor_ = nullptr;  // rendezvous reply not fetched yet
  WireHeader pending_header_{};
  ucp_dt_iov_t fetch_parts_[2] = {};
  void* fetch_request_ = nullptr;
  Completion fetch_done_;
  bool fetching_ = false;
};

void UcxClient::abandon() {
  lost_ = true;
  if (pending_descriptor_) ucp_am_data_release(worker_->get(), pending_descriptor_);
  pending_descriptor_ = nullptr;
  ucp_request_param_t param{};
  param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  param.flags = UCP_EP_CLOSE_FLAG_FORCE;
  ucs_status_ptr_t r = ucp_ep_close_nbx(ep_, &param);
  ep_ = nullptr;
  if (!UCS_PTR_IS_PTR(r)) return;
  while (ucp_request_check_status(r) == UCS_INPROGRESS) progress_or_sleep();
  ucp_request_free(r);
}

UcxClient::~UcxClient() {
  if (!ep_) return;
  if (pending_descriptor_) ucp_am_data_release(worker_->get(), pending_descriptor_);
  ucp_request_param_t param{};
  param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  param.flags = lost_ ? UCP_EP_CLOSE_FLAG_FORCE : 0;
  ucs_status_ptr_t r = ucp_ep_close_nbx(ep_, &param);
  if (UCS_PTR_IS_PTR(r)) {
    const auto deadline = std::chrono::steady_clock::now() + kCloseGrace;
    while (ucp_request_check_status(r) == UCS_INPROGRESS && std::chrono::steady_clock::now() < deadline) {
      if (!worker_->progress()) worker_->idle(10);
    }
    ucp_request_free(r);
  }
}

Status UcxClient::open(const sockaddr_storage& address, socklen_t address_length, int timeout_ms, std::string& why) {
  Status st = worker_->set_am_handler(on_am, this, UCP_AM_FLAG_WHOLE_MSG, wire::kAmId);
  if (!ok(st)) return st;

  ucp_ep_params_t params{};
  params.field_mask = UCP_EP_PARAM_FIELD_FLAGS | UCP_EP_PARAM_FIELD_SOCK_ADDR |
                      UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE | UCP_EP_PARAM_FIELD_ERR_HANDLER;
  params.flags = UCP_EP_PARAMS_FLAGS_CLIENT_SERVER;
  params.sockaddr.addr = reinterpret_cast<const sockaddr*>(&address);
  params.sockaddr.addrlen = address_length;
  params.err_mode = UCP_ERR_HANDLING_MODE_PEER;
  params.err_handler.cb = on_ep_error;
  params.err_handler.arg = this;
  ucs_status_t s = ucp_ep_create(worker_->get(), &params, &ep_);
  if (s != UCS_OK) {
    ep_ = nullptr;
    why = in_words(s);
    return Status::Unreachable;
  }

  // UCX connects in the background; only an answer from the server proves
  // that somebody is there.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  expect_ = Expect::Handshake;
  reply_arrived_ = false;
  reply_done_ = false;
  ucp_request_param_t param{};
  param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  param.flags = UCP_AM_SEND_FLAG_REPLY;
  const WireHeader& h = wire::handshake_header();
  hold(LinkDirection::Up, sizeof(h));
  ucs_status_ptr_t request = ucp_am_send_nbx(ep_, wire::kAmId, &h, sizeof(h), nullptr, 0, &param);
  if (UCS_PTR_IS_ERR(request)) {
    st = Status::Unreachable;
  } else if (request) {
    ucp_request_free(request);  // fire and forget: the header is static
  }
  while (ok(st) && !reply_done_ && !lost_ && std::chrono::steady_clock::now() < deadline) {
    progress_or_sleep();
  }
  expect_ = Expect::Nothing;
  if (ok(st) && reply_done_ && ok(reply_status_)) hold(LinkDirection::Down, sizeof(WireHeader));
  if (!ok(st) || !reply_done_ || !ok(reply_status_)) {
    if (lost_) {
      why = in_words(lost_status_);
    } else if (reply_done_) {
      why = "it answered the handshake wrongly (is it an rrto-server?)";
    } else {
      why = fmt::format("no answer within {} ms", timeout_ms);
    }
    lost_ = true;
    return Status::Unreachable;
  }
  RRTO_INFO(kLogComponent, "connected to {} over {}", address_, transport_name());
  return Status::Ok;
}

void UcxClient::on_ep_error(void* arg, ucp_ep_h ep, ucs_status_t status) {
  auto* self = static_cast<UcxClient*>(arg);
  if (!self->lost_ && self->expect_ != Expect::Handshake) {
    RRTO_INFO(kLogComponent, "connection to {} lost: {}", self->address_, ucs_status_string(status));
  }
  if (!self->lost_) self->lost_status_ = status;
  self->lost_ = true;
}

ucs_status_t UcxClient::on_am(void* arg, const void* header, size_t header_length, void* data, size_t length,
                              const ucp_am_recv_param_t* param) {
  auto* self = static_cast<UcxClient*>(arg);
  wire::Incoming in;
  std::string why;
  if (!ok(wire::validate(header, header_length, length, in, why))) {
    RRTO_WARN(kLogComponent, "protocol error from {}: {}", self->address_, why);
    if (self->expect_ != Expect::Nothing && !self->reply_arrived_) self->finish_reply(Status::ProtocolError);
    return UCS_OK;
  }
  if (in.header.flags & wire::kFlagHeartbeat) {
    self->last_heard_ = std::chrono::steady_clock::now();
    return UCS_OK;
  }
  const bool handshake = in.header.flags & wire::kFlagHandshake;
  if (self->expect_ == Expect::Nothing || self->reply_arrived_ ||
      handshake != (self->expect_ == Expect::Handshake)) {
    RRTO_WARN(kLogComponent, "unexpected message (opcode {}) from {} dropped", unsigned{in.header.opcode},
              self->address_);
    return UCS_OK;
  }
  if (handshake) {
    self->finish_reply(Status::Ok);
    return UCS_OK;
  }
  return self->accept_reply(in, data, length, param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV);
}

ucs_status_t UcxClient::accept_reply(const wire::Incoming& in, void* data, size_t length, bool rendezvous) {
  Reply& r = *reply_;
  const WireHeader& h = in.header;
  r.opcode = h.opcode;
  if (h.bulk_length > 0 && (!r.bulk_dest || h.bulk_length > r.bulk_capacity)) {
    RRTO_WARN(kLogComponent, "reply (opcode {}) from {} carries {} bulk bytes, room for {}", unsigned{h.opcode},
              address_, uint64_t{h.bulk_length}, r.bulk_dest ? r.bulk_capacity : 0);
    finish_reply(Status::ProtocolError);
    return UCS_OK;  // drops the payload; the server's send still completes
  }
  if (!in.meta_in_data()) r.meta.assign(in.inline_meta.begin(), in.inline_meta.end());
  if (rendezvous) {
    pending_descriptor_ = data;
    pending_header_ = h;
    reply_arrived_ = true;
    return UCS_INPROGRESS;
  }
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (in.meta_in_data()) {
    r.meta.assign(bytes, bytes + h.meta_length);
    bytes += h.meta_length;
  }
  if (h.bulk_length > 0) std::memcpy(r.bulk_dest, bytes, h.bulk_length);
  r.bulk_received = h.bulk_length;
  finish_reply(Status::Ok);
  return UCS_OK;
}

void UcxClient::fetch_reply() {
  Reply& r = *reply_;
  const WireHeader& h = pending_header_;
  size_t n = 0;
  if (h.flags & wire::kFlagMetaInData) {
    r.meta.resize(h.meta_length);
    if (h.meta_length) fetch_parts_[n++] = {r.meta.data(), h.meta_length};
  }
  if (h.bulk_length) fetch_parts_[n++] = {r.bulk_dest, h.bulk_length};
  fetch_done_ = Completion{};
  fetching_ = true;
  void* descriptor = pending_descriptor_;
  pending_descriptor_ = nullptr;
  fetch_request_ = receive_data(worker_->get(), descriptor, {fetch_parts_, n}, fetch_done_);
}

Status UcxClient::call(uint16_t opcode, std::span<const uint8_t> meta, std::span<const Segment> bulk,
                       Reply& reply) {
  if (lost_) return Status::ConnectionLost;
  if (expect_ != Expect::Nothing) return Status::InvalidArgument;  // a call inside a call
  reply.meta.clear();
  reply.bulk_received = 0;
  reply_ = &reply;
  reply_arrived_ = false;
  reply_done_ = false;
  reply_status_ = Status::Ok;
  fetching_ = false;

  uint64_t bulk_bytes = 0;
  for (const Segment& s : bulk) bulk_bytes += s.length;
  hold(LinkDirection::Up, sizeof(WireHeader) + meta.size() + bulk_bytes);

  Completion sent;
  void* send_request = nullptr;
  Status st = outgoing_.start(ep_, worker_->max_am_header(), opcode, 0, meta, bulk, UCP_AM_SEND_FLAG_REPLY,
                              sent, send_request);
  if (!ok(st)) return st;
  expect_ = Expect::Reply;
  const size_t request_bytes = meta.size() + bulk_bytes;
  const bool spin = spin_predictor_.worth_spinning(request_bytes);
  // The clock is read only for a wait that is not spun: a reply caught while
  // spinning costs none (it came within the spin), and silence is counted
  // from the first sleep.
  std::chrono::steady_clock::time_point sent_at;
  if (!spin) sent_at = last_heard_ = transferring_at_ = std::chrono::steady_clock::now();
  bool slept = false;
  bool timed_out = false;

  // Wait for the reply, for our send to let go of the caller's buffers, and
  // for a rendezvous reply to land; a lost connection completes all of them
  // (UCX fails outstanding requests of a broken endpoint).
  for (;;) {
    if (pending_descriptor_) fetch_reply();
    if (fetching_ && fetch_done_.done && !reply_done_) {
      finish_reply(fetch_done_.status == UCS_OK ? Status::Ok : Status::ConnectionLost);
    }
    if ((reply_done_ || lost_) && sent.done && (!fetching_ || fetch_done_.done)) break;
    if (slept && !reply_done_ && !lost_ && silent_too_long(!sent.done || (fetching_ && !fetch_done_.done))) {
      timed_out = true;
      abandon();
    }
    if (progress_or_sleep(spin) && !slept) {
      slept = true;
      if (spin) last_heard_ = transferring_at_ = std::chrono::steady_clock::now();
    }
  }
  spin_predictor_.record(request_bytes,
                         spin ? !slept : std::chrono::steady_clock::now() - sent_at <= UcxWorker::kSpinTime);
  expect_ = Expect::Nothing;
  reply_ = nullptr;
  if (send_request) ucp_request_free(send_request);
  if (fetch_request_) {
    ucp_request_free(fetch_request_);
    fetch_request_ = nullptr;
  }

  if (timed_out) {
    RRTO_INFO(kLogComponent, "no word from {} for too long: giving up on it", address_);
    return Status::Timeout;
  }
  if (sent.status != UCS_OK || (fetching_ && fetch_done_.status != UCS_OK) || !reply_done_) {
    lost_ = true;
    return Status::ConnectionLost;
  }
  if (fetching_ && ok(reply_status_)) reply.bulk_received = pending_header_.bulk_length;
  if (ok(reply_status_)) hold(LinkDirection::Down, sizeof(WireHeader) + reply.meta.size() + reply.bulk_received);
  return reply_status_;
}

}  // namespace

Status ClientConnection::connect(const ConnectOptions& options, std::unique_ptr<ClientConnection>& out,
                                 std::string& why) {
  sockaddr_storage address{};
  socklen_t address_length = 0;
  Status st = resolve(options.host, options.port, false, address, address_length);
  if (!ok(st)) {
    why = fmt::format("cannot resolve '{}'", options.host);
    return Status::Unreachable;
  }
  std::unique_ptr<UcxWorker> worker;
  st = UcxWorker::create("rrto-client", UcxWorker::SharedMemory::On, worker);
  if (!ok(st)) {
    why = "UCX could not start (see the lines above)";
    return st;
  }
  auto client =
      std::make_unique<UcxClient>(std::move(worker), options.host + ":" + std::to_string(options.port), options);
  st = client->open(address, address_length, options.connect_timeout_ms, why);
  if (!ok(st)) return st;
  out = std::move(client);
  return Status::Ok;
}

Status ClientConnection::connect(const ConnectOptions& options, std::unique_ptr<ClientConnection>& out) {
  std::string why;
  const Status st = connect(options, out, why);
  if (!ok(st)) RRTO_ERROR(kLogComponent, "cannot reach {}:{}: {}", options.host, options.port, why);
  return st;
}

}  // namespace rrto::transport
