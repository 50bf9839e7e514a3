#include "perf/perftest/raw_client.h"

#include <chrono>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "perf/perftest/raw_protocol.h"
#include "transport/ucx_worker.h"

namespace rrto::perf {
namespace {

using transport::Completion;
using transport::LinkDirection;
using transport::UcxWorker;
using clock_type = std::chrono::steady_clock;

constexpr const char* kLog = "perftest";
constexpr int kPollMs = 100;
constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr auto kCloseGrace = std::chrono::seconds(1);

uint64_t ns_between(clock_type::time_point a, clock_type::time_point b) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count());
}

class UcxRawClient final : public RawClient {
 public:
  UcxRawClient(std::unique_ptr<UcxWorker> worker, transport::LinkProfile link, std::string address)
      : worker_(std::move(worker)), link_(std::move(link)), address_(std::move(address)) {}
  ~UcxRawClient() override;

  Status open(const sockaddr_storage& address, socklen_t length);

  const std::string& info() const override { return info_; }
  std::string transport_name() const override { return ep_ ? transport::ep_transports(ep_) : std::string(); }
  Status echo(size_t size) override;
  Status stream(size_t size, uint64_t count, unsigned window, const std::function<void(uint64_t)>& on_sent) override;

 private:
  struct Slot {
    raw::Header header;  // UCX reads it until the send completes
    Completion done;
    void* request = nullptr;
  };

  static void on_ep_error(void* arg, ucp_ep_h, ucs_status_t status) {
    auto* self = static_cast<UcxRawClient*>(arg);
    if (!self->lost_) RRTO_INFO(kLog, "connection to {} lost: {}", self->address_, ucs_status_string(status));
    self->lost_ = true;
  }
  static ucs_status_t on_am(void* arg, const void* header, size_t header_length, void* data, size_t length,
                            const ucp_am_recv_param_t* param);

  void progress_or_sleep() {
    if (!worker_->progress()) worker_->idle(kPollMs);
  }
  void hold(std::chrono::nanoseconds d) {
    if (d.count() > 0) transport::wait_until(clock_type::now() + d, [this] { worker_->progress(); });
  }
  void post(Slot& slot, raw::Op op, size_t size);
  // Waits for the answer to the message in flight and lands its data.
  Status wait_reply(const Completion* sent, clock_type::time_point deadline = clock_type::time_point::max());

  std::unique_ptr<UcxWorker> worker_;
  transport::LinkProfile link_;
  std::string address_;
  ucp_ep_h ep_ = nullptr;
  bool lost_ = false;
  std::string info_;

  bool reply_arrived_ = false;
  raw::Header reply_header_;
  void* reply_descriptor_ = nullptr;  // a rendezvous answer still to fetch
  size_t reply_length_ = 0;
  std::vector<uint8_t> landing_;
  std::vector<uint8_t> payload_;
};

UcxRawClient::~UcxRawClient() {
  if (!ep_) return;
  if (reply_descriptor_) ucp_am_data_release(worker_->get(), reply_descriptor_);
  ucp_request_param_t param{};
  param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  param.flags = lost_ ? UCP_EP_CLOSE_FLAG_FORCE : 0;
  ucs_status_ptr_t r = ucp_ep_close_nbx(ep_, &param);
  if (UCS_PTR_IS_PTR(r)) {
    const auto deadline = clock_type::now() + kCloseGrace;
    while (ucp_request_check_status(r) == UCS_INPROGRESS && clock_type::now() < deadline) progress_or_sleep();
    ucp_request_free(r);
  }
}

ucs_status_t UcxRawClient::on_am(void* arg, const void* header, size_t header_length, void* data, size_t length,
                                 const ucp_am_recv_param_t* param) {
  auto* self = static_cast<UcxRawClient*>(arg);
  if (header_length != sizeof(raw::Header) || self->reply_arrived_) {
    RRTO_WARN(kLog, "unexpected raw message from {} dropped", self->address_);
    return UCS_OK;
  }
  std::memcpy(&self->reply_header_, header, sizeof(raw::Header));
  self->reply_length_ = length;
  self->reply_arrived_ = true;
  if (length > 0 && (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV)) {
    self->reply_descriptor_ = data;
    return UCS_INPROGRESS;
  }
  if (self->landing_.size() < length) self->landing_.resize(length);
  if (length > 0) std::memcpy(self->landing_.data(), data, length);
  return UCS_OK;
}

Status UcxRawClient::open(const sockaddr_storage& address, socklen_t length) {
  ucp_am_handler_param_t p{};
  p.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_FLAGS | UCP_AM_HANDLER_PARAM_FIELD_CB |
                 UCP_AM_HANDLER_PARAM_FIELD_ARG;
  p.id = raw::kAmId;
  p.flags = UCP_AM_FLAG_WHOLE_MSG;
  p.cb = on_am;
  p.arg = this;
  if (ucp_worker_set_am_recv_handler(worker_->get(), &p) != UCS_OK) return Status::InternalError;

  ucp_ep_params_t params{};
  params.field_mask = UCP_EP_PARAM_FIELD_FLAGS | UCP_EP_PARAM_FIELD_SOCK_ADDR | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                      UCP_EP_PARAM_FIELD_ERR_HANDLER;
  params.flags = UCP_EP_PARAMS_FLAGS_CLIENT_SERVER;
  params.sockaddr.addr = reinterpret_cast<const sockaddr*>(&address);
  params.sockaddr.addrlen = length;
  params.err_mode = UCP_ERR_HANDLING_MODE_PEER;
  params.err_handler.cb = on_ep_error;
  params.err_handler.arg = this;
  if (ucp_ep_create(worker_->get(), &params, &ep_) != UCS_OK) {
    ep_ = nullptr;
    RRTO_ERROR(kLog, "cannot reach rrto-perftest at {}", address_);
    return Status::Unreachable;
  }
  Slot slot;
  hold(link_.delay(LinkDirection::Up, sizeof(raw::Header)));
  post(slot, raw::Op::Info, 0);
  const Status answered = wait_reply(&slot.done, clock_type::now() + kConnectTimeout);
  if (slot.request && slot.done.done) ucp_request_free(slot.request);
  if (!ok(answered)) {
    RRTO_ERROR(kLog, "cannot reach rrto-perftest at {}: {}", address_, lost_ ? "connection refused or lost" : "no answer");
    lost_ = true;
    return Status::Unreachable;
  }
  hold(link_.delay(LinkDirection::Down, sizeof(raw::Header) + reply_length_));
  info_.assign(reinterpret_cast<const char*>(landing_.data()), reply_length_);
  return Status::Ok;
}

