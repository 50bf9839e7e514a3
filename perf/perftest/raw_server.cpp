#include "perf/perftest/raw_server.h"

#include <cstring>
#include <deque>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "common/log.h"
#include "perf/perftest/raw_protocol.h"
#include "transport/ucx_worker.h"

namespace rrto::perf {
namespace {

using transport::Completion;
using transport::UcxWorker;

constexpr const char* kLog = "perftest";
// Longest sleep of an idle loop between looks at `stop` and UCX's timers.
constexpr int kPollMs = 250;

class UcxRawServer final : public RawServer {
 public:
  UcxRawServer(std::unique_ptr<UcxWorker> worker, std::string info) : worker_(std::move(worker)), info_(std::move(info)) {}
  ~UcxRawServer() override;

  Status start(const std::string& address, uint16_t port);
  uint16_t port() const override { return port_; }
  void run(const std::atomic<bool>& stop, int wake_fd) override;

 private:
  struct Event {
    ucp_ep_h ep = nullptr;
    raw::Header header;
    void* descriptor = nullptr;  // UCX data kept for us (eager) or still at the sender (rendezvous)
    bool rendezvous = false;
    size_t length = 0;
    std::vector<uint8_t> data;  // eager data UCX could not keep
  };

  static void on_conn_request(ucp_conn_request_h request, void* arg);
  static void on_ep_error(void* arg, ucp_ep_h ep, ucs_status_t status);
  static ucs_status_t on_am(void* arg, const void* header, size_t header_length, void* data, size_t length,
                            const ucp_am_recv_param_t* param);

  void accept(ucp_conn_request_h request);
  void close(ucp_ep_h ep, bool force);
  void handle(Event& event);
  bool land(Event& event);
  void send(ucp_ep_h ep, raw::Op op, const void* data, size_t size);
  void wait(const Completion& done) {
    while (!done.done)
      if (!worker_->progress()) worker_->idle(kPollMs);
  }

