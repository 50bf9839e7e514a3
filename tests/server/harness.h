// Drives a SessionManager in process, with host devices and a fake reply
// sink in place of the network: each send() does what the transport would
// (ask bulk_destination where the payload lands, deliver the message, and
// report on_disconnect after close_peer).
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "protocol/batch.h"
#include "protocol/handshake.h"
#include "server/host/host_device.h"
#include "server/hostkernel/loader.h"
#include "server/reply_sink.h"
#include "server/session_manager.h"

namespace rrto::server::test {

inline constexpr const char* kScaleKernel = "_Z17server_test_scalePffi";
inline constexpr const char* kMixedKernel = "_Z17server_test_mixedcPdi";
inline constexpr const char* kUnregisteredKernel = "_Z24server_test_unregisteredPi";
inline constexpr const char* kReadTableKernel = "_Z22server_test_read_tablePi";
inline constexpr const char* kBumpKernel = "_Z16server_test_bumpv";
inline constexpr const char* kStoreKernel = "_Z17server_test_storeyi";
inline constexpr const char* kSpinKernel = "_Z16server_test_spini";

class FakeSink final : public ReplySink {
 public:
  struct Sent {
    transport::PeerId peer = 0;
    uint16_t opcode = 0;
    std::vector<uint8_t> meta, bulk;
  };
  Status reply(transport::PeerId peer, uint16_t opcode, std::span<const uint8_t> meta,
               std::span<const transport::Segment> bulk) override {
    Sent sent{peer, opcode, {meta.begin(), meta.end()}, {}};
    for (const transport::Segment& s : bulk) {
      const auto* p = static_cast<const uint8_t*>(s.data);
      sent.bulk.insert(sent.bulk.end(), p, p + s.length);
    }
    replies.push_back(std::move(sent));
    return Status::Ok;
  }
  void close_peer(transport::PeerId peer) override { closed.push_back(peer); }
  // Executors post from their threads; the test's thread runs what they posted.
  void post(std::function<void()> task) override {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(task));
  }
  bool run_posted() {
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard lock(mutex_);
      tasks.swap(posted_);
    }
    for (auto& task : tasks) task();
    return !tasks.empty();
  }

  std::vector<Sent> replies;
  std::vector<transport::PeerId> closed;

 private:
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;
};

// A batch being built: calls and the bulk bytes they refer to.
struct Request {
  proto::BatchWriter calls;
  std::vector<uint8_t> bulk;
  uint16_t opcode = proto::kBatchRequest;

  template <typename Call>
  Request& add(Call call) {
    calls.add(call);
    return *this;
  }
  // Appends bytes to the bulk; returns their offset.
  uint64_t add_bulk(const void* data, size_t size) {
    const uint64_t at = bulk.size();
    bulk.insert(bulk.end(), static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + size);
    return at;
  }
};

struct Outcome {
  bool replied = false;
  uint32_t status = 0;
  uint32_t call_index = 0;
  std::vector<uint8_t> body;  // the last call's result, or an ErrorResult
  std::vector<uint8_t> bulk;
  bool closed = false;             // the server closed the connection
  std::string client_refusal;      // why a client refused the server's handshake
  const uint8_t* landed = nullptr;  // where bulk_destination put the payload, if it chose a place

  // The payload was received straight into device memory at `dptr` (host
  // devices' memory is at its device addresses).
  bool landed_at(uint64_t dptr) const { return landed == reinterpret_cast<const uint8_t*>(dptr); }

  template <typename Result>
  Result result() const {
    Result r;
    CHECK_MESSAGE(proto::decode_fields(body, r), "result body does not decode");
    return r;
  }
  std::string error() const {
    proto::ErrorResult e;
    if (!proto::decode_fields(body, e)) return {};
    return std::string(e.message);
  }
};

// Two sessions share the server for the whole test, whatever the pace.
inline SessionPolicy test_policy() {
  SessionPolicy policy;
  policy.share_window = std::chrono::hours(1);
  return policy;
}

struct HarnessOptions {
  std::vector<uint64_t> device_memory_mb = {64};
  SessionPolicy policy = test_policy();
  bool load_test_kernels = true;
  std::chrono::milliseconds kernel_time_limit = std::chrono::seconds(60);
};