void UcxRawClient::post(Slot& slot, raw::Op op, size_t size) {
  if (payload_.size() < size) payload_.resize(size, 0x5a);
  slot.header = raw::Header{.op = static_cast<uint32_t>(op), .reserved = 0, .value = size};
  slot.done = Completion{};
  ucp_request_param_t param = transport::send_param(slot.done);
  param.op_attr_mask |= UCP_OP_ATTR_FIELD_FLAGS;
  param.flags = UCP_AM_SEND_FLAG_REPLY;
  slot.request = transport::track(
      ucp_am_send_nbx(ep_, raw::kAmId, &slot.header, sizeof(slot.header), payload_.data(), size, &param), slot.done);
}

Status UcxRawClient::wait_reply(const Completion* sent, clock_type::time_point deadline) {
  while (!lost_ && (!reply_arrived_ || (sent && !sent->done))) {
    if (clock_type::now() > deadline) return Status::Timeout;
    progress_or_sleep();
  }
  if (lost_ || (sent && sent->status != UCS_OK)) return Status::ConnectionLost;
  if (reply_descriptor_) {
    if (landing_.size() < reply_length_) landing_.resize(reply_length_);
    Completion fetched;
    ucp_request_param_t param = transport::recv_param(fetched);
    void* descriptor = reply_descriptor_;
    reply_descriptor_ = nullptr;
    void* request = transport::track(
        ucp_am_recv_data_nbx(worker_->get(), descriptor, landing_.data(), reply_length_, &param), fetched);
    while (!fetched.done) progress_or_sleep();
    if (request) ucp_request_free(request);
    if (fetched.status != UCS_OK) return Status::ConnectionLost;
  }
  reply_arrived_ = false;
  return Status::Ok;
}

Status UcxRawClient::echo(size_t size) {
  if (lost_) return Status::ConnectionLost;
  Slot slot;
  hold(link_.delay(LinkDirection::Up, sizeof(raw::Header) + size));
  post(slot, raw::Op::Echo, size);
  const Status s = wait_reply(&slot.done);
  if (slot.request) ucp_request_free(slot.request);
  if (!ok(s)) return s;
  hold(link_.delay(LinkDirection::Down, sizeof(raw::Header) + reply_length_));
  return Status::Ok;
}

Status UcxRawClient::stream(size_t size, uint64_t count, unsigned window,
                            const std::function<void(uint64_t)>& on_sent) {
  if (lost_) return Status::ConnectionLost;
  if (count == 0) return Status::Ok;
  // A stream pays the link's one-way delay once, at its end; each message
  // pays its time on the wire.
  const auto on_wire = link_.delay(LinkDirection::Up, sizeof(raw::Header) + size) - link_.one_way;
  std::vector<Slot> slots(window);
  uint64_t posted = 0, completed = 0;
  auto last = clock_type::now();
  auto complete_oldest = [&] {
    Slot& oldest = slots[completed % window];
    while (!oldest.done.done) progress_or_sleep();
    const auto now = clock_type::now();
    if (oldest.request) ucp_request_free(oldest.request);
    oldest.request = nullptr;
    ++completed;
    if (oldest.done.status != UCS_OK) return false;
    on_sent(ns_between(last, now));
    last = now;
    return true;
  };
  while (posted < count) {
    if (posted - completed == window && !complete_oldest()) return Status::ConnectionLost;
    hold(on_wire);
    const bool last_one = posted + 1 == count;
    post(slots[posted % window], last_one ? raw::Op::SinkAck : raw::Op::Sink, size);
    ++posted;
  }
  while (completed < posted)
    if (!complete_oldest()) return Status::ConnectionLost;
  hold(link_.one_way);
  if (Status s = wait_reply(nullptr); !ok(s)) return s;
  hold(link_.delay(LinkDirection::Down, sizeof(raw::Header)));
  return Status::Ok;
}

}  // namespace

Status RawClient::connect(const std::string& host, uint16_t port, const transport::LinkProfile& link,
                          std::unique_ptr<RawClient>& out) {
  sockaddr_storage address{};
  socklen_t length = 0;
  if (!ok(transport::resolve(host, port, false, address, length))) return Status::Unreachable;
  std::unique_ptr<UcxWorker> worker;
  if (Status s = UcxWorker::create("rrto-perftest", UcxWorker::SharedMemory::On, worker); !ok(s)) return s;
  auto client = std::make_unique<UcxRawClient>(std::move(worker), link, host + ":" + std::to_string(port));
  if (Status s = client->open(address, length); !ok(s)) return s;
  out = std::move(client);
  return Status::Ok;
}

}  // namespace rrto::perf
