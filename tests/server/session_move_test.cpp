// Sessions moving between host devices: between two batches, with the same
// device addresses and bytes, and the memory accounted where it now is.
#include <doctest/doctest.h>

#include "tests/server/harness.h"
#include "tests/server/test_util.h"

using namespace rrto;
using namespace rrto::server;
using namespace rrto::server::test;

TEST_CASE("a session on a device with two more sessions than another moves there, and keeps its memory") {
  Harness h(HarnessOptions{.device_memory_mb = {16, 16}});
  const auto a = h.open_session();  // device 0
  const auto b = h.open_session();  // device 1
  const auto c = h.open_session();  // device 0
  const uint64_t p = h.alloc(a, 4096);
  const auto data = pattern(4096, 5);
  REQUIRE(h.write(a, p, data.data(), data.size()).status == CUDA_SUCCESS);
  const uint64_t used_on_0 = h.device(0).used_bytes();
  REQUIRE(used_on_0 >= 4096);
  CHECK(h.device(1).used_bytes() == 0);

  h.disconnect(b);  // device 0 now has two sessions, device 1 none
  std::string log = logged([&] { CHECK(h.read(a, p, data.size()).bulk == data); });  // a moves after this batch
  CHECK(log.find("moved from device 0 to device 1") != std::string::npos);
  CHECK(h.device(1).used_bytes() == used_on_0);
  CHECK(h.device(0).used_bytes() == 0);
  CHECK(h.manager().metrics().read_device(1).sessions == 1);
  CHECK(h.manager().metrics().read_device(1).memory_bytes == 4096);
  CHECK(h.manager().metrics().read_device(0).memory_bytes == 0);
  // Same addresses, same bytes, and it works on there.
  const auto more = pattern(4096, 6);
  REQUIRE(h.write(a, p, more.data(), more.size()).status == CUDA_SUCCESS);
  CHECK(h.read(a, p, more.size()).bulk == more);
  // The other session stays put, and freeing moved memory frees it there.
  CHECK(h.mem_info(c).free == h.mem_info(c).total);
  Request free;
  free.add(proto::MemFree{.dptr = p});
  CHECK(h.send(a, free).status == CUDA_SUCCESS);
  CHECK(h.device(1).used_bytes() == 0);
}

TEST_CASE("a session that does not fit on the emptier device stays, and the log says why") {
  Harness h(HarnessOptions{.device_memory_mb = {16, 1}});
  const auto a = h.open_session();  // device 0: more free memory
  const auto b = h.open_session();
  h.open_session();
  const uint64_t p = h.alloc(a, 2 << 20);  // more than device 1 has
  h.disconnect(b);
  std::string log = logged([&] { CHECK(h.read(a, p, 16).status == CUDA_SUCCESS); });
  CHECK(log.find("stays on device 0") != std::string::npos);
  CHECK(log.find("do not fit") != std::string::npos);
  CHECK(h.device(0).used_bytes() >= (2u << 20));
  CHECK(h.device(1).used_bytes() == 0);
}

TEST_CASE("a session without a template whose allocation does not fit moves to a device where it does") {
  Harness h(HarnessOptions{.device_memory_mb = {4, 16}});
  h.open_session();                 // device 1: most free memory
  const auto b = h.open_session();  // device 0
  const uint64_t small = h.alloc(b, 4096);
  const auto data = pattern(4096, 9);
  REQUIRE(h.write(b, small, data.data(), data.size()).status == CUDA_SUCCESS);
  const uint64_t big = h.alloc(b, 8 << 20);  // more than device 0 has: b moves first
  CHECK(h.device(1).used_bytes() >= (8u << 20) + 4096);
  CHECK(h.device(0).used_bytes() == 0);
  CHECK(h.read(b, small, data.size()).bulk == data);
  CHECK(h.write(b, big, data.data(), data.size()).status == CUDA_SUCCESS);
}

TEST_CASE("a session with a template gets CUDA_ERROR_OUT_OF_MEMORY where it is, as on a GPU") {
  Harness h(HarnessOptions{.device_memory_mb = {4, 16}});
  h.open_session();
  const auto b = h.open_session();  // device 0
  const uint64_t p = h.alloc(b, 4096);
  proto::BatchWriter calls;
  calls.add(proto::MemcpyDtoH{.src = p, .size = 16});
  Request r;
  r.add(proto::TemplateRegister{.tmpl = 1, .calls = calls.bytes()});
  REQUIRE(h.send(b, r).status == CUDA_SUCCESS);
  Request alloc;
  alloc.add(proto::MemAlloc{.size = 8 << 20});
  CHECK(h.send(b, alloc).status == CUDA_ERROR_OUT_OF_MEMORY);
  CHECK(h.device(1).used_bytes() == 0);
}
