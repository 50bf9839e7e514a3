// Sessions on the host backend are kept apart: each has its own memory, its
// own kernel process and its own copies of the libraries' globals; nothing
// else of the server is reachable.
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>

#include "tests/server/harness.h"

using namespace rrto;
using namespace rrto::server;
using namespace rrto::server::test;
using namespace std::chrono_literals;

namespace {

template <typename... T>
std::vector<uint8_t> pack(const T&... values) {
  std::vector<uint8_t> out;
  auto add = [&](const auto& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.resize((out.size() + alignof(decltype(v)) - 1) / alignof(decltype(v)) * alignof(decltype(v)));
    out.insert(out.end(), p, p + sizeof v);
  };
  (add(values), ...);
  return out;
}

Outcome get_global(Harness& h, transport::PeerId peer, const char* name) {
  Request r;
  r.add(proto::ModuleGetGlobal{.module = 1, .name = name});
  return h.send(peer, r);
}

std::vector<int32_t> read_ints(Harness& h, transport::PeerId peer, uint64_t at, size_t n) {
  const Outcome o = h.read(peer, at, n * 4);
  REQUIRE(o.status == CUDA_SUCCESS);
  std::vector<int32_t> out(n);
  std::memcpy(out.data(), o.bulk.data(), n * 4);
  return out;
}

const auto kStoreLayout = layout_bytes({{0, 8}, {8, 4}});

}  // namespace

TEST_CASE("cuModuleGetGlobal reaches only the libraries' registered globals") {
  Harness h;
  const auto peer = h.open_session();
  h.load_kernel(peer, 1, 2, kReadTableKernel, layout_bytes({{0, 8}}));
  // The server's own data, what the libraries link, exported but unregistered data.
  for (const char* name : {"environ", "_rtld_global", "_IO_2_1_stderr_", "server_test_unregistered_table",
                           kReadTableKernel}) {
    const Outcome o = get_global(h, peer, name);
    CHECK_MESSAGE(o.status == CUDA_ERROR_NOT_FOUND, name);
    CHECK_FALSE(o.closed);
  }
  CHECK(get_global(h, peer, "server_test_table").status == CUDA_SUCCESS);
}

TEST_CASE("each session has its own copy of a global, starting from its initial value") {
  Harness h;
  const auto first = h.open_session();
  const auto second = h.open_session();
  for (auto peer : {first, second}) h.load_kernel(peer, 1, 2, kReadTableKernel, layout_bytes({{0, 8}}));

  const Outcome a = get_global(h, first, "server_test_table");
  REQUIRE(a.status == CUDA_SUCCESS);
  const auto table = a.result<proto::ModuleGetGlobalResult>();
  REQUIRE(table.size == 16);
  const int32_t changed[4] = {9, 9, 9, 9};
  REQUIRE(h.write(first, table.dptr, changed, 16).status == CUDA_SUCCESS);
  CHECK(read_ints(h, first, table.dptr, 4) == std::vector<int32_t>{9, 9, 9, 9});
  const int8_t one_past[17] = {};
  CHECK(h.write(first, table.dptr, one_past, 17).status == CUDA_ERROR_INVALID_VALUE);  // within the global only

  // The kernel reads the session's copy.
  const uint64_t out = h.alloc(first, 16);
  REQUIRE(h.launch(first, 2, pack(out), 4).status == CUDA_SUCCESS);
  CHECK(read_ints(h, first, out, 4) == std::vector<int32_t>{9, 9, 9, 9});

  const Outcome b = get_global(h, second, "server_test_table");
  REQUIRE(b.status == CUDA_SUCCESS);
  const auto other = b.result<proto::ModuleGetGlobalResult>();
  CHECK(read_ints(h, second, other.dptr, 4) == std::vector<int32_t>{1, 2, 3, 4});
  const uint64_t second_out = h.alloc(second, 16);
  REQUIRE(h.launch(second, 2, pack(second_out), 4).status == CUDA_SUCCESS);
  CHECK(read_ints(h, second, second_out, 4) == std::vector<int32_t>{1, 2, 3, 4});

  // A kernel's change to a __device__ variable is the session's too, and only its.
  h.load_kernel(first, 3, 4, kBumpKernel, {});
  REQUIRE(h.launch(first, 4, {}).status == CUDA_SUCCESS);
  REQUIRE(h.launch(first, 4, {}).status == CUDA_SUCCESS);
  const Outcome counter = get_global(h, first, "server_test_counter");
  REQUIRE(counter.status == CUDA_SUCCESS);
  CHECK(read_ints(h, first, counter.result<proto::ModuleGetGlobalResult>().dptr, 1)[0] == 9);

  h.disconnect(first);
  const auto third = h.open_session();
  h.load_kernel(third, 1, 2, kReadTableKernel, layout_bytes({{0, 8}}));
  const Outcome c = get_global(h, third, "server_test_table");
  REQUIRE(c.status == CUDA_SUCCESS);
  CHECK(read_ints(h, third, c.result<proto::ModuleGetGlobalResult>().dptr, 4) == std::vector<int32_t>{1, 2, 3, 4});
  const Outcome fresh_counter = get_global(h, third, "server_test_counter");
  REQUIRE(fresh_counter.status == CUDA_SUCCESS);
  CHECK(read_ints(h, third, fresh_counter.result<proto::ModuleGetGlobalResult>().dptr, 1)[0] == 7);
}

