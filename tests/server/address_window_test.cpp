// Address windows: each session allocates inside a window of its own, and a
// session re-created elsewhere (Hello with kHelloResume) gets its window and
// every allocation at the address it asks for.
#include <doctest/doctest.h>

#include "server/address_window.h"
#include "server/range_allocator.h"
#include "tests/server/harness.h"
#include "tests/server/test_util.h"

using namespace rrto;
using namespace rrto::server;
using namespace rrto::server::test;

namespace {

uint64_t window_of(Harness& h, transport::PeerId& peer, uint32_t flags = 0, uint64_t window = 0) {
  peer = h.connect();
  const Outcome o = h.hello(peer, {}, proto::kProtocolVersion, flags, window);
  REQUIRE(o.status == CUDA_SUCCESS);
  return o.result<proto::HelloResult>().window;
}

bool in_window(uint64_t window, uint64_t p) { return p >= window_base(window) && p < window_base(window) + kWindowBytes; }

Outcome alloc_at(Harness& h, transport::PeerId peer, uint64_t size, uint64_t at) {
  Request r;
  r.add(proto::MemAlloc{.size = size, .at = at});
  return h.send(peer, r);
}

}  // namespace

TEST_CASE("sessions allocate inside address windows of their own") {
  Harness h;
  transport::PeerId a = 0, b = 0;
  const uint64_t wa = window_of(h, a), wb = window_of(h, b);
  REQUIRE(is_window(wa));
  REQUIRE(is_window(wb));
  CHECK(wa != wb);
  CHECK(in_window(wa, h.alloc(a, 4096)));
  CHECK(in_window(wb, h.alloc(b, 1 << 20)));
  CHECK(h.manager().windows_held() == std::set<uint64_t>{wa, wb});
  h.disconnect(b);
  CHECK(h.manager().windows_held() == std::set<uint64_t>{wa});
}

TEST_CASE("a resumed session gets its window and its allocations where they were") {
  Harness h;
  transport::PeerId first = 0;
  const uint64_t window = window_of(h, first);
  const uint64_t p = h.alloc(first, 4096), q = h.alloc(first, 3 << 20);
  h.disconnect(first);  // its server is "lost"

  transport::PeerId again = 0;
  CHECK(window_of(h, again, proto::kHelloResume, window) == window);
  // In another order than first time: each where it is asked to be.
  REQUIRE(alloc_at(h, again, 3 << 20, q).result<proto::MemAllocResult>().dptr == q);
  REQUIRE(alloc_at(h, again, 4096, p).result<proto::MemAllocResult>().dptr == p);
  const auto data = pattern(4096, 9);
  REQUIRE(h.write(again, p, data.data(), data.size()).status == CUDA_SUCCESS);
  CHECK(h.read(again, p, data.size()).bulk == data);

  SUBCASE("an address already taken, or outside the window, is refused") {
    CHECK(alloc_at(h, again, 256, p).status == CUDA_ERROR_INVALID_VALUE);
    CHECK(alloc_at(h, again, 256, window_base(window) - 4096).status == CUDA_ERROR_INVALID_VALUE);
    CHECK(alloc_at(h, again, 256, window_base(window) + kWindowBytes).status == CUDA_ERROR_INVALID_VALUE);
  }
  SUBCASE("a window another session holds cannot be resumed into") {
    const transport::PeerId thief = h.connect();
    std::string log;
    log = logged([&] {
      CHECK(h.hello(thief, {}, proto::kProtocolVersion, proto::kHelloResume, window).status ==
            CUDA_ERROR_OUT_OF_MEMORY);
    });
    CHECK(log.find("address window") != std::string::npos);
    const transport::PeerId nowhere = h.connect();
    CHECK(h.hello(nowhere, {}, proto::kProtocolVersion, proto::kHelloResume, kWindowCount + 1).status ==
          CUDA_ERROR_OUT_OF_MEMORY);
  }
}

TEST_CASE("memory mapped back to back in the reservable part of a window is one range") {
  Harness h;
  transport::PeerId peer = 0;
  const uint64_t window = window_of(h, peer);
  const uint64_t begin = proto::reservable_begin(window);
  CHECK(h.alloc(peer, 3 << 20) < begin);  // the server places its own below
  const uint64_t chunk = 2ull << 20;
  REQUIRE(alloc_at(h, peer, chunk, begin).result<proto::MemAllocResult>().dptr == begin);
  REQUIRE(alloc_at(h, peer, chunk, begin + chunk).result<proto::MemAllocResult>().dptr == begin + chunk);
  const auto data = pattern(4096, 3);
  REQUIRE(h.write(peer, begin + chunk - 2048, data.data(), data.size()).status == CUDA_SUCCESS);
  CHECK(h.read(peer, begin + chunk - 2048, data.size()).bulk == data);
  SUBCASE("past the last mapped piece is refused") {
    CHECK(h.read(peer, begin + 2 * chunk - 2048, 4096).status == CUDA_ERROR_INVALID_VALUE);
  }
}

TEST_CASE("placements of the server's choosing go around the part kept out, allocations at an address there do not") {
  RangeAllocator a(0x10000, 0x10000);
  a.keep_out(0x14000, 0x18000);
  uint64_t low = 0, over = 0, top = 0, below = 0, inside = 0, unused = 0;
  REQUIRE(a.allocate(0x3000, 0x1000, 0, low));
  CHECK(low == 0x10000);
  REQUIRE(a.allocate(0x2000, 0x1000, 0, over));  // would overlap: goes above
  CHECK(over == 0x18000);
  REQUIRE(a.allocate_from_top(0x6000, 0x1000, top));
  CHECK(top == 0x1a000);
  REQUIRE(a.allocate_from_top(0x1000, 0x1000, below));  // no room above: goes below
  CHECK(below == 0x13000);
  CHECK_FALSE(a.allocate(0x1000, 0x1000, 0, unused));
  REQUIRE(a.allocate(0x4000, 0x1000, 0x14000, inside));
  CHECK(inside == 0x14000);
}
