// The cuda backend through the session layer, on a real GPU. Without one (no
// driver, the toolkit's stub, no device) every test says so and passes: this
// executable is meant for GPU machines (tests/gpu/run.sh), and CI has none.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>

#include "server/cuda/cuda_device.h"
#include "server/cuda/cuda_driver.h"
#include "server/address_window.h"
#include "tests/server/harness.h"

using namespace rrto;
using namespace rrto::server;
using namespace rrto::server::test;

namespace {

// A kernel and a global, as PTX text (checked with ptxas for sm_90):
//   __global__ void rrto_add_one(unsigned* p, unsigned n) { i < n: p[i] += 1 }
//   __device__ unsigned rrto_counter[4];
constexpr char kPtx[] = R"(.version 8.0
.target sm_90
.address_size 64

.visible .global .align 4 .u32 rrto_counter[4];

.visible .entry rrto_add_one(
  .param .u64 rrto_add_one_param_0,
  .param .u32 rrto_add_one_param_1
)
{
  .reg .pred %p<2>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<6>;

  ld.param.u64 %rd1, [rrto_add_one_param_0];
  ld.param.u32 %r1, [rrto_add_one_param_1];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mov.u32 %r4, %tid.x;
  mad.lo.s32 %r5, %r2, %r3, %r4;
  setp.ge.u32 %p1, %r5, %r1;
  @%p1 bra DONE;
  cvta.to.global.u64 %rd2, %rd1;
  mul.wide.u32 %rd3, %r5, 4;
  add.s64 %rd4, %rd2, %rd3;
  ld.global.u32 %r6, [%rd4];
  add.s32 %r7, %r6, 1;
  st.global.u32 [%rd4], %r7;
DONE:
  ret;
}
)";

// One driver and GPU 0 for the whole run, or nothing when there is no GPU.
struct Gpu {
  cuda::CudaDriver driver;
  std::unique_ptr<cuda::CudaDevice> device;
  std::string why_not;

  static Gpu& get() {
    static Gpu gpu;
    static bool tried = false;
    if (!tried) {
      tried = true;
      if (ok(cuda::CudaDriver::load(gpu.driver, gpu.why_not)))
        cuda::CudaDevice::open(gpu.driver, 0, gpu.device, gpu.why_not);
    }
    return gpu;
  }
};

#define REQUIRE_GPU()                               \
  Gpu& gpu = Gpu::get();                            \
  if (!gpu.device) {                                \
    MESSAGE("skipped, no GPU here: ", gpu.why_not); \
    return;                                         \
  }

// With its NUL, as the client sends PTX (the server refuses text without one).
Outcome load_module(Harness& h, transport::PeerId peer, uint64_t module) {
  Request r;
  r.add(proto::ModuleLoad{.module = module, .bulk_offset = r.add_bulk(kPtx, sizeof kPtx), .size = sizeof kPtx});
  return h.send(peer, r);
}

}  // namespace

TEST_CASE("cuda: Hello describes the GPU") {
  REQUIRE_GPU();
  Harness h({gpu.device.get()}, {});
  const Outcome o = h.hello(h.connect());
  REQUIRE(o.status == CUDA_SUCCESS);
  const auto result = o.result<proto::HelloResult>();
  MESSAGE("GPU: ", result.device_name, ", driver ", result.driver_version);
  CHECK(result.total_memory > 0);
  CHECK(result.driver_version >= 12000);
  int32_t major = 0;
  std::memcpy(&major, result.attributes.data() + 4 * CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 4);
  CHECK(major >= 7);
}

TEST_CASE("cuda: copies up and down, memset, device-to-device") {
  REQUIRE_GPU();
  Harness h({gpu.device.get()}, {});
  const auto peer = h.open_session();
  const size_t n = 3 << 20;
  const uint64_t a = h.alloc(peer, n), b = h.alloc(peer, n);
  std::vector<uint8_t> data(n);
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(i * 31 + 7);
  CHECK(h.write(peer, a, data.data(), n).status == CUDA_SUCCESS);
  const Outcome down = h.read(peer, a, n);
  REQUIRE(down.status == CUDA_SUCCESS);
  CHECK(down.bulk == data);

  Request r;
  r.add(proto::Memset{.dst = b, .value = 0x5a5a5a5a, .element_size = 4, .count = 16});
  r.add(proto::MemcpyDtoD{.dst = b + 64, .src = a, .size = 64});
  r.add(proto::MemcpyDtoH{.src = b, .size = 128});
  const Outcome o = h.send(peer, r);
  REQUIRE(o.status == CUDA_SUCCESS);
  CHECK(std::all_of(o.bulk.begin(), o.bulk.begin() + 64, [](uint8_t x) { return x == 0x5a; }));
  CHECK(std::equal(data.begin(), data.begin() + 64, o.bulk.begin() + 64));
  CHECK(h.read(peer, a + n - 4, 8).status == CUDA_ERROR_INVALID_VALUE);
}