class Harness {
 public:
  explicit Harness(HarnessOptions options = {}) {
    auto registry = std::make_shared<HostKernelRegistry>();
#ifdef RRTO_SERVER_TEST_KERNELS
    if (options.load_test_kernels) {
      std::string error;
      REQUIRE_MESSAGE(ok(registry->add(RRTO_SERVER_TEST_KERNELS, error)), error);
    }
#endif
    kernels_ = registry;
    std::vector<Device*> raw;
    for (size_t i = 0; i < options.device_memory_mb.size(); ++i) {
      host::HostDeviceOptions device{.index = i,
                                     .name = "test device " + std::to_string(i),
                                     .memory_bytes = options.device_memory_mb[i] << 20,
                                     .kernel_time_limit = options.kernel_time_limit};
      devices_.push_back(std::make_unique<host::HostDevice>(device, kernels_));
      raw.push_back(devices_.back().get());
    }
    start(raw, options.policy);
  }
  // Over devices the caller owns (e.g. a GPU); they must outlive the harness.
  Harness(std::vector<Device*> devices, SessionPolicy policy) { start(devices, policy); }

  SessionManager& manager() { return *manager_; }
  host::HostDevice& device(size_t i = 0) { return *devices_.at(i); }
  FakeSink& sink() { return sink_; }

  transport::PeerId connect() {
    const transport::PeerId peer = next_peer_++;
    manager_->on_connect(peer, "10.0.0." + std::to_string(peer) + ":5000");
    return peer;
  }
  // What the transport does about once a second; the peers it closed.
  std::vector<transport::PeerId> tick() {
    const size_t closed_before = sink_.closed.size();
    manager_->on_tick();
    std::vector<transport::PeerId> closed(sink_.closed.begin() + closed_before, sink_.closed.end());
    for (transport::PeerId peer : closed) manager_->on_disconnect(peer);
    return closed;
  }

  void disconnect(transport::PeerId peer) {
    manager_->on_disconnect(peer);
    settle();
  }

