// A server Session on a host device, driven by a sequence of batches as the
// session manager would run them: decode, attach the bulk, dispatch. Each
// input is one session from its handshake (Hello, Authenticate) to its end;
// nothing may outlive it.
// Input: repeated {u32 metadata length, u32 bulk length, metadata, bulk}.
//
// Host device pointers are real addresses, which no input can know: a
// pointer field below 2^32 names memory the session allocated instead, bits
// 24-31 choosing one of its allocations so far (in order) and the low 24 bits
// an offset into it. Larger values go through unchanged. The same goes for
// the operators a TemplateRegister carries.
//
// No host kernels are loaded: a launch runs native code with whatever
// pointers its arguments hold (server/README.md, "Security limits"), so
// launches fail here, after every check before the kernel.
#include <memory>
#include <variant>
#include <string>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "server/batch_decoder.h"
#include "server/dispatcher.h"
#include "server/host/host_device.h"
#include "server/session.h"

using namespace rrto;
using namespace rrto::server;

namespace {

constexpr uint64_t kDeviceMemory = 16ull << 20;
constexpr size_t kMaxBatches = 16;

class AdmitAll final : public Admission {
 public:
  explicit AdmitAll(Device& device) : device_(device) {}
  CUresult admit(Session& session, const Introduction& introduction, Welcome&, std::string&) override {
    return session.admit(device_, 0, /*window=*/1, std::string(introduction.client_name),
                         {.memory_bytes = kDeviceMemory / 2});
  }

 private:
  Device& device_;
};

// The allocations a session made (MemAlloc as a batch's last call, whose
// result the reply carries), and the pointer fields of calls mapped onto them.
class Allocations {
 public:
  void note(const proto::AnyCall& last, CUresult status, std::span<const uint8_t> reply_meta) {
    proto::ReplyHeader header;
    std::span<const uint8_t> body;
    proto::MemAllocResult result;
    if (status == CUDA_SUCCESS && std::holds_alternative<proto::MemAlloc>(last) &&
        proto::decode_reply(reply_meta, header, body) && proto::decode_fields(body, result))
      dptrs_.push_back(result.dptr);
  }
  // A TemplateRegister's operators are re-encoded into `storage`, which must
  // outlive the call.
  void map_call(proto::AnyCall& call, std::vector<uint8_t>& storage) const {
    if (auto* reg = std::get_if<proto::TemplateRegister>(&call)) {
      map_template(*reg, storage);
    } else {
      map_pointers(call);
    }
  }

 private:
  void map_pointers(proto::AnyCall& call) const {
    if (auto* c = std::get_if<proto::MemFree>(&call)) map(c->dptr);
    if (auto* c = std::get_if<proto::MemcpyHtoD>(&call)) map(c->dst);
    if (auto* c = std::get_if<proto::MemcpyDtoH>(&call)) map(c->src);
    if (auto* c = std::get_if<proto::Memset>(&call)) map(c->dst);
    if (auto* c = std::get_if<proto::MemcpyDtoD>(&call)) {
      map(c->dst);
      map(c->src);
    }
  }
  void map(uint64_t& pointer) const {
    if (pointer >> 32 || dptrs_.empty()) return;
    pointer = dptrs_[(pointer >> 24) % dptrs_.size()] + (pointer & 0xffffff);
  }
  void map_template(proto::TemplateRegister& reg, std::vector<uint8_t>& storage) const {
    std::vector<DecodedCall> operators;
    std::string why;
    if (!ok(decode_template(reg.calls, SIZE_MAX, operators, why))) return;  // the server refuses it
    proto::BatchWriter writer;
    for (DecodedCall& op : operators) {
      map_pointers(op.call);
      std::visit([&](const auto& call) { writer.add(call); }, op.call);
    }
    storage.assign(writer.bytes().begin(), writer.bytes().end());
    reg.calls = storage;
  }
  std::vector<uint64_t> dptrs_;
};

host::HostDevice& device() {
  static host::HostDevice device(host::HostDeviceOptions{.name = "fuzz device", .memory_bytes = kDeviceMemory},
                                 std::make_shared<HostKernelRegistry>());
  return device;
}

// Runs one batch; false when the session must end (malformed, or the
// dispatcher said so).
bool run_batch(Dispatcher& dispatcher, Session& session, Allocations& allocations, std::span<const uint8_t> meta,
               std::span<const uint8_t> bulk) {
  std::vector<DecodedCall> calls;
  std::string why;
  if (!ok(decode_batch(meta, bulk.size(), calls, why))) return false;
  attach_bulk(calls, bulk);
  std::vector<std::vector<uint8_t>> templates(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) allocations.map_call(calls[i].call, templates[i]);
  BatchReply reply;
  dispatcher.run(session, calls, reply);
  allocations.note(calls.back().call, reply.status, reply.meta);
  RRTO_FUZZ_CHECK(reply.meta.size() >= 2 * sizeof(uint32_t));
  RRTO_FUZZ_CHECK(reply.call_index < calls.size());
  if (!reply.bulk.empty()) {
    // What a MemcpyDtoH sends back is read now, as the transport would.
    volatile uint8_t sink = 0;
    for (uint8_t b : reply.bulk) sink = sink ^ b;
  }
  return !reply.end_session;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  AdmitAll admission(device());
  Dispatcher dispatcher(admission, "");  // no key: the handshake needs no proof
  Session session(1, "fuzz");
  Allocations allocations;
  for (size_t batch = 0; batch < kMaxBatches && !in.empty(); ++batch) {
    const uint32_t meta_length = in.take<uint32_t>();
    const uint32_t bulk_length = in.take<uint32_t>();
    const std::span<const uint8_t> meta = in.take_bytes(meta_length);
    // The bulk is a buffer of its own, as received (writable, exactly sized).
    const std::span<const uint8_t> bulk_bytes = in.take_bytes(bulk_length);
    const std::vector<uint8_t> bulk(bulk_bytes.begin(), bulk_bytes.end());
    if (!run_batch(dispatcher, session, allocations, meta, bulk)) break;
  }
  session.release();
  uint64_t free = 0, total = 0;
  RRTO_FUZZ_CHECK(device().mem_get_info(free, total) == CUDA_SUCCESS && free == total);
  return 0;
}