TEST_CASE("cuda: allocations lie in the session's address window, and a resumed session gets them back") {
  REQUIRE_GPU();
  Harness h({gpu.device.get()}, {});
  const auto first = h.connect();
  const Outcome hello = h.hello(first);
  REQUIRE(hello.status == CUDA_SUCCESS);
  const uint64_t window = hello.result<proto::HelloResult>().window;
  REQUIRE(is_window(window));
  const uint64_t p = h.alloc(first, 4096), q = h.alloc(first, 5 << 20);
  CHECK(p >= window_base(window));
  CHECK(q + (5 << 20) <= window_base(window) + kWindowBytes);
  h.disconnect(first);

  const auto again = h.connect();
  REQUIRE(h.hello(again, {}, proto::kProtocolVersion, proto::kHelloResume, window).status == CUDA_SUCCESS);
  for (const auto& [size, at] : {std::pair<uint64_t, uint64_t>{5 << 20, q}, {4096, p}}) {
    Request r;
    r.add(proto::MemAlloc{.size = size, .at = at});
    const Outcome o = h.send(again, r);
    REQUIRE(o.status == CUDA_SUCCESS);
    CHECK(o.result<proto::MemAllocResult>().dptr == at);
  }
  const std::vector<uint8_t> data(4096, 0x3c);
  CHECK(h.write(again, p, data.data(), data.size()).status == CUDA_SUCCESS);
  CHECK(h.read(again, p, data.size()).bulk == data);
}

TEST_CASE("cuda: a large copy back, then small ones: each reply holds its own bytes") {
  REQUIRE_GPU();
  Harness h({gpu.device.get()}, {});
  const auto peer = h.open_session();
  const size_t big = 40 << 20;  // past what the staging buffer keeps
  const uint64_t a = h.alloc(peer, big);
  std::vector<uint8_t> data(big);
  for (size_t i = 0; i < big; ++i) data[i] = static_cast<uint8_t>(i * 13 + 1);
  REQUIRE(h.write(peer, a, data.data(), big).status == CUDA_SUCCESS);
  CHECK(h.read(peer, a, big).bulk == data);
  for (size_t size : {size_t{4096}, size_t{1} << 20, size_t{64}}) {
    const Outcome small = h.read(peer, a + 4096, size);
    REQUIRE(small.status == CUDA_SUCCESS);
    CHECK(std::equal(small.bulk.begin(), small.bulk.end(), data.begin() + 4096));
  }
}