  // Waits until every batch on an executor has had its reply sent (what the
  // transport thread would do meanwhile: run what the executors post).
  void settle() {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (sink_.run_posted() || manager_->batches_in_flight() > 0) {
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < give_up, "a batch never finished");
      std::this_thread::yield();
    }
  }

  Outcome send(transport::PeerId peer, Request& request) {
    return send_raw(peer, request.opcode, request.calls.bytes(), request.bulk);
  }

  Outcome send_raw(transport::PeerId peer, uint16_t opcode, std::span<const uint8_t> meta,
                   std::span<const uint8_t> bulk) {
    Outcome out;
    std::vector<uint8_t> landing;
    std::span<uint8_t> landed;
    const size_t replies_before = sink_.replies.size();
    const size_t closed_before = sink_.closed.size();
    if (!manager_->accept_message(peer, opcode, meta.size(), bulk.size())) {
      settle();
      return outcome(peer, replies_before, closed_before);
    }
    if (void* place = manager_->bulk_destination(peer, opcode, meta, bulk.size())) {
      std::memcpy(place, bulk.data(), bulk.size());
      landed = {static_cast<uint8_t*>(place), bulk.size()};
      out.landed = static_cast<const uint8_t*>(place);
    } else {
      landing.assign(bulk.begin(), bulk.end());
      landed = landing;
    }
    manager_->on_message(peer, transport::Message{.opcode = opcode, .meta = meta, .bulk = landed});
    settle();
    Outcome done = outcome(peer, replies_before, closed_before);
    done.landed = out.landed;
    return done;
  }

  // What came back since the counts were taken.
  Outcome outcome(transport::PeerId peer, size_t replies_before, size_t closed_before) {
    Outcome out;
    if (sink_.replies.size() > replies_before) {
      const FakeSink::Sent& sent = sink_.replies.back();
      CHECK(sent.peer == peer);
      CHECK(sent.opcode == proto::kBatchReply);
      proto::ReplyHeader header;
      std::span<const uint8_t> body;
      REQUIRE(proto::decode_reply(sent.meta, header, body));
      out.replied = true;
      out.status = header.status;
      out.call_index = header.call_index;
      out.body.assign(body.begin(), body.end());
      out.bulk = sent.bulk;
    }
    if (sink_.closed.size() > closed_before) {
      out.closed = true;
      manager_->on_disconnect(peer);  // what the transport does after close_peer
    }
    return out;
  }

  template <typename Call>
  Outcome send_call(transport::PeerId peer, const Call& call) {
    Request r;
    r.add(call);
    return send(peer, r);
  }

  // The handshake of a client that has `key` (protocol/handshake.h): the
  // outcome of Authenticate, or of Hello when the server refused it there or
  // the client refused the server's proof (then client_refusal says why).
  Outcome hello(transport::PeerId peer, std::string_view key = {}, uint32_t version = proto::kProtocolVersion,
                uint32_t flags = 0, uint64_t window = 0) {
    proto::ClientHandshake client{std::string(key)};
    proto::Hello hello;
    REQUIRE(ok(client.hello("harness", hello)));
    hello.protocol_version = version;
    hello.flags = flags;
    hello.window = window;
    Outcome challenged = send_call(peer, hello);
    if (challenged.status != CUDA_SUCCESS || challenged.closed) return challenged;
    proto::Authenticate authenticate;
    if (!ok(client.answer(challenged.result<proto::HelloChallenge>(), authenticate, challenged.client_refusal)))
      return challenged;
    return send_call(peer, authenticate);
  }

  // A connected peer whose handshake was accepted.
  transport::PeerId open_session() {
    const transport::PeerId peer = connect();
    const Outcome o = hello(peer);
    REQUIRE(o.status == CUDA_SUCCESS);
    return peer;
  }

  uint64_t alloc(transport::PeerId peer, uint64_t size) {
    Request r;
    r.add(proto::MemAlloc{.size = size});
    const Outcome o = send(peer, r);
    REQUIRE(o.status == CUDA_SUCCESS);
    return o.result<proto::MemAllocResult>().dptr;
  }

  Outcome write(transport::PeerId peer, uint64_t dst, const void* data, size_t size) {
    Request r;
    const uint64_t at = r.add_bulk(data, size);
    r.add(proto::MemcpyHtoD{.dst = dst, .size = size, .bulk_offset = at});
    return send(peer, r);
  }

  Outcome read(transport::PeerId peer, uint64_t src, size_t size) {
    Request r;
    r.add(proto::MemcpyDtoH{.src = src, .size = size});
    return send(peer, r);
  }

  // Loads a module (its image is never parsed) and looks `kernel` up as
  // function `function`, with the parameter layout given.
  void load_kernel(transport::PeerId peer, uint64_t module, uint64_t function, const char* kernel,
                   const std::vector<uint8_t>& layout) {
    Request r;
    const uint8_t image[] = {0x7f, 'E', 'L', 'F'};
    r.add(proto::ModuleLoad{.module = module, .bulk_offset = r.add_bulk(image, 4), .size = 4});
    r.add(proto::ModuleGetFunction{.module = module, .function = function, .name = kernel, .param_layout = layout});
    REQUIRE(send(peer, r).status == CUDA_SUCCESS);
  }

  // One launch, in a batch of its own.
  Outcome launch(transport::PeerId peer, uint64_t function, std::span<const uint8_t> params, uint32_t threads = 1) {
    Request r;
    r.add(proto::Launch{.function = function, .block = {threads, 1, 1}, .params = proto::Bytes(params)});
    return send(peer, r);
  }

  proto::MemGetInfoResult mem_info(transport::PeerId peer) {
    Request r;
    r.add(proto::MemGetInfo{});
    const Outcome o = send(peer, r);
    REQUIRE(o.status == CUDA_SUCCESS);
    return o.result<proto::MemGetInfoResult>();
  }

 private:
  void start(const std::vector<Device*>& devices, const SessionPolicy& policy) {
    manager_ = std::make_unique<SessionManager>(devices, policy);
    manager_->set_sink(sink_);
  }

  std::shared_ptr<HostKernelRegistry> kernels_;
  std::vector<std::unique_ptr<host::HostDevice>> devices_;
  FakeSink sink_;
  std::unique_ptr<SessionManager> manager_;
  transport::PeerId next_peer_ = 1;
};

// (offset, size) u32 pairs, as the client sends a kernel's parameter layout.
inline std::vector<uint8_t> layout_bytes(std::initializer_list<std::pair<uint32_t, uint32_t>> slots) {
  std::vector<uint8_t> out;
  for (auto [offset, size] : slots) {
    const uint8_t* o = reinterpret_cast<const uint8_t*>(&offset);
    const uint8_t* s = reinterpret_cast<const uint8_t*>(&size);
    out.insert(out.end(), o, o + 4);
    out.insert(out.end(), s, s + 4);
  }
  return out;
}

}  // namespace rrto::server::test