TEST_CASE("a kernel that faults fails its session for good; the other sessions go on") {
  Harness h;
  const auto faulty = h.open_session();
  const auto other = h.open_session();
  h.load_kernel(faulty, 1, 2, kStoreKernel, kStoreLayout);
  h.load_kernel(other, 1, 2, kStoreKernel, kStoreLayout);
  const uint64_t mine = h.alloc(other, 64);

  const Outcome crash = h.launch(faulty, 2, pack(uint64_t{0x1000}, int32_t{1}));
  CHECK(crash.status == CUDA_ERROR_LAUNCH_FAILED);
  CHECK_FALSE(crash.closed);
  // The client hears why: the kernel process's end, not a bare code.
  const std::string why = crash.error();
  CHECK(why.find("kernel") != std::string::npos);
  // Sticky, as in a GPU context: every later call fails with it, and says
  // what failed earlier.
  Request alloc;
  alloc.add(proto::MemAlloc{.size = 64});
  const Outcome later = h.send(faulty, alloc);
  CHECK(later.status == CUDA_ERROR_LAUNCH_FAILED);
  CHECK_MESSAGE(later.error().find("failed earlier (" + why + ")") != std::string::npos,
                "first: " << why << "; later: " << later.error());
  CHECK(h.launch(faulty, 2, pack(uint64_t{0}, int32_t{1})).status == CUDA_ERROR_LAUNCH_FAILED);

  REQUIRE(h.launch(other, 2, pack(mine, int32_t{42})).status == CUDA_SUCCESS);
  CHECK(read_ints(h, other, mine, 1)[0] == 42);
  h.disconnect(faulty);
  CHECK(h.device().used_bytes() == 256);  // the other session's allocation only
}

TEST_CASE("a kernel past the time limit fails its session with CUDA_ERROR_LAUNCH_TIMEOUT") {
  HarnessOptions options;
  options.kernel_time_limit = 300ms;
  Harness h(options);
  const auto spinning = h.open_session();
  const auto other = h.open_session();
  h.load_kernel(spinning, 1, 2, kSpinKernel, layout_bytes({{0, 4}}));
  h.load_kernel(other, 1, 2, kSpinKernel, layout_bytes({{0, 4}}));

  const auto began = std::chrono::steady_clock::now();
  CHECK(h.launch(spinning, 2, pack(int32_t{1})).status == CUDA_ERROR_LAUNCH_TIMEOUT);
  CHECK(std::chrono::steady_clock::now() - began < 10s);
  CHECK(h.launch(spinning, 2, pack(int32_t{0})).status == CUDA_ERROR_LAUNCH_TIMEOUT);
  CHECK(h.launch(other, 2, pack(int32_t{0})).status == CUDA_SUCCESS);
}

TEST_CASE("a pointer argument outside the session's memory is refused; null is allowed") {
  Harness h;
  const auto peer = h.open_session();
  const auto neighbour = h.open_session();
  const auto scale_layout = layout_bytes({{0, 8}, {8, 4}, {12, 4}});
  h.load_kernel(peer, 1, 2, kScaleKernel, scale_layout);
  const uint64_t mine = h.alloc(peer, 64);
  const uint64_t theirs = h.alloc(neighbour, 64);
  const int32_t changed[1] = {5};
  REQUIRE(h.write(neighbour, theirs, changed, 4).status == CUDA_SUCCESS);

  for (uint64_t p : {uint64_t{0x1000}, theirs, reinterpret_cast<uint64_t>(&h)}) {
    const Outcome o = h.launch(peer, 2, pack(p, 2.0f, int32_t{1}));
    CHECK(o.status == CUDA_ERROR_INVALID_VALUE);
    CHECK(o.error().find("not in this session's memory") != std::string::npos);
  }
  CHECK(read_ints(h, neighbour, theirs, 1)[0] == 5);
  // Refused, not failed: the session goes on.
  CHECK(h.launch(peer, 2, pack(uint64_t{0}, 2.0f, int32_t{0})).status == CUDA_SUCCESS);
  CHECK(h.launch(peer, 2, pack(mine, 2.0f, int32_t{16})).status == CUDA_SUCCESS);
}
