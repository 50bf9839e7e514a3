#include "perf/soak/attempts.h"

#include <chrono>
#include <cstring>
#include <thread>

#include "common/limits.h"
#include "common/log.h"
#include "protocol/handshake.h"

namespace rrto::soak {

namespace {

constexpr const char* kLog = "soak";

// A user-space address, almost surely not one this session owns (another
// session's addresses are unknown to it).
uint64_t random_address(Context& c) { return c.rng() & 0x00007ffffffffff0ull; }

std::unique_ptr<Peer> session(Context& c) {
  std::unique_ptr<Peer> peer;
  if (Status s = Peer::open_session(c.target, peer); !ok(s)) {
    RRTO_WARN(kLog, "no session for an attempt: {}", status_name(s));
    return nullptr;
  }
  return peer;
}

// An allocation of the attempt's own session; 0 when it failed.
uint64_t own_allocation(Peer& peer, uint64_t size) {
  proto::MemAllocResult alloc;
  return Peer::decoded(peer.call(proto::MemAlloc{.size = size}), alloc) ? alloc.dptr : 0;
}

Outcome garbage_metadata(Context& c) {
  auto peer = session(c);
  if (!peer) return Outcome::NotTried;
  std::vector<uint8_t> junk(1 + c.rng() % 2048);
  for (uint8_t& b : junk) b = static_cast<uint8_t>(c.rng());
  // A call count of at least one, so that the junk is never an empty batch.
  const uint32_t count = 1 + static_cast<uint32_t>(c.rng() % 1000);
  std::memcpy(junk.data(), &count, std::min(junk.size(), sizeof count));
  const bool odd_opcode = c.rng() % 2 == 0;
  const auto opcode = odd_opcode ? static_cast<uint16_t>(3 + c.rng() % 60000) : uint16_t{proto::kBatchRequest};
  return peer->judge(peer->send(junk, {}, opcode), true);
}

// A call, or the handshake's second step (a proof of nothing), before Hello.
Outcome batch_before_hello(Context& c) {
  std::unique_ptr<Peer> peer;
  if (!ok(Peer::open(c.target, peer))) return Outcome::NotTried;
  const std::vector<uint8_t> proof(proto::kProofBytes, 0x5a);
  const Answer a = c.rng() % 2 ? peer->call(proto::MemAlloc{.size = 4096})
                               : peer->call(proto::Authenticate{.client_proof = proof});
  return peer->judge(a, true);
}

Outcome large_before_hello(Context& c) {
  std::unique_ptr<Peer> peer;
  if (!ok(Peer::open(c.target, peer))) return Outcome::NotTried;
  static const std::vector<uint8_t> payload(2 * limits::kHelloMessageBytes, 0x5a);
  const transport::Segment bulk{payload.data(), payload.size()};
  proto::Hello hello;
  hello.client_name = "large";
  return peer->judge(peer->call(hello, {&bulk, 1}), true);
}

Outcome wrong_key(Context& c) {
  std::unique_ptr<Peer> peer;
  if (!ok(Peer::open(c.target, peer))) return Outcome::NotTried;
  return peer->judge(peer->hello(c.target.key + "-wrong"), true);
}

Outcome over_max_message(Context& c) {
  auto peer = session(c);
  const uint64_t dst = peer ? own_allocation(*peer, 4096) : 0;
  if (!dst) return Outcome::NotTried;
  static std::vector<uint8_t> payload;
  payload.resize(c.max_message_bytes + 4096, 0x33);
  const transport::Segment bulk{payload.data(), payload.size()};
  return peer->judge(peer->call(proto::MemcpyHtoD{.dst = dst, .size = 4096, .bulk_offset = 0}, {&bulk, 1}), true);
}

Outcome bulk_range_outside(Context& c) {
  auto peer = session(c);
  const uint64_t dst = peer ? own_allocation(*peer, 4096) : 0;
  if (!dst) return Outcome::NotTried;
  const std::vector<uint8_t> payload(4096, 0x44);
  const transport::Segment bulk{payload.data(), payload.size()};
  const uint64_t offset = 1 + c.rng() % (1ull << 40);
  return peer->judge(peer->call(proto::MemcpyHtoD{.dst = dst, .size = 4096, .bulk_offset = offset}, {&bulk, 1}),
                     true);
}

Outcome too_many_calls(Context& c) {
  auto peer = session(c);
  if (!peer) return Outcome::NotTried;
  proto::BatchWriter batch;
  for (uint32_t i = 0; i <= limits::kBatchCalls; ++i) batch.add(proto::MemGetInfo{});
  return peer->judge(peer->send(batch.bytes()), true);
}

Outcome unknown_handle(Context& c) {
  auto peer = session(c);
  if (!peer) return Outcome::NotTried;
  const uint64_t id = c.rng() | 1;
  switch (c.rng() % 6) {
    case 0: return peer->judge(peer->call(proto::ModuleGetFunction{.module = id, .function = 7, .name = "k", .param_layout = {}}), false);
    case 1: return peer->judge(peer->call(proto::Launch{.function = id, .params = {}}), false);
    case 2: return peer->judge(peer->call(proto::StreamSynchronize{.stream = id & ~proto::kPerThreadStreamBit}), false);
    case 3: return peer->judge(peer->call(proto::EventRecord{.event = id}), false);
    case 4: return peer->judge(peer->call(proto::ModuleUnload{.module = id}), false);
    default: return peer->judge(peer->call(proto::ReplaySegment{.tmpl = static_cast<uint32_t>(id), .deltas = {}}), false);
  }
}

Outcome foreign_memory(Context& c) {
  auto peer = session(c);
  const uint64_t own = peer ? own_allocation(*peer, 4096) : 0;
  if (!own) return Outcome::NotTried;
  const uint64_t addr = random_address(c);
  const std::vector<uint8_t> payload(256, 0x55);
  const transport::Segment bulk{payload.data(), payload.size()};
  switch (c.rng() % 5) {
    case 0: return peer->judge(peer->call(proto::MemcpyHtoD{.dst = addr, .size = 256}, {&bulk, 1}), false);
    case 1: return peer->judge(peer->call(proto::MemcpyDtoH{.src = addr, .size = 256}), false);
    case 2: return peer->judge(peer->call(proto::MemcpyDtoD{.dst = own, .src = addr, .size = 256}), false);
    case 3: return peer->judge(peer->call(proto::Memset{.dst = addr, .value = 0xff, .count = 256}), false);
    default: return peer->judge(peer->call(proto::MemFree{.dptr = addr}), false);
  }
}

// The example CNN's relu(float* x, int n): with n = 0 no thread touches memory.
const KernelInfo* relu_kernel(const ModuleImage& image) {
  for (const KernelInfo& k : image.kernels)
    if (k.name.find("relu") != std::string::npos && k.params.size() == 2) return &k;
  return nullptr;
}

// Sets up a kernel of the session's own (module, function, buffer) and
// launches it over `grid`.
Outcome launch_over(Context& c, const uint32_t (&grid)[3], uint32_t block) {
  const KernelInfo* kernel = c.image ? relu_kernel(*c.image) : nullptr;
  auto peer = kernel ? session(c) : nullptr;
  const uint64_t buffer = peer ? own_allocation(*peer, 4096) : 0;
  if (!buffer) return Outcome::NotTried;
  const transport::Segment image{c.image->bytes.data(), c.image->bytes.size()};
  if (peer->call(proto::ModuleLoad{.module = 1, .size = image.length}, {&image, 1}).status != 0)
    return Outcome::NotTried;
  std::vector<uint32_t> layout;
  for (const ParamInfo& p : kernel->params) layout.insert(layout.end(), {p.offset, p.size});
  const proto::ModuleGetFunction get{.module = 1, .function = 2, .name = kernel->name,
                                     .param_layout = {reinterpret_cast<const uint8_t*>(layout.data()),
                                                      layout.size() * sizeof(uint32_t)}};
  if (peer->call(get).status != 0) return Outcome::NotTried;
  std::vector<uint8_t> params(kernel->param_bytes, 0);
  std::memcpy(params.data() + kernel->params[0].offset, &buffer, sizeof buffer);
  proto::Launch launch{.function = 2, .block = {block, 1, 1}, .params = params};
  std::copy(std::begin(grid), std::end(grid), launch.grid);
  proto::BatchWriter batch;
  batch.add(launch);
  batch.add(proto::StreamSynchronize{});
  return peer->judge(peer->send(batch.bytes()), false);
}

Outcome huge_grid(Context& c) {
  const uint32_t beyond_limits[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
  return launch_over(c, beyond_limits, 1024);
}

constexpr Attempt kAttempts[] = {
    {"garbage_metadata", garbage_metadata, false, false},
    {"batch_before_hello", batch_before_hello, false, false},
    {"large_before_hello", large_before_hello, false, false},
    {"wrong_key", wrong_key, true, false},
    {"over_max_message", over_max_message, false, false},
    {"bulk_range_outside", bulk_range_outside, false, false},
    {"too_many_calls", too_many_calls, false, false},
    {"unknown_handle", unknown_handle, false, false},
    {"foreign_memory", foreign_memory, false, false},
    {"huge_grid", huge_grid, false, true},
};

}  // namespace

std::span<const Attempt> attempts() { return kAttempts; }

Outcome runaway_grid(Context& c) {
  const uint32_t device_limits[3] = {0x7fffffffu, 65535u, 65535u};
  return launch_over(c, device_limits, 1024);
}

Outcome idle_connection(const Target& target, int hello_timeout_s) {
  std::unique_ptr<Peer> peer;
  if (!ok(Peer::open(target, peer))) return Outcome::NotTried;
  // The server looks at its timeouts about once a second.
  std::this_thread::sleep_for(std::chrono::seconds(hello_timeout_s + 2));
  return peer->judge(peer->hello(target.key), false);
}

}  // namespace rrto::soak