TEST_CASE("cuda: a module from PTX, its layout confirmed by the driver, a launch") {
  REQUIRE_GPU();
  Harness h({gpu.device.get()}, {});
  const auto peer = h.open_session();
  REQUIRE(load_module(h, peer, 1).status == CUDA_SUCCESS);

  Request wrong;
  const auto eight_byte_args = layout_bytes({{0, 8}, {8, 8}});
  wrong.add(
      proto::ModuleGetFunction{.module = 1, .function = 2, .name = "rrto_add_one", .param_layout = eight_byte_args});
  const Outcome w = h.send(peer, wrong);
  if (w.status == CUDA_SUCCESS)
    MESSAGE("this driver has no cuFuncGetParamInfo: layouts are not confirmed");
  else
    CHECK(w.status == CUDA_ERROR_INVALID_VALUE);

  Request get;
  const auto layout = layout_bytes({{0, 8}, {8, 4}});
  get.add(proto::ModuleGetFunction{.module = 1, .function = 3, .name = "rrto_add_one", .param_layout = layout});
  REQUIRE(h.send(peer, get).status == CUDA_SUCCESS);

  const uint32_t n = 1000;
  const uint64_t p = h.alloc(peer, n * 4);
  std::vector<uint32_t> values(n);
  std::iota(values.begin(), values.end(), 0u);
  REQUIRE(h.write(peer, p, values.data(), n * 4).status == CUDA_SUCCESS);

  uint8_t params[12];
  std::memcpy(params, &p, 8);
  std::memcpy(params + 8, &n, 4);
  Request launch;
  launch.add(proto::StreamCreate{.stream = 5});
  launch.add(proto::EventCreate{.event = 6});
  launch.add(proto::EventCreate{.event = 7});
  launch.add(proto::EventRecord{.event = 6, .stream = 5});
  launch.add(proto::Launch{
      .function = 3, .grid = {4, 1, 1}, .block = {256, 1, 1}, .stream = 5, .params = proto::Bytes(params)});
  launch.add(proto::EventRecord{.event = 7, .stream = 5});
  // Two blocking streams do not order each other: the second launch waits.
  launch.add(proto::StreamWaitEvent{.stream = proto::kPerThreadStreamBit | 1, .event = 7});
  launch.add(proto::Launch{.function = 3,
                           .grid = {4, 1, 1},
                           .block = {256, 1, 1},
                           .stream = proto::kPerThreadStreamBit | 1,
                           .params = proto::Bytes(params)});
  launch.add(proto::StreamSynchronize{.stream = proto::kPerThreadStreamBit | 1});
  launch.add(proto::EventElapsedTime{.start = 6, .end = 7});
  const Outcome l = h.send(peer, launch);
  REQUIRE(l.status == CUDA_SUCCESS);
  CHECK(l.result<proto::EventElapsedTimeResult>().milliseconds >= 0.0f);

  Request sync;
  sync.add(proto::CtxSynchronize{});
  sync.add(proto::MemcpyDtoH{.src = p, .size = n * 4});
  const Outcome back = h.send(peer, sync);
  REQUIRE(back.status == CUDA_SUCCESS);
  std::vector<uint32_t> out(n);
  std::memcpy(out.data(), back.bulk.data(), n * 4);
  for (uint32_t i = 0; i < n; ++i) CHECK(out[i] == i + 2);

  Request attribute;
  attribute.add(proto::FuncGetAttribute{.function = 3, .attribute = CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK});
  const Outcome a = h.send(peer, attribute);
  REQUIRE(a.status == CUDA_SUCCESS);
  CHECK(a.result<proto::FuncGetAttributeResult>().value > 0);
}

TEST_CASE("cuda: module globals, and another session cannot reach them") {
  REQUIRE_GPU();
  Harness h({gpu.device.get()}, {});
  const auto owner = h.open_session();
  const auto other = h.open_session();
  REQUIRE(load_module(h, owner, 1).status == CUDA_SUCCESS);
  Request r;
  r.add(proto::ModuleGetGlobal{.module = 1, .name = "rrto_counter"});
  const Outcome o = h.send(owner, r);
  REQUIRE(o.status == CUDA_SUCCESS);
  const auto global = o.result<proto::ModuleGetGlobalResult>();
  CHECK(global.size == 16);
  const uint32_t four[4] = {4, 3, 2, 1};
  CHECK(h.write(owner, global.dptr, four, 16).status == CUDA_SUCCESS);
  CHECK(h.read(owner, global.dptr, 16).status == CUDA_SUCCESS);
  CHECK(h.read(other, global.dptr, 16).status == CUDA_ERROR_INVALID_VALUE);
  CHECK(h.write(other, global.dptr, four, 16).status == CUDA_ERROR_INVALID_VALUE);
}

TEST_CASE("cuda: a session's end gives its GPU memory back") {
  REQUIRE_GPU();
  Harness h({gpu.device.get()}, {});
  const auto observer = h.open_session();
  const auto peer = h.open_session();
  const uint64_t before = h.mem_info(observer).free;
  for (int i = 0; i < 4; ++i) h.alloc(peer, 64 << 20);
  CHECK(h.mem_info(observer).free <= before - (256ull << 20));
  REQUIRE(load_module(h, peer, 1).status == CUDA_SUCCESS);
  h.disconnect(peer);
  // The driver's own bookkeeping may move a little; 16 MiB of slack.
  CHECK(h.mem_info(observer).free + (16ull << 20) >= before);
}

TEST_CASE("cuda: a bad module image is refused before the driver sees it") {
  REQUIRE_GPU();
  Harness h({gpu.device.get()}, {});
  const auto peer = h.open_session();
  uint8_t wrapper[24] = {};
  const uint32_t magic = 0x466243b1;
  std::memcpy(wrapper, &magic, 4);
  Request r;
  r.add(proto::ModuleLoad{.module = 1, .bulk_offset = r.add_bulk(wrapper, sizeof wrapper), .size = sizeof wrapper});
  const Outcome o = h.send(peer, r);
  CHECK(o.status == CUDA_ERROR_INVALID_IMAGE);
  CHECK(o.error().find("wrapper") != std::string::npos);
  CHECK_FALSE(o.closed);
}
