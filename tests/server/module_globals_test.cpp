// The host backend serves a module's __device__ and __constant__ variables
// from its image: each session's module has its own, holding the initial
// contents, in memory counted like an allocation's until the module goes.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "server/range_allocator.h"
#include "tests/server/harness.h"

using namespace rrto;
using namespace rrto::server;
using namespace rrto::server::test;

namespace {

// An nvcc-built cubin of this folder's build; empty without nvcc.
std::vector<uint8_t> cubin(const std::string& name) {
#ifdef RRTO_SERVER_TEST_CUBINS
  std::ifstream in(std::string(RRTO_SERVER_TEST_CUBINS) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
#else
  (void)name;
  return {};
#endif
}

#define REQUIRE_CUBIN(bytes)                                 \
  do {                                                       \
    if ((bytes).empty()) {                                   \
      MESSAGE("cubin not built (no nvcc?); skipping");       \
      return;                                                \
    }                                                        \
  } while (0)

Outcome try_load_module(Harness& h, transport::PeerId peer, uint64_t module, const std::vector<uint8_t>& image) {
  Request r;
  r.add(proto::ModuleLoad{.module = module, .bulk_offset = r.add_bulk(image.data(), image.size()),
                          .size = image.size()});
  return h.send(peer, r);
}

void load_module(Harness& h, transport::PeerId peer, uint64_t module, const std::vector<uint8_t>& image) {
  REQUIRE(try_load_module(h, peer, module, image).status == CUDA_SUCCESS);
}

Outcome get_global(Harness& h, transport::PeerId peer, uint64_t module, const char* name) {
  Request r;
  r.add(proto::ModuleGetGlobal{.module = module, .name = name});
  return h.send(peer, r);
}

proto::ModuleGetGlobalResult global(Harness& h, transport::PeerId peer, uint64_t module, const char* name) {
  const Outcome o = get_global(h, peer, module, name);
  REQUIRE_MESSAGE(o.status == CUDA_SUCCESS, name);
  return o.result<proto::ModuleGetGlobalResult>();
}

template <typename T>
std::vector<T> read(Harness& h, transport::PeerId peer, uint64_t at, size_t n) {
  const Outcome o = h.read(peer, at, n * sizeof(T));
  REQUIRE(o.status == CUDA_SUCCESS);
  std::vector<T> out(n);
  std::memcpy(out.data(), o.bulk.data(), n * sizeof(T));
  return out;
}

}  // namespace

TEST_CASE("cuModuleGetGlobal gives a module's variable holding its initial contents") {
  const auto image = cubin("globals.cubin");
  REQUIRE_CUBIN(image);
  Harness h;
  const auto peer = h.open_session();
  load_module(h, peer, 1, image);

  const auto initialised = global(h, peer, 1, "initialised");
  CHECK(initialised.size == 4);
  CHECK(read<int32_t>(h, peer, initialised.dptr, 1) == std::vector<int32_t>{42});
  const auto constants = global(h, peer, 1, "constants");
  CHECK(constants.size == 16);
  CHECK(read<float>(h, peer, constants.dptr, 4) == std::vector<float>{1.5f, 2.5f, 3.5f, 4.5f});
  const auto twice = global(h, peer, 1, "twice");
  CHECK(read<double>(h, peer, twice.dptr, 1) == std::vector<double>{2.0});
  const auto zeroed = global(h, peer, 1, "zeroed");
  CHECK(zeroed.size == 1000);
  CHECK(read<uint8_t>(h, peer, zeroed.dptr, 1000) == std::vector<uint8_t>(1000, 0));

  // Copies stay within the variable; names the image lacks come from the
  // host-kernel libraries, and a kernel's __shared__ variable is no global.
  const int8_t one_past[5] = {};
  CHECK(h.write(peer, initialised.dptr, one_past, 5).status == CUDA_ERROR_INVALID_VALUE);
  CHECK(get_global(h, peer, 1, "server_test_table").status == CUDA_SUCCESS);
  CHECK(get_global(h, peer, 1, "staged").status == CUDA_ERROR_NOT_FOUND);
}

TEST_CASE("each session's module has its own variables; they go with the module") {
  const auto image = cubin("globals.cubin");
  REQUIRE_CUBIN(image);
  Harness h;
  const auto first = h.open_session();
  const auto second = h.open_session();
  const uint64_t free_before = h.mem_info(first).free;
  load_module(h, first, 1, image);
  load_module(h, first, 2, image);
  // The variables' memory is the device's: at least the 1000-byte one per module.
  CHECK(free_before - h.mem_info(first).free >= 2 * 1000);

  const auto mine = global(h, first, 1, "initialised");
  CHECK(global(h, first, 2, "initialised").dptr != mine.dptr);  // per module
  const int32_t changed = 7;
  REQUIRE(h.write(first, mine.dptr, &changed, 4).status == CUDA_SUCCESS);
  CHECK(read<int32_t>(h, first, mine.dptr, 1) == std::vector<int32_t>{7});
  CHECK(read<int32_t>(h, first, global(h, first, 2, "initialised").dptr, 1) == std::vector<int32_t>{42});

  load_module(h, second, 1, image);
  CHECK(read<int32_t>(h, second, global(h, second, 1, "initialised").dptr, 1) == std::vector<int32_t>{42});
  CHECK(h.read(second, mine.dptr, 4).status != CUDA_SUCCESS);  // not the second session's memory

  const uint64_t free_loaded = h.mem_info(first).free;
  Request unload;
  unload.add(proto::ModuleUnload{.module = 1});
  REQUIRE(h.send(first, unload).status == CUDA_SUCCESS);
  CHECK(h.mem_info(first).free > free_loaded);
  CHECK(h.read(first, mine.dptr, 4).status != CUDA_SUCCESS);

  // Above the session's allocations, out of the way of those a re-created
  // session places at their old addresses.
  CHECK(global(h, first, 2, "zeroed").dptr > h.alloc(first, 4096));

  h.disconnect(first);
  h.disconnect(second);
  const auto third = h.open_session();
  CHECK(h.mem_info(third).free == free_before);  // everything given back at the sessions' end
}

TEST_CASE("a module's variables count against the session's memory limit") {
  const auto image = cubin("globals.cubin");
  REQUIRE_CUBIN(image);
  // The four variables take 256 + 256 + 256 + 1024 bytes once aligned.
  HarnessOptions options;
  options.policy.session.memory_bytes = 4096;
  Harness h(options);
  const auto peer = h.open_session();
  load_module(h, peer, 1, image);
  CHECK(h.mem_info(peer).free == 4096 - 1792);
  load_module(h, peer, 2, image);
  const Outcome refused = try_load_module(h, peer, 3, image);
  CHECK(refused.status == CUDA_ERROR_OUT_OF_MEMORY);
  CHECK_FALSE(refused.closed);
  Request alloc;
  alloc.add(proto::MemAlloc{.size = 1024});
  CHECK(h.send(peer, alloc).status == CUDA_ERROR_OUT_OF_MEMORY);
  Request unload;
  unload.add(proto::ModuleUnload{.module = 1});
  REQUIRE(h.send(peer, unload).status == CUDA_SUCCESS);
  CHECK(h.mem_info(peer).free == 4096 - 1792);
  load_module(h, peer, 3, image);
}

TEST_CASE("a variable a host-kernel library registers is the library's, the one its CPU kernels read") {
  const auto image = cubin("shadowed_global.cubin");
  REQUIRE_CUBIN(image);
  Harness h;
  const auto peer = h.open_session();
  load_module(h, peer, 1, image);
  CHECK(read<int32_t>(h, peer, global(h, peer, 1, "server_test_counter").dptr, 1) == std::vector<int32_t>{7});
  CHECK(read<int32_t>(h, peer, global(h, peer, 1, "only_in_image").dptr, 1) == std::vector<int32_t>{3});
}

TEST_CASE("allocation from the top takes the highest room, aligned, and leaves first fit the bottom") {
  RangeAllocator a(0x1000, 0x10000);
  uint64_t top = 0, low = 0, next = 0;
  REQUIRE(a.allocate_from_top(0x300, 0x100, top));
  CHECK(top == 0x11000 - 0x300);
  REQUIRE(a.allocate(0x100, 0x100, 0, low));
  CHECK(low == 0x1000);
  REQUIRE(a.allocate_from_top(0x100, 0x1000, next));
  CHECK(next == 0x10000);  // below the first, aligned down
  uint64_t unused = 0;
  CHECK_FALSE(a.allocate_from_top(0x10000, 0x100, unused));
  CHECK(a.release(top) == 0x300);
  REQUIRE(a.allocate_from_top(0x300, 0x100, unused));
  CHECK(unused == top);
}