  std::unique_ptr<UcxWorker> worker_;
  std::string info_;
  ucp_listener_h listener_ = nullptr;
  uint16_t port_ = 0;
  std::vector<ucp_conn_request_h> requests_;
  std::unordered_set<ucp_ep_h> eps_;
  std::vector<ucp_ep_h> failed_;
  std::vector<void*> closing_;
  std::deque<Event> events_;
  std::vector<uint8_t> landing_;
  raw::Header reply_header_;  // read by UCX until a send completes
};

UcxRawServer::~UcxRawServer() {
  for (Event& e : events_)
    if (e.descriptor) ucp_am_data_release(worker_->get(), e.descriptor);
  if (listener_) {
    for (ucp_conn_request_h r : requests_) ucp_listener_reject(listener_, r);
    ucp_listener_destroy(listener_);
  }
  std::vector<ucp_ep_h> eps(eps_.begin(), eps_.end());
  for (ucp_ep_h ep : eps) close(ep, true);
  for (void* r : closing_) {
    for (int i = 0; i < 1000 && ucp_request_check_status(r) == UCS_INPROGRESS; ++i) worker_->progress();
    ucp_request_free(r);
  }
}

Status UcxRawServer::start(const std::string& address, uint16_t port) {
  sockaddr_storage bound{};
  if (Status s = worker_->listen(address, port, on_conn_request, this, listener_, bound); !ok(s)) return s;
  port_ = transport::address_port(bound);
  return worker_->set_am_handler(on_am, this, UCP_AM_FLAG_WHOLE_MSG | UCP_AM_FLAG_PERSISTENT_DATA, raw::kAmId);
}

void UcxRawServer::on_conn_request(ucp_conn_request_h request, void* arg) {
  static_cast<UcxRawServer*>(arg)->requests_.push_back(request);
}

void UcxRawServer::on_ep_error(void* arg, ucp_ep_h ep, ucs_status_t) {
  static_cast<UcxRawServer*>(arg)->failed_.push_back(ep);
}

ucs_status_t UcxRawServer::on_am(void* arg, const void* header, size_t header_length, void* data, size_t length,
                                 const ucp_am_recv_param_t* param) {
  auto* self = static_cast<UcxRawServer*>(arg);
  if (header_length != sizeof(raw::Header) || !(param->recv_attr & UCP_AM_RECV_ATTR_FIELD_REPLY_EP)) {
    RRTO_WARN(kLog, "dropped a malformed raw message");
    return UCS_OK;
  }
  Event e;
  e.ep = param->reply_ep;
  std::memcpy(&e.header, header, sizeof(e.header));
  e.length = length;
  ucs_status_t keep = UCS_OK;
  if (length > 0) {
    e.rendezvous = param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV;
    if (e.rendezvous || (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_DATA)) {
      e.descriptor = data;
      keep = UCS_INPROGRESS;
    } else {
      e.data.assign(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + length);
    }
  }
  self->events_.push_back(std::move(e));
  return keep;
}

void UcxRawServer::accept(ucp_conn_request_h request) {
  std::string from = "?";
  ucp_conn_request_attr_t attr{};
  attr.field_mask = UCP_CONN_REQUEST_ATTR_FIELD_CLIENT_ADDR;
  if (ucp_conn_request_query(request, &attr) == UCS_OK) from = transport::format_address(attr.client_address);
  ucp_ep_params_t params{};
  params.field_mask = UCP_EP_PARAM_FIELD_CONN_REQUEST | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                      UCP_EP_PARAM_FIELD_ERR_HANDLER;
  params.conn_request = request;
  params.err_mode = UCP_ERR_HANDLING_MODE_PEER;
  params.err_handler.cb = on_ep_error;
  params.err_handler.arg = this;
  ucp_ep_h ep = nullptr;
  if (ucp_ep_create(worker_->get(), &params, &ep) != UCS_OK) {
    RRTO_WARN(kLog, "cannot accept a connection from {}", from);
    return;
  }
  eps_.insert(ep);
  // ucx_perftest's words.
  fmt::print("Accepted connection from {}\n", from);
  std::fflush(stdout);
}

void UcxRawServer::close(ucp_ep_h ep, bool force) {
  if (!eps_.erase(ep)) return;
  std::erase_if(events_, [&](Event& e) {
    if (e.ep != ep) return false;
    if (e.descriptor) ucp_am_data_release(worker_->get(), e.descriptor);
    return true;
  });
  ucp_request_param_t param{};
  param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  param.flags = force ? UCP_EP_CLOSE_FLAG_FORCE : 0;
  ucs_status_ptr_t r = ucp_ep_close_nbx(ep, &param);
  if (UCS_PTR_IS_PTR(r)) closing_.push_back(r);
}

bool UcxRawServer::land(Event& e) {
  if (e.length == 0) return true;
  if (landing_.size() < e.length) landing_.resize(e.length);
  if (e.rendezvous) {
    Completion done;
    void* descriptor = e.descriptor;
    e.descriptor = nullptr;
    ucp_request_param_t param = transport::recv_param(done);
    void* request =
        transport::track(ucp_am_recv_data_nbx(worker_->get(), descriptor, landing_.data(), e.length, &param), done);
    wait(done);
    if (request) ucp_request_free(request);
    return done.status == UCS_OK;
  }
  // Eager bytes are copied, as rrto-server copies them into device memory
  // (UCX 1.13 leaks eager descriptors handed to ucp_am_recv_data_nbx here).
  std::memcpy(landing_.data(), e.descriptor ? e.descriptor : e.data.data(), e.length);
  if (e.descriptor) ucp_am_data_release(worker_->get(), e.descriptor);
  e.descriptor = nullptr;
  return true;
}

void UcxRawServer::send(ucp_ep_h ep, raw::Op op, const void* data, size_t size) {
  reply_header_ = raw::Header{.op = static_cast<uint32_t>(op), .reserved = 0, .value = size};
  Completion done;
  ucp_request_param_t param = transport::send_param(done);
  void* request = transport::track(
      ucp_am_send_nbx(ep, raw::kAmId, &reply_header_, sizeof(reply_header_), data, size, &param), done);
  wait(done);
  if (request) ucp_request_free(request);
}

void UcxRawServer::handle(Event& e) {
  if (!eps_.count(e.ep)) {
    if (e.descriptor) ucp_am_data_release(worker_->get(), e.descriptor);
    return;
  }
  if (!land(e)) return;
  switch (static_cast<raw::Op>(e.header.op)) {
    case raw::Op::Info:
      send(e.ep, raw::Op::Info, info_.data(), info_.size());
      break;
    case raw::Op::Echo:
      if (landing_.size() < e.header.value) landing_.resize(e.header.value);
      send(e.ep, raw::Op::Echo, landing_.data(), e.header.value);
      break;
    case raw::Op::Sink:
      break;
    case raw::Op::SinkAck:
      send(e.ep, raw::Op::SinkAck, nullptr, 0);
      break;
    default:
      RRTO_WARN(kLog, "dropped a raw message with unknown op {}", e.header.op);
  }
}

void UcxRawServer::run(const std::atomic<bool>& stop, int wake_fd) {
  while (!stop.load(std::memory_order_relaxed)) {
    if (!worker_->progress() && events_.empty() && requests_.empty() && failed_.empty())
      worker_->idle(kPollMs, wake_fd);
    std::vector<ucp_conn_request_h> requests;
    requests.swap(requests_);
    for (ucp_conn_request_h r : requests) accept(r);
    std::vector<ucp_ep_h> failed;
    failed.swap(failed_);
    for (ucp_ep_h ep : failed) close(ep, true);
    while (!events_.empty() && !stop.load(std::memory_order_relaxed)) {
      Event e = std::move(events_.front());
      events_.pop_front();
      handle(e);
    }
    std::erase_if(closing_, [](void* r) {
      if (ucp_request_check_status(r) == UCS_INPROGRESS) return false;
      ucp_request_free(r);
      return true;
    });
  }
}

}  // namespace

Status RawServer::listen(const std::string& address, uint16_t port, bool shared_memory, std::string info,
                         std::unique_ptr<RawServer>& out) {
  std::unique_ptr<UcxWorker> worker;
  const auto shm = shared_memory ? UcxWorker::SharedMemory::On : UcxWorker::SharedMemory::Off;
  if (Status s = UcxWorker::create("rrto-perftest", shm, worker); !ok(s)) return s;
  auto server = std::make_unique<UcxRawServer>(std::move(worker), std::move(info));
  if (Status s = server->start(address, port); !ok(s)) return s;
  out = std::move(server);
  return Status::Ok;
}

}  // namespace rrto::perf
